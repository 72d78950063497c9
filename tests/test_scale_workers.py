"""Scale-out: two projection catch-up workers and two `tick` workers run at the
same time on one store (the multi-host shape: a shared PostgreSQL server, workers anywhere; SQLite
too). No reminder, window opening, overdue mark or lock is applied twice, and the views equal their
rebuild from the log."""
from __future__ import annotations

import multiprocessing as mp
from collections import Counter, defaultdict
from itertools import pairwise

import pytest

from tests.scale_support import (
    NOW,
    assert_views_equal_rebuild,
    close_apps,
    open_app,
    originators,
    write_discharges,
    write_subjects,
)

pytestmark = pytest.mark.slow  # scale: real catch-up and tick worker processes

N = 300


def _config():
    from huifang.core.config import Config

    return Config.model_validate({"huifang": {"lock_ladder": {"enabled": True}}})


def _worker(db: str, job: str, now: str, barrier, results) -> None:
    from huifang.core import clock
    from huifang.core.timers import tick
    from huifang.projections import open_app

    app = None
    try:
        app = open_app(db, _config())
        barrier.wait(timeout=240)
        with clock.at(clock.parse_instant(now)):
            if job == "catch_up":
                results.put((job, app.projector.catch_up()))
            else:
                r = tick(app)
                results.put((job, {k: v for k, v in r.items() if k not in ("reminders", "now")}))
    except Exception as e:  # reported to the test, which fails on it
        results.put((job, f"{type(e).__name__}: {e}"))
    finally:
        if app is not None:
            app.close()


def _pair(db: str, job: str, now: str = NOW) -> list:
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(db, job, now, barrier, results)) for _ in range(2)]
    for p in procs:
        p.start()
    out = [results.get(timeout=480)[1] for _ in procs]
    for p in procs:
        p.join(30)
    assert all(not isinstance(o, str) for o in out), out
    return out


def _lock_states(db: str) -> dict:
    app = open_app(db)
    states = defaultdict(list)
    for n in app.recorder.select_notifications(start=1, limit=100000, topics=["huifang:Staff.Locked"]):
        e = app.mapper.to_domain_event(n)
        states[n.originator_id].append((e.level, tuple(e.followups)))
    return states


def test_two_catch_up_and_two_tick_workers_at_once(hf, tmp_path):
    hf.now = NOW
    hf.ok("staff", "add", "boss", "--name", "护士长", "--role", "supervisor")
    hf.ok("staff", "add", "n1", "--name", "护士一", "--role", "agent", "--reports-to", "boss")
    hf.ok("subject", "import", str(write_subjects(tmp_path / "s.csv", N)))
    hf.ok("trigger", "import", str(write_discharges(tmp_path / "d.csv", N)), "--kind", "medical.discharge")

    # two projection workers race from position 0: each batch is applied by exactly one of them
    reads = _pair(hf.db, "catch_up")
    assert sum(reads) >= open_app(hf.db).recorder.max_notification_id() - 1
    assert_views_equal_rebuild(hf.db)

    # two tick workers at the same instant, then again days later (overdue, escalation, A4 locks)
    first = _pair(hf.db, "tick", NOW)
    assert sum(r["opened"] for r in first) == N
    later = _pair(hf.db, "tick", "2026-11-02T10:00:00+08:00")
    assert sum(r["overdue"] for r in first + later) == N
    opened = Counter(originators(hf.db, "huifang:FollowUp.WindowOpened"))
    overdue = Counter(originators(hf.db, "huifang:FollowUp.MarkedOverdue"))
    reminded = Counter(originators(hf.db, "huifang:FollowUp.ReminderSent"))
    assert set(opened.values()) == {1} and len(opened) == N
    assert set(overdue.values()) == {1} and len(overdue) == N
    assert set(reminded.values()) <= {1}  # G3: never a second reminder
    locks = _lock_states(hf.db)
    assert len(locks) == 1  # n1 owns every overdue follow-up
    for seq in locks.values():
        assert all(a != b for a, b in pairwise(seq))  # no lock applied twice
    assert_views_equal_rebuild(hf.db)


__all__ = ["close_apps"]
