"""Engine pieces through the application API: working-day windows (G6), calling windows,
namespaced kinds, provisional deadlines and calendar import, replay, upcasting, G9."""
from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime

import pytest

from huifang.core import clock
from huifang.core.calendar import BusinessCalendar, YearSchedule
from huifang.core.config import Config
from huifang.core.domain import FollowUp
from huifang.core.errors import HuifangError, Refused
from huifang.core.queries import followup_json
from huifang.core.scheduling import Scheduler
from huifang.projections import open_app
from tests.testkit import Kit

SH = clock.zone("Asia/Shanghai")


def at(text):
    return clock.at(clock.parse_instant(text))


@pytest.fixture
def app(db):
    a = open_app(db, Config.model_validate({"huifang": {"plugins": ["medical"]}}), extra_plugins={"kit": Kit()})
    with at("2026-09-01T09:00+08:00"):
        a.add_staff("a1", "Agent", "agent")
        a.add_staff("s1", "Seller", "sales")
        a.add_subject("C1", "客户一", ["13900000000"])
    yield a
    a.close()


def test_g6_working_day_window_across_national_day(app):
    # signed Wed 2026-09-30: 5 working days = 10-08 (1), 10-09 (2), 10-10 make-up Sat (3), 10-12 (4), 10-13 (5)
    with at("2026-09-30T16:00+08:00"):
        _, fus, _ = app.receive_trigger("kit.signed", "C1", {}, trigger_id="K1")
    fu = fus[0]
    assert fu.window_open == datetime(2026, 10, 8, 10, 0, tzinfo=SH)  # first workday after the holiday
    assert fu.due == datetime(2026, 10, 13, 23, 59, 59, tzinfo=SH)
    assert fu.provisional is False


def test_g6_make_up_sunday_counts_as_a_workday(app):
    # Fri 2026-09-18 + 1 working day = Sun 09-20 (make-up workday), not Mon 09-21
    cal = BusinessCalendar()
    assert cal.add_workdays(date(2026, 9, 18), 1) == date(2026, 9, 20)
    s = Scheduler(cal, ["10:00-11:00", "14:00-16:00"], True, "Asia/Shanghai")
    assert s.next_slot(datetime(2026, 9, 19, 12, 0, tzinfo=SH)) == datetime(2026, 9, 20, 10, 0, tzinfo=SH)


def test_g6_calling_window_placement_and_retry():
    s = Scheduler(BusinessCalendar(), ["10:00-11:00", "14:00-16:00"], True, "Asia/Shanghai")
    # inside a window: now; between windows: the next window; evening: tomorrow morning
    assert s.next_slot(datetime(2026, 11, 23, 10, 30, tzinfo=SH)) == datetime(2026, 11, 23, 10, 30, tzinfo=SH)
    assert s.next_slot(datetime(2026, 11, 23, 12, 0, tzinfo=SH)) == datetime(2026, 11, 23, 14, 0, tzinfo=SH)
    assert s.next_slot(datetime(2026, 11, 27, 17, 0, tzinfo=SH)) == datetime(2026, 11, 30, 10, 0, tzinfo=SH)
    # no follow-ups on public holidays: Sep 30 evening -> Oct 8 (Oct 1-7 off)
    assert s.next_slot(datetime(2026, 9, 30, 18, 0, tzinfo=SH)) == datetime(2026, 10, 8, 10, 0, tzinfo=SH)
    # G5: a retry goes to another window, not the same one
    assert s.next_retry(datetime(2026, 11, 23, 10, 5, tzinfo=SH)) == datetime(2026, 11, 23, 14, 0, tzinfo=SH)
    assert s.next_retry(datetime(2026, 11, 23, 15, 0, tzinfo=SH)) == datetime(2026, 11, 24, 10, 0, tzinfo=SH)
    # the subject's time zone: 10:00 in Urumqi is 12:00 in Beijing
    u = Scheduler(BusinessCalendar(), ["10:00-11:00"], True, "Asia/Urumqi")
    assert u.next_slot(datetime(2026, 11, 23, 9, 0, tzinfo=SH)).astimezone(SH).hour == 12


def test_attempt_outside_calling_window_is_recorded_and_flagged(app):
    with at("2026-10-12T09:00+08:00"):
        _, fus, _ = app.receive_trigger("kit.signed", "C1", {}, trigger_id="K2")
    with at("2026-10-12T20:00+08:00"):
        fu, messages = app.record_attempt(fus[0].code, "phone", "no_answer", actor="a1")
    assert fu.attempts[0]["outside_window"] is True and "G6" in messages[0]
    assert fu.attempts[0]["next_attempt_at"] == datetime(2026, 10, 13, 10, 0, tzinfo=SH)


def test_bare_kind_must_be_unique_across_plugins(db):
    a = open_app(db, Config.model_validate({"huifang": {"plugins": []}}),
                   extra_plugins={"kit": Kit("kit"), "kit2": Kit("kit2")})
    try:
        with pytest.raises(HuifangError, match=r"kit.complaint_handled, kit2.complaint_handled"):
            a.registry.resolve_kind("complaint_handled")
        assert a.registry.resolve_kind("kit2.complaint_handled").plugin == "kit2"
    finally:
        a.close()


def test_g9_conflict_of_interest(app):
    with at("2026-10-12T09:00+08:00"):
        _, fus, _ = app.receive_trigger("kit.signed", "C1", {"seller": "s1"}, trigger_id="K3")
        code = fus[0].code
        with pytest.raises(Refused, match="G9"):
            app.record_attempt(code, "phone", "reached", actor="s1")
        with pytest.raises(Refused, match="G9"):
            app.reassign(code, "s1", "x")
        app.record_attempt(code, "phone", "reached", actor="a1")
        with pytest.raises(Refused, match="G9"):
            app.complete(code, {"satisfaction": "满意"}, actor="s1")


def test_g6_provisional_2027_deadline_replanned_by_official_calendar(app, tmp_path):
    # signed Thu 2026-12-31: 5 working days with no 2027 data = Mon-Fri rule and the holidays fixed by law
    # (元旦 01-01 off) -> 2027-01-08, provisional
    with at("2026-12-31T10:00+08:00"):
        _, fus, _ = app.receive_trigger("kit.signed", "C1", {}, trigger_id="K4")
    code = fus[0].code
    assert fus[0].provisional and fus[0].due.date() == date(2027, 1, 8)
    with at("2026-12-31T10:00+08:00"):
        assert followup_json(app, fus[0])["provisional"] is True
    official = YearSchedule(year=2027, holidays=frozenset({date(2027, 1, 1), date(2027, 1, 4)}),
                            workdays=frozenset({date(2027, 1, 9)}), source="国办发明电 test")
    with at("2027-01-02T09:00+08:00"):
        result = app.import_calendar([official])
    assert result["rescheduled"] == 1
    fu = app.load(FollowUp, code, "follow-up")
    # 01-01 and 01-04 off, Sat 01-09 worked: 01-05 (1), 01-06 (2), 01-07 (3), 01-08 (4), 01-09 (5)
    assert fu.due.date() == date(2027, 1, 9) and fu.provisional is False
    events = [type(e).__name__ for e in app.events.get(fu.id)]
    assert events[-1] == "Rescheduled"
    # a fresh application replays the stored deadline: never silently recomputed
    again = open_app(app.store.url, app.config, extra_plugins={"kit": Kit()})
    try:
        assert again.load(FollowUp, code, "follow-up").due == fu.due
        assert again.calendar.is_official(2027)
    finally:
        again.close()


def test_replay_reproduces_state_and_views(app):
    with at("2026-10-12T09:00+08:00"):
        _, fus, _ = app.receive_trigger("kit.signed", "C1", {}, trigger_id="K5")
        code = fus[0].code
        app.record_attempt(code, "phone", "busy", actor="a1")
    with at("2026-10-12T14:30+08:00"):
        app.record_attempt(code, "phone", "reached", actor="a1")
        app.complete(code, {"satisfaction": "满意", "note": "ok"}, actor="a1")
        before = followup_json(app, app.load(FollowUp, code, "follow-up"))
        app.projector.catch_up()
        with app.projector.engine.connect() as c:
            rows_before = [tuple(r) for r in c.exec_driver_sql("select * from followups order by code")]
        fresh = open_app(app.store.url, app.config, extra_plugins={"kit": Kit()})
        try:
            assert followup_json(fresh, fresh.load(FollowUp, code, "follow-up")) == before
            fresh.projector.rebuild()
            with fresh.projector.engine.connect() as c:
                rows_after = [tuple(r) for r in c.exec_driver_sql("select * from followups order by code")]
            assert rows_after == rows_before
        finally:
            fresh.close()


def test_upcast_v1_attempt_event(sqlite_db):
    """AttemptRecorded v1 (before recordings, G11) is read as v2 with recording=None."""
    app = open_app(sqlite_db, Config.model_validate({"huifang": {"plugins": []}}), extra_plugins={"kit": Kit()})
    with at("2026-10-12T09:00+08:00"):
        app.add_subject("C9", "x")
        _, fus, _ = app.receive_trigger("kit.signed", "C9", {}, trigger_id="K9")
    fu_id = fus[0].id
    v1 = {"timestamp": {"_type_": "datetime_iso", "_data_": "2026-10-12T02:30:00+00:00"}, "channel": "phone",
          "outcome": "busy", "note": None, "actor": "a1"}
    con = sqlite3.connect(sqlite_db)
    con.execute("INSERT INTO stored_events VALUES (?, ?, ?, ?)",
                (fu_id.hex, 2, "huifang:FollowUp.AttemptRecorded", json.dumps(v1).encode()))
    con.commit()
    con.close()
    fu = app.repository.get(fu_id)
    assert fu.attempts[0]["outcome"] == "busy"
    assert fu.attempts[0]["recording"] is None and fu.attempts[0]["outside_window"] is False
    app.close()
