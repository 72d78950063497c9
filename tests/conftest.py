"""Fixtures: every store-backed test runs on a real SQLite file and, when HUIFANG_TEST_PG is set
(scripts/test starts a real PostgreSQL server), on a PostgreSQL schema of its own too.

`db` is a fresh, empty store; `hf` a store as `huifang init` leaves it. `init` runs once per backend
and pytest worker: each test gets a copy of that SQLite file with its key directory, or a pooled
PostgreSQL schema put back to its post-init state (tests/pg_support.py), never another test's data.
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.pg_support import SchemaPool, drop_schema, fresh_schema_url, pg_url


def _ram_tmp() -> None:
    """Temporary files (tmp_path, the SQLite stores) in RAM when the machine has a tmpfs: every
    command commits, and on a disk each SQLite commit waits for an fsync (a third of a command's
    time). HUIFANG_TEST_TMPDIR names another directory; set it empty to keep the system default."""
    ram = os.environ.get("HUIFANG_TEST_TMPDIR", "/dev/shm")
    if ram and os.path.isdir(ram) and os.access(ram, os.W_OK | os.X_OK):
        tempfile.tempdir = ram


def _cached_entry_points() -> None:
    """The engine looks up the `huifang.plugins` entry points on every command; a test session runs
    thousands of commands in-process and installs nothing meanwhile, so the answer is kept (per
    sys.path, which a test may extend) instead of scanning every installed distribution each time."""
    original = importlib.metadata.entry_points
    if getattr(original, "huifang_cached", False):
        return
    cache: dict[tuple, Any] = {}

    def entry_points(**params: Any) -> Any:
        if params.get("group") != "huifang.plugins" or set(params) != {"group"}:
            return original(**params)
        key = tuple(sys.path)
        if key not in cache:
            cache.clear()
            cache[key] = original(**params)
        return cache[key]

    entry_points.huifang_cached = True  # type: ignore[attr-defined]
    importlib.metadata.entry_points = entry_points
    registry = sys.modules.get("huifang.core.registry")
    if registry is not None and getattr(registry, "entry_points", None) is original:
        registry.entry_points = entry_points  # type: ignore[attr-defined]


_ram_tmp()
_cached_entry_points()

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
STORE = "huifang.db"


def pytest_collection_modifyitems(config: Any, items: list) -> None:
    if not pg_url():
        skip = pytest.mark.skip(reason="HUIFANG_TEST_PG not set (scripts/test starts PostgreSQL)")
        for item in items:
            if "postgres" in item.keywords or "[postgres" in item.nodeid:
                item.add_marker(skip)


@pytest.fixture(params=BACKENDS)
def backend(request: Any) -> str:
    if request.param == "postgres" and not pg_url():
        pytest.skip("HUIFANG_TEST_PG not set")
    return str(request.param)


@pytest.fixture
def db(backend: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store URL on each backend."""
    if backend == "sqlite":
        yield str(tmp_path / STORE)
        return
    url = fresh_schema_url(pg_url() or "")
    yield url
    drop_schema(url)


@pytest.fixture
def sqlite_db(tmp_path: Path) -> str:
    return str(tmp_path / STORE)


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

    def __init__(self, db: str, now: str | None = "2026-09-28T09:00:00+08:00", config: str | None = None):
        """`now=None`: no --now (a system-clock store runs at the host's clock)."""
        self.db = db
        self.now = now
        self.config = config

    def __call__(self, *args: str, now: str | None = None, actor: str | None = None,
                 json_out: bool = True, config: str | None = None) -> Result:
        from huifang.cli.main import main

        when = now or self.now
        argv = ["--db", self.db] + (["--now", when] if when else [])
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


# -- initialised stores ----------------------------------------------------------------------------
def _store_dir(url: str) -> Path:
    """The directory a PostgreSQL store keeps under HUIFANG_HOME (keys, recordings): core/audit/keys.py."""
    from huifang.core.audit import keys
    from huifang.core.store import Store

    return keys.sidecar(Store.parse(url), "keys").parent


def _init(url: str) -> None:
    Huifang(url).ok("init")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: Any) -> Path:
    """A directory holding `huifang.db` as init leaves it and its key directory `huifang.db.keys`."""
    d = tmp_path_factory.mktemp("sqlite-template")
    _init(str(d / STORE))
    return d


def copy_store(template: Path, target: Path) -> str:
    """Copy an initialised SQLite store (file, WAL if any, `<db>.keys`) to `target`'s directory."""
    for entry in template.iterdir():
        dest = target.parent / (target.name + entry.name[len(STORE):])
        if entry.is_dir():
            shutil.copytree(entry, dest)
        else:
            shutil.copy2(entry, dest)
    return str(target)


@pytest.fixture(scope="session")
def pg_pool() -> Iterator[SchemaPool | None]:
    base = pg_url()
    if not base:
        yield None
        return
    pool = SchemaPool(base, _init, _store_dir)
    yield pool
    pool.close()


@pytest.fixture
def hf(backend: str, tmp_path: Path, sqlite_template: Path, pg_pool: SchemaPool | None) -> Iterator[Huifang]:
    """The CLI on a store as `huifang init` leaves it (a private copy or a reset pooled schema)."""
    if backend == "sqlite":
        yield Huifang(copy_store(sqlite_template, tmp_path / STORE))
        return
    assert pg_pool is not None
    url = pg_pool.acquire()
    try:
        yield Huifang(url)
    finally:
        pg_pool.release(url)


@pytest.fixture(scope="module", params=BACKENDS)
def hf_module(request: Any, tmp_path_factory: Any, sqlite_template: Path,
              pg_pool: SchemaPool | None) -> Iterator[Huifang]:
    """`hf` shared by one module's tests: for a scenario built once and then only read (reports,
    queries). A test that writes must use `hf`."""
    if request.param == "postgres":
        if pg_pool is None:
            pytest.skip("HUIFANG_TEST_PG not set")
        url = pg_pool.acquire()
        try:
            yield Huifang(url)
        finally:
            pg_pool.release(url)
        return
    yield Huifang(copy_store(sqlite_template, tmp_path_factory.mktemp("module-store") / STORE))


@pytest.fixture
def hf_sqlite(tmp_path: Path, sqlite_template: Path) -> Huifang:
    return Huifang(copy_store(sqlite_template, tmp_path / STORE))


os.environ.setdefault("HUIFANG_ACTOR", "cli")
# the tests' stores run on the logical clock (`init` defaults to the system clock, which refuses --now)
os.environ.setdefault("HUIFANG_CLOCK", "logical")
# PostgreSQL stores keep their key and recordings directories under HUIFANG_HOME (SQLite ones sit
# beside the file): a throwaway one for the test session, not the user's home
_OWN_HOME: str | None = None
if "HUIFANG_HOME" not in os.environ:  # xdist workers inherit the controller's
    _OWN_HOME = os.environ["HUIFANG_HOME"] = tempfile.mkdtemp(prefix="huifang-test-home-")


def pytest_unconfigure(config: Any) -> None:
    """The process that made the throwaway HUIFANG_HOME removes it when its session ends."""
    if _OWN_HOME:
        shutil.rmtree(_OWN_HOME, ignore_errors=True)
