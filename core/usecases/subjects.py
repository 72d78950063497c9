"""The subject file (G1), consent (G7: opting out of a channel) and signed exemptions (F6)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import clock
from ..contract import CHANNELS
from ..domain import FollowUp, Subject
from ..errors import ConflictError, HuifangError, Refused
from ..labels import resolve
from ..phones import check_phone
from ..privacy import SubjectErased
from ..status import Status
from . import exemptions, need_code

if TYPE_CHECKING:
    from ..services import App

# G7: when a subject refuses a channel, these are tried in order (a plugin's `optout_fallback`).
FALLBACK_CHANNELS = ("sms", "wechat", "email", "letter", "phone")


def fallback_channel(optouts: list[str], channel: str, order: list[str] | tuple[str, ...] = FALLBACK_CHANNELS) -> str:
    """G7: the first channel of `order` the subject has not opted out of, other than `channel`."""
    for c in order:
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
        check_phone(p)  # G1: phonenumbers, China the default region
    if email is not None and "@" not in email:
        raise HuifangError(f"'{email}' is not an email address", field="email")
    tz = tz or app.config.huifang.timezone
    clock.zone(tz)
    return tz


def add_subject(app: App, code: str, name: str, phones: list[str] | None = None, email: str | None = None,
                tz: str | None = None, attributes: dict[str, Any] | None = None, actor: str = "cli") -> Subject:
    tz = check_subject(app, code, name, phones, email, tz)
    if app.access.refusal(actor, "subject.add", subject=code) is not None:
        if app.find(Subject, code):  # as always, an existing id is named before a refusal (nothing recorded)
            raise Refused(f"subject '{code}' already exists")
        app.access.require(actor, "subject.add", subject=code)  # records the refusal (G8) and raises
    # no look-up first: the save of an existing id conflicts (its first event's version is taken), and
    # then, only then, the id is looked up to say so; an erased subject's key refuses the sealing first
    try:
        subject = new_subject(app, code, name, phones, email, tz, attributes, actor, checked=True)
        app.commit(subject)
    except (ConflictError, SubjectErased):
        if app.find(Subject, code):
            raise Refused(f"subject '{code}' already exists") from None
        raise
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
    channel = resolve("channel", channel, CHANNELS, "channel")  # the code, 短信 or SMS
    subject = app.load(Subject, code, "subject")
    app.access.require(actor, "subject.change", subject=code)  # scoped like every change of the file (G8)
    if channel in subject.optouts:
        return subject
    app.commit(subject, *record_optout(app, subject, channel, actor))
    return subject


def record_optout(app: App, subject: Subject, channel: str, actor: str,
                  loaded: dict[str, FollowUp] | None = None) -> list[FollowUp]:
    """G7: record the opt-out on `subject` and move its open follow-ups on that channel to the next
    channel their plugin allows; returns the follow-ups changed (not saved). `loaded` holds
    follow-ups the caller already changed (the attempt that recorded the refusal)."""
    subject.opt_out(channel=channel, actor=actor)
    loaded = loaded or {}
    changed: list[FollowUp] = []
    codes = list(dict.fromkeys([*loaded, *app.read_side.open_followups_of(subject.code)]))
    for row in codes:
        fu = loaded.get(row) or app.load(FollowUp, row, "follow-up")
        if fu.channel == channel and not fu.closed:
            fu.switch_channel(channel=fallback_channel(subject.optouts, channel,
                                                       app.settings(fu.plugin).optout_fallback),
                              reason=f"subject opted out of {channel} (G7)", actor=actor)
            changed.append(fu)
    return changed


def sign_exemption(app: App, code: str, statement: str, actor: str = "cli") -> Subject:
    """F6/G7: a signed statement declining all follow-up, recorded on the subject's file; it closes as
    exempt only the open follow-ups whose visit type a statement on the file may exempt, and is refused
    when nothing could ever be (G7: only insurance, by the statement on the policy; exemptions.py)."""
    if not statement.strip():
        raise HuifangError("describe the signed statement (e.g. its document number)", field="statement")
    subject = app.load(Subject, code, "subject")
    app.access.require(actor, "subject.exempt", subject=code)  # F6: a supervisor of the subject's department
    open_fus = [app.load(FollowUp, row, "follow-up") for row in app.read_side.open_followups_of(code)]
    exemptions.check_on_file(app, code, open_fus)
    subject.sign_exemption(statement=app.keyring.seal(code, statement), actor=actor)  # G8: free text
    changed: list[Any] = [subject]
    for fu in open_fus:
        if not exemptions.by_subject(app, fu):
            continue
        fu.close(status=Status.EXEMPT, reason=app.keyring.seal(code, f"signed statement: {statement}"), actor=actor)
        changed.append(fu)
    app.commit(*changed)
    return subject


def edit_subject(app: App, code: str, phone: str | None = None, add_phones: list[str] | None = None,
                 address: str | None = None, actor: str = "cli") -> Subject:
    """G1/F5: correct the subject's file — a re-determined number (`phone` replaces the numbers on
    file; `add_phones` adds others) or the address — as one DetailsUpdated event. The new values are
    sealed under the subject's key like the old ones (G8), which stay in the history, encrypted."""
    if phone is None and not add_phones and address is None:
        raise HuifangError("say what changes: --phone, --add-phone or --address", field="phone")
    new_phone = check_phone(phone) if phone is not None else None
    added = [check_phone(p, field="add_phone") for p in add_phones or []]
    if address is not None and not address.strip():
        raise HuifangError("must not be empty", field="address")
    subject = app.load(Subject, code, "subject")
    if getattr(subject, "erased", False):
        raise Refused(f"subject '{code}' was erased (G10): nothing to edit")
    app.access.require(actor, "subject.change", subject=code)  # scoped like every change of the file (G8)
    k = app.keyring
    current = [str(p) for p in k.reveal_all(list(subject.phones))]
    phones = [new_phone] if new_phone is not None else list(current)
    phones += [p for p in added if p not in phones]
    changes: dict[str, Any] = {}
    if phones != current:
        changes["phones"] = k.seal(code, phones)
    if address is not None:
        changes["attributes"] = k.seal_attributes(code, {"address": address.strip()})
    if not changes:
        return subject
    subject.update(changes=changes, actor=actor)
    app.commit(subject)
    return subject
