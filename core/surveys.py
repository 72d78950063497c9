"""Surveys: the questions asked when a subject is reached, and checking the answers (G4, G16, G18)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .contract import (
    SATISFACTION,
    SATISFACTION_ALIASES,
    Question,
    SurveyEdit,
    SurveyTemplate,
    satisfaction_question,
)
from .errors import ConfigError, HuifangError
from .labels import resolve

if TYPE_CHECKING:
    from .privacy import KeyRing

SECOND_FOLLOWUP_SURVEY = SurveyTemplate(
    key="second_followup", title="二次回访 Second follow-up (G12)",
    questions=[
        Question(key="resolved", text="问题是否已解决？ Has the problem been resolved?", choices=["yes", "no"],
                 required=True),
        satisfaction_question("您对处理结果满意吗？ Are you satisfied with how it was handled?"),
        Question(key="comment", text="其他意见 Any other comment", kind="text"),
    ])


def validate_answers(template: SurveyTemplate | None, answers: dict[str, Any]) -> dict[str, Any]:
    """Answers must match the visit type's survey: known keys, allowed choices, G16 scale."""
    if not answers:
        raise HuifangError("give at least one KEY=VALUE (or --answers FILE.json)", field="answers")
    if template is None:
        return dict(answers)
    questions = {q.key: q for q in [*template.questions, *template.record_fields]}  # G4 record fields too
    clean: dict[str, Any] = {}
    for key, value in answers.items():
        q = questions.get(key)
        field = f"answers.{key}"
        if q is None:
            raise HuifangError(f"not a question of survey '{template.key}'; questions: {', '.join(questions)}",
                               field=field)
        v = str(value).strip() if not isinstance(value, (int, float, bool)) else value
        if key == "satisfaction":
            v = SATISFACTION_ALIASES.get(str(v), v)
            if v not in SATISFACTION:  # an English label (Fairly satisfied), else the one-line refusal
                v = resolve("satisfaction", v, SATISFACTION, field)
        elif q.kind == "score":
            try:
                v = int(v)
            except (TypeError, ValueError):
                raise HuifangError(f"'{value}' is not a whole number", field=field) from None
            if (q.min is not None and v < q.min) or (q.max is not None and v > q.max):
                raise HuifangError(f"{v} is outside {q.min}..{q.max}", field=field)
        elif q.kind == "bool":
            s = str(v).lower()
            if s not in ("yes", "no", "true", "false", "1", "0", "是", "否"):
                raise HuifangError(f"'{value}' is not yes or no", field=field)
            v = "yes" if s in ("yes", "true", "1", "是") else "no"
        elif q.choices:  # the code, or its Chinese or English label (及时, On time)
            v = resolve("choice", v, q.choices, field, prefix=f"{q.key}.")
        clean[key] = v
    missing = [k for k, q in questions.items() if q.required and k not in clean]
    if missing:
        raise HuifangError(f"missing required answer(s) {', '.join(missing)} for survey '{template.key}'",
                           field="answers")
    return clean


def seal_answers(keyring: KeyRing, template: SurveyTemplate | None, subject: str,
                 answers: dict[str, Any]) -> dict[str, Any]:
    """Free-text answers are personal data (stored encrypted); choices, scores and yes/no stay plain
    so statistics never need the plaintext."""
    free = {q.key for q in ([*template.questions, *template.record_fields] if template else [])
            if q.kind == "text" or (q.kind == "choice" and q.choices is None)}
    return {k: (keyring.seal(subject, v) if k in free and isinstance(v, str) else v) for k, v in answers.items()}


def edit_survey(template: SurveyTemplate, edit: SurveyEdit, where: str) -> SurveyTemplate:
    """The plugin's survey as the organisation worded it (huifang.toml `[plugins.<p>.surveys.<visit
    type>]`). The plugin's questions keep their kind and choices, which its rules read; a required one
    stays required; G18 still allows at most 5 questions. `where` names the config section in errors."""
    own = {q.key: q for q in template.questions}
    questions: list[Question] = []
    for q in template.questions:
        e = edit.questions.get(q.key)
        if e is None:
            questions.append(q)
            continue
        at = f"{where}.questions.{q.key}"
        if e.kind is not None or e.choices is not None or e.min is not None or e.max is not None:
            raise ConfigError(f"{at}: the plugin's question keeps its kind, choices and range (its rules read "
                              f"them); only text, required and omit may change")
        if q.required and (e.omit or e.required is False):
            raise ConfigError(f"{at}: a required question of the plugin cannot be omitted or made optional")
        if e.omit:
            continue
        update: dict[str, Any] = {}
        if e.text is not None:
            if not e.text.strip():
                raise ConfigError(f"{at}.text: must not be empty")
            update["text"] = e.text.strip()
        if e.required is not None:
            update["required"] = e.required
        questions.append(q.model_copy(update=update))
    for key, e in edit.questions.items():
        if key in own:
            continue
        at = f"{where}.questions.{key}"
        if e.omit:
            raise ConfigError(f"{at}: no such question to omit; questions: {', '.join(own)}")
        if not (e.text or "").strip():
            raise ConfigError(f"{at}.text: a new question needs its text")
        kind = e.kind or ("choice" if e.choices else "text")
        if kind == "score" and (e.min is None or e.max is None or e.min > e.max):
            raise ConfigError(f"{at}: a score question needs min <= max")
        questions.append(Question(key=key, text=e.text.strip() if e.text else "", kind=kind,
                                  choices=e.choices if kind == "choice" else None,
                                  min=e.min, max=e.max, required=bool(e.required)))
    if len(questions) > 5:
        raise ConfigError(f"{where}.questions: G18: a survey has at most 5 questions (about 3 minutes); "
                          f"this one would have {len(questions)}")
    script = template.script.model_copy(update={k: v for k, v in edit.script.model_dump().items() if v.strip()})
    return template.model_copy(update={"title": (edit.title or "").strip() or template.title,
                                       "questions": questions, "script": script})
