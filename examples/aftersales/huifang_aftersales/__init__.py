"""After-sales equipment service follow-ups (seed 004 §5): a third-party plugin in its own package, found
through the `huifang.plugins` entry point and using only huifang.core.plugin_api. The installing engineer
never follows up (G9); equipment not running normally opens a ticket for the service department (G12)."""
from __future__ import annotations

import calendar
from datetime import date, datetime, time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

import huifang.core.plugin_api as api
from huifang.core.plugin_api import i18n

_ = i18n.domain("huifang_aftersales", __file__)  # labels: its own locale/zh_CN/LC_MESSAGES/huifang_aftersales.po
VISITS = {"pre_energising": _("Before energising"), "trial_run": _("Trial run"), "warranty": _("Warranty visit"),
          "yearly": _("Yearly visit")}


class AftersalesSettings(api.Settings):  # [plugins.aftersales] in huifang.toml
    calling_windows: list[str] = ["09:00-12:00", "14:00-17:30"]
    onsite_above: float = 3_000_000  # CNY: contracts above it are visited on site instead of phoned
    window_days: int = 10  # days to complete each visit once its window opens
    service_department: str = "after_sales_service"  # G12: fixes equipment not running normally


class Installed(BaseModel):  # the trigger's attributes (`--attr KEY=VALUE`), validated
    model_config = ConfigDict(extra="forbid")
    contract_value: float = Field(gt=0)
    engineer: str
    energise_on: date


SURVEY = api.SurveyTemplate(key="equipment", title="设备回访 Equipment follow-up", questions=[
    api.Question(key="running", text="设备运行是否正常？ Running normally?", choices=["yes", "no"], required=True),
    api.Question(key="issues", text="存在的问题 Problems noticed", kind="text"),
    api.satisfaction_question("您对售后服务满意吗？ Satisfied with our service?"),
])
# (key, visit type, months after energising; None = from installation to the day before energising)
CURVE = [("pre", "pre_energising", None), ("trial", "trial_run", 1), ("w6", "warranty", 6),
         ("w12", "warranty", 12), ("y24", "yearly", 24), ("y36", "yearly", 36)]


def add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    return date(d.year + y, m + 1, min(d.day, calendar.monthrange(d.year + y, m + 1)[1]))


def plan_installed(ctx: api.PlanContext) -> list[api.PlanItem]:
    a, s, sched = ctx.trigger.attributes, ctx.settings, ctx.scheduler
    energise = date.fromisoformat(a["energise_on"])
    onsite = a["contract_value"] > s.onsite_above
    out: list[api.PlanItem] = []
    for key, visit_type, months in CURVE:
        if months is None:
            w = sched.window(ctx.trigger.at, 0, max((energise - sched.local_day(ctx.trigger.at)).days - 1, 0))
        else:
            w = sched.window(datetime.combine(add_months(energise, months), time(0), sched.tz), 0, s.window_days)
        out.append(api.PlannedVisit(key=key, visit_type=visit_type, channel="home_visit" if onsite else "phone",
                                    excluded_staff=[a["engineer"]], meta={"onsite": onsite}, **w.fields()))
    return out


PLANS: dict[str, api.PlanFunction] = {"equipment_installed": plan_installed}


class AftersalesPlugin:
    name = "aftersales"

    @api.hookimpl
    def huifang_settings_model(self) -> type[api.Settings]:
        return AftersalesSettings

    @api.hookimpl
    def huifang_trigger_kinds(self) -> list[api.TriggerKind]:
        return [api.TriggerKind(name="equipment_installed", attributes=Installed, rules=["G9"],
                                description="equipment installed; energising date known",
                                example={"contract_value": 4_200_000, "engineer": "e7", "energise_on": "2026-10-20"})]

    @api.hookimpl
    def huifang_visit_types(self) -> list[api.VisitType]:
        return [api.VisitType(name=v, survey=SURVEY, rules=["G12"]) for v in VISITS]

    @api.hookimpl
    def huifang_labels(self) -> i18n.Labels:
        return i18n.Labels(_, plugin={"aftersales": _("After-sales service")}, visit_type=VISITS, question={
            "running": _("Running"), "issues": _("Problems noticed")}, trigger_kind={"equipment_installed": _("Installed")})

    @api.hookimpl
    def huifang_plan(self, trigger: api.TriggerInfo, subject: api.SubjectInfo, settings: AftersalesSettings,
                     scheduler: api.Scheduler, history: api.History) -> list[api.PlanItem]:
        return api.plan_by_kind(PLANS, trigger, subject, settings, scheduler, history)

    @api.hookimpl
    def huifang_on_completed(self, followup: api.FollowUpInfo, answers: dict[str, Any], settings: AftersalesSettings,
                             scheduler: api.Scheduler, history: api.History) -> list[api.Reaction]:
        if answers.get("running") != "no":
            return []
        return [api.OpenTicket(category="equipment_fault", department=settings.service_department,
                               note=f"G12: {followup.id}: {answers.get('issues') or 'not running normally'}")]


plugin = AftersalesPlugin()
