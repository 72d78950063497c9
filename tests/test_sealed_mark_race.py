"""G8: access control as the sealed high-water mark says, read while another writer commits the very
first block of a new store (several `huifang serve --workers`, or processes starting together)."""
from __future__ import annotations

from typing import Any

from tests.conftest import Huifang


def open_recorder(hf: Huifang) -> Any:
    from huifang.core.config import load_config
    from huifang.projections import open_app

    return open_app(hf.db, load_config(hf.config, db=hf.db))


def test_G8_a_first_block_committed_between_the_two_reads_is_not_taken_for_a_missing_mark(hf):
    hf.ok("subject", "add", "P1", "--name", "张三")  # a first block, and its mark (access control off)
    app = open_recorder(hf)
    try:
        recorder = app.recorder
        real = recorder.mark
        calls: list[int] = []

        def mark_not_yet_there_then_committed() -> Any:  # the other writer commits between our reads
            calls.append(1)
            return None if len(calls) == 1 else real()

        recorder.mark = mark_not_yet_there_then_committed
        assert recorder.sealed_enforced() is False and len(calls) == 2
        recorder.mark = lambda: None  # a mark that is really missing under a chain: fail closed
        assert recorder.sealed_enforced() is True
    finally:
        app.close()


def _load_key(directory: str) -> bytes | None:
    from pathlib import Path

    from huifang.core.audit import keys

    return keys.load(keys.SEAL, Path(directory), create=True)


def test_G8_processes_creating_a_stores_key_at_once_all_get_the_one_key(tmp_path, monkeypatch):
    """A key file is never seen half-written: it is written under a private name, then linked."""
    import multiprocessing

    from huifang.core.audit import keys

    monkeypatch.delenv(keys.SEAL[1], raising=False)
    with multiprocessing.get_context("fork").Pool(6) as pool:
        got = pool.map(_load_key, [str(tmp_path / "keys")] * 24)
    assert len(set(got)) == 1 and got[0] is not None and len(got[0]) == 32
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == ["seal.key"]  # no private file left
