"""Month arithmetic for plans anchored on months (P3 half-years, P6 one month, P9 warranty)."""
from __future__ import annotations

import calendar
from datetime import date, datetime

from huifang.core.plugin_api import Scheduler, Window


def add_months(d: date, n: int) -> date:
    """Same day n months later, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    y, m = divmod(d.month - 1 + n, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def offset(scheduler: Scheduler, start: datetime, day: date) -> int:
    """Calendar days from the local day of `start` to `day` (Scheduler.window counts from there)."""
    return (day - scheduler.local_day(start)).days


def window_between(scheduler: Scheduler, start: datetime, first: date, last: date) -> Window:
    """A window opening on `first` and due at the end of `last`, kept as a re-plannable rule of `start`."""
    return scheduler.window(start, offset(scheduler, start, first), offset(scheduler, start, last))
