"""G21: birthday and holiday greetings are sent as one batch. The batch is an event listing every
recipient and every subject left out with the reason (opted out of all message channels, G7; signed
no-follow-up statement, F6; erased), so the same occasion on the same day is sent once."""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from eventsourcing.application import AggregateNotFoundError

from . import clock
from .domain.base import aggregate_uuid
from .domain.greeting import GreetingBatch
from .errors import HuifangError
from .labels import resolve

if TYPE_CHECKING:
    from .application import HuifangApp

MESSAGE_CHANNELS = ("sms", "wechat", "email", "app")
SUBJECT_TOPIC = "huifang:Subject.Registered"


def _birthday_matches(value: Any, day: date) -> bool:
    """`birthday` attribute as YYYY-MM-DD or MM-DD; 29 Feb is greeted on 28 Feb in other years."""
    text = str(value or "").strip()
    parts = text.split("-")
    try:
        month, dom = int(parts[-2]), int(parts[-1])
    except (ValueError, IndexError):
        return False
    if (month, dom) == (2, 29) and not _leap(day.year):
        return (day.month, day.day) == (2, 28)
    return (day.month, day.day) == (month, dom)


def _leap(y: int) -> bool:
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def registered_codes(app: HuifangApp, topic: str) -> list[str]:
    """The `code` of every registration event of `topic`, in log order (subjects, staff)."""
    codes: list[str] = []
    start = 1
    while True:
        notes = app.recorder.select_notifications(start=start, limit=1000, topics=[topic])
        if not notes:
            return codes
        for n in notes:
            registered: Any = app.mapper.to_domain_event(n)
            codes.append(registered.code)
        start = notes[-1].id + 1


def subject_codes(app: HuifangApp) -> list[str]:
    return registered_codes(app, SUBJECT_TOPIC)


def send(app: HuifangApp, occasion: str, name: str = "", channel: str = "sms", actor: str = "cli") -> GreetingBatch:
    if occasion not in ("birthday", "holiday"):
        raise HuifangError(f"'{occasion}' is not one of birthday, holiday", field="occasion")
    if occasion == "holiday" and not name.strip():
        raise HuifangError("say which holiday (e.g. 春节, 中秋)", field="name")
    channel = resolve("channel", channel, MESSAGE_CHANNELS, "channel")  # the code, 短信 or SMS
    day = clock.now().astimezone(clock.zone(app.config.huifang.timezone)).date()
    code = f"{occasion}:{name.strip() or '-'}:{day.isoformat()}"
    try:
        return app.repository.get(aggregate_uuid("greeting", code))  # already sent today: a no-op
    except AggregateNotFoundError:
        pass
    recipients, skipped = [], []
    for sid in subject_codes(app):
        s: Any = app.repository.get(aggregate_uuid("subject", sid))
        attrs = app.keyring.reveal_all(s.attributes)
        if occasion == "birthday" and not _birthday_matches(attrs.get("birthday"), day):
            continue
        if getattr(s, "erased", False):
            skipped.append({"subject": sid, "reason": "erased"})
        elif s.exempt:
            skipped.append({"subject": sid, "reason": "signed no-follow-up statement (F6)"})
        else:
            usable = [c for c in (channel, *MESSAGE_CHANNELS) if c not in s.optouts]
            if usable:
                recipients.append({"subject": sid, "channel": usable[0]})
            else:
                skipped.append({"subject": sid, "reason": "opted out of every message channel (G7)"})
    batch = GreetingBatch(code=code, occasion=occasion, name=name.strip(), day=day.isoformat(), channel=channel,
                          recipients=recipients, skipped=skipped, actor=actor)
    app.commit(batch)
    return batch
