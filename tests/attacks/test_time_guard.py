"""The monotonic guard itself (domain.base, clock.check_order), without a store: a record's events never
go back in time (G15 deadlines, G8 audit); a backfill may go back, never before the record began.
Before it, an aggregate took any timestamp the command's clock gave it."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from eventsourcing.domain import event

from huifang.core import clock
from huifang.core.domain.base import Base
from huifang.core.errors import HuifangError


class Probe(Base):
    """A minimal aggregate (its own stable topic, as every huifang aggregate)."""

    class Opened(Base.Created):
        code: str

    @event(Opened)
    def __init__(self, code: str):
        self.code = code
        self.marks: list[datetime] = []

    class Marked(Base.Event):
        pass

    @event(Marked)
    def mark(self) -> None:
        self.marks.append(self.modified_on)


def t(text: str) -> datetime:
    return clock.parse_instant(text)


def make(at: str) -> Any:
    with clock.at(t(at)):
        return Probe(code="X1")


def test_g15_an_event_earlier_than_the_records_last_is_refused() -> None:
    p = make("2026-10-10T09:00+08:00")
    with clock.at(t("2026-10-10T09:00+08:00")):
        p.mark()  # the same instant is not earlier
    with clock.at(t("2026-10-08T10:20+08:00")), pytest.raises(HuifangError) as e:
        p.mark()
    assert str(e.value) == (
        "--now 2026-10-08T10:20:00+08:00 is earlier than the last record of Probe X1 (2026-10-10T09:00:00+08:00): "
        "records never go back in time (a late entry needs an admin's backfill grant on a system-clock store); "
        "nothing was written")
    assert len(p.marks) == 1 and p.version == 2  # the refused event changed nothing


def test_g15_the_system_clock_is_named_when_it_went_back() -> None:
    p = make("2026-10-10T09:00+08:00")
    with clock.at(t("2026-10-10T08:00+08:00"), clock.SYSTEM_CLOCK), pytest.raises(HuifangError) as e:
        p.mark()
    assert str(e.value).startswith("the system clock 2026-10-10T08:00:00+08:00 is earlier than the last record")
    assert "check the host's clock" in str(e.value)


def test_g8_a_backfill_goes_back_but_not_before_the_record_began() -> None:
    p = make("2026-09-28T09:00+08:00")
    with clock.at(t("2026-10-10T09:00+08:00")):
        p.mark()
    entry = clock.Backfill(reason="paper form", actor="n1", grant=1, granted_by="a1",
                           recorded=t("2026-10-10T09:30+08:00"))
    with clock.at(t("2026-10-08T10:20+08:00")):
        clock.enter_backfill(entry)
        assert clock.recorded_now() == entry.recorded
        p.mark()
    assert p.marks[-1] == t("2026-10-08T10:20+08:00")
    with clock.at(t("2026-09-01T09:00+08:00")):
        clock.enter_backfill(entry)
        with pytest.raises(HuifangError, match="before the record it changes began"):
            p.mark()
    with clock.at(t("2026-10-08T10:20+08:00")):  # the backfill ended with its command
        assert clock.backfill() is None
        with pytest.raises(HuifangError, match="earlier than the last record"):
            p.mark()


def test_a_synthetic_history_replays_out_of_order() -> None:
    """`huifang demo` builds months of history one record after another, in-process only."""
    p = make("2026-10-10T09:00+08:00")
    with clock.replay(), clock.at(t("2026-10-01T09:00+08:00")):
        p.mark()
    assert p.marks == [t("2026-10-01T09:00+08:00")]
