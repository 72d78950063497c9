"""Sample floors (G17; the P1 supervisor re-check, P2 repair callbacks and every other keyed sample).

A plan's keyed draw (plugin_api.sampling) decides each trigger on its own, so in a small period the
share drawn can fall below the rate (10 complaints, 2 re-checks where P1 asks for 30 %). The rate is a
floor: at every `tick`, for each stratum of each period of each sampled purpose still open or closed
less than LOOKBACK ago, fewer than ceil(rate × population) sampled triggers is a shortfall, and the
engine plans the visits the plans kept on standby for the triggers left out, lowest keyed score
first, until the share is met. The choice depends only on the set of draws and the store's key: not on
the order triggers arrived in, and not predictable without the key. Each top-up is a
`SampleFloor.ToppedUp` event naming the rule, the population and the sample before it; the follow-up
carries `sample.topped_up`. A visit whose window has already passed (or has less than a calling day
left) gets a window of the same length from the top-up instant: nobody is held to a deadline that
passed before the follow-up existed.
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, select

from . import clock
from .contract import PlannedVisit
from .domain import FollowUp, SampleFloor, SamplingKey, Subject, Trigger
from .errors import ConflictError, HuifangError
from .plugin_api.sampling import KeyedSampler
from .plugin_api.views import SampleView, sample_draws
from .privacy import SAMPLING_KEY
from .usecases.plans import new_followup, trigger_info

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from .scheduling import Scheduler
    from .services import App

LOOKBACK = timedelta(days=31)  # periods that closed within this are still topped up


def store_key(app: App, actor: str = "system") -> bytes:
    """G17: the store's sampling key. The first use makes it and saves it at once, in its own
    transaction with a SamplingKey record naming its fingerprint, so a command that only reads (a QA
    sample) or fails afterwards never leaves an unsaved key behind; two processes making it at once
    conflict, and the loser reads the winner's."""
    ring = app.keyring
    for _ in range(8):
        if ring.recorder.fetch_key(SAMPLING_KEY) is not None:
            return ring.sampling_key()
        key = ring.sampling_key()
        try:
            app.commit(SamplingKey(fingerprint=KeyedSampler(key).fingerprint, actor=actor))  # actor: system
            return key
        except ConflictError:
            ring.forget_sampling_key()
    raise ConflictError("the store's sampling key is being made by another command: re-run this one")


def required(rate: float, population: int) -> int:
    """The floor: ceil(rate × population), free of float noise (0.3 × 10 is 3, not 4)."""
    return math.ceil(round(rate * population, 9))


def active(app: App) -> bool:
    """Whether an enabled plugin samples (it maintains the SampleView)."""
    return any(isinstance(v, SampleView) for name in app.registry.plugins
               for v in app.registry.call(name, "huifang_report_views") or [])


def shortfalls(app: App, now: datetime) -> list[dict[str, Any]]:
    """Every stratum of a recent period whose sampled share is below its rate."""
    since = (now.astimezone(clock.zone(app.config.huifang.timezone)).date() - LOOKBACK).isoformat()
    d = sample_draws.c

    def query(conn: Connection) -> list[Any]:
        return list(conn.execute(
            select(d.plugin, d.purpose, d.period, d.stratum, func.max(d.rule).label("rule"),
                   func.max(d.rate).label("rate"), func.count(func.distinct(d.trigger)).label("population"),
                   func.count(func.distinct(case((d.sampled, d.trigger)))).label("sampled"))
            .where(d.until >= since)
            .group_by(d.plugin, d.purpose, d.period, d.stratum)
            .order_by(d.plugin, d.purpose, d.period, d.stratum)))

    out = []
    for r in app.history.read(query):
        need = required(r.rate, r.population)
        if r.sampled < need:
            out.append({"plugin": r.plugin, "purpose": r.purpose, "period": r.period, "stratum": r.stratum,
                        "rule": r.rule, "rate": r.rate, "population": r.population, "sampled": r.sampled,
                        "required": need})
    return out


def candidates(app: App, group: dict[str, Any]) -> list[tuple[str, float]]:
    """(trigger, score) of the group's triggers left out with a visit on standby, lowest score first."""
    d = sample_draws.c
    where = and_(d.plugin == group["plugin"], d.purpose == group["purpose"], d.period == group["period"],
                 d.stratum == group["stratum"], d.sampled.is_(False), d.standby.is_(True))

    def query(conn: Connection) -> list[Any]:
        score = func.min(d.score).label("score")
        return list(conn.execute(select(d.trigger, score).where(where).group_by(d.trigger)
                                 .order_by(score, d.trigger)))

    return [(r.trigger, r.score) for r in app.history.read(query)]


def top_up(app: App, actor: str = "system") -> list[dict[str, Any]]:
    """Meet every shortfall (see the module docstring); returns one entry per trigger topped up."""
    if not active(app):
        return []
    now = clock.now()
    done: list[dict[str, Any]] = []
    for group in shortfalls(app, now):
        sampled = group["sampled"]
        for trigger, score in candidates(app, group):
            if sampled >= group["required"]:
                break
            codes = _top_up_one(app, group, trigger, score, sampled, now, actor)
            if codes:
                sampled += 1
                done.append({"trigger": trigger, "followups": codes, "rule": group["rule"],
                             "purpose": group["purpose"], "period": group["period"], "stratum": group["stratum"],
                             "population": group["population"], "required": group["required"]})
    return done


def _top_up_one(app: App, group: dict[str, Any], code: str, score: float, sampled: int, now: datetime,
                actor: str) -> list[str]:
    """Plan the standby visits of one trigger left out; [] when none can be planned any more (the
    subject erased, a visit refused, already planned): the next candidate is taken instead."""
    trigger = app.find(Trigger, code)
    subj = app.find(Subject, trigger.subject) if trigger is not None else None
    if trigger is None or subj is None or getattr(subj, "erased", False):
        return []
    topped = {"at": clock.iso(now), "population": group["population"], "sampled": sampled,
              "required": group["required"]}
    sched = app.scheduler(trigger.plugin, subj.tz)
    visits: list[PlannedVisit] = []
    key = ""
    for s in trigger.skipped:
        meta = s.get("meta") or {}
        rec = meta.get("sample")
        if not isinstance(rec, dict) or not isinstance(meta.get("standby"), dict) or \
                (rec.get("purpose"), rec.get("period"), rec.get("stratum") or "") != \
                (group["purpose"], group["period"], group["stratum"]):
            continue
        if f"{code}-{s['key']}" in trigger.followups or app.find(FollowUp, f"{code}-{s['key']}") is not None:
            continue
        key = rec.get("key") or ""
        planned = PlannedVisit.model_validate(meta["standby"])
        v = in_time(planned, sched, now)
        late = {"late": {"planned_due": clock.iso(planned.due)}} if v is not planned else {}
        visits.append(v.model_copy(update={"meta": {**v.meta, "sample": {**rec, "topped_up": topped, **late}}}))
    if not visits:
        return []
    info = trigger_info(trigger, app.keyring)
    try:
        fus = [new_followup(app, info, v, subj, actor) for v in visits]
    except HuifangError:  # e.g. G9: the standby owner has since become an interested party
        return []
    for fu in fus:
        trigger.add_followup(followup=fu.code, actor=actor)
    floor_code = SampleFloor.code_of(trigger.plugin, group["purpose"], group["period"], group["stratum"])
    floor = app.find_by_id(SampleFloor.create_id(floor_code))
    if not isinstance(floor, SampleFloor):
        floor = SampleFloor(code=floor_code, plugin=trigger.plugin, purpose=group["purpose"], period=group["period"],
                            stratum=group["stratum"], actor=actor)
    floor.top_up(trigger=code, followups=[f.code for f in fus], rule=group["rule"], rate=group["rate"],
                 population=group["population"], sampled=sampled, required=group["required"], score=score, key=key,
                 actor=actor)
    app.commit(floor, trigger, *fus)
    return [f.code for f in fus]


def in_time(v: PlannedVisit, sched: Scheduler, now: datetime) -> PlannedVisit:
    """The standby visit as planned while at least one whole calling day is left before its deadline;
    else a window of the same length opening now (the follow-up's `sample.late` keeps the planned deadline)."""
    first = sched.next_slot(now)
    day = sched.local_day(first)
    due_day = sched.local_day(v.due)
    if due_day > day or (due_day == day and first <= sched.opening(day)):
        return v
    length = max(0, (due_day - sched.local_day(v.window_open)).days)
    w = sched.window(now, 0, length)
    return v.model_copy(update=w.fields())
