"""Follow-up lifecycle through the real CLI, on SQLite and PostgreSQL (G3, G5, G7, G14, F6)."""
from __future__ import annotations

import pytest

from tests.testkit import install_kit

DISCHARGE = ["--attr", "department=cardiology", "--attr", "diagnosis=CHD", "--attr", "responsible_nurse=n1",
             "--attr", "attending_doctor=dr1"]


@pytest.fixture
def ward(hf, store_cache):
    return store_cache(hf, _ward)


def _ward(hf) -> None:
    hf.ok("staff", "add", "hn", "--name", "护士长", "--role", "supervisor", "--dept", "cardiology")
    hf.ok("staff", "add", "n1", "--name", "王护士", "--role", "agent", "--dept", "cardiology", "--reports-to", "hn")
    hf.ok("subject", "add", "P1", "--name", "张三", "--phone", "13800000001")
    d = hf.ok("trigger", "discharge", "--subject", "P1", "--id", "D1", *DISCHARGE)
    assert [f["id"] for f in d["followups"]][:1] == ["D1-1"]


def head(hf):
    from huifang.projections import open_app

    app = open_app(hf.db)
    try:
        return app.recorder.max_notification_id() or 0
    finally:
        app.close()


def test_m1_discharge_window_rolls_over_national_day(ward):
    # discharged Mon 2026-09-28: +7 days = 10-05 (holiday) -> opens on the next workday 10-08;
    # +10 days = 10-08 (Thursday, a workday) is the deadline.
    fu = ward.ok("show", "D1-1")
    assert fu["window_open"] == "2026-10-08T10:00:00+08:00"  # first hospital calling window (G6)
    assert fu["due"] == "2026-10-08T23:59:59+08:00"
    assert fu["status"] == "planned" and fu["owner"] == "n1" and fu["provisional"] is False
    assert [q["key"] for q in fu["survey"]][:1] == ["recovery"] and len(fu["survey"]) <= 5  # G18


def test_lifecycle_planned_due_attempted_completed(ward):
    assert ward.ok("show", "D1-1", now="2026-10-08T09:00+08:00")["status"] == "planned"
    t = ward.ok("tick", now="2026-10-08T10:05+08:00")
    assert t["opened"] == 1 and t["reminded"] == 1  # G3: deadline is today, reminder not yet sent
    assert ward.ok("tick", now="2026-10-08T10:05+08:00")["opened"] == 0  # idempotent
    a = ward.ok("attempt", "D1-1", "--channel", "phone", "--outcome", "no_answer", actor="n1",
                now="2026-10-08T10:20+08:00")
    assert a["status"] == "due" and a["attempts"][0]["outcome"] == "no_answer"
    assert a["next_attempt_at"] == "2026-10-08T15:00:00+08:00"  # G5: retry in the next calling window
    r = ward(*["complete", "D1-1", "--answer", "recovery=8"], actor="n1", now="2026-10-08T15:10+08:00")
    assert r.code == 2 and "no reached attempt" in r.err
    ward.ok("attempt", "D1-1", "--channel", "phone", "--outcome", "reached", actor="n1", now="2026-10-08T15:10+08:00")
    c = ward.ok("complete", "D1-1", "--answer", "recovery=8", "--answer", "satisfaction=fairly_satisfied",
                actor="n1", now="2026-10-08T15:12+08:00")
    assert c["status"] == "completed" and c["answers"]["satisfaction"] == "较满意"
    r = ward("complete", "D1-1", "--answer", "recovery=9", actor="n1", now="2026-10-08T15:20+08:00")
    assert r.code == 2 and "already completed" in r.err and r.err.count("\n") == 1
    r = ward("attempt", "D1-1", "--channel", "phone", "--outcome", "busy", actor="n1")
    assert r.code == 2 and "already completed" in r.err


def test_g5_lost_needs_three_attempts_in_different_slots(ward):
    before = head(ward)
    r = ward("close", "D1-1", "--lost", "no_answer", actor="n1", now="2026-10-08T10:30+08:00")
    assert r.code == 2 and "G5" in r.err and "0 attempt" in r.err
    assert head(ward) == before  # nothing written
    for when in ("2026-10-08T10:10+08:00", "2026-10-08T10:40+08:00", "2026-10-08T11:20+08:00"):
        ward.ok("attempt", "D1-1", "--channel", "phone", "--outcome", "no_answer", actor="n1", now=when)
    # three attempts, but all in the morning window of one day: not "at different times"
    r = ward("close", "D1-1", "--lost", "no_answer", actor="n1", now="2026-10-08T11:30+08:00")
    assert r.code == 2 and "1 calling slot" in r.err
    ward.ok("attempt", "D1-1", "--channel", "phone", "--outcome", "powered_off", actor="n1",
            now="2026-10-08T15:30+08:00")
    r = ward("close", "D1-1", "--lost", "no_answer", actor="n1", now="2026-10-08T15:40+08:00")
    assert r.code == 2 and "2 calling slot" in r.err
    ward.ok("attempt", "D1-1", "--channel", "phone", "--outcome", "no_answer", actor="n1",
            now="2026-10-09T10:15+08:00")
    lost = ward.ok("close", "D1-1", "--lost", "no_answer", "--note", "3 次未接通", actor="n1",
                   now="2026-10-09T10:20+08:00")
    assert lost["status"] == "lost" and lost["closed_reason"] == "no_answer" and lost["closed_note"] == "3 次未接通"
    r = ward("close", "D1-1", "--cancel", "x", actor="n1")
    assert r.code == 2 and "already lost" in r.err


def test_g14_lost_needs_a_reason(ward):
    r = ward("close", "D1-1", "--lost", " ", actor="n1")
    assert r.code == 2 and "reason is required" in r.err


# The test kit's visit type takes a statement on the subject's file (exemption="subject"): the engine's F6
# mechanics; no shipped plugin allows it (G7: only insurance, by the statement on the policy, test_finance_rules).
KIT = ["--attr", "owner=n1", "--attr", "department=cardiology"]


@pytest.fixture
def kit_ward(ward, monkeypatch):
    install_kit(monkeypatch)
    return ward


def test_cancel_and_exempt(kit_ward):
    ward = kit_ward
    ward.ok("subject", "add", "P2", "--name", "李四")
    ward.ok("trigger", "kit.signed", "--subject", "P2", "--id", "K2", *KIT)
    c = ward.ok("close", "D1-1", "--cancel", "readmitted")
    assert c["status"] == "cancelled" and c["closed_reason"] == "readmitted"
    r = ward("close", "K2-1", "--exempt")
    assert r.code == 2 and "F6" in r.err
    e = ward.ok("close", "K2-1", "--exempt", "--statement", "声明书 No. 17")
    assert e["status"] == "exempt"


def test_f6_signed_statement_closes_open_and_future_followups_it_covers_as_exempt(kit_ward):
    ward = kit_ward
    ward.ok("trigger", "kit.signed", "--subject", "P1", "--id", "K1", *KIT)
    ward.ok("subject", "exempt", "P1", "--statement", "不回访声明 2026-0001")
    assert ward.ok("show", "K1-1")["status"] == "exempt"
    assert ward.ok("show", "D1-1")["status"] == "planned"  # G7: a discharge follow-up is never exempted
    k = ward.ok("trigger", "kit.signed", "--subject", "P1", "--id", "K9", *KIT)
    assert k["followups"][0]["status"] == "exempt"
    d = ward.ok("trigger", "discharge", "--subject", "P1", "--id", "D9", *DISCHARGE)
    assert d["followups"][0]["status"] == "planned"


def test_G7_F6_a_medical_or_aesthetics_followup_cannot_be_exempted(ward):
    """G7: only insurance lets a subject opt out of follow-up altogether, by the statement signed at
    purchase and recorded on the policy (F6); a discharge or an aesthetics follow-up is done, or closed
    lost `refused` (G14), which G15 takes out of the success rate. Neither `close --exempt --statement`
    nor `subject exempt` closes one: exit 2, one line, nothing written."""
    for code in ("as1", "con1"):
        ward.ok("staff", "add", code, "--name", code, "--role", "agent", "--dept", "surgery")
    a = ward.ok("trigger", "aesthetics.procedure", "--subject", "P1", "--id", "A1", "--attr", "assistant=as1",
                "--attr", "consultant=con1", "--attr", "department=surgery")
    fus = ["D1-1", a["followups"][0]["id"]]
    before = head(ward)
    for fu in fus:
        r = ward("close", fu, "--exempt", "--statement", "不回访声明 2026-0001", actor="hn")
        assert r.code == 2 and r.err.count("\n") == 1, r.err
        assert "F6" in r.err and "cannot be exempted" in r.err and "finance.new_policy" in r.err
    r = ward("subject", "exempt", "P1", "--statement", "不回访声明 2026-0001", actor="hn")
    assert r.code == 2 and r.err.count("\n") == 1 and "F6: only finance.new_policy" in r.err, r.err
    assert head(ward) == before  # nothing written
    assert [ward.ok("show", fu)["status"] for fu in fus] == ["planned", "planned"]
    assert ward.ok("history", "P1", "--reason", "F6 check")["state"]["exempt"] is False


def test_overdue_escalates_to_supervisor(ward):
    t = ward.ok("tick", now="2026-10-09T08:00+08:00")
    assert t["overdue"] == 1 and t["escalated"] == 1
    fu = ward.ok("show", "D1-1", now="2026-10-09T08:00+08:00")
    assert fu["status"] == "overdue" and fu["escalations"][0]["to"] == "hn"
    q = ward.ok("queue", "--overdue", now="2026-10-09T08:00+08:00")
    assert [r["id"] for r in q] == ["D1-1"]
    assert ward.ok("tick", now="2026-10-09T08:00+08:00")["overdue"] == 0  # idempotent


def test_g3_reminder_the_day_before_the_deadline(ward):
    ward.ok("subject", "add", "P3", "--name", "王五")
    # discharged 10-12 09:00 -> opens 10-19, due 10-22 (both workdays)
    ward.ok("trigger", "discharge", "--subject", "P3", "--id", "D3", "--at", "2026-10-12T09:00+08:00", *DISCHARGE,
            now="2026-10-12T09:00+08:00")
    assert ward.ok("tick", now="2026-10-20T18:00+08:00")["reminded"] == 0  # two days before: not yet
    assert ward.ok("tick", now="2026-10-21T08:00+08:00")["reminded"] == 0  # before working hours (G3)
    t = ward.ok("tick", now="2026-10-21T10:05+08:00")
    assert [r["followup"] for r in t["reminders"]] == ["D3-1"] and t["reminders"][0]["to"] == "n1"
    assert ward.ok("tick", now="2026-10-21T11:00+08:00")["reminded"] == 0


def test_g7_opt_out_is_respected(ward):
    ward.ok("subject", "optout", "P1", "--channel", "phone")
    assert ward.ok("show", "D1-1")["channel"] == "sms"  # open follow-up moved to the next channel
    r = ward("attempt", "D1-1", "--channel", "phone", "--outcome", "reached", actor="n1")
    assert r.code == 2 and "G7" in r.err and "opted out of phone" in r.err
    ward.ok("attempt", "D1-1", "--channel", "sms", "--outcome", "reached", actor="n1", now="2026-10-08T10:30+08:00")
    d = ward.ok("trigger", "discharge", "--subject", "P1", "--id", "D5", *DISCHARGE)
    assert d["followups"][0]["channel"] == "sms"  # later plans respect it too


def test_idempotent_trigger(ward):
    before = head(ward)
    again = ward.ok("trigger", "discharge", "--subject", "P1", "--id", "D1", *DISCHARGE)
    assert again["created"] is False and [f["id"] for f in again["followups"]] == ["D1-1"]
    assert head(ward) == before


def test_ticket_second_followup_closes_ticket(ward):
    ward.ok("attempt", "D1-1", "--channel", "phone", "--outcome", "reached", actor="n1", now="2026-10-08T10:30+08:00")
    c = ward.ok("complete", "D1-1", "--answer", "recovery=3", "--answer", "symptoms=worrying", "--answer",
                "satisfaction=满意", actor="n1", now="2026-10-08T10:40+08:00")
    assert c["tickets"] == ["TK-D1-1-1"]  # M7: worrying symptoms -> ticket, attending doctor notified
    assert c["notifications"][0]["to"] == "dr1"
    t = ward.ok("ticket", "resolve", "TK-D1-1-1", "--note", "复诊安排", now="2026-10-08T16:00+08:00")
    # G12: 4 h of calling-window time: 16-17 today, 10-12 and 15-16 on Friday 10-09
    assert t["status"] == "resolved" and t["second_followup_due"] == "2026-10-09T16:00:00+08:00"
    second = t["second_followup"]
    ward.ok("attempt", second, "--channel", "phone", "--outcome", "reached", actor="n1", now="2026-10-08T16:30+08:00")
    ward.ok("complete", second, "--answer", "resolved=yes", "--answer", "satisfaction=满意", actor="n1",
            now="2026-10-08T16:35+08:00")
    assert ward.ok("ticket", "show", "TK-D1-1-1")["status"] == "closed"


def test_reassign_and_history_as_of(ward):
    ward.ok("staff", "add", "n2", "--name", "赵护士", "--role", "agent", "--reports-to", "hn")
    ward.ok("reassign", "D1-1", "--to", "n2", "--reason", "n1 on leave", actor="hn", now="2026-10-01T09:00+08:00")
    ward.ok("attempt", "D1-1", "--channel", "phone", "--outcome", "busy", actor="n2", now="2026-10-08T10:30+08:00")
    h = ward.ok("history", "D1-1", "--as-of", "2026-10-02T00:00+08:00")
    assert [e["event"] for e in h["events"]] == ["Planned", "Reassigned"]
    assert h["state"]["owner"] == "n2" and h["state"]["attempts"] == []
    full = ward.ok("history", "D1-1")
    assert [e["event"] for e in full["events"]] == ["Planned", "Reassigned", "AttemptRecorded"]
    assert [e["actor"] for e in full["events"]] == ["cli", "hn", "n2"]
    old = ward.ok("history", "D1-1", "--as-of", "2026-09-28T09:00+08:00")
    assert old["state"]["owner"] == "n1"
    subj = ward.ok("history", "P1")
    assert {e["aggregate"] for e in subj["events"]} == {"subject:P1", "trigger:D1", "followup:D1-1"}  # G1
