"""`huifang queue` answers from a SQLite store's current views without opening the application
(cli/queue.py, projections/queue_fast.py): the same bytes as the full path (JSON and text) for every
filter, none of the heavy libraries loaded, and a silent fall-back to the full path whenever the
views lag, the store is PostgreSQL or the config needs validating."""
from __future__ import annotations

import hashlib
import json
import os
import random
import sqlite3
import string
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from huifang.cli import queue as cli_queue
from tests.conftest import STORE, Huifang, Result, copy_store

NOW = "2026-11-26T09:00:00+08:00"
LATER = "2026-12-05T16:30:00+08:00"  # windows have opened and deadlines passed since the views were written
HEAVY = {"sqlalchemy", "eventsourcing", "psycopg", "psycopg_binary", "cryptography", "pydantic", "pydantic_core",
         "rich", "pluggy", "matplotlib", "openpyxl"}


NEWEST = "LAGD1-1"  # the follow-up of the newest trigger (`lagging`), opening on 2026-12-03


def combos(agent: str) -> list[list[str]]:
    return [[], ["--limit", "0"], ["--limit", "3"], ["--overdue"], ["--overdue", "--limit", "0"],
            ["--on", "2026-12-03", "--limit", "0"], ["--on", "2027-03-01", "--limit", "5"], ["--on", "2026-01-01"],
            ["--on", "2027-12-31", "--limit", "0"], ["--agent", agent], ["--agent", agent, "--overdue"], ["--agent", agent, "--on", "2026-12-10", "--limit", "2"],
            ["--agent", "nobody", "--limit", "0"]]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: Any) -> Path:
    """A directory holding a small demo store (all four plugins; open, overdue, provisional rows),
    its views current."""
    d = tmp_path_factory.mktemp("queue-demo")
    h = Huifang(str(d / STORE), now=NOW)
    h.ok("demo", "--subjects", "20")
    h.ok("queue", "--limit", "0")  # the full path catches the views up if the demo left them behind
    assert lag(str(d / STORE)) == 0
    return d


@pytest.fixture(scope="module")
def lagging(demo: Path, tmp_path_factory: Any) -> tuple[Path, str]:
    """The demo store after one more discharge (trigger LAGD1, its nurse): the core view is behind the log."""
    d = tmp_path_factory.mktemp("queue-lagging")
    db = copy(demo, d)
    with sqlite3.connect(db) as con:
        subject, attributes = con.execute("SELECT subject, attributes FROM triggers WHERE kind = 'medical.discharge' "
                                          "ORDER BY code LIMIT 1").fetchone()
    attrs = json.loads(attributes)
    keys = ("department", "diagnosis", "responsible_nurse", "attending_doctor")
    made = Huifang(db, now=NOW).ok("trigger", "discharge", "--subject", subject, "--id", "LAGD1",
                                   *[a for k in keys for a in ("--attr", f"{k}={attrs[k]}")])
    assert [f["id"] for f in made["followups"]] == [NEWEST] and made["followups"][0]["window_open"][:10] == "2026-12-03"
    assert lag(db) > 0
    return d, attrs["responsible_nurse"]


@pytest.fixture(scope="module")
def agent(demo: Path) -> str:
    """The owner with the most open follow-ups whose window opens by 2026-12-10."""
    with sqlite3.connect(demo / STORE) as con:
        row = con.execute("SELECT owner FROM followups WHERE status IN ('planned', 'due', 'overdue') AND owner IS "
                          "NOT NULL AND window_open < '2026-12-10' GROUP BY owner ORDER BY count(*) DESC, owner "
                          "LIMIT 1").fetchone()
    return str(row[0])


def copy(template: Path, directory: Path) -> str:
    """A private copy of the store in `template` (file, WAL, key directory) inside `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    return copy_store(template, directory / STORE)


def lag(db: str) -> int:
    with sqlite3.connect(db) as con:
        pos = con.execute("SELECT position FROM view_positions WHERE \"view\" = 'core'").fetchone()[0]
        head = con.execute("SELECT MAX(rowid) FROM stored_events").fetchone()[0]
    return int(head - pos)


@pytest.fixture
def paths(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., tuple[Result, str]]]:
    """queue(h, *args, fast=..., json_out=...) -> (result, path taken: fast | fallback | full)."""
    original = cli_queue.fast_queue
    taken: list[str] = []

    def run(h: Huifang, *args: str, fast: bool = True, json_out: bool = True, **kw: Any) -> tuple[Result, str]:
        def spy(*a: Any) -> Any:
            if not fast:
                taken.append("full")
                return None
            rows = original(*a)
            taken.append("fallback" if rows is None else "fast")
            return rows

        monkeypatch.setattr(cli_queue, "fast_queue", spy)
        taken.clear()
        r = h("queue", *args, json_out=json_out, **kw)
        return r, (taken[0] if taken else "none")

    yield run


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- identical output ----------------------------------------------------------------------------------
def test_current_views_fast_path_prints_what_the_full_path_prints(demo: Path, agent: str, paths: Any,
                                                                   tmp_path: Path) -> None:
    h = Huifang(copy(demo, tmp_path), now=NOW)
    before = digest(tmp_path / STORE)
    seen = 0
    for now in (NOW, LATER):
        for args in combos(agent):
            for json_out in (True, False):
                fast, how = paths(h, *args, json_out=json_out, now=now)
                assert how == "fast" and fast.code == 0, (args, fast.err)
                full, how = paths(h, *args, json_out=json_out, now=now, fast=False)
                assert how == "full" and full.code == 0
                assert fast.out == full.out and fast.err == full.err == "", (now, args)
                seen += len(fast.data) if json_out else 0
    assert seen > 120  # the filters select something: rows of every kind were compared
    assert digest(tmp_path / STORE) == before  # nothing was written (views current, read-only connection)


def test_statuses_and_provisional_rows_are_compared(demo: Path, paths: Any, tmp_path: Path) -> None:
    h = Huifang(copy(demo, tmp_path), now=NOW)
    rows = paths(h, "--on", "2027-03-01", "--limit", "0", now=LATER)[0].data
    assert {"overdue", "due", "planned"} <= {r["status"] for r in rows}
    assert any(r["provisional"] for r in rows) and any(r["next_attempt_at"] is None for r in rows)
    text, how = paths(h, "--on", "2027-03-01", "--limit", "0", json_out=False, now=LATER)
    assert how == "fast" and "(provisional)" in text.out and text.out.endswith(f"\n{len(rows)} follow-up(s)\n")
    assert "(the first 3: --limit to see more)" in paths(h, "--limit", "3", json_out=False)[0].out


def test_a_lagging_view_falls_back_and_shows_the_newest_trigger(lagging: tuple[Path, str], agent: str, paths: Any,
                                                                 tmp_path: Path) -> None:
    store, nurse = lagging
    for i, args in enumerate([["--on", "2026-12-03", "--limit", "0"], ["--agent", nurse, "--on", "2026-12-03"],
                              ["--agent", agent, "--overdue"], []]):
        for json_out in (True, False):
            one = Huifang(copy(store, tmp_path / f"a{i}{json_out}"), now=NOW)
            two = Huifang(copy(store, tmp_path / f"b{i}{json_out}"), now=NOW)
            fast, how = paths(one, *args, json_out=json_out)
            assert how == "fallback" and fast.code == 0
            full, how = paths(two, *args, json_out=json_out, fast=False)
            assert how == "full" and fast.out == full.out, args
            if "2026-12-03" in args:
                assert NEWEST in fast.out
            assert lag(one.db) == 0  # the full path caught the views up: the next queue is fast
            assert paths(one, *args, json_out=json_out)[1] == "fast"


def test_the_config_time_zone_comes_from_the_same_sources(demo: Path, paths: Any, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    db = copy(demo, tmp_path)
    cfg = tmp_path / "london.toml"
    cfg.write_text('[huifang]\ntimezone = "Europe/London"\norganisation = "clinic"\nplugins = ["aesthetics", '
                   '"finance", "medical", "property"]\n[huifang.lock_ladder]\nenabled = false\nlevel1_days = 2\n',
                   encoding="utf-8")
    expected = paths(Huifang(db, now=NOW, config=str(cfg)), "--limit", "0", fast=False)[0]
    assert expected.code == 0 and expected.data and not any(r["due"].endswith("+08:00") for r in expected.data)
    for how_given in ("--config", "HUIFANG_CONFIG", "./huifang.toml"):
        h = Huifang(db, now=NOW, config=str(cfg) if how_given == "--config" else None)
        with monkeypatch.context() as m:
            if how_given == "HUIFANG_CONFIG":
                m.setenv("HUIFANG_CONFIG", str(cfg))
            if how_given == "./huifang.toml":
                (tmp_path / "cwd").mkdir()
                (tmp_path / "cwd" / "huifang.toml").write_text(cfg.read_text(encoding="utf-8"), encoding="utf-8")
                m.chdir(tmp_path / "cwd")
            r, how = paths(h, "--limit", "0")
        assert how == "fast" and r.out == expected.out, how_given


@pytest.mark.parametrize("toml,error", [
    ('[plugins.medical]\ndischarge_open_days = 3\n', None),  # valid plugin settings: only the plugin can tell
    ('[plugins.medical]\ndischarge_open_days = "soon"\n', "plugins.medical.discharge_open_days"),
    ('[huifang]\ntimezone = "Nowhere/City"\n', "huifang.timezone"),
    ('[huifang]\nplugin = ["medical"]\n', "huifang.plugin: unknown key"),
    ('[huifang]\nplugins = ["medical", "dentistry"]\n', "plugins: 'dentistry' is not installed"),
    ('[huifang]\nplugins = ["medical", "medical"]\n', None),
    ('[huifang.lock_ladder]\nlevel1_days = "1"\n', None),
    ('[huifang\n', "not valid TOML"),
])
def test_a_config_it_cannot_vouch_for_takes_the_full_path(demo: Path, paths: Any, tmp_path: Path, toml: str,
                                                          error: str | None) -> None:
    cfg = tmp_path / "huifang.toml"
    cfg.write_text(toml, encoding="utf-8")
    r, how = paths(Huifang(copy(demo, tmp_path), now=NOW, config=str(cfg)))
    assert how == "fallback"
    if error is not None:
        assert r.code == 2 and error in r.err and r.err.count("\n") == 1


def test_postgres_takes_the_full_path(hf: Huifang, backend: str, paths: Any) -> None:
    r, how = paths(hf)
    assert r.code == 0 and r.data == []
    if backend == "postgres":
        assert how == "fallback"


def test_a_missing_store_is_still_refused(tmp_path: Path, paths: Any) -> None:
    r, how = paths(Huifang(str(tmp_path / "nothing.db"), now=NOW))
    assert how == "fallback" and r.code == 2 and "does not exist" in r.err
    assert not (tmp_path / "nothing.db").exists()


# -- what the fast path loads ---------------------------------------------------------------------------
def test_the_fast_path_imports_no_heavy_module(demo: Path, tmp_path: Path, paths: Any) -> None:
    db = copy(demo, tmp_path / "store")
    code = ("import sys\nfrom huifang.cli.main import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n"
            "    pass\nprint('\\n' + '\\n'.join(sorted(sys.modules)), file=sys.stderr)")
    env = {k: v for k, v in os.environ.items() if k != "HUIFANG_CONFIG"}
    for extra in ([], ["--json"]):
        argv = ["--db", db, "--now", NOW, "queue", "--limit", "0", *extra]
        p = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=120,
                           cwd=tmp_path, env=env)
        modules = set(p.stderr.split("\n"))
        assert p.returncode == 0 and "huifang.projections.queue_fast" in modules
        assert not {m.split(".")[0] for m in modules} & HEAVY
        assert not {m for m in modules if m.startswith(("huifang.plugins", "huifang_", "huifang.core.plugin_api"))}
        full = paths(Huifang(db, now=NOW), "--limit", "0", json_out=bool(extra), fast=False)[0]
        assert p.stdout == full.out  # a real process prints the same bytes as the full path


# -- the shared pieces -------------------------------------------------------------------------------------
def test_the_fast_path_constants_match_the_views() -> None:
    from huifang.core.plugin_api.views import ts
    from huifang.core.ports import QueueRow
    from huifang.projections import queue_fast
    from huifang.projections.core_views import CoreView

    assert queue_fast.CORE_VIEW == CoreView.name and queue_fast.CORE_VIEW_VERSION == CoreView.version
    assert queue_fast.QUEUE_COLUMNS == QueueRow._fields
    for dt in (datetime(2026, 11, 26, 9, 0, 0, 123456, tzinfo=timezone(timedelta(hours=8))),
               datetime(2026, 1, 1, tzinfo=timezone.utc)):
        assert queue_fast.utc_text(dt) == ts(dt)


def test_the_json_flag_is_the_plugin_apis() -> None:
    import click

    from huifang.core.plugin_api.cli import json_option

    def params(decorator: Any) -> dict[str, Any]:
        cmd = click.command()(decorator(lambda: None))
        return {k: repr(v) if k == "type" else v for k, v in vars(cmd.params[0]).items() if k != "callback"}

    assert params(cli_queue.json_flag) == params(json_option)


def test_the_plain_table_is_richs_table() -> None:
    from rich._emoji_codes import EMOJI

    from huifang.core.plugin_api.cli import table

    assert not [k for k in EMOJI if k.isdigit() and len(k) <= 2]  # why digit codes (`:59:` in times) are safe
    h = cli_queue.HEADERS
    rnd = random.Random(12)
    alphabet = string.ascii_letters + string.digits + " -_.+/():"
    compared = 0
    for _ in range(600):
        rows = [[rnd.choice([None, 0, 17, "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, rnd.choice(
            [3, 12, 30]))))]) for _ in h] for _ in range(rnd.choice([0, 1, 3, 12]))]
        plain = cli_queue.plain_table(h, rows)
        if plain is not None:
            compared += 1
            assert plain == table(h, rows), rows
    assert compared > 300
    times = [["A-1", "S1", "care", "due", "2026-11-26T17:59:59+08:00", "-", 2, "2026-11-27T10:00:00+08:00"]]
    assert cli_queue.plain_table(h, times) == table(h, times)
    for cell in ("客户", "[bold]x", "a:100:b", ":+1:", "tab\there", "x" * 190):
        assert cli_queue.plain_table(h, [[cell] * len(h)]) is None  # left to rich


def test_the_demo_queue_uses_the_plain_table(demo: Path, paths: Any, tmp_path: Path) -> None:
    from huifang.core.plugin_api.cli import table

    rows = paths(Huifang(copy(demo, tmp_path), now=NOW), "--on", "2027-03-01", "--limit", "0")[0].data
    cells = [[r["id"], r["subject"], r["visit_type"], r["status"],
              r["due"] + (" (provisional)" if r["provisional"] else ""), r["owner"] or "-", r["attempts"],
              r["next_attempt_at"] or "-"] for r in rows]
    plain = cli_queue.plain_table(cli_queue.HEADERS, cells)
    assert plain is not None and plain == table(cli_queue.HEADERS, cells)
