"""Batch campaigns (批量回访): A7, and F3's special campaigns. A request names every required element
(缺一不可); one missing returns it to the requester with the missing names (返回重做). A complete request
is reviewed (回访中心审核) and approved (院领导审批) by two other people before anything is planned;
approval plans every target's follow-up in ONE commit.

The engine runs the flow; the plugin that owns the campaign contributes its policy (hook
`huifang_campaign_policy`): the required elements, the batch threshold, who may review and approve,
the trigger kind and visit type planned, and each target's visit (e.g. A9 leaves blacklisted clients out).

A request is a JSON object: `id`, `title`, `department`, `targets` ([{"subject": ...}, ...]), `owner`,
`executors` (staff ids, round robin; default the owner), `schedule` ({"start", "end"}: the batch
window), `plugin` (only when several enabled plugins run campaigns), and the plugin's own elements.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from . import clock
from .contract import PlannedVisit, Skip, TriggerInfo
from .domain import Campaign, Staff, Subject, Trigger
from .errors import HuifangError, NotFound, Refused
from .plugin_api.protocols import CampaignPolicy
from .usecases import plans

if TYPE_CHECKING:
    from .services import App

REQUESTED = "huifang:Campaign.Requested"


def policies(app: App) -> dict[str, CampaignPolicy]:
    """The campaign policy of every enabled plugin that runs campaigns, by plugin name."""
    out: dict[str, CampaignPolicy] = {}
    for name in app.registry.plugins:
        policy = app.registry.call(name, "huifang_campaign_policy", settings=app.settings(name))
        if policy is not None:
            out[name] = policy
    return out


def policy_of(app: App, plan: dict[str, Any]) -> tuple[str, CampaignPolicy]:
    """(plugin, policy) running a request: its `plugin`, or the one enabled plugin that runs campaigns."""
    found = policies(app)
    named = plan.get("plugin")
    if named is not None:
        if named not in found:
            raise HuifangError(f"plugin: '{named}' does not run campaigns here; plugins that do: "
                               f"{', '.join(found) or 'none'}")
        return str(named), found[str(named)]
    if not found:
        raise HuifangError("no enabled plugin runs batch campaigns in this deployment ([huifang] plugins)")
    # a policy with `named_only` (e.g. F3's special campaigns beside A7's batches) runs an unnamed request
    # only when no other plugin runs campaigns
    unnamed = {n: p for n, p in found.items() if not getattr(p, "named_only", False)} if len(found) > 1 else found
    if len(unnamed) != 1:
        raise HuifangError(f"plugin: several plugins run campaigns ({', '.join(found)}): name one with "
                           f"\"plugin\" in the request")
    name = next(iter(unnamed))
    return name, unnamed[name]


# -- the request -------------------------------------------------------------------------------------
def targets(plan: dict[str, Any]) -> list[dict[str, Any]]:
    raw = plan.get("targets")
    if not isinstance(raw, list):
        return []
    return [t if isinstance(t, dict) else {"subject": t} for t in raw]


def _day(v: Any, field: str) -> date:
    try:
        return date.fromisoformat(str(v))
    except ValueError:
        raise HuifangError(f"schedule.{field}: '{v}' is not a date (YYYY-MM-DD)") from None


def validate_present(app: App, plan: dict[str, Any], missing: list[str]) -> None:
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
        for t in targets(plan):
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


def request(app: App, plan: dict[str, Any], actor: str) -> tuple[Campaign, list[str], list[str]]:
    """Record a request; returns (campaign, missing, details). Missing elements -> Returned event."""
    app.access.require(actor, "write", target=f"campaign {plan.get('id')}")
    _, policy = policy_of(app, plan)
    missing, details = policy.missing(plan)
    validate_present(app, plan, missing)
    code = str(plan["id"])
    title = str(plan.get("title") or code)
    dept = plan.get("department")
    clean = json.loads(json.dumps(plan, ensure_ascii=False, default=str))
    existing = find(app, code)
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


def find(app: App, code: str) -> Campaign | None:
    found = app.find_by_id(Campaign.create_id(code))
    return found if isinstance(found, Campaign) else None


def load(app: App, code: str) -> Campaign:
    c = find(app, code)
    if c is None:
        raise NotFound(f"campaign '{code}' does not exist")
    return c


# -- review and approval -----------------------------------------------------------------------------
def _signer(app: App, actor: str, roles: Sequence[str], what: str) -> Staff:
    staff = app.find(Staff, actor) if actor not in ("cli", "system") else None
    if staff is None:
        raise HuifangError(f"{what} needs a registered staff member (huifang --as STAFF_ID campaign ...)",
                           field="actor")
    if staff.role not in roles:
        raise Refused(f"A7: {actor} ({staff.role}) may not {what}; roles allowed: {', '.join(roles)}")
    return staff


def review(app: App, code: str, actor: str, note: str = "", return_reason: str | None = None) -> Campaign:
    """回访中心审核: a reviewer other than the requester passes the request on, or returns it."""
    c = load(app, code)
    _, policy = policy_of(app, c.plan)
    _signer(app, actor, policy.reviewer_roles, "review a campaign")
    if c.status != "requested":
        raise Refused(f"campaign {code} is {c.status}: only a complete request (requested) can be reviewed")
    if actor == c.requester:
        raise Refused(f"A7: {actor} requested campaign {code} and may not review it")
    if return_reason is not None:
        if not return_reason.strip():
            raise HuifangError("give the reason the request goes back", field="return_reason")
        c.return_(missing=[], reason=return_reason.strip(), actor=actor)
    else:
        c.review(note=note or "", actor=actor)
    app.commit(c)
    return c


def approve(app: App, code: str, actor: str) -> tuple[Campaign, list[str], list[dict[str, Any]]]:
    """院领导审批: plans one follow-up per target, due by the end of the approved schedule (A3 batch
    window); returns (campaign, follow-up ids, targets left out)."""
    c = load(app, code)
    plugin, policy = policy_of(app, c.plan)
    _signer(app, actor, policy.approver_roles, "approve a campaign")
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
    kind = f"{plugin}.{policy.kind}"
    history = app.history
    changed: list[Any] = [c]
    planned: list[str] = []
    skipped: list[dict[str, Any]] = []
    executors = [str(e) for e in plan.get("executors") or []] or [str(plan["owner"])]
    for i, t in enumerate(targets(plan)):
        sid = str(t["subject"])
        subj = app.load(Subject, sid, "subject")
        sched = app.scheduler(plugin, subj.tz)
        today = sched.local_day(now)
        if end < today:
            raise Refused(f"campaign {code}: its schedule ended on {end}; resubmit with new dates")
        w = sched.window(now, max(0, (start - today).days), (end - today).days)
        draft = PlannedVisit(key=policy.visit_type, visit_type=policy.visit_type,
                             owner=executors[i % len(executors)], owner_role="campaign", department=c.department,
                             meta={"campaign": code}, **w.fields())
        visit = policy.target(draft, t, plan, plans.subject_info(subj, app.keyring), history)
        if isinstance(visit, Skip):
            skipped.append({"subject": sid, "reason": visit.reason})
            continue
        tcode = f"{code}.{sid}"
        if app.find(Trigger, tcode) is not None:
            raise Refused(f"campaign {code}: trigger {tcode} already exists")
        info = TriggerInfo(id=tcode, kind=kind, plugin=plugin, subject=sid, at=now, attributes={"campaign": code})
        fu = plans.new_followup(app, info, visit, subj, actor)
        trig = Trigger(code=tcode, kind=kind, plugin=plugin, subject=sid,
                       occurred_at=now.replace(microsecond=0).isoformat(),
                       attributes={"campaign": code}, followups=[fu.code], skipped=[], actor=actor)
        planned.append(fu.code)
        changed += [trig, fu]
    c.approve(followups=planned, skipped=skipped, actor=actor)
    app.commit(*changed)
    return c, planned, skipped


# -- reading -----------------------------------------------------------------------------------------
def as_json(c: Campaign) -> dict[str, Any]:
    plan = c.plan
    return {"id": c.code, "title": c.title, "department": c.department, "status": c.status,
            "requester": c.requester, "reviewer": c.reviewer, "approver": c.approver,
            "targets": len(targets(plan)), "owner": plan.get("owner"), "goal": plan.get("goal"),
            "schedule": plan.get("schedule"), "missing": c.missing, "returns": c.returns,
            "followups": c.followups, "skipped": c.skipped}


def events(app: App, c: Campaign) -> list[dict[str, Any]]:
    """The campaign's events (request, returns, review, approval) with actor and time."""
    out = []
    e: Any
    for e in app.events.get(c.id):
        data = {k: v for k, v in e.__dict__.items()
                if k not in ("originator_id", "originator_version", "timestamp", "originator_topic", "actor",
                             "plan", "followups")}
        out.append({"at": clock.iso(e.timestamp, app.config.huifang.timezone),
                    "event": type(e).__qualname__.split(".")[-1], "actor": getattr(e, "actor", None),
                    "data": data})
    return out


def codes(app: App) -> list[str]:
    """Every campaign ever requested, oldest first (campaigns are few: read from the log itself)."""
    out: list[str] = []
    start = 1
    while True:
        notes = app.recorder.select_notifications(start=start, limit=1000, topics=[REQUESTED])
        if not notes:
            return out
        requested: list[Any] = [app.mapper.to_domain_event(n) for n in notes]
        out += [e.code for e in requested]
        start = notes[-1].id + 1


def listing(app: App, status: str | None = None) -> list[dict[str, Any]]:
    """Campaigns and their state, by request time then id (`huifang campaign list`)."""
    found = [c for c in (find(app, code) for code in codes(app)) if c is not None]
    rows = []
    for c in sorted(found, key=lambda c: (c.created_on, c.code)):
        if status and c.status != status:
            continue
        rows.append({"id": c.code, "title": c.title, "department": c.department, "status": c.status,
                     "targets": len(targets(c.plan)), "owner": c.plan.get("owner"), "requester": c.requester,
                     "reviewer": c.reviewer, "approver": c.approver, "missing": list(c.missing),
                     "followups": len(c.followups), "skipped": len(c.skipped)})
    return rows
