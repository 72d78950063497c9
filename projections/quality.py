"""Quality sampling (G17): supervisors spot-check a reproducible sample of each month's completed
follow-ups (recording, answers) and record the result; reports show the pass rate per agent.

The sample is a pure function of (month, seed, follow-up codes) and the store's sampling key: each
completed follow-up gets the HMAC-SHA256, under that key, of "qa|month|seed|code" as its lottery number
and the lowest ceil(rate × N) are drawn, so the same command gives the same sample on every run against
the store, a late completion joins the draw without reshuffling the rest, and an agent who knows the
codes (and the default seed) still cannot tell which of their follow-ups will be checked.
"""
from __future__ import annotations

import hashlib
import hmac
import math
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, select
from sqlalchemy.engine import Connection

from huifang.core import clock
from huifang.core.domain import FollowUp
from huifang.core.domain.qa import RESULTS, QualityCheck
from huifang.core.errors import HuifangError, Refused
from huifang.core.privacy import label

from .core_views import followups, ts
from .engine import View

metadata = MetaData()
qa_checks = Table(
    "qa_checks", metadata,
    Column("followup", String(200), primary_key=True),
    Column("oid", String(36), nullable=False, unique=True),
    Column("agent", String(100)),
    Column("plugin", String(50), nullable=False),
    Column("month", String(7), nullable=False),
    Column("result", String(10), nullable=False),
    Column("note", String(2000)),
    Column("checked_by", String(100)),
    Column("checked_at", String(30), nullable=False),
    Column("checks", Integer, nullable=False),
)


class QualityView(View):
    name = "qa"
    version = 1
    metadata = metadata
    topics = frozenset({"huifang:QualityCheck.Recorded", "huifang:QualityCheck.Amended"})

    def handle(self, conn: Connection, e: Any, notification_id: int) -> None:
        name = type(e).__qualname__
        if name == "QualityCheck.Recorded":
            conn.execute(qa_checks.insert(), dict(
                followup=e.code, oid=str(e.originator_id), agent=e.agent, plugin=e.plugin, month=e.month, result=e.result, note=label(e.note),
                checked_by=e.actor, checked_at=ts(e.timestamp), checks=1))
        elif name == "QualityCheck.Amended":
            c = qa_checks.c
            conn.execute(qa_checks.update().where(c.oid == str(e.originator_id)).values(
                result=e.result, note=label(e.note), checked_by=e.actor, checked_at=ts(e.timestamp),
                checks=c.checks + 1))


def parse_month(text: str, field: str = "--month") -> tuple[date, date]:
    """'YYYY-MM' -> (first day, last day)."""
    try:
        first = datetime.strptime(str(text).strip(), "%Y-%m").date()
    except ValueError:
        raise HuifangError(f"{field}: '{text}' is not a month (YYYY-MM, e.g. 2026-10)") from None
    clock.in_range(first, field, text)
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


def parse_rate(text: str, field: str = "--rate") -> float:
    """A fraction in (0, 1] or a percentage ('10%')."""
    raw = str(text).strip()
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise HuifangError(f"{field}: '{text}' is not a rate (a fraction such as 0.1, or 10%)") from None
    if not 0 < value <= 1:
        raise HuifangError(f"{field}: {text} is outside (0, 1]; give a fraction such as 0.1 or a percentage such as 10%")
    return value


def lottery(key: bytes, month: str, seed: int, code: str) -> str:
    return hmac.new(key, f"qa|{month}|{seed}|{code}".encode(), hashlib.sha256).hexdigest()


def sample(app: Any, month: str, rate: float, seed: int = 0, plugin: str | None = None,
           agent: str | None = None) -> dict[str, Any]:
    """G17: the month's reproducible sample of completed follow-ups (completion date, local time)."""
    first, last = parse_month(month)
    tz = clock.zone(app.config.huifang.timezone)
    lo = ts(datetime.combine(first, time(0), tz))
    hi = ts(datetime.combine(last + timedelta(days=1), time(0), tz))
    app.projector.catch_up()
    f = followups.c
    q = select(followups).where(f.status == "completed", f.completed_at >= lo, f.completed_at < hi)
    if plugin:
        q = q.where(f.plugin == plugin)
    if agent:
        q = q.where(f.owner == agent)
    with app.projector.engine.connect() as conn:
        rows = conn.execute(q).all()
        checks = {r.followup: r for r in conn.execute(select(qa_checks).where(
            qa_checks.c.followup.in_([r.code for r in rows])))} if rows else {}
    key = first.strftime("%Y-%m")
    secret = app.sampling_key()  # G17: keyed, so the checked follow-ups cannot be foreseen
    ranked = sorted(rows, key=lambda r: (lottery(secret, key, seed, r.code), r.code))
    n = math.ceil(round(rate * len(rows), 9)) if rows else 0
    drawn = sorted(ranked[:n], key=lambda r: (r.completed_at, r.code))
    out = []
    for r in drawn:
        c = checks.get(r.code)
        rec = r.recording or {}
        out.append({
            "followup": r.code, "subject": r.subject, "agent": r.owner, "plugin": r.plugin,
            "visit_type": r.visit_type, "department": r.department, "channel": r.channel,
            "completed_at": clock.iso(datetime.fromisoformat(r.completed_at), str(tz)),
            "recording": rec.get("sha256") or (f"failed system, line {rec.get('line')}" if rec.get("failed_system")
                                               else None),
            "satisfaction": r.satisfaction, "result": c.result if c else None,
        })
    return {"month": key, "rate": rate, "seed": seed, "population": len(rows), "sample_size": n,
            "checked": sum(1 for x in out if x["result"]), "rows": out}


def record(app: Any, code: str, result: str, note: str | None, actor: str) -> QualityCheck:
    """Store a supervisor's check of a completed follow-up as an event (G17)."""
    if result not in RESULTS:
        raise HuifangError(f"--result: '{result}' is not one of {', '.join(RESULTS)}")
    note = (note or "").strip()
    if result == "fail" and not note:
        raise HuifangError("--note: say what failed the check (G17), e.g. 'no recording' or 'script not followed'")
    fu = app.load(FollowUp, code, "follow-up")
    if fu.status != "completed":
        raise Refused(f"G17: {code} is {fu.status}; only completed follow-ups are quality-checked")
    staff = app.access.registered(actor, "qa.record", f"follow-up {code}")  # refusals recorded (G8)
    doers = {fu.owner} | {a.get("actor") for a in fu.attempts}
    if actor in doers and actor not in ("cli", "system"):
        raise app.access.deny(actor, "qa.record", f"follow-up {code}",
                              f"G17: {actor} worked on {code} and cannot check it; a supervisor checks it (--as)")
    if staff is not None and staff.role == "agent":
        raise app.access.deny(actor, "qa.record", f"follow-up {code}", f"G17: {actor} is an agent; quality checks "
                                                                       f"are recorded by a supervisor or manager")
    app.access.require(actor, "qa.record", fu=fu)  # the policy: supervisors of the ladder, the department's managers
    tz = app.config.huifang.timezone
    month = fu.completed_at.astimezone(clock.zone(tz)).strftime("%Y-%m")
    note = app.keyring.seal_note(fu.subject, note) if note else note  # G8: a QA note is free text
    check = _find(app, code)
    if check is None:
        check = QualityCheck(code=code, agent=fu.owner, plugin=fu.plugin, month=month, result=result, note=note,
                             actor=actor)
    else:
        check.amend(result=result, note=note, actor=actor)
    app.commit(check)
    return check


def _find(app: Any, code: str) -> QualityCheck | None:
    from eventsourcing.application import AggregateNotFoundError

    from huifang.core.domain.base import aggregate_uuid

    try:
        return app.repository.get(aggregate_uuid("qa", code))
    except AggregateNotFoundError:
        return None


def check_json(check: QualityCheck, tz: str | None = None, keyring: Any = None) -> dict[str, Any]:
    """A check as shown to the supervisor who recorded it (`keyring` reveals the sealed note)."""
    note = keyring.reveal(check.note) if keyring is not None else label(check.note)
    return {"followup": check.code, "agent": check.agent, "plugin": check.plugin, "month": check.month,
            "result": check.result, "note": note, "checked_by": check.checked_by, "checks": check.checks,
            "checked_at": clock.iso(check.modified_on, tz)}
