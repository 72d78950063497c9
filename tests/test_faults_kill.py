"""kill -9: during a bulk import, a tick, a projection catch-up and in the middle
of a multi-aggregate command's save. After the restart the log has no duplicates and no gaps,
views equal their rebuild from the log, and the interrupted work completes on re-run.
Real processes, a real SQLite file and real PostgreSQL."""
from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter

import pytest

from tests.scale_support import (
    NOW,
    Probe,
    assert_views_equal_rebuild,
    cli_args,
    cli_env,
    close_apps,
    head,
    huifang_cmd,
    import_position,
    originators,
    run_cli,
    topic_counts,
    view_rows,
    write_discharges,
    write_subjects,
)

pytestmark = pytest.mark.slow  # kill -9 fault tests with real processes (50-125 s each)

N = 600
T = "huifang:Trigger.Received"


def _store(hf, tmp_path, n: int = N):
    hf.now = NOW
    hf.ok("staff", "add", "n1", "--name", "护士一", "--role", "agent")
    hf.ok("subject", "import", str(write_subjects(tmp_path / "s.csv", n)))
    return write_discharges(tmp_path / "d.csv", n)


def _kill_when(proc: subprocess.Popen, ready, timeout: float = 90) -> bool:
    """SIGKILL the process as soon as `ready()`; False if it finished first."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            return False
        if ready():
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            return True
        time.sleep(0.02)
    proc.kill()
    raise AssertionError("timed out waiting for the process")


def _audit_ok(db: str) -> None:
    """`huifang audit verify` when the audit feature is there (issue: audit trail)."""
    r = run_cli(db, "audit", "verify", "--json")
    if "No such command" in r.stderr or "no such command" in r.stderr.lower():
        return
    assert r.returncode == 0, r.stderr


def _assert_consistent(db: str) -> None:
    assert_views_equal_rebuild(db)
    _audit_ok(db)


def test_kill9_during_import_resumes_without_duplicates_or_gaps(hf, tmp_path):
    f = _store(hf, tmp_path)
    p = subprocess.Popen(huifang_cmd(hf.db, "trigger", "import", str(f), "--kind", "medical.discharge", "--batch", "10"),
                         env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    probe = Probe(hf.db)
    try:
        assert _kill_when(p, lambda: 100 <= probe.import_done() < N - 100), \
            "the import finished before it could be killed: " + p.stderr.read().decode()[-300:]
    finally:
        probe.close()
    part = topic_counts(hf.db)[T]
    assert 100 <= part < N
    r = run_cli(hf.db, "trigger", "import", str(f), "--kind", "medical.discharge", "--batch", "10", "--json")
    assert r.returncode == 0, r.stderr
    ids = originators(hf.db, T)
    assert len(ids) == N and len(set(ids)) == N  # no gaps, no duplicates
    counts = topic_counts(hf.db)
    assert counts["huifang:FollowUp.Planned"] == N
    _assert_consistent(hf.db)


def test_kill9_after_a_batch_is_saved_but_before_its_position(hf, tmp_path):
    """The narrowest window: batch 3's save landed, its position did not. The resume must find
    those rows stored (checked batch) instead of failing or duplicating them."""
    f = _store(hf, tmp_path, 400)
    script = textwrap.dedent(f"""
        import os, signal, sys
        from huifang.core import importer
        orig = importer.Importer._save_position
        calls = []
        def save(self, done, imported, status="running"):
            calls.append(done)
            if len(calls) == 3:
                os.kill(os.getpid(), signal.SIGKILL)
            return orig(self, done, imported, status)
        importer.Importer._save_position = save
        from huifang.cli.main import main
        main({cli_args(hf.db, "trigger", "import", str(f), "--kind", "medical.discharge", "--batch", "50")!r})
    """)
    r = subprocess.run([sys.executable, "-c", script], env=cli_env(), capture_output=True, text=True, timeout=120)
    assert r.returncode == -signal.SIGKILL
    assert topic_counts(hf.db)[T] == 150 and import_position(hf.db)[0] == 101  # row 101 = data row 100
    r = run_cli(hf.db, "trigger", "import", str(f), "--kind", "medical.discharge", "--batch", "50", "--json")
    assert r.returncode == 0, r.stderr
    ids = originators(hf.db, T)
    assert len(ids) == 400 and len(set(ids)) == 400
    _assert_consistent(hf.db)


def test_kill9_during_tick_and_rerun_opens_each_window_once(hf, tmp_path):
    f = _store(hf, tmp_path, 400)
    hf.ok("trigger", "import", str(f), "--kind", "medical.discharge")
    view_rows(hf.db, "followups")  # views caught up: the tick's own work is what gets killed
    before = head(hf.db)
    probe = Probe(hf.db)
    p = subprocess.Popen(huifang_cmd(hf.db, "tick"), env=cli_env(), stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        assert _kill_when(p, lambda: probe.head() >= before + 200), "tick finished before it could be killed"
    finally:
        probe.close()
    assert run_cli(hf.db, "tick", "--json").returncode == 0
    counts = topic_counts(hf.db)
    opened = Counter(originators(hf.db, "huifang:FollowUp.WindowOpened"))
    assert len(opened) == 400 and set(opened.values()) == {1}  # every window opened exactly once
    reminded = Counter(originators(hf.db, "huifang:FollowUp.ReminderSent"))
    assert all(v == 1 for v in reminded.values())
    assert counts["huifang:FollowUp.MarkedOverdue"] == len(set(originators(hf.db, "huifang:FollowUp.MarkedOverdue")))
    again = run_cli(hf.db, "tick", "--json")
    assert '"opened": 0' in again.stdout and '"reminded": 0' in again.stdout
    _assert_consistent(hf.db)


def test_kill9_during_projection_catch_up(hf, tmp_path):
    # a rebuild's first batch is 1000 rows the views read, after the store's leading subject registrations
    # (read past in SQLite): enough triggers that a second batch still has work left to be killed in
    f = _store(hf, tmp_path, 1500)
    hf.ok("trigger", "import", str(f), "--kind", "medical.discharge")
    last = head(hf.db)
    probe = Probe(hf.db)
    p = subprocess.Popen(huifang_cmd(hf.db, "projections", "rebuild"), env=cli_env(),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert _kill_when(p, lambda: 0 < probe.view_position() < last - 300), \
            "rebuild finished before it could be killed"
        assert 0 < probe.view_position() < last
    finally:
        probe.close()
    _assert_consistent(hf.db)  # catch-up resumes from the committed position: equal to a rebuild


@pytest.mark.parametrize("command", ["trigger", "resolve"])
def test_kill9_inside_a_multi_aggregate_save_leaves_no_trace(hf, tmp_path, command):
    """SIGKILL after the first aggregate's events are inserted and before the transaction commits:
    the store shows nothing of the command, and re-running it writes all of it."""
    hf.now = NOW
    hf.ok("staff", "add", "n1", "--name", "护士一", "--role", "agent")
    hf.ok("subject", "add", "P1", "--name", "张三")
    attrs = ["--attr", "department=心内科", "--attr", "diagnosis=高血压", "--attr", "responsible_nurse=n1",
             "--attr", "attending_doctor=王医生"]
    if command == "trigger":
        argv = ["trigger", "medical.discharge", "--subject", "P1", "--id", "K1", "--at", "2026-10-10", *attrs]
    else:
        hf.ok("trigger", "medical.discharge", "--subject", "P1", "--id", "K1", "--at", "2026-10-01", *attrs)
        hf.ok("attempt", "K1-1", "--channel", "phone", "--outcome", "reached", actor="n1")
        hf.ok("ticket", "open", "K1-1", "--category", "service", "--dept", "护理部")
        argv = ["ticket", "resolve", "TK-K1-1-1", "--note", "已回电致歉"]
    before = head(hf.db)
    script = textwrap.dedent(f"""
        import os, signal
        from eventsourcing.postgres import PostgresAggregateRecorder
        from huifang.core.audit.recorders import ChainedSQLiteRecorder

        def hook(cls, name):
            insert = getattr(cls, name)
            def boom(self, c, stored_events, **k):
                if len({{e.originator_id for e in stored_events}}) < 2:  # not the command's save
                    return insert(self, c, stored_events, **k)
                insert(self, c, stored_events[:1], **k)
                os.kill(os.getpid(), signal.SIGKILL)
            setattr(cls, name, boom)
        hook(ChainedSQLiteRecorder, "_insert_many")  # a save of several records: one executemany
        hook(PostgresAggregateRecorder, "_insert_stored_events")  # the rows' insert, after the lock
        from huifang.cli.main import main
        main({cli_args(hf.db, *argv)!r})
    """)
    r = subprocess.run([sys.executable, "-c", script], env=cli_env(), capture_output=True, text=True, timeout=60)
    assert r.returncode == -signal.SIGKILL, r.stderr
    assert head(hf.db) == before  # the half-inserted transaction rolled back
    ok = run_cli(hf.db, *argv, "--json")
    assert ok.returncode == 0, ok.stderr
    assert head(hf.db) > before + 1
    _assert_consistent(hf.db)


__all__ = ["close_apps"]
