"""Trigger kinds of the aesthetics clinic (A1, A2, A3, A6, A10): attribute models, validated on input."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from huifang.core.plugin_api import CODE_SHAPED, TriggerKind

DEPARTMENTS = ("surgery", "skin", "injectables", "dental", "tcm", "noninvasive")


class Consultation(BaseModel):
    """A1: consulted online/on site. Not came -> 未上门 follow-up; came, not bought -> 未成交 follow-up."""

    model_config = ConfigDict(extra="forbid")
    consultant: str  # online consultant (网电咨询) or on-site consultant (现场咨询)
    came: bool
    purchased: bool
    channel: Literal["online", "onsite"]
    member_specialist: str | None = None  # A5: a member-centre prospect belongs to the member specialist
    department: str | None = None  # the department of the project discussed
    item: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Consultation:
        if self.channel == "onsite" and not self.came:
            raise ValueError("channel onsite means the client came: set came=true or channel=online")
        if self.purchased and not self.came:
            raise ValueError("purchased=true needs came=true (a client buys at the clinic)")
        return self


class Procedure(BaseModel):
    """A2/A6: a treatment. The department picks the curve; a package loops session by session."""

    model_config = ConfigDict(extra="forbid")
    department: Literal["surgery", "skin", "injectables", "dental", "tcm", "noninvasive"]
    assistant: str  # 门诊医助: first responsible (A5)
    consultant: str  # 现场咨询: the client's personal consultant
    stitch_removal_day: int | None = Field(None, ge=2, le=60)
    # A2: whether the operation left stitches (None: as the procedure catalogue says for the item); a
    # surgery with stitches and no stitch_removal_day takes the catalogue's day, with a warning
    stitches: bool | None = None
    scab_days: list[int] | None = None
    package_sessions: int | None = Field(None, ge=1, le=100)
    session: int = Field(1, ge=1)
    interval_days: int | None = Field(None, ge=2, le=365)  # days to the next package session
    nurse: str | None = None  # ward nurse for the stitch-removal reminder (default: the assistant)
    member_specialist: str | None = None  # A5: member centre for emotional care
    doctor: str | None = None
    item: str | None = None
    amount: float | None = Field(None, ge=0)  # A9: spend (cash or card swipe) in yuan

    @field_validator("scab_days")
    @classmethod
    def _scabs(cls, v: list[int] | None) -> list[int] | None:
        if v is not None and (not v or any(not isinstance(d, int) or d < 1 or d > 90 for d in v)):
            raise ValueError("scab_days is a list of days 1..90 after the treatment, e.g. [3,7]")
        return sorted(set(v)) if v else v

    @model_validator(mode="after")
    def _consistent(self) -> Procedure:
        if self.stitches is False and self.stitch_removal_day is not None:
            raise ValueError("stitch_removal_day with stitches=false: drop one of them")
        if self.scab_days is not None and self.department != "skin":
            raise ValueError("scab_days applies to department skin only")
        if self.package_sessions is None and self.session != 1:
            raise ValueError("session needs package_sessions (the number of sessions in the package)")
        if self.package_sessions is not None and self.session > self.package_sessions:
            raise ValueError(f"session {self.session} is beyond package_sessions {self.package_sessions}")
        return self


class Experience(BaseModel):
    """A3/A10: an experience (体验) customer, grade 1 or 2."""

    model_config = ConfigDict(extra="forbid")
    grade: int
    specialist: str | None = None  # 客服专员 / member specialist who follows up
    item: str | None = None

    @field_validator("grade")
    @classmethod
    def _grade(cls, v: int) -> int:
        if v not in (1, 2):
            raise ValueError("grade is 1 (一级顾客) or 2 (二级顾客)")
        return v


class MembershipGranted(BaseModel):
    """A3: membership rights granted (会员权益): one follow-up within 15 days."""

    model_config = ConfigDict(extra="forbid")
    member_specialist: str | None = None
    card: str | None = None


class Activity(BaseModel):
    """A1 活动回访: tell one client about an expert day or promotion. Up to `batch_threshold` (50) clients
    per activity; more must be a batch campaign (A3, A7)."""

    model_config = ConfigDict(extra="forbid")
    activity: str
    owner: str
    department: str | None = None


class CampaignTarget(BaseModel):
    """A7: one target of an approved batch campaign; planned only by 'huifang campaign approve'."""

    model_config = ConfigDict(extra="forbid")
    campaign: str


KINDS = [
    TriggerKind(name="consultation", attributes=Consultation, rules=["A1", "A3", "A5"],
                codes=["consultant", "came", "purchased", "channel", "member_specialist", "department"],
                code_patterns={"item": CODE_SHAPED},
                description="consulted: not came -> 未上门 (online consultant), came not bought -> 未成交",
                example={"consultant": "ae-con1", "came": True, "purchased": False, "channel": "onsite",
                         "department": "skin", "item": "光子嫩肤"}),
    TriggerKind(name="procedure", attributes=Procedure, rules=["A2", "A3", "A5", "A6", "A9"],
                codes=["department", "assistant", "consultant", "stitch_removal_day", "stitches", "scab_days", "package_sessions", "session", "interval_days", "nurse", "member_specialist", "doctor", "amount"],
                code_patterns={"item": CODE_SHAPED},
                description="treatment: department curve (A2), package cycle then marketing (A6)",
                example={"department": "surgery", "assistant": "ae-surg-as1", "consultant": "ae-con1",
                         "stitch_removal_day": 7, "nurse": "ae-nurse1", "doctor": "dr-surg-1", "item": "双眼皮",
                         "amount": 12800}),
    TriggerKind(name="experience", attributes=Experience, rules=["A3", "A10"],
                codes=["grade", "specialist"],
                code_patterns={"item": CODE_SHAPED},
                description="experience customer: day 3 (grade window 7/15 d), then day 8-15",
                example={"grade": 1, "specialist": "ae-mem1", "item": "水光"}),
    TriggerKind(name="membership_granted", attributes=MembershipGranted, rules=["A3"],
                codes=["member_specialist"],
                description="membership rights follow-up within 15 days",
                example={"member_specialist": "ae-mem1", "card": "年卡"}),
    TriggerKind(name="activity", attributes=Activity, rules=["A1", "A3", "A7", "A9"],
                codes=["activity", "owner", "department"],
                description="activity/promotion notice (5-day marketing window); more than 50 -> campaign",
                example={"activity": "专家坐诊 10-15", "owner": "ae-con1", "department": "skin"}),
    TriggerKind(name="campaign", attributes=CampaignTarget, rules=["A7"],
                codes=["campaign"],
                description="batch campaign target: planned only by 'huifang campaign approve'",
                example={"campaign": "AE-CAMP-AUTUMN"}),
]
