"""Threads for the outputs' compression (zlib and PNG encoders release the GIL)."""

from __future__ import annotations

import os

#: at most this many encoder threads
MAX_ENCODERS = 4


def encoder_threads() -> int:
    """Threads for encoding outputs: the cores this process may use, at most
    :data:`MAX_ENCODERS`."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        n = os.cpu_count() or 1
    return max(1, min(MAX_ENCODERS, n))
