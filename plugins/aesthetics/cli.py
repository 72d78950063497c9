"""CLI of the aesthetics plugin: `huifang aesthetics grade|blacklist` (A9). Batch campaigns (A7) are
the engine's `huifang campaign` command, run on this plugin's policy (campaign.py)."""
from __future__ import annotations

from typing import Any

import click

from huifang.core.plugin_api import NotFound
from huifang.core.plugin_api.cli import CommandState, emit, json_option, run

from .settings import AestheticsSettings

NAME = "aesthetics"


def _settings(app: Any) -> AestheticsSettings:
    s = app.settings(NAME)
    return s if isinstance(s, AestheticsSettings) else AestheticsSettings()


@click.group("aesthetics")
def aesthetics() -> None:
    """Aesthetics clinic: client grades and the blacklist (A9)."""


@aesthetics.command("grade")
@click.argument("subject_id")
@json_option
@click.pass_context
def aesthetics_grade(ctx: click.Context, subject_id: str) -> None:
    """A client's grade from spend (A ≥ 1500/month, B 800–1500, C < 800) and blacklist state."""
    from .curves import client_grade

    def go(s: CommandState) -> None:
        app = s.app()
        history = app.history
        subject = history.subject(subject_id)
        if subject is None:
            raise NotFound(f"subject '{subject_id}' does not exist")
        g = client_grade(history, subject, _settings(app))
        data = {"subject": subject_id, **g}
        emit(s, data, f"{subject_id}: grade {g['grade']} (average {g['average_monthly']:g}/month over "
                      f"{g['months'][0]}..{g['months'][-1]})"
                      + (f"; BLACKLISTED: {g['blacklist_reason']}" if g["blacklisted"] else ""))
    run(ctx, go)


@aesthetics.command("blacklist")
@click.argument("subject_id")
@click.option("--reason", default=None, help="Why (A9: 无礼多事, abusive).")
@click.option("--remove", is_flag=True, help="Take the client off the blacklist.")
@json_option
@click.pass_context
def aesthetics_blacklist(ctx: click.Context, subject_id: str, reason: str | None, remove: bool) -> None:
    """Blacklist an abusive client (A9): open marketing follow-ups are cancelled, care continues."""
    from .blacklist import set_blacklist

    def go(s: CommandState) -> None:
        cancelled = set_blacklist(s.app(), subject_id, reason, remove, actor=s.actor)
        data = {"subject": subject_id, "blacklisted": not remove, "cancelled": cancelled}
        emit(s, data, f"{subject_id} {'taken off' if remove else 'put on'} the blacklist"
                      + (f"; cancelled {len(cancelled)} marketing follow-up(s)" if cancelled else ""))
    run(ctx, go)


def register_commands(cli: click.Group) -> None:
    """Hook `huifang_register_commands`: `huifang aesthetics ...`."""
    cli.add_command(aesthetics)
