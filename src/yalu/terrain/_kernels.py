"""Numba kernels of the terrain layer (private).

Public wrappers in :mod:`yalu.terrain` validate and coerce input; these kernels trust it. Other
yalu kernels (the coverage engine) may call :func:`bilinear_grid` from their own ``njit`` code, so
its signature is stable.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = [
    "all_finite",
    "bilinear_grid",
    "bilinear_index",
    "bilinear_inside",
    "bilinear_point",
    "fill_voids",
    "parse_int_text",
]

# A coordinate within this fraction of a grid step outside the node extent snaps onto the edge,
# so that points computed exactly on an edge (with rounding) still interpolate.
_EDGE_TOL = 1e-9


@njit(cache=True, nogil=True)
def bilinear_point(elev2d, north_deg, west_deg, dlat_deg, dlon_deg, lat, lon):  # type: ignore[no-untyped-def]
    """Bilinear value of a point-registered grid at one point; NaN outside the node extent.

    See :func:`bilinear_grid` for the grid conventions.
    """
    return bilinear_index(elev2d, (north_deg - lat) / dlat_deg, (lon - west_deg) / dlon_deg)


@njit(cache=True, nogil=True, inline="always")
def bilinear_index(elev2d, fi, fj):  # type: ignore[no-untyped-def]
    """:func:`bilinear_point` at fractional row ``fi`` and column ``fj``; NaN outside the grid."""
    nrows = elev2d.shape[0]
    ncols = elev2d.shape[1]
    if not (fi >= -_EDGE_TOL and fi <= nrows - 1 + _EDGE_TOL):
        return np.nan
    if not (fj >= -_EDGE_TOL and fj <= ncols - 1 + _EDGE_TOL):
        return np.nan
    fi = min(max(fi, 0.0), nrows - 1.0)
    fj = min(max(fj, 0.0), ncols - 1.0)
    i0 = int(math.floor(fi))
    j0 = int(math.floor(fj))
    ti = fi - i0
    tj = fj - j0
    # a point on a node row/column uses only that row/column: a NaN beyond it gets zero weight
    i1 = i0 + 1 if ti > 0.0 else i0
    j1 = j0 + 1 if tj > 0.0 else j0
    z00 = elev2d[i0, j0]
    z01 = elev2d[i0, j1]
    z10 = elev2d[i1, j0]
    z11 = elev2d[i1, j1]
    top = z00 + (z01 - z00) * tj
    bot = z10 + (z11 - z10) * tj
    return top + (bot - top) * ti


@njit(cache=True, nogil=True, inline="always")
def bilinear_inside(flat, ncols, fi, fj):  # type: ignore[no-untyped-def]
    """:func:`bilinear_index` without its checks, for ``0 <= fi < nrows - 1``,
    ``0 <= fj < ncols - 1`` and finite nodes around the point, where it gives the same bits
    (a zero weight times a finite difference adds zero).

    ``flat`` is the C-contiguous grid raveled (``elev2d.reshape(-1)``, a view) and ``ncols``
    its number of columns as ``np.uint64``: unsigned indices spare numba's negative-index
    wraparound on each of the four reads, a quarter of the instructions of a profile sample
    (the point's indices are non-negative by the precondition).
    """
    i0 = int(fi)
    j0 = int(fj)
    ti = fi - i0
    tj = fj - j0
    b = np.uint64(i0) * ncols + np.uint64(j0)
    z00 = flat[b]
    z01 = flat[b + np.uint64(1)]
    z10 = flat[b + ncols]
    z11 = flat[b + ncols + np.uint64(1)]
    top = z00 + (z01 - z00) * tj
    bot = z10 + (z11 - z10) * tj
    return top + (bot - top) * ti


@njit(cache=True, nogil=True)
def all_finite(elev2d):  # type: ignore[no-untyped-def]
    """True when every node of the grid is finite (no voids): profiles inside it need no
    per-sample checks."""
    n = elev2d.shape[1]
    m4 = n - n % 4
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    # NaN and infinities survive a sum; four partial sums keep the pass short
    for i in range(elev2d.shape[0]):
        row = elev2d[i]
        for j in range(0, m4, 4):
            s0 += row[j] * 0.0
            s1 += row[j + 1] * 0.0
            s2 += row[j + 2] * 0.0
            s3 += row[j + 3] * 0.0
        for j in range(m4, n):
            s0 += row[j] * 0.0
    return s0 + s1 + s2 + s3 == 0.0


@njit(cache=True, nogil=True)
def bilinear_grid(elev2d, north_deg, west_deg, dlat_deg, dlon_deg, lat, lon, out):  # type: ignore[no-untyped-def]
    """Bilinear interpolation of a point-registered lat/lon grid at many points.

    Parameters
    ----------
    elev2d : 2-D array (float32 or float64), shape (nrows, ncols)
        Node values; row 0 is the NORTH row. Node ``(i, j)`` lies at
        ``lat = north_deg - i * dlat_deg``, ``lon = west_deg + j * dlon_deg``.
    north_deg, west_deg : float
        Latitude of row 0 and longitude of column 0 [deg].
    dlat_deg, dlon_deg : float
        Positive node spacing [deg].
    lat, lon : 1-D float64 arrays of equal length
        Query points [deg]. Longitudes must use the grid's convention (no wrapping is done).
    out : 1-D float64 array, same length
        Receives the values; NaN for points outside the node extent (a tolerance of 1e-9 step
        snaps points computed on an edge) or where a contributing node is NaN.

    Notes
    -----
    Stable private API: the coverage engine calls this from its own njit code.
    """
    for k in range(lat.shape[0]):
        out[k] = bilinear_point(elev2d, north_deg, west_deg, dlat_deg, dlon_deg, lat[k], lon[k])


@njit(cache=True)
def fill_voids(z):  # type: ignore[no-untyped-def]
    """Fill NaN nodes of ``z`` in place by iterative neighbour averaging; return the count filled.

    Each pass sets every void with at least one valid 8-neighbour to the mean of its valid
    neighbours (values from the same pass are not used, so the fill grows inward symmetrically
    from the void's rim). Passes repeat until no void is left. A grid with no valid node at all
    is left unchanged (the caller decides).
    """
    nrows, ncols = z.shape
    n_void = 0
    for i in range(nrows):
        for j in range(ncols):
            if math.isnan(z[i, j]):
                n_void += 1
    if n_void == 0 or n_void == nrows * ncols:
        return 0
    # work on a list of void coordinates so each pass costs O(voids), not O(grid)
    vi = np.empty(n_void, dtype=np.int64)
    vj = np.empty(n_void, dtype=np.int64)
    k = 0
    for i in range(nrows):
        for j in range(ncols):
            if math.isnan(z[i, j]):
                vi[k] = i
                vj[k] = j
                k += 1
    remaining = n_void
    newval = np.empty(n_void, dtype=np.float64)
    while remaining > 0:
        for k in range(remaining):
            i = vi[k]
            j = vj[k]
            s = 0.0
            c = 0
            for di in range(-1, 2):
                ii = i + di
                if ii < 0 or ii >= nrows:
                    continue
                for dj in range(-1, 2):
                    jj = j + dj
                    if (di == 0 and dj == 0) or jj < 0 or jj >= ncols:
                        continue
                    v = z[ii, jj]
                    if not math.isnan(v):
                        s += v
                        c += 1
            newval[k] = s / c if c > 0 else np.nan
        # apply after the pass, compact the list of voids still open
        w = 0
        for k in range(remaining):
            if math.isnan(newval[k]):
                vi[w] = vi[k]
                vj[w] = vj[k]
                w += 1
            else:
                z[vi[k], vj[k]] = newval[k]
        if w == remaining:  # pragma: no cover - impossible while one valid node exists
            break
        remaining = w
    return n_void


@njit(cache=True, nogil=True)
def parse_int_text(buf, out):  # type: ignore[no-untyped-def]
    """Parse whitespace-separated decimal integers from the bytes ``buf`` (uint8) into ``out``.

    Returns ``(count, bad)``: the number of integers found, and the byte offset of the first
    character that is neither a digit, a leading ``-``/``+`` nor ASCII whitespace, or of the first
    integer of more than 15 digits (which int64 arithmetic could overflow) (-1 if none).
    Integers beyond ``len(out)`` are counted but not stored, so the caller can report the true
    count. Runs without the GIL: SPLAT! SDF tiles are 1.44 M (3") or 13 M (1") lines of text.
    """
    n = buf.shape[0]
    cap = out.shape[0]
    count = 0
    i = 0
    while i < n:
        c = buf[i]
        if c == 32 or c == 10 or c == 13 or c == 9:
            i += 1
            continue
        sign = 1
        if c == 45 or c == 43:
            if c == 45:
                sign = -1
            i += 1
            if i >= n or buf[i] < 48 or buf[i] > 57:
                return count, i - 1
        elif c < 48 or c > 57:
            return count, i
        start = i
        v = 0
        while i < n and 48 <= buf[i] <= 57:
            v = v * 10 + (buf[i] - 48)
            i += 1
        if i - start > 15:
            return count, start
        if i < n and not (buf[i] == 32 or buf[i] == 10 or buf[i] == 13 or buf[i] == 9):
            return count, i
        if count < cap:
            out[count] = sign * v
        count += 1
    return count, -1
