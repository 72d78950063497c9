"""The single-pass trigger import (core/bulk.py) writes what the same triggers typed one by one
write: the same records in the same order (their bytes differ only in the sealed values' nonces)
and the same views; a subject's second trigger in the file is planned after its first is saved (its
plan reads it: M3/M4, already on the curve). A refused file writes nothing. Both backends."""
from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from huifang.core import clock
from huifang.core.config import Config
from huifang.core.importer import ColumnMap, Importer
from huifang.projections import open_app
from tests.pg_support import drop_schema, fresh_schema_url, pg_url

NOW = "2026-10-20T10:00:00+08:00"
KIND = "medical.discharge"
HEAD = ["id", "subject", "at", "department", "diagnosis", "responsible_nurse", "attending_doctor", "condition"]
ROWS = [
    ["D0", "P0", "2026-10-01 09:00", "心内科", "高血压", "n1", "王医生", "hypertension"],
    ["D1", "P1", "2026-10-19 09:00", "骨科", "骨折", "n1", "李医生", ""],
    ["D2", "P0", "2026-10-02 10:00", "心内科", "高血压", "n1", "王医生", "hypertension"],  # on the curve already
    ["D3", "P2", "2026-10-03 11:00", "眼科", "白内障", "n1", "赵医生", ""],
]
TOKEN = re.compile(r"pii:1:[^:'\"]*:[A-Za-z0-9_~-]+")


@pytest.fixture
def other(db: str, tmp_path: Path) -> Iterator[str]:
    """A second fresh store on the same backend."""
    if not db.startswith("postgresql"):
        yield str(tmp_path / "typed.db")
        return
    url = fresh_schema_url(pg_url() or "")
    yield url
    drop_schema(url)


def _app(url: str) -> Any:
    app = open_app(url, Config())
    with clock.at(clock.parse_instant(NOW)):
        app.projector.ensure()
        app.add_staff("n1", "护士一", "agent")
        for s in ("P0", "P1", "P2"):
            app.add_subject(s, "王伟", ["13800138000"])
    return app


def _attributes(row: list[str]) -> dict[str, Any]:
    return {k: v for k, v in zip(HEAD[3:], row[3:], strict=True) if v}


def _written(app: Any, after: int) -> tuple[list[tuple[Any, ...]], dict[str, list[str]]]:
    """The records after `after` (originator, version, topic, state without sealed values) and the views."""
    records = [(n.originator_id, n.originator_version, n.topic, TOKEN.sub("PII", n.state.decode()))
               for n in app.recorder.select_notifications(start=after + 1, limit=1000)]
    with clock.at(clock.parse_instant(NOW)):
        app.projector.catch_up()
    views = {}
    with app.projector.engine.connect() as conn:
        for table in ("triggers", "followups"):
            views[table] = sorted(TOKEN.sub("PII", json.dumps(list(r), default=str, ensure_ascii=False))
                                  for r in conn.execute(text(f"SELECT * FROM {table}")))
    return records, views


@pytest.mark.slow  # two stores, about 3 s on a loaded machine
def test_single_pass_import_writes_what_triggers_typed_one_by_one_write(db: str, other: str, tmp_path: Path) -> None:
    f = tmp_path / "d.csv"
    with f.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows([HEAD, *ROWS])
    imported, typed = _app(db), _app(other)
    try:
        start_a, start_b = imported.recorder.max_notification_id(), typed.recorder.max_notification_id()
        with clock.at(clock.parse_instant(NOW)):
            report = Importer(imported, "trigger", str(f), ColumnMap(), kind=KIND, batch=2).run()
            for row in ROWS:
                at = clock.parse_instant(row[2].replace(" ", "T"), tz="Asia/Shanghai")
                typed.receive_trigger(KIND, row[1], _attributes(row), row[0], at)
        assert (report["imported"], report["bad"]) == (4, [])
        a, b = _written(imported, start_a), _written(typed, start_b)
        assert [r[:3] for r in a[0]] == [r[:3] for r in b[0]]
        assert a == b
        skipped = [r for r in a[1]["triggers"] if '"D2"' in r]
        assert skipped and "already on the hypertension curve" in skipped[0]  # planned after D0 was saved
    finally:
        imported.close()
        typed.close()


def test_single_pass_import_of_a_file_with_a_bad_row_writes_nothing(db: str, tmp_path: Path) -> None:
    f = tmp_path / "d.csv"
    with f.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows([HEAD, *ROWS[:3], ["D3", "P9", "2026-10-03 11:00", "眼科", "白内障", "n1", "赵医生", ""]])
    app = _app(db)
    try:
        head = app.recorder.max_notification_id()
        with clock.at(clock.parse_instant(NOW)):
            report = Importer(app, "trigger", str(f), ColumnMap(), kind=KIND).run()
        assert [b["row"] for b in report["bad"]] == [5] and report["imported"] == 0
        assert app.recorder.max_notification_id() == head
    finally:
        app.close()
