"""A7 batch campaigns (批量回访): the clinic's policy for the engine's campaign flow (`huifang campaign`).

Marketing follow-ups for more than `batch_threshold` (50) subjects run only on an approved plan. The
request names every required element (001 §(四)5: 缺一不可, 要素缺少, 返回重做): targets, each target's
purchase history (date, item, reason), a quantified goal, owner, schedule, standard and execution rules;
one missing returns it with the missing names. Review (回访中心审核) and approval (院领导审批) are by
the roles in the settings; approval plans one `batch` follow-up per target (A3 batch window = the
approved schedule), leaving out blacklisted clients (A9)."""
from __future__ import annotations

from typing import Any

from huifang.core.plugin_api import History, PlannedVisit, Skip, SubjectInfo

from .curves import client_grade
from .settings import AestheticsSettings
from .surveys import kind_of

# The elements a request must name (A7), in the order the rulebook lists them.
ELEMENTS = ("targets", "purchase_history", "goal", "owner", "schedule", "standard", "execution_rules")


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip()) or (isinstance(v, (list, dict)) and not v)


def _targets(plan: dict[str, Any]) -> list[dict[str, Any]]:
    raw = plan.get("targets")
    if not isinstance(raw, list):
        return []
    return [t if isinstance(t, dict) else {"subject": t} for t in raw]


def missing_elements(plan: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(missing element names, details) of a request (A7: every element, none may be missing)."""
    missing: list[str] = []
    details: list[str] = []
    targets = _targets(plan)
    if not targets:
        missing.append("targets")
    else:
        bare = [str(t.get("subject")) for t in targets
                if _blank(t.get("purchases")) or not isinstance(t.get("purchases"), list) or any(
                    not isinstance(p, dict) or any(_blank(p.get(k)) for k in ("date", "item", "reason"))
                    for p in t["purchases"])]
        if bare:
            missing.append("purchase_history")
            details.append(f"purchase_history (date, item, reason) missing for {', '.join(bare[:5])}"
                           f"{' …' if len(bare) > 5 else ''}")
    goal = plan.get("goal")
    if isinstance(goal, dict):
        target = goal.get("target")
        if _blank(goal.get("metric")) or not isinstance(target, (int, float)) or isinstance(target, bool) \
                or target <= 0:
            missing.append("goal")
            details.append("goal must be quantified: {\"metric\": ..., \"target\": a number > 0}")
    else:
        missing.append("goal")
    if _blank(plan.get("owner")):
        missing.append("owner")
    sched = plan.get("schedule")
    if not isinstance(sched, dict) or _blank(sched.get("start")) or _blank(sched.get("end")):
        missing.append("schedule")
    for k in ("standard", "execution_rules"):
        if _blank(plan.get(k)):
            missing.append(k)
    order = {e: i for i, e in enumerate(ELEMENTS)}
    return sorted(missing, key=order.__getitem__), details


class CampaignRules:
    """What hook `huifang_campaign_policy` returns: the engine's campaign policy protocol."""

    kind = "campaign"  # trigger kind aesthetics.campaign: refused outside an approval (A7)
    visit_type = "batch"

    def __init__(self, settings: AestheticsSettings):
        self.settings = settings
        self.threshold = settings.batch_threshold
        self.reviewer_roles = list(settings.campaign_reviewer_roles)
        self.approver_roles = list(settings.campaign_approver_roles)

    def missing(self, plan: dict[str, Any]) -> tuple[list[str], list[str]]:
        return missing_elements(plan)

    def target(self, visit: PlannedVisit, target: dict[str, Any], plan: dict[str, Any], subject: SubjectInfo,
               history: History) -> PlannedVisit | Skip:
        """A9: a blacklisted client is left out; the others' follow-up carries their grade, the goal and
        their purchase history for the caller."""
        client = client_grade(history, subject, self.settings)
        if client["blacklisted"]:
            return Skip(key=visit.key, reason=f"A9 blacklisted: {client['blacklist_reason']}")
        meta = {"a3_kind": kind_of(visit.visit_type), **visit.meta, "grade": client["grade"],
                "goal": plan.get("goal"), "purchases": target.get("purchases")}
        return visit.model_copy(update={"meta": meta})
