"""Thermal noise.

Noise power of a receiver of noise figure F over a bandwidth B: ``N = k T0 B F`` with
Boltzmann's constant k = 1.380649e-23 J/K (SI 2019) and the reference temperature T0 = 290 K
(ITU-R P.372-16 §2, which uses the same reference temperature; IEEE noise-figure definition).
``10 log10(k T0 / 1 mW) = -173.98 dBm/Hz``, the familiar -174 dBm/Hz.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from yalu.errors import ParameterError, check_range

__all__ = ["BOLTZMANN_J_K", "T0_K", "KT0_DBM_HZ", "thermal_noise_dbm"]

BOLTZMANN_J_K = 1.380649e-23
T0_K = 290.0
#: noise power density at 290 K [dBm/Hz]
KT0_DBM_HZ = 10.0 * math.log10(BOLTZMANN_J_K * T0_K * 1000.0)


def thermal_noise_dbm(
    bandwidth_hz: npt.ArrayLike | None = None,
    noise_figure_db: npt.ArrayLike = 0.0,
    *,
    bandwidth_mhz: npt.ArrayLike | None = None,
) -> npt.NDArray[np.float64] | float:
    """Receiver noise power ``kT0 B + NF`` [dBm].

    Parameters
    ----------
    bandwidth_hz : array_like, optional
        Noise bandwidth [Hz], > 0. Give this or ``bandwidth_mhz``.
    noise_figure_db : array_like
        Receiver noise figure [dB], >= 0.
    bandwidth_mhz : array_like, optional
        Noise bandwidth [MHz], > 0.

    Returns
    -------
    noise_dbm : ndarray or float
        ``-173.98 + 10 log10(B_Hz) + NF`` [dBm].
    """
    if (bandwidth_hz is None) == (bandwidth_mhz is None):
        raise ParameterError("bandwidth_hz", bandwidth_hz, "given (or bandwidth_mhz), not both")
    if bandwidth_hz is not None:
        b = np.asarray(bandwidth_hz, dtype=float)
        check_range("bandwidth_hz", b, 0.0, None, lo_inclusive=False)
    else:
        b = np.asarray(bandwidth_mhz, dtype=float) * 1e6
        check_range("bandwidth_mhz", b, 0.0, None, lo_inclusive=False)
    nf = np.asarray(noise_figure_db, dtype=float)
    check_range("noise_figure_db", nf, 0.0, None)
    out = KT0_DBM_HZ + 10.0 * np.log10(b) + nf
    return float(out) if out.ndim == 0 else out
