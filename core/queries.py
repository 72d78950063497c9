"""What the CLI shows: follow-up, staff and subject JSON, the due queue, a record's history."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.application import AggregateNotFoundError

from . import clock
from .domain import FollowUp, Staff, Subject, Ticket, Trigger
from .domain.base import aggregate_uuid
from .errors import NotFound
from .queue_rows import QUEUE_LIMIT, effective_status, queue_json, queue_until
from .usecases.calendar import calendar_assumption

if TYPE_CHECKING:
    from .application import HuifangApp


def followup_json(app: HuifangApp, fu: FollowUp) -> dict[str, Any]:
    subj = app.find(Subject, fu.subject)
    tz = subj.tz if subj else None
    survey = app.survey(fu)
    now = clock.now()
    attempts = [{**{k: v for k, v in a.items() if k != "at"}, "at": clock.iso(a["at"], tz),
                 "next_attempt_at": clock.iso(a.get("next_attempt_at"), tz)} for a in fu.attempts]
    last_retry = fu.attempts[-1].get("next_attempt_at") if fu.attempts and not fu.closed else None
    data = _reveal(app, {
        "id": fu.code, "subject": fu.subject, "trigger": fu.trigger, "trigger_kind": fu.trigger_kind,
        "plugin": fu.plugin, "visit_type": fu.visit_type,
        "status": effective_status(fu.status, fu.window_open, fu.due, now),
        "window_open": clock.iso(fu.window_open, tz), "due": clock.iso(fu.due, tz),
        "provisional": fu.provisional,
        "owner": fu.owner, "channel": fu.channel, "department": fu.department, "branch": fu.branch,
        "attempts": attempts, "next_attempt_at": clock.iso(last_retry, tz),
        "answers": fu.answers, "closed_reason": fu.closed_reason, "closed_note": fu.closed_note,
        "closed_at": clock.iso(fu.closed_at, tz),
        "tickets": fu.tickets, "escalations": fu.escalations, "notifications": fu.notifications,
        "reminded": fu.reminded, "meta": {k: v for k, v in fu.meta.items() if k != "window_rule"},
        # what the call needs beside the survey: G4/M6 templates and scripts, the record fields (G4), the
        # warnings given at entry, a declared clinical exception (G6), and what a provisional deadline
        # assumes of a year without official holidays (G6)
        "guides": fu.meta.get("guides", []), "warnings": fu.meta.get("warnings", []),
        "clinical_exception": fu.meta.get("clinical_exception"),
    })
    # the survey's questions and record fields are the plugin's, never personal data: not walked for tokens
    return {**data, "survey": survey.public() if survey else [],
            "record_fields": survey.public_record() if survey else [],
            "calendar_assumption": calendar_assumption(app, fu, tz) if fu.provisional else None}


def _reveal(app: HuifangApp, data: Any) -> Any:
    """Personal data is stored as tokens (core/privacy.py): show it to whoever the command let read it."""
    return app.keyring.reveal_all(data)


def queue(app: HuifangApp, agent: str | Sequence[str] | None = None, on: date | None = None, overdue: bool = False,
          limit: int | None = QUEUE_LIMIT) -> list[dict[str, Any]]:
    """One page of the due queue, from the read side's index (formatted by core/queue_rows.py, which
    the read-only fast path of `huifang queue` shares)."""
    now = clock.now()
    tz = clock.zone(app.config.huifang.timezone)
    rows = app.read_side.queue(queue_until(now, tz, on), agent=agent, due_before=now if overdue else None,
                               limit=limit or None)
    return queue_json(rows, now, tz)


KINDS = (("followup", FollowUp), ("ticket", Ticket), ("subject", Subject), ("trigger", Trigger),
         ("staff", Staff))


def resolve(app: HuifangApp, ident: str) -> tuple[str, Any]:
    """An ID of a follow-up, ticket, subject, trigger or staff member ('kind:ID' disambiguates)."""
    wanted, _, code = ident.partition(":") if ":" in ident and ident.split(":")[0] in dict(KINDS) else ("", "", ident)
    for kind, _cls in KINDS:
        if wanted and kind != wanted:
            continue
        uid = aggregate_uuid(kind, code)
        try:
            agg: Any = app.repository.get(uid)
        except AggregateNotFoundError:
            continue
        return kind, agg
    raise NotFound(f"'{ident}' is not the ID of a follow-up, ticket, subject, trigger or staff member")


def subject_of(app: HuifangApp, ident: str) -> tuple[str, str | None]:
    """(kind:code, subject) of a history ID — the subject whose personal data it shows (G8)."""
    kind, agg = resolve(app, ident)
    if kind == "subject":
        return f"subject:{agg.code}", agg.code
    return f"{kind}:{agg.code}", getattr(agg, "subject", None)


def _event_row(e: Any, kind: str, code: str, tz: str | None) -> dict[str, Any]:
    data = {k: v for k, v in e.__dict__.items()
            if k not in ("originator_id", "originator_version", "timestamp", "originator_topic", "actor")}
    return {"at": clock.iso(e.timestamp, tz), "aggregate": f"{kind}:{code}", "version": e.originator_version,
            "event": type(e).__qualname__.split(".")[-1], "actor": getattr(e, "actor", None),
            "data": _plain(data)}


def history(app: HuifangApp, ident: str, as_of: datetime | None = None) -> dict[str, Any]:
    """Every event of the record (for a subject: also of its triggers, follow-ups and tickets), in order,
    and the state at `as_of`."""
    kind, agg = resolve(app, ident)
    tz = app.config.huifang.timezone
    members: list[tuple[str, str]] = [(kind, agg.code)]
    if kind == "subject":
        members += app.read_side.records_of(agg.code)
    rows: list[tuple[Any, int, dict[str, Any]]] = []
    states: dict[str, Any] = {}
    for k, code in members:
        uid = aggregate_uuid(k, code)
        version = None
        events: Any = app.events.get(uid)
        for i, e in enumerate(events):
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


HIDDEN = {"password_hash"}  # a staff password's argon2id hash: salted, yet nobody's to read in `history`


def _plain(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): ("(hidden)" if k in HIDDEN and x else _plain(x)) for k, x in v.items()}
    if isinstance(v, (list, tuple, set, frozenset)):
        return [_plain(x) for x in v]
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)


def staff_json(app: HuifangApp, code: str) -> dict[str, Any]:
    s = app.load(Staff, code, "staff")
    out = {"id": s.code, "name": s.name, "role": s.role, "dept": s.dept, "reports_to": s.reports_to,
           "ladder": app.ladder(code), "lock": s.lock, "rectification_reports": s.reports}
    if s.lock:
        out["unlock"] = app.unlockers(s)
    return out


def subject_json(app: HuifangApp, code: str) -> dict[str, Any]:
    s = app.load(Subject, code, "subject")
    return _reveal(app, {"id": s.code, "name": s.name, "phones": s.phones, "email": s.email, "tz": s.tz,
                         "attributes": s.attributes, "optouts": s.optouts, "exempt": s.exempt,
                         **({"erased": True} if getattr(s, "erased", False) else {})})
