"""Application recorders that chain and seal every stored record in the transaction that writes it.

eventsourcing's recorders insert a command's events in one transaction (SQLite: the single writer
lock; PostgreSQL: `LOCK TABLE stored_events IN EXCLUSIVE MODE`, which serialises every writer). These
subclasses add, inside that same transaction and after the insert, one block to `huifang_chain`
(chain.py), and write the subject data keys created or destroyed by the command to `huifang_keys`
(privacy.py), so the log, its chain and the keys can never disagree after a crash or a conflict:
either all of it commits or none of it. Selected with APPLICATION_RECORDER_TOPIC (HuifangApp); the
PostgreSQL recorder lives in postgres_recorder.py, so SQLite stores never import psycopg.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder

from ..errors import HuifangError
from .chain import GENESIS, Block, as_bytes, build_block

CHAIN = "huifang_chain"
KEYS = "huifang_keys"


class ChainMixin:
    """Shared logic; subclasses give the SQL dialect (`q`) and the position column (`POS`)."""

    POS = "rowid"
    seal_key_source: Callable[[bool], bytes | None] | None = None  # set by HuifangApp (create allowed?)
    on_abort: Callable[[dict[str, bytes]], None] | None = None

    def _init_chain(self) -> None:
        self.key_writes: dict[str, bytes] = {}
        self.erasures: set[str] = set()
        self._seal_key: bytes | None = None
        self._seal_key_known = False
        self.chaining = True

    # -- dialect ------------------------------------------------------------------------------
    def q(self, sql: str) -> Any:  # pragma: no cover
        raise NotImplementedError

    # -- the write path -------------------------------------------------------------------------
    def _around_insert(self, fn: Callable[[], Any]) -> Any:
        keys, erased = dict(self.key_writes), set(self.erasures)
        try:
            result = fn()
        except BaseException:
            self.key_writes.clear()
            self.erasures.clear()
            if self.on_abort is not None:
                self.on_abort(keys)
            raise
        for k in keys:
            self.key_writes.pop(k, None)
        self.erasures -= erased
        return result

    def _after_insert(self, c: Any, ids: Sequence[int] | None, stored: Sequence[StoredEvent]) -> None:
        if stored and ids and self.chaining:
            self._append_block(c, list(ids), stored)
        self._write_keys(c)

    def _resolve_seal_key(self, c: Any) -> bytes | None:
        if not self._seal_key_known:
            if self.seal_key_source is not None:
                c.execute(self.q("SELECT last_position FROM {chain} WHERE seal IS NOT NULL LIMIT 1"))
                sealed_before = c.fetchone() is not None
                self._seal_key = self.seal_key_source(not sealed_before)
                if self._seal_key is None and sealed_before:
                    raise HuifangError("HUIFANG_SEAL_KEY: the seal key is missing but the log is sealed; set "
                                       "HUIFANG_SEAL_KEY or restore the key file (nothing was written)")
            self._seal_key_known = True
        return self._seal_key

    def _append_block(self, c: Any, ids: list[int], stored: Sequence[StoredEvent]) -> None:
        c.execute(self.q("SELECT last_position, head FROM {chain} ORDER BY last_position DESC LIMIT 1"))
        row = c.fetchone()
        records: list[tuple[int, Any, int, str, bytes]] = []
        if row is None:
            # the first block ever adopts records written before the chain existed (an older store)
            c.execute(self.q(f"SELECT {self.POS} AS position, originator_id, originator_version, topic, state "
                             f"FROM {{events}} WHERE {self.POS} < ? ORDER BY {self.POS}"), (min(ids),))
            records += [(r["position"], r["originator_id"], r["originator_version"], r["topic"], as_bytes(r["state"]))
                        for r in c.fetchall()]
            prev = GENESIS
        else:
            prev = bytes(row["head"])
        records += sorted(((nid, s.originator_id, s.originator_version, s.topic, s.state)
                           for nid, s in zip(ids, stored, strict=False)), key=lambda r: r[0])
        b = build_block(prev, records, self._resolve_seal_key(c))
        c.execute(self.q("INSERT INTO {chain} (last_position, first_position, prev_hash, entries, head, seal) "
                         "VALUES (?, ?, ?, ?, ?, ?)"),
                  (b.last_position, b.first_position, b.prev_hash, b.entries, b.head, b.seal))

    def _write_keys(self, c: Any) -> None:
        for subject, wrapped in self.key_writes.items():
            c.execute(self.q("INSERT INTO {keys} (subject, wrapped, erased) VALUES (?, ?, 0) "
                             "ON CONFLICT (subject) DO NOTHING"), (subject, wrapped))
            c.execute(self.q("SELECT wrapped FROM {keys} WHERE subject = ?"), (subject,))
            row = c.fetchone()
            if row is None or row["wrapped"] is None or bytes(row["wrapped"]) != wrapped:
                raise IntegrityError(f"the data key of subject {subject} was written by another command")
        if self.erasures:
            self._secure_delete(c)
        for subject in sorted(self.erasures):
            c.execute(self.q("INSERT INTO {keys} (subject, wrapped, erased) VALUES (?, NULL, 1) "
                             "ON CONFLICT (subject) DO NOTHING"), (subject,))
            c.execute(self.q("UPDATE {keys} SET wrapped = NULL, erased = 1 WHERE subject = ?"), (subject,))

    def _secure_delete(self, c: Any) -> None:
        pass

    # -- reads (keys, chain) ----------------------------------------------------------------------
    def fetch_key(self, subject: str) -> tuple[bytes | None, bool] | None:
        with self._read() as c:
            c.execute(self.q("SELECT wrapped, erased FROM {keys} WHERE subject = ?"), (subject,))
            row = c.fetchone()
        if row is None:
            return None
        return (bytes(row["wrapped"]) if row["wrapped"] is not None else None), bool(row["erased"])

    def any_key(self) -> bool:
        with self._read() as c:
            c.execute(self.q("SELECT subject FROM {keys} LIMIT 1"))
            return c.fetchone() is not None

    def erased_subjects(self) -> set[str]:
        with self._read() as c:
            c.execute(self.q("SELECT subject FROM {keys} WHERE erased = 1"))
            return {r["subject"] for r in c.fetchall()}

    def blocks(self, after: int = 0, limit: int = 500) -> list[Block]:
        with self._read() as c:
            c.execute(self.q("SELECT last_position, first_position, prev_hash, entries, head, seal FROM {chain} "
                             "WHERE last_position > ? ORDER BY last_position LIMIT ?"), (after, limit))
            return [Block(r["last_position"], r["first_position"], bytes(r["prev_hash"]), bytes(r["entries"]),
                          bytes(r["head"]), bytes(r["seal"]) if r["seal"] is not None else None)
                    for r in c.fetchall()]

    def iter_blocks(self) -> Iterator[Block]:
        after = 0
        while True:
            batch = self.blocks(after)
            if not batch:
                return
            yield from batch
            after = batch[-1].last_position

    def _read(self) -> Any:  # pragma: no cover
        raise NotImplementedError


class ChainedSQLiteRecorder(ChainMixin, SQLiteApplicationRecorder):
    POS = "rowid"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._init_chain()

    def q(self, sql: str) -> str:
        return sql.format(chain=CHAIN, keys=KEYS, events=self.events_table_name)

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {CHAIN} (last_position INTEGER PRIMARY KEY, first_position INTEGER NOT "
            f"NULL, prev_hash BLOB NOT NULL, entries BLOB NOT NULL, head BLOB NOT NULL, seal BLOB)",
            f"CREATE TABLE IF NOT EXISTS {KEYS} (subject TEXT PRIMARY KEY, wrapped BLOB, "
            f"erased INTEGER NOT NULL DEFAULT 0)",
        ]

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        return self._around_insert(lambda: super(ChainedSQLiteRecorder, self).insert_events(stored_events,
                                                                                             **kwargs))

    def _insert_events(self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        self._after_insert(c, ids, stored_events)
        return ids

    def _secure_delete(self, c: Any) -> None:
        c.execute("PRAGMA secure_delete = ON")  # the destroyed key's bytes are overwritten, not just unlinked

    def _read(self) -> Any:
        return self.datastore.transaction(commit=False)


# named, not imported: eventsourcing imports the module (and psycopg) only for a PostgreSQL store
POSTGRES_RECORDER_TOPIC = "huifang.core.audit.postgres_recorder:ChainedPostgresRecorder"


def recorder_topic(kind: str) -> str:
    """APPLICATION_RECORDER_TOPIC for the store kind (eventsourcing resolves it when the app starts)."""
    if kind == "sqlite":
        return f"{ChainedSQLiteRecorder.__module__}:{ChainedSQLiteRecorder.__qualname__}"
    return POSTGRES_RECORDER_TOPIC
