"""`huifang queue`: today's follow-ups, soonest deadline first — the command operators run most.

It answers without opening the application when it safely can (projections/queue_fast.py): an
anonymous command at the wall clock (no --as, --now or --backfill: nothing the store's identity and
clock rules could refuse, cli/state.py), a SQLite store whose core view is current, and a config this
module can read with tomllib alone. Then only click, sqlite3 and the stdlib are loaded (no
SQLAlchemy, eventsourcing, psycopg, pydantic, rich or plugin). In every other case — PostgreSQL,
views behind the log, a config holding plugin settings or anything else not vouched for here, any
error — the full path answers, as every other command does: it checks the identity and the clock,
validates the config, catches the views up and reports the errors. Both paths select and
format rows with the same code (queue_fast.queue_query, core/queue_rows.py), and print the same
bytes (tests/test_queue_fast.py).
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click

from huifang.core import clock

from .state import State, run

F = TypeVar("F", bound=Callable[..., Any])
HEADERS = ["follow-up", "subject", "visit type", "status", "due", "owner", "tries", "next try"]
DEFAULT_CONFIG = "huifang.toml"  # core/config.load_config's default file
# [huifang] keys whose every value of these types the config model accepts (core/config.Deployment)
TEXT_KEYS = ("timezone", "organisation", "key_dir", "recordings_dir")
LADDER_INT_KEYS = ("level1_days", "level2_days", "hard_days")
TABLE_WIDTH = 200  # plugin_api.cli.table's console width
ANONYMOUS_CLAIMS = ("", "cli")  # core/identity.ANONYMOUS_CLAIMS: `--as` names nobody
# rich replaces `:name:` by an emoji (rich/_emoji_replace.py); no emoji is named by one or two digits
EMOJI_CODE = re.compile(r"(:(\S*?)(?:(?:\-)(emoji|text))?:)")


def json_flag(f: F) -> F:
    """plugin_api.cli.json_option, defined again here: importing the plugin API loads pydantic."""
    def callback(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
        if value and ctx.obj is not None:
            ctx.obj.json = True
        return value

    return click.option("--json", "as_json", is_flag=True, expose_value=False, callback=callback,
                        help="Print only JSON on stdout.")(f)


@click.command()
@click.option("--agent", default=None, metavar="STAFF_ID")
@click.option("--on", "on_text", default=None, metavar="DATE", help="Day (default: today at --now).")
@click.option("--overdue", is_flag=True)
@click.option("--limit", type=click.IntRange(min=0), default=50, show_default=True,
              help="At most this many rows, soonest deadline first (0 = all).")
@json_flag
@click.pass_context
def queue(ctx: click.Context, agent: str | None, on_text: str | None, overdue: bool, limit: int) -> None:
    """Today's follow-ups (open windows), soonest deadline first."""
    def go(s: State) -> None:
        on = clock.parse_day(on_text) if on_text else None
        rows = fast_queue(s, agent, on, overdue, limit)
        if rows is None:
            from huifang.core import queries

            rows = queries.queue(s.app(), agent, on, overdue, limit=limit)
        if s.json:  # as plugin_api.cli.emit: every value is JSON already
            click.echo(json.dumps(rows, ensure_ascii=False))
        else:
            click.echo(render(rows, limit))
    run(ctx, go)


def fast_queue(s: State, agent: str | None, on: date | None, overdue: bool, limit: int
               ) -> list[dict[str, Any]] | None:
    """The page read without the application (projections/queue_fast.py), or None: take the full path.

    Opening the store checks the --as claim against the platform identity (core/identity.py) and
    --now/--backfill against the store's clock mode (core/timekeeping.py); neither refuses an
    anonymous command at the wall clock, which the queue (no personal data, nothing written) is
    open to: only such a command is answered here."""
    if s.now_given or s.backfill is not None or s.claimed.strip() not in ANONYMOUS_CLAIMS:
        return None
    try:
        from huifang.core.queue_rows import queue_json, queue_until
        from huifang.core.store import Store
        from huifang.projections.queue_fast import read_queue

        store = Store.parse(s.db)
        if store.kind != "sqlite" or store.path is None:
            return None
        tz_name = deployment_timezone(s.config_path)
        if tz_name is None:
            return None
        tz = clock.zone(tz_name)
        rows = read_queue(store.path, queue_until(s.now, tz, on), agent, s.now if overdue else None, limit or None)
        return None if rows is None else queue_json(rows, s.now, tz)
    except Exception:  # whatever went wrong, the full path answers (and reports it)
        return None


def deployment_timezone(config_path: str | None) -> str | None:
    """The time zone of the config the full path would load (--config or HUIFANG_CONFIG, else
    ./huifang.toml if present), or None when that file holds anything whose validity only the
    config model or the plugins can vouch for: plugin settings, values of other types, unknown keys."""
    if config_path is None:
        if not os.path.exists(DEFAULT_CONFIG):
            return clock.DEFAULT_TZ  # the config model's default
        config_path = DEFAULT_CONFIG
    import tomllib

    try:
        data = tomllib.loads(Path(config_path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    if set(data) - {"huifang", "plugins"} or data.get("plugins", {}) != {}:
        return None
    deployment = data.get("huifang", {})
    if not isinstance(deployment, dict):
        return None
    for key, value in deployment.items():
        if key in TEXT_KEYS:
            ok = isinstance(value, str)
        elif key == "pii_attributes":
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        elif key == "lock_ladder":
            ok = isinstance(value, dict) and all(type(v) is (bool if k == "enabled" else int)
                                                 and k in ("enabled", *LADDER_INT_KEYS) for k, v in value.items())
        elif key == "plugins":
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value) \
                and len(set(value)) == len(value) and set(value) <= installed_plugins()
        else:
            ok = False
        if not ok:
            return None
    tz = deployment.get("timezone", clock.DEFAULT_TZ)
    return tz if isinstance(tz, str) else None


def installed_plugins() -> set[str]:
    """Names of the installed plugins (core/registry.discover, without importing pluggy or pydantic)."""
    from importlib.metadata import entry_points

    return {ep.name for ep in entry_points(group="huifang.plugins")}


def render(rows: list[dict[str, Any]], limit: int) -> str:
    cells = [[r["id"], r["subject"], r["visit_type"], r["status"],
              r["due"] + (" (provisional)" if r["provisional"] else ""), r["owner"] or "-",
              r["attempts"], r["next_attempt_at"] or "-"] for r in rows]
    text = plain_table(HEADERS, cells)
    if text is None:
        from huifang.core.plugin_api.cli import table

        text = table(HEADERS, cells)
    return (text + f"\n{len(rows)} follow-up(s)"
            + (f" (the first {limit}: --limit to see more)" if limit and len(rows) == limit else ""))


def plain_table(headers: list[str], rows: list[list[Any]]) -> str | None:
    """plugin_api.cli.table's text without rich (a tenth of a second to import), or None when a cell
    might render otherwise there: non-ASCII or control characters, console markup (`[`), emoji
    codes, or a table wider than the console (rich would wrap it)."""
    cells = [list(headers)] + [["" if c is None else str(c) for c in r] for r in rows]
    for row in cells:
        for c in row:
            if not c.isascii() or not c.isprintable() or "[" in c or any(
                    not (m.group(2).isdigit() and len(m.group(2)) <= 2) for m in EMOJI_CODE.finditer(c)):
                return None
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    if sum(widths) + 2 * (len(widths) - 1) > TABLE_WIDTH:
        return None
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells).rstrip()
