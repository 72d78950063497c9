"""Conflict retry for commands that are safe to redo (many operators on one store).

Two operators writing the same follow-up at once: the store's optimistic version check lets one
save win and refuses the other as a ConflictError, with nothing written. For a command that is
safe to redo, the loser re-runs it from the start: it re-reads the aggregates and re-checks every
rule against what the winner wrote, so nothing is applied blindly. Recording an attempt is such a
command (two attempts on one follow-up are both real). Completing is redone the same way: the
re-check then finds the follow-up "already completed" and refuses it, so nothing is ever
double-completed. A conflict that persists is reported as the one-line ConflictError.
"""
from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from .errors import ConflictError, HuifangError

F = TypeVar("F", bound=Callable[..., Any])

ATTEMPTS = 8
_jitter = random.Random()


def retry_on_conflict(fn: F) -> F:
    """Re-run the command after a ConflictError (re-read, re-check); a rule that now refuses it is
    reported together with the conflict that caused the re-check."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        conflict: ConflictError | None = None
        for n in range(ATTEMPTS):
            try:
                return fn(*args, **kwargs)
            except ConflictError as e:
                conflict = e
                time.sleep(_jitter.uniform(0.005, 0.02) * (n + 1))  # back off: let the winner finish
            except HuifangError as e:
                if conflict is None:
                    raise
                head = str(conflict).split(";")[0]  # "<ID> was changed by another command at the same time"
                raise type(e)(f"{head}; re-read and re-checked: {e}; nothing was written") from None
        assert conflict is not None
        raise conflict

    return wrapper  # type: ignore[return-value]
