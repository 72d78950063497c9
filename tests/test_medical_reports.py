"""The medical plugin's report contributions: M5 re-examination rate (reached vs not reached by the
targeted call), period and plugin filters, discovery by `huifang report`, and the demo."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from huifang.core import clock
from huifang.core.demo import build_demo
from huifang.plugins.medical.reports import REPORTS, DepartmentsReport, EffectReport, NursesReport, ReexaminationReport
from huifang.projections.core_views import triggers
from huifang.projections.reports import ReportContext
from tests.conftest import Huifang
from tests.test_medical_helpers import at, fail, make_app, patient, reach, trigger, ward

NOW = "2027-03-01T09:00+08:00"


def run(app, report, now=NOW, **kw):
    app.projector.catch_up()
    instant = clock.parse_instant(now)
    with app.projector.engine.connect() as conn, clock.at(instant):
        return report.rows(ReportContext(conn=conn, app=app, now=instant, **kw))


@pytest.fixture
def checks(db):
    """Four health checks on Mon 11-02 with abnormal findings, one without."""
    app = make_app(db)
    ward(app)
    for p in ("P1", "P2", "P3", "P4", "P5"):
        patient(app, p)
    findings = {"P1": ["lipids"], "P2": ["glucose", "lipids"], "P3": ["liver"], "P4": ["nodule"], "P5": []}
    for p, f in findings.items():
        trigger(app, "health_check", p, f"HC-{p}", "2026-11-02T09:00+08:00", findings=f, responsible_nurse="n1")
    reach(app, "HC-P1-recall", "2026-11-05T10:30+08:00", {"reexamined": "yes"})  # says so on the call
    reach(app, "HC-P2-recall", "2026-11-05T10:40+08:00", {"reexamined": "booked"})
    trigger(app, "outpatient_visit", "P2", "OV-P2", "2026-11-20T09:00+08:00", department="endocrinology",
            specialist=True, first_visit=False)  # ... and comes: re-examined
    for p in ("P3", "P4"):  # never reached: 3 attempts in 3 slots, lost (G5)
        for when in ("2026-11-05T10:50+08:00", "2026-11-05T15:30+08:00", "2026-11-06T10:30+08:00"):
            fail(app, f"HC-{p}-recall", when)
        with at("2026-11-06T10:40+08:00"):
            app.close_followup(f"HC-{p}-recall", "lost", "no_answer", actor="n1")
    trigger(app, "outpatient_visit", "P3", "OV-P3", "2026-12-01T09:00+08:00", department="hepatology",
            specialist=True, first_visit=False)  # came anyway
    trigger(app, "outpatient_visit", "P4", "OV-P4", "2027-02-10T09:00+08:00", department="general_surgery",
            specialist=True, first_visit=False)  # 100 days later: outside the 90-day window
    yield app
    app.close()


def test_m5_reexamination_rate_reached_vs_not_reached(checks):
    got = [(r["finding"], r["group"], r["checks"], r["reexamined"], r["reexamination_rate"], r["by_outpatient"],
            r["by_answer"]) for r in run(checks, ReexaminationReport())]
    assert got == [
        ("all", "all", 4, 3, 0.75, 2, 1),  # P5 had no finding: not recalled, not counted
        ("all", "reached", 2, 2, 1.0, 1, 1),
        ("all", "not_reached", 2, 1, 0.5, 1, 0),
        ("glucose", "all", 1, 1, 1.0, 1, 0),
        ("glucose", "reached", 1, 1, 1.0, 1, 0),
        ("lipids", "all", 2, 2, 1.0, 1, 1),
        ("lipids", "reached", 2, 2, 1.0, 1, 1),
        ("liver", "all", 1, 1, 1.0, 1, 0),
        ("liver", "not_reached", 1, 1, 1.0, 1, 0),
        ("nodule", "all", 1, 0, 0.0, 0, 0),
        ("nodule", "not_reached", 1, 0, 0.0, 0, 0),
    ]


def test_m5_reexamination_window_is_a_setting(db):
    app = make_app(db, reexam_window_days=120)
    ward(app)
    patient(app, "P4")
    trigger(app, "health_check", "P4", "HC", "2026-11-02T09:00+08:00", findings=["nodule"])
    trigger(app, "outpatient_visit", "P4", "OV", "2027-02-10T09:00+08:00", department="general_surgery",
            specialist=True, first_visit=False)
    [row] = [r for r in run(app, ReexaminationReport()) if r["finding"] == "all" and r["group"] == "all"]
    assert row["reexamination_rate"] == 1.0
    app.close()


def test_reports_respect_the_period_and_the_plugin_filter(checks):
    assert run(checks, ReexaminationReport(), date_from=date(2026, 11, 3)) == []
    assert len(run(checks, ReexaminationReport(), date_to=date(2026, 11, 2))) == 11
    for report in REPORTS:
        assert run(checks, report(), plugin="finance") == []
    nurses = run(checks, NursesReport())
    assert [(r["nurse"], r["due"], r["completed"], r["lost"], r["callback_rate"]) for r in nurses] == \
        [("n1", 4, 2, 2, 0.5)]


def test_reports_are_found_by_huifang_report(hf):
    listed = {r["kind"]: r for r in hf.ok("report")}
    for name, rule in (("nurses", "M9"), ("departments", "M8"), ("effect", "G20"), ("reexamination", "M5")):
        entry = listed.get(name) or listed[f"medical.{name}"]  # the bare name while no other plugin uses it
        assert entry["owner"] == "medical" and rule in entry["rules"]
    empty = hf.ok("report", "medical.effect", "--json")
    assert empty["rows"] == []
    r = hf("report", "medical.nurses", "--by", "agent")
    assert r.code == 2 and "--by" in r.err and r.err.count("\n") == 1


@pytest.mark.slow  # scale: a demo store of 60 patients over 75 days
def test_demo_includes_the_hospital_with_realistic_volumes(sqlite_db):
    app = make_app(sqlite_db)
    with clock.at(clock.parse_instant("2026-11-23T16:00+08:00")):
        result = build_demo(app, subjects=60, days=75, seed=11)
    [med] = result["plugins"]
    assert med["plugin"] == "medical" and med["triggers"] > 60 and med["completed"] > 0 and med["lost"] > 0
    with app.projector.engine.connect() as conn:
        kinds = {r.kind for r in conn.execute(select(triggers.c.kind))}
    assert kinds == {"medical.discharge", "medical.outpatient_visit", "medical.chronic_enrolment",
                     "medical.health_check"}
    now = "2026-11-23T16:00+08:00"
    assert run(app, NursesReport(), now) and run(app, DepartmentsReport(), now)
    assert run(app, EffectReport(), now) and run(app, ReexaminationReport(), now)
    curve_calls = app.projector.engine.connect().execute(
        select(triggers.c.code).where(triggers.c.kind == "medical.chronic_enrolment")).all()
    assert curve_calls
    cli = Huifang(sqlite_db, now=now)
    assert cli.ok("report", "nurses")["rows"]
    app.close()
