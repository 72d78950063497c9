"""Business-day calendar for rule G6: never schedule a follow-up on a Chinese public holiday.

Why this is *data*, not a library call: ``chinese_calendar`` only knows the years the State
Council has already published (2004-2026 in 1.11) and raises for later years, yet deadlines
computed today land in the next year.  So the official schedule of a year can be imported
(``huifang calendar import FILE`` -> :func:`load_schedule_file`), an imported year replaces the
library's data for that year, and a year with no official data is *provisional*: Mon-Fri are
workdays except the holidays the law fixes on fixed dates (元旦, 劳动节, 国庆: :data:`FIXED_HOLIDAYS`),
while the movable ones (春节, 清明, 端午, 中秋: :data:`MOVABLE_HOLIDAYS`) and every make-up workday are
unknown until the State Council publishes the year; :meth:`BusinessCalendar.assumption` says so for a
deadline, so callers can flag deadlines that may move.

Everything here is pure (no clock, no I/O) except :func:`load_schedule_file`.
"""
from __future__ import annotations

import csv
import io
import json
import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import chinese_calendar

from .clock import YEARS
from .inputs import text_problem

DEFAULT_TZ = "Asia/Shanghai"

__all__ = [
    "DEFAULT_TZ", "FIXED_HOLIDAYS", "MOVABLE_HOLIDAYS", "BusinessCalendar", "CalendarFileError", "YearSchedule",
    "builtin_years", "load_schedule_file",
]

# G6, provisional years: the days off the law fixes on Gregorian dates (全国年节及纪念日放假办法, as
# revised by 国务院令第795号, in force from 2025), as (name, month, day).
FIXED_HOLIDAYS: tuple[tuple[str, int, int], ...] = (
    ("元旦", 1, 1), ("劳动节", 5, 1), ("劳动节", 5, 2), ("国庆", 10, 1), ("国庆", 10, 2), ("国庆", 10, 3))
# The holidays that move with the lunar calendar or the solar terms, with the span of days (month, day)
# their break (and its bridging days) can cover in any year: a provisional deadline whose window
# touches one of these spans may move when the year's schedule is published.
MOVABLE_HOLIDAYS: tuple[tuple[str, tuple[int, int], tuple[int, int]], ...] = (
    ("春节", (1, 20), (2, 28)), ("清明", (4, 3), (4, 7)), ("端午", (5, 28), (6, 27)), ("中秋", (9, 6), (10, 8)))


class CalendarFileError(ValueError):
    """A calendar file (or JSON payload) is unusable; the message is one line: file, row/field, fix."""


@dataclass(frozen=True)
class YearSchedule:
    """The official schedule of one year: days off and make-up workdays (调休).

    A day is a workday iff it is in ``workdays``, or it is Mon-Fri and not in ``holidays``
    (the same rule ``chinese_calendar`` uses), so weekend days inside a holiday may be listed or not.
    """

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    source: str

    def to_json(self) -> dict:
        return {
            "year": self.year,
            "holidays": sorted(d.isoformat() for d in self.holidays),
            "workdays": sorted(d.isoformat() for d in self.workdays),
            "source": self.source,
        }

    @classmethod
    def from_json(cls, d: Any) -> YearSchedule:
        """Inverse of :meth:`to_json`; validates like a file (raises :class:`CalendarFileError`)."""
        return _year_from_obj(d, "YearSchedule", "", "unknown")


# --------------------------------------------------------------------------- built-in data

@cache
def _builtin_years() -> tuple[int, ...]:
    """Years ``chinese_calendar`` accepts, found by asking it (it raises NotImplementedError otherwise)."""
    seen = {d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays}
    known = []
    for y in range(min(seen) - 5, max(seen) + 6):
        try:
            chinese_calendar.is_workday(date(y, 6, 1))
        except NotImplementedError:
            continue
        known.append(y)
    return tuple(known)


def builtin_years() -> list[int]:
    """Years with official data shipped in the installed ``chinese_calendar``."""
    return list(_builtin_years())


@cache
def _builtin_schedules() -> dict[int, YearSchedule]:
    hol: dict[int, set[date]] = defaultdict(set)
    wd: dict[int, set[date]] = defaultdict(set)
    for d in chinese_calendar.holidays:
        hol[d.year].add(d)
    for d in chinese_calendar.workdays:
        wd[d.year].add(d)
    source = f"chinese_calendar {getattr(chinese_calendar, '__version__', '?')}"
    return {y: YearSchedule(y, frozenset(hol[y]), frozenset(wd[y]), source) for y in _builtin_years()}


@cache
def provisional_schedule(year: int) -> YearSchedule:
    """What is known of a year before its official schedule: the holidays fixed by law (G6)."""
    days = frozenset(date(year, m, d) for _, m, d in FIXED_HOLIDAYS)
    return YearSchedule(year, days, frozenset(), "provisional: holidays fixed by law only")


@cache
def _compile(year: int, sched: YearSchedule) -> tuple[int, ...]:
    """Sorted ordinals of the workdays of ``year``: every query is a bisect on this tuple."""
    first = date(year, 1, 1).toordinal()
    last = date(year, 12, 31).toordinal()
    hol = {d.toordinal() for d in sched.holidays}
    wd = {d.toordinal() for d in sched.workdays}
    # date.fromordinal(o).weekday() == (o + 6) % 7
    return tuple(o for o in range(first, last + 1) if o in wd or ((o + 6) % 7 < 5 and o not in hol))


# --------------------------------------------------------------------------- calendar

class BusinessCalendar:
    """Workday arithmetic over official data (built-in + imported); a year without it falls back to
    Mon-Fri with the holidays fixed by law (provisional).

    Each year is compiled once into a sorted tuple of workday ordinals, so ``add_workdays`` for
    hundreds of days is a couple of bisects, not a per-day loop.
    """

    def __init__(self, imported: Iterable[YearSchedule] = ()) -> None:
        # later schedules for the same year win: replaying imports in order keeps the newest
        self._imported: dict[int, YearSchedule] = {s.year: s for s in imported}
        self._years: dict[int, tuple[int, ...]] = {}

    def schedule(self, year: int) -> YearSchedule | None:
        """The official schedule in force for ``year`` (imported beats built-in), or None."""
        return self._imported.get(year) or _builtin_schedules().get(year)

    def _ords(self, year: int) -> tuple[int, ...]:
        try:
            return self._years[year]
        except KeyError:
            if not 1 <= year <= 9999:
                raise OverflowError(f"year {year} is out of range") from None
            ords = self._years[year] = _compile(year, self._in_force(year))
            return ords

    def _in_force(self, year: int) -> YearSchedule:
        return self.schedule(year) or provisional_schedule(year)

    def is_official(self, year: int) -> bool:
        return year in self._imported or year in _builtin_schedules()

    def known_years(self) -> list[int]:
        return sorted(set(self._imported) | set(_builtin_years()))

    def is_workday(self, d: date) -> bool:
        ords, o = self._ords(d.year), d.toordinal()
        i = bisect_left(ords, o)
        return i < len(ords) and ords[i] == o

    def is_holiday(self, d: date) -> bool:
        return not self.is_workday(d)

    def is_public_holiday(self, d: date) -> bool:
        """An official day off (法定节假日 break), not an ordinary weekend: for organisations that work
        weekends (settings.open_weekends). A year without official data knows the days fixed by law."""
        sched = self._in_force(d.year)
        return d in sched.holidays and d not in sched.workdays

    def next_workday(self, d: date) -> date:
        o, y = d.toordinal(), d.year
        while True:
            ords = self._ords(y)
            i = bisect_left(ords, o)
            if i < len(ords):
                return date.fromordinal(ords[i])
            y += 1

    def previous_workday(self, d: date) -> date:
        o, y = d.toordinal(), d.year
        while True:
            ords = self._ords(y)
            i = bisect_right(ords, o) - 1
            if i >= 0:
                return date.fromordinal(ords[i])
            y -= 1

    def add_workdays(self, d: date, n: int) -> date:
        """The n-th workday strictly after ``d`` (n<0: strictly before); n == 0 -> next_workday(d)."""
        if n == 0:
            return self.next_workday(d)
        o, y = d.toordinal(), d.year
        ords = self._ords(y)
        if n > 0:
            i = bisect_right(ords, o) + n - 1
            while i >= len(ords):
                i -= len(ords)
                y += 1
                ords = self._ords(y)
        else:
            i = bisect_left(ords, o) + n
            while i < 0:
                y -= 1
                ords = self._ords(y)
                i += len(ords)
        return date.fromordinal(ords[i])

    def add_days(self, d: date, n: int) -> date:
        """``d + n`` calendar days, rolled forward (顺延) to the next workday if it is a holiday."""
        return self.next_workday(d + timedelta(days=n))

    def workdays_between(self, a: date, b: date) -> int:
        """Number of workdays in (a, b]; negative if b < a, so it is a difference of ranks."""
        if b < a:
            return -self.workdays_between(b, a)
        total = sum(len(self._ords(y)) for y in range(a.year, b.year))
        return total - bisect_right(self._ords(a.year), a.toordinal()) + bisect_right(
            self._ords(b.year), b.toordinal())

    def provisional_years(self, a: date, b: date) -> list[int]:
        """Years touched by [a, b] whose holidays are not official yet (Mon-Fri fallback used)."""
        lo, hi = sorted((a.year, b.year))
        return [y for y in range(lo, hi + 1) if not self.is_official(y)]

    def is_provisional(self, a: date, b: date) -> bool:
        return bool(self.provisional_years(a, b))

    def assumption(self, a: date, b: date) -> dict[str, Any] | None:
        """What a deadline computed over [a, b] assumes where a year has no official data (G6): the
        fixed-by-law holidays counted as off, and the movable holidays whose possible span touches
        [a, b] (their dates, and every make-up workday, unknown). None when [a, b] is all official."""
        a, b = sorted((a, b))
        years = self.provisional_years(a, b)
        if not years:
            return None
        fixed: list[str] = []
        unknown: list[str] = []
        for y in years:
            for name, m, d in FIXED_HOLIDAYS:
                day = date(y, m, d)
                if a <= day <= b and f"{name} {day}" not in fixed:
                    fixed.append(f"{name} {day}")
            for name, (m1, d1), (m2, d2) in MOVABLE_HOLIDAYS:
                if date(y, m1, d1) <= b and a <= date(y, m2, d2) and name not in unknown:
                    unknown.append(name)
        listed = ", ".join(str(y) for y in years)
        text = (f"{listed}: no official holiday schedule yet; assumed Mon-Fri workdays with the holidays fixed "
                f"by law off ({', '.join(fixed) if fixed else 'none in this window'})")
        text += (f"; {', '.join(unknown)} not yet published: the deadline may move" if unknown
                 else "; no movable holiday (春节, 清明, 端午, 中秋) falls in this window")
        text += "; make-up workdays (调休) unknown"
        return {"years": years, "fixed_holidays": fixed, "unknown_holidays": unknown, "text": text}


# --------------------------------------------------------------------------- file import

_DATE_RE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")
_KINDS = {
    "holiday": "holiday", "休": "holiday", "假": "holiday", "假日": "holiday", "放假": "holiday",
    "workday": "workday", "班": "workday", "补班": "workday", "上班": "workday", "工作日": "workday",
}
_JSON_FIELDS = ("year", "holidays", "workdays", "source")


def _parse_date(s: Any) -> date | None:
    m = _DATE_RE.match(s.strip()) if isinstance(s, str) else None
    try:
        return date(*map(int, m.groups())) if m else None
    except ValueError:
        return None


def _year_from_obj(obj: Any, where: str, prefix: str, default_source: str) -> YearSchedule:
    """Validate one JSON year object; ``where`` names the file, ``prefix`` the item ('[1].')."""
    def fail(msg: str) -> CalendarFileError:
        return CalendarFileError(f"{where}: {prefix}{msg}")

    if not isinstance(obj, dict):
        raise fail(f"{'item' if prefix else 'top level'} must be an object with year, holidays, workdays, source")
    for key in obj:
        if key not in _JSON_FIELDS:
            raise fail(f"unknown field {key!r}; allowed: {', '.join(_JSON_FIELDS)}")
    year = obj.get("year")
    if year is None:
        raise fail('year is missing; add e.g. "year": 2027')
    if isinstance(year, bool) or not isinstance(year, int) or not 1 <= year <= 9999:
        raise fail(f"year {year!r} is not a year number (e.g. 2027)")
    lists: dict[str, dict[date, int]] = {}
    for field in ("holidays", "workdays"):
        items = obj.get(field, [])
        if not isinstance(items, list):
            raise fail(f'{field} must be a list of "YYYY-MM-DD" strings')
        seen: dict[date, int] = {}
        for i, s in enumerate(items):
            d = _parse_date(s)
            if d is None:
                raise fail(f"{field}[{i}] {s!r} is not a date (YYYY-MM-DD)")
            if d.year != year:
                raise fail(f"{field}[{i}] '{d}' is not in year {year}; move it to a {d.year} entry")
            seen.setdefault(d, i)
        lists[field] = seen
    if not lists["holidays"]:
        raise fail(f"holidays is empty; an import replaces all of {year}, so list its official days off")
    for d, i in lists["workdays"].items():
        if d in lists["holidays"]:
            raise fail(f"workdays[{i}] '{d}' is also in holidays[{lists['holidays'][d]}]; keep it in one list")
    source = obj.get("source", default_source)
    if not isinstance(source, str) or not source.strip():
        raise fail('source must be a non-empty string (e.g. the notice number "国办发明电〔2026〕x号")')
    return YearSchedule(year, frozenset(lists["holidays"]), frozenset(lists["workdays"]), source.strip())


def _load_json(text: str, name: str) -> list[YearSchedule]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise CalendarFileError(f"{name}: not valid JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
    if isinstance(data, list):
        if not data:
            raise CalendarFileError(f"{name}: the list is empty; add one object per year")
        out = [_year_from_obj(o, name, f"[{i}].", name) for i, o in enumerate(data)]
    else:
        out = [_year_from_obj(data, name, "", name)]
    years = [s.year for s in out]
    for y in years:
        if years.count(y) > 1:
            raise CalendarFileError(f"{name}: year {y} appears {years.count(y)} times; merge them into one object")
    return sorted(out, key=lambda s: s.year)


def _load_csv(text: str, name: str) -> list[YearSchedule]:
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    kinds: dict[date, tuple[str, int]] = {}
    for row in reader:
        row = [c.strip() for c in row]
        n = reader.line_num
        if not any(row):
            continue
        if header is None:
            header = [c.lower() for c in row]
            if header[:2] not in (["date", "kind"], ["日期", "类型"]) or len(header) > 3:
                raise CalendarFileError(f"{name} row {n}: header must be date,kind[,name] (got {','.join(row)!r})")
            continue
        if len(row) not in (2, len(header)):
            raise CalendarFileError(f"{name} row {n}: expected columns {','.join(header)}, got {len(row)} values")
        d = _parse_date(row[0])
        if d is None:
            raise CalendarFileError(f"{name} row {n}: date {row[0]!r} is not a date (YYYY-MM-DD)")
        kind = _KINDS.get(row[1].lower())
        if kind is None:
            raise CalendarFileError(f"{name} row {n}: kind {row[1]!r} is not one of holiday, workday (or 休, 班)")
        prev = kinds.setdefault(d, (kind, n))
        if prev[0] != kind:
            raise CalendarFileError(
                f"{name} row {n}: {d} is {kind} here but {prev[0]} in row {prev[1]}; keep one of them")
    if header is None:
        raise CalendarFileError(f"{name}: no header; the first line must be date,kind[,name]")
    if not kinds:
        raise CalendarFileError(f"{name}: no dates after the header; add rows like 2027-01-01,holiday")
    by_year: dict[int, dict[str, set[date]]] = defaultdict(lambda: {"holiday": set(), "workday": set()})
    for d, (kind, _) in kinds.items():
        by_year[d.year][kind].add(d)
    out = []
    for y in sorted(by_year):
        if not by_year[y]["holiday"]:
            first = min(kinds[d][1] for d in by_year[y]["workday"])
            raise CalendarFileError(
                f"{name} row {first}: year {y} has workdays but no holidays; an import replaces the whole year, "
                f"so list all of {y}'s holidays too or drop its rows")
        out.append(YearSchedule(y, frozenset(by_year[y]["holiday"]), frozenset(by_year[y]["workday"]), name))
    return out


def load_schedule_file(path: str | Path) -> list[YearSchedule]:
    """Parse an official schedule file (JSON or CSV, UTF-8 with/without BOM or GB18030).

    Each returned year *replaces* that year's data when given to :class:`BusinessCalendar`.
    """
    p = Path(path)
    name = p.name
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise CalendarFileError(f"{name}: cannot read file ({e.strerror}); check the path") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030").lstrip("\ufeff")
        except UnicodeDecodeError:
            raise CalendarFileError(f"{name}: neither UTF-8 nor GB18030 text; save it as UTF-8") from None
    if not text.strip():
        raise CalendarFileError(f"{name}: file is empty; expected JSON year objects or CSV with header date,kind[,name]")
    suffix = p.suffix.lower()
    if suffix == ".json" or (suffix != ".csv" and text.lstrip()[:1] in ("{", "[")):
        schedules = _load_json(text, name)
    else:
        schedules = _load_csv(text, name)
    for s in schedules:  # the one input rule (inputs.py) and the years a clock accepts (clock.YEARS)
        problem = text_problem(s.source)
        if problem is not None:
            raise CalendarFileError(f"{name}: source of {s.year} {problem}")
        if not YEARS[0] <= s.year <= YEARS[1]:
            raise CalendarFileError(f"{name}: year {s.year} is out of range ({YEARS[0]}-{YEARS[1]})")
    return schedules
