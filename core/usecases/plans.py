"""Triggers (service events) and the follow-ups their plugin plans from them.

A trigger id may be sent again (HIS/CRM exports repeat): the second time nothing is planned. A plan
may also close earlier open follow-ups of the same subject and plugin (contract.CloseFollowUp)."""
from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import uuid5

from .. import clock
from ..config import pydantic_message
from ..contract import CloseFollowUp, PlannedVisit, Skip, SubjectInfo, TriggerInfo
from ..domain import FollowUp, Subject, Trigger
from ..domain.base import NAMESPACE
from ..errors import HuifangError, Refused
from ..status import Status
from . import need_code
from .subjects import fallback_channel

if TYPE_CHECKING:
    from ..privacy import KeyRing
    from ..registry import Kind
    from ..services import App


def receive_trigger(app: App, kind: str, subject: str, attributes: dict[str, Any],
                    trigger_id: str | None = None, at: datetime | None = None,
                    actor: str = "cli") -> tuple[Trigger, list[FollowUp], bool]:
    """Plan a service event. Returns (trigger, follow-ups, created). Re-sending an id is a no-op."""
    trigger, fus, closed, created = plan_trigger(app, kind, subject, attributes, trigger_id, at, actor)
    if created:
        app.commit(trigger, *fus, *closed)
    return trigger, fus, created


def plan_trigger(app: App, kind: str, subject: str, attributes: dict[str, Any], trigger_id: str | None = None,
                 at: datetime | None = None, actor: str = "cli", subj: Subject | None = None,
                 check_existing: bool = True) -> tuple[Trigger, list[FollowUp], list[FollowUp], bool]:
    """receive_trigger without the save: (trigger, new follow-ups, closed follow-ups, created), so
    bulk import can save a whole batch of triggers in one `commit`. `subj` may be a subject of the
    same (unsaved) batch; `check_existing=False` skips the look-up when the caller knows the id is new
    (a wrong guess fails the batch's save as a conflict, nothing written)."""
    k = app.registry.resolve_kind(kind)
    now = clock.now()
    at = at or now
    attrs = validate_attributes(k, attributes)
    code = trigger_id or derived_trigger_id(k.qualified, subject, at, attrs)
    need_code(code, field="trigger_id")
    existing = app.find(Trigger, code) if check_existing else None
    if existing is not None:
        if existing.kind != k.qualified or existing.subject != subject:
            raise Refused(f"trigger '{code}' was already used for {existing.kind} of subject "
                          f"{existing.subject}; use another id", field="trigger_id")
        return existing, [app.load(FollowUp, f, "follow-up") for f in existing.followups], [], False
    subj = subj if subj is not None else app.load(Subject, subject, "subject", field="subject")
    if getattr(subj, "erased", False):
        raise Refused(f"subject {subject} was erased: no new service events for them")
    app.access.require(actor, "trigger", subject=subject)
    info = TriggerInfo(id=code, kind=k.qualified, plugin=k.plugin, subject=subject, at=at, attributes=attrs)
    settings = app.settings(k.plugin)
    scheduler = app.scheduler(k.plugin, subj.tz)
    planned = app.registry.call(k.plugin, "huifang_plan", trigger=info, subject=subject_info(subj, app.keyring),
                                settings=settings, scheduler=scheduler, history=app.history) or []
    visits = [p for p in planned if isinstance(p, PlannedVisit)]
    skips = [p for p in planned if isinstance(p, Skip)]
    fus = [new_followup(app, info, v, subj, actor) for v in visits]
    # G8: every attribute the kind does not declare a code is stored encrypted under the subject's key
    stored = app.keyring.seal_trigger_attributes(subject, jsonable(attrs), k.spec)
    trigger = Trigger(code=code, kind=k.qualified, plugin=k.plugin, subject=subject, occurred_at=at.isoformat(),
                      attributes=stored, followups=[f.code for f in fus],
                      skipped=[s.model_dump(mode="json") for s in skips], actor=actor)
    closed = close_from_plan(app, info, [p for p in planned if isinstance(p, CloseFollowUp)], actor)
    return trigger, fus, closed, True


def close_from_plan(app: App, info: TriggerInfo, items: list[CloseFollowUp], actor: str) -> list[FollowUp]:
    """contract.CloseFollowUp from a plan: close earlier open follow-ups of the same subject and plugin."""
    out: list[FollowUp] = []
    for c in items:
        fu = app.load(FollowUp, c.followup, "follow-up")
        if fu.subject != info.subject or fu.plugin != info.plugin:
            raise Refused(f"{info.kind}: plan may not close {fu.code} (another subject or plugin)")
        if fu.closed or any(f.code == fu.code for f in out):
            continue
        fu.close(status=c.status, reason=plugin_text(app, info, f"{c.reason} (trigger {info.id})"), actor=actor)
        out.append(fu)
    return out


def validate_attributes(k: Kind, attributes: dict[str, Any]) -> dict[str, Any]:
    """The trigger's attributes through its kind's model, as JSON values."""
    from pydantic import ValidationError

    try:
        model = k.spec.attributes.model_validate(attributes)
    except ValidationError as e:
        loc = ".".join(str(p) for p in e.errors()[0].get("loc", ()))
        message = pydantic_message(e)[len(loc) + 2:]  # 'loc: message': the location becomes the field's key
        raise HuifangError(f"{message} (trigger kind {k.qualified})",
                           field="attributes" + (f".{loc}" if loc else "")) from None
    return model.model_dump(mode="json")


def new_followup(app: App, trigger: TriggerInfo, v: PlannedVisit, subj: Subject, actor: str,
                 extra_meta: dict[str, Any] | None = None) -> FollowUp:
    """The follow-up `<trigger id>-<key>` a plan, a reaction or a resolved ticket asks for: G9 (no
    interested owner), G7 (an opted-out channel falls back), F6 (a signed statement closes it as
    exempt, not lost)."""
    code = f"{trigger.id}-{v.key}"
    if v.owner and v.owner in v.excluded_staff:
        raise Refused(f"G9: {v.owner} has an interest in trigger {trigger.id} and cannot own its follow-up")
    channel = v.channel
    if channel in subj.optouts:
        channel = fallback_channel(subj.optouts, channel)
    meta = dict(v.meta)
    if v.window_rule:
        meta["window_rule"] = v.window_rule
    meta.update(extra_meta or {})
    meta = sealed_meta(app, trigger, subj.code, meta)
    fu = FollowUp(code=code, subject=subj.code, trigger=trigger.id, trigger_kind=trigger.kind,
                  plugin=trigger.plugin, visit_type=v.visit_type, key=v.key, window_open=v.window_open,
                  due=v.due, owner=v.owner, owner_role=v.owner_role, channel=channel,
                  provisional=v.provisional, excluded_staff=v.excluded_staff, excluded_roles=v.excluded_roles,
                  department=v.department, branch=v.branch, meta=jsonable(meta), actor=actor)
    if subj.exempt:
        fu.close(status=Status.EXEMPT, actor=actor, reason=app.keyring.seal(
            subj.code, f"signed statement: {app.keyring.reveal(subj.exemption_note)}"))
    return fu


def plugin_text(app: App, trigger: TriggerInfo, text: str) -> str:
    """G8: a plugin's text that quotes an attribute stored encrypted is stored encrypted too."""
    try:
        spec = app.registry.resolve_kind(trigger.kind).spec
    except HuifangError:
        return text
    return app.keyring.seal_plugin_text(trigger.subject, text, app.keyring.reveal_all(trigger.attributes), spec)


def sealed_meta(app: App, trigger: TriggerInfo, subject: str, meta: dict[str, Any]) -> dict[str, Any]:
    """G8: a plan may copy trigger attributes into a follow-up's meta; what is encrypted on the
    trigger is encrypted there too (same key, or the same text)."""
    try:
        spec = app.registry.resolve_kind(trigger.kind).spec
    except HuifangError:
        return meta
    attrs = app.keyring.reveal_all(trigger.attributes)
    return app.keyring.seal_meta(subject, meta, attrs, spec)


def trigger_info(trigger: Trigger, keyring: KeyRing | None = None) -> TriggerInfo:
    """A stored trigger as plugins see it (attributes revealed when given the key ring)."""
    attributes = keyring.reveal_all(trigger.attributes) if keyring is not None else trigger.attributes
    return TriggerInfo(id=trigger.code, kind=trigger.kind, plugin=trigger.plugin, subject=trigger.subject,
                       at=datetime.fromisoformat(trigger.occurred_at), attributes=attributes)


def subject_info(s: Subject, keyring: KeyRing | None = None) -> SubjectInfo:
    attributes = keyring.reveal_all(s.attributes) if keyring is not None else s.attributes  # plans see plaintext
    return SubjectInfo(id=s.code, tz=s.tz, attributes=attributes, optouts=s.optouts, exempt=s.exempt)


def derived_trigger_id(kind: str, subject: str, at: datetime | None, attrs: dict[str, Any]) -> str:
    """The id of a trigger sent without one: the same event always gets the same id (no duplicates)."""
    at_text = at.isoformat() if at is not None else None
    digest = uuid5(NAMESPACE, json.dumps([kind, subject, at_text, attrs], sort_keys=True, default=str))
    return f"T{digest.hex[:16]}"


def jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
