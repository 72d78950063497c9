"""Tickets (问题件) on the plugin API fakes: G12 calling-window hours for the second follow-up, G16 the
reason a 不满意 answer needs, the plugins' ticket routing (M7, A8, G12/G13) and F8's branch ticket share
(004 §4 art.16). Values worked out by hand on the 2026 holiday calendar."""
from __future__ import annotations

from datetime import datetime

import pytest

from huifang.core.errors import HuifangError
from huifang.core.plugin_api import DISSATISFACTION_REASONS, Settings, TicketInfo, TicketRoute, testing
from huifang.core.usecases.tickets import dissatisfaction, split_reason
from huifang.plugins.aesthetics.plugin import plugin as aesthetics
from huifang.plugins.finance.figures import ALL, with_ticket_shares
from huifang.plugins.finance.plugin import plugin as finance
from huifang.plugins.medical.plugin import plugin as medical

HOSPITAL = testing.scheduler(Settings())  # 10:00-12:00, 15:00-17:00 (G6)
FINANCE = testing.scheduler(Settings(calling_windows=["10:00-11:00", "14:00-16:00"]))


def after(sched, start: str, hours: float = 4) -> str:
    return sched.add_window_hours(datetime.fromisoformat(start), hours).isoformat()


# -- G12: the second follow-up within 4 hours of calling-window time -------------------------------------
def test_G12_hospital_ticket_resolved_1830_second_followup_due_next_working_day_1700():
    # Tue 10-13 18:30: nothing left today; Wed 10-12 (2 h) and 15-17 (2 h)
    assert after(HOSPITAL, "2026-10-13T18:30:00+08:00") == "2026-10-14T17:00:00+08:00"
    # Fri 10-09 after hours: the next working day is Sat 10-10, a make-up workday (调休)
    assert after(HOSPITAL, "2026-10-09T18:30:00+08:00") == "2026-10-10T17:00:00+08:00"


def test_G12_window_hours_carry_over_the_midday_break_nights_and_holidays():
    assert after(HOSPITAL, "2026-10-13T10:00:00+08:00") == "2026-10-13T17:00:00+08:00"  # 10-12 + 15-17
    assert after(HOSPITAL, "2026-10-13T13:00:00+08:00") == "2026-10-14T12:00:00+08:00"  # 15-17, then 10-12
    assert after(HOSPITAL, "2026-10-08T16:00:00+08:00") == "2026-10-09T16:00:00+08:00"  # 1 h + 2 h + 1 h
    # Wed 09-30 16:30: half an hour, then the National Day holiday (10-01..10-07) is skipped
    assert after(HOSPITAL, "2026-09-30T16:30:00+08:00") == "2026-10-08T16:30:00+08:00"
    assert after(HOSPITAL, "2026-10-13T18:30:00+08:00", 0) == "2026-10-13T18:30:00+08:00"
    with pytest.raises(ValueError):
        after(HOSPITAL, "2026-10-13T18:30:00+08:00", -1)


def test_G12_finance_ticket_resolved_friday_1530_due_monday_1030_over_the_make_up_saturday():
    # Fri 10-09 15:30-16:00 (0.5 h), Sat 10-10 (调休 workday) 10-11 (1 h) and 14-16 (2 h), Mon 10-12 10:00-10:30
    assert after(FINANCE, "2026-10-09T15:30:00+08:00") == "2026-10-12T10:30:00+08:00"


# -- G16: a 不满意 answer carries its reason --------------------------------------------------------------
def test_G16_dissatisfied_answer_needs_a_reason_code_and_the_subjects_words():
    answers, given = split_reason({"satisfaction": "不满意", "dissatisfaction_code": "服务态度",
                                   "dissatisfaction_reason": "前台不理人"})
    assert answers == {"satisfaction": "不满意"}
    assert dissatisfaction("不满意", given, DISSATISFACTION_REASONS) == {
        "dissatisfaction_code": "attitude", "dissatisfaction_reason": "前台不理人"}  # the label is accepted
    for given, field in (({}, "reason_code"), ({"dissatisfaction_code": "attitude"}, "reason"),
                         ({"dissatisfaction_code": "rude", "dissatisfaction_reason": "x"}, "reason_code")):
        with pytest.raises(HuifangError) as e:
            dissatisfaction("dissatisfied", given, DISSATISFACTION_REASONS)
        assert e.value.field == field
    assert dissatisfaction("满意", {}, DISSATISFACTION_REASONS) == {}
    with pytest.raises(HuifangError, match="only a 不满意"):  # a reason on a satisfied answer is a slip
        dissatisfaction("满意", {"dissatisfaction_code": "other"}, DISSATISFACTION_REASONS)


# -- G12, G13, M7, A8: who owns a ticket ----------------------------------------------------------------
def route(plugin, category: str, department: str, severity: str = "normal", **settings) -> TicketRoute | None:
    kind = next(iter(testing.kinds_of(plugin)))
    info = testing.trigger(plugin, kind)
    visit = testing.visits(testing.plan(plugin, kind))[0]
    return plugin.huifang_ticket_route(
        ticket=TicketInfo(category=category, department=department, severity=severity, opened_by="a1"),
        followup=testing.followup(info, visit), settings=testing.settings_of(plugin, **settings),
        history=testing.FakeHistory())


def test_M7_medical_ticket_belongs_to_the_head_of_the_clinical_department():
    assert route(medical, "symptoms", "cardiology") == TicketRoute(head_of="cardiology")


def test_A8_complaint_risk_routed_to_the_customer_service_supervisor_who_is_told():
    assert route(aesthetics, "complaint_risk", "surgery") == TicketRoute(head_of="customer_service",
                                                                        notify_owner=True)
    assert route(aesthetics, "complaint_risk", "surgery", complaint_supervisor="cs1").owner == "cs1"
    assert route(aesthetics, "recovery_problem", "surgery") is None  # the engine's default


def test_G13_finance_major_anomaly_to_management_else_the_wealth_management_head():
    assert route(finance, "signed_on_behalf", "wealth_management", "major") == TicketRoute(
        head_of="wealth_management")
    assert route(finance, "private_fee", "wealth_management", "major", management="gm").owner == "gm"
    assert route(finance, "product_not_explained", "compliance") == TicketRoute(head_of="compliance")


# -- F8 / 004 §4 art.16: each branch's share of the tickets --------------------------------------------------
def test_F8_branch_ticket_share_of_the_total_per_period():
    rows = [{"branch": "bj", "month": "2026-09", "tickets": 1}, {"branch": "sh", "month": "2026-09", "tickets": 3},
            {"branch": "sh", "month": "2026-10", "tickets": 0}, {"branch": ALL, "month": ALL, "tickets": 4}]
    shares = [r["ticket_share"] for r in with_ticket_shares(rows, ["branch", "month"])]
    assert shares == [0.25, 0.75, None, 1.0]  # 10月 has no tickets: no share
    assert with_ticket_shares([{"month": "2026-09", "tickets": 2}], ["month"])[0]["ticket_share"] == 1.0
