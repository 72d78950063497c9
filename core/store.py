"""Where the event store lives: `--db` (env HUIFANG_DB) is a SQLite file path (embedded default)
or a postgresql:// URL (optionally `?schema=NAME`) for real deployments and scale-out."""
from __future__ import annotations

import os
import sqlite3
import time as _time  # start-up back-off only: never read as a clock
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote, urlparse

from .errors import HuifangError, first_line

DEFAULT_DB = "huifang.db"
# what PostgreSQL says when workers starting at once race on CREATE ... IF NOT EXISTS
START_RACES = ("concurrently", "duplicate key", "already exists")
PAGE_CACHE_KB = 65536  # SQLite page cache of one connection doing bulk work: an import, a rebuild
# a bulk job's WAL (an import, a rebuild) before a commit checks it in, not SQLite's 1 000 pages (4 KB pages: 200 MB)
BULK_WAL_PAGES = 50_000
CLOSING_WAIT_MS = 2000  # how long an import's closing checkpoint waits for readers (durable)
T = TypeVar("T")


@dataclass(frozen=True)
class Store:
    url: str
    kind: str  # "sqlite" | "postgres"
    path: str | None = None
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = None
    dbname: str | None = None
    schema: str | None = None

    @classmethod
    def parse(cls, url: str | None) -> Store:
        url = url or DEFAULT_DB
        if url.startswith(("postgresql://", "postgres://")):
            u = urlparse(url)
            q = parse_qs(u.query)
            if not u.path.strip("/"):
                raise HuifangError(f"'{url}' names no database (postgresql://user:pw@host:5432/DBNAME)", field="db")
            return cls(url=url, kind="postgres", host=u.hostname or "127.0.0.1", port=u.port or 5432,
                       user=unquote(u.username or ""), password=unquote(u.password or ""),
                       dbname=u.path.strip("/"), schema=q["schema"][0] if q.get("schema") else None)
        if "://" in url:
            raise HuifangError(f"'{url}' is neither a file path nor a postgresql:// URL", field="db")
        return cls(url=url, kind="sqlite", path=str(Path(url)))

    def env(self) -> dict[str, str]:
        if self.kind == "sqlite":
            return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": self.path or DEFAULT_DB,
                    "SQLITE_LOCK_TIMEOUT": "30"}
        env = {"PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_DBNAME": self.dbname or "",
               "POSTGRES_HOST": self.host or "127.0.0.1", "POSTGRES_PORT": str(self.port or 5432),
               "POSTGRES_USER": self.user or "", "POSTGRES_PASSWORD": self.password or "",
               "POSTGRES_CONNECT_TIMEOUT": "5", "POSTGRES_LOCK_TIMEOUT": "30",
               # none opened ahead: with one, the first request found it still connecting and grew the
               # pool, so every command opened two; the pool makes one on demand and keeps it
               "POSTGRES_POOL_SIZE": "0", "POSTGRES_MAX_OVERFLOW": "4"}
        if self.schema:
            env["POSTGRES_SCHEMA"] = self.schema
        return env

    def sqlalchemy_url(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{Path(self.path or DEFAULT_DB).resolve()}"
        auth = f"{self.user}:{self.password}@" if self.user else ""
        return f"postgresql+psycopg://{auth}{self.host}:{self.port}/{self.dbname}"

    def exists(self) -> bool:
        return self.kind == "postgres" or Path(self.path or DEFAULT_DB).exists()

    def prepare(self) -> None:
        """SQLite: WAL so readers never block the writer, many operator processes share one file."""
        if self.kind == "sqlite":
            p = Path(self.path or DEFAULT_DB)
            if p.parent and not p.parent.exists():
                raise HuifangError(f"directory '{p.parent}' does not exist", field="db")
            try:
                con = sqlite3.connect(p, timeout=30)
                try:
                    con.execute("PRAGMA journal_mode=WAL")
                finally:
                    con.close()
            except sqlite3.Error as e:
                raise HuifangError(f"cannot open '{p}' ({e})", field="db") from None

    def open(self, start: Callable[[], T]) -> T:
        """Run `start` (the event store's own set-up: connect, create its tables). Workers starting at
        once race on PostgreSQL's CREATE ... IF NOT EXISTS: that is retried; any other failure is one
        line naming the store."""
        from eventsourcing.persistence import OperationalError, PersistenceError

        for n in range(5):
            try:
                return start()
            except (OperationalError, PersistenceError) as e:
                if n < 4 and any(w in str(e) for w in START_RACES):
                    _time.sleep(0.05 * (n + 1))
                    continue
                raise self.unopened(e) from None
        raise AssertionError("unreachable")

    def unopened(self, e: BaseException) -> HuifangError:
        """The one line for a store that could not be opened, quoting the library's or server's reason."""
        return HuifangError(f"cannot open the store ({first_line(e)}); check the path or URL"
                            + ("; if the server is restarting, retry when it is back" if self.kind == "postgres"
                               else ""), field="db")


@contextmanager
def page_cache(query: Callable[[str], Any], kb: int = PAGE_CACHE_KB) -> Iterator[None]:
    """One SQLite connection's page cache raised to `kb` while the block runs, then set back (the
    connection goes back to its pool). `query(sql)` runs a statement and gives its first value."""
    before = query("PRAGMA cache_size")
    query(f"PRAGMA cache_size=-{int(kb)}")
    try:
        yield
    finally:
        query(f"PRAGMA cache_size={int(before if before is not None else -2000)}")


@contextmanager
def import_cache(recorder: Any) -> Iterator[None]:
    """SQLite: the store connection set up for one bulk import, then set back.
    - Its page cache raised (page_cache): the event table's unique index is keyed by random uuids, so
      an import's lookups and inserts land all over it; in SQLite's default 2 MB cache a store of 100k
      subjects re-read (and spilled) its index pages batch after batch.
    - Its WAL let grow to BULK_WAL_PAGES before a commit checkpoints it, not SQLite's 1 000 pages:
      each batch rewrites most of that index's pages, and a checkpoint after every batch copied them
      all into the file again. The import ends with a checkpoint that gives the WAL's disk back (a
      kill before it leaves a larger WAL for the next commit to check in, as a rebuild's does).
    - Its commits in synchronous=NORMAL: the WAL is not synced per batch, but once at the end
      (durable). A batch is all or nothing either way; a power cut can take the last batches back,
      position and all, as a kill mid-import does.
    None of these changes anything that is written. PostgreSQL, or a connection that cannot be had: nothing
    is changed."""
    from eventsourcing.persistence import PersistenceError
    from eventsourcing.sqlite import SQLiteDatastore

    datastore = getattr(recorder, "datastore", None)
    if not isinstance(datastore, SQLiteDatastore):
        yield
        return
    try:
        with datastore.get_connection(commit=False) as conn:  # the connection an import uses (one thread)
            pass
    except (sqlite3.Error, PersistenceError):  # only a speed-up: without it the import runs as before
        yield
        return

    def query(sql: str) -> Any:
        with suppress(sqlite3.Error):  # closed since (with its app): nothing to set back
            cur = conn.cursor()
            cur.execute(sql)
            row = cur.fetchone()
            return row[0] if row else None
        return None

    before = query("PRAGMA wal_autocheckpoint"), query("PRAGMA synchronous")
    query(f"PRAGMA wal_autocheckpoint={BULK_WAL_PAGES}")
    query("PRAGMA synchronous=NORMAL")
    try:
        with page_cache(query):
            yield
    finally:
        query(f"PRAGMA wal_autocheckpoint={int(before[0] if before[0] is not None else 1000)}")
        query(f"PRAGMA synchronous={int(before[1] if before[1] is not None else 2)}")
        durable(conn, query)


def durable(conn: Any, query: Callable[[str], Any]) -> None:
    """After a bulk import's commits in synchronous=NORMAL (import_cache): its WAL checkpointed into
    the file and its disk given back; if readers keep the checkpoint from finishing within
    CLOSING_WAIT_MS, the WAL is synced instead (the next commit of any command checks it in). Either
    way every batch the import reported is on disk when the command returns (a power cut during the
    import loses at most its last batches, with their position: a re-run resumes)."""
    wait = query("PRAGMA busy_timeout")
    query(f"PRAGMA busy_timeout={CLOSING_WAIT_MS}")  # a reader in a long report does not hold the command up
    try:
        busy = query("PRAGMA wal_checkpoint(TRUNCATE)")  # (busy, log, checkpointed): its first value
    finally:
        query(f"PRAGMA busy_timeout={int(wait if wait is not None else 30000)}")
    if busy == 0:
        return
    with suppress(sqlite3.Error, OSError):
        cur = conn.cursor()
        cur.execute("PRAGMA database_list")
        path = cur.fetchone()[2]  # (seq, name, file) of "main"
        if path:
            fd = os.open(path + "-wal", os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
