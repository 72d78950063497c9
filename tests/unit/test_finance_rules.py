"""Finance rules on the plugin API's fakes (no store): F1–F4 and F7 plan arithmetic on the 2026
holiday calendar (F4 from the receipt date, a late policy's warning), F5 phone rounds, fallback
channel, 10% quota, the letter's states, lost only at the end of the ladder and the signed home visit,
F6 exemption declarations, F9 recorded lines and the call's language, G9 conflicts by reporting line
and sales department, F3 special campaigns, F4/F8 rate denominators, G12 opinions and G13 major
anomalies. Story tests through the CLI: tests/test_finance_*.py."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection

from huifang.core.plugin_api import (
    Escalate,
    FollowUpInfo,
    Notify,
    OpenTicket,
    PlannedVisit,
    PluginError,
    Reschedule,
    SwitchChannel,
    Warn,
    clock,
    testing,
)
from huifang.core.plugin_api import views as core_views
from huifang.plugins.finance import plugin
from huifang.plugins.finance.plan import add_months
from huifang.plugins.finance.views import finance_followups
from huifang.plugins.finance.views import metadata as finance_metadata

SIGNED = "2026-09-30T15:00:00+08:00"  # Wednesday before National Day
CONTRACT = {"advisor": "adv1", "product": "稳健理财1号", "branch": "sh-pudong"}
POLICY = {"agent": "ag1", "branch": "sh-pudong", "sales_channel": "agency"}


def by_key(items: list[Any]) -> dict[str, PlannedVisit]:
    return {v.key: v for v in testing.visits(items)}


def day(dt: datetime) -> str:
    return dt.date().isoformat()


def test_finance_conforms_to_the_plugin_api():
    testing.assert_conforms(plugin)


# -- F1 -----------------------------------------------------------------------------------------------
def test_f1_due_skips_national_day_and_counts_make_up_workday():
    new = by_key(testing.plan(plugin, "contract_signed", CONTRACT, at=SIGNED))["new"]
    assert new.visit_type == "new_contract" and not new.provisional
    # 5 working days after Wed 09-30: 10-01..10-07 off, then 10-08, 10-09, Sat 10-10 (make-up), 10-12, 10-13
    assert new.due.isoformat() == "2026-10-13T23:59:59+08:00"
    assert new.window_open.isoformat() == SIGNED  # G6: 15:00 is inside the 14:00-16:00 window
    assert new.meta["cap"] == "2026-10-30"  # never later than one calendar month


def test_f1_one_calendar_month_cap_wins_over_a_longer_workday_count():
    settings = testing.settings_of(plugin, new_contract_due_workdays=25)
    new = by_key(testing.plan(plugin, "contract_signed", CONTRACT, at=SIGNED, settings=settings))["new"]
    assert day(new.due) == "2026-10-30"  # 25 working days would be 11-10


def test_f1_calendar_month_clamps_to_month_end():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 9, 30), 1) == date(2026, 10, 30)
    assert add_months(date(2027, 12, 15), 1) == date(2028, 1, 15)
    assert add_months(date(2028, 2, 29), 12) == date(2029, 2, 28)


# -- F2 -----------------------------------------------------------------------------------------------
def test_f2_one_followup_before_each_anniversary_provisional_without_official_data():
    fus = by_key(testing.plan(plugin, "contract_signed", CONTRACT, at=SIGNED))
    assert sorted(fus) == ["new", "year1", "year2", "year3"]  # default: 3 contract years
    year1, year2 = fus["year1"], fus["year2"]
    assert (year1.visit_type, year1.meta["contract_year"]) == ("continuing", 1)
    # the 30 days before 2027-09-30, due on the anniversary itself
    assert year1.window_open.isoformat() == "2027-08-31T10:00:00+08:00"
    assert year1.due.isoformat() == "2027-09-30T23:59:59+08:00"
    assert year1.provisional  # 2027 has no official holiday data (G6)
    assert day(year2.due) == "2028-09-29"  # 2028-09-30 is a Saturday: never after the anniversary


def test_f2_term_years_sets_the_number_of_yearly_followups():
    fus = by_key(testing.plan(plugin, "contract_signed", {**CONTRACT, "term_years": 1}, at=SIGNED))
    assert sorted(fus) == ["new", "year1"]


# -- F3 -----------------------------------------------------------------------------------------------
def sold(kind: str, at: str, **attributes: Any) -> dict[str, Any]:
    """A `triggers` view row: an earlier sale of subject S1."""
    return {"subject": "S1", "kind": f"finance.{kind}", "occurred_at": at, "attributes": attributes}


@pytest.mark.parametrize("kind, attributes, visit_type", [
    ("agreement_changed", {"change": "commission_rate"}, "agreement_change"),
    ("contract_terminated", {"reason": "移居海外"}, "termination"),
    ("complaint_handled", {"category": "收费争议"}, "complaint"),
])
def test_f3_special_followups_inherit_seller_and_branch_within_5_working_days(kind, attributes, visit_type):
    history = testing.FakeHistory(triggers=[
        sold("contract_signed", "2026-03-02T10:00:00+08:00", advisor="adv0", branch="bj-chaoyang", contract="HT0"),
        sold("contract_signed", "2026-09-30T15:00:00+08:00", advisor="adv1", branch="sh-pudong", contract="HT1"),
    ])
    [fu] = testing.plan(plugin, kind, attributes, at="2026-11-02T10:00:00+08:00", history=history)
    assert fu.visit_type == visit_type
    # the latest contract: its seller is excluded (G9), its branch counts the follow-up (F8)
    assert (fu.meta["seller"], fu.branch, fu.excluded_staff) == ("adv1", "sh-pudong", ["adv1"])
    assert day(fu.due) == "2026-11-09"  # Mon 11-02 + 5 working days
    assert ("triggers", ("S1", "finance.contract_signed")) in history.calls


def test_f3_the_named_contract_wins_over_the_latest_one():
    history = testing.FakeHistory(triggers=[
        sold("contract_signed", "2026-03-02T10:00:00+08:00", advisor="adv0", branch="bj-chaoyang", contract="HT0"),
        sold("contract_signed", "2026-09-30T15:00:00+08:00", advisor="adv1", branch="sh-pudong", contract="HT1"),
    ])
    [fu] = testing.plan(plugin, "agreement_changed", {"change": "validity", "contract": "HT0"},
                        at="2026-11-02T10:00:00+08:00", history=history)
    assert (fu.meta["seller"], fu.branch, fu.meta["change_kind"]) == ("adv0", "bj-chaoyang", "validity")


# -- F4 -----------------------------------------------------------------------------------------------
def test_f4_due_is_the_last_day_of_the_cooling_off_period():
    [fu] = testing.plan(plugin, "policy_issued", {**POLICY, "policy": "BD1"}, at="2026-09-24T10:20:00+08:00")
    assert (fu.key, fu.visit_type) == ("policy", "new_policy")
    assert fu.due.isoformat() == "2026-10-09T23:59:59+08:00"  # Thu 09-24 + 15 days = Fri 10-09, a workday
    assert fu.window_open.isoformat() == "2026-09-24T10:20:00+08:00"  # inside 10:00-11:00
    assert fu.meta["cooling_off_until"] == "2026-10-09T23:59:59+08:00" and fu.meta["cooling_off_days"] == 15


def test_f4_cooling_off_ending_in_national_day_moves_due_earlier_not_later():
    # Sun 09-20 is a make-up workday: 15 days -> 10-05, a holiday; the deadline moves back to 09-30
    [fu] = testing.plan(plugin, "policy_issued", POLICY, at="2026-09-20T09:30:00+08:00")
    assert fu.due.isoformat() == "2026-09-30T23:59:59+08:00"
    assert fu.meta["cooling_off_until"] == "2026-10-05T23:59:59+08:00"
    assert fu.window_open.isoformat() == "2026-09-20T10:00:00+08:00"


def test_f4_policy_cooling_off_days_and_settings_override():
    [fu] = testing.plan(plugin, "policy_issued", {**POLICY, "cooling_off_days": 20}, at="2026-11-02T10:00:00+08:00")
    assert day(fu.due) == "2026-11-20"  # 11-22 is a Sunday: back to Fri 11-20
    settings = testing.settings_of(plugin, cooling_off_days=10)
    [fu] = testing.plan(plugin, "policy_issued", POLICY, at="2026-11-02T10:00:00+08:00", settings=settings)
    assert day(fu.due) == "2026-11-12"


# -- F7 -----------------------------------------------------------------------------------------------
def test_f7_policy_events_inherit_the_agent_and_departed_agents_stay_excluded():
    history = testing.FakeHistory(triggers=[
        sold("policy_issued", "2026-09-01T10:00:00+08:00", agent="ag1", branch="gz-tianhe", policy="BD1")])
    at = "2026-11-02T10:00:00+08:00"
    for kind, visit_type in (("policy_changed", "policy_service"), ("policy_lapsed", "lapsed_policy"),
                             ("claim_settled", "claim")):
        [fu] = testing.plan(plugin, kind, {"policy": "BD1"}, at=at, history=history)
        assert (fu.visit_type, fu.meta["seller"], fu.branch) == (visit_type, "ag1", "gz-tianhe")
    [fu] = testing.plan(plugin, "agent_departed", {"agent": "ag1", "policies": "BD1,BD2"}, at=at, history=history)
    assert (fu.visit_type, fu.meta["policies"], fu.excluded_staff) == ("orphan_policy", ["BD1", "BD2"], ["ag1"])
    assert fu.meta["rules"] == ["F7", "G9"]


# -- G9 -----------------------------------------------------------------------------------------------
def test_g9_owner_is_a_call_centre_agent_never_the_seller_nor_the_sales_role():
    staff = [{"id": "ag2", "role": "sales", "dept": "sh-pudong", "reports_to": None}]
    history = testing.FakeHistory(staff=staff)
    settings = testing.settings_of(plugin, agents=["ag1", "ag2", "cc1"])
    [fu] = testing.plan(plugin, "policy_issued", POLICY, settings=settings, history=history)
    assert fu.owner == "cc1"  # ag1 sold it, ag2 is in the sales role
    assert (fu.excluded_staff, fu.excluded_roles, fu.department) == (["ag1"], ["sales"], "call_centre")
    [fu] = testing.plan(plugin, "policy_issued", POLICY, settings=testing.settings_of(plugin, agents=["ag1"]))
    assert fu.owner is None  # the unassigned call-centre queue


# -- F5 -----------------------------------------------------------------------------------------------
def policy_followup(attempts: list[str], subject_attributes: dict[str, Any] | None = None,
                    optouts: list[str] | None = None) -> FollowUpInfo:
    subject = testing.subject(attributes=subject_attributes, optouts=optouts)
    info = testing.trigger(plugin, "policy_issued", POLICY)
    [visit] = testing.plan(plugin, "policy_issued", POLICY, subject_info=subject)
    return testing.followup(info, visit, attempts=[{"channel": "phone", "outcome": o} for o in attempts])


def on_attempt(fu: FollowUpInfo, history: Any = None) -> list[Any]:
    settings = testing.settings_of(plugin)
    with testing.logical_now(fu.window_open):  # hooks run at a logical now, as every engine command does
        return plugin.huifang_on_attempt(followup=fu, attempt=fu.attempts[-1], settings=settings,
                                         scheduler=testing.scheduler(settings),
                                         history=history if history is not None else quiet_history())


def test_f5_fallback_channel_is_a_home_visit_with_an_address_else_a_letter():
    assert policy_followup([]).meta["fallback"] == "letter"
    assert policy_followup([], {"address": "上海市浦东新区世纪大道1号"}).meta["fallback"] == "home_visit"
    assert policy_followup([], {"address": "上海市浦东新区世纪大道1号"}, ["home_visit"]).meta["fallback"] == "letter"
    assert policy_followup([], None, ["letter", "home_visit"]).meta["fallback"] is None  # G7


def test_f5_three_failed_calls_end_round_one_and_the_business_department_checks_the_number():
    assert on_attempt(policy_followup(["no_answer", "busy"])) == []
    notify, warn = on_attempt(policy_followup(["no_answer", "busy", "powered_off"]))
    assert isinstance(notify, Notify) and notify.to == "business"
    assert isinstance(warn, Warn) and warn.message.startswith("F5: phone round 1 failed (3 failed calls)")
    assert on_attempt(policy_followup(["no_answer", "busy", "powered_off", "no_answer"])) == []


def test_f5_second_round_switches_to_a_letter_or_a_home_visit_by_a_non_seller():
    [switch] = on_attempt(policy_followup(["wrong_number", "suspended"]))  # an invalid number ends a round at once
    assert isinstance(switch, SwitchChannel) and switch.channel == "letter"
    assert "letter with a reply-paid questionnaire" in switch.reason
    [switch] = on_attempt(policy_followup(["wrong_number", "no_answer", "busy", "powered_off"],
                                          {"address": "北京市朝阳区建国路88号"}))
    assert switch.channel == "home_visit" and "someone other than the seller ag1 (G9)" in switch.reason
    [warn] = on_attempt(policy_followup(["wrong_number", "wrong_number"], None, ["letter", "home_visit"]))
    assert isinstance(warn, Warn) and "opted out of home visits and letters" in warn.message


class ViewsHistory(testing.FakeHistory):
    """A FakeHistory whose views (the engine's and the finance view) are an in-memory SQLite database."""

    def __init__(self) -> None:
        super().__init__()
        self.engine = create_engine("sqlite://")
        core_views.metadata.create_all(self.engine)
        finance_metadata.create_all(self.engine)

    def read(self, query: Any) -> Any:
        with self.engine.connect() as conn:
            return query(conn)

    def add(self, n: int, channel: str | None = None) -> None:
        with self.engine.begin() as conn:
            for i in range(n):
                add_row(conn, f"P{channel or 'phone'}{i}-policy", channel)


def quiet_history() -> ViewsHistory:
    """A deployment of 20 phone follow-ups, none fallen back: far below the F5 10% share."""
    h = ViewsHistory()
    h.add(20)
    return h


def add_row(conn: Connection, code: str, fallback: str | None) -> None:
    conn.execute(core_views.followups.insert(), dict(
        code=code, oid=code, subject="S" + code, trigger=code, trigger_kind="finance.policy_issued",
        plugin="finance", visit_type="new_policy", status="due", window_open="2026-09-01T02:00:00+00:00",
        due="2026-09-15T15:59:59+00:00", planned_at="2026-09-01T02:00:00+00:00", channel=fallback or "phone"))
    conn.execute(finance_followups.insert(), dict(id=code, code=code, fallback_channel=fallback))


def test_f5_a_spent_ten_percent_quota_is_recorded_on_the_followup_and_may_end_the_ladder():
    history = ViewsHistory()
    history.add(10)  # 10 follow-ups under way, none fallen back: 1 of 10 = 10% is allowed
    with clock.at(datetime.fromisoformat("2026-09-02T10:30:00+08:00")):
        [switch] = on_attempt(policy_followup(["wrong_number", "wrong_number"]), history)
    assert isinstance(switch, SwitchChannel) and switch.channel == "letter"
    history = ViewsHistory()
    history.add(9)
    history.add(1, "letter")  # one more would be 2 of 10 = 20%
    with clock.at(datetime.fromisoformat("2026-09-02T10:30:00+08:00")):
        switch, notify, warn = on_attempt(policy_followup(["wrong_number", "wrong_number"]), history)
    # the letter may still go out (原则上), but the decision is recorded on the follow-up and said
    assert isinstance(switch, SwitchChannel) and isinstance(notify, Notify) and isinstance(warn, Warn)
    assert notify.to == "call_centre" and notify.message == warn.message
    assert warn.message == ("F5: the home-visit/letter share is spent: home visits + letters would be 2 of 10 "
                            "follow-ups (20.0%), above the 10% limit: the ladder may end here (close as lost with "
                            "the reason after G5)")


# -- F9 -----------------------------------------------------------------------------------------------
def check(attempt: dict[str, Any], **settings: Any) -> str | None:
    fu = policy_followup([])
    return plugin.huifang_check_attempt(followup=fu, attempt=attempt, settings=testing.settings_of(plugin, **settings))


def test_f9_a_failed_recording_system_must_name_a_recorded_line():
    failed = {"channel": "phone", "outcome": "no_answer", "recording": {"failed_system": True, "line": " "}}
    assert (check(failed) or "").startswith("F9: --recording-failed-line must name")
    failed["recording"] = {"failed_system": True, "line": "400-820-0002"}
    assert check(failed) is None
    assert "is not a recorded line (400-820-0001)" in (check(failed, recorded_lines=["400-820-0001"]) or "")
    assert check({"channel": "phone", "outcome": "reached", "recording": {"sha256": "ab"}, "language": "mandarin"}) \
        is None
    assert check({"channel": "home_visit", "outcome": "reached", "recording": None}) is None  # no recording


# -- G12, G13 -----------------------------------------------------------------------------------------
def on_completed(answers: dict[str, Any], **settings: Any) -> list[Any]:
    fu = policy_followup(["reached"]).model_copy(update={"status": "completed", "answers": answers})
    s = testing.settings_of(plugin, **settings)
    history = testing.FakeHistory(staff=[{"id": "ag1", "role": "sales", "dept": "sh-pudong", "reports_to": "br-mgr"}])
    return plugin.huifang_on_completed(followup=fu, answers=answers, settings=s, scheduler=testing.scheduler(s),
                                       history=history)


def test_g13_major_anomaly_opens_a_major_ticket_informs_the_leader_and_escalates_at_once():
    ticket, escalate = on_completed({"anomaly": "private_fee", "satisfaction": "满意"}, management="fin-dir")
    assert isinstance(ticket, OpenTicket) and isinstance(escalate, Escalate)
    assert (ticket.category, ticket.severity, ticket.department) == ("private_fee", "major", "wealth_management")
    assert (ticket.owner, ticket.notify, ticket.deadline_workdays) == ("fin-dir", ["br-mgr"], 5)
    assert escalate.to == "fin-dir" and "G13" in escalate.reason


def test_g13_a_policy_the_client_did_not_sign_is_signed_on_behalf():
    ticket, escalate = on_completed({"self_signed": "no", "anomaly": "none", "satisfaction": "满意"})
    assert ticket.category == "signed_on_behalf" and ticket.severity == "major"
    assert escalate.to is None  # no `management`: the owner's supervisor


def test_g12_each_opinion_is_a_ticket_within_5_working_days():
    out = on_completed({"terms_understood": "no", "cooling_off_informed": "no", "anomaly": "none",
                        "satisfaction": "不满意"})
    assert [(t.category, t.department, t.severity, t.deadline_workdays) for t in out] == [
        ("terms_not_understood", "compliance", "normal", 5),
        ("cooling_off_not_explained", "compliance", "normal", 5),
        ("dissatisfied", "customer_service", "normal", 5),
    ]
    assert on_completed({"self_signed": "yes", "anomaly": "none", "satisfaction": "满意"}) == []


def test_f7_a_reinstatement_wish_notifies_policy_service():
    [notify] = on_completed({"lapse_reason": "forgot", "wants_reinstatement": "yes", "anomaly": "none",
                             "satisfaction": "较满意"})
    assert isinstance(notify, Notify) and notify.to == "policy_service"


# -- F6 -----------------------------------------------------------------------------------------------
def test_f6_only_the_new_policy_callback_is_exempted_and_only_by_the_statement_on_its_trigger():
    modes = {v.name: v.exemption for v in plugin.huifang_visit_types()}
    assert modes.pop("new_policy") == "trigger"
    assert set(modes.values()) == {"never"}  # complaints, F7 policy events, contracts, campaigns …
    kind = testing.kinds_of(plugin)["policy_issued"]
    assert kind.exemption_attribute == "no_followup_statement"
    [fu] = testing.plan(plugin, "policy_issued", {**POLICY, "no_followup_statement": "SM-2026-0001"})
    assert fu.meta["rules"] == ["F4", "F6"]


# -- G9: by person and organisation, not by role name -------------------------------------------------
DIRECTORY = [
    {"id": "ag1", "role": "agent", "dept": "sh-pudong", "reports_to": "br-mgr"},  # sold it; role not `sales`
    {"id": "ag2", "role": "agent", "dept": "sh-pudong", "reports_to": "br-mgr"},  # the seller's department
    {"id": "br-mgr", "role": "manager", "dept": "sh-pudong", "reports_to": "fin-dir"},  # the seller's manager
    {"id": "fin-dir", "role": "manager", "dept": "wealth_management", "reports_to": None},
    {"id": "clerk", "role": "intake", "dept": "sales", "reports_to": "sales-head"},  # a sales clerk
    {"id": "cc-lead", "role": "supervisor", "dept": "call_centre", "reports_to": "fin-dir"},
    {"id": "cc1", "role": "agent", "dept": "call_centre", "reports_to": "cc-lead"},
]


def test_g9_the_sellers_reporting_line_and_the_sales_department_have_an_interest():
    history = testing.FakeHistory(staff=DIRECTORY)
    settings = testing.settings_of(plugin)
    fu = policy_followup([])
    staff = {s["id"]: s for s in DIRECTORY}

    def why(code: str) -> str | None:
        return plugin.huifang_check_conflict(followup=fu, staff=staff[code], settings=settings, history=history)

    assert "sold it" in (why("ag1") or "")
    assert "reporting line" in (why("br-mgr") or "") and "reporting line" in (why("fin-dir") or "")
    assert "sales department sales" in (why("clerk") or "")
    assert "department sh-pudong, which sold it" in (why("ag2") or "")
    assert why("cc1") is None and why("cc-lead") is None  # the callback department, not the seller's line
    # the plan never gives the callback to any of them
    agents = testing.settings_of(plugin, agents=["br-mgr", "clerk", "ag2", "cc1"])
    [planned] = testing.plan(plugin, "policy_issued", POLICY, settings=agents, history=history)
    assert planned.owner == "cc1"


# -- F5: lost only at the end of the ladder, the letter's states, the signed home visit --------------
def attempts_at(*steps: tuple[str, str, str]) -> list[dict[str, Any]]:
    return [{"channel": c, "outcome": o, "at": at} for c, o, at in steps]


ROUND = [("phone", "no_answer", "2026-09-24T10:30:00+08:00"), ("phone", "busy", "2026-09-24T14:30:00+08:00"),
         ("phone", "powered_off", "2026-09-25T10:30:00+08:00")]
ROUND2 = [("phone", "no_answer", "2026-09-28T10:30:00+08:00"), ("phone", "busy", "2026-09-28T14:30:00+08:00"),
          ("phone", "no_answer", "2026-09-29T10:30:00+08:00")]


def lost(steps: list[tuple[str, str, str]], reason: str = "no_answer", at: str = "2026-09-30T10:00:00+08:00",
         history: Any = None, **change: Any) -> str | None:
    fu = policy_followup([]).model_copy(update={"attempts": attempts_at(*steps), **change})
    with clock.at(datetime.fromisoformat(at)):
        return plugin.huifang_check_lost(followup=fu, reason=reason, settings=testing.settings_of(plugin),
                                         history=history if history is not None else quiet_history())


def test_f5_a_new_policy_is_lost_only_after_the_whole_fallback_ladder():
    assert "0 of 2 phone rounds failed: next, phone round 1" in (lost([]) or "")
    assert "1 of 2 phone rounds failed: next, the second phone round" in (lost(ROUND) or "")
    assert "next, a letter" in (lost(ROUND + ROUND2, channel="letter") or "")
    sent = ("letter", "sent", "2026-09-30T10:00:00+08:00")
    due = datetime.fromisoformat("2026-10-21T23:59:59+08:00")
    assert "awaits its reply until 2026-10-21" in (lost(ROUND + ROUND2 + [sent], due=due,
                                                        at="2026-10-21T16:00:00+08:00") or "")
    assert lost(ROUND + ROUND2 + [sent], due=due, at="2026-10-22T10:00:00+08:00") is None  # no reply in time
    assert lost(ROUND + ROUND2 + [sent, ("letter", "returned", "2026-10-09T10:00:00+08:00")], due=due) is None
    assert lost(ROUND + ROUND2 + [("home_visit", "no_answer", "2026-10-09T10:00:00+08:00")]) is None
    # what needs no ladder: a refusal or a death on record; other visit types; no fallback possible
    assert lost([], reason="refused") is None and lost([], reason="deceased") is None
    assert lost(ROUND, visit_type="complaint") is None
    assert lost(ROUND + ROUND2, meta={"fallback": None}) is None  # G7: opted out of letters and home visits
    spent = ViewsHistory()
    spent.add(9)
    spent.add(1, "letter")
    assert lost(ROUND + ROUND2, history=spent) is None  # F5: the 10% share is spent (recorded at round 2)


def letter(*steps: tuple[str, str, str], outcome: str, at: str) -> str | None:
    fu = policy_followup([]).model_copy(update={
        "attempts": attempts_at(*ROUND, *ROUND2, *steps), "channel": "letter",
        "due": datetime.fromisoformat("2026-10-21T23:59:59+08:00")})
    with clock.at(datetime.fromisoformat(at)):
        return plugin.huifang_check_attempt(followup=fu, attempt={"channel": "letter", "outcome": outcome},
                                            settings=testing.settings_of(plugin))


def test_f5_a_letter_is_sent_then_returned_or_answered_by_post_never_minutes_after_the_switch():
    now = "2026-09-29T10:40:00+08:00"  # minutes after round 2 switched it to a letter
    assert "no letter has been sent yet" in (letter(outcome="reached", at=now) or "")
    assert "is recorded as sent, returned, or its reply" in (letter(outcome="no_answer", at=now) or "")
    assert letter(outcome="sent", at=now) is None
    sent = ("letter", "sent", now)
    assert "not the day it was sent" in (letter(sent, outcome="reached", at="2026-09-29T16:00:00+08:00") or "")
    assert "awaits its reply" in (letter(sent, outcome="sent", at="2026-09-30T10:00:00+08:00") or "")
    assert letter(sent, outcome="reached", at="2026-10-09T10:00:00+08:00") is None
    assert letter(sent, outcome="returned", at="2026-10-09T10:00:00+08:00") is None
    returned = ("letter", "returned", "2026-10-09T10:00:00+08:00")
    assert "came back undelivered" in (letter(sent, returned, outcome="reached", at="2026-10-12T10:00:00+08:00") or "")
    assert "a letter's state" in (check({"channel": "phone", "outcome": "sent"}) or "")


def test_f5_a_sent_letter_awaits_its_reply_until_its_own_deadline():
    fu = policy_followup([]).model_copy(update={"channel": "letter", "attempts": attempts_at(
        *ROUND, *ROUND2, ("letter", "sent", "2026-09-30T10:00:00+08:00"))})
    settings = testing.settings_of(plugin)
    with clock.at(datetime.fromisoformat("2026-09-30T10:00:00+08:00")):
        warn, move = plugin.huifang_on_attempt(followup=fu, attempt=fu.attempts[-1], settings=settings,
                                               scheduler=testing.scheduler(settings), history=quiet_history())
    # 10 working days after Wed 09-30: 10-08, 09, 10 (make-up), 12, 13, 14, 15, 16, 19, 20
    assert isinstance(move, Reschedule) and move.due.isoformat() == "2026-10-20T23:59:59+08:00"
    assert isinstance(warn, Warn) and "awaiting the reply until 2026-10-20" in warn.message


def test_f5_a_home_visit_is_completed_with_the_clients_signed_confirmation():
    answers = {"self_signed": "yes", "terms_understood": "yes", "cooling_off_informed": "yes", "anomaly": "none",
               "satisfaction": "满意"}
    fu = policy_followup([]).model_copy(update={"status": "completed", "attempts": attempts_at(
        *ROUND, *ROUND2, ("home_visit", "reached", "2026-10-09T10:00:00+08:00"))})
    settings = testing.settings_of(plugin)

    def complete(given: dict[str, Any]) -> list[Any]:
        return plugin.huifang_on_completed(followup=fu, answers=given, settings=settings,
                                           scheduler=testing.scheduler(settings), history=testing.FakeHistory())

    with pytest.raises(PluginError) as refused:
        complete(answers)
    assert refused.value.field == "answers.signed_confirmation" and "交客户确认并签章" in str(refused.value)
    assert complete({**answers, "signed_confirmation": "HV-2026-0093"}) == []
    phone = fu.model_copy(update={"attempts": attempts_at(("phone", "reached", "2026-09-24T10:30:00+08:00"))})
    assert plugin.huifang_on_completed(followup=phone, answers=answers, settings=settings,
                                       scheduler=testing.scheduler(settings), history=testing.FakeHistory()) == []
    assert "signed_confirmation" in {q.key for q in new_policy_record_fields()}


def new_policy_record_fields() -> list[Any]:
    [vt] = [v for v in plugin.huifang_visit_types() if v.name == "new_policy"]
    assert vt.survey is not None
    return list(vt.survey.record_fields)


# -- F9: the language of the call ---------------------------------------------------------------------
def test_f9_a_phone_conversation_records_its_language_dialect_only_at_the_clients_request():
    recorded = {"sha256": "ab"}
    call = {"channel": "phone", "outcome": "reached", "recording": recorded}
    assert "--language" in (check(call) or "")
    assert check({**call, "language": "mandarin"}) is None
    assert "client's own request" in (check({**call, "language": "dialect"}) or "")
    assert check({**call, "language": "dialect", "note": "客户要求用本地话"}) is None
    assert check({"channel": "phone", "outcome": "no_answer", "recording": recorded}) is None  # nobody spoke
    assert check(call, require_language=False) is None


# -- F3: special campaigns on an approved plan ---------------------------------------------------------
F3_PLAN = {"id": "ZX-2026-11", "title": "理财产品满意度专项回访", "department": "sh-pudong", "owner": "br-mgr",
           "questionnaire": "Q-2026-11 三问: 收益说明 / 风险揭示 / 服务", "channel": "phone",
           "schedule": {"start": "2026-11-02", "end": "2026-11-13"}, "executors": ["br-mgr", "cc1"],
           "targets": [{"subject": "S1"}]}


def test_f3_a_special_campaign_plan_names_questionnaire_channel_time_targets_and_executors():
    policy = plugin.huifang_campaign_policy(settings=testing.settings_of(plugin))
    assert (policy.kind, policy.visit_type, policy.threshold, policy.named_only) == (
        "special_campaign", "special_campaign", 0, True)
    assert policy.missing(F3_PLAN) == ([], [])
    missing, details = policy.missing({**F3_PLAN, "questionnaire": " ", "channel": "fax", "executors": []})
    assert missing == ["questionnaire", "channel", "executors"] and "fax" in details[0]
    assert policy.missing({"id": "X"})[0] == ["questionnaire", "channel", "schedule", "targets", "executors", "owner"]
    with pytest.raises(PluginError, match="approved plan"):
        testing.plan(plugin, "special_campaign", {"campaign": "ZX-2026-11"})


def test_f3_g9_a_campaign_target_goes_to_an_executor_without_a_conflict():
    policy = plugin.huifang_campaign_policy(settings=testing.settings_of(plugin))
    history = testing.FakeHistory(staff=DIRECTORY, triggers=[
        sold("policy_issued", "2026-09-01T10:00:00+08:00", agent="ag1", branch="sh-pudong", policy="BD1")])
    draft = PlannedVisit(key="special_campaign", visit_type="special_campaign", owner="br-mgr",
                         window_open=datetime.fromisoformat("2026-11-02T10:00:00+08:00"),
                         due=datetime.fromisoformat("2026-11-13T23:59:59+08:00"), meta={"campaign": "ZX-2026-11"})
    visit = policy.target(draft, {"subject": "S1"}, F3_PLAN, testing.subject(), history)
    assert isinstance(visit, PlannedVisit)
    assert (visit.owner, visit.channel, visit.excluded_staff, visit.branch) == ("cc1", "phone", ["ag1"], "sh-pudong")
    assert visit.meta["questionnaire"].startswith("Q-2026-11") and visit.meta["seller"] == "ag1"


# -- F4: cooling-off from the receipt -----------------------------------------------------------------
def test_f4_the_cooling_off_period_runs_from_the_receipt_date():
    [fu] = testing.plan(plugin, "policy_issued", {**POLICY, "receipt_date": "2026-11-05"},
                        at="2026-11-02T10:20:00+08:00")
    # issued Mon 11-02, signed for Thu 11-05: 15 days -> Fri 11-20; calls from the receipt day
    assert fu.window_open.isoformat() == "2026-11-05T10:00:00+08:00"
    assert fu.due.isoformat() == "2026-11-20T23:59:59+08:00"
    assert (fu.meta["cooling_off_from"], fu.meta["cooling_off_until"]) == ("2026-11-05", "2026-11-20T23:59:59+08:00")
    assert fu.warnings == []
    [before] = testing.plan(plugin, "policy_issued", POLICY, at="2026-11-02T10:20:00+08:00")
    assert before.due.isoformat() == "2026-11-17T23:59:59+08:00"  # until the receipt is known: from the issue


def test_f4_a_policy_issued_too_late_for_any_call_in_its_cooling_off_period_warns():
    # Wed 09-30 16:30, after the last calling window of the last workday before National Day; a one-day
    # cooling-off period ends 10-01 (a holiday): no calling slot is left inside it
    [fu] = testing.plan(plugin, "policy_issued", {**POLICY, "cooling_off_days": 1}, at="2026-09-30T16:30:00+08:00")
    assert fu.window_open.isoformat() == "2026-10-08T10:00:00+08:00"  # never before the policy existed
    assert fu.due.isoformat() == "2026-10-08T23:59:59+08:00"
    [warning] = fu.warnings
    assert warning.startswith("F4: no calling slot is left in the cooling-off period (until 2026-10-01)")
    # a receipt entered late: its period ended before the policy was recorded
    [late] = testing.plan(plugin, "policy_issued", {**POLICY, "receipt_date": "2026-09-01"},
                          at="2026-09-24T10:20:00+08:00")
    assert late.window_open.isoformat() == "2026-09-24T10:20:00+08:00" and late.warnings


# -- F4/F8: both denominators ----------------------------------------------------------------------------
def item(code: str, status: str, reached: bool = False, refused: bool = False, in_time: bool = False) -> Any:
    from huifang.plugins.finance.figures import Item

    until = "2026-09-16T15:59:59+00:00"
    return Item(code=code, branch="sh-pudong", visit_type="new_policy", owner="cc1", channel="phone", status=status,
                due=until, reached=reached, refused=refused, window_open="2026-09-01T02:00:00+00:00",
                cooling_off_until=until, reached_at=("2026-09-02T02:00:00+00:00" if in_time else None) if reached
                else None, reached_channel="phone" if reached else None, fallback=None)


def test_f4_f8_in_cooling_off_success_rate_over_either_denominator_named_in_the_report():
    from huifang.plugins.finance.figures import branch_figures

    # 14 new policies due: 8 reached inside the cooling-off period, 2 refused, 1 surrendered before contact
    # (cancelled), 3 lost unreached
    items = ([item(f"R{i}", "completed", reached=True, in_time=True) for i in range(8)]
             + [item(f"X{i}", "lost", refused=True) for i in range(2)] + [item("C1", "cancelled")]
             + [item(f"L{i}", "lost") for i in range(3)])
    now = "2026-09-28T08:00:00+00:00"
    g15 = branch_figures(items, 0.9, now)
    assert (g15["denominator"], g15["policy_rate_base"], g15["in_cooling_off_success_rate"]) == ("g15", 11, 0.727273)
    art18 = branch_figures(items, 0.9, now, "due")
    assert (art18["denominator"], art18["policy_rate_base"], art18["in_cooling_off_success_rate"]) == (
        "due", 14, 0.571429)
    assert art18["success_rate"] == 0.571429 and g15["success_rate"] == 0.727273
    assert g15["meets_f4_target"] is art18["meets_f4_target"] is False  # F4 is judged by G15 either way
