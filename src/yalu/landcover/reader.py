"""Read land-cover class codes at points and along terrain profiles.

Sources: a WorldCover cache written by :func:`yalu.landcover.fetch_worldcover` (tiles found by
name, ``.absent`` ocean markers read as water), a directory of WorldCover tiles, or any single-band
integer land-cover GeoTIFF in any CRS (a file or a list of files). Class codes are categorical:
sampling takes the pixel that contains the point (no interpolation). Pixels are read block by
block around the requested points, so memory stays bounded on 36000 x 36000 tiles.

Points outside every source, and the sources' nodata pixels, read as 0 (no data): callers then
apply no clutter there; :attr:`LandCover.last_nodata_count` tells how many there were.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from yalu.download import ABSENT_SUFFIX
from yalu.errors import InputError, ParameterError, TerrainFormatError, YaluWarning
from yalu.landcover.classes import WORLDCOVER_NODATA, WORLDCOVER_WATER, clutter_for_codes
from yalu.landcover.fetch import TILE_DEG, TILE_RE

__all__ = ["LandCover", "LandCoverWarning", "open_landcover"]

_BLOCK = 1024


class LandCoverWarning(YaluWarning):
    """Some requested points have no land-cover information."""


@dataclass
class _Source:
    path: Path | None  # None: an absent (ocean) tile
    bounds: tuple[float, float, float, float]  # lon/lat box (W, S, E, N) of a WorldCover tile
    fill: int = WORLDCOVER_NODATA  # value of an absent tile


class LandCover:
    """Land-cover class codes from one or more rasters. Use :func:`open_landcover`."""

    def __init__(self, sources: list[_Source], description: str, year: str | None = None):
        self._sources = sources
        self.description = description
        self.year = year
        self.last_nodata_count = 0

    @property
    def files(self) -> list[Path]:
        return [s.path for s in self._sources if s.path is not None]

    def codes_at(self, lat_deg: npt.ArrayLike, lon_deg: npt.ArrayLike) -> npt.NDArray[np.uint8]:
        """Class code [uint8] of the pixel containing each point (0 = no data).

        Parameters
        ----------
        lat_deg, lon_deg : array_like
            Points [deg] (broadcast together).
        """
        lat, lon = np.broadcast_arrays(
            np.asarray(lat_deg, dtype=float), np.asarray(lon_deg, dtype=float)
        )
        if not (np.all(np.isfinite(lat)) and np.all(np.abs(lat) <= 90)):
            bad = lat[~(np.isfinite(lat) & (np.abs(lat) <= 90))].flat[0]
            raise ParameterError("lat_deg", float(bad), "-90 to 90")
        if not np.all(np.isfinite(lon)):
            raise ParameterError("lon_deg", float(lon[~np.isfinite(lon)].flat[0]), "finite")
        la = lat.ravel()
        lo = ((lon.ravel() + 180.0) % 360.0) - 180.0
        out = np.zeros(la.size, dtype=np.uint8)
        todo = np.ones(la.size, dtype=bool)
        for src in self._sources:
            if not todo.any():
                break
            w, s, e, n = src.bounds
            sel = todo & (lo >= w) & (lo < e) & (la >= s) & (la < n)
            if src.path is None:
                if sel.any():
                    out[sel] = src.fill
                    todo &= ~sel
                continue
            if src.bounds == (-math.inf, -math.inf, math.inf, math.inf):
                sel = todo.copy()
            if not sel.any():
                continue
            idx = np.nonzero(sel)[0]
            vals, inside = _sample_file(src.path, la[idx], lo[idx])
            out[idx[inside]] = vals[inside]
            todo[idx[inside]] = False
        nodata = int(np.count_nonzero(out == WORLDCOVER_NODATA))
        self.last_nodata_count = nodata
        if nodata:
            warnings.warn(
                f"land cover: {nodata} of {out.size} points have no land-cover data "
                f"({self.description}); no clutter is applied there",
                LandCoverWarning,
                stacklevel=2,
            )
        return out.reshape(lat.shape)

    def codes_along(self, profile: Any) -> npt.NDArray[np.uint8]:
        """Class codes at every point of a :class:`yalu.geodesy.Profile` (or RaggedProfiles)."""
        return self.codes_at(profile.lat_deg, profile.lon_deg)

    def clutter_at(
        self, lat_deg: npt.ArrayLike, lon_deg: npt.ArrayLike, which: str = "height_m"
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """P.2108 clutter type codes (0 = none) and representative heights [m] at points, from
        the WorldCover table (:data:`yalu.landcover.classes.WORLDCOVER_CLUTTER`)."""
        return clutter_for_codes(self.codes_at(lat_deg, lon_deg), which=which)


def _sample_file(
    path: Path, lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.bool_]]:
    """Pixel values at points from one raster (block-wise reads); (values, inside mask)."""
    import rasterio
    from rasterio.errors import RasterioError

    try:
        with rasterio.open(path) as ds:
            if ds.crs is None:
                raise TerrainFormatError(f"{path}: land-cover raster has no CRS")
            if ds.crs.is_geographic:
                x, y = lon, lat
            else:
                from pyproj import Transformer

                tr = Transformer.from_crs("EPSG:4326", ds.crs, always_xy=True)
                x, y = tr.transform(lon, lat)
                x, y = np.asarray(x), np.asarray(y)
            inv = ~ds.transform
            col = np.floor(inv.a * x + inv.b * y + inv.c).astype(np.int64)
            row = np.floor(inv.d * x + inv.e * y + inv.f).astype(np.int64)
            inside = (row >= 0) & (row < ds.height) & (col >= 0) & (col < ds.width)
            vals = np.zeros(lat.size, dtype=np.uint8)
            if not inside.any():
                return vals, inside
            nodata = ds.nodata
            ii = np.nonzero(inside)[0]
            key = (row[ii] // _BLOCK) * ((ds.width + _BLOCK - 1) // _BLOCK) + col[ii] // _BLOCK
            order = np.argsort(key, kind="stable")
            _, starts = np.unique(key[order], return_index=True)
            bounds = [*starts[1:], order.size]
            for start, stop in zip(starts, bounds, strict=True):
                sel = ii[order[start:stop]]
                r0 = int(row[sel[0]] // _BLOCK) * _BLOCK
                c0 = int(col[sel[0]] // _BLOCK) * _BLOCK
                win = rasterio.windows.Window(
                    c0, r0, min(_BLOCK, ds.width - c0), min(_BLOCK, ds.height - r0)
                )
                block = ds.read(1, window=win)
                v = block[row[sel] - r0, col[sel] - c0]
                if nodata is not None:
                    v = np.where(v == nodata, WORLDCOVER_NODATA, v)
                vals[sel] = np.clip(v, 0, 255).astype(np.uint8)
            return vals, inside
    except RasterioError as exc:
        raise TerrainFormatError(f"{path}: unreadable land-cover raster ({exc})") from exc


def _tile_bounds(m: Any) -> tuple[float, float, float, float]:
    s = int(m["lat"]) * (1 if m["ns"] == "N" else -1)
    w = int(m["lon"]) * (1 if m["ew"] == "E" else -1)
    return (float(w), float(s), float(w + TILE_DEG), float(s + TILE_DEG))


def open_landcover(
    source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    year: str | int | None = None,
) -> LandCover:
    """Open land cover: a WorldCover cache or tile directory, a GeoTIFF, or a list of GeoTIFFs.

    Parameters
    ----------
    source : path or list of paths
        A directory (searched recursively for ``ESA_WorldCover_10m_<year>_<v>_<tile>_Map.tif``
        and their ``.absent`` ocean markers), or GeoTIFF file(s) of class codes in any CRS.
    year : {"2021", "2020"}, optional
        With a directory holding both releases, which one (default: the newest found).

    Raises
    ------
    InputError
        Nothing usable at ``source``.
    """
    if isinstance(source, (list, tuple)):
        paths = [Path(p) for p in source]
        for p in paths:
            if not p.is_file():
                raise InputError(f"land-cover file {p} does not exist")
        srcs = [_Source(p, (-math.inf, -math.inf, math.inf, math.inf)) for p in paths]
        return LandCover(srcs, f"{len(paths)} land-cover file(s)")
    root = Path(source)  # type: ignore[arg-type]  # str or PathLike here
    if root.is_file():
        m = TILE_RE.search(root.name)
        bounds = _tile_bounds(m) if m else (-math.inf, -math.inf, math.inf, math.inf)
        return LandCover([_Source(root, bounds)], str(root), m["year"] if m else None)
    if not root.is_dir():
        raise InputError(f"land-cover source {root} does not exist")
    found: dict[str, list[_Source]] = {}
    for p in sorted(root.rglob("ESA_WorldCover_10m_*")):
        name = p.name
        absent = name.endswith(ABSENT_SUFFIX)
        m = TILE_RE.search(name[: -len(ABSENT_SUFFIX)] if absent else name)
        if m is None or p.name.startswith("."):
            continue
        src = _Source(None if absent else p, _tile_bounds(m), WORLDCOVER_WATER)
        found.setdefault(m["year"], []).append(src)
    if not found:
        raise InputError(
            f"no WorldCover tiles (ESA_WorldCover_10m_*_Map.tif) under {root}: "
            "run `yalu landcover fetch` first, or pass a GeoTIFF"
        )
    if year is None:
        yr = max(found)
    else:
        yr = str(year)
        if yr not in found:
            raise ParameterError("year", year, "one of " + ", ".join(sorted(found)))
    tiles = found[yr]
    n_files = sum(s.path is not None for s in tiles)
    return LandCover(
        tiles,
        f"ESA WorldCover {yr} ({n_files} tile(s), {len(tiles) - n_files} ocean) in {root}",
        yr,
    )
