"""Sample floor (G17: the P1 re-check, P2 repair callbacks and every other keyed sample): the top-ups of
one stratum of one period of one sampled purpose. `tick` records one `ToppedUp` per trigger it calls up
because the period's share fell below the rate, naming the rule, the population and the sample before
it, so an auditor sees why a trigger the draw left out was followed up after all.

Stable topics: `huifang:SampleFloor.Opened`, `huifang:SampleFloor.ToppedUp`, `huifang:SamplingKey.Created`.
"""
from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from .base import Base, aggregate_uuid


class SampleFloor(Base):
    class Opened(Base.Created):
        code: str
        plugin: str
        purpose: str
        period: str
        stratum: str
        actor: str

    @event(Opened)
    def __init__(self, code: str, plugin: str, purpose: str, period: str, stratum: str, actor: str):
        self.code = code
        self.plugin = plugin
        self.purpose = purpose
        self.period = period
        self.stratum = stratum
        self.topups: list[dict[str, Any]] = []

    @staticmethod
    def code_of(plugin: str, purpose: str, period: str, stratum: str) -> str:
        return f"{plugin}.{purpose}@{period}" + (f"/{stratum}" if stratum else "")

    @staticmethod
    def create_id(code: str) -> UUID:
        return aggregate_uuid("sample-floor", code)

    class ToppedUp(Base.Event):
        trigger: str
        followups: list
        rule: str
        rate: float
        population: int  # triggers drawn in this period's stratum
        sampled: int  # of them sampled before this top-up
        required: int  # ceil(rate × population)
        score: float  # the trigger's keyed score: the lowest of those left out
        key: str  # fingerprint of the sampling key
        actor: str

    @event(ToppedUp)
    def top_up(self, trigger: str, followups: list, rule: str, rate: float, population: int, sampled: int,
               required: int, score: float, key: str, actor: str) -> None:
        self.topups.append({"trigger": trigger, "followups": list(followups), "rule": rule, "population": population,
                            "sampled": sampled, "required": required})


class SamplingKey(Base):
    """G17: the store's sampling key was made (the key itself is a key row wrapped by the master key;
    this record names it by fingerprint, in the transaction that writes the row). One per store."""

    class Created(Base.Created):
        fingerprint: str
        actor: str

    @event(Created)
    def __init__(self, fingerprint: str, actor: str):
        self.fingerprint = fingerprint

    @staticmethod
    def create_id() -> UUID:
        return aggregate_uuid("sampling", "key")
