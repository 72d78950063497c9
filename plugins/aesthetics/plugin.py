"""Medical-aesthetics clinic (医美) follow-up rules A1–A10 on the engine's plugin contract."""
from __future__ import annotations

from typing import Any

from huifang.core.contract import Notify, OpenTicket, Warn
from huifang.core.errors import HuifangError
from huifang.core.hookspecs import hookimpl

from . import campaign as _campaign  # noqa: F401  (registers the huifang:Campaign.* topics)
from .curves import (client_grade, next_in_cycle, plan_activity, plan_consultation, plan_experience, plan_membership,
                     plan_procedure)
from .settings import AestheticsSettings
from .surveys import visit_types
from .triggers import KINDS

NAME = "aesthetics"


def complaint_risk(followup: Any, answers: dict, settings: Any, history: Any) -> list:
    """A8: a client likely to complain -> a ticket to the department at once, owned to closure by the
    customer-service supervisor, who is notified. A dissatisfied answer counts as that risk too."""
    if answers.get("complaint_risk") != "yes" and answers.get("satisfaction") != "不满意":
        return []
    supervisor = settings.complaint_supervisor
    if not supervisor and followup.owner and history is not None:
        boss = history.staff(followup.owner)
        supervisor = boss["reports_to"] if boss else None
    dept = (followup.trigger_attributes.get("department") or followup.meta.get("department")
            or "customer_service")
    why = "likely to complain" if answers.get("complaint_risk") == "yes" else "dissatisfied"
    out: list = [OpenTicket(category="complaint_risk", department=dept, owner=supervisor,
                            notify=[supervisor] if supervisor else [],
                            deadline_hours=settings.complaint_deadline_hours,
                            note=f"A8: client {followup.subject} {why} ({followup.visit_type}); "
                                 f"call the department at once")]
    if not supervisor:
        out.append(Warn(message="A8: no customer-service supervisor known: set [plugins.aesthetics] "
                                "complaint_supervisor"))
    return out


def recovery_problem(followup: Any, answers: dict) -> list:
    """A recovery problem the consultant cannot answer goes to the department's doctor (001 科室回访)."""
    if answers.get("healing") != "abnormal":
        return []
    a = followup.trigger_attributes
    doctor = a.get("doctor")
    out: list = [OpenTicket(category="recovery_problem", department=a.get("department") or "clinical",
                            note=f"abnormal healing reported at {followup.visit_type}",
                            notify=[doctor] if doctor else [])]
    if a.get("consultant") and a.get("consultant") != followup.owner:
        out.append(Notify(to=a["consultant"], message=f"{followup.subject}: abnormal healing, help reassure"))
    return out


class AestheticsPlugin:
    name = NAME

    @hookimpl
    def huifang_settings_model(self) -> type:
        return AestheticsSettings

    @hookimpl
    def huifang_trigger_kinds(self) -> list:
        return KINDS

    @hookimpl
    def huifang_visit_types(self) -> list:
        return visit_types()

    @hookimpl
    def huifang_plan(self, trigger, subject, settings, scheduler, history) -> list:
        kind = trigger.kind.split(".", 1)[1]
        if kind == "procedure":
            return plan_procedure(trigger, settings, scheduler)
        if kind == "consultation":
            client = client_grade(history, subject.id, subject.attributes, settings)
            return plan_consultation(trigger, settings, scheduler, client)
        if kind == "activity":
            client = client_grade(history, subject.id, subject.attributes, settings)
            return plan_activity(trigger, settings, scheduler, client, history)
        if kind == "experience":
            return plan_experience(trigger, settings, scheduler)
        if kind == "membership_granted":
            return plan_membership(trigger, settings, scheduler)
        if kind == "campaign":
            raise HuifangError(f"A7: campaign follow-ups are planned only by an approved campaign "
                               f"(huifang campaign request FILE, then review and approve), not by "
                               f"'trigger {trigger.kind}'")
        return []

    @hookimpl
    def huifang_on_completed(self, followup, answers, settings, scheduler, history) -> list:
        out = complaint_risk(followup, answers, settings, history) + recovery_problem(followup, answers)
        if followup.meta.get("last_step"):  # A6: the cycle goes on, or the marketing phase starts
            client = client_grade(history, followup.subject, None, settings)
            out += next_in_cycle(followup, settings, scheduler, client)
        return out

    @hookimpl
    def huifang_report_views(self) -> list:
        from .views import CampaignView

        return [CampaignView()]

    @hookimpl
    def huifang_cli_commands(self) -> list:
        from .cli import COMMANDS

        return COMMANDS

    @hookimpl
    def huifang_demo(self, app, rng, start, end, size) -> dict:
        from .demo import build

        return build(app, rng, start, end, size)


plugin = AestheticsPlugin()
