"""`huifang clock …`: the store's clock (chosen at `init`) and admins' backfill grants.

  clock show                                          mode, tolerance, latest record, grants, backfills
  clock backfill-grant STAFF --reason R [--hours H]   an admin lets STAFF enter late records (system clock)
"""
from __future__ import annotations

from typing import Any

import click

from huifang.core import clock as clk
from huifang.core.plugin_api.cli import json_option

from .output import emit
from .state import State, run


@click.group("clock")
def clock() -> None:
    """The store's clock (logical or system, fixed at init) and backfill grants."""


@clock.command("show")
@json_option
@click.pass_context
def clock_show(ctx: click.Context) -> None:
    """The clock mode, the tolerance, the store's latest record time, backfill grants and entries."""
    def go(s: State) -> None:
        from huifang.core import timekeeping

        app = s.app()
        tol = timekeeping.tolerance(app)
        latest = timekeeping.latest(app)
        log = app.find_by_id(timekeeping.BackfillLog.create_id())
        grants = [_plain(g) for g in (log.grants if log else [])]
        entries = [_plain(e) for e in timekeeping.entries(app)]  # G8: reasons revealed
        data = {"mode": timekeeping.mode(app), "recorded": timekeeping.recorded(app) is not None,
                "tolerance_minutes": None if tol is None else int(tol.total_seconds() // 60),
                "latest_record": clk.iso(latest), "grants": grants, "backfills": entries}
        lines = [f"clock: {data['mode']}" + ("" if data["recorded"] else " (none recorded: run init --clock)"),
                 "tolerance: " + ("none (each record's own order only)" if tol is None
                                  else f"{data['tolerance_minutes']} min behind the latest record"),
                 f"latest record: {data['latest_record'] or '-'}"]
        lines += [f"grant {g['n']}: {g['to']} until {g['until']} by {g['by']}: {g['reason']}" for g in grants]
        lines += [f"backfill {e['n']}: {e['by']} entered at {e['at']} records dated {e['claimed']} "
                  f"({', '.join(r['kind'] + ' ' + r['code'] for r in e['records'])}): {e['reason']}"
                  for e in entries]
        emit(s, data, "\n".join(lines))
    run(ctx, go)


@clock.command("backfill-grant")
@click.argument("staff")
@click.option("--reason", required=True, help="Why records are entered late (recorded; no personal data: it is stored in plain text).")
@click.option("--hours", type=float, default=8, show_default=True, help="How long the grant stays open.")
@json_option
@click.pass_context
def clock_backfill_grant(ctx: click.Context, staff: str, reason: str, hours: float) -> None:
    """An admin lets STAFF enter late records with --now T --backfill REASON (system-clock stores)."""
    def go(s: State) -> None:
        from huifang.core import timekeeping

        g = _plain(timekeeping.grant(s.app(), staff, reason, hours, s.actor))
        emit(s, g, f"backfill grant {g['n']}: {staff} may enter late records until {g['until']} "
                   f"(--now T --backfill REASON)")
    run(ctx, go)


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {k: clk.iso(v) if hasattr(v, "astimezone") else v for k, v in item.items()}
