"""glibc's malloc set for bulk work: what an import frees kept for reuse, and handed back after.

By default glibc hands freed memory at the top of its heap back to the kernel once 128 KB are free,
and serves blocks over 128 KB (a spilled block, a batch's statement) from fresh mappings: an import
allocating and freeing hundreds of MB batch after batch then had each page mapped and zeroed again
(267 000 page faults, about half a second of system time, in a 100k-row import). Elsewhere than glibc
nothing is changed.
"""
from __future__ import annotations

import contextlib
from typing import Any

KEEP = 64 << 20  # bytes an import may keep free in the C heap
MMAP = 32 << 20  # blocks under this come from the heap during an import (glibc's largest setting)
_DEFAULT = 128 << 10  # M_TRIM_THRESHOLD's and M_MMAP_THRESHOLD's default
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's <malloc.h>
_LIBC: dict[str, Any] = {}


def keep(on: bool) -> bool:
    """malloc told to keep what is freed (KEEP bytes may stay free, blocks under MMAP come from the heap),
    or set back to its defaults and the rest given back (give_back). The peak does not grow: what is kept
    is reused. False where this is not glibc."""
    libc = glibc()
    if libc is None:
        return False
    trim, mmap = (KEEP, MMAP) if on else (_DEFAULT, _DEFAULT)
    done = bool(libc.mallopt(_M_TRIM_THRESHOLD, trim)) and bool(libc.mallopt(_M_MMAP_THRESHOLD, mmap))
    if not on:
        give_back()
    return done


def give_back() -> None:
    """The heap's free memory handed back to the system (malloc_trim); not glibc: nothing to do."""
    libc = glibc()
    if libc is not None:
        libc.malloc_trim(0)


def glibc() -> Any:
    """The C library when it is glibc (its mallopt and malloc_trim), else None; looked up once."""
    if "libc" not in _LIBC:
        _LIBC["libc"] = None
        import platform

        if platform.libc_ver()[0] == "glibc":
            import ctypes

            with contextlib.suppress(OSError, AttributeError):
                libc = ctypes.CDLL("libc.so.6")
                libc.mallopt.argtypes, libc.malloc_trim.argtypes = [ctypes.c_int, ctypes.c_int], [ctypes.c_size_t]
                _LIBC["libc"] = libc
    return _LIBC["libc"]
