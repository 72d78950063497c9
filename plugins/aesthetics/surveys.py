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

# G6, declared: the clinical steps of A2 that keep their day even on a public holiday (a wound does not
# wait for the holiday); settings.holiday_fixed_visits picks among these.
WOUND = "伤口护理按临床日进行，不因节假日顺延 (a wound does not wait for the holiday)"
CLINICAL: dict[str, str] = {"dressing_reminder": WOUND, "post_op_care": WOUND, "stitch_reminder": WOUND,
                            "scab_check": WOUND}

# What the operator says for each step of a curve (话术 of 001's 回访曲线): shown when several steps of one
# day are merged into one contact (A2: one call with every step's script).
SCRIPTS: dict[str, tuple[str, str]] = {
    "dressing_reminder": ("换药提醒", "提醒顾客按时来院换药，询问伤口有无渗血、疼痛"),
    "post_op_care": ("术后关怀", "关心问候，告知术后肿胀属正常反应及消肿护理方法"),
    "stitch_reminder": ("拆线提醒", "提醒顾客明天来院拆线，确认到院时间"),
    "recovery_care": ("恢复期关怀", "了解恢复情况与顾客感受，解答疑问"),
    "recheck_invite": ("复查邀约", "邀请顾客来院复查，预约复查时间"),
    "result_check": ("效果回访", "了解治疗效果与满意度，征询转介绍意愿"),
    "treatment_care": ("治疗后关怀", "询问治疗后感受，告知护理注意事项"),
    "guidance": ("专业指导", "根据恢复情况给予专业护理指导"),
    "scab_check": ("结痂/脱痂回访", "询问结痂、脱痂情况，提醒勿抠痂、注意防晒保湿"),
    "weekly_check": ("注射效果回访", "关注注射效果，询问有无肿胀、淤青、硬结等不适"),
    "topup_reminder": ("补量提醒", "评估是否需要补量，如需补打请预约来院时间"),
}


def kind_of(visit_type: str) -> str:
    v = VISITS.get(visit_type)
    return v[0] if v else "other"


def visit_types() -> list[VisitType]:
    return [VisitType(name=n, survey=s, rules=r if n not in CLINICAL else [*r, "G6"], description=d,
                      clinical_exception=CLINICAL.get(n)) for n, (_, s, r, d) in VISITS.items()]
