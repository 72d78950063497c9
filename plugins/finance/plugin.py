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
    StaffInfo,
    SubjectInfo,
    TicketInfo,
    TicketRoute,
    TriggerInfo,
    TriggerKind,
    VisitType,
    hookimpl,
    plan_by_kind,
)

from . import anomaly, fallback
from .campaign import SpecialCampaigns
from .kinds import KINDS
from .plan import PLANS, conflict
from .settings import FinanceSettings
from .surveys import VISIT_TYPES

if TYPE_CHECKING:
    from huifang.core.plugin_api.channels import ChannelAdapter
    from huifang.core.plugin_api.i18n import Labels
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
    def huifang_labels(self) -> Labels:
        from .labels import LABELS

        return LABELS

    @hookimpl
    def huifang_plan(self, trigger: TriggerInfo, subject: SubjectInfo, settings: FinanceSettings,
                     scheduler: Scheduler, history: History) -> list[PlanItem]:
        return plan_by_kind(PLANS, trigger, subject, settings, scheduler, history)  # F1–F4, F7

    @hookimpl
    def huifang_check_attempt(self, followup: FollowUpInfo, attempt: dict[str, Any],
                              settings: FinanceSettings) -> str | None:
        return fallback.check_attempt(followup, attempt, settings)  # F9, F5 letter states

    @hookimpl
    def huifang_check_lost(self, followup: FollowUpInfo, reason: str, settings: FinanceSettings,
                           history: History) -> str | None:
        return fallback.check_lost(followup, reason, settings, history)  # F5: the whole ladder first

    @hookimpl
    def huifang_check_conflict(self, followup: FollowUpInfo, staff: StaffInfo, settings: FinanceSettings,
                               history: History) -> str | None:
        return conflict(settings, staff, (followup.meta or {}).get("seller"), history)  # G9

    @hookimpl
    def huifang_on_attempt(self, followup: FollowUpInfo, attempt: dict[str, Any], settings: FinanceSettings,
                           scheduler: Scheduler, history: History) -> list[Reaction]:
        return fallback.on_attempt(followup, attempt, settings, scheduler, history)  # F5

    @hookimpl
    def huifang_on_completed(self, followup: FollowUpInfo, answers: dict[str, Any], settings: FinanceSettings,
                             scheduler: Scheduler, history: History) -> list[Reaction]:
        fallback.check_home_visit(followup, answers)  # F5: the client's signed confirmation
        return anomaly.on_completed(followup, answers, settings, history)  # G12, G13

    @hookimpl
    def huifang_campaign_policy(self, settings: FinanceSettings) -> SpecialCampaigns:
        return SpecialCampaigns(settings)  # F3

    @hookimpl
    def huifang_ticket_route(self, ticket: TicketInfo, followup: FollowUpInfo, settings: FinanceSettings,
                             history: History) -> TicketRoute:
        return anomaly.ticket_route(ticket, settings)  # G12, G13

    @hookimpl
    def huifang_report_views(self) -> list[View]:
        from .views import FinanceView

        return [FinanceView()]

    @hookimpl
    def huifang_reports(self) -> list[Report]:
        from .reports import REPORTS

        return [report() for report in REPORTS]

    @hookimpl
    def huifang_channel_adapters(self, settings: FinanceSettings) -> list[ChannelAdapter]:
        from .letters import PrintRoomLetters

        return [PrintRoomLetters(settings.letter_dir)]

    @hookimpl
    def huifang_demo(self, app: DemoApp, rng: random.Random, start: datetime, end: datetime,
                     size: int) -> dict[str, Any]:
        from .demo import build

        return build(app, rng, start, end, size)


plugin = FinancePlugin()
