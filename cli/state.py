"""The state of one `huifang` invocation (ctx.obj): the global options and the application, opened
on first use. It is the plugin API's CommandState (huifang.core.plugin_api.cli)."""
from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click

from huifang.core.errors import HuifangError

if TYPE_CHECKING:
    from huifang.core.application import HuifangApp
    from huifang.core.config import Config
    from huifang.core.plugin_api.cli import CommandState
    from huifang.core.registry import Registry

T = TypeVar("T")


class State:
    def __init__(self, db: str | None, now: datetime, actor: str, config_path: str | None, as_json: bool,
                 config: Config | None = None, registry: Registry | None = None):
        self.db = db
        self.now = now
        self.actor = actor
        self.config_path = config_path
        self.json = as_json
        # loaded already when a plugin command was looked up: reused, not read twice
        self._config = config
        self._registry = registry
        self._app: HuifangApp | None = None

    def app(self, must_exist: bool = True) -> Any:
        if self._app is None:
            from huifang.core.config import load_config
            from huifang.core.store import Store
            from huifang.projections import open_app  # the application with its views

            config = self._config or load_config(self.config_path)
            store = Store.parse(self.db)
            if must_exist and not store.exists():
                raise HuifangError(f"--db: store '{store.url}' does not exist: run 'huifang --db {store.url} init' "
                                   f"first (or 'huifang demo')")
            self._app = open_app(self.db, config, registry=self._registry)
        return self._app

    def run(self, fn: Callable[[State], T]) -> T:
        """fn(self) at the logical now; the store is released afterwards."""
        from huifang.core import clock

        with clock.at(self.now):
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


def run(ctx: click.Context, fn: Callable[[State], T]) -> T:
    """Run a built-in command's body at the logical now (plugin_api.cli.run, typed for this State)."""
    state: State = ctx.obj
    return state.run(fn)


if TYPE_CHECKING:
    def _is_a_command_state(state: State) -> CommandState:  # mypy checks State against the protocol
        return state
