"""Follow-up (回访任务): one planned contact with a subject, its window, owner and lifecycle.

planned -> due (window opens) -> [attempts] -> completed | lost (G14) | cancelled | exempt (F6);
overdue when the deadline passes with no outcome. Every change is an event with actor and time.
Rules that need more than this record's own state (G5 slots, G9, locks) are checked in the
application before these methods are called; the guards here protect the record itself.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.domain import event

from ..errors import Refused
from ..status import CLOSED
from .base import Base, aggregate_uuid


class FollowUp(Base):
    class Planned(Base.Created):
        code: str
        subject: str
        trigger: str
        trigger_kind: str
        plugin: str
        visit_type: str
        key: str
        window_open: datetime
        due: datetime
        owner: str | None
        owner_role: str | None
        channel: str
        provisional: bool
        excluded_staff: list
        excluded_roles: list
        department: str | None
        branch: str | None
        meta: dict
        actor: str

    @event(Planned)
    def __init__(self, code: str, subject: str, trigger: str, trigger_kind: str, plugin: str,
                 visit_type: str, key: str, window_open: datetime, due: datetime, owner: str | None,
                 owner_role: str | None, channel: str, provisional: bool, excluded_staff: list,
                 excluded_roles: list, department: str | None, branch: str | None, meta: dict,
                 actor: str):
        self.code = code
        self.subject = subject
        self.trigger = trigger
        self.trigger_kind = trigger_kind
        self.plugin = plugin
        self.visit_type = visit_type
        self.key = key
        self.window_open = window_open
        self.due = due
        self.owner = owner
        self.planned_owner = owner  # the plan's owner: a re-plan never overrides a hand reassignment
        self.owner_role = owner_role
        self.channel = channel
        self.provisional = provisional
        self.excluded_staff = list(excluded_staff)
        self.excluded_roles = list(excluded_roles)
        self.department = department
        self.branch = branch
        self.meta = dict(meta)
        self.status = "planned"
        self.attempts: list[dict] = []
        self.answers: dict | None = None
        self.completed_at: datetime | None = None
        self.closed_reason: str | None = None
        self.closed_note: str | None = None
        self.closed_at: datetime | None = None
        self.reminded = False
        self.escalations: list[dict] = []
        self.notifications: list[dict] = []
        self.overdue_since: datetime | None = None
        self.tickets: list[str] = []

    @staticmethod
    def create_id(code: str) -> Any:
        return aggregate_uuid("followup", code)

    # -- guards ----------------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self.status in CLOSED

    @property
    def reached(self) -> bool:
        return any(a["outcome"] == "reached" for a in self.attempts)

    def _require_open(self, action: str) -> None:
        if self.closed:
            raise Refused(f"follow-up {self.code} is already {self.status}: cannot {action}")

    # -- timers ------------------------------------------------------------------------------
    class WindowOpened(Base.Event):
        actor: str

    @event(WindowOpened)
    def _open_window(self, actor: str) -> None:
        if self.status == "planned":
            self.status = "due"

    def open_window(self, actor: str = "system") -> None:
        self._require_open("open its window")
        self._open_window(actor=actor)

    class MarkedOverdue(Base.Event):
        actor: str

    @event(MarkedOverdue)
    def _mark_overdue(self, actor: str) -> None:
        self.status = "overdue"
        self.overdue_since = self.due

    def mark_overdue(self, actor: str = "system") -> None:
        self._require_open("mark it overdue")
        self._mark_overdue(actor=actor)

    class ReminderSent(Base.Event):
        to: str | None
        actor: str

    @event(ReminderSent)
    def remind(self, to: str | None, actor: str = "system") -> None:
        self.reminded = True

    class Escalated(Base.Event):
        to: str | None
        reason: str
        level: int
        actor: str

    @event(Escalated)
    def escalate(self, to: str | None, reason: str, level: int, actor: str) -> None:
        self.escalations.append({"to": to, "reason": reason, "level": level})

    # -- work ----------------------------------------------------------------------------------
    class AttemptRecorded(Base.Event):
        """v2 added `recording` (G11) and `outside_window`; v3 `before_window` (G5: an attempt before
        the follow-up's window opened does not count toward lost); v4 `language` (F9: the language the
        call was held in, contract.LANGUAGES, None when not given). Older events are upcast."""

        class_version = 4
        channel: str
        outcome: str
        note: str | None
        recording: dict | None
        outside_window: bool
        before_window: bool
        next_attempt_at: datetime | None
        actor: str
        language: str | None

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state["recording"] = None
            state["outside_window"] = False
            state.setdefault("next_attempt_at", None)

        @staticmethod
        def upcast_v2_v3(state: dict) -> None:
            state["before_window"] = False

        @staticmethod
        def upcast_v3_v4(state: dict) -> None:
            state["language"] = None

    @event(AttemptRecorded)
    def _record_attempt(self, channel: str, outcome: str, note: str | None, recording: dict | None,
                        outside_window: bool, before_window: bool, next_attempt_at: datetime | None,
                        actor: str, language: str | None = None) -> None:
        self.attempts.append({
            "n": len(self.attempts) + 1, "at": self.modified_on, "channel": channel, "outcome": outcome,
            "note": note, "recording": recording, "outside_window": outside_window,
            "before_window": before_window, "next_attempt_at": next_attempt_at, "actor": actor,
            **({"language": language} if language else {}),
        })

    def record_attempt(self, **kwargs: Any) -> None:
        self._require_open("record an attempt")
        self._record_attempt(**kwargs)

    class Completed(Base.Event):
        answers: dict
        actor: str

    @event(Completed)
    def _complete(self, answers: dict, actor: str) -> None:
        self.answers = dict(answers)
        self.status = "completed"
        self.completed_at = self.modified_on
        self.closed_at = self.modified_on

    def complete(self, answers: dict, actor: str) -> None:
        self._require_open("complete it")
        if not self.reached:
            raise Refused(
                f"follow-up {self.code} has no reached attempt: record one first "
                f"(huifang attempt {self.code} --channel {self.channel} --outcome reached)")
        self._complete(answers=answers, actor=actor)

    class Closed(Base.Event):
        """v2 added `note`: a lost follow-up's reason is a G14 code, what the agent adds is the note."""

        class_version = 2
        status: str  # lost | cancelled | exempt
        reason: str
        note: str | None
        actor: str

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state["note"] = None

    @event(Closed)
    def _close(self, status: str, reason: str, note: str | None, actor: str) -> None:
        self.status = status
        self.closed_reason = reason
        self.closed_note = note
        self.closed_at = self.modified_on

    def close(self, status: str, reason: str, actor: str, note: str | None = None) -> None:
        self._require_open(f"close it as {status}")
        self._close(status=status, reason=reason, note=note, actor=actor)

    class Reassigned(Base.Event):
        from_owner: str | None
        to_owner: str
        reason: str
        actor: str

    @event(Reassigned)
    def _reassign(self, from_owner: str | None, to_owner: str, reason: str, actor: str) -> None:
        self.owner = to_owner

    def reassign(self, to_owner: str, reason: str, actor: str) -> None:
        self._require_open("reassign it")
        self._reassign(from_owner=self.owner, to_owner=to_owner, reason=reason, actor=actor)

    class Rescheduled(Base.Event):
        window_open: datetime
        due: datetime
        provisional: bool
        reason: str
        actor: str

    @event(Rescheduled)
    def reschedule(self, window_open: datetime, due: datetime, provisional: bool, reason: str,
                   actor: str) -> None:
        self.window_open = window_open
        self.due = due
        self.provisional = provisional
        if self.status == "overdue":
            self.status = "due"
            self.overdue_since = None

    class Replanned(Base.Event):
        """The trigger was corrected (`trigger amend`) and its plan now gives this open follow-up
        another department, branch, G9 exclusions, planned owner or plan details; the window and the
        owner themselves change by Rescheduled / Reassigned events of their own."""

        planned_owner: str | None
        department: str | None
        branch: str | None
        excluded_staff: list
        excluded_roles: list
        meta: dict
        reason: str
        actor: str

    @event(Replanned)
    def _replan(self, planned_owner: str | None, department: str | None, branch: str | None,
                excluded_staff: list, excluded_roles: list, meta: dict, reason: str, actor: str) -> None:
        self.planned_owner = planned_owner
        self.department = department
        self.branch = branch
        self.excluded_staff = list(excluded_staff)
        self.excluded_roles = list(excluded_roles)
        self.meta = dict(meta)

    def replan(self, planned_owner: str | None, department: str | None, branch: str | None,
               excluded_staff: list, excluded_roles: list, meta: dict, reason: str, actor: str) -> None:
        self._require_open("re-plan it")
        self._replan(planned_owner=planned_owner, department=department, branch=branch,
                     excluded_staff=excluded_staff, excluded_roles=excluded_roles, meta=meta, reason=reason,
                     actor=actor)

    class ChannelSwitched(Base.Event):
        channel: str
        reason: str
        actor: str

    @event(ChannelSwitched)
    def switch_channel(self, channel: str, reason: str, actor: str) -> None:
        self.channel = channel

    class Notified(Base.Event):
        to: str
        message: str
        actor: str

    @event(Notified)
    def notify(self, to: str, message: str, actor: str) -> None:
        self.notifications.append({"to": to, "message": message})

    class TicketLinked(Base.Event):
        ticket: str
        actor: str

    @event(TicketLinked)
    def link_ticket(self, ticket: str, actor: str) -> None:
        self.tickets.append(ticket)
