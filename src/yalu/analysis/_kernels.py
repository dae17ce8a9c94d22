"""Numba kernels for yalu.analysis (private: use the wrappers in :mod:`yalu.analysis.geo`)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from yalu.cpu import clean_upper


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


@njit(cache=True)
def _segment_angle(px: float, py: float, pz: float, seg: np.ndarray, k: int) -> float:
    """Central angle [rad] from unit vector p to great-circle arc ``seg[k]``."""
    ax = seg[k, 0]
    ay = seg[k, 1]
    az = seg[k, 2]
    bx = seg[k, 3]
    by = seg[k, 4]
    bz = seg[k, 5]
    best = min(_angle(px, py, pz, ax, ay, az), _angle(px, py, pz, bx, by, bz))
    # interior of the arc: foot of the perpendicular from p to the great circle a-b
    nx = ay * bz - az * by
    ny = az * bx - ax * bz
    nz = ax * by - ay * bx
    nn = math.sqrt(nx * nx + ny * ny + nz * nz)
    if nn < 1e-15:
        return best
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
        best = min(best, math.asin(min(1.0, abs(s))))
    return best


#: arcs per bounding cap of :func:`segment_caps`
CAP_SIZE = 32
# a cap is skipped only when its lower bound beats the best distance by this much [rad], so that
# rounding in the bound never skips an arc whose computed distance is the smallest
_CAP_SLACK = 1e-9


@njit(cache=True)
def segment_caps(seg: np.ndarray, size: int = CAP_SIZE) -> np.ndarray:
    """Bounding caps of consecutive groups of ``size`` arcs: (n_caps, 4) rows of the cap
    centre (unit vector) and angular radius [rad].

    A spherical cap of radius < pi/2 is geodesically convex, so a cap that holds both ends of
    every arc of its group holds the arcs; the distance from a point to any arc of the group is
    then at least (angle to the centre) - radius. Groups whose ends spread over more than a
    quarter circle get radius pi (never skipped).
    """
    nseg = seg.shape[0]
    ncap = (nseg + size - 1) // size
    caps = np.empty((ncap, 4))
    for c in range(ncap):
        k0 = c * size
        k1 = min(nseg, k0 + size)
        sx = 0.0
        sy = 0.0
        sz = 0.0
        for k in range(k0, k1):
            sx += seg[k, 0] + seg[k, 3]
            sy += seg[k, 1] + seg[k, 4]
            sz += seg[k, 2] + seg[k, 5]
        nn = math.sqrt(sx * sx + sy * sy + sz * sz)
        if nn < 1e-12:
            caps[c, 0] = 1.0
            caps[c, 1] = 0.0
            caps[c, 2] = 0.0
            caps[c, 3] = math.pi
            continue
        sx /= nn
        sy /= nn
        sz /= nn
        r = 0.0
        for k in range(k0, k1):
            r = max(r, _angle(sx, sy, sz, seg[k, 0], seg[k, 1], seg[k, 2]))
            r = max(r, _angle(sx, sy, sz, seg[k, 3], seg[k, 4], seg[k, 5]))
        caps[c, 0] = sx
        caps[c, 1] = sy
        caps[c, 2] = sz
        caps[c, 3] = r if r < 0.5 * math.pi else math.pi
    return caps


#: arcs per sub-cap inside each cap (``CAP_SIZE`` is a multiple of it)
SUB_SIZE = 4
#: consecutive points one work item walks in order (neighbours on a grid row)
_POINT_CHUNK = 256


@njit(cache=True, parallel=True)
def distance_to_segments_rad(
    lat_rad: np.ndarray, lon_rad: np.ndarray, seg: np.ndarray
) -> np.ndarray:
    """Smallest central angle [rad] from each point to a set of great-circle arcs.

    ``seg`` is (n, 6): unit vectors of the start and end of each arc. The best distance so far
    starts at the arc nearest the previous point of the work item (points come in grid order,
    so it is usually the nearest arc again); groups of ``CAP_SIZE`` arcs, then of ``SUB_SIZE``
    arcs, are skipped when their bounding cap (:func:`segment_caps`) is farther than that
    best. The minimum is the same value as over every arc: the same arcs' values, of which
    only ones that cannot be the smallest are left out.
    """
    n = lat_rad.size
    out = np.empty(n)
    nseg = seg.shape[0]
    caps = segment_caps(seg, CAP_SIZE)
    subs = segment_caps(seg, SUB_SIZE)
    ncap = caps.shape[0]
    nsub = subs.shape[0]
    per_cap = CAP_SIZE // SUB_SIZE
    n_items = (n + _POINT_CHUNK - 1) // _POINT_CHUNK
    for item in prange(n_items):
        clean_upper()
        prev = -1
        for i in range(item * _POINT_CHUNK, min(n, (item + 1) * _POINT_CHUNK)):
            px, py, pz = _unit(lat_rad[i], lon_rad[i])
            best = math.pi
            best_k = -1
            if prev >= 0:
                best = _segment_angle(px, py, pz, seg, prev)
                best_k = prev
            for c in range(ncap):
                b = _angle(px, py, pz, caps[c, 0], caps[c, 1], caps[c, 2]) - caps[c, 3]
                if b - _CAP_SLACK > best:
                    continue
                for sc in range(c * per_cap, min(nsub, (c + 1) * per_cap)):
                    b = _angle(px, py, pz, subs[sc, 0], subs[sc, 1], subs[sc, 2]) - subs[sc, 3]
                    if b - _CAP_SLACK > best:
                        continue
                    for k in range(sc * SUB_SIZE, min(nseg, (sc + 1) * SUB_SIZE)):
                        d = _segment_angle(px, py, pz, seg, k)
                        if d < best:
                            best = d
                            best_k = k
            out[i] = best
            prev = best_k
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
def area_by_label_rows(
    region: np.ndarray,
    region_label: np.ndarray,
    in_area: np.ndarray,
    levels: np.ndarray,
    row_km2: np.ndarray,
    nlabels: int,
    nlevels: int,
) -> np.ndarray:
    """Cell areas of a grid summed into a (nlabels, nlevels + 1) table by (label, level).

    Node ``(i, j)`` counts where ``in_area[i, j]``, with weight ``row_km2[i]`` and label
    ``region_label[region[i, j]]`` (region -1: the last entry). In the order of the nodes, row
    by row: :func:`sum_by_label` on the flattened grid with the row areas broadcast, bit for bit,
    without a label, level or weight array of the grid's size.
    """
    out = np.zeros((nlabels, nlevels + 1))
    nr, nc = levels.shape
    last = region_label.size - 1
    for i in range(nr):
        w = row_km2[i]
        if not (w == w):
            continue
        for j in range(nc):
            if not in_area[i, j]:
                continue
            r = region[i, j]
            lab = region_label[last if r < 0 else r]
            lev = levels[i, j]
            if lab < 0 or lab >= nlabels or lev < 0 or lev > nlevels:
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


@njit(cache=True)
def area_at_levels_rows(
    levels: np.ndarray, label: np.ndarray, row_km2: np.ndarray, nlabels: int
) -> tuple[np.ndarray, int]:
    """:func:`area_at_levels` over a whole grid: node ``(i, j)`` adds ``row_km2[i]`` to label
    ``label[i, j]`` (-1: not counted) at every level up to its own, row by row; with the first
    flat node whose label is out of range (-1: none; the sums then stop there)."""
    out = np.zeros((nlabels, 3))
    nr, nc = label.shape
    for i in range(nr):
        w = row_km2[i]
        for j in range(nc):
            c = label[i, j]
            if c < 0:
                continue
            if c >= nlabels:
                return out, i * nc + j
            lev = levels[i, j]
            for k in range(min(int(lev), 3)):
                out[c, k] += w
    return out, -1


@njit(cache=True)
def weighted_area_rows(
    out: np.ndarray, weight: np.ndarray, label: np.ndarray, row_km2: np.ndarray
) -> int:
    """Add cell area x weight per label over rows of a grid into ``out`` (nlabels,): node
    ``(i, j)`` adds ``row_km2[i] * w`` to label ``label[i, j]`` (-1: not counted), ``w`` the
    node's weight as float64 with NaN as 0 and +-inf as the largest finite values
    (``numpy.nan_to_num``), in grid order. Returns the first flat node whose label is out of
    range (-1: none)."""
    nlabels = out.shape[0]
    nr, nc = label.shape
    big = np.finfo(np.float64).max
    for i in range(nr):
        a = row_km2[i]
        for j in range(nc):
            c = label[i, j]
            if c < 0:
                continue
            if c >= nlabels:
                return i * nc + j
            w = float(weight[i, j])
            if w != w:
                w = 0.0
            elif w > big:
                w = big
            elif w < -big:
                w = -big
            out[c] += a * w
    return -1


@njit(cache=True)
def area_at_nodes_add(
    out: np.ndarray,
    node: np.ndarray,
    levels: np.ndarray,
    label: np.ndarray,
    row_km2: np.ndarray,
    ncols: int,
) -> int:
    """Add the area of listed grid nodes to ``out`` (nlabels, 3) [km²]: node ``node[i]`` (flat,
    increasing) with level ``levels[i]`` adds its row's ``row_km2`` to label ``label[node[i]]``
    (-1: not counted) at every level up to its own. Returns the first entry whose label is out
    of range (-1: none). Adding the nodes of a grid's bands in order is
    :func:`area_at_levels_rows` on the whole grid (0 elsewhere), bit for bit."""
    nl = out.shape[0]
    for i in range(node.size):
        q = node[i]
        c = label[q]
        if c < 0:
            continue
        if c >= nl:
            return i
        w = row_km2[q // ncols]
        for k in range(min(int(levels[i]), 3)):
            out[c, k] += w
    return -1


@njit(cache=True)
def area_at_levels(
    levels: np.ndarray, node: np.ndarray, label: np.ndarray, km2: np.ndarray, nlabels: int
) -> tuple[np.ndarray, int]:
    """Area with at least each level 1..3 per label: (nlabels, 3) [km²], and the first entry
    whose node or label is out of range (-1: none; the sums then stop there).

    Node ``i`` (``node[i]`` in the flat ``levels``) adds ``km2[i]`` to ``label[i]``'s row at
    every level up to its own, in the order of the nodes: the sums of ``numpy.bincount`` with
    weights ``km2 * (level >= k)`` bit for bit (its zero weights add +0.0, which changes no sum).
    """
    out = np.zeros((nlabels, 3))
    n = levels.size
    for i in range(node.size):
        q = node[i]
        c = label[i]
        if q < 0 or q >= n or c < 0 or c >= nlabels:
            return out, i
        lev = levels[q]
        for k in range(min(int(lev), 3)):
            out[c, k] += km2[i]
    return out, -1
