"""`huifang work`: the operator's terminal workspace (Textual, cli/workspace.py) — the queue on the
left, the call sheet on the right, keys to record an attempt, fill the survey, open a ticket and go
to the next call.

Everything goes through the application's use cases, as the plain commands do (cli/work_session.py
is the workspace's only way to the store). The acting staff member is resolved once, as for any
command (cli/state.py). Textual is imported only when the workspace starts: other commands never
load it.
"""
from __future__ import annotations

import sys

import click

from huifang.core.errors import HuifangError

from .state import State, run


@click.command()
@click.pass_context
def work(ctx: click.Context) -> None:
    """The operator's workspace on a terminal: queue, call sheet, attempts, survey, tickets."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise HuifangError("work: needs a terminal; in scripts use queue, show, attempt, complete")

    def go(s: State) -> None:
        if s.backfill is not None:
            raise HuifangError("a late entry is one command at a time, not a workspace", field="backfill")
        from .work_session import Session
        from .workspace import Workspace

        Workspace(Session(s)).run()
    run(ctx, go)
