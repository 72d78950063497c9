"""Which views a deployment maintains: the engine's own plus those plugins contribute."""
from __future__ import annotations

from typing import Any

from .core_views import CoreView
from .engine import View
from .quality import QualityView


def all_views(registry: Any) -> list[View]:
    views: list[View] = [CoreView(), QualityView()]
    for plugin in registry.plugins:
        views.extend(registry.call(plugin, "huifang_report_views") or [])
    return views
