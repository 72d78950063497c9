"""Finance visit types and their surveys (G18: at most 5 questions each). Every survey but the
complaint check asks the G13 anomaly question, so a major anomaly is caught whatever the visit.
Every survey records, beside the answers, the reference of the record the client confirmed and signed
when the follow-up was done by a home visit (F5, 004 §4 art.13: 交客户确认并签章).
F6: only the new-policy callback may be exempted, and only by the statement signed at purchase
(recorded on the policy trigger, 004 §4 art.9(四)); no other finance follow-up can be exempted."""
from __future__ import annotations

from huifang.core.plugin_api import Question, SurveyTemplate, VisitType, satisfaction_question

# G13 major anomalies (重大异常), seed 004 art.10; "none" is the normal answer.
ANOMALIES = ("signed_on_behalf", "traded_on_behalf", "discretionary_mandate", "private_fee", "false_data",
             "strong_dissatisfaction")
ANOMALY = Question(
    key="anomaly", required=True, choices=["none", *ANOMALIES],
    text="是否有代签名/代操作、全权委托、私下收费、资料失实或强烈不满？ Anything irregular: signed or traded "
         "on your behalf, discretionary mandate, private fees, false data, strong dissatisfaction?")


SIGNED_CONFIRMATION = "signed_confirmation"
CONFIRMATION = Question(
    key=SIGNED_CONFIRMATION, kind="text",
    text="上门回访记录经客户确认签章的编号 Reference of the home-visit record the client confirmed and signed "
         "(F5: required after a home visit)")


def yes_no(key: str, text: str, required: bool = True) -> Question:
    return Question(key=key, text=text, kind="bool", required=required)


NEW_CONTRACT = SurveyTemplate(key="new_contract", title="新签约回访 New-contract check (F1)", questions=[
    yes_no("product_explained", "理财经理是否清楚介绍并解释了产品？ Was the product explained clearly?"),
    yes_no("risk_explained", "是否说明了产品风险？ Were its risks explained?"),
    ANOMALY,
    satisfaction_question("您对理财经理的服务满意吗？ Satisfied with your wealth manager?"),
    Question(key="suggestion", text="意见和建议 Suggestions", kind="text"),
])

CONTINUING = SurveyTemplate(key="continuing", title="持续回访 Yearly follow-up (F2)", questions=[
    yes_no("reasonable_basis", "投资建议是否有合理依据？ Did the advice have a reasonable basis?"),
    yes_no("risk_disclosed", "是否主动、明确地揭示了风险？ Were risks disclosed clearly and unprompted?"),
    yes_no("promised_returns", "是否有人承诺或保证投资收益？ Did anyone promise or guarantee returns?"),
    ANOMALY,
    satisfaction_question("您对投资建议的及时性和实用性满意吗？ Satisfied with the advice?"),
])

AGREEMENT_CHANGE = SurveyTemplate(key="agreement_change", title="协议变更确认 Agreement change (F3)", questions=[
    yes_no("change_confirmed", "您是否本人同意了这项协议变更？ Did you agree to this change yourself?"),
    ANOMALY,
    satisfaction_question(),
    Question(key="comment", text="其他意见 Other comments", kind="text"),
])

TERMINATION = SurveyTemplate(key="termination", title="解约回访 Termination (F3)", questions=[
    Question(key="reason", text="解约原因 Why did you end the contract?", kind="text", required=True),
    ANOMALY,
    satisfaction_question(),
    Question(key="suggestion", text="意见和建议 Suggestions", kind="text"),
])

COMPLAINT = SurveyTemplate(key="complaint", title="投诉回访 Complaint follow-up (F3)", questions=[
    yes_no("resolved", "投诉处理方案是否已落实？ Has the agreed solution been carried out?"),
    ANOMALY,
    satisfaction_question("您对投诉处理结果满意吗？ Satisfied with how the complaint was handled?"),
    Question(key="comment", text="其他意见 Other comments", kind="text"),
])

NEW_POLICY = SurveyTemplate(key="new_policy", title="新契约回访 New policy (F4)", questions=[
    yes_no("self_signed", "投保单是否本人及被保险人亲笔签名？ Did you and the insured sign yourselves?"),
    yes_no("terms_understood", "是否清楚保险责任、费用及退保损失？ Do you understand cover, fees and "
                               "surrender losses?"),
    yes_no("cooling_off_informed", "是否知道犹豫期及其权利？ Do you know about the cooling-off period?"),
    ANOMALY,
    satisfaction_question(),
])

POLICY_SERVICE = SurveyTemplate(key="policy_service", title="保全回访 Policy change (F7)", questions=[
    yes_no("done_as_requested", "变更是否按您的申请办理？ Was the change made as you asked?"),
    ANOMALY,
    satisfaction_question(),
    Question(key="comment", text="其他意见 Other comments", kind="text"),
])

LAPSED_POLICY = SurveyTemplate(key="lapsed_policy", title="续期停效回访 Lapsed renewal (F7)", questions=[
    Question(key="lapse_reason", text="停效原因 Why did the renewal lapse?", required=True,
             choices=["financial", "forgot", "dissatisfied", "switched", "other"]),
    yes_no("wants_reinstatement", "是否需要办理复效？ Would you like to reinstate the policy?"),
    ANOMALY,
    satisfaction_question(),
])

CLAIM = SurveyTemplate(key="claim", title="理赔回访 Claim (F7)", questions=[
    yes_no("settled_as_expected", "理赔结果是否符合预期？ Was the claim settled as you expected?"),
    ANOMALY,
    satisfaction_question("您对理赔服务满意吗？ Satisfied with the claim service?"),
    Question(key="comment", text="其他意见 Other comments", kind="text"),
])

ORPHAN_POLICY = SurveyTemplate(key="orphan_policy", title="离司业务员保单回访 Departed agent's policies (F7)",
                               questions=[
    yes_no("new_contact_known", "是否知道新的服务人员？ Do you know your new service contact?"),
    yes_no("policy_understood", "是否清楚保单的保障内容？ Do you know what your policy covers?"),
    ANOMALY,
    satisfaction_question(),
])

SPECIAL_CAMPAIGN = SurveyTemplate(key="special_campaign", title="专项回访 Special campaign (F3)", questions=[
    Question(key="answer", text="按批准的问卷询问并记录答复 Ask the approved questionnaire; the client's answers",
             kind="text", required=True),
    ANOMALY,
    satisfaction_question(),
    Question(key="suggestion", text="意见和建议 Suggestions", kind="text"),
])

_VISIT_TYPES = [
    VisitType(name="new_contract", survey=NEW_CONTRACT, rules=["F1", "G13"],
              description="new wealth-management contract: product and risk explained"),
    VisitType(name="continuing", survey=CONTINUING, rules=["F2", "G13"],
              description="yearly follow-up: advisor conduct and satisfaction"),
    VisitType(name="agreement_change", survey=AGREEMENT_CHANGE, rules=["F3", "G13"],
              description="confirm an agreement change with the client"),
    VisitType(name="termination", survey=TERMINATION, rules=["F3"], description="ask why the contract ended"),
    VisitType(name="complaint", survey=COMPLAINT, rules=["F3", "G12"],
              description="check a handled complaint's solution was carried out"),
    VisitType(name="new_policy", survey=NEW_POLICY, rules=["F4", "F6", "G13"], exemption="trigger",
              description="new insurance policy, inside the cooling-off period"),
    VisitType(name="policy_service", survey=POLICY_SERVICE, rules=["F7"], description="policy change (保全)"),
    VisitType(name="lapsed_policy", survey=LAPSED_POLICY, rules=["F7"], description="lapsed renewal (续期停效)"),
    VisitType(name="claim", survey=CLAIM, rules=["F7"], description="settled claim (理赔)"),
    VisitType(name="orphan_policy", survey=ORPHAN_POLICY, rules=["F7", "G9"],
              description="policies of a departed agent (离司业务员保单)"),
    VisitType(name="special_campaign", survey=SPECIAL_CAMPAIGN, rules=["F3", "G9"],
              description="special campaign on an approved plan (专项回访)"),
]


def _finance(v: VisitType) -> VisitType:
    """Every finance survey records the signed home-visit confirmation (F5); F6: only a visit type that
    says `exemption="trigger"` (the new-policy callback) may ever be exempted."""
    survey = v.survey.model_copy(update={"record_fields": [*v.survey.record_fields, CONFIRMATION]}) \
        if v.survey else None
    return v.model_copy(update={"survey": survey, "exemption": "trigger" if v.exemption == "trigger" else "never"})


VISIT_TYPES = [_finance(v) for v in _VISIT_TYPES]
