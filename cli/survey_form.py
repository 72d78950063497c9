"""A form as an operator fills it in, one field at a time: the survey of interactive `complete` and of
`huifang work`, the attempt outcome, a ticket. Choices are numbered and shown by their display label;
a choice is entered by its number, code or label; required fields are enforced as they are typed.

Only the typing is checked here: what is entered is saved by the same use cases as the plain
commands (`complete --answer`, `attempt --outcome`, `ticket open`), which check it again (G16, G18).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from huifang.core.errors import HuifangError

if TYPE_CHECKING:
    from huifang.core.contract import Question, SurveyTemplate

YES_NO = ("yes", "no")


@dataclass(frozen=True)
class Field:
    """One question (or one input of a dialog). `options` are (code, display label) pairs."""

    key: str
    text: str
    kind: str = "text"  # choice | score | text (yes/no is a choice)
    required: bool = False
    options: tuple[tuple[str, str], ...] = ()
    min: int | None = None
    max: int | None = None
    default: str | None = None  # offered when the operator just presses Enter
    label_kind: str | None = None  # the labels' kind (core/labels.py): codes, Chinese and English labels accepted
    plugin: str | None = None  # the plugin owning the labels
    when: tuple[str, Any] | None = None  # asked only when that field holds that value
    say: str = ""  # what the operator says before asking (the script's standard reply)

    def choices(self) -> list[str]:
        """The numbered choices, one per line: `1) 满意`."""
        return [f"{i}) {label}" for i, (_code, label) in enumerate(self.options, 1)]

    def hint(self) -> str:
        """What may be typed, in a few words."""
        if self.options:
            what = f"1-{len(self.options)}"
        elif self.kind == "score":
            what = f"{self.min if self.min is not None else ''}-{self.max if self.max is not None else ''}"
        else:
            what = "文字"
        return f"{what}，{'必答' if self.required else '可直接回车跳过'}"

    def parse(self, raw: str) -> Any:
        """The value typed (a code, a whole number or text), or None for an optional field left empty;
        a HuifangError (field = the key) says in one line what to type instead."""
        text = raw.strip()
        if not text:
            if self.default is not None:
                return self.parse(self.default)
            if self.required:
                raise HuifangError("此题必答 (required)", field=self.key)
            return None
        if self.options:
            if text.isdigit() and 1 <= int(text) <= len(self.options):
                return self.options[int(text) - 1][0]
            from huifang.core.labels import resolve, resolve_code

            codes = [code for code, _label in self.options]
            if self.label_kind:
                return resolve(self.label_kind, text, codes, self.key, plugin=self.plugin)
            return resolve_code(text, [(code, (label,)) for code, label in self.options], self.key)
        if self.kind == "score":
            try:
                value = int(text)
            except ValueError:
                raise HuifangError(f"'{text}' 不是整数 (a whole number)", field=self.key) from None
            if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
                raise HuifangError(f"{value} 不在 {self.min}..{self.max} 之内", field=self.key)
            return value
        return text

    def shown(self, value: Any) -> str:
        """A value as the operator reads it back (the choice's label)."""
        if value is None:
            return "-"
        return dict(self.options).get(str(value), str(value))


@dataclass
class Form:
    """The fields of one form and the values entered so far (in field order)."""

    title: str
    fields: list[Field]
    values: dict[str, Any] = field(default_factory=dict)

    def active(self) -> list[Field]:
        """The fields to ask given the values so far (a 不满意 answer brings its reason, G16)."""
        return [f for f in self.fields if f.when is None or self.values.get(f.when[0]) == f.when[1]]

    def review(self) -> list[str]:
        """One line per field asked, as read back before saving."""
        return [f"{f.text}: {f.shown(self.values.get(f.key))}" for f in self.active()]

    def answers(self) -> dict[str, Any]:
        """The values entered in the fields asked (fields left empty are not answers)."""
        return {f.key: self.values[f.key] for f in self.active() if self.values.get(f.key) is not None}


def choice_field(key: str, text: str, kind: str, codes: Sequence[str], required: bool = True,
                 plugin: str | None = None, default: str | None = None) -> Field:
    """A numbered choice among `codes`, each shown by its display label of `kind` (core/labels.py)."""
    from huifang.core.labels import label

    return Field(key=key, text=text, kind="choice", required=required, default=default, label_kind=kind,
                 plugin=plugin, options=tuple((c, label(kind, c, plugin=plugin)) for c in codes))


def question_field(q: Question, plugin: str | None) -> Field:
    """A survey question as a field: choices and yes/no numbered with their labels."""
    if q.kind == "bool":
        return choice_field(q.key, q.text, "choice", YES_NO, q.required, plugin)
    if q.choices:
        return choice_field(q.key, q.text, "choice", q.choices, q.required, plugin)
    return Field(key=q.key, text=q.text, kind=q.kind if q.kind == "score" else "text", required=q.required,
                 min=q.min, max=q.max)


def survey_form(template: SurveyTemplate | None, plugin: str | None, reasons: Mapping[str, str],
                if_dissatisfied: str = "") -> Form:
    """The survey of a follow-up's visit type as a form (no survey: refused, the answers are free).
    A 不满意 answer is followed by its reason, a code of `reasons` and the subject's words (G16,
    seed 003 §5), with the script's standard reply said first."""
    from huifang.core.contract import DISSATISFACTION_CODE, DISSATISFACTION_REASON, DISSATISFIED

    if template is None:
        raise HuifangError("this visit type has no survey to ask: give --answer KEY=VALUE", field="answers")
    fields: list[Field] = []
    for q in template.questions:
        fields.append(question_field(q, plugin))
        if q.key == "satisfaction":  # asked right after the answer that needs it
            when = ("satisfaction", DISSATISFIED)
            fields += [
                Field(DISSATISFACTION_CODE, "不满意的原因 (reason)", kind="choice", required=True, when=when,
                      say=if_dissatisfied, options=tuple(reasons.items())),
                Field(DISSATISFACTION_REASON, "客户原话 (the subject's words)", required=True, when=when),
            ]
    return Form(template.title, fields)


def followup_survey(app: Any, code: str, actor: str) -> Form:
    """The survey of follow-up `code` as a form, for `actor` to fill in. The use case is asked first
    with no answers, so that every refusal but the answers' (closed, not reached, G9, A4, role) comes
    before the first question rather than after the last; nothing is written by it."""
    from huifang.core.domain import FollowUp
    from huifang.core.labels import label

    try:
        app.complete(code, {}, actor=actor)
    except HuifangError as e:
        if e.field != "answers":
            raise
    from huifang.projections.callsheet import DEFAULT_SCRIPT

    fu = app.load(FollowUp, code, "follow-up")
    template = app.survey(fu)
    reply = (template.script.if_dissatisfied if template else "") or DEFAULT_SCRIPT.if_dissatisfied
    form = survey_form(template, fu.plugin, app.settings(fu.plugin).dissatisfaction_reasons, reply)
    form.title = f"{fu.code}  {label('visit_type', fu.visit_type, plugin=fu.plugin)}  {form.title}"
    return form
