"""Flags a plugin keeps on a subject's file (e.g. A9: blacklisted, and why), changed by a public command
so plugins never touch the Subject aggregate: the attributes change, and the open follow-ups the rule
names are cancelled, in ONE commit."""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .domain import FollowUp, Subject
from .errors import HuifangError, Refused
from .status import Status

if TYPE_CHECKING:
    from .services import App


def set_attributes(app: App, code: str, changes: dict[str, Any], actor: str = "cli",
                   cancel: Iterable[str] = (), reason: str = "") -> list[str]:
    """Set `changes` on subject `code`'s attributes (None clears a value) and cancel the open follow-ups
    of that subject named in `cancel` with `reason`; returns the ids cancelled (already closed ones are
    left as they are)."""
    subject = app.load(Subject, code, "subject", field="subject")
    app.access.require(actor, "subject.change", subject=code)
    if not changes:
        raise HuifangError("name at least one attribute to change", field="attributes")
    cancel = list(dict.fromkeys(cancel))
    if cancel and not reason.strip():
        raise HuifangError("say why the follow-ups are cancelled", field="reason")
    subject.update(changes={"attributes": app.keyring.seal_attributes(code, dict(changes))}, actor=actor)
    changed: list[Any] = [subject]
    cancelled: list[str] = []
    for fc in cancel:
        fu = app.load(FollowUp, fc, "follow-up")
        if fu.subject != code:
            raise Refused(f"follow-up {fc} is not one of subject {code}'s")
        if fu.closed:
            continue
        fu.close(status=Status.CANCELLED, reason=app.keyring.seal_reason(code, reason.strip()), actor=actor)
        changed.append(fu)
        cancelled.append(fu.code)
    app.commit(*changed)
    return cancelled
