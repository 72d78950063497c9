"""What plugins hand to the engine (pydantic models): trigger kinds, visit types,
surveys, planned visits and outcome reactions. See plugin_api/hookspecs.py for when each is asked for."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CHANNELS = ("phone", "sms", "wechat", "qq", "email", "letter", "home_visit", "web", "app")  # G2
OUTCOMES = (  # G5, G14
    "reached", "no_answer", "busy", "wrong_number", "suspended", "powered_off", "refused", "call_later",
)
ROLES = ("agent", "supervisor", "manager", "auditor", "admin", "sales", "intake")  # policy.py: who may do what

# G16: the four-level scale; English aliases accepted on input.
SATISFACTION = ("满意", "较满意", "基本满意", "不满意")
SATISFACTION_ALIASES = {
    "satisfied": "满意", "fairly_satisfied": "较满意",
    "basically_satisfied": "基本满意", "dissatisfied": "不满意",
}


class Question(BaseModel):
    model_config = ConfigDict(frozen=True)
    key: str
    text: str
    choices: list[str] | None = None  # None = free text
    kind: Literal["choice", "score", "text", "bool"] = "choice"
    min: int | None = None  # for kind="score"
    max: int | None = None
    required: bool = False


class SurveyTemplate(BaseModel):
    """G18: at most 5 questions (about 3 minutes)."""

    model_config = ConfigDict(frozen=True)
    key: str
    title: str
    questions: list[Question] = Field(max_length=5)

    def public(self) -> list[dict[str, Any]]:
        return [{"key": q.key, "text": q.text, "choices": q.choices} for q in self.questions]


def satisfaction_question(text: str = "您对本次服务满意吗？ Overall, how satisfied are you?") -> Question:
    return Question(key="satisfaction", text=text, choices=list(SATISFACTION), required=True)


class TriggerKind(BaseModel):
    """A kind of service event. `attributes` validates the trigger's --attr values."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)
    name: str  # bare name; the engine qualifies it as '<plugin>.<name>'
    attributes: type[BaseModel]
    description: str = ""
    rules: list[str] = []
    # Attributes of a typical trigger of this kind: the conformance suite (plugin_api.testing) plans it.
    example: dict[str, Any] = {}
    codes: list[str] = []
    """G8: the attributes stored in plaintext because they are non-identifying codes that history
    look-ups and reports need (department, branch, product code, staff id, enum values, counts).
    Every other attribute is encrypted under the subject's key, gone after an erasure, and reaches
    `history`/report rows as an unreadable token (plans and reactions still see the plaintext)."""
    code_patterns: dict[str, str] = {}
    """G8: attributes plain only while their value fully matches the regular expression (e.g. a
    diagnosis that is a coded value, CODE_SHAPED); any other value is encrypted like free text."""

    @model_validator(mode="after")
    def _known_codes(self) -> TriggerKind:
        fields = self.attributes.model_fields
        unknown = sorted(n for n in [*self.codes, *self.code_patterns] if n not in fields)
        if unknown:
            raise ValueError(f"trigger kind {self.name}: codes name unknown attribute(s) {', '.join(unknown)}")
        for pattern in self.code_patterns.values():
            re.compile(pattern)
        return self


# G8: a value shaped like a code (an ASCII identifier such as `I25.1`, `CHD`, `no_answer`, `fees`): reasons,
# categories and pattern-declared attributes of this shape stay plain for reports; anything else is text.
CODE_SHAPED = r"[A-Za-z][A-Za-z0-9_.\-]{0,39}"


class VisitType(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str
    description: str = ""
    survey: SurveyTemplate | None = None
    rules: list[str] = []


class PlannedVisit(BaseModel):
    """One follow-up a plan derives from a trigger (or from a reaction)."""

    key: str  # unique within the trigger: follow-up id = '<trigger id>-<key>'
    visit_type: str
    window_open: datetime
    due: datetime
    owner: str | None = None  # staff id
    owner_role: str | None = None
    channel: str = "phone"
    provisional: bool = False  # G6: computed across a year without official calendar data
    window_rule: dict | None = None  # from Scheduler.window(): lets an official calendar re-plan it
    excluded_staff: list[str] = []  # G9: may never own, attempt or complete it
    excluded_roles: list[str] = []
    department: str | None = None
    branch: str | None = None
    tickets: list[str] = []  # codes of tickets opened from it (G12)
    meta: dict[str, Any] = {}

    @field_validator("channel")
    @classmethod
    def _channel(cls, v: str) -> str:
        if v not in CHANNELS:
            raise ValueError(f"channel '{v}' is not one of {', '.join(CHANNELS)}")
        return v


class Skip(BaseModel):
    """A plan decided not to follow up (e.g. not sampled, P2); stored so an auditor sees why."""

    key: str
    reason: str
    meta: dict[str, Any] = {}


class CloseFollowUp(BaseModel):
    """A plan may close earlier open follow-ups of the same subject and plugin (e.g. P3: a household
    that left cancels its open home visits). Applied in the same commit as the trigger."""

    followup: str  # follow-up id
    status: Literal["cancelled"] = "cancelled"
    reason: str


# Reactions a plugin returns after an attempt or a completion -------------------------


class PlanVisit(BaseModel):
    kind: Literal["plan_visit"] = "plan_visit"
    visit: PlannedVisit


class OpenTicket(BaseModel):
    kind: Literal["open_ticket"] = "open_ticket"
    category: str
    department: str
    severity: Literal["normal", "major"] = "normal"
    note: str = ""
    owner: str | None = None
    notify: list[str] = []
    deadline_hours: int | None = None  # default G12: 24 h
    deadline_workdays: int | None = None  # finance G12: 5 working days


class Escalate(BaseModel):
    kind: Literal["escalate"] = "escalate"
    to: str | None = None  # staff id; None = the owner's supervisor
    reason: str


class SwitchChannel(BaseModel):
    kind: Literal["switch_channel"] = "switch_channel"
    channel: str
    reason: str


class Notify(BaseModel):
    kind: Literal["notify"] = "notify"
    to: str
    message: str


class Warn(BaseModel):
    kind: Literal["warn"] = "warn"
    message: str


# The only things a reaction hook may return, told apart by `kind`.
Reaction = Annotated[PlanVisit | OpenTicket | Escalate | SwitchChannel | Notify | Warn, Field(discriminator="kind")]
# What a plan may return (huifang_plan).
PlanItem = PlannedVisit | Skip | CloseFollowUp


class Settings(BaseModel):
    """Per-plugin settings every plugin has; a plugin subclasses this for its own keys (huifang.toml
    section [plugins.<name>])."""

    model_config = ConfigDict(extra="forbid")
    calling_windows: list[str] = ["10:00-12:00", "15:00-17:00"]  # G6 hospital default
    no_holidays: bool = True  # G6
    lock_ladder: bool = False  # A4 as an engine capability
    lock_working_days: bool = False  # A4 '按工作时间核算': count days overdue on working (calling) days only
    open_weekends: bool = False  # G6 for seven-day organisations: weekends are workdays, public holidays off
    retention_years: int = 3  # G10
    min_attempts: int = 3  # G5
    require_recording: bool = False  # G11/F9
    ticket_deadline_hours: int = 24  # G12
    second_followup_hours: int = 4  # G12
    satisfaction_threshold: float = 0.9  # G16/M8: satisfied share below this is flagged
    callback_target: float = 1.0  # G15 agent KPI target
    kpi_step: float = 0.05  # G15 (002): one KPI point per 5% step (or part of one) below callback_target
    satisfied_levels: list[str] = ["满意", "较满意"]  # G16: levels counted in the satisfied share
    reminder_days_before: int = 1  # G3

    @field_validator("calling_windows")
    @classmethod
    def _windows(cls, v: list[str]) -> list[str]:
        from .scheduling import parse_window

        for w in v:
            parse_window(w)
        return v


class TriggerInfo(BaseModel):
    """What a plan sees of a trigger."""

    id: str
    kind: str  # qualified
    plugin: str
    subject: str
    at: datetime
    attributes: dict[str, Any]


class SubjectInfo(BaseModel):
    id: str
    tz: str
    attributes: dict[str, Any] = {}
    optouts: list[str] = []
    exempt: bool = False


class FollowUpInfo(BaseModel):
    """What a reaction hook sees of a follow-up."""

    id: str
    subject: str
    trigger: str
    trigger_kind: str
    plugin: str
    visit_type: str
    key: str
    owner: str | None
    channel: str
    window_open: datetime
    due: datetime
    status: str
    attempts: list[dict[str, Any]]
    answers: dict[str, Any] | None = None
    meta: dict[str, Any] = {}
    trigger_attributes: dict[str, Any] = {}
    department: str | None = None
    branch: str | None = None
    tickets: list[str] = []  # codes of tickets opened from it (G12)

