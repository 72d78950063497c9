"""The subject file (G1), channels (G2), what a follow-up record holds (G4), greetings (G21)."""
from __future__ import annotations

import pytest

from tests.test_core_lifecycle import DISCHARGE

CHANNELS = ["phone", "sms", "wechat", "qq", "email", "letter", "home_visit", "web", "app"]


def test_g1_subject_file_holds_contacts_and_every_interaction(hf):
    hf.ok("staff", "add", "n1", "--name", "N", "--role", "agent")
    s = hf.ok("subject", "add", "P1", "--name", "张三", "--phone", "13800000001", "--phone", "010-66778899",
              "--email", "zs@example.cn", "--attr", "allergy=penicillin", "--attr", "age=67")
    assert s["phones"] == ["13800000001", "010-66778899"] and s["email"] == "zs@example.cn"
    assert s["attributes"] == {"allergy": "penicillin", "age": "67"} and s["tz"] == "Asia/Shanghai"
    hf.ok("trigger", "discharge", "--subject", "P1", "--id", "D1", *DISCHARGE)
    hf.ok("attempt", "D1-1", "--channel", "phone", "--outcome", "busy", actor="n1", now="2026-10-08T10:30+08:00")
    h = hf.ok("history", "P1")
    assert [(e["aggregate"], e["event"]) for e in h["events"]] == [
        ("subject:P1", "Registered"), ("trigger:D1", "Received"), ("followup:D1-1", "Planned"),
        ("followup:D1-1", "AttemptRecorded")]


@pytest.mark.parametrize("channel", CHANNELS)
def test_g2_every_channel_is_recorded(hf_sqlite, channel):
    hf = hf_sqlite
    hf.ok("staff", "add", "n1", "--name", "N", "--role", "agent")
    hf.ok("subject", "add", "P1", "--name", "张三")
    hf.ok("trigger", "discharge", "--subject", "P1", "--id", "D1", *DISCHARGE)
    a = hf.ok("attempt", "D1-1", "--channel", channel, "--outcome", "no_answer", actor="n1",
              now="2026-10-08T10:30+08:00")
    assert a["attempts"][0]["channel"] == channel


def test_g4_record_holds_time_agent_channel_answers_problems_and_handling(hf):
    hf.ok("staff", "add", "n1", "--name", "N", "--role", "agent")
    hf.ok("subject", "add", "P1", "--name", "张三")
    hf.ok("trigger", "discharge", "--subject", "P1", "--id", "D1", *DISCHARGE)
    hf.ok("attempt", "D1-1", "--channel", "phone", "--outcome", "reached", "--note", "家属接听", actor="n1",
          now="2026-10-08T10:30+08:00")
    c = hf.ok("complete", "D1-1", "--answer", "recovery=6", "--answer", "symptoms=worrying", "--answer",
              "satisfaction=满意", actor="n1", now="2026-10-08T10:40+08:00")
    a = c["attempts"][0]
    assert (a["at"], a["actor"], a["channel"], a["note"]) == ("2026-10-08T10:30:00+08:00", "n1", "phone", "家属接听")
    assert c["subject"] == "P1" and c["answers"]["recovery"] == 6  # content and the medical recovery score
    ticket = c["tickets"][0]  # the problem found ...
    t = hf.ok("ticket", "resolve", ticket, "--note", "已安排复诊", now="2026-10-08T15:00+08:00")
    assert t["resolution"] == "已安排复诊"  # ... and its handling result


def test_g21_birthday_and_holiday_greetings_go_out_as_one_batch(hf):
    hf.ok("subject", "add", "P1", "--name", "张三", "--attr", "birthday=1959-11-23")
    hf.ok("subject", "add", "P2", "--name", "李四", "--attr", "birthday=11-23")
    hf.ok("subject", "add", "P3", "--name", "王五", "--attr", "birthday=1970-05-01")
    hf.ok("subject", "add", "P4", "--name", "赵六", "--attr", "birthday=1980-11-23")
    for c in ("sms", "wechat", "email", "app"):
        hf.ok("subject", "optout", "P4", "--channel", c)
    hf.ok("subject", "optout", "P2", "--channel", "sms")
    b = hf.ok("greetings", "--occasion", "birthday", now="2026-11-23T09:00+08:00")
    assert b["recipients"] == [{"subject": "P1", "channel": "sms"}, {"subject": "P2", "channel": "wechat"}]
    assert b["skipped"] == [{"subject": "P4", "reason": "opted out of every message channel (G7)"}]
    again = hf.ok("greetings", "--occasion", "birthday", now="2026-11-23T15:00+08:00")
    assert again["batch"] == b["batch"] and again["recipients"] == b["recipients"]  # sent once a day
    h = hf.ok("greetings", "--occasion", "holiday", "--name", "春节", now="2027-02-06T09:00+08:00")
    assert [r["subject"] for r in h["recipients"]] == ["P1", "P2", "P3"]
    r = hf("greetings", "--occasion", "holiday")
    assert r.code == 2 and "--name" in r.err
