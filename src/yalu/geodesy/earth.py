"""Effective-earth geometry between two antennas: earth bulge and elevation angles.

Radio rays bend with the refractivity gradient of the atmosphere; the usual model straightens them
by drawing the earth with an effective radius ``a_e = k · 6371 km`` (ITU-R P.834-9 eq. 1, k = 4/3
for the median standard atmosphere). Every part of yalu that needs that geometry (antenna
elevation angles in link budgets, profile plots, knife-edge geometry) uses these functions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from yalu.geodesy.constants import STANDARD_K_FACTOR, effective_earth_radius_m

__all__ = ["earth_bulge_m", "elevation_angle_deg"]


def earth_bulge_m(d1_m: Any, d2_m: Any, k_factor: float = STANDARD_K_FACTOR) -> np.ndarray:
    """Height of the effective earth above the chord between two points [m].

    ``h = d1 · d2 / (2 a_e)`` (ITU-R P.452-17 eq. 12b without the terrain term; P.526-15 eq. 2),
    at distances ``d1_m`` and ``d2_m`` [m] from the two ends.

    Parameters
    ----------
    d1_m, d2_m : array_like
        Distances to the two ends [m].
    k_factor : float
        Effective-earth-radius factor (default 4/3).

    Returns
    -------
    numpy.ndarray
        Bulge [m], broadcast over the inputs.

    Examples
    --------
    >>> round(float(earth_bulge_m(25_000.0, 25_000.0)), 2)
    36.79
    """
    a_e = effective_earth_radius_m(k_factor)
    return np.asarray(np.asarray(d1_m, float) * np.asarray(d2_m, float) / (2.0 * a_e))


def elevation_angle_deg(
    h_from_m: Any, h_to_m: Any, distance_m: Any, k_factor: float = STANDARD_K_FACTOR
) -> np.ndarray:
    """Elevation angle [deg] from one antenna toward another over the effective earth.

    The far antenna sinks by the bulge ``d² / (2 a_e)`` below the local horizontal plane
    (ITU-R P.834-9 eq. 1), so ``θ = atan2(h_to - h_from - d² / (2 a_e), d)``.

    Parameters
    ----------
    h_from_m, h_to_m : array_like
        Antenna heights above sea level [m].
    distance_m : array_like
        Ground distance [m]; values below 1 m are taken as 1 m (co-located antennas).
    k_factor : float
        Effective-earth-radius factor (default 4/3).

    Examples
    --------
    >>> round(float(elevation_angle_deg(30.0, 0.0, 1000.0)), 3)
    -1.722
    """
    d = np.maximum(np.asarray(distance_m, dtype=float), 1.0)
    drop = earth_bulge_m(d, d, k_factor)
    dh = np.asarray(h_to_m, dtype=float) - np.asarray(h_from_m, dtype=float)
    return np.asarray(np.degrees(np.arctan2(dh - drop, d)))
