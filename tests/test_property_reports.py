"""Property reports on crafted data: P8 repeats (a crafted quarter), P2 per-worker repair results,
P9 complaint rate per designer / inspector / crew. Rows are read through the report contract
(ReportContext on the caught-up views), on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from huifang.core import clock
from huifang.core.application import HuifangApp
from huifang.core.config import Config
from huifang.projections import open_app
from huifang.projections.reports import ReportContext


def T(text: str) -> datetime:
    return datetime.fromisoformat(text + "+08:00")


def make_app(hf, **settings) -> HuifangApp:
    app = open_app(hf.db, Config(plugins={"property": {"repair_sample_rate": 1.0, **settings}}))
    with clock.at(T("2026-09-01T09:00")):
        app.add_staff("mgr", "经理", "manager")
        app.add_staff("sec-sup", "保安主管", "supervisor", "security", "mgr")
        app.add_staff("disp", "调度", "agent", "dispatch", "sec-sup")
        for s in ("S1", "S2", "S3", "S4"):
            app.add_subject(s, f"住户{s}")
    return app


def trigger(app, kind: str, subject: str, tid: str, at: str, **attrs) -> None:
    with clock.at(T(at)):
        app.receive_trigger(f"property.{kind}", subject, attrs, trigger_id=tid)


def complete(app, code: str, at: str, **answers) -> list[str]:
    with clock.at(T(at)):
        app.record_attempt(code, "phone", "reached", actor="disp")
        return app.complete(code, answers, actor="disp")[1]


def rows(app, name: str, **filters) -> list[dict]:
    from huifang.plugins.property.plugin import plugin

    report = next(r for r in plugin.huifang_reports() if r.name == name)
    with clock.at(T("2027-01-20T10:00")):
        app.projector.catch_up()
        with app.projector.engine.connect() as conn:
            return report.rows(ReportContext(conn=conn, app=app, **filters))


@pytest.fixture
def quarter(hf):
    """2026Q4, crafted: two findings by complaint, one by repair, one failed callback, and near misses."""
    app = make_app(hf)
    c = {"severity": "general", "dept": "security"}
    trigger(app, "complaint_handled", "S1", "C0", "2026-09-30T10:00", category="noise", **c)   # Q3: alone there
    trigger(app, "complaint_handled", "S1", "C1", "2026-10-10T10:00", category="noise", **c)
    trigger(app, "complaint_handled", "S1", "C2", "2026-11-05T10:00", category="noise", **c)   # S1 noise x2 -> P8
    trigger(app, "complaint_handled", "S2", "C3", "2026-10-15T10:00", category="noise", **c)   # other subject
    trigger(app, "complaint_handled", "S2", "C4", "2026-10-20T10:00", category="parking", **c)  # other category
    for i, day in enumerate(("10-09", "11-10", "12-15"), 5):
        trigger(app, "complaint_handled", "S3", f"C{i}", f"2026-{day}T10:00", category="sanitation", **c)
    r = {"owner": "disp"}
    trigger(app, "repair_completed", "S1", "R1", "2026-10-08T10:00", category="plumbing", worker="w1", unit="1-101",
            **r)
    trigger(app, "repair_completed", "S2", "R2", "2026-10-20T10:00", category="plumbing", worker="w2", unit="1-101",
            **r)  # the same unit, reported by its other resident
    trigger(app, "repair_completed", "S1", "R3", "2026-12-01T10:00", category="plumbing", worker="w1", unit="1-101",
            **r)  # unit 1-101 plumbing x3 -> P8
    trigger(app, "repair_completed", "S1", "R4", "2026-10-21T10:00", category="electrical", worker="w1",
            unit="1-101", **r)
    trigger(app, "repair_completed", "S4", "R5", "2026-10-22T10:00", category="plumbing", worker="w2", unit="1-102",
            **r)
    trigger(app, "repair_completed", "S4", "R6", "2026-11-22T10:00", category="plumbing", worker="w2", unit="1-102",
            **r)  # only twice
    trigger(app, "repair_completed", "S1", "R7", "2027-01-05T10:00", category="plumbing", worker="w1", unit="1-101",
            **r)  # 2027Q1: a new quarter
    complete(app, "R1-callback", "2026-10-09T10:00", timeliness="on_time", passed="no", satisfaction="不满意",
             dissatisfaction_code="quality", dissatisfaction_reason="还在漏水")  # G16: with its reason
    return app


def test_p8_repeats_in_a_crafted_quarter(quarter):
    got = [(r["quarter"], r["finding"], r["subject"], r["unit"], r["category"], r["count"], r["items"])
           for r in rows(quarter, "repeats")]
    assert got == [
        ("2026-Q4", "repeat_complaint", "S3", "", "sanitation", 3, "C5, C6, C7"),
        ("2026-Q4", "repeat_complaint", "S1", "", "noise", 2, "C1, C2"),
        ("2026-Q4", "repeat_repair", "S1, S2", "1-101", "plumbing", 3, "R1, R2, R3"),
        ("2026-Q4", "failed_callback", "S1", "1-101", "plumbing", 1, "R1-callback"),
    ]
    assert all(r["rule"] == "P8" for r in rows(quarter, "repeats"))
    # the same quarter asked for explicitly; and one month of it finds nothing repeated
    assert len(rows(quarter, "repeats", date_from=date(2026, 10, 1), date_to=date(2026, 12, 31))) == 4
    assert [r["finding"] for r in rows(quarter, "repeats", date_from=date(2026, 10, 1),
                                       date_to=date(2026, 10, 31))] == ["failed_callback"]


def test_p8_thresholds_are_configurable(hf):
    app = make_app(hf, repeat_complaints=3, repeat_repairs=2)
    c = {"severity": "general", "dept": "security"}
    trigger(app, "complaint_handled", "S1", "C1", "2026-10-10T10:00", category="noise", **c)
    trigger(app, "complaint_handled", "S1", "C2", "2026-11-05T10:00", category="noise", **c)
    trigger(app, "repair_completed", "S4", "R5", "2026-10-22T10:00", category="plumbing", worker="w2", unit="1-102")
    trigger(app, "repair_completed", "S4", "R6", "2026-11-22T10:00", category="plumbing", worker="w2", unit="1-102")
    assert [(r["finding"], r["unit"], r["count"], r["min_count"]) for r in rows(app, "repeats")] == [
        ("repeat_repair", "1-102", 2, 2)]


def test_p2_repair_results_feed_the_per_worker_report(quarter):
    app = quarter
    complete(app, "R2-callback", "2026-10-21T10:00", timeliness="late", passed="yes", satisfaction="较满意")
    complete(app, "R3-callback", "2026-12-02T10:00", timeliness="on_time", passed="yes", satisfaction="满意")
    complete(app, "R5-callback", "2026-10-23T10:00", timeliness="on_time", passed="yes", satisfaction="基本满意")
    complete(app, "R1-redo1", "2026-10-12T10:00", timeliness="on_time", passed="yes", satisfaction="满意")
    got = {r["worker"]: r for r in rows(app, "workers", date_from=date(2026, 10, 1), date_to=date(2026, 12, 31))}
    w1, w2 = got["w1"], got["w2"]
    # w1: R1 (failed, re-done and passed), R3 passed, R4 not yet called back
    assert {k: w1[k] for k in ("repairs", "sampled", "callbacks", "on_time", "passed", "failed", "satisfied",
                               "redo_callbacks", "redo_failed")} == \
        {"repairs": 3, "sampled": 3, "callbacks": 2, "on_time": 2, "passed": 1, "failed": 1, "satisfied": 1,
         "redo_callbacks": 1, "redo_failed": 0}
    assert (w1["pass_rate"], w1["on_time_rate"], w1["satisfaction_rate"], w1["callback_rate"]) == \
        (0.5, 1.0, 0.5, 0.666667)
    # w2: R2 passed but late (较满意 counts as satisfied, G16), R5 passed (基本满意 does not), R6 open
    assert (w2["repairs"], w2["callbacks"], w2["passed"], w2["on_time_rate"], w2["satisfaction_rate"]) == \
        (3, 2, 2, 0.5, 0.5)
    assert [(r["worker"], r["repairs"]) for r in rows(app, "workers", date_from=date(2027, 1, 1))] == [("w1", 1)]


def test_p9_complaint_rate_per_designer_inspector_and_crew(hf):
    app = make_app(hf)
    with clock.at(T("2026-09-01T09:00")):
        app.add_staff("cs1", "客服", "agent", "customer_service", "sec-sup")
    parties = {"P1": ("d1", "i1", "c1"), "P2": ("d1", "i2", "c2"), "P3": ("d2", "i1", "c1")}
    for n, (pid, (d, i, c)) in enumerate(parties.items(), 1):
        trigger(app, "renovation_started", f"S{n}", pid, "2026-09-01T10:00", expected_end="2026-10-31", designer=d,
                inspector=i, crew=c, owner="cs1")
    c = {"category": "renovation_noise", "severity": "general", "dept": "security"}
    trigger(app, "complaint_handled", "S1", "K1", "2026-09-20T10:00", renovation="P1", against="crew", **c)
    trigger(app, "complaint_handled", "S1", "K2", "2026-09-25T10:00", renovation="P1", against="crew", **c)
    trigger(app, "complaint_handled", "S3", "K3", "2026-09-25T10:00", renovation="P3", **c)  # about nobody in particular
    with clock.at(T("2026-09-10T10:00")):
        app.record_attempt("P2-early", "phone", "reached", actor="cs1")
        msgs = app.complete("P2-early", {"quality": "fair", "satisfaction": "基本满意", "complaint": "designer",
                                         "problem": "design changed without asking"}, actor="cs1")[1]
    assert any("renovation" in m for m in msgs)  # a ticket for the renovation department
    got = [(r["role"], r["person"], r["projects"], r["complaints"], r["complained_projects"], r["complaint_rate"])
           for r in rows(app, "renovation")]
    assert got == [
        ("designer", "d1", 2, 1, 1, 0.5), ("designer", "d2", 1, 0, 0, 0.0),
        ("inspector", "i1", 2, 0, 0, 0.0), ("inspector", "i2", 1, 0, 0, 0.0),
        ("crew", "c1", 2, 2, 1, 0.5), ("crew", "c2", 1, 0, 0, 0.0),
    ]
    # a month after every project ended, nothing is ongoing
    assert rows(app, "renovation", date_from=date(2026, 12, 1)) == []


def test_reports_are_offered_through_the_huifang_reports_hook():
    from huifang.plugins.property.plugin import plugin

    assert {r.name: r.rules[0] for r in plugin.huifang_reports()} == {"repeats": "P8", "workers": "P2",
                                                                      "renovation": "P9", "survey": "P4"}


def test_p8_repeats_through_the_report_cli(quarter, hf):
    d = hf.ok("report", "property.repeats", "--from", "2026-10-01", "--to", "2026-12-31", now="2027-01-20T10:00+08:00")
    assert d["report"] == "property.repeats"
    assert [(r["finding"], r["count"]) for r in d["rows"]] == [
        ("repeat_complaint", 3), ("repeat_complaint", 2), ("repeat_repair", 3), ("failed_callback", 1)]
    r = hf("report", "repeats", "--by", "month", now="2027-01-20T10:00+08:00")
    assert r.code == 2 and "--by" in r.err  # the quarter is the report's own grouping


def test_P8_repeat_complaints_are_found_by_household_as_well_as_by_subject(hf):
    """The same unit's parking complaint by the wife and then by the husband was no repeat (found only per
    subject). Now complaints of one category in a quarter are one household's when the same subject made
    them or they name the same unit."""
    app = make_app(hf)
    c = {"severity": "general", "dept": "security", "category": "parking"}
    trigger(app, "complaint_handled", "S1", "W1", "2026-10-10T10:00", unit="3-1502", **c)  # the wife
    trigger(app, "complaint_handled", "S2", "H1", "2026-11-05T10:00", unit="3-1502", **c)  # then the husband
    trigger(app, "complaint_handled", "S3", "N1", "2026-11-06T10:00", unit="3-1503", **c)  # the neighbours: once
    trigger(app, "complaint_handled", "S4", "O1", "2026-10-06T10:00", unit="3-1502", category="noise",
            severity="general", dept="security")  # the same unit, another issue
    got = [(r["finding"], r["subject"], r["unit"], r["category"], r["count"], r["items"]) for r in rows(app, "repeats")]
    assert got == [("repeat_complaint", "S1, S2", "3-1502", "parking", 2, "W1, H1")]


def test_P3_G15_visits_cancelled_before_their_window_opened_are_not_due_and_cost_nobody_anything(hf):
    """A household registered 10-12 and left 10-20: its half-year visits and yearly surveys were
    cancelled, yet counted as due and cost the steward a 20-point KPI deduction. Those whose window had
    not opened are not due; the first visit (its half-year had begun) was cancelled before any
    contact: it stays in the G15 figures but costs the steward nothing."""
    app = make_app(hf)
    with clock.at(T("2026-09-01T09:00")):
        app.add_staff("stw", "管家", "agent", "customer_service", "sec-sup")
    trigger(app, "household_registered", "S1", "H1", "2026-10-12T10:00", unit="1-101", owner="stw")
    trigger(app, "household_left", "S1", "L1", "2026-10-20T10:00", unit="1-101", reason="moved abroad")
    d = hf.ok("report", "rates", "--by", "agent", "--from", "2026-01-01", "--to", "2029-12-31",
              now="2029-01-20T10:00+08:00")
    [stw] = [r for r in d["rows"] if r["agent"] == "stw"]
    assert (stw["due"], stw["cancelled"], stw["cancelled_before_contact"], stw["kpi_deduction"]) == (1, 1, 1, 0)
    # visit1 only (its window opened at registration); visit2..4 and the 2026/2027 surveys are not due
    assert not any(r.get("kpi_deduction") for r in d["rows"])


def test_P4_the_yearly_survey_is_planned_tracked_and_reported_per_project_and_building(hf):
    """The yearly owner survey was never scheduled. Each registered household now gets one a year in the
    December season; answering it plans the follow-up of every problem raised; `report survey` gives the
    response rate and satisfaction per project and building, paper questionnaires included."""
    app = make_app(hf)
    with clock.at(T("2026-09-01T09:00")):
        app.add_staff("stw", "管家", "agent", "customer_service", "sec-sup")
        app.add_subject("S5", "住户S5")
    home = {"owner": "stw", "project": "翠湖苑"}
    trigger(app, "household_registered", "S1", "H1", "2026-10-12T10:00", unit="3-1502", **home)
    trigger(app, "household_registered", "S2", "H2", "2026-10-12T10:00", unit="3-0801", **home)
    trigger(app, "household_registered", "S3", "H3", "2026-10-12T10:00", unit="5-0101", **home)
    trigger(app, "household_left", "S3", "L3", "2026-11-02T10:00", unit="5-0101")  # before the season
    # one a year per household: the husband registered for the same unit gets no second survey
    with clock.at(T("2026-10-13T10:00")):
        t, fus, _ = app.receive_trigger("property.household_registered", "S5", {"unit": "3-1502", **home},
                                        trigger_id="H5")
    assert not [f for f in fus if f.visit_type == "yearly_survey"]
    assert {s["key"]: s["meta"].get("survey") for s in t.skipped} == {"survey2026": "H1-survey2026",
                                                                      "survey2027": "H1-survey2027"}
    survey = app.followup_info("H1-survey2026")
    assert (survey.window_open, survey.due, survey.owner) == (T("2026-12-01T09:00"), T("2026-12-28T23:59:59"), "stw")
    with clock.at(T("2026-12-03T10:00")):
        app.record_attempt("H1-survey2026", "phone", "reached", actor="stw")
        _, messages = app.complete("H1-survey2026", {"satisfaction": "较满意", "weakest": "parking",
                                                     "problems": "corridor lights out; parking at night"},
                                   actor="stw")
    assert [m.split()[1] for m in messages if m.startswith("planned")] == [
        "H1-survey2026-problem1", "H1-survey2026-problem2", "H1-survey2028"]  # 2027 was planned already
    with clock.at(T("2026-12-08T10:00")):
        app.record_attempt("H1-survey2026-problem1", "phone", "reached", actor="stw")
        app.complete("H1-survey2026-problem1", {"effect": "yes", "satisfaction": "满意"}, actor="stw")
    # a paper questionnaire returned by a household of building 5
    trigger(app, "satisfaction_survey", "S4", "SV4", "2026-12-10T10:00", year=2026, unit="5-0202",
            project="翠湖苑", satisfaction="满意", problems="gate card")
    got = [(r["year"], r["project"], r["building"], r["households"], r["answered"], r["open"], r["response_rate"],
            r["satisfied"], r["satisfaction_rate"], r["problems"], r["problems_followed"])
           for r in rows(app, "survey", date_from=date(2026, 1, 1), date_to=date(2026, 12, 31))]
    assert got == [(2026, "翠湖苑", "3", 2, 1, 1, 0.5, 1, 1.0, 2, 1),  # H2's survey still open (3-0801)
                   (2026, "翠湖苑", "5", 1, 1, 0, 1.0, 1, 1.0, 1, 0)]  # H3 left: its survey is nobody's
