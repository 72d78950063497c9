"""A tiny plugin used only by the core tests: working-day and calendar-day windows, a kind name shared
with another test plugin (namespacing), and the engine's F6 statement on the subject's file (its
visit type declares `exemption="subject"`, which no shipped plugin does: G7)."""
from __future__ import annotations

from typing import Any

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
    department: str | None = None


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
        return [VisitType(name="check", survey=SURVEY, exemption="subject")]  # F6 on the subject's file

    @hookimpl
    def huifang_plan(self, trigger, subject, settings, scheduler, history):
        a = trigger.attributes
        w = scheduler.window(trigger.at, 0, settings.workdays, workdays=True)
        return [PlannedVisit(key="1", visit_type="check", owner=a["owner"], department=a["department"],
                             excluded_staff=[a["seller"]] if a["seller"] else [], excluded_roles=["sales"],
                             **w.fields())]


class KitEntryPoint:
    """The kit as an installed plugin (entry point `kit`), for CLI tests: `install_kit` adds it to what
    the engine discovers, so every command of the test enables it next to the shipped plugins."""

    name = "kit"
    kit = Kit()

    def load(self) -> Kit:
        return self.kit


def install_kit(monkeypatch: Any) -> None:
    """Enable the kit in every CLI command while `monkeypatch` lasts (a test's, or a MonkeyPatch.context())."""
    from huifang.core import registry

    installed = registry.discover()
    monkeypatch.setattr(registry, "discover", lambda: {**installed, "kit": KitEntryPoint()})
