"""Nothing is planned that cannot be done, nobody is punished for what they could not do (A2, A4, G3, G6),
the content the seeds ask for (M5, M6, G4), and provisional years that know the fixed holidays (G6): on
the plugin API's fakes and the engine's pure calendar arithmetic (no store). Story tests through the
CLI: tests/test_feasible_stories.py; the property-based check of every plugin: test_plans_property.py.

Calendar: 国庆 2026-10-01 (Thu) .. 10-07 off, 10-10 (Sat) a make-up workday; 2027 has no official data."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from huifang.core.calendar import BusinessCalendar
from huifang.core.plugin_api import CloseFollowUp, PlannedVisit, PlanVisit, Settings, testing
from huifang.core.surveys import validate_answers
from huifang.core.usecases.calendar import catch_up
from huifang.plugins.aesthetics import plugin as aesthetics
from huifang.plugins.medical import plugin as medical

D = date.fromisoformat
T = datetime.fromisoformat
STAFF = {"assistant": "as1", "consultant": "con1"}
HOSPITAL = testing.scheduler(Settings())  # 10:00-12:00, 15:00-17:00, workdays, Asia/Shanghai


def by_key(items: list[Any]) -> dict[str, PlannedVisit]:
    return {v.key: v for v in testing.visits(items)}


def procedure(attrs: dict[str, Any], at: str = "2026-06-01T08:30:00+08:00") -> dict[str, PlannedVisit]:
    return by_key(testing.plan(aesthetics, "procedure", {**STAFF, **attrs}, at=at))


def days(v: PlannedVisit) -> tuple[str, str]:
    return v.window_open.date().isoformat(), v.due.date().isoformat()


# -- G6/A2: clinical days are a declared exception ------------------------------------------------------
def test_G6_A2_clinical_visits_declare_their_exception_and_attempts_on_a_holiday_count() -> None:
    vts = {v.name: v for v in aesthetics.huifang_visit_types()}
    assert vts["dressing_reminder"].clinical_exception and vts["recovery_care"].clinical_exception is None
    v = procedure({"department": "surgery", "stitch_removal_day": 7}, at="2026-09-30T15:00:00+08:00")
    dressing = v["dressing"]
    assert dressing.window_open == T("2026-10-01T10:00:00+08:00")  # National Day: a wound does not wait
    assert dressing.clinical_exception == vts["dressing_reminder"].clinical_exception
    assert v["recovery"].clinical_exception is None  # rolled to 10-08 like any call
    sched = testing.scheduler(testing.settings_of(aesthetics))
    at = T("2026-10-01T10:30:00+08:00")
    assert not sched.in_window(at) and sched.clinical().in_window(at)  # inside its own window: it counts
    assert sched.next_retry(at) == T("2026-10-08T10:00:00+08:00")  # the week-later retry of before
    assert sched.clinical().next_retry(at) == T("2026-10-01T15:00:00+08:00")  # the next calling window
    assert not sched.clinical().in_window(T("2026-10-01T13:00:00+08:00"))  # calling hours still hold
    assert testing.plan_problems(aesthetics, list(v.values())) == []
    with pytest.raises(ValidationError, match="no clinical exception"):  # only declared clinical steps
        testing.settings_of(aesthetics, holiday_fixed_visits=["recovery_care"])


def test_G6_a_window_on_a_holiday_without_a_declared_exception_is_a_plan_problem() -> None:
    v = procedure({"department": "surgery", "stitch_removal_day": 7}, at="2026-09-30T15:00:00+08:00")["dressing"]
    undeclared = v.model_copy(update={"clinical_exception": None})
    problems = testing.plan_problems(aesthetics, [undeclared])
    assert "non-calling day" in problems[0] and "no calling slot" in problems[1]  # 10-08 is past its deadline


# -- A4/G6: a late entry plans catch-up calls ---------------------------------------------------------------
def test_A4_G6_a_window_passed_before_entry_becomes_a_catch_up_call_from_entry() -> None:
    v = procedure({"department": "surgery", "stitches": False}, at="2026-07-01T10:00:00+08:00")
    entered = T("2026-07-14T10:00:00+08:00")  # 13 days late
    sched = testing.scheduler(testing.settings_of(aesthetics))
    care = catch_up(sched, v["care"], entered)  # day 3, a 2-day window: 07-04..07-05
    assert (care.window_open, days(care)) == (entered, ("2026-07-14", "2026-07-16"))  # two days from entry
    assert care.meta["late_entry"] == {"known_at": entered.isoformat(), "window_open": "2026-07-04T10:00:00+08:00",
                                       "due": "2026-07-05T23:59:59+08:00"}
    assert "catch-up" in care.warnings[0] and "2026-07-04..2026-07-05" in care.warnings[0]
    dressing = catch_up(sched, v["dressing"], entered)  # clinical: catch-up on calendar days
    assert days(dressing) == ("2026-07-14", "2026-07-15") and dressing.clinical_exception
    assert catch_up(sched, v["recovery"], entered) is v["recovery"]  # 07-08..07-16: still open, unchanged
    # entered on the evening of 09-30: the catch-up opens after National Day, on working days
    late = catch_up(HOSPITAL, PlannedVisit(key="1", visit_type="x", window_open=T("2026-09-21T10:00:00+08:00"),
                                           due=T("2026-09-22T23:59:59+08:00")), T("2026-09-30T18:00:00+08:00"))
    assert (late.window_open.isoformat(), days(late)[1]) == ("2026-10-08T10:00:00+08:00", "2026-10-09")


# -- G3: reminders on the last working day, inside working hours -------------------------------------------
def test_G3_reminder_on_the_last_working_day_before_the_deadline_inside_working_hours() -> None:
    def remind(opens: str, due: str) -> str | None:
        at = HOSPITAL.reminder_at(T(opens), T(due), 1)
        return at.isoformat() if at else None

    # due Thu 10-08, window 09-28..10-08: the last working day before is Wed 09-30, not holiday 10-07
    assert remind("2026-09-28T10:00:00+08:00", "2026-10-08T23:59:59+08:00") == "2026-09-30T10:00:00+08:00"
    # window opening on its due day 10-08: never before it opens (not 10-07, not 09-30)
    assert remind("2026-10-08T10:00:00+08:00", "2026-10-08T23:59:59+08:00") == "2026-10-08T10:00:00+08:00"
    # due Mon 10-12: the make-up Saturday 10-10 is the last working day before (调休)
    assert remind("2026-10-08T10:00:00+08:00", "2026-10-12T23:59:59+08:00") == "2026-10-10T10:00:00+08:00"
    # a window opening at 16:30 on its due day still leaves working time; one opening after it does not
    assert remind("2026-10-09T16:30:00+08:00", "2026-10-09T23:59:59+08:00") == "2026-10-09T16:30:00+08:00"
    assert remind("2026-10-09T17:30:00+08:00", "2026-10-09T23:59:59+08:00") is None
    assert not HOSPITAL.working_hours(T("2026-10-07T10:30:00+08:00"))  # a holiday
    assert not HOSPITAL.working_hours(T("2026-10-08T08:00:00+08:00"))  # before the first calling window
    assert HOSPITAL.working_hours(T("2026-10-08T12:30:00+08:00"))  # the working day, between two windows


# -- M6/G4: the discharge survey and the recovery-score template ------------------------------------------
def test_M6_G4_discharge_survey_asks_lifestyle_and_records_the_health_guidance() -> None:
    survey = {v.name: v for v in medical.huifang_visit_types()}["discharge_first"].survey
    assert survey is not None and len(survey.questions) <= 5  # G18
    assert "lifestyle" in [q.key for q in survey.questions]  # M6: lifestyle and quality of life
    assert [q.key for q in survey.record_fields] == ["health_guidance", "suggestion"]  # G4: recorded, not asked
    answers = {"recovery": 8, "lifestyle": "good", "satisfaction": "满意", "health_guidance": "低盐低脂饮食，每日监测血压"}
    assert validate_answers(survey, answers)["health_guidance"] == "低盐低脂饮食，每日监测血压"


def test_M6_recovery_score_template_per_disease_in_chinese_is_a_guide_for_the_call() -> None:
    attrs = {"department": "心内科", "diagnosis": "CHD", "responsible_nurse": "n1", "attending_doctor": "dr1"}
    [v] = testing.visits(testing.plan(medical, "discharge", attrs))
    assert v.meta["recovery_template"]["title"] == "冠心病"
    [guide] = v.guides
    assert guide.title == "康复评分模板：冠心病 (0-10 分)" and guide.lines[0] == "静息及上楼时无胸痛胸闷"
    [fracture] = testing.visits(testing.plan(medical, "discharge", {**attrs, "diagnosis": "fracture"}))
    assert fracture.guides[0].title.startswith("康复评分模板：骨折")


# -- A2: the stitch-removal call is never silently lost --------------------------------------------------------
def test_A2_surgery_without_stitch_day_takes_the_catalogue_day_with_a_warning() -> None:
    eye_bags = procedure({"department": "surgery", "item": "眼袋"})  # catalogue: stitches out on day 5
    assert days(eye_bags["stitch"]) == ("2026-06-05", "2026-06-05")  # the day before, day 4
    assert "day 5" in eye_bags["stitch"].warnings[0] and "眼袋" not in eye_bags["stitch"].warnings[0]  # G8
    unknown = procedure({"department": "surgery"})  # not in the catalogue: the curve's default day 7
    assert days(unknown["stitch"]) == ("2026-06-07", "2026-06-07") and "default" in unknown["stitch"].warnings[0]
    assert "stitch" not in procedure({"department": "surgery", "item": "埋线双眼皮"})  # catalogue: no stitches
    assert "stitch" not in procedure({"department": "surgery", "stitches": False})
    given = procedure({"department": "surgery", "stitch_removal_day": 10})
    assert days(given["stitch"]) == ("2026-06-10", "2026-06-10") and given["stitch"].warnings == []
    with pytest.raises(ValidationError, match="stitches=false"):
        testing.trigger(aesthetics, "procedure", {**STAFF, "department": "surgery", "stitches": False,
                                                  "stitch_removal_day": 7})


# -- A2: one subject, one day, one contact -----------------------------------------------------------------------
def test_A2_injectables_week_2_check_and_top_up_reminder_are_one_contact_with_both_scripts() -> None:
    v = procedure({"department": "injectables"})
    assert "topup" not in v
    week2 = v["week2"]
    assert (week2.visit_type, days(week2)) == ("weekly_check", ("2026-06-15", "2026-06-15"))  # the reminder's day
    assert week2.meta["merged"] == [{"key": "topup", "visit_type": "topup_reminder"}]
    assert [g.title for g in week2.guides] == ["注射效果回访", "补量提醒"]
    # on another day (configured) they stay two contacts
    apart = by_key(testing.plan(aesthetics, "procedure", {**STAFF, "department": "injectables"},
                                at="2026-06-01T08:30:00+08:00",
                                settings=testing.settings_of(aesthetics, injectables_topup_day=10)))
    assert days(apart["topup"]) == ("2026-06-11", "2026-06-11") and "merged" not in apart["week2"].meta


# -- A3/A10: windows of one plan never overlap out of order -----------------------------------------------------
def test_A10_A3_grade_2_experience_first_call_is_never_due_after_the_second() -> None:
    items = testing.plan(aesthetics, "experience", {"grade": 2, "specialist": "mem1"}, at="2026-06-01T08:00:00+08:00")
    v = by_key(items)
    assert days(v["second"]) == ("2026-06-09", "2026-06-16")  # day 8-15
    assert days(v["first"]) == ("2026-06-04", "2026-06-16")  # day 3; the 15-day window would end 06-18
    assert testing.plan_problems(aesthetics, items) == []
    swapped = v["first"].model_copy(update={"due": T("2026-06-18T23:59:59+08:00")})
    assert "out of order" in testing.plan_problems(aesthetics, [swapped, v["second"]])[0]


# -- M5: only the re-examination cancels its reminder -------------------------------------------------------------
def test_M5_only_a_visit_that_is_the_reexamination_cancels_the_nodule_reminder() -> None:
    reminder = {"code": "HC-reminder", "subject": "S1", "plugin": "medical", "visit_type": "reexam_reminder",
                "status": "planned", "meta": {"findings": ["nodule"], "department": "健康管理中心"}}

    def closes(**visit: Any) -> bool:
        items = testing.plan(medical, "outpatient_visit", {"specialist": True, "first_visit": False, **visit},
                             history=testing.FakeHistory(followups=[reminder]))
        return any(isinstance(i, CloseFollowUp) and i.followup == "HC-reminder" for i in items)

    assert not closes(department="皮肤科")  # an unrelated clinic visit
    assert closes(department="甲状腺外科")  # a department that re-examines nodules
    assert closes(department="皮肤科", exams=["nodule"])  # the exam itself, wherever it was done
    assert closes(department="健康管理中心")  # the health check's own department
    # the recall's reaction: a visit elsewhere since the check is no re-examination either
    info = testing.trigger(medical, "health_check", {"findings": ["nodule"]}, at="2026-11-02T09:00:00+08:00")
    [recall] = testing.visits(testing.plan(medical, "health_check", {"findings": ["nodule"]},
                                           at="2026-11-02T09:00:00+08:00"))
    fu = testing.followup(info, recall, status="completed", answers={"reexamined": "no"},
                          attempts=[{"channel": "phone", "outcome": "reached", "at": "2026-11-05T10:30:00+08:00"}])

    def reminded(visit: dict[str, Any]) -> bool:
        history = testing.FakeHistory(triggers=[{"code": "OV", "subject": "S1", "kind": "medical.outpatient_visit",
                                                 "occurred_at": "2026-11-04T01:00:00+00:00", "attributes": visit}])
        with testing.logical_now(T("2026-11-05T10:35:00+08:00")):
            out = medical.huifang_on_completed(followup=fu, answers={"reexamined": "no"},
                                               settings=testing.settings_of(medical), scheduler=HOSPITAL,
                                               history=history)
        return any(isinstance(r, PlanVisit) for r in out)

    assert reminded({"department": "皮肤科"}) and not reminded({"department": "超声科"})


# -- G6: provisional years know the holidays fixed by law ----------------------------------------------------
def test_G6_provisional_year_knows_fixed_holidays_and_flags_the_movable_ones() -> None:
    cal = BusinessCalendar()
    assert not cal.is_official(2027)
    for day in ("2027-01-01", "2027-05-01", "2027-10-01", "2027-10-02", "2027-10-03"):
        assert cal.is_holiday(D(day)) and cal.is_public_holiday(D(day)), day  # 元旦, 劳动节, 国庆
    assert cal.is_workday(D("2027-10-04")) and cal.is_workday(D("2027-02-08"))  # unknown: Mon-Fri fallback
    assert cal.add_workdays(D("2026-12-31"), 1) == D("2027-01-04")  # 元旦 is not a workday any more
    spring = cal.assumption(D("2027-01-25"), D("2027-02-10"))
    assert spring is not None and spring["unknown_holidays"] == ["春节"] and spring["fixed_holidays"] == []
    autumn = cal.assumption(D("2027-09-26"), D("2027-10-08"))
    assert autumn is not None and autumn["unknown_holidays"] == ["中秋"]
    assert autumn["fixed_holidays"] == ["国庆 2027-10-01", "国庆 2027-10-02", "国庆 2027-10-03"]
    assert "中秋" in autumn["text"] and "may move" in autumn["text"] and "2027" in autumn["text"]
    assert cal.assumption(D("2026-09-01"), D("2026-10-30")) is None  # official: nothing assumed
    # a clinic open on weekends keeps National Day 2027 off too (provisional)
    clinic = testing.scheduler(testing.settings_of(aesthetics))
    assert not clinic.is_calling_day(D("2027-10-02")) and clinic.is_calling_day(D("2027-10-09"))
    w = HOSPITAL.window(T("2026-12-30T10:00:00+08:00"), 0, 2, workdays=True)
    assert w.due.date() == D("2027-01-04") and w.provisional  # 12-31, then 01-04 (元旦 off)
