"""Delivery: one message (purpose, ref, channel) sent through an adapter, every try an event.

The aggregate id comes from (purpose, ref, channel), so a second `deliver` of the same message finds
the record and does not send again; `Requested` is saved BEFORE the adapter is called, so two workers
racing on one message conflict on it and only the winner sends (at most once; a crash between the
claim and the outcome leaves it `pending`, which `delivery retry` resends by hand).

Personal data (the address, the text) is sealed with the subject's key (G8: erasure shreds it);
secrets of the adapters are never recorded. Stable topics: `huifang:Delivery.*`.
"""
from __future__ import annotations

from typing import Any

from eventsourcing.domain import event

from .base import Base, aggregate_uuid

PENDING = "pending"


def delivery_code(purpose: str, ref: str, channel: str) -> str:
    return f"{purpose}:{ref}:{channel}"


class Delivery(Base):
    class Requested(Base.Created):
        code: str
        purpose: str
        ref: str
        channel: str
        subject: str | None
        staff: str | None
        to: str | None  # sealed for a subject; None: looked up again at each try
        text: str  # sealed for a subject
        subject_line: str | None
        actor: str

    @event(Requested)
    def __init__(self, code: str, purpose: str, ref: str, channel: str, subject: str | None, staff: str | None,
                 to: str | None, text: str, subject_line: str | None, actor: str):
        self.code = code
        self.purpose = purpose
        self.ref = ref
        self.channel = channel
        self.subject = subject
        self.staff = staff
        self.to = to
        self.text = text
        self.subject_line = subject_line
        self.status = PENDING
        self.adapter: str | None = None
        self.detail = ""
        self.tries: list[dict[str, Any]] = []  # [{"status", "adapter", "detail", "at", "reference", "actor"}]

    @staticmethod
    def create_id(code: str) -> Any:
        return aggregate_uuid("delivery", code)

    class Retried(Base.Event):
        """An operator asked for a failed (or pending) delivery to be sent again."""

        actor: str

    @event(Retried)
    def retry(self, actor: str) -> None:
        self.status = PENDING

    def _outcome(self, status: str, adapter: str, detail: str, reference: str | None, actor: str) -> None:
        self.status = status
        self.adapter = adapter
        self.detail = detail
        self.tries.append({"status": status, "adapter": adapter, "detail": detail, "reference": reference,
                           "at": self.modified_on.isoformat(), "actor": actor})

    class Sent(Base.Event):
        adapter: str
        detail: str
        reference: str | None
        actor: str

    @event(Sent)
    def sent(self, adapter: str, detail: str, reference: str | None, actor: str) -> None:
        self._outcome("sent", adapter, detail, reference, actor)

    class Failed(Base.Event):
        adapter: str
        detail: str
        reference: str | None
        actor: str

    @event(Failed)
    def failed(self, adapter: str, detail: str, reference: str | None, actor: str) -> None:
        self._outcome("failed", adapter, detail, reference, actor)

    class Bounced(Base.Event):
        adapter: str
        detail: str
        reference: str | None
        actor: str

    @event(Bounced)
    def bounced(self, adapter: str, detail: str, reference: str | None, actor: str) -> None:
        self._outcome("bounced", adapter, detail, reference, actor)


class DeliveryCursor(Base):
    """How far `run_pending` has read the log for reminders, escalations and greetings to deliver."""

    class Started(Base.Created):
        actor: str

    @event(Started)
    def __init__(self, actor: str):
        self.position = 0

    @staticmethod
    def create_id() -> Any:
        return aggregate_uuid("delivery-cursor", "store")

    class Advanced(Base.Event):
        position: int
        actor: str

    @event(Advanced)
    def advance(self, position: int, actor: str) -> None:
        self.position = position
