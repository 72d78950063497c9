"""Lost (失访) means unreachable (G5, G6, G7, G14), through the real CLI.

A discharge on Mon 2026-09-28 is due for its first call on 10-08 (the National Day holiday rolls the
day-7 window); the hospital calling windows are 10:00–12:00 and 15:00–17:00 (G6)."""
from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict

from huifang.core.contract import PlannedVisit, TriggerKind, VisitType
from huifang.core.plugin_api import hookimpl
from tests.test_core_lifecycle import DISCHARGE, head


@pytest.fixture
def ward(hf, store_cache):
    return store_cache(hf, _ward)


def _ward(hf) -> None:
    hf.ok("staff", "add", "hn", "--name", "护士长", "--role", "supervisor", "--dept", "cardiology")
    hf.ok("staff", "add", "n1", "--name", "王护士", "--role", "agent", "--dept", "cardiology", "--reports-to", "hn")
    hf.ok("subject", "add", "P1", "--name", "张三", "--phone", "13800000001")
    hf.ok("trigger", "discharge", "--subject", "P1", "--id", "D1", *DISCHARGE)  # window 10-08 10:00


def attempt(hf, when: str, outcome: str = "no_answer", channel: str = "phone", code: str = "D1-1"):
    return hf.ok("attempt", code, "--channel", channel, "--outcome", outcome, actor="n1", now=when)


def test_G5_G6_attempts_outside_the_calling_windows_do_not_count_toward_lost(ward):
    for when in ("2026-10-08T12:10+08:00", "2026-10-08T13:10+08:00", "2026-10-08T14:10+08:00"):
        a = attempt(ward, when)  # between the 10-12 and 15-17 windows
    assert any(m.startswith("G6") and "does not count" in m for m in a["messages"])
    assert [x["outside_window"] for x in a["attempts"]] == [True, True, True]
    before = head(ward)
    r = ward("close", "D1-1", "--lost", "no_answer", actor="n1", now="2026-10-08T14:20+08:00")
    assert r.code == 2 and "G5" in r.err and "has 0 attempt(s) (3 more outside the calling windows" in r.err
    assert head(ward) == before  # nothing written
    text = ward("attempt", "D1-1", "--channel", "phone", "--outcome", "busy", actor="n1", now="2026-10-08T15:10+08:00",
                json_out=False).out  # the attempts as the operator sees them
    assert text.count("（不计入失联次数：不在呼叫时段内）") == 3  # zh_CN by default
    attempt(ward, "2026-10-09T10:10+08:00")
    r = ward("close", "D1-1", "--lost", "no_answer", actor="n1", now="2026-10-09T10:20+08:00")
    assert r.code == 2 and "has 2 attempt(s)" in r.err
    attempt(ward, "2026-10-09T15:10+08:00")  # three attempts inside three calling slots
    lost = ward.ok("close", "D1-1", "--lost", "no_answer", actor="n1", now="2026-10-09T15:20+08:00")
    assert lost["status"] == "lost" and lost["closed_reason"] == "no_answer"


def test_G5_a_channel_without_calling_windows_counts_at_any_time(ward):
    for when in ("2026-10-08T12:10+08:00", "2026-10-08T13:10+08:00", "2026-10-08T14:10+08:00"):
        attempt(ward, when, channel="sms")  # an SMS has no calling window: each hour is another time
    lost = ward.ok("close", "D1-1", "--lost", "no_answer", actor="n1", now="2026-10-08T14:20+08:00")
    assert lost["status"] == "lost"


def test_G5_attempts_before_the_window_opens_are_flagged_and_lost_is_refused_until_it_opens(ward):
    # discharged 10-12 09:00: the day-7 window opens 10-19 10:00
    ward.ok("trigger", "discharge", "--subject", "P1", "--id", "D3", "--at", "2026-10-12T09:00+08:00", *DISCHARGE,
            now="2026-10-12T09:00+08:00")
    for when in ("2026-10-12T10:10+08:00", "2026-10-12T15:10+08:00", "2026-10-13T10:10+08:00"):
        a = attempt(ward, when, code="D3-1")
    assert [x["before_window"] for x in a["attempts"]] == [True, True, True]
    assert any(m.startswith("G5") and "window opens 2026-10-19T10:00" in m for m in a["messages"])
    assert a["next_attempt_at"] == "2026-10-19T10:00:00+08:00"  # retry when the window opens, not before
    r = ward("close", "D3-1", "--lost", "no_answer", actor="n1", now="2026-10-13T10:20+08:00")
    assert r.code == 2 and "cannot be closed as lost before then" in r.err
    r = ward("close", "D3-1", "--lost", "no_answer", actor="n1", now="2026-10-19T12:30+08:00")
    assert r.code == 2 and "has 0 attempt(s) (3 more" in r.err


def test_G7_refusing_the_channel_records_the_opt_out_and_moves_the_followup_to_sms(ward):
    a = attempt(ward, "2026-10-08T10:10+08:00", outcome="拒绝电话")  # the label of refused_channel
    assert a["attempts"][0]["outcome"] == "refused_channel" and a["channel"] == "sms"
    assert any(m.startswith("G7") for m in a["messages"])
    events = [e["event"] for e in ward.ok("history", "P1")["events"]]
    assert "OptedOut" in events  # recorded on the subject's file: every later plan respects it
    r = ward("attempt", "D1-1", "--channel", "phone", "--outcome", "no_answer", actor="n1",
             now="2026-10-08T10:20+08:00")
    assert r.code == 2 and "G7" in r.err and "opted out of phone" in r.err
    # refusing a channel is not refusing the follow-up: lost 'refused' needs a recorded refusal
    r = ward("close", "D1-1", "--lost", "refused", actor="n1", now="2026-10-08T10:30+08:00")
    assert r.code == 2 and "G14" in r.err and "refused_channel" in r.err
    later = ward.ok("trigger", "discharge", "--subject", "P1", "--id", "D2", *DISCHARGE, now="2026-10-08T10:40+08:00")
    assert later["followups"][0]["channel"] == "sms"


def test_G14_G15_refusing_the_followup_itself_closes_it_lost_refused_out_of_the_success_denominator(ward):
    attempt(ward, "2026-10-08T10:10+08:00", outcome="拒绝回访")  # the label of refused
    lost = ward.ok("close", "D1-1", "--lost", "拒绝回访", actor="n1", now="2026-10-08T10:15+08:00")
    assert (lost["status"], lost["closed_reason"], lost["channel"]) == ("lost", "refused", "phone")
    (r,) = ward.ok("report", "rates", "--from", "2026-10-01", "--to", "2026-10-31", now="2026-10-09T09:00+08:00")["rows"]
    assert (r["due"], r["lost"], r["refused"], r["success_rate"]) == (1, 1, 1, None)  # 0 ÷ (1 − 1 refused)


def test_G14_lost_reason_is_a_code_from_the_list_with_an_optional_note(ward):
    before = head(ward)
    r = ward("close", "D1-1", "--lost", "打不通", actor="n1", now="2026-10-08T10:30+08:00")
    assert r.code == 2 and r.err.count("\n") == 1 and r.err.startswith("huifang: error: --lost: '打不通'")
    assert "no_answer (多次无人接听)" in r.err and "moved (迁居/联系方式失效)" in r.err
    r = ward("close", "D1-1", "--lost", "other", actor="n1", now="2026-10-08T10:30+08:00")
    assert r.code == 2 and "--note" in r.err
    r = ward("close", "D1-1", "--cancel", "readmitted", "--note", "x", actor="n1", now="2026-10-08T10:30+08:00")
    assert r.code == 2 and r.err.startswith("huifang: error: --note:")
    assert head(ward) == before
    for when in ("2026-10-08T10:10+08:00", "2026-10-08T15:10+08:00", "2026-10-09T10:10+08:00"):
        attempt(ward, when, outcome="powered_off")
    lost = ward.ok("close", "D1-1", "--lost", "关机", "--note", "家属说出国了", actor="n1", now="2026-10-09T10:20+08:00")
    assert (lost["closed_reason"], lost["closed_note"]) == ("powered_off", "家属说出国了")
    rows = ward.ok("report", "lost", "--from", "2026-10-01", "--to", "2026-10-31", now="2026-10-09T11:00+08:00")["rows"]
    assert [(x["reason"], x["lost"]) for x in rows] == [("powered_off", 1)]


class _VisitAttrs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    agent: str


class _Ladder:
    """A plugin whose follow-ups may be lost only after a letter was tried (like F5's ladder)."""

    name = "ladder"

    @hookimpl
    def huifang_trigger_kinds(self):
        return [TriggerKind(name="visit", attributes=_VisitAttrs, codes=["agent"])]

    @hookimpl
    def huifang_visit_types(self):
        return [VisitType(name="check")]

    @hookimpl
    def huifang_plan(self, trigger, subject, settings, scheduler, history):
        return [PlannedVisit(key="1", visit_type="check", owner=trigger.attributes["agent"],
                             **scheduler.window(trigger.at, 0, 5).fields())]

    @hookimpl
    def huifang_check_lost(self, followup, reason, settings, history):
        if reason != "deceased" and not any(a["channel"] == "letter" for a in followup.attempts):
            return f"ladder: {followup.id} needs a letter before it is lost ({reason})"
        return None


class _Strict(_Ladder):
    """Another enabled plugin that refuses every lost: never asked about the ladder's follow-ups."""

    name = "strict"

    @hookimpl
    def huifang_trigger_kinds(self):
        return [TriggerKind(name="call", attributes=_VisitAttrs, codes=["agent"])]

    @hookimpl
    def huifang_check_lost(self, followup, reason, settings, history):
        return "strict: never"


def test_G14_plugin_hook_check_lost_adds_preconditions_of_the_owning_plugin(hf):
    from huifang.core import clock
    from huifang.core.config import Config
    from huifang.core.errors import Refused
    from huifang.projections import open_app

    cfg = Config.model_validate({"huifang": {"plugins": ["ladder", "strict"]}})
    app = open_app(hf.db, cfg, extra_plugins={"ladder": _Ladder(), "strict": _Strict()})

    def at(text: str):
        return clock.at(clock.parse_instant(text))

    try:
        with at("2026-11-02T09:00+08:00"):  # a Monday
            app.add_staff("a1", "坐席", "agent")
            app.add_subject("S1", "客户", ["13800000000"])
            _, (fu,), _ = app.receive_trigger("ladder.visit", "S1", {"agent": "a1"}, trigger_id="V1")
        for when in ("2026-11-02T10:10+08:00", "2026-11-02T15:10+08:00", "2026-11-03T10:10+08:00"):
            with at(when):
                app.record_attempt(fu.code, "phone", "no_answer", actor="a1")
        with at("2026-11-03T10:20+08:00"), pytest.raises(Refused, match="ladder: V1-1 needs a letter"):
            app.close_followup(fu.code, "lost", "no_answer", actor="a1")
        with at("2026-11-03T10:30+08:00"):
            app.record_attempt(fu.code, "letter", "no_answer", actor="a1")
            assert app.close_followup(fu.code, "lost", "no_answer", actor="a1").status == "lost"
    finally:
        app.close()
