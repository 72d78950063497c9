"""Medical-aesthetics clinic (医美) follow-up rules A1–A10 on the plugin API (registered through the
`huifang.plugins` entry point exactly as a third-party plugin would be)."""
from __future__ import annotations

import random
from datetime import datetime
from typing import TYPE_CHECKING, Any

from huifang.core.plugin_api import (
    DISSATISFIED,
    DemoApp,
    FollowUpInfo,
    History,
    Notify,
    OpenTicket,
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

from .campaign import CampaignRules
from .curves import PLANS, client_of, next_in_cycle
from .settings import AestheticsSettings
from .surveys import visit_types
from .triggers import KINDS

if TYPE_CHECKING:
    import click

    from huifang.core.plugin_api.i18n import Labels

NAME = "aesthetics"


def complaint_risk(followup: FollowUpInfo, answers: dict[str, Any], settings: AestheticsSettings) -> list[Reaction]:
    """A8: a client likely to complain -> a ticket to the department at once, owned to closure by the
    customer-service supervisor (ticket_route), who is told. A dissatisfied answer counts as that risk too."""
    if answers.get("complaint_risk") != "yes" and answers.get("satisfaction") != DISSATISFIED:
        return []
    dept = (followup.trigger_attributes.get("department") or followup.meta.get("department")
            or settings.complaint_department)
    why = "likely to complain" if answers.get("complaint_risk") == "yes" else "dissatisfied"
    supervisor = settings.complaint_supervisor
    return [OpenTicket(category="complaint_risk", department=dept, owner=supervisor,
                       notify=[supervisor] if supervisor else [], deadline_hours=settings.complaint_deadline_hours,
                       note=f"A8: client {followup.subject} {why} ({followup.visit_type}); call the department "
                            f"at once")]


def ticket_route(ticket: TicketInfo, settings: AestheticsSettings) -> TicketRoute | None:
    """A8: a complaint-risk ticket is owned by the customer-service supervisor (complaint_supervisor, else
    the head of complaint_department), not by the agent's own supervisor, and they are told at once."""
    if ticket.category != "complaint_risk":
        return None
    return TicketRoute(owner=settings.complaint_supervisor, head_of=settings.complaint_department, notify_owner=True)


def recovery_problem(followup: FollowUpInfo, answers: dict[str, Any]) -> list[Reaction]:
    """A recovery problem the consultant cannot answer goes to the department's doctor (001 科室回访)."""
    if answers.get("healing") != "abnormal":
        return []
    a = followup.trigger_attributes
    doctor = a.get("doctor")
    out: list[Reaction] = [OpenTicket(category="recovery_problem", department=a.get("department") or "clinical",
                                      note=f"abnormal healing reported at {followup.visit_type}",
                                      notify=[doctor] if doctor else [])]
    if a.get("consultant") and a.get("consultant") != followup.owner:
        out.append(Notify(to=a["consultant"], message=f"{followup.subject}: abnormal healing, help reassure"))
    return out


class AestheticsPlugin:
    name = NAME

    @hookimpl
    def huifang_settings_model(self) -> type[AestheticsSettings]:
        return AestheticsSettings

    @hookimpl
    def huifang_trigger_kinds(self) -> list[TriggerKind]:
        return list(KINDS)

    @hookimpl
    def huifang_visit_types(self) -> list[VisitType]:
        return visit_types()

    @hookimpl
    def huifang_labels(self) -> Labels:
        from .labels import LABELS

        return LABELS

    @hookimpl
    def huifang_plan(self, trigger: TriggerInfo, subject: SubjectInfo, settings: AestheticsSettings,
                     scheduler: Scheduler, history: History) -> list[PlanItem]:
        return plan_by_kind(PLANS, trigger, subject, settings, scheduler, history)

    @hookimpl
    def huifang_on_completed(self, followup: FollowUpInfo, answers: dict[str, Any], settings: AestheticsSettings,
                             scheduler: Scheduler, history: History) -> list[Reaction]:
        out = complaint_risk(followup, answers, settings) + recovery_problem(followup, answers)
        if followup.meta.get("last_step"):  # A6: the cycle goes on, or the marketing phase starts
            client = client_of(history, followup.subject, settings, str(scheduler.tz))
            out += next_in_cycle(followup, settings, scheduler, client)
        return out

    @hookimpl
    def huifang_ticket_route(self, ticket: TicketInfo, followup: FollowUpInfo, settings: AestheticsSettings,
                             history: History) -> TicketRoute | None:
        return ticket_route(ticket, settings)  # A8

    @hookimpl
    def huifang_campaign_policy(self, settings: AestheticsSettings) -> CampaignRules:
        return CampaignRules(settings)

    @hookimpl
    def huifang_register_commands(self, cli: click.Group) -> None:
        from .cli import register_commands

        register_commands(cli)

    @hookimpl
    def huifang_demo(self, app: DemoApp, rng: random.Random, start: datetime, end: datetime,
                     size: int) -> dict[str, Any]:
        from .demo import build

        return build(app, rng, start, end, size)


plugin = AestheticsPlugin()
