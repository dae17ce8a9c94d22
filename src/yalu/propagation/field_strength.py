"""Received power and field strength from a transmitter's power and the basic transmission loss.

References
----------
ITU-R Recommendation P.525-4 (2019), §3, conversion formulae for an isotropic antenna: the power
received ``P_r`` and the field strength ``E`` satisfy ``P_r = E - 20 log f - 167.2`` with ``P_r``
in dBW, ``E`` in dB(µV/m) and ``f`` in GHz. With ``P_r`` in dBm and ``f`` in MHz this is
``E = P_r + 20 log f + 77.2``, and with ``P_r = EIRP - L_b`` (isotropic receiver)::

    E = EIRP_dBm - L_b + 20 log10(f_MHz) + 77.2

The constant follows from ``P_r = S A_e`` with the power flux density ``S = E^2 / (120 pi)`` and
the isotropic aperture ``A_e = lambda^2 / (4 pi)``: ``210 + 10 log10(480 pi^2) - 20 log10(c)
= 77.216`` dB; yalu uses that exact value.

ITU-R Recommendation P.1546-6 (2019), Annex 5: for 1 kW ERP the same relation reads
``E = 139.3 - L_b + 20 log f`` (1 kW ERP = 60 dBm ERP = 62.15 dBm EIRP; 62.15 + 77.2 = 139.4).

ERP is referred to a half-wave dipole, whose gain is 2.15 dBi: ``EIRP = ERP + 2.15 dB``.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from yalu.errors import check_range
from yalu.geodesy.constants import SPEED_OF_LIGHT_M_S

__all__ = [
    "DIPOLE_GAIN_DBI",
    "FIELD_STRENGTH_CONSTANT_DB",
    "eirp_from_erp_dbm",
    "field_strength_dbuv_per_m",
    "received_power_dbm",
]

#: Gain of a half-wave dipole over an isotropic antenna [dBi] (ERP -> EIRP).
DIPOLE_GAIN_DBI = 2.15

#: ``210 + 10 log10(480 pi^2) - 20 log10(c)`` [dB]: E [dB(µV/m)] = P_r [dBm] + 20 log f [MHz] + it.
FIELD_STRENGTH_CONSTANT_DB = (
    210.0 + 10.0 * math.log10(480.0 * math.pi**2) - 20.0 * math.log10(SPEED_OF_LIGHT_M_S)
)


def eirp_from_erp_dbm(erp_dbm: npt.ArrayLike) -> npt.NDArray[np.float64] | float:
    """EIRP [dBm] of a transmitter given its ERP [dBm] (referred to a half-wave dipole).

    ``EIRP = ERP + 2.15 dB`` (the dipole's gain over isotropic).
    """
    out = np.asarray(erp_dbm, dtype=float) + DIPOLE_GAIN_DBI
    return float(out) if out.ndim == 0 else out


def received_power_dbm(
    eirp_dbm: npt.ArrayLike, loss_db: npt.ArrayLike, rx_gain_dbi: npt.ArrayLike = 0.0
) -> npt.NDArray[np.float64] | float:
    """Power received [dBm]: ``EIRP - L_b + G_rx``.

    Parameters
    ----------
    eirp_dbm : array_like
        Transmitter EIRP [dBm].
    loss_db : array_like
        Basic transmission loss between isotropic antennas [dB] (NaN propagates).
    rx_gain_dbi : array_like
        Receiving antenna gain [dBi]; 0 for the isotropic receiver of coverage maps.
    """
    check_range("eirp_dbm", eirp_dbm, -100.0, 130.0)
    check_range("rx_gain_dbi", rx_gain_dbi, -50.0, 60.0)
    out = (
        np.asarray(eirp_dbm, dtype=float)
        - np.asarray(loss_db, dtype=float)
        + np.asarray(rx_gain_dbi, dtype=float)
    )
    return float(out) if out.ndim == 0 else out


def field_strength_dbuv_per_m(
    eirp_dbm: npt.ArrayLike, loss_db: npt.ArrayLike, frequency_mhz: npt.ArrayLike
) -> npt.NDArray[np.float64] | float:
    """Field strength [dB(µV/m)] at the receiver: ``EIRP - L_b + 20 log10(f) + 77.2``.

    Parameters
    ----------
    eirp_dbm : array_like
        Transmitter EIRP [dBm].
    loss_db : array_like
        Basic transmission loss between isotropic antennas [dB] (NaN propagates).
    frequency_mhz : array_like
        Frequency [MHz], > 0.

    Returns
    -------
    ndarray or float
        ITU-R P.525-4 §3 for an isotropic antenna (module docstring).
    """
    check_range("eirp_dbm", eirp_dbm, -100.0, 130.0)
    check_range("frequency_mhz", frequency_mhz, 0.0, None, lo_inclusive=False)
    out = (
        np.asarray(eirp_dbm, dtype=float)
        - np.asarray(loss_db, dtype=float)
        + 20.0 * np.log10(np.asarray(frequency_mhz, dtype=float))
        + FIELD_STRENGTH_CONSTANT_DB
    )
    return float(out) if out.ndim == 0 else out
