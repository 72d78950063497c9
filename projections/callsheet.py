"""The call sheet (回访单): everything an operator needs on one screen to make one call (`huifang
show`, the `huifang work` workspace): who to call and on which number, why (the trigger's context),
what earlier calls heard, and the script of seed 002's 话术 — 礼貌问候 → 自我介绍 → questions →
健康宣教 (or compliance text) → 满意度 → 感谢 → 登记 (the record fields, G4), with the standard reply
to a dissatisfied subject; beside it the per-disease recovery-score template next to the question it
scores (M6), the warnings given at entry, a clinical-day exception and what a provisional deadline
assumes (G6), each attempt with a mark when it does not count toward lost (G5), and for a closed
follow-up its status, reason and note (G14).

Wording comes from the visit type's survey template (SurveyTemplate.script), as the organisation
edited it in huifang.toml (`[plugins.<name>.surveys.<visit type>]`, applied by the registry); empty
parts fall back to DEFAULT_SCRIPT.

Personal data (G8): building a sheet that shows the subject is a recorded read (`audit reads`),
checked against the access policy first (a refusal is recorded and raised); the full phone number
only for whoever works the follow-up (its owner, or the department's pool), masked for everyone
else. The anonymous `cli` in enforced mode (which may run `show` but reads no personal data) gets
the sheet without name, numbers or context, and nothing is recorded.
"""
from __future__ import annotations

import string
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from huifang.core import clock, humantime
from huifang.core.contract import DISSATISFACTION_CODE, DISSATISFACTION_REASON, Question, Script, SurveyTemplate
from huifang.core.phones import mask_phone
from huifang.core.queue_rows import effective_status
from huifang.core.status import CLOSED
from huifang.core.usecases.calendar import calendar_assumption
from huifang.core.usecases.followups import counts_for_lost

if TYPE_CHECKING:
    from huifang.core.application import HuifangApp

ANONYMOUS = ("cli", "system")  # core/access.ANONYMOUS
RECENT_ANSWERS = 5  # earlier follow-ups shown: the most recent ones
DEFAULT_SCRIPT = Script(  # seed 002 话术 (hospital wording; organisations edit it in huifang.toml)
    opening="您好，请问是{name}吗？",
    introduction="我是{organisation}回访员{staff}，今天给您做个{visit}，耽误您几分钟时间，现在方便吗？",
    education="",
    closing="非常感谢您的配合，谢谢您能给我们提出这些宝贵的意见，祝您身体健康！再见！",
    if_dissatisfied="很抱歉我们有些环节的服务令您不满意，我们会认真对待您所提的意见！",
    if_satisfied="非常感谢您对我们服务的认同，以后有什么意见和建议，可以随时和我们客服沟通。",
)
# G4: what a medical call (a survey recording the health guidance given) says when the template has no wording
DEFAULT_EDUCATION = "请注意饮食规律、合理用药、自我保健，按时复查。有不适请及时就诊。"
GUIDANCE_FIELD = "health_guidance"  # G4: the record field of the health guidance given (健康宣教)
SATISFACTION = "satisfaction"  # asked after the health education (seed 002: 康复 → 健康宣教 → 满意度)
# context values that are codes of a labelled kind
VALUE_KINDS = {"department": "department", "dept": "department", "ward": "department", "category": "category",
               "severity": "severity", "channel": "channel", "language": "language"}
CLOSED_STATUSES = frozenset(str(x) for x in CLOSED)  # core/status.py
PROVISIONAL_NOTE = "临时日程：该年度官方节假日安排尚未导入，截止时间可能随日历导入调整 (G6)"
# trigger attributes' labels when the plugin's attribute model gives no Field(title=...)
ATTRIBUTE_LABELS = {
    "department": "科室", "diagnosis": "诊断", "attending_doctor": "主治医生", "responsible_nurse": "责任护士",
    "doctor": "医生", "item": "项目", "procedure": "项目", "treatment_date": "治疗日期", "surgery": "手术",
    "product": "产品", "contract": "合同", "policy": "保单", "amount": "金额", "branch": "网点",
    "consultant": "咨询师", "condition": "病种", "category": "类别", "address": "地址", "room": "房号",
    "agent": "业务员", "discharged_at": "出院时间", "visit_date": "就诊日期",
}


class Phone(BaseModel):
    number: str  # full, or masked (138****0001)
    masked: bool


class ContextField(BaseModel):
    key: str
    label: str
    value: Any  # as stored (codes stay codes)
    value_label: str = ""  # as the operator reads it (department codes, yes/no … labelled)


class SheetGuide(BaseModel):
    """A text read or judged by during the call (G4, M6): a recovery-score template, shown next to the
    question it scores (`question`), or the script of a step merged into this contact."""

    title: str
    lines: list[str]
    question: str | None = None


class SheetQuestion(BaseModel):
    key: str
    text: str
    kind: str  # choice | score | text | bool
    choices: list[str] | None  # codes, as `complete --answer KEY=CODE` takes them
    choice_labels: list[str] | None  # the same, as the operator reads them
    required: bool
    min: int | None = None
    max: int | None = None


class SheetScript(BaseModel):
    opening: str
    introduction: str
    questions: list[SheetQuestion]
    education: str
    closing: str
    education_field: str | None = None  # G4: the record field the operator fills with the guidance given
    if_dissatisfied: str
    if_satisfied: str


class Attempt(BaseModel):
    n: int
    at: str  # short form, 11-02 09:30
    channel: str
    outcome: str
    outcome_label: str
    note: str | None = None
    channel_label: str = ""
    counted: bool = True  # G5/G6: counts toward the attempts needed before lost
    not_counted: str | None = None  # why not: before_window | outside_window


class EarlierAnswer(BaseModel):
    key: str
    label: str
    value: Any


class EarlierFollowUp(BaseModel):
    followup: str
    visit_type: str
    visit_label: str
    closed_at: str | None  # short form
    answers: list[EarlierAnswer]


class CallSheet(BaseModel):
    followup: str
    plugin: str
    visit_type: str
    visit_label: str
    survey_title: str
    status: str
    status_label: str
    owner: str | None
    channel: str
    channel_label: str
    subject: str
    name: str | None  # None: the actor reads no personal data
    phones: list[Phone]
    phones_masked: bool
    personal: bool  # whether the sheet shows personal data (and the read was recorded)
    trigger: str
    trigger_kind: str
    trigger_at: str | None  # short form
    context: list[ContextField]
    earlier: list[EarlierFollowUp]
    script: SheetScript
    window_open: str  # short form
    due: str  # short form, 11-02 23:59
    due_human: str  # 今天 15:00 / 明天 23:59 / 逾期2天
    due_iso: str
    provisional: bool
    provisional_note: str | None
    attempts: list[Attempt]
    next_attempt_at: str | None  # short form
    answers: list[EarlierAnswer]  # this follow-up's, once completed
    closed_reason: str | None
    tickets: list[str]
    config_source: str  # which huifang.toml the wording came from (or "default")
    guides: list[SheetGuide] = []  # M6 recovery-score template, scripts of merged steps
    warnings: list[str] = []  # told at entry (e.g. a default the plan assumed)
    record_fields: list[SheetQuestion] = []  # G4: recorded by the operator, not asked (not counted by G18)
    clinical_exception: str | None = None  # G6: why the visit keeps its clinical day
    calendar_assumption: dict[str, Any] | None = None  # G6: what a provisional deadline assumes
    closed_reason_label: str | None = None  # G14 lost reason (or the reason given) as read
    closed_note: str | None = None
    closed_at: str | None = None  # short form


def label(kind: str, code: str | None, plugin: str | None = None) -> str:
    """core/labels.label (display labels, zh_CN first); the code itself where none is known."""
    try:
        from huifang.core.labels import label as find
    except ImportError:  # labels not installed in this build
        return code or ""
    return find(kind, code, plugin=plugin)


class _Blanks(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "…"


def fill(text: str, values: dict[str, Any]) -> str:
    """`{name}` placeholders filled; an unknown or unavailable one reads `…` (never an error: the
    wording is the organisation's)."""
    try:
        return string.Formatter().vformat(text, (), _Blanks(values))
    except (ValueError, IndexError, AttributeError, KeyError):
        return text


def choice_label(question_key: str, choice: str, plugin: str) -> str:
    """A survey choice as the operator reads it: labelled for its question (`adherence.good`) first."""
    try:
        from huifang.core.labels import find
    except ImportError:
        return choice
    return find("choice", f"{question_key}.{choice}", plugin=plugin) or label("choice", choice, plugin=plugin)


def question(q: Question, plugin: str) -> SheetQuestion:
    choices = ["yes", "no"] if q.kind == "bool" else q.choices
    return SheetQuestion(key=q.key, text=q.text, kind=q.kind, choices=choices,
                         choice_labels=[answer_value(q.key, c, plugin) for c in choices] if choices else None,
                         required=q.required, min=q.min, max=q.max)


def script_of(template: SurveyTemplate | None, plugin: str, values: dict[str, Any]) -> SheetScript:
    """The 话术 of a survey: the organisation's or plugin's wording, else the default; a survey that records
    the health guidance given (G4, medical) always has a 健康宣教 step."""
    own = template.script if template else Script()
    part = {k: fill(getattr(own, k) or getattr(DEFAULT_SCRIPT, k), values) for k in Script.model_fields}
    guided = template is not None and any(f.key == GUIDANCE_FIELD for f in template.record_fields)
    if guided and not part["education"]:
        part["education"] = DEFAULT_EDUCATION
    return SheetScript(questions=[question(q, plugin) for q in (template.questions if template else [])],
                       education_field=GUIDANCE_FIELD if guided else None, **part)


def answers_of(template: SurveyTemplate | None, answers: dict[str, Any] | None, plugin: str,
               reasons: dict[str, str] | None = None) -> list[EarlierAnswer]:
    """Answers as read: each under its question (or record field), the G16 reason of a 不满意 as 原因 /
    原话, code values labelled (`reasons`: the plugin's dissatisfaction reasons, code -> label)."""
    asked = [*template.questions, *template.record_fields] if template else []
    texts = {q.key: q.text for q in asked}
    return [EarlierAnswer(key=k, label=texts.get(k) or label("question", k, plugin=plugin),
                          value=answer_value(k, v, plugin, reasons)) for k, v in (answers or {}).items()]


def answer_value(key: str, value: Any, plugin: str, reasons: dict[str, str] | None = None) -> Any:
    if not isinstance(value, str):
        return value
    if key == DISSATISFACTION_CODE:
        try:
            from huifang.core.labels import find
        except ImportError:
            return (reasons or {}).get(value, value)
        return find("dissatisfaction_reason", value, plugin=plugin) or (reasons or {}).get(value, value)
    if key == DISSATISFACTION_REASON:  # the subject's own words
        return value
    if key == SATISFACTION:
        return label("satisfaction", value, plugin=plugin)
    return choice_label(key, value, plugin)


def reads_personal(app: HuifangApp, actor: str) -> bool:
    """Whether the sheet shows personal data to `actor`: not to the anonymous `cli` once access
    control is on (it may run `show`, reading no personal data)."""
    return not (actor in ANONYMOUS and app.access.enforced())


def dials(app: HuifangApp, actor: str, owner: str | None, department: str | None) -> bool:
    """The full number: for whoever works the follow-up — its owner, a member of the department whose
    pool holds it, or the single user of a store in setup mode."""
    if actor == owner and owner is not None:
        return True
    if actor in ANONYMOUS:
        return not app.access.enforced()
    staff = app.access.staff(actor)
    return owner is None and staff is not None and department is not None and staff.dept == department


def build_call_sheet(app: HuifangApp, followup_id: str, *, actor: str, reason: str | None = None) -> CallSheet:
    """The call sheet of one follow-up as `actor` may see it; showing the subject is a recorded read
    (G8), refused (and the refusal recorded) outside the actor's scope."""
    from huifang.core.audit.reads import record_read
    from huifang.core.domain import FollowUp, Staff, Subject, Trigger

    fu = app.load(FollowUp, followup_id, "follow-up")
    personal = reads_personal(app, actor)
    if personal:
        record_read(app, actor, fu.subject, "callsheet", f"followup:{fu.code}", reason or f"call sheet {fu.code}")
    k = app.keyring
    subj = app.find(Subject, fu.subject)
    tz = clock.zone(subj.tz if subj else app.config.huifang.timezone)
    now = clock.now()
    template = app.survey(fu)
    trig = app.find(Trigger, fu.trigger)
    attrs: dict[str, Any] = k.reveal_all(trig.attributes) if trig and personal else {}
    name = k.reveal(subj.name) if subj and personal else None
    full = personal and dials(app, actor, fu.owner, fu.department)
    numbers = [str(p) for p in k.reveal_all(list(subj.phones))] if subj and personal else []
    owner = app.find(Staff, fu.owner) if fu.owner else None
    visit_label = label("visit_type", fu.visit_type, plugin=fu.plugin)
    values = {**{a: v for a, v in attrs.items() if isinstance(v, (str, int, float))},
              "name": name or "…", "staff": owner.name if owner else (fu.owner or "…"),
              "organisation": app.config.huifang.organisation, "visit": visit_label}
    status = effective_status(fu.status, fu.window_open, fu.due, now)
    last_retry = fu.attempts[-1].get("next_attempt_at") if fu.attempts and not fu.closed else None
    reasons = app.settings(fu.plugin).dissatisfaction_reasons
    assumption = calendar_assumption(app, fu, str(tz)) if fu.provisional else None
    script = script_of(template, fu.plugin, values)
    closed = fu.status in CLOSED_STATUSES and fu.status != "completed"
    return CallSheet(
        followup=fu.code, plugin=fu.plugin, visit_type=fu.visit_type, visit_label=visit_label,
        survey_title=template.title if template else "", status=status, status_label=label("status", status),
        owner=fu.owner, channel=fu.channel, channel_label=label("channel", fu.channel),
        subject=fu.subject, name=name, personal=personal, phones_masked=personal and not full,
        phones=[Phone(number=p if full else mask_phone(p), masked=not full) for p in numbers],
        trigger=fu.trigger, trigger_kind=fu.trigger_kind,
        trigger_at=humantime.short(datetime.fromisoformat(trig.occurred_at), tz, now) if trig else None,
        context=context_fields(app, fu.trigger_kind, attrs, fu.plugin),
        earlier=earlier_followups(app, fu.subject, fu.code, tz, now) if personal else [],
        script=script,
        window_open=humantime.short(fu.window_open, tz, now), due=humantime.short(fu.due, tz, now),
        due_human=humantime.due_text(fu.due, now, tz, _lang()), due_iso=clock.iso(fu.due, str(tz)),
        provisional=fu.provisional,
        provisional_note=(assumption or {}).get("text") or (PROVISIONAL_NOTE if fu.provisional else None),
        attempts=[attempt(a, i, tz, now, k.reveal(a.get("note")) if personal else None)
                  for i, a in enumerate(fu.attempts)],
        next_attempt_at=humantime.short(last_retry, tz, now) if last_retry else None,
        answers=answers_of(template, k.reveal_all(fu.answers) if personal else fu.answers, fu.plugin, reasons)
        if fu.answers else [],
        closed_reason=k.reveal(fu.closed_reason) if personal else None,
        tickets=list(fu.tickets), config_source=getattr(app.config, "source", None) or "default",
        guides=guides_of(fu.meta.get("guides") or [], script.questions) if personal else [],  # name the disease
        warnings=[str(w) for w in fu.meta.get("warnings") or []],
        record_fields=[question(q, fu.plugin) for q in (template.record_fields if template else [])],
        clinical_exception=fu.meta.get("clinical_exception"), calendar_assumption=assumption,
        closed_reason_label=label("lost_reason", k.reveal(fu.closed_reason)) if personal and closed
        and fu.closed_reason else None,
        closed_note=k.reveal(fu.closed_note) if personal and closed else None,
        closed_at=humantime.short(fu.closed_at, tz, now) if fu.closed_at else None,
    )


def attempt(a: dict[str, Any], i: int, tz: Any, now: datetime, note: str | None) -> Attempt:
    """One attempt as read; G5/G6: one before the window opened, or by phone outside the calling
    hours, is marked as not counting toward the attempts needed before lost."""
    counted = counts_for_lost(a)
    why = None if counted else "before_window" if a.get("before_window") else "outside_window"
    return Attempt(n=a.get("n", i + 1), at=humantime.short(a["at"], tz, now), channel=a["channel"],
                   channel_label=label("channel", a["channel"]), outcome=a["outcome"],
                   outcome_label=label("outcome", a["outcome"]), note=note, counted=counted, not_counted=why)


def is_score_guide(title: str) -> bool:
    """A recovery/result-score template (M6), shown next to the score question it is judged by."""
    return "评分" in title or "score" in title.casefold()


def guides_of(guides: list[dict[str, Any]], questions: list[SheetQuestion]) -> list[SheetGuide]:
    scored = next((q.key for q in questions if q.kind == "score"), None)
    return [SheetGuide(title=str(g.get("title", "")), lines=[str(x) for x in g.get("lines") or []],
                       question=scored if scored and is_score_guide(str(g.get("title", ""))) else None)
            for g in guides]


def context_fields(app: HuifangApp, kind: str, attrs: dict[str, Any], plugin: str | None = None
                   ) -> list[ContextField]:
    """The trigger's attributes as read: keys labelled by the plugin's attribute model (Field title), then
    the labels (kind `attribute`: the plugin's, then the engine's), then ATTRIBUTE_LABELS; code values
    (departments, categories …) and yes/no labelled."""
    spec = app.registry.kinds.get(kind)
    fields = spec.spec.attributes.model_fields if spec else {}
    out = []
    for key, value in attrs.items():
        if value is None or value == "" or value == []:
            continue
        f = fields.get(key)
        title = (f.title if f is not None else None) or _found("attribute", key, plugin) \
            or ATTRIBUTE_LABELS.get(key, key)
        out.append(ContextField(key=key, label=title, value=value, value_label=context_value(key, value, plugin)))
    return out


def context_value(key: str, value: Any, plugin: str | None) -> str:
    kind = VALUE_KINDS.get(key)
    if kind and isinstance(value, str):
        return label(kind, value, plugin=plugin)
    if isinstance(value, list):
        return ", ".join(context_value(key, v, plugin) for v in value)
    return _shown(value)


def _lang() -> str:
    try:
        from huifang.core.labels import current_lang
    except ImportError:
        return "zh_CN"
    return current_lang()


def _found(kind: str, code: str, plugin: str | None) -> str | None:
    try:
        from huifang.core.labels import find
    except ImportError:
        return None
    return find(kind, code, plugin=plugin)


def earlier_followups(app: HuifangApp, subject: str, current: str, tz: Any, now: datetime
                      ) -> list[EarlierFollowUp]:
    """The subject's completed follow-ups other than this one, most recent last (at most RECENT_ANSWERS)."""
    from huifang.core.domain import FollowUp

    done = []
    for rec in app.read_side.followup_records(subject):
        if rec.code == current or rec.status != "completed":
            continue
        fu = app.find(FollowUp, rec.code)
        if fu is None or fu.subject != subject or not fu.answers:
            continue
        done.append(fu)
    done.sort(key=lambda f: (f.closed_at or f.due, f.code))
    return [EarlierFollowUp(followup=f.code, visit_type=f.visit_type,
                            visit_label=label("visit_type", f.visit_type, plugin=f.plugin),
                            closed_at=humantime.short(f.closed_at, tz, now) if f.closed_at else None,
                            answers=answers_of(app.survey(f), app.keyring.reveal_all(f.answers), f.plugin,
                                               app.settings(f.plugin).dissatisfaction_reasons))
            for f in done[-RECENT_ANSWERS:]]


SHEET_WORDS = {  # headings of the printed sheet, by language (codes and JSON stay as they are)
    "zh_CN": {"subject": "客户", "phone": "电话", "owner": "负责人", "channel": "渠道", "window": "回访窗口",
              "due": "截止", "context": "背景", "event": "事件", "earlier": "以往回访", "attempts": "联系记录",
              "next": "下次尝试", "script": "话术", "opening": "礼貌问候", "introduction": "自我介绍",
              "questions": "问题（* 必答）", "education": "健康宣教 / 告知", "closing": "结束语",
              "if_dissatisfied": "客户不满意时", "if_satisfied": "客户满意时", "answers": "回访结果",
              "closed": "关闭", "reason": "原因", "note": "备注", "tickets": "问题件", "config": "配置",
              "hidden": "（无权查看个人信息）", "masked": "（完整号码仅负责人可见）", "score": "分",
              "satisfaction": "满意度调查", "record": "登记回访信息（记录项，不计入问题 G18）",
              "record_guidance": "记录宣教内容", "clinical": "临床日 (G6 例外)", "guide": "参考",
              "before_window": "不计入失联次数：回访窗口开启前", "outside_window": "不计入失联次数：不在呼叫时段内"},
    "en": {"subject": "subject", "phone": "phone", "owner": "owner", "channel": "channel", "window": "window",
           "due": "due", "context": "context", "event": "event", "earlier": "earlier follow-ups",
           "attempts": "attempts", "next": "next try", "script": "script", "opening": "opening",
           "introduction": "introduction", "questions": "questions (* required)",
           "education": "health education / disclosure", "closing": "closing", "if_dissatisfied": "if dissatisfied",
           "if_satisfied": "if satisfied", "answers": "answers", "closed": "closed", "reason": "reason",
           "note": "note", "tickets": "tickets", "config": "config", "hidden": "(no access to personal data)",
           "masked": "(full number: owner only)", "score": "points", "satisfaction": "satisfaction",
           "record": "record (fields the operator fills in, not questions: G18)",
           "record_guidance": "record the guidance given", "clinical": "clinical day (G6 exception)",
           "guide": "guide", "before_window": "not counted toward lost: before the window opened",
           "outside_window": "not counted toward lost: outside the calling hours"},
}


def render_call_sheet(sheet: CallSheet, lang: str | None = None) -> str:
    """The sheet as printed by `huifang show` (one screen, in the invocation's language)."""
    en = (lang or _lang()) == "en"
    w = SHEET_WORDS["en" if en else "zh_CN"]
    status = sheet.status_label + (" ⚠" if sheet.status == "overdue" else "")
    due = f"{sheet.due}" if sheet.status in CLOSED_STATUSES else f"{sheet.due_human} ({sheet.due})"  # no 逾期 once closed
    lines = [f"{sheet.followup}  {sheet.visit_label}  [{status}]  {w['due']} {due}"]
    if sheet.personal:
        phones = "  ".join(p.number for p in sheet.phones) or "-"
        lines.append(f"{w['subject']} {sheet.name} ({sheet.subject})   {w['phone']} {phones}"
                     + (f"  {w['masked']}" if sheet.phones_masked else ""))
    else:
        lines.append(f"{w['subject']} {sheet.subject}  {w['hidden']}")
    lines.append(f"{w['owner']} {sheet.owner or '-'}   {w['channel']} {sheet.channel_label}   "
                 f"{w['window']} {sheet.window_open} .. {sheet.due}")
    if sheet.provisional:
        lines.append(f"! {provisional_text(sheet, en)}")
    if sheet.clinical_exception:
        lines.append(f"{w['clinical']}: {sheet.clinical_exception}")
    lines += [f"! {x}" for x in sheet.warnings]
    if sheet.context or sheet.trigger_at:
        ctx = "  ".join(f"{c.label}: {c.value_label or _shown(c.value)}" for c in sheet.context)
        head = f"{w['context']} ({w['event']} {sheet.trigger_at or '-'})"
        lines.append(f"{head}: {ctx}" if ctx else head)
    if sheet.earlier:
        lines.append(f"{w['earlier']}:")
        for e in sheet.earlier:
            said = "; ".join(f"{a.label}: {_shown(a.value)}" for a in e.answers)
            lines.append(f"  {e.closed_at or '-'} {e.visit_label} ({e.followup}): {said}")
    if sheet.attempts:
        lines.append(f"{w['attempts']}:")
        for a in sheet.attempts:
            lines.append(f"  {a.n}. {a.at} {a.channel_label or label('channel', a.channel)} {a.outcome_label}"
                         + (f" — {a.note}" if a.note else "")
                         + (f"  （{w[a.not_counted]}）" if a.not_counted and not en else
                            f"  ({w[a.not_counted]})" if a.not_counted else ""))
    if sheet.next_attempt_at:
        lines.append(f"{w['next']} {sheet.next_attempt_at}")
    if sheet.answers:
        lines.append(f"{w['answers']}: " + "; ".join(f"{a.label}: {_shown(a.value)}" for a in sheet.answers))
    elif sheet.status not in CLOSED_STATUSES:
        lines += script_lines(sheet, w)
    if sheet.status in CLOSED_STATUSES and sheet.status != "completed":
        closed = f"{w['closed']}: {sheet.status_label}" + (f" ({sheet.closed_at})" if sheet.closed_at else "")
        if sheet.closed_reason:
            shown = sheet.closed_reason_label or sheet.closed_reason
            closed += f"   {w['reason']}: {shown}" + (f" ({sheet.closed_reason})" if shown != sheet.closed_reason else "")
        if sheet.closed_note:
            closed += f"   {w['note']}: {sheet.closed_note}"
        lines.append(closed)
    elif sheet.closed_reason:
        lines.append(f"{w['closed']}: {sheet.closed_reason}")
    if sheet.tickets:
        lines.append(f"{w['tickets']}: " + ", ".join(sheet.tickets))
    lines.append(f"{w['config']}: {sheet.config_source}")
    return "\n".join(lines)


def script_lines(sheet: CallSheet, w: dict[str, str]) -> list[str]:
    """Seed 002's 话术 in order: 礼貌问候 → 自我介绍 → questions (the score template beside its question)
    → 健康宣教 → 满意度 → 感谢 → 登记 (the record fields, G4). The satisfaction question moves after the
    health education only when there is one; the numbers follow the order read."""
    sc = sheet.script
    lines = [f"{w['script']} — {sheet.survey_title}" if sheet.survey_title else w["script"],
             f"  1. {w['opening']}: {sc.opening}", f"  2. {w['introduction']}: {sc.introduction}",
             f"  3. {w['questions']}:"]
    later = [q for q in sc.questions if q.key == SATISFACTION] if sc.education else []
    first = [q for q in sc.questions if q not in later]
    number = 0
    for q in first:
        number += 1
        lines += question_lines(number, q, w, [g for g in sheet.guides if g.question == q.key])
    step = 4
    for g in sheet.guides:
        if g.question is None or g.question not in {q.key for q in first}:
            lines.append(f"  {w['guide']} — {g.title}:")
            lines += [f"       - {x}" for x in g.lines]
    if sc.education:
        lines.append(f"  {step}. {w['education']}: {sc.education}")
        if sc.education_field:
            lines.append(f"       → {w['record_guidance']}: --answer {sc.education_field}=…")
        step += 1
    if later:
        lines.append(f"  {step}. {w['satisfaction']}:")
        for q in later:
            number += 1
            lines += question_lines(number, q, w, [])
        lines.append(f"       {w['if_dissatisfied']}: {sc.if_dissatisfied}")
        step += 1
    lines.append(f"  {step}. {w['closing']}: {sc.closing}")
    step += 1
    if not later:
        lines.append(f"  {w['if_dissatisfied']}: {sc.if_dissatisfied}")
    if sheet.record_fields:
        lines.append(f"  {step}. {w['record']}:")
        lines += [f"       - {f.text}  --answer {f.key}=…" for f in sheet.record_fields]
    return lines


def question_lines(number: int, q: SheetQuestion, w: dict[str, str], guides: list[SheetGuide]) -> list[str]:
    mark = "*" if q.required else " "
    if q.choice_labels:
        how = " / ".join(f"{n}) {c}" for n, c in enumerate(q.choice_labels, 1))
    elif q.kind == "score":
        how = f"{q.min}-{q.max} {w['score']}"
    else:
        how = "…"
    lines = [f"     {mark}{number}. {q.text}  [{how}]  ({q.key})"]
    for g in guides:  # M6: the template the score is judged on, where the operator asks for it
        lines.append(f"         {g.title}:")
        lines += [f"           - {x}" for x in g.lines]
    return lines


def provisional_text(sheet: CallSheet, en: bool) -> str:
    """G6: what a provisional deadline assumes, in the operator's language (the English text is the
    calendar's own, `calendar_assumption.text`)."""
    a = sheet.calendar_assumption
    if not a:
        return sheet.provisional_note or PROVISIONAL_NOTE
    if en:
        return f"provisional deadline (G6): {a.get('text', '')}"
    years = "、".join(str(y) for y in a.get("years") or [])
    fixed = "、".join(a.get("fixed_holidays") or []) or "本窗口内没有"
    unknown = a.get("unknown_holidays") or []
    text = (f"临时日程 (G6)：{years} 年的官方节假日安排尚未导入，按周一至周五上班、法定固定假日（{fixed}）休息计算；"
            + (f"{'、'.join(unknown)}放假安排尚未公布，截止时间可能变动" if unknown
               else "本窗口内没有春节、清明、端午、中秋")
            + "；调休上班日未知")
    return text


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return label("choice", "yes" if value else "no")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
