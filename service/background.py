"""The service's background loop: every couple of seconds, one pass of each outbox (webhooks out; the
delivery adapters' outbox joins it) on an application of its own, so a slow receiver never holds the
API's thread. Each pass runs at the service's instant (`--now`, else the host's clock, read here at the
edge); a failing pass is reported on stderr and the loop goes on (nothing is lost: the outboxes are the
event log, and the next pass resumes from their recorded positions)."""
from __future__ import annotations

import sys
import threading
from datetime import datetime
from typing import Any

from huifang.core import clock
from huifang.core.access import Access

INTERVAL = 2.0  # seconds between passes that found nothing to do


class Background:
    """A daemon thread running the outboxes' passes until `stop()`."""

    def __init__(self, app: Any, now: datetime | None, interval: float = INTERVAL):
        self.db, self.config, self.registry = app.store.url, app.config, app.registry
        self.now, self.interval = now, interval
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="huifang-background", daemon=True)

    def start(self) -> Background:
        self.thread.start()
        return self

    def stop(self, timeout: float = 15.0) -> None:
        self.stopping.set()
        self.thread.join(timeout)

    def one_pass(self, app: Any) -> int:
        """Every outbox once; returns how many items were handled."""
        from huifang.core import delivery, webhooks

        app.access = Access(app)  # staff roles and locks read afresh, as for each request
        when = self.now or clock.wall_clock()
        source = clock.NOW_OPTION if self.now else clock.SYSTEM_CLOCK
        with clock.at(when, source):
            handled = webhooks.run_pending(app, when, source=source)
            handled += delivery.run_pending(app, when)  # G3/G12/G13/G21 messages through the adapters
        return handled

    def _run(self) -> None:
        from huifang.projections import open_app

        app: Any = None
        try:
            while not self.stopping.is_set():
                handled = 0
                try:
                    if app is None:
                        app = open_app(self.db, self.config, registry=self.registry)
                    handled = self.one_pass(app)
                except Exception as e:  # reported, never fatal: the next pass resumes from the log
                    print(f"huifang: background pass failed: {type(e).__name__}: {e}"[:400], file=sys.stderr,
                          flush=True)
                if not handled:
                    self.stopping.wait(self.interval)
        finally:
            if app is not None:
                app.close()
