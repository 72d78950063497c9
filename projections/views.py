"""Which views a deployment maintains: the engine's own plus those plugins contribute."""
from __future__ import annotations

from typing import Any

from .core_views import CoreView
from .engine import View
from .quality import QualityView


def all_views(registry: Any) -> list[View]:
    views: list[View] = [CoreView(), QualityView()]
    for contributed in registry.pm.hook.huifang_report_views():
        for v in contributed or []:
            views.append(v() if isinstance(v, type) else v)
    return views
