"""PostgreSQL helpers for the test suite (plain functions; conftest builds fixtures on them).

The server comes from ``scripts/pg start`` (``scripts/test`` exports HUIFANG_TEST_PG).
Each test gets its own schema so that tests (and pytest-xdist workers) never see each
other's data. The schema is carried in the URL as ``?schema=<name>``; libpq rejects that
unknown parameter, so it is stripped before connecting.
"""

from __future__ import annotations

import os
import uuid
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
