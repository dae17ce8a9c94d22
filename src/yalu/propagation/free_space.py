"""Free-space basic transmission loss, ITU-R P.525.

References
----------
ITU-R Recommendation P.525-4 (2019), "Calculation of free-space attenuation", point-to-point
links: eq. (3) ``L_bf = 20 log(4 pi d / lambda)`` and its practical form eq. (4)
``L_bf = 32.4 + 20 log f + 20 log d`` [dB] with f in MHz and d in km. The constant is
``20 log10(4 pi 1e9 / c) = 32.448`` dB, which P.525 prints rounded to 32.4; yalu uses the exact
value so that both forms agree to machine precision.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from yalu.errors import check_range
from yalu.propagation._validity import warn_outside

__all__ = ["free_space_loss_db", "SPEED_OF_LIGHT_M_S", "FREE_SPACE_CONSTANT_DB"]

SPEED_OF_LIGHT_M_S = 299_792_458.0
#: 20 log10(4 pi / c) with f in MHz and d in km (P.525-4 eq. (4) rounds it to 32.4 dB)
FREE_SPACE_CONSTANT_DB = 20.0 * math.log10(4.0 * math.pi * 1e9 / SPEED_OF_LIGHT_M_S)


def free_space_loss_db(
    distance_m: npt.ArrayLike, frequency_mhz: npt.ArrayLike
) -> npt.NDArray[np.float64] | float:
    """Free-space basic transmission loss between isotropic antennas.

    Parameters
    ----------
    distance_m : array_like
        Path length [m], > 0.
    frequency_mhz : array_like
        Frequency [MHz], > 0. Broadcasts against ``distance_m``.

    Returns
    -------
    loss_db : ndarray or float
        ``L_bf = 32.45 + 20 log10(f_MHz) + 20 log10(d_km)`` [dB], ITU-R P.525-4 eq. (4).

    Warns
    -----
    ValidityRangeWarning
        Where the distance is shorter than one wavelength (near field: the far-field formula
        no longer holds and the loss may come out negative).

    Raises
    ------
    ParameterError
        If a distance or frequency is not finite and positive.
    """
    d = np.asarray(distance_m, dtype=float)
    f = np.asarray(frequency_mhz, dtype=float)
    check_range("distance_m", d, 0.0, None, lo_inclusive=False)
    check_range("frequency_mhz", f, 0.0, None, lo_inclusive=False)
    wavelength_m = SPEED_OF_LIGHT_M_S / (f * 1e6)
    warn_outside("free space (P.525)", "distance_m / wavelength", d / wavelength_m, 1.0, np.inf)
    loss = FREE_SPACE_CONSTANT_DB + 20.0 * np.log10(f) + 20.0 * np.log10(d / 1000.0)
    if loss.ndim == 0:
        return float(loss)
    return loss
