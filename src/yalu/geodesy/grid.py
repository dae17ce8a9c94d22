"""Map grids: point-registered lat/lon lattices on which maps are computed.

A :class:`Grid` is a lattice of nodes: node (i, j) lies at ``lat = north_deg - i * dlat_deg``,
``lon = west_deg + j * dlon_deg`` (row 0 is the northern row). The same convention is used by
:class:`yalu.terrain` windows, so that by default a map's nodes are the terrain's own nodes.

As a raster, each node is the centre of a pixel: the affine transform of the raster puts the
pixel corner half a step north-west of the node.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from yalu.errors import ParameterError, check_range
from yalu.geodesy.constants import WGS84_A_M, WGS84_E2

__all__ = ["Grid", "check_bbox", "degree_cells", "grid_around", "metres_per_degree"]


def metres_per_degree(lat_deg: float) -> tuple[float, float]:
    """Length of one degree of latitude and of longitude on WGS84 at ``lat_deg``.

    Returns
    -------
    (m_per_deg_lat, m_per_deg_lon) : tuple of float
        Meridional and prime-vertical arc lengths of one degree [m], from the radii of curvature
        M and N of the ellipsoid (e.g. Torge & Mueller, *Geodesy*, 4th ed., eq. 4.15-4.16).
    """
    e2 = WGS84_E2
    s = math.sin(math.radians(lat_deg))
    w = math.sqrt(1.0 - e2 * s * s)
    m = WGS84_A_M * (1.0 - e2) / (w * w * w)
    n = WGS84_A_M / w
    k = math.pi / 180.0
    return m * k, n * math.cos(math.radians(lat_deg)) * k


@dataclass(frozen=True)
class Grid:
    """A point-registered lat/lon lattice (row 0 north).

    Parameters
    ----------
    north_deg, west_deg : float
        Latitude and longitude of node (0, 0) [deg].
    dlat_deg, dlon_deg : float
        Node spacing [deg], > 0.
    n_rows, n_cols : int
        Lattice size, >= 1.
    """

    north_deg: float
    west_deg: float
    dlat_deg: float
    dlon_deg: float
    n_rows: int
    n_cols: int

    def __post_init__(self) -> None:
        check_range("north_deg", self.north_deg, -90.0, 90.0)
        check_range("west_deg", self.west_deg, -360.0, 360.0)
        check_range("dlat_deg", self.dlat_deg, 0.0, 10.0, lo_inclusive=False)
        check_range("dlon_deg", self.dlon_deg, 0.0, 10.0, lo_inclusive=False)
        for name in ("n_rows", "n_cols"):
            v = getattr(self, name)
            if int(v) != v or v < 1:
                raise ParameterError(name, v, "an integer >= 1")
        if self.north_deg - (self.n_rows - 1) * self.dlat_deg < -90.0 - 1e-9:
            raise ParameterError("n_rows", self.n_rows, "small enough to stay north of -90 deg")

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.n_rows), int(self.n_cols))

    @property
    def south_deg(self) -> float:
        return self.north_deg - (self.n_rows - 1) * self.dlat_deg

    @property
    def east_deg(self) -> float:
        return self.west_deg + (self.n_cols - 1) * self.dlon_deg

    def lats(self) -> np.ndarray:
        """Node latitudes [deg], north to south."""
        return self.north_deg - np.arange(self.n_rows) * self.dlat_deg

    def lons(self) -> np.ndarray:
        """Node longitudes [deg], west to east."""
        return self.west_deg + np.arange(self.n_cols) * self.dlon_deg

    def evaluate(
        self,
        fn: Callable[[np.ndarray, np.ndarray], Any],
        dtype: Any,
        max_nodes: int = 1 << 20,
    ) -> np.ndarray:
        """``fn(lat_deg, lon_deg)`` at every node, in bands of whole rows.

        ``fn`` must be pointwise (a node's value depends on its own coordinates only): the
        result is then that of one call on the whole grid, while the coordinates and ``fn``'s
        temporaries stay those of a band of about ``max_nodes`` nodes; only the result (of
        ``dtype``, the grid's shape) has the grid's size.
        """
        out = np.empty(self.shape, dtype=dtype)
        lat, lon = self.lats(), self.lons()
        step = max(1, int(max_nodes) // max(1, lon.size))
        for r0 in range(0, lat.size, step):
            la, lo = np.meshgrid(lat[r0 : r0 + step], lon, indexing="ij")
            out[r0 : r0 + step] = fn(la, lo)
        return out

    @property
    def transform(self) -> tuple[float, float, float, float, float, float]:
        """GDAL/rasterio affine ``(a, b, c, d, e, f)``: pixel centres on the nodes."""
        return (
            float(self.dlon_deg),
            0.0,
            float(self.west_deg - 0.5 * self.dlon_deg),
            0.0,
            -float(self.dlat_deg),
            float(self.north_deg + 0.5 * self.dlat_deg),
        )

    @classmethod
    def from_transform(cls, transform: tuple[float, ...] | object, shape: tuple[int, int]) -> Grid:
        """Inverse of :attr:`transform` for a north-up raster of ``shape`` (rows, cols)."""
        t: tuple[float, ...] = tuple(transform)  # type: ignore[arg-type]
        a, b, c, d, e, f = (float(x) for x in t[:6])
        if b != 0.0 or d != 0.0 or a <= 0.0 or e >= 0.0:
            raise ParameterError("transform", t[:6], "a north-up transform (no rotation)")
        return cls(f + 0.5 * e, c + 0.5 * a, -e, a, int(shape[0]), int(shape[1]))

    def subgrid(self, row0: int, col0: int, n_rows: int, n_cols: int) -> Grid:
        """The lattice of rows ``row0:row0+n_rows`` and columns ``col0:col0+n_cols``."""
        return Grid(
            self.north_deg - row0 * self.dlat_deg,
            self.west_deg + col0 * self.dlon_deg,
            self.dlat_deg,
            self.dlon_deg,
            int(n_rows),
            int(n_cols),
        )


def grid_around(
    site_lat_deg: float,
    site_lon_deg: float,
    radius_m: float,
    *,
    north_deg: float,
    west_deg: float,
    dlat_deg: float,
    dlon_deg: float,
) -> Grid:
    """The smallest sub-lattice of a reference lattice that holds a circle around a site.

    The reference lattice is given by one of its nodes (``north_deg``, ``west_deg``) and its
    spacing; the result's nodes are nodes of it. The circle's extent comes from WGS84 geodesics
    (:data:`yalu.geodesy.WGS84`) every 2 degrees of azimuth, widened by 0.1 % and one node on each
    side.
    """
    from yalu.geodesy.paths import WGS84

    check_range("radius_m", radius_m, 0.0, 2.0e6, lo_inclusive=False)
    az = np.arange(0.0, 360.0, 2.0)
    lon_f, lat_f, _ = WGS84.fwd(
        np.full(az.size, float(site_lon_deg)),
        np.full(az.size, float(site_lat_deg)),
        az,
        np.full(az.size, float(radius_m) * 1.001),
    )
    lat_c = np.asarray(lat_f, dtype=float)
    lon_c = np.asarray(lon_f, dtype=float)
    lon_c = site_lon_deg + (lon_c - site_lon_deg + 180.0) % 360.0 - 180.0
    n = max(float(np.max(lat_c)), site_lat_deg)
    s = min(float(np.min(lat_c)), site_lat_deg)
    w = float(np.min(lon_c))
    e = float(np.max(lon_c))
    i0 = math.floor((north_deg - n) / dlat_deg + 1e-9) - 1
    i1 = math.ceil((north_deg - s) / dlat_deg - 1e-9) + 1
    j0 = math.floor((w - west_deg) / dlon_deg + 1e-9) - 1
    j1 = math.ceil((e - west_deg) / dlon_deg - 1e-9) + 1
    return Grid(
        north_deg - i0 * dlat_deg,
        west_deg + j0 * dlon_deg,
        dlat_deg,
        dlon_deg,
        i1 - i0 + 1,
        j1 - j0 + 1,
    )


def check_bbox(bbox: Any, name: str = "bbox") -> tuple[float, float, float, float]:
    """Validate (south, west, north, east) [deg]; raise ParameterError naming ``name``."""
    try:
        s, w, n, e = (float(v) for v in bbox)
    except (TypeError, ValueError):
        raise ParameterError(name, bbox, "S,W,N,E in degrees") from None
    check_range(f"{name} south", s, -90, 90)
    check_range(f"{name} north", n, -90, 90)
    check_range(f"{name} west", w, -180, 360)
    check_range(f"{name} east", e, -180, 360)
    if s > n:
        raise ParameterError(name, f"{s},{w},{n},{e}", "S,W,N,E with S <= N")
    if w > e:
        raise ParameterError(name, f"{s},{w},{n},{e}", "S,W,N,E with W <= E")
    return s, w, n, e


def degree_cells(bbox: Any) -> list[tuple[int, int]]:
    """(south, west) of the whole-degree cells that cover a box (longitudes in -180..179)."""
    s, w, n, e = check_bbox(bbox)
    s0, n0 = math.floor(s), max(math.ceil(n), math.floor(s) + 1)
    w0, e0 = math.floor(w), max(math.ceil(e), math.floor(w) + 1)
    return [(la, ((lo + 180) % 360) - 180) for la in range(s0, n0) for lo in range(w0, e0)]
