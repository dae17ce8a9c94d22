"""Numba kernels of ITU-R P.1812-8, private to :mod:`yalu.propagation.p1812`.

Interface for other kernels (the coverage engine may call it from its own ``@njit`` code)
-------------------------------------------------------------------------------------------------
::

    loss_db = p1812_core(d_km, h_m, r_m, zone, i0, n, frequency_ghz, time_pct, h_tx_m, h_rx_m,
                         vertical, phi_deg, delta_n, n0, dct_km, dcr_km, location_pct,
                         sigma_l_db, lbulls_method, out)

- ``d_km``, ``h_m``, ``r_m`` (float64) and ``zone`` (int64) are 1-D arrays; the profile is the
  slice ``[i0, i0 + n)``: distance from the transmitter [km] (strictly increasing, first 0),
  terrain height above sea level [m], representative clutter height [m] and radio-climatic zone
  (1 sea, 3 coastal land, 4 inland). ``n >= 3``. No copy is made, nothing is allocated.
- ``vertical``: 0 horizontal, 1 vertical polarization. ``lbulls_method``: 0 the smooth-path
  Bullington loss on the profile (§4.3.4), 1 Attachment 4 (no profile).
- ``out``: float64, ``len(out) >= OUT_LEN``, filled at the ``OUT_*`` indices below.
- The caller validates the input (the public wrappers do); the kernel never raises.

Sources
-------
Recommendation ITU-R P.1812-8 (09/2025), "A path-specific propagation prediction method for
point-to-area terrestrial services in the frequency range 30 MHz to 6 000 MHz", Annex 1 (sections
and equations cited as "§n" and "Eq (n)"), its Attachment 1 (path profile analysis, §5),
Attachment 2 (inverse complementary cumulative normal distribution) and Attachment 4 (smooth-path
Bullington loss without a profile). The wavelength uses c = 2.998e8 m/s, as ITU-R P.2001 and the
ITU-R WP 3M validation software do.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from yalu.cpu import clean_upper

# ---------------------------------------------------------------------------------------------
# layout of ``out``
OUT_LB = 0  # basic transmission loss, Eq (69) [dB]
OUT_EP = 1  # field strength for 1 kW e.r.p., Eq (70) [dB(uV/m)]
OUT_LBFS = 2
OUT_LB0P = 3
OUT_LB0B = 4
OUT_LBULLA = 5  # at the beta0 effective earth radius, like the reference logs
OUT_LBULLS = 6
OUT_LDSPH = 7
OUT_LD50 = 8
OUT_LDB = 9
OUT_LDP = 10
OUT_LBD50 = 11
OUT_LBD = 12
OUT_LMINB0P = 13
OUT_LBA = 14
OUT_LMINBAP = 15
OUT_LBDA = 16
OUT_LBAM = 17
OUT_LBS = 18
OUT_LBC = 19
OUT_LLOC = 20
OUT_FI = 21
OUT_FJ = 22
OUT_FK = 23
OUT_D_KM = 24
OUT_DLT = 25
OUT_DLR = 26
OUT_THETA_T = 27
OUT_THETA_R = 28
OUT_THETA = 29
OUT_HTS = 30
OUT_HRS = 31
OUT_HST_LS = 32  # least-squares smooth-earth heights, Eqs (87)-(88)
OUT_HSR_LS = 33
OUT_HST = 34  # the same limited to the terrain, Eq (92)
OUT_HSR = 35
OUT_HSTD = 36
OUT_HSRD = 37
OUT_HTS1 = 38  # modified antenna heights of the smooth path, Eq (37)
OUT_HRS1 = 39
OUT_HTE = 40
OUT_HRE = 41
OUT_HM = 42
OUT_OMEGA = 43
OUT_DTM = 44
OUT_DLM = 45
OUT_B0 = 46
OUT_AE = 47
OUT_AB = 48
OUT_TRANSHORIZON = 49
OUT_PHI = 50
OUT_LEN = 51

ZONE_SEA = 1
ZONE_COASTAL = 3
ZONE_INLAND = 4

# c / 1e9 [m GHz]: lambda [m] = C_M_GHZ / f [GHz]
C_M_GHZ = 0.2998
EARTH_RADIUS_KM = 6371.0


# ---------------------------------------------------------------------------------------------
# small pieces


@njit(cache=True, inline="always")
def knife_edge_db(nu: float) -> float:
    """J(nu), Eq (12): 0 for nu <= -0.78."""
    if nu > -0.78:
        t = nu - 0.1
        return 6.9 + 20.0 * math.log10(math.sqrt(t * t + 1.0) + t)
    return 0.0


@njit(cache=True)
def inv_cum_norm(x: float) -> float:
    """Inverse complementary cumulative normal I(x), Attachment 2, Eqs (96)-(97).

    I(x) is the value exceeded with probability x (I(0.1) ~ 1.28); x is limited to
    [1e-6, 1 - 1e-6].
    """
    if x < 1e-6:
        x = 1e-6
    elif x > 0.999999:
        x = 0.999999
    y = x if x <= 0.5 else 1.0 - x
    t = math.sqrt(-2.0 * math.log(y))
    c = ((0.010328 * t + 0.802853) * t + 2.515516698) / (
        ((0.001308 * t + 0.189269) * t + 1.432788) * t + 1.0
    )
    v = t - c
    return v if x <= 0.5 else -v


@njit(cache=True)
def zone_lengths(d: np.ndarray, zone: np.ndarray, i0: int, n: int) -> tuple[float, float, float]:
    """(dtm, dlm, omega): longest continuous land (zones 3+4) and inland (4) sections [km]
    (§3.6) and the fraction of the path over sea (zone 1).

    A zone boundary lies midway between two points with different zones (§3.3), so each run of
    points extends half an interval beyond its end points (except at the path ends).
    """
    dtot = d[i0 + n - 1] - d[i0]
    dtm = 0.0
    dlm = 0.0
    sea = 0.0
    for kind in range(3):
        i = 0
        while i < n:
            z = zone[i0 + i]
            inside = (
                (z == ZONE_COASTAL or z == ZONE_INLAND)
                if kind == 0
                else (z == ZONE_INLAND if kind == 1 else z == ZONE_SEA)
            )
            if not inside:
                i += 1
                continue
            j = i
            while j + 1 < n:
                z2 = zone[i0 + j + 1]
                nxt = (
                    (z2 == ZONE_COASTAL or z2 == ZONE_INLAND)
                    if kind == 0
                    else (z2 == ZONE_INLAND if kind == 1 else z2 == ZONE_SEA)
                )
                if not nxt:
                    break
                j += 1
            length = d[i0 + j] - d[i0 + i]
            if j < n - 1:
                length += 0.5 * (d[i0 + j + 1] - d[i0 + j])
            if i > 0:
                length += 0.5 * (d[i0 + i] - d[i0 + i - 1])
            if kind == 0:
                dtm = max(dtm, length)
            elif kind == 1:
                dlm = max(dlm, length)
            else:
                sea += length
            i = j + 1
    return dtm, dlm, sea / dtot


@njit(cache=True)
def beta0_pct(phi_deg: float, dtm_km: float, dlm_km: float) -> float:
    """Time percentage beta0 of refractivity gradients below -100 N/km, Eqs (2)-(5)."""
    tau = 1.0 - math.exp(-4.12e-4 * dlm_km**2.41)  # Eq (3)
    mu1 = (10.0 ** (-dtm_km / (16.0 - 6.6 * tau)) + 10.0 ** (-5.0 * (0.496 + 0.354 * tau))) ** 0.2
    mu1 = min(mu1, 1.0)  # Eq (2)
    a = abs(phi_deg)
    if a <= 70.0:
        mu4 = mu1 ** (-0.935 + 0.0176 * a)  # Eq (4)
        return 10.0 ** (-0.015 * a + 1.67) * mu1 * mu4  # Eq (5)
    mu4 = mu1**0.3
    return 4.17 * mu1 * mu4


# ---------------------------------------------------------------------------------------------
# diffraction (§4.3)


@njit(cache=True, inline="always")
def _bullington_finish(luc: float, dtot: float) -> float:
    return luc + (1.0 - math.exp(-luc / 6.0)) * (10.0 + 0.02 * dtot)  # Eq (21)


@njit(cache=True)
def _bullington_th(hts: float, hrs: float, dtot: float, lam: float, stim: float,
                   srim: float) -> float:  # fmt: skip
    """Trans-horizon Bullington loss from the slopes, Eqs (18)-(21)."""
    dbp = (hrs - hts + srim * dtot) / (stim + srim)  # Eq (18)
    nub = (hts + stim * dbp - (hts * (dtot - dbp) + hrs * dbp) / dtot) * math.sqrt(
        0.002 * dtot / (lam * dbp * (dtot - dbp))
    )  # Eq (19)
    return _bullington_finish(knife_edge_db(nub), dtot)  # Eq (20)


@njit(cache=True)
def bullington_pair_db(
    d: np.ndarray, h: np.ndarray, r: np.ndarray, i0: int, n: int, smooth: bool, hts: float,
    hrs: float, ae: float, ab: float, lam: float,
) -> tuple[float, float]:  # fmt: skip
    """Bullington loss Lbull, §4.3.1, Eqs (13)-(21), for the effective earth radii ae and ab.

    Intermediate heights are terrain plus clutter (§3.2.1); with ``smooth`` every height is 0
    (the smooth path of §4.3.4). The slopes of Eqs (13) and (17) for both radii come from one
    pass over the profile, and the diffraction parameters of Eq (15) (line-of-sight paths) from
    at most one more.
    """
    cea = 1.0 / ae
    ceb = 1.0 / ab
    dtot = d[i0 + n - 1] - d[i0]
    stim_a = -math.inf
    stim_b = -math.inf
    srim_a = -math.inf
    srim_b = -math.inf
    for i in range(1, n - 1):
        di = d[i0 + i] - d[i0]
        gi = 0.0 if smooth else h[i0 + i] + r[i0 + i]
        q = 500.0 * di * (dtot - di)
        ga = gi + q * cea
        gb = gi + q * ceb
        inv_t = 1.0 / di
        inv_r = 1.0 / (dtot - di)
        stim_a = max(stim_a, (ga - hts) * inv_t)  # Eq (13)
        stim_b = max(stim_b, (gb - hts) * inv_t)
        srim_a = max(srim_a, (ga - hrs) * inv_r)  # Eq (17)
        srim_b = max(srim_b, (gb - hrs) * inv_r)
    str_ = (hrs - hts) / dtot  # Eq (14)
    los_a = stim_a < str_
    los_b = stim_b < str_
    numax_a = -math.inf
    numax_b = -math.inf
    if los_a or los_b:
        # Eq (15): the Fresnel factor is common to both radii, only the earth bulge differs
        for i in range(1, n - 1):
            di = d[i0 + i] - d[i0]
            gi = 0.0 if smooth else h[i0 + i] + r[i0 + i]
            q = 500.0 * di * (dtot - di)
            base = gi - (hts * (dtot - di) + hrs * di) / dtot
            fres = math.sqrt(0.002 * dtot / (lam * di * (dtot - di)))
            numax_a = max(numax_a, (base + q * cea) * fres)
            numax_b = max(numax_b, (base + q * ceb) * fres)
    if los_a:
        la = _bullington_finish(knife_edge_db(numax_a), dtot)  # Eqs (16), (21)
    else:
        la = _bullington_th(hts, hrs, dtot, lam, stim_a, srim_a)
    if los_b:
        lb = _bullington_finish(knife_edge_db(numax_b), dtot)
    else:
        lb = _bullington_th(hts, hrs, dtot, lam, stim_b, srim_b)
    return la, lb


@njit(cache=True)
def bullington_smooth_att4_db(dtot: float, hte: float, hre: float, ap: float, lam: float) -> float:
    """Smooth-path Bullington loss without a profile, Attachment 4, Eqs (105)-(112)."""
    ce = 1.0 / ap
    dlos = math.sqrt(2.0 * ap) * (math.sqrt(0.001 * hte) + math.sqrt(0.001 * hre))
    if dtot < dlos:
        dse1, hse = _smallest_clearance(dtot, hte, hre, ap)
        nu = -hse * math.sqrt(0.002 * dtot / (lam * dse1 * (dtot - dse1)))  # Eq (105)
        lus = knife_edge_db(nu)  # Eq (106)
    else:
        stm = 500.0 * ce * dtot - 2.0 * math.sqrt(500.0 * ce * hte)  # Eq (107)
        srm = 500.0 * ce * dtot - 2.0 * math.sqrt(500.0 * ce * hre)  # Eq (108)
        ds = (hre - hte + srm * dtot) / (stm + srm)  # Eq (109)
        nus = (hte + stm * ds - (hte * (dtot - ds) + hre * ds) / dtot) * math.sqrt(
            0.002 * dtot / (lam * ds * (dtot - ds))
        )  # Eq (110)
        lus = knife_edge_db(nus)  # Eq (111)
    return lus + (1.0 - math.exp(-lus / 6.0)) * (10.0 + 0.02 * dtot)  # Eq (112)


@njit(cache=True)
def _smallest_clearance(d: float, hte: float, hre: float, ap: float) -> tuple[float, float]:
    """(dse1, hse): where and by how much the ray clears the smooth earth, Eqs (23)-(24)."""
    c = (hte - hre) / (hte + hre)  # Eq (24d)
    m = 250.0 * d * d / (ap * (hte + hre))  # Eq (24e)
    # |arg| <= 1 in exact arithmetic; rounding must not turn acos into NaN
    arg = min(1.0, max(-1.0, 1.5 * c * math.sqrt(3.0 * m / (m + 1.0) ** 3)))
    b = 2.0 * math.sqrt((m + 1.0) / (3.0 * m)) * math.cos(math.pi / 3.0 + math.acos(arg) / 3.0)
    # Eq (24c)
    dse1 = 0.5 * d * (1.0 + b)  # Eq (24a)
    dse2 = d - dse1  # Eq (24b)
    hse = ((hte - 500.0 * dse1 * dse1 / ap) * dse2 + (hre - 500.0 * dse2 * dse2 / ap) * dse1) / d
    return dse1, hse  # Eq (23)


@njit(cache=True)
def _first_term_one(
    eps_r: float, sigma: float, d: float, hte: float, hre: float, a: float, f: float,
    vertical: int,
) -> float:  # fmt: skip
    """First-term spherical-earth loss for one ground type, Eqs (29)-(36)."""
    q = 18.0 * sigma / f
    k = 0.036 * (a * f) ** (-1.0 / 3.0) * ((eps_r - 1.0) ** 2 + q * q) ** -0.25  # Eq (29a)
    if vertical:
        k = k * math.sqrt(eps_r * eps_r + q * q)  # Eq (29b)
    k2 = k * k
    beta = (1.0 + 1.6 * k2 + 0.67 * k2 * k2) / (1.0 + 4.5 * k2 + 1.53 * k2 * k2)  # Eq (30)
    x = 21.88 * beta * (f / (a * a)) ** (1.0 / 3.0) * d  # Eq (31)
    yfac = 0.9575 * beta * (f * f / a) ** (1.0 / 3.0)  # Eq (32)
    if x >= 1.6:
        fx = 11.0 + 10.0 * math.log10(x) - 17.6 * x  # Eq (33)
    else:
        fx = -20.0 * math.log10(x) - 5.6488 * x**1.425
    g_min = 2.0 + 20.0 * math.log10(k)
    total = -fx
    for y in (yfac * hte, yfac * hre):
        bb = beta * y  # Eq (35)
        if bb > 2.0:
            gy = 17.6 * math.sqrt(bb - 1.1) - 5.0 * math.log10(bb - 1.1) - 8.0  # Eq (34)
        else:
            gy = 20.0 * math.log10(bb + 0.1 * bb**3)
        total -= max(gy, g_min)
    return total  # Eq (36)


@njit(cache=True)
def first_term_db(
    d: float, hte: float, hre: float, a: float, f: float, omega: float, vertical: int
) -> float:
    """First-term spherical-earth diffraction loss Ldft, §4.3.3, Eq (28): a mix of sea
    (eps_r 80, sigma 5 S/m) and land (22, 0.003 S/m) weighted by the sea fraction."""
    sea = _first_term_one(80.0, 5.0, d, hte, hre, a, f, vertical)
    land = _first_term_one(22.0, 0.003, d, hte, hre, a, f, vertical)
    return omega * sea + (1.0 - omega) * land


@njit(cache=True)
def spherical_earth_db(
    d: float, hte: float, hre: float, ap: float, f: float, lam: float, omega: float,
    vertical: int,
) -> float:  # fmt: skip
    """Spherical-earth diffraction loss Ldsph, §4.3.2, Eqs (22)-(27)."""
    dlos = math.sqrt(2.0 * ap) * (math.sqrt(0.001 * hte) + math.sqrt(0.001 * hre))  # Eq (22)
    if d >= dlos:
        return first_term_db(d, hte, hre, ap, f, omega, vertical)
    dse1, hse = _smallest_clearance(d, hte, hre, ap)
    hreq = 17.456 * math.sqrt(dse1 * (d - dse1) * lam / d)  # Eq (25)
    if hse > hreq:
        return 0.0
    aem = 500.0 * (d / (math.sqrt(hte) + math.sqrt(hre))) ** 2  # Eq (26)
    ldft = max(first_term_db(d, hte, hre, aem, f, omega, vertical), 0.0)
    return (1.0 - hse / hreq) * ldft  # Eq (27)


@njit(cache=True)
def delta_bullington_db(
    d: np.ndarray, h: np.ndarray, r: np.ndarray, i0: int, n: int, hts: float, hrs: float,
    hstd: float, hsrd: float, ae: float, ab: float, f: float, lam: float, omega: float,
    vertical: int, lbulls_method: int,
) -> tuple[float, float, float, float, float]:  # fmt: skip
    """Delta-Bullington loss, §4.3.4, Eqs (37)-(39), for the radii ae and ab:
    (Ld at ae, Ld at ab, and Lbulla, Lbulls, Ldsph at ab)."""
    dtot = d[i0 + n - 1] - d[i0]
    lbulla_a, lbulla_b = bullington_pair_db(d, h, r, i0, n, False, hts, hrs, ae, ab, lam)
    hts1 = hts - hstd  # Eq (37a)
    hrs1 = hrs - hsrd  # Eq (37b)
    if lbulls_method == 1:
        lbulls_a = bullington_smooth_att4_db(dtot, hts1, hrs1, ae, lam)
        lbulls_b = bullington_smooth_att4_db(dtot, hts1, hrs1, ab, lam)
    else:
        lbulls_a, lbulls_b = bullington_pair_db(d, h, r, i0, n, True, hts1, hrs1, ae, ab, lam)
    ldsph_a = spherical_earth_db(dtot, hts1, hrs1, ae, f, lam, omega, vertical)  # Eq (38)
    ldsph_b = spherical_earth_db(dtot, hts1, hrs1, ab, f, lam, omega, vertical)
    ld_a = lbulla_a + max(ldsph_a - lbulls_a, 0.0)  # Eq (39)
    ld_b = lbulla_b + max(ldsph_b - lbulls_b, 0.0)
    return ld_a, ld_b, lbulla_b, lbulls_b, ldsph_b


# ---------------------------------------------------------------------------------------------
# path profile analysis (Attachment 1, §5)


@njit(cache=True)
def profile_analysis(
    d: np.ndarray, h: np.ndarray, i0: int, n: int, hts: float, hrs: float, htg: float,
    hrg: float, ae: float, lam: float, out: np.ndarray,
) -> None:  # fmt: skip
    """Horizon angles and distances, angular distance, smooth-earth heights and roughness.

    Fills OUT_THETA_T/R, OUT_DLT/R, OUT_THETA, OUT_TRANSHORIZON, OUT_HST_LS/HSR_LS, OUT_HST/HSR,
    OUT_HSTD/HSRD, OUT_HTE/HRE and OUT_HM. The analysis uses the terrain heights (without
    clutter), as the Recommendation's path profile analysis and its validation software do.
    """
    dtot = d[i0 + n - 1] - d[i0]
    h0 = h[i0]
    hn = h[i0 + n - 1]
    # One pass for: the transmitter and receiver horizons, Eqs (76)-(81) (atan is increasing,
    # so the largest argument gives the largest angle: one atan per path, not per point); the
    # least-squares sums v1, v2, Eqs (85)-(86); the obstruction heights of Eq (89).
    arg_t = -math.inf
    arg_r = -math.inf
    lt = 1
    lr = n - 2
    v1 = 0.0
    v2 = 0.0
    hobs = -math.inf
    aobt = -math.inf
    aobr = -math.inf
    for i in range(1, n - 1):
        di = d[i0 + i] - d[i0]
        dr = dtot - di
        hi = h[i0 + i]
        a = (hi - hts) / (1000.0 * di) - di / (2.0 * ae)
        if a > arg_t:  # the first point of highest angle
            arg_t = a
            lt = i
        a = (hi - hrs) / (1000.0 * dr) - dr / (2.0 * ae)
        if a >= arg_r:  # the last point of highest angle
            arg_r = a
            lr = i
        da = d[i0 + i - 1] - d[i0]
        ha = h[i0 + i - 1]
        v1 += (di - da) * (hi + ha)
        v2 += (di - da) * (hi * (2.0 * di + da) + ha * (di + 2.0 * da))
        hh = hi - (hts * (dtot - di) + hrs * di) / dtot
        hobs = max(hobs, hh)
        aobt = max(aobt, hh / di)
        aobr = max(aobr, hh / (dtot - di))
    da = d[i0 + n - 2] - d[i0]
    ha = h[i0 + n - 2]
    v1 += (dtot - da) * (hn + ha)
    v2 += (dtot - da) * (hn * (2.0 * dtot + da) + ha * (dtot + 2.0 * da))

    theta_max = 1000.0 * math.atan(arg_t)
    theta_td = 1000.0 * math.atan((hrs - hts) / (1000.0 * dtot) - dtot / (2.0 * ae))
    theta_rd = 1000.0 * math.atan((hts - hrs) / (1000.0 * dtot) - dtot / (2.0 * ae))
    transhorizon = theta_max > theta_td
    if transhorizon:
        theta_t = theta_max
        dlt = d[i0 + lt] - d[i0]
        theta_r = 1000.0 * math.atan(arg_r)
        dlr = dtot - (d[i0 + lr] - d[i0])
    else:
        theta_t = theta_td
        theta_r = theta_rd
        # line of sight: both horizon distances from the point of highest nu, Eqs (78a), (81a)
        numax = -math.inf
        for i in range(1, n - 1):
            di = d[i0 + i] - d[i0]
            nu = (
                h[i0 + i] + 500.0 * di * (dtot - di) / ae - (hts * (dtot - di) + hrs * di) / dtot
            ) * math.sqrt(0.002 * dtot / (lam * di * (dtot - di)))
            if nu >= numax:
                numax = nu
                lt = i
        lr = lt
        dlt = d[i0 + lt] - d[i0]
        dlr = dtot - dlt
    out[OUT_THETA_T] = theta_t
    out[OUT_THETA_R] = theta_r
    out[OUT_DLT] = dlt
    out[OUT_DLR] = dlr
    out[OUT_THETA] = 1e3 * dtot / ae + theta_t + theta_r  # Eq (82)
    out[OUT_TRANSHORIZON] = 1.0 if transhorizon else 0.0

    # least-squares smooth-earth surface, Eqs (87)-(88)
    hst = (2.0 * v1 * dtot - v2) / (dtot * dtot)
    hsr = (v2 - v1 * dtot) / (dtot * dtot)
    out[OUT_HST_LS] = hst
    out[OUT_HSR_LS] = hsr

    # smooth-surface heights for the diffraction model, Eqs (89)-(91)
    if hobs <= 0.0:
        hstp = hst
        hsrp = hsr
    else:
        gt = aobt / (aobt + aobr)
        gr = aobr / (aobt + aobr)
        hstp = hst - hobs * gt
        hsrp = hsr - hobs * gr
    out[OUT_HSTD] = h0 if hstp >= h0 else hstp
    out[OUT_HSRD] = hn if hsrp > hn else hsrp

    # ducting/layer-reflection model heights and roughness, Eqs (92)-(95)
    hst2 = min(hst, h0)
    hsr2 = min(hsr, hn)
    m = (hsr2 - hst2) / dtot
    out[OUT_HST] = hst2
    out[OUT_HSR] = hsr2
    out[OUT_HTE] = htg + h0 - hst2
    out[OUT_HRE] = hrg + hn - hsr2
    hm = -math.inf
    for i in range(min(lt, lr), max(lt, lr) + 1):
        di = d[i0 + i] - d[i0]
        hm = max(hm, h[i0 + i] - (hst2 + m * di))
    out[OUT_HM] = hm


# ---------------------------------------------------------------------------------------------
# anomalous propagation (§4.5) and troposcatter (§4.4)


@njit(cache=True)
def anomalous_db(
    dtot: float, dlt: float, dlr: float, dct: float, dcr: float, dlm: float, hts: float,
    hrs: float, hte: float, hre: float, hm: float, theta_t: float, theta_r: float, f: float,
    p: float, omega: float, ae: float, b0: float,
) -> float:  # fmt: skip
    """Basic transmission loss during ducting/layer reflection Lba, §4.5, Eqs (46)-(56)."""
    alf = 45.375 - 137.0 * f + 92.5 * f * f if f < 0.5 else 0.0  # Eq (47a)
    ast = 0.0  # site shielding, Eq (48)
    th2 = theta_t - 0.1 * dlt
    if th2 > 0.0:
        ast = 20.0 * math.log10(1.0 + 0.361 * th2 * math.sqrt(f * dlt)) + 0.264 * th2 * f ** (
            1.0 / 3.0
        )
    asr = 0.0
    th2 = theta_r - 0.1 * dlr
    if th2 > 0.0:
        asr = 20.0 * math.log10(1.0 + 0.361 * th2 * math.sqrt(f * dlr)) + 0.264 * th2 * f ** (
            1.0 / 3.0
        )
    act = 0.0  # over-sea surface duct coupling, Eq (49)
    if dct <= 5.0 and dct <= dlt and omega >= 0.75:
        act = -3.0 * math.exp(-0.25 * dct * dct) * (1.0 + math.tanh(0.07 * (50.0 - hts)))
    acr = 0.0
    if dcr <= 5.0 and dcr <= dlr and omega >= 0.75:
        acr = -3.0 * math.exp(-0.25 * dcr * dcr) * (1.0 + math.tanh(0.07 * (50.0 - hrs)))
    af = (
        102.45 + 20.0 * math.log10(f) + 20.0 * math.log10(dlt + dlr) + alf + ast + asr + act + acr
    )  # Eq (47)
    gamma_d = 5e-5 * ae * f ** (1.0 / 3.0)  # Eq (51)
    theta1 = 1e3 * dtot / ae + min(theta_t, 0.1 * dlt) + min(theta_r, 0.1 * dlr)  # Eq (52)
    di = min(dtot - dlt - dlr, 40.0)  # Eq (56a)
    mu3 = math.exp(-4.6e-5 * (hm - 10.0) * (43.0 + 6.0 * di)) if hm > 10.0 else 1.0  # Eq (56)
    tau = 1.0 - math.exp(-4.12e-4 * dlm**2.41)  # Eq (3)
    alpha = max(-0.6 - 3.5e-9 * dtot**3.1 * tau, -3.4)  # Eq (55a)
    mu2 = min((500.0 / ae * dtot * dtot / (math.sqrt(hte) + math.sqrt(hre)) ** 2) ** alpha, 1.0)
    beta = b0 * mu2 * mu3  # Eq (54)
    lb = math.log10(beta)
    gamma = (
        1.076
        / (2.0058 - lb) ** 1.012
        * math.exp(-(9.51 - 4.8 * lb + 0.198 * lb * lb) * 1e-6 * dtot**1.13)
    )  # Eq (53a)
    ap = -12.0 + (1.2 + 3.7e-3 * dtot) * math.log10(p / beta) + 12.0 * (p / beta) ** gamma
    adp = gamma_d * theta1 + ap  # Eqs (50), (53)
    return af + adp  # Eq (46)


@njit(cache=True, inline="always")
def troposcatter_db(dtot: float, theta: float, f: float, p: float, n0: float) -> float:
    """Troposcatter loss Lbs not exceeded for p% time, §4.4, Eqs (44)-(45)."""
    lf = 25.0 * math.log10(f) - 2.5 * math.log10(0.5 * f) ** 2  # Eq (45)
    return (
        190.1 + lf + 20.0 * math.log10(dtot) + 0.573 * theta - 0.15 * n0
        - 10.125 * math.log10(50.0 / p) ** 0.7
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# the whole prediction


@njit(cache=True)
def p1812_core(
    d: np.ndarray, h: np.ndarray, r: np.ndarray, zone: np.ndarray, i0: int, n: int,
    f: float, p: float, htg: float, hrg: float, vertical: int, phi_deg: float,
    delta_n: float, n0: float, dct: float, dcr: float, pl: float, sigma_l: float,
    lbulls_method: int, out: np.ndarray,
) -> float:  # fmt: skip
    """Basic transmission loss Lb [dB] not exceeded for p% time and pL% locations (Annex 1)."""
    dtot = d[i0 + n - 1] - d[i0]
    lam = C_M_GHZ / f
    hts = h[i0] + htg
    hrs = h[i0 + n - 1] + hrg
    out[OUT_D_KM] = dtot
    out[OUT_HTS] = hts
    out[OUT_HRS] = hrs
    out[OUT_PHI] = phi_deg

    # radio-climatic parameters, §3.3-3.7
    dtm, dlm, omega = zone_lengths(d, zone, i0, n)
    if zone[i0] == ZONE_SEA:
        dct = 0.0
    if zone[i0 + n - 1] == ZONE_SEA:
        dcr = 0.0
    b0 = beta0_pct(phi_deg, dtm, dlm)
    ae = EARTH_RADIUS_KM * 157.0 / (157.0 - delta_n)  # Eqs (6), (7a)
    ab = EARTH_RADIUS_KM * 3.0  # Eq (7b)
    out[OUT_DTM] = dtm
    out[OUT_DLM] = dlm
    out[OUT_OMEGA] = omega
    out[OUT_B0] = b0
    out[OUT_AE] = ae
    out[OUT_AB] = ab

    profile_analysis(d, h, i0, n, hts, hrs, htg, hrg, ae, lam, out)
    dlt = out[OUT_DLT]
    dlr = out[OUT_DLR]
    theta = out[OUT_THETA]
    hstd = out[OUT_HSTD]
    hsrd = out[OUT_HSRD]
    out[OUT_HTS1] = hts - hstd
    out[OUT_HRS1] = hrs - hsrd

    # line of sight with short-term effects, §4.2, Eqs (8)-(11)
    dz = (hts - hrs) / 1000.0
    lbfs = 92.4 + 20.0 * math.log10(f) + 10.0 * math.log10(dtot * dtot + dz * dz)
    mp = 2.6 * (1.0 - math.exp(-0.1 * (dlt + dlr)))
    lb0p = lbfs + mp * math.log10(p / 50.0)
    lb0b = lbfs + mp * math.log10(b0 / 50.0)

    # diffraction, §4.3.5: median (ae) and beta0 (ab) effective earth radii, Eqs (40)-(43)
    ld50, ldb, lbulla, lbulls, ldsph = delta_bullington_db(
        d, h, r, i0, n, hts, hrs, hstd, hsrd, ae, ab, f, lam, omega, vertical, lbulls_method
    )
    fi = 1.0
    if p > b0:
        fi = inv_cum_norm(p / 100.0) / inv_cum_norm(b0 / 100.0)  # Eq (40)
    ldp = ld50 + fi * (ldb - ld50)  # Eq (41)
    lbd50 = lbfs + ld50  # Eq (42)
    lbd = lb0p + ldp  # Eq (43)

    # combination, §4.6, Eqs (57)-(63)
    fj = 1.0 - 0.5 * (1.0 + math.tanh(3.0 * 0.8 * (theta - 0.3) / 0.3))  # Eq (57)
    fk = 1.0 - 0.5 * (1.0 + math.tanh(3.0 * 0.5 * (dtot - 20.0) / 20.0))  # Eq (58)
    if p < b0:
        lminb0p = lb0p + (1.0 - omega) * ldp  # Eq (59)
    else:
        lminb0p = lbd50 + (lb0b + (1.0 - omega) * ldp - lbd50) * fi
    lba = anomalous_db(
        dtot, dlt, dlr, dct, dcr, dlm, hts, hrs, out[OUT_HTE], out[OUT_HRE], out[OUT_HM],
        out[OUT_THETA_T], out[OUT_THETA_R], f, p, omega, ae, b0,
    )  # fmt: skip
    # Eq (60), eta = 2.5, written as a stable log-sum-exp
    big = max(lba, lb0p)
    lminbap = big + 2.5 * math.log(math.exp((lba - big) / 2.5) + math.exp((lb0p - big) / 2.5))
    lbda = lbd
    if lminbap <= lbd:
        lbda = lminbap + (lbd - lminbap) * fk  # Eq (61)
    lbam = lbda + (lminb0p - lbda) * fj  # Eq (62)
    lbs = troposcatter_db(dtot, theta, f, p, n0)
    lbc = -5.0 * math.log10(10.0 ** (-0.2 * lbs) + 10.0 ** (-0.2 * lbam))  # Eq (63)

    # location variability, §4.7 (none for a receiver at sea), and the result, §4.9-4.10
    lloc = 0.0
    if zone[i0 + n - 1] != ZONE_SEA:
        lloc = -inv_cum_norm(pl / 100.0) * sigma_l
    lb = max(lb0p, lbc + lloc)  # Eq (69)
    ep = 199.36 + 20.0 * math.log10(f) - lb  # Eq (70)

    out[OUT_LB] = lb
    out[OUT_EP] = ep
    out[OUT_LBFS] = lbfs
    out[OUT_LB0P] = lb0p
    out[OUT_LB0B] = lb0b
    out[OUT_LBULLA] = lbulla
    out[OUT_LBULLS] = lbulls
    out[OUT_LDSPH] = ldsph
    out[OUT_LD50] = ld50
    out[OUT_LDB] = ldb
    out[OUT_LDP] = ldp
    out[OUT_LBD50] = lbd50
    out[OUT_LBD] = lbd
    out[OUT_LMINB0P] = lminb0p
    out[OUT_LBA] = lba
    out[OUT_LMINBAP] = lminbap
    out[OUT_LBDA] = lbda
    out[OUT_LBAM] = lbam
    out[OUT_LBS] = lbs
    out[OUT_LBC] = lbc
    out[OUT_LLOC] = lloc
    out[OUT_FI] = fi
    out[OUT_FJ] = fj
    out[OUT_FK] = fk
    return lb


# codes of check_profiles
BAD_NONE = 0
BAD_DISTANCE = 1  # not finite
BAD_HEIGHT = 2
BAD_CLUTTER = 3  # not finite or negative
BAD_ZONE = 4
BAD_FEW_POINTS = 5
BAD_FIRST = 6  # first distance not 0
BAD_ORDER = 7  # not strictly increasing


@njit(cache=True)
def check_profiles(
    d: np.ndarray, h: np.ndarray, r: np.ndarray, zone: np.ndarray, offsets: np.ndarray
) -> tuple[int, int, int]:
    """(code, profile, point) of the first invalid point in profile order, (0, -1, -1) if none."""
    for k in range(offsets.shape[0] - 1):
        a = offsets[k]
        b = offsets[k + 1]
        if b - a < 3:
            return BAD_FEW_POINTS, k, b - a
        for i in range(a, b):
            if not math.isfinite(d[i]):
                return BAD_DISTANCE, k, i - a
            if not math.isfinite(h[i]):
                return BAD_HEIGHT, k, i - a
            if not (r[i] >= 0.0 and math.isfinite(r[i])):
                return BAD_CLUTTER, k, i - a
            z = zone[i]
            if z != ZONE_SEA and z != ZONE_COASTAL and z != ZONE_INLAND:
                return BAD_ZONE, k, i - a
            if i == a:
                if d[i] != 0.0:
                    return BAD_FIRST, k, 0
            elif not d[i] > d[i - 1]:
                return BAD_ORDER, k, i - a
    return BAD_NONE, -1, -1


@njit(cache=True, parallel=True)
def p1812_batch_kernel(
    d: np.ndarray, h: np.ndarray, r: np.ndarray, zone: np.ndarray, offsets: np.ndarray,
    f: np.ndarray, p: np.ndarray, htg: np.ndarray, hrg: np.ndarray, vertical: np.ndarray,
    phi_deg: np.ndarray, delta_n: np.ndarray, n0: np.ndarray, dct: np.ndarray, dcr: np.ndarray,
    pl: np.ndarray, sigma_l: np.ndarray, lbulls_method: int, out: np.ndarray,
) -> None:  # fmt: skip
    """Profile k is the slice ``[offsets[k], offsets[k + 1])``; results into ``out[k, :]``."""
    n_prof = offsets.shape[0] - 1
    for k in prange(n_prof):
        clean_upper()
        i0 = offsets[k]
        p1812_core(
            d, h, r, zone, i0, offsets[k + 1] - i0, f[k], p[k], htg[k], hrg[k], vertical[k],
            phi_deg[k], delta_n[k], n0[k], dct[k], dcr[k], pl[k], sigma_l[k], lbulls_method,
            out[k],
        )  # fmt: skip
