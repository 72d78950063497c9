"""Medical rules on the plugin API's fakes (no store): M1/M2 plan windows on the 2026 holiday calendar
(G6: hospital calling windows 10:00–12:00 and 15:00–17:00, no calls on public holidays or weekends),
M3/M4 curves (first calls, adaptive intervals, missed calls, G7 refusals), M5 recalls and reminders,
M6 recovery templates, M7/G16 tickets and M9 owners. Story tests through the CLI and the store:
tests/test_medical_*.py."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from huifang.core.plugin_api import CloseFollowUp, OpenTicket, PlannedVisit, PlanVisit, Skip, TriggerInfo, Warn, testing
from huifang.plugins.medical import curve, plugin
from huifang.plugins.medical.reactions import ticket_categories

S = testing.settings_of(plugin)
DISCHARGE = {"department": "cardiology", "diagnosis": "CHD", "responsible_nurse": "n1", "attending_doctor": "dr1"}
MON = "2026-11-02T09:00:00+08:00"  # a Monday with no holiday in the following three weeks

GOOD = {"previous_effect": "effective", "adherence": "good", "controlled": "yes", "symptoms": "none"}
PARTIAL = {**GOOD, "adherence": "partial"}
POOR = {**GOOD, "adherence": "poor"}
FIRST = {"previous_effect": "no_previous_call"}
DISCHARGE_GOOD = {"recovery": 8, "adherence": "good", "symptoms": "none", "satisfaction": "满意"}


def plan(kind: str, at: str = MON, history: testing.FakeHistory | None = None, **attrs: Any
         ) -> tuple[TriggerInfo, list[Any]]:
    """The trigger as the engine builds it and what the plan returns for it."""
    return testing.trigger(plugin, kind, attrs, at=at), testing.plan(plugin, kind, attrs, at=at, history=history)


def first(kind: str, at: str = MON, **attrs: Any) -> tuple[TriggerInfo, PlannedVisit]:
    info, items = plan(kind, at, **attrs)
    [visit] = testing.visits(items)
    return info, visit


def window(v: PlannedVisit) -> tuple[str, str]:
    return v.window_open.isoformat(), v.due.isoformat()


def days(v: PlannedVisit) -> tuple[str, str]:
    return v.window_open.date().isoformat(), v.due.date().isoformat()


def complete(info: TriggerInfo, visit: PlannedVisit, at: str, answers: dict[str, Any],
             history: testing.FakeHistory | None = None, owner: str | None = None) -> list[Any]:
    """The reactions to `visit` reached at `at` and answered with `answers`."""
    fu = testing.followup(info, visit, status="completed", answers=answers,
                          attempts=[{"channel": visit.channel, "outcome": "reached", "at": at}])
    if owner:
        fu = fu.model_copy(update={"owner": owner})
    return list(plugin.huifang_on_completed(followup=fu, answers=answers, settings=S, scheduler=testing.scheduler(S),
                                            history=history or testing.FakeHistory()))


def attempts(info: TriggerInfo, visit: PlannedVisit, *tries: tuple[str, str]) -> list[Any]:
    """The reactions to the last of `tries` ((at, outcome), …) on `visit`."""
    fu = testing.followup(info, visit, attempts=[{"channel": visit.channel, "outcome": o, "at": at} for at, o in tries])
    return list(plugin.huifang_on_attempt(followup=fu, attempt=fu.attempts[-1], settings=S,
                                          scheduler=testing.scheduler(S)))


def planned(reactions: list[Any]) -> PlannedVisit:
    [visit] = [r.visit for r in reactions if isinstance(r, PlanVisit)]
    return visit


def test_medical_conforms_to_the_plugin_api():
    testing.assert_conforms(plugin)


# -- M1, M6, M9 ---------------------------------------------------------------------------------------------
def test_m1_m9_first_followup_one_week_after_discharge_by_the_responsible_nurse():
    _, v = first("discharge", **DISCHARGE)
    # Mon 11-02 + 7 = Mon 11-09, first hospital window (G6); + 10 days = Thu 11-12 (000 §8)
    assert window(v) == ("2026-11-09T10:00:00+08:00", "2026-11-12T23:59:59+08:00")
    assert (v.key, v.visit_type, v.owner, v.owner_role, v.department) == \
        ("1", "discharge_first", "n1", "nurse", "cardiology")
    assert v.meta["attending_doctor"] == "dr1" and "curve" not in v.meta and not v.provisional


def test_m1_g6_window_stretches_over_national_day():
    # Mon 09-21 + 7 = Mon 09-28 (workday); + 10 = Thu 10-01 (National Day) -> first workday Thu 10-08
    _, v = first("discharge", at="2026-09-21T15:00:00+08:00", **DISCHARGE)
    assert window(v) == ("2026-09-28T10:00:00+08:00", "2026-10-08T23:59:59+08:00")


@pytest.mark.parametrize("diagnosis,surgery,template", [
    ("fracture", True, "fracture"), ("cholecystectomy", True, "surgery"), ("gastritis", False, "default"),
])
def test_m6_recovery_score_template_per_disease(diagnosis, surgery, template):
    _, v = first("discharge", **{**DISCHARGE, "diagnosis": diagnosis, "surgery": surgery})
    assert v.meta["recovery_template"] == {"name": template, "title": S.recovery_template_names[template],
                                           "score_guide": S.recovery_templates[template]}


def test_m6_surveys_have_at_most_five_questions():
    vts = {vt.name: vt for vt in plugin.huifang_visit_types()}
    assert all(len(vt.survey.questions) <= 5 for vt in vts.values())  # G18
    assert [q.key for q in vts["discharge_first"].survey.questions] == \
        ["recovery", "adherence", "lifestyle", "symptoms", "satisfaction"]
    assert [q.key for q in vts["discharge_first"].survey.record_fields] == ["health_guidance", "suggestion"]
    assert vts["chronic_diabetes"].survey.questions[0].key == "previous_effect"  # M4


# -- M2 -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("specialist,expected", [
    (True, ("2026-11-09T10:00:00+08:00", "2026-11-12T23:59:59+08:00")),  # + 7, open 3 more days
    (False, ("2026-11-12T10:00:00+08:00", "2026-11-16T23:59:59+08:00")),  # + 10; + 13 = Sun 11-15 -> Mon 11-16
])
def test_m2_outpatient_first_visit_after_7_or_10_days(specialist, expected):
    _, v = first("outpatient_visit", department="cardiology", specialist=specialist, first_visit=True)
    assert v.visit_type == "outpatient_first" and window(v) == expected and v.owner is None  # shared queue


def test_m2_return_visit_is_not_followed_up():
    _, items = plan("outpatient_visit", department="cardiology", specialist=True, first_visit=False)
    [skip] = items
    assert isinstance(skip, Skip) and skip.reason.startswith("M2")


# -- M5 -----------------------------------------------------------------------------------------------------
def test_m5_findings_plan_a_targeted_recall_once_the_report_is_out():
    _, v = first("health_check", findings="lipids,nodule,lipids", responsible_nurse="n1")
    assert (v.key, v.visit_type, v.owner, v.department) == ("recall", "health_check_recall", "n1", "health_management")
    assert window(v) == ("2026-11-05T10:00:00+08:00", "2026-11-12T23:59:59+08:00")  # + 3, due + 10
    assert v.meta["findings"] == ["lipids", "nodule"] and set(v.meta["advice"]) == {"lipids", "nodule"}


def test_m5_no_findings_no_recall():
    _, items = plan("health_check", findings=[])
    assert [type(i) for i in items] == [Skip] and items[0].reason.startswith("M5")


def recall() -> tuple[TriggerInfo, PlannedVisit]:
    return first("health_check", findings=["lipids"], responsible_nurse="n2")


def test_m5_not_yet_reexamined_plans_one_reminder_thirty_days_later():
    info, v = recall()
    reminder = planned(complete(info, v, "2026-11-05T10:30:00+08:00", {"reexamined": "booked"}))
    # 11-05 + 30 = Sat 12-05 -> Mon 12-07; + 37 = Sat 12-12 -> Mon 12-14
    assert window(reminder) == ("2026-12-07T10:00:00+08:00", "2026-12-14T23:59:59+08:00")
    assert (reminder.key, reminder.visit_type, reminder.owner) == ("reminder", "reexam_reminder", "n2")
    assert reminder.meta["findings"] == ["lipids"]
    assert complete(info, reminder, "2026-12-07T10:30:00+08:00", {"reexamined": "no"}) == []  # no endless chain


def test_m5_reexamined_answer_or_outpatient_visit_needs_no_reminder():
    info, v = recall()
    assert complete(info, v, "2026-11-05T10:30:00+08:00", {"reexamined": "yes"}) == []
    visited = testing.FakeHistory(triggers=[{"code": "OV", "subject": "S1", "kind": "medical.outpatient_visit",
                                             "occurred_at": "2026-11-04T01:00:00+00:00",
                                             "attributes": {"department": "cardiology", "exams": ["lipids"]}}])
    assert complete(info, v, "2026-11-05T10:30:00+08:00", {"reexamined": "no"}, history=visited) == []
    elsewhere = testing.FakeHistory(triggers=[{"code": "OV", "subject": "S2", "kind": "medical.outpatient_visit",
                                               "occurred_at": "2026-11-04T01:00:00+00:00"}])
    assert planned(complete(info, v, "2026-11-05T10:30:00+08:00", {"reexamined": "no"}, history=elsewhere))


def test_m5_outpatient_visit_cancels_the_pending_reminder():
    rows = [{"code": "HC-reminder", "subject": "S1", "plugin": "medical", "visit_type": "reexam_reminder",
             "status": "planned", "meta": {"findings": ["lipids"], "department": "health_management"}},
            {"code": "HC2-reminder", "subject": "S1", "plugin": "medical", "visit_type": "reexam_reminder",
             "status": "completed", "meta": {"findings": ["lipids"], "department": "health_management"}}]
    _, items = plan("outpatient_visit", history=testing.FakeHistory(followups=rows), department="cardiology",
                    specialist=True, first_visit=False)
    close = [i for i in items if isinstance(i, CloseFollowUp)]
    assert [c.followup for c in close] == ["HC-reminder"] and "M5" in close[0].reason


# -- M3 / M4: first calls --------------------------------------------------------------------------------
@pytest.mark.parametrize("condition,phase,opens,due", [
    ("hypertension", "early", "2026-11-05", "2026-11-06"),  # M3: twice a week = every 3 days, open 1 day
    ("hypertension", "stable", "2026-11-09", "2026-11-11"),  # M3: weekly, open 2 days (30 % of 7)
    ("diabetes", "early", "2026-11-09", "2026-11-11"),  # M4: from one week after
    ("diabetes", "stable", "2026-12-17", "2026-12-31"),  # M4: every 1–2 months, entering at 45 days
])
def test_m3_m4_enrolment_plans_the_first_curve_call(condition, phase, opens, due):
    _, v = first("chronic_enrolment", condition=condition, phase=phase, responsible_nurse="n1")
    assert (v.key, v.visit_type, v.owner, v.channel) == ("c1", f"chronic_{condition}", "n1", "phone")
    assert window(v) == (f"{opens}T10:00:00+08:00", f"{due}T23:59:59+08:00")
    assert (v.meta["curve"], v.meta["seq"], v.department) == (condition, 1, "chronic_care")


def test_m4_discharge_with_condition_is_call_one_of_the_curve():
    _, v = first("discharge", **DISCHARGE, condition="diabetes")
    assert v.visit_type == "discharge_first"
    assert (v.meta["curve"], v.meta["seq"], v.meta["phase"], v.meta["interval_days"]) == ("diabetes", 1, "month_one", 7)


def test_m3_m4_second_enrolment_does_not_fork_the_curve():
    history = testing.FakeHistory(followups=[{"code": "E2-c1", "subject": "S1", "plugin": "medical",
                                              "status": "due", "meta": {"curve": "hypertension"}}])
    _, items = plan("chronic_enrolment", history=history, condition="hypertension")
    assert [type(i) for i in items] == [Skip] and "E2-c1" in items[0].reason
    _, items = plan("discharge", history=history, **DISCHARGE, condition="hypertension")
    [v] = testing.visits(items)
    assert "curve" not in v.meta and any(isinstance(i, Skip) and "E2-c1" in i.reason for i in items)
    _, items = plan("chronic_enrolment", history=history, condition="diabetes")  # another condition: its own curve
    assert [v.key for v in testing.visits(items)] == ["c1"]


# -- M4 diabetes curve ---------------------------------------------------------------------------------------
def month_one() -> tuple[TriggerInfo, PlannedVisit]:
    """Discharged Mon 08-03: call 1 is the discharge follow-up (08-10), then weekly through the month (M4)."""
    info, v = first("discharge", at="2026-08-03T09:00:00+08:00", **DISCHARGE, condition="diabetes")
    answers = DISCHARGE_GOOD
    for n, day in ((2, "08-17"), (3, "08-24"), (4, "08-31")):
        v = planned(complete(info, v, f"{days(v)[0]}T10:30:00+08:00", answers))
        assert (v.key, days(v)[0], v.meta["phase"], v.meta["interval_days"]) == (f"c{n}", f"2026-{day}", "month_one", 7)
        answers = GOOD
    return info, v


def test_m4_weekly_during_the_first_month_after_discharge():
    info, v = first("discharge", at="2026-08-03T09:00:00+08:00", **DISCHARGE, condition="diabetes")
    c2 = planned(complete(info, v, "2026-08-10T10:30:00+08:00", DISCHARGE_GOOD))
    assert days(c2) == ("2026-08-17", "2026-08-19")  # 7 days, open for 2 (30 % of the interval)
    assert (c2.visit_type, c2.owner, c2.meta["previous"]) == ("chronic_diabetes", "n1", "T1-1")
    month_one()


@pytest.mark.parametrize("answers,opens,due,interval", [
    (POOR, "2026-09-30", "2026-10-09", 30),  # poor adherence: 1 month
    (PARTIAL, "2026-10-15", "2026-10-29", 45),  # the entry interval of "every 1–2 months"
    (GOOD, "2026-10-30", "2026-11-17", 60),  # good adherence: 2 months
])
def test_m4_after_month_one_every_one_to_two_months_by_adherence(answers, opens, due, interval):
    info, c4 = month_one()
    # c4 on Mon 08-31: + 7 = 09-07 is past the first month (08-03 + 30 = 09-02) -> maintenance
    c5 = planned(complete(info, c4, "2026-08-31T10:30:00+08:00", answers))
    assert days(c5) == (opens, due) and (c5.meta["phase"], c5.meta["interval_days"]) == ("maintenance", interval)


def test_m4_poor_adherence_in_month_one_calls_again_in_three_days():
    info, v = first("discharge", at="2026-08-03T09:00:00+08:00", **DISCHARGE, condition="diabetes")
    c2 = planned(complete(info, v, "2026-08-10T10:30:00+08:00", {**DISCHARGE_GOOD, "adherence": "poor"}))
    assert days(c2) == ("2026-08-13", "2026-08-14")
    c3 = planned(complete(info, c2, "2026-08-13T10:30:00+08:00", PARTIAL))  # still 3: Sun 08-16 -> Mon 08-17
    assert days(c3) == ("2026-08-17", "2026-08-17")
    c4 = planned(complete(info, c3, "2026-08-17T10:30:00+08:00", GOOD))  # good again: back to weekly
    assert days(c4)[0] == "2026-08-24"


def stable_diabetic() -> tuple[TriggerInfo, PlannedVisit]:
    """Enrolled Mon 06-01 in the stable phase: first call after the 45-day entry interval (Thu 07-16)."""
    info, c1 = first("chronic_enrolment", at="2026-06-01T10:00:00+08:00", condition="diabetes", phase="stable",
                     responsible_nurse="n1")
    assert days(c1) == ("2026-07-16", "2026-07-30")
    return info, c1


def test_m4_poor_adherence_shortens_the_interval_to_its_lower_bound():
    info, c1 = stable_diabetic()
    c2 = planned(complete(info, c1, "2026-07-16T10:30:00+08:00", {**POOR, **FIRST}))
    # 45 -> 30 days: Sat 08-15 -> Mon 08-17; open 9 more days -> Mon 08-24
    assert days(c2) == ("2026-08-17", "2026-08-24") and c2.meta["interval_days"] == 30
    c3 = planned(complete(info, c2, "2026-08-17T10:30:00+08:00", POOR))
    assert c3.meta["interval_days"] == 30  # already at the lower bound


def test_m4_good_adherence_lengthens_the_interval_to_its_upper_bound():
    info, c1 = stable_diabetic()
    c2 = planned(complete(info, c1, "2026-07-16T10:30:00+08:00", {**GOOD, **FIRST}))
    # 45 -> 60 days: Mon 09-14; due + 78 = Fri 10-02 (National Day) -> Thu 10-08
    assert days(c2) == ("2026-09-14", "2026-10-08")
    c3 = planned(complete(info, c2, "2026-09-14T10:30:00+08:00", GOOD))
    assert c3.meta["interval_days"] == 60  # "every 1–2 months"


def test_m4_each_call_records_the_previous_calls_effect():
    info, c1 = stable_diabetic()
    c2 = planned(complete(info, c1, "2026-07-16T10:30:00+08:00", {**GOOD, **FIRST}))
    assert not [r for r in complete(info, c1, "2026-07-16T10:30:00+08:00", {**GOOD, **FIRST}) if isinstance(r, Warn)]
    [warn] = [r for r in complete(info, c2, "2026-09-14T10:30:00+08:00", {**GOOD, **FIRST}) if isinstance(r, Warn)]
    assert warn.message.startswith("M4: T1-c2 follows T1-c1")


# -- M3 hypertension ----------------------------------------------------------------------------------------
def test_m3_early_twice_a_week_stable_weekly_at_least_monthly():
    info, v = first("chronic_enrolment", at="2026-08-03T10:00:00+08:00", condition="hypertension",
                    responsible_nurse="n1", attending_doctor="dr9", department="cardiology")
    assert days(v) == ("2026-08-06", "2026-08-07")  # early phase: every 3 days
    v = planned(complete(info, v, "2026-08-06T10:30:00+08:00", {**PARTIAL, **FIRST}))
    assert days(v) == ("2026-08-10", "2026-08-10") and v.meta["phase"] == "early"  # Sun 08-09 -> Mon 08-10
    v = planned(complete(info, v, "2026-08-10T10:30:00+08:00", GOOD))  # in target, good adherence: weekly
    assert days(v) == ("2026-08-17", "2026-08-19") and v.meta["phase"] == "stable"
    v = planned(complete(info, v, "2026-08-17T10:30:00+08:00", GOOD))
    assert days(v) == ("2026-08-31", "2026-09-04")  # 14 days
    v = planned(complete(info, v, "2026-08-31T10:30:00+08:00", GOOD))
    assert days(v) == ("2026-09-30", "2026-10-09")  # 30 days: Wed 09-30; open 9 more days: Fri 10-09
    v = planned(complete(info, v, "2026-09-30T10:30:00+08:00", GOOD))
    assert v.meta["interval_days"] == 30  # never less often than monthly
    assert (v.department, v.meta["attending_doctor"]) == ("cardiology", "dr9")


def test_m3_blood_pressure_out_of_target_returns_to_the_early_phase():
    info, c1 = first("chronic_enrolment", at="2026-08-03T10:00:00+08:00", condition="hypertension",
                     phase="stable", responsible_nurse="n1")
    assert days(c1) == ("2026-08-10", "2026-08-12")
    c2 = planned(complete(info, c1, "2026-08-10T10:30:00+08:00", {**GOOD, **FIRST}))
    assert c2.meta["interval_days"] == 14 and days(c2)[0] == "2026-08-24"
    c3 = planned(complete(info, c2, "2026-08-24T10:30:00+08:00", {**GOOD, "controlled": "no"}))
    assert (c3.meta["interval_days"], c3.meta["phase"], days(c3)) == (3, "early", ("2026-08-27", "2026-08-28"))


# -- missed calls (G5), refusals (G7), owners (M9) ------------------------------------------------------------
def test_m4_g5_missed_call_keeps_the_curve_going_then_home_visit():
    info, c1 = first("chronic_enrolment", at="2026-08-03T10:00:00+08:00", condition="hypertension",
                     phase="stable", responsible_nurse="n1")
    tries = [("2026-08-10T10:30:00+08:00", "no_answer"), ("2026-08-10T15:30:00+08:00", "busy")]
    assert attempts(info, c1, *tries) == []  # fewer than 3 attempts (G5): nothing yet
    out = attempts(info, c1, *tries, ("2026-08-11T10:30:00+08:00", "powered_off"))
    c2 = planned(out)
    # the same weekly interval from the missed call's window (Mon 08-10), by phone
    assert days(c2) == ("2026-08-17", "2026-08-19") and c2.channel == "phone"
    assert (c2.meta["missed"], c2.meta["previous"]) == (1, "T1-c1")
    assert any(isinstance(r, Warn) and r.message.startswith("M4: T1-c1 not reached after 3 attempts") and
               "T1-c2 by phone opens 2026-08-17" in r.message for r in out)
    c3 = planned(attempts(info, c2, ("2026-08-17T10:30:00+08:00", "no_answer"),
                          ("2026-08-17T15:30:00+08:00", "no_answer"), ("2026-08-18T10:30:00+08:00", "no_answer")))
    assert (c3.channel, c3.meta["missed"], days(c3)[0]) == ("home_visit", 2, "2026-08-24")  # M4 "home visit"
    c4 = planned(complete(info, c3, "2026-08-24T10:00:00+08:00", PARTIAL))
    assert (c4.channel, c4.meta["missed"]) == ("phone", 0)


def test_g7_refusal_ends_the_curve():
    info, c1 = first("chronic_enrolment", condition="hypertension", responsible_nurse="n1")
    [warn] = attempts(info, c1, ("2026-11-05T10:30:00+08:00", "refused"))
    assert isinstance(warn, Warn) and warn.message.startswith("G7") and "curve ends" in warn.message


def test_m9_curve_calls_stay_with_the_current_owner():
    info, v = first("discharge", at="2026-08-03T09:00:00+08:00", **{**DISCHARGE, "responsible_nurse": "n2"},
                    condition="hypertension")
    assert planned(complete(info, v, "2026-08-10T10:30:00+08:00", DISCHARGE_GOOD, owner="n3")).owner == "n3"


def test_non_curve_attempts_plan_nothing():
    info, v = first("discharge", **DISCHARGE)
    assert attempts(info, v, *[(f"2026-11-0{d}T10:30:00+08:00", "no_answer") for d in (9, 9, 10)]) == []


# -- M7, G16 tickets ---------------------------------------------------------------------------------------
def test_m7_worrying_symptoms_refer_to_the_department_and_notify_the_doctor():
    info, c1 = first("chronic_enrolment", at="2026-08-03T10:00:00+08:00", condition="hypertension",
                     phase="stable", department="cardiology", responsible_nurse="n1", attending_doctor="dr9")
    out = complete(info, c1, "2026-08-10T10:30:00+08:00", {**FIRST, "adherence": "good", "symptoms": "worrying"})
    [ticket] = [r for r in out if isinstance(r, OpenTicket)]
    assert (ticket.category, ticket.department, ticket.notify) == ("symptoms", "cardiology", ["dr9"])
    assert planned(out).meta["interval_days"] == 3  # a worrying answer also shortens the next check-in


def test_m7_no_ticket_when_symptoms_are_mild():
    info, v = first("discharge", **DISCHARGE)
    assert complete(info, v, "2026-11-09T10:30:00+08:00", {**DISCHARGE_GOOD, "symptoms": "mild"}) == []


def test_g16_dissatisfied_subject_opens_a_ticket_for_the_department():
    info, v = first("discharge", **DISCHARGE)
    [ticket] = complete(info, v, "2026-11-09T10:30:00+08:00", {**DISCHARGE_GOOD, "satisfaction": "不满意"})
    assert isinstance(ticket, OpenTicket) and (ticket.category, ticket.department) == ("dissatisfied", "cardiology")
    assert ticket_categories({"symptoms": "worrying", "satisfaction": "不满意"}) == ["symptoms", "dissatisfied"]


# -- the bounds, for every answer sequence ------------------------------------------------------------
ANSWERS = st.sampled_from([GOOD, PARTIAL, POOR, {**GOOD, "controlled": "no"}, {**GOOD, "symptoms": "worrying"},
                           None])


@hsettings(max_examples=100, deadline=None)
@given(condition=st.sampled_from(["diabetes", "hypertension"]), phase=st.sampled_from(["early", "stable"]),
       seq=st.lists(ANSWERS, min_size=1, max_size=25))
def test_m3_m4_intervals_stay_within_the_rules_bounds(condition, phase, seq):
    start = date(2026, 3, 2)
    step = curve.first_step(condition, phase, S)
    meta = curve.curve_meta(condition, 1, step, "2026-03-02T10:00:00+08:00")
    day = start + timedelta(days=step.interval)
    for answers in seq:
        before = meta["interval_days"]
        step = curve.next_step(meta, answers, day, start, S)
        if condition == "hypertension":
            assert step.interval in S.hypertension_intervals and 3 <= step.interval <= 30  # M3
        elif step.phase == "month_one":
            assert step.interval in (3, 7) and day + timedelta(days=step.interval) <= start + timedelta(days=30)
        else:
            assert step.interval in (30, 45, 60)  # M4: every 1–2 months
        how = curve.verdict(answers)
        if meta["phase"] == step.phase:  # within a phase, poor never lengthens and good never shortens
            assert (how != curve.CONCERN or step.interval <= before) and (how != curve.GOOD or step.interval >= before)
        meta = curve.curve_meta(condition, meta["seq"] + 1, step, "2026-03-02T10:00:00+08:00")
        day += timedelta(days=step.interval)

