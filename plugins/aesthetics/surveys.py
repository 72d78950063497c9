"""Visit types of the aesthetics clinic, their A3 window kind and their surveys (G18: ≤ 5 questions).
Every survey asks whether the client may complain (A8): 'yes' opens a ticket to the department."""
from __future__ import annotations

from huifang.core.plugin_api import Question, SurveyTemplate, VisitType, satisfaction_question

COMPLAINT = Question(key="complaint_risk", text="是否可能投诉？ Is the client likely to complain? (A8)",
                     kind="bool", required=True)

CARE = SurveyTemplate(key="aesthetics_care", title="术后感情关怀 Emotional care", questions=[
    Question(key="feeling", text="术后感受 How does the client feel?", choices=["good", "ok", "worried"],
             required=True),
    satisfaction_question(),
    COMPLAINT,
    Question(key="note", text="备注 Note", kind="text"),
])
PROFESSIONAL = SurveyTemplate(key="aesthetics_professional", title="专业关怀 Professional care", questions=[
    Question(key="healing", text="恢复情况（肿胀/结痂/效果） Healing", choices=["normal", "slow", "abnormal"],
             required=True),
    Question(key="follows_care", text="是否按医嘱护理？ Following the care instructions?", kind="bool"),
    satisfaction_question(),
    COMPLAINT,
    Question(key="note", text="备注 Note", kind="text"),
])
REMINDER = SurveyTemplate(key="aesthetics_reminder", title="复诊提醒 Re-visit reminder", questions=[
    Question(key="will_come", text="是否按时来院？ Will the client come as planned?", kind="bool", required=True),
    Question(key="appointment", text="预约时间 Appointment", kind="text"),
    COMPLAINT,
    Question(key="note", text="备注 Note", kind="text"),
])
RESULT = SurveyTemplate(key="aesthetics_result", title="效果回访 Result", questions=[
    Question(key="result", text="效果评分 (0-10) Result score", kind="score", min=0, max=10, required=True),
    satisfaction_question("您对效果满意吗？ Satisfied with the result?"),
    Question(key="referral", text="是否愿意转介绍？ Would refer a friend?", kind="bool"),
    COMPLAINT,
    Question(key="note", text="备注 Note", kind="text"),
])
MARKETING = SurveyTemplate(key="aesthetics_marketing", title="营销回访 Marketing", questions=[
    Question(key="interest", text="意向 Interest", choices=["booked", "interested", "not_interested"],
             required=True),
    Question(key="objection", text="抗拒点 Objection", kind="text"),
    COMPLAINT,
    Question(key="note", text="备注 Note", kind="text"),
])
EXPERIENCE = SurveyTemplate(key="aesthetics_experience", title="体验顾客回访 Experience customer", questions=[
    Question(key="feeling", text="体验感受 How was the experience?", choices=["good", "ok", "poor"], required=True),
    satisfaction_question(),
    Question(key="interest", text="意向 Interest", choices=["booked", "interested", "not_interested"]),
    COMPLAINT,
    Question(key="note", text="备注 Note", kind="text"),
])
MEMBERSHIP = SurveyTemplate(key="aesthetics_membership", title="会员权益回访 Membership rights", questions=[
    Question(key="knows_rights", text="是否了解会员权益？ Does the member know the rights?", kind="bool",
             required=True),
    satisfaction_question(),
    COMPLAINT,
    Question(key="note", text="备注 Note", kind="text"),
])

# visit type -> (A3 window kind, survey, rules, description)
VISITS: dict[str, tuple[str, SurveyTemplate, list[str], str]] = {
    "not_visited": ("marketing", MARKETING, ["A1", "A3", "A5"], "未上门: consulted, never came (online consultant)"),
    "not_purchased": ("marketing", MARKETING, ["A1", "A3"], "未成交: came, did not buy (consultant)"),
    "dressing_reminder": ("revisit", REMINDER, ["A2"], "surgery day 1: come in to change the dressing"),
    "post_op_care": ("professional", PROFESSIONAL, ["A2"], "surgery day 3: care, swelling guidance"),
    "stitch_reminder": ("revisit", REMINDER, ["A2"], "day before stitch removal (nurse)"),
    "recovery_care": ("emotional", CARE, ["A2", "A5"], "surgery day 7-15: recovery care (consultant)"),
    "recheck_invite": ("revisit", REMINDER, ["A2"], "surgery day 30: invite a re-check (consultant)"),
    "result_check": ("professional", RESULT, ["A2"], "result: surgery day 90, other departments day 30"),
    "treatment_care": ("emotional", CARE, ["A2", "A5", "A6"], "day 1 after a treatment: care"),
    "guidance": ("professional", PROFESSIONAL, ["A2", "A6"], "professional guidance after a treatment"),
    "scab_check": ("professional", PROFESSIONAL, ["A2"], "skin: scab / peel-off day"),
    "weekly_check": ("professional", PROFESSIONAL, ["A2"], "injectables: weekly result check"),
    "topup_reminder": ("revisit", REMINDER, ["A2"], "injectables: top-up reminder (提醒补量)"),
    "next_session_reminder": ("revisit", REMINDER, ["A6"], "package: reminder before the next session"),
    "activity": ("marketing", MARKETING, ["A1", "A3"], "活动回访: expert day / promotion notice"),
    "marketing": ("marketing", MARKETING, ["A6", "A9"], "after the treatment cycle: marketing phase"),
    "batch": ("batch", MARKETING, ["A7", "A9"], "approved batch campaign (批量回访)"),
    "experience_first": ("experience", EXPERIENCE, ["A3", "A10"], "experience customer, first: day 3"),
    "experience_second": ("experience", EXPERIENCE, ["A10"], "experience customer, second: day 8-15"),
    "membership_rights": ("membership", MEMBERSHIP, ["A3"], "membership rights within 15 days"),
}

MARKETING_KINDS = ("marketing", "batch")  # A9: never for blacklisted subjects


def kind_of(visit_type: str) -> str:
    v = VISITS.get(visit_type)
    return v[0] if v else "other"


def visit_types() -> list[VisitType]:
    return [VisitType(name=n, survey=s, rules=r, description=d) for n, (_, s, r, d) in VISITS.items()]
