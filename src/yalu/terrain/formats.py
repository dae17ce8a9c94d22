"""Terrain file formats: tile names, readers and the SPLAT! SDF writer.

Every reader returns elevations as a 2-D float32 array, row 0 = north, column 0 = west, with voids
(-32768 or the file's nodata) set to NaN; :mod:`yalu.terrain.core` fills them.

Tile kinds (1-degree tiles, named by their south-west corner):

- SRTM ``.hgt`` (``N41E024.hgt``, also ``.hgt.zip``, and the Skadi layout ``N41/N41E024.hgt.gz``):
  big-endian int16, 1201 x 1201 (3") or 3601 x 3601 (1") points; the first row is the north edge,
  the last the south edge, so neighbours share their edge rows and columns.
- SPLAT! SDF (``41:42:335:336.sdf``, ``-hd.sdf`` for 1"): four header lines (max west, min north,
  min west, max north; integer degrees, west longitude 0-360) then ppd x ppd integers, one per line,
  outer loop from the south edge northward (lat = min_north + i/ppd), inner loop from the east edge
  westward (west lon = min_west + (j+1)/ppd). The tile holds no north row and no east column: they
  belong to the neighbours.
- Copernicus DEM GLO-30/GLO-90 COG (``Copernicus_DSM_COG_10_N41_00_E024_00_DEM.tif``):
  pixel-is-point GeoTIFF whose first row lies on the north edge and first column on the west
  edge; the south row and east column belong to the neighbours.
"""

from __future__ import annotations

import gzip
import os
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from yalu.errors import InputError, TerrainFormatError
from yalu.inputs import check_regular_file, gunzip_capped, read_bytes_capped, unzip_capped

__all__ = [
    "TileKind",
    "TILE_KINDS",
    "classify_tile",
    "read_hgt",
    "read_sdf",
    "read_copernicus",
    "sdf_name",
    "hgt_name",
    "copernicus_name",
    "write_sdf_tile",
]

VOID_INT16 = -32768
HGT_SIZES = {1201 * 1201 * 2: 1200, 3601 * 3601 * 2: 3600}


def _norm_lon(w: int) -> int:
    return ((w + 180) % 360) - 180


def hgt_name(south: int, west: int) -> str:
    """Standard SRTM tile name of the 1-degree cell with south-west corner (south, west)."""
    ns = "N" if south >= 0 else "S"
    ew = "E" if west >= 0 else "W"
    return f"{ns}{abs(south):02d}{ew}{abs(west):03d}.hgt"


def sdf_name(south: int, west: int, hd: bool = False) -> str:
    """SPLAT! SDF name ``min_north:max_north:min_west:max_west.sdf`` (west longitudes 0-360)."""
    # SPLAT! names the tile east of Greenwich ...:359:0 (checked with SPLAT! 1.4.2)
    max_west = (-west) % 360
    min_west = (max_west - 1) % 360
    return f"{south}:{south + 1}:{min_west}:{max_west}{'-hd' if hd else ''}.sdf"


def copernicus_name(south: int, west: int, arcsec: int = 3) -> str:
    """Copernicus DEM COG tile name (``arcsec`` 1 = GLO-30, 3 = GLO-90)."""
    code = {1: "10", 3: "30"}[arcsec]
    ns = "N" if south >= 0 else "S"
    ew = "E" if west >= 0 else "W"
    return f"Copernicus_DSM_COG_{code}_{ns}{abs(south):02d}_00_{ew}{abs(west):03d}_00_DEM.tif"


_HGT_RE = re.compile(r"^([NS])(\d{2})([EW])(\d{3})\.hgt(\.zip|\.gz)?$", re.IGNORECASE)
_SDF_RE = re.compile(r"^(-?\d+):(-?\d+):(\d+):(\d+)(-hd)?\.sdf$", re.IGNORECASE)
_COP_RE = re.compile(
    r"^Copernicus_DSM_COG_(10|30)_([NS])(\d{2})_00_([EW])(\d{3})_00_DEM\.tif$", re.IGNORECASE
)
ABSENT_SUFFIX = ".absent"


@dataclass(frozen=True)
class TileKind:
    """Geometry of one family of 1-degree tiles.

    Tile (south, west) holds node rows ``r = 0 .. nrows-1`` at
    ``lat = south + 1 - (r + row_offset) / ppd_lat`` and columns ``c = 0 .. ncols-1`` at
    ``lon = west + c / ppd_lon``.
    """

    name: str
    label: str
    row_offset: int
    overlap: int  # 1 when tiles repeat the neighbours' edge rows/columns (.hgt)


HGT = TileKind("hgt", "SRTM .hgt", row_offset=0, overlap=1)
SDF = TileKind("sdf", "SPLAT! SDF", row_offset=1, overlap=0)
COP = TileKind("copernicus", "Copernicus DEM", row_offset=0, overlap=0)
TILE_KINDS = {k.name: k for k in (HGT, SDF, COP)}


@dataclass(frozen=True)
class TileFile:
    kind: TileKind
    south: int
    west: int
    path: Path
    absent: bool = False  # an ocean tile recorded by ``terrain fetch`` (HTTP 404): sea level
    hint_arcsec: int | None = None  # resolution implied by the name, if any


def classify_tile(path: str | os.PathLike[str]) -> TileFile | None:
    """Recognise a tile by its standard name; None for anything else."""
    p = Path(path)
    name = p.name
    absent = False
    if name.lower().endswith(ABSENT_SUFFIX):
        absent = True
        name = name[: -len(ABSENT_SUFFIX)]
    m = _HGT_RE.match(name)
    if m:
        s = int(m.group(2)) * (1 if m.group(1).upper() == "N" else -1)
        w = int(m.group(4)) * (1 if m.group(3).upper() == "E" else -1)
        return TileFile(HGT, s, w, p, absent)
    m = _SDF_RE.match(name)
    if m:
        s = int(m.group(1))
        max_west = int(m.group(4))
        if int(m.group(2)) != s + 1:
            return None
        w = _norm_lon(-max_west)
        return TileFile(SDF, s, w, p, absent, 1 if m.group(5) else 3)
    m = _COP_RE.match(name)
    if m:
        s = int(m.group(3)) * (1 if m.group(2).upper() == "N" else -1)
        w = int(m.group(5)) * (1 if m.group(4).upper() == "E" else -1)
        return TileFile(COP, s, w, p, absent, 1 if m.group(1) == "10" else 3)
    return None


# ---------------------------------------------------------------------------------------- .hgt


HGT_MAX_BYTES = max(HGT_SIZES)
"""Largest SRTM tile (1"): compressed tiles are inflated in a stream that stops beyond it."""


def _hgt_bytes(path: Path) -> bytes:
    name = path.name.lower()
    what = "SRTM tile"
    try:
        if name.endswith(".gz"):
            return gunzip_capped(path, HGT_MAX_BYTES, what)
        if name.endswith(".zip"):
            return unzip_capped(path, ".hgt", HGT_MAX_BYTES, what)
        return read_bytes_capped(path, HGT_MAX_BYTES, what)
    except InputError as exc:
        raise TerrainFormatError(f"{path}: not an SRTM tile ({exc})") from None
    except (OSError, EOFError, zipfile.BadZipFile, gzip.BadGzipFile) as exc:
        raise TerrainFormatError(f"{path}: unreadable SRTM tile ({exc})") from exc


def hgt_ppd(path: Path) -> int:
    """Points per degree of an .hgt tile from its (uncompressed) size, read cheaply."""
    name = path.name.lower()
    try:
        check_regular_file(path, "SRTM tile")
    except InputError as exc:
        raise TerrainFormatError(str(exc)) from None
    try:
        if name.endswith(".gz"):
            with open(path, "rb") as f:
                f.seek(-4, os.SEEK_END)
                size = int.from_bytes(f.read(4), "little")  # gzip ISIZE trailer
        elif name.endswith(".zip"):
            with zipfile.ZipFile(path) as z:
                infos = [i for i in z.infolist() if i.filename.lower().endswith(".hgt")]
                size = infos[0].file_size if infos else -1
        else:
            size = path.stat().st_size
    except (OSError, zipfile.BadZipFile) as exc:
        raise TerrainFormatError(f"{path}: unreadable SRTM tile ({exc})") from exc
    if size not in HGT_SIZES:
        raise TerrainFormatError(
            f'{path}: {size} bytes is not an SRTM tile (valid: {1201 * 1201 * 2} bytes for 3", '
            f'{3601 * 3601 * 2} for 1")'
        )
    return HGT_SIZES[size]


def read_hgt(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an SRTM .hgt tile (plain, .zip or .gz): float32, row 0 north, voids NaN."""
    p = Path(path)
    raw = _hgt_bytes(p)
    if len(raw) not in HGT_SIZES:
        raise TerrainFormatError(
            f'{p}: {len(raw)} bytes is not an SRTM tile (valid: {1201 * 1201 * 2} bytes for 3", '
            f'{3601 * 3601 * 2} for 1")'
        )
    n = HGT_SIZES[len(raw)] + 1
    z = np.frombuffer(raw, dtype=">i2").reshape(n, n)
    out = z.astype(np.float32)
    out[z == VOID_INT16] = np.nan
    return out


# ----------------------------------------------------------------------------------------- SDF

SDF_MAX_BYTES = 8 * (4 + 3600 * 3600) + 1024
"""Largest SDF tile read: a 1" tile of 7-character lines (SPLAT! writes at most 6 and a newline)."""


def read_sdf(
    path: str | os.PathLike[str], south: int | None = None, west: int | None = None
) -> np.ndarray:
    """Read a SPLAT! SDF tile: float32 (ppd, ppd), row 0 north, column 0 west, voids NaN.

    The header is checked against ``south``/``west`` (the name) when given.
    """
    from yalu.terrain._kernels import parse_int_text

    p = Path(path)
    try:
        raw = np.frombuffer(read_bytes_capped(p, SDF_MAX_BYTES, "SPLAT! SDF tile"), dtype=np.uint8)
    except InputError as exc:
        raise TerrainFormatError(f"{p}: not a SPLAT! SDF tile ({exc})") from None
    except OSError as exc:
        raise TerrainFormatError(f"{p}: unreadable SPLAT! SDF tile ({exc})") from exc
    vals = np.empty(4 + 3600 * 3600 if raw.size > 12_000_000 else 4 + 1200 * 1200, dtype=np.int64)
    count, bad = parse_int_text(raw, vals)
    if bad >= 0:
        snippet = bytes(raw[bad : bad + 12]).decode("ascii", "replace")
        raise TerrainFormatError(
            f"{p}: unreadable SPLAT! SDF tile (not an integer of at most 15 digits at byte "
            f"{bad}: {snippet!r})"
        )
    n = count - 4
    ppd = int(round(np.sqrt(max(n, 0))))
    if n <= 0 or ppd * ppd != n or ppd not in (1200, 3600) or count > vals.size:
        raise TerrainFormatError(
            f"{p}: {count} values is not a SPLAT! SDF tile (valid: 4 header lines + 1200x1200 "
            f"or 3600x3600 values)"
        )
    vals = vals[:count]
    max_west, min_north, min_west, max_north = (int(v) for v in vals[:4])
    if max_north != min_north + 1 or (min_west + 1) % 360 != max_west % 360:
        raise TerrainFormatError(f"{p}: inconsistent SDF header {vals[:4].tolist()}")
    if south is not None and min_north != south:
        raise TerrainFormatError(f"{p}: header min north {min_north} does not match name ({south})")
    if west is not None and _norm_lon(-max_west) != west:
        raise TerrainFormatError(f"{p}: header max west {max_west} does not match name")
    grid = vals[4:].reshape(ppd, ppd)[::-1, ::-1]
    out = grid.astype(np.float32)
    out[grid == VOID_INT16] = np.nan
    return np.ascontiguousarray(out)


def write_sdf_tile(
    path: str | os.PathLike[str], south: int, west: int, elev_north_first: np.ndarray
) -> None:
    """Write one SDF tile from a (ppd, ppd) grid, row 0 north, column 0 west (see module doc).

    Node ``(r, c)`` must lie at ``lat = south + 1 - (r + 1)/ppd``, ``lon = west + c/ppd``.
    Values are rounded to whole metres, as SPLAT! stores them.
    """
    z = np.asarray(elev_north_first)
    ppd = z.shape[0]
    if z.shape != (ppd, ppd) or ppd not in (1200, 3600):
        raise ValueError(f"SDF grid must be 1200x1200 or 3600x3600, got {z.shape}")
    max_west = (-west) % 360
    min_west = (max_west - 1) % 360
    ints = np.rint(z[::-1, ::-1]).astype(np.int64).ravel()
    header = f"{max_west}\n{south}\n{min_west}\n{south + 1}\n"
    with open(path, "w", encoding="ascii") as f:
        f.write(header)
        f.write("\n".join(map(str, ints.tolist())))
        f.write("\n")


# ---------------------------------------------------------------------------------- Copernicus


def raster_grid(
    path: str | os.PathLike[str],
) -> tuple[float, float, float, float, int, int, float | None]:
    """Node grid of a geographic raster: (north, west, dlat, dlon, nrows, ncols, nodata).

    Nodes are pixel centres, whatever AREA_OR_POINT says: GDAL already reports point-registered
    files with their geotransform shifted by half a pixel, so pixel centres are the points.
    """
    import rasterio
    from rasterio.errors import RasterioIOError

    p = Path(path)
    try:
        size = check_regular_file(p, "raster").st_size
    except InputError as exc:
        raise TerrainFormatError(str(exc)) from None
    try:
        with rasterio.open(p) as ds:
            t = ds.transform
            crs = ds.crs
            shape = (ds.height, ds.width)
            nodata = ds.nodata
            count = ds.count
            driver = ds.driver
    except RasterioIOError as exc:
        raise TerrainFormatError(f"{p}: unreadable raster ({exc})") from exc
    if driver == "AAIGrid":
        check_ascii_grid(p, shape[0], shape[1], size)
    if count < 1:
        raise TerrainFormatError(f"{p}: raster has no band")
    if crs is not None and not crs.is_geographic:
        raise TerrainFormatError(
            f"{p}: CRS {crs} is projected; yalu needs a geographic lat/lon raster"
        )
    if t.b != 0 or t.d != 0:
        raise TerrainFormatError(f"{p}: rotated rasters are not supported")
    if t.e >= 0 or t.a <= 0:
        raise TerrainFormatError(f"{p}: raster must have north-up rows and west-first columns")
    dlon = float(t.a)
    dlat = float(-t.e)
    west = float(t.c) + dlon / 2
    north = float(t.f) - dlat / 2
    south = north - (shape[0] - 1) * dlat
    east = west + (shape[1] - 1) * dlon
    if not (-90 <= south <= north <= 90 and -180 <= west <= east <= 360):
        # no CRS (e.g. an ESRI ASCII grid without .prj) is taken as lat/lon: check it can be
        raise TerrainFormatError(
            f"{p}: extent {south:g} to {north:g} N, {west:g} to {east:g} E is not a lat/lon grid "
            "(valid: latitudes -90 to 90, longitudes -180 to 360)"
        )
    return north, west, dlat, dlon, shape[0], shape[1], nodata


ASCII_MAX_BYTES = 4 * 2**30
"""Largest ESRI ASCII grid read (a 1" grid of 10 x 10 degrees is about 3 GiB of text)."""
_ASCII_OK = np.zeros(256, dtype=bool)
_ASCII_OK[np.frombuffer(b"0123456789+-.eE \t\r\n", dtype=np.uint8)] = True
_WS = np.zeros(256, dtype=bool)
_WS[np.frombuffer(b" \t\r\n", dtype=np.uint8)] = True


def check_ascii_grid(path: Path, nrows: int, ncols: int, size: int | None = None) -> None:
    """Check an ESRI ASCII grid before its values are read.

    The header's ``nrows x ncols`` must fit the file (every value takes at least two bytes), the
    body must hold exactly that many values, and every value must be a number: GDAL reads a
    non-numeric cell as 0 and allocates for whatever the header declares.

    Raises
    ------
    TerrainFormatError
        Naming the file, and the line of a bad value.
    """
    size = path.stat().st_size if size is None else size
    n = nrows * ncols
    if size > ASCII_MAX_BYTES:
        raise TerrainFormatError(
            f"{path}: {size} bytes exceeds the limit of {ASCII_MAX_BYTES} bytes for ASCII grids"
        )
    if 2 * n - 1 > size:
        raise TerrainFormatError(
            f"{path}: header declares {nrows} x {ncols} = {n:,} values but the file has only "
            f"{size:,} bytes (truncated, or a wrong header)"
        )
    count = 0
    line = 1
    prev_ws = True
    in_header = True
    with open(path, "rb") as f:
        while True:
            chunk = f.read(1 << 24)
            if not chunk:
                break
            if in_header:
                # header lines start with a keyword; the body with a number
                lines = chunk.split(b"\n")
                k = 0
                while k < len(lines) - 1 and lines[k].lstrip()[:1].isalpha():
                    k += 1
                if k < len(lines) - 1 or len(chunk) < (1 << 24):
                    in_header = False
                    skip = sum(len(x) + 1 for x in lines[:k])
                    line += k
                    chunk = chunk[skip:]
            b = np.frombuffer(chunk, dtype=np.uint8)
            bad = ~_ASCII_OK[b]
            if bad.any():
                i = int(np.argmax(bad))
                at = line + chunk.count(b"\n", 0, i)
                snippet = chunk[max(0, i - 8) : i + 8].decode("ascii", "replace").split()
                raise TerrainFormatError(
                    f"{path}: line {at}: non-numeric value near {' '.join(snippet)!r} "
                    "(ESRI ASCII grid values must be numbers)"
                )
            ws = _WS[b]
            if b.size:
                starts = ~ws & np.concatenate(([prev_ws], ws[:-1]))
                count += int(starts.sum())
                prev_ws = bool(ws[-1])
            line += chunk.count(b"\n")
    if count != n:
        raise TerrainFormatError(
            f"{path}: header declares {nrows} x {ncols} = {n:,} values, the file holds {count:,}"
        )


def read_raster_window(
    path: str | os.PathLike[str], row_off: int, col_off: int, nrows: int, ncols: int
) -> np.ndarray:
    """Read a window of band 1: float32, voids (nodata or -32768) NaN."""
    import rasterio
    from rasterio.errors import RasterioIOError
    from rasterio.windows import Window

    p = Path(path)
    try:
        with rasterio.open(p) as ds:
            z = ds.read(1, window=Window(col_off, row_off, ncols, nrows), masked=False)
            nodata = ds.nodata
    except RasterioIOError as exc:
        raise TerrainFormatError(f"{p}: unreadable raster ({exc})") from exc
    out = z.astype(np.float32)
    void = z == VOID_INT16
    if nodata is not None:
        void |= np.isnan(z) if np.isnan(nodata) else (z == nodata)
    out[void] = np.nan
    return out


def read_copernicus(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a whole Copernicus DEM COG tile: float32, row 0 north (lat = south+1), voids NaN."""
    _n, _w, _dlat, _dlon, nrows, ncols, _nd = raster_grid(path)
    return read_raster_window(path, 0, 0, nrows, ncols)


TileReader = Callable[[Path], np.ndarray]
