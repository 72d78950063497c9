"""`huifang report KIND` (G14–G20, F8, P8, M8–M9) and `huifang qa` (G17 quality sampling).

Reports read the projection views: the command first catches them up with the log (or, when another
process holds the store, says how far behind they are) and renders any report — the engine's or a
plugin's — in table, json, csv, xlsx, png or html.
"""
from __future__ import annotations

import re
import sys
from datetime import date, timedelta
from typing import Any

import click

from huifang.core import clock
from huifang.core.errors import HuifangError
from huifang.core.paths import check_output, write_output
from huifang.core.plugin_api.cli import json_option

from .output import emit, progress_bar, table
from .state import State, run


def _period(date_from: str | None, date_to: str | None, month: str | None,
            quarter: str | None) -> tuple[date | None, date | None]:
    given = [n for n, v in (("--from/--to", date_from or date_to), ("--month", month), ("--quarter", quarter)) if v]
    if len(given) > 1:
        raise HuifangError(f"{' and '.join(given)}: give the period one way only")
    if month:
        from huifang.projections.quality import parse_month

        return parse_month(month)
    if quarter:
        m = re.fullmatch(r"\s*(\d{4})-?[Qq]([1-4])\s*", quarter)
        if not m:
            raise HuifangError(f"--quarter: '{quarter}' is not a quarter (YYYY-Qn, e.g. 2026-Q4)")
        year, q = int(m.group(1)), int(m.group(2))
        first = clock.in_range(date(max(1, year), 3 * q - 2, 1), "--quarter", quarter)
        last = (date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)) - timedelta(days=1)
        return first, last
    return (clock.parse_day(date_from, "--from") if date_from else None,
            clock.parse_day(date_to, "--to") if date_to else None)


def catch_up(app: Any, s: State) -> str | None:
    """Bring the views up to the log head; if the store is busy, say how far behind they are."""
    from sqlalchemy.exc import OperationalError

    from huifang.projections.engine import is_locked_error

    try:
        with progress_bar(s, "catching up views") as update:
            app.projector.catch_up(progress=update)
        return None
    except OperationalError as e:
        if not is_locked_error(e):
            raise
        return f"views are {app.projector.lag()} events behind the log (the store is busy); figures as of their position"


def _known_plugins(app: Any, conn: Any) -> list[str]:
    from sqlalchemy import select

    from huifang.projections.core_views import followups

    seen = {r.plugin for r in conn.execute(select(followups.c.plugin).distinct())}
    return sorted(set(app.registry.plugins) | seen)


@click.command("report")
@click.argument("kind", required=False)
@click.option("--plugin", default=None, help="Only this plugin's follow-ups/tickets.")
@click.option("--by", "by_text", default=None, metavar="DIM[,DIM]",
              help="Break down by plugin, visit_type, department, agent, branch, month, quarter (tickets/pareto: "
                   "also category).")
@click.option("--from", "date_from", default=None, metavar="DATE", help="First day of the period (local date).")
@click.option("--to", "date_to", default=None, metavar="DATE", help="Last day of the period (inclusive).")
@click.option("--month", default=None, metavar="YYYY-MM", help="The period is this month.")
@click.option("--quarter", default=None, metavar="YYYY-Qn", help="The period is this quarter.")
@click.option("--format", "fmt", default=None, metavar="FORMAT", help="table|json|csv|xlsx|png|html (default table).")
@click.option("--out", default=None, metavar="FILE", help="Write to FILE (needed for xlsx and png).")
@click.option("--force", is_flag=True, help="Overwrite --out FILE if it exists.")
@click.option("--reason", default=None, help="Why you read the free-text opinions in it (G8; recorded).")
@click.option("--codes", is_flag=True,
              help="Headers and values as codes in table/xlsx/html/png too (json and csv always have codes).")
@click.option("--bom/--no-bom", default=True, show_default=True,
              help="CSV starts with the UTF-8 byte-order mark, so Excel opens Chinese text correctly.")
@json_option
@click.pass_context
def report(ctx: click.Context, kind: str | None, plugin: str | None, by_text: str | None, date_from: str | None,
           date_to: str | None, month: str | None, quarter: str | None, fmt: str | None, out: str | None,
           force: bool, reason: str | None, codes: bool, bom: bool) -> None:
    """Reports: rates, satisfaction, lost, tickets, pareto, qa, opinions, unresolved, monthly, quarterly,
    and the plugins' (run without KIND to list them)."""
    from huifang.projections.render import BINARY, FORMATS, build, render

    def go(s: State) -> None:
        app = s.app()
        if not kind:
            return _list(app, s)
        f = (fmt or ("json" if s.json else "table")).strip().lower()
        if f not in FORMATS:
            raise HuifangError(f"--format: '{fmt}' is not one of {', '.join(FORMATS)}")
        if s.json and f != "json" and not out:
            raise HuifangError(f"--json: --format {f} is not JSON; drop --json or pass --out FILE")
        if f in BINARY and not out:
            raise HuifangError(f"--out: --format {f} writes a binary file; pass --out FILE.{f}")
        target = check_output(app, out, force=force) if out else None  # never the store or a key
        first, last = _period(date_from, date_to, month, quarter)
        by = [d.strip() for d in (by_text or "").split(",") if d.strip()]
        warning = catch_up(app, s)
        with app.projector.engine.connect() as conn:
            if plugin is not None:
                known = _known_plugins(app, conn)
                if plugin not in known:
                    raise HuifangError(f"--plugin: '{plugin}' is not enabled and has no follow-ups; "
                                       f"plugins: {', '.join(known) or 'none'}")
            doc = build(app, conn, kind, plugin=plugin, by=by, date_from=first, date_to=last, fmt=f, now=s.now,
                        options={"actor": s.actor, "reason": reason})  # G8: opinions are a recorded read
            data = render(doc, f, codes=codes, bom=bom)
        if warning:
            click.echo(f"huifang: warning: {warning}", err=True)
        if target is not None:
            write_output(target, data, force=force)
            emit(s, {"report": doc.kind, "format": f, "out": out, "rows": len(doc.rows),
                     "sections": len(doc.sections), "generated_at": doc.generated_at},
                 f"wrote {doc.kind} ({f}, {len(doc.rows)} rows"
                 + (f", {len(doc.sections)} sections" if len(doc.sections) > 1 else "") + f") to {out}")
            return
        sys.stdout.flush()
        click.echo(data.decode(), nl=False)

    run(ctx, go)


def _list(app: Any, s: State) -> None:
    from huifang.projections.catalog import catalog

    entries = catalog(app)
    shown = {}
    for name, e in entries.items():
        key = id(e.report)
        if key in shown and not e.alias:
            continue
        shown[key] = (name, e)
    from huifang.core.labels import column, label

    rows = [{"kind": n, "owner": e.owner, "title": e.report.title, "rules": list(e.report.rules),
             "dimensions": list(e.report.dimensions)} for n, e in shown.values()]

    def owner(e: Any) -> str | None:
        return None if e.owner == "core" else e.owner

    emit(s, rows, table([column("kind"), column("plugin"), column("title"), column("rules")],
                        [[n, label("plugin", e.owner) if owner(e) else "huifang",
                          label("report", e.report.name, plugin=owner(e), default=e.report.title),
                          " ".join(e.report.rules)] for n, e in shown.values()])
         + "\nrun: huifang report KIND [--by DIM[,DIM]] [--from DATE --to DATE] [--format table|json|csv|xlsx|png|html]")


@click.group("qa")
def qa() -> None:
    """Quality sampling (质检, G17): draw a month's sample, record each check."""


@qa.command("sample")
@click.option("--month", required=True, metavar="YYYY-MM", help="Follow-ups completed in this month.")
@click.option("--rate", required=True, metavar="R", help="Share to draw: 0.1 or 10%.")
@click.option("--seed", default=0, show_default=True, type=int, help="Another seed draws another sample.")
@click.option("--plugin", default=None)
@click.option("--agent", default=None, metavar="STAFF_ID")
@json_option
@click.pass_context
def qa_sample(ctx: click.Context, month: str, rate: str, seed: int, plugin: str | None, agent: str | None) -> None:
    """A reproducible sample of the month's completed follow-ups for supervisors to check."""
    from huifang.projections.quality import parse_rate, sample

    def go(s: State) -> None:
        r = parse_rate(rate)
        data = sample(s.app(), month, r, seed, plugin, agent)
        from huifang.core.labels import cell, column

        rows = [[x["followup"], x["agent"] or "-", cell("visit_type", x["visit_type"]), x["completed_at"],
                 cell("channel", x["channel"]), (x["recording"] or "-")[:16], cell("satisfaction", x["satisfaction"]) or "-",
                 cell("result", x["result"]) or "-"] for x in data["rows"]]
        emit(s, data, f"G17 sample {data['month']}: {data['sample_size']} of {data['population']} completed "
                      f"follow-ups ({100 * r:g}%, seed {seed}); {data['checked']} already checked\n"
             + table([column(c) for c in ("followup", "agent", "visit_type", "completed_at", "channel", "recording",
                                          "satisfaction", "result")], rows)
             + "\nrecord a check: huifang --as SUPERVISOR qa record ID --result pass|fail --note TEXT")

    run(ctx, go)


@qa.command("record")
@click.argument("followup_id")
@click.option("--result", required=True, metavar="pass|fail")
@click.option("--note", default=None, help="What was checked or what failed (required for fail).")
@json_option
@click.pass_context
def qa_record(ctx: click.Context, followup_id: str, result: str, note: str | None) -> None:
    """Record a supervisor's check of a completed follow-up (run --as the supervisor)."""
    from huifang.projections.quality import check_json, record

    def go(s: State) -> None:
        app = s.app()
        check = record(app, followup_id, result.strip().lower(), note, actor=s.actor)
        data = check_json(check, app.config.huifang.timezone, app.keyring)
        emit(s, data, f"G17 check of {followup_id}: {data['result']} (by {data['checked_by']}"
                      + (f", check #{data['checks']}" if data["checks"] > 1 else "") + ")")

    run(ctx, go)
