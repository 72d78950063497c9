"""Plugin discovery (entry-point group `huifang.plugins`) and trigger-kind resolution."""
from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

import pluggy

from . import labels
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


# One plugin manager per process and plugin set: registering parses every hook by introspection, half
# of a short command's CPU, and the result depends only on the plugin objects.
_MANAGERS: dict[tuple[tuple[str, int], ...], tuple[pluggy.PluginManager, dict[tuple[str, str], Any], dict]] = {}


def _manager(plugins: dict[str, Any]) -> tuple[pluggy.PluginManager, dict[tuple[str, str], Any]]:
    key = tuple((name, id(obj)) for name, obj in plugins.items())
    cached = _MANAGERS.get(key)
    if cached is None:
        pm = _PluginManager(hookspecs.PROJECT)
        pm.add_hookspecs(hookspecs)
        for name, obj in plugins.items():
            pm.register(obj, name=name)
        try:
            pm.check_pending()
        except pluggy.PluginValidationError as e:
            raise ConfigError(f"plugins: {e}") from None
        cached = _MANAGERS[key] = (pm, {}, dict(plugins))  # the objects kept alive: their ids are the key
    return cached[0], cached[1]


def clear_managers() -> None:
    """Forget the cached plugin managers (tests that watch a manager being built)."""
    _MANAGERS.clear()


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
        self.plugins: dict[str, Any] = {name: objects[name] for name in names}
        self.pm, self._callers = _manager(self.plugins)
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
            labels.register(name, self.call(name, "huifang_labels"))  # display names of its codes
            self._edit_surveys(name)

    def _edit_surveys(self, plugin: str) -> None:
        """The organisation's survey wording and scripts (`[plugins.<p>.surveys.<visit type>]`)."""
        from .surveys import edit_survey

        for vt_name, edit in self.settings[plugin].surveys.items():
            where = f"plugins.{plugin}.surveys.{vt_name}"
            vt = self.visit_types.get((plugin, vt_name))
            if vt is None:
                known = ", ".join(n for p, n in self.visit_types if p == plugin) or "none"
                raise ConfigError(f"{where}: '{vt_name}' is not a visit type of {plugin}; visit types: {known}")
            if vt.survey is None:
                raise ConfigError(f"{where}: visit type '{vt_name}' has no survey to edit")
            self.visit_types[(plugin, vt_name)] = vt.model_copy(update={"survey": edit_survey(vt.survey, edit, where)})

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
        if not matches:  # a kind typed by its label (出院, Discharge)
            folded = name.strip().casefold()
            matches = [k for k in self.kinds.values()
                       if folded in (x.casefold() for x in labels.labels_of("trigger_kind", k.spec.name, k.plugin))]
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
