"""Read models plugins may build and read: the View base class, the engine's own view tables
(`followups`, `triggers`, `tickets`, every instant stored as UTC ISO text by `ts`), and FollowUpView,
which does the follow-up event filtering every plugin view needs once.

A plugin view is fed from the notification log like the engine's own (hook `huifang_report_views`);
its position advances in the same transaction as its rows, so a crash never double-counts.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, overload

from sqlalchemy import JSON, Boolean, Column, Float, Index, Integer, MetaData, String, Table
from sqlalchemy.engine import Connection

TOPIC_PREFIX = "huifang:"


class View:
    """A read model. Subclasses define `name`, `version` (bump it when the shape changes: the view is
    rebuilt from zero), `metadata` (their tables) and `handle(conn, event, notification_id)`;
    `topics` limits which stored events are decoded for it. `handle` finds rows by primary key or a
    unique index only: a rebuild from zero fills the tables without their non-unique indexes and
    builds those once at the end."""

    name: str = ""
    version: int = 1
    metadata: MetaData
    topics: frozenset[str] | None = None

    def handle(self, conn: Connection, event: Any, notification_id: int) -> None:  # pragma: no cover
        raise NotImplementedError

    def tables(self) -> list[Table]:
        return list(self.metadata.sorted_tables)


def insert_row(conn: Any, statement: Any, keys: tuple[str, ...], row: tuple[Any, ...]) -> None:
    """Insert one row given as a tuple of values in the order of `keys`. While the engine catches a
    view up, its connection holds such rows as they are and sends a batch's rows of one statement as one
    executemany (rebuild speed: no parameter dict per row); on any other connection it is an ordinary
    insert. Boolean columns take bools, JSON columns the value to serialise; columns every row sets alike
    belong in the statement (`table.insert().values(status=literal_column("'planned'"))`)."""
    hold = getattr(conn, "insert_row", None)
    if hold is not None:
        hold(statement, keys, row)
    else:
        conn.execute(statement, dict(zip(keys, row, strict=True)))


class FollowUpView(View):
    """A view of one plugin's follow-ups. Override any of `planned`, `attempt`, `completed`,
    `closed`, `channel_switched`, `rescheduled`, `replanned` (the trigger was corrected: new meta …);
    only those events are decoded for the view, and
    `planned` is called only for follow-ups of `plugin` (later events carry just the aggregate id:
    rows keyed by `str(event.originator_id)` exist only for the plugin's own follow-ups, so updates
    of other plugins' follow-ups touch nothing)."""

    plugin: ClassVar[str] = ""
    _EVENTS: ClassVar[dict[str, str]] = {
        "planned": "FollowUp.Planned", "attempt": "FollowUp.AttemptRecorded",
        "completed": "FollowUp.Completed", "closed": "FollowUp.Closed",
        "channel_switched": "FollowUp.ChannelSwitched", "rescheduled": "FollowUp.Rescheduled",
        "replanned": "FollowUp.Replanned",
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

    def replanned(self, conn: Connection, event: Any) -> None: ...


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
    key = (dt, dt.fold)
    text = _TS.get(key)  # a rebuild formats the same windows and deadlines over and over
    if text is None:
        u = dt.astimezone(UTC)
        # isoformat is the same text as strftime("%Y-%m-%dT%H:%M:%S+00:00") (seconds, UTC offset)
        # and several times cheaper; strftime pads years before 1000 differently, so those keep it
        text = u.isoformat(timespec="seconds") if u.year >= 1000 else u.strftime("%Y-%m-%dT%H:%M:%S+00:00")
        if len(_TS) >= 4096:
            _TS.clear()
        _TS[key] = text
    return text


# (datetime, fold) -> its text. Equal datetimes are the same instant, except two of one zone that
# differ only in fold (a repeated hour when clocks go back): those compare equal, hence the fold
_TS: dict[tuple[datetime, int], str] = {}


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
    Column("closed_by", String(100)),  # G15: who closed it (lost: the agent who worked it)
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

# G17: every keyed sampling draw (plugin_api.sampling), one row per trigger and follow-up key, so `tick`
# can keep each period's share of a stratum at or above its rate (core/sampling.py). A plugin that
# samples returns SampleView() from `huifang_report_views` beside its own views.
sample_metadata = MetaData()
sample_draws = Table(
    "sample_draws", sample_metadata,
    Column("trigger", String(200), primary_key=True),
    Column("key", String(100), primary_key=True),  # the follow-up key the draw decides
    Column("plugin", String(50), nullable=False),
    Column("kind", String(100), nullable=False),
    Column("subject", String(100), nullable=False),
    Column("purpose", String(100), nullable=False),
    Column("rule", String(20), nullable=False),
    Column("rate", Float, nullable=False),
    Column("score", Float, nullable=False),
    Column("period", String(20), nullable=False),
    Column("until", String(10), nullable=False),  # first local day after the period
    Column("stratum", String(200), nullable=False),
    Column("sample_key", String(40)),  # fingerprint of the sampling key
    Column("sampled", Boolean, nullable=False),
    Column("standby", Boolean, nullable=False),  # the plan kept the visit: a top-up can plan it
    Column("topped_up", Boolean, nullable=False),
    Index("ix_sample_draws_until", "until", "plugin", "purpose", "period", "stratum"),
)


class SampleView(View):
    """The draws: a Skip carrying `sample` on Trigger.Received is a trigger left out (with its visit on
    standby when the plan kept one); a follow-up planned with `sample` in its meta is one drawn in, or
    topped up by `tick` (`sample.topped_up`)."""

    name = "samples"
    version = 1
    metadata = sample_metadata
    topics = frozenset({TOPIC_PREFIX + "Trigger.Received", TOPIC_PREFIX + "FollowUp.Planned"})

    def handle(self, conn: Connection, event: Any, notification_id: int) -> None:
        if type(event).__qualname__ == "Trigger.Received":
            for skip in event.skipped or []:
                meta = skip.get("meta") or {}
                rec = meta.get("sample")
                if isinstance(rec, dict) and "purpose" in rec:
                    conn.execute(sample_draws.insert(), _draw_row(event.code, skip["key"], event, rec, sampled=False,
                                                                  standby="standby" in meta))
            return
        rec = (event.meta or {}).get("sample")
        if not isinstance(rec, dict) or "purpose" not in rec:
            return
        if rec.get("topped_up"):
            c = sample_draws.c
            conn.execute(sample_draws.update().where(c.trigger == event.trigger, c.key == event.key)
                         .values(sampled=True, topped_up=True))
        else:
            conn.execute(sample_draws.insert(), _draw_row(event.trigger, event.key, event, rec, sampled=True,
                                                          standby=False))


def _draw_row(trigger: str, key: str, event: Any, rec: dict[str, Any], *, sampled: bool,
              standby: bool) -> dict[str, Any]:
    return dict(trigger=trigger, key=key, plugin=event.plugin, kind=getattr(event, "kind", None) or event.trigger_kind,
                subject=event.subject, purpose=rec["purpose"], rule=rec.get("rule") or "", rate=float(rec["rate"]),
                score=float(rec["score"]), period=rec.get("period") or "", until=rec.get("until") or "",
                stratum=rec.get("stratum") or "", sample_key=rec.get("key"), sampled=sampled, standby=standby,
                topped_up=False)
