"""Finance behaviour through the real CLI: G9 conflict of interest, F9/G11 recordings, F5 channel
fallback and its 10% quota, F6 exemption, G13 major anomalies with escalation and the second
follow-up, G12 opinions within 5 working days. SQLite and PostgreSQL."""
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
def fin(hf, tmp_path):
    """The CLI with staff registered and finance follow-ups owned by cc1."""
    _staff(hf)
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
    # the reply comes back: reached by letter, no recording needed, and the survey is completed
    _attempt(hf, "P1-policy", "reached", "2026-09-09T10:30:00+08:00", rec, channel="letter")
    done = hf.ok("complete", "P1-policy", "--answer", "self_signed=yes", "--answer", "terms_understood=yes",
                 "--answer", "cooling_off_informed=yes", "--answer", "anomaly=none", "--answer", "satisfaction=满意",
                 actor="cc1", now="2026-09-09T10:40:00+08:00")
    assert done["status"] == "completed"


def test_f5_invalid_number_ends_a_round_at_once_and_home_visit_excludes_the_seller(fin, rec):
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


def test_f5_warns_when_a_new_fallback_would_exceed_ten_percent(fin, rec):
    hf = fin
    for i in range(10):
        _policy(hf, f"C{i}", f"P{i}")
    # 10 follow-ups due: the first fallback makes 1 of 10 = 10% (allowed), the second 2 of 10 = 20%
    for i, warned in ((0, False), (1, True)):
        _attempt(hf, f"P{i}-policy", "wrong_number", SLOTS[0], rec)
        data = _attempt(hf, f"P{i}-policy", "wrong_number", SLOTS[1], rec)
        assert data["channel"] == "letter"
        warn = [m for m in data["messages"] if "above the 10% limit" in m]
        assert bool(warn) is warned
    assert warn == ["F5: home visits + letters would be 2 of 10 follow-ups (20.0%), above the 10% limit"]


# -- F6 ----------------------------------------------------------------------------------------------
def test_f6_signed_statement_closes_the_policy_followup_as_exempt(fin):
    hf = fin
    hf.ok("subject", "add", "C1", "--name", "客户", "--phone", "13900000000", now=DAY1)
    hf.ok("subject", "exempt", "C1", "--statement", "SM-001 signed by policyholder, agent and sales manager",
          now=DAY1)
    data = hf.ok("trigger", "finance.policy_issued", "--subject", "C1", "--id", "P1", "--attr", "agent=ag1",
                 "--attr", "branch=b", "--attr", "sales_channel=agency", now=DAY1)
    fu = data["followups"][0]
    assert fu["status"] == "exempt" and "SM-001" in fu["closed_reason"]
    # a statement recorded after planning closes the open follow-up as exempt, not lost
    _policy(hf, "C2", "P2")
    hf.ok("subject", "exempt", "C2", "--statement", "SM-002", now="2026-09-01T11:00:00+08:00")
    assert hf.ok("show", "P2-policy")["status"] == "exempt"


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
    hf.ok("attempt", "K1-new", "--channel", "phone", "--outcome", "reached", "--recording", rec, actor="cc1",
          now="2026-09-30T10:30:00+08:00")
    data = hf.ok("complete", "K1-new", "--answer", "product_explained=no", "--answer", "risk_explained=yes",
                 "--answer", "anomaly=none", "--answer", "satisfaction=不满意", actor="cc1",
                 now="2026-09-30T10:40:00+08:00")
    tickets = [hf.ok("ticket", "show", t) for t in data["tickets"]]
    assert [(t["category"], t["severity"], t["department"]) for t in tickets] == [
        ("product_not_explained", "normal", "compliance"), ("dissatisfied", "normal", "customer_service")]
    assert {t["deadline"] for t in tickets} == {"2026-10-13T23:59:59+08:00"}
    assert data["escalations"] == []  # opinions are not G13 anomalies


def test_g18_finance_surveys_have_at_most_five_questions(hf):
    data = hf.ok("plugins")
    fin = next(p for p in data if p["plugin"] == "finance")
    assert len(fin["visit_types"]) == 10
    for vt in fin["visit_types"]:
        assert 1 <= len(vt["survey"]) <= 5
