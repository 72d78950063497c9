"""Finance plans on the real 2026 calendar: F1 new-contract window, F2 yearly follow-ups, F3 special
follow-ups, F4 cooling-off window, F7 other insurance follow-ups, G6 calling windows, attribute checks
and settings. Driven through the real CLI on SQLite and PostgreSQL; the plan arithmetic in more
cases (caps, month ends, term years, cooling-off overrides) is unit-tested on the fakes in
tests/unit/test_finance_rules.py."""
from __future__ import annotations

import pytest

SIGNED = "2026-09-30T15:00:00+08:00"  # Wednesday before National Day


def _setup(hf, tmp_path=None) -> None:
    hf.ok("staff", "add", "adv1", "--name", "理财经理", "--role", "sales")
    hf.ok("staff", "add", "ag1", "--name", "保险代理人", "--role", "sales")
    hf.ok("subject", "add", "C1", "--name", "张三", "--phone", "13800000001")


def _contract(hf, now=SIGNED, tid="K1", *extra):
    return hf.ok("trigger", "finance.contract_signed", "--subject", "C1", "--id", tid,
                 "--attr", "advisor=adv1", "--attr", "product=稳健理财1号", "--attr", "branch=sh-pudong",
                 *extra, now=now)


def _by_key(data):
    return {f["id"].rsplit("-", 1)[1]: f for f in data["followups"]}


def test_f1_due_skips_national_day_and_counts_make_up_workday(hf, store_cache):
    store_cache(hf, _setup)
    fus = _by_key(_contract(hf))
    new = fus["new"]
    assert new["visit_type"] == "new_contract"
    # 5 working days after Wed 2026-09-30: 10-01..10-07 are National Day (off), then
    # 10-08 (1), 10-09 (2), 10-10 Sat make-up workday (3), 10-11 Sun off, 10-12 (4), 10-13 (5).
    assert new["due"] == "2026-10-13T23:59:59+08:00"
    assert new["provisional"] is False
    # the window opens at once, in the next finance calling slot (G6: 14:00-16:00 is open at 15:00)
    assert new["window_open"] == "2026-09-30T15:00:00+08:00"
    assert new["meta"]["cap"] == "2026-10-30"  # F1: never later than one calendar month


def test_f2_yearly_followups_in_2027_are_provisional(hf, store_cache):
    store_cache(hf, _setup)
    fus = _by_key(_contract(hf))
    year1 = fus["year1"]
    assert year1["visit_type"] == "continuing"
    # the window before the first anniversary: 30 days before 2027-09-30 .. the anniversary itself
    assert year1["window_open"] == "2027-08-31T10:00:00+08:00"
    assert year1["due"] == "2027-09-30T23:59:59+08:00"
    assert year1["provisional"] is True  # 2027 has no official holiday data yet (G6)
    assert year1["status"] == "planned"
    assert sorted(fus) == ["new", "year1", "year2", "year3"]  # default: 3 contract years


def test_f2_official_2027_calendar_replans_the_provisional_yearly_followup(hf, store_cache, tmp_path):
    store_cache(hf, _setup)
    _contract(hf, SIGNED, "K1", "--attr", "term_years=1")
    # a (made-up) official 2027 schedule where the anniversary 2027-09-30 is a day off
    cal = tmp_path / "2027.json"
    cal.write_text('{"year": 2027, "holidays": ["2027-01-01", "2027-09-30", "2027-10-01"], '
                   '"workdays": [], "source": "test notice"}', encoding="utf-8")
    result = hf.ok("calendar", "import", str(cal), now="2026-12-01T09:00:00+08:00")
    assert result["rescheduled"] == 1
    year1 = hf.ok("show", "K1-year1", now="2026-12-01T09:00:00+08:00")
    # never later than the anniversary: the day off moves the deadline back to Wed 2027-09-29
    assert year1["due"] == "2027-09-29T23:59:59+08:00" and year1["provisional"] is False


def test_f2_provisional_yearly_followup_shown_in_text_output(hf, store_cache):
    store_cache(hf, _setup)
    r = hf("trigger", "finance.contract_signed", "--subject", "C1", "--id", "K1", "--attr", "advisor=adv1",
           "--attr", "product=p", "--attr", "branch=b", now=SIGNED, json_out=False)
    assert r.code == 0, r.err
    line = next(x for x in r.out.splitlines() if x.startswith("K1-year1"))
    assert "2027-09-30T23:59:59+08:00 (provisional)" in line


def test_f4_due_is_the_last_day_of_the_cooling_off_period(hf, store_cache):
    store_cache(hf, _setup)
    data = hf.ok("trigger", "finance.policy_issued", "--subject", "C1", "--id", "P1", "--attr", "agent=ag1",
                 "--attr", "branch=sh-pudong", "--attr", "sales_channel=bancassurance", "--attr", "policy=BD1",
                 now="2026-09-24T10:20:00+08:00")
    fu = data["followups"][0]
    assert fu["id"] == "P1-policy" and fu["visit_type"] == "new_policy"
    # 15 days after Thu 09-24 is Fri 10-09, a workday
    assert fu["due"] == "2026-10-09T23:59:59+08:00"
    assert fu["window_open"] == "2026-09-24T10:20:00+08:00"  # inside 10:00-11:00
    assert fu["meta"]["cooling_off_until"] == "2026-10-09T23:59:59+08:00"
    assert fu["meta"]["cooling_off_days"] == 15


def test_f4_cooling_off_ending_in_national_day_moves_due_earlier_not_later(hf, store_cache):
    store_cache(hf, _setup)
    # issued on Sun 2026-09-20 (a make-up workday): 15 days -> 10-05, inside National Day; a calendar
    # deadline would roll forward to 10-08, after the cooling-off period, so it moves back to 09-30.
    data = hf.ok("trigger", "finance.policy_issued", "--subject", "C1", "--id", "P1", "--attr", "agent=ag1",
                 "--attr", "branch=b", "--attr", "sales_channel=agency", now="2026-09-20T09:30:00+08:00")
    fu = data["followups"][0]
    assert fu["due"] == "2026-09-30T23:59:59+08:00"
    assert fu["meta"]["cooling_off_until"] == "2026-10-05T23:59:59+08:00"
    assert fu["window_open"] == "2026-09-20T10:00:00+08:00"  # make-up workday: a calling day


def test_f3_special_followups_inherit_seller_and_branch_from_the_contract(hf, store_cache):
    store_cache(hf, _setup)
    _contract(hf, SIGNED, "K1", "--attr", "contract=HT1")
    for kind, attrs, vt in (("agreement_changed", ["change=commission_rate"], "agreement_change"),
                            ("contract_terminated", ["reason=moving abroad"], "termination"),
                            ("complaint_handled", ["category=fees"], "complaint")):
        args = [x for a in attrs for x in ("--attr", a)]
        data = hf.ok("trigger", f"finance.{kind}", "--subject", "C1", "--id", f"S-{kind}", *args,
                     now="2026-11-02T10:00:00+08:00")
        fu = data["followups"][0]
        assert fu["visit_type"] == vt
        assert fu["branch"] == "sh-pudong" and fu["meta"]["seller"] == "adv1"
        # F3 has no frequency rule: handled within 5 working days (Mon 11-02 -> Mon 11-09)
        assert fu["due"] == "2026-11-09T23:59:59+08:00"
        r = hf("attempt", fu["id"], "--channel", "sms", "--outcome", "no_answer", actor="adv1",
               now="2026-11-02T10:30:00+08:00")
        assert r.code != 0 and "G9" in r.err  # the advisor may not follow up their own client
    change = hf.ok("show", "S-agreement_changed-change")
    assert change["meta"]["change_kind"] == "commission_rate"


def test_f7_departed_agent_policies_exclude_the_departed_agent(hf, store_cache):
    store_cache(hf, _setup)
    hf.ok("trigger", "finance.policy_issued", "--subject", "C1", "--id", "P1", "--attr", "agent=ag1",
          "--attr", "branch=gz-tianhe", "--attr", "sales_channel=agency", "--attr", "policy=BD1",
          now="2026-09-01T10:00:00+08:00")
    data = hf.ok("trigger", "finance.agent_departed", "--subject", "C1", "--id", "D1", "--attr", "agent=ag1",
                 "--attr", "policies=BD1,BD2", now="2026-11-02T10:00:00+08:00")
    fu = data["followups"][0]
    assert fu["visit_type"] == "orphan_policy" and fu["meta"]["policies"] == ["BD1", "BD2"]
    assert fu["branch"] == "gz-tianhe"
    for kind, vt in (("policy_changed", "policy_service"), ("policy_lapsed", "lapsed_policy"),
                     ("claim_settled", "claim")):
        d = hf.ok("trigger", f"finance.{kind}", "--subject", "C1", "--id", f"E-{kind}", "--attr", "policy=BD1",
                  now="2026-11-02T10:00:00+08:00")
        assert d["followups"][0]["visit_type"] == vt and d["followups"][0]["meta"]["seller"] == "ag1"


@pytest.mark.parametrize("attrs, field", [
    (["product=p", "branch=b"], "advisor"),
    (["advisor=adv1", "product=p", "branch=b", "term_years=0"], "term_years"),
    (["advisor=adv1", "product=p", "branch=b", "colour=red"], "colour"),
    (["advisor=   ", "product=p", "branch=b"], "advisor"),
])
def test_f1_trigger_attributes_are_validated_naming_the_field(hf, store_cache, attrs, field):
    store_cache(hf, _setup)
    args = [x for a in attrs for x in ("--attr", a)]
    r = hf("trigger", "finance.contract_signed", "--subject", "C1", "--id", "K1", *args, now=SIGNED)
    assert r.code != 0
    assert f"--attr {field}" in r.err and "Traceback" not in r.err and len(r.err.strip().splitlines()) == 1
    assert hf("show", "K1-new").code != 0  # nothing written


def test_f4_policy_attributes_are_validated(hf, store_cache):
    store_cache(hf, _setup)
    r = hf("trigger", "finance.policy_issued", "--subject", "C1", "--attr", "agent=ag1", "--attr", "branch=b",
           "--attr", "sales_channel=agency", "--attr", "cooling_off_days=abc")
    assert r.code != 0 and "--attr cooling_off_days" in r.err
    r = hf("trigger", "finance.agent_departed", "--subject", "C1", "--attr", "agent=ag1", "--attr", "policies=")
    assert r.code != 0 and "policies" in r.err


def test_g6_finance_calling_windows_flag_a_call_at_noon(hf, store_cache, tmp_path):
    store_cache(hf, _setup)
    rec = tmp_path / "call.wav"
    rec.write_bytes(b"RIFF-recording")
    _contract(hf)
    # 12:00 is inside the hospital window but outside finance 10:00-11:00 / 14:00-16:00
    data = hf.ok("attempt", "K1-new", "--channel", "phone", "--outcome", "no_answer", "--recording", str(rec),
                 now="2026-10-08T12:00:00+08:00")
    assert any(m.startswith("G6") and "10:00-11:00, 14:00-16:00" in m for m in data["messages"])
    data = hf.ok("attempt", "K1-new", "--channel", "phone", "--outcome", "no_answer", "--recording", str(rec),
                 now="2026-10-08T14:30:00+08:00")
    assert not any(m.startswith("G6") for m in data["messages"])
    # G5: the retry is offered in the next finance window, the next day's 10:00 slot
    assert data["attempts"][-1]["next_attempt_at"] == "2026-10-09T10:00:00+08:00"


def test_finance_settings_reject_unknown_keys(hf, tmp_path):
    cfg = tmp_path / "huifang.toml"
    cfg.write_text("[plugins.finance]\ncooling_off_dayz = 10\n", encoding="utf-8")
    r = hf("plugins", config=str(cfg))
    assert r.code != 0 and "plugins.finance.cooling_off_dayz" in r.err


def test_f4_the_receipt_date_recorded_later_replans_the_callback_from_it(hf, store_cache):
    store_cache(hf, _setup)
    data = hf.ok("trigger", "finance.policy_issued", "--subject", "C1", "--id", "P1", "--attr", "agent=ag1",
                 "--attr", "branch=b", "--attr", "sales_channel=agency", now="2026-11-02T10:20:00+08:00")
    assert data["followups"][0]["due"] == "2026-11-17T23:59:59+08:00"  # from the issue until the receipt is known
    # the client signed for the policy (回执签收) on Thu 11-05: 15 days from then, calls from then
    hf.ok("trigger", "amend", "P1", "--attr", "receipt_date=2026-11-05", now="2026-11-05T16:00:00+08:00")
    fu = hf.ok("show", "P1-policy", now="2026-11-05T16:00:00+08:00")
    assert (fu["window_open"], fu["due"]) == ("2026-11-05T10:00:00+08:00", "2026-11-20T23:59:59+08:00")
    assert fu["meta"]["cooling_off_until"] == "2026-11-20T23:59:59+08:00"


def test_f4_a_late_policy_with_no_calling_day_left_in_its_cooling_off_period_warns(hf, store_cache):
    store_cache(hf, _setup)
    data = hf.ok("trigger", "finance.policy_issued", "--subject", "C1", "--id", "P1", "--attr", "agent=ag1",
                 "--attr", "branch=b", "--attr", "sales_channel=agency", "--attr", "cooling_off_days=1",
                 now="2026-09-30T16:30:00+08:00")
    fu = data["followups"][0]
    assert fu["window_open"] == "2026-10-08T10:00:00+08:00"  # not 09-30 10:00, before the policy existed
    [warning] = data["warnings"]
    assert warning.startswith("P1-policy: F4: no calling slot is left in the cooling-off period (until 2026-10-01)")
