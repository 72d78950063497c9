"""How a bulk import uses the SQLite store (core/store.import_cache, core/audit/recorders, core/bulk.Spill):
its batches saved with one executemany whose positions are the rows' own, its connection set up for the
import (page cache, WAL, synchronous) and set back after, the WAL checked in or synced before the command
returns, no other connection committing while it writes (that would empty its page cache), and the spill
kept in file order. None of it changes what is stored: `audit verify` passes."""
from __future__ import annotations

import csv
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from huifang.core import bulk, clock, store
from huifang.core.audit.verify import verify
from huifang.core.config import Config
from huifang.core.importer import BATCH, SQLITE_BATCH, ColumnMap, Importer
from huifang.projections import open_app

NOW = "2026-10-20T10:00:00+08:00"
KIND = "medical.discharge"


def _store(db: str, n: int, tmp_path: Path) -> tuple[Any, Path]:
    app = open_app(db, Config())
    with clock.at(clock.parse_instant(NOW)):
        app.projector.ensure()
        app.add_staff("n1", "护士一", "agent")
        for i in range(n):
            app.add_subject(f"P{i}", "王伟", ["13800138000"])
    f = tmp_path / "d.csv"
    with f.open("w", encoding="utf-8", newline="") as out:
        w = csv.writer(out)
        w.writerow(["id", "subject", "at", "department", "diagnosis", "responsible_nurse", "attending_doctor"])
        for i in range(n):
            w.writerow([f"D{i}", f"P{i}", "2026-10-01 09:00", "心内科", "高血压", "n1", "王医生"])
    return app, f


def _pragma(app: Any, name: str) -> Any:
    with app.recorder.datastore.get_connection(commit=False) as conn:
        cur = conn.cursor()
        cur.execute(f"PRAGMA {name}")
        return cur.fetchone()[0]


def test_a_batch_is_one_executemany_whose_positions_are_the_rows_own(sqlite_db: str) -> None:
    app = open_app(sqlite_db, Config())
    try:
        rec = app.recorder
        events = [StoredEvent(uuid4(), 1, "test:Thing.Happened", b"{}") for _ in range(5)]
        with rec.datastore.transaction(commit=False) as c:  # rolled back: the store is left as it was
            c.execute("SELECT max(rowid) FROM stored_events")
            before = c.fetchone()[0] or 0
            ids = rec._insert_many(c, events)
            c.execute("SELECT rowid, originator_id FROM stored_events WHERE rowid > ? ORDER BY rowid", (before,))
            stored = [(r[0], r[1]) for r in c.fetchall()]
        assert ids == list(range(before + 1, before + 6))
        assert stored == [(i, e.originator_id.hex) for i, e in zip(ids, events, strict=True)]
    finally:
        app.close()


def test_positions_are_read_back_when_the_rowids_are_not_the_next_ones(sqlite_db: str) -> None:
    """A table whose largest rowid is the largest SQLite allows gets random rowids for new rows: each
    record's position is then read back, not counted."""
    app = open_app(sqlite_db, Config())
    try:
        rec = app.recorder
        events = [StoredEvent(uuid4(), 1, "test:Thing.Happened", b"{}") for _ in range(4)]
        with rec.datastore.transaction(commit=False) as c:  # rolled back
            c.execute("INSERT INTO stored_events (rowid, originator_id, originator_version, topic, state) "
                      "VALUES (9223372036854775807, 'top', 1, 'test:Top', x'')")
            ids = rec._insert_many(c, events)
            actual = []
            for e in events:
                c.execute("SELECT rowid FROM stored_events WHERE originator_id = ?", (e.originator_id.hex,))
                actual.append(c.fetchone()[0])
        assert ids == actual
        assert len(set(ids)) == 4 and 9223372036854775807 not in ids
    finally:
        app.close()


def test_an_import_sets_up_its_connection_and_sets_it_back(sqlite_db: str, tmp_path: Path) -> None:
    """During the import: the larger page cache, the WAL let grow to BULK_WAL_PAGES, synchronous
    NORMAL, and no commit by another connection while the batches are written (PRAGMA data_version
    counts those). After it: every setting as before, the WAL checked into the file (empty), and the
    log verifies."""
    app, f = _store(sqlite_db, 12, tmp_path)
    try:
        before = {p: _pragma(app, p) for p in ("synchronous", "wal_autocheckpoint", "cache_size")}
        assert before == {"synchronous": 2, "wal_autocheckpoint": 1000, "cache_size": -2000}
        seen: list[tuple[str, Any, Any, Any, Any]] = []

        def progress(stage: str, done: int, total: int) -> None:
            seen.append((stage, _pragma(app, "synchronous"), _pragma(app, "wal_autocheckpoint"),
                         _pragma(app, "cache_size"), _pragma(app, "data_version")))

        with clock.at(clock.parse_instant(NOW)):
            report = Importer(app, "trigger", str(f), ColumnMap(), kind=KIND, batch=4, progress=progress).run()
        assert report["imported"] == 12 and report["batches"] == 3
        writing = [s for s in seen if s[0] == "importing"]
        assert len(writing) >= 3  # after each batch (and the empty end of the file)
        assert {s[1:4] for s in seen} == {(1, store.BULK_WAL_PAGES, -store.PAGE_CACHE_KB)}
        assert len({s[4] for s in writing}) == 1  # the position was saved on the import's own connection
        assert {p: _pragma(app, p) for p in before} == before
        assert os.path.getsize(sqlite_db + "-wal") == 0
        assert app.read_side.import_run(Importer(app, "trigger", str(f), ColumnMap(), kind=KIND).key).status == "done"
        assert verify(app)["ok"]
    finally:
        app.close()


def test_the_wal_is_synced_when_a_reader_keeps_the_checkpoint_from_finishing(sqlite_db: str, tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader holding an older snapshot: the closing checkpoint cannot finish within CLOSING_WAIT_MS,
    so the WAL with the import's batches (committed in synchronous=NORMAL) is synced by hand before the
    command returns."""
    import sqlite3

    app, f = _store(sqlite_db, 3, tmp_path)
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    reader = sqlite3.connect(sqlite_db, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM stored_events").fetchone()  # a snapshot from before the import
        monkeypatch.setattr(os, "fsync", fsync)
        monkeypatch.setattr(store, "CLOSING_WAIT_MS", 50)  # the test waits 50 ms for the reader, not 2 s
        wait = _pragma(app, "busy_timeout")
        with clock.at(clock.parse_instant(NOW)):
            assert Importer(app, "trigger", str(f), ColumnMap(), kind=KIND).run()["imported"] == 3
        assert synced == [os.path.realpath(sqlite_db) + "-wal"]
        assert os.path.getsize(sqlite_db + "-wal") > 0  # not checked in: the reader still reads the old file
        assert _pragma(app, "busy_timeout") == wait == 30000  # the store's own wait, set back
    finally:
        reader.close()
        app.close()
    assert _verified(sqlite_db)


def _verified(db: str) -> bool:
    app = open_app(db, Config())
    try:
        return bool(verify(app)["ok"])
    finally:
        app.close()


def test_the_spill_keeps_file_order_across_blocks_and_refuses_a_row_out_of_order(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk, "SPILL_ROWS", 3)
    at = datetime(2026, 10, 20, 2, 0, tzinfo=UTC)
    spill = bulk.Spill()
    try:
        for n in range(2, 10):
            if n % 4 == 0:
                spill.later(n, {"subject": f"P{n}", "code": f"D{n}", "at": None})
            else:
                spill.planned(n, f"P{n}", f"D{n}", at, [(bytes(16), 1, "t", bytes([n]))],
                              {f"P{n}": b"key"} if n == 7 else None)
        with pytest.raises(ValueError, match="row 5 spilled after row 9"):
            spill.planned(5, "P5", "D5", at, [], None)
        rows = list(spill.rows())
        assert [r.n for r in rows] == list(range(2, 10))
        assert [r.args is not None for r in rows] == [n % 4 == 0 for n in range(2, 10)]
        assert rows[1].records == [(bytes(16), 1, "t", bytes([3]))] and rows[1].at == at
        assert spill.keys() == {"P7": b"key"}
        assert [keyed for _, _, keyed in spill.blocks] == [False, True, False]  # 8 rows, 3 a block; row 7's key
    finally:
        spill.close()
    for keys in ({}, {"P1": b"key"}):  # no block holds keys (none read), or only the rows not yet in a block
        spill = bulk.Spill()
        try:
            spill.planned(2, "P2", "D2", at, [(bytes(16), 1, "t", b"2")], None)
            spill.flush()
            spill.planned(3, "P1", "D3", at, [(bytes(16), 1, "t", b"3")], keys or None)
            assert spill.keys() == keys
        finally:
            spill.close()


def test_the_cli_batch_default_is_the_importers() -> None:
    from click.testing import CliRunner

    from huifang.cli.main import cli

    out = CliRunner().invoke(cli, ["trigger", "import", "--help"]).output
    assert f"(default {SQLITE_BATCH} on SQLite, {BATCH} on PostgreSQL)" in " ".join(out.split())


def test_the_batch_default_is_the_stores(db: str, tmp_path: Path) -> None:
    """SQLite writes larger batches (its random-keyed index is rewritten into the WAL per batch);
    PostgreSQL smaller ones (a batch holds the store's table lock that served commands wait for)."""
    app, f = _store(db, 3, tmp_path)
    try:
        imp = Importer(app, "trigger", str(f), ColumnMap(), kind=KIND)
        assert (app.store.kind, imp.batch) in (("sqlite", 8000), ("postgres", 2000))
        with clock.at(clock.parse_instant(NOW)):
            report = imp.run()
        assert (report["imported"], report["batches"]) == (3, 1)
    finally:
        app.close()


def test_a_batch_of_no_rows_is_refused_before_anything_is_opened(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from huifang.cli.main import cli

    db = tmp_path / "store.db"
    f = tmp_path / "s.csv"
    f.write_text("id,name,phone\nP1,王伟,13800138000\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["--db", str(db), "subject", "import", str(f), "--batch", "0"])
    assert r.exit_code == 2 and "'--batch'" in r.output and "0 is not in the range x>=1" in r.output
    assert not db.exists()


def test_the_file_index_keeps_ids_and_counts_on_disk_across_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pass 1's whole-file checks (a repeated id, a subject's second new trigger) read the rows before the
    chunk from bulk.FileIndex: a query names at most INDEX_PART keys, counts add up across chunks."""
    monkeypatch.setattr(bulk, "INDEX_PART", 3)
    index = bulk.FileIndex()
    try:
        index.add_ids({f"D{i}": (i + 2, -i) for i in range(7)})
        assert index.ids(["D6", "D0", "D9", "D3", "D0", "D5", "D1"]) == {
            "D6": (8, -6), "D0": (2, 0), "D3": (5, -3), "D5": (7, -5), "D1": (3, -1)}
        index.add_counts({"P1": 1, "P2": 2})
        index.add_counts({"P1": 1, "P3": 1})
        index.add_counts({})
        assert index.counts(["P1", "P2", "P3", "P4"]) == {"P1": 2, "P2": 2, "P3": 1}
        assert index.ids([]) == {} and index.counts([]) == {}
        path = index.db.execute("PRAGMA database_list").fetchone()[2]
        assert path == ""  # a private temporary database: on disk, gone when closed
    finally:
        index.close()


def test_the_spill_goes_to_tmpdir_or_else_to_disk_not_to_a_tmp_held_in_memory(monkeypatch: pytest.MonkeyPatch,
                                                                               tmp_path: Path) -> None:
    """A 1M-row import spills gigabytes: $TMPDIR when the operator set it, else /var/tmp (on disk by
    convention; /tmp is often a tmpfs, held in memory)."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # tempfile reads TMPDIR again
    spill = bulk.Spill()
    try:
        spill.planned(2, "P2", "D2", datetime(2026, 10, 20, tzinfo=UTC), [(bytes(16), 1, "t", b"2")], None)
        spill.flush()
        assert os.path.dirname(os.readlink(f"/proc/self/fd/{spill.file.fileno()}")) == str(tmp_path)
        assert [r.code for r in spill.rows()] == ["D2"]
    finally:
        spill.close()
    monkeypatch.delenv("TMPDIR")
    assert bulk.scratch_dir() == ("/var/tmp" if os.access("/var/tmp", os.W_OK | os.X_OK) else None)
