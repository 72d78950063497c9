"""Finance behaviour through the real CLI: G9 conflict of interest (by person, reporting line and sales
department), F9/G11 recordings and the call's language, F5 channel fallback, its 10% quota, the letter's
states and lost only at the end of the ladder, F6 exemption by the statement on the policy, F3 special
campaigns on an approved plan, F4 cooling-off from the receipt, G13 major anomalies with escalation and
the second follow-up, G12 opinions within 5 working days. SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

DAY1 = "2026-09-01T10:00:00+08:00"  # Tuesday


@pytest.fixture
def rec(tmp_path):
    p = tmp_path / "call.wav"
    p.write_bytes(b"RIFF fake call recording")
    return str(p)


def _config(tmp_path, extra: str = "", agents: str = '["cc1"]') -> str:
    """Finance settings for a test: follow-ups owned by the call-centre agent cc1 (G9), plus `extra`."""
    cfg = tmp_path / f"huifang-{abs(hash(extra + agents))}.toml"
    cfg.write_text(f"[plugins.finance]\nagents = {agents}\n{extra}\n", encoding="utf-8")
    return str(cfg)


def _staff(hf) -> None:
    hf.ok("staff", "add", "fin-dir", "--name", "理财管理部", "--role", "manager")
    hf.ok("staff", "add", "cc-lead", "--name", "回访主管", "--role", "supervisor", "--reports-to", "fin-dir")
    hf.ok("staff", "add", "cc1", "--name", "回访专员1", "--role", "agent", "--reports-to", "cc-lead")
    hf.ok("staff", "add", "cc2", "--name", "回访专员2", "--role", "agent", "--reports-to", "cc-lead")
    hf.ok("staff", "add", "br-mgr", "--name", "营业部负责人", "--role", "manager", "--reports-to", "fin-dir")
    hf.ok("staff", "add", "ag1", "--name", "代理人1", "--role", "sales", "--reports-to", "br-mgr")
    hf.ok("staff", "add", "ag2", "--name", "代理人2", "--role", "sales", "--reports-to", "br-mgr")


@pytest.fixture
def fin(hf, tmp_path, store_cache):
    """The CLI with staff registered and finance follow-ups owned by cc1."""
    store_cache(hf, _staff)
    hf.config = _config(tmp_path)
    return hf


def _policy(hf, sid, tid, *, agent="ag1", branch="sh-pudong", address=False, now=DAY1, config=None):
    extra = ["--attr", "address=上海市浦东新区世纪大道1号"] if address else []
    hf.ok("subject", "add", sid, "--name", "客户" + sid, "--phone", "13900000000", *extra, now=now)
    return hf.ok("trigger", "finance.policy_issued", "--subject", sid, "--id", tid, "--attr", f"agent={agent}",
                 "--attr", f"branch={branch}", "--attr", "sales_channel=agency", now=now, config=config)


def _attempt(hf, fu, outcome, now, rec, channel="phone", actor="cc1", **kw):
    args = ["attempt", fu, "--channel", channel, "--outcome", outcome]
    if channel == "phone":
        args += ["--recording", rec]
        if outcome in ("reached", "refused", "call_later"):  # F9: someone spoke: in 普通话
            args += ["--language", "mandarin"]
    return hf.ok(*args, now=now, actor=actor, **kw)


# -- G9 ----------------------------------------------------------------------------------------------
def test_g9_salesperson_completion_is_refused(fin, rec):
    hf = fin
    _policy(hf, "C1", "P1")
    _attempt(hf, "P1-policy", "reached", "2026-09-01T10:30:00+08:00", rec)
    # ag2 did not sell this policy, but is in the sales role: sales never run follow-ups
    r = hf("complete", "P1-policy", "--answer", "self_signed=yes", "--answer", "terms_understood=yes",
           "--answer", "cooling_off_informed=yes", "--answer", "anomaly=none", "--answer", "satisfaction=满意",
           actor="ag2", now="2026-09-01T10:35:00+08:00")
    assert r.code != 0 and "G9" in r.err and "sales" in r.err
    shown = hf.ok("show", "P1-policy", now="2026-09-01T10:36:00+08:00")
    assert shown["status"] == "due" and shown["answers"] is None  # nothing written
    # the seller themself cannot attempt either
    r = hf("attempt", "P1-policy", "--channel", "phone", "--outcome", "reached", "--recording", rec,
           actor="ag1", now="2026-09-01T10:40:00+08:00")
    assert r.code != 0 and "G9" in r.err and "ag1" in r.err
    # a call-centre agent completes it
    data = hf.ok("complete", "P1-policy", "--answer", "self_signed=yes", "--answer", "terms_understood=yes",
                 "--answer", "cooling_off_informed=yes", "--answer", "anomaly=none", "--answer", "satisfaction=满意",
                 actor="cc1", now="2026-09-01T10:45:00+08:00")
    assert data["status"] == "completed"


def test_g9_seller_in_a_non_sales_role_is_still_excluded_and_cannot_own(fin, rec):
    hf = fin
    # the policy was sold by cc2 (e.g. a call-centre agent who also sells): cc2 may not touch it
    _policy(hf, "C1", "P1", agent="cc2")
    r = hf("attempt", "P1-policy", "--channel", "phone", "--outcome", "no_answer", "--recording", rec,
           actor="cc2", now="2026-09-01T10:30:00+08:00")
    assert r.code != 0 and "G9" in r.err
    r = hf("reassign", "P1-policy", "--to", "cc2", actor="cc-lead")
    assert r.code != 0 and "G9" in r.err
    r = hf("reassign", "P1-policy", "--to", "ag2", actor="cc-lead")
    assert r.code != 0 and "G9" in r.err
    assert hf.ok("reassign", "P1-policy", "--to", "cc1", actor="cc-lead")["owner"] == "cc1"


def test_g9_owner_is_a_non_sales_call_centre_agent_from_settings(fin, tmp_path):
    hf = fin
    cfg = _config(tmp_path, agents='["ag2", "cc1", "cc2"]')
    owners = set()
    for i in range(6):
        data = _policy(hf, f"C{i}", f"P{i}", agent="cc2", config=cfg)
        owners.add(data["followups"][0]["owner"])
    # ag2 is in the sales role and cc2 sold the policies: only cc1 is left
    assert owners == {"cc1"}
    # without `agents` the follow-up waits unassigned for the call-centre lead to dispatch it
    data = _policy(hf, "C9", "P9", config=_config(tmp_path, agents="[]"))
    assert data["followups"][0]["owner"] is None


def test_g9_the_sellers_manager_and_a_sales_clerk_may_neither_attempt_nor_be_assigned(fin, rec):
    hf = fin
    hf.ok("staff", "add", "clerk", "--name", "销售内勤", "--role", "agent", "--dept", "sales")  # role not `sales`
    _policy(hf, "C1", "P1")  # sold by ag1, who reports to br-mgr
    r = hf("attempt", "P1-policy", "--channel", "phone", "--outcome", "no_answer", "--recording", rec,
           actor="br-mgr", now=SLOTS[0])
    assert r.code != 0 and "G9" in r.err and "reporting line" in r.err
    for to, why in (("br-mgr", "reporting line"), ("clerk", "sales department sales")):
        r = hf("reassign", "P1-policy", "--to", to, actor="cc-lead", now=SLOTS[0])
        assert r.code != 0 and "G9" in r.err and why in r.err
    assert hf.ok("show", "P1-policy", now=SLOTS[0])["owner"] == "cc1"  # nothing written
    hf.ok("staff", "add", "adm", "--name", "管理员", "--role", "admin")
    refused = hf.ok("audit", "reads", "--actor", "cc-lead", actor="adm", now=SLOTS[1])["refusals"]
    assert [r["action"] for r in refused] == ["followup.reassign", "followup.reassign"]  # recorded
    assert any("clerk" in r["reason"] for r in refused)


# -- F9 / G11 -----------------------------------------------------------------------------------------
def test_f9_phone_attempt_needs_a_recording_or_a_named_recorded_line(fin, rec, tmp_path):
    hf = fin
    _policy(hf, "C1", "P1")
    r = hf("attempt", "P1-policy", "--channel", "phone", "--outcome", "no_answer", actor="cc1",
           now="2026-09-01T10:30:00+08:00")
    assert r.code != 0 and "G11" in r.err and "--recording" in r.err
    r = hf("attempt", "P1-policy", "--channel", "phone", "--outcome", "no_answer", "--recording-failed-line", "  ",
           actor="cc1", now="2026-09-01T10:30:00+08:00")
    assert r.code != 0 and "F9" in r.err
    assert hf.ok("show", "P1-policy")["attempts"] == []
    data = hf.ok("attempt", "P1-policy", "--channel", "phone", "--outcome", "no_answer", "--recording", rec,
                 actor="cc1", now="2026-09-01T10:30:00+08:00")
    assert data["attempts"][0]["recording"]["size"] == len(b"RIFF fake call recording")
    data = hf.ok("attempt", "P1-policy", "--channel", "phone", "--outcome", "no_answer",
                 "--recording-failed-line", "400-820-0002", actor="cc1", now="2026-09-01T14:30:00+08:00")
    assert data["attempts"][1]["recording"] == {"failed_system": True, "line": "400-820-0002"}
    # with the recorded lines configured, only those count
    cfg = _config(tmp_path, 'recorded_lines = ["400-820-0001"]')
    r = hf("attempt", "P1-policy", "--channel", "phone", "--outcome", "no_answer", "--recording-failed-line",
           "138-0000-0000", actor="cc1", now="2026-09-02T10:30:00+08:00", config=cfg)
    assert r.code != 0 and "F9" in r.err and "not a recorded line" in r.err
    hf.ok("attempt", "P1-policy", "--channel", "phone", "--outcome", "no_answer", "--recording-failed-line",
          "400-820-0001", actor="cc1", now="2026-09-02T10:30:00+08:00", config=cfg)
    # letters and home visits have no recording
    hf.ok("attempt", "P1-policy", "--channel", "sms", "--outcome", "no_answer", actor="cc1",
          now="2026-09-02T14:30:00+08:00")


# -- F5 ----------------------------------------------------------------------------------------------
SLOTS = ["2026-09-01T10:30:00+08:00", "2026-09-01T14:30:00+08:00", "2026-09-02T10:30:00+08:00",
         "2026-09-03T10:30:00+08:00", "2026-09-03T14:30:00+08:00", "2026-09-04T10:30:00+08:00"]


def test_f5_phone_then_redetermined_number_then_letter(fin, rec):
    hf = fin
    _policy(hf, "C1", "P1")
    for now in SLOTS[:2]:
        data = _attempt(hf, "P1-policy", "no_answer", now, rec)
        assert not any(m.startswith("F5") for m in data["messages"])
    data = _attempt(hf, "P1-policy", "powered_off", SLOTS[2], rec)  # third failed call: round 1 over
    assert any(m.startswith("F5: phone round 1 failed (3 failed calls)") for m in data["messages"])
    assert data["notifications"][-1]["to"] == "business"  # 业务部门 re-determines the number
    assert data["channel"] == "phone"
    for now in SLOTS[3:5]:
        data = _attempt(hf, "P1-policy", "no_answer", now, rec)
        assert data["channel"] == "phone"
    data = _attempt(hf, "P1-policy", "busy", SLOTS[5], rec)  # second round over: fallback
    assert data["channel"] == "letter"  # no address on file: a letter with a reply-paid questionnaire
    assert any("next attempt by letter" in m and "reply-paid" in m for m in data["messages"])
    # the letter is sent, then its reply comes back by post: reached by letter, no recording needed
    _attempt(hf, "P1-policy", "sent", "2026-09-04T11:00:00+08:00", rec, channel="letter")
    _attempt(hf, "P1-policy", "reached", "2026-09-09T10:30:00+08:00", rec, channel="letter")
    done = hf.ok("complete", "P1-policy", "--answer", "self_signed=yes", "--answer", "terms_understood=yes",
                 "--answer", "cooling_off_informed=yes", "--answer", "anomaly=none", "--answer", "satisfaction=满意",
                 actor="cc1", now="2026-09-09T10:40:00+08:00")
    assert done["status"] == "completed"


def test_f5_invalid_number_ends_a_round_at_once_and_home_visit_excludes_the_seller(fin, rec):
    """F5 (004 §4 art.13): the home visit's record is confirmed and signed by the client."""
    hf = fin
    _policy(hf, "C1", "P1", address=True)
    data = _attempt(hf, "P1-policy", "wrong_number", SLOTS[0], rec)
    assert any(m.startswith("F5: phone round 1 failed (invalid number)") for m in data["messages"])
    data = _attempt(hf, "P1-policy", "suspended", SLOTS[1], rec)
    assert data["channel"] == "home_visit"  # an address is on file: a home visit by a non-seller
    assert any("home visit by someone other than the seller ag1 (G9)" in m for m in data["messages"])
    r = hf("attempt", "P1-policy", "--channel", "home_visit", "--outcome", "reached", actor="ag1",
           now="2026-09-03T10:00:00+08:00")
    assert r.code != 0 and "G9" in r.err
    hf.ok("attempt", "P1-policy", "--channel", "home_visit", "--outcome", "reached", actor="cc1",
          now="2026-09-03T10:00:00+08:00")
    r = hf("complete", "P1-policy", *ANSWERS, "--answer", "anomaly=none", actor="cc1", now="2026-09-03T10:30:00+08:00")
    assert r.code != 0 and "--answer signed_confirmation" in r.err and "交客户确认并签章" in r.err
    done = hf.ok("complete", "P1-policy", *ANSWERS, "--answer", "anomaly=none", "--answer",
                 "signed_confirmation=HV-2026-0093", actor="cc1", now="2026-09-03T10:31:00+08:00")
    assert done["status"] == "completed"


def test_f5_a_spent_ten_percent_quota_is_recorded_and_ends_the_ladder(fin, rec):
    hf = fin
    for i in range(10):
        _policy(hf, f"C{i}", f"P{i}")
    # 10 follow-ups due: the first fallback makes 1 of 10 = 10% (allowed), the second 2 of 10 = 20%
    _attempt(hf, "P0-policy", "wrong_number", SLOTS[0], rec)
    data = _attempt(hf, "P0-policy", "wrong_number", SLOTS[1], rec)
    assert data["channel"] == "letter" and not any("share is spent" in m for m in data["messages"])
    _attempt(hf, "P1-policy", "wrong_number", SLOTS[0], rec)
    data = _attempt(hf, "P1-policy", "wrong_number", SLOTS[1], rec)
    assert data["channel"] == "letter"  # in principle (原则上): the letter may still go out
    [spent] = [m for m in data["messages"] if m.startswith("F5: the home-visit/letter share is spent")]
    assert "home visits + letters would be 2 of 10 follow-ups (20.0%), above the 10% limit" in spent
    assert data["notifications"][-1]["to"] == "call_centre"  # the decision is recorded on the follow-up
    # the quota ends the ladder: lost once G5 is met, without the letter
    _attempt(hf, "P1-policy", "no_answer", SLOTS[2], rec, channel="sms")
    assert hf.ok("close", "P1-policy", "--lost", "wrong_number", actor="cc1", now=SLOTS[3])["status"] == "lost"


def test_f5_a_new_policy_is_lost_only_after_the_ladder_and_its_letter_waits_for_the_post(fin, rec, tmp_path):
    hf = fin
    hf.config = _config(tmp_path, "max_fallback_share = 1.0")  # the ladder itself, not the quota
    _policy(hf, "C1", "P1")
    for now in SLOTS[:3]:
        _attempt(hf, "P1-policy", "no_answer", now, rec)
    r = hf("close", "P1-policy", "--lost", "no_answer", actor="cc1", now="2026-09-02T14:30:00+08:00")
    assert r.code != 0 and "F5" in r.err and "1 of 2 phone rounds failed" in r.err
    for now in SLOTS[3:]:
        data = _attempt(hf, "P1-policy", "no_answer", now, rec)
    assert data["channel"] == "letter"
    r = hf("close", "P1-policy", "--lost", "no_answer", actor="cc1", now="2026-09-04T10:40:00+08:00")
    assert r.code != 0 and "next, a letter" in r.err
    # minutes after the switch nobody can have answered a letter
    r = hf("attempt", "P1-policy", "--channel", "letter", "--outcome", "reached", actor="cc1",
           now="2026-09-04T10:45:00+08:00")
    assert r.code != 0 and "no letter has been sent yet" in r.err
    sent = _attempt(hf, "P1-policy", "sent", "2026-09-04T14:50:00+08:00", rec, channel="letter")
    # its own deadline: 10 working days for the reply (the cooling-off due was 09-16)
    assert sent["due"] == "2026-09-18T23:59:59+08:00"
    r = hf("attempt", "P1-policy", "--channel", "letter", "--outcome", "reached", actor="cc1",
           now="2026-09-04T15:30:00+08:00")
    assert r.code != 0 and "not the day it was sent" in r.err
    r = hf("close", "P1-policy", "--lost", "no_answer", actor="cc1", now="2026-09-10T10:00:00+08:00")
    assert r.code != 0 and "awaits its reply until 2026-09-18" in r.err
    _attempt(hf, "P1-policy", "returned", "2026-09-10T10:00:00+08:00", rec, channel="letter")
    closed = hf.ok("close", "P1-policy", "--lost", "moved", actor="cc1", now="2026-09-10T10:05:00+08:00")
    assert closed["status"] == "lost"


# -- F6 ----------------------------------------------------------------------------------------------
def test_f6_the_statement_signed_at_purchase_exempts_the_policy_callback(fin):
    hf = fin
    hf.ok("subject", "add", "C1", "--name", "客户", "--phone", "13900000000", now=DAY1)
    data = hf.ok("trigger", "finance.policy_issued", "--subject", "C1", "--id", "P1", "--attr", "agent=ag1",
                 "--attr", "branch=b", "--attr", "sales_channel=agency", "--attr",
                 "no_followup_statement=SM-001 signed by policyholder, agent and sales manager", now=DAY1)
    fu = data["followups"][0]
    assert fu["status"] == "exempt" and "SM-001" in fu["closed_reason"]
    # a statement found after planning is recorded on the policy: the open callback closes as exempt
    _policy(hf, "C2", "P2")
    amended = hf.ok("trigger", "amend", "P2", "--attr", "no_followup_statement=SM-002",
                    now="2026-09-01T11:00:00+08:00")
    assert amended
    assert hf.ok("show", "P2-policy")["status"] == "exempt"


def test_f6_no_statement_exempts_complaint_callbacks_nor_an_ad_hoc_close_a_hard_to_reach_policy(fin, rec):
    hf = fin
    hf.ok("staff", "add", "cs-lead", "--name", "客服主管", "--role", "supervisor")
    # a subject without any insurance policy signs a no-follow-up statement: G7 lets nothing but the
    # policy callback be exempted (by the statement on the policy), so the statement on file is refused
    hf.ok("subject", "add", "C1", "--name", "客户", "--phone", "13900000000", now=DAY1)
    r = hf("subject", "exempt", "C1", "--statement", "SM-009", now=DAY1)
    assert r.code == 2 and r.err.count("\n") == 1 and "F6: only finance.new_policy" in r.err, r.err
    fin_complaint = hf.ok("trigger", "finance.complaint_handled", "--subject", "C1", "--id", "K1", "--attr",
                          "category=fees", now=DAY1)["followups"][0]
    home_complaint = hf.ok("trigger", "property.complaint_handled", "--subject", "C1", "--id", "W1", "--attr",
                           "category=noise", "--attr", "severity=general", "--attr", "dept=security",
                           "--attr", "owner=cs-lead", now=DAY1)["followups"][0]
    assert fin_complaint["status"] != "exempt" and home_complaint["status"] != "exempt"
    r = hf("subject", "exempt", "C1", "--statement", "SM-009", now="2026-09-01T11:00:00+08:00")
    assert r.code == 2 and "F6: only" in r.err  # nor with complaint callbacks open
    for code in (fin_complaint["id"], home_complaint["id"]):
        r = hf("close", code, "--exempt", "--statement", "SM-009", now="2026-09-01T11:00:00+08:00")
        assert r.code != 0 and "F6" in r.err and "cannot be exempted" in r.err
        assert hf.ok("show", code, now="2026-09-01T11:00:00+08:00")["status"] != "exempt"
    # a hard-to-reach new policy: an ad-hoc statement at close does not exempt it
    _policy(hf, "C2", "P2")
    for now in SLOTS[:3]:
        _attempt(hf, "P2-policy", "no_answer", now, rec)
    r = hf("close", "P2-policy", "--exempt", "--statement", "客户口头表示不需要回访", now=SLOTS[3])
    assert r.code != 0 and "F6" in r.err and "recorded on trigger P2" in r.err
    assert hf.ok("show", "P2-policy", now=SLOTS[3])["status"] == "due"


# -- G13 / G12 -----------------------------------------------------------------------------------------
ANSWERS = ["--answer", "self_signed=yes", "--answer", "terms_understood=yes", "--answer", "cooling_off_informed=yes",
           "--answer", "satisfaction=较满意"]


def test_g13_major_anomaly_opens_major_ticket_escalates_and_plans_second_followup(fin, rec, tmp_path):
    hf = fin
    hf.config = _config(tmp_path, 'management = "fin-dir"')
    now = "2026-09-30T10:20:00+08:00"
    _policy(hf, "C1", "P1", now=now)
    _attempt(hf, "P1-policy", "reached", "2026-09-30T10:30:00+08:00", rec)
    data = hf.ok("complete", "P1-policy", *ANSWERS, "--answer", "anomaly=private_fee", actor="cc1",
                 now="2026-09-30T10:40:00+08:00")
    assert data["tickets"] == ["TK-P1-policy-1"]
    assert any("G13" in e["reason"] and e["to"] == "fin-dir" for e in data["escalations"])
    assert {"to": "br-mgr"} in [{"to": n["to"]} for n in data["notifications"]]  # the seller's direct leader
    t = hf.ok("ticket", "show", "TK-P1-policy-1")
    assert t["severity"] == "major" and t["department"] == "wealth_management" and t["category"] == "private_fee"
    assert t["owner"] == "fin-dir" and t["escalations"]
    # 5 working days after Wed 09-30: 10-08, 10-09, 10-10 (make-up), 10-12, 10-13
    assert t["deadline"] == "2026-10-13T23:59:59+08:00"
    # investigation done: the answer plans the second follow-up, still closed to sales (G9)
    res = hf.ok("ticket", "resolve", "TK-P1-policy-1", "--note", "fee refunded; agent disciplined",
                actor="fin-dir", now="2026-10-12T10:00:00+08:00")
    second = res["second_followup"]
    assert second == "P1-policy-recheck1"
    assert hf.ok("show", second)["visit_type"] == "second_followup"
    r = hf("attempt", second, "--channel", "phone", "--outcome", "reached", "--recording", rec, actor="ag2",
           now="2026-10-12T10:30:00+08:00")
    assert r.code != 0 and "G9" in r.err
    _attempt(hf, second, "reached", "2026-10-12T10:30:00+08:00", rec)
    hf.ok("complete", second, "--answer", "resolved=yes", "--answer", "satisfaction=满意", actor="cc1",
          now="2026-10-12T10:35:00+08:00")
    assert hf.ok("ticket", "show", "TK-P1-policy-1")["status"] == "closed"


@pytest.mark.parametrize("answer, category", [("self_signed=no", "signed_on_behalf"),
                                              ("anomaly=discretionary_mandate", "discretionary_mandate")])
def test_g13_unsigned_policy_is_a_major_anomaly(fin, rec, answer, category):
    hf = fin
    _policy(hf, "C1", "P1")
    _attempt(hf, "P1-policy", "reached", "2026-09-01T10:30:00+08:00", rec)
    chosen = {"self_signed": "yes", "terms_understood": "yes", "cooling_off_informed": "yes", "anomaly": "none",
              "satisfaction": "满意"}
    key, value = answer.split("=")
    chosen[key] = value
    args = [x for k, v in chosen.items() for x in ("--answer", f"{k}={v}")]
    data = hf.ok("complete", "P1-policy", *args, actor="cc1", now="2026-09-01T10:40:00+08:00")
    t = hf.ok("ticket", "show", data["tickets"][0])
    assert t["severity"] == "major" and t["category"] == category
    # no manager configured: escalated up the owner's ladder, to the call-centre lead
    assert data["escalations"][0]["to"] == "cc-lead" and "G13" in data["escalations"][0]["reason"]


def test_g12_opinion_ticket_handled_within_five_working_days(fin, rec):
    hf = fin
    hf.ok("subject", "add", "C1", "--name", "客户", "--phone", "13900000000")
    hf.ok("trigger", "finance.contract_signed", "--subject", "C1", "--id", "K1", "--attr", "advisor=ag1",
          "--attr", "product=p", "--attr", "branch=b", now="2026-09-30T10:00:00+08:00")
    hf.ok("attempt", "K1-new", "--channel", "phone", "--outcome", "reached", "--recording", rec,
          "--language", "普通话", actor="cc1", now="2026-09-30T10:30:00+08:00")
    data = hf.ok("complete", "K1-new", "--answer", "product_explained=no", "--answer", "risk_explained=yes",
                 "--answer", "anomaly=none", "--answer", "satisfaction=不满意", "--reason-code", "communication",
                 "--reason", "经理没讲清楚", actor="cc1", now="2026-09-30T10:40:00+08:00")
    tickets = [hf.ok("ticket", "show", t) for t in data["tickets"]]
    assert [(t["category"], t["severity"], t["department"]) for t in tickets] == [
        ("product_not_explained", "normal", "compliance"), ("dissatisfied", "normal", "customer_service")]
    assert {t["deadline"] for t in tickets} == {"2026-10-13T23:59:59+08:00"}
    assert data["escalations"] == []  # opinions are not G13 anomalies


def test_g18_finance_surveys_have_at_most_five_questions(hf):
    data = hf.ok("plugins")
    fin = next(p for p in data if p["plugin"] == "finance")
    assert len(fin["visit_types"]) == 11
    for vt in fin["visit_types"]:
        assert 1 <= len(vt["survey"]) <= 5


# -- F9: the call's language ------------------------------------------------------------------------------
def test_f9_a_finance_phone_conversation_records_its_language(fin, rec):
    hf = fin
    _policy(hf, "C1", "P1")
    r = hf("attempt", "P1-policy", "--channel", "phone", "--outcome", "reached", "--recording", rec, actor="cc1",
           now=SLOTS[0])
    assert r.code != 0 and "--language" in r.err and "F9" in r.err
    r = hf("attempt", "P1-policy", "--channel", "phone", "--outcome", "reached", "--recording", rec,
           "--language", "klingon", actor="cc1", now=SLOTS[0])
    assert r.code != 0 and r.err.strip().endswith("mandarin (普通话), dialect (本地话/方言)")
    r = hf("attempt", "P1-policy", "--channel", "phone", "--outcome", "reached", "--recording", rec,
           "--language", "方言", actor="cc1", now=SLOTS[0])
    assert r.code != 0 and "client's own request" in r.err
    data = hf.ok("attempt", "P1-policy", "--channel", "phone", "--outcome", "reached", "--recording", rec,
                 "--language", "本地话", "--note", "客户要求用本地话", actor="cc1", now=SLOTS[0])
    assert data["attempts"][-1]["language"] == "dialect"


# -- F3: special campaigns ---------------------------------------------------------------------------------
def test_f3_a_special_campaign_runs_only_on_an_approved_plan(fin, tmp_path):
    import json

    hf = fin
    hf.ok("staff", "add", "cc-lead2", "--name", "回访管理", "--role", "supervisor")
    for i in (1, 2):
        hf.ok("subject", "add", f"C{i}", "--name", f"客户{i}", "--phone", "13900000000", now=DAY1)
    hf.ok("trigger", "finance.policy_issued", "--subject", "C1", "--id", "P1", "--attr", "agent=ag1", "--attr",
          "branch=sh-pudong", "--attr", "sales_channel=agency", now=DAY1)
    r = hf("trigger", "finance.special_campaign", "--subject", "C1", "--attr", "campaign=ZX-1", now=DAY1)
    assert r.code != 0 and "F3" in r.err and "approved plan" in r.err
    plan = {"plugin": "finance", "id": "ZX-1", "title": "年金险专项回访", "department": "sh-pudong",
            "owner": "br-mgr", "channel": "phone", "schedule": {"start": "2026-09-02", "end": "2026-09-15"},
            "executors": ["ag2", "cc2"], "targets": [{"subject": "C1"}, {"subject": "C2"}]}
    path = tmp_path / "zx.json"
    path.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    back = hf.ok("campaign", "request", str(path), actor="br-mgr", now=DAY1)
    assert back["status"] == "returned" and back["missing"] == ["questionnaire"]
    path.write_text(json.dumps({**plan, "questionnaire": "Q-ZX-1: 领取养老金方式是否清楚"}, ensure_ascii=False),
                    encoding="utf-8")
    assert hf.ok("campaign", "request", str(path), actor="br-mgr", now=DAY1)["status"] == "requested"
    r = hf("campaign", "approve", "ZX-1", actor="fin-dir", now=DAY1)
    assert r.code != 0  # reviewed first (回访管理部门), then approved (总部理财管理部)
    hf.ok("campaign", "review", "ZX-1", actor="cc-lead", now=DAY1)
    done = hf.ok("campaign", "approve", "ZX-1", actor="fin-dir", now=DAY1)
    assert len(done["followups"]) == 2
    fus = {f: hf.ok("show", f, now=DAY1) for f in done["followups"]}
    # G9: ag2 sells too (sales role): every target goes to cc2
    assert {f["owner"] for f in fus.values()} == {"cc2"}
    [c1] = [f for f in fus.values() if f["subject"] == "C1"]
    assert c1["visit_type"] == "special_campaign" and c1["meta"]["seller"] == "ag1"
