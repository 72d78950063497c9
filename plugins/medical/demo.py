"""The hospital's share of `huifang demo`: wards with responsible nurses and head nurses, discharges
(some with diabetes / hypertension curves, some readmitted), first outpatient visits and reviews,
chronic-disease enrolments and health checks with abnormal findings, then the nurses' calls with a
realistic outcome mix; chronic curves and re-examination reminders are followed as they are planned."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from huifang.core import clock
from huifang.core.demo import person_name, phone, work
from huifang.core.domain import FollowUp, Ticket, Trigger
from huifang.core.errors import HuifangError

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


def pick(rng: Any, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


def answers(fu: FollowUp, rng: Any) -> dict:
    """Plausible answers for each visit type's survey."""
    sym = rng.choices(["none", "mild", "worrying"], [80, 16, 4])[0]
    sat = rng.choices(["满意", "较满意", "基本满意", "不满意"],
                      SATISFACTION_MIX.get(fu.department or "", SATISFACTION_MIX["default"]))[0]
    adherence = rng.choices(["good", "partial", "poor"], [70, 20, 10])[0]
    vt = fu.visit_type
    if vt in ("discharge_first", "outpatient_first"):
        out = {"recovery": rng.choices(range(3, 11), [2, 3, 6, 10, 18, 26, 22, 13])[0], "adherence": adherence,
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


def staff(app: Any, rng: Any) -> dict[str, list[str]]:
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


def build(app: Any, rng: Any, start: Any, end: Any, size: int) -> dict:
    with clock.at(start):
        teams = staff(app, rng)
    span = (end - start).total_seconds()
    events: list[tuple[Any, str, str, dict, str]] = []  # (when, kind, subject, attributes, trigger id)
    subjects: list[tuple[Any, str]] = []
    n_trig = 0

    def add(when: Any, kind: str, sid: str, attrs: dict) -> None:
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
        with clock.at(when - timedelta(minutes=5)):
            app.add_subject(sid, person_name(rng), [phone(rng)], None, None,
                            {"insurance_no": f"YB{rng.randint(10**8, 10**9)}", "age": rng.randint(18, 88)})
    codes: list[str] = []
    triggers: list[str] = []
    for when, kind, sid, attrs, tid in sorted(events, key=lambda e: e[0]):
        with clock.at(when):
            _, fus, _ = app.receive_trigger(kind, sid, attrs, trigger_id=tid)
        triggers.append(tid)
        codes += [f.code for f in fus]
    counts = {"completed": 0, "lost": 0, "attempts": 0, "open": 0}
    done: set[str] = set()
    todo = codes
    for n in range(80):  # follow the curves and reminders as completions plan them
        # a curve call is rarely left undone: the chronic-care team works from a fixed list
        for k, v in work(app, todo, rng, end, answers, skip_share=0.08 if n == 0 else 0.02).items():
            counts[k] += v
        done.update(todo)
        touched = sorted({c.split("-")[0] for c in todo})  # trigger ids have no '-'
        todo = [c for t in touched for c in app.load(Trigger, t, "trigger").followups
                if c not in done and "-recheck" not in c]
        if not todo:
            break
    counts["tickets"], counts["tickets_resolved"] = handle_tickets(app, rng, triggers, end)
    total = len({c for t in triggers for c in app.load(Trigger, t, "trigger").followups})
    return {"subjects": size, "triggers": len(triggers), "followups": total, **counts}


def handle_tickets(app: Any, rng: Any, triggers: list[str], end: Any) -> tuple[int, int]:
    """G12: departments answer most tickets within the day; the nurse confirms with the subject (二次回访)."""
    opened = resolved = 0
    for t in triggers:
        for code in app.load(Trigger, t, "trigger").followups:
            fu = app.load(FollowUp, code, "follow-up")
            for tk in fu.tickets:
                opened += 1
                ticket = app.load(Ticket, tk, "ticket")
                when = fu.closed_at + timedelta(hours=rng.randint(2, 20))
                if rng.random() > 0.8 or when + timedelta(hours=3) >= end:
                    continue
                try:
                    with clock.at(when):
                        _, second = app.resolve_ticket(ticket.code, rng.choice(
                            ["医生已电话指导，安排复诊", "已向科室反馈并改进", "已预约专家门诊"]), actor="med-director")
                    actor = second.owner or "cli"
                    with clock.at(when + timedelta(hours=1)):
                        app.record_attempt(second.code, second.channel, "reached", actor=actor)
                        app.complete(second.code, {"resolved": rng.choices(["yes", "no"], [88, 12])[0],
                                                   "satisfaction": rng.choice(["满意", "较满意"])}, actor=actor)
                    resolved += 1
                except HuifangError:
                    continue
    return opened, resolved
