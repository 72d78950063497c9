"""Personal data at rest (G8, G10): per-subject data keys, field encryption, crypto-shredding.

The default is encrypted: every subject attribute, and every trigger attribute its plugin does not
declare a non-identifying code (`TriggerKind.codes` / `code_patterns`: department, branch, product,
staff ids, enum values …), is stored as a *token* `pii:1:<subject>:<base64url(nonce || AES-256-GCM
ciphertext)>` under that subject's own data key (associated data: the subject id); a non-string value
is sealed as JSON (`…:~<base64url>`). So are the name, phones and email, attempt notes, free-text
survey answers, ticket notes and resolutions, notification texts, and every free-text reason: read
reasons, export approvals, exemption statements, reassignment reasons, QA notes, the erasure's own
reason and legal order. Reasons and ticket categories that reports count (a lost reason, a ticket
category) stay plain only when they are shaped like a code (contract.CODE_SHAPED: `no_answer`,
`wrong_number`, `fees`); any other text is sealed and reports count it as FREE_TEXT.

Privacy settings (the attributes encrypted even if a plugin declares them codes, `[huifang]
pii_attributes` on top of DEFAULT_PII_ATTRIBUTES) and a key-check value of the master key are
recorded in the store by `huifang init` (a `PrivacySettings` record, chained like every record).
A later config file cannot change them (the command is refused); `huifang privacy widen` (admin,
recorded) adds attributes. A master key that does not match the key-check value is refused when
the application opens, before anything is written under it.

Data keys live in the `huifang_keys` table, each wrapped (AES-GCM) by the master key
(`HUIFANG_KEY` or the key file, see audit/keys.py), and are written in the same transaction as the
events that use them. Aggregates and views hold tokens; the read side reveals them for display
(`reveal_all`). Erasure destroys the subject's data key in the transaction that records the
`Subject.Erased` event: every token of that subject becomes unreadable forever ("[erased]"), while
the stored events — and so the hash chain — stay exactly as they were.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from eventsourcing.domain import event

from .contract import CODE_SHAPED
from .domain.base import Base, aggregate_uuid
from .errors import HuifangError, Refused

PREFIX = "pii:1:"
JSON_MARK = "~"  # not in the base64url alphabet: the sealed plaintext is JSON, not a string
ERASED = "[erased]"
UNREADABLE = "[unreadable]"
NO_KEY = "[encrypted]"
FREE_TEXT = "(free text)"  # how reports count a sealed reason or category
# Encrypted even where a plugin declares them codes (settings add more, never fewer).
DEFAULT_PII_ATTRIBUTES = ["address", "id_number", "id_card", "insurance_no", "wechat", "qq",
                          "emergency_contact", "contact_phone", "birthday"]
_CODE = re.compile(CODE_SHAPED)
_KCV_INFO = b"huifang-master-key-check-v1"
# G17: the key row of the store's sampling key; ids have no spaces, so no subject can have this one
SAMPLING_KEY = "huifang sampling-key"


class SubjectErased(Refused):
    pass


_PLAIN = frozenset({int, float, bool, type(None)})  # never a token (reveal_all)


def is_token(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def is_code(value: Any) -> bool:
    """A value shaped like a code (CODE_SHAPED): reasons and categories of this shape stay plain."""
    return isinstance(value, str) and _CODE.fullmatch(value) is not None


def label(value: Any) -> Any:
    """What a report shows for a reason or category: the code, or FREE_TEXT for sealed text."""
    return FREE_TEXT if is_token(value) else value


def _b64(data: bytes) -> str:
    """base64.urlsafe_b64encode without padding (its two steps inline: a bulk import seals per row)."""
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE).decode().rstrip("=")


_URLSAFE = bytes.maketrans(b"+/", b"-_")
OPEN_KEYS = 1024  # data keys a keyring keeps opened (KeyRing._aes)
KEEP_KEYS = 20000  # key rows read from the store that a keyring keeps (KeyRing._loaded)


class _DataKey:
    """A subject's data key as this process holds it: the key, and its AESGCM while opened."""

    __slots__ = ("aes", "key")

    def __init__(self, key: bytes):
        self.key = key
        self.aes: Any = None


_UNSET: Any = object()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_AEAD: tuple[Any, Any] | None = None


def _aead() -> tuple[Any, Any]:
    """(AESGCM, InvalidTag), imported on first use (not at start-up) and then kept: a bulk import
    opens a data key per subject, and two import statements per key cost as much as the key."""
    global _AEAD
    if _AEAD is None:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        _AEAD = (AESGCM, InvalidTag)
    return _AEAD


def _aad(subject: str, what: str) -> bytes:
    return f"huifang-{what}-v1:{subject}".encode()


def key_check_value(master: bytes) -> str:
    """HMAC-SHA256 of a constant under the master key: tells the right key from a wrong one, and
    reveals nothing of the key."""
    return hmac.new(master, _KCV_INFO, hashlib.sha256).hexdigest()


class PrivacySettings(Base):
    """The store's privacy settings (G8), fixed by `init` and only ever widened: the attributes
    encrypted whatever the plugins declare, and the master key's check value."""

    class Configured(Base.Created):
        encrypt: list
        key_check: str | None
        actor: str

    @event(Configured)
    def __init__(self, encrypt: list, key_check: str | None, actor: str):
        self.encrypt = sorted(set(encrypt))
        self.key_check = key_check

    @staticmethod
    def create_id() -> Any:
        return aggregate_uuid("privacy", "settings")

    class Widened(Base.Event):
        encrypt: list  # the attributes added
        reason: str
        actor: str

    @event(Widened)
    def widen(self, encrypt: list, reason: str, actor: str) -> None:
        self.encrypt = sorted(set(self.encrypt) | set(encrypt))

    class KeyCheckRecorded(Base.Event):
        """The key-check value of a store that had none (created before the check existed)."""

        key_check: str
        actor: str

    @event(KeyCheckRecorded)
    def record_key_check(self, key_check: str, actor: str) -> None:
        self.key_check = key_check


def configured(pii_attributes: Iterable[str] | None) -> list[str]:
    """The attributes a config file asks to encrypt beyond the inverted default."""
    return sorted(set(DEFAULT_PII_ATTRIBUTES) | set(pii_attributes or []))


class KeyRing:
    """Seal and reveal one process's personal data. Data keys are cached per process (a CLI command
    is one process); a key destroyed by another process is seen by the next command."""

    def __init__(self, recorder: Any, key_dir: Path, pii_attributes: Iterable[str] | None = None,
                 settings: Callable[[], PrivacySettings | None] | None = None):
        """`recorder`: the audit recorder that stores the wrapped data keys (audit/recorders.py);
        `key_dir`: where the master key file is looked for; `pii_attributes`: the config file's
        `[huifang] pii_attributes` (None: not given); `settings`: loads the store's PrivacySettings
        record (None: a store without one, e.g. a bare test store)."""
        self.recorder = recorder
        self.key_dir = key_dir
        self._config = None if pii_attributes is None else list(pii_attributes)
        self._settings_source = settings
        self._settings: PrivacySettings | None = None
        self._settings_known = False
        self._master: bytes | None = None
        self._wrapper: tuple[bytes, Any] | None = None  # (master key, its AESGCM): wraps data keys
        self._cache: dict[str, Any] = {}  # subject -> _DataKey, or None when erased
        self._opened: deque[_DataKey] = deque()  # the data keys holding an AESGCM, first opened first (_aes)
        self._read: OrderedDict[str, None] = OrderedDict()  # subjects whose key rows were read, first read first
        self._prefetched: dict[str, tuple[bytes | None, bool] | None] | None = None  # see prefetched()
        self._sampling: bytes | None = None
        if hasattr(self.recorder, "on_abort"):
            self.recorder.on_abort = self._aborted

    # -- settings --------------------------------------------------------------------------------------
    def settings(self) -> PrivacySettings | None:
        if not self._settings_known and self._settings_source is not None:
            self._settings = self._settings_source()
            self._settings_known = True
        return self._settings

    def forget_settings(self) -> None:
        self._settings_known = False
        self._settings = None

    def encrypted_always(self) -> set[str]:
        """Attributes encrypted whatever a plugin declares: the store's settings (or, for a store
        without them, the built-in list plus the config file's)."""
        s = self.settings()
        return set(s.encrypt) if s is not None else set(configured(self._config))

    def check_open(self) -> None:
        """Refuse a config file that would change the fixed privacy settings, and a master key that
        does not match the store's key-check value (before anything is written under it)."""
        s = self.settings()
        if s is None:
            return
        if self._config is not None and configured(self._config) != sorted(s.encrypt):
            raise HuifangError(
                f"[huifang] pii_attributes: the privacy settings are fixed in the store (encrypted whatever the "
                f"plugins declare: {', '.join(s.encrypt)}); a config file cannot change them: remove the key, or "
                f"widen them with `huifang privacy widen --encrypt ATTR --reason TEXT` (admin, recorded)")
        if s.key_check:
            master = self._master_key(create=False, check=False)
            if master is not None:
                self._check(master, s.key_check)

    def _check(self, master: bytes, expected: str) -> None:
        from .audit import keys

        if not hmac.compare_digest(key_check_value(master), expected):
            self._master = None
            raise HuifangError(
                f"HUIFANG_KEY: this master key does not open the data keys of this store (it fails the key "
                f"check recorded at init: a key of another store?); set the right key or restore "
                f"{self.key_dir / (keys.MASTER[0] + '.key')}")

    # -- keys ------------------------------------------------------------------------------------------
    def master_key(self, create: bool = False) -> bytes | None:
        return self._master_key(create=create)

    def _master_key(self, create: bool, check: bool = True) -> bytes | None:
        if self._master is None:
            from .audit import keys

            directory = self.key_dir
            key = keys.load(keys.MASTER, directory, create=False)
            if key is None:
                if self.recorder.any_key():
                    if not create:
                        return None
                    raise keys.missing(keys.MASTER, directory, "the store holds encrypted personal data")
                s = self.settings()
                if s is not None and s.key_check:
                    if not create:
                        return None
                    raise keys.missing(keys.MASTER, directory, "the store was created with one (key check)")
                if not create:
                    return None
                key = keys.load(keys.MASTER, directory, create=True)
            if check:
                s = self.settings()
                if s is not None and s.key_check and key is not None:
                    self._check(key, s.key_check)
            self._master = key
        return self._master

    def _data_key(self, subject: str, create: bool) -> Any:
        if subject in self._cache:  # before the imports: every sealed field asks
            return self._cache[subject]
        InvalidTag = _aead()[1]

        if self._prefetched is not None and subject in self._prefetched:
            row = self._prefetched.pop(subject)
        else:
            row = self.recorder.fetch_key(subject)
        if row is None:
            if not create:
                return False
            master = self._master_key(create=True)
            assert master is not None
            dk = secrets.token_bytes(32)
            nonce = secrets.token_bytes(12)
            self.recorder.key_writes[subject] = nonce + self._wrap(master).encrypt(nonce, dk, _aad(subject, "dk"))
            self._cache[subject] = _DataKey(dk)
            return self._cache[subject]
        wrapped, erased = row
        if erased or wrapped is None:
            return self._loaded(subject, None)
        master = self._master_key(create=create)
        if master is None:
            return False
        try:
            dk = self._wrap(master).decrypt(wrapped[:12], wrapped[12:], _aad(subject, "dk"))
        except InvalidTag:
            raise HuifangError("HUIFANG_KEY: this master key does not open the data keys of this store "
                               "(a key of another store?); set the right key") from None
        return self._loaded(subject, _DataKey(dk))

    def _loaded(self, subject: str, key: _DataKey | None) -> _DataKey | None:
        """A key row read from the store, kept for the KEEP_KEYS subjects read last (read again when asked
        after: a bulk import reads each of its subjects' keys once). Keys made or erased here are kept until
        the process ends: until saved, this process alone holds them."""
        self._cache[subject] = key
        self._read[subject] = None
        if len(self._read) > KEEP_KEYS:  # each step one call: threads of a server may share the keyring
            old, _ = self._read.popitem(last=False)
            self._cache.pop(old, None)
        return key

    def _aes(self, dk: _DataKey) -> Any:
        """The data key's AESGCM, made on use and kept for the OPEN_KEYS keys opened last: one holds about
        2.5 KB of OpenSSL state outside Python's heap, and a bulk import seals for each of its subjects once
        (kept for every subject, 1M subjects held 2.5 GB)."""
        aes = dk.aes
        if aes is None:
            aes = dk.aes = _aead()[0](dk.key)
            self._opened.append(dk)
            if len(self._opened) > OPEN_KEYS:
                self._opened.popleft().aes = None
        return aes

    def _forget(self, subject: str) -> None:
        """The subject's data key dropped from this process (erased, or never saved), its AESGCM with it."""
        self._read.pop(subject, None)
        dk = self._cache.pop(subject, None)
        if dk is not None:
            dk.key, dk.aes = b"", None

    def _wrap(self, master: bytes) -> Any:
        """The master key's AESGCM, made once (its key schedule per data key cost a bulk import)."""
        w = self._wrapper
        if w is None or w[0] != master:
            w = self._wrapper = (master, _aead()[0](master))
        return w[1]

    @contextmanager
    def prefetched(self, subjects: Iterable[str]) -> Iterator[None]:
        """Read the key rows of many subjects in one query for the block inside (a bulk import's
        batch: one key read per subject dominated it). Rows read here are used at most once and
        forgotten on leaving, so nothing outlives the batch's own read of the store."""
        want = [x for x in dict.fromkeys(subjects) if x not in self._cache]
        rows = self.recorder.fetch_keys(want) if want else {}
        self._prefetched = {x: rows.get(x) for x in want}
        try:
            yield
        finally:
            self._prefetched = None

    def sampling_key(self) -> bytes:
        """G17: the store's sampling key (plugin_api.sampling), a random 32-byte key kept as its own key
        row wrapped by the master key, beside the data keys: draws are reproducible inside the store and
        unpredictable to anyone without it. Made by the first command that samples, in its transaction."""
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if self._sampling is not None:
            return self._sampling
        row = self.recorder.fetch_key(SAMPLING_KEY)
        master = self._master_key(create=True)
        assert master is not None
        if row is not None and row[0] is None:
            raise HuifangError("the sampling key of this store was destroyed; samples can no longer be drawn "
                               "(audit verify names the key row)")
        if row is None:
            key = secrets.token_bytes(32)
            nonce = secrets.token_bytes(12)
            self.recorder.key_writes[SAMPLING_KEY] = nonce + AESGCM(master).encrypt(nonce, key,
                                                                                   _aad(SAMPLING_KEY, "sk"))
        else:
            from cryptography.exceptions import InvalidTag

            wrapped = row[0]
            assert wrapped is not None
            try:
                key = AESGCM(master).decrypt(wrapped[:12], wrapped[12:], _aad(SAMPLING_KEY, "sk"))
            except InvalidTag:
                raise HuifangError("HUIFANG_KEY: this master key does not open the sampling key of this store "
                                   "(a key of another store?); set the right key") from None
        self._sampling = key
        return key

    def forget_sampling_key(self) -> None:
        """Drop a sampling key made here but not saved (another command saved the store's first)."""
        self._sampling = None
        self.recorder.key_writes.pop(SAMPLING_KEY, None)

    def _aborted(self, written: dict[str, bytes]) -> None:
        for subject in written:  # the key never reached the store: forget it
            self._forget(subject)
            if subject == SAMPLING_KEY:
                self._sampling = None

    # -- values -----------------------------------------------------------------------------------------
    def seal(self, subject: str, value: Any) -> Any:
        """A token for one personal text (None, "" and tokens pass through; lists element-wise;
        other non-strings unchanged — see seal_value)."""
        if isinstance(value, str):  # the common case first (a bulk import seals per row)
            if value == "" or value.startswith(PREFIX):
                return value
            return self._seal_bytes(subject, value.encode("utf-8"), "pii", "")
        if isinstance(value, list):
            return [self.seal(subject, v) for v in value]
        return value

    def seal_value(self, subject: str, value: Any) -> Any:
        """A token for any JSON value: strings as text, numbers, booleans and objects as JSON (their
        type comes back on reveal); lists element-wise; None and "" pass through."""
        if isinstance(value, str):  # as seal(), without its checks again
            if value == "" or value.startswith(PREFIX):
                return value
            return self._seal_bytes(subject, value.encode("utf-8"), "pii", "")
        if isinstance(value, list):
            return [self.seal_value(subject, v) for v in value]
        if value is None or value == "":
            return value
        data = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8")
        return self._seal_bytes(subject, data, "pii-json", JSON_MARK)

    def seal_note(self, subject: str, value: Any) -> Any:
        """seal() for an audit note (a read reason, a QA note): for an erased subject the text is not
        kept at all (ERASED) instead of refusing the read or check it explains."""
        try:
            return self.seal(subject, value)
        except SubjectErased:
            return ERASED

    def seal_reason(self, subject: str, value: Any) -> Any:
        """A reason or category reports count: plain when shaped like a code, sealed otherwise."""
        return value if value is None or is_code(value) else self.seal(subject, value)

    def _seal_bytes(self, subject: str, data: bytes, what: str, mark: str) -> str:
        dk = self._cache.get(subject, _UNSET)  # _data_key's own first step, without its call
        if dk is _UNSET:
            dk = self._data_key(subject, create=True)
        if dk is None:
            raise SubjectErased(f"subject {subject} was erased: personal data can no longer be recorded for them")
        aes = dk.aes or self._aes(dk)
        nonce = os.urandom(12)  # what secrets.token_bytes(12) returns
        return PREFIX + subject + ":" + mark + _b64(nonce + aes.encrypt(nonce, data, _aad(subject, what)))

    def reveal(self, value: Any) -> Any:
        if not is_token(value):
            return value
        from cryptography.exceptions import InvalidTag

        subject, _, data = value[len(PREFIX):].rpartition(":")
        dk = self._data_key(subject, create=False)
        if dk is None:
            return ERASED
        if dk is False:
            return NO_KEY if self._master is None and self.recorder.any_key() else UNREADABLE
        as_json = data.startswith(JSON_MARK)
        try:
            raw = _unb64(data[1:] if as_json else data)
            aad = _aad(subject, "pii-json" if as_json else "pii")
            plain = self._aes(dk).decrypt(raw[:12], raw[12:], aad).decode("utf-8")
            return json.loads(plain) if as_json else plain
        except (InvalidTag, ValueError):
            return UNREADABLE

    def reveal_all(self, obj: Any) -> Any:
        t = type(obj)  # the exact types first: every answer a served command gives passes through here
        if t is str:
            return self.reveal(obj) if obj.startswith(PREFIX) else obj
        if t is dict:
            return {k: self.reveal_all(v) for k, v in obj.items()}
        if t is list:
            return [self.reveal_all(v) for v in obj]
        if t in _PLAIN:
            return obj
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
        self._forget(subject)
        self._cache[subject] = None

    # -- attributes ---------------------------------------------------------------------------------------
    def pii_attributes(self) -> set[str]:
        return self.encrypted_always()

    def _plain(self, codes: Iterable[str], patterns: Mapping[str, str] | None) -> Callable[[str, Any], bool]:
        forced = self.encrypted_always()
        plain = set(codes) - forced
        pats = {k: re.compile(p) for k, p in (patterns or {}).items() if k not in forced}

        def is_plain(k: str, v: Any) -> bool:
            return k in plain or (k in pats and isinstance(v, str) and pats[k].fullmatch(v) is not None)
        return is_plain

    def seal_attributes(self, subject: str, attributes: Mapping[str, Any], codes: Iterable[str] = (),
                        patterns: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Every attribute sealed, except the declared `codes` (and `patterns` attributes whose value
        matches) that the store's settings do not force to be encrypted. Subject attributes have no
        codes: all of them are sealed."""
        is_plain = self._plain(codes, patterns)
        return {k: (v if is_plain(k, v) else self.seal_value(subject, v)) for k, v in attributes.items()}

    def seal_trigger_attributes(self, subject: str, attributes: Mapping[str, Any], kind: Any) -> dict[str, Any]:
        """A trigger's attributes under its kind's declaration (contract.TriggerKind.codes)."""
        return self.seal_attributes(subject, attributes, getattr(kind, "codes", ()), getattr(kind, "code_patterns", {}))

    def hidden_texts(self, attributes: Mapping[str, Any], kind: Any) -> set[str]:
        """The text values of the attributes that are stored sealed (to find them copied elsewhere)."""
        is_plain = self._plain(getattr(kind, "codes", ()), getattr(kind, "code_patterns", {}))
        texts: set[str] = set()
        for k, v in attributes.items():
            if is_plain(k, v):
                continue
            for x in v if isinstance(v, list) else [v]:
                if isinstance(x, str) and len(x) >= 2:
                    texts.add(x)
        return texts

    def seal_plugin_text(self, subject: str, text: str, attributes: Mapping[str, Any], kind: Any) -> str:
        """A plugin's own text (a close reason): sealed when it quotes an attribute stored sealed."""
        texts = self.hidden_texts(attributes, kind)
        return self.seal(subject, text) if any(t in text for t in texts) else text

    def seal_meta(self, subject: str, meta: Mapping[str, Any], attributes: Mapping[str, Any],
                  kind: Any) -> dict[str, Any]:
        """A planned follow-up's meta: a value a plan copied from an attribute that is stored sealed
        (under the same key, or the same text) is sealed there too. `attributes` are the plaintext."""
        is_plain = self._plain(getattr(kind, "codes", ()), getattr(kind, "code_patterns", {}))
        fields = set(getattr(getattr(kind, "attributes", None), "model_fields", {}) or {}) | set(attributes)
        texts = self.hidden_texts(attributes, kind)
        return {k: (self.seal_value(subject, v)
                    if (k in fields and not is_plain(k, v)) or (isinstance(v, str) and v in texts) else v)
                for k, v in meta.items()}

def record_settings(app: Any, actor: str = "system") -> None:
    """`init`: record the privacy settings and the master key's check value, once. A store created
    before them gets them on its next `init` (the key check only after the key opened a data key)."""
    ring: KeyRing = app.keyring
    ring.forget_settings()
    current = ring.settings()
    master = ring.master_key(create=not ring.recorder.any_key())
    kcv = key_check_value(master) if master is not None and _opens_a_data_key(ring) else None
    if current is None:
        settings = PrivacySettings(encrypt=configured(ring._config), key_check=kcv, actor=actor)
    elif current.key_check is None and kcv is not None:
        current.record_key_check(key_check=kcv, actor=actor)
        settings = current
    else:
        return
    app.commit_trail(settings)
    ring.forget_settings()


def _opens_a_data_key(ring: KeyRing) -> bool:
    """True on a store without data keys, or when the master key unwraps one of them."""
    rec = ring.recorder
    with rec._read() as c:
        c.execute(rec.q("SELECT subject FROM {keys} WHERE erased = 0 AND wrapped IS NOT NULL LIMIT 1"))
        row = c.fetchone()
    if row is None:
        return True
    return ring._data_key(row["subject"], create=False) not in (None, False)


def widen(app: Any, attributes: Iterable[str], reason: str, actor: str) -> dict[str, Any]:
    """`huifang privacy widen`: encrypt more attributes from now on (admin, recorded); values stored
    before stay as they were (G10: the log is never rewritten)."""
    names = sorted({a.strip() for a in attributes if a and a.strip()})
    if not names:
        raise HuifangError("name at least one attribute to encrypt", field="encrypt")
    if not (reason or "").strip():
        raise HuifangError("say why the privacy settings are widened", field="reason")
    app.access.require(actor, "privacy.widen", target="privacy settings")
    ring: KeyRing = app.keyring
    ring.forget_settings()
    settings = ring.settings()
    if settings is None:
        raise Refused("this store has no recorded privacy settings: run `huifang init` first")
    added = [n for n in names if n not in settings.encrypt]
    if added:
        settings.widen(encrypt=added, reason=reason.strip(), actor=actor)
        app.commit(settings)
        ring.forget_settings()
    return {"encrypt": sorted(set(settings.encrypt)), "added": added, "reason": reason.strip(), "by": actor}


def show(app: Any) -> dict[str, Any]:
    """`huifang privacy show`: what is encrypted whatever plugins declare, and the plugins' codes."""
    ring: KeyRing = app.keyring
    settings = ring.settings()
    kinds = [{"kind": k.qualified, "codes": list(k.spec.codes), "code_patterns": dict(k.spec.code_patterns)}
             for k in app.registry.kinds.values()]
    return {"recorded": settings is not None, "key_check": bool(settings and settings.key_check),
            "encrypt": sorted(ring.encrypted_always()), "subject_attributes": "all encrypted",
            "trigger_kinds": sorted(kinds, key=lambda k: str(k["kind"]))}


class PlaintextFiles(Base):
    """Files written outside the store that hold plaintext personal data (import rejects): G8/G10
    need to know they exist, so `retention report` lists them until they are deleted."""

    class Started(Base.Created):
        actor: str

    @event(Started)
    def __init__(self, actor: str):
        self.files: list[dict] = []

    @staticmethod
    def create_id() -> Any:
        return aggregate_uuid("privacy", "plaintext-files")

    class Written(Base.Event):
        path: str
        what: str
        rows: int
        source: str
        actor: str

    @event(Written)
    def written(self, path: str, what: str, rows: int, source: str, actor: str) -> None:
        self.files = [f for f in self.files if f["path"] != path]
        self.files.append({"path": path, "what": what, "rows": rows, "source": source, "at": self.modified_on,
                           "by": actor})


def record_plaintext_file(app: Any, path: Path | str, what: str, rows: int, source: str, actor: str) -> None:
    """Record a file of plaintext personal data written outside the store (its own transaction, like
    an audit-trail record: the import that wrote it may be refused afterwards)."""
    from .errors import ConflictError

    where = str(Path(path).resolve())
    for _ in range(8):
        log = app.find_by_id(PlaintextFiles.create_id()) or PlaintextFiles(actor=actor)
        log.written(path=where, what=what, rows=rows, source=source, actor=actor)
        try:
            app.commit_trail(log)
            return
        except ConflictError:
            continue
    raise ConflictError("the record of plaintext files is busy: re-run the import")


def plaintext_files(app: Any) -> list[dict[str, Any]]:
    """The recorded plaintext files, with whether each still exists (and its mode)."""
    log = app.find_by_id(PlaintextFiles.create_id())
    out = []
    for f in log.files if log is not None else []:
        p = Path(f["path"])
        exists = p.is_file()
        out.append({**f, "at": f["at"].isoformat() if hasattr(f["at"], "isoformat") else f["at"], "exists": exists,
                    "mode": oct(p.stat().st_mode & 0o777) if exists else None})
    return out
