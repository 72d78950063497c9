"""Plans of the aesthetics clinic: A1 consultations, A2 department curves, A3 windows, A6 package cycle,
A10 experience customers, membership rights.

Days are calendar days after the event (recovery does not pause at weekends, and clinics open seven
days a week). A3 windows are counted from the prompt day, that day included: a 2-day window prompted on
day 3 is due at the end of day 4. Official public holidays are off for calls (G6): a non-clinical window
day on one moves to the next day that is not; the clinical steps in `holiday_fixed_visits` (dressing,
day-3 care, stitch removal, scab) keep their day, since a wound does not wait for the holiday: their
visit types declare that clinical exception, and their attempts count on any day (G6).

Steps of one treatment that fall on the same day for the same person are one contact with every step's
script (A2: the injectables' week-2 check and top-up reminder), and the windows of one plan never
overlap out of order (A10: the first experience call is due no later than the second)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from huifang.core.plugin_api import (
    FollowUpInfo,
    Guide,
    History,
    PlanContext,
    PlanFunction,
    PlanItem,
    PlannedVisit,
    PlanVisit,
    PluginError,
    Reaction,
    Refused,
    Scheduler,
    Skip,
    SubjectInfo,
    Warn,
    clock,
)

from .grades import grade
from .ownership import owner_for
from .settings import AestheticsSettings
from .surveys import CLINICAL, MARKETING_KINDS, SCRIPTS, kind_of

NAME = "aesthetics"


def window_days(settings: AestheticsSettings, visit_type: str, experience_grade: int | None = None) -> int:
    kind = kind_of(visit_type)
    w = settings.windows
    if kind == "experience":
        return w.experience_grade2 if experience_grade == 2 else w.experience_grade1
    days: int = getattr(w, kind)
    return days


def calendar_window(scheduler: Scheduler, start: datetime, day: int, due_day: int,
                    visit_type: str) -> dict[str, Any]:
    """Window fields on calendar days with no holiday roll (the clinical steps of A2): it opens at the
    first calling window of its day, holiday or not, under the visit type's declared clinical exception
    (G6). Nothing to re-plan when an official calendar arrives."""
    base = scheduler.local_day(start)
    due = base + timedelta(days=due_day)
    opens = min(base + timedelta(days=day), due)
    first = scheduler.opening(opens).timetz()  # the first calling window's start, whichever day
    opened = max(datetime.combine(opens, first), start)  # never before the event itself
    if opened == start and scheduler.slot_of(start) is None:  # prompted the same day, between windows
        opened = scheduler.next_slot(start)
    if opened > scheduler.end_of(due):
        opened = datetime.combine(due, first)
    return {"window_open": opened, "due": scheduler.end_of(due), "provisional": False, "window_rule": None,
            "clinical_exception": CLINICAL[visit_type]}


def window(scheduler: Scheduler, settings: AestheticsSettings, start: datetime, visit_type: str, day: int,
           last_day: int | None = None, experience_grade: int | None = None,
           cap: date | None = None) -> dict[str, Any]:
    """PlannedVisit window fields for a step prompted `day` days after `start` (A3 length unless the
    curve gives its own last day, e.g. surgery 7–15); `cap` is the latest due day."""
    due_day = last_day if last_day is not None else day + window_days(settings, visit_type, experience_grade) - 1
    if visit_type in settings.holiday_fixed_visits:
        return calendar_window(scheduler, start, day, due_day, visit_type)
    return scheduler.window(start, day, due_day, cap=cap).fields()


def visit(key: str, visit_type: str, attrs: dict[str, Any], settings: AestheticsSettings, fields: dict[str, Any],
          department: str | None = None, meta: dict[str, Any] | None = None) -> PlannedVisit:
    owner, role = owner_for(visit_type, attrs, settings)
    return PlannedVisit(key=key, visit_type=visit_type, owner=owner, owner_role=role, department=department,
                        meta={"a3_kind": kind_of(visit_type), **(meta or {})}, **fields)


# -- A9 grades -------------------------------------------------------------------------------------------
def client_grade(history: History, subject: SubjectInfo, settings: AestheticsSettings,
                 extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A9 grade of a subject now, from its procedure triggers (+ `extra`, a trigger being planned) and
    its file's blacklist flag; months are counted in the subject's time zone."""
    rows = history.triggers(subject.id)
    if extra:
        rows = [*rows, extra]
    return grade(rows, subject.attributes, clock.now(), subject.tz, settings)


def client_of(history: History, code: str, settings: AestheticsSettings, tz: str) -> dict[str, Any]:
    """client_grade for a subject a hook was not handed (reactions): its file read through history."""
    return client_grade(history, history.subject(code) or SubjectInfo(id=code, tz=tz), settings)


def is_marketing(visit_type: str) -> bool:
    return kind_of(visit_type) in MARKETING_KINDS


# -- A2 department curves ------------------------------------------------------------------------------
def procedure_steps(a: dict[str, Any], settings: AestheticsSettings) -> list[tuple[str, str, int, int | None]]:
    """(key, visit type, prompt day, last day or None) of one treatment's curve."""
    dept = a["department"]
    steps: list[tuple[str, str, int, int | None]] = []
    if dept == "surgery":
        c = settings.surgery
        steps += [("dressing", "dressing_reminder", c.dressing_day, None),
                  ("care", "post_op_care", c.care_day, None),
                  ("recovery", "recovery_care", c.recovery_from, max(c.recovery_from, c.recovery_to)),
                  ("recheck", "recheck_invite", c.recheck_day, None),
                  ("result", "result_check", c.result_day, None)]
    elif dept == "skin":
        steps.append(("care", "treatment_care", 1, None))
        for i, d in enumerate(a.get("scab_days") or settings.skin_scab_days, 1):
            steps.append((f"scab{i}", "scab_check", d, None))
    elif dept == "injectables":
        steps.append(("care", "treatment_care", 1, None))
        for k in range(1, settings.injectables_weeks + 1):
            steps.append((f"week{k}", "weekly_check", 7 * k, None))
        steps.append(("topup", "topup_reminder", settings.injectables_topup_day, None))
    else:  # dental, tcm, noninvasive: care, guidance, result (no department curve in the sources)
        days = settings.other_curve_days
        for i, d in enumerate(days):
            if i == 0:
                steps.append(("care", "treatment_care", d, None))
            elif i == len(days) - 1:
                steps.append(("result", "result_check", d, None))
            else:
                steps.append((f"guidance{i if len(days) > 3 else ''}", "guidance", d, None))
    removal, _ = stitch_removal(a, settings)
    if removal:  # the day before stitch removal, by the ward nurse
        steps.append(("stitch", "stitch_reminder", removal - 1, None))
    return sorted(steps, key=lambda s: (s[2], s[0]))


def stitch_removal(a: dict[str, Any], settings: AestheticsSettings) -> tuple[int | None, str | None]:
    """A2 拆线前一天: the stitch-removal day of a treatment, and a warning when it is assumed. A surgery
    that gives none takes the procedure catalogue's day for its item (0: no stitches) or the curve's
    default, so the call the day before removal is never silently lost; `stitches=false` says there are
    none. The warning names no attribute value (the item is personal data, G8)."""
    if a.get("stitch_removal_day"):
        return int(a["stitch_removal_day"]), None
    if a.get("department") != "surgery" or a.get("stitches") is False:
        return None, None
    listed = settings.stitch_catalogue.get(a.get("item") or "")
    if listed == 0 and a.get("stitches") is None:
        return None, None
    day = listed or settings.surgery.stitch_removal_day
    source = "the procedure catalogue's day for its item" if listed else "the default surgery stitch-removal day"
    return day, (f"A2: no stitch_removal_day given: stitches out on day {day} ({source}); the reminder the day "
                 f"before (拆线前一天) is planned for day {day - 1}: amend the trigger if the doctor set another "
                 f"day, or give stitches=false")


# A3 kinds in order of precedence: the step whose survey a merged contact keeps (its care questions)
MERGE_PRECEDENCE = ("professional", "emotional", "revisit")


def merge_same_day(visits: list[PlannedVisit], scheduler: Scheduler) -> list[PlannedVisit]:
    """A2: steps of one treatment that open on the same day for the same person are one contact: the
    step of the first kind in MERGE_PRECEDENCE keeps its key, visit type and survey; the window is due
    at the earliest deadline (a reminder must not come after its day); every step's script is on it."""
    groups: dict[tuple[date, str | None], list[PlannedVisit]] = {}
    for v in visits:
        groups.setdefault((scheduler.local_day(v.window_open), v.owner), []).append(v)
    out: list[PlannedVisit] = []
    for v in visits:
        group = groups[(scheduler.local_day(v.window_open), v.owner)]
        if len(group) == 1:
            out.append(v)
            continue
        main = min(group, key=lambda g: (_precedence(g.visit_type), group.index(g)))
        if v is not main:
            continue
        others = [g for g in group if g is not main]
        meta = {**main.meta, "merged": [{"key": g.key, "visit_type": g.visit_type} for g in others]}
        for g in others:  # A6: the cycle goes on from whichever step was the treatment's last
            if g.meta.get("last_step"):
                meta.update({k: val for k, val in g.meta.items() if k not in ("step", "day", "last_day", "a3_kind")})
        out.append(main.model_copy(update={
            "due": min(g.due for g in group), "meta": meta,
            "warnings": [w for g in group for w in g.warnings],
            "guides": [Guide(title=SCRIPTS[g.visit_type][0], lines=[SCRIPTS[g.visit_type][1]])
                       for g in (main, *others) if g.visit_type in SCRIPTS]}))
    return out


def _precedence(visit_type: str) -> int:
    kind = kind_of(visit_type)
    return MERGE_PRECEDENCE.index(kind) if kind in MERGE_PRECEDENCE else len(MERGE_PRECEDENCE)


def plan_procedure(ctx: PlanContext) -> list[PlanItem]:
    """A2: the department's curve; the last step carries the A6 cycle (session, package size)."""
    trigger, settings = ctx.trigger, ctx.settings
    a = trigger.attributes
    steps = procedure_steps(a, settings)
    last = max(steps, key=lambda s: (s[3] or s[2], s[2]))[0]
    cycle = {"treated_at": trigger.at.isoformat(), "session": a.get("session", 1),
             "package_sessions": a.get("package_sessions") or 1}
    _, assumed = stitch_removal(a, settings)
    visits = [visit(key, vt, a, settings, window(ctx.scheduler, settings, trigger.at, vt, day, last_day),
                    a["department"], {"step": key, "day": day, **({"last_day": last_day} if last_day else {}),
                                      **({"last_step": True, **cycle} if key == last else {})})
              for key, vt, day, last_day in steps]
    if assumed:
        visits = [v.model_copy(update={"warnings": [assumed]}) if v.key == "stitch" else v for v in visits]
    return list(merge_same_day(visits, ctx.scheduler))


# -- A6 treatment cycle ------------------------------------------------------------------------------
def next_in_cycle(followup: FollowUpInfo, settings: AestheticsSettings, scheduler: Scheduler,
                  client: dict[str, Any]) -> list[Reaction]:
    """On completion of a treatment's last curve step: a package with sessions left gets the re-visit
    reminder before the next session (复诊提醒 → 第二次治疗); the end of the cycle starts the marketing
    phase (第二次营销开发), never for a blacklisted client (A9)."""
    meta = followup.meta
    a = followup.trigger_attributes
    now = clock.now()
    session, total = int(meta.get("session", 1)), int(meta.get("package_sessions", 1))
    if session < total:
        interval = a.get("interval_days") or settings.package_interval_days
        treated = datetime.fromisoformat(meta["treated_at"])
        fields = window(scheduler, settings, treated, "next_session_reminder", interval - 1)
        if fields["due"] < now:  # the next session is already due: remind from tomorrow
            fields = window(scheduler, settings, now, "next_session_reminder", 1)
        pv = visit("next-session", "next_session_reminder", a, settings, fields, a.get("department"),
                   {"session": session, "next_session": session + 1, "package_sessions": total})
        return [PlanVisit(visit=pv)]
    if client["blacklisted"]:
        return [Warn(message=f"A9: {followup.subject} is blacklisted ({client['blacklist_reason']}): "
                             f"no marketing phase after the cycle")]
    pv = visit("marketing", "marketing", a, settings, window(scheduler, settings, now, "marketing", 1),
               a.get("department"), {"phase": "after_cycle", "grade": client["grade"],
                                     "package_sessions": total})
    return [PlanVisit(visit=pv)]


# -- A1, A3, A10 -------------------------------------------------------------------------------------
def plan_consultation(ctx: PlanContext) -> list[PlanItem]:
    """A1: not came -> 未上门, came but did not buy -> 未成交 (marketing: never for the blacklisted, A9)."""
    a, settings = ctx.trigger.attributes, ctx.settings
    if a["purchased"]:
        return [Skip(key="consultation", reason="purchased: the procedure trigger plans the follow-ups (A2)")]
    vt = "not_visited" if not a["came"] else "not_purchased"
    client = client_grade(ctx.history, ctx.subject, settings)
    if client["blacklisted"]:
        return [Skip(key=vt, reason=f"A9: blacklisted ({client['blacklist_reason']}): no marketing follow-up")]
    fields = window(ctx.scheduler, settings, ctx.trigger.at, vt, settings.consultation_prompt_day)
    return [visit(vt, vt, a, settings, fields, a.get("department") or "consultation",
                  {"channel": a["channel"], "grade": client["grade"], "item": a.get("item")})]


def plan_activity(ctx: PlanContext) -> list[PlanItem]:
    """A1 activity notice; A3/A7: the (batch_threshold + 1)-th client of one activity must be a campaign."""
    a, settings = ctx.trigger.attributes, ctx.settings
    client = client_grade(ctx.history, ctx.subject, settings)
    if client["blacklisted"]:
        return [Skip(key="activity", reason=f"A9: blacklisted ({client['blacklist_reason']}): no marketing")]
    others = activity_subjects(ctx.history, a["activity"]) - {ctx.trigger.subject}
    if len(others) >= settings.batch_threshold:
        raise Refused(f"A3/A7: activity '{a['activity']}' already reaches {len(others)} clients; more than "
                      f"{settings.batch_threshold} is a batch: request a campaign (huifang campaign request FILE)")
    fields = window(ctx.scheduler, settings, ctx.trigger.at, "activity", settings.activity_prompt_day)
    return [visit("activity", "activity", a, settings, fields, a.get("department") or "marketing",
                  {"activity": a["activity"], "grade": client["grade"]})]


def activity_subjects(history: History, activity: str) -> set[str]:
    """The clients one activity has already been announced to (A3: up to batch_threshold)."""
    return {r["subject"] for r in history.triggers_of_kind(f"{NAME}.activity")
            if (r.get("attributes") or {}).get("activity") == activity}


def plan_experience(ctx: PlanContext) -> list[PlanItem]:
    """A10: first follow-up on day 3 (A3 window by grade: 7 or 15 days, never due after the second),
    second on day 8-15."""
    a, settings, at = ctx.trigger.attributes, ctx.settings, ctx.trigger.at
    g = a["grade"]
    second = window(ctx.scheduler, settings, at, "experience_second", settings.experience_second_from,
                    max(settings.experience_second_from, settings.experience_second_to))
    # the windows of one plan never overlap out of order: the first call is due no later than the second
    # (grade 2's 15 days from day 3 would end after the second call's day 8-15)
    first = window(ctx.scheduler, settings, at, "experience_first", settings.experience_first_day,
                   experience_grade=g, cap=ctx.scheduler.local_day(second["due"]))
    return [visit("first", "experience_first", a, settings, first, "member_centre", {"grade": g}),
            visit("second", "experience_second", a, settings, second, "member_centre", {"grade": g})]


def plan_membership(ctx: PlanContext) -> list[PlanItem]:
    """A3: membership rights followed up within 15 days."""
    a, settings = ctx.trigger.attributes, ctx.settings
    fields = window(ctx.scheduler, settings, ctx.trigger.at, "membership_rights", settings.membership_prompt_day)
    return [visit("rights", "membership_rights", a, settings, fields, "member_centre", {"card": a.get("card")})]


def plan_campaign(ctx: PlanContext) -> list[PlanItem]:
    """A7: campaign targets are planned by an approved campaign only (`huifang campaign approve`)."""
    raise PluginError(f"A7: campaign follow-ups are planned only by an approved campaign (huifang campaign "
                      f"request FILE, then review and approve), not by 'trigger {ctx.trigger.kind}'")


PLANS: dict[str, PlanFunction] = {
    "consultation": plan_consultation,
    "procedure": plan_procedure,
    "experience": plan_experience,
    "membership_granted": plan_membership,
    "activity": plan_activity,
    "campaign": plan_campaign,
}
