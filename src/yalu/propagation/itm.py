"""The Irregular Terrain Model (Longley-Rice), version 1.4 of the NTIA/ITS reference.

Point-to-point mode over a terrain profile (:func:`p2p`, :func:`p2p_pfl`, and :func:`p2p_batch`
for many profiles in one parallel numba call) and area mode (:func:`area`), each with
time/location/situation variability.

The model is written from its published description:

- G. A. Hufford, "The ITS Irregular Terrain Model, version 1.2.2: The Algorithm" (NTIA/ITS), the
  main source; sections and equations are cited as [Alg, Eq n] in the kernels;
- A. G. Longley and P. L. Rice, ESSA Tech. Rep. ERL 79-ITS 67 (1968), and P. L. Rice et al.,
  NBS Technical Note 101 (1967), for the underlying curves;
- the NTIA ITM v1.4 reference documentation for the v1.4 corrections (path-height refractivity,
  terrain windows, least-squares fit end points), the input limits, the numeric error codes
  (1000 and up) and the warning bits.

Results agree with the NTIA reference vectors to rounding (see ``tests/propagation/test_itm.py``).
Other numba code calls the kernels (``p2p_core`` and its pieces) through
:mod:`yalu.propagation.itm_kernels`. :func:`reference_case` evaluates one case of the reference's
own test-vector schema and reports errors as codes, as the reference does.

Units: heights and distances in metres unless named ``_km``; frequency in MHz; refractivity in
N-units; conductivity ``sigma`` in S/m; percentages in percent (0 < p < 100, exclusive). Loss is
basic transmission loss in dB. ``time_pct`` is the fraction of time for which the loss does not
exceed the value returned (higher percentages give higher loss); likewise for location and
situation.
"""

from __future__ import annotations

import enum
import math
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

from yalu.cpu import readonly
from yalu.errors import ChoiceError, ITMError, ParameterError, parse_choice
from yalu.propagation import _itm_kernels as _k

__all__ = [
    "Climate",
    "Polarization",
    "SitingCriteria",
    "Mode",
    "VariabilityMode",
    "Warning",
    "ErrorCode",
    "ITMResult",
    "ITMBatchResult",
    "p2p",
    "p2p_pfl",
    "p2p_batch",
    "schema_error",
    "area",
    "coerce_options",
    "error_for_code",
    "reference_case",
    "REFERENCE_KEYS",
    "location_sigma_db",
]


class Climate(enum.IntEnum):
    """Radio climate [Alg, Table 5.1]."""

    EQUATORIAL = 1
    CONTINENTAL_SUBTROPICAL = 2
    MARITIME_SUBTROPICAL = 3
    DESERT = 4
    CONTINENTAL_TEMPERATE = 5
    MARITIME_TEMPERATE_LAND = 6
    MARITIME_TEMPERATE_SEA = 7


class Polarization(enum.IntEnum):
    HORIZONTAL = 0
    VERTICAL = 1


class SitingCriteria(enum.IntEnum):
    """How carefully a terminal is sited on high ground (area mode) [Alg, Eq 3.2]."""

    RANDOM = 0
    CAREFUL = 1
    VERY_CAREFUL = 2


class Mode(enum.IntEnum):
    """Propagation mode of the reference attenuation."""

    LOS = 1
    DIFFRACTION = 2
    TROPOSCATTER = 3

    def __str__(self) -> str:  # print the name, not the bare integer (int() gives the code)
        return self.name


class VariabilityMode(enum.IntEnum):
    """Base mode of variability (``mdvar``); add 10 to drop location variability and 20 to drop
    direct situation variability [Alg, Sec 5]."""

    SINGLE_MESSAGE = 0
    ACCIDENTAL = 1
    MOBILE = 2
    BROADCAST = 3


class Warning(enum.IntFlag):  # noqa: A001 - the name the API promises
    """Warning bits of the ITM v1.4 reference: the result is computed but may be unreliable."""

    NONE = 0
    TX_TERMINAL_HEIGHT = 0x0001  #: h_tx outside 1..1000 m
    RX_TERMINAL_HEIGHT = 0x0002  #: h_rx outside 1..1000 m
    FREQUENCY = 0x0004  #: frequency outside 40..10000 MHz
    PATH_DISTANCE_TOO_BIG_1 = 0x0008  #: path longer than 1000 km
    PATH_DISTANCE_TOO_BIG_2 = 0x0010  #: path longer than 2000 km
    PATH_DISTANCE_TOO_SMALL_1 = 0x0020  #: path shorter than |h_e1 - h_e2| / 0.2
    PATH_DISTANCE_TOO_SMALL_2 = 0x0040  #: path shorter than 1 km
    TX_HORIZON_ANGLE = 0x0080  #: |theta_hzn,tx| > 0.2 rad (small-angle approximations)
    RX_HORIZON_ANGLE = 0x0100  #: |theta_hzn,rx| > 0.2 rad
    TX_HORIZON_DISTANCE_1 = 0x0200  #: tx horizon < 0.1 of its smooth-earth horizon
    RX_HORIZON_DISTANCE_1 = 0x0400  #: rx horizon < 0.1 of its smooth-earth horizon
    TX_HORIZON_DISTANCE_2 = 0x0800  #: tx horizon > 3 times its smooth-earth horizon
    RX_HORIZON_DISTANCE_2 = 0x1000  #: rx horizon > 3 times its smooth-earth horizon
    EXTREME_VARIABILITIES = 0x2000  #: a quantile lies beyond 3.1 standard deviations
    SURFACE_REFRACTIVITY = 0x4000  #: surface refractivity below 250 N-units

    def __str__(self) -> str:  # "NONE" or "TX_HORIZON_ANGLE|RX_HORIZON_ANGLE", not the bit mask
        if self.name:
            return self.name
        return "|".join(str(m.name) for m in type(self) if m and m in self) or str(int(self))


class ErrorCode(enum.IntEnum):
    """Return codes of the ITM v1.4 reference (``rtn``), plus yalu's ``INVALID_PROFILE``."""

    SUCCESS = 0
    SUCCESS_WITH_WARNINGS = 1
    TX_TERMINAL_HEIGHT = 1000
    RX_TERMINAL_HEIGHT = 1001
    INVALID_RADIO_CLIMATE = 1002
    INVALID_TIME = 1003
    INVALID_LOCATION = 1004
    INVALID_SITUATION = 1005
    REFRACTIVITY = 1008
    FREQUENCY = 1009
    POLARIZATION = 1010
    EPSILON = 1011
    SIGMA = 1012
    GROUND_IMPEDANCE = 1013
    MDVAR = 1014
    EFFECTIVE_EARTH = 1016
    PATH_DISTANCE = 1017
    DELTA_H = 1018
    TX_SITING_CRITERIA = 1019
    RX_SITING_CRITERIA = 1020
    SURFACE_REFRACTIVITY_SMALL = 1021
    SURFACE_REFRACTIVITY_LARGE = 1022
    INVALID_PROFILE = 1100  #: yalu only: < 2 points, bad step, or NaN/void elevations


# code -> (parameter name, valid range)
_ERROR_PARAMS: dict[int, tuple[str, str]] = {
    1000: ("h_tx_m", "0.5 to 3000"),
    1001: ("h_rx_m", "0.5 to 3000"),
    1002: ("climate", "1 to 7 (Climate)"),
    1003: ("time_pct", "in (0, 100)"),
    1004: ("location_pct", "in (0, 100)"),
    1005: ("situation_pct", "in (0, 100)"),
    1008: ("n0", "250 to 400"),
    1009: ("frequency_mhz", "20 to 20000"),
    1010: ("polarization", "0 (horizontal) or 1 (vertical)"),
    1011: ("epsilon", ">= 1 and finite"),
    1012: ("sigma", "> 0 and finite"),
    1013: ("epsilon", "such that the ground impedance has Re(Z_g) > |Im(Z_g)| (epsilon > 1)"),
    1014: ("mdvar", "0..3, optionally plus 10 and/or 20"),
    1016: ("n0", "such that the effective earth radius is 4000 to 13333 km"),
    1017: ("d_km", "> 0"),
    1018: ("delta_h_m", ">= 0"),
    1019: ("tx_siting", "0, 1 or 2 (SitingCriteria)"),
    1020: ("rx_siting", "0, 1 or 2 (SitingCriteria)"),
    1021: ("n0", "such that the surface refractivity at path height is >= 150"),
    1022: ("n0", "such that the surface refractivity at path height is <= 400"),
    1100: ("profile_m", "at least 2 finite elevations with a finite step_m > 0"),
}


def error_for_code(code: int, values: dict[str, Any] | None = None) -> ITMError:
    """The :class:`yalu.errors.ITMError` for a reference return code, naming the parameter."""
    name, valid = _ERROR_PARAMS.get(int(code), ("input", "valid ITM input"))
    value = (values or {}).get(name)
    return ITMError(int(code), name, value, valid)


@dataclass(frozen=True)
class ITMResult:
    """Result of one ITM evaluation.

    Attributes
    ----------
    loss_db : float
        Basic transmission loss [dB] at the requested quantiles.
    mode : Mode
        Propagation mode of the reference attenuation.
    warnings : Warning
        Warning flags (bit mask of the reference).
    rtn : int
        0 (ok) or 1 (ok with warnings).
    d_hzn_m : numpy.ndarray
        Horizon distances [m] of (tx, rx).
    theta_hzn_rad : numpy.ndarray
        Horizon elevation angles [rad] of (tx, rx).
    h_e_m : numpy.ndarray
        Effective antenna heights [m] of (tx, rx).
    delta_h_m : float
        Terrain irregularity parameter [m].
    a_ref_db : float
        Reference attenuation below free space [dB] (median, before variability).
    a_fs_db : float
        Free-space basic transmission loss [dB].
    n_s : float
        Surface refractivity [N-units].
    d_km : float
        Path length [km].
    """

    loss_db: float
    mode: Mode
    warnings: Warning
    rtn: int
    d_hzn_m: np.ndarray
    theta_hzn_rad: np.ndarray
    h_e_m: np.ndarray
    delta_h_m: float
    a_ref_db: float
    a_fs_db: float
    n_s: float
    d_km: float


@dataclass(frozen=True)
class ITMBatchResult:
    """Results of :func:`p2p_batch`, one row per profile.

    ``rtn`` >= 1000 marks an invalid profile (its loss and intermediates are NaN, ``mode`` 0);
    ``warnings`` is the raw bit mask (see :class:`Warning`).
    """

    loss_db: np.ndarray
    mode: np.ndarray
    warnings: np.ndarray
    rtn: np.ndarray
    d_hzn_m: np.ndarray
    theta_hzn_rad: np.ndarray
    h_e_m: np.ndarray
    delta_h_m: np.ndarray
    a_ref_db: np.ndarray
    a_fs_db: np.ndarray
    n_s: np.ndarray
    d_km: np.ndarray


# ---------------------------------------------------------------------------------------------
# coercion helpers


def _int_option(enum_cls: type[enum.IntEnum], value: Any, name: str, code: int) -> int:
    """Enum member, its value or its name -> int; anything else -> ITMError(code)."""
    if isinstance(value, str):
        try:
            return int(parse_choice(enum_cls, value, name))
        except ChoiceError:
            pass
    elif isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    elif isinstance(value, (float, np.floating)) and math.isfinite(value) and value == int(value):
        return int(value)
    _, valid = _ERROR_PARAMS[code]
    raise ITMError(code, name, value, valid)


def _mdvar(value: Any) -> int:
    if isinstance(value, str):
        try:
            return int(parse_choice(VariabilityMode, value, "mdvar"))
        except ChoiceError:
            pass
    try:
        return operator.index(value)
    except TypeError:
        if isinstance(value, (float, np.floating)) and math.isfinite(value) and value == int(value):
            return int(value)
    raise error_for_code(1014, {"mdvar": value})


def _real(value: Any, name: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ParameterError(name, value, "a real number") from None


def coerce_options(
    *,
    climate: Climate | int | str = 5,
    n0: Any = 301.0,
    polarization: Polarization | int | str = 1,
    epsilon: Any = 15.0,
    sigma: Any = 0.005,
    mdvar: Any = 12,
    time_pct: Any = 50.0,
    location_pct: Any = 50.0,
    situation_pct: Any = 50.0,
) -> dict[str, Any]:
    """The ITM options shared by every mode as plain numbers, checked for type only.

    ``climate``, ``polarization`` and ``mdvar`` accept an enum member, its integer value or its
    name (``"continental_temperate"``, ``"vertical"``, ``"mobile"``); the others must be real
    numbers. Ranges are checked by the model itself, which reports them with the reference's
    error codes.

    Returns
    -------
    dict
        Keys ``climate``, ``polarization``, ``mdvar`` (int) and ``n0``, ``epsilon``, ``sigma``,
        ``time_pct``, ``location_pct``, ``situation_pct`` (float), in that order of checking.

    Raises
    ------
    yalu.errors.ITMError
        A climate, polarization or mdvar that is no valid choice (codes 1002, 1010, 1014).
    yalu.errors.ParameterError
        Another option that is not a real number.

    Examples
    --------
    >>> coerce_options(climate="maritime_temperate_land", mdvar="mobile")["climate"]
    6
    """
    return {
        "climate": _int_option(Climate, climate, "climate", 1002),
        "n0": _real(n0, "n0"),
        "polarization": _int_option(Polarization, polarization, "polarization", 1010),
        "epsilon": _real(epsilon, "epsilon"),
        "sigma": _real(sigma, "sigma"),
        "mdvar": _mdvar(mdvar),
        "time_pct": _real(time_pct, "time_pct"),
        "location_pct": _real(location_pct, "location_pct"),
        "situation_pct": _real(situation_pct, "situation_pct"),
    }


def _result_from_out(out: np.ndarray) -> ITMResult:
    return ITMResult(
        loss_db=float(out[_k.OUT_LOSS]),
        mode=Mode(int(out[_k.OUT_MODE])),
        warnings=Warning(int(out[_k.OUT_WARN])),
        rtn=int(out[_k.OUT_RTN]),
        d_hzn_m=np.array([out[_k.OUT_D_HZN_TX], out[_k.OUT_D_HZN_RX]]),
        theta_hzn_rad=np.array([out[_k.OUT_THETA_TX], out[_k.OUT_THETA_RX]]),
        h_e_m=np.array([out[_k.OUT_H_E_TX], out[_k.OUT_H_E_RX]]),
        delta_h_m=float(out[_k.OUT_DELTA_H]),
        a_ref_db=float(out[_k.OUT_A_REF]),
        a_fs_db=float(out[_k.OUT_A_FS]),
        n_s=float(out[_k.OUT_N_S]),
        d_km=float(out[_k.OUT_D_KM]),
    )


# ---------------------------------------------------------------------------------------------
# point-to-point


def p2p(
    profile_m: Any,
    step_m: float,
    h_tx_m: float,
    h_rx_m: float,
    frequency_mhz: float,
    *,
    climate: Climate | int | str = 5,
    n0: float = 301.0,
    polarization: Polarization | int | str = 1,
    epsilon: float = 15.0,
    sigma: float = 0.005,
    mdvar: int = 12,
    time_pct: float = 50.0,
    location_pct: float = 50.0,
    situation_pct: float = 50.0,
) -> ITMResult:
    """ITM point-to-point loss over a terrain profile (ITM_P2P_TLS) [Alg, Sec 3-5].

    Parameters
    ----------
    profile_m : array_like
        Terrain elevations [m], equally spaced, first point under the transmitter (terminal 1).
        At least 2 points, all finite.
    step_m : float
        Spacing of the profile points [m], > 0.
    h_tx_m, h_rx_m : float
        Antenna heights above ground [m], 0.5 to 3000 (warning outside 1 to 1000).
    frequency_mhz : float
        Frequency [MHz], 20 to 20000 (warning outside 40 to 10000).
    climate : Climate, int or str
        Radio climate, 1 to 7. Default continental temperate.
    n0 : float
        Surface refractivity at sea level [N-units], 250 to 400.
    polarization : Polarization, int or str
        0 horizontal, 1 vertical.
    epsilon : float
        Relative permittivity of the ground, >= 1.
    sigma : float
        Ground conductivity [S/m], > 0.
    mdvar : int
        Mode of variability: 0 single message, 1 accidental, 2 mobile, 3 broadcast; +10 without
        location variability, +20 without direct situation variability.
    time_pct, location_pct, situation_pct : float
        Quantiles [%], exclusive range (0, 100).

    Returns
    -------
    ITMResult

    Raises
    ------
    yalu.errors.ITMError
        For invalid input, with the reference's numeric code (``.code``) and the parameter name;
        code 1100 (yalu's own) for a profile with fewer than 2 points, a bad ``step_m`` or
        NaN/void elevations.

    Notes
    -----
    Warnings do not raise: they are in ``result.warnings`` (and ``rtn`` is 1). On a few extreme
    geometries (a steep foreground a few steps from a terminal, always flagged by a horizon
    warning) Vogler's smooth-earth formulas break down and the reference returns NaN; so does
    yalu.

    Examples
    --------
    >>> import numpy as np
    >>> r = p2p(np.full(101, 100.0), 100.0, 30.0, 2.0, 900.0)
    >>> r.mode, round(r.d_km, 1)
    (<Mode.LOS: 1>, 10.0)
    """
    elev = np.ascontiguousarray(profile_m, dtype=np.float64)
    if elev.ndim != 1:
        raise ParameterError("profile_m", f"array of shape {elev.shape}", "a 1-D array")
    return _p2p_checked(
        elev, 0, elev.shape[0] - 1, _real(step_m, "step_m"), h_tx_m, h_rx_m, frequency_mhz,
        climate, n0, polarization, epsilon, sigma, mdvar, time_pct, location_pct, situation_pct,
        profile_name="profile_m",
    )  # fmt: skip


def p2p_pfl(
    pfl: Any,
    h_tx_m: float,
    h_rx_m: float,
    frequency_mhz: float,
    *,
    climate: Climate | int | str = 5,
    n0: float = 301.0,
    polarization: Polarization | int | str = 1,
    epsilon: float = 15.0,
    sigma: float = 0.005,
    mdvar: int = 12,
    time_pct: float = 50.0,
    location_pct: float = 50.0,
    situation_pct: float = 50.0,
) -> ITMResult:
    """:func:`p2p` with the profile in ITM "pfl" form ``[n_intervals, step_m, e0, ..., e_n]``.

    ``len(pfl)`` must be ``n_intervals + 3``. Other parameters as in :func:`p2p`.
    """
    arr = np.ascontiguousarray(pfl, dtype=np.float64)
    if arr.ndim != 1 or arr.shape[0] < 4:
        raise ITMError(1100, "pfl", f"array of shape {arr.shape}", "[n_intervals, step_m, e0..en]")
    n = arr[0]
    if not (math.isfinite(n) and n == int(n) and n >= 1 and arr.shape[0] == int(n) + 3):
        raise ITMError(
            1100, "pfl", f"n_intervals={n}, length {arr.shape[0]}", "length n_intervals + 3"
        )
    return _p2p_checked(
        arr, 2, int(n), float(arr[1]), h_tx_m, h_rx_m, frequency_mhz, climate, n0,
        polarization, epsilon, sigma, mdvar, time_pct, location_pct, situation_pct,
        profile_name="pfl",
    )  # fmt: skip


def _p2p_checked(
    elev: np.ndarray,
    i0: int,
    n_intervals: int,
    step_m: float,
    h_tx_m: Any,
    h_rx_m: Any,
    frequency_mhz: Any,
    climate: Any,
    n0: Any,
    polarization: Any,
    epsilon: Any,
    sigma: Any,
    mdvar: Any,
    time_pct: Any,
    location_pct: Any,
    situation_pct: Any,
    profile_name: str,
) -> ITMResult:
    values: dict[str, Any] = {
        "h_tx_m": _real(h_tx_m, "h_tx_m"),
        "h_rx_m": _real(h_rx_m, "h_rx_m"),
        "frequency_mhz": _real(frequency_mhz, "frequency_mhz"),
        **coerce_options(
            climate=climate,
            n0=n0,
            polarization=polarization,
            epsilon=epsilon,
            sigma=sigma,
            mdvar=mdvar,
            time_pct=time_pct,
            location_pct=location_pct,
            situation_pct=situation_pct,
        ),
    }
    out = np.empty(_k.OUT_LEN)
    scratch = np.empty(_k.SCRATCH_LEN)
    _k.p2p_core(
        elev, i0, n_intervals, step_m, values["h_tx_m"], values["h_rx_m"],
        values["frequency_mhz"], values["climate"], values["n0"], values["polarization"],
        values["epsilon"], values["sigma"], values["mdvar"], values["time_pct"],
        values["location_pct"], values["situation_pct"], scratch, out,
    )  # fmt: skip
    rtn = int(out[_k.OUT_RTN])
    if rtn >= 1000:
        if rtn == _k.ERR_PROFILE:
            shown = f"{n_intervals + 1} points, step_m={step_m}"
            raise ITMError(1100, profile_name, shown, _ERROR_PARAMS[1100][1])
        raise error_for_code(rtn, values)
    return _result_from_out(out)


def _per_profile(value: Any, n: int, name: str, dtype: type) -> np.ndarray:
    arr = np.asarray(value)
    if dtype is np.int64:
        if arr.dtype.kind == "f":
            ok = np.isfinite(arr) & (arr == np.round(arr))
            arr = np.where(ok, arr, -1).astype(np.int64)  # -1: rejected with the option's code
        elif arr.dtype.kind not in "iub":
            raise ParameterError(name, value, "integers, scalar or one per profile")
    elif arr.dtype.kind not in "fiub":
        raise ParameterError(name, value, "real numbers, scalar or one per profile")
    try:
        # read-only, broadcast or not: one compiled signature of the batch kernel
        return readonly(np.ascontiguousarray(np.broadcast_to(arr.astype(dtype, copy=False), (n,))))
    except ValueError:
        raise ParameterError(name, f"shape {arr.shape}", f"a scalar or shape ({n},)") from None


def p2p_batch(
    elevation_m: Any,
    offsets: Any,
    step_m: Any,
    h_tx_m: Any,
    h_rx_m: Any,
    frequency_mhz: Any,
    *,
    climate: Any = 5,
    n0: Any = 301.0,
    polarization: Any = 1,
    epsilon: Any = 15.0,
    sigma: Any = 0.005,
    mdvar: Any = 12,
    time_pct: Any = 50.0,
    location_pct: Any = 50.0,
    situation_pct: Any = 50.0,
    threads: int | None = None,
) -> ITMBatchResult:
    """ITM point-to-point over many profiles in one parallel numba call.

    Parameters
    ----------
    elevation_m : array_like
        All profiles' elevations [m] concatenated (1-D).
    offsets : array_like of int
        Length N + 1: profile p is ``elevation_m[offsets[p]:offsets[p + 1]]``, first point
        under the transmitter.
    step_m : float or array_like
        Point spacing [m], scalar or one per profile.
    h_tx_m, h_rx_m, frequency_mhz, climate, n0, polarization, epsilon, sigma, mdvar,
    time_pct, location_pct, situation_pct : scalar or array_like (N,)
        As in :func:`p2p` (``climate``/``polarization`` as ints here).
    threads : int, optional
        Number of numba threads for this call (1 .. ``numba.config.NUMBA_NUM_THREADS``).

    Returns
    -------
    ITMBatchResult
        Invalid profiles or parameters do not raise: their ``rtn`` carries the error code (the
        reference's, or 1100 for an unusable profile) and their loss is NaN.

    Raises
    ------
    yalu.errors.ParameterError
        Only for malformed containers (``offsets`` not increasing or out of bounds, wrong shapes,
        bad ``threads``).
    """
    elev = np.ascontiguousarray(elevation_m, dtype=np.float64)
    if elev.ndim != 1:
        raise ParameterError("elevation_m", f"shape {elev.shape}", "a 1-D array")
    offs_in = np.asarray(offsets)
    if offs_in.ndim != 1 or offs_in.shape[0] < 1 or offs_in.dtype.kind not in "iu":
        raise ParameterError(
            "offsets", f"shape {offs_in.shape}, dtype {offs_in.dtype}", "1-D ints of length N + 1"
        )
    offs = np.ascontiguousarray(offs_in, dtype=np.int64)
    if offs[0] < 0 or offs[-1] > elev.shape[0] or np.any(np.diff(offs) < 0):
        raise ParameterError(
            "offsets", f"[{offs[0]} .. {offs[-1]}]", f"non-decreasing within 0..{elev.shape[0]}"
        )
    n = offs.shape[0] - 1
    f64, i64 = np.float64, np.int64
    args = (
        _per_profile(step_m, n, "step_m", f64),
        _per_profile(h_tx_m, n, "h_tx_m", f64),
        _per_profile(h_rx_m, n, "h_rx_m", f64),
        _per_profile(frequency_mhz, n, "frequency_mhz", f64),
        _per_profile(climate, n, "climate", i64),
        _per_profile(n0, n, "n0", f64),
        _per_profile(polarization, n, "polarization", i64),
        _per_profile(epsilon, n, "epsilon", f64),
        _per_profile(sigma, n, "sigma", f64),
        _per_profile(mdvar, n, "mdvar", i64),
        _per_profile(time_pct, n, "time_pct", f64),
        _per_profile(location_pct, n, "location_pct", f64),
        _per_profile(situation_pct, n, "situation_pct", f64),
    )
    out = np.empty((n, _k.OUT_LEN))
    previous = numba.get_num_threads()
    if threads is not None:
        max_threads = int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
        if not isinstance(threads, (int, np.integer)) or not 1 <= threads <= max_threads:
            raise ParameterError("threads", threads, f"an integer 1 to {max_threads}")
        numba.set_num_threads(int(threads))
    try:
        # read-only views of every input: one compiled signature whatever the caller passed
        _k.p2p_batch_kernel(readonly(elev), readonly(offs), *args, out)
    finally:
        if threads is not None:
            numba.set_num_threads(previous)
    return ITMBatchResult(
        loss_db=out[:, _k.OUT_LOSS].copy(),
        mode=out[:, _k.OUT_MODE].astype(np.int64),
        warnings=out[:, _k.OUT_WARN].astype(np.int64),
        rtn=out[:, _k.OUT_RTN].astype(np.int64),
        d_hzn_m=out[:, [_k.OUT_D_HZN_TX, _k.OUT_D_HZN_RX]].copy(),
        theta_hzn_rad=out[:, [_k.OUT_THETA_TX, _k.OUT_THETA_RX]].copy(),
        h_e_m=out[:, [_k.OUT_H_E_TX, _k.OUT_H_E_RX]].copy(),
        delta_h_m=out[:, _k.OUT_DELTA_H].copy(),
        a_ref_db=out[:, _k.OUT_A_REF].copy(),
        a_fs_db=out[:, _k.OUT_A_FS].copy(),
        n_s=out[:, _k.OUT_N_S].copy(),
        d_km=out[:, _k.OUT_D_KM].copy(),
    )


# ---------------------------------------------------------------------------------------------
# area mode


def area(
    d_km: float,
    delta_h_m: float,
    h_tx_m: float,
    h_rx_m: float,
    tx_siting: SitingCriteria | int | str,
    rx_siting: SitingCriteria | int | str,
    frequency_mhz: float,
    *,
    climate: Climate | int | str = 5,
    n0: float = 301.0,
    polarization: Polarization | int | str = 1,
    epsilon: float = 15.0,
    sigma: float = 0.005,
    mdvar: int = 12,
    time_pct: float = 50.0,
    location_pct: float = 50.0,
    situation_pct: float = 50.0,
) -> ITMResult:
    """ITM area mode (ITM_AREA_TLS): loss over a path of length ``d_km`` across terrain of
    irregularity ``delta_h_m``, without a profile [Alg, Sec 3 "qlra", Eq 3.1-3.4].

    Parameters
    ----------
    d_km : float
        Path length [km], > 0.
    delta_h_m : float
        Terrain irregularity parameter [m], >= 0 (e.g. 90 for rolling plains, 200 hills,
        500 mountains).
    tx_siting, rx_siting : SitingCriteria, int or str
        0 random, 1 careful, 2 very careful.
    Others as in :func:`p2p`.

    Returns
    -------
    ITMResult

    Raises
    ------
    yalu.errors.ITMError
        For invalid input (codes as the reference: 1017 d_km, 1018 delta_h_m, 1019/1020 siting).
    """
    values: dict[str, Any] = {
        "d_km": _real(d_km, "d_km"),
        "delta_h_m": _real(delta_h_m, "delta_h_m"),
        "h_tx_m": _real(h_tx_m, "h_tx_m"),
        "h_rx_m": _real(h_rx_m, "h_rx_m"),
        "tx_siting": _int_option(SitingCriteria, tx_siting, "tx_siting", 1019),
        "rx_siting": _int_option(SitingCriteria, rx_siting, "rx_siting", 1020),
        "frequency_mhz": _real(frequency_mhz, "frequency_mhz"),
        **coerce_options(
            climate=climate,
            n0=n0,
            polarization=polarization,
            epsilon=epsilon,
            sigma=sigma,
            mdvar=mdvar,
            time_pct=time_pct,
            location_pct=location_pct,
            situation_pct=situation_pct,
        ),
    }
    out = np.empty(_k.OUT_LEN)
    _k.area_core(
        values["d_km"], values["delta_h_m"], values["h_tx_m"], values["h_rx_m"],
        values["tx_siting"], values["rx_siting"], values["frequency_mhz"], values["climate"],
        values["n0"], values["polarization"], values["epsilon"], values["sigma"],
        values["mdvar"], values["time_pct"], values["location_pct"], values["situation_pct"], out,
    )  # fmt: skip
    rtn = int(out[_k.OUT_RTN])
    if rtn >= 1000:
        raise error_for_code(rtn, values)
    return _result_from_out(out)


# ---------------------------------------------------------------------------------------------
# cases in the reference-vector schema

#: Keys of the ``computed`` object of :func:`reference_case`, in the reference's order.
REFERENCE_KEYS = (
    "rtn", "A_db", "warnings", "mode", "d_km", "d_hzn_m", "theta_hzn_rad", "h_e_m", "delta_h_m",
    "A_ref_db", "A_fs_db", "N_s",
)  # fmt: skip


class _BadField(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


class _SchemaError(Exception):
    """The case does not follow the schema (a missing field, a wrong type): no ITM code."""


_INT_MAX = 2**31 - 1


def _short(v: Any) -> str:
    r = repr(v)
    return r if len(r) <= 40 else r[:37] + "..."


def _case_number(case: Mapping[str, Any], key: str) -> Any:
    if key not in case:
        raise _SchemaError(f"{key}: missing")
    v = case[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise _SchemaError(f"{key} = {_short(v)}: must be a number")
    return v


def _case_real(case: Mapping[str, Any], key: str, code: int) -> float:
    v = _case_number(case, key)
    try:
        return float(v)
    except OverflowError:  # an integer beyond float range: infinite, refused by ITM's checks
        return math.inf if v > 0 else -math.inf


def _case_int(case: Mapping[str, Any], key: str, code: int) -> int:
    v = _case_number(case, key)
    if isinstance(v, float) and not (math.isfinite(v) and v == int(v)):
        return -1  # rejected by the kernel with the field's code
    if not -_INT_MAX <= v <= _INT_MAX:
        return -1  # beyond any valid value: the field's code, not an overflow in the kernel
    return int(v)


def _case_pfl(case: Mapping[str, Any]) -> tuple[np.ndarray, int, float]:
    pfl = case.get("pfl")
    if not isinstance(pfl, list) or not all(
        x is None or (isinstance(x, (int, float)) and not isinstance(x, bool)) for x in pfl
    ):
        raise _SchemaError(f"pfl = {_short(pfl)}: must be a list of numbers [n, step_m, z0 ... zn]")
    if len(pfl) < 4:
        raise _BadField(_k.ERR_PROFILE)
    try:
        arr = np.array([math.nan if x is None else x for x in pfl], dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise _BadField(_k.ERR_PROFILE) from None
    n = arr[0]
    if arr.ndim != 1 or not (math.isfinite(n) and n == int(n) and n >= 1):
        raise _BadField(_k.ERR_PROFILE)
    if arr.shape[0] != int(n) + 3:
        raise _BadField(_k.ERR_PROFILE)
    step = float(arr[1])
    if not (math.isfinite(step) and 0 < step < 1e7):
        raise _BadField(_k.ERR_PROFILE)  # no step, or one no path on earth has
    return arr, int(n), step


def schema_error(message: str) -> dict[str, Any]:
    """The result of a record that is not a valid case: ``rtn`` None and an ``error`` message.

    A missing field or a wrong type is no ITM condition, so it gets no ITM return code.
    """
    out: dict[str, Any] = dict.fromkeys(REFERENCE_KEYS)
    out["error"] = message
    return out


def _null_case(rtn: int, warnings: int) -> dict[str, Any]:
    out: dict[str, Any] = dict.fromkeys(REFERENCE_KEYS)
    out["rtn"] = rtn
    out["warnings"] = warnings
    return out


def reference_case(case: Mapping[str, Any]) -> dict[str, Any]:
    """ITM on one case of the NTIA reference-vector schema, as the reference reports it.

    The schema is that of ``shared/itm/README.md``: the reference's own parameter names
    (``h_tx_m``, ``h_rx_m``, ``f_MHz``, ``climate``, ``N_0``, ``polarization``, ``epsilon``,
    ``sigma``, ``mdvar``, ``time_pct``, ``location_pct``, ``situation_pct``), plus ``pfl``
    (``[n_intervals, step_m, e0, ..., e_n]``) for point-to-point mode, or ``d_km``,
    ``delta_h_m``, ``tx_siting`` and ``rx_siting`` for area mode (``set == "area"`` or a
    ``d_km`` key). Other keys (``id``, ``expected``) are ignored.

    Unlike :func:`p2p_pfl` and :func:`area` this never raises on bad case content: like the
    reference it returns the error code.

    Parameters
    ----------
    case : mapping
        One decoded JSON object.

    Returns
    -------
    dict
        The keys of :data:`REFERENCE_KEYS`: ``rtn``, ``A_db`` [dB], ``warnings`` (bit mask),
        ``mode``, ``d_km``, ``d_hzn_m`` [m] and ``theta_hzn_rad`` [rad] and ``h_e_m`` [m] as
        (tx, rx) lists, ``delta_h_m`` [m], ``A_ref_db`` and ``A_fs_db`` [dB], ``N_s``
        [N-units]. For an invalid case (``rtn`` >= 1000: the reference's code of the first bad
        field, 1100 for an unusable profile) all but ``rtn`` and ``warnings`` are None. A case
        that does not follow the schema (a missing field, a wrong type, neither mode) has every
        key None and an ``error`` naming the field (:func:`schema_error`).

    Examples
    --------
    >>> r = reference_case({"set": "area", "d_km": 10.0, "delta_h_m": 90.0, "h_tx_m": 30.0,
    ...     "h_rx_m": 2.0, "tx_siting": 0, "rx_siting": 0, "f_MHz": 900.0, "climate": 5,
    ...     "N_0": 301.0, "polarization": 1, "epsilon": 15.0, "sigma": 0.005, "mdvar": 12,
    ...     "time_pct": 50.0, "location_pct": 50.0, "situation_pct": 50.0})
    >>> r["rtn"], r["mode"]
    (0, 1)
    >>> reference_case({"set": "area", "h_tx_m": "tall"})["error"]  # no ITM condition: no code
    "h_tx_m = 'tall': must be a number"
    """
    is_p2p = case.get("pfl") is not None
    if not is_p2p and not (case.get("set") == "area" or "d_km" in case):
        return schema_error("neither pfl (point-to-point) nor set = 'area' or d_km (area mode)")
    out = np.empty(_k.OUT_LEN)
    try:
        common: list[Any] = [
            _case_real(case, "h_tx_m", 1000),
            _case_real(case, "h_rx_m", 1001),
            _case_real(case, "f_MHz", 1009),
            _case_int(case, "climate", 1002),
            _case_real(case, "N_0", 1008),
            _case_int(case, "polarization", 1010),
            _case_real(case, "epsilon", 1011),
            _case_real(case, "sigma", 1012),
            _case_int(case, "mdvar", 1014),
            _case_real(case, "time_pct", 1003),
            _case_real(case, "location_pct", 1004),
            _case_real(case, "situation_pct", 1005),
        ]
        if is_p2p:
            arr, n, step = _case_pfl(case)
            _P2P_CORE(arr, 2, n, step, *common, np.empty(_k.SCRATCH_LEN), out)
        else:
            _AREA_CORE(
                _case_real(case, "d_km", 1017),
                _case_real(case, "delta_h_m", 1018),
                common[0],
                common[1],
                _case_int(case, "tx_siting", 1019),
                _case_int(case, "rx_siting", 1020),
                *common[2:],
                out,
            )
    except _BadField as bad:
        return _null_case(bad.code, 0)
    except _SchemaError as exc:
        return schema_error(str(exc))
    except (ArithmeticError, ValueError, SystemError) as exc:
        # extreme values the kernel cannot evaluate: this case only, never the batch
        return schema_error(f"cannot be computed ({type(exc).__name__}: {exc})")
    rtn = int(out[_k.OUT_RTN])
    if rtn >= 1000:
        return _null_case(rtn, int(out[_k.OUT_WARN]))
    return {
        "rtn": rtn,
        "A_db": float(out[_k.OUT_LOSS]),
        "warnings": int(out[_k.OUT_WARN]),
        "mode": int(out[_k.OUT_MODE]),
        "d_km": float(out[_k.OUT_D_KM]),
        "d_hzn_m": [float(out[_k.OUT_D_HZN_TX]), float(out[_k.OUT_D_HZN_RX])],
        "theta_hzn_rad": [float(out[_k.OUT_THETA_TX]), float(out[_k.OUT_THETA_RX])],
        "h_e_m": [float(out[_k.OUT_H_E_TX]), float(out[_k.OUT_H_E_RX])],
        "delta_h_m": float(out[_k.OUT_DELTA_H]),
        "A_ref_db": float(out[_k.OUT_A_REF]),
        "A_fs_db": float(out[_k.OUT_A_FS]),
        "N_s": float(out[_k.OUT_N_S]),
    }


# the dispatchers take positional arguments of mixed types; keep mypy out of them
_P2P_CORE: Any = _k.p2p_core
_AREA_CORE: Any = _k.area_core


def location_sigma_db(frequency_mhz: Any, delta_h_m: Any, distance_m: Any = None) -> np.ndarray:
    """ITM's location variability, the standard deviation sigma_L [dB].

    ``sigma_L = 10 k dh(d) / (k dh(d) + 13)`` with the wave number ``k = f / 47.7 MHz`` [1/m]
    (Hufford, *The ITM Algorithm*, Eq 1.4 and Eq 5.9) and the terrain irregularity at distance
    d ``dh(d) = dh (1 - 0.8 exp(-d / 50 km))`` (Eq 3.9); ``distance_m=None`` takes the limit of
    long paths, ``dh(d) = dh``. At UHF it approaches 10 dB for any real terrain.

    Parameters
    ----------
    frequency_mhz : array_like
        Carrier frequency [MHz], > 0.
    delta_h_m : array_like
        Terrain irregularity parameter dh [m], >= 0.
    distance_m : array_like, optional
        Path length [m].
    """
    f = np.asarray(frequency_mhz, dtype=float)
    dh = np.asarray(delta_h_m, dtype=float)
    if np.any(~(f > 0)):
        raise ParameterError("frequency_mhz", frequency_mhz, "> 0 MHz")
    if np.any(~(dh >= 0)):
        raise ParameterError("delta_h_m", delta_h_m, ">= 0 m")
    if distance_m is not None:
        d = np.asarray(distance_m, dtype=float)
        dh = dh * (1.0 - 0.8 * np.exp(-d / 50e3))
    q = f / 47.7 * dh
    return np.asarray(10.0 * q / (q + 13.0))
