"""The state of one `huifang` invocation (ctx.obj): the global options and the application, opened
on first use. It is the plugin API's CommandState (huifang.core.plugin_api.cli)."""
from __future__ import annotations

import contextlib
import getpass
import os
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click

from huifang.core.errors import HuifangError

if TYPE_CHECKING:
    from huifang.core.application import HuifangApp
    from huifang.core.config import Config
    from huifang.core.identity import OsLogin
    from huifang.core.plugin_api.cli import CommandState
    from huifang.core.registry import Registry

T = TypeVar("T")


class State:
    def __init__(self, db: str | None, now: datetime, actor: str, config_path: str | None, as_json: bool,
                 config: Config | None = None, registry: Registry | None = None, now_given: bool = True,
                 backfill: str | None = None, wall: datetime | None = None, login: OsLogin | None = None):
        self.db = db
        self.now = now
        self.claimed = actor  # --as / HUIFANG_ACTOR: a claim, checked against the platform identity (G8)
        self.login = login  # the OS user running the command, read at the edge (os_login())
        self._actor: str | None = None
        # where `now` came from (--now, or the wall clock `wall`): the store's clock mode decides whether
        # that is allowed (core/timekeeping.py), checked when the command opens the store
        self.now_given = now_given
        self.backfill = backfill
        self.wall = wall or now
        self.config_path = config_path
        self.config_how: str | None = None  # "--config" or "HUIFANG_CONFIG" (cli/main.py); core/config_files.py
        self.json = as_json
        # loaded already when a plugin command was looked up: reused, not read twice
        self._config = config
        self._registry = registry
        self._app: HuifangApp | None = None

    @property
    def actor(self) -> str:
        """Who is acting (G8): the staff member bound to the authenticated database role or OS user,
        or the --as name where core/identity.py allows it; resolved when the store is opened."""
        if self._actor is None:
            self.app()
        assert self._actor is not None
        return self._actor

    @actor.setter
    def actor(self, value: str) -> None:
        self._actor = value

    def app(self, must_exist: bool = True) -> Any:
        if self._app is None:
            from huifang.core import labels
            from huifang.core.config import load_config
            from huifang.core.store import Store
            from huifang.projections import open_app  # the application with its views

            config = self._config or load_config(self.config_path, self.config_how, self.db)
            labels.configure(config.huifang.lang)  # weaker than --lang / HUIFANG_LANG
            store = Store.parse(self.db)
            if must_exist and not store.exists():
                raise HuifangError(f"--db: store '{store.url}' does not exist: run 'huifang --db {store.url} init' "
                                   f"first (or 'huifang demo')")
            app = open_app(self.db, config, registry=self._registry)
            try:
                from huifang.core import timekeeping
                from huifang.core.identity import resolve

                if self._actor is None:  # a refusal is recorded, then raised
                    self._actor = resolve(app, self.claimed, self.login)
                timekeeping.admit(app, self.actor, self.now_given, self.backfill, self.wall)
            except BaseException:
                app.close()
                raise
            self._app = app
        return self._app

    def run(self, fn: Callable[[State], T]) -> T:
        """fn(self) at the logical now; the store is released afterwards."""
        from huifang.core import clock

        with clock.at(self.now, clock.NOW_OPTION if self.now_given else clock.SYSTEM_CLOCK):
            try:
                return fn(self)
            finally:
                self.release()

    def release(self) -> None:
        """Give the store's connections back when the command ends (in-process callers, e.g. tests, run
        many commands: leaked pools would exhaust PostgreSQL's max_connections)."""
        app, self._app = self._app, None
        if app is None:
            return
        with contextlib.suppress(Exception):  # a failed close must not hide the command's own outcome
            app.close()  # the views' engine too


def os_login() -> OsLogin:
    """The operating-system user running this command (the SQLite identity, G8): the account of the
    process's uid, never $USER or $LOGNAME, which anyone can set; SUDO_USER is weighed by
    core/identity.py (believed only where the process runs as the store's owner or root)."""
    from huifang.core.identity import OsLogin

    uid = os.getuid() if hasattr(os, "getuid") else None
    try:
        import pwd

        name = pwd.getpwuid(uid if uid is not None else -1).pw_name
    except (ImportError, KeyError):
        name = getpass.getuser()
    return OsLogin(uid=uid, name=name, sudo_user=os.environ.get("SUDO_USER") or None)


def run(ctx: click.Context, fn: Callable[[State], T]) -> T:
    """Run a built-in command's body at the logical now (plugin_api.cli.run, typed for this State)."""
    state: State = ctx.obj
    return state.run(fn)


if TYPE_CHECKING:
    def _is_a_command_state(state: State) -> CommandState:  # mypy checks State against the protocol
        return state
