"""`huifang serve`: the HTTP service (integration API under /api/v1, OpenAPI at /openapi.json) on one
uvicorn worker over this store. FastAPI and uvicorn are imported only here."""
from __future__ import annotations

import click

from huifang.core.errors import HuifangError

from .state import State, run


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True)
@click.option("--rate-limit", type=click.IntRange(1), default=600, show_default=True, metavar="N",
              help="Requests per API token per minute; more are answered 429.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, rate_limit: int) -> None:
    """Run the HTTP service: the integration API (/api/v1, API tokens) on one worker."""

    def go(s: State) -> None:
        if s.backfill:
            raise HuifangError("a backfill enters one late record: not a service", field="backfill")
        app = s.app()
        from huifang.service.app import serve as run_service

        click.echo(f"huifang: serving {app.store.url if app.store.kind == 'sqlite' else 'the store'} on "
                   f"http://{host}:{port} (API /api/v1, OpenAPI /openapi.json)", err=True)
        run_service(app, host, port, s.now if s.now_given else None, rate_limit)
    run(ctx, go)
