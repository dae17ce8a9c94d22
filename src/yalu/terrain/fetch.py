"""Download public elevation tiles into a local cache that :func:`open_terrain` reads.

Sources (real public buckets, HTTPS):

- ``copernicus-glo90`` / ``copernicus-glo30``: Copernicus DEM COG tiles on AWS open data,
  ``https://copernicus-dem-90m.s3.amazonaws.com/<name>/<name>.tif`` with
  ``<name> = Copernicus_DSM_COG_30_N41_00_E024_00_DEM`` (``COG_10`` and ``-30m`` for GLO-30).
  Tiles over open sea do not exist upstream (HTTP 404).
- ``srtm-skadi``: SRTM 1" tiles in the Skadi layout of the AWS terrain tiles,
  ``https://elevation-tiles-prod.s3.amazonaws.com/skadi/N41/N41E024.hgt.gz``.

The cache mirrors the upstream layout. Each tile is downloaded to a temporary name, checked (HTTP
length, then the format: gzip + SRTM size, or a readable geographic GeoTIFF of the right grid whose
pixels all decode), and only then renamed into place, so a truncated or corrupt tile never stays.
A 404 is recorded as ``<tile>.absent`` (open sea: :func:`open_terrain` reads it as 0 m). Tiles
already in the cache are reused.
"""

from __future__ import annotations

import enum
import gzip
import http.client
import os
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yalu.errors import DownloadError, TerrainFormatError, check_range, parse_choice
from yalu.geodesy.grid import check_bbox, degree_cells
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

USER_AGENT = "yalu-terrain-fetch (+https://github.com/) urllib"


def default_cache_dir() -> Path:
    """``$YALU_CACHE_DIR/terrain``, else ``$XDG_CACHE_HOME/yalu/terrain``, else ``~/.cache/yalu/terrain``."""
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


@dataclass
class FetchReport:
    """Outcome of :func:`fetch_tiles`: tile paths relative to the cache, by what happened."""

    cache_dir: Path
    downloaded: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    retries: int = 0
    bytes_downloaded: int = 0


def _validate(path: Path, source: FetchSource, south: int, west: int) -> None:
    """Raise TerrainFormatError unless ``path`` is a complete tile of the expected grid."""
    if source is FetchSource.SRTM_SKADI:
        try:
            with gzip.open(path, "rb") as f:
                raw = f.read()
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
        with rasterio.open(path) as ds:
            z = ds.read(1)  # decodes every block: catches truncated compressed data
    except (RasterioError, TerrainFormatError) as exc:
        raise TerrainFormatError(f"unreadable GeoTIFF ({exc})") from exc
    # longitude spacing widens with latitude: 1, 1.5, 2, 3, 5, 10 times the latitude spacing
    if nrows != ppd or ncols not in {ppd, ppd * 2 // 3, ppd // 2, ppd // 3, ppd // 5, ppd // 10}:
        raise TerrainFormatError(f'grid {nrows}x{ncols} is not a Copernicus {3600 // ppd}" tile')
    if abs(north - (south + 1)) > 0.01 * dlat or abs(west_n - west) > 0.01 * dlon:
        raise TerrainFormatError(f"first node ({north}, {west_n}) does not match the tile name")
    if not np.isfinite(z).any():
        raise TerrainFormatError("no valid elevation")


def _download_once(url: str, dest: Path, timeout_s: float) -> int:
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(req, timeout=timeout_s) as resp:
        expected = resp.headers.get("Content-Length")
        n = 0
        with open(dest, "wb") as f:
            while True:
                chunk = resp.read(1 << 16)
                if not chunk:
                    break
                f.write(chunk)
                n += len(chunk)
    if expected is not None and n != int(expected):
        raise TerrainFormatError(f"truncated body: {n} of {expected} bytes")
    return n


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

    Raises
    ------
    DownloadError
        A tile could not be fetched after all retries (other tiles are still fetched first).
    """
    box = check_bbox(bbox)
    src = parse_choice(FetchSource, source, "source")
    check_range("retries", retries, 0, 100)
    check_range("timeout_s", timeout_s, 0, None, lo_inclusive=False)
    check_range("backoff_s", backoff_s, 0, None)
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    base = (base_url or DEFAULT_BASE_URLS[src]).rstrip("/")
    report = FetchReport(cache_dir=root)
    for s, w in degree_cells(box):
        rel = tile_relpath(src, s, w)
        final = root / rel
        marker = final.with_name(final.name + fmt.ABSENT_SUFFIX)
        if final.exists():
            report.reused.append(rel)
            status = "reused"
        elif marker.exists():
            report.absent.append(rel)
            status = "absent"
        else:
            status = _fetch_one(
                f"{base}/{rel}", final, marker, src, s, w, retries, backoff_s, timeout_s, report
            )
        if progress is not None:
            progress(rel, status)
    if report.failed:
        first = next(iter(report.failed.items()))
        raise DownloadError(
            f"{len(report.failed)} tile(s) failed after {retries + 1} attempts, e.g. {first[0]}: "
            f"{first[1]} (from {base}); tiles already fetched stay in {root}"
        )
    return report


def _fetch_one(
    url: str,
    final: Path,
    marker: Path,
    src: FetchSource,
    s: int,
    w: int,
    retries: int,
    backoff_s: float,
    timeout_s: float,
    report: FetchReport,
) -> str:
    final.parent.mkdir(parents=True, exist_ok=True)
    last = ""
    for attempt in range(retries + 1):
        if attempt:
            report.retries += 1
            time.sleep(backoff_s * 2 ** (attempt - 1))
        fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".part", dir=final.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            n = _download_once(url, tmp, timeout_s)
            _validate(tmp, src, s, w)
            os.replace(tmp, final)
            report.downloaded.append(str(final.relative_to(report.cache_dir)))
            report.bytes_downloaded += n
            return "downloaded"
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                marker.write_text(f"404 {url}\n")
                report.absent.append(str(final.relative_to(report.cache_dir)))
                return "absent"
            last = f"HTTP {exc.code}"
        except (
            urllib.error.URLError,
            TimeoutError,
            ConnectionError,
            http.client.HTTPException,
        ) as exc:
            last = f"{type(exc).__name__}: {exc}"
        except TerrainFormatError as exc:
            last = f"invalid tile: {exc}"
        finally:
            tmp.unlink(missing_ok=True)
    report.failed[str(final.relative_to(report.cache_dir))] = last
    return "failed"
