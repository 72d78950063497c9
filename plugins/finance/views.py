"""The finance view: per follow-up, when and on which channel the subject was first reached, when it
fell back to a home visit or letter (F5) and the letter's state (awaiting_reply, returned, replied),
and the end of the cooling-off period (F4, re-planned when the receipt date is corrected), so the F8
in-cooling-off success rate compares two instants instead of guessing from the completion."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, MetaData, String, Table, update
from sqlalchemy.engine import Connection

from huifang.core.plugin_api.views import FollowUpView, ts

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
    Column("letter_state", String(20)),  # F5: awaiting_reply | returned | replied
)
LETTER_STATES = {"sent": "awaiting_reply", "returned": "returned", "reached": "replied", "refused": "replied"}
INSERT = finance_followups.insert()  # built once: a rebuild inserts a row per follow-up


class FinanceView(FollowUpView):
    name = "finance"
    version = 2
    metadata = metadata
    plugin = "finance"

    def planned(self, conn: Connection, e: Any) -> None:
        until = (e.meta or {}).get("cooling_off_until")
        fallback = e.channel if e.channel in FALLBACK_CHANNELS else None  # planned so (G7 opt-out)
        conn.execute(INSERT, dict(
            id=str(e.originator_id), code=e.code,
            cooling_off_until=ts(datetime.fromisoformat(until)) if until else None,
            fallback_at=ts(e.timestamp) if fallback else None, fallback_channel=fallback))

    def attempt(self, conn: Connection, e: Any) -> None:
        t = finance_followups.c
        if e.outcome == "reached":
            conn.execute(update(finance_followups).where(t.id == str(e.originator_id), t.reached_at.is_(None))
                         .values(reached_at=ts(e.timestamp), reached_channel=e.channel))
        if e.channel == "letter" and e.outcome in LETTER_STATES:
            conn.execute(update(finance_followups).where(t.id == str(e.originator_id))
                         .values(letter_state=LETTER_STATES[e.outcome]))

    def replanned(self, conn: Connection, e: Any) -> None:
        until = (e.meta or {}).get("cooling_off_until")  # F4: a corrected receipt date moves it
        t = finance_followups.c
        conn.execute(update(finance_followups).where(t.id == str(e.originator_id))
                     .values(cooling_off_until=ts(datetime.fromisoformat(until)) if until else None))

    def channel_switched(self, conn: Connection, e: Any) -> None:
        if e.channel in FALLBACK_CHANNELS:
            t = finance_followups.c
            conn.execute(update(finance_followups).where(t.id == str(e.originator_id), t.fallback_at.is_(None))
                         .values(fallback_at=ts(e.timestamp), fallback_channel=e.channel))
