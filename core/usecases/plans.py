"""Triggers (service events) and the follow-ups their plugin plans from them.

A trigger id may be sent again (HIS/CRM exports repeat): with the same data nothing is planned; with
other data it is refused naming the fields, because a correction must not be lost silently: it is
`amend_trigger` (`huifang trigger amend`), an event on the trigger that re-plans its open follow-ups.
A plan may also close earlier open follow-ups of the same subject and plugin (contract.CloseFollowUp)."""
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
from ..ports import History
from ..status import Status
from . import exemptions, need_code
from .calendar import catch_up, planned_meta
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
                 check_existing: bool = True, history: History | None = None,
                 ) -> tuple[Trigger, list[FollowUp], list[FollowUp], bool]:
    """receive_trigger without the save: (trigger, new follow-ups, closed follow-ups, created), so
    bulk import can save a whole batch of triggers in one `commit`. `subj` may be a subject of the
    same (unsaved) batch; `check_existing=False` skips the look-up when the caller knows the id is new
    (a wrong guess fails the batch's save as a conflict, nothing written); `history` is what the plan
    reads (default the store's; an import adds the file's rows planned before this one)."""
    k = app.registry.resolve_kind(kind)
    now = clock.now()
    given_at = at
    at = at or now
    attrs = validate_attributes(k, attributes)
    code = trigger_id or derived_trigger_id(k.qualified, subject, at, attrs)
    need_code(code, field="trigger_id")
    existing = app.find(Trigger, code) if check_existing else None
    if existing is not None:
        if existing.kind != k.qualified or existing.subject != subject:
            raise Refused(f"trigger '{code}' was already used for {existing.kind} of subject "
                          f"{existing.subject}; use another id", field="trigger_id")
        differ = differing_fields(app, existing, attrs, given_at)
        if differ:
            raise Refused(f"trigger '{code}' was already received with other data ({', '.join(differ)}); nothing "
                          f"changed: correct it with 'huifang trigger amend {code} --attr KEY=VALUE'",
                          field="trigger_id")
        return existing, [app.load(FollowUp, f, "follow-up") for f in existing.followups], [], False
    subj = subj if subj is not None else app.load(Subject, subject, "subject", field="subject")
    if getattr(subj, "erased", False):
        raise Refused(f"subject {subject} was erased: no new service events for them")
    app.access.require(actor, "trigger", subject=subject)
    info = TriggerInfo(id=code, kind=k.qualified, plugin=k.plugin, subject=subject, at=at, attributes=attrs)
    settings = app.settings(k.plugin)
    scheduler = app.scheduler(k.plugin, subj.tz)
    planned = app.registry.call(k.plugin, "huifang_plan", trigger=info, subject=subject_info(subj, app.keyring),
                                settings=settings, scheduler=scheduler,
                                history=history if history is not None else app.history) or []
    visits = [p for p in planned if isinstance(p, PlannedVisit)]
    skips = [p for p in planned if isinstance(p, Skip)]
    fus = [new_followup(app, info, v, subj, actor) for v in visits]
    # G8: every attribute the kind does not declare a code is stored encrypted under the subject's key
    stored = app.keyring.seal_trigger_attributes(subject, jsonable(attrs), k.spec)
    trigger = Trigger(code=code, kind=k.qualified, plugin=k.plugin, subject=subject, occurred_at=at.isoformat(),
                      attributes=stored, followups=[f.code for f in fus],
                      skipped=stored_skips(app, info, skips), actor=actor)
    closed = close_from_plan(app, info, [p for p in planned if isinstance(p, CloseFollowUp)], actor)
    return trigger, fus, closed, True


def differing_fields(app: App, trigger: Trigger, attributes: dict[str, Any], at: datetime | None) -> list[str]:
    """The fields in which a re-sent trigger differs from the stored one: attribute names, and `at`
    when the re-send gives a time (without one it means 'the same event')."""
    stored = app.keyring.reveal_all(trigger.attributes)
    new = jsonable(attributes)
    out = [name for name in dict.fromkeys([*stored, *new]) if stored.get(name) != new.get(name)]
    if at is not None and at != datetime.fromisoformat(trigger.occurred_at):
        out.append("at")
    if out and app.keyring.erased(trigger.subject):  # G8: nothing of an erased subject can be compared
        return []
    return out


def amend_trigger(app: App, code: str, changes: dict[str, Any], at: datetime | None = None,
                  reason: str | None = None, actor: str = "cli") -> tuple[Trigger, list[str], list[str]]:
    """Correct a trigger's attributes (and time): an Amended event on the trigger, then its plugin
    plans it again and its plan's OPEN follow-ups are reconciled by plan key: a new window is a
    Rescheduled event, a new owner a Reassigned one (unless someone reassigned it by hand), a new
    department, branch, G9 exclusion or plan detail a Replanned one; a key the plan no longer gives is
    cancelled, a new key planned. Completed and closed follow-ups, and those reactions planned, stay
    as they are. Returns (trigger, fields corrected, what happened to the follow-ups); a correction
    that changes nothing is a no-op."""
    need_code(code, "trigger ID")
    trigger = app.load(Trigger, code, "trigger")
    subj = app.load(Subject, trigger.subject, "subject")
    if getattr(subj, "erased", False):
        raise Refused(f"subject {subj.code} was erased: their service events can no longer be corrected")
    app.access.require(actor, "trigger", subject=trigger.subject)
    k = app.registry.resolve_kind(trigger.kind)
    old_at = datetime.fromisoformat(trigger.occurred_at)
    attrs = validate_attributes(k, {**app.keyring.reveal_all(trigger.attributes), **changes})
    new_at = at or old_at
    if new_at > clock.now():
        raise HuifangError(f"{clock.iso(new_at)} is in the future; a service event cannot be", field="at")
    changed = differing_fields(app, trigger, attrs, new_at)
    if not changed:
        return trigger, [], []
    info = TriggerInfo(id=code, kind=k.qualified, plugin=k.plugin, subject=subj.code, at=new_at, attributes=attrs)
    planned = app.registry.call(k.plugin, "huifang_plan", trigger=info, subject=subject_info(subj, app.keyring),
                                settings=app.settings(k.plugin), scheduler=app.scheduler(k.plugin, subj.tz),
                                history=app.history) or []
    visits = {p.key: p for p in planned if isinstance(p, PlannedVisit)}
    why = f"trigger {code} amended ({', '.join(changed)})"
    messages: list[str] = []
    saved: list[FollowUp] = []
    mine = [app.load(FollowUp, f, "follow-up") for f in trigger.planned]
    for fu in mine:
        if fu.closed:
            continue
        v = visits.get(fu.key)
        if v is None:
            fu.close(status=Status.CANCELLED, reason=f"no longer planned: {why}", actor=actor)
            messages.append(f"cancelled {fu.code}: the corrected plan no longer has it")
        elif not replan_followup(app, info, fu, v, subj, why, actor, messages):
            continue
        saved.append(fu)
    known = {fu.key for fu in mine} | {f.removeprefix(f"{code}-") for f in trigger.followups}
    added = [new_followup(app, info, v, subj, actor) for key, v in visits.items() if key not in known]
    messages += [f"planned {f.code} ({f.visit_type}) due {clock.iso(f.due, subj.tz)}" for f in added]
    trigger.amend(attributes=app.keyring.seal_trigger_attributes(subj.code, jsonable(attrs), k.spec),
                  occurred_at=new_at.isoformat(), changed=changed, added=[f.code for f in added],
                  skipped=stored_skips(app, info, [p for p in planned if isinstance(p, Skip)]),
                  reason=app.keyring.seal(subj.code, (reason or "").strip() or None), actor=actor)  # G8: free text
    app.commit(trigger, *saved, *added)
    return trigger, changed, messages


def replan_followup(app: App, info: TriggerInfo, fu: FollowUp, v: PlannedVisit, subj: Subject, why: str,
                    actor: str, messages: list[str]) -> bool:
    """One open follow-up brought in line with its corrected plan (see amend_trigger); True if changed."""
    if v.visit_type != fu.visit_type:
        raise Refused(f"the corrected data turns {fu.code} from {fu.visit_type} into {v.visit_type}: cancel it "
                      f"(huifang close {fu.code} --cancel REASON) and record the event again under a new id")
    draft = new_followup(app, info, v, subj, actor)  # never saved: the follow-up as the plan now gives it
    if draft.status == Status.EXEMPT:  # F6: the corrected event carries the statement signed with it
        fu.close(status=Status.EXEMPT, reason=draft.closed_reason or why, actor=actor)
        messages.append(f"closed {fu.code} as exempt: {why}")
        return True
    before = len(fu.pending_events)
    if (draft.window_open, draft.due, draft.provisional) != (fu.window_open, fu.due, fu.provisional):
        fu.reschedule(window_open=draft.window_open, due=draft.due, provisional=draft.provisional, reason=why,
                      actor=actor)
        messages.append(f"rescheduled {fu.code}: window {clock.iso(fu.window_open, subj.tz)} .. due "
                        f"{clock.iso(fu.due, subj.tz)}")
    by_hand = fu.owner != fu.planned_owner  # a re-plan never overrides a hand reassignment, unless G9 forbids it
    if draft.owner is not None and draft.owner != fu.owner and (not by_hand or fu.owner in draft.excluded_staff):
        fu.reassign(to_owner=draft.owner, reason=why, actor=actor)
        messages.append(f"reassigned {fu.code} to {draft.owner}")
    elif fu.owner is not None and fu.owner in draft.excluded_staff:
        raise Refused(f"G9: {fu.owner} owns {fu.code} but has an interest in the corrected event: reassign it first")
    reveal = app.keyring.reveal_all
    now = {"planned owner": draft.owner, "department": draft.department, "branch": draft.branch,
           "G9 exclusions": (draft.excluded_staff, draft.excluded_roles), "plan details": reveal(draft.meta)}
    was = {"planned owner": fu.planned_owner, "department": fu.department, "branch": fu.branch,
           "G9 exclusions": (fu.excluded_staff, fu.excluded_roles), "plan details": reveal(fu.meta)}
    differ = [name for name in now if now[name] != was[name]]
    if differ:
        fu.replan(planned_owner=draft.owner, department=draft.department, branch=draft.branch,
                  excluded_staff=draft.excluded_staff, excluded_roles=draft.excluded_roles, meta=draft.meta,
                  reason=why, actor=actor)
        shown = [d for d in differ if d != "planned owner"]
        if shown:
            messages.append(f"re-planned {fu.code}: {', '.join(shown)}"
                            + (f" (department {fu.department})" if "department" in differ else ""))
        if "planned owner" in differ and fu.owner != draft.owner:
            messages.append(f"{fu.code} stays with {fu.owner or 'the pool'} (reassigned by hand; the plan now "
                            f"names {draft.owner or 'the pool'})")
    return len(fu.pending_events) > before


def stored_skips(app: App, info: TriggerInfo, skips: list[Skip]) -> list[dict[str, Any]]:
    """The plan's Skips as the trigger stores them. A visit kept on standby for a sample floor (G17,
    plugin_api.sampling.Draw.take) has its meta sealed as a planned follow-up's would be (G8)."""
    out = []
    for s in skips:
        row = s.model_dump(mode="json")
        standby = row["meta"].get("standby")
        if isinstance(standby, dict) and isinstance(standby.get("meta"), dict):
            standby["meta"] = jsonable(sealed_meta(app, info, info.subject, standby["meta"]))
        out.append(row)
    return out


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
    if v.due < clock.now():  # G6/A4: its window passed before it became known: a catch-up call
        v = catch_up(app.scheduler(trigger.plugin, subj.tz), v, clock.now())
    if v.owner and v.owner in v.excluded_staff:
        raise Refused(f"G9: {v.owner} has an interest in trigger {trigger.id} and cannot own its follow-up")
    channel = v.channel
    if channel in subj.optouts:
        channel = fallback_channel(subj.optouts, channel, app.settings(trigger.plugin).optout_fallback)
    meta = {**v.meta, **planned_meta(v)}
    if v.window_rule:
        meta["window_rule"] = v.window_rule
    meta.update(extra_meta or {})
    meta = sealed_meta(app, trigger, subj.code, meta)
    fu = FollowUp(code=code, subject=subj.code, trigger=trigger.id, trigger_kind=trigger.kind,
                  plugin=trigger.plugin, visit_type=v.visit_type, key=v.key, window_open=v.window_open,
                  due=v.due, owner=v.owner, owner_role=v.owner_role, channel=channel,
                  provisional=v.provisional, excluded_staff=v.excluded_staff, excluded_roles=v.excluded_roles,
                  department=v.department, branch=v.branch, meta=jsonable(meta), actor=actor)
    exempt = exemptions.at_planning(app, trigger, v.visit_type, subj)  # F6: by visit type (exemptions.py)
    if exempt:
        fu.close(status=Status.EXEMPT, actor=actor, reason=app.keyring.seal(subj.code, exempt))
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
