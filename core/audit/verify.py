"""`huifang audit verify`: re-read the whole log and prove nothing was edited, deleted, reordered or
inserted since it was written (G8, G10). Reads only; changes nothing (it never seals anything either:
sealing records it did not write would launder them).

The check walks `stored_events` in position order next to the chain's entries:
- a record whose recomputed hash differs from its chained hash was edited, swapped or moved;
- a chained position with no record was deleted; a record with no chain entry was inserted by
  something other than huifang (every huifang write chains its records in the same transaction);
- every block must link to the one before it and carry a valid seal (HMAC under the seal key): a
  chain recomputed by someone without the key fails here ("forged"); a block without a seal fails
  too ("unsealed": huifang seals every block it writes, so there is no legitimately open tail);
- the sealed high-water mark must name the chain's last position, head and record count: a tail cut
  off together with its chain blocks fails here ("truncated") without any anchor; the mark's
  access-control flag must agree with the log;
- every row of `huifang_keys` must be what the sealed key changes of the blocks say (a data key
  created, or destroyed by an erasure that is in the log): a key row deleted, swapped, inserted or
  restored after its erasure fails ("key");
- with `--anchor POSITION:HASH` (a head published earlier) the chain must still contain it, which
  also catches a rewrite by someone who holds the seal key.
After a mismatch the walk re-synchronises on the stored hash, so every damaged record is listed, not
only the first.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from ..domain.base import aggregate_uuid
from ..errors import HuifangError
from . import keys
from .chain import GENESIS, KEY_DESTROYED, as_bytes, as_uuid, key_digest, link, parse_key_ops, seal_ok
from .recorders import POLICY_TOPIC
from .recordings import describe, verify_recordings

BATCH = 1000
MAX_PROBLEMS = 200
ERASED_TOPIC = "huifang:Subject.Erased"


def _timestamp(state: bytes) -> str | None:
    """The recorded time of a stored event (its state's `timestamp`), or None if unreadable."""
    try:
        ts = json.loads(state).get("timestamp")
    except (ValueError, UnicodeDecodeError, AttributeError):
        return None
    if isinstance(ts, dict):
        ts = ts.get("_data_")
    return ts if isinstance(ts, str) else None


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
    stats = {"records": 0, "chained": 0, "blocks": 0, "sealed_blocks": 0, "unsealed_blocks": 0,
             "unsealed_records": 0, "keys": 0}
    anchor_pos, anchor_hash = _parse_anchor(anchor)
    anchor_seen = False
    end: dict[str, Any] = {"position": 0, "head": GENESIS, "last_sealed": 0, "records_to": 0}
    unsealed: list[tuple[int, int, int]] = []  # (first, last position, records) of blocks without a seal
    key_state: dict[str, tuple[bytes | None, int]] = {}  # subject -> (key digest | None = destroyed, position)
    erased_at: dict[UUID, int] = {}  # Subject.Erased records: subject's aggregate id -> position
    policy_seen = False

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
            if not b.seal:
                stats["unsealed_blocks"] += 1
                stats["unsealed_records"] += len(items)
                unsealed.append((first_pos, b.last_position, len(items)))
            else:
                end["last_sealed"] = b.last_position
                if key is None:
                    raise keys.missing(keys.SEAL, directory, "the seals cannot be checked without it")
                if seal_ok(key, b.last_position, b.head, b.seal, b.keys):
                    stats["sealed_blocks"] += 1
                else:
                    problem(first_pos, "forged", f"the seal of records {b.first_position}..{b.last_position} "
                                                 f"does not match: the chain was recomputed without the seal key "
                                                 f"(a record or a key change in that range was changed)")
            try:
                for op, subject, digest in parse_key_ops(b.keys or b""):
                    key_state[subject] = (None if op == KEY_DESTROYED else digest, b.last_position)
            except ValueError:
                problem(first_pos, "chain", f"the key changes of chain block {b.first_position}..{b.last_position} "
                                            f"are malformed (the chain table was edited)")
            prev_head, prev_last = b.head, b.last_position
            end["position"], end["head"] = b.last_position, b.head
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
        if r is not None:
            end["records_to"] = r[0]
            if r[3] == ERASED_TOPIC:
                erased_at[r[1]] = r[0]
            elif r[3] == POLICY_TOPIC:
                policy_seen = True
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
    _unsealed(app, unsealed, end["last_sealed"], problem)
    mark = _check_mark(app, key, directory, stats, end, policy_seen, problem)
    _check_keys(app, key_state, erased_at, max(end["position"], end["records_to"]), stats, problem)
    problems.sort(key=lambda p: p["position"])
    head = {"position": last_chained, "hash": h.hex()} if last_chained else None
    out: dict[str, Any] = {
        "ok": not problems, **stats, "head": head, "problems": problems,
        "high_water_mark": ({"position": mark.last_position, "records": mark.records, "hash": mark.head.hex(),
                             "access_control": mark.enforced} if mark else None),
        "first_broken": problems[0] if problems else None,
        "access_control": "enforced" if app.access.enforced() else "setup mode (no admin registered)",
    }
    if recordings:
        out["recordings"] = verify_recordings(app)
        if out["recordings"]["problems"]:
            out["ok"] = False
    return out


def _unsealed(app: Any, blocks: list[tuple[int, int, int]], last_sealed: int, problem: Any) -> None:
    """Every block without a seal is a failure; the run after the last sealed block is named as the
    unsealed tail (how many records, written since when) so the auditor sees what was appended."""
    tail = [b for b in blocks if b[0] > last_sealed]
    for first, last, n in blocks:
        if first <= last_sealed:
            problem(first, "unsealed", f"chain block {first}..{last} ({n} records) has no seal: its seal was "
                                       f"removed or it was written by something other than huifang")
    if tail:
        first, last, n = tail[0][0], tail[-1][1], sum(b[2] for b in tail)
        notes = app.recorder.select_notifications(start=first, limit=1)
        since = _timestamp(as_bytes(notes[0].state)) if notes else None
        problem(first, "unsealed", f"unsealed tail of {n} records (positions {first}..{last}), written since "
                                   f"{since or 'an unknown time'}: huifang seals every block it writes, so these "
                                   f"records were appended or unsealed by something else")


def _check_mark(app: Any, key: bytes | None, directory: Any, stats: dict[str, int], end: dict[str, Any],
                policy_seen: bool, problem: Any) -> Any:
    """The sealed high-water mark against the chain's end (a cut tail, blocks added after it)."""
    mark = app.recorder.mark()
    last, head = end["position"], end["head"]
    if mark is None:
        if stats["blocks"]:
            problem(last + 1, "truncated", f"the sealed high-water mark is gone (the chain ends at position "
                                           f"{last}): the end of the log cannot be proved, records may have been "
                                           f"cut off")
        return None
    if mark.seal and key is None:
        raise keys.missing(keys.SEAL, directory, "the seals cannot be checked without it")
    if not mark.seal:
        problem(mark.last_position, "unsealed", "the high-water mark has no seal: it was rewritten by something "
                                                "other than huifang")
    elif key is not None and not mark.seal_ok(key):
        problem(mark.last_position, "forged", "the high-water mark does not match its seal: it was rewritten "
                                              "without the seal key")
    if mark.last_position > last or mark.records > stats["chained"]:
        problem(last + 1, "truncated", f"the log was cut after position {last}: the sealed high-water mark "
                                       f"says {mark.records} records up to position {mark.last_position}, the "
                                       f"chain holds {stats['chained']} (the newest records were deleted with "
                                       f"their chain blocks)")
    elif mark.last_position < last:
        problem(mark.last_position + 1, "inserted", f"chain blocks after position {mark.last_position}, where the "
                                                    f"sealed high-water mark ends, were added by something other "
                                                    f"than huifang")
    elif mark.head != head or mark.records != stats["chained"]:
        problem(mark.last_position, "forged", "the chain's end does not match the sealed high-water mark "
                                              "(head hash or record count differ)")
    if mark.enforced and not policy_seen:
        problem(mark.last_position, "truncated", "access control was switched on (the sealed high-water mark "
                                                 "says so) but the record that switched it on is gone; it stays on")
    elif policy_seen and not mark.enforced:
        problem(mark.last_position, "forged", "the log switches access control on but the high-water mark says "
                                              "it is off")
    return mark


def _check_keys(app: Any, state: dict[str, tuple[bytes | None, int]], erased_at: dict[UUID, int], end: int,
                stats: dict[str, int], problem: Any) -> None:
    """Each data key row against the sealed key changes, and destroyed keys against erasure records."""
    seen: set[str] = set()
    for subject, wrapped, erased in app.recorder.key_rows():
        stats["keys"] += 1
        seen.add(subject)
        if subject not in state:
            problem(end, "key", f"the data key row of subject {subject} is in no chain block: it was written by "
                                f"something other than huifang")
            continue
        digest, pos = state[subject]
        if digest is None:
            if not erased or wrapped is not None:
                problem(pos, "key", f"subject {subject}'s data key was destroyed by the erasure at position {pos} "
                                    f"but a key is back in its row: the erasure was undone")
        elif erased or wrapped is None:
            problem(pos, "key", f"subject {subject}'s data key (written at position {pos}) was destroyed outside "
                                f"huifang, without an erasure record")
        elif key_digest(wrapped) != digest:
            problem(pos, "key", f"subject {subject}'s data key is not the one written at position {pos}: key rows "
                                f"were swapped or replaced")
    for subject in sorted(state.keys() - seen):
        digest, pos = state[subject]
        problem(pos, "key", f"the data key row of subject {subject} (written at position {pos}) was deleted"
                            + (" with its erasure mark" if digest is None else
                               ": their personal data became unreadable without an erasure record"))
    destroyed = {aggregate_uuid("subject", s): (s, pos) for s, (d, pos) in state.items() if d is None}
    for oid, pos in sorted(erased_at.items(), key=lambda x: x[1]):
        if oid not in destroyed:
            problem(pos, "key", f"record {pos} erases a subject whose data key was never destroyed")
    for oid, (subject, pos) in destroyed.items():
        if oid not in erased_at:
            problem(pos, "key", f"subject {subject}'s data key was destroyed at position {pos} without an "
                                f"erasure record in the log")


def current_head(app: Any) -> dict[str, Any]:
    """The head to publish as an anchor (`audit head`): the sealed high-water mark, checked against its
    seal and the chain's last block — not a walk of the whole log (that is `audit verify`)."""
    directory = keys.key_dir(app.store, app.config)
    key = keys.load(keys.SEAL, directory, create=False)
    mark = app.recorder.mark()
    if mark is None:
        chained = bool(app.recorder.blocks(0, 1))
        return {"ok": not chained, "position": 0, "hash": GENESIS.hex(), "records": 0,
                "problem": "the sealed high-water mark is missing" if chained else None}
    last = app.recorder.blocks(mark.last_position - 1, 2)  # the block the mark names, and any after it
    if mark.seal and key is None:
        raise keys.missing(keys.SEAL, directory, "the high-water mark's seal cannot be checked without it")
    problem = None
    if not mark.seal or (key is not None and not mark.seal_ok(key)):
        problem = "the high-water mark does not match its seal"
    elif not last or last[0].last_position != mark.last_position or last[0].head != mark.head or len(last) > 1:
        problem = "the chain does not end where the sealed high-water mark says"
    return {"ok": problem is None, "position": mark.last_position, "hash": mark.head.hex(), "records": mark.records,
            "problem": problem}


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
    mark = report.get("high_water_mark")
    if report["ok"]:
        lines.append(f"log intact: {report['records']} records, {report['sealed_blocks']} of {report['blocks']} "
                     f"blocks sealed and checked"
                     + (f", high-water mark checked ({mark['records']} records)" if mark else "")
                     + f", {report['keys']} data keys checked"
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
    rec = report.get("recordings")
    if rec is not None:
        lines.append(f"recordings: {rec['checked']} checked, {len(rec['problems'])} problem(s), "
                     f"{rec['erased']} erased with their subject")
        for p in rec["problems"][:20]:
            lines.append(f"  {p['followup']} attempt {p['attempt']}: {p['message']}")
    lines.append(f"access control: {report['access_control']}")
    return "\n".join(lines)
