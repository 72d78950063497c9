"""`huifang queue`: the operator's work list — their own follow-ups by default, soonest deadline first:
due in words (今天 15:00 / 明天 23:59 / 逾期2天), name, masked number, visit type, status (in colour on
a terminal: overdue red, provisional marked), tries and the next try. `--team`, `--agent ID`, `--all`
widen it. Names and numbers are personal data (G8): they are shown for the subjects the actor's
scope reaches, each read recorded, so that table always opens the application.

`--json` (machines) and `--codes` print codes only — no personal data, nothing recorded — and may
answer without opening the application (projections/queue_fast.py): an anonymous command at the
wall clock (no --as, --now or --backfill: nothing the store's identity and clock rules could
refuse, cli/state.py), a SQLite store whose core view is current, and a config this module can read
with tomllib alone. Then only click, sqlite3 and the stdlib are loaded (no SQLAlchemy, eventsourcing,
psycopg, pydantic, rich or plugin). In every other case — PostgreSQL, views behind the log, a config
holding plugin settings or anything else not vouched for here, any error — the full path answers, as
every other command does: it checks the identity and the clock, validates the config, catches the
views up and reports the errors. Both paths select and format rows with the same code
(queue_fast.queue_query, core/queue_rows.py), and print the same bytes (tests/test_queue_fast.py).

The work list with names takes the same lean route under the same conditions (fast_worklist) when,
besides, the OS login is bound to no staff member (the actor is `cli`), every subject on the page
already has its `queue` read recorded that day (G8: so nothing is written; the day's first list
records them through the full path), the master key passes the store's key check, and the enabled
plugins' visit-type labels are cached (remember_labels, by the full path; keyed by a digest of each
plugin's files). It reads the names from the log's rows and decrypts only those shown
(queue_fast.read_worklist), and lays the table out without rich off a terminal.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
from collections.abc import Callable
from datetime import date, tzinfo
from pathlib import Path
from typing import Any, TypeVar

import click

from huifang.core import clock

from .state import State, run

F = TypeVar("F", bound=Callable[..., Any])
HEADERS = ["follow-up", "subject", "visit type", "status", "due", "owner", "tries", "next try"]
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
@click.option("--agent", default=None, metavar="STAFF_ID", help="Someone else's follow-ups.")
@click.option("--team", is_flag=True, help="Your team's: you, everyone below you in the ladder, your department.")
@click.option("--all", "everyone", is_flag=True, help="Everyone's.")
@click.option("--on", "on_text", default=None, metavar="DATE", help="Day (default: today at --now).")
@click.option("--overdue", is_flag=True)
@click.option("--limit", type=click.IntRange(min=0), default=50, show_default=True,
              help="At most this many rows, soonest deadline first (0 = all).")
@click.option("--codes", is_flag=True, help="Codes and ISO times, no names or numbers (nothing recorded; fast).")
@json_flag
@click.pass_context
def queue(ctx: click.Context, agent: str | None, team: bool, everyone: bool, on_text: str | None, overdue: bool,
          limit: int, codes: bool) -> None:
    """Your follow-ups to call (open windows), soonest deadline first; --team, --agent, --all for others'."""
    if sum((agent is not None, team, everyone)) > 1:
        raise click.UsageError("give at most one of --agent, --team, --all")

    def go(s: State) -> None:
        on = clock.parse_day(on_text) if on_text else None
        machine = s.json or codes
        if not machine and not team:
            text = fast_worklist(s, agent, on, overdue, limit)
            if text is not None:
                click.echo(text)
                return
        rows = fast_queue(s, agent, on, overdue, limit) if machine and not team else None
        if rows is None:
            from huifang.core import queries

            app = s.app()
            owners = whose(app, s.actor, agent, team, everyone)
            rows = queries.queue(app, owners, on, overdue, limit=limit)
            if not machine:
                click.echo(worklist(app, s, rows, limit, owners))
                return
        if s.json:  # as plugin_api.cli.emit: every value is JSON already
            click.echo(json.dumps(rows, ensure_ascii=False))
        else:
            click.echo(render(rows, limit))
    run(ctx, go)


def whose(app: Any, actor: str, agent: str | None, team: bool, everyone: bool) -> str | list[str] | None:
    """The owners whose follow-ups are listed (None: everyone's): by default the acting staff
    member's own (the anonymous `cli`: everyone's)."""
    from huifang.core.domain import Staff
    from huifang.core.errors import HuifangError

    if agent is not None:
        if app.find(Staff, agent) is None:
            raise HuifangError(f"'{agent}' is not registered staff (huifang staff list)", field="agent")
        return agent
    if everyone:
        return None
    me = app.find(Staff, actor)
    if team:
        if me is None:
            raise HuifangError("name who you are (--as STAFF_ID) to list your team's follow-ups", field="team")
        from huifang.projections.people import team_of

        return team_of(app, actor)
    return actor if me is not None else None


HEADERS_BY_LANG = {"zh_CN": ["回访单", "截止", "姓名", "电话", "回访类型", "状态", "次数", "下次尝试", "负责人"],
                   "en": ["follow-up", "due", "name", "phone", "visit type", "status", "tries", "next try", "owner"]}
WORDS = {  # the work list's words, by language (codes and JSON stay English)
    "zh_CN": {"provisional": "临时", "count": "共 {n} 条", "more": "（仅前 {n} 条，--limit 0 查看全部）",
              "own": "{who} 的回访", "team": "{who} 团队的回访", "agent": "{who} 的回访", "all": "全部回访",
              "empty": "没有要打的回访"},
    "en": {"provisional": "provisional", "count": "{n} follow-up(s)", "more": " (the first {n}: --limit to see more)",
           "own": "{who}'s follow-ups", "team": "{who}'s team's follow-ups", "agent": "{who}'s follow-ups",
           "all": "all follow-ups", "empty": "nothing to call"},
}
STATUS_STYLE = {"overdue": "bold red", "due": "yellow", "planned": "dim"}


def worklist(app: Any, s: State, rows: list[dict[str, Any]], limit: int, owners: str | list[str] | None) -> str:
    """The work list as an operator reads it (names shown are a recorded read, G8)."""
    from huifang.core import labels
    from huifang.projections.people import list_people

    people = list_people(app, s.actor, [r["subject"] for r in rows], "queue", "queue") if rows else {}
    if people:
        app.read_side.catch_up()  # past the reads just recorded: the next `queue` stays on the fast path
    text = worklist_text(rows, people, s.actor, owners, limit, clock.zone(app.config.huifang.timezone),
                         labels.current_lang(), labels.label)
    with contextlib.suppress(Exception):  # a cache, for fast_worklist: never the command's failure
        remember_labels(app.registry.plugins)
    return text


def worklist_text(rows: list[dict[str, Any]], people: dict[str, dict[str, str]], actor: str,
                  owners: str | list[str] | None, limit: int, tz: tzinfo, lang: str,
                  label: Callable[..., str]) -> str:
    """The work list's text from its rows and the names shown (both paths print it)."""
    from datetime import datetime

    from huifang.core import humantime

    w = WORDS["en" if lang == "en" else "zh_CN"]
    headers = HEADERS_BY_LANG["en" if lang == "en" else "zh_CN"]
    now = clock.now()
    styled: list[list[tuple[str, str | None]]] = []
    for r in rows:
        due = humantime.due_text(datetime.fromisoformat(r["due"]), now, tz, lang)
        if r["provisional"]:
            due += f" ({w['provisional']})"
        who = people.get(r["subject"])
        nxt = humantime.short(datetime.fromisoformat(r["next_attempt_at"]), tz, now) if r["next_attempt_at"] else "-"
        style = STATUS_STYLE.get(r["status"])
        styled.append([(r["id"], None), (due, style if r["status"] == "overdue" else ("italic" if r["provisional"] else None)),
                       (who["name"] if who else r["subject"], None), (who["phone"] if who and who["phone"] else "-", None),
                       (label("visit_type", r["visit_type"], plugin=r["plugin"]), None),
                       (label("status", r["status"]), style), (str(r["attempts"]), None), (nxt, None),
                       (r["owner"] or "-", None)])
    scope = (w["all"] if owners is None else w["team"].format(who=actor) if isinstance(owners, list)
             else w["own" if owners == actor else "agent"].format(who=owners))
    footer = f"{scope}: " + w["count"].format(n=len(rows)) + (w["more"].format(n=limit) if limit and len(rows) == limit
                                                              else "")
    if not rows:
        return f"{scope}: {w['empty']}"
    return styled_table(headers, styled) + "\n" + footer


def styled_table(headers: list[str], rows: list[list[tuple[str, str | None]]]) -> str:
    """A rich table: in colour on a terminal (NO_COLOR respected), plain text otherwise; without rich
    where plain_styled_table can say how rich would lay it out."""
    import sys

    tty = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    text = plain_styled_table(headers, rows, ansi=tty) if not tty or ansi_terminal() else None
    return text if text is not None else rich_table(headers, rows, tty)


def ansi_terminal() -> bool:
    """Whether rich would colour this terminal with SGR codes that are the same in every colour
    system for STATUS_STYLE's styles (rich/console.py _detect_color_system: not Windows, not dumb)."""
    import sys

    return sys.platform != "win32" and os.environ.get("TERM", "").lower() not in ("dumb", "unknown")


def rich_table(headers: list[str], rows: list[list[tuple[str, str | None]]], tty: bool) -> str:
    import io

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    t = Table(*headers, box=None, pad_edge=False, header_style="bold", show_edge=False)
    for r in rows:
        t.add_row(*[Text(c, style=st or "") for c, st in r])
    out = io.StringIO()
    Console(width=200, file=out, color_system="auto" if tty else None, force_terminal=tty).print(t)
    return out.getvalue().rstrip()


def plain_styled_table(headers: list[str], rows: list[list[tuple[str, str | None]]], ansi: bool = False
                       ) -> str | None:
    """rich_table's text without rich (a tenth of a second to import and lay out), or None when a cell
    holds a character whose width rich might count otherwise than here (only printable ASCII and the
    CJK ideographs and full-width forms of WIDE are measured), a style not in SGR, or the table is
    wider than its console (rich wraps it). `ansi`: in colour, as rich writes to a terminal."""
    cells: list[list[tuple[str, str | None]]] = [[(c, "bold") for c in headers], *rows]
    widths = [0] * len(headers)
    for row in cells:
        for i, (c, style) in enumerate(row):
            n = cell_width(c)
            if n is None or (ansi and style and any(word not in SGR for word in style.split())):
                return None
            widths[i] = max(widths[i], n)
    if sum(widths) + 2 * (len(widths) - 1) > TABLE_WIDTH:
        return None
    last = len(widths) - 1
    lines = []
    for r, row in enumerate(cells):
        parts = []
        for i, (c, style) in enumerate(row):
            text = c + " " * (widths[i] - cell_width_known(c))
            code = ";".join(SGR[w] for w in sorted(style.split(), key=list(SGR).index)) if ansi and style else ""
            pad = f"\x1b[{code}m \x1b[0m" if code and r == 0 else " "  # the header's padding is bold too
            parts.append((pad if i else "") + (f"\x1b[{code}m{text}\x1b[0m" if code and text else text)
                         + (pad if i < last else ""))
        lines.append("".join(parts))
    return "\n".join(lines).rstrip()


# rich's SGR parameters of the styles the work list uses, in the order rich writes them (attributes, colour)
SGR = {"bold": "1", "dim": "2", "italic": "3", "red": "31", "yellow": "33"}


# code points rich counts two cells wide that the work list shows (Chinese words, full-width punctuation)
WIDE = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xFF01, 0xFF60))


def cell_width(text: str) -> int | None:
    """Terminal cells of `text`: 1 per printable ASCII character, 2 per character of WIDE; None otherwise."""
    if text.isascii():
        return len(text) if text.isprintable() else None
    n = 0
    for ch in text:
        o = ord(ch)
        if 0x20 <= o < 0x7F:
            n += 1
        elif any(lo <= o <= hi for lo, hi in WIDE):
            n += 2
        else:
            return None
    return n


def cell_width_known(text: str) -> int:
    n = cell_width(text)
    assert n is not None
    return n


def fast_store(s: State) -> str | None:
    """The SQLite file a fast path may read, or None: only an anonymous command at the wall clock is
    answered without the application (opening the store checks --as, --now and --backfill)."""
    if s.now_given or s.backfill is not None or s.claimed.strip() not in ANONYMOUS_CLAIMS:
        return None
    from huifang.core.store import Store

    store = Store.parse(s.db)
    return store.path if store.kind == "sqlite" else None


def fast_worklist(s: State, agent: str | None, on: date | None, overdue: bool, limit: int) -> str | None:
    """The work list with names read without the application (projections/queue_fast.read_worklist),
    or None: take the full path. As fast_queue, only for an anonymous command at the wall clock on
    a SQLite store and a config read with tomllib alone; then only when nothing would be written (each
    subject's read already recorded today, G8) and the plugins' labels are cached (remember_labels)."""
    try:
        path = fast_store(s)
        if path is None:
            return None
        from huifang.core import labels
        from huifang.core.config_files import locate_config
        from huifang.core.phones import mask_phone
        from huifang.core.queue_rows import queue_json, queue_until
        from huifang.projections.queue_fast import read_worklist

        deployment = plain_deployment(locate_config(s.config_path, s.config_how, s.db).path)
        if deployment is None or "pii_attributes" in deployment:  # checked against the store's settings
            return None
        tz = clock.zone(deployment.get("timezone", clock.DEFAULT_TZ))
        lang = labels.current_lang()
        enabled = deployment.get("plugins")
        visit_types = cached_labels(sorted(installed_plugins()) if enabled is None else enabled, lang)
        if visit_types is None:
            return None
        configured = os.environ.get("HUIFANG_KEY_DIR") or deployment.get("key_dir")
        if configured:
            key_dir = Path(configured).expanduser()
        else:
            file = Path(path).resolve()
            key_dir = file.with_name(file.name + ".keys")  # core/audit/keys.sidecar
        logins = [] if s.login is None else [n for n in (s.login.name, s.login.sudo_user) if n]
        now = clock.now()
        found = read_worklist(path, queue_until(now, tz, on), agent, now if overdue else None, limit or None,
                              logins=logins, key_dir=key_dir, tz=tz, today=now.astimezone(tz).date())
        if found is None:
            return None
        people = {code: {"name": name, "phone": mask_phone(phones[0]) if phones else ""}
                  for code, (name, phones) in found.people.items()}

        def label(kind: str, code: str, plugin: str | None = None) -> str:
            """core/labels.label for the two kinds shown, the plugins' visit types from the cache."""
            if kind == "visit_type" and plugin is None:
                raise LookupError(code)  # every plugin's labels would be asked
            if kind == "visit_type" and plugin in visit_types:
                own = visit_types[plugin]
                if own is not None and code in own:
                    return own[code]
            elif kind != "visit_type" and kind != "status":
                raise LookupError(kind)
            core = labels.CORE.get(kind, code, lang)
            if core is None and kind == "status":
                raise LookupError(code)  # the plugins' labels would be asked next
            return core if core is not None else code

        return worklist_text(queue_json(found.rows, now, tz), people, "cli", agent, limit, tz, lang, label)
    except Exception:  # whatever went wrong, the full path answers (and reports it)
        return None


def fast_queue(s: State, agent: str | None, on: date | None, overdue: bool, limit: int
               ) -> list[dict[str, Any]] | None:
    """The page read without the application (projections/queue_fast.py), or None: take the full path.

    Opening the store checks the --as claim against the platform identity (core/identity.py) and
    --now/--backfill against the store's clock mode (core/timekeeping.py); neither refuses an
    anonymous command at the wall clock, which the queue (no personal data, nothing written) is
    open to: only such a command is answered here."""
    try:
        path = fast_store(s)
        if path is None:
            return None
        from huifang.core.config_files import locate_config
        from huifang.core.queue_rows import queue_json, queue_until
        from huifang.projections.queue_fast import read_queue

        tz_name = deployment_timezone(locate_config(s.config_path, s.config_how, s.db).path)
        if tz_name is None:
            return None
        tz = clock.zone(tz_name)
        rows = read_queue(path, queue_until(s.now, tz, on), agent, s.now if overdue else None, limit or None)
        return None if rows is None else queue_json(rows, s.now, tz)
    except Exception:  # whatever went wrong, the full path answers (and reports it)
        return None


def deployment_timezone(config_path: str | None) -> str | None:
    """The time zone of the config file the full path would load (core/config_files.locate_config:
    None = the defaults), or None when that file holds anything whose validity only the config
    model or the plugins can vouch for: plugin settings, values of other types, unknown keys."""
    deployment = plain_deployment(config_path)
    if deployment is None:
        return None
    tz = deployment.get("timezone", clock.DEFAULT_TZ)
    return tz if isinstance(tz, str) else None


def plain_deployment(config_path: str | None) -> dict[str, Any] | None:
    """The `[huifang]` table of that config file ({} for the defaults), or None as deployment_timezone."""
    if config_path is None:
        return {}
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
    return deployment


def installed_plugins() -> set[str]:
    """Names of the installed plugins (core/registry.discover, without importing pluggy or pydantic)."""
    return {ep.name for ep in plugin_entry_points()}


@functools.cache
def plugin_entry_points() -> tuple[Any, ...]:
    """The plugins' entry points, read once per process (one command)."""
    from importlib.metadata import entry_points

    return tuple(entry_points(group="huifang.plugins"))


# -- the plugins' visit-type labels, cached for fast_worklist ---------------------------------------------------
LABEL_CACHE_VERSION = 1


def label_cache() -> Path:
    """Where the labels are kept: $HUIFANG_CACHE_DIR, else $XDG_CACHE_HOME/huifang, else ~/.cache/huifang."""
    configured = os.environ.get("HUIFANG_CACHE_DIR")
    if configured:
        return Path(configured) / "labels.json"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "huifang" / "labels.json"


def plugin_fingerprints(names: list[str]) -> dict[str, str]:
    """Per installed plugin of `names`: its entry point and a digest of every source and catalogue file
    of its package, so that any change to its code or labels (an upgrade, an edit of an editable
    install) is a new fingerprint. Found without importing the plugin (half a second: its models)."""
    from importlib.util import find_spec

    out = {}
    for ep in plugin_entry_points():
        if ep.name not in names:
            continue
        spec = find_spec(ep.module)
        if spec is None or spec.origin is None:
            continue
        if spec.submodule_search_locations:
            files = sorted(f for d in spec.submodule_search_locations for f in Path(d).rglob("*")
                           if f.suffix in (".py", ".po", ".mo") and "__pycache__" not in f.parts)
        else:
            files = [Path(spec.origin)]
        digest = hashlib.sha256(ep.value.encode())
        for f in files:
            # a catalogue's mtime too: core/labels.Translator compiles the .po when the .mo is older
            when = str(f.stat().st_mtime_ns) if f.suffix != ".py" else ""
            digest.update(b"\0" + str(f).encode() + b"\0" + when.encode() + b"\0" + f.read_bytes())
        out[ep.name] = digest.hexdigest()
    return out


def remember_labels(plugins: dict[str, Any]) -> None:
    """Keep the enabled plugins' visit-type labels (each language) for fast_worklist, once per fingerprint."""
    from huifang.core import labels

    path = label_cache()
    try:
        cache = json.loads(path.read_text(encoding="utf-8"))
        if cache.get("version") != LABEL_CACHE_VERSION:
            cache = {}
    except (OSError, ValueError):
        cache = {}
    known = cache.setdefault("plugins", {})
    prints = plugin_fingerprints(list(plugins))
    changed = False
    for name, fingerprint in prints.items():
        if known.get(name, {}).get("fingerprint") == fingerprint:
            continue
        own = labels.plugin_labels(name)
        known[name] = {"fingerprint": fingerprint, "labels": None if own is None else {
            lang: {code: own.get("visit_type", code, lang) for code in own.codes("visit_type")}
            for lang in labels.LANGS}}
        changed = True
    if not changed:
        return
    cache["version"] = LABEL_CACHE_VERSION
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".labels-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(cache, f, ensure_ascii=False)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def cached_labels(enabled: list[str], lang: str) -> dict[str, dict[str, str] | None] | None:
    """The visit-type labels in `lang` of each enabled plugin (None: it declares none) as cached by
    remember_labels, or None when any is missing or its fingerprint changed since."""
    try:
        cache = json.loads(label_cache().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if cache.get("version") != LABEL_CACHE_VERSION:
        return None
    known = cache.get("plugins", {})
    prints = plugin_fingerprints(enabled)
    out: dict[str, dict[str, str] | None] = {}
    for name in enabled:
        entry = known.get(name)
        if entry is None or name not in prints or entry.get("fingerprint") != prints[name]:
            return None
        out[name] = None if entry["labels"] is None else entry["labels"][lang]
    return out


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
