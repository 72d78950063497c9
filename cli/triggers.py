"""`huifang trigger amend ID --attr K=V … [--at ISO] [--reason TEXT]`: correct a service event that was
received with wrong data. Re-sending its id with other data is refused (core/usecases/plans.py); the
correction is an event on the trigger and its open follow-ups are re-planned."""
from __future__ import annotations

import click

from huifang.core import clock
from huifang.core.errors import HuifangError
from huifang.core.plugin_api.cli import json_option

from .output import emit
from .params import parse_pairs
from .state import State, run


@click.command("amend")
@click.argument("trigger_id", metavar="ID")
@click.option("--attr", multiple=True, metavar="K=V", help="A corrected attribute (repeat for several).")
@click.option("--at", "at_text", default=None, metavar="ISO", help="The corrected time of the event.")
@click.option("--reason", default=None, help="Why it is corrected (kept, encrypted, on the trigger).")
@json_option
@click.pass_context
def trigger_amend(ctx: click.Context, trigger_id: str, attr: tuple[str, ...], at_text: str | None,
                  reason: str | None) -> None:
    """Correct a trigger's attributes or time and re-plan its open follow-ups."""

    def go(s: State) -> None:
        if not attr and at_text is None:
            raise HuifangError("trigger amend: give the corrections (--attr KEY=VALUE, --at ISO)")
        app = s.app()
        at = clock.parse_instant(at_text, "--at", app.config.huifang.timezone) if at_text else None
        t, changed, messages = app.amend_trigger(trigger_id, parse_pairs(attr, "--attr"), at, reason,
                                                 actor=s.actor)
        data = {"trigger": t.code, "kind": t.kind, "amended": bool(changed), "changed": changed,
                "followups": messages}
        head = (f"trigger {t.code} ({t.kind}) amended: {', '.join(changed)}" if changed else
                f"trigger {t.code} ({t.kind}): already so; nothing changed")
        emit(s, data, head + "".join(f"\n  {m}" for m in messages))
    run(ctx, go)
