"""What the core needs from the read side, as structural types (dependency inversion).

The application writes events; questions across many records ("which follow-ups of this subject
are open?") are answered from the views. Core states those questions here and is handed an
implementation when the application is composed (`open_app` in the projections package); core itself
never imports the views, so it runs, and is tested, without them.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple, Protocol

# The history plans and reactions read is part of the plugin API (one definition).
from .plugin_api.protocols import History as History
from .plugin_api.protocols import StaffInfo as StaffInfo


class FollowUpRecord(NamedTuple):
    """A follow-up's retention facts (G10); instants are UTC ISO text as the views store them."""

    code: str
    subject: str
    plugin: str
    status: str
    closed_at: str | None
    planned_at: str


class TriggerRecord(NamedTuple):
    code: str
    plugin: str
    occurred_at: str
    followups: int  # how many follow-ups it planned (0: e.g. not sampled, P2)


class QueueRow(NamedTuple):
    """One row of the due queue; instants are UTC ISO text."""

    code: str
    subject: str
    plugin: str
    visit_type: str
    status: str
    window_open: str
    due: str
    owner: str | None
    channel: str | None
    attempts: int
    next_attempt_at: str | None
    provisional: bool


@dataclass
class TickWork:
    """What `tick` may have to do at one instant (each item is re-checked on the aggregate)."""

    to_open: list[str] = field(default_factory=list)  # planned, window opened
    to_overdue: list[str] = field(default_factory=list)  # planned or due, deadline passed
    to_remind: list[tuple[str, str]] = field(default_factory=list)  # (code, plugin): G3 candidates
    overdue: list[tuple[str, str, str, str]] = field(default_factory=list)  # (code, owner, due, plugin), A4
    tickets: list[str] = field(default_factory=list)  # G12: open tickets past their deadline


class ImportRun(NamedTuple):
    """How far a bulk import of one file got (resume after a crash)."""

    rows: int
    done: int  # every data row up to this number is handled
    imported: int
    status: str  # running | done


class ReadSide(Protocol):
    """The views, as the core asks them. Every question first brings the views up to the log."""

    def catch_up(self) -> int:
        """Apply new events to the views; how many notifications were read."""
        ...

    def ensure(self) -> None:
        """Create the views' tables if the store has none yet."""
        ...

    def close(self) -> None:
        """Give the views' connections back."""
        ...

    def history(self) -> History: ...

    # -- follow-ups ------------------------------------------------------------------------------
    def open_followups_of(self, subject: str) -> list[str]: ...

    def open_provisional_followups(self) -> list[str]:
        """Open follow-ups planned across a year without official calendar data (G6)."""
        ...

    def followup_owners(self, subject: str) -> list[tuple[str | None, str | None]]:
        """(owner, department) of every follow-up of a subject: who may read their file (G8)."""
        ...

    def followup_records(self, subject: str | None = None) -> list[FollowUpRecord]: ...

    def tick_work(self, now: datetime, remind_until: datetime) -> TickWork: ...

    def queue(self, until: datetime, agent: str | Sequence[str] | None = None, due_before: datetime | None = None,
              limit: int | None = None) -> list[QueueRow]:
        """Open follow-ups whose window opens before `until` (of one owner or several), by deadline
        (one page of `limit`)."""
        ...

    # -- triggers and the subject's records ------------------------------------------------------
    def trigger_records(self, subject: str) -> list[TriggerRecord]: ...

    def records_of(self, subject: str) -> list[tuple[str, str]]:
        """(kind, code) of the subject's triggers, follow-ups and tickets."""
        ...

    # -- bulk import positions -------------------------------------------------------------------
    def import_run(self, key: str) -> ImportRun | None: ...

    def start_import(self, key: str, file: str, what: str, rows: int) -> None: ...

    def save_import_position(self, key: str, done: int, imported: int, status: str) -> None: ...
