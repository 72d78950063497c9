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
    complete(app, "R1-callback", "2026-10-09T10:00", timeliness="on_time", passed="no", satisfaction="不满意")
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
                                                                      "renovation": "P9"}


def test_p8_repeats_through_the_report_cli(quarter, hf):
    d = hf.ok("report", "property.repeats", "--from", "2026-10-01", "--to", "2026-12-31", now="2027-01-20T10:00+08:00")
    assert d["report"] == "property.repeats"
    assert [(r["finding"], r["count"]) for r in d["rows"]] == [
        ("repeat_complaint", 3), ("repeat_complaint", 2), ("repeat_repair", 3), ("failed_callback", 1)]
    r = hf("report", "repeats", "--by", "month", now="2027-01-20T10:00+08:00")
    assert r.code == 2 and "--by" in r.err  # the quarter is the report's own grouping
