"""Quality check (质检, G17): a supervisor's spot check of one completed follow-up (recording,
answers), recorded as an event so the check itself is auditable. One record per follow-up; a later
re-check amends the result and keeps the earlier one in the history.

Stable topics: `huifang:QualityCheck.Recorded`, `huifang:QualityCheck.Amended`.
"""
from __future__ import annotations

from typing import Any

from eventsourcing.domain import event

from .base import Base, aggregate_uuid

RESULTS = ("pass", "fail")


class QualityCheck(Base):
    class Recorded(Base.Created):
        code: str  # the follow-up checked
        agent: str | None  # its owner: whose work is being checked
        plugin: str
        month: str  # YYYY-MM of its completion, the sample it belongs to
        result: str
        note: str
        actor: str

    @event(Recorded)
    def __init__(self, code: str, agent: str | None, plugin: str, month: str, result: str, note: str,
                 actor: str):
        self.code = code
        self.agent = agent
        self.plugin = plugin
        self.month = month
        self.result = result
        self.note = note
        self.checked_by = actor
        self.checks = 1

    @staticmethod
    def create_id(code: str) -> Any:
        return aggregate_uuid("qa", code)

    class Amended(Base.Event):
        result: str
        note: str
        actor: str

    @event(Amended)
    def amend(self, result: str, note: str, actor: str) -> None:
        self.result = result
        self.note = note
        self.checked_by = actor
        self.checks += 1
