"""`[plugins.medical]` in huifang.toml: every default is the rulebook's (M1–M9, G6, G16, G20) and can be
overridden per hospital without a code change."""
from __future__ import annotations

from pydantic import field_validator, model_validator

from huifang.core.plugin_api import CHANNELS, SATISFACTION, Settings

# Per-disease recovery templates (M6, 000 §1 "根据疾病设定康复评分模板"): what the 0–10 recovery score
# is judged on, in the words the nurse uses. Keyed by diagnosis code; "surgery" is used for any surgical
# discharge without its own entry, "default" for everything else.
RECOVERY_TEMPLATES: dict[str, list[str]] = {
    "default": ["症状消失或减轻", "日常生活能力恢复", "按医嘱服药"],
    "surgery": ["伤口愈合良好，无红肿渗液", "疼痛可控", "活动能力恢复"],
    "CHD": ["静息及上楼时无胸痛胸闷", "血压、心率达标", "按时服药（抗血小板、他汀等）"],
    "heart_failure": ["平卧无气促", "双下肢无水肿", "体重稳定（±1 kg）"],
    "hypertension": ["家庭血压 < 140/90 mmHg", "无头痛头晕", "按时服用降压药"],
    "diabetes_t2": ["空腹血糖达标", "无低血糖发作", "饮食控制与足部护理到位"],
    "fracture": ["疼痛可控", "石膏或固定完好", "按医嘱负重"],
    "knee_replacement": ["伤口愈合", "膝关节屈曲达 90°", "可独立或借助助行器行走"],
    "appendectomy": ["伤口愈合", "饮食和排便正常", "无发热"],
    "hernia": ["伤口愈合", "咳嗽时无包块或疼痛", "恢复轻体力劳动"],
}
# The template's name as the nurse reads it on the call sheet (病种)
RECOVERY_TEMPLATE_NAMES: dict[str, str] = {
    "default": "通用", "surgery": "外科手术", "CHD": "冠心病", "heart_failure": "心力衰竭", "hypertension": "高血压",
    "diabetes_t2": "2型糖尿病", "fracture": "骨折", "knee_replacement": "膝关节置换", "appendectomy": "阑尾切除",
    "hernia": "疝修补",
}
# M5: the departments whose visit is the re-examination of a finding (a visit elsewhere is not)
REEXAM_DEPARTMENTS: dict[str, list[str]] = {
    "lipids": ["心内科", "内分泌科", "cardiology", "endocrinology"],
    "glucose": ["内分泌科", "endocrinology"],
    "blood_pressure": ["心内科", "高血压门诊", "cardiology"],
    "liver": ["消化内科", "肝病科", "感染科", "gastroenterology", "hepatology"],
    "nodule": ["甲状腺外科", "乳腺外科", "普外科", "胸外科", "超声科", "影像科", "thyroid_surgery", "breast_surgery",
               "general_surgery", "ultrasound", "radiology"],
    "kidney": ["肾内科", "nephrology"],
    "uric_acid": ["风湿免疫科", "肾内科", "rheumatology", "nephrology"],
    "thyroid": ["内分泌科", "甲状腺外科", "超声科", "endocrinology", "thyroid_surgery", "ultrasound"],
    "ecg": ["心内科", "cardiology"],
    "imaging": ["影像科", "radiology"],
}


class MedicalSettings(Settings):
    """[plugins.medical]. Defaults are the rulebook's; see plugins/medical/README.md for the table."""

    calling_windows: list[str] = ["10:00-12:00", "15:00-17:00"]  # G6 hospital default
    no_holidays: bool = True  # G6: no follow-ups on public holidays

    # M1 discharge: first follow-up one week after (002, 001), done within 10 days (000 §8)
    discharge_open_days: int = 7
    discharge_due_days: int = 10
    recovery_templates: dict[str, list[str]] = RECOVERY_TEMPLATES  # M6
    recovery_template_names: dict[str, str] = RECOVERY_TEMPLATE_NAMES  # M6: shown with the template

    # M2 outpatient first visit: specialist 7 days, basic department 10 days (002)
    outpatient_specialist_days: int = 7
    outpatient_basic_days: int = 10
    outpatient_window_days: int = 3  # days the call stays open after it is due to start
    outpatient_return_visits: bool = False  # M2 covers first visits (初诊); True follows up every visit
    outpatient_owner: str | None = None  # the dedicated caller (专职回访员, 002); None = shared queue

    # M3 hypertension: interval ladder in days, shortest first. Early phase = twice a week (3 days),
    # stable = weekly (7), lengthened on good answers up to "at least monthly" (30).
    hypertension_intervals: list[int] = [3, 7, 14, 30]
    hypertension_early_days: int = 3
    hypertension_stable_days: int = 7

    # M4 diabetes: from 1 week after discharge weekly through the first month, then every 1–2 months
    diabetes_first_call_days: int = 7
    diabetes_month_one_days: int = 30  # length of "the first month" of the curve
    diabetes_month_one_intervals: list[int] = [3, 7]  # weekly; poor adherence -> 3 days
    diabetes_month_one_entry_days: int = 7
    diabetes_intervals: list[int] = [30, 45, 60]  # every 1–2 months after month one
    diabetes_entry_days: int = 45  # first interval after month one, before the adherence adjustment

    chronic_window_share: float = 0.3  # a chronic call stays open for this share of its interval (≥ 1 day)
    chronic_channel: str = "phone"
    home_visit_after_missed: int = 2  # M4 "home visit when needed": after this many missed calls in a row
    chronic_department: str = "chronic_care"  # enrolments that name no department

    # M5 health-check recall: targeted call once the report is out, then a re-examination reminder
    health_check_department: str = "health_management"
    health_check_owner: str | None = None  # when the check names no responsible nurse; None = shared queue
    health_check_open_days: int = 3
    health_check_due_days: int = 10
    reexam_reminder_days: int = 30  # reminder call this long after the recall call if not yet re-examined
    reexam_window_days: int = 90  # an outpatient visit within this many days of the check is a re-examination
    # ... when it is the re-examination: it names the finding (`exams`) or is in a department listed here
    # for one of the findings, or in the health check's own department
    reexam_departments: dict[str, list[str]] = REEXAM_DEPARTMENTS

    # M8 department satisfaction: share of these levels among answers; below satisfaction_threshold -> flagged
    satisfied_levels: list[str] = ["满意", "较满意"]
    satisfaction_min_answers: int = 1

    # G20 effect study: outcomes of followed-up vs not-followed-up discharges of the same diagnosis
    readmission_days: int = 30  # re-discharged within this many days = readmitted
    review_days: int = 90  # outpatient review recovery_score within this many days of discharge

    @field_validator("hypertension_intervals", "diabetes_month_one_intervals", "diabetes_intervals")
    @classmethod
    def _ladder(cls, v: list[int]) -> list[int]:
        if not v or any(d < 1 for d in v) or sorted(set(v)) != v:
            raise ValueError("must be a non-empty list of increasing whole days, e.g. [3, 7, 14, 30]")
        return v

    @field_validator("satisfied_levels")
    @classmethod
    def _levels(cls, v: list[str]) -> list[str]:
        bad = [x for x in v if x not in SATISFACTION]
        if bad or not v:
            raise ValueError(f"levels must be among {' | '.join(SATISFACTION)}")
        return v

    @field_validator("chronic_channel")
    @classmethod
    def _channel(cls, v: str) -> str:
        if v not in CHANNELS:
            raise ValueError(f"'{v}' is not one of {', '.join(CHANNELS)}")
        return v

    @field_validator("chronic_window_share")
    @classmethod
    def _share(cls, v: float) -> float:
        if not 0 < v <= 1:
            raise ValueError("must be a share between 0 and 1, e.g. 0.3")
        return v

    @model_validator(mode="after")
    def _entries(self) -> MedicalSettings:
        pairs = (("hypertension_early_days", "hypertension_intervals"),
                 ("hypertension_stable_days", "hypertension_intervals"),
                 ("diabetes_month_one_entry_days", "diabetes_month_one_intervals"),
                 ("diabetes_entry_days", "diabetes_intervals"))
        for entry, ladder in pairs:
            if getattr(self, entry) not in getattr(self, ladder):
                raise ValueError(f"{entry} = {getattr(self, entry)} must be one of {ladder} "
                                 f"{getattr(self, ladder)}")
        if self.discharge_due_days < self.discharge_open_days:
            raise ValueError("discharge_due_days must not be before discharge_open_days")
        if self.health_check_due_days < self.health_check_open_days:
            raise ValueError("health_check_due_days must not be before health_check_open_days")
        if not 0 <= self.satisfaction_threshold <= 1:
            raise ValueError("satisfaction_threshold must be a share between 0 and 1, e.g. 0.9")
        return self
