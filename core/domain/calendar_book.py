"""The organisation's business calendar as data (G6): imported official year schedules."""
from __future__ import annotations

from typing import Any

from eventsourcing.domain import event

from .base import Base, aggregate_uuid


class CalendarBook(Base):
    class Opened(Base.Created):
        actor: str

    @event(Opened)
    def __init__(self, actor: str):
        self.years: dict[str, dict] = {}

    @staticmethod
    def create_id() -> Any:
        return aggregate_uuid("calendar", "official")

    class YearImported(Base.Event):
        schedule: dict
        actor: str

    @event(YearImported)
    def import_year(self, schedule: dict, actor: str) -> None:
        self.years[str(schedule["year"])] = schedule
