"""Path-loss maps around a site: the public face of the coverage engine.

:func:`path_loss_map` computes the basic transmission loss [dB] from one site to every node of a
lat/lon raster within a radius. The unit of work, one site on one tile of nodes, is
:func:`tile_job` applied to a frozen :class:`TileSpec` (arrays and numbers only, picklable), so
that a distributed scheduler can run tiles without any change here. The engine reads terrain
through a :class:`yalu.terrain.Terrain` (or an in-memory :class:`yalu.terrain.TerrainWindow`) and
knows nothing about files.

Modes
-----
``exact``
    Every node gets ITM point-to-point (``yalu.propagation.itm``, NTIA ITM v1.4) on its own WGS84
    geodesic profile from the site, sampled every ``step_m`` (``n = max(1, round(L / step_m))``
    intervals of ``L / n``), terrain interpolated bilinearly: the same profile that
    :func:`yalu.geodesy.profile` extracts (positions agree within 0.1 mm; lengths, hence
    steps, are pyproj's own, because ITM's window edges such as ``0.9 d_hzn`` can fall exactly
    on a sample, where a length differing in the 12th digit moves the loss by hundredths of a
    dB). Profiles and terrain sampling are compiled code; several frequencies and both
    directions of one site share each node's profile and ITM geometry
    (:func:`tile_job_multi`, :func:`path_loss_maps`).
``hybrid``
    Every node gets ITM point-to-point on its own composite profile: the nearest of many radial
    profiles from the site (arcs between radials at most half a step at the radius, radial
    samples every step, shared by every node) up to about ``own_m`` (2 km) from the node, then
    the node's own path, sampled where exact mode samples it. The lateral offset between a
    node's path and its radial grows from zero at the site to at most a quarter of a step, and
    the terrain near the node, where a handset's horizon and ground height are decided, is the
    node's own. Radials cost per radial and exact profiles per node, so hybrid mode pays off on
    dense grids (native resolution) and at dense scattered points (population samples); a map
    whose grid nodes lie ``HybridSettings.exact_grid_steps`` (6) profile steps apart or more is
    computed in exact mode, which is cheaper there and hybrid's reference. ITM's profile
    analysis of that profile costs O(1) per node for its radial part: horizons are tangents to
    the radial's prefix upper hulls, the mean path height and least-squares fits come from its
    prefix sums; delta_h (a statistic of the whole path) is ITM's on every 8th radial every 8
    samples, interpolated in azimuth and distance (``HybridSettings.dh_every = 0``: on each
    node's composite profile, ~3x the cost). Measured
    against exact mode on rough terrain by ``benchmarks/bench_fast_mode_roughness.py`` and
    ``benchmarks/bench_coverage.py`` (README).
``fast`` (default)
    Radial sweeps with incremental horizons, O(1) least-squares fits from prefix sums, delta_h on
    a coarse set of distances and azimuths, ITM at a subset of distances and the excess loss over
    free space interpolated (see :mod:`yalu.coverage._kernels`).

    Fast mode's error against exact mode is measured, not assumed: ``benchmarks/bench_coverage.py``
    (bench terrain) and ``benchmarks/bench_fast_mode_roughness.py`` (with fractal roughness, or
    on the synthetic border terrain) report its median and percentiles; the README quotes them.
    The error grows on terrain that is rough at the scale of one node, because nodes share
    radial profiles instead of having their own; denser sampling does not cure that. Fast mode
    is therefore a screening tool on real 1"/3" DEMs; single-node answers and scenarios use
    exact mode (the scenario runner's default).

Both modes are deterministic: the output is bit-identical across runs and thread counts.

ITU-R P.1812-8
--------------
``model="p1812"`` evaluates :mod:`yalu.propagation.p1812` on every node's own profile, sampled as
in exact mode (at least 2 intervals; nodes closer than ``min_distance_m`` get a 2-interval
profile of that length between the two ground heights), with the path-centre latitude of the
profile's middle point. It has no fast mode. Without land cover every profile point carries the
same representative clutter height and radio-climatic zone (:class:`P1812Options`, default open
inland ground: R = 0 m, zone 4). ``direction="reverse"`` evaluates the reversed profile with the
node as transmitter.

Direction
---------
``direction="forward"`` makes the site ITM's terminal 1 (transmitter, height ``h_tx_m``) and each
node terminal 2 (height ``h_rx_m``); ``"reverse"`` makes each node terminal 1 (height ``h_rx_m``,
e.g. a handset on the uplink) and the site terminal 2 (height ``h_tx_m``). ``h_tx_m`` is always
the site's antenna, ``h_rx_m`` always the nodes'. Exact reverse is ITM on the site-to-node
profile reversed, which is the node-to-site geodesic profile. ITM's profile analysis (QuickPfl)
treats both ends alike, so that geometry is the forward one mirrored up to rounding (1e-11
relative), and exact mode takes it so, except where one of its discrete choices (a horizon near
tie, a window end on a whole sample, the line-of-sight test, delta_h's sample count) lies within
rounding of its threshold: there rounding may flip the choice and move the loss by up to a few
dB, so the reversed profile itself is evaluated
(:func:`yalu.propagation.itm_kernels.profile_geometry_mirrors`). Hybrid mode shares its
geometry between directions the same way. Fast reverse uses the same radial sweeps (the
horizons are physical and do not depend on the direction) and evaluates the least-squares
terrain fits and delta_h on the reversed profile. At one frequency ITM is thus reciprocal except
at those thresholds; the README gives the measured difference. Hata and free space give the same
map in both directions.

The node at the site, and any node closer than ``min_distance_m`` (default: one step), gets ITM on
a two-point profile of length ``min_distance_m`` between the site's and the node's ground heights:
a finite value close to the free-space loss at that distance, not NaN.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import functools
import math
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numba
import numpy as np

from yalu.errors import ParameterError, YaluWarning, check_range, parse_choice
from yalu.geodesy.grid import Grid, grid_around, metres_per_degree

__all__ = [
    "PropagationModel",
    "MapMode",
    "Direction",
    "ITMOptions",
    "P1812Options",
    "FastSettings",
    "HybridSettings",
    "TileSpec",
    "tile_job",
    "tile_job_multi",
    "path_loss_maps",
    "make_tile_spec",
    "map_attrs",
    "hybrid_map_is_exact",
    "coerce_itm_options",
    "numba_threads",
    "path_loss_map",
    "path_loss_at_points",
    "path_loss_at_points_multi",
]

ProgressFn = Callable[[int, int], None]


class PropagationModel(enum.StrEnum):
    """Propagation model of a map."""

    ITM = "itm"
    P1812 = "p1812"
    HATA = "hata"
    FREE_SPACE = "free-space"


class MapMode(enum.StrEnum):
    """How ITM maps are computed (see module doc)."""

    FAST = "fast"
    EXACT = "exact"
    HYBRID = "hybrid"


class Direction(enum.StrEnum):
    """Which end of each path is ITM's transmitter (terminal 1).

    ``forward``: the site transmits to every node (downlink, broadcast, jammer maps);
    ``reverse``: every node transmits to the site (uplink). At one frequency ITM is reciprocal
    except where a discrete choice of its profile analysis (a horizon near tie, a window end on
    a whole sample, delta_h's sample count) sits within rounding of its threshold; exact mode
    mirrors the forward geometry elsewhere and evaluates the reversed profile there (module
    doc, "Direction").
    """

    FORWARD = "forward"
    REVERSE = "reverse"


@dataclass(frozen=True)
class ITMOptions:
    """ITM parameters besides heights and frequency (defaults: SPLAT!'s benchmark job).

    Parameters
    ----------
    climate : int
        Radio climate 1..7 (5 continental temperate).
    n0 : float
        Surface refractivity at sea level [N-units], 250..400.
    polarization : int
        0 horizontal, 1 vertical.
    epsilon : float
        Relative permittivity of the ground.
    sigma : float
        Ground conductivity [S/m].
    mdvar : int
        Mode of variability (ITM), default 12: mobile without location variability, as SPLAT!.
    time_pct, location_pct, situation_pct : float
        Quantiles [%].
    """

    climate: int = 5
    n0: float = 301.0
    polarization: int = 1
    epsilon: float = 15.0
    sigma: float = 0.005
    mdvar: int = 12
    time_pct: float = 50.0
    location_pct: float = 50.0
    situation_pct: float = 50.0


@dataclass(frozen=True)
class P1812Options:
    """ITU-R P.1812-8 parameters of a map (``model="p1812"``; see :mod:`yalu.propagation.p1812`).

    Without land cover, every profile point gets the same representative clutter height and
    radio-climatic zone. The default is open inland ground (R = 0 m, zone 4): P.1812 adds R to
    the terrain at every point between the terminals, and with R above the handset's antenna the
    loss depends on how close to the handset the first profile point falls (i.e. on
    ``step_m``), because the clutter then acts as an obstacle right next to the antenna.

    Parameters
    ----------
    time_pct : float
        Percentage of time the loss is not exceeded, 1 to 50.
    location_pct : float
        Percentage of locations, 1 to 99.
    location_sigma_db : float
        Location variability standard deviation [dB] (§4.7), >= 0.
    polarization : int
        0 horizontal, 1 vertical.
    delta_n : float
        Average refractivity lapse rate [N-units/km] (DN50 map value), in (0, 157).
    n0 : float
        Sea-level surface refractivity [N-units] (N050 map value), 150 to 500.
    clutter_height_m : float
        Representative clutter height R [m] at every profile point, >= 0.
    zone : int
        Radio-climatic zone of every point: 1 sea, 3 coastal land, 4 inland.
    """

    time_pct: float = 50.0
    location_pct: float = 50.0
    location_sigma_db: float = 0.0
    polarization: int = 1
    delta_n: float = 45.0
    n0: float = 325.0
    clutter_height_m: float = 0.0
    zone: int = 4


def check_p1812_options(o: P1812Options, frequency_mhz: float, h_tx_m: float,
                        h_rx_m: float) -> None:  # fmt: skip
    """Raise :class:`ParameterError` (naming the field) unless a P.1812 map can use ``o``."""
    check_range("frequency_mhz", frequency_mhz, 30.0, 6000.0)
    check_range("h_tx_m", h_tx_m, 1.0, 3000.0)
    check_range("h_rx_m", h_rx_m, 1.0, 3000.0)
    check_range("p1812.time_pct", o.time_pct, 1.0, 50.0)
    check_range("p1812.location_pct", o.location_pct, 1.0, 99.0)
    check_range("p1812.location_sigma_db", o.location_sigma_db, 0.0, None)
    if o.polarization not in (0, 1):
        raise ParameterError("p1812.polarization", o.polarization, "0 (horizontal) or 1 (vertical)")
    check_range("p1812.delta_n", o.delta_n, 0.0, 157.0, lo_inclusive=False, hi_inclusive=False)
    check_range("p1812.n0", o.n0, 150.0, 500.0)
    check_range("p1812.clutter_height_m", o.clutter_height_m, 0.0, 1000.0)
    if o.zone not in (1, 3, 4):
        raise ParameterError("p1812.zone", o.zone, "1 (sea), 3 (coastal land) or 4 (inland)")


@dataclass(frozen=True)
class FastSettings:
    """Knobs of fast mode (defaults give the accuracy stated in the package docs).

    Parameters
    ----------
    arc_px : float
        Largest arc between neighbouring radials, in terrain node spacings (the smaller of the
        two spacings in metres); on coarser output grids, half a grid spacing.
    kstep : int
        ITM is evaluated at every ``kstep``-th sample along a radial (and where the horizon
        geometry changes, when ``refine``).
    kdh : int
        delta_h is computed every ``kdh`` samples and interpolated.
    refine : bool
        Evaluate every sample between two evaluations whose horizon samples differ.
    k_exact : int
        Nodes closer than ``k_exact`` steps to the site are computed exactly.
    jump : int
        With ``refine``, a horizon that moves by more than ``jump`` samples between two end
        samples counts as an abrupt change (evaluated on both sides).
    tol_db : float
        With ``refine``, a gap between two evaluations whose excess losses differ by more than
        this [dB] is bisected (0: never).
    dh_every : int
        delta_h is computed on every ``dh_every``-th radial (a power of 2) and interpolated in
        azimuth between them.
    """

    arc_px: float = 2.0
    kstep: int = 4
    kdh: int = 16
    refine: bool = True
    k_exact: int = 8
    dh_every: int = 8
    jump: int = 2
    tol_db: float = 0.0


@dataclass(frozen=True)
class HybridSettings:
    """Knobs of hybrid mode (see the module doc; defaults give the accuracy stated in the
    README).

    Parameters
    ----------
    arc_steps : float
        Largest arc between neighbouring radials, at the farthest node, in profile steps
        (``step_m``); a node is at most half of it from its radial.
    radial_step_steps : float
        Spacing of the samples along each radial, in profile steps. One step (the default)
        samples the terrain near the site where exact mode samples it; finer radials see detail
        exact mode's profile does not, and near the site a sample of it can become a horizon.
    own_m : float
        Length [m] of the part of each node's profile, next to the node, sampled on the node's
        own path.
    dh_every, kdh : int
        delta_h (ITM's terrain irregularity) is computed on every ``dh_every``-th radial, for the
        paths ending every ``kdh`` radial samples, and interpolated linearly in azimuth and
        distance; ``dh_every = 0`` computes it on each node's own composite profile (~3x the
        cost of a node).
    exact_grid_steps : float
        A map whose grid nodes lie at least this many profile steps apart (the smaller of its
        north-south and east-west spacings at the site, over ``step_m``) is computed in exact
        mode: its nodes then need a radial each, and the radials cost more than the profiles
        they replace (measured on the synthetic border terrain, 3" data, 100 km, six maps of
        one antenna: 30" grid, 10 steps, exact 0.61 s, hybrid 1.27 s; 20" grid at 60 km, 6.7
        steps, 0.38 / 0.57 s; 15", 5 steps, 2.35 / 2.01 s). Exact is hybrid's reference, so
        such a map is within hybrid's tolerance with no error at all. It depends on the grid's
        spacing alone, so every tile of a map gets the same choice. Scattered points (the
        population samples) are always hybrid. 0: never.
    """

    arc_steps: float = 0.5
    radial_step_steps: float = 1.0
    own_m: float = 2000.0
    dh_every: int = 8
    kdh: int = 8
    exact_grid_steps: float = 6.0

    def __post_init__(self) -> None:
        check_range("arc_steps", self.arc_steps, 0.01, 100.0)
        check_range("radial_step_steps", self.radial_step_steps, 0.01, 10.0)
        check_range("own_m", self.own_m, 0.0, 1e6)
        check_range("exact_grid_steps", self.exact_grid_steps, 0.0, 1e6)
        for name in ("dh_every", "kdh"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 1024:
                raise ParameterError(name, v, "an integer from 0 to 1024")
        if self.kdh == 0 and self.dh_every > 0:
            raise ParameterError("kdh", self.kdh, "an integer from 1 to 1024 when dh_every > 0")


@dataclass(frozen=True, eq=False)
class TileSpec:
    """Everything one tile job needs: arrays and numbers only (picklable).

    ``elevation_m`` is a point-registered terrain window (row 0 north) that holds every profile
    from the site to the tile's nodes within ``radius_m``.
    """

    elevation_m: np.ndarray
    terrain_north_deg: float
    terrain_west_deg: float
    terrain_dlat_deg: float
    terrain_dlon_deg: float
    site_lat_deg: float
    site_lon_deg: float
    grid: Grid
    radius_m: float
    h_tx_m: float
    h_rx_m: float
    frequency_mhz: float
    model: str = "itm"
    mode: str = "fast"
    itm: ITMOptions = field(default_factory=ITMOptions)
    step_m: float = 90.0
    min_distance_m: float = 90.0
    hata_environment: str = "urban"
    fast: FastSettings = field(default_factory=FastSettings)
    direction: str = "forward"
    p1812: P1812Options = field(default_factory=P1812Options)
    #: P.1812 representative clutter height R [m] at each node of the terrain window (land
    #: cover, nearest node); empty: ``p1812.clutter_height_m`` everywhere.
    clutter_m: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    hybrid: HybridSettings = field(default_factory=HybridSettings)


# ---------------------------------------------------------------------------------------------
# helpers


#: held around the engine's parallel kernels when numba's threading layer cannot take launches
#: from two threads at once (see :func:`_kernel_guard`)
_KERNEL_LOCK = threading.RLock()


@functools.cache
def _threadsafe_layer() -> bool:
    """Whether numba's threading layer runs parallel kernels launched from several threads at
    once (``tbb``, ``omp``). ``workqueue`` aborts the process when two threads launch one at
    once; its first launch (a trivial kernel) picks the layer."""
    from yalu.coverage import _kernels as k

    k.launch_probe(np.zeros(2))
    return str(numba.threading_layer()) != "workqueue"


@contextlib.contextmanager
def _kernel_guard() -> Iterator[None]:
    """Around a call of the engine's parallel kernels. They release the GIL (``nogil``), so
    threads that share a process (a Dask worker's event loop, its other task threads) run
    beside them; with numba's ``workqueue`` layer, which cannot take two launches at once,
    one call runs at a time in the process, as the GIL made them before."""
    if _threadsafe_layer():
        yield
        return
    with _KERNEL_LOCK:
        yield


@contextlib.contextmanager
def numba_threads(n: int | None) -> Iterator[None]:
    """Run the enclosed numba kernels on ``n`` threads (None: numba's setting, all cores).

    ``n`` above the number numba started with is reduced to it, with a
    :class:`~yalu.errors.YaluWarning` saying so; the previous setting is restored on exit.

    Raises
    ------
    yalu.errors.ParameterError
        If ``n`` is not an integer >= 1.
    """
    if n is None:
        yield
        return
    n_max = int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
    if int(n) != n or n < 1:
        raise ParameterError("threads", n, f"an integer from 1 to {n_max}")
    if n > n_max:
        # stated, not silent: more threads than cores would only add overhead
        warnings.warn(
            f"threads = {n}: this machine runs {n_max} threads at most; using {n_max}",
            YaluWarning,
            stacklevel=3,
        )
        n = n_max
    n = int(n)
    old = numba.get_num_threads()
    numba.set_num_threads(n)
    try:
        yield
    finally:
        numba.set_num_threads(old)


def _itm_vector(spec: TileSpec) -> np.ndarray:
    from yalu.coverage import _kernels as k

    o = spec.itm
    p = np.empty(k.P_LEN)
    p[k.P_H_TX] = spec.h_tx_m
    p[k.P_H_RX] = spec.h_rx_m
    p[k.P_F_MHZ] = spec.frequency_mhz
    p[k.P_N0] = o.n0
    p[k.P_EPS] = o.epsilon
    p[k.P_SIGMA] = o.sigma
    p[k.P_TIME] = o.time_pct
    p[k.P_LOC] = o.location_pct
    p[k.P_SIT] = o.situation_pct
    p[k.P_CLIMATE] = o.climate
    p[k.P_POL] = o.polarization
    p[k.P_MDVAR] = o.mdvar
    p[k.P_REV] = 1.0 if spec.direction == Direction.REVERSE.value else 0.0
    return p


def _p1812_vector(spec: TileSpec) -> np.ndarray:
    from yalu.coverage import _kernels as k

    o = spec.p1812
    check_p1812_options(o, spec.frequency_mhz, spec.h_tx_m, spec.h_rx_m)
    q = np.empty(k.Q_LEN)
    q[k.Q_H_TX] = spec.h_tx_m
    q[k.Q_H_RX] = spec.h_rx_m
    q[k.Q_F_GHZ] = spec.frequency_mhz / 1000.0
    q[k.Q_TIME] = o.time_pct
    q[k.Q_VERTICAL] = o.polarization
    q[k.Q_DELTA_N] = o.delta_n
    q[k.Q_N0] = o.n0
    q[k.Q_LOC] = o.location_pct
    q[k.Q_SIGMA_L] = o.location_sigma_db
    q[k.Q_CLUTTER] = o.clutter_height_m
    q[k.Q_ZONE] = o.zone
    q[k.Q_REV] = 1.0 if spec.direction == Direction.REVERSE.value else 0.0
    return q


def _check_itm(spec: TileSpec, p: np.ndarray) -> None:
    from yalu.coverage import _kernels as k
    from yalu.propagation.itm import error_for_code

    rtn, _warn = k.check_itm_params(p)
    if rtn >= 1000:
        o = spec.itm
        raise error_for_code(
            int(rtn),
            {
                "h_tx_m": spec.h_tx_m,
                "h_rx_m": spec.h_rx_m,
                "climate": o.climate,
                "n0": o.n0,
                "frequency_mhz": spec.frequency_mhz,
                "polarization": o.polarization,
                "epsilon": o.epsilon,
                "sigma": o.sigma,
                "mdvar": o.mdvar,
                "time_pct": o.time_pct,
                "location_pct": o.location_pct,
                "situation_pct": o.situation_pct,
            },
        )


def _elevation(spec: TileSpec) -> np.ndarray:
    e = spec.elevation_m
    if e.dtype not in (np.float32, np.float64) or not e.flags.c_contiguous:
        e = np.ascontiguousarray(e, dtype=np.float64)
    return e


def hybrid_map_is_exact(spec: TileSpec) -> bool:
    """Whether hybrid mode computes the map of ``spec`` in exact mode: its grid's nodes lie at
    least ``spec.hybrid.exact_grid_steps`` profile steps apart (:class:`HybridSettings`)."""
    steps = spec.hybrid.exact_grid_steps
    if steps <= 0.0:
        return False
    g = spec.grid
    m_lat, m_lon = metres_per_degree(spec.site_lat_deg)
    spacing_m = min(abs(g.dlat_deg) * m_lat, abs(g.dlon_deg) * m_lon)
    return bool(spacing_m >= steps * spec.step_m)


def _chunks(n: int, size: int) -> list[tuple[int, int]]:
    return [(a, min(n, a + size)) for a in range(0, n, size)]


# ---------------------------------------------------------------------------------------------
# the unit of work


def tile_job(spec: TileSpec, progress: ProgressFn | None = None) -> np.ndarray:
    """Loss [dB] at every node of ``spec.grid`` (float32, NaN beyond ``radius_m``).

    A pure function of ``spec``: the same spec gives the same bits on any machine thread count.
    """
    model = parse_choice(PropagationModel, spec.model, "model")
    mode = parse_choice(MapMode, spec.mode, "mode")
    parse_choice(Direction, spec.direction, "direction")
    g = spec.grid
    if model is PropagationModel.P1812:
        return _exact(spec, _elevation(spec), _p1812_vector(spec)[None, :], progress, p1812=True)[0]
    if model is not PropagationModel.ITM:
        return _distance_model(spec, model)
    p = _itm_vector(spec)
    _check_itm(spec, p)
    elev = _elevation(spec)
    if mode is MapMode.EXACT:
        return _exact(spec, elev, p[None, :], progress)[0]
    if mode is MapMode.HYBRID and not hybrid_map_is_exact(spec):
        return _hybrid(spec, elev, p[None, :], progress)[0]
    if mode is MapMode.HYBRID:
        return _exact(spec, elev, p[None, :], progress)[0]
    split = _site_inside(spec)
    if split is None or _polar_bytes(spec) <= _POLAR_WHOLE_BYTES:
        return _fast(spec, elev, p, progress)
    # one azimuth sector per quadrant around the site: a quarter of the radial store in memory
    r, c = split
    out = np.empty(g.shape, dtype=np.float32)
    quads = [(0, r + 1, 0, c + 1), (0, r + 1, c + 1, g.n_cols),
             (r + 1, g.n_rows, 0, c + 1), (r + 1, g.n_rows, c + 1, g.n_cols)]  # fmt: skip
    for q, (r0, r1, c0, c1) in enumerate(quads):
        sub = dataclasses.replace(spec, grid=g.subgrid(r0, c0, r1 - r0, c1 - c0))
        sub_prog = None
        if progress is not None:

            def sub_prog(done: int, total: int, q: int = q) -> None:
                # monotone over the four quadrants, in thousandths
                progress(int(250 * q + 250 * done / max(total, 1)), 1000)

        out[r0:r1, c0:c1] = _fast(sub, elev, p, sub_prog)
    return out


def _job_pairs(frequencies_mhz: Any, directions: Any) -> list[tuple[float, str]]:
    """(frequency, direction) pairs, directions outer, validated."""
    freqs = np.atleast_1d(np.asarray(frequencies_mhz, dtype=np.float64))
    if freqs.ndim != 1 or freqs.size == 0:
        raise ParameterError("frequencies_mhz", frequencies_mhz, "a non-empty list of frequencies")
    if isinstance(directions, str | Direction):
        directions = [directions]
    dirs = [parse_choice(Direction, d, "directions") for d in directions]
    if not dirs:
        raise ParameterError("directions", directions, "a non-empty list of 'forward'/'reverse'")
    return [(float(f), d.value) for d in dirs for f in freqs]


def _check_jobs(jobs: Any) -> list[tuple[float, str, float | None]]:
    """Validated (frequency_mhz, direction, h_tx_m) jobs; ``h_tx_m`` None (a pair was given):
    the spec's antenna height."""
    what = "a list of (frequency_mhz, direction) pairs or (frequency_mhz, direction, h_tx_m)"
    try:
        raw = [tuple(j) for j in jobs]
        if any(len(j) not in (2, 3) for j in raw):
            raise ValueError
        triples = [(float(j[0]), j[1], None if len(j) == 2 or j[2] is None else float(j[2]))
                   for j in raw]  # fmt: skip
    except (TypeError, ValueError):
        raise ParameterError("jobs", jobs, what) from None
    if not triples:
        raise ParameterError("jobs", jobs, f"non-empty: {what}")
    out = []
    for f, d, h in triples:
        check_range("frequencies_mhz", f, 20.0, 20000.0)
        if h is not None:
            check_range("h_tx_m", h, 0.5, 3000.0)
        out.append((f, parse_choice(Direction, d, "directions").value, h))
    return out


def _job_specs(spec: TileSpec, jobs: Any) -> list[TileSpec]:
    """One spec per (frequency_mhz, direction[, h_tx_m]) job."""
    return [
        dataclasses.replace(spec, frequency_mhz=f, direction=d,
                            h_tx_m=spec.h_tx_m if h is None else h)
        for f, d, h in _check_jobs(jobs)
    ]  # fmt: skip


def _job_order(specs: list[TileSpec]) -> list[int]:
    """Jobs of the same antenna height next to each other, forward before reverse: the
    kernels compute ITM's geometry once per run of them, and a reverse job mostly mirrors the
    forward geometry (any order gives the same bits)."""
    return sorted(range(len(specs)), key=lambda i: (specs[i].h_tx_m, specs[i].direction))


def _scatter_rows(a: np.ndarray, order: Sequence[int]) -> None:
    """Move ``a[k]`` to ``a[order[k]]`` for every k (``order`` a permutation) in place,
    with one row of extra memory: each cycle of the permutation is followed once."""
    o = np.asarray(order, dtype=np.intp)
    n = len(a)
    if o.shape != (n,) or not np.array_equal(np.sort(o), np.arange(n)):
        raise ParameterError("order", list(order), f"a permutation of 0..{n - 1}")
    src = np.empty(n, dtype=np.intp)  # row j comes from row src[j]
    src[o] = np.arange(n)
    seen = np.zeros(n, dtype=bool)
    for j0 in range(n):
        if seen[j0] or src[j0] == j0:
            seen[j0] = True
            continue
        first = a[j0].copy()
        j = j0
        seen[j] = True
        while src[j] != j0:
            a[j] = a[src[j]]
            j = int(src[j])
            seen[j] = True
        a[j] = first


def tile_job_multi(spec: TileSpec, jobs: Any, progress: ProgressFn | None = None) -> np.ndarray:
    """Loss [dB] at every node of ``spec.grid`` for several (frequency, direction) jobs at once.

    Parameters
    ----------
    spec : TileSpec
        The site, grid and options; its ``frequency_mhz`` and ``direction`` are ignored.
    jobs : sequence of (frequency_mhz, direction) or (frequency_mhz, direction, h_tx_m)
        Carrier frequency [MHz] and ``"forward"``/``"reverse"`` of each map, and optionally
        the antenna height [m] (default ``spec.h_tx_m``): maps of one antenna position at
        several heights share each node's profile.

    Returns
    -------
    numpy.ndarray
        float32 ``(len(jobs), n_rows, n_cols)``: map ``i`` equals, bit for bit,
        ``tile_job(spec)`` with job ``i``'s frequency and direction.

    Exact ITM builds each node's profile once and computes ITM's frequency-independent geometry
    (horizons, effective heights, delta_h) once per antenna height, then the attenuation at
    every frequency; the reverse direction takes that geometry mirrored, or walks the same
    profile the other way where a discrete choice of the profile analysis is within rounding of
    its threshold (module doc, "Direction"). Fast mode, Hata and free space share the terrain
    window and run one sweep per map.
    """
    specs = _job_specs(spec, jobs)
    model = parse_choice(PropagationModel, spec.model, "model")
    mode = parse_choice(MapMode, spec.mode, "mode")
    g = spec.grid
    if model is PropagationModel.ITM and mode in (MapMode.EXACT, MapMode.HYBRID):
        order = _job_order(specs)
        vec = np.stack([_itm_vector(specs[i]) for i in order])
        for i, row in zip(order, vec, strict=True):
            _check_itm(specs[i], row)
        run = _hybrid if mode is MapMode.HYBRID and not hybrid_map_is_exact(spec) else _exact
        res = run(spec, _elevation(spec), vec, progress)
        # into the callers' order in place: a second stack of maps would double this
        # antenna's whole window of maps at the peak of the path-loss phase
        _scatter_rows(res, order)
        return res
    out = np.empty((len(specs), *g.shape), dtype=np.float32)
    for i, s in enumerate(specs):
        sub_prog = None
        if progress is not None:

            def sub_prog(done: int, total: int, i: int = i) -> None:
                progress(int(1000 * i + 1000 * done / max(total, 1)), 1000 * len(specs))

        out[i] = tile_job(s, sub_prog)
    return out


def _node_geodesics(
    spec: TileSpec, lat: np.ndarray, lon: np.ndarray, pyproj: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 geodesic length [m] and initial azimuth [rad] from the site.

    ``pyproj``: Karney 2013 through pyproj, bit for bit what :mod:`yalu.geodesy` gives (exact
    mode: ITM's profile analysis can jump by a few hundredths of a dB when a window edge falls
    exactly on a sample, so exact mode must use the very same distances). Otherwise Vincenty
    1975 in numba (sub-millimetre against pyproj, tests/coverage/test_geodesic.py), which spares
    fast mode the pyproj import.
    """
    if pyproj:
        return _pyproj_geodesics(spec.site_lat_deg, spec.site_lon_deg, lat, lon)
    from yalu.geodesy.kernels import inverse_many

    la = np.ascontiguousarray(lat, dtype=np.float64).ravel()
    lo = np.ascontiguousarray(lon, dtype=np.float64).ravel()
    dist = np.empty(la.shape)
    az = np.empty(la.shape)
    inverse_many(spec.site_lat_deg, spec.site_lon_deg, la, lo, dist, az)
    return dist.reshape(np.shape(lat)), az.reshape(np.shape(lat))


#: nodes per thread below which pyproj's geodesics run in the calling thread alone
GEODESIC_THREAD_NODES = 8_192


def _pyproj_geodesics(lat0: float, lon0: float, lat: np.ndarray,
                      lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Karney's inverse through pyproj: length [m] and initial azimuth [rad] from (lat0, lon0)
    [deg], in parts on numba's current number of threads (pyproj releases the GIL; each
    value is computed alone, so the parts give the same bits as one call)."""
    from yalu.geodesy import WGS84

    la = np.asarray(lat, dtype=np.float64)
    lo = np.asarray(lon, dtype=np.float64)
    shape = np.broadcast_shapes(la.shape, lo.shape)
    la, lo = np.broadcast_to(la, shape).ravel(), np.broadcast_to(lo, shape).ravel()
    n = la.size
    parts = max(1, min(int(numba.get_num_threads()), n // GEODESIC_THREAD_NODES))
    d = np.empty(n)
    az = np.empty(n)

    def part(k: int) -> None:
        a, b = k * n // parts, (k + 1) * n // parts
        az_deg, _back, dist = WGS84.inv(np.full(b - a, lon0), np.full(b - a, lat0), lo[a:b],
                                        la[a:b])  # fmt: skip
        d[a:b] = dist
        az[a:b] = np.radians(np.asarray(az_deg, dtype=np.float64))

    if parts == 1:
        part(0)
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(parts) as pool:
            list(pool.map(part, range(parts)))
    return d.reshape(shape), az.reshape(shape)


def _row_nodes(g: Grid, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
    la, lo = np.meshgrid(g.lats()[a:b], g.lons(), indexing="ij")
    return la.ravel(), lo.ravel()


def _row_bands(g: Grid) -> list[tuple[int, int]]:
    return _chunks(g.n_rows, max(1, min(256, 400_000 // g.n_cols, g.n_rows // 20 or 1)))


def _distance_at(
    spec: TileSpec, model: PropagationModel, lat: np.ndarray, lon: np.ndarray
) -> np.ndarray:
    """Hata or free-space loss at nodes (NaN beyond the radius), float64."""
    dist, _az = _node_geodesics(spec, lat, lon)
    inside = dist <= spec.radius_m
    d = np.maximum(dist[inside], spec.min_distance_m)
    vals = np.full(lat.shape, np.nan)
    if model is PropagationModel.FREE_SPACE:
        from yalu.propagation.free_space import free_space_loss_db

        vals[inside] = free_space_loss_db(d, spec.frequency_mhz)
    else:
        import warnings

        from yalu.propagation.hata import hata_loss_db

        with warnings.catch_warnings():
            # the map spans distances outside Hata's 1-20 km on purpose (said in attrs)
            warnings.simplefilter("ignore")
            vals[inside] = hata_loss_db(
                d, spec.frequency_mhz, spec.h_tx_m, spec.h_rx_m, spec.hata_environment
            )
    return vals


def _distance_model(spec: TileSpec, model: PropagationModel) -> np.ndarray:
    g = spec.grid
    out = np.full(g.shape, np.nan, dtype=np.float32)
    for a, b in _row_bands(g):
        la, lo = _row_nodes(g, a, b)
        out[a:b] = _distance_at(spec, model, la, lo).reshape(b - a, g.n_cols)
    return out


def _exact_at(
    spec: TileSpec,
    elev: np.ndarray,
    jobs: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    pyproj: bool = True,
    p1812: bool = False,
) -> np.ndarray:
    """Exact-mode loss at nodes for every job (row of ``jobs``, a parameter vector), float64,
    shape ``(n_jobs,) + lat.shape``, NaN beyond the radius (``pyproj``: see
    :func:`_node_geodesics`); ``p1812``: ``jobs`` holds one row, the P.1812 vector, and P.1812
    is evaluated."""
    from yalu.coverage import _kernels as k

    dist, az = _node_geodesics(spec, lat, lon, pyproj)
    dist, az = dist.ravel(), az.ravel()
    vals = np.full((jobs.shape[0], lat.size), np.nan)
    idx = np.flatnonzero(dist <= spec.radius_m)
    if idx.size:
        # by azimuth: consecutive profiles then run along nearly the same ray and read the
        # same terrain from cache (a node's value does not depend on the order)
        idx = idx[np.argsort(az[idx], kind="stable")]
        n_max = int(math.ceil(float(dist[idx].max()) / spec.step_m)) + 2
        sub = np.empty((jobs.shape[0], idx.size))
        args = (
            elev, spec.terrain_north_deg, spec.terrain_west_deg, spec.terrain_dlat_deg,
            spec.terrain_dlon_deg, spec.site_lat_deg, spec.site_lon_deg,
            lat.ravel()[idx], lon.ravel()[idx], dist[idx], az[idx], spec.step_m,
            spec.min_distance_m,
        )  # fmt: skip
        if p1812:
            clutter = np.ascontiguousarray(spec.clutter_m, dtype=np.float64)
            with _kernel_guard():
                k.exact_nodes_p1812(*args, jobs[0], n_max, sub[0], clutter)
        else:
            with _kernel_guard():
                k.exact_nodes(*args, jobs, n_max, sub)
        vals[:, idx] = sub
    return vals.reshape(jobs.shape[0], *lat.shape)


# hybrid mode builds the radials of at most this many bytes (float32) at once; more are built
# and used by groups of neighbouring azimuths
_HYBRID_GROUP_BYTES = 64 * 2**20


def _hybrid_sets(
    spec: TileSpec,
    elev: np.ndarray,
    jobs: np.ndarray,
    sets: list[tuple[np.ndarray, np.ndarray]],
    put: Callable[[int, np.ndarray, np.ndarray], None],
    progress: ProgressFn | None = None,
) -> None:
    """Hybrid-mode loss at node sets ``sets[i] = (lat, lon)`` (1-D): ``put(i, index, values)``
    receives values ``(n_jobs, len(index))`` (float64, NaN beyond the radius) for the nodes
    ``index`` of set ``i``; every node of every set is put exactly once."""
    from yalu.coverage import _kernels as k
    from yalu.propagation.itm_kernels import effective_curvature, surface_refractivity

    hs = spec.hybrid
    arc = hs.arc_steps * spec.step_m
    r_step = hs.radial_step_steps * spec.step_m
    # Vincenty in numba (parallel); nodes computed as in exact mode (no radial part, or a
    # window with voids) get pyproj's lengths below, as exact mode uses
    geo = [_node_geodesics(spec, la, lo, pyproj=False) for la, lo in sets]
    # radials depend on the spec alone, so that a node's value does not depend on which other
    # nodes are computed with it (tiles, chunks of points, workers)
    n_az = max(8, math.ceil(2.0 * math.pi * spec.radius_m / arc))
    if hs.dh_every > 0:
        n_az = hs.dh_every * math.ceil(n_az / hs.dh_every)
    n_r = math.ceil(spec.radius_m / r_step) + 2
    # the radial of each node (as hybrid_nodes finds it); -1: no radial part
    js = []
    need = np.zeros(n_az, dtype=bool)
    for dist, az in geo:
        j = np.mod(np.floor(az / (2.0 * math.pi) * n_az + 0.5).astype(np.int64), n_az)
        j[~((dist <= spec.radius_m) & (dist > hs.own_m + r_step))] = -1
        need[j[j >= 0]] = True
        js.append(j)
    clean = _window_clean(elev)
    if not clean:
        need[:] = False  # hybrid_nodes computes every node of a window with voids exactly
        js = [np.full(j.shape, -1, dtype=np.int64) for j in js]
    for i, ((la, lo), j) in enumerate(zip(sets, js, strict=True)):
        ex = np.flatnonzero((j < 0) & (geo[i][0] <= spec.radius_m + 1.0))
        if ex.size:
            d_ex, az_ex = _node_geodesics(spec, la[ex], lo[ex])
            geo[i][0][ex] = d_ex
            geo[i][1][ex] = az_ex
    wanted = np.flatnonzero(need)
    sample = elev[::7, ::7]  # the mean height only sets the hulls' reference curvature
    h_mean = float(np.nanmean(sample)) if np.isfinite(sample).any() else 0.0
    gamma_ref = float(effective_curvature(surface_refractivity(spec.itm.n0, h_mean)))
    # delta_h table: every dh_every-th radial, both neighbours of every wanted radial
    pairs, job_h = np.unique(jobs[:, [k.P_H_TX, k.P_H_RX]], axis=0, return_inverse=True)
    job_h = np.ascontiguousarray(job_h.ravel(), dtype=np.int64)
    if hs.dh_every > 0 and wanted.size:
        n_tab = n_az // hs.dh_every
        t0 = wanted // hs.dh_every
        tabs = np.unique(np.concatenate([t0, (t0 + 1) % n_tab]))
        dh_slot = np.full(n_tab, -1, dtype=np.int64)
        dh_slot[tabs] = np.arange(tabs.size)
        n_t = n_r // hs.kdh + 2
        # only the entries next to a node (and one more each way): on coarse grids and at
        # scattered points most of a radial's distances have no node near them
        need_t = np.zeros((tabs.size, n_t), dtype=bool)
        for (dist, _az), j in zip(geo, js, strict=True):
            on = j >= 0
            t0 = j[on] // hs.dh_every
            i0 = np.minimum((dist[on] / (hs.kdh * r_step)).astype(np.int64), n_t - 2)
            for row in (dh_slot[t0], dh_slot[(t0 + 1) % n_tab]):
                for off in (-1, 0, 1, 2):
                    need_t[row, np.clip(i0 + off, 0, n_t - 1)] = True
        dh_tab = np.empty((tabs.size, pairs.shape[0], n_t))
        with _kernel_guard():
            k.hybrid_delta_h(
                elev, spec.terrain_north_deg, spec.terrain_west_deg, spec.terrain_dlat_deg,
                spec.terrain_dlon_deg, spec.site_lat_deg, spec.site_lon_deg, n_az,
                np.ascontiguousarray(tabs * hs.dh_every, dtype=np.int64), n_r, r_step, hs.kdh,
                gamma_ref, np.ascontiguousarray(pairs, dtype=np.float64), need_t, dh_tab,
            )  # fmt: skip
    else:
        dh_slot = np.zeros(1, dtype=np.int64)
        dh_tab = np.zeros((1, pairs.shape[0], 2))
    # per radial sample: height (float32), two prefix sums (float64), hull link (int32)
    per_group = max(1, _HYBRID_GROUP_BYTES // (24 * (n_r + 2)))
    groups = [wanted[a : a + per_group] for a in range(0, max(1, wanted.size), per_group)]
    n_jobs = jobs.shape[0]
    n_all = sum(int(d.size) for d, _a in geo)
    done_nodes = 0
    for gi, grp in enumerate(groups):
        slot = np.full(n_az, -1, dtype=np.int64)
        slot[grp] = np.arange(grp.size)
        rz = np.empty((grp.size, n_r + 1), dtype=np.float32)
        rs0 = np.empty((grp.size, n_r + 2))
        rs1 = np.empty((grp.size, n_r + 2))
        rpar = np.empty((grp.size, n_r + 1), dtype=np.int32)
        if grp.size:
            with _kernel_guard():
                k.hybrid_radials(
                    elev, spec.terrain_north_deg, spec.terrain_west_deg, spec.terrain_dlat_deg,
                    spec.terrain_dlon_deg, spec.site_lat_deg, spec.site_lon_deg, n_az,
                    np.ascontiguousarray(grp, dtype=np.int64), n_r, r_step, gamma_ref, rz, rs0,
                    rs1, rpar, _radial_extent(geo, js, slot, grp.size, spec, n_r, r_step),
                )  # fmt: skip
        for i, ((la, lo), (dist, az), j) in enumerate(zip(sets, geo, js, strict=True)):
            has = (j >= 0) & (slot[np.maximum(j, 0)] >= 0)
            # nodes without a radial part go with the first group
            idx = np.flatnonzero(has | (j < 0) if gi == 0 else has)
            if idx.size == 0:
                continue
            vals = np.full((n_jobs, idx.size), np.nan)
            inside = dist[idx] <= spec.radius_m
            if inside.any():
                q = idx[inside]
                # nodes by radial and distance: each radial's data is then read once, in order
                q = q[np.lexsort((dist[q], j[q]))]
                n_max = int(math.ceil(float(dist[q].max()) / spec.step_m)) + 2
                sub = np.empty((n_jobs, q.size))
                with _kernel_guard():
                    k.hybrid_nodes(
                        elev, spec.terrain_north_deg, spec.terrain_west_deg, spec.terrain_dlat_deg,
                        spec.terrain_dlon_deg, spec.site_lat_deg, spec.site_lon_deg,
                        np.ascontiguousarray(la[q]), np.ascontiguousarray(lo[q]),
                        np.ascontiguousarray(dist[q]), np.ascontiguousarray(az[q]),
                        spec.step_m, spec.min_distance_m, jobs, n_max, rz, rs0, rs1, rpar,
                        np.ascontiguousarray(np.where(j[q] >= 0, slot[np.maximum(j[q], 0)], -1)),
                        np.ascontiguousarray(np.maximum(j[q], 0)), r_step, gamma_ref, hs.own_m,
                        dh_tab, dh_slot, hs.dh_every, max(1, hs.kdh), job_h, clean, sub,
                    )  # fmt: skip
                pos = np.searchsorted(idx, q)  # idx is increasing
                vals[:, pos] = sub
            put(i, idx, vals)
            done_nodes += idx.size
            if progress is not None:
                progress(done_nodes, n_all)


#: radials are sampled only as far as their farthest node reads them (False: to the radius;
#: the same values either way, tested)
_HYBRID_RADIALS_AS_NEEDED = True


def _radial_extent(
    geo: list[tuple[np.ndarray, np.ndarray]], js: list[np.ndarray], slot: np.ndarray,
    n_slots: int, spec: TileSpec, n_r: int, r_step: float,
) -> np.ndarray:  # fmt: skip
    """The last sample each radial of a group must hold: ``hybrid_nodes`` reads a node's
    radial up to one sample beyond its own part's start ``kk = int((d - own_m) / r_step)``
    (the same expression); one more for margin."""
    if not _HYBRID_RADIALS_AS_NEEDED:
        return np.full(n_slots, n_r, dtype=np.int64)
    need = np.zeros(n_slots, dtype=np.int64)
    own_m = spec.hybrid.own_m
    for (dist, _az), j in zip(geo, js, strict=True):
        on = (j >= 0) & (dist <= spec.radius_m)
        if not on.any():
            continue
        at = slot[j[on]]
        mine = at >= 0
        d = dist[on][mine]
        kk = np.where(d > own_m + r_step, ((d - own_m) / r_step).astype(np.int64), 0)
        np.maximum.at(need, at[mine], kk + 2)
    return np.minimum(need, n_r)


def _window_clean(elev: np.ndarray) -> bool:
    from yalu.terrain.kernels import all_finite

    return bool(all_finite(elev))


def _hybrid(
    spec: TileSpec, elev: np.ndarray, jobs: np.ndarray, progress: ProgressFn | None
) -> np.ndarray:
    g = spec.grid
    out = np.full((jobs.shape[0], *g.shape), np.nan, dtype=np.float32)
    bands = _row_bands(g)
    sets = [_row_nodes(g, a, b) for a, b in bands]

    def put(i: int, idx: np.ndarray, vals: np.ndarray) -> None:
        a, b = bands[i]
        for jj in range(jobs.shape[0]):
            out[jj, a:b].reshape(-1)[idx] = vals[jj]

    _hybrid_sets(spec, elev, jobs, sets, put, progress)
    return out


# exact mode's bands of rows hold up to this many nodes: _exact_at orders a band's nodes by
# azimuth, and the more nodes share a ray, the more of its terrain each profile finds in cache
# (transient arrays some 50 + 16 x jobs bytes a node)
_EXACT_BAND_NODES = 500_000


def _exact(
    spec: TileSpec, elev: np.ndarray, jobs: np.ndarray, progress: ProgressFn | None,
    p1812: bool = False,
) -> np.ndarray:  # fmt: skip
    g = spec.grid
    out = np.empty((jobs.shape[0], *g.shape), dtype=np.float32)
    for a, b in _chunks(g.n_rows, max(1, _EXACT_BAND_NODES // g.n_cols)):
        la, lo = _row_nodes(g, a, b)
        out[:, a:b] = _exact_at(spec, elev, jobs, la, lo, p1812=p1812).reshape(-1, b - a, g.n_cols)
        if progress is not None:
            progress(b, g.n_rows)
    return out


def _fake_radius(lat_deg: float) -> float:
    m_lat, m_lon = metres_per_degree(lat_deg)
    # Gaussian mean radius sqrt(M N) at the site
    return math.sqrt(m_lat * m_lon / math.cos(math.radians(lat_deg))) * 180.0 / math.pi


def fast_layout(spec: TileSpec) -> dict[str, Any]:
    """Radial layout of fast mode for a spec: counts, levels, start samples (for reports)."""
    m_lat, m_lon = metres_per_degree(spec.site_lat_deg)
    # arc_px terrain spacings, or one output-grid spacing on grids coarser than that
    px = min(spec.terrain_dlat_deg * m_lat, spec.terrain_dlon_deg * m_lon)
    arc = max(
        spec.fast.arc_px * px, 0.5 * min(spec.grid.dlat_deg * m_lat, spec.grid.dlon_deg * m_lon)
    )
    r_fake = _fake_radius(spec.site_lat_deg)
    step_fake = spec.step_m
    n_s = int(math.ceil(spec.radius_m * 1.01 / step_fake)) + 2
    n_needed = max(64, int(math.ceil(2 * math.pi * spec.radius_m / arc)))
    n_levels = 1
    while n_needed / 2**n_levels >= 64:
        n_levels += 1
    n0 = int(math.ceil(n_needed / 2 ** (n_levels - 1)))
    n_az = n0 * 2 ** (n_levels - 1)
    k_start = np.zeros(n_levels, dtype=np.int64)
    for lev in range(1, n_levels):
        n_prev = n0 * 2 ** (lev - 1)
        s_lev = arc * n_prev / (2 * math.pi)
        k_start[lev] = int(math.floor(s_lev / step_fake))
    return {
        "n_az": n_az,
        "n_levels": n_levels,
        "k_start": k_start,
        "n_samples": n_s,
        "r_fake": r_fake,
        "step_fake": step_fake,
        "arc_m": arc,
    }


def _fast(
    spec: TileSpec, elev: np.ndarray, p: np.ndarray, progress: ProgressFn | None
) -> np.ndarray:
    from yalu.coverage import _kernels as k
    from yalu.propagation.itm_kernels import effective_curvature, surface_refractivity

    g = spec.grid
    lay = fast_layout(spec)
    n_az = lay["n_az"]
    n_s = lay["n_samples"]
    fs = spec.fast
    lat0, lon0 = spec.site_lat_deg, spec.site_lon_deg
    scales = np.empty(n_az)
    k.radial_scales(lat0, lon0, n_az, lay["r_fake"], spec.radius_m, scales)
    # which radials this tile needs: an azimuth sector, whole levels' neighbours included
    j_lo, n_rows_polar = _sector(spec, lay)
    sample = elev[::7, ::7]  # the mean height only sets the reference curvature
    h_mean = float(np.nanmean(sample)) if np.isfinite(sample).any() else 0.0
    gamma_ref = float(effective_curvature(surface_refractivity(spec.itm.n0, h_mean)))
    polar = np.empty((n_rows_polar, n_s + 1), dtype=np.float32)
    calls = np.zeros(n_rows_polar, dtype=np.int64)
    total = n_rows_polar + 1
    # delta_h on every dh_every-th radial of the sector
    dh_every = min(int(fs.dh_every), 2 ** (int(lay["n_levels"]) - 1))
    if n_rows_polar == n_az:
        n_dh_rows = n_az // dh_every
    else:
        n_dh_rows = (n_rows_polar - 1) // dh_every + 2
    dh_polar = np.empty((n_dh_rows, n_s // fs.kdh + 2))
    with _kernel_guard():
        k.fast_delta_h(
            elev, spec.terrain_north_deg, spec.terrain_west_deg, spec.terrain_dlat_deg,
            spec.terrain_dlon_deg, lat0, lon0, lay["r_fake"], lay["step_fake"], scales, n_s,
            fs.kdh, gamma_ref, p, j_lo, n_az, dh_every, dh_polar,
        )  # fmt: skip
    for a, b in _chunks(n_rows_polar, 1024):
        with _kernel_guard():
            k.fast_radials(
                elev, spec.terrain_north_deg, spec.terrain_west_deg, spec.terrain_dlat_deg,
                spec.terrain_dlon_deg, lat0, lon0, lay["r_fake"], lay["step_fake"], scales,
                lay["n_levels"], lay["k_start"], fs.k_exact, fs.kstep, fs.kdh, gamma_ref, p,
                fs.refine, fs.jump, float(fs.tol_db), j_lo + a, n_az, dh_every, j_lo, dh_polar,
                polar[a:b], calls[a:b],
            )  # fmt: skip
        if progress is not None:
            progress(b, total)
    out = np.empty(g.shape, dtype=np.float32)
    flag = np.empty(g.shape, dtype=np.int8)
    with _kernel_guard():
        k.fast_fill(
            elev, spec.terrain_north_deg, spec.terrain_west_deg, spec.terrain_dlat_deg,
            spec.terrain_dlon_deg, lat0, lon0, g.north_deg, g.west_deg, g.dlat_deg, g.dlon_deg,
            spec.radius_m, lay["r_fake"], lay["step_fake"], scales, lay["n_levels"], lay["k_start"],
            fs.k_exact, p, j_lo, polar, out, flag,
        )  # fmt: skip
    # nodes next to the site: exact mode; nodes near the radius: the exact geodesic decides
    lats, lons = g.lats(), g.lons()
    ii, jj = np.nonzero(flag == 1)
    if ii.size:
        out[ii, jj] = _exact_at(spec, elev, p[None, :], lats[ii], lons[jj], pyproj=False)[0]
    ii, jj = np.nonzero(flag == 2)
    if ii.size:
        dist, _az = _node_geodesics(spec, lats[ii], lons[jj], pyproj=False)
        far = dist > spec.radius_m
        out[ii[far], jj[far]] = np.nan
    if progress is not None:
        progress(total, total)
    return out


# fast mode keeps every radial in memory at once up to this size (float32 samples); larger
# maps are computed per quadrant around the site, a quarter of the radials at a time
_POLAR_WHOLE_BYTES = 64 * 2**20


def _polar_bytes(spec: TileSpec) -> int:
    lay = fast_layout(spec)
    return 4 * int(lay["n_az"]) * (int(lay["n_samples"]) + 1)


def _site_inside(spec: TileSpec) -> tuple[int, int] | None:
    """(row, col) splitting the grid into quadrants around the site, if the site is strictly
    inside the grid's node box; else None. Row ``r`` is the last row at or north of the site."""
    g = spec.grid
    fi = (g.north_deg - spec.site_lat_deg) / g.dlat_deg
    fj = (spec.site_lon_deg - g.west_deg) / g.dlon_deg
    if not (0.0 < fi < g.n_rows - 1 and 0.0 < fj < g.n_cols - 1):
        return None
    return int(math.floor(fi + 1e-9)), int(math.floor(fj + 1e-9))


def _sector(spec: TileSpec, lay: dict[str, Any]) -> tuple[int, int]:
    """First finest-radial index and count of the azimuth sector that covers the tile.

    The sector is widened to whole coarsest-level spacings, so that every node's two bracketing
    radials, at every level, are inside it.
    """
    n_az = int(lay["n_az"])
    m0 = 2 ** (int(lay["n_levels"]) - 1)
    g = spec.grid
    if _site_inside(spec) is not None:
        return 0, n_az
    lat0, lon0 = math.radians(spec.site_lat_deg), spec.site_lon_deg
    lats = np.radians(g.lats())
    lons = g.lons()
    # boundary nodes of the tile (the azimuth extremes of a box without the site lie on it)
    bl = np.concatenate([np.full(g.n_cols, lats[0]), np.full(g.n_cols, lats[-1]), lats, lats])
    bo = np.concatenate([lons, lons, np.full(g.n_rows, lons[0]), np.full(g.n_rows, lons[-1])])
    dl = np.radians(bo - lon0)
    h = np.sin(0.5 * (bl - lat0)) ** 2 + math.cos(lat0) * np.cos(bl) * np.sin(0.5 * dl) ** 2
    away = h > 1e-16  # the site itself has no azimuth (it is computed exactly anyway)
    if not away.any():
        return 0, min(n_az, 2 * m0)
    bl, dl = bl[away], dl[away]
    az = np.arctan2(
        np.sin(dl) * np.cos(bl),
        math.cos(lat0) * np.sin(bl) - math.sin(lat0) * np.cos(bl) * np.cos(dl),
    )
    az_c = float(np.angle(np.mean(np.exp(1j * az))))
    rel = np.angle(np.exp(1j * (az - az_c)))
    if rel.max() - rel.min() > math.pi:  # pragma: no cover - cannot happen without the site
        return 0, n_az
    u_lo = (az_c + float(rel.min())) / (2 * math.pi) * n_az - 1e-6 * n_az
    u_hi = (az_c + float(rel.max())) / (2 * math.pi) * n_az + 1e-6 * n_az
    j_lo = int(math.floor(u_lo / m0)) * m0
    j_hi = (int(math.floor(u_hi / m0)) + 1) * m0
    count = min(n_az, j_hi - j_lo + 1)
    return j_lo % n_az, count


def warm_up(mode: MapMode | str = MapMode.FAST, elevation_dtype: Any = np.float64) -> None:
    """Load (or compile) the kernels of ``mode`` by running a tiny synthetic map.

    The CLI runs this in a thread while it reads terrain, so that loading cached machine code
    overlaps with I/O. Harmless to call more than once.
    """
    from yalu.terrain import TerrainWindow

    n = 41
    d = 1.0 / 1200.0
    z = (100.0 + 10.0 * np.sin(np.arange(n * n) * 0.37)).reshape(n, n).astype(elevation_dtype)
    win = TerrainWindow(grid_m=z, north_deg=41.0 + 20 * d, west_deg=24.0 - 20 * d,
                        dlat_deg=d, dlon_deg=d)  # fmt: skip
    spec = make_tile_spec(win, (41.0, 24.0), 1200.0, h_tx_m=30.0, frequency_mhz=900.0, mode=mode,
                          elevation_dtype=elevation_dtype)  # fmt: skip
    tile_job(spec)


# ---------------------------------------------------------------------------------------------
# public entry


def _box_for(
    terrain: Any, lat: float, lon: float, radius_m: float
) -> tuple[float, float, float, float]:
    """(south, west, north, east) holding every geodesic from the site to the circle, plus margin,
    clipped to the terrain."""
    margin_m = 2000.0 + 0.01 * radius_m
    m_lat, _ = metres_per_degree(lat)
    half_lat = (radius_m + margin_m) / m_lat
    far = min(89.0, abs(lat) + half_lat)
    _, m_lon = metres_per_degree(far)
    half_lon = (radius_m + margin_m) / m_lon
    s, w, n, e = terrain.bounds
    box = (
        max(s, lat - half_lat),
        max(w, lon - half_lon),
        min(n, lat + half_lat),
        min(e, lon + half_lon),
    )
    if box[0] > box[2] or box[1] > box[3] or not (s <= lat <= n and w <= lon <= e):
        raise ParameterError("site", (lat, lon), f"inside the terrain ({s}, {w}, {n}, {e})")
    return box


def _read_box(
    terrain: Any, box: tuple[float, float, float, float], dtype: Any
) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """Terrain nodes covering ``box`` as ``dtype``, and (north, west, dlat, dlon).

    float32 windows are read in bands of rows, so that the float64 copy never exists whole.
    """
    from yalu.terrain import TerrainWindow

    if isinstance(terrain, TerrainWindow):
        win = terrain
        geo = (float(win.north_deg), float(win.west_deg), float(win.dlat_deg), float(win.dlon_deg))
        return np.ascontiguousarray(win.grid_m, dtype=dtype), geo
    s, w, n, e = box
    if np.dtype(dtype) == np.float64:
        win = terrain.read_window(s, w, n, e)
        geo = (float(win.north_deg), float(win.west_deg), float(win.dlat_deg), float(win.dlon_deg))
        return win.grid_m, geo
    probe = terrain.read_window(n, w, n, w)
    top, west = float(probe.north_deg), float(probe.west_deg)
    dlat, dlon = float(probe.dlat_deg), float(probe.dlon_deg)
    n_rows = int(math.ceil((top - s) / dlat - 1e-7)) + 1
    n_cols = int(math.ceil((e - west) / dlon - 1e-7)) + 1
    out = np.empty((n_rows, n_cols), dtype=dtype)
    # bands end on whole degrees of latitude: 1-degree tiles are then loaded once each
    edges = [0]
    for lat_edge in range(int(math.floor(top)), int(math.floor(s)), -1):
        r = int(math.ceil((top - lat_edge) / dlat - 1e-7))  # first row at or south of the edge
        if edges[-1] < r < n_rows:
            edges.append(r)
    edges.append(n_rows)
    # and are cut further so that the float64 copies stay small (a cache of a tile row helps)
    bands: list[tuple[int, int]] = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        bands.extend((r, min(b, r + 300)) for r in range(a, b, 300))
    for r0, r1 in bands:
        win = terrain.read_window(
            top - (r1 - 1) * dlat, west, top - r0 * dlat, west + (n_cols - 1) * dlon
        )
        ro = int(round((win.north_deg - (top - r0 * dlat)) / dlat))
        co = int(round((west - win.west_deg) / dlon))
        part = win.grid_m[ro : ro + (r1 - r0), co : co + n_cols]
        if part.shape != (r1 - r0, n_cols):  # pragma: no cover - lattice mismatch
            raise ParameterError("terrain", terrain, "a regular lattice of nodes")
        out[r0:r1] = part
    return out, (top, west, dlat, dlon)


def make_tile_spec(
    terrain: Any,
    site: tuple[float, float],
    radius_m: float,
    *,
    h_tx_m: float,
    h_rx_m: float = 1.5,
    frequency_mhz: float,
    model: PropagationModel | str = PropagationModel.ITM,
    mode: MapMode | str = MapMode.FAST,
    itm: ITMOptions | None = None,
    grid: Grid | None = None,
    step_m: float | None = None,
    min_distance_m: float | None = None,
    hata_environment: str = "urban",
    fast: FastSettings | None = None,
    elevation_dtype: Any = np.float64,
    direction: Direction | str = Direction.FORWARD,
    p1812: P1812Options | None = None,
    landcover: Any = None,
    hybrid: HybridSettings | None = None,
) -> TileSpec:
    """Validate inputs, read the terrain window and build the :class:`TileSpec` of a whole map.

    ``elevation_dtype=np.float32`` halves the window's memory; fast mode is unaffected for
    integer-valued terrain (SDF, .hgt), exact mode keeps float64 for bit-agreement with
    :mod:`yalu.geodesy` profiles. P.1812 maps are always exact (one profile per node):
    ``mode`` is recorded as ``"exact"`` for them.
    """
    try:
        lat, lon = (float(v) for v in site)
    except (TypeError, ValueError):
        raise ParameterError("site", site, "a (lat_deg, lon_deg) pair") from None
    check_range("site latitude [deg]", lat, -89.0, 89.0)
    check_range("site longitude [deg]", lon, -180.0, 360.0)
    check_range("radius_m", radius_m, 0.0, 500e3, lo_inclusive=False, hi_inclusive=True)
    check_range("h_tx_m", h_tx_m, 0.5, 3000.0)
    check_range("h_rx_m", h_rx_m, 0.5, 3000.0)
    check_range("frequency_mhz", frequency_mhz, 20.0, 20000.0)
    model_e = parse_choice(PropagationModel, model, "model")
    mode_e = parse_choice(MapMode, mode, "mode")
    direction_e = parse_choice(Direction, direction, "direction")
    itm = itm or ITMOptions()
    p1812 = p1812 or P1812Options()
    if model_e is PropagationModel.P1812:
        check_p1812_options(p1812, frequency_mhz, h_tx_m, h_rx_m)
        mode_e = MapMode.EXACT
        elevation_dtype = np.float64
    fast = fast or FastSettings()
    check_range("fast.arc_px", fast.arc_px, 0.1, 20.0)
    for name in ("kstep", "kdh", "k_exact", "dh_every"):
        v = getattr(fast, name)
        if int(v) != v or v < 1:
            raise ParameterError(f"fast.{name}", v, "an integer >= 1")
    if fast.dh_every & (fast.dh_every - 1):
        raise ParameterError("fast.dh_every", fast.dh_every, "a power of 2")
    from yalu.terrain import TerrainWindow

    if isinstance(terrain, TerrainWindow):
        s_, w_, n_, e_ = terrain.bounds
        if not (s_ <= lat <= n_ and w_ <= lon <= e_):
            raise ParameterError("site", (lat, lon), f"inside the terrain ({s_}, {w_}, {n_}, {e_})")
        box = (s_, w_, n_, e_)
    else:
        box = _box_for(terrain, lat, lon, float(radius_m))
    elev, geo = _read_box(terrain, box, elevation_dtype)
    m_lat, m_lon = metres_per_degree(lat)
    native_m = min(geo[2] * m_lat, geo[3] * m_lon)
    if step_m is None:
        step_m = native_m
    check_range("step_m", step_m, 1.0, 10000.0)
    if min_distance_m is None:
        min_distance_m = float(step_m)
    check_range("min_distance_m", min_distance_m, 0.0, 10000.0, lo_inclusive=False)
    if grid is None:
        grid = grid_around(
            lat, lon, float(radius_m), north_deg=geo[0], west_deg=geo[1],
            dlat_deg=geo[2], dlon_deg=geo[3],
        )  # fmt: skip
    elif not isinstance(grid, Grid):
        raise ParameterError("grid", grid, "a yalu.coverage.Grid or None")
    return TileSpec(
        elevation_m=elev,
        terrain_north_deg=geo[0],
        terrain_west_deg=geo[1],
        terrain_dlat_deg=geo[2],
        terrain_dlon_deg=geo[3],
        site_lat_deg=lat,
        site_lon_deg=lon,
        grid=grid,
        radius_m=float(radius_m),
        h_tx_m=float(h_tx_m),
        h_rx_m=float(h_rx_m),
        frequency_mhz=float(frequency_mhz),
        model=model_e.value,
        mode=mode_e.value,
        itm=itm,
        step_m=float(step_m),
        min_distance_m=float(min_distance_m),
        hata_environment=hata_environment,
        fast=fast,
        hybrid=hybrid or HybridSettings(),
        direction=direction_e.value,
        p1812=p1812,
        clutter_m=(
            _window_clutter_m(landcover, geo, elev.shape, p1812.clutter_height_m)
            if landcover is not None and model_e is PropagationModel.P1812
            else np.zeros((0, 0))
        ),
    )


def _window_clutter_m(
    landcover: Any, geo: tuple[float, float, float, float], shape: tuple[int, ...], default_m: float
) -> np.ndarray:
    """P.1812 clutter heights R [m] at the nodes of a terrain window, from land-cover classes
    (:data:`yalu.landcover.classes.WORLDCOVER_CLUTTER`, ``p1812_height_m``); ``default_m`` where
    the land cover has no data."""
    from yalu.landcover.classes import clutter_for_codes

    north, west, dlat, dlon = geo
    lat = north - dlat * np.arange(shape[0])
    lon = west + dlon * np.arange(shape[1])
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    _types, heights = clutter_for_codes(landcover.codes_at(la, lo), which="p1812_height_m")
    return np.ascontiguousarray(np.where(np.isfinite(heights), heights, default_m))


def coerce_itm_options(
    climate: Any,
    n0: Any,
    polarization: Any,
    epsilon: Any,
    sigma: Any,
    mdvar: Any,
    time_pct: Any,
    location_pct: Any,
    situation_pct: Any,
) -> ITMOptions:
    """:class:`ITMOptions` from enum members, values or names (see
    :func:`yalu.propagation.itm.coerce_options`)."""
    from yalu.propagation.itm import coerce_options

    return ITMOptions(**coerce_options(
        climate=climate, n0=n0, polarization=polarization, epsilon=epsilon, sigma=sigma,
        mdvar=mdvar, time_pct=time_pct, location_pct=location_pct, situation_pct=situation_pct,
    ))  # fmt: skip


def map_attrs(spec: TileSpec, terrain: Any = None) -> dict[str, Any]:
    """Attributes of a map computed from ``spec``: georeferencing and every parameter."""
    from yalu import __version__

    g = spec.grid
    attrs: dict[str, Any] = {
        "long_name": "basic transmission loss",
        "units": "dB",
        "crs": "EPSG:4326",
        "transform": g.transform,
        "nodata": float("nan"),
        "model": spec.model,
        "mode": spec.mode if spec.model in ("itm", "p1812") else "n/a",
        "direction": spec.direction,
        "site_lat_deg": spec.site_lat_deg,
        "site_lon_deg": spec.site_lon_deg,
        "radius_m": spec.radius_m,
        "h_tx_m": spec.h_tx_m,
        "h_rx_m": spec.h_rx_m,
        "frequency_mhz": spec.frequency_mhz,
        "step_m": spec.step_m,
        "min_distance_m": spec.min_distance_m,
        "terrain": str(getattr(terrain, "description", type(terrain).__name__)),
        "yalu_version": __version__,
    }
    if spec.model == "itm":
        attrs.update({f"itm_{k}": v for k, v in asdict(spec.itm).items()})
        if spec.mode == "fast":
            attrs.update({f"fast_{k}": v for k, v in asdict(spec.fast).items()})
        elif spec.mode == "hybrid":
            attrs.update({f"hybrid_{k}": v for k, v in asdict(spec.hybrid).items()})
            # a grid at least exact_grid_steps apart: every node on its own profile
            attrs["hybrid_map_exact"] = int(hybrid_map_is_exact(spec))
    elif spec.model == "p1812":
        attrs.update({f"p1812_{k}": v for k, v in asdict(spec.p1812).items()})
        attrs["note"] = "ITU-R P.1812-8, uniform clutter height and zone along every profile"
    elif spec.model == "hata":
        attrs["hata_environment"] = spec.hata_environment
        attrs["note"] = "Hata is defined for 1-20 km; values outside are extrapolated"
    if getattr(terrain, "is_demo", False):
        attrs["warning"] = "computed on the coarse demo terrain: not for analysis"
    return attrs


def path_loss_map(
    terrain: Any,
    site: tuple[float, float],
    radius_m: float,
    *,
    h_tx_m: float,
    h_rx_m: float = 1.5,
    frequency_mhz: float,
    model: PropagationModel | str = PropagationModel.ITM,
    mode: MapMode | str = MapMode.FAST,
    climate: Any = 5,
    n0: float = 301.0,
    polarization: Any = 1,
    epsilon: float = 15.0,
    sigma: float = 0.005,
    mdvar: Any = 12,
    time_pct: float = 50.0,
    location_pct: float = 50.0,
    situation_pct: float = 50.0,
    grid: Grid | None = None,
    step_m: float | None = None,
    min_distance_m: float | None = None,
    hata_environment: str = "urban",
    fast: FastSettings | None = None,
    threads: int | None = None,
    progress: ProgressFn | None = None,
    direction: Direction | str = Direction.FORWARD,
    p1812: P1812Options | None = None,
    hybrid: HybridSettings | None = None,
) -> Any:
    """Basic transmission loss [dB] from a site to every raster node within ``radius_m``.

    Parameters
    ----------
    terrain : yalu.terrain.Terrain or yalu.terrain.TerrainWindow
        Elevation source (see :func:`yalu.terrain.open_terrain`).
    site : (lat_deg, lon_deg)
        Transmitter position [deg].
    radius_m : float
        Map radius [m] (geodesic distance), 0 < r <= 500 km. Nodes beyond are NaN.
    h_tx_m : float
        Antenna height above ground [m] of the site, whichever way the link goes.
    h_rx_m : float
        Antenna height above ground [m] at every node (the handset), whichever way the link goes.
    frequency_mhz : float
        Carrier frequency [MHz].
    model : {"itm", "p1812", "hata", "free-space"}
        ITM point-to-point over terrain (default); ITU-R P.1812-8 over terrain (``p1812``
        options; always one profile per node, as ITM's exact mode); Okumura-Hata/COST-231
        (``hata_environment``) or free space on the geodesic distance.
    mode : {"fast", "exact", "hybrid"}
        ITM only; see the module doc for what each computes and the error of fast and hybrid
        mode.
    climate, n0, polarization, epsilon, sigma, mdvar, time_pct, location_pct, situation_pct
        ITM options (see :func:`yalu.propagation.itm.p2p`); defaults are SPLAT!'s benchmark job.
    grid : Grid, optional
        Output nodes; default the terrain's native nodes around the circle.
    step_m : float, optional
        Profile step [m]; default the smaller native node spacing in metres at the site.
    min_distance_m : float, optional
        Nodes closer than this get a two-point profile of this length (default ``step_m``).
    fast : FastSettings, optional
        Fast-mode knobs.
    threads : int, optional
        Number of threads (default: numba's setting, all cores).
    hybrid : HybridSettings, optional
        Hybrid-mode knobs.
    direction : {"forward", "reverse"}
        ITM only. ``"forward"`` (default): the site is ITM's transmitter (terminal 1, height
        ``h_tx_m``) and each node its receiver (height ``h_rx_m``). ``"reverse"``: each node is
        ITM's transmitter (terminal 1, height ``h_rx_m``) and the site the receiver (height
        ``h_tx_m``); exact mode runs ITM on the node-to-site profile (the site-to-node profile
        reversed). Hata and free space are symmetric in this sense (Hata's base station is
        always the site) and give the same map in both directions.
    progress : callable(done, total), optional
        Called as work completes.
    p1812 : P1812Options, optional
        P.1812 only. Default: ``time_pct``, ``location_pct`` and ``polarization`` of the
        arguments above, the other fields at their defaults (see :class:`P1812Options`).

    Returns
    -------
    xarray.DataArray
        float32 loss [dB], dims ``("lat", "lon")`` (north first), NaN outside the radius, with
        attributes ``crs``, ``transform``, ``nodata`` and every parameter.
    """
    import xarray as xr

    itm = coerce_itm_options(
        climate, n0, polarization, epsilon, sigma, mdvar, time_pct, location_pct, situation_pct
    )
    if p1812 is None:
        p1812 = P1812Options(time_pct=itm.time_pct, location_pct=itm.location_pct,
                             polarization=itm.polarization)  # fmt: skip
    spec = make_tile_spec(
        terrain, site, radius_m, h_tx_m=h_tx_m, h_rx_m=h_rx_m, frequency_mhz=frequency_mhz,
        model=model, mode=mode, itm=itm, grid=grid, step_m=step_m, min_distance_m=min_distance_m,
        hata_environment=hata_environment, fast=fast, direction=direction, p1812=p1812,
        hybrid=hybrid,
    )  # fmt: skip
    with numba_threads(threads):
        data = tile_job(spec, progress)
    g = spec.grid
    attrs = map_attrs(spec, terrain)
    return xr.DataArray(
        data,
        dims=("lat", "lon"),
        coords={"lat": g.lats(), "lon": g.lons()},
        name="path_loss_db",
        attrs=attrs,
    )


def path_loss_maps(
    terrain: Any,
    site: tuple[float, float],
    radius_m: float,
    *,
    h_tx_m: float,
    h_rx_m: float = 1.5,
    frequencies_mhz: Any = None,
    directions: Any = (Direction.FORWARD,),
    jobs: Any = None,
    model: PropagationModel | str = PropagationModel.ITM,
    mode: MapMode | str = MapMode.FAST,
    grid: Grid | None = None,
    step_m: float | None = None,
    min_distance_m: float | None = None,
    hata_environment: str = "urban",
    fast: FastSettings | None = None,
    threads: int | None = None,
    progress: ProgressFn | None = None,
    **itm_options: Any,
) -> list[Any]:
    """:func:`path_loss_map` for several frequencies and directions of one site, sharing work.

    Parameters are those of :func:`path_loss_map`, except the maps asked for: either
    ``frequencies_mhz`` (a list of carrier frequencies [MHz]) with ``directions`` (a list of
    ``"forward"``/``"reverse"``), every combination, directions outer; or ``jobs``, a list of
    ``(frequency_mhz, direction)`` pairs. ITM options (``climate``, ``n0``, ...) are keyword
    arguments as there.

    Returns
    -------
    list of xarray.DataArray
        One map per job, each equal bit for bit to :func:`path_loss_map` with that frequency and
        direction (see :func:`tile_job_multi` for what is shared).
    """
    import xarray as xr

    defaults = asdict(ITMOptions())
    unknown = set(itm_options) - set(defaults)
    if unknown:
        raise ParameterError("itm option", sorted(unknown)[0], f"one of {sorted(defaults)}")
    itm = coerce_itm_options(**{**defaults, **itm_options})
    if (frequencies_mhz is None) == (jobs is None):
        raise ParameterError("frequencies_mhz", frequencies_mhz, "given, or jobs given, not both")
    if jobs is None:
        jobs = _job_pairs(frequencies_mhz, directions)
    pairs = _check_jobs(jobs)
    spec = make_tile_spec(
        terrain, site, radius_m, h_tx_m=h_tx_m, h_rx_m=h_rx_m, frequency_mhz=pairs[0][0],
        model=model, mode=mode, itm=itm, grid=grid, step_m=step_m, min_distance_m=min_distance_m,
        hata_environment=hata_environment, fast=fast,
    )  # fmt: skip
    specs = _job_specs(spec, pairs)
    with numba_threads(threads):
        data = tile_job_multi(spec, pairs, progress)
    g = spec.grid
    return [
        xr.DataArray(
            data[i],
            dims=("lat", "lon"),
            coords={"lat": g.lats(), "lon": g.lons()},
            name="path_loss_db",
            attrs=map_attrs(s, terrain),
        )  # fmt: skip
        for i, s in enumerate(specs)
    ]


def path_loss_at_points(
    terrain: Any,
    site: tuple[float, float],
    radius_m: float,
    lat_deg: Any,
    lon_deg: Any,
    *,
    h_tx_m: float,
    h_rx_m: float = 1.5,
    frequency_mhz: float,
    model: PropagationModel | str = PropagationModel.ITM,
    itm: ITMOptions | None = None,
    step_m: float | None = None,
    min_distance_m: float | None = None,
    hata_environment: str = "urban",
    threads: int | None = None,
    direction: Direction | str = Direction.FORWARD,
    p1812: P1812Options | None = None,
    landcover: Any = None,
    mode: MapMode | str = MapMode.EXACT,
    hybrid: HybridSettings | None = None,
) -> np.ndarray:
    """Basic transmission loss [dB] from a site to scattered points, each on its own profile.

    The computation of exact mode (module doc) at arbitrary points instead of raster nodes: a
    point that coincides with a node of an exact map gets the node's value, bit for bit.

    Parameters
    ----------
    terrain, site, radius_m, h_tx_m, h_rx_m, frequency_mhz, model, step_m, min_distance_m,
    hata_environment, threads, direction
        As for :func:`path_loss_map`.
    mode : {"exact", "hybrid"}
        ITM on each point's own profile, or on hybrid mode's composite profile (module doc;
        P.1812 is always exact).
    hybrid : HybridSettings, optional
        Hybrid mode's settings (default :class:`HybridSettings`).
    lat_deg, lon_deg : array_like
        Point positions [deg], same shape.
    itm : ITMOptions, optional
        ITM options (default :class:`ITMOptions`).
    p1812, landcover : optional
        As for :func:`path_loss_map` (``model="p1812"``).

    Returns
    -------
    numpy.ndarray
        float64 loss [dB] of the points' shape, NaN beyond ``radius_m``.
    """
    check_range("frequency_mhz", frequency_mhz, 20.0, 20000.0)
    d = parse_choice(Direction, direction, "direction")
    out = path_loss_at_points_multi(
        terrain, site, radius_m, lat_deg, lon_deg, h_tx_m=h_tx_m, h_rx_m=h_rx_m,
        jobs=[(frequency_mhz, d)], model=model, itm=itm, step_m=step_m,
        min_distance_m=min_distance_m, hata_environment=hata_environment, threads=threads,
        p1812=p1812, landcover=landcover, mode=mode, hybrid=hybrid,
    )  # fmt: skip
    return np.asarray(out[0])


def path_loss_at_points_multi(
    terrain: Any,
    site: tuple[float, float],
    radius_m: float,
    lat_deg: Any,
    lon_deg: Any,
    *,
    h_tx_m: float,
    h_rx_m: float = 1.5,
    jobs: Any,
    model: PropagationModel | str = PropagationModel.ITM,
    itm: ITMOptions | None = None,
    step_m: float | None = None,
    min_distance_m: float | None = None,
    hata_environment: str = "urban",
    threads: int | None = None,
    p1812: P1812Options | None = None,
    landcover: Any = None,
    mode: MapMode | str = MapMode.EXACT,
    hybrid: HybridSettings | None = None,
) -> np.ndarray:
    """:func:`path_loss_at_points` for several (frequency, direction) jobs of one antenna.

    ``jobs`` is a list of ``(frequency_mhz, direction)`` pairs, or of ``(frequency_mhz,
    direction, h_tx_m)`` for several antenna heights at one position. With ITM each point's
    profile is built once and ITM's geometry computed once per direction and height, as
    :func:`tile_job_multi` does on a grid; row ``i`` of the result equals, bit for bit,
    :func:`path_loss_at_points` with job ``i``'s frequency, direction and height. Other models
    run one job at a time.

    Returns
    -------
    numpy.ndarray
        float64 loss [dB], shape ``(len(jobs),) + lat_deg.shape``, NaN beyond ``radius_m``.
    """
    pairs = _check_jobs(jobs)
    mode_e = parse_choice(MapMode, mode, "mode")
    if mode_e is MapMode.FAST:
        raise ParameterError("mode", mode, "'exact' or 'hybrid' at points (fast mode is for maps)")
    la = np.asarray(lat_deg, dtype=np.float64)
    lo = np.asarray(lon_deg, dtype=np.float64)
    if la.shape != lo.shape:
        raise ParameterError(
            "lon_deg", f"array of shape {lo.shape}", f"the shape of lat_deg {la.shape}"
        )
    if la.size and not (np.isfinite(la).all() and np.isfinite(lo).all()):
        raise ParameterError("lat_deg/lon_deg", "non-finite values", "finite degrees")
    model_e = parse_choice(PropagationModel, model, "model")
    spec = make_tile_spec(
        terrain, site, radius_m, h_tx_m=h_tx_m, h_rx_m=h_rx_m, frequency_mhz=pairs[0][0],
        model=model_e, mode=mode_e, itm=itm, step_m=step_m, min_distance_m=min_distance_m,
        hata_environment=hata_environment, direction=pairs[0][1], p1812=p1812,
        landcover=landcover, hybrid=hybrid,
    )  # fmt: skip
    specs = _job_specs(spec, pairs)
    flat_la, flat_lo = la.ravel(), lo.ravel()
    if flat_la.size == 0:
        return np.empty((len(pairs), *la.shape))
    if model_e is PropagationModel.P1812:
        elev = _elevation(spec)
        with numba_threads(threads):
            rows = [_exact_at(s, elev, _p1812_vector(s)[None, :], flat_la, flat_lo,
                              p1812=True)[0] for s in specs]  # fmt: skip
        return np.stack(rows).reshape(len(pairs), *la.shape)
    if model_e is not PropagationModel.ITM:
        rows = [_distance_at(s, model_e, flat_la, flat_lo) for s in specs]
        return np.stack(rows).reshape(len(pairs), *la.shape)
    order = _job_order(specs)
    vec = np.stack([_itm_vector(specs[i]) for i in order])
    for i, row in zip(order, vec, strict=True):
        _check_itm(specs[i], row)
    with numba_threads(threads):
        if mode_e is MapMode.HYBRID:
            res = np.empty((vec.shape[0], flat_la.size))

            def put(_i: int, idx: np.ndarray, vals: np.ndarray) -> None:
                res[:, idx] = vals

            _hybrid_sets(spec, _elevation(spec), vec, [(flat_la, flat_lo)], put)
        else:
            res = _exact_at(spec, _elevation(spec), vec, flat_la, flat_lo)
    out = np.empty_like(res)
    out[order] = res
    return out.reshape(len(pairs), *la.shape)
