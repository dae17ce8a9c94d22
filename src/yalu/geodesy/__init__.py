"""The earth model, on the lowest floor of yalu: constants, grids, geodesics and profiles.

- :mod:`yalu.geodesy.constants`: WGS 84, earth radii, the standard k factor, the speed of light;
- :mod:`yalu.geodesy.earth`: effective-earth bulge and antenna elevation angles;
- :mod:`yalu.geodesy.grid`: :class:`Grid`, the point-registered lat/lon lattice of every map;
- :mod:`yalu.geodesy.paths`: WGS84 geodesics (pyproj) and terrain profiles along them.

>>> from yalu.geodesy import Grid
>>> Grid(42.0, 124.0, 0.5, 0.5, 3, 2).lats().tolist()
[42.0, 41.5, 41.0]
"""

from yalu.geodesy.constants import (
    AUTHALIC_RADIUS_M,
    MEAN_EARTH_RADIUS_M,
    SPEED_OF_LIGHT_M_S,
    STANDARD_K_FACTOR,
    WGS84_A_M,
    WGS84_B_M,
    WGS84_E2,
    WGS84_F,
    effective_earth_radius_m,
)
from yalu.geodesy.earth import earth_bulge_m, elevation_angle_deg
from yalu.geodesy.grid import Grid, check_bbox, degree_cells, grid_around, metres_per_degree
from yalu.geodesy.paths import (
    WGS84,
    Profile,
    RaggedProfiles,
    azimuth_distance,
    azimuth_distance_vincenty,
    geodesic_inverse,
    geodesic_points,
    profile,
    profiles,
)

__all__ = [
    "AUTHALIC_RADIUS_M",
    "MEAN_EARTH_RADIUS_M",
    "SPEED_OF_LIGHT_M_S",
    "STANDARD_K_FACTOR",
    "WGS84",
    "WGS84_A_M",
    "WGS84_B_M",
    "WGS84_E2",
    "WGS84_F",
    "Grid",
    "Profile",
    "RaggedProfiles",
    "azimuth_distance",
    "azimuth_distance_vincenty",
    "check_bbox",
    "degree_cells",
    "earth_bulge_m",
    "effective_earth_radius_m",
    "elevation_angle_deg",
    "geodesic_inverse",
    "geodesic_points",
    "grid_around",
    "metres_per_degree",
    "profile",
    "profiles",
]
