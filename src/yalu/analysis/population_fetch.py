"""Download gridded population into a local cache that scenarios read (``population.raster``).

Sources (public, HTTPS; the cache mirrors the upstream layout):

- ``worldpop``: WorldPop's per-country 100 m (3 arc-second) estimates of people per cell,
  2000-2020, unconstrained top-down ("Global2"), as GeoTIFFs in EPSG:4326::

      https://data.worldpop.org/GIS/Population/Global_2000_2020/<year>/<ISO3>/<iso3>_ppp_<year>.tif

  ``un_adjusted=True`` gets the estimates adjusted to the UN World Population Prospects totals,
  ``<iso3>_ppp_<year>_UNadj.tif``. (WorldPop, www.worldpop.org, CC BY 4.0; Lloyd et al. 2019,
  "Global spatio-temporally harmonised datasets for producing high-resolution gridded population
  distribution datasets", Big Earth Data 3(2), 108-139.)
- ``ghsl``: the JRC Global Human Settlement Layer population grid GHS-POP R2023A, 1975-2030 in
  5-year steps, 3 arc-second, EPSG:4326, in tiles of 10 x 10 degrees (row ``R`` counted from
  90 N, column ``C`` from 180 W, from 1), each a zip holding one GeoTIFF::

      https://jeodpp.jrc.ec.europa.eu/ftp/jrc-opendata/GHSL/GHS_POP_GLOBE_R2023A/
        GHS_POP_E<year>_GLOBE_R2023A_4326_3ss/V1-0/tiles/
        GHS_POP_E<year>_GLOBE_R2023A_4326_3ss_V1_0_R<row>_C<col>.zip

  (Schiavina, Freire, Carioli, MacManus 2023, GHS-POP R2023A, European Commission JRC, CC BY 4.0.)
  The cache keeps the extracted GeoTIFF (``.tif`` in place of ``.zip``); a tile that does not
  exist upstream (HTTP 404: open sea) is recorded as ``<tile>.zip.absent``.

Files are downloaded through :func:`yalu.download.download_files`: retries, a temporary name,
validation (a readable, north-up GeoTIFF in geographic coordinates whose every block decodes; for
GHSL a zip holding one such GeoTIFF of at most :data:`MAX_UNZIPPED_BYTES`), then an atomic rename.
A GHSL zip is then unpacked (bounded, validated again, atomic) and removed. A host that cannot be
reached stops the fetch at once. A WorldPop file that does not exist (HTTP 404: no such country
or year) is an error.
"""

from __future__ import annotations

import enum
import math
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yalu.download import ABSENT_SUFFIX, InvalidDownload, download_files
from yalu.errors import DownloadError, ParameterError, check_range, parse_choice
from yalu.geodesy.grid import check_bbox

__all__ = [
    "DEFAULT_BASE_URLS",
    "GHSL_YEARS",
    "MAX_UNZIPPED_BYTES",
    "PopulationFetchReport",
    "PopulationSource",
    "WORLDPOP_YEARS",
    "default_cache_dir",
    "fetch_population",
    "ghsl_relpath",
    "ghsl_tiles",
    "worldpop_relpath",
]


class PopulationSource(enum.StrEnum):
    WORLDPOP = "worldpop"
    GHSL = "ghsl"


DEFAULT_BASE_URLS = {
    PopulationSource.WORLDPOP: "https://data.worldpop.org/GIS/Population/Global_2000_2020",
    PopulationSource.GHSL: "https://jeodpp.jrc.ec.europa.eu/ftp/jrc-opendata/GHSL/GHS_POP_GLOBE_R2023A",
}

WORLDPOP_YEARS = range(2000, 2021)
GHSL_YEARS = range(1975, 2031, 5)
#: Largest GeoTIFF taken out of a GHSL zip [bytes] (a 10-degree 3" float32 tile is 518 MB).
MAX_UNZIPPED_BYTES = 2 * 1024**3


def default_cache_dir() -> Path:
    """``$YALU_CACHE_DIR/population``, else ``$XDG_CACHE_HOME/yalu/population``, else
    ``~/.cache/yalu/population``."""
    if os.environ.get("YALU_CACHE_DIR"):
        return Path(os.environ["YALU_CACHE_DIR"]) / "population"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "yalu" / "population"


def _iso3(code: str) -> str:
    c = str(code).strip().upper()
    if len(c) != 3 or not c.isalpha():
        raise ParameterError("country", code, "an ISO 3166-1 alpha-3 code such as PRK or CHN")
    return c


def worldpop_relpath(country: str, year: int, un_adjusted: bool = False) -> str:
    """Path of a WorldPop country file relative to the base URL (and to the cache)."""
    if int(year) not in WORLDPOP_YEARS:
        raise ParameterError("year", year, "2000 to 2020 for WorldPop")
    c = _iso3(country)
    suffix = "_UNadj" if un_adjusted else ""
    return f"{int(year)}/{c}/{c.lower()}_ppp_{int(year)}{suffix}.tif"


def _ghsl_name(year: int) -> str:
    if int(year) not in GHSL_YEARS:
        raise ParameterError("year", year, "1975 to 2030 in steps of 5 for GHSL")
    return f"GHS_POP_E{int(year)}_GLOBE_R2023A_4326_3ss"


def ghsl_relpath(year: int, row: int, col: int) -> str:
    """Path of a GHSL tile (the zip) relative to the base URL."""
    name = _ghsl_name(year)
    return f"{name}/V1-0/tiles/{name}_V1_0_R{int(row)}_C{int(col)}.zip"


def ghsl_tiles(bbox: Any) -> list[tuple[int, int]]:
    """(row, col) of the 10-degree GHSL tiles covering ``bbox`` (row 1 is 90-80 N, col 1 is
    180-170 W)."""
    s, w, n, e = check_bbox(bbox)
    rows = range(int(math.floor((90.0 - n) / 10.0)) + 1,
                 int(math.ceil((90.0 - s) / 10.0 - 1e-9)) + 1)  # fmt: skip
    cols = range(int(math.floor((w + 180.0) / 10.0)) + 1,
                 int(math.ceil((e + 180.0) / 10.0 - 1e-9)) + 1)  # fmt: skip
    return [(r, c) for r in rows for c in cols if 1 <= r <= 18 and 1 <= c <= 36]


@dataclass
class PopulationFetchReport:
    """Outcome of :func:`fetch_population`: cache-relative paths of the GeoTIFFs by what
    happened."""

    cache_dir: Path
    downloaded: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    retries: int = 0
    bytes_downloaded: int = 0

    @property
    def rasters(self) -> list[Path]:
        """Every GeoTIFF now in the cache for the request (downloaded or reused)."""
        return [self.cache_dir / r for r in self.downloaded + self.reused]


def validate_population_tif(path: Path) -> None:
    """Raise InvalidDownload unless ``path`` is a north-up geographic GeoTIFF whose every block
    decodes (read in bands of rows: memory stays bounded for a country)."""
    import numpy as np
    import rasterio
    from rasterio.errors import RasterioError
    from rasterio.windows import Window

    try:
        with rasterio.open(path) as ds:
            if ds.driver != "GTiff":
                raise InvalidDownload(f"not a GeoTIFF ({ds.driver})")
            if ds.crs is None or not ds.crs.is_geographic:
                raise InvalidDownload(f"not in geographic coordinates ({ds.crs})")
            t = ds.transform
            if t.b != 0 or t.d != 0 or t.a <= 0 or t.e >= 0:
                raise InvalidDownload("not a north-up grid")
            band = max(1, min(ds.height, 4_000_000 // max(ds.width, 1)))
            for r0 in range(0, ds.height, band):
                z = ds.read(1, window=Window(0, r0, ds.width, min(band, ds.height - r0)))
                if z.dtype.kind == "f" and np.isinf(z).any():
                    raise InvalidDownload("infinite values")
    except RasterioError as exc:
        raise InvalidDownload(f"unreadable GeoTIFF ({exc})") from exc


def _extract_tif(zip_path: Path, final_tif: Path) -> None:
    """Take the one GeoTIFF out of a GHSL zip, bounded, validated, atomically to ``final_tif``."""
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidDownload(f"not a zip ({exc})") from exc
    with zf:
        tifs = [i for i in zf.infolist() if i.filename.lower().endswith(".tif")]
        if len(tifs) != 1:
            raise InvalidDownload(f"{len(tifs)} GeoTIFFs in the zip, expected 1")
        info = tifs[0]
        if info.file_size > MAX_UNZIPPED_BYTES:
            raise InvalidDownload(f"{info.file_size:,} bytes unzipped, more than the "
                                  f"{MAX_UNZIPPED_BYTES:,} allowed")  # fmt: skip
        fd, tmp_name = tempfile.mkstemp(prefix=f".{final_tif.name}.", suffix=".part",
                                        dir=final_tif.parent)  # fmt: skip
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            with zf.open(info) as src, open(tmp, "wb") as dst:
                # copy at most the declared size + 1 byte: a lying header cannot inflate further
                shutil.copyfileobj(_Limited(src, info.file_size + 1), dst, 1 << 20)
            if tmp.stat().st_size != info.file_size:
                raise InvalidDownload("unzipped size differs from the zip's directory")
            validate_population_tif(tmp)
            os.replace(tmp, final_tif)
        except (zipfile.BadZipFile, EOFError, OSError) as exc:
            raise InvalidDownload(f"corrupt zip ({exc})") from exc
        finally:
            tmp.unlink(missing_ok=True)


class _Limited:
    def __init__(self, f: Any, limit: int) -> None:
        self.f, self.left = f, limit

    def read(self, n: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        n = self.left if n < 0 else min(n, self.left)
        b: bytes = self.f.read(n)
        self.left -= len(b)
        return b


def _validate_zip(zip_path: Path) -> None:
    """Raise InvalidDownload unless ``zip_path`` holds exactly one valid GeoTIFF (bounded)."""
    with tempfile.TemporaryDirectory(dir=zip_path.parent) as d:
        _extract_tif(zip_path, Path(d) / "member.tif")


def fetch_population(
    source: PopulationSource | str,
    *,
    year: int,
    countries: Iterable[str] = (),
    bbox: Any | None = None,
    un_adjusted: bool = False,
    cache_dir: str | os.PathLike[str] | None = None,
    base_url: str | None = None,
    retries: int = 4,
    backoff_s: float = 1.0,
    timeout_s: float = 120.0,
    progress: Callable[[str, str], None] | None = None,
) -> PopulationFetchReport:
    """Download population rasters into ``cache_dir``.

    Parameters
    ----------
    source : {"worldpop", "ghsl"}
    year : int
        WorldPop 2000-2020; GHSL 1975-2030 in steps of 5.
    countries : iterable of str
        ISO 3166-1 alpha-3 codes (WorldPop), e.g. ``["PRK", "CHN"]``.
    bbox : (south, west, north, east) [deg], optional
        The area (GHSL: the tiles covering it).
    un_adjusted : bool
        WorldPop: the estimates adjusted to UN totals.
    cache_dir : path, optional
        Default :func:`default_cache_dir`.
    base_url : str, optional
        Replaces the public URL (mirrors, tests).
    retries, backoff_s, timeout_s
        See :func:`yalu.download.download_files`.
    progress : callable(path, status), optional
        Called per file with "downloaded", "reused", "absent" or "failed".

    Raises
    ------
    DownloadError
        A file failed after every retry (the others are fetched first), a WorldPop file does not
        exist (HTTP 404), or the host cannot be reached (at once).
    """
    src = parse_choice(PopulationSource, source, "source")
    check_range("retries", retries, 0, 100)
    check_range("timeout_s", timeout_s, 0, None, lo_inclusive=False)
    check_range("backoff_s", backoff_s, 0, None)
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    base = (base_url or DEFAULT_BASE_URLS[src]).rstrip("/")
    report = PopulationFetchReport(cache_dir=root)
    if src is PopulationSource.WORLDPOP:
        codes = [_iso3(c) for c in countries]
        if not codes:
            raise ParameterError("countries", "[]", "at least one ISO3 code (e.g. PRK, CHN)")
        rels = [worldpop_relpath(c, year, un_adjusted) for c in codes]
        dl = download_files(rels, base, root, lambda _r, p: validate_population_tif(p),
                            retries=retries, backoff_s=backoff_s, timeout_s=timeout_s,
                            progress=progress, what="raster")  # fmt: skip
        for rel in dl.absent:
            (root / (rel + ABSENT_SUFFIX)).unlink(missing_ok=True)  # ask again next time
        if dl.absent:
            raise DownloadError(f"no WorldPop file {dl.absent[0]} at {base} (HTTP 404): check the "
                                "country code and the year (2000-2020)")  # fmt: skip
        report.downloaded, report.reused = dl.downloaded, dl.reused
        report.retries, report.bytes_downloaded = dl.retries, dl.bytes_downloaded
        return report
    if bbox is None:
        raise ParameterError("bbox", None, "a S,W,N,E box for GHSL tiles")
    zips = []
    for row, col in ghsl_tiles(bbox):
        rel = ghsl_relpath(year, row, col)
        tif = rel[:-4] + ".tif"
        if (root / tif).exists():
            report.reused.append(tif)
            if progress is not None:
                progress(tif, "reused")
        else:
            zips.append(rel)

    def unpack(rel: str, status: str) -> None:
        if status in ("downloaded", "reused"):  # reused: a zip left by an interrupted run
            tif = rel[:-4] + ".tif"
            _extract_tif(root / rel, root / tif)
            (root / rel).unlink()
            report.downloaded.append(tif)
        elif status == "absent":
            report.absent.append(rel[:-4] + ".tif")
        if progress is not None:
            progress(rel[:-4] + ".tif", status)

    dl = download_files(zips, base, root, lambda _r, p: _validate_zip(p), retries=retries,
                        backoff_s=backoff_s, timeout_s=timeout_s, progress=unpack,
                        what="raster")  # fmt: skip
    report.retries, report.bytes_downloaded = dl.retries, dl.bytes_downloaded
    return report
