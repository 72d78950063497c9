"""The aesthetics clinic's share of `huifang demo`: a clinic with its ladder (assistants, consultants,
online consultants, member centre, department heads, directors), consultations, treatments in every
department (skin packages loop, A6), experience customers, memberships, one abusive client (A9) and a
batch campaign (A7: returned once, then reviewed and approved). A few follow-ups are left overdue so
the demo's final tick shows A4 locks at each level."""
from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from huifang.core.plugin_api import CLOSED, DemoApp, FollowUpInfo, HuifangError
from huifang.core.plugin_api.demo import at, person_name, phone, work

from .blacklist import set_blacklist
from .settings import AestheticsSettings
from .surveys import VISITS

DEPTS = {  # department: (share of treatments, head, assistants, spend range in yuan)
    "surgery": (20, "ae-surg-head", ["ae-surg-as1", "ae-surg-as2"], (8000, 30000)),
    "skin": (30, "ae-skin-head", ["ae-skin-as1", "ae-skin-as2"], (800, 3000)),
    "injectables": (25, "ae-inj-head", ["ae-inj-as1"], (2000, 6000)),
    "dental": (10, "ae-den-head", ["ae-den-as1"], (1500, 9000)),
    "tcm": (5, "ae-tcm-head", ["ae-tcm-as1"], (300, 1200)),
    "noninvasive": (10, "ae-nonin-head", ["ae-nonin-as1"], (1000, 5000)),
}
ITEMS = {"surgery": ["双眼皮", "隆鼻", "眼袋"], "skin": ["光子嫩肤", "点阵激光", "水光"],
         "injectables": ["玻尿酸", "肉毒素"], "dental": ["贝壳牙", "隐形矫正"], "tcm": ["针灸减重"],
         "noninvasive": ["热玛吉", "超声刀"]}
CONSULTANTS = ["ae-con1", "ae-con2", "ae-con3"]
ONLINE = ["ae-net1", "ae-net2"]
MEMBER = ["ae-mem1", "ae-mem2"]


def staff(app: DemoApp, rng: random.Random) -> None:
    add = app.add_staff
    add("ae-president", "院长 " + person_name(rng), "manager", "management", None)
    add("ae-ops-dir", "运营总监 " + person_name(rng), "manager", "operations", "ae-president")
    add("ae-cs-dir", "客服总监 " + person_name(rng), "manager", "customer_service", "ae-president")
    add("ae-center", "回访主管 " + person_name(rng), "supervisor", "customer_service", "ae-cs-dir")
    add("ae-con-head", "咨询主管 " + person_name(rng), "supervisor", "customer_service", "ae-cs-dir")
    add("ae-mem-head", "会员主管 " + person_name(rng), "supervisor", "member_centre", "ae-cs-dir")
    for dept, (_, head, assistants, _) in DEPTS.items():
        add(head, person_name(rng), "supervisor", dept, "ae-ops-dir")
        for a in assistants:
            add(a, "医助 " + person_name(rng), "agent", dept, head)
    add("ae-nurse1", "护士 " + person_name(rng), "agent", "surgery", "ae-surg-head")
    for c in CONSULTANTS + ONLINE:
        add(c, "咨询 " + person_name(rng), "agent", "customer_service", "ae-con-head")
    for m in MEMBER:
        add(m, "会员专员 " + person_name(rng), "agent", "member_centre", "ae-mem-head")


def answers(fu: FollowUpInfo, rng: random.Random) -> dict[str, Any]:
    survey = VISITS[fu.visit_type][1] if fu.visit_type in VISITS else None
    out: dict[str, Any] = {}
    for q in survey.questions if survey else []:
        if q.key == "complaint_risk":
            out[q.key] = "yes" if rng.random() < 0.03 else "no"
        elif q.key == "satisfaction":
            out[q.key] = rng.choices(["满意", "较满意", "基本满意", "不满意"], [68, 20, 9, 3])[0]
        elif q.kind == "bool":
            out[q.key] = "yes" if rng.random() < 0.85 else "no"
        elif q.kind == "score":
            out[q.key] = rng.randint(6, 10)
        elif q.choices:
            weights = [75, 20, 5][:len(q.choices)] + [1] * max(0, len(q.choices) - 3)
            out[q.key] = rng.choices(q.choices, weights)[0]
    return out


def build(app: DemoApp, rng: random.Random, start: datetime, end: datetime, size: int) -> dict[str, Any]:
    with at(start):
        staff(app, rng)
    span = (end - start).total_seconds()
    whens = sorted(start + timedelta(seconds=int(rng.random() * span * 0.97)) for _ in range(size))
    subjects: list[str] = []
    triggers: list[str] = []
    counts = {"consultations": 0, "procedures": 0, "experiences": 0, "memberships": 0}

    def trig(kind: str, sid: str, attrs: dict[str, Any], tid: str, when: datetime) -> None:
        with at(when):
            app.receive_trigger(f"aesthetics.{kind}", sid, attrs, trigger_id=tid)
        triggers.append(tid)

    depts = list(DEPTS)
    weights = [DEPTS[d][0] for d in depts]
    for i, when in enumerate(whens):
        sid = f"AE{i + 1:05d}"
        with at(when):
            app.add_subject(sid, person_name(rng), [phone(rng)], None, None, {"source": rng.choice(
                ["美团", "小红书", "转介绍", "自然到院"])})
        subjects.append(sid)
        roll = rng.random()
        if roll < 0.30:  # A1 consultation
            came = rng.random() < 0.6
            bought = came and rng.random() < 0.45
            online = not came or rng.random() < 0.4
            consultant = rng.choice(ONLINE if online else CONSULTANTS)
            dept = rng.choices(depts, weights)[0]
            attrs = {"consultant": consultant, "came": came, "purchased": bought,
                     "channel": "online" if online else "onsite", "department": dept,
                     "item": rng.choice(ITEMS[dept])}
            if not came and rng.random() < 0.2:
                attrs["member_specialist"] = rng.choice(MEMBER)
            trig("consultation", sid, attrs, f"AEC{i + 1:05d}", when)
            counts["consultations"] += 1
            if bought:
                _procedure(trig, rng, sid, f"AEP{i + 1:05d}", when + timedelta(hours=2), end, dept, counts,
                           consultant=rng.choice(CONSULTANTS))
        elif roll < 0.75:
            dept = rng.choices(depts, weights)[0]
            _procedure(trig, rng, sid, f"AEP{i + 1:05d}", when, end, dept, counts)
        elif roll < 0.90:  # A10 experience customers
            trig("experience", sid, {"grade": rng.choice([1, 1, 2]), "specialist": rng.choice(MEMBER),
                                     "item": rng.choice(ITEMS["skin"])}, f"AEE{i + 1:05d}", when)
            counts["experiences"] += 1
        else:  # A3 membership rights
            trig("membership_granted", sid, {"member_specialist": rng.choice(MEMBER),
                                             "card": rng.choice(["年卡", "皮肤管理套餐", "黑金会员"])},
                 f"AEM{i + 1:05d}", when)
            counts["memberships"] += 1
    # A9: one abusive client goes on the blacklist early on (marketing stops, care continues)
    with at(start + timedelta(days=3)):
        set_blacklist(app, subjects[0], "abusive (无礼多事)", False, actor="ae-cs-dir")
    # A4 story: three follow-ups nobody calls, 1, 3 and 8 working days overdue at the end
    untouched = _overdue_story(_followups(app, subjects, triggers), end)
    codes = [r["code"] for r in _followups(app, subjects, triggers) if r["code"] not in untouched]
    totals = {"completed": 0, "lost": 0, "attempts": 0, "open": 0}
    campaign = _campaign(app, rng, subjects, end)
    codes += campaign.pop("codes")
    seen: set[str] = set(untouched)
    for _ in range(4):  # planned on completion (A6 loop, marketing phase) -> worked in the next pass
        todo = [c for c in codes if c not in seen]
        if not todo:
            break
        seen.update(todo)
        for k, v in work(app, todo, rng, end, answers, skip_share=0.0).items():
            totals[k] += v
        codes = [r["code"] for r in _followups(app, subjects, triggers)]
    return {"subjects": size, "triggers": len(triggers), **counts, "followups": len(seen), **totals,
            **campaign, "left_overdue": len(untouched)}


def _followups(app: DemoApp, subjects: list[str], triggers: list[str]) -> list[dict[str, Any]]:
    """The follow-ups of the demo's triggers (rows of the engine's followups view), trigger by trigger."""
    by_trigger: dict[str, list[dict[str, Any]]] = {}
    for sid in subjects:
        for row in app.history.followups(sid):
            by_trigger.setdefault(row["trigger"], []).append(row)
    return [row for t in triggers for row in by_trigger.get(t, [])]


def _procedure(trig: Callable[..., None], rng: random.Random, sid: str, tid: str, when: datetime, end: datetime,
               dept: str, counts: dict[str, int], consultant: str | None = None) -> None:
    _, _, assistants, (lo, hi) = DEPTS[dept]
    attrs: dict[str, Any] = {"department": dept, "assistant": rng.choice(assistants),
                             "consultant": consultant or rng.choice(CONSULTANTS), "item": rng.choice(ITEMS[dept]),
                             "amount": rng.randrange(lo, hi, 100), "doctor": f"dr-{dept[:4]}-{rng.randint(1, 2)}"}
    if dept == "surgery":
        attrs.update(stitch_removal_day=rng.choice([5, 7, 7, 10]), nurse="ae-nurse1")
    if dept == "skin" and rng.random() < 0.5:
        attrs["scab_days"] = sorted(rng.sample([2, 3, 4, 5, 7, 10], 2))
    if dept in ("skin", "noninvasive") and rng.random() < 0.4:  # A6 package: sessions every 28 days
        sessions = rng.choice([3, 5])
        for k in range(1, sessions + 1):
            at = when + timedelta(days=28 * (k - 1))
            if at >= end:
                break
            trig("procedure", sid, {**attrs, "package_sessions": sessions, "session": k, "interval_days": 28},
                 f"{tid}-s{k}", at)
            counts["procedures"] += 1
        return
    trig("procedure", sid, attrs, tid, when)
    counts["procedures"] += 1


def _overdue_story(rows: list[dict[str, Any]], end: datetime) -> set[str]:
    """Pick one follow-up each, of different owners, due about 1, 3 and 8 working days before the end;
    left uncalled, the demo's final tick locks their owners at levels 1, 2 and 3 (A4)."""
    picked: set[str] = set()
    owners: set[str] = set()
    for lag in (2, 4, 9):
        target = end - timedelta(days=lag)
        best: tuple[float, dict[str, Any]] | None = None
        for row in rows:
            if row["owner"] in owners or row["status"] in CLOSED or not row["owner"]:
                continue
            gap = abs((datetime.fromisoformat(row["due"]) - target).total_seconds())
            if best is None or gap < best[0]:
                best = (gap, row)
        if best is not None and best[0] < 2 * 86400:
            picked.add(best[1]["code"])
            owners.add(best[1]["owner"])
    return picked


def _campaign(app: DemoApp, rng: random.Random, subjects: list[str], end: datetime) -> dict[str, Any]:
    """A7: an autumn skin campaign: first returned (no quantified goal), then complete, reviewed, approved."""
    settings = app.settings("aesthetics")
    threshold = (settings if isinstance(settings, AestheticsSettings) else AestheticsSettings()).batch_threshold
    targets = [{"subject": s, "purchases": [{"date": "2026-03-15", "item": rng.choice(ITEMS["skin"]),
                                             "reason": rng.choice(["色斑", "毛孔", "暗沉"])}]}
               for s in subjects[: max(threshold + 5, 1)]]
    when = end - timedelta(days=12)
    start = (when + timedelta(days=1)).date()
    code = "AE-CAMP-AUTUMN"
    plan: dict[str, Any] = {"id": code, "title": "秋季皮肤管理老客回访", "department": "skin", "targets": targets,
                            "goal": {"metric": "re-visit bookings"}, "owner": "ae-skin-head",
                            "executors": ["ae-skin-as1", "ae-skin-as2", "ae-mem1"],
                            "schedule": {"start": start.isoformat(), "end": (start + timedelta(days=29)).isoformat()},
                            "standard": "3 分钟内; 先关怀后介绍; 记录抗拒点",
                            "execution_rules": "拒绝者不再致电; 黑名单不访"}
    try:
        with at(when):
            app.request_campaign(plan, actor="ae-skin-head")  # returned: the goal is not quantified
        with at(when + timedelta(hours=3)):
            app.request_campaign({**plan, "goal": {"metric": "re-visit bookings",
                                                   "target": max(3, len(targets) // 5)}}, actor="ae-skin-head")
        with at(when + timedelta(hours=20)):
            app.review_campaign(code, actor="ae-center", note="targets and script checked")
        with at(when + timedelta(days=1, hours=2)):
            done = app.approve_campaign(code, actor="ae-ops-dir")
    except HuifangError:
        return {"codes": [], "campaign_followups": 0}
    return {"codes": list(done["followups"]), "campaign_followups": len(done["followups"]),
            "campaign_skipped": len(done["skipped"])}

