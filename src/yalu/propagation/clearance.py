"""Line-of-sight and Fresnel-zone clearance along a terrain profile.

The profile is drawn over the effective earth (radius ``k · 6371 km``, ITU-R P.834-9 eq. 1): the
terrain is raised by the earth bulge above the chord between the two ends
(:func:`yalu.geodesy.earth_bulge_m`), and the ray is the straight line between the two antennas.
The clearance is the height of that line above the raised terrain; ITU-R P.530-18 §2.2.2 plans
line-of-sight links on it relative to the first Fresnel zone radius
(:func:`yalu.propagation.free_space.fresnel_radius_m`, ITU-R P.526-15 eq. (2)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from yalu.errors import ParameterError, check_range
from yalu.geodesy import STANDARD_K_FACTOR, earth_bulge_m
from yalu.propagation.free_space import fresnel_radius_m

__all__ = ["PathClearance", "path_clearance"]


@dataclass(frozen=True)
class PathClearance:
    """Geometry of a path over the effective earth, one value per profile point.

    Attributes
    ----------
    distance_m : numpy.ndarray
        Distance from the transmitter [m].
    bulge_m : numpy.ndarray
        Effective-earth bulge above the chord [m].
    ground_m : numpy.ndarray
        Terrain plus bulge [m].
    ray_m : numpy.ndarray
        Height of the straight ray between the antenna tops [m].
    clearance_m : numpy.ndarray
        ``ray_m - ground_m`` [m]; negative where the terrain blocks the line of sight.
    fresnel_m : numpy.ndarray or None
        First Fresnel zone radius [m] when a frequency was given.
    h_tx_m, h_rx_m : float
        Antenna heights above ground at the two ends [m].
    frequency_mhz : float or None
        Frequency of the Fresnel zone [MHz].
    k_factor : float
        Effective-earth-radius factor used.
    """

    distance_m: np.ndarray
    bulge_m: np.ndarray
    ground_m: np.ndarray
    ray_m: np.ndarray
    clearance_m: np.ndarray
    fresnel_m: np.ndarray | None
    h_tx_m: float
    h_rx_m: float
    frequency_mhz: float | None
    k_factor: float

    @property
    def min_clearance_m(self) -> float:
        """Smallest clearance of the line of sight [m] (negative: obstructed)."""
        return float(np.min(self.clearance_m))

    @property
    def min_fresnel_fraction(self) -> float | None:
        """Smallest clearance as a fraction of the first Fresnel zone radius, between the ends.

        None without a frequency or without interior points. ITU-R P.530 plans links for at
        least 0.6 in median refraction.
        """
        if self.fresnel_m is None or self.distance_m.size < 3:
            return None
        r1 = self.fresnel_m[1:-1]
        frac = self.clearance_m[1:-1] / np.where(r1 > 0, r1, np.inf)
        return float(np.min(frac))


def path_clearance(
    distance_m: npt.ArrayLike,
    elevation_m: npt.ArrayLike,
    h_tx_m: float,
    h_rx_m: float,
    frequency_mhz: float | None = None,
    *,
    k_factor: float = STANDARD_K_FACTOR,
) -> PathClearance:
    """Clearance of the ray between two antennas above a terrain profile.

    Parameters
    ----------
    distance_m : array_like
        Distances of the profile points from the transmitter [m], increasing from 0; the last
        is the path length. At least 2 points.
    elevation_m : array_like
        Terrain heights [m] at those points (same length, finite).
    h_tx_m, h_rx_m : float
        Antenna heights above ground at the first and the last point [m], >= 0.
    frequency_mhz : float, optional
        Frequency [MHz], > 0: adds the first Fresnel zone radius.
    k_factor : float
        Effective-earth-radius factor (default 4/3, the median standard atmosphere).

    Returns
    -------
    PathClearance

    Raises
    ------
    ParameterError
        For arrays of the wrong shape, non-finite heights, distances that do not increase from
        0, or a value out of range.

    Examples
    --------
    >>> c = path_clearance([0.0, 25e3, 50e3], [0.0, 0.0, 0.0], 50.0, 50.0)
    >>> round(c.min_clearance_m, 2)  # 50 m masts over a sea path: the bulge takes 36.79 m
    13.21
    """
    d = np.asarray(distance_m, dtype=float)
    z = np.asarray(elevation_m, dtype=float)
    if d.ndim != 1 or d.shape[0] < 2:
        raise ParameterError("distance_m", f"shape {d.shape}", "a 1-D array of >= 2 points")
    if z.shape != d.shape:
        raise ParameterError("elevation_m", f"shape {z.shape}", f"shape {d.shape}")
    if not (np.all(np.isfinite(d)) and d[0] == 0.0 and np.all(np.diff(d) > 0)):
        raise ParameterError("distance_m", f"[{d[0]} .. {d[-1]}]", "finite, from 0, increasing")
    if not np.all(np.isfinite(z)):
        raise ParameterError("elevation_m", "non-finite values", "finite heights")
    check_range("h_tx_m", h_tx_m, 0.0, None)
    check_range("h_rx_m", h_rx_m, 0.0, None)
    length = float(d[-1])
    d2 = np.maximum(length - d, 0.0)
    bulge = np.asarray(earth_bulge_m(d, d2, k_factor), dtype=float)
    ground = z + bulge
    z_tx = float(z[0]) + float(h_tx_m)
    z_rx = float(z[-1]) + float(h_rx_m)
    ray = z_tx + (z_rx - z_tx) * (d / length)
    fresnel = None
    if frequency_mhz is not None:
        check_range("frequency_mhz", frequency_mhz, 0.0, None, lo_inclusive=False)
        fresnel = np.asarray(fresnel_radius_m(d, d2, frequency_mhz), dtype=float)
    return PathClearance(
        distance_m=d,
        bulge_m=bulge,
        ground_m=ground,
        ray_m=ray,
        clearance_m=ray - ground,
        fresnel_m=fresnel,
        h_tx_m=float(h_tx_m),
        h_rx_m=float(h_rx_m),
        frequency_mhz=None if frequency_mhz is None else float(frequency_mhz),
        k_factor=float(k_factor),
    )
