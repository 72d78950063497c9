"""PII at rest and erasure (G8): per-subject AES-GCM, no plaintext in the raw store, reports that
never need the plaintext, crypto-shredding with the G10 retention check, key handling."""
from __future__ import annotations

import json

import pytest

from tests.audit_kit import ADDRESS, EMAIL, NAME, NOTE, PHONE, SUGGESTION, Raw, ward

SECRETS = [NAME, PHONE, EMAIL, ADDRESS, NOTE, SUGGESTION]
AFTER_RETENTION = "2029-10-09T09:00+08:00"  # D1-1 closed 2026-10-08; medical keeps records 3 years (G10)


@pytest.fixture
def p1(hf, store_cache):
    return store_cache(hf, ward)


def forms(text: str) -> list[bytes]:
    """The ways a value could sit in the bytes: UTF-8, JSON \\u-escaped, UTF-16 (nothing escapes us)."""
    return [text.encode("utf-8"), json.dumps(text).strip('"').encode("ascii"), text.encode("utf-16-le")]


def test_raw_store_shows_no_name_phone_or_free_text(p1):
    p1.ok("ticket", "open", "D1-1", "--category", "care", "--dept", "cardiology", "--note", f"{NAME} 来电 {PHONE}",
          actor="n1", now="2026-10-08T15:20+08:00")
    p1.ok("ticket", "resolve", "TK-D1-1-1", "--note", f"已回电 {PHONE}", now="2026-10-08T16:00+08:00")
    raw = Raw(p1.db).dump()
    assert len(raw) > 3_000
    for secret in SECRETS:
        for form in forms(secret):
            assert form not in raw, f"{secret!r} found in the raw store"
    assert b"pii:1:P1:" in raw  # what is there instead


def test_personal_data_reads_back_for_whoever_may_read_it(p1):
    s = p1.ok("subject", "show", "P1")
    assert (s["name"], s["phones"], s["email"], s["attributes"]["address"]) == (NAME, [PHONE], EMAIL, ADDRESS)
    fu = p1.ok("show", "D1-1")
    assert fu["attempts"][1]["note"] == NOTE and fu["answers"]["suggestion"] == SUGGESTION
    h = p1.ok("history", "P1")
    assert h["events"][0]["data"]["name"] == NAME


def test_statistics_use_plain_structured_answers(p1):
    from huifang.projections import open_app

    app = open_app(p1.db)
    try:
        app.projector.catch_up()
        with app.projector.engine.connect() as c:
            row = c.exec_driver_sql("SELECT satisfaction, answers FROM followups WHERE code = 'D1-1'").one()
    finally:
        app.close()
    answers = row[1] if isinstance(row[1], dict) else json.loads(row[1])
    assert row[0] == "满意" and answers["recovery"] == 8 and answers["satisfaction"] == "满意"
    assert answers["suggestion"].startswith("pii:1:P1:")  # free text: encrypted even in the view


def reports(hf):
    out = {}
    for kind in ("rates", "satisfaction", "lost", "opinions", "monthly"):
        r = hf("report", kind, "--from", "2026-09-01", "--to", "2026-12-31", "--format", "json", json_out=False)
        assert r.code == 0, r.err
        doc = json.loads(r.out)
        doc.pop("generated_at", None)
        out[kind] = without_text(doc)
    return out


def without_text(doc):
    """Reports minus the free text of opinions (that is what erasure removes); every figure stays."""
    if isinstance(doc, dict):
        return {k: without_text(v) for k, v in doc.items() if k != "text"}
    if isinstance(doc, list):
        return [without_text(v) for v in doc]
    return doc


def test_g10_erasure_inside_retention_needs_a_legal_order_and_changes_no_count(p1):
    before = reports(p1)
    r = p1("subject", "erase", "P1", "--reason", "request 2026-044")
    assert r.code == 2 and "G10" in r.err and "2029-10-08" in r.err and "--legal-order" in r.err
    e = p1.ok("subject", "erase", "P1", "--reason", "request 2026-044", "--legal-order", "(2026)京0108民初17号")
    assert e["inside_retention"] is True and e["legal_order"] == "(2026)京0108民初17号"
    s = p1.ok("subject", "show", "P1")
    assert s["name"] == "[erased]" and s["phones"] == ["[erased]"] and s["attributes"]["address"] == "[erased]"
    assert s["email"] == "[erased]" and s["erased"] is True
    fu = p1.ok("show", "D1-1")
    assert fu["attempts"][1]["note"] == "[erased]" and fu["answers"]["suggestion"] == "[erased]"
    assert fu["answers"]["satisfaction"] == "满意" and fu["status"] == "completed"  # structure is kept
    after = reports(p1)
    for kind in before:  # every count and rate the same (an opinion keeps its row; its text is erased)
        assert after[kind] == before[kind], kind
    assert before["opinions"]["rows"] and len(after["opinions"]["rows"]) == len(before["opinions"]["rows"])
    assert p1.ok("audit", "verify")["ok"]  # nothing in the log was edited
    erased = [x for x in p1.ok("history", "P1")["events"] if x["event"] == "Erased"]
    # G8: the reason and the order may name the person: sealed under the key destroyed with them
    assert erased[0]["data"]["legal_order"] == "[erased]" and erased[0]["data"]["reason"] == "[erased]"
    assert erased[0]["data"]["retention_until"].startswith("2029-10-08")  # inside retention: visible
    raw = Raw(p1.db)
    for secret in ("(2026)京0108民初17号", "request 2026-044"):
        assert not any(form in raw.dump() for form in forms(secret))
    assert raw.query("SELECT wrapped, erased FROM huifang_keys WHERE subject = 'P1'") == [(None, 1)]
    r = p1("subject", "erase", "P1", "--reason", "again", "--legal-order", "x")
    assert r.code == 2 and "already erased" in r.err
    r = p1("trigger", "discharge", "--subject", "P1", "--id", "D9", "--attr", "department=cardiology",
           "--attr", "diagnosis=CHD", "--attr", "responsible_nurse=n1", "--attr", "attending_doctor=dr1")
    assert r.code == 2 and "erased" in r.err


def test_g10_erasure_after_retention_needs_no_order_and_open_followups_block_it(p1):
    p1.ok("subject", "add", "P2", "--name", "李四", "--phone", "13900000002")
    p1.ok("trigger", "discharge", "--subject", "P2", "--id", "D2", "--attr", "department=cardiology",
          "--attr", "diagnosis=CHD", "--attr", "responsible_nurse=n1", "--attr", "attending_doctor=dr1")
    r = p1("subject", "erase", "P2", "--reason", "request")
    assert r.code == 2 and "open follow-ups (D2-1)" in r.err
    e = p1.ok("subject", "erase", "P1", "--reason", "request 2029-001", now=AFTER_RETENTION)
    assert e["inside_retention"] is False and e["legal_order"] is None
    assert p1.ok("subject", "show", "P1", now=AFTER_RETENTION)["name"] == "[erased]"
    assert p1.ok("subject", "show", "P2", now=AFTER_RETENTION)["name"] == "李四"  # other subjects untouched


def test_g10_retention_years_come_from_the_plugin_settings(p1, tmp_path):
    cfg = tmp_path / "huifang.toml"
    cfg.write_text("[plugins.medical]\nretention_years = 2\n", encoding="utf-8")
    r = p1("subject", "erase", "P1", "--reason", "r", config=str(cfg), now="2028-10-07T09:00+08:00")
    assert r.code == 2 and "2028-10-08" in r.err and "medical 2 years" in r.err
    assert p1.ok("subject", "erase", "P1", "--reason", "r", config=str(cfg), now="2028-10-09T09:00+08:00")["erased"]


def test_keys_are_files_beside_the_store_never_in_it(hf_sqlite):
    from pathlib import Path

    keys = Path(hf_sqlite.db + ".keys")
    assert sorted(p.name for p in keys.iterdir()) == ["master.key", "seal.key"]
    assert all(p.stat().st_mode & 0o077 == 0 for p in keys.iterdir())
    ward(hf_sqlite)
    raw = Raw(hf_sqlite.db).dump()
    for p in keys.iterdir():
        import base64

        key = base64.b64decode(p.read_text())
        assert key not in raw and p.read_text().strip().encode() not in raw


def test_without_the_master_key_nothing_is_readable_or_writable(p1, tmp_path, monkeypatch):
    from huifang.core.audit.keys import sidecar
    from huifang.core.store import Store

    seal = (sidecar(Store.parse(p1.db), "keys") / "seal.key").read_text().strip()
    monkeypatch.setenv("HUIFANG_KEY_DIR", str(tmp_path / "nokeys"))
    monkeypatch.setenv("HUIFANG_SEAL_KEY", seal)  # an auditor's machine: the seal key only
    s = p1.ok("subject", "show", "P1")
    assert s["name"] == "[encrypted]" and s["phones"] == ["[encrypted]"]
    assert p1.ok("audit", "verify")["ok"]
    r = p1("subject", "add", "P3", "--name", "王五")
    assert r.code == 2 and "HUIFANG_KEY" in r.err and r.err.count("\n") == 1
    monkeypatch.setenv("HUIFANG_KEY", "00" * 32)  # a wrong key does not open anything
    r = p1("subject", "show", "P1")
    assert r.code == 2 and "does not open the data keys" in r.err
