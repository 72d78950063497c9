"""Trigger (服务事件): a service event received once; its id makes re-sending the same data a no-op.
A correction is an Amended event (`huifang trigger amend`), never a silent second receipt."""
from __future__ import annotations

from typing import Any

from eventsourcing.domain import event

from .base import Base, aggregate_uuid


class Trigger(Base):
    class Received(Base.Created):
        code: str
        kind: str
        plugin: str
        subject: str
        occurred_at: str
        attributes: dict
        followups: list
        skipped: list
        actor: str

    @event(Received)
    def __init__(self, code: str, kind: str, plugin: str, subject: str, occurred_at: str,
                 attributes: dict, followups: list, skipped: list, actor: str):
        self.code = code
        self.kind = kind
        self.plugin = plugin
        self.subject = subject
        self.occurred_at = occurred_at
        self.attributes = dict(attributes)
        self.followups = list(followups)
        self.planned = list(followups)  # the plan's own follow-ups (a re-plan reconciles these, not reactions')
        self.amendments = 0
        self.skipped = list(skipped)  # [{"key", "reason", "meta"}]: e.g. P2 sampling decisions
        self.recorded_by = actor  # G8: a follow-up of one's own trigger grants no read (access.py)

    @staticmethod
    def create_id(code: str) -> Any:
        return aggregate_uuid("trigger", code)

    class FollowUpAdded(Base.Event):
        followup: str
        actor: str

    @event(FollowUpAdded)
    def add_followup(self, followup: str, actor: str) -> None:
        self.followups.append(followup)

    class Amended(Base.Event):
        """A correction of the event's data (attributes stored as on Received, sealed where personal):
        `changed` names the corrected fields; `added` the follow-ups the new plan adds."""

        attributes: dict
        occurred_at: str
        changed: list
        added: list
        skipped: list
        reason: str | None
        actor: str

    @event(Amended)
    def amend(self, attributes: dict, occurred_at: str, changed: list, added: list, skipped: list,
              reason: str | None, actor: str) -> None:
        self.attributes = dict(attributes)
        self.occurred_at = occurred_at
        self.followups += [f for f in added if f not in self.followups]
        self.planned += [f for f in added if f not in self.planned]
        self.skipped = list(skipped)
        self.amendments += 1
