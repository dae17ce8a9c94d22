"""Geometry for the analysis: cell areas, distances to border lines, points in polygons.

Cell areas are exact on the WGS 84 ellipsoid. Distances are great-circle distances on the sphere of
the WGS 84 authalic radius, within a few tenths of a percent of the ellipsoidal geodesic (tested
against :class:`pyproj.Geod`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.path import Path as MplPath

from yalu.analysis import _kernels
from yalu.errors import InputError, ParameterError, check_range
from yalu.geodesy.constants import AUTHALIC_RADIUS_M, WGS84_A_M, WGS84_E2

__all__ = [
    "EARTH_RADIUS_M",
    "PolygonFeature",
    "cell_area_km2",
    "distance_to_lines_km",
    "load_lines_geojson",
    "load_polygons_geojson",
    "points_in_polygon",
]

#: Radius [m] of the sphere with the area of the WGS 84 ellipsoid (authalic radius).
EARTH_RADIUS_M = AUTHALIC_RADIUS_M

Ring = np.ndarray  # (n, 2) lon, lat [deg]


def _q(lat_rad: np.ndarray) -> np.ndarray:
    # Snyder, Map Projections - A Working Manual (USGS PP 1395, 1987), eq. 3-12
    e = np.sqrt(WGS84_E2)
    s = np.sin(lat_rad)
    return np.asarray(
        (1 - WGS84_E2) * (s / (1 - WGS84_E2 * s * s) - np.log((1 - e * s) / (1 + e * s)) / (2 * e))
    )


def cell_area_km2(lat_deg: Any, dlat_deg: float, dlon_deg: float) -> np.ndarray:
    """Area [km²] on the WGS 84 ellipsoid of a latitude-longitude cell centred at ``lat_deg``.

    Exact: ``a² Δλ (q(φ₂) − q(φ₁)) / 2`` with ``q`` of Snyder (1987) eq. 3-12 (the area between the
    equator and latitude φ of a unit-longitude strip).

    Parameters
    ----------
    lat_deg : array_like
        Latitude of the cell centre [deg].
    dlat_deg, dlon_deg : float
        Cell size [deg], > 0.
    """
    check_range("dlat_deg", dlat_deg, 0, 180, lo_inclusive=False)
    check_range("dlon_deg", dlon_deg, 0, 360, lo_inclusive=False)
    lat = np.asarray(lat_deg, dtype=float)
    check_range("lat_deg", lat, -90, 90)
    lo = np.radians(np.clip(lat - dlat_deg / 2, -90, 90))
    hi = np.radians(np.clip(lat + dlat_deg / 2, -90, 90))
    a_km = WGS84_A_M / 1000.0
    return np.asarray(a_km * a_km * np.radians(dlon_deg) * (_q(hi) - _q(lo)) / 2)


def _segments(lines: Sequence[np.ndarray]) -> np.ndarray:
    rows = []
    for line in lines:
        arr = np.asarray(line, dtype=float)
        if arr.ndim != 2 or arr.shape[1] < 2 or arr.shape[0] < 1:
            raise ParameterError("lines", f"array of shape {arr.shape}", "(n, 2) lon, lat arrays")
        lon = np.radians(arr[:, 0])
        lat = np.radians(arr[:, 1])
        xyz = np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
        if len(xyz) == 1:
            xyz = np.vstack([xyz, xyz])
        rows.append(np.hstack([xyz[:-1], xyz[1:]]))
    if not rows:
        raise ParameterError("lines", "[]", "at least one line")
    return np.ascontiguousarray(np.vstack(rows))


def distance_to_lines_km(lat_deg: Any, lon_deg: Any, lines: Sequence[np.ndarray]) -> np.ndarray:
    """Great-circle distance [km] from each point to the nearest of a set of polylines.

    Parameters
    ----------
    lat_deg, lon_deg : array_like
        Points [deg], broadcast together.
    lines : sequence of (n, 2) arrays
        Polylines as (lon, lat) vertices [deg]; each edge is a great-circle arc.

    Returns
    -------
    numpy.ndarray
        Distance [km], the shape of the broadcast points.
    """
    lat, lon = np.broadcast_arrays(np.asarray(lat_deg, float), np.asarray(lon_deg, float))
    check_range("lat_deg", lat, -90, 90)
    check_range("lon_deg", lon, -540, 540)
    seg = _segments(lines)
    ang = _kernels.distance_to_segments_rad(
        np.ascontiguousarray(np.radians(lat).ravel()),
        np.ascontiguousarray(np.radians(lon).ravel()),
        seg,
    )
    return np.asarray(ang.reshape(lat.shape) * EARTH_RADIUS_M / 1000.0)


def _read_geojson(path: str | os.PathLike[str]) -> Any:
    from yalu.inputs import read_text_capped

    p = Path(path)
    text = read_text_capped(p, 512 * 2**20, "GeoJSON")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{p}: line {exc.lineno}: not a GeoJSON file ({exc.msg})") from None
    except RecursionError:
        raise InputError(f"{p}: not a GeoJSON file (nested too deeply)") from None


def _geometries(obj: Any) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(properties, geometry) of every feature or bare geometry in a GeoJSON object."""
    if not isinstance(obj, dict):
        return []
    kind = obj.get("type")
    if kind == "FeatureCollection":
        out: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for f in obj.get("features") or []:
            out.extend(_geometries(f))
        return out
    if kind == "Feature":
        geom = obj.get("geometry")
        return [(obj.get("properties") or {}, geom)] if isinstance(geom, dict) else []
    if kind == "GeometryCollection":
        return [({}, g) for g in obj.get("geometries") or [] if isinstance(g, dict)]
    return [({}, obj)]


def load_lines_geojson(path: str | os.PathLike[str]) -> list[np.ndarray]:
    """Every LineString / MultiLineString in a GeoJSON file as (n, 2) lon, lat arrays [deg]."""
    lines: list[np.ndarray] = []
    for _, geom in _geometries(_read_geojson(path)):
        coords: Any = geom.get("coordinates") or []
        if geom.get("type") == "LineString":
            lines.append(np.asarray(coords, dtype=float)[:, :2])
        elif geom.get("type") == "MultiLineString":
            lines.extend(np.asarray(c, dtype=float)[:, :2] for c in coords)
    if not lines:
        raise InputError(f"{path}: no LineString or MultiLineString in the file")
    return lines


@dataclass
class PolygonFeature:
    """A (multi)polygon with its properties. ``polygons`` is a list of rings lists:
    exterior first, then holes; each ring an (n, 2) lon, lat array [deg]."""

    properties: dict[str, Any]
    polygons: list[list[Ring]] = field(default_factory=list)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) [deg]."""
        allp = np.vstack([rings[0] for rings in self.polygons])
        return (
            float(allp[:, 0].min()),
            float(allp[:, 1].min()),
            float(allp[:, 0].max()),
            float(allp[:, 1].max()),
        )

    def contains(self, lat_deg: Any, lon_deg: Any) -> np.ndarray:
        """Whether each point lies inside the (multi)polygon (holes excluded)."""
        lat, lon = np.broadcast_arrays(np.asarray(lat_deg, float), np.asarray(lon_deg, float))
        inside = np.zeros(lat.shape, dtype=bool)
        for rings in self.polygons:
            inside |= points_in_polygon(lat, lon, rings)
        return inside


def points_in_polygon(lat_deg: Any, lon_deg: Any, rings: Sequence[Ring]) -> np.ndarray:
    """Whether each point lies in the polygon given by an exterior ring and optional holes.

    Planar test in (lon, lat), which is what GeoJSON polygons mean (RFC 7946 §3.1.6 edges are
    straight lines in lon/lat for this purpose).
    """
    lat, lon = np.broadcast_arrays(np.asarray(lat_deg, float), np.asarray(lon_deg, float))
    pts = np.column_stack([lon.ravel(), lat.ravel()])
    out = np.zeros(len(pts), dtype=bool)
    if not rings:
        return out.reshape(lat.shape)
    ext = np.asarray(rings[0], float)
    w, s = ext[:, 0].min(), ext[:, 1].min()
    e, n = ext[:, 0].max(), ext[:, 1].max()
    cand = (pts[:, 0] >= w) & (pts[:, 0] <= e) & (pts[:, 1] >= s) & (pts[:, 1] <= n)
    if cand.any():
        sub = pts[cand]
        ins = MplPath(ext).contains_points(sub)
        for hole in rings[1:]:
            ins &= ~MplPath(np.asarray(hole, float)).contains_points(sub)
        out[cand] = ins
    return out.reshape(lat.shape)


def load_polygons_geojson(path: str | os.PathLike[str]) -> list[PolygonFeature]:
    """Every Polygon / MultiPolygon feature of a GeoJSON file."""
    feats: list[PolygonFeature] = []
    for props, geom in _geometries(_read_geojson(path)):
        kind = geom.get("type")
        coords: Any = geom.get("coordinates") or []
        if kind == "Polygon":
            polys = [coords]
        elif kind == "MultiPolygon":
            polys = list(coords)
        else:
            continue
        feats.append(
            PolygonFeature(
                dict(props),
                [[np.asarray(r, dtype=float)[:, :2] for r in poly] for poly in polys if poly],
            )
        )
    if not feats:
        raise InputError(f"{path}: no Polygon or MultiPolygon in the file")
    return feats
