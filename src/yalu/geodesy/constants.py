"""The earth model: every earth and propagation constant yalu uses outside a model's own definition.

Nothing else in yalu defines an earth radius, an ellipsoid or the speed of light. Models whose
published definition fixes its own constant (ITM's 157 N-unit gradient, ITU-R's 6371 km) take it
from here where it is the same number, and say so where it is the model's own.

References
----------
- WGS 84: NIMA TR8350.2, *Department of Defense World Geodetic System 1984*, 3rd ed. (2000),
  table 3.1 (a, 1/f).
- Authalic radius: J. P. Snyder, *Map Projections - A Working Manual*, USGS PP 1395 (1987),
  eq. 3-13.
- Mean earth radius 6371 km and the median effective-earth factor k50 = 4/3: ITU-R P.452-17
  §4.3 and ITU-R P.834-9 §1 (eq. 1: ``a_e = k · 6371 km``).
- Speed of light: exact by definition of the metre (SI Brochure, 9th ed., 2019).
"""

from __future__ import annotations

import math

__all__ = [
    "AUTHALIC_RADIUS_M",
    "MEAN_EARTH_RADIUS_M",
    "SPEED_OF_LIGHT_M_S",
    "STANDARD_K_FACTOR",
    "WGS84_A_M",
    "WGS84_B_M",
    "WGS84_E2",
    "WGS84_F",
    "effective_earth_radius_m",
]

#: WGS 84 semi-major axis [m].
WGS84_A_M = 6378137.0
#: WGS 84 flattening.
WGS84_F = 1.0 / 298.257223563
#: WGS 84 semi-minor axis [m].
WGS84_B_M = WGS84_A_M * (1.0 - WGS84_F)
#: WGS 84 first eccentricity squared.
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)

#: Radius of the sphere with the area of the WGS 84 ellipsoid [m] (Snyder 1987, eq. 3-13).
AUTHALIC_RADIUS_M = 6371007.181
#: Mean earth radius of the ITU-R propagation Recommendations [m] (P.452, P.834, P.1812).
MEAN_EARTH_RADIUS_M = 6_371_000.0
#: Median effective-earth-radius factor of the standard atmosphere (ITU-R P.834 / P.452).
STANDARD_K_FACTOR = 4.0 / 3.0
#: Speed of light in vacuum [m/s].
SPEED_OF_LIGHT_M_S = 299_792_458.0


def effective_earth_radius_m(k_factor: float = STANDARD_K_FACTOR) -> float:
    """Effective earth radius ``a_e = k · 6371 km`` [m] (ITU-R P.834-9 eq. 1).

    Parameters
    ----------
    k_factor : float
        Effective-earth-radius factor, > 0 (4/3 for the median standard atmosphere).
    """
    if not (math.isfinite(k_factor) and k_factor > 0):
        from yalu.errors import ParameterError

        raise ParameterError("k_factor", k_factor, "a finite number > 0")
    return k_factor * MEAN_EARTH_RADIUS_M
