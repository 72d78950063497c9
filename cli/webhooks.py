"""`huifang webhook add|list|remove|deliveries|replay|run`: events of the log pushed to integrators
(completed follow-ups, tickets, overdue and lost follow-ups), signed, in order, at least once. `huifang
serve` dispatches them in the background; `webhook run` does it on sites that do not run the service."""
from __future__ import annotations

import signal
import threading
from typing import Any

import click

from huifang.core.plugin_api.cli import json_option

from .output import emit, table
from .state import State, run

EVENT_HELP = "completed (回访完成), ticket_opened (问题件已开), overdue (回访逾期), lost (失访); comma-separated"
POLL = 2.0  # seconds between passes of `webhook run` when nothing was sent


@click.group()
def webhook() -> None:
    """Webhooks out (from the event log): add, list, remove, deliveries, replay, run."""


@webhook.command("add")
@click.argument("url", metavar="URL")
@click.option("--events", "events", required=True, metavar="EVENTS", help=EVENT_HELP + ".")
@click.option("--secret", "secret", required=True, metavar="SECRET", envvar="HUIFANG_WEBHOOK_SECRET",
              help="Shared secret (16+ characters; or env HUIFANG_WEBHOOK_SECRET, kept out of the shell history): "
                   "each body is signed X-Huifang-Signature: sha256=HMAC(secret, body). Stored encrypted.")
@click.option("--personal", is_flag=True, default=False,
              help="Payloads carry the subject's name and phones and free-text answers (each delivery a "
                   "recorded read); without it, ids and codes only.")
@json_option
@click.pass_context
def webhook_add(ctx: click.Context, url: str, events: str, secret: str, personal: bool) -> None:
    """Subscribe URL to events recorded from now on (admin)."""
    from huifang.core.usecases import webhooks

    def go(s: State) -> None:
        codes = webhooks.parse_events(events)
        sub = webhooks.add(s.app(), url, codes, secret, personal, actor=s.actor)
        emit(s, sub, f"webhook {sub['code']} → {sub['url']}: {', '.join(sub['event_labels'])}"
                     f"{' (含个人信息 personal data)' if personal else ''}")
    run(ctx, go)


@webhook.command("list")
@json_option
@click.pass_context
def webhook_list(ctx: click.Context) -> None:
    """Every subscription: its events, scope, masked secret, state and delivery position."""
    from huifang.core.usecases import webhooks

    def go(s: State) -> None:
        rows = webhooks.listing(s.app(), s.actor)
        emit(s, rows, table(["webhook", "url", "events", "personal", "secret", "state", "position", "blocked by",
                             "retry at"],
                            [[w["code"], w["url"], ",".join(w["event_labels"]), "是" if w["personal"] else "否",
                              w["secret"], w["state_label"], w["position"], w["blocked_by"] or "-",
                              w["retry_at"] or "-"] for w in rows]))
    run(ctx, go)


@webhook.command("remove")
@click.argument("code", metavar="WEBHOOK_ID")
@json_option
@click.pass_context
def webhook_remove(ctx: click.Context, code: str) -> None:
    """Stop delivering to a subscription (its log stays)."""
    from huifang.core.usecases import webhooks

    def go(s: State) -> None:
        sub = webhooks.remove(s.app(), code, actor=s.actor)
        emit(s, sub, f"webhook {code} ({sub['url']}) removed")
    run(ctx, go)


@webhook.command("deliveries")
@click.option("--failed", "failed", is_flag=True, default=False, help="Only the failed attempts.")
@click.option("--limit", type=int, default=0, show_default=True, help="The last N attempts (0: all).")
@json_option
@click.pass_context
def webhook_deliveries(ctx: click.Context, failed: bool, limit: int) -> None:
    """The delivery log: every attempt, delivered or failed (HTTP status or error), oldest first."""
    from huifang.core.usecases import webhooks

    def go(s: State) -> None:
        rows = webhooks.deliveries(s.app(), s.actor, failed_only=failed, limit=limit)
        emit(s, rows, table(["at", "delivery", "event", "attempt", "state", "status", "error", "retry at"],
                            [[d["at"], d["delivery"], d["event_label"], d["attempt"],
                              d["state_label"] + (" (重发 replay)" if d["replay"] else ""), d["status"] or "-",
                              d["error"] or "-", d["retry_at"] or "-"] for d in rows]))
    run(ctx, go)


@webhook.command("replay")
@click.argument("delivery", metavar="DELIVERY_ID")
@json_option
@click.pass_context
def webhook_replay(ctx: click.Context, delivery: str) -> None:
    """Send a delivery again now (same delivery id), or a failing one without waiting for its retry."""
    from huifang.core.usecases import webhooks

    def go(s: State) -> None:
        done = webhooks.replay(s.app(), delivery, s.actor)
        text = (f"delivery {delivery}: {webhooks.label(done['state'], webhooks.STATES)} (HTTP {done['status']})"
                if done["state"] == "delivered" else
                f"delivery {delivery}: {webhooks.label('failed', webhooks.STATES)}: {done['error']}")
        emit(s, done, text)
        if done["state"] != "delivered":
            raise SystemExit(1)  # the failed attempt was recorded and shown; scripts see it failed
    run(ctx, go)


@webhook.command("run")
@click.option("--once", is_flag=True, default=False, help="One pass, then exit.")
@json_option
@click.pass_context
def webhook_run(ctx: click.Context, once: bool) -> None:
    """Dispatch pending deliveries until stopped (SIGINT/SIGTERM), for sites not running `huifang serve`."""
    from huifang.core import clock
    from huifang.core.webhooks import run_pending

    def go(s: State) -> None:
        app = s.app()

        def now() -> Any:  # a --now store keeps its instant; else the host's clock at each pass
            return s.now if s.now_given else clock.wall_clock()
        source = clock.NOW_OPTION if s.now_given else clock.SYSTEM_CLOCK
        if once:
            n = run_pending(app, now(), source=source)
            emit(s, {"attempts": n}, f"{n} delivery attempt(s)")
            return
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        click.echo("huifang: dispatching webhooks (Ctrl-C to stop)", err=True)
        total = 0
        while not stop.is_set():
            n = run_pending(app, now(), source=source)
            total += n
            if n == 0:
                stop.wait(POLL)
        emit(s, {"attempts": total}, f"stopped after {total} delivery attempt(s)")
    run(ctx, go)
