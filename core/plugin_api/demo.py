"""Helpers for a plugin's `huifang_demo`: seeded Chinese names and phone numbers, and `work()`, which
plays operators through follow-ups with the engine's own commands (G5 attempts, surveys, G14 lost)."""
from __future__ import annotations

import random
import zlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from .. import clock
from ..contract import (
    DISSATISFACTION_CODE,
    DISSATISFACTION_REASON,
    DISSATISFIED,
    SATISFACTION_ALIASES,
    FollowUpInfo,
)
from ..domain import FollowUp
from ..errors import HuifangError

__all__ = ["DEFAULT_MIX", "at", "person_name", "phone", "with_reason", "work"]

# Outcome mix of one call attempt, from typical hospital call-centre figures (about 70% reached).
DEFAULT_MIX = {"reached": 0.68, "no_answer": 0.14, "busy": 0.06, "powered_off": 0.04, "call_later": 0.03,
               "wrong_number": 0.02, "suspended": 0.01, "refused": 0.02}

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


# G1: prefixes no carrier assigns (phonenumbers refuses them) moved to a neighbour; the random draws
# stay the same, so a seeded demo keeps its shape
UNASSIGNED = {"154": "155", "174": "173", "179": "178"}


def phone(rng: random.Random) -> str:
    number = "1" + rng.choice("3578") + "".join(rng.choice("0123456789") for _ in range(9))
    return UNASSIGNED.get(number[:3], number[:3]) + number[3:]


def at(instant: datetime) -> Any:
    return clock.at(instant)


# G16: what a dissatisfied subject says, by reason code (003 §5 asks for the reason)
REASON_WORDS = {"attitude": "接待人员态度冷淡", "quality": "服务不到位", "result": "效果没有达到预期",
                "waiting": "等候时间太长", "communication": "解释得不清楚", "process": "手续太繁琐",
                "fees": "费用比预想的高", "environment": "环境嘈杂", "other": "说不上来具体原因"}


def with_reason(answers: dict[str, Any], key: str) -> dict[str, Any]:
    """`answers`, plus the reason a 不满意 answer needs (G16), chosen by `key` (e.g. the follow-up id)
    so the demo's random stream, and with it the rest of the demo, stays as it was."""
    if SATISFACTION_ALIASES.get(str(answers.get("satisfaction")), answers.get("satisfaction")) != DISSATISFIED:
        return answers
    codes = list(REASON_WORDS)
    code = codes[zlib.crc32(key.encode("utf-8")) % len(codes)]
    return {**answers, DISSATISFACTION_CODE: code, DISSATISFACTION_REASON: REASON_WORDS[code]}


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
        sched = app.scheduler(fu.plugin, tz).for_followup(fu.meta)  # G6: a clinical day is a calling day
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
                        app.complete(code, with_reason(answers(app.info(fu), rng), code), actor=actor)
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
                        reason = "no_answer"
                        if any(a["outcome"] == "wrong_number" for a in fu.attempts):
                            reason = "wrong_number"
                        app.close_followup(code, "lost", reason, actor=actor)
                        counts["lost"] += 1
                    except HuifangError:
                        counts["open"] += 1
            else:
                counts["open"] += 1
    return counts
