"""Numba kernels of the radio layer (private)."""

from __future__ import annotations

import math

import numba
import numpy as np

from yalu.cpu import clean_upper

_SQRT1_2 = 1.0 / math.sqrt(2.0)


#: nodes per work item of the per-candidate kernels: each item walks one candidate's row at a
#: time (contiguous reads), instead of every candidate's row at each node (k x 10 streams)
NODE_CHUNK = 1024

#: elements per work item of the elementwise kernels; smaller arrays go to the serial twin
#: (the same scalar code, so the same bits whatever an array's size)
ELEMENT_CHUNK = 16384


@numba.njit(cache=True, inline="always")
def _mw_to_db1(x):  # type: ignore[no-untyped-def]
    # 10 log10(x) [dBm from mW]: 0 -> -inf, negative or NaN -> NaN
    return 10.0 * math.log10(x) if x > 0.0 else (-math.inf if x == 0.0 else math.nan)


@numba.njit(cache=True)
def _convert_range(x, out, i0, i1, to_db):  # type: ignore[no-untyped-def]
    if to_db:
        for i in range(i0, i1):
            out[i] = _mw_to_db1(x[i])
    else:
        for i in range(i0, i1):
            out[i] = 10.0 ** (x[i] / 10.0)


@numba.njit(cache=True)
def convert_serial(x, out, to_db):  # type: ignore[no-untyped-def]
    """Over flat arrays, on the calling thread: ``out = 10 log10(x)`` (libm ``log10``; 0 ->
    -inf, negative or NaN -> NaN) when ``to_db``, else ``out = 10 ** (x / 10)`` (libm
    ``pow``)."""
    clean_upper()
    _convert_range(x, out, 0, x.size, to_db)


@numba.njit(cache=True, parallel=True)
def convert_parallel(x, out, to_db):  # type: ignore[no-untyped-def]
    """:func:`convert_serial` in work items of ``ELEMENT_CHUNK`` elements."""
    n = x.size
    for w in numba.prange((n + ELEMENT_CHUNK - 1) // ELEMENT_CHUNK):
        clean_upper()
        _convert_range(x, out, w * ELEMENT_CHUNK, min(n, (w + 1) * ELEMENT_CHUNK), to_db)


@numba.njit(cache=True, parallel=True)
def ensemble_levels(  # type: ignore[no-untyped-def]
    ptr,
    cand,
    p_dl,
    p_ul,
    usable,
    lead,
    rest_sig,
    rest_ul,
    cols,
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
    """Raise ``out`` to the service level (0-3) of one technology's candidates under one draw.

    The candidates are sparse, node by node (CSR): node ``j`` (of ``N``) has the entries
    ``ptr[j]:ptr[j + 1]``, each a candidate ``cand[e]`` (increasing within a node) with a finite
    nominal DL power at the handset ``p_dl[e]`` and UL power at the tower ``p_ul[e]`` [dBm]
    and whether it may serve, ``usable[e]``; candidates without a path are left out, as they
    add nothing. ``lead`` (N,): the entry (0-based within its node) visited first, the
    strongest usable candidate at the nominal values (:func:`lead_entries`): its level is
    usually the node's, so that the others are skipped by the bound below. ``rest_sig``,
    ``rest_ul`` (N,): the largest nominal measured DL quantity ``p_dl + meas_offset[cand]``
    and UL power ``p_ul`` of the node's other usable entries (:func:`rest_bounds`; -inf: none).
    With the draw's largest DL shift and UL SINR shift they bound every other entry's terms,
    so that a node whose others cannot reach the level above the lead's skips them all. The
    level is the largest over all candidates whatever the order of the visit. ``cols`` (N,):
    the node's index in ``out`` (distinct). ``dl_off``, ``ul_off`` (k,): the draw's DL and UL
    shifts [dB]; ``meas_offset`` (k,): measured-quantity offset
    [dB]; ``w`` (k, k): co-channel weights; ``n_dl_mw`` (k,): DL noise [mW]; ``n_ul_db`` (k,):
    UL noise plus jammers at each tower [dBm]; ``jam_mw`` (m, k): jammer power in each
    candidate's DL channel, times the handset's gain change [mW]; ``jam_gain_mw`` (m, N):
    jammer-to-handset coupling (linear); ``th`` (3, 4): per level SMS/voice/data the DL power,
    DL SINR, UL SINR and UL power thresholds (NaN: none).

    ``out[cols[j]]`` becomes the larger of itself and the highest level of any usable
    candidate at node ``j``: the budget of :class:`yalu.radio.ensemble.BudgetEnsemble`. The
    interference sums run over the candidates in increasing order, as the dense budget's do.
    A candidate whose level could not exceed the node's best so far even without interference
    (its DL power, UL SINR and UL power terms) skips the interference sum, and each power in mW
    is computed only once a non-zero co-channel weight needs it (a zero weight's term, +0.0,
    would leave the sum unchanged; GSM carriers on their own channels have few): the same
    levels, less work.
    """
    n = ptr.size - 1
    m = jam_mw.shape[0]
    deg = 1
    for j in range(n):
        deg = max(deg, ptr[j + 1] - ptr[j])
    # the draw's largest DL shift and UL SINR shift over the candidates: an entry's DL
    # quantity is at most rest_sig + d_max, its UL SINR at most rest_ul + u_max (the slack
    # covers the different order of the sums' rounding)
    d_max = -math.inf
    u_max = -math.inf
    for a in range(dl_off.size):
        d_max = max(d_max, dl_off[a])
        u_max = max(u_max, ul_off[a] - n_ul_db[a])
    slack = 1e-9
    chunk = 256
    for c in numba.prange((n + chunk - 1) // chunk):
        pmw = np.empty(deg)
        pd = np.empty(deg)
        for j in range(c * chunk, min(n, (c + 1) * chunk)):
            clean_upper()
            e0 = ptr[j]
            ne = ptr[j + 1] - e0
            powers = False  # pd, pmw of the node's entries, computed when first needed
            best = 0
            first = lead[j]
            for qq in range(ne):
                if best == 3:
                    break
                if qq == 1 and not (rest_sig[j] + d_max + slack >= th[best, 0]
                                    and rest_ul[j] + u_max + slack >= th[best, 2]):  # fmt: skip
                    # no other entry meets the next level's DL power and UL SINR terms
                    break
                # the lead first, then the others in their order
                q = first if qq == 0 else (qq - 1 if qq <= first else qq)
                if not usable[e0 + q]:
                    continue
                a = cand[e0 + q]
                pd_q = p_dl[e0 + q] + dl_off[a]
                ul_rx = p_ul[e0 + q] + ul_off[a]
                sinr_ul = ul_rx - n_ul_db[a]
                sig = pd_q + meas_offset[a]
                # the levels the terms without interference allow: the DL SINR can only
                # lower it, so a candidate that cannot beat ``best`` needs no interference sum
                bound = 0
                for s in range(3):
                    if not (sig >= th[s, 0] and sinr_ul >= th[s, 2]):
                        break
                    if not math.isnan(th[s, 3]) and not ul_rx >= th[s, 3]:
                        break
                    bound += 1
                if bound <= best:
                    continue
                if not powers:
                    for r in range(ne):
                        pd[r] = p_dl[e0 + r] + dl_off[cand[e0 + r]]
                        pmw[r] = -1.0  # not computed yet
                    powers = True
                noise = 0.0
                for r in range(ne):
                    # a zero weight (another channel, the candidate itself) would add +0.0,
                    # which leaves the sum as it is: skipped, and its power never computed
                    wr = w[a, cand[e0 + r]]
                    if wr != 0.0 and pd[r] != -math.inf:
                        if pmw[r] < 0.0:
                            pmw[r] = math.pow(10.0, pd[r] / 10.0)
                        noise += wr * pmw[r]
                noise += n_dl_mw[a]
                for i in range(m):
                    noise += jam_mw[i, a] * jam_gain_mw[i, j]
                sinr_dl = pd_q - 10.0 * math.log10(noise)
                level = 0
                for s in range(bound):
                    if not sinr_dl >= th[s, 1]:
                        break
                    level += 1
                if level > best:
                    best = level
            if best > out[cols[j]]:
                out[cols[j]] = best


@numba.njit(cache=True, parallel=True)
def technology_budget(  # type: ignore[no-untyped-def]
    idx, meas, p_dl, p_ul, dist, jam_dl_mw, i_co, n_dl_mw, n_dl, n_ul, n_ul_tot, jam_ul_mw,
    max_range_m, has_range, th, ul_power, codes, voice_ul_sinr_db,
    margin, f_out, best_out, level_out, limit_out, in_range_out,
):  # fmt: skip
    """One technology's budget at every node: each candidate server's SINR, level margins and
    limits, the strongest usable candidate, and the node's results at it.

    Inputs over every site ``(n, N)``: ``meas`` measured DL quantity [dBm] (-inf without a
    path), ``p_dl`` DL power [dBm], ``p_ul`` UL power at the tower [dBm], ``dist`` [m],
    ``jam_dl_mw`` jammer power in each site's DL channel [mW]; ``jam_ul_mw`` (n,) jammer power
    at each tower [mW]. Over the technology's ``k`` candidates (sites ``idx``): ``i_co`` (k, N)
    co-channel interference [mW]; ``n_dl_mw``, ``n_dl``, ``n_ul``, ``n_ul_tot`` (k,) DL noise
    [mW, dBm], UL noise and noise plus jammers [dBm]. ``max_range_m`` applies when
    ``has_range``; ``th`` (3, 4), ``ul_power`` (3,), ``codes`` (6,): the levels' thresholds
    (DL power, DL SINR, UL SINR, UL power), whether each has a UL power threshold, and the
    ``LIMIT_*`` codes (NONE, NO_SIGNAL, RANGE, DL_POWER, DL_SINR, UL); ``voice_ul_sinr_db``
    the UL margin's reference.

    Per candidate, scalar by scalar as the array form of :func:`yalu.radio.budget.link_budget`
    (the same operations, so the same bits): ``has`` = finite ``meas``; ``in_range`` = ``dist
    <= max_range_m``; DL SINR = ``p_dl - 10 log10((n_dl_mw + i_co) + jam_dl_mw)``; UL SINR =
    ``p_ul - n_ul_tot``. A level's margin is the smallest of its terms (DL power, DL SINR, UL
    SINR, then UL power where set) and of the lower levels' (NaN counts as -inf; a term
    replaces the limit only when strictly lower); an unusable candidate has -inf and the limit
    "no signal" or "range". The server is the first candidate maximising ``level * 1e4 +
    clip(meas, -1e3, 1e3)`` among those with a signal (-1e6 without).

    Writes ``margin`` (3, k, N) [dB]; ``f_out`` (12, N) at the server, NaN where no candidate
    has a signal: DL power, measured DL, DL noise, DL interference, DL jammer [dBm], DL SINR
    [dB], UL power, UL noise, UL jammer [dBm], UL SINR, UL margin [dB], distance [m];
    ``best_out`` (N,) the server's site (-1: none), ``level_out`` its level, ``limit_out`` what
    keeps it from the next level, ``in_range_out`` its range test (False without a signal).
    Work items are chunks of ``NODE_CHUNK`` nodes, walked one candidate at a time.
    """
    k = idx.size
    n = meas.shape[1]
    inf = math.inf
    for w_ in numba.prange((n + NODE_CHUNK - 1) // NODE_CHUNK):
        clean_upper()
        q0 = w_ * NODE_CHUNK
        q1 = min(n, q0 + NODE_CHUNK)
        m_ = q1 - q0
        top = np.full(m_, -inf)
        loc = np.zeros(m_, dtype=np.intp)
        lev_c = np.empty((k, m_), dtype=np.uint8)
        lim_c = np.empty((3, k, m_), dtype=np.uint8)
        sinr_c = np.empty((k, m_))
        for c in range(k):
            i = idx[c]
            for q in range(q0, q1):
                j = q - q0
                sig = meas[i, q]
                has = math.isfinite(sig)
                in_range = (dist[i, q] <= max_range_m) if has_range else True
                usable = has and in_range
                if has:
                    lim0 = codes[0] if in_range else codes[2]
                else:
                    lim0 = codes[1]
                sinr_dl = p_dl[i, q] - _mw_to_db1((n_dl_mw[c] + i_co[c, q]) + jam_dl_mw[i, q])
                ul_rx = p_ul[i, q]
                sinr_ul = ul_rx - n_ul_tot[c]
                sinr_c[c, j] = sinr_dl
                cum = inf
                why = codes[0]
                count = 0
                for li in range(3):
                    n_terms = 4 if ul_power[li] else 3
                    for t in range(n_terms):
                        if t == 0:
                            m = sig - th[li, 0]
                            wc = codes[3]
                        elif t == 1:
                            m = sinr_dl - th[li, 1]
                            wc = codes[4]
                        elif t == 2:
                            m = sinr_ul - th[li, 2]
                            wc = codes[5]
                        else:
                            m = ul_rx - th[li, 3]
                            wc = codes[5]
                        if m != m:
                            m = -inf
                        if m < cum:
                            why = wc
                            cum = m
                    if usable:
                        margin[li, c, q] = cum
                        lim_c[li, c, j] = why if cum < 0 else codes[0]
                        if cum >= 0:
                            count += 1
                    else:
                        margin[li, c, q] = -inf
                        lim_c[li, c, j] = lim0
                lev_c[c, j] = count
                # the strongest usable server: the highest level, then the strongest signal
                if has:
                    x = sig
                    if x > 1e3:
                        x = 1e3
                    elif x < -1e3:
                        x = -1e3
                    key = float(count) * 1e4 + x
                else:
                    key = -1e6
                if key > top[j]:
                    top[j] = key
                    loc[j] = c
        for q in range(q0, q1):
            j = q - q0
            c = loc[j]
            i = idx[c]
            sig = meas[i, q]
            lvl = lev_c[c, j]
            level_out[q] = lvl
            limit_out[q] = codes[0] if lvl >= 3 else lim_c[min(lvl, 2), c, j]
            if math.isfinite(sig):
                best_out[q] = i
                in_range_out[q] = (dist[i, q] <= max_range_m) if has_range else True
                ul_rx = p_ul[i, q]
                f_out[0, q] = p_dl[i, q]
                f_out[1, q] = sig
                f_out[2, q] = n_dl[c]
                f_out[3, q] = _mw_to_db1(i_co[c, q])
                f_out[4, q] = _mw_to_db1(jam_dl_mw[i, q])
                f_out[5, q] = sinr_c[c, j]
                f_out[6, q] = ul_rx
                f_out[7, q] = n_ul[c]
                f_out[8, q] = _mw_to_db1(jam_ul_mw[i])
                f_out[9, q] = ul_rx - n_ul_tot[c]
                f_out[10, q] = ul_rx - (n_ul[c] + voice_ul_sinr_db)
                f_out[11, q] = dist[i, q]
            else:
                best_out[q] = -1
                in_range_out[q] = False
                for f in range(12):
                    f_out[f, q] = math.nan


@numba.njit(cache=True, parallel=True)
def best_by_mast(margin, sigma, mast, best):  # type: ignore[no-untyped-def]
    """Raise ``best[l, g, q]`` to the probability that level ``l`` closes at candidate ``c`` of
    mast ``g = mast[c]``: ``Phi(margin[l, c, q] / sigma[c])`` (a step at 0 where ``sigma[c]``
    is 0). ``margin`` (3, k, N) [dB], ``sigma`` (k,) [dB], ``mast`` (k,) int, ``best`` (3, M,
    N) float64, updated in place. NaN propagates as ``numpy.maximum`` does; the same scalar
    operations as the array form of :func:`yalu.radio.budget.service_probability`."""
    n_lv, k, n = margin.shape
    for w_ in numba.prange((n + NODE_CHUNK - 1) // NODE_CHUNK):
        clean_upper()
        q0 = w_ * NODE_CHUNK
        q1 = min(n, q0 + NODE_CHUNK)
        for li in range(n_lv):
            for c in range(k):
                s = sigma[c]
                g = mast[c]
                for q in range(q0, q1):
                    m = margin[li, c, q]
                    if m == -math.inf:
                        p = 0.0  # what erfc(+inf) gives, without its cost (unusable candidates)
                    elif s > 0:
                        p = 0.5 * math.erfc(-(m / s) * _SQRT1_2)
                    else:
                        p = 1.0 if m >= 0 else 0.0
                    b = best[li, g, q]
                    # numpy.maximum: NaN from either side wins
                    if p != p or (b == b and p > b):
                        best[li, g, q] = p
    return best


@numba.njit(cache=True, parallel=True)
def any_closes(best, out):  # type: ignore[no-untyped-def]
    """``out[l, q] = float32(1 - prod_g (1 - best[l, g, q]))``, the product taken over masts in
    order (as ``numpy.prod`` along the first axis). ``best`` (3, M, N), ``out`` (3, N)."""
    n_lv, n_m, n = best.shape
    for w_ in numba.prange((n + NODE_CHUNK - 1) // NODE_CHUNK):
        clean_upper()
        q0 = w_ * NODE_CHUNK
        q1 = min(n, q0 + NODE_CHUNK)
        for li in range(n_lv):
            for q in range(q0, q1):
                acc = 1.0 - best[li, 0, q]
                for g in range(1, n_m):
                    acc = acc * (1.0 - best[li, g, q])
                out[li, q] = np.float32(1.0 - acc)
    return out


@numba.njit(cache=True)
def sparse_take(index, values, size, q, out):  # type: ignore[no-untyped-def]
    """``out[k]`` = the value stored at point ``q[k]`` (negative: from the end of ``size``
    points), NaN where nothing is stored. A search in the sorted ``index`` that gallops on from
    the previous key's place while the keys increase (blocks of nearby points mostly do)."""
    n = index.size
    pos = 0
    last = -1
    for k in range(q.size):
        i = q[k]
        if i < 0:
            i += size
        if i >= last:
            # the first place whose index is >= i lies in [lo, hi]
            lo = pos
            hi = lo
            step = 1
            while hi < n and index[hi] < i:
                lo = hi + 1
                hi = lo + step
                step *= 2
            if hi > n:
                hi = n
        else:
            lo = 0
            hi = n
        while lo < hi:
            mid = (lo + hi) >> 1
            if index[mid] < i:
                lo = mid + 1
            else:
                hi = mid
        out[k] = values[lo] if lo < n and index[lo] == i else np.nan
        pos = lo
        last = i


@numba.njit(cache=True)
def ensemble_entries(  # type: ignore[no-untyped-def]
    rows, kept, g, pl, pu, dist, eirp, ul_gain, ue, max_range_m, rank
):
    """One technology's candidates in one block of budget inputs, node by node (CSR pieces).

    ``rows`` (r,): the technology's sites (rows of the block, increasing); ``kept`` (K,): the
    block's columns that are ensemble nodes, in order; ``g``, ``pl``, ``pu``, ``dist``
    (sites, columns): site antenna gain [dB], DL and UL path loss [dB], distance [m];
    ``eirp`` (sites,) [dBm]; ``ul_gain`` (sites,): handset power plus tower gains plus ``ue``
    [dB]; ``ue``: handset net gain [dB]; ``max_range_m``: the technology's range limit (NaN:
    none); ``rank`` (sites,): each site's index among its technology's sites.

    A candidate has a path where its DL power ``eirp + g - pl + ue`` is finite (the loss and
    gain finite) and may serve within the range limit; a node is kept when one candidate may
    serve, with every candidate that has a path, in the order of ``rows``. The same sums in the
    same order as the vectorised form (:class:`yalu.radio.ensemble.BudgetEnsemble`), so the
    same bits.

    Returns ``count`` (nodes,), ``p_dl``, ``p_ul`` (entries,) [dBm], ``usable`` (entries,),
    ``cand`` (entries,) int32 and ``node`` (nodes,): each node's position in ``kept``.
    """
    nr = rows.size
    nk = kept.size
    limit = not math.isnan(max_range_m)
    n_nodes = 0
    n_ent = 0
    for q in range(nk):
        j = kept[q]
        has_n = 0
        use = False
        for i in range(nr):
            r = rows[i]
            if math.isfinite(pl[r, j]) and math.isfinite(g[r, j]):
                if math.isfinite(eirp[r] + g[r, j] - pl[r, j] + ue):
                    has_n += 1
                    if not limit or dist[r, j] <= max_range_m:
                        use = True
        if use:
            n_nodes += 1
            n_ent += has_n
    count = np.empty(n_nodes, dtype=np.int64)
    node = np.empty(n_nodes, dtype=np.int64)
    p_dl = np.empty(n_ent)
    p_ul = np.empty(n_ent)
    usable = np.empty(n_ent, dtype=np.bool_)
    cand = np.empty(n_ent, dtype=np.int32)
    a = 0
    e = 0
    for q in range(nk):
        j = kept[q]
        use = False
        for i in range(nr):
            r = rows[i]
            if math.isfinite(pl[r, j]) and math.isfinite(g[r, j]):
                if math.isfinite(eirp[r] + g[r, j] - pl[r, j] + ue):
                    if not limit or dist[r, j] <= max_range_m:
                        use = True
                        break
        if not use:
            continue
        e0 = e
        for i in range(nr):
            r = rows[i]
            if not (math.isfinite(pl[r, j]) and math.isfinite(g[r, j])):
                continue
            v = eirp[r] + g[r, j] - pl[r, j] + ue
            if not math.isfinite(v):
                continue
            p_dl[e] = v
            if math.isfinite(pu[r, j]):
                p_ul[e] = ul_gain[r] + g[r, j] - pu[r, j]
            else:
                p_ul[e] = -math.inf
            usable[e] = not limit or dist[r, j] <= max_range_m
            cand[e] = rank[r]
            e += 1
        count[a] = e - e0
        node[a] = q
        a += 1
    return count, p_dl, p_ul, usable, cand, node


@numba.njit(cache=True)
def rest_bounds(ptr, p_dl, p_ul, usable, cand, meas_offset, lead):  # type: ignore[no-untyped-def]
    """Per node of a CSR ensemble (as :func:`ensemble_levels`), the largest measured DL
    quantity ``p_dl + meas_offset[cand]`` and the largest ``p_ul`` of the usable entries other
    than the lead ``lead[j]`` (0-based within the node; -inf where there is none)."""
    n = ptr.size - 1
    sig = np.full(n, -math.inf)
    ul = np.full(n, -math.inf)
    for j in range(n):
        for q in range(ptr[j + 1] - ptr[j]):
            e = ptr[j] + q
            if usable[e] and q != lead[j]:
                sig[j] = max(sig[j], p_dl[e] + meas_offset[cand[e]])
                ul[j] = max(ul[j], p_ul[e])
    return sig, ul


@numba.njit(cache=True)
def lead_entries(ptr, p_dl, usable, cand, meas_offset):  # type: ignore[no-untyped-def]
    """Per node of a CSR ensemble (as :func:`ensemble_levels`), the entry (0-based within the
    node) with the strongest measured DL quantity ``p_dl + meas_offset[cand]`` among the usable
    ones (the first of equals; 0 where none is usable), as int32."""
    n = ptr.size - 1
    out = np.zeros(n, dtype=np.int32)
    for j in range(n):
        best = -math.inf
        for q in range(ptr[j + 1] - ptr[j]):
            e = ptr[j] + q
            if usable[e]:
                v = p_dl[e] + meas_offset[cand[e]]
                if v > best:
                    best = v
                    out[j] = q
    return out


@numba.njit(cache=True, inline="always")
def _np_min(a, b):  # type: ignore[no-untyped-def]
    # np.minimum's: NaN when either is NaN
    return a if (a <= b or a != a) else b


@numba.njit(cache=True)
def _sector_range(az, el, out, i0, i1, az0, hbw, fbr, vbw, sll, mtilt, etilt):  # type: ignore[no-untyped-def]
    for i in range(i0, i1):
        phi = (az[i] - az0 + 180.0) % 360.0 - 180.0
        tilt = etilt
        if mtilt != 0.0:
            # with no mechanical tilt the term is +-0: the same sum
            tilt = etilt + mtilt * math.cos(phi * (math.pi / 180.0))
        q = phi / hbw
        a_h = -_np_min(12.0 * (q * q), fbr)
        v = (-el[i] - tilt) / vbw
        a_v = -_np_min(12.0 * (v * v), sll)
        out[i] = -_np_min(-(a_h + a_v), fbr)


@numba.njit(cache=True)
def sector_gain_serial(az, el, out, az0, hbw, fbr, vbw, sll, mtilt, etilt):  # type: ignore[no-untyped-def]
    """The 3GPP sector pattern's relative gain [dB] over flat arrays of absolute azimuth and
    elevation [deg] (``radio.antenna.SectorPattern.gain_db``), on the calling thread."""
    clean_upper()
    _sector_range(az, el, out, 0, az.size, az0, hbw, fbr, vbw, sll, mtilt, etilt)


@numba.njit(cache=True, parallel=True)
def sector_gain_parallel(az, el, out, az0, hbw, fbr, vbw, sll, mtilt, etilt):  # type: ignore[no-untyped-def]
    """:func:`sector_gain_serial` in work items of ``ELEMENT_CHUNK`` elements."""
    n = az.size
    for w in numba.prange((n + ELEMENT_CHUNK - 1) // ELEMENT_CHUNK):
        clean_upper()
        _sector_range(az, el, out, w * ELEMENT_CHUNK, min(n, (w + 1) * ELEMENT_CHUNK), az0, hbw,
                      fbr, vbw, sll, mtilt, etilt)  # fmt: skip
