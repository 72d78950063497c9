"""Who is using the dashboard (G8): staff sign in with the password set by `huifang staff password`
(argon2id), or a reverse proxy that authenticated them names them in a trusted header
(`[serve] trusted_header`, off by default). Only supervisors, managers and admins may use it.

The session is a cookie signed with itsdangerous (HMAC; the key is derived from the store's seal key,
so every worker and a restart accept it) holding the staff id, a CSRF token and a fingerprint of the
password hash (a new password ends the old sessions); it expires after `SESSION_SECONDS`. A tampered
or expired cookie is no session. Every POST form carries the session's CSRF token; a request without
it, or with another, is refused (403) before anything runs.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "huifang_dashboard"
SESSION_SECONDS = 8 * 3600  # one working shift
DASHBOARD_ROLES = frozenset({"supervisor", "manager", "admin"})
SIGNIN_ACTION = "dashboard.signin"
SIGNIN_LIMIT = 5  # failed sign-ins per staff id per minute before further attempts wait


@dataclass
class Session:
    """The decoded cookie: `staff` None before sign-in (the CSRF token of the sign-in form only)."""

    csrf: str
    staff: str | None = None
    password: str | None = None  # fingerprint of the password hash signed in with
    fresh: bool = False  # made for this request: the response sets the cookie


def session_key(app: Any) -> bytes:
    """HUIFANG_SESSION_KEY, else derived from the seal key (never the key itself), else a random key of
    this process (sessions then end with it)."""
    given = os.environ.get("HUIFANG_SESSION_KEY")
    if given:
        return given.encode()
    try:
        from huifang.core.audit import keys

        seal = keys.load(keys.SEAL, keys.key_dir(app.store, app.config), create=False)
    except Exception:  # no key directory to read: fall back to this process's own key
        seal = None
    if seal is None:
        return secrets.token_bytes(32)
    return hmac.new(seal, b"huifang dashboard session v1", hashlib.sha256).digest()


def fingerprint(password_hash: str | None) -> str | None:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16] if password_hash else None


class Sessions:
    """Signing and reading session cookies."""

    def __init__(self, key: bytes, max_age: int = SESSION_SECONDS):
        self.serializer = URLSafeTimedSerializer(key, salt="huifang-dashboard")
        self.max_age = max_age

    def read(self, cookie: str | None) -> Session | None:
        """The session of a valid, unexpired cookie; None for none, a tampered or an expired one."""
        if not cookie:
            return None
        try:
            data = self.serializer.loads(cookie, max_age=self.max_age)
        except BadSignature:  # also SignatureExpired
            return None
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return None
        staff = data.get("s")
        return Session(csrf=data["c"], staff=staff if isinstance(staff, str) else None,
                       password=data.get("p") if isinstance(data.get("p"), str) else None)

    def dump(self, session: Session) -> str:
        return str(self.serializer.dumps({"c": session.csrf, "s": session.staff, "p": session.password}))

    @staticmethod
    def anonymous() -> Session:
        return Session(csrf=secrets.token_urlsafe(24), fresh=True)

    @staticmethod
    def signed_in(staff: str, password_hash: str | None) -> Session:
        """A new session (a new CSRF token too: nothing of the anonymous one carries over)."""
        return Session(csrf=secrets.token_urlsafe(24), staff=staff, password=fingerprint(password_hash), fresh=True)


def csrf_ok(session: Session | None, given: str | None) -> bool:
    return bool(session and given and hmac.compare_digest(session.csrf.encode(), given.encode()))


def dashboard_refusal(staff: Any, code: str) -> str | None:
    """Why this staff member may not use the dashboard (None: they may)."""
    if staff is None:
        return f"'{code}' is not registered staff"
    if staff.role not in DASHBOARD_ROLES:
        return f"{code} is {staff.role}: only {', '.join(sorted(DASHBOARD_ROLES))} may use the dashboard"
    return None


class Throttle:
    """At most `limit` failed sign-ins per staff id in any 60 s (this worker's memory): a password is
    not guessed online, and the failures are recorded all the same."""

    WINDOW = 60.0

    def __init__(self, limit: int = SIGNIN_LIMIT):
        self.limit = limit
        self.failures: dict[str, deque[float]] = {}

    def blocked(self, key: str) -> bool:
        q = self.failures.get(key)
        if not q:
            return False
        now = time.monotonic()
        while q and now - q[0] >= self.WINDOW:
            q.popleft()
        return len(q) >= self.limit

    def failed(self, key: str) -> None:
        if len(self.failures) > 10_000:
            self.failures.clear()
        self.failures.setdefault(key, deque()).append(time.monotonic())


def record_signin_refusal(app: Any, code: str, reason: str) -> None:
    """A failed sign-in is a refusal in the access log (G8): under the staff member when the id is
    registered, else under `anonymous` naming the id tried (an unknown id opens no log of its own)."""
    from huifang.core.domain import Staff

    known = bool(code) and len(code) <= 64 and app.find(Staff, code) is not None
    who = code if known else "anonymous"
    tried = code[:64] if code else "-"
    app.access.record_refusal(who, SIGNIN_ACTION, f"dashboard sign-in as {tried}", reason)
