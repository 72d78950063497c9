"""Human output (rich tables, progress bars) or JSON only (--json).

`emit` and `table` are the plugin API's (huifang.core.plugin_api.cli): built-in and plugin commands
print the same way.
"""
from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import Any

from huifang.core.plugin_api.cli import emit, table


@contextlib.contextmanager
def progress_bar(state: Any, label: str) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr (never on stdout, so --json stays clean)."""
    if state.json or not sys.stderr.isatty():
        yield lambda done, total: None
        return
    from rich.progress import Progress

    with Progress(transient=True) as p:
        task = p.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            p.update(task, completed=done, total=total)

        yield update


__all__ = ["emit", "progress_bar", "table"]
