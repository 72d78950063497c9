"""Two things a bulk import does to be cheap that must not change what it means (core/bulk.py):
- between batches it freezes what the process holds (bulk.settle), so the collector does not rescan
  it batch after batch; the collector is set back after, and nothing it froze is leaked. What it froze
  is collected only after the import, so an import must make next to no cyclic garbage per row;
- on glibc it keeps the C heap it frees (core/heap.py) and sets malloc back and trims it after;
- a row's text is sealed once (G8): the follow-up's meta copying the trigger's attribute holds the same
  token, which reveals to the same text, and another subject's token of the same text differs (its key)."""
from __future__ import annotations

import csv
import gc
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from huifang.core import bulk, clock, heap
from huifang.core.config import Config
from huifang.core.importer import ColumnMap, Importer
from huifang.projections import open_app
from tests.test_import_store_settings import _store

NOW = "2026-10-20T10:00:00+08:00"
KIND = "medical.discharge"
ROWS = 7
BATCH = 2


def _import_in_batches(app: Any, f: Path) -> dict[str, Any]:
    """The file imported BATCH rows a batch at NOW, every row of it; the store closed after."""
    try:
        with clock.at(clock.parse_instant(NOW)):
            report = Importer(app, "trigger", str(f), ColumnMap(), kind=KIND, batch=BATCH).run()
    finally:
        app.close()
    assert report["imported"] == ROWS
    return report


def test_an_import_freezes_between_batches_and_sets_the_collector_back(sqlite_db: str, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    app, f = _store(sqlite_db, ROWS, tmp_path)
    threshold, frozen = gc.get_threshold(), gc.get_freeze_count()
    freezes: list[int] = []
    real = gc.freeze

    def counting() -> None:
        freezes.append(1)
        real()
    monkeypatch.setattr(gc, "freeze", counting)
    bulk.settle()  # outside an import: nothing is frozen
    assert freezes == []
    report = _import_in_batches(app, f)
    chunks = -(-ROWS // BATCH)  # 4 chunks of at most 2 rows: each checked, then each written
    assert report["batches"] == chunks
    assert len(freezes) == 1 + 2 * chunks  # the import's start, then before each chunk of either pass
    assert gc.get_threshold() == threshold
    assert gc.get_freeze_count() == frozen  # unfrozen at the end: later collections see it all again


def test_an_import_keeps_the_c_heap_and_sets_malloc_back(sqlite_db: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    libc = heap.glibc()
    if libc is None:
        pytest.skip("not glibc: malloc is left as it is")
    calls: list[tuple[object, ...]] = []

    class Recording:  # the real C library, its calls written down
        def mallopt(self, option: int, value: int) -> int:
            calls.append(("mallopt", option, value))
            return int(libc.mallopt(option, value))

        def malloc_trim(self, pad: int) -> int:
            calls.append(("malloc_trim", pad))
            return int(libc.malloc_trim(pad))
    monkeypatch.setitem(heap._LIBC, "libc", Recording())
    app, f = _store(sqlite_db, ROWS, tmp_path)
    _import_in_batches(app, f)
    assert calls == [("mallopt", -1, 64 << 20), ("mallopt", -3, 32 << 20),  # M_TRIM_THRESHOLD, M_MMAP_THRESHOLD
                     ("mallopt", -1, 128 << 10), ("mallopt", -3, 128 << 10), ("malloc_trim", 0)]


def test_a_rows_text_is_sealed_once_and_reveals_the_same(sqlite_db: str, tmp_path: Path) -> None:
    app, f = _store(sqlite_db, ROWS, tmp_path)
    try:
        with clock.at(clock.parse_instant(NOW)):
            report = Importer(app, "trigger", str(f), ColumnMap(), kind=KIND).run()
        assert report["imported"] == ROWS
        tokens: dict[str, tuple[str, str]] = {}
        for n in app.recorder.select_notifications(start=1, limit=1000):
            state = json.loads(n.state)
            if n.topic == "huifang:Trigger.Received":
                tokens.setdefault(state["subject"], ("", ""))
                tokens[state["subject"]] = (state["attributes"]["diagnosis"], tokens[state["subject"]][1])
            elif n.topic == "huifang:FollowUp.Planned":
                tokens[state["subject"]] = (tokens.get(state["subject"], ("", ""))[0], state["meta"]["diagnosis"])
        assert len(tokens) == ROWS
        for subject, (attribute, meta) in tokens.items():
            assert attribute.startswith(f"pii:1:{subject}:")  # sealed (G8), not the plain text
            assert attribute == meta
            assert app.keyring.reveal(meta) == "高血压"
        assert len({attribute for attribute, _ in tokens.values()}) == ROWS  # each subject's own key and nonce
    finally:
        app.close()


def _garbage(db: str, d: Path, rows: int) -> tuple[int, int]:
    """(rows imported, cyclic garbage objects the import left), after a first import of a few rows (what a
    store's first use compiles and caches is not counted)."""
    first = 20
    app = open_app(db, Config())
    subjects = d / "s.csv"
    with subjects.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows([["id", "name", "phone"], *([f"P{i}", "王伟", "13800138000"] for i in range(rows))])
    files = {}
    for name, span in (("first", range(first)), ("then", range(first, rows))):
        files[name] = d / f"{name}.csv"
        with files[name].open("w", encoding="utf-8", newline="") as out:
            w = csv.writer(out)
            w.writerow(["id", "subject", "at", "department", "diagnosis", "responsible_nurse", "attending_doctor"])
            w.writerows([f"D{i}", f"P{i}", "2026-10-01 09:00", "心内科", "高血压", "n1", "王医生"] for i in span)
    try:
        with clock.at(clock.parse_instant(NOW)):
            app.projector.ensure()
            app.add_staff("n1", "护士一", "agent")
            Importer(app, "subject", str(subjects), ColumnMap()).run()
            Importer(app, "trigger", str(files["first"]), ColumnMap(), kind=KIND).run()
            gc.collect()
            report = Importer(app, "trigger", str(files["then"]), ColumnMap(), kind=KIND, batch=50).run()
            return report["imported"], gc.collect()
    finally:
        app.close()


def test_an_import_makes_next_to_no_cyclic_garbage(tmp_path: Path) -> None:
    """What settle() froze is collected only when the import ends: a per-row reference cycle would grow
    a million-row import's memory row by row. Counted in a fresh process (the apps of earlier tests here
    become garbage whenever SQLAlchemy's caches let go of them)."""
    rows = 300
    code = ("import sys; from pathlib import Path; from tests.test_import_collections import _garbage; "
            f"print(*_garbage(sys.argv[1], Path(sys.argv[2]), {rows}))")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "g.db"), str(tmp_path)], capture_output=True,
                         text=True, timeout=120, cwd=Path(__file__).resolve().parent.parent,
                         env={**os.environ, "HUIFANG_KEY_DIR": str(tmp_path / "keys")})
    assert out.returncode == 0, out.stderr
    imported, garbage = map(int, out.stdout.split())
    assert imported == rows - 20
    assert garbage < imported // 10  # none per row (a first import here left 0)
