"""[plugins.finance] in huifang.toml: every default is the rulebook's (seed 004) and can be overridden."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from huifang.core.plugin_api import Settings


class FinanceSettings(Settings):
    """Finance (wealth management + insurance) settings; the comments name the rule behind each default."""

    calling_windows: list[str] = ["10:00-11:00", "14:00-16:00"]  # G6: finance calling windows, workdays
    retention_years: int = 3  # G10/F9: records and recordings kept >= 3 years
    require_recording: bool = True  # G11/F9: every phone follow-up is recorded
    ticket_deadline_workdays: int = Field(5, ge=1)  # G12: finance opinions handled within 5 working days
    letter_dir: str = "finance-letters"  # F5: the print room's folder (`[delivery] letter = "finance_letters"`)

    # Who does the work (G9: never the seller; sales departments never run follow-ups).
    agents: list[str] = []  # call-centre agents owning follow-ups, stable per subject; [] = unassigned queue
    callback_department: str = "call_centre"  # the department that runs follow-ups (客户服务部门)
    management: str | None = None  # G13: staff id informed of major anomalies; None = the owner's supervisor
    anomaly_department: str = "wealth_management"  # G13: 总部理财管理部 gives the final opinion
    opinion_department: str = "customer_service"  # G12: opinions and complaints
    number_check_department: str = "business"  # F5: 业务部门 re-determines a failed phone number
    # G9: departments that sell (a seller's own department counts too, unless it is the callback department)
    sales_departments: list[str] = ["sales"]

    # Windows.
    new_contract_due_workdays: int = Field(5, ge=1)  # F1: within 5 working days of signing
    new_contract_cap_months: int = Field(1, ge=1)  # F1: and never later than one calendar month
    continuing_years: int = Field(3, ge=1, le=30)  # F2: yearly follow-ups planned when the term is not given
    continuing_window_days: int = Field(30, ge=1, le=365)  # F2: the yearly window opens this long before
    cooling_off_days: int = Field(15, ge=1, le=60)  # F4: 犹豫期 when the policy does not say (from the receipt)
    special_due_workdays: int = Field(5, ge=1)  # F3/F7: special follow-ups (no frequency rule in 004)
    # F3: a special campaign's plan is reviewed (回访管理部门) and approved (总部理财管理部) by these roles
    campaign_reviewer_roles: list[str] = ["supervisor", "manager", "admin"]
    campaign_approver_roles: list[str] = ["manager", "admin"]

    # Channel fallback (F5).
    phone_round_attempts: int = Field(3, ge=1)  # G5: a phone round is 3 failed attempts (or an invalid number)
    fallback_channel: Literal["auto", "home_visit", "letter"] = "auto"  # auto: home visit if an address is known
    max_fallback_share: float = Field(0.10, ge=0, le=1)  # F5: home visits + letters <= 10% of follow-ups
    # F5: visit types that may be closed as lost only after the whole ladder (100% callbacks, 004 §4 art.7)
    full_ladder_visit_types: list[str] = ["new_policy"]
    letter_reply_workdays: int = Field(10, ge=1, le=60)  # F5: a sent letter awaits its reply this long

    success_target: float = Field(0.90, ge=0, le=1)  # F4: new-policy success rate >= 90% (G15 formula)
    # F4/F8 rate denominators: `g15` = due − refused − cancelled before contact (004 §4 art.7, G15);
    # `due` = every follow-up due (应回访件总量, 004 §4 art.18). The default for every report, and per report.
    rate_denominator: Literal["g15", "due"] = "g15"
    report_denominators: dict[str, Literal["g15", "due"]] = {}  # e.g. {branches = "due"}
    recorded_lines: list[str] = []  # F9: lines with their own recording; [] = any named line is accepted
    require_language: bool = True  # F9: a phone conversation records its language (普通话, or 本地话 on request)
