"""A tiny plugin used only by the core tests: working-day and calendar-day windows, and a kind
name shared with another test plugin (namespacing)."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from huifang.core.contract import (
    PlannedVisit,
    Question,
    Settings,
    SurveyTemplate,
    TriggerKind,
    VisitType,
    satisfaction_question,
)
from huifang.core.plugin_api import hookimpl


class Attrs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    owner: str = "a1"
    seller: str | None = None


SURVEY = SurveyTemplate(key="kit", title="kit", questions=[satisfaction_question(),
                                                           Question(key="note", text="note", kind="text")])


class KitSettings(Settings):
    calling_windows: list[str] = ["10:00-11:00", "14:00-16:00"]
    workdays: int = 5


class Kit:
    def __init__(self, name: str = "kit"):
        self.name = name

    @hookimpl
    def huifang_settings_model(self):
        return KitSettings

    @hookimpl
    def huifang_trigger_kinds(self):
        return [TriggerKind(name="signed", attributes=Attrs), TriggerKind(name="complaint_handled", attributes=Attrs)]

    @hookimpl
    def huifang_visit_types(self):
        return [VisitType(name="check", survey=SURVEY)]

    @hookimpl
    def huifang_plan(self, trigger, subject, settings, scheduler, history):
        a = trigger.attributes
        w = scheduler.window(trigger.at, 0, settings.workdays, workdays=True)
        return [PlannedVisit(key="1", visit_type="check", owner=a["owner"],
                             excluded_staff=[a["seller"]] if a["seller"] else [], excluded_roles=["sales"],
                             **w.fields())]
