"""What plugins hand to the engine (pydantic models): trigger kinds, visit types,
surveys, planned visits and outcome reactions. See plugin_api/hookspecs.py for when each is asked for."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CHANNELS = ("phone", "sms", "wechat", "qq", "email", "letter", "home_visit", "web", "app")  # G2
OUTCOMES = (  # G5, G14; refused = refuses the follow-up itself, refused_channel = refuses this channel only (G7)
    "reached", "no_answer", "busy", "wrong_number", "suspended", "powered_off", "refused", "call_later",
    "refused_channel",
    "sent", "returned",  # F5: a letter's states: sent (awaiting the reply), returned undelivered
)
OUTCOME_LABELS = {  # what the operator sees and may type instead of the code
    "reached": "接通", "no_answer": "无人接听", "busy": "占线", "wrong_number": "空号/错号", "suspended": "停机",
    "powered_off": "关机", "refused": "拒绝回访", "call_later": "稍后再联系", "refused_channel": "拒绝此渠道",
    "sent": "已寄出", "returned": "退信",
}
OUTCOME_ALIASES = {"拒绝电话": "refused_channel", "拒访": "refused", "空号": "wrong_number", "错号": "wrong_number"}
# G14: the lost reasons (analysed in `report lost`); `other` needs a note saying what happened
LOST_REASONS = {
    "no_answer": "多次无人接听", "wrong_number": "空号/错号", "suspended": "停机", "powered_off": "关机",
    "refused": "拒绝回访", "deceased": "已故", "moved": "迁居/联系方式失效", "other": "其他",
}
# G6: channels that only count inside the calling windows (a letter or an SMS has no calling window)
CALLING_CHANNELS = ("phone",)
# F9: the language a call was held in (code -> label; the label is accepted on input)
LANGUAGES = {"mandarin": "普通话", "dialect": "本地话/方言"}
ROLES = ("agent", "supervisor", "manager", "auditor", "admin", "sales", "intake")  # policy.py: who may do what

# G16: the four-level scale; English aliases accepted on input.
SATISFACTION = ("满意", "较满意", "基本满意", "不满意")
SATISFACTION_ALIASES = {
    "satisfied": "满意", "fairly_satisfied": "较满意",
    "basically_satisfied": "基本满意", "dissatisfied": "不满意",
}
DISSATISFIED = "不满意"
# G16 (003 §5 "必须追问不满意的原因, 并准确详细记录"): a 不满意 answer is saved only with the reason, a code
# (input: the code or its label) and the subject's words; both travel with the tickets it opens (G12).
DISSATISFACTION_REASONS = {
    "attitude": "服务态度", "quality": "服务或产品质量", "result": "效果未达预期", "waiting": "等候时间长",
    "communication": "解释沟通不清", "process": "流程手续繁琐", "fees": "费用", "environment": "环境设施",
    "other": "其他",
}
DISSATISFACTION_CODE = "dissatisfaction_code"  # answer keys beside the survey's questions (not counted by G18)
DISSATISFACTION_REASON = "dissatisfaction_reason"


class Question(BaseModel):
    model_config = ConfigDict(frozen=True)
    key: str
    text: str
    choices: list[str] | None = None  # None = free text
    kind: Literal["choice", "score", "text", "bool"] = "choice"
    min: int | None = None  # for kind="score"
    max: int | None = None
    required: bool = False


class Script(BaseModel):
    """The call's wording around the questions (话术, seed 002: 礼貌问候 → 自我介绍 → questions → 健康宣教
    → 感谢). Empty parts fall back to the engine's default wording (projections/callsheet.py).
    Placeholders: {name} {staff} {organisation} {visit} and the trigger's attributes (e.g. {item})."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    opening: str = ""  # 礼貌问候
    introduction: str = ""  # 自我介绍 (and the purpose of the call)
    education: str = ""  # 健康宣教 / compliance text read after the questions
    closing: str = ""  # 感谢 / 结束语
    if_dissatisfied: str = ""  # the standard reply to a dissatisfied subject
    if_satisfied: str = ""


class QuestionEdit(BaseModel):
    """An organisation's wording of one survey question (huifang.toml). A question of the plugin keeps
    its kind and choices (its rules read them): only its text may change, it may be made required,
    and an optional one omitted. A new key adds a question of its own (default kind text)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    text: str | None = None
    required: bool | None = None
    omit: bool = False
    kind: Literal["choice", "score", "text", "bool"] | None = None  # new questions only
    choices: list[str] | None = None
    min: int | None = None
    max: int | None = None


class SurveyEdit(BaseModel):
    """`[plugins.<name>.surveys.<visit type>]`: the organisation's title, script and question wording
    for one visit type's survey (G18: still at most 5 questions)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    title: str | None = None
    script: Script = Field(default_factory=Script)  # non-empty parts replace the plugin's
    questions: dict[str, QuestionEdit] = {}


class SurveyTemplate(BaseModel):
    """G18: at most 5 questions (about 3 minutes). `record_fields` are what the agent records beside the
    answers, not asked of the subject (G4: the health guidance given, 健康宣教), so G18 does not count
    them; `complete --answer KEY=VALUE` takes them like answers."""

    model_config = ConfigDict(frozen=True)
    key: str
    title: str
    questions: list[Question] = Field(max_length=5)
    record_fields: list[Question] = []
    script: Script = Field(default_factory=Script)

    def public(self) -> list[dict[str, Any]]:
        return [{"key": q.key, "text": q.text, "choices": q.choices} for q in self.questions]

    def public_record(self) -> list[dict[str, Any]]:
        return [{"key": q.key, "text": q.text, "choices": q.choices} for q in self.record_fields]


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
    exemption_attribute: str | None = None
    """F6: the attribute holding a no-follow-up statement signed with this event (e.g. at the purchase
    of a policy); it exempts this trigger's follow-ups whose visit type has `exemption="trigger"`."""

    @model_validator(mode="after")
    def _known_codes(self) -> TriggerKind:
        fields = self.attributes.model_fields
        named = [*self.codes, *self.code_patterns, *([self.exemption_attribute] if self.exemption_attribute else [])]
        unknown = sorted(n for n in named if n not in fields)
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
    exemption: Literal["subject", "trigger", "never"] = "never"
    """F6/G7: what may close a follow-up of this type as exempt instead of following it up: `never`,
    nothing (the default: G7 lets a subject opt out of follow-up altogether only for insurance; one who
    refuses is closed lost, reason `refused`); `trigger`, only a statement signed with the service event
    itself and recorded on its trigger (the kind's `exemption_attribute`, e.g. F6: at the purchase of an
    insurance policy); `subject`, a signed no-follow-up statement on the subject's file (`subject
    exempt`, `close --exempt --statement`), for a plugin whose rules allow one."""
    clinical_exception: str | None = None
    """G6 exception, declared: why this visit keeps its clinical day even on a public holiday (e.g. a
    dressing change). A visit planned with `PlannedVisit.clinical_exception` may open on a non-calling
    day, and its attempts count inside the calling hours of any day."""


class Guide(BaseModel):
    """A text the operator reads or judges by during one call, shown by `show` (G4, M6): a per-disease
    recovery-score template, or the script of a visit merged into this contact."""

    model_config = ConfigDict(frozen=True)
    title: str
    lines: list[str]


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
    # G6: the clinical exception its visit type declares, when the plan kept a clinical day (holiday or not)
    clinical_exception: str | None = None
    warnings: list[str] = []  # told at entry and kept on the follow-up (e.g. a default the plan assumed)
    guides: list[Guide] = []  # G4/M6: templates and scripts for the call

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


class TicketInfo(BaseModel):
    """What `huifang_ticket_route` sees of a ticket being opened (G12)."""

    category: str
    department: str
    severity: Literal["normal", "major"]
    owner: str | None = None  # named by the reaction (it wins over the route)
    opened_by: str  # the actor who found the problem: the callback agent, or an operator


class TicketRoute(BaseModel):
    """Who owns a ticket and who hears of it next (G12, G13, A8), as a plugin routes it.

    The owner is `owner`, else the head of `head_of` (default: the ticket's department, `staff add
    --head-of`), else the callback agent's supervisor. The escalation ladder (G13 at once for a major
    ticket; `tick` one step per deadline span overdue) is `escalate_to`, then the callback agent's
    supervisors nearest first, then the owner's, then the plugin's `management`; never the owner."""

    owner: str | None = None  # staff id
    head_of: str | None = None  # a department whose head owns it (e.g. A8: customer service)
    escalate_to: list[str] = []  # staff ids, the ladder's first steps
    notify_owner: bool = False  # tell the owner at once (A8: the customer-service supervisor is told)


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


class Reschedule(BaseModel):
    """Move the follow-up's deadline (and its window's opening, if given), e.g. F5: a sent letter
    awaits its reply until its own deadline. Recorded as a Rescheduled event with the reason."""

    kind: Literal["reschedule"] = "reschedule"
    due: datetime
    window_open: datetime | None = None
    reason: str


# The only things a reaction hook may return, told apart by `kind`.
Reaction = Annotated[PlanVisit | OpenTicket | Escalate | SwitchChannel | Notify | Warn | Reschedule,
                     Field(discriminator="kind")]
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
    # survey wording and scripts edited per organisation, by visit type (core/surveys.edit_survey)
    surveys: dict[str, SurveyEdit] = {}
    ticket_deadline_workdays: int | None = None  # G12: handled within this many working days (None: hours)
    management: str | None = None  # G13: staff id at the top of every escalation ladder
    dissatisfaction_reasons: dict[str, str] = DISSATISFACTION_REASONS  # G16: code -> label (003 §5)
    # G7: when a subject refuses a channel, the follow-up moves to the first of these they accept
    optout_fallback: list[str] = ["sms", "wechat", "email", "letter", "phone"]

    @field_validator("optout_fallback")
    @classmethod
    def _fallbacks(cls, v: list[str]) -> list[str]:
        unknown = [c for c in v if c not in CHANNELS]
        if unknown:
            raise ValueError(f"'{unknown[0]}' is not one of {', '.join(CHANNELS)}")
        return v

    @field_validator("dissatisfaction_reasons")
    @classmethod
    def _reasons(cls, v: dict[str, str]) -> dict[str, str]:
        bad = [k for k in v if not re.fullmatch(CODE_SHAPED, k)]
        if not v or bad:
            raise ValueError(f"give codes like attitude = \"服务态度\" (not {bad[0] if bad else 'nothing'})")
        return v

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

