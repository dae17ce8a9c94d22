"""Okumura-Hata and COST-231 Hata median path loss.

References
----------
- M. Hata, "Empirical formula for propagation loss in land mobile radio services", IEEE Trans.
  Veh. Technol. VT-29(3), 317-325, 1980: eqs. (13a) urban, (13b)-(13c) a(h_m) for medium-small
  and large cities, (14) suburban, (15) open area. Also ITU-R P.529-3 Annex 1 §1.1 (same formulas).
- COST Action 231, "Digital mobile radio towards future generation systems", final report
  (EUR 18957, 1999), ch. 4 §4.4.1: COST-231 Hata for 1500-2000 MHz, with ``C_m`` = 0 dB for medium
  cities and suburban centres, 3 dB for metropolitan centres.

Validity (Hata 1980 §IV; COST 231 §4.4.1): f 150-1500 MHz (Okumura-Hata) or 1500-2000 MHz
(COST-231), d 1-20 km, h_b 30-200 m, h_m 1-10 m. Outside these the formulas are extrapolated with a
:class:`~yalu.propagation._validity.ValidityRangeWarning`.
"""

from __future__ import annotations

import enum

import numpy as np
import numpy.typing as npt

from yalu.errors import ChoiceError, check_range, parse_choice
from yalu.propagation._validity import warn_outside

__all__ = [
    "HataEnvironment",
    "okumura_hata_loss_db",
    "cost231_hata_loss_db",
    "hata_loss_db",
]


class HataEnvironment(enum.Enum):
    """Land-use class of the Hata formulas."""

    #: medium-small city, Hata eq. (13a) with a(h_m) of eq. (13b)
    URBAN = "urban"
    #: large city (Hata eq. (13c) a(h_m)); metropolitan centre (C_m = 3 dB) for COST-231
    URBAN_LARGE = "urban-large"
    #: suburban area, Hata eq. (14)
    SUBURBAN = "suburban"
    #: open area, Hata eq. (15)
    OPEN = "open"


_Arr = npt.NDArray[np.float64]


def _a_hm_small_db(f: _Arr, hm: _Arr) -> _Arr:
    # Hata eq. (13b), medium-small city
    return (1.1 * np.log10(f) - 0.7) * hm - (1.56 * np.log10(f) - 0.8)


def _a_hm_large_db(f: _Arr, hm: _Arr) -> _Arr:
    # Hata eq. (13c): one form for f <= 200 MHz, another for f >= 400 MHz. Hata gives no formula
    # between 200 and 400 MHz; yalu switches at 300 MHz (the two differ by < 1 dB there).
    low = 8.29 * np.log10(1.54 * hm) ** 2 - 1.1
    high = 3.2 * np.log10(11.75 * hm) ** 2 - 4.97
    return np.where(f <= 300.0, low, high)


def _inputs(
    distance_m: npt.ArrayLike,
    frequency_mhz: npt.ArrayLike,
    h_base_m: npt.ArrayLike,
    h_mobile_m: npt.ArrayLike,
) -> tuple[_Arr, _Arr, _Arr, _Arr]:
    d = np.asarray(distance_m, dtype=float)
    f = np.asarray(frequency_mhz, dtype=float)
    hb = np.asarray(h_base_m, dtype=float)
    hm = np.asarray(h_mobile_m, dtype=float)
    check_range("distance_m", d, 0.0, None, lo_inclusive=False)
    check_range("frequency_mhz", f, 0.0, None, lo_inclusive=False)
    check_range("h_base_m", hb, 0.0, None, lo_inclusive=False)
    check_range("h_mobile_m", hm, 0.0, None, lo_inclusive=False)
    return d, f, hb, hm


def _warn_geometry(model: str, d: _Arr, hb: _Arr, hm: _Arr) -> None:
    warn_outside(model, "distance_m", d, 1000.0, 20000.0, " m")
    warn_outside(model, "h_base_m", hb, 30.0, 200.0, " m")
    warn_outside(model, "h_mobile_m", hm, 1.0, 10.0, " m")


def _ret(x: _Arr) -> _Arr | float:
    return float(x) if x.ndim == 0 else x


def _hata_urban_db(d_km: _Arr, f: _Arr, hb: _Arr, a_hm: _Arr, a: float, b: float) -> _Arr:
    # Hata eq. (13a) (a=69.55, b=26.16) and COST-231 (a=46.3, b=33.9) share this structure
    return (
        a
        + b * np.log10(f)
        - 13.82 * np.log10(hb)
        - a_hm
        + (44.9 - 6.55 * np.log10(hb)) * np.log10(d_km)
    )


def okumura_hata_loss_db(
    distance_m: npt.ArrayLike,
    frequency_mhz: npt.ArrayLike,
    h_base_m: npt.ArrayLike,
    h_mobile_m: npt.ArrayLike = 1.5,
    environment: HataEnvironment | str = HataEnvironment.URBAN,
) -> _Arr | float:
    """Okumura-Hata median basic transmission loss (Hata 1980).

    Parameters
    ----------
    distance_m : array_like
        Ground distance base station to mobile [m]; valid 1-20 km.
    frequency_mhz : array_like
        Carrier frequency [MHz]; valid 150-1500 MHz.
    h_base_m : array_like
        Effective base-station antenna height [m]; valid 30-200 m.
    h_mobile_m : array_like
        Mobile antenna height above ground [m]; valid 1-10 m. Default 1.5 m.
    environment : HataEnvironment or str
        ``urban`` (medium-small city), ``urban-large`` (large city), ``suburban``, ``open``.
        Suburban and open corrections apply to the medium-small city urban loss, as in Hata.

    Returns
    -------
    loss_db : ndarray or float
        Median path loss [dB]:

        - urban, Hata eq. (13a):
          ``69.55 + 26.16 log f - 13.82 log h_b - a(h_m) + (44.9 - 6.55 log h_b) log d_km``
        - ``a(h_m)`` medium-small city, eq. (13b): ``(1.1 log f - 0.7) h_m - (1.56 log f - 0.8)``;
          large city, eq. (13c): ``8.29 (log 1.54 h_m)^2 - 1.1`` (f <= 200 MHz) or
          ``3.2 (log 11.75 h_m)^2 - 4.97`` (f >= 400 MHz; yalu switches at 300 MHz)
        - suburban, eq. (14): ``L_urban - 2 (log(f/28))^2 - 5.4``
        - open, eq. (15): ``L_urban - 4.78 (log f)^2 + 18.33 log f - 40.94``

    Warns
    -----
    ValidityRangeWarning
        Outside the validity ranges above.
    """
    env = parse_choice(HataEnvironment, environment, "environment")
    d, f, hb, hm = _inputs(distance_m, frequency_mhz, h_base_m, h_mobile_m)
    warn_outside("Okumura-Hata", "frequency_mhz", f, 150.0, 1500.0, " MHz")
    _warn_geometry("Okumura-Hata", d, hb, hm)
    a_hm = _a_hm_large_db(f, hm) if env is HataEnvironment.URBAN_LARGE else _a_hm_small_db(f, hm)
    loss = _hata_urban_db(d / 1000.0, f, hb, a_hm, 69.55, 26.16)
    if env is HataEnvironment.SUBURBAN:
        loss = loss - 2.0 * np.log10(f / 28.0) ** 2 - 5.4
    elif env is HataEnvironment.OPEN:
        lf = np.log10(f)
        loss = loss - 4.78 * lf**2 + 18.33 * lf - 40.94
    return _ret(np.asarray(loss, dtype=float))


def cost231_hata_loss_db(
    distance_m: npt.ArrayLike,
    frequency_mhz: npt.ArrayLike,
    h_base_m: npt.ArrayLike,
    h_mobile_m: npt.ArrayLike = 1.5,
    environment: HataEnvironment | str = HataEnvironment.URBAN,
) -> _Arr | float:
    """COST-231 Hata median path loss for 1500-2000 MHz (COST 231 final report §4.4.1).

    ``L = 46.3 + 33.9 log f - 13.82 log h_b - a(h_m) + (44.9 - 6.55 log h_b) log d_km + C_m``,
    with ``a(h_m)`` of Hata eq. (13b) and ``C_m`` = 0 dB for ``urban`` (medium city) and
    ``suburban`` (suburban centres with medium tree density), 3 dB for ``urban-large``
    (metropolitan centres). COST 231 defines no open-area variant: ``open`` raises.

    Parameters are those of :func:`okumura_hata_loss_db`; ``frequency_mhz`` is valid 1500-2000 MHz.

    Raises
    ------
    ChoiceError
        ``environment="open"``.
    """
    env = parse_choice(HataEnvironment, environment, "environment")
    if env is HataEnvironment.OPEN:
        raise ChoiceError("environment", env.value, ["urban", "urban-large", "suburban"])
    d, f, hb, hm = _inputs(distance_m, frequency_mhz, h_base_m, h_mobile_m)
    warn_outside("COST-231 Hata", "frequency_mhz", f, 1500.0, 2000.0, " MHz")
    _warn_geometry("COST-231 Hata", d, hb, hm)
    c_m = 3.0 if env is HataEnvironment.URBAN_LARGE else 0.0
    loss = _hata_urban_db(d / 1000.0, f, hb, _a_hm_small_db(f, hm), 46.3, 33.9) + c_m
    return _ret(np.asarray(loss, dtype=float))


def hata_loss_db(
    distance_m: npt.ArrayLike,
    frequency_mhz: float,
    h_base_m: npt.ArrayLike,
    h_mobile_m: npt.ArrayLike = 1.5,
    environment: HataEnvironment | str = HataEnvironment.URBAN,
) -> _Arr | float:
    """Okumura-Hata below 1500 MHz, COST-231 Hata from 1500 MHz (scalar frequency).

    ``open`` above 1500 MHz uses Okumura-Hata's open-area formula extrapolated (with a warning),
    since COST 231 has no open-area variant.
    """
    check_range("frequency_mhz", frequency_mhz, 0.0, None, lo_inclusive=False)
    env = parse_choice(HataEnvironment, environment, "environment")
    if float(frequency_mhz) < 1500.0 or env is HataEnvironment.OPEN:
        return okumura_hata_loss_db(distance_m, frequency_mhz, h_base_m, h_mobile_m, env)
    return cost231_hata_loss_db(distance_m, frequency_mhz, h_base_m, h_mobile_m, env)
