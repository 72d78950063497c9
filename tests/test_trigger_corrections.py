"""Idempotence that does not hide corrections: re-sending a trigger id with the same data is a no-op,
with other data it is refused naming the fields (the CLI and imports alike), and `trigger amend`
records the correction and re-plans the trigger's open follow-ups (M1, M9, A2)."""
from __future__ import annotations

from tests.test_core_lifecycle import DISCHARGE, head

NOW = "2026-11-02T09:00:00+08:00"  # a Monday
PROCEDURE = ["--attr", "department=surgery", "--attr", "assistant=as1", "--attr", "consultant=con1",
             "--attr", "stitch_removal_day=7", "--attr", "nurse=nu1", "--attr", "doctor=dr1", "--attr", "item=双眼皮",
             "--attr", "amount=12800"]


def test_M1_M9_resending_a_discharge_with_another_department_or_nurse_is_refused_naming_the_fields(hf, tmp_path):
    hf.ok("staff", "add", "n1", "--name", "王护士", "--role", "agent", "--dept", "cardiology")
    hf.ok("subject", "add", "P1", "--name", "张三", "--phone", "13800000001")
    hf.ok("trigger", "discharge", "--subject", "P1", "--id", "D1", *DISCHARGE)
    again = hf.ok("trigger", "discharge", "--subject", "P1", "--id", "D1", *DISCHARGE)
    assert again["created"] is False  # the same data: a no-op, as before
    before = head(hf)
    corrected = [a.replace("cardiology", "neurology").replace("=n1", "=n2") for a in DISCHARGE]
    r = hf("trigger", "discharge", "--subject", "P1", "--id", "D1", *corrected)
    assert r.code == 2 and r.err.count("\n") == 1
    assert "--id: trigger 'D1' was already received with other data (department, responsible_nurse)" in r.err
    assert "trigger amend D1" in r.err
    r = hf("trigger", "discharge", "--subject", "P1", "--id", "D1", "--at", "2026-09-27T09:00+08:00", *DISCHARGE)
    assert r.code == 2 and "(at)" in r.err
    assert head(hf) == before  # nothing written
    # the same re-send in an import file: a bad row naming the column
    f = tmp_path / "discharges.csv"
    f.write_text("id,subject,at,department,diagnosis,responsible_nurse,attending_doctor\n"
                 "D1,P1,2026-09-28 09:00,neurology,CHD,n1,dr1\n", encoding="utf-8")
    r = hf("trigger", "import", str(f), "--kind", "discharge")
    assert r.code == 2 and "column 'department'" in r.err and "trigger amend D1" in r.err
    assert head(hf) == before


def test_A2_trigger_amend_replans_open_followups_and_leaves_closed_and_hand_reassigned_ones(hf):
    hf.now = NOW
    for s in ("as1", "as2", "con1", "nu1"):
        hf.ok("staff", "add", s, "--name", s, "--role", "agent", "--dept", "surgery")
    hf.ok("subject", "add", "K1", "--name", "李四", "--phone", "13800000002")
    planned = hf.ok("trigger", "procedure", "--subject", "K1", "--id", "K1", *PROCEDURE)
    owners = {f["id"]: f["owner"] for f in planned["followups"]}
    assert owners["K1-care"] == owners["K1-dressing"] == owners["K1-result"] == "as1"
    stitch = {f["id"]: f for f in planned["followups"]}["K1-stitch"]
    hf.ok("close", "K1-dressing", "--cancel", "已到院换药", now="2026-11-02T09:10+08:00")
    hf.ok("reassign", "K1-result", "--to", "nu1", "--reason", "as1 休假", now="2026-11-02T09:20+08:00")
    r = hf("trigger", "amend", "K1", "--attr", "bogus=1", now="2026-11-02T09:30+08:00")
    assert r.code == 2 and r.err.startswith("huifang: error: --attr bogus:")
    done = hf.ok("trigger", "amend", "K1", "--attr", "assistant=as2", "--attr", "stitch_removal_day=10",
                 "--reason", "HIS 录入错误", now="2026-11-02T09:30+08:00")
    assert done["changed"] == ["assistant", "stitch_removal_day"]
    assert "reassigned K1-care to as2" in done["followups"]
    assert hf.ok("show", "K1-care")["owner"] == "as2"
    dressing = hf.ok("show", "K1-dressing")
    assert (dressing["status"], dressing["owner"]) == ("cancelled", "as1")  # closed: untouched
    assert hf.ok("show", "K1-result")["owner"] == "nu1"  # a hand reassignment is kept
    moved = hf.ok("show", "K1-stitch")
    assert moved["window_open"] > stitch["window_open"] and moved["owner"] == "nu1"  # 拆线前一天 moves with day 10
    events = [e["event"] for e in hf.ok("history", "K1-stitch")["events"]]
    assert events[-2:] == ["Rescheduled", "Replanned"]
    trig = hf.ok("history", "trigger:K1")
    assert [e["event"] for e in trig["events"]] == ["Received", "Amended"]
    assert trig["state"]["attributes"]["assistant"] == "as2"
    again = hf.ok("trigger", "amend", "K1", "--attr", "assistant=as2", now="2026-11-02T09:40+08:00")
    assert again["amended"] is False and again["followups"] == []  # already so: a no-op
    # the corrected data is now what a re-send must match
    assert hf.ok("trigger", "procedure", "--subject", "K1", "--id", "K1",
                 *[a.replace("as1", "as2").replace("day=7", "day=10") for a in PROCEDURE])["created"] is False
