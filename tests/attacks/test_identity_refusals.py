"""G8: every refusal is recorded, including those that were only raised: an unregistered actor on the
commands that work a follow-up (attempt, complete, close, reassign), on `qa record` and `unlock`; the
A4 lock refusing a locked agent's `close`; the A4 unlock ladder refusing someone outside it; the G17
refusals of `qa record`. Each attack below left no trace in the audit trail (or, for `reassign` and
`qa record` by an unregistered name in setup mode, even succeeded)."""
from __future__ import annotations

import pytest

from tests.audit_kit import DISCHARGE

T0 = "2026-09-28T09:00+08:00"
CALL = "2026-10-08T10:20+08:00"
DONE = "2026-10-08T10:25+08:00"
LATER = "2026-10-08T16:00+08:00"
TICK = "2026-10-10T09:00+08:00"
AFTER = "2026-10-10T09:05+08:00"


@pytest.fixture
def ward(hf, store_cache):
    return store_cache(hf, _ward)


def _ward(hf) -> None:
    """Setup mode (no admin): hn (supervisor) <- n1, n2 (agents, cardiology); P1's D1-1 completed by
    n1; P2's D2-1 owned by n1, open. Written in time order (records never go back in time)."""
    for args in (["hn", "--role", "supervisor", "--dept", "cardiology"],
                 ["n1", "--role", "agent", "--dept", "cardiology", "--reports-to", "hn"],
                 ["n2", "--role", "agent", "--dept", "cardiology", "--reports-to", "hn"]):
        hf.ok("staff", "add", args[0], "--name", args[0].upper(), *args[1:], now=T0)
    for p, d in (("P1", "D1"), ("P2", "D2")):
        hf.ok("subject", "add", p, "--name", f"患者{p}", "--phone", "13800000000", now=T0)
        hf.ok("trigger", "discharge", "--subject", p, "--id", d, *DISCHARGE, now=T0)
    hf.ok("attempt", "D1-1", "--channel", "phone", "--outcome", "reached", actor="n1", now=CALL)
    hf.ok("complete", "D1-1", "--answer", "recovery=8", "--answer", "satisfaction=满意", actor="n1", now=DONE)


def refusals(hf, who, now=LATER):
    return hf.ok("audit", "reads", "--actor", who, now=now)["refusals"]


def refused(hf, *args, actor, now=LATER, match=""):
    r = hf(*args, actor=actor, now=now)
    assert r.code == 2 and r.err.count("\n") == 1 and match in r.err, (args, r.code, r.out, r.err)


def test_g8_unregistered_actor_on_followup_work_is_refused_and_recorded(ward):
    """attempt/complete/close by `--as ghost` were refused without a record; reassign and qa record
    by ghost went through in setup mode."""
    cases = [(["attempt", "D2-1", "--channel", "phone", "--outcome", "busy"], "followup.attempt"),
             (["complete", "D2-1", "--answer", "recovery=8"], "followup.complete"),
             (["close", "D2-1", "--cancel", "duplicate"], "followup.close"),
             (["reassign", "D2-1", "--to", "n2", "--reason", "leave"], "followup.reassign"),
             (["qa", "record", "D1-1", "--result", "pass"], "qa.record"),
             (["unlock", "n1"], "staff.unlock")]
    for args, _ in cases:
        refused(ward, *args, actor="ghost", match="'ghost' is not registered")
    got = refusals(ward, "ghost")
    assert [g["action"] for g in got] == [action for _, action in cases]
    assert got[3]["target"] == "follow-up D2-1" and "not registered" in got[3]["reason"]
    assert ward.ok("show", "D2-1", now=LATER)["owner"] == "n1"  # nothing was reassigned
    assert ward.ok("audit", "verify", now=LATER)["ok"]


def test_g8_unregistered_actor_is_refused_and_recorded_once_roles_are_on(ward):
    """With access control on, `--as ghost` on a command that changes nothing (queue) ran as ghost."""
    ward.ok("staff", "add", "adm", "--name", "ADM", "--role", "admin", now=LATER)
    refused(ward, "queue", actor="ghost", match="--as: staff 'ghost' is not registered")
    refused(ward, "attempt", "D2-1", "--channel", "phone", "--outcome", "busy", actor="ghost", match="not registered")
    got = ward.ok("audit", "reads", "--actor", "ghost", actor="adm", now=LATER)["refusals"]
    assert [(g["action"], g["target"]) for g in got] == [("identity", "--as ghost")] * 2


def test_a4_close_by_a_locked_agent_is_refused_and_recorded(ward, tmp_path):
    """A4: a locked agent's `close` was refused without a record (attempt/complete were recorded)."""
    cfg = tmp_path / "huifang.toml"
    cfg.write_text("[huifang.lock_ladder]\nenabled = true\n", encoding="utf-8")
    assert ward.ok("tick", now=TICK, config=str(cfg))["locked"] == 1  # D2-1 overdue: n1 locked
    r = ward("close", "D2-1", "--cancel", "duplicate", actor="n1", now=AFTER, config=str(cfg))
    assert r.code == 2 and "A4: n1 is locked" in r.err
    got = refusals(ward, "n1", now=AFTER)
    assert [(g["action"], g["target"]) for g in got] == [("followup.close", "follow-up D2-1")]
    assert got[0]["reason"].startswith("A4: n1 is locked")
    assert ward.ok("show", "D2-1", now=AFTER)["status"] != "cancelled"


def test_a4_unlock_outside_the_unlock_ladder_is_refused_and_recorded(ward, tmp_path):
    """A4: someone the unlock ladder does not name (n2, n1's peer) was refused without a record."""
    cfg = tmp_path / "huifang.toml"
    cfg.write_text("[huifang.lock_ladder]\nenabled = true\n", encoding="utf-8")
    ward.ok("tick", now=TICK, config=str(cfg))
    r = ward("unlock", "n1", actor="n2", now=AFTER, config=str(cfg))
    assert r.code == 2 and "A4: n2 cannot unlock n1" in r.err
    got = refusals(ward, "n2", now=AFTER)
    assert [(g["action"], g["target"]) for g in got] == [("staff.unlock", "staff n1")]
    assert ward.ok("staff", "show", "n1", now=AFTER)["lock"] is not None
    assert ward.ok("unlock", "n1", actor="hn", now=AFTER, config=str(cfg))["lock"] is None  # the ladder may


def test_g17_qa_record_refusals_are_recorded(ward):
    """G17: the agent who did the work checking it, or any agent checking, was refused without a record."""
    refused(ward, "qa", "record", "D1-1", "--result", "pass", actor="n1", match="G17: n1 worked on D1-1")
    refused(ward, "qa", "record", "D1-1", "--result", "pass", actor="n2", match="G17: n2 is an agent")
    assert [g["action"] for g in refusals(ward, "n1")] == ["qa.record"]
    assert [g["reason"][:19] for g in refusals(ward, "n2")] == ["G17: n2 is an agent"]
    assert ward.ok("qa", "record", "D1-1", "--result", "pass", actor="hn", now=LATER)["checked_by"] == "hn"
