"""Plans: which follow-ups each finance trigger creates (F1–F4, F7), their windows, and who may do
them. G9: the advisor/agent on the trigger and everyone in the sales role are excluded from owning,
attempting and completing; the owner is a call-centre agent from `agents` (stable per subject) or
nobody (the unassigned queue a call-centre supervisor dispatches with `huifang reassign`)."""
from __future__ import annotations

import calendar as _calendar
import hashlib
from datetime import date, timedelta
from typing import Any

from huifang.core.plugin_api import History, PlanContext, PlanFunction, PlanItem, PlannedVisit, SubjectInfo, Window

from .settings import FinanceSettings

NAME = "finance"
SALES_ROLES = ["sales"]  # G9: insurance sales departments never run follow-ups (004 §4 art.8)


def add_months(d: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (01-31 + 1 month = 02-28)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, _calendar.monthrange(year, month)[1]))


def assign_owner(settings: FinanceSettings, subject: str, excluded: list[str],
                 history: History | None) -> str | None:
    """A call-centre agent from settings.agents, the same one for every follow-up of a subject; never
    the seller nor anyone registered in the sales role (G9). None = unassigned queue."""
    pool = []
    for code in settings.agents:
        if code in excluded:
            continue
        staff = history.staff(code) if history is not None else None
        if staff is not None and staff["role"] in SALES_ROLES:
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
        key=key, visit_type=visit_type, owner=assign_owner(s, ctx.subject.id, excluded, ctx.history),
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
    a, day = ctx.trigger.attributes, local_day(ctx)
    days = a.get("cooling_off_days") or settings_of(ctx).cooling_off_days
    last = day + timedelta(days=days)  # F4: the last day of the cooling-off period (犹豫期)
    # due: the last calling day inside the cooling-off period (a holiday end moves it earlier)
    w = ctx.scheduler.window(ctx.trigger.at, 0, days, cap=last)
    return [visit(ctx, "policy", "new_policy", w, a["agent"], a["branch"], ["F4"], policy=a.get("policy"),
                  product=a.get("product"), sales_channel=a["sales_channel"], cooling_off_days=days,
                  cooling_off_until=ctx.scheduler.end_of(last).isoformat())]


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
}
