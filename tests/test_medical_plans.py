"""Medical plans through the public CLI on SQLite and PostgreSQL: M1 discharge, M2 outpatient, M3/M4
first chronic calls, M5 health-check recall, M6 per-disease templates, M9 owners, G6 calling windows,
and attribute / settings validation (one-line errors). The plan arithmetic on the 2026 holiday calendar
(National Day, weekends, every curve entry) is unit-tested on the fakes: tests/unit/test_medical_rules.py."""
from __future__ import annotations

import pytest

NOW = "2026-11-02T09:00+08:00"  # Monday


@pytest.fixture
def clinic(hf, store_cache):
    return store_cache(hf, _clinic)


def _clinic(hf) -> None:
    hf.ok("staff", "add", "hn", "--name", "护士长", "--role", "supervisor", "--dept", "cardiology")
    hf.ok("staff", "add", "n1", "--name", "王护士", "--role", "agent", "--dept", "cardiology", "--reports-to", "hn")
    hf.ok("subject", "add", "P1", "--name", "张三", "--phone", "13800000001")


def trig(hf, kind, tid, *attrs, now=NOW, subject="P1", **kw):
    args = ["trigger", f"medical.{kind}", "--subject", subject, "--id", tid]
    for a in attrs:
        args += ["--attr", a]
    return hf.ok(*args, now=now, **kw)


DISCHARGE = ("department=cardiology", "diagnosis=CHD", "responsible_nurse=n1", "attending_doctor=dr1")


def test_m1_first_followup_one_week_after_discharge_due_within_ten_days(clinic):
    d = trig(clinic, "discharge", "D1", *DISCHARGE)
    [fu] = d["followups"]
    assert fu["id"] == "D1-1" and fu["visit_type"] == "discharge_first"
    assert fu["window_open"] == "2026-11-09T10:00:00+08:00"  # Mon 11-02 + 7 days, first hospital window (G6)
    assert fu["due"] == "2026-11-12T23:59:59+08:00"  # + 10 days (000 §8)
    assert fu["owner"] == "n1" and fu["department"] == "cardiology"  # M9: the responsible nurse
    assert fu["meta"]["attending_doctor"] == "dr1"
    assert [q["key"] for q in fu["survey"]] == ["recovery", "adherence", "lifestyle", "symptoms", "satisfaction"]


def test_m6_recovery_score_template_per_disease(clinic):
    # a surgical diagnosis without its own template falls back to "surgery" (more cases: tests/unit)
    d = trig(clinic, "discharge", "D3", "department=surgery", "diagnosis=cholecystectomy", "responsible_nurse=n1",
             "attending_doctor=dr2", "surgery=true")
    meta = d["followups"][0]["meta"]
    assert meta["recovery_template"]["name"] == "surgery" and meta["recovery_template"]["score_guide"]


def test_m2_specialist_first_visit_after_7_days(clinic):
    d = trig(clinic, "outpatient_visit", "O1", "department=cardiology", "specialist=true", "first_visit=true")
    fu = d["followups"][0]
    assert fu["visit_type"] == "outpatient_first"
    assert (fu["window_open"], fu["due"]) == ("2026-11-09T10:00:00+08:00", "2026-11-12T23:59:59+08:00")


def test_m2_return_visit_is_not_followed_up(clinic):
    d = trig(clinic, "outpatient_visit", "O3", "department=cardiology", "specialist=true", "first_visit=false")
    assert d["followups"] == [] and "M2" in d["skipped"][0]["reason"]


def test_m5_health_check_findings_plan_a_targeted_recall(clinic):
    d = trig(clinic, "health_check", "H1", "findings=lipids,nodule", "responsible_nurse=n1")
    [fu] = d["followups"]
    assert fu["visit_type"] == "health_check_recall" and fu["owner"] == "n1"
    assert (fu["window_open"], fu["due"]) == ("2026-11-05T10:00:00+08:00", "2026-11-12T23:59:59+08:00")
    assert fu["meta"]["findings"] == ["lipids", "nodule"] and set(fu["meta"]["advice"]) == {"lipids", "nodule"}
    assert fu["department"] == "health_management"
    j = trig(clinic, "health_check", "H2", 'findings=["glucose"]')  # JSON list works too
    assert j["followups"][0]["meta"]["findings"] == ["glucose"] and j["followups"][0]["owner"] is None


def test_m5_health_check_without_findings_is_not_recalled(clinic):
    d = trig(clinic, "health_check", "H3", "findings=[]")
    assert d["followups"] == [] and "M5" in d["skipped"][0]["reason"]


def test_m4_discharge_with_condition_is_call_one_of_the_curve(clinic):
    d = trig(clinic, "discharge", "D4", *DISCHARGE, "condition=diabetes")
    [fu] = d["followups"]
    assert fu["visit_type"] == "discharge_first"
    assert fu["meta"]["curve"] == "diabetes" and fu["meta"]["seq"] == 1 and fu["meta"]["phase"] == "month_one"


def test_m3_second_enrolment_does_not_fork_the_curve(clinic):
    trig(clinic, "chronic_enrolment", "E2", "condition=hypertension")
    again = trig(clinic, "chronic_enrolment", "E3", "condition=hypertension")
    assert again["followups"] == [] and "E2-c1" in again["skipped"][0]["reason"]
    d = trig(clinic, "discharge", "D5", *DISCHARGE, "condition=hypertension")
    assert [f["id"] for f in d["followups"]] == ["D5-1"] and "curve" not in d["followups"][0]["meta"]
    assert "E2-c1" in d["skipped"][0]["reason"]
    other = trig(clinic, "chronic_enrolment", "E4", "condition=diabetes")  # another condition: its own curve
    assert [f["id"] for f in other["followups"]] == ["E4-c1"]


@pytest.mark.parametrize("attrs,field", [
    (("department=cardiology", "specialist=true", "first_visit=true", "ward=3"), "--attr ward: unknown key"),
    (("department=cardiology", "first_visit=true"), "--attr specialist: is required"),
    (("department=cardiology", "specialist=maybe", "first_visit=true"), "--attr specialist"),
    (("department=cardiology", "specialist=true", "first_visit=true", "recovery_score=11"), "--attr recovery_score"),
])
def test_outpatient_attributes_are_validated(clinic, attrs, field):
    args = ["trigger", "medical.outpatient_visit", "--subject", "P1"]
    for a in attrs:
        args += ["--attr", a]
    r = clinic(*args, now=NOW)
    assert r.code == 2 and field in r.err and r.err.count("\n") == 1 and "Traceback" not in r.err


@pytest.mark.parametrize("kind,attrs,field", [
    ("chronic_enrolment", ("condition=asthma",), "--attr condition"),
    ("chronic_enrolment", ("condition=diabetes", "phase=late"), "--attr phase"),
    ("health_check", ("findings=lipids,xray",), "--attr findings"),
    ("health_check", (), "--attr findings: is required"),
    ("discharge", (*DISCHARGE, "condition=obesity"), "--attr condition"),
    ("discharge", DISCHARGE[:3], "--attr attending_doctor: is required"),
])
def test_trigger_attributes_are_validated(clinic, kind, attrs, field):
    args = ["trigger", f"medical.{kind}", "--subject", "P1"]
    for a in attrs:
        args += ["--attr", a]
    r = clinic(*args, now=NOW)
    assert r.code == 2 and field in r.err and r.err.count("\n") == 1


def test_g6_hospital_calling_windows_are_the_default(clinic):
    trig(clinic, "discharge", "D6", *DISCHARGE)
    inside = clinic.ok("attempt", "D6-1", "--channel", "phone", "--outcome", "no_answer", actor="n1",
                       now="2026-11-09T11:30+08:00")
    assert not any("G6" in m for m in inside["messages"])
    assert inside["next_attempt_at"] == "2026-11-09T15:00:00+08:00"  # G5: the afternoon window 15:00–17:00
    outside = clinic.ok("attempt", "D6-1", "--channel", "phone", "--outcome", "no_answer", actor="n1",
                        now="2026-11-09T12:30+08:00")
    assert any("G6" in m and "10:00-12:00, 15:00-17:00" in m for m in outside["messages"])


def test_defaults_are_overridable_in_huifang_toml(clinic, tmp_path):
    cfg = tmp_path / "huifang.toml"
    cfg.write_text('[plugins.medical]\ncalling_windows = ["08:30-11:30"]\nno_holidays = false\n'
                   'discharge_open_days = 5\ndischarge_due_days = 6\noutpatient_specialist_days = 3\n'
                   'hypertension_intervals = [2, 7, 28]\nhypertension_early_days = 2\n', encoding="utf-8")
    c = str(cfg)
    d = trig(clinic, "discharge", "D7", *DISCHARGE, config=c)  # Mon + 5 = Sat 11-07 (holidays allowed)
    assert (d["followups"][0]["window_open"], d["followups"][0]["due"]) == \
        ("2026-11-07T08:30:00+08:00", "2026-11-08T23:59:59+08:00")
    o = trig(clinic, "outpatient_visit", "O4", "department=cardiology", "specialist=true", "first_visit=true",
             config=c)
    assert o["followups"][0]["window_open"] == "2026-11-05T08:30:00+08:00"
    e = trig(clinic, "chronic_enrolment", "E5", "condition=hypertension", config=c)
    assert e["followups"][0]["window_open"] == "2026-11-04T08:30:00+08:00"


@pytest.mark.parametrize("toml,field", [
    ("hypertension_early_days = 5\n", "hypertension_early_days = 5 must be one of hypertension_intervals"),
    ("diabetes_intervals = [60, 30]\n", "plugins.medical.diabetes_intervals"),
    ('satisfied_levels = ["good"]\n', "plugins.medical.satisfied_levels"),
    ("discharge_due_days = 3\n", "discharge_due_days must not be before discharge_open_days"),
    ("chronic_channel = 'pigeon'\n", "plugins.medical.chronic_channel"),
    ("nurse_quota = 3\n", "plugins.medical.nurse_quota: unknown key"),
])
def test_settings_errors_name_the_key(clinic, tmp_path, toml, field):
    cfg = tmp_path / "huifang.toml"
    cfg.write_text("[plugins.medical]\n" + toml, encoding="utf-8")
    r = clinic("trigger", "medical.discharge", "--subject", "P1", *[x for a in DISCHARGE for x in ("--attr", a)],
               now=NOW, config=str(cfg))
    assert r.code == 2 and field in r.err and r.err.count("\n") == 1


def test_plugin_lists_its_kinds_and_visit_types(hf):
    data = {p["plugin"]: p for p in hf.ok("plugins")}["medical"]
    kinds = {k["kind"]: k for k in data["trigger_kinds"]}
    assert set(kinds) == {"medical.discharge", "medical.outpatient_visit", "medical.chronic_enrolment",
                          "medical.health_check"}
    assert kinds["medical.discharge"]["attributes"][:4] == ["department", "diagnosis", "responsible_nurse",
                                                            "attending_doctor"]
    vts = {v["name"]: v for v in data["visit_types"]}
    assert {"discharge_first", "outpatient_first", "chronic_diabetes", "chronic_hypertension",
            "health_check_recall", "reexam_reminder"} <= set(vts)
    assert all(len(v["survey"]) <= 5 for v in vts.values())  # G18
