"""Scenario: one cardiology ward's November 2026 on SQLite and PostgreSQL (M1, M7, M8, M9, G5, G12, G20).

30 discharges (one a day, 09:00) shared by three responsible nurses in turn (M9); the nurses call each
patient when the window opens (M1: 7 days after, rolled past weekends, G6), with these exceptions:

  day 5  (P05, n2) unreachable: 3 attempts in 3 different calling slots, then lost (G5, G14)
  day 9  (P09, n3) worrying symptoms: ticket to cardiology, doctor notified (M7); resolved, second call (G12)
  day 12, 15 (n3)  never called: overdue at the end, escalated to the head nurse
  day 20 (n2)      cancelled before the window: transferred to another hospital
  day 22 (n1)      dissatisfied: a second ticket (G16)
  day 25 = P05 and day 29 = P01 readmitted (G20 outcome); four patients come back for an outpatient review

and the reports (M9 nurses, M8 departments, G20 effect) are compared with the figures computed by hand
in the comments below."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from huifang.core import clock
from huifang.core.domain import Ticket
from huifang.core.errors import Refused
from huifang.core.timers import tick
from huifang.plugins.medical.reports import DepartmentsReport, EffectReport, NursesReport
from huifang.projections.reports import ReportContext
from tests.conftest import Huifang
from tests.pg_support import drop_schema, fresh_schema_url, pg_url
from tests.test_medical_helpers import at, discharge, fail, load, local, make_app, patient, reach, trigger, ward

NURSES = ("n1", "n2", "n3")
READMITTED = {25: "P05", 29: "P01"}
LOST, TICKET, NEVER_CALLED, CANCELLED, UNHAPPY = 5, 9, (12, 15), 20, 22
SATISFACTION = {4: "基本满意", 16: "基本满意", 2: "较满意", 10: "较满意", 18: "较满意", 27: "较满意", 22: "不满意"}
REVIEWS = {"P03": ("2026-12-01", 9), "P15": ("2026-12-02", 5), "P12": ("2026-12-03", 6), "P04": ("2026-12-04", 8)}
END = "2026-12-15T18:00+08:00"


def subject(d: int) -> str:
    return READMITTED.get(d, f"P{d:02d}")


def nurse(d: int) -> str:
    return NURSES[(d - 1) % 3]


def recovery(d: int) -> int:
    return 3 if d == TICKET else 7 + d % 3


def answers(d: int) -> dict:
    unhappy = {"dissatisfaction_code": "waiting", "dissatisfaction_reason": "复诊排队太久"} if d == UNHAPPY else {}
    return {"recovery": recovery(d), "adherence": "good", "symptoms": "worrying" if d == TICKET else "none",
            "satisfaction": SATISFACTION.get(d, "满意"), **unhappy}  # G16: 不满意 carries its reason


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def ward_db(request, tmp_path_factory):
    """One store per backend for the whole module: the month is built once and only read by the tests."""
    if request.param == "sqlite":
        yield str(tmp_path_factory.mktemp("ward") / "huifang.db")
        return
    base = pg_url()
    if not base:
        pytest.skip("HUIFANG_TEST_PG not set")
    url = fresh_schema_url(base)
    yield url
    drop_schema(url)


@pytest.fixture(scope="module")
def month(ward_db):
    db = ward_db
    app = make_app(db)
    ward(app)
    for d in range(1, 31):
        if d not in READMITTED:
            patient(app, subject(d))
    cli = Huifang(db)
    queues: dict = {}
    opens: dict[int, str] = {}
    day = date(2026, 11, 1)
    while day <= date(2026, 12, 10):
        if day.month == 11:
            d = day.day
            [fu] = discharge(app, subject(d), f"D{d:02d}", f"{day}T09:00+08:00", nurse=nurse(d),
                             diagnosis="CHD" if d % 2 else "heart_failure")
            opens[d] = local(fu.window_open)[:10]
            if d == CANCELLED:
                with at(f"{day}T12:00+08:00"):
                    app.close_followup("D20-1", "cancelled", "transferred to another hospital", actor="n2")
        if day == date(2026, 11, 16):  # the morning queue of each nurse (M9), before the calls
            queues = {n: [r["id"] for r in cli.ok("queue", "--agent", n, now="2026-11-16T09:30+08:00")]
                      for n in NURSES}
        for s, (when, score) in REVIEWS.items():
            if when == str(day):
                trigger(app, "outpatient_visit", s, f"OV-{s}", f"{when}T09:30+08:00", department="cardiology",
                        specialist=True, first_visit=False, recovery_score=score)
        for d in [d for d, o in opens.items() if o == str(day)]:
            if d in NEVER_CALLED or d == CANCELLED:
                continue
            if d == LOST:
                work_lost(app, day)
                continue
            reach(app, f"D{d:02d}-1", f"{day}T10:30+08:00", answers(d), actor=nurse(d))
            if d == TICKET:
                work_ticket(app, day)
        day += timedelta(days=1)
    with at(END):
        tick(app)
        app.projector.catch_up()
    yield app, cli, queues
    app.close()


def work_lost(app, day):
    """G5: three attempts in three different calling slots before the follow-up may be lost (G14)."""
    fail(app, "D05-1", f"{day}T10:30+08:00", actor="n2")
    fail(app, "D05-1", f"{day}T15:30+08:00", "busy", actor="n2")
    with pytest.raises(Refused, match="G5: D05-1 has 2 attempt"), at(f"{day}T15:40+08:00"):
        app.close_followup("D05-1", "lost", "no_answer", actor="n2")
    nxt = day + timedelta(days=1)
    fail(app, "D05-1", f"{nxt}T10:30+08:00", actor="n2")
    with at(f"{nxt}T10:40+08:00"):
        app.close_followup("D05-1", "lost", "no_answer", actor="n2")


def work_ticket(app, day):
    """M7 -> G12: the department answers the same day; the nurse confirms within 4 h; the ticket closes."""
    with at(f"{day}T14:00+08:00"):
        _, second = app.resolve_ticket("TK-D09-1-1", "心内科医生电话指导，已预约复诊", actor="hn")
    # G12: 4 h of calling-window time from Mon 14:00: 15-17, then 10-12 on Tuesday
    assert local(second.due) == f"{day + timedelta(days=1)}T12:00:00+08:00"
    reach(app, second.code, f"{day}T15:30+08:00", {"resolved": "yes", "satisfaction": "满意"}, actor="n3")


def rows(app, report, **kw):
    with app.projector.engine.connect() as conn, clock.at(clock.parse_instant(END)):
        return report.rows(ReportContext(conn=conn, app=app, now=clock.parse_instant(END), **kw))


def test_ward_month_queues_outcomes_and_tickets(month):
    app, cli, queues = month
    # discharged Sat 11-07, Sun 11-08 and Mon 11-09: all three windows open Mon 11-16 (M1 + G6)
    assert queues == {"n1": ["D07-1"], "n2": ["D08-1"], "n3": ["D09-1"]}
    d5 = load(app, "D05-1")
    assert d5.status == "lost" and d5.closed_reason == "no_answer" and len(d5.attempts) == 3
    t1 = app.load(Ticket, "TK-D09-1-1", "ticket")
    assert (t1.category, t1.department, t1.status) == ("symptoms", "cardiology", "closed")
    assert load(app, "D09-1").notifications[0]["to"] == "dr1"  # M7
    assert app.load(Ticket, "TK-D22-1-1", "ticket").category == "dissatisfied"
    overdue = cli.ok("queue", "--agent", "n3", "--overdue", now=END)
    assert [r["id"] for r in overdue] == ["D12-1", "D15-1"]
    assert load(app, "D12-1").escalations[0]["to"] == "hn"  # escalated to the head nurse
    assert cli.ok("queue", "--agent", "n1", "--overdue", now=END) == []


def test_m9_callback_rate_per_nurse_equals_the_hand_count(month):
    app, cli, _ = month
    # n1: days 1,4,…,28 all completed                     -> 10/10
    # n2: days 2,5,…,29: day 5 lost; day 20 cancelled before any contact is not due
    #                                                     ->  8/9 = 0.888889, 1 - 0.888889 = 2.2 steps -> 3 points
    # n3: days 3,6,…,30 + the second call of day 9's ticket; days 12, 15 never called -> 9/11 = 0.818182,
    #     1 - 0.818182 = 0.181818 = 3.6 steps -> 4 points
    got = {r["nurse"]: r for r in rows(app, NursesReport())}
    assert {n: (r["due"], r["completed"], r["lost"], r["cancelled_before_contact"], r["overdue"],
                r["callback_rate"], r["kpi_deduction"]) for n, r in got.items()} == {
        "n1": (10, 10, 0, 0, 0, 1.0, 0),
        "n2": (9, 8, 1, 1, 0, 0.888889, 3),
        "n3": (11, 9, 0, 0, 2, 0.818182, 4),
    }
    assert {r["head_nurse"] for r in got.values()} == {"hn"} and got["n1"]["on_time_rate"] == 1.0
    via_cli = cli.ok("report", "nurses", "--from", "2026-11-01", "--to", "2026-12-31", now=END)["rows"]
    assert [(r["nurse"], r["callback_rate"]) for r in via_cli] == [("n1", 1.0), ("n2", 0.888889), ("n3", 0.818182)]


def test_m8_department_satisfaction_is_flagged_below_threshold(month):
    app, cli, _ = month
    # 26 discharge calls completed + 1 second call: 满意 19 + 1, 较满意 4, 基本满意 2, 不满意 1
    # satisfied share = (20 + 4) / 27 = 0.888889 < 0.9 -> flagged (M8)
    [row] = rows(app, DepartmentsReport())
    assert (row["department"], row["responses"], row["satisfied"], row["fairly_satisfied"],
            row["basically_satisfied"], row["dissatisfied"]) == ("cardiology", 27, 20, 4, 2, 1)
    assert row["satisfied_share"] == 0.888889 and row["flagged"] is True and "M8" in row["action"]
    assert (row["dissatisfied_tickets"], row["open_tickets"]) == (1, 1)
    [cli_row] = cli.ok("report", "medical.departments", now=END)["rows"]
    assert cli_row["satisfied_share"] == 0.888889 and cli_row["flagged"] is True


def test_g20_followed_up_vs_not_followed_up_by_diagnosis(month):
    app, _, _ = month
    # CHD (odd days, 15): not followed up = day 5 (lost) + day 15 (never reached); followed up = 13
    #   readmitted within 30 days: day 1 (P01 again on day 29) of the followed; day 5 (P05 again on 25)
    #   recovery at the follow-up: 8 7 8 3 9 8 9 8 7 9 8 7 9 = 100 / 13 = 7.69
    #   outpatient review: P03 9 (followed), P15 5 (not followed)
    # heart failure (even days, 15): day 12 never reached; day 20 cancelled (in neither group); 13 followed
    #   recovery 9 8 7 9 8 9 8 7 8 7 9 8 7 = 104 / 13 = 8.0; reviews P04 8 (followed), P12 6 (not)
    got = [(r["diagnosis"], r["group"], r["discharges"], r["readmitted"], r["readmission_rate"], r["reviewed"],
            r["review_recovery_mean"], r["followup_recovery_mean"]) for r in rows(app, EffectReport())]
    assert got == [
        ("CHD", "followed_up", 13, 1, 0.076923, 1, 9.0, 7.69),
        ("CHD", "not_followed_up", 2, 1, 0.5, 1, 5.0, None),
        ("heart_failure", "followed_up", 13, 0, 0.0, 1, 8.0, 8.0),
        ("heart_failure", "not_followed_up", 1, 0, 0.0, 1, 6.0, None),
    ]
