"""Greeting batch (G21): birthday and holiday messages go out as one recorded batch."""
from __future__ import annotations

from typing import Any

from eventsourcing.domain import event

from .base import Base, aggregate_uuid


class GreetingBatch(Base):
    class Sent(Base.Created):
        code: str
        occasion: str
        name: str
        day: str
        channel: str
        recipients: list  # [{"subject", "channel"}]
        skipped: list  # [{"subject", "reason"}]
        actor: str

    @event(Sent)
    def __init__(self, code: str, occasion: str, name: str, day: str, channel: str, recipients: list,
                 skipped: list, actor: str):
        self.code = code
        self.occasion = occasion
        self.name = name
        self.day = day
        self.channel = channel
        self.recipients = list(recipients)
        self.skipped = list(skipped)

    @staticmethod
    def create_id(code: str) -> Any:
        return aggregate_uuid("greeting", code)
