"""Personal data at rest (G8, G10): per-subject data keys, field encryption, crypto-shredding.

What is personal data here (PII): a subject's name, phones, email and the attributes named in
`[huifang] pii_attributes` (address, ID and insurance numbers, WeChat/QQ … by default), free-text
attempt notes, free-text survey answers, ticket notes and resolutions, and notification texts. Each
is stored as a *token* `pii:1:<subject>:<base64url(nonce || AES-256-GCM ciphertext)>`, encrypted
under that subject's own data key (associated data: the subject id). Structured values that
statistics need — satisfaction level, scores, yes/no, outcomes, reasons, dates, departments — stay
plain, so every report is computed without the plaintext and does not change after an erasure.

Data keys live in the `huifang_keys` table, each wrapped (AES-GCM) by the master key
(`HUIFANG_KEY` or the key file, see audit/keys.py), and are written in the same transaction as the
events that use them. Aggregates and views hold tokens; the read side reveals them for display
(`reveal_all`). Erasure destroys the subject's data key in the transaction that records the
`Subject.Erased` event: every token of that subject becomes unreadable forever ("[erased]"), while
the stored events — and so the hash chain — stay exactly as they were.
"""
from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .errors import HuifangError, Refused

PREFIX = "pii:1:"
ERASED = "[erased]"
UNREADABLE = "[unreadable]"
NO_KEY = "[encrypted]"
DEFAULT_PII_ATTRIBUTES = ["address", "id_number", "id_card", "insurance_no", "wechat", "qq",
                          "emergency_contact", "contact_phone", "birthday"]


class SubjectErased(Refused):
    pass


def is_token(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _aad(subject: str, what: str) -> bytes:
    return f"huifang-{what}-v1:{subject}".encode()


class KeyRing:
    """Seal and reveal one process's personal data. Data keys are cached per process (a CLI command
    is one process); a key destroyed by another process is seen by the next command."""

    def __init__(self, recorder: Any, key_dir: Path, pii_attributes: Iterable[str] | None = None):
        """`recorder`: the audit recorder that stores the wrapped data keys (audit/recorders.py);
        `key_dir`: where the master key file is looked for; `pii_attributes`: the subject attributes
        stored encrypted (None: DEFAULT_PII_ATTRIBUTES)."""
        self.recorder = recorder
        self.key_dir = key_dir
        self._pii = set(DEFAULT_PII_ATTRIBUTES if pii_attributes is None else pii_attributes)
        self._master: bytes | None = None
        self._cache: dict[str, Any] = {}  # subject -> AESGCM, or None when erased
        if hasattr(self.recorder, "on_abort"):
            self.recorder.on_abort = self._aborted

    # -- keys ------------------------------------------------------------------------------------------
    def _master_key(self, create: bool) -> bytes | None:
        if self._master is None:
            from .audit import keys

            directory = self.key_dir
            key = keys.load(keys.MASTER, directory, create=False)
            if key is None:
                if self.recorder.any_key():
                    if not create:
                        return None
                    raise keys.missing(keys.MASTER, directory, "the store holds encrypted personal data")
                if not create:
                    return None
                key = keys.load(keys.MASTER, directory, create=True)
            self._master = key
        return self._master

    def _data_key(self, subject: str, create: bool) -> Any:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if subject in self._cache:
            return self._cache[subject]
        row = self.recorder.fetch_key(subject)
        if row is None:
            if not create:
                return False
            master = self._master_key(create=True)
            assert master is not None
            dk = secrets.token_bytes(32)
            nonce = secrets.token_bytes(12)
            self.recorder.key_writes[subject] = nonce + AESGCM(master).encrypt(nonce, dk, _aad(subject, "dk"))
            self._cache[subject] = AESGCM(dk)
            return self._cache[subject]
        wrapped, erased = row
        if erased or wrapped is None:
            self._cache[subject] = None
            return None
        master = self._master_key(create=create)
        if master is None:
            return False
        try:
            dk = AESGCM(master).decrypt(wrapped[:12], wrapped[12:], _aad(subject, "dk"))
        except InvalidTag:
            raise HuifangError("HUIFANG_KEY: this master key does not open the data keys of this store "
                               "(a key of another store?); set the right key") from None
        self._cache[subject] = AESGCM(dk)
        return self._cache[subject]

    def _aborted(self, written: dict[str, bytes]) -> None:
        for subject in written:  # the key never reached the store: forget it
            self._cache.pop(subject, None)

    # -- values -----------------------------------------------------------------------------------------
    def seal(self, subject: str, value: Any) -> Any:
        """A token for one personal value (None, "" and tokens pass through; lists element-wise)."""
        if isinstance(value, list):
            return [self.seal(subject, v) for v in value]
        if value is None or value == "" or is_token(value) or not isinstance(value, str):
            return value
        aes = self._data_key(subject, create=True)
        if aes is None:
            raise SubjectErased(f"subject {subject} was erased: personal data can no longer be recorded for them")
        nonce = secrets.token_bytes(12)
        return PREFIX + subject + ":" + _b64(nonce + aes.encrypt(nonce, value.encode("utf-8"), _aad(subject, "pii")))

    def reveal(self, value: Any) -> Any:
        if not is_token(value):
            return value
        from cryptography.exceptions import InvalidTag

        subject, _, data = value[len(PREFIX):].rpartition(":")
        aes = self._data_key(subject, create=False)
        if aes is None:
            return ERASED
        if aes is False:
            return NO_KEY if self._master is None and self.recorder.any_key() else UNREADABLE
        raw = _unb64(data)
        try:
            return aes.decrypt(raw[:12], raw[12:], _aad(subject, "pii")).decode("utf-8")
        except (InvalidTag, ValueError):
            return UNREADABLE

    def reveal_all(self, obj: Any) -> Any:
        if isinstance(obj, dict):
            return {k: self.reveal_all(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [self.reveal_all(v) for v in obj]
        return self.reveal(obj)

    def erased(self, subject: str) -> bool:
        row = self.recorder.fetch_key(subject)
        return row is not None and row[1]

    def erase(self, subject: str) -> None:
        """Destroy the subject's data key in the transaction of the next save (the Erased event)."""
        self.recorder.erasures.add(subject)
        self._cache[subject] = None

    # -- the subject file -----------------------------------------------------------------------------------
    def pii_attributes(self) -> set[str]:
        return set(self._pii)

    def seal_attributes(self, subject: str, attributes: dict[str, Any]) -> dict[str, Any]:
        pii = self._pii
        return {k: (self.seal(subject, v if isinstance(v, (str, list)) else str(v)) if k in pii and v is not None
                    else v) for k, v in attributes.items()}
