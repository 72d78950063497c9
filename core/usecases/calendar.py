"""The calendar side of planning (G6, A4).

- Importing a year's official holidays and make-up workdays re-plans every open follow-up whose window
  was computed without it (provisional), with Rescheduled events.
- Nothing is planned that cannot be done: a visit whose window had already closed when it became known
  (a back-dated trigger, a late import) gets a catch-up window from entry, and says so (`catch_up`);
  overdue and lock clocks therefore start when the follow-up became known (timers.py)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from .. import clock
from ..calendar import BusinessCalendar, YearSchedule
from ..contract import PlannedVisit
from ..domain import CalendarBook, FollowUp, Subject
from ..scheduling import Scheduler

if TYPE_CHECKING:
    from ..services import App


def import_calendar(app: App, schedules: list[YearSchedule], actor: str = "cli") -> dict[str, Any]:
    """Store official year schedules and re-plan provisional deadlines."""
    app.access.require(actor, "calendar.import", target="calendar")  # admins
    book = app.find(CalendarBook, "official") or CalendarBook(actor=actor)
    for s in schedules:
        book.import_year(schedule=s.to_json(), actor=actor)
    app.calendar = BusinessCalendar([YearSchedule.from_json(x) for x in book.years.values()])
    codes = app.read_side.open_provisional_followups()
    changed: list[Any] = [book]
    moved = 0
    for c in codes:
        fu = app.load(FollowUp, c, "follow-up")
        rule = fu.meta.get("window_rule")
        if not rule:
            continue
        subj = app.load(Subject, fu.subject, "subject")
        w = app.scheduler(fu.plugin, subj.tz).replan(rule)
        if (w.open, w.due, w.provisional) != (fu.window_open, fu.due, fu.provisional):
            fu.reschedule(window_open=w.open, due=w.due, provisional=w.provisional,
                          reason=f"official calendar imported for {', '.join(str(s.year) for s in schedules)}",
                          actor=actor)
            changed.append(fu)
            moved += 1
    app.commit(*changed)
    return {"years": [s.year for s in schedules], "rescheduled": moved, "checked": len(codes)}


def catch_up(sched: Scheduler, v: PlannedVisit, now: datetime) -> PlannedVisit:
    """G6/A4: a visit whose window closed before it became known (`now`) is re-planned as a catch-up
    call (补访): it opens at the next calling slot and lasts as many calling days as the window it
    missed (at least one full day after entry), with a warning and the missed window in meta
    `late_entry`. Any other visit is returned unchanged."""
    if v.due >= now:
        return v
    sched = sched.for_followup({"clinical_exception": v.clinical_exception})
    first, last = sched.local_day(v.window_open), sched.local_day(v.due)
    days = max(1, sum(1 for i in range((last - first).days + 1) if sched.is_calling_day(first + timedelta(days=i))))
    if v.clinical_exception:  # every day is a calling day: no calendar rule to re-plan later
        opened = sched.next_slot(now)
        fields: dict[str, Any] = {"window_open": opened, "due": sched.end_of(sched.local_day(now) + timedelta(days=days)),
                                  "provisional": False, "window_rule": None}
    else:
        fields = sched.window(now, 0, days, workdays=True).fields()
    known = now.astimezone(sched.tz)
    warning = (f"G6/A4: entered {known:%Y-%m-%d %H:%M}, after its window "
               f"{v.window_open.astimezone(sched.tz):%Y-%m-%d}..{v.due.astimezone(sched.tz):%Y-%m-%d} had passed: "
               f"catch-up call (补访) due {fields['due'].astimezone(sched.tz):%Y-%m-%d}")
    meta = {**v.meta, "late_entry": {"known_at": now.isoformat(), "window_open": v.window_open.isoformat(),
                                     "due": v.due.isoformat()}}
    return v.model_copy(update={**fields, "meta": meta, "warnings": [*v.warnings, warning]})


def calendar_assumption(app: App, fu: FollowUp, tz: str | None) -> dict[str, Any] | None:
    """G6: what a provisional deadline rests on: the holidays fixed by law it counted as off, and the
    movable holidays (春节, 清明, 端午, 中秋) not yet published that may move it (BusinessCalendar.assumption),
    over the days from the event its window was counted from to the deadline."""
    zone = clock.zone(tz)
    rule = fu.meta.get("window_rule") or {}
    start = datetime.fromisoformat(rule["start"]) if rule.get("start") else fu.window_open
    return app.calendar.assumption(start.astimezone(zone).date(), fu.due.astimezone(zone).date())


def planned_meta(v: PlannedVisit) -> dict[str, Any]:
    """What a planned visit carries for later commands, kept in the follow-up's meta: its clinical
    exception (G6: attempts, retries and reminders judged on its clinical days), the warnings told at
    entry, and its guides (G4/M6: shown by `show`)."""
    out: dict[str, Any] = {}
    if v.clinical_exception:
        out["clinical_exception"] = v.clinical_exception
    if v.warnings:
        out["warnings"] = list(v.warnings)
    if v.guides:
        out["guides"] = [g.model_dump() for g in v.guides]
    return out
