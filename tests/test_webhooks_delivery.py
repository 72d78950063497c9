"""Webhooks out with real processes: `huifang serve` (its background loop dispatches) posting to a local
receiver on 127.0.0.1 that is down for a while, then up; and `kill -9` of the server mid-delivery.
Every event arrives exactly once to the application (the receiver dedupes by delivery id), in log
order, with a valid signature; nothing is lost."""
from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.conftest import Huifang
from tests.scale_support import cli_env
from tests.service_support import free_port, server, wait_up

pytestmark = pytest.mark.slow  # real server processes, a receiver down for seconds

SECRET = "receiver-secret-0123456789"
ATTRS = ["--attr", "department=cardiology", "--attr", "diagnosis=CHD", "--attr", "responsible_nurse=n1",
         "--attr", "attending_doctor=dr1"]
WHEN = "2026-09-28T09:05:00+08:00"


class Hook:
    """The integrator's endpoint: records every POST as it arrives (before answering, so a sender killed
    while waiting for the answer re-sends: at-least-once), then answers 200 after `delay` seconds."""

    def __init__(self, delay: float = 0.0):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.delay = delay
        self.received: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.httpd: ThreadingHTTPServer | None = None

    def up(self) -> None:
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                with hook.lock:
                    hook.received.append({"id": self.headers["X-Huifang-Delivery"], "body": json.loads(body),
                                          "signed": hmac.compare_digest(expected, self.headers["X-Huifang-Signature"]),
                                          "event": self.headers["X-Huifang-Event"],
                                          "timestamp": self.headers["X-Huifang-Timestamp"]})
                time.sleep(hook.delay)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def ids(self) -> list[str]:
        with self.lock:
            return [r["id"] for r in self.received]

    def wait_for(self, wanted: set[str], timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if wanted <= set(self.ids()):
                return
            time.sleep(0.2)
        raise AssertionError(f"not delivered in {timeout} s: {sorted(wanted - set(self.ids()))}")


@pytest.fixture
def hook() -> Iterator[Hook]:
    h = Hook()
    yield h
    h.down()


def complete_unhappy(hf: Huifang, tid: str) -> None:
    """FollowUp.Completed, then Ticket.Opened (a 不满意 answer)."""
    hf.ok("trigger", "discharge", "--subject", "P1", "--id", tid, *ATTRS, now=WHEN)
    hf.ok("attempt", f"{tid}-1", "--channel", "phone", "--outcome", "reached", now=WHEN)
    hf.ok("complete", f"{tid}-1", "--answer", "satisfaction=不满意", "--answer", "recovery=8", "--reason-code",
          "waiting", "--reason", "等了三个小时", now=WHEN)


def setup_store(hf: Huifang, hook: Hook, followups: int) -> None:
    hf.ok("subject", "add", "P1", "--name", "张三", "--phone", "13812345678")
    hf.ok("webhook", "add", hook.url, "--events", "completed,ticket_opened", "--secret", SECRET)
    for i in range(1, followups + 1):
        complete_unhappy(hf, f"H{i}")


def expected_ids(hf: Huifang) -> list[str]:
    """The deliveries the log calls for, in log order: W1-<notification id> of each event asked for."""
    from huifang.core.config import Config
    from huifang.core.domain import FollowUp, Ticket
    from huifang.projections import open_app

    app = open_app(hf.db, Config())
    try:
        notes = app.recorder.select_notifications(start=1, limit=10_000,
                                                  topics=[FollowUp.Completed.TOPIC, Ticket.Opened.TOPIC])
        return [f"W1-{n.id}" for n in notes]
    finally:
        app.close()


def check_received(hook: Hook, expected: list[str]) -> list[str]:
    """Each delivery arrived, signed, first arrivals in log order; returns the duplicates (re-sends)."""
    received = hook.ids()
    first_seen = list(dict.fromkeys(received))
    assert first_seen == expected  # in order, none missing, nothing else
    with hook.lock:
        assert all(r["signed"] for r in hook.received)
        assert all(r["body"]["delivery_id"] == r["id"] and r["body"]["event"] == r["event"] for r in hook.received)
        assert not any("张三" in json.dumps(r["body"], ensure_ascii=False) for r in hook.received)  # no --personal
    return [i for n, i in enumerate(received) if i in received[:n]]


def delivered_once(hf: Huifang, expected: list[str]) -> None:
    """The delivery log records exactly one success per delivery."""
    log = hf.ok("webhook", "deliveries")
    done = [d["delivery"] for d in log if d["state"] == "delivered"]
    assert done == expected, (done, expected)


def test_webhook_receiver_down_then_up_gets_every_event_once_in_order(hf: Huifang, hook: Hook) -> None:
    setup_store(hf, hook, followups=3)
    with server(hf, now=None):  # the host's clock: the retries' backoff runs in real time
        deadline = time.monotonic() + 30
        while not hf.ok("webhook", "deliveries", "--failed") and time.monotonic() < deadline:
            time.sleep(0.3)
        failed = hf.ok("webhook", "deliveries", "--failed")
        assert failed and failed[0]["status"] is None and "ConnectError" in failed[0]["error"]
        complete_unhappy(hf, "H4")  # recorded while the receiver is down
        time.sleep(2)
        hook.up()
        expected = expected_ids(hf)
        assert len(expected) == 8
        hook.wait_for(set(expected))
        time.sleep(1)  # nothing more comes
    assert check_received(hook, expected) == []  # no crash: not even a re-send
    delivered_once(hf, expected)
    w1 = hf.ok("webhook", "list")[0]
    assert w1["blocked_by"] is None and w1["failures"] == 0
    failed_ids = {d["delivery"] for d in hf.ok("webhook", "deliveries", "--failed")}
    assert failed_ids == {expected[0]}  # the first blocked the rest: nothing after it was tried while down


@contextlib.contextmanager
def killable_server(hf: Huifang) -> Iterator[subprocess.Popen]:
    """`huifang serve` as server() starts it, on the host's clock, handing out the process to kill."""
    port = free_port()
    cmd = [sys.executable, "-c", "import sys; from huifang.cli.main import main; main(sys.argv[1:])",
           "--db", hf.db, "serve", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_up(f"http://127.0.0.1:{port}", proc)
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        if proc.stderr:
            proc.stderr.close()


def test_webhook_kill_9_of_the_server_mid_delivery_loses_nothing(hf: Huifang) -> None:
    hook = Hook(delay=0.5)  # each answer takes a while: the kill lands while one is in flight
    try:
        hook.up()
        setup_store(hf, hook, followups=4)
        expected = expected_ids(hf)
        with killable_server(hf) as proc:
            deadline = time.monotonic() + 60
            while len(hook.ids()) < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        got = len(set(hook.ids()))
        assert 3 <= got < len(expected)  # killed mid-way
        with server(hf, now=None):  # restarted: resumes from the recorded position
            hook.wait_for(set(expected))
            time.sleep(1)
        duplicates = check_received(hook, expected)
        assert duplicates in ([], [expected[got - 1]])  # at most the one in flight at the kill, again (same id)
        delivered_once(hf, expected)
    finally:
        hook.down()
