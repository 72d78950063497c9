"""Tickets (问题件) through the real CLI: an owner and a deadline for every ticket, overdue tickets climbing
the ladder at `tick` (G12), the reason for a 不满意 answer (G16), the second follow-up in calling-window
hours (G12), a 代签名 anomaly escalated to a real person with the default config (G13), and each
branch's share of the tickets in the finance reports (F8, 004 §4 art.16)."""
from __future__ import annotations

DISCHARGE = ["--attr", "department=cardiology", "--attr", "diagnosis=CHD", "--attr", "responsible_nurse=n1",
             "--attr", "attending_doctor=dr1"]
REACHED = "2026-10-08T10:30+08:00"  # D1-1's window opens Thu 10-08 (after the National Day holiday)
OK = ["--answer", "recovery=7", "--answer", "symptoms=none"]


def ward(hf):
    """Cardiology: 科主任 kz heads the department (reports to 院长 yz); nurse n1 reports to the head
    nurse hn, who reports to the nursing director dir. Patient P1 discharged Mon 09-28."""
    hf.ok("staff", "add", "yz", "--name", "院长", "--role", "manager")
    hf.ok("staff", "add", "kz", "--name", "科主任", "--role", "manager", "--dept", "cardiology",
          "--reports-to", "yz", "--head-of", "cardiology")
    hf.ok("staff", "add", "dir", "--name", "护理部主任", "--role", "manager", "--dept", "nursing")
    hf.ok("staff", "add", "hn", "--name", "护士长", "--role", "supervisor", "--dept", "cardiology", "--reports-to", "dir")
    hf.ok("staff", "add", "n1", "--name", "王护士", "--role", "agent", "--dept", "cardiology", "--reports-to", "hn")
    hf.ok("subject", "add", "P1", "--name", "张三", "--phone", "13800000001")
    hf.ok("trigger", "discharge", "--subject", "P1", "--id", "D1", *DISCHARGE)
    hf.ok("attempt", "D1-1", "--channel", "phone", "--outcome", "reached", actor="n1", now=REACHED)
    return hf


def test_G12_M7_ticket_has_an_owner_and_a_deadline_and_tick_escalates_it_up_the_ladder(hf_sqlite):
    hf = ward(hf_sqlite)
    done = hf.ok("complete", "D1-1", *OK[:2], "--answer", "symptoms=worrying", "--answer", "satisfaction=满意",
                 actor="n1", now="2026-10-08T10:40+08:00")
    t = hf.ok("ticket", "show", done["tickets"][0])
    # M7: the clinical department's head owns it; 24 h (G12); found by nurse n1
    assert (t["owner"], t["severity"], t["deadline"], t["agent"]) == ("kz", "normal", "2026-10-09T10:40:00+08:00", "n1")
    assert hf.ok("tick", now="2026-10-09T10:41+08:00")["tickets_escalated"] == 1
    assert hf.ok("tick", now="2026-10-09T10:41+08:00")["tickets_escalated"] == 0  # idempotent
    # one more step per further 24 h without an answer: two days later two more steps, to the top
    assert hf.ok("tick", now="2026-10-11T10:41+08:00")["tickets_escalated"] == 2
    assert hf.ok("tick", now="2026-10-20T10:41+08:00")["tickets_escalated"] == 0  # the top keeps it
    t = hf.ok("ticket", "show", t["id"])
    assert [(e["level"], e["from"], e["to"], e["rule"]) for e in t["escalations"]] == [
        (1, "kz", "hn", "G12"), (2, "hn", "dir", "G12"), (3, "dir", "yz", "G12")]  # nurse's ladder, then kz's
    events = [e["event"] for e in hf.ok("history", t["id"])["events"]]
    assert events.count("Escalated") == 3  # each step an event


def test_G16_dissatisfied_answer_is_refused_without_its_reason_and_the_ticket_carries_it(hf_sqlite):
    hf = ward(hf_sqlite)
    args = ["complete", "D1-1", *OK, "--answer", "satisfaction=不满意"]
    r = hf(*args, actor="n1", now="2026-10-08T10:40+08:00")
    assert r.code == 2 and r.err.startswith("huifang: error: --reason-code: 不满意 needs the reason") \
        and r.err.count("\n") == 1
    r = hf(*args, "--reason-code", "waiting", actor="n1", now="2026-10-08T10:40+08:00")
    assert r.code == 2 and r.err.startswith("huifang: error: --reason: ")
    assert hf.ok("show", "D1-1")["answers"] is None  # nothing written
    r = hf("complete", "D1-1", *OK, "--answer", "satisfaction=满意", "--reason-code", "waiting", actor="n1")
    assert r.code == 2 and "only a 不满意" in r.err
    done = hf.ok(*args, "--reason-code", "等候时间长", "--reason", "排队两个小时", actor="n1",
                 now="2026-10-08T10:40+08:00")
    assert (done["answers"]["dissatisfaction_code"], done["answers"]["dissatisfaction_reason"]) == \
        ("waiting", "排队两个小时")
    t = hf.ok("ticket", "show", done["tickets"][0])
    assert (t["category"], t["reason_code"], t["reason"], t["owner"]) == ("dissatisfied", "waiting", "排队两个小时", "kz")


def test_G12_second_followup_due_after_four_calling_window_hours_not_four_clock_hours(hf_sqlite):
    hf = ward(hf_sqlite)
    done = hf.ok("complete", "D1-1", *OK[:2], "--answer", "symptoms=worrying", "--answer", "satisfaction=满意",
                 actor="n1", now="2026-10-08T10:40+08:00")
    # resolved Fri 10-09 18:30, after the last window: Sat 10-10 is a make-up workday (调休), so the
    # 4 h are 10-12 and 15-17 there (not 22:30 on Friday)
    res = hf.ok("ticket", "resolve", done["tickets"][0], "--note", "已安排复诊", actor="kz", now="2026-10-09T18:30+08:00")
    assert res["second_followup_due"] == "2026-10-10T17:00:00+08:00"
    second = hf.ok("show", res["second_followup"], now="2026-10-09T18:31+08:00")
    assert (second["window_open"], second["due"]) == ("2026-10-10T10:00:00+08:00", "2026-10-10T17:00:00+08:00")


FINANCE_STAFF = (("fin-dir", "理财管理部", "manager", None), ("cc-lead", "回访主管", "supervisor", "fin-dir"),
                 ("cc1", "回访专员1", "agent", "cc-lead"), ("br-mgr", "营业部负责人", "manager", "fin-dir"),
                 ("ag1", "代理人1", "sales", "br-mgr"))
POLICY_OK = {"self_signed": "yes", "terms_understood": "yes", "cooling_off_informed": "yes", "anomaly": "none",
             "satisfaction": "满意"}


def policies(hf, tmp_path, branches: dict[str, str]) -> str:
    """Policies issued Tue 09-01 under the default finance config (no agents: the pool; no management)."""
    for code, name, role, boss in FINANCE_STAFF:
        hf.ok("staff", "add", code, "--name", name, "--role", role, *(["--reports-to", boss] if boss else []))
    rec = tmp_path / "call.wav"
    rec.write_bytes(b"RIFF fake call recording")
    for tid, branch in branches.items():
        hf.ok("subject", "add", f"C{tid}", "--name", "客户", "--phone", "13900000000", now="2026-09-01T10:00+08:00")
        hf.ok("trigger", "finance.policy_issued", "--subject", f"C{tid}", "--id", tid, "--attr", "agent=ag1",
              "--attr", f"branch={branch}", "--attr", "sales_channel=agency", now="2026-09-01T10:00+08:00")
        hf.ok("attempt", f"{tid}-policy", "--channel", "phone", "--outcome", "reached", "--recording", str(rec),
              "--language", "mandarin", actor="cc1", now="2026-09-01T10:30+08:00")
    return str(rec)


def complete_policy(hf, tid: str, **answers: str):
    args = [x for k, v in {**POLICY_OK, **answers}.items() for x in ("--answer", f"{k}={v}")]
    return hf.ok("complete", f"{tid}-policy", *args, actor="cc1", now="2026-09-01T10:40+08:00")


def test_G13_signed_on_behalf_escalates_to_a_real_person_with_the_default_config(hf, tmp_path):
    policies(hf, tmp_path, {"P1": "sh-pudong"})
    done = complete_policy(hf, "P1", self_signed="no")  # 代客户签名
    assert done["owner"] is None  # a pool follow-up, worked by cc1
    assert "br-mgr" in {n["to"] for n in done["notifications"]}  # the seller's leader is told
    assert [e["to"] for e in done["escalations"]] == ["cc-lead"]  # the callback agent's supervisor
    t = hf.ok("ticket", "show", done["tickets"][0])
    assert (t["category"], t["severity"], t["owner"]) == ("signed_on_behalf", "major", "cc-lead")
    assert [(e["level"], e["from"], e["to"], e["rule"]) for e in t["escalations"]] == [(1, "cc1", "fin-dir", "G13")]
    # G12: 5 working days from Tue 09-01
    assert t["deadline"] == "2026-09-08T23:59:59+08:00"


def test_F8_branch_ticket_count_and_share_in_the_monthly_and_quarterly_reports(hf_sqlite, tmp_path):
    hf = hf_sqlite
    policies(hf, tmp_path, {"P1": "sh-pudong", "P2": "sh-pudong", "P3": "bj-chaoyang", "P4": "bj-chaoyang"})
    complete_policy(hf, "P1", terms_understood="no")
    complete_policy(hf, "P2", cooling_off_informed="no")
    complete_policy(hf, "P3", terms_understood="no")
    complete_policy(hf, "P4")
    data = hf.ok("report", "branches", "--month", "2026-09", now="2026-10-08T10:00+08:00")
    rows = {r["branch"]: (r["tickets"], r["ticket_share"]) for r in data["rows"]}
    assert rows == {"bj-chaoyang": (1, 0.333333), "sh-pudong": (2, 0.666667), "(all)": (3, 1.0)}
    quarterly = hf.ok("report", "quarterly", "--quarter", "2026-Q3", now="2026-10-08T10:00+08:00")
    section = next(s for s in quarterly["sections"] if s["name"] == "finance.branches")
    assert {r["branch"]: r["ticket_share"] for r in section["rows"]} == {
        "bj-chaoyang": 0.333333, "sh-pudong": 0.666667, "(all)": 1.0}
