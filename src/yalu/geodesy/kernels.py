"""The geodesic numba kernels that other numba code may call (WGS84, Vincenty 1975).

The public Python API is :mod:`yalu.geodesy.paths` (pyproj, and
:func:`~yalu.geodesy.paths.azimuth_distance_vincenty` for many nodes at once). Code compiled
with numba (the coverage engine's exact and fast modes) places profile points and node
geodesics with these kernels from its own ``@njit`` functions; they are documented in
:mod:`yalu.geodesy._geodesic`, which implements them, and trust their input.
"""

from yalu.geodesy._geodesic import (
    ANCHOR_M,
    circle_points,
    direct,
    direct_az,
    inverse,
    inverse_many,
    profile_pieces,
    profile_points,
    profile_segments,
)

__all__ = [
    "ANCHOR_M",
    "circle_points",
    "direct",
    "direct_az",
    "inverse",
    "inverse_many",
    "profile_pieces",
    "profile_points",
    "profile_segments",
]
