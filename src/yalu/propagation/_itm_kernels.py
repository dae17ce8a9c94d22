"""Numba kernels of the Irregular Terrain Model (ITM v1.4), private to :mod:`yalu.propagation.itm`.

Interface for other kernels (stable; the coverage engine calls it from its own ``@njit`` code)
-------------------------------------------------------------------------------------------------
::

    loss_db = p2p_core(elev, i0, n_intervals, step_m, h_tx_m, h_rx_m, frequency_mhz,
                       climate, n0, polarization, epsilon, sigma, mdvar,
                       time_pct, location_pct, situation_pct, scratch, out)

- ``elev``: 1-D float64 array; the profile is ``elev[i0 : i0 + n_intervals + 1]`` (m above sea
  level), ``elev[i0]`` under the transmitter (terminal 1), equally spaced by ``step_m`` (m).
  ``i0``, ``n_intervals`` (>= 1): int. No copy is made.
- ``h_tx_m``, ``h_rx_m`` (m above ground), ``frequency_mhz``, ``n0`` (N-units), ``epsilon``,
  ``sigma`` (S/m), ``time_pct``, ``location_pct``, ``situation_pct``: float64.
  ``climate`` (1..7), ``polarization`` (0 horizontal, 1 vertical), ``mdvar`` (0..3, +10, +20):
  int64 (pass Python/numpy ints; floats compile a second specialisation).
- ``scratch``: float64 work array, ``len(scratch) >= 256``; ``SCRATCH_LEN`` (768) is faster
  (room for the fast decile selection). One per thread, reused.
- ``out``: float64 array, ``len(out) >= OUT_LEN``; filled with the indices ``OUT_*`` below:
  ``OUT_LOSS`` (dB), ``OUT_RTN`` (0 ok, 1 ok with warnings, >= 1000 reference error code),
  ``OUT_MODE`` (1 LOS, 2 diffraction, 3 troposcatter, 0 on error), ``OUT_WARN`` (bit mask),
  ``OUT_D_KM``, ``OUT_D_HZN_TX``/``OUT_D_HZN_RX`` (m), ``OUT_THETA_TX``/``OUT_THETA_RX`` (rad),
  ``OUT_H_E_TX``/``OUT_H_E_RX`` (m), ``OUT_DELTA_H`` (m), ``OUT_A_REF`` (dB), ``OUT_A_FS`` (dB),
  ``OUT_N_S`` (N-units), ``OUT_D_M`` (path length, m).
- Returns the basic transmission loss (dB), or NaN when ``rtn >= 1000`` (then every
  intermediate in ``out`` is NaN too): the reference's codes 1000-1022, or ``ERR_PROFILE``
  (1100, yalu's own) for fewer than 2 points, a bad step or NaN/infinite elevations.
  Never raises, never allocates. Far outside the model's range (steep foreground, flagged by
  horizon warnings) Vogler's formulas can yield NaN intermediates; the reference's clamps
  (its MAX/MIN macros, see ``_cmax``) then turn them into the same numbers it returns.

Pieces a radial sweep may reuse (all ``@njit``): :func:`find_horizons`, :func:`terrain_delta_h`,
:func:`least_squares_line`, :func:`mean_path_height`, :func:`profile_geometry` (QuickPfl: horizons,
delta h, effective heights), :func:`reference_attenuation` ("given geometry -> A_ref"),
:func:`variability_db`, :func:`free_space_loss_db`, :func:`validate_inputs`,
:func:`ground_impedance`, :func:`surface_refractivity`, :func:`effective_curvature`.

Sources
-------
- [H82] G. A. Hufford, "The ITS Irregular Terrain Model, version 1.2.2: The Algorithm", NTIA/ITS
  (1982/1995), sections and equation numbers as cited below ([Alg, Eq n]).
- [TN101] P. L. Rice et al., "Transmission loss predictions for tropospheric communication
  circuits", NBS Tech. Note 101 (1967).
- [ERL79] A. G. Longley, P. L. Rice, "Prediction of tropospheric radio transmission loss over
  irregular terrain", ESSA Tech. Rep. ERL 79-ITS 67 (1968).
- [V64] L. E. Vogler, "Calculation of groundwave attenuation in the far diffraction region",
  Radio Sci. J. Res. NBS 68D (1964).
- NTIA ITM v1.4 reference documentation (error codes, warning bits, v1.4 corrections).

Arithmetic follows the equations in the published order of operations, in double precision and
without fast-math, so results agree with the reference to rounding.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from yalu.cpu import clean_upper

# ---------------------------------------------------------------------------------------------
# Layout of ``out`` and sizes
OUT_LOSS = 0
OUT_RTN = 1
OUT_MODE = 2
OUT_WARN = 3
OUT_D_KM = 4
OUT_D_HZN_TX = 5
OUT_D_HZN_RX = 6
OUT_THETA_TX = 7
OUT_THETA_RX = 8
OUT_H_E_TX = 9
OUT_H_E_RX = 10
OUT_DELTA_H = 11
OUT_A_REF = 12
OUT_A_FS = 13
OUT_N_S = 14
OUT_D_M = 15
OUT_LEN = 16
SCRATCH_LEN = 768

# Return codes (NTIA ITM v1.4 reference)
RTN_SUCCESS = 0
RTN_SUCCESS_WITH_WARNINGS = 1
ERR_TX_TERMINAL_HEIGHT = 1000
ERR_RX_TERMINAL_HEIGHT = 1001
ERR_RADIO_CLIMATE = 1002
ERR_TIME = 1003
ERR_LOCATION = 1004
ERR_SITUATION = 1005
ERR_REFRACTIVITY = 1008
ERR_FREQUENCY = 1009
ERR_POLARIZATION = 1010
ERR_EPSILON = 1011
ERR_SIGMA = 1012
ERR_GROUND_IMPEDANCE = 1013
ERR_MDVAR = 1014
ERR_EFFECTIVE_EARTH = 1016
ERR_PATH_DISTANCE = 1017
ERR_DELTA_H = 1018
ERR_TX_SITING = 1019
ERR_RX_SITING = 1020
ERR_SURFACE_REFRACTIVITY_SMALL = 1021
ERR_SURFACE_REFRACTIVITY_LARGE = 1022
# yalu's own code (not in the reference): the profile itself is unusable (fewer than 2 points,
# step <= 0 or non-finite, NaN/void elevations).
ERR_PROFILE = 1100

# Warning bits (NTIA ITM v1.4 reference)
W_TX_HEIGHT = 0x0001
W_RX_HEIGHT = 0x0002
W_FREQUENCY = 0x0004
W_DISTANCE_BIG_1 = 0x0008
W_DISTANCE_BIG_2 = 0x0010
W_DISTANCE_SMALL_1 = 0x0020
W_DISTANCE_SMALL_2 = 0x0040
W_TX_HORIZON_ANGLE = 0x0080
W_RX_HORIZON_ANGLE = 0x0100
W_TX_HORIZON_DISTANCE_1 = 0x0200
W_RX_HORIZON_DISTANCE_1 = 0x0400
W_TX_HORIZON_DISTANCE_2 = 0x0800
W_RX_HORIZON_DISTANCE_2 = 0x1000
W_EXTREME_VARIABILITIES = 0x2000
W_SURFACE_REFRACTIVITY = 0x4000

MODE_LOS = 1
MODE_DIFFRACTION = 2
MODE_TROPOSCATTER = 3

# Physical constants of the model
_PI = 3.1415926535897932384
_SQRT2 = math.sqrt(2.0)
_GAMMA_A_PER_M = 157e-9  # curvature of the actual earth [Alg, Eq 1.1]
_A_0_M = 6370e3  # earth radius of Vogler's normalisation [V64]
_A_9000_M = 9000e3  # effective radius used for the effective distance [Alg, Eq 5.3]
_THIRD = 1.0 / 3.0
_WN_PER_MHZ = 1.0 / 47.7  # wave number k = f / 47.7 (1/m, f in MHz) [Alg, Eq 1.4]

# Climate tables [Alg, Sec 5, Table 5.1], from [TN101, Fig 10.13] (curves of [TN101v2, III.69-70]).
# Rows: climates 1..7.
_V_MED = np.array(
    [  # c1, c2, x1, x2, x3 of the median curve V(0.5, d_e)
        [-9.67, 12.7, 144.9e3, 190.3e3, 133.8e3],
        [-0.62, 9.19, 228.9e3, 205.2e3, 143.6e3],
        [1.26, 15.5, 262.6e3, 185.2e3, 99.8e3],
        [-9.21, 9.05, 84.1e3, 101.1e3, 98.6e3],
        [-0.62, 9.19, 228.9e3, 205.2e3, 143.6e3],
        [-0.39, 2.86, 141.7e3, 315.9e3, 167.4e3],
        [3.15, 857.9, 2222.0e3, 164.8e3, 116.3e3],
    ]
)
_SIGMA_T_MINUS = np.array(
    [
        [2.13, 159.5, 762.2e3, 123.6e3, 94.5e3],
        [2.66, 7.67, 100.4e3, 172.5e3, 136.4e3],
        [6.11, 6.65, 138.2e3, 242.2e3, 178.6e3],
        [1.98, 13.11, 139.1e3, 132.7e3, 193.5e3],
        [2.68, 7.16, 93.7e3, 186.8e3, 133.5e3],
        [6.86, 10.38, 187.8e3, 169.6e3, 108.9e3],
        [8.51, 169.8, 609.8e3, 119.9e3, 106.6e3],
    ]
)
_SIGMA_T_PLUS = np.array(
    [
        [2.11, 102.3, 636.9e3, 134.8e3, 95.6e3],
        [6.87, 15.53, 138.7e3, 143.7e3, 98.6e3],
        [10.08, 9.60, 165.3e3, 225.7e3, 129.7e3],
        [3.68, 159.3, 464.4e3, 93.1e3, 94.2e3],
        [4.75, 8.12, 93.2e3, 135.9e3, 113.4e3],
        [8.58, 13.97, 216.0e3, 152.0e3, 122.7e3],
        [8.43, 8.19, 136.2e3, 188.5e3, 122.9e3],
    ]
)
# C_D, z_D [Alg, Table 5.1]; frequency gain factors g-(f), g+(f) as b1 + b2 / ((b3 q)^2 + 1)
_C_D = np.array([1.224, 0.801, 1.380, 1.000, 1.224, 1.518, 1.518])
_Z_D = np.array([1.282, 2.161, 1.282, 20.0, 1.282, 1.282, 1.282])
_G_MINUS = np.array(
    [
        [1.0, 0.0, 0.0],
        [1.0, 0.0, 0.0],
        [1.0, 0.0, 0.0],
        [1.0, 0.0, 0.0],
        [0.92, 0.25, 1.77],
        [1.0, 0.0, 0.0],
        [1.0, 0.0, 0.0],
    ]
)
_G_PLUS = np.array(
    [
        [1.0, 0.0, 0.0],
        [0.93, 0.31, 2.00],
        [1.0, 0.0, 0.0],
        [0.93, 0.19, 1.79],
        [0.93, 0.31, 2.00],
        [1.0, 0.0, 0.0],
        [1.0, 0.0, 0.0],
    ]
)
# H_01(r, j) curve coefficients, eta_s = 1..5 [Alg, Eq 6.13]
_H0_A = np.array([25.0, 80.0, 177.0, 395.0, 705.0])
_H0_B = np.array([24.0, 45.0, 68.0, 80.0, 105.0])


# ---------------------------------------------------------------------------------------------
# Small helpers


# The reference clamps with the macros MAX(x, y) = x > y ? x : y and MIN(x, y) = x < y ? x : y
# (and DIM(x, y) = x > y ? x - y : 0). When either argument is NaN their comparison is false and
# they return the SECOND argument, where Python's and numba's max/min return the first. Far
# outside ITM's range (e.g. a few metres past a tall ridge: a negative Vogler distance gives
# log10 < 0 = NaN) that decides whether the loss is NaN or the reference's clamped value, so
# every clamp here keeps the reference's argument order and these semantics.


@njit(cache=True, inline="always")
def _cmax(x: float, y: float) -> float:
    """The reference's MAX(x, y): y unless x > y (so y when either is NaN)."""
    return x if x > y else y


@njit(cache=True, inline="always")
def _cmin(x: float, y: float) -> float:
    """The reference's MIN(x, y): y unless x < y (so y when either is NaN)."""
    return x if x < y else y


@njit(cache=True, inline="always")
def _fdim(x: float, y: float) -> float:
    """The reference's DIM(x, y) macro: x - y when x > y, else 0 (also 0 when either is NaN)."""
    return x - y if x > y else 0.0


@njit(cache=True, inline="always")
def _c_fdim(x: float, y: float) -> float:
    """C's fdim(x, y) (used by the reference's QuickPfl): NaN when either is NaN."""
    if x != x or y != y:
        return math.nan
    return x - y if x > y else 0.0


@njit(cache=True)
def validate_inputs(
    h_tx_m: float,
    h_rx_m: float,
    climate: int,
    n0: float,
    frequency_mhz: float,
    polarization: int,
    epsilon: float,
    sigma: float,
    mdvar: int,
    time_pct: float,
    location_pct: float,
    situation_pct: float,
) -> tuple[int, int]:
    """Input checks common to both modes; returns ``(rtn, warnings)``.

    Limits, their order and the warning thresholds are those of the ITM v1.4 reference
    documentation. Non-finite values are rejected with the parameter's code.
    """
    warn = 0
    if h_tx_m < 1.0 or h_tx_m > 1000.0:
        warn |= W_TX_HEIGHT
    if not (0.5 <= h_tx_m <= 3000.0):
        return ERR_TX_TERMINAL_HEIGHT, warn
    if h_rx_m < 1.0 or h_rx_m > 1000.0:
        warn |= W_RX_HEIGHT
    if not (0.5 <= h_rx_m <= 3000.0):
        return ERR_RX_TERMINAL_HEIGHT, warn
    if climate < 1 or climate > 7:
        return ERR_RADIO_CLIMATE, warn
    if not (250.0 <= n0 <= 400.0):
        return ERR_REFRACTIVITY, warn
    if frequency_mhz < 40.0 or frequency_mhz > 10000.0:
        warn |= W_FREQUENCY
    if not (20.0 <= frequency_mhz <= 20000.0):
        return ERR_FREQUENCY, warn
    if polarization != 0 and polarization != 1:
        return ERR_POLARIZATION, warn
    if not (epsilon >= 1.0) or not math.isfinite(epsilon):
        return ERR_EPSILON, warn
    if not (sigma > 0.0) or not math.isfinite(sigma):
        return ERR_SIGMA, warn
    base = mdvar % 10
    if mdvar < 0 or mdvar > 33 or base > 3:
        return ERR_MDVAR, warn
    if not (0.0 < situation_pct < 100.0):
        return ERR_SITUATION, warn
    if not (0.0 < time_pct < 100.0):
        return ERR_TIME, warn
    if not (0.0 < location_pct < 100.0):
        return ERR_LOCATION, warn
    return RTN_SUCCESS, warn


@njit(cache=True)
def surface_refractivity(n0: float, h_sys_m: float) -> float:
    """Surface refractivity N_s (N-units) at mean path height h_sys [TN101, Eq 4.3]."""
    if h_sys_m == 0.0:
        return n0
    return n0 * math.exp(-h_sys_m / 9460.0)


@njit(cache=True)
def effective_curvature(n_s: float) -> float:
    """Curvature gamma_e (1/m) of the effective earth [Alg, Eq 1.2; TN101, Eq 4.4]."""
    return _GAMMA_A_PER_M * (1.0 - 0.04665 * math.exp(n_s / 179.3))


@njit(cache=True)
def _csqrt(x: float, y: float) -> complex:
    """Principal square root of x + iy by the half-angle formulas.

    Exact for x == 0 (real part equal to |imaginary part|), which decides the ground-impedance
    check at epsilon = 1.
    """
    if x == 0.0:
        r = math.sqrt(0.5 * abs(y))
        return complex(r, math.copysign(r, y))
    d = math.hypot(x, y)
    if x > 0.0:
        r = math.sqrt(0.5 * (d + x))
        return complex(r, 0.5 * (y / r))
    s = math.sqrt(0.5 * (d - x))
    return complex(abs(0.5 * (y / s)), math.copysign(s, y))


@njit(cache=True)
def ground_impedance(
    frequency_mhz: float, polarization: int, epsilon: float, sigma: float
) -> complex:
    """Surface transfer impedance Z_g of the ground [Alg, Eq 1.5-1.6]."""
    eps_r = complex(epsilon, 18000.0 * sigma / frequency_mhz)
    z_g = _csqrt(epsilon - 1.0, 18000.0 * sigma / frequency_mhz)
    if polarization == 1:
        z_g = z_g / eps_r
    return z_g


@njit(cache=True)
def free_space_loss_db(d_m: float, frequency_mhz: float) -> float:
    """Free-space basic transmission loss (dB)."""
    return 32.45 + 20.0 * math.log10(frequency_mhz) + 20.0 * math.log10(d_m / 1000.0)


@njit(cache=True)
def mean_path_height(elev: np.ndarray, i0: int, n_intervals: int) -> float:
    """Mean terrain height (m) over the profile without its first and last tenth (v1.4 h_sys)."""
    p10 = int(0.1 * n_intervals)
    total = 0.0
    for k in range(p10, n_intervals - p10 + 1):
        total += elev[i0 + k]
    return total / (n_intervals - 2 * p10 + 1)


# ---------------------------------------------------------------------------------------------
# Terrain profile analysis [Alg, Sec 3 "point-to-point"], ITM v1.4 QuickPfl


@njit(cache=True, inline="always")
def _height_range(elev: np.ndarray, i0: int, n_intervals: int) -> tuple[float, float]:
    z_lo = elev[i0]
    z_hi = elev[i0]
    for k in range(1, n_intervals + 1):
        z = elev[i0 + k]
        z_lo = min(z_lo, z)
        z_hi = max(z_hi, z)
    return z_lo, z_hi


@njit(cache=True)
def find_horizons(
    elev: np.ndarray,
    i0: int,
    n_intervals: int,
    step_m: float,
    a_e_m: float,
    h_tx_m: float,
    h_rx_m: float,
) -> tuple[float, float, float, float]:
    """Horizon elevation angles and distances of both terminals [Alg, Eq 3.6; TN101, Eq 6.15].

    Returns ``(theta_tx_rad, theta_rx_rad, d_hzn_tx_m, d_hzn_rx_m)``. Without an obstructing
    point each terminal "sees" the other one, at the path length.
    """
    z_lo, z_hi = _height_range(elev, i0, n_intervals)
    return horizons_in_range(elev, i0, n_intervals, step_m, a_e_m, h_tx_m, h_rx_m, z_lo, z_hi)


@njit(cache=True)
def horizons_in_range(
    elev: np.ndarray,
    i0: int,
    n_intervals: int,
    step_m: float,
    a_e_m: float,
    h_tx_m: float,
    h_rx_m: float,
    z_lo: float,
    z_hi: float,
) -> tuple[float, float, float, float]:
    """:func:`find_horizons` given the profile's lowest and highest heights ``z_lo``, ``z_hi``
    [m] (a caller that builds the profile has them for free)."""
    theta_tx, theta_rx, d_hzn_tx, d_hzn_rx, _near = horizons_near_tie(
        elev, i0, n_intervals, step_m, a_e_m, h_tx_m, h_rx_m, z_lo, z_hi
    )
    return theta_tx, theta_rx, d_hzn_tx, d_hzn_rx


@njit(cache=True)
def horizons_near_tie(
    elev: np.ndarray,
    i0: int,
    n_intervals: int,
    step_m: float,
    a_e_m: float,
    h_tx_m: float,
    h_rx_m: float,
    z_lo: float,
    z_hi: float,
) -> tuple[float, float, float, float, bool]:
    """:func:`horizons_in_range` (the same bits), and whether either end's horizon is a near
    tie: another sample (or the other terminal) within ``5e-10`` of the angles' scale of the
    winning angle. The scan keeps the first of equal angles, so on a near tie the reversed
    profile, whose sums round differently, may pick another sample."""
    d_m = n_intervals * step_m
    z_tx = elev[i0] + h_tx_m
    z_rx = elev[i0 + n_intervals] + h_rx_m
    two_a = 2 * a_e_m
    theta_tx = (z_rx - z_tx) / d_m - d_m / two_a
    theta_rx = -(z_rx - z_tx) / d_m - d_m / two_a
    d_hzn_tx = d_m
    d_hzn_rx = d_m
    x_tx = 0.0
    x_rx = d_m
    # Screen without divisions: theta = (z - z_t) / x - x / 2a_e beats the running maximum
    # only if z > z_t + x (x / 2a_e + theta_max) (x > 0). ``margin`` (1e-9 of the largest terms
    # the test can hold) exceeds its rounding, so every point that could win is then decided
    # by the exact formula, in the reference's order.
    inv_two_a = 1.0 / two_a
    span = (z_hi - z_lo) + max(h_tx_m, h_rx_m)
    theta_bound = max(abs(theta_tx), abs(theta_rx)) + span / step_m + d_m * inv_two_a
    margin = 1e-9 * (abs(z_lo) + abs(z_hi) + span + d_m * d_m * inv_two_a + theta_bound * d_m)
    base_tx = z_tx - margin
    base_rx = z_rx - margin
    # a sample within ``tie`` below the running maximum passes the screen (margin / x >=
    # 1e-9 theta_bound), so near ties are seen
    tie = 5e-10 * theta_bound
    near_tx = False
    near_rx = False
    for k in range(1, n_intervals):
        # running sums, not k * step: horizon ties resolve as in the reference
        x_tx = x_tx + step_m
        x_rx = x_rx - step_m
        z = elev[i0 + k]
        # z above the current horizon ray z_t + x (x / 2a_e + theta), less the margin
        if z > base_tx + x_tx * (x_tx * inv_two_a + theta_tx):
            t_tx = (z - z_tx) / x_tx - x_tx / two_a
            if t_tx > theta_tx:
                near_tx = t_tx - theta_tx <= tie
                theta_tx = t_tx
                d_hzn_tx = x_tx
            elif theta_tx - t_tx <= tie:
                near_tx = True
        if z > base_rx + x_rx * (x_rx * inv_two_a + theta_rx):
            t_rx = -(z_rx - z) / x_rx - x_rx / two_a
            if t_rx > theta_rx:
                near_rx = t_rx - theta_rx <= tie
                theta_rx = t_rx
                d_hzn_rx = x_rx
            elif theta_rx - t_rx <= tie:
                near_rx = True
    return theta_tx, theta_rx, d_hzn_tx, d_hzn_rx, near_tx or near_rx


@njit(cache=True)
def least_squares_line(
    z: np.ndarray, j0: int, n_intervals: int, step: float, x_start: float, x_end: float
) -> tuple[float, float]:
    """Least-squares straight line through ``z[j0 + k]``, k = 0..n, on the window [x_start, x_end].

    The window is widened to whole samples inside the profile; end samples get half weight
    (trapezoidal sums) [Alg, Sec 3, "zlsq1"]. Returns the fitted heights at both ends of the
    whole profile, ``(z_fit_at_0, z_fit_at_end)``.
    """
    k_lo = int(_fdim(x_start / step, 0.0))
    k_hi = n_intervals - int(_fdim(n_intervals, x_end / step))
    if k_hi <= k_lo:
        k_lo = int(_fdim(k_lo, 1.0))
        k_hi = n_intervals - int(_fdim(n_intervals, k_hi + 1.0))
    width = float(k_hi - k_lo)
    u = -0.5 * width  # abscissa relative to the window centre
    u_end = k_hi + u
    s0 = 0.5 * (z[j0 + k_lo] + z[j0 + k_hi])
    s1 = 0.5 * (z[j0 + k_lo] - z[j0 + k_hi]) * u
    k = k_lo
    for _ in range(2, int(width) + 1):
        k += 1
        u += 1.0
        zk = z[j0 + k]
        s0 += zk
        s1 += zk * u
    mean = s0 / width
    slope = s1 * 12.0 / ((width * width + 2.0) * width)
    return mean - slope * u_end, mean + slope * (n_intervals - u_end)


@njit(cache=True)
def _select_kth(a: np.ndarray, lo: int, hi: int, k: int) -> float:
    """k-th smallest (0-based, lo <= k <= hi) of a[lo:hi+1], reordering it in place (Hoare)."""
    while hi > lo:
        pivot = a[(lo + hi) // 2]
        i = lo
        j = hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                t = a[i]
                a[i] = a[j]
                a[j] = t
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            return a[k]
    return a[k]


@njit(cache=True)
def _kth_by_rank(a: np.ndarray, lo: int, hi: int, k: int) -> float:
    """k-th smallest (lo <= k <= hi) of a[lo:hi+1] by counting ranks; for small groups."""
    r = k - lo
    for i in range(lo, hi + 1):
        v = a[i]
        less = 0
        equal = 0
        for j in range(lo, hi + 1):
            less += a[j] < v
            equal += a[j] == v
        if less <= r < less + equal:
            return v
    return a[k]  # not reached


@njit(cache=True)
def _kth_in_group(a: np.ndarray, lo: int, hi: int, k: int) -> float:
    if hi - lo < 40:
        return _kth_by_rank(a, lo, hi, k)
    return _select_kth(a, lo, hi, k)


@njit(cache=True)
def _decile_range(a: np.ndarray, n: int, k: int) -> float:
    """k-th largest minus k-th smallest of a[0:n] (k <= n / 2); exact order statistics.

    Fast path (needs ``len(a) >= 3 n``): the elements beyond +-f standard deviations
    (f = 1.05, then 0.5) are copied into a[n:2n] and a[2n:3n] in one branch-free pass; when each
    tail holds at least k elements the k-th largest / smallest lie inside it. Otherwise, a
    selection over the whole array.
    """
    if a.shape[0] >= 3 * n:
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        s3 = 0.0
        m4 = n - n % 4
        for j in range(0, m4, 4):
            s0 += a[j] * a[j]
            s1 += a[j + 1] * a[j + 1]
            s2 += a[j + 2] * a[j + 2]
            s3 += a[j + 3] * a[j + 3]
        for j in range(m4, n):
            s0 += a[j] * a[j]
        sd = math.sqrt((s0 + s1 + s2 + s3) / n)
        for f in (1.05, 0.5):
            cut = f * sd
            c_top = n
            c_bot = 2 * n
            for j in range(n):
                v = a[j]
                a[c_top] = v
                c_top += v > cut
                a[c_bot] = v
                c_bot += v < -cut
            if cut > 0.0 and c_top - n >= k and c_bot - 2 * n >= k:
                top = _kth_in_group(a, n, c_top - 1, c_top - k)
                bottom = _kth_in_group(a, 2 * n, c_bot - 1, 2 * n + k - 1)
                return top - bottom
    top = _select_kth(a, 0, n - 1, n - k)
    bottom = _select_kth(a, 0, n - 1, k - 1)
    return top - bottom


@njit(cache=True)
def terrain_delta_h(
    elev: np.ndarray,
    i0: int,
    n_intervals: int,
    step_m: float,
    d_start_m: float,
    d_end_m: float,
    scratch: np.ndarray,
) -> float:
    """Terrain irregularity parameter delta_h (m) between d_start and d_end [Alg, Sec 3 "dlthx"].

    The window is resampled at n = 10 p10 - 5 equally spaced points (p10 = 4..25), a least-squares
    line is removed, and the interdecile range of the residuals is scaled to an infinite path with
    delta_h(d) = delta_h (1 - 0.8 exp(-d / 50 km)) inverted [ERL79, Eq 3]. ``scratch`` holds the
    samples: >= 247 floats, ``SCRATCH_LEN`` for the fast selection.
    """
    x_lo = d_start_m / step_m
    x_hi = d_end_m / step_m
    if x_hi - x_lo < 2.0:
        return 0.0
    p10 = int(0.1 * (x_hi - x_lo + 8.0))
    p10 = min(max(4, p10), 25)
    n = 10 * p10 - 5
    n_gaps = float(n - 1)
    dx = (x_hi - x_lo) / n_gaps
    k = int(x_lo)
    x = x_lo - float(k + 1)  # offset from sample k + 1, in [-1, 0)
    e1 = elev[i0 + k + 1]
    scratch[0] = e1 + (e1 - elev[i0 + k]) * x
    # Later samples: step by dx, then move to the interval holding x, i.e. subtract 1.0 while
    # x > 0 and a sample remains. Those subtractions are exact (x >= 1 before all but the
    # last), so one subtraction of ceil(x) gives the identical value; and since x lies in
    # [dx - 1, dx], ceil(x) is ceil(dx) - 1 or ceil(dx), found by one comparison.
    x += dx
    j_lo = math.ceil(dx) - 1.0
    j_hi = j_lo + 1.0
    k_f = float(k)
    last = float(n_intervals - 1)
    j = 1
    if dx >= 0.5:
        # Fast path. For dx >= 0.5 both dx - j_lo and dx - j_hi are exact, so the next offset
        # fl((x - jump) + dx) equals fl(x + (dx - jump)): one rounded addition per sample
        # instead of a subtract-then-add chain, with the same result.
        c_lo = dx - j_lo
        c_hi = dx - j_hi
        while j < n:
            up = x > j_lo
            jump = j_hi if up else j_lo
            if k_f + jump > last:
                break  # the profile end is reached: finish below
            offset = x - jump
            x = (x + c_hi) if up else (x + c_lo)
            k_f += jump
            kk = int(k_f)
            e1 = elev[i0 + kk + 1]
            scratch[j] = e1 + (e1 - elev[i0 + kk]) * offset
            j += 1
    while j < n:
        jump = j_hi if x > j_lo else j_lo
        if k_f + jump > last:
            jump = max(last - k_f, 0.0)
        x = x - jump
        k_f += jump
        kk = int(k_f)
        e1 = elev[i0 + kk + 1]
        scratch[j] = e1 + (e1 - elev[i0 + kk]) * x
        x += dx
        j += 1
    return delta_h_of_samples(scratch, n, p10, d_end_m - d_start_m)


@njit(cache=True)
def delta_h_of_samples(scratch: np.ndarray, n: int, p10: int, length_m: float) -> float:
    """The end of :func:`terrain_delta_h`: ``scratch[0:n]`` holds the window's ``n = 10 p10 - 5``
    equally spaced samples over ``length_m`` [m]; a least-squares line is removed and the
    interdecile range of the residuals scaled to an infinite path [Alg, Sec 3 "dlthx"; ERL79,
    Eq 3]. ``scratch`` as for :func:`terrain_delta_h` (its samples are overwritten)."""
    n_gaps = float(n - 1)
    fit_0, fit_1 = least_squares_line(scratch, 0, n - 1, 1.0, 0.0, n_gaps)
    slope = (fit_1 - fit_0) / n_gaps
    line = fit_0
    for j in range(n):
        scratch[j] = scratch[j] - line
        line += slope
    # interdecile range: p10-th largest minus p10-th smallest residual
    spread = _decile_range(scratch, n, p10)
    return spread / (1.0 - 0.8 * math.exp(-length_m / 50e3))


@njit(cache=True)
def _horizon_from_height(h_e_m: float, a_e_m: float, delta_h_m: float) -> float:
    """Horizon distance over irregular terrain [Alg, Eq 3.3]: d_Ls exp(-0.07 sqrt(dh / he))."""
    return math.sqrt(2.0 * h_e_m * a_e_m) * math.exp(
        -0.07 * math.sqrt(delta_h_m / _cmax(h_e_m, 5.0))
    )


@njit(cache=True)
def profile_geometry(
    elev: np.ndarray,
    i0: int,
    n_intervals: int,
    step_m: float,
    h_tx_m: float,
    h_rx_m: float,
    gamma_e: float,
    scratch: np.ndarray,
) -> tuple[float, float, float, float, float, float, float]:
    """Path geometry from a terrain profile (ITM v1.4 "QuickPfl"; [Alg, Sec 3; H82 p. 25]).

    Returns ``(theta_tx, theta_rx, d_hzn_tx_m, d_hzn_rx_m, h_e_tx_m, h_e_rx_m, delta_h_m)``.
    Terrain is considered from 15 tower heights (or a tenth of the horizon distance) away from
    each terminal. Effective heights stand above a least-squares line fitted to the foreground;
    on clearly line-of-sight paths horizons come from the area-mode formulas [Alg, Eq 3.2-3.4].
    """
    z_lo, z_hi = _height_range(elev, i0, n_intervals)
    return profile_geometry_in_range(
        elev, i0, n_intervals, step_m, h_tx_m, h_rx_m, gamma_e, scratch, z_lo, z_hi
    )


@njit(cache=True)
def profile_geometry_in_range(
    elev: np.ndarray,
    i0: int,
    n_intervals: int,
    step_m: float,
    h_tx_m: float,
    h_rx_m: float,
    gamma_e: float,
    scratch: np.ndarray,
    z_lo: float,
    z_hi: float,
) -> tuple[float, float, float, float, float, float, float]:
    """:func:`profile_geometry` given the profile's lowest and highest heights [m]."""
    theta_tx, theta_rx, d_hzn_tx, d_hzn_rx, h_e_tx, h_e_rx, delta_h, _clear = (
        profile_geometry_mirrors(
            elev, i0, n_intervals, step_m, h_tx_m, h_rx_m, gamma_e, scratch, z_lo, z_hi
        )
    )
    return theta_tx, theta_rx, d_hzn_tx, d_hzn_rx, h_e_tx, h_e_rx, delta_h


@njit(cache=True, inline="always")
def _near_whole(v: float) -> bool:
    """``v`` (in sample units, >= 0) within 1e-7 of a whole number: an ``int()`` of it may
    differ between a profile and its reverse, whose sums round differently."""
    return abs(v - math.floor(v + 0.5)) <= 1e-7


@njit(cache=True)
def profile_geometry_mirrors(
    elev: np.ndarray,
    i0: int,
    n_intervals: int,
    step_m: float,
    h_tx_m: float,
    h_rx_m: float,
    gamma_e: float,
    scratch: np.ndarray,
    z_lo: float,
    z_hi: float,
) -> tuple[float, float, float, float, float, float, float, bool]:
    """:func:`profile_geometry_in_range` (the same bits) and whether the reversed profile, with
    the heights swapped, gives this geometry mirrored (ends swapped) up to rounding.

    Every step of QuickPfl treats the two ends alike: the mean height, both horizon scans, the
    windows ``[min(15 h_tx, d_L1 / 10), d - min(15 h_rx, d_L2 / 10)]`` and ``0.9 d_L`` from
    each end, the least-squares line (its window widened to whole samples the same way from
    either end), delta_h's equally spaced resampling and its interdecile range, the smooth-earth
    horizons [Alg, Sec 3]. In exact arithmetic the reversed profile's geometry is this one
    mirrored. In floating point the continuous parts differ by rounding (1e-12 relative), but a
    discrete choice near its threshold can go the other way and move the loss by up to a few
    dB: a horizon near tie (a sample on the line of sight included), a window end within
    rounding of a whole sample (``d_L / 10`` of a line-of-sight path with a multiple of 10
    intervals lands exactly on one) or delta_h's sample count ``10 p10 - 5``. The flag is False
    when any of them is within rounding of its threshold (1e-7 samples; 5e-10 of the angles'
    scale for horizons).
    """
    d_m = n_intervals * step_m
    a_e = 1 / gamma_e
    theta_tx, theta_rx, d_hzn_tx, d_hzn_rx, near = horizons_near_tie(
        elev, i0, n_intervals, step_m, a_e, h_tx_m, h_rx_m, z_lo, z_hi
    )
    x_start = _cmin(15.0 * h_tx_m, 0.1 * d_hzn_tx)
    x_end = d_m - _cmin(15.0 * h_rx_m, 0.1 * d_hzn_rx)
    delta_h = terrain_delta_h(elev, i0, n_intervals, step_m, x_start, x_end, scratch)
    e_tx = elev[i0]
    e_rx = elev[i0 + n_intervals]
    clear = not near
    # delta_h: no resampling below 2 samples; the count follows int(0.1 (w + 8)) in 4..25
    w = x_end / step_m - x_start / step_m
    v = 0.1 * (w + 8.0)
    if abs(w - 2.0) <= 1e-7 or (v > 4.5 and v < 25.5 and _near_whole(v)):
        clear = False
    # the line-of-sight test needs no check: a path is clear from both ends (d_L1 + d_L2 =
    # 2 d) or obstructed from both (<= d), unless a sample lies on the line of sight, which
    # is a horizon near tie
    los = d_hzn_tx + d_hzn_rx > 1.5 * d_m
    # the least-squares windows' ends as the fits cut them: int(x / step) from the tx end,
    # n - int(n - x / step) from the rx end; the reverse cuts the same ends from the other side
    a = x_start / step_m
    b = n_intervals - x_end / step_m
    if _near_whole(a) or _near_whole(b):
        clear = False
    if not los and (
        _near_whole(n_intervals - 0.9 * d_hzn_tx / step_m)
        or _near_whole((d_m - 0.9 * d_hzn_rx) / step_m)
    ):
        clear = False
    if los:
        fit_tx, fit_rx = least_squares_line(elev, i0, n_intervals, step_m, x_start, x_end)
        h_e_tx, h_e_rx, d_hzn_tx, d_hzn_rx, theta_tx, theta_rx = smooth_horizons(
            h_tx_m + _c_fdim(e_tx, fit_tx), h_rx_m + _c_fdim(e_rx, fit_rx), d_m, a_e, delta_h
        )
    else:
        fit_tx, _unused = least_squares_line(elev, i0, n_intervals, step_m, x_start, 0.9 * d_hzn_tx)
        h_e_tx = h_tx_m + _c_fdim(e_tx, fit_tx)
        _unused, fit_rx = least_squares_line(
            elev, i0, n_intervals, step_m, d_m - 0.9 * d_hzn_rx, x_end
        )
        h_e_rx = h_rx_m + _c_fdim(e_rx, fit_rx)
    return theta_tx, theta_rx, d_hzn_tx, d_hzn_rx, h_e_tx, h_e_rx, delta_h, clear


@njit(cache=True)
def smooth_horizons(
    h_e_tx: float, h_e_rx: float, d_m: float, a_e: float, delta_h: float
) -> tuple[float, float, float, float, float, float]:
    """QuickPfl for a path whose terrain horizons lie beyond 1.5 d: horizons, heights and angles
    from the effective heights over a smooth earth [Alg, Sec 3; ITM v1.4 QuickPfl].

    Horizon distances follow from the effective heights (:func:`_horizon_from_height`); when they
    do not reach each other both heights are stretched by ``(d / (d1 + d2))**2``. Returns
    ``(h_e_tx, h_e_rx, d_hzn_tx, d_hzn_rx, theta_tx, theta_rx)``.
    """
    d_hzn_tx = _horizon_from_height(h_e_tx, a_e, delta_h)
    d_hzn_rx = _horizon_from_height(h_e_rx, a_e, delta_h)
    d_sum = d_hzn_tx + d_hzn_rx
    if d_sum <= d_m:
        # stretch heights so that the horizons just reach each other
        ratio = d_m / d_sum
        q = ratio * ratio
        h_e_tx = h_e_tx * q
        d_hzn_tx = _horizon_from_height(h_e_tx, a_e, delta_h)
        h_e_rx = h_e_rx * q
        d_hzn_rx = _horizon_from_height(h_e_rx, a_e, delta_h)
    d_ls = math.sqrt(2.0 * h_e_tx * a_e)
    theta_tx = (0.65 * delta_h * (d_ls / d_hzn_tx - 1.0) - 2.0 * h_e_tx) / d_ls
    d_ls = math.sqrt(2.0 * h_e_rx * a_e)
    theta_rx = (0.65 * delta_h * (d_ls / d_hzn_rx - 1.0) - 2.0 * h_e_rx) / d_ls
    return h_e_tx, h_e_rx, d_hzn_tx, d_hzn_rx, theta_tx, theta_rx


@njit(cache=True)
def area_geometry(
    siting: int, h_m: float, gamma_e: float, delta_h_m: float
) -> tuple[float, float, float]:
    """Effective height, horizon distance and angle of one terminal in area mode [Alg, Eq 3.2-3.4].

    Returns ``(h_e_m, d_hzn_m, theta_hzn_rad)``.
    """
    if siting == 0:
        h_e = h_m
    else:
        b = 4.0 if siting == 1 else 9.0
        if h_m < 5.0:
            b = b * math.sin(0.1 * _PI * h_m)
        h_e = h_m + (1.0 + b) * math.exp(-_cmin(20.0, 2.0 * h_m / _cmax(1e-3, delta_h_m)))
    d_ls = math.sqrt(2.0 * h_e / gamma_e)
    d_hzn = d_ls * math.exp(-0.07 * math.sqrt(delta_h_m / _cmax(h_e, 5.0)))
    theta = (0.65 * delta_h_m * (d_ls / d_hzn - 1.0) - 2.0 * h_e) / d_ls
    return h_e, d_hzn, theta


# ---------------------------------------------------------------------------------------------
# Reference attenuation [Alg, Sec 4 "lrprop"]


@njit(cache=True, inline="always")
def _roughness_at(d_m: float, delta_h_m: float) -> float:
    """delta_h(d) = delta_h (1 - 0.8 exp(-d / 50 km)) [ERL79, Eq 3; Alg, Eq 3.9]."""
    return delta_h_m * (1.0 - 0.8 * math.exp(-d_m / 50e3))


@njit(cache=True, inline="always")
def _sigma_h(delta_h_m: float) -> float:
    """RMS terrain deviation within the first Fresnel zone [ERL79, Eq 3.6a; Alg, Eq 4.31]."""
    return 0.78 * delta_h_m * math.exp(-0.5 * delta_h_m**0.25)


@njit(cache=True, inline="always")
def _fresnel_knife_edge_db(v2: float) -> float:
    """Knife-edge loss A(v, 0) as a function of v^2 [TN101v2, Eq III.24; Alg, Eq 6.1]."""
    if v2 < 5.76:  # v < 2.4
        return 6.02 + 9.11 * math.sqrt(v2) - 1.27 * v2
    return 12.953 + 10 * math.log10(v2)


@njit(cache=True)
def _height_gain_db(x_km: float, k: float) -> float:
    """Vogler's height-gain function F(x, K) [Alg, Eq 6.2-6.5; V64]."""
    if x_km < 200.0:
        w = -math.log(k)
        if k < 1e-5 or x_km * w**3.0 > 5495.0:
            f = -117.0
            if x_km > 1.0:
                f = 17.372 * math.log(x_km) + f
        else:
            f = 2.5e-5 * x_km * x_km / k - 8.686 * w - 15.0
    else:
        f = 0.05751 * x_km - 4.343 * math.log(x_km)
        if x_km < 2000:
            w = 0.0134 * x_km * math.exp(-0.005 * x_km)
            f = (1.0 - w) * f + w * (17.372 * math.log(x_km) - 117.0)
    return f


@njit(cache=True)
def _diffraction_terms(
    frequency_mhz: float,
    d_hzn_tx: float,
    d_hzn_rx: float,
    h_e_tx: float,
    h_e_rx: float,
    h_tx_m: float,
    h_rx_m: float,
    delta_h_m: float,
    z_abs: float,
    d_sml_m: float,
    area_mode: bool,
) -> tuple[float, float, float, float, float, float, float, float]:
    """The distance-independent parts of the diffraction attenuation, shared by both distances
    of the diffraction line: terminal arcs of Vogler's method [V64; Alg, Eq 4.15-4.19], clutter
    factor [ERL79, Eq 3.38c] and the height term of the weighting [ERL79, Eq 3.23].

    Returns ``(f^1/3, f^-1/3, x1, x2, F(x1, K1), F(x2, K2), A_fo, root)`` for
    :func:`_diffraction_db`.
    """
    f_third = frequency_mhz**_THIRD
    f_mthird = frequency_mhz ** (-_THIRD)
    radius1 = 0.5 * d_hzn_tx * d_hzn_tx / h_e_tx
    radius2 = 0.5 * d_hzn_rx * d_hzn_rx / h_e_rx
    c1 = ((4.0 / 3.0) * _A_0_M / radius1) ** _THIRD
    c2 = ((4.0 / 3.0) * _A_0_M / radius2) ** _THIRD
    k1 = 0.017778 * c1 * f_mthird / z_abs
    k2 = 0.017778 * c2 * f_mthird / z_abs
    x1 = (1.607 - k1) * (c1 * c1) * f_third * (d_hzn_tx / 1000.0)
    x2 = (1.607 - k2) * (c2 * c2) * f_third * (d_hzn_rx / 1000.0)
    g1 = _height_gain_db(x1, k1)
    g2 = _height_gain_db(x2, k2)
    sig_h = _sigma_h(_roughness_at(d_sml_m, delta_h_m))
    a_clutter = _cmin(15.0, 5 * math.log10(1.0 + 1e-5 * h_tx_m * h_rx_m * frequency_mhz * sig_h))
    # C ~ 10 m^2 for point-to-point [ERL79, p 3-8]
    hh = h_tx_m * h_rx_m
    qk = h_e_tx * h_e_rx - hh
    if not area_mode:
        hh += 10.0
    root = math.sqrt(1.0 + qk / hh)
    return f_third, f_mthird, x1, x2, g1, g2, a_clutter, root


@njit(cache=True)
def _diffraction_db(
    d_m: float,
    frequency_mhz: float,
    a_e_m: float,
    theta_los: float,
    d_hzn_tx: float,
    d_hzn_rx: float,
    delta_h_m: float,
    z_abs: float,
    terms: tuple[float, float, float, float, float, float, float, float],
) -> float:
    """Diffraction attenuation at distance d: knife-edge and smooth-earth losses weighted by
    terrain roughness, plus clutter [Alg, Eq 4.10-4.29; ERL79, Eq 3.23-3.38]."""
    f_third, f_mthird, x1, x2, g1, g2, a_clutter, root = terms
    theta_nlos = d_m / a_e_m - theta_los
    d_ml = d_hzn_tx + d_hzn_rx
    d_nlos = d_m - d_ml
    # double knife edge [TN101, Eq I.7]; 0.0795775 = 1 / (4 pi)
    v_tx = (
        0.0795775 * (frequency_mhz / 47.7) * theta_nlos**2 * d_hzn_tx * d_nlos / (d_nlos + d_hzn_tx)
    )
    v_rx = (
        0.0795775 * (frequency_mhz / 47.7) * theta_nlos**2 * d_hzn_rx * d_nlos / (d_nlos + d_hzn_rx)
    )
    a_knife = _fresnel_knife_edge_db(v_tx) + _fresnel_knife_edge_db(v_rx)
    # smooth earth, Vogler's three radii: the diffraction arc here, terminal arcs in ``terms``
    radius0 = (d_m - d_ml) / (d_m / a_e_m - theta_los)
    c0 = ((4.0 / 3.0) * _A_0_M / radius0) ** _THIRD
    k0 = 0.017778 * c0 * f_mthird / z_abs
    x0 = (1.607 - k0) * (c0 * c0) * f_third * ((radius0 * theta_nlos) / 1000.0) + x1 + x2
    a_smooth = 0.05751 * x0 - 10.0 * math.log10(x0) - g1 - g2 - 20
    # weighting by terrain roughness
    dh_d = _roughness_at(d_m, delta_h_m)
    q = (root + (-theta_los * a_e_m + d_ml) / d_m) * _cmin(dh_d * frequency_mhz / 47.7, 6283.2)
    w = 25.1 / (25.1 + math.sqrt(q))
    return w * a_smooth + (1.0 - w) * a_knife + a_clutter


@njit(cache=True)
def _los_db(
    d_m: float,
    frequency_mhz: float,
    h_e_tx: float,
    h_e_rx: float,
    z_g: complex,
    delta_h_m: float,
    slope_d: float,
    intercept_d: float,
    d_sml_m: float,
) -> float:
    """Line-of-sight attenuation: two-ray with rough-surface reflection, blended with the
    extended diffraction line [Alg, Eq 4.43-4.52]."""
    sig_h = _sigma_h(_roughness_at(d_m, delta_h_m))
    wn = frequency_mhz / 47.7
    h_sum = h_e_tx + h_e_rx
    sin_psi = h_sum / math.sqrt(d_m * d_m + h_sum * h_sum)
    r_e = (sin_psi - z_g) / (sin_psi + z_g) * math.exp(-_cmin(10.0, wn * sig_h * sin_psi))
    mag2 = r_e.real * r_e.real + r_e.imag * r_e.imag
    if mag2 < 0.25 or mag2 < sin_psi:
        r_e = r_e * math.sqrt(sin_psi / mag2)
    dphi = wn * 2.0 * h_e_tx * h_e_rx / d_m
    if dphi > _PI / 2.0:
        dphi = _PI - (_PI / 2.0) ** 2 / dphi
    rr = complex(math.cos(dphi), -math.sin(dphi)) + r_e
    a_two_ray = -10 * math.log10(rr.real * rr.real + rr.imag * rr.imag)
    a_diff = slope_d * d_m + intercept_d
    w = 1 / (1 + frequency_mhz * delta_h_m / _cmax(10e3, d_sml_m))
    return w * a_two_ray + (1 - w) * a_diff


@njit(cache=True, inline="always")
def _h0_curve(j: int, r: float) -> float:
    """H_01(r, j) [Alg, Eq 6.13]."""
    inv = 1 / r
    return 10 * math.log10(1 + _H0_A[j] * inv**4.0 + _H0_B[j] * (1.0 / r) ** 2)


@njit(cache=True)
def _h0_db(r: float, eta_s: float) -> float:
    """Frequency gain function H_0(r, eta_s), linear in eta_s between curves [Alg, Eq 6.12]."""
    eta = _cmin(_cmax(eta_s, 1.0), 5.0)
    i = int(eta)
    frac = eta - i
    h = _h0_curve(i - 1, r)
    if frac != 0.0:
        h = (1.0 - frac) * h + frac * _h0_curve(i, r)
    return h


@njit(cache=True)
def _scatter_db(
    d_m: float,
    frequency_mhz: float,
    a_e_m: float,
    theta_los: float,
    theta_tx: float,
    theta_rx: float,
    d_hzn_tx: float,
    d_hzn_rx: float,
    h_e_tx: float,
    h_e_rx: float,
    n_s: float,
    h0_prev: float,
) -> tuple[float, float]:
    """Forward-scatter attenuation [Alg, Eq 4.53-4.67; TN101, Sec 9].

    ``h0_prev`` carries H_0 from the previous evaluation (negative: none); returns
    ``(A_scat_db, h0)``. A_scat is 1001 when undefined (both r_i < 0.2).
    """
    wn = frequency_mhz / 47.7
    if h0_prev > 15.0:
        h0 = h0_prev
    else:
        asym = d_hzn_tx - d_hzn_rx
        ratio = h_e_rx / h_e_tx
        if asym < 0.0:
            asym = -asym
            ratio = 1.0 / ratio
        theta = theta_tx + theta_rx + d_m / a_e_m
        r1 = 2.0 * wn * theta * h_e_tx
        r2 = 2.0 * wn * theta * h_e_rx
        if r1 < 0.2 and r2 < 0.2:
            return 1001.0, h0_prev
        s = (d_m - asym) / (d_m + asym)
        q = _cmin(_cmax(0.1, ratio / s), 10.0)
        s = _cmax(0.1, s)
        h_cross = (
            (d_m - asym) * (d_m + asym) * theta * 0.25 / d_m
        )  # crossover height [Alg, Eq 4.66]
        eta_s = (h_cross / 1.7556e3) * (
            1.0
            + (0.031 - n_s * 2.32e-3 + n_s * n_s * 5.67e-6)
            * math.exp(-(_cmin(1.7, h_cross / 8.0e3) ** 6.0))
        )
        h00 = (_h0_db(r1, eta_s) + _h0_db(r2, eta_s)) / 2
        dh0 = _cmin(
            h00, 6.0 * (0.6 - math.log10(_cmax(eta_s, 1.0))) * math.log10(s) * math.log10(q)
        )
        h0 = _cmax(h00 + dh0, 0.0)
        if eta_s < 1.0:
            h0 = eta_s * h0 + (1.0 - eta_s) * 10 * math.log10(
                ((1.0 + _SQRT2 / r1) * (1.0 + _SQRT2 / r2)) ** 2
                * (r1 + r2)
                / (r1 + r2 + 2 * _SQRT2)
            )
        if h0 > 15.0 and h0_prev >= 0.0:
            h0 = h0_prev
    th = d_m / a_e_m - theta_los
    td = th * d_m
    # F(theta d) [Alg, Eq 6.9]
    if td <= 10e3:
        f_td = 133.4 + 0.332e-3 * td + -10 * math.log10(td)
    elif td <= 70e3:
        f_td = 104.6 + 0.212e-3 * td + -2.5 * math.log10(td)
    else:
        f_td = 71.8 + 0.157e-3 * td + 5 * math.log10(td)
    a_scat = (
        f_td
        + 10 * math.log10(wn * 47.7 * th**4.0)
        - 0.1 * (n_s - 301.0) * math.exp(-th * d_m / 40e3)
        + h0
    )
    return a_scat, h0


@njit(cache=True)
def reference_attenuation(
    d_m: float,
    frequency_mhz: float,
    h_tx_m: float,
    h_rx_m: float,
    h_e_tx: float,
    h_e_rx: float,
    d_hzn_tx: float,
    d_hzn_rx: float,
    theta_tx: float,
    theta_rx: float,
    delta_h_m: float,
    gamma_e: float,
    n_s: float,
    z_g: complex,
    area_mode: bool,
) -> tuple[int, int, float, int]:
    """Reference attenuation A_ref (dB) below free space from the path geometry [Alg, Sec 4].

    Line of sight below the smooth-earth horizon sum d_sML (two-ray blend, [ERL79, Eq 3.16-3.21]),
    else the diffraction line up to the diffraction/scatter crossover d_x, then forward scatter.
    Returns ``(rtn, warnings, A_ref_db, mode)``; ``rtn`` is 0 or an error code >= 1000.
    """
    warn = 0
    a_e = 1 / gamma_e
    d_ls_tx = math.sqrt(2.0 * h_e_tx * a_e)
    d_ls_rx = math.sqrt(2.0 * h_e_rx * a_e)
    d_sml = d_ls_tx + d_ls_rx
    d_ml = d_hzn_tx + d_hzn_rx
    theta_los = -_cmax(theta_tx + theta_rx, -d_ml / a_e)
    if abs(theta_tx) > 200e-3:
        warn |= W_TX_HORIZON_ANGLE
    if abs(theta_rx) > 200e-3:
        warn |= W_RX_HORIZON_ANGLE
    if d_hzn_tx < 0.1 * d_ls_tx:
        warn |= W_TX_HORIZON_DISTANCE_1
    if d_hzn_rx < 0.1 * d_ls_rx:
        warn |= W_RX_HORIZON_DISTANCE_1
    if d_hzn_tx > 3.0 * d_ls_tx:
        warn |= W_TX_HORIZON_DISTANCE_2
    if d_hzn_rx > 3.0 * d_ls_rx:
        warn |= W_RX_HORIZON_DISTANCE_2
    if n_s < 150:
        return ERR_SURFACE_REFRACTIVITY_SMALL, warn, math.nan, 0
    if n_s > 400:
        return ERR_SURFACE_REFRACTIVITY_LARGE, warn, math.nan, 0
    if n_s < 250:
        warn |= W_SURFACE_REFRACTIVITY
    if a_e < 4000000 or a_e > 13333333:
        return ERR_EFFECTIVE_EARTH, warn, math.nan, 0
    if z_g.real <= abs(z_g.imag):
        return ERR_GROUND_IMPEDANCE, warn, math.nan, 0
    z_abs = abs(z_g)

    # diffraction line through two points far beyond the horizons [Alg, Eq 4.7-4.9]
    scale = (a_e**2.0 / frequency_mhz) ** (1.0 / 3.0)
    d3 = _cmax(d_sml, d_ml + 5.0 * scale)
    d4 = d3 + 10.0 * scale
    terms = _diffraction_terms(
        frequency_mhz, d_hzn_tx, d_hzn_rx, h_e_tx, h_e_rx, h_tx_m, h_rx_m, delta_h_m, z_abs,
        d_sml, area_mode,
    )  # fmt: skip
    a3 = _diffraction_db(
        d3, frequency_mhz, a_e, theta_los, d_hzn_tx, d_hzn_rx, delta_h_m, z_abs, terms
    )
    a4 = _diffraction_db(
        d4, frequency_mhz, a_e, theta_los, d_hzn_tx, d_hzn_rx, delta_h_m, z_abs, terms
    )
    m_d = (a4 - a3) / (d4 - d3)
    a_d0 = a3 - m_d * d3

    if d_m < abs(h_e_tx - h_e_rx) / 200e-3:
        warn |= W_DISTANCE_SMALL_1
    if d_m < 1e3:
        warn |= W_DISTANCE_SMALL_2
    if d_m > 1000e3:
        warn |= W_DISTANCE_BIG_1
    if d_m > 2000e3:
        warn |= W_DISTANCE_BIG_2

    if d_m < d_sml:
        # line of sight: A = A_o + k1 d + k2 ln d fitted at d0, d1, d_sML [ERL79, Eq 3.16-3.21]
        a_sml = d_sml * m_d + a_d0
        d0 = 0.04 * frequency_mhz * h_e_tx * h_e_rx
        if a_d0 >= 0.0:
            d0 = _cmin(d0, 0.5 * d_ml)
            d1 = d0 + 0.25 * (d_ml - d0)
        else:
            d1 = _cmax(-a_d0 / m_d, 0.25 * d_ml)
        a1 = _los_db(d1, frequency_mhz, h_e_tx, h_e_rx, z_g, delta_h_m, m_d, a_d0, d_sml)
        use_log = False
        k1 = 0.0
        k2 = 0.0
        if d0 < d1:
            a0 = _los_db(d0, frequency_mhz, h_e_tx, h_e_rx, z_g, delta_h_m, m_d, a_d0, d_sml)
            q = math.log(d_sml / d0)
            k2 = _cmax(
                0.0,
                ((d_sml - d0) * (a1 - a0) - (d1 - d0) * (a_sml - a0))
                / ((d_sml - d0) * math.log(d1 / d0) - (d1 - d0) * q),
            )
            use_log = a_d0 > 0.0 or k2 > 0.0
            if use_log:
                k1 = (a_sml - a0 - k2 * q) / (d_sml - d0)
                if k1 < 0.0:
                    k1 = 0.0
                    k2 = _fdim(a_sml, a0) / q
                    if k2 == 0.0:
                        k1 = m_d
        if not use_log:
            k1 = _fdim(a_sml, a1) / (d_sml - d1)
            k2 = 0.0
            if k1 == 0.0:
                k1 = m_d
        a_o = a_sml - k1 * d_sml - k2 * math.log(d_sml)
        a_ref = a_o + k1 * d_m + k2 * math.log(d_m)
        mode = MODE_LOS
    else:
        # The crossover d_x is at least max(d_sML, d_ML + 1.088 scale ln f), whatever the
        # scatter line [Alg, Eq 4.56] (or NaN, or 10,000 km without one): a path no longer than
        # that is in the diffraction range, and the two scatter evaluations cannot change its
        # result. Taken first, the same bits, without them.
        d_x_floor = _cmax(d_sml, d_ml + 1.088 * scale * math.log(frequency_mhz))
        if d_m <= d_x_floor:
            return RTN_SUCCESS, warn, _cmax(m_d * d_m + a_d0, 0.0), MODE_DIFFRACTION
        # forward-scatter line through d5, d6 and its crossover with diffraction [Alg, Eq 4.53-4.56]
        d5 = d_ml + 200e3
        d6 = d_ml + 400e3
        a6, h0 = _scatter_db(
            d6, frequency_mhz, a_e, theta_los, theta_tx, theta_rx, d_hzn_tx, d_hzn_rx,
            h_e_tx, h_e_rx, n_s, -1.0,
        )  # fmt: skip
        a5, h0 = _scatter_db(
            d5, frequency_mhz, a_e, theta_los, theta_tx, theta_rx, d_hzn_tx, d_hzn_rx,
            h_e_tx, h_e_rx, n_s, h0,
        )  # fmt: skip
        if a5 < 1000.0:
            m_s = (a6 - a5) / 200e3
            d_x = _cmax(
                _cmax(d_sml, d_ml + 1.088 * scale * math.log(frequency_mhz)),
                (a5 - a_d0 - m_s * d5) / (m_d - m_s),
            )
            a_s0 = (m_d - m_s) * d_x + a_d0
        else:
            m_s = m_d
            a_s0 = a_d0
            d_x = 10e6
        if d_m > d_x:
            a_ref = m_s * d_m + a_s0
            mode = MODE_TROPOSCATTER
        else:
            a_ref = m_d * d_m + a_d0
            mode = MODE_DIFFRACTION
    return RTN_SUCCESS, warn, _cmax(a_ref, 0.0), mode


# ---------------------------------------------------------------------------------------------
# Variability [Alg, Sec 5 "avar"]


@njit(cache=True, inline="always")
def _std_normal_deviate(q: float) -> float:
    """Inverse complementary normal distribution Q^-1(q), |error| < 4.5e-4
    [Abramowitz & Stegun, Eq 26.2.23; Alg, Eq 6.18]."""
    x = 1.0 - q if q > 0.5 else q
    t = math.sqrt(-2.0 * math.log(x))
    z = t - ((0.010328 * t + 0.802853) * t + 2.515516) / (
        ((0.001308 * t + 0.189269) * t + 1.432788) * t + 1.0
    )
    return -z if q > 0.5 else z


@njit(cache=True, inline="always")
def _climate_curve(c: np.ndarray, row: int, d_e_m: float) -> float:
    """(c1 + c2 / (1 + ((d_e - x2) / x3)^2)) (d_e / x1)^2 / (1 + (d_e / x1)^2)

    [TN101v2, III.69-70].
    """
    u = (d_e_m - c[row, 3]) / c[row, 4]
    v = d_e_m / c[row, 2]
    return (c[row, 0] + c[row, 1] / (1.0 + u * u)) * (v * v) / (1.0 + (v * v))


@njit(cache=True)
def variability_db(
    time_pct: float,
    location_pct: float,
    situation_pct: float,
    h_e_tx: float,
    h_e_rx: float,
    delta_h_m: float,
    frequency_mhz: float,
    d_m: float,
    a_ref_db: float,
    climate: int,
    mdvar: int,
) -> tuple[float, int]:
    """Attenuation below free space at the given time/location/situation quantiles [Alg, Sec 5].

    Returns ``(A_db, warnings)`` where ``A_db`` is to be added to the free-space loss.
    """
    warn = 0
    z_t = _std_normal_deviate(time_pct / 100)
    z_l = _std_normal_deviate(location_pct / 100)
    z_s = _std_normal_deviate(situation_pct / 100)
    c = climate - 1
    wn = frequency_mhz / 47.7
    # effective distance [Alg, Eq 5.3]
    d_ex = (
        math.sqrt(2 * _A_9000_M * h_e_tx)
        + math.sqrt(2 * _A_9000_M * h_e_rx)
        + (575.7e12 / wn) ** _THIRD
    )
    if d_m < d_ex:
        d_e = 130e3 * d_m / d_ex
    else:
        d_e = 130e3 + d_m - d_ex

    no_situation = mdvar >= 20
    base = mdvar - 20 if no_situation else mdvar
    sigma_s = 0.0 if no_situation else 5.0 + 3.0 * math.exp(-d_e / 100e3)  # [Alg, Eq 5.10]
    no_location = base >= 10
    if no_location:
        base -= 10

    v_med = _climate_curve(_V_MED, c, d_e)
    if base == 0:  # single message
        z_t = z_s
        z_l = z_s
    elif base == 1:  # accidental
        z_l = z_s
    elif base == 2:  # mobile
        z_l = z_t
    if abs(z_t) > 3.10 or abs(z_l) > 3.10 or abs(z_s) > 3.10:
        warn |= W_EXTREME_VARIABILITIES

    if no_location:
        sigma_l = 0.0
    else:
        dh_d = _roughness_at(d_m, delta_h_m)
        sigma_l = 10.0 * wn * dh_d / (wn * dh_d + 13.0)  # [Alg, Eq 5.9]
    y_l = sigma_l * z_l

    lq = math.log(0.133 * wn)
    gm = _G_MINUS[c, 0] + _G_MINUS[c, 1] / ((_G_MINUS[c, 2] * lq) ** 2 + 1.0)
    gp = _G_PLUS[c, 0] + _G_PLUS[c, 1] / ((_G_PLUS[c, 2] * lq) ** 2 + 1.0)
    sigma_t_minus = _climate_curve(_SIGMA_T_MINUS, c, d_e) * gm
    sigma_t_plus = _climate_curve(_SIGMA_T_PLUS, c, d_e) * gp
    sigma_td = _C_D[c] * sigma_t_plus
    tgtd = (sigma_t_plus - sigma_td) * _Z_D[c]
    if z_t < 0.0:
        sigma_t = sigma_t_minus
    elif z_t <= _Z_D[c]:
        sigma_t = sigma_t_plus
    else:
        sigma_t = sigma_td + tgtd / z_t
    y_t = sigma_t * z_t

    # situation spread absorbs residual time and location spreads [Alg, Eq 5.11]
    s_tmp = sigma_s**2 + y_t**2 / (7.8 + z_s**2) + y_l**2 / (24.0 + z_s**2)
    if base == 0:
        y_r = 0.0
        y_s = math.sqrt(sigma_t**2 + sigma_l**2 + s_tmp) * z_s
    elif base == 1:
        y_r = y_t
        y_s = math.sqrt(sigma_l**2 + s_tmp) * z_s
    elif base == 2:
        y_r = math.sqrt(sigma_t**2 + sigma_l**2) * z_t
        y_s = math.sqrt(s_tmp) * z_s
    else:
        y_r = y_t + y_l
        y_s = math.sqrt(s_tmp) * z_s
    a = a_ref_db - v_med - y_r - y_s
    if a < 0.0:  # soft floor [Alg, Eq 5.12]
        a = a * (29.0 - a) / (29.0 - 10.0 * a)
    return a, warn


# ---------------------------------------------------------------------------------------------
# Entry points


@njit(cache=True)
def _fail(out: np.ndarray, rtn: int, warn: int) -> float:
    for k in range(OUT_LEN):
        out[k] = math.nan
    out[OUT_RTN] = rtn
    out[OUT_WARN] = warn
    out[OUT_MODE] = 0
    return math.nan


@njit(cache=True)
def _finish(
    out: np.ndarray,
    warn: int,
    loss: float,
    mode: int,
    d_m: float,
    d_hzn_tx: float,
    d_hzn_rx: float,
    theta_tx: float,
    theta_rx: float,
    h_e_tx: float,
    h_e_rx: float,
    delta_h: float,
    a_ref: float,
    a_fs: float,
    n_s: float,
    d_km: float,
) -> float:
    out[OUT_LOSS] = loss
    out[OUT_RTN] = RTN_SUCCESS_WITH_WARNINGS if warn != 0 else RTN_SUCCESS
    out[OUT_MODE] = mode
    out[OUT_WARN] = warn
    out[OUT_D_KM] = d_km
    out[OUT_D_HZN_TX] = d_hzn_tx
    out[OUT_D_HZN_RX] = d_hzn_rx
    out[OUT_THETA_TX] = theta_tx
    out[OUT_THETA_RX] = theta_rx
    out[OUT_H_E_TX] = h_e_tx
    out[OUT_H_E_RX] = h_e_rx
    out[OUT_DELTA_H] = delta_h
    out[OUT_A_REF] = a_ref
    out[OUT_A_FS] = a_fs
    out[OUT_N_S] = n_s
    out[OUT_D_M] = d_m
    return loss


@njit(cache=True)
def profile_ok(elev: np.ndarray, i0: int, n_intervals: int, step_m: float) -> bool:
    """True when the profile is usable: >= 2 points inside ``elev``, finite step > 0, finite
    heights."""
    if n_intervals < 1 or i0 < 0 or i0 + n_intervals >= elev.shape[0]:
        return False
    if not (step_m > 0.0) or not math.isfinite(step_m):
        return False
    # NaN and infinities survive a sum; four partial sums keep the pass short
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    n_pts = n_intervals + 1
    m4 = n_pts - n_pts % 4
    for k in range(0, m4, 4):
        s0 += elev[i0 + k] * 0.0
        s1 += elev[i0 + k + 1] * 0.0
        s2 += elev[i0 + k + 2] * 0.0
        s3 += elev[i0 + k + 3] * 0.0
    for k in range(m4, n_pts):
        s0 += elev[i0 + k] * 0.0
    return s0 + s1 + s2 + s3 == 0.0


# frequency-independent geometry of a profile, as p2p_geometry returns it in a float64 array
G_OK = 0
G_D_M = 1
G_N_S = 2
G_GAMMA_E = 3
G_THETA_TX = 4
G_THETA_RX = 5
G_D_HZN_TX = 6
G_D_HZN_RX = 7
G_H_E_TX = 8
G_H_E_RX = 9
G_DELTA_H = 10
# 1.0 where the reversed profile gives this geometry mirrored (profile_geometry_mirrors)
G_MIRRORS = 11
G_LEN = 12


@njit(cache=True)
def p2p_geometry(
    elev: np.ndarray,
    i0: int,
    n_intervals: int,
    step_m: float,
    h_tx_m: float,
    h_rx_m: float,
    n0: float,
    scratch: np.ndarray,
    geom: np.ndarray,
) -> bool:
    """The frequency-independent part of :func:`p2p_core` into ``geom`` (indices ``G_*``).

    Path length, surface refractivity and effective curvature [Alg, Eqs 1.1-1.2], horizons,
    effective heights and delta_h (QuickPfl, :func:`profile_geometry`). None of them depends on
    frequency, polarization, ground constants or quantiles, so one geometry serves every
    frequency of the same terminals (:func:`p2p_from_geometry`). Returns False (and
    ``geom[G_OK] = 0``) when the profile is unusable (:func:`profile_ok`).
    """
    if not profile_ok(elev, i0, n_intervals, step_m):
        geom[G_OK] = 0.0
        return False
    h_sys = mean_path_height(elev, i0, n_intervals)
    z_lo, z_hi = _height_range(elev, i0, n_intervals)
    return p2p_geometry_given(
        elev, i0, n_intervals, step_m, h_tx_m, h_rx_m, n0, h_sys, z_lo, z_hi, scratch, geom
    )


@njit(cache=True)
def p2p_geometry_given(
    elev: np.ndarray,
    i0: int,
    n_intervals: int,
    step_m: float,
    h_tx_m: float,
    h_rx_m: float,
    n0: float,
    h_sys_m: float,
    z_lo: float,
    z_hi: float,
    scratch: np.ndarray,
    geom: np.ndarray,
) -> bool:
    """:func:`p2p_geometry` of a profile already known to be usable (:func:`profile_ok`), given
    its mean path height ``h_sys_m`` (:func:`mean_path_height`, the same sum in the same order)
    and its lowest and highest heights [m]. A caller that builds the profile gathers these while
    sampling it, which spares three passes over the profile; the result is the same bits."""
    n_s = surface_refractivity(n0, h_sys_m)
    gamma_e = effective_curvature(n_s)
    theta_tx, theta_rx, d_hzn_tx, d_hzn_rx, h_e_tx, h_e_rx, delta_h, mirrors = (
        profile_geometry_mirrors(
            elev, i0, n_intervals, step_m, h_tx_m, h_rx_m, gamma_e, scratch, z_lo, z_hi
        )
    )
    # written only now: ``geom`` may be the tail of ``scratch`` (see p2p_core)
    geom[G_OK] = 1.0
    geom[G_D_M] = n_intervals * step_m
    geom[G_N_S] = n_s
    geom[G_GAMMA_E] = gamma_e
    geom[G_THETA_TX] = theta_tx
    geom[G_THETA_RX] = theta_rx
    geom[G_D_HZN_TX] = d_hzn_tx
    geom[G_D_HZN_RX] = d_hzn_rx
    geom[G_H_E_TX] = h_e_tx
    geom[G_H_E_RX] = h_e_rx
    geom[G_DELTA_H] = delta_h
    geom[G_MIRRORS] = 1.0 if mirrors else 0.0
    return True


@njit(cache=True)
def mirror_geometry(geom: np.ndarray, out: np.ndarray) -> None:
    """``geom`` with its ends swapped into ``out``: the geometry of the reversed profile with
    the heights swapped, where ``geom[G_MIRRORS]`` says so (:func:`profile_geometry_mirrors`)."""
    for i in range(G_LEN):
        out[i] = geom[i]
    out[G_THETA_TX] = geom[G_THETA_RX]
    out[G_THETA_RX] = geom[G_THETA_TX]
    out[G_D_HZN_TX] = geom[G_D_HZN_RX]
    out[G_D_HZN_RX] = geom[G_D_HZN_TX]
    out[G_H_E_TX] = geom[G_H_E_RX]
    out[G_H_E_RX] = geom[G_H_E_TX]


@njit(cache=True)
def p2p_from_geometry(
    geom: np.ndarray,
    n_intervals: int,
    step_m: float,
    h_tx_m: float,
    h_rx_m: float,
    frequency_mhz: float,
    climate: int,
    n0: float,
    polarization: int,
    epsilon: float,
    sigma: float,
    mdvar: int,
    time_pct: float,
    location_pct: float,
    situation_pct: float,
    out: np.ndarray,
) -> float:
    """:func:`p2p_core` given the profile's geometry from :func:`p2p_geometry` (same terminal
    heights and ``n0``): the same operations in the same order, so the same bits."""
    rtn, warn = validate_inputs(
        h_tx_m, h_rx_m, climate, n0, frequency_mhz, polarization, epsilon, sigma, mdvar,
        time_pct, location_pct, situation_pct,
    )  # fmt: skip
    if rtn != RTN_SUCCESS:
        return _fail(out, rtn, warn)
    if geom[G_OK] == 0.0:
        return _fail(out, ERR_PROFILE, warn)
    d_m = geom[G_D_M]
    n_s = geom[G_N_S]
    gamma_e = geom[G_GAMMA_E]
    theta_tx = geom[G_THETA_TX]
    theta_rx = geom[G_THETA_RX]
    d_hzn_tx = geom[G_D_HZN_TX]
    d_hzn_rx = geom[G_D_HZN_RX]
    h_e_tx = geom[G_H_E_TX]
    h_e_rx = geom[G_H_E_RX]
    delta_h = geom[G_DELTA_H]
    z_g = ground_impedance(frequency_mhz, polarization, epsilon, sigma)
    rtn, w2, a_ref, mode = reference_attenuation(
        d_m, frequency_mhz, h_tx_m, h_rx_m, h_e_tx, h_e_rx, d_hzn_tx, d_hzn_rx,
        theta_tx, theta_rx, delta_h, gamma_e, n_s, z_g, False,
    )  # fmt: skip
    warn |= w2
    if rtn != RTN_SUCCESS:
        return _fail(out, rtn, warn)
    a_fs = free_space_loss_db(d_m, frequency_mhz)
    a_var, w3 = variability_db(
        time_pct, location_pct, situation_pct, h_e_tx, h_e_rx, delta_h, frequency_mhz, d_m,
        a_ref, climate, mdvar,
    )  # fmt: skip
    warn |= w3
    return _finish(
        out, warn, a_var + a_fs, mode, d_m, d_hzn_tx, d_hzn_rx, theta_tx, theta_rx,
        h_e_tx, h_e_rx, delta_h, a_ref, a_fs, n_s, (n_intervals * step_m) / 1000,
    )  # fmt: skip


@njit(cache=True)
def p2p_core(
    elev: np.ndarray,
    i0: int,
    n_intervals: int,
    step_m: float,
    h_tx_m: float,
    h_rx_m: float,
    frequency_mhz: float,
    climate: int,
    n0: float,
    polarization: int,
    epsilon: float,
    sigma: float,
    mdvar: int,
    time_pct: float,
    location_pct: float,
    situation_pct: float,
    scratch: np.ndarray,
    out: np.ndarray,
) -> float:
    """ITM point-to-point with time/location/situation variability (ITM_P2P_TLS). See module doc.

    :func:`p2p_geometry` then :func:`p2p_from_geometry`. The geometry is kept in the last
    ``G_LEN`` elements of ``scratch``: delta_h uses at most 245 elements (>= 256 required), and
    its fast selection (3 n elements) may reach the tail only before the geometry is written.
    """
    rtn, warn = validate_inputs(
        h_tx_m, h_rx_m, climate, n0, frequency_mhz, polarization, epsilon, sigma, mdvar,
        time_pct, location_pct, situation_pct,
    )  # fmt: skip
    if rtn != RTN_SUCCESS:
        return _fail(out, rtn, warn)
    geom = scratch[scratch.shape[0] - G_LEN :]
    p2p_geometry(elev, i0, n_intervals, step_m, h_tx_m, h_rx_m, n0, scratch, geom)
    return p2p_from_geometry(
        geom, n_intervals, step_m, h_tx_m, h_rx_m, frequency_mhz, climate, n0, polarization,
        epsilon, sigma, mdvar, time_pct, location_pct, situation_pct, out,
    )  # fmt: skip


@njit(cache=True)
def area_core(
    d_km: float,
    delta_h_m: float,
    h_tx_m: float,
    h_rx_m: float,
    tx_siting: int,
    rx_siting: int,
    frequency_mhz: float,
    climate: int,
    n0: float,
    polarization: int,
    epsilon: float,
    sigma: float,
    mdvar: int,
    time_pct: float,
    location_pct: float,
    situation_pct: float,
    out: np.ndarray,
) -> float:
    """ITM area mode with time/location/situation variability (ITM_AREA_TLS) [Alg, Sec 3].

    Same ``out`` layout and return convention as :func:`p2p_core`.
    """
    rtn, warn = validate_inputs(
        h_tx_m, h_rx_m, climate, n0, frequency_mhz, polarization, epsilon, sigma, mdvar,
        time_pct, location_pct, situation_pct,
    )  # fmt: skip
    if rtn != RTN_SUCCESS:
        return _fail(out, rtn, warn)
    if not (d_km > 0.0) or not math.isfinite(d_km):
        return _fail(out, ERR_PATH_DISTANCE, warn)
    if not (delta_h_m >= 0.0) or not math.isfinite(delta_h_m):
        return _fail(out, ERR_DELTA_H, warn)
    if tx_siting < 0 or tx_siting > 2:
        return _fail(out, ERR_TX_SITING, warn)
    if rx_siting < 0 or rx_siting > 2:
        return _fail(out, ERR_RX_SITING, warn)
    n_s = surface_refractivity(n0, 0.0)
    gamma_e = effective_curvature(n_s)
    z_g = ground_impedance(frequency_mhz, polarization, epsilon, sigma)
    h_e_tx, d_hzn_tx, theta_tx = area_geometry(tx_siting, h_tx_m, gamma_e, delta_h_m)
    h_e_rx, d_hzn_rx, theta_rx = area_geometry(rx_siting, h_rx_m, gamma_e, delta_h_m)
    d_m = d_km * 1000
    rtn, w2, a_ref, mode = reference_attenuation(
        d_m, frequency_mhz, h_tx_m, h_rx_m, h_e_tx, h_e_rx, d_hzn_tx, d_hzn_rx,
        theta_tx, theta_rx, delta_h_m, gamma_e, n_s, z_g, True,
    )  # fmt: skip
    warn |= w2
    if rtn != RTN_SUCCESS:
        return _fail(out, rtn, warn)
    a_fs = free_space_loss_db(d_m, frequency_mhz)
    a_var, w3 = variability_db(
        time_pct, location_pct, situation_pct, h_e_tx, h_e_rx, delta_h_m, frequency_mhz, d_m,
        a_ref, climate, mdvar,
    )  # fmt: skip
    warn |= w3
    return _finish(
        out, warn, a_fs + a_var, mode, d_m, d_hzn_tx, d_hzn_rx, theta_tx, theta_rx,
        h_e_tx, h_e_rx, delta_h_m, a_ref, a_fs, n_s, d_km,
    )  # fmt: skip


@njit(cache=True, parallel=True)
def p2p_batch_kernel(
    elevation: np.ndarray,
    offsets: np.ndarray,
    step_m: np.ndarray,
    h_tx_m: np.ndarray,
    h_rx_m: np.ndarray,
    frequency_mhz: np.ndarray,
    climate: np.ndarray,
    n0: np.ndarray,
    polarization: np.ndarray,
    epsilon: np.ndarray,
    sigma: np.ndarray,
    mdvar: np.ndarray,
    time_pct: np.ndarray,
    location_pct: np.ndarray,
    situation_pct: np.ndarray,
    out: np.ndarray,
) -> None:
    """Profile p = elevation[offsets[p]:offsets[p+1]]; results into out[p, :] (N x OUT_LEN).

    Profiles are processed in contiguous chunks, one scratch buffer per chunk.
    """
    n_prof = offsets.shape[0] - 1
    chunk = 64
    n_chunks = (n_prof + chunk - 1) // chunk
    for c in prange(n_chunks):
        scratch = np.empty(SCRATCH_LEN)
        p_end = min(n_prof, (c + 1) * chunk)
        for p in range(c * chunk, p_end):
            clean_upper()
            i0 = offsets[p]
            p2p_core(
                elevation, i0, offsets[p + 1] - i0 - 1, step_m[p], h_tx_m[p], h_rx_m[p],
                frequency_mhz[p], climate[p], n0[p], polarization[p], epsilon[p], sigma[p],
                mdvar[p], time_pct[p], location_pct[p], situation_pct[p], scratch, out[p],
            )  # fmt: skip
