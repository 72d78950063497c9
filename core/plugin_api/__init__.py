"""The plugin API: everything a plugin package may use from huifang, and nothing else.

Plugins import from here (and the submodules `views`, `reports`, `cli`, `demo`, `testing`) plus
their own package; import-linter (`lint-imports`, run in CI) refuses any other huifang import.
The hooks a plugin implements are specified in `hookspecs` and documented in docs/plugins.md.

This module is light on purpose (pydantic models and small helpers): the CLI imports it on
every command, while `views`/`reports` (SQLAlchemy) load only for commands that read views.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import clock
from ..contract import (
    CALLING_CHANNELS,
    CHANNELS,
    CODE_SHAPED,
    DISSATISFACTION_CODE,
    DISSATISFACTION_REASON,
    DISSATISFACTION_REASONS,
    DISSATISFIED,
    LOST_REASONS,
    OUTCOME_LABELS,
    OUTCOMES,
    ROLES,
    SATISFACTION,
    SATISFACTION_ALIASES,
    CloseFollowUp,
    Escalate,
    FollowUpInfo,
    Guide,
    Notify,
    OpenTicket,
    PlanItem,
    PlannedVisit,
    PlanVisit,
    Question,
    Reaction,
    Reschedule,
    Script,
    Settings,
    Skip,
    SubjectInfo,
    SurveyTemplate,
    SwitchChannel,
    TicketInfo,
    TicketRoute,
    TriggerInfo,
    TriggerKind,
    VisitType,
    Warn,
    satisfaction_question,
)
from ..errors import HuifangError, NotFound, Refused
from ..scheduling import Window
from ..status import CLOSED, OPEN, Status
from .hookspecs import hookimpl
from .protocols import DemoApp, History, Scheduler, StaffInfo
from .sampling import Draw

PluginError = HuifangError  # a refusal a hook raises: one line naming the field and the fix


@dataclass(frozen=True)
class PlanContext:
    """Everything one plan function sees (the arguments of `huifang_plan`)."""

    trigger: TriggerInfo
    subject: SubjectInfo
    settings: Any  # the plugin's own Settings subclass
    scheduler: Scheduler
    history: History

    @property
    def kind(self) -> str:
        """The trigger's bare kind (without the '<plugin>.' prefix)."""
        return self.trigger.kind.split(".", 1)[-1]


PlanFunction = Callable[[PlanContext], list[PlanItem]]


def plan_by_kind(plans: Mapping[str, PlanFunction], trigger: TriggerInfo, subject: SubjectInfo, settings: Any,
                 scheduler: Scheduler, history: History) -> list[PlanItem]:
    """The one plan-dispatch idiom: `huifang_plan` hands its arguments here with a table of plan
    functions by bare kind; a kind without a plan plans nothing."""
    ctx = PlanContext(trigger, subject, settings, scheduler, history)
    plan = plans.get(ctx.kind)
    return list(plan(ctx)) if plan is not None else []


__all__ = [
    "CALLING_CHANNELS",
    "CHANNELS",
    "CLOSED",
    "CODE_SHAPED",
    "DISSATISFACTION_CODE",
    "DISSATISFACTION_REASON",
    "DISSATISFACTION_REASONS",
    "DISSATISFIED",
    "LOST_REASONS",
    "OPEN",
    "OUTCOMES",
    "OUTCOME_LABELS",
    "ROLES",
    "SATISFACTION",
    "SATISFACTION_ALIASES",
    "CloseFollowUp",
    "DemoApp",
    "Draw",
    "Escalate",
    "FollowUpInfo",
    "Guide",
    "History",
    "HuifangError",
    "NotFound",
    "Notify",
    "OpenTicket",
    "PlanContext",
    "PlanFunction",
    "PlanItem",
    "PlanVisit",
    "PlannedVisit",
    "PluginError",
    "Question",
    "Reaction",
    "Refused",
    "Reschedule",
    "Scheduler",
    "Script",
    "Settings",
    "Skip",
    "StaffInfo",
    "Status",
    "SubjectInfo",
    "SurveyTemplate",
    "SwitchChannel",
    "TicketInfo",
    "TicketRoute",
    "TriggerInfo",
    "TriggerKind",
    "VisitType",
    "Warn",
    "Window",
    "clock",
    "hookimpl",
    "plan_by_kind",
    "satisfaction_question",
]
