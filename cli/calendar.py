"""`huifang calendar import|show`: the business calendar (G6)."""
from __future__ import annotations

import click

from huifang.core.errors import HuifangError
from huifang.core.plugin_api.cli import json_option

from .output import emit
from .state import State, run


@click.group()
def calendar() -> None:
    """The business calendar (G6): official holidays and make-up workdays."""


@calendar.command("import")
@click.argument("file")
@json_option
@click.pass_context
def calendar_import(ctx: click.Context, file: str) -> None:
    """Import the State Council's schedule (JSON or CSV); re-plans provisional deadlines."""
    from huifang.core.calendar import CalendarFileError, load_schedule_file

    def go(s: State) -> None:
        try:
            schedules = load_schedule_file(file)
        except CalendarFileError as e:
            raise HuifangError(str(e)) from None
        result = s.app().import_calendar(schedules, actor=s.actor)
        emit(s, result, f"imported {', '.join(map(str, result['years']))}; rescheduled {result['rescheduled']} "
                        f"of {result['checked']} provisional follow-up(s)")
    run(ctx, go)


@calendar.command("show")
@click.argument("year", type=int)
@json_option
@click.pass_context
def calendar_show(ctx: click.Context, year: int) -> None:
    """Whether a year has official data, and its holidays and make-up workdays."""
    def go(s: State) -> None:
        cal = s.app().calendar
        sched = cal.schedule(year)
        data = {"year": year, "official": cal.is_official(year),
                **({k: v for k, v in sched.to_json().items() if k != "year"} if sched else {})}
        emit(s, data, f"{year}: " + (f"official ({data.get('source')}), {len(data.get('holidays', []))} holidays, "
                                     f"{len(data.get('workdays', []))} make-up workdays" if data["official"]
                                     else "no official data: deadlines are provisional (Mon–Fri rule)"))
    run(ctx, go)
