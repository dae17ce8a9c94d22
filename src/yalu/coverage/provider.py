"""The coverage engine as the radio layer's path-loss provider.

:class:`EnginePathLoss` answers the two questions of :class:`yalu.radio.layers.PathLossProvider`
with the engine: grid maps through :func:`yalu.coverage.path_loss_map` on the part of the grid
within the provider's radius (NaN beyond), and point losses on the one geodesic profile between
the two antennas (:func:`yalu.geodesy.profile`, then the model), so that a jammer-to-tower value
reads only the terrain under its path. Each distinct map and point is computed once and cached:
the radio layers of several variants share them.

Maps are pure functions of their :class:`~yalu.coverage.TileSpec` (:func:`~yalu.coverage.tile_job`),
so :meth:`EnginePathLoss.prefetch` can compute them on a Dask cluster (``client``): the terrain
window is read here, and the result is bit-identical to the local run.
:meth:`~EnginePathLoss.prefetch` computes the maps of one antenna (position and height) on one
grid together, locally or as one task (:func:`~yalu.coverage.tile_job_multi`): one terrain
window, and in exact mode one profile per node and one ITM geometry per direction for all their
frequencies.

Losses at scattered points (:meth:`EnginePathLoss.points_loss_db`, the population's sample points)
are exact mode's computation at each point (hybrid mode's when the map mode is hybrid), whatever
else the map mode: each point has its own geodesic profile from the antenna
(:func:`yalu.coverage.engine.path_loss_at_points`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import hashlib
import math
import os
import pickle
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import numpy as np

from yalu.coverage.engine import (
    Direction,
    HybridSettings,
    ITMOptions,
    MapMode,
    P1812Options,
    PropagationModel,
    TileSpec,
    make_tile_spec,
    numba_threads,
    path_loss_at_points,
    path_loss_at_points_multi,
    tile_job,
    tile_job_multi,
)
from yalu.errors import InputError, ParameterError, check_range, parse_choice
from yalu.geodesy import Grid, azimuth_distance, grid_around, profile
from yalu.radio.layers import Antenna, SparsePoints, WindowedMap

__all__ = ["EnginePathLoss", "MapRequest", "TerrainTransfer"]

#: (antenna, frequency [MHz], direction, node height [m]): one grid map.
MapRequest = tuple[Antenna, float, str, float]


def _sphere_distance_m(lat0_deg: float, lon0_deg: float, lat_deg: np.ndarray,
                       lon_deg: np.ndarray) -> np.ndarray:  # fmt: skip
    """Great-circle distance [m] on the sphere of the mean Earth radius (haversine)."""
    p0, p1 = math.radians(lat0_deg), np.radians(lat_deg)
    dlon = np.radians(lon_deg - lon0_deg)
    h = np.sin(0.5 * (p1 - p0)) ** 2 + math.cos(p0) * np.cos(p1) * np.sin(0.5 * dlon) ** 2
    return 2.0 * 6_371_008.8 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def _tile_jobs_on(spec: TileSpec, jobs: list[tuple[float, str]], threads: int | None) -> np.ndarray:
    """:func:`tile_job_multi` on ``threads`` numba threads (the task a Dask worker runs)."""
    with numba_threads(threads):
        return tile_job_multi(spec, jobs)


class TerrainTransfer(enum.StrEnum):
    """How Dask workers get the terrain under their maps.

    ``send``: the main process reads each task's window and sends it (any cluster);
    ``read``: each worker reads its windows from the terrain's files itself, which must be
    the same files at the same paths on every worker (a local cluster, a shared file system);
    a worker whose files differ (size or modification time) refuses the task. ``auto``:
    ``read`` on a local cluster started by the run, ``send`` on a scheduler address.
    """

    AUTO = "auto"
    SEND = "send"
    READ = "read"


def _fingerprint(terrain: Any) -> tuple[tuple[str, int, int], ...]:
    fp = getattr(terrain, "fingerprint", None)
    if fp is None:
        raise ParameterError(
            "terrain_transfer", "read", "'send' for terrain held in memory (no files to read)"
        )
    return fp()  # type: ignore[no-any-return]


def _on_loopback(address: str) -> bool:
    """Whether a Dask address (``tcp://127.0.0.1:40000``) is on this machine's loopback."""
    import ipaddress
    from urllib.parse import urlsplit

    host = urlsplit(address if "://" in address else f"tcp://{address}").hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _warm_tile(spec: TileSpec, jobs: list[Any], threads: int | None) -> int:
    """A worker's warm-up (:meth:`EnginePathLoss.warm_workers`): the maps of a tiny tile; returns
    the worker's process id."""
    _tile_jobs_on(spec, jobs, threads)
    return os.getpid()


def _tile_jobs_read(
    terrain: Any,
    fingerprint: tuple[tuple[str, int, int], ...],
    kwargs: dict[str, Any],
    jobs: list[tuple[float, str]],
    threads: int | None,
) -> tuple[np.ndarray, int]:
    """The task a Dask worker runs when it reads its own terrain window: the maps and the
    window's size [bytes]."""
    here = terrain.fingerprint()
    if here != fingerprint:
        raise InputError(
            "terrain_transfer 'read': this worker's terrain files differ from the main "
            f"process's (path, size, mtime): {list(here)} != {list(fingerprint)}; use "
            "'send' unless every worker sees the same files"
        )
    spec = make_tile_spec(terrain, **kwargs)
    with numba_threads(threads):
        return tile_job_multi(spec, jobs), int(spec.elevation_m.nbytes)


def _shared_block_dir(terrain: Any) -> str | None:
    """A new scratch directory (under the system's temporary directory) for the workers'
    decoded terrain blocks, or None when its file system has less free space than twice the
    whole terrain decoded (float32) plus 1 GiB: the blocks must not take the room of the run's
    own scratch files or outputs."""
    s, w, n, e = terrain.bounds
    dlat, dlon = terrain.resolution_deg
    need = 4.0 * ((n - s) / dlat + 2.0) * ((e - w) / dlon + 2.0)
    tmp = tempfile.gettempdir()
    try:
        free = shutil.disk_usage(tmp).free
    except OSError:
        return None
    if free < 2.0 * need + 2**30:
        return None
    return tempfile.mkdtemp(prefix="yalu-terrain-blocks-", dir=tmp)


def _compact(elevation_m: np.ndarray) -> np.ndarray:
    """The terrain window in the smallest dtype that holds it exactly (int16, float32, else
    as is), to send to a worker: the engine reads it back as float64, so the maps are the same
    bits (DEMs are whole metres or float32; a void fill's averages keep float64)."""
    e = elevation_m
    if e.size == 0 or not np.isfinite(e).all():
        return e
    lo, hi = float(e.min()), float(e.max())
    if -32768.0 <= lo and hi <= 32767.0 and np.array_equal(np.round(e), e):
        return e.astype(np.int16)
    f32 = e.astype(np.float32)
    return f32 if np.array_equal(f32.astype(e.dtype), e) else e


def _empty_map(grid: Grid) -> WindowedMap:
    """A map of ``grid`` with no node within the radius (all NaN)."""
    return WindowedMap(grid.shape, (0, 0, 0, 0), np.empty((0, 0), dtype=np.float32))


def _frozen(a: np.ndarray) -> np.ndarray:
    """``a`` made read-only: cached arrays are shared with callers (SparsePoints)."""
    a.flags.writeable = False
    return a


class _AtPoints(NamedTuple):
    """Losses of one request at a point set, as cached: only the points within the radius
    are stored (a border antenna reaches a fraction of a border's points)."""

    shape: tuple[int, ...]
    near: np.ndarray  # flat indices of the points within the radius
    values: np.ndarray  # their losses [dB], float64

    def dense(self) -> np.ndarray:
        """The losses at every point (NaN beyond the radius), a new array."""
        out = np.full(self.shape, np.nan)
        out.flat[self.near] = self.values
        return out


class EnginePathLoss:
    """Path loss from the coverage engine, cached per distinct map and point.

    Parameters
    ----------
    terrain : yalu.terrain.Terrain
        Elevation source.
    radius_m : float
        Largest distance computed [m]; beyond it maps are NaN and point losses inf.
    model : {"itm", "p1812", "hata", "free-space"}
    mode : {"fast", "exact", "hybrid"}
        ITM map mode (point losses are exact, or hybrid in hybrid mode; P.1812 maps are always
        exact).
    itm : ITMOptions, optional
    p1812 : P1812Options, optional
        ITU-R P.1812-8 options, for ``model="p1812"``.
    step_m : float, optional
        Profile step [m] (default: the engine's, the terrain's native spacing).
    hata_environment : str
        Okumura-Hata environment, for ``model="hata"``.
    threads : int, optional
        Threads for the engine (local computation).
    client : distributed.Client, optional
        Compute the maps of :meth:`prefetch` as tasks on this Dask cluster.
    worker_threads : int
        numba threads per task on the cluster (default 1: one core per Dask worker thread).
    points_step_m : float, optional
        Profile step [m] of losses at scattered points (default ``step_m``): kept apart so that
        answers at points need not follow a display grid's spacing.
    terrain_transfer : TerrainTransfer or str
        How the cluster's workers get their terrain windows (see :class:`TerrainTransfer`);
        ``auto`` reads them on the workers when every worker runs on this machine (loopback
        addresses) and the terrain comes from files.
    hybrid : HybridSettings, optional
        Hybrid mode's settings, for maps and points (default :class:`HybridSettings`).
    """

    def __init__(
        self,
        terrain: Any,
        *,
        radius_m: float,
        model: PropagationModel | str = PropagationModel.ITM,
        mode: MapMode | str = MapMode.EXACT,
        itm: ITMOptions | None = None,
        step_m: float | None = None,
        hata_environment: str = "urban",
        threads: int | None = None,
        client: Any = None,
        worker_threads: int = 1,
        p1812: P1812Options | None = None,
        landcover: Any = None,
        points_step_m: float | None = None,
        terrain_transfer: TerrainTransfer | str = TerrainTransfer.SEND,
        hybrid: HybridSettings | None = None,
    ) -> None:
        check_range("radius_m", radius_m, 0.0, 500e3, lo_inclusive=False)
        self.terrain = terrain
        self.radius_m = float(radius_m)
        self.model = parse_choice(PropagationModel, model, "model")
        self.mode = parse_choice(MapMode, mode, "mode")
        self.itm = itm or ITMOptions()
        self.p1812 = p1812 or P1812Options()
        self.hybrid = hybrid or HybridSettings()
        self.landcover = landcover
        self.step_m = step_m
        self.hata_environment = hata_environment
        self.threads = threads
        self.client = client
        self.worker_threads = worker_threads
        self.terrain_transfer = terrain_transfer
        #: Bytes of terrain windows sent to, and of maps received from, the cluster.
        self.bytes_sent = 0
        self.bytes_received = 0
        #: Bytes of terrain windows the workers read themselves (``terrain_transfer="read"``).
        self.terrain_bytes_read = 0
        #: Terrain blocks the workers shared through a directory of this machine (``read``
        #: with every worker on loopback: :meth:`yalu.terrain.Terrain.with_shared_blocks`):
        #: each decoded by one worker, loaded by the others.
        self.terrain_blocks_shared = 0
        #: ``"send"`` or ``"read"``: what the last :meth:`prefetch` on a cluster did.
        self.terrain_transfer_used: str | None = None
        self.tasks = 0
        #: Seconds the last :meth:`warm_workers` took (wall time, on every worker at once).
        self.warm_up_s = 0.0
        self._warmed: set[str] = set()
        self.points_step_m = points_step_m
        #: Where computed maps go (``store(name, float32 window) -> array kept elsewhere`` that
        #: reads ranges of rows, e.g. :meth:`yalu.io.spill.SpillStore.put`); None: memory.
        self.map_store: Callable[[str, np.ndarray], Any] | None = None
        self._maps: dict[tuple[Any, ...], WindowedMap] = {}
        self._points: dict[tuple[Any, ...], float] = {}
        self._at_points: dict[tuple[Any, ...], _AtPoints] = {}
        self._last_points: tuple[np.ndarray, np.ndarray, str] | None = None
        #: (latitude, longitude, direction, frequency asked [MHz, rounded to 1 Hz]) -> the
        #: frequency computed (see :meth:`share_frequencies`); one not in it is computed as asked
        self.frequency_alias: dict[tuple[float, float, str, float], float] = {}

    def share_frequencies(
        self, requests: Iterable[MapRequest], span_mhz: float
    ) -> dict[tuple[float, float, str, float], float]:
        """Let carriers of one antenna close in frequency share one path-loss computation.

        For each antenna position and direction, the distinct frequencies that ``requests``
        ask there are sorted and cut, from the lowest, into runs whose highest lies at most
        ``span_mhz`` above their lowest; every frequency of a run is then computed at the run's
        centre (``(lowest + highest) / 2``), at most ``span_mhz / 2`` from it. Every later map
        and loss at points asked there at one of them (any antenna height, any grid) uses its
        run's centre. ``span_mhz = 0`` turns sharing off (each frequency its own).

        Path loss changes slowly with frequency: free-space loss by ``20 log10(f2 / f1)``
        (0.0019 dB for 0.2 MHz at 935 MHz) and ITM's diffraction terms by at most a few times
        that, so a span of a few GSM channels moves a loss by hundredths of a dB at most, while
        the carriers of one mast and band share each map.

        Returns the table ``(lat_deg, lon_deg, direction, frequency) -> frequency computed``,
        also kept in :attr:`frequency_alias` (replacing the last one); maps and losses already
        computed are not changed.
        """
        check_range("span_mhz", span_mhz, 0.0, 100.0)
        span = float(span_mhz)
        self.frequency_alias = {}
        if span == 0.0:
            return {}
        by_place: dict[tuple[float, float, str], set[float]] = {}
        for a, f, d, _h in requests:
            check_range("frequency_mhz", f, 0.0, 1e6, lo_inclusive=False)
            direction = self._direction(d)
            by_place.setdefault((float(a[0]), float(a[1]), direction), set()).add(
                round(float(f), 6)
            )
        table: dict[tuple[float, float, str, float], float] = {}
        for place, found in by_place.items():
            freqs = sorted(found)
            i = 0
            while i < len(freqs):
                j = i
                while j + 1 < len(freqs) and freqs[j + 1] - freqs[i] <= span:
                    j += 1
                centre = round(0.5 * (freqs[i] + freqs[j]), 6)
                for f in freqs[i : j + 1]:
                    table[(*place, f)] = centre
                i = j + 1
        self.frequency_alias = table
        return dict(table)

    def _direction(self, direction: str) -> str:
        d = parse_choice(Direction, direction, "direction")
        return Direction.FORWARD.value if self.reciprocal else d.value

    def _frequency(self, antenna: Antenna, frequency_mhz: float, direction: str) -> float:
        """The frequency computed for one asked (:meth:`share_frequencies`), rounded to 1 Hz
        (``direction``: a :class:`Direction` value)."""
        f = round(float(frequency_mhz), 6)
        if not self.frequency_alias:
            return f
        return self.frequency_alias.get((float(antenna[0]), float(antenna[1]), direction, f), f)

    @property
    def terrain_transfer(self) -> TerrainTransfer:
        """How the cluster's workers get their terrain windows (:class:`TerrainTransfer`)."""
        return self._terrain_transfer

    @terrain_transfer.setter
    def terrain_transfer(self, value: TerrainTransfer | str) -> None:
        self._terrain_transfer = parse_choice(TerrainTransfer, value, "terrain_transfer")

    @property
    def reciprocal(self) -> bool:
        """Whether both directions give the same loss (Hata, free space; not ITM, P.1812)."""
        return self.model not in (PropagationModel.ITM, PropagationModel.P1812)

    def _map_key(
        self, antenna: Antenna, frequency_mhz: float, direction: str, grid: Grid, h: float
    ) -> tuple[Any, ...]:
        d = self._direction(direction)
        return (tuple(antenna), self._frequency(antenna, frequency_mhz, d), d, grid, float(h))

    @property
    def maps_computed(self) -> int:
        return len(self._maps)

    def distinct_maps(self, requests: Iterable[MapRequest], grid: Grid) -> int:
        """How many distinct maps ``requests`` ask for on ``grid`` (computed or not)."""
        return len({self._map_key(a, f, d, grid, h) for a, f, d, h in requests})

    @staticmethod
    def _groups(keys: list[tuple[Any, ...]]) -> list[list[tuple[Any, ...]]]:
        """Keys of the same antenna position (any height), grid and node height together
        (first-seen order): their maps share each node's profile."""
        groups: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
        for k in keys:
            groups.setdefault((k[0][:2], k[3], k[4]), []).append(k)
        return list(groups.values())

    def warm_workers(self, requests: Iterable[MapRequest], grid: Grid) -> list[str]:
        """Run a tiny map of ``requests``' first antenna on every worker of ``client`` that has
        not run one for this provider; returns their addresses.

        A worker process's first map task otherwise pays yalu's imports (~0.5 s on the
        benchmark machine) and numba's loading of the engine's compiled kernels from its cache
        (~0.4 s): a fixed cost of each worker process, which more workers do not share out.
        Here every worker pays it at once, before its first map task (measured in
        ``benchmarks/bench_dask_maps.py``); :meth:`prefetch` calls it. The tile is a few nodes
        beside the antenna, with the map's model, mode, options and jobs, on a small window
        read here (kilobytes to a few MB), so the tasks then load nothing more. Its maps are not
        kept.
        """
        keys = list(dict.fromkeys(self._map_key(a, f, d, grid, h) for a, f, d, h in requests))
        return self._warm(keys)

    def _warm(self, keys: list[tuple[Any, ...]]) -> list[str]:
        if self.client is None:
            return []
        workers = [w for w in self.client.scheduler_info().get("workers", {})
                   if w not in self._warmed]  # fmt: skip
        warm = self._warm_spec(keys) if workers else None
        if warm is None:
            return []
        t0 = time.perf_counter()
        self.client.run(_warm_tile, *warm, self.worker_threads, workers=workers)
        self.warm_up_s = time.perf_counter() - t0
        self._warmed.update(workers)
        return workers

    def _warm_spec(
        self, keys: list[tuple[Any, ...]]
    ) -> tuple[TileSpec, list[tuple[float, str, float]]] | None:
        """The warm-up's tile: the 3 x 3 nodes of the first map's grid nearest its antenna,
        in a window of a few kilometres, with that antenna's jobs (None: no map on the grid)."""
        found = next(((g, j) for g, j in ((g, self._job_args(g[0])) for g in self._groups(keys))
                      if j is not None), None)  # fmt: skip
        if found is None:
            return None
        group, (kwargs, _box) = found
        g = kwargs["grid"]
        lat0, lon0 = kwargs["site"]
        r = int(np.clip(np.argmin(np.abs(g.lats() - lat0)), 1, max(1, g.n_rows - 2))) - 1
        c = int(np.clip(np.argmin(np.abs(g.lons() - lon0)), 1, max(1, g.n_cols - 2))) - 1
        tiny = g.subgrid(r, c, min(3, g.n_rows - r), min(3, g.n_cols - c))
        n_, s_, w_, e_ = tiny.north_deg, tiny.south_deg, tiny.west_deg, tiny.east_deg
        corners = _sphere_distance_m(lat0, lon0, np.array([n_, n_, s_, s_]),
                                     np.array([w_, e_, w_, e_]))  # fmt: skip
        radius = float(min(self.radius_m, max(float(corners.max()) * 1.5, 5e3)))
        spec = make_tile_spec(self.terrain, **{**kwargs, "grid": tiny, "radius_m": radius})
        return spec, [(k[1], k[2], k[0][2]) for k in group]

    def prefetch(
        self,
        requests: Iterable[MapRequest],
        grid: Grid,
        progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Compute every distinct map of ``requests`` on ``grid``; returns how many there are.

        The maps of one antenna are computed together (see the module doc). With a ``client``,
        each antenna's maps are one task, and at most ``2 x workers`` tasks are in flight at a
        time, so the terrain windows held here stay bounded.
        """
        keys = list(dict.fromkeys(self._map_key(a, f, d, grid, h) for a, f, d, h in requests))
        todo = [k for k in keys if k not in self._maps]
        done = len(keys) - len(todo)
        if progress is not None:
            progress(done, len(keys))
        groups = self._groups(todo)
        if self.client is None:
            for group in groups:
                self._compute_group(group)
                done += len(group)
                if progress is not None:
                    progress(done, len(keys))
            return len(keys)
        from distributed import as_completed

        self._warm(todo)
        n_workers = max(1, len(self.client.scheduler_info().get("workers", {})))

        def size(group: list[tuple[Any, ...]]) -> int:
            box = self._box(Antenna(*group[0][0]), group[0][3])
            return 0 if box is None else (box[1] - box[0]) * (box[3] - box[2]) * len(group)

        # the largest tasks first, so that the last ones to finish are short
        pending = iter(sorted(groups, key=size, reverse=True))
        futures: dict[Any, tuple[list[tuple[Any, ...]], tuple[int, int, int, int]]] = {}

        read = self._reads_on_workers()
        self.terrain_transfer_used = (TerrainTransfer.READ if read else TerrainTransfer.SEND).value
        shared = None
        if read:
            fingerprint = _fingerprint(self.terrain)
            sent = self.terrain
            if self._workers_on_loopback() and hasattr(sent, "with_shared_blocks"):
                # workers of this machine: a block decoded by one is loaded by the others
                shared = _shared_block_dir(sent)
                if shared is not None:
                    sent = sent.with_shared_blocks(shared)
            # one copy of the (lazy) terrain per worker, kept there: its block cache serves
            # every task of that worker
            try:
                terrain_ref = self.client.scatter(sent, broadcast=True, hash=False)
            except BaseException:
                if shared is not None:
                    shutil.rmtree(shared, ignore_errors=True)
                raise
            self.bytes_sent += len(pickle.dumps(sent))

        def submit_next() -> bool:
            for group in pending:
                jobs = [(k[1], k[2], k[0][2]) for k in group]
                job_args = self._job_args(group[0])
                if job_args is None:
                    for key in group:
                        self._maps[key] = _empty_map(key[3])
                    continue
                kwargs, box = job_args
                if read:
                    fut = self.client.submit(_tile_jobs_read, terrain_ref, fingerprint, kwargs,
                                             jobs, self.worker_threads, pure=False)  # fmt: skip
                else:
                    spec = make_tile_spec(self.terrain, **kwargs)
                    spec = dataclasses.replace(spec, elevation_m=_compact(spec.elevation_m))
                    self.bytes_sent += int(spec.elevation_m.nbytes)
                    fut = self.client.submit(_tile_jobs_on, spec, jobs, self.worker_threads,
                                             pure=False)  # fmt: skip
                self.tasks += 1
                futures[fut] = (group, box)
                queue.add(fut)
                return True
            return False

        queue = as_completed()
        try:
            for _ in range(2 * n_workers):
                if not submit_next():
                    break
            for fut in queue:
                group, box = futures.pop(fut)
                arr = fut.result()
                if read:
                    arr, window_bytes = arr
                    self.terrain_bytes_read += window_bytes
                self.bytes_received += int(arr.nbytes)
                for key, a in zip(group, arr, strict=True):
                    self._place(key, box, a)
                done += len(group)
                if progress is not None:
                    progress(done, len(keys))
                submit_next()
        finally:
            if shared is not None:
                with contextlib.suppress(OSError):
                    self.terrain_blocks_shared += sum(
                        f.endswith(".npy") for f in os.listdir(shared)
                    )
                shutil.rmtree(shared, ignore_errors=True)
        return len(keys)

    def _workers_on_loopback(self) -> bool:
        addresses = list(self.client.scheduler_info().get("workers", {}))
        return bool(addresses) and all(_on_loopback(a) for a in addresses)

    def _reads_on_workers(self) -> bool:
        mode = self.terrain_transfer
        if mode is TerrainTransfer.AUTO:
            if getattr(self.terrain, "fingerprint", None) is None:
                return False
            return self._workers_on_loopback()
        return mode is TerrainTransfer.READ

    def _compute_group(self, group: list[tuple[Any, ...]]) -> None:
        """The maps of one antenna, grid and node height in one engine call."""
        job = self._job(group[0])
        if job is None:
            for key in group:
                self._maps[key] = _empty_map(key[3])
            return
        spec, box = job
        with numba_threads(self.threads):
            arr = tile_job_multi(spec, [(k[1], k[2], k[0][2]) for k in group])
        for key, a in zip(group, arr, strict=True):
            self._place(key, box, a)

    def _box(self, antenna: Antenna, grid: Grid) -> tuple[int, int, int, int] | None:
        """Rows and columns (r0, r1, c0, c1) of ``grid`` within the radius' box around
        ``antenna`` (None: none)."""
        sub = grid_around(antenna.lat_deg, antenna.lon_deg, self.radius_m,
                          north_deg=grid.north_deg, west_deg=grid.west_deg,
                          dlat_deg=grid.dlat_deg, dlon_deg=grid.dlon_deg)  # fmt: skip
        r0 = int(round((grid.north_deg - sub.north_deg) / grid.dlat_deg))
        c0 = int(round((sub.west_deg - grid.west_deg) / grid.dlon_deg))
        ra, ca = max(r0, 0), max(c0, 0)
        rb = min(r0 + sub.shape[0], grid.shape[0])
        cb = min(c0 + sub.shape[1], grid.shape[1])
        if ra >= rb or ca >= cb:
            return None
        return ra, rb, ca, cb

    def map_nodes(self, requests: Iterable[MapRequest], grid: Grid) -> int:
        """Nodes the distinct maps of ``requests`` hold on ``grid`` (their windows)."""
        total = 0
        for key in {self._map_key(a, f, d, grid, h) for a, f, d, h in requests}:
            box = self._box(Antenna(*key[0]), grid)
            if box is not None:
                total += (box[1] - box[0]) * (box[3] - box[2])
        return total

    def position_nodes(self, requests: Iterable[MapRequest], grid: Grid) -> int:
        """Nodes of each antenna position's widest map window on ``grid``, summed over the
        positions (any height): what a grid geometry holds an azimuth and a distance for."""
        widest: dict[tuple[float, float], int] = {}
        for key in {self._map_key(a, f, d, grid, h) for a, f, d, h in requests}:
            box = self._box(Antenna(*key[0]), grid)
            if box is not None:
                pos = (float(key[0][0]), float(key[0][1]))
                widest[pos] = max(widest.get(pos, 0), (box[1] - box[0]) * (box[3] - box[2]))
        return sum(widest.values())

    def _job_args(
        self, key: tuple[Any, ...]
    ) -> tuple[dict[str, Any], tuple[int, int, int, int]] | None:
        """:func:`make_tile_spec`'s arguments, the terrain aside, for a map's part inside
        ``grid``, and that part's box (None: the map misses the grid)."""
        ant, f, d, grid, h = Antenna(*key[0]), key[1], key[2], key[3], key[4]
        box = self._box(ant, grid)
        if box is None:
            return None
        ra, rb, ca, cb = box
        kwargs = dict(
            site=(ant.lat_deg, ant.lon_deg), radius_m=self.radius_m, h_tx_m=ant.height_m,
            h_rx_m=h, frequency_mhz=f, model=self.model, mode=self.mode, itm=self.itm,
            grid=grid.subgrid(ra, ca, rb - ra, cb - ca), step_m=self.step_m, direction=d,
            hata_environment=self.hata_environment, p1812=self.p1812, landcover=self.landcover,
            hybrid=self.hybrid,
        )  # fmt: skip
        return kwargs, box

    def _job(self, key: tuple[Any, ...]) -> tuple[TileSpec, tuple[int, int, int, int]] | None:
        """The tile spec of a map's part inside ``grid`` (None: the map misses the grid)."""
        job = self._job_args(key)
        if job is None:
            return None
        return make_tile_spec(self.terrain, **job[0]), job[1]

    def _place(self, key: tuple[Any, ...], box: tuple[int, int, int, int], arr: Any) -> WindowedMap:
        # only the window within the radius is kept: memory follows the sites' reach, not the
        # grid's extent
        data = np.asarray(arr, dtype=np.float32)
        if self.map_store is not None:
            ant, f, d, _grid, h = key
            data = self.map_store(f"map_{ant[0]:.5f}_{ant[1]:.5f}_{ant[2]:g}_{f:g}_{d}_{h:g}", data)
        out = WindowedMap(key[3].shape, box, data)
        self._maps[key] = out
        return out

    def _compute(self, key: tuple[Any, ...]) -> WindowedMap:
        job = self._job(key)
        if job is None:
            out = _empty_map(key[3])
            self._maps[key] = out
            return out
        spec, box = job
        with numba_threads(self.threads):
            return self._place(key, box, tile_job(spec))

    def grid_loss_db(
        self,
        antenna: Antenna,
        frequency_mhz: float,
        direction: str,
        grid: Grid,
        node_height_m: float,
    ) -> WindowedMap:
        """Loss [dB] between ``antenna`` and every node of ``grid`` (float32, NaN beyond the
        radius), as a :class:`~yalu.radio.layers.WindowedMap` over the radius' window of the
        grid (``np.asarray`` gives the dense map).

        ``direction="forward"``: the antenna is ITM's transmitter; ``"reverse"``: every node is.
        """
        key = self._map_key(antenna, frequency_mhz, direction, grid, node_height_m)
        hit = self._maps.get(key)
        return hit if hit is not None else self._compute(key)

    def _points_key(
        self, antenna: Antenna, frequency_mhz: float, direction: str, la: np.ndarray,
        lo: np.ndarray, node_height_m: float, digest: str | None = None,
    ) -> tuple[Any, ...]:  # fmt: skip
        d = self._direction(direction)
        if digest is None:
            digest = self._digest(la, lo)
        return (tuple(antenna), self._frequency(antenna, frequency_mhz, d), d,
                float(node_height_m), la.shape, digest)  # fmt: skip

    def _digest(self, la: np.ndarray, lo: np.ndarray) -> str:
        """Content hash of a point set; remembered for arrays that cannot change (read-only
        and owning their data, as :class:`~yalu.radio.layers.LayerInputs` passes them)."""
        last = self._last_points
        if last is not None and last[0] is la and last[1] is lo:
            return last[2]
        digest = hashlib.sha1(la.tobytes() + b"|" + lo.tobytes()).hexdigest()
        frozen = all(a.flags.owndata and not a.flags.writeable for a in (la, lo))
        self._last_points = (la, lo, digest) if frozen else None
        return digest

    def _points_options(self) -> dict[str, Any]:
        mode = MapMode.HYBRID if self.mode is MapMode.HYBRID else MapMode.EXACT
        return dict(model=self.model, itm=self.itm, step_m=self.points_step_m or self.step_m,
                    threads=self.threads, hata_environment=self.hata_environment,
                    p1812=self.p1812, landcover=self.landcover, mode=mode,
                    hybrid=self.hybrid)  # fmt: skip

    def _near(self, antenna: Antenna, la: np.ndarray, lo: np.ndarray) -> np.ndarray:
        """Whether each point lies within the radius (WGS84 geodesic) of the antenna."""
        near = np.zeros(la.shape, dtype=bool)
        # Points spread along a border are mostly far from any one antenna: a spherical distance
        # (off the ellipsoidal one by < 0.6 %) settles every point but those near the radius,
        # with room to spare, and only they get the geodesic, whose value per point does not
        # depend on the others.
        sphere = _sphere_distance_m(antenna.lat_deg, antenna.lon_deg, la, lo).ravel()
        inside = sphere <= (self.radius_m - 1000.0) / 1.02
        near.ravel()[inside] = True
        cand = np.flatnonzero(~inside & (sphere <= 1.02 * self.radius_m + 1000.0))
        if cand.size:
            _, dist = azimuth_distance(antenna.lat_deg, antenna.lon_deg, la.ravel()[cand],
                                       lo.ravel()[cand])  # fmt: skip
            near.ravel()[cand] = np.asarray(dist) <= self.radius_m
        return near

    def prefetch_points(self, requests: Iterable[MapRequest], lat_deg: Any, lon_deg: Any) -> int:
        """Compute the losses of ``requests`` at the points (what :meth:`points_loss_db` will
        be asked), the jobs of one antenna together: one profile per point and one ITM
        geometry per direction for all their frequencies (bit for bit the values
        :meth:`points_loss_db` computes one job at a time). Returns how many are cached."""
        la = np.ascontiguousarray(lat_deg, dtype=np.float64)
        lo = np.ascontiguousarray(lon_deg, dtype=np.float64)
        digest = self._digest(la, lo)
        groups: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
        for a, f, d, h in requests:
            key = self._points_key(a, f, d, la, lo, h, digest)
            if key not in self._at_points:
                # one profile per point for every height of an antenna position
                group = groups.setdefault((key[0][:2], key[3]), [])
                if key not in group:
                    group.append(key)
        for (_pos, h), keys in groups.items():
            ant = Antenna(*keys[0][0])
            near = self._near(ant, la, lo)
            idx = _frozen(np.flatnonzero(near.ravel()))
            vals = np.zeros((len(keys), 0))
            if idx.size:
                vals = path_loss_at_points_multi(
                    self.terrain, (ant.lat_deg, ant.lon_deg), self.radius_m, la[near], lo[near],
                    h_tx_m=ant.height_m, h_rx_m=h, jobs=[(k[1], k[2], k[0][2]) for k in keys],
                    **self._points_options(),
                )  # fmt: skip
            for key, v in zip(keys, vals, strict=True):
                self._at_points[key] = _AtPoints(la.shape, idx, _frozen(np.array(v, np.float64)))
        return len(self._at_points)

    def retain(self, requests: Iterable[MapRequest]) -> int:
        """Forget every cached map (any grid) and point loss (any point set) that none of
        ``requests`` asks for; returns how many were dropped. A request asked again later is
        computed again, with the same values."""
        keep = {self._map_key(a, f, d, None, h)[:3] + (float(h),)  # type: ignore[arg-type]
                for a, f, d, h in requests}  # fmt: skip
        maps = [k for k in self._maps if k[:3] + (k[4],) not in keep]
        pts = [k for k in self._at_points if k[:4] not in keep]
        for k in maps:
            del self._maps[k]
        for k in pts:
            del self._at_points[k]
        return len(maps) + len(pts)

    def drop_points(self, lat_deg: Any, lon_deg: Any) -> int:
        """Forget the cached losses at this point set (every antenna and frequency); returns
        how many were dropped."""
        la = np.ascontiguousarray(lat_deg, dtype=np.float64)
        lo = np.ascontiguousarray(lon_deg, dtype=np.float64)
        digest = hashlib.sha1(la.tobytes() + b"|" + lo.tobytes()).hexdigest()
        gone = [k for k in self._at_points if k[4] == la.shape and k[5] == digest]
        for k in gone:
            del self._at_points[k]
        return len(gone)

    def points_loss_db(
        self,
        antenna: Antenna,
        frequency_mhz: float,
        direction: str,
        lat_deg: Any,
        lon_deg: Any,
        node_height_m: float,
    ) -> np.ndarray:
        """Loss [dB] between ``antenna`` and each point (float64, NaN beyond the radius), each on
        its own geodesic profile (exact mode's computation, hybrid mode's when :attr:`mode` is
        hybrid)."""
        return self._points_hit(antenna, frequency_mhz, direction, lat_deg, lon_deg,
                                node_height_m).dense()  # fmt: skip

    def points_loss_sparse(
        self,
        antenna: Antenna,
        frequency_mhz: float,
        direction: str,
        lat_deg: Any,
        lon_deg: Any,
        node_height_m: float,
    ) -> SparsePoints:
        """:meth:`points_loss_db` of a 1-D point set as :class:`SparsePoints` sharing this
        provider's cache (the points within the radius), without a dense copy."""
        hit = self._points_hit(antenna, frequency_mhz, direction, lat_deg, lon_deg,
                               node_height_m)  # fmt: skip
        if len(hit.shape) != 1:
            raise ParameterError("lat_deg", f"shape {hit.shape}", "a 1-D array of points")
        return SparsePoints.from_parts(hit.shape[0], hit.near, hit.values)

    def _points_hit(
        self,
        antenna: Antenna,
        frequency_mhz: float,
        direction: str,
        lat_deg: Any,
        lon_deg: Any,
        node_height_m: float,
    ) -> _AtPoints:
        la = np.ascontiguousarray(lat_deg, dtype=np.float64)
        lo = np.ascontiguousarray(lon_deg, dtype=np.float64)
        key = self._points_key(antenna, frequency_mhz, direction, la, lo, node_height_m)
        hit = self._at_points.get(key)
        if hit is None:
            near = self._near(antenna, la, lo)
            idx = np.flatnonzero(near.ravel())
            vals = np.zeros(0)
            if idx.size:
                vals = path_loss_at_points(
                    self.terrain, (antenna.lat_deg, antenna.lon_deg), self.radius_m, la[near],
                    lo[near], h_tx_m=antenna.height_m, h_rx_m=node_height_m,
                    frequency_mhz=key[1], direction=key[2], **self._points_options(),
                )  # fmt: skip
            hit = self._at_points[key] = _AtPoints(
                la.shape, _frozen(idx), _frozen(np.asarray(vals, np.float64))
            )
        return hit

    def point_loss_db(self, tx: Antenna, rx: Antenna, frequency_mhz: float) -> float:
        """Loss [dB] from ``tx`` to ``rx`` on their geodesic profile; inf beyond the radius.

        ITM runs on the profile at the engine's step (exact mode's computation); a path shorter
        than one step gets a two-point profile one step long, as map nodes next to a site do.
        A loss ITM cannot give (NaN far outside its range) is taken as no coupling (inf).
        """
        key = (tuple(tx), tuple(rx), round(float(frequency_mhz), 6))
        if key in self._points:
            return self._points[key]
        _, dist = azimuth_distance(tx.lat_deg, tx.lon_deg, rx.lat_deg, rx.lon_deg)
        d = float(dist)
        step = self.step_m or min(self.terrain.resolution_m)
        if d > self.radius_m:
            value = math.inf
        elif self.model is PropagationModel.FREE_SPACE:
            from yalu.propagation.free_space import free_space_loss_db

            value = float(free_space_loss_db(max(d, step), frequency_mhz))
        elif self.model is PropagationModel.HATA:
            from yalu.propagation.hata import hata_loss_db

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # outside Hata's 1-20 km on purpose, as maps
                value = float(
                    hata_loss_db(
                        max(d, step), frequency_mhz, tx.height_m, rx.height_m, self.hata_environment
                    )
                )
        elif self.model is PropagationModel.P1812:
            value = self._p1812_point(tx, rx, d, step, frequency_mhz)
        else:
            from yalu.propagation import itm

            if d < step:
                z = self.terrain.elevation_m([tx.lat_deg, rx.lat_deg], [tx.lon_deg, rx.lon_deg])
                elev, step_used = np.nan_to_num(np.asarray(z, float)), step
            else:
                p = profile(self.terrain, (tx.lat_deg, tx.lon_deg), (rx.lat_deg, rx.lon_deg), step)
                elev, step_used = p.elevation_m, p.step_m
            res = itm.p2p(
                elev,
                step_used,
                tx.height_m,
                rx.height_m,
                frequency_mhz,
                **dataclasses.asdict(self.itm),
            )
            value = float(res.loss_db)
        if not math.isfinite(value):
            value = math.inf
        self._points[key] = value
        return value

    def _p1812_point(self, tx: Antenna, rx: Antenna, d: float, step: float, f: float) -> float:
        """P.1812-8 on the geodesic profile, sampled as the engine's P.1812 maps sample it."""
        from yalu.propagation import p1812

        o = self.p1812
        if d < step:
            # as map nodes next to a site: 2 intervals of step / 2 between the ground heights
            z = self.terrain.elevation_m([tx.lat_deg, rx.lat_deg], [tx.lon_deg, rx.lon_deg])
            z0, z1 = np.nan_to_num(np.asarray(z, float))
            elev = np.array([z0, 0.5 * (z0 + z1), z1])
            dist_km = np.array([0.0, 0.5, 1.0]) * step / 1000.0
            phi = 0.5 * (tx.lat_deg + rx.lat_deg)
            pts_lat = np.array([tx.lat_deg, tx.lat_deg, rx.lat_deg])
            pts_lon = np.array([tx.lon_deg, tx.lon_deg, rx.lon_deg])
        else:
            n = max(2, round(d / step))
            p = profile(self.terrain, (tx.lat_deg, tx.lon_deg), (rx.lat_deg, rx.lon_deg), d / n)
            elev, dist_km = p.elevation_m, p.distance_m / 1000.0
            k = elev.shape[0] - 1
            phi = float(p.lat_deg[k // 2] if k % 2 == 0
                        else 0.5 * (p.lat_deg[k // 2] + p.lat_deg[k // 2 + 1]))  # fmt: skip
            pts_lat, pts_lon = p.lat_deg, p.lon_deg
        clutter: Any = o.clutter_height_m
        if self.landcover is not None:
            from yalu.landcover.classes import clutter_for_codes

            _t, r = clutter_for_codes(self.landcover.codes_at(pts_lat, pts_lon),
                                      which="p1812_height_m")  # fmt: skip
            clutter = np.where(np.isfinite(r), r, o.clutter_height_m)
        res = p1812.basic_transmission_loss(
            dist_km, elev, frequency_mhz=f, time_pct=o.time_pct, h_tx_m=tx.height_m,
            h_rx_m=rx.height_m, path_center_lat_deg=phi, clutter_height_m=clutter,
            zone=o.zone, polarization=o.polarization, delta_n=o.delta_n, n0=o.n0,
            location_pct=o.location_pct, location_sigma_db=o.location_sigma_db,
        )  # fmt: skip
        return float(res.loss_db)
