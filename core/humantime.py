"""Times as an operator reads them: `11-02 23:59`, `今天 15:00`, `明天 09:00`, `逾期2天`.

Stdlib only: the read-only fast path of `huifang queue` formats its rows with it too. Machines get
ISO instants in `--json`; these forms are for people.
"""
from __future__ import annotations

from datetime import datetime, tzinfo

WORDS = {
    "zh_CN": {"today": "今天", "tomorrow": "明天", "overdue_days": "逾期{n}天", "overdue_today": "逾期 {hm}"},
    "en": {"today": "today", "tomorrow": "tomorrow", "overdue_days": "overdue {n}d", "overdue_today": "overdue {hm}"},
}


def _words(lang: str | None) -> dict[str, str]:
    return WORDS["en"] if (lang or "zh_CN").startswith("en") else WORDS["zh_CN"]


def short(dt: datetime | None, tz: tzinfo, now: datetime | None = None) -> str:
    """`11-02 23:59` in `tz`; with the year (`2027-01-04 10:00`) when it is not the year of `now`."""
    if dt is None:
        return "-"
    local = dt.astimezone(tz)
    if now is not None and now.astimezone(tz).year != local.year:
        return local.strftime("%Y-%m-%d %H:%M")
    return local.strftime("%m-%d %H:%M")


def due_text(due: datetime, now: datetime, tz: tzinfo, lang: str | None = None) -> str:
    """A deadline relative to `now`: `今天 15:00`, `明天 23:59`, `逾期2天` (whole calendar days in
    `tz`), `逾期 09:00` (passed earlier today), else the short form."""
    w = _words(lang)
    local, today = due.astimezone(tz), now.astimezone(tz)
    days = (local.date() - today.date()).days
    hm = local.strftime("%H:%M")
    if due < now:
        return w["overdue_today"].format(hm=hm) if days == 0 else w["overdue_days"].format(n=-days)
    if days == 0:
        return f"{w['today']} {hm}"
    if days == 1:
        return f"{w['tomorrow']} {hm}"
    return short(due, tz, now)


def parse(text: str | None) -> datetime | None:
    """An ISO instant as the JSON rows carry it (None stays None)."""
    return datetime.fromisoformat(text) if text else None
