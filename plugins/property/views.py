"""The property report view: each property follow-up with its plan meta (worker, unit, category,
designer/inspector/crew) and its survey answers, so P2, P8 and P9 reports need no event replay."""
from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column, Index, MetaData, String, Table, update
from sqlalchemy.engine import Connection

from huifang.core.plugin_api.views import FollowUpView, ts

metadata = MetaData()
visits = Table(
    "property_visits", metadata,
    Column("code", String(200), primary_key=True),
    Column("oid", String(36), nullable=False, unique=True),
    Column("subject", String(100), nullable=False),
    Column("trigger", String(200), nullable=False),
    Column("trigger_kind", String(100), nullable=False),
    Column("visit_type", String(100), nullable=False),
    Column("key", String(100), nullable=False),
    Column("status", String(20), nullable=False),
    Column("planned_at", String(30), nullable=False),
    Column("due", String(30), nullable=False),
    Column("completed_at", String(30)),
    Column("meta", JSON),
    Column("answers", JSON),
    Index("ix_property_visits_type", "visit_type", "completed_at"),
    Index("ix_property_visits_trigger", "trigger"),
)
INSERT = visits.insert()  # built once: a rebuild inserts a row per follow-up


class PropertyView(FollowUpView):
    name = "property"
    version = 1
    metadata = metadata
    plugin = "property"

    def planned(self, conn: Connection, e: Any) -> None:
        conn.execute(INSERT, dict(
            code=e.code, oid=str(e.originator_id), subject=e.subject, trigger=e.trigger,
            trigger_kind=e.trigger_kind, visit_type=e.visit_type, key=e.key, status="planned",
            planned_at=ts(e.timestamp), due=ts(e.due),
            meta={k: v for k, v in (e.meta or {}).items() if k != "window_rule"}))

    def completed(self, conn: Connection, e: Any) -> None:
        conn.execute(update(visits).where(visits.c.oid == str(e.originator_id)).values(
            status="completed", completed_at=ts(e.timestamp), answers=e.answers))

    def closed(self, conn: Connection, e: Any) -> None:
        conn.execute(update(visits).where(visits.c.oid == str(e.originator_id)).values(status=e.status))
