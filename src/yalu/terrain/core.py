"""Terrain objects: lazy tile mosaics and single rasters behind one interface.

Every source is seen as a lattice of point-registered nodes, node ``(gi, gj)`` at
``lat = lat_ref - gi * dlat``, ``lon = lon_ref + gj * dlon``, cut into blocks (1-degree tiles, or
2048 x 2048 windows of a single raster). Blocks load on demand through a bytes-bounded LRU cache;
voids are filled when a block loads. Bilinear interpolation gathers the four surrounding nodes from
whichever blocks hold them, so tile edges need no special case.
"""

from __future__ import annotations

import contextlib
import enum
import os
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from yalu.errors import (
    MissingTileError,
    ParameterError,
    TerrainFormatError,
    YaluWarning,
    check_range,
    env_number,
    parse_choice,
)
from yalu.terrain import formats as fmt
from yalu.terrain._kernels import bilinear_grid, fill_voids

__all__ = [
    "MissingPolicy",
    "VoidFillWarning",
    "Terrain",
    "TerrainLike",
    "TerrainWindow",
    "open_terrain",
    "default_terrain",
    "DEFAULT_CACHE_MB",
]

MAX_ABS_ELEVATION_M = 12_000.0
"""Elevations beyond this magnitude (Everest 8,849 m, the Challenger Deep -10,935 m) are voids."""
DEFAULT_CACHE_MB = 1024.0
"""Bound of a terrain's block cache [MiB] when neither ``cache_mb`` nor
``YALU_TERRAIN_CACHE_MB`` says otherwise."""
RASTER_BLOCK = 2048
_POINT_CHUNK = 1 << 17
_SNAP = 1e-7  # fraction of a grid step within which a coordinate snaps onto a node
RASTER_SUFFIXES = (".tif", ".tiff", ".asc", ".vrt", ".img", ".bil", ".dem", ".nc")


class MissingPolicy(enum.StrEnum):
    """What a request for terrain that no tile covers returns."""

    ERROR = "error"
    SEA_LEVEL = "sea-level"


class VoidFillWarning(YaluWarning):
    """Void nodes (-32768 or the file's nodata) were filled by interpolation."""


_ABSENT = object()

_ATTRIBUTION = {
    "hgt": "SRTM, NASA/USGS (public domain)",
    "copernicus": (
        "Copernicus DEM: produced using Copernicus WorldDEM-30 (c) DLR e.V. 2010-2014 and "
        "(c) Airbus Defence and Space GmbH 2014-2018 provided under COPERNICUS by the European "
        "Union and ESA; all rights reserved"
    ),
}  # a block known to be open sea (ocean tile absent upstream): 0 m


class _LRU:
    """Bytes-bounded least-recently-used cache of blocks. Always keeps the newest block."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = int(max_bytes)
        self._d: OrderedDict[tuple[int, int], Any] = OrderedDict()
        self._lock = threading.Lock()
        self.nbytes = 0
        self.peak_bytes = 0
        self.loads = 0
        self.hits = 0

    def get(self, key: tuple[int, int]) -> Any:
        with self._lock:
            if key in self._d:
                self._d.move_to_end(key)
                self.hits += 1
                return self._d[key]
        return None

    def put(self, key: tuple[int, int], value: Any) -> None:
        size = value.nbytes if isinstance(value, np.ndarray) else 0
        with self._lock:
            if key in self._d:
                return
            self.loads += 1
            self._d[key] = value
            self.nbytes += size
            while self.nbytes > self.max_bytes and len(self._d) > 1:
                _, old = self._d.popitem(last=False)
                self.nbytes -= old.nbytes if isinstance(old, np.ndarray) else 0
            self.peak_bytes = max(self.peak_bytes, self.nbytes)

    def clear(self) -> None:
        with self._lock:
            self._d.clear()
            self.nbytes = 0

    def __getstate__(self) -> dict[str, Any]:
        # pickled (e.g. to dask workers) empty: blocks reload lazily on the other side
        return {"max_bytes": self.max_bytes}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["max_bytes"])  # type: ignore[misc]


# ------------------------------------------------------------------------------------- sources


class _Source:
    """A node lattice cut into blocks. Subclasses define geometry and ``load``."""

    lat_ref: float
    lon_ref: float
    dlat: float
    dlon: float
    brows: int  # block stride in rows
    bcols: int
    row_offset: int = 0
    overlap: int = 0
    wrap_nodes: int | None = None  # node columns around the globe, for global tile lattices
    wrap_blocks: int | None = None
    bounds: tuple[float, float, float, float]
    nodata: float | None = None
    description: str = ""
    attribution: str | None = None
    tiles: list[str]

    def has(self, bi: int, bj: int) -> bool:
        raise NotImplementedError

    def block_keys(self) -> list[tuple[int, int]]:
        """Every block with data (ocean tiles excluded)."""
        raise NotImplementedError

    def load(self, bi: int, bj: int) -> Any:
        """Return a float32 array (voids NaN), ``_ABSENT`` or raise."""
        raise NotImplementedError

    def name(self, bi: int, bj: int) -> str:
        raise NotImplementedError

    def node_lat(self, gi: int) -> float:
        return self.lat_ref - gi * self.dlat

    def node_lon(self, gj: int) -> float:
        return self.lon_ref + gj * self.dlon


class _TileSource(_Source):
    """1-degree tiles of one kind on the global lattice (lat_ref 90, lon_ref -180)."""

    def __init__(self, kind: fmt.TileKind, tiles: list[fmt.TileFile]) -> None:
        self.kind = kind
        self.files: dict[tuple[int, int], fmt.TileFile] = {}
        for t in sorted(tiles, key=lambda t: (t.absent, str(t.path))):
            self.files.setdefault((t.south, t.west), t)
        present = [t for t in self.files.values() if not t.absent]
        ppd_lat, ppd_lon, arcsec_label = self._resolution(present)
        self.ppd_lat, self.ppd_lon = ppd_lat, ppd_lon
        self.lat_ref, self.lon_ref = 90.0, -180.0
        self.dlat, self.dlon = 1.0 / ppd_lat, 1.0 / ppd_lon
        self.brows, self.bcols = ppd_lat, ppd_lon
        self.row_offset = kind.row_offset
        self.overlap = kind.overlap
        self.wrap_nodes = 360 * ppd_lon
        self.wrap_blocks = 360
        self.nrows = ppd_lat + kind.overlap
        self.ncols = ppd_lon + kind.overlap
        self.nodata = -32768.0 if kind in (fmt.HGT, fmt.SDF) else None
        souths = [t.south for t in self.files.values()]
        wests = [t.west for t in self.files.values()]
        north = max(souths) + 1 - kind.row_offset * self.dlat
        south = north - (self.nrows - 1) * self.dlat - (max(souths) - min(souths))
        west = float(min(wests))
        east = max(wests) + (self.ncols - 1) * self.dlon
        self.bounds = (south, west, north, east)
        n_abs = len(self.files) - len(present)
        self.description = f"{kind.label} {arcsec_label}, {len(present)} tile" + (
            "s" if len(present) != 1 else ""
        )
        if n_abs:
            self.description += f" (+{n_abs} ocean tile{'s' if n_abs != 1 else ''} at sea level)"
        self.tiles = [str(t.path) for t in sorted(self.files.values(), key=lambda t: str(t.path))]
        self.attribution = _ATTRIBUTION.get(kind.name)

    def _resolution(self, present: list[fmt.TileFile]) -> tuple[int, int, str]:
        kind = self.kind
        if not present:
            arc = next(iter(self.files.values())).hint_arcsec or 3
            ppd = 3600 // arc
            return ppd, ppd, f"{arc} arc-second"
        first = present[0]
        if kind is fmt.HGT:
            ppd = fmt.hgt_ppd(first.path)
            return ppd, ppd, f"{3600 // ppd} arc-second"
        if kind is fmt.SDF:
            ppd = 3600 if first.hint_arcsec == 1 else 1200
            return ppd, ppd, f"{3600 // ppd} arc-second"
        north, west, dlat, dlon, nrows, ncols, _nd = fmt.raster_grid(first.path)
        ppd_lat, ppd_lon = int(round(1 / dlat)), int(round(1 / dlon))
        label = f"GLO-{30 if ppd_lat == 3600 else 90} ({3600 // ppd_lat} arc-second)"
        return ppd_lat, ppd_lon, label

    def node_lat(self, gi: int) -> float:
        return (90 * self.ppd_lat - gi) / self.ppd_lat  # exact for whole-degree nodes

    def node_lon(self, gj: int) -> float:
        return (gj - 180 * self.ppd_lon) / self.ppd_lon

    def has(self, bi: int, bj: int) -> bool:
        return (89 - bi, (bj % 360) - 180) in self.files

    def block_keys(self) -> list[tuple[int, int]]:
        return [(89 - s, w + 180) for (s, w), t in sorted(self.files.items()) if not t.absent]

    def name(self, bi: int, bj: int) -> str:
        s, w = 89 - bi, (bj % 360) - 180
        t = self.files.get((s, w))
        if t is not None:
            return t.path.name
        if self.kind is fmt.HGT:
            return fmt.hgt_name(s, w)
        if self.kind is fmt.SDF:
            return fmt.sdf_name(s, w, hd=self.ppd_lat == 3600)
        return fmt.copernicus_name(s, w, 1 if self.ppd_lat == 3600 else 3)

    def load(self, bi: int, bj: int) -> Any:
        s, w = 89 - bi, (bj % 360) - 180
        t = self.files[(s, w)]
        if t.absent:
            return _ABSENT
        if self.kind is fmt.HGT:
            z = fmt.read_hgt(t.path)
        elif self.kind is fmt.SDF:
            z = fmt.read_sdf(t.path, s, w)
        else:
            north, west, dlat, dlon, _nr, _nc, _nd = fmt.raster_grid(t.path)
            if abs(north - (s + 1)) > 0.01 * dlat or abs(west - w) > 0.01 * dlon:
                raise TerrainFormatError(
                    f"{t.path}: first node at ({north}, {west}) does not match the tile name"
                )
            z = fmt.read_copernicus(t.path)
        if z.shape != (self.nrows, self.ncols):
            raise TerrainFormatError(
                f"{t.path}: grid {z.shape[0]}x{z.shape[1]} differs from the mosaic's "
                f"{self.nrows}x{self.ncols} (mixed resolutions are not supported)"
            )
        return z


class _RasterSource(_Source):
    """One geographic raster file (GeoTIFF, COG, ESRI ASCII, ...), read in windows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        north, west, dlat, dlon, nrows, ncols, nodata = fmt.raster_grid(path)
        self.lat_ref, self.lon_ref, self.dlat, self.dlon = north, west, dlat, dlon
        self.height, self.width = nrows, ncols
        self.brows = self.bcols = RASTER_BLOCK
        self.nodata = nodata
        self.bounds = (north - (nrows - 1) * dlat, west, north, west + (ncols - 1) * dlon)
        self.nbi = -(-nrows // RASTER_BLOCK)
        self.nbj = -(-ncols // RASTER_BLOCK)
        arcsec = dlat * 3600
        res = f"{arcsec:.3g} arc-second" if arcsec < 60 else f"{arcsec / 60:.3g} arc-minute"
        self.description = f"raster {path.name}, {res}, {nrows}x{ncols} nodes"
        self.tiles = []

    def has(self, bi: int, bj: int) -> bool:
        return 0 <= bi < self.nbi and 0 <= bj < self.nbj

    def block_keys(self) -> list[tuple[int, int]]:
        return [(bi, bj) for bi in range(self.nbi) for bj in range(self.nbj)]

    def name(self, bi: int, bj: int) -> str:
        s, w, n, e = self.bounds
        return (
            f"(outside {self.path.name}, which covers {s:.4f} to {n:.4f} N, {w:.4f} to {e:.4f} E)"
        )

    def load(self, bi: int, bj: int) -> Any:
        r0, c0 = bi * RASTER_BLOCK, bj * RASTER_BLOCK
        nr = min(RASTER_BLOCK, self.height - r0)
        nc = min(RASTER_BLOCK, self.width - c0)
        return fmt.read_raster_window(self.path, r0, c0, nr, nc)


# ------------------------------------------------------------------------------------- windows


@runtime_checkable
class TerrainLike(Protocol):
    """What yalu needs of any elevation source: its extent and bilinear sampling.

    :class:`Terrain` (a lazy mosaic of tiles) and :class:`TerrainWindow` (one grid in memory)
    both satisfy it, with the same method name.
    """

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(south, west, north, east) [deg]."""
        ...

    def elevation_m(self, lat_deg: Any, lon_deg: Any) -> np.ndarray:
        """Elevation [m] at points, broadcasting ``lat_deg`` and ``lon_deg``."""
        ...


@dataclass
class TerrainWindow:
    """A point-registered elevation grid covering a requested box.

    Node ``(i, j)`` lies at ``lat = north_deg - i * dlat_deg``, ``lon = west_deg + j * dlon_deg``;
    row 0 is the north row. Voids are filled; missing terrain follows the terrain's policy.

    Attributes
    ----------
    grid_m : numpy.ndarray
        2-D float64 elevations, C-contiguous [m].
    north_deg, west_deg : float
        Latitude of row 0, longitude of column 0 [deg].
    dlat_deg, dlon_deg : float
        Node spacing [deg].
    """

    grid_m: np.ndarray
    north_deg: float
    west_deg: float
    dlat_deg: float
    dlon_deg: float

    @property
    def lat_deg(self) -> np.ndarray:
        """Latitude of each row [deg], north first."""
        return self.north_deg - np.arange(self.grid_m.shape[0]) * self.dlat_deg

    @property
    def lon_deg(self) -> np.ndarray:
        """Longitude of each column [deg], west first."""
        return self.west_deg + np.arange(self.grid_m.shape[1]) * self.dlon_deg

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(south, west, north, east) of the node extent [deg]."""
        nr, nc = self.grid_m.shape
        return (
            self.north_deg - (nr - 1) * self.dlat_deg,
            self.west_deg,
            self.north_deg,
            self.west_deg + (nc - 1) * self.dlon_deg,
        )

    def elevation_m(self, lat_deg: Any, lon_deg: Any) -> np.ndarray:
        """Bilinear elevation at points [m]; NaN outside the window. Broadcasts its inputs."""
        lat, lon = np.broadcast_arrays(np.asarray(lat_deg, float), np.asarray(lon_deg, float))
        out = np.empty(lat.size, dtype=np.float64)
        bilinear_grid(
            self.grid_m,
            float(self.north_deg),
            float(self.west_deg),
            float(self.dlat_deg),
            float(self.dlon_deg),
            np.ascontiguousarray(lat.ravel()),
            np.ascontiguousarray(lon.ravel()),
            out,
        )
        return out.reshape(lat.shape)


# ------------------------------------------------------------------------------------- terrain


def _runs(keys: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) index ranges of equal consecutive values."""
    if keys.size == 0:
        return []
    cut = np.flatnonzero(np.diff(keys)) + 1
    starts = np.concatenate(([0], cut))
    stops = np.concatenate((cut, [keys.size]))
    return list(zip(starts.tolist(), stops.tolist(), strict=True))


class Terrain:
    """Elevation from a file, a list of tiles or a directory of tiles. Use :func:`open_terrain`.

    Attributes
    ----------
    bounds : tuple of float
        (south, west, north, east) of the node extent [deg] (bounding box of all tiles).
    resolution_deg : tuple of float
        (dlat, dlon) native node spacing [deg].
    resolution_m : tuple of float
        (dy, dx) approximate node spacing at the centre of ``bounds`` [m] (WGS84).
    nodata : float or None
        The native void value, if any.
    description : str
        What this terrain is, e.g. ``"SPLAT! SDF 3 arc-second, 12 tiles"``.
    is_demo : bool
        True only for the embedded coarse demo terrain.
    attribution : str or None
        Credit line for the data, when known.
    tiles : list of str
        Tile paths found (empty for a single raster).
    missing : MissingPolicy
        What requests outside the available tiles return.
    """

    def __init__(
        self,
        source: _Source,
        missing: MissingPolicy | str = MissingPolicy.ERROR,
        cache_mb: float | None = None,
        *,
        is_demo: bool = False,
        attribution: str | None = None,
        description: str | None = None,
    ) -> None:
        self._src = source
        self.missing = parse_choice(MissingPolicy, missing, "missing")
        # read when a terrain is opened, not at import: a bad value is a clear error of the
        # command that uses terrain, not a failed import
        mb = (env_number("YALU_TERRAIN_CACHE_MB", DEFAULT_CACHE_MB, "a number of MiB > 0",
                         positive=True) if cache_mb is None else cache_mb)  # fmt: skip
        check_range("cache_mb", mb, 0, None, lo_inclusive=False)
        self._cache = _LRU(int(mb * 2**20))
        # whether each block read so far holds no NaN (decoded blocks are whole; a flag a
        # block, kept past the cache: the same block decodes to the same values)
        self._block_clean: dict[tuple[int, int], bool] = {}
        self.is_demo = is_demo
        self.attribution = attribution if attribution is not None else source.attribution
        self.description = description or source.description
        self.voids_filled = 0
        self._shared_dir: str | None = None

    def with_shared_blocks(self, directory: str | os.PathLike[str]) -> Terrain:
        """A copy of this terrain (an empty block cache) whose decoded blocks are shared through
        ``directory`` with every other copy given it: the first process to need a block decodes
        it (void filling included) and saves it there, the others load the saved array.

        For the worker processes of one machine (a local Dask cluster), which otherwise each
        decode the same blocks. Needs POSIX file locks (``fcntl``): elsewhere the copy decodes
        on its own. A block that cannot be saved or read there (disk full, directory gone) is
        decoded as usual; the values are the same either way.
        """
        import copy

        twin = copy.copy(self)
        twin._cache = _LRU(self._cache.max_bytes)
        twin._shared_dir = os.fspath(directory)
        return twin

    # -- metadata
    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return self._src.bounds

    @property
    def resolution_deg(self) -> tuple[float, float]:
        return (self._src.dlat, self._src.dlon)

    @property
    def resolution_m(self) -> tuple[float, float]:
        from yalu.geodesy.paths import WGS84 as g

        s, w, n, e = self.bounds
        lat_c, lon_c = (s + n) / 2, (w + e) / 2
        dy = g.inv(lon_c, lat_c - self._src.dlat / 2, lon_c, lat_c + self._src.dlat / 2)[2]
        dx = g.inv(lon_c - self._src.dlon / 2, lat_c, lon_c + self._src.dlon / 2, lat_c)[2]
        return (float(dy), float(dx))

    @property
    def nodata(self) -> float | None:
        return self._src.nodata

    @property
    def tiles(self) -> list[str]:
        return list(self._src.tiles)

    def fingerprint(self) -> tuple[tuple[str, int, int], ...]:
        """(path, size [bytes], modification time [ns]) of every file this terrain reads.

        Another process that opens the same files (a Dask worker reading its own windows)
        compares fingerprints to make sure it reads the same bits.

        Raises
        ------
        TerrainFormatError
            A file can no longer be read (its ``stat`` fails).
        """
        src = self._src
        if isinstance(src, _RasterSource):
            paths = [src.path]
        elif isinstance(src, _TileSource):
            paths = [t.path for t in src.files.values() if not t.absent]
        else:  # pragma: no cover - every source kind is above
            raise TypeError(f"no fingerprint for {type(src).__name__}")
        out = []
        for p in sorted(paths, key=str):
            try:
                st = os.stat(p)
            except OSError as exc:
                raise TerrainFormatError(f"{p}: terrain file unreadable ({exc.strerror})") from None
            out.append((str(Path(p).resolve()), int(st.st_size), int(st.st_mtime_ns)))
        return tuple(out)

    def clear_cache(self) -> None:
        """Drop every block read so far (a later read loads it again, the same values): what
        a caller frees when it needs no more terrain for a while."""
        self._cache.clear()

    def cache_info(self) -> dict[str, int]:
        """Block cache counters: loads, hits, bytes held, peak bytes, limit."""
        c = self._cache
        return {
            "loads": c.loads,
            "hits": c.hits,
            "bytes": c.nbytes,
            "peak_bytes": c.peak_bytes,
            "max_bytes": c.max_bytes,
        }

    def void_counts(self, progress: Callable[[str], None] | None = None) -> dict[str, int]:
        """Count void nodes of every tile (or raster block) without filling or caching them.

        Returns a dict from tile name to its number of voids (tiles without voids included).
        Reads every tile once: meant for ``yalu terrain info``, not for hot paths.
        """
        src = self._src
        counts: dict[str, int] = {}
        for bi, bj in src.block_keys():
            blk = src.load(bi, bj)
            name = src.name(bi, bj) if isinstance(src, _TileSource) else src.path.name  # type: ignore[attr-defined]
            n = 0
            if isinstance(blk, np.ndarray):
                with np.errstate(invalid="ignore"):
                    n = int((np.isnan(blk) | (np.abs(blk) > MAX_ABS_ELEVATION_M)).sum())
            counts[name] = counts.get(name, 0) + n
            if progress is not None:
                progress(name)
        return counts

    def __repr__(self) -> str:
        s, w, n, e = self.bounds
        return f"<Terrain {self.description}: {s:.4f} to {n:.4f} N, {w:.4f} to {e:.4f} E>"

    # -- blocks
    def _block(self, bi: int, bj: int) -> Any:
        """The block's array, ``_ABSENT`` or None when missing."""
        src = self._src
        if src.wrap_blocks:
            bj %= src.wrap_blocks
        key = (bi, bj)
        blk = self._cache.get(key)
        if blk is not None:
            return blk
        if not src.has(bi, bj):
            return None
        blk = None if self._shared_dir is None else self._shared_block(bi, bj)
        if blk is None:
            blk = self._decode(bi, bj)
        self._cache.put(key, blk)
        return blk

    def _shared_block(self, bi: int, bj: int) -> Any:
        """The block from the shared directory, decoded and saved there by whichever copy
        needs it first (a lock per block: the others wait, then load); None when it cannot be
        shared (see :meth:`with_shared_blocks`)."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            return None
        assert self._shared_dir is not None
        path = os.path.join(self._shared_dir, f"{bi}_{bj}.npy")
        try:
            lock = open(os.path.join(self._shared_dir, f"{bi}_{bj}.lock"), "ab")  # noqa: SIM115
        except OSError:
            return None
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                return np.load(path, allow_pickle=False)
            except (OSError, ValueError, EOFError):
                pass  # not there yet (or unreadable): this copy decodes it
            blk = self._decode(bi, bj)
            if isinstance(blk, np.ndarray):
                tmp = f"{path}.{os.getpid()}.tmp"
                try:
                    with open(tmp, "wb") as fh:
                        np.save(fh, blk, allow_pickle=False)
                    # read back before it takes its name: the others load it unchecked
                    if not np.array_equal(np.load(tmp, mmap_mode="r"), blk, equal_nan=True):
                        raise OSError(f"{tmp}: read back differs")
                    os.replace(tmp, path)  # whole or absent under its name
                except (OSError, ValueError):
                    with contextlib.suppress(OSError):
                        os.remove(tmp)
            return blk

    def _decode(self, bi: int, bj: int) -> Any:
        """Read block ``(bi, bj)`` from its source and make it whole: out-of-range heights and
        voids filled (warning once per block)."""
        src = self._src
        blk = src.load(bi, bj)
        if isinstance(blk, np.ndarray):
            label = src.name(bi, bj) if isinstance(src, _TileSource) else src.description
            with np.errstate(invalid="ignore"):
                bad = np.abs(blk) > MAX_ABS_ELEVATION_M  # infinities included, NaN not
            n_bad = int(bad.sum())
            if n_bad:
                blk[bad] = np.nan
                warnings.warn(
                    f"{label}: {n_bad} nodes with elevations beyond "
                    f"+-{MAX_ABS_ELEVATION_M:g} m (or infinite) treated as voids",
                    VoidFillWarning,
                    stacklevel=5,
                )
            voids = np.isnan(blk)
            n_void = int(voids.sum())
            if n_void:
                if n_void == blk.size:
                    blk[:] = 0.0
                    msg = f"{label}: all {n_void} nodes are voids; set to 0 m"
                else:
                    fill_voids(blk)
                    msg = f"{label}: {n_void} void nodes filled by interpolation"
                self.voids_filled += n_void
                warnings.warn(msg, VoidFillWarning, stacklevel=5)
        return blk

    def _gather(self, gi: np.ndarray, gj: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Node values at integer lattice indices; returns (values, missing mask)."""
        src = self._src
        if src.wrap_nodes:
            gj = gj % src.wrap_nodes
        ri = gi - src.row_offset
        bi = ri // src.brows
        r = ri - bi * src.brows
        bj = gj // src.bcols
        c = gj - bj * src.bcols
        vals = np.full(gi.shape, np.nan)
        todo = np.ones(gi.shape, dtype=bool)
        self._fill(bi, bj, r, c, vals, todo)
        if src.overlap and todo.any():
            # shared edge nodes (.hgt): try the neighbour that also holds them
            for dbi, dbj in ((-1, 0), (0, -1), (-1, -1)):
                m = todo.copy()
                if dbi:
                    m &= r == 0
                if dbj:
                    m &= c == 0
                if m.any():
                    idx = np.flatnonzero(m)
                    sub_v = vals[idx]
                    sub_t = todo[idx]
                    self._fill(
                        bi[idx] + dbi,
                        bj[idx] + dbj,
                        r[idx] - dbi * src.brows,
                        c[idx] - dbj * src.bcols,
                        sub_v,
                        sub_t,
                    )
                    vals[idx] = sub_v
                    todo[idx] = sub_t
        return vals, todo

    def _fill(
        self,
        bi: np.ndarray,
        bj: np.ndarray,
        r: np.ndarray,
        c: np.ndarray,
        vals: np.ndarray,
        todo: np.ndarray,
    ) -> None:
        if bi.size == 0:
            return
        code = bi.astype(np.int64) * (1 << 32) + bj.astype(np.int64)
        order = np.argsort(code, kind="stable")
        sc = code[order]
        for start, stop in _runs(sc):
            idx = order[start:stop]
            k = idx[0]
            blk = self._block(int(bi[k]), int(bj[k]))
            if blk is None:
                continue
            if blk is _ABSENT:
                vals[idx] = 0.0
                todo[idx] = False
                continue
            rr, cc = r[idx], c[idx]
            ok = (rr >= 0) & (rr < blk.shape[0]) & (cc >= 0) & (cc < blk.shape[1])
            good = idx[ok]
            vals[good] = blk[rr[ok], cc[ok]]
            todo[good] = False

    def _missing(self, bi: np.ndarray, bj: np.ndarray, what: str) -> MissingTileError:
        src = self._src
        names = []
        for code in np.unique(bi.astype(np.int64) * (1 << 32) + bj.astype(np.int64))[:6]:
            b_i, b_j = int(code >> 32), int(code & 0xFFFFFFFF)
            names.append(src.name(b_i, b_j))
        detail = f"needed for {what}; missing='sea-level' (--missing sea-level) reads it as 0 m"
        if len(names) > 1:
            detail = "also " + ", ".join(names[1:]) + "; " + detail
        return MissingTileError(names[0], detail)

    def _apply_missing(
        self, gi: np.ndarray, gj: np.ndarray, vals: np.ndarray, todo: np.ndarray, what: str
    ) -> None:
        if not todo.any():
            return
        if self.missing is MissingPolicy.SEA_LEVEL:
            vals[todo] = 0.0
            return
        src = self._src
        gj2 = gj[todo] % src.wrap_nodes if src.wrap_nodes else gj[todo]
        bi = (gi[todo] - src.row_offset) // src.brows
        bj = gj2 // src.bcols
        if src.wrap_blocks:
            bj = bj % src.wrap_blocks
        raise self._missing(bi, bj, what)

    # -- public API
    def elevation_m(self, lat_deg: Any, lon_deg: Any) -> np.ndarray:
        """Bilinear elevation at points [m].

        Parameters
        ----------
        lat_deg, lon_deg : array_like
            Latitude (-90 to 90) and longitude (-180 to 360) [deg]; broadcast together.

        Returns
        -------
        numpy.ndarray
            float64 of the broadcast shape [m].

        Raises
        ------
        ParameterError
            A coordinate is out of range or not finite.
        MissingTileError
            A point needs a tile that is not available (``missing="error"``).
        """
        lat, lon = np.broadcast_arrays(np.asarray(lat_deg, float), np.asarray(lon_deg, float))
        check_range("lat_deg", lat, -90, 90)
        check_range("lon_deg", lon, -180, 360)
        shape = lat.shape
        lat = lat.ravel()
        lon = lon.ravel()
        out = np.empty(lat.size, dtype=np.float64)
        # bounded temporaries (~400 B per point in flight) whatever the request size
        for k in range(0, lat.size, _POINT_CHUNK):
            out[k : k + _POINT_CHUNK] = self._elevation_flat(
                lat[k : k + _POINT_CHUNK], lon[k : k + _POINT_CHUNK]
            )
        return out.reshape(shape)

    def _elevation_flat(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        src = self._src
        if src.wrap_nodes:
            lon = np.where(lon >= 180, lon - 360, lon)
        else:
            lon = np.where(lon - src.lon_ref >= 360 - src.dlon, lon - 360, lon)
            lon = np.where(lon < src.lon_ref - src.dlon, lon + 360, lon)
        fi = (src.lat_ref - lat) / src.dlat
        fj = (lon - src.lon_ref) / src.dlon
        fi_r, fj_r = np.rint(fi), np.rint(fj)
        fi = np.where(np.abs(fi - fi_r) < _SNAP, fi_r, fi)
        fj = np.where(np.abs(fj - fj_r) < _SNAP, fj_r, fj)
        i0 = np.floor(fi).astype(np.int64)
        j0 = np.floor(fj).astype(np.int64)
        ti = fi - i0
        tj = fj - j0
        i1 = i0 + (ti > 0)
        j1 = j0 + (tj > 0)
        gi = np.concatenate((i0, i0, i1, i1))
        gj = np.concatenate((j0, j1, j0, j1))
        vals, todo = self._gather(gi, gj)
        if todo.any():
            k = int(np.flatnonzero(todo)[0]) % lat.size
            self._apply_missing(gi, gj, vals, todo, f"lat {lat[k]:.6f}, lon {lon[k]:.6f}")
        n = lat.size
        z00, z01, z10, z11 = vals[:n], vals[n : 2 * n], vals[2 * n : 3 * n], vals[3 * n :]
        top = z00 + (z01 - z00) * tj
        bot = z10 + (z11 - z10) * tj
        return top + (bot - top) * ti

    def read_window(self, south: float, west: float, north: float, east: float) -> TerrainWindow:
        """Native-resolution nodes covering the box (south, west, north, east) [deg].

        The window's node extent contains the box (it is widened to the enclosing nodes).

        Raises
        ------
        ParameterError
            Coordinates out of range, ``south > north`` or ``west > east``.
        MissingTileError
            Part of the box has no tile (``missing="error"``).
        """
        for name, v, lo, hi in (
            ("south", south, -90, 90),
            ("north", north, -90, 90),
            ("west", west, -180, 360),
            ("east", east, -180, 360),
        ):
            check_range(name, v, lo, hi)
        if south > north:
            raise ParameterError("bbox", (south, west, north, east), "south <= north")
        if west > east:
            raise ParameterError("bbox", (south, west, north, east), "west <= east")
        src = self._src
        if src.wrap_nodes and west >= 180:
            west, east = west - 360, east - 360
        i_top = int(np.floor((src.lat_ref - north) / src.dlat + _SNAP))
        i_bot = int(np.ceil((src.lat_ref - south) / src.dlat - _SNAP))
        j_l = int(np.floor((west - src.lon_ref) / src.dlon + _SNAP))
        j_r = int(np.ceil((east - src.lon_ref) / src.dlon - _SNAP))
        gi = np.arange(i_top, i_bot + 1, dtype=np.int64)
        gj = np.arange(j_l, j_r + 1, dtype=np.int64)
        out = np.empty((gi.size, gj.size))
        # every node copied from a block without NaN: no hole to look for
        whole = True
        # fast path: copy block slices
        gjw = gj % src.wrap_nodes if src.wrap_nodes else gj
        ri = gi - src.row_offset
        bi = ri // src.brows
        r = ri - bi * src.brows
        bj = gjw // src.bcols
        c = gjw - bj * src.bcols
        for r0, r1 in _runs(bi):
            for c0, c1 in _runs(bj):
                key = (int(bi[r0]), int(bj[c0]))
                blk = self._block(*key)
                if blk is None:
                    out[r0:r1, c0:c1] = np.nan
                    whole = False
                    continue
                if blk is _ABSENT:
                    out[r0:r1, c0:c1] = 0.0
                    continue
                a0, a1 = int(r[r0]), int(r[r1 - 1]) + 1
                b0, b1 = int(c[c0]), int(c[c1 - 1]) + 1
                if a0 >= 0 and b0 >= 0 and a1 <= blk.shape[0] and b1 <= blk.shape[1]:
                    out[r0:r1, c0:c1] = blk[a0:a1, b0:b1]
                    clean = self._block_clean.get(key)
                    if clean is None:
                        clean = self._block_clean[key] = not bool(np.isnan(blk).any())
                    whole = whole and clean
                else:
                    out[r0:r1, c0:c1] = np.nan
                    whole = False
        if not whole and (hole := np.isnan(out)).any():
            ii, jj = np.nonzero(hole)
            vals, todo = self._gather(gi[ii], gj[jj])
            if todo.any():
                self._apply_missing(
                    gi[ii], gj[jj], vals, todo, f"the box {south}, {west}, {north}, {east}"
                )
            out[ii, jj] = vals
        return TerrainWindow(
            grid_m=np.ascontiguousarray(out),
            north_deg=float(src.node_lat(i_top)),
            west_deg=float(src.node_lon(j_l)),
            dlat_deg=float(src.dlat),
            dlon_deg=float(src.dlon),
        )


# ---------------------------------------------------------------------------------- opening


MAX_SCAN_ENTRIES = 200_000
"""Most directory entries searched for tiles (the whole world at 1" is 26,000 tiles)."""


def _walk_files(root: Path) -> list[Path]:
    """Regular files under ``root``, sorted; an unreadable directory is an error, not skipped."""

    def fail(exc: OSError) -> None:
        raise TerrainFormatError(
            f"{exc.filename or root}: unreadable directory in the terrain source "
            f"({exc.strerror or exc})"
        )

    out: list[Path] = []
    n = 0
    for dirpath, dirnames, filenames in os.walk(root, onerror=fail):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        n += len(dirnames) + len(filenames)
        if n > MAX_SCAN_ENTRIES:
            raise TerrainFormatError(
                f"{root}: more than {MAX_SCAN_ENTRIES:,} entries searched for tiles; give the "
                "directory that holds the terrain tiles"
            )
        for f in filenames:
            q = Path(dirpath) / f
            if os.path.isfile(q):  # False for links into /proc and other unreadable entries
                out.append(q)
    return sorted(out)


def _scan(paths: Sequence[Path]) -> tuple[list[fmt.TileFile], list[Path]]:
    tiles: list[fmt.TileFile] = []
    rasters: list[Path] = []
    for p in paths:
        if p.is_dir():
            for q in _walk_files(p):
                if not q.name.startswith("."):
                    t = fmt.classify_tile(q)
                    if t is not None:
                        tiles.append(t)
                    elif q.suffix.lower() in RASTER_SUFFIXES:
                        rasters.append(q)
        elif p.is_file():
            t = fmt.classify_tile(p)
            if t is not None:
                tiles.append(t)
            else:
                rasters.append(p)
        else:
            raise ParameterError("source", str(p), "an existing terrain file or directory")
    return tiles, rasters


def open_terrain(
    source: Any,
    missing: MissingPolicy | str = MissingPolicy.ERROR,
    cache_mb: float | None = None,
) -> Terrain:
    """Open terrain from a file, a list of files or a directory of tiles.

    Parameters
    ----------
    source : str, path, list of them, or Terrain
        ``"embedded"`` (the coarse demo terrain of :func:`default_terrain`; write ``./embedded``
        for a file of that name), a raster file (GeoTIFF/COG, ESRI ASCII, any geographic raster
        rasterio reads), one tile, a list of tiles, or a directory searched recursively for tiles
        by their standard names:
        SRTM ``N41E024.hgt`` (also ``.hgt.zip``, Skadi ``N41/N41E024.hgt.gz``), SPLAT! SDF
        ``41:42:335:336.sdf`` (``-hd.sdf`` for 1"), Copernicus
        ``Copernicus_DSM_COG_10_N41_00_E024_00_DEM.tif``. A ``<tile name>.absent`` file marks an
        ocean tile (absent upstream): it reads as 0 m.
    missing : {"error", "sea-level"}
        Terrain outside the available tiles: raise :class:`~yalu.errors.MissingTileError` naming
        the tile (default), or read 0 m.
    cache_mb : float, optional
        Bound of the block cache [MiB] (default ``YALU_TERRAIN_CACHE_MB`` or 1024).

    Returns
    -------
    Terrain
    """
    if isinstance(source, Terrain):
        return source
    if isinstance(source, str) and source == "embedded":
        return default_terrain(missing=missing)
    if isinstance(source, (str, os.PathLike)):
        paths = [Path(source)]
    elif isinstance(source, Sequence) and source:
        paths = [Path(s) for s in source]
    else:
        raise ParameterError("source", source, "a terrain file, a list of files or a directory")
    tiles, rasters = _scan(paths)
    if tiles:
        kinds = {t.kind.name for t in tiles}
        if len(kinds) > 1:
            raise TerrainFormatError(
                f"{', '.join(map(str, paths))}: mixed tile kinds ({', '.join(sorted(kinds))}); "
                "open one kind at a time"
            )
        src: _Source = _TileSource(tiles[0].kind, tiles)
    elif len(rasters) == 1:
        src = _RasterSource(rasters[0])
    elif not rasters:
        raise TerrainFormatError(f"{', '.join(map(str, paths))}: no terrain files found")
    else:
        raise TerrainFormatError(
            f"{', '.join(map(str, paths))}: {len(rasters)} rasters without standard tile names; "
            "open one file, or name 1-degree tiles by the SRTM/Copernicus/SDF conventions"
        )
    return Terrain(src, missing=missing, cache_mb=cache_mb)


DEMO_DESCRIPTION = (
    "coarse 5' demo terrain (ETOPO5 crop, North-East Asia 37-46 N, 120-134 E): not for analysis"
)
DEMO_ATTRIBUTION = "ETOPO5, NOAA National Geophysical Data Center, 1988 (public domain)"


def default_terrain(missing: MissingPolicy | str = MissingPolicy.ERROR) -> Terrain:
    """The embedded coarse 5 arc-minute ETOPO5 crop for North-East Asia (a demo terrain).

    Its ``description`` says it is a coarse 5' demo terrain and ``is_demo`` is True: outputs made
    from it must say so.
    """
    from importlib.resources import files

    path = Path(str(files("yalu") / "data" / "etopo5_ne_asia.tif"))
    return Terrain(
        _RasterSource(path),
        missing=missing,
        is_demo=True,
        attribution=DEMO_ATTRIBUTION,
        description=DEMO_DESCRIPTION,
    )
