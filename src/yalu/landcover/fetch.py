"""Download ESA WorldCover 10 m land-cover tiles into a local cache.

Upstream layout (public bucket, HTTPS; ``DEFAULT_BASE_URL``)::

    v100/2020/map/ESA_WorldCover_10m_2020_v100_N39E123_Map.tif
    v200/2021/map/ESA_WorldCover_10m_2021_v200_N39E123_Map.tif

Tiles are 3 x 3 degrees, named by their south-west corner (latitude and longitude multiples of
3); upstream they are 36000 x 36000 uint8 Cloud-Optimized GeoTIFFs in EPSG:4326 (0.3" pixels)
with the WorldCover class codes (:mod:`yalu.landcover.classes`). Tiles over open ocean do not
exist (HTTP 404): recorded as ``<tile>.absent`` and read as water.

The download machinery is :func:`yalu.download.download_files` (retries, atomic renames,
failing fast offline); each tile is checked before it is kept: a single-band uint8 geographic
GeoTIFF that covers exactly its 3-degree square with square pixels, whose every block decodes
and holds only WorldCover codes.
"""

from __future__ import annotations

import enum
import math
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from yalu.download import DownloadReport, InvalidDownload, download_files
from yalu.errors import parse_choice
from yalu.landcover.classes import WORLDCOVER_CLASSES, WORLDCOVER_NODATA

__all__ = [
    "WorldCoverVersion",
    "DEFAULT_BASE_URL",
    "TILE_DEG",
    "default_cache_dir",
    "tile_name",
    "tile_relpath",
    "tile_cells",
    "fetch_worldcover",
    "TILE_RE",
]

DEFAULT_BASE_URL = "https://esa-worldcover.s3.eu-central-1.amazonaws.com"
TILE_DEG = 3
# the largest tile upstream is ~ 0.5 GB; refuse anything far larger
MAX_TILE_BYTES = 2 << 30

TILE_RE = re.compile(
    r"ESA_WorldCover_10m_(?P<year>\d{4})_(?P<ver>v\d+)_(?P<ns>[NS])(?P<lat>\d{2})"
    r"(?P<ew>[EW])(?P<lon>\d{3})_Map\.tif$"
)


class WorldCoverVersion(enum.StrEnum):
    """WorldCover releases: 2020 (v100) and 2021 (v200)."""

    V2020 = "2020"
    V2021 = "2021"


_VERSION_TAG = {WorldCoverVersion.V2020: "v100", WorldCoverVersion.V2021: "v200"}


def default_cache_dir() -> Path:
    """``$YALU_CACHE_DIR/landcover``, else ``$XDG_CACHE_HOME/yalu/landcover``, else
    ``~/.cache/yalu/landcover``."""
    if os.environ.get("YALU_CACHE_DIR"):
        return Path(os.environ["YALU_CACHE_DIR"]) / "landcover"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "yalu" / "landcover"


def tile_name(south: int, west: int) -> str:
    """``N39E123`` for the tile whose south-west corner is (39, 123)."""
    ns = "N" if south >= 0 else "S"
    ew = "E" if west >= 0 else "W"
    return f"{ns}{abs(south):02d}{ew}{abs(west):03d}"


def tile_relpath(version: WorldCoverVersion | str, south: int, west: int) -> str:
    """Path of a tile relative to the base URL and to the cache."""
    v = parse_choice(WorldCoverVersion, version, "version")
    tag = _VERSION_TAG[v]
    return (
        f"{tag}/{v.value}/map/ESA_WorldCover_10m_{v.value}_{tag}_{tile_name(south, west)}_Map.tif"
    )


def tile_cells(bbox: Any) -> list[tuple[int, int]]:
    """(south, west) corners of the 3-degree tiles that cover ``bbox`` (S, W, N, E)."""
    from yalu.geodesy.grid import check_bbox

    s, w, n, e = check_bbox(bbox)
    s0 = math.floor(s / TILE_DEG) * TILE_DEG
    w0 = math.floor(w / TILE_DEG) * TILE_DEG
    n0 = max(math.ceil(n / TILE_DEG) * TILE_DEG, s0 + TILE_DEG)
    e0 = max(math.ceil(e / TILE_DEG) * TILE_DEG, w0 + TILE_DEG)
    out = []
    for la in range(s0, min(n0, 90), TILE_DEG):
        for lo in range(w0, e0, TILE_DEG):
            out.append((la, ((lo + 180) % 360) - 180))
    return out


def validate_tile(path: Path, south: int, west: int) -> None:
    """Raise InvalidDownload unless ``path`` is a WorldCover tile of the cell (south, west)."""
    import numpy as np
    import rasterio
    from rasterio.errors import RasterioError

    valid_codes = np.array(sorted({WORLDCOVER_NODATA, *WORLDCOVER_CLASSES}), dtype=np.uint8)
    try:
        with rasterio.open(path) as ds:
            if ds.count != 1 or ds.dtypes[0] != "uint8":
                raise InvalidDownload(f"{ds.count} band(s) of {ds.dtypes[0]}, not 1 band of uint8")
            if ds.crs is None or not ds.crs.is_geographic:
                raise InvalidDownload(f"CRS {ds.crs} is not geographic (EPSG:4326)")
            t = ds.transform
            if t.b != 0 or t.d != 0 or not math.isclose(t.a, -t.e, rel_tol=1e-9):
                raise InvalidDownload("pixels are not square and north-up")
            b = ds.bounds
            tol = 0.5 * t.a
            want = (west, south, west + TILE_DEG, south + TILE_DEG)
            if any(abs(g - x) > tol for g, x in zip(b, want, strict=True)):
                raise InvalidDownload(f"bounds {tuple(b)} are not the tile's {want}")
            # decode block by block (bounded memory): catches damaged compressed data
            for _, window in ds.block_windows(1):
                block = ds.read(1, window=window)
                if not np.isin(block, valid_codes).all():
                    bad = int(block[~np.isin(block, valid_codes)][0])
                    raise InvalidDownload(f"value {bad} is not a WorldCover class code")
    except RasterioError as exc:
        raise InvalidDownload(f"unreadable GeoTIFF ({exc})") from exc


def fetch_worldcover(
    bbox: Any,
    version: WorldCoverVersion | str = WorldCoverVersion.V2021,
    cache_dir: str | os.PathLike[str] | None = None,
    base_url: str | None = None,
    *,
    retries: int = 4,
    backoff_s: float = 1.0,
    timeout_s: float = 60.0,
    progress: Callable[[str, str], None] | None = None,
) -> DownloadReport:
    """Download the WorldCover tiles covering ``bbox`` into ``cache_dir``.

    Parameters
    ----------
    bbox : (south, west, north, east) [deg]
    version : {"2021", "2020"}
        WorldCover release (2021 v200 by default).
    cache_dir : path, optional
        Cache root (default :func:`default_cache_dir`); read it with
        :func:`yalu.landcover.open_landcover`.
    base_url : str, optional
        Replaces the public bucket (mirrors, tests).
    retries, backoff_s, timeout_s, progress :
        As :func:`yalu.download.download_files`.

    Raises
    ------
    DownloadError
        A tile failed after all retries, or the host is unreachable.
    """
    v = parse_choice(WorldCoverVersion, version, "version")
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    cells = {tile_relpath(v, s, w): (s, w) for s, w in tile_cells(bbox)}

    def validate(rel: str, path: Path) -> None:
        validate_tile(path, *cells[rel])

    return download_files(
        list(cells), base_url or DEFAULT_BASE_URL, root, validate, retries=retries,
        backoff_s=backoff_s, timeout_s=timeout_s, max_bytes=MAX_TILE_BYTES, progress=progress,
        what="tile",
    )  # fmt: skip
