"""Human output (rich tables, progress bars) or JSON only (--json)."""
from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

import click


def _default(o: Any) -> Any:
    if isinstance(o, (datetime, date)):
        return o.isoformat()
    if isinstance(o, (set, frozenset)):
        return sorted(o)
    return str(o)


def emit(state: Any, data: Any, text: str) -> None:
    if state.json:
        click.echo(json.dumps(data, ensure_ascii=False, default=_default, indent=None))
    else:
        click.echo(text)


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """A plain-text table (rich), sized to its content so pipes and logs stay readable."""
    from rich.console import Console
    from rich.table import Table

    t = Table(*headers, box=None, pad_edge=False, header_style="bold", show_edge=False)
    for r in rows:
        t.add_row(*["" if c is None else str(c) for c in r])
    import io

    console = Console(width=200, file=io.StringIO(), color_system=None)
    console.print(t)
    return console.file.getvalue().rstrip()


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
