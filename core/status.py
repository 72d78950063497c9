"""The follow-up lifecycle's statuses, spelled once (G5, G15).

`OPEN` follow-ups still count toward the queue and the overdue clock; `CLOSED` ones are settled
(completed, lost, cancelled) or taken out of the denominator (exempt, F6)."""
from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    PLANNED = "planned"
    DUE = "due"
    OVERDUE = "overdue"
    COMPLETED = "completed"
    LOST = "lost"
    CANCELLED = "cancelled"
    EXEMPT = "exempt"


OPEN: frozenset[str] = frozenset({Status.PLANNED, Status.DUE, Status.OVERDUE})
CLOSED: frozenset[str] = frozenset({Status.COMPLETED, Status.LOST, Status.CANCELLED, Status.EXEMPT})
# A stable ordering for SQL `IN (...)` and messages.
OPEN_ORDER: tuple[str, ...] = (Status.PLANNED, Status.DUE, Status.OVERDUE)
