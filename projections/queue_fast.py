"""The due queue's query, shared by the read side and by a read-only fast path for `huifang queue`.

`queue_query` is the page's SQL with named parameters (`:name`, which both the stdlib sqlite3 and
SQLAlchemy's `text()` bind): ViewsReadSide.queue runs it on either backend after catching the views
up. `read_queue` runs the same SQL with the stdlib sqlite3 alone, on a read-only connection, when
the store is a SQLite file whose core view is current (at the log's head and of this code's
version); otherwise it answers None and the caller takes the full path. Operators run the queue
dozens of times an hour: this module imports no SQLAlchemy, eventsourcing or plugin, so the
command costs a fraction of opening the application.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from huifang.core.status import OPEN_ORDER

CORE_VIEW = "core"  # core_views.CoreView.name: the view that fills `followups`
CORE_VIEW_VERSION = 5  # core_views.CoreView.version (tests/test_queue_fast.py keeps the two equal)
ID_NAMESPACE = uuid5(NAMESPACE_URL, "https://huifang.example/ids")  # core/domain/base.NAMESPACE
EVENTS_TABLE = "stored_events"  # eventsourcing's SQLite events table; the rowid is the notification id
# the columns read, in core/ports.QueueRow's order (no JSON columns, no aggregates)
QUEUE_COLUMNS = ("code", "subject", "plugin", "visit_type", "status", "window_open", "due", "owner", "channel",
                 "attempts", "next_attempt_at", "provisional")


def utc_text(dt: datetime) -> str:
    """An instant as the views store it (plugin_api.views.ts): UTC ISO text, which sorts as a string."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def queue_query(until: datetime, agent: str | Sequence[str] | None = None, due_before: datetime | None = None,
                limit: int | None = None) -> tuple[str, dict[str, Any]]:
    """SQL and parameters of one page of the due queue: open follow-ups whose window opens before
    `until` (of `agent`, or of any of several owners — a team; due before `due_before`), soonest
    deadline first, at most `limit` rows (None or 0: all). One agent's page is read through the
    index on (owner, due)."""
    params: dict[str, Any] = {f"status{i}": str(s) for i, s in enumerate(OPEN_ORDER)}
    where = [f"status IN ({', '.join(':' + k for k in params)})", "window_open < :until"]
    params["until"] = utc_text(until)
    if isinstance(agent, str) and agent:
        where.append("owner = :agent")
        params["agent"] = agent
    elif agent is not None and not isinstance(agent, str):
        owners = {f"owner{i}": a for i, a in enumerate(dict.fromkeys(agent))}
        where.append(f"owner IN ({', '.join(':' + k for k in owners)})" if owners else "1 = 0")
        params.update(owners)
    if due_before is not None:
        where.append("due < :due_before")
        params["due_before"] = utc_text(due_before)
    sql = f"SELECT {', '.join(QUEUE_COLUMNS)} FROM followups WHERE {' AND '.join(where)} ORDER BY due, code"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return sql, params


def staff_id(code: str) -> str:
    """The stored originator id of staff member `code` (core/domain/base.aggregate_uuid, as hex)."""
    return uuid5(ID_NAMESPACE, f"staff:{code}").hex


def read_queue(path: str, until: datetime, agent: str | None = None, due_before: datetime | None = None,
               limit: int | None = None) -> list[tuple[Any, ...]] | None:
    """The page from the SQLite file `path` without writing to it, or None when the core view is
    missing, of another version or behind the log (the full path then catches it up), or the file
    cannot be read as a huifang store. Position, head and rows are read in one transaction, so they
    are one snapshot even while another process writes."""
    file = Path(path)
    if not file.is_file():
        return None
    sql, params = queue_query(until, agent, due_before, limit)
    try:
        con = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return None
    try:
        con.execute("BEGIN")
        view = con.execute('SELECT position, version FROM view_positions WHERE "view" = ?', (CORE_VIEW,)).fetchone()
        head = con.execute(f"SELECT MAX(rowid) FROM {EVENTS_TABLE}").fetchone()[0] or 0
        if view is None or view[1] != CORE_VIEW_VERSION or view[0] != head:
            return None
        if agent and con.execute(f"SELECT 1 FROM {EVENTS_TABLE} WHERE originator_id = ? LIMIT 1",
                                 (staff_id(agent),)).fetchone() is None:
            return None  # not registered staff: the full path says so
        return con.execute(sql, params).fetchall()
    except sqlite3.Error:
        return None
    finally:
        con.close()
