"""F8 figures from the views: the follow-ups that count as due, and the rates over them.

Period: a follow-up belongs to the period when its deadline falls in it (as in the core `rates` report).
Started = finance follow-ups whose window has opened by the report instant or that are settled; exempt
follow-ups (F6 signed statement) and second follow-ups (G12 ticket checks, not policy follow-ups) never
count. Due (应访量, as in core `rates`) = started follow-ups that are settled (completed, lost, cancelled)
or past their deadline; an open one whose deadline is still ahead is pending, not yet due.
success rate = reached ÷ the denominator, where the denominator is, by configuration (per report,
`rate_denominator` / `report_denominators`, named in every row as `denominator`): `g15` (G15, 004 §4
art.7, the default) = due − refused − cancelled before contact, refused = refused and never reached,
cancelled before contact = cancelled, never reached nor refused (退保 first); or `due` (004 §4 art.18:
应回访件总量) = every follow-up due. In-cooling-off success rate (F4) = new policies reached before the
cooling-off period ended ÷ the same denominator over new policies. The F4 target (≥ 90%) is always
judged by the G15 formula. Ticket rate (问题件比率) = follow-ups with a ticket ÷ due;
ticket resolution rate (问题件处理完成率) = tickets closed after the second follow-up ÷ tickets.
Channel shares and the F5 fallback share are over the started follow-ups: a follow-up falls back to
a home visit or letter while it is still open.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.engine import Connection

from huifang.core.plugin_api import CLOSED, clock
from huifang.core.plugin_api.reports import ratio
from huifang.core.plugin_api.views import followups, tickets, ts

from .views import FALLBACK_CHANNELS, finance_followups

NAME = "finance"
ALL = "(all)"


@dataclass
class Item:
    code: str
    branch: str | None
    visit_type: str
    owner: str | None
    channel: str
    status: str
    due: str
    reached: bool
    refused: bool
    window_open: str
    cooling_off_until: str | None
    reached_at: str | None
    reached_channel: str | None
    fallback: str | None
    letter_state: str | None = None  # F5: awaiting_reply | returned | replied
    tickets: list[tuple[str, str]] = field(default_factory=list)  # (status, severity)


def as_of_now() -> datetime | None:
    try:
        return clock.now()
    except RuntimeError:  # a report read outside a command: no window cut-off
        return None


def load(conn: Connection, tz: str | None = None, date_from: date | None = None, date_to: date | None = None,
         as_of: datetime | None = None) -> list[Item]:
    """The started follow-ups (see module doc); date_from/date_to select by the deadline's local day."""
    f, x = followups.c, finance_followups.c
    zone = clock.zone(tz)
    q = (select(f.code, f.branch, f.visit_type, f.owner, f.channel, f.status, f.due, f.reached, f.refused,
                f.window_open, x.cooling_off_until, x.reached_at, x.reached_channel, x.fallback_channel,
                x.letter_state)
         .select_from(followups.outerjoin(finance_followups, f.code == x.code))
         .where(f.plugin == NAME, f.visit_type != "second_followup", f.status != "exempt"))
    if as_of is not None:
        q = q.where(or_(f.window_open <= ts(as_of), f.status.in_(sorted(CLOSED))))
    if date_from is not None:
        q = q.where(f.due >= ts(datetime.combine(date_from, time(0), zone)))
    if date_to is not None:
        q = q.where(f.due < ts(datetime.combine(date_to + timedelta(days=1), time(0), zone)))
    items = {r.code: Item(r.code, r.branch, r.visit_type, r.owner, r.channel, r.status, r.due, bool(r.reached),
                          bool(r.refused), r.window_open, r.cooling_off_until, r.reached_at, r.reached_channel,
                          r.fallback_channel, r.letter_state) for r in conn.execute(q.order_by(f.code))}
    t = tickets.c
    for r in conn.execute(select(t.followup, t.status, t.severity).where(t.plugin == NAME)):
        if r.followup in items:
            items[r.followup].tickets.append((r.status, r.severity))
    return list(items.values())


def rate(num: int, den: int) -> float | None:
    """A fraction in [0, 1] (rounded like every report, 6 places); None for a zero denominator."""
    return ratio(num, den) if den > 0 else None


def is_due(i: Item, now_ts: str) -> bool:
    return i.status in CLOSED or i.due <= now_ts


DENOMINATORS = {  # F4/F8: the rate denominators a report may be configured with (module doc)
    "g15": "(due − refused − cancelled before contact) (G15, 004 §4 art.7)",
    "due": "all follow-ups due (应回访件总量, 004 §4 art.18)",
}


def base(due: int, refused: int, cancelled: int, denominator: str) -> int:
    """The rate denominator (module doc)."""
    return due if denominator == "due" else due - refused - cancelled


def success(items: list[Item], denominator: str = "g15") -> tuple[int, int, int, int, float | None]:
    """(due, reached, refused, cancelled before contact, success rate) of due items."""
    due = len(items)
    reached = sum(1 for i in items if i.reached)
    refused = sum(1 for i in items if i.refused and not i.reached)
    cancelled = sum(1 for i in items if i.status == "cancelled" and not i.reached and not i.refused)
    return due, reached, refused, cancelled, rate(reached, base(due, refused, cancelled, denominator))


def in_cooling_off(i: Item) -> bool:
    return bool(i.reached_at and i.cooling_off_until and i.reached_at <= i.cooling_off_until)


def branch_figures(started: list[Item], target: float, now_ts: str, denominator: str = "g15") -> dict[str, Any]:
    items = [i for i in started if is_due(i, now_ts)]
    due, reached, refused, cancelled, success_rate = success(items, denominator)
    policies = [i for i in items if i.visit_type == "new_policy"]
    p_due, p_reached, p_refused, p_cancelled, p_rate = success(policies, denominator)
    g15_rate = success(policies)[4]  # F4: the target is judged by the G15 formula
    p_in = sum(1 for i in policies if in_cooling_off(i))
    n_tickets = sum(len(i.tickets) for i in items)
    closed = sum(1 for i in items for s, _ in i.tickets if s == "closed")
    return {
        "due": due, "reached": reached, "refused": refused, "cancelled_before_contact": cancelled,
        "denominator": denominator, "rate_base": base(due, refused, cancelled, denominator),
        "success_rate": success_rate,
        "policies_due": p_due, "policies_reached": p_reached, "policy_success_rate": p_rate,
        "policies_reached_in_cooling_off": p_in,
        "policy_rate_base": base(p_due, p_refused, p_cancelled, denominator),
        "in_cooling_off_success_rate": rate(p_in, base(p_due, p_refused, p_cancelled, denominator)),
        "meets_f4_target": None if g15_rate is None else g15_rate >= target,
        "tickets": n_tickets, "major_tickets": sum(1 for i in items for _, sev in i.tickets if sev == "major"),
        "ticket_rate": rate(sum(1 for i in items if i.tickets), due),
        "tickets_closed": closed, "ticket_resolution_rate": rate(closed, n_tickets),
        "unresolved_tickets": n_tickets - closed, "pending": len(started) - due,
    }


def with_ticket_shares(rows: list[dict[str, Any]], dims: list[str]) -> list[dict[str, Any]]:
    """004 §4 art.16 (各中心支公司问题件数量及占问题件总量的比重): each row's tickets as a share of the
    tickets of every branch in the same group of the other dimensions (e.g. the same month); the total
    row, and rows not split by branch, hold the whole (1.0). None when there are no tickets."""
    others = [d for d in dims if d != "branch"]
    totals: dict[tuple[Any, ...], int] = defaultdict(int)
    for r in rows:
        if "branch" in dims and r.get("branch") != ALL:
            totals[tuple(r.get(d) for d in others)] += r["tickets"]
    for r in rows:
        whole = totals[tuple(r.get(d) for d in others)] if "branch" in dims and r.get("branch") != ALL \
            else r["tickets"]
        r["ticket_share"] = rate(r["tickets"], whole)
    return rows


def fallback_figures(items: list[Item], limit: float) -> dict[str, Any]:
    """F5: home visits + letters as a share of all follow-ups."""
    n = len(items)
    home = sum(1 for i in items if i.fallback == "home_visit")
    letters = sum(1 for i in items if i.fallback == "letter")
    share = rate(home + letters, n)
    return {"followups": n, "home_visits": home, "letters": letters, "fallbacks": home + letters,
            "letters_awaiting_reply": sum(1 for i in items if i.letter_state == "awaiting_reply"),
            "letters_returned": sum(1 for i in items if i.letter_state == "returned"),
            "fallback_share": share, "limit_share": limit, "within_limit": share is None or share <= limit}


def dim_value(i: Item, dim: str, tz: str | None) -> str:
    if dim == "branch":
        return i.branch or "-"
    if dim == "visit_type":
        return i.visit_type
    if dim == "agent":
        return i.owner or "-"
    if dim == "channel":
        return i.channel
    local = datetime.fromisoformat(i.window_open).astimezone(clock.zone(tz))
    if dim == "month":
        return f"{local:%Y-%m}"
    if dim == "quarter":
        return f"{local.year}-Q{(local.month - 1) // 3 + 1}"
    return ALL


def group(items: list[Item], dims: list[str], tz: str | None) -> dict[tuple[str, ...], list[Item]]:
    out: dict[tuple[str, ...], list[Item]] = defaultdict(list)
    for i in items:
        out[tuple(dim_value(i, d, tz) for d in dims)].append(i)
    return dict(sorted(out.items()))


def fallback_counts(conn: Connection, as_of: datetime | None) -> tuple[int, int]:
    """(due follow-ups, of which home visits or letters) at `as_of`, for the F5 quota warning."""
    items = load(conn, as_of=as_of)
    return len(items), sum(1 for i in items if i.fallback in FALLBACK_CHANNELS)


__all__ = ["ALL", "DENOMINATORS", "Item", "base", "branch_figures", "fallback_counts", "fallback_figures", "group", "load", "success",
           "with_ticket_shares"]
