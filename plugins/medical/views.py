"""The medical plugin's read model: answers of its follow-ups (the engine's `followups` table keeps only
satisfaction). Fed from the notification log like the engine's views (hook `huifang_report_views`)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column, Index, Integer, MetaData, String, Table, literal_column, update
from sqlalchemy.engine import Connection

from huifang.core.plugin_api.views import FollowUpView, insert_row, ts

metadata = MetaData()
answers = Table(
    "medical_answers", metadata,
    Column("id", String(36), primary_key=True),  # follow-up aggregate id (events carry only this)
    Column("code", String(200), nullable=False),
    Column("subject", String(100), nullable=False),
    Column("trigger", String(200), nullable=False),
    Column("trigger_kind", String(100), nullable=False),
    Column("visit_type", String(100), nullable=False),
    Column("status", String(20), nullable=False),
    Column("completed_at", String(30)),
    Column("recovery", Integer),  # M6 0–10 score
    Column("adherence", String(20)),  # M3/M4
    Column("reexamined", String(20)),  # M5
    Column("answers", JSON),
    Index("ix_medical_answers_trigger", "trigger"),
)
# built once: a rebuild inserts a row per follow-up, as a tuple (insert_row)
INSERT = answers.insert().values(status=literal_column("'planned'"))
INSERT_KEYS = ("id", "code", "subject", "trigger", "trigger_kind", "visit_type")


class MedicalView(FollowUpView):
    """One row per medical follow-up; rows exist only for this plugin's follow-ups, so the updates of
    other plugins' completions and closures touch nothing."""

    name = "medical"
    version = 1
    metadata = metadata
    plugin = "medical"

    def planned(self, conn: Connection, e: Any) -> None:
        insert_row(conn, INSERT, INSERT_KEYS, (
            str(e.originator_id), e.code, e.subject, e.trigger, e.trigger_kind, e.visit_type))

    def completed(self, conn: Connection, e: Any) -> None:
        got = e.answers or {}
        recovery = got.get("recovery")
        conn.execute(update(answers).where(answers.c.id == str(e.originator_id)).values(
            status="completed", completed_at=ts(e.timestamp), answers=got,
            recovery=int(recovery) if isinstance(recovery, (int, float)) else None,
            adherence=got.get("adherence"), reexamined=got.get("reexamined")))

    def closed(self, conn: Connection, e: Any) -> None:
        conn.execute(update(answers).where(answers.c.id == str(e.originator_id)).values(status=e.status))
