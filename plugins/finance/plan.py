"""Plans: which follow-ups each finance trigger creates (F1–F4, F7), their windows, and who may do
them. G9 (004 art.3, §4 art.5/8): conflict of interest is by person and organisation, not by role name:
the seller (advisor/agent on the trigger), everyone up the seller's reporting line, everyone in a
sales department (`sales_departments`, and the seller's own department unless it is the callback
department) and anyone in the sales role may neither own, attempt nor complete the follow-up; the owner
is a call-centre agent from `agents` (stable per subject) or nobody (the unassigned queue a call-centre
supervisor dispatches with `huifang reassign`, where the same rule refuses and records a conflicted one)."""
from __future__ import annotations

import calendar as _calendar
import hashlib
from datetime import date, timedelta
from typing import Any

from huifang.core.plugin_api import (
    History,
    PlanContext,
    PlanFunction,
    PlanItem,
    PlannedVisit,
    PluginError,
    StaffInfo,
    SubjectInfo,
    Window,
)

from .settings import FinanceSettings

NAME = "finance"
SALES_ROLES = ["sales"]  # G9: insurance sales departments never run follow-ups (004 §4 art.8)


def add_months(d: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (01-31 + 1 month = 02-28)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, _calendar.monthrange(year, month)[1]))


def reporting_line(history: History, code: str) -> list[str]:
    """Everyone above `code`, nearest first (cycles in a mistyped directory end the walk)."""
    line: list[str] = []
    staff = history.staff(code)
    while staff is not None and staff["reports_to"] and staff["reports_to"] not in [*line, code]:
        line.append(staff["reports_to"])
        staff = history.staff(staff["reports_to"])
    return line


def conflict(settings: FinanceSettings, staff: StaffInfo, seller: str | None, history: History) -> str | None:
    """G9: why `staff` has an interest in a follow-up of what `seller` sold, else None (module doc)."""
    who = staff["id"]
    if seller and who == seller:
        return f"G9: {who} sold it and may not follow up their own client"
    if staff["role"] in SALES_ROLES:
        return f"G9: {who} is in the {staff['role']} role: sales never run follow-ups (004 §4 art.8)"
    if staff["dept"] and staff["dept"] in settings.sales_departments:
        return f"G9: {who} is in the sales department {staff['dept']}: sales never run follow-ups (004 §4 art.8)"
    if not seller:
        return None
    if who in reporting_line(history, seller):
        return f"G9: {who} is in the seller {seller}'s reporting line and has an interest in the answer"
    sold_by = history.staff(seller)
    dept = sold_by["dept"] if sold_by else None
    if dept and staff["dept"] == dept and dept != settings.callback_department:
        return f"G9: {who} is in the seller {seller}'s department {dept}, which sold it"
    return None


def assign_owner(settings: FinanceSettings, subject: str, excluded: list[str],
                 history: History | None, seller: str | None = None) -> str | None:
    """A call-centre agent from settings.agents, the same one for every follow-up of a subject; never
    anyone with a G9 conflict (module doc). None = unassigned queue."""
    pool = []
    for code in settings.agents:
        if code in excluded:
            continue
        staff = history.staff(code) if history is not None else None
        if staff is not None and history is not None and conflict(settings, staff, seller, history):
            continue
        pool.append(code)
    if not pool:
        return None
    n = int(hashlib.sha256(subject.encode()).hexdigest(), 16)
    return pool[n % len(pool)]


def fallback_channel(settings: FinanceSettings, subject: SubjectInfo) -> str | None:
    """F5's last resort for this subject: a home visit (by a non-seller) if an address is known, else a
    letter with a reply-paid questionnaire; channels the subject opted out of (G7) are skipped."""
    if settings.fallback_channel == "auto":
        first = "home_visit" if (subject.attributes or {}).get("address") else "letter"
    else:
        first = settings.fallback_channel
    for c in (first, "letter" if first == "home_visit" else "home_visit"):
        if c not in subject.optouts:
            return c
    return None


def origin(history: History, subject: str, kinds: tuple[str, ...], key: str | None,
           value: str | None) -> dict[str, Any]:
    """Attributes of the subject's latest contract/policy trigger (the one named, if given), so special
    follow-ups inherit the seller (G9) and the branch (F8)."""
    rows: list[dict[str, Any]] = []
    for k in kinds:
        rows += history.triggers(subject, f"{NAME}.{k}")
    if value is not None:
        rows = [r for r in rows if (r.get("attributes") or {}).get(key) == value] or rows
    rows.sort(key=lambda r: r["occurred_at"])
    return dict(rows[-1].get("attributes") or {}) if rows else {}


def settings_of(ctx: PlanContext) -> FinanceSettings:
    s: FinanceSettings = ctx.settings  # the engine hands each plugin its own settings model
    return s


def local_day(ctx: PlanContext) -> date:
    return ctx.scheduler.local_day(ctx.trigger.at)


def visit(ctx: PlanContext, key: str, visit_type: str, window: Window, seller: str | None, branch: str | None,
          rules: list[str], **meta: Any) -> PlannedVisit:
    """One finance follow-up: G9 exclusions (the seller and the sales role), the call-centre owner, and the
    F5 fallback channel decided at planning."""
    s = settings_of(ctx)
    excluded = [seller] if seller else []
    return PlannedVisit(
        key=key, visit_type=visit_type, owner=assign_owner(s, ctx.subject.id, excluded, ctx.history, seller),
        owner_role="agent", excluded_staff=excluded, excluded_roles=list(SALES_ROLES),
        department=s.callback_department, branch=branch, channel="phone",
        meta={"seller": seller, "branch": branch, "fallback": fallback_channel(s, ctx.subject), "rules": rules,
              **{k: v for k, v in meta.items() if v is not None}},
        **window.fields())


def special(ctx: PlanContext) -> Window:
    """F3/F7: no frequency rule in seed 004; handled like an opinion, within N working days."""
    return ctx.scheduler.window(ctx.trigger.at, 0, settings_of(ctx).special_due_workdays, workdays=True)


# -- wealth management ----------------------------------------------------------------------------
def plan_contract_signed(ctx: PlanContext) -> list[PlanItem]:
    a, s, day = ctx.trigger.attributes, settings_of(ctx), local_day(ctx)
    # F1: within 5 working days of signing (make-up workdays count, holidays do not) and never
    # later than one calendar month after it.
    cap = add_months(day, s.new_contract_cap_months)
    first = ctx.scheduler.window(ctx.trigger.at, 0, s.new_contract_due_workdays, workdays=True, cap=cap)
    out: list[PlanItem] = [visit(ctx, "new", "new_contract", first, a["advisor"], a["branch"], ["F1"],
                                 product=a["product"], contract=a.get("contract"), cap=cap.isoformat())]
    # F2: at least once in every contract year, in the window before each anniversary.
    for year in range(1, (a.get("term_years") or s.continuing_years) + 1):
        anniversary = add_months(day, 12 * year)
        due_days = (anniversary - day).days
        w = ctx.scheduler.window(ctx.trigger.at, max(0, due_days - s.continuing_window_days), due_days,
                                 cap=anniversary)
        out.append(visit(ctx, f"year{year}", "continuing", w, a["advisor"], a["branch"], ["F2"],
                         product=a["product"], contract=a.get("contract"), contract_year=year))
    return out


def _contract_origin(ctx: PlanContext) -> dict[str, Any]:
    return origin(ctx.history, ctx.subject.id, ("contract_signed",), "contract", ctx.trigger.attributes.get("contract"))


def plan_agreement_changed(ctx: PlanContext) -> list[PlanItem]:
    a, o = ctx.trigger.attributes, _contract_origin(ctx)
    change = a["change"]
    return [visit(ctx, "change", "agreement_change", special(ctx), a.get("advisor") or o.get("advisor"),
                  a.get("branch") or o.get("branch"), ["F3"], change=change,
                  change_kind=change if change in ("commission_rate", "validity") else "other",
                  contract=a.get("contract") or o.get("contract"))]


def plan_contract_terminated(ctx: PlanContext) -> list[PlanItem]:
    a, o = ctx.trigger.attributes, _contract_origin(ctx)
    return [visit(ctx, "termination", "termination", special(ctx), a.get("advisor") or o.get("advisor"),
                  a.get("branch") or o.get("branch"), ["F3"], stated_reason=a.get("reason"),
                  contract=a.get("contract") or o.get("contract"))]


def plan_complaint_handled(ctx: PlanContext) -> list[PlanItem]:
    a, subject = ctx.trigger.attributes, ctx.subject.id
    if a.get("policy"):
        o = origin(ctx.history, subject, ("policy_issued",), "policy", a["policy"])
    elif a.get("contract"):
        o = _contract_origin(ctx)
    else:
        o = origin(ctx.history, subject, ("contract_signed", "policy_issued"), None, None)
    seller = a.get("advisor") or o.get("advisor") or o.get("agent")
    return [visit(ctx, "complaint", "complaint", special(ctx), seller, a.get("branch") or o.get("branch"),
                  ["F3", "G12"], category=a["category"], contract=a.get("contract"), policy=a.get("policy"))]


# -- insurance ----------------------------------------------------------------------------------------
def plan_policy_issued(ctx: PlanContext) -> list[PlanItem]:
    """F4: the cooling-off period (犹豫期) runs `days` from the day the client signed for the policy
    (回执签收, `receipt_date`; the issue day until it is known); the callback is due on its last calling
    day, and its window never opens before the policy was issued. When no calling slot is left inside
    the period (issued late, or the receipt entered late) the callback is still planned, at the first
    slot, with a warning: 100% of new policies are called back, even after the period (004 §4 art.7)."""
    a, sched = ctx.trigger.attributes, ctx.scheduler
    days = a.get("cooling_off_days") or settings_of(ctx).cooling_off_days
    receipt = date.fromisoformat(a["receipt_date"]) if a.get("receipt_date") else None
    start_day = receipt or local_day(ctx)
    last = start_day + timedelta(days=days)  # the last day of the cooling-off period
    # calls start once the policy exists and has been delivered (a receipt dated later: that day)
    start = max(ctx.trigger.at, sched.opening(receipt)) if receipt else ctx.trigger.at
    meta: dict[str, Any] = {"policy": a.get("policy"), "product": a.get("product"),
                            "sales_channel": a["sales_channel"], "cooling_off_days": days,
                            "cooling_off_from": start_day.isoformat(),
                            "cooling_off_until": sched.end_of(last).isoformat(),
                            "receipt_date": receipt.isoformat() if receipt else None}
    w = sched.window(start, 0, max(0, (last - sched.local_day(start)).days), cap=last) \
        if last >= sched.local_day(start) else None
    warnings: list[str] = []
    if w is None or w.open < start or w.due < start:
        slot = sched.next_slot(start)
        w = Window(open=slot, due=sched.end_of(sched.local_day(slot)), provisional=w.provisional if w else False)
        warnings.append(f"F4: no calling slot is left in the cooling-off period (until {last.isoformat()}): "
                        f"call at the first slot, {slot.isoformat()}; the callback counts as outside the "
                        f"cooling-off period")
    rules = ["F4", "F6"] if a.get("no_followup_statement") else ["F4"]
    planned = visit(ctx, "policy", "new_policy", w, a["agent"], a["branch"], rules, **meta)
    return [planned.model_copy(update={"warnings": warnings})] if warnings else [planned]


def _policy_event(key: str, visit_type: str) -> PlanFunction:
    """F7: policy service (保全), lapse (续期停效) and claim (理赔) share one plan."""
    def plan(ctx: PlanContext) -> list[PlanItem]:
        a = ctx.trigger.attributes
        o = origin(ctx.history, ctx.subject.id, ("policy_issued",), "policy", a.get("policy"))
        return [visit(ctx, key, visit_type, special(ctx), a.get("agent") or o.get("agent"),
                      a.get("branch") or o.get("branch"), ["F7"], policy=a.get("policy") or o.get("policy"),
                      detail=a.get("detail"))]

    return plan


def plan_agent_departed(ctx: PlanContext) -> list[PlanItem]:
    a = ctx.trigger.attributes
    o = origin(ctx.history, ctx.subject.id, ("policy_issued",), "policy", a["policies"][0])
    return [visit(ctx, "orphan", "orphan_policy", special(ctx), a["agent"], a.get("branch") or o.get("branch"),
                  ["F7", "G9"], policies=a["policies"])]


def plan_campaign(ctx: PlanContext) -> list[PlanItem]:
    """F3: special campaign targets are planned by an approved campaign only (campaign.py)."""
    raise PluginError(f"F3: special campaign follow-ups are planned only by an approved plan (huifang campaign "
                      f"request FILE, then review and approve), not by 'trigger {ctx.trigger.kind}'",
                      field="kind")


PLANS: dict[str, PlanFunction] = {
    "contract_signed": plan_contract_signed,
    "agreement_changed": plan_agreement_changed,
    "contract_terminated": plan_contract_terminated,
    "complaint_handled": plan_complaint_handled,
    "policy_issued": plan_policy_issued,
    "policy_changed": _policy_event("service", "policy_service"),
    "policy_lapsed": _policy_event("lapsed", "lapsed_policy"),
    "claim_settled": _policy_event("claim", "claim"),
    "agent_departed": plan_agent_departed,
    "special_campaign": plan_campaign,
}
