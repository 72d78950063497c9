"""Surveys per visit type (M6; at most 5 questions, G18; satisfaction on the G16 four-level scale).

The recovery score is judged on a per-disease template (settings.recovery_templates, in Chinese) that the
plan puts on the follow-up (meta.recovery_template, and a guide `show` prints). Chronic calls start with
the effect of the previous call (M4). What the nurse records beside the answers — the health guidance
given (健康宣教, G4) and the subject's suggestions — are record fields, not questions (G18 counts 5)."""
from __future__ import annotations

from huifang.core.plugin_api import Question, SurveyTemplate, VisitType, satisfaction_question

ADHERENCE = ["good", "partial", "poor"]  # drives the chronic interval (M4)
SYMPTOMS = ["none", "mild", "worrying"]  # worrying -> ticket + attending doctor (M7)
EFFECT = ["effective", "partly", "not_effective", "no_previous_call"]  # M4: effect of the previous call
REEXAM = ["yes", "booked", "no"]  # M5

recovery = Question(key="recovery", text="康复情况评分 (0-10) Recovery score (see the disease template)",
                    kind="score", min=0, max=10, required=True)
adherence = Question(key="adherence", text="是否按医嘱服药？ Taking medication as prescribed?", choices=ADHERENCE)
symptoms = Question(key="symptoms", text="是否有不适症状？ Any worrying symptoms?", choices=SYMPTOMS)
suggestion = Question(key="suggestion", text="意见和建议 Suggestions", kind="text")
# M6: lifestyle and quality of life (生活方式与生活质量)
lifestyle = Question(key="lifestyle", text="饮食、运动、睡眠等生活方式和日常生活质量如何？ Lifestyle and quality of life",
                     choices=["good", "fair", "poor"])
# G4: the health guidance given on the call (健康宣教), recorded by the nurse
guidance = Question(key="health_guidance", text="健康宣教内容 Health guidance given", kind="text")
RECORD = [guidance, suggestion]


def optional_satisfaction(text: str) -> Question:
    """G16 scale, not required: a frequent curve or recall call need not ask it every time."""
    return satisfaction_question(text).model_copy(update={"required": False})


def _chronic(key: str, title: str, control: str) -> SurveyTemplate:
    return SurveyTemplate(key=key, title=title, questions=[
        Question(key="previous_effect", text="上次回访的指导效果如何？ Effect of the previous call's advice",
                 choices=EFFECT, required=True),
        Question(key="adherence", text="用药、饮食、运动是否遵医嘱？ Following medication, diet and exercise?",
                 choices=ADHERENCE, required=True),
        Question(key="controlled", text=control, kind="bool"),
        symptoms,
        optional_satisfaction("您对我们的随访服务满意吗？ Satisfied with our follow-up care?"),
    ], record_fields=[guidance])


DISCHARGE = SurveyTemplate(key="discharge", title="出院回访 Discharge follow-up (M1, M6)", questions=[
    recovery, adherence, lifestyle, symptoms,
    satisfaction_question("您对住院期间的服务满意吗？ Satisfied with your stay?"),
], record_fields=RECORD)
OUTPATIENT = SurveyTemplate(key="outpatient", title="门诊初诊回访 Outpatient first-visit follow-up (M2, M6)", questions=[
    recovery, adherence, symptoms,
    satisfaction_question("您对门诊就诊满意吗？ Satisfied with your clinic visit?"), suggestion,
], record_fields=[guidance])
DIABETES = _chronic("chronic_diabetes", "糖尿病随访 Diabetes curve call (M4)",
                    "血糖控制达标吗？ Is blood glucose in target?")
HYPERTENSION = _chronic("chronic_hypertension", "高血压随访 Hypertension check-in (M3)",
                        "血压控制达标吗？ Is blood pressure in target (< 140/90)?")
RECALL = SurveyTemplate(key="health_check_recall", title="体检异常回访 Health-check recall (M5)", questions=[
    Question(key="reexamined", text="是否已复查或预约复查？ Re-examined (or booked)?", choices=REEXAM, required=True),
    Question(key="lifestyle", text="是否已调整生活方式？ Lifestyle changed?", choices=["changed", "planned", "no"]),
    symptoms,
    optional_satisfaction("您对体检服务满意吗？ Satisfied with the health check?"),
    suggestion,
], record_fields=[guidance])
REMINDER = SurveyTemplate(key="reexam_reminder", title="复查提醒 Re-examination reminder (M5)", questions=[
    Question(key="reexamined", text="是否已复查？ Have you been re-examined?", choices=REEXAM, required=True),
    symptoms, suggestion,
], record_fields=[guidance])

VISIT_TYPES = [
    VisitType(name="discharge_first", survey=DISCHARGE, rules=["M1", "M6", "M9", "G4"],
              description="first follow-up after discharge, by the responsible nurse"),
    VisitType(name="outpatient_first", survey=OUTPATIENT, rules=["M2", "M6"],
              description="follow-up of a first outpatient visit"),
    VisitType(name="chronic_diabetes", survey=DIABETES, rules=["M4", "M6"],
              description="diabetes curve call; the interval adapts to adherence"),
    VisitType(name="chronic_hypertension", survey=HYPERTENSION, rules=["M3", "M6"],
              description="hypertension blood-pressure check-in; the interval adapts to control and adherence"),
    VisitType(name="health_check_recall", survey=RECALL, rules=["M5"],
              description="targeted call about abnormal health-check findings"),
    VisitType(name="reexam_reminder", survey=REMINDER, rules=["M5"],
              description="re-examination reminder when the recall call found no re-examination yet"),
]
CHRONIC_VISIT = {"diabetes": "chronic_diabetes", "hypertension": "chronic_hypertension"}
