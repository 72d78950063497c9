"""The finance view: per follow-up, when and on which channel the subject was first reached, when it
fell back to a home visit or letter (F5), and the end of the cooling-off period (F4), so the F8
in-cooling-off success rate compares two instants instead of guessing from the completion."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, MetaData, String, Table, update
from sqlalchemy.engine import Connection

from huifang.projections.core_views import ts
from huifang.projections.engine import View

FALLBACK_CHANNELS = ("home_visit", "letter")  # F5

metadata = MetaData()
finance_followups = Table(
    "finance_followups", metadata,
    Column("id", String(36), primary_key=True),  # the follow-up's aggregate id (events carry only that)
    Column("code", String(200), nullable=False, unique=True),
    Column("cooling_off_until", String(30)),  # F4, UTC ISO like the core views
    Column("reached_at", String(30)),
    Column("reached_channel", String(20)),
    Column("fallback_at", String(30)),
    Column("fallback_channel", String(20)),
)

P = "huifang:"


class FinanceView(View):
    name = "finance"
    version = 1
    metadata = metadata
    topics = frozenset(P + t for t in ("FollowUp.Planned", "FollowUp.AttemptRecorded", "FollowUp.ChannelSwitched"))

    def handle(self, conn: Connection, e: Any, notification_id: int) -> None:
        name = type(e).__qualname__
        oid = str(e.originator_id)
        t = finance_followups.c
        if name == "FollowUp.Planned":
            if e.plugin != "finance":
                return
            until = (e.meta or {}).get("cooling_off_until")
            fallback = e.channel if e.channel in FALLBACK_CHANNELS else None  # planned so (G7 opt-out)
            conn.execute(finance_followups.insert(), dict(
                id=oid, code=e.code, cooling_off_until=ts(datetime.fromisoformat(until)) if until else None,
                fallback_at=ts(e.timestamp) if fallback else None, fallback_channel=fallback))
        elif name == "FollowUp.AttemptRecorded":
            if e.outcome == "reached":
                conn.execute(update(finance_followups).where(t.id == oid, t.reached_at.is_(None)).values(
                    reached_at=ts(e.timestamp), reached_channel=e.channel))
        elif name == "FollowUp.ChannelSwitched":
            if e.channel in FALLBACK_CHANNELS:
                conn.execute(update(finance_followups).where(t.id == oid, t.fallback_at.is_(None)).values(
                    fallback_at=ts(e.timestamp), fallback_channel=e.channel))
