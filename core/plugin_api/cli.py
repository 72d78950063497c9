"""What a plugin's CLI commands may use (hook `huifang_register_commands`), without the engine's CLI.

A plugin command is an ordinary click command taking `@json_option` and `@click.pass_context`; its
body is a function of the command's state, run by `run(ctx, fn)`:

    @click.command("grade")
    @click.argument("subject_id")
    @json_option
    @click.pass_context
    def grade(ctx: click.Context, subject_id: str) -> None:
        def go(s: CommandState) -> None:
            data = ...  # s.app() is the application at the logical now s.now, acting as s.actor
            emit(s, data, f"{subject_id}: ...")
        run(ctx, go)

Output rules: with --json only JSON goes to stdout (`emit` chooses); a refusal is a HuifangError
(one line on stderr, exit 2, nothing written).
"""
from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

import click

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


class CommandState(Protocol):
    """The state of one CLI invocation, handed to a command body by `run` (ctx.obj)."""

    json: bool  # --json given: print only JSON on stdout
    actor: str  # --as: who is acting
    now: datetime  # --now: the logical instant the command runs at (aware)

    def app(self, must_exist: bool = True) -> Any:
        """The application over the store (opened on first use); refuses a missing store unless
        must_exist is False."""
        ...

    def run(self, fn: Callable[[CommandState], T]) -> T:
        """fn(self) at the logical now, the store released afterwards."""
        ...


def json_option(f: F) -> F:
    """The `--json` flag every command takes (also accepted before the command name)."""
    def callback(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
        if value and ctx.obj is not None:
            ctx.obj.json = True
        return value

    return click.option("--json", "as_json", is_flag=True, expose_value=False, callback=callback,
                        help="Print only JSON on stdout.")(f)


def run(ctx: click.Context, fn: Callable[[CommandState], T]) -> T:
    """Run a command body at the logical now (--now); the store is released when it ends."""
    state: CommandState = ctx.obj
    return state.run(fn)


def _default(o: Any) -> Any:
    if isinstance(o, (datetime, date)):
        return o.isoformat()
    if isinstance(o, (set, frozenset)):
        return sorted(o)
    return str(o)


def emit(state: CommandState, data: Any, text: str) -> None:
    """Print `data` as one line of JSON under --json, else the human `text`."""
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
    out = io.StringIO()
    Console(width=200, file=out, color_system=None).print(t)
    return out.getvalue().rstrip()


__all__ = ["CommandState", "emit", "json_option", "run", "table"]
