"""Wealth-management and insurance follow-up rules F1–F9 (seed 004) on the core plugin contract."""
from __future__ import annotations

from huifang.core.hookspecs import hookimpl

from . import anomaly, fallback, plan
from .kinds import KINDS
from .settings import FinanceSettings
from .surveys import VISIT_TYPES

NAME = "finance"


class FinancePlugin:
    name = NAME

    @hookimpl
    def huifang_settings_model(self) -> type:
        return FinanceSettings

    @hookimpl
    def huifang_trigger_kinds(self) -> list:
        return list(KINDS)

    @hookimpl
    def huifang_visit_types(self) -> list:
        return list(VISIT_TYPES)

    @hookimpl
    def huifang_plan(self, trigger, subject, settings, scheduler, history) -> list:
        return plan.plan(trigger, subject, settings, scheduler, history)

    @hookimpl
    def huifang_on_attempt(self, followup, attempt, settings, scheduler, history) -> list:
        return fallback.on_attempt(followup, attempt, settings, history)  # F5

    @hookimpl
    def huifang_check_attempt(self, followup, attempt, settings) -> str | None:
        return fallback.check_attempt(followup, attempt, settings)  # F9 (called for every plugin: filters)

    @hookimpl
    def huifang_on_completed(self, followup, answers, settings, scheduler, history) -> list:
        return anomaly.on_completed(followup, answers, settings, history)  # G12, G13

    @hookimpl
    def huifang_report_views(self) -> list:
        from .views import FinanceView

        return [FinanceView()]

    @hookimpl
    def huifang_reports(self) -> list:
        from .reports import REPORTS

        return list(REPORTS)

    @hookimpl
    def huifang_demo(self, app, rng, start, end, size) -> dict:
        from .demo import build

        return build(app, rng, start, end, size)


plugin = FinancePlugin()
