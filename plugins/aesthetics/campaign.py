"""A7 batch campaigns (批量回访): marketing follow-ups for more than `batch_threshold` (50) subjects run
only on an approved plan. The request names every required element (001 §(四)5: 缺一不可, 要素缺少,
返回重做); one missing is returned with the missing names. A complete request is reviewed (回访中心审核)
and approved (院领导审批) by two other people before any follow-up is planned; approval plans every
target's follow-up in one atomic commit, leaving out blacklisted clients (A9)."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from eventsourcing.domain import event

from huifang.core import clock
from huifang.core.contract import PlannedVisit, TriggerInfo
from huifang.core.domain import FollowUp, Staff, Subject, Trigger
from huifang.core.domain.base import Base, aggregate_uuid
from huifang.core.errors import HuifangError, NotFound, Refused

NAME = "aesthetics"
KIND = f"{NAME}.campaign"
# The elements a request must name (A7), in the order the rulebook lists them.
ELEMENTS = ("targets", "purchase_history", "goal", "owner", "schedule", "standard", "execution_rules")


class Campaign(Base):
    """Stable topics huifang:Campaign.<Event>. Status: returned -> requested -> reviewed -> approved."""

    class Requested(Base.Created):
        code: str
        title: str
        department: str | None
        plan: dict
        actor: str

    @event(Requested)
    def __init__(self, code: str, title: str, department: str | None, plan: dict, actor: str):
        self.code = code
        self.title = title
        self.department = department
        self.plan = dict(plan)
        self.requester = actor
        self.status = "requested"
        self.missing: list[str] = []
        self.returns: list[dict] = []
        self.reviewer: str | None = None
        self.approver: str | None = None
        self.followups: list[str] = []
        self.skipped: list[dict] = []

    @staticmethod
    def create_id(code: str) -> Any:
        return aggregate_uuid("campaign", code)

    class Resubmitted(Base.Event):
        title: str
        department: str | None
        plan: dict
        actor: str

    @event(Resubmitted)
    def resubmit(self, title: str, department: str | None, plan: dict, actor: str) -> None:
        self.title = title
        self.department = department
        self.plan = dict(plan)
        self.requester = actor
        self.status = "requested"
        self.missing = []

    class Returned(Base.Event):
        """Returned to the requester (返回重做): missing elements, or the reviewer's reason."""

        missing: list
        reason: str
        actor: str

    @event(Returned)
    def return_(self, missing: list, reason: str, actor: str) -> None:
        self.status = "returned"
        self.missing = list(missing)
        self.returns.append({"missing": list(missing), "reason": reason, "by": actor})

    class Reviewed(Base.Event):
        note: str
        actor: str

    @event(Reviewed)
    def review(self, note: str, actor: str) -> None:
        self.status = "reviewed"
        self.reviewer = actor

    class Approved(Base.Event):
        followups: list
        skipped: list
        actor: str

    @event(Approved)
    def approve(self, followups: list, skipped: list, actor: str) -> None:
        self.status = "approved"
        self.approver = actor
        self.followups = list(followups)
        self.skipped = list(skipped)


# -- the request file --------------------------------------------------------------------------------
def load_request(path: str) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise HuifangError(f"FILE: '{path}' does not exist")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise HuifangError(f"FILE: '{p.name}' is not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise HuifangError(f"FILE: '{p.name}' must hold one JSON object (see plugins/aesthetics/README.md)")
    data.setdefault("id", p.stem)
    return data


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


def _day(v: Any, field: str) -> date:
    try:
        return date.fromisoformat(str(v))
    except ValueError:
        raise HuifangError(f"schedule.{field}: '{v}' is not a date (YYYY-MM-DD)") from None


def validate_present(app: Any, plan: dict[str, Any], missing: list[str]) -> None:
    """Elements that are present must be right: known staff and subjects, dates in order."""
    code = str(plan.get("id") or "")
    if not code.strip() or any(c.isspace() for c in code) or len(code) > 60:
        raise HuifangError(f"id: '{code}' must be 1-60 characters without spaces")
    if "owner" not in missing and app.find(Staff, str(plan["owner"])) is None:
        raise HuifangError(f"owner: staff '{plan['owner']}' is not registered")
    for ex in plan.get("executors") or []:
        if app.find(Staff, str(ex)) is None:
            raise HuifangError(f"executors: staff '{ex}' is not registered")
    if "targets" not in missing:
        seen: set[str] = set()
        for t in _targets(plan):
            s = str(t.get("subject") or "")
            if not s:
                raise HuifangError("targets: every target needs a \"subject\" id")
            if s in seen:
                raise HuifangError(f"targets: subject '{s}' is listed twice")
            seen.add(s)
            if app.find(Subject, s) is None:
                raise HuifangError(f"targets: subject '{s}' does not exist")
    if "schedule" not in missing:
        start, end = _day(plan["schedule"]["start"], "start"), _day(plan["schedule"]["end"], "end")
        if end < start:
            raise HuifangError(f"schedule: end {end} is before start {start}")


def request(app: Any, plan: dict[str, Any], actor: str) -> tuple[Campaign, list[str], list[str]]:
    """Record a request; returns (campaign, missing, details). Missing elements -> Returned event."""
    if hasattr(app, "access"):  # roles (issue 8): a request changes records
        app.access.require(actor, "write", target=f"campaign {plan.get('id')}")
    missing, details = missing_elements(plan)
    validate_present(app, plan, missing)
    code = str(plan["id"])
    title = str(plan.get("title") or code)
    dept = plan.get("department")
    clean = json.loads(json.dumps(plan, ensure_ascii=False, default=str))
    existing = _find(app, code)
    if existing is not None:
        if existing.status != "returned":
            raise Refused(f"campaign {code} is already {existing.status}: only a returned request may be "
                          f"resubmitted")
        existing.resubmit(title=title, department=dept, plan=clean, actor=actor)
        campaign = existing
    else:
        campaign = Campaign(code=code, title=title, department=dept, plan=clean, actor=actor)
    if missing:
        campaign.return_(missing=missing, reason="required elements missing (A7: 缺一不可, 返回重做)",
                         actor=actor)
    app.commit(campaign)
    return campaign, missing, details


def _find(app: Any, code: str) -> Campaign | None:
    from eventsourcing.application import AggregateNotFoundError

    try:
        return app.repository.get(Campaign.create_id(code))
    except AggregateNotFoundError:
        return None


def load(app: Any, code: str) -> Campaign:
    c = _find(app, code)
    if c is None:
        raise NotFound(f"campaign '{code}' does not exist")
    return c


def _signer(app: Any, actor: str, roles: list[str], what: str) -> Staff:
    staff = app.find(Staff, actor) if actor not in ("cli", "system") else None
    if staff is None:
        raise HuifangError(f"--as: {what} needs a registered staff member (huifang --as STAFF_ID campaign ...)")
    if staff.role not in roles:
        raise Refused(f"A7: {actor} ({staff.role}) may not {what}; roles allowed: {', '.join(roles)}")
    return staff


def review(app: Any, code: str, actor: str, settings: Any, note: str = "",
           return_reason: str | None = None) -> Campaign:
    """回访中心审核: a reviewer other than the requester passes the request on, or returns it."""
    c = load(app, code)
    _signer(app, actor, settings.campaign_reviewer_roles, "review a campaign")
    if c.status != "requested":
        raise Refused(f"campaign {code} is {c.status}: only a complete request (requested) can be reviewed")
    if actor == c.requester:
        raise Refused(f"A7: {actor} requested campaign {code} and may not review it")
    if return_reason is not None:
        if not return_reason.strip():
            raise HuifangError("--return: give the reason the request goes back")
        c.return_(missing=[], reason=return_reason.strip(), actor=actor)
    else:
        c.review(note=note or "", actor=actor)
    app.commit(c)
    return c


def approve(app: Any, code: str, actor: str, settings: Any) -> tuple[Campaign, list[FollowUp], list[dict]]:
    """院领导审批: plans one batch follow-up per target (A3 batch window = the approved schedule)."""
    from .curves import client_grade
    from huifang.core.application import Lookup

    c = load(app, code)
    _signer(app, actor, settings.campaign_approver_roles, "approve a campaign")
    if c.status == "approved":
        raise Refused(f"campaign {code} is already approved ({len(c.followups)} follow-ups planned)")
    if c.status != "reviewed":
        raise Refused(f"campaign {code} is {c.status}: it must be reviewed first "
                      f"(huifang --as REVIEWER campaign review {code})")
    if actor in (c.requester, c.reviewer):
        raise Refused(f"A7: {actor} already {'requested' if actor == c.requester else 'reviewed'} campaign "
                      f"{code}; another person approves it")
    plan = c.plan
    now = clock.now()
    start = _day(plan["schedule"]["start"], "start")
    end = _day(plan["schedule"]["end"], "end")
    history = Lookup(app)
    changed: list[Any] = [c]
    followups: list[FollowUp] = []
    skipped: list[dict] = []
    executors = [str(e) for e in plan.get("executors") or []] or [str(plan["owner"])]
    for i, t in enumerate(_targets(plan)):
        sid = str(t["subject"])
        subj = app.load(Subject, sid, "subject")
        client = client_grade(history, sid, subj.attributes, settings)
        if client["blacklisted"]:  # A9: no marketing follow-ups
            skipped.append({"subject": sid, "reason": f"A9 blacklisted: {client['blacklist_reason']}"})
            continue
        sched = app.scheduler(NAME, subj.tz)
        today = sched.local_day(now)
        if end < today:
            raise Refused(f"campaign {code}: its schedule ended on {end}; resubmit with new dates")
        w = sched.window(now, max(0, (start - today).days), (end - today).days)
        tcode = f"{code}.{sid}"
        if app.find(Trigger, tcode) is not None:
            raise Refused(f"campaign {code}: trigger {tcode} already exists")
        info = TriggerInfo(id=tcode, kind=KIND, plugin=NAME, subject=sid, at=now, attributes={"campaign": code})
        pv = PlannedVisit(key="batch", visit_type="batch", owner=executors[i % len(executors)],
                          owner_role="campaign", department=c.department,
                          meta={"a3_kind": "batch", "campaign": code, "grade": client["grade"],
                                "goal": plan.get("goal"), "purchases": t.get("purchases")}, **w.fields())
        fu = app._new_followup(info, pv, subj, actor)
        trig = Trigger(code=tcode, kind=KIND, plugin=NAME, subject=sid,
                       occurred_at=now.replace(microsecond=0).isoformat(),
                       attributes={"campaign": code}, followups=[fu.code], skipped=[], actor=actor)
        followups.append(fu)
        changed += [trig, fu]
    c.approve(followups=[f.code for f in followups], skipped=skipped, actor=actor)
    app.commit(*changed)
    return c, followups, skipped


def campaign_json(c: Campaign) -> dict[str, Any]:
    plan = c.plan
    return {"id": c.code, "title": c.title, "department": c.department, "status": c.status,
            "requester": c.requester, "reviewer": c.reviewer, "approver": c.approver,
            "targets": len(_targets(plan)), "owner": plan.get("owner"), "goal": plan.get("goal"),
            "schedule": plan.get("schedule"), "missing": c.missing, "returns": c.returns,
            "followups": c.followups, "skipped": c.skipped}


def events(app: Any, c: Campaign) -> list[dict[str, Any]]:
    """The campaign's events (request, returns, review, approval) with actor and time."""
    out = []
    for e in app.events.get(c.id):
        data = {k: v for k, v in e.__dict__.items()
                if k not in ("originator_id", "originator_version", "timestamp", "originator_topic", "actor",
                             "plan", "followups")}
        out.append({"at": clock.iso(e.timestamp, app.config.huifang.timezone),
                    "event": type(e).__qualname__.split(".")[-1], "actor": getattr(e, "actor", None),
                    "data": data})
    return out
