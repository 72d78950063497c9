"""`huifang audit verify`: re-read the whole log and prove nothing was edited, deleted, reordered or
inserted since it was written (G8, G10). Reads only; changes nothing.

The check walks `stored_events` in position order next to the chain's entries:
- a record whose recomputed hash differs from its chained hash was edited, swapped or moved;
- a chained position with no record was deleted; a record with no chain entry was inserted by
  something other than huifang (every huifang write chains its records in the same transaction);
- every block must link to the one before it and carry a valid seal (HMAC under the seal key): a
  chain recomputed by someone without the key fails here ("forged");
- with `--anchor POSITION:HASH` (a head published earlier) the chain must still contain it, which
  also catches a truncated tail.
After a mismatch the walk re-synchronises on the stored hash, so every damaged record is listed, not
only the first.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

from ..errors import HuifangError
from . import keys
from .chain import GENESIS, as_bytes, as_uuid, link, seal_ok
from .recordings import describe, verify_recordings

BATCH = 1000
MAX_PROBLEMS = 200


def _records(app: Any) -> Iterator[tuple[int, UUID, int, str, bytes]]:
    start = 1
    while True:
        notes = app.recorder.select_notifications(start=start, limit=BATCH)
        if not notes:
            return
        for n in notes:
            yield n.id, as_uuid(n.originator_id), n.originator_version, n.topic, as_bytes(n.state)
        start = notes[-1].id + 1


def verify(app: Any, recordings: bool = False, anchor: str | None = None) -> dict[str, Any]:
    directory = keys.key_dir(app.store, app.config)
    key = keys.load(keys.SEAL, directory, create=False)
    problems: list[dict[str, Any]] = []
    stats = {"records": 0, "chained": 0, "blocks": 0, "sealed_blocks": 0, "unsealed_records": 0}
    anchor_pos, anchor_hash = _parse_anchor(anchor)
    anchor_seen = False

    def problem(position: int, kind: str, message: str, oid: UUID | None = None, version: int | None = None) -> None:
        if len(problems) >= MAX_PROBLEMS:
            return
        p: dict[str, Any] = {"position": position, "kind": kind, "message": message}
        if oid is not None:
            p.update(describe(app, oid))
            p["version"] = version
        problems.append(p)

    def entries() -> Iterator[tuple[Any, Any]]:
        prev_head, prev_last = GENESIS, 0
        for b in app.recorder.iter_blocks():
            stats["blocks"] += 1
            items = b.items()
            first_pos = items[0].position if items else b.last_position
            if not items or b.first_position != first_pos or b.last_position != items[-1].position \
                    or b.head != items[-1].hash:
                problem(first_pos, "chain", f"chain block {b.first_position}..{b.last_position} is malformed "
                                            f"(the chain table was edited)")
            elif b.prev_hash != prev_head or first_pos <= prev_last:
                problem(first_pos, "deleted", f"records before position {first_pos} are missing: the chain "
                                              f"block {b.first_position}..{b.last_position} does not follow "
                                              f"the one ending at {prev_last} (a whole command's records "
                                              f"and their chain block were deleted or reordered)")
            if b.seal is None:
                stats["unsealed_records"] += len(items)
            elif key is None:
                pass
            elif seal_ok(key, b.last_position, b.head, b.seal):
                stats["sealed_blocks"] += 1
            else:
                problem(first_pos, "forged", f"the seal of records {b.first_position}..{b.last_position} does "
                                             f"not match: the chain was recomputed without the seal key "
                                             f"(a record in that range was changed)")
            prev_head, prev_last = b.head, b.last_position
            for e in items:
                yield e, b

    recs = _records(app)
    ents = entries()
    r = next(recs, None)
    e = next(ents, None)
    h = GENESIS
    last_chained = 0
    while r is not None or e is not None:
        if e is not None:
            last_chained = max(last_chained, e[0].position)
        if e is None or (r is not None and r[0] < e[0].position):
            assert r is not None  # the loop runs while one of them is left
            stats["records"] += 1
            pos, oid, ver = r[0], r[1], r[2]
            where = "after the last chained record" if e is None else "between chained records"
            problem(pos, "inserted", f"record {pos} is not in the chain ({where}): it was written by "
                                     f"something other than huifang", oid, ver)
            r = next(recs, None)
            continue
        entry, _block = e
        stats["chained"] += 1
        if r is None or entry.position < r[0]:
            problem(entry.position, "deleted", f"record {entry.position} was deleted", entry.originator_id,
                    entry.version)
            h = entry.hash
            e = next(ents, None)
            continue
        stats["records"] += 1
        pos, oid, ver, topic, state = r
        computed = link(h, pos, oid, ver, topic, state)
        if computed != entry.hash:
            if (oid, ver) != (entry.originator_id, entry.version):
                problem(pos, "moved", f"record {pos} is not the record chained there (event {ver} of another "
                                      f"record: rows were swapped, reordered or replaced)", entry.originator_id,
                        entry.version)
            else:
                problem(pos, "changed", f"record {pos} was changed after it was written", oid, ver)
            h = entry.hash
        else:
            h = computed
        if anchor_pos is not None and pos == anchor_pos:
            anchor_seen = True
            if h.hex() != anchor_hash:
                problem(pos, "anchor", f"the chain at position {pos} is not the published anchor "
                                       f"{anchor_hash[:16]}…: history before it was rewritten")
        r = next(recs, None)
        e = next(ents, None)
    if anchor_pos is not None and not anchor_seen:
        problem(anchor_pos, "anchor", f"the published anchor position {anchor_pos} is no longer in the log "
                                      f"(the log was truncated)")
    if key is None and stats["blocks"] and stats["unsealed_records"] < stats["chained"]:
        raise keys.missing(keys.SEAL, directory, "the seals cannot be checked without it")
    problems.sort(key=lambda p: p["position"])
    head = {"position": last_chained, "hash": h.hex()} if last_chained else None
    out: dict[str, Any] = {
        "ok": not problems, **stats, "head": head, "problems": problems,
        "first_broken": problems[0] if problems else None,
        "access_control": "enforced" if app.access.enforced() else "setup mode (no admin registered)",
    }
    if stats["unsealed_records"]:
        out["note"] = (f"{stats['unsealed_records']} record(s) were chained without a seal key (written by a "
                       f"process that had none): their order and content are chained but not sealed")
    if recordings:
        out["recordings"] = verify_recordings(app)
        if out["recordings"]["problems"]:
            out["ok"] = False
    return out


def _parse_anchor(anchor: str | None) -> tuple[int | None, str]:
    if not anchor:
        return None, ""
    pos, sep, h = anchor.partition(":")
    if not sep or not pos.strip().isdigit() or len(h.strip()) != 64:
        raise HuifangError(f"'{anchor}' is not POSITION:HASH (the head printed by an earlier verify)", field="anchor")
    return int(pos), h.strip().lower()


def summary(report: dict[str, Any]) -> str:
    lines = []
    head = report["head"]
    if report["ok"]:
        lines.append(f"log intact: {report['records']} records, {report['blocks']} sealed blocks"
                     + (f"; head {head['position']}:{head['hash']}" if head else ""))
    else:
        fb = report["first_broken"]
        if fb:
            lines.append(f"LOG TAMPERED: first broken position {fb['position']} ({fb['kind']}): {fb['message']}"
                         + (f" — follow-up {fb['followup']}" if fb.get("followup") else "")
                         + (f" [{fb['record']} v{fb.get('version')}]" if fb.get("record") else ""))
        for p in report["problems"][1:20]:
            lines.append(f"  position {p['position']} ({p['kind']}): {p['message']}"
                         + (f" — follow-up {p['followup']}" if p.get("followup") else ""))
    if report.get("note"):
        lines.append("note: " + report["note"])
    rec = report.get("recordings")
    if rec is not None:
        lines.append(f"recordings: {rec['checked']} checked, {len(rec['problems'])} problem(s), "
                     f"{rec['erased']} erased with their subject")
        for p in rec["problems"][:20]:
            lines.append(f"  {p['followup']} attempt {p['attempt']}: {p['message']}")
    lines.append(f"access control: {report['access_control']}")
    return "\n".join(lines)
