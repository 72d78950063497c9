"""What a command costs a PostgreSQL store before it does anything: a store made by this code's DDL runs
none of it again (the stamp on the head table says so: no CREATE OR REPLACE FUNCTION rewriting the
catalog, no CREATE INDEX IF NOT EXISTS waiting on the log's lock behind other writers); a store whose
stamp is missing or older runs it (an upgrade), then stamps it. The views skip their CREATE round the
same way once every view's position row is at its version."""
from __future__ import annotations

import psycopg
import pytest

from tests.audit_kit import DISCHARGE
from tests.conftest import Huifang
from tests.pg_support import split_schema

pytestmark = pytest.mark.postgres


def _catalog(url: str) -> tuple[int, str | None]:
    """(xmin of the store's insert function in pg_proc: it changes when the function is replaced,
    the stamp on the head table)."""
    conninfo, schema = split_schema(url)
    with psycopg.connect(conninfo) as c:
        row = c.execute("SELECT p.xmin::text::bigint, obj_description(to_regclass(%s), 'pg_class') FROM pg_proc p "
                        "WHERE p.pronamespace = %s::regnamespace AND p.proname LIKE %s",
                        (f'"{schema}".huifang_head', schema, "es_insert_events%")).fetchone()
    assert row is not None
    return int(row[0]), row[1]


def _unstamp(url: str) -> None:
    conninfo, schema = split_schema(url)
    with psycopg.connect(conninfo, autocommit=True) as c:
        c.execute(f'COMMENT ON TABLE "{schema}".huifang_head IS NULL')


@pytest.fixture
def pg(hf: Huifang) -> Huifang:
    if not hf.db.startswith("postgresql"):
        pytest.skip("PostgreSQL start-up")
    return hf


def test_a_stamped_store_runs_no_ddl_at_start(pg: Huifang) -> None:
    pg.ok("subject", "add", "P1", "--name", "张三", "--phone", "13812345678")
    before, stamp = _catalog(pg.db)
    assert stamp and stamp.startswith("huifang ddl ")
    pg.ok("trigger", "discharge", "--subject", "P1", "--id", "D1", *DISCHARGE)
    assert pg.ok("show", "D1-1")["status"] == "planned"  # the views caught up without their CREATE round
    assert _catalog(pg.db) == (before, stamp)  # the function was not replaced: no DDL ran


def test_an_unstamped_store_runs_its_ddl_once_then_is_stamped(pg: Huifang) -> None:
    before, stamp = _catalog(pg.db)
    _unstamp(pg.db)  # a store made by an older version of the code
    pg.ok("subject", "add", "P1", "--name", "张三", "--phone", "13812345678")
    after, restamped = _catalog(pg.db)
    assert after != before and restamped == stamp  # the DDL ran (function replaced) and stamped it
    pg.ok("subject", "show", "P1", "--reason", "start-up test")
    assert _catalog(pg.db) == (after, stamp)
    assert pg.ok("audit", "verify")["ok"] is True


def test_a_command_opens_one_pooled_connection(pg: Huifang, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pool that opened one connection at start opened two: the first request found it still
    connecting and grew the pool. Made on demand, it is one a command (a PostgreSQL backend each)."""
    from eventsourcing import postgres

    opened: list[int] = []
    connect = postgres.ConnectionPool._connect

    def counted(self: object, timeout: float | None = None) -> object:
        opened.append(1)
        return connect(self, timeout=timeout)  # type: ignore[arg-type]

    monkeypatch.setattr(postgres.ConnectionPool, "_connect", counted)
    pg.ok("subject", "add", "P1", "--name", "张三", "--phone", "13812345678")
    pg.ok("trigger", "discharge", "--subject", "P1", "--id", "D1", *DISCHARGE)
    assert pg.ok("show", "D1-1")["status"] == "planned"
    assert len(opened) == 3  # three commands
