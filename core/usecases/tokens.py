"""API tokens (G8): issued to a staff member by whoever may bind identities (`staff.add`), shown once,
kept only as a digest, revocable and expiring. A request with a token acts as its staff member under
the same access policy as that staff member's CLI commands; every refusal is recorded (AccessLog)."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import weakref
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .. import clock
from ..domain import Staff
from ..domain.token import ApiTokens
from ..errors import ConflictError, HuifangError, Refused
from ..labels import resolve_code

if TYPE_CHECKING:
    from ..services import App

PREFIX = "hf_"
# scope -> labels (zh_CN first): `read` lists and shows follow-ups; `write` records triggers, subjects,
# attempts and completions (a write token reads too: its results are follow-ups)
SCOPES: dict[str, list[str]] = {"read": ["读取", "Read"], "write": ["写入", "Write"]}
MAX_DAYS = 3650


class TokenRefused(Refused):
    """The token is unknown, revoked or expired (HTTP 401)."""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# per application (`huifang serve` keeps one for its lifetime): the book as last read, for authenticate
_BOOKS: weakref.WeakKeyDictionary[Any, ApiTokens] = weakref.WeakKeyDictionary()


def _book(app: App) -> ApiTokens | None:
    found: ApiTokens | None = app.find_by_id(ApiTokens.create_id())
    return found


def _current_book(app: App) -> ApiTokens | None:
    """The book as stored now, for authenticate (every request): kept per application and brought
    up to date with the events after its version — one read, returning nothing while nothing changed —
    instead of decoding every token's whole history per request. A revocation or a new token (another
    process's `huifang token ...`) counts from the next request as before. Only the token commands
    write the book, never a served command, so a served commit group holds none of its events: what
    is read here is committed. Read only: issue and revoke change a fresh copy (`_book`)."""
    book = _BOOKS.get(app)
    if book is None:
        book = _book(app)
        if book is not None:
            _BOOKS[app] = book
        return book
    for e in app.events.get(book.id, gt=book.version):
        event: Any = e
        event.mutate(book)
    return book


def parse_scopes(text: str) -> list[str]:
    """`read,write` (codes or labels) -> the codes, in table order."""
    options = list(SCOPES.items())
    given = {resolve_code(part, options, "scope") for part in text.replace("，", ",").split(",") if part.strip()}
    if not given:
        raise HuifangError("give at least one scope: read, write", field="scope")
    return [s for s in SCOPES if s in given]


def issue(app: App, staff: str, scopes: list[str], days: int | None, actor: str) -> tuple[dict[str, Any], str]:
    """A new token of `staff`: (its record, the secret token, shown this once)."""
    if days is not None and not 1 <= days <= MAX_DAYS:
        raise HuifangError(f"{days} is not between 1 and {MAX_DAYS} days", field="expires")
    app.load(Staff, staff, "staff", field="staff")
    app.access.require(actor, "staff.add", target=f"API token of staff {staff}")
    for _ in range(5):
        book = _book(app) or ApiTokens(actor=actor)
        code = f"T{len(book.tokens) + 1}"
        secret = secrets.token_urlsafe(32)
        expires = (clock.now() + timedelta(days=days)).isoformat() if days else None
        book.issue(code=code, staff=staff, scopes=scopes, digest=digest(secret), expires=expires, actor=actor)
        try:
            app.commit(book)
        except ConflictError:
            continue
        return public(book.tokens[code]), f"{PREFIX}{code}_{secret}"
    raise ConflictError("the token list is busy: re-run the command")


def revoke(app: App, code: str, reason: str, actor: str) -> dict[str, Any]:
    book = _book(app)
    if book is None or code not in book.tokens:
        raise HuifangError(f"API token '{code}' does not exist (huifang token list)")
    if book.tokens[code]["revoked"]:
        raise Refused(f"API token {code} was already revoked at {book.tokens[code]['revoked']}")
    app.access.require(actor, "staff.add", target=f"API token {code} of staff {book.tokens[code]['staff']}")
    book.revoke(code=code, reason=reason, actor=actor)
    app.commit(book)
    return public(book.tokens[code])


def listing(app: App, actor: str) -> list[dict[str, Any]]:
    app.access.require(actor, "staff.add", target="API tokens")  # who holds which access is the admins' business
    book = _book(app)
    return [public(t) for t in (book.tokens.values() if book else [])]


def public(token: dict[str, Any]) -> dict[str, Any]:
    """A token's record without its digest, and whether it may be used now."""
    now = clock.now()
    state = "revoked" if token["revoked"] else (
        "expired" if token["expires"] and clock.parse_instant(token["expires"], "expires") <= now else "active")
    return {k: v for k, v in token.items() if k != "digest"} | {"state": state}


def authenticate(app: App, presented: str) -> dict[str, Any]:
    """The token record a presented `hf_<code>_<secret>` names, if it may be used now; else
    TokenRefused. A revoked or expired token's use is recorded as a refusal of its staff member."""
    code, _, secret = presented.removeprefix(PREFIX).partition("_")
    book = _current_book(app)
    token = book.tokens.get(code) if book is not None and presented.startswith(PREFIX) else None
    if token is None or not hmac.compare_digest(token["digest"], digest(secret)):
        raise TokenRefused("the API token is not valid", field="authorization")
    state = public(token)["state"]
    if state != "active":
        reason = f"API token {code} is {state}"
        app.access.record_refusal(token["staff"], "api", f"API token {code}", reason)
        raise TokenRefused(reason, field="authorization")
    return token


def require_scope(app: App, token: dict[str, Any], scope: str, target: str) -> None:
    """The token was issued for `scope`; else refused, and the refusal recorded as the CLI records them."""
    if scope in token["scopes"]:
        return
    reason = f"API token {token['code']} has scope {', '.join(token['scopes'])}: it may not {scope} ({target})"
    app.access.record_refusal(token["staff"], f"api.{scope}", target, reason)
    raise Refused(reason, field="authorization")
