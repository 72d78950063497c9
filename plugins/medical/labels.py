"""Display labels of the hospital's codes (English msgids; zh_CN in locale/, domain huifang_medical)."""
from __future__ import annotations

from huifang.core.plugin_api import i18n

_ = i18n.domain("huifang_medical", __file__)

LABELS = i18n.Labels(
    _,
    trigger_kind={
        "discharge": _("Discharge"), "outpatient_visit": _("Outpatient visit"),
        "chronic_enrolment": _("Chronic disease enrolment"), "health_check": _("Health check"),
    },
    visit_type={
        "discharge_first": _("Discharge follow-up"), "outpatient_first": _("Outpatient first-visit follow-up"),
        "chronic_diabetes": _("Diabetes follow-up"), "chronic_hypertension": _("Hypertension follow-up"),
        "health_check_recall": _("Health-check recall"), "reexam_reminder": _("Re-examination reminder"),
    },
    question={
        "recovery": _("Recovery score"), "adherence": _("Following medical advice"), "symptoms": _("Symptoms"),
        "previous_effect": _("Effect of the previous advice"), "controlled": _("In target"),
        "reexamined": _("Re-examined"), "lifestyle": _("Lifestyle"), "health_guidance": _("Health guidance given"),
    },
    choice={
        "adherence.good": _("Good"), "adherence.partial": _("Partly"), "adherence.poor": _("Poor"),
        "symptoms.none": _("No discomfort"), "symptoms.mild": _("Mild discomfort"),
        "symptoms.worrying": _("Worrying symptoms"),
        "previous_effect.effective": _("Effective"), "previous_effect.partly": _("Partly effective"),
        "previous_effect.not_effective": _("Not effective"), "previous_effect.no_previous_call": _("No previous call"),
        "reexamined.yes": _("Re-examined"), "reexamined.booked": _("Booked"), "reexamined.no": _("Not yet"),
        "lifestyle.changed": _("Changed"), "lifestyle.planned": _("Planned"), "lifestyle.no": _("Not changed"),
        "lifestyle.good": _("Good"), "lifestyle.fair": _("Fair"), "lifestyle.poor": _("Poor"),
    },
    category={
        "symptoms": _("Worrying symptoms"), "dissatisfied": _("Dissatisfied"),
        # health-check findings (M5) and the G20 groups
        "lipids": _("Blood lipids"), "glucose": _("Blood glucose"), "blood_pressure": _("Blood pressure"),
        "liver": _("Liver function"), "nodule": _("Nodule"), "uric_acid": _("Uric acid"), "thyroid": _("Thyroid"),
        "all": _("All"), "reached": _("Reached"), "not_reached": _("Not reached"), "followed_up": _("Followed up"),
        "not_followed_up": _("Not followed up"),
    },
    department={
        "cardiology": _("Cardiology"), "endocrinology": _("Endocrinology"), "orthopaedics": _("Orthopaedics"),
        "general_surgery": _("General surgery"), "general_medicine": _("General medicine"),
        "paediatrics": _("Paediatrics"), "dermatology": _("Dermatology"), "chronic_care": _("Chronic disease care"),
        "health_management": _("Health management centre"), "nursing": _("Nursing department"),
    },
    role={"nurse": _("Nurse"), "doctor": _("Doctor")},
    report={
        "nurses": _("Callback rate per responsible nurse (M9)"),
        "departments": _("Satisfaction by department, low departments flagged (M8)"),
        "effect": _("Followed-up vs not-followed-up recovery by diagnosis (G20)"),
        "reexamination": _("Re-examination rate after health-check recall (M5)"),
    },
    column={
        "nurse": _("Responsible nurse"), "ward": _("Ward"), "head_nurse": _("Head nurse"), "action": _("Action"),
        "dissatisfied_tickets": _("Dissatisfied tickets"), "open_tickets": _("Open tickets"),
        "diagnosis": _("Diagnosis"), "group": _("Group"), "discharges": _("Discharges"), "readmitted": _("Readmitted"),
        "readmission_rate": _("Readmission rate"), "reviewed": _("Reviewed"),
        "review_recovery_mean": _("Mean recovery at review"), "followup_recovery_mean": _("Mean recovery at follow-up"),
        "finding": _("Finding"), "checks": _("Health checks"), "reexamined": _("Re-examined"),
        "reexamination_rate": _("Re-examination rate"), "by_outpatient": _("Seen in clinic"),
        "by_answer": _("Confirmed in the call"),
    },
)
