"""Bulk import commands: `huifang subject import FILE`, `huifang trigger import FILE`
(also `huifang import subjects|triggers FILE`). See core/importer.py and README "Scale, reliability and benchmarks"."""
from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import Any

import click

from huifang.core.errors import HuifangError
from huifang.core.paths import check_output
from huifang.core.plugin_api.cli import json_option

from .output import emit
from .state import State, run
from .verbs import VerbCommand


def _options(f: Any) -> Any:
    for opt in reversed([
        click.argument("file", metavar="FILE"),
        click.option("--map", "map_file", default=None, metavar="FILE.toml",
                     help="Column mapping (see the README, 'Bulk import'); default: columns named like the fields."),
        click.option("--encoding", default=None, type=click.Choice(["auto", "utf-8", "gb18030"]),
                     help="CSV text encoding (default auto: UTF-8, else GB18030)."),
        click.option("--sheet", default=None, help="XLSX sheet (default the first)."),
        click.option("--skip-bad", is_flag=True, help="Import the good rows; write the bad ones to a reject file."),
        click.option("--reject", default=None, metavar="FILE.csv", help="Reject file (default FILE.rejects.csv)."),
        click.option("--force", is_flag=True, help="Overwrite an existing --reject FILE."),
        click.option("--batch", default=None, type=click.IntRange(min=1), metavar="ROWS",
                     help="Rows saved per transaction (default 8000 on SQLite, 2000 on PostgreSQL)."),
    ]):
        f = opt(f)
    return f


@contextlib.contextmanager
def _progress(state: Any, label: str) -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar on stderr, one task per pass (checking, importing)."""
    if state.json or not sys.stderr.isatty():
        yield lambda phase, done, total: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as p:
        tasks: dict[str, Any] = {}

        def update(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = p.add_task(f"{phase} {label}", total=total or None)
            p.update(tasks[phase], completed=done, total=total or None)

        yield update


def do_import(ctx: click.Context, what: str, file: str, map_file: str | None, encoding: str | None,
              sheet: str | None, skip_bad: bool, reject: str | None, batch: int | None, force: bool = False,
              kind: str | None = None) -> None:
    from huifang.core.importer import MAX_SHOWN, ColumnMap, Importer, summary

    def go(state: State) -> None:
        mapping = ColumnMap.load(map_file, what)
        app = state.app()
        with _progress(state, file) as update:
            importer = Importer(app, what, file, mapping, kind=kind, skip_bad=skip_bad, reject=reject,
                                batch=batch, actor=state.actor, progress=update, encoding=encoding, sheet=sheet)
            if skip_bad:  # never the store or a key; the default FILE.rejects.csv is huifang's own to replace
                check_output(app, str(importer.reject_path), field="reject", force=force or reject is None)
            report = importer.run()
        if report["bad"] and not skip_bad:
            for b in report["bad"][:MAX_SHOWN]:
                click.echo(f"{file}: row {b['row']}, column '{b['column']}': {b['why']}", err=True)
            if len(report["bad"]) > MAX_SHOWN:
                click.echo(f"{file}: ... and {len(report['bad']) - MAX_SHOWN} more bad row(s)", err=True)
            if state.json:
                emit(state, report, "")
            first = report["bad"][0]
            raise HuifangError(f"{file}: {len(report['bad'])} bad row(s) (first: row {first['row']}, column "
                               f"'{first['column']}': {first['why']}); nothing imported: fix them, or pass "
                               f"--skip-bad to import the good rows and write the bad ones to a reject file")
        emit(state, report, summary(report))

    run(ctx, go)


@click.command("import")
@_options
@json_option
@click.pass_context
def subject_import(ctx: click.Context, **kw: Any) -> None:
    """Import subjects from a CSV/XLSX file (id, name, phone, email, tz, other columns = attributes)."""
    do_import(ctx, "subject", **kw)


@click.command("import")
@_options
@click.option("--kind", default=None, help="Trigger kind of every row (else a `kind` column).")
@json_option
@click.pass_context
def trigger_import(ctx: click.Context, **kw: Any) -> None:
    """Import triggers (service events) from a CSV/XLSX file and plan their follow-ups."""
    do_import(ctx, "trigger", **kw)


@click.group("import")
def import_group() -> None:
    """Bulk import from HIS/CRM exports (CSV/XLSX, UTF-8 or GB18030); re-runs add nothing."""


import_group.add_command(subject_import, "subjects")
import_group.add_command(trigger_import, "triggers")


def _trigger_amend() -> click.Command:
    from .triggers import trigger_amend

    return trigger_amend


class TriggerCommand(VerbCommand):
    """`huifang trigger KIND ...` records one event; `huifang trigger import FILE ...` imports many and
    `huifang trigger amend ID ...` corrects one."""

    VERBS = {"import": lambda: trigger_import, "amend": _trigger_amend}
    EPILOG = ("Bulk: huifang trigger import FILE [--kind KIND] [--map FILE.toml] [--skip-bad] "
              "(see huifang trigger import --help).",
              "Correct: huifang trigger amend ID --attr KEY=VALUE [--at ISO] [--reason TEXT] "
              "(re-plans its open follow-ups).")
