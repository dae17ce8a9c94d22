"""Handing freed memory back to the operating system between the phases of a long run.

A run allocates and frees many arrays of a few MB (budget tiles, ensembles, point blocks).
glibc serves arrays below its (dynamic, up to 32 MB) mmap threshold from its heap, and a heap
fragmented by them keeps freed pages resident: the process's RSS then holds the peak of an
earlier phase while the next one allocates more. :func:`release_free_memory` asks glibc to
return those free pages (``malloc_trim``); elsewhere it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from functools import cache
from typing import Any

__all__ = ["release_free_memory"]


@cache
def _libc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c")
    if name is None:  # pragma: no cover - every glibc Linux has one
        return None
    try:
        lib = ctypes.CDLL(name)
        fn = lib.malloc_trim
    except (OSError, AttributeError):  # pragma: no cover - musl has no malloc_trim
        return None
    fn.argtypes = [ctypes.c_size_t]
    fn.restype = ctypes.c_int
    return fn


def release_free_memory() -> bool:
    """Return the C heap's free pages to the operating system (glibc ``malloc_trim(0)``).

    Returns True when pages were returned, False when none were or the C library has no
    ``malloc_trim`` (not Linux, or not glibc). Never frees memory still in use.
    """
    fn = _libc()
    return bool(fn(0)) if fn is not None else False
