"""The official calendar (G6): importing a year's holidays and make-up workdays re-plans every open
follow-up whose window was computed without it (provisional), with Rescheduled events."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..calendar import BusinessCalendar, YearSchedule
from ..domain import CalendarBook, FollowUp, Subject

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
