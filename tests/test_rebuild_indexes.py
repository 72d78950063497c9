"""A rebuild from zero fills the views without their secondary (non-unique) indexes and builds each
once at the end; a rebuild killed in between leaves them to the next start, which makes them again.
Both backends."""
from __future__ import annotations

from sqlalchemy import text

from huifang.core import clock
from huifang.core.config import Config
from huifang.projections import open_app
from tests.scale_support import discharge_patients

NOW = "2026-10-20T10:00:00+08:00"


def _indexes(app) -> set[str]:
    with app.projector.engine.connect() as conn:
        return app.projector._index_names(conn)


def test_rebuild_keeps_the_indexes_and_a_start_restores_dropped_ones(db):
    app = open_app(db, Config())
    try:
        with clock.at(clock.parse_instant(NOW)):
            discharge_patients(app, 1)
            before = _indexes(app)
            secondary = {ix.name for ix in app.projector._secondary(app.projector.views)}
            assert secondary and secondary <= before
            rows = _rows(app)
            assert app.projector.rebuild() > 0
            assert _indexes(app) == before and _rows(app) == rows
            # what a rebuild killed mid-way leaves: its secondary indexes dropped
            with app.projector.engine.begin() as conn:
                for ix in app.projector._secondary(app.projector.views):
                    ix.drop(conn)
            assert not secondary & _indexes(app)
    finally:
        app.close()
    again = open_app(db, Config())
    try:
        again.projector.ensure()
        assert _indexes(again) == before
    finally:
        again.close()


def _rows(app) -> list[tuple]:
    with app.projector.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT code, status, window_open, due, owner FROM followups "
                                                    "ORDER BY code"))]


def test_a_rebuild_lets_the_wal_grow_during_its_batches_then_gives_its_disk_back(sqlite_db):
    """SQLite: a rebuild's batches commit with REBUILD_WAL_PAGES as the checkpoint threshold (not the
    default 1000), a catch-up's with the default; after the rebuild the connection is back at the
    default and the WAL file is empty (checkpointed with TRUNCATE), not left at its largest."""
    import os

    from huifang.projections import engine

    app = open_app(sqlite_db, Config())
    seen: list[int] = []
    core = app.projector.views["core"]
    handle = core.handle

    def spying(conn, e, n):
        seen.append(conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar())
        return handle(conn, e, n)

    core.handle = spying  # type: ignore[method-assign]
    try:
        with clock.at(clock.parse_instant(NOW)):
            discharge_patients(app, 40)
            assert seen and set(seen) == {1000}
            seen.clear()
            assert os.path.getsize(sqlite_db + "-wal") > 0
            assert app.projector.rebuild() > 0
            assert seen and set(seen) == {engine.REBUILD_WAL_PAGES}
            with app.projector.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
            assert os.path.getsize(sqlite_db + "-wal") == 0
            assert len(_rows(app)) == 40
    finally:
        app.close()


def test_a_rebuild_clears_its_views_without_zeroing_every_freed_page_then_sets_secure_delete_back(sqlite_db):
    """SQLite: the views a rebuild clears are re-derived from the same log straight after, so the clear
    runs with `secure_delete` FAST (Debian's SQLite has it ON: zeros written over every freed page);
    every connection is back at the value it had, and the rows come back the same."""
    app = open_app(sqlite_db, Config())
    seen: list[int] = []
    clear = app.projector._clear

    def spying(conn, view):
        seen.append(conn.exec_driver_sql("PRAGMA secure_delete").scalar())
        return clear(conn, view)

    app.projector._clear = spying  # type: ignore[method-assign]
    try:
        with clock.at(clock.parse_instant(NOW)):
            discharge_patients(app, 5)
            rows = _rows(app)
            with app.projector.engine.connect() as conn:
                default = conn.exec_driver_sql("PRAGMA secure_delete").scalar()
            assert default != 2
            assert app.projector.rebuild() > 0
            assert seen and set(seen) == {2}  # FAST
            with app.projector.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == default
            assert _rows(app) == rows and len(rows) == 5
    finally:
        app.close()
