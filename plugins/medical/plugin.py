"""Hospital follow-up rules M1–M9 on the plugin API (registered through the `huifang.plugins` entry
point exactly as a third-party plugin would be)."""
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
    TicketInfo,
    TicketRoute,
    TriggerInfo,
    TriggerKind,
    VisitType,
    hookimpl,
    plan_by_kind,
)

from . import reactions
from .plans import PLANS
from .settings import MedicalSettings
from .surveys import VISIT_TYPES
from .triggers import KINDS

if TYPE_CHECKING:  # the read side (SQLAlchemy) loads only for commands that read views
    from huifang.core.plugin_api.i18n import Labels
    from huifang.core.plugin_api.reports import Report
    from huifang.core.plugin_api.views import View

NAME = "medical"


class MedicalPlugin:
    name = NAME

    @hookimpl
    def huifang_settings_model(self) -> type[MedicalSettings]:
        return MedicalSettings

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
    def huifang_plan(self, trigger: TriggerInfo, subject: SubjectInfo, settings: MedicalSettings,
                     scheduler: Scheduler, history: History) -> list[PlanItem]:
        return plan_by_kind(PLANS, trigger, subject, settings, scheduler, history)

    @hookimpl
    def huifang_on_attempt(self, followup: FollowUpInfo, attempt: dict[str, Any], settings: MedicalSettings,
                           scheduler: Scheduler) -> list[Reaction]:
        return reactions.on_attempt(followup, attempt, settings, scheduler)

    @hookimpl
    def huifang_on_completed(self, followup: FollowUpInfo, answers: dict[str, Any], settings: MedicalSettings,
                             scheduler: Scheduler, history: History) -> list[Reaction]:
        return reactions.on_completed(followup, answers, settings, scheduler, history)

    @hookimpl
    def huifang_ticket_route(self, ticket: TicketInfo, followup: FollowUpInfo, settings: MedicalSettings,
                             history: History) -> TicketRoute:
        return reactions.ticket_route(ticket)  # M7/M8: the clinical department's head

    @hookimpl
    def huifang_report_views(self) -> list[View]:
        from .views import MedicalView

        return [MedicalView()]

    @hookimpl
    def huifang_reports(self) -> list[Report]:
        from .reports import REPORTS

        return [report() for report in REPORTS]

    @hookimpl
    def huifang_demo(self, app: DemoApp, rng: random.Random, start: datetime, end: datetime,
                     size: int) -> dict[str, Any]:
        from .demo import build

        return build(app, rng, start, end, size)


plugin = MedicalPlugin()
