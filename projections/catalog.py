"""Every report a deployment offers: the engine's own plus each enabled plugin's (`huifang_reports`),
found by name with no per-plugin code. A plugin report is always reachable as `<plugin>.<name>`;
its bare name works too unless the engine or another plugin already uses it."""
from __future__ import annotations

from typing import Any

from huifang.core.errors import HuifangError

from .core_reports import CORE_REPORTS
from .reports import Entry, plugin_entries


def catalog(app: Any) -> dict[str, Entry]:
    out: dict[str, Entry] = {}
    for cls in CORE_REPORTS:
        r = cls()
        out[r.name] = Entry(r.name, "core", r)
    bare: dict[str, list[Entry]] = {}
    for entry in plugin_entries(app):
        out[entry.name] = entry
        bare.setdefault(entry.report.name, []).append(entry)
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
