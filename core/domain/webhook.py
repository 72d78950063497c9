"""Webhooks out: the store's subscriptions (`huifang webhook add|remove`) and, per subscription, its
outbox — how far into the event log it has delivered and every delivery attempt.

The outbox is the log itself: a subscription's position is the notification id of the last event it
delivered (or passed over), and it moves only with a recorded `Delivered` event. A crash between the
receiver's 2xx and that record re-sends the same delivery id (at-least-once; receivers dedupe).
A failing delivery blocks the later ones of its subscription (strict log order) until it succeeds.

The signing secret is stored sealed with the store's key ring (never in clear in the log).

Stable topics: `huifang:Webhooks.*`, `huifang:WebhookOutbox.*`.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.domain import event

from .base import Base, aggregate_uuid


class Webhooks(Base):
    """Every subscription of the store: code -> {code, url, events, secret (sealed), personal, start,
    added, added_by, removed}."""

    class Opened(Base.Created):
        actor: str

    @event(Opened)
    def __init__(self, actor: str):
        self.subscriptions: dict[str, dict[str, Any]] = {}

    @staticmethod
    def create_id() -> Any:
        return aggregate_uuid("webhooks", "store")

    class Added(Base.Event):
        code: str
        url: str
        events: list[str]
        secret: str  # a key-ring token, never the secret itself
        personal: bool  # payloads may carry the subject's name and phones
        start: int  # the log position at subscription: only later events are delivered
        actor: str

    @event(Added)
    def add(self, code: str, url: str, events: list[str], secret: str, personal: bool, start: int,
            actor: str) -> None:
        self.subscriptions[code] = {"code": code, "url": url, "events": list(events), "secret": secret,
                                    "personal": personal, "start": start, "added": self.modified_on.isoformat(),
                                    "added_by": actor, "removed": None}

    class Removed(Base.Event):
        code: str
        actor: str

    @event(Removed)
    def remove(self, code: str, actor: str) -> None:
        self.subscriptions[code]["removed"] = self.modified_on.isoformat()


class WebhookOutbox(Base):
    """One subscription's delivery state: its position in the log and the failing head, if any."""

    class Opened(Base.Created):
        code: str
        position: int
        actor: str

    @event(Opened)
    def __init__(self, code: str, position: int, actor: str):
        self.code = code
        self.position = position
        self.head: str | None = None  # the delivery id that failed last and blocks the rest
        self.failures = 0  # consecutive failures of the head
        self.retry_at: datetime | None = None

    @staticmethod
    def create_id(code: str) -> Any:
        return aggregate_uuid("webhook-outbox", code)

    class Delivered(Base.Event):
        delivery_id: str
        notification_id: int
        event: str
        attempt: int  # 1 = first try
        status: int  # the receiver's HTTP status (2xx)
        replay: bool  # an operator's re-send of an earlier delivery (does not move the position)
        actor: str

    @event(Delivered)
    def delivered(self, delivery_id: str, notification_id: int, event: str, attempt: int, status: int,
                  replay: bool, actor: str) -> None:
        if notification_id > self.position:
            self.position = notification_id
        if self.head == delivery_id:
            self.head, self.failures, self.retry_at = None, 0, None

    class Failed(Base.Event):
        delivery_id: str
        notification_id: int
        event: str
        attempt: int
        status: int | None  # the receiver's HTTP status, None when no answer (refused, timeout)
        error: str
        retry_at: datetime | None  # None: an operator's replay that failed (nothing is blocked by it)
        replay: bool
        actor: str

    @event(Failed)
    def failed(self, delivery_id: str, notification_id: int, event: str, attempt: int, status: int | None,
               error: str, retry_at: datetime | None, replay: bool, actor: str) -> None:
        if notification_id > self.position and retry_at is not None:
            self.head, self.failures, self.retry_at = delivery_id, self.failures + 1, retry_at
