"""Rebuild speed without a changed result: the projector's decoder (orjson) gives the objects and
errors eventsourcing's JSONTranscoder gives, the JSON columns get json.dumps's text, and rows held as
tuples (insert_row) are stored as the dict path stores them. Both backends for the stored rows."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, UUIDAsHex
from sqlalchemy import text

from huifang.core import clock
from huifang.core.config import Config
from huifang.core.decoding import FastJSONTranscoder
from huifang.core.plugin_api.views import followups, insert_row
from huifang.projections import open_app
from huifang.projections.core_views import FOLLOWUP_KEYS, INSERT_FOLLOWUP
from huifang.projections.engine import _Buffered, _JSONText

NOW = "2026-10-20T10:00:00+08:00"
UID = "0f" * 16

STATES = [
    b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-10-20T10:00:00+08:00"},"code":"D1","meta":{"a":[1,2]}}',
    b'{"a":{"_type_":"datetime_iso","_data_":"2026-01-01T00:00:00+08:00"},"b":[{"c":{"_type_":"uuid_hex","_data_":"'
    + UID.encode() + b'"}}]}',
    b'{"x":{"_type_":"decimal_str","_data_":{"_type_":"decimal_str","_data_":"1"}}}',  # innermost first
    b'{"x":{"\\u005ftype_":"decimal_str","_data_":"1.5"}}',  # an escaped key: found all the same
    b'{"note":"_type_","t":{"_type_":"decimal_str","_data_":"3"}}',
    b'{"x":{"_type_":"decimal_str"}}',
    b'{"x":{"_type_":"decimal_str","_data_":"1","y":2}}',
    b'{"_type_":"decimal_str","_data_":"2"}',
    b'{"a":NaN,"b":Infinity}',  # the stdlib reads these, orjson does not
    b'{"a":123456789012345678901234567890,"b":-9223372036854775809}',  # beyond 64 bits: exact ints
    b'{"a":1.0000000000000002,"b":-0.0,"c":1e400,"d":"\\ud800"}',
    b'{"a":1,"a":2}',
    b'[1,2]',
    b'{"x":{"_type_":"nope","_data_":"1"}}',  # unregistered: the same error
    b'{"x":{"_type_":"datetime_iso","_data_":5}}',
    b'\xff',
]


def _stock() -> JSONTranscoder:
    t = JSONTranscoder()
    for x in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        t.register(x)
    return t


def _outcome(t: JSONTranscoder, data: bytes) -> tuple:
    try:
        return ("ok", repr(t.decode(data)))
    except Exception as e:
        return ("error", type(e), str(e))


@pytest.mark.parametrize("data", STATES)
def test_fast_decoder_gives_the_stock_transcoders_objects_and_errors(data):
    stock = _stock()
    fast = FastJSONTranscoder(stock)
    assert _outcome(fast, data) == _outcome(stock, data)
    assert _outcome(fast, data) == _outcome(stock, data)  # again: the remembered keys and values


def test_fast_decoder_shares_only_immutable_values():
    fast = FastJSONTranscoder(_stock())
    one, two = (fast.decode(b'{"t":{"_type_":"decimal_str","_data_":"1.5"},"m":{"k":[1]}}') for _ in range(2))
    assert one == two == {"t": Decimal("1.5"), "m": {"k": [1]}}
    assert one["m"] is not two["m"]


@pytest.mark.parametrize("value", [{"a": [1, 2.5, None, True, "中"], "b": {"c": -0.0}}, [], None, "x", 1.5,
                                   {"k": "\ud800"}, {1: "non-str key"}, [2 ** 70], [1e-7, 1e16, 0.1]])
def test_json_columns_get_compact_utf8_json_text(value):
    text = _JSONText()(value)
    if value == {"k": "\ud800"}:  # no UTF-8 for a lone surrogate: escaped, as json.dumps does
        assert text == json.dumps(value, separators=(",", ":")) and text.isascii()
        return
    if value == [1e-7, 1e16, 0.1]:  # an exponent's form is orjson's ("1e-7"), the number the same
        assert json.loads(text) == value and " " not in text
        return
    assert text == json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text.encode()


def test_a_non_finite_number_is_json_null_not_the_stdlibs_nan_which_postgresql_refuses():
    """Inputs refuse NaN and infinities (core/inputs.py); were one to reach a view, PostgreSQL's json
    type would refuse the stdlib's `NaN` and stop the projection: null is stored instead."""
    assert _JSONText()({"score": float("nan"), "n": [float("inf")]}) == '{"score":null,"n":[null]}'


def test_chinese_text_is_stored_as_utf8_not_escaped():
    meta = {"department": "心内科", "guides": [{"title": "康复评分模板：通用 (0-10 分)", "lines": ["症状消失或减轻"]}]}
    # 20 CJK characters: 3 bytes each instead of 6; 4 colons and 2 commas without their space
    assert len(json.dumps(meta)) - len(_JSONText()(meta).encode()) == 20 * 3 + 4 + 2


def test_json_column_errors_are_json_dumps_errors_and_leave_no_trace():
    dumps = _JSONText()
    loop: list = []
    loop.append(loop)
    for bad in (loop, {"x": object()}):
        with pytest.raises((ValueError, TypeError)) as got:
            dumps(bad)
        with pytest.raises(type(got.value), match=str(got.value)):
            json.dumps(bad)
    shared = [1]
    assert dumps([shared, shared]) == "[[1],[1]]"  # no left-over circular-reference mark


def test_rows_held_as_tuples_are_stored_as_dicts_are(db):
    app = open_app(db, Config())
    try:
        with clock.at(clock.parse_instant(NOW)):
            p = app.projector
            p.ensure()
            base = {
                "code": "K1-1", "oid": "00000000-0000-0000-0000-000000000001", "subject": "P1", "trigger": "K1",
                "trigger_kind": "medical.discharge", "plugin": "medical", "visit_type": "first", "status": "planned",
                "window_open": "2026-10-20T02:00:00+00:00", "due": "2026-10-26T15:59:59+00:00", "owner": "n1",
                "channel": "phone", "department": "心内科", "branch": None, "provisional": True, "attempts": 0,
                "reached": False, "refused": False, "reminded": False, "escalations": 0,
                "planned_at": "2026-10-20T02:00:00+00:00", "on_time": False, "cancelled_before_contact": False,
                "ticket": None, "meta": {"guides": ["中"], "n": 1.5}}
            rows = [base, {**base, "code": "K1-2", "oid": "00000000-0000-0000-0000-000000000002", "meta": None},
                    # orjson refuses an integer beyond 64 bits: SQLAlchemy's own serialiser writes that one
                    {**base, "code": "K1-3", "oid": "00000000-0000-0000-0000-000000000003", "provisional": False,
                     "meta": {"big": 2 ** 70, "list": [1, "二"]}},
                    {**base, "code": "K1-4", "oid": "00000000-0000-0000-0000-000000000004", "meta": ["a", {"b": None}]}]
            with p.engine.begin() as conn:  # the dict path: SQLAlchemy's own insert of every column
                conn.execute(followups.insert(), rows)
                plain = _rows(conn)
                conn.execute(text("DELETE FROM followups"))
                out = _Buffered(conn)  # the catch-up path: held as tuples, one executemany
                for row in rows:
                    insert_row(out, INSERT_FOLLOWUP, FOLLOWUP_KEYS, tuple(row[k] for k in FOLLOWUP_KEYS))
                out.flush()
                assert _rows(conn) == plain
                conn.execute(text("DELETE FROM followups"))
                for row in rows:  # any other connection: executed at once
                    insert_row(conn, INSERT_FOLLOWUP, FOLLOWUP_KEYS, tuple(row[k] for k in FOLLOWUP_KEYS))
                assert _rows(conn) == plain
            with p.engine.begin() as conn:
                conn.execute(text("DELETE FROM followups"))
    finally:
        app.close()


def _rows(conn) -> list[tuple]:
    return [tuple(r) for r in conn.execute(text("SELECT * FROM followups ORDER BY code"))]


@pytest.mark.parametrize("hex_text", [UID, "0F" * 16, "0x" + "1" * 30, "{" + UID + "}", UID[:31], "zz" * 16,
                                      "0f0f0f0f-0f0f-0f0f-0f0f-0f0f0f0f0f0f", "_" * 32, " " * 32, "\u0661" * 32])
def test_stored_ids_read_as_uuid_reads_them(hex_text):
    from uuid import UUID

    from huifang.projections.engine import _uuid

    def outcome(f):
        try:
            u = f(hex_text)
            return ("ok", u, str(u), hash(u), u.is_safe)
        except Exception as e:
            return ("error", type(e), str(e))

    assert outcome(_uuid) == outcome(UUID)


def test_rebuild_reads_the_notifications_and_events_the_recorder_and_mapper_give(db):
    """The projector's own read of the log (plain tuples on SQLite) and its lean event construction:
    the same notifications and the same event objects as eventsourcing's recorder and mapper."""
    app = open_app(db, Config())
    try:
        with clock.at(clock.parse_instant(NOW)):
            app.add_staff("n1", "护士", "agent")
            app.add_subject("P1", "王伟", ["13800138000"])
            p = app.projector
            head = p.head()
            mine = p._read_batch(1, 1000, head, None)[0]
            theirs = list(app.recorder.select_notifications(start=1, limit=1000, stop=head))
            assert mine == theirs and [type(n.originator_id) for n in mine] == [type(n.originator_id) for n in theirs]
            assert p._read_batch(2, 1, head, None)[0] == list(app.recorder.select_notifications(start=2, limit=1, stop=head))
            wanted = frozenset({"huifang:Subject.Registered"})  # a batch read for views of some topics only
            picked, count, first, last = p._read_batch(1, 1000, head, wanted)
            assert picked == [n for n in theirs if n.topic in wanted] and picked
            assert (count, first, last) == (len(theirs), theirs[0].id, theirs[-1].id)
            assert p._read_batch(head + 1, 1000, head, wanted) == ([], 0, 0, 0)
            [subject] = picked
            if p._sql is not None:  # SQLite: other topics skipped in SQL; a limit counts the rows wanted, and
                # the ids before the first of them were read all the same
                assert subject.id > 1 and p._read_batch(1, 1, head, wanted) == ([subject], subject.id, 1, subject.id)
                assert p._read_batch(1, 1000, subject.id - 1, wanted) == ([], subject.id - 1, 1, subject.id - 1)
            else:  # PostgreSQL (its ids may have gaps): the recorder's rows, a limit counts them all
                assert p._read_batch(1, 1, head, wanted) == ([], 1, 1, 1)
            for n in mine:
                e, f = p._event(n), app.mapper.to_domain_event(n)
                assert type(e) is type(f) and e.__dict__ == f.__dict__
    finally:
        app.close()


def test_a_follow_up_view_is_handed_its_own_plugins_plans_and_an_own_handle_sees_every_event(db):
    """FollowUpView calls `planned` for its plugin's follow-ups only (the rows of other plugins' follow-ups
    are not its to write); a view with its own handle is called for every FollowUp.Planned."""
    from sqlalchemy import MetaData

    from huifang.core.plugin_api.views import FollowUpView
    from huifang.projections.engine import Projector
    from tests.scale_support import discharge_patients

    seen: dict[str, list[str]] = {"medical": [], "property": [], "own": []}

    class Mine(FollowUpView):
        version, metadata = 1, MetaData()

        def planned(self, conn, e):
            seen[self.plugin].append(e.code)

    class Medical(Mine):
        name, plugin = "t_medical", "medical"

    class Property(Mine):
        name, plugin = "t_property", "property"

    class Own(Property):
        name = "t_own"

        def handle(self, conn, event, notification_id):
            if type(event).__qualname__ == "FollowUp.Planned":
                seen["own"].append(event.code)

    app = open_app(db, Config())
    try:
        with clock.at(clock.parse_instant(NOW)):
            discharge_patients(app, 1)
            p = Projector(app, [Medical(), Property(), Own()], app.projector.engine)
            assert p.rebuild() > 0
    finally:
        app.close()
    assert seen["medical"] and seen["property"] == [] and seen["own"] == seen["medical"]
