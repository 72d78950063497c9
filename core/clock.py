"""The clock every command runs at. Domain code never reads the wall clock: a command runs at one
instant (`now()`), set by the CLI edge, and event timestamps are taken from it (see domain.base).

Where that instant comes from is the store's clock mode, chosen at `init` and recorded (timekeeping.py):
`logical` (demos, tests, replays: `--now` as given) or `system` (production: the host's clock, read in
`wall_clock()` and nowhere else). In both, a record never goes back in time (`check_order`), except in
an admin-granted backfill (`Backfill`), which is itself recorded and flagged in reports.
"""
from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TypeVar, overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import HuifangError

DEFAULT_TZ = "Asia/Shanghai"
LOGICAL, SYSTEM = MODES = ("logical", "system")
NOW_OPTION = "--now"
SYSTEM_CLOCK = "the system clock"


@dataclass(frozen=True)
class Backfill:
    """A late entry an admin allowed: the command runs at the instant the entry claims (`--now`), while
    `recorded` is when it was really entered (the wall clock)."""

    reason: str
    actor: str  # who enters it
    grant: int  # the admin's grant it is made under (BackfillLog)
    granted_by: str
    recorded: datetime


@dataclass(frozen=True)
class Moment:
    """The instant of the running command, how it was chosen (named in errors), and any backfill."""

    instant: datetime
    source: str = NOW_OPTION
    backfill: Backfill | None = None


_now: contextvars.ContextVar[Moment | None] = contextvars.ContextVar("huifang_now", default=None)
_replay: contextvars.ContextVar[bool] = contextvars.ContextVar("huifang_replay", default=False)


def wall_clock() -> datetime:
    """The host's clock, aware. The one place it is read (the CLI edge, system-mode stores)."""
    return datetime.now().astimezone()


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_TZ)
    except (ZoneInfoNotFoundError, ValueError):
        raise HuifangError(f"time zone '{name}' is unknown: use an IANA name such as Asia/Shanghai") from None


def parse_instant(value: str | datetime, field: str = "--now", tz: str | None = None) -> datetime:
    """ISO-8601 date or datetime; a naive value is read in `tz` (default Asia/Shanghai)."""
    if isinstance(value, datetime):
        dt = value
    else:
        text = str(value).strip()
        try:
            dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            try:
                dt = datetime.combine(date.fromisoformat(text), time(0))
            except ValueError:
                raise HuifangError(
                    f"{field}: '{value}' is not an ISO-8601 date or datetime (e.g. 2026-11-23T09:30+08:00)"
                ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=zone(tz))
    return in_range(dt, field, value)


def parse_day(value: str, field: str = "--on") -> date:
    try:
        day = date.fromisoformat(str(value).strip())
    except ValueError:
        raise HuifangError(f"{field}: '{value}' is not a date (YYYY-MM-DD)") from None
    return in_range(day, field, value)


YEARS = (1900, 2199)  # what a follow-up can be about; 0001 or 9999 would overflow time zone and window arithmetic
_D = TypeVar("_D", date, datetime)


def in_range(when: _D, field: str, given: object) -> _D:
    if not YEARS[0] <= when.year <= YEARS[1]:
        raise HuifangError(f"{field}: '{given}' is out of range (years {YEARS[0]}-{YEARS[1]})")
    return when


def moment() -> Moment:
    value = _now.get()
    if value is None:
        raise RuntimeError("no logical time set: run inside clock.at(...)")
    return value


def now() -> datetime:
    """The current logical instant of the running command."""
    return moment().instant


def backfill() -> Backfill | None:
    value = _now.get()
    return value.backfill if value is not None else None


def recorded_now() -> datetime:
    """When the running command is really entered: the wall clock of a backfill, else now()."""
    m = moment()
    return m.backfill.recorded if m.backfill is not None else m.instant


@contextlib.contextmanager
def at(instant: datetime, source: str = NOW_OPTION) -> Iterator[datetime]:
    token = _now.set(Moment(instant, source))
    try:
        yield instant
    finally:
        _now.reset(token)


@contextlib.contextmanager
def replay() -> Iterator[None]:
    """In-process builders of a whole synthetic history (`huifang demo`, on a fresh logical-clock store)
    play one record's timeline after another: inside, the order of records is not checked."""
    token = _replay.set(True)
    try:
        yield
    finally:
        _replay.reset(token)


def enter_backfill(entry: Backfill) -> None:
    """Mark the rest of the running command (inside `at`) as a backfill; `at` ends it."""
    m = moment()
    _now.set(Moment(m.instant, m.source, entry))


def check_order(instant: datetime, last: datetime | None, what: str | Callable[[], str],
                first: datetime | None = None) -> None:
    """A record is never earlier than `last` (`what`: the last record of the same aggregate, or the
    store's high-water time less the tolerance): refused on one line naming where the instant came
    from. A backfill may go back past `last`, never before `first` (when the record began)."""
    m = _now.get()
    entry = m.backfill if m is not None else None
    if (entry is None and (last is None or instant >= last)) or _replay.get():
        return
    if entry is not None and (first is None or instant >= first):
        return
    source = m.source if m is not None else NOW_OPTION
    what = what if isinstance(what, str) else what()
    if entry is not None:
        raise HuifangError(f"{source} {iso(instant)} is before the record it changes began ({iso(first)}; "
                           f"{what}): a backfill cannot predate its record; nothing was written")
    hint = ("check the host's clock (NTP)" if source == SYSTEM_CLOCK else
            "records never go back in time (a late entry needs an admin's backfill grant on a system-clock store)")
    raise HuifangError(f"{source} {iso(instant)} is earlier than {what} ({iso(last)}): {hint}; "
                       f"nothing was written")


@overload
def iso(dt: datetime, tz: str | None = None) -> str: ...
@overload
def iso(dt: None, tz: str | None = None) -> None: ...
@overload
def iso(dt: datetime | None, tz: str | None = None) -> str | None: ...


def iso(dt: datetime | None, tz: str | None = None) -> str | None:
    if dt is None:
        return None
    return dt.astimezone(zone(tz)).isoformat(timespec="seconds")
