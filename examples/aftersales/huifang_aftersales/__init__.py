"""After-sales equipment service follow-ups, written as an integrator would: its own package,
registered through the `huifang.plugins` entry point (seed 004 §5).

Curve: before energising; 1 month of trial running; 6 and 12 months in warranty; then yearly
to 36 months; contracts above 3 million are visited on site instead of phoned.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from pydantic import BaseModel, ConfigDict, Field

from huifang.core.contract import (PlannedVisit, Question, Settings, SurveyTemplate, TriggerKind, VisitType,
                                   satisfaction_question)
from huifang.core.hookspecs import hookimpl

NAME = "aftersales"


class AftersalesSettings(Settings):
    calling_windows: list[str] = ["09:00-12:00", "14:00-17:30"]
    onsite_above: float = 3_000_000  # CNY: on-site visit instead of a call
    window_days: int = 10  # days to complete each visit once its window opens


class Installed(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contract_value: float = Field(gt=0)
    engineer: str
    energise_on: date


SURVEY = SurveyTemplate(key="equipment", title="设备回访 Equipment follow-up", questions=[
    Question(key="running", text="设备运行是否正常？ Is the equipment running normally?", choices=["yes", "no"],
             required=True),
    Question(key="issues", text="存在的问题 Problems noticed", kind="text"),
    satisfaction_question("您对售后服务满意吗？ Satisfied with our service?"),
])

# (key, visit type, months after energising; None = before energising)
CURVE = [("pre", "pre_energising", None), ("trial", "trial_run", 1), ("w6", "warranty", 6),
         ("w12", "warranty", 12), ("y24", "yearly", 24), ("y36", "yearly", 36)]


def add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    for day in (d.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise ValueError(d)


class AftersalesPlugin:
    name = NAME

    @hookimpl
    def huifang_settings_model(self) -> type:
        return AftersalesSettings

    @hookimpl
    def huifang_trigger_kinds(self) -> list:
        return [TriggerKind(name="equipment_installed", attributes=Installed,
                            description="equipment delivered and installed; energising date known")]

    @hookimpl
    def huifang_visit_types(self) -> list:
        return [VisitType(name=v, survey=SURVEY) for v in ("pre_energising", "trial_run", "warranty", "yearly")]

    @hookimpl
    def huifang_plan(self, trigger, subject, settings, scheduler, history) -> list:
        a = trigger.attributes
        energise = date.fromisoformat(a["energise_on"])
        onsite = a["contract_value"] > settings.onsite_above
        out = []
        for key, vtype, months in CURVE:
            if months is None:  # before energising: from installation to the day before
                start = trigger.at
                days_left = max((energise - scheduler.local_day(trigger.at)).days - 1, 0)
                w = scheduler.window(start, 0, days_left)
            else:
                opens = add_months(energise, months)
                start = datetime.combine(opens, time(0), scheduler.tz)
                w = scheduler.window(start, 0, settings.window_days)
            out.append(PlannedVisit(key=key, visit_type=vtype, channel="home_visit" if onsite else "phone",
                                    excluded_staff=[a["engineer"]], meta={"onsite": onsite}, **w.fields()))
        return out


plugin = AftersalesPlugin()
