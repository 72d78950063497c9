"""Surveys and visit types of the property vertical (G18: at most 5 questions each).

The content of a property callback (000 §5 1.4, 003 §6 4.1.4): quality, effect of the service,
satisfaction, shortcomings, suggestions. Repairs ask timeliness, pass and satisfaction (000 §2 4.2);
home-visit records carry the resident's confirmation (P10)."""
from __future__ import annotations

from huifang.core.plugin_api import Question, SurveyTemplate, VisitType, satisfaction_question

QUALITY = Question(key="quality", text="质量评价 How was the quality of the work?", choices=["good", "fair", "poor"])
SHORTCOMINGS = Question(key="shortcomings", text="缺点与不足 Any shortcomings?", kind="text")
SUGGESTION = Question(key="suggestion", text="意见和建议 Suggestions", kind="text")

# P1 content: quality, effect, satisfaction, shortcomings, suggestion
COMPLAINT = SurveyTemplate(key="property_complaint", title="投诉回访 Complaint callback (P1)", questions=[
    QUALITY,
    Question(key="effect", text="服务效果：问题是否已解决？ Was the complaint resolved?",
             choices=["resolved", "partly", "not_resolved"], required=True),
    satisfaction_question("您对投诉处理满意吗？ Satisfied with how the complaint was handled?"),
    SHORTCOMINGS,
    SUGGESTION,
])

# P2: timeliness, pass, satisfaction (results feed the worker's assessment)
REPAIR = SurveyTemplate(key="property_repair", title="维修回访 Repair callback (P2)", questions=[
    Question(key="timeliness", text="维修是否及时？ Was the repair done in time?", choices=["on_time", "late"],
             required=True),
    Question(key="passed", text="维修是否合格？ Is the repair up to standard (does it work)?", kind="bool",
             required=True),
    satisfaction_question("您对维修服务满意吗？ Satisfied with the repair service?"),
    SHORTCOMINGS,
    SUGGESTION,
])

# P3/P10: the home-visit record (家访登记表) is confirmed by the resident
HOME_VISIT = SurveyTemplate(key="property_home_visit", title="家访 Home visit (P3, P10)", questions=[
    Question(key="problem", text="住户反映的问题 Problem raised by the household",
             choices=["none", "repair", "security", "sanitation", "neighbours", "other"], required=True),
    Question(key="note", text="记录 What was discussed (problem details, needs)", kind="text"),
    satisfaction_question("您对物业服务满意吗？ Satisfied with the property services?"),
    SUGGESTION,
    Question(key="resident_confirmed", text="住户已对记录签名确认？ Has the resident signed/confirmed this record?",
             kind="bool", required=True),
])

# P4: the yearly owner satisfaction survey (000 §2 ①, 003 §6: the year-end questionnaire); every problem
# raised is followed up (a survey_problem each)
YEARLY = SurveyTemplate(key="property_yearly", title="年度满意度调查 Yearly owner satisfaction survey (P4)", questions=[
    satisfaction_question("您对今年的物业服务总体满意吗？ Overall, how satisfied are you with this year's services?"),
    Question(key="weakest", text="最需要改进的服务 Which service most needs improving?",
             choices=["none", "security", "sanitation", "repair", "greening", "parking", "fees", "other"]),
    Question(key="problems", text="需要解决的问题（多个用；分隔） Problems to follow up (several: separate with ;)",
             kind="text"),
    SUGGESTION,
])

# P4, P5, P6, P7: the general property callback content (000 §5 1.4)
SERVICE = SurveyTemplate(key="property_service", title="服务回访 Service callback (P4–P7)", questions=[
    QUALITY,
    Question(key="effect", text="服务效果 Did the service achieve its purpose?", choices=["yes", "partly", "no"]),
    satisfaction_question(),
    SHORTCOMINGS,
    SUGGESTION,
])

# P9: renovation works; a complaint names who it is about (per-designer/inspector/crew rates)
RENOVATION = SurveyTemplate(key="property_renovation", title="装修回访 Renovation works (P9)", questions=[
    QUALITY,
    satisfaction_question("您对装修工程满意吗？ Satisfied with the renovation works?"),
    Question(key="complaint", text="是否有投诉？针对谁？ Any complaint, and about whom?",
             choices=["none", "designer", "inspector", "crew", "other"], required=True),
    Question(key="problem", text="问题描述 The problem", kind="text"),
    SUGGESTION,
])

VISIT_TYPES = [
    VisitType(name="complaint_callback", survey=COMPLAINT, rules=["P1"], exemption="never",  # F6: insurance only
              description="complaint callback within 3 days of handling (major: by the manager)"),
    VisitType(name="complaint_recheck", survey=COMPLAINT, rules=["P1", "G17"], exemption="never",
              description="customer-service supervisor's re-check of a sampled complaint"),
    VisitType(name="repair_callback", survey=REPAIR, rules=["P2"],
              description="repair callback by the dispatch centre (sampled); failed -> re-dispatched"),
    VisitType(name="home_visit", survey=HOME_VISIT, rules=["P3", "P10"],
              description="home visit, twice a year; the record is confirmed by the resident"),
    VisitType(name="yearly_survey", survey=YEARLY, rules=["P4"],
              description="the household's yearly satisfaction survey, one a year in the survey season"),
    VisitType(name="survey_problem", survey=SERVICE, rules=["P4"],
              description="follow-up of a problem raised in the yearly satisfaction survey"),
    VisitType(name="contract_midterm", survey=SERVICE, rules=["P5"], description="contracted service, mid-term"),
    VisitType(name="contract_end", survey=SERVICE, rules=["P5"], description="contracted service, after the end"),
    VisitType(name="activity_callback", survey=SERVICE, rules=["P6"],
              description="activity/publication participant (10% sample) within one month"),
    VisitType(name="emergency_callback", survey=SERVICE, rules=["P7"], description="within one week of emergency help"),
    VisitType(name="renovation_early", survey=RENOVATION, rules=["P9"], description="about 10 days after the start"),
    VisitType(name="renovation_midterm", survey=RENOVATION, rules=["P9"], description="mid-term of the works"),
    VisitType(name="renovation_completion", survey=RENOVATION, rules=["P9"], description="at completion"),
    VisitType(name="warranty_check", survey=RENOVATION, rules=["P9"],
              description="sampled spot check during the warranty period"),
]
