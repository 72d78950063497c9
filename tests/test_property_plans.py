"""Property plugin plans (P1–P7, P9, P10, G10), driven through the real CLI on SQLite and PostgreSQL.

Expected dates are computed from the rulebook on the official 2026 calendar: 中秋 09-25..27 off,
国庆 10-01..07 off (10-08 Thu is the first workday after), make-up workdays 09-20 (Sun) and 10-10 (Sat);
a calendar-day deadline on a day off rolls to the next workday. Property calling windows (default,
rulebook silent): 09:00-12:00 and 14:00-18:00.
"""
from __future__ import annotations

import pytest

from huifang.core.plugin_api.sampling import KeyedSampler
from huifang.core.privacy import SAMPLING_KEY
from huifang.projections import open_app

NOW = "2026-09-28T09:00:00+08:00"


@pytest.fixture
def estate(hf, store_cache):
    return store_cache(hf, _estate)


def _estate(hf) -> None:
    """An estate: manager, customer-service supervisor, department supervisor, dispatcher, steward, worker."""
    hf.ok("staff", "add", "mgr", "--name", "经理", "--role", "manager")
    hf.ok("staff", "add", "cs-sup", "--name", "客服主管", "--role", "supervisor", "--reports-to", "mgr")
    hf.ok("staff", "add", "sec-sup", "--name", "保安主管", "--role", "supervisor", "--reports-to", "mgr")
    hf.ok("staff", "add", "disp", "--name", "调度", "--role", "agent", "--reports-to", "cs-sup")
    hf.ok("staff", "add", "stw", "--name", "管家", "--role", "agent", "--reports-to", "cs-sup")
    hf.ok("staff", "add", "w1", "--name", "维修工", "--role", "agent", "--dept", "engineering")
    hf.ok("subject", "add", "R1", "--name", "张三", "--phone", "13800000001", "--attr", "unit=1-101")
    # G17: the store's first draw makes its sampling key (another resident, so R1's records stay as they were)
    hf.ok("subject", "add", "R0", "--name", "李四", "--phone", "13800000002")
    hf.ok("trigger", "property.activity_held", "--subject", "R0", "--id", "KEY0", "--attr", "name=开盘典礼",
          now="2026-09-01T10:00+08:00")


def drawn(hf, purpose: str, rate: float, prefix: str, sampled: bool = True, n: int = 1) -> list[str]:
    """Ids the store's own keyed draw samples (or leaves out) for `purpose` at `rate` (G17): tests are
    inside the store and may hold its key; nobody outside it can tell."""
    app = open_app(hf.db)
    try:
        assert app.recorder.fetch_key(SAMPLING_KEY) is not None
        s = KeyedSampler(app.keyring.sampling_key())
    finally:
        app.close()
    return [f"{prefix}{i}" for i in range(500) if (s.score(purpose, f"{prefix}{i}") < rate) == sampled][:n]


def trig(hf, kind, tid, at, *attrs, subject="R1", **kw):
    args = ["trigger", f"property.{kind}", "--subject", subject, "--id", tid, "--at", at]
    for a in attrs:
        args += ["--attr", a]
    return hf.ok(*args, now=kw.get("now", at))


def windows(d):
    return [(f["key"] if "key" in f else f["id"], f["visit_type"], f["window_open"], f["due"], f["owner"])
            for f in d["followups"]]


def reach_and_complete(hf, code, now, *answers, actor=None, channel="phone"):
    hf.ok("attempt", code, "--channel", channel, "--outcome", "reached", now=now, actor=actor)
    args = ["complete", code]
    for a in answers:
        args += ["--answer", a]
    if "satisfaction=不满意" in answers:  # G16: a dissatisfied answer is saved with its reason
        args += ["--reason-code", "quality", "--reason", "还是没解决"]
    return hf(*args, now=now, actor=actor)


# -- defaults -----------------------------------------------------------------------------------------
def test_g10_property_retention_is_two_years_and_g6_property_calling_windows():
    from huifang.plugins.property.settings import PropertySettings

    s = PropertySettings()
    assert s.retention_years == 2  # G10: property records are kept 2 years (003 §6 4.7)
    assert s.calling_windows == ["09:00-12:00", "14:00-18:00"]
    assert (s.repair_sample_rate, s.repair_open_days, s.repair_due_days) == (0.9, 0, 3)  # P2 default
    assert (s.recheck_rate, s.activity_sample_rate) == (0.3, 0.1)  # P1, P6


def test_g18_every_property_survey_has_at_most_five_questions(hf):
    plugins = {p["plugin"]: p for p in hf.ok("plugins")}
    vts = plugins["property"]["visit_types"]
    assert {v["name"] for v in vts} >= {"complaint_callback", "complaint_recheck", "repair_callback", "home_visit",
                                        "contract_midterm", "contract_end", "activity_callback",
                                        "emergency_callback", "renovation_early", "renovation_midterm",
                                        "renovation_completion", "warranty_check", "survey_problem"}
    assert all(1 <= len(v["survey"]) <= 5 for v in vts)
    complaint = next(v for v in vts if v["name"] == "complaint_callback")
    # P1 content: quality, effect, satisfaction, shortcomings, suggestion
    assert [q["key"] for q in complaint["survey"]] == ["quality", "effect", "satisfaction", "shortcomings",
                                                       "suggestion"]


# -- P1 complaints ------------------------------------------------------------------------------------
def test_p1_complaint_callback_due_three_days_after_handling_rolls_past_national_day(estate):
    # handled Tue 2026-09-29 15:00: +3 days = 10-02 (National Day) -> the next workday, Thu 10-08
    d = trig(estate, "complaint_handled", "C1", "2026-09-29T15:00+08:00", "category=noise", "severity=general",
             "dept=security", "owner=sec-sup")
    cb = d["followups"][0]
    assert (cb["id"], cb["visit_type"], cb["owner"]) == ("C1-callback", "complaint_callback", "sec-sup")
    assert cb["window_open"] == "2026-09-29T15:00:00+08:00"
    assert cb["due"] == "2026-10-08T23:59:59+08:00"
    # handled Thu 09-24: +3 = Sun 09-27 (中秋) -> Mon 09-28
    d = trig(estate, "complaint_handled", "C2", "2026-09-24T10:00+08:00", "category=noise", "severity=general",
             "dept=security", now=NOW)
    assert d["followups"][0]["due"] == "2026-09-28T23:59:59+08:00"
    # handled Mon 10-12: +3 = Thu 10-15, an ordinary workday
    d = trig(estate, "complaint_handled", "C3", "2026-10-12T10:00+08:00", "category=fees", "severity=general",
             "dept=customer_service")
    assert d["followups"][0]["due"] == "2026-10-15T23:59:59+08:00"


def test_p1_major_complaint_is_owned_by_the_manager_and_not_sampled(estate):
    d = trig(estate, "complaint_handled", "CM", "2026-10-12T10:00+08:00", "category=lift", "severity=major",
             "dept=engineering", "manager=mgr")
    assert [(f["visit_type"], f["owner"]) for f in d["followups"]] == [("complaint_callback", "mgr")]
    assert d["skipped"][0]["key"] == "recheck" and "manager" in d["skipped"][0]["reason"]


def test_p1_major_complaint_needs_a_manager(estate, tmp_path):
    r = estate("trigger", "property.complaint_handled", "--subject", "R1", "--id", "CM1", "--attr",
               "category=lift", "--attr", "severity=major", "--attr", "dept=engineering", now=NOW)
    assert r.code == 2 and "P1" in r.err and "manager" in r.err
    r = estate("trigger", "property.complaint_handled", "--subject", "R1", "--id", "CM2", "--attr", "category=lift",
               "--attr", "severity=major", "--attr", "dept=engineering", "--attr", "manager=sec-sup", now=NOW)
    assert r.code == 2 and "--attr manager" in r.err and "supervisor, not manager" in r.err
    assert estate("show", "CM1-callback").code == 2  # nothing was written
    # the deployment's manager from huifang.toml
    cfg = tmp_path / "huifang.toml"
    cfg.write_text('[plugins.property]\nmanager = "mgr"\n', encoding="utf-8")
    d = estate.ok("trigger", "property.complaint_handled", "--subject", "R1", "--id", "CM3", "--attr",
                  "category=lift", "--attr", "severity=major", "--attr", "dept=engineering", now=NOW,
                  config=str(cfg))
    assert d["followups"][0]["owner"] == "mgr"


def test_p1_supervisor_recheck_sample_is_reproducible_and_recorded(estate):
    """30% of general complaints get a customer-service supervisor re-check; the decision is the
    store's keyed draw of the trigger id (G17), stored on the trigger (out) or the follow-up (in)."""
    ins, outs = drawn(estate, "complaint_recheck", 0.3, "CR", n=2), drawn(estate, "complaint_recheck", 0.3, "CR",
                                                                          sampled=False, n=2)
    for tid in ins + outs:
        d = trig(estate, "complaint_handled", tid, "2026-10-12T10:00+08:00", "category=noise", "severity=general",
                 "dept=security", "owner=sec-sup")
        kinds = [f["visit_type"] for f in d["followups"]]
        if tid in ins:
            assert kinds == ["complaint_callback", "complaint_recheck"]
            rc = d["followups"][1]
            # the callback owner's own supervisor re-checks; the callback owner may not (G9)
            assert rc["owner"] == "mgr" and rc["meta"]["sample"]["rate"] == 0.3
            assert rc["meta"]["sample"]["score"] < 0.3 and rc["meta"]["sample"]["rule"] == "P1"
        else:
            assert kinds == ["complaint_callback"]
            [skip] = d["skipped"]
            assert (skip["key"], skip["meta"]["sample"]["rate"], skip["meta"]["sample"]["rule"]) == \
                ("recheck", 0.3, "P1")
            assert skip["meta"]["sample"]["score"] >= 0.3 and skip["meta"]["standby"]["owner"] == "mgr"
    # the decision is stored as an event: an auditor reads it from the trigger's history
    ev = estate.ok("history", f"trigger:{outs[0]}")["events"][0]
    assert ev["event"] == "Received" and ev["data"]["skipped"][0]["meta"]["sample"]["rate"] == 0.3


def test_p1_unresolved_complaint_goes_back_to_the_department_as_a_ticket(estate):
    trig(estate, "complaint_handled", "C9", "2026-10-12T10:00+08:00", "category=noise", "severity=general",
         "dept=security", "owner=sec-sup")
    r = reach_and_complete(estate, "C9-callback", "2026-10-13T10:00+08:00", "effect=not_resolved",
                           "satisfaction=不满意", actor="sec-sup")
    assert r.code == 0, r.err
    tk = estate.ok("ticket", "show", "TK-C9-callback-1")
    # G13: not resolved AND dissatisfied is strong dissatisfaction -> major
    assert (tk["department"], tk["category"], tk["severity"]) == ("security", "complaint_noise", "major")


# -- P2 repairs ---------------------------------------------------------------------------------------
def test_p2_repair_callback_due_three_days_after_completion_and_the_worker_never_calls(estate):
    [tid] = drawn(estate, "repair", 0.9, "RP")
    d = trig(estate, "repair_completed", tid, "2026-09-30T16:00+08:00", "category=plumbing", "worker=w1",
             "unit=1-101", "owner=disp")
    cb = d["followups"][0]
    # completed Wed 09-30: +3 = 10-03 (National Day) -> Thu 10-08
    assert (cb["visit_type"], cb["owner"], cb["due"]) == ("repair_callback", "disp", "2026-10-08T23:59:59+08:00")
    assert cb["meta"]["worker"] == "w1" and cb["meta"]["sample"]["rate"] == 0.9
    r = estate("attempt", cb["id"], "--channel", "phone", "--outcome", "reached", actor="w1",
               now="2026-10-08T10:00+08:00")
    assert r.code == 2 and "G9" in r.err  # the repair worker has an interest in the answer
    r = estate("trigger", "property.repair_completed", "--subject", "R1", "--id", "RPX", "--attr", "category=leak",
               "--attr", "worker=w1", "--attr", "unit=1-101", "--attr", "owner=w1", now=NOW)
    assert r.code == 2 and "G9" in r.err


def test_p2_not_sampled_repair_is_stored_with_rate_and_score(estate):
    [tid] = drawn(estate, "repair", 0.9, "RN", sampled=False)
    d = trig(estate, "repair_completed", tid, "2026-10-12T10:00+08:00", "category=plumbing", "worker=w1",
             "unit=1-101", "owner=disp")
    assert d["followups"] == []
    skip = d["skipped"][0]
    assert skip["key"] == "callback" and "P2" in skip["reason"]
    assert skip["meta"]["sample"]["rate"] == 0.9 and skip["meta"]["sample"]["score"] >= 0.9


def test_p2_thirty_percent_standard_and_works_window_by_configuration(estate, tmp_path):
    cfg = tmp_path / "huifang.toml"
    cfg.write_text("[plugins.property]\nrepair_sample_rate = 0.3\nrepair_open_days = 30\nrepair_due_days = 60\n",
                   encoding="utf-8")
    [tid] = drawn(estate, "repair", 0.3, "RW")
    d = estate.ok("trigger", "property.repair_completed", "--subject", "R1", "--id", tid, "--at",
                  "2026-09-01T10:00+08:00", "--attr", "category=plumbing", "--attr", "worker=w1", "--attr",
                  "unit=1-101", "--attr", "owner=disp", config=str(cfg), now="2026-09-01T10:00+08:00")
    cb = d["followups"][0]
    # works (003 §6): 1 month after (10-01 National Day -> 10-08), within 2 months (Sat 10-31 -> Mon 11-02)
    assert (cb["window_open"], cb["due"]) == ("2026-10-08T09:00:00+08:00", "2026-11-02T23:59:59+08:00")
    assert cb["meta"]["sample"]["rate"] == 0.3
    bad = tmp_path / "bad.toml"
    bad.write_text("[plugins.property]\nrepair_sample_rate = 1.5\n", encoding="utf-8")
    r = estate("plugins", config=str(bad))
    assert r.code == 2 and "plugins.property.repair_sample_rate" in r.err


def test_p2_failed_repair_is_redispatched_and_followed_up_again(estate):
    [tid] = drawn(estate, "repair", 0.9, "RF")
    trig(estate, "repair_completed", tid, "2026-10-09T16:00+08:00", "category=leak", "worker=w1", "unit=1-101",
         "owner=disp")
    r = reach_and_complete(estate, f"{tid}-callback", "2026-10-12T10:00+08:00", "timeliness=on_time", "passed=no",
                           "satisfaction=不满意", actor="disp")
    assert r.code == 0, r.err
    msgs = r.data["messages"]
    assert any("engineering" in m for m in msgs)
    tk = estate.ok("ticket", "show", f"TK-{tid}-callback-1")
    assert (tk["department"], tk["category"]) == ("engineering", "repair_failed")
    redo = estate.ok("show", f"{tid}-redo1")
    # after the 24 h re-dispatch (Tue 10-13 10:00), again within 3 days: Fri 10-16; same owner, worker excluded
    assert (redo["visit_type"], redo["window_open"], redo["due"], redo["owner"]) == \
        ("repair_callback", "2026-10-13T10:00:00+08:00", "2026-10-16T23:59:59+08:00", "disp")
    assert redo["meta"]["round"] == 1 and redo["meta"]["redo_of"] == f"{tid}-callback"


# -- P3 home visits, P10 sign-off ---------------------------------------------------------------------
def test_p3_two_home_visits_a_year_until_the_household_leaves(estate):
    d = trig(estate, "household_registered", "H1", "2026-01-05T10:00+08:00", "unit=1-101", "owner=stw",
             now="2026-01-05T10:00+08:00")
    got = [(f["id"], f["channel"], f["window_open"][:10], f["due"][:10], f["provisional"]) for f in d["followups"]
           if f["visit_type"] == "home_visit"]
    assert got == [
        ("H1-visit1", "home_visit", "2026-01-05", "2026-07-06", False),  # 07-04 is a Saturday -> Mon 07-06
        ("H1-visit2", "home_visit", "2026-07-06", "2027-01-04", True),   # opens Sun 07-05 -> Mon; 2027 provisional
        ("H1-visit3", "home_visit", "2027-01-05", "2027-07-05", True),
        ("H1-visit4", "home_visit", "2027-07-05", "2028-01-04", True),
    ]
    # registering the same unit again while it has not left plans nothing new
    again = trig(estate, "household_registered", "H1b", "2026-02-02T10:00+08:00", "unit=1-101",
                 now="2026-02-02T10:00+08:00")
    assert again["followups"] == [] and "H1" in again["skipped"][0]["reason"]
    left = trig(estate, "household_left", "L1", "2026-03-02T10:00+08:00", "unit=1-101", "reason=sold the flat",
                now="2026-03-02T10:00+08:00")
    assert sorted(left["skipped"][0]["meta"]["cancelled"]) == ["H1-survey2026", "H1-survey2027", "H1-visit1",
                                                               "H1-visit2", "H1-visit3", "H1-visit4"]  # P3, P4
    v = estate.ok("show", "H1-visit2", now="2026-03-02T10:00+08:00")
    assert v["status"] == "cancelled" and "household left unit 1-101" in v["closed_reason"] and "L1" in v["closed_reason"]
    # after leaving, the unit can be registered again by its new household
    new = trig(estate, "household_registered", "H2", "2026-03-03T10:00+08:00", "unit=1-101",
               now="2026-03-03T10:00+08:00")
    assert len(new["followups"]) == 6  # four half-years and the 2026 and 2027 surveys (P4)


def test_p10_home_visit_record_needs_the_residents_confirmation_and_p3_keeps_the_visits_coming(estate):
    trig(estate, "household_registered", "H1", "2026-01-05T10:00+08:00", "unit=1-101", "owner=stw",
         now="2026-01-05T10:00+08:00")
    at = "2026-02-03T10:00+08:00"
    estate.ok("attempt", "H1-visit1", "--channel", "home_visit", "--outcome", "reached", now=at, actor="stw")
    r = estate("complete", "H1-visit1", "--answer", "problem=none", "--answer", "satisfaction=满意", now=at,
               actor="stw")
    assert r.code == 2 and "resident_confirmed" in r.err  # a required answer of the home-visit record
    r = estate("complete", "H1-visit1", "--answer", "problem=none", "--answer", "satisfaction=满意",
               "--answer", "resident_confirmed=no", now=at, actor="stw")
    assert r.code == 2 and "P10" in r.err
    assert estate.ok("show", "H1-visit1", now=at)["status"] == "due"  # nothing was written
    r = estate("complete", "H1-visit1", "--answer", "problem=repair", "--answer", "note=bathroom tap drips",
               "--answer", "satisfaction=较满意", "--answer", "resident_confirmed=yes", now=at, actor="stw")
    assert r.code == 0, r.err
    assert r.data["answers"]["resident_confirmed"] == "yes"
    # the repair the household raised goes to engineering; the next half-year beyond the horizon is planned
    assert estate.ok("ticket", "show", "TK-H1-visit1-1")["department"] == "engineering"
    v5 = estate.ok("show", "H1-visit5", now=at)
    assert (v5["window_open"][:10], v5["due"][:10]) == ("2028-01-05", "2028-07-04")


# -- P4, P5, P6, P7 -----------------------------------------------------------------------------------
def test_p4_every_problem_raised_in_the_yearly_survey_is_followed_up(estate):
    d = trig(estate, "satisfaction_survey", "SV1", "2026-10-12T10:00+08:00", "year=2026",
             "problems=corridor lights; gate card")
    assert [(f["id"], f["meta"]["problem"], f["due"][:10]) for f in d["followups"]] == [
        ("SV1-problem1", "corridor lights", "2026-10-19"), ("SV1-problem2", "gate card", "2026-10-19")]
    none = trig(estate, "satisfaction_survey", "SV2", "2026-10-12T10:00+08:00", "year=2026")
    assert none["followups"] == [] and "P4" in none["skipped"][0]["reason"]


def test_p5_contracted_service_mid_term_and_end(estate):
    d = trig(estate, "service_contract", "SC1", "2026-09-01T10:00+08:00", "start=2026-09-01", "end=2026-11-30",
             "service=home_cleaning", now="2026-09-01T10:00+08:00")
    # 90 days: mid-term 10-16 (Fri) within a week (10-23); end Mon 11-30 within a week (12-07)
    assert [(f["visit_type"], f["window_open"][:10], f["due"][:10]) for f in d["followups"]] == [
        ("contract_midterm", "2026-10-16", "2026-10-23"), ("contract_end", "2026-11-30", "2026-12-07")]
    r = estate("trigger", "property.service_contract", "--subject", "R1", "--id", "SC2", "--attr", "start=2026-09-01",
               "--attr", "end=2026-08-01", now=NOW)
    assert r.code == 2 and "--attr end" in r.err


def test_p6_activity_participants_sampled_ten_percent_within_one_month(estate):
    [tid] = drawn(estate, "activity", 0.1, "A")
    d = trig(estate, "activity_held", tid, "2026-09-15T10:00+08:00", "name=中秋游园会", now="2026-09-15T10:00+08:00")
    assert [(f["visit_type"], f["due"]) for f in d["followups"]] == [("activity_callback", "2026-10-15T23:59:59+08:00")]
    [out] = drawn(estate, "activity", 0.1, "A", sampled=False)
    d = trig(estate, "activity_held", out, "2026-09-15T10:00+08:00", "name=中秋游园会", now="2026-09-15T10:00+08:00")
    assert d["followups"] == [] and d["skipped"][0]["meta"]["sample"]["rate"] == 0.1


def test_p7_emergency_help_within_one_week(estate):
    d = trig(estate, "emergency_aid", "E1", "2026-09-28T10:00+08:00", "description=fell in the lobby")
    # Mon 09-28 + 7 = 10-05 (National Day) -> Thu 10-08
    assert [(f["visit_type"], f["due"]) for f in d["followups"]] == [("emergency_callback", "2026-10-08T23:59:59+08:00")]


# -- P9 renovation works ------------------------------------------------------------------------------
RENO = ("expected_end=2026-10-31", "designer=des-li", "inspector=insp-wang", "crew=crew-a", "owner=stw")


def test_p9_renovation_about_ten_days_mid_term_and_completion(estate):
    d = trig(estate, "renovation_started", "RN1", "2026-09-01T10:00+08:00", *RENO, now="2026-09-01T10:00+08:00")
    assert [(f["visit_type"], f["window_open"][:10], f["due"][:10]) for f in d["followups"]] == [
        ("renovation_early", "2026-09-09", "2026-09-14"),       # day 8..12 (Sun 09-13 -> Mon 09-14)
        ("renovation_midterm", "2026-09-29", "2026-10-08"),     # 60 days: day 28..32 (10-03 -> 10-08)
        ("renovation_completion", "2026-11-02", "2026-11-03"),  # Sat 10-31 -> Mon 11-02, due 11-03
    ]
    assert all(set(f["meta"]) >= {"designer", "inspector", "crew", "project"} for f in d["followups"])
    r = estate("trigger", "property.renovation_started", "--subject", "R1", "--id", "RN0", "--at",
               "2026-09-01T10:00+08:00", "--attr", "expected_end=2026-08-01", "--attr", "designer=d",
               "--attr", "inspector=i", "--attr", "crew=c", now=NOW)
    assert r.code == 2 and "--attr expected_end" in r.err


def test_p9_late_completion_replans_the_completion_visit_and_adds_warranty_spot_checks(estate, tmp_path):
    cfg = tmp_path / "huifang.toml"
    cfg.write_text("[plugins.property]\nwarranty_sample_rate = 1.0\n", encoding="utf-8")
    estate.config = str(cfg)
    trig(estate, "renovation_started", "RN1", "2026-09-01T10:00+08:00", *RENO, now="2026-09-01T10:00+08:00")
    d = trig(estate, "renovation_completed", "RC1", "2026-11-16T16:00+08:00", now="2026-11-16T16:00+08:00")
    got = [(f["id"], f["window_open"][:10], f["due"][:10]) for f in d["followups"]]
    assert got == [("RC1-completion", "2026-11-16", "2026-11-19"),
                   ("RC1-warranty1", "2027-05-17", "2027-05-31"),  # 6 months: Sun 05-16 -> Mon (2027 provisional)
                   ("RC1-warranty2", "2027-11-16", "2027-11-30"),
                   ("RC1-warranty3", "2028-05-16", "2028-05-30"),
                   ("RC1-warranty4", "2028-11-16", "2028-11-30")]
    assert d["followups"][0]["meta"]["replanned"] == "RN1-completion"
    old = estate.ok("show", "RN1-completion", now="2026-11-16T16:00+08:00")
    assert old["status"] == "cancelled" and "2026-11-16" in old["closed_reason"]
    r = estate("trigger", "property.renovation_completed", "--subject", "R1", "--id", "RC2", "--attr", "project=RN1",
               now="2026-11-17T10:00+08:00")
    assert r.code == 2 and "already completed" in r.err


def test_p9_on_time_completion_keeps_the_planned_visit_and_samples_warranty_checks(estate):
    trig(estate, "renovation_started", "RN1", "2026-09-01T10:00+08:00", *RENO, now="2026-09-01T10:00+08:00")
    d = trig(estate, "renovation_completed", "RC1", "2026-11-02T11:00+08:00", "project=RN1",
             now="2026-11-02T11:00+08:00")
    keys = {s["key"]: s for s in d["skipped"]}
    assert "RN1-completion" in keys["completion"]["reason"]
    for k in range(1, 5):
        planned = any(f["id"] == f"RC1-warranty{k}" for f in d["followups"])
        rec = next(f["meta"] for f in d["followups"] if f["id"] == f"RC1-warranty{k}") if planned else \
            keys[f"warranty{k}"]["meta"]
        assert (rec["sample"]["purpose"], rec["sample"]["rule"], rec["sample"]["rate"]) == (f"warranty{k}", "P9", 0.3)
        assert planned == (rec["sample"]["score"] < 0.3) and (planned or rec["project"] == "RN1")


def test_p9_renovation_complaint_in_a_follow_up_opens_a_ticket(estate):
    trig(estate, "renovation_started", "RN1", "2026-09-01T10:00+08:00", *RENO, now="2026-09-01T10:00+08:00")
    r = reach_and_complete(estate, "RN1-early", "2026-09-10T10:00+08:00", "quality=fair", "satisfaction=基本满意",
                           "complaint=crew", "problem=crew leaves rubble in the corridor", actor="stw")
    assert r.code == 0, r.err
    tk = estate.ok("ticket", "show", "TK-RN1-early-1")
    assert (tk["department"], tk["category"]) == ("renovation", "renovation_crew")
    estate.ok("staff", "add", "crew-a", "--name", "施工队长", "--role", "agent")
    r = estate("attempt", "RN1-midterm", "--channel", "phone", "--outcome", "reached", actor="crew-a",
               now="2026-09-29T10:00+08:00")
    assert r.code == 2 and "G9" in r.err  # designer, inspector and crew have an interest in the answers


# -- attribute validation -----------------------------------------------------------------------------
def test_property_attributes_are_validated_with_one_line_errors(estate):
    r = estate("trigger", "property.complaint_handled", "--subject", "R1", "--attr", "category=noise",
               "--attr", "severity=urgent", "--attr", "dept=security", now=NOW)
    assert r.code == 2 and "--attr severity" in r.err and len(r.err.strip().splitlines()) == 1
    r = estate("trigger", "property.repair_completed", "--subject", "R1", "--attr", "category=leak",
               "--attr", "unit=1-101", now=NOW)
    assert r.code == 2 and "--attr worker" in r.err
    r = estate("trigger", "property.repair_completed", "--subject", "R1", "--attr", "category=leak",
               "--attr", "unit=1-101", "--attr", "worker=w1", "--attr", "owner=nobody", now=NOW)
    assert r.code == 2 and "--attr owner" in r.err and "not registered" in r.err


def test_p9_early_completion_cancels_the_visits_meant_for_works_in_progress(estate):
    trig(estate, "renovation_started", "RN1", "2026-09-01T10:00+08:00", *RENO, now="2026-09-01T10:00+08:00")
    # finished on 09-21, before the mid-term window (09-29): the mid-term and the planned completion visit lapse
    d = trig(estate, "renovation_completed", "RC1", "2026-09-21T16:00+08:00", "project=RN1",
             now="2026-09-21T16:00+08:00")
    assert d["followups"][0]["id"] == "RC1-completion"
    assert d["followups"][0]["due"] == "2026-09-24T23:59:59+08:00"  # Mon 09-21 + 3 days
    at = "2026-09-21T16:00+08:00"
    assert estate.ok("show", "RN1-midterm", now=at)["status"] == "cancelled"
    assert estate.ok("show", "RN1-completion", now=at)["status"] == "cancelled"
    assert estate.ok("show", "RN1-early", now=at)["status"] != "cancelled"  # its window (09-09) has opened


def test_g6_official_2027_calendar_replans_the_provisional_home_visits(estate, tmp_path):
    trig(estate, "household_registered", "H1", "2026-01-05T10:00+08:00", "unit=1-101", now="2026-01-05T10:00+08:00")
    # a (made-up) official 2027 schedule where Mon 2027-01-04 is still a New Year day off
    cal = tmp_path / "2027.json"
    cal.write_text('{"year": 2027, "holidays": ["2027-01-01", "2027-01-04"], "workdays": [], "source": "test"}',
                   encoding="utf-8")
    at = "2026-12-01T09:00:00+08:00"
    assert estate.ok("calendar", "import", str(cal), now=at)["rescheduled"] >= 1
    v2 = estate.ok("show", "H1-visit2", now=at)
    assert (v2["due"], v2["provisional"]) == ("2027-01-05T23:59:59+08:00", False)
    v3 = estate.ok("show", "H1-visit3", now=at)
    assert v3["window_open"] == "2027-01-05T09:00:00+08:00"  # 2027-01-05 opens after the day off
