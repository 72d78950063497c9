"""`huifang delivery list|view|retry|run`: messages sent through the delivery adapters (survey
invitations, G3 reminders, G12/G13 escalations, G21 greetings) and their outcomes (已发送 / 发送失败 / 退信).
Where they go is `[delivery]` in huifang.toml (default: the file outbox beside the store)."""
from __future__ import annotations

import click

from huifang.core.plugin_api.cli import json_option

from .output import emit, table
from .state import State, run

STATUSES = ("sent", "failed", "bounced", "pending")


@click.group()
def delivery() -> None:
    """Messages sent through the delivery adapters (invites, reminders, escalations, greetings): list, view, retry,
    run."""


def _rows(rows: list[dict]) -> str:
    from huifang.core.labels import label

    return table(["id", "purpose", "channel", "status", "adapter", "at", "detail"],
                 [[r["id"], label("purpose", r["purpose"]), label("channel", r["channel"]),
                   label("status", r["status"]), r["adapter"] or "-", r["at"] or "-", r["detail"][:60]]
                  for r in rows])


@delivery.command("list")
@click.option("--status", default=None, help="sent|failed|bounced|pending (或 已发送/发送失败/退信/待发送).")
@click.option("--purpose", default=None, help="invite|reminder|escalation|greeting.")
@click.option("--limit", type=click.IntRange(1, 100000), default=200, show_default=True, help="Newest first.")
@json_option
@click.pass_context
def delivery_list(ctx: click.Context, status: str | None, purpose: str | None, limit: int) -> None:
    """The latest deliveries and their outcome (no address or text: they are personal data)."""
    from huifang.core import delivery as core
    from huifang.core.labels import resolve

    def go(s: State) -> None:
        st = resolve("status", status, STATUSES, "status") if status else None
        pu = resolve("purpose", purpose, core.PURPOSES, "purpose") if purpose else None
        rows = core.listing(s.app(), st, pu, limit)
        emit(s, rows, _rows(rows) if rows else "no deliveries")
    run(ctx, go)


@delivery.command("view")
@click.argument("code", metavar="ID")
@json_option
@click.pass_context
def delivery_view(ctx: click.Context, code: str) -> None:
    """One delivery and every try (adapter, outcome, detail, time)."""
    from huifang.core import delivery as core
    from huifang.core.labels import label

    def go(s: State) -> None:
        d = core.view(s.app(), code)
        head = (f"{d['id']}: {label('purpose', d['purpose'])} {d['ref']} by {label('channel', d['channel'])} to "
                f"{d['subject'] or d['staff'] or '-'}: {label('status', d['status'])}"
                + (f" ({d['adapter']}: {d['detail']})" if d["adapter"] else ""))
        if d.get("text"):
            head += f"\ntext: {d['text']}"
        tries = table(["at", "status", "adapter", "detail", "actor"],
                      [[t["at"], label("status", t["status"]), t["adapter"], t["detail"], t["actor"]]
                       for t in d["history"]])
        emit(s, d, head + "\n" + tries)
    run(ctx, go)


@delivery.command("retry")
@click.argument("code", metavar="ID")
@json_option
@click.pass_context
def delivery_retry(ctx: click.Context, code: str) -> None:
    """Send a failed, bounced or pending delivery again (a sent one is never sent twice)."""
    from huifang.core import delivery as core
    from huifang.core.labels import label

    def go(s: State) -> None:
        d = core.retry(s.app(), code, actor=s.actor)
        shown = core.public(d)
        emit(s, shown, f"{d.code}: {label('status', d.status)} ({d.adapter}: {d.detail})")
        if d.status != "sent":
            raise SystemExit(1)  # the outcome was recorded and shown; scripts see it failed
    run(ctx, go)


@delivery.command("run")
@json_option
@click.pass_context
def delivery_run(ctx: click.Context) -> None:
    """Deliver the reminders, escalations and greetings recorded and not yet sent (tick and serve run
    this pass too)."""
    from huifang.core import clock
    from huifang.core import delivery as core

    def go(s: State) -> None:
        n = core.run_pending(s.app(), clock.now(), actor="system")
        emit(s, {"delivered": n}, f"{n} message(s) delivered (huifang delivery list)")
    run(ctx, go)
