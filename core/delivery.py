"""Sending messages to subjects and staff (invites, G3 reminders, G12/G13 escalations, G21 greetings)
through the delivery adapter configured for the channel, each outcome an event on a Delivery.

`deliver` sends one message at most once per (purpose, ref, channel): the Delivery is claimed (saved)
before the adapter is called and a repeat finds it and returns it unchanged. A failed send is the
recorded outcome, never an exception; `retry` sends a failed, bounced or stuck one again.

`run_pending` is the catch-up pass of `tick` and of the service's background loop: it reads the log
from a saved position and delivers every reminder, escalation and greeting not delivered yet.
"""
from __future__ import annotations

import contextlib
import weakref
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import clock
from .delivery_adapters import built_in, secrets_of
from .delivery_config import MESSAGE_CHANNELS
from .domain.delivery import PENDING, Delivery, DeliveryCursor, delivery_code
from .errors import ConflictError, HuifangError, NotFound, Refused
from .labels import resolve
from .plugin_api.channels import FAILED, ChannelAdapter, OutgoingMessage, SendResult

if TYPE_CHECKING:
    from .services import App

PURPOSES = ("invite", "reminder", "escalation", "greeting")
RETRYABLE = ("failed", "bounced", PENDING)
STALE_ESCALATION = timedelta(days=7)  # an escalation older than this when first seen is not sent any more
SCAN = 500
SKIP_AHEAD = 1000  # events without anything to deliver the cursor may lag behind before it moves

_adapters: weakref.WeakKeyDictionary[Any, dict[str, ChannelAdapter]] = weakref.WeakKeyDictionary()


def outbox_dir(app: App) -> Path:
    from .audit.keys import sidecar

    configured = app.config.delivery.outbox_dir
    composed: Any = app  # the store is the composed application's, not part of the use cases' App
    return Path(configured).expanduser() if configured else sidecar(composed.store, "outbox")


def adapters(app: App) -> dict[str, ChannelAdapter]:
    """name -> adapter: the built-in ones this deployment configured, then the plugins' (hook
    `huifang_channel_adapters`; a plugin cannot replace a built-in name)."""
    found = _adapters.get(app)
    if found is not None:
        return found
    found = built_in(app.config.delivery, outbox_dir(app))
    registry = app.registry
    for plugin in registry.plugins:
        for adapter in registry.call(plugin, "huifang_channel_adapters", settings=registry.settings[plugin]) or []:
            if adapter.name not in found:
                found[adapter.name] = adapter
    _adapters[app] = found
    return found


def find(app: App, code: str) -> Delivery | None:
    found: Delivery | None = app.find_by_id(Delivery.create_id(code))
    return found


def deliver(app: App, *, channel: str, subject_id: str | None, to: str | None, text: str, purpose: str,
            ref: str, actor: str, subject_line: str | None = None, staff_id: str | None = None) -> Delivery:
    """Send `text` once for (purpose, ref, channel) and record the outcome (see the module doc).
    `to` None: the subject's address on the channel (a recorded read as the system), or for
    `staff_id` their `[delivery.staff_contacts]` address, else the staff code."""
    channel = resolve("channel", channel, MESSAGE_CHANNELS, "channel")
    if purpose not in PURPOSES:
        raise HuifangError(f"'{purpose}' is not one of {', '.join(PURPOSES)}", field="purpose")
    code = delivery_code(purpose, ref, channel)
    existing = find(app, code)
    if existing is not None:
        return existing
    sealed_to, sealed_text, sealed_line = to, text, subject_line
    if subject_id is not None:
        from .domain import Subject

        app.load(Subject, subject_id, "subject", field="subject")  # a wrong id is the caller's error, not an outcome
        try:
            sealed_to = app.keyring.seal(subject_id, to) if to else None
            sealed_text = app.keyring.seal(subject_id, text)
            sealed_line = app.keyring.seal(subject_id, subject_line) if subject_line else None
        except HuifangError:  # erased (G8): nothing of theirs may be written; recorded as failed below
            sealed_to, sealed_text, sealed_line = None, "(erased)", None
    d = Delivery(code=code, purpose=purpose, ref=ref, channel=channel, subject=subject_id, staff=staff_id,
                 to=sealed_to, text=sealed_text, subject_line=sealed_line, actor=actor)
    try:
        app.commit(d)  # the claim: a concurrent deliver of the same message conflicts here and does not send
    except ConflictError:
        again = find(app, code)
        if again is None:
            raise
        return again
    return _send(app, d, actor)


def retry(app: App, code: str, actor: str) -> Delivery:
    """Send a failed, bounced or stuck (pending) delivery again; a sent one is refused."""
    d = find(app, code)
    if d is None:
        raise NotFound(f"delivery '{code}' does not exist (huifang delivery list)", field="id")
    if d.status not in RETRYABLE:
        raise Refused(f"delivery {code} was already {d.status} at {d.tries[-1]['at'] if d.tries else '?'}: "
                      f"it is not sent twice", field="id")
    app.access.require(actor, "write", target=f"delivery {code}")
    d.retry(actor=actor)
    app.commit(d)
    return _send(app, d, actor)


def _send(app: App, d: Delivery, actor: str) -> Delivery:
    config = app.config.delivery
    name = config.adapter_for(d.channel)
    adapter = adapters(app).get(name)
    result: SendResult
    if adapter is None:
        result = SendResult(status=FAILED, detail=f"no delivery adapter '{name}' for {d.channel} "
                                                  f"(adapters: {', '.join(sorted(adapters(app)))}); check [delivery]")
    elif d.channel not in adapter.channels:
        result = SendResult(status=FAILED, detail=f"adapter '{name}' does not serve {d.channel}")
    else:
        to, why = _address(app, d, actor)
        if to is None:
            result = SendResult(status=FAILED, detail=why)
        else:
            message = OutgoingMessage(key=d.code, channel=d.channel, to=to, text=_reveal(app, d.text),
                                      subject_line=_reveal(app, d.subject_line) if d.subject_line else None,
                                      purpose=d.purpose)
            try:
                result = adapter.send(message)
            except Exception as e:  # an adapter must not stop the batch: its crash is a failed send
                result = SendResult(status=FAILED, detail=f"{name}: {type(e).__name__}: {e}")
            if not isinstance(result, SendResult):
                result = SendResult(status=FAILED, detail=f"{name}: send returned {type(result).__name__}, "
                                                          f"not a SendResult (nothing is known of the send)")
    detail = _scrub(result.detail, secrets_of(config))[:500]
    for _ in range(5):
        getattr(d, result.status)(adapter=name, detail=detail, reference=result.reference, actor=actor)
        try:
            app.commit(d)
            return d
        except ConflictError:  # someone retried it at the same time: record ours on the latest version
            latest = find(app, d.code)
            if latest is None:
                raise
            d = latest
    raise ConflictError(f"delivery {d.code} is busy: its outcome ({result.status}) could not be recorded")


def _reveal(app: App, value: str) -> str:
    return str(app.keyring.reveal(value))


def _address(app: App, d: Delivery, actor: str) -> tuple[str | None, str]:
    """The address to send to, or (None, why not)."""
    if d.subject is None:
        if d.to:
            return d.to, ""
        if d.staff:
            return app.config.delivery.staff_contacts.get(d.staff, d.staff), ""
        return None, "no recipient"
    from .domain import Subject

    s: Any = app.find(Subject, d.subject)
    if s is None:
        return None, f"subject {d.subject} does not exist"
    if getattr(s, "erased", False) or app.keyring.erased(d.subject):
        return None, f"subject {d.subject} was erased (G8)"
    if d.channel in s.optouts:
        return None, f"subject {d.subject} opted out of {d.channel} (G7)"
    if s.exempt and d.purpose != "invite":
        return None, f"subject {d.subject} signed a no-follow-up statement (F6)"
    if d.to:
        return _reveal(app, d.to), ""
    from .audit.reads import record_system_read

    record_system_read(app, d.subject, "contact", f"delivery:{d.code}",
                       f"deliver {d.purpose} {d.ref} by {d.channel}")
    to = contact(app, s, d.channel)
    if not to:
        return None, f"subject {d.subject} has no address for {d.channel}"
    return to, ""


def contact(app: App, s: Any, channel: str) -> str | None:
    """A subject's address on a message channel (decrypted)."""
    reveal = app.keyring.reveal
    attrs = app.keyring.reveal_all(s.attributes) or {}
    phones = [str(reveal(p)) for p in s.phones or []]
    if channel == "sms":
        mobiles = [p for p in phones if p.lstrip("+").removeprefix("86").startswith("1")]
        return (mobiles or phones)[0] if phones else None
    if channel == "email":
        return str(reveal(s.email)) if s.email else (str(attrs["email"]) if attrs.get("email") else None)
    if channel == "wechat":
        for key in ("wechat_openid", "openid", "wechat"):
            if attrs.get(key):
                return str(attrs[key])
        return phones[0] if phones else None  # gateways that address template messages by phone
    if channel == "letter":
        return str(attrs["address"]) if attrs.get("address") else None
    return str(attrs.get(channel) or s.code)  # app, web, qq: the subject's code in that system


def _scrub(text: str, secrets: list[str]) -> str:
    for s in secrets:
        text = text.replace(s, "***")
    return text


# -- the catch-up pass ------------------------------------------------------------------------------------
TOPICS = ["huifang:FollowUp.ReminderSent", "huifang:FollowUp.Escalated", "huifang:Ticket.Escalated",
          "huifang:GreetingBatch.Sent"]


def run_pending(app: App, now: datetime | None = None, actor: str = "system") -> int:
    """Deliver every reminder (G3), escalation (G12/G13) and greeting (G21) recorded since the saved
    position; returns how many deliveries were made. Idempotent: a delivered item is found and skipped;
    a reminder after its deadline, an escalation older than a week, a greeting of another day is not
    sent (it is stale news)."""
    now = now or clock.now()
    cursor: DeliveryCursor | None = app.find_by_id(DeliveryCursor.create_id())
    done = cursor.position if cursor else 0
    head = app.recorder.max_notification_id() or 0  # read up to here: the cursor then skips what matched nothing
    made, start, matched = 0, done + 1, 0
    while start <= head:
        notes = app.recorder.select_notifications(start=start, limit=SCAN, stop=head, topics=TOPICS)
        if not notes:
            break
        for n in notes:
            made += _deliver_event(app, app.mapper.to_domain_event(n), now, actor)
        matched += len(notes)
        start = notes[-1].id + 1
    if matched or head - done > SKIP_AHEAD:  # not for nothing: a pass that found nothing writes nothing
        # a pass that cannot move it (another pass did; a tick at an earlier logical time) leaves it:
        # the next pass re-reads, and deliveries are idempotent
        with contextlib.suppress(HuifangError):
            cursor = cursor or DeliveryCursor(actor=actor)
            cursor.advance(position=head, actor=actor)
            app.commit(cursor)
    return made


def _deliver_event(app: App, e: Any, now: datetime, actor: str) -> int:
    from .domain import FollowUp, Ticket

    topic = type(e).TOPIC
    staff_channel = app.config.delivery.staff_channel
    if topic == "huifang:FollowUp.ReminderSent":
        fu: Any = app.repository.get(e.originator_id)
        if not e.to or fu.closed or fu.due < now:
            return 0
        due = clock.iso(fu.due)
        return _once(app, channel=staff_channel, subject_id=None, staff_id=e.to, purpose="reminder", ref=fu.code,
                     text=f"【回访提醒】回访 {fu.code} 将于 {due} 到期，请及时完成。", actor=actor)
    if topic in ("huifang:FollowUp.Escalated", "huifang:Ticket.Escalated"):
        if not e.to or now - e.timestamp > STALE_ESCALATION:
            return 0
        cls = FollowUp if topic.startswith("huifang:FollowUp") else Ticket
        agg: Any = app.repository.get(e.originator_id)
        level = getattr(e, "level", 0) or e.originator_version
        what = "回访" if cls is FollowUp else "工单"
        rule = getattr(e, "rule", "") or ("G12" if cls is FollowUp else "")
        return _once(app, channel=staff_channel, subject_id=None, staff_id=e.to, purpose="escalation",
                     ref=f"{agg.code}#{level}",
                     text=f"【{what}升级】{what} {agg.code} 已升级至您处理（第 {level} 级{f'，{rule}' if rule else ''}），"
                          f"请尽快跟进。", actor=actor)
    if topic == "huifang:GreetingBatch.Sent":
        batch: Any = app.repository.get(e.originator_id)
        if batch.day != now.astimezone(clock.zone(app.config.huifang.timezone)).date().isoformat():
            return 0
        return sum(deliver_greeting(app, batch, r, actor)[1] for r in batch.recipients)
    return 0


def _once(app: App, *, channel: str, subject_id: str | None, staff_id: str | None, purpose: str, ref: str,
          text: str, actor: str) -> int:
    if find(app, delivery_code(purpose, ref, channel)) is not None:
        return 0
    deliver(app, channel=channel, subject_id=subject_id, to=None, text=text, purpose=purpose, ref=ref,
            actor=actor, staff_id=staff_id)
    return 1


def greeting_text(app: App, batch: Any, subject: Any) -> str:
    org = app.config.huifang.organisation
    name = str(app.keyring.reveal(subject.name) or "")
    wish = "生日快乐" if batch.occasion == "birthday" else f"{batch.name}快乐"
    return f"{f'【{org}】' if org else ''}{name}您好，祝您{wish}！"


def deliver_greeting(app: App, batch: Any, recipient: dict[str, Any], actor: str) -> tuple[Delivery, int]:
    """One recipient of a greeting batch (G21): (their delivery, 1 if it was made now else 0)."""
    from .domain import Subject

    channel, sid = recipient["channel"], recipient["subject"]
    ref = f"{batch.code}/{sid}"
    existing = find(app, delivery_code("greeting", ref, channel))
    if existing is not None:
        return existing, 0
    s: Any = app.find(Subject, sid)
    text = greeting_text(app, batch, s) if s is not None else ""
    return deliver(app, channel=channel, subject_id=sid, to=None, text=text, purpose="greeting", ref=ref,
                   actor=actor, subject_line="节日问候" if batch.occasion == "holiday" else "生日祝福"), 1


def deliver_batch(app: App, batch: Any, actor: str) -> list[dict[str, Any]]:
    """G21: deliver every recipient of a greeting batch (a recipient already delivered is not sent
    again) and return each one's outcome."""
    out = []
    for r in batch.recipients:
        d, _ = deliver_greeting(app, batch, r, actor)
        out.append({"subject": r["subject"], **public(d)})
    return out


def outcome_lines(rows: list[dict[str, Any]]) -> list[str]:
    """Per channel and adapter: how many were sent, failed, bounced; then why each failure."""
    from .labels import label

    counts: dict[tuple[str, str], dict[str, int]] = {}
    for r in rows:
        per = counts.setdefault((r["channel"], r["adapter"] or "-"), {})
        per[r["status"]] = per.get(r["status"], 0) + 1
    lines = [f"{label('channel', ch)} ({adapter}): "
             + ", ".join(f"{label('status', st)} {n}" for st, n in sorted(per.items()))
             for (ch, adapter), per in sorted(counts.items())]
    lines += [f"{r.get('subject') or r.get('staff') or '-'} {label('channel', r['channel'])}: "
              f"{label('status', r['status'])}: {r['detail']}" for r in rows if r["status"] != "sent"]
    return lines


def public(d: Delivery) -> dict[str, Any]:
    """A delivery as lists and `view` show it: no address, no text (personal data, sealed)."""
    return {"id": d.code, "purpose": d.purpose, "ref": d.ref, "channel": d.channel, "subject": d.subject,
            "staff": d.staff, "status": d.status, "adapter": d.adapter, "detail": d.detail,
            "requested": d.created_on.isoformat() if d.created_on else None,
            "at": d.tries[-1]["at"] if d.tries else None, "tries": len(d.tries)}


def view(app: App, code: str) -> dict[str, Any]:
    d = find(app, code)
    if d is None:
        raise NotFound(f"delivery '{code}' does not exist (huifang delivery list)", field="id")
    shown = public(d) | {"history": list(d.tries)}
    if d.subject is None:  # a message to staff holds no personal data of a subject
        shown |= {"to": d.to, "text": d.text, "subject_line": d.subject_line}
    return shown


def listing(app: App, status: str | None = None, purpose: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """The latest `limit` deliveries (newest first), optionally of one status or purpose."""
    ids: list[Any] = []
    start = 1
    while True:
        notes = app.recorder.select_notifications(start=start, limit=1000, topics=["huifang:Delivery.Requested"])
        if not notes:
            break
        ids += [n.originator_id for n in notes]
        start = notes[-1].id + 1
    rows: list[dict[str, Any]] = []
    for uid in reversed(ids):
        d: Delivery | None = app.find_by_id(uid)
        if d is None or (status and d.status != status) or (purpose and d.purpose != purpose):
            continue
        rows.append(public(d))
        if len(rows) >= limit:
            break
    return rows
