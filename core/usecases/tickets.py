"""Tickets (问题件, G12): a problem found in a follow-up goes to a department with a deadline; a
major anomaly is escalated at once (G13); the department's answer plans a second follow-up
(二次回访) within hours, and only the subject's confirmation closes the ticket."""
from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .. import clock
from ..contract import OpenTicket, PlannedVisit
from ..domain import FollowUp, Subject, Ticket, Trigger
from ..errors import HuifangError
from .plans import new_followup, trigger_info

if TYPE_CHECKING:
    from ..services import App

SEVERITIES = ("normal", "major")


def open_ticket_for(app: App, fu: FollowUp, r: OpenTicket, actor: str) -> Ticket:
    """The ticket `TK-<follow-up>-<n>` (not saved; `fu` links it)."""
    n = len(fu.tickets) + 1
    code = f"TK-{fu.code}-{n}"
    settings = app.settings(fu.plugin)
    now = clock.now()
    if r.deadline_workdays:
        subj_tz = app.load(Subject, fu.subject, "subject").tz
        sched = app.scheduler(fu.plugin, subj_tz)
        deadline = sched.end_of(sched.workday_after(now, r.deadline_workdays))
    else:
        deadline = now + timedelta(hours=r.deadline_hours or settings.ticket_deadline_hours)
    # G8: a category shaped like a code stays plain for the G12/G19 reports; typed text is sealed
    ticket = Ticket(code=code, followup=fu.code, subject=fu.subject, plugin=fu.plugin,
                    category=app.keyring.seal_reason(fu.subject, r.category),
                    department=r.department, severity=r.severity, owner=r.owner, deadline=deadline,
                    note=app.keyring.seal(fu.subject, r.note), actor=actor)
    fu.link_ticket(ticket=code, actor=actor)
    if r.severity == "major":  # G13: escalate to management at once
        ticket.escalate(to=r.owner, reason="major anomaly: management informed at once (G13)", actor=actor)
    return ticket


def open_ticket(app: App, code: str, category: str, department: str, severity: str = "normal",
                note: str = "", actor: str = "cli") -> Ticket:
    if severity not in SEVERITIES:
        raise HuifangError(f"'{severity}' is not one of {', '.join(SEVERITIES)}", field="severity")
    if not category.strip():
        raise HuifangError("must not be empty", field="category")
    if not department.strip():
        raise HuifangError("must not be empty", field="department")
    fu = app.load(FollowUp, code, "follow-up")
    app.access.require(actor, "followup.work", fu=fu)
    ticket = open_ticket_for(app, fu, OpenTicket(category=category, department=department,
                                                 severity="major" if severity == "major" else "normal",
                                                 note=note), actor)
    app.commit(fu, ticket)
    return ticket


def resolve_ticket(app: App, code: str, note: str, actor: str = "cli") -> tuple[Ticket, FollowUp]:
    """The department's answer; plans the second follow-up (二次回访) within hours (G12) on the same
    trigger, by the owner of the follow-up that found the problem."""
    if not (note or "").strip():
        raise HuifangError("say how the problem was handled", field="note")
    ticket = app.load(Ticket, code, "ticket")
    app.access.require(actor, "ticket.resolve", ticket=ticket)  # the department or its managers (G8)
    origin = app.load(FollowUp, ticket.followup, "follow-up")
    trigger = app.load(Trigger, origin.trigger, "trigger")
    subj = app.load(Subject, origin.subject, "subject")
    now = clock.now()
    hours = app.settings(origin.plugin).second_followup_hours
    n = sum(1 for f in trigger.followups if f.startswith(f"{trigger.code}-{origin.key}-recheck"))
    visit = PlannedVisit(key=f"{origin.key}-recheck{n + 1}", visit_type="second_followup", window_open=now,
                         due=now + timedelta(hours=hours), owner=origin.owner, owner_role=origin.owner_role,
                         channel=origin.channel, excluded_staff=origin.excluded_staff,
                         excluded_roles=origin.excluded_roles, department=origin.department, branch=origin.branch)
    second = new_followup(app, trigger_info(trigger), visit, subj, actor,
                          {"ticket": ticket.code, "planned_by": origin.code})
    ticket.resolve(note=app.keyring.seal(ticket.subject, note), second_followup=second.code, actor=actor)
    trigger.add_followup(followup=second.code, actor=actor)
    app.commit(ticket, second, trigger)
    return ticket, second


def confirm(app: App, fu: FollowUp, answers: dict[str, Any], actor: str, messages: list[str]) -> Ticket:
    """A completed second follow-up: the subject says whether the problem is solved (G12)."""
    ticket = app.load(Ticket, fu.meta["ticket"], "ticket")
    if answers.get("resolved") == "no":
        ticket.reopen(reason="subject says the problem is not resolved (second follow-up)", actor=actor)
        messages.append(f"G12: ticket {ticket.code} reopened: the subject says it is not resolved")
    else:
        ticket.close(confirmed=True, actor=actor)
        messages.append(f"G12: ticket {ticket.code} closed after the second follow-up")
    return ticket
