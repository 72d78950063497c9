"""Read models plugins may build and read: the View base class, the engine's own view tables
(`followups`, `triggers`, `tickets`, every instant stored as UTC ISO text by `ts`), and FollowUpView,
which does the follow-up event filtering every plugin view needs once.

A plugin view is fed from the notification log like the engine's own (hook `huifang_report_views`);
its position advances in the same transaction as its rows, so a crash never double-counts.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, overload

from sqlalchemy import JSON, Boolean, Column, Index, Integer, MetaData, String, Table
from sqlalchemy.engine import Connection

TOPIC_PREFIX = "huifang:"


class View:
    """A read model. Subclasses define `name`, `version` (bump it when the shape changes: the view is
    rebuilt from zero), `metadata` (their tables) and `handle(conn, event, notification_id)`;
    `topics` limits which stored events are decoded for it."""

    name: str = ""
    version: int = 1
    metadata: MetaData
    topics: frozenset[str] | None = None

    def handle(self, conn: Connection, event: Any, notification_id: int) -> None:  # pragma: no cover
        raise NotImplementedError

    def tables(self) -> list[Table]:
        return list(self.metadata.sorted_tables)


class FollowUpView(View):
    """A view of one plugin's follow-ups. Override any of `planned`, `attempt`, `completed`,
    `closed`, `channel_switched`, `rescheduled`; only those events are decoded for the view, and
    `planned` is called only for follow-ups of `plugin` (later events carry just the aggregate id:
    rows keyed by `str(event.originator_id)` exist only for the plugin's own follow-ups, so updates
    of other plugins' follow-ups touch nothing)."""

    plugin: ClassVar[str] = ""
    _EVENTS: ClassVar[dict[str, str]] = {
        "planned": "FollowUp.Planned", "attempt": "FollowUp.AttemptRecorded",
        "completed": "FollowUp.Completed", "closed": "FollowUp.Closed",
        "channel_switched": "FollowUp.ChannelSwitched", "rescheduled": "FollowUp.Rescheduled",
    }

    def __init__(self) -> None:
        self._handlers: dict[str, Any] = {}
        for method, event_name in self._EVENTS.items():
            if getattr(type(self), method) is not getattr(FollowUpView, method):
                self._handlers[event_name] = getattr(self, method)
        self.topics = frozenset(TOPIC_PREFIX + name for name in self._handlers)

    def handle(self, conn: Connection, event: Any, notification_id: int) -> None:
        name = type(event).__qualname__
        handler = self._handlers.get(name)
        if handler is None:
            return
        if name == "FollowUp.Planned" and event.plugin != self.plugin:
            return
        handler(conn, event)

    def planned(self, conn: Connection, event: Any) -> None: ...

    def attempt(self, conn: Connection, event: Any) -> None: ...

    def completed(self, conn: Connection, event: Any) -> None: ...

    def closed(self, conn: Connection, event: Any) -> None: ...

    def channel_switched(self, conn: Connection, event: Any) -> None: ...

    def rescheduled(self, conn: Connection, event: Any) -> None: ...


@overload
def ts(dt: datetime) -> str: ...
@overload
def ts(dt: None) -> None: ...
@overload
def ts(dt: datetime | None) -> str | None: ...


def ts(dt: datetime | None) -> str | None:
    """UTC ISO text: sorts correctly as a string on every backend."""
    if dt is None:
        return None
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


metadata = MetaData()
followups = Table(
    "followups", metadata,
    Column("code", String(200), primary_key=True),
    Column("oid", String(36), nullable=False),  # aggregate id: later events carry only this
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
    Column("completed_by", String(100)),
    Column("closed_at", String(30)),
    Column("closed_reason", String(200)),
    Column("planned_at", String(30), nullable=False),
    Column("satisfaction", String(10)),
    # G15: completed no later than its deadline
    Column("on_time", Boolean, nullable=False, default=False),
    # G15/F4: cancelled while the subject had been neither reached nor refused
    Column("cancelled_before_contact", Boolean, nullable=False, default=False),
    Column("answers", JSON),  # the survey answers (G4), for opinions and plugin reports
    Column("recording", JSON),  # G11: the recording of the reached attempt (for G17 spot checks)
    Column("ticket", String(200)),  # second follow-ups (G12): the ticket they confirm
    Column("meta", JSON),
    Index("ix_followups_oid", "oid", unique=True),
    Index("ix_followups_owner_status_open", "owner", "status", "window_open"),
    # the queue page at scale: one agent's rows in deadline order, filtered inside the index, so
    # `queue --agent` reads its first 50 rows instead of sorting all of that agent's open rows
    Index("ix_followups_owner_due", "owner", "due", "code", "status", "window_open"),
    Index("ix_followups_status_due", "status", "due"),
    Index("ix_followups_due", "due"),
    Index("ix_followups_completed", "completed_at"),
    Index("ix_followups_subject", "subject"),
    Index("ix_followups_provisional", "provisional", "status"),
)
triggers = Table(
    "triggers", metadata,
    Column("code", String(200), primary_key=True),
    Column("oid", String(36), nullable=False),
    Column("kind", String(100), nullable=False),
    Column("plugin", String(50), nullable=False),
    Column("subject", String(100), nullable=False),
    Column("occurred_at", String(40), nullable=False),
    Column("attributes", JSON),
    Column("followups", Integer, nullable=False),
    Column("skipped", JSON),
    Index("ix_triggers_oid", "oid", unique=True),
    Index("ix_triggers_subject", "subject", "kind"),
)
tickets = Table(
    "tickets", metadata,
    Column("code", String(200), primary_key=True),
    Column("oid", String(36), nullable=False),
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
    Column("reopened", Integer, nullable=False, default=0),
    Index("ix_tickets_oid", "oid", unique=True),
    Index("ix_tickets_subject", "subject"),
    Index("ix_tickets_status", "status"),
    Index("ix_tickets_opened", "opened_at"),
)
