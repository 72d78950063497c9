"""Due windows and calling slots (G3, G5, G6).

Windows are counted in calendar days or working days on the Chinese business calendar
(holidays and make-up workdays). A calendar-day deadline that falls on a holiday moves to
the next workday (顺延). Window opening is placed at the start of the first calling window
of the opening day; the deadline is the end of the due day in the subject's time zone.
A result computed across a year without official calendar data is provisional.
"""
from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol

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


class Sampler(Protocol):
    """The store's keyed draws (plugin_api.sampling.KeyedSampler; G17)."""

    def draw(self, purpose: str, item: str, rate: float, *, rule: str, day: date, period: str = "month",
             stratum: str = "") -> Any: ...


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
                 tz: str | None = None, weekends: bool = False, sampler: Sampler | None = None):
        self.calendar = calendar
        self.windows = sorted(parse_window(w) for w in calling_windows)
        self.no_holidays = no_holidays
        self.tz = zone(tz)
        # G6 for organisations open seven days (clinics): weekends are workdays, public holidays are not
        self.weekends = weekends
        self.sampler = sampler  # G17: the store's keyed draws (plugin_api.sampling)

    # -- samples (G17) ------------------------------------------------------------------
    def sample(self, purpose: str, item: str, rate: float, *, rule: str, at: datetime, period: str = "month",
               stratum: str = "") -> Any:
        """The keyed draw (a plugin_api.sampling.Draw) of `item` (a trigger id) for `purpose` at `rate`, in
        the floor's `period` of the local day of `at` and its `stratum`."""
        if self.sampler is None:
            raise RuntimeError("this scheduler has no sampling key: build it with the store's sampler "
                               "(HuifangApp.scheduler, or plugin_api.testing.scheduler for fakes)")
        return self.sampler.draw(purpose, item, rate, rule=rule, day=self.local_day(at), period=period,
                                 stratum=stratum)

    # -- days ---------------------------------------------------------------------------
    def local_day(self, instant: datetime) -> date:
        return instant.astimezone(self.tz).date()

    def is_calling_day(self, d: date) -> bool:
        if not self.no_holidays:
            return True
        if self.weekends:
            return not self.calendar.is_public_holiday(d)
        return self.calendar.is_workday(d)

    def clinical(self) -> Scheduler:
        """The same calling windows with every day a calling day: a visit whose type declares a
        clinical exception (G6, e.g. a dressing change) is called on its clinical day, holiday or not."""
        other = copy.copy(self)
        other.no_holidays = False
        return other

    def for_followup(self, meta: Mapping[str, Any]) -> Scheduler:
        """The scheduler a follow-up's attempts, retries and reminders are judged by (G6): the clinical
        one when its plan kept a clinical day (meta `clinical_exception`)."""
        return self.clinical() if meta.get("clinical_exception") else self

    def calling_day_before(self, d: date, n: int = 1) -> date:
        """The n-th calling day strictly before d."""
        for _ in range(n):
            d -= timedelta(days=1)
            for _ in range(400):
                if self.is_calling_day(d):
                    break
                d -= timedelta(days=1)
        return d

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

    def add_window_hours(self, start: datetime, hours: float) -> datetime:
        """The instant `hours` of calling-window time after `start` (G12: the second follow-up within
        4 h of the ticket's answer).

        Only time inside a calling window on a calling day counts: hours outside the windows, nights,
        weekends and public holidays are skipped, and a make-up workday (调休) counts like any workday.
        So with the hospital windows 10–12 and 15–17, 4 h from 18:30 (or from any time after 17:00)
        end at 17:00 on the next calling day, and from 16:00 they end at 16:00 on the next one (1 h
        today, 2 h in the morning window, 1 h after 15:00). The result is always inside (or at the
        end of) a window, so the follow-up it bounds can be done in time. 0 hours: `start` itself."""
        if hours < 0:
            raise ValueError(f"hours must be 0 or more, not {hours}")
        left = timedelta(hours=hours)
        if not left:
            return start
        local = start.astimezone(self.tz)
        d = local.date()
        for _ in range(400):
            if self.is_calling_day(d):
                for open_at, close_at in self.windows:
                    s = max(datetime.combine(d, open_at, self.tz), local)
                    e = datetime.combine(d, close_at, self.tz)
                    if s >= e:
                        continue
                    if e - s >= left:
                        return s + left
                    left -= e - s
            d += timedelta(days=1)
        raise ValueError("no calling window within 400 days: check the calling windows and calendar")

    def working_hours(self, instant: datetime) -> bool:
        """Inside the working day: a calling day, from the start of its first calling window to the end
        of its last (G3: staff are reminded then, not at night nor on a holiday)."""
        local = instant.astimezone(self.tz)
        return self.is_calling_day(local.date()) and self.windows[0][0] <= local.time() < self.windows[-1][1]

    def reminder_at(self, window_open: datetime, due: datetime, days: int = 1) -> datetime | None:
        """G3: when the owner of a follow-up is reminded of its deadline: at the start of the working day
        `days` calling days before the due day (so never on a holiday), but not before the window
        opens; None when no working time is left before the deadline."""
        day = self.calling_day_before(self.local_day(due), days) if days > 0 else self.local_day(due)
        at = max(datetime.combine(day, self.windows[0][0], self.tz), window_open)
        if not self.working_hours(at):
            at = self.next_slot(at)
        return at if at <= due else None

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
