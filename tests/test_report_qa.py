"""G17 quality sampling: a reproducible monthly sample of completed follow-ups, checks recorded as
events by supervisors, and the pass rate per agent in the reports."""
from __future__ import annotations

import pytest

from huifang.core.domain.base import aggregate_uuid
from tests.conftest import Huifang
from tests.test_report_scenario import NOW, build_scenario, open_app, scenario_fixture  # noqa: F401  (fixture `scn`)


@pytest.fixture
def h(db, tmp_path):
    build_scenario(db)
    cfg = tmp_path / "huifang.toml"
    cfg.write_text("[huifang]\nplugins = []\n", encoding="utf-8")
    return Huifang(db, now=NOW, config=str(cfg))


def test_g17_sample_is_reproducible_and_sized_by_rate(scn):
    h = scn
    first = h.ok("qa", "sample", "--month", "2026-10", "--rate", "0.5")
    # completed in October: A1 A2 A3 B1 B2 and S1 (second follow-up); ceil(0.5 × 6) = 3 drawn
    assert (first["population"], first["sample_size"], len(first["rows"])) == (6, 3, 3)
    assert h.ok("qa", "sample", "--month", "2026-10", "--rate", "0.5") == first
    assert h.ok("qa", "sample", "--month", "2026-10", "--rate", "50%")["rows"] == first["rows"]
    codes = {r["followup"] for r in first["rows"]}
    assert codes <= {"A1-1", "A2-1", "A3-1", "B1-1", "B2-1", "B1-1-recheck1"}
    others = [{r["followup"] for r in h.ok("qa", "sample", "--month", "2026-10", "--rate", "0.5",
                                             "--seed", str(s))["rows"]} for s in range(1, 6)]
    assert any(o != codes for o in others)  # another seed draws another sample
    assert h.ok("qa", "sample", "--month", "2026-10", "--rate", "0.1")["sample_size"] == 1  # ceil(0.6)
    assert h.ok("qa", "sample", "--month", "2026-10", "--rate", "1")["sample_size"] == 6
    sep = h.ok("qa", "sample", "--month", "2026-09", "--rate", "1")
    assert [r["followup"] for r in sep["rows"]] == ["A6-1", "A6-1-recheck1"]
    assert [r["result"] for r in sep["rows"]] == ["pass", None]  # A6 was checked already
    agent = h.ok("qa", "sample", "--month", "2026-10", "--rate", "1", "--agent", "agB")
    assert {r["followup"] for r in agent["rows"]} == {"B1-1", "B2-1", "B1-1-recheck1"}


@pytest.mark.parametrize("rate", ["0", "1.5", "abc", "-10%", "150%"])
def test_g17_bad_rate_is_refused(scn, rate):
    h = scn
    r = h("qa", "sample", "--month", "2026-10", "--rate", rate)
    assert r.code == 2 and "--rate" in r.err


def test_g17_record_check_as_event_and_pass_rate(h):
    before = {r["agent"]: r for r in h.ok("report", "qa", "--month", "2026-10")["rows"]}
    assert before["agB"]["checked"] == 2
    data = h.ok("qa", "record", "B1-1-recheck1", "--result", "fail", "--note", "no recording", actor="sup1")
    assert (data["result"], data["agent"], data["checked_by"], data["month"]) == ("fail", "agB", "sup1", "2026-10")
    rows = {r["agent"]: r for r in h.ok("report", "qa", "--month", "2026-10")["rows"]}
    assert (rows["agB"]["checked"], rows["agB"]["passed"], rows["agB"]["pass_rate"]) == (3, 2, round(2 / 3, 6))
    # a re-check amends the result; both are events in the record's history
    again = h.ok("qa", "record", "B1-1-recheck1", "--result", "pass", "--note", "recording found", actor="sup1")
    assert (again["result"], again["checks"]) == ("pass", 2)
    assert h.ok("report", "qa", "--month", "2026-10", "--by", "agent,department")["rows"][-1]["pass_rate"] == 1.0
    app = open_app(h.db)
    try:
        events = [type(e).__qualname__ for e in app.events.get(aggregate_uuid("qa", "B1-1-recheck1"))]
    finally:
        app.close()
    assert events == ["QualityCheck.Recorded", "QualityCheck.Amended"]


@pytest.mark.parametrize("args,actor,needle", [
    (("B2-1", "--result", "fail"), "sup1", "--note: say what failed"),
    (("B2-1", "--result", "maybe"), "sup1", "--result: 'maybe' is not one of pass, fail"),
    (("B4-1", "--result", "pass"), "sup1", "only completed follow-ups are quality-checked"),
    (("B2-1", "--result", "pass"), "agA", "is an agent"),
    (("B2-1", "--result", "pass"), "agB", "worked on B2-1"),
    (("ZZ-1", "--result", "pass"), "sup1", "does not exist"),
])
def test_g17_bad_checks_are_refused(scn, args, actor, needle):
    h = scn
    r = h("qa", "record", *args, actor=actor)
    assert r.code == 2 and needle in r.err, r.err


def test_G17_the_qa_sample_is_drawn_with_the_stores_key(scn):
    """The monthly spot-check sample was SHA-256 of month|seed|code: an agent knowing their codes and the
    default seed could tell which follow-ups would be checked. Now the lottery is keyed with the store's
    sampling key: the same on every run against the store, unpredictable without it."""
    import hashlib
    import hmac

    first = scn.ok("qa", "sample", "--month", "2026-10", "--rate", "0.5")
    assert scn.ok("qa", "sample", "--month", "2026-10", "--rate", "0.5") == first
    app = open_app(scn.db)
    try:
        key = app.sampling_key()
    finally:
        app.close()
    population = ["A1-1", "A2-1", "A3-1", "B1-1", "B2-1", "B1-1-recheck1"]
    ranked = sorted(population, key=lambda c: (hmac.new(key, f"qa|2026-10|0|{c}".encode(), hashlib.sha256)
                                                .hexdigest(), c))
    assert {r["followup"] for r in first["rows"]} == set(ranked[:3])
