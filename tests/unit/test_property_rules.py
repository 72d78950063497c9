"""Property rules on the plugin API's fakes (no store): P1–P7 and P9 plan arithmetic on the 2026
holiday calendar (中秋 09-25..27 and 国庆 10-01..07 off, make-up workdays 09-20 and 10-10; a
calendar-day deadline on a day off rolls to the next workday), the P1/P2/P5/P6/P9 keyed samples (the
fakes draw with plugin_api.sampling.TEST_SAMPLER), P3 households leaving, the P4 yearly survey, G9
owners, and the reactions: G12/G13 tickets, the P2 re-dispatch, P3 visits and P4 surveys topped up,
the P10 sign-off. Story tests through the CLI: tests/test_property_*.py."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import pytest

from huifang.core.plugin_api import (
    CloseFollowUp,
    HuifangError,
    OpenTicket,
    PlannedVisit,
    PlanVisit,
    Refused,
    Skip,
    StaffInfo,
    TriggerInfo,
    clock,
    testing,
)
from huifang.core.plugin_api.sampling import TEST_SAMPLER, KeyedSampler
from huifang.core.plugin_api.views import ts
from huifang.plugins.property import plugin
from huifang.plugins.property.calendar_math import add_months

STAFF: list[StaffInfo] = [
    {"id": "mgr", "role": "manager", "dept": None, "reports_to": None},
    {"id": "sec-sup", "role": "supervisor", "dept": "security", "reports_to": "mgr"},
    {"id": "disp", "role": "agent", "dept": "dispatch", "reports_to": None},
    {"id": "stw", "role": "agent", "dept": "customer_service", "reports_to": None},
]
RENO = {"expected_end": "2026-10-31", "designer": "des-li", "inspector": "insp-wang", "crew": "crew-a"}


def history(triggers: Iterable[dict[str, Any]] = (), followups: Iterable[dict[str, Any]] = ()) -> testing.FakeHistory:
    return testing.FakeHistory(triggers, followups, staff=STAFF)


def plan(kind: str, attributes: dict[str, Any], at: str, id: str = "T1", settings: Any = None,
         past: testing.FakeHistory | None = None) -> tuple[TriggerInfo, list[Any]]:
    """The trigger as the engine builds it and what `huifang_plan` returns for it (the sample draws
    depend on the trigger id, so tests choose it)."""
    s = settings if settings is not None else testing.settings_of(plugin)
    info = testing.trigger(plugin, kind, attributes, at=at, id=id)
    items = plugin.huifang_plan(trigger=info, subject=testing.subject(), settings=s,
                                scheduler=testing.scheduler(s), history=past if past is not None else history())
    return info, list(items)


def by_key(items: list[Any]) -> dict[str, PlannedVisit]:
    return {v.key: v for v in testing.visits(items)}


def skips(items: list[Any]) -> dict[str, Skip]:
    return {s.key: s for s in items if isinstance(s, Skip)}


def span(v: PlannedVisit) -> tuple[str, str]:
    return v.window_open.isoformat(), v.due.isoformat()


def days(v: PlannedVisit) -> tuple[str, str]:
    return v.window_open.date().isoformat(), v.due.date().isoformat()


def react(info: TriggerInfo, visit: PlannedVisit, answers: dict[str, Any], at: str, settings: Any = None) -> list[Any]:
    """`huifang_on_completed` for the visit completed at `at` with these answers."""
    s = settings if settings is not None else testing.settings_of(plugin)
    fu = testing.followup(info, visit, status="completed", answers=answers,
                          attempts=[{"channel": visit.channel, "outcome": "reached", "at": at}])
    with clock.at(datetime.fromisoformat(at)):
        return list(plugin.huifang_on_completed(followup=fu, answers=answers, settings=s,
                                                scheduler=testing.scheduler(s), history=history()))


def trigger_row(info: TriggerInfo) -> dict[str, Any]:
    """The `triggers` view row of a trigger (what History.triggers returns)."""
    return {"code": info.id, "subject": info.subject, "kind": info.kind, "occurred_at": ts(info.at),
            "attributes": info.attributes, "skipped": []}


def followup_rows(info: TriggerInfo, items: list[Any], status: str = "planned") -> list[dict[str, Any]]:
    """The `followups` view rows of a trigger's planned visits (what History.followups returns)."""
    return [{"code": f"{info.id}-{v.key}", "subject": info.subject, "trigger": info.id, "trigger_kind": info.kind,
             "visit_type": v.visit_type, "status": status, "window_open": ts(v.window_open), "due": ts(v.due),
             "owner": v.owner, "meta": v.meta} for v in testing.visits(items)]


def score(tid: str, purpose: str) -> float:
    return TEST_SAMPLER.score(purpose, tid)


def first_id(prefix: str, purpose: str, rate: float, sampled: bool = True) -> str:
    return next(f"{prefix}{i}" for i in range(500) if (score(f"{prefix}{i}", purpose) < rate) == sampled)


def record(tid: str, purpose: str, rate: float, rule: str, period: str, until: str, stratum: str = "") -> dict:
    """The draw as plans store it (G17): purpose, rule, rate, keyed score, floor period and stratum, key."""
    return {"purpose": purpose, "rule": rule, "rate": rate, "score": score(tid, purpose), "period": period,
            "until": until, "stratum": stratum, "key": TEST_SAMPLER.fingerprint}


def test_property_conforms_to_the_plugin_api():
    testing.assert_conforms(plugin)


# -- G6, G10 defaults ---------------------------------------------------------------------------------
def test_g10_retention_two_years_and_g6_service_centre_calling_windows():
    s = testing.settings_of(plugin)
    assert s.retention_years == 2
    assert s.calling_windows == ["09:00-12:00", "14:00-18:00"]
    with pytest.raises(ValueError, match="between 0 and 1"):
        testing.settings_of(plugin, repair_sample_rate=1.5)


# -- P1 complaints ------------------------------------------------------------------------------------
GENERAL = {"category": "noise", "severity": "general", "dept": "security"}


def test_p1_callback_due_three_days_after_handling_rolls_past_national_day():
    # Tue 09-29 15:00 + 3 days = 10-02 (National Day) -> Thu 10-08, the first workday after
    _, items = plan("complaint_handled", {**GENERAL, "owner": "sec-sup"}, "2026-09-29T15:00:00+08:00",
                    id=first_id("C", "complaint_recheck", 0.3, sampled=False))
    cb = by_key(items)["callback"]
    assert (cb.visit_type, cb.owner, cb.department) == ("complaint_callback", "sec-sup", "security")
    assert span(cb) == ("2026-09-29T15:00:00+08:00", "2026-10-08T23:59:59+08:00")
    # Thu 09-24 + 3 = Sun 09-27 (中秋) -> Mon 09-28; Mon 10-12 + 3 = Thu 10-15, an ordinary workday
    assert days(by_key(plan("complaint_handled", GENERAL, "2026-09-24T10:00:00+08:00")[1])["callback"])[1] == \
        "2026-09-28"
    assert days(by_key(plan("complaint_handled", GENERAL, "2026-10-12T10:00:00+08:00")[1])["callback"])[1] == \
        "2026-10-15"


def test_p1_major_complaint_is_the_managers_and_not_in_the_recheck_sample():
    major = {**GENERAL, "severity": "major", "dept": "engineering"}
    _, items = plan("complaint_handled", {**major, "manager": "mgr"}, "2026-10-12T10:00:00+08:00")
    assert [(v.visit_type, v.owner, v.owner_role) for v in testing.visits(items)] == \
        [("complaint_callback", "mgr", "manager")]
    assert "manager" in skips(items)["recheck"].reason
    s = testing.settings_of(plugin, manager="mgr")  # [plugins.property] manager
    assert by_key(plan("complaint_handled", major, "2026-10-12T10:00:00+08:00", settings=s)[1])["callback"].owner \
        == "mgr"
    with pytest.raises(Refused, match="P1: a major complaint is followed up by the manager"):
        plan("complaint_handled", major, "2026-10-12T10:00:00+08:00")
    with pytest.raises(Refused, match="--attr manager: 'sec-sup' is registered as supervisor, not manager"):
        plan("complaint_handled", {**major, "manager": "sec-sup"}, "2026-10-12T10:00:00+08:00")


def test_p1_recheck_sample_goes_to_the_callback_owners_supervisor_never_the_owner():
    tid = first_id("CR", "complaint_recheck", 0.3)
    _, items = plan("complaint_handled", {**GENERAL, "owner": "sec-sup"}, "2026-10-12T10:00:00+08:00", id=tid)
    rc = by_key(items)["recheck"]
    assert (rc.visit_type, rc.owner, rc.excluded_staff) == ("complaint_recheck", "mgr", ["sec-sup"])  # G9
    assert rc.meta["sample"] == record(tid, "complaint_recheck", 0.3, "P1", "2026-10", "2026-11-01")
    out = first_id("CR", "complaint_recheck", 0.3, sampled=False)
    _, items = plan("complaint_handled", {**GENERAL, "owner": "sec-sup"}, "2026-10-12T10:00:00+08:00", id=out)
    assert list(by_key(items)) == ["callback"]
    skip = skips(items)["recheck"]
    assert skip.meta["sample"] == record(out, "complaint_recheck", 0.3, "P1", "2026-10", "2026-11-01")
    # G17: the re-check is kept on standby, owner and G9 exclusion included, for the floor's top-up
    assert (skip.meta["standby"]["owner"], skip.meta["standby"]["excluded_staff"]) == ("mgr", ["sec-sup"])


def test_p1_g13_unresolved_and_dissatisfied_complaint_is_a_major_ticket_for_the_department():
    info, items = plan("complaint_handled", {**GENERAL, "owner": "sec-sup"}, "2026-10-12T10:00:00+08:00")
    cb = by_key(items)["callback"]
    [ticket] = react(info, cb, {"effect": "not_resolved", "satisfaction": "不满意"}, "2026-10-13T10:00:00+08:00")
    assert isinstance(ticket, OpenTicket)
    assert (ticket.department, ticket.category, ticket.severity) == ("security", "complaint_noise", "major")
    [ticket] = react(info, cb, {"effect": "partly", "satisfaction": "不满意"}, "2026-10-13T10:00:00+08:00")
    assert isinstance(ticket, OpenTicket) and ticket.severity == "normal"
    assert react(info, cb, {"effect": "resolved", "satisfaction": "满意"}, "2026-10-13T10:00:00+08:00") == []


# -- G17 keyed draws (P1, P2) -------------------------------------------------------------------------
def test_G17_P1_P2_draws_are_keyed_reproducible_and_order_independent():
    """The old draw was sha256 of the trigger id: anyone assigning order numbers could pick ids never
    called back. Now the score is an HMAC under the store's key: the same key gives the same scores in
    any order, another key (another store) other ones, and nothing predicts them without the key."""
    ids = [f"RP{i:03d}" for i in range(400)]
    first = [TEST_SAMPLER.score("repair", i) for i in ids]
    assert [TEST_SAMPLER.score("repair", i) for i in reversed(ids)] == first[::-1]  # order-independent
    assert all(0 <= x < 1 for x in first)
    other = KeyedSampler(b"another store's key, 32 bytes long")
    assert [other.score("repair", i) for i in ids] != first and other.fingerprint != TEST_SAMPLER.fingerprint
    assert abs(sum(x < 0.9 for x in first) / 400 - 0.9) < 0.05  # uniform
    # the public, unkeyed hash of the old code says nothing about who is sampled now
    import hashlib

    def unkeyed(i: str) -> float:
        return int.from_bytes(hashlib.sha256(f"huifang.property:repair:{i}".encode()).digest()[:8], "big") / 2 ** 64
    dodgers = [i for i in ids if unkeyed(i) >= 0.9]  # ids an insider would have picked to avoid callbacks
    assert dodgers and sum(TEST_SAMPLER.score("repair", i) < 0.9 for i in dodgers) > len(dodgers) / 2
    # purposes draw independently: a repair callback says nothing about a complaint re-check
    assert first[:20] != [TEST_SAMPLER.score("complaint_recheck", i) for i in ids[:20]]


def test_G17_P1_the_draw_names_rule_key_period_and_stratum():
    """Each decision names its rule and the sampling key's fingerprint (an auditor with the store can
    recompute it), and the floor's period: the trigger's local month by default, a day or an ISO week
    by configuration (sample_period)."""
    tid = first_id("CR", "complaint_recheck", 0.3, sampled=False)
    for period, name, until in (("month", "2026-12", "2027-01-01"), ("week", "2026-W49", "2026-12-07"),
                                ("day", "2026-12-03", "2026-12-04")):
        s = testing.settings_of(plugin, sample_period=period)
        _, items = plan("complaint_handled", {**GENERAL, "owner": "sec-sup"}, "2026-12-03T10:00:00+08:00", id=tid,
                        settings=s)
        rec = skips(items)["recheck"].meta["sample"]
        assert (rec["rule"], rec["key"], rec["period"], rec["until"]) == ("P1", TEST_SAMPLER.fingerprint, name, until)


# -- P2 repairs ---------------------------------------------------------------------------------------
REPAIR = {"category": "plumbing", "worker": "w1", "unit": "1-101"}


def test_p2_sampled_callback_due_three_days_after_completion_the_worker_excluded():
    tid = first_id("RP", "repair", 0.9)
    _, items = plan("repair_completed", {**REPAIR, "owner": "disp"}, "2026-09-30T16:00:00+08:00", id=tid)
    cb = by_key(items)["callback"]
    # Wed 09-30 + 3 = 10-03 (National Day) -> Thu 10-08
    assert (cb.visit_type, cb.owner, cb.department, cb.excluded_staff) == ("repair_callback", "disp", "dispatch",
                                                                           ["w1"])
    assert span(cb) == ("2026-09-30T16:00:00+08:00", "2026-10-08T23:59:59+08:00")
    assert (cb.meta["worker"], cb.meta["round"], cb.meta["sample"]["rate"]) == ("w1", 0, 0.9)
    with pytest.raises(Refused, match="G9: w1 did the repair"):
        plan("repair_completed", {**REPAIR, "owner": "w1"}, "2026-09-30T16:00:00+08:00", id=tid,
             past=testing.FakeHistory(staff=[*STAFF, {"id": "w1", "role": "agent", "dept": None, "reports_to": None}]))
    with pytest.raises(HuifangError, match="--attr owner: staff 'nobody' is not registered"):
        plan("repair_completed", {**REPAIR, "owner": "nobody"}, "2026-09-30T16:00:00+08:00", id=tid)


def test_p2_a_repair_not_sampled_is_skipped_with_rate_and_score_and_kept_on_standby():
    tid = first_id("RN", "repair", 0.9, sampled=False)
    _, items = plan("repair_completed", {**REPAIR, "owner": "disp"}, "2026-10-12T10:00:00+08:00", id=tid)
    assert testing.visits(items) == []
    skip = skips(items)["callback"]
    assert "P2" in skip.reason and TEST_SAMPLER.fingerprint in skip.reason
    assert skip.meta["sample"] == record(tid, "repair", 0.9, "P2", "2026-10", "2026-11-01")
    assert skip.meta["sample"]["score"] >= 0.9
    standby = skip.meta["standby"]
    assert (standby["key"], standby["visit_type"], standby["owner"], standby["excluded_staff"]) == \
        ("callback", "repair_callback", "disp", ["w1"])


def test_p2_thirty_percent_standard_and_works_window_by_configuration():
    s = testing.settings_of(plugin, repair_sample_rate=0.3, repair_open_days=30, repair_due_days=60)
    tid = first_id("RW", "repair", 0.3)
    cb = by_key(plan("repair_completed", REPAIR, "2026-09-01T10:00:00+08:00", id=tid, settings=s)[1])["callback"]
    # 30 days after 09-01 is 10-01 (National Day) -> opens Thu 10-08 09:00; 60 days is Sat 10-31 -> Mon 11-02
    assert span(cb) == ("2026-10-08T09:00:00+08:00", "2026-11-02T23:59:59+08:00")
    assert cb.meta["sample"]["rate"] == 0.3


def test_p2_failed_repair_is_redispatched_and_called_back_again_after_the_rework():
    tid = first_id("RF", "repair", 0.9)
    info, items = plan("repair_completed", {**REPAIR, "owner": "disp"}, "2026-10-09T16:00:00+08:00", id=tid)
    cb = by_key(items)["callback"]
    ticket, redo = react(info, cb, {"timeliness": "on_time", "passed": "no", "satisfaction": "不满意"},
                         "2026-10-12T10:00:00+08:00")
    assert isinstance(ticket, OpenTicket) and (ticket.department, ticket.category) == ("engineering", "repair_failed")
    assert isinstance(redo, PlanVisit)
    v = redo.visit
    # after the 24 h re-dispatch (Tue 10-13 10:00), again within 3 days: Fri 10-16; same owner, worker excluded
    assert (v.key, v.visit_type, v.owner, v.excluded_staff) == ("redo1", "repair_callback", "disp", ["w1"])
    assert span(v) == ("2026-10-13T10:00:00+08:00", "2026-10-16T23:59:59+08:00")
    assert (v.meta["round"], v.meta["redo_of"]) == (1, f"{tid}-callback")
    [ticket] = react(info, cb, {"timeliness": "late", "passed": "yes", "satisfaction": "不满意"},
                     "2026-10-12T10:00:00+08:00")
    assert isinstance(ticket, OpenTicket) and ticket.category == "repair_dissatisfied"


# -- P3 home visits, P10 sign-off ---------------------------------------------------------------------
def test_p3_one_home_visit_per_half_year_four_half_years_ahead():
    _, items = plan("household_registered", {"unit": "1-101", "owner": "stw"}, "2026-01-05T10:00:00+08:00")
    got = [(v.key, v.channel, *days(v), v.provisional) for v in testing.visits(items) if v.visit_type == "home_visit"]
    assert got == [
        ("visit1", "home_visit", "2026-01-05", "2026-07-06", False),  # 07-04 is a Saturday -> Mon 07-06
        ("visit2", "home_visit", "2026-07-06", "2027-01-04", True),   # opens Sun 07-05 -> Mon; 2027 provisional
        ("visit3", "home_visit", "2027-01-05", "2027-07-05", True),
        ("visit4", "home_visit", "2027-07-05", "2028-01-04", True),
    ]


def test_p3_a_unit_registered_and_not_left_plans_nothing_new_until_it_leaves():
    first, items = plan("household_registered", {"unit": "1-101"}, "2026-01-05T10:00:00+08:00", id="H1")
    past = history([trigger_row(first)], followup_rows(first, items))
    _, again = plan("household_registered", {"unit": "1-101"}, "2026-02-02T10:00:00+08:00", id="H1b", past=past)
    assert testing.visits(again) == [] and skips(again)["home_visits"].meta == {"rule": "P3", "registration": "H1"}
    left, cancelled = plan("household_left", {"unit": "1-101", "reason": "sold the flat"},
                           "2026-03-02T10:00:00+08:00", id="L1", past=past)
    closes = [c for c in cancelled if isinstance(c, CloseFollowUp)]
    gone = ["H1-visit1", "H1-visit2", "H1-visit3", "H1-visit4", "H1-survey2026", "H1-survey2027"]  # P3, P4
    assert sorted(c.followup for c in closes) == sorted(gone)
    assert all(c.status == "cancelled" and "household left unit 1-101 (sold the flat)" in c.reason for c in closes)
    assert sorted(skips(cancelled)["home_visits"].meta["cancelled"]) == sorted(gone)
    past.add_trigger(trigger_row(left))
    for row in past.followups("S1"):  # as the store has them now
        row["status"] = "cancelled"
    _, new = plan("household_registered", {"unit": "1-101"}, "2026-03-03T10:00:00+08:00", id="H2", past=past)
    assert [v.key for v in testing.visits(new)] == ["visit1", "visit2", "visit3", "visit4", "survey2026",
                                                    "survey2027"]  # the unit's new household


def test_p10_home_visit_record_needs_the_residents_confirmation_and_p3_tops_up_the_visits():
    info, items = plan("household_registered", {"unit": "1-101", "owner": "stw"}, "2026-01-05T10:00:00+08:00",
                       id="H1")
    visit1 = by_key(items)["visit1"]
    answers = {"problem": "repair", "note": "bathroom tap drips", "satisfaction": "较满意"}
    with pytest.raises(Refused, match="P10: home-visit record H1-visit1 must be confirmed by the resident"):
        react(info, visit1, {**answers, "resident_confirmed": "no"}, "2026-02-03T10:00:00+08:00")
    ticket, *planned = react(info, visit1, {**answers, "resident_confirmed": "yes"}, "2026-02-03T10:00:00+08:00")
    assert isinstance(ticket, OpenTicket) and (ticket.department, ticket.category, ticket.note) == \
        ("engineering", "home_repair", "bathroom tap drips")
    nxt = [r.visit for r in planned if isinstance(r, PlanVisit) and r.visit.visit_type == "home_visit"]
    assert [v.key for v in nxt] == ["visit2", "visit3", "visit4", "visit5"]  # the engine skips those it has
    assert days(nxt[-1]) == ("2028-01-05", "2028-07-04")
    assert react(info, visit1, {"problem": "none", "resident_confirmed": "yes"}, "2026-02-03T10:00:00+08:00")[0] \
        .kind == "plan_visit"


# -- P4 yearly satisfaction survey --------------------------------------------------------------------
def surveys(items: list[Any]) -> list[tuple[str, str, str, str | None]]:
    return [(v.key, *days(v), v.owner) for v in testing.visits(items) if v.visit_type == "yearly_survey"]


def test_P4_the_yearly_survey_is_planned_one_a_year_in_the_december_season():
    """The survey was never scheduled (only a returned questionnaire was reacted to). Now each
    registered household gets its survey in the season (12-01 .. 12-28: the year-end questionnaire of
    003 §6), two years ahead; a household registered after the season opened starts next year."""
    _, items = plan("household_registered", {"unit": "3-1502", "owner": "stw", "project": "翠湖苑"},
                    "2026-10-12T10:00:00+08:00")
    assert surveys(items) == [("survey2026", "2026-12-01", "2026-12-28", "stw"),
                              ("survey2027", "2027-12-01", "2027-12-28", "stw")]
    v = by_key(items)["survey2026"]
    assert (v.channel, v.department, v.meta["building"], v.meta["project"], v.meta["year"]) == \
        ("phone", "customer_service", "3", "翠湖苑", 2026)
    _, late = plan("household_registered", {"unit": "3-1502"}, "2026-12-10T10:00:00+08:00")
    assert [k for k, *_ in surveys(late)] == ["survey2027", "survey2028"]
    s = testing.settings_of(plugin, survey_month=6, survey_due_day=20, survey_horizon=1, survey_channel="letter")
    _, june = plan("household_registered", {"unit": "3-1502"}, "2026-10-12T10:00:00+08:00", settings=s)
    assert [(k, o, d) for k, o, d, _ in surveys(june)] == [("survey2027", "2027-06-01", "2027-06-21")]  # Sun -> Mon
    assert by_key(june)["survey2027"].channel == "letter"


def test_P4_one_survey_a_year_per_household_across_registrations_and_members():
    """A household (unit) answers one survey a year: a year its unit already has a standing survey for —
    an earlier registration of the same subject, or another member of the household — is a Skip naming
    it; a cancelled survey (the household that left) does not hold the year."""
    wife, items = plan("household_registered", {"unit": "3-1502"}, "2026-10-12T10:00:00+08:00", id="HW")
    past = history([trigger_row(wife)], followup_rows(wife, items))
    info = testing.trigger(plugin, "household_registered", {"unit": "3-1502"}, at="2026-11-02T10:00:00+08:00",
                           id="HH", subject="S2")
    husband = list(plugin.huifang_plan(trigger=info, subject=testing.subject("S2"),
                                       settings=testing.settings_of(plugin), scheduler=testing.scheduler(
                                           testing.settings_of(plugin)), history=past))
    assert surveys(husband) == []
    assert skips(husband)["survey2026"].meta == {"rule": "P4", "survey": "HW-survey2026"}
    assert "one a year per household" in skips(husband)["survey2027"].reason
    for row in past.followups("S1"):
        row["status"] = "cancelled"  # the wife's household left before the season
    again = list(plugin.huifang_plan(trigger=info, subject=testing.subject("S2"),
                                     settings=testing.settings_of(plugin), scheduler=testing.scheduler(
                                         testing.settings_of(plugin)), history=past))
    assert [k for k, *_ in surveys(again)] == ["survey2026", "survey2027"]


def test_P4_every_problem_raised_is_followed_up_and_the_next_survey_kept_planned():
    info, items = plan("household_registered", {"unit": "3-1502", "owner": "stw"}, "2026-10-12T10:00:00+08:00",
                       id="H1")
    survey = by_key(items)["survey2026"]
    got = react(info, survey, {"satisfaction": "基本满意", "weakest": "parking",
                               "problems": "corridor lights out；parking at night"}, "2026-12-03T10:00:00+08:00")
    planned = [r.visit for r in got if isinstance(r, PlanVisit)]
    problems = [v for v in planned if v.visit_type == "survey_problem"]
    # within 7 days: Thu 12-03 -> Thu 12-10; the words stay in the (sealed) answers
    assert [(v.key, days(v)[1], v.meta["problem_no"], v.meta["raised_in"]) for v in problems] == [
        ("survey2026-problem1", "2026-12-10", 1, "H1-survey2026"), ("survey2026-problem2", "2026-12-10", 2,
                                                                     "H1-survey2026")]
    assert all("problem" not in v.meta for v in problems)
    # the next seasons stay planned (the engine skips a key the trigger already has)
    assert [v.key for v in planned if v.visit_type == "yearly_survey"] == ["survey2027", "survey2028"]
    [ticket] = [r for r in react(info, survey, {"satisfaction": "不满意", "weakest": "security"},
                                 "2026-12-03T10:00:00+08:00") if isinstance(r, OpenTicket)]
    assert (ticket.category, ticket.department) == ("survey_dissatisfied", "customer_service")
    assert "security" in ticket.note


# -- P4, P5, P6, P7 -----------------------------------------------------------------------------------
def test_p4_every_problem_raised_in_the_yearly_survey_is_followed_up_within_a_week():
    _, items = plan("satisfaction_survey", {"year": 2026, "problems": "corridor lights; gate card"},
                    "2026-10-12T10:00:00+08:00")
    assert [(v.key, v.meta["problem"], days(v)[1]) for v in testing.visits(items)] == [
        ("problem1", "corridor lights", "2026-10-19"), ("problem2", "gate card", "2026-10-19")]
    _, none = plan("satisfaction_survey", {"year": 2026}, "2026-10-12T10:00:00+08:00")
    assert testing.visits(none) == [] and "P4" in skips(none)["problems"].reason


def test_p5_contracted_service_mid_term_and_after_the_end():
    _, items = plan("service_contract", {"start": "2026-09-01", "end": "2026-11-30", "service": "home_cleaning"},
                    "2026-09-01T10:00:00+08:00")
    # 90 days: mid-term Fri 10-16 within a week (10-23); end Mon 11-30 within a week (12-07)
    assert [(v.visit_type, *days(v)) for v in testing.visits(items)] == [
        ("contract_midterm", "2026-10-16", "2026-10-23"), ("contract_end", "2026-11-30", "2026-12-07")]
    with pytest.raises(ValueError, match="the contract must end after it starts"):
        testing.trigger(plugin, "service_contract", {"start": "2026-09-01", "end": "2026-08-01"})


def test_p6_activity_participants_sampled_ten_percent_within_one_month():
    tid = first_id("A", "activity", 0.1)
    _, items = plan("activity_held", {"name": "中秋游园会"}, "2026-09-15T10:00:00+08:00", id=tid)
    assert [(v.visit_type, v.due.isoformat()) for v in testing.visits(items)] == [
        ("activity_callback", "2026-10-15T23:59:59+08:00")]
    out = first_id("A", "activity", 0.1, sampled=False)
    _, items = plan("activity_held", {"name": "中秋游园会"}, "2026-09-15T10:00:00+08:00", id=out)
    assert testing.visits(items) == [] and skips(items)["callback"].meta["sample"]["rate"] == 0.1
    # the floor's stratum is the activity: 10% of each activity's participants
    assert skips(items)["callback"].meta["sample"]["stratum"] == "中秋游园会"


def test_p7_emergency_help_followed_up_within_one_week():
    _, items = plan("emergency_aid", {"description": "fell in the lobby"}, "2026-09-28T10:00:00+08:00")
    # Mon 09-28 + 7 = 10-05 (National Day) -> Thu 10-08
    assert [(v.visit_type, v.due.isoformat()) for v in testing.visits(items)] == [
        ("emergency_callback", "2026-10-08T23:59:59+08:00")]


# -- P9 renovation works ------------------------------------------------------------------------------
def test_p9_about_ten_days_after_start_mid_term_and_completion_parties_excluded():
    _, items = plan("renovation_started", {**RENO, "owner": "stw"}, "2026-09-01T10:00:00+08:00", id="RN1")
    assert [(v.visit_type, *days(v)) for v in testing.visits(items)] == [
        ("renovation_early", "2026-09-09", "2026-09-14"),       # day 8..12 (Sun 09-13 -> Mon 09-14)
        ("renovation_midterm", "2026-09-29", "2026-10-08"),     # 60 days: day 28..32 (10-03 -> 10-08)
        ("renovation_completion", "2026-11-02", "2026-11-03"),  # Sat 10-31 -> Mon 11-02, due 11-03
    ]
    assert all(v.excluded_staff == ["des-li", "insp-wang", "crew-a"] and v.meta["project"] == "RN1"
               for v in testing.visits(items))  # G9
    with pytest.raises(HuifangError, match="--attr expected_end: 2026-08-01 is not after the start"):
        plan("renovation_started", {**RENO, "expected_end": "2026-08-01"}, "2026-09-01T10:00:00+08:00")


def started(status: str = "planned") -> tuple[TriggerInfo, list[Any], testing.FakeHistory]:
    info, items = plan("renovation_started", {**RENO, "owner": "stw"}, "2026-09-01T10:00:00+08:00", id="RN1")
    return info, items, history([trigger_row(info)], followup_rows(info, items, status))


def test_p9_late_completion_replans_the_completion_visit_and_adds_warranty_spot_checks():
    _, _, past = started()
    s = testing.settings_of(plugin, warranty_sample_rate=1.0)
    _, items = plan("renovation_completed", {}, "2026-11-16T16:00:00+08:00", id="RC1", settings=s, past=past)
    assert [(v.key, *days(v)) for v in testing.visits(items)] == [
        ("completion", "2026-11-16", "2026-11-19"),
        ("warranty1", "2027-05-17", "2027-05-31"),  # 6 months: Sun 05-16 -> Mon (2027 provisional)
        ("warranty2", "2027-11-16", "2027-11-30"),
        ("warranty3", "2028-05-16", "2028-05-30"),
        ("warranty4", "2028-11-16", "2028-11-30"),
    ]
    completion = by_key(items)["completion"]
    assert completion.meta["replanned"] == "RN1-completion" and completion.owner == "stw"  # the project's owner
    assert [c.followup for c in items if isinstance(c, CloseFollowUp)] == ["RN1-completion"]
    past.add_trigger(trigger_row(testing.trigger(plugin, "renovation_completed", {"project": "RN1"},
                                                 at="2026-11-16T16:00:00+08:00", id="RC1")))
    with pytest.raises(Refused, match="P9: project RN1 was already completed"):
        plan("renovation_completed", {"project": "RN1"}, "2026-11-17T10:00:00+08:00", id="RC2", past=past)


def test_p9_on_time_completion_keeps_the_planned_visit_and_samples_warranty_checks():
    _, _, past = started()
    _, items = plan("renovation_completed", {"project": "RN1"}, "2026-11-02T11:00:00+08:00", id="RC1", past=past)
    keys = skips(items)
    assert "RN1-completion" in keys["completion"].reason and keys["completion"].meta["project"] == "RN1"
    for k in range(1, 5):
        sampled = score("RC1", f"warranty{k}") < 0.3
        assert (f"warranty{k}" in by_key(items)) == sampled
        assert sampled or (keys[f"warranty{k}"].meta["sample"] ==
                           record("RC1", f"warranty{k}", 0.3, "P9", "2026-11", "2026-12-01")
                           and keys[f"warranty{k}"].meta["project"] == "RN1")


def test_p9_early_completion_cancels_the_visits_meant_for_works_in_progress():
    _, _, past = started()
    _, items = plan("renovation_completed", {"project": "RN1"}, "2026-09-21T16:00:00+08:00", id="RC1", past=past)
    assert span(by_key(items)["completion"]) == ("2026-09-21T16:00:00+08:00", "2026-09-24T23:59:59+08:00")
    # finished Mon 09-21, before the mid-term window (09-29); the early visit's window (09-09) has opened
    assert sorted(c.followup for c in items if isinstance(c, CloseFollowUp)) == ["RN1-completion", "RN1-midterm"]


def test_p9_a_project_must_be_named_when_none_or_several_are_ongoing():
    with pytest.raises(HuifangError, match="no ongoing renovation project"):
        plan("renovation_completed", {}, "2026-11-02T11:00:00+08:00")
    with pytest.raises(HuifangError, match="'RN9' is not a renovation_started trigger"):
        plan("renovation_completed", {"project": "RN9"}, "2026-11-02T11:00:00+08:00", past=started()[2])


def test_p9_a_complaint_in_a_renovation_follow_up_opens_a_ticket_naming_the_party():
    info, items, _ = started()
    early = by_key(items)["early"]
    [ticket] = react(info, early, {"quality": "fair", "satisfaction": "基本满意", "complaint": "crew",
                                   "problem": "crew leaves rubble in the corridor"}, "2026-09-10T10:00:00+08:00")
    assert isinstance(ticket, OpenTicket)
    assert (ticket.department, ticket.category, ticket.note) == \
        ("renovation", "renovation_crew", "crew leaves rubble in the corridor (crew-a)")
    assert react(info, early, {"quality": "good", "satisfaction": "满意", "complaint": "none"},
                 "2026-09-10T10:00:00+08:00") == []


# -- month arithmetic (P3, P6, P9) --------------------------------------------------------------------
def test_months_clamp_to_the_month_end():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2026, 11, 16), 24) == date(2028, 11, 16)
