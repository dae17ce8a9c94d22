"""Numba kernels for yalu.analysis (private: use the wrappers in :mod:`yalu.analysis.geo`)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange


@njit(cache=True)
def _unit(lat_rad: float, lon_rad: float) -> tuple[float, float, float]:
    c = math.cos(lat_rad)
    return c * math.cos(lon_rad), c * math.sin(lon_rad), math.sin(lat_rad)


@njit(cache=True)
def _angle(ax: float, ay: float, az: float, bx: float, by: float, bz: float) -> float:
    # atan2(|a x b|, a.b): accurate for small and large angles alike
    cx = ay * bz - az * by
    cy = az * bx - ax * bz
    cz = ax * by - ay * bx
    return math.atan2(math.sqrt(cx * cx + cy * cy + cz * cz), ax * bx + ay * by + az * bz)


@njit(cache=True, parallel=True)
def distance_to_segments_rad(
    lat_rad: np.ndarray, lon_rad: np.ndarray, seg: np.ndarray
) -> np.ndarray:
    """Smallest central angle [rad] from each point to a set of great-circle arcs.

    ``seg`` is (n, 6): unit vectors of the start and end of each arc.
    """
    n = lat_rad.size
    out = np.empty(n)
    nseg = seg.shape[0]
    for i in prange(n):
        px, py, pz = _unit(lat_rad[i], lon_rad[i])
        best = math.pi
        for k in range(nseg):
            ax = seg[k, 0]
            ay = seg[k, 1]
            az = seg[k, 2]
            bx = seg[k, 3]
            by = seg[k, 4]
            bz = seg[k, 5]
            # endpoints
            d = _angle(px, py, pz, ax, ay, az)
            if d < best:
                best = d
            d = _angle(px, py, pz, bx, by, bz)
            if d < best:
                best = d
            # interior of the arc: foot of the perpendicular from p to the great circle a-b
            nx = ay * bz - az * by
            ny = az * bx - ax * bz
            nz = ax * by - ay * bx
            nn = math.sqrt(nx * nx + ny * ny + nz * nz)
            if nn < 1e-15:
                continue
            nx /= nn
            ny /= nn
            nz /= nn
            s = px * nx + py * ny + pz * nz
            cx = px - s * nx
            cy = py - s * ny
            cz = pz - s * nz
            # c lies between a and b when (a x c).n >= 0 and (c x b).n >= 0
            t1 = (ay * cz - az * cy) * nx + (az * cx - ax * cz) * ny + (ax * cy - ay * cx) * nz
            t2 = (cy * bz - cz * by) * nx + (cz * bx - cx * bz) * ny + (cx * by - cy * bx) * nz
            if t1 >= 0.0 and t2 >= 0.0:
                d = math.asin(min(1.0, abs(s)))
                if d < best:
                    best = d
        out[i] = best
    return out


@njit(cache=True)
def sum_by_label(
    labels: np.ndarray, levels: np.ndarray, weights: np.ndarray, nlabels: int, nlevels: int
) -> np.ndarray:
    """Sum ``weights`` into a (nlabels, nlevels + 1) table indexed by (label, level).

    Entries with a label outside [0, nlabels) or a level outside [0, nlevels] are skipped, and so
    are NaN weights.
    """
    out = np.zeros((nlabels, nlevels + 1))
    for i in range(labels.size):
        lab = labels.flat[i]
        lev = levels.flat[i]
        w = weights.flat[i]
        if lab < 0 or lab >= nlabels or lev < 0 or lev > nlevels or not (w == w):
            continue
        out[lab, lev] += w
    return out


@njit(cache=True)
def overlap_1d(
    a_edges: np.ndarray, b_edges: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Overlaps of the cells of two increasing edge lists: (cell of a, cell of b, fraction of the
    a cell's length inside the b cell), for every pair that overlaps."""
    na = a_edges.size - 1
    nb = b_edges.size - 1
    cap = na + nb + 1
    ia = np.empty(cap, np.int64)
    ib = np.empty(cap, np.int64)
    fr = np.empty(cap)
    n = 0
    j = 0
    for i in range(na):
        a0 = a_edges[i]
        a1 = a_edges[i + 1]
        width = a1 - a0
        if width <= 0.0:
            continue
        while j < nb and b_edges[j + 1] <= a0:
            j += 1
        k = j
        while k < nb and b_edges[k] < a1:
            lo = max(a0, b_edges[k])
            hi = min(a1, b_edges[k + 1])
            if hi > lo:
                if n == cap:
                    cap *= 2
                    ia2 = np.empty(cap, np.int64)
                    ib2 = np.empty(cap, np.int64)
                    fr2 = np.empty(cap)
                    ia2[:n] = ia[:n]
                    ib2[:n] = ib[:n]
                    fr2[:n] = fr[:n]
                    ia, ib, fr = ia2, ib2, fr2
                ia[n] = i
                ib[n] = k
                fr[n] = (hi - lo) / width
                n += 1
            k += 1
    return ia[:n], ib[:n], fr[:n]


@njit(cache=True)
def resample_sum(
    values: np.ndarray,
    r_a: np.ndarray,
    r_b: np.ndarray,
    r_f: np.ndarray,
    c_a: np.ndarray,
    c_b: np.ndarray,
    c_f: np.ndarray,
    out: np.ndarray,
) -> None:
    """``out[rb, cb] += values[ra, ca] * rf * cf`` over the row and column overlaps (the share of
    each source cell that falls in each target cell); NaN and negative values are skipped."""
    for p in range(r_a.size):
        ra = r_a[p]
        rb = r_b[p]
        rf = r_f[p]
        for q in range(c_a.size):
            v = values[ra, c_a[q]]
            if v > 0.0:
                out[rb, c_b[q]] += v * rf * c_f[q]
