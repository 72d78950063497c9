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
"""
from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass
from uuid import UUID

GENESIS = bytes(32)
ENTRY = struct.Struct(">Q16sQ32s")  # position, originator id, version, hash = 64 bytes
SEAL_CONTEXT = b"huifang-seal-v1\x00"


def canonical(position: int, originator_id: UUID, version: int, topic: str, state: bytes) -> bytes:
    t = topic.encode("utf-8")
    return (struct.pack(">Q16sQI", position, originator_id.bytes, version, len(t)) + t
            + struct.pack(">Q", len(state)) + bytes(state))


def link(prev: bytes, position: int, originator_id: UUID, version: int, topic: str, state: bytes) -> bytes:
    return hashlib.sha256(prev + canonical(position, originator_id, version, topic, state)).digest()


def seal(key: bytes, position: int, head: bytes) -> bytes:
    return hmac.new(key, SEAL_CONTEXT + struct.pack(">Q", position) + head, hashlib.sha256).digest()


def seal_ok(key: bytes, position: int, head: bytes, mac: bytes | None) -> bool:
    return mac is not None and hmac.compare_digest(seal(key, position, head), bytes(mac))


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

    def items(self) -> list[Entry]:
        out = []
        for i in range(0, len(self.entries), ENTRY.size):
            p, oid, v, h = ENTRY.unpack_from(self.entries, i)
            out.append(Entry(p, UUID(bytes=oid), v, h))
        return out


def build_block(prev_head: bytes, records: list[tuple[int, object, int, str, bytes]], key: bytes | None) -> Block:
    """records: (position, originator_id, version, topic, state) in position order."""
    h = prev_head
    entries = bytearray()
    for position, oid, version, topic, state in records:
        u = as_uuid(oid)
        h = link(h, position, u, version, topic, state)
        entries += ENTRY.pack(position, u.bytes, version, h)
    last = records[-1][0]
    return Block(last_position=last, first_position=records[0][0], prev_hash=prev_head, entries=bytes(entries),
                 head=h, seal=seal(key, last, h) if key else None)
