"""Surveys: the questions asked when a subject is reached, and checking the answers (G4, G16, G18)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .contract import SATISFACTION, SATISFACTION_ALIASES, Question, SurveyTemplate, satisfaction_question
from .errors import HuifangError

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
    questions = {q.key: q for q in template.questions}
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
            if v not in SATISFACTION:
                raise HuifangError(f"'{value}' is not one of {' | '.join(SATISFACTION)} "
                                   f"(or {' | '.join(SATISFACTION_ALIASES)})", field=field)
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
        elif q.choices and v not in q.choices:
            raise HuifangError(f"'{value}' is not one of {' | '.join(q.choices)}", field=field)
        clean[key] = v
    missing = [q.key for q in template.questions if q.required and q.key not in clean]
    if missing:
        raise HuifangError(f"missing required answer(s) {', '.join(missing)} for survey '{template.key}'",
                           field="answers")
    return clean


def seal_answers(keyring: KeyRing, template: SurveyTemplate | None, subject: str,
                 answers: dict[str, Any]) -> dict[str, Any]:
    """Free-text answers are personal data (stored encrypted); choices, scores and yes/no stay plain
    so statistics never need the plaintext."""
    free = {q.key for q in (template.questions if template else [])
            if q.kind == "text" or (q.kind == "choice" and q.choices is None)}
    return {k: (keyring.seal(subject, v) if k in free and isinstance(v, str) else v) for k, v in answers.items()}
