"""A served command reads each aggregate from the store once (`HuifangApp.reads_once`, around every call of
`huifang serve`): a second read is a copy of the first, or of what the command saved since. It must never
hand out a stale or half-changed aggregate: a change not yet saved is read afresh, a failed save forgets
every read, and another process's change still makes the save conflict (the version check)."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Huifang


@pytest.fixture
def opened(hf: Huifang) -> Iterator[tuple[Any, list[Any]]]:
    """(an application on a store with subject P1, each time its event store was asked for P1)"""
    from huifang.core import clock
    from huifang.core.config import load_config
    from huifang.core.domain.base import aggregate_uuid
    from huifang.projections import open_app

    hf.ok("subject", "add", "P1", "--name", "张三")
    app = open_app(hf.db, load_config(hf.config, db=hf.db))
    asked: list[Any] = []  # reads of P1 (a save reads other records too: the access policy, the calendar)
    get = app.repository.event_store.get
    p1 = aggregate_uuid("subject", "P1")

    def counted(originator_id: Any, *args: Any, **kwargs: Any) -> Any:
        if originator_id == p1:
            asked.append(originator_id)
        return get(originator_id, *args, **kwargs)

    app.repository.event_store.get = counted  # type: ignore[method-assign]
    try:
        with clock.at(clock.parse_instant(str(hf.now)), clock.NOW_OPTION):  # the store's logical clock
            yield app, asked
    finally:
        app.close()


def test_a_second_read_is_a_copy_of_the_first_not_a_store_read(opened: tuple[Any, list[Any]]) -> None:
    from huifang.core.domain import Subject

    app, asked = opened
    with app.reads_once():
        first = app.load(Subject, "P1", "subject")
        second = app.load(Subject, "P1", "subject")
        assert second is not first and second.__dict__ == first.__dict__
        second.opt_out(channel="sms", actor="cli")  # the copy is the caller's own
        assert first.optouts == [] and len(asked) == 1
    app.load(Subject, "P1", "subject")  # outside a served command: the store, every time
    assert len(asked) == 2


def test_a_change_not_yet_saved_is_read_afresh(opened: tuple[Any, list[Any]]) -> None:
    from huifang.core.domain import Subject

    app, asked = opened
    with app.reads_once():
        changed = app.load(Subject, "P1", "subject")
        changed.opt_out(channel="sms", actor="cli")
        again = app.load(Subject, "P1", "subject")
    assert again.optouts == [] and again.version == changed.version - 1 and len(asked) == 2


def test_what_the_command_saved_is_what_it_reads_next(opened: tuple[Any, list[Any]]) -> None:
    from huifang.core.domain import Subject

    app, asked = opened
    with app.reads_once():
        s = app.load(Subject, "P1", "subject")
        s.opt_out(channel="sms", actor="cli")
        app.commit(s)
        after = app.load(Subject, "P1", "subject")
    assert after.optouts == ["sms"] and after.version == s.version and len(asked) == 1


def test_a_failed_save_forgets_every_read_and_another_process_change_still_conflicts(
        hf: Huifang, opened: tuple[Any, list[Any]]) -> None:
    from huifang.core.domain import Subject
    from huifang.core.errors import ConflictError

    app, asked = opened
    with app.reads_once():
        stale = app.load(Subject, "P1", "subject")
        hf.ok("subject", "optout", "P1", "--channel", "phone")  # another process, meanwhile
        copy = app.load(Subject, "P1", "subject")  # the first read's copy: the store is not asked again
        assert copy.optouts == [] and len(asked) == 1
        copy.opt_out(channel="sms", actor="cli")
        with pytest.raises(ConflictError):
            app.commit(copy)  # the version check refuses it
        fresh = app.load(Subject, "P1", "subject")  # the failed save forgot the reads
    assert fresh.optouts == ["phone"] and fresh.version == stale.version + 1 and len(asked) == 2
