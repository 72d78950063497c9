"""A9 blacklist for abusive clients (无礼多事): recorded on the subject's file as an event; the client's open
marketing follow-ups are cancelled in the same commit, care follow-ups continue."""
from __future__ import annotations

from typing import Any

from huifang.core.domain import FollowUp, Subject
from huifang.core.errors import HuifangError

from .curves import is_marketing

NAME = "aesthetics"


def set_blacklist(app: Any, code: str, reason: str | None, remove: bool, actor: str) -> list[str]:
    subj = app.load(Subject, code, "subject")
    if hasattr(app, "access"):  # roles (issue 8): changing a subject's file
        app.access.require(actor, "subject.change", subject=code)
    if not remove and not (reason or "").strip():
        raise HuifangError("--reason: say why the client is blacklisted (A9: e.g. abusive)")
    changes = {"blacklisted": False, "blacklist_reason": None} if remove else \
        {"blacklisted": True, "blacklist_reason": reason.strip()}
    subj.update(changes={"attributes": changes}, actor=actor)
    changed: list[Any] = [subj]
    cancelled: list[str] = []
    if not remove:
        for row in app.open_followups_of(code):
            fu = app.load(FollowUp, row, "follow-up")
            if fu.plugin == NAME and is_marketing(fu.visit_type):
                fu.close(status="cancelled", reason=f"A9: client blacklisted ({reason.strip()})", actor=actor)
                changed.append(fu)
                cancelled.append(fu.code)
    app.commit(*changed)
    return cancelled
