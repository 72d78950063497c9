"""The hospital's trigger kinds (public contract). Attributes are validated by pydantic: an unknown or
missing attribute is a one-line error naming it (extra='forbid')."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from huifang.core.plugin_api import CODE_SHAPED, TriggerKind

Condition = Literal["diabetes", "hypertension"]
FINDINGS = ("lipids", "glucose", "blood_pressure", "liver", "nodule", "kidney", "uric_acid", "thyroid", "ecg",
            "imaging", "other")


class _Attrs(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Discharge(_Attrs):
    """M1, M9: an inpatient left the ward. `condition` also enrols the chronic curve (M3/M4)."""

    department: str = Field(min_length=1)
    diagnosis: str = Field(min_length=1)
    responsible_nurse: str = Field(min_length=1)
    attending_doctor: str = Field(min_length=1)
    surgery: bool = False
    condition: Condition | None = None


class OutpatientVisit(_Attrs):
    """M2: a clinic visit. A later visit that is the re-examination of a health check's findings (it names
    them in `exams`, or is in a department that re-examines them) closes its reminder (M5);
    `recovery_score` (0–10, optional) is the doctor's review score used by the effect study (G20)."""

    department: str = Field(min_length=1)
    specialist: bool
    first_visit: bool
    attending_doctor: str | None = None
    recovery_score: int | None = Field(default=None, ge=0, le=10)
    # M5: the health-check findings re-examined at this visit (e.g. nodule): such a visit, or one in a
    # department that re-examines a finding, cancels the pending re-examination reminder
    exams: list[Literal[FINDINGS]] = []  # type: ignore[valid-type]

    @field_validator("exams", mode="before")
    @classmethod
    def _split(cls, v: object) -> object:
        if isinstance(v, str):
            return [x.strip() for x in v.split(",") if x.strip()]
        return v


class ChronicEnrolment(_Attrs):
    """M3 hypertension / M4 diabetes curve. Owner, department and doctor are optional (a chronic-care
    team may work from a shared queue)."""

    condition: Condition
    phase: Literal["early", "stable"] = "early"
    department: str | None = None
    responsible_nurse: str | None = None
    attending_doctor: str | None = None


class HealthCheck(_Attrs):
    """M5: a health check with abnormal findings -> targeted recall and re-examination reminder."""

    findings: list[Literal[FINDINGS]]  # type: ignore[valid-type]
    department: str | None = None
    responsible_nurse: str | None = None

    @field_validator("findings", mode="before")
    @classmethod
    def _split(cls, v: object) -> object:
        # `--attr findings=lipids,glucose` as well as JSON `--attr findings='["lipids"]'`
        if isinstance(v, str):
            return [x.strip() for x in v.split(",") if x.strip()]
        return v


# G8: what stays plain is what plans' history look-ups and reports need, all of it codes: departments,
# staff ids, flags, the chronic condition and health-check findings (closed vocabularies). The diagnosis
# is health data: it stays plain only while it is a coded value (CODE_SHAPED: an ICD-10 code such as
# I25.1 or the hospital's code such as CHD, the keys of recovery_templates), which the G20 effect study
# groups by; a diagnosis written out as text is encrypted under the subject's key (G20: "(uncoded)").
KINDS = [
    TriggerKind(name="discharge", attributes=Discharge, rules=["M1", "M6", "M7", "M9", "M3", "M4"],
                codes=["department", "responsible_nurse", "attending_doctor", "surgery", "condition"],
                code_patterns={"diagnosis": CODE_SHAPED},
                description="inpatient discharged: first follow-up 7–10 days after, by the responsible nurse; "
                            "condition=diabetes|hypertension also starts the chronic curve",
                example={"department": "心内科", "diagnosis": "CHD", "responsible_nurse": "n-wangfang",
                         "attending_doctor": "dr-lijun", "surgery": False, "condition": "hypertension"}),
    TriggerKind(name="outpatient_visit", attributes=OutpatientVisit, rules=["M2", "M5", "G20"],
                codes=["department", "specialist", "first_visit", "attending_doctor", "recovery_score", "exams"],
                description="clinic visit: first visit followed up after 7 days (specialist) or 10 days (basic); "
                            "counts as re-examination after a health check",
                example={"department": "内分泌科", "specialist": True, "first_visit": True,
                         "attending_doctor": "dr-zhaomin"}),
    TriggerKind(name="chronic_enrolment", attributes=ChronicEnrolment, rules=["M3", "M4"],
                codes=["condition", "phase", "department", "responsible_nurse", "attending_doctor"],
                description="enrol in the hypertension (M3) or diabetes (M4) curve; adaptive intervals",
                example={"condition": "diabetes", "phase": "early", "department": "慢病管理中心",
                         "responsible_nurse": "n-chenjing", "attending_doctor": "dr-zhaomin"}),
    TriggerKind(name="health_check", attributes=HealthCheck, rules=["M5"],
                codes=["findings", "department", "responsible_nurse"],
                description="health check: abnormal findings -> targeted recall call and re-examination reminder",
                example={"findings": ["lipids", "nodule"], "department": "健康管理中心",
                         "responsible_nurse": "n-liuyan"}),
]
