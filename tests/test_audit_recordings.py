"""Recordings (G11) and retention (G10): copied into the recordings directory with SHA-256
and size, re-hashed by `audit verify --recordings`, listed by `retention report`, deleted only with an
erased subject."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from huifang.core.audit.keys import sidecar
from huifang.core.store import Store
from tests.audit_kit import DISCHARGE

AUDIO = b"RIFF....WAVEfmt " + bytes(range(256)) * 64


@pytest.fixture
def recorded(hf, tmp_path):
    hf.ok("staff", "add", "n1", "--name", "王护士", "--role", "agent", "--dept", "cardiology")
    hf.ok("subject", "add", "P1", "--name", "张三", "--phone", "13800000001")
    hf.ok("trigger", "discharge", "--subject", "P1", "--id", "D1", *DISCHARGE)
    src = tmp_path / "张三_13800000001.wav"  # names like this are why the original name is not kept
    src.write_bytes(AUDIO)
    a = hf.ok("attempt", "D1-1", "--channel", "phone", "--outcome", "reached", "--recording", str(src), actor="n1",
              now="2026-10-08T15:10+08:00")
    hf.ok("complete", "D1-1", "--answer", "recovery=8", "--answer", "satisfaction=满意", actor="n1",
          now="2026-10-08T15:12+08:00")
    src.unlink()  # the agent's copy may go: the store's copy is what counts
    return hf, a["attempts"][0]["recording"]


def test_g11_recording_is_copied_with_sha256_size_and_location(recorded):
    hf, rec = recorded
    sha = hashlib.sha256(AUDIO).hexdigest()
    assert rec["sha256"] == sha and rec["size"] == len(AUDIO) and rec["file"] == f"{sha[:2]}/{sha}.wav"
    where = sidecar(Store.parse(hf.db), "recordings") / rec["file"]
    assert Path(rec["path"]) == where and where.read_bytes() == AUDIO
    assert "张三" not in str(rec) and "13800000001" not in str(rec)
    r = hf.ok("audit", "verify", "--recordings")
    assert r["ok"] and r["recordings"]["checked"] == 1 and r["recordings"]["problems"] == []


def test_g11_tampered_or_missing_recording_is_reported(recorded):
    hf, rec = recorded
    path = Path(rec["path"])
    path.write_bytes(AUDIO[:-10] + b"0123456789")
    r = hf("audit", "verify", "--recordings")
    assert r.code == 1 and "D1-1 attempt 1" in r.err and "does not match its SHA-256" in r.err
    assert r.data["recordings"]["problems"][0]["kind"] == "changed"
    assert hf.ok("audit", "verify")["ok"]  # the log itself is fine
    path.unlink()
    r = hf("audit", "verify", "--recordings")
    assert r.code == 1 and r.data["recordings"]["problems"][0]["kind"] == "missing"


def test_g10_retention_report_lists_records_and_recordings_by_deadline(recorded):
    hf, _ = recorded
    hf.ok("subject", "add", "P2", "--name", "李四")
    hf.ok("trigger", "discharge", "--subject", "P2", "--id", "D2", *DISCHARGE)  # still open
    r = hf.ok("retention", "report", now="2026-11-23T16:00+08:00")
    s = {(x["plugin"], x["what"]): x for x in r["summary"]}
    assert s[("medical", "records")]["retention_years"] == 3
    assert (s[("medical", "records")]["count"], s[("medical", "records")]["open"]) == (2, 1)
    assert s[("medical", "records")]["inside_retention"] == 1 and s[("medical", "recordings")]["count"] == 1
    months = [(g["held_until"], g["what"], g["count"]) for g in r["by_deadline"]]
    assert ("2029-10", "records", 1) in months and ("2029-10", "recordings", 1) in months
    assert months[-1][0] == "open"
    later = hf.ok("retention", "report", now="2029-10-09T09:00+08:00")
    assert {(x["what"], x["past_retention"]) for x in later["summary"]} == {("records", 1), ("recordings", 1)}


def test_g10_nothing_is_deleted_inside_retention_and_erasure_takes_the_recording(recorded):
    hf, rec = recorded
    path = Path(rec["path"])
    r = hf("subject", "erase", "P1", "--reason", "request")
    assert r.code == 2 and "G10" in r.err and path.exists()
    e = hf.ok("subject", "erase", "P1", "--reason", "request", "--legal-order", "order 7")
    assert e["recordings_deleted"] == 1 and not path.exists()
    v = hf.ok("audit", "verify", "--recordings")
    assert v["ok"] and v["recordings"]["erased"] == 1 and v["recordings"]["problems"] == []
