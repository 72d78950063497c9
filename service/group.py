"""Group commit for `huifang serve` on PostgreSQL: the application's thread takes every call queued
when it becomes free (up to GROUP_MAX) and runs them as one group — one transaction on one connection,
one hold of the log's table lock, one chain block and one sealed high-water mark for all their records,
one commit (the recorder's side: core/audit/postgres_recorder.py `group`, `in_group`).

What each caller is told is its own outcome, and only once the group has committed:
- a call that raises (a refusal, a conflict with another worker, an access denial) gets its error; the
  others in the group still commit. As alone, each save is its own unit: a refused save is rolled back,
  the saves before it — a recorded refusal (G8), a read record — stand;
- a call that reads the notification log (the views' catch-up, an outbox scan) while the group holds
  records not yet committed is rolled back out of the group and runs alone once the calls before it
  have committed: views are never built from records that may still roll back, and it reads them all;
- if the group fails as a whole (its block, its commit, the connection), nothing of it was written and
  each call is run again alone, today's path, so each caller still gets its own outcome.

On by default for one worker; off by default for `serve --workers N` (N > 1): a group holds the log's
table lock from its first save while its later calls run, so the other workers' saves wait for those
calls too and the workers take turns instead of running side by side (2 workers, 8 clients on 2 cores:
about 180 commands/s grouped, 215 each call alone; one worker: grouping wins, 113 against 97).
HUIFANG_GROUP_COMMIT=0 turns it off, =1 on whatever the worker count (a disk whose flushes are slow makes
each call's own commit, under the lock, the bottleneck: grouping shares it). SQLite stores never group:
one writer at a time, nothing to gain.
"""
from __future__ import annotations

import os
import threading
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

from huifang.core.audit.recorders import RunAlone

GROUP_MAX = 32  # calls per group: enough to amortise the lock, the block and the commit
# seconds a group may hold the log's table lock before it commits what it has (the next calls start the
# next group): other workers' writes wait for the lock, so a group of slow calls must not starve them
HOLD_MAX = 0.25
ENV = "HUIFANG_GROUP_COMMIT"

Job = tuple[Callable[[], Any], "Future[Any]"]


def enabled(app: Any, workers: int = 1) -> bool:
    """Group commit for this application, one of `workers` serving processes: a recorder that can group
    (PostgreSQL), and HUIFANG_GROUP_COMMIT=1, or one worker and not HUIFANG_GROUP_COMMIT=0."""
    switch = os.environ.get(ENV, "").strip()
    wanted = switch != "0" if switch else workers == 1
    return wanted and callable(getattr(app.recorder, "group", None))


class GroupCommit:
    """The queue in front of the application's one thread (`pool`, one worker)."""

    def __init__(self, recorder: Any, pool: Executor, limit: int = GROUP_MAX):
        self.recorder, self.pool, self.limit = recorder, pool, limit
        self.queue: deque[Job] = deque()
        self.lock = threading.Lock()
        # groups committed, calls committed in them, calls run alone, groups that failed and were re-run
        self.stats: Counter[str] = Counter()

    def submit(self, job: Callable[[], Any]) -> Future[Any]:
        future: Future[Any] = Future()
        with self.lock:
            self.queue.append((job, future))
        self.pool.submit(self._drain)  # one drain per call: a drain finding the queue empty does nothing
        return future

    def _take(self, n: int) -> list[Job]:
        out: list[Job] = []
        with self.lock:
            while self.queue and len(out) < n:
                job = self.queue.popleft()
                if job[1].set_running_or_notify_cancel():  # a caller that went away: its call never runs
                    out.append(job)
        return out

    def _drain(self) -> None:
        """On the application's thread."""
        jobs = self._take(self.limit)
        try:
            while jobs:
                if len(jobs) == 1:
                    self._alone(*jobs.pop())
                else:
                    jobs = self._group(jobs)
                jobs += self._take(self.limit - len(jobs)) if jobs else []
        finally:
            for _, future in jobs:  # only if this thread is dying (KeyboardInterrupt): no caller waits forever
                if not future.done():
                    future.set_exception(RuntimeError("the service is stopping; the call was not run"))

    def _alone(self, job: Callable[[], Any], future: Future[Any]) -> None:
        self.stats["alone"] += 1
        try:
            value = job()
        except BaseException as e:
            future.set_exception(e)
            if not isinstance(e, Exception):
                raise
        else:
            future.set_result(value)

    def _group(self, jobs: list[Job]) -> list[Job]:
        """Run `jobs` as one group; returns those not run yet (after one that had to run alone, or once
        the group has held the lock HOLD_MAX)."""
        outcomes: list[tuple[Future[Any], Exception | None, Any]] = []
        alone: Job | None = None
        rest: list[Job] = []
        try:
            with self.recorder.group():
                for i, (job, future) in enumerate(jobs):
                    if i and self.recorder.group_held() > HOLD_MAX:
                        rest = jobs[i:]
                        break
                    try:
                        outcomes.append((future, None, self.recorder.in_group(job)))
                    except RunAlone:
                        alone, rest = jobs[i], jobs[i + 1:]
                        break
                    except Exception as e:
                        outcomes.append((future, e, None))
        except Exception:  # nothing of the group was written: each call again, alone
            self.stats["failed"] += 1
            for job, future in jobs:
                self._alone(job, future)
            return []
        self.stats["groups"] += 1
        self.stats["grouped"] += len(outcomes)
        for future, error, value in outcomes:  # told only now: the group has committed
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(value)
        if alone is not None:
            self._alone(*alone)
        return rest
