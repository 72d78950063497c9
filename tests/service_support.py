"""A real `huifang serve` process on 127.0.0.1 for the HTTP tests: start it on a free port, wait until it
answers, call it as a client would (urllib, JSON), stop it."""
from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tests.conftest import Huifang
from tests.scale_support import cli_env

NOW = "2026-09-28T09:00:00+08:00"


@dataclass
class Reply:
    status: int
    body: Any
    media: str = ""


@dataclass
class Api:
    base: str
    hf: Huifang
    tokens: dict[str, str]

    def __call__(self, method: str, path: str, body: Any = None, token: str | None = None,
                 raw: bytes | None = None, decode: bool = True) -> Reply:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {self.tokens.get(token, token)}")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                data = r.read()
                return Reply(r.status, json.loads(data) if decode else data, r.headers.get("Content-Type", ""))
        except urllib.error.HTTPError as e:
            return Reply(e.code, json.loads(e.read()), e.headers.get("Content-Type", ""))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(base: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"huifang serve exited {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}")
        try:
            with urllib.request.urlopen(base + "/openapi.json", timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise AssertionError("huifang serve did not answer")


def issue(hf: Huifang, staff: str, scope: str) -> str:
    return str(hf.ok("token", "issue", "--staff", staff, "--scope", scope, actor="adm")["token"])


@contextlib.contextmanager
def server(hf: Huifang, *options: str, now: str | None = NOW) -> Iterator[str]:
    """`huifang serve` on this store and a free port: its base URL while it runs."""
    port = free_port()
    cmd = [sys.executable, "-c", "import sys; from huifang.cli.main import main; main(sys.argv[1:])",
           "--db", hf.db, *(["--now", now] if now else []), "serve", "--host", "127.0.0.1", "--port", str(port), *options]
    proc = subprocess.Popen(cmd, env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_up(base, proc)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


