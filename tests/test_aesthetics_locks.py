"""A4 overdue lock (超时锁定) as the aesthetics plugin switches it on: levels by days overdue counted on
working days (按工作时间核算; the clinic works weekends, public holidays are off), who may unlock, the
approved rectification report of a hard lock, and the ladder switched on by configuration."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Huifang, StoreCache

TICK = "2026-07-20T09:00:00+08:00"


def ladder(hf: Huifang) -> None:
    hf.ok("staff", "add", "ae-boss", "--name", "院长", "--role", "manager")
    hf.ok("staff", "add", "ae-dir", "--name", "总监", "--role", "manager", "--reports-to", "ae-boss")
    hf.ok("staff", "add", "ae-head", "--name", "主管", "--role", "supervisor", "--reports-to", "ae-dir")
    for a in ("a1", "a2", "a3"):
        hf.ok("staff", "add", a, "--name", a, "--role", "agent", "--reports-to", "ae-head")


def not_visited(hf: Huifang, tid: str, day: str, owner: str, subject: str = "S1") -> str:
    """A1 follow-up prompted the next day with a 5-day window: due at the end of day + 5."""
    hf.ok("trigger", "consultation", "--subject", subject, "--id", tid, "--at", f"{day}T08:00:00+08:00",
          "--attr", f"consultant={owner}", "--attr", "came=false", "--attr", "purchased=false",
          "--attr", "channel=online", now=f"{day}T08:00:00+08:00")
    return f"{tid}-not_visited"


@pytest.fixture
def clinic(hf: Huifang, store_cache: StoreCache) -> Huifang:
    hf.now = "2026-07-01T09:00:00+08:00"
    return store_cache(hf, _clinic)


def _clinic(hf: Huifang) -> None:
    ladder(hf)
    hf.ok("subject", "add", "S1", "--name", "张三", "--phone", "13800000001")


def report(tmp_path: Path, *followups: str) -> str:
    p = tmp_path / "rectification.txt"
    p.write_text("整改报告 Rectification report\n" + "".join(f"- {f}: 原因, 整改措施\n" for f in followups),
                 encoding="utf-8")
    return str(p)


def test_a4_one_three_eight_days_overdue_lock_levels_and_who_unlocks(clinic: Huifang, tmp_path: Path) -> None:
    f1 = not_visited(clinic, "C1", "2026-07-13", "a1")  # due 07-18: 1 working day overdue on 07-20
    f2 = not_visited(clinic, "C2", "2026-07-11", "a2")  # due 07-16: 3 days
    f3 = not_visited(clinic, "C3", "2026-07-06", "a3")  # due 07-11: 8 days
    assert clinic.ok("show", f1, now=TICK)["due"] == "2026-07-18T23:59:59+08:00"
    t = clinic.ok("tick", now=TICK)
    assert t["locked"] == 3
    locks = {a: clinic.ok("staff", "show", a, now=TICK)["lock"] for a in ("a1", "a2", "a3")}
    assert locks == {"a1": {"level": 1, "followups": [f1], "days_overdue": 1},
                     "a2": {"level": 2, "followups": [f2], "days_overdue": 3},
                     "a3": {"level": 3, "followups": [f3], "days_overdue": 8}}

    # a locked agent can neither attempt nor complete; the error names who can unlock
    r = clinic("attempt", f1, "--channel", "phone", "--outcome", "reached", now=TICK, actor="a1")
    assert r.code == 2 and "A4: a1 is locked (level 1" in r.err and "ae-head" in r.err
    r = clinic("complete", f2, "--answer", "interest=booked", "--answer", "complaint_risk=no", now=TICK, actor="a2")
    assert r.code == 2 and "A4: a2 is locked (level 2" in r.err and "ae-dir" in r.err and "ae-head" not in r.err

    # level 1: one level up (or above); a peer is refused
    r = clinic("unlock", "a1", now=TICK, actor="a2")
    assert r.code == 2 and "a2 cannot unlock a1" in r.err
    assert clinic.ok("unlock", "a1", now=TICK, actor="ae-head")["lock"] is None

    # level 2: two levels up; the direct supervisor is refused
    r = clinic("unlock", "a2", now=TICK, actor="ae-head")
    assert r.code == 2 and "ae-head cannot unlock a2 (level 2)" in r.err and "two levels" in r.err
    assert clinic.ok("unlock", "a2", now=TICK, actor="ae-dir")["lock"] is None

    # level 3 (hard lock): two levels up AND an approved rectification report naming the follow-ups
    r = clinic("unlock", "a3", "--report", report(tmp_path, f3), now=TICK, actor="ae-head")
    assert r.code == 2 and "ae-head cannot unlock a3" in r.err and "rectification report" in r.err
    r = clinic("unlock", "a3", now=TICK, actor="ae-dir")
    assert r.code == 2 and "hard-locked (8 days overdue)" in r.err and "--report" in r.err
    r = clinic("unlock", "a3", "--report", report(tmp_path, "C9-not_visited"), now=TICK, actor="ae-dir")
    assert r.code == 2 and f"does not address {f3}" in r.err
    assert clinic.ok("staff", "show", "a3", now=TICK)["lock"]["level"] == 3  # nothing written
    done = clinic.ok("unlock", "a3", "--report", report(tmp_path, f3), now=TICK, actor="ae-dir")
    assert done["lock"] is None
    rep = done["rectification_reports"][0]
    assert (rep["approved_by"], rep["followups"], rep["level"], rep["file"]) == \
        ("ae-dir", [f3], 3, "rectification.txt") and len(rep["sha256"]) == 64
    events = [(e["event"], e["actor"]) for e in clinic.ok("history", "staff:a3", now=TICK)["events"]]
    assert events[-3:] == [("Locked", "system"), ("RectificationApproved", "ae-dir"), ("Unlocked", "ae-dir")]

    # unlocked agents work again; the same overdue follow-ups do not re-lock at the same level
    clinic.ok("attempt", f1, "--channel", "phone", "--outcome", "no_answer", now="2026-07-20T10:30:00+08:00",
              actor="a1")
    assert clinic.ok("tick", now="2026-07-20T11:00:00+08:00")["locked"] == 0


def test_a4_not_locked_before_a_full_working_day_overdue(clinic: Huifang) -> None:
    f = not_visited(clinic, "C1", "2026-07-13", "a1")  # due 07-18 23:59:59
    assert clinic.ok("tick", now="2026-07-19T23:00:00+08:00")["locked"] == 0
    assert clinic.ok("show", f, now="2026-07-19T23:00:00+08:00")["status"] == "overdue"
    assert clinic.ok("tick", now="2026-07-20T00:30:00+08:00")["locked"] == 1


def test_a4_lock_climbs_the_ladder_as_the_overdue_grows(clinic: Huifang) -> None:
    f = not_visited(clinic, "C1", "2026-07-06", "a1")  # due 07-11
    clinic.ok("tick", now="2026-07-13T09:00:00+08:00")  # 1 day
    clinic.ok("unlock", "a1", now="2026-07-13T09:10:00+08:00", actor="ae-head")
    assert clinic.ok("tick", now="2026-07-14T09:00:00+08:00")["locked"] == 0  # 2 days: level 1 cleared
    clinic.ok("tick", now="2026-07-15T09:00:00+08:00")  # 3 days: level 2
    lock = clinic.ok("staff", "show", "a1", now="2026-07-15T09:00:00+08:00")["lock"]
    assert lock == {"level": 2, "followups": [f], "days_overdue": 3}


def test_a4_lock_names_every_overdue_followup_so_one_unlock_clears_them(clinic: Huifang) -> None:
    f1 = not_visited(clinic, "C1", "2026-07-11", "a1")  # due 07-16
    f2 = not_visited(clinic, "C2", "2026-07-12", "a1")  # due 07-17
    clinic.ok("tick", now="2026-07-18T09:00:00+08:00")
    assert clinic.ok("staff", "show", "a1")["lock"]["followups"] == [f1]
    clinic.ok("tick", now="2026-07-19T09:00:00+08:00")  # f2 one day overdue too: the lock names both
    assert clinic.ok("staff", "show", "a1")["lock"] == {"level": 1, "followups": [f1, f2], "days_overdue": 2}
    clinic.ok("unlock", "a1", now="2026-07-19T09:05:00+08:00", actor="ae-head")
    assert clinic.ok("tick", now="2026-07-19T09:10:00+08:00")["locked"] == 0


def test_a4_overdue_days_count_working_days_not_national_day(clinic: Huifang) -> None:
    # surgery 09-29: dressing reminder due 09-30; on 10-09 only 10-08 was a working day since
    clinic.ok("trigger", "aesthetics.procedure", "--subject", "S1", "--id", "P1", "--at", "2026-09-29T15:00+08:00",
              "--attr", "department=surgery", "--attr", "assistant=a1", "--attr", "consultant=a2",
              "--attr", "stitches=false", now="2026-09-29T16:00:00+08:00")
    clinic.ok("tick", now="2026-10-09T09:00:00+08:00")
    lock = clinic.ok("staff", "show", "a1")["lock"]
    assert lock == {"level": 1, "followups": ["P1-care", "P1-dressing"], "days_overdue": 1}


def test_a4_calendar_day_counting_by_configuration(db: str, tmp_path: Path) -> None:
    cfg = tmp_path / "huifang.toml"
    cfg.write_text("[plugins.aesthetics]\nlock_working_days = false\n", encoding="utf-8")
    hf = Huifang(db, now="2026-09-29T09:00:00+08:00", config=str(cfg))
    hf.ok("init")
    ladder(hf)
    hf.ok("subject", "add", "S1", "--name", "张三")
    hf.ok("trigger", "aesthetics.procedure", "--subject", "S1", "--id", "P1", "--at", "2026-09-29T08:00+08:00",
          "--attr", "department=surgery", "--attr", "assistant=a1", "--attr", "consultant=a2")
    hf.ok("tick", now="2026-10-09T09:00:00+08:00")
    assert hf.ok("staff", "show", "a1")["lock"]["level"] == 3  # 8 calendar days


def test_a4_ladder_switched_off_and_on_by_configuration(db: str, tmp_path: Path) -> None:
    off = tmp_path / "off.toml"
    off.write_text("[plugins.aesthetics]\nlock_ladder = false\n", encoding="utf-8")
    hf = Huifang(db, now="2026-07-01T09:00:00+08:00", config=str(off))
    hf.ok("init")
    ladder(hf)
    hf.ok("subject", "add", "S1", "--name", "张三")
    not_visited(hf, "C1", "2026-07-06", "a1")
    assert hf.ok("tick", now=TICK)["locked"] == 0
    # the engine capability: an organisation switches the ladder on for every plugin in [huifang]
    on = tmp_path / "on.toml"
    on.write_text("[huifang.lock_ladder]\nenabled = true\nlevel2_days = 2\nhard_days = 5\n"
                  "[plugins.aesthetics]\nlock_ladder = false\n", encoding="utf-8")
    assert hf.ok("tick", now="2026-07-20T09:30:00+08:00", config=str(on))["locked"] == 1
    assert hf.ok("staff", "show", "a1", config=str(on))["lock"]["level"] == 3  # 8 days >= hard_days 5


def test_a4_short_ladder_top_may_unlock(clinic: Huifang) -> None:
    clinic.ok("staff", "add", "solo", "--name", "solo", "--role", "agent", "--reports-to", "ae-boss")
    not_visited(clinic, "C1", "2026-07-11", "solo")  # due 07-16: level 2 on 07-20
    clinic.ok("tick", now=TICK)
    show = clinic.ok("staff", "show", "solo", now=TICK)
    assert show["lock"]["level"] == 2 and "ae-boss" in show["unlock"]
    assert clinic.ok("unlock", "solo", now=TICK, actor="ae-boss")["lock"] is None


def test_a4_locked_agent_cannot_close_as_lost(clinic: Huifang) -> None:
    f = not_visited(clinic, "C1", "2026-07-06", "a1")
    clinic.ok("tick", now=TICK)
    r = clinic("close", f, "--lost", "no_answer", now=TICK, actor="a1")
    assert r.code == 2 and "A4: a1 is locked" in r.err
