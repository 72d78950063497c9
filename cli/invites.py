"""`huifang invite FOLLOWUP --channel sms|email|wechat [--ttl 72h]`: send the subject a signed, single-use,
expiring link to answer the follow-up's survey on the web (`huifang serve`, /s/...); `huifang invite list`
and `huifang invite view ID`. The link itself is shown to nobody but the subject (the delivery)."""
from __future__ import annotations

from typing import Any

import click

from huifang.core.plugin_api.cli import json_option

from .output import emit, table
from .state import State, run
from .verbs import VerbCommand


def _verb(name: str) -> click.Command:
    return {"list": invite_list, "view": invite_view}[name]


class InviteCommand(VerbCommand):
    """`huifang invite FOLLOWUP ...` sends a link; `invite list` and `invite view ID` show them."""

    VERBS = {"list": lambda: _verb("list"), "view": lambda: _verb("view")}
    EPILOG = ("List: huifang invite list [--followup ID] [--status issued|opened|answered|expired]; "
              "one: huifang invite view ID.",)


def _row(i: dict[str, Any]) -> list[Any]:
    from huifang.core.labels import label

    return [i["id"], i["followup"], label("channel", i["channel"]), label("status", i["status"]),
            i["issued_at"], i["expires"], i["answered_at"] or i["expired_at"] or "-"]


HEAD = ["invite", "follow-up", "channel", "status", "issued", "expires", "closed"]


@click.command(cls=InviteCommand)
@click.argument("followup_id")
@click.option("--channel", required=True, metavar="sms|email|wechat", help="How the link is sent (短信, 邮件, 微信).")
@click.option("--ttl", default="72h", show_default=True, metavar="DURATION",
              help="How long the link may be used: 72h, 3d, 90m (1h to 30d).")
@json_option
@click.pass_context
def invite(ctx: click.Context, followup_id: str, channel: str, ttl: str) -> None:
    """Send the subject a link to answer the follow-up's survey themself (single use, expiring)."""
    from huifang.core.usecases import invites

    def go(s: State) -> None:
        data = invites.issue(s.app(), followup_id, channel, invites.parse_ttl(ttl), actor=s.actor)
        d = data["delivery"]
        emit(s, data, f"survey link {data['id']} for {data['followup']} sent by {data['channel']} "
                      f"(valid until {data['expires']}): delivery {d['status']}"
                      f"{' via ' + d['adapter'] if d['adapter'] else ''}{': ' + d['detail'] if d['detail'] else ''}")
    run(ctx, go)


@click.command("list")
@click.option("--followup", "followup_id", default=None, metavar="ID", help="Only this follow-up's links.")
@click.option("--status", default=None, metavar="STATE",
              help="issued (链接已发送), opened (链接已打开), answered (已在线作答) or expired (已过期).")
@json_option
@click.pass_context
def invite_list(ctx: click.Context, followup_id: str | None, status: str | None) -> None:
    """Survey links: follow-up, channel, state and times (never the link)."""
    from huifang.core.usecases import invites

    def go(s: State) -> None:
        from huifang.core.domain.invite import STATES
        from huifang.core.labels import resolve

        state = resolve("status", status, STATES, "status") if status else None
        rows = invites.listing(s.app(), s.actor, followup_id, state)
        emit(s, rows, table(HEAD, [_row(i) for i in rows]))
    run(ctx, go)


@click.command("view")
@click.argument("invite_id", metavar="ID")
@json_option
@click.pass_context
def invite_view(ctx: click.Context, invite_id: str) -> None:
    """One survey link: its state, its delivery and its events."""
    from huifang.core.usecases import invites

    def go(s: State) -> None:
        data = invites.view(s.app(), invite_id, s.actor)
        d = data["delivery"]
        text = table(HEAD, [_row(data)])
        text += f"\ndelivery: {d['status']} ({d['adapter'] or '-'}) {d['detail']}" if d else "\ndelivery: none"
        text += "".join(f"\n{e['at']} {e['event']} by {e['actor']}" for e in data["events"])
        emit(s, data, text)
    run(ctx, go)
