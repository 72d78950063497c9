"""Group commit on PostgreSQL (`huifang serve`): the calls queued while the application's thread is busy
run as one group — one transaction, one chain block and one sealed high-water mark — and each caller
is told its own outcome only once the group has committed (G8: the chain and the mark cover every
record; a refusal in a group is recorded; nothing is half-written).

The unit-level stories drive the Service object directly (no HTTP): a gate call holds the application's
thread while the others queue, so they form one group; the served story posts from client threads."""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.conftest import Huifang
from tests.service_support import Api, issue, server

PG = [pytest.param("postgres", marks=pytest.mark.postgres)]
NOW = "2026-09-28T09:00:00+08:00"
ATTRS = {"department": "cardiology", "diagnosis": "CHD", "responsible_nurse": "n1", "attending_doctor": "dr1"}


@pytest.fixture
def service(hf: Huifang) -> Iterator[Any]:
    """The Service of one `huifang serve` worker over the store, at the store's --now."""
    from huifang.core import clock
    from huifang.core.config import load_config
    from huifang.projections import open_app
    from huifang.service.app import Service

    app = open_app(hf.db, load_config(hf.config, db=hf.db))
    svc = Service(app, clock.parse_instant(NOW))
    assert svc.groups is not None, "group commit is on for a PostgreSQL store"
    try:
        yield svc
    finally:
        svc.pool.shutdown(wait=True)
        app.close()


def run_grouped(svc: Any, calls: list[Callable[[], Any]]) -> list[Any]:
    """Each call through Service.call, queued behind a gate that holds the application's thread, so they
    run as groups; their outcomes (a value, or the exception raised), in order."""
    gate = threading.Event()

    async def go() -> list[Any]:
        held = asyncio.ensure_future(svc.call(gate.wait))
        await asyncio.sleep(0.05)  # the gate is on the application's thread
        pending = [asyncio.ensure_future(svc.call(c)) for c in calls]
        await asyncio.sleep(0.05)
        gate.set()
        await held
        return list(await asyncio.gather(*pending, return_exceptions=True))
    return asyncio.run(go())


def blocks(svc: Any) -> int:
    return len(list(svc.app.recorder.iter_blocks()))


def records(svc: Any) -> int:
    return int(svc.app.recorder.max_notification_id() or 0)


def verify(hf: Huifang) -> None:
    hf.ok("audit", "verify")


@pytest.mark.parametrize("backend", PG)
def test_G8_queued_commands_commit_as_one_group_with_one_block(hf: Huifang, service: Any) -> None:
    app = service.app
    before_blocks, before_records = blocks(service), records(service)
    calls = [lambda i=i: app.add_subject(f"G{i}", "张三", [f"1380000{i:04d}"], actor="cli") for i in range(6)]
    out = run_grouped(service, calls)
    assert not [o for o in out if isinstance(o, BaseException)], out
    assert records(service) - before_records >= 6
    assert blocks(service) - before_blocks == 1  # six commands, one block, one mark
    assert service.groups.stats["groups"] == 1 and service.groups.stats["grouped"] >= 6
    verify(hf)
    assert hf.ok("subject", "show", "G5", "--reason", "test")["id"] == "G5"


@pytest.mark.parametrize("backend", PG)
def test_G8_a_refused_command_in_a_group_fails_alone_and_its_refusal_is_recorded(hf: Huifang, service: Any) -> None:
    hf.ok("staff", "add", "adm", "--name", "管理员", "--role", "admin")  # access control on
    hf.ok("staff", "add", "aud", "--name", "审计", "--role", "auditor", actor="adm")
    app = service.app
    calls = [lambda: app.add_subject("R1", "张三", ["13800000001"], actor="adm"),
             lambda: app.add_subject("R2", "李四", ["13800000002"], actor="aud"),  # auditors change nothing
             lambda: app.add_subject("R1", "王五", ["13800000003"], actor="adm"),  # R1 exists: refused
             lambda: app.add_subject("R3", "赵六", ["13800000004"], actor="adm")]
    before = blocks(service)
    ok1, denied, exists, ok3 = run_grouped(service, calls)
    from huifang.core.access import AccessDenied
    from huifang.core.errors import HuifangError

    assert not isinstance(ok1, BaseException) and not isinstance(ok3, BaseException)
    assert isinstance(denied, AccessDenied), denied
    assert isinstance(exists, HuifangError) and not isinstance(exists, AccessDenied), exists
    assert exists.message == "subject 'R1' already exists"  # told by the save's conflict in the group
    assert blocks(service) - before == 1
    assert service.groups.stats["grouped"] == 4
    refusals = hf.ok("audit", "reads", "--actor", "aud", actor="adm")["refusals"]
    assert [(r["action"], r["target"]) for r in refusals] == [("subject.add", "subject R2")], refusals
    from huifang.core.domain import Subject

    assert [c for c in ("R1", "R2", "R3") if app.find(Subject, c) is not None] == ["R1", "R3"]
    assert app.keyring.reveal(app.find(Subject, "R1").name) == "张三"
    verify(hf)


@pytest.fixture
def ward_service(hf: Huifang) -> Iterator[Any]:
    """A discharge D1 (follow-up D1-1 owned by n1) and the Service at an instant inside its window."""
    from huifang.core import clock
    from huifang.core.config import load_config
    from huifang.projections import open_app
    from huifang.service.app import Service

    hf.ok("staff", "add", "n1", "--name", "王护士", "--role", "agent", "--dept", "cardiology")
    hf.ok("subject", "add", "P1", "--name", "张三", "--phone", "13812345678")
    hf.ok("trigger", "discharge", "--subject", "P1", "--id", "D1", *[a for k, v in ATTRS.items()
                                                                      for a in ("--attr", f"{k}={v}")])
    app = open_app(hf.db, load_config(hf.config, db=hf.db))
    svc = Service(app, clock.parse_instant("2026-10-08T10:20:00+08:00"))
    try:
        yield svc
    finally:
        svc.pool.shutdown(wait=True)
        app.close()


@pytest.mark.parametrize("backend", PG)
def test_G8_two_commands_on_one_followup_in_a_group_both_apply_in_order(hf: Huifang, ward_service: Any) -> None:
    app = ward_service.app
    calls = [lambda: app.record_attempt("D1-1", "phone", "no_answer", actor="n1"),
             lambda: app.record_attempt("D1-1", "phone", "reached", actor="n1"),
             lambda: app.complete("D1-1", {"recovery": 8, "satisfaction": "满意"}, actor="n1"),
             lambda: app.record_attempt("D1-1", "phone", "reached", actor="n1")]  # closed by then: refused
    first, second, done, late = run_grouped(ward_service, calls)
    from huifang.core.errors import HuifangError

    assert [a["outcome"] for a in first[0].attempts] == ["no_answer"]
    assert [a["outcome"] for a in second[0].attempts] == ["no_answer", "reached"]
    assert done[0].status == "completed"
    assert isinstance(late, HuifangError), late
    assert ward_service.groups.stats["groups"] == 1 and ward_service.groups.stats["grouped"] == 4
    shown = hf.ok("show", "D1-1")
    assert [a["outcome"] for a in shown["attempts"]] == ["no_answer", "reached"] and shown["status"] == "completed"
    verify(hf)


@pytest.mark.parametrize("backend", PG)
def test_G8_a_fault_at_the_groups_commit_writes_nothing_and_each_command_runs_alone(
        hf: Huifang, service: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from eventsourcing.persistence import OperationalError

    recorder = service.app.recorder
    real = recorder._seal_group
    faults: list[int] = []

    def seal_then_fail(g: Any) -> Any:
        mark = real(g)  # the block and the mark are written in the transaction ...
        if not faults:
            faults.append(len(g.ids))
            raise OperationalError("the server went away at commit")  # ... which then never commits
        return mark
    monkeypatch.setattr(recorder, "_seal_group", seal_then_fail)
    app = service.app
    before_blocks, before_records = blocks(service), records(service)
    calls = [lambda i=i: app.add_subject(f"F{i}", "张三", [f"1390000{i:04d}"], actor="cli") for i in range(4)]
    calls.append(lambda: app.add_subject("F0", "重复", ["13900009999"], actor="cli"))  # refused alone too
    out = run_grouped(service, calls)
    from huifang.core.errors import HuifangError

    assert faults and faults[0] > 0, "the group reached its commit"
    assert not [o for o in out[:4] if isinstance(o, BaseException)] and isinstance(out[4], HuifangError), out
    assert service.groups.stats["failed"] == 1 and service.groups.stats["groups"] == 0
    assert blocks(service) - before_blocks == 4  # each command alone: its own block; nothing of the group
    added = records(service) - before_records
    from huifang.core.domain import Subject

    subjects = [app.find(Subject, f"F{i}") for i in range(4)]
    assert all(s is not None and s.version == 1 for s in subjects)  # each written once, by its lone run
    assert added >= 4
    verify(hf)


@pytest.mark.parametrize("backend", PG)
def test_G8_a_command_reading_the_log_over_uncommitted_records_runs_alone_after_the_group(
        hf: Huifang, service: Any) -> None:
    """Its own save (a new subject: a data key) is rolled back with it and made again alone, once."""
    from huifang.core.domain import Subject

    app = service.app
    start = records(service)

    def add_then_catch_up() -> int:
        app.add_subject("B3", "王五", ["13700000003"], actor="cli")
        app.projector.catch_up()  # the views: built only from committed records
        return int(app.recorder.max_notification_id() or 0)
    out = run_grouped(service, [lambda: app.add_subject("B1", "张三", ["13700000001"], actor="cli"),
                                add_then_catch_up,
                                lambda: app.add_subject("B2", "李四", ["13700000002"], actor="cli")])
    head = out[1]
    assert start < head < records(service)  # it saw B1 (committed before it ran), not B2 (after it)
    assert app.projector.lag() <= records(service) - head
    assert service.groups.stats["alone"] >= 2  # the gate, then the catch-up alone
    b3 = app.find(Subject, "B3")
    assert b3 is not None and b3.version == 1 and app.keyring.reveal(b3.name) == "王五"
    verify(hf)  # B3's key sealed once, in its own block


@pytest.mark.parametrize("backend", PG)
def test_G8_a_store_failure_under_a_save_in_a_group_reruns_that_command_alone(
        hf: Huifang, service: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import psycopg

    from huifang.core.domain import Subject

    recorder = service.app.recorder
    real = recorder._insert_stored_events
    failed: list[int] = []

    def lock_timeout_once(curs: Any, stored: Any, **kw: Any) -> Any:
        if not failed and recorder._active() is not None and len(recorder._active().ids) > 0:
            failed.append(1)
            raise psycopg.errors.LockNotAvailable("canceling statement due to lock timeout")
        return real(curs, stored, **kw)
    monkeypatch.setattr(recorder, "_insert_stored_events", lock_timeout_once)
    app = service.app
    out = run_grouped(service, [lambda i=i: app.add_subject(f"L{i}", "张三", [f"1360000{i:04d}"], actor="cli")
                                for i in range(3)])
    assert failed and not [o for o in out if isinstance(o, BaseException)], out
    assert all(app.find(Subject, f"L{i}").version == 1 for i in range(3))
    assert service.groups.stats["groups"] >= 1 and service.groups.stats["alone"] >= 2
    verify(hf)


@pytest.mark.parametrize("backend", PG)
def test_G8_group_commit_is_off_with_the_switch(hf: Huifang, monkeypatch: pytest.MonkeyPatch) -> None:
    from huifang.core.config import load_config
    from huifang.projections import open_app
    from huifang.service.app import Service

    monkeypatch.setenv("HUIFANG_GROUP_COMMIT", "0")
    app = open_app(hf.db, load_config(hf.config, db=hf.db))
    try:
        svc = Service(app, None)
        assert svc.groups is None  # each call alone, one commit each (today's path)
        svc.pool.shutdown(wait=True)
    finally:
        app.close()


@pytest.mark.parametrize("backend", PG)
def test_G8_several_workers_commit_each_call_alone_unless_group_commit_is_switched_on(
        hf: Huifang, monkeypatch: pytest.MonkeyPatch) -> None:
    """A group holds the log's lock while its later calls run: with several workers that makes them take
    turns, so `serve --workers N` groups only when HUIFANG_GROUP_COMMIT=1 says so; one worker groups."""
    from huifang.core.config import load_config
    from huifang.projections import open_app
    from huifang.service.app import Service
    from huifang.service.workers import WORKER_ENV, WorkerSpec, app_factory

    monkeypatch.delenv("HUIFANG_GROUP_COMMIT", raising=False)
    app = open_app(hf.db, load_config(hf.config, db=hf.db))
    try:
        grouped = {}
        for switch, workers in (("", 1), ("", 2), ("1", 2), ("0", 1)):
            monkeypatch.setenv("HUIFANG_GROUP_COMMIT", switch)
            svc = Service(app, None, workers=workers)
            grouped[(switch, workers)] = svc.groups is not None
            svc.pool.shutdown(wait=True)
        assert grouped == {("", 1): True, ("", 2): False, ("1", 2): True, ("0", 1): False}
    finally:
        app.close()
    # what `serve --workers 2` hands its workers: each opens the store with grouping off
    monkeypatch.delenv("HUIFANG_GROUP_COMMIT")
    for workers, grouping in ((2, False), (1, True)):
        monkeypatch.setenv(WORKER_ENV, WorkerSpec(db=hf.db, now=None, config_path=hf.config, config_how=None,
                                                  lang=None, rate_limit=60, workers=workers).dumps())
        api = app_factory()
        service = api.state.service
        try:
            assert (service.groups is not None) is grouping
        finally:
            service.pool.shutdown(wait=True)
            service.app.close()


@pytest.mark.slow
@pytest.mark.parametrize("backend", PG)
def test_G8_concurrent_posts_to_a_served_store_end_in_fewer_blocks_than_commands(hf: Huifang) -> None:
    from huifang.core.config import load_config
    from huifang.projections import open_app

    hf.ok("staff", "add", "adm", "--name", "管理员", "--role", "admin")
    hf.ok("staff", "add", "n1", "--name", "王护士", "--role", "agent", "--dept", "cardiology", actor="adm")
    hf.ok("staff", "add", "his", "--name", "HIS接口", "--role", "intake", actor="adm")
    hf.ok("staff", "add", "aud", "--name", "审计", "--role", "auditor", actor="adm")
    tokens = {"his": issue(hf, "his", "write"), "aud": issue(hf, "aud", "read,write")}
    app = open_app(hf.db, load_config(hf.config, db=hf.db))
    try:
        blocks0, records0 = len(list(app.recorder.iter_blocks())), int(app.recorder.max_notification_id() or 0)
    finally:
        app.close()
    ids = [f"S{i}" for i in range(16)]
    with server(hf) as base:
        api = Api(base, hf, tokens)
        calls: list[tuple[Any, ...]] = [("POST", "/api/v1/subjects", {"id": s, "name": "张三"}, "his") for s in ids]
        calls.insert(5, ("POST", "/api/v1/subjects", {"id": "X1", "name": "李四"}, "aud"))  # auditors change nothing
        with ThreadPoolExecutor(max_workers=8) as pool:
            replies = list(pool.map(lambda c: api(*c), calls))
        assert [r.status for r in replies] == [201] * 5 + [403] + [201] * 11, [r.body for r in replies]
        posts = [("POST", "/api/v1/triggers", {"id": f"T{s}", "kind": "discharge", "subject": s, "attributes": ATTRS},
                  "his") for s in ids]
        with ThreadPoolExecutor(max_workers=8) as pool:
            replies = list(pool.map(lambda c: api(*c), posts))
        assert [r.status for r in replies] == [201] * len(ids), [r.body for r in replies]
    app = open_app(hf.db, load_config(hf.config, db=hf.db))
    try:
        made = len(list(app.recorder.iter_blocks())) - blocks0
        written = int(app.recorder.max_notification_id() or 0) - records0
    finally:
        app.close()
    commands = len(calls) + len(posts)
    assert 0 < made < commands, (made, commands)  # grouped: fewer blocks than commands
    assert written >= 2 * len(ids)
    refusals = hf.ok("audit", "reads", "--actor", "aud", actor="adm")["refusals"]
    assert [r["target"] for r in refusals] == ["subject X1"], refusals  # the 403 in a group: recorded (G8)
    verify(hf)


@pytest.mark.parametrize("backend", PG)
def test_G8_a_group_holding_the_lock_too_long_commits_what_it_has(
        hf: Huifang, service: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from huifang.service import group

    monkeypatch.setattr(group, "HOLD_MAX", 0.0)  # every save holds the lock "too long"
    app = service.app
    before = blocks(service)
    out = run_grouped(service, [lambda i=i: app.add_subject(f"H{i}", "张三", actor="cli") for i in range(3)])
    assert not [o for o in out if isinstance(o, BaseException)], out
    assert blocks(service) - before == 3 and service.groups.stats["groups"] == 2  # 1 + 1, then the last alone
    verify(hf)


def test_G8_group_commit_is_never_used_on_sqlite(hf_sqlite: Huifang) -> None:
    from huifang.core.config import load_config
    from huifang.projections import open_app
    from huifang.service.app import Service

    app = open_app(hf_sqlite.db, load_config(hf_sqlite.config, db=hf_sqlite.db))
    try:
        svc = Service(app, None)
        assert svc.groups is None  # one writer at a time: each call alone, as before
        svc.pool.shutdown(wait=True)
    finally:
        app.close()


@pytest.mark.parametrize("backend", PG)
def test_G8_a_save_conflicting_with_another_writer_fails_alone_and_the_group_goes_on(
        hf: Huifang, ward_service: Any) -> None:
    """The losing save is rolled back to its own savepoint: the same command saves again and the
    group's other commands commit, all in one block."""
    from huifang.core.config import load_config
    from huifang.core.domain import FollowUp
    from huifang.core.errors import ConflictError
    from huifang.projections import open_app

    app = ward_service.app
    other = open_app(hf.db, load_config(hf.config, db=hf.db))  # another worker, committing on its own

    def lose_then_retry() -> str:
        fu = app.load(FollowUp, "D1-1", "follow-up")
        other.record_attempt("D1-1", "phone", "no_answer", actor="n1")  # commits first
        fu.notify("n1", "stale", "n1")
        try:
            app.commit(fu)
        except ConflictError:
            app.record_attempt("D1-1", "phone", "reached", actor="n1")  # read afresh: saved
            return "retried"
        return "no conflict"
    try:
        before = blocks(ward_service)
        out = run_grouped(ward_service, [lose_then_retry,
                                         lambda: app.add_subject("C1", "张三", ["13600000001"], actor="cli")])
    finally:
        other.close()
    assert out[0] == "retried" and not isinstance(out[1], BaseException), out
    assert ward_service.groups.stats["groups"] == 1 and ward_service.groups.stats["grouped"] == 2
    assert blocks(ward_service) - before == 2  # the other writer's block, then the group's one
    assert [a["outcome"] for a in hf.ok("show", "D1-1")["attempts"]] == ["no_answer", "reached"]
    verify(hf)


@pytest.mark.parametrize("backend", PG)
def test_G8_a_commit_that_reached_the_server_is_not_run_again(
        hf: Huifang, service: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The client lost the COMMIT's answer, but the stored mark is the group's: it was written, so each
    caller is told its outcome and nothing is run (or written) twice."""
    import psycopg

    from huifang.core.domain import Subject

    real_exit = psycopg.Transaction.__exit__
    lost: list[int] = []

    def commit_then_lose_the_answer(self: Any, *exc: Any) -> bool:
        outer = self._outer_transaction and exc[0] is None and service.app.recorder._group is None \
            and threading.current_thread().name.startswith("huifang-app")
        done = real_exit(self, *exc)
        if outer and not lost and self.connection is not None:
            lost.append(1)
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        return done
    app = service.app
    before = blocks(service)
    gate = threading.Event()

    async def go() -> list[Any]:  # the gate first (alone, commits nothing), then arm the fault
        held = asyncio.ensure_future(service.call(gate.wait))
        await asyncio.sleep(0.05)
        pending = [asyncio.ensure_future(service.call(lambda i=i: app.add_subject(f"K{i}", "张三", actor="cli")))
                   for i in range(3)]
        await asyncio.sleep(0.05)
        monkeypatch.setattr(psycopg.Transaction, "__exit__", commit_then_lose_the_answer)
        gate.set()
        await held
        return list(await asyncio.gather(*pending, return_exceptions=True))
    out = asyncio.run(go())
    monkeypatch.undo()
    assert lost and not [o for o in out if isinstance(o, BaseException)], out
    assert service.groups.stats["groups"] == 1 and service.groups.stats["failed"] == 0
    assert blocks(service) - before == 1 and all(app.find(Subject, f"K{i}").version == 1 for i in range(3))
    verify(hf)
