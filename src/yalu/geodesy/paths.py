"""Geodesic paths on the WGS84 ellipsoid and terrain profiles along them.

Geodesics come from :class:`pyproj.Geod` (Karney's algorithms, C. F. F. Karney, "Algorithms for
geodesics", J. Geodesy 87, 43-55, 2013). A profile samples terrain at evenly spaced points along
the geodesic from a start to an end: with path length L and requested step s, the path is cut into
``n = max(1, round(L / s))`` intervals of ``L / n`` so that the last point is the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pyproj import Geod

from yalu.errors import ParameterError, check_range

__all__ = [
    "WGS84",
    "azimuth_distance",
    "geodesic_inverse",
    "geodesic_points",
    "Profile",
    "RaggedProfiles",
    "profile",
    "profiles",
]

WGS84 = Geod(ellps="WGS84")


def _check_latlon(name: str, lat: Any, lon: Any) -> None:
    check_range(f"{name} latitude [deg]", lat, -90, 90)
    check_range(f"{name} longitude [deg]", lon, -180, 360)


def _point(name: str, p: Any) -> tuple[float, float]:
    try:
        lat, lon = (float(v) for v in p)
    except (TypeError, ValueError):
        raise ParameterError(name, p, "a (lat_deg, lon_deg) pair") from None
    _check_latlon(name, lat, lon)
    return lat, lon


def geodesic_inverse(
    lat1_deg: Any, lon1_deg: Any, lat2_deg: Any, lon2_deg: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distance and azimuths between points on WGS84 (vectorized, broadcasting).

    Parameters
    ----------
    lat1_deg, lon1_deg, lat2_deg, lon2_deg : array_like
        Start and end coordinates [deg].

    Returns
    -------
    distance_m : numpy.ndarray
        Geodesic distance [m].
    az_fwd_deg : numpy.ndarray
        Azimuth at the start towards the end, clockwise from north [deg], in (-180, 180].
    az_back_deg : numpy.ndarray
        Azimuth at the end towards the start [deg].
    """
    la1, lo1, la2, lo2 = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (lat1_deg, lon1_deg, lat2_deg, lon2_deg))
    )
    _check_latlon("start", la1, lo1)
    _check_latlon("end", la2, lo2)
    shape = la1.shape
    az12, az21, dist = WGS84.inv(lo1.ravel(), la1.ravel(), lo2.ravel(), la2.ravel())
    return (
        np.asarray(dist, float).reshape(shape),
        np.asarray(az12, float).reshape(shape),
        np.asarray(az21, float).reshape(shape),
    )


def azimuth_distance(
    lat0_deg: float, lon0_deg: float, lat_deg: Any, lon_deg: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Azimuth and distance from one point to many on WGS84 (no range checks: trusted nodes).

    Parameters
    ----------
    lat0_deg, lon0_deg : float
        The common start [deg].
    lat_deg, lon_deg : array_like
        The ends [deg], broadcast together.

    Returns
    -------
    azimuth_deg : numpy.ndarray
        Azimuth at the start toward each end, clockwise from north, in [0, 360) [deg].
    distance_m : numpy.ndarray
        Geodesic distance [m].
    """
    la, lo = np.broadcast_arrays(np.asarray(lat_deg, float), np.asarray(lon_deg, float))
    shape = la.shape
    n = la.size
    az, _, dist = WGS84.inv(
        np.full(n, float(lon0_deg)), np.full(n, float(lat0_deg)), lo.ravel(), la.ravel()
    )
    return (
        np.mod(np.asarray(az, float), 360.0).reshape(shape),
        np.asarray(dist, float).reshape(shape),
    )


def azimuth_distance_vincenty(
    lat0_deg: float, lon0_deg: float, lat_deg: Any, lon_deg: Any
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`azimuth_distance` by Vincenty's inverse solution in parallel compiled code.

    T. Vincenty, Survey Review 23(176), 88-93, 1975, eqs. 13-18: within 0.1 mm and 1e-7 deg of
    pyproj's Karney solution over the distances yalu uses (< 2000 km, never near-antipodal;
    tests/coverage/test_geodesic.py), several times faster on many nodes. The coverage engine
    places its nodes' geodesics with the same kernel, so budgets that use these distances (range
    limits, antenna patterns) see the engine's geometry.

    Returns
    -------
    azimuth_deg : numpy.ndarray
        Azimuth at the start, clockwise from north, in [0, 360) [deg].
    distance_m : numpy.ndarray
        Geodesic distance [m].
    """
    from yalu.geodesy._geodesic import inverse_many

    la, lo = np.broadcast_arrays(np.asarray(lat_deg, float), np.asarray(lon_deg, float))
    shape = la.shape
    lat_c = np.ascontiguousarray(la, dtype=np.float64).ravel()
    lon_c = np.ascontiguousarray(lo, dtype=np.float64).ravel()
    dist = np.empty(lat_c.shape)
    az = np.empty(lat_c.shape)
    inverse_many(float(lat0_deg), float(lon0_deg), lat_c, lon_c, dist, az)
    az_deg = np.mod(np.degrees(az), 360.0)
    # a point at the start has no azimuth: take pyproj's 180, as azimuth_distance does (an
    # antenna pattern still reads it, for a sample at the foot of its mast)
    az_deg[dist == 0.0] = 180.0
    return az_deg.reshape(shape), dist.reshape(shape)


def geodesic_points(
    lat_deg: Any, lon_deg: Any, az_deg: Any, distance_m: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Points at ``distance_m`` from (lat, lon) along the geodesic leaving at ``az_deg``.

    Returns (lat_deg, lon_deg), broadcast, longitudes in [-180, 180].
    """
    la, lo, az, d = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (lat_deg, lon_deg, az_deg, distance_m))
    )
    shape = la.shape
    lon2, lat2, _ = WGS84.fwd(lo.ravel(), la.ravel(), az.ravel(), d.ravel())
    return np.asarray(lat2, float).reshape(shape), np.asarray(lon2, float).reshape(shape)


@dataclass
class Profile:
    """Terrain along one geodesic path.

    Attributes
    ----------
    distance_m : numpy.ndarray
        Distance of each point from the start [m], ``0, step_m, ..., length_m``.
    elevation_m : numpy.ndarray
        Terrain elevation at each point [m] (bilinear).
    lat_deg, lon_deg : numpy.ndarray
        Coordinates of each point [deg].
    step_m : float
        Adjusted step ``length_m / n_intervals`` [m].
    length_m : float
        Geodesic length of the path [m].
    """

    distance_m: np.ndarray
    elevation_m: np.ndarray
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    step_m: float
    length_m: float

    @property
    def n_intervals(self) -> int:
        return int(self.elevation_m.size - 1)

    def to_pfl(self) -> np.ndarray:
        """The ITM terrain array ``[n_intervals, step_m, e0, ..., eN]`` (NTIA ITM ``pfl``)."""
        return np.concatenate(([float(self.n_intervals), float(self.step_m)], self.elevation_m))


@dataclass
class RaggedProfiles:
    """Many profiles stored flat (one start to many ends).

    Profile ``i`` is ``elevation_m[offsets[i]:offsets[i + 1]]`` with step ``step_m[i]``.

    Attributes
    ----------
    elevation_m, distance_m, lat_deg, lon_deg : numpy.ndarray
        Flat float64 arrays of all points [m, m, deg, deg].
    offsets : numpy.ndarray
        int64, length N + 1.
    step_m, length_m : numpy.ndarray
        Adjusted step and path length of each profile [m], shape (N,).
    """

    elevation_m: np.ndarray
    offsets: np.ndarray
    step_m: np.ndarray
    length_m: np.ndarray
    distance_m: np.ndarray
    lat_deg: np.ndarray
    lon_deg: np.ndarray

    def __len__(self) -> int:
        return int(self.offsets.size - 1)

    def __getitem__(self, i: int) -> Profile:
        n = len(self)
        if not -n <= i < n:
            raise IndexError(i)
        i %= n
        a, b = int(self.offsets[i]), int(self.offsets[i + 1])
        return Profile(
            distance_m=self.distance_m[a:b],
            elevation_m=self.elevation_m[a:b],
            lat_deg=self.lat_deg[a:b],
            lon_deg=self.lon_deg[a:b],
            step_m=float(self.step_m[i]),
            length_m=float(self.length_m[i]),
        )


def profiles(terrain: Any, start: Any, ends: Any, step_m: float) -> RaggedProfiles:
    """Terrain profiles from one start to many ends along WGS84 geodesics (vectorized).

    Parameters
    ----------
    terrain : yalu.terrain.TerrainLike
        Terrain to sample (anything with ``elevation_m(lat_deg, lon_deg)``).
    start : (lat_deg, lon_deg)
        Common start point [deg].
    ends : array_like, shape (N, 2)
        End points as rows of (lat_deg, lon_deg) [deg].
    step_m : float
        Requested step [m], > 0. Each path gets ``n = max(1, round(L / step_m))`` intervals of
        ``L / n``.

    Returns
    -------
    RaggedProfiles
    """
    check_range("step_m", step_m, 0, None, lo_inclusive=False)
    lat0, lon0 = _point("start", start)
    e = np.asarray(ends, dtype=float)
    if e.ndim == 1 and e.size == 2:
        e = e.reshape(1, 2)
    if e.ndim != 2 or e.shape[1] != 2:
        raise ParameterError("ends", f"array of shape {e.shape}", "an (N, 2) array of (lat, lon)")
    lat2, lon2 = e[:, 0], e[:, 1]
    length, az, _ = geodesic_inverse(lat0, lon0, lat2, lon2)
    n = np.maximum(1, np.rint(length / float(step_m))).astype(np.int64)
    step = length / n
    counts = n + 1
    offsets = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    k = np.arange(offsets[-1], dtype=np.int64) - np.repeat(offsets[:-1], counts)
    dist = k * np.repeat(step, counts)
    lat, lon = geodesic_points(lat0, lon0, np.repeat(az, counts), dist)
    # the last point of each path is the end itself, not a forward solution that lands on it
    last = offsets[1:] - 1
    lat[last] = lat2
    lon[last] = np.where(lon2 > 180, lon2 - 360, lon2)
    elev = np.asarray(terrain.elevation_m(lat, lon), dtype=np.float64)
    return RaggedProfiles(
        elevation_m=elev,
        offsets=offsets,
        step_m=step,
        length_m=length,
        distance_m=dist,
        lat_deg=lat,
        lon_deg=lon,
    )


def profile(terrain: Any, start: Any, end: Any, step_m: float) -> Profile:
    """Terrain profile from ``start`` to ``end`` along the WGS84 geodesic.

    Parameters
    ----------
    terrain : yalu.terrain.TerrainLike
        Terrain to sample (anything with ``elevation_m(lat_deg, lon_deg)``).
    start, end : (lat_deg, lon_deg)
        Path ends [deg].
    step_m : float
        Requested step [m], > 0; adjusted to ``L / n`` with ``n = max(1, round(L / step_m))``.

    Returns
    -------
    Profile
    """
    check_range("step_m", step_m, 0, None, lo_inclusive=False)
    _point("start", start)
    lat2, lon2 = _point("end", end)
    return profiles(terrain, start, [(lat2, lon2)], step_m)[0]
