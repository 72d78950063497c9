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
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from huifang.cli import queue as cli_queue
from tests.conftest import STORE, Huifang, Result, copy_store

T0, T1, T2 = "2026-11-20T09:00:00+08:00", "2026-11-23T11:00:00+08:00", "2026-11-25T09:00:00+08:00"
NOW = "2026-11-26T09:00:00+08:00"  # the operator's wall clock
LATER = "2026-12-05T16:30:00+08:00"  # windows have opened and deadlines passed since the views were written
HEAVY = {"sqlalchemy", "eventsourcing", "psycopg", "psycopg_binary", "cryptography", "pydantic", "pydantic_core",
         "rich", "pluggy", "matplotlib", "openpyxl"}
NEWEST = "LAGD1-1"  # the follow-up of the newest trigger (`lagging`), opening on 2026-12-03


def combos() -> list[list[str]]:
    return [[], ["--limit", "0"], ["--limit", "3"], ["--overdue"], ["--overdue", "--limit", "0"],
            ["--on", "2026-12-03", "--limit", "0"], ["--on", "2026-12-03", "--limit", "5"], ["--on", "2026-01-01"],
            ["--on", "2027-12-31", "--limit", "0"], ["--agent", "n1"], ["--agent", "n2", "--overdue"],
            ["--agent", "n2", "--on", "2026-12-10", "--limit", "2"], ["--agent", "n1", "--on", "2026-12-03"],
            ["--agent", "s1", "--limit", "0"]]  # s1 owns nothing due; an unknown agent is an error (below)


def discharge(h: Huifang, subject: str, tid: str, nurse: str, **kw: Any) -> Any:
    return h.ok("trigger", "discharge", "--subject", subject, "--id", tid, "--attr", "department=cardiology",
                "--attr", "diagnosis=CHD", "--attr", "attending_doctor=dr1", "--attr", f"responsible_nurse={nurse}",
                **kw)


@pytest.fixture(scope="module")
def store(sqlite_template: Path, tmp_path_factory: Any) -> Path:
    """A directory holding a store with open follow-ups of two plugins and three owners (and none):
    stored as overdue by `tick`, overdue or due only at a later instant, planned, provisional (next
    years' calendars are not official yet), with a retry time, and one cancelled; its views current."""
    d = tmp_path_factory.mktemp("queue-store")
    h = Huifang(copy(sqlite_template, d), now=T0)
    h.ok("staff", "add", "hn", "--name", "HN", "--role", "supervisor", "--dept", "cardiology")
    for n in ("n1", "n2"):
        h.ok("staff", "add", n, "--name", n, "--role", "agent", "--dept", "cardiology", "--reports-to", "hn")
    for i in range(1, 9):
        h.ok("subject", "add", f"P{i}", "--name", f"X{i}", "--phone", f"1380000000{i}")
    for subject, tid, nurse in (("P1", "D1", "n1"), ("P2", "D2", "n2"), ("P4", "D4", "n1"), ("P5", "D5", "hn")):
        discharge(h, subject, tid, nurse)
    for subject, tid, nurse in (("P3", "C1", "n2"), ("P6", "C2", "n1")):
        h.ok("trigger", "chronic_enrolment", "--subject", subject, "--id", tid, "--attr", "condition=hypertension",
             "--attr", "phase=early", "--attr", "department=cardiology", "--attr", f"responsible_nurse={nurse}",
             "--attr", "attending_doctor=dr1")
    h.ok("attempt", "C1-c1", "--channel", "phone", "--outcome", "no_answer", now=T1, actor="n2")
    h.ok("tick", now=T2)
    h.now = T2
    discharge(h, "P7", "D7", "n2")
    h.ok("close", "D4-1", "--cancel", "moved away")
    h.ok("staff", "add", "s1", "--name", "S1", "--role", "agent", "--dept", "sales")
    h.ok("subject", "add", "F1", "--name", "F1", "--phone", "13900000001")
    made = h.ok("trigger", "contract_signed", "--subject", "F1", "--id", "HT1", "--attr", "advisor=s1",
                "--attr", "product=养老目标2035", "--attr", "branch=gz", "--attr", "contract=HT1")
    assert any(f["provisional"] and f["owner"] is None for f in made["followups"])
    h.ok("queue", "--limit", "0")  # the full path catches the views up
    assert lag(h.db) == 0
    return d


@pytest.fixture(scope="module")
def lagging(store: Path, tmp_path_factory: Any) -> Path:
    """The store after one more discharge (trigger LAGD1, nurse n1): the core view is behind the log."""
    d = tmp_path_factory.mktemp("queue-lagging")
    made = discharge(Huifang(copy(store, d), now=NOW), "P8", "LAGD1", "n1")
    assert [f["id"] for f in made["followups"]] == [NEWEST] and made["followups"][0]["window_open"][:10] == "2026-12-03"
    assert lag(str(d / STORE)) > 0
    return d


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
def paths(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[..., tuple[Result, str]]]:
    """queue(db, *args, fast=..., json_out=..., wall=..., config=..., before=...) -> (result, path taken:
    fast | fallback | full). `huifang queue` runs in-process as an operator types it: no --now (the wall
    clock, fixed at `wall`), no --as; `before` adds global options; text is `--codes` unless `human`
    (the work list with names). The plugins' labels are cached in a directory of this test."""
    from click.testing import CliRunner

    from huifang.cli.main import main
    from huifang.core import clock

    original = cli_queue.fast_queue
    original_names = cli_queue.fast_worklist
    taken: list[str] = []
    monkeypatch.delenv("HUIFANG_NOW", raising=False)
    monkeypatch.delenv("HUIFANG_CONFIG", raising=False)
    monkeypatch.setenv("HUIFANG_CACHE_DIR", str(tmp_path / "label-cache"))

    def run(db: str, *args: str, fast: bool = True, json_out: bool = True, wall: str = NOW,
            config: str | None = None, before: tuple[str, ...] = (), human: bool = False) -> tuple[Result, str]:
        def spying(fn: Callable[..., Any]) -> Callable[..., Any]:
            def spy(*a: Any) -> Any:
                if not fast:
                    taken.append("full")
                    return None
                rows = fn(*a)
                taken.append("fallback" if rows is None else "fast")
                return rows
            return spy

        monkeypatch.setattr(cli_queue, "fast_queue", spying(original))
        monkeypatch.setattr(cli_queue, "fast_worklist", spying(original_names))
        monkeypatch.setattr(clock, "wall_clock", lambda: datetime.fromisoformat(wall))
        taken.clear()
        # the text the fast path may print is the table of codes (the work list with names is a recorded read)
        argv = ["--db", db, *(["--config", config] if config else []), *before, "queue", *args,
                *(["--json"] if json_out else [] if human else ["--codes"])]
        with CliRunner().isolation() as (out, err, *_):
            try:
                main(argv)
                code = 0
            except SystemExit as e:
                code = int(e.code or 0)
            r = Result(code, out.getvalue().decode(), err.getvalue().decode())
        return r, (taken[0] if taken else "none")

    yield run


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- identical output ----------------------------------------------------------------------------------
def test_current_views_fast_path_prints_what_the_full_path_prints(store: Path, paths: Any, tmp_path: Path) -> None:
    db = copy(store, tmp_path)
    before = digest(tmp_path / STORE)
    seen = 0
    for wall in (NOW, LATER):
        for args in combos():
            for json_out in (True, False):
                fast, how = paths(db, *args, json_out=json_out, wall=wall)
                assert how == "fast" and fast.code == 0, (args, fast.err)
                full, how = paths(db, *args, json_out=json_out, wall=wall, fast=False)
                assert how == "full" and full.code == 0
                assert fast.out == full.out and fast.err == full.err == "", (wall, args)
                seen += len(fast.data) if json_out else 0
    assert seen > 60  # the filters select something: rows of every kind were compared
    assert digest(tmp_path / STORE) == before  # nothing was written (views current, read-only connection)


# -- the work list with names (G8) -----------------------------------------------------------------------------
NAMED = [[], ["--limit", "0"], ["--limit", "3"], ["--overdue"], ["--on", "2026-12-03", "--limit", "0"],
         ["--on", "2026-01-01"], ["--agent", "n1"], ["--agent", "n2", "--overdue"], ["--agent", "s1", "--limit", "0"],
         ["--all", "--limit", "0"]]


def reads(db: str) -> list[tuple[Any, ...]]:
    """The store's read records (G8): whose, what, by whom, when (reasons are sealed with fresh nonces)."""
    with sqlite3.connect(db) as con:
        found = con.execute("SELECT originator_id, originator_version, state FROM stored_events "
                            "WHERE topic = 'huifang:ReadLog.Read' ORDER BY rowid").fetchall()
    out = []
    for oid, version, state in found:
        d = json.loads(state)
        out.append((oid, version, d["what"], d["target"], d["actor"], d["approval"], d["timestamp"]["_data_"]))
    return out


def test_G8_the_work_list_with_names_is_read_without_the_application_once_its_reads_are_recorded(
        store: Path, paths: Any, tmp_path: Path) -> None:
    """The first list of a day records each subject's read (the full path); every later one that day
    prints the same bytes from the store's rows alone, writing nothing."""
    fast_db, full_db = copy(store, tmp_path / "fast"), copy(store, tmp_path / "full")
    taken = []
    for wall in (NOW, LATER):
        for args in NAMED:
            first, how = paths(fast_db, *args, human=True, json_out=False, wall=wall)
            full, _ = paths(full_db, *args, human=True, json_out=False, wall=wall, fast=False)
            assert (first.code, first.out, first.err) == (full.code, full.out, "") and full.code == 0, (wall, args)
            before = digest(Path(fast_db))
            again, how_again = paths(fast_db, *args, human=True, json_out=False, wall=wall)
            assert how_again == "fast" and again.out == full.out, (wall, args)
            assert digest(Path(fast_db)) == before
            taken.append(how)
    assert {"fast", "fallback"} <= set(taken)  # some first lists had to record reads, others not
    assert reads(fast_db) == reads(full_db) and len(reads(fast_db)) >= 9  # the same reads, at the same times
    shown = paths(fast_db, "--all", "--limit", "0", human=True, json_out=False, wall=LATER)[0].out
    assert "X1" in shown and "138****0001" in shown and "F1" in shown


def test_G8_once_access_control_is_on_cli_sees_no_names_on_either_path(store: Path, paths: Any,
                                                                       tmp_path: Path) -> None:
    db = copy(store, tmp_path)
    Huifang(db, now=T2).ok("staff", "add", "adm", "--name", "Admin", "--role", "admin")
    full = paths(db, "--limit", "0", human=True, json_out=False, fast=False)[0]  # catches the views up
    recorded = reads(db)
    fast, how = paths(db, "--limit", "0", human=True, json_out=False)
    assert how == "fast" and fast.out == full.out and full.code == 0
    assert "X3" not in fast.out and "P3" in fast.out and reads(db) == recorded


def test_G8_a_login_bound_to_staff_takes_the_full_path(store: Path, paths: Any, tmp_path: Path) -> None:
    from huifang.cli.state import os_login

    db = copy(store, tmp_path)
    Huifang(db, now=T2).ok("staff", "bind", "n1", "--os-user", os_login().name)
    paths(db, human=True, json_out=False, fast=False)  # catches the views up, records n1's reads
    given, how = paths(db, human=True, json_out=False)
    full = paths(db, human=True, json_out=False, fast=False)[0]
    assert how == "fallback" and (given.code, given.out, given.err) == (full.code, full.out, full.err)
    assert "n1 的回访" in full.out  # the bound staff member's own list


def test_the_plugins_labels_come_from_a_cache_the_full_path_keeps(store: Path, paths: Any, tmp_path: Path) -> None:
    db = copy(store, tmp_path)
    full = paths(db, "--limit", "0", human=True, json_out=False, fast=False)[0]
    cache = tmp_path / "label-cache" / "labels.json"
    data = json.loads(cache.read_text(encoding="utf-8"))
    assert data["plugins"]["medical"]["labels"]["zh_CN"]
    assert paths(db, "--limit", "0", human=True, json_out=False) == (full, "fast")
    data["plugins"]["medical"]["fingerprint"] = "a plugin edited since"
    cache.write_text(json.dumps(data), encoding="utf-8")
    assert paths(db, "--limit", "0", human=True, json_out=False) == (full, "fallback")
    assert paths(db, "--limit", "0", human=True, json_out=False) == (full, "fast")  # kept again
    cache.unlink()
    assert paths(db, "--limit", "0", human=True, json_out=False) == (full, "fallback")
    english = paths(db, "--limit", "0", human=True, json_out=False, before=("--lang", "en"), fast=False)[0]
    assert paths(db, "--limit", "0", human=True, json_out=False, before=("--lang", "en")) == (english, "fast")


def test_without_the_right_master_key_the_full_path_answers(store: Path, paths: Any, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    db = copy(store, tmp_path)
    paths(db, "--limit", "0", human=True, json_out=False, fast=False)
    for var, value in (("HUIFANG_KEY", "00" * 32), ("HUIFANG_KEY", "not a key"),
                       ("HUIFANG_KEY_DIR", str(tmp_path / "elsewhere"))):
        with monkeypatch.context() as m:
            m.setenv(var, value)
            given, how = paths(db, "--limit", "0", human=True, json_out=False)
            full = paths(db, "--limit", "0", human=True, json_out=False, fast=False)[0]
        assert how == "fallback" and (given.code, given.out, given.err) == (full.code, full.out, full.err), value


def test_statuses_and_provisional_rows_are_compared(store: Path, paths: Any, tmp_path: Path) -> None:
    db = copy(store, tmp_path)
    rows = paths(db, "--on", "2027-12-31", "--limit", "0", wall=LATER)[0].data
    assert {"overdue", "due", "planned"} <= {r["status"] for r in rows}
    assert any(r["provisional"] for r in rows) and {None, "n1", "n2", "hn"} == {r["owner"] for r in rows}
    assert any(r["next_attempt_at"] for r in rows) and "D4-1" not in {r["id"] for r in rows}
    text, how = paths(db, "--on", "2027-12-31", "--limit", "0", json_out=False, wall=LATER)
    assert how == "fast" and "(provisional)" in text.out and text.out.endswith(f"\n{len(rows)} follow-up(s)\n")
    assert "(the first 3: --limit to see more)" in paths(db, "--limit", "3", json_out=False)[0].out


def test_a_lagging_view_falls_back_and_shows_the_newest_trigger(lagging: Path, paths: Any, tmp_path: Path) -> None:
    for i, args in enumerate([["--on", "2026-12-03", "--limit", "0"], ["--agent", "n1", "--on", "2026-12-03"],
                              ["--agent", "n2", "--overdue"], []]):
        for json_out in (True, False):
            one = copy(lagging, tmp_path / f"a{i}{json_out}")
            two = copy(lagging, tmp_path / f"b{i}{json_out}")
            fast, how = paths(one, *args, json_out=json_out)
            assert how == "fallback" and fast.code == 0
            full, how = paths(two, *args, json_out=json_out, fast=False)
            assert how == "full" and fast.out == full.out, args
            if "2026-12-03" in args:
                assert NEWEST in fast.out
            assert lag(one) == 0  # the full path caught the views up: the next queue is fast
            assert paths(one, *args, json_out=json_out)[1] == "fast"


def test_what_the_store_may_refuse_takes_the_full_path(store: Path, paths: Any, tmp_path: Path) -> None:
    """--now and --backfill are checked against the store's clock mode, --as against the platform
    identity, when the store is opened: the queue then takes the full path and prints what it prints."""
    from huifang.core import identity

    assert identity.ANONYMOUS_CLAIMS == cli_queue.ANONYMOUS_CLAIMS
    db = copy(store, tmp_path)
    for before in (("--now", LATER), ("--as", "n1"), ("--as", "ghost"), ("--now", NOW, "--backfill", "x")):
        given, how = paths(db, "--limit", "0", before=before)
        assert how == "fallback", before
        full, _ = paths(db, "--limit", "0", before=before, fast=False)
        assert (given.code, given.out, given.err) == (full.code, full.out, full.err)
    assert paths(db, before=("--as", "cli"))[1] == "fast"


def test_the_config_time_zone_comes_from_the_same_sources(store: Path, paths: Any, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    db = copy(store, tmp_path)
    cfg = tmp_path / "london.toml"
    cfg.write_text('[huifang]\ntimezone = "Europe/London"\norganisation = "clinic"\nplugins = ["aesthetics", '
                   '"finance", "medical", "property"]\n[huifang.lock_ladder]\nenabled = false\nlevel1_days = 2\n',
                   encoding="utf-8")
    expected = paths(db, "--limit", "0", config=str(cfg), fast=False)[0]
    assert expected.code == 0 and expected.data and not any(r["due"].endswith("+08:00") for r in expected.data)
    for how_given in ("--config", "HUIFANG_CONFIG", "./huifang.toml"):
        with monkeypatch.context() as m:
            if how_given == "HUIFANG_CONFIG":
                m.setenv("HUIFANG_CONFIG", str(cfg))
            if how_given == "./huifang.toml":
                (tmp_path / "cwd").mkdir()
                (tmp_path / "cwd" / "huifang.toml").write_text(cfg.read_text(encoding="utf-8"), encoding="utf-8")
                m.chdir(tmp_path / "cwd")
            r, how = paths(db, "--limit", "0", config=str(cfg) if how_given == "--config" else None)
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
def test_a_config_it_cannot_vouch_for_takes_the_full_path(store: Path, paths: Any, tmp_path: Path, toml: str,
                                                          error: str | None) -> None:
    cfg = tmp_path / "huifang.toml"
    cfg.write_text(toml, encoding="utf-8")
    r, how = paths(copy(store, tmp_path), config=str(cfg))
    assert how == "fallback"
    if error is not None:
        assert r.code == 2 and error in r.err and r.err.count("\n") == 1


def test_postgres_takes_the_full_path(hf: Huifang, backend: str, paths: Any) -> None:
    r, how = paths(hf.db)
    assert r.code == 0 and r.data == []
    if backend == "postgres":
        assert how == "fallback"


def test_an_unknown_agent_is_an_error_on_either_path(store: Path, paths: Any, tmp_path: Path) -> None:
    """`queue --agent nobody` used to print "0 follow-up(s)" with exit 0: a mistyped id looked like an
    empty queue. Now one line naming --agent, exit 2, whichever path is asked."""
    db = copy(store, tmp_path)
    for json_out in (True, False):
        r, how = paths(db, "--agent", "nobody", json_out=json_out)
        assert how == "fallback" and r.code == 2 and r.out == ""
        assert r.err == "huifang: error: --agent: 'nobody' is not registered staff (huifang staff list)\n"


def test_a_missing_store_is_still_refused(tmp_path: Path, paths: Any) -> None:
    r, how = paths(str(tmp_path / "nothing.db"))
    assert how == "fallback" and r.code == 2 and "does not exist" in r.err
    assert not (tmp_path / "nothing.db").exists()


# -- what the fast path loads ---------------------------------------------------------------------------
def test_the_fast_path_imports_no_heavy_module(store: Path, tmp_path: Path, paths: Any) -> None:
    db = copy(store, tmp_path / "store")
    code = ("import sys\nfrom datetime import datetime\nfrom huifang.core import clock\n"
            "wall = datetime.fromisoformat(sys.argv.pop(1))\nclock.wall_clock = lambda: wall\n"
            "from huifang.cli.main import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n"
            "    pass\nprint('\\n' + '\\n'.join(sorted(sys.modules)), file=sys.stderr)")
    env = {k: v for k, v in os.environ.items() if k not in ("HUIFANG_CONFIG", "HUIFANG_NOW")}
    for extra in (["--codes"], ["--json"]):
        argv = [NOW, "--db", db, "queue", "--limit", "0", *extra]
        p = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=120,
                           cwd=tmp_path, env=env)
        modules = set(p.stderr.split("\n"))
        assert p.returncode == 0 and "huifang.projections.queue_fast" in modules, p.stderr[-500:]
        assert not {m.split(".")[0] for m in modules} & HEAVY
        assert not {m for m in modules if m.startswith(("huifang.plugins", "huifang_", "huifang.core.plugin_api"))}
        full = paths(db, "--limit", "0", json_out=extra == ["--json"], fast=False)[0]
        assert p.stdout == full.out  # a real process prints the same bytes as the full path


def test_the_names_path_imports_no_heavy_module_but_cryptography(store: Path, tmp_path: Path, paths: Any) -> None:
    db = copy(store, tmp_path / "store")
    full = paths(db, "--limit", "0", human=True, json_out=False, fast=False)[0]  # records the reads, keeps labels
    code = ("import sys\nfrom datetime import datetime\nfrom huifang.core import clock\n"
            "wall = datetime.fromisoformat(sys.argv.pop(1))\nclock.wall_clock = lambda: wall\n"
            "from huifang.cli.main import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n"
            "    pass\nprint('\\n' + '\\n'.join(sorted(sys.modules)), file=sys.stderr)")
    env = {k: v for k, v in os.environ.items() if k not in ("HUIFANG_CONFIG", "HUIFANG_NOW")}
    p = subprocess.run([sys.executable, "-c", code, NOW, "--db", db, "queue", "--limit", "0"], capture_output=True,
                       text=True, timeout=120, cwd=tmp_path, env=env)
    modules = set(p.stderr.split("\n"))
    assert p.returncode == 0 and "huifang.projections.queue_fast" in modules, p.stderr[-500:]
    assert not {m.split(".")[0] for m in modules} & (HEAVY - {"cryptography"})
    assert not {m for m in modules if m.startswith(("huifang.plugins.", "huifang_", "huifang.core.plugin_api"))}
    assert p.stdout == full.out and "X3" in p.stdout


# -- the shared pieces -------------------------------------------------------------------------------------
def test_the_fast_path_constants_match_the_views() -> None:
    from huifang.core.plugin_api.views import ts
    from huifang.core.ports import QueueRow
    from huifang.projections import queue_fast
    from huifang.projections.core_views import CoreView

    assert (CoreView.name, CoreView.version) == (queue_fast.CORE_VIEW, queue_fast.CORE_VIEW_VERSION)
    assert QueueRow._fields == queue_fast.QUEUE_COLUMNS
    for dt in (datetime(2026, 11, 26, 9, 0, 0, 123456, tzinfo=timezone(timedelta(hours=8))),
               datetime(2026, 1, 1, tzinfo=UTC)):
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
    for _ in range(100):
        rows = [[rnd.choice([None, 0, 17, "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, rnd.choice(
            [3, 12, 30]))))]) for _ in h] for _ in range(rnd.choice([0, 1, 3, 12]))]
        plain = cli_queue.plain_table(h, rows)
        if plain is not None:
            compared += 1
            assert plain == table(h, rows), rows
    assert compared > 50
    times = [["A-1", "S1", "care", "due", "2026-11-26T17:59:59+08:00", "-", 2, "2026-11-27T10:00:00+08:00"]]
    assert cli_queue.plain_table(h, times) == table(h, times)
    for cell in ("客户", "[bold]x", "a:100:b", ":+1:", "tab\there", "x" * 190):
        assert cli_queue.plain_table(h, [[cell] * len(h)]) is None  # left to rich


def test_the_queue_uses_the_plain_table(store: Path, paths: Any, tmp_path: Path) -> None:
    from huifang.core.plugin_api.cli import table

    rows = paths(copy(store, tmp_path), "--on", "2027-12-31", "--limit", "0", wall=LATER)[0].data
    cells = [[r["id"], r["subject"], r["visit_type"], r["status"],
              r["due"] + (" (provisional)" if r["provisional"] else ""), r["owner"] or "-", r["attempts"],
              r["next_attempt_at"] or "-"] for r in rows]
    plain = cli_queue.plain_table(cli_queue.HEADERS, cells)
    assert plain is not None and plain == table(cli_queue.HEADERS, cells)


@pytest.mark.parametrize("term", ["xterm", "xterm-256color", "xterm-kitty", "screen-16color"])
def test_the_work_list_table_without_rich_is_richs(term: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Off a terminal and on one (in colour, whatever colour system rich detects from TERM/COLORTERM)."""
    from rich.cells import cell_len

    for lo, hi in cli_queue.WIDE:
        assert all(cell_len(chr(o)) == 2 for o in range(lo, hi + 1))
    monkeypatch.setenv("TERM", term)
    monkeypatch.setenv("COLORTERM", "truecolor" if term == "xterm" else "")
    assert cli_queue.ansi_terminal()
    h = cli_queue.HEADERS_BY_LANG["zh_CN"]
    rnd = random.Random(8)
    alphabet = string.ascii_letters + string.digits + " -_.*:()[]" + "张王李赵逾期天今明临时回访状态（）：，"
    styles = [None, *cli_queue.STATUS_STYLE.values(), "italic"]
    compared = 0
    for _ in range(60):
        rows = [[("".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, rnd.choice([2, 8, 20])))),
                  rnd.choice(styles)) for _ in h] for _ in range(rnd.choice([0, 1, 4, 15]))]
        for tty in (False, True):
            plain = cli_queue.plain_styled_table(h, rows, ansi=tty)
            if plain is not None:
                compared += 1
                assert plain == cli_queue.rich_table(h, rows, tty=tty), (tty, rows)
    assert compared > 100
    for cell in ("tab\there", "é", "\u200b", "x" * 190):
        assert cli_queue.plain_styled_table(h, [[(cell, None)] * len(h)]) is None  # left to rich
    assert cli_queue.plain_styled_table(h, [[("x", "underline")] * len(h)], ansi=True) is None
    monkeypatch.setenv("TERM", "dumb")
    assert not cli_queue.ansi_terminal()


def test_the_queue_rows_status_and_local_times_in_any_zone() -> None:
    """queue_json keeps its conversions across calls (keyed by zone): each call still shows the
    status at its own `now` (effective_status) and the instants in its own zone."""
    from zoneinfo import ZoneInfo

    from huifang.core.queue_rows import effective_status, queue_json

    rnd = random.Random(3)
    base = datetime(2026, 11, 20, tzinfo=UTC)
    stored = [(base + timedelta(hours=rnd.randint(0, 400))).strftime("%Y-%m-%dT%H:%M:%S+00:00") for _ in range(30)]
    rows = [(f"F{i}", "P1", "medical", "care", rnd.choice(["planned", "due", "overdue"]), rnd.choice(stored),
             rnd.choice(stored), None, None, 0, rnd.choice([None, *stored]), rnd.choice([0, 1])) for i in range(60)]
    for tz in (ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/London"), timezone(timedelta(hours=-5))):
        for now in (base, base + timedelta(days=7), base + timedelta(days=30)):
            got = queue_json(rows, now, tz)
            for r, g in zip(rows, got, strict=True):
                wo, due = datetime.fromisoformat(r[5]), datetime.fromisoformat(r[6])
                assert g["status"] == effective_status(r[4], wo, due, now)
                assert g["due"] == due.astimezone(tz).isoformat(timespec="seconds")
                assert g["next_attempt_at"] == (None if r[10] is None else datetime.fromisoformat(r[10]).astimezone(
                    tz).isoformat(timespec="seconds"))


def test_the_names_path_constants_match_the_core(monkeypatch: pytest.MonkeyPatch) -> None:
    """What read_worklist re-reads without loading the audit package (eventsourcing) is the core's:
    event topics, token format, key sources and check values, the head seal."""
    import base64 as b64
    import inspect

    from huifang.core import privacy
    from huifang.core.audit import chain, keys
    from huifang.core.audit import reads as audit_reads
    from huifang.core.audit.trail import ReadLog
    from huifang.core.domain import Subject
    from huifang.core.errors import HuifangError
    from huifang.projections import queue_fast as qf

    def topics(cls: Any) -> set[str]:
        return {v.TOPIC for k, v in vars(cls).items()  # but eventsourcing's base classes of the aggregate's own
                if isinstance(v, type) and hasattr(v, "TOPIC") and k not in ("Event", "Created")}

    assert topics(Subject) == qf.SUBJECT_TOPICS and topics(ReadLog) == qf.READLOG_TOPICS
    assert topics(privacy.PrivacySettings) == qf.PRIVACY_TOPICS
    assert (qf.PII_PREFIX, qf.JSON_MARK, qf.ERASED, qf.UNREADABLE) == (privacy.PREFIX, privacy.JSON_MARK,
                                                                       privacy.ERASED, privacy.UNREADABLE)
    assert qf.KCV_INFO == privacy._KCV_INFO and qf.HEAD_CONTEXT == chain.HEAD_CONTEXT
    assert (qf.SEAL_KEY, qf.MASTER_KEY) == (keys.SEAL, keys.MASTER)
    assert f"log.reads[-{qf.RECENT_READS}:]" in inspect.getsource(audit_reads.record_list_read)
    assert qf.aad("P1", "pii") == privacy._aad("P1", "pii")
    key = bytes(range(32))
    assert qf.head_seal(key, 7, b"h" * 32, 9) == chain.head_seal(key, 7, b"h" * 32, 9, False)
    for text in (key.hex(), b64.b64encode(key).decode(), b64.urlsafe_b64encode(key).decode().rstrip("="), "short"):
        try:
            expected: Any = keys.decode(text, "x")
        except HuifangError:
            expected = qf.Fallback
        monkeypatch.setenv("HUIFANG_TEST_KEY_VALUE", text)
        try:
            got: Any = qf.load_key(("k", "HUIFANG_TEST_KEY_VALUE"), Path("/nonexistent"))
        except qf.Fallback:
            got = qf.Fallback
        assert got == expected, text
