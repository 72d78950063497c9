"""Time is not whatever the caller says (G5/G15 deadlines, G8 audit).

The attack: after `tick` marked a follow-up overdue on 10 Oct, an agent recorded an attempt and a
completion with `--now` dated 8 Oct; `report rates` counted the follow-up as completed on time and
`audit verify` said the log was intact. Now a store's clock mode is chosen at `init` and recorded;
on both modes no record goes back before its own last record nor (system clock) before the store's
latest record less the tolerance; on the system clock `--now` is refused except in an admin-granted
backfill, which is recorded and flagged in the reports that count it.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from huifang.core import clock
from tests.audit_kit import DISCHARGE
from tests.conftest import Huifang, Result, StoreCache

T0 = "2026-09-28T09:00+08:00"  # staff, subject, discharge (D1-1: window 8 Oct, deadline 9 Oct)
ON_TIME = "2026-10-08T10:20+08:00"  # inside the window, before the deadline
DONE = "2026-10-08T10:25+08:00"
TICK = "2026-10-10T09:00+08:00"  # past the deadline: tick marks D1-1 overdue
LATER = "2026-10-10T09:30+08:00"
OCTOBER = ["--from", "2026-10-01", "--to", "2026-10-31"]


def at(text: str) -> datetime:
    return clock.parse_instant(text)


def head(db: str) -> int:
    from huifang.projections import open_app

    app = open_app(db)
    try:
        return app.recorder.max_notification_id() or 0
    finally:
        app.close()


def refused(r: Result, *needles: str) -> None:
    assert r.code == 2 and r.err.count("\n") == 1, (r.code, r.out, r.err)
    for n in needles:
        assert n in r.err, (n, r.err)


def rates(h: Any, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = h.ok("report", "rates", *OCTOBER, **kw)["rows"][0]
    return row


# -- logical clock (the `hf` fixture: init --clock logical) -------------------------------------------
@pytest.fixture
def ward(hf: Huifang, store_cache: StoreCache) -> Huifang:
    return store_cache(hf, _ward)


def _ward(hf: Huifang) -> None:
    hf.ok("staff", "add", "hn", "--name", "护士长", "--role", "supervisor", "--dept", "cardiology", now=T0)
    hf.ok("staff", "add", "n1", "--name", "王护士", "--role", "agent", "--dept", "cardiology", "--reports-to", "hn",
          now=T0)
    hf.ok("subject", "add", "P1", "--name", "张三", "--phone", "13800000001", now=T0)
    hf.ok("trigger", "discharge", "--subject", "P1", "--id", "D1", *DISCHARGE, now=T0)
    assert hf.ok("tick", now=TICK)["overdue"] == 1


def test_g15_backdated_attempt_after_overdue_is_refused_on_the_logical_clock(ward: Huifang) -> None:
    """The issue's reproduction: an attempt dated 8 Oct after tick marked D1-1 overdue on 10 Oct."""
    before = head(ward.db)
    r = ward("attempt", "D1-1", "--channel", "phone", "--outcome", "reached", actor="n1", now=ON_TIME)
    refused(r, "--now 2026-10-08T10:20:00+08:00", "FollowUp D1-1", "2026-10-10T09:00:00+08:00")
    assert head(ward.db) == before  # nothing written
    assert ward.ok("show", "D1-1", now=LATER)["status"] == "overdue"


def test_g15_backdated_completion_is_refused_and_counts_late(ward: Huifang) -> None:
    """A real attempt at 09:30 on 10 Oct, then a completion dated 8 Oct to count it on time."""
    ward.ok("attempt", "D1-1", "--channel", "phone", "--outcome", "reached", actor="n1", now=LATER)
    before = head(ward.db)
    r = ward("complete", "D1-1", "--answer", "recovery=8", "--answer", "satisfaction=满意", actor="n1", now=DONE)
    refused(r, "--now 2026-10-08T10:25:00+08:00", "FollowUp D1-1", "2026-10-10T09:30:00+08:00")
    assert head(ward.db) == before
    ward.ok("complete", "D1-1", "--answer", "recovery=8", "--answer", "satisfaction=满意", actor="n1", now=LATER)
    row = rates(ward, now=LATER)
    assert (row["completed"], row["on_time"]) == (1, 0) and "backfilled" not in row
    assert ward.ok("audit", "verify", now=LATER)["ok"]


def test_g8_backfill_is_refused_on_the_logical_clock(ward: Huifang) -> None:
    """`--backfill` is for system-clock stores: on a logical one it would only be a way round the order."""
    r = ward("--backfill", "paper form", "attempt", "D1-1", "--channel", "phone", "--outcome", "reached",
             actor="n1", now=ON_TIME)
    refused(r, "--backfill:", "logical clock")


def test_g15_the_clock_mode_is_recorded_once(ward: Huifang) -> None:
    """Re-running init keeps the recorded mode; another mode is refused, and the mode is an event."""
    assert ward.ok("init", now=LATER)["clock"] == "logical"
    refused(ward("init", "--clock", "system", now=LATER), "--clock:", "never changes")
    shown = ward.ok("clock", "show", now=LATER)
    assert (shown["mode"], shown["recorded"], shown["tolerance_minutes"]) == ("logical", True, None)
    assert ward.ok("audit", "verify", now=LATER)["ok"]


# -- system clock ------------------------------------------------------------------------------------------
class Wall:
    """The host's clock as the CLI edge reads it (clock.wall_clock), set by the test."""

    def __init__(self, text: str) -> None:
        self.instant = at(text)

    def set(self, text: str) -> None:
        self.instant = at(text)

    def __call__(self) -> datetime:
        return self.instant


class SystemCli(Huifang):
    """The CLI without --now: commands run at the (test's) host clock, unless a test passes now=."""

    def __init__(self, db: str, config: str | None = None) -> None:
        super().__init__(db, now=None, config=config)


@pytest.fixture
def wall(monkeypatch: pytest.MonkeyPatch) -> Iterator[Wall]:
    w = Wall(T0)
    monkeypatch.setattr(clock, "wall_clock", w)
    monkeypatch.delenv("HUIFANG_NOW", raising=False)
    monkeypatch.delenv("HUIFANG_CLOCK", raising=False)  # init's own default
    yield w


@pytest.fixture
def clinic(db: str, wall: Wall, store_cache: StoreCache) -> SystemCli:
    """A production store (init without --clock: the system clock), enforced mode (admin a1), D1-1
    owned by n1 and marked overdue by tick on 10 Oct."""

    def build(h: Huifang) -> None:
        _clinic(h, wall)

    h = SystemCli(db)
    store_cache(h, build, init=False)
    wall.set(LATER)
    return h


def _clinic(h: Huifang, wall: Wall) -> None:
    assert h.ok("init")["clock"] == "system"
    for args in (["hn", "--role", "supervisor", "--dept", "cardiology"],
                 ["n1", "--role", "agent", "--dept", "cardiology", "--reports-to", "hn"]):
        h.ok("staff", "add", args[0], "--name", args[0].upper(), *args[1:])
    h.ok("subject", "add", "P1", "--name", "张三", "--phone", "13800000001")
    h.ok("trigger", "discharge", "--subject", "P1", "--id", "D1", *DISCHARGE)
    h.ok("staff", "add", "a1", "--name", "管理员", "--role", "admin")  # access control on from here
    wall.set(TICK)
    assert h.ok("tick")["overdue"] == 1


def test_g15_system_clock_refuses_now(clinic: SystemCli) -> None:
    """--now (or HUIFANG_NOW) on a production store: the caller no longer chooses the time."""
    before = head(clinic.db)
    r = clinic("attempt", "D1-1", "--channel", "phone", "--outcome", "reached", actor="n1", now=ON_TIME)
    refused(r, "--now:", "system clock")
    r = clinic("staff", "add", "n2", "--name", "N2", "--role", "agent", actor="a1", now=LATER)  # even now
    refused(r, "--now:", "system clock")
    assert head(clinic.db) == before
    assert clinic.ok("clock", "show")["mode"] == "system"


def test_g15_system_clock_set_back_is_refused(clinic: SystemCli, wall: Wall) -> None:
    """The host's clock set back to 8 Oct: the follow-up's own order refuses the attempt, the store's
    high-water time (less 5 minutes) refuses a record of any other aggregate."""
    before = head(clinic.db)
    wall.set(ON_TIME)
    r = clinic("attempt", "D1-1", "--channel", "phone", "--outcome", "reached", actor="n1")
    refused(r, "the system clock 2026-10-08T10:20:00+08:00", "FollowUp D1-1", "check the host's clock")
    r = clinic("staff", "add", "n2", "--name", "N2", "--role", "agent", actor="a1")
    refused(r, "the store's latest record (2026-10-10T09:00:00+08:00) less the 5-minute tolerance")
    assert head(clinic.db) == before
    wall.set("2026-10-10T08:57+08:00")  # within the tolerance: another host's clock a little behind
    clinic.ok("staff", "add", "n2", "--name", "N2", "--role", "agent", actor="a1")


def test_g8_admin_backfill_is_recorded_and_flagged_in_rates(clinic: SystemCli, wall: Wall) -> None:
    """A late entry (the paper form of 8 Oct) goes in only under an admin's grant, with a reason; it is
    recorded with when it was really entered, and `report rates` says which figures rest on it."""
    attempt = ["attempt", "D1-1", "--channel", "phone", "--outcome", "reached"]
    complete = ["complete", "D1-1", "--answer", "recovery=8", "--answer", "satisfaction=满意"]
    before = head(clinic.db)
    refused(clinic("--backfill", "paper form 12", *attempt, actor="n1", now=ON_TIME), "--backfill:",
            "no open backfill grant")
    assert head(clinic.db) == before
    refused(clinic("clock", "backfill-grant", "n1", "--reason", "mine", actor="n1"), "only an admin")
    grant = clinic.ok("clock", "backfill-grant", "n1", "--reason", "network outage on 8 Oct: paper forms",
                      "--hours", "4", actor="a1")
    assert (grant["to"], grant["by"], grant["until"]) == ("n1", "a1", "2026-10-10T13:30:00+08:00")
    refused(clinic("--backfill", " ", *attempt, actor="n1", now=ON_TIME), "--backfill:", "reason is required")
    refused(clinic("--backfill", "paper form 12", *attempt, actor="n1"), "--backfill:", "--now")
    refused(clinic("--backfill", "paper form 12", *attempt, actor="n1", now="2026-10-11T09:00+08:00"),
            "--now:", "in the future")
    refused(clinic("--backfill", "paper form 12", *attempt, actor="n1", now="2026-09-01T09:00+08:00"),
            "before the record it changes began")

    clinic.ok("--backfill", "paper form 12", *attempt, actor="n1", now=ON_TIME)
    clinic.ok("--backfill", "paper form 12", *complete, actor="n1", now=DONE)
    fu = clinic.ok("show", "D1-1", actor="n1")
    assert fu["status"] == "completed" and fu["attempts"][0]["at"].startswith("2026-10-08T10:20")

    row = rates(clinic, actor="a1")
    assert (row["completed"], row["on_time"], row["backfilled"]) == (1, 1, 1)
    text = clinic.ok("report", "rates", *OCTOBER, actor="a1", json_out=False)
    assert "backfilled" in text and "D1-1 (AttemptRecorded dated 2026-10-08T10:20:00+08:00" in text
    assert "paper form 12" in text

    shown = clinic.ok("clock", "show", actor="a1")
    assert [(e["claimed"], e["at"], e["by"], e["grant"], e["reason"]) for e in shown["backfills"]] == [
        ("2026-10-08T10:20:00+08:00", "2026-10-10T09:30:00+08:00", "n1", 1, "paper form 12"),
        ("2026-10-08T10:25:00+08:00", "2026-10-10T09:30:00+08:00", "n1", 1, "paper form 12")]
    assert [r["code"] for e in shown["backfills"] for r in e["records"] if r["kind"] == "FollowUp"] == ["D1-1"] * 2
    assert clinic.ok("audit", "verify", actor="a1")["ok"]

    wall.set("2026-10-10T13:31+08:00")  # the grant has run out
    refused(clinic("--backfill", "paper form 13", *attempt, actor="n1", now=ON_TIME), "no open backfill grant")


def test_g10_backfill_reason_is_encrypted_and_erased(clinic: SystemCli) -> None:
    """A backfill entry's reason is free text about the subject's records: sealed under the subject's key
    (never in the store's bytes), revealed by `clock show` and the reports, erased with the subject. The
    admin's grant reason names no subject and stays plain."""
    from tests.attacks.privacy_kit import leaks

    reason = "张三的纸质表"
    clinic.ok("clock", "backfill-grant", "n1", "--reason", "network outage on 8 Oct", actor="a1")
    clinic.ok("--backfill", reason, "attempt", "D1-1", "--channel", "phone", "--outcome", "reached",
              actor="n1", now=ON_TIME)
    clinic.ok("--backfill", reason, "complete", "D1-1", "--answer", "recovery=8", "--answer", "satisfaction=满意",
              actor="n1", now=DONE)  # closed: the subject may be erased
    assert leaks(clinic.db, reason) == []
    assert leaks(clinic.db, "network outage on 8 Oct") == ["network outage on 8 Oct"]
    assert [e["reason"] for e in clinic.ok("clock", "show", actor="a1")["backfills"]] == [reason] * 2
    assert reason in clinic.ok("report", "rates", *OCTOBER, actor="a1", json_out=False)

    clinic.ok("subject", "erase", "P1", "--reason", "request", "--legal-order", "order 1", actor="a1")
    assert [e["reason"] for e in clinic.ok("clock", "show", actor="a1")["backfills"]] == ["[erased]"] * 2
    assert clinic.ok("clock", "show", actor="a1")["grants"][0]["reason"] == "network outage on 8 Oct"


def test_g8_backfill_is_flagged_in_every_report(clinic: SystemCli) -> None:
    """G8/G15: not only rates — every report counting the period (engine's, plugin's, and each section of
    the monthly report) names the backfilled follow-up in its notes."""
    clinic.ok("clock", "backfill-grant", "n1", "--reason", "network outage on 8 Oct: paper forms", actor="a1")
    clinic.ok("--backfill", "paper form 12", "attempt", "D1-1", "--channel", "phone", "--outcome", "reached",
              actor="n1", now=ON_TIME)
    clinic.ok("--backfill", "paper form 12", "complete", "D1-1", "--answer", "recovery=8",
              "--answer", "satisfaction=满意", actor="n1", now=DONE)
    flag = "D1-1 (AttemptRecorded dated 2026-10-08T10:20:00+08:00"

    def flagged(text: str) -> bool:  # notes are in the table output (the JSON holds rows only)
        return any(line.startswith(("note: backfilled — ", "注: backfilled — ")) and flag in line and "paper form 12" in line
                   for line in text.splitlines())

    for kind in ("lost", "tickets", "pareto", "opinions", "unresolved", "qa", "medical.nurses"):
        assert flagged(clinic.ok("report", kind, *OCTOBER, actor="a1", json_out=False)), kind
    monthly = clinic.ok("report", "monthly", "--from", "2026-10-01", "--to", "2026-10-31", actor="a1",
                        json_out=False)
    sections = monthly.split("\n## ")[1:]
    assert len(sections) > 11
    for s in sections:
        if s.startswith(("回访概况", "分行业", "趋势", "坐席考核", "满意度")):
            continue  # rates and satisfaction flag row by row, with their own note when a row counts one
        assert flagged(s), s.splitlines()[0]
    rates_text = clinic.ok("report", "rates", *OCTOBER, actor="a1", json_out=False)
    assert rates_text.count("注: backfilled — ") == 1  # not flagged twice


def test_g15_init_defaults_to_the_system_clock_and_refuses_now(db: str, wall: Wall) -> None:
    """A production store is set up on the host's clock unless logical is asked for; --now with it is
    refused (nothing to backdate from the first record on)."""
    h = SystemCli(db)
    refused(h("init", now=T0), "--now:", "system clock")
    assert h.ok("init")["clock"] == "system"
    data = json.loads(h("clock", "show").out)
    assert (data["mode"], data["tolerance_minutes"]) == ("system", 5)


def test_g15_an_older_store_chooses_its_clock_explicitly(db: str, wall: Wall) -> None:
    """A store written before clock modes existed ran on --now: re-running init does not quietly pick
    a mode for it; `init --clock system` records one, and from then on --now is refused."""
    from huifang.projections import open_app

    app = open_app(db)
    try:
        with clock.at(at(T0)):
            app.add_staff("n1", "王护士", "agent")
    finally:
        app.close()
    h = SystemCli(db)
    assert h.ok("staff", "show", "n1", now=TICK)["id"] == "n1"  # no mode recorded: logical
    refused(h("init"), "--clock:", "no clock mode yet")
    assert h.ok("init", "--clock", "system")["clock"] == "system"
    refused(h("staff", "show", "n1", now=TICK), "--now:", "system clock")


def test_g15_the_tolerance_is_fixed_at_init_and_a_config_only_narrows_it(clinic: SystemCli, wall: Wall,
                                                                          tmp_path: Any) -> None:
    """An operator's own --config cannot widen the store-wide bound to let an old time through."""
    wide, narrow = tmp_path / "wide.toml", tmp_path / "narrow.toml"
    wide.write_text("[huifang]\nclock_tolerance_minutes = 600\n", encoding="utf-8")
    narrow.write_text("[huifang]\nclock_tolerance_minutes = 1\n", encoding="utf-8")
    wall.set("2026-10-10T08:30+08:00")  # 30 minutes behind the latest record (tick, 09:00)
    refused(clinic("staff", "add", "n2", "--name", "N2", "--role", "agent", actor="a1", config=str(wide)),
            "less the 5-minute tolerance")
    wall.set("2026-10-10T08:57+08:00")
    refused(clinic("staff", "add", "n2", "--name", "N2", "--role", "agent", actor="a1", config=str(narrow)),
            "less the 1-minute tolerance")
    clinic.ok("staff", "add", "n2", "--name", "N2", "--role", "agent", actor="a1")


def test_g15_a_logical_store_may_bound_the_whole_store_at_init(db: str, tmp_path: Any) -> None:
    """Logical stores keep each record's order only, unless init was given a tolerance."""
    cfg = tmp_path / "h.toml"
    cfg.write_text("[huifang]\nclock_tolerance_minutes = 0\n", encoding="utf-8")
    h = Huifang(db, config=str(cfg))
    assert h.ok("init", "--clock", "logical", now=T0)["clock"] == "logical"
    h.ok("staff", "add", "n1", "--name", "N1", "--role", "agent", now=TICK)
    r = Huifang(db)("staff", "add", "n2", "--name", "N2", "--role", "agent", now=ON_TIME)  # without the config
    refused(r, "--now 2026-10-08T10:20:00+08:00 is earlier than the store's latest record "
               "(2026-10-10T09:00:00+08:00) less the 0-minute tolerance")


def test_g15_a_bulk_import_is_held_to_the_stores_tolerance_as_one_command(db: str, tmp_path: Any) -> None:
    """A file imported at a --now earlier than the store's latest record (less the tolerance) writes nothing;
    the same file at a later time writes every row (the import's batches checked by their earliest time)."""
    cfg = tmp_path / "h.toml"
    cfg.write_text("[huifang]\nclock_tolerance_minutes = 0\n", encoding="utf-8")
    h = Huifang(db, config=str(cfg))
    h.ok("init", "--clock", "logical", now=T0)
    h.ok("staff", "add", "n1", "--name", "N1", "--role", "agent", now=T0)
    for p in ("P1", "P2", "P3"):
        h.ok("subject", "add", p, "--name", "王伟", now=T0)
    h.ok("staff", "add", "n2", "--name", "N2", "--role", "agent", now=TICK)
    f = tmp_path / "discharges.csv"
    f.write_text("id,subject,at,department,diagnosis,responsible_nurse,attending_doctor\n"
                 + "".join(f"D{i},P{i},2026-09-27 09:00,心内科,高血压,n1,王医生\n" for i in (1, 2, 3)), encoding="utf-8")
    before = head(db)
    r = h("trigger", "import", str(f), "--kind", "medical.discharge", now=ON_TIME)
    refused(r, "earlier than the store's latest record (2026-10-10T09:00:00+08:00) less the 0-minute tolerance")
    assert head(db) == before
    assert h.ok("trigger", "import", str(f), "--kind", "medical.discharge", now=TICK)["imported"] == 3
    assert head(db) == before + 6
