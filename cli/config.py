"""`huifang config show` and `config check`: the settings in effect and where each comes from.

The config file is found by --config, then HUIFANG_CONFIG, then the file recorded in the store at
`init`, then ./huifang.toml (core/config_files.py); `show` names the one in effect and, for every
setting, whether its value is the default, from the file or from the environment."""
from __future__ import annotations

import os
from datetime import datetime
from typing import Any

import click

from huifang.core.plugin_api.cli import json_option

from .output import emit, table
from .state import State, run

# settings an environment variable overrides (it wins over the file)
ENV_OVERRIDES = {"huifang.lang": "HUIFANG_LANG", "huifang.key_dir": "HUIFANG_KEY_DIR"}
# dates the check plans each trigger kind's example at (a weekday, a month end, a holiday eve)
CHECK_DATES = ("2026-10-12T10:00:00+08:00", "2026-12-31T16:30:00+08:00", "2026-09-30T09:00:00+08:00")


@click.group("config")
def config() -> None:
    """The deployment's settings (huifang.toml): which file, each value and its source; check them."""


def _load(s: State) -> tuple[Any, Any, dict[str, Any]]:
    """(config, registry, raw TOML) as every command loads them (reads no store but the recorded path)."""
    from huifang.core.config import load_config
    from huifang.core.config_files import read_config_data
    from huifang.core.registry import Registry

    cfg = load_config(s.config_path, s.config_how, s.db)
    registry = Registry(cfg.huifang.plugins, cfg.plugins)
    return cfg, registry, read_config_data(cfg.location)


def _flat(prefix: str, value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, dict) and value and prefix.count(".") < 3:
        return [kv for k, v in value.items() for kv in _flat(f"{prefix}.{k}", v)]
    return [(prefix, value)]


def _given(raw: dict[str, Any], key: str) -> bool:
    node: Any = raw
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def settings_rows(cfg: Any, registry: Any, raw: dict[str, Any]) -> list[dict[str, Any]]:
    """Every setting in effect: key, value, source (default | file | env VAR)."""
    rows: list[tuple[str, Any]] = _flat("huifang", cfg.huifang.model_dump(mode="json"))
    for name in registry.plugins:
        rows += _flat(f"plugins.{name}", registry.settings[name].model_dump(mode="json"))
    secret = ("password", "access_key", "access_secret")  # [delivery] adapters' secrets: never shown
    rows += [(k, "***" if v is not None and k.rsplit(".", 1)[-1] in secret else v)
             for k, v in _flat("delivery", cfg.delivery.model_dump(mode="json", by_alias=True))]
    out = []
    for key, value in rows:
        var = ENV_OVERRIDES.get(key)
        if var and os.environ.get(var):
            out.append({"key": key, "value": os.environ[var], "source": f"env {var}"})
            continue
        out.append({"key": key, "value": value, "source": "file" if _given(raw, key) else "default"})
    return out


@config.command("show")
@json_option
@click.pass_context
def config_show(ctx: click.Context) -> None:
    """The settings in effect, each with its source (default / file / env), and which file is used."""
    def go(s: State) -> None:
        cfg, registry, raw = _load(s)
        rows = settings_rows(cfg, registry, raw)
        data = {"config": cfg.location.path, "found_by": cfg.location.how, "source": cfg.source,
                "plugins": list(registry.plugins), "settings": rows}
        text = (f"config: {cfg.source}\nplugins: {', '.join(registry.plugins)}\n"
                + table(["setting", "value", "source"], [[r["key"], _cell(r["value"]), r["source"]] for r in rows]))
        emit(s, data, text)
    run(ctx, go)


def _cell(value: Any) -> str:
    text = str(value) if not isinstance(value, str) else value
    return text if len(text) <= 80 else text[:77] + "..."


@config.command("check")
@json_option
@click.pass_context
def config_check(ctx: click.Context) -> None:
    """Validate the config (exit 2 on the first error) and warn on windows that open and close on
    the same day (e.g. only `discharge_open_days = 10`, the due day left at 10)."""
    def go(s: State) -> None:
        cfg, registry, _ = _load(s)  # a bad value raises here: one line, exit 2
        warnings = same_day_windows(registry, cfg.huifang.timezone)
        data = {"config": cfg.location.path, "source": cfg.source, "valid": True, "warnings": warnings}
        text = f"config: {cfg.source}\nvalid" + "".join(f"\nwarning: {w}" for w in warnings)
        emit(s, data, text)
    run(ctx, go)


def same_day_windows(registry: Any, tz: str) -> list[str]:
    """Visit windows the configured settings make open and close on the same local day while the
    plugin's defaults do not (some visits are one-day calls by design): found by planning every
    trigger kind's example (plugin_api.testing) with both, at a few dates."""
    warnings = []
    hints = _pairs(registry)
    for name, plugin in registry.plugins.items():
        configured = registry.settings[name]
        try:
            defaults = type(configured).model_validate({})
        except Exception:  # a settings model with required keys: compare with nothing
            defaults = None
        now = _same_day(registry, name, plugin, configured, tz)
        before = _same_day(registry, name, plugin, defaults, tz) if defaults is not None else {}
        for (kind, vt), day in sorted(now.items()):
            if (kind, vt) not in before:
                warnings.append(f"plugins.{name}: {kind} → {vt}: the window opens and closes on the same day "
                                f"(e.g. {day})" + (f"; check {hints[name]}" if name in hints else ""))
    return warnings


def _same_day(registry: Any, name: str, plugin: Any, settings: Any, tz: str) -> dict[tuple[str, str], str]:
    from huifang.core.plugin_api import PlannedVisit, testing

    found: dict[tuple[str, str], str] = {}
    for kind in registry.kinds.values():
        if kind.plugin != name or not kind.spec.example:
            continue
        for at in CHECK_DATES:
            try:
                items = testing.plan(plugin, kind.spec.name, dict(kind.spec.example), at=at, settings=settings, tz=tz)
            except Exception:  # the conformance suite reports broken plans; here only windows
                continue
            for v in items:
                if isinstance(v, PlannedVisit):
                    opens, due = _local(v.window_open, tz), _local(v.due, tz)
                    if opens.date() == due.date():
                        found.setdefault((kind.spec.name, v.visit_type), opens.date().isoformat())
    return found


def _local(dt: datetime, tz: str) -> datetime:
    from huifang.core import clock

    return dt.astimezone(clock.zone(tz))


def _pairs(registry: Any) -> dict[str, str]:
    """Settings `<x>_open_days` equal to `<x>_due_days`, by plugin: the likely cause."""
    out: dict[str, str] = {}
    for name in registry.plugins:
        values = registry.settings[name].model_dump()
        same = [f"{k} = {k.replace('_open_', '_due_')} = {v}" for k, v in values.items()
                if "_open_" in k and values.get(k.replace("_open_", "_due_")) == v]
        if same:
            out[name] = "; ".join(same)
    return out
