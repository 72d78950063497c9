"""Tamper evidence without the seal key (G8, G10): raw-SQL attacks on the chained log, its sealed
high-water mark and the data-key table, made as someone with write access to the database but not
the seal key would make them — Python's sqlite3 module on the SQLite file, the `psql` binary on
PostgreSQL — each followed by what huifang does next (`audit verify`, an ordinary or refused write).

Every test here passed the attack on the code before the high-water mark: verify said "log intact"
(or the next write adopted and sealed the forgery)."""
from __future__ import annotations

import glob
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from huifang.core.audit import chain
from huifang.core.domain.base import aggregate_uuid
from tests.audit_kit import NAME, Raw, ward

LATER = "2026-10-09T09:00+08:00"  # after the ward's last record (records never go back in time)
STAFF = "huifang:Staff.Registered"


@pytest.fixture(autouse=True)
def psql_binary(monkeypatch: pytest.MonkeyPatch) -> None:
    """Raw SQL on PostgreSQL goes through the real `psql` client (tests/audit_kit.Raw uses it when
    it is on PATH): put the server's own client there when the system has none."""
    if shutil.which("psql") is None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))
        if found:
            monkeypatch.setenv("PATH", str(Path(found[-1]).parent) + os.pathsep + os.environ.get("PATH", ""))


class Attacker(Raw):
    """The store through a database client, plus what an attacker who read chain.py can compute."""

    def has_table(self, name: str) -> bool:
        if self.pg:
            return bool(self.query(f"SELECT 1 FROM information_schema.tables WHERE table_name = '{name}' "
                                   f"AND table_schema = current_schema()"))
        return bool(self.query(f"SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '{name}'"))

    def blocks(self) -> list[tuple[int, int, bytes, bytes]]:
        return [(r[0], r[1], bytes(r[2]), bytes(r[3])) for r in self.query(
            "SELECT last_position, first_position, entries, head FROM huifang_chain ORDER BY last_position")]

    def count(self, table: str) -> int:
        return int(self.query(f"SELECT count(*) FROM {table}")[0][0])

    def oid_literal(self, oid: Any) -> str:
        return f"'{oid}'" if self.pg else f"'{oid.hex}'"

    def seal_sql(self, seal: bytes | None) -> str:
        return "NULL" if seal is None else self.blob(seal)

    def rechain(self, seal: bytes | None, key: bytes | None = None) -> None:
        """Recompute every hash from the stored records (after an edit) and give every block — and the
        high-water mark, where there is one — `seal` (NULL, empty, or a guess), or, for an attacker
        who stole it, real seals under `key`."""
        records = {r[0]: r for r in self.records()}
        ops = dict(self.query("SELECT last_position, key_ops FROM huifang_chain")) if key else {}
        h, statements = chain.GENESIS, []
        for last, _first, entries, _head in self.blocks():
            prev, new = h, bytearray()
            for i in range(0, len(entries), chain.ENTRY.size):
                p = chain.ENTRY.unpack_from(entries, i)[0]
                _, oid, ver, topic, state = records[p]
                h = chain.link(h, p, chain.as_uuid(oid), ver, topic, state)
                new += chain.ENTRY.pack(p, chain.as_uuid(oid).bytes, ver, h)
            if key:
                seal = chain.seal(key, last, h, bytes(ops[last]))
            statements.append(f"UPDATE huifang_chain SET prev_hash = {self.blob(prev)}, entries = "
                              f"{self.blob(bytes(new))}, head = {self.blob(h)}, seal = {self.seal_sql(seal)} "
                              f"WHERE last_position = {last}")
        if self.has_table("huifang_head"):
            if key:
                n, on = self.query("SELECT records, enforced FROM huifang_head")[0]
                seal = chain.head_seal(key, self.blocks()[-1][0], h, n, bool(on))
            statements.append(f"UPDATE huifang_head SET head = {self.blob(h)}, seal = {self.seal_sql(seal)}")
        self.execute(*statements)

    def append_admin(self, code: str = "mallory") -> int:
        """Append a forged `Staff.Registered` of a new admin with a correctly linked, unsealed block
        (and the high-water mark moved over it, unsealed, where there is one). Returns its position."""
        template = next(r for r in self.records() if r[3] == STAFF)
        state = json.loads(template[4])
        state.update(code=code, name="Mallory", role="admin", dept=None, reports_to=None, actor="cli")
        data = json.dumps(state, separators=(",", ":")).encode()
        oid = aggregate_uuid("staff", code)
        self.execute(f"INSERT INTO {self.events} (originator_id, originator_version, topic, state) VALUES "
                     f"({self.oid_literal(oid)}, 1, '{STAFF}', {self.blob(data)})")
        pos = self.records()[-1][0]
        prev = self.blocks()[-1][3]
        h = chain.link(prev, pos, oid, 1, STAFF, data)
        statements = [f"INSERT INTO huifang_chain (last_position, first_position, prev_hash, entries, head, seal) "
                      f"VALUES ({pos}, {pos}, {self.blob(prev)}, {self.blob(chain.ENTRY.pack(pos, oid.bytes, 1, h))}, "
                      f"{self.blob(h)}, NULL)"]
        if self.has_table("huifang_head"):
            statements.append(f"UPDATE huifang_head SET last_position = {pos}, head = {self.blob(h)}, "
                              f"records = records + 1, seal = NULL")
        self.execute(*statements)
        return pos

    def cut_last_block(self) -> int:
        """Delete the newest command: its records and its chain block. Returns its first position."""
        last, first, _entries, _head = self.blocks()[-1]
        self.execute(f"DELETE FROM {self.events} WHERE {self.pos} >= {first}",
                     f"DELETE FROM huifang_chain WHERE last_position = {last}")
        return first


def tampered(hf: Any) -> tuple[dict[str, Any], str]:
    r = hf("audit", "verify")
    assert r.code == 1, (r.code, r.out[:300], r.err)
    assert r.err.startswith("huifang: error: log tampered: first broken position") and r.err.count("\n") == 1
    return r.data, r.err


def refused_as_damaged(r: Any) -> None:
    assert r.code == 2, (r.code, r.err)
    assert "the audit chain is damaged" in r.err and "huifang audit verify" in r.err, r.err


@pytest.fixture
def log(hf: Any, store_cache: Any) -> Any:
    return store_cache(hf, ward)


# -- unsealed blocks -----------------------------------------------------------------------------------
@pytest.mark.parametrize("seal", [None, b""], ids=["null", "empty"])
def test_g8_unsealed_blocks_fail_verify_with_their_position(log, seal):
    """Attack: edit a record (an attempt 'reached' -> 'refused'), recompute the whole hash chain with
    the published rule and set every seal to NULL (or empty): verify used to print a note and exit 0."""
    raw = Attacker(log.db)
    pos = raw.position_of("huifang:FollowUp.AttemptRecorded")
    raw.set_state(pos, raw.state(pos).replace(b'"reached"', b'"refused"'))
    raw.rechain(seal)
    data, err = tampered(log)
    first = raw.blocks()[0][1]
    assert data["first_broken"]["kind"] == "unsealed" and data["first_broken"]["position"] == first
    assert f"first broken position {first} (unsealed)" in err
    assert data["sealed_blocks"] == 0 and data["unsealed_blocks"] == len(raw.blocks())
    assert "log intact" not in log("audit", "verify", json_out=False).out


def test_g8_forged_admin_in_an_unsealed_block_is_reported_as_an_unsealed_tail(log):
    """Attack: append a new admin's `Staff.Registered` with a correctly linked but unsealed chain block
    (and move the high-water mark over it): verify used to say "log intact" with a note."""
    raw = Attacker(log.db)
    pos = Attacker(log.db).append_admin()
    data, err = tampered(log)
    fb = data["first_broken"]
    assert (fb["position"], fb["kind"]) == (pos, "unsealed")
    assert f"unsealed tail of 1 records (positions {pos}..{pos}), written since 2026-09-28" in fb["message"]
    assert f"first broken position {pos} (unsealed)" in err
    # and no writer builds on it: the forged block is never sealed by a later command
    before = len(raw.records())
    refused_as_damaged(log("staff", "add", "x9", "--name", "X", "--role", "agent", now=LATER))
    assert len(raw.records()) == before


def test_g8_summary_counts_only_seals_it_checked(log):
    """Attack: NULL the seal of one block in the middle. The old summary counted every block as
    "sealed" (and passed); it now names the block and counts only the seals it checked."""
    raw = Attacker(log.db)
    intact = log("audit", "verify", json_out=False).out
    n = len(raw.blocks())
    assert f"{n} of {n} blocks sealed and checked" in intact
    last, first, _, _ = raw.blocks()[n // 2]
    raw.execute(f"UPDATE huifang_chain SET seal = NULL WHERE last_position = {last}")
    data, _ = tampered(log)
    assert (data["first_broken"]["position"], data["first_broken"]["kind"]) == (first, "unsealed")
    assert data["sealed_blocks"] == n - 1 and data["blocks"] == n
    assert f"{n} sealed blocks" not in log("audit", "verify", json_out=False).out


# -- writers never adopt what they did not chain ---------------------------------------------------------
@pytest.mark.parametrize("damage", ["chain deleted", "last block deleted"])
@pytest.mark.parametrize("write", ["ordinary", "refused"])
def test_g8_damaged_chain_is_a_hard_error_for_writers(log, damage, write):
    """Attack: `DELETE FROM huifang_chain` (or only its newest block), then any write — even one that
    is refused and only records the refusal. The next block used to adopt and seal every record,
    laundering whatever had been forged before; now the write fails and nothing is written."""
    log.ok("staff", "add", "au", "--name", "审计", "--role", "auditor", now=LATER)
    raw = Attacker(log.db)
    if damage == "chain deleted":
        raw.execute("DELETE FROM huifang_chain")
    else:
        raw.execute(f"DELETE FROM huifang_chain WHERE last_position = {raw.blocks()[-1][0]}")
    records, blocks = len(raw.records()), raw.count("huifang_chain")
    if write == "ordinary":
        r = log("staff", "add", "x9", "--name", "X", "--role", "agent", now=LATER)
        refused_as_damaged(r)
    else:  # an auditor's change is refused and the refusal is recorded (a write of its own)
        refused_as_damaged(log("subject", "add", "P7", "--name", "某人", actor="au", now=LATER))
    assert len(raw.records()) == records and raw.count("huifang_chain") == blocks
    data, _ = tampered(log)
    assert data["first_broken"]["kind"] in ("inserted", "truncated")


# -- the sealed high-water mark -------------------------------------------------------------------------
@pytest.mark.parametrize("mark", ["kept", "deleted", "rewritten"])
def test_g8_cut_tail_is_caught_without_an_anchor(log, mark):
    """Attack: delete the newest command's records together with their chain block (and delete or
    rewrite the high-water mark to match, without the key). A shorter log used to verify as intact
    unless an anchor had been published."""
    raw = Attacker(log.db)
    head = log.ok("audit", "verify")["head"]["position"]
    first = raw.cut_last_block()
    if mark == "deleted" and raw.has_table("huifang_head"):
        raw.execute("DELETE FROM huifang_head")
    elif mark == "rewritten" and raw.has_table("huifang_head"):
        last, _, _, h = raw.blocks()[-1]
        guess = chain.head_seal(b"attacker guess".ljust(32, b"\0"), last, h, len(raw.records()), False)
        raw.execute(f"UPDATE huifang_head SET last_position = {last}, head = {raw.blob(h)}, "
                    f"records = {len(raw.records())}, seal = {raw.blob(guess)}")
    data, _ = tampered(log)
    fb = data["first_broken"]
    if mark == "rewritten":
        assert fb["kind"] == "forged" and "high-water mark" in fb["message"]
    else:
        assert (fb["position"], fb["kind"]) == (first, "truncated"), fb
        if mark == "kept":
            assert f"up to position {head}" in fb["message"]
    refused_as_damaged(log("staff", "add", "x9", "--name", "X", "--role", "agent", now=LATER))


def test_g8_published_head_catches_an_attacker_who_holds_the_seal_key(log):
    """The limit of sealing, and the anchor procedure for it: someone who also stole the seal key
    can rewrite history and reseal every block and the high-water mark, and verify alone cannot
    tell; a head published earlier (`audit head`, e.g. daily) still exposes the rewrite."""
    from huifang.core.audit import keys
    from huifang.core.store import Store

    published = log("audit", "head", json_out=False)
    assert published.code == 0, published.err
    anchor = published.out.strip()
    head = log.ok("audit", "verify")["head"]
    assert anchor == f"{head['position']}:{head['hash']}" and log.ok("audit", "head")["ok"]
    raw = Attacker(log.db)
    pos = raw.position_of("huifang:FollowUp.AttemptRecorded")
    raw.set_state(pos, raw.state(pos).replace(b'"reached"', b'"refused"'))
    stolen = keys.load(keys.SEAL, keys.sidecar(Store.parse(log.db), "keys"), create=False)
    assert stolen is not None
    raw.rechain(None, key=stolen)
    assert log.ok("audit", "verify")["ok"]  # resealed with the real key: only an anchor can tell
    r = log("audit", "verify", "--anchor", anchor)
    assert r.code == 1 and r.data["first_broken"]["kind"] == "anchor"
    # a cut tail, by contrast, is caught by `audit head` too (the mark no longer matches the chain)
    raw.cut_last_block()
    r = log("audit", "head")
    assert r.code == 1 and "audit verify" in r.err


@pytest.mark.parametrize("mark", ["kept", "deleted"])
def test_g8_cutting_the_access_policy_does_not_switch_access_control_off(log, mark):
    """Attack: the last command registered the first admin (which switches access control on for
    good); cutting it off the log used to put the store back into setup mode, where anyone — `cli`
    without --as — reads a patient's file."""
    log.ok("staff", "add", "adm", "--name", "管理员", "--role", "admin", now=LATER)
    assert log.ok("audit", "verify")["access_control"] == "enforced"
    raw = Attacker(log.db)
    raw.cut_last_block()
    assert "huifang:AccessPolicy.Enforced" not in {r[3] for r in raw.records()}
    if mark == "deleted" and raw.has_table("huifang_head"):
        raw.execute("DELETE FROM huifang_head")
    data, _ = tampered(log)
    assert data["first_broken"]["kind"] == "truncated"
    assert data["access_control"] == "enforced"
    r = log("subject", "show", "P1", "--reason", "curious", now=LATER)
    assert r.code == 2 and NAME not in r.out, (r.code, r.out[:200])


# -- the data-key table -----------------------------------------------------------------------------------
def _keys(raw: Attacker, subject: str) -> tuple[Any, Any]:
    row = raw.query(f"SELECT wrapped, erased FROM huifang_keys WHERE subject = '{subject}'")[0]
    return (bytes(row[0]) if row[0] is not None else None), row[1]


def test_g10_deleted_key_row_is_detected(log):
    """Attack: `DELETE FROM huifang_keys WHERE subject = 'P1'` silently erased P1 (no erasure record,
    no refusal) and verify stayed intact."""
    raw = Attacker(log.db)
    raw.execute("DELETE FROM huifang_keys WHERE subject = 'P1'")
    data, err = tampered(log)
    fb = data["first_broken"]
    assert fb["kind"] == "key" and "P1" in fb["message"] and "deleted" in fb["message"]
    assert "(key)" in err


def test_g10_key_destroyed_without_an_erasure_is_detected(log):
    """Attack: `UPDATE huifang_keys SET wrapped = NULL, erased = 1` — an erasure nobody recorded."""
    Attacker(log.db).execute("UPDATE huifang_keys SET wrapped = NULL, erased = 1 WHERE subject = 'P1'")
    data, _ = tampered(log)
    assert data["first_broken"]["kind"] == "key" and "without an erasure record" in data["first_broken"]["message"]


def test_g10_swapped_key_rows_are_detected(log):
    """Attack: swap the wrapped data keys of two subjects."""
    log.ok("subject", "add", "P2", "--name", "李四", "--phone", "13900000002", now=LATER)
    raw = Attacker(log.db)
    k1, k2 = _keys(raw, "P1")[0], _keys(raw, "P2")[0]
    raw.execute(f"UPDATE huifang_keys SET wrapped = {raw.blob(k2)} WHERE subject = 'P1'",
                f"UPDATE huifang_keys SET wrapped = {raw.blob(k1)} WHERE subject = 'P2'")
    data, _ = tampered(log)
    swapped = [p["message"] for p in data["problems"] if p["kind"] == "key" and "swapped" in p["message"]]
    assert len(swapped) == 2 and any("P1" in m for m in swapped) and any("P2" in m for m in swapped)


def test_g10_restored_key_row_un_erases_nobody(log):
    """Attack: keep a copy of a subject's key row, let them be erased (crypto-shredding), then write
    the row back: the subject's personal data became readable again with verify intact."""
    log.ok("subject", "add", "P9", "--name", "王九", "--phone", "13900000009", now=LATER)
    raw = Attacker(log.db)
    saved = _keys(raw, "P9")[0]
    assert saved is not None
    log.ok("subject", "erase", "P9", "--reason", "erasure request 2026-77", now=LATER)
    assert _keys(raw, "P9") == (None, 1)
    assert log.ok("audit", "verify")["ok"]
    raw.execute(f"UPDATE huifang_keys SET wrapped = {raw.blob(saved)}, erased = 0 WHERE subject = 'P9'")
    data, _ = tampered(log)
    fb = data["first_broken"]
    assert fb["kind"] == "key" and "P9" in fb["message"] and "erasure was undone" in fb["message"]
    # deleting the erased row altogether is caught too
    raw.execute("DELETE FROM huifang_keys WHERE subject = 'P9'")
    data, _ = tampered(log)
    assert any(p["kind"] == "key" and "P9" in p["message"] for p in data["problems"])


def test_g10_key_rows_of_a_bulk_import_are_sealed_with_their_block(log, tmp_path):
    """Attack: delete one of many key rows written by one bulk-import transaction (one block with
    many key changes): it is named, the others are not."""
    f = tmp_path / "subjects.csv"
    f.write_text("id,name,phone\n" + "".join(f"S{i},病人{i},139000000{i:02d}\n" for i in range(12)), encoding="utf-8")
    assert log.ok("subject", "import", str(f), "--batch", "50", now=LATER)["imported"] == 12
    ok = log.ok("audit", "verify")
    assert ok["ok"] and ok["keys"] == 13
    Attacker(log.db).execute("DELETE FROM huifang_keys WHERE subject = 'S7'")
    data, _ = tampered(log)
    assert len(data["problems"]) == 1 and "subject S7 " in data["problems"][0]["message"]


def test_g8_a_long_running_writer_sees_damage_done_between_its_writes(log):
    """Attack: while one process keeps writing (a worker, a bulk import), delete the newest chain block
    with a database client between two of its writes: its next write must fail like any other."""
    from huifang.core import clock
    from huifang.core.errors import HuifangError
    from huifang.projections import open_app

    app = open_app(log.db)
    try:
        with clock.at(clock.parse_instant(LATER)):
            app.add_staff("w1", "工一", "agent", "cardiology", None, "cli")
            app.add_staff("w2", "工二", "agent", "cardiology", None, "cli")
            raw = Attacker(log.db)
            raw.execute(f"DELETE FROM huifang_chain WHERE last_position = {raw.blocks()[-1][0]}")
            before = len(raw.records())
            with pytest.raises(HuifangError, match="the audit chain is damaged"):
                app.add_staff("w3", "工三", "agent", "cardiology", None, "cli")
            assert len(raw.records()) == before
    finally:
        app.close()
