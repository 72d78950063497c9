"""Output paths that must never damage the store or leak a key (G8 confidentiality, G11 recordings,
G19 reports, G1 import rejects), on SQLite and PostgreSQL.

The attack: `report rates --out huifang.db` overwrote the store; `subject export --out
DB.keys/seal.key` overwrote the seal key (the log could no longer be verified); `attempt --recording
DB.keys/master.key` copied the master key into the recordings directory. Now one guard
(core/paths.py) refuses, for every `--out` and `--reject`, the store, its WAL/-shm/journal (also
through a symlink or a hard link), anything in the key or recordings directory, and an existing file
unless --force — which never unlocks the protected files; a recording may not come from them either.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from huifang.core.audit.keys import sidecar
from huifang.core.store import Store
from tests.audit_kit import DISCHARGE
from tests.conftest import Huifang

NOW = "2026-10-20T10:00+08:00"


def _refused(r, *needles: str) -> None:
    assert r.code == 2 and r.err.count("\n") == 1, (r.code, r.out, r.err)
    for n in needles:
        assert n in r.err, (n, r.err)


def _keys(hf: Huifang) -> Path:
    return sidecar(Store.parse(hf.db), "keys")


def _snapshot(d: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()} if d.is_dir() else {}


@pytest.fixture
def org(hf: Huifang) -> Huifang:
    hf.now = NOW
    hf.ok("staff", "add", "n1", "--name", "王护士", "--role", "agent", "--dept", "cardiology")
    hf.ok("subject", "add", "P1", "--name", "张三", "--phone", "13800000001")
    return hf


def test_g8_subject_export_cannot_overwrite_the_seal_key(org: Huifang, tmp_path: Path) -> None:
    keys = _keys(org)
    seal = keys / "seal.key"
    assert seal.is_file()
    before = _snapshot(keys)
    for out in (seal, keys / "export.json"):
        for force in ((), ("--force",)):
            _refused(org("subject", "export", "P1", "--out", str(out), *force, "--reason", "regulator"),
                     "--out:", "is in the key directory")
    link = tmp_path / "innocent.json"
    link.symlink_to(seal)  # a symlink does not help
    _refused(org("subject", "export", "P1", "--out", str(link), "--force", "--reason", "regulator"), "key directory")
    assert _snapshot(keys) == before
    assert org.ok("audit", "verify")["ok"]
    assert org.ok("subject", "export", "P1", "--out", str(tmp_path / "p1.json"), "--reason", "regulator")["events"]


def test_g8_audit_export_refuses_the_key_directory_and_an_existing_file(org: Huifang, tmp_path: Path) -> None:
    keys = _keys(org)
    before = _snapshot(keys)
    _refused(org("audit", "export", "--out", str(keys / "master.key"), "--force"), "--out:", "key directory")
    existing = tmp_path / "log.jsonl"
    existing.write_text("earlier export\n", encoding="utf-8")
    _refused(org("audit", "export", "--out", str(existing)), "--out:", "exists: pass --force")
    assert existing.read_text(encoding="utf-8") == "earlier export\n"
    assert org.ok("audit", "export", "--out", str(existing), "--force")["records"] > 0
    assert _snapshot(keys) == before


def test_g11_a_recording_from_the_key_directory_is_refused(org: Huifang) -> None:
    org.ok("trigger", "discharge", "--subject", "P1", "--id", "D1", *DISCHARGE)
    keys = _keys(org)
    master = (keys / "master.key").read_bytes()
    rec_dir = sidecar(Store.parse(org.db), "recordings")
    for name in ("master.key", "seal.key"):
        _refused(org("attempt", "D1-1", "--channel", "phone", "--outcome", "reached", "--recording", str(keys / name),
                     actor="n1", now="2026-10-08T15:10+08:00"), "--recording:", "key directory")
    assert master not in _snapshot(rec_dir).values()
    if Store.parse(org.db).kind == "sqlite":  # the store itself is no recording either
        _refused(org("attempt", "D1-1", "--channel", "phone", "--outcome", "reached", "--recording", org.db,
                     actor="n1", now="2026-10-08T15:10+08:00"), "--recording:", "the store's database file")


def test_g19_report_out_refuses_an_existing_file_unless_force(org: Huifang, tmp_path: Path) -> None:
    out = tmp_path / "rates.csv"
    out.write_text("last month's figures\n", encoding="utf-8")
    _refused(org("report", "rates", "--format", "csv", "--out", str(out)), "--out:", "exists: pass --force")
    assert out.read_text(encoding="utf-8") == "last month's figures\n"
    _refused(org("report", "rates", "--format", "csv", "--out", str(tmp_path)), "--out:", "is a directory")
    org.ok("report", "rates", "--format", "csv", "--out", str(out), "--force")
    assert out.read_text(encoding="utf-8-sig").startswith("due,completed,")  # G19: BOM for Excel


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm", "-journal"])
def test_g19_report_out_cannot_overwrite_the_sqlite_store(hf_sqlite: Huifang, tmp_path: Path, suffix: str) -> None:
    """SQLite only: a PostgreSQL store has no file a report could name."""
    h = hf_sqlite
    h.now = NOW
    h.ok("subject", "add", "P1", "--name", "张三")
    target = h.db + suffix
    _refused(h("report", "rates", "--out", target, "--force"), "--out:", "the store's")
    link = tmp_path / "report.csv"
    link.symlink_to(h.db)
    _refused(h("report", "rates", "--out", str(link), "--force"), "--out:", "the store's database file")
    hard = tmp_path / "copy.db"
    os.link(h.db, hard)
    _refused(h("report", "rates", "--out", str(hard), "--force"), "--out:", "hard link")
    assert Path(h.db).read_bytes()[:16] == b"SQLite format 3\x00"
    assert h.ok("subject", "show", "P1")["name"] == "张三" and h.ok("audit", "verify")["ok"]


def test_g1_import_reject_file_cannot_be_the_store(hf_sqlite: Huifang, tmp_path: Path) -> None:
    h = hf_sqlite
    h.now = NOW
    f = tmp_path / "p.csv"
    f.write_text("id,name,phone\nP1,张三,13800138000\nP2,李四,call me\n", encoding="utf-8")
    _refused(h("subject", "import", str(f), "--skip-bad", "--reject", h.db, "--force"), "--reject:", "the store's")
    existing = tmp_path / "old.csv"
    existing.write_text("keep\n", encoding="utf-8")
    _refused(h("subject", "import", str(f), "--skip-bad", "--reject", str(existing)), "--reject:", "exists")
    assert existing.read_text(encoding="utf-8") == "keep\n"
    assert h.ok("subject", "import", str(f), "--skip-bad")["imported"] == 1
    assert h.ok("audit", "verify")["ok"]
