"""Wealth-management and insurance follow-up rules F1–F9 (seed 004) on the plugin API."""
from __future__ import annotations

import random
from datetime import datetime
from typing import TYPE_CHECKING, Any

from huifang.core.plugin_api import (
    DemoApp,
    FollowUpInfo,
    History,
    PlanItem,
    Reaction,
    Scheduler,
    SubjectInfo,
    TriggerInfo,
    TriggerKind,
    VisitType,
    hookimpl,
    plan_by_kind,
)

from . import anomaly, fallback
from .kinds import KINDS
from .plan import PLANS
from .settings import FinanceSettings
from .surveys import VISIT_TYPES

if TYPE_CHECKING:
    from huifang.core.plugin_api.reports import Report
    from huifang.core.plugin_api.views import View

NAME = "finance"


class FinancePlugin:
    name = NAME

    @hookimpl
    def huifang_settings_model(self) -> type[FinanceSettings]:
        return FinanceSettings

    @hookimpl
    def huifang_trigger_kinds(self) -> list[TriggerKind]:
        return list(KINDS)

    @hookimpl
    def huifang_visit_types(self) -> list[VisitType]:
        return list(VISIT_TYPES)

    @hookimpl
    def huifang_plan(self, trigger: TriggerInfo, subject: SubjectInfo, settings: FinanceSettings,
                     scheduler: Scheduler, history: History) -> list[PlanItem]:
        return plan_by_kind(PLANS, trigger, subject, settings, scheduler, history)  # F1–F4, F7

    @hookimpl
    def huifang_check_attempt(self, followup: FollowUpInfo, attempt: dict[str, Any],
                              settings: FinanceSettings) -> str | None:
        return fallback.check_attempt(followup, attempt, settings)  # F9

    @hookimpl
    def huifang_on_attempt(self, followup: FollowUpInfo, attempt: dict[str, Any], settings: FinanceSettings,
                           scheduler: Scheduler, history: History) -> list[Reaction]:
        return fallback.on_attempt(followup, attempt, settings, history)  # F5

    @hookimpl
    def huifang_on_completed(self, followup: FollowUpInfo, answers: dict[str, Any], settings: FinanceSettings,
                             scheduler: Scheduler, history: History) -> list[Reaction]:
        return anomaly.on_completed(followup, answers, settings, history)  # G12, G13

    @hookimpl
    def huifang_report_views(self) -> list[View]:
        from .views import FinanceView

        return [FinanceView()]

    @hookimpl
    def huifang_reports(self) -> list[Report]:
        from .reports import REPORTS

        return [report() for report in REPORTS]

    @hookimpl
    def huifang_demo(self, app: DemoApp, rng: random.Random, start: datetime, end: datetime,
                     size: int) -> dict[str, Any]:
        from .demo import build

        return build(app, rng, start, end, size)


plugin = FinancePlugin()
