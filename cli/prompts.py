"""Interactive `complete` and `attempt` on a terminal (click prompts): the survey asked question by
question, the outcome picked from a numbered list, then saved by the same use cases as the plain
commands. Used only when standard input is a terminal and the values were not given as options;
scripts (answers given, or input not a terminal) see the commands exactly as before."""
from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any

import click

from huifang.core.errors import HuifangError

from .state import State
from .survey_form import Field, Form, choice_field, followup_survey


def on_terminal() -> bool:
    """Whether an operator is at the keyboard: prompts are only ever shown then."""
    return sys.stdin.isatty()


def ask(f: Field, n: int | None = None, total: int | None = None, err: bool = False,
        previous: Any = None) -> Any:
    """One field: what to say first, its text (numbered n/total), its choices, then input until it
    is valid."""
    if f.say:
        click.echo(f"\n   「{f.say}」", err=err)
    mark = "（必答）" if f.required else ""
    click.echo(f"\n{f'{n}/{total} ' if n else ''}{f.text}{mark}", err=err)
    for line in f.choices():
        click.echo(f"   {line}", err=err)
    shown = f.shown(previous) if previous is not None else ""
    while True:
        raw = click.prompt(f"   > {f.hint()}", default=shown, show_default=bool(shown), err=err)
        try:
            return f.parse(raw)
        except HuifangError as e:
            click.echo(f"   ! {e.message}", err=err)


def fill(form: Form, err: bool = False) -> dict[str, Any]:
    """Every field of the form in turn (those an answer brings in too), a review, then save (y), edit
    again (e) or give up (q: nothing is written)."""
    while True:
        click.echo(form.title, err=err)
        i = 0
        while i < len(form.active()):  # an answer may add fields (不满意 -> its reason)
            f = form.active()[i]
            form.values[f.key] = ask(f, i + 1, len(form.active()), err, form.values.get(f.key))
            i += 1
        click.echo("\n请核对 (review):", err=err)
        for line in form.review():
            click.echo(f"   {line}", err=err)
        choice = click.prompt("保存？ y=保存 e=修改 q=放弃", type=click.Choice(["y", "e", "q"]), default="y",
                              err=err)
        if choice == "y":
            return form.answers()
        if choice == "q":
            raise click.Abort()


@contextlib.contextmanager
def saving(s: State, prompted: bool) -> Iterator[None]:
    """The instant a record is saved: when prompted on the system clock, the moment the operator
    confirmed it (not when the command started, minutes earlier); a --now or backfill instant, and
    any record not prompted for, stays at the command's instant."""
    if not prompted or s.now_given or s.backfill is not None:
        yield
        return
    from huifang.core import clock

    with clock.at(clock.wall_clock(), clock.SYSTEM_CLOCK):
        yield


def survey_answers(s: State, followup_id: str) -> dict[str, Any]:
    """The survey of `followup_id`, asked on the terminal."""
    return fill(followup_survey(s.app(), followup_id, s.actor), err=s.json)


def outcome(s: State) -> str:
    """The outcome of an attempt, picked from the numbered list of outcomes with their labels."""
    from huifang.core.contract import OUTCOMES

    f = choice_field("outcome", "结果 (outcome)", "outcome", OUTCOMES)
    value: str = ask(f, err=s.json)
    return value
