"""A9 client grades from spend (003 §10): A ≥ 1,500 a month, B 800–1,500, C < 800; six months in a row
under 150 (划卡低于150元) or abusive (无礼多事) → blacklist: no marketing follow-ups, care continues.

Spend is the `amount` of the client's `procedure` triggers (cash or a package-card swipe), summed per
calendar month in the client's time zone (the clinic's unless their file names another). The grade is
the average over the last `grade_months` complete months; the blacklist needs `blacklist_months`
complete months, all under the floor, since the client's first treatment (a new client is never
blacklisted for spend)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from huifang.core.plugin_api import clock

if TYPE_CHECKING:
    from .settings import AestheticsSettings

PROCEDURE = "aesthetics.procedure"


def month_of(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def months_before(d: date, n: int) -> list[str]:
    """The n complete months before the month of d, oldest first."""
    y, m = d.year, d.month
    out = []
    for _ in range(n):
        m -= 1
        if m == 0:
            y, m = y - 1, 12
        out.append(f"{y:04d}-{m:02d}")
    return list(reversed(out))


def monthly_spend(rows: Iterable[dict[str, Any]], tz: str) -> dict[str, float]:
    spend: dict[str, float] = {}
    for r in rows:
        if r.get("kind") != PROCEDURE:
            continue
        at = r["occurred_at"]
        at = datetime.fromisoformat(at) if isinstance(at, str) else at
        key = month_of(at.astimezone(clock.zone(tz)).date())
        spend[key] = spend.get(key, 0.0) + float((r.get("attributes") or {}).get("amount") or 0)
    return spend


def grade(rows: Iterable[dict[str, Any]], subject_attributes: dict[str, Any], now: datetime, tz: str,
          settings: AestheticsSettings) -> dict[str, Any]:
    rows = list(rows)
    spend = monthly_spend(rows, tz)
    today = now.astimezone(clock.zone(tz)).date()
    window = months_before(today, settings.grade_months)
    average = round(sum(spend.get(m, 0.0) for m in window) / len(window), 2)
    letter = "A" if average >= settings.grade_a_monthly else "B" if average >= settings.grade_b_monthly else "C"
    reason = None
    flag = subject_attributes.get("blacklisted")  # A9 abusive: set by `huifang aesthetics blacklist`
    if flag and str(flag).lower() not in ("false", "0", "no"):
        reason = str(subject_attributes.get("blacklist_reason") or "abusive (无礼多事)")
    else:
        first = min((m for m in spend), default=None)
        last6 = months_before(today, settings.blacklist_months)
        treated = [r for r in rows if r.get("kind") == PROCEDURE]
        if first is not None and treated and first <= last6[0] and \
                all(spend.get(m, 0.0) < settings.blacklist_monthly for m in last6):
            reason = (f"spend under {settings.blacklist_monthly:g} a month for {settings.blacklist_months} "
                      f"months ({last6[0]}..{last6[-1]})")
    return {"grade": letter, "average_monthly": average, "months": window,
            "spend": {k: spend[k] for k in sorted(spend)}, "blacklisted": reason is not None,
            "blacklist_reason": reason}
