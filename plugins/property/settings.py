"""[plugins.property] in huifang.toml. Defaults are the rulebook's (P1–P10, G10); the other
standards' values (30% repair sample, 1–2-month works window, 30% special/help services) are
reachable here by configuration, never by code change."""
from __future__ import annotations

from typing import Literal

from pydantic import field_validator, model_validator

from huifang.core.plugin_api import CHANNELS, Settings


class PropertySettings(Settings):
    # G6: the rulebook is silent for property; service-centre office hours, avoiding the midday break.
    calling_windows: list[str] = ["09:00-12:00", "14:00-18:00"]
    retention_years: int = 2  # G10: property records are kept 2 years (003 §6 4.7)

    # G17: every sample rate below is a floor per period (and stratum): tick tops a short period up
    sample_period: Literal["day", "week", "month"] = "month"

    # P1 complaints: 100% within 3 days of handling; supervisor re-check sample; major -> manager
    complaint_due_days: int = 3
    recheck_rate: float = 0.3  # customer-service supervisor re-checks >= 30% (000 §5, 003 §6)
    manager: str | None = None  # staff id of the manager (管理处经理) who follows up major complaints
    supervisor: str | None = None  # staff id of the customer-service supervisor (客服主管)

    # P2 repairs: dispatch centre follows up >= 90% within 3 days (000 §2/§5) — default
    repair_sample_rate: float = 0.9  # 0.3 = the other standard (000 §5, 003 §6)
    repair_open_days: int = 0  # works (003 §6): open 30, due 60
    repair_due_days: int = 3
    dispatcher: str | None = None  # staff id of the dispatch centre (指挥中心) agent
    engineering_dept: str = "engineering"  # a failed repair is re-dispatched by engineering

    # P3 home visits: twice a year until the household leaves
    home_visits_per_year: int = 2
    home_visit_horizon: int = 4  # periods planned ahead (4 half-years = 2 years), topped up on completion
    service_dept: str = "customer_service"  # problems raised in home visits / surveys

    # P4 yearly satisfaction survey of every household (one a year), and every problem raised is followed up
    survey_month: int = 12  # the season opens on the 1st of this month (003 §6: the questionnaire at year end)
    survey_due_day: int = 28  # … and closes on this day of it (returned by 12-28)
    survey_horizon: int = 2  # years planned ahead, topped up by every completed home visit or survey
    survey_channel: str = "phone"
    survey_problem_due_days: int = 7

    # P5 contracted (special) service: mid-term and after the end
    contract_window_days: int = 7
    contract_sample_rate: float = 1.0  # 0.3 per 000 §5 / 003 §6 (特约服务 30%)

    # P6 activities and publications: 10% within one month
    activity_sample_rate: float = 0.1
    activity_due_months: int = 1

    # P7 emergency help: within one week
    emergency_due_days: int = 7
    emergency_sample_rate: float = 1.0  # 0.3 per 000 §5 / 003 §6 (求助服务 30%)

    # P8 repeats within a quarter -> non-conformity
    repeat_complaints: int = 2  # same subject and category complained >= 2 times
    repeat_repairs: int = 3  # same unit and repair category >= 3 times

    # P9 renovation works (002 §5)
    renovation_first_day: int = 10  # ~10 days after start
    renovation_slack_days: int = 2  # "about": the window is day 8..12, mid-term ±2
    renovation_completion_due_days: int = 3
    renovation_dept: str = "renovation"
    warranty_months: int = 24  # 2-year decoration warranty
    warranty_check_months: int = 6  # a spot check every half year of the warranty
    warranty_check_days: int = 14  # window of each spot check
    warranty_sample_rate: float = 0.3  # spot checks (抽查): a sample, like the other P samples

    @field_validator("recheck_rate", "repair_sample_rate", "contract_sample_rate", "activity_sample_rate",
                     "emergency_sample_rate", "warranty_sample_rate")
    @classmethod
    def _rate(cls, v: float) -> float:
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"a sample rate is a share between 0 and 1 (e.g. 0.3 for 30%), not {v}")
        return v

    @field_validator("complaint_due_days", "repair_open_days", "repair_due_days", "survey_problem_due_days",
                     "contract_window_days", "emergency_due_days", "renovation_first_day",
                     "renovation_slack_days", "renovation_completion_due_days", "warranty_check_days",
                     "retention_years")
    @classmethod
    def _days(cls, v: int) -> int:
        if v < 0:
            raise ValueError(f"must be 0 or more, not {v}")
        return v

    @field_validator("home_visits_per_year", "home_visit_horizon", "activity_due_months", "repeat_complaints",
                     "repeat_repairs", "warranty_check_months", "survey_horizon")
    @classmethod
    def _positive(cls, v: int) -> int:
        if v < 1:
            raise ValueError(f"must be 1 or more, not {v}")
        return v

    @field_validator("home_visits_per_year")
    @classmethod
    def _divides_year(cls, v: int) -> int:
        if 12 % v:
            raise ValueError(f"must divide 12 months evenly (1, 2, 3, 4, 6 or 12), not {v}")
        return v

    @field_validator("survey_month")
    @classmethod
    def _month(cls, v: int) -> int:
        if not 1 <= v <= 12:
            raise ValueError(f"a month is 1 to 12, not {v}")
        return v

    @field_validator("survey_due_day")
    @classmethod
    def _day_of_month(cls, v: int) -> int:
        if not 1 <= v <= 28:
            raise ValueError(f"a day of the month 1 to 28 (every month has it), not {v}")
        return v

    @field_validator("survey_channel")
    @classmethod
    def _channel(cls, v: str) -> str:
        if v not in CHANNELS:
            raise ValueError(f"channel '{v}' is not one of {', '.join(CHANNELS)}")
        return v

    @model_validator(mode="after")
    def _repair_window(self) -> PropertySettings:
        if self.repair_due_days < self.repair_open_days:
            raise ValueError(f"repair_due_days ({self.repair_due_days}) is before repair_open_days "
                             f"({self.repair_open_days})")
        return self
