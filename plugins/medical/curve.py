"""Chronic-disease curves: hypertension check-ins (M3) and the diabetes curve (M4).

A curve is a chain of calls on one trigger (keys c1, c2, …; a discharge with a condition uses its
discharge follow-up as call 1). Only the NEXT call is ever planned — the horizon is one call — so each
answer can set the next interval:

* every interval is a rung of a ladder of days (settings); a worrying answer (poor adherence, not in
  target, worrying symptoms) moves one rung shorter, a good one (good adherence, nothing worrying) one
  rung longer, anything else keeps the rung — never outside the ladder (the rule's bounds);
* diabetes (M4): weekly in month one (poor adherence -> 3 days), then every 1–2 months (30/45/60 days,
  entering at 45 adjusted by the answer);
* hypertension (M3): early phase twice a week (3 days), stable weekly (7), lengthened on good answers
  up to 30 days ("at least monthly for life"); blood pressure not in target -> back to the early phase;
* a call that cannot be made (3 failed attempts, G5) does not end the curve: the next call is planned
  at the same interval from the missed call's window, and after `home_visit_after_missed` missed calls
  in a row it becomes a home visit (M4 "home visit when needed"). A refusal ends the curve (G7).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from huifang.core.plugin_api import FollowUpInfo, PlannedVisit, Scheduler

from .settings import MedicalSettings
from .surveys import CHRONIC_VISIT

CONCERN, SAME, GOOD = "shorter", "same", "longer"


@dataclass(frozen=True)
class Step:
    interval: int  # days from the anchor (last contact) to the next call
    phase: str  # diabetes: month_one | maintenance; hypertension: early | stable


def verdict(answers: dict[str, Any] | None) -> str:
    """How an answer moves the interval: poor adherence / not in target / worrying -> shorter (M4)."""
    if not answers:
        return SAME
    worrying = answers.get("symptoms") == "worrying" or answers.get("controlled") == "no"
    if answers.get("adherence") == "poor" or worrying:
        return CONCERN
    if answers.get("adherence") == "good":
        return GOOD
    return SAME


def move(ladder: list[int], current: int, how: str) -> int:
    """One rung shorter / longer / the same, clamped to the ladder (the rule's bounds)."""
    idx = min(range(len(ladder)), key=lambda i: (abs(ladder[i] - current), i))
    if how == CONCERN:
        idx = max(0, idx - 1)
    elif how == GOOD:
        idx = min(len(ladder) - 1, idx + 1)
    return ladder[idx]


def first_step(condition: str, phase: str, settings: MedicalSettings) -> Step:
    """The first call of an enrolment (chronic_enrolment.phase)."""
    if condition == "hypertension":
        days = settings.hypertension_early_days if phase == "early" else settings.hypertension_stable_days
        return Step(days, _ht_phase(days, settings))
    if phase == "early":
        return Step(settings.diabetes_first_call_days, "month_one")  # M4: from 1 week after
    return Step(settings.diabetes_entry_days, "maintenance")


def next_step(meta: dict[str, Any], answers: dict[str, Any] | None, anchor: date, start: date,
              settings: MedicalSettings) -> Step:
    """The interval after a call with curve `meta`, answered with `answers` (None = missed), made on local
    day `anchor`, of a curve that started on local day `start`."""
    how = verdict(answers)
    current = int(meta.get("interval_days") or 7)
    if meta["curve"] == "hypertension":
        ladder = settings.hypertension_intervals
        days = ladder[0] if answers and answers.get("controlled") == "no" else move(ladder, current, how)
        return Step(days, _ht_phase(days, settings))
    if meta.get("phase") == "month_one":
        days = move(settings.diabetes_month_one_intervals, current, how)
        if anchor + timedelta(days=days) <= start + timedelta(days=settings.diabetes_month_one_days):
            return Step(days, "month_one")
        return Step(move(settings.diabetes_intervals, settings.diabetes_entry_days, how), "maintenance")
    return Step(move(settings.diabetes_intervals, current, how), "maintenance")


def _ht_phase(days: int, settings: MedicalSettings) -> str:
    return "early" if days < settings.hypertension_stable_days else "stable"


def curve_meta(condition: str, seq: int, step: Step, start: datetime | str, missed: int = 0,
               previous: str | None = None) -> dict[str, Any]:
    return {"curve": condition, "seq": seq, "phase": step.phase, "interval_days": step.interval,
            "curve_start": start if isinstance(start, str) else start.isoformat(), "missed": missed,
            "previous": previous}


def plan_call(condition: str, seq: int, step: Step, anchor: datetime, start: datetime | str,
              scheduler: Scheduler, settings: MedicalSettings, *, owner: str | None, department: str,
              missed: int = 0, previous: str | None = None, extra: dict[str, Any] | None = None) -> PlannedVisit:
    """The next call of the curve: opens `interval` days after the anchor, open for a share of it."""
    slack = max(1, int(step.interval * settings.chronic_window_share + 0.5))
    w = scheduler.window(anchor, step.interval, step.interval + slack)
    channel = "home_visit" if missed >= settings.home_visit_after_missed else settings.chronic_channel
    meta = {**(extra or {}), **curve_meta(condition, seq, step, start, missed, previous)}
    return PlannedVisit(key=f"c{seq}", visit_type=CHRONIC_VISIT[condition], owner=owner,
                        owner_role="nurse" if owner else None, department=department, channel=channel,
                        meta=meta, **w.fields())


def failed_attempts(followup: FollowUpInfo) -> int:
    """Attempts that did not reach the subject; -1 if the subject was reached or refused."""
    outcomes = [a.get("outcome") for a in followup.attempts]
    if "reached" in outcomes or "refused" in outcomes:
        return -1
    return len(outcomes)


def when(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
