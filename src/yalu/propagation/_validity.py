"""Validity-range warnings shared by the classic propagation models.

The empirical models stay usable outside the range they were fitted on (a coverage map always
has a few nodes closer than 1 km), so they warn instead of failing.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from yalu.errors import ValidityRangeWarning

__all__ = ["ValidityRangeWarning", "warn_outside"]


def warn_outside(model: str, name: str, value: Any, lo: float, hi: float, unit: str = "") -> None:
    """Warn once per call if any finite element of ``value`` is outside ``[lo, hi]``."""
    arr = np.asarray(value, dtype=float)
    finite = arr[np.isfinite(arr)]
    if finite.size == 0:
        return
    bad = (finite < lo) | (finite > hi)
    if np.any(bad):
        n = int(np.count_nonzero(bad))
        example = float(finite[bad][0])
        warnings.warn(
            f"{model}: {name} = {example:g}{unit} outside its validity range {lo:g} to {hi:g}{unit}"
            f" ({n} of {finite.size} values); result extrapolated",
            ValidityRangeWarning,
            stacklevel=3,
        )
