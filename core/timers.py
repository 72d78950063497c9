"""`tick`: advance the engine to the logical now (G3 reminders, window opening, overdue,
escalation, A4 locks). Every effect is an event, so a replay reproduces it; running tick twice at
the same instant finds nothing left to do (idempotent), and two workers racing on the same
follow-up conflict on its version: the loser re-reads and finds the work done."""
from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from . import clock
from .domain import FollowUp, Staff
from .errors import ConflictError
from .status import Status

if TYPE_CHECKING:
    from .application import HuifangApp

BATCH = 200
REMIND_LEAD = timedelta(days=3)  # G3: the largest reminder lead of any plugin
STILL_RUNNING = (Status.PLANNED, Status.DUE)  # open and not yet marked overdue


def tick(app: HuifangApp, actor: str = "system") -> dict[str, Any]:
    # what this tick saved, kept across its retries (a retry re-reads and finds its own earlier
    # batches done, so counting only the last attempt would under-report them)
    done = {"opened": 0, "overdue": 0, "reminded": 0, "escalated": 0, "locked": 0}
    sent: list[dict[str, Any]] = []
    for _ in range(5):
        try:
            return _tick(app, actor, done, sent)
        except ConflictError:
            continue  # a concurrent writer touched one of these follow-ups: re-read and redo
    return _tick(app, actor, done, sent)


def _tick(app: HuifangApp, actor: str, done: dict[str, int], sent: list[dict[str, Any]]) -> dict[str, Any]:
    now = clock.now()
    work = app.read_side.tick_work(now, now + REMIND_LEAD)
    to_open, to_overdue, to_remind, overdue_rows = work.to_open, work.to_overdue, work.to_remind, work.overdue
    counts = {"opened": 0, "overdue": 0, "reminded": 0, "escalated": 0, "locked": 0}
    reminders: list[dict[str, Any]] = []
    pending: list[Any] = []

    def flush() -> None:
        if pending:
            app.commit(*pending)
            pending.clear()
        for k, v in counts.items():  # counted once saved
            done[k] += v
            counts[k] = 0
        sent.extend(reminders)
        reminders.clear()

    for code in to_open:
        fu = app.load(FollowUp, code, "follow-up")
        if fu.status == Status.PLANNED and fu.window_open <= now:
            fu.open_window(actor=actor)
            counts["opened"] += 1
            pending.append(fu)
        if len(pending) >= BATCH:
            flush()
    flush()
    for code, plugin in to_remind:
        fu = app.load(FollowUp, code, "follow-up")
        days = app.settings(plugin).reminder_days_before
        local_due = fu.due.astimezone(clock.zone(None)).date()
        if not fu.closed and not fu.reminded and now.astimezone(clock.zone(None)).date() >= \
                local_due - timedelta(days=days) and fu.due >= now:
            fu.remind(to=fu.owner, actor=actor)
            reminders.append({"followup": fu.code, "to": fu.owner, "due": clock.iso(fu.due)})
            counts["reminded"] += 1
            pending.append(fu)
        if len(pending) >= BATCH:
            flush()
    flush()
    for code in to_overdue:
        fu = app.load(FollowUp, code, "follow-up")
        if fu.status in STILL_RUNNING and fu.due < now:
            fu.mark_overdue(actor=actor)
            counts["overdue"] += 1
            boss = app.ladder(fu.owner)[:1] if fu.owner else []
            fu.escalate(to=boss[0] if boss else None, reason="deadline passed with no outcome", level=1,
                        actor=actor)
            counts["escalated"] += 1
            pending.append(fu)
        if len(pending) >= BATCH:
            flush()
    flush()
    done["locked"] += _locks(app, now, overdue_rows, actor)
    return {**done, "reminders": list(sent), "now": clock.iso(now)}


def _locks(app: HuifangApp, now: Any, rows: list[tuple[str, str, str, str]], actor: str) -> int:
    """A4: the owner of a follow-up past its window is locked; level by days overdue."""
    ladder_cfg = app.config.huifang.lock_ladder
    by_owner: dict[str, list[tuple[str, int, int]]] = {}
    for code, _owner, _due, plugin in rows:
        if not (ladder_cfg.enabled or app.settings(plugin).lock_ladder):
            continue
        fu = app.load(FollowUp, code, "follow-up")
        if not fu.owner:  # reassigned to the pool since the view was read
            continue
        days = _days_overdue(app, fu, now)
        if days < ladder_cfg.level1_days:
            continue
        level = 3 if days >= ladder_cfg.hard_days else 2 if days >= ladder_cfg.level2_days else 1
        by_owner.setdefault(fu.owner, []).append((code, level, days))
    locked = 0
    for owner, items in sorted(by_owner.items()):
        staff = app.find(Staff, owner)
        if staff is None:
            continue
        live = [(c, lv, d) for c, lv, d in items if staff.cleared.get(c, 0) < lv]
        if not live:
            continue
        level = max(lv for _, lv, _ in live)
        days = max(d for _, _, d in live)
        # a lock already at this level still grows to name every overdue follow-up, so one unlock
        # clears them all instead of the next tick re-locking on the ones it did not name
        if staff.lock and staff.lock["level"] >= level and \
                {c for c, _, _ in live} <= set(staff.lock["followups"]):
            continue
        if staff.lock and staff.lock["level"] > level:
            level = staff.lock["level"]
            live += [(c, level, 0) for c in staff.lock["followups"] if c not in {x for x, _, _ in live}]
            days = max(days, staff.lock.get("days_overdue", 0))
        staff.lock_at(level=level, followups=sorted(c for c, _, _ in live), days_overdue=days, actor=actor)
        app.commit(staff)
        locked += 1
    return locked


def _days_overdue(app: HuifangApp, fu: Any, now: Any) -> int:
    """Whole days past the deadline; on working days only when the plugin counts '按工作时间' (A4)."""
    settings = app.settings(fu.plugin)
    if not getattr(settings, "lock_working_days", False):
        return int((now - fu.due).total_seconds() // 86400)
    sched = app.scheduler(fu.plugin, app.find_tz(fu.subject))
    return sched.working_days_between(sched.local_day(fu.due), sched.local_day(now))
