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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def _bytecode_cache() -> None:
    """PYTHONDONTWRITEBYTECODE (containers set it to keep the tree clean) makes every process of a
    test run -- each pytest worker and each `huifang` subprocess a test starts -- compile the package
    and re-rewrite the test modules' asserts from source: about 8 s of CPU per worker, most of the
    collection time. The run writes its bytecode under one cache directory outside the tree instead
    (PYTHONPYCACHEPREFIX, inherited by the workers and subprocesses). HUIFANG_TEST_BYTECODE=0 keeps
    the environment as it is."""
    if not sys.dont_write_bytecode or os.environ.get("HUIFANG_TEST_BYTECODE") == "0":
        return
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    prefix = os.environ.get("PYTHONPYCACHEPREFIX") or os.path.join(cache, "huifang-tests", "pycache")
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = prefix
    sys.pycache_prefix = prefix
    sys.dont_write_bytecode = False


_bytecode_cache()

import pytest  # noqa: E402
from click.testing import CliRunner  # noqa: E402

from tests.pg_support import SchemaPool, drop_schema, fresh_schema_url, pg_url  # noqa: E402


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


# Stories of one plugin's plan arithmetic, or of how output is worded and formatted: what they check
# is computed above the store (the plugin API's plans, the CLI's rendering), so the fast tier runs them
# on SQLite only and their PostgreSQL cells are `slow` (the full run keeps both backends). The stories
# of storage, concurrency, access, audit, privacy, imports and projections keep both in the fast tier.
SQLITE_ONLY_WHEN_FAST = frozenset({
    "tests/test_medical_plans.py", "tests/test_medical_curve.py", "tests/test_medical_reactions.py",
    "tests/test_property_plans.py", "tests/test_finance_plan.py", "tests/test_finance_rules.py",
    "tests/test_aesthetics_curves.py", "tests/test_aesthetics_locks.py", "tests/test_aesthetics_campaigns.py",
    "tests/test_lost_unreachable.py", "tests/test_feasible_stories.py", "tests/test_report_formats.py",
    "tests/test_operator_day.py",
})


@pytest.hookimpl(tryfirst=True)  # before `-m "not slow"` deselects
def pytest_collection_modifyitems(config: Any, items: list) -> None:
    pg = pg_url()
    skip = pytest.mark.skip(reason="HUIFANG_TEST_PG not set (scripts/test starts PostgreSQL)")
    for item in items:
        if "postgres" in item.keywords or "[postgres" in item.nodeid:
            if not pg:
                item.add_marker(skip)
            elif item.nodeid.split("::", 1)[0] in SQLITE_ONLY_WHEN_FAST:
                item.add_marker(pytest.mark.slow)


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
    h = Huifang(pg_pool.acquire())
    try:
        yield h
    finally:
        pg_pool.release(h.db)  # store_cache may have given it a built schema of the pool's


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


class StoreCache:
    """A module's common setup (staff, subjects, a few triggers) written once per worker instead of
    once per test: `store_cache(hf, build)` runs `build` on a private SQLite store the first time
    and then puts a copy of that store in place of `hf`'s; on PostgreSQL `hf` gets a pooled schema
    put back to the state `build` left (tests/pg_support.py). Call it on an `hf` nothing has written
    to yet; `build` must depend only on the store, `hf.now` and `hf.config` (the cache key, with the
    builder's name). `init=False`: `build` starts from no store at all (a `db` fixture's path) and
    runs `init` itself (on PostgreSQL it then runs on `hf`'s own schema every time).
    HUIFANG_TEST_STORE_CACHE=0 runs `build` on `hf` every time, to rule the cache out of a failure."""

    def __init__(self, root: Path, template: Path, pool: SchemaPool | None):
        self.root = root
        self.template = template
        self.pool = pool
        self.built: dict[tuple[str, str, str | None, str | None, bool], Path] = {}

    def __call__(self, hf: Huifang, build: Callable[[Huifang], object], *, init: bool = True) -> Huifang:
        key = (build.__module__, build.__qualname__, hf.now, hf.config, init)
        if os.environ.get("HUIFANG_TEST_STORE_CACHE") == "0":
            build(hf)
            return hf
        if "://" in hf.db:
            if self.pool is None or not init or not self.pool.owns(hf.db):
                build(hf)
                return hf
            now, config = hf.now, hf.config

            def build_schema(url: str) -> None:
                build(Huifang(url, now=now, config=config))

            built = self.pool.acquire(key, build_schema)
            self.pool.release(hf.db)  # the initialised schema the `hf` fixture took, unused
            hf.db = built
            return hf
        if key not in self.built:
            d = Path(tempfile.mkdtemp(prefix="built-", dir=self.root))
            build(Huifang(copy_store(self.template, d / STORE) if init else str(d / STORE), now=hf.now,
                          config=hf.config))
            self.built[key] = d
        target = Path(hf.db)
        for entry in target.parent.iterdir():  # the init-state copy `hf` made
            if entry.is_dir() and entry.name.startswith(target.name):
                shutil.rmtree(entry)
            elif entry.name.startswith(target.name):
                entry.unlink()
        copy_store(self.built[key], target)
        return hf


@pytest.fixture(scope="session")
def store_cache(tmp_path_factory: Any, sqlite_template: Path, pg_pool: SchemaPool | None) -> StoreCache:
    return StoreCache(tmp_path_factory.mktemp("store-cache"), sqlite_template, pg_pool)


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
