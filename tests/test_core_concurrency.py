"""Two real processes complete the same follow-up at once: one wins, the other gets a clear
one-line conflict, no event is lost (SQLite and PostgreSQL)."""
from __future__ import annotations

import multiprocessing as mp

import pytest

from huifang.core import clock
from huifang.core.config import Config
from huifang.core.domain import FollowUp
from huifang.core.errors import HuifangError
from huifang.projections import open_app

pytestmark = pytest.mark.slow  # two real processes race on one follow-up

NOW = "2026-10-12T14:30+08:00"


def _complete(db: str, actor: str, barrier, results) -> None:
    app = open_app(db, Config())
    original = app.commit

    def commit_after_barrier(*aggregates):
        barrier.wait(timeout=30)  # both processes have read version N and checked the rules
        return original(*aggregates)

    app.commit = commit_after_barrier
    try:
        with clock.at(clock.parse_instant(NOW)):
            app.complete("D1-1", {"recovery": 7, "satisfaction": "满意"}, actor=actor)
        results.put((actor, "ok"))
    except HuifangError as e:
        results.put((actor, str(e)))
    finally:
        app.close()


def test_two_processes_complete_the_same_followup(db):
    app = open_app(db, Config())
    with clock.at(clock.parse_instant("2026-10-01T09:00+08:00")):
        app.add_staff("n1", "N1", "agent")
        app.add_staff("n2", "N2", "agent")
        app.add_subject("P1", "张三")
        app.receive_trigger("medical.discharge", "P1", {"department": "c", "diagnosis": "x",
                                                        "responsible_nurse": "n1", "attending_doctor": "d"},
                            trigger_id="D1")
    with clock.at(clock.parse_instant("2026-10-12T14:00+08:00")):
        app.record_attempt("D1-1", "phone", "reached", actor="n1")
    before = app.recorder.max_notification_id()
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_complete, args=(db, who, barrier, results)) for who in ("n1", "n2")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    outcomes = dict(results.get(timeout=5) for _ in procs)
    assert sorted(v == "ok" for v in outcomes.values()) == [False, True]
    loser = next(v for v in outcomes.values() if v != "ok")
    assert "changed by another command at the same time" in loser and "\n" not in loser
    fu = app.repository.get(FollowUp.create_id("D1-1"))
    completions = [e for e in app.events.get(fu.id) if type(e).__name__ == "Completed"]
    assert len(completions) == 1 and fu.status == "completed"
    assert app.recorder.max_notification_id() == before + 1  # exactly the winner's event
    app.close()
