"""Audit-trail aggregates: who read what and why (G8), export approvals, refused actions, and the
switch that turns role enforcement on. They are ordinary events in the log, so they are chained and
sealed like everything else and a refusal cannot be quietly dropped.

Stable topics: `huifang:ReadLog.*` (one per subject), `huifang:AccessLog.*` (one per actor),
`huifang:AccessPolicy.*` (one per store).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.domain import event

from ..domain.base import Base, aggregate_uuid


class ReadLog(Base):
    """Reads and exports of one subject's personal data, and the approvals they needed (G8)."""

    class Opened(Base.Created):
        subject: str
        actor: str

    @event(Opened)
    def __init__(self, subject: str, actor: str):
        self.subject = subject
        self.reads: list[dict] = []
        self.approvals: list[dict] = []

    @staticmethod
    def create_id(subject: str) -> Any:
        return aggregate_uuid("readlog", subject)

    class Read(Base.Event):
        what: str  # history | subject | export
        target: str  # the record read (subject:P1, followup:D1-1 ...)
        reason: str
        approval: int | None  # index of the approval used (exports beyond the own department)
        actor: str

    @event(Read)
    def read(self, what: str, target: str, reason: str, approval: int | None, actor: str) -> None:
        self.reads.append({"at": self.modified_on, "what": what, "target": target, "reason": reason,
                           "approval": approval, "actor": actor})

    class ExportApproved(Base.Event):
        grantee: str
        reason: str
        until: datetime
        actor: str

    @event(ExportApproved)
    def approve_export(self, grantee: str, reason: str, until: datetime, actor: str) -> None:
        self.approvals.append({"n": len(self.approvals) + 1, "at": self.modified_on, "grantee": grantee,
                               "reason": reason, "until": until, "by": actor})


class AccessLog(Base):
    """One actor's refused actions and whole-log exports."""

    class Opened(Base.Created):
        who: str
        actor: str

    @event(Opened)
    def __init__(self, who: str, actor: str):
        self.who = who
        self.refusals: list[dict] = []
        self.exports: list[dict] = []

    @staticmethod
    def create_id(who: str) -> Any:
        return aggregate_uuid("accesslog", who)

    class Refused(Base.Event):
        action: str
        target: str
        reason: str
        actor: str

    @event(Refused)
    def refused(self, action: str, target: str, reason: str, actor: str) -> None:
        self.refusals.append({"at": self.modified_on, "action": action, "target": target, "reason": reason})

    class LogExported(Base.Event):
        period_from: str | None
        period_to: str | None
        records: int
        first_position: int | None
        last_position: int | None
        sha256: str
        reason: str
        actor: str

    @event(LogExported)
    def exported(self, period_from: str | None, period_to: str | None, records: int, first_position: int | None,
                 last_position: int | None, sha256: str, reason: str, actor: str) -> None:
        self.exports.append({"at": self.modified_on, "from": period_from, "to": period_to, "records": records,
                             "first_position": first_position, "last_position": last_position,
                             "sha256": sha256, "reason": reason})


class AccessPolicy(Base):
    """Created when the first admin is registered: from then on roles are enforced (core/access.py)."""

    class Enforced(Base.Created):
        admin: str
        actor: str

    @event(Enforced)
    def __init__(self, admin: str, actor: str):
        self.admin = admin

    @staticmethod
    def create_id() -> Any:
        return aggregate_uuid("access", "policy")


AUDIT_TRAIL = (ReadLog, AccessLog)
