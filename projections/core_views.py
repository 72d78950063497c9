"""The engine's own views: follow-ups (the due queue, indexed by owner/status/window),
triggers and tickets. Report views build on these tables."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (JSON, Boolean, Column, Index, Integer, MetaData, String, Table, select, update)
from sqlalchemy.engine import Connection

from .engine import View


def ts(dt: datetime | None) -> str | None:
    """UTC ISO text: sorts correctly as a string on every backend."""
    if dt is None:
        return None
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


metadata = MetaData()
followups = Table(
    "followups", metadata,
    Column("code", String(200), primary_key=True),
    Column("subject", String(100), nullable=False),
    Column("trigger", String(200), nullable=False),
    Column("trigger_kind", String(100), nullable=False),
    Column("plugin", String(50), nullable=False),
    Column("visit_type", String(100), nullable=False),
    Column("status", String(20), nullable=False),
    Column("window_open", String(30), nullable=False),
    Column("due", String(30), nullable=False),
    Column("owner", String(100)),
    Column("channel", String(20)),
    Column("department", String(100)),
    Column("branch", String(100)),
    Column("provisional", Boolean, nullable=False, default=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("reached", Boolean, nullable=False, default=False),
    Column("refused", Boolean, nullable=False, default=False),
    Column("last_attempt_at", String(30)),
    Column("next_attempt_at", String(30)),
    Column("reminded", Boolean, nullable=False, default=False),
    Column("escalations", Integer, nullable=False, default=0),
    Column("completed_at", String(30)),
    Column("closed_at", String(30)),
    Column("closed_reason", String(200)),
    Column("planned_at", String(30), nullable=False),
    Column("satisfaction", String(10)),
    Column("meta", JSON),
    Index("ix_followups_owner_status_open", "owner", "status", "window_open"),
    Index("ix_followups_status_due", "status", "due"),
    Index("ix_followups_subject", "subject"),
    Index("ix_followups_provisional", "provisional", "status"),
)
triggers = Table(
    "triggers", metadata,
    Column("code", String(200), primary_key=True),
    Column("kind", String(100), nullable=False),
    Column("plugin", String(50), nullable=False),
    Column("subject", String(100), nullable=False),
    Column("occurred_at", String(30), nullable=False),
    Column("attributes", JSON),
    Column("followups", Integer, nullable=False),
    Column("skipped", JSON),
    Index("ix_triggers_subject", "subject", "kind"),
)
tickets = Table(
    "tickets", metadata,
    Column("code", String(200), primary_key=True),
    Column("followup", String(200), nullable=False),
    Column("subject", String(100), nullable=False),
    Column("plugin", String(50), nullable=False),
    Column("category", String(100), nullable=False),
    Column("department", String(100), nullable=False),
    Column("severity", String(20), nullable=False),
    Column("owner", String(100)),
    Column("status", String(20), nullable=False),
    Column("opened_at", String(30), nullable=False),
    Column("deadline", String(30), nullable=False),
    Column("resolved_at", String(30)),
    Column("closed_at", String(30)),
    Column("second_followup", String(200)),
    Index("ix_tickets_subject", "subject"),
    Index("ix_tickets_status", "status"),
)

P = "huifang:"


class CoreView(View):
    name = "core"
    version = 1
    metadata = metadata
    topics = frozenset(P + t for t in (
        "FollowUp.Planned", "FollowUp.WindowOpened", "FollowUp.MarkedOverdue", "FollowUp.ReminderSent",
        "FollowUp.Escalated", "FollowUp.AttemptRecorded", "FollowUp.Completed", "FollowUp.Closed",
        "FollowUp.Reassigned", "FollowUp.Rescheduled", "FollowUp.ChannelSwitched",
        "Trigger.Received", "Ticket.Opened", "Ticket.Resolved", "Ticket.Closed", "Ticket.Reopened",
    ))

    def handle(self, conn: Connection, e: Any, notification_id: int) -> None:
        name = type(e).__qualname__
        at = ts(e.timestamp)
        if name == "FollowUp.Planned":
            conn.execute(followups.insert().values(
                code=e.code, subject=e.subject, trigger=e.trigger, trigger_kind=e.trigger_kind,
                plugin=e.plugin, visit_type=e.visit_type, status="planned", window_open=ts(e.window_open),
                due=ts(e.due), owner=e.owner, channel=e.channel, department=e.department, branch=e.branch,
                provisional=bool(e.provisional), attempts=0, reached=False, refused=False, reminded=False,
                escalations=0, planned_at=at, meta=e.meta))
            conn.execute(id_codes.insert().values(id=str(e.originator_id), code=e.code))
            return
        if name.startswith("FollowUp."):
            code = _code(conn, e)
            f = followups.c
            values: dict[str, Any] = {}
            if name == "FollowUp.WindowOpened":
                values = {"status": "due"}
                conn.execute(update(followups).where(f.code == code, f.status == "planned").values(values))
                return
            if name == "FollowUp.MarkedOverdue":
                values = {"status": "overdue"}
            elif name == "FollowUp.ReminderSent":
                values = {"reminded": True}
            elif name == "FollowUp.Escalated":
                values = {"escalations": f.escalations + 1}
            elif name == "FollowUp.AttemptRecorded":
                values = {"attempts": f.attempts + 1, "last_attempt_at": at,
                          "next_attempt_at": ts(e.next_attempt_at)}
                if e.outcome == "reached":
                    values["reached"] = True
                if e.outcome == "refused":
                    values["refused"] = True
            elif name == "FollowUp.Completed":
                values = {"status": "completed", "completed_at": at, "closed_at": at,
                          "next_attempt_at": None,
                          "satisfaction": (e.answers or {}).get("satisfaction")}
            elif name == "FollowUp.Closed":
                values = {"status": e.status, "closed_at": at, "closed_reason": e.reason,
                          "next_attempt_at": None}
            elif name == "FollowUp.Reassigned":
                values = {"owner": e.to_owner}
            elif name == "FollowUp.Rescheduled":
                values = {"window_open": ts(e.window_open), "due": ts(e.due), "provisional": bool(e.provisional),
                          "reminded": False}
                row = conn.execute(select(f.status).where(f.code == code)).first()
                if row and row.status == "overdue":
                    values["status"] = "due"
            elif name == "FollowUp.ChannelSwitched":
                values = {"channel": e.channel}
            if values:
                conn.execute(update(followups).where(f.code == code).values(values))
            return
        if name == "Trigger.Received":
            conn.execute(triggers.insert().values(
                code=e.code, kind=e.kind, plugin=e.plugin, subject=e.subject,
                occurred_at=e.occurred_at, attributes=e.attributes, followups=len(e.followups),
                skipped=e.skipped))
            return
        if name == "Ticket.Opened":
            conn.execute(tickets.insert().values(
                code=e.code, followup=e.followup, subject=e.subject, plugin=e.plugin, category=e.category,
                department=e.department, severity=e.severity, owner=e.owner, status="open", opened_at=at,
                deadline=ts(e.deadline)))
            conn.execute(id_codes.insert().values(id=str(e.originator_id), code=e.code))
            return
        t = tickets.c
        code = _ticket_code(conn, e)
        if name == "Ticket.Resolved":
            conn.execute(update(tickets).where(t.code == code).values(
                status="resolved", resolved_at=at, second_followup=e.second_followup))
        elif name == "Ticket.Closed" and e.confirmed:
            conn.execute(update(tickets).where(t.code == code).values(status="closed", closed_at=at))
        elif name == "Ticket.Reopened":
            conn.execute(update(tickets).where(t.code == code).values(
                status="open", resolved_at=None, second_followup=None))


# originator id -> human code, for events that carry only the aggregate id
id_codes = Table(
    "id_codes", metadata,
    Column("id", String(36), primary_key=True),
    Column("code", String(200), nullable=False),
)


def _code(conn: Connection, e: Any) -> str:
    return _lookup(conn, e.originator_id)


def _ticket_code(conn: Connection, e: Any) -> str:
    return _lookup(conn, e.originator_id)


def _lookup(conn: Connection, oid: Any) -> str:
    row = conn.execute(select(id_codes.c.code).where(id_codes.c.id == str(oid))).first()
    return row.code if row else ""
