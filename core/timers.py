"""`tick`: advance the engine to the logical now (G3 reminders, window opening, overdue,
escalation, A4 locks). Every effect is an event, so a replay reproduces it; running tick twice at
the same instant finds nothing left to do (idempotent), and two workers racing on the same
follow-up conflict on its version: the loser re-reads and finds the work done."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from . import clock
from .bulk import aggregate_id, load_many
from .delivery import run_pending
from .domain import FollowUp, Staff
from .errors import ConflictError
from .sampling import top_up as sample_top_up
from .status import Status
from .usecases.tickets import escalate_overdue

if TYPE_CHECKING:
    from .application import HuifangApp

BATCH = 200
REMIND_SLACK = timedelta(days=1)  # G3: subjects' time zones around the organisation's deadline day
STILL_RUNNING = (Status.PLANNED, Status.DUE)  # open and not yet marked overdue


def tick(app: HuifangApp, actor: str = "system") -> dict[str, Any]:
    # what this tick saved, kept across its retries (a retry re-reads and finds its own earlier
    # batches done, so counting only the last attempt would under-report them)
    done = {"opened": 0, "overdue": 0, "reminded": 0, "escalated": 0, "locked": 0, "tickets_escalated": 0}
    sent: list[dict[str, Any]] = []
    topped: list[dict[str, Any]] = []
    done["topped_up"] = 0
    for _ in range(5):
        try:
            result = _tick(app, actor, done, sent, topped)
            break
        except ConflictError:
            continue  # a concurrent writer touched one of these follow-ups: re-read and redo
    else:
        result = _tick(app, actor, done, sent, topped)
    # G3/G12/G13/G21: what this tick (and earlier commands) recorded goes out through the adapters
    result["delivered"] = run_pending(app, clock.now(), actor)
    return result


def _tick(app: HuifangApp, actor: str, done: dict[str, int], sent: list[dict[str, Any]],
          topped: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    now = clock.now()
    ups = sample_top_up(app, actor)  # G17 floors first: the follow-ups they plan open in this same tick
    done["topped_up"] = done.get("topped_up", 0) + len(ups)
    if topped is not None:
        topped.extend(ups)
    work = app.read_side.tick_work(now, remind_until(app, now))
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

    loaded: dict[str, Any] = {}
    for i, code in enumerate(to_open):
        if i % BATCH == 0:  # the follow-ups to open read BATCH at a time, one query each (bulk.load_many)
            part = to_open[i:i + BATCH]
            loaded = load_many(app, [aggregate_id("followup", c) for c in part], part)
        fu = loaded.get(code) or app.load(FollowUp, code, "follow-up")
        if fu.status == Status.PLANNED and fu.window_open <= now:
            fu.open_window(actor=actor)
            counts["opened"] += 1
            pending.append(fu)
        if len(pending) >= BATCH:
            flush()
    flush()
    for code, plugin in to_remind:
        fu = app.load(FollowUp, code, "follow-up")
        if not fu.closed and not fu.reminded and fu.due >= now and reminder_due(app, fu, plugin, now):
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
    done["tickets_escalated"] += escalate_overdue(app, work.tickets, now, actor)  # G12: overdue tickets climb
    from .usecases.invites import expire_due  # survey links unanswered at their deadline fall back (G7)

    expired = expire_due(app, actor)
    done["invites_expired"] = done.get("invites_expired", 0) + len(expired)
    return {**done, "reminders": list(sent), "top_ups": list(topped or []), "now": clock.iso(now),
            "invites": expired}


def remind_until(app: HuifangApp, now: datetime) -> datetime:
    """G3: the latest deadline whose reminder may be due at `now`: `reminder_days_before` calling days
    ahead on each plugin's calendar (so a holiday week between reminder and deadline is covered)."""
    until = now + REMIND_SLACK
    for plugin in app.registry.plugins:
        sched = app.scheduler(plugin, None)
        d = sched.local_day(now)
        for _ in range(max(app.settings(plugin).reminder_days_before, 0)):
            d += timedelta(days=1)
            for _ in range(400):
                if sched.is_calling_day(d):
                    break
                d += timedelta(days=1)
        until = max(until, sched.end_of(d) + REMIND_SLACK)
    return until


def reminder_due(app: HuifangApp, fu: Any, plugin: str, now: datetime) -> bool:
    """G3: the owner is reminded on the last working day(s) before the deadline, inside working hours and
    not before the window opens (Scheduler.reminder_at; the organisation's time zone, where staff work);
    a visit with a clinical exception (G6) counts its clinical days."""
    sched = app.scheduler(plugin, None).for_followup(fu.meta)
    at = sched.reminder_at(fu.window_open, fu.due, app.settings(plugin).reminder_days_before)
    return at is not None and at <= now and sched.working_hours(now)


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
    """Whole days past the deadline; on working days only when the plugin counts '按工作时间' (A4). The
    clock starts when the follow-up became known (created), never at a back-dated deadline: nobody is
    locked for a call that could not be made in time."""
    settings = app.settings(fu.plugin)
    start = max(fu.due, fu.created_on) if fu.created_on is not None else fu.due
    if not getattr(settings, "lock_working_days", False):
        return int((now - start).total_seconds() // 86400)
    sched = app.scheduler(fu.plugin, app.find_tz(fu.subject))
    return sched.working_days_between(sched.local_day(start), sched.local_day(now))
