"""Numba kernels of the radio layer (private)."""

from __future__ import annotations

import math

import numba
import numpy as np

_SQRT1_2 = 1.0 / math.sqrt(2.0)


@numba.vectorize(["float64(float64)", "float32(float32)"], nopython=True, cache=True)
def normal_cdf(x):  # type: ignore[no-untyped-def]
    """Standard normal CDF, ``0.5 erfc(-x / sqrt 2)``; -inf -> 0, +inf -> 1, NaN -> NaN."""
    return 0.5 * math.erfc(-x * _SQRT1_2)


@numba.njit(cache=True, parallel=True)
def ensemble_levels(  # type: ignore[no-untyped-def]
    p_dl,
    p_ul,
    usable,
    dl_off,
    ul_off,
    meas_offset,
    w,
    n_dl_mw,
    n_ul_db,
    jam_mw,
    jam_gain_mw,
    th,
    out,
):
    """Service level (0-3) at each node of one technology's candidates under one draw.

    ``p_dl``, ``p_ul`` (k, N): nominal DL power at the handset and UL power at the tower [dBm]
    (-inf: no path); ``usable`` (k, N); ``dl_off``, ``ul_off`` (k,): the draw's DL and UL
    shifts [dB]; ``meas_offset`` (k,): measured-quantity offset [dB]; ``w`` (k, k): co-channel
    weights; ``n_dl_mw`` (k,): DL noise [mW]; ``n_ul_db`` (k,): UL noise plus jammers at each
    tower [dBm]; ``jam_mw`` (m, k): jammer power in each candidate's DL channel, times the
    handset's gain change [mW]; ``jam_gain_mw`` (m, N): jammer-to-handset coupling (linear);
    ``th`` (3, 4): per level SMS/voice/data the DL power, DL SINR, UL SINR and UL power
    thresholds (NaN: none). ``out`` (N,) receives the highest level of any usable candidate:
    the budget of :class:`yalu.radio.ensemble.BudgetEnsemble`, node by node.
    """
    k, n = p_dl.shape
    m = jam_mw.shape[0]
    for j in numba.prange(n):
        pmw = np.empty(k)
        pd = np.empty(k)
        lit = np.empty(k, dtype=np.int64)
        n_lit = 0
        for a in range(k):
            pd[a] = p_dl[a, j] + dl_off[a]
            # 10 ** (-inf / 10) is +0.0: such terms add nothing to the sums below, so they are
            # left out (the same bits), which spares most of the work at nodes far from most
            # candidates
            if pd[a] == -math.inf:
                pmw[a] = 0.0
            else:
                pmw[a] = math.pow(10.0, pd[a] / 10.0)
                lit[n_lit] = a
                n_lit += 1
        best = 0
        for a in range(k):
            if not usable[a, j]:
                continue
            noise = 0.0
            for bi in range(n_lit):
                b = lit[bi]
                noise += w[a, b] * pmw[b]
            noise += n_dl_mw[a]
            for i in range(m):
                noise += jam_mw[i, a] * jam_gain_mw[i, j]
            sinr_dl = pd[a] - 10.0 * math.log10(noise)
            ul_rx = p_ul[a, j] + ul_off[a]
            sinr_ul = ul_rx - n_ul_db[a]
            sig = pd[a] + meas_offset[a]
            level = 0
            for s in range(3):
                if not (sig >= th[s, 0] and sinr_dl >= th[s, 1] and sinr_ul >= th[s, 2]):
                    break
                if not math.isnan(th[s, 3]) and not ul_rx >= th[s, 3]:
                    break
                level += 1
            if level > best:
                best = level
        out[j] = best


@numba.njit(cache=True, parallel=True)
def level_margins(  # type: ignore[no-untyped-def]
    sig, sinr_dl, sinr_ul, ul_rx, has, in_range, th, ul_power, codes, margin, limit, level
):
    """Margins, limits and level of every candidate server at every node (one technology).

    ``sig``, ``sinr_dl``, ``sinr_ul``, ``ul_rx`` (k, N): measured DL quantity [dBm], DL and UL
    SINR [dB], UL power at the tower [dBm]; ``has``, ``in_range`` (k, N) bool; ``th`` (3, 4):
    per level SMS/voice/data, the thresholds DL power, DL SINR, UL SINR, UL power;
    ``ul_power`` (3,) bool: whether the level has a UL power threshold; ``codes`` (6,):
    LIMIT_NONE, NO_SIGNAL, RANGE, DL_POWER, DL_SINR, UL.

    Writes ``margin`` (3, k, N) [dB]: the smallest margin over the level's terms and the lower
    levels' (NaN counts as -inf; -inf where the candidate is unusable); ``limit`` (3, k, N):
    what keeps the candidate from the level (NONE where it closes; no signal / range where it is
    unusable); ``level`` (k, N): how many levels close. The terms are taken in the order DL
    power, DL SINR, UL SINR, UL power and a term replaces the limit only when strictly lower,
    as :func:`yalu.radio.budget.link_budget` defines them; comparisons and one subtraction per
    term, so the same bits as the array form.
    """
    k, n = sig.shape
    inf = math.inf
    for q in numba.prange(n):
        for c in range(k):
            usable = has[c, q] and in_range[c, q]
            if has[c, q]:
                lim0 = codes[0] if in_range[c, q] else codes[2]
            else:
                lim0 = codes[1]
            cum = inf
            why = codes[0]
            count = 0
            for li in range(3):
                n_terms = 4 if ul_power[li] else 3
                for t in range(n_terms):
                    if t == 0:
                        m = sig[c, q] - th[li, 0]
                        w = codes[3]
                    elif t == 1:
                        m = sinr_dl[c, q] - th[li, 1]
                        w = codes[4]
                    elif t == 2:
                        m = sinr_ul[c, q] - th[li, 2]
                        w = codes[5]
                    else:
                        m = ul_rx[c, q] - th[li, 3]
                        w = codes[5]
                    if m != m:
                        m = -inf
                    if m < cum:
                        why = w
                        cum = m
                if usable:
                    margin[li, c, q] = cum
                    limit[li, c, q] = why if cum < 0 else codes[0]
                    if cum >= 0:
                        count += 1
                else:
                    margin[li, c, q] = -inf
                    limit[li, c, q] = lim0
            level[c, q] = count
