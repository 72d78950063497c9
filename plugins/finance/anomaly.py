"""What a completed finance survey sets off (004 art.10).

G13: a major anomaly (signing or trading on the client's behalf, discretionary mandate, private fees,
false data, strong dissatisfaction; also a policyholder who did not sign, or a client who never agreed
to an agreement change) opens a `major` ticket to the wealth-management department, informs the seller's
direct leader (who interviews the seller) and escalates to management at once; the department's answer
(`huifang ticket resolve`) plans the second follow-up (二次回访).
G12: other findings are opinions handled within 5 working days, one ticket per finding.
"""
from __future__ import annotations

from typing import Any

from huifang.core.plugin_api import (
    Escalate,
    FollowUpInfo,
    History,
    Notify,
    OpenTicket,
    Reaction,
    TicketInfo,
    TicketRoute,
)

from .settings import FinanceSettings

# (answer key, answer that is a finding, ticket category, department)
OPINIONS = (
    ("product_explained", "no", "product_not_explained", "compliance"),  # F1
    ("risk_explained", "no", "risk_not_explained", "compliance"),  # F1
    ("reasonable_basis", "no", "advice_without_basis", "compliance"),  # F2
    ("risk_disclosed", "no", "risk_not_disclosed", "compliance"),  # F2
    ("promised_returns", "yes", "promised_returns", "compliance"),  # F2
    ("terms_understood", "no", "terms_not_understood", "compliance"),  # F4
    ("cooling_off_informed", "no", "cooling_off_not_explained", "compliance"),  # F4
    ("policy_understood", "no", "coverage_not_understood", "compliance"),  # F7
    ("resolved", "no", "complaint_unresolved", None),  # F3: back to the opinion department
    ("done_as_requested", "no", "policy_change_wrong", "policy_service"),  # F7
    ("new_contact_known", "no", "no_service_contact", "policy_service"),  # F7
    ("settled_as_expected", "no", "claim_disputed", "claims"),  # F7
)


def anomalies(answers: dict[str, Any]) -> list[str]:
    found: list[str] = []
    a = answers.get("anomaly")
    if a and a != "none":
        found.append(a)
    if answers.get("self_signed") == "no" or answers.get("change_confirmed") == "no":
        found.append("signed_on_behalf")  # 代客户签名: the client did not sign / agree themself
    return list(dict.fromkeys(found))


def ticket_route(ticket: TicketInfo, settings: FinanceSettings) -> TicketRoute:
    """G13: a major anomaly belongs to `management`, else the head of the wealth-management department
    (理财管理部 gives the final opinion); G12: an opinion to the head of the department it names. Either
    escalates up the callback agent's reporting line, then to `management` (engine default)."""
    if ticket.severity == "major":
        return TicketRoute(owner=settings.management, head_of=settings.anomaly_department)
    return TicketRoute(head_of=ticket.department)


def on_completed(followup: FollowUpInfo, answers: dict[str, Any], settings: FinanceSettings,
                 history: History) -> list[Reaction]:
    meta = followup.meta or {}
    seller, branch = meta.get("seller"), meta.get("branch")
    out: list[Reaction] = []
    major = anomalies(answers)
    if major:
        leader = None
        if seller:
            staff = history.staff(seller)
            leader = staff["reports_to"] if staff else None
        note = (f"G13 major anomaly: {', '.join(major)}; seller {seller or '-'}, branch {branch or '-'}: "
                f"leader interviews the seller, branch self-check, final opinion by {settings.anomaly_department}")
        out.append(OpenTicket(category=major[0], department=settings.anomaly_department, severity="major",
                              owner=settings.management, notify=[leader] if leader else [], note=note,
                              deadline_workdays=settings.ticket_deadline_workdays))
        out.append(Escalate(to=settings.management, reason=f"G13: major anomaly ({', '.join(major)}) reported "
                                                           f"on {followup.id}"))
    for key, bad, category, dept in OPINIONS:
        if answers.get(key) == bad:
            out.append(OpenTicket(category=category, department=dept or settings.opinion_department,
                                  note=f"G12: {key}={bad} (seller {seller or '-'}, branch {branch or '-'})",
                                  deadline_workdays=settings.ticket_deadline_workdays))
    if answers.get("satisfaction") == "不满意" and "strong_dissatisfaction" not in major:
        out.append(OpenTicket(category="dissatisfied", department=settings.opinion_department,
                              note=f"G12: subject dissatisfied (seller {seller or '-'})",
                              deadline_workdays=settings.ticket_deadline_workdays))
    if answers.get("wants_reinstatement") == "yes":  # a service request, not a problem
        out.append(Notify(to="policy_service", message=f"{followup.subject} asks to reinstate the lapsed policy"))
    return out
