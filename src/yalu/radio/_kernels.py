"""Numba kernels of the radio layer (private)."""

from __future__ import annotations

import math

import numba

_SQRT1_2 = 1.0 / math.sqrt(2.0)


@numba.vectorize(["float64(float64)", "float32(float32)"], nopython=True, cache=True)
def normal_cdf(x):  # type: ignore[no-untyped-def]
    """Standard normal CDF, ``0.5 erfc(-x / sqrt 2)``; -inf -> 0, +inf -> 1, NaN -> NaN."""
    return 0.5 * math.erfc(-x * _SQRT1_2)
