"""The `huifang` command line (click).

Global options come before the command: --db, --now, --as, --config, --lang. Every command takes
--json and then prints only JSON on stdout. Errors are one line on stderr with exit code 2
and nothing written; an unexpected failure is one line with exit code 1 (HUIFANG_DEBUG=1
shows the traceback).

Start-up stays cheap (operators run dozens of commands an hour): this module imports only click.
A built-in command's module is imported when that command runs (BUILTINS); the enabled plugins are
loaded, and asked for their commands (hook `huifang_register_commands`), only when the command
is not built-in or the command list is shown.
"""
from __future__ import annotations

import importlib
import os
import sys
from typing import TYPE_CHECKING

import click

from huifang.core.errors import HuifangError

from . import __version__

if TYPE_CHECKING:
    from huifang.core.config import Config
    from huifang.core.registry import Registry

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

# Built-in commands: name -> (module under huifang.cli, attribute, short help). The help is the first
# paragraph of the command's docstring, kept here so `huifang --help` imports no command module
# (tests/test_cli_plugins.py checks both agree).
BUILTINS: dict[str, tuple[str, str, str]] = {
    "init": ("setup", "init", "Create the store (SQLite file or PostgreSQL tables) and the views."),
    "plugins": ("setup", "plugins", "Enabled plugins, their trigger kinds and visit types."),
    "demo": ("setup", "demo", "Build a realistic, seeded data set in a fresh store and say what was made."),
    "staff": ("people", "staff", "Staff: owners, supervisors and the reporting ladder."),
    "unlock": ("people", "unlock", "Unlock an agent locked for overdue follow-ups (A4); run --as their supervisor."),
    "subject": ("people", "subject", "Subjects (客户/患者): the people followed up."),
    "trigger": ("followups", "trigger", "Record a service event and plan its follow-ups."),
    "queue": ("queue", "queue",
              "Your follow-ups to call (open windows), soonest deadline first; --team, --agent, --all for others'."),
    "show": ("followups", "show",
             "The call sheet of one follow-up: who and why, earlier answers, the script (the read is recorded, G8)."),
    "attempt": ("followups", "attempt", "Record one contact attempt (G4, G5)."),
    "complete": ("followups", "complete", "Complete a follow-up with the survey answers."),
    "close": ("followups", "close", "Close a follow-up as lost, cancelled or exempt."),
    "reassign": ("followups", "reassign", "Give a follow-up to another owner."),
    "tick": ("followups", "tick",
             "Advance to --now: open windows, reminders (G3), overdue and escalation, locks (A4)."),
    "history": ("followups", "history", "Every event of a subject, follow-up, ticket, trigger or staff member, "
                                        "with actor and time (reading a subject's records is itself recorded, G8)."),
    "greetings": ("followups", "greetings",
                  "Record today's birthday or holiday greetings as one batch for the messaging channel (G21)."),
    "campaign": ("campaign", "campaign", "Batch campaigns (批量回访, A7): request, review, approve, list."),
    "ticket": ("tickets", "ticket", "Tickets (问题件, G12): problems found during follow-ups."),
    "calendar": ("calendar", "calendar", "The business calendar (G6): official holidays and make-up workdays."),
    "projections": ("views", "projections", "Read views: status and rebuild."),
    "report": ("report", "report", "Reports: rates, satisfaction, lost, tickets, pareto, qa, opinions, unresolved, "
                                   "monthly, quarterly, and the plugins' (run without KIND to list them)."),
    "qa": ("report", "qa", "Quality sampling (质检, G17): draw a month's sample, record each check."),
    "audit": ("audit", "audit", "Tamper evidence, log export and the read audit (G8, G11)."),
    "clock": ("clock", "clock", "The store's clock (logical or system, fixed at init) and backfill grants."),
    "retention": ("audit", "retention", "Retention (G10): how long records and recordings are kept."),
    "privacy": ("privacy", "privacy", "Privacy settings (G8): what is encrypted; fixed at init, only widened."),
    "import": ("importing", "import_group",
               "Bulk import from HIS/CRM exports (CSV/XLSX, UTF-8 or GB18030); re-runs add nothing."),
    "config": ("config", "config", "The deployment's settings (huifang.toml): which file, each value and its source; "
                                   "check them."),
    "work": ("work", "work", "The operator's workspace on a terminal: queue, call sheet, attempts, survey, tickets."),
    "serve": ("serve", "serve", "Run the HTTP service: the integration API (/api/v1, API tokens), the dashboard "
                                "(/dashboard) and the subjects' survey links (/s/...)."),
    "token": ("tokens", "token", "API tokens of the HTTP service (huifang serve): issue, revoke, list."),
    "delivery": ("delivery", "delivery", "Messages sent through the delivery adapters (invites, reminders, escalations, "
                                         "greetings): list, view, retry, run."),
    "webhook": ("webhooks", "webhook", "Webhooks out (from the event log): add, list, remove, deliveries, replay, run."),
    "invite": ("invites", "invite",
               "Send the subject a link to answer the follow-up's survey themself (single use, expiring)."),
}

_PLUGINS = "huifang.plugin_commands"  # ctx.meta keys of the root context (one invocation)
_LOADED = "huifang.plugin_registry"
_CONFIG_ARG = "huifang.config_arg"
_DB_ARG = "huifang.db_arg"
_CONFIG_HOW = "huifang.config_how"
_VALUE_OPTIONS = ("--db", "--now", "--backfill", "--as", "--config", "--lang")


def _config_arg(args: list[str]) -> str | None:
    """--config among the global options (read before click parses them: `--help` is eager)."""
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--config":
            return args[i + 1] if i + 1 < len(args) else None
        if a.startswith("--config="):
            return a.split("=", 1)[1]
        if not a.startswith("-"):
            break
        i += 2 if a in _VALUE_OPTIONS else 1
    return os.environ.get("HUIFANG_CONFIG")


def _db_arg(args: list[str]) -> str | None:
    """--db among the global options (the store may name the config recorded at init)."""
    for i, a in enumerate(args):
        if a == "--db":
            return args[i + 1] if i + 1 < len(args) else None
        if a.startswith("--db="):
            return a.split("=", 1)[1]
    return os.environ.get("HUIFANG_DB")


def load_plugin_commands(config_path: str | None, quiet: bool = False, db: str | None = None,
                         how: str | None = None,
                         ) -> tuple[dict[str, click.Command], Config | None, Registry | None]:
    """The commands of the deployment's enabled plugins (hook `huifang_register_commands`).

    Each plugin adds to a fresh group, so nothing it does outlives this invocation. A broken plugin
    raises ConfigError, or, when quiet (listing commands), is left out with a warning on stderr."""
    from huifang.core.config import load_config
    from huifang.core.errors import ConfigError
    from huifang.core.registry import Registry

    try:
        config = load_config(config_path, how, db)
        registry = Registry(config.huifang.plugins, config.plugins)
    except HuifangError as e:
        if not quiet:
            raise
        click.echo(f"huifang: warning: plugin commands left out: {e}", err=True)
        return {}, None, None
    found: dict[str, click.Command] = {}
    for name in registry.plugins:
        group = click.Group(name)
        try:
            registry.call(name, "huifang_register_commands", cli=group)
        except Exception as e:
            error = ConfigError(f"plugins: '{name}' failed to register its commands ({type(e).__name__}: {e})")
            if not quiet:
                raise error from None
            click.echo(f"huifang: warning: {error}", err=True)
            continue
        for cmd_name, cmd in group.commands.items():
            if cmd_name not in BUILTINS and cmd_name not in found:  # built-ins first, then plugin order
                found[cmd_name] = cmd
    return found, config, registry


def short_help(text: str, limit: int) -> str:
    """`text` shortened for the command list exactly as click shortens a command's docstring."""
    return click.Command(None, help=text).get_short_help_str(limit)


class HuifangGroup(click.Group):
    """The root group: built-in commands imported on demand, plugin commands loaded on demand."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[_CONFIG_ARG] = _config_arg(args)
        ctx.meta[_DB_ARG] = _db_arg(args)
        given = _config_arg(args)  # --config beats HUIFANG_CONFIG (click's envvar): say which was used
        ctx.meta[_CONFIG_HOW] = None if given is None else (
            "HUIFANG_CONFIG" if given == os.environ.get("HUIFANG_CONFIG") and "--config" not in args
            and not any(a.startswith("--config=") for a in args) else "--config")
        return super().parse_args(ctx, args)

    def _plugin_commands(self, ctx: click.Context, quiet: bool) -> dict[str, click.Command]:
        root = ctx.find_root()
        if _PLUGINS not in root.meta:
            config_path = root.params["config_path"] if "config_path" in root.params else root.meta.get(_CONFIG_ARG)
            db = root.params["db"] if "db" in root.params else root.meta.get(_DB_ARG)
            found, config, registry = load_plugin_commands(config_path, quiet=quiet, db=db,
                                                           how=root.meta.get(_CONFIG_HOW))
            root.meta[_PLUGINS] = found
            root.meta[_LOADED] = (config, registry)
        commands: dict[str, click.Command] = root.meta[_PLUGINS]
        return commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(BUILTINS) | set(self._plugin_commands(ctx, quiet=True)))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in BUILTINS:
            module, attr, _ = BUILTINS[cmd_name]
            cmd: click.Command = getattr(importlib.import_module(f"huifang.cli.{module}"), attr)
            return cmd
        return self._plugin_commands(ctx, quiet=False).get(cmd_name)

    def resolve_command(self, ctx: click.Context, args: list[str]
                        ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as e:  # suggest from every command, not only those loaded
            raise click.exceptions.NoSuchCommand(e.command_name, possibilities=self.list_commands(ctx),
                                                 ctx=ctx) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As click's, the built-ins' short help taken from BUILTINS (no module imported)."""
        plugin = self._plugin_commands(ctx, quiet=True)
        names = [n for n in self.list_commands(ctx) if n in BUILTINS or not plugin[n].hidden]
        if not names:
            return
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = [(n, short_help(BUILTINS[n][2], limit) if n in BUILTINS else plugin[n].get_short_help_str(limit))
                for n in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=HuifangGroup, context_settings=CONTEXT)
@click.version_option(__version__, prog_name="huifang")  # not importlib.metadata: 50 ms of start-up
@click.option("--db", envvar="HUIFANG_DB", default=None, metavar="PATH|URL",
              help="SQLite file (default ./huifang.db) or postgresql://user:pw@host/db[?schema=S]. Env HUIFANG_DB.")
@click.option("--now", "now_text", envvar="HUIFANG_NOW", default=None, metavar="ISO-8601",
              help="The instant the command runs at (env HUIFANG_NOW; default: the wall clock). Refused by a "
                   "store on the system clock, except with --backfill.")
@click.option("--backfill", "backfill", default=None, metavar="REASON",
              help="Enter a late record at --now under an admin's grant (system-clock stores; recorded and "
                   "flagged in reports).")
@click.option("--as", "actor", envvar="HUIFANG_ACTOR", default="cli", metavar="STAFF_ID",
              help="Who is acting (env HUIFANG_ACTOR). Checked against the database role or OS user bound to a "
                   "staff member (staff add --db-role/--os-user): free only in setup mode and for the store's "
                   "owner.")
@click.option("--config", "config_path", envvar="HUIFANG_CONFIG", default=None, metavar="FILE",
              help="huifang.toml (env HUIFANG_CONFIG; default: the file recorded in the store at init, else "
                   "./huifang.toml if present). `config show` says which is in effect.")
@click.option("--lang", "lang", envvar="HUIFANG_LANG", default=None, metavar="zh_CN|en",
              help="Language of labels in tables and reports (env HUIFANG_LANG; default: `lang` in huifang.toml, "
                   "else zh_CN). JSON and CSV keep the codes.")
@click.option("--json", "as_json", is_flag=True, help="Print only JSON on stdout.")
@click.pass_context
def cli(ctx: click.Context, db: str | None, now_text: str | None, backfill: str | None, actor: str,
        config_path: str | None, lang: str | None, as_json: bool) -> None:
    """huifang (回访): plan, run and audit follow-up contacts."""
    from huifang.core import clock, labels

    labels.reset()  # one invocation's language: --lang/HUIFANG_LANG, then the config's (State.app)
    labels.set_lang(lang)

    from .state import State, os_login

    wall = clock.wall_clock()  # the CLI edge is the one place the wall clock is asked for
    now = clock.parse_instant(now_text, "--now") if now_text else wall
    config, registry = ctx.meta.get(_LOADED, (None, None))
    ctx.obj = State(db, now, actor, config_path, as_json, config=config, registry=registry,
                    now_given=bool(now_text), backfill=backfill, wall=wall, login=os_login())
    ctx.obj.config_how = ctx.meta.get(_CONFIG_HOW)


# options whose values are free text: a tab or line feed is allowed there (core/inputs.py); every
# other argument (ids, names, codes, times, paths) is one line
FREE_TEXT_OPTIONS = frozenset({"--note", "--reason", "--lost", "--cancel", "--statement", "--answer", "--attr",
                               "--return", "--backfill"})
_ENV_OPTIONS = {"HUIFANG_DB": "--db", "HUIFANG_NOW": "--now", "HUIFANG_ACTOR": "--as", "HUIFANG_CONFIG": "--config",
                "HUIFANG_LANG": "--lang"}


def check_args(argv: list[str]) -> None:
    """Every argument and HUIFANG_* variable under the one input rule (no control characters, valid
    UTF-8), before click or the store sees them; the error names the option or argument."""
    if all(a.isascii() and a.isprintable() for a in [*argv, *(os.environ.get(v, "") for v in _ENV_OPTIONS)]):
        return  # nothing to check (and nothing imported: `--version` stays cheap)
    from huifang.core.inputs import check_text, shown

    option: str | None = None
    for i, arg in enumerate(argv):
        if arg == "--":
            option = None
            continue
        if arg.startswith("--"):  # an option (a value starting with -- is checked as one line: stricter)
            name, eq, value = arg.partition("=")
            check_text(name, f"argument {i + 1} ('{shown(name)[:40]}')")
            if eq:
                check_text(value, name, name in FREE_TEXT_OPTIONS)
            option = None if eq else name
            continue
        if option in ("--attr", "--answer") and "=" in arg:  # KEY=VALUE: name the key
            key, _, value = arg.partition("=")
            check_text(key, f"{option} {shown(key)[:40]}")
            check_text(value, f"{option} {key}", multiline=True)
        else:
            check_text(arg, option or f"argument {i + 1} ('{shown(arg)[:40]}')", option in FREE_TEXT_OPTIONS)
        option = None
    for var, opt in _ENV_OPTIONS.items():
        setting = os.environ.get(var)
        if setting:
            check_text(setting, f"{var} ({opt})")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    as_json = "--json" in argv
    try:
        check_args(argv)
        cli.main(args=argv, prog_name="huifang", standalone_mode=False)
    except HuifangError as e:
        fail(option_message(e), e.exit_code, as_json)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.Abort:
        fail("aborted", 1, as_json)
    except click.ClickException as e:
        fail(e.format_message().replace("\n", " "), 2, as_json)
    except BrokenPipeError:
        sys.exit(1)
    except Exception as e:  # never a traceback for an operator
        if os.environ.get("HUIFANG_DEBUG"):
            raise
        from huifang.core.errors import StoreUnavailable

        unavailable = StoreUnavailable.behind(e)  # a read met the server restarting (a save is wrapped)
        if unavailable is not None:
            fail(str(unavailable), 2, as_json)
        fail(f"internal error: {type(e).__name__}: {e}".replace("\n", " ")[:400] +
             " (set HUIFANG_DEBUG=1 for details; nothing was written)", 1, as_json)
    sys.exit(0)


# error fields whose option is spelled otherwise (the rest: "--" + field, "_" as "-")
OPTION_OF_FIELD = {"actor": "as", "answers": "answer", "attributes": "attr", "department": "dept",
                   "grantee": "for", "trigger_id": "id"}


def option_message(e: HuifangError) -> str:
    """A domain error names its field (`answers.satisfaction`); the operator reads the option to fix
    (`--answer satisfaction: ...`)."""
    if not e.field:
        return e.message
    name, _, key = e.field.partition(".")
    option = "--" + OPTION_OF_FIELD.get(name, name).replace("_", "-")
    return f"{option}{' ' + key if key else ''}: {e.message}"


def fail(message: str, code: int, as_json: bool) -> None:
    click.echo(f"huifang: error: {message}", err=True)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    main()
