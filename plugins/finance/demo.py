"""The finance share of `huifang demo`: three branches with their advisors and agents (sales role, G9),
a call centre that owns the follow-ups, wealth contracts and insurance policies over the period, the
special events (agreement changes, complaints, terminations, policy changes, claims, lapses, a departed
agent), a few no-follow-up statements signed at purchase (F6, on the policy trigger) and surrenders
before contact, and the work: two phone rounds in 普通话 (F9), then a home visit confirmed and signed by
the client or a letter sent and answered, returned or left unanswered (F5), surveys with a realistic
answer mix, some G13 anomalies and opinions, tickets answered and confirmed by the second follow-up."""
from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from typing import Any

from huifang.core.plugin_api import CLOSED, DemoApp, FollowUpInfo, HuifangError, Scheduler, clock
from huifang.core.plugin_api.demo import at, person_name, phone, with_reason

NAME = "finance"
BRANCHES = ("sh-pudong", "bj-chaoyang", "gz-tianhe")
PRODUCTS = ("稳健理财1号", "成长精选FOF", "固收增强", "养老目标2035")
POLICIES = ("终身寿险", "年金险", "重疾险", "两全险", "万能险")
DIRECTOR, LEAD = "fin-director", "fin-cc-lead"
AGENTS = tuple(f"fin-cc-{i}" for i in range(1, 5))
PHONE_MIX = {"reached": 0.60, "no_answer": 0.19, "busy": 0.06, "powered_off": 0.05, "call_later": 0.04,
             "wrong_number": 0.02, "suspended": 0.01, "refused": 0.03}
ANOMALY_MIX = {"none": 0.983, "strong_dissatisfaction": 0.005, "private_fee": 0.003, "traded_on_behalf": 0.003,
               "discretionary_mandate": 0.002, "signed_on_behalf": 0.002, "false_data": 0.002}
REASONS = ("收益不及预期 returns below expectation", "资金另有用途 needs the money", "转到其他机构 moving elsewhere",
           "对服务不满意 unhappy with the service")


def pick(rng: Any, mix: dict[str, float]) -> str:
    return rng.choices(list(mix), list(mix.values()))[0]


def yes(rng: Any, p: float = 0.95) -> str:
    return "yes" if rng.random() < p else "no"


def answers(fu: FollowUpInfo, rng: Any) -> dict[str, Any]:
    sat = rng.choices(["满意", "较满意", "基本满意", "不满意"], [74, 18, 6.5, 1.5])[0]
    a: dict[str, Any] = {"anomaly": pick(rng, ANOMALY_MIX), "satisfaction": sat}
    vt = fu.visit_type
    if vt == "new_contract":
        a |= {"product_explained": yes(rng, 0.99), "risk_explained": yes(rng, 0.985)}
    elif vt == "continuing":
        a |= {"reasonable_basis": yes(rng, 0.99), "risk_disclosed": yes(rng, 0.985),
              "promised_returns": yes(rng, 0.01)}
    elif vt == "agreement_change":
        a |= {"change_confirmed": yes(rng, 0.98)}
    elif vt == "termination":
        a |= {"reason": rng.choice(REASONS)}
    elif vt == "complaint":
        a |= {"resolved": yes(rng, 0.85)}
    elif vt == "new_policy":
        a |= {"self_signed": yes(rng, 0.99), "terms_understood": yes(rng, 0.985),
              "cooling_off_informed": yes(rng, 0.99)}
    elif vt == "policy_service":
        a |= {"done_as_requested": yes(rng, 0.96)}
    elif vt == "lapsed_policy":
        a |= {"lapse_reason": rng.choice(["financial", "forgot", "dissatisfied", "switched", "other"]),
              "wants_reinstatement": yes(rng, 0.4)}
    elif vt == "claim":
        a |= {"settled_as_expected": yes(rng, 0.9)}
    elif vt == "orphan_policy":
        a |= {"new_contact_known": yes(rng, 0.8), "policy_understood": yes(rng, 0.9)}
    return a


def daytime(rng: Any, start: datetime, end: datetime) -> datetime:
    """A random instant between start and end during office hours (events happen at the counter)."""
    span = (end - start).total_seconds()
    t = start + timedelta(seconds=rng.random() * span)
    local = t.astimezone(clock.zone(None))
    return datetime.combine(local.date(), time(rng.randint(9, 17), rng.randint(0, 59)), local.tzinfo)


def staff(app: DemoApp, rng: Any, start: datetime) -> dict[str, list[str]]:
    sellers: dict[str, list[str]] = {}
    with at(start):
        app.add_staff(DIRECTOR, "理财管理部 " + person_name(rng), "manager", "wealth_management", None)
        app.add_staff(LEAD, "回访主管 " + person_name(rng), "supervisor", "call_centre", DIRECTOR)
        for a in AGENTS:
            app.add_staff(a, person_name(rng), "agent", "call_centre", LEAD)
        for b in BRANCHES:
            mgr = f"fin-{b}-mgr"
            app.add_staff(mgr, "营业部负责人 " + person_name(rng), "manager", b, DIRECTOR)
            sellers[b] = []
            for i in range(3):
                code = f"fin-{b}-s{i + 1}"
                app.add_staff(code, person_name(rng), "sales", b, mgr)
                sellers[b].append(code)
    return sellers


def build(app: DemoApp, rng: random.Random, start: datetime, end: datetime, size: int) -> dict[str, Any]:
    sellers = staff(app, rng, start)
    last = start + (end - start) * 0.96
    plan: list[tuple[datetime, str, str, dict, str]] = []  # (when, kind, subject, attrs, trigger id)
    subjects: list[tuple[datetime, str, dict]] = []
    policies_of: dict[str, list[tuple[str, str, datetime]]] = {}  # seller -> (subject, policy, issued)
    exempt: set[str] = set()
    for i in range(size):
        sid = f"FC{i + 1:05d}"
        when = daytime(rng, start, last)
        branch = rng.choice(BRANCHES)
        seller = rng.choice(sellers[branch])
        attrs = {"address": f"{branch} 路 {rng.randint(1, 999)} 号"} if rng.random() < 0.6 else {}
        subjects.append((when - timedelta(minutes=30), sid, attrs))
        if rng.random() < 0.45:  # wealth management
            contract = f"HT{i + 1:06d}"
            plan.append((when, "contract_signed", sid, {"advisor": seller, "product": rng.choice(PRODUCTS),
                                                        "branch": branch, "contract": contract}, f"FK{i + 1:05d}"))
            specials = (("agreement_changed", 0.08, {"change": rng.choice(["commission_rate", "validity"])}),
                        ("complaint_handled", 0.04, {"category": rng.choice(["service", "returns", "fees"])}),
                        ("contract_terminated", 0.04, {"reason": rng.choice(REASONS)}))
            for kind, p, extra in specials:
                later = when + timedelta(days=rng.randint(5, 60))
                if rng.random() < p and later < last:
                    plan.append((daytime(rng, later, later + timedelta(days=1)), kind, sid,
                                 {"contract": contract, **extra}, f"FK{i + 1:05d}-{kind[:4]}"))
        else:  # insurance
            policy = f"BD{i + 1:06d}"
            sale = {"agent": seller, "branch": branch, "policy": policy, "product": rng.choice(POLICIES),
                    "sales_channel": rng.choices(["agency", "bancassurance", "telemarketing"], [60, 35, 5])[0],
                    # F4: the client signed for the policy (回执签收) the day it was entered, or a day or two before
                    "receipt_date": (when - timedelta(days=rng.randint(0, 2))).date().isoformat()}
            if rng.random() < 0.03:
                exempt.add(sid)  # F6: declined all follow-up by a statement signed at purchase
                sale["no_followup_statement"] = f"不回访声明 SM-{sid}: 投保人、业务员及销售部经理签字"
            plan.append((when, "policy_issued", sid, sale, f"FP{i + 1:05d}"))
            policies_of.setdefault(seller, []).append((sid, policy, when))
            for kind, p in (("policy_changed", 0.06), ("claim_settled", 0.05), ("policy_lapsed", 0.03)):
                later = when + timedelta(days=rng.randint(10, 70))
                if rng.random() < p and later < last and sid not in exempt:
                    plan.append((daytime(rng, later, later + timedelta(days=1)), kind, sid, {"policy": policy},
                                 f"FP{i + 1:05d}-{kind[:6]}"))
    # F7: one agent leaves two thirds into the period; their clients' policies are followed up
    departed = max(policies_of, key=lambda s: len(policies_of[s]), default=None)
    leave = start + (end - start) * 0.66
    if departed:
        for sid, policy, issued in policies_of[departed]:
            if issued < leave and sid not in exempt:
                plan.append((leave + timedelta(minutes=len(plan) % 50), "agent_departed", sid,
                             {"agent": departed, "policies": [policy]}, f"FD-{sid}"))
    for when, sid, attrs in subjects:
        with at(when):
            app.add_subject(sid, person_name(rng), [phone(rng)], None, None, attrs)
    codes: list[str] = []
    counts = {"triggers": 0, "exempt": 0}
    for when, kind, sid, attrs, tid in sorted(plan, key=lambda p: (p[0], p[4])):
        with at(when):
            _, fus, _ = app.receive_trigger(f"{NAME}.{kind}", sid, attrs, trigger_id=tid)
            counts["triggers"] += 1
            for fu in fus:
                if fu.status == "exempt":  # F6
                    counts["exempt"] += 1
                    continue
                if fu.window_open < end:  # the call-centre lead dispatches today's queue (G9: never a seller)
                    agent = AGENTS[int(sid[2:]) % len(AGENTS)]
                    app.reassign(fu.code, agent, "dispatched", actor=LEAD)
                    codes.append(fu.code)
    work = {"completed": 0, "lost": 0, "cancelled": 0, "attempts": 0, "open": 0, "fallbacks": 0, "tickets": 0,
            "second": 0}
    tickets: list[tuple[datetime, str]] = []
    sched = app.scheduler(NAME, None)  # demo subjects live in the deployment's time zone
    for code in codes:
        play(app, sched, code, rng, end, work, tickets)
    for opened, code in sorted(tickets):
        settle(app, sched, code, opened, rng, end, work)
    return {"subjects": size, **counts, "followups": len(codes), **work}


def play(app: DemoApp, sched: Scheduler, code: str, rng: Any, end: datetime, work: dict[str, int],
         tickets: list[tuple[datetime, str]]) -> None:
    """One follow-up: phone round 1, the re-determined number (round 2), then home visit or letter (F5)."""
    fu = app.followup_info(code)
    if fu.status in CLOSED or rng.random() < 0.06:
        work["open"] += 1
        return
    if fu.visit_type == "new_policy" and rng.random() < 0.02:  # surrendered before anyone called (退保)
        when = fu.window_open + timedelta(hours=rng.randint(2, 30))
        if when < end:
            with at(when):
                app.close_followup(code, status="cancelled",
                                   reason="policy surrendered in the cooling-off period (退保)", actor=LEAD)
            work["cancelled"] += 1
            return
    late = timedelta(days=rng.randint(8, 20)) if rng.random() < 0.05 else timedelta(0)  # backlog: some are late
    when = sched.next_slot(fu.window_open + late + timedelta(minutes=rng.randint(0, 90)))
    actor = fu.owner or AGENTS[0]
    hard = rng.random() < 0.15  # hard to reach: rarely picks up, so some end up on the F5 fallback
    for _ in range(10):
        if when >= end:
            break
        fu = app.followup_info(code)
        channel = fu.channel
        if channel == "phone":
            outcome = pick(rng, PHONE_MIX)
            if hard and outcome == "reached" and rng.random() < 0.7:
                outcome = rng.choice(["no_answer", "powered_off", "busy"])
        elif channel == "letter":  # F5: sent, then answered by post, returned, or no reply by its deadline
            sent = any(a["channel"] == "letter" and a["outcome"] == "sent" for a in fu.attempts)
            if sent and rng.random() < 0.25:
                break  # no reply yet: it waits until its deadline
            outcome = "sent" if not sent else ("reached" if rng.random() < 0.8 else "returned")
        else:
            outcome = "reached" if rng.random() < 0.85 else "no_answer"
        extra: dict[str, Any] = {}
        if channel == "phone":
            extra["recording_failed_line"] = "400-backup-line"
            if outcome in ("reached", "refused", "call_later"):
                extra["language"] = "mandarin"  # F9: 普通话
        try:
            with at(when):
                _, messages = app.record_attempt(code, channel, outcome, actor=actor, **extra)
                work["attempts"] += 1
                if outcome == "reached":
                    given = answers(fu, rng)
                    if channel == "home_visit":  # F5: the record the client confirmed and signed
                        given["signed_confirmation"] = f"HV-{code}"
                    done, _ = app.complete(code, with_reason(given, code), actor=actor)  # G16
                    work["completed"] += 1
                    tickets += [(when, t) for t in done.tickets]  # G12/G13 tickets the survey opened
                    work["tickets"] += len(done.tickets)
                    return
                if outcome == "refused":
                    app.close_followup(code, status="lost", reason="refused", actor=actor)
                    work["lost"] += 1
                    return
        except HuifangError:
            break
        if outcome == "sent":
            when = sched.next_slot(when + timedelta(days=rng.randint(3, 9)))  # the reply comes by post
            continue
        if channel != "phone":
            break  # the home visit or the returned letter was the last resort
        if any(m.startswith("F5: phone round 1") for m in messages):
            when = sched.next_slot(when + timedelta(days=1))  # the number is re-determined first
        elif app.followup_info(code).channel != "phone":
            work["fallbacks"] += 1
            when = sched.next_slot(when + timedelta(days=rng.randint(2, 6)))  # visit booked / letter posted
        else:
            when = sched.next_retry(when + timedelta(minutes=rng.randint(5, 40)))
    fu = app.followup_info(code)
    if fu.status in CLOSED or len(fu.attempts) < 3:
        work["open"] += 1
        return
    reason = "wrong_number" if any(a["outcome"] in ("wrong_number", "suspended") for a in fu.attempts) \
        else "no_answer"
    stamp = fu.attempts[-1]["at"]
    last = stamp if isinstance(stamp, datetime) else datetime.fromisoformat(stamp)
    try:
        with at(min(end - timedelta(minutes=1), last + timedelta(hours=2))):
            app.close_followup(code, status="lost", reason=reason, actor=actor)
        work["lost"] += 1
    except HuifangError:
        work["open"] += 1


def settle(app: DemoApp, sched: Scheduler, code: str, opened: datetime, rng: Any, end: datetime,
           work: dict[str, int]) -> None:
    """G12/G13: most tickets are answered within the 5 working days, then the second follow-up."""
    if rng.random() < 0.25:
        return  # still with the department
    when = sched.next_slot(sched.opening(sched.workday_after(opened, rng.randint(1, 4))))
    if when >= end:
        return
    with at(when):
        _, second = app.resolve_ticket(code, "investigated: interview, branch self-check, final opinion",
                                       actor=DIRECTOR)
    call = when + timedelta(minutes=rng.randint(20, 120))
    if call >= end or rng.random() < 0.1:
        return
    try:
        with at(call):
            app.record_attempt(second.code, second.channel, "reached", actor=second.owner or AGENTS[0],
                               **({"recording_failed_line": "400-backup-line"} if second.channel == "phone" else {}))
            app.complete(second.code, {"resolved": yes(rng, 0.9), "satisfaction": rng.choice(["满意", "较满意"])},
                         actor=second.owner or AGENTS[0])
        work["second"] += 1
    except HuifangError:
        pass
