"""Due windows and calling slots (G3, G5, G6).

Windows are counted in calendar days or working days on the Chinese business calendar
(holidays and make-up workdays). A calendar-day deadline that falls on a holiday moves to
the next workday (顺延). Window opening is placed at the start of the first calling window
of the opening day; the deadline is the end of the due day in the subject's time zone.
A result computed across a year without official calendar data is provisional.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from .calendar import BusinessCalendar
from .clock import zone

_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_window(text: str) -> tuple[time, time]:
    m = _WINDOW.match(text)
    if not m:
        raise ValueError(f"calling window '{text}' is not HH:MM-HH:MM (e.g. 10:00-12:00)")
    h1, m1, h2, m2 = map(int, m.groups())
    try:
        start, end = time(h1, m1), time(h2, m2)
    except ValueError:
        raise ValueError(f"calling window '{text}' has an impossible time") from None
    if end <= start:
        raise ValueError(f"calling window '{text}' ends before it starts")
    return start, end


@dataclass(frozen=True)
class Window:
    open: datetime
    due: datetime
    provisional: bool
    rule: dict | None = None  # how it was computed, so an official calendar can re-plan it

    def fields(self) -> dict:
        """Keyword arguments for contract.PlannedVisit."""
        return {"window_open": self.open, "due": self.due, "provisional": self.provisional,
                "window_rule": self.rule}


class Scheduler:
    """Window arithmetic for one plugin's settings and one subject's time zone."""

    def __init__(self, calendar: BusinessCalendar, calling_windows: list[str], no_holidays: bool = True,
                 tz: str | None = None, weekends: bool = False):
        self.calendar = calendar
        self.windows = sorted(parse_window(w) for w in calling_windows)
        self.no_holidays = no_holidays
        self.tz = zone(tz)
        # G6 for organisations open seven days (clinics): weekends are workdays, public holidays are not
        self.weekends = weekends

    # -- days ---------------------------------------------------------------------------
    def local_day(self, instant: datetime) -> date:
        return instant.astimezone(self.tz).date()

    def is_calling_day(self, d: date) -> bool:
        if not self.no_holidays:
            return True
        if self.weekends:
            return not self.calendar.is_public_holiday(d)
        return self.calendar.is_workday(d)

    def roll(self, d: date) -> date:
        if not self.no_holidays:
            return d
        if self.weekends:
            while self.calendar.is_public_holiday(d):
                d += timedelta(days=1)
            return d
        return self.calendar.next_workday(d)

    def day_after(self, start: datetime | date, days: int) -> date:
        d = start if isinstance(start, date) and not isinstance(start, datetime) else self.local_day(start)
        return self.roll(d + timedelta(days=days))

    def workday_after(self, start: datetime | date, n: int) -> date:
        d = start if isinstance(start, date) and not isinstance(start, datetime) else self.local_day(start)
        if self.weekends and self.no_holidays and n > 0:
            for _ in range(n):
                d = self.roll(d + timedelta(days=1))
            return d
        return self.calendar.add_workdays(d, n)

    def working_days_between(self, a: date, b: date) -> int:
        """Calling (working) days strictly after a and strictly before b: full working days elapsed
        between two days (A4 '按工作时间核算')."""
        return sum(1 for i in range(1, (b - a).days) if self.is_calling_day(a + timedelta(days=i)))

    # -- instants -------------------------------------------------------------------------
    def opening(self, d: date) -> datetime:
        """Start of the first calling window of day d (rolled to a calling day)."""
        d = self.roll(d)
        return datetime.combine(d, self.windows[0][0], self.tz)

    def end_of(self, d: date) -> datetime:
        return datetime.combine(d, time(23, 59, 59), self.tz)

    def window(self, start: datetime, open_days: int, due_days: int, *, workdays: bool = False,
               cap: date | None = None) -> Window:
        """Follow-up window `open_days`..`due_days` after `start` (calendar or working days);
        `cap` is an absolute latest due day (e.g. F1: never later than one calendar month)."""
        if workdays:
            od = self.workday_after(start, open_days) if open_days else self.roll(self.local_day(start))
            dd = self.workday_after(start, due_days)
        else:
            od = self.day_after(start, open_days)
            dd = self.day_after(start, due_days)
        if cap is not None and dd > cap:
            dd = cap
            if self.no_holidays and self.weekends:
                while self.calendar.is_public_holiday(dd):
                    dd -= timedelta(days=1)
            elif self.no_holidays:
                dd = self.calendar.previous_workday(cap)
        if od > dd:
            od = dd
        opened = self.next_slot(max(self.opening(od), start))  # never before the event itself
        if opened > self.end_of(dd):
            opened = self.opening(dd)
        provisional = self.calendar.is_provisional(self.local_day(start), max(dd, od))
        rule = {"start": start.isoformat(), "open_days": open_days, "due_days": due_days,
                "workdays": workdays, "cap": cap.isoformat() if cap else None}
        return Window(open=opened, due=self.end_of(dd), provisional=provisional, rule=rule)

    def replan(self, rule: dict) -> Window:
        return self.window(datetime.fromisoformat(rule["start"]), rule["open_days"], rule["due_days"],
                           workdays=rule["workdays"],
                           cap=date.fromisoformat(rule["cap"]) if rule.get("cap") else None)

    def next_slot(self, after: datetime) -> datetime:
        """The first instant >= after inside a calling window on a calling day (G6)."""
        local = after.astimezone(self.tz)
        d = local.date()
        for _ in range(400):
            if self.is_calling_day(d):
                for start, end in self.windows:
                    s = datetime.combine(d, start, self.tz)
                    e = datetime.combine(d, end, self.tz)
                    if local < e:
                        return max(s, local)
            d += timedelta(days=1)
            local = datetime.combine(d, time(0), self.tz)
        raise ValueError("no calling slot within 400 days: check the calling windows and calendar")

    def slot_of(self, instant: datetime) -> tuple[date, int] | None:
        """(day, window index) of an instant, or None if outside every calling window."""
        local = instant.astimezone(self.tz)
        for i, (start, end) in enumerate(self.windows):
            if start <= local.time() < end:
                return local.date(), i
        return None

    def in_window(self, instant: datetime) -> bool:
        return self.slot_of(instant) is not None and self.is_calling_day(self.local_day(instant))

    def next_retry(self, last: datetime) -> datetime:
        """G5: retry at another time: the next calling window after the one of `last`."""
        slot = self.slot_of(last)
        local = last.astimezone(self.tz)
        if slot is None:
            return self.next_slot(last)
        d, i = slot
        end = datetime.combine(d, self.windows[i][1], self.tz)
        return self.next_slot(max(end, local))
