"""A crafted scenario with known outcomes (a small clinic, two agents, Sept–Nov 2026) and one test per
report KIND asserting every figure against the hand-computed value (G12, G14–G17, G19, F4).

The scenario (all times +08:00, reports run at 2026-11-05 12:00):

September   A6  agA cardio  due 09-15  completed 09-11 on time 满意; ticket T4 parking → resolved, second
                                       follow-up S4 completed (resolved) → T4 closed
            B7  agB ortho   due 09-25  wrong number + 2 no answers → lost "wrong_number"
October     A1  agA cardio  due 10-17  completed 10-13 on time 满意, suggestion
            A2  agA cardio  due 10-17  no answer, then completed 10-13 on time 满意; ticket T3 waiting_time
                                       resolved late (10-16 > deadline 10-14) → second follow-up S3 never done
            A3  agA cardio  due 10-15  completed 10-16 LATE 较满意; ticket T2 attitude (major), never resolved
            A4  agA cardio  due 10-17  3 × no answer in 3 slots → lost "no_answer"
            A5  agA cardio  due 10-17  refused → lost "refused"
            B1  agB ortho   due 10-24  completed 10-20 on time 不满意, suggestion; ticket T1 waiting_time
                                       resolved in time, S1 completed (resolved, 满意) → T1 closed
            B2  agB ortho   due 10-24  completed 10-21 on time 基本满意
            B3  agB ortho   due 10-24  cancelled before any contact
            B4  agB ortho   due 10-24  nothing done → overdue
            B5  agB ortho   due 10-24  no-follow-up statement signed with the visit, on its trigger → exempt (F6)
            B6  agB ortho   due 10-24  reached, then cancelled (after contact)
November    C1  agA cardio  due 11-08  not yet due (pending)
            tickets opened 11-05 09:00 (deadline 11-06): waiting_time ×3, attitude, billing, parking
QA          A1 pass, A2 fail, B1 pass, B2 pass (October); A6 pass (September)
"""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from huifang.core import clock
from huifang.core.application import HuifangApp
from huifang.core.config import Config
from huifang.core.contract import (
    PlannedVisit,
    Question,
    Settings,
    SurveyTemplate,
    TriggerKind,
    VisitType,
    satisfaction_question,
)
from huifang.core.plugin_api import hookimpl
from huifang.projections import open_app as compose_app
from huifang.projections.quality import record as qa_record
from tests.conftest import Huifang
from tests.pg_support import drop_schema, fresh_schema_url, pg_url

NOW = "2026-11-05T12:00:00+08:00"


class VisitAttrs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    department: str
    agent: str
    branch: str | None = None
    days: int = 5
    statement: str | None = None  # F6: a no-follow-up statement signed with the visit itself


SURVEY = SurveyTemplate(key="clinic", title="clinic check", questions=[
    satisfaction_question(), Question(key="suggestion", text="意见和建议 Suggestions", kind="text")])


class Clinic:
    """A minimal test plugin: one trigger kind, one visit due `days` calendar days after the trigger. Its
    visit is exempted like finance's new-policy callback (F6: only by the statement signed with the
    service event and recorded on its trigger), so the figures keep one exempt follow-up; G7 allows no
    exemption by a statement on the subject's file."""

    name = "clinic"

    @hookimpl
    def huifang_settings_model(self):
        return Settings

    @hookimpl
    def huifang_trigger_kinds(self):
        return [TriggerKind(name="visit", attributes=VisitAttrs, exemption_attribute="statement")]

    @hookimpl
    def huifang_visit_types(self):
        return [VisitType(name="check", survey=SURVEY, exemption="trigger")]

    @hookimpl
    def huifang_plan(self, trigger, subject, settings, scheduler, history):
        a = trigger.attributes
        return [PlannedVisit(key="1", visit_type="check", owner=a["agent"], department=a["department"],
                             branch=a["branch"], window_open=trigger.at,
                             due=trigger.at + timedelta(days=a["days"]))]


def at(text: str) -> Any:
    return clock.at(clock.parse_instant(text))


def open_app(db: str, settings: dict | None = None) -> HuifangApp:
    cfg = Config.model_validate({"huifang": {"plugins": ["clinic"]}, "plugins": {"clinic": settings or {}}})
    return compose_app(db, cfg, extra_plugins={"clinic": Clinic()})


def build_scenario(db: str) -> None:
    app = open_app(db)
    try:
        _build(app)
    finally:
        app.close()


def _build(app: HuifangApp) -> None:
    with at("2026-09-01T09:00+08:00"):
        app.add_staff("sup1", "主管", "supervisor", "quality")
        app.add_staff("agA", "坐席甲", "agent", "cardio", "sup1")
        app.add_staff("agB", "坐席乙", "agent", "ortho", "sup1")
        for s in ("A1", "A2", "A3", "A4", "A5", "A6", "B1", "B2", "B3", "B4", "B5", "B6", "B7", "C1"):
            app.add_subject("s" + s, f"患者{s}", ["13800000000"])

    def visit(code: str, when: str, agent: str, dept: str, days: int = 5, branch: str | None = None,
              statement: str | None = None) -> str:
        with at(when):
            _, fus, _ = app.receive_trigger("clinic.visit", "s" + code, {
                "department": dept, "agent": agent, "branch": branch, "days": days, "statement": statement},
                trigger_id=code)
        return fus[0].code

    def attempt(fu: str, when: str, outcome: str, actor: str) -> None:
        with at(when):
            app.record_attempt(fu, "phone", outcome, actor=actor)

    def complete(fu: str, when: str, actor: str, **answers: Any) -> None:
        with at(when):
            app.record_attempt(fu, "phone", "reached", actor=actor)
            app.complete(fu, answers, actor=actor)

    def ticket(fu: str, when: str, category: str, dept: str, severity: str = "normal") -> str:
        with at(when):
            return app.open_ticket(fu, category, dept, severity).code

    def resolve(tk: str, when: str) -> str:
        with at(when):
            _, second = app.resolve_ticket(tk, "handled")
        return second.code

    # -- September
    a6 = visit("A6", "2026-09-10T09:00+08:00", "agA", "cardio", branch="north")
    complete(a6, "2026-09-11T10:30+08:00", "agA", satisfaction="满意")
    t4 = ticket(a6, "2026-09-11T11:00+08:00", "parking", "cardio")
    s4 = resolve(t4, "2026-09-11T16:00+08:00")
    complete(s4, "2026-09-11T17:00+08:00", "agA", resolved="yes", satisfaction="满意")
    b7 = visit("B7", "2026-09-20T09:00+08:00", "agB", "ortho", branch="south")
    attempt(b7, "2026-09-21T10:30+08:00", "wrong_number", "agB")
    attempt(b7, "2026-09-21T15:30+08:00", "no_answer", "agB")
    attempt(b7, "2026-09-22T10:30+08:00", "no_answer", "agB")
    with at("2026-09-22T11:00+08:00"):
        app.close_followup(b7, "lost", "wrong_number", actor="agB")
    # -- October, agent A (cardio, north)
    a1 = visit("A1", "2026-10-12T09:00+08:00", "agA", "cardio", branch="north")
    complete(a1, "2026-10-13T10:30+08:00", "agA", satisfaction="满意", suggestion="希望增加停车位 more parking")
    a2 = visit("A2", "2026-10-12T09:05+08:00", "agA", "cardio", branch="north")
    attempt(a2, "2026-10-13T10:40+08:00", "no_answer", "agA")
    complete(a2, "2026-10-13T15:30+08:00", "agA", satisfaction="满意")
    t3 = ticket(a2, "2026-10-13T16:00+08:00", "waiting_time", "cardio")
    resolve(t3, "2026-10-16T10:00+08:00")  # deadline 10-14 16:00: late; its second follow-up never done
    a3 = visit("A3", "2026-10-12T09:10+08:00", "agA", "cardio", days=3, branch="north")
    complete(a3, "2026-10-16T10:30+08:00", "agA", satisfaction="较满意")  # due 10-15: late
    ticket(a3, "2026-10-16T11:00+08:00", "attitude", "cardio", "major")
    a4 = visit("A4", "2026-10-12T09:15+08:00", "agA", "cardio", branch="north")
    for when in ("2026-10-13T10:30+08:00", "2026-10-13T15:30+08:00", "2026-10-14T10:30+08:00"):
        attempt(a4, when, "no_answer", "agA")
    with at("2026-10-14T11:00+08:00"):
        app.close_followup(a4, "lost", "no_answer", actor="agA")
    a5 = visit("A5", "2026-10-12T09:20+08:00", "agA", "cardio", branch="north")
    attempt(a5, "2026-10-13T10:30+08:00", "refused", "agA")
    with at("2026-10-13T10:35+08:00"):
        app.close_followup(a5, "lost", "refused", actor="agA")
    # -- October, agent B (ortho, south)
    b1 = visit("B1", "2026-10-19T09:00+08:00", "agB", "ortho", branch="south")
    complete(b1, "2026-10-20T10:30+08:00", "agB", satisfaction="不满意", suggestion="等候时间太长 waiting too long",
             dissatisfaction_code="waiting", dissatisfaction_reason="等了两个小时")  # G16
    t1 = ticket(b1, "2026-10-20T11:00+08:00", "waiting_time", "ortho")
    s1 = resolve(t1, "2026-10-20T16:00+08:00")
    complete(s1, "2026-10-20T17:00+08:00", "agB", resolved="yes", satisfaction="满意")
    b2 = visit("B2", "2026-10-19T09:05+08:00", "agB", "ortho", branch="south")
    complete(b2, "2026-10-21T10:30+08:00", "agB", satisfaction="基本满意")
    b3 = visit("B3", "2026-10-19T09:10+08:00", "agB", "ortho", branch="south")
    with at("2026-10-20T09:00+08:00"):
        app.close_followup(b3, "cancelled", "readmitted", actor="agB")
    visit("B4", "2026-10-19T09:15+08:00", "agB", "ortho", branch="south")
    visit("B5", "2026-10-19T09:20+08:00", "agB", "ortho", branch="south", statement="F6 statement 2026-0042")
    b6 = visit("B6", "2026-10-19T09:25+08:00", "agB", "ortho", branch="south")
    attempt(b6, "2026-10-20T10:40+08:00", "reached", "agB")
    with at("2026-10-20T11:00+08:00"):
        app.close_followup(b6, "cancelled", "duplicate record", actor="agB")
    # -- November
    visit("C1", "2026-11-03T09:00+08:00", "agA", "cardio", branch="north")
    for fu, cat in ((a1, "waiting_time"), (b2, "waiting_time"), (a2, "waiting_time"), (a1, "attitude"),
                    (b2, "billing"), (a2, "parking")):
        ticket(fu, "2026-11-05T09:00+08:00", cat, "cardio" if fu != b2 else "ortho")
    # -- G17 checks
    with at("2026-11-02T09:00+08:00"):
        qa_record(app, a1, "pass", "", "sup1")
        qa_record(app, a2, "fail", "no greeting script", "sup1")
        qa_record(app, b1, "pass", None, "sup1")
        qa_record(app, b2, "pass", "ok", "sup1")
        qa_record(app, a6, "pass", "ok", "sup1")


@pytest.fixture(scope="module", params=["sqlite", "postgres"], name="scn")  # "[postgres" ids skip without a server
def scenario_fixture(request: Any, tmp_path_factory: Any) -> Any:
    """The scenario store on each backend, and a CLI runner on it (no plugins enabled: figures use the
    rulebook defaults, target 100%, threshold 90%)."""
    tmp = tmp_path_factory.mktemp("scenario")
    if request.param == "sqlite":
        db = str(tmp / "huifang.db")
    else:
        if not pg_url():
            pytest.skip("HUIFANG_TEST_PG not set")
        db = fresh_schema_url(pg_url())
    build_scenario(db)
    cfg = tmp / "huifang.toml"
    cfg.write_text("[huifang]\nplugins = []\n", encoding="utf-8")
    yield Huifang(db, now=NOW, config=str(cfg))
    if request.param == "postgres":
        drop_schema(db)


def report(h: Huifang, *args: str) -> list[dict[str, Any]]:
    data = h.ok("report", *args)
    assert set(data) >= {"report", "rows", "generated_at"}
    assert data["generated_at"] == NOW
    return data["rows"]


def one(rows: list[dict[str, Any]], **match: Any) -> dict[str, Any]:
    found = [r for r in rows if all(r.get(k) == v for k, v in match.items())]
    assert len(found) == 1, (match, rows)
    return found[0]


def test_g15_rates_october(scn):
    (r,) = report(scn, "rates", "--month", "2026-10")
    # due: A1 A2 A3 A4 A5 B1 B2 B3 B4 B6 S1 S3 (B5 exempt; C1 is November)
    assert {k: r[k] for k in ("due", "completed", "reached", "refused", "cancelled", "cancelled_before_contact",
                              "lost", "open", "overdue", "exempt", "pending", "on_time", "subjects_followed")} == {
        "due": 12, "completed": 6, "reached": 7, "refused": 1, "cancelled": 2, "cancelled_before_contact": 1,
        "lost": 2, "open": 2, "overdue": 2, "exempt": 1, "pending": 0, "on_time": 5, "subjects_followed": 5}
    assert r["callback_rate"] == 0.5  # 6 / 12
    assert r["success_rate"] == 0.7  # 7 / (12 − 1 refused − 1 cancelled before contact)
    assert r["on_time_rate"] == round(5 / 12, 6)


def test_g15_rates_per_agent_with_kpi_deduction(scn):
    rows = report(scn, "rates", "--month", "2026-10", "--by", "agent")
    a, b = one(rows, agent="agA"), one(rows, agent="agB")
    # agA: A1..A5 + S3 (second follow-up of A2's ticket): 3 completed of 6, 1 refused
    assert (a["due"], a["completed"], a["reached"], a["refused"], a["lost"], a["overdue"], a["on_time"]) == \
        (6, 3, 3, 1, 2, 1, 2)
    assert (a["callback_rate"], a["success_rate"], a["on_time_rate"]) == (0.5, 0.6, round(2 / 6, 6))
    # agB: B1 B2 B3 B4 B6 S1 (B5 exempt): 3 completed, 4 reached, B3 cancelled before contact
    assert (b["due"], b["completed"], b["reached"], b["cancelled"], b["cancelled_before_contact"], b["exempt"],
            b["overdue"], b["on_time"]) == (6, 3, 4, 2, 1, 1, 1, 3)
    assert (b["callback_rate"], b["success_rate"], b["on_time_rate"]) == (0.5, 0.8, 0.5)
    # G15: 50% against the 100% target = 10 steps of 5% = 10 KPI points; agB is charged 3 of 5, not of 6:
    # B3, cancelled before any contact (readmitted), was not agB's to do (P3/G15: it costs nobody anything)
    # -> 60% = 8 steps
    assert a["callback_target"] == 1.0 and a["kpi_deduction"] == 10 and b["kpi_deduction"] == 8


def test_g15_rates_by_month_and_visit_type(scn):
    rows = report(scn, "rates", "--by", "month,visit_type")
    sep = one(rows, month="2026-09", visit_type="check")
    assert (sep["due"], sep["completed"], sep["lost"], sep["callback_rate"]) == (2, 1, 1, 0.5)
    sep2 = one(rows, month="2026-09", visit_type="second_followup")
    assert (sep2["due"], sep2["completed"], sep2["on_time"]) == (1, 1, 1)
    octo = one(rows, month="2026-10", visit_type="second_followup")  # S1 done, S3 overdue
    assert (octo["due"], octo["completed"], octo["overdue"], octo["callback_rate"]) == (2, 1, 1, 0.5)
    assert one(rows, month="2026-10", visit_type="check")["due"] == 10
    assert not [r for r in rows if r["month"] == "2026-11"]  # C1 only pending: nothing to rate yet
    (nov,) = report(scn, "rates", "--from", "2026-11-01", "--to", "2026-11-30")
    assert (nov["due"], nov["pending"], nov["callback_rate"]) == (0, 1, None)


def test_g15_kpi_target_from_plugin_settings(scn, tmp_path):
    """callback_target and kpi_step are plugin settings (huifang.toml [plugins.clinic])."""
    from huifang.projections.render import build

    app = open_app(scn.db, {"callback_target": 0.9, "kpi_step": 0.1})
    try:
        with at(NOW):
            app.projector.catch_up()
            with app.projector.engine.connect() as conn:
                from datetime import date

                doc = build(app, conn, "rates", by=["agent"], date_from=date(2026, 10, 1), date_to=date(2026, 10, 31),
                            fmt="json")
    finally:
        app.close()
    a = one(doc.rows, agent="agA")
    assert a["callback_target"] == 0.9 and a["kpi_deduction"] == 4  # (0.9 − 0.5) / 0.1


def test_g15_steps_below_target():
    from huifang.projections.reports import steps_below

    assert steps_below(1.0, 1.0, 0.05) == 0
    assert steps_below(0.97, 1.0, 0.05) == 1  # part of a step counts
    assert steps_below(0.95, 1.0, 0.05) == 1  # exactly one step (no float drift)
    assert steps_below(0.90, 1.0, 0.05) == 2
    assert steps_below(0.89, 1.0, 0.05) == 3
    assert steps_below(None, 1.0, 0.05) == 0


def test_g16_satisfaction_by_department(scn):
    rows = report(scn, "satisfaction", "--month", "2026-10")  # default: by department
    cardio, ortho = one(rows, department="cardio"), one(rows, department="ortho")
    # cardio: A1 满意, A2 满意, A3 较满意
    assert (cardio["responses"], cardio["satisfied"], cardio["fairly_satisfied"], cardio["basically_satisfied"],
            cardio["dissatisfied"]) == (3, 2, 1, 0, 0)
    assert cardio["satisfied_share"] == 1.0 and cardio["flagged"] is False
    # ortho: B1 不满意, B2 基本满意, S1 满意 → (满意 + 较满意) = 1 of 3, below the 90% threshold
    assert (ortho["responses"], ortho["satisfied"], ortho["fairly_satisfied"], ortho["basically_satisfied"],
            ortho["dissatisfied"]) == (3, 1, 0, 1, 1)
    assert ortho["satisfied_share"] == round(1 / 3, 6) and ortho["dissatisfied_share"] == round(1 / 3, 6)
    assert ortho["threshold"] == 0.9 and ortho["flagged"] is True
    (total,) = report(scn, "satisfaction", "--month", "2026-10", "--by", "plugin")
    assert (total["responses"], total["satisfied_share"]) == (6, round(4 / 6, 6))


def test_g14_lost_reasons(scn):
    rows = report(scn, "lost", "--month", "2026-10")
    assert rows == [{"reason": "no_answer", "lost": 1, "lost_share": 0.5},
                    {"reason": "refused", "lost": 1, "lost_share": 0.5}]
    rows = report(scn, "lost", "--by", "agent")
    assert [(r["agent"], r["reason"], r["lost"]) for r in rows] == [
        ("agA", "no_answer", 1), ("agA", "refused", 1), ("agB", "wrong_number", 1)]


def test_g12_tickets_october(scn):
    (r,) = report(scn, "tickets", "--month", "2026-10")
    # T1 closed (in time, second follow-up done), T2 open major past deadline, T3 resolved late (second not done)
    assert {k: r[k] for k in ("tickets", "major", "open", "resolved", "closed", "unresolved", "overdue",
                              "second_followup_done", "reopened")} == {
        "tickets": 3, "major": 1, "open": 1, "resolved": 1, "closed": 1, "unresolved": 2, "overdue": 2,
        "second_followup_done": 1, "reopened": 0}
    assert r["resolution_rate"] == round(2 / 3, 6) and r["unresolved_share"] == round(2 / 3, 6)
    assert r["categories"] == {"waiting_time": 2, "attitude": 1}
    rows = report(scn, "tickets", "--month", "2026-10", "--by", "department")
    cardio, ortho = one(rows, department="cardio"), one(rows, department="ortho")
    assert (cardio["tickets"], cardio["resolution_rate"], cardio["overdue"], cardio["second_followup_done"]) == \
        (2, 0.5, 2, 0)
    assert (ortho["tickets"], ortho["closed"], ortho["resolution_rate"], ortho["overdue"]) == (1, 1, 1.0, 0)
    (nov,) = report(scn, "tickets", "--month", "2026-11")
    assert (nov["tickets"], nov["open"], nov["overdue"]) == (6, 6, 0)  # deadline 11-06, now 11-05 12:00


def test_g19_pareto_of_causes(scn):
    rows = report(scn, "pareto")  # all time: 10 tickets
    assert [(r["cause"], r["tickets"], r["ticket_share"], r["cumulative_share"], r["vital_few"]) for r in rows] == [
        ("waiting_time", 5, 0.5, 0.5, True),
        ("attitude", 2, 0.2, 0.7, True),
        ("parking", 2, 0.2, 0.9, True),  # crosses 80%: still one of the vital few
        ("billing", 1, 0.1, 1.0, False),
    ]
    nov = report(scn, "pareto", "--month", "2026-11")
    assert [(r["cause"], r["tickets"], r["cumulative_share"], r["vital_few"]) for r in nov] == [
        ("waiting_time", 3, 0.5, True), ("attitude", 1, round(4 / 6, 6), True),
        ("billing", 1, round(5 / 6, 6), True), ("parking", 1, 1.0, False)]


def test_g17_qa_pass_rate_per_agent(scn):
    rows = report(scn, "qa", "--month", "2026-10")
    assert rows == [{"agent": "agA", "checked": 2, "passed": 1, "failed": 1, "pass_rate": 0.5},
                    {"agent": "agB", "checked": 2, "passed": 2, "failed": 0, "pass_rate": 1.0}]
    rows = report(scn, "qa")
    assert one(rows, agent="agA")["pass_rate"] == round(2 / 3, 6)


def test_g19_opinions(scn):
    rows = report(scn, "opinions", "--month", "2026-10")
    assert [(r["followup"], r["question"], r["text"], r["satisfaction"]) for r in rows] == [
        ("A1-1", "suggestion", "希望增加停车位 more parking", "满意"),
        ("B1-1", "suggestion", "等候时间太长 waiting too long", "不满意")]


def test_g19_unresolved_tickets(scn):
    rows = report(scn, "unresolved", "--month", "2026-10")
    assert [(r["ticket"], r["status"], r["overdue"], r["severity"], r["days_open"]) for r in rows] == [
        ("TK-A2-1-1", "resolved", True, "normal", 23), ("TK-A3-1-1", "open", True, "major", 20)]
    assert len(report(scn, "unresolved")) == 8  # + the six opened in November


def test_g19_monthly_report_sections(scn):
    data = scn.ok("report", "monthly")  # default: the last complete month before --now = October
    assert data["filters"]["from"] == "2026-10-01" and data["filters"]["to"] == "2026-10-31"
    names = [s["name"] for s in data["sections"]]
    assert names == ["summary", "plugins", "trend", "agents", "satisfaction", "opinions", "lost", "tickets",
                     "pareto", "unresolved", "qa"]
    sections = {s["name"]: s["rows"] for s in data["sections"]}
    assert data["rows"] == sections["summary"] == report(scn, "rates", "--month", "2026-10")
    assert sections["agents"] == report(scn, "rates", "--month", "2026-10", "--by", "agent")
    assert sections["satisfaction"] == report(scn, "satisfaction", "--month", "2026-10")
    assert sections["qa"] == report(scn, "qa", "--month", "2026-10")
    assert [r["month"] for r in sections["trend"]] == ["2026-09", "2026-10"]
    assert [(r["category"], r["tickets"]) for r in sections["tickets"]] == [("attitude", 1), ("waiting_time", 2)]


def test_g19_quarterly_report(scn):
    data = scn.ok("report", "quarterly")  # last complete quarter before 2026-11-05: Q3
    assert (data["filters"]["from"], data["filters"]["to"]) == ("2026-07-01", "2026-09-30")
    (r,) = data["rows"]
    # A6 + S4 completed, B7 lost
    assert (r["due"], r["completed"], r["lost"], r["callback_rate"], r["success_rate"]) == \
        (3, 2, 1, round(2 / 3, 6), round(2 / 3, 6))
    q4 = scn.ok("report", "quarterly", "--quarter", "2026-Q4")
    assert (q4["filters"]["from"], q4["filters"]["to"]) == ("2026-10-01", "2026-12-31")
    assert q4["rows"][0]["due"] == 12 and q4["rows"][0]["pending"] == 1


def test_g15_plugin_filter_and_branch(scn):
    rows = report(scn, "rates", "--plugin", "clinic", "--by", "branch", "--month", "2026-10")
    assert [(r["branch"], r["due"]) for r in rows] == [("north", 6), ("south", 6)]
    r = scn("report", "rates", "--plugin", "nosuch")
    assert r.code == 2 and "--plugin" in r.err and "clinic" in r.err


def test_report_json_is_valid_and_rates_are_fractions(scn):
    for kind in ("rates", "satisfaction", "lost", "tickets", "pareto", "qa"):
        data = scn.ok("report", kind, "--by", "month")
        json.dumps(data)
        for row in data["rows"]:
            for k, v in row.items():
                if k.endswith(("_rate", "_share")) and v is not None:
                    assert 0 <= v <= 1, (kind, k, v)
