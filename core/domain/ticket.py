"""Ticket (问题件, G12): a problem found in a follow-up, routed to a department and closed only
after a second follow-up (二次回访) confirms with the subject."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from eventsourcing.domain import event

from ..errors import Refused
from .base import Base, aggregate_uuid


class Ticket(Base):
    # v2 state; class defaults keep tickets opened before it (and their snapshots) readable
    agent: str | None = None
    escalate_to: Sequence[str] = ()
    reason_code: str | None = None
    reason: str | None = None

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
        # v2 (G12/G13/G16): who found the problem (the callback agent), the first escalation steps the
        # plugin's route named, the reason for a 不满意 answer (code plain, words sealed); v1 events lack them
        agent: str | None
        escalate_to: list[str]
        reason_code: str | None
        reason: str | None

    @event(Opened)
    def __init__(self, code: str, followup: str, subject: str, plugin: str, category: str,
                 department: str, severity: str, owner: str | None, deadline: datetime, note: str,
                 actor: str, agent: str | None = None, escalate_to: list[str] | None = None,
                 reason_code: str | None = None, reason: str | None = None):
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
        self.agent = agent
        self.escalate_to = list(escalate_to or [])
        self.reason_code = reason_code
        self.reason = reason

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
        """One step up the ladder: G13 at once for a major anomaly, G12 each deadline span overdue.
        v2 added level, from_staff (who had it) and rule; v1 events lack them."""

        to: str | None
        reason: str
        actor: str
        level: int
        from_staff: str | None
        rule: str

    @event(Escalated)
    def _escalate(self, to: str | None, reason: str, actor: str, level: int = 0, from_staff: str | None = None,
                  rule: str = "") -> None:
        self.escalations.append({"level": level or len(self.escalations) + 1, "from": from_staff, "to": to,
                                 "rule": rule or None, "reason": reason})

    def escalate(self, to: str, reason: str, rule: str, actor: str, from_staff: str | None = None) -> None:
        """The next step up: from `from_staff`, else whoever has the ticket now (its owner, or the last
        step's target), to `to`."""
        if self.status == "closed":
            raise Refused(f"ticket {self.code} is closed: nothing to escalate")
        holder = from_staff or (self.escalations[-1]["to"] if self.escalations else self.owner)
        self._escalate(to=to, reason=reason, actor=actor, level=len(self.escalations) + 1, from_staff=holder,
                       rule=rule)

    @property
    def overdue_steps(self) -> int:
        """Steps taken because the deadline passed (G12), as opposed to the G13 step at opening."""
        return sum(1 for e in self.escalations if e.get("rule") == "G12")
