"""Giving freed memory back to the system after the KB's build.

Building the matcher trains its models in two worker threads and then frees most of what
they allocated; glibc keeps freed memory in per-thread arenas, so without a trim the
process stays some 20 MB larger than what it holds (benchmarks/memory.py). `malloc_trim`
returns it. Where there is no glibc (musl, macOS) this does nothing.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim  # type: ignore[no-any-return]


def release_freed_memory() -> bool:
    """Return the heap's free pages to the system; whether the C library could."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
