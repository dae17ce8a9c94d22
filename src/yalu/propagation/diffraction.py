"""Knife-edge diffraction: single edge J(nu) and Deygout's multiple-edge construction.

References
----------
- ITU-R Recommendation P.526-15 (2019), "Propagation by diffraction", §4.1 single knife edge:
  the diffraction parameter nu from the geometry, eqs. (26)-(29), and the approximation of the
  knife-edge loss, eq. (31): ``J(nu) = 6.9 + 20 log(sqrt((nu - 0.1)^2 + 1) + nu - 0.1)`` dB for
  ``nu > -0.78``, ``J(nu) = 0`` otherwise.
- J. Deygout, "Multiple knife-edge diffraction of microwaves", IEEE Trans. Antennas Propag.
  AP-14(4), 480-489, 1966: the edge with the largest nu over the whole path is the principal
  edge; secondary edges are sought on the sub-paths transmitter -> principal edge and principal
  edge -> receiver, and the losses add. yalu stops at three edges (principal + one secondary
  each side), the usual limit for this construction (ITU-R P.526 discusses the same
  principal/secondary-edge scheme for multiple isolated obstacles). The plain sum is used, without
  an empirical correction; it overestimates the loss for closely spaced edges of similar height.
- Earth curvature: terrain heights are raised by the earth bulge ``x (D - x) / (2 a_e)`` with the
  effective earth radius ``a_e = k * 6371 km``; k = 4/3 is the median standard atmosphere
  (ITU-R P.452-17 §4.3 / P.834).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from yalu.errors import ParameterError, check_range
from yalu.geodesy.constants import MEAN_EARTH_RADIUS_M, SPEED_OF_LIGHT_M_S
from yalu.propagation import _diffraction_kernels as _k

__all__ = [
    "EARTH_RADIUS_M",
    "knife_edge_loss_db",
    "knife_edge_nu",
    "deygout_loss_db",
    "deygout_loss_db_batch",
]

#: mean earth radius [m] used with the k factor (ITU-R P.452 / P.834 use 6371 km)
EARTH_RADIUS_M = MEAN_EARTH_RADIUS_M

_Arr = npt.NDArray[np.float64]


def knife_edge_loss_db(nu: npt.ArrayLike) -> _Arr | float:
    """Single knife-edge diffraction loss J(nu), ITU-R P.526-15 eq. (31).

    Parameters
    ----------
    nu : array_like
        Dimensionless diffraction parameter (:func:`knife_edge_nu`).

    Returns
    -------
    loss_db : ndarray or float
        ``6.9 + 20 log10(sqrt((nu-0.1)^2 + 1) + nu - 0.1)`` [dB] for ``nu > -0.78``, else 0.
        J(0) = 6.03 dB (the exact Fresnel-integral value is 20 log10 2 = 6.02 dB).
    """
    v = np.asarray(nu, dtype=float)
    if np.any(np.isnan(v)):
        raise ParameterError("nu", float(v[np.isnan(v)].flat[0]), "a number (not NaN)")
    x = np.where(v > -0.78, v, 0.0) - 0.1
    j = np.where(v > -0.78, 6.9 + 20.0 * np.log10(np.sqrt(x * x + 1.0) + x), 0.0)
    return float(j) if j.ndim == 0 else j


def knife_edge_nu(
    h_m: npt.ArrayLike, d1_m: npt.ArrayLike, d2_m: npt.ArrayLike, frequency_mhz: npt.ArrayLike
) -> _Arr | float:
    """Diffraction parameter nu of a knife edge, ITU-R P.526-15 eq. (26).

    Parameters
    ----------
    h_m : array_like
        Height of the edge above the straight line joining the two ends [m] (negative below).
    d1_m, d2_m : array_like
        Distances from each end to the edge [m], > 0.
    frequency_mhz : array_like
        Frequency [MHz], > 0.

    Returns
    -------
    nu : ndarray or float
        ``h sqrt((2 / lambda) (1/d1 + 1/d2))``.
    """
    h = np.asarray(h_m, dtype=float)
    d1 = np.asarray(d1_m, dtype=float)
    d2 = np.asarray(d2_m, dtype=float)
    f = np.asarray(frequency_mhz, dtype=float)
    check_range("h_m", h)
    check_range("d1_m", d1, 0.0, None, lo_inclusive=False)
    check_range("d2_m", d2, 0.0, None, lo_inclusive=False)
    check_range("frequency_mhz", f, 0.0, None, lo_inclusive=False)
    lam = SPEED_OF_LIGHT_M_S / (f * 1e6)
    nu = h * np.sqrt(2.0 / lam * (1.0 / d1 + 1.0 / d2))
    return float(nu) if nu.ndim == 0 else nu


def _earth_radius(k_factor: float) -> float:
    k = float(k_factor)
    if not (k > 0.0):  # also catches NaN
        raise ParameterError("k_factor", k_factor, "> 0 (inf for a flat earth)")
    return k * EARTH_RADIUS_M


def _check_max_edges(max_edges: int) -> int:
    if max_edges not in (1, 3):
        raise ParameterError("max_edges", max_edges, "1 or 3")
    return int(max_edges)


def deygout_loss_db(
    profile_m: npt.ArrayLike,
    step_m: float,
    h_tx_m: float,
    h_rx_m: float,
    frequency_mhz: float,
    k_factor: float = 4.0 / 3.0,
    max_edges: int = 3,
) -> float:
    """Multiple knife-edge diffraction loss over a terrain profile, Deygout (1966).

    Parameters
    ----------
    profile_m : array_like
        Terrain heights [m] at equal spacing from the transmitter (index 0) to the receiver
        (last index); at least 2 points, all finite.
    step_m : float
        Spacing of the profile points [m], > 0.
    h_tx_m, h_rx_m : float
        Antenna heights above the terrain at each end [m], >= 0.
    frequency_mhz : float
        Frequency [MHz], > 0.
    k_factor : float
        Effective earth-radius factor (default 4/3); ``inf`` for a flat earth.
    max_edges : {1, 3}
        1: principal edge only; 3: principal plus one secondary edge each side (default).

    Returns
    -------
    loss_db : float
        Diffraction loss [dB] beyond free space, ``J(nu_p) + J(nu_t) + J(nu_r)`` with J of
        P.526-15 eq. (31) and each nu from eq. (26) on its sub-path. A path whose every point
        has ``nu <= -0.78`` (clear of about 0.55 of the first Fresnel zone) gives 0 dB.
    """
    prof = np.ascontiguousarray(profile_m, dtype=float)
    if prof.ndim != 1 or prof.size < 2:
        raise ParameterError("profile_m", f"shape {prof.shape}", "a 1-D array of >= 2 heights")
    if not np.all(np.isfinite(prof)):
        bad = int(np.flatnonzero(~np.isfinite(prof))[0])
        raise ParameterError(
            f"profile_m[{bad}]", float(prof[bad]), "finite (fill terrain voids first)"
        )
    check_range("step_m", step_m, 0.0, None, lo_inclusive=False)
    check_range("h_tx_m", h_tx_m, 0.0, None)
    check_range("h_rx_m", h_rx_m, 0.0, None)
    check_range("frequency_mhz", frequency_mhz, 0.0, None, lo_inclusive=False)
    a_e = _earth_radius(k_factor)
    lam = SPEED_OF_LIGHT_M_S / (float(frequency_mhz) * 1e6)
    return float(
        _k.deygout_one(
            prof,
            prof.size,
            float(step_m),
            float(h_tx_m),
            float(h_rx_m),
            lam,
            a_e,
            _check_max_edges(max_edges),
        )
    )


def deygout_loss_db_batch(
    profiles_m: npt.ArrayLike,
    n_points: npt.ArrayLike,
    step_m: npt.ArrayLike,
    h_tx_m: npt.ArrayLike,
    h_rx_m: npt.ArrayLike,
    frequency_mhz: npt.ArrayLike,
    k_factor: float = 4.0 / 3.0,
    max_edges: int = 3,
) -> _Arr:
    """:func:`deygout_loss_db` over many profiles in one parallel numba call.

    Parameters
    ----------
    profiles_m : array_like, shape (m, n_max)
        One profile per row, left-aligned; row k uses its first ``n_points[k]`` values.
    n_points : array_like of int, shape (m,)
        Number of valid points per row (2 to n_max).
    step_m, h_tx_m, h_rx_m, frequency_mhz : array_like, broadcastable to (m,)
        As in :func:`deygout_loss_db`.
    k_factor, max_edges
        As in :func:`deygout_loss_db`.

    Returns
    -------
    loss_db : ndarray, shape (m,)
        Diffraction loss [dB]; NaN for rows whose used points contain NaN (terrain voids).
    """
    prof = np.ascontiguousarray(profiles_m, dtype=float)
    if prof.ndim != 2:
        raise ParameterError("profiles_m", f"shape {prof.shape}", "a 2-D array (m, n_max)")
    m, n_max = prof.shape
    npts = np.asarray(n_points)
    if npts.shape != (m,) or not np.issubdtype(npts.dtype, np.integer):
        raise ParameterError("n_points", f"shape {npts.shape}", f"{m} integers")
    check_range("n_points", npts, 2, n_max)
    npts = npts.astype(np.int64)
    step = np.broadcast_to(np.asarray(step_m, dtype=float), (m,)).copy()
    htx = np.broadcast_to(np.asarray(h_tx_m, dtype=float), (m,)).copy()
    hrx = np.broadcast_to(np.asarray(h_rx_m, dtype=float), (m,)).copy()
    f = np.broadcast_to(np.asarray(frequency_mhz, dtype=float), (m,)).copy()
    check_range("step_m", step, 0.0, None, lo_inclusive=False)
    check_range("h_tx_m", htx, 0.0, None)
    check_range("h_rx_m", hrx, 0.0, None)
    check_range("frequency_mhz", f, 0.0, None, lo_inclusive=False)
    a_e = _earth_radius(k_factor)
    lam = SPEED_OF_LIGHT_M_S / (f * 1e6)
    out: _Arr = _k.deygout_batch(prof, npts, step, htx, hrx, lam, a_e, _check_max_edges(max_edges))
    used = np.arange(n_max)[None, :] < npts[:, None]
    void = np.any(np.isnan(prof) & used, axis=1)
    out[void] = np.nan
    return out
