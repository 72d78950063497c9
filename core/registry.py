"""Plugin discovery (entry-point group `huifang.plugins`) and trigger-kind resolution."""
from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

import pluggy

from .contract import Settings, TriggerKind, VisitType
from .errors import ConfigError, HuifangError
from .plugin_api import hookspecs

ENTRY_POINT_GROUP = "huifang.plugins"


def discover() -> dict[str, Any]:
    """Installed plugins by entry-point name (imported lazily, one by one)."""
    found: dict[str, Any] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found[ep.name] = ep
    return found


@dataclass
class Kind:
    qualified: str
    plugin: str
    spec: TriggerKind


class _PluginManager(pluggy.PluginManager):
    """Looks only at `huifang_*` attributes: every command registers the enabled plugins, and a plugin
    object's other attributes are never hooks."""

    def parse_hookimpl_opts(self, plugin: object, name: str) -> pluggy.HookimplOpts | None:
        if not name.startswith("huifang_"):
            return None
        return super().parse_hookimpl_opts(plugin, name)


class Registry:
    """The enabled plugins of one deployment, their kinds, visit types and settings."""

    def __init__(self, enabled: list[str] | None = None, settings: dict[str, dict] | None = None,
                 extra_plugins: dict[str, Any] | None = None):
        available = discover()
        objects: dict[str, Any] = dict(extra_plugins or {})
        names = list(enabled) + [n for n in objects if n not in enabled] if enabled is not None \
            else sorted(set(available) | set(objects))  # plugins handed in directly are always enabled
        for name in names:
            if name in objects:
                continue
            if name not in available:
                raise ConfigError(
                    f"plugins: '{name}' is not installed; installed plugins: {', '.join(sorted(available)) or 'none'}")
            try:
                objects[name] = available[name].load()
            except Exception as e:  # a broken third-party plugin must not crash the CLI
                raise ConfigError(f"plugins: '{name}' failed to load ({type(e).__name__}: {e})") from None
        self.pm = _PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, Any] = {}
        for name in names:
            obj = objects[name]
            self.pm.register(obj, name=name)
            self.plugins[name] = obj
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as e:
            raise ConfigError(f"plugins: {e}") from None
        self._callers: dict[tuple[str, str], Any] = {}
        self.settings: dict[str, Settings] = {}
        raw_settings = settings or {}
        for name in raw_settings:
            if name not in self.plugins:
                raise ConfigError(
                    f"plugins.{name}: no such enabled plugin; enabled: {', '.join(self.plugins)}")
        for name in self.plugins:
            model = self.call(name, "huifang_settings_model") or Settings
            try:
                self.settings[name] = model.model_validate(raw_settings.get(name, {}))
            except Exception as e:
                from .config import pydantic_message

                raise ConfigError(pydantic_message(e, prefix=f"plugins.{name}")) from None
        self.kinds: dict[str, Kind] = {}
        self.visit_types: dict[tuple[str, str], VisitType] = {}
        for name in self.plugins:
            for spec in self.call(name, "huifang_trigger_kinds") or []:
                q = f"{name}.{spec.name}"
                self.kinds[q] = Kind(qualified=q, plugin=name, spec=spec)
            for vt in self.call(name, "huifang_visit_types") or []:
                self.visit_types[(name, vt.name)] = vt

    def call(self, plugin: str, hook: str, **kwargs: Any) -> Any:
        """Call `hook` on one plugin only."""
        key = (plugin, hook)
        caller = self._callers.get(key)
        if caller is None:
            others = [p for n, p in self.plugins.items() if n != plugin]
            caller = self.pm.subset_hook_caller(hook, remove_plugins=others)
            self._callers[key] = caller
        result = caller(**kwargs)
        if isinstance(result, list) and getattr(getattr(self.pm.hook, hook), "spec", None) and \
                not getattr(self.pm.hook, hook).spec.opts.get("firstresult"):
            # non-firstresult hooks return a list of results, one per implementation
            return result[0] if result else None
        return result

    def resolve_kind(self, name: str) -> Kind:
        """A qualified name, or a bare name defined by exactly one enabled plugin."""
        if name in self.kinds:
            return self.kinds[name]
        matches = [k for k in self.kinds.values() if k.spec.name == name]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise HuifangError(
                f"trigger kind '{name}' is defined by several plugins: use one of "
                f"{', '.join(sorted(m.qualified for m in matches))}")
        raise HuifangError(
            f"trigger kind '{name}' is unknown; known kinds: {', '.join(sorted(self.kinds)) or 'none'}")

    def visit_type(self, plugin: str, name: str) -> VisitType | None:
        return self.visit_types.get((plugin, name))
