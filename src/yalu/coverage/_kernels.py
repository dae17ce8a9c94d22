"""Numba kernels of the coverage engine (private; :mod:`yalu.coverage.engine` wraps them).

Three ways to fill a raster with ITM point-to-point losses:

exact
    For every node, the WGS84 geodesic from the site to the node is sampled at
    ``n = max(1, round(L / step))`` equal intervals: cubic pieces between Vincenty anchors at most
    16 km apart (``profile_segments``, < 0.1 mm from the geodesic), evaluated in grid-index space
    and interpolated bilinearly (:func:`_sample_profile`; between anchors well inside a void-free
    window without per-sample checks, the same bits). The sampling pass also gathers the mean
    path height sum and the height range, and ITM runs on that profile as ``itm_kernels.p2p_core``
    does, in two parts: the frequency-independent geometry (``p2p_geometry_given``: horizons,
    effective heights, delta_h) once per node and terminal heights, then the attenuation
    (``p2p_from_geometry``) for every frequency of a multi-job call. A reverse job (uplink)
    takes that geometry mirrored, which is the reversed profile's up to rounding, unless one of
    ITM's discrete choices is within rounding of its threshold; then the reversed profile's own
    (``itm_kernels.profile_geometry_mirrors``). One node, one independent computation.

hybrid
    Radials from the site every ``arc`` metres of arc at the radius, sampled every ``r_step``
    (:func:`hybrid_radials`), each with prefix sums and persistent prefix upper hulls. A node's
    profile is its nearest radial up to the last radial sample farther than ``own_m`` from it,
    then its own path (about ``own_m`` long, sampled about every ``step``). ITM's geometry of
    that profile (:func:`_hybrid_geometry`) takes the radial part's horizons, mean height and
    least-squares sums in O(1) (hull tangents by a walk, prefix sums) and scans only the own
    samples; delta_h comes from a table (:func:`hybrid_delta_h`: ITM's delta_h of the radial
    paths on every ``dh_every``-th radial every ``kdh`` samples), interpolated in azimuth and
    distance, or from the composite resampled at ITM's count of points. The attenuation is
    ``p2p_from_geometry``, as in exact mode.
fast
    Terrain is sampled once along ``n_az`` radials from the site, every ``step`` metres. Along each
    radial, a sweep keeps, for the path that ends at sample k: the transmitter horizon (running
    maximum of elevation angles), the receiver horizon (tangent from the receiver to the upper
    convex hull of the curvature-corrected profile ``z - x^2 / (2 a)``, built incrementally by
    Andrew's monotone chain [A. M. Andrew, Inf. Proc. Letters 9(5), 216-219, 1979] and queried by
    binary search), and prefix sums that give ITM's mean path height and least-squares lines
    (``itm_kernels.least_squares_line``) in O(1). The horizon candidates are found with a
    reference curvature; their angles are then recomputed with each path's own curvature, as ITM
    defines them. The terrain irregularity delta_h (an interdecile range, O(n)) is computed every
    ``kdh`` samples on every ``dh_every``-th radial and interpolated linearly in distance and
    azimuth. ITM's geometry-to-loss part (``reference_attenuation`` + ``variability_db``) runs at
    every ``kstep``-th sample and on both sides of every abrupt change of the horizon geometry;
    the excess loss over free space is interpolated linearly along the radial in between. The
    number of radials doubles outwards (levels), so that the arc between neighbouring radials
    never exceeds ``arc_m``. Raster nodes then take the excess loss interpolated bilinearly in
    (azimuth, distance) from the radials of the finest level active at their distance, plus the
    free-space loss at their own distance. Nodes within ``k_exact`` steps of the site are computed
    as in exact mode by the caller (on Vincenty geodesics, see ``engine._node_geodesics``).

Radial geometry in fast mode: positions along radials are great circles on a sphere of radius
``r_fake`` in geodetic coordinates, and node azimuth/distance come from the same sphere, so that a
node on a radial lies exactly on it. Each radial's metric length is scaled by ``scale[j]``, the
ratio of the WGS84 geodesic length to the spherical one at the radial's end.

Every output element is written by exactly one computation and nothing is reduced across threads,
so results are bit-identical across runs and thread counts.

The parallel entry points release the GIL (``nogil``): a Dask worker's event loop, and its
other task threads, run beside a map task instead of waiting for it to return (on 2 cores the
flagship's 1 -> 2 worker speed-up did not change measurably: 1.75x and 1.67x in two benchmarks
of three runs). The engine calls them inside ``engine._kernel_guard``, one at a time per process
where numba's threading layer cannot take two launches at once.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from yalu.cpu import clean_upper
from yalu.geodesy.kernels import (
    direct,
    inverse,
    profile_pieces,
    profile_points,
    profile_segments,
)
from yalu.propagation.itm_kernels import (
    G_D_HZN_RX,
    G_D_HZN_TX,
    G_D_M,
    G_DELTA_H,
    G_GAMMA_E,
    G_H_E_RX,
    G_H_E_TX,
    G_LEN,
    G_MIRRORS,
    G_N_S,
    G_OK,
    G_THETA_RX,
    G_THETA_TX,
    OUT_LEN,
    SCRATCH_LEN,
    delta_h_of_samples,
    effective_curvature,
    ground_impedance,
    mirror_geometry,
    p2p_from_geometry,
    p2p_geometry_given,
    reference_attenuation,
    smooth_horizons,
    surface_refractivity,
    terrain_delta_h,
    validate_inputs,
    variability_db,
)
from yalu.propagation.p1812_kernels import OUT_LEN as P1812_OUT_LEN
from yalu.propagation.p1812_kernels import p1812_core
from yalu.terrain.kernels import all_finite, bilinear_index, bilinear_inside, bilinear_point

DEG = math.pi / 180.0
TWO_PI = 2.0 * math.pi
# fast-mode radials: exact spherical points every ANCHOR samples, linear in between (< 1 cm off)
ANCHOR = 8

# index of parameters in the float64 ``itm`` array passed to kernels
P_H_TX = 0
P_H_RX = 1
P_F_MHZ = 2
P_N0 = 3
P_EPS = 4
P_SIGMA = 5
P_TIME = 6
P_LOC = 7
P_SIT = 8
P_CLIMATE = 9
P_POL = 10
P_MDVAR = 11
# 0: the site is ITM's terminal 1 (forward); 1: every node is terminal 1 (reverse)
P_REV = 12
P_LEN = 13


@njit(cache=True, inline="always")
def _fdim(x: float, y: float) -> float:
    return x - y if x > y else 0.0


@njit(cache=True, inline="always")
def _run_inside(
    flat: np.ndarray,
    ncols: np.uint64,
    pz: np.ndarray,
    k_from: int,
    k_to: int,
    k0: int,
    inv: float,
    c: tuple[float, float, float, float, float, float, float, float],
    z_lo: float,
    z_hi: float,
) -> tuple[float, float]:
    """Samples ``k_from <= k < k_to`` of a cubic piece starting at sample ``k0`` (coefficients
    ``c`` in grid-index space, ``inv = 1 / (k1 - k0)``) into ``pz``, with their range."""
    a0, a1, a2, a3, b0, b1, b2, b3 = c
    for k in range(k_from, k_to):
        t = (k - k0) * inv
        z = bilinear_inside(
            flat, ncols, a0 + t * (a1 + t * (a2 + t * a3)), b0 + t * (b1 + t * (b2 + t * b3))
        )
        pz[k] = z
        z_lo = min(z_lo, z)
        z_hi = max(z_hi, z)
    return z_lo, z_hi


@njit(cache=True, inline="always")
def _run_inside_sum(
    flat: np.ndarray,
    ncols: np.uint64,
    pz: np.ndarray,
    k_from: int,
    k_to: int,
    k0: int,
    inv: float,
    c: tuple[float, float, float, float, float, float, float, float],
    total: float,
    z_lo: float,
    z_hi: float,
) -> tuple[float, float, float]:
    """:func:`_run_inside` adding each height to ``total`` in order."""
    a0, a1, a2, a3, b0, b1, b2, b3 = c
    for k in range(k_from, k_to):
        t = (k - k0) * inv
        z = bilinear_inside(
            flat, ncols, a0 + t * (a1 + t * (a2 + t * a3)), b0 + t * (b1 + t * (b2 + t * b3))
        )
        pz[k] = z
        total += z
        z_lo = min(z_lo, z)
        z_hi = max(z_hi, z)
    return total, z_lo, z_hi


@njit(cache=True)
def _sample_profile(
    elev2d: np.ndarray,
    north: float,
    west: float,
    dlat: float,
    dlon: float,
    lat0: float,
    lon0: float,
    z_site: float,
    lat: float,
    lon: float,
    n: int,
    az: float,
    length: float,
    seg_k: np.ndarray,
    coef: np.ndarray,
    pz: np.ndarray,
    clean: bool,
    k_end: int,
) -> tuple[bool, float, float, float]:
    """Terrain along the geodesic profile from the site to a node into ``pz[0:n+1]``.

    Points come from the cubic pieces of ``profile_segments``, evaluated directly in grid-index
    space (the map from degrees to indices is affine, so a cubic stays a cubic), each sampled
    bilinearly. The same pass gathers what ITM's profile analysis would otherwise take three
    more passes for: whether every height is finite, the sum for the mean path height
    (``mean_path_height``: the same terms in the same order) and the lowest and highest heights.
    ``clean``: the window holds no void (``all_finite``). Returns ``(finite, mean_height_sum,
    z_lo, z_hi)``.

    ``k_end`` (``n`` for the whole profile): only samples ``0..k_end`` are taken, each the
    same bits as in the whole profile (the pieces are those of the whole path); the sums and
    the extremes then cover those samples only.
    """
    n_seg = profile_segments(lat0, lon0, lat, lon, n, az, length, seg_k, coef)
    i_max = elev2d.shape[0] - 2.0
    j_max = elev2d.shape[1] - 2.0
    p10 = int(0.1 * n)
    hi = n - p10
    pz[0] = z_site
    chk = z_site * 0.0
    total = z_site if p10 == 0 else 0.0
    z_lo = z_site
    z_hi = z_site
    idlat = -1.0 / dlat
    idlon = 1.0 / dlon
    ncols = np.uint64(elev2d.shape[1])
    for s in range(n_seg):
        c = coef[s]
        k0 = seg_k[s]
        if k0 >= k_end:
            break
        k1 = seg_k[s + 1]
        kx = min(k1, k_end + 1)  # interior samples k0 + 1 .. kx - 1
        inv = 1.0 / (k1 - k0)
        a0 = (north - c[0]) / dlat
        a1 = c[1] * idlat
        a2 = c[2] * idlat
        a3 = c[3] * idlat
        b0 = (c[4] - west) / dlon
        b1 = c[5] * idlon
        b2 = c[6] * idlon
        b3 = c[7] * idlon
        e = coef[s + 1]
        # anchors (and the node itself) exactly, as bilinear_point places them
        ai = (north - e[0]) / dlat
        aj = (e[4] - west) / dlon
        # Between anchors at least one node inside the grid, the piece (within 0.1 node of its
        # chord) cannot leave it: on a void-free window no sample there needs a check.
        inside = (
            clean and a0 >= 1.0 and a0 <= i_max and b0 >= 1.0 and b0 <= j_max
            and ai >= 1.0 and ai <= i_max and aj >= 1.0 and aj <= j_max
        )  # fmt: skip
        if inside:
            flat = elev2d.reshape(-1)
            # before, in and after the mean-height window: a loop without a condition on the
            # sum keeps it in a register (a conditional one went through memory each sample)
            m0 = min(max(k0 + 1, p10), kx)
            m1 = min(max(k0 + 1, hi + 1), kx)
            c = (a0, a1, a2, a3, b0, b1, b2, b3)
            z_lo, z_hi = _run_inside(flat, ncols, pz, k0 + 1, m0, k0, inv, c, z_lo, z_hi)
            total, z_lo, z_hi = _run_inside_sum(flat, ncols, pz, m0, m1, k0, inv, c, total, z_lo,
                                                z_hi)  # fmt: skip
            z_lo, z_hi = _run_inside(flat, ncols, pz, m1, kx, k0, inv, c, z_lo, z_hi)
        else:
            for k in range(k0 + 1, kx):
                t = (k - k0) * inv
                z = bilinear_index(
                    elev2d, a0 + t * (a1 + t * (a2 + t * a3)), b0 + t * (b1 + t * (b2 + t * b3))
                )
                pz[k] = z
                chk += z * 0.0
                if k >= p10 and k <= hi:
                    total += z
                z_lo = min(z_lo, z)
                z_hi = max(z_hi, z)
        if k1 > k_end:
            break
        z = bilinear_index(elev2d, ai, aj)
        pz[k1] = z
        chk += z * 0.0
        if k1 >= p10 and k1 <= hi:
            total += z
        z_lo = min(z_lo, z)
        z_hi = max(z_hi, z)
    return chk == 0.0, total, z_lo, z_hi


@njit(cache=True)
def _node_exact(
    elev2d: np.ndarray,
    north: float,
    west: float,
    dlat: float,
    dlon: float,
    lat0: float,
    lon0: float,
    z_site: float,
    lat: float,
    lon: float,
    length: float,
    az: float,
    step: float,
    min_d: float,
    jobs: np.ndarray,
    clean: bool,
    seg_k: np.ndarray,
    coef: np.ndarray,
    pz: np.ndarray,
    pr: np.ndarray,
    scratch: np.ndarray,
    geom: np.ndarray,
    outv: np.ndarray,
    res: np.ndarray,
) -> None:
    """ITM loss on the geodesic profile from the site to one node for every job (row of
    ``jobs``, a parameter vector) into ``res`` (see module doc).

    The profile is built once (:func:`_sample_profile`). Its geometry (``p2p_geometry_given``)
    is computed once per run of consecutive jobs with the same heights and ``n0``, and each
    job's attenuation comes from it (``p2p_from_geometry``): the same operations as
    ``p2p_core`` on that profile, so the same bits as one job at a time. Reverse jobs use the
    geometry mirrored, or the profile walked the other way where a discrete choice of ITM's
    profile analysis is within rounding of its threshold (:func:`_node_jobs`). ``length`` [m]
    and ``az`` [rad] are the geodesic's length and initial azimuth.
    """
    if length < min_d:
        # too close for a profile: a two-point profile of length min_d between the two ground
        # heights (the node at the site itself gets a flat min_d path)
        pz[0] = z_site
        pz[1] = bilinear_point(elev2d, north, west, dlat, dlon, lat, lon)
        n = 1
        st = min_d
        ok = math.isfinite(pz[0]) and math.isfinite(pz[1])
        total = pz[0] + pz[1]
        z_lo = min(pz[0], pz[1])
        z_hi = max(pz[0], pz[1])
    else:
        n = max(1, round(length / step))
        if n + 1 > pz.shape[0]:
            for j in range(jobs.shape[0]):
                res[j] = math.nan
            return
        ok, total, z_lo, z_hi = _sample_profile(
            elev2d, north, west, dlat, dlon, lat0, lon0, z_site, lat, lon, n, az, length,
            seg_k, coef, pz, clean, n,
        )  # fmt: skip
        st = length / n
    _node_jobs(pz, pr, n, st, ok, total, z_lo, z_hi, jobs, scratch, geom, outv, res)


@njit(cache=True)
def _node_jobs(
    pz: np.ndarray,
    pr: np.ndarray,
    n: int,
    st: float,
    ok: bool,
    total: float,
    z_lo: float,
    z_hi: float,
    jobs: np.ndarray,
    scratch: np.ndarray,
    geom: np.ndarray,
    outv: np.ndarray,
    res: np.ndarray,
) -> None:
    """ITM loss on the profile ``pz[0..n]`` (spacing ``st`` [m]; ``ok``: every height finite;
    ``total``: the mean-height sum over samples ``p10..n-p10``; lowest and highest heights) for
    every job into ``res``.

    ITM's geometry is computed once per run of jobs with the same heights and ``n0``, in the
    site's orientation (``geom[:G_LEN]``), and each job's attenuation comes from it. A reverse
    job (the node is ITM's terminal 1) needs the reversed profile's geometry
    (``geom[G_LEN:]``): it is the site's geometry mirrored where that is exact up to rounding
    (``G_MIRRORS``, :func:`profile_geometry_mirrors`), else it is computed on the profile
    walked the other way (``pr``). Either way a job's result does not depend on the other
    jobs (see :func:`_node_exact`).
    """
    p10 = int(0.1 * n)
    n_mid = n - 2 * p10 + 1
    g_site = geom[:G_LEN]
    g_node = geom[G_LEN:]
    reversed_ready = False
    total_rev = 0.0
    site_ready = False
    node_ready = False
    if not ok:
        # a void on the profile: every job fails (p2p_from_geometry), no geometry is computed
        g_site[G_OK] = 0.0
        g_node[G_OK] = 0.0
    for j in range(jobs.shape[0]):
        p = jobs[j]
        rev = p[P_REV] != 0.0
        h_site = p[P_H_TX]
        h_node = p[P_H_RX]
        if j > 0:
            q = jobs[j - 1]
            if not (q[P_H_TX] == h_site and q[P_H_RX] == h_node and q[P_N0] == p[P_N0]):
                site_ready = False
                node_ready = False
        if ok and not site_ready:
            p2p_geometry_given(pz, 0, n, st, h_site, h_node, p[P_N0], total / n_mid, z_lo,
                               z_hi, scratch, g_site)  # fmt: skip
            site_ready = True
        if ok and rev and not node_ready:
            if g_site[G_MIRRORS] != 0.0:
                mirror_geometry(g_site, g_node)
            else:
                if not reversed_ready:
                    # the reversed profile's mean-height sum, in its own order
                    for i in range(n + 1):
                        z = pz[n - i]
                        pr[i] = z
                        if i >= p10 and i <= n - p10:
                            total_rev += z
                    reversed_ready = True
                p2p_geometry_given(pr, 0, n, st, h_node, h_site, p[P_N0], total_rev / n_mid,
                                   z_lo, z_hi, scratch, g_node)  # fmt: skip
            node_ready = True
        if rev:
            g, h1, h2 = g_node, h_node, h_site
        else:
            g, h1, h2 = g_site, h_site, h_node
        res[j] = p2p_from_geometry(
            g, n, st, h1, h2, p[P_F_MHZ], int(p[P_CLIMATE]), p[P_N0], int(p[P_POL]),
            p[P_EPS], p[P_SIGMA], int(p[P_MDVAR]), p[P_TIME], p[P_LOC], p[P_SIT], outv,
        )  # fmt: skip


@njit(cache=True, parallel=True)
def launch_probe(a: np.ndarray) -> None:
    """A trivial parallel kernel: its first call starts numba's threading layer (see
    ``engine._threadsafe_layer``)."""
    for i in prange(a.shape[0]):
        clean_upper()
        a[i] = i


@njit(cache=True, parallel=True, nogil=True)
def exact_nodes(
    elev2d: np.ndarray,
    north: float,
    west: float,
    dlat: float,
    dlon: float,
    lat0: float,
    lon0: float,
    lats: np.ndarray,
    lons: np.ndarray,
    lengths: np.ndarray,
    azs: np.ndarray,
    step: float,
    min_d: float,
    jobs: np.ndarray,
    n_max: int,
    out: np.ndarray,
) -> None:
    """Exact ITM loss at nodes (lats[q], lons[q]) given their geodesic length and azimuth [rad],
    for every job (row of ``jobs``) into ``out[job, q]``."""
    z_site = bilinear_point(elev2d, north, west, dlat, dlon, lat0, lon0)
    clean = all_finite(elev2d)
    n_nodes = lats.shape[0]
    n_jobs = jobs.shape[0]
    n_pieces = profile_pieces((n_max + 1) * step) + 1
    chunk = 64
    for c in prange((n_nodes + chunk - 1) // chunk):
        seg_k = np.empty(n_pieces + 1, dtype=np.int64)
        coef = np.empty((n_pieces + 1, 8))
        pz = np.empty(n_max + 1)
        pr = np.empty(n_max + 1)
        scratch = np.empty(SCRATCH_LEN)
        geom = np.empty(2 * G_LEN)
        outv = np.empty(OUT_LEN)
        res = np.empty(n_jobs)
        for q in range(c * chunk, min(n_nodes, (c + 1) * chunk)):
            clean_upper()
            _node_exact(
                elev2d, north, west, dlat, dlon, lat0, lon0, z_site, lats[q], lons[q],
                lengths[q], azs[q], step, min_d, jobs, clean, seg_k, coef, pz, pr, scratch, geom,
                outv, res,
            )  # fmt: skip
            for j in range(n_jobs):
                out[j, q] = res[j]


# ---------------------------------------------------------------------------------------------
# hybrid mode: shared radial profiles far from the node, the node's own profile near it


@njit(cache=True, inline="always")
def _hull_push(
    stack: np.ndarray, n_hull: int, wy: np.ndarray, k: int, r_step: float, par: np.ndarray
) -> int:
    """Push sample ``k`` (at ``k r_step``, curvature-corrected height ``wy[k]``) on the upper
    hull ``stack[:n_hull]`` of the samples before it [Andrew 1979], recording in ``par[k]`` the
    point it follows (-1: none); returns the new hull size."""
    x = k * r_step
    y = wy[k]
    while n_hull >= 2:
        ia = stack[n_hull - 2]
        ib = stack[n_hull - 1]
        xa = ia * r_step
        xb = ib * r_step
        if (xb - xa) * (y - wy[ia]) - (wy[ib] - wy[ia]) * (x - xa) >= 0.0:
            n_hull -= 1
        else:
            break
    par[k] = stack[n_hull - 1] if n_hull > 0 else -1
    stack[n_hull] = k
    return n_hull + 1


@njit(cache=True, parallel=True, nogil=True)
def hybrid_radials(
    elev2d: np.ndarray,
    north: float,
    west: float,
    dlat: float,
    dlon: float,
    lat0: float,
    lon0: float,
    n_az: int,
    wanted: np.ndarray,
    n_r: int,
    r_step: float,
    gamma_ref: float,
    rz: np.ndarray,
    rs0: np.ndarray,
    rs1: np.ndarray,
    rpar: np.ndarray,
    k_need: np.ndarray,
) -> None:
    """Radials for hybrid mode (a void-free window: ``all_finite``): for ``j = wanted[r]``, the
    terrain along the geodesic from the
    site at azimuth ``2 pi j / n_az``, every ``r_step`` metres up to ``n_r * r_step`` (sampled as
    exact mode samples a profile, :func:`_sample_profile`), into ``rz[r, 0..n_r]``; its prefix
    sums ``rs0[r, k] = sum(z[:k])``, ``rs1[r, k] = sum(i * z[i] for i < k)``; and its prefix upper
    hulls: ``rpar[r, k]`` is the point before ``k`` on the upper convex hull of the points
    ``(x_i, z_i - gamma_ref x_i^2 / 2)``, ``1 <= i <= k`` (-1: none), so that ``k, rpar[k],
    rpar[rpar[k]], ...`` walks that hull [A. M. Andrew, Inf. Proc. Letters 9(5), 216-219, 1979,
    kept persistent by recording each point's predecessor when it is pushed].

    Only samples ``0..k_need[r]`` (at most ``n_r``) are taken, with the sums up to
    ``rs0[r, k_need[r] + 1]``: the nodes of a radial read it no farther than their own part's
    start plus one, and every value read is the whole radial's, bit for bit (prefix sums and
    prefix hulls; the samples are those of the whole-length path)."""
    z_site = bilinear_point(elev2d, north, west, dlat, dlon, lat0, lon0)
    length = n_r * r_step
    n_pieces = profile_pieces(length) + 1
    qc = 0.5 * gamma_ref
    for r in prange(wanted.shape[0]):
        seg_k = np.empty(n_pieces + 1, dtype=np.int64)
        coef = np.empty((n_pieces + 1, 8))
        pz = np.empty(n_r + 1)
        stack = np.empty(n_r + 1, dtype=np.int64)
        wy = np.empty(n_r + 1)
        clean_upper()
        az = TWO_PI * wanted[r] / n_az
        la, lo = direct(lat0, lon0, az, length)
        k_end = min(n_r, max(0, k_need[r]))
        _sample_profile(elev2d, north, west, dlat, dlon, lat0, lon0, z_site, la, lo, n_r, az,
                        length, seg_k, coef, pz, True, k_end)  # fmt: skip
        s0 = 0.0
        s1 = 0.0
        n_hull = 0
        rpar[r, 0] = -1
        for k in range(k_end + 1):
            z32 = np.float32(pz[k])
            rz[r, k] = z32
            z = float(z32)
            rs0[r, k] = s0
            rs1[r, k] = s1
            s0 += z
            s1 += k * z
            x = k * r_step
            wy[k] = z - qc * x * x
            if k == 0:
                continue
            n_hull = _hull_push(stack, n_hull, wy, k, r_step, rpar[r])
        rs0[r, k_end + 1] = s0
        rs1[r, k_end + 1] = s1


@njit(cache=True, parallel=True, nogil=True)
def hybrid_delta_h(
    elev2d: np.ndarray,
    north: float,
    west: float,
    dlat: float,
    dlon: float,
    lat0: float,
    lon0: float,
    n_az: int,
    radials: np.ndarray,
    n_r: int,
    r_step: float,
    kdh: int,
    gamma_ref: float,
    heights: np.ndarray,
    need: np.ndarray,
    out: np.ndarray,
) -> None:
    """delta_h (a void-free window) of the paths along the radials ``j = radials[r]`` (azimuth
    ``2 pi j / n_az``,
    sampled as :func:`hybrid_radials` samples them) ending at samples ``k = t kdh``, for each
    pair ``heights[h] = (site, node)`` of antenna heights [m], into ``out[r, h, t]`` where
    ``need[r, t]`` (NaN elsewhere; an entry's value does not depend on which are needed).

    Each path's window is ITM's [Alg, Sec 3]: from ``min(15 h_site, 0.1 d_site)`` to ``d -
    min(15 h_node, 0.1 d_node)``, the horizon distances from the radial's running maximum
    elevation angle (site) and its prefix upper hull's tangent (node) under ``gamma_ref``; the
    value is ITM's ``terrain_delta_h`` on the radial's samples.
    """
    z_site = bilinear_point(elev2d, north, west, dlat, dlon, lat0, lon0)
    length = n_r * r_step
    n_pieces = profile_pieces(length) + 1
    qc = 0.5 * gamma_ref
    n_h = heights.shape[0]
    n_t = out.shape[2]
    for r in prange(radials.shape[0]):
        seg_k = np.empty(n_pieces + 1, dtype=np.int64)
        coef = np.empty((n_pieces + 1, 8))
        pz = np.empty(n_r + 1)
        wy = np.empty(n_r + 1)
        par = np.empty(n_r + 1, dtype=np.int64)
        stack = np.empty(n_r + 1, dtype=np.int64)
        best = np.empty(n_h)
        best_i = np.empty(n_h, dtype=np.int64)
        scratch = np.empty(SCRATCH_LEN)
        clean_upper()
        az = TWO_PI * radials[r] / n_az
        la, lo = direct(lat0, lon0, az, length)
        # an entry reads the radial up to its own sample: the radial up to the last needed
        # one (every entry the whole radial's bits)
        t_last = 0
        for t in range(n_t):
            if need[r, t]:
                t_last = t
        k_end = min(n_r, t_last * kdh)
        _sample_profile(elev2d, north, west, dlat, dlon, lat0, lon0, z_site, la, lo, n_r, az,
                        length, seg_k, coef, pz, True, k_end)  # fmt: skip
        for k in range(k_end + 1):
            # the radial's heights as hybrid_radials stores them (float32)
            pz[k] = float(np.float32(pz[k]))
            x = k * r_step
            wy[k] = pz[k] - qc * x * x
        for h in range(n_h):
            best[h] = -1e300
            best_i[h] = -1
            for t in range(n_t):
                out[r, h, t] = math.nan
            out[r, h, 0] = 0.0
        n_hull = 0
        for k in range(1, k_end + 1):
            x = k * r_step
            if k % kdh == 0 and k // kdh < n_t and need[r, k // kdh]:
                t = k // kdh
                for h in range(n_h):
                    h_s = heights[h, 0]
                    h_n = heights[h, 1]
                    z_tx = pz[0] + h_s
                    z_rx = pz[k] + h_n
                    th_s = (z_rx - z_tx) / x - qc * x
                    d_s = x
                    if best_i[h] > 0 and best[h] > th_s:
                        d_s = best_i[h] * r_step
                    d_n = x
                    if n_hull > 0:
                        y_q = z_rx - qc * x * x
                        v = stack[n_hull - 1]
                        while True:
                            u = par[v]
                            if u < 1:
                                break
                            if (wy[u] - y_q) * (x - v * r_step) >= (wy[v] - y_q) * (x - u * r_step):
                                v = u
                            else:
                                break
                        xv = x - v * r_step
                        if -(z_rx - pz[v]) / xv - qc * xv > -(z_rx - z_tx) / x - qc * x:
                            d_n = xv
                    x_start = min(15.0 * h_s, 0.1 * d_s)
                    x_end = x - min(15.0 * h_n, 0.1 * d_n)
                    out[r, h, t] = terrain_delta_h(pz, 0, k, r_step, x_start, x_end, scratch)
            # sample k becomes an interior point of longer paths
            for h in range(n_h):
                ang = (pz[k] - (pz[0] + heights[h, 0])) / x - qc * x
                if ang > best[h]:
                    best[h] = ang
                    best_i[h] = k
            n_hull = _hull_push(stack, n_hull, wy, k, r_step, par)
        for t in range(n_r // kdh + 1, n_t):
            if need[r, t]:
                for h in range(n_h):
                    out[r, h, t] = out[r, h, n_r // kdh]


@njit(cache=True, inline="always")
def _radial_w(rz: np.ndarray, i: int, r_step: float, qc: float) -> float:
    x = i * r_step
    return float(rz[i]) - qc * x * x


@njit(cache=True)
def _hull_from_right(
    rz: np.ndarray, rpar: np.ndarray, k: int, r_step: float, qc: float, d: float, y_q: float
) -> int:
    """Radial sample (1..k) whose elevation angle seen from ``(d, y_q)`` (curvature-corrected
    height, d > k r_step) is largest: the tangent to the prefix hull, found by walking it from
    its right end (the angle is unimodal along an upper hull)."""
    v = k
    wv = _radial_w(rz, v, r_step, qc)
    while True:
        u = rpar[v]
        if u < 1:
            return v
        wu = _radial_w(rz, u, r_step, qc)
        if (wu - y_q) * (d - v * r_step) >= (wv - y_q) * (d - u * r_step):
            v = u
            wv = wu
        else:
            return v


@njit(cache=True)
def _hull_from_left(
    rz: np.ndarray, rpar: np.ndarray, k: int, r_step: float, qc: float, y_t: float
) -> int:
    """Radial sample (1..k) whose elevation angle seen from ``(0, y_t)`` is largest (see
    :func:`_hull_from_right`)."""
    v = k
    wv = _radial_w(rz, v, r_step, qc)
    while True:
        u = rpar[v]
        if u < 1:
            return v
        wu = _radial_w(rz, u, r_step, qc)
        if (wu - y_t) * (v * r_step) >= (wv - y_t) * (u * r_step):
            v = u
            wv = wu
        else:
            return v


@njit(cache=True, inline="always")
def _composite_z(
    rz: np.ndarray,
    r_step: float,
    x_k: float,
    x1: float,
    st: float,
    own: np.ndarray,
    m: int,
    s: float,
) -> float:
    """Height of the composite profile at distance ``s`` [m]: the radial up to ``x_k``, then
    ``own[0]`` (at ``x_k``) and the own samples ``own[i]`` at ``x1 + (i - 1) st``, i = 1..m."""
    if s <= x_k:
        u = s / r_step
        k = int(u)
        a = float(rz[k])
        return a + (float(rz[k + 1]) - a) * (u - k)
    if s < x1:
        return own[0] + (own[1] - own[0]) * ((s - x_k) / (x1 - x_k))
    u = (s - x1) / st + 1.0
    k = int(u)
    if k >= m:
        return own[m]
    return own[k] + (own[k + 1] - own[k]) * (u - k)


@njit(cache=True)
def _composite_fit(
    rz: np.ndarray,
    rs0: np.ndarray,
    rs1: np.ndarray,
    r_step: float,
    kk: int,
    x1: float,
    st: float,
    d: float,
    own: np.ndarray,
    m: int,
    a: float,
    b: float,
) -> tuple[float, float]:
    """Least-squares line through the composite profile's samples on ``[a, b]`` [m], each
    weighted by its spacing (radial samples 0..kk at ``i r_step``, own samples 1..m at ``x1 +
    (i - 1) st``), as ITM's ``zlsq1`` fits the samples of a window [Alg, Sec 3]; returns its
    heights at 0 and at ``d``."""
    sw = 0.0
    swx = 0.0
    swxx = 0.0
    swz = 0.0
    swxz = 0.0
    i_a = max(0, int(math.ceil(a / r_step)))
    i_b = min(kk, int(math.floor(b / r_step)))
    if i_b >= i_a:
        c = float(i_b - i_a + 1)
        si = 0.5 * (i_a + i_b) * c
        sii = (i_b * (i_b + 1.0) * (2.0 * i_b + 1.0) - (i_a - 1.0) * i_a * (2.0 * i_a - 1.0)) / 6.0
        sz = rs0[i_b + 1] - rs0[i_a]
        siz = rs1[i_b + 1] - rs1[i_a]
        sw = c * r_step
        swx = si * r_step * r_step
        swxx = sii * r_step * r_step * r_step
        swz = sz * r_step
        swxz = siz * r_step * r_step
    for i in range(1, m + 1):
        x = x1 + (i - 1) * st
        if x < a or x > b:
            continue
        z = own[i]
        sw += st
        swx += st * x
        swxx += st * x * x
        swz += st * z
        swxz += st * x * z
    if sw <= 0.0:
        z = _composite_z(rz, r_step, kk * r_step, x1, st, own, m, 0.5 * (a + b))
        return z, z
    xm = swx / sw
    zm = swz / sw
    var = swxx / sw - xm * xm
    slope = (swxz / sw - xm * zm) / var if var > 1e-9 * (1.0 + xm * xm) else 0.0
    return zm - slope * xm, zm + slope * (d - xm)


@njit(cache=True)
def _hybrid_geometry(
    rz: np.ndarray,
    rs0: np.ndarray,
    rs1: np.ndarray,
    rpar: np.ndarray,
    r_step: float,
    qc: float,
    kk: int,
    x1: float,
    st: float,
    d: float,
    own: np.ndarray,
    m: int,
    h_site: float,
    h_node: float,
    n0: float,
    delta_h_in: float,
    scratch: np.ndarray,
    geo: np.ndarray,
) -> None:
    """ITM's profile geometry [Alg, Sec 3 "qlrpfl"; ITM v1.4 QuickPfl] of the composite profile
    (radial samples 0..kk, then own samples 1..m at ``x1 + (i - 1) st``, exact mode's
    positions, the last the node at ``d``), in physical terms: ``geo``
    gets ``(n_s, gamma_e, theta_site, theta_node, d_hzn_site, d_hzn_node, h_e_site,
    h_e_node, delta_h)``; both directions share them (ITM's terminal 1 is either end).

    The same quantities as ITM's, computed from the radial's prefix sums and hulls instead of a
    pass over the profile: horizons are the hull tangents (candidates under ``gamma_ref``, then
    re-evaluated with the path's own curvature, as fast mode does) and the own samples scanned;
    the mean path height and the least-squares fits weight each sample by its spacing. delta_h
    is ``delta_h_in`` when >= 0 (from :func:`hybrid_delta_h`'s table), else the composite
    resampled at ITM's count of points.
    """
    x_k = kk * r_step
    z_site = float(rz[0])
    z_node = own[m]
    # mean path height over [0.1 d, 0.9 d] (ITM: samples p10..n-p10)
    lo = 0.1 * d
    hi = 0.9 * d
    i_a = max(0, int(math.ceil(lo / r_step)))
    i_b = min(kk, int(math.floor(hi / r_step)))
    tot = 0.0
    wsum = 0.0
    if i_b >= i_a:
        tot = (rs0[i_b + 1] - rs0[i_a]) * r_step
        wsum = (i_b - i_a + 1) * r_step
    for i in range(1, m + 1):
        x = x1 + (i - 1) * st
        if x >= lo and x <= hi:
            tot += own[i] * st
            wsum += st
    h_sys = tot / wsum if wsum > 0.0 else 0.5 * (z_site + z_node)
    n_s = surface_refractivity(n0, h_sys)
    gamma_e = effective_curvature(n_s)
    a_e = 1.0 / gamma_e
    two_a = 2.0 * a_e
    z_tx = z_site + h_site
    z_rx = z_node + h_node
    th_s = (z_rx - z_tx) / d - d / two_a
    th_n = -(z_rx - z_tx) / d - d / two_a
    d_s = d
    d_n = d
    # radial part: one candidate per end from the prefix hull
    v = _hull_from_left(rz, rpar, kk, r_step, qc, z_tx)
    x = v * r_step
    t = (float(rz[v]) - z_tx) / x - x / two_a
    if t > th_s:
        th_s = t
        d_s = x
    v = _hull_from_right(rz, rpar, kk, r_step, qc, d, z_rx - qc * d * d)
    x = d - v * r_step
    t = -(z_rx - float(rz[v])) / x - x / two_a
    if t > th_n:
        th_n = t
        d_n = x
    # own part (interior samples)
    for i in range(1, m):
        xs = x1 + (i - 1) * st
        z = own[i]
        t = (z - z_tx) / xs - xs / two_a
        if t > th_s:
            th_s = t
            d_s = xs
        xr = d - xs
        t = -(z_rx - z) / xr - xr / two_a
        if t > th_n:
            th_n = t
            d_n = xr
    x_start = min(15.0 * h_site, 0.1 * d_s)
    x_end = d - min(15.0 * h_node, 0.1 * d_n)
    # delta_h: ITM's count of equally spaced points over the window, from the composite
    delta_h = delta_h_in if delta_h_in >= 0.0 else 0.0
    if delta_h_in < 0.0 and (x_end - x_start) / st >= 2.0:
        p10 = int(0.1 * ((x_end - x_start) / st + 8.0))
        p10 = min(max(4, p10), 25)
        n = 10 * p10 - 5
        ds = (x_end - x_start) / (n - 1)
        # radial part, then own part, each stepped in its own sample units (no division)
        j_own = min(n, max(0, int(math.floor((x_k - x_start) / ds)) + 1))
        u0 = x_start / r_step
        du = ds / r_step
        for j in range(j_own):
            u = u0 + j * du
            k = int(u)
            a = float(rz[k])
            scratch[j] = a + (float(rz[k + 1]) - a) * (u - k)
        v0 = (x_start - x1) / st + 1.0
        dv = ds / st
        for j in range(j_own, n):
            w = v0 + j * dv
            if w < 1.0:
                sx = x_start + j * ds
                scratch[j] = own[0] + (own[1] - own[0]) * ((sx - x_k) / (x1 - x_k))
                continue
            k = int(w)
            if k >= m:
                scratch[j] = own[m]
            else:
                scratch[j] = own[k] + (own[k + 1] - own[k]) * (w - k)
        delta_h = delta_h_of_samples(scratch, n, p10, x_end - x_start)
    if d_s + d_n > 1.5 * d:
        fit_s, fit_n = _composite_fit(rz, rs0, rs1, r_step, kk, x1, st, d, own, m, x_start,
                                      x_end)  # fmt: skip
        h_e_s, h_e_n, d_s, d_n, th_s, th_n = smooth_horizons(
            h_site + _fdim(z_site, fit_s), h_node + _fdim(z_node, fit_n), d, a_e, delta_h
        )
    else:
        fit_s, _u = _composite_fit(rz, rs0, rs1, r_step, kk, x1, st, d, own, m, x_start,
                                   0.9 * d_s)  # fmt: skip
        h_e_s = h_site + _fdim(z_site, fit_s)
        _u, fit_n = _composite_fit(rz, rs0, rs1, r_step, kk, x1, st, d, own, m,
                                   d - 0.9 * d_n, x_end)  # fmt: skip
        h_e_n = h_node + _fdim(z_node, fit_n)
    geo[0] = n_s
    geo[1] = gamma_e
    geo[2] = th_s
    geo[3] = th_n
    geo[4] = d_s
    geo[5] = d_n
    geo[6] = h_e_s
    geo[7] = h_e_n
    geo[8] = delta_h


@njit(cache=True, parallel=True, nogil=True)
def hybrid_nodes(
    elev2d: np.ndarray,
    north: float,
    west: float,
    dlat: float,
    dlon: float,
    lat0: float,
    lon0: float,
    lats: np.ndarray,
    lons: np.ndarray,
    lengths: np.ndarray,
    azs: np.ndarray,
    step: float,
    min_d: float,
    jobs: np.ndarray,
    n_max: int,
    rz: np.ndarray,
    rs0: np.ndarray,
    rs1: np.ndarray,
    rpar: np.ndarray,
    rows: np.ndarray,
    radial: np.ndarray,
    r_step: float,
    gamma_ref: float,
    own_m: float,
    dh_tab: np.ndarray,
    dh_slot: np.ndarray,
    dh_every: int,
    kdh: int,
    job_h: np.ndarray,
    clean: bool,
    out: np.ndarray,
) -> None:
    """Hybrid-mode ITM loss at nodes (see :func:`exact_nodes` for the arguments) for every job
    into ``out[job, q]``.

    A node's profile is its radial (row ``rows[q]`` of :func:`hybrid_radials`' arrays, -1: none;
    the caller picks the nearest in azimuth, ``radial[q]``) up to the last radial sample
    farther than ``own_m`` from the node, then the node's own path, sampled about every
    ``step``. ITM's geometry of that profile comes from :func:`_hybrid_geometry` once per pair
    of terminal heights (both directions share it), the attenuation from ``p2p_from_geometry``
    for every job; delta_h is interpolated linearly in azimuth and distance from
    :func:`hybrid_delta_h`'s table (radials ``dh_every`` apart, row ``dh_slot[j // dh_every]``,
    entries every ``kdh`` samples, height pair ``job_h[job]``), or with ``dh_every = 0``
    computed on each node's profile. Nodes within ``own_m + r_step`` of the site, and nodes
    whose own samples leave the window, are computed exactly (:func:`_node_exact`); so is every
    node of a window with voids (its NaN then means what it means in exact mode).
    """
    z_site = bilinear_point(elev2d, north, west, dlat, dlon, lat0, lon0)
    n_nodes = lats.shape[0]
    n_jobs = jobs.shape[0]
    n_pieces = profile_pieces((n_max + 1) * step) + 1
    qc = 0.5 * gamma_ref
    m_max = int(math.ceil(2.0 * (own_m + r_step) / step)) + 4
    chunk = 64
    for c in prange((n_nodes + chunk - 1) // chunk):
        seg_k = np.empty(n_pieces + 1, dtype=np.int64)
        coef = np.empty((n_pieces + 1, 8))
        pz = np.empty(n_max + 1)
        pr = np.empty(n_max + 1)
        own = np.empty(m_max + 1)
        scratch = np.empty(SCRATCH_LEN)
        geom = np.empty(2 * G_LEN)
        geo = np.empty(9)
        outv = np.empty(OUT_LEN)
        res = np.empty(n_jobs)
        for q in range(c * chunk, min(n_nodes, (c + 1) * chunk)):
            clean_upper()
            length = lengths[q]
            kk = int((length - own_m) / r_step) if length > own_m + r_step else 0
            done = False
            r = rows[q] if kk >= 1 and length >= min_d else -1
            if r >= 0:
                x_k = kk * r_step
                n = max(1, round(length / step))
                st = length / n
                # own samples at exact mode's positions i st, from the first beyond x_k
                i1 = int(x_k / st) + 1
                m = n - i1 + 1
                x1 = i1 * st
                # the node's own path from its point at x_k (straight in grid-index space over
                # these ~2 km) to the node
                la_a, lo_a = direct(lat0, lon0, azs[q], x_k)
                while lo_a - lons[q] > 180.0:
                    lo_a -= 360.0
                while lo_a - lons[q] < -180.0:
                    lo_a += 360.0
                ai = (north - la_a) / dlat
                aj = (lo_a - west) / dlon
                bi = (north - lats[q]) / dlat
                bj = (lons[q] - west) / dlon
                row_z = rz[r]
                own[0] = float(row_z[kk])
                chk = 0.0
                span = length - x_k
                for i in range(1, m):
                    f = (x1 + (i - 1) * st - x_k) / span
                    z = bilinear_index(elev2d, ai + f * (bi - ai), aj + f * (bj - aj))
                    own[i] = z
                    chk += z * 0.0
                own[m] = bilinear_index(elev2d, bi, bj)
                chk += own[m] * 0.0
                if chk == 0.0:
                    h_prev_s = -1.0
                    h_prev_n = -1.0
                    n0_prev = -1.0
                    for jj in range(n_jobs):
                        p = jobs[jj]
                        h_s = p[P_H_TX]
                        h_n = p[P_H_RX]
                        if h_s != h_prev_s or h_n != h_prev_n or p[P_N0] != n0_prev:
                            dh_in = -1.0
                            if dh_every > 0:
                                jq = radial[q]
                                t0 = jq // dh_every
                                w_az = (jq - t0 * dh_every) / dh_every
                                t1 = (t0 + 1) % dh_slot.shape[0]
                                u = length / (kdh * r_step)
                                i0 = min(int(u), dh_tab.shape[2] - 2)
                                f = u - i0
                                hh = job_h[jj]
                                ta = dh_tab[dh_slot[t0], hh]
                                tb = dh_tab[dh_slot[t1], hh]
                                va = ta[i0] + (ta[i0 + 1] - ta[i0]) * f
                                vb = tb[i0] + (tb[i0 + 1] - tb[i0]) * f
                                dh_in = va + (vb - va) * w_az
                                if math.isfinite(dh_in):
                                    dh_in = max(0.0, dh_in)
                                else:
                                    dh_in = -1.0  # an entry not tabulated: on the profile
                            _hybrid_geometry(
                                row_z, rs0[r], rs1[r], rpar[r], r_step, qc, kk, x1, st, length,
                                own, m, h_s, h_n, p[P_N0], dh_in, scratch, geo,
                            )  # fmt: skip
                            h_prev_s = h_s
                            h_prev_n = h_n
                            n0_prev = p[P_N0]
                        rev = p[P_REV] != 0.0
                        # ITM's terminal 1 is the site (forward) or the node (reverse)
                        a1 = 3 if rev else 2
                        geom[G_OK] = 1.0
                        geom[G_D_M] = length
                        geom[G_N_S] = geo[0]
                        geom[G_GAMMA_E] = geo[1]
                        geom[G_THETA_TX] = geo[a1]
                        geom[G_THETA_RX] = geo[5 - a1]
                        geom[G_D_HZN_TX] = geo[a1 + 2]
                        geom[G_D_HZN_RX] = geo[7 - a1]
                        geom[G_H_E_TX] = geo[a1 + 4]
                        geom[G_H_E_RX] = geo[9 - a1]
                        geom[G_DELTA_H] = geo[8]
                        h1 = h_n if rev else h_s
                        h2 = h_s if rev else h_n
                        res[jj] = p2p_from_geometry(
                            geom, n, st, h1, h2, p[P_F_MHZ], int(p[P_CLIMATE]), p[P_N0],
                            int(p[P_POL]), p[P_EPS], p[P_SIGMA], int(p[P_MDVAR]), p[P_TIME],
                            p[P_LOC], p[P_SIT], outv,
                        )  # fmt: skip
                    done = True
            if not done:
                _node_exact(
                    elev2d, north, west, dlat, dlon, lat0, lon0, z_site, lats[q], lons[q],
                    length, azs[q], step, min_d, jobs, clean, seg_k, coef, pz, pr, scratch,
                    geom, outv, res,
                )  # fmt: skip
            for jj in range(n_jobs):
                out[jj, q] = res[jj]


# ---------------------------------------------------------------------------------------------
# exact mode with ITU-R P.1812-8

# index of parameters in the float64 ``q`` array of exact_nodes_p1812
Q_H_TX = 0
Q_H_RX = 1
Q_F_GHZ = 2
Q_TIME = 3
Q_VERTICAL = 4
Q_DELTA_N = 5
Q_N0 = 6
Q_LOC = 7
Q_SIGMA_L = 8
Q_CLUTTER = 9
Q_ZONE = 10
Q_REV = 11
Q_LEN = 12


@njit(cache=True)
def _node_p1812(
    elev2d: np.ndarray, north: float, west: float, dlat: float, dlon: float,
    lat0: float, lon0: float, z_site: float, lat: float, lon: float, length: float, az: float,
    step: float, min_d: float, q: np.ndarray, plat: np.ndarray, plon: np.ndarray,
    pz: np.ndarray, pd: np.ndarray, pr: np.ndarray, pzone: np.ndarray, outv: np.ndarray,
    clutter2d: np.ndarray,
) -> float:  # fmt: skip
    """P.1812-8 loss on the geodesic profile from the site to one node.

    The profile is sampled as in ITM's exact mode, with at least 2 intervals (P.1812 needs an
    intermediate point). Nodes closer than ``min_d`` get a 2-interval profile of length ``min_d``
    between the two ground heights. The path-centre latitude is that of the profile's middle.
    Clutter heights come from ``clutter2d`` (same lattice as ``elev2d``, nearest node) when it
    is not empty, else ``q[Q_CLUTTER]`` everywhere.
    """
    z_node = bilinear_point(elev2d, north, west, dlat, dlon, lat, lon)
    short = length < min_d
    if short:
        n = 2
        length = min_d
        pz[0] = z_site
        pz[1] = 0.5 * (z_site + z_node)
        pz[2] = z_node
        phi = 0.5 * (lat0 + lat)
    else:
        n = max(2, round(length / step))
        if n + 1 > pz.shape[0]:
            return math.nan
        profile_points(lat0, lon0, lat, lon, n, az, length, plat, plon)
        pz[0] = z_site
        for k in range(1, n + 1):
            pz[k] = bilinear_point(elev2d, north, west, dlat, dlon, plat[k], plon[k])
        half = n // 2
        phi = plat[half] if n % 2 == 0 else 0.5 * (plat[half] + plat[half + 1])
    dk = length / n / 1000.0
    nr, nc = clutter2d.shape
    for k in range(n + 1):
        pd[k] = k * dk
        pr[k] = q[Q_CLUTTER]
        if nr > 0:
            if short:  # no profile points: the site's cell, then the node's
                la_k, lo_k = (lat0, lon0) if k == 0 else (lat, lon)
            else:
                la_k, lo_k = plat[k], plon[k]
            i = min(max(int(round((north - la_k) / dlat)), 0), nr - 1)
            j = min(max(int(round((lo_k - west) / dlon)), 0), nc - 1)
            pr[k] = clutter2d[i, j]
        pzone[k] = int(q[Q_ZONE])
    h1 = q[Q_H_TX]
    h2 = q[Q_H_RX]
    if q[Q_REV] != 0.0:
        h1, h2 = h2, h1
        for i in range((n + 1) // 2):
            t = pz[i]
            pz[i] = pz[n - i]
            pz[n - i] = t
    return p1812_core(
        pd, pz, pr, pzone, 0, n + 1, q[Q_F_GHZ], q[Q_TIME], h1, h2, int(q[Q_VERTICAL]), phi,
        q[Q_DELTA_N], q[Q_N0], 500.0, 500.0, q[Q_LOC], q[Q_SIGMA_L], 0, outv,
    )  # fmt: skip


@njit(cache=True, parallel=True, nogil=True)
def exact_nodes_p1812(
    elev2d: np.ndarray, north: float, west: float, dlat: float, dlon: float,
    lat0: float, lon0: float, lats: np.ndarray, lons: np.ndarray, lengths: np.ndarray,
    azs: np.ndarray, step: float, min_d: float, q: np.ndarray, n_max: int, out: np.ndarray,
    clutter2d: np.ndarray,
) -> None:  # fmt: skip
    """P.1812-8 loss at nodes (lats[i], lons[i]) given their geodesic length and azimuth
    (``clutter2d``: clutter heights on the terrain lattice, or empty; see :func:`_node_p1812`)."""
    z_site = bilinear_point(elev2d, north, west, dlat, dlon, lat0, lon0)
    n_nodes = lats.shape[0]
    chunk = 64
    size = max(n_max, 2) + 1
    for c in prange((n_nodes + chunk - 1) // chunk):
        plat = np.empty(size)
        plon = np.empty(size)
        pz = np.empty(size)
        pd = np.empty(size)
        pr = np.empty(size)
        pzone = np.empty(size, dtype=np.int64)
        outv = np.empty(P1812_OUT_LEN)
        for i in range(c * chunk, min(n_nodes, (c + 1) * chunk)):
            clean_upper()
            out[i] = _node_p1812(
                elev2d, north, west, dlat, dlon, lat0, lon0, z_site, lats[i], lons[i],
                lengths[i], azs[i], step, min_d, q, plat, plon, pz, pd, pr, pzone, outv,
                clutter2d,
            )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# fast mode


@njit(cache=True, inline="always")
def _sphere_direct(
    slat0: float, clat0: float, lon0: float, s_az: float, c_az: float, delta: float
) -> tuple[float, float]:
    sd = math.sin(delta)
    cd = math.cos(delta)
    sl = slat0 * cd + clat0 * sd * c_az
    sl = min(1.0, max(-1.0, sl))
    lat = math.asin(sl)
    lon = lon0 + math.atan2(s_az * sd * clat0, cd - slat0 * sl) / DEG
    return lat / DEG, lon


@njit(cache=True)
def radial_scales(
    lat0: float, lon0: float, n_az: int, r_fake: float, length_m: float, out: np.ndarray
) -> None:
    """Ratio of WGS84 geodesic length to spherical length at each radial's far end."""
    slat0 = math.sin(lat0 * DEG)
    clat0 = math.cos(lat0 * DEG)
    delta = length_m / r_fake
    for j in range(n_az):
        az = TWO_PI * j / n_az
        la, lo = _sphere_direct(slat0, clat0, lon0, math.sin(az), math.cos(az), delta)
        true_len, _ = inverse(lat0, lon0, la, lo)
        out[j] = true_len / length_m


@njit(cache=True)
def _lsq_prefix(
    z: np.ndarray,
    c0: np.ndarray,
    c1: np.ndarray,
    n: int,
    step: float,
    x_start: float,
    x_end: float,
    rev: bool,
) -> tuple[float, float]:
    """``itm_kernels.least_squares_line`` on z[0..n] (``rev``: on z[n..0]) in O(1).

    Uses prefix sums ``c0[k] = sum(z[:k])``, ``c1[k] = sum(i * z[i] for i < k)``. With ``rev``
    the profile is ``z'[i] = z[n - i]`` and the result is at z''s ends (first: at z[n]).
    """
    k_lo = int(_fdim(x_start / step, 0.0))
    k_hi = n - int(_fdim(n, x_end / step))
    if k_hi <= k_lo:
        k_lo = int(_fdim(k_lo, 1.0))
        k_hi = n - int(_fdim(n, k_hi + 1.0))
    width = float(k_hi - k_lo)
    centre = k_lo + 0.5 * width
    u_end = centre
    if rev:
        z_lo = z[n - k_lo]
        z_hi = z[n - k_hi]
    else:
        z_lo = z[k_lo]
        z_hi = z[k_hi]
    s0 = 0.5 * (z_lo + z_hi)
    s1 = 0.5 * (z_lo - z_hi) * (-0.5 * width)
    if k_hi - k_lo >= 2:
        if rev:
            # sum over i = k_lo+1..k_hi-1 of z[n-i] and of i z[n-i] = (n - j) z[j]
            a = c0[n - k_lo] - c0[n - k_hi + 1]
            b = n * a - (c1[n - k_lo] - c1[n - k_hi + 1])
        else:
            a = c0[k_hi] - c0[k_lo + 1]
            b = c1[k_hi] - c1[k_lo + 1]
        s0 += a
        s1 += b - centre * a
    mean = s0 / width
    slope = s1 * 12.0 / ((width * width + 2.0) * width)
    return mean - slope * u_end, mean + slope * (n - u_end)


@njit(cache=True)
def _geometry_at(
    z: np.ndarray,
    c0: np.ndarray,
    c1: np.ndarray,
    k: int,
    step: float,
    h_tx: float,
    h_rx: float,
    itx: int,
    irx: int,
    n0: float,
) -> tuple[float, float, float, float, float, float, float, float, float]:
    """Horizon angles/distances for the path ending at sample k, with the path's own curvature.

    ``itx``/``irx``: candidate horizon samples from the sweep (-1: none). Returns
    ``(theta_tx, theta_rx, d_hzn_tx, d_hzn_rx, x_start, x_end, gamma_e, n_s, d)``.
    """
    d = k * step
    p10 = int(0.1 * k)
    h_sys = (c0[k - p10 + 1] - c0[p10]) / (k - 2 * p10 + 1)
    n_s = surface_refractivity(n0, h_sys)
    gamma_e = effective_curvature(n_s)
    two_a = 2.0 / gamma_e
    z_tx = z[0] + h_tx
    z_rx = z[k] + h_rx
    theta_tx = (z_rx - z_tx) / d - d / two_a
    theta_rx = -(z_rx - z_tx) / d - d / two_a
    d_tx = d
    d_rx = d
    if itx > 0:
        x = itx * step
        t = (z[itx] - z_tx) / x - x / two_a
        if t > theta_tx:
            theta_tx = t
            d_tx = x
    if irx > 0:
        x = d - irx * step
        t = -(z_rx - z[irx]) / x - x / two_a
        if t > theta_rx:
            theta_rx = t
            d_rx = x
    x_start = min(15.0 * h_tx, 0.1 * d_tx)
    x_end = d - min(15.0 * h_rx, 0.1 * d_rx)
    return theta_tx, theta_rx, d_tx, d_rx, x_start, x_end, gamma_e, n_s, d


@njit(cache=True)
def _excess_at(
    z: np.ndarray,
    c0: np.ndarray,
    c1: np.ndarray,
    k: int,
    step: float,
    p: np.ndarray,
    itx: int,
    irx: int,
    delta_h: float,
    z_g: complex,
) -> float:
    """ITM loss minus free-space loss for the radial path ending at sample k (NaN on error).

    Forward: ITM's terminal 1 is the site (sample 0); reverse (``p[P_REV]``): the node at
    sample k, on the reversed profile, as ``_itm`` computes it in exact mode.
    """
    h_tx = p[P_H_TX]
    h_rx = p[P_H_RX]
    f = p[P_F_MHZ]
    rev = p[P_REV] != 0.0
    # site-side and node-side horizons (physical; the same in both directions)
    th_s, th_n, d_s, d_n, _xs, _xe, gamma_e, n_s, d = _geometry_at(
        z, c0, c1, k, step, h_tx, h_rx, itx, irx, p[P_N0]
    )
    a_e = 1.0 / gamma_e
    if rev:
        h1, h2, th1, th2, d1, d2, e1, e2 = h_rx, h_tx, th_n, th_s, d_n, d_s, z[k], z[0]
    else:
        h1, h2, th1, th2, d1, d2, e1, e2 = h_tx, h_rx, th_s, th_n, d_s, d_n, z[0], z[k]
    # ITM v1.4 QuickPfl, as itm_kernels.profile_geometry, with O(1) least squares
    x_start = min(15.0 * h1, 0.1 * d1)
    x_end = d - min(15.0 * h2, 0.1 * d2)
    if d1 + d2 > 1.5 * d:
        fit1, fit2 = _lsq_prefix(z, c0, c1, k, step, x_start, x_end, rev)
        h_e1, h_e2, d1, d2, th1, th2 = smooth_horizons(
            h1 + _fdim(e1, fit1), h2 + _fdim(e2, fit2), d, a_e, delta_h
        )
    else:
        fit1, _u = _lsq_prefix(z, c0, c1, k, step, x_start, 0.9 * d1, rev)
        h_e1 = h1 + _fdim(e1, fit1)
        _u, fit2 = _lsq_prefix(z, c0, c1, k, step, d - 0.9 * d2, x_end, rev)
        h_e2 = h2 + _fdim(e2, fit2)
    rtn, _w, a_ref, _mode = reference_attenuation(
        d, f, h1, h2, h_e1, h_e2, d1, d2, th1, th2, delta_h, gamma_e, n_s, z_g, False,
    )  # fmt: skip
    if rtn != 0:
        return math.nan
    a_var, _w3 = variability_db(
        p[P_TIME], p[P_LOC], p[P_SIT], h_e1, h_e2, delta_h, f, d, a_ref,
        int(p[P_CLIMATE]), int(p[P_MDVAR]),
    )  # fmt: skip
    return a_var


@njit(cache=True)
def _delta_h_at(
    z: np.ndarray,
    zr: np.ndarray,
    n_end: int,
    c0: np.ndarray,
    c1: np.ndarray,
    k: int,
    step: float,
    p: np.ndarray,
    itx: int,
    irx: int,
    scratch: np.ndarray,
) -> float:
    """ITM's delta_h of the path ending at sample k; in reverse on the reversed profile, read
    from ``zr`` (``zr[m] = z[n_end - m]``) at offset ``n_end - k``."""
    h_tx = p[P_H_TX]
    h_rx = p[P_H_RX]
    r = _geometry_at(z, c0, c1, k, step, h_tx, h_rx, itx, irx, p[P_N0])
    if p[P_REV] != 0.0:
        d = r[8]
        x_start = min(15.0 * h_rx, 0.1 * r[3])
        x_end = d - min(15.0 * h_tx, 0.1 * r[2])
        return terrain_delta_h(zr, n_end - k, k, step, x_start, x_end, scratch)
    return terrain_delta_h(z, 0, k, step, r[4], r[5], scratch)


@njit(cache=True)
def _sample_and_sweep(
    elev2d: np.ndarray,
    north: float,
    west: float,
    dlat: float,
    dlon: float,
    slat0: float,
    clat0: float,
    lon0: float,
    z_site: float,
    az: float,
    r_fake: float,
    step_fake: float,
    step: float,
    n_s: int,
    gamma_ref: float,
    h_tx: float,
    h_rx: float,
    z: np.ndarray,
    c0: np.ndarray,
    c1: np.ndarray,
    itx: np.ndarray,
    irx: np.ndarray,
    hull: np.ndarray,
    hull_y: np.ndarray,
    obs: np.ndarray,
) -> int:
    """Terrain, prefix sums and horizon candidates along one radial; return the last valid sample.

    ``itx[k]``/``irx[k]``: the sample that is the transmitter/receiver horizon of the path ending
    at sample k under the reference curvature ``gamma_ref`` (-1: none); ``obs[k]``: whether that
    path is obstructed (not line of sight) under the reference curvature.
    """
    s_az = math.sin(az)
    c_az = math.cos(az)
    # exact spherical points at anchors, linear in between
    z[0] = z_site
    la_prev = math.asin(slat0) / DEG
    lo_prev = lon0
    k0 = 0
    n_end = n_s
    while k0 < n_s:
        k1 = min(k0 + ANCHOR, n_s)
        la1, lo1 = _sphere_direct(slat0, clat0, lon0, s_az, c_az, k1 * step_fake / r_fake)
        inv = 1.0 / (k1 - k0)
        for k in range(k0 + 1, k1 + 1):
            t = (k - k0) * inv
            zk = bilinear_point(
                elev2d, north, west, dlat, dlon, la_prev + t * (la1 - la_prev),
                lo_prev + t * (lo1 - lo_prev),
            )  # fmt: skip
            z[k] = zk
            if not math.isfinite(zk) and n_end == n_s:
                n_end = k - 1
        k0 = k1
        la_prev = la1
        lo_prev = lo1
    if n_end < 1:
        return n_end
    c0[0] = 0.0
    c1[0] = 0.0
    for k in range(n_end + 1):
        c0[k + 1] = c0[k] + z[k]
        c1[k + 1] = c1[k] + k * z[k]
    qc = 0.5 * gamma_ref
    z_tx = z[0] + h_tx
    best_t = -1e300
    best_i = -1
    n_hull = 0
    itx[0] = -1
    irx[0] = -1
    obs[0] = False
    for k in range(1, n_end + 1):
        d = k * step
        itx[k] = best_i
        obs[k] = best_t > (z[k] + h_rx - z_tx) / d - qc * d
        # receiver horizon: tangent from (d, y_rx) to the upper hull of (x_i, z_i - qc x_i^2)
        if n_hull == 0:
            irx[k] = -1
        else:
            y_q = z[k] + h_rx - qc * d * d
            lo = 0
            hi = n_hull - 1
            # first edge m where the query is on or above the line through hull[m], hull[m+1]
            # (hull_y holds z - qc x^2 of the hull points; xb > xa, so no division is needed)
            while lo < hi:
                mid = (lo + hi) // 2
                xa = hull[mid] * step
                ya = hull_y[mid]
                if (y_q - ya) * (hull[mid + 1] * step - xa) < (hull_y[mid + 1] - ya) * (d - xa):
                    lo = mid + 1
                else:
                    hi = mid
            irx[k] = hull[lo]
        # sample k becomes an interior point of longer paths
        x = d
        t = (z[k] - z_tx) / x - qc * x
        if t > best_t:
            best_t = t
            best_i = k
        y = z[k] - qc * x * x
        while n_hull >= 2:
            xa = hull[n_hull - 2] * step
            xb = hull[n_hull - 1] * step
            ya = hull_y[n_hull - 2]
            yb = hull_y[n_hull - 1]
            if (xb - xa) * (y - ya) - (yb - ya) * (x - xa) >= 0.0:
                n_hull -= 1
            else:
                break
        hull[n_hull] = k
        hull_y[n_hull] = y
        n_hull += 1
    return n_end


@njit(cache=True, inline="always")
def _dh_interp(dh: np.ndarray, k: int, kdh: int, n_end: int) -> float:
    m = k // kdh
    k_a = max(1, m * kdh)
    k_b = min((m + 1) * kdh, n_end)
    if k_b > k_a:
        return dh[m] + (dh[m + 1] - dh[m]) * ((k - k_a) / (k_b - k_a))
    return dh[m]


@njit(cache=True, inline="always")
def _jump(itx: np.ndarray, irx: np.ndarray, obs: np.ndarray, ka: int, kb: int, jump: int) -> bool:
    """Whether the horizon geometry changes abruptly between end samples ka and kb."""
    if obs[ka] != obs[kb]:
        return True
    if not obs[kb]:
        return False
    return abs(irx[kb] - irx[ka]) > jump or abs(itx[kb] - itx[ka]) > jump


@njit(cache=True)
def _evaluate_radial(
    z: np.ndarray,
    c0: np.ndarray,
    c1: np.ndarray,
    itx: np.ndarray,
    irx: np.ndarray,
    obs: np.ndarray,
    n_end: int,
    step: float,
    k_first: int,
    kstep: int,
    kdh: int,
    dh: np.ndarray,
    p: np.ndarray,
    refine: bool,
    jump: int,
    tol_db: float,
    done: np.ndarray,
    row: np.ndarray,
) -> int:
    """Excess loss into ``row[k_first..n_end]`` (see module doc); return the ITM calls made.

    ITM runs at every ``kstep``-th sample; with ``refine``, also on both sides of every abrupt
    change of the horizon geometry (line of sight <-> obstructed, or a horizon that moves by
    more than ``jump`` samples), and at midpoints of gaps whose ends differ by more than
    ``tol_db`` (recursively). Samples in between are interpolated linearly.
    """
    z_g = ground_impedance(p[P_F_MHZ], int(p[P_POL]), p[P_EPS], p[P_SIGMA])
    n_calls = 0
    k_prev = -1
    k = max(1, k_first)
    k_dense = min(2 * kstep, 16)
    while k <= n_end:
        row[k] = _excess_at(
            z, c0, c1, k, step, p, itx[k], irx[k], _dh_interp(dh, k, kdh, n_end), z_g
        )
        n_calls += 1
        if k_prev >= 0 and k - k_prev > 1:
            for kk in range(k_prev + 1, k):
                done[kk] = False
            if refine:
                for kk in range(k_prev + 1, k + 1):
                    if _jump(itx, irx, obs, kk - 1, kk, jump):
                        for q in (kk - 1, kk):
                            if q > k_prev and q < k and not done[q]:
                                row[q] = _excess_at(
                                    z, c0, c1, q, step, p, itx[q], irx[q],
                                    _dh_interp(dh, q, kdh, n_end), z_g,
                                )  # fmt: skip
                                done[q] = True
                                n_calls += 1
                # bisect gaps where the excess loss changes fast
                changed = tol_db > 0.0
                while changed:
                    changed = False
                    ka = k_prev
                    for kk in range(k_prev + 1, k + 1):
                        if kk == k or done[kk]:
                            if kk - ka > 1 and abs(row[kk] - row[ka]) > tol_db:
                                mid = (ka + kk) // 2
                                row[mid] = _excess_at(
                                    z, c0, c1, mid, step, p, itx[mid], irx[mid],
                                    _dh_interp(dh, mid, kdh, n_end), z_g,
                                )  # fmt: skip
                                done[mid] = True
                                n_calls += 1
                                changed = True
                            ka = kk
            # linear interpolation between evaluated samples
            ka = k_prev
            for kk in range(k_prev + 1, k + 1):
                if kk == k or done[kk]:
                    if kk - ka > 1:
                        a = row[ka]
                        b = row[kk]
                        inv = 1.0 / (kk - ka)
                        for q in range(ka + 1, kk):
                            row[q] = a + (b - a) * ((q - ka) * inv)
                    ka = kk
        k_prev = k
        if k < k_first + k_dense:
            k += 1
        elif k < n_end:
            k = min(k + kstep, n_end)
        else:
            break
    return n_calls


@njit(cache=True)
def _level_of(j: int, n_levels: int) -> int:
    """Level of finest-index radial j: 0 for multiples of 2^(L-1) ... L-1 for odd j."""
    if j == 0:
        return 0
    lev = n_levels - 1
    while lev > 0 and j % 2 == 0:
        j //= 2
        lev -= 1
    return lev


@njit(cache=True, parallel=True, nogil=True)
def fast_delta_h(
    elev2d: np.ndarray,
    north: float,
    west: float,
    dlat: float,
    dlon: float,
    lat0: float,
    lon0: float,
    r_fake: float,
    step_fake: float,
    scales: np.ndarray,
    n_s: int,
    kdh: int,
    gamma_ref: float,
    p: np.ndarray,
    j_lo: int,
    n_az: int,
    dh_every: int,
    dh_polar: np.ndarray,
) -> None:
    """delta_h every ``kdh`` samples on radials ``j_lo + r * dh_every`` into ``dh_polar[r]``."""
    n_rows_p, n_dh = dh_polar.shape
    slat0 = math.sin(lat0 * DEG)
    clat0 = math.cos(lat0 * DEG)
    z_site = bilinear_point(elev2d, north, west, dlat, dlon, lat0, lon0)
    for r in prange(n_rows_p):
        clean_upper()
        j = (j_lo + r * dh_every) % n_az
        z = np.empty(n_s + 1)
        c0 = np.empty(n_s + 2)
        c1 = np.empty(n_s + 2)
        itx = np.empty(n_s + 1, dtype=np.int64)
        irx = np.empty(n_s + 1, dtype=np.int64)
        hull = np.empty(n_s + 1, dtype=np.int64)
        hull_y = np.empty(n_s + 1)
        obs = np.empty(n_s + 1, dtype=np.bool_)
        zr = np.empty(n_s + 1)
        scratch = np.empty(SCRATCH_LEN)
        step = step_fake * scales[j]
        n_end = _sample_and_sweep(
            elev2d, north, west, dlat, dlon, slat0, clat0, lon0, z_site, TWO_PI * j / n_az,
            r_fake, step_fake, step, n_s, gamma_ref, p[P_H_TX], p[P_H_RX],
            z, c0, c1, itx, irx, hull, hull_y, obs,
        )  # fmt: skip
        if p[P_REV] != 0.0:
            for m in range(n_end + 1):
                zr[m] = z[n_end - m]
        for m in range(n_dh):
            if n_end < 1:
                dh_polar[r, m] = math.nan
                continue
            k = min(max(1, m * kdh), n_end)
            dh_polar[r, m] = _delta_h_at(z, zr, n_end, c0, c1, k, step, p, itx[k], irx[k], scratch)


@njit(cache=True, parallel=True, nogil=True)
def fast_radials(
    elev2d: np.ndarray,
    north: float,
    west: float,
    dlat: float,
    dlon: float,
    lat0: float,
    lon0: float,
    r_fake: float,
    step_fake: float,
    scales: np.ndarray,
    n_levels: int,
    k_start: np.ndarray,
    k_exact: int,
    kstep: int,
    kdh: int,
    gamma_ref: float,
    p: np.ndarray,
    refine: bool,
    jump: int,
    tol_db: float,
    j_lo: int,
    n_az: int,
    dh_every: int,
    dh_j_lo: int,
    dh_polar: np.ndarray,
    polar: np.ndarray,
    calls: np.ndarray,
) -> None:
    """Sweep radials ``j_lo + r`` (mod ``n_az``) into ``polar[r]``; level l starts at
    ``k_start[l]``.

    delta_h comes from ``dh_polar`` (rows: radials ``dh_j_lo + q * dh_every``), linear in azimuth.
    """
    n_rows_p, n_cols = polar.shape
    n_s = n_cols - 1
    n_dh_rows, n_dh = dh_polar.shape
    slat0 = math.sin(lat0 * DEG)
    clat0 = math.cos(lat0 * DEG)
    z_site = bilinear_point(elev2d, north, west, dlat, dlon, lat0, lon0)
    for r in prange(n_rows_p):
        clean_upper()
        j = (j_lo + r) % n_az
        z = np.empty(n_s + 1)
        c0 = np.empty(n_s + 2)
        c1 = np.empty(n_s + 2)
        itx = np.empty(n_s + 1, dtype=np.int64)
        irx = np.empty(n_s + 1, dtype=np.int64)
        hull = np.empty(n_s + 1, dtype=np.int64)
        hull_y = np.empty(n_s + 1)
        obs = np.empty(n_s + 1, dtype=np.bool_)
        done = np.empty(n_s + 1, dtype=np.bool_)
        dh = np.empty(n_dh)
        row = np.empty(n_s + 1)
        for k in range(n_s + 1):
            row[k] = math.nan
        # delta_h of this azimuth
        rel = (j - dh_j_lo) % n_az
        q = rel // dh_every
        w = (rel - q * dh_every) / dh_every
        q1 = q + 1
        if q1 >= n_dh_rows:
            q1 = q1 - n_dh_rows if (n_dh_rows * dh_every == n_az) else n_dh_rows - 1
        if q >= n_dh_rows:
            q = n_dh_rows - 1
        for m in range(n_dh):
            a = dh_polar[q, m]
            b = dh_polar[q1, m]
            dh[m] = a + (b - a) * w if w > 0.0 else a
        lev = _level_of(j, n_levels)
        k_first = max(k_start[lev], k_exact - 1, 1)
        step = step_fake * scales[j]
        n_end = _sample_and_sweep(
            elev2d, north, west, dlat, dlon, slat0, clat0, lon0, z_site, TWO_PI * j / n_az,
            r_fake, step_fake, step, n_s, gamma_ref, p[P_H_TX], p[P_H_RX],
            z, c0, c1, itx, irx, hull, hull_y, obs,
        )  # fmt: skip
        if n_end >= 1:
            calls[r] = _evaluate_radial(
                z,
                c0,
                c1,
                itx,
                irx,
                obs,
                n_end,
                step,
                k_first,
                kstep,
                kdh,
                dh,
                p,
                refine,
                jump,
                tol_db,
                done,
                row,
            )
        else:
            calls[r] = 0
        for k in range(n_s + 1):
            polar[r, k] = row[k]


@njit(cache=True, parallel=True, nogil=True)
def fast_fill(
    elev2d: np.ndarray,
    north: float,
    west: float,
    dlat: float,
    dlon: float,
    lat0: float,
    lon0: float,
    g_north: float,
    g_west: float,
    g_dlat: float,
    g_dlon: float,
    radius_m: float,
    r_fake: float,
    step_fake: float,
    scales: np.ndarray,
    n_levels: int,
    k_start: np.ndarray,
    k_exact: int,
    p: np.ndarray,
    j_lo: int,
    polar: np.ndarray,
    out: np.ndarray,
    flag: np.ndarray,
) -> None:
    """Raster nodes from the radial sweeps (see module doc); ``polar[r]`` is radial j_lo + r.

    ``flag``: 0 done; 1 closer than ``k_exact`` steps (left NaN, for exact evaluation by the
    caller); 2 within 50 m of the radius (value set; the caller checks the geodesic distance).
    """
    n_az = scales.shape[0]
    n_rows_p, n_cols_p = polar.shape
    n_s = n_cols_p - 1
    n_rows, n_cols = out.shape
    slat0 = math.sin(lat0 * DEG)
    clat0 = math.cos(lat0 * DEG)
    f = p[P_F_MHZ]
    # free_space_loss_db(d, f) = (32.45 + 20 log10 f) + 20 log10(d / 1000), same operation order
    fsl0 = 32.45 + 20.0 * math.log10(f)
    r_exact = k_exact * step_fake
    # nodes with s_fake * min(scales) beyond radius + 50 m are outside whatever their radial
    s_out = (radius_m + 50.0) / scales.min()
    # per-column terms of the haversine and azimuth formulas
    sdl = np.empty(n_cols)
    cdl = np.empty(n_cols)
    hl2 = np.empty(n_cols)
    for j in range(n_cols):
        dl = (g_west + j * g_dlon - lon0) * DEG
        sdl[j] = math.sin(dl)
        cdl[j] = math.cos(dl)
        h = math.sin(0.5 * dl)
        hl2[j] = h * h
    for i in prange(n_rows):
        clean_upper()
        lat = g_north - i * g_dlat
        sl = math.sin(lat * DEG)
        cl = math.cos(lat * DEG)
        h_lat = math.sin(0.5 * (lat - lat0) * DEG)
        h_lat *= h_lat
        cc = clat0 * cl
        a_s = clat0 * sl
        a_c = slat0 * cl
        for j in range(n_cols):
            hav = h_lat + cc * hl2[j]
            hav = min(1.0, max(0.0, hav))
            c = 2.0 * math.asin(math.sqrt(hav))
            s_fake = c * r_fake
            if s_fake > s_out:
                out[i, j] = math.nan
                flag[i, j] = 0
                continue
            az = math.atan2(sdl[j] * cl, a_s - a_c * cdl[j])
            if az < 0.0:
                az += TWO_PI
            u = az / TWO_PI * n_az
            jf = int(u)
            if jf >= n_az:
                jf = n_az - 1
            scl = scales[jf]
            d_approx = s_fake * scl
            flag[i, j] = 0
            if d_approx > radius_m + 50.0:
                out[i, j] = math.nan
                continue
            if s_fake < r_exact:
                out[i, j] = math.nan
                flag[i, j] = 1
                continue
            if d_approx > radius_m - 50.0:
                flag[i, j] = 2
            fk = s_fake / step_fake
            k = int(fk)
            if k >= n_s:
                k = n_s - 1
            tk = fk - k
            lev = n_levels - 1
            while lev > 0 and k_start[lev] > k:
                lev -= 1
            m = 1 << (n_levels - 1 - lev)
            ja = (jf // m) * m
            ta = (u - ja) / m
            jb = ja + m
            if jb >= n_az:
                jb -= n_az
            ra = ja - j_lo
            if ra < 0:
                ra += n_az
            rb = jb - j_lo
            if rb < 0:
                rb += n_az
            if ra >= n_rows_p or rb >= n_rows_p:
                out[i, j] = math.nan
                continue
            a0 = polar[ra, k]
            a1 = polar[ra, k + 1]
            b0 = polar[rb, k]
            b1 = polar[rb, k + 1]
            va = a0 + (a1 - a0) * tk
            vb = b0 + (b1 - b0) * tk
            if math.isnan(va) or math.isnan(vb):
                v = va if ta < 0.5 else vb
            else:
                v = va + (vb - va) * ta
            out[i, j] = v + (fsl0 + 20.0 * math.log10(d_approx / 1000.0))


@njit(cache=True)
def check_itm_params(p: np.ndarray) -> tuple[int, int]:
    """Return ``(rtn, warnings)`` of ITM's input validation for the parameter vector."""
    return validate_inputs(
        p[P_H_TX], p[P_H_RX], int(p[P_CLIMATE]), p[P_N0], p[P_F_MHZ], int(p[P_POL]), p[P_EPS],
        p[P_SIGMA], int(p[P_MDVAR]), p[P_TIME], p[P_LOC], p[P_SIT],
    )  # fmt: skip
