"""The hospital's share of `huifang demo`: wards with responsible nurses and head nurses, discharges
(some with diabetes / hypertension curves, some readmitted), first outpatient visits and reviews,
chronic-disease enrolments and health checks with abnormal findings, then the nurses' calls with a
realistic outcome mix; chronic curves and re-examination reminders are followed as they are planned."""
from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from huifang.core.plugin_api import DemoApp, FollowUpInfo, HuifangError, NotFound, clock
from huifang.core.plugin_api.demo import at, person_name, phone, work

from .reactions import ticket_categories

WARDS = {"cardiology": ["CHD", "heart_failure", "hypertension"], "endocrinology": ["diabetes_t2", "thyroid"],
         "orthopaedics": ["fracture", "knee_replacement"], "general_surgery": ["appendectomy", "hernia"]}
SURGICAL = {"orthopaedics", "general_surgery"}
CONDITION = {"hypertension": "hypertension", "diabetes_t2": "diabetes"}
CLINICS = [("cardiology", True), ("endocrinology", True), ("orthopaedics", True), ("general_medicine", False),
           ("paediatrics", False), ("dermatology", True)]
FINDINGS = ["lipids", "glucose", "blood_pressure", "liver", "nodule", "uric_acid", "thyroid"]
# subject mix of a mid-size hospital's follow-up centre
MIX = {"discharge": 0.45, "outpatient": 0.25, "chronic": 0.10, "health_check": 0.20}
# orthopaedics answers a little less satisfied, so M8 has a department to flag
SATISFACTION_MIX = {"default": [72, 18, 7, 3], "orthopaedics": [58, 24, 12, 6]}


def pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


def answers(fu: FollowUpInfo, rng: random.Random) -> dict[str, Any]:
    """Plausible answers for each visit type's survey."""
    sym = rng.choices(["none", "mild", "worrying"], [80, 16, 4])[0]
    sat = rng.choices(["满意", "较满意", "基本满意", "不满意"],
                      SATISFACTION_MIX.get(fu.department or "", SATISFACTION_MIX["default"]))[0]
    adherence = rng.choices(["good", "partial", "poor"], [70, 20, 10])[0]
    vt = fu.visit_type
    if vt in ("discharge_first", "outpatient_first"):
        out: dict[str, Any] = {"recovery": rng.choices(range(3, 11), [2, 3, 6, 10, 18, 26, 22, 13])[0], "adherence": adherence,
               "symptoms": sym, "satisfaction": sat}
        if rng.random() < 0.15:
            out["suggestion"] = rng.choice(["希望缩短出院结算等候时间", "病房夜间噪音大", "护士讲解很耐心", "停车不方便"])
        return out
    if vt.startswith("chronic_"):
        first = fu.meta.get("seq") == 1
        return {"previous_effect": "no_previous_call" if first else
                rng.choices(["effective", "partly", "not_effective"], [65, 27, 8])[0],
                "adherence": adherence, "controlled": rng.choices(["yes", "no"], [78, 22])[0],
                "symptoms": sym, "satisfaction": sat}
    if vt == "health_check_recall":
        return {"reexamined": rng.choices(["yes", "booked", "no"], [30, 40, 30])[0],
                "lifestyle": rng.choices(["changed", "planned", "no"], [45, 35, 20])[0], "symptoms": sym,
                "satisfaction": sat}
    if vt == "reexam_reminder":
        return {"reexamined": rng.choices(["yes", "booked", "no"], [45, 30, 25])[0], "symptoms": sym}
    return {"satisfaction": sat}


def staff(app: DemoApp, rng: random.Random) -> dict[str, list[str]]:
    app.add_staff("med-director", "护理部主任 " + person_name(rng), "manager", "nursing", None)
    teams: dict[str, list[str]] = {}
    for ward in [*WARDS, "chronic_care", "health_management"]:
        head = f"med-{ward[:4]}-hn"
        app.add_staff(head, "护士长 " + person_name(rng), "supervisor", ward, "med-director")
        teams[ward] = []
        for i in range(3 if ward in WARDS else 2):
            code = f"med-{ward[:4]}-n{i + 1}"
            app.add_staff(code, person_name(rng), "agent", ward, head)
            teams[ward].append(code)
    app.add_staff("med-cs1", "回访员 " + person_name(rng), "agent", "customer_service", "med-director")
    return teams


def build(app: DemoApp, rng: random.Random, start: datetime, end: datetime, size: int) -> dict[str, Any]:
    with at(start):
        teams = staff(app, rng)
    span = (end - start).total_seconds()
    events: list[tuple[datetime, str, str, dict[str, Any], str]] = []  # (when, kind, subject, attributes, id)
    subjects: list[tuple[datetime, str]] = []
    n_trig = 0

    def add(when: datetime, kind: str, sid: str, attrs: dict[str, Any]) -> None:
        nonlocal n_trig
        if when < end:
            n_trig += 1
            events.append((when, kind, sid, attrs, f"M{kind[:2].upper()}{n_trig:05d}"))

    for i in range(size):
        sid = f"MP{i + 1:05d}"
        when = start + timedelta(seconds=rng.random() * span * 0.95)
        subjects.append((when, sid))
        what = pick(rng, MIX)
        if what == "discharge":
            ward = rng.choice(list(WARDS))
            dx = rng.choice(WARDS[ward])
            attrs = {"department": ward, "diagnosis": dx, "responsible_nurse": rng.choice(teams[ward]),
                     "attending_doctor": f"dr-{ward[:4]}-{rng.randint(1, 3)}", "surgery": ward in SURGICAL}
            if dx in CONDITION and rng.random() < 0.7:
                attrs["condition"] = CONDITION[dx]
            add(when, "medical.discharge", sid, attrs)
            if rng.random() < 0.06:  # readmitted (G20 outcome)
                add(when + timedelta(days=rng.randint(8, 28)), "medical.discharge", sid,
                    {k: v for k, v in attrs.items() if k != "condition"})
            if rng.random() < 0.4:  # outpatient review with the doctor's recovery score (G20)
                add(when + timedelta(days=rng.randint(14, 60)), "medical.outpatient_visit", sid,
                    {"department": ward, "specialist": True, "first_visit": False,
                     "recovery_score": rng.choices(range(4, 11), [2, 4, 8, 16, 26, 26, 18])[0]})
        elif what == "outpatient":
            dept, specialist = rng.choice(CLINICS)
            add(when, "medical.outpatient_visit", sid, {"department": dept, "specialist": specialist,
                                                        "first_visit": rng.random() < 0.8,
                                                        "attending_doctor": f"dr-{dept[:4]}-1"})
        elif what == "chronic":
            cond = rng.choice(["diabetes", "hypertension"])
            add(when, "medical.chronic_enrolment", sid, {
                "condition": cond, "phase": rng.choice(["early", "stable"]), "department": "chronic_care",
                "responsible_nurse": rng.choice(teams["chronic_care"]), "attending_doctor": "dr-chro-1"})
        else:
            findings = [] if rng.random() < 0.1 else rng.sample(FINDINGS, rng.choice((1, 1, 2, 3)))
            add(when, "medical.health_check", sid, {"findings": findings,
                                                    "responsible_nurse": rng.choice(teams["health_management"])})
            if findings and rng.random() < 0.35:  # came back for the re-examination (M5)
                add(when + timedelta(days=rng.randint(10, 70)), "medical.outpatient_visit", sid,
                    {"department": "general_medicine", "specialist": False, "first_visit": False})
    for when, sid in subjects:
        with at(when - timedelta(minutes=5)):
            app.add_subject(sid, person_name(rng), [phone(rng)], None, None,
                            {"insurance_no": f"YB{rng.randint(10**8, 10**9)}", "age": rng.randint(18, 88)})
    planned: dict[str, list[str]] = {}  # trigger id -> its follow-ups, in the order they were planned
    for when, kind, sid, attrs, tid in sorted(events, key=lambda e: e[0]):
        with at(when):
            _, fus, _ = app.receive_trigger(kind, sid, attrs, trigger_id=tid)
        planned[tid] = [f.code for f in fus]
    given: dict[str, tuple[dict[str, Any], datetime]] = {}  # follow-up -> its answers and when they were given

    def answer(fu: FollowUpInfo, rng: random.Random) -> dict[str, Any]:
        given[fu.id] = (answers(fu, rng), clock.now())
        return given[fu.id][0]

    counts = {"completed": 0, "lost": 0, "attempts": 0, "open": 0}
    todo = [c for codes in planned.values() for c in codes]
    for n in range(80):  # follow the curves and reminders as completions plan them
        # a curve call is rarely left undone: the chronic-care team works from a fixed list
        for k, v in work(app, todo, rng, end, answer, skip_share=0.08 if n == 0 else 0.02).items():
            counts[k] += v
        todo = [c for c in (planned_next(app, code) for code in sorted(todo, key=trigger_of)) if c]
        for c in todo:
            planned[trigger_of(c)].append(c)
        if not todo:
            break
    counts["tickets"], counts["tickets_resolved"], rechecks = handle_tickets(app, rng, planned, given, end)
    total = sum(len(codes) for codes in planned.values()) + rechecks
    return {"subjects": size, "triggers": len(planned), "followups": total, **counts}


def trigger_of(code: str) -> str:
    """Follow-up ids are '<trigger id>-<key>' and the demo's trigger ids have no '-'."""
    return code.split("-")[0]


def planned_next(app: DemoApp, code: str) -> str | None:
    """The follow-up a worked one planned, if any: the curve's next call (M3/M4, also after a missed
    call) or the re-examination reminder (M5) — keys this plugin gives them (reactions.py)."""
    fu = app.followup_info(code)
    if fu.meta.get("curve"):
        key = f"c{int(fu.meta.get('seq') or 1) + 1}"
    elif fu.visit_type == "health_check_recall":
        key = "reminder"
    else:
        return None
    try:
        return app.followup_info(f"{fu.trigger}-{key}").id
    except NotFound:
        return None


def handle_tickets(app: DemoApp, rng: random.Random, planned: dict[str, list[str]],
                   given: dict[str, tuple[dict[str, Any], datetime]], end: datetime) -> tuple[int, int, int]:
    """G12: departments answer most tickets within the day; the nurse confirms with the subject (二次回访).
    The tickets of a completed follow-up are those its answers opened (M7, G16), numbered by the engine
    'TK-<follow-up>-<n>'. Returns (tickets, resolved, second follow-ups planned)."""
    opened = resolved = rechecks = 0
    for codes in planned.values():
        for code in codes:
            if code not in given:
                continue
            answered, completed_at = given[code]
            n = len(ticket_categories(answered))
            if not n or app.followup_info(code).status != "completed":  # answered, but not saved
                continue
            for i in range(1, n + 1):
                opened += 1
                when = completed_at + timedelta(hours=rng.randint(2, 20))
                if rng.random() > 0.8 or when + timedelta(hours=3) >= end:
                    continue
                try:
                    with at(when):
                        _, second = app.resolve_ticket(f"TK-{code}-{i}", rng.choice(
                            ["医生已电话指导，安排复诊", "已向科室反馈并改进", "已预约专家门诊"]), actor="med-director")
                    rechecks += 1
                    info = app.followup_info(second.code)
                    actor = info.owner or "cli"
                    with at(when + timedelta(hours=1)):
                        app.record_attempt(info.id, info.channel, "reached", actor=actor)
                        app.complete(info.id, {"resolved": rng.choices(["yes", "no"], [88, 12])[0],
                                               "satisfaction": rng.choice(["满意", "较满意"])}, actor=actor)
                    resolved += 1
                except HuifangError:
                    continue
    return opened, resolved, rechecks
