"""Restricted zones: circles and polygons rasterised to a boolean map layer.

A zone marks where phone use is forbidden (e.g. 300 m around a monument). It is a map layer only
and does not change the physics.

- Circles use the geodesic distance on the WGS 84 ellipsoid (pyproj ``Geod.inv``, Karney's
  algorithm) from the centre to each node.
- Polygons use the even-odd (crossing-number) point-in-polygon rule on longitude/latitude, i.e.
  edges are straight in a plate carree projection; fine for zones of a few km, not for polygons
  spanning the antimeridian or a pole (rejected).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field, field_validator

from yalu.errors import ParameterError
from yalu.geodesy.paths import WGS84
from yalu.radio._base import RadioModel

__all__ = ["CircleZone", "PolygonZone", "RestrictedZone", "rasterize_zones"]


class CircleZone(RadioModel):
    """A circle: centre and radius [m]."""

    kind: Literal["circle"] = "circle"
    label: str = ""
    lat_deg: float = Field(ge=-90.0, le=90.0)
    lon_deg: float = Field(ge=-180.0, le=180.0)
    radius_m: float = Field(gt=0.0)

    def contains(self, lat_deg: npt.ArrayLike, lon_deg: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        lat, lon = np.broadcast_arrays(np.asarray(lat_deg, float), np.asarray(lon_deg, float))
        out = np.zeros(lat.shape, dtype=bool)
        # geodesic distances only inside a box that surely holds the circle: a degree of
        # latitude is at least 110.5 km, of longitude at least 111.3 km x cos(lat) (WGS84)
        dlat = self.radius_m / 110_000.0 * 1.01
        far = min(89.9, abs(self.lat_deg) + dlat)
        dlon = min(360.0, self.radius_m / (111_000.0 * math.cos(math.radians(far))) * 1.01)
        near = (np.abs(lat - self.lat_deg) <= dlat) & (
            np.abs((lon - self.lon_deg + 180.0) % 360.0 - 180.0) <= dlon
        )
        if near.any():
            la, lo = lat[near], lon[near]
            _, _, dist = WGS84.inv(np.full(la.shape, self.lon_deg), np.full(la.shape, self.lat_deg),
                                   lo, la)  # fmt: skip
            out[near] = np.asarray(dist, dtype=float) <= self.radius_m
        return out


class PolygonZone(RadioModel):
    """A polygon of (lat, lon) vertices [deg]; closing the ring is optional."""

    kind: Literal["polygon"] = "polygon"
    label: str = ""
    vertices: list[tuple[float, float]] = Field(min_length=3)

    @field_validator("vertices")
    @classmethod
    def _v_vertices(cls, v: list[tuple[float, float]]) -> list[tuple[float, float]]:
        for i, (la, lo) in enumerate(v):
            if not (-90.0 <= la <= 90.0 and -180.0 <= lo <= 180.0):
                raise ParameterError(f"vertices[{i}]", (la, lo), "(lat -90 to 90, lon -180 to 180)")
        lons = [p[1] for p in v]
        if max(lons) - min(lons) > 180.0:
            raise ParameterError("vertices", "spans > 180 deg of longitude", "a local polygon")
        if v[0] == v[-1]:
            v = v[:-1]
        if len(v) < 3:
            raise ParameterError("vertices", len(v), "at least 3 distinct vertices")
        return v

    def contains(self, lat_deg: npt.ArrayLike, lon_deg: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        y, x = np.broadcast_arrays(np.asarray(lat_deg, float), np.asarray(lon_deg, float))
        inside = np.zeros(y.shape, dtype=bool)
        verts = self.vertices
        n = len(verts)
        for i in range(n):  # loop over edges (few), vectorized over nodes
            y1, x1 = verts[i]
            y2, x2 = verts[(i + 1) % n]
            if y1 == y2:
                continue
            crosses = (y1 > y) != (y2 > y)
            x_at = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            inside ^= crosses & (x < x_at)
        return inside


RestrictedZone = Annotated[CircleZone | PolygonZone, Field(discriminator="kind")]


def rasterize_zones(
    zones: list[Any], lat_deg: npt.ArrayLike, lon_deg: npt.ArrayLike
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int16]]:
    """Rasterise zones onto nodes.

    Parameters
    ----------
    zones : list of CircleZone or PolygonZone
    lat_deg, lon_deg : array_like
        Node coordinates [deg], broadcastable (e.g. 2-D grids, or a column and a row).

    Returns
    -------
    restricted : ndarray of bool
        True inside any zone.
    zone_index : ndarray of int16
        Index into ``zones`` of the first zone containing the node, -1 outside all.
    """
    lat, lon = np.broadcast_arrays(np.asarray(lat_deg, float), np.asarray(lon_deg, float))
    index = np.full(lat.shape, -1, dtype=np.int16)
    for k in range(len(zones) - 1, -1, -1):
        index[zones[k].contains(lat, lon)] = k
    return index >= 0, index
