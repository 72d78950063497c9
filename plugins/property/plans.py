"""Plans: the follow-ups each property trigger creates (P1–P7, P9), with skips an auditor can read."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from huifang.core.plugin_api import (
    OPEN,
    CloseFollowUp,
    FollowUpInfo,
    History,
    HuifangError,
    PlanContext,
    PlanFunction,
    PlanItem,
    PlannedVisit,
    Refused,
    Scheduler,
    Skip,
    TriggerInfo,
)

from .calendar_math import add_months, offset, window_between
from .sampling import decide
from .settings import PropertySettings

P = "property."


# -- helpers ---------------------------------------------------------------------------------------
def staff(history: History, code: str | None, field: str, role: str | None = None) -> str | None:
    """A named owner must be registered staff (a typo would leave the follow-up without an owner)."""
    if not code:
        return None
    found = history.staff(code)
    if found is None:
        raise HuifangError(f"{field}: staff '{code}' is not registered (huifang staff add {code} ...)")
    if role and found["role"] != role:
        raise Refused(f"{field}: '{code}' is registered as {found['role']}, not {role}")
    return code


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _local(scheduler: Scheduler, text: str) -> date:
    return scheduler.local_day(_when(text))


def _settings(ctx: PlanContext) -> PropertySettings:
    s: PropertySettings = ctx.settings
    return s


def _attrs(a: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: a[k] for k in keys if a.get(k) is not None}


# -- P1 complaints ---------------------------------------------------------------------------------
def plan_complaint(ctx: PlanContext) -> list[PlanItem]:
    """100% callback within 3 days of handling; major -> the manager; general -> the complained
    department's supervisor, and a reproducible sample re-checked by the customer-service supervisor."""
    t, s, sched, history = ctx.trigger, _settings(ctx), ctx.scheduler, ctx.history
    a = t.attributes
    w = sched.window(t.at, 0, s.complaint_due_days)
    meta = _attrs(a, "category", "severity", "dept", "unit", "renovation", "against")
    if a["severity"] == "major":
        field = "--attr manager" if a.get("manager") else "plugins.property.manager"
        manager = staff(history, a.get("manager") or s.manager, field, role="manager")
        if manager is None:
            raise Refused("P1: a major complaint is followed up by the manager: set [plugins.property] manager "
                          "in huifang.toml or pass --attr manager=STAFF_ID")
        return [PlannedVisit(key="callback", visit_type="complaint_callback", owner=manager, owner_role="manager",
                             department=a["dept"], meta=meta, **w.fields()),
                Skip(key="recheck", reason="major complaint: followed up by the manager in person, "
                                           "not by the supervisor's re-check sample (P1)",
                     meta={"rule": "P1"})]
    owner = staff(history, a.get("owner"), "--attr owner")
    out: list[PlanItem] = [PlannedVisit(key="callback", visit_type="complaint_callback", owner=owner,
                                        owner_role="supervisor", department=a["dept"], meta=meta, **w.fields())]
    d = decide(t.id, "complaint_recheck", s.recheck_rate)
    if not d.sampled:
        return [*out, d.skip("recheck", "the supervisor's re-check", "P1")]
    supervisor = staff(history, s.supervisor, "plugins.property.supervisor")
    if supervisor is None and owner:  # the callback owner's own supervisor
        boss = history.staff(owner)
        supervisor = boss["reports_to"] if boss else None
    if supervisor == owner:
        supervisor = None
    out.append(PlannedVisit(key="recheck", visit_type="complaint_recheck", owner=supervisor, owner_role="supervisor",
                            department=a["dept"], excluded_staff=[owner] if owner else [],
                            meta={**meta, **d.meta()}, **w.fields()))
    return out


# -- P2 repairs ------------------------------------------------------------------------------------
def plan_repair(ctx: PlanContext) -> list[PlanItem]:
    """The dispatch centre calls back a reproducible sample (default 90%) within 3 days; the worker
    who did the repair never does the callback (G9)."""
    t, s, sched, history = ctx.trigger, _settings(ctx), ctx.scheduler, ctx.history
    a = t.attributes
    d = decide(t.id, "repair", s.repair_sample_rate)
    if not d.sampled:
        return [d.skip("callback", "the repair callback", "P2")]
    field = "--attr owner" if a.get("owner") else "plugins.property.dispatcher"
    owner = staff(history, a.get("owner") or s.dispatcher, field)
    if owner == a["worker"]:
        raise Refused(f"G9: {owner} did the repair and cannot call it back; name another --attr owner")
    w = sched.window(t.at, s.repair_open_days, s.repair_due_days)
    return [PlannedVisit(key="callback", visit_type="repair_callback", owner=owner, owner_role="agent",
                         department="dispatch", excluded_staff=[a["worker"]],
                         meta={**_attrs(a, "category", "worker", "unit"), "round": 0, **d.meta()}, **w.fields())]


def repair_redo(fu: FollowUpInfo, s: PropertySettings, sched: Scheduler, now: datetime) -> PlannedVisit:
    """P2: a failed repair is re-dispatched; its callback is repeated after the re-work (not sampled)."""
    n = int(fu.meta.get("round", 0)) + 1
    w = sched.window(now + timedelta(hours=s.ticket_deadline_hours), s.repair_open_days, s.repair_due_days)
    meta: dict[str, Any] = {k: fu.meta[k] for k in ("category", "worker", "unit") if k in fu.meta}
    return PlannedVisit(key=f"redo{n}", visit_type="repair_callback", owner=fu.owner, owner_role="agent",
                        department="dispatch", excluded_staff=[meta["worker"]] if meta.get("worker") else [],
                        meta={**meta, "round": n, "redo_of": fu.id}, **w.fields())


# -- P3 households ---------------------------------------------------------------------------------
def _left_after(history: History, subject: str, unit: str, since: str) -> bool:
    for r in history.triggers(subject, P + "household_left"):
        u = (r["attributes"] or {}).get("unit")
        if (u is None or u == unit) and _when(r["occurred_at"]) >= _when(since):
            return True
    return False


def active_registration(history: History, subject: str, unit: str) -> dict[str, Any] | None:
    for r in reversed(history.triggers(subject, P + "household_registered")):
        if (r["attributes"] or {}).get("unit") == unit and not _left_after(history, subject, unit, r["occurred_at"]):
            return r
    return None


def home_visit(registered_at: datetime, period: int, s: PropertySettings, sched: Scheduler, unit: str,
               owner: str | None) -> PlannedVisit:
    """Visit `period` (1, 2, …) falls anywhere in its part of the year: two a year = one per half-year."""
    months = 12 // s.home_visits_per_year
    start = sched.local_day(registered_at)
    first = add_months(start, (period - 1) * months)
    last = date.fromordinal(add_months(start, period * months).toordinal() - 1)
    w = window_between(sched, registered_at, first, last)
    return PlannedVisit(key=f"visit{period}", visit_type="home_visit", owner=owner, owner_role="agent",
                        channel="home_visit", department="customer_service",
                        meta={"unit": unit, "period": period, "registered_at": registered_at.isoformat()},
                        **w.fields())


def plan_household(ctx: PlanContext) -> list[PlanItem]:
    """P3: home visits twice a year from registration, `home_visit_horizon` periods planned ahead."""
    t, s, sched, history = ctx.trigger, _settings(ctx), ctx.scheduler, ctx.history
    a = t.attributes
    active = active_registration(history, t.subject, a["unit"])
    if active is not None:
        return [Skip(key="home_visits", reason=f"unit {a['unit']} is already registered by trigger {active['code']} "
                                               f"and has not left: its home visits continue (P3)",
                     meta={"rule": "P3", "registration": active["code"]})]
    owner = staff(history, a.get("owner"), "--attr owner")
    return [home_visit(t.at, k, s, sched, a["unit"], owner) for k in range(1, s.home_visit_horizon + 1)]


def plan_household_left(ctx: PlanContext) -> list[PlanItem]:
    """P3: the household left: every open home visit of that unit (or of every unit) is cancelled."""
    t = ctx.trigger
    unit = t.attributes.get("unit")
    codes = [r["code"] for r in ctx.history.followups(t.subject)
             if r["trigger_kind"] == P + "household_registered" and r["visit_type"] == "home_visit"
             and r["status"] in OPEN and (unit is None or (r["meta"] or {}).get("unit") == unit)]
    what = f"unit {unit}" if unit else "every unit"
    reason = f"household left {what}" + (f" ({t.attributes['reason']})" if t.attributes.get("reason") else "") + \
        ": home visits stop (P3)"
    return [*(CloseFollowUp(followup=c, reason=reason) for c in codes),
            Skip(key="home_visits", reason=f"household left {what}: {len(codes)} open home visit(s) cancelled (P3)",
                 meta={"rule": "P3", "cancelled": codes})]


# -- P4 yearly satisfaction survey -----------------------------------------------------------------
def plan_satisfaction_survey(ctx: PlanContext) -> list[PlanItem]:
    """P4: every problem raised in the yearly questionnaire is followed up within a week."""
    t, s, sched, history = ctx.trigger, _settings(ctx), ctx.scheduler, ctx.history
    a = t.attributes
    if not a["problems"]:
        return [Skip(key="problems", reason=f"{a['year']} survey raised no problem: nothing to follow up (P4)",
                     meta={"rule": "P4"})]
    owner = staff(history, a.get("owner"), "--attr owner")
    w = sched.window(t.at, 0, s.survey_problem_due_days)
    return [PlannedVisit(key=f"problem{i}", visit_type="survey_problem", owner=owner, department=s.service_dept,
                         meta={"year": a["year"], "problem": p, **_attrs(a, "unit")}, **w.fields())
            for i, p in enumerate(a["problems"], 1)]


# -- P5 contracted service -------------------------------------------------------------------------
def plan_service_contract(ctx: PlanContext) -> list[PlanItem]:
    """P5: contracted service, mid-term and after the end, each with a one-week window."""
    t, s, sched, history = ctx.trigger, _settings(ctx), ctx.scheduler, ctx.history
    a = t.attributes
    start, end = date.fromisoformat(a["start"]), date.fromisoformat(a["end"])
    d = decide(t.id, "contract", s.contract_sample_rate)
    if not d.sampled:
        return [d.skip("midterm", "the mid-term callback", "P5"), d.skip("end", "the end callback", "P5")]
    owner = staff(history, a.get("owner"), "--attr owner")
    mid = date.fromordinal(start.toordinal() + (end - start).days // 2)
    meta = {**_attrs(a, "service", "unit"), "start": a["start"], "end": a["end"],
            **(d.meta() if s.contract_sample_rate < 1 else {})}
    days = s.contract_window_days
    out: list[PlanItem] = []
    for key, vt, first in (("midterm", "contract_midterm", mid), ("end", "contract_end", end)):
        w = window_between(sched, t.at, first, date.fromordinal(first.toordinal() + days))
        out.append(PlannedVisit(key=key, visit_type=vt, owner=owner, department=s.service_dept, meta=meta,
                                **w.fields()))
    return out


# -- P6 activities, P7 emergency help --------------------------------------------------------------
def plan_activity(ctx: PlanContext) -> list[PlanItem]:
    """P6: a sample (default 10%) of participants within one month."""
    t, s, sched, history = ctx.trigger, _settings(ctx), ctx.scheduler, ctx.history
    a = t.attributes
    d = decide(t.id, "activity", s.activity_sample_rate)
    if not d.sampled:
        return [d.skip("callback", f"the {a['kind']} callback", "P6")]
    owner = staff(history, a.get("owner"), "--attr owner")
    day = sched.local_day(t.at)
    w = window_between(sched, t.at, day, add_months(day, s.activity_due_months))
    return [PlannedVisit(key="callback", visit_type="activity_callback", owner=owner, department=s.service_dept,
                         meta={"name": a["name"], "kind": a["kind"], **d.meta()}, **w.fields())]


def plan_emergency(ctx: PlanContext) -> list[PlanItem]:
    """P7: within one week of the emergency help."""
    t, s, sched, history = ctx.trigger, _settings(ctx), ctx.scheduler, ctx.history
    a = t.attributes
    d = decide(t.id, "emergency", s.emergency_sample_rate)
    if not d.sampled:
        return [d.skip("callback", "the emergency-help callback", "P7")]
    owner = staff(history, a.get("owner"), "--attr owner")
    w = sched.window(t.at, 0, s.emergency_due_days)
    return [PlannedVisit(key="callback", visit_type="emergency_callback", owner=owner, department=s.service_dept,
                         meta={**_attrs(a, "description", "unit"),
                               **(d.meta() if s.emergency_sample_rate < 1 else {})}, **w.fields())]


# -- P9 renovation works ---------------------------------------------------------------------------
PARTIES = ("designer", "inspector", "crew")


def plan_renovation_started(ctx: PlanContext) -> list[PlanItem]:
    """P9: at least three follow-ups per project: ~10 days after start, mid-term, at the expected
    completion. Designer, inspector and crew have an interest in the answers and never do them (G9)."""
    t, s, sched, history = ctx.trigger, _settings(ctx), ctx.scheduler, ctx.history
    a = t.attributes
    start, end = sched.local_day(t.at), date.fromisoformat(a["expected_end"])
    if end <= start:
        raise HuifangError(f"--attr expected_end: {end.isoformat()} is not after the start ({start.isoformat()}); "
                           f"give the planned completion date")
    owner = staff(history, a.get("owner"), "--attr owner")
    length = (end - start).days
    slack, first = s.renovation_slack_days, s.renovation_first_day
    meta = {**_attrs(a, "designer", "inspector", "crew", "unit"), "project": t.id, "expected_end": a["expected_end"]}
    excluded = [a[p] for p in PARTIES]
    plan = (("early", "renovation_early", max(0, first - slack), first + slack),
            ("midterm", "renovation_midterm", max(0, length // 2 - slack), length // 2 + slack),
            ("completion", "renovation_completion", length, length + s.renovation_completion_due_days))
    return [PlannedVisit(key=key, visit_type=vt, owner=owner, department=s.renovation_dept, excluded_staff=excluded,
                         meta=meta, **sched.window(t.at, o, d).fields()) for key, vt, o, d in plan]


def _project(t: TriggerInfo, history: History) -> dict[str, Any]:
    started = history.triggers(t.subject, P + "renovation_started")
    done = {completed_project(r, history, t.subject): r["code"]
            for r in history.triggers(t.subject, P + "renovation_completed")}
    wanted = t.attributes.get("project")
    if wanted:
        match = [r for r in started if r["code"] == wanted]
        if not match:
            raise HuifangError(f"--attr project: '{wanted}' is not a renovation_started trigger of subject {t.subject}")
        if wanted in done:
            raise Refused(f"P9: project {wanted} was already completed (trigger {done[wanted]})")
        return match[0]
    ongoing = [r for r in started if r["code"] not in done]
    if not ongoing:
        raise HuifangError(f"--attr project: subject {t.subject} has no ongoing renovation project; "
                           f"record renovation_started first")
    if len(ongoing) > 1:
        raise HuifangError(f"--attr project: subject {t.subject} has {len(ongoing)} ongoing projects "
                           f"({', '.join(r['code'] for r in ongoing)}): name one")
    return ongoing[0]


def completed_project(row: dict[str, Any], history: History, subject: str) -> str | None:
    """The project a renovation_completed trigger closed (named, or resolved and kept in its plan's meta)."""
    named = (row["attributes"] or {}).get("project")
    if named:
        return named
    for x in row.get("skipped") or []:
        if (x.get("meta") or {}).get("project"):
            return x["meta"]["project"]
    for r in history.followups(subject):
        if r["trigger"] == row["code"] and (r["meta"] or {}).get("project"):
            return r["meta"]["project"]
    return None


def plan_renovation_completed(ctx: PlanContext) -> list[PlanItem]:
    """P9: the completion visit follows the actual completion: a project finished outside the planned
    window is visited (again) from the actual date; warranty-period spot checks are sampled."""
    t, s, sched, history = ctx.trigger, _settings(ctx), ctx.scheduler, ctx.history
    project = _project(t, history)
    pa = project["attributes"] or {}
    owner = staff(history, t.attributes.get("owner"), "--attr owner") or _owner_of(history, t.subject, project["code"])
    actual = sched.local_day(t.at)
    meta = {**_attrs(pa, "designer", "inspector", "crew", "unit"), "project": project["code"],
            "expected_end": pa.get("expected_end"), "completed_on": actual.isoformat()}
    excluded = [pa[p] for p in PARTIES if pa.get(p)]
    out: list[PlanItem] = []
    planned = [r for r in history.followups(t.subject)
               if r["trigger"] == project["code"] and r["visit_type"] == "renovation_completion"]
    last = planned[-1] if planned else None
    covered = last is not None and _local(sched, last["window_open"]) <= actual <= _local(sched, last["due"])
    if last is not None and last["status"] in OPEN and covered:
        out.append(Skip(key="completion", reason=f"the planned completion visit {last['code']} covers the actual "
                                                 f"completion on {actual.isoformat()} (P9)", meta={"rule": "P9"}))
    elif last is not None and last["status"] == "completed" and actual <= _local(sched, last["due"]):
        out.append(Skip(key="completion", reason=f"completion already visited ({last['code']}) (P9)",
                        meta={"rule": "P9"}))
    else:
        if last is not None and last["status"] in OPEN:
            out.append(CloseFollowUp(followup=last["code"], reason=f"works completed on {actual.isoformat()}, not "
                                     f"as expected on {pa.get('expected_end')}: re-planned from the actual date (P9)"))
        w = sched.window(t.at, 0, s.renovation_completion_due_days)
        out.append(PlannedVisit(key="completion", visit_type="renovation_completion", owner=owner,
                                department=s.renovation_dept, excluded_staff=excluded,
                                meta={**meta, "replanned": last["code"] if last else None}, **w.fields()))
    for r in history.followups(t.subject):  # finished early: visits meant for the works in progress lapse
        if r["trigger"] == project["code"] and r["visit_type"] in ("renovation_early", "renovation_midterm") \
                and r["status"] in OPEN and _local(sched, r["window_open"]) > actual:
            out.append(CloseFollowUp(followup=r["code"], reason=f"works completed on {actual.isoformat()}, before "
                                     f"this visit's window: nothing left in progress to ask about (P9)"))
    checks = s.warranty_months // s.warranty_check_months
    for k in range(1, checks + 1):
        d = decide(t.id, f"warranty{k}", s.warranty_sample_rate)
        if not d.sampled:
            out.append(d.skip(f"warranty{k}", f"warranty spot check {k}", "P9"))
            continue
        first = add_months(actual, k * s.warranty_check_months)
        o = offset(sched, t.at, first)
        w = sched.window(t.at, o, o + s.warranty_check_days)
        out.append(PlannedVisit(key=f"warranty{k}", visit_type="warranty_check", owner=owner,
                                department=s.renovation_dept, excluded_staff=excluded,
                                meta={**meta, "check": k, **d.meta()}, **w.fields()))
    for x in out:  # every decision names the project it belongs to
        if isinstance(x, Skip):
            x.meta["project"] = project["code"]
    return out


def _owner_of(history: History, subject: str, project: str) -> str | None:
    for r in history.followups(subject):
        if r["trigger"] == project and r["owner"]:
            return r["owner"]
    return None


PLANS: dict[str, PlanFunction] = {
    "complaint_handled": plan_complaint,
    "repair_completed": plan_repair,
    "household_registered": plan_household,
    "household_left": plan_household_left,
    "satisfaction_survey": plan_satisfaction_survey,
    "service_contract": plan_service_contract,
    "activity_held": plan_activity,
    "emergency_aid": plan_emergency,
    "renovation_started": plan_renovation_started,
    "renovation_completed": plan_renovation_completed,
}
