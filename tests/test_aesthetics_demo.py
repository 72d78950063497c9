"""`huifang demo` with the aesthetics vertical alone: realistic volumes, the A7 campaign approved, and
the A4 locks at levels 1, 2 and 3 visible after the demo's final tick."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Huifang


@pytest.mark.slow  # scale: a full demo store
def test_demo_a4_locks_and_a7_campaign_visible(db: str, tmp_path: Path) -> None:
    cfg = tmp_path / "huifang.toml"
    cfg.write_text('[huifang]\nplugins = ["aesthetics"]\n', encoding="utf-8")
    hf = Huifang(db, now="2026-11-23T16:00:00+08:00", config=str(cfg))
    out = hf.ok("demo", "--subjects", "75")
    (ae,) = out["plugins"]
    assert ae["plugin"] == "aesthetics" and ae["subjects"] == 75 and ae["campaign_followups"] >= 50
    assert ae["completed"] > ae["lost"] > 0 and out["tick"]["locked"] == 3
    from huifang.plugins.aesthetics.demo import CONSULTANTS, DEPTS, MEMBER, ONLINE

    agents = [a for _, _, assistants, _ in DEPTS.values() for a in assistants] + CONSULTANTS + ONLINE + MEMBER
    locks = [lock for a in agents if (lock := hf.ok("staff", "show", a)["lock"])]
    assert sorted(lock["level"] for lock in locks) == [1, 2, 3]
    assert [c["status"] for c in hf.ok("campaign", "list")] == ["approved"]
