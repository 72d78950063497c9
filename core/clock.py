"""Logical time. Domain code never reads the wall clock: every command runs at an
explicit instant (`--now` / HUIFANG_NOW), so scenarios, tests and replays are deterministic.
Event timestamps are taken from this clock too (see domain.base)."""
from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from datetime import date, datetime, time
from typing import overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import HuifangError

DEFAULT_TZ = "Asia/Shanghai"
_now: contextvars.ContextVar[datetime | None] = contextvars.ContextVar("huifang_now", default=None)


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
    return dt


def parse_day(value: str, field: str = "--on") -> date:
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise HuifangError(f"{field}: '{value}' is not a date (YYYY-MM-DD)") from None


def now() -> datetime:
    """The current logical instant of the running command."""
    value = _now.get()
    if value is None:
        raise RuntimeError("no logical time set: run inside clock.at(...)")
    return value


@contextlib.contextmanager
def at(instant: datetime) -> Iterator[datetime]:
    token = _now.set(instant)
    try:
        yield instant
    finally:
        _now.reset(token)


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
