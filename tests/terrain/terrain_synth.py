"""Writers of synthetic terrain files in the real formats, independent of yalu's own writers.

The field ``linear_field`` is a + b*lat + c*lon with integer values at every 3" and 1" node, so
bilinear interpolation must reproduce it exactly, across tile edges included.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def linear_field(lat, lon):  # type: ignore[no-untyped-def]
    """Elevation [m]: integer on the 1" lattice, within int16 (and never -32768) for 38-44 N,
    121-128 E."""
    return 100.0 + 3600.0 * (np.asarray(lat) - 40.0) + 3600.0 * (np.asarray(lon) - 123.0)


def hgt_name(s: int, w: int) -> str:
    return f"{'N' if s >= 0 else 'S'}{abs(s):02d}{'E' if w >= 0 else 'W'}{abs(w):03d}.hgt"


def hgt_grid(s: int, w: int, ppd: int, field=linear_field) -> np.ndarray:  # type: ignore[no-untyped-def]
    """(ppd+1)^2 nodes, row 0 = north edge (s+1), column 0 = west edge (w)."""
    i = np.arange(ppd + 1)
    lat = s + 1 - i / ppd
    lon = w + i / ppd
    return field(lat[:, None], lon[None, :])


def write_hgt(d: Path, s: int, w: int, ppd: int = 1200, field=linear_field, z=None) -> Path:  # type: ignore[no-untyped-def]
    z = hgt_grid(s, w, ppd, field) if z is None else z
    p = Path(d) / hgt_name(s, w)
    p.write_bytes(np.rint(z).astype(">i2").tobytes())
    return p


def write_sdf(d: Path, s: int, w: int, field=linear_field, ppd: int = 1200) -> Path:  # type: ignore[no-untyped-def]
    """A SPLAT! SDF tile written straight from the layout in shared/bench/README.md."""
    max_west = (-w) % 360
    min_west = max_west - 1
    lines = [str(max_west), str(s), str(min_west), str(s + 1)]
    x = np.arange(ppd)
    lat = s + x / ppd  # outer loop, from the south edge northward
    west_lon = min_west + (x + 1) / ppd  # inner loop, from the east edge westward
    lon = -west_lon
    lon = np.where(lon < -180, lon + 360, lon)
    z = np.rint(field(lat[:, None], lon[None, :])).astype(np.int64)
    lines.extend(map(str, z.ravel().tolist()))
    suffix = "-hd.sdf" if ppd == 3600 else ".sdf"
    p = Path(d) / f"{s}:{s + 1}:{min_west}:{max_west}{suffix}"
    p.write_text("\n".join(lines) + "\n")
    return p


def write_geotiff(
    path: Path,
    north_node: float,
    west_node: float,
    step: float,
    nrows: int,
    ncols: int,
    field=linear_field,  # type: ignore[no-untyped-def]
    point: bool = False,
    dtype: str = "float32",
    nodata: float | None = None,
    z=None,  # type: ignore[no-untyped-def]
    **creation,  # type: ignore[no-untyped-def]
) -> Path:
    """GeoTIFF whose pixel centres (Area) or points (Point) are the nodes given."""
    import rasterio
    from affine import Affine

    if z is None:
        lat = north_node - np.arange(nrows) * step
        lon = west_node + np.arange(ncols) * step
        z = field(lat[:, None], lon[None, :])
    # GDAL's geotransform is pixel-corner based for both registrations
    t = Affine(step, 0, west_node - step / 2, 0, -step, north_node + step / 2)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=nrows,
        width=ncols,
        count=1,
        dtype=dtype,
        crs="EPSG:4326",
        transform=t,
        nodata=nodata,
        **creation,
    ) as ds:
        ds.write(np.asarray(z).astype(dtype), 1)
        ds.update_tags(AREA_OR_POINT="Point" if point else "Area")
    return path


def reference_bilinear(z, lat_nodes, lon_nodes, lat, lon):  # type: ignore[no-untyped-def]
    """Textbook bilinear interpolation on a rectilinear grid, written independently of yalu.

    ``lat_nodes`` may be descending (north first) or ascending; ``lon_nodes`` ascending.
    """
    z = np.asarray(z, dtype=float)
    lat_nodes = np.asarray(lat_nodes, dtype=float)
    if lat_nodes[0] > lat_nodes[-1]:
        lat_nodes, z = lat_nodes[::-1], z[::-1]
    i = np.clip(np.searchsorted(lat_nodes, lat, side="right") - 1, 0, lat_nodes.size - 2)
    j = np.clip(np.searchsorted(lon_nodes, lon, side="right") - 1, 0, lon_nodes.size - 2)
    u = (lat - lat_nodes[i]) / (lat_nodes[i + 1] - lat_nodes[i])
    v = (lon - lon_nodes[j]) / (lon_nodes[j + 1] - lon_nodes[j])
    return (
        z[i, j] * (1 - u) * (1 - v)
        + z[i + 1, j] * u * (1 - v)
        + z[i, j + 1] * (1 - u) * v
        + z[i + 1, j + 1] * u * v
    )
