"""The report contract lives in the plugin API (huifang.core.plugin_api.reports); the engine's reports
and renderers import it from here, with the plugins' reports of a deployment (`plugin_entries`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from huifang.core.errors import HuifangError
from huifang.core.plugin_api.reports import (  # noqa: F401
    DIMENSIONS,
    LEVEL_KEYS,
    Chart,
    Record,
    Report,
    ReportContext,
    Section,
    followup_records,
    is_due,
    rate_figures,
    ratio,
    sort_key,
    steps_below,
)


@dataclass
class Entry:
    """A report of the deployment's catalog (catalog.py) under the name it is called by."""

    name: str
    owner: str  # "core" or the plugin's name
    report: Report
    alias: bool = False  # a second name of the same report (the bare name of a plugin report)


def plugin_entries(app: Any) -> list[Entry]:
    """Every enabled plugin's reports (`huifang_reports`) as `<plugin>.<name>`, in plugin order."""
    registry = getattr(app, "registry", None)
    if registry is None:
        return []
    out: list[Entry] = []
    for plugin in registry.plugins:
        for item in registry.call(plugin, "huifang_reports") or []:
            r = item() if isinstance(item, type) else item
            if not getattr(r, "name", ""):
                raise HuifangError(f"plugin {plugin}: a report from huifang_reports has no name")
            out.append(Entry(f"{plugin}.{r.name}", plugin, r))
    return out
