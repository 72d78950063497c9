"""Ticket (问题件, G12): a problem found in a follow-up, routed to a department and closed only
after a second follow-up (二次回访) confirms with the subject."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.domain import event

from ..errors import Refused
from .base import Base, aggregate_uuid


class Ticket(Base):
    class Opened(Base.Created):
        code: str
        followup: str
        subject: str
        plugin: str
        category: str
        department: str
        severity: str
        owner: str | None
        deadline: datetime
        note: str
        actor: str

    @event(Opened)
    def __init__(self, code: str, followup: str, subject: str, plugin: str, category: str,
                 department: str, severity: str, owner: str | None, deadline: datetime, note: str,
                 actor: str):
        self.code = code
        self.followup = followup
        self.subject = subject
        self.plugin = plugin
        self.category = category
        self.department = department
        self.severity = severity
        self.owner = owner
        self.deadline = deadline
        self.note = note
        self.status = "open"
        self.resolution: str | None = None
        self.resolved_at: datetime | None = None
        self.second_followup: str | None = None
        self.closed_at: datetime | None = None
        self.escalations: list[dict] = []

    @staticmethod
    def create_id(code: str) -> Any:
        return aggregate_uuid("ticket", code)

    class Resolved(Base.Event):
        note: str
        second_followup: str
        actor: str

    @event(Resolved)
    def _resolve(self, note: str, second_followup: str, actor: str) -> None:
        self.status = "resolved"
        self.resolution = note
        self.resolved_at = self.modified_on
        self.second_followup = second_followup

    def resolve(self, note: str, second_followup: str, actor: str) -> None:
        if self.status != "open":
            raise Refused(f"ticket {self.code} is already {self.status}: cannot resolve it again")
        self._resolve(note=note, second_followup=second_followup, actor=actor)

    class Closed(Base.Event):
        confirmed: bool
        actor: str

    @event(Closed)
    def close(self, confirmed: bool, actor: str) -> None:
        self.status = "closed" if confirmed else "open"
        if confirmed:
            self.closed_at = self.modified_on

    class Reopened(Base.Event):
        reason: str
        actor: str

    @event(Reopened)
    def reopen(self, reason: str, actor: str) -> None:
        self.status = "open"
        self.resolution = None
        self.second_followup = None

    class Escalated(Base.Event):
        to: str | None
        reason: str
        actor: str

    @event(Escalated)
    def escalate(self, to: str | None, reason: str, actor: str) -> None:
        self.escalations.append({"to": to, "reason": reason})
