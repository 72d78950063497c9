"""API tokens of the HTTP service (`huifang token issue|revoke|list`): which staff member a token
acts as, its scopes and expiry. The secret itself is never stored, only its SHA-256 digest (the
secret is 256 random bits: a plain digest cannot be reversed, so no slow hash is needed).

One aggregate per store holds every token: the service reads it once per request, and issuing,
revoking and every change are events in the chained log like any other record.

Stable topics: `huifang:ApiTokens.*`.
"""
from __future__ import annotations

from typing import Any

from eventsourcing.domain import event

from .base import Base, aggregate_uuid


class ApiTokens(Base):
    """The store's API tokens: code -> {staff, scopes, digest, expires, issued, revoked}."""

    class Opened(Base.Created):
        actor: str

    @event(Opened)
    def __init__(self, actor: str):
        self.tokens: dict[str, dict[str, Any]] = {}

    @staticmethod
    def create_id() -> Any:
        return aggregate_uuid("apitokens", "store")

    class Issued(Base.Event):
        code: str
        staff: str
        scopes: list[str]
        digest: str  # sha256 hex of the secret
        expires: str | None  # ISO instant, None: never
        actor: str

    @event(Issued)
    def issue(self, code: str, staff: str, scopes: list[str], digest: str, expires: str | None, actor: str) -> None:
        self.tokens[code] = {"code": code, "staff": staff, "scopes": list(scopes), "digest": digest,
                             "expires": expires, "issued": self.modified_on.isoformat(), "issued_by": actor,
                             "revoked": None}

    class Revoked(Base.Event):
        code: str
        reason: str
        actor: str

    @event(Revoked)
    def revoke(self, code: str, reason: str, actor: str) -> None:
        self.tokens[code]["revoked"] = self.modified_on.isoformat()
