"""`huifang ticket open|resolve|show`: problems found during follow-ups (G12, G13)."""
from __future__ import annotations

from typing import Any

import click

from huifang.core import clock
from huifang.core.plugin_api.cli import json_option

from .output import emit
from .state import State, run


@click.group()
def ticket() -> None:
    """Tickets (问题件, G12): problems found during follow-ups."""


def ticket_json(t: Any, app: Any = None) -> dict[str, Any]:
    data = {"id": t.code, "followup": t.followup, "subject": t.subject, "category": t.category,
            "department": t.department, "severity": t.severity, "status": t.status, "owner": t.owner,
            "deadline": clock.iso(t.deadline), "resolution": t.resolution,
            "second_followup": t.second_followup, "escalations": t.escalations}
    return app.keyring.reveal_all(data) if app is not None else data  # the resolution is encrypted (G8)


@ticket.command("open")
@click.argument("followup_id")
@click.option("--category", required=True)
@click.option("--dept", required=True)
@click.option("--severity", default="normal", help="normal|major")
@click.option("--note", default="")
@json_option
@click.pass_context
def ticket_open(ctx: click.Context, followup_id: str, category: str, dept: str, severity: str, note: str) -> None:
    """Open a ticket on a follow-up."""
    def go(s: State) -> None:
        t = s.app().open_ticket(followup_id, category, dept, severity, note, actor=s.actor)
        emit(s, ticket_json(t, s.app()), f"ticket {t.code} opened for {dept}, due {clock.iso(t.deadline)}")
    run(ctx, go)


@ticket.command("resolve")
@click.argument("ticket_id")
@click.option("--note", required=True)
@json_option
@click.pass_context
def ticket_resolve(ctx: click.Context, ticket_id: str, note: str) -> None:
    """Record the department's handling; plans the second follow-up (二次回访)."""
    def go(s: State) -> None:
        t, second = s.app().resolve_ticket(ticket_id, note, actor=s.actor)
        emit(s, {**ticket_json(t, s.app()), "second_followup_due": clock.iso(second.due)},
             f"ticket {t.code} resolved; second follow-up {second.code} due {clock.iso(second.due)}")
    run(ctx, go)


@ticket.command("show")
@click.argument("ticket_id")
@json_option
@click.pass_context
def ticket_show(ctx: click.Context, ticket_id: str) -> None:
    """One ticket."""
    from huifang.core.domain import Ticket

    def go(s: State) -> None:
        data = ticket_json(s.app().load(Ticket, ticket_id, "ticket"), s.app())
        emit(s, data, "\n".join(f"{k}: {v}" for k, v in data.items()))
    run(ctx, go)
