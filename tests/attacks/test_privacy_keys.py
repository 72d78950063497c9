"""Key handling for personal data (G8, G10).

- A wrong master key: before, a command run with another store's (or a mistyped) HUIFANG_KEY
  silently wrapped new subjects' data keys under it, so their data was unreadable with the real
  key later. Now `init` records a key-check value and every command refuses a key that fails it,
  before anything is written.
- Erasure while another connection reads an older snapshot: before, the destroyed key's wrapped
  bytes stayed in the database (SQLite: the main file, when the reader outlasted the checkpoint
  wait, with no word to the operator; PostgreSQL: the dead row version VACUUM had to keep) until
  later writes. Now the row is overwritten then deleted with secure_delete, the erasure waits for
  older readers, checkpoints/vacuums, checks the file bytes, and says so when it could not."""
from __future__ import annotations

import base64
import os
import secrets
import sqlite3
import subprocess
import threading
import time

import pytest

from tests.attacks.privacy_kit import psql, psql_run
from tests.audit_kit import Raw, ward
from tests.pg_support import split_schema

AFTER_RETENTION = "2029-10-09T09:00+08:00"  # D1-1 closed 2026-10-08; medical keeps 3 years (G10)


def master_key(url: str) -> str:
    from huifang.core.audit.keys import sidecar
    from huifang.core.store import Store

    return (sidecar(Store.parse(url), "keys") / "master.key").read_text().strip()


def test_g8_a_wrong_master_key_is_refused_before_anything_is_written(hf, monkeypatch):
    hf.ok("subject", "add", "P1", "--name", "张三")
    raw = Raw(hf.db)
    events = len(raw.records())
    monkeypatch.setenv("HUIFANG_KEY", base64.b64encode(secrets.token_bytes(32)).decode())
    r = hf("subject", "add", "P2", "--name", "李四")
    assert r.code == 2 and r.err.count("\n") == 1, r.err
    assert "HUIFANG_KEY" in r.err and "key check" in r.err
    assert len(raw.records()) == events and raw.query("SELECT subject FROM huifang_keys WHERE subject = 'P2'") == []
    r = hf("queue")  # refused when the store is opened, whatever the command
    assert r.code == 2 and "key check" in r.err
    monkeypatch.setenv("HUIFANG_KEY", master_key(hf.db))  # the right key, given in the environment
    hf.ok("subject", "add", "P2", "--name", "李四")
    assert hf.ok("subject", "show", "P2")["name"] == "李四"


class Reader:
    """Another connection holding a read transaction (an older snapshot) for `hold` seconds: Python's
    sqlite3 on the file, or a `psql` session in REPEATABLE READ on PostgreSQL."""

    def __init__(self, url: str, hold: float):
        self.url, self.hold = url, hold
        self.proc: subprocess.Popen | None = None
        self.thread: threading.Thread | None = None

    def __enter__(self) -> Reader:
        if self.url.startswith("postgresql"):
            conninfo, schema = split_schema(self.url)
            script = (f'SET search_path TO "{schema}"; BEGIN ISOLATION LEVEL REPEATABLE READ; '
                      f"SELECT count(*) FROM huifang_keys; SELECT pg_sleep({self.hold}); COMMIT;")
            self.proc = subprocess.Popen([psql(), conninfo, "-q", "-At", "-c", script], stdout=subprocess.DEVNULL)
            time.sleep(0.5)  # the snapshot is taken
            return self
        con = sqlite3.connect(self.url, isolation_level=None, check_same_thread=False)
        con.execute("BEGIN")
        con.execute("SELECT count(*) FROM huifang_keys").fetchone()

        def release() -> None:
            time.sleep(self.hold)
            con.execute("COMMIT")
            con.close()

        self.thread = threading.Thread(target=release)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.wait(timeout=60)
        if self.thread is not None:
            self.thread.join(timeout=60)


def on_disk(url: str, wrapped: bytes) -> bool:
    """Whether the wrapped key's bytes are anywhere in the store's files: SQLite file + WAL; the raw
    heap pages of huifang_keys on PostgreSQL (pageinspect), live and dead row versions alike."""
    if not url.startswith("postgresql"):
        return any(os.path.exists(p) and wrapped in open(p, "rb").read() for p in (url, url + "-wal"))
    psql_run(url, "CREATE EXTENSION IF NOT EXISTS pageinspect SCHEMA public;")
    pages = int(psql_run(url, "SELECT pg_relation_size('huifang_keys') / current_setting('block_size')::int;"))
    dump = psql_run(url, "; ".join(f"SELECT encode(public.get_raw_page('huifang_keys', {i}), 'hex')"
                                   for i in range(pages)) + ";")
    return wrapped.hex() in dump


def superuser(url: str) -> bool:
    return psql_run(url, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user;").strip() == "t"


@pytest.mark.slow  # waits ~2 s for a reader to let go; fast G10 cells: test_privacy_at_rest, test_privacy_pii
def test_g10_erasure_waits_for_an_older_reader_and_leaves_no_wrapped_key_on_disk(hf):
    if hf.db.startswith("postgresql") and not superuser(hf.db):
        pytest.skip("reading raw PostgreSQL pages (pageinspect) needs a superuser")
    ward(hf)
    wrapped = bytes(Raw(hf.db).query("SELECT wrapped FROM huifang_keys WHERE subject = 'P1'")[0][0])
    assert on_disk(hf.db, wrapped)
    with Reader(hf.db, hold=2.0):
        e = hf.ok("subject", "erase", "P1", "--reason", "request 2029-001", now=AFTER_RETENTION)
        assert not on_disk(hf.db, wrapped)  # right after the erasure, the reader still running or just gone
    assert e["erased"] and e["disk_scrubbed"] is not False
    assert Raw(hf.db).query("SELECT wrapped, erased FROM huifang_keys WHERE subject = 'P1'") == [(None, 1)]


@pytest.mark.slow  # a reader holds its snapshot for 2.5 s
def test_g10_erasure_says_so_when_a_reader_outlasts_the_wait(hf_sqlite, monkeypatch):
    hf = hf_sqlite
    ward(hf)
    wrapped = bytes(Raw(hf.db).query("SELECT wrapped FROM huifang_keys WHERE subject = 'P1'")[0][0])
    monkeypatch.setenv("HUIFANG_ERASE_WAIT", "0.3")
    with Reader(hf.db, hold=2.5):
        r = hf("subject", "erase", "P1", "--reason", "request 2029-001", now=AFTER_RETENTION)
        assert r.code == 0, r.err
        assert r.data["disk_scrubbed"] is False
        assert "warning" in r.err and "still in" in r.err and "older snapshot" in r.err
        assert on_disk(hf.db, wrapped)  # honest: the reader's snapshot needs the old page
    con = sqlite3.connect(hf.db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    assert not on_disk(hf.db, wrapped)  # overwritten and deleted (secure_delete): gone at the checkpoint
