"""The subject file (G1), consent (G7: opting out of a channel) and signed exemptions (F6)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import clock
from ..contract import CHANNELS
from ..domain import FollowUp, Subject
from ..errors import HuifangError, Refused
from ..status import Status
from . import need_code

if TYPE_CHECKING:
    from ..services import App

# G7: when a subject refuses a channel, these are tried in order.
FALLBACK_CHANNELS = ("sms", "wechat", "email", "letter", "phone")


def fallback_channel(optouts: list[str], channel: str) -> str:
    """G7: the first channel the subject has not opted out of, other than `channel`."""
    for c in FALLBACK_CHANNELS:
        if c not in optouts and c != channel:
            return c
    return "letter"


def check_subject(app: App, code: str, name: str, phones: list[str] | None, email: str | None,
                  tz: str | None) -> str:
    """The subject file's fields (G1); returns the time zone to use."""
    need_code(code, "subject ID")
    if not name.strip():
        raise HuifangError("must not be empty", field="name")
    for p in phones or []:
        if not p.replace("+", "").replace("-", "").replace(" ", "").isdigit():
            raise HuifangError(f"'{p}' is not a phone number (digits, +, - only)", field="phone")
    if email is not None and "@" not in email:
        raise HuifangError(f"'{email}' is not an email address", field="email")
    tz = tz or app.config.huifang.timezone
    clock.zone(tz)
    return tz


def add_subject(app: App, code: str, name: str, phones: list[str] | None = None, email: str | None = None,
                tz: str | None = None, attributes: dict[str, Any] | None = None, actor: str = "cli") -> Subject:
    tz = check_subject(app, code, name, phones, email, tz)
    if app.find(Subject, code):
        raise Refused(f"subject '{code}' already exists")
    app.access.require(actor, "subject.add", subject=code)
    subject = new_subject(app, code, name, phones, email, tz, attributes, actor, checked=True)
    app.commit(subject)
    return subject


def new_subject(app: App, code: str, name: str, phones: list[str] | None = None, email: str | None = None,
                tz: str | None = None, attributes: dict[str, Any] | None = None, actor: str = "cli",
                checked: bool = False) -> Subject:
    """add_subject without the save (bulk import batches many into one save); `checked` skips
    re-validating what add_subject already checked. The caller makes sure the id is new."""
    if not checked:
        tz = check_subject(app, code, name, phones, email, tz)
    k = app.keyring  # G8: name, phones, email and PII attributes are stored encrypted
    return Subject(code=code, name=k.seal(code, name), phones=k.seal(code, list(phones or [])),
                   email=k.seal(code, email), tz=tz or app.config.huifang.timezone, attributes=k.seal_attributes(code, dict(attributes or {})),
                   actor=actor)


def opt_out(app: App, code: str, channel: str, actor: str = "cli") -> Subject:
    """G7: a subject opts out of one channel; every later plan and attempt respects it."""
    if channel not in CHANNELS:
        raise HuifangError(f"'{channel}' is not one of {', '.join(CHANNELS)}", field="channel")
    subject = app.load(Subject, code, "subject")
    app.access.require(actor, "subject.change", subject=code)  # scoped like every change of the file (G8)
    if channel in subject.optouts:
        return subject
    subject.opt_out(channel=channel, actor=actor)
    changed: list[Any] = [subject]
    # open follow-ups planned on that channel move to the next allowed one
    for row in app.read_side.open_followups_of(code):
        fu = app.load(FollowUp, row, "follow-up")
        if fu.channel == channel:
            fu.switch_channel(channel=fallback_channel(subject.optouts, channel),
                              reason=f"subject opted out of {channel} (G7)", actor=actor)
            changed.append(fu)
    app.commit(*changed)
    return subject


def sign_exemption(app: App, code: str, statement: str, actor: str = "cli") -> Subject:
    """F6/G7: a signed statement declining all follow-up; open follow-ups close as exempt."""
    if not statement.strip():
        raise HuifangError("describe the signed statement (e.g. its document number)", field="statement")
    subject = app.load(Subject, code, "subject")
    app.access.require(actor, "subject.exempt", subject=code)  # F6: a supervisor of the subject's department
    subject.sign_exemption(statement=app.keyring.seal(code, statement), actor=actor)  # G8: free text
    changed: list[Any] = [subject]
    for row in app.read_side.open_followups_of(code):
        fu = app.load(FollowUp, row, "follow-up")
        fu.close(status=Status.EXEMPT, reason=app.keyring.seal(code, f"signed statement: {statement}"), actor=actor)
        changed.append(fu)
    app.commit(*changed)
    return subject
