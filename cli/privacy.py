"""`huifang privacy show|widen` (G8): the store's privacy settings, fixed at `init`, only widened."""
from __future__ import annotations

import click

from huifang.core.plugin_api.cli import json_option

from .output import emit
from .state import State, run


@click.group("privacy")
def privacy() -> None:
    """Privacy settings (G8): what is encrypted; fixed at init, only widened."""


@privacy.command("show")
@json_option
@click.pass_context
def privacy_show(ctx: click.Context) -> None:
    """Attributes encrypted whatever plugins declare, and each trigger kind's plain codes."""
    from huifang.core.privacy import show

    def go(s: State) -> None:
        data = show(s.app())
        lines = [f"settings recorded in the store: {'yes' if data['recorded'] else 'no (run huifang init)'}; "
                 f"master key check: {'yes' if data['key_check'] else 'no'}",
                 "subject attributes: all encrypted",
                 "always encrypted: " + ", ".join(data["encrypt"])]
        lines += [f"{k['kind']}: plain codes {', '.join(k['codes']) or '-'}"
                  + (f"; plain when coded {', '.join(k['code_patterns'])}" if k["code_patterns"] else "")
                  for k in data["trigger_kinds"]]
        emit(s, data, "\n".join(lines))
    run(ctx, go)


@privacy.command("widen")
@click.option("--encrypt", "attributes", multiple=True, required=True, metavar="ATTR",
              help="An attribute to encrypt from now on, even if a plugin declares it a code (repeatable).")
@click.option("--reason", required=True, help="Why (recorded).")
@json_option
@click.pass_context
def privacy_widen(ctx: click.Context, attributes: tuple[str, ...], reason: str) -> None:
    """Encrypt more attributes from now on (admin; recorded; settings are never narrowed)."""
    from huifang.core.privacy import widen

    def go(s: State) -> None:
        data = widen(s.app(), attributes, reason, s.actor)
        emit(s, data, (f"now encrypted: {', '.join(data['added'])}" if data["added"] else "nothing new")
             + f" (always encrypted: {', '.join(data['encrypt'])})")
    run(ctx, go)
