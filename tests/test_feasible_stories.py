"""Nothing is planned that cannot be done, nobody is punished for what they could not do (A2, A4, G3,
G6), and `show --json` carries what the call needs (M6, G4, G6): stories through the CLI on SQLite and
PostgreSQL. The plan arithmetic itself: tests/unit/test_feasible_plans.py."""
from __future__ import annotations

from tests.conftest import Huifang, StoreCache

DISCHARGE = ["--attr", "department=cardiology", "--attr", "diagnosis=CHD", "--attr", "responsible_nurse=n1",
             "--attr", "attending_doctor=dr1"]


def clinic(hf: Huifang, store_cache: StoreCache) -> Huifang:
    hf.now = "2026-06-01T09:00:00+08:00"
    return store_cache(hf, _clinic)


def _clinic(hf: Huifang) -> None:
    hf.ok("staff", "add", "ae-dir", "--name", "总监", "--role", "manager")
    hf.ok("staff", "add", "ae-head", "--name", "主管", "--role", "supervisor", "--reports-to", "ae-dir")
    for a in ("a1", "a2", "nu1"):
        hf.ok("staff", "add", a, "--name", a, "--role", "agent", "--reports-to", "ae-head")
    hf.ok("subject", "add", "S1", "--name", "张三", "--phone", "13800000001")


def surgery(hf: Huifang, tid: str, at: str, now: str, *attrs: str) -> dict:
    args = ["trigger", "aesthetics.procedure", "--subject", "S1", "--id", tid, "--at", at, "--attr", "department=surgery",
            "--attr", "assistant=a1", "--attr", "consultant=a2", "--attr", "nurse=nu1"]
    for a in attrs:
        args += ["--attr", a]
    return hf.ok(*args, now=now)


def test_G6_A2_attempts_on_a_clinical_holiday_count_retry_the_same_day_and_lock_nobody(hf: Huifang, store_cache: StoreCache) -> None:
    clinic(hf, store_cache)
    surgery(hf, "P1", "2026-09-30T15:00:00+08:00", "2026-09-30T16:00:00+08:00", "stitch_removal_day=7")
    fu = hf.ok("show", "P1-dressing", now="2026-09-30T16:00:00+08:00")
    assert fu["window_open"] == "2026-10-01T10:00:00+08:00" and fu["clinical_exception"]  # National Day
    a = hf.ok("attempt", "P1-dressing", "--channel", "phone", "--outcome", "no_answer", actor="a1",
              now="2026-10-01T10:30:00+08:00")
    assert a["attempts"][0]["outside_window"] is False and not any("G6" in m for m in a["messages"])
    assert a["next_attempt_at"] == "2026-10-01T15:00:00+08:00"  # not a week later (10-08)
    hf.ok("attempt", "P1-dressing", "--channel", "phone", "--outcome", "reached", actor="a1",
          now="2026-10-01T15:05:00+08:00")
    hf.ok("complete", "P1-dressing", "--answer", "will_come=yes", "--answer", "complaint_risk=no", actor="a1",
          now="2026-10-01T15:10:00+08:00")
    # day-3 care (10-03..10-04), a holiday too
    care = hf.ok("attempt", "P1-care", "--channel", "phone", "--outcome", "reached", actor="a1",
                 now="2026-10-03T10:30:00+08:00")
    assert care["attempts"][0]["outside_window"] is False
    hf.ok("complete", "P1-care", "--answer", "healing=normal", "--answer", "satisfaction=满意", "--answer",
          "complaint_risk=no", actor="a1", now="2026-10-03T10:40:00+08:00")
    hf.ok("tick", now="2026-10-09T09:00:00+08:00")
    assert hf.ok("staff", "show", "a1")["lock"] is None  # the assistant did everything that could be done


def test_A4_G6_late_entry_warns_plans_catch_up_calls_and_locks_nobody(hf: Huifang, store_cache: StoreCache) -> None:
    clinic(hf, store_cache)
    d = surgery(hf, "P1", "2026-07-01T10:00:00+08:00", "2026-07-14T10:00:00+08:00", "stitches=false")  # 13 days late
    fus = {f["id"]: f for f in d["followups"]}
    assert [w.split(":")[0] for w in d["warnings"]] == ["P1-dressing", "P1-care"]
    assert all("catch-up" in w for w in d["warnings"])
    assert (fus["P1-dressing"]["window_open"], fus["P1-dressing"]["due"][:10]) == \
        ("2026-07-14T10:00:00+08:00", "2026-07-15")  # from entry, not 07-02
    assert fus["P1-care"]["due"][:10] == "2026-07-16" and fus["P1-care"]["meta"]["late_entry"]["due"].startswith(
        "2026-07-05")
    assert fus["P1-recovery"]["due"][:10] == "2026-07-16" and fus["P1-recovery"]["warnings"] == []  # still open
    t = hf.ok("tick", now="2026-07-15T09:00:00+08:00")
    assert t["overdue"] == 0 and t["locked"] == 0  # no hard lock for calls that never existed in time
    care = hf.ok("show", "P1-care", now="2026-07-15T09:00:00+08:00")  # kept on the follow-up for the call
    assert care["warnings"][0].startswith("G6/A4: entered 2026-07-14 10:00, after its window 2026-07-04..2026-07-05")


def test_A2_surgery_without_stitch_day_warns_at_entry(hf: Huifang, store_cache: StoreCache) -> None:
    clinic(hf, store_cache)
    r = hf("trigger", "aesthetics.procedure", "--subject", "S1", "--id", "P2", "--at", "2026-06-01T08:30:00+08:00",
           "--attr", "department=surgery", "--attr", "assistant=a1", "--attr", "consultant=a2",
           "--attr", "item=眼袋", now="2026-06-01T09:00:00+08:00", json_out=False)
    assert r.code == 0 and "! P2-stitch: A2: no stitch_removal_day given: stitches out on day 5" in r.out
    assert hf.ok("show", "P2-stitch")["window_open"][:10] == "2026-06-05"


def test_G3_no_reminder_on_a_holiday_nor_before_working_hours(hf: Huifang) -> None:
    hf.ok("staff", "add", "n1", "--name", "王护士", "--role", "agent", "--dept", "cardiology")
    hf.ok("subject", "add", "P1", "--name", "张三")
    hf.ok("trigger", "discharge", "--subject", "P1", "--id", "D1", *DISCHARGE)  # opens and is due 10-08
    assert hf.ok("tick", now="2026-10-07T10:30+08:00")["reminded"] == 0  # National Day: nobody works
    assert hf.ok("tick", now="2026-10-08T09:00+08:00")["reminded"] == 0  # before working hours
    t = hf.ok("tick", now="2026-10-08T10:05+08:00")
    assert [r["followup"] for r in t["reminders"]] == ["D1-1"]


def test_M6_G4_G6_show_gives_the_template_the_record_fields_and_the_provisional_assumption(hf: Huifang) -> None:
    hf.ok("staff", "add", "n1", "--name", "王护士", "--role", "agent", "--dept", "cardiology")
    hf.ok("subject", "add", "P1", "--name", "张三")
    hf.ok("trigger", "discharge", "--subject", "P1", "--id", "D1", "--at", "2027-09-24T09:00+08:00", *DISCHARGE,
          now="2027-09-24T09:00+08:00")
    fu = hf.ok("show", "D1-1", now="2027-09-24T09:00+08:00")
    assert "lifestyle" in [q["key"] for q in fu["survey"]] and len(fu["survey"]) <= 5  # M6, G18
    assert [q["key"] for q in fu["record_fields"]] == ["health_guidance", "suggestion"]  # G4
    assert fu["guides"][0]["title"] == "康复评分模板：冠心病 (0-10 分)"  # M6
    assert fu["provisional"] and fu["calendar_assumption"]["unknown_holidays"] == ["中秋"]  # G6: 2027
    assert fu["calendar_assumption"]["fixed_holidays"][0] == "国庆 2027-10-01"
    assert fu["calendar_assumption"]["text"].startswith("2027: no official holiday schedule yet")
    hf.ok("attempt", "D1-1", "--channel", "phone", "--outcome", "reached", actor="n1", now=fu["window_open"])
    done = hf.ok("complete", "D1-1", "--answer", "recovery=8", "--answer", "lifestyle=good", "--answer",
                 "satisfaction=满意", "--answer", "health_guidance=低盐低脂饮食，按时服药", actor="n1",
                 now=fu["window_open"])
    assert done["answers"]["health_guidance"] == "低盐低脂饮食，按时服药"
