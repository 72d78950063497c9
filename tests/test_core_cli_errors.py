"""Bad input: exit 2, one line on stderr, nothing written (the CLI contract)."""
from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Huifang


def digest(path: str) -> str:
    """Every row of every table (SQLite may checkpoint its WAL into the file on close, so compare
    content, not bytes)."""
    con = sqlite3.connect(path)
    try:
        return hashlib.sha256("\n".join(con.iterdump()).encode()).hexdigest()
    finally:
        con.close()


@pytest.fixture
def store(hf_sqlite, store_cache):
    return store_cache(hf_sqlite, _store)


def _store(hf) -> None:
    hf.ok("subject", "add", "P1", "--name", "张三")
    hf.ok("staff", "add", "n1", "--name", "N", "--role", "agent")


BAD = [
    (["queue", "--bogus"], "No such option"),
    (["trigger", "discharge", "--subject", "NOPE", "--attr", "department=a", "--attr", "diagnosis=b",
      "--attr", "responsible_nurse=n1", "--attr", "attending_doctor=d"], "subject 'NOPE' does not exist"),
    (["trigger", "discharge", "--subject", "P1", "--attr", "department=a"], "--attr diagnosis: is required"),
    (["trigger", "discharge", "--subject", "P1", "--attr", "nonsense"], "is not KEY=VALUE"),
    (["trigger", "nosuchkind", "--subject", "P1"], "trigger kind 'nosuchkind' is unknown"),
    (["trigger", "discharge", "--subject", "P1", "--at", "yesterday"], "--at: 'yesterday' is not an ISO-8601"),
    (["attempt", "X-1", "--channel", "phone", "--outcome", "reached"], "follow-up 'X-1' does not exist"),
    (["attempt", "X-1", "--channel", "pigeon", "--outcome", "reached"], "--channel: 'pigeon' is not one of"),
    (["staff", "add", "n2", "--name", "x", "--role", "king"], "--role: 'king' is not one of"),
    (["subject", "add", "P2", "--name", "x", "--tz", "Mars/Base"], "time zone 'Mars/Base' is unknown"),
    (["subject", "add", "P1", "--name", "x"], "subject 'P1' already exists"),
    (["history", "ZZZ"], "'ZZZ' is not the ID"),
]


@pytest.mark.parametrize("args,message", BAD, ids=[" ".join(a[:2]) for a, _ in BAD])
def test_bad_input_exit_2_one_line_nothing_written(store, args, message):
    before = digest(store.db)
    r = store(*args)
    assert r.code == 2, r.err
    assert r.out == ""
    assert r.err.count("\n") == 1 and r.err.startswith("huifang: error: ") and message in r.err
    assert "Traceback" not in r.err
    assert digest(store.db) == before


def test_malformed_now_is_refused(store):
    before = digest(store.db)
    r = store("queue", now="23/11/2026")
    assert r.code == 2 and "--now: '23/11/2026' is not an ISO-8601" in r.err
    assert digest(store.db) == before


def test_unknown_plugin_in_config(store, tmp_path):
    cfg = tmp_path / "huifang.toml"
    cfg.write_text('[huifang]\nplugins = ["medical", "dentistry"]\n', encoding="utf-8")
    before = digest(store.db)
    r = store("queue", config=str(cfg))
    assert r.code == 2 and "plugins: 'dentistry' is not installed" in r.err and r.err.count("\n") == 1
    assert digest(store.db) == before


@pytest.mark.parametrize("toml,message", [
    ('[plugins.medical]\ndischarge_open_days = "soon"\n', "plugins.medical.discharge_open_days"),
    ('[plugins.medical]\ncalling_windows = ["25:00-26:00"]\n', "calling_windows"),
    ('[huifang]\ntimezone = "Nowhere/City"\n', "huifang.timezone"),
    ('[huifang]\nplugin = ["medical"]\n', "huifang.plugin: unknown key"),
    ('[huifang\n', "not valid TOML"),
])
def test_config_errors_name_the_key(store, tmp_path, toml, message):
    cfg = tmp_path / "huifang.toml"
    cfg.write_text(toml, encoding="utf-8")
    r = store("queue", config=str(cfg))
    assert r.code == 2 and message in r.err and r.err.count("\n") == 1, r.err


def test_commands_on_a_missing_store_create_nothing(tmp_path):
    db = tmp_path / "nothing.db"
    r = Huifang(str(db))("queue")
    assert r.code == 2 and "does not exist" in r.err and not db.exists()


def test_real_process_error_has_no_traceback(tmp_path):
    exe = Path(sys.executable).with_name("huifang")
    p = subprocess.run([str(exe), "--db", str(tmp_path / "x.db"), "--now", "nope", "queue"], capture_output=True,
                       text=True)
    assert p.returncode == 2 and p.stdout == "" and p.stderr.strip().count("\n") == 0 and "Traceback" not in p.stderr
