"""Helpers for the issue-8 tests: a small ward scenario through the real CLI, and raw SQL access to
the store exactly as an attacker with a database client would have it (Python's sqlite3 on the
file; psql — or psycopg when psql is not installed — on PostgreSQL)."""
from __future__ import annotations

import shutil
import sqlite3
import subprocess
from typing import Any

import psycopg

from tests.pg_support import split_schema

DISCHARGE = ["--attr", "department=cardiology", "--attr", "diagnosis=CHD", "--attr", "responsible_nurse=n1",
             "--attr", "attending_doctor=dr1"]
NAME, PHONE, EMAIL = "张三丰", "13812345678", "zhang.sanfeng@example.com"
ADDRESS = "北京市海淀区中关村大街27号"
NOTE = "患者说夜里胸口发闷"
SUGGESTION = "希望出院指导写得更详细"


def ward(hf: Any) -> Any:
    """Staff, one subject with personal data, a discharge, an attempt with a note, a completion with
    a free-text answer. Returns hf."""
    hf.ok("staff", "add", "hn", "--name", "护士长", "--role", "supervisor", "--dept", "cardiology")
    hf.ok("staff", "add", "n1", "--name", "王护士", "--role", "agent", "--dept", "cardiology", "--reports-to", "hn")
    hf.ok("subject", "add", "P1", "--name", NAME, "--phone", PHONE, "--email", EMAIL, "--attr", f"address={ADDRESS}")
    hf.ok("trigger", "discharge", "--subject", "P1", "--id", "D1", *DISCHARGE)
    hf.ok("attempt", "D1-1", "--channel", "phone", "--outcome", "no_answer", actor="n1", now="2026-10-08T10:20+08:00")
    hf.ok("attempt", "D1-1", "--channel", "phone", "--outcome", "reached", "--note", NOTE, actor="n1",
          now="2026-10-08T15:10+08:00")
    hf.ok("complete", "D1-1", "--answer", "recovery=8", "--answer", "satisfaction=满意", "--answer",
          f"suggestion={SUGGESTION}", actor="n1", now="2026-10-08T15:12+08:00")
    return hf


class Raw:
    """The store through a plain SQL client, bypassing huifang."""

    def __init__(self, url: str):
        self.url = url
        self.pg = url.startswith("postgresql")
        self.pos = "notification_id" if self.pg else "rowid"
        self.events = "huifang_events" if self.pg else "stored_events"  # eventsourcing names it per backend

    def blob(self, data: bytes) -> str:
        return f"'\\x{data.hex()}'::bytea" if self.pg else f"X'{data.hex()}'"

    def execute(self, *statements: str) -> None:
        if not self.pg:
            con = sqlite3.connect(self.url)
            try:
                for st in statements:
                    con.execute(st)
                con.commit()
            finally:
                con.close()
            return
        conninfo, schema = split_schema(self.url)
        script = f'SET search_path TO "{schema}";\n' + ";\n".join(statements) + ";\n"
        if shutil.which("psql"):
            subprocess.run(["psql", conninfo, "-v", "ON_ERROR_STOP=1", "-q", "-c", script], check=True,
                           capture_output=True)
        else:  # pragma: no cover
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute(script)

    def query(self, sql: str) -> list[tuple]:
        if not self.pg:
            con = sqlite3.connect(self.url)
            try:
                return [tuple(r) for r in con.execute(sql)]
            finally:
                con.close()
        conninfo, schema = split_schema(self.url)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'SET search_path TO "{schema}"')
            return [tuple(r) for r in conn.execute(sql)]

    def records(self) -> list[tuple[int, Any, int, str, bytes]]:
        return [(r[0], r[1], r[2], r[3], bytes(r[4])) for r in self.query(
            f"SELECT {self.pos}, originator_id, originator_version, topic, state FROM {self.events} ORDER BY {self.pos}")]

    def position_of(self, topic: str, nth: int = -1) -> int:
        return [r[0] for r in self.records() if r[3] == topic][nth]

    def state(self, position: int) -> bytes:
        return next(r[4] for r in self.records() if r[0] == position)

    def set_state(self, position: int, state: bytes) -> None:
        self.execute(f"UPDATE {self.events} SET state = {self.blob(state)} WHERE {self.pos} = {position}")

    def dump(self) -> bytes:
        """Every byte a reader of the database would see (SQLite: the file and its WAL)."""
        if not self.pg:
            from pathlib import Path

            out = Path(self.url).read_bytes()
            wal = Path(self.url + "-wal")
            return out + (wal.read_bytes() if wal.exists() else b"")
        conninfo, schema = split_schema(self.url)
        chunks = []
        with psycopg.connect(conninfo, autocommit=True) as conn:
            tables = [r[0] for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,))]
            for t in tables:
                for row in conn.execute(f'SELECT * FROM "{schema}"."{t}"'):
                    for v in row:
                        chunks.append(bytes(v) if isinstance(v, (bytes, memoryview)) else str(v).encode())
        return b"\n".join(chunks)
