"""Store faults: PostgreSQL restarted under load (a private server, never the shared
test one), a read-only database and a full disk. Each command fails with one clear line (exit 2,
"retry" when it is worth retrying), nothing is corrupted, and commands succeed once the store is back."""
from __future__ import annotations

import glob
import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from tests.scale_support import (
    cli_args,
    cli_env,
    close_apps,
    head,
    huifang_cmd,
    run_cli,
    topic_counts,
    write_subjects,
)

pytestmark = pytest.mark.slow  # store fault tests: a private PostgreSQL server restarted, read-only file, full disk

ROOT = Path(__file__).resolve().parents[1]
ATTRS = ["--attr", "department=心内科", "--attr", "diagnosis=高血压", "--attr", "responsible_nurse=n1",
         "--attr", "attending_doctor=王医生"]


def _pg_bin() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return os.path.dirname(found[-1]) if found else None


def _as_pg(*cmd: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else list(cmd)


@pytest.fixture
def private_pg():
    """A PostgreSQL server of this test's own (scripts/pg with another dir and port)."""
    if not os.environ.get("HUIFANG_TEST_PG") or _pg_bin() is None:
        pytest.skip("PostgreSQL not available (HUIFANG_TEST_PG unset)")
    d = f"/tmp/pgfault-{uuid.uuid4().hex[:8]}"
    port = str(55500 + os.getpid() % 400)
    env = {**os.environ, "PGTEST_DIR": d, "PGTEST_PORT": port}
    r = subprocess.run(["bash", str(ROOT / "scripts" / "pg"), "start"], env=env, capture_output=True, text=True,
                       timeout=180)
    assert r.returncode == 0, r.stderr
    url = r.stdout.strip().split("=", 1)[1]
    try:
        yield url, d
    finally:
        subprocess.run(["bash", str(ROOT / "scripts" / "pg"), "stop"], env=env, capture_output=True, timeout=120)


def _pg_ctl(d: str, action: str) -> None:
    args = ["-m", "fast"] if action == "stop" else ["-l", f"{d}/server.log"]
    subprocess.run(_as_pg(f"{_pg_bin()}/pg_ctl", "-D", d, "-w", "-t", "60", *args, action), check=True,
                   capture_output=True, timeout=90)


def test_postgres_restart_under_load_fails_clearly_then_succeeds(private_pg, tmp_path):
    url, d = private_pg
    for args in (["init"], ["staff", "add", "n1", "--name", "护士一", "--role", "agent"],
                 ["subject", "add", "P1", "--name", "张三"]):
        assert run_cli(url, *args).returncode == 0
    # an operator keeps recording triggers while the server restarts; each result is a line of `felt`
    felt = tmp_path / "felt.jsonl"
    script = textwrap.dedent(f"""
        import subprocess, sys, time, json
        out = []
        for i in range(200):  # until two commands succeed after the restart was felt
            r = subprocess.run({huifang_cmd(url, "trigger", "medical.discharge", "--subject", "P1")!r}
                               + ["--id", f"R{{i}}", "--at", "2026-10-10"] + {ATTRS!r},
                               capture_output=True, text=True)
            out.append([i, r.returncode, r.stderr.strip()])
            with open({str(felt)!r}, "a") as f:
                f.write(json.dumps(out[-1]) + "\\n")
            failed = [j for j, code, _ in out if code != 0]
            if failed and len(out) - 1 - failed[-1] >= 2:
                break
            time.sleep(0.1)
        print(json.dumps(out))
    """)
    load = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=cli_env())
    time.sleep(4)
    _pg_ctl(d, "stop")
    down = run_cli(url, "trigger", "medical.discharge", "--subject", "P1", "--id", "DOWN", "--at", "2026-10-10", *ATTRS)
    # down until the operator has felt it: a command that outlived the stop or started in it failed
    # (how long a command takes decides nothing)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (felt.exists() and any(json.loads(line)[1] for line in
                                                                        felt.read_text().splitlines())):
        time.sleep(0.2)
    _pg_ctl(d, "start")
    results = json.loads(load.communicate(timeout=600)[0])
    assert down.returncode == 2 and "retry" in down.stderr and down.stderr.count("\n") == 1, down.stderr
    assert "Traceback" not in down.stderr
    failures = [r for r in results if r[1] != 0]
    assert failures, "the server restart did not hit any command"
    for _i, code, err in failures:
        assert code == 2 and "retry" in err and "\n" not in err and "Traceback" not in err, err
    assert results[-1][1] == 0  # back to normal after the restart
    ok = {f"R{i}" for i, code, _ in results if code == 0}
    again = run_cli(url, "trigger", "medical.discharge", "--subject", "P1", "--id", "DOWN", "--at", "2026-10-10",
                    *ATTRS)
    assert again.returncode == 0, again.stderr
    # every command that said "ok" is stored once; none that failed left anything behind
    counts = topic_counts(url)
    assert counts["huifang:Trigger.Received"] == len(ok) + 1


def test_read_only_database_is_a_clear_error_and_nothing_changes(tmp_path):
    """The database's directory bind-mounted read-only in a private mount namespace (root writes
    through file modes, not through a read-only mount)."""
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode:
        pytest.skip("needs a private mount namespace (unshare -m) to make a read-only mount")
    d = tmp_path / "ro"
    d.mkdir()
    db = str(d / "ro.db")
    for args in (["init"], ["staff", "add", "n1", "--name", "护士一", "--role", "agent"],
                 ["subject", "add", "P1", "--name", "张三"]):
        assert run_cli(db, *args).returncode == 0
    before = head(db)
    files = {p.name: p.read_bytes() for p in d.iterdir() if p.is_file()}
    cmd = huifang_cmd(db, "trigger", "medical.discharge", "--subject", "P1", "--id", "RO", "--at", "2026-10-10", *ATTRS)
    shell = f'mount --bind "{d}" "{d}" && mount -o remount,ro,bind "{d}" && exec "$@"'
    r = subprocess.run(["unshare", "-m", "sh", "-c", shell, "sh", *cmd], capture_output=True, text=True, timeout=120,
                       env=cli_env())
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert "read" in r.stderr.lower(), r.stderr
    assert {p.name: p.read_bytes() for p in d.iterdir() if p.is_file()} == files  # not a byte changed
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert head(db) == before
    assert run_cli(db, *cmd[3 + 4:]).returncode == 0  # writable again: the same command succeeds


SUBJECTS, TRIGGERS = 100, 1000  # about 1 MB of log: the limit, 256 KB past the store's size, falls mid-way


def test_disk_full_is_a_clear_error_and_the_store_survives(tmp_path):
    """The file-size limit (RLIMIT_FSIZE) makes every write past it fail as on a full disk."""
    db = str(tmp_path / "full.db")
    subjects = write_subjects(tmp_path / "s.csv", SUBJECTS)
    for args in (["init"], ["staff", "add", "n1", "--name", "护士一", "--role", "agent"],
                 ["subject", "import", str(subjects)]):
        assert run_cli(db, *args).returncode == 0
    csv = tmp_path / "d.csv"
    with csv.open("w", encoding="utf-8") as f:
        f.write("id,subject,at,department,diagnosis,responsible_nurse,attending_doctor\n")
        for i in range(TRIGGERS):  # ten a subject: a save holds at most one trigger of each subject
            f.write(f"F{i},P{i % SUBJECTS},2026-10-10 09:{i % 60:02d},心内科,{'高血压' * 20},n1,王医生\n")
    before = head(db)
    size = max(Path(db).stat().st_size, Path(db + "-wal").stat().st_size if Path(db + "-wal").exists() else 0)

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size + 256 * 1024, size + 256 * 1024))

    r = subprocess.run(huifang_cmd(db, "trigger", "import", str(csv), "--kind", "medical.discharge", "--batch",
                                   str(TRIGGERS)),
                       capture_output=True, text=True, timeout=300, env=cli_env(), preexec_fn=limit)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    # a full disk says "database or disk is full"; a write refused past the size limit "disk I/O error"
    assert ("full" in r.stderr or "disk" in r.stderr) and "nothing was written" in r.stderr
    # whole batches only (one trigger per subject per save): every stored trigger has its follow-up
    counts = topic_counts(db)
    assert counts["huifang:FollowUp.Planned"] == counts["huifang:Trigger.Received"] < TRIGGERS
    assert counts["huifang:Trigger.Received"] % SUBJECTS == 0  # whole saves of one trigger per subject
    assert head(db) == before + 2 * counts["huifang:Trigger.Received"]
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    ok = run_cli(db, "trigger", "import", str(csv), "--kind", "medical.discharge", "--batch", str(TRIGGERS),
                 "--json", timeout=300)
    assert ok.returncode == 0, ok.stderr  # space is back: the same import now completes
    from tests.scale_support import originators

    ids = originators(db, "huifang:Trigger.Received")
    assert len(ids) == len(set(ids)) == TRIGGERS


__all__ = ["cli_args", "close_apps"]
