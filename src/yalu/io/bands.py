"""Threshold bands of a continuous map (SPLAT!-style signal contours) for categorical PNGs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from yalu.errors import ParameterError

__all__ = ["threshold_bands"]

# light to dark: stronger signal, darker colour (ColorBrewer YlGnBu, 9 classes)
_COLOURS = ("#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#253494",
            "#081d58", "#040c2a")  # fmt: skip


def threshold_bands(
    values: np.ndarray, thresholds: Sequence[float], units: str, *, higher_is_better: bool = True
) -> tuple[np.ndarray, dict[int, tuple[str, str]]]:
    """Band index of every node and the categories (label, colour) to draw them.

    Parameters
    ----------
    values : ndarray
        The map (NaN: no value).
    thresholds : sequence of float
        Band edges, strictly increasing, 1 to 9 of them.
    units : str
        Printed in the labels (``dBm``).
    higher_is_better : bool
        True for signal (band k: at least ``thresholds[k]``), False for loss (band k: at most
        ``thresholds[-1 - k]``).

    Returns
    -------
    bands : ndarray of int8
        -1 where NaN or on the wrong side of every threshold, else 0 (weakest) to
        ``len(thresholds) - 1`` (strongest).
    categories : dict
        Band index -> (label, colour), for :func:`yalu.io.maps.plot_map`.
    """
    thr = [float(t) for t in thresholds]
    if not 1 <= len(thr) <= len(_COLOURS) or any(
        b <= a for a, b in zip(thr, thr[1:], strict=False)
    ):
        raise ParameterError("thresholds", ",".join(f"{t:g}" for t in thr),
                             f"1 to {len(_COLOURS)} strictly increasing numbers")  # fmt: skip
    v = np.asarray(values, dtype=float)
    edges = np.asarray(thr)
    if higher_is_better:
        k = np.searchsorted(edges, v, side="right") - 1  # >= thr[k]
    else:
        k = len(thr) - np.searchsorted(edges, v, side="left") - 1  # <= thr[-1 - k]
    bands = np.where(np.isfinite(v), k, -1).astype(np.int8)
    n = len(thr)
    picks = np.round(np.linspace(1, len(_COLOURS) - 1, n)).astype(int) if n > 1 else [5]
    colours = [_COLOURS[int(i)] for i in picks]
    cats: dict[int, tuple[str, str]] = {}
    for i in range(n):
        if higher_is_better:
            hi = f" to {thr[i + 1]:g}" if i + 1 < n else " and more"
            label = f"{thr[i]:g}{hi} {units}"
        else:
            lo = thr[n - 1 - i]
            nxt = f"{thr[n - 2 - i]:g} to " if i + 1 < n else "up to "
            label = f"{nxt}{lo:g} {units}"
        cats[i] = (label, colours[i])
    return bands, cats
