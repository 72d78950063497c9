"""Hospital follow-up rules (M1 discharge; the rest of M2–M9 build on the same hooks)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from huifang.core.contract import (OpenTicket, PlannedVisit, Question, Settings, SurveyTemplate, TriggerKind,
                                   VisitType, satisfaction_question)
from huifang.core.hookspecs import hookimpl

NAME = "medical"


class MedicalSettings(Settings):
    """[plugins.medical] in huifang.toml. Defaults are the rulebook's."""

    calling_windows: list[str] = ["10:00-12:00", "15:00-17:00"]  # G6 hospital default
    discharge_open_days: int = 7  # M1: first follow-up one week after discharge
    discharge_due_days: int = 10  # M1: done within 10 days (000 §8)


class Discharge(BaseModel):
    model_config = ConfigDict(extra="forbid")
    department: str
    diagnosis: str
    responsible_nurse: str
    attending_doctor: str
    surgery: bool = False
    condition: Literal["diabetes", "hypertension"] | None = None


DISCHARGE_SURVEY = SurveyTemplate(key="discharge", title="出院回访 Discharge follow-up (M6)", questions=[
    Question(key="recovery", text="康复情况评分 (0-10) Recovery score", kind="score", min=0, max=10, required=True),
    Question(key="adherence", text="是否按医嘱服药？ Taking medication as prescribed?",
             choices=["good", "partial", "poor"]),
    Question(key="symptoms", text="是否有不适症状？ Any worrying symptoms?", choices=["none", "mild", "worrying"]),
    satisfaction_question("您对住院期间的服务满意吗？ Satisfied with your stay?"),
    Question(key="suggestion", text="意见和建议 Suggestions", kind="text"),
])


class MedicalPlugin:
    name = NAME

    @hookimpl
    def huifang_settings_model(self) -> type:
        return MedicalSettings

    @hookimpl
    def huifang_trigger_kinds(self) -> list:
        return [TriggerKind(name="discharge", attributes=Discharge, rules=["M1", "M9"],
                            description="inpatient discharged: first follow-up 7–10 days after, by the nurse")]

    @hookimpl
    def huifang_visit_types(self) -> list:
        return [VisitType(name="discharge_first", survey=DISCHARGE_SURVEY, rules=["M1", "M6"],
                          description="first follow-up after discharge")]

    @hookimpl
    def huifang_plan(self, trigger, subject, settings, scheduler, history) -> list:
        a = trigger.attributes
        if trigger.kind == f"{NAME}.discharge":
            w = scheduler.window(trigger.at, settings.discharge_open_days, settings.discharge_due_days)
            return [PlannedVisit(key="1", visit_type="discharge_first", owner=a["responsible_nurse"],
                                 owner_role="nurse", department=a["department"],
                                 meta={"diagnosis": a["diagnosis"], "attending_doctor": a["attending_doctor"]},
                                 **w.fields())]
        return []

    @hookimpl
    def huifang_on_completed(self, followup, answers, settings, scheduler, history) -> list:
        out: list = []
        dept = followup.trigger_attributes.get("department", "clinical")
        doctor = followup.trigger_attributes.get("attending_doctor")
        if answers.get("symptoms") == "worrying":  # M7: refer to the attending doctor
            out.append(OpenTicket(category="symptoms", department=dept, note="worrying symptoms reported",
                                  notify=[doctor] if doctor else []))
        if answers.get("satisfaction") == "不满意":
            out.append(OpenTicket(category="dissatisfied", department=dept, note="subject dissatisfied"))
        return out


    @hookimpl
    def huifang_demo(self, app, rng, start, end, size) -> dict:
        from .demo import build

        return build(app, rng, start, end, size)


plugin = MedicalPlugin()
