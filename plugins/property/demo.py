"""The property vertical's share of `huifang demo`: an estate with a manager, customer service,
dispatch, stewards and repair workers; residents with complaints (some repeated, P8), repairs (a few
failing, P2), home visits, the yearly survey (P4), contracts, an activity, emergency help and renovation
projects."""
from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from huifang.core.plugin_api import DemoApp, FollowUpInfo, HuifangError, clock
from huifang.core.plugin_api.demo import person_name, phone, work

COMPLAINTS = {"noise": ("security", 24), "sanitation": ("cleaning", 18), "parking": ("security", 16),
              "greening": ("cleaning", 8), "fees": ("customer_service", 10), "lift": ("engineering", 12),
              "water_pressure": ("engineering", 12)}
REPAIRS = {"plumbing": 30, "electrical": 22, "door_lock": 12, "leak": 14, "lift": 8, "appliance": 14}
DESIGNERS, INSPECTORS, CREWS = ["des-李工", "des-周工", "des-陈工"], ["insp-王", "insp-赵"], \
    ["crew-A", "crew-B", "crew-C"]
SAT = (["满意", "较满意", "基本满意", "不满意"], [62, 22, 11, 5])
Event = tuple[datetime, str, str, dict[str, Any], str]  # (at, kind, subject, attributes, trigger id)


def pick(rng: random.Random, weights: Mapping[str, int | tuple[str, int]]) -> str:
    return rng.choices(list(weights), [w if isinstance(w, int) else w[1] for w in weights.values()])[0]


def answers(fu: FollowUpInfo, rng: random.Random) -> dict[str, Any]:
    """Realistic outcome mixes: ~93% of repairs pass, ~8% of complaints are not resolved, etc."""
    sat = rng.choices(*SAT)[0]
    vt = fu.visit_type
    if vt.startswith("complaint"):
        effect = rng.choices(["resolved", "partly", "not_resolved"], [80, 13, 7])[0]
        if effect == "not_resolved":
            sat = rng.choice(["基本满意", "不满意"])
        return {"quality": rng.choices(["good", "fair", "poor"], [70, 24, 6])[0], "effect": effect,
                "satisfaction": sat}
    if vt == "repair_callback":
        passed = rng.random() < 0.93
        return {"timeliness": "on_time" if rng.random() < 0.87 else "late", "passed": "yes" if passed else "no",
                "satisfaction": sat if passed else rng.choice(["基本满意", "不满意"]),
                **({} if passed else {"shortcomings": rng.choice(["still leaking", "fault came back", "not fixed"])})}
    if vt == "home_visit":
        problem = rng.choices(["none", "repair", "security", "sanitation", "neighbours", "other"],
                              [74, 10, 4, 5, 4, 3])[0]
        return {"problem": problem, "satisfaction": sat, "resident_confirmed": "yes",
                **({} if problem == "none" else {"note": f"resident raised {problem}"})}
    if vt.startswith("renovation") or vt == "warranty_check":
        who = rng.choices(["none", "designer", "inspector", "crew", "other"], [80, 5, 4, 8, 3])[0]
        return {"quality": rng.choices(["good", "fair", "poor"], [72, 22, 6])[0], "satisfaction": sat,
                "complaint": who, **({} if who == "none" else {"problem": f"unhappy with the {who}"})}
    if vt == "yearly_survey":  # P4: a few households raise problems, each then followed up
        problems = rng.choices(["", "corridor lights out", "parking order; lift noise"], [78, 14, 8])[0]
        return {"satisfaction": sat, "weakest": rng.choice(["none", "parking", "sanitation", "repair", "security"]),
                **({"problems": problems} if problems else {})}
    if vt == "second_followup":
        ok = rng.random() < 0.88
        return {"resolved": "yes" if ok else "no", "satisfaction": sat if ok else "不满意"}
    return {"quality": rng.choices(["good", "fair", "poor"], [75, 20, 5])[0],
            "effect": rng.choices(["yes", "partly", "no"], [82, 13, 5])[0], "satisfaction": sat}


@dataclass
class Team:
    """The estate's staff codes by job (P1 department supervisors by department)."""

    cs: list[str] = field(default_factory=list)
    dispatch: list[str] = field(default_factory=list)
    stewards: list[str] = field(default_factory=list)
    workers: list[str] = field(default_factory=list)
    dept_sup: dict[str, str] = field(default_factory=dict)


def _staff(app: DemoApp, rng: random.Random) -> Team:
    add = app.add_staff
    add("prop-mgr", "经理 " + person_name(rng), "manager", "management", None)
    add("prop-cs-sup", "客服主管 " + person_name(rng), "supervisor", "customer_service", "prop-mgr")
    team = Team()
    for dept in ("security", "cleaning", "engineering"):
        code = f"prop-{dept[:3]}-sup"
        add(code, person_name(rng), "supervisor", dept, "prop-mgr")
        team.dept_sup[dept] = code
    team.dept_sup["customer_service"] = "prop-cs1"
    for i in range(1, 4):
        add(f"prop-cs{i}", person_name(rng), "agent", "customer_service", "prop-cs-sup")
        team.cs.append(f"prop-cs{i}")
    for i in range(1, 3):
        add(f"prop-disp{i}", person_name(rng), "agent", "dispatch", "prop-cs-sup")
        team.dispatch.append(f"prop-disp{i}")
    for i in range(1, 4):
        add(f"prop-stw{i}", "管家 " + person_name(rng), "agent", "customer_service", "prop-cs-sup")
        team.stewards.append(f"prop-stw{i}")
    for i in range(1, 7):
        add(f"prop-w{i}", "维修工 " + person_name(rng), "agent", "engineering", "prop-eng-sup")
        team.workers.append(f"prop-w{i}")
    return team


def build(app: DemoApp, rng: random.Random, start: datetime, end: datetime, size: int) -> dict[str, Any]:
    with clock.at(start):
        team = _staff(app, rng)
    span = (end - start).total_seconds()

    def when(lo: float = 0.0, hi: float = 0.97) -> datetime:
        t = start + timedelta(seconds=span * (lo + rng.random() * (hi - lo)))
        return t.replace(hour=rng.randint(9, 17), minute=rng.randint(0, 59))

    residents: list[tuple[str, str]] = []
    with clock.at(start):
        for i in range(size):
            sid, unit = f"PR{i + 1:05d}", f"{rng.randint(1, 8)}-{rng.randint(1, 28)}{rng.randint(1, 4):02d}"
            app.add_subject(sid, person_name(rng), [phone(rng)], None, None, {"unit": unit})
            residents.append((sid, unit))
    events: list[Event] = []
    for sid, unit in residents:  # P3: every household is on the books from the start
        events.append((start, "household_registered", sid, {"unit": unit, "owner": rng.choice(team.stewards),
                                                             "project": "翠湖苑"}, f"PH-{sid}"))
    n = 0

    def add(at: datetime, kind: str, sid: str, attrs: dict[str, Any], prefix: str) -> None:
        nonlocal n
        n += 1
        events.append((at, kind, sid, attrs, f"{prefix}{n:05d}"))

    for _ in range(max(4, size * 2 // 3)):  # P1, with a few repeat complainers (P8)
        sid, unit = rng.choice(residents)
        cat = pick(rng, COMPLAINTS)
        dept = COMPLAINTS[cat][0]
        major = rng.random() < 0.1
        attrs = {"category": cat, "severity": "major" if major else "general", "dept": dept, "unit": unit,
                 **({"manager": "prop-mgr"} if major else {"owner": team.dept_sup[dept]})}
        at = when()
        add(at, "complaint_handled", sid, attrs, "PC")
        if rng.random() < 0.12:
            add(min(at + timedelta(days=rng.randint(5, 25)), end - timedelta(hours=2)), "complaint_handled", sid,
                {**attrs, "severity": "general", "owner": team.dept_sup[dept]} if major else attrs, "PC")
    for _ in range(size + size // 3):  # P2
        sid, unit = rng.choice(residents)
        cat = pick(rng, REPAIRS)
        add(when(), "repair_completed", sid, {"category": cat, "worker": rng.choice(team.workers), "unit": unit,
                                              "owner": rng.choice(team.dispatch)}, "PRP")
    sid, unit = rng.choice(residents)  # P8: a unit whose leak keeps coming back within the quarter
    for k in range(3):
        add(start + timedelta(days=40 + 12 * k, hours=10), "repair_completed", sid,
            {"category": "leak", "worker": team.workers[k], "unit": unit, "owner": team.dispatch[0]}, "PRP")
    for sid, unit in rng.sample(residents, max(1, size // 4)):  # P4: yearly survey returns
        problems = rng.sample(["corridor lights", "parking order", "lift noise", "gate card", "greening"],
                              rng.choices([0, 1, 2], [60, 30, 10])[0])
        add(when(0.3, 0.5), "satisfaction_survey", sid, {"year": 2026, "problems": problems, "unit": unit,
                                                         "owner": rng.choice(team.cs)}, "PSV")
    for sid, unit in rng.sample(residents, max(1, size // 12)):  # P5
        at = when(0, 0.4)
        s = at.date()
        add(at, "service_contract", sid, {"start": s.isoformat(),
                                          "end": (s + timedelta(days=rng.choice([60, 90, 180]))).isoformat(),
                                          "service": rng.choice(["home_cleaning", "aircon_care", "car_wash"]),
                                          "unit": unit, "owner": rng.choice(team.cs)}, "PSC")
    fair = when(0.2, 0.4)
    for sid, _unit in rng.sample(residents, min(len(residents), max(10, size // 2))):  # P6: 10% sample
        add(fair, "activity_held", sid, {"name": "中秋游园会 Mid-autumn fair", "owner": rng.choice(team.cs)}, "PA")
    for sid, unit in rng.sample(residents, max(1, size // 25)):  # P7
        add(when(), "emergency_aid", sid, {"description": "resident fell in the lobby; ambulance called",
                                           "unit": unit, "owner": "prop-cs-sup"}, "PE")
    projects: list[tuple[str, str, datetime, int, dict[str, Any]]] = []
    for sid, unit in rng.sample(residents, max(2, size // 10)):  # P9
        at = when(0, 0.5)
        length = rng.choice([30, 45, 60])
        attrs = {"expected_end": (at.date() + timedelta(days=length)).isoformat(), "designer": rng.choice(DESIGNERS),
                 "inspector": rng.choice(INSPECTORS), "crew": rng.choice(CREWS), "unit": unit,
                 "owner": rng.choice(team.cs)}
        add(at, "renovation_started", sid, attrs, "PRN")
        projects.append((sid, events[-1][4], at, length, attrs))
    for sid, code, at, length, attrs in projects:
        done = at + timedelta(days=length + rng.choice([0, 0, 0, 5, 12]))
        if done < end:
            add(done, "renovation_completed", sid, {"project": code}, "PRC")
        if rng.random() < 0.3:
            cat_at = min(at + timedelta(days=rng.randint(3, length)), end - timedelta(hours=3))
            add(cat_at, "complaint_handled", sid, {"category": "renovation_noise", "severity": "general",
                                                  "dept": "security", "unit": attrs["unit"],
                                                  "owner": team.dept_sup["security"], "renovation": code,
                                                  "against": rng.choice(["crew", "crew", "designer", "inspector"])},
                "PC")
    for sid, unit in rng.sample(residents, max(1, size // 30)):  # P3: some households leave
        add(when(0.6, 0.95), "household_left", sid, {"unit": unit, "reason": "sold the flat"}, "PL")

    codes: list[str] = []
    triggers = later = planned = 0
    for at, kind, sid, attrs, tid in sorted(events, key=lambda e: (e[0], e[4])):
        if at > end:
            continue
        with clock.at(at):
            _, fus, _ = app.receive_trigger(f"property.{kind}", sid, attrs, trigger_id=tid)
        triggers += 1
        planned += len(fus)
        codes += [f.code for f in fus if f.window_open < end]
        later += sum(1 for f in fus if f.window_open >= end)  # later home visits, contract ends, warranty
    desk = _Desk(app)
    counts = work(desk, codes, rng, end, answers)
    extra = _answer_tickets(app, desk, rng, end)
    return {"subjects": size, "triggers": triggers, "followups": planned, **counts, "planned_later": later,
            **extra}


class _Desk:
    """The application as `work()` drives it, noting from each completed follow-up what it started:
    the tickets it opened (G12), for the departments to answer, and the repeated callback of a failed
    repair (P2, always open until worked)."""

    def __init__(self, app: DemoApp) -> None:
        self._app = app
        self.tickets: list[tuple[str, datetime]] = []  # (ticket, opened at)
        self.redo: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._app, name)

    def complete(self, code: str, answers: dict[str, Any], **kw: Any) -> Any:
        result = self._app.complete(code, answers, **kw)
        done, _messages = result
        self.tickets += [(t, clock.now()) for t in done.tickets]
        if done.visit_type == "repair_callback" and answers.get("passed") == "no":
            self.redo.append(f"{done.trigger}-redo{int(done.meta.get('round', 0)) + 1}")  # plans.repair_redo
        return result


def _answer_tickets(app: DemoApp, desk: _Desk, rng: random.Random, end: datetime) -> dict[str, int]:
    """Departments answer most tickets (G12); second follow-ups and repeated repair callbacks are worked."""
    resolved, seconds = 0, []
    for code, opened in desk.tickets:
        when = opened + timedelta(hours=rng.randint(3, 30))
        if when >= end - timedelta(hours=6) or rng.random() < 0.15:
            continue
        with clock.at(when):
            try:
                _, second = app.resolve_ticket(code, rng.choice(["re-done by engineering", "department apologised",
                                                                 "cleaned and checked"]), actor="prop-cs-sup")
            except HuifangError:
                continue
        resolved += 1
        seconds.append(second.code)
    more = work(app, seconds + desk.redo, rng, end, answers)
    return {"tickets_resolved": resolved, "second_followups_completed": more["completed"]}
