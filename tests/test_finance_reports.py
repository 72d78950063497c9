"""F8 reports on a crafted scenario with known outcomes: every figure equals the hand-computed value
(G15 success rate, F4 in-cooling-off success rate over either configured denominator, channel shares,
F5 fallback share, ticket ratio, resolution rate, unresolved tickets, per branch). The scenario is
built once per backend and only read. SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from huifang.core import clock
from huifang.core.config import load_config
from huifang.core.plugin_api.reports import ReportContext
from huifang.projections import open_app

ISSUED = "2026-09-01T10:00:00+08:00"  # Tue; cooling-off (15 days) ends 2026-09-16 23:59:59
AS_OF = datetime.fromisoformat("2026-09-28T16:00:00+08:00")
OK = {"self_signed": "yes", "terms_understood": "yes", "cooling_off_informed": "yes", "anomaly": "none",
      "satisfaction": "满意"}


def _answers(**change):
    return [x for k, v in {**OK, **change}.items() for x in ("--answer", f"{k}={v}")]


@pytest.fixture(scope="module")
def scenario(hf_module, tmp_path_factory):
    """10 policies due (5 in sh-pudong, 5 in bj-chaoyang) + 1 exempt:
    P1-P5 reached inside the cooling-off period (P1 a major anomaly, ticket closed after the second
    follow-up; P2 an opinion, ticket still open); P6 reached after the cooling-off period; P7 refused;
    P8 surrendered before contact (cancelled); P9 two invalid numbers -> letter sent, returned -> lost;
    P10 untouched; P11 exempt (F6: the statement signed at purchase is on the policy)."""
    hf = hf_module
    tmp_path = tmp_path_factory.mktemp("finance-reports")
    rec = tmp_path / "call.wav"
    rec.write_bytes(b"RIFF")
    hf.ok("staff", "add", "ag1", "--name", "代理人", "--role", "sales")
    hf.ok("staff", "add", "cc1", "--name", "回访专员", "--role", "agent")
    cfg = tmp_path / "huifang.toml"
    cfg.write_text('[plugins.finance]\nagents = ["cc1"]\n', encoding="utf-8")  # cc1 owns them (G9)
    hf.config = str(cfg)

    def call(fu, outcome, now, channel="phone"):
        args = ["attempt", fu, "--channel", channel, "--outcome", outcome]
        if channel == "phone":
            args += ["--recording", str(rec)] + (["--language", "mandarin"] if outcome in ("reached", "refused")
                                                 else [])
        hf.ok(*args, actor="cc1", now=now)

    for i in range(1, 12):
        branch = "sh-pudong" if i <= 5 or i == 11 else "bj-chaoyang"
        hf.ok("subject", "add", f"C{i}", "--name", f"客户{i}", "--phone", "13900000000", now=ISSUED)
        statement = ["--attr", "no_followup_statement=SM-11"] if i == 11 else []
        hf.ok("trigger", "finance.policy_issued", "--subject", f"C{i}", "--id", f"P{i}", "--attr", "agent=ag1",
              "--attr", f"branch={branch}", "--attr", "sales_channel=agency", *statement, now=ISSUED)
    for i in range(1, 6):
        call(f"P{i}-policy", "reached", f"2026-09-02T10:{10 + i}:00+08:00")
    hf.ok("complete", "P1-policy", *_answers(anomaly="private_fee"), actor="cc1", now="2026-09-02T10:30:00+08:00")
    hf.ok("complete", "P2-policy", *_answers(terms_understood="no"), actor="cc1", now="2026-09-02T10:31:00+08:00")
    for i in (3, 4, 5):
        hf.ok("complete", f"P{i}-policy", *_answers(), actor="cc1", now="2026-09-02T10:32:00+08:00")
    hf.ok("ticket", "resolve", "TK-P1-policy-1", "--note", "fee refunded", now="2026-09-03T10:00:00+08:00")
    call("P1-policy-recheck1", "reached", "2026-09-03T10:30:00+08:00")
    hf.ok("complete", "P1-policy-recheck1", "--answer", "resolved=yes", "--answer", "satisfaction=满意",
          actor="cc1", now="2026-09-03T10:35:00+08:00")
    call("P6-policy", "reached", "2026-09-18T10:30:00+08:00")  # after the cooling-off period
    hf.ok("complete", "P6-policy", *_answers(), actor="cc1", now="2026-09-18T10:35:00+08:00")
    call("P7-policy", "refused", "2026-09-02T10:40:00+08:00")
    hf.ok("close", "P7-policy", "--lost", "refused", actor="cc1", now="2026-09-02T10:41:00+08:00")
    hf.ok("close", "P8-policy", "--cancel", "surrendered in the cooling-off period (退保)",
          now="2026-09-02T09:00:00+08:00")
    call("P9-policy", "wrong_number", "2026-09-01T10:30:00+08:00")
    call("P9-policy", "wrong_number", "2026-09-01T14:30:00+08:00")  # F5: -> letter
    call("P9-policy", "sent", "2026-09-02T11:00:00+08:00", channel="letter")
    call("P9-policy", "returned", "2026-09-10T10:30:00+08:00", channel="letter")  # F5: the ladder's end
    hf.ok("close", "P9-policy", "--lost", "moved", actor="cc1", now="2026-09-10T10:31:00+08:00")
    app = open_app(hf.db, load_config(str(cfg)))
    with clock.at(AS_OF):
        app.projector.catch_up()
    app.hf = hf  # the CLI on the same store, for the tests that drive it
    yield app
    app.projector.engine.dispose()
    app.close()


def _rows(app, name, **kw):
    reports = {r.name: r for p in app.registry.plugins for r in (app.registry.call(p, "huifang_reports") or [])}
    with clock.at(AS_OF), app.projector.engine.connect() as conn:
        return reports[name].rows(ReportContext(conn=conn, app=app, **kw))


def test_f8_branch_success_rates_by_the_g15_formula(scenario):
    rows = {r["branch"]: r for r in _rows(scenario, "branches", by=["branch"])}
    assert list(rows) == ["bj-chaoyang", "sh-pudong", "(all)"]
    total = rows["(all)"]
    # due 10 (P11 exempt is not due), reached 6, refused 1, cancelled before contact 1:
    # success rate = 6 / (10 - 1 - 1) = 0.75; in cooling-off: P1-P5 = 5 / 8 = 0.625
    assert (total["due"], total["reached"], total["refused"], total["cancelled_before_contact"]) == (10, 6, 1, 1)
    assert total["success_rate"] == 0.75
    assert total["policy_success_rate"] == 0.75
    assert total["policies_reached_in_cooling_off"] == 5
    assert total["in_cooling_off_success_rate"] == 0.625
    assert total["meets_f4_target"] is False  # F4: >= 90%
    sh, bj = rows["sh-pudong"], rows["bj-chaoyang"]
    assert (sh["due"], sh["reached"], sh["success_rate"], sh["in_cooling_off_success_rate"]) == (5, 5, 1.0, 1.0)
    # bj: 1 reached (late) of 5 due minus 1 refused minus 1 cancelled = 1/3; none in the cooling-off period
    assert (bj["due"], bj["reached"], bj["success_rate"], bj["in_cooling_off_success_rate"]) == (5, 1, 0.333333, 0.0)


def test_f8_ticket_rate_resolution_rate_and_unresolved_tickets(scenario):
    rows = {r["branch"]: r for r in _rows(scenario, "branches", by=["branch"])}
    total, sh, bj = rows["(all)"], rows["sh-pudong"], rows["bj-chaoyang"]
    # 2 tickets on 2 of 10 follow-ups; P1's (major) closed after the second follow-up, P2's still open
    assert (total["tickets"], total["major_tickets"], total["ticket_rate"]) == (2, 1, 0.2)
    assert (total["tickets_closed"], total["ticket_resolution_rate"], total["unresolved_tickets"]) == (1, 0.5, 1)
    assert (sh["ticket_rate"], sh["ticket_resolution_rate"], sh["unresolved_tickets"]) == (0.4, 0.5, 1)
    assert (bj["tickets"], bj["ticket_rate"], bj["ticket_resolution_rate"]) == (0, 0.0, None)


def test_f8_channel_shares(scenario):
    rows = {r["channel"]: r for r in _rows(scenario, "channels")}
    assert rows["phone"]["followups"] == 9 and rows["phone"]["share"] == 0.9
    assert rows["letter"]["followups"] == 1 and rows["letter"]["share"] == 0.1
    assert rows["phone"]["reached_by_channel"] == 6 and rows["phone"]["reached_share"] == 1.0
    by_branch = _rows(scenario, "channels", by=["branch"])
    assert {(r["branch"], r["channel"]): r["share"] for r in by_branch} == {
        ("bj-chaoyang", "letter"): 0.2, ("bj-chaoyang", "phone"): 0.8, ("sh-pudong", "phone"): 1.0}


def test_f5_fallback_share_reported_against_the_limit(scenario):
    [row] = _rows(scenario, "fallback")
    assert row == {"followups": 10, "home_visits": 0, "letters": 1, "fallbacks": 1, "letters_awaiting_reply": 0,
                   "letters_returned": 1, "fallback_share": 0.1, "limit_share": 0.1, "within_limit": True}
    rows = {r["branch"]: r for r in _rows(scenario, "fallback", by=["branch"])}
    assert rows["bj-chaoyang"]["fallback_share"] == 0.2 and rows["bj-chaoyang"]["within_limit"] is False


def test_f8_period_filter_and_month_dimension(scenario):
    assert _rows(scenario, "branches", by=["branch"], date_from=date(2026, 10, 1)) == []
    rows = _rows(scenario, "branches", by=["branch", "month"], date_from=date(2026, 9, 1), date_to=date(2026, 9, 30))
    assert [(r["branch"], r["month"], r["due"]) for r in rows] == [
        ("bj-chaoyang", "2026-09", 5), ("sh-pudong", "2026-09", 5), ("(all)", "(all)", 10)]


def test_f8_reports_are_discovered_through_the_hook(scenario):
    names = {r.name for p in scenario.registry.plugins for r in (scenario.registry.call(p, "huifang_reports") or [])}
    assert {"branches", "channels", "fallback"} <= names


def test_f8_without_dimensions_one_total_row(scenario):
    [row] = _rows(scenario, "branches")
    assert (row["due"], row["success_rate"], row["in_cooling_off_success_rate"]) == (10, 0.75, 0.625)


def test_f8_branches_report_through_the_cli(scenario):
    hf = scenario.hf
    data = hf.ok("report", "branches", now="2026-09-28T16:00:00+08:00")
    rows = {r["branch"]: r for r in data["rows"]}
    assert rows["(all)"]["success_rate"] == 0.75 and rows["sh-pudong"]["ticket_rate"] == 0.4
    text = hf.ok("report", "fallback", now="2026-09-28T16:00:00+08:00", json_out=False)
    assert "10.0%" in text


def test_f6_exempt_policy_is_not_due_in_the_success_rate(scenario):
    rows = {r["branch"]: r for r in _rows(scenario, "branches", by=["branch"])}
    # sh-pudong has 6 policies; P11's signed statement (F6) closed it as exempt: 5 due, 5 reached
    assert (rows["sh-pudong"]["due"], rows["sh-pudong"]["success_rate"]) == (5, 1.0)
    [fallback] = _rows(scenario, "fallback")
    assert fallback["followups"] == 10


def test_f4_f8_each_report_names_its_configured_denominator(scenario, tmp_path):
    hf = scenario.hf
    data = hf.ok("report", "branches", now="2026-09-28T16:00:00+08:00")
    total = {r["branch"]: r for r in data["rows"]}["(all)"]
    assert (total["denominator"], total["rate_base"], total["in_cooling_off_success_rate"]) == ("g15", 8, 0.625)
    text = hf.ok("report", "branches", now="2026-09-28T16:00:00+08:00", json_out=False)
    assert "denominator `g15`: success rate = reached ÷ (due − refused − cancelled before contact)" in text
    # 004 §4 art.18: over every follow-up due (应回访件总量), configured for this report
    cfg = tmp_path / "art18.toml"
    cfg.write_text('[plugins.finance]\nagents = ["cc1"]\nreport_denominators = {branches = "due"}\n',
                   encoding="utf-8")
    data = hf.ok("report", "branches", now="2026-09-28T16:00:00+08:00", config=str(cfg))
    total = {r["branch"]: r for r in data["rows"]}["(all)"]
    assert (total["denominator"], total["rate_base"], total["success_rate"]) == ("due", 10, 0.6)
    assert (total["policy_rate_base"], total["in_cooling_off_success_rate"]) == (10, 0.5)
    assert total["meets_f4_target"] is False  # F4 is judged by the G15 formula (0.75) either way
    text = hf.ok("report", "branches", now="2026-09-28T16:00:00+08:00", config=str(cfg), json_out=False)
    assert "denominator `due`: success rate = reached ÷ all follow-ups due (应回访件总量, 004 §4 art.18)" in text
