"""The one guard for files huifang is told to write (`--out`, `--reject`) or to copy into its own
directories (`attempt --recording`).

A path given by an operator may name, by mistake or on purpose, the store itself (`report --out
huifang.db`), its WAL, shared-memory or rollback journal, a key (`subject export --out
DB.keys/seal.key`) or a recording. Written there, a report destroys the store or a key; copied
from there, a key lands in the recordings directory. So an output path is refused if it is (after
symlinks, or as a hard link) one of the store's files, anything in the key or recordings
directory, a directory, or an existing file unless `force` (then it is overwritten); a recording
is refused if it is a store file or lies in the key directory. `--force` never unlocks the
protected files.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .errors import HuifangError
from .inputs import shown

STORE_SUFFIXES = ("", "-wal", "-shm", "-journal")  # SQLite: the file, WAL, shared memory, rollback journal


def _store_files(app: Any) -> list[Path]:
    store = app.store
    if store.kind != "sqlite" or not store.path:
        return []
    base = Path(store.path).resolve()
    return [base.with_name(base.name + s) for s in STORE_SUFFIXES]


def _key_dir(app: Any) -> Path:
    from .audit.keys import key_dir

    return key_dir(app.store, app.config).resolve()


def _recordings_dir(app: Any) -> Path:
    from .audit.recordings import recordings_dir

    return recordings_dir(app).resolve()


def _inside(path: Path, directory: Path) -> bool:
    return path == directory or directory in path.parents


def _same_file(path: Path, others: list[Path]) -> bool:
    """A hard link (or another name) of one of `others`."""
    try:
        st = path.stat()
    except OSError:
        return False
    for o in others:
        try:
            ot = o.stat()
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (ot.st_dev, ot.st_ino):
            return True
    return False


def _protected(app: Any, path: Path, what: str) -> str | None:
    """Why `path` (resolved) may not be used as `what`, or None."""
    store = _store_files(app)
    if path in store:
        return f"is the store's {'database file' if path == store[0] else 'journal (' + path.name + ')'}"
    keys = _key_dir(app)
    if _inside(path, keys):
        return f"is in the key directory {keys}"
    if what == "output" and _inside(path, _recordings_dir(app)):
        return "is in the recordings directory (G11)"
    key_files = [p for p in keys.iterdir() if p.is_file()] if keys.is_dir() else []
    if _same_file(path, store + key_files):
        return "is another name (a hard link) of the store or a key file"
    return None


def check_output(app: Any, out: str, field: str = "out", force: bool = False) -> Path:
    """Where to write `out`: refused (HuifangError naming `field`) if it is protected, a directory,
    in a directory that does not exist, or an existing file without `force`."""
    path = Path(out).expanduser()
    real = path.resolve()
    why = _protected(app, real, "output")
    if why is not None:
        raise HuifangError(f"'{shown(out)}' {why}: choose another file", field=field)
    if real.is_dir():
        raise HuifangError(f"'{shown(out)}' is a directory: name a file", field=field)
    if not real.parent.is_dir():
        raise HuifangError(f"directory '{shown(str(path.parent))}' does not exist", field=field)
    if real.exists() and real.is_file() and not force:
        raise HuifangError(f"'{shown(out)}' exists: pass --force to overwrite it", field=field)
    return path


def write_output(path: Path, data: bytes, field: str = "out", force: bool = False, mode: int = 0o644) -> None:
    """Write a checked output path; without `force` the file must still not exist (O_EXCL)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL), mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    except FileExistsError:
        raise HuifangError(f"'{shown(str(path))}' exists: pass --force to overwrite it", field=field) from None
    except OSError as e:
        raise HuifangError(f"cannot write '{shown(str(path))}' ({e.strerror})", field=field) from None


def check_recording(app: Any, source: str, field: str = "recording") -> Path:
    """A recording to copy into the recordings directory: never a store file or a key."""
    path = Path(source).expanduser()
    why = _protected(app, path.resolve(), "recording")
    if why is not None:
        raise HuifangError(f"'{shown(source)}' {why}: not a recording", field=field)
    return path
