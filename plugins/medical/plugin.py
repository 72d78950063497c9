"""Hospital follow-up rules M1–M9 on the engine's plugin contract (registered through the
`huifang.plugins` entry point exactly as a third-party plugin would be)."""
from __future__ import annotations

from huifang.core.hookspecs import hookimpl

from . import plans, reactions
from .settings import MedicalSettings
from .surveys import VISIT_TYPES
from .triggers import KINDS

NAME = "medical"


class MedicalPlugin:
    name = NAME

    @hookimpl
    def huifang_settings_model(self) -> type:
        return MedicalSettings

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
    def huifang_on_attempt(self, followup, attempt, settings, scheduler) -> list:
        return reactions.on_attempt(followup, attempt, settings, scheduler)

    @hookimpl
    def huifang_on_completed(self, followup, answers, settings, scheduler, history) -> list:
        return reactions.on_completed(followup, answers, settings, scheduler, history)

    @hookimpl
    def huifang_report_views(self) -> list:
        from .views import MedicalView

        return [MedicalView]

    @hookimpl
    def huifang_reports(self) -> list:
        from .reports import REPORTS

        return list(REPORTS)

    @hookimpl
    def huifang_demo(self, app, rng, start, end, size) -> dict:
        from .demo import build

        return build(app, rng, start, end, size)


plugin = MedicalPlugin()
