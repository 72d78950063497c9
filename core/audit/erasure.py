"""`huifang subject erase ID --reason R [--legal-order REF]`: crypto-shredding (G10).

The subject's data key is destroyed in the same transaction that records `Subject.Erased`; every
personal value of theirs (name, phones, email, PII attributes, notes, free-text answers) becomes
unreadable for good. Nothing in the log is edited or deleted, so the hash chain still verifies and
every report — built from structured values that were never encrypted — stays the same.

Refused (G10) while any of the subject's records is inside its retention period (retention_years of
the plugins the subject has follow-ups in, counted from when each follow-up closed) unless a legal
order is given, which is recorded as such; refused while a follow-up is still open. The subject's
recording files are deleted with the key (they are plaintext audio), and listed in the event.
"""
from __future__ import annotations

import mmap
import os
import sqlite3
import time
from typing import Any

from .. import clock
from ..errors import HuifangError, Refused


def erase_subject(app: Any, code: str, reason: str, legal_order: str | None, actor: str) -> dict[str, Any]:
    from ..domain import Subject
    from .recordings import locate, recorded, subject_retention

    reason = (reason or "").strip()
    if not reason:
        raise HuifangError("say why the subject's personal data is erased (e.g. the request number)", field="reason")
    legal_order = (legal_order or "").strip() or None
    subj = app.load(Subject, code, "subject")
    app.access.require(actor, "subject.erase", subject=code)
    if getattr(subj, "erased", False):
        raise Refused(f"subject {code} was already erased")
    until, plugins, open_codes = subject_retention(app, code)
    if open_codes:
        raise Refused(f"subject {code} has open follow-ups ({', '.join(open_codes[:5])}): close or cancel them "
                      f"before erasing the subject")
    now = clock.now()
    inside = until is not None and now < until
    if inside and not legal_order:
        raise Refused(f"G10: subject {code}'s records are inside the retention period until "
                      f"{(clock.iso(until) or '')[:10]} ({', '.join(plugins)}: "
                      + ", ".join(f"{p} {app.settings(p).retention_years} years" for p in plugins)
                      + "); erasure needs --legal-order REF")
    recs = [r for r in recorded(app) if r["subject"] == code]
    shared = {r["sha256"] for r in recorded(app) if r["subject"] != code}
    to_delete = sorted({r["sha256"] for r in recs} - shared)
    old_key = app.recorder.fetch_key(code)
    # G8: the reason and the order may name the person: sealed under the key destroyed in this very
    # transaction, so they are never readable from the store (the operator files them elsewhere)
    k = app.keyring
    subj.erase(reason=k.seal(code, reason), legal_order=k.seal(code, legal_order) if legal_order else None,
               retention_until=clock.iso(until) if until else None, recordings=to_delete, actor=actor)
    app.keyring.erase(code)
    app.commit(subj)
    deleted = 0
    for r in recs:
        if r["sha256"] in to_delete:
            p = locate(app, r)
            if p.is_file():
                p.unlink()
                deleted += 1
    scrubbed = _scrub(app, old_key[0] if old_key else None)
    return {"subject": code, "erased": True, "reason": reason, "legal_order": legal_order,
            "inside_retention": inside, "retention_until": clock.iso(until) if until else None,
            "recordings_deleted": deleted, "disk_scrubbed": scrubbed}


def _on_disk(path: str, wrapped: bytes) -> bool:
    """Whether the destroyed key's wrapped bytes are still anywhere in the SQLite file or its WAL."""
    for name in (path, path + "-wal"):
        try:
            with open(name, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
                if m.find(wrapped) != -1:
                    return True
        except (OSError, ValueError):  # missing or empty file
            continue
    return False


def _scrub(app: Any, wrapped: bytes | None) -> bool | None:
    """Make the destroyed key's old bytes go away on disk too (G10). The key row was overwritten
    and deleted with `secure_delete` on; on SQLite the old page also sits in the main file while
    another connection reads an older snapshot, so the WAL is checkpointed (TRUNCATE waits for such
    readers, up to HUIFANG_ERASE_WAIT seconds, default 30) until the bytes are gone — checked by
    scanning the files. PostgreSQL: waits for older transactions, then `VACUUM FULL` of the key table
    (WAL segments and backups keep old pages until they are recycled: README).
    Returns whether the SQLite files were checked clean (None: PostgreSQL, or nothing to look for)."""
    try:
        if app.store.kind == "sqlite":
            path = str(app.store.path)
            deadline = time.monotonic() + float(os.environ.get("HUIFANG_ERASE_WAIT") or 30)
            while True:
                left = max(0.1, deadline - time.monotonic())
                con = sqlite3.connect(path, timeout=min(left, 5))
                try:
                    con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
                except sqlite3.OperationalError:
                    pass
                finally:
                    con.close()
                if wrapped is None:
                    return None
                if not _on_disk(path, wrapped):
                    return True
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.05)
        else:
            import psycopg
            from psycopg.sql import SQL, Identifier, Literal

            s = app.store
            deadline = time.monotonic() + float(os.environ.get("HUIFANG_ERASE_WAIT") or 30)
            with psycopg.connect(host=s.host, port=s.port, user=s.user, password=s.password, dbname=s.dbname,
                                 autocommit=True, connect_timeout=5) as conn:
                # a transaction older than the erasure still sees the old row version, and VACUUM keeps
                # it for them: wait for those (the ones this role may see) before vacuuming
                t0 = conn.execute("SELECT statement_timestamp()").fetchone()
                older = True
                while older:
                    row = conn.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
                        "pid <> pg_backend_pid() AND backend_xmin IS NOT NULL AND xact_start < %s",
                        (t0[0] if t0 else None,)).fetchone()
                    older = bool(row and row[0])
                    if older and time.monotonic() >= deadline:
                        break
                    if older:
                        time.sleep(0.05)
                # VACUUM frees the dead row versions but leaves their bytes in the page; VACUUM FULL
                # rewrites the (small) table into a new file (it needs the table's owner and a moment
                # of exclusive lock; else plain VACUUM, reported as not scrubbed)
                table = Identifier(s.schema or "public", "huifang_keys")
                left = max(1.0, deadline - time.monotonic())
                conn.execute(SQL("SET lock_timeout = {}").format(Literal(f"{int(left * 1000)}ms")))
                try:
                    conn.execute(SQL("VACUUM FULL {}").format(table))
                    full = True
                except psycopg.Error:
                    conn.execute(SQL("VACUUM {}").format(table))
                    full = False
                return full and not older
    except Exception:  # best effort: the key is wrapped by the master key anyway
        pass
    return None
