"""`huifang projections status|rebuild`: the read views against the log head."""
from __future__ import annotations

import click

from huifang.core.errors import HuifangError
from huifang.core.plugin_api.cli import json_option

from .output import emit, table
from .state import State, run


@click.group()
def projections() -> None:
    """Read views: status and rebuild."""


@projections.command("status")
@json_option
@click.pass_context
def projections_status(ctx: click.Context) -> None:
    """Each view's position against the log head."""
    def go(s: State) -> None:
        rows = s.app().projector.status()
        emit(s, rows, table(["view", "position", "head", "behind"],
                            [[r["view"], r["position"], r["head"], r["behind"]] for r in rows]))
    run(ctx, go)


@projections.command("rebuild")
@click.argument("name", required=False)
@json_option
@click.pass_context
def projections_rebuild(ctx: click.Context, name: str | None) -> None:
    """Rebuild one view (or all) from the start of the log."""
    from .output import progress_bar

    def go(s: State) -> None:
        app = s.app()
        if name and name not in app.projector.views:
            raise HuifangError(f"projections rebuild: no view '{name}'; views: {', '.join(app.projector.views)}")
        with progress_bar(s, "rebuilding") as update:
            n = app.projector.rebuild([name] if name else None, progress=update)
        emit(s, {"rebuilt": [name] if name else list(app.projector.views), "events": n},
             f"rebuilt {name or 'all views'} from {n} events")
    run(ctx, go)
