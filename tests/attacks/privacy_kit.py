"""Helpers for the personal-data attacks (tests/attacks/test_privacy_*.py): the store's bytes as an
attacker with a database client sees them — the SQLite file and its WAL read with plain file I/O,
every table of a PostgreSQL schema printed by the real `psql` binary — and the forms a value could
take in them (UTF-8, JSON escapes, UTF-16, the hex psql prints for bytea)."""
from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
from pathlib import Path

from tests.audit_kit import Raw
from tests.pg_support import split_schema


def psql() -> str:
    found = shutil.which("psql") or (sorted(glob.glob("/usr/lib/postgresql/*/bin/psql")) or [None])[-1]
    assert found, "psql not found"
    return found


def psql_run(url: str, sql: str) -> str:
    """`psql -At` on the store's schema; stdout as text."""
    conninfo, schema = split_schema(url)
    script = f'SET search_path TO "{schema}";\n{sql}'
    r = subprocess.run([psql(), conninfo, "-q", "-v", "ON_ERROR_STOP=1", "-At", "-c", script], capture_output=True,
                       check=True, timeout=120)
    return r.stdout.decode("utf-8", "replace")


def raw_bytes(url: str) -> bytes:
    """Every byte of the store: SQLite file + WAL; PostgreSQL: every row of every table of the schema
    as `psql` prints it (bytea as \\x hex)."""
    if not url.startswith("postgresql"):
        out = b""
        for name in (url, url + "-wal"):
            if os.path.exists(name):
                out += Path(name).read_bytes()
        return out
    _, schema = split_schema(url)
    tables = psql_run(url, f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{schema}'")
    chunks = [psql_run(url, f'SELECT t::text FROM "{schema}"."{t}" t') for t in tables.split()]
    return "\n".join(chunks).encode("utf-8")


def forms(text: str) -> list[bytes]:
    """The ways a value could sit in those bytes."""
    utf8, escaped = text.encode("utf-8"), json.dumps(text).strip('"').encode("ascii")
    return [utf8, escaped, text.encode("utf-16-le"), utf8.hex().encode(), escaped.hex().encode()]


def leaks(url: str, *secrets: str) -> list[str]:
    """The secrets found in the raw store in any form."""
    raw = raw_bytes(url)
    return [s for s in secrets if any(f in raw for f in forms(s))]


__all__ = ["Raw", "forms", "leaks", "psql", "psql_run", "raw_bytes"]
