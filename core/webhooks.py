"""Webhooks out: the dispatcher. The outbox is the event log itself (no second queue to lose): each
subscription reads the store's notifications after its recorded position, maps the events it asked for
to JSON payloads and POSTs them, signed, strictly in log order.

- At-least-once: the position moves only with a recorded `Delivered` event, after the receiver's 2xx; a
  crash in between re-sends the same delivery id (`<subscription>-<notification id>`), which receivers
  use to drop duplicates.
- In order: a failing delivery blocks the later ones of its subscription (so every subject's events
  arrive in order) and is retried after 2, 4, 8 … seconds, at most BACKOFF_CAP apart. Every attempt is
  an event (`webhook deliveries`).
- Privacy: a payload names the follow-up, the subject's id and codes only; the name and phones (and
  free-text answers, reasons) only for a subscription added with `--personal`, and then each delivery's
  disclosure is a recorded read of the subject (G8).
- Time: attempts and retry times are on the application's clock (`now` given by the caller: the CLI
  edge or the service's loop); only the loops sleep on real time.

`run_pending(app, now)` is one pass; `huifang serve` calls it every couple of seconds from a background
thread, `huifang webhook run` from its own loop.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from . import clock
from .domain import FollowUp, Subject, Ticket
from .domain.webhook import WebhookOutbox, Webhooks
from .errors import ConflictError, HuifangError, NotFound
from .privacy import ERASED, NO_KEY, UNREADABLE, is_token
from .privacy import label as reason_label

SYSTEM = "system"
TIMEOUT = 10.0  # seconds for one POST
BACKOFF_BASE = 2  # seconds after the first failure, doubled after each further one
BACKOFF_CAP = 600  # at most ten minutes between two tries of one delivery
SCAN = 500  # notifications read per query
PER_PASS = 100  # deliveries per subscription per pass (a backlog drains over several passes)
SECRET_KEY = "huifang webhook-secrets"  # the key-ring row sealing the secrets (no subject id has a space)

SIGNATURE, DELIVERY, EVENT, TIMESTAMP = ("X-Huifang-Signature", "X-Huifang-Delivery", "X-Huifang-Event",
                                         "X-Huifang-Timestamp")
# event kind -> the stored topic it comes from (`lost`: a Closed event with status lost)
TOPICS: dict[str, str] = {"completed": FollowUp.Completed.TOPIC, "ticket_opened": Ticket.Opened.TOPIC,
                          "overdue": FollowUp.MarkedOverdue.TOPIC, "lost": FollowUp.Closed.TOPIC}

Sender = Callable[[str, bytes, dict[str, str]], tuple[int | None, str]]
"""POST body with headers to url -> (HTTP status or None, error text or "")."""


def backoff(failures: int) -> timedelta:
    """How long to wait after the `failures`-th consecutive failure: 2, 4, 8 … s, capped."""
    return timedelta(seconds=min(BACKOFF_CAP, BACKOFF_BASE * 2 ** min(max(failures, 1) - 1, 30)))


def sign(secret: str, body: bytes) -> str:
    """The X-Huifang-Signature value: HMAC-SHA256 of the raw body with the subscription's secret."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def delivery_id(code: str, notification_id: int) -> str:
    return f"{code}-{notification_id}"


def parse_delivery_id(text: str) -> tuple[str, int]:
    code, _, n = text.strip().rpartition("-")
    if not code or not n.isdigit():
        raise NotFound(f"'{text}' is not a delivery id (e.g. W1-57: huifang webhook deliveries)")
    return code, int(n)


def kind_of(topic: str, event: Any) -> str | None:
    """The webhook event kind of a stored event, None if no subscription can ask for it."""
    for kind, t in TOPICS.items():
        if t == topic and (kind != "lost" or getattr(event, "status", None) == "lost"):
            return kind
    return None


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def headers(secret: str, body: bytes, did: str, kind: str, at: datetime) -> dict[str, str]:
    return {"Content-Type": "application/json; charset=utf-8", "User-Agent": "huifang-webhooks/1",
            SIGNATURE: sign(secret, body), DELIVERY: did, EVENT: kind, TIMESTAMP: str(int(at.timestamp()))}


def post(url: str, body: bytes, hdrs: dict[str, str]) -> tuple[int | None, str]:
    """One POST: (status, "") on 2xx, (status, why) on another status, (None, why) without an answer."""
    import httpx

    try:
        r = httpx.post(url, content=body, headers=hdrs, timeout=TIMEOUT, follow_redirects=False)
    except Exception as e:  # refused, timed out, a bad address …: a failed attempt, recorded as such
        return None, f"{type(e).__name__}: {e}"[:300]
    return r.status_code, "" if 200 <= r.status_code < 300 else f"HTTP {r.status_code}"


# -- payloads -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Pending:
    """The next event a subscription has to deliver."""

    notification_id: int
    kind: str
    event: Any
    originator_id: Any
    originator_version: int


def payload(app: Any, sub: dict[str, Any], p: Pending) -> dict[str, Any]:
    """The JSON a receiver gets for one event: codes only, unless the subscription is personal. Built
    from the record as it was at that event, so a re-send carries the same facts."""
    tz = app.config.huifang.timezone
    record: Any = app.repository.get(p.originator_id, version=p.originator_version)
    out: dict[str, Any] = {"delivery_id": delivery_id(sub["code"], p.notification_id), "event": p.kind,
                           "occurred_at": clock.iso(p.event.timestamp, tz), "subscription": sub["code"]}
    personal = bool(sub["personal"])
    if p.kind == "ticket_opened":
        fu = app.find(FollowUp, record.followup)
        out |= {"followup_id": record.followup, "subject_id": record.subject, "plugin": record.plugin,
                "kind": fu.visit_type if fu else None, "ticket_id": record.code, "outcome": "open",
                "category": app.keyring.reveal(record.category) if personal else reason_label(record.category),
                "department": record.department, "severity": record.severity,
                "deadline": clock.iso(record.deadline, tz), "reason_code": record.reason_code}
        if personal:
            out["reason"] = app.keyring.reveal(record.reason)
    else:
        out |= {"followup_id": record.code, "subject_id": record.subject, "plugin": record.plugin,
                "kind": record.visit_type, "trigger_id": record.trigger, "trigger_kind": record.trigger_kind,
                "department": record.department, "outcome": record.status}
        if p.kind == "completed":
            answers = dict(record.answers or {})
            out["answers"] = (app.keyring.reveal_all(answers) if personal else
                              {k: v for k, v in answers.items() if not is_token(v)})  # sealed free text stays out
        elif p.kind == "lost":
            out["reason"] = app.keyring.reveal(record.closed_reason) if personal else reason_label(record.closed_reason)
        elif p.kind == "overdue":
            out |= {"due": clock.iso(record.due, tz), "owner": record.owner}
    if personal:
        subject = app.find(Subject, out["subject_id"])
        if subject is not None:
            out["personal"] = {"name": app.keyring.reveal(subject.name),
                               "phones": [app.keyring.reveal(x) for x in subject.phones]}
    return out


def record_disclosure(app: Any, sub: dict[str, Any], subject: str, did: str) -> None:
    """G8: personal data sent to a personal subscription is a recorded read of the subject (by the
    system, naming the subscription and the delivery)."""
    from .audit.reads import record_system_read

    record_system_read(app, subject, "webhook", f"webhook delivery {did}",
                       f"webhook {sub['code']} ({sub['url']}) with personal scope")


# -- the outbox -----------------------------------------------------------------------------------------
# per application: the subscriptions' outboxes as last seen (brought up to date with the events since,
# not replayed whole each pass) and how far each subscription's scan passed over unwanted events
_OUTBOXES: weakref.WeakKeyDictionary[Any, dict[str, WebhookOutbox]] = weakref.WeakKeyDictionary()
_SCANNED: weakref.WeakKeyDictionary[Any, dict[str, int]] = weakref.WeakKeyDictionary()


def subscriptions(app: Any) -> dict[str, dict[str, Any]]:
    book: Webhooks | None = app.find_by_id(Webhooks.create_id())
    return dict(book.subscriptions) if book is not None else {}


def outbox(app: Any, code: str) -> WebhookOutbox | None:
    cache = _OUTBOXES.setdefault(app, {})
    box = cache.get(code)
    if box is None:
        box = app.find_by_id(WebhookOutbox.create_id(code))
    else:
        for e in app.repository.event_store.get(box.id, gt=box.version):
            box = e.mutate(box)
    if box is not None:
        cache[code] = box
    return box


def forget(app: Any, code: str) -> None:
    _OUTBOXES.setdefault(app, {}).pop(code, None)


def next_pending(app: Any, sub: dict[str, Any], position: int) -> Pending | None:
    """The first event after `position` this subscription asked for."""
    scanned = _SCANNED.setdefault(app, {})
    start = max(position, scanned.get(sub["code"], 0)) + 1
    topics = sorted({TOPICS[k] for k in sub["events"]})
    while True:
        notes = app.recorder.select_notifications(start=start, limit=SCAN, topics=topics)
        if not notes:
            return None
        for n in notes:
            event = app.mapper.to_domain_event(n)
            kind = kind_of(n.topic, event)
            if kind is not None and kind in sub["events"]:
                return Pending(n.id, kind, event, n.originator_id, n.originator_version)
            scanned[sub["code"]] = n.id  # passed over (in memory only: a restart scans it again)
        start = notes[-1].id + 1


def pending_at(app: Any, sub: dict[str, Any], notification_id: int) -> Pending | None:
    """The delivery of notification `notification_id` for this subscription, if it is one."""
    if notification_id <= sub["start"]:
        return None
    notes = app.recorder.select_notifications(start=notification_id, limit=1)
    if not notes or notes[0].id != notification_id:
        return None
    n = notes[0]
    event = app.mapper.to_domain_event(n)
    kind = kind_of(n.topic, event)
    if kind is None or kind not in sub["events"]:
        return None
    return Pending(n.id, kind, event, n.originator_id, n.originator_version)


def attempt(app: Any, sub: dict[str, Any], box: WebhookOutbox | None, p: Pending, now: datetime,
            send: Sender = post, replay: bool = False) -> dict[str, Any]:
    """Send one delivery and record the outcome (one event); returns the attempt as `deliveries` lists it.
    A replay re-sends a delivery already made: it neither moves the position nor blocks anything."""
    code = sub["code"]
    if box is None:
        box = WebhookOutbox(code=code, position=sub["start"], actor=SYSTEM)
    did = delivery_id(code, p.notification_id)
    secret = app.keyring.reveal(sub["secret"])
    if not isinstance(secret, str) or is_token(secret) or secret in (ERASED, NO_KEY, UNREADABLE):
        raise HuifangError(f"the secret of webhook {code} cannot be read ({secret}): is HUIFANG_KEY set?")
    data = payload(app, sub, p)
    if sub["personal"] and (replay or box.head != did):  # once per delivery (and per replay)
        record_disclosure(app, sub, data["subject_id"], did)
    body = body_of(data)
    n = box.failures + 1 if (box.head == did and not replay) else 1
    status, error = send(sub["url"], body, headers(secret, body, did, p.kind, now))
    ok = status is not None and 200 <= status < 300
    if ok:
        box.delivered(delivery_id=did, notification_id=p.notification_id, event=p.kind, attempt=n,
                      status=int(status or 0), replay=replay, actor=SYSTEM)
    else:
        retry = None if replay else now + backoff(box.failures + 1)
        box.failed(delivery_id=did, notification_id=p.notification_id, event=p.kind, attempt=n, status=status,
                   error=error or f"HTTP {status}", retry_at=retry, replay=replay, actor=SYSTEM)
    try:
        app.commit(box)
    except Exception:  # e.g. another dispatcher recorded first (it sent the same delivery id)
        forget(app, code)  # the cached outbox holds the unsaved event: read it afresh next time
        raise
    _OUTBOXES.setdefault(app, {})[code] = box
    return {"delivery": did, "subscription": code, "event": p.kind, "attempt": n,
            "state": "delivered" if ok else "failed", "status": status, "error": "" if ok else error,
            "retry_at": None if ok or replay else clock.iso(box.retry_at), "replay": replay}


def drain(app: Any, sub: dict[str, Any], now: datetime, send: Sender = post, limit: int = PER_PASS) -> int:
    """Deliver this subscription's due events in log order until one fails; returns how many were tried."""
    tried = 0
    while tried < limit:
        box = outbox(app, sub["code"])
        if box is not None and box.retry_at is not None and now < box.retry_at:
            break  # the failing head waits for its retry time; nothing after it goes first
        p = next_pending(app, sub, box.position if box is not None else sub["start"])
        if p is None:
            break
        try:
            done = attempt(app, sub, box, p, now, send)
        except ConflictError:
            break
        tried += 1
        if done["state"] != "delivered":
            break
    return tried


def run_pending(app: Any, now: datetime, send: Sender = post, source: str = clock.SYSTEM_CLOCK) -> int:
    """One pass over every active subscription at `now` (the application's clock); returns the number
    of delivery attempts made."""
    with clock.at(now, source):
        tried = 0
        error: Exception | None = None
        for sub in subscriptions(app).values():
            if sub["removed"]:
                continue
            try:
                tried += drain(app, sub, now, send)
            except Exception as e:  # one subscription's trouble does not hold up the others
                error = error or e
        if error is not None:
            raise error
        return tried
