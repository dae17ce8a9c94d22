"""release_free_memory hands a fragmented heap's free pages back to the system."""

import sys

import numpy as np
import pytest

from yalu.memory import release_free_memory


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")  # pragma: no cover


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc_trim is Linux's")
def test_freed_heap_pages_go_back_to_the_system():
    # a freed 24 MB array raises glibc's dynamic mmap threshold: the 2.4 MB arrays after it come
    # from the heap, and the few kept pin its top, so freeing the rest keeps their pages
    big = np.ones(3_000_000)
    del big
    arrays = [np.ones(300_000) for _ in range(200)]
    keep = arrays[::50]
    del arrays
    before = _rss_mb()
    assert release_free_memory() is True
    after = _rss_mb()
    assert before - after > 200, (before, after)
    assert all(float(a[-1]) == 1.0 for a in keep)  # what is in use stays
