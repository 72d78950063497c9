"""The engine's own views: follow-ups (the due queue, indexed by owner/status/window, and the rows
the G15/G16/G14 reports count), triggers and tickets (G12). Report views build on these tables.

Every instant is stored as UTC ISO text (`ts`), which sorts correctly as a string on both backends;
reports turn it into a local date in the deployment's time zone.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.engine import Connection

from huifang.core.plugin_api.views import View, followups, metadata, tickets, triggers, ts
from huifang.core.privacy import label

P = "huifang:"
# built once: the engine sends these with their rows as parameters, one executemany per batch (rebuild speed)
INSERT_FOLLOWUP, INSERT_TRIGGER, INSERT_TICKET = followups.insert(), triggers.insert(), tickets.insert()
INC = object()  # `column + 1` in set_row
_UPDATES: dict[tuple[str, tuple[str, ...], bool], Any] = {}


def set_row(conn: Connection, table: Table, oid: str, values: dict[str, Any], planned_only: bool = False) -> None:
    """UPDATE table SET values WHERE oid = :oid, compiled once per set of columns with bind
    parameters, so a batch of the same update goes out as one executemany."""
    key = (table.name, tuple(values), planned_only)
    stmt = _UPDATES.get(key)
    if stmt is None:
        c = table.c
        stmt = update(table).where(c.oid == bindparam("_oid"))
        if planned_only:
            stmt = stmt.where(c.status == "planned")
        stmt = _UPDATES[key] = stmt.values({k: c[k] + 1 if v is INC else bindparam("_v_" + k, type_=c[k].type)
                                            for k, v in values.items()})
    conn.execute(stmt, {"_oid": oid, **{"_v_" + k: v for k, v in values.items() if v is not INC}})


class CoreView(View):
    name = "core"
    version = 5  # v5: closed_by, trigger amendments, re-planned follow-ups; v4: ix_followups_owner_due (the queue page); v3: occurred_at wide enough for microseconds; v2: oid keys, follow-ups added to triggers, on_time, cancelled_before_contact, answers, recording, ticket, reopened
    metadata = metadata
    topics = frozenset(P + t for t in (
        "FollowUp.Planned", "FollowUp.WindowOpened", "FollowUp.MarkedOverdue", "FollowUp.ReminderSent",
        "FollowUp.Escalated", "FollowUp.AttemptRecorded", "FollowUp.Completed", "FollowUp.Closed",
        "FollowUp.Reassigned", "FollowUp.Rescheduled", "FollowUp.ChannelSwitched", "FollowUp.Replanned",
        "Trigger.Received", "Trigger.FollowUpAdded", "Trigger.Amended", "Ticket.Opened", "Ticket.Resolved", "Ticket.Closed",
        "Ticket.Reopened",
    ))

    def handle(self, conn: Connection, e: Any, notification_id: int) -> None:
        name = type(e).__qualname__
        at = ts(e.timestamp)
        oid = str(e.originator_id)
        if name == "FollowUp.Planned":
            meta = dict(e.meta or {})
            conn.execute(INSERT_FOLLOWUP, dict(  # params apart: the compiled insert is cached
                code=e.code, oid=oid, subject=e.subject, trigger=e.trigger, trigger_kind=e.trigger_kind,
                plugin=e.plugin, visit_type=e.visit_type, status="planned", window_open=ts(e.window_open),
                due=ts(e.due), owner=e.owner, channel=e.channel, department=e.department, branch=e.branch,
                provisional=bool(e.provisional), attempts=0, reached=False, refused=False, reminded=False,
                escalations=0, planned_at=at, on_time=False, cancelled_before_contact=False,
                ticket=meta.get("ticket"), meta=e.meta))
            return
        if name.startswith("FollowUp."):
            f = followups.c
            where = f.oid == oid
            values: dict[str, Any] = {}
            if name == "FollowUp.WindowOpened":
                set_row(conn, followups, oid, {"status": "due"}, planned_only=True)
                return
            if name == "FollowUp.MarkedOverdue":
                values = {"status": "overdue"}
            elif name == "FollowUp.ReminderSent":
                values = {"reminded": True}
            elif name == "FollowUp.Escalated":
                values = {"escalations": INC}
            elif name == "FollowUp.AttemptRecorded":
                values = {"attempts": INC, "last_attempt_at": at,
                          "next_attempt_at": ts(e.next_attempt_at)}
                if e.outcome == "reached":
                    values["reached"] = True
                    values["recording"] = e.recording
                if e.outcome == "refused":
                    values["refused"] = True
            elif name == "FollowUp.Completed":
                row = conn.execute(select(f.due).where(where)).first()
                values = {"status": "completed", "completed_at": at, "closed_at": at, "completed_by": e.actor,
                          "next_attempt_at": None, "answers": e.answers,
                          "on_time": bool(row is not None and at <= row.due),
                          "satisfaction": (e.answers or {}).get("satisfaction")}
            elif name == "FollowUp.Closed":
                values = {"status": e.status, "closed_at": at, "closed_reason": label(e.reason),  # G8: no ciphertext
                          "closed_by": e.actor, "next_attempt_at": None}
                if e.status == "cancelled":
                    row = conn.execute(select(f.reached, f.refused).where(where)).first()
                    values["cancelled_before_contact"] = bool(row is not None and not row.reached
                                                              and not row.refused)
            elif name == "FollowUp.Reassigned":
                values = {"owner": e.to_owner}
            elif name == "FollowUp.Rescheduled":
                values = {"window_open": ts(e.window_open), "due": ts(e.due), "provisional": bool(e.provisional),
                          "reminded": False}
                row = conn.execute(select(f.status).where(where)).first()
                if row and row.status == "overdue":
                    values["status"] = "due"
            elif name == "FollowUp.ChannelSwitched":
                values = {"channel": e.channel}
            elif name == "FollowUp.Replanned":  # the trigger was corrected (trigger amend)
                values = {"department": e.department, "branch": e.branch, "meta": e.meta}
            if values:
                set_row(conn, followups, oid, values)
            return
        if name == "Trigger.Received":
            conn.execute(INSERT_TRIGGER, dict(
                code=e.code, oid=oid, kind=e.kind, plugin=e.plugin, subject=e.subject,
                occurred_at=e.occurred_at, attributes=e.attributes, followups=len(e.followups),
                skipped=e.skipped))
            return
        if name == "Trigger.FollowUpAdded":  # a reaction planned one more (next visit, second follow-up)
            set_row(conn, triggers, oid, {"followups": INC})
            return
        if name == "Trigger.Amended":  # a correction: history and reports see the corrected data
            row = conn.execute(select(triggers.c.followups).where(triggers.c.oid == oid)).first()
            set_row(conn, triggers, oid, {"occurred_at": e.occurred_at, "attributes": e.attributes,
                                          "skipped": e.skipped,
                                          "followups": (row.followups if row else 0) + len(e.added)})
            return
        if name == "Ticket.Opened":
            conn.execute(INSERT_TICKET, dict(
                code=e.code, oid=oid, followup=e.followup, subject=e.subject, plugin=e.plugin,
                category=label(e.category), department=e.department, severity=e.severity, owner=e.owner,
                status="open", opened_at=at, deadline=ts(e.deadline), reopened=0))
            return
        t = tickets.c
        where = t.oid == oid
        if name == "Ticket.Resolved":
            conn.execute(update(tickets).where(where).values(
                status="resolved", resolved_at=at, second_followup=e.second_followup))
        elif name == "Ticket.Closed" and e.confirmed:
            conn.execute(update(tickets).where(where).values(status="closed", closed_at=at))
        elif name == "Ticket.Reopened":
            conn.execute(update(tickets).where(where).values(
                status="open", resolved_at=None, second_followup=None, reopened=t.reopened + 1))
