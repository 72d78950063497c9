"""Reactions to a completed property follow-up: tickets (G12), re-dispatch of failed repairs (P2),
the next home visits (P3), the next yearly surveys and the problems they raised (P4) and the resident's
sign-off (P10)."""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from huifang.core.plugin_api import (
    FollowUpInfo,
    History,
    OpenTicket,
    PlannedVisit,
    PlanVisit,
    Reaction,
    Refused,
    Scheduler,
    clock,
)

from . import plans
from .settings import PropertySettings

DISSATISFIED = "不满意"

Answers = dict[str, Any]
Handler = Callable[[FollowUpInfo, Answers, PropertySettings, Scheduler], list[Reaction]]


def on_completed(fu: FollowUpInfo, answers: Answers, s: PropertySettings, sched: Scheduler,
                 history: History | None = None) -> list[Reaction]:
    handler = HANDLERS.get(fu.visit_type)
    out = handler(fu, answers, s, sched) if handler else []
    if fu.visit_type in ("home_visit", "yearly_survey") and history is not None:
        out += surveys_next(fu, s, sched, history)
    return out


def surveys_next(fu: FollowUpInfo, s: PropertySettings, sched: Scheduler, history: History) -> list[Reaction]:
    """P4: a household still visited keeps its next `survey_horizon` yearly surveys planned (one a year:
    a year it already has one for plans nothing)."""
    unit, registered = fu.meta.get("unit"), fu.meta.get("registered_at")
    if not unit or not registered:
        return []
    answered = fu.meta.get("year") if fu.visit_type == "yearly_survey" else None
    items = plans.surveys_ahead(datetime.fromisoformat(registered), sched.local_day(clock.now()), s, sched, unit,
                                fu.owner, fu.meta.get("project"), history, [fu.subject], answered)
    return [PlanVisit(visit=v) for v in items if isinstance(v, PlannedVisit)]


def yearly(fu: FollowUpInfo, answers: Answers, s: PropertySettings, sched: Scheduler) -> list[Reaction]:
    """P4: every problem the household raised is followed up within `survey_problem_due_days`; a
    dissatisfied household is a ticket for customer service (G12). The problem's words stay in the
    survey's (sealed) answers; its follow-up names the survey and the problem's number."""
    problems = [p.strip() for p in re.split(r"[;；\n]", str(answers.get("problems") or "")) if p.strip()]
    w = sched.window(clock.now(), 0, s.survey_problem_due_days)
    out: list[Reaction] = [
        PlanVisit(visit=PlannedVisit(key=f"{fu.key}-problem{i}", visit_type="survey_problem", owner=fu.owner,
                                     department=s.service_dept,
                                     meta={"year": fu.meta.get("year"), "unit": fu.meta.get("unit"),
                                           "raised_in": fu.id, "problem_no": i}, **w.fields()))
        for i in range(1, len(problems) + 1)]
    if answers.get("satisfaction") == DISSATISFIED:
        weakest = answers.get("weakest")
        out.append(OpenTicket(category="survey_dissatisfied", department=s.service_dept,
                              note=f"yearly survey {fu.meta.get('year')} of {fu.meta.get('unit')}: dissatisfied"
                                   + (f", weakest: {weakest}" if weakest and weakest != "none" else "")))
    return out


def complaint(fu: FollowUpInfo, answers: Answers, s: PropertySettings, sched: Scheduler) -> list[Reaction]:
    """P1: a complaint the subject says is not resolved goes back to the complained department; a
    major one (or strong dissatisfaction, G13) as a major ticket."""
    if answers.get("effect") != "not_resolved" and answers.get("satisfaction") != DISSATISFIED:
        return []
    m = fu.meta
    major = m.get("severity") == "major" or (answers.get("effect") == "not_resolved"
                                             and answers.get("satisfaction") == DISSATISFIED)
    return [OpenTicket(category=f"complaint_{m.get('category', 'other')}", department=m.get("dept", s.service_dept),
                       severity="major" if major else "normal",
                       note=f"complaint callback: {answers.get('effect', '-')}, {answers.get('satisfaction', '-')}"
                            + (f"; {answers['shortcomings']}" if answers.get("shortcomings") else ""),
                       notify=[s.manager] if major and s.manager else [])]


def repair(fu: FollowUpInfo, answers: Answers, s: PropertySettings, sched: Scheduler) -> list[Reaction]:
    """P2: a failed repair is re-dispatched by engineering (ticket) and called back again after the re-work."""
    m = fu.meta
    what = f"{m.get('category', 'repair')} at {m.get('unit', '?')} by {m.get('worker', '?')}"
    if answers.get("passed") == "no":
        return [OpenTicket(category="repair_failed", department=s.engineering_dept,
                           note=f"failed repair: {what}; re-dispatch (P2)"),
                PlanVisit(visit=plans.repair_redo(fu, s, sched, clock.now()))]
    if answers.get("satisfaction") == DISSATISFIED:
        return [OpenTicket(category="repair_dissatisfied", department=s.engineering_dept,
                           note=f"subject dissatisfied with {what}")]
    return []


def home_visit(fu: FollowUpInfo, answers: Answers, s: PropertySettings, sched: Scheduler) -> list[Reaction]:
    """P10: the record counts only when the resident confirmed it. P3: completing a visit keeps the
    next `home_visit_horizon` half-years planned, until the household leaves (household_left)."""
    if answers.get("resident_confirmed") != "yes":
        raise Refused(f"P10: home-visit record {fu.id} must be confirmed by the resident "
                      f"(--answer resident_confirmed=yes); if they will not sign, leave it open or close it "
                      f"with a reason")
    m = fu.meta
    out: list[Reaction] = []
    problem = answers.get("problem", "none")
    if problem != "none":
        out.append(OpenTicket(category=f"home_{problem}",
                              department=s.engineering_dept if problem == "repair" else s.service_dept,
                              note=answers.get("note") or f"{problem} raised in home visit at {m.get('unit')}"))
    unit, registered = m.get("unit"), m.get("registered_at")
    # no household_left check needed: leaving cancels every open visit, so a completed one is still home
    if unit and registered:
        at = datetime.fromisoformat(registered)
        period = int(m.get("period", 1))
        for k in range(period + 1, period + s.home_visit_horizon + 1):
            out.append(PlanVisit(visit=plans.home_visit(at, k, s, sched, unit, fu.owner, m.get("project"))))
    return out


def service(fu: FollowUpInfo, answers: Answers, s: PropertySettings, sched: Scheduler) -> list[Reaction]:
    """P4–P7: a problem the subject still has becomes a ticket for customer service (G12)."""
    if answers.get("effect") != "no" and answers.get("satisfaction") != DISSATISFIED:
        return []
    problem = fu.meta.get("problem") or fu.meta.get("name") or fu.meta.get("service") or fu.visit_type
    return [OpenTicket(category=fu.visit_type, department=s.service_dept,
                       note=f"{problem}: effect {answers.get('effect', '-')}, {answers.get('satisfaction', '-')}")]


def renovation(fu: FollowUpInfo, answers: Answers, s: PropertySettings, sched: Scheduler) -> list[Reaction]:
    """P9: a complaint (about the designer, inspector, crew or other) or poor quality -> a ticket for the
    renovation department; the complaint also counts in the per-party complaint rate (report)."""
    who = answers.get("complaint", "none")
    if who == "none" and answers.get("quality") != "poor" and answers.get("satisfaction") != DISSATISFIED:
        return []
    m = fu.meta
    party = f" ({m.get(who)})" if who in plans.PARTIES and m.get(who) else ""
    return [OpenTicket(category=f"renovation_{who if who != 'none' else 'quality'}", department=s.renovation_dept,
                       note=(answers.get("problem") or f"{fu.visit_type}: complaint about {who}") + party)]


HANDLERS: dict[str, Handler] = {
    "complaint_callback": complaint,
    "complaint_recheck": complaint,
    "repair_callback": repair,
    "home_visit": home_visit,
    "yearly_survey": yearly,
    "survey_problem": service,
    "contract_midterm": service,
    "contract_end": service,
    "activity_callback": service,
    "emergency_callback": service,
    "renovation_early": renovation,
    "renovation_midterm": renovation,
    "renovation_completion": renovation,
    "warranty_check": renovation,
}
