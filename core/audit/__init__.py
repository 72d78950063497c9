"""Audit (G8, G10, G11): the chained and sealed log, its verification and export, the read audit (G8),
recordings (G11) and retention (G10). See README "For auditors".

- chain.py       the hash rule and the seal (HMAC) — the format a third party re-implements
- recorders.py   chains and seals every record in the transaction that writes it
- keys.py        where the seal key and the master key come from (never the database)
- verify.py      `audit verify [--recordings]`
- export.py      `audit export --from --to --out FILE` (JSON Lines with chain hashes)
- trail.py       ReadLog / AccessLog / AccessPolicy aggregates
- reads.py       recording reads and export approvals (G8)
- recordings.py  recordings copied into the recordings directory (G11), retention report (G10)
- erasure.py     `subject erase` (crypto-shredding, G10 retention check)
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import trail  # noqa: F401  (registers the audit-trail topics for every reader of the log)
from .recorders import recorder_topic


def audit_env(store: Any) -> dict[str, str]:
    return {"APPLICATION_RECORDER_TOPIC": recorder_topic(store.kind)}


def seal_key_source(store: Any, config: Any) -> Callable[[bool], bytes | None]:
    """Where the recorder gets the seal key (create it only while nothing is sealed yet)."""
    from . import keys

    directory = keys.key_dir(store, config)

    def seal_key(create: bool) -> bytes | None:
        return keys.load(keys.SEAL, directory, create=create)

    return seal_key


def ensure_keys(app: Any) -> None:
    """`init`/`demo`: make (or find) both keys now, so the warning about new key files comes once,
    from the command that set the store up."""
    from . import keys

    directory = keys.key_dir(app.store, app.config)
    if not app.recorder.blocks(0, 1):
        keys.load(keys.SEAL, directory, create=True)
    if not app.recorder.any_key():
        keys.load(keys.MASTER, directory, create=True)
