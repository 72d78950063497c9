"""Chronic-disease curves through the application API on SQLite and PostgreSQL: M4 diabetes (weekly in
month one), M3 hypertension (twice a week early, weekly when stable, at least monthly), what happens to a
curve when a call is missed (G5) or refused (G7), and who carries it on (M9). Dates are computed on the
real 2026 calendar. Every interval rule (adherence, blood pressure, month one, the bounds as a property of
every answer sequence) is unit-tested on the fakes: tests/unit/test_medical_rules.py."""
from __future__ import annotations

import pytest

from huifang.core.errors import HuifangError, Refused
from tests.test_medical_helpers import (
    at,
    discharge,
    fail,
    followups_of,
    load,
    local,
    make_app,
    patient,
    reach,
    trigger,
    ward,
)

GOOD = {"previous_effect": "effective", "adherence": "good", "controlled": "yes", "symptoms": "none"}
PARTIAL = {**GOOD, "adherence": "partial"}
POOR = {**GOOD, "adherence": "poor"}
FIRST = {"previous_effect": "no_previous_call"}
DISCHARGE_GOOD = {"recovery": 8, "adherence": "good", "symptoms": "none", "satisfaction": "满意"}


@pytest.fixture
def app(db):
    a = make_app(db)
    ward(a)
    patient(a, "P1")
    yield a
    a.close()


def window(app, code):
    fu = load(app, code)
    return local(fu.window_open)[:10], local(fu.due)[:10]


def month_one(app):
    """Diabetes discharged Mon 08-03: call 1 is the discharge follow-up (08-10), then weekly (M4)."""
    discharge(app, "P1", "D", "2026-08-03T09:00+08:00", condition="diabetes", diagnosis="diabetes_t2")
    reach(app, "D-1", "2026-08-10T10:30+08:00", DISCHARGE_GOOD)
    for n, day in ((2, "08-17"), (3, "08-24"), (4, "08-31")):
        assert window(app, f"D-c{n}")[0] == f"2026-{day}"
        assert load(app, f"D-c{n}").meta["phase"] == "month_one"
        if n < 4:
            reach(app, f"D-c{n}", f"2026-{day}T10:30+08:00", GOOD)


def test_m4_weekly_during_the_first_month_after_discharge(app):
    month_one(app)
    assert window(app, "D-c2") == ("2026-08-17", "2026-08-19")  # 7 days, open for 2 (30 % of the interval)
    assert load(app, "D-c2").meta["previous"] == "D-1"


def stable_diabetic(app):
    """Enrolled Mon 06-01 in the stable phase: first call after the 45-day entry interval (Thu 07-16)."""
    trigger(app, "chronic_enrolment", "P1", "E", "2026-06-01T10:00+08:00", condition="diabetes", phase="stable",
            responsible_nurse="n1")
    assert window(app, "E-c1") == ("2026-07-16", "2026-07-30")


def test_m4_each_call_first_records_the_previous_calls_effect(app):
    stable_diabetic(app)
    survey = app.survey(load(app, "E-c1"))
    assert survey.questions[0].key == "previous_effect" and len(survey.questions) <= 5  # G18
    with at("2026-07-16T10:30+08:00"):
        app.record_attempt("E-c1", "phone", "reached", actor="n1")
        with pytest.raises(HuifangError, match=r"missing required answer.*previous_effect"):
            app.complete("E-c1", {"adherence": "good"}, actor="n1")
        app.complete("E-c1", {"previous_effect": "no_previous_call", "adherence": "good"}, actor="n1")
    reach(app, "E-c2", "2026-09-14T10:30+08:00", {**GOOD, "previous_effect": "partly"})
    c2 = load(app, "E-c2")
    assert c2.meta["previous"] == "E-c1" and c2.answers["previous_effect"] == "partly"
    _, messages = reach(app, "E-c3", "2026-11-13T10:30+08:00", {**GOOD, "previous_effect": "no_previous_call"})
    assert any(m.startswith("M4: E-c3 follows E-c2") for m in messages)


def early_hypertensive(app):
    trigger(app, "chronic_enrolment", "P1", "H", "2026-08-03T10:00+08:00", condition="hypertension",
            responsible_nurse="n1", attending_doctor="dr9", department="cardiology")


def test_m3_early_twice_a_week_stable_weekly_at_least_monthly(app):
    early_hypertensive(app)
    assert window(app, "H-c1") == ("2026-08-06", "2026-08-07")  # early phase: every 3 days
    reach(app, "H-c1", "2026-08-06T10:30+08:00", {**PARTIAL, **FIRST})
    assert window(app, "H-c2") == ("2026-08-10", "2026-08-10")  # Sun 08-09 -> Mon 08-10, still early
    reach(app, "H-c2", "2026-08-10T10:30+08:00", GOOD)  # in target, good adherence: stable, weekly
    assert window(app, "H-c3") == ("2026-08-17", "2026-08-19")
    assert load(app, "H-c3").meta["phase"] == "stable"
    reach(app, "H-c3", "2026-08-17T10:30+08:00", GOOD)
    assert window(app, "H-c4") == ("2026-08-31", "2026-09-04")  # 14 days
    reach(app, "H-c4", "2026-08-31T10:30+08:00", GOOD)
    # 30 days: Wed 09-30; open 9 more days: Fri 10-09
    assert window(app, "H-c5") == ("2026-09-30", "2026-10-09")
    reach(app, "H-c5", "2026-09-30T10:30+08:00", GOOD)
    assert load(app, "H-c6").meta["interval_days"] == 30  # never less often than monthly


def test_m3_m4_missed_call_keeps_the_curve_going_then_home_visit(app):
    trigger(app, "chronic_enrolment", "P1", "H", "2026-08-03T10:00+08:00", condition="hypertension",
            phase="stable", responsible_nurse="n1")
    fail(app, "H-c1", "2026-08-10T10:30+08:00")
    assert fail(app, "H-c1", "2026-08-10T15:30+08:00", "busy") == []
    assert followups_of(app, "H") == ["H-c1"]
    msgs = fail(app, "H-c1", "2026-08-11T10:30+08:00", "powered_off")  # 3rd failed attempt (G5)
    assert any(m.startswith("M4:") and "H-c2" in m for m in msgs)
    c2 = load(app, "H-c2")
    # same weekly interval from the missed call's window (Mon 08-10), by phone
    assert window(app, "H-c2") == ("2026-08-17", "2026-08-19") and c2.channel == "phone"
    assert c2.meta["missed"] == 1 and c2.meta["previous"] == "H-c1"
    with at("2026-08-11T10:40+08:00"):
        assert app.close_followup("H-c1", "lost", "no_answer", actor="n1").status == "lost"
    for when in ("2026-08-17T10:30+08:00", "2026-08-17T15:30+08:00", "2026-08-18T10:30+08:00"):
        fail(app, "H-c2", when)
    c3 = load(app, "H-c3")  # two missed calls in a row: M4 home visit
    assert c3.channel == "home_visit" and c3.meta["missed"] == 2 and window(app, "H-c3")[0] == "2026-08-24"
    with at("2026-08-24T10:00+08:00"):
        app.record_attempt("H-c3", "home_visit", "reached", actor="n1")
        app.complete("H-c3", PARTIAL, actor="n1")
    c4 = load(app, "H-c4")
    assert c4.channel == "phone" and c4.meta["missed"] == 0


def test_m4_reached_after_the_next_call_was_planned_does_not_plan_twice(app):
    trigger(app, "chronic_enrolment", "P1", "H", "2026-08-03T10:00+08:00", condition="hypertension",
            phase="stable", responsible_nurse="n1")
    for when in ("2026-08-10T10:30+08:00", "2026-08-10T15:30+08:00", "2026-08-11T10:30+08:00"):
        fail(app, "H-c1", when)
    reach(app, "H-c1", "2026-08-11T15:30+08:00", {**POOR, **FIRST})
    assert followups_of(app, "H") == ["H-c1", "H-c2"]


def test_g7_refusal_ends_the_curve(app):
    early_hypertensive(app)
    msgs = fail(app, "H-c1", "2026-08-06T10:30+08:00", "refused")
    assert any("G7" in m and "curve ends" in m for m in msgs)
    with at("2026-08-06T10:35+08:00"):
        app.close_followup("H-c1", "lost", "refused", actor="n1")
    assert followups_of(app, "H") == ["H-c1"]


def test_m9_curve_calls_stay_with_the_responsible_nurse(app):
    discharge(app, "P1", "D", "2026-08-03T09:00+08:00", nurse="n2", condition="hypertension")
    with at("2026-08-05T09:00+08:00"):
        app.reassign("D-1", "n3", "n2 on leave", actor="hn")
    reach(app, "D-1", "2026-08-10T10:30+08:00", DISCHARGE_GOOD, actor="n3")
    assert load(app, "D-c2").owner == "n3"  # the current owner carries on
    with pytest.raises(Refused), at("2026-08-10T10:40+08:00"):
        app.close_followup("D-c2", "lost", "no_answer", actor="n3")  # G5 still applies to curve calls
