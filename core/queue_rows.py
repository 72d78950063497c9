"""The due queue as commands show it, computed from the read side's rows: pure and stdlib-only, so
the full path (core/queries.py `queue`) and the read-only fast path (projections/queue_fast.py,
which must not load the engine) select the same day and format the same rows the same way."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from .status import Status

PLANNED, DUE, OVERDUE = Status.PLANNED.value, Status.DUE.value, Status.OVERDUE.value
QUEUE_LIMIT = 50  # one page of the queue; `huifang queue --limit N` (0 = all) for more


def effective_status(status: str, window_open: datetime, due: datetime, now: datetime) -> str:
    """The status at `now` even if `tick` has not run yet (tick records it as events)."""
    if status in (Status.PLANNED, Status.DUE) and due < now:
        return Status.OVERDUE.value
    if status == Status.PLANNED and window_open <= now:
        return Status.DUE.value
    return status


def queue_until(now: datetime, tz: tzinfo, on: date | None = None) -> datetime:
    """The end of the day shown (`on`, default today at `now` in the deployment's zone `tz`): the
    queue lists the open follow-ups whose window opens before it."""
    day = on or now.astimezone(tz).date()
    return datetime.combine(day + timedelta(days=1), time(0), tz)


# stored instant text -> datetime, and per zone stored text -> local ISO text: pure conversions, kept across
# calls (a served queue lists the same rows again and again), dropped whole when they grow past MEMO_SIZE
_INSTANTS: dict[str, datetime] = {}
_SHOWN: dict[tzinfo, dict[str, str]] = {}
MEMO_SIZE = 20_000


def queue_json(rows: Iterable[Sequence[Any]], now: datetime, tz: tzinfo) -> list[dict[str, Any]]:
    """The queue's JSON rows from the read side's rows (fields in core/ports.QueueRow's order,
    instants as UTC ISO text); each stored instant is converted once per distinct value."""
    if len(_INSTANTS) > MEMO_SIZE or sum(map(len, _SHOWN.values())) > MEMO_SIZE:
        _INSTANTS.clear()
        _SHOWN.clear()
    instants = _INSTANTS
    shown = _SHOWN.setdefault(tz, {})

    def instant(text: str) -> datetime:
        v = instants.get(text)
        if v is None:
            v = instants[text] = datetime.fromisoformat(text)
        return v

    def local(text: str | None) -> str | None:
        if text is None:
            return None
        v = shown.get(text)
        if v is None:
            v = shown[text] = instant(text).astimezone(tz).isoformat(timespec="seconds")
        return v

    at = now.astimezone(UTC)  # the stored instants' zone: comparing aware datetimes of one tzinfo is cheap
    out = []
    for (code, subject, plugin, visit_type, status, window_open, due, owner, channel, attempts, next_attempt_at,
         provisional) in rows:
        if status in (PLANNED, DUE):  # effective_status, inlined (plain str compares: once per row)
            if instant(due) < at:
                status = OVERDUE
            elif status == PLANNED and instant(window_open) <= at:
                status = DUE
        out.append({
            "id": code, "subject": subject, "plugin": plugin, "visit_type": visit_type,
            "status": status, "window_open": local(window_open), "due": local(due), "owner": owner,
            "channel": channel, "attempts": attempts, "next_attempt_at": local(next_attempt_at),
            "provisional": bool(provisional),
        })
    return out
