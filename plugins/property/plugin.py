"""Property-management follow-up rules (P1–P10, including renovation works), on the engine's plugin
contract. Registered through the `huifang.plugins` entry point as `property`."""
from __future__ import annotations

from huifang.core.hookspecs import hookimpl

from . import outcomes, plans
from .settings import PropertySettings
from .surveys import VISIT_TYPES
from .triggers import KINDS

NAME = "property"


class PropertyPlugin:
    name = NAME

    @hookimpl
    def huifang_settings_model(self) -> type:
        return PropertySettings

    @hookimpl
    def huifang_trigger_kinds(self) -> list:
        return list(KINDS)

    @hookimpl
    def huifang_visit_types(self) -> list:
        return list(VISIT_TYPES)

    @hookimpl
    def huifang_plan(self, trigger, subject, settings, scheduler, history) -> list:
        plan = plans.PLANS.get(trigger.kind.removeprefix(f"{NAME}."))
        return plan(trigger, settings, scheduler, history) if plan else []

    @hookimpl
    def huifang_on_completed(self, followup, answers, settings, scheduler, history) -> list:
        return outcomes.on_completed(followup, answers, settings, scheduler, history)

    @hookimpl
    def huifang_report_views(self) -> list:
        from .views import PropertyView

        return [PropertyView]

    @hookimpl
    def huifang_reports(self) -> list:
        from .reports import REPORTS

        return list(REPORTS)

    @hookimpl
    def huifang_demo(self, app, rng, start, end, size) -> dict:
        from .demo import build

        return build(app, rng, start, end, size)


plugin = PropertyPlugin()
