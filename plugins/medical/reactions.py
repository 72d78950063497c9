"""Reactions to attempts and answers: doctor referral (M7), dissatisfaction tickets (G16/G12), the next
call of a chronic curve (M3/M4) and the re-examination reminder (M5)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from huifang.core.plugin_api import (
    FollowUpInfo,
    History,
    OpenTicket,
    PlannedVisit,
    PlanVisit,
    Reaction,
    Scheduler,
    TicketInfo,
    TicketRoute,
    Warn,
)

from . import curve
from .plans import reexamined_since
from .settings import MedicalSettings


def _department(fu: FollowUpInfo, settings: MedicalSettings) -> str:
    return str(fu.meta.get("department") or fu.trigger_attributes.get("department") or settings.chronic_department)


def _doctor(fu: FollowUpInfo) -> str | None:
    return fu.meta.get("attending_doctor") or fu.trigger_attributes.get("attending_doctor")


def _reached_at(fu: FollowUpInfo) -> datetime:
    times = [curve.when(a["at"]) for a in fu.attempts if a.get("outcome") == "reached" and a.get("at")]
    return times[-1] if times else curve.when(fu.window_open)


def ticket_categories(answers: dict[str, Any]) -> list[str]:
    """The tickets a survey answer opens, in order: worrying symptoms (M7), dissatisfaction (G16/G12)."""
    out = []
    if answers.get("symptoms") == "worrying":
        out.append("symptoms")
    if answers.get("satisfaction") == "不满意":
        out.append("dissatisfied")
    return out


def ticket_route(ticket: TicketInfo) -> TicketRoute:
    """G12/M7/M8: a ticket belongs to the head of the clinical department it names (科主任), who answers
    for worrying symptoms and explains low satisfaction; overdue, it climbs the engine's default ladder."""
    return TicketRoute(head_of=ticket.department)


def on_completed(fu: FollowUpInfo, answers: dict[str, Any], settings: MedicalSettings, scheduler: Scheduler,
                 history: History) -> list[Reaction]:
    out: list[Reaction] = []
    dept = _department(fu, settings)
    doctor = _doctor(fu)
    for category in ticket_categories(answers):
        if category == "symptoms":  # M7: refer to the clinical department and the doctor
            out.append(OpenTicket(category="symptoms", department=dept, note="worrying symptoms reported (M7)",
                                  notify=[doctor] if doctor else []))
        else:  # G16/G12: dissatisfaction is a problem to handle
            out.append(OpenTicket(category="dissatisfied", department=dept, note="subject dissatisfied"))
    if fu.meta.get("curve"):
        if fu.meta.get("previous") and answers.get("previous_effect") == "no_previous_call":
            out.append(Warn(message=f"M4: {fu.id} follows {fu.meta['previous']}: record how that call's advice "
                                    f"worked (previous_effect effective|partly|not_effective)"))
        out += next_call(fu, answers, _reached_at(fu), 0, settings, scheduler)
    if fu.visit_type == "health_check_recall":
        out += reexam_reminder(fu, answers, settings, scheduler, history)
    return out


def on_attempt(fu: FollowUpInfo, attempt: dict[str, Any], settings: MedicalSettings,
               scheduler: Scheduler) -> list[Reaction]:
    """A curve call that cannot be made must not end the curve (G5 attempts first); a refusal ends it (G7)."""
    if not fu.meta.get("curve"):
        return []
    if attempt.get("outcome") == "refused":
        return [Warn(message=f"G7: the subject refused; the {fu.meta['curve']} curve ends with {fu.id} "
                             f"(re-enrol with chronic_enrolment if they agree later)")]
    if curve.failed_attempts(fu) != settings.min_attempts:
        return []
    opened = curve.when(fu.window_open)
    last = curve.when(fu.attempts[-1]["at"])
    step_days = int(fu.meta.get("interval_days") or 7)
    anchor = opened if opened + timedelta(days=step_days) > last else last
    out = next_call(fu, None, anchor, int(fu.meta.get("missed") or 0) + 1, settings, scheduler)
    for r in out:
        if isinstance(r, PlanVisit):
            v = r.visit
            out.append(Warn(message=f"M4: {fu.id} not reached after {settings.min_attempts} attempts; the curve "
                                    f"continues: {fu.trigger}-{v.key} by {v.channel} opens {v.window_open:%Y-%m-%d}"))
            break
    return out


def next_call(fu: FollowUpInfo, answers: dict[str, Any] | None, anchor: datetime, missed: int,
              settings: MedicalSettings, scheduler: Scheduler) -> list[Reaction]:
    """M3/M4: the curve's next call, its interval set by this call's answers (None: missed)."""
    meta = fu.meta
    start = curve.when(meta["curve_start"])
    step = curve.next_step(meta, answers, scheduler.local_day(anchor), scheduler.local_day(start), settings)
    dept = _department(fu, settings)
    visit = curve.plan_call(meta["curve"], int(meta.get("seq") or 1) + 1, step, anchor, meta["curve_start"],
                            scheduler, settings, owner=fu.owner, department=dept, missed=missed, previous=fu.id,
                            extra={"department": dept, "attending_doctor": _doctor(fu)})
    return [PlanVisit(visit=visit)]


def reexam_reminder(fu: FollowUpInfo, answers: dict[str, Any], settings: MedicalSettings, scheduler: Scheduler,
                    history: History) -> list[Reaction]:
    """M5: not re-examined yet (and no outpatient visit since the check) -> a reminder call later."""
    if answers.get("reexamined") == "yes":
        return []
    check_at = curve.when(fu.meta.get("check_at") or fu.window_open)
    if reexamined_since(history, fu.subject, check_at, settings.reexam_window_days, fu.meta, settings):
        return []
    anchor = _reached_at(fu)
    days = settings.reexam_reminder_days
    w = scheduler.window(anchor, days, days + settings.health_check_due_days - settings.health_check_open_days)
    meta: dict[str, Any] = {k: fu.meta[k] for k in ("department", "findings", "check_at", "advice") if k in fu.meta}
    return [PlanVisit(visit=PlannedVisit(key="reminder", visit_type="reexam_reminder", owner=fu.owner,
                                         owner_role="nurse" if fu.owner else None,
                                         department=meta.get("department"), meta=meta, **w.fields()))]
