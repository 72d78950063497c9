"""Keyed, floored sampling (G17) of the P1 supervisor re-check and the P2 repair callbacks, on the store.

The draw is an HMAC of the trigger id under the store's own sampling key (a key row wrapped by the
master key): reproducible inside the store, in any order, unpredictable outside it. The rate is a
floor per period: `tick` tops a period that fell short up from the visits left on standby, lowest
score first, each top-up a SampleFloor.ToppedUp event naming the rule. SQLite and PostgreSQL.
"""
from __future__ import annotations

import csv
import hashlib
from datetime import datetime

import pytest
from sqlalchemy import text

from huifang.core import clock
from huifang.core.application import HuifangApp
from huifang.core.config import Config
from huifang.core.domain import SampleFloor, SamplingKey, Trigger
from huifang.core.plugin_api.sampling import KeyedSampler
from huifang.core.privacy import SAMPLING_KEY
from huifang.core.timers import tick
from huifang.projections import open_app
from tests.audit_kit import Raw

AT = datetime.fromisoformat("2026-10-12T10:00:00+08:00")
GENERAL = {"category": "noise", "severity": "general", "dept": "security", "owner": "sec-sup"}
REPAIR = {"category": "plumbing", "worker": "w1", "unit": "1-101", "owner": "disp"}


def T(text: str) -> datetime:
    return datetime.fromisoformat(text + "+08:00")


def tolerance(rate: float, n: int = 1000) -> float:
    """Four binomial standard deviations (each store draws with its own random key: a 3-sigma bound would
    fail one run in a few hundred): 0.038 at 90% and 10%, 0.058 at 30% for 1,000 triggers."""
    return 4 * (rate * (1 - rate) / n) ** 0.5


def estate(hf, **settings) -> HuifangApp:
    app = open_app(hf.db, Config(plugins={"property": settings}) if settings else None)
    with clock.at(T("2026-09-01T09:00")):
        app.add_staff("mgr", "经理", "manager")
        app.add_staff("sec-sup", "保安主管", "supervisor", "security", "mgr")
        app.add_staff("disp", "调度", "agent", "dispatch", "mgr")
        app.add_subject("S1", "王芳")
    return app


def sampler(app: HuifangApp) -> KeyedSampler:
    """The store's own draws (tests are inside the store: they may hold its key)."""
    return KeyedSampler(app.keyring.sampling_key)


def pick(app: HuifangApp, prefix: str, purpose: str, rate: float, sampled: int, left_out: int) -> list[str]:
    """Trigger ids the store's key samples (`sampled` of them) or leaves out (`left_out`), in id order."""
    s = sampler(app)
    ins = [f"{prefix}{i:03d}" for i in range(400) if s.score(purpose, f"{prefix}{i:03d}") < rate][:sampled]
    outs = [f"{prefix}{i:03d}" for i in range(400) if s.score(purpose, f"{prefix}{i:03d}") >= rate][:left_out]
    return sorted(ins + outs)


DECEMBER = ["2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04", "2026-12-07", "2026-12-08", "2026-12-09",
            "2026-12-10", "2026-12-11", "2026-12-14"]


def test_P1_G17_ten_general_complaints_in_december_get_at_least_three_rechecks(hf):
    """The independent draw gave 2 supervisor re-checks of 10 general complaints in December (P1 asks
    >= 30 %). The floor tops the month up at `tick`: the third re-check is the left-out complaint with
    the lowest keyed score, planned from its standby visit, and a ToppedUp event names P1."""
    app = estate(hf)
    s = sampler(app)
    ids = pick(app, "C", "complaint_recheck", 0.3, sampled=2, left_out=8)
    left = [t for t in ids if s.score("complaint_recheck", t) >= 0.3]
    chosen = min(left, key=lambda t: s.score("complaint_recheck", t))
    ids = [chosen, *(t for t in ids if t != chosen)]  # the one the floor will take is the oldest, 12-01
    for tid, day in zip(ids, DECEMBER, strict=True):
        with clock.at(T(f"{day}T10:00")):
            app.receive_trigger("property.complaint_handled", "S1", GENERAL, trigger_id=tid)
    rechecks = lambda: sorted(f for t in ids for f in app.load(Trigger, t, "trigger").followups  # noqa: E731
                              if f.endswith("-recheck"))
    assert len(rechecks()) == 2
    with clock.at(T("2026-12-15T09:00")):
        out = tick(app)
    assert out["topped_up"] == 1 and len(rechecks()) == 3
    [entry] = out["top_ups"]
    assert (entry["trigger"], entry["rule"], entry["period"], entry["population"], entry["required"]) == \
        (chosen, "P1", "2026-12", 10, 3)
    fu = app.followup_info(f"{chosen}-recheck")
    assert (fu.visit_type, fu.owner, fu.meta["sample"]["topped_up"]["sampled"]) == ("complaint_recheck", "mgr", 2)
    # its 3-day window (12-01 .. 12-04) had passed: a window of the same length from the top-up, so nobody
    # is held to a deadline that passed before the follow-up existed
    assert fu.window_open >= T("2026-12-15T09:00") and fu.due == T("2026-12-18T23:59:59")
    assert fu.meta["sample"]["late"] == {"planned_due": "2026-12-04T23:59:59+08:00"}
    [event] = [e for e in app.events.get(SampleFloor.create_id("property.complaint_recheck@2026-12"))
               if type(e).__qualname__ == "SampleFloor.ToppedUp"]
    assert (event.trigger, event.rule, event.population, event.sampled, event.required, event.key) == \
        (chosen, "P1", 10, 2, 3, s.fingerprint)
    with clock.at(T("2026-12-15T09:05")):
        assert tick(app)["topped_up"] == 0  # idempotent: the floor is met
    app.close()


def test_P2_G17_ten_repairs_get_at_least_nine_callbacks(hf):
    """10 repairs gave 8 callbacks (P2 asks >= 90 %): the floor plans the ninth at the next tick."""
    app = estate(hf)
    ids = pick(app, "R", "repair", 0.9, sampled=8, left_out=2)
    for tid, day in zip(ids, DECEMBER, strict=True):
        with clock.at(T(f"{day}T15:00")):
            app.receive_trigger("property.repair_completed", "S1", REPAIR, trigger_id=tid)
    with clock.at(T("2026-12-14T16:00")):
        out = tick(app)
    called = [t for t in ids if f"{t}-callback" in app.load(Trigger, t, "trigger").followups]
    assert out["topped_up"] == 1 and len(called) == 9
    [entry] = out["top_ups"]
    assert (entry["rule"], entry["purpose"], entry["required"]) == ("P2", "repair", 9)
    fu = app.followup_info(f"{entry['trigger']}-callback")
    assert (fu.owner, fu.meta["worker"]) == ("disp", "w1")  # the standby visit: G9 exclusion kept
    app.close()


def test_G17_ids_chosen_to_dodge_the_public_hash_are_still_called_back(hf):
    """Attack: whoever assigns order numbers picks ids the old unkeyed sha256 draw never sampled. The
    store's key samples them like any others, and the floor holds the month at 30 % regardless."""
    app = estate(hf)

    def unkeyed(i: str) -> float:
        digest = hashlib.sha256(f"huifang.property:complaint_recheck:{i}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2 ** 64
    dodgers = [f"X{i}" for i in range(300) if unkeyed(f"X{i}") >= 0.3][:10]
    for tid, day in zip(dodgers, DECEMBER, strict=True):
        with clock.at(T(f"{day}T10:00")):
            app.receive_trigger("property.complaint_handled", "S1", GENERAL, trigger_id=tid)
    with clock.at(T("2026-12-15T09:00")):
        tick(app)
    rechecked = [t for t in dodgers if f"{t}-recheck" in app.load(Trigger, t, "trigger").followups]
    assert len(rechecked) >= 3
    app.close()


def test_G17_the_sampling_key_is_a_key_row_of_the_store_named_in_every_draw(hf, tmp_path):
    """The key is kept with the data keys (wrapped by the master key, sealed into the chain: audit
    verify holds); every stored decision names its fingerprint, and another store has another key."""
    app = estate(hf)
    with clock.at(AT):
        t, fus, _ = app.receive_trigger("property.repair_completed", "S1", REPAIR, trigger_id="RK1")
    rec = fus[0].meta["sample"] if fus else t.skipped[0]["meta"]["sample"]
    assert (rec["rule"], rec["key"], rec["score"]) == ("P2", sampler(app).fingerprint,
                                                        sampler(app).score("repair", "RK1"))
    row = Raw(hf.db).query(f"SELECT wrapped, erased FROM huifang_keys WHERE subject = '{SAMPLING_KEY}'")
    assert len(row) == 1 and row[0][0] is not None and not row[0][1]
    assert app.find_by_id(SamplingKey.create_id()).fingerprint == sampler(app).fingerprint  # its own record
    assert sampler(app).fingerprint == sampler(open_app(hf.db)).fingerprint  # reproducible inside the store
    assert hf.ok("audit", "verify")["ok"]
    from tests.conftest import Huifang

    other = Huifang(str(tmp_path / "other.db"))
    other.ok("init")
    there = estate(other)
    assert sampler(there).fingerprint != sampler(app).fingerprint
    assert [sampler(there).score("repair", f"R{i}") for i in range(5)] != \
        [sampler(app).score("repair", f"R{i}") for i in range(5)]
    app.close()
    there.close()


def test_P2_skip_is_on_the_trigger_received_event_for_the_auditor(hf):
    app = estate(hf)
    [tid] = pick(app, "RP", "repair", 0.9, sampled=0, left_out=1)
    with clock.at(AT):
        app.receive_trigger("property.repair_completed", "S1", REPAIR, trigger_id=tid)
    events = list(app.events.get(Trigger.create_id(tid)))
    assert type(events[0]).__qualname__ == "Trigger.Received"
    skip = events[0].skipped[0]
    assert skip["meta"]["sample"]["rate"] == 0.9 and skip["meta"]["sample"]["rule"] == "P2"
    assert "not sampled" in skip["reason"] and skip["meta"]["standby"]["visit_type"] == "repair_callback"
    app.close()


@pytest.mark.parametrize("rule", ["P2", "P1", "P6"])
@pytest.mark.slow  # scale: 1000 triggers through the store per rule
def test_G17_sample_share_over_1000_triggers_is_within_tolerance_and_identical_on_resend(hf, tmp_path, rule):
    """1,000 triggers arrive the way a day's batch does (`trigger import`, the bulk path); a re-sent one
    arrives alone (the single-command path): both draw with the store's key."""
    from huifang.core.importer import ColumnMap, Importer

    kind, attrs, purpose, rate, key = {
        "P2": ("property.repair_completed", REPAIR, "repair", 0.9, "callback"),
        "P1": ("property.complaint_handled", GENERAL, "complaint_recheck", 0.3, "recheck"),
        "P6": ("property.activity_held", {"name": "中秋游园会"}, "activity", 0.1, "callback")}[rule]
    app = estate(hf)
    with clock.at(T("2026-09-01T09:00")):
        for i in range(2, 21):  # an estate's day: many households, some with several triggers
            app.add_subject(f"S{i}", "王芳")
    tids = [f"{rule}-{i:04d}" for i in range(1000)]
    path = tmp_path / "triggers.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "subject", "at", *attrs])
        w.writerows([tid, f"S{i % 20 + 1}", AT.strftime("%Y-%m-%d %H:%M"), *attrs.values()] for i, tid in enumerate(tids))
    with clock.at(AT):
        report = Importer(app, "trigger", str(path), ColumnMap(), kind=kind).run()
    assert report["imported"] == 1000, report
    with clock.at(AT):
        app.projector.catch_up()
    with app.projector.engine.connect() as conn:
        codes = {r[0] for r in conn.execute(text("SELECT code FROM followups"))}
    got = {tid: f"{tid}-{key}" in codes for tid in tids}
    assert abs(sum(got.values()) / 1000 - rate) <= tolerance(rate), rule
    s = sampler(app)
    assert got == {tid: s.score(purpose, tid) < rate for tid in got}  # the store's draws, recomputable inside it
    with clock.at(AT):
        _, fus, created = app.receive_trigger(kind, "S8", attrs, trigger_id=f"{rule}-0007")  # row 7: S8
    assert not created and any(f.key == key for f in fus) == got[f"{rule}-0007"]
    app.close()
