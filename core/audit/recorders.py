"""Application recorders that chain and seal every stored record in the transaction that writes it.

eventsourcing's recorders insert a command's events in one transaction (SQLite: the single writer
lock; PostgreSQL: `LOCK TABLE stored_events IN EXCLUSIVE MODE`, which serialises every writer). These
subclasses add, inside that same transaction and after the insert, one block to `huifang_chain`
(chain.py), write the subject data keys created or destroyed by the command to `huifang_keys`
(privacy.py) with those key changes sealed into the block, and rewrite the sealed high-water mark
`huifang_head`, so the log, its chain, the keys and the mark can never disagree after a crash or a
conflict: either all of it commits or none of it. Selected with APPLICATION_RECORDER_TOPIC
(HuifangApp); the PostgreSQL recorder lives in postgres_recorder.py, so SQLite stores never import
psycopg.

A writer only ever chains its own records onto a chain that ends exactly where the sealed
high-water mark says (G8): a chain that was deleted, shortened or extended by something else, or a
mark that does not match its seal, is a hard error for every writer ("the audit chain is damaged"),
never something the next write adopts and seals.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder

from ..errors import HuifangError
from .chain import GENESIS, Block, Mark, build_block, head_seal, key_ops

CHAIN = "huifang_chain"
KEYS = "huifang_keys"
HEAD = "huifang_head"
MARK_QUERY = "SELECT last_position, head, records, enforced, seal FROM {head} WHERE id = 1"
POLICY_TOPIC = "huifang:AccessPolicy.Enforced"  # trail.AccessPolicy.Enforced: access control switched on


class ChainDamaged(HuifangError):
    """A writer found the chain not where its sealed high-water mark says: it writes nothing."""


class GroupBarrier(BaseException):
    """A job of a commit group must leave it: it read the notification log while the group holds
    records not yet committed (views must never be built from records that may still roll back), or
    the store failed under one of its saves (alone, the save is retried). The job is rolled back to its
    savepoint and runs alone once the group before it has committed (service/group.py). A
    BaseException, so no `except Exception` on the way swallows it."""


class RunAlone(Exception):
    """A job was rolled back out of its commit group and must run alone (today's one-command path)."""


def damaged(detail: str) -> ChainDamaged:
    return ChainDamaged(f"the audit chain is damaged: run `huifang audit verify` ({detail}); nothing was written")


def table_statements(dialect: str) -> list[str]:
    """The chain, key and high-water-mark tables, with {chain}/{keys}/{head} for the recorder's `q`
    (a chain table made before key changes were sealed gets its `key_ops` column: PostgreSQL here,
    SQLite in ChainedSQLiteRecorder._create_table)."""
    big, blob = ("INTEGER", "BLOB") if dialect == "sqlite" else ("bigint", "bytea")
    upgrade = [] if dialect == "sqlite" else [  # catalog check first: no table lock when nothing to do
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = '{chain}'::regclass AND attname = "
        "'key_ops' AND NOT attisdropped) THEN ALTER TABLE {chain} ADD COLUMN key_ops bytea; END IF; END $$"]
    return [
        f"CREATE TABLE IF NOT EXISTS {{chain}} (last_position {big} PRIMARY KEY, first_position {big} NOT NULL, "
        f"prev_hash {blob} NOT NULL, entries {blob} NOT NULL, head {blob} NOT NULL, seal {blob}, key_ops {blob})",
        f"CREATE TABLE IF NOT EXISTS {{keys}} (subject text PRIMARY KEY, wrapped {blob}, "
        f"erased integer NOT NULL DEFAULT 0)",
        f"CREATE TABLE IF NOT EXISTS {{head}} (id integer PRIMARY KEY CHECK (id = 1), last_position {big} NOT NULL, "
        f"head {blob} NOT NULL, records {big} NOT NULL, enforced integer NOT NULL, seal {blob})",
        *upgrade,
    ]


KEY_CHUNK = 500  # key rows per statement (well under SQLite's bound-parameter limit)


class ChainMixin:
    """Shared logic; subclasses give the SQL dialect (`q`) and the position column (`POS`)."""

    POS = "rowid"
    COMBINED_WRITE = False  # the block and the mark in one statement (PostgreSQL: a data-modifying WITH)
    seal_key_source: Callable[[bool], bytes | None] | None = None  # set by HuifangApp (create allowed?)
    on_abort: Callable[[dict[str, bytes]], None] | None = None

    def _init_chain(self) -> None:
        self.key_writes: dict[str, bytes] = {}
        self.erasures: set[str] = set()
        self._flushed: tuple[dict[str, bytes], set[str]] = ({}, set())
        self._seal_key: bytes | None = None
        self._seal_key_known = False
        self._written: Mark | None = None  # the mark this process wrote last (committed or not)
        self._token: Any = None  # the store's change counter seen by the current write (SQLite)
        self._pending: tuple[Any, Mark] | None = None
        self._committed: tuple[Any, Mark] | None = None  # (change counter, mark) of our last committed write
        self._check_key: bytes | None = None
        self._check_key_known = False
        self.chaining = True

    # -- dialect ------------------------------------------------------------------------------
    def q(self, sql: str) -> Any:  # pragma: no cover
        raise NotImplementedError

    # -- the write path -------------------------------------------------------------------------
    def _around_insert(self, fn: Callable[[], Any]) -> Any:
        keys = dict(self.key_writes)
        self._flushed = ({}, set())
        self._pending = None
        try:
            result = fn()
        except BaseException:
            self._pending = None
            self.key_writes.clear()
            self.erasures.clear()
            if self.on_abort is not None:
                self.on_abort(keys)
            raise
        if self._pending is not None:
            self._committed, self._pending = self._pending, None
        written, destroyed = self._flushed
        for k in written:
            self.key_writes.pop(k, None)
        self.erasures -= destroyed
        return result

    def _after_insert(self, c: Any, ids: Sequence[int] | None, stored: Sequence[StoredEvent]) -> None:
        created, destroyed = dict(self.key_writes), set(self.erasures)
        if self.chaining:
            if not (stored and ids):
                return  # no record, no block: key changes wait for the next block, which seals them
            self._append_block(c, list(ids), stored, created, destroyed)
        self._write_keys(c, created, destroyed)
        self._flushed = (created, destroyed)

    def _resolve_seal_key(self, c: Any) -> bytes | None:
        if not self._seal_key_known:
            if self.seal_key_source is not None:
                c.execute(self.q("SELECT id FROM {head}"))
                started = c.fetchone() is not None
                if not started:
                    c.execute(self.q("SELECT last_position FROM {chain} LIMIT 1"))
                    started = c.fetchone() is not None
                self._seal_key = self.seal_key_source(not started)
                if self._seal_key is None and started:
                    raise HuifangError("HUIFANG_SEAL_KEY: the seal key is missing but the log is sealed; set "
                                       "HUIFANG_SEAL_KEY or restore the key file (nothing was written)")
            self._seal_key_known = True
        return self._seal_key

    def _chain_end(self, c: Any, key: bytes | None, first: int) -> Mark | None:
        """The sealed high-water mark the new block follows (None: the first block of an empty log),
        after checking its seal and that no record follows it; that the chain block it names is still
        there is checked by the statement that moves the mark (`_append_block`)."""
        self._token = self._change_token(c)
        if self._token is not None and self._committed is not None and self._committed[0] == self._token:
            ours = self._committed[1]  # nobody else has committed since our last write: the mark is ours
            if first != ours.last_position + 1:
                self._gap(c, ours, first)
            return ours
        mark = self._read_mark(c)
        if mark is None:
            c.execute(self.q("SELECT last_position FROM {chain} ORDER BY last_position DESC LIMIT 1"))
            row = c.fetchone()
            if row is not None:
                raise damaged(f"the sealed high-water mark is missing; the chain ends at position "
                              f"{row['last_position']}")
            c.execute(self.q(f"SELECT {self.POS} FROM {{events}} WHERE {self.POS} < ? LIMIT 1"), (first,))
            if c.fetchone() is not None:
                raise damaged(f"records before position {first} are in no chain block")
            return None
        if key is not None and mark != self._written and not mark.seal_ok(key):  # ours: sealed by us
            raise damaged("the high-water mark does not match its seal")
        if first != mark.last_position + 1:
            self._gap(c, mark, first)
        return mark

    def _gap(self, c: Any, mark: Mark, first: int) -> None:
        """Positions skipped between the mark and our records (PostgreSQL sequences skip rolled-back
        ids) must hold no record."""
        c.execute(self.q(f"SELECT {self.POS} FROM {{events}} WHERE {self.POS} > ? AND {self.POS} < ? LIMIT 1"),
                  (mark.last_position, first))
        if c.fetchone() is not None:
            raise damaged(f"records after position {mark.last_position} are in no chain block")

    def _change_token(self, c: Any) -> Any:
        """Something equal between two writes only if nobody else committed to the store in between
        (None: unknown, always read the mark)."""
        return None

    def _append_block(self, c: Any, ids: list[int], stored: Sequence[StoredEvent], created: dict[str, bytes],
                      destroyed: set[str]) -> None:
        key = self._resolve_seal_key(c)
        records = sorted(((nid, s.originator_id, s.originator_version, s.topic, s.state)
                          for nid, s in zip(ids, stored, strict=False)), key=lambda r: r[0])
        old = self._chain_end(c, key, records[0][0])
        b = build_block(old.head if old else GENESIS, records, key, key_ops(created, destroyed))
        enforced = (old is not None and old.enforced) or any(r[3] == POLICY_TOPIC for r in records)
        count = (old.records if old else 0) + len(records)
        mark = Mark(b.last_position, b.head, count, enforced,
                    head_seal(key, b.last_position, b.head, count, enforced) if key else None)
        insert_block = ("INSERT INTO {chain} (last_position, first_position, prev_hash, entries, head, seal, key_ops) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)")
        mark_row: tuple[Any, ...] = (mark.last_position, mark.head, mark.records, int(mark.enforced), mark.seal)
        if old is None:
            write_mark = ("INSERT INTO {head} (last_position, head, records, enforced, seal, id) "
                          "VALUES (?, ?, ?, ?, ?, 1)")
        else:  # moves only if the block the old mark names is still there: a missing or shortened chain fails
            write_mark = ("UPDATE {head} SET last_position = ?, head = ?, records = ?, enforced = ?, seal = ? "
                          "WHERE id = 1 AND EXISTS (SELECT 1 FROM {chain} WHERE last_position = ? AND head = ?)")
            mark_row += (old.last_position, old.head)
        block_row = (b.last_position, b.first_position, b.prev_hash, b.entries, b.head, b.seal, b.keys)
        if self.COMBINED_WRITE:  # one round trip to the server for both rows
            c.execute(self.q(f"WITH block AS ({insert_block}) {write_mark}"), block_row + mark_row)
        else:
            c.execute(self.q(insert_block), block_row)
            c.execute(self.q(write_mark), mark_row)
        if old is not None and getattr(c, "sqlite_cursor", c).rowcount != 1:
            raise damaged(f"the chain block ending at position {old.last_position}, where its sealed high-water "
                          f"mark says the chain ends, is gone or changed ({old.records} records were chained)")
        self._written = mark  # a later write of this process that reads exactly this mark skips its HMAC
        self._pending = (self._token, mark) if self._token is not None else None

    def _write_keys(self, c: Any, created: dict[str, bytes], destroyed: set[str]) -> None:
        # a bulk import makes thousands of keys in one save: one insert and one read-back per 500
        items = list(created.items())
        if len(items) == 1:  # one command's one new subject: the insert tells whether its key stuck
            c.execute(self.q("INSERT INTO {keys} (subject, wrapped, erased) VALUES (?, ?, 0) "
                             "ON CONFLICT (subject) DO NOTHING RETURNING subject"), items[0])
            if not c.fetchall():
                raise IntegrityError(f"the data key of subject {items[0][0]} was written by another command")
            items = []
        for i in range(0, len(items), KEY_CHUNK):
            part = items[i:i + KEY_CHUNK]
            c.executemany(self.q("INSERT INTO {keys} (subject, wrapped, erased) VALUES (?, ?, 0) "
                                 "ON CONFLICT (subject) DO NOTHING"), part)
            c.execute(self.q("SELECT subject, wrapped FROM {keys} WHERE subject IN (" + ", ".join("?" * len(part))
                             + ")"), tuple(subject for subject, _ in part))
            stored = {r["subject"]: r["wrapped"] for r in c.fetchall()}
            for subject, wrapped in part:
                got = stored.get(subject)
                if got is None or bytes(got) != wrapped:
                    raise IntegrityError(f"the data key of subject {subject} was written by another command")
        if destroyed:
            self._secure_delete(c)
        for subject in sorted(destroyed):
            c.execute(self.q("INSERT INTO {keys} (subject, wrapped, erased) VALUES (?, NULL, 1) "
                             "ON CONFLICT (subject) DO NOTHING"), (subject,))
            # overwrite in place (same length: the cell is rewritten where it is), then delete (G10)
            c.execute(self.q("UPDATE {keys} SET wrapped = ? WHERE subject = ? AND wrapped IS NOT NULL"),
                      (bytes(60), subject))
            c.execute(self.q("UPDATE {keys} SET wrapped = NULL, erased = 1 WHERE subject = ?"), (subject,))

    def _secure_delete(self, c: Any) -> None:
        pass

    # -- reads (keys, chain, the high-water mark) --------------------------------------------------
    def fetch_key(self, subject: str) -> tuple[bytes | None, bool] | None:
        with self._read_one() as c:
            c.execute(self.q("SELECT wrapped, erased FROM {keys} WHERE subject = ?"), (subject,))
            row = c.fetchone()
        if row is None:
            return None
        return (bytes(row["wrapped"]) if row["wrapped"] is not None else None), bool(row["erased"])

    def fetch_keys(self, subjects: Sequence[str]) -> dict[str, tuple[bytes | None, bool]]:
        """fetch_key for many subjects, one query per 500 (those without a key row are absent)."""
        out: dict[str, tuple[bytes | None, bool]] = {}
        with self._read() as c:
            for i in range(0, len(subjects), KEY_CHUNK):
                part = tuple(subjects[i:i + KEY_CHUNK])
                c.execute(self.q("SELECT subject, wrapped, erased FROM {keys} WHERE subject IN ("
                                 + ", ".join("?" * len(part)) + ")"), part)
                for row in c.fetchall():
                    out[row["subject"]] = ((bytes(row["wrapped"]) if row["wrapped"] is not None else None),
                                           bool(row["erased"]))
        return out

    def any_key(self) -> bool:
        with self._read_one() as c:
            c.execute(self.q("SELECT subject FROM {keys} LIMIT 1"))
            return c.fetchone() is not None

    def erased_subjects(self) -> set[str]:
        with self._read() as c:
            c.execute(self.q("SELECT subject FROM {keys} WHERE erased = 1"))
            return {r["subject"] for r in c.fetchall()}

    def key_rows(self, batch: int = 1000) -> Iterator[tuple[str, bytes | None, bool]]:
        """Every row of the key table as stored: (subject, wrapped key or None, erased)."""
        after = ""
        while True:
            with self._read() as c:
                c.execute(self.q("SELECT subject, wrapped, erased FROM {keys} WHERE subject > ? ORDER BY subject "
                                 "LIMIT ?"), (after, batch))
                rows = c.fetchall()
            if not rows:
                return
            for r in rows:
                yield r["subject"], (bytes(r["wrapped"]) if r["wrapped"] is not None else None), bool(r["erased"])
            after = rows[-1]["subject"]

    def _read_mark(self, c: Any) -> Mark | None:
        c.execute(self.q(MARK_QUERY))
        return self._mark_of(c.fetchone())

    @staticmethod
    def _mark_of(r: Any) -> Mark | None:
        if r is None:
            return None
        return Mark(int(r["last_position"]), bytes(r["head"]), int(r["records"]), bool(r["enforced"]),
                    bytes(r["seal"]) if r["seal"] is not None else None)

    def mark(self) -> Mark | None:
        """The sealed high-water mark as stored (not checked)."""
        with self._read() as c:
            return self._read_mark(c)

    def sealed_enforced(self) -> bool:
        """Access control as the sealed high-water mark says (G8): on once it was switched on, whatever
        records were cut since; a mark that is missing under a chain or does not match its seal counts
        as on (fail closed)."""
        m = self.mark()
        if m is None:
            if not self.blocks(0, 1):
                return False
            # another writer may have committed the first block, and its mark with it, between the two
            # reads: read the mark again; only a mark still missing under a chain counts as on
            m = self.mark()
            if m is None:
                return True
        if m.enforced:
            return True
        if not self._check_key_known:
            self._check_key = self.seal_key_source(False) if self.seal_key_source is not None else None
            self._check_key_known = True
        return self._check_key is not None and not m.seal_ok(self._check_key)

    def blocks(self, after: int = 0, limit: int = 500) -> list[Block]:
        with self._read() as c:
            c.execute(self.q("SELECT last_position, first_position, prev_hash, entries, head, seal, key_ops "
                             "FROM {chain} WHERE last_position > ? ORDER BY last_position LIMIT ?"), (after, limit))
            return [Block(r["last_position"], r["first_position"], bytes(r["prev_hash"]), bytes(r["entries"]),
                          bytes(r["head"]), bytes(r["seal"]) if r["seal"] is not None else None,
                          bytes(r["key_ops"]) if r["key_ops"] is not None else None)
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

    def _read_one(self) -> Any:
        """For a read of one statement (no snapshot to share with another)."""
        return self._read()


class ChainedSQLiteRecorder(ChainMixin, SQLiteApplicationRecorder):
    POS = "rowid"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._init_chain()

    def q(self, sql: str) -> str:
        return sql.format(chain=CHAIN, keys=KEYS, head=HEAD, events=self.events_table_name)

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *(self.q(s) for s in table_statements("sqlite"))]

    def _create_table(self, c: Any) -> None:
        super()._create_table(c)
        c.execute(self.q("PRAGMA table_info({chain})"))
        if "key_ops" not in {r["name"] for r in c.fetchall()}:
            c.execute(self.q("ALTER TABLE {chain} ADD COLUMN key_ops BLOB"))

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        return self._around_insert(lambda: super(ChainedSQLiteRecorder, self).insert_events(stored_events,
                                                                                             **kwargs))

    def _insert_events(self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if len(stored_events) > 1:
            ids: Sequence[int] | None = self._insert_many(c, stored_events)
        else:
            ids = super()._insert_events(c, stored_events, **kwargs)
        self._after_insert(c, ids, stored_events)
        return ids

    def _insert_many(self, c: Any, stored_events: Sequence[StoredEvent]) -> list[int]:
        """Many records in one executemany (eventsourcing runs one INSERT per record to read each one's
        rowid: a bulk import's thousands cost a statement each). The first record goes alone: a write
        first, so the transaction holds the write lock before it reads anything (a read first would make
        it a reader that cannot become the writer once another connection commits). Each new row's
        rowid is then the table's largest plus one, so the rest follow the first's; when they do not
        (a table whose largest rowid is the largest SQLite allows gives random ones), each is read back."""
        cur = c.sqlite_cursor
        rows = [(s.originator_id.hex if isinstance(s.originator_id, UUID) else s.originator_id, s.originator_version,
                 s.topic, s.state) for s in stored_events]
        cur.execute(self.insert_events_statement, rows[0])
        first = cur.lastrowid
        cur.executemany(self.insert_events_statement, rows[1:])
        cur.execute(f"SELECT max(rowid), last_insert_rowid() FROM {self.events_table_name}")
        top, last = cur.fetchone()
        if last == first + len(rows) - 1 and top == last:
            return list(range(first, last + 1))
        out = []
        for oid, version, _, _ in rows:
            cur.execute(f"SELECT rowid FROM {self.events_table_name} WHERE originator_id = ? AND "
                        f"originator_version = ?", (oid, version))
            out.append(cur.fetchone()[0])
        return out

    def _change_token(self, c: Any) -> Any:
        """(connection, PRAGMA data_version): the counter changes when any other connection — another
        process, a sqlite3 shell, another connection of this process — commits to the file."""
        conn = c.sqlite_cursor.connection
        c.execute("PRAGMA data_version")
        return conn, c.fetchone()[0]

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
