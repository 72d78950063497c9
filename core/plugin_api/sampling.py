"""Keyed sampling draws (G17; the P1 re-check, P2 repair callbacks and the other sampled follow-ups).

A plan asks its scheduler for a draw, `scheduler.sample(purpose, trigger.id, rate, rule="P2", at=trigger.at)`,
and gets a `Draw`. The score is HMAC-SHA256, under the store's own sampling key, of the purpose and
the trigger id, mapped to [0, 1); the trigger is sampled when score < rate. So the same trigger always
gets the same score in its store, whatever the order triggers arrive in and on every replay, while
whoever assigns trigger ids (order numbers) cannot tell which ids will be sampled: the key is a random
per-store key row wrapped by the master key, kept with the personal-data keys. Each draw records the
key's fingerprint and the rule, so an auditor with the store can recompute it.

The rate is a floor, not just an expectation: every draw belongs to a period (the month of the trigger
by default) and a stratum, and `tick` tops the sample up whenever fewer than ceil(rate × population)
of a period's stratum are sampled, from the visits the plans kept on standby (`Draw.take`), lowest
score first (core/sampling.py). A top-up is an event naming the rule.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ..contract import PlannedVisit, Skip

PERIODS = ("day", "week", "month")
_SCORE = b"huifang-sample-v1"
_FINGERPRINT = b"huifang-sampling-fingerprint-v1"


def period_of(day: date, period: str = "month") -> tuple[str, date]:
    """The period a local day belongs to (`2026-12`, `2026-W49`, `2026-12-03`) and the first day after it."""
    if period == "month":
        return f"{day:%Y-%m}", date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    if period == "week":
        year, week, _ = day.isocalendar()
        return f"{year:04d}-W{week:02d}", day - timedelta(days=day.weekday()) + timedelta(days=7)
    if period == "day":
        return day.isoformat(), day + timedelta(days=1)
    raise ValueError(f"sampling period '{period}' is not one of {', '.join(PERIODS)}")


@dataclass(frozen=True)
class Draw:
    """One keyed draw: whether `item` (a trigger id) is in the `purpose` sample at `rate` (rule `rule`)."""

    purpose: str
    item: str
    rule: str
    rate: float
    score: float
    period: str  # the floor's period of this draw (period_of)
    until: str  # first local day after the period (ISO date)
    stratum: str  # the floor's stratum within the period ("" = the whole purpose)
    key: str  # fingerprint of the sampling key that drew it

    @property
    def sampled(self) -> bool:
        return self.score < self.rate

    def record(self) -> dict[str, Any]:
        """The draw as stored: in a sampled visit's meta (`sample`) or on the Skip of one left out."""
        return {"purpose": self.purpose, "rule": self.rule, "rate": self.rate, "score": self.score,
                "period": self.period, "until": self.until, "stratum": self.stratum, "key": self.key}

    def reason(self, what: str) -> str:
        return (f"not sampled for {what}: score {self.score:.4f} >= rate {self.rate:g} ({self.rule}, sampling key "
                f"{self.key}); the {self.period} floor may still call it up")

    def take(self, visit: PlannedVisit, what: str) -> PlannedVisit | Skip:
        """The visit, carrying the draw in its meta, when sampled; else a Skip recording the draw, with
        the visit kept on standby so `tick` can plan it if the period's share falls below the rate."""
        if self.sampled:
            return visit.model_copy(update={"meta": {**visit.meta, "sample": self.record()}})
        return Skip(key=visit.key, reason=self.reason(what),
                    meta={"rule": self.rule, "sample": self.record(), "standby": visit.model_dump(mode="json")})

    def skip(self, key: str, what: str) -> Skip:
        """A Skip recording the draw with no visit on standby (the floor counts it but cannot top it up)."""
        return Skip(key=key, reason=self.reason(what), meta={"rule": self.rule, "sample": self.record()})


class KeyedSampler:
    """The draws of one store: `key` is the store's sampling key, or a function returning it (read
    only when a draw is first made, so commands that never sample never touch the key ring)."""

    def __init__(self, key: bytes | Callable[[], bytes]):
        self._source = key
        self._key: bytes | None = key if isinstance(key, bytes) else None

    def _secret(self) -> bytes:
        if self._key is None:
            assert callable(self._source)
            self._key = self._source()
        return self._key

    @property
    def fingerprint(self) -> str:
        """Names the key in every draw without revealing it (a different store, a different name)."""
        return "sk-" + hmac.new(self._secret(), _FINGERPRINT, hashlib.sha256).hexdigest()[:12]

    def score(self, purpose: str, item: str) -> float:
        """The keyed score in [0, 1) of `item` for `purpose` (independent purposes, independent scores)."""
        digest = hmac.new(self._secret(), _SCORE + b"\x1f" + purpose.encode() + b"\x1f" + item.encode(),
                          hashlib.sha256).digest()
        return int.from_bytes(digest[:8], "big") / 2 ** 64

    def draw(self, purpose: str, item: str, rate: float, *, rule: str, day: date, period: str = "month",
             stratum: str = "") -> Draw:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"a sample rate is a share between 0 and 1, not {rate}")
        name, until = period_of(day, period)
        return Draw(purpose=purpose, item=item, rule=rule, rate=rate, score=self.score(purpose, item), period=name,
                    until=until.isoformat(), stratum=stratum, key=self.fingerprint)


# The fakes' key (plugin_api.testing): public, so never a store's.
TEST_SAMPLER = KeyedSampler(b"huifang plugin_api.testing: a public key for fakes, never a store's")
