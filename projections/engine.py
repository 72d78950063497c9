"""Projection machinery: SQLAlchemy tables fed from the application's notification log.

One mechanism for SQLite and PostgreSQL (eventsourcing's subscription-based ProjectionRunner needs
subscriptions, which SQLite lacks): each view's position is read from `view_positions` and advanced
in the same transaction as its rows (compare-and-set on the old position), so a crash — even a
kill -9 in the middle of a batch — never double-counts or skips: the transaction either commits
rows and position together or neither, and two workers catching up at once cannot both apply a
batch. Readers call `catch_up()` first (or `lag()` to say how far behind they are).

A view whose code changes shape bumps its `version`: the stored view is rebuilt from zero the next
time the projector starts.
"""
from __future__ import annotations

import gc
import json
import re
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager, suppress
from operator import itemgetter
from typing import Any, cast
from uuid import UUID, SafeUUID

from eventsourcing.persistence import (
    Notification,
    find_id_convertor,
)
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import resolve_topic
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    create_engine,
    event,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.sql.dml import Insert, Update

try:
    import orjson
except ImportError:  # pragma: no cover - optional: the stdlib decoder is used
    orjson = None  # type: ignore[assignment]

from huifang.core import heap
from huifang.core.decoding import reading_mapper
from huifang.core.errors import HuifangError
from huifang.core.plugin_api.views import View
from huifang.core.store import BULK_WAL_PAGES, page_cache

BATCH = 1000
# a rebuild's batches grow to this many times BATCH: fewer commits, each rewriting the views' pages once
# (memory: the batch's decoded events; a 1M rebuild peaked at 261 MB with 12, 279 MB with 16, 233 MB with 8)
REBUILD_GROWTH = 12
# SQLite, during a rebuild: the WAL may grow to this many pages before a commit copies it back into the
# file (4 KB pages: 200 MB), not the default 1000: a view page rewritten by many batches is copied back
# once per checkpoint, and each checkpoint syncs the file twice. The rebuild ends with a checkpoint that
# gives the WAL's disk back; a kill in between leaves a larger WAL for the next commit to check in.
REBUILD_WAL_PAGES = BULK_WAL_PAGES  # the same as an import's (core/store.py)

positions_metadata = MetaData()
positions = Table(
    "view_positions", positions_metadata,
    Column("view", String(64), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("version", Integer, nullable=False),
)


class ProjectionError(HuifangError):
    """A view failed on one stored event: nothing of that batch was written (the transaction rolls
    back), so the view stays at its last consistent position."""

    exit_code = 1


class _JSONText:
    """The text of the views' JSON columns: compact, with non-ASCII text as UTF-8, not \\uXXXX. A
    follow-up's meta is mostly Chinese; escaped, it was twice the size and the rebuild's writes were
    dominated by it. orjson writes it (a rebuild writes a JSON value per follow-up, and the stdlib's
    encoder took a tenth of the rebuild's time): the same text for the values the views hold (str keys,
    str, int, float, bool, None, lists; numbers are finite, inputs refuse NaN). What orjson refuses (a
    non-str key, an integer beyond 64 bits, a lone surrogate, a datetime or dataclass) goes through
    json.dumps in the same form, raising what it always raised; text with a lone surrogate (no UTF-8 for
    it) escaped. A UUID or an Enum, which no view puts in a JSON column and the stdlib would refuse, is
    written as orjson writes it."""

    SEPARATORS = (",", ":")

    def __init__(self) -> None:
        self._fast = None if orjson is None else orjson.dumps
        self._options = 0 if orjson is None else (orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
                                                  | orjson.OPT_PASSTHROUGH_SUBCLASS)

    def __call__(self, value: Any) -> str:
        if self._fast is not None:
            try:
                return self._fast(value, option=self._options).decode()
            except TypeError:  # orjson.JSONEncodeError: the stdlib's turn
                pass
        text = json.dumps(value, separators=self.SEPARATORS, ensure_ascii=False)
        if not text.isascii():
            try:
                text.encode()
            except UnicodeEncodeError:  # a lone surrogate: no UTF-8 for the database
                return json.dumps(value, separators=self.SEPARATORS)
        return text


def make_engine(store: Any) -> Engine:
    if store.kind == "sqlite":
        engine = create_engine(store.sqlalchemy_url(), connect_args={"timeout": 30}, json_serializer=_JSONText())

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    args: dict[str, Any] = {"connect_timeout": 5}
    if store.schema:
        args["options"] = f"-csearch_path={store.schema}"
    return create_engine(store.sqlalchemy_url(), connect_args=args, pool_pre_ping=True, json_serializer=_JSONText())


class Projector:
    def __init__(self, app: Any, views: Iterable[View], engine: Engine):
        self.app = app
        self.views = {v.name: v for v in views}
        self.engine = engine
        self._ready = False
        self._mapper = reading_mapper(app.mapper)
        self._sql = _notifications_sql(app.recorder)
        self._by_topics: dict[frozenset[str], tuple[str, tuple[str, ...]]] = {}  # wanted -> (SQL, its topics)
        self._classes: dict[str, tuple[type, Callable[[Any], Any]] | None] = {}

    # -- schema -----------------------------------------------------------------------------
    def ensure(self) -> None:
        if self._ready:
            return
        if self._made():
            with self.engine.begin() as conn:
                self._restore_indexes(conn)
            self._ready = True
            return
        with self.engine.begin() as conn:
            positions_metadata.create_all(conn)
            for v in self.views.values():
                v.metadata.create_all(conn)
            have = {r.view: r for r in conn.execute(select(positions))}
            for v in self.views.values():
                row = have.get(v.name)
                if row is None:
                    conn.execute(positions.insert(), dict(view=v.name, position=0, version=v.version))
                elif row.version != v.version:  # view code changed shape: rebuild from zero
                    self._reset(conn, v)
            self._restore_indexes(conn)
        self._ready = True

    def _made(self) -> bool:
        """Every view has its position row at its current version: its tables were made by this code,
        so no CREATE ... IF NOT EXISTS round (one catalog query per table on PostgreSQL) is needed."""
        try:
            with self.engine.connect() as conn:
                have = {r.view: r.version for r in conn.execute(select(positions))}
        except DBAPIError:
            return False  # a new store: no positions table yet
        return all(have.get(n) == v.version for n, v in self.views.items())

    # -- secondary indexes: dropped for a rebuild from zero, made again at its end ------------------------
    def _secondary(self, names: Iterable[str]) -> list[Index]:
        """The views' non-unique indexes: views look rows up by key or unique index only, so a
        rebuild can fill the tables without them and index each table once at the end."""
        return [ix for n in names for t in self.views[n].tables() for ix in t.indexes if not ix.unique]

    def _index_names(self, conn: Connection) -> set[str] | None:
        if conn.dialect.name == "sqlite":
            return {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'"))}
        if conn.dialect.name == "postgresql":
            return {r[0] for r in conn.execute(text(  # pg_class, not the pg_indexes view: a start-up query
                "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace "
                "AND relkind = 'i'"))}
        return None  # pragma: no cover

    def _restore_indexes(self, conn: Connection) -> None:
        """Make the indexes a rebuild killed mid-way left dropped (one query when none is missing)."""
        have = self._index_names(conn)
        if have is None:
            return
        for ix in self._secondary(self.views):
            if ix.name not in have:
                self._ddl(conn, ix.create)

    def _ddl(self, conn: Connection, fn: Callable[[Connection], Any]) -> bool:
        """Run an index statement; on PostgreSQL inside a savepoint, so a staff role (no ownership of
        the tables: it may not drop or create indexes) leaves them as they are instead of failing."""
        if conn.dialect.name != "postgresql":
            fn(conn)
            return True
        try:
            with conn.begin_nested():
                fn(conn)
        except DBAPIError:
            return False
        return True

    def _reset(self, conn: Connection, view: View) -> None:
        # a changed view may have new columns: drop and re-create its tables, then start from zero
        for t in reversed(view.tables()):
            t.drop(conn, checkfirst=True)
        view.metadata.create_all(conn)
        conn.execute(update(positions).where(positions.c.view == view.name)
                     .values(position=0, version=view.version))

    def _clear(self, conn: Connection, view: View) -> None:
        for t in reversed(view.tables()):
            conn.execute(t.delete())
        conn.execute(update(positions).where(positions.c.view == view.name)
                     .values(position=0, version=view.version))

    # -- reading ------------------------------------------------------------------------------
    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def positions(self) -> dict[str, int]:
        self.ensure()
        with self.engine.connect() as conn:
            return {r.view: r.position for r in conn.execute(select(positions))}

    def status(self) -> list[dict[str, Any]]:
        self.ensure()
        head = self.head()
        with self.engine.connect() as conn:
            rows = {r.view: r for r in conn.execute(select(positions))}
        out = []
        for n, v in self.views.items():
            pos = rows[n].position if n in rows else 0
            out.append({"view": n, "version": v.version, "position": pos, "head": head,
                        "behind": max(0, head - pos), "tables": [t.name for t in v.tables()]})
        return out

    def lag(self, names: Iterable[str] | None = None) -> int:
        """How many notifications the slowest of these views is behind the log head."""
        pos = self.positions()
        head = self.head()
        return max((max(0, head - pos.get(n, 0)) for n in (names or self.views)), default=0)

    def catch_up(self, progress: Callable[[int, int], None] | None = None,
                 names: Iterable[str] | None = None, stop_after: int | None = None) -> int:
        """Apply new events to the views; returns how many notifications were read."""
        return self._catch_up(progress, names, stop_after, grow=False)

    def _catch_up(self, progress: Callable[[int, int], None] | None, names: Iterable[str] | None,
                  stop_after: int | None, grow: bool) -> int:
        """`grow` (a rebuild): each batch twice the last, up to REBUILD_GROWTH × BATCH, so a long
        log commits (and rewrites the views' pages) a few times instead of once per BATCH; the first
        batches stay small, so the views show progress early."""
        self.ensure()
        views = [self.views[n] for n in (names or self.views)]
        wanted = _wanted(views)
        head = self.head()
        read = 0
        limit = BATCH
        while True:
            with self.engine.connect() as conn:
                pos = {r.view: r.position for r in conn.execute(select(positions))}
            start = min(pos.get(v.name, 0) for v in views)
            if start >= head:
                return read
            with _no_gc():
                notes, count, first, last = self._read_batch(start + 1, limit, head, wanted)
                if not count:
                    return read
                try:
                    self._apply(views, pos, notes, first, last, grow)
                except _Raced:
                    continue  # another worker advanced first: re-read positions and go on
            if grow:
                limit = min(limit * 2, BATCH * REBUILD_GROWTH)
            read += count
            if progress:
                progress(last, head)
            if stop_after is not None and read >= stop_after:
                return read

    def _read_batch(self, start: int, limit: int, stop: int,
                    wanted: frozenset[str] | None) -> tuple[list[Any], int, int, int]:
        """The notifications of recorder.select_notifications(start=start, limit=limit, stop=stop)
        whose topic is in `wanted` (None: all), with how many were read and the first and last id read
        (the views' positions advance past the rest all the same). On eventsourcing's own SQLite
        recorder read here with plain tuples, the ids made from their hex text without uuid.UUID's
        parsing, and the topics no view reads left in SQLite (a rebuild reads every stored event once;
        subject registrations, staff and policy events feed no view): there `limit` counts the rows
        wanted, and the ids read run from `start` to the last of them, or to `stop` if fewer came."""
        if self._sql is None:
            notes = list(self.app.recorder.select_notifications(start=start, limit=limit, stop=stop))
            if not notes:
                return notes, 0, 0, 0
            picked = notes if wanted is None else [n for n in notes if n.topic in wanted]
            return picked, len(notes), notes[0].id, notes[-1].id
        if start > stop:
            return [], 0, 0, 0
        sql = self._sql
        params: tuple[Any, ...] = (start, stop, limit)
        if wanted is not None:  # the other topics skipped inside SQLite: not fetched at all
            found = self._by_topics.get(wanted)
            if found is None:
                topics = tuple(sorted(wanted))
                found = self._by_topics[wanted] = (_notifications_sql(self.app.recorder, len(topics)) or sql, topics)
            sql, params = found[0], (start, stop, *found[1], limit)
        with self.app.recorder.datastore.transaction(commit=False) as c:
            c.execute(sql, params)
            rows = c.fetchall()
        # read up to the last row, or to `stop` when fewer rows than asked came: every id in between was
        # looked at (the log's ids are its rowids, one after another)
        last = rows[-1][0] if len(rows) == limit else stop
        new, setattr_, note, uuid = object.__new__, object.__setattr__, Notification, _uuid
        out = []
        for r in rows:
            n = new(note)  # a frozen dataclass: its fields set as its own __init__ would
            setattr_(n, "__dict__", {"originator_id": uuid(r[1]), "originator_version": r[2], "topic": r[3],
                                     "state": r[4], "id": r[0]})
            out.append(n)
        return out, last - start + 1, start, last

    def _event(self, n: Any) -> Any:
        """mapper.to_domain_event(n), without its per-event look-ups: the event class and id convertor
        found once per topic. A class with upcasts, a state with a class_version, a mapper with a
        cipher or compressor and any failure go through the mapper itself (the same event or error)."""
        mapper = self._mapper
        found = self._classes.get(n.topic, _UNSEEN)
        if found is _UNSEEN:
            found = None
            if not mapper.cipher and not mapper.compressor:
                try:
                    cls = resolve_topic(n.topic)
                    if getattr(cls, "class_version", 1) == 1:
                        found = (cls, find_id_convertor(cls, cast(Hashable, type(n.originator_id))))
                except Exception:
                    found = None
            self._classes[n.topic] = found
        if found is None or type(n.originator_id) is not UUID:
            return mapper.to_domain_event(n)
        try:
            state = mapper.transcoder.decode(n.state)
        except Exception:
            return mapper.to_domain_event(n)  # raises the mapper's own error
        if type(state) is not dict or "class_version" in state:
            return mapper.to_domain_event(n)
        cls, convert = found
        state["originator_id"] = convert(n.originator_id)
        state["originator_version"] = n.originator_version
        e = object.__new__(cls)
        object.__setattr__(e, "__dict__", state)
        return e

    def _apply(self, views: list[View], pos: dict[str, int], notes: list[Any], first: int, last: int,
               big: bool = False) -> None:
        """Apply the notifications read from `first` to `last` (`notes`: those of them some view
        reads) and advance the views' positions to `last`; `big` (a rebuild): with the larger page cache."""
        decoded: dict[int, Any] = {}  # decode each stored event once, however many views read it
        with self.engine.connect() as conn, _batch_settings(conn, big), conn.begin():
            # claim first (scale-out: two workers at once): a no-op compare-and-set takes the position
            # row's lock (PostgreSQL) / the write lock (SQLite) before any row is written, so the
            # slower worker waits, sees the moved position and re-reads instead of colliding on keys
            behind = {v.name: pos.get(v.name, 0) for v in views if pos.get(v.name, 0) < last}
            if behind:  # one statement for every view: each row still at the position read
                claim = conn.execute(update(positions).where(or_(*(
                    and_(positions.c.view == n, positions.c.position == p) for n, p in behind.items())))
                    .values(position=positions.c.position))
                if claim.rowcount != len(behind):
                    raise _Raced()
            decode = self._event
            picked: dict[tuple[int, frozenset[str] | None], list[Any]] = {}  # views reading the same topics
            for v in views:
                p = pos.get(v.name, 0)
                if last <= p:
                    continue
                topics = v.topics
                todo = picked.get((max(p, first - 1), topics))
                if todo is None:
                    if p < first:  # the whole batch is new to this view (a rebuild, a view in step)
                        todo = list(notes) if topics is None else [n for n in notes if n.topic in topics]
                    else:
                        todo = [n for n in notes if n.id > p] if topics is None else \
                            [n for n in notes if n.id > p and n.topic in topics]
                    picked[(max(p, first - 1), topics)] = todo
                out = _Buffered(conn)  # bulk import: a batch's plain inserts go out as one executemany per table
                proxy = cast(Connection, out)  # a proxy: other attributes pass through
                handle = v.handle
                for n in todo:
                    nid = n.id
                    e = decoded.get(nid)
                    if e is None:
                        e = decoded[nid] = decode(n)
                    try:
                        handle(proxy, e, nid)
                    except Exception as exc:
                        raise _failed(v, f"on event {nid} ({n.topic})", exc) from exc
                try:
                    out.flush()
                except Exception as exc:
                    raise _failed(v, f"writing events up to {last}", exc) from exc
            if behind:  # the claimed rows are ours until commit: no one moved them since
                conn.execute(update(positions).where(positions.c.view.in_(list(behind))).values(position=last))

    def rebuild(self, names: Iterable[str] | None = None,
                progress: Callable[[int, int], None] | None = None) -> int:
        self.ensure()
        chosen = list(names or self.views)
        dropped: list[Index] = []
        with self.engine.begin() as conn, _freed_pages_kept(conn):
            for n in chosen:
                self._clear(conn, self.views[n])
            # from zero: fill without the secondary indexes, build each once at the end (a kill
            # in between leaves them to the next start's ensure())
            have = self._index_names(conn) or set()
            for ix in self._secondary(chosen):
                if ix.name in have and self._ddl(conn, ix.drop):
                    dropped.append(ix)
        try:
            return self._catch_up(progress, chosen, None, grow=True)
        finally:
            if dropped:
                _give_back_memory()
                # the filled tables into the database file first: each CREATE INDEX scans its whole table,
                # read from the file instead of page by page through the WAL's index
                self._checkpoint("PASSIVE")
                with self.engine.begin() as conn, _page_cache(conn):
                    for ix in dropped:
                        self._ddl(conn, ix.create)
            self._checkpoint("TRUNCATE")  # the WAL's disk back (REBUILD_WAL_PAGES)

    def _checkpoint(self, mode: str) -> None:
        """SQLite: checkpoint the WAL. Best effort: a store kept busy past the busy timeout checks it in
        at a later commit (a WAL left as it is reads the same), and neither a finished rebuild nor the
        error that ended one is turned into this one's error. Anything else: nothing to do."""
        if self.engine.dialect.name == "sqlite":
            with suppress(DBAPIError), self.engine.connect() as conn:
                conn.exec_driver_sql(f"PRAGMA wal_checkpoint({mode})").fetchall()


class _Raced(Exception):
    pass


@contextmanager
def _page_cache(conn: Connection) -> Iterator[None]:
    """SQLite: store.page_cache for this connection while the block runs. Each CREATE INDEX
    scans its whole table; with the default 2 MB cache a view of some ten thousand rows is read from
    the file again for every index, with one it is read once. A rebuild's batch inserts into the
    views' unique indexes in random key order: with the default cache their pages are spilled to the
    WAL and read back within the batch. Memory stays bounded by this cache plus one batch."""
    if conn.dialect.name != "sqlite":
        yield
        return
    def query(sql: str) -> Any:
        result = conn.exec_driver_sql(sql)
        return result.scalar() if result.returns_rows else None

    with page_cache(query):
        yield


@contextmanager
def _freed_pages_kept(conn: Connection) -> Iterator[None]:
    """SQLite: `secure_delete` FAST on this connection while a rebuild clears its views. Debian builds
    SQLite with it ON, which writes zeros over every page a DELETE frees: clearing the views would write
    them whole once more, through the WAL and then into the file (a third of a 100k rebuild's commits).
    FAST still zeroes what is deleted inside pages that stay in use; freed pages go to the freelist as
    they are. What the clear frees is re-derived from the same log by the rebuild that follows, which
    reuses those pages; the log's own erasures (core/audit/erasure: key rows) keep it ON."""
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA secure_delete").scalar()
    conn.exec_driver_sql("PRAGMA secure_delete=FAST")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA secure_delete={int(before or 0)}")


@contextmanager
def _batch_settings(conn: Connection, big: bool) -> Iterator[None]:
    """A rebuild's batch on SQLite (`big`): the larger page cache (_page_cache) and the WAL let grow to
    REBUILD_WAL_PAGES, set before the batch's transaction and set back after its commit (the commit is
    what checkpoints), on this connection only. Anything else: as it is."""
    if not big or conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
    conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint={REBUILD_WAL_PAGES}")
    try:
        with _page_cache(conn):
            conn.commit()  # the PRAGMAs' implicit transaction: the batch's is its own
            yield
    finally:
        conn.rollback()  # after the batch's commit: nothing; after a failure: a clean connection for the PRAGMA
        conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint={int(before if before is not None else 1000)}")
        conn.commit()


def _give_back_memory() -> None:
    """Before a rebuild builds its indexes: the batches' freed memory handed back to the system (glibc
    keeps freed heap for reuse, and SQLite's page cache and sorter allocate on top of it: the 1M rebuild's
    peak, 313 MB at REBUILD_GROWTH 16 without this, 279 MB with it). Not glibc: nothing to do."""
    gc.collect()
    heap.give_back()


@contextmanager
def _no_gc() -> Iterator[None]:
    """The cycle collector paused for one batch: a batch allocates thousands of decoded events, and
    each burst set off a collection walking every live object (a fifth of a rebuild's time at 10k
    triggers). The events are freed by reference counting; what cyclic garbage a batch leaves is
    collected once it ends. Re-enabled only if it was on (another thread may be inside a batch)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _wanted(views: Iterable[View]) -> frozenset[str] | None:
    """The topics any of these views reads; None: some view reads every topic."""
    topics: set[str] = set()
    for v in views:
        if v.topics is None:
            return None
        topics |= v.topics
    return frozenset(topics)


def _failed(v: View, where: str, exc: Exception) -> ProjectionError:
    return ProjectionError(
        f"view '{v.name}' failed {where}: {type(exc).__name__}: "
        f"{str(exc).splitlines()[0] if str(exc) else ''}; nothing of this batch was "
        f"written — fix the view and run 'huifang projections rebuild {v.name}'")


class _Buffered:
    """The connection a view's `handle` writes through during catch-up (rebuild speed at scale).

    Statements whose values come as a parameter dict are held back and sent as ONE executemany:
    plain inserts (`conn.execute(table.insert(), {...})`, or a row as a tuple through `insert_row`)
    grouped per table and column set, and a run of the same bound UPDATE (core_views.set_row). Order
    is kept wherever it matters: inserts are sent before any update or other statement, a held update
    run before any insert or other statement, so a view always reads and updates what it wrote
    before. The engine flushes before it advances the view's position, in the same transaction: crash
    safety is unchanged. A held statement's result is None; everything else passes through."""

    def __init__(self, conn: Connection):
        self._conn = conn
        self._inserts: dict[tuple[Any, tuple[str, ...]], list[dict[str, Any]]] = {}
        self._rows: dict[tuple[Any, tuple[str, ...]], list[tuple[Any, ...]]] = {}
        self._run: tuple[Any, list[dict[str, Any]]] | None = None

    def execute(self, statement: Any, parameters: Any = None, **kw: Any) -> Any:
        if isinstance(parameters, dict) and not kw:
            if (isinstance(statement, Insert) and not statement._values and not statement._multi_values
                    and not statement._returning and statement.select is None):
                if self._run is not None:
                    self._flush_run()
                self._inserts.setdefault((statement.table, tuple(parameters)), []).append(parameters)
                return None
            if isinstance(statement, Update) and not statement._returning:
                self._flush_inserts()
                if self._run is not None and self._run[0] is statement:
                    self._run[1].append(parameters)
                else:
                    self._flush_run()
                    self._run = (statement, [parameters])
                return None
        self.flush()
        return self._conn.execute(statement, parameters, **kw)

    def insert_row(self, statement: Insert, keys: tuple[str, ...], row: tuple[Any, ...]) -> None:
        """Hold one row of a plain insert given as values in the order of `keys` (plugin_api.views.insert_row)."""
        if self._run is not None:
            self._flush_run()
        held = self._rows.get((statement, keys))
        if held is None:
            held = self._rows[(statement, keys)] = []
        held.append(row)

    def _flush_inserts(self) -> None:
        if self._inserts:
            held, self._inserts = self._inserts, {}
            for (table, keys), rows in held.items():
                if not _executemany(self._conn, ("insert", table, keys), table.insert(), keys, rows):
                    self._conn.execute(table.insert(), rows)
        if self._rows:
            tuples, self._rows = self._rows, {}
            for (statement, keys), values in tuples.items():
                if not _executemany_rows(self._conn, statement, keys, values):
                    self._conn.execute(statement, [dict(zip(keys, v, strict=True)) for v in values])

    def _flush_run(self) -> None:
        run, self._run = self._run, None
        if run is not None:
            keys = tuple(run[1][0])
            if any(tuple(r) != keys for r in run[1]) or not _executemany(
                    self._conn, ("update", run[0], keys), run[0], keys, run[1]):
                self._conn.execute(run[0], run[1])

    def flush(self) -> None:
        self._flush_inserts()
        self._flush_run()

    def __getattr__(self, name: str) -> Any:
        if name in ("_inserts", "_rows", "_run", "_conn"):
            raise AttributeError(name)
        self.flush()
        return getattr(self._conn, name)


# (dialect, kind, table or statement, parameter names) -> (SQL, per placeholder: the row key or a fixed
# value, and the type's bind processor); None: send it through SQLAlchemy (a default to fill in)
_Plan = tuple[str, list[tuple[bool, Any, Callable[[Any], Any] | None]]]
_PLANS: dict[tuple[str, tuple[Any, ...]], _Plan | None] = {}
_PYFORMAT = re.compile(r"%\((\w+)\)s")


def _plan(conn: Any, key: tuple[Any, ...], statement: Any, keys: tuple[str, ...]) -> _Plan | None:
    """The statement compiled once for the DB-API, with positional placeholders on both backends."""
    dialect = conn.dialect
    cache_key = (dialect.name, key)
    if cache_key in _PLANS:
        return _PLANS[cache_key]
    if len(_PLANS) > 1000:  # statements built per call (not cached by their view) must not pile up
        _PLANS.clear()
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    names: list[str] = []
    if compiled.positional:
        sql, names = compiled.string, list(compiled.positiontup or ())
    elif dialect.paramstyle == "pyformat":
        def positional(m: re.Match[str]) -> str:
            names.append(m.group(1))
            return "%s"
        sql = _PYFORMAT.sub(positional, compiled.string)
    else:  # pragma: no cover - neither sqlite3 nor psycopg
        _PLANS[cache_key] = None
        return None
    fixed = compiled.construct_params(_check=False)
    procs = compiled._bind_processors
    steps: list[tuple[bool, Any, Callable[[Any], Any] | None]] = []
    plan: _Plan | None = (sql, steps)
    for n in names:
        if n in keys:
            steps.append((True, n, procs.get(n)))
        elif isinstance(statement, Insert):  # a column default SQLAlchemy would fill in
            plan = None
            break
        else:  # a value bound in the statement itself (`status = 'planned'`, `attempts + 1`)
            p = procs.get(n)
            steps.append((False, p(fixed[n]) if p else fixed[n], None))
    _PLANS[cache_key] = plan
    return plan


def _executemany(conn: Connection, key: tuple[Any, ...], statement: Any, keys: tuple[str, ...],
                 rows: list[dict[str, Any]]) -> bool:
    """Send rows of one statement (parameter dicts, each with exactly `keys`) as one DB-API
    executemany of tuples, values passed through the same bind processors SQLAlchemy would apply
    (JSON text, booleans): the stored rows are the same, without SQLAlchemy's per-row parameter work
    (rebuild speed). False: not possible, the caller sends it through SQLAlchemy."""
    plan = _plan(conn, key, statement, keys)
    if plan is None:
        return False
    sql, steps = plan
    data: list[Any]
    if all(from_row for from_row, _, _ in steps):  # a plain insert: pick the values, process a few columns
        pick = itemgetter(*[v for _, v, _ in steps])
        data = [pick(r) for r in rows] if len(steps) > 1 else [(pick(r),) for r in rows]
        procs = [(i, p) for i, (_, _, p) in enumerate(steps) if p is not None]
        if procs:
            for j, row in enumerate(data):
                out = list(row)
                for i, p in procs:
                    out[i] = p(out[i])
                data[j] = out
    else:
        data = [tuple((p(r[v]) if p else r[v]) if from_row else v for from_row, v, p in steps) for r in rows]
    _send(conn, sql, data)
    return True


# (dialect, insert, keys) -> (SQL, which value of a row goes to each placeholder (None: in order),
# the bind processors to apply by placeholder); None: send it through SQLAlchemy
_RowPlan = tuple[str, Callable[[tuple[Any, ...]], Any] | None, list[tuple[int, Callable[[Any], Any]]]]
_ROW_PLANS: dict[tuple[str, Any, tuple[str, ...]], _RowPlan | None] = {}


def _executemany_rows(conn: Connection, statement: Insert, keys: tuple[str, ...],
                      rows: list[tuple[Any, ...]]) -> bool:
    """`_executemany` for rows given as tuples in the order of `keys` (`insert_row`): no dict per
    row, the values reordered only if the compiled statement wants another order, bind processors
    applied except the Booleans' (`insert_row`: bools go as they are; on SQLite as the 1 or 0 sqlite3
    stores for them: it binds an exact int directly, a bool only after an adapter look-up)."""
    cache_key = (conn.dialect.name, statement, keys)
    if cache_key not in _ROW_PLANS:
        if len(_ROW_PLANS) > 1000:
            _ROW_PLANS.clear()
        plan = _plan(conn, ("rows", statement, keys), statement, keys)
        row_plan: _RowPlan | None = None
        if plan is not None and all(from_row for from_row, _, _ in plan[1]):
            where = [keys.index(name) for _, name, _ in plan[1]]
            columns = statement.table.c
            procs: list[tuple[int, Callable[[Any], Any]]] = []
            for i, (_, name, p) in enumerate(plan[1]):
                if isinstance(columns[name].type, Boolean):
                    if conn.dialect.name == "sqlite":
                        procs.append((i, _bool_int))
                elif isinstance(columns[name].type, JSON) and p is not None and conn.dialect.name == "sqlite":
                    procs.append((i, _json_bind(conn.dialect, p)))
                elif p is not None:
                    procs.append((i, p))
            # every key is a placeholder: one key is in order, several may need reordering
            row_plan = (plan[0], None if where == list(range(len(keys))) else itemgetter(*where), procs)
        _ROW_PLANS[cache_key] = row_plan
    row_plan = _ROW_PLANS[cache_key]
    if row_plan is None:
        return False
    sql, order, procs = row_plan
    data: list[Any] = rows if order is None else [order(r) for r in rows]
    if procs:
        out = []
        for r in data:
            v = list(r)
            for i, p in procs:
                v[i] = p(v[i])
            out.append(v)
        data = out
    _send(conn, sql, data)
    return True


def _json_bind(dialect: Any, process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A JSON column's bind processor on SQLite without its two wrapping calls: a dict or list goes
    straight to orjson as the engine's serialiser (_JSONText) sends it; anything else (None, NULL, a
    value orjson refuses) through SQLAlchemy's own processor. The same text either way."""
    serializer = getattr(dialect, "_json_serializer", None)
    if type(serializer) is not _JSONText or serializer._fast is None:
        return process
    dumps, option = serializer._fast, serializer._options

    def bind(value: Any) -> Any:
        if type(value) is dict or type(value) is list:
            try:
                return dumps(value, option=option).decode()
            except TypeError:  # orjson.JSONEncodeError
                pass
        return process(value)

    return bind


def _bool_int(value: Any) -> Any:
    """A bool as the int sqlite3 would store for it (the same row, a cheaper bind); anything else as it is."""
    return int(value) if type(value) is bool else value


def _send(conn: Connection, sql: str, data: list[Any]) -> None:
    cur = conn.connection.cursor()
    try:
        cur.executemany(sql, data)
    finally:
        cur.close()


_UNSEEN: Any = object()


def _notifications_sql(recorder: Any, topics: int = 0) -> str | None:
    """The SELECT of eventsourcing's SQLiteApplicationRecorder.select_notifications (start, stop, limit),
    when the recorder reads notifications as that one does (not overridden) with UUID originator ids;
    with `topics` placeholders after `stop` for the topics to read (none: every topic)."""
    if not isinstance(recorder, SQLiteApplicationRecorder) or \
            type(recorder).select_notifications is not SQLiteApplicationRecorder.select_notifications or \
            getattr(recorder.datastore, "originator_id_type", None) != "uuid":
        return None
    only = f" AND topic IN ({','.join('?' * topics)})" if topics else ""
    return (f"SELECT rowid, originator_id, originator_version, topic, state FROM {recorder.events_table_name} "
            f"WHERE rowid>=? AND rowid<=?{only} ORDER BY rowid LIMIT ?")


_UNKNOWN = SafeUUID.unknown  # read once (an enum member looked up on its class costs a descriptor call)


def _uuid(text: str) -> UUID:
    """UUID(text) for the stored 32 hex digits, without its parsing; anything else goes to UUID itself."""
    if len(text) == 32 and text.isalnum():
        try:
            value = int(text, 16)
        except ValueError:
            return UUID(text)
        u = object.__new__(UUID)
        object.__setattr__(u, "int", value)
        object.__setattr__(u, "is_safe", _UNKNOWN)
        return u
    return UUID(text)


def is_locked_error(e: Exception) -> bool:
    return isinstance(e, OperationalError) and "locked" in str(e).lower()


__all__ = ["ProjectionError", "Projector", "View", "make_engine", "text"]
