"""Batch campaign (批量回访, A7; F3 special campaigns): a request naming every required element, reviewed
and approved by two other people before any follow-up is planned.

Status: requested -> reviewed -> approved, or returned to the requester (返回重做) and resubmitted.
Stable topics: `huifang:Campaign.Requested`, `.Resubmitted`, `.Returned`, `.Reviewed`, `.Approved`
(they were first written by the aesthetics plugin; the class and event names keep them readable).
"""
from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from .base import Base, aggregate_uuid


class Campaign(Base):
    class Requested(Base.Created):
        code: str
        title: str
        department: str | None
        plan: dict
        actor: str

    @event(Requested)
    def __init__(self, code: str, title: str, department: str | None, plan: dict, actor: str):
        self.code = code
        self.title = title
        self.department = department
        self.plan = dict(plan)
        self.requester = actor
        self.status = "requested"
        self.missing: list[str] = []
        self.returns: list[dict[str, Any]] = []
        self.reviewer: str | None = None
        self.approver: str | None = None
        self.followups: list[str] = []
        self.skipped: list[dict[str, Any]] = []

    @staticmethod
    def create_id(code: str) -> UUID:
        return aggregate_uuid("campaign", code)

    class Resubmitted(Base.Event):
        title: str
        department: str | None
        plan: dict
        actor: str

    @event(Resubmitted)
    def resubmit(self, title: str, department: str | None, plan: dict, actor: str) -> None:
        self.title = title
        self.department = department
        self.plan = dict(plan)
        self.requester = actor
        self.status = "requested"
        self.missing = []

    class Returned(Base.Event):
        """Returned to the requester (返回重做): missing elements, or the reviewer's reason."""

        missing: list
        reason: str
        actor: str

    @event(Returned)
    def return_(self, missing: list, reason: str, actor: str) -> None:
        self.status = "returned"
        self.missing = list(missing)
        self.returns.append({"missing": list(missing), "reason": reason, "by": actor})

    class Reviewed(Base.Event):
        note: str
        actor: str

    @event(Reviewed)
    def review(self, note: str, actor: str) -> None:
        self.status = "reviewed"
        self.reviewer = actor

    class Approved(Base.Event):
        followups: list
        skipped: list
        actor: str

    @event(Approved)
    def approve(self, followups: list, skipped: list, actor: str) -> None:
        self.status = "approved"
        self.approver = actor
        self.followups = list(followups)
        self.skipped = list(skipped)
