"""F3 special campaigns (专项回访, 004 art.7(二)4 and art.8(3)): a department, branch or sales office
asks headquarters' wealth-management department for a campaign; it runs only on an approved plan naming
the questionnaire (内容/问卷), the channel (方式), the schedule (时间), the targets (对象) and the executors
(执行人员), with its owner. The engine's campaign flow (`huifang campaign`) runs request, review (回访
管理部门) and approval (总部理财管理部审批); approval plans one `special_campaign` follow-up per target,
G9 applying as to every finance follow-up: the seller of the target's latest contract or policy is
excluded, and an executor with a conflict is not given that target. A request names `"plugin":
"finance"` when another enabled plugin runs campaigns too."""
from __future__ import annotations

from typing import Any

from huifang.core.plugin_api import CHANNELS, History, PlannedVisit, Skip, SubjectInfo

from .plan import SALES_ROLES, conflict, origin
from .settings import FinanceSettings

# The elements a plan names (004 art.8(3)), in the rulebook's order.
ELEMENTS = ("questionnaire", "channel", "schedule", "targets", "executors", "owner")


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip()) or (isinstance(v, (list, dict)) and not v)


def missing_elements(plan: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(missing element names, details) of a request: every element is required."""
    missing = [e for e in ELEMENTS if e != "schedule" and _blank(plan.get(e))]
    details: list[str] = []
    sched = plan.get("schedule")
    if not isinstance(sched, dict) or _blank(sched.get("start")) or _blank(sched.get("end")):
        missing.append("schedule")
    channel = plan.get("channel")
    if "channel" not in missing and channel not in CHANNELS:
        missing.append("channel")
        details.append(f"channel '{channel}' is not one of {', '.join(CHANNELS)}")
    order = {e: i for i, e in enumerate(ELEMENTS)}
    return sorted(missing, key=order.__getitem__), details


class SpecialCampaigns:
    """What hook `huifang_campaign_policy` returns: the engine's campaign policy protocol."""

    kind = "special_campaign"  # trigger kind finance.special_campaign: refused outside an approval (F3)
    visit_type = "special_campaign"
    threshold = 0  # F3: every special campaign runs on an approved plan, whatever its size
    named_only = True  # beside A7's batches an unnamed request is not finance's

    def __init__(self, settings: FinanceSettings):
        self.settings = settings
        self.reviewer_roles = list(settings.campaign_reviewer_roles)
        self.approver_roles = list(settings.campaign_approver_roles)

    def missing(self, plan: dict[str, Any]) -> tuple[list[str], list[str]]:
        return missing_elements(plan)

    def target(self, visit: PlannedVisit, target: dict[str, Any], plan: dict[str, Any], subject: SubjectInfo,
               history: History) -> PlannedVisit | Skip:
        """The plan's channel and questionnaire; G9: the seller of the target's latest contract or policy
        is excluded and the target goes to the first executor without a conflict (none: the queue)."""
        o = origin(history, subject.id, ("contract_signed", "policy_issued"), None, None)
        seller = o.get("advisor") or o.get("agent")
        executors = [str(e) for e in plan.get("executors") or []]
        first = executors.index(visit.owner) if visit.owner is not None and visit.owner in executors else 0
        owner = None
        for code in executors[first:] + executors[:first]:
            staff = history.staff(code)
            if code != seller and (staff is None or not conflict(self.settings, staff, seller, history)):
                owner = code
                break
        meta = {**visit.meta, "questionnaire": plan.get("questionnaire"), "seller": seller,
                "branch": o.get("branch"), "rules": ["F3", "G9"], "fallback": None}
        return visit.model_copy(update={
            "owner": owner, "channel": plan["channel"], "excluded_staff": [seller] if seller else [],
            "excluded_roles": list(SALES_ROLES), "branch": o.get("branch"), "meta": meta})
