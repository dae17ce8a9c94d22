"""Download public elevation tiles into a local cache that :func:`open_terrain` reads.

Sources (real public buckets, HTTPS):

- ``copernicus-glo90`` / ``copernicus-glo30``: Copernicus DEM COG tiles on AWS open data,
  ``https://copernicus-dem-90m.s3.amazonaws.com/<name>/<name>.tif`` with
  ``<name> = Copernicus_DSM_COG_30_N41_00_E024_00_DEM`` (``COG_10`` and ``-30m`` for GLO-30).
  Tiles over open sea do not exist upstream (HTTP 404).
- ``srtm-skadi``: SRTM 1" tiles in the Skadi layout of the AWS terrain tiles,
  ``https://elevation-tiles-prod.s3.amazonaws.com/skadi/N41/N41E024.hgt.gz``.

The cache mirrors the upstream layout. The download machinery (retries, atomic renames, 404
markers, failing fast offline) is :func:`yalu.download.download_files`; this module adds the
layouts and the format check of each tile (gzip + SRTM size, or a readable geographic GeoTIFF of
the right grid whose pixels all decode). A 404 is recorded as ``<tile>.absent`` (open sea:
:func:`open_terrain` reads it as 0 m). Tiles already in the cache are reused.
"""

from __future__ import annotations

import enum
import os
import stat
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from yalu.download import DownloadReport, download_files
from yalu.errors import (
    InputError,
    OutputError,
    ParameterError,
    TerrainFormatError,
    check_range,
    parse_choice,
)
from yalu.geodesy.grid import check_bbox, degree_cells
from yalu.inputs import fmt_bytes, gunzip_capped
from yalu.terrain import formats as fmt

__all__ = [
    "FetchSource",
    "DEFAULT_BASE_URLS",
    "FetchReport",
    "default_cache_dir",
    "tile_relpath",
    "fetch_tiles",
]


class FetchSource(enum.StrEnum):
    COPERNICUS_GLO90 = "copernicus-glo90"
    COPERNICUS_GLO30 = "copernicus-glo30"
    SRTM_SKADI = "srtm-skadi"


DEFAULT_BASE_URLS = {
    FetchSource.COPERNICUS_GLO90: "https://copernicus-dem-90m.s3.amazonaws.com",
    FetchSource.COPERNICUS_GLO30: "https://copernicus-dem-30m.s3.amazonaws.com",
    FetchSource.SRTM_SKADI: "https://elevation-tiles-prod.s3.amazonaws.com/skadi",
}


def default_cache_dir() -> Path:
    """``$YALU_CACHE_DIR/terrain``, else ``$XDG_CACHE_HOME/yalu/terrain``, else
    ``~/.cache/yalu/terrain``."""
    if os.environ.get("YALU_CACHE_DIR"):
        return Path(os.environ["YALU_CACHE_DIR"]) / "terrain"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "yalu" / "terrain"


def tile_relpath(source: FetchSource | str, south: int, west: int) -> str:
    """Path of a tile relative to the base URL (and to the cache directory)."""
    src = parse_choice(FetchSource, source, "source")
    if src is FetchSource.SRTM_SKADI:
        name = fmt.hgt_name(south, west)
        return f"{name[:3]}/{name}.gz"
    arcsec = 1 if src is FetchSource.COPERNICUS_GLO30 else 3
    name = fmt.copernicus_name(south, west, arcsec)
    return f"{name[:-4]}/{name}"


TILE_BYTES = {
    FetchSource.COPERNICUS_GLO90: 4 * 2**20,
    FetchSource.COPERNICUS_GLO30: 30 * 2**20,
    FetchSource.SRTM_SKADI: 12 * 2**20,
}
"""Typical download size of one land tile [bytes] (for the size stated before fetching)."""
DEFAULT_MAX_TILES = 400
"""Most tiles one fetch may request unless raised (the flagship border box needs 40)."""


def _check_cache_dir(root: Path) -> None:
    """The cache must be a directory (or creatable) that accepts files: checked before fetching."""
    q = root
    while not os.path.lexists(q) and q.parent != q:
        q = q.parent
    st = os.stat(q)
    if not stat.S_ISDIR(st.st_mode):
        what = "a file" if stat.S_ISREG(st.st_mode) else "a device or special file"
        raise OutputError(f"terrain cache {root}: {q} is {what}, not a directory")
    if not os.access(q, os.W_OK | os.X_OK):
        raise OutputError(f"terrain cache {root}: directory {q} is not writable")


#: outcome of :func:`fetch_tiles` (the shared :class:`yalu.download.DownloadReport`)
FetchReport = DownloadReport


def _validate(path: Path, source: FetchSource, south: int, west: int) -> None:
    """Raise TerrainFormatError unless ``path`` is a complete tile of the expected grid."""
    if source is FetchSource.SRTM_SKADI:
        try:
            # streamed with a cap: a hostile mirror's small .gz may inflate to gigabytes
            raw = gunzip_capped(path, fmt.HGT_MAX_BYTES, "downloaded tile")
        except InputError as exc:
            raise TerrainFormatError(str(exc)) from None
        except (OSError, EOFError) as exc:
            raise TerrainFormatError(f"corrupt gzip ({exc})") from exc
        if len(raw) not in fmt.HGT_SIZES:
            raise TerrainFormatError(f"{len(raw)} bytes is not an SRTM tile")
        return
    import numpy as np
    import rasterio
    from rasterio.errors import RasterioError

    ppd = 3600 if source is FetchSource.COPERNICUS_GLO30 else 1200
    try:
        north, west_n, dlat, dlon, nrows, ncols, _nd = fmt.raster_grid(path)
    except (RasterioError, TerrainFormatError) as exc:
        raise TerrainFormatError(f"unreadable GeoTIFF ({exc})") from exc
    # the grid is checked before any pixel is decoded: the header bounds the memory read
    # longitude spacing widens with latitude: 1, 1.5, 2, 3, 5, 10 times the latitude spacing
    if nrows != ppd or ncols not in {ppd, ppd * 2 // 3, ppd // 2, ppd // 3, ppd // 5, ppd // 10}:
        raise TerrainFormatError(f'grid {nrows}x{ncols} is not a Copernicus {3600 // ppd}" tile')
    try:
        with rasterio.open(path) as ds:
            z = ds.read(1)  # decodes every block: catches truncated compressed data
    except RasterioError as exc:
        raise TerrainFormatError(f"unreadable GeoTIFF ({exc})") from exc
    if abs(north - (south + 1)) > 0.01 * dlat or abs(west_n - west) > 0.01 * dlon:
        raise TerrainFormatError(f"first node ({north}, {west_n}) does not match the tile name")
    if not np.isfinite(z).any():
        raise TerrainFormatError("no valid elevation")


def fetch_tiles(
    bbox: Any,
    source: FetchSource | str,
    cache_dir: str | os.PathLike[str] | None = None,
    base_url: str | None = None,
    *,
    retries: int = 4,
    backoff_s: float = 1.0,
    timeout_s: float = 60.0,
    progress: Callable[[str, str], None] | None = None,
    max_tiles: int = DEFAULT_MAX_TILES,
) -> FetchReport:
    """Download the tiles covering ``bbox`` into ``cache_dir``.

    Parameters
    ----------
    bbox : (south, west, north, east) [deg]
    source : {"copernicus-glo90", "copernicus-glo30", "srtm-skadi"}
    cache_dir : path, optional
        Cache root (default :func:`default_cache_dir`); open it with ``open_terrain(cache_dir)``.
    base_url : str, optional
        Replaces the public bucket URL (mirrors, tests).
    retries : int
        Further attempts after a failed one (5xx, timeout, truncated or corrupt body).
    backoff_s : float
        First wait between attempts [s]; doubles each time.
    timeout_s : float
        Socket timeout of each attempt [s].
    progress : callable, optional
        Called as ``progress(tile, status)`` with status "downloaded", "reused" or "absent".
    max_tiles : int
        Refuse (before any download) a box that needs more tiles; the error states the size.

    Raises
    ------
    ParameterError
        A base URL that is not http(s)/file, or a box of more than ``max_tiles`` tiles.
    OutputError
        ``cache_dir`` is not a directory that can be written.
    DownloadError
        A tile could not be fetched after all retries (other tiles are still fetched first).
    """
    box = check_bbox(bbox)
    src = parse_choice(FetchSource, source, "source")
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    base = base_url or DEFAULT_BASE_URLS[src]
    if urllib.parse.urlsplit(base).scheme.lower() not in ("http", "https", "file"):
        raise ParameterError("--base-url", base_url, "an http://, https:// or file:// URL")
    tiles = degree_cells(box)
    check_range("max_tiles", max_tiles, 1, None)
    if len(tiles) > max_tiles:
        raise ParameterError(
            "--bbox", box, f"a box of at most {max_tiles} tiles (--max-tiles)",
            detail=f"it needs {len(tiles):,} tiles, up to about "
            f"{fmt_bytes(len(tiles) * TILE_BYTES[src])} of {src.value}",
        )  # fmt: skip
    _check_cache_dir(root)
    cells = {tile_relpath(src, s, w): (s, w) for s, w in tiles}

    def validate(rel: str, path: Path) -> None:
        _validate(path, src, *cells[rel])

    return download_files(
        list(cells), base, root, validate, retries=retries,
        backoff_s=backoff_s, timeout_s=timeout_s, progress=progress, what="tile",
    )  # fmt: skip
