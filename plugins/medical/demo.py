"""The hospital's share of `huifang demo`: wards with nurses, discharges over the period."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from huifang.core import clock
from huifang.core.demo import person_name, phone, work

WARDS = {"cardiology": ["CHD", "heart_failure", "hypertension"], "endocrinology": ["diabetes_t2", "thyroid"],
         "orthopaedics": ["fracture", "knee_replacement"], "general_surgery": ["appendectomy", "hernia"]}


def answers(fu: Any, rng: Any) -> dict:
    sat = rng.choices(["满意", "较满意", "基本满意", "不满意"], [70, 18, 8, 4])[0]
    return {"recovery": rng.randint(4, 10), "adherence": rng.choices(["good", "partial", "poor"], [75, 18, 7])[0],
            "symptoms": rng.choices(["none", "mild", "worrying"], [80, 16, 4])[0], "satisfaction": sat}


def build(app: Any, rng: Any, start: Any, end: Any, size: int) -> dict:
    with clock.at(start):
        app.add_staff("med-head", "护士长 " + person_name(rng), "supervisor", "nursing", None)
        app.add_staff("med-director", "主任 " + person_name(rng), "manager", "nursing", None)
        nurses = {}
        for ward in WARDS:
            sup = f"med-{ward[:4]}-hn"
            app.add_staff(sup, person_name(rng), "supervisor", ward, "med-director")
            nurses[ward] = []
            for i in range(2):
                code = f"med-{ward[:4]}-n{i + 1}"
                app.add_staff(code, person_name(rng), "agent", ward, sup)
                nurses[ward].append(code)
    codes: list[str] = []
    span = (end - start).total_seconds()
    events = sorted(start + timedelta(seconds=rng.random() * span * 0.97) for _ in range(size))
    for i, when in enumerate(events):
        ward = rng.choice(list(WARDS))
        sid = f"MP{i + 1:05d}"
        with clock.at(when):
            app.add_subject(sid, person_name(rng), [phone(rng)], None, None, {"insurance_no": f"YB{rng.randint(10**8, 10**9)}"})
            _, fus, _ = app.receive_trigger("medical.discharge", sid, {
                "department": ward, "diagnosis": rng.choice(WARDS[ward]),
                "responsible_nurse": rng.choice(nurses[ward]), "attending_doctor": f"dr-{ward[:4]}-{rng.randint(1, 3)}",
            }, trigger_id=f"MD{i + 1:05d}")
            codes += [f.code for f in fus]
    counts = work(app, codes, rng, end, answers)
    return {"subjects": size, "triggers": size, "followups": len(codes), **counts}
