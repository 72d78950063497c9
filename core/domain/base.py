"""Shared aggregate machinery.

Stable topics: every aggregate and event is stored under `huifang:<Aggregate>.<Event>`,
independent of the Python module it lives in, so modules and plugins can be moved or
renamed without breaking stored history (rename an event class -> register the old
topic with eventsourcing.utils.register_topic).

Logical time: event timestamps come from `huifang.core.clock`, never the wall clock, and a record
never goes back in time: an event earlier than the aggregate's last one is refused (clock.check_order)
unless an admin granted a backfill.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from .. import clock

NAMESPACE = uuid5(NAMESPACE_URL, "https://huifang.example/ids")


def aggregate_uuid(kind: str, key: str) -> UUID:
    """Deterministic aggregate id from a human id: re-sending a command finds the same record."""
    return uuid5(NAMESPACE, f"{kind}:{key}")


class _StableTopic:
    TOPIC: ClassVar[str]  # set per subclass below unless the class names its own

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "TOPIC" not in cls.__dict__:
            cls.TOPIC = "huifang:" + cls.__qualname__


class Base(Aggregate):
    """Base of all huifang aggregates. Subclasses set TOPIC = 'huifang:<Name>'."""

    TOPIC = "huifang:Base"

    class Event(_StableTopic, Aggregate.Event):
        TOPIC = "huifang:Base.Event"

        @classmethod
        def create_timestamp(cls) -> datetime:
            return clock.now()

        def mutate(self, aggregate: Any) -> Any:
            # apply() runs before eventsourcing sets modified_on: expose this event's time to it
            if aggregate is not None:
                aggregate.modified_on = self.timestamp
            result = super().mutate(aggregate)
            if result is not None:  # the latest time of the record (a backfilled event may be earlier)
                latest = result.__dict__.get("_latest_on")
                result._latest_on = self.timestamp if latest is None or self.timestamp > latest else latest
            return result

    class Created(Event, Aggregate.Created):
        TOPIC = "huifang:Base.Created"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        if "TOPIC" not in cls.__dict__:
            cls.TOPIC = "huifang:" + cls.__qualname__
        super().__init_subclass__(**kwargs)

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        """Monotonic per aggregate: a backdated `--now` cannot slip an event in before this record's last
        one (e.g. a completion dated before the follow-up was marked overdue, G15)."""
        if kwargs.get("timestamp") is None:
            kwargs["timestamp"] = event_class.create_timestamp()
        clock.check_order(kwargs["timestamp"], self.__dict__.get("_latest_on", self.modified_on),
                          lambda: f"the last record of {record_name(self)}", first=self.created_on)
        super().trigger_event(event_class, **kwargs)


def record_name(aggregate: Any) -> str:
    """How errors name a record: its kind and code (FollowUp D1-1)."""
    code = next((v for k in ("code", "subject", "who") if isinstance(v := getattr(aggregate, k, None), str)), None)
    return f"{type(aggregate).__name__} {code}" if code else type(aggregate).__name__
