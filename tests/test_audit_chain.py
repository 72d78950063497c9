"""Tamper evidence (G8, G10): the hash chain and its seals, `audit verify` on SQLite and PostgreSQL
against edits, deletions, swaps and inserts made with a raw SQL client, a chain forged without the
seal key, a truncated tail (anchor), a missing key; `audit export` checked by a standalone verifier."""
from __future__ import annotations

import hashlib
import multiprocessing as mp
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huifang.core.audit import chain
from tests.audit_kit import NAME, PHONE, Raw, ward

ATTEMPT = "huifang:FollowUp.AttemptRecorded"
LATER = "2026-10-09T09:00+08:00"  # after the ward's last record: time never goes back in a store
DOCS = Path(__file__).resolve().parents[1] / "README.md"  # section "For auditors"


@pytest.fixture
def log(hf, store_cache):
    return store_cache(hf, ward)


def broken(hf):
    r = hf("audit", "verify")
    assert r.code == 1, (r.code, r.err)
    assert r.err.startswith("huifang: error: log tampered: first broken position") and r.err.count("\n") == 1
    return r.data, r.err


def test_intact_log_verifies_and_every_record_is_chained_and_sealed(log):
    r = log.ok("audit", "verify")
    raw = Raw(log.db)
    records = raw.records()
    assert r["ok"] is True and r["problems"] == [] and r["first_broken"] is None
    assert r["records"] == r["chained"] == len(records)
    assert r["blocks"] == r["sealed_blocks"] > 0 and r["unsealed_records"] == 0
    assert r["head"]["position"] == records[-1][0]
    # the head is the chain rule applied to the raw rows, nothing else (what a third party recomputes)
    h = chain.GENESIS
    for pos, oid, ver, topic, state in records:
        h = chain.link(h, pos, chain.as_uuid(oid), ver, topic, state)
    assert r["head"]["hash"] == h.hex()
    assert "log intact" in log.ok("audit", "verify", json_out=False)


def test_edited_record_is_reported_with_its_position_and_followup(log):
    raw = Raw(log.db)
    pos = raw.position_of(ATTEMPT)
    raw.set_state(pos, raw.state(pos).replace(b'"reached"', b'"refused"'))
    data, err = broken(log)
    fb = data["first_broken"]
    assert (fb["position"], fb["kind"], fb["followup"], fb["record"]) == (pos, "changed", "D1-1", "followup:D1-1")
    assert f"first broken position {pos} (changed), follow-up D1-1" in err
    assert [p["position"] for p in data["problems"]] == [pos]  # re-synchronised: only the edited record


def test_deleted_record_is_reported(log):
    raw = Raw(log.db)
    pos = raw.position_of(ATTEMPT, 0)
    raw.execute(f"DELETE FROM {raw.events} WHERE {raw.pos} = {pos}")
    data, _ = broken(log)
    fb = data["first_broken"]
    assert (fb["position"], fb["kind"], fb["followup"]) == (pos, "deleted", "D1-1")


def test_swapped_records_are_reported(log):
    raw = Raw(log.db)
    a, b = raw.position_of(ATTEMPT, 0), raw.position_of(ATTEMPT, 1)
    p = raw.pos
    raw.execute(f"UPDATE {raw.events} SET {p} = 1000000 WHERE {p} = {a}",
                f"UPDATE {raw.events} SET {p} = {a} WHERE {p} = {b}",
                f"UPDATE {raw.events} SET {p} = {b} WHERE {p} = 1000000")
    data, _ = broken(log)
    assert [(x["position"], x["kind"]) for x in data["problems"]] == [(a, "moved"), (b, "moved")]
    assert data["first_broken"]["followup"] == "D1-1"


def test_inserted_record_is_reported(log):
    raw = Raw(log.db)
    pos, oid, _ver, topic, state = next(r for r in reversed(raw.records()) if r[3] == ATTEMPT)
    versions = [r[2] for r in raw.records() if r[1] == oid]
    raw.execute(f"INSERT INTO {raw.events} (originator_id, originator_version, topic, state) VALUES "
                f"('{oid}', {max(versions) + 1}, '{topic}', {raw.blob(state)})")
    data, _ = broken(log)
    fb = data["first_broken"]
    assert fb["kind"] == "inserted" and fb["followup"] == "D1-1" and fb["position"] > pos


def test_forged_chain_without_the_key_fails_on_the_seal(log):
    """An attacker edits a record and recomputes every later hash with the published rule: the
    chain is consistent again, but the seals (HMAC under a key they do not have) are not."""
    raw = Raw(log.db)
    pos = raw.position_of(ATTEMPT)
    raw.set_state(pos, raw.state(pos).replace(b'"reached"', b'"refused"'))
    records = {r[0]: r for r in raw.records()}
    blocks = raw.query("SELECT last_position, entries, seal FROM huifang_chain ORDER BY last_position")
    h, statements = chain.GENESIS, []
    for last, entries, _seal in blocks:
        prev = h
        new = bytearray()
        for i in range(0, len(bytes(entries)), chain.ENTRY.size):
            p, _oid, _v, _old = chain.ENTRY.unpack_from(bytes(entries), i)
            _, oid, ver, topic, state = records[p]
            h = chain.link(h, p, chain.as_uuid(oid), ver, topic, state)
            new += chain.ENTRY.pack(p, chain.as_uuid(oid).bytes, ver, h)
        forged_seal = chain.seal(b"attacker guess".ljust(32, b"\0"), last, h)  # no key: a guess
        statements.append(f"UPDATE huifang_chain SET prev_hash = {raw.blob(prev)}, entries = {raw.blob(bytes(new))}, "
                          f"head = {raw.blob(h)}, seal = {raw.blob(forged_seal)} WHERE last_position = {last}")
    raw.execute(*statements)
    data, err = broken(log)
    assert data["first_broken"]["kind"] == "forged"
    assert not any(p["kind"] in ("changed", "moved") for p in data["problems"])  # the hashes themselves agree
    assert data["first_broken"]["position"] <= pos
    assert "seal" in err and "without the seal key" in err


def test_truncated_tail_is_caught_by_a_published_anchor(log):
    head = log.ok("audit", "verify")["head"]
    anchor = f"{head['position']}:{head['hash']}"
    assert log.ok("audit", "verify", "--anchor", anchor)["ok"]
    raw = Raw(log.db)
    last = raw.query("SELECT last_position, first_position FROM huifang_chain ORDER BY last_position DESC")[0]
    raw.execute(f"DELETE FROM {raw.events} WHERE {raw.pos} >= {last[1]}",
                f"DELETE FROM huifang_chain WHERE last_position = {last[0]}")
    # the sealed high-water mark catches the cut even without an anchor (G8; tests/attacks/test_chain_*.py)
    r = log("audit", "verify")
    assert r.code == 1 and r.data["first_broken"]["kind"] == "truncated" and r.data["first_broken"]["position"] == last[1]
    r = log("audit", "verify", "--anchor", anchor)
    assert r.code == 1 and "truncated" in r.err
    assert any(p["kind"] == "anchor" and "truncated" in p["message"] for p in r.data["problems"])
    r = log("audit", "verify", "--anchor", "12:nothex")
    assert r.code == 2 and "--anchor" in r.err


def test_missing_seal_key_is_a_clear_error_and_blocks_writes(log, tmp_path, monkeypatch):
    monkeypatch.setenv("HUIFANG_KEY_DIR", str(tmp_path / "elsewhere"))
    r = log("audit", "verify")
    assert r.code == 2 and "HUIFANG_SEAL_KEY" in r.err and r.err.count("\n") == 1
    before = len(Raw(log.db).records())
    r = log("staff", "add", "x9", "--name", "X", "--role", "agent", now=LATER)
    assert r.code == 2 and "HUIFANG_SEAL_KEY" in r.err and "nothing was written" in r.err
    assert len(Raw(log.db).records()) == before
    assert not (tmp_path / "elsewhere" / "seal.key").exists()  # never silently replaced


def verifier_snippet() -> str:
    text = DOCS.read_text(encoding="utf-8")
    m = re.search(r"<!-- standalone-verifier -->\s*```python\n(.*?)```", text, re.S)
    assert m, "README 'For auditors' lost its standalone verifier"
    return m.group(1)


def test_export_is_checked_by_the_standalone_verifier_from_the_docs(log, tmp_path):
    snippet = verifier_snippet()
    assert len(snippet.strip().splitlines()) <= 20 and "huifang" not in snippet
    out = tmp_path / "log.jsonl"
    info = log.ok("audit", "export", "--from", "2026-10-08", "--to", "2026-10-08", "--out", str(out),
                  "--reason", "regulator request 2026-31", now=LATER)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == info["records"] > 0 and info["first_position"] > 1  # only the period's run
    text = out.read_text(encoding="utf-8")
    assert PHONE not in text and NAME not in text  # personal data stays encrypted in the export
    script = tmp_path / "verify_export.py"
    script.write_text(snippet, encoding="utf-8")
    p = subprocess.run([sys.executable, "-I", str(script), str(out)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert f"{len(lines)} records" in p.stdout and info["head"] in p.stdout
    # one changed character in one record -> the verifier names it
    bad = tmp_path / "bad.jsonl"
    bad.write_text(text.replace('\\"reached\\"', '\\"refused\\"', 1), encoding="utf-8")
    p = subprocess.run([sys.executable, "-I", str(script), str(bad)], capture_output=True, text=True)
    assert p.returncode != 0 and "does not match its hash" in p.stderr
    # the export is itself recorded (who, why, what) and chained
    reads = log.ok("audit", "reads", "--actor", "cli")
    assert reads["log_exports"][-1]["sha256"] == info["sha256"]
    assert reads["log_exports"][-1]["reason"] == "regulator request 2026-31"
    assert log.ok("audit", "verify")["ok"]


def _attempts(db: str, code: str, barrier, n: int) -> None:
    from huifang.core import clock
    from huifang.projections import open_app

    app = open_app(db)
    barrier.wait(timeout=30)
    try:
        for _ in range(n):
            with clock.at(clock.parse_instant("2026-10-16T10:10+08:00")):  # one instant: never back in time
                app.record_attempt(code, "phone", "busy", actor="n1")
    finally:
        app.close()


@pytest.mark.slow  # two real writer processes
def test_concurrent_writers_keep_the_chain_whole(log):
    log.ok("subject", "add", "P2", "--name", "李四", now=LATER)
    log.ok("trigger", "discharge", "--subject", "P2", "--id", "D2", *["--attr", "department=cardiology",
           "--attr", "diagnosis=CHD", "--attr", "responsible_nurse=n1", "--attr", "attending_doctor=dr1"], now=LATER)
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_attempts, args=(log.db, code, barrier, 8)) for code in ("D2-1", "D2-1")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert all(p.exitcode == 0 for p in procs)
    r = log.ok("audit", "verify")
    assert r["ok"] and r["records"] == r["chained"] == len(Raw(log.db).records())
    assert len(log.ok("show", "D2-1")["attempts"]) == 16


@settings(max_examples=200, deadline=None)
@given(prev=st.binary(min_size=32, max_size=32), position=st.integers(0, 2**63), oid=st.uuids(),
       version=st.integers(0, 2**63), topic=st.text(max_size=40), state=st.binary(max_size=3000),
       view=st.booleans())
def test_a_link_is_sha256_of_the_previous_hash_and_the_canonical_record(prev, position, oid, version, topic, state,
                                                                         view):
    """h_n = SHA-256(h_{n-1} || canonical(record_n)), whichever way link() feeds it (the standalone
    verifier in the docs computes it so); a state read as a memoryview links as its bytes."""
    expected = hashlib.sha256(prev + chain.canonical(position, oid, version, topic, state)).digest()
    assert chain.link(prev, position, oid, version, topic, memoryview(state) if view else state) == expected
