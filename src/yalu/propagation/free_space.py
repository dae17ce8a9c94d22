"""Free-space basic transmission loss, ITU-R P.525.

References
----------
ITU-R Recommendation P.525-4 (2019), "Calculation of free-space attenuation", point-to-point
links: eq. (3) ``L_bf = 20 log(4 pi d / lambda)`` and its practical form eq. (4)
``L_bf = 32.4 + 20 log f + 20 log d`` [dB] with f in MHz and d in km. The constant is
``20 log10(4 pi 1e9 / c) = 32.448`` dB, which P.525 prints rounded to 32.4; yalu uses the exact
value so that both forms agree to machine precision.

ITU-R Recommendation P.526-15 (2019), "Propagation by diffraction", §2.1: the radius of the n-th
Fresnel ellipsoid between the two ends of a path, eq. (2) ``R_n = sqrt(n lambda d1 d2 / (d1 +
d2))`` (practical form eq. (3), ``550 sqrt(n d1 d2 / ((d1 + d2) f))`` with d in km and f in MHz).
ITU-R P.530-18 §2.2.2 plans line-of-sight links on the clearance of the first zone.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from yalu.errors import ParameterError, check_range
from yalu.geodesy.constants import SPEED_OF_LIGHT_M_S
from yalu.propagation._validity import warn_outside

__all__ = [
    "free_space_loss_db",
    "fresnel_radius_m",
    "SPEED_OF_LIGHT_M_S",
    "FREE_SPACE_CONSTANT_DB",
]

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


def fresnel_radius_m(
    d1_m: npt.ArrayLike, d2_m: npt.ArrayLike, frequency_mhz: npt.ArrayLike, n: int = 1
) -> npt.NDArray[np.float64] | float:
    """Radius of the n-th Fresnel ellipsoid at a point of a path.

    Parameters
    ----------
    d1_m, d2_m : array_like
        Distances from the point to the two ends of the path [m], >= 0. Broadcast together.
    frequency_mhz : array_like
        Frequency [MHz], > 0. Broadcasts against the distances.
    n : int
        Zone number, >= 1 (1: the first Fresnel zone).

    Returns
    -------
    radius_m : ndarray or float
        ``R_n = sqrt(n lambda d1 d2 / (d1 + d2))`` [m], ITU-R P.526-15 eq. (2); 0 at either end
        (and for a path of zero length).

    Raises
    ------
    ParameterError
        If a distance is negative or not finite, the frequency is not finite and positive, or
        ``n`` is not an integer >= 1.

    Examples
    --------
    >>> round(fresnel_radius_m(5_000.0, 5_000.0, 900.0), 2)  # mid-point of a 10 km path
    28.86
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ParameterError("n", n, "an integer >= 1")
    d1 = np.asarray(d1_m, dtype=float)
    d2 = np.asarray(d2_m, dtype=float)
    f = np.asarray(frequency_mhz, dtype=float)
    check_range("d1_m", d1, 0.0, None)
    check_range("d2_m", d2, 0.0, None)
    check_range("frequency_mhz", f, 0.0, None, lo_inclusive=False)
    wavelength_m = SPEED_OF_LIGHT_M_S / (f * 1e6)
    total = d1 + d2
    # d1 d2 / (d1 + d2), 0 where the path has no length
    reduced = np.divide(d1 * d2, total, out=np.zeros(np.broadcast(d1, d2).shape), where=total > 0)
    radius = np.sqrt(int(n) * wavelength_m * reduced)
    if radius.ndim == 0:
        return float(radius)
    return radius
