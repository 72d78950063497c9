"""The read side the core asks for (core/ports.ReadSide), answered from the engine's views, and
`open_app`, the one place an application is composed with it.

ViewsReadSide is the projector itself (it keeps the views up to the log) plus the questions the
commands ask; each question first catches the views up, so it sees every committed event.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Column, Integer, MetaData, String, Table, inspect, select, text, update
from sqlalchemy.engine import Connection

from huifang.core.contract import SubjectInfo
from huifang.core.domain import Staff, Subject
from huifang.core.ports import FollowUpRecord, History, ImportRun, QueueRow, StaffInfo, TickWork, TriggerRecord
from huifang.core.status import OPEN_ORDER, Status
from huifang.core.usecases.plans import subject_info

from .core_views import followups, tickets, triggers, ts
from .engine import Projector, make_engine
from .queue_fast import current_rows, queue_query
from .views import all_views

if TYPE_CHECKING:
    from huifang.core.application import HuifangApp
    from huifang.core.config import Config
    from huifang.core.registry import Registry

STILL_RUNNING = (Status.PLANNED, Status.DUE)  # open and not yet marked overdue
T = TypeVar("T")

# how far each bulk import got (core/importer.py): kept beside the views, never in the event log
import_metadata = MetaData()
import_runs = Table(
    "import_runs", import_metadata,
    Column("key", String(64), primary_key=True),  # file digest + what + mapping
    Column("file", String(500), nullable=False),
    Column("what", String(20), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("done", Integer, nullable=False),  # every data row up to this number is handled
    Column("imported", Integer, nullable=False),
    Column("status", String(20), nullable=False),  # running | done
)


def open_app(db: str | None = None, config: Config | None = None, *, registry: Registry | None = None,
             extra_plugins: dict[str, Any] | None = None) -> HuifangApp:
    """An application on the store `db` (SQLite path or postgresql:// URL) with its views."""
    from huifang.core.application import HuifangApp

    return HuifangApp(db, config, registry, extra_plugins, read_side=ViewsReadSide)


class ViewsReadSide(Projector):
    def __init__(self, app: HuifangApp):
        super().__init__(app, all_views(app.registry), make_engine(app.store))

    def close(self) -> None:
        self.engine.dispose()

    def history(self) -> History:
        return ViewHistory(self)

    # -- follow-ups ------------------------------------------------------------------------------
    def open_followups_of(self, subject: str) -> list[str]:
        t = followups.c
        return self._codes(select(t.code).where(t.subject == subject, t.status.in_(OPEN_ORDER)))

    def open_provisional_followups(self) -> list[str]:
        t = followups.c
        return self._codes(select(t.code).where(t.provisional.is_(True), t.status.in_(OPEN_ORDER)))

    def followup_owners(self, subject: str) -> list[tuple[str | None, str | None]]:
        t = followups.c
        self.catch_up()
        with self.engine.connect() as conn:
            return [(r.owner, r.department) for r in conn.execute(
                select(t.owner, t.department).where(t.subject == subject).distinct())]

    def followup_records(self, subject: str | None = None) -> list[FollowUpRecord]:
        t = followups.c
        q = select(t.code, t.subject, t.plugin, t.status, t.closed_at, t.planned_at)
        if subject is not None:
            q = q.where(t.subject == subject)
        self.catch_up()
        with self.engine.connect() as conn:
            return [FollowUpRecord(*r) for r in conn.execute(q)]

    def tick_work(self, now: datetime, remind_until: datetime) -> TickWork:
        t = followups.c
        n = ts(now)
        self.catch_up()
        with self.engine.connect() as conn:
            return TickWork(
                to_open=[r.code for r in conn.execute(
                    select(t.code).where(t.status == Status.PLANNED, t.window_open <= n))],
                to_overdue=[r.code for r in conn.execute(
                    select(t.code).where(t.status.in_(STILL_RUNNING), t.due < n))],
                to_remind=[(r.code, r.plugin) for r in conn.execute(
                    select(t.code, t.plugin).where(t.status.in_(STILL_RUNNING), t.reminded.is_(False),
                                                   t.due >= n, t.due <= ts(remind_until)))],
                overdue=[(r.code, r.owner, r.due, r.plugin) for r in conn.execute(
                    select(t.code, t.owner, t.due, t.plugin).where(t.status.in_(OPEN_ORDER), t.due < n,
                                                                   t.owner.is_not(None)))],
                tickets=[r.code for r in conn.execute(
                    select(tickets.c.code).where(tickets.c.status == "open", tickets.c.deadline < n)
                    .order_by(tickets.c.code))])

    def queue(self, until: datetime, agent: str | Sequence[str] | None = None, due_before: datetime | None = None,
              limit: int | None = None) -> list[QueueRow]:
        """The SQL of queue_fast.queue_query, which `huifang queue` also runs without the engine
        when the views are current (one query, so both paths select and order alike)."""
        sql, params = queue_query(until, agent, due_before, limit)
        if self.engine.dialect.name == "sqlite":  # current views: the page in one raw read (queue_fast)
            self.ensure()
            with self.engine.connect() as conn:
                raw = conn.connection.driver_connection
                rows = current_rows(raw, self.views, sql, params) if raw is not None else None
            if rows is not None:
                return [QueueRow._make((*r[:-1], bool(r[-1]))) for r in rows]
        self.catch_up()  # a position read and the head: nothing to apply when the views are current
        with self.engine.connect() as conn:
            return [QueueRow._make((*r[:-1], bool(r[-1]))) for r in conn.execute(text(sql), params)]

    # -- triggers and a subject's records ----------------------------------------------------------
    def trigger_records(self, subject: str) -> list[TriggerRecord]:
        t = triggers.c
        self.catch_up()
        with self.engine.connect() as conn:
            return [TriggerRecord(*r) for r in conn.execute(
                select(t.code, t.plugin, t.occurred_at, t.followups).where(t.subject == subject))]

    def records_of(self, subject: str) -> list[tuple[str, str]]:
        self.catch_up()
        out: list[tuple[str, str]] = []
        with self.engine.connect() as conn:
            for kind, table in (("trigger", triggers), ("followup", followups), ("ticket", tickets)):
                out += [(kind, r.code) for r in conn.execute(
                    select(table.c.code).where(table.c.subject == subject))]
        return out

    # -- bulk import positions ----------------------------------------------------------------------
    def import_run(self, key: str) -> ImportRun | None:
        if not inspect(self.engine).has_table("import_runs"):
            return None  # read only: a refused import writes nothing at all
        r = import_runs.c
        with self.engine.connect() as conn:
            row = conn.execute(select(r.rows, r.done, r.imported, r.status).where(r.key == key)).first()
        return ImportRun(*row) if row is not None else None

    def start_import(self, key: str, file: str, what: str, rows: int) -> None:
        import_metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            if conn.execute(select(import_runs.c.key).where(import_runs.c.key == key)).first() is None:
                conn.execute(import_runs.insert().values(key=key, file=file[:500], what=what, rows=rows, done=0,
                                                         imported=0, status="running"))

    def save_import_position(self, key: str, done: int, imported: int, status: str) -> None:
        from eventsourcing.sqlite import SQLiteDatastore

        datastore = getattr(self.app.recorder, "datastore", None)
        if self.engine.dialect.name == "sqlite" and isinstance(datastore, SQLiteDatastore):
            # through the event store's own connection: a commit by any other connection empties that
            # connection's page cache, which an import keeps its index pages in (store.import_cache)
            with datastore.transaction(commit=True) as c:
                c.execute('UPDATE import_runs SET done = ?, imported = ?, status = ? WHERE "key" = ?',
                          (done, imported, status, key))
            return
        with self.engine.begin() as conn:
            conn.execute(update(import_runs).where(import_runs.c.key == key)
                         .values(done=done, imported=imported, status=status))

    # -- helpers -----------------------------------------------------------------------------------
    def _codes(self, query: Any) -> list[str]:
        self.catch_up()
        with self.engine.connect() as conn:
            return [r.code for r in conn.execute(query)]


class ViewHistory:
    """The history plans and reactions read (core/ports.History): a subject's earlier triggers and
    follow-ups as view rows, and the staff directory; `read` runs a read-only query over the
    caught-up views for deployment-wide figures (e.g. F5's fallback share)."""

    def __init__(self, read_side: ViewsReadSide):
        self.read_side = read_side

    def read(self, query: Callable[[Connection], T]) -> T:
        self.read_side.catch_up()
        with self.read_side.engine.connect() as conn:
            return query(conn)

    def triggers(self, subject: str, kind: str | None = None) -> list[dict[str, Any]]:
        t = triggers
        q = select(t).where(t.c.subject == subject)
        if kind:
            q = q.where(t.c.kind == kind)
        self.read_side.catch_up()
        with self.read_side.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q.order_by(t.c.occurred_at))]

    def followups(self, subject: str) -> list[dict[str, Any]]:
        t = followups
        self.read_side.catch_up()
        with self.read_side.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(
                select(t).where(t.c.subject == subject).order_by(t.c.window_open))]

    def staff(self, code: str) -> StaffInfo | None:
        s = self.read_side.app.find(Staff, code)
        return None if s is None else {"id": s.code, "role": s.role, "dept": s.dept, "reports_to": s.reports_to}

    def subject(self, code: str) -> SubjectInfo | None:
        app = self.read_side.app
        s = app.find(Subject, code)
        return None if s is None else subject_info(s, app.keyring)

    def triggers_of_kind(self, kind: str) -> list[dict[str, Any]]:
        t = triggers
        self.read_side.catch_up()
        with self.read_side.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(t).where(t.c.kind == kind).order_by(t.c.occurred_at))]
