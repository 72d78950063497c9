"""Several uvicorn worker processes on one PostgreSQL store (`huifang serve --workers N`).

uvicorn's own multi-process mode: the parent listens, spawns N workers and restarts one that dies;
each worker imports `app_factory` by name and rebuilds the application from what the parent put in
its environment (WORKER_ENV: the store URL, --now, the config file, the language, the rate limit,
the dashboard's cookie key). Workers share nothing else but the store; a trigger post that loses a
race with another worker's is re-run (service/app.py Service.call), so an id posted to two workers at
once is created once and the others answered 200 (or 409 naming the differing fields).

Each worker commits each call alone unless HUIFANG_GROUP_COMMIT=1: grouped, the workers would take
turns on the log's lock (service/group.py). Per worker, in its memory: the per-token rate limit (N
workers let a token make up to N x --rate-limit requests a minute in all) and the dashboard's sign-in
throttle. The outboxes (webhooks,
deliveries) are worked by one background loop in the parent, as with one worker.

SQLite has one writer at a time and no server to share: one worker (`serve` refuses more).
"""
from __future__ import annotations

import base64
import contextlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .background import Background

WORKER_ENV = "HUIFANG_SERVE_WORKER"  # JSON of WorkerSpec, set by the parent for the workers it spawns
FACTORY = "huifang.service.workers:app_factory"


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker needs to open the same application as the parent."""

    db: str
    now: str | None  # ISO instant (`huifang --now T serve`: a logical-clock store); None: the wall clock
    config_path: str | None
    config_how: str | None
    lang: str | None
    rate_limit: int
    # the dashboard's cookie key (HUIFANG_SESSION_KEY, base64): one for all workers, or a session signed by
    # one worker would be refused by the next (service/auth.py); None: HUIFANG_SESSION_KEY is set already
    session_key: str | None = None
    workers: int = 1  # how many serve the store (service/group.py: group commit is off by default for several)

    @classmethod
    def of(cls, app: Any, now: datetime | None, config_path: str | None, config_how: str | None, lang: str | None,
           rate_limit: int, workers: int = 1) -> WorkerSpec:
        """The spec of the parent's open application, served by `workers` processes."""
        from .auth import session_key

        shared = None if os.environ.get("HUIFANG_SESSION_KEY") else base64.urlsafe_b64encode(session_key(app)).decode()
        return cls(db=app.store.url, now=now.isoformat() if now else None, config_path=config_path,
                   config_how=config_how, lang=lang, rate_limit=rate_limit, session_key=shared,
                   workers=workers)

    def dumps(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def loads(cls, text: str) -> WorkerSpec:
        return cls(**json.loads(text))


def app_factory() -> Any:
    """The ASGI app of one worker (uvicorn calls it in the worker process: `factory=True`)."""
    from huifang.core import clock, labels
    from huifang.core.config import load_config
    from huifang.projections import open_app

    from .app import create_app

    text = os.environ.get(WORKER_ENV)
    if not text:
        raise RuntimeError(f"{WORKER_ENV} is not set: workers are started by `huifang serve --workers N`")
    spec = WorkerSpec.loads(text)
    if spec.session_key and not os.environ.get("HUIFANG_SESSION_KEY"):
        os.environ["HUIFANG_SESSION_KEY"] = spec.session_key
    labels.set_lang(spec.lang)
    config = load_config(spec.config_path, spec.config_how, spec.db)
    labels.configure(config.huifang.lang)
    app = open_app(spec.db, config)
    now = clock.parse_instant(spec.now, "now") if spec.now else None
    api = create_app(app, now, spec.rate_limit, spec.workers)

    def close() -> None:
        api.state.service.pool.shutdown(wait=True)
        app.close()

    api.router.add_event_handler("shutdown", close)
    return api


def serve_workers(spec: WorkerSpec, host: str, port: int, background: Background | None = None,
                  announce: Callable[[], None] | None = None) -> None:
    """Run `spec.workers` worker processes until interrupted (SIGINT/SIGTERM stops them all). The outboxes'
    background loop runs once, here in the parent, not in every worker (one pass at a time)."""
    from huifang.core.errors import HuifangError

    from .tcp import Spread, TCPConfig

    # uvicorn.run's path for workers > 1, a listening socket per worker (service/tcp.py)
    config = TCPConfig(FACTORY, factory=True, host=host, port=port, workers=spec.workers, log_level="warning",
                       access_log=False, server_header=False, date_header=True, timeout_graceful_shutdown=10)
    try:
        sockets = config.bind_sockets(spec.workers)
    except OSError as e:
        raise HuifangError(f"cannot listen on {host}:{port}: {e.strerror or e}; give another --port",
                           field="port") from None
    if announce is not None:
        announce()
    os.environ[WORKER_ENV] = spec.dumps()  # spawned workers inherit it
    if background is not None:
        background.start()
    try:
        with contextlib.suppress(KeyboardInterrupt):
            Spread(config, sockets=sockets).run()
    finally:
        os.environ.pop(WORKER_ENV, None)
        for sock in sockets:
            sock.close()
        if background is not None:
            background.stop()
