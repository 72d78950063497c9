"""Property-management follow-up rules (P1–P10, including renovation works), on the plugin API.
Registered through the `huifang.plugins` entry point as `property`."""
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

from . import outcomes
from .plans import PLANS
from .settings import PropertySettings
from .surveys import VISIT_TYPES
from .triggers import KINDS

if TYPE_CHECKING:  # SQLAlchemy loads only for commands that read views
    from huifang.core.plugin_api.i18n import Labels
    from huifang.core.plugin_api.reports import Report
    from huifang.core.plugin_api.views import View

NAME = "property"


class PropertyPlugin:
    name = NAME

    @hookimpl
    def huifang_settings_model(self) -> type[PropertySettings]:
        return PropertySettings

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
    def huifang_plan(self, trigger: TriggerInfo, subject: SubjectInfo, settings: PropertySettings,
                     scheduler: Scheduler, history: History) -> list[PlanItem]:
        return plan_by_kind(PLANS, trigger, subject, settings, scheduler, history)

    @hookimpl
    def huifang_on_completed(self, followup: FollowUpInfo, answers: dict[str, Any], settings: PropertySettings,
                             scheduler: Scheduler, history: History) -> list[Reaction]:
        return outcomes.on_completed(followup, answers, settings, scheduler, history)

    @hookimpl
    def huifang_report_views(self) -> list[View]:
        from huifang.core.plugin_api.views import SampleView

        from .views import PropertyView

        return [PropertyView(), SampleView()]  # G17: the keyed draws whose floors tick keeps

    @hookimpl
    def huifang_reports(self) -> list[Report]:
        from .reports import REPORTS

        return [report() for report in REPORTS]

    @hookimpl
    def huifang_demo(self, app: DemoApp, rng: random.Random, start: datetime, end: datetime,
                     size: int) -> dict[str, Any]:
        from .demo import build

        return build(app, rng, start, end, size)


plugin = PropertyPlugin()
