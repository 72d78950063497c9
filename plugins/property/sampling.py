"""Deterministic, auditable sampling (P1 re-check, P2 repairs, P5/P7 by config, P6, P9 warranty).

The draw is a hash of the trigger id and the purpose mapped to [0, 1): the same trigger id always
gives the same decision on every machine and every replay, nobody can pick which repairs get called,
and the rate and draw are stored with the decision (a Skip on the Trigger.Received event, or the
follow-up's meta) so an auditor can see why a subject was or was not called back.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from huifang.core.plugin_api import Skip


def draw(trigger_id: str, purpose: str) -> float:
    """A reproducible number in [0, 1) for this trigger and purpose (independent purposes, independent draws)."""
    digest = hashlib.sha256(f"huifang.property:{purpose}:{trigger_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64


@dataclass(frozen=True)
class Decision:
    purpose: str
    rate: float
    draw: float

    @property
    def sampled(self) -> bool:
        return self.draw < self.rate

    def meta(self) -> dict[str, Any]:
        """Stored on a sampled-in follow-up."""
        return {"sample_purpose": self.purpose, "sample_rate": self.rate, "draw": round(self.draw, 6)}

    def skip(self, key: str, what: str, rule: str) -> Skip:
        """Stored on the trigger when not sampled."""
        return Skip(key=key, reason=f"not sampled for {what}: draw {self.draw:.4f} >= rate {self.rate:g} ({rule})",
                    meta={"rate": self.rate, "draw": round(self.draw, 6), "purpose": self.purpose, "rule": rule})


def decide(trigger_id: str, purpose: str, rate: float) -> Decision:
    return Decision(purpose=purpose, rate=rate, draw=draw(trigger_id, purpose))
