"""Subject (客户/患者/业主/投保人): the person followed up (G1), with channel opt-outs (G7)."""
from __future__ import annotations

from typing import Any

from eventsourcing.domain import event

from .base import Base, aggregate_uuid


class Subject(Base):
    class Registered(Base.Created):
        code: str
        name: str
        phones: list
        email: str | None
        tz: str
        attributes: dict
        actor: str

    @event(Registered)
    def __init__(self, code: str, name: str, phones: list, email: str | None, tz: str,
                 attributes: dict, actor: str):
        self.code = code
        self.name = name
        self.phones = list(phones)
        self.email = email
        self.tz = tz
        self.attributes = dict(attributes)
        self.optouts: list[str] = []
        self.exempt = False  # G7/F6: signed statement declining all follow-up
        self.exemption_note: str | None = None

    @staticmethod
    def create_id(code: str) -> Any:
        return aggregate_uuid("subject", code)

    class OptedOut(Base.Event):
        channel: str
        actor: str

    @event(OptedOut)
    def opt_out(self, channel: str, actor: str) -> None:
        if channel not in self.optouts:
            self.optouts.append(channel)

    class ExemptionSigned(Base.Event):
        statement: str
        actor: str

    @event(ExemptionSigned)
    def sign_exemption(self, statement: str, actor: str) -> None:
        self.exempt = True
        self.exemption_note = statement

    class DetailsUpdated(Base.Event):
        changes: dict
        actor: str

    @event(DetailsUpdated)
    def update(self, changes: dict, actor: str) -> None:
        for k, v in changes.items():
            if k == "attributes":
                self.attributes.update(v)
            else:
                setattr(self, k, v)

    class Erased(Base.Event):
        """Crypto-shredding (G8): the subject's data key was destroyed in the same transaction, so
        every personal value of theirs is unreadable for good; structured data (counts) stays."""

        reason: str
        legal_order: str | None  # G10: erasure inside the retention period only on a legal order
        retention_until: str | None
        recordings: list  # SHA-256 of the recordings deleted with the subject
        actor: str

    @event(Erased)
    def erase(self, reason: str, legal_order: str | None, retention_until: str | None, recordings: list,
              actor: str) -> None:
        self.erased = True
        self.erasure = {"reason": reason, "legal_order": legal_order, "retention_until": retention_until}
