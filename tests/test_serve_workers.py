"""`huifang serve --workers N`: several uvicorn worker processes on one PostgreSQL store, one worker on
SQLite. Concurrent posts land on different workers: a trigger id raced from many connections is
received once (201 once, 200 for the rest), changed data is 409 naming the field on whichever worker
answers, and every answered attempt and completion is recorded exactly once."""
from __future__ import annotations

import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.conftest import Huifang
from tests.scale_support import originators
from tests.service_support import Api, issue, server

ATTRS = {"department": "cardiology", "diagnosis": "CHD", "responsible_nurse": "n1", "attending_doctor": "dr1"}
IDS = [f"W{i}" for i in range(10)]


def test_serve_refuses_several_workers_on_sqlite(hf_sqlite: Huifang) -> None:
    r = hf_sqlite("serve", "--workers", "2", json_out=False)
    assert r.code != 0 and r.err.strip().splitlines() == [
        "huifang: error: --workers: a SQLite store is served by one worker (one writer at a time); several need "
        "a PostgreSQL store"]


def test_worker_spec_travels_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the parent passes its workers comes back whole; the cookie key is shared unless set already."""
    from huifang.service.workers import WorkerSpec

    spec = WorkerSpec(db="postgresql://u:p@127.0.0.1/db?schema=org1", now="2026-09-28T09:00:00+08:00",
                      config_path="huifang.toml", config_how="--config", lang="zh_CN", rate_limit=60, session_key="k",
                      workers=3)
    assert WorkerSpec.loads(spec.dumps()) == spec

    app = SimpleNamespace(store=SimpleNamespace(url="postgresql://u:p@127.0.0.1/db"))
    monkeypatch.setenv("HUIFANG_SESSION_KEY", "given")
    assert WorkerSpec.of(app, None, None, None, None, 600).session_key is None  # the workers inherit it


def worker_processes(port: int) -> int:
    """Processes spawned by the `huifang serve` listening on `port` (uvicorn's workers)."""
    cmdlines = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cmd = (d / "cmdline").read_bytes().split(b"\0")
                ppid = next(int(x.split()[1]) for x in (d / "status").read_text().splitlines() if x.startswith("PPid:"))
            except (OSError, StopIteration, ValueError):
                continue
            cmdlines[int(d.name)] = (cmd, ppid)
    parents = {pid for pid, (cmd, _) in cmdlines.items() if b"serve" in cmd and str(port).encode() in cmd}
    return sum(1 for cmd, ppid in cmdlines.values() if ppid in parents and any(b"spawn_main" in c for c in cmd))


def concurrently(calls: list[tuple[Any, ...]], api: Api) -> list[Any]:
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda c: api(*c), calls))


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir("/proc"), reason="counts worker processes in /proc")
@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
@pytest.mark.parametrize("grouping", ["", "1"], ids=["each-call-alone", "group-commit-on"])
def test_two_workers_on_postgres_record_every_trigger_once(hf: Huifang, grouping: str,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Both ways several workers commit: each call alone (their default) and grouped (HUIFANG_GROUP_COMMIT=1)."""
    monkeypatch.setenv("HUIFANG_GROUP_COMMIT", grouping)  # the server inherits it
    hf.ok("staff", "add", "adm", "--name", "管理员", "--role", "admin")
    hf.ok("staff", "add", "n1", "--name", "王护士", "--role", "agent", "--dept", "cardiology", actor="adm")
    hf.ok("staff", "add", "his", "--name", "HIS接口", "--role", "intake", actor="adm")
    tokens = {"his": issue(hf, "his", "write"), "n1": issue(hf, "n1", "read,write")}
    with server(hf, "--workers", "2") as base:
        api = Api(base, hf, tokens)
        assert worker_processes(int(base.rsplit(":", 1)[1])) == 2
        subjects = concurrently([("POST", "/api/v1/subjects", {"id": f"P{t}", "name": "张三"}, "his") for t in IDS], api)
        assert [r.status for r in subjects] == [201] * len(IDS)
        # each id three times at once (on both workers: the losing commit is re-run and finds the winner's)
        posts = concurrently([("POST", "/api/v1/triggers", {"id": t, "kind": "discharge", "subject": f"P{t}",
                                                           "attributes": ATTRS}, "his") for t in IDS for _ in "abc"], api)
        by_id: dict[str, Counter] = {t: Counter() for t in IDS}
        for r in posts:
            assert r.status in (200, 201), r.body
            by_id[r.body["trigger"]][r.status] += 1
            assert [f["id"] for f in r.body["followups"]] == [f"{r.body['trigger']}-1"]
        assert all(c == Counter({201: 1, 200: 2}) for c in by_id.values()), by_id
        changed = concurrently([("POST", "/api/v1/triggers", {"id": t, "kind": "discharge", "subject": f"P{t}",
                                                             "attributes": {**ATTRS, "diagnosis": "AMI"}}, "his")
                                for t in IDS], api)
        assert {(r.status, tuple(r.body["fields"])) for r in changed} == {(409, ("diagnosis",))}
        attempts = concurrently([("POST", f"/api/v1/followups/{t}-1/attempts", {"channel": "phone", "outcome": "reached"},
                                  "n1") for t in IDS], api)
        assert [r.status for r in attempts] == [200] * len(IDS)
        done = concurrently([("POST", f"/api/v1/followups/{t}-1/complete",
                              {"answers": {"recovery": 8, "satisfaction": "满意"}}, "n1") for t in IDS], api)
        assert [r.body["status"] for r in done] == ["completed"] * len(IDS)
    from huifang.core.domain.base import aggregate_uuid

    received = Counter(originators(hf.db, "huifang:Trigger.Received"))
    assert {t: received[aggregate_uuid("trigger", t)] for t in IDS} == {t: 1 for t in IDS} and sum(received.values()) == 10
    completed = Counter(originators(hf.db, "huifang:FollowUp.Completed"))
    assert sorted(completed.values()) == [1] * len(IDS)
    assert hf.ok("audit", "verify", actor="adm")["ok"]


def test_a_workers_connections_send_without_waiting_for_the_clients_ack() -> None:
    """`--workers N`: the listening socket says TCP, so each connection a worker accepts from it gets
    TCP_NODELAY from asyncio (uvicorn's own socket says protocol 0 and got none: a response's headers and
    body, written apart, waited 40 ms for the client's delayed ACK on every call). The config is pickled
    to each spawned worker, so the socket's protocol must survive that too."""
    import asyncio
    import pickle
    import socket

    from huifang.service.tcp import TCPConfig

    config = TCPConfig("huifang.service.workers:app_factory", factory=True, host="127.0.0.1", port=0, workers=2)
    listening = config.bind_socket()
    assert listening.proto == socket.IPPROTO_TCP
    assert type(pickle.loads(pickle.dumps(config))) is TCPConfig
    listening.listen()
    port = listening.getsockname()[1]

    async def accept_one() -> int:
        loop = asyncio.get_running_loop()
        accepted: asyncio.Future[int] = loop.create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: Any) -> None:
                sock = transport.get_extra_info("socket")
                accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await loop.create_server(Probe, sock=listening)
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            value = await asyncio.wait_for(accepted, 10)
            writer.close()
            return value
        finally:
            server.close()

    assert asyncio.run(accept_one()) != 0


def test_each_worker_listens_on_its_own_socket_and_the_kernel_spreads_connections() -> None:
    """`--workers N`: N sockets on one port (SO_REUSEPORT), so clients that connect at once are spread over
    the workers; on one shared socket the first worker awake accepted them all and the others idled."""
    import socket

    from huifang.service.tcp import TCPConfig

    if not hasattr(socket, "SO_REUSEPORT"):
        pytest.skip("no SO_REUSEPORT on this platform: one shared socket, as uvicorn makes it")
    config = TCPConfig("huifang.service.workers:app_factory", factory=True, host="127.0.0.1", port=0, workers=2)
    listening = config.bind_sockets(2)
    clients: list[socket.socket] = []
    try:
        assert len(listening) == 2
        assert len({s.getsockname() for s in listening}) == 1  # one port, two sockets
        assert all(s.proto == socket.IPPROTO_TCP and s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT)
                   for s in listening)
        for s in listening:
            s.listen(64)
            s.setblocking(False)
        for _ in range(32):  # each from its own port: the kernel hashes the 4-tuple to a socket
            clients.append(socket.create_connection(listening[0].getsockname(), timeout=5))
        accepted = [0, 0]
        for i, s in enumerate(listening):
            while True:
                try:
                    conn, _ = s.accept()
                except BlockingIOError:
                    break
                conn.close()
                accepted[i] += 1
        assert sum(accepted) == 32 and min(accepted) > 0, accepted
    finally:
        for c in clients:
            c.close()
        for s in listening:
            s.close()


def test_a_port_another_server_holds_is_refused_not_shared() -> None:
    """SO_REUSEPORT would let a second `huifang serve --workers N` join the first's port and take half its
    callers: a port already listened on is refused, whether by a plain socket or by another serve's group."""
    import socket

    from huifang.service.tcp import TCPConfig

    def config(port: int) -> TCPConfig:
        return TCPConfig("huifang.service.workers:app_factory", factory=True, host="127.0.0.1", port=port, workers=2)

    plain = socket.socket()
    plain.bind(("127.0.0.1", 0))
    plain.listen()
    try:
        with pytest.raises(OSError):
            config(plain.getsockname()[1]).bind_sockets(2)
    finally:
        plain.close()
    first = config(0).bind_sockets(2)
    try:
        for s in first:
            s.listen()
        with pytest.raises(OSError):
            config(first[0].getsockname()[1]).bind_sockets(2)
    finally:
        for s in first:
            s.close()


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_serve_names_a_port_in_use_in_one_line(hf: Huifang) -> None:
    import socket

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        port = taken.getsockname()[1]
        r = hf("serve", "--workers", "2", "--port", str(port), json_out=False)
    finally:
        taken.close()
    assert r.code != 0 and r.err.strip().splitlines() == [
        f"huifang: error: --port: cannot listen on 127.0.0.1:{port}: Address already in use; give another --port"]
