"""Finance trigger kinds (public contract): the service events that create follow-ups, with their
attributes validated so a bad `--attr` names the field. Optional `advisor`/`agent` and `branch` on the
special kinds are inherited from the subject's contract or policy when left out (G9, F8)."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from huifang.core.plugin_api import CODE_SHAPED, TriggerKind

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]

KNOWN_CHANGES = ("commission_rate", "validity")  # F3: 变更签约佣金率、变更有效期
KNOWN_SALES_CHANNELS = ("agency", "bancassurance")  # F4: 个人代理 and 银行代理 are the regulated ones


class _Attrs(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ContractSigned(_Attrs):
    advisor: Text  # the wealth manager who sold it (G9: excluded)
    product: Text
    branch: Text
    contract: Text | None = None
    term_years: int | None = Field(None, ge=1, le=30)  # F2: yearly follow-ups for each contract year


class AgreementChanged(_Attrs):
    change: Text  # commission_rate | validity | any other change
    contract: Text | None = None
    advisor: Text | None = None
    branch: Text | None = None


class ContractTerminated(_Attrs):
    reason: Text | None = None
    contract: Text | None = None
    advisor: Text | None = None
    branch: Text | None = None


class ComplaintHandled(_Attrs):
    category: Text
    contract: Text | None = None
    policy: Text | None = None
    advisor: Text | None = None
    branch: Text | None = None


class PolicyIssued(_Attrs):
    agent: Text  # the insurance agent who sold it (G9: excluded)
    branch: Text
    sales_channel: Text  # agency | bancassurance | other
    cooling_off_days: int | None = Field(None, ge=1, le=60)  # F4: default 15
    policy: Text | None = None
    product: Text | None = None
    # F4: the day the client signed for the policy (回执签收): the cooling-off period runs from it;
    # unknown at issue, it is added later with `huifang trigger amend`
    receipt_date: date | None = None
    # F6 (004 §4 art.9(四)): the no-follow-up statement signed at purchase by the policyholder, the seller
    # and the sales manager (its reference, e.g. SM-2026-0001): the callback is closed as exempt
    no_followup_statement: Text | None = None


class PolicyEvent(_Attrs):
    """F7 policy service (保全), lapse (续期停效) and claim (理赔)."""

    policy: Text | None = None
    agent: Text | None = None
    branch: Text | None = None
    detail: Text | None = None


class AgentDeparted(_Attrs):
    agent: Text  # the departed agent (G9: still excluded from their old clients)
    policies: list[Text] = Field(min_length=1)
    branch: Text | None = None

    @field_validator("policies", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        """--attr policies=P1,P2 as well as a JSON list."""
        if isinstance(v, str):
            return [p for p in (x.strip() for x in v.split(",")) if p]
        return v


class CampaignTarget(_Attrs):
    """F3: one target of an approved special campaign; planned only by `huifang campaign approve`."""

    campaign: Text


KINDS = [
    TriggerKind(name="contract_signed", attributes=ContractSigned, rules=["F1", "F2", "G9"],
                codes=["advisor", "product", "branch", "contract", "term_years"],
                description="wealth-management contract signed: F1 check within 5 working days (≤ 1 month), "
                            "then F2 yearly follow-ups",
                example={"advisor": "fin-sh-s1", "product": "稳健理财1号", "branch": "sh-pudong",
                         "contract": "HT000001", "term_years": 3}),
    TriggerKind(name="agreement_changed", attributes=AgreementChanged, rules=["F3"],
                codes=["contract", "advisor", "branch"],
                code_patterns={"change": CODE_SHAPED},
                description="agreement changed (commission rate, validity, …): F3 confirmation",
                example={"change": "commission_rate", "contract": "HT000001", "advisor": "fin-sh-s1",
                         "branch": "sh-pudong"}),
    TriggerKind(name="contract_terminated", attributes=ContractTerminated, rules=["F3"],
                codes=["contract", "advisor", "branch"],
                description="contract terminated: F3 follow-up asking the reason",
                example={"reason": "资金另有用途", "contract": "HT000001", "advisor": "fin-sh-s1",
                         "branch": "sh-pudong"}),
    TriggerKind(name="complaint_handled", attributes=ComplaintHandled, rules=["F3", "G12"],
                codes=["contract", "policy", "advisor", "branch"],
                code_patterns={"category": CODE_SHAPED},
                description="complaint handled: F3 check that the solution was carried out",
                example={"category": "收费争议", "contract": "HT000001", "advisor": "fin-sh-s1",
                         "branch": "sh-pudong"}),
    TriggerKind(name="policy_issued", attributes=PolicyIssued, rules=["F4", "F6", "G9"],
                codes=["agent", "branch", "sales_channel", "cooling_off_days", "policy", "product", "receipt_date"],
                exemption_attribute="no_followup_statement",
                description="insurance policy issued: F4 follow-up inside the cooling-off period (default 15 days "
                            "from the receipt); F6: a statement signed at purchase exempts it",
                example={"agent": "fin-bj-s2", "branch": "bj-chaoyang", "sales_channel": "bancassurance",
                         "policy": "BD000001", "product": "年金险", "receipt_date": "2026-09-29"}),
    TriggerKind(name="policy_changed", attributes=PolicyEvent, rules=["F7"],
                codes=["policy", "agent", "branch"],
                description="policy service change (保全): F7 follow-up",
                example={"policy": "BD000001", "agent": "fin-bj-s2", "branch": "bj-chaoyang",
                         "detail": "变更受益人"}),
    TriggerKind(name="policy_lapsed", attributes=PolicyEvent, rules=["F7"],
                codes=["policy", "agent", "branch"],
                description="renewal lapsed (续期停效): F7 follow-up",
                example={"policy": "BD000001", "agent": "fin-bj-s2", "branch": "bj-chaoyang",
                         "detail": "第二期保费未缴"}),
    TriggerKind(name="claim_settled", attributes=PolicyEvent, rules=["F7"],
                codes=["policy", "agent", "branch"],
                description="claim settled (理赔): F7 follow-up",
                example={"policy": "BD000001", "agent": "fin-bj-s2", "branch": "bj-chaoyang",
                         "detail": "住院医疗理赔 8600 元"}),
    TriggerKind(name="special_campaign", attributes=CampaignTarget, rules=["F3"], codes=["campaign"],
                description="special campaign target (专项回访): planned only by 'huifang campaign approve'",
                example={"campaign": "ZX-2026-11"}),
    TriggerKind(name="agent_departed", attributes=AgentDeparted, rules=["F7", "G9"],
                codes=["agent", "policies", "branch"],
                description="agent left: F7 follow-up of the policies they sold",
                example={"agent": "fin-bj-s2", "policies": ["BD000001", "BD000002"], "branch": "bj-chaoyang"}),
]
