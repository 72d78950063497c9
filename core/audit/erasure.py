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

import sqlite3
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
    subj.erase(reason=reason, legal_order=legal_order, retention_until=clock.iso(until) if until else None,
               recordings=to_delete, actor=actor)
    app.keyring.erase(code)
    app.commit(subj)
    deleted = 0
    for r in recs:
        if r["sha256"] in to_delete:
            p = locate(app, r)
            if p.is_file():
                p.unlink()
                deleted += 1
    _scrub(app)
    return {"subject": code, "erased": True, "reason": reason, "legal_order": legal_order,
            "inside_retention": inside, "retention_until": clock.iso(until) if until else None,
            "recordings_deleted": deleted}


def _scrub(app: Any) -> None:
    """Make the destroyed key's old bytes go away on disk too (SQLite WAL; PostgreSQL dead tuples)."""
    try:
        if app.store.kind == "sqlite":
            con = sqlite3.connect(app.store.path, timeout=30)
            try:
                con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                con.close()
        else:
            import psycopg
            from psycopg.sql import SQL, Identifier

            s = app.store
            with psycopg.connect(host=s.host, port=s.port, user=s.user, password=s.password, dbname=s.dbname,
                                 autocommit=True, connect_timeout=5) as conn:
                conn.execute(SQL("VACUUM {}").format(Identifier(s.schema or "public", "huifang_keys")))
    except Exception:  # best effort: the key is wrapped by the master key anyway
        pass
