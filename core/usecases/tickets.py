"""Tickets (问题件, G12): a problem found in a follow-up goes to an owner with a deadline; a major
anomaly is escalated at once (G13) and an overdue ticket one step up the ladder per deadline span
(`tick`); the department's answer plans a second follow-up (二次回访) within 4 calling-window hours,
and only the subject's confirmation closes the ticket. A 不满意 answer carries its reason (G16)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from .. import clock
from ..contract import (
    DISSATISFACTION_CODE,
    DISSATISFACTION_REASON,
    DISSATISFIED,
    SATISFACTION_ALIASES,
    OpenTicket,
    PlannedVisit,
    Settings,
    TicketInfo,
    TicketRoute,
)
from ..domain import FollowUp, Staff, Subject, Ticket, Trigger
from ..errors import HuifangError
from ..labels import resolve
from .plans import new_followup, trigger_info
from .staff import department_head

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ..services import App

SEVERITIES = ("normal", "major")
MIN_STEP = timedelta(hours=1)  # G12: the shortest interval between two overdue steps of one ticket


# -- G16: the reason for a 不满意 answer -----------------------------------------------------------
def split_reason(answers: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The survey's answers, and the dissatisfaction reason given beside them."""
    keys = (DISSATISFACTION_CODE, DISSATISFACTION_REASON)
    return ({k: v for k, v in answers.items() if k not in keys},
            {k: v for k, v in answers.items() if k in keys})


def dissatisfaction(satisfaction: Any, given: Mapping[str, Any], reasons: Mapping[str, str]) -> dict[str, str]:
    """G16 (003 §5: 追问不满意的原因, 并准确详细记录): a 不满意 answer needs its reason, a code (or its
    label) and the subject's own words, before the completion is saved; any other answer takes none.
    Returns the answer keys to keep."""
    code = str(given.get(DISSATISFACTION_CODE) or "").strip()
    text = str(given.get(DISSATISFACTION_REASON) or "").strip()
    choices = ", ".join(f"{k} ({v})" for k, v in reasons.items())
    if SATISFACTION_ALIASES.get(str(satisfaction), satisfaction) != DISSATISFIED:
        if code or text:
            raise HuifangError("only a 不满意 (dissatisfied) answer takes a reason", field="reason_code")
        return {}
    if not code:
        raise HuifangError(f"不满意 needs the reason (G16, 003 §5): one of {choices}; and --reason with the "
                           f"subject's words", field="reason_code")
    by_label = {v: k for k, v in reasons.items()}
    if code not in reasons and code not in by_label:
        raise HuifangError(f"'{code}' is not one of {choices}", field="reason_code")
    if not text:
        raise HuifangError("不满意 needs the subject's reason in their words (G16, 003 §5), e.g. "
                           "--reason \"等候时间太长\"", field="reason")
    return {DISSATISFACTION_CODE: by_label.get(code, code), DISSATISFACTION_REASON: text}


def seal_reason(app: App, subject: str, answers: dict[str, Any]) -> dict[str, Any]:
    """G8: the subject's words are personal data (stored encrypted); the code stays plain for reports."""
    if DISSATISFACTION_REASON not in answers:
        return answers
    return {**answers, DISSATISFACTION_REASON: app.keyring.seal(subject, answers[DISSATISFACTION_REASON])}


# -- G12/G13: owner and escalation ladder -----------------------------------------------------------
def callback_agent(app: App, fu: FollowUp, actor: str) -> str | None:
    """Who found the problem: the acting staff member, else the follow-up's owner (a pool follow-up
    worked by an agent is theirs to escalate from)."""
    if actor not in ("system", "cli") and app.find(Staff, actor) is not None:
        return actor
    return fu.owner


def escalation_ladder(app: App, settings: Settings, agent: str | None, owner: str | None,
                      first: list[str]) -> list[str]:
    """G13: the route's first steps, the callback agent's supervisors nearest first (above the owner
    when the owner is one of them), the owner's supervisors, then the plugin's `management`; each once,
    never the owner."""
    above = app.ladder(agent) if agent else []
    if owner in above:
        above = above[above.index(owner) + 1:]
    chain = [*first, *above, *(app.ladder(owner) if owner else []), settings.management]
    out: list[str] = []
    for who in chain:
        if who and who != owner and who not in out:
            out.append(who)
    return out


def escalation_target(app: App, fu: FollowUp, actor: str) -> str | None:
    """G13 default target of an Escalate reaction: the callback agent's supervisor, then up."""
    ladder = escalation_ladder(app, app.settings(fu.plugin), callback_agent(app, fu, actor), None, [])
    return ladder[0] if ladder else None


def route(app: App, fu: FollowUp, r: OpenTicket, actor: str) -> TicketRoute:
    """The plugin's routing of the ticket (hook huifang_ticket_route), or the engine's default."""
    got = app.registry.call(fu.plugin, "huifang_ticket_route",
                            ticket=TicketInfo(category=r.category, department=r.department, severity=r.severity,
                                              owner=r.owner, opened_by=actor),
                            followup=app.info(fu), settings=app.settings(fu.plugin), history=app.history)
    if got is None:
        return TicketRoute()
    return got if isinstance(got, TicketRoute) else TicketRoute.model_validate(got)


def open_ticket_for(app: App, fu: FollowUp, r: OpenTicket, actor: str,
                    messages: list[str] | None = None) -> Ticket:
    """The ticket `TK-<follow-up>-<n>` (not saved; `fu` links it). Owner: the reaction's, the route's,
    the head of the route's (or the ticket's) department, else the callback agent's supervisor (G12);
    deadline: the reaction's, else the plugin's working days or hours (G12)."""
    n = len(fu.tickets) + 1
    code = f"TK-{fu.code}-{n}"
    settings = app.settings(fu.plugin)
    now = clock.now()
    way = route(app, fu, r, actor)
    agent = callback_agent(app, fu, actor)
    first = [s for s in way.escalate_to if s]
    owner = r.owner or way.owner or department_head(app, way.head_of or r.department) or \
        (department_head(app, r.department) if way.head_of else None)
    if owner is None:  # no head named: the callback agent's supervisor (or the next up) owns it
        ladder = escalation_ladder(app, settings, agent, None, first)
        owner = ladder[0] if ladder else None
    ladder = escalation_ladder(app, settings, agent, owner, first)
    workdays = r.deadline_workdays or (None if r.deadline_hours else settings.ticket_deadline_workdays)
    if workdays:
        subj = app.find(Subject, fu.subject)
        sched = app.scheduler(fu.plugin, subj.tz if subj is not None else None)
        deadline = sched.end_of(sched.workday_after(now, workdays))
    else:
        deadline = now + timedelta(hours=r.deadline_hours or settings.ticket_deadline_hours)
    answers = fu.answers or {}
    # G8: a category shaped like a code stays plain for the G12/G19 reports; typed text is sealed
    ticket = Ticket(code=code, followup=fu.code, subject=fu.subject, plugin=fu.plugin,
                    category=app.keyring.seal_reason(fu.subject, r.category),
                    department=r.department, severity=r.severity, owner=owner, deadline=deadline,
                    note=app.keyring.seal(fu.subject, r.note), actor=actor, agent=agent, escalate_to=first,
                    reason_code=answers.get(DISSATISFACTION_CODE), reason=answers.get(DISSATISFACTION_REASON))
    fu.link_ticket(ticket=code, actor=actor)
    say = messages if messages is not None else []
    if owner is None:
        say.append(f"G12: ticket {code} has no owner: name the head of {r.department} "
                   f"(huifang staff head {r.department} STAFF_ID) or the agent's supervisor (--reports-to)")
    elif way.notify_owner and owner not in r.notify:
        fu.notify(to=owner, message=app.keyring.seal(fu.subject, f"ticket {code}: {r.note or r.category}"),
                  actor=actor)
    if r.severity == "major":  # G13: escalate to management at once
        top = ladder[0] if ladder else owner  # an owner with nobody above is management already
        if top:
            ticket.escalate(to=top, reason="major anomaly: management informed at once", rule="G13",
                            actor=actor, from_staff=agent)
        else:
            say.append(f"G13: nobody to escalate {code} to: set [plugins.{fu.plugin}] management or the "
                       f"reporting line (--reports-to)")
    return ticket


def open_ticket(app: App, code: str, category: str, department: str, severity: str = "normal",
                note: str = "", actor: str = "cli") -> Ticket:
    severity = resolve("severity", severity, SEVERITIES, "severity")  # the code, 重大 or Major
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


def escalate_overdue(app: App, codes: list[str], now: datetime, actor: str = "system") -> int:
    """G12 at `tick`: an open ticket past its deadline goes one step up its ladder, and one more each
    further deadline span (the time the owner had, at least an hour) without an answer; each step is
    an Escalated event (level, from, to, rule). The top of the ladder keeps it. Returns the steps."""
    steps = 0
    for code in codes:
        ticket = app.find(Ticket, code)
        if ticket is None or ticket.status != "open" or ticket.deadline >= now:
            continue
        fu = app.find(FollowUp, ticket.followup)
        agent = ticket.agent or (fu.owner if fu is not None else None)
        ladder = escalation_ladder(app, app.settings(ticket.plugin), agent, ticket.owner, list(ticket.escalate_to))
        span = max(ticket.deadline - ticket.created_on, MIN_STEP)
        due = 1 + int((now - ticket.deadline) / span)
        taken = 0
        while ticket.overdue_steps < due and len(ticket.escalations) < len(ladder):
            ticket.escalate(to=ladder[len(ticket.escalations)], rule="G12", actor=actor,
                            reason=f"deadline {clock.iso(ticket.deadline)} passed without the department's answer")
            taken += 1
        if taken:
            app.commit(ticket)
            steps += taken
    return steps


def resolve_ticket(app: App, code: str, note: str, actor: str = "cli") -> tuple[Ticket, FollowUp]:
    """The department's answer; plans the second follow-up (二次回访) on the same trigger, by the owner
    of the follow-up that found the problem, due within `second_followup_hours` of calling-window time
    (G12: Scheduler.add_window_hours; an answer after hours is confirmed in the next windows)."""
    if not (note or "").strip():
        raise HuifangError("say how the problem was handled", field="note")
    ticket = app.load(Ticket, code, "ticket")
    app.access.require(actor, "ticket.resolve", ticket=ticket)  # the department or its managers (G8)
    origin = app.load(FollowUp, ticket.followup, "follow-up")
    trigger = app.load(Trigger, origin.trigger, "trigger")
    subj = app.load(Subject, origin.subject, "subject")
    now = clock.now()
    sched = app.scheduler(origin.plugin, subj.tz)
    due = sched.add_window_hours(now, app.settings(origin.plugin).second_followup_hours)
    n = sum(1 for f in trigger.followups if f.startswith(f"{trigger.code}-{origin.key}-recheck"))
    visit = PlannedVisit(key=f"{origin.key}-recheck{n + 1}", visit_type="second_followup",
                         window_open=min(sched.next_slot(now), due), due=due, owner=origin.owner,
                         owner_role=origin.owner_role, channel=origin.channel, excluded_staff=origin.excluded_staff,
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
