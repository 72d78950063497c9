"""Fixtures: every store-backed test runs on a real SQLite file and, when HUIFANG_TEST_PG is set
(scripts/test starts a real PostgreSQL server), on a fresh PostgreSQL schema too."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import pytest
from click.testing import CliRunner

from tests.pg_support import drop_schema, fresh_schema_url, pg_url


def pytest_collection_modifyitems(config: Any, items: list) -> None:
    if not pg_url():
        skip = pytest.mark.skip(reason="HUIFANG_TEST_PG not set (scripts/test starts PostgreSQL)")
        for item in items:
            if "postgres" in item.keywords or "[postgres" in item.nodeid:
                item.add_marker(skip)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: Any, tmp_path: Any) -> Any:
    """A fresh store URL on each backend."""
    if request.param == "sqlite":
        yield str(tmp_path / "huifang.db")
        return
    base = pg_url()
    if not base:
        pytest.skip("HUIFANG_TEST_PG not set")
    url = fresh_schema_url(base)
    yield url
    drop_schema(url)


@pytest.fixture
def sqlite_db(tmp_path: Any) -> str:
    return str(tmp_path / "huifang.db")


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def data(self) -> Any:
        return json.loads(self.out)


class Huifang:
    """Drives the real CLI entry point in-process (click's CliRunner isolation): exit code,
    stdout and stderr exactly as an operator sees them."""

    def __init__(self, db: str, now: str = "2026-09-28T09:00:00+08:00", config: str | None = None):
        self.db = db
        self.now = now
        self.config = config

    def __call__(self, *args: str, now: str | None = None, actor: str | None = None,
                 json_out: bool = True, config: str | None = None) -> Result:
        from huifang.cli.main import main

        argv = ["--db", self.db, "--now", now or self.now]
        if actor:
            argv += ["--as", actor]
        cfg = config or self.config
        if cfg:
            argv += ["--config", cfg]
        argv += list(args)
        if json_out and "--json" not in argv:
            argv.append("--json")
        runner = CliRunner()
        with runner.isolation() as (out, err, *_):
            try:
                main(argv)
                code = 0
            except SystemExit as e:
                code = int(e.code or 0)
            return Result(code, out.getvalue().decode(), err.getvalue().decode())

    def ok(self, *args: str, **kw: Any) -> Any:
        r = self(*args, **kw)
        assert r.code == 0, f"exit {r.code}: {r.err}"
        return r.data if kw.get("json_out", True) else r.out


@pytest.fixture
def hf(db: str) -> Huifang:
    h = Huifang(db)
    h.ok("init")
    return h


@pytest.fixture
def hf_sqlite(sqlite_db: str) -> Huifang:
    h = Huifang(sqlite_db)
    h.ok("init")
    return h


os.environ.setdefault("HUIFANG_ACTOR", "cli")
# issue 8: PostgreSQL stores keep their key and recordings directories under HUIFANG_HOME (SQLite ones
# sit beside the file): a throwaway one for the test session, not the user's home
os.environ.setdefault("HUIFANG_HOME", __import__("tempfile").mkdtemp(prefix="huifang-test-home-"))
