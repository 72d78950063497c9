"""Where the seal key (tamper evidence) and the master key (PII encryption) come from.

Neither key is ever stored in the database. Each is read from its environment variable
(`HUIFANG_SEAL_KEY`, `HUIFANG_KEY`: 32 bytes as base64 or 64 hex digits) or, failing that, from a
key file in the key directory (`HUIFANG_KEY_DIR`, `[huifang] key_dir`, default: beside the SQLite
file as `<db>.keys/`; for PostgreSQL `$HUIFANG_HOME/<host>-<port>-<db>-<schema>/keys`,
HUIFANG_HOME defaulting to ~/.local/share/huifang). A fresh store without keys gets new key files
(mode 0600, directory 0700) and a warning on stderr; a store that already holds sealed records or
encrypted data never gets a silently generated replacement: the command fails and says which key
is missing.
"""
from __future__ import annotations

import base64
import binascii
import contextlib
import os
import re
import secrets
import sys
from pathlib import Path
from typing import Any

from ..errors import HuifangError

SEAL = ("seal", "HUIFANG_SEAL_KEY")
MASTER = ("master", "HUIFANG_KEY")


def home() -> Path:
    return Path(os.environ.get("HUIFANG_HOME") or Path.home() / ".local" / "share" / "huifang")


def sidecar(store: Any, what: str) -> Path:
    """A directory that belongs to this store: `<db>.<what>` beside a SQLite file, or under
    HUIFANG_HOME for a PostgreSQL database (one per host, port, database and schema)."""
    if store.kind == "sqlite":
        p = Path(store.path).resolve()
        return p.with_name(p.name + "." + what)
    ident = f"{store.host}-{store.port}-{store.dbname}-{store.schema or 'public'}"
    return home() / re.sub(r"[^A-Za-z0-9._-]", "_", ident) / what


def key_dir(store: Any, config: Any) -> Path:
    configured = os.environ.get("HUIFANG_KEY_DIR") or getattr(config.huifang, "key_dir", None)
    return Path(configured).expanduser() if configured else sidecar(store, "keys")


def decode(text: str, source: str) -> bytes:
    t = text.strip()
    raw: bytes | None = None
    if re.fullmatch(r"[0-9a-fA-F]{64}", t):
        raw = bytes.fromhex(t)
    else:
        try:
            raw = base64.b64decode(t + "=" * (-len(t) % 4), altchars=b"-_" if ("-" in t or "_" in t) else None,
                                   validate=True)
        except (binascii.Error, ValueError):
            raw = None
    if raw is None or len(raw) != 32:
        raise HuifangError(f"{source}: not a 32-byte key (give 64 hex digits or base64 of 32 bytes)")
    return raw


def load(kind: tuple[str, str], directory: Path, create: bool) -> bytes | None:
    """The key from its env var or key file; generate a new key file when `create`."""
    name, var = kind
    env = os.environ.get(var)
    if env:
        return decode(env, var)
    path = directory / f"{name}.key"
    if path.is_file():
        try:
            return decode(path.read_text(encoding="ascii"), str(path))
        except (OSError, UnicodeDecodeError) as e:
            raise HuifangError(f"{path}: cannot read the {name} key ({e})") from None
    if not create:
        return None
    key = secrets.token_bytes(32)
    # written whole under a private name, then linked into place: another process starting at the same
    # moment sees no key file or a complete one, never an empty file (link fails if theirs came first)
    tmp = directory / f".{name}.key.{os.getpid()}.{secrets.token_hex(4)}"
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(base64.b64encode(key).decode() + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.link(tmp, path)
    except FileExistsError:  # another process made it a moment ago: use theirs
        return decode(path.read_text(encoding="ascii"), str(path))
    except OSError as e:
        raise HuifangError(f"{var}: no key given and cannot create {path} ({e}); set {var} or HUIFANG_KEY_DIR") \
            from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    print(f"huifang: warning: generated a new {name} key in {path} (mode 0600). Back it up and keep it away "
          f"from the database (set {var} or HUIFANG_KEY_DIR in production); without it "
          + ("the log cannot be verified." if name == "seal" else "personal data cannot be read."),
          file=sys.stderr)
    return key


def missing(kind: tuple[str, str], directory: Path, why: str) -> HuifangError:
    name, var = kind
    return HuifangError(f"{var}: the {name} key is missing ({why}); set {var} or restore "
                        f"{directory / (name + '.key')}")
