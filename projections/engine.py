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

import re
from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, create_engine, event, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.sql.dml import Insert, Update

from huifang.core.errors import HuifangError
from huifang.core.plugin_api.views import View

BATCH = 1000

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


def make_engine(store: Any) -> Engine:
    if store.kind == "sqlite":
        engine = create_engine(store.sqlalchemy_url(), connect_args={"timeout": 30})

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
    return create_engine(store.sqlalchemy_url(), connect_args=args, pool_pre_ping=True)


class Projector:
    def __init__(self, app: Any, views: Iterable[View], engine: Engine):
        self.app = app
        self.views = {v.name: v for v in views}
        self.engine = engine
        self._ready = False

    # -- schema -----------------------------------------------------------------------------
    def ensure(self) -> None:
        if self._ready:
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

    # -- secondary indexes: dropped for a rebuild from zero, made again at its end ------------------------
    def _secondary(self, names: Iterable[str]) -> list[Index]:
        """The views' non-unique indexes: views look rows up by key or unique index only, so a
        rebuild can fill the tables without them and index each table once at the end."""
        return [ix for n in names for t in self.views[n].tables() for ix in t.indexes if not ix.unique]

    def _index_names(self, conn: Connection) -> set[str] | None:
        if conn.dialect.name == "sqlite":
            return {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'"))}
        if conn.dialect.name == "postgresql":
            return {r[0] for r in conn.execute(text(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"))}
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
        self.ensure()
        views = [self.views[n] for n in (names or self.views)]
        head = self.head()
        read = 0
        while True:
            with self.engine.connect() as conn:
                pos = {r.view: r.position for r in conn.execute(select(positions))}
            start = min(pos.get(v.name, 0) for v in views)
            if start >= head:
                return read
            notes = self.app.recorder.select_notifications(start=start + 1, limit=BATCH, stop=head)
            if not notes:
                return read
            try:
                self._apply(views, pos, notes)
            except _Raced:
                continue  # another worker advanced first: re-read positions and go on
            read += len(notes)
            if progress:
                progress(notes[-1].id, head)
            if stop_after is not None and read >= stop_after:
                return read

    def _apply(self, views: list[View], pos: dict[str, int], notes: list[Any]) -> None:
        mapper = self.app.mapper
        decoded: dict[int, Any] = {}  # decode each stored event once, however many views read it
        with self.engine.begin() as conn:
            # claim first (scale-out: two workers at once): a no-op compare-and-set takes the position
            # row's lock (PostgreSQL) / the write lock (SQLite) before any row is written, so the
            # slower worker waits, sees the moved position and re-reads instead of colliding on keys
            for v in views:
                p = pos.get(v.name, 0)
                if any(n.id > p for n in notes):
                    claim = conn.execute(update(positions).where(positions.c.view == v.name)
                                         .where(positions.c.position == p).values(position=p))
                    if claim.rowcount != 1:
                        raise _Raced()
            for v in views:
                p = pos.get(v.name, 0)
                todo = [n for n in notes if n.id > p]
                if not todo:
                    continue
                out = _Buffered(conn)  # bulk import: a batch's plain inserts go out as one executemany per table
                topics = v.topics
                for n in todo:
                    if topics is not None and n.topic not in topics:
                        continue
                    e = decoded.get(n.id)
                    if e is None:
                        e = decoded[n.id] = _decode(mapper, n)
                    try:
                        v.handle(cast(Connection, out), e, n.id)  # a proxy: other attributes pass through
                    except Exception as exc:
                        raise _failed(v, f"on event {n.id} ({n.topic})", exc) from exc
                try:
                    out.flush()
                except Exception as exc:
                    raise _failed(v, f"writing events up to {todo[-1].id}", exc) from exc
                res = conn.execute(update(positions).where(positions.c.view == v.name)
                                   .where(positions.c.position == p).values(position=todo[-1].id))
                if res.rowcount != 1:
                    raise _Raced()

    def rebuild(self, names: Iterable[str] | None = None,
                progress: Callable[[int, int], None] | None = None) -> int:
        self.ensure()
        chosen = list(names or self.views)
        dropped: list[Index] = []
        with self.engine.begin() as conn:
            for n in chosen:
                self._clear(conn, self.views[n])
            # from zero: fill without the secondary indexes, build each once at the end (a kill
            # in between leaves them to the next start's ensure())
            have = self._index_names(conn) or set()
            for ix in self._secondary(chosen):
                if ix.name in have and self._ddl(conn, ix.drop):
                    dropped.append(ix)
        try:
            return self.catch_up(progress=progress, names=chosen)
        finally:
            if dropped:
                with self.engine.begin() as conn:
                    for ix in dropped:
                        self._ddl(conn, ix.create)


class _Raced(Exception):
    pass


def _failed(v: View, where: str, exc: Exception) -> ProjectionError:
    return ProjectionError(
        f"view '{v.name}' failed {where}: {type(exc).__name__}: "
        f"{str(exc).splitlines()[0] if str(exc) else ''}; nothing of this batch was "
        f"written — fix the view and run 'huifang projections rebuild {v.name}'")


class _Buffered:
    """The connection a view's `handle` writes through during catch-up (rebuild speed at scale).

    Statements whose values come as a parameter dict are held back and sent as ONE executemany:
    plain inserts (`conn.execute(table.insert(), {...})`) grouped per table and column set, and a
    run of the same bound UPDATE (core_views.set_row). Order is kept wherever it matters: inserts
    are sent before any update or other statement, a held update run before any insert or other
    statement, so a view always reads and updates what it wrote before. The engine flushes before it
    advances the view's position, in the same transaction: crash safety is unchanged. A held
    statement's result is None; everything else passes through."""

    def __init__(self, conn: Connection):
        self._conn = conn
        self._inserts: dict[tuple[Any, tuple[str, ...]], list[dict[str, Any]]] = {}
        self._run: tuple[Any, list[dict[str, Any]]] | None = None

    def execute(self, statement: Any, parameters: Any = None, **kw: Any) -> Any:
        if isinstance(parameters, dict) and not kw:
            if (isinstance(statement, Insert) and not statement._values and not statement._multi_values
                    and not statement._returning and statement.select is None):
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

    def _flush_inserts(self) -> None:
        held, self._inserts = self._inserts, {}
        for (table, keys), rows in held.items():
            if not _executemany(self._conn, ("insert", table, keys), table.insert(), keys, rows):
                self._conn.execute(table.insert(), rows)

    def _flush_run(self) -> None:
        run, self._run = self._run, None
        if run is not None:
            keys = tuple(run[1][0])
            if not _executemany(self._conn, ("update", run[0], keys), run[0], keys, run[1]):
                self._conn.execute(run[0], run[1])

    def flush(self) -> None:
        self._flush_inserts()
        self._flush_run()

    def __getattr__(self, name: str) -> Any:
        if name in ("_inserts", "_run", "_conn"):
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
    """Send rows of one statement as one DB-API executemany of tuples, values passed through the
    same bind processors SQLAlchemy would apply (JSON text, booleans): the stored rows are the same,
    without SQLAlchemy's per-row parameter work (rebuild speed). False: not possible, the caller
    sends it through SQLAlchemy."""
    plan = _plan(conn, key, statement, keys)
    if plan is None or any(tuple(r) != keys for r in rows):
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
    cur = conn.connection.cursor()
    try:
        cur.executemany(sql, data)
    finally:
        cur.close()
    return True


def _decode(mapper: Any, notification: Any) -> Any:
    return mapper.to_domain_event(notification)


def is_locked_error(e: Exception) -> bool:
    return isinstance(e, OperationalError) and "locked" in str(e).lower()


__all__ = ["ProjectionError", "Projector", "View", "make_engine", "text"]
