"""[plugins.aesthetics] in huifang.toml: every default is the rulebook's (A2–A10) and overridable."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from huifang.core.plugin_api import Settings


class Windows(BaseModel):
    """A3 task windows (系统设置时间) in days, counted from the day the system prompts, that day included."""

    model_config = ConfigDict(extra="forbid")
    emotional: int = Field(2, ge=1)  # 术后感情关怀
    professional: int = Field(2, ge=1)  # 专业关怀
    revisit: int = Field(1, ge=1)  # 复诊提醒 / 确定设计方案提醒
    marketing: int = Field(5, ge=1)  # 营销回访 (more than batch_threshold subjects -> batch)
    batch: int = Field(30, ge=1)  # 批量回访: only on an approved plan (A7)
    experience_grade1: int = Field(7, ge=1)  # 体验顾客 一级
    experience_grade2: int = Field(15, ge=1)  # 体验顾客 二级
    membership: int = Field(15, ge=1)  # 会员权益回访


class SurgeryCurve(BaseModel):
    """A2 minor-surgery curve (001 整形医院回访体系 / 宏脉回访曲线), days after the operation."""

    model_config = ConfigDict(extra="forbid")
    dressing_day: int = Field(1, ge=1)  # 提醒来院换药
    care_day: int = Field(3, ge=1)  # 关心问候, 告知术后肿胀
    recovery_from: int = Field(7, ge=1)  # 第三次回访 7-15 天, 现场咨询
    recovery_to: int = Field(15, ge=1)
    recheck_day: int = Field(30, ge=1)  # 术后30天, 邀请来院复查
    result_day: int = Field(90, ge=1)  # 90 天了解效果
    # 拆线: the default removal day of a surgery whose trigger gives none and whose item is not in the
    # procedure catalogue (stitch_catalogue); the call the day before it is planned with a warning
    stitch_removal_day: int = Field(7, ge=2, le=60)


class AestheticsSettings(Settings):
    """Defaults are the rulebook's; see plugins/aesthetics/README.md for the table."""

    # G6 / clinics: open seven days a week, so weekends are working days and calendar days count;
    # official public holidays are off for calls (G6) except clinical steps (holiday_fixed_visits).
    calling_windows: list[str] = ["10:00-12:00", "15:00-17:00"]  # G6 hospital default
    no_holidays: bool = True
    open_weekends: bool = True
    holiday_fixed_visits: list[str] = ["dressing_reminder", "post_op_care", "stitch_reminder", "scab_check"]
    # A4: the overdue lock ladder is on for the clinic; days overdue count on working days (按工作时间核算)
    lock_ladder: bool = True
    lock_working_days: bool = True
    windows: Windows = Field(default_factory=Windows)
    surgery: SurgeryCurve = Field(default_factory=SurgeryCurve)
    # A2 procedure catalogue: the stitch-removal day (拆线) of each surgical item; 0 = no stitches (e.g.
    # 埋线). Used, with a warning, when a surgery trigger gives no stitch_removal_day.
    stitch_catalogue: dict[str, int] = {"双眼皮": 7, "全切双眼皮": 7, "眼袋": 5, "开眼角": 6, "隆鼻": 7,
                                        "鼻综合": 7, "吸脂": 7, "面部提升": 10, "隆胸": 10, "埋线双眼皮": 0}
    # A2 skin: follow-ups on the scab (结痂) and peel-off (脱痂) days when the trigger gives none
    skin_scab_days: list[int] = [3, 7]
    # A2 injectables: weekly result checks (周随访关注效果) and the top-up reminder (提醒补量)
    injectables_weeks: int = Field(4, ge=1)
    injectables_topup_day: int = Field(14, ge=1)
    # A2 dental / tcm / noninvasive (no curve in the sources): care, guidance, result
    other_curve_days: list[int] = [1, 3, 30]
    # A6 package cycle: days between two sessions when the trigger gives none
    package_interval_days: int = Field(28, ge=2)
    # A3/A7: more marketing subjects than this at once must be a batch campaign
    batch_threshold: int = Field(50, ge=1)
    campaign_reviewer_roles: list[str] = ["supervisor", "manager", "admin"]
    campaign_approver_roles: list[str] = ["manager", "admin"]
    # A5: the member centre's care desk (staff id) that finally executes emotional care, if any
    member_centre: str | None = None
    # A8: the customer-service supervisor who owns complaint-risk tickets and is told at once; None: the
    # head of complaint_department (staff add --head-of), never the agent's own supervisor by default
    complaint_supervisor: str | None = None
    complaint_department: str = "customer_service"
    complaint_deadline_hours: int = Field(24, ge=1)
    # A9 grades (003 §10): monthly spend A >= 1500, B 800-1500, C < 800; blacklist after six months < 150
    grade_a_monthly: float = 1500
    grade_b_monthly: float = 800
    grade_months: int = Field(3, ge=1)  # months averaged for the grade
    blacklist_monthly: float = 150
    blacklist_months: int = Field(6, ge=1)
    # A10 experience customers (003 §5): first 3 days after, second 8-15 days after
    experience_first_day: int = Field(3, ge=0)
    experience_second_from: int = Field(8, ge=1)
    experience_second_to: int = Field(15, ge=1)
    # A1 consultations: the system prompts the day after
    consultation_prompt_day: int = Field(1, ge=0)
    membership_prompt_day: int = Field(1, ge=0)
    activity_prompt_day: int = Field(0, ge=0)

    @field_validator("holiday_fixed_visits")
    @classmethod
    def _visits(cls, v: list[str]) -> list[str]:
        from .surveys import CLINICAL  # G6: only visit types that declare the clinical exception

        unknown = [x for x in v if x not in CLINICAL]
        if unknown:
            raise ValueError(f"{', '.join(unknown)} declare(s) no clinical exception (G6); "
                             f"choose among {', '.join(CLINICAL)}")
        return v

    @field_validator("stitch_catalogue")
    @classmethod
    def _catalogue(cls, v: dict[str, int]) -> dict[str, int]:
        bad = [k for k, d in v.items() if d != 0 and not 2 <= d <= 60]
        if bad:
            raise ValueError(f"{bad[0]}: give the stitch-removal day 2..60 after the operation, or 0 for no stitches")
        return v

    @field_validator("skin_scab_days", "other_curve_days")
    @classmethod
    def _days(cls, v: list[int]) -> list[int]:
        if not v or any(d < 1 for d in v):
            raise ValueError("give one or more days, each 1 or more")
        return sorted(set(v))
