"""Helpers for the scale and reliability tests: data files, real CLI processes, counts
read straight from the event store."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

NOW = "2026-10-20T10:00:00+08:00"
DISCHARGE = ["id", "subject", "at", "department", "diagnosis", "responsible_nurse", "attending_doctor"]


def discharge_patients(app: Any, n: int) -> None:
    """In process: nurse n1 and n patients discharged from cardiology, a follow-up each; views caught up."""
    app.add_staff("n1", "护士1", "agent")
    for i in range(n):
        app.add_subject(f"P{i}", "王伟", ["13800138000"])
        app.receive_trigger("medical.discharge", f"P{i}", {
            "department": "cardiology", "diagnosis": "CHD", "responsible_nurse": "n1",
            "attending_doctor": "dr1"}, trigger_id=f"D{i}")
    app.projector.catch_up()


def write_subjects(path: Path, n: int, encoding: str = "utf-8", start: int = 0) -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "name", "phone", "city"])
        for i in range(start, start + n):
            w.writerow([f"P{i}", "王伟" if i % 2 else "李娜", f"1380013{i % 10000:04d}", "杭州"])
    return path


def write_discharges(path: Path, n: int, encoding: str = "utf-8", nurse: str = "n1") -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(DISCHARGE)
        for i in range(n):
            w.writerow([f"D{i}", f"P{i}", f"2026/10/{1 + i % 9} 09:{i % 60:02d}", "心内科", "高血压", nurse, "王医生"])
    return path


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("HUIFANG_ACTOR", "cli")
    env.pop("HUIFANG_DEBUG", None)
    return env


def cli_args(db: str, *args: str, now: str = NOW) -> list[str]:
    return ["--db", db, "--now", now, *args]


def huifang_cmd(db: str, *args: str, now: str = NOW) -> list[str]:
    """The `huifang` console script, run by this interpreter (the venv's entry point)."""
    return [sys.executable, "-c", "import sys; from huifang.cli.main import main; main(sys.argv[1:])",
            *cli_args(db, *args, now=now)]


def run_cli(db: str, *args: str, now: str = NOW, timeout: float = 120) -> subprocess.CompletedProcess:
    """The real CLI in its own process (what an operator's shell runs)."""
    return subprocess.run(huifang_cmd(db, *args, now=now), capture_output=True, text=True, timeout=timeout,
                          env=cli_env())


_apps: dict[str, Any] = {}


class _Shared:
    """A cached application per store for the checks (starting one per check is slow); close() is a
    no-op, `close_apps` closes them after each test."""

    def __init__(self, app: Any):
        self._app = app

    def __getattr__(self, name: str) -> Any:
        return getattr(self._app, name)

    def close(self) -> None:
        pass


def open_app(db: str) -> Any:
    from huifang.core.config import Config
    from huifang.projections import open_app as compose_app

    if db not in _apps:
        _apps[db] = compose_app(db, Config())
    return _Shared(_apps[db])


@pytest.fixture(autouse=True)
def close_apps() -> Any:
    yield
    while _apps:
        _apps.popitem()[1].close()


def topic_counts(db: str) -> Counter:
    """Events per topic, read from the notification log (the ground truth)."""
    app = open_app(db)
    try:
        counts: Counter = Counter()
        start = 1
        while True:
            notes = app.recorder.select_notifications(start=start, limit=5000)
            if not notes:
                return counts
            counts.update(n.topic for n in notes)
            start = notes[-1].id + 1
    finally:
        app.close()


def originators(db: str, topic: str) -> list[Any]:
    app = open_app(db)
    try:
        out: list[Any] = []
        start = 1
        while True:
            notes = app.recorder.select_notifications(start=start, limit=5000, topics=[topic])
            if not notes:
                return out
            out += [n.originator_id for n in notes]
            start = notes[-1].id + 1
    finally:
        app.close()


def head(db: str) -> int:
    app = open_app(db)
    try:
        return app.recorder.max_notification_id() or 0
    finally:
        app.close()


def topics_after(db: str, position: int) -> list[str]:
    """Topics of the records stored after `position` (what a command wrote)."""
    app = open_app(db)
    try:
        return [n.topic for n in app.recorder.select_notifications(start=position + 1, limit=1000)]
    finally:
        app.close()


# What a refused command may write: the record of the refusal itself (G8), nothing else.
REFUSAL_TOPICS = frozenset({"huifang:AccessLog.Opened", "huifang:AccessLog.Refused"})


def view_rows(db: str, table: str, order: str = "code") -> list[tuple]:
    """A view's rows after catching up (what every reader sees)."""
    from sqlalchemy import text

    from huifang.core import clock

    app = open_app(db)
    try:
        with clock.at(clock.parse_instant(NOW)):
            app.projector.catch_up()
        with app.projector.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY {order}"))]
    finally:
        app.close()


def rebuilt_tables(db: str, tables: tuple[str, ...], order: str = "code") -> dict[str, list[tuple]]:
    """Several views' rows after one rebuild from the log."""
    from sqlalchemy import text

    from huifang.core import clock

    app = open_app(db)
    try:
        with clock.at(clock.parse_instant(NOW)):
            app.projector.rebuild()
        with app.projector.engine.connect() as conn:
            return {t: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY {order}"))] for t in tables}
    finally:
        app.close()


def assert_views_equal_rebuild(db: str, tables: tuple[str, ...] = ("followups", "triggers")) -> None:
    """What every reader sees (caught up) equals one rebuild of those views from the log."""
    seen = {t: view_rows(db, t) for t in tables}
    assert seen == rebuilt_tables(db, tables)


def import_position(db: str) -> tuple[int, str] | None:
    from sqlalchemy import inspect, text

    app = open_app(db)
    try:
        eng = app.projector.engine
        if not inspect(eng).has_table("import_runs"):
            return None
        with eng.connect() as conn:
            r = conn.execute(text("SELECT done, status FROM import_runs WHERE what='trigger'")).first()
            return (r.done, r.status) if r else None
    finally:
        app.close()


class Probe:
    """Cheap repeated reads while another process works (one engine, no application start-up)."""

    def __init__(self, db: str):
        from huifang.core.store import Store
        from huifang.projections.engine import make_engine

        self.store = Store.parse(db)
        self.engine = make_engine(self.store)

    def scalar(self, sql: str) -> Any:
        from sqlalchemy import text
        from sqlalchemy.exc import DBAPIError

        try:
            with self.engine.connect() as conn:
                return conn.execute(text(sql)).scalar()
        except DBAPIError:
            return None  # table not there yet

    def head(self) -> int:
        table = "stored_events" if self.store.kind == "sqlite" else "huifang_events"
        col = "rowid" if self.store.kind == "sqlite" else "notification_id"
        return self.scalar(f"SELECT MAX({col}) FROM {table}") or 0

    def import_done(self) -> int:
        return self.scalar("SELECT done FROM import_runs WHERE what='trigger'") or 0

    def view_position(self, view: str = "core") -> int:
        return self.scalar(f"SELECT position FROM view_positions WHERE view='{view}'") or 0

    def close(self) -> None:
        self.engine.dispose()
