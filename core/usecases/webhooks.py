"""Webhook subscriptions (`huifang webhook add|list|remove|deliveries|replay`): who gets which events
of the log, signed with which secret. Managing them is the admins' business, as API tokens are (who
receives the store's events, and whether with personal data): every refusal is recorded (AccessLog).
The dispatcher itself is core/webhooks.py."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from .. import clock
from .. import webhooks as dispatcher
from ..domain.webhook import WebhookOutbox, Webhooks
from ..errors import ConflictError, HuifangError, NotFound, Refused
from ..labels import current_lang, resolve_code

if TYPE_CHECKING:
    from ..services import App

# code -> labels (zh_CN first): the events a subscription may ask for
EVENTS: dict[str, list[str]] = {"completed": ["回访完成", "Follow-up completed"],
                                "ticket_opened": ["问题件已开", "Ticket opened"],
                                "overdue": ["回访逾期", "Follow-up overdue"],
                                "lost": ["失访", "Follow-up lost"]}
# a delivery attempt's state, and a subscription's
STATES: dict[str, list[str]] = {"delivered": ["已送达", "Delivered"], "failed": ["失败", "Failed"],
                                "active": ["启用", "Active"], "removed": ["已删除", "Removed"]}
MIN_SECRET = 16
ACTION = "staff.add"  # the admins' action (as API tokens): who receives the store's events


def label(code: str, table: dict[str, list[str]] = EVENTS) -> str:
    names = table.get(code)
    if not names:
        return code
    return names[0] if current_lang() == "zh_CN" else names[1]


def parse_events(text: str) -> list[str]:
    """`completed,ticket_opened` (codes or labels, either comma) -> the codes, in table order."""
    options = list(EVENTS.items())
    given = {resolve_code(part.strip(), options, "events") for part in text.replace("，", ",").split(",")
             if part.strip()}
    if not given:
        raise HuifangError(f"name at least one event: {', '.join(EVENTS)}", field="events")
    return [e for e in EVENTS if e in given]


def check_url(url: str) -> str:
    u = urlparse(url.strip())
    if u.scheme not in ("http", "https") or not u.hostname:
        raise HuifangError(f"URL '{url}' is not an http:// or https:// address with a host")
    return url.strip()


def check_secret(secret: str) -> str:
    if len(secret) < MIN_SECRET or secret != secret.strip():
        raise HuifangError(f"give at least {MIN_SECRET} characters without surrounding spaces (the receiver "
                           f"checks the signature with the same secret)", field="secret")
    return secret


def _book(app: App) -> Webhooks | None:
    found: Webhooks | None = app.find_by_id(Webhooks.create_id())
    return found


def _subscription(app: App, code: str) -> dict[str, Any]:
    book = _book(app)
    if book is None or code not in book.subscriptions:
        raise NotFound(f"webhook '{code}' does not exist (huifang webhook list)")
    return dict(book.subscriptions[code])


def add(app: App, url: str, events: list[str], secret: str, personal: bool, actor: str) -> dict[str, Any]:
    """A new subscription; it receives the events recorded from now on."""
    url = check_url(url)
    check_secret(secret)
    if not events:
        raise HuifangError(f"name at least one event: {', '.join(EVENTS)}", field="events")
    app.access.require(actor, ACTION, target=f"webhook to {url}")
    for _ in range(5):
        book = _book(app) or Webhooks(actor=actor)
        code = f"W{len(book.subscriptions) + 1}"
        sealed = app.keyring.seal(dispatcher.SECRET_KEY, secret)  # G8: never in clear in the log
        start = int(app.recorder.max_notification_id() or 0)
        book.add(code=code, url=url, events=events, secret=sealed, personal=personal, start=start, actor=actor)
        try:
            app.commit(book)
        except ConflictError:
            continue
        return public(app, book.subscriptions[code])
    raise ConflictError("the webhook list is busy: re-run the command")


def remove(app: App, code: str, actor: str) -> dict[str, Any]:
    sub = _subscription(app, code)
    if sub["removed"]:
        raise Refused(f"webhook {code} was already removed at {sub['removed']}")
    app.access.require(actor, ACTION, target=f"webhook {code} to {sub['url']}")
    book = _book(app)
    assert book is not None
    book.remove(code=code, actor=actor)
    app.commit(book)
    return public(app, book.subscriptions[code])


def mask(secret: Any) -> str:
    text = secret if isinstance(secret, str) else ""
    return "*" * 8 + (text[-4:] if len(text) >= MIN_SECRET else "")


def public(app: App, sub: dict[str, Any]) -> dict[str, Any]:
    """A subscription as listed: the secret masked, its outbox's position and failing head."""
    box = dispatcher.outbox(app, sub["code"])
    state = "removed" if sub["removed"] else "active"
    return {"code": sub["code"], "url": sub["url"], "events": list(sub["events"]),
            "event_labels": [label(e) for e in sub["events"]], "personal": sub["personal"],
            "secret": mask(app.keyring.reveal(sub["secret"])), "added": sub["added"], "added_by": sub["added_by"],
            "removed": sub["removed"], "state": state, "state_label": label(state, STATES),
            "position": box.position if box is not None else sub["start"],
            "blocked_by": box.head if box is not None else None,
            "failures": box.failures if box is not None else 0,
            "retry_at": clock.iso(box.retry_at) if box is not None and box.retry_at is not None else None}


def listing(app: App, actor: str) -> list[dict[str, Any]]:
    app.access.require(actor, ACTION, target="webhooks")
    book = _book(app)
    return [public(app, s) for s in (book.subscriptions.values() if book else [])]


def deliveries(app: App, actor: str, failed_only: bool = False, limit: int = 0) -> list[dict[str, Any]]:
    """Every delivery attempt in log order (the last `limit`, 0 = all); `failed_only`: the failed ones."""
    if limit < 0:
        raise HuifangError("must be 0 (all) or more", field="limit")
    app.access.require(actor, ACTION, target="webhook deliveries")
    book = _book(app)
    codes = {WebhookOutbox.create_id(c): c for c in (book.subscriptions if book else {})}
    topics = [WebhookOutbox.Failed.TOPIC] if failed_only else [WebhookOutbox.Delivered.TOPIC,
                                                                WebhookOutbox.Failed.TOPIC]
    tz = app.config.huifang.timezone
    rows: list[dict[str, Any]] = []
    start = 1
    while True:
        notes = app.recorder.select_notifications(start=start, limit=1000, topics=topics)
        if not notes:
            break
        for n in notes:
            e: Any = app.mapper.to_domain_event(n)
            state = "delivered" if n.topic == WebhookOutbox.Delivered.TOPIC else "failed"
            retry: datetime | None = getattr(e, "retry_at", None)
            rows.append({"at": clock.iso(e.timestamp, tz), "delivery": e.delivery_id,
                         "subscription": codes.get(n.originator_id, "?"), "event": e.event,
                         "event_label": label(e.event), "attempt": e.attempt, "state": state,
                         "state_label": label(state, STATES), "status": e.status,
                         "error": getattr(e, "error", ""), "retry_at": clock.iso(retry, tz), "replay": e.replay})
        start = notes[-1].id + 1
    return rows[-limit:] if limit else rows


def replay(app: App, did: str, actor: str, send: dispatcher.Sender = dispatcher.post) -> dict[str, Any]:
    """Send a delivery again, now: one already made (the receiver lost it; same delivery id), or the
    failing head of its subscription without waiting for the retry time. A later one is refused: the
    subscription delivers in log order."""
    code, n = dispatcher.parse_delivery_id(did)
    sub = _subscription(app, code)
    app.access.require(actor, ACTION, target=f"webhook delivery {did}")
    if sub["removed"]:
        raise Refused(f"webhook {code} was removed at {sub['removed']}: nothing is sent to it")
    p = dispatcher.pending_at(app, sub, n)
    if p is None:
        raise NotFound(f"delivery '{did}' does not exist (huifang webhook deliveries)")
    box = dispatcher.outbox(app, code)
    position = box.position if box is not None else sub["start"]
    if n > position:
        head = dispatcher.next_pending(app, sub, position)
        if head is None or head.notification_id != n:
            first = dispatcher.delivery_id(code, head.notification_id) if head else "?"
            raise Refused(f"delivery {did} is not due yet: {first} goes first (each webhook delivers in log order)")
    return dispatcher.attempt(app, sub, box, p, clock.now(), send, replay=n <= position)
