"""Helpers for a plugin's `huifang_demo`: seeded Chinese names and phone numbers, and `work()`, which
plays operators through follow-ups with the engine's own commands (G5 attempts, surveys, G14 lost)."""
from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from .. import clock
from ..contract import FollowUpInfo
from ..domain import FollowUp
from ..errors import HuifangError

__all__ = ["DEFAULT_MIX", "at", "person_name", "phone", "work"]

# Outcome mix of one call attempt, from typical hospital call-centre figures (about 70% reached).
DEFAULT_MIX = {"reached": 0.68, "no_answer": 0.14, "busy": 0.06, "powered_off": 0.04, "call_later": 0.03,
               "wrong_number": 0.02, "suspended": 0.01, "refused": 0.02}

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def phone(rng: random.Random) -> str:
    return "1" + rng.choice("3578") + "".join(rng.choice("0123456789") for _ in range(9))


def at(instant: datetime) -> Any:
    return clock.at(instant)


def work(app: Any, codes: list[str], rng: random.Random, end: datetime,
         answers: Callable[[FollowUpInfo, random.Random], dict],
         mix: dict[str, float] | None = None, skip_share: float = 0.08) -> dict[str, int]:
    """Play the owners through follow-ups whose window opened before `end`: up to 3 attempts at
    different calling slots (G5), a survey when reached, lost with a reason after 3 failures (G14).
    About `skip_share` are left untouched (they show up as due or overdue in the queue)."""
    mix = mix or DEFAULT_MIX
    outcomes, weights = list(mix), list(mix.values())
    counts = {"completed": 0, "lost": 0, "attempts": 0, "open": 0}
    for code in codes:
        fu = app.load(FollowUp, code, "follow-up")
        if fu.closed or fu.window_open >= end or rng.random() < skip_share:
            counts["open"] += 1
            continue
        tz = app.find_tz(fu.subject)
        sched = app.scheduler(fu.plugin, tz)
        when = sched.next_slot(fu.window_open + timedelta(minutes=rng.randint(0, 90)))
        actor = fu.owner if fu.owner and app.find_staff(fu.owner) else "cli"
        done = False
        for n in range(3):
            if when >= end:
                break
            outcome = rng.choices(outcomes, weights)[0]
            channel = fu.channel
            try:
                with clock.at(when):
                    app.record_attempt(code, channel, outcome, actor=actor, **app.demo_attempt_extras(fu))
                    counts["attempts"] += 1
                    if outcome == "reached":
                        fu = app.load(FollowUp, code, "follow-up")
                        app.complete(code, answers(app.info(fu), rng), actor=actor)
                        counts["completed"] += 1
                        done = True
                        break
                    if outcome == "refused":
                        app.close_followup(code, "lost", "refused", actor=actor)
                        counts["lost"] += 1
                        done = True
                        break
            except HuifangError:
                break
            when = sched.next_retry(when + timedelta(minutes=rng.randint(5, 40)))
            if n == 1:
                when = sched.next_slot(when + timedelta(days=1))
        if not done:
            fu = app.load(FollowUp, code, "follow-up")
            if len(fu.attempts) >= 3 and not fu.closed:
                with clock.at(min(when, end - timedelta(minutes=1)) if when > fu.attempts[-1]["at"] else
                              fu.attempts[-1]["at"] + timedelta(minutes=1)):
                    try:
                        reason = "no_answer_after_3_attempts"
                        if any(a["outcome"] == "wrong_number" for a in fu.attempts):
                            reason = "wrong_number"
                        app.close_followup(code, "lost", reason, actor=actor)
                        counts["lost"] += 1
                    except HuifangError:
                        counts["open"] += 1
            else:
                counts["open"] += 1
    return counts
