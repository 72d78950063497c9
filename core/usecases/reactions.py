"""The reaction interpreter: what a plugin answers to an attempt or a completion (contract.Reaction),
applied to the follow-up and saved with it in the same commit.

PlanVisit plans another follow-up of the same trigger (once per key); OpenTicket opens a ticket
(G12, G13) and notifies; Escalate moves the case up the ladder; SwitchChannel changes the next
attempt's channel (G7, F5); Reschedule moves its deadline (F5: a letter's reply); Notify leaves a
note for a staff member; Warn only speaks.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .. import clock
from ..contract import Escalate, Notify, OpenTicket, PlanVisit, Reschedule, SwitchChannel, Warn
from ..domain import FollowUp, Subject, Trigger
from .plans import new_followup, trigger_info
from .tickets import escalation_target, open_ticket_for

if TYPE_CHECKING:
    from ..services import App


def react(app: App, fu: FollowUp, subj: Subject, reactions: Iterable[Any], actor: str,
          messages: list[str]) -> list[Any]:
    """Apply the reactions to `fu` (changed in place); returns the other aggregates to save and adds
    what happened to `messages`."""
    changed: list[Any] = []
    trigger: Trigger | None = None  # loaded once: several PlanVisits all add to the same object
    for r in reactions:
        if isinstance(r, PlanVisit):
            trigger = trigger or app.load(Trigger, fu.trigger, "trigger")
            code = f"{trigger.code}-{r.visit.key}"
            if code in trigger.followups or any(getattr(c, "code", None) == code for c in changed):
                continue
            new = new_followup(app, trigger_info(trigger), r.visit, subj, actor, {"planned_by": fu.code})
            trigger.add_followup(followup=new.code, actor=actor)
            changed += [new, trigger]
            messages.append(f"planned {new.code} ({new.visit_type}) due {clock.iso(new.due, subj.tz)}")
        elif isinstance(r, OpenTicket):
            ticket = open_ticket_for(app, fu, r, actor, messages)
            changed.append(ticket)
            messages.append(f"ticket {ticket.code} opened for {ticket.department} ({ticket.severity}), owner "
                            f"{ticket.owner or '-'}, due {clock.iso(ticket.deadline, subj.tz)}")
            for who in r.notify:  # the note may carry what the subject said: stored encrypted (G8)
                fu.notify(to=who, message=app.keyring.seal(fu.subject, f"ticket {ticket.code}: "
                                                                        f"{r.note or r.category}"), actor=actor)
        elif isinstance(r, Escalate):
            to = r.to or escalation_target(app, fu, actor)  # G13 default: the callback agent's supervisor, then up
            fu.escalate(to=to, reason=r.reason, level=len(fu.escalations) + 1, actor=actor)
            messages.append(f"escalated to {to or 'management'}: {r.reason}")
        elif isinstance(r, SwitchChannel):
            if r.channel != fu.channel:
                fu.switch_channel(channel=r.channel, reason=r.reason, actor=actor)
                messages.append(f"next attempt by {r.channel}: {r.reason}")
        elif isinstance(r, Notify):
            fu.notify(to=r.to, message=app.keyring.seal(fu.subject, r.message), actor=actor)
            messages.append(f"notified {r.to}: {r.message}")
        elif isinstance(r, Warn):
            messages.append(r.message)
        elif isinstance(r, Reschedule):  # e.g. F5: a sent letter's reply deadline
            fu.reschedule(window_open=r.window_open or fu.window_open, due=r.due, provisional=fu.provisional,
                          reason=r.reason, actor=actor)
            messages.append(f"due {clock.iso(r.due, subj.tz)}: {r.reason}")
    # the trigger is listed once per planned visit: save each aggregate once
    unique: dict[Any, Any] = {}
    for c in changed:
        unique[c.id] = c
    return list(unique.values())
