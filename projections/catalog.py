"""Every report a deployment offers: the engine's own plus each enabled plugin's (`huifang_reports`),
found by name with no per-plugin code. A plugin report is always reachable as `<plugin>.<name>`;
its bare name works too unless the engine or another plugin already uses it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from huifang.core.errors import HuifangError

from .core_reports import CORE_REPORTS
from .reports import Report


@dataclass
class Entry:
    name: str  # the name it is called by
    owner: str  # "core" or the plugin's name
    report: Report
    alias: bool = False  # a second name of the same report (the bare name of a plugin report)


def catalog(app: Any) -> dict[str, Entry]:
    out: dict[str, Entry] = {}
    for cls in CORE_REPORTS:
        r = cls()
        out[r.name] = Entry(r.name, "core", r)
    registry = getattr(app, "registry", None)
    if registry is None:
        return out
    bare: dict[str, list[Entry]] = {}
    for plugin in registry.plugins:
        contributed = registry.call(plugin, "huifang_reports") or []
        for item in contributed:
            r = item() if isinstance(item, type) else item
            if not getattr(r, "name", ""):
                raise HuifangError(f"plugin {plugin}: a report from huifang_reports has no name")
            entry = Entry(f"{plugin}.{r.name}", plugin, r)
            out[entry.name] = entry
            bare.setdefault(r.name, []).append(entry)
    for name, entries in bare.items():
        if name not in out and len(entries) == 1:
            e = entries[0]
            out[name] = Entry(name, e.owner, e.report, alias=True)
    return out


def find(app: Any, kind: str) -> Entry:
    entries = catalog(app)
    if kind in entries:
        return entries[kind]
    names = ", ".join(n for n, e in entries.items() if not e.alias)
    raise HuifangError(f"report: '{kind}' is not a report; reports: {names} (list them: huifang report)")
