"""Aesthetics rules on the plugin API's fakes (no store): A1 consultations, A2 department curves on the
2026 holiday calendar, A3 windows, A5 owners, A6 package cycle, A7 campaign policy, A8 complaint risk,
A9 grades and blacklist, A10 experience customers. Story tests through the CLI: tests/test_aesthetics_*.py."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from huifang.core.plugin_api import (
    HuifangError,
    Notify,
    OpenTicket,
    PlannedVisit,
    PlanVisit,
    Refused,
    Skip,
    SubjectInfo,
    Warn,
    clock,
    testing,
)
from huifang.plugins.aesthetics import plugin
from huifang.plugins.aesthetics.blacklist import open_marketing
from huifang.plugins.aesthetics.campaign import CampaignRules, missing_elements
from huifang.plugins.aesthetics.curves import client_grade

JUNE = "2026-06-01T08:30:00+08:00"  # a Monday
STAFF = {"assistant": "as1", "consultant": "con1"}


def windows(items: list[Any]) -> dict[str, tuple[str, str, str | None, str]]:
    return {v.key: (v.window_open.date().isoformat(), v.due.date().isoformat(), v.owner, v.visit_type)
            for v in testing.visits(items)}


def procedure(attrs: dict[str, Any], at: str = JUNE, **kw: Any) -> list[Any]:
    return testing.plan(plugin, "procedure", {**STAFF, **attrs}, at=at, **kw)


def spend(subject: str, at: str, amount: float) -> dict[str, Any]:
    return {"subject": subject, "kind": "aesthetics.procedure", "occurred_at": at,
            "attributes": {"department": "skin", "amount": amount}}


def blacklisted(code: str = "S1") -> SubjectInfo:
    return testing.subject(code, attributes={"blacklisted": True, "blacklist_reason": "abusive (无礼多事)"})


def test_aesthetics_conforms_to_the_plugin_api() -> None:
    testing.assert_conforms(plugin)


# -- A2 department curves, A5 owners ------------------------------------------------------------------
def test_a2_a5_surgery_curve_day_1_3_stitch_7_15_30_90() -> None:
    items = procedure({"department": "surgery", "stitch_removal_day": 7, "nurse": "nu1"})
    assert windows(items) == {
        "dressing": ("2026-06-02", "2026-06-02", "as1", "dressing_reminder"),  # day 1, re-visit 1 d
        "care": ("2026-06-04", "2026-06-05", "as1", "post_op_care"),  # day 3, professional 2 d
        "stitch": ("2026-06-07", "2026-06-07", "nu1", "stitch_reminder"),  # the day before removal, nurse
        "recovery": ("2026-06-08", "2026-06-16", "con1", "recovery_care"),  # day 7-15, consultant
        "recheck": ("2026-07-01", "2026-07-01", "con1", "recheck_invite"),  # day 30
        "result": ("2026-08-30", "2026-08-31", "as1", "result_check"),  # day 90
    }
    first = testing.visits(items)[0]
    assert (first.window_open.isoformat(), first.due.isoformat()) == \
        ("2026-06-02T10:00:00+08:00", "2026-06-02T23:59:59+08:00")
    last = [v for v in testing.visits(items) if v.meta.get("last_step")]
    assert [v.key for v in last] == ["result"] and last[0].meta["package_sessions"] == 1


def test_g6_a2_clinical_steps_keep_their_day_on_national_day_others_roll() -> None:
    items = procedure({"department": "surgery", "stitch_removal_day": 7}, at="2026-09-30T15:00:00+08:00")
    w = windows(items)
    assert w["dressing"][:2] == ("2026-10-01", "2026-10-01")  # a wound does not wait for the holiday
    assert w["care"][:2] == ("2026-10-03", "2026-10-04")
    assert w["stitch"][:2] == ("2026-10-06", "2026-10-06")
    assert w["recovery"][:2] == ("2026-10-08", "2026-10-15")  # day 7 = 10-07 is off: 10-08
    assert w["recheck"][:2] == ("2026-10-30", "2026-10-30")
    dressing = testing.visits(items)[0]
    assert dressing.window_open.isoformat() == "2026-10-01T10:00:00+08:00"
    assert not dressing.provisional and dressing.window_rule is None  # nothing to re-plan later


def test_a2_skin_scab_and_peel_off_days_injectables_weekly_and_top_up() -> None:
    assert windows(procedure({"department": "skin", "scab_days": [4, 10]})) == {
        "care": ("2026-06-02", "2026-06-03", "as1", "treatment_care"),
        "scab1": ("2026-06-05", "2026-06-06", "as1", "scab_check"),
        "scab2": ("2026-06-11", "2026-06-12", "as1", "scab_check"),
    }
    default = windows(procedure({"department": "skin"}))  # scab and peel-off on days 3 and 7
    assert (default["scab1"][0], default["scab2"][0]) == ("2026-06-04", "2026-06-08")
    w = windows(procedure({"department": "injectables"}))
    assert [w[f"week{k}"][0] for k in range(1, 5)] == ["2026-06-08", "2026-06-15", "2026-06-22", "2026-06-29"]
    # the top-up reminder falls on the week-2 check's day: one contact (test_a2_injectables_... below)
    assert "topup" not in w and w["week2"] == ("2026-06-15", "2026-06-15", "as1", "weekly_check")
    assert {k: v[:2] for k, v in windows(procedure({"department": "dental"})).items()} == {
        "care": ("2026-06-02", "2026-06-03"), "guidance": ("2026-06-04", "2026-06-05"),
        "result": ("2026-07-01", "2026-07-02")}


def test_a3_a5_windows_and_member_centre_are_configurable() -> None:
    settings = testing.settings_of(plugin, holiday_fixed_visits=[], member_centre="mem1",
                                   windows={"professional": 3}, surgery={"result_day": 180})
    w = windows(procedure({"department": "surgery"}, settings=settings))
    assert w["care"][:2] == ("2026-06-04", "2026-06-06")  # a 3-day professional window
    assert w["result"][:2] == ("2026-11-28", "2026-11-30")  # day 180
    assert (w["recovery"][2], w["dressing"][2], w["recheck"][2]) == ("mem1", "as1", "con1")  # A5


# -- A1, A3, A10 ----------------------------------------------------------------------------------------
def consultation(subject_info: SubjectInfo | None = None, **attrs: Any) -> list[Any]:
    base = {"consultant": "net1", "came": False, "purchased": False, "channel": "online"}
    return testing.plan(plugin, "consultation", {**base, **attrs}, at="2026-06-01T08:00:00+08:00",
                        subject_info=subject_info)


def test_a1_a3_a5_consultations_not_came_not_bought_bought() -> None:
    assert windows(consultation()) == {"not_visited": ("2026-06-02", "2026-06-06", "net1", "not_visited")}
    assert windows(consultation(member_specialist="mem1"))["not_visited"][2] == "mem1"
    assert windows(consultation(consultant="con1", came=True, channel="onsite"))["not_purchased"][2] == "con1"
    (skip,) = consultation(consultant="con1", came=True, purchased=True, channel="onsite")
    assert isinstance(skip, Skip) and "procedure" in skip.reason


def test_a3_a10_experience_customers_and_membership_rights() -> None:
    def exp(grade: int) -> dict[str, Any]:
        return windows(testing.plan(plugin, "experience", {"grade": grade, "specialist": "mem1"},
                                    at="2026-06-01T08:00:00+08:00"))

    one, two = exp(1), exp(2)
    assert one["first"] == ("2026-06-04", "2026-06-10", "mem1", "experience_first")  # day 3, 7 days
    # grade 2: 15 days, but never due after the second call (test_A10_... in test_feasible_plans.py)
    assert two["first"][:2] == ("2026-06-04", "2026-06-16")
    assert one["second"][:2] == two["second"][:2] == ("2026-06-09", "2026-06-16")  # day 8-15
    rights = windows(testing.plan(plugin, "membership_granted", {"member_specialist": "mem1", "card": "年卡"},
                                  at="2026-06-01T08:00:00+08:00"))
    assert rights["rights"] == ("2026-06-02", "2026-06-16", "mem1", "membership_rights")


def test_a3_a7_the_51st_client_of_one_activity_must_be_a_campaign() -> None:
    attrs = {"activity": "专家坐诊 10-15", "owner": "m1"}
    history = testing.FakeHistory(triggers=[
        {"subject": f"V{i:03d}", "kind": "aesthetics.activity", "occurred_at": "2026-10-09T01:00:00+00:00",
         "attributes": attrs} for i in range(1, 51)])
    with pytest.raises(Refused, match="request a campaign"):
        testing.plan(plugin, "activity", attrs, at="2026-10-09T09:00:00+08:00", history=history)
    again = testing.plan(plugin, "activity", attrs, at="2026-10-09T09:00:00+08:00", history=history,
                         subject_info=testing.subject("V050"))  # one of the 50 already told
    assert windows(again)["activity"] == ("2026-10-09", "2026-10-13", "m1", "activity")  # marketing: 5 days
    other = testing.plan(plugin, "activity", {**attrs, "activity": "双十一"}, at="2026-10-09T09:00:00+08:00",
                         history=history)
    assert len(testing.visits(other)) == 1


# -- A9 grades and the blacklist -----------------------------------------------------------------------
def test_a9_grades_from_the_last_three_months_spend() -> None:
    settings = testing.settings_of(plugin)
    history = testing.FakeHistory(triggers=[
        spend("S1", "2026-06-03T02:00:00+00:00", 1800), spend("S1", "2026-07-03T02:00:00+00:00", 1000),
        spend("S1", "2026-07-20T02:00:00+00:00", 500), spend("S1", "2026-08-03T02:00:00+00:00", 1500),
        spend("S2", "2026-08-03T02:00:00+00:00", 2400), spend("S3", "2026-08-03T02:00:00+00:00", 2397)])
    with clock.at(datetime.fromisoformat("2026-09-01T09:00:00+08:00")):
        a = client_grade(history, testing.subject("S1"), settings)
        b = client_grade(history, testing.subject("S2"), settings)
        c = client_grade(history, testing.subject("S3"), settings)
    assert (a["grade"], a["average_monthly"], a["months"]) == ("A", 1600.0, ["2026-06", "2026-07", "2026-08"])
    assert (b["grade"], c["grade"]) == ("B", "C")  # 800 a month is B, 799 is C
    assert not c["blacklisted"]  # a new client is never blacklisted for spend


def test_a9_six_months_under_150_or_abusive_blacklists() -> None:
    settings = testing.settings_of(plugin)
    history = testing.FakeHistory(triggers=[spend("S1", "2026-01-05T02:00:00+00:00", 120)])
    with clock.at(datetime.fromisoformat("2026-08-01T09:00:00+08:00")):
        g = client_grade(history, testing.subject("S1"), settings)
        assert g["blacklisted"] and "2026-02..2026-07" in g["blacklist_reason"]
        history.add_trigger(spend("S1", "2026-05-05T02:00:00+00:00", 150))
        assert not client_grade(history, testing.subject("S1"), settings)["blacklisted"]
        abusive = client_grade(history, blacklisted(), settings)
    assert abusive["blacklisted"] and abusive["blacklist_reason"] == "abusive (无礼多事)"


def test_a9_blacklisted_client_gets_no_marketing_follow_up_but_care_continues() -> None:
    (skip,) = consultation(subject_info=blacklisted())
    assert isinstance(skip, Skip) and skip.reason.startswith("A9: blacklisted (abusive")
    (skip,) = testing.plan(plugin, "activity", {"activity": "双十一", "owner": "m1"}, subject_info=blacklisted())
    assert isinstance(skip, Skip) and "A9" in skip.reason
    assert len(testing.visits(procedure({"department": "dental"}, subject_info=blacklisted()))) == 3


def test_a9_blacklist_cancels_open_marketing_follow_ups_only() -> None:
    rows = [{"subject": "S1", "code": code, "plugin": plugin_name, "status": status, "visit_type": vt,
             "window_open": "2026-06-02T02:00:00+00:00"}
            for code, plugin_name, status, vt in [
                ("C1-not_purchased", "aesthetics", "due", "not_purchased"),
                ("A1-activity", "aesthetics", "planned", "activity"),
                ("K2-marketing", "aesthetics", "completed", "marketing"),
                ("P1-care", "aesthetics", "due", "treatment_care"),
                ("M1-x", "medical", "due", "not_purchased")]]
    assert open_marketing(testing.FakeHistory(followups=rows), "S1") == ["C1-not_purchased", "A1-activity"]


# -- A6 treatment cycle, A8 complaint risk ----------------------------------------------------------------
def completed(attrs: dict[str, Any], key: str, answers: dict[str, Any], at: str, *, treated_at: str = JUNE,
              owner_reports_to: str | None = None, subject: SubjectInfo | None = None,
              settings: Any = None) -> list[Any]:
    """huifang_on_completed for the `key` step of a treatment, completed at `at`."""
    s = settings or testing.settings_of(plugin)
    info = testing.trigger(plugin, "procedure", {**STAFF, **attrs}, at=treated_at)
    visit = next(v for v in testing.visits(procedure(attrs, at=treated_at, settings=s)) if v.key == key)
    fu = testing.followup(info, visit, status="completed", answers=answers)
    history = testing.FakeHistory(staff=[{"id": visit.owner or "", "role": "agent", "dept": visit.department,
                                          "reports_to": owner_reports_to}], subjects=[subject] if subject else [])
    with clock.at(datetime.fromisoformat(at)):
        return list(plugin.huifang_on_completed(followup=fu, answers=answers, settings=s,
                                                scheduler=testing.scheduler(s), history=history))


PRO = {"healing": "normal", "complaint_risk": "no", "satisfaction": "满意"}


def test_a6_package_session_left_reminds_the_day_before_the_next_session() -> None:
    cycle = {"department": "skin", "package_sessions": 2, "interval_days": 28}
    (r,) = completed(cycle, "scab2", PRO, "2026-06-08T10:30:00+08:00")
    assert isinstance(r, PlanVisit)
    v: PlannedVisit = r.visit
    assert (v.key, v.visit_type, v.owner) == ("next-session", "next_session_reminder", "as1")
    assert (v.window_open.date().isoformat(), v.due.date().isoformat()) == ("2026-06-28", "2026-06-28")  # day 27
    assert (v.meta["session"], v.meta["next_session"]) == (1, 2)


def test_a6_a9_end_of_cycle_starts_marketing_except_for_the_blacklisted() -> None:
    last = {"department": "skin", "package_sessions": 2, "session": 2}
    (r,) = completed(last, "scab2", PRO, "2026-07-06T10:30:00+08:00", treated_at="2026-06-29T08:30:00+08:00")
    assert isinstance(r, PlanVisit) and r.visit.visit_type == "marketing"
    assert (r.visit.window_open.date().isoformat(), r.visit.due.date().isoformat()) == ("2026-07-07", "2026-07-11")
    assert r.visit.meta["phase"] == "after_cycle"
    (w,) = completed(last, "scab2", PRO, "2026-07-06T10:30:00+08:00", treated_at="2026-06-29T08:30:00+08:00",
                     subject=blacklisted())
    assert isinstance(w, Warn) and "A9" in w.message and "blacklisted" in w.message


def test_a8_complaint_risk_ticket_owned_by_the_supervisor_and_recovery_problem_to_the_doctor() -> None:
    surgery = {"department": "surgery", "doctor": "dr1"}
    settings = testing.settings_of(plugin, complaint_supervisor="ae-cs")
    (t,) = completed(surgery, "care", {"healing": "normal", "complaint_risk": "yes", "satisfaction": "基本满意"},
                     "2026-06-04T10:30:00+08:00", settings=settings)
    assert isinstance(t, OpenTicket)
    assert (t.category, t.department, t.owner, t.notify, t.deadline_hours) == \
        ("complaint_risk", "surgery", "ae-cs", ["ae-cs"], 24)
    out = completed(surgery, "care", {"healing": "abnormal", "complaint_risk": "no", "satisfaction": "不满意"},
                    "2026-06-04T10:30:00+08:00", owner_reports_to="ae-head")
    # A8: not the agent's own supervisor: the engine routes it (ticket_route) to the customer-service supervisor
    assert [(type(r).__name__, getattr(r, "category", None), getattr(r, "owner", None)) for r in out] == [
        ("OpenTicket", "complaint_risk", None), ("OpenTicket", "recovery_problem", None), ("Notify", None, None)]
    assert out[1].notify == ["dr1"] and isinstance(out[2], Notify) and out[2].to == "con1"
    assert completed(surgery, "care", PRO, "2026-06-04T10:30:00+08:00") == []


# -- A7 batch campaigns (the engine runs the flow; the policy is the clinic's) --------------------------
def request(**over: Any) -> dict[str, Any]:
    plan: dict[str, Any] = {
        "id": "C-AUTUMN", "targets": [{"subject": "V001", "purchases": [
            {"date": "2026-04-12", "item": "光子嫩肤", "reason": "色斑"}]}],
        "goal": {"metric": "re-visit bookings", "target": 12}, "owner": "ae-skin",
        "schedule": {"start": "2026-10-12", "end": "2026-11-10"}, "standard": "3 分钟内",
        "execution_rules": "拒绝者不再致电"}
    plan.update(over)
    return {k: v for k, v in plan.items() if v is not None}


def test_a7_every_missing_element_is_named_in_the_rulebook_order() -> None:
    assert missing_elements(request()) == ([], [])
    bare = request(goal={"metric": "bookings"}, standard=None, execution_rules="",
                   targets=[{"subject": "V004", "purchases": []}])
    missing, details = missing_elements(bare)
    assert missing == ["purchase_history", "goal", "standard", "execution_rules"]
    assert any("V004" in d for d in details) and any("quantified" in d for d in details)
    assert missing_elements({"id": "C-EMPTY"})[0] == ["targets", "goal", "owner", "schedule", "standard",
                                                      "execution_rules"]


def test_a7_a9_policy_plans_a_batch_visit_per_target_but_not_for_the_blacklisted() -> None:
    settings = testing.settings_of(plugin, campaign_reviewer_roles=["supervisor"])
    policy = plugin.huifang_campaign_policy(settings=settings)
    assert isinstance(policy, CampaignRules)
    assert (policy.kind, policy.visit_type, policy.threshold, policy.reviewer_roles, policy.approver_roles) == \
        ("campaign", "batch", 50, ["supervisor"], ["manager", "admin"])
    draft = PlannedVisit(key="batch", visit_type="batch", owner="m1", owner_role="campaign",
                         window_open=datetime.fromisoformat("2026-10-12T10:00:00+08:00"),
                         due=datetime.fromisoformat("2026-11-10T23:59:59+08:00"), meta={"campaign": "C-AUTUMN"})
    plan = request()
    target = plan["targets"][0]
    with clock.at(datetime.fromisoformat("2026-10-09T09:00:00+08:00")):
        v = policy.target(draft, target, plan, testing.subject("V001"), testing.FakeHistory())
        skip = policy.target(draft, target, plan, blacklisted("V001"), testing.FakeHistory())
    assert isinstance(v, PlannedVisit) and (v.window_open, v.due, v.owner) == (draft.window_open, draft.due, "m1")
    assert v.meta == {"a3_kind": "batch", "campaign": "C-AUTUMN", "grade": "C", "goal": plan["goal"],
                      "purchases": target["purchases"]}
    assert isinstance(skip, Skip) and skip.reason == "A9 blacklisted: abusive (无礼多事)"


def test_a7_campaign_targets_are_planned_only_by_an_approval() -> None:
    with pytest.raises(HuifangError, match="planned only by an approved campaign"):
        testing.plan(plugin, "campaign", {"campaign": "C-AUTUMN"})
