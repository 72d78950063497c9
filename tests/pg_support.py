"""PostgreSQL helpers for the test suite (plain functions; conftest builds fixtures on them).

The server comes from ``scripts/pg start`` (``scripts/test`` exports HUIFANG_TEST_PG).
Each test gets its own schema so that tests (and pytest-xdist workers) never see each
other's data. The schema is carried in the URL as ``?schema=<name>``; libpq rejects that
unknown parameter, so it is stripped before connecting.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql

ENV_VAR = "HUIFANG_TEST_PG"


def pg_url() -> str | None:
    """The test server's base URL, or None when no PostgreSQL is available."""
    return os.environ.get(ENV_VAR)


def split_schema(url: str) -> tuple[str, str | None]:
    """Split ``url`` into (conninfo libpq accepts, schema name or None)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((v for k, v in query if k == "schema"), None)
    rest = urlencode([(k, v) for k, v in query if k != "schema"])
    return urlunsplit(parts._replace(query=rest)), schema


def fresh_schema_url(base_url: str) -> str:
    """Create a new, empty schema ``t_<12 hex>`` and return ``base_url`` pointing at it."""
    conninfo, old = split_schema(base_url)
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    base = base_url if old is None else conninfo  # replace, never duplicate, ?schema=
    sep = "&" if urlsplit(base).query else "?"
    return f"{base}{sep}schema={name}"


def drop_schema(url: str) -> None:
    """Drop the schema named in ``url`` (from fresh_schema_url) and everything in it."""
    conninfo, schema = split_schema(url)
    if not schema:
        raise ValueError(f"no ?schema= in {url!r}")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )


# -- a pool of initialised schemas (per pytest worker) ---------------------------------------------
# `huifang init` on a fresh schema costs about 0.3 s of DDL (tables, indexes, the event store's
# function and type) plus the key files. A store-backed test only needs a store *as init leaves it*,
# so a schema is initialised once, and between tests put back to that state: tables truncated, the
# post-init rows copied back, sequences and the key directory restored. A schema whose structure or
# privileges a test changed (a catalog fingerprint: columns, indexes, constraints, functions, triggers
# and their state, policies, rules, owners and ACLs) is dropped instead of reused.

_FINGERPRINT = sql.SQL("""
SELECT 'schema', n.nspname, coalesce(n.nspacl::text, ''), n.nspowner::regrole::text, '', '', ''
  FROM pg_namespace n WHERE n.oid = {ns}::regnamespace
UNION ALL
SELECT 'rel', c.relname, c.relkind::text, coalesce(a.attname, ''),
       coalesce(format_type(a.atttypid, a.atttypmod), '') || ' ' || coalesce(a.attnotnull::text, ''),
       coalesce(pg_get_expr(d.adbin, d.adrelid), ''),
       concat_ws(' ', c.relowner::regrole::text, c.relacl::text, a.attacl::text, c.relrowsecurity,
                 c.relforcerowsecurity)
  FROM pg_class c
  LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
 WHERE c.relnamespace = {ns}::regnamespace
UNION ALL
SELECT 'idx', indexrelid::regclass::text, pg_get_indexdef(indexrelid), '', '', '', ''
  FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relnamespace = {ns}::regnamespace
UNION ALL
SELECT 'con', conname, pg_get_constraintdef(oid), '', '', '', ''
  FROM pg_constraint WHERE connamespace = {ns}::regnamespace
UNION ALL
SELECT 'fn', p.oid::regprocedure::text, md5(p.prosrc), coalesce(p.proacl::text, ''), '', '', ''
  FROM pg_proc p WHERE p.pronamespace = {ns}::regnamespace
UNION ALL
SELECT 'trg', tgname, tgrelid::regclass::text, tgenabled::text, '', '', ''
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace = {ns}::regnamespace AND NOT t.tgisinternal
UNION ALL
SELECT 'pol', polname, polrelid::regclass::text, coalesce(pg_get_expr(polqual, polrelid), ''), '', '', ''
  FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid WHERE c.relnamespace = {ns}::regnamespace
UNION ALL
SELECT 'rule', rulename, ev_class::regclass::text, '', '', '', ''
  FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
 WHERE c.relnamespace = {ns}::regnamespace AND c.relkind <> 'v'
UNION ALL
SELECT 'type', t.typname, t.typtype::text, coalesce(t.typacl::text, ''), '', '', ''
  FROM pg_type t WHERE t.typnamespace = {ns}::regnamespace AND t.typtype IN ('e', 'd', 'r', 'm')
ORDER BY 1, 2, 3, 4
""")


class _Pristine:
    """What one schema looked like right after `init`."""

    def __init__(self, conn: psycopg.Connection, schema: str, sidecar: Path | None):
        self.fingerprint = _fingerprint(conn, schema)
        self.tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename", (schema,))]
        self.rows: dict[str, bytes] = {}
        for table in self.tables:
            ident = sql.Identifier(schema, table)
            if _one(conn, sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(ident))[0]:
                buf = bytearray()
                with conn.cursor().copy(sql.SQL("COPY {} TO STDOUT (FORMAT binary)").format(ident)) as cp:
                    for chunk in cp:
                        buf += chunk
                self.rows[table] = bytes(buf)
        self.sequences: list[tuple[str, int, bool]] = []
        for (name,) in conn.execute(
                "SELECT sequencename FROM pg_sequences WHERE schemaname = %s ORDER BY 1", (schema,)).fetchall():
            last, called = _one(conn, sql.SQL("SELECT last_value, is_called FROM {}").format(
                sql.Identifier(schema, name)))
            self.sequences.append((name, last, called))
        self.sidecar = sidecar
        self.sidecar_copy: Path | None = None
        if sidecar is not None and sidecar.is_dir():
            self.sidecar_copy = Path(tempfile.mkdtemp(prefix="huifang-pg-sidecar-")) / "copy"
            shutil.copytree(sidecar, self.sidecar_copy)


def _one(conn: psycopg.Connection, query: sql.Composed) -> tuple[Any, ...]:
    row = conn.execute(query).fetchone()
    assert row is not None
    return row


def _fingerprint(conn: psycopg.Connection, schema: str) -> list[tuple]:
    text = conn.execute(_FINGERPRINT.format(ns=sql.Literal(schema))).fetchall()
    return [tuple(str(v).replace(schema, "<schema>") for v in row) for row in text]


class SchemaPool:
    """Initialised PostgreSQL schemas for one pytest worker. `init(url)` initialises a fresh schema
    (the test suite's `huifang init`); `sidecar(url)` names the store's own directory under
    HUIFANG_HOME (keys, recordings), put back as init left it too. A schema acquired for a named
    state (conftest's store_cache: a module's staff and subjects) is kept in that state instead:
    the state's commands run once per worker, not once per test (~0.1 s per command here)."""

    def __init__(self, base_url: str, init: Callable[[str], None], sidecar: Callable[[str], Path]):
        self.base_url = base_url
        self._init = init
        self._sidecar = sidecar
        self._free: dict[Hashable, list[str]] = {}  # state (None: as init left it) -> schemas in it
        self._state: dict[str, Hashable] = {}
        self._pristine: dict[str, _Pristine] = {}

    def acquire(self, state: Hashable = None, build: Callable[[str], None] | None = None) -> str:
        """A schema as init left it; or, given `state` and `build`, one as `build` leaves an initialised
        schema: built once, then put back to that state after each use like an initialised one."""
        free = self._free.get(state)
        if free:
            return free.pop()
        if state is not None:
            assert build is not None, "a new state needs its build"
            url = self.acquire()
            try:
                build(url)
                self._remember(url)
            except BaseException:
                if url in self._pristine:
                    self.release(url)
                else:
                    self._discard(url)
                raise
            self._state[url] = state
            return url
        url = fresh_schema_url(self.base_url)
        self._init(url)
        self._remember(url)
        return url

    def owns(self, url: str) -> bool:
        return url in self._pristine

    def _remember(self, url: str) -> None:
        """What the schema (and its sidecar) holds now is what `release` puts back."""
        self._forget(self._pristine.pop(url, None), keep_sidecar=True)
        conninfo, schema = split_schema(url)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            self._pristine[url] = _Pristine(conn, schema or "", self._sidecar(url))

    def release(self, url: str) -> None:
        """Put the schema back as it was acquired, or drop it when that cannot be done safely."""
        try:
            reused = self._reset(url)
        except psycopg.Error:
            reused = False
        if reused:
            self._free.setdefault(self._state.get(url), []).append(url)
        else:
            self._discard(url)

    def close(self) -> None:
        for url in list(self._pristine):
            self._discard(url)
        self._free.clear()

    @staticmethod
    def _forget(p: _Pristine | None, keep_sidecar: bool = False) -> None:
        if p is None:
            return
        if p.sidecar is not None and not keep_sidecar:
            shutil.rmtree(p.sidecar, ignore_errors=True)
        if p.sidecar_copy is not None:
            shutil.rmtree(p.sidecar_copy.parent, ignore_errors=True)

    def _discard(self, url: str) -> None:
        p = self._pristine.pop(url, None)
        self._state.pop(url, None)
        try:
            drop_schema(url)
        finally:
            self._forget(p)

    def _reset(self, url: str) -> bool:
        p = self._pristine[url]
        conninfo, schema = split_schema(url)
        assert schema
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("SET lock_timeout = '5s'")  # a connection a test left open must not hang the suite
            if _fingerprint(conn, schema) != p.fingerprint:
                return False
            with conn.transaction():
                # TRUNCATE, not DELETE: fresh files, so no earlier test's row versions stay readable
                # in the pages (tests/attacks read raw pages to prove erasure)
                conn.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(
                    sql.Identifier(schema, t) for t in p.tables)))
                for table, data in p.rows.items():
                    with conn.cursor().copy(sql.SQL("COPY {} FROM STDIN (FORMAT binary)").format(
                            sql.Identifier(schema, table))) as cp:
                        cp.write(data)
                for name, last, called in p.sequences:
                    conn.execute("SELECT setval(%s, %s, %s)", (f'"{schema}"."{name}"', last, called))
        if p.sidecar is not None:
            shutil.rmtree(p.sidecar, ignore_errors=True)
            if p.sidecar_copy is not None:
                shutil.copytree(p.sidecar_copy, p.sidecar)
        return True
