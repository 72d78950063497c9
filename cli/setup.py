"""`huifang init`, `huifang plugins`, `huifang demo`: the store, the enabled plugins, a demo data set."""
from __future__ import annotations

from typing import Any

import click

from huifang.core.errors import HuifangError
from huifang.core.plugin_api.cli import json_option

from .output import emit, table
from .state import State, run


@click.command()
@click.option("--clock", "clock_mode", type=click.Choice(["logical", "system"]), envvar="HUIFANG_CLOCK",
              default=None, help="The store's clock, recorded once: system (production: the host's clock, "
                                 "--now refused) or logical (demos, tests, replays: --now). Default: system. "
                                 "Env HUIFANG_CLOCK.")
@json_option
@click.pass_context
def init(ctx: click.Context, clock_mode: str | None) -> None:
    """Create the store (SQLite file or PostgreSQL tables) and the views."""
    def go(s: State) -> None:
        from huifang.core import timekeeping
        from huifang.core.audit import ensure_keys
        from huifang.core.config_files import STORE, record_config
        from huifang.core.privacy import record_settings

        app = s.app(must_exist=False)
        mode, _ = timekeeping.choose(app, clock_mode, s.actor, s.now_given)  # recorded: fixed from now on
        app.projector.ensure()
        ensure_keys(app)  # seal key (G11 tamper evidence) and master key (G8 PII) (made here, with a warning, on a fresh store)
        record_settings(app)  # G8: privacy settings and the master key's check value, fixed from now on
        where = app.config.location
        if where.path is not None and where.how != STORE:  # later commands find it from any folder
            record_config(s.db, where.path)
        emit(s, {"store": app.store.url, "kind": app.store.kind, "plugins": list(app.registry.plugins),
                 "clock": mode},
             f"store ready: {app.store.url} ({app.store.kind}); plugins: {', '.join(app.registry.plugins)}; "
             f"clock: {mode}")
    run(ctx, go)


@click.command()
@json_option
@click.pass_context
def plugins(ctx: click.Context) -> None:
    """Enabled plugins, their trigger kinds and visit types."""
    def go(s: State) -> None:
        from huifang.core.config import load_config
        from huifang.core.registry import Registry

        config = load_config(s.config_path, s.config_how, s.db)
        registry = Registry(config.huifang.plugins, config.plugins)  # reads no store, writes nothing
        data: list[dict[str, Any]] = []
        for name in registry.plugins:
            kinds = [k for k in registry.kinds.values() if k.plugin == name]
            vts = [vt for (p, _), vt in registry.visit_types.items() if p == name]
            data.append({
                "plugin": name,
                "trigger_kinds": [{"kind": k.qualified, "attributes": list(k.spec.attributes.model_fields),
                                   "rules": k.spec.rules, "description": k.spec.description} for k in kinds],
                "visit_types": [{"name": v.name, "rules": v.rules,
                                 "survey": v.survey.public() if v.survey else []} for v in vts],
            })
        rows = [[d["plugin"], k["kind"], ", ".join(k["attributes"]), " ".join(k["rules"])]
                for d in data for k in d["trigger_kinds"]]
        emit(s, data, table(["plugin", "trigger kind", "attributes", "rules"], rows))
    run(ctx, go)


@click.command()
@click.option("--subjects", default=300, show_default=True)
@click.option("--days", default=90, show_default=True, help="Months of history, in days.")
@click.option("--seed", default=7, show_default=True)
@json_option
@click.pass_context
def demo(ctx: click.Context, subjects: int, days: int, seed: int) -> None:
    """Build a realistic, seeded data set in a fresh store and say what was made."""
    from huifang.core.demo import build_demo

    def go(s: State) -> None:
        from huifang.core.store import Store

        store = Store.parse(s.db)
        if store.kind == "sqlite" and store.exists():
            raise HuifangError(f"demo: '{store.url}' already exists; demo builds a fresh store "
                               f"(remove it or pass another --db)")
        from huifang.core import clock, timekeeping

        app = s.app(must_exist=False)
        if timekeeping.mode(app) == clock.SYSTEM:
            raise HuifangError(f"demo: '{store.url}' runs on the system clock; demo builds a logical-clock store")
        timekeeping.choose(app, clock.LOGICAL, s.actor, s.now_given)
        with clock.replay():  # the demo writes months of history, one record at a time
            result = build_demo(app, subjects=subjects, days=days, seed=seed)
        emit(s, result, result["summary"])
    run(ctx, go)
