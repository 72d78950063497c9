"""How a process holds the subjects' data keys (G8, core/privacy.py): opened on use, few kept opened, and
an erased subject's key dropped from memory."""
from __future__ import annotations

from pathlib import Path

import pytest

from huifang.core import clock, privacy
from huifang.core.config import Config
from huifang.projections import open_app

NOW = "2026-10-20T10:00:00+08:00"


def test_few_data_keys_stay_opened_and_every_token_still_reveals(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """An AESGCM holds ~2.5 KB of OpenSSL state: a bulk import seals for every subject once, so only the last
    OPEN_KEYS opened stay so; the others are opened again when read."""
    monkeypatch.setattr(privacy, "OPEN_KEYS", 3)
    app = open_app(str(tmp_path / "k.db"), Config())
    try:
        ring = app.keyring
        with clock.at(clock.parse_instant(NOW)):
            tokens = {f"P{i}": ring.seal_value(f"P{i}", f"王伟{i}号") for i in range(10)}
        assert len({t.split(":")[2] for t in tokens.values()}) == 10  # each under its subject
        assert [dk.aes is not None for dk in ring._cache.values()] == [False] * 7 + [True] * 3
        assert {s: ring.reveal(t) for s, t in tokens.items()} == {f"P{i}": f"王伟{i}号" for i in range(10)}
        assert sum(dk.aes is not None for dk in ring._cache.values()) == 3
        assert len(ring._opened) <= 3
    finally:
        app.close()


def test_an_erased_subjects_data_key_leaves_the_process(tmp_path: Path) -> None:
    app = open_app(str(tmp_path / "e.db"), Config())
    try:
        ring = app.keyring
        with clock.at(clock.parse_instant(NOW)):
            token = ring.seal_value("P1", "王伟")
            held = ring._cache["P1"]
            assert held.aes is not None and len(held.key) == 32
            ring.erase("P1")
        assert ring._cache["P1"] is None
        assert (held.key, held.aes) == (b"", None)  # emptied, though the list of opened keys may point to it
        assert ring.reveal(token) == privacy.ERASED
        with pytest.raises(privacy.SubjectErased):
            ring.seal_value("P1", "王伟")
    finally:
        app.close()


def test_key_rows_read_from_the_store_are_kept_for_the_last_few_subjects_only(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A 1M-row import reads a million key rows once each: the keyring keeps the KEEP_KEYS read last. A key
    made here is kept whatever the bound (until saved, this process alone holds it)."""
    db = str(tmp_path / "r.db")
    app = open_app(db, Config())
    with clock.at(clock.parse_instant(NOW)):
        for i in range(8):
            app.add_subject(f"P{i}", f"王伟{i}号")
    app.close()
    monkeypatch.setattr(privacy, "KEEP_KEYS", 3)
    app = open_app(db, Config())
    try:
        ring = app.keyring
        with clock.at(clock.parse_instant(NOW)):
            made = ring.seal_value("N1", "新病人")  # no key row: made here
            tokens = {f"P{i}": ring.seal_value(f"P{i}", f"第{i}次") for i in range(8)}
        assert set(ring._cache) == {"N1", "P5", "P6", "P7"}
        assert {s: ring.reveal(t) for s, t in tokens.items()} == {f"P{i}": f"第{i}次" for i in range(8)}
        assert ring.reveal(made) == "新病人" and "N1" in ring._cache and len(ring._read) == 3
    finally:
        app.close()
