"""Read side of the CLI: follow-up JSON, the due queue (from the indexed view), history."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from sqlalchemy import select

from . import clock
from .domain import FollowUp, Staff, Subject, Ticket, Trigger
from .domain.base import aggregate_uuid
from .errors import NotFound

OPEN = ("planned", "due", "overdue")


def effective_status(status: str, window_open: datetime, due: datetime, now: datetime) -> str:
    """The status at `now` even if `tick` has not run yet (tick records it as events)."""
    if status in ("planned", "due") and due < now:
        return "overdue"
    if status == "planned" and window_open <= now:
        return "due"
    return status


def followup_json(app: Any, fu: FollowUp) -> dict[str, Any]:
    subj = app.find(Subject, fu.subject)
    tz = subj.tz if subj else None
    survey = app.survey(fu)
    now = clock.now()
    attempts = [{**{k: v for k, v in a.items() if k != "at"}, "at": clock.iso(a["at"], tz),
                 "next_attempt_at": clock.iso(a.get("next_attempt_at"), tz)} for a in fu.attempts]
    last_retry = fu.attempts[-1].get("next_attempt_at") if fu.attempts and not fu.closed else None
    return _reveal(app, {
        "id": fu.code, "subject": fu.subject, "trigger": fu.trigger, "trigger_kind": fu.trigger_kind,
        "plugin": fu.plugin, "visit_type": fu.visit_type,
        "status": effective_status(fu.status, fu.window_open, fu.due, now),
        "window_open": clock.iso(fu.window_open, tz), "due": clock.iso(fu.due, tz),
        "provisional": fu.provisional,
        "owner": fu.owner, "channel": fu.channel, "department": fu.department, "branch": fu.branch,
        "attempts": attempts, "next_attempt_at": clock.iso(last_retry, tz),
        "survey": survey.public() if survey else [],
        "answers": fu.answers, "closed_reason": fu.closed_reason, "closed_at": clock.iso(fu.closed_at, tz),
        "tickets": fu.tickets, "escalations": fu.escalations, "notifications": fu.notifications,
        "reminded": fu.reminded, "meta": {k: v for k, v in fu.meta.items() if k != "window_rule"},
    })


def _reveal(app: Any, data: Any) -> Any:
    """Personal data is stored as tokens (core/privacy.py): show it to whoever the command let read it."""
    keyring = getattr(app, "keyring", None)
    return keyring.reveal_all(data) if keyring is not None else data


QUEUE_LIMIT = 50  # issue 9: one page of the queue; `huifang queue --limit N` (0 = all) for more


def queue(app: Any, agent: str | None = None, on: date | None = None, overdue: bool = False,
          limit: int | None = QUEUE_LIMIT) -> list[dict[str, Any]]:
    """One page of the due queue from the indexed view: only the columns shown are read (no JSON
    columns, no aggregates), and each stored UTC instant is converted once per distinct value."""
    from huifang.projections.core_views import followups as t, ts

    now = clock.now()
    tz = clock.zone(app.config.huifang.timezone)
    day = on or now.astimezone(tz).date()
    end = datetime.combine(day + timedelta(days=1), time(0), tz)
    app.projector.catch_up()  # a position read and the head: nothing to apply when the views are current
    c = t.c
    q = select(c.code, c.subject, c.plugin, c.visit_type, c.status, c.window_open, c.due, c.owner, c.channel,
               c.attempts, c.next_attempt_at, c.provisional).where(c.status.in_(OPEN), c.window_open < ts(end))
    if agent:
        q = q.where(c.owner == agent)
    if overdue:
        q = q.where(c.due < ts(now))
    q = q.order_by(c.due, c.code)
    if limit:
        q = q.limit(limit)
    with app.projector.engine.connect() as conn:
        rows = conn.execute(q).all()
    instants: dict[str, datetime] = {}
    shown: dict[str, str] = {}

    def instant(text: str) -> datetime:
        v = instants.get(text)
        if v is None:
            v = instants[text] = datetime.fromisoformat(text)
        return v

    def local(text: str | None) -> str | None:
        if text is None:
            return None
        v = shown.get(text)
        if v is None:
            v = shown[text] = instant(text).astimezone(tz).isoformat(timespec="seconds")
        return v

    out = []
    for r in rows:
        status = r.status
        if status != "overdue":
            status = effective_status(status, instant(r.window_open), instant(r.due), now)
        out.append({
            "id": r.code, "subject": r.subject, "plugin": r.plugin, "visit_type": r.visit_type,
            "status": status, "window_open": local(r.window_open), "due": local(r.due), "owner": r.owner,
            "channel": r.channel, "attempts": r.attempts, "next_attempt_at": local(r.next_attempt_at),
            "provisional": bool(r.provisional),
        })
    return out


KINDS = (("followup", FollowUp), ("ticket", Ticket), ("subject", Subject), ("trigger", Trigger),
         ("staff", Staff))


def resolve(app: Any, ident: str) -> tuple[str, Any]:
    """An ID of a follow-up, ticket, subject, trigger or staff member ('kind:ID' disambiguates)."""
    wanted, _, code = ident.partition(":") if ":" in ident and ident.split(":")[0] in dict(KINDS) else ("", "", ident)
    for kind, _cls in KINDS:
        if wanted and kind != wanted:
            continue
        uid = aggregate_uuid(kind, code)
        try:
            agg = app.repository.get(uid)
        except AggregateNotFoundError:
            continue
        return kind, agg
    raise NotFound(f"'{ident}' is not the ID of a follow-up, ticket, subject, trigger or staff member")


def _event_row(e: Any, kind: str, code: str, tz: str | None) -> dict[str, Any]:
    data = {k: v for k, v in e.__dict__.items()
            if k not in ("originator_id", "originator_version", "timestamp", "originator_topic", "actor")}
    return {"at": clock.iso(e.timestamp, tz), "aggregate": f"{kind}:{code}", "version": e.originator_version,
            "event": type(e).__qualname__.split(".")[-1], "actor": getattr(e, "actor", None),
            "data": _plain(data)}


def history(app: Any, ident: str, as_of: datetime | None = None) -> dict[str, Any]:
    """Every event of the record (for a subject: also of its triggers, follow-ups and tickets), in order,
    and the state at `as_of`."""
    kind, agg = resolve(app, ident)
    tz = app.config.huifang.timezone
    members: list[tuple[str, str]] = [(kind, agg.code)]
    if kind == "subject":
        from huifang.projections.core_views import followups, tickets, triggers

        app.projector.catch_up()
        with app.projector.engine.connect() as conn:
            members += [("trigger", r.code) for r in conn.execute(
                select(triggers.c.code).where(triggers.c.subject == agg.code))]
            members += [("followup", r.code) for r in conn.execute(
                select(followups.c.code).where(followups.c.subject == agg.code))]
            members += [("ticket", r.code) for r in conn.execute(
                select(tickets.c.code).where(tickets.c.subject == agg.code))]
    rows: list[tuple[Any, int, dict]] = []
    states: dict[str, Any] = {}
    for k, code in members:
        uid = aggregate_uuid(k, code)
        version = None
        for i, e in enumerate(app.events.get(uid)):
            if as_of is not None and e.timestamp > as_of:
                break
            rows.append((e.timestamp, i, _event_row(e, k, code, tz)))
            version = e.originator_version
        if version is not None:
            states[f"{k}:{code}"] = _state(app.repository.get(uid, version=version))
    rows.sort(key=lambda r: r[0])  # stable: same instant keeps record order
    return _reveal(app, {"id": ident, "kind": kind, "as_of": clock.iso(as_of, tz), "events": [r[2] for r in rows],
            "state": states.get(f"{kind}:{agg.code}"), "related": {k: v for k, v in states.items()
                                                                      if k != f"{kind}:{agg.code}"}})


def _state(agg: Any) -> dict[str, Any]:
    return _plain({k: v for k, v in agg.__dict__.items() if not k.startswith("_")})


def _plain(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set, frozenset)):
        return [_plain(x) for x in v]
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)


def staff_json(app: Any, code: str) -> dict[str, Any]:
    s = app.load(Staff, code, "staff")
    out = {"id": s.code, "name": s.name, "role": s.role, "dept": s.dept, "reports_to": s.reports_to,
           "ladder": app.ladder(code), "lock": s.lock, "rectification_reports": s.reports}
    if s.lock:
        out["unlock"] = app.unlockers(s)
    return out


def subject_json(app: Any, code: str) -> dict[str, Any]:
    s = app.load(Subject, code, "subject")
    return _reveal(app, {"id": s.code, "name": s.name, "phones": s.phones, "email": s.email, "tz": s.tz,
                         "attributes": s.attributes, "optouts": s.optouts, "exempt": s.exempt,
                         **({"erased": True} if getattr(s, "erased", False) else {})})
