"""numba kernels for knife-edge diffraction (private; see yalu.propagation.diffraction)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from yalu.cpu import clean_upper


@njit(cache=True)
def j_nu_db(nu: float) -> float:
    # ITU-R P.526-15 eq. (31); zero at and below nu = -0.78 (the approximation's cut-off)
    if nu <= -0.78:
        return 0.0
    x = nu - 0.1
    return 6.9 + 20.0 * math.log10(math.sqrt(x * x + 1.0) + x)


@njit(cache=True)
def _max_nu(
    z: np.ndarray, step_m: float, i0: int, i1: int, z0: float, z1: float, wavelength_m: float
) -> tuple[int, float]:
    """Point between i0 and i1 (exclusive) with the largest nu w.r.t. the ray z0 -> z1."""
    best_i = -1
    best_nu = -np.inf
    span = (i1 - i0) * step_m
    for i in range(i0 + 1, i1):
        d1 = (i - i0) * step_m
        d2 = span - d1
        h = z[i] - (z0 + (z1 - z0) * d1 / span)
        # P.526-15 eq. (26): nu = h sqrt(2/lambda (1/d1 + 1/d2))
        nu = h * math.sqrt(2.0 * span / (wavelength_m * d1 * d2))
        if nu > best_nu:
            best_nu = nu
            best_i = i
    return best_i, best_nu


@njit(cache=True)
def deygout_one(
    profile_m: np.ndarray,
    n_points: int,
    step_m: float,
    h_tx_m: float,
    h_rx_m: float,
    wavelength_m: float,
    earth_radius_m: float,
    max_edges: int,
) -> float:
    n = n_points
    if n < 3:
        return 0.0
    total = (n - 1) * step_m
    z = np.empty(n)
    for i in range(n):
        x = i * step_m
        bulge = 0.0
        if earth_radius_m > 0.0 and math.isfinite(earth_radius_m):
            # earth bulge on a sphere of effective radius a_e (P.526-15 §4.5 / P.452 eq. (14))
            bulge = x * (total - x) / (2.0 * earth_radius_m)
        z[i] = profile_m[i] + bulge
    zt = profile_m[0] + h_tx_m
    zr = profile_m[n - 1] + h_rx_m
    p, nu_p = _max_nu(z, step_m, 0, n - 1, zt, zr, wavelength_m)
    loss = j_nu_db(nu_p)
    if loss <= 0.0 or max_edges < 3:
        return loss
    zp = z[p]
    if p - 0 >= 2:
        _, nu_t = _max_nu(z, step_m, 0, p, zt, zp, wavelength_m)
        loss += j_nu_db(nu_t)
    if (n - 1) - p >= 2:
        _, nu_r = _max_nu(z, step_m, p, n - 1, zp, zr, wavelength_m)
        loss += j_nu_db(nu_r)
    return loss


@njit(cache=True, parallel=True)
def deygout_batch(
    profiles_m: np.ndarray,
    n_points: np.ndarray,
    step_m: np.ndarray,
    h_tx_m: np.ndarray,
    h_rx_m: np.ndarray,
    wavelength_m: np.ndarray,
    earth_radius_m: float,
    max_edges: int,
) -> np.ndarray:
    m = profiles_m.shape[0]
    out = np.empty(m)
    for k in prange(m):
        clean_upper()
        out[k] = deygout_one(
            profiles_m[k],
            n_points[k],
            step_m[k],
            h_tx_m[k],
            h_rx_m[k],
            wavelength_m[k],
            earth_radius_m,
            max_edges,
        )
    return out
