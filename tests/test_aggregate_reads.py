"""How many aggregates are read at once (bulk.load_many, a bulk import's subjects, tick's follow-ups):
eventsourcing's own aggregates, a plain aggregate's first event made into it directly (decoding.Rebuilder)."""
from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.domain import event
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from huifang.core import bulk, clock
from huifang.core.bulk import aggregate_id
from huifang.core.config import Config
from huifang.core.decoding import Rebuilder, reading_mapper, rebuilder
from huifang.core.domain.base import Base, aggregate_uuid
from huifang.projections import open_app

NOW = "2026-10-20T10:00:00+08:00"
_SERIALS = itertools.count()


class Gauge(Base):
    """A plain aggregate: its first event can be made into it directly."""

    class Started(Base.Created):
        name: str
        limits: list

    @event(Started)
    def __init__(self, name: str, limits: list):
        self.name = name
        self.limits = list(limits)
        self.readings: list[int] = []


class Ticketed(Base):
    """An aggregate whose __init__ is not a function of its event (a serial from outside)."""

    class Issued(Base.Created):
        name: str

    @event(Issued)
    def __init__(self, name: str):
        self.name = name
        self.serial = next(_SERIALS)


class Versioned(Base):
    class Made(Base.Created):
        class_version = 2
        name: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["name"] = state.get("title", "?")

    @event(Made)
    def __init__(self, name: str):
        self.name = name


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Any]:
    app = open_app(str(tmp_path / "s.db"), Config())
    yield app
    app.close()


def _stored(app: Any, aggregate: Any, fresh: bool = False) -> list[Any]:
    """The aggregate's events as stored (`fresh`: its first event made again, as a second copy)."""
    if fresh:
        first = aggregate.Started(originator_id=aggregate.id, originator_version=1, timestamp=aggregate.created_on,
                                  originator_topic=aggregate.TOPIC, name=aggregate.name, limits=aggregate.limits)
        return [app.mapper.to_stored_event(first)]
    return [app.mapper.to_stored_event(e) for e in aggregate.collect_events()]


def _read(app: Any, aggregates: list[Any]) -> tuple[Rebuilder, list[Any]]:
    """Each aggregate's first event read by one new Rebuilder: (the reader, what it made of each)."""
    reader = Rebuilder(reading_mapper(app.mapper))
    made = []
    for a in aggregates:
        (s,) = _stored(app, a)
        made.append(reader.mutate(s.originator_id, 1, s.topic, bytes(s.state), None))
    return reader, made


def test_subjects_read_at_once_are_the_aggregates_eventsourcing_makes(app: Any) -> None:
    """G8 data as stored (sealed), opt-outs (G7) applied after the first event: every subject
    read through load_many equals the repository's, and the first event was read directly."""
    with clock.at(clock.parse_instant(NOW)):
        app.add_subject("P1", "王伟", ["13800138000"], "w@example.com", attributes={"ward": "3A"})
        app.add_subject("P2", "李娜", ["13900139000"])
        app.opt_out("P2", "sms")
        app.add_subject("P3", "张三")
        app.opt_out("P3", "sms")
        app.opt_out("P3", "phone")
        codes = ["P1", "P2", "P3", "P404"]
        read = bulk.load_many(app, [aggregate_id("subject", c) for c in codes], codes)
    assert sorted(read) == ["P1", "P2", "P3"]
    for code, subject in read.items():
        library = app.repository.get(aggregate_id("subject", code))
        assert type(subject) is type(library)
        assert vars(subject) == vars(library)
    assert read["P2"].optouts == ["sms"] and read["P2"].version == 2
    assert read["P3"].optouts == ["sms", "phone"] and read["P3"].version == 3
    assert rebuilder(app.mapper)._direct["huifang:Subject.Registered"] is not None


def test_a_plain_first_event_is_made_into_its_aggregate_directly(app: Any) -> None:
    with clock.at(clock.parse_instant(NOW)):
        gauges = [Gauge(name=f"g{i}", limits=[i, i + 1]) for i in range(3)]
    reader, made = _read(app, gauges)
    direct = reader._direct["huifang:Gauge.Started"]
    assert direct is not None
    (s,) = _stored(app, gauges[2], fresh=True)
    assert vars(direct(s.originator_id, bytes(s.state))) == vars(made[2])
    for g, m in zip(gauges, made, strict=True):
        assert type(m) is Gauge
        assert (m.id, m.version, m.created_on, m.modified_on, m.name, m.limits, m.readings) == \
            (g.id, 1, g.created_on, g.created_on, g.name, g.limits, [])
        assert m.__dict__["_latest_on"] == g.created_on  # as Base.Event.mutate sets it


def test_a_topic_whose_direct_aggregate_differs_is_always_read_the_librarys_way(app: Any) -> None:
    with clock.at(clock.parse_instant(NOW)):
        tickets = [Ticketed(name=f"t{i}") for i in range(3)]
    reader, made = _read(app, tickets)
    assert reader._direct["huifang:Ticketed.Issued"] is None
    # the library's __init__ ran once per read, the direct one once (the check after the first read)
    serials = [t.serial for t in made]
    assert serials == [serials[0], serials[0] + 2, serials[0] + 3]


def test_a_first_event_that_may_be_upcast_is_read_the_librarys_way(app: Any) -> None:
    """A created event with class_version 2 (an older store's v1 events are upcast on reading)."""
    with clock.at(clock.parse_instant(NOW)):
        v = Versioned(name="v1")
    reader, (made,) = _read(app, [v])
    assert reader._direct["huifang:Versioned.Made"] is None
    assert (type(made), made.name, made.id) == (Versioned, "v1", v.id)


@given(kind=st.sampled_from(["subject", "trigger", "followup", "ticket"]), key=st.text(max_size=40))
@settings(max_examples=300, deadline=None)
def test_bulk_ids_are_the_domains_uuid5(kind: str, key: str) -> None:
    """bulk.aggregate_id and id_bytes skip uuid.UUID's checks and object: the same uuid5 as the domain's."""
    assume(not any("\ud800" <= ch <= "\udfff" for ch in key))  # a lone surrogate cannot be encoded
    uuid = aggregate_uuid(kind, key)
    assert aggregate_id(kind, key) == uuid and aggregate_id(kind, key).version == 5
    assert bulk.id_bytes(kind, key) == uuid.bytes
