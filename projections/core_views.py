"""The engine's own views: follow-ups (the due queue, indexed by owner/status/window, and the rows
the G15/G16/G14 reports count), triggers and tickets (G12). Report views build on these tables.

Every instant is stored as UTC ISO text (`ts`), which sorts correctly as a string on both backends;
reports turn it into a local date in the deployment's time zone.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Table, bindparam, false, literal_column, select, update
from sqlalchemy.engine import Connection

from huifang.core.plugin_api.views import View, followups, insert_row, metadata, tickets, triggers, ts
from huifang.core.privacy import label

P = "huifang:"
# built once: the engine holds their rows as tuples (insert_row), one executemany per batch (rebuild speed);
# the keys are the columns each event sets, the values every new follow-up starts with are in the statement
# (fewer values to bind per row), the rest keep their defaults
INSERT_FOLLOWUP = followups.insert().values(
    status=literal_column("'planned'"), attempts=literal_column("0"), escalations=literal_column("0"),
    reached=false(), refused=false(), reminded=false(), on_time=false(), cancelled_before_contact=false())
INSERT_TRIGGER, INSERT_TICKET = triggers.insert(), tickets.insert()
FOLLOWUP_KEYS = ("code", "oid", "subject", "trigger", "trigger_kind", "plugin", "visit_type", "window_open",
                 "due", "owner", "channel", "department", "branch", "provisional", "planned_at", "ticket", "meta")
TRIGGER_KEYS = ("code", "oid", "kind", "plugin", "subject", "occurred_at", "attributes", "followups", "skipped")
TICKET_KEYS = ("code", "oid", "followup", "subject", "plugin", "category", "department", "severity", "owner",
               "status", "opened_at", "deadline", "reopened")
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

    def __init__(self) -> None:
        # one method per event, found by the event's class name (rebuild speed: no chain of tests)
        self._on: dict[str, Any] = {name: getattr(self, "_" + name.replace(".", "_").lower())
                                    for name in (t[len(P):] for t in self.topics)}

    def handle(self, conn: Connection, e: Any, notification_id: int) -> None:
        on = self._on.get(type(e).__qualname__)
        if on is not None:
            on(conn, e)

    # -- follow-ups ---------------------------------------------------------------------------------
    def _followup_planned(self, conn: Connection, e: Any) -> None:
        meta = e.meta
        insert_row(conn, INSERT_FOLLOWUP, FOLLOWUP_KEYS, (
            e.code, str(e.originator_id), e.subject, e.trigger, e.trigger_kind, e.plugin, e.visit_type,
            ts(e.window_open), ts(e.due), e.owner, e.channel, e.department, e.branch, bool(e.provisional),
            ts(e.timestamp), meta.get("ticket") if meta else None, meta))

    def _followup_windowopened(self, conn: Connection, e: Any) -> None:
        set_row(conn, followups, str(e.originator_id), {"status": "due"}, planned_only=True)

    def _followup_markedoverdue(self, conn: Connection, e: Any) -> None:
        set_row(conn, followups, str(e.originator_id), {"status": "overdue"})

    def _followup_remindersent(self, conn: Connection, e: Any) -> None:
        set_row(conn, followups, str(e.originator_id), {"reminded": True})

    def _followup_escalated(self, conn: Connection, e: Any) -> None:
        set_row(conn, followups, str(e.originator_id), {"escalations": INC})

    def _followup_attemptrecorded(self, conn: Connection, e: Any) -> None:
        values: dict[str, Any] = {"attempts": INC, "last_attempt_at": ts(e.timestamp),
                                  "next_attempt_at": ts(e.next_attempt_at)}
        if e.outcome == "reached":
            values["reached"] = True
            values["recording"] = e.recording
        if e.outcome == "refused":
            values["refused"] = True
        set_row(conn, followups, str(e.originator_id), values)

    def _followup_completed(self, conn: Connection, e: Any) -> None:
        oid, at = str(e.originator_id), ts(e.timestamp)
        row = conn.execute(select(followups.c.due).where(followups.c.oid == oid)).first()
        set_row(conn, followups, oid, {
            "status": "completed", "completed_at": at, "closed_at": at, "completed_by": e.actor,
            "next_attempt_at": None, "answers": e.answers, "on_time": bool(row is not None and at <= row.due),
            "satisfaction": (e.answers or {}).get("satisfaction")})

    def _followup_closed(self, conn: Connection, e: Any) -> None:
        oid = str(e.originator_id)
        values = {"status": e.status, "closed_at": ts(e.timestamp), "closed_reason": label(e.reason),  # G8: no ciphertext
                  "closed_by": e.actor, "next_attempt_at": None}
        if e.status == "cancelled":
            f = followups.c
            row = conn.execute(select(f.reached, f.refused).where(f.oid == oid)).first()
            values["cancelled_before_contact"] = bool(row is not None and not row.reached and not row.refused)
        set_row(conn, followups, oid, values)

    def _followup_reassigned(self, conn: Connection, e: Any) -> None:
        set_row(conn, followups, str(e.originator_id), {"owner": e.to_owner})

    def _followup_rescheduled(self, conn: Connection, e: Any) -> None:
        oid = str(e.originator_id)
        values = {"window_open": ts(e.window_open), "due": ts(e.due), "provisional": bool(e.provisional),
                  "reminded": False}
        row = conn.execute(select(followups.c.status).where(followups.c.oid == oid)).first()
        if row and row.status == "overdue":
            values["status"] = "due"
        set_row(conn, followups, oid, values)

    def _followup_channelswitched(self, conn: Connection, e: Any) -> None:
        set_row(conn, followups, str(e.originator_id), {"channel": e.channel})

    def _followup_replanned(self, conn: Connection, e: Any) -> None:  # the trigger was corrected (trigger amend)
        set_row(conn, followups, str(e.originator_id), {"department": e.department, "branch": e.branch,
                                                        "meta": e.meta})

    # -- triggers -----------------------------------------------------------------------------------
    def _trigger_received(self, conn: Connection, e: Any) -> None:
        insert_row(conn, INSERT_TRIGGER, TRIGGER_KEYS, (
            e.code, str(e.originator_id), e.kind, e.plugin, e.subject, e.occurred_at, e.attributes,
            len(e.followups), e.skipped))

    def _trigger_followupadded(self, conn: Connection, e: Any) -> None:  # a reaction planned one more
        set_row(conn, triggers, str(e.originator_id), {"followups": INC})

    def _trigger_amended(self, conn: Connection, e: Any) -> None:  # a correction: history and reports see it
        oid = str(e.originator_id)
        row = conn.execute(select(triggers.c.followups).where(triggers.c.oid == oid)).first()
        set_row(conn, triggers, oid, {"occurred_at": e.occurred_at, "attributes": e.attributes,
                                      "skipped": e.skipped, "followups": (row.followups if row else 0) + len(e.added)})

    # -- tickets ------------------------------------------------------------------------------------
    def _ticket_opened(self, conn: Connection, e: Any) -> None:
        insert_row(conn, INSERT_TICKET, TICKET_KEYS, (
            e.code, str(e.originator_id), e.followup, e.subject, e.plugin, label(e.category), e.department,
            e.severity, e.owner, "open", ts(e.timestamp), ts(e.deadline), 0))

    def _ticket_resolved(self, conn: Connection, e: Any) -> None:
        conn.execute(update(tickets).where(tickets.c.oid == str(e.originator_id)).values(
            status="resolved", resolved_at=ts(e.timestamp), second_followup=e.second_followup))

    def _ticket_closed(self, conn: Connection, e: Any) -> None:
        if e.confirmed:
            conn.execute(update(tickets).where(tickets.c.oid == str(e.originator_id)).values(
                status="closed", closed_at=ts(e.timestamp)))

    def _ticket_reopened(self, conn: Connection, e: Any) -> None:
        t = tickets.c
        conn.execute(update(tickets).where(t.oid == str(e.originator_id)).values(
            status="open", resolved_at=None, second_followup=None, reopened=t.reopened + 1))
