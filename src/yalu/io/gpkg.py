"""GeoPackage output (OGC 12-128r18) written with pyogrio (GDAL/OGR).

``map.gpkg`` holds, in EPSG:4326:

- ``service_<variant>``: one MultiPolygon per service level (1 SMS, 2 voice, 3 data; each node's
  pixel of the service raster, polygonized with :func:`rasterio.features.shapes`), with the
  level's name and its geodesic area [km²] (WGS84, :class:`pyproj.Geod`);
- ``settlements``: every settlement of the analysis area with its attributes, and per variant
  its service level, best server and the layer values at its node (``<variant>__<layer>``);
- ``sites`` (one point per site: height, operator, carriers, the sector-carrier ids that the
  ``best_server`` rasters index), ``jammers`` and ``restricted_zones``;
- ``border`` and ``analysis_area`` lines.

Geometries are encoded as ISO WKB here (points, lines, polygons: a few ``struct`` calls) and
handed to :func:`pyogrio.raw.write`; the file is written under a temporary name and renamed
into place (:func:`yalu.io.atomic.atomic_output`).
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from yalu.io.atomic import atomic_output
from yalu.io.mapdata import MapData, PointFeature

__all__ = ["field_name", "service_polygons", "write_gpkg"]

_WKT_4326 = "EPSG:4326"


def field_name(variant: str, key: str) -> str:
    """Column name of a per-variant value: ``<variant>__<key>``, letters, digits and ``_``."""
    return re.sub(r"[^A-Za-z0-9_]", "_", f"{variant}__{key}")


def _wkb_point(lon: float, lat: float) -> bytes:
    return struct.pack("<BIdd", 1, 1, float(lon), float(lat))


def _ring(r: np.ndarray) -> bytes:
    a = np.ascontiguousarray(np.asarray(r, dtype="<f8")[:, :2])
    return struct.pack("<I", len(a)) + a.tobytes()


def _wkb_polygon(rings: Sequence[np.ndarray]) -> bytes:
    return struct.pack("<BII", 1, 3, len(rings)) + b"".join(_ring(r) for r in rings)


def _wkb_multipolygon(polys: Sequence[Sequence[np.ndarray]]) -> bytes:
    return struct.pack("<BII", 1, 6, len(polys)) + b"".join(_wkb_polygon(p) for p in polys)


def _wkb_multiline(lines: Sequence[np.ndarray]) -> bytes:
    out = [struct.pack("<BII", 1, 5, len(lines))]
    for ln in lines:
        out.append(struct.pack("<BI", 1, 2) + _ring(ln))
    return b"".join(out)


def service_polygons(level: np.ndarray, transform: Any) -> dict[int, list[list[np.ndarray]]]:
    """Polygons (rings lists, lon/lat) of each service level > 0 of a service raster."""
    from rasterio.features import shapes

    lv = np.asarray(level).astype(np.uint8)
    out: dict[int, list[list[np.ndarray]]] = {}
    for geom, val in shapes(lv, mask=lv > 0, transform=transform, connectivity=4):
        out.setdefault(int(val), []).append(
            [np.asarray(r, dtype=float) for r in geom["coordinates"]]
        )
    return out


def _service_layers(level: Any, transform: Any) -> dict[int, tuple[bytes, float]]:
    """For each service level > 0 of a service raster: its MultiPolygon as WKB and its
    geodesic area [km²], built polygon by polygon as the raster is polygonized.

    The same bytes and area as :func:`_wkb_multipolygon` and :func:`_geodesic_km2` of
    :func:`service_polygons` (the same rings, the same sums in the same order), without every
    ring held as an array and then copied into WKB: at a native 3" grid that list was the
    run's largest allocation.
    """
    from pyproj import Geod
    from rasterio.features import shapes

    geod = Geod(ellps="WGS84")
    lv = np.asarray(level).astype(np.uint8)
    parts: dict[int, list[bytes]] = {}
    area: dict[int, float] = {}
    for geom, val in shapes(lv, mask=lv > 0, transform=transform, connectivity=4):
        k = int(val)
        rings = [np.asarray(r, dtype=float) for r in geom["coordinates"]]
        area[k] = _add_area_m2(geod, rings, area.get(k, 0.0))
        parts.setdefault(k, []).append(_wkb_polygon(rings))
    out: dict[int, tuple[bytes, float]] = {}
    for k in sorted(parts):
        polys = parts.pop(k)
        out[k] = (struct.pack("<BII", 1, 6, len(polys)) + b"".join(polys), area[k] / 1e6)
        del polys
    return out


def _geodesic_km2(polys: list[list[np.ndarray]]) -> float:
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    tot = 0.0
    for rings in polys:
        tot = _add_area_m2(geod, rings, tot)
    return tot / 1e6


def _add_area_m2(geod: Any, rings: Sequence[np.ndarray], tot: float) -> float:
    """``tot`` plus one polygon's geodesic area [m²] (exterior ring less its holes), added
    ring by ring."""
    for k, r in enumerate(rings):
        a, _ = geod.polygon_area_perimeter(r[:, 0], r[:, 1])
        tot += abs(a) if k == 0 else -abs(a)
    return tot


def _column(values: list[Any]) -> tuple[np.ndarray, np.ndarray | None]:
    """A field array and its null mask from Python values (int, float, str or None)."""
    present = [v for v in values if v is not None]
    mask = np.array([v is None for v in values], dtype=bool)
    if present and all(isinstance(v, bool) for v in present):
        arr = np.array([bool(v) if v is not None else False for v in values])
    elif present and all(
        isinstance(v, int | np.integer) and not isinstance(v, bool) for v in present
    ):
        arr = np.array([int(v) if v is not None else 0 for v in values], dtype=np.int64)
    elif present and all(isinstance(v, int | float | np.number) for v in present):
        arr = np.array([float(v) if v is not None else np.nan for v in values], dtype=np.float64)
    else:
        arr = np.array(["" if v is None
                        else (", ".join(map(str, v)) if isinstance(v, list) else str(v))
                        for v in values], dtype=object)  # fmt: skip
    return arr, (mask if mask.any() else None)


def _write(
    path: Path, layer: str, geoms: list[bytes], gtype: str, rows: list[dict[str, Any]]
) -> None:
    import pyogrio.raw

    names = list(dict.fromkeys(k for r in rows for k in r))
    cols = [_column([r.get(k) for r in rows]) for k in names]
    pyogrio.raw.write(
        str(path), np.array(geoms, dtype=object), [c[0] for c in cols], names,
        field_mask=[c[1] for c in cols], layer=layer, driver="GPKG", geometry_type=gtype,
        crs=_WKT_4326, append=path.exists() and path.stat().st_size > 0,
    )  # fmt: skip


def _point_rows(points: list[PointFeature], variants: list[str]) -> list[dict[str, Any]]:
    rows = []
    for p in points:
        r: dict[str, Any] = {"id": p.id, "name": p.name, "lat_deg": p.lat_deg, "lon_deg": p.lon_deg}
        r.update(p.props)
        for v in variants:
            for k, val in (p.per_variant.get(v) or {}).items():
                r[field_name(v, k)] = val
        rows.append(r)
    return rows


def write_gpkg(path: str | os.PathLike[str], md: MapData, overwrite: bool = False) -> Path:
    """Write ``md`` as a GeoPackage, atomically (see the module docstring for the layers)."""
    import pyogrio

    p = Path(path)
    with atomic_output(p, overwrite=overwrite) as part:
        tmp = part.with_name(part.name + ".gpkg")  # OGR creates the file; GPKG wants .gpkg
        before = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
        # a fixed gpkg_contents.last_change: reruns give identical bytes
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2000-01-01T00:00:00.000Z"})
        try:
            _write_all(tmp, md)
            os.replace(tmp, part)
        finally:
            pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": before})
            tmp.unlink(missing_ok=True)
    return p


def _write_all(tmp: Path, md: MapData) -> None:
    from yalu.radio.models import Service

    if True:
        for v in md.variants:
            lv = next(
                (ly for ly in md.layers if ly.variant == v and ly.key == "service_level"), None
            )
            if lv is None:
                continue
            layers = _service_layers(lv.values, md.transform)
            rows = [{"variant": v, "level": k, "service": Service(k).key,
                     "area_km2": round(a, 3)} for k, (_w, a) in layers.items()]  # fmt: skip
            _write(tmp, "service_" + re.sub(r"[^A-Za-z0-9_]", "_", v),
                   [w for w, _a in layers.values()], "MultiPolygon", rows)  # fmt: skip
            del layers
        for kind, layer in (("settlement", "settlements"), ("site", "sites"), ("jammer", "jammers"),
                            ("zone", "restricted_zones")):  # fmt: skip
            pts = [q for q in md.points if q.kind == kind]
            if pts:
                _write(tmp, layer, [_wkb_point(q.lon_deg, q.lat_deg) for q in pts], "Point",
                       _point_rows(pts, md.variants))  # fmt: skip
        for ln in md.lines:
            if ln.coords:
                name = "border" if ln.kind == "border" else "analysis_area"
                _write(
                    tmp, name, [_wkb_multiline(ln.coords)], "MultiLineString", [{"name": ln.name}]
                )
        if not tmp.exists():
            raise ValueError("write_gpkg: nothing to write (no layer and no point)")
