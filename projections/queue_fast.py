"""The due queue's query, shared by the read side and by a read-only fast path for `huifang queue`.

`queue_query` is the page's SQL with named parameters (`:name`, which both the stdlib sqlite3 and
SQLAlchemy's `text()` bind): ViewsReadSide.queue runs it on either backend after catching the views
up. `read_queue` runs the same SQL with the stdlib sqlite3 alone, on a read-only connection, when
the store is a SQLite file whose core view is current (at the log's head and of this code's
version); otherwise it answers None and the caller takes the full path. Operators run the queue
dozens of times an hour: this module imports no SQLAlchemy, eventsourcing or plugin, so the
command costs a fraction of opening the application.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import sqlite3
import struct
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from huifang.core.status import OPEN_ORDER

CORE_VIEW = "core"  # core_views.CoreView.name: the view that fills `followups`
CORE_VIEW_VERSION = 5  # core_views.CoreView.version (tests/test_queue_fast.py keeps the two equal)
ID_NAMESPACE = uuid5(NAMESPACE_URL, "https://huifang.example/ids")  # core/domain/base.NAMESPACE
EVENTS_TABLE = "stored_events"  # eventsourcing's SQLite events table; the rowid is the notification id
# the columns read, in core/ports.QueueRow's order (no JSON columns, no aggregates)
QUEUE_COLUMNS = ("code", "subject", "plugin", "visit_type", "status", "window_open", "due", "owner", "channel",
                 "attempts", "next_attempt_at", "provisional")


def utc_text(dt: datetime) -> str:
    """An instant as the views store it (plugin_api.views.ts): UTC ISO text, which sorts as a string."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def queue_query(until: datetime, agent: str | Sequence[str] | None = None, due_before: datetime | None = None,
                limit: int | None = None) -> tuple[str, dict[str, Any]]:
    """SQL and parameters of one page of the due queue: open follow-ups whose window opens before
    `until` (of `agent`, or of any of several owners — a team; due before `due_before`), soonest
    deadline first, at most `limit` rows (None or 0: all). One agent's page is read through the
    index on (owner, due)."""
    params: dict[str, Any] = {f"status{i}": str(s) for i, s in enumerate(OPEN_ORDER)}
    where = [f"status IN ({', '.join(':' + k for k in params)})", "window_open < :until"]
    params["until"] = utc_text(until)
    if isinstance(agent, str) and agent:
        where.append("owner = :agent")
        params["agent"] = agent
    elif agent is not None and not isinstance(agent, str):
        owners = {f"owner{i}": a for i, a in enumerate(dict.fromkeys(agent))}
        where.append(f"owner IN ({', '.join(':' + k for k in owners)})" if owners else "1 = 0")
        params.update(owners)
    if due_before is not None:
        where.append("due < :due_before")
        params["due_before"] = utc_text(due_before)
    sql = f"SELECT {', '.join(QUEUE_COLUMNS)} FROM followups WHERE {' AND '.join(where)} ORDER BY due, code"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return sql, params


def staff_id(code: str) -> str:
    """The stored originator id of staff member `code` (core/domain/base.aggregate_uuid, as hex)."""
    return stored_id("staff", code)


def stored_id(kind: str, key: str) -> str:
    """The stored originator id of an aggregate (core/domain/base.aggregate_uuid, as hex)."""
    return uuid5(ID_NAMESPACE, f"{kind}:{key}").hex


class Fallback(Exception):
    """Something only the full path may answer (or report): the caller takes it."""


def read_queue(path: str, until: datetime, agent: str | None = None, due_before: datetime | None = None,
               limit: int | None = None) -> list[tuple[Any, ...]] | None:
    """The page from the SQLite file `path` without writing to it, or None when the core view is
    missing, of another version or behind the log (the full path then catches it up), or the file
    cannot be read as a huifang store. Position, head and rows are read in one transaction, so they
    are one snapshot even while another process writes."""
    try:
        with snapshot(path) as con:
            return page(con, until, agent, due_before, limit)
    except (Fallback, sqlite3.Error):
        return None


def current_rows(con: sqlite3.Connection, views: Iterable[str], sql: str, params: Mapping[str, Any]
                 ) -> list[tuple[Any, ...]] | None:
    """The rows of `sql` on a connection to a SQLite store when every one of `views` is at the log's
    head (the read side's catch-up would apply nothing), else None: ViewsReadSide.queue's per-call
    check in two indexed reads, where the catch-up machinery costs twice the query itself."""
    try:
        positions = dict(con.execute('SELECT "view", position FROM view_positions').fetchall())
        head = con.execute(f"SELECT MAX(rowid) FROM {EVENTS_TABLE}").fetchone()[0] or 0
        if any(positions.get(v, 0) < head for v in views):
            return None
        return con.execute(sql, params).fetchall()
    except sqlite3.Error:
        return None


@contextmanager
def snapshot(path: str) -> Iterator[sqlite3.Connection]:
    """A read-only connection to the store `path` inside one transaction whose core view is current
    (at the log's head and of this code's version); Fallback otherwise."""
    file = Path(path)
    if not file.is_file():
        raise Fallback("no such store")
    con = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    try:
        con.execute("BEGIN")
        view = con.execute('SELECT position, version FROM view_positions WHERE "view" = ?', (CORE_VIEW,)).fetchone()
        head = con.execute(f"SELECT MAX(rowid) FROM {EVENTS_TABLE}").fetchone()[0] or 0
        if view is None or view[1] != CORE_VIEW_VERSION or view[0] != head:
            raise Fallback("the core view is behind the log")
        yield con
    finally:
        con.close()


def exists(con: sqlite3.Connection, originator_id: str) -> bool:
    return con.execute(f"SELECT 1 FROM {EVENTS_TABLE} WHERE originator_id = ? LIMIT 1",
                       (originator_id,)).fetchone() is not None


def page(con: sqlite3.Connection, until: datetime, agent: str | None, due_before: datetime | None,
         limit: int | None) -> list[tuple[Any, ...]]:
    if agent and not exists(con, staff_id(agent)):
        raise Fallback("not registered staff")  # the full path says so
    sql, params = queue_query(until, agent, due_before, limit)
    return con.execute(sql, params).fetchall()


# -- the work list with names (G8), for the anonymous `cli` ---------------------------------------------------
# What the full path reads through the application, read here from the log's rows: the aggregates'
# events whose effect is modelled below; any other topic of these aggregates means Fallback.
SUBJECT_TOPICS = {"huifang:Subject.Registered", "huifang:Subject.DetailsUpdated", "huifang:Subject.OptedOut",
                  "huifang:Subject.ExemptionSigned", "huifang:Subject.Erased"}
READLOG_TOPICS = {"huifang:ReadLog.Opened", "huifang:ReadLog.Read", "huifang:ReadLog.ExportApproved"}
PRIVACY_TOPICS = {"huifang:PrivacySettings.Configured", "huifang:PrivacySettings.Widened",
                  "huifang:PrivacySettings.KeyCheckRecorded"}
RECENT_READS = 20  # core/audit/reads.record_list_read: a read of the same day among the latest 20
PII_PREFIX, JSON_MARK, ERASED, UNREADABLE = "pii:1:", "~", "[erased]", "[unreadable]"  # core/privacy.py
KCV_INFO = b"huifang-master-key-check-v1"  # core/privacy._KCV_INFO
HEAD_CONTEXT = b"huifang-head-v1\x00"  # core/audit/chain.HEAD_CONTEXT
SEAL_KEY, MASTER_KEY = ("seal", "HUIFANG_SEAL_KEY"), ("master", "HUIFANG_KEY")  # core/audit/keys.py
HEX_KEY = re.compile(r"[0-9a-fA-F]{64}")


@dataclass
class Worklist:
    """One page of the queue and the names and numbers shown on it (subject -> (name, phones);
    empty when access control hides them from the anonymous `cli`)."""

    rows: list[tuple[Any, ...]]
    people: dict[str, tuple[str, list[str]]]


def read_worklist(path: str, until: datetime, agent: str | None, due_before: datetime | None, limit: int | None,
                  *, logins: Sequence[str], key_dir: Path, tz: tzinfo, today: date) -> Worklist | None:
    """The work list the full path shows the anonymous `cli` (no --as, an OS login bound to no staff
    member: core/identity.resolve), read without the application; None where only the full path
    may answer: the view behind the log, a login bound to staff, a subject whose read is not yet
    recorded today (the full path records it, G8), a key it cannot open, an event it does not model.

    Names are shown when access control is off (core/access.py: no AccessPolicy record and the sealed
    high-water mark agrees); then every subject on the page must have a `queue` read by `cli`
    recorded on `today` among its latest reads (core/audit/reads.record_list_read), so nothing is
    written. Once access control is on, `cli` sees no names and nothing is recorded."""
    try:
        with snapshot(path) as con:
            if any(exists(con, stored_id("login", f"os_user:{name}")) for name in logins) \
                    or exists(con, staff_id("cli")):
                return None  # the actor is a staff member: their scope and reads are the full path's
            rows = page(con, until, agent, due_before, limit)
            master = master_key(con, key_dir)  # checked as the application checks it when it opens
            if not rows or enforced(con, key_dir):
                return Worklist(rows, {})
            subjects = sorted(dict.fromkeys(r[1] for r in rows))
            if master is None or not all(read_today(con, s, tz, today) for s in subjects):
                return None
            return Worklist(rows, people(con, subjects, master))
    except (Fallback, sqlite3.Error, ValueError, KeyError, TypeError, OSError):
        return None


def events(con: sqlite3.Connection, originator_id: str, topics: set[str]) -> list[tuple[str, dict[str, Any]]]:
    """An aggregate's events in order as (topic, state); Fallback on a topic not modelled here."""
    out = []
    for topic, state in con.execute(f"SELECT topic, state FROM {EVENTS_TABLE} WHERE originator_id = ? "
                                    "ORDER BY originator_version", (originator_id,)):
        if topic not in topics:
            raise Fallback(topic)
        out.append((topic, json.loads(state)))
    return out


def instant(value: Any) -> datetime:
    """An event's timestamp as eventsourcing's JSON transcoder stores it."""
    if not isinstance(value, dict) or value.get("_type_") != "datetime_iso":
        raise Fallback("timestamp")
    return datetime.fromisoformat(value["_data_"])


def enforced(con: sqlite3.Connection, key_dir: Path) -> bool:
    """core/access.Access.enforced: an AccessPolicy record, or the sealed high-water mark says so
    (missing under a chain, switched on, or not matching its seal: fail closed)."""
    if exists(con, stored_id("access", "policy")):
        return True
    mark = con.execute("SELECT last_position, head, records, enforced, seal FROM huifang_head WHERE id = 1").fetchone()
    if mark is None:
        return con.execute("SELECT 1 FROM huifang_chain LIMIT 1").fetchone() is not None
    position, head, records, on, seal = mark
    if on:
        return True
    key = load_key(SEAL_KEY, key_dir)
    if key is None:
        return False
    return not (seal and hmac.compare_digest(head_seal(key, int(position), bytes(head), int(records)), bytes(seal)))


def head_seal(key: bytes, position: int, head: bytes, records: int) -> bytes:
    """core/audit/chain.head_seal of a mark with access control off."""
    return hmac.new(key, HEAD_CONTEXT + struct.pack(">QQB", position, records, 0) + head, hashlib.sha256).digest()


def read_today(con: sqlite3.Connection, subject: str, tz: tzinfo, today: date) -> bool:
    """Whether `cli`'s `queue` read of the subject is recorded on `today` (record_list_read's test)."""
    reads = [(state["actor"], state["what"], instant(state["timestamp"]))
             for topic, state in events(con, stored_id("readlog", subject), READLOG_TOPICS)
             if topic == "huifang:ReadLog.Read"]
    return any(actor == "cli" and what == "queue" and at.astimezone(tz).date() == today
               for actor, what, at in reads[-RECENT_READS:])


def master_key(con: sqlite3.Connection, key_dir: Path) -> bytes | None:
    """The master key (None: not given); Fallback when it fails the key check recorded at init
    (core/privacy.KeyRing.check_open refuses it) or cannot be read."""
    master = load_key(MASTER_KEY, key_dir)
    check = None
    for _topic, state in events(con, stored_id("privacy", "settings"), PRIVACY_TOPICS):
        check = state.get("key_check", check)
    if master is not None and check and not hmac.compare_digest(
            hmac.new(master, KCV_INFO, hashlib.sha256).hexdigest(), check):
        raise Fallback("the master key fails the key check")
    return master


def people(con: sqlite3.Connection, subjects: Sequence[str], master: bytes) -> dict[str, tuple[str, list[str]]]:
    """projections/people.names_and_phones for each subject: the name and numbers revealed."""
    ring = KeyRing(con, master)
    out: dict[str, tuple[str, list[str]]] = {}
    for code in subjects:
        name: Any = None
        phones: Any = None
        found = False
        for topic, state in events(con, stored_id("subject", code), SUBJECT_TOPICS):
            if topic == "huifang:Subject.Registered":
                found, name, phones = True, state["name"], list(state["phones"])
            elif topic == "huifang:Subject.DetailsUpdated":
                changes = state["changes"]
                name = changes.get("name", name)
                phones = changes.get("phones", phones)
        if not found:
            out[code] = (code, [])
        else:
            out[code] = (str(ring.reveal(name)), [str(p) for p in ring.reveal_all(list(phones))])
    return out


class KeyRing:
    """core/privacy.KeyRing.reveal over one read transaction, with the master key given; Fallback
    where the full path would refuse or print a placeholder this does not model."""

    def __init__(self, con: sqlite3.Connection, master: bytes):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self.aesgcm = AESGCM
        self.con = con
        self.master = master
        self.keys: dict[str, Any] = {}

    def data_key(self, subject: str) -> Any:
        from cryptography.exceptions import InvalidTag

        if subject in self.keys:
            return self.keys[subject]
        row = self.con.execute("SELECT wrapped, erased FROM huifang_keys WHERE subject = ?", (subject,)).fetchone()
        if row is None:
            raise Fallback("no data key")  # the full path's placeholder then depends on what it read before
        if row[1] or row[0] is None:
            key = None
        else:
            wrapped = bytes(row[0])
            try:
                dk = self.aesgcm(self.master).decrypt(wrapped[:12], wrapped[12:], aad(subject, "dk"))
            except InvalidTag:
                raise Fallback("the master key does not open a data key") from None
            key = self.aesgcm(dk)
        self.keys[subject] = key
        return key

    def reveal(self, value: Any) -> Any:
        from cryptography.exceptions import InvalidTag

        if not (isinstance(value, str) and value.startswith(PII_PREFIX)):
            return value
        subject, _, data = value[len(PII_PREFIX):].rpartition(":")
        key = self.data_key(subject)
        if key is None:
            return ERASED
        as_json = data.startswith(JSON_MARK)
        try:
            raw = base64.urlsafe_b64decode((text := data[1:] if as_json else data) + "=" * (-len(text) % 4))
            plain = key.decrypt(raw[:12], raw[12:], aad(subject, "pii-json" if as_json else "pii")).decode("utf-8")
            return json.loads(plain) if as_json else plain
        except (InvalidTag, ValueError):
            return UNREADABLE

    def reveal_all(self, obj: Any) -> Any:
        if isinstance(obj, dict):
            return {k: self.reveal_all(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [self.reveal_all(v) for v in obj]
        return self.reveal(obj)


def aad(subject: str, what: str) -> bytes:
    return f"huifang-{what}-v1:{subject}".encode()


def load_key(kind: tuple[str, str], directory: Path) -> bytes | None:
    """core/audit/keys.load without creating a key (that module loads the audit package, and with it
    eventsourcing); Fallback where it would raise."""
    name, var = kind
    text = os.environ.get(var)
    if not text:
        path = directory / f"{name}.key"
        if not path.is_file():
            return None
        text = path.read_text(encoding="ascii")
    t = text.strip()
    raw: bytes | None = None
    if HEX_KEY.fullmatch(t):
        raw = bytes.fromhex(t)
    else:
        try:
            raw = base64.b64decode(t + "=" * (-len(t) % 4), altchars=b"-_" if ("-" in t or "_" in t) else None,
                                   validate=True)
        except (binascii.Error, ValueError):
            raw = None
    if raw is None or len(raw) != 32:
        raise Fallback(f"{var}: not a 32-byte key")
    return raw
