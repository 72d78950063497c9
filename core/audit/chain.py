"""The hash chain over stored records (tamper evidence, G8, G10).

Every stored record (one row of `stored_events`, in notification order = its position) is linked
to the one before it:

    h_0 = 32 zero bytes
    h_n = SHA-256(h_{n-1} || canonical(record_n))
    canonical = position (8 bytes, big-endian) || originator_id (16 bytes, the UUID's bytes)
                || originator_version (8 bytes, big-endian) || len(topic) (4 bytes) || topic (UTF-8)
                || len(state) (8 bytes) || state (the stored bytes, exactly)

The records one transaction writes form a *block*, written into `huifang_chain` in the SAME
transaction as the records (see recorders.py): an append made by huifang is always chained, and a
row that appears in `stored_events` without a block was written by something else. Each block holds
every record's (position, originator, version, hash) and is *sealed*: HMAC-SHA256 under the seal key
(HUIFANG_SEAL_KEY or a key file, never in the database) over the block's last position and head
hash. Someone with write access to the database but not the key can recompute the hashes, but not
the seals.

Two more things are sealed, so that nothing can be taken away without the key either (G8, G10):
- the block's *key changes*: the subject data keys the transaction created or destroyed
  (`huifang_keys`), as `key_ops` below; a v2 seal covers them (SHA-256 of the ops), so a key row
  deleted, swapped or restored (un-erased) no longer matches the sealed history of that subject;
- the *high-water mark* (`huifang_head`, one row): last position, head hash, number of chained records
  and whether access control is on, sealed and rewritten by every writer in the same transaction,
  so cutting the newest records together with their blocks no longer leaves a consistent log.
"""
from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

GENESIS = bytes(32)
ENTRY = struct.Struct(">Q16sQ32s")  # position, originator id, version, hash = 64 bytes
SEAL_CONTEXT = b"huifang-seal-v1\x00"  # blocks written before key changes were sealed (keys IS NULL)
SEAL_CONTEXT_V2 = b"huifang-seal-v2\x00"
HEAD_CONTEXT = b"huifang-head-v1\x00"
KEY_CREATED, KEY_DESTROYED = b"K", b"E"


def canonical(position: int, originator_id: UUID, version: int, topic: str, state: bytes) -> bytes:
    t = topic.encode("utf-8")
    return (struct.pack(">Q16sQI", position, originator_id.bytes, version, len(t)) + t
            + struct.pack(">Q", len(state)) + bytes(state))


def link(prev: bytes, position: int, originator_id: UUID, version: int, topic: str, state: bytes) -> bytes:
    """SHA-256(prev || canonical(...)), fed piece by piece: no copy of the state (a bulk import links
    hundreds of thousands)."""
    t = _TOPICS.get(topic)
    if t is None:
        t = topic.encode("utf-8")
        if len(_TOPICS) < 4096:
            _TOPICS[topic] = t
    m = hashlib.sha256(prev)
    m.update(_HEAD.pack(position, originator_id.bytes, version, len(t)))
    m.update(t)
    m.update(_LENGTH.pack(len(state)))
    m.update(state)
    return m.digest()


_HEAD, _LENGTH = struct.Struct(">Q16sQI"), struct.Struct(">Q")  # canonical's two packed parts
_TOPICS: dict[str, bytes] = {}  # topics' UTF-8 (a log has few)


_MACS: dict[bytes, hmac.HMAC] = {}


def _hmac(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256, the keyed state made once per key (OpenSSL 3 makes a fresh one slowly)."""
    base = _MACS.get(key)
    if base is None:
        base = _MACS[key] = hmac.new(key, digestmod=hashlib.sha256)
    m = base.copy()
    m.update(message)
    return m.digest()


def seal(key: bytes, position: int, head: bytes, keys: bytes | None = None) -> bytes:
    """A block's seal: v2 (with its key changes, possibly none) for every block written now; v1
    (`keys` None) only to check blocks of stores written before key changes were sealed."""
    if keys is None:
        return _hmac(key, SEAL_CONTEXT + struct.pack(">Q", position) + head)
    return _hmac(key, SEAL_CONTEXT_V2 + struct.pack(">Q", position) + head + hashlib.sha256(keys).digest())


def seal_ok(key: bytes, position: int, head: bytes, mac: bytes | None, keys: bytes | None = None) -> bool:
    return bool(mac) and hmac.compare_digest(seal(key, position, head, keys), bytes(mac or b""))


def key_ops(created: dict[str, bytes], destroyed: set[str] | frozenset[str]) -> bytes:
    """One block's key changes, canonical: per subject (sorted) `K` || len (2 bytes BE) || subject
    (UTF-8) || SHA-256(wrapped key) for a data key created, `E` || len || subject for one destroyed."""
    out = bytearray()
    for subject in sorted(created):
        s = subject.encode("utf-8")
        out += KEY_CREATED + struct.pack(">H", len(s)) + s + hashlib.sha256(created[subject]).digest()
    for subject in sorted(destroyed):
        s = subject.encode("utf-8")
        out += KEY_DESTROYED + struct.pack(">H", len(s)) + s
    return bytes(out)


def parse_key_ops(ops: bytes) -> list[tuple[bytes, str, bytes | None]]:
    """(KEY_CREATED | KEY_DESTROYED, subject, SHA-256 of the wrapped key or None); ValueError if malformed."""
    out: list[tuple[bytes, str, bytes | None]] = []
    i = 0
    try:
        while i < len(ops):
            op = ops[i:i + 1]
            (n,) = struct.unpack_from(">H", ops, i + 1)
            subject = ops[i + 3:i + 3 + n].decode("utf-8")
            i += 3 + n
            if op == KEY_CREATED:
                digest = ops[i:i + 32]
                if len(digest) != 32:
                    raise ValueError("short key digest")
                out.append((op, subject, digest))
                i += 32
            elif op == KEY_DESTROYED:
                out.append((op, subject, None))
            else:
                raise ValueError(f"unknown key change {op!r}")
    except (struct.error, UnicodeDecodeError) as e:
        raise ValueError(str(e)) from None
    return out


def key_digest(wrapped: bytes) -> bytes:
    return hashlib.sha256(wrapped).digest()


@dataclass(frozen=True)
class Mark:
    """The sealed high-water mark: where the chain ends, how many records it holds, and whether
    access control was ever switched on (it cannot be switched off by cutting records)."""
    last_position: int
    head: bytes
    records: int
    enforced: bool
    seal: bytes | None

    def sealed_by(self, key: bytes) -> bytes:
        return head_seal(key, self.last_position, self.head, self.records, self.enforced)

    def seal_ok(self, key: bytes) -> bool:
        return bool(self.seal) and hmac.compare_digest(self.sealed_by(key), bytes(self.seal or b""))


def head_seal(key: bytes, position: int, head: bytes, records: int, enforced: bool) -> bytes:
    return _hmac(key, HEAD_CONTEXT + struct.pack(">QQB", position, records, int(enforced)) + head)


def as_bytes(value: object) -> bytes:
    """Stored state as bytes (a raw SQL edit may leave TEXT where a BLOB was)."""
    if isinstance(value, str):
        return value.encode("utf-8")
    return bytes(value)  # type: ignore[call-overload]


def as_uuid(value: object) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


@dataclass(frozen=True)
class Entry:
    position: int
    originator_id: UUID
    version: int
    hash: bytes


@dataclass(frozen=True)
class Block:
    last_position: int
    first_position: int
    prev_hash: bytes
    entries: bytes
    head: bytes
    seal: bytes | None
    keys: bytes | None = None  # key_ops (v2 seal); None only in blocks sealed before (v1)

    def items(self) -> list[Entry]:
        out = []
        for i in range(0, len(self.entries), ENTRY.size):
            p, oid, v, h = ENTRY.unpack_from(self.entries, i)
            out.append(Entry(p, UUID(bytes=oid), v, h))
        return out


def build_block(prev_head: bytes, records: Sequence[tuple[int, object, int, str, bytes]], key: bytes | None,
                keys: bytes = b"") -> Block:
    """records: (position, originator_id, version, topic, state) in position order; keys: key_ops."""
    h = prev_head
    entries = bytearray()
    for position, oid, version, topic, state in records:
        u = as_uuid(oid)
        h = link(h, position, u, version, topic, state)
        entries += ENTRY.pack(position, u.bytes, version, h)
    last = records[-1][0]
    return Block(last_position=last, first_position=records[0][0], prev_hash=prev_head, entries=bytes(entries),
                 head=h, seal=seal(key, last, h, keys) if key else None, keys=keys)
