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
            "second_followup": t.second_followup, "escalations": t.escalations,
            "agent": t.agent, "reason_code": t.reason_code, "reason": t.reason}
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
        emit(s, ticket_json(t, s.app()), f"ticket {t.code} opened for {dept}, owner {t.owner or '-'}, "
                                          f"due {clock.iso(t.deadline)}")
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


@ticket.command("list")
@click.option("--mine", is_flag=True, help="Tickets you own (--as STAFF_ID).")
@click.option("--dept", default=None, help="Tickets of this department.")
@click.option("--open", "open_only", is_flag=True, help="Only tickets not yet resolved.")
@click.option("--limit", type=click.IntRange(min=0), default=100, show_default=True, help="At most this many (0 = all).")
@json_option
@click.pass_context
def ticket_list(ctx: click.Context, mine: bool, dept: str | None, open_only: bool, limit: int) -> None:
    """Tickets, soonest deadline first (subjects by code: no personal data)."""
    from huifang.core import humantime, labels
    from huifang.core.errors import HuifangError
    from huifang.projections.ticket_list import ticket_rows

    from .output import table

    def go(s: State) -> None:
        app = s.app()
        if mine and app.access.staff(s.actor) is None:
            raise HuifangError("name who you are (--as STAFF_ID) to list your tickets", field="mine")
        rows = ticket_rows(app, owner=s.actor if mine else None, dept=dept, open_only=open_only, limit=limit or None)
        tz = clock.zone(app.config.huifang.timezone)
        for r in rows:
            for k in ("opened_at", "deadline", "resolved_at"):
                r[k] = clock.iso(humantime.parse(r[k]), str(tz))
        now = clock.now()
        cells = [[r["id"], labels.label("category", r["category"], plugin=r["plugin"]),
                  labels.label("department", r["department"], plugin=r["plugin"]),
                  labels.label("severity", r["severity"]), labels.label("status", r["status"]), r["owner"] or "-",
                  humantime.due_text(humantime.parse(r["deadline"]) or now, now, tz, labels.current_lang())
                  if r["status"] == "open" else humantime.short(humantime.parse(r["deadline"]), tz, now),
                  r["followup"], r["subject"]] for r in rows]
        zh = labels.current_lang() != "en"
        headers = (["问题件", "类别", "部门", "严重度", "状态", "负责人", "处理时限", "回访单", "客户"] if zh else
                   ["ticket", "category", "department", "severity", "status", "owner", "deadline", "follow-up",
                    "subject"])
        emit(s, rows, table(headers, cells) + (f"\n共 {len(rows)} 件" if zh else f"\n{len(rows)} ticket(s)"))
    run(ctx, go)
