"""A1, A2, A3, A5, A6, A8, A9, A10: plans of the aesthetics clinic, on the real 2026 calendar.

Days are calendar days (clinics open seven days); non-clinical windows roll off official public
holidays (G6), clinical steps keep their day."""
from __future__ import annotations

import pytest

from tests.conftest import Huifang, StoreCache

NOW = "2026-06-01T09:00:00+08:00"


def staff(hf: Huifang) -> None:
    hf.ok("staff", "add", "ae-boss", "--name", "院长", "--role", "manager")
    hf.ok("staff", "add", "ae-dir", "--name", "总监", "--role", "manager", "--reports-to", "ae-boss")
    hf.ok("staff", "add", "ae-head", "--name", "主管", "--role", "supervisor", "--reports-to", "ae-dir")
    hf.ok("staff", "add", "ae-cs", "--name", "客服主管", "--role", "supervisor", "--reports-to", "ae-dir")
    for s in ("as1", "con1", "nu1", "net1", "mem1"):
        hf.ok("staff", "add", s, "--name", s, "--role", "agent", "--reports-to", "ae-head")


@pytest.fixture
def clinic(hf: Huifang, store_cache: StoreCache) -> Huifang:
    hf.now = NOW
    return store_cache(hf, _clinic)


def _clinic(hf: Huifang) -> None:
    staff(hf)
    hf.ok("subject", "add", "S1", "--name", "张三", "--phone", "13800000001")


def procedure(hf: Huifang, tid: str, at: str, *attrs: str, subject: str = "S1", now: str | None = None) -> dict:
    args = ["trigger", "aesthetics.procedure", "--subject", subject, "--id", tid, "--at", at,
            "--attr", "assistant=as1", "--attr", "consultant=con1"]
    for a in attrs:
        args += ["--attr", a]
    return hf.ok(*args, now=now or at)


def windows(data: dict) -> dict[str, tuple[str, str, str | None, str]]:
    return {f["id"].split("-", 1)[1]: (f["window_open"][:10], f["due"][:10], f["owner"], f["visit_type"])
            for f in data["followups"]}


def test_a2_surgery_curve_with_stitch_removal_on_day_7(clinic: Huifang) -> None:
    d = procedure(clinic, "P1", "2026-06-01T08:30:00+08:00", "department=surgery", "stitch_removal_day=7",
                  "nurse=nu1")
    assert windows(d) == {
        "dressing": ("2026-06-02", "2026-06-02", "as1", "dressing_reminder"),  # day 1, re-visit 1 d
        "care": ("2026-06-04", "2026-06-05", "as1", "post_op_care"),  # day 3, professional 2 d
        "stitch": ("2026-06-07", "2026-06-07", "nu1", "stitch_reminder"),  # day 6 (a Sunday), nurse
        "recovery": ("2026-06-08", "2026-06-16", "con1", "recovery_care"),  # day 7-15, consultant
        "recheck": ("2026-07-01", "2026-07-01", "con1", "recheck_invite"),  # day 30, invite re-check
        "result": ("2026-08-30", "2026-08-31", "as1", "result_check"),  # day 90 (a Sunday)
    }
    first = d["followups"][0]
    assert first["window_open"] == "2026-06-02T10:00:00+08:00" and first["due"] == "2026-06-02T23:59:59+08:00"
    assert not any(f["provisional"] for f in d["followups"])


def test_a2_surgery_without_stitches_has_no_stitch_reminder_and_nurse_defaults_to_assistant(
        clinic: Huifang) -> None:
    d = procedure(clinic, "P1", "2026-06-01T08:30:00+08:00", "department=surgery", "stitches=false")
    assert "stitch" not in windows(d) and len(d["followups"]) == 5 and d["warnings"] == []
    d = procedure(clinic, "P2", "2026-06-01T08:40:00+08:00", "department=surgery", "stitch_removal_day=10")
    assert windows(d)["stitch"] == ("2026-06-10", "2026-06-10", "as1", "stitch_reminder")


def test_g6_a2_public_holiday_clinical_steps_keep_their_day_others_roll(clinic: Huifang) -> None:
    # surgery on 2026-09-30: day 1 = 10-01 and day 3 = 10-03 are National Day (10-01..07 off)
    d = procedure(clinic, "P1", "2026-09-30T15:00:00+08:00", "department=surgery", "stitch_removal_day=7")
    w = windows(d)
    assert w["dressing"][:2] == ("2026-10-01", "2026-10-01")  # clinical: a wound does not wait
    assert w["care"][:2] == ("2026-10-03", "2026-10-04")
    assert w["stitch"][:2] == ("2026-10-06", "2026-10-06")
    assert w["recovery"][:2] == ("2026-10-08", "2026-10-15")  # day 7 = 10-07 holiday -> 10-08
    assert w["recheck"][:2] == ("2026-10-30", "2026-10-30")
    # the consultation's marketing window prompted on 10-01 rolls to 10-08 (5 days: 10-08..10-12)
    clinic.ok("subject", "add", "S2", "--name", "李四")
    m = clinic.ok("trigger", "consultation", "--subject", "S2", "--at", "2026-09-30T15:00:00+08:00",
                  "--attr", "consultant=net1", "--attr", "came=false", "--attr", "purchased=false",
                  "--attr", "channel=online", now="2026-09-30T16:00:00+08:00")["followups"][0]
    assert (m["window_open"][:10], m["due"][:10]) == ("2026-10-08", "2026-10-08")


def test_a2_skin_follows_scab_and_peel_off_days(clinic: Huifang) -> None:
    d = procedure(clinic, "P1", "2026-06-01T08:30:00+08:00", "department=skin", "scab_days=[4,10]")
    assert windows(d) == {
        "care": ("2026-06-02", "2026-06-03", "as1", "treatment_care"),
        "scab1": ("2026-06-05", "2026-06-06", "as1", "scab_check"),
        "scab2": ("2026-06-11", "2026-06-12", "as1", "scab_check"),
    }
    d = procedure(clinic, "P2", "2026-06-01T08:40:00+08:00", "department=skin")  # default scab days 3, 7
    assert [w[0] for k, w in sorted(windows(d).items())] == ["2026-06-02", "2026-06-04", "2026-06-08"]


def test_a2_injectables_weekly_result_check_and_top_up_reminder(clinic: Huifang) -> None:
    d = procedure(clinic, "P1", "2026-06-01T08:30:00+08:00", "department=injectables")
    w = windows(d)
    assert w["care"][:2] == ("2026-06-02", "2026-06-03")
    assert [w[f"week{k}"][0] for k in range(1, 5)] == ["2026-06-08", "2026-06-15", "2026-06-22", "2026-06-29"]
    # the top-up reminder (day 14) is the week-2 check's day: one contact with both scripts (A2)
    assert "topup" not in w and w["week2"] == ("2026-06-15", "2026-06-15", "as1", "weekly_check")
    week2 = next(f for f in d["followups"] if f["id"] == "P1-week2")
    assert [g["title"] for g in week2["guides"]] == ["注射效果回访", "补量提醒"]


def test_a2_other_departments_care_guidance_result(clinic: Huifang) -> None:
    d = procedure(clinic, "P1", "2026-06-01T08:30:00+08:00", "department=dental")
    assert {k: v[:2] for k, v in windows(d).items()} == {
        "care": ("2026-06-02", "2026-06-03"), "guidance": ("2026-06-04", "2026-06-05"),
        "result": ("2026-07-01", "2026-07-02")}


@pytest.mark.parametrize("attrs,fragment", [
    (["department=laser"], "department"),
    (["department=surgery", "scab_days=[3]"], "scab_days applies to department skin"),
    (["department=skin", "session=2"], "session needs package_sessions"),
    (["department=surgery", "stitch_removal_day=1"], "stitch_removal_day"),
])
def test_procedure_attributes_validated_nothing_written(clinic: Huifang, attrs: list[str], fragment: str) -> None:
    args = ["trigger", "aesthetics.procedure", "--subject", "S1", "--id", "BAD", "--attr", "assistant=as1",
            "--attr", "consultant=con1"]
    for a in attrs:
        args += ["--attr", a]
    r = clinic(*args)
    assert r.code == 2 and fragment in r.err and len(r.err.strip().splitlines()) == 1
    assert clinic("history", "BAD").code == 2


def test_a3_windows_are_configurable(db: str, tmp_path) -> None:
    cfg = tmp_path / "huifang.toml"
    cfg.write_text("[plugins.aesthetics]\nholiday_fixed_visits = []\n[plugins.aesthetics.windows]\n"
                   "professional = 3\nmarketing = 7\n[plugins.aesthetics.surgery]\nresult_day = 180\n",
                   encoding="utf-8")
    hf = Huifang(db, now=NOW, config=str(cfg))
    hf.ok("init")
    staff(hf)
    hf.ok("subject", "add", "S1", "--name", "张三")
    w = windows(procedure(hf, "P1", "2026-06-01T08:30:00+08:00", "department=surgery"))
    assert w["care"][:2] == ("2026-06-04", "2026-06-06")  # 3-day professional window
    assert w["result"][:2] == ("2026-11-28", "2026-11-30")  # day 180
    bad = tmp_path / "bad.toml"
    bad.write_text("[plugins.aesthetics.windows]\nemotional = 0\n", encoding="utf-8")
    r = Huifang(db, now=NOW, config=str(bad))("queue")
    assert r.code == 2 and "plugins.aesthetics.windows.emotional" in r.err


def consultation(hf: Huifang, *attrs: str, subject: str = "S1") -> dict:
    args = ["trigger", "consultation", "--subject", subject, "--at", "2026-06-01T08:00:00+08:00"]
    for a in attrs:
        args += ["--attr", a]
    return hf.ok(*args)


def test_a1_a5_not_visited_belongs_to_online_consultant_or_member_specialist(clinic: Huifang) -> None:
    d = consultation(clinic, "consultant=net1", "came=false", "purchased=false", "channel=online")
    f = d["followups"][0]
    assert (f["visit_type"], f["owner"], f["window_open"][:10], f["due"][:10]) == \
        ("not_visited", "net1", "2026-06-02", "2026-06-06")  # marketing: 5 days
    d = consultation(clinic, "consultant=net1", "came=false", "purchased=false", "channel=online",
                     "member_specialist=mem1")
    assert d["followups"][0]["owner"] == "mem1"


def test_a1_not_purchased_and_purchased(clinic: Huifang) -> None:
    f = consultation(clinic, "consultant=con1", "came=true", "purchased=false", "channel=onsite")["followups"][0]
    assert (f["visit_type"], f["owner"]) == ("not_purchased", "con1")
    d = consultation(clinic, "consultant=con1", "came=true", "purchased=true", "channel=onsite")
    assert d["followups"] == [] and "procedure" in d["skipped"][0]["reason"]
    r = clinic("trigger", "consultation", "--subject", "S1", "--attr", "consultant=con1", "--attr", "came=false",
               "--attr", "purchased=false", "--attr", "channel=onsite")
    assert r.code == 2 and "channel onsite means the client came" in r.err


def test_a3_a10_experience_customers(clinic: Huifang) -> None:
    def exp(grade: int) -> dict:
        return windows(clinic.ok("trigger", "experience", "--subject", "S1", "--at", "2026-06-01T08:00:00+08:00",
                                 "--attr", f"grade={grade}", "--attr", "specialist=mem1"))
    one, two = exp(1), exp(2)
    assert one["first"] == ("2026-06-04", "2026-06-10", "mem1", "experience_first")  # day 3, 7-day window
    assert two["first"][:2] == ("2026-06-04", "2026-06-16")  # grade 2: 15 days, never due after the second
    assert one["second"][:2] == two["second"][:2] == ("2026-06-09", "2026-06-16")  # day 8-15
    r = clinic("trigger", "experience", "--subject", "S1", "--attr", "grade=3")
    assert r.code == 2 and "grade is 1" in r.err


def test_a3_membership_rights_within_15_days(clinic: Huifang) -> None:
    f = clinic.ok("trigger", "membership_granted", "--subject", "S1", "--at", "2026-06-01T08:00:00+08:00",
                  "--attr", "member_specialist=mem1", "--attr", "card=年卡")["followups"][0]
    assert (f["visit_type"], f["owner"], f["window_open"][:10], f["due"][:10]) == \
        ("membership_rights", "mem1", "2026-06-02", "2026-06-16")


def test_a5_emotional_care_finally_to_the_member_centre(db: str, tmp_path) -> None:
    cfg = tmp_path / "huifang.toml"
    cfg.write_text('[plugins.aesthetics]\nmember_centre = "mem1"\n', encoding="utf-8")
    hf = Huifang(db, now=NOW, config=str(cfg))
    hf.ok("init")
    staff(hf)
    hf.ok("subject", "add", "S1", "--name", "张三")
    w = windows(procedure(hf, "P1", "2026-06-01T08:30:00+08:00", "department=surgery"))
    assert w["recovery"][2] == "mem1" and w["dressing"][2] == "as1" and w["recheck"][2] == "con1"
    w = windows(procedure(hf, "P2", "2026-06-01T08:40:00+08:00", "department=skin", "member_specialist=net1"))
    assert w["care"][2] == "net1" and w["scab1"][2] == "as1"


def reach_and_complete(hf: Huifang, code: str, when: str, actor: str, **answers: str) -> dict:
    hf.ok("attempt", code, "--channel", "phone", "--outcome", "reached", now=when, actor=actor)
    args = ["complete", code]
    for k, v in answers.items():
        args += ["--answer", f"{k}={v}"]
    return hf.ok(*args, now=when, actor=actor)


PRO = {"healing": "normal", "complaint_risk": "no", "satisfaction": "满意"}


def test_a6_package_cycle_loops_then_marketing(clinic: Huifang) -> None:
    d = procedure(clinic, "K1", "2026-06-01T08:30:00+08:00", "department=skin", "package_sessions=2",
                  "interval_days=28")
    assert windows(d)["scab2"][0] == "2026-06-08"
    done = reach_and_complete(clinic, "K1-scab2", "2026-06-08T10:30:00+08:00", "as1", **PRO)
    # session 1 of 2 ends: re-visit reminder the day before the next session (day 27)
    assert any("K1-next-session" in m for m in done["messages"])
    nxt = clinic.ok("show", "K1-next-session")
    assert (nxt["visit_type"], nxt["window_open"][:10], nxt["due"][:10], nxt["owner"]) == \
        ("next_session_reminder", "2026-06-28", "2026-06-28", "as1")
    # the next treatment (session 2 of 2) is a new trigger; the end of its curve starts marketing (A6)
    procedure(clinic, "K2", "2026-06-29T08:30:00+08:00", "department=skin", "package_sessions=2", "session=2")
    done = reach_and_complete(clinic, "K2-scab2", "2026-07-06T10:30:00+08:00", "as1", **PRO)
    m = clinic.ok("show", "K2-marketing")
    assert (m["visit_type"], m["window_open"][:10], m["due"][:10]) == ("marketing", "2026-07-07", "2026-07-11")
    assert m["meta"]["phase"] == "after_cycle"
    r = clinic("show", "K2-next-session")
    assert r.code == 2


def test_a6_a9_blacklisted_client_gets_care_but_no_marketing(clinic: Huifang) -> None:
    consultation(clinic, "consultant=con1", "came=true", "purchased=false", "channel=onsite")
    open_marketing = clinic.ok("queue", "--on", "2026-06-02")
    assert [q["visit_type"] for q in open_marketing] == ["not_purchased"]
    r = clinic.ok("aesthetics", "blacklist", "S1", "--reason", "abusive (无礼多事)", actor="ae-cs")
    assert len(r["cancelled"]) == 1
    assert clinic.ok("queue", "--on", "2026-06-02") == []
    d = consultation(clinic, "consultant=net1", "came=false", "purchased=false", "channel=online")
    assert d["followups"] == [] and "A9" in d["skipped"][0]["reason"]
    d = procedure(clinic, "P1", "2026-06-01T08:30:00+08:00", "department=dental")  # care continues
    assert len(d["followups"]) == 3
    done = reach_and_complete(clinic, "P1-result", "2026-07-01T10:30:00+08:00", "as1", result="9",
                              satisfaction="满意", complaint_risk="no")
    assert any("A9" in m and "blacklisted" in m for m in done["messages"])
    assert clinic("show", "P1-marketing").code == 2
    assert clinic.ok("aesthetics", "grade", "S1")["blacklisted"] is True


def test_a9_grades_from_monthly_spend(clinic: Huifang) -> None:
    def spend(tid: str, at: str, amount: int, subject: str = "S1") -> None:
        procedure(clinic, tid, at, "department=skin", f"amount={amount}", subject=subject,
                  now="2026-09-01T09:00:00+08:00")

    # June-August: 1800 + 1500 + 1500 -> 1600 a month -> A
    spend("G1", "2026-06-03T10:00:00+08:00", 1800)
    spend("G2", "2026-07-03T10:00:00+08:00", 1000)
    spend("G3", "2026-07-20T10:00:00+08:00", 500)
    spend("G4", "2026-08-03T10:00:00+08:00", 1500)
    g = clinic.ok("aesthetics", "grade", "S1", now="2026-09-01T09:00:00+08:00")
    assert (g["grade"], g["average_monthly"], g["months"]) == ("A", 1600.0, ["2026-06", "2026-07", "2026-08"])
    clinic.ok("subject", "add", "S2", "--name", "王五")
    spend("H1", "2026-08-03T10:00:00+08:00", 2400, subject="S2")  # 800 a month -> B
    assert clinic.ok("aesthetics", "grade", "S2", now="2026-09-01T09:00:00+08:00")["grade"] == "B"
    clinic.ok("subject", "add", "S3", "--name", "赵六")
    spend("J1", "2026-08-03T10:00:00+08:00", 2397, subject="S3")  # 799 -> C
    g = clinic.ok("aesthetics", "grade", "S3", now="2026-09-01T09:00:00+08:00")
    assert g["grade"] == "C" and not g["blacklisted"]  # a new client is never blacklisted for spend


def test_a9_six_months_under_150_blacklists(clinic: Huifang) -> None:
    procedure(clinic, "B0", "2026-01-05T10:00:00+08:00", "department=skin", "amount=120",
              now="2026-08-01T09:00:00+08:00")
    g = clinic.ok("aesthetics", "grade", "S1", now="2026-08-01T09:00:00+08:00")  # Feb-Jul: nothing spent
    assert g["blacklisted"] and "2026-02..2026-07" in g["blacklist_reason"]
    g = clinic.ok("aesthetics", "grade", "S1", now="2026-07-01T09:00:00+08:00")  # Jan counts: 120 < 150 too
    assert g["blacklisted"]
    procedure(clinic, "B1", "2026-05-05T10:00:00+08:00", "department=skin", "amount=150",
              now="2026-08-01T09:00:00+08:00")
    assert not clinic.ok("aesthetics", "grade", "S1", now="2026-08-01T09:00:00+08:00")["blacklisted"]
    d = consultation(clinic, "consultant=net1", "came=false", "purchased=false", "channel=online")
    assert len(d["followups"]) == 1


def test_a8_complaint_risk_opens_ticket_owned_by_customer_service_supervisor(db: str, tmp_path) -> None:
    cfg = tmp_path / "huifang.toml"
    cfg.write_text('[plugins.aesthetics]\ncomplaint_supervisor = "ae-cs"\n', encoding="utf-8")
    hf = Huifang(db, now=NOW, config=str(cfg))
    hf.ok("init")
    staff(hf)
    hf.ok("subject", "add", "S1", "--name", "张三")
    procedure(hf, "P1", "2026-06-01T08:30:00+08:00", "department=surgery", "doctor=dr1")
    done = reach_and_complete(hf, "P1-care", "2026-06-04T10:30:00+08:00", "as1", healing="normal",
                              complaint_risk="yes", satisfaction="基本满意")
    assert done["tickets"] == ["TK-P1-care-1"]
    t = hf.ok("ticket", "show", "TK-P1-care-1")
    assert (t["category"], t["department"], t["owner"], t["status"]) == \
        ("complaint_risk", "surgery", "ae-cs", "open")
    assert t["deadline"] == "2026-06-05T10:30:00+08:00"  # G12: 24 h
    assert done["notifications"][0]["to"] == "ae-cs"
    # without a configured supervisor the owner's supervisor owns it; abnormal healing -> the doctor
    done = reach_and_complete(hf, "P1-dressing", "2026-06-02T10:30:00+08:00", "as1", will_come="yes",
                              complaint_risk="no")
    assert done["tickets"] == []


def test_A8_complaint_risk_defaults_to_the_customer_service_supervisor_not_the_agents_own(clinic: Huifang) -> None:
    clinic.ok("staff", "head", "customer_service", "ae-cs")  # 客服主管 heads customer service
    procedure(clinic, "P1", "2026-06-01T08:30:00+08:00", "department=surgery", "doctor=dr1")
    done = reach_and_complete(clinic, "P1-care", "2026-06-04T10:30:00+08:00", "as1", healing="abnormal",
                              complaint_risk="yes", satisfaction="不满意", dissatisfaction_code="result",
                              dissatisfaction_reason="肿得厉害")
    tickets = [clinic.ok("ticket", "show", t) for t in done["tickets"]]
    # A8: the customer-service supervisor owns and is told; the doctor's ticket (no head of surgery named)
    # falls to the agent's supervisor (G12) instead of nobody
    assert [(t["category"], t["owner"]) for t in tickets] == [("complaint_risk", "ae-cs"),
                                                              ("recovery_problem", "ae-head")]
    assert {n["to"] for n in done["notifications"]} == {"ae-cs", "dr1", "con1"}
    assert (tickets[0]["reason_code"], tickets[0]["reason"]) == ("result", "肿得厉害")  # G16


def test_surveys_have_at_most_five_questions_and_ask_complaint_risk() -> None:
    from huifang.plugins.aesthetics.surveys import VISITS

    for name, (_, survey, _, _) in VISITS.items():
        keys = [q.key for q in survey.questions]
        assert len(keys) <= 5 and "complaint_risk" in keys, name
