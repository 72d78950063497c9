"""Plans: which follow-ups each finance trigger creates (F1–F4, F7), their windows, and who may do
them. G9: the advisor/agent on the trigger and everyone in the sales role are excluded from owning,
attempting and completing; the owner is a call-centre agent from `agents` (stable per subject) or
nobody (the unassigned queue a call-centre supervisor dispatches with `huifang reassign`)."""
from __future__ import annotations

import calendar as _calendar
import hashlib
from datetime import date, timedelta
from typing import Any

from huifang.core.contract import PlannedVisit
from huifang.core.scheduling import Window

NAME = "finance"
SALES_ROLES = ["sales"]  # G9: insurance sales departments never run follow-ups (004 §4 art.8)


def add_months(d: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (01-31 + 1 month = 02-28)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, _calendar.monthrange(year, month)[1]))


def assign_owner(settings: Any, subject: str, excluded: list[str], history: Any) -> str | None:
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


def fallback_channel(settings: Any, subject: Any) -> str | None:
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


def origin(history: Any, subject: str, kinds: tuple[str, ...], key: str | None, value: str | None) -> dict:
    """Attributes of the subject's latest contract/policy trigger (the one named, if given), so special
    follow-ups inherit the seller (G9) and the branch (F8)."""
    rows: list[dict] = []
    for k in kinds:
        rows += history.triggers(subject, f"{NAME}.{k}")
    if value is not None:
        rows = [r for r in rows if (r.get("attributes") or {}).get(key) == value] or rows
    rows.sort(key=lambda r: r["occurred_at"])
    return dict((rows[-1].get("attributes") or {})) if rows else {}


class Planner:
    def __init__(self, trigger: Any, subject: Any, settings: Any, scheduler: Any, history: Any):
        self.trigger, self.subject, self.settings = trigger, subject, settings
        self.scheduler, self.history = scheduler, history
        self.a = trigger.attributes
        self.day = scheduler.local_day(trigger.at)

    def visit(self, key: str, visit_type: str, window: Window, seller: str | None, branch: str | None,
              rules: list[str], **meta: Any) -> PlannedVisit:
        excluded = [seller] if seller else []
        return PlannedVisit(
            key=key, visit_type=visit_type, owner=assign_owner(self.settings, self.subject.id, excluded, self.history),
            owner_role="agent", excluded_staff=excluded, excluded_roles=list(SALES_ROLES),
            department=self.settings.callback_department, branch=branch, channel="phone",
            meta={"seller": seller, "branch": branch, "fallback": fallback_channel(self.settings, self.subject),
                  "rules": rules,
                  **{k: v for k, v in meta.items() if v is not None}},
            **window.fields())

    def special(self) -> Window:
        """F3/F7: no frequency rule in seed 004; handled like an opinion, within N working days."""
        return self.scheduler.window(self.trigger.at, 0, self.settings.special_due_workdays, workdays=True)

    # -- wealth management ------------------------------------------------------------------------
    def contract_signed(self) -> list:
        a, s = self.a, self.settings
        # F1: within 5 working days of signing (make-up workdays count, holidays do not) and never
        # later than one calendar month after it.
        cap = add_months(self.day, s.new_contract_cap_months)
        first = self.scheduler.window(self.trigger.at, 0, s.new_contract_due_workdays, workdays=True, cap=cap)
        out = [self.visit("new", "new_contract", first, a["advisor"], a["branch"], ["F1"], product=a["product"],
                          contract=a.get("contract"), cap=cap.isoformat())]
        # F2: at least once in every contract year, in the window before each anniversary.
        for year in range(1, (a.get("term_years") or s.continuing_years) + 1):
            anniversary = add_months(self.day, 12 * year)
            due_days = (anniversary - self.day).days
            w = self.scheduler.window(self.trigger.at, max(0, due_days - s.continuing_window_days), due_days,
                                      cap=anniversary)
            out.append(self.visit(f"year{year}", "continuing", w, a["advisor"], a["branch"], ["F2"],
                                  product=a["product"], contract=a.get("contract"), contract_year=year))
        return out

    def _contract_origin(self) -> dict:
        return origin(self.history, self.subject.id, ("contract_signed",), "contract", self.a.get("contract"))

    def agreement_changed(self) -> list:
        o = self._contract_origin()
        change = self.a["change"]
        return [self.visit("change", "agreement_change", self.special(), self.a.get("advisor") or o.get("advisor"),
                           self.a.get("branch") or o.get("branch"), ["F3"], change=change,
                           change_kind=change if change in ("commission_rate", "validity") else "other",
                           contract=self.a.get("contract") or o.get("contract"))]

    def contract_terminated(self) -> list:
        o = self._contract_origin()
        return [self.visit("termination", "termination", self.special(), self.a.get("advisor") or o.get("advisor"),
                           self.a.get("branch") or o.get("branch"), ["F3"], stated_reason=self.a.get("reason"),
                           contract=self.a.get("contract") or o.get("contract"))]

    def complaint_handled(self) -> list:
        a = self.a
        if a.get("policy"):
            o = origin(self.history, self.subject.id, ("policy_issued",), "policy", a["policy"])
        elif a.get("contract"):
            o = self._contract_origin()
        else:
            o = origin(self.history, self.subject.id, ("contract_signed", "policy_issued"), None, None)
        seller = a.get("advisor") or o.get("advisor") or o.get("agent")
        return [self.visit("complaint", "complaint", self.special(), seller, a.get("branch") or o.get("branch"),
                           ["F3", "G12"], category=a["category"], contract=a.get("contract"),
                           policy=a.get("policy"))]

    # -- insurance ------------------------------------------------------------------------------------
    def policy_issued(self) -> list:
        a = self.a
        days = a.get("cooling_off_days") or self.settings.cooling_off_days
        last = self.day + timedelta(days=days)  # F4: the last day of the cooling-off period (犹豫期)
        # due: the last calling day inside the cooling-off period (a holiday end moves it earlier)
        w = self.scheduler.window(self.trigger.at, 0, days, cap=last)
        return [self.visit("policy", "new_policy", w, a["agent"], a["branch"], ["F4"], policy=a.get("policy"),
                           product=a.get("product"), sales_channel=a["sales_channel"], cooling_off_days=days,
                           cooling_off_until=self.scheduler.end_of(last).isoformat())]

    def _policy_event(self, key: str, visit_type: str) -> list:
        a = self.a
        o = origin(self.history, self.subject.id, ("policy_issued",), "policy", a.get("policy"))
        return [self.visit(key, visit_type, self.special(), a.get("agent") or o.get("agent"),
                           a.get("branch") or o.get("branch"), ["F7"], policy=a.get("policy") or o.get("policy"),
                           detail=a.get("detail"))]

    def policy_changed(self) -> list:
        return self._policy_event("service", "policy_service")

    def policy_lapsed(self) -> list:
        return self._policy_event("lapsed", "lapsed_policy")

    def claim_settled(self) -> list:
        return self._policy_event("claim", "claim")

    def agent_departed(self) -> list:
        a = self.a
        o = origin(self.history, self.subject.id, ("policy_issued",), "policy", a["policies"][0])
        return [self.visit("orphan", "orphan_policy", self.special(), a["agent"], a.get("branch") or o.get("branch"),
                           ["F7", "G9"], policies=a["policies"])]


def plan(trigger: Any, subject: Any, settings: Any, scheduler: Any, history: Any) -> list:
    bare = trigger.kind.split(".", 1)[1]
    return getattr(Planner(trigger, subject, settings, scheduler, history), bare)()
