"""Trigger kinds of the property vertical (public contract): the service events that create
follow-ups, with their validated attributes. Names are qualified by the engine as 'property.<kind>'."""
from __future__ import annotations

import re
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from huifang.core.plugin_api import CODE_SHAPED, SATISFACTION, SATISFACTION_ALIASES, TriggerKind


class _Attrs(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _not_blank(cls, v: object) -> object:
        if isinstance(v, str) and not v.strip():
            raise ValueError("must not be empty")
        return v


class ComplaintHandled(_Attrs):
    """P1: a complaint was handled; its callback is due within 3 days."""

    category: str
    severity: Literal["major", "general"]
    dept: str  # the complained department (一般投诉 is called back by its supervisor)
    unit: str | None = None
    owner: str | None = None  # general complaints: the complained department's supervisor
    manager: str | None = None  # major complaints: overrides [plugins.property] manager
    renovation: str | None = None  # P9: id of the renovation_started trigger complained about
    against: Literal["designer", "inspector", "crew"] | None = None  # P9: who the complaint is about


class RepairCompleted(_Attrs):
    """P2: a repair order was completed by a worker."""

    category: str
    worker: str
    unit: str
    owner: str | None = None  # dispatch-centre agent; default [plugins.property] dispatcher


class HouseholdRegistered(_Attrs):
    """P3: a household moved in (or was taken on); home visits twice a year until it leaves. P4: the
    yearly satisfaction survey, one a year per household (unit)."""

    unit: str  # building-unit, e.g. 3-1502 (the building is the part before the first '-')
    owner: str | None = None  # the steward (管家) who visits
    project: str | None = None  # the estate (项目) the unit belongs to: P4 satisfaction per project


class HouseholdLeft(_Attrs):
    """P3: the household left: its open home visits are cancelled."""

    unit: str | None = None  # None = every unit of the subject
    reason: str | None = None


class SatisfactionSurvey(_Attrs):
    """P4: a yearly satisfaction questionnaire came back; each problem raised is followed up."""

    year: int
    problems: list[str] = []
    unit: str | None = None
    owner: str | None = None
    project: str | None = None
    satisfaction: str | None = None  # the overall level the questionnaire gave (P4 report)

    @field_validator("satisfaction")
    @classmethod
    def _level(cls, v: str | None) -> str | None:
        v = SATISFACTION_ALIASES.get(v, v) if v is not None else None
        if v is not None and v not in SATISFACTION:
            raise ValueError(f"'{v}' is not one of {', '.join(SATISFACTION)}")
        return v

    @field_validator("problems", mode="before")
    @classmethod
    def _split(cls, v: object) -> object:
        if isinstance(v, str):
            return [p.strip() for p in re.split(r"[;；]", v) if p.strip()]
        return v


class ServiceContract(_Attrs):
    """P5: a contracted (special) service: follow-ups mid-term and after the end."""

    start: date
    end: date
    service: str | None = None
    unit: str | None = None
    owner: str | None = None

    @field_validator("end")
    @classmethod
    def _after_start(cls, v: date, info: ValidationInfo) -> date:
        start = info.data.get("start")
        if start is not None and v <= start:
            raise ValueError(f"the contract must end after it starts ({start.isoformat()})")
        return v


class ActivityHeld(_Attrs):
    """P6: the subject took part in an activity (or received a publication)."""

    name: str
    kind: Literal["activity", "publication"] = "activity"
    owner: str | None = None


class EmergencyAid(_Attrs):
    """P7: emergency help given to the subject."""

    description: str | None = None
    unit: str | None = None
    owner: str | None = None


class RenovationStarted(_Attrs):
    """P9: renovation works started; follow-ups ~10 days after start, mid-term and at completion."""

    expected_end: date
    designer: str
    inspector: str
    crew: str
    unit: str | None = None
    owner: str | None = None


class RenovationCompleted(_Attrs):
    """P9: the works were completed (the trigger time is the actual completion); warranty spot checks."""

    project: str | None = None  # id of the renovation_started trigger; default: the subject's open project
    owner: str | None = None


KINDS = [
    TriggerKind(name="complaint_handled", attributes=ComplaintHandled, rules=["P1", "P8", "P9"],
                codes=["severity", "dept", "unit", "owner", "manager", "renovation", "against"],
                code_patterns={"category": CODE_SHAPED},
                description="complaint handled: 100% callback within 3 days; major -> manager; "
                            "30% supervisor re-check",
                example={"category": "noise", "severity": "general", "dept": "security", "unit": "3-1502"}),
    TriggerKind(name="repair_completed", attributes=RepairCompleted, rules=["P2", "P8"],
                codes=["worker", "unit", "owner"],
                code_patterns={"category": CODE_SHAPED},
                description="repair done: 90% sampled callback within 3 days; failed -> re-dispatch",
                example={"category": "plumbing", "worker": "w07", "unit": "3-1502"}),
    TriggerKind(name="household_registered", attributes=HouseholdRegistered, rules=["P3", "P4", "P10"],
                codes=["unit", "owner", "project"],
                description="household registered: two home visits a year until it leaves; the yearly "
                            "satisfaction survey, one a year",
                example={"unit": "3-1502", "project": "翠湖苑"}),
    TriggerKind(name="household_left", attributes=HouseholdLeft, rules=["P3"],
                codes=["unit"],
                description="household left: its open home visits are cancelled",
                example={"unit": "3-1502", "reason": "房屋已出售"}),
    TriggerKind(name="satisfaction_survey", attributes=SatisfactionSurvey, rules=["P4"],
                codes=["year", "unit", "owner", "project", "satisfaction"],
                description="yearly survey returned on paper: every problem raised is followed up within a week",
                example={"year": 2026, "problems": ["楼道灯不亮", "停车秩序乱"], "unit": "3-1502"}),
    TriggerKind(name="service_contract", attributes=ServiceContract, rules=["P5"],
                codes=["start", "end", "service", "unit", "owner"],
                description="contracted service: follow-ups mid-term and after the end",
                example={"start": "2026-10-08", "end": "2027-01-06", "service": "家政保洁", "unit": "3-1502"}),
    TriggerKind(name="activity_held", attributes=ActivityHeld, rules=["P6"],
                codes=["name", "kind", "owner"],
                description="activity or publication: 10% of participants within one month",
                example={"name": "中秋游园会", "kind": "activity"}),
    TriggerKind(name="emergency_aid", attributes=EmergencyAid, rules=["P7"],
                codes=["unit", "owner"],
                description="emergency help: follow-up within one week",
                example={"description": "住户在大堂摔倒，已叫救护车", "unit": "3-1502"}),
    TriggerKind(name="renovation_started", attributes=RenovationStarted, rules=["P9"],
                codes=["expected_end", "designer", "inspector", "crew", "unit", "owner"],
                description="renovation works: ~10 days after start, mid-term, at completion",
                example={"expected_end": "2027-03-31", "designer": "des-li", "inspector": "insp-wang",
                         "crew": "crew-a", "unit": "3-1502"}),
    TriggerKind(name="renovation_completed", attributes=RenovationCompleted, rules=["P9"],
                codes=["project", "owner"],
                description="renovation completed: completion visit from the actual date; warranty spot checks",
                example={"project": "RN1"}),
]
