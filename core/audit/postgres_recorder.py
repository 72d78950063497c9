"""The chaining application recorder for PostgreSQL stores (see recorders.py).

Apart from recorders.py because it imports psycopg (about a quarter of a second of start-up): it is
loaded only when eventsourcing resolves APPLICATION_RECORDER_TOPIC for a PostgreSQL store.
"""
from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import psycopg
from eventsourcing.persistence import (
    DatabaseError,
    DataError,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    PersistenceError,
    ProgrammingError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder
from eventsourcing.utils import retry
from psycopg.pq import TransactionStatus
from psycopg.sql import SQL, Composable, Identifier, Literal

from .chain import Mark
from .recorders import CHAIN, HEAD, KEYS, MARK_QUERY, ChainMixin, GroupBarrier, RunAlone, table_statements

T = TypeVar("T")
# psycopg's errors as eventsourcing's PostgresDatastore.get_connection maps them (subclasses first), so
# the group's held connection raises what a pooled one would (IntegrityError -> ConflictError, ...)
_MAPPED: tuple[tuple[type[Exception], type[Exception]], ...] = (
    (psycopg.InterfaceError, InterfaceError), (psycopg.OperationalError, OperationalError),
    (psycopg.DataError, DataError), (psycopg.IntegrityError, IntegrityError), (psycopg.InternalError, InternalError),
    (psycopg.ProgrammingError, ProgrammingError), (psycopg.NotSupportedError, NotSupportedError),
    (psycopg.DatabaseError, DatabaseError), (psycopg.Error, PersistenceError))


@dataclass
class _Group:
    """One commit group: the connection and transaction it holds, what its jobs wrote so far."""

    thread: int
    conn: Any
    ids: list[int] = field(default_factory=list)
    stored: list[StoredEvent] = field(default_factory=list)
    created: dict[str, bytes] = field(default_factory=dict)
    destroyed: set[str] = field(default_factory=set)
    locked: float | None = None  # time.monotonic() of its first save: the table lock is held since

# the owner's SECURITY DEFINER function taking the log's EXCLUSIVE lock for staff roles (G8; its SQL:
# core/identity.py grant_statements)
LOCK_FUNCTION = "huifang_lock_events"
# the comment on the head table naming the DDL that made the store: a start-up that finds its own DDL's
# stamp runs none of it (no CREATE OR REPLACE FUNCTION, no index checks taking table locks per command)
DDL_STAMP = "huifang ddl "


class ChainedPostgresRecorder(ChainMixin, PostgresApplicationRecorder):
    POS = "notification_id"
    COMBINED_WRITE = True

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # eventsourcing's per-command statements as one literal each, made once: composed per call, their
        # identifiers were escaped again on every execute (a fifth of an aggregate read's CPU)
        self.select_events_statement = SQL(self.select_events_statement.as_string(None))  # type: ignore[assignment]
        self.insert_events_statement = SQL(self.insert_events_statement.as_string(None))  # type: ignore[assignment]
        self.max_notification_id_statement = SQL(  # type: ignore[assignment]
            self.max_notification_id_statement.as_string(None))
        self.lock_table_statements = [SQL(s.as_string(None)) if isinstance(s, Composable) else s
                                      for s in self.lock_table_statements]
        self._init_chain()
        self.sql_create_statements.extend(self.q(s) for s in table_statements("postgres"))
        self._group: _Group | None = None
        self._marked: tuple[Any, Mark | None] | None = None  # (cursor, the mark its save's lock statement read)
        # the group's thread gets the group's held connection from the datastore (reads see the group's
        # own writes); every other thread, and this one outside a group, a pooled one as before
        self._pooled = self.datastore.get_connection
        self.datastore.get_connection = self._connection  # type: ignore[method-assign]

    def q(self, sql: str) -> Any:
        memo: dict[str, Any] = self.__dict__.setdefault("_q_memo", {})  # made once per text, as above
        if (hit := memo.get(sql)) is not None:
            return hit
        s = self.datastore.schema
        text = (sql.replace("?", "%s").replace("{chain}", "{0}").replace("{keys}", "{1}").replace("{events}", "{2}")
                .replace("{head}", "{3}"))
        made = SQL(SQL(text).format(Identifier(s, CHAIN), Identifier(s, KEYS), Identifier(s, self.events_table_name),
                                    Identifier(s, HEAD)).as_string(None))
        if len(memo) < 1024:  # texts are the module's own (a key read per chunk size at most): bounded anyway
            memo[sql] = made
        return made

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        g = self._active()
        if g is not None:
            return self._insert_in_group(g, stored_events, **kwargs)
        return self._insert_alone(stored_events, **kwargs)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def _insert_alone(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        def go() -> Sequence[int] | None:
            ids: Sequence[int] | None = None
            with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
                if stored_events:
                    self._insert_stored_events(curs, stored_events, **kwargs)  # takes the table lock
                    ids = self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
                elif self.key_writes or self.erasures:
                    self._lock_table(curs)
                self._after_insert(curs, ids, stored_events)
            return ids

        return self._around_insert(go)

    def _read(self) -> Any:
        """A read's transaction ends in COMMIT, not ROLLBACK: psycopg forgets every statement it prepared on
        a connection at a ROLLBACK (DEALLOCATE ALL), so one key read per `subject add` made the next
        statements on that connection be parsed and planned afresh."""
        return self.datastore.transaction(commit=True)

    @contextlib.contextmanager
    def _read_one(self) -> Iterator[Any]:
        """One statement on the connection as it is (autocommit, as eventsourcing's own reads; in a commit
        group, the group's transaction): no BEGIN and COMMIT round trips around it."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            yield curs

    # -- group commit (`huifang serve` on PostgreSQL; service/group.py) ------------------------------
    # Several queued commands run as ONE transaction on one held connection: one table-lock hold, one
    # chain block and one high-water mark for all their records, one commit. Each save is a savepoint
    # (as each save alone is a transaction: a refused or conflicting save is rolled back, the saves
    # before it stand), each command a savepoint around its saves (rolled back whole when it must run
    # alone instead). The block and the mark are written once, at the group's end.
    def _active(self) -> _Group | None:
        g = self._group
        return g if g is not None and g.thread == threading.get_ident() else None

    @contextlib.contextmanager
    def _connection(self) -> Iterator[Any]:
        g = self._active()
        if g is None:
            with self._pooled() as conn:
                yield conn
            return
        try:
            yield g.conn
        except psycopg.Error as e:
            mapped = next(to for frm, to in _MAPPED if isinstance(e, frm))
            raise mapped(str(e)) from e

    @contextlib.contextmanager
    def group(self) -> Iterator[None]:
        """One commit group on this thread: commits on a clean exit, after writing the group's block and
        mark; on any failure nothing of it is written and the error is raised (unless the commit failed
        after reaching the server: the stored mark is the group's, so it is written)."""
        if self._group is not None:
            raise RuntimeError("a commit group is already open")
        sealed: Mark | None = None
        g: _Group | None = None
        try:
            with self._pooled() as conn, conn.transaction():
                g = self._group = _Group(threading.get_ident(), conn)
                try:
                    yield
                    sealed = self._seal_group(g)
                finally:
                    self._group = None
        except Exception:
            if sealed is not None and self._stored_mark_is(sealed):
                return
            if g is not None and g.created and self.on_abort is not None:
                self.on_abort(g.created)  # the keys never reached the store: the key ring forgets them
            raise

    def in_group(self, fn: Callable[[], T]) -> T:
        """fn() as one job of the open group, in its own savepoint. Its outcome is its own: its value, or
        the error it raised with the saves it made before standing (as they would alone). RunAlone, the
        job rolled back whole, when it read the notification log over the group's uncommitted records
        (GroupBarrier) or left the transaction failed."""
        g = self._active()
        if g is None:
            raise RuntimeError("no commit group is open on this thread")
        n, created, destroyed = len(g.ids), dict(g.created), set(g.destroyed)
        failure: Exception | None = None
        value: Any = None
        try:
            with g.conn.transaction():
                try:
                    value = fn()
                except RunAlone:
                    raise
                except Exception as e:
                    if g.conn.info.transaction_status == TransactionStatus.INERROR:
                        raise RunAlone("the transaction failed") from e
                    failure = e
        except (GroupBarrier, RunAlone) as e:
            new = {k: v for k, v in g.created.items() if k not in created}
            del g.ids[n:], g.stored[n:]
            g.created, g.destroyed = created, destroyed
            if new and self.on_abort is not None:
                self.on_abort(new)
            raise RunAlone(str(e) or type(e).__name__) from e
        if failure is not None:
            raise failure
        result: T = value
        return result

    def group_held(self) -> float:
        """Seconds the open group has held the log's table lock (0: it has saved nothing yet)."""
        g = self._active()
        return time.monotonic() - g.locked if g is not None and g.locked is not None else 0.0

    def _insert_in_group(self, g: _Group, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """Insert (taking the table lock, held to the group's commit) and write the key rows in the save's
        own savepoint; the block chaining the records and sealing the key changes waits for the group's
        end. No records: the key changes wait, as they do alone (the next block seals them)."""
        if not stored_events:
            return None
        created, destroyed = dict(self.key_writes), set(self.erasures)
        try:
            with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
                self._insert_stored_events(curs, stored_events, **kwargs)
                ids = list(self._fetch_ids_after_insert_events(curs, stored_events, **kwargs) or [])
                self._write_keys(curs, created, destroyed)
        except BaseException as e:
            self.key_writes.clear()
            self.erasures.clear()
            if self.on_abort is not None:
                self.on_abort(created)
            if isinstance(e, InterfaceError | OperationalError):  # a lock timeout, a lost connection: alone,
                raise GroupBarrier(f"the store failed under the save: {e}") from e  # the save is retried
            raise
        for k in created:
            self.key_writes.pop(k, None)
        self.erasures -= destroyed
        if g.locked is None:
            g.locked = time.monotonic()
        g.ids.extend(ids)
        g.stored.extend(stored_events)
        g.created.update(created)
        g.destroyed |= destroyed
        return ids

    def _seal_group(self, g: _Group) -> Mark | None:
        """The group's one chain block over all its records, sealing all its key changes, and the mark."""
        if not (self.chaining and g.ids):
            return None
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            self._append_block(curs, g.ids, g.stored, g.created, g.destroyed)
        return self._written

    def _stored_mark_is(self, mark: Mark) -> bool:
        try:
            with self._read() as curs:
                return self._read_mark(curs) == mark
        except Exception:
            return False

    def max_notification_id(self) -> int | None:
        if (g := self._active()) is not None and g.ids:
            raise GroupBarrier("the notification log was read over the group's uncommitted records")
        return super().max_notification_id()

    def select_notifications(self, start: int | None, limit: int, stop: int | None = None,
                             topics: Sequence[str] = (), *, inclusive_of_start: bool = True) -> Any:
        if (g := self._active()) is not None and g.ids:
            raise GroupBarrier("the notification log was read over the group's uncommitted records")
        return super().select_notifications(start, limit, stop, topics, inclusive_of_start=inclusive_of_start)

    # -- least privilege (G8): staff login roles may neither create tables nor UPDATE the log -------
    _lock_function: Any = None  # SQL calling the owner's lock function, when this role must use it
    session_role: tuple[str, bool, bool] | None = None  # (session_user, superuser, owns the log)

    def create_table(self) -> None:
        """A staff login role (core/identity.py grant_statements) has no CREATE on the schema, and
        PostgreSQL refuses even CREATE ... IF NOT EXISTS of an existing table without it: such a role
        uses the tables as the store's owner made them. It cannot take the log's EXCLUSIVE lock either
        (that needs UPDATE or DELETE): it takes it through the owner's SECURITY DEFINER function."""
        schema = self.datastore.schema or "public"
        events = f'"{schema}"."{self.events_table_name}"'
        head = f'"{schema}"."{HEAD}"'
        stamp = self._ddl_stamp()
        with self.datastore.transaction(commit=False) as curs:
            curs.execute("SELECT has_schema_privilege(%s, 'CREATE') AS creates, to_regclass(%s) IS NOT NULL AS made, "
                         "CASE WHEN to_regclass(%s) IS NULL THEN true "
                         "ELSE has_table_privilege(to_regclass(%s), 'UPDATE') END AS updates, "
                         "obj_description(to_regclass(%s), 'pg_class') AS stamp, session_user AS who, "
                         "(SELECT rolsuper FROM pg_roles WHERE rolname = session_user) AS super, "
                         "COALESCE(pg_has_role(session_user, (SELECT relowner FROM pg_class WHERE oid = "
                         "to_regclass(%s)), 'MEMBER'), false) AS owner",
                         (schema, events, events, events, head, events))
            row = curs.fetchone()
        if row is not None and row["made"]:  # who this connection is (core/identity.py), asked in the same trip
            self.session_role = (str(row["who"]), bool(row["super"]), bool(row["owner"]))
        if row is not None and row["made"] and row["stamp"] == stamp:
            self.datastore.register_type_adapters()  # made by this very DDL: nothing to create or upgrade
        elif row is None or row["creates"] or not row["made"]:
            super().create_table()  # the owner (or a store not made yet: the server says why not)
            if row is not None and row["creates"]:
                with self.datastore.transaction(commit=True) as curs:
                    curs.execute(SQL("COMMENT ON TABLE {} IS {}").format(Identifier(schema, HEAD), Literal(stamp)))
        else:
            self.datastore.register_type_adapters()
        if row is not None and not row["updates"]:
            self._lock_function = SQL("SELECT {}.{}()").format(Identifier(schema), Identifier(LOCK_FUNCTION))

    def _ddl_stamp(self) -> str:
        ddl = "\n".join(s.as_string() for s in self.sql_create_statements)
        return DDL_STAMP + hashlib.sha256(ddl.encode()).hexdigest()[:32]

    def _insert_stored_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        """eventsourcing's insert (the table lock, then NOTIFY, then the rows) with its three statements before
        the rows sent as one: two round trips fewer per save."""
        curs.execute(self._lock_and_notify())
        if self.chaining:  # the mark, read under the lock just taken: the block's _chain_end uses it
            while curs.nextset():
                pass
            self._marked = (curs, self._mark_of(curs.fetchone()))
        PostgresAggregateRecorder._insert_stored_events(self, curs, stored_events, **kwargs)

    def _lock_and_notify(self) -> Any:
        memo: dict[tuple[bool, bool], Any] = self.__dict__.setdefault("_lock_memo", {})
        own, chaining = self._lock_function is None, bool(self.chaining)
        if (hit := memo.get((own, chaining))) is None:
            lock = self.lock_table_statements[1] if own else self._lock_function
            parts: list[Any] = [self.lock_table_statements[0], lock,
                                SQL("NOTIFY {0}").format(Identifier(self.channel_name))]
            if chaining:
                parts.append(self.q(MARK_QUERY))
            hit = memo[own, chaining] = SQL("; ".join(part.as_string(None) for part in parts))
        return hit

    def _read_mark(self, c: Any) -> Mark | None:
        marked, self._marked = self._marked, None
        if marked is not None and marked[0] is c:  # read by this save's first statement, under the lock
            return marked[1]
        return super()._read_mark(c)

    def _lock_table(self, curs: Any) -> None:
        if self._lock_function is None:
            super()._lock_table(curs)
            return
        curs.execute(self.lock_table_statements[0])  # SET LOCAL lock_timeout
        curs.execute(self._lock_function)
