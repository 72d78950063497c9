"""Plans: the follow-ups each property trigger creates (P1–P7, P9), with skips an auditor can read."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from huifang.core.plugin_api import (
    OPEN,
    CloseFollowUp,
    Draw,
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


def draw(ctx: PlanContext, purpose: str, rate: float, rule: str, stratum: str = "") -> Draw:
    """G17: the store's keyed draw of this trigger for `purpose`; `rate` is a floor per `sample_period`
    and stratum, which `tick` tops up from the visits left out on standby (Draw.take)."""
    return ctx.scheduler.sample(purpose, ctx.trigger.id, rate, rule=rule, at=ctx.trigger.at,
                                period=_settings(ctx).sample_period, stratum=stratum)


# -- P1 complaints ---------------------------------------------------------------------------------
def plan_complaint(ctx: PlanContext) -> list[PlanItem]:
    """100% callback within 3 days of handling; major -> the manager; general -> the complained
    department's supervisor, and a keyed sample (a floor of `recheck_rate` per period, G17) re-checked
    by the customer-service supervisor."""
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
    callback = PlannedVisit(key="callback", visit_type="complaint_callback", owner=owner, owner_role="supervisor",
                            department=a["dept"], meta=meta, **w.fields())
    supervisor = staff(history, s.supervisor, "plugins.property.supervisor")
    if supervisor is None and owner:  # the callback owner's own supervisor
        boss = history.staff(owner)
        supervisor = boss["reports_to"] if boss else None
    if supervisor == owner:
        supervisor = None
    recheck = PlannedVisit(key="recheck", visit_type="complaint_recheck", owner=supervisor, owner_role="supervisor",
                           department=a["dept"], excluded_staff=[owner] if owner else [], meta=dict(meta),
                           **w.fields())
    return [callback, draw(ctx, "complaint_recheck", s.recheck_rate, "P1").take(recheck, "the supervisor's re-check")]


# -- P2 repairs ------------------------------------------------------------------------------------
def plan_repair(ctx: PlanContext) -> list[PlanItem]:
    """The dispatch centre calls back a keyed sample (default 90%, a floor per period, G17) within 3
    days; the worker who did the repair never does the callback (G9)."""
    t, s, sched, history = ctx.trigger, _settings(ctx), ctx.scheduler, ctx.history
    a = t.attributes
    field = "--attr owner" if a.get("owner") else "plugins.property.dispatcher"
    owner = staff(history, a.get("owner") or s.dispatcher, field)
    if owner == a["worker"]:
        raise Refused(f"G9: {owner} did the repair and cannot call it back; name another --attr owner")
    w = sched.window(t.at, s.repair_open_days, s.repair_due_days)
    visit = PlannedVisit(key="callback", visit_type="repair_callback", owner=owner, owner_role="agent",
                         department="dispatch", excluded_staff=[a["worker"]],
                         meta={**_attrs(a, "category", "worker", "unit"), "round": 0}, **w.fields())
    return [draw(ctx, "repair", s.repair_sample_rate, "P2").take(visit, "the repair callback")]


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
               owner: str | None, project: str | None = None) -> PlannedVisit:
    """Visit `period` (1, 2, …) falls anywhere in its part of the year: two a year = one per half-year."""
    months = 12 // s.home_visits_per_year
    start = sched.local_day(registered_at)
    first = add_months(start, (period - 1) * months)
    last = date.fromordinal(add_months(start, period * months).toordinal() - 1)
    w = window_between(sched, registered_at, first, last)
    return PlannedVisit(key=f"visit{period}", visit_type="home_visit", owner=owner, owner_role="agent",
                        channel="home_visit", department="customer_service",
                        meta={"unit": unit, "period": period, "registered_at": registered_at.isoformat(),
                              **({"project": project} if project else {})},
                        **w.fields())


def plan_household(ctx: PlanContext) -> list[PlanItem]:
    """P3: home visits twice a year from registration, `home_visit_horizon` periods planned ahead.
    P4: the household's yearly satisfaction survey, `survey_horizon` years ahead (one a year)."""
    t, s, sched, history = ctx.trigger, _settings(ctx), ctx.scheduler, ctx.history
    a = t.attributes
    active = active_registration(history, t.subject, a["unit"])
    if active is not None:
        return [Skip(key="home_visits", reason=f"unit {a['unit']} is already registered by trigger {active['code']} "
                                               f"and has not left: its home visits continue (P3)",
                     meta={"rule": "P3", "registration": active["code"]})]
    owner = staff(history, a.get("owner"), "--attr owner")
    visits: list[PlanItem] = [home_visit(t.at, k, s, sched, a["unit"], owner, a.get("project"))
                              for k in range(1, s.home_visit_horizon + 1)]
    household = [t.subject, *unit_registrations(history, t.subject, a["unit"])]
    return visits + surveys_ahead(t.at, sched.local_day(t.at), s, sched, a["unit"], owner, a.get("project"),
                                  history, household)


# -- P4 yearly satisfaction survey of every household ------------------------------------------------
def building(unit: str) -> str:
    """The building of a unit code: the part before the first '-' (3-1502 -> 3)."""
    return unit.split("-", 1)[0] if "-" in unit else unit


def survey_season(s: PropertySettings, year: int) -> tuple[date, date]:
    """P4: the survey season of `year` (default 12-01 .. 12-28: the questionnaire at the year's end)."""
    return date(year, s.survey_month, 1), date(year, s.survey_month, s.survey_due_day)


def survey_years(s: PropertySettings, registered: date, today: date, after: int | None = None) -> list[int]:
    """The years whose survey a household registered on `registered` has planned on `today`: from the
    first season opening after registration, every season not yet closed (and after the year `after`,
    one just answered), `survey_horizon` of them."""
    first = registered.year if registered < survey_season(s, registered.year)[0] else registered.year + 1
    start = max(first, today.year if today <= survey_season(s, today.year)[1] else today.year + 1,
                after + 1 if after is not None else first)
    return list(range(start, start + s.survey_horizon))


def yearly_survey(registered_at: datetime, year: int, s: PropertySettings, sched: Scheduler, unit: str,
                  owner: str | None, project: str | None) -> PlannedVisit:
    first, last = survey_season(s, year)
    w = window_between(sched, registered_at, first, last)
    return PlannedVisit(key=f"survey{year}", visit_type="yearly_survey", owner=owner, owner_role="agent",
                        channel=s.survey_channel, department=s.service_dept,
                        meta={"unit": unit, "building": building(unit), "year": year, "track": "P4",
                              "registered_at": registered_at.isoformat(), **({"project": project} if project else {})},
                        **w.fields())


def unit_registrations(history: History, subject: str, unit: str) -> list[str]:
    """Other subjects registered for the same unit (the household's other members): P4 counts surveys
    per household, not per person."""
    return sorted({r["subject"] for r in history.triggers_of_kind(P + "household_registered")
                   if r["subject"] != subject and (r["attributes"] or {}).get("unit") == unit})


def survey_of(history: History, subjects: list[str], unit: str, year: int) -> str | None:
    """The household's survey of `year` that stands (open or done; a cancelled one does not)."""
    for sub in subjects:
        for r in history.followups(sub):
            m = r["meta"] or {}
            if r["visit_type"] == "yearly_survey" and m.get("unit") == unit and m.get("year") == year \
                    and r["status"] != "cancelled":
                return str(r["code"])
    return None


def surveys_ahead(registered_at: datetime, today: date, s: PropertySettings, sched: Scheduler, unit: str,
                  owner: str | None, project: str | None, history: History, household: list[str],
                  after: int | None = None) -> list[PlanItem]:
    """P4: the yearly surveys due to be planned on `today`, one a year per household: a year the unit
    already has a standing survey for (an earlier registration, another member in `household`) is a
    Skip naming it."""
    out: list[PlanItem] = []
    for year in survey_years(s, sched.local_day(registered_at), today, after):
        held = survey_of(history, household, unit, year)
        if held is not None:
            out.append(Skip(key=f"survey{year}", reason=f"unit {unit} already has its {year} satisfaction survey "
                                                        f"({held}): one a year per household (P4)",
                            meta={"rule": "P4", "survey": held}))
        else:
            out.append(yearly_survey(registered_at, year, s, sched, unit, owner, project))
    return out


def plan_household_left(ctx: PlanContext) -> list[PlanItem]:
    """P3: the household left: every open home visit (and P4 yearly survey) of that unit, or of every
    unit, is cancelled."""
    t = ctx.trigger
    unit = t.attributes.get("unit")
    codes = [r["code"] for r in ctx.history.followups(t.subject)
             if r["trigger_kind"] == P + "household_registered" and r["visit_type"] in ("home_visit", "yearly_survey")
             and r["status"] in OPEN and (unit is None or (r["meta"] or {}).get("unit") == unit)]
    what = f"unit {unit}" if unit else "every unit"
    reason = f"household left {what}" + (f" ({t.attributes['reason']})" if t.attributes.get("reason") else "") + \
        ": home visits and surveys stop (P3, P4)"
    return [*(CloseFollowUp(followup=c, reason=reason) for c in codes),
            Skip(key="home_visits", reason=f"household left {what}: {len(codes)} open home visit(s) and survey(s) "
                                           f"cancelled (P3, P4)", meta={"rule": "P3", "cancelled": codes})]


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
    owner = staff(history, a.get("owner"), "--attr owner")
    mid = date.fromordinal(start.toordinal() + (end - start).days // 2)
    meta = {**_attrs(a, "service", "unit"), "start": a["start"], "end": a["end"]}
    days = s.contract_window_days
    out: list[PlannedVisit] = []
    for key, vt, first in (("midterm", "contract_midterm", mid), ("end", "contract_end", end)):
        w = window_between(sched, t.at, first, date.fromordinal(first.toordinal() + days))
        out.append(PlannedVisit(key=key, visit_type=vt, owner=owner, department=s.service_dept, meta=meta,
                                **w.fields()))
    if s.contract_sample_rate >= 1:  # 100% (default): nothing to draw
        return [*out]
    d = draw(ctx, "contract", s.contract_sample_rate, "P5")
    return [d.take(v, f"the {'mid-term' if v.key == 'midterm' else 'end'} callback") for v in out]


# -- P6 activities, P7 emergency help --------------------------------------------------------------
def plan_activity(ctx: PlanContext) -> list[PlanItem]:
    """P6: a keyed sample (default 10%, a floor per period and activity, G17) of the participants,
    within one month."""
    t, s, sched, history = ctx.trigger, _settings(ctx), ctx.scheduler, ctx.history
    a = t.attributes
    owner = staff(history, a.get("owner"), "--attr owner")
    day = sched.local_day(t.at)
    w = window_between(sched, t.at, day, add_months(day, s.activity_due_months))
    visit = PlannedVisit(key="callback", visit_type="activity_callback", owner=owner, department=s.service_dept,
                         meta={"name": a["name"], "kind": a["kind"]}, **w.fields())
    return [draw(ctx, "activity", s.activity_sample_rate, "P6", stratum=a["name"])
            .take(visit, f"the {a['kind']} callback")]


def plan_emergency(ctx: PlanContext) -> list[PlanItem]:
    """P7: within one week of the emergency help."""
    t, s, sched, history = ctx.trigger, _settings(ctx), ctx.scheduler, ctx.history
    a = t.attributes
    owner = staff(history, a.get("owner"), "--attr owner")
    w = sched.window(t.at, 0, s.emergency_due_days)
    visit = PlannedVisit(key="callback", visit_type="emergency_callback", owner=owner, department=s.service_dept,
                         meta=_attrs(a, "description", "unit"), **w.fields())
    if s.emergency_sample_rate >= 1:  # 100% (default): nothing to draw
        return [visit]
    return [draw(ctx, "emergency", s.emergency_sample_rate, "P7").take(visit, "the emergency-help callback")]


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
        first = add_months(actual, k * s.warranty_check_months)
        o = offset(sched, t.at, first)
        w = sched.window(t.at, o, o + s.warranty_check_days)
        visit = PlannedVisit(key=f"warranty{k}", visit_type="warranty_check", owner=owner,
                             department=s.renovation_dept, excluded_staff=excluded, meta={**meta, "check": k},
                             **w.fields())
        out.append(draw(ctx, f"warranty{k}", s.warranty_sample_rate, "P9").take(visit, f"warranty spot check {k}"))
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
