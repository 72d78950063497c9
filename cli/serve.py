"""`huifang serve`: the HTTP service (integration API under /api/v1, OpenAPI at /openapi.json, the
dashboard, survey links) over this store: one uvicorn worker, or on PostgreSQL `--workers N` processes
(service/workers.py). FastAPI and uvicorn are imported only when it runs."""
from __future__ import annotations

import click

from huifang.core.errors import HuifangError

from .state import State, run


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True)
@click.option("--rate-limit", type=click.IntRange(1), default=600, show_default=True, metavar="N",
              help="Requests per API token per minute and worker; more are answered 429.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True, metavar="N",
              help="Worker processes (PostgreSQL stores; SQLite: 1). Each counts --rate-limit on its own.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, rate_limit: int, workers: int) -> None:
    """Run the HTTP service: the integration API (/api/v1, API tokens), the dashboard (/dashboard) and
    the subjects' survey links (/s/...)."""

    def go(s: State) -> None:
        if s.backfill:
            raise HuifangError("a backfill enters one late record: not a service", field="backfill")
        app = s.app()  # opened here first: the store, the config and --now are checked before any worker starts
        where = app.store.url if app.store.kind == "sqlite" else "the store"
        if workers > 1 and app.store.kind == "sqlite":
            raise HuifangError("a SQLite store is served by one worker (one writer at a time); several need "
                               "a PostgreSQL store", field="workers")
        now = s.now if s.now_given else None

        def announce() -> None:
            click.echo(f"huifang: serving {where} on http://{host}:{port} with {workers} worker"
                       f"{'s' if workers > 1 else ''} (API /api/v1, OpenAPI /openapi.json)", err=True)
        if workers == 1:
            announce()
            from huifang.service.app import serve as run_service

            run_service(app, host, port, now, rate_limit)
            return
        from huifang.core import labels
        from huifang.service.background import Background
        from huifang.service.workers import WorkerSpec, serve_workers

        spec = WorkerSpec.of(app, now, s.config_path, s.config_how, labels.current_lang(), rate_limit, workers)
        background = Background(app, now)  # opens an application of its own when started
        s.release()  # each worker opens its own application
        serve_workers(spec, host, port, background, announce)  # announced once the port is ours
    run(ctx, go)
