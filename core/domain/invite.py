"""Invite: a signed, single-use, expiring survey link sent to a subject (G2 web channel, G7, F5).

One aggregate per link, keyed by the link's random id (the URL carries the id and its HMAC, never
personal data). issued -> opened (first view) -> answered (the completion was recorded) | expired
(unanswered at its deadline: the follow-up falls back to the next channel at `tick`).

Stable topics: `huifang:Invite.*`.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.domain import event

from .base import Base, aggregate_uuid

ISSUED, OPENED, ANSWERED, EXPIRED = "issued", "opened", "answered", "expired"
STATES = (ISSUED, OPENED, ANSWERED, EXPIRED)


class Invite(Base):
    class Issued(Base.Created):
        code: str  # the link's random id (hex)
        followup: str
        subject: str
        channel: str  # the channel the link was sent on (sms, email, wechat)
        expires: datetime
        previous_channel: str  # the follow-up's channel before the link: where it falls back to
        actor: str

    @event(Issued)
    def __init__(self, code: str, followup: str, subject: str, channel: str, expires: datetime,
                 previous_channel: str, actor: str):
        self.code = code
        self.followup = followup
        self.subject = subject
        self.channel = channel
        self.expires = expires
        self.previous_channel = previous_channel
        self.issued_by = actor
        self.issued_at = self.modified_on
        self.status = ISSUED
        self.opened_at: datetime | None = None
        self.answered_at: datetime | None = None
        self.expired_at: datetime | None = None
        self.next_channel: str | None = None

    @staticmethod
    def create_id(code: str) -> Any:
        return aggregate_uuid("invite", code)

    @property
    def closed(self) -> bool:
        return self.status in (ANSWERED, EXPIRED)

    class Opened(Base.Event):
        actor: str

    @event(Opened)
    def open(self, actor: str) -> None:
        self.status = OPENED
        self.opened_at = self.modified_on

    class Answered(Base.Event):
        actor: str

    @event(Answered)
    def answer(self, actor: str) -> None:
        self.status = ANSWERED
        self.answered_at = self.modified_on

    class Expired(Base.Event):
        next_channel: str | None  # None: the follow-up was closed meanwhile, or another link is out
        actor: str

    @event(Expired)
    def expire(self, next_channel: str | None, actor: str) -> None:
        self.status = EXPIRED
        self.expired_at = self.modified_on
        self.next_channel = next_channel
