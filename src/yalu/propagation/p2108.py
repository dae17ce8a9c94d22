"""ITU-R P.2108 clutter loss: terminal height-gain correction, terrestrial and aeronautical
statistical clutter loss.

References
----------
- Recommendation ITU-R P.2108-1 (09/2021), "Prediction of clutter loss", Annex 1:

  - §3.1 height-gain terminal correction model: eqs. (2a) A_h = J(nu) - 6.03 for suburban,
    urban, trees/forest and dense urban, (2b) A_h = -K_h2 log10(h / R) for water/sea and
    open/rural, (2c) nu = K_nu sqrt(h_dif theta_clut), (2d) h_dif = R - h, (2e)
    theta_clut = atan(h_dif / w_s) [deg], (2f) K_h2 = 21.8 + 6.2 log10(f), (2g)
    K_nu = 0.342 sqrt(f), f in GHz, 0.03-3 GHz; A_h = 0 for h >= R. Table 3 gives the default
    representative clutter heights R (10, 10, 10, 15, 15, 20 m) and §3.1.1 the default street
    width w_s = 27 m. J(nu) is the knife-edge loss of ITU-R P.526-15 eq. (31), 0 for
    nu <= -0.78.
  - §3.2 statistical clutter loss for terrestrial paths, 0.5-67 GHz, d >= 0.25 km: eq. (3a)
    L_ctt = -5 log10(10^(-0.2 L_l) + 10^(-0.2 L_s)) - sigma_cb Q^-1(p / 100), (3b) sigma_cb,
    (4a) L_l = -2 log10(10^(-5 log10(f) - 12.5) + 10^(-16.5)), (4b) sigma_l = 4 dB, (5a)
    L_s = 32.98 + 23.9 log10(d) + 3 log10(f), (5b) sigma_s = 6 dB; (6) the loss never exceeds
    its value at d = 2 km. The loss applies at one end of the path; for both ends (d >= 1 km)
    it is added twice.
  - §3.3 Earth-space and aeronautical statistical clutter loss, 10-100 GHz: eq. (7)
    L_ces = (-K_1 ln(1 - p / 100) cot(A_1 (1 - theta / 90) + pi theta / 180))^(0.5 (90 - theta)
    / 90) - 1 - 0.6 Q^-1(p / 100), with K_1 = 93 f^0.175 and A_1 = 0.05.

- Q^-1 is the inverse complementary standard normal distribution (exact here; ITU-R P.1057's
  rational approximation differs by < 4.5e-4).

Test data: NTIA/ITS p2108-test-data (every row checked in ``tests/propagation/test_p2108.py``).
Out-of-range inputs raise :class:`~yalu.errors.ParameterError` naming the parameter and range.
"""

from __future__ import annotations

import enum
import math
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from yalu.errors import ParameterError, check_range, parse_choice

__all__ = [
    "ClutterType",
    "DEFAULT_CLUTTER_HEIGHT_M",
    "DEFAULT_STREET_WIDTH_M",
    "height_gain_correction_db",
    "terrestrial_clutter_loss_db",
    "aeronautical_clutter_loss_db",
    "apply_terminal_correction_db",
    "apply_terrestrial_clutter_loss_db",
]

_Arr = npt.NDArray[np.float64]


class ClutterType(enum.IntEnum):
    """Clutter types of P.2108-1 Table 3 (codes as in the NTIA test data)."""

    WATER_SEA = 1
    OPEN_RURAL = 2
    SUBURBAN = 3
    URBAN = 4
    TREES_FOREST = 5
    DENSE_URBAN = 6


#: P.2108-1 Table 3: default representative clutter height R [m] per clutter type
DEFAULT_CLUTTER_HEIGHT_M: dict[ClutterType, float] = {
    ClutterType.WATER_SEA: 10.0,
    ClutterType.OPEN_RURAL: 10.0,
    ClutterType.SUBURBAN: 10.0,
    ClutterType.URBAN: 15.0,
    ClutterType.TREES_FOREST: 15.0,
    ClutterType.DENSE_URBAN: 20.0,
}
#: P.2108-1 §3.1.1: default street width w_s [m]
DEFAULT_STREET_WIDTH_M = 27.0

# clutter types that use the knife-edge form (2a); the others use (2b)
_KNIFE_EDGE_TYPES = (
    ClutterType.SUBURBAN,
    ClutterType.URBAN,
    ClutterType.TREES_FOREST,
    ClutterType.DENSE_URBAN,
)


def _q_inv(q: _Arr) -> _Arr:
    """Inverse complementary standard normal Q^-1(q), 0 < q < 1 (evaluated per unique value)."""
    nd = NormalDist()
    uniq, inv = np.unique(q, return_inverse=True)
    vals = np.array([nd.inv_cdf(1.0 - float(u)) for u in uniq.ravel()])
    return vals[inv].reshape(q.shape)


def _j_nu_db(nu: _Arr) -> _Arr:
    """Knife-edge loss J(nu) [dB], ITU-R P.526-15 eq. (31); 0 for nu <= -0.78."""
    x = nu - 0.1
    j = 6.9 + 20.0 * np.log10(np.sqrt(x * x + 1.0) + x)
    return np.where(nu > -0.78, j, 0.0)


def _clutter_codes(clutter_type: object, shape: tuple[int, ...] | None = None) -> npt.NDArray:
    """Clutter types as an int array; names/members accepted for a scalar."""
    if isinstance(clutter_type, (str, ClutterType)):
        return np.asarray(int(parse_choice(ClutterType, clutter_type, "clutter_type")))
    codes = np.asarray(clutter_type)
    if codes.dtype.kind not in "iu":
        if (
            codes.dtype.kind == "f"
            and np.all(np.isfinite(codes))
            and np.all(codes == np.round(codes))
        ):
            codes = codes.astype(np.int64)
        else:
            bad = codes.ravel()[0] if codes.size else codes
            raise ParameterError("clutter_type", bad, "a clutter type code 1-6 or name")
    valid = np.isin(codes, [int(c) for c in ClutterType])
    if not np.all(valid):
        raise ParameterError(
            "clutter_type",
            int(codes[~valid].ravel()[0]),
            "1-6 (" + ", ".join(f"{int(c)} {c.name.lower()}" for c in ClutterType) + ")",
        )
    return codes


def height_gain_correction_db(
    frequency_mhz: npt.ArrayLike,
    antenna_height_m: npt.ArrayLike,
    clutter_type: object,
    clutter_height_m: npt.ArrayLike | None = None,
    street_width_m: npt.ArrayLike = DEFAULT_STREET_WIDTH_M,
) -> _Arr | float:
    """Height-gain terminal correction A_h [dB], ITU-R P.2108-1 §3.1, eqs. (2a)-(2g).

    The loss to add to a basic transmission loss computed to (or from) the representative
    clutter height R, for a terminal at ``antenna_height_m`` inside the clutter. 0 when the
    antenna is at or above R.

    Parameters
    ----------
    frequency_mhz : array_like
        Frequency [MHz], 30-3000.
    antenna_height_m : array_like
        Antenna height above ground [m], > 0.
    clutter_type : ClutterType, str, int or array_like of int
        Clutter type (P.2108-1 Table 3), codes 1-6 as :class:`ClutterType`.
    clutter_height_m : array_like, optional
        Representative clutter height R [m], > 0; default P.2108-1 Table 3 per type.
    street_width_m : array_like
        Street width w_s [m], > 0 (default 27 m, §3.1.1).

    Returns
    -------
    ndarray or float
        A_h [dB], broadcast over the inputs.
    """
    f_mhz = np.asarray(frequency_mhz, dtype=float)
    h = np.asarray(antenna_height_m, dtype=float)
    ws = np.asarray(street_width_m, dtype=float)
    check_range("frequency_mhz", f_mhz, 30.0, 3000.0)
    check_range("antenna_height_m", h, 0.0, None, lo_inclusive=False)
    check_range("street_width_m", ws, 0.0, None, lo_inclusive=False)
    codes = _clutter_codes(clutter_type)
    if clutter_height_m is None:
        table = np.zeros(max(int(c) for c in ClutterType) + 1)
        for c, r_m in DEFAULT_CLUTTER_HEIGHT_M.items():
            table[int(c)] = r_m
        r = table[codes]
    else:
        r = np.asarray(clutter_height_m, dtype=float)
        check_range("clutter_height_m", r, 0.0, None, lo_inclusive=False)
    f = f_mhz / 1000.0
    with np.errstate(invalid="ignore", divide="ignore"):
        h_dif = r - h  # (2d)
        theta_clut = np.degrees(np.arctan(h_dif / ws))  # (2e)
        k_h2 = 21.8 + 6.2 * np.log10(f)  # (2f)
        k_nu = 0.342 * np.sqrt(f)  # (2g)
        nu = k_nu * np.sqrt(h_dif * theta_clut)  # (2c)
        knife = np.isin(codes, [int(c) for c in _KNIFE_EDGE_TYPES])
        a_h = np.where(knife, _j_nu_db(nu) - 6.03, -k_h2 * np.log10(h / r))  # (2a), (2b)
    a_h = np.where(h >= r, 0.0, a_h)
    return float(a_h) if a_h.ndim == 0 else a_h


def _terrestrial_db(f_ghz: _Arr, d_km: _Arr, q_inv: _Arr) -> _Arr:
    sigma_l = 4.0  # (4b)
    l_l = -2.0 * np.log10(10.0 ** (-5.0 * np.log10(f_ghz) - 12.5) + 10.0**-16.5)  # (4a)
    sigma_s = 6.0  # (5b)
    l_s = 32.98 + 23.9 * np.log10(d_km) + 3.0 * np.log10(f_ghz)  # (5a)
    w_l = 10.0 ** (-0.2 * l_l)
    w_s = 10.0 ** (-0.2 * l_s)
    sigma_cb = np.sqrt((sigma_l**2 * w_l + sigma_s**2 * w_s) / (w_l + w_s))  # (3b)
    return -5.0 * np.log10(w_l + w_s) - sigma_cb * q_inv  # (3a)


def terrestrial_clutter_loss_db(
    frequency_mhz: npt.ArrayLike,
    distance_km: npt.ArrayLike,
    location_pct: npt.ArrayLike = 50.0,
) -> _Arr | float:
    """Statistical clutter loss L_ctt [dB] at one end of a terrestrial path, not exceeded at
    ``location_pct`` % of locations; ITU-R P.2108-1 §3.2, eqs. (3a)-(6).

    Parameters
    ----------
    frequency_mhz : array_like
        Frequency [MHz], 500-67000.
    distance_km : array_like
        Path length [km], >= 0.25 (>= 1 to apply the loss at both ends).
    location_pct : array_like
        Percentage of locations [%], 0 < p < 100.

    Returns
    -------
    ndarray or float
        L_ctt [dB]: the smaller of the loss at ``distance_km`` and at 2 km (eq. (6)).
    """
    f_mhz = np.asarray(frequency_mhz, dtype=float)
    d = np.asarray(distance_km, dtype=float)
    p = np.asarray(location_pct, dtype=float)
    check_range("frequency_mhz", f_mhz, 500.0, 67000.0)
    check_range("distance_km", d, 0.25, None)
    check_range("location_pct", p, 0.0, 100.0, lo_inclusive=False, hi_inclusive=False)
    f = f_mhz / 1000.0
    q_inv = _q_inv(np.broadcast_to(p / 100.0, np.broadcast_shapes(p.shape, f.shape, d.shape)))
    loss = np.minimum(_terrestrial_db(f, d, q_inv), _terrestrial_db(f, np.asarray(2.0), q_inv))
    return float(loss) if loss.ndim == 0 else loss


def aeronautical_clutter_loss_db(
    frequency_mhz: npt.ArrayLike,
    elevation_deg: npt.ArrayLike,
    location_pct: npt.ArrayLike = 50.0,
) -> _Arr | float:
    """Earth-space / aeronautical statistical clutter loss L_ces [dB] not exceeded at
    ``location_pct`` % of locations; ITU-R P.2108-1 §3.3, eq. (7).

    Parameters
    ----------
    frequency_mhz : array_like
        Frequency [MHz], 10000-100000.
    elevation_deg : array_like
        Elevation angle of the path above the horizontal [deg], 0-90.
    location_pct : array_like
        Percentage of locations [%], 0 < p < 100.
    """
    f_mhz = np.asarray(frequency_mhz, dtype=float)
    th = np.asarray(elevation_deg, dtype=float)
    p = np.asarray(location_pct, dtype=float)
    check_range("frequency_mhz", f_mhz, 10000.0, 100000.0)
    check_range("elevation_deg", th, 0.0, 90.0)
    check_range("location_pct", p, 0.0, 100.0, lo_inclusive=False, hi_inclusive=False)
    f = f_mhz / 1000.0
    k1 = 93.0 * f**0.175
    a1 = 0.05
    cot = 1.0 / np.tan(a1 * (1.0 - th / 90.0) + math.pi * th / 180.0)
    q_inv = _q_inv(np.broadcast_to(p / 100.0, np.broadcast_shapes(p.shape, f.shape, th.shape)))
    base = -k1 * np.log(1.0 - p / 100.0) * cot
    loss = base ** (0.5 * (90.0 - th) / 90.0) - 1.0 - 0.6 * q_inv  # (7)
    return float(loss) if loss.ndim == 0 else loss


def apply_terminal_correction_db(
    loss_db: npt.ArrayLike,
    frequency_mhz: float,
    antenna_height_m: float,
    clutter_type: npt.ArrayLike,
    clutter_height_m: npt.ArrayLike | None = None,
    street_width_m: float = DEFAULT_STREET_WIDTH_M,
) -> _Arr:
    """A path-loss map with the P.2108 §3.1 terminal correction added at the mobile end.

    A pure function: ``loss_db`` is not modified. ``clutter_type`` is a map of the same shape
    (codes 1-6 of :class:`ClutterType`, 0 where there is no clutter information: those
    pixels, and NaN losses, are returned unchanged). The loss map should be computed with the
    mobile at the representative clutter height (P.2108-1 §3.1), e.g. from land cover.

    Parameters
    ----------
    loss_db : array_like
        Basic transmission loss [dB].
    frequency_mhz, antenna_height_m, street_width_m :
        As :func:`height_gain_correction_db`.
    clutter_type : array_like of int
        Clutter type per pixel (0 = none).
    clutter_height_m : array_like, optional
        Representative clutter height per pixel [m]; default P.2108-1 Table 3.
    """
    loss = np.array(loss_db, dtype=float)
    codes = np.broadcast_to(np.asarray(clutter_type), loss.shape)
    has = codes != 0
    if not np.any(has):
        return loss
    r = None
    if clutter_height_m is not None:
        r = np.broadcast_to(np.asarray(clutter_height_m, dtype=float), loss.shape)[has]
    a_h = height_gain_correction_db(
        frequency_mhz, antenna_height_m, codes[has].astype(np.int64), r, street_width_m
    )
    loss[has] = loss[has] + a_h
    return loss


def apply_terrestrial_clutter_loss_db(
    loss_db: npt.ArrayLike,
    frequency_mhz: float,
    distance_km: npt.ArrayLike,
    location_pct: float = 50.0,
    *,
    both_ends: bool = False,
) -> _Arr:
    """A path-loss map with the P.2108 §3.2 statistical clutter loss added.

    A pure function. The loss applies at the mobile end (``both_ends``: also at the site end,
    valid for d >= 1 km, P.2108-1 §3.2). Pixels nearer than the model's 0.25 km (1 km for both
    ends) are returned unchanged, as are NaN losses.

    Parameters
    ----------
    loss_db : array_like
        Basic transmission loss [dB].
    frequency_mhz : float
        Frequency [MHz], 500-67000.
    distance_km : array_like
        Path length per pixel [km].
    location_pct : float
        Percentage of locations [%].
    both_ends : bool
        Add the loss for both terminals.
    """
    loss = np.array(loss_db, dtype=float)
    d = np.broadcast_to(np.asarray(distance_km, dtype=float), loss.shape)
    d_min = 1.0 if both_ends else 0.25
    ok = np.isfinite(d) & (d >= d_min)
    if not np.any(ok):
        return loss
    l_ctt = np.asarray(terrestrial_clutter_loss_db(frequency_mhz, d[ok], location_pct))
    loss[ok] = loss[ok] + (2.0 if both_ends else 1.0) * l_ctt
    return loss
