"""Radio layers of a network on a grid: the one place that turns sites, jammers and path loss
into link budgets.

:func:`compute_layers` asks a :class:`PathLossProvider` two questions and never looks behind it:

- a **grid map**: basic transmission loss between one antenna and every node of a grid, at one
  frequency, in one direction: ``"forward"`` (the antenna transmits: downlink, jammers) or
  ``"reverse"`` (every node transmits to the antenna: uplink; ITM is reciprocal only up to the
  thresholds of its profile analysis, so the uplink is evaluated on the node-to-site path at
  the uplink frequency);
- a **point loss**: basic transmission loss from one antenna to another (jammer to tower).

Per site (one sector, one carrier) it asks for the downlink map at the DL carrier and the uplink
map at the UL carrier; per jammer range (a jammer spreads its EIRP evenly over its ranges, so
splitting keeps the power density) one forward map at the range's centre; per (jammer range,
site) whose frequencies overlap the site's UL channel, the point loss at the site's UL carrier.
Geometry (distance, azimuth, antenna elevation angles over the 4/3 effective earth) comes from
:mod:`yalu.geodesy`; the link budget from :func:`yalu.radio.budget.link_budget`, run over row
blocks so that memory stays bounded whatever the grid.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

from yalu.errors import ParameterError
from yalu.geodesy import Grid, azimuth_distance, azimuth_distance_vincenty, elevation_angle_deg
from yalu.radio.budget import LinkBudget, link_budget
from yalu.radio.models import Handset, Jammer, Site, TechnologyProfile
from yalu.radio.zones import rasterize_zones

if TYPE_CHECKING:
    from yalu.terrain import TerrainLike

__all__ = [
    "Antenna",
    "FunctionPathLoss",
    "GridGeometry",
    "LayerInputs",
    "PathLossProvider",
    "PointGeometry",
    "PointLayers",
    "PointsPathLossProvider",
    "RadioLayers",
    "SparsePoints",
    "WindowedMap",
    "compute_layers",
    "compute_point_layers",
    "layer_requests",
    "split_jammer_ranges",
]

#: Link budgets run over row blocks of about this many (site x node) elements.
BLOCK_ELEMENTS = 2_000_000
#: columns of a budget tile (compute_layers)
TILE_COLUMNS = 256
#: points of a budget block (compute_point_layers)
POINT_BLOCK = 4096
#: bytes a :class:`GridGeometry` may hold (ground heights, azimuths, distances and their masks);
#: what does not fit is computed for each block, as without one
GRID_GEOMETRY_BYTES = 128 * 2**20


class Antenna(NamedTuple):
    """An antenna position: latitude and longitude [deg], height above ground [m]."""

    lat_deg: float
    lon_deg: float
    height_m: float


def _row_source(data: Any) -> bool:
    """Whether ``data`` is an array kept elsewhere that reads ranges of rows (``rows``)."""
    return not isinstance(data, np.ndarray) and callable(getattr(data, "rows", None))


class WindowedMap:
    """A grid map that is NaN outside a window of its rows and columns.

    A site's map covers only the part of the grid within its radius: the window is stored,
    the rest is implied. Memory is that of the window (a few per cent of a border-wide grid),
    not of the grid. Row slices (``m[r0:r1]``, what the budgets take block by block) give
    dense rows; anything else (``np.asarray(m)``, other indexing) the dense map.

    Parameters
    ----------
    shape : (rows, cols)
        The grid's shape.
    box : (r0, r1, c0, c1)
        The window: rows ``r0:r1``, columns ``c0:c1`` (empty when r0 >= r1 or c0 >= c1).
    data : array, shape (r1 - r0, c1 - c0)
        The values in the window [dB]; or an array kept elsewhere that reads a range of its
        rows on demand (``shape``, ``dtype`` and a ``rows(r0, r1)`` method, such as a
        :class:`yalu.io.spill.DiskArray`): a block's rows are then read alone.
    """

    __slots__ = ("box", "data", "shape")

    def __init__(self, shape: tuple[int, int], box: tuple[int, int, int, int], data: Any) -> None:
        r0, r1, c0, c1 = (int(v) for v in box)
        rows, cols = (int(v) for v in shape)
        if not (0 <= r0 <= rows and 0 <= r1 <= rows and 0 <= c0 <= cols and 0 <= c1 <= cols):
            raise ParameterError("box", box, f"rows and columns within the shape {shape}")
        arr = data if _row_source(data) else np.asarray(data)
        want = (max(0, r1 - r0), max(0, c1 - c0))
        if tuple(arr.shape) != want:
            raise ParameterError("data", f"shape {arr.shape}", f"the window's shape {want}")
        self.shape = (rows, cols)
        self.box = (r0, r1, c0, c1)
        self.data = arr

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.data.dtype

    @property
    def nbytes(self) -> int:
        """Bytes held in memory (0 when the window is kept elsewhere)."""
        return 0 if _row_source(self.data) else int(self.data.nbytes)

    def rows(self, r0: int, r1: int) -> npt.NDArray[Any]:
        """Dense rows ``r0:r1`` (NaN outside the window)."""
        r0, r1 = max(0, r0), min(self.shape[0], r1)
        out = np.full((max(0, r1 - r0), self.shape[1]), np.nan, dtype=self.data.dtype)
        a, b, c0, c1 = self.box
        lo, hi = max(a, r0), min(b, r1)
        if lo < hi and c0 < c1:
            out[lo - r0 : hi - r0, c0:c1] = self.data[lo - a : hi - a]
        return out

    def window_rows(self, r0: int, r1: int) -> npt.NDArray[Any]:
        """The stored window's part of rows ``r0:r1``: rows ``max(r0, box r0):min(r1, box r1)``
        of the window, all its columns (read once; :meth:`tile` takes it as ``band``)."""
        a, b = self.box[0], self.box[1]
        lo, hi = max(a, r0), min(b, r1)
        if lo >= hi:
            return np.empty((0, self.box[3] - self.box[2]), dtype=self.data.dtype)
        return np.asarray(self.data[lo - a : hi - a])

    def tile(
        self, r0: int, r1: int, c0: int, c1: int, band: npt.NDArray[Any] | None = None
    ) -> npt.NDArray[Any]:
        """Dense tile ``[r0:r1, c0:c1]`` (NaN outside the window). ``band``: what
        :meth:`window_rows` gave for these rows, to cut the tile from instead of the window
        (tiles of one band of rows then read a window kept on disk once, not once each)."""
        r0, r1 = max(0, r0), min(self.shape[0], r1)
        c0, c1 = max(0, c0), min(self.shape[1], c1)
        out = np.full((max(0, r1 - r0), max(0, c1 - c0)), np.nan, dtype=self.data.dtype)
        a, b, wc0, wc1 = self.box
        lo, hi = max(a, r0), min(b, r1)
        left, right = max(wc0, c0), min(wc1, c1)
        if lo < hi and left < right:
            if band is None:
                band = self.window_rows(r0, r1)
            elif band.shape != (hi - lo, wc1 - wc0):
                raise ParameterError("band", f"shape {band.shape}",
                                     f"the window's rows {lo}:{hi}, shape "
                                     f"{(hi - lo, wc1 - wc0)}")  # fmt: skip
            out[lo - r0 : hi - r0, left - c0 : right - c0] = band[:, left - wc0 : right - wc0]
        return out

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, slice) and key.step in (None, 1):
            r0, r1, _ = key.indices(self.shape[0])
            return self.rows(r0, r1)
        return np.asarray(self)[key]

    def __array__(self, dtype: Any = None, copy: Any = None) -> npt.NDArray[Any]:
        out = self.rows(0, self.shape[0])
        return out if dtype is None else out.astype(dtype)


class SparsePoints:
    """Values at a set of points, stored only where they are not NaN.

    A site's losses at a border's population samples are NaN beyond its radius: only the
    points within it are stored (indices, sorted, and values in the provider's dtype), so that
    the losses of every site at every sample need not be held dense. Indexing with a slice or
    an index array gives dense values (NaN where nothing is stored); ``np.asarray`` the dense
    array.

    Parameters
    ----------
    dense : array_like, shape (n,)
        The values at every point [dB].
    """

    __slots__ = ("dtype", "index", "size", "values")

    def __init__(self, dense: Any) -> None:
        a = np.asarray(dense)
        if a.ndim != 1:
            raise ParameterError("dense", f"shape {a.shape}", "one value per point (1-D)")
        keep = np.flatnonzero(~np.isnan(a))
        self.size = int(a.size)
        self.dtype = a.dtype
        self.index = keep.astype(np.int32 if a.size < 2**31 else np.int64)
        self.values = a[keep]

    @classmethod
    def from_parts(cls, size: int, index: Any, values: Any) -> SparsePoints:
        """Wrap (without copying) ``values`` at the sorted point indices ``index`` of ``size``
        points: a provider's cache shared, not duplicated."""
        idx, vals = np.asarray(index), np.asarray(values)
        if idx.ndim != 1 or vals.shape != idx.shape or idx.dtype.kind not in "iu":
            raise ParameterError("index", f"shape {idx.shape}",
                                 f"1-D integer indices, one per value ({vals.shape})")  # fmt: skip
        if idx.size and (idx[0] < 0 or idx[-1] >= size or np.any(np.diff(idx) <= 0)):
            raise ParameterError("index", "unsorted or out of range",
                                 f"increasing indices from 0 to {size - 1}")  # fmt: skip
        out = cls.__new__(cls)
        out.size, out.dtype, out.index, out.values = int(size), vals.dtype, idx, vals
        return out

    @property
    def shape(self) -> tuple[int]:
        return (self.size,)

    @property
    def nbytes(self) -> int:
        return int(self.index.nbytes + self.values.nbytes)

    def isfinite(self) -> npt.NDArray[np.bool_]:
        """Whether each point's value is finite (dense, one per point)."""
        out = np.zeros(self.size, dtype=bool)
        out[self.index[np.isfinite(self.values)]] = True
        return out

    def __getitem__(self, key: Any) -> npt.NDArray[Any]:
        idx, vals = self.index, self.values
        if isinstance(key, slice) and key.step in (None, 1):
            r0, r1, _ = key.indices(self.size)
            out = np.full(max(0, r1 - r0), np.nan, dtype=self.dtype)
            a, b = np.searchsorted(idx, [r0, r1])
            out[idx[a:b] - r0] = vals[a:b]
            return out
        q = np.arange(self.size)[key] if isinstance(key, slice) else np.asarray(key)
        if q.dtype.kind not in "iu":
            raise ParameterError("key", key, "a slice or an array of point indices")
        from yalu.radio._kernels import sparse_take

        out = np.empty(q.shape, dtype=self.dtype)
        flat = np.ascontiguousarray(q, dtype=np.int64).ravel()
        sparse_take(idx, vals, self.size, flat, out.reshape(-1))
        return out

    def __array__(self, dtype: Any = None, copy: Any = None) -> npt.NDArray[Any]:
        out = self[0 : self.size]
        return out if dtype is None else out.astype(dtype)


def _compact_points(arr: npt.NDArray[Any]) -> Any:
    """``arr`` as :class:`SparsePoints` when that holds it in fewer bytes, else itself."""
    n_keep = int(np.count_nonzero(~np.isnan(arr)))
    index_bytes = 4 if arr.size < 2**31 else 8
    if n_keep * (arr.itemsize + index_bytes) < arr.nbytes:
        return SparsePoints(arr)
    return arr


def _finite(m: Any) -> npt.NDArray[np.bool_]:
    return m.isfinite() if isinstance(m, SparsePoints) else np.isfinite(np.asarray(m))


class PathLossProvider(Protocol):
    """What :func:`compute_layers` needs from a propagation engine.

    A provider may also have ``prefetch(requests, grid)`` and ``prefetch_points(requests,
    lat_deg, lon_deg)`` (``requests``: :func:`layer_requests`): :class:`LayerInputs` calls them
    first, so that an engine can compute the maps of one antenna together.
    """

    def grid_loss_db(
        self,
        antenna: Antenna,
        frequency_mhz: float,
        direction: str,
        grid: Grid,
        node_height_m: float,
    ) -> npt.ArrayLike:
        """Basic transmission loss [dB] between ``antenna`` and every node of ``grid`` (nodes
        ``node_height_m`` above ground), shape ``grid.shape``; NaN where not computed (out of
        range). ``direction``: ``"forward"`` (antenna transmits) or ``"reverse"`` (nodes do)."""
        ...

    def point_loss_db(self, tx: Antenna, rx: Antenna, frequency_mhz: float) -> float:
        """Basic transmission loss [dB] from ``tx`` to ``rx``; inf where out of range."""
        ...


class PointsPathLossProvider(PathLossProvider, Protocol):
    """A provider that also answers at scattered points (what :func:`compute_point_layers`
    needs): the loss between ``antenna`` and each point, on the point's own path."""

    def points_loss_db(
        self,
        antenna: Antenna,
        frequency_mhz: float,
        direction: str,
        lat_deg: npt.NDArray[Any],
        lon_deg: npt.NDArray[Any],
        node_height_m: float,
    ) -> npt.ArrayLike:
        """Basic transmission loss [dB] between ``antenna`` and each point (``node_height_m``
        above ground), the points' shape; NaN where not computed (out of range)."""
        ...


GridLossFn = Callable[[float, float, float, float, float, Grid], npt.ArrayLike]


@dataclass
class FunctionPathLoss:
    """A :class:`PathLossProvider` from one reciprocal function (models, tests, notebooks).

    ``fn(lat_deg, lon_deg, h_tx_m, h_rx_m, frequency_mhz, grid) -> loss_db`` of shape
    ``grid.shape``; a point loss is the function on a one-node grid at the receiver. The function
    is taken to be the same in both directions.
    """

    fn: GridLossFn

    def grid_loss_db(
        self,
        antenna: Antenna,
        frequency_mhz: float,
        direction: str,
        grid: Grid,
        node_height_m: float,
    ) -> npt.ArrayLike:
        return self.fn(
            antenna.lat_deg, antenna.lon_deg, antenna.height_m, node_height_m, frequency_mhz, grid
        )

    def point_loss_db(self, tx: Antenna, rx: Antenna, frequency_mhz: float) -> float:
        g = Grid(rx.lat_deg, rx.lon_deg, 1e-4, 1e-4, 1, 1)
        v = float(
            np.asarray(
                self.fn(tx.lat_deg, tx.lon_deg, tx.height_m, rx.height_m, frequency_mhz, g),
                dtype=float,
            ).ravel()[0]
        )
        return v if math.isfinite(v) else math.inf

    def points_loss_db(
        self,
        antenna: Antenna,
        frequency_mhz: float,
        direction: str,
        lat_deg: npt.NDArray[Any],
        lon_deg: npt.NDArray[Any],
        node_height_m: float,
    ) -> npt.NDArray[np.float64]:
        # the function on a one-node grid per point (tests and notebooks: few points)
        la, lo = np.asarray(lat_deg, float), np.asarray(lon_deg, float)
        out = np.empty(la.shape)
        for i, (a, b) in enumerate(zip(la.ravel(), lo.ravel(), strict=True)):
            g = Grid(float(a), float(b), 1e-4, 1e-4, 1, 1)
            out.flat[i] = float(
                np.asarray(
                    self.fn(
                        antenna.lat_deg,
                        antenna.lon_deg,
                        antenna.height_m,
                        node_height_m,
                        frequency_mhz,
                        g,
                    ),
                    dtype=float,
                ).ravel()[0]
            )
        return out


@dataclass(frozen=True)
class RadioLayers:
    """The radio layers of one network and handset on a grid.

    Attributes
    ----------
    grid : Grid
    site_ids : list of str
        ``best_server`` values index this list (-1: no server).
    layers : dict of str to numpy.ndarray
        ``rsrp_dbm`` (RSRP, or RxLev for GSM), ``ul_margin_db``, ``dl_sinr_db``, ``ul_sinr_db``
        (float32), ``best_server`` (int32), ``service_level`` (uint8,
        :class:`yalu.radio.Service`), each of ``grid.shape``.
    restricted : numpy.ndarray of bool
        Nodes inside a restricted zone.
    zone_index : numpy.ndarray of int16
        Index of the zone holding each node (-1: none).
    budget : LinkBudget or None
        The full per-technology budget, kept only with ``detail=True``.
    """

    grid: Grid
    site_ids: list[str]
    layers: dict[str, npt.NDArray[Any]]
    restricted: npt.NDArray[np.bool_]
    zone_index: npt.NDArray[np.int16]
    budget: LinkBudget | None = field(default=None, repr=False)

    @property
    def service_level(self) -> npt.NDArray[np.uint8]:
        return self.layers["service_level"]

    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        """Every layer by name, with ``restricted``."""
        return {**self.layers, "restricted": self.restricted}


def split_jammer_ranges(jammers: Sequence[Jammer]) -> list[Jammer]:
    """One jammer per frequency range, each with its share of the EIRP by width.

    Exact under the flat power-density model of :class:`yalu.radio.Jammer`; lets each range
    propagate at its own frequency. A jammer with one range keeps its id; others get ``id#k``.
    """
    out = []
    for j in jammers:
        for k, (lo, hi) in enumerate(j.ranges_mhz):
            share = (hi - lo) / j.bandwidth_mhz
            out.append(
                j.model_copy(
                    update={
                        "id": j.id if len(j.ranges_mhz) == 1 else f"{j.id}#{k}",
                        "eirp_dbm": j.eirp_dbm + 10 * math.log10(share),
                        "ranges_mhz": [(lo, hi)],
                    }
                )
            )
    return out


def layer_requests(
    sites: Sequence[Site], jammers: Sequence[Jammer], handset: Handset
) -> list[tuple[Antenna, float, str, float]]:
    """The grid maps :func:`compute_layers` asks for: (antenna, frequency [MHz], direction,
    node height [m]) for each site's downlink and uplink and each jammer range."""
    h = float(handset.height_m)
    out: list[tuple[Antenna, float, str, float]] = []
    for s in sites:
        a = Antenna(s.lat_deg, s.lon_deg, s.height_m)
        out.append((a, s.dl_carrier_mhz, "forward", h))
        out.append((a, s.ul_carrier_mhz, "reverse", h))
    for j in split_jammer_ranges(jammers):
        lo, hi = j.ranges_mhz[0]
        out.append((Antenna(j.lat_deg, j.lon_deg, j.height_m), 0.5 * (lo + hi), "forward", h))
    return out


def _ground_m(terrain: TerrainLike | None, lat: Any, lon: Any) -> np.ndarray:
    """Terrain height [m] (0 where there is no terrain or it is void)."""
    lat_a = np.asarray(lat, float)
    if terrain is None:
        return np.zeros(lat_a.shape)
    z = np.asarray(terrain.elevation_m(lat, lon), dtype=float).reshape(lat_a.shape)
    return np.nan_to_num(z, nan=0.0, posinf=0.0, neginf=0.0)


def _antenna_ground_m(
    memo: dict[tuple[float, float], float],
    terrain: TerrainLike | None,
    lat: Sequence[float],
    lon: Sequence[float],
) -> npt.NDArray[np.float64]:
    """:func:`_ground_m` at antenna positions, each read from ``terrain`` once into ``memo``
    (position -> height): the values are those read afresh (pointwise), bit for bit."""
    keys = [(float(a), float(b)) for a, b in zip(lat, lon, strict=True)]
    todo = [k for k in dict.fromkeys(keys) if k not in memo]
    if todo:
        z = _ground_m(terrain, [k[0] for k in todo], [k[1] for k in todo])
        memo.update(zip(todo, z.tolist(), strict=True))
    return np.array([memo[k] for k in keys], dtype=np.float64)


def _per_site_sigma(location_sigma_db: Any, n: int) -> npt.NDArray[np.float64] | None:
    """Location variability per site [dB] (None stays None)."""
    if location_sigma_db is None:
        return None
    try:
        return np.broadcast_to(np.asarray(location_sigma_db, dtype=float), (n,))
    except ValueError:
        want = f"a float or {n} values, one per site"
        raise ParameterError("location_sigma_db", location_sigma_db, want) from None


def _put_layers(
    layers: dict[str, npt.NDArray[Any]], lb: LinkBudget, sel: npt.NDArray[np.intp],
    shape: tuple[int, ...], where: Any,
) -> None:  # fmt: skip
    """Write a block's budget layers at ``where`` in ``layers`` (created with ``shape``);
    ``best_server`` goes from the block's sites ``sel`` back to all sites' indices."""
    for name, arr in lb.layers().items():
        a_ = np.asarray(arr)
        if name == "best_server":
            a_ = np.where(a_ >= 0, sel[np.maximum(a_, 0)], -1).astype(a_.dtype)
        if name not in layers:
            dt = np.float32 if a_.dtype.kind == "f" else a_.dtype
            layers[name] = np.empty(shape, dtype=dt)
        layers[name][where] = a_


def _box_union(*boxes: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """The smallest box ``(r0, r1, c0, c1)`` holding every box."""
    return (min(b[0] for b in boxes), max(b[1] for b in boxes), min(b[2] for b in boxes),
            max(b[3] for b in boxes))  # fmt: skip


def _union_box(*maps: Any) -> tuple[int, int, int, int] | None:
    """The union of the windows of ``maps`` (None when one of them is not windowed)."""
    boxes = [m.box if isinstance(m, WindowedMap) else None for m in maps]
    if any(b is None for b in boxes):
        return None
    return _box_union(*(b for b in boxes if b is not None))


def _tile(m: Any, r0: int, r1: int, c0: int, c1: int) -> npt.NDArray[Any]:
    if isinstance(m, WindowedMap):
        return m.tile(r0, r1, c0, c1)
    return np.asarray(m[r0:r1])[:, c0:c1]


def _grid_loss(
    provider: PathLossProvider,
    antenna: Antenna,
    frequency_mhz: float,
    direction: str,
    grid: Grid,
    node_height_m: float,
) -> npt.NDArray[np.floating[Any]] | WindowedMap:
    # kept in the provider's dtype and, for a windowed map, as the window: no copy of cached maps
    got = provider.grid_loss_db(antenna, frequency_mhz, direction, grid, node_height_m)
    arr = got if isinstance(got, WindowedMap) else np.asarray(got)
    if arr.shape != grid.shape:
        raise ParameterError(
            "path_loss.grid_loss_db",
            f"returned shape {arr.shape}",
            f"the grid's shape {grid.shape}",
        )
    return arr


def _as_provider(path_loss: Any) -> Any:
    if callable(path_loss) and not hasattr(path_loss, "grid_loss_db"):
        return FunctionPathLoss(path_loss)
    return path_loss


def compute_layers(
    sites: Sequence[Site],
    handset: Handset,
    tech_profiles: Mapping[Any, TechnologyProfile],
    jammers: Sequence[Jammer],
    zones: Sequence[Any],
    grid: Grid,
    path_loss: PathLossProvider | GridLossFn,
    *,
    terrain: TerrainLike | None = None,
    detail: bool = False,
    block_elements: int = BLOCK_ELEMENTS,
    progress: Callable[[int, int], None] | None = None,
    location_sigma_db: npt.ArrayLike | None = None,
    geometry: GridGeometry | None = None,
    layer_sink: Callable[[str, tuple[int, ...], Any], Any] | None = None,
) -> RadioLayers:
    """Downlink and uplink budgets, SINR and service level of a network on ``grid``.

    Parameters
    ----------
    sites : sequence of Site
        Sector-carriers (one sector, one carrier each); at least one.
    handset : Handset
        The handset (its ``height_m`` is the node height).
    tech_profiles : mapping Technology -> TechnologyProfile
        Thresholds and range limits of every technology of ``sites``.
    jammers : sequence of Jammer
        Active jammers (split per range internally, see :func:`split_jammer_ranges`).
    zones : sequence of CircleZone / PolygonZone
        Restricted zones (a layer of its own; physics unchanged).
    grid : Grid
        Output nodes.
    path_loss : PathLossProvider or callable
        The propagation engine (a plain function is wrapped in :class:`FunctionPathLoss`).
    terrain : yalu.terrain.TerrainLike, optional
        Ground heights for antenna elevation angles (None: flat ground at 0 m).
    detail : bool
        Keep the full per-technology :class:`LinkBudget` (one block: memory grows with
        sites x nodes x every intermediate).
    block_elements : int
        Row-block size, in (site x node) elements, when not ``detail``.
    progress : callable(done, total), optional
        Called after each row block.
    location_sigma_db : float or array_like (n_sites,), optional
        Location variability of each site's path [dB]: adds the layers ``p_sms``, ``p_voice``,
        ``p_data`` (:func:`yalu.radio.budget.service_probability`).
    geometry : GridGeometry, optional
        The geometry of ``grid`` on ``terrain``, to share ground heights, distances and
        azimuths with other networks on it.
    layer_sink : callable(name, shape, dtype), optional
        Where the layers go instead of whole in-memory arrays (not with ``detail``): called
        once per layer, it returns a writer whose ``write(rows)`` takes the layer's next band
        of rows, whose ``close()`` returns the array-like kept in :attr:`RadioLayers.layers`
        and whose ``abort()`` drops it (e.g. :meth:`yalu.io.spill.SpillStore.rows`). Memory
        then holds one band of rows of the layers, whatever the grid.

    Returns
    -------
    RadioLayers
    """
    inputs = LayerInputs(sites, handset, jammers, grid, path_loss, terrain=terrain,
                         geometry=geometry)  # fmt: skip
    nr, nc = grid.shape
    # Tiles of rows x columns: a tile's budget takes only the sites whose maps reach it (any
    # node sees a few of a border's sites), with the same values as with all of them.
    cols = nc if detail else min(nc, TILE_COLUMNS)
    rows = nr if detail else max(1, int(block_elements // max(1, inputs.width * cols)))
    sig_all = _per_site_sigma(location_sigma_db, len(sites))
    layers: dict[str, Any] = {}
    writers: dict[str, Any] = {}
    band: dict[str, npt.NDArray[Any]] = {}
    budget: LinkBudget | None = None
    tiles = [(r0, c0) for r0 in range(0, nr, rows) for c0 in range(0, nc, cols)]
    sink = None if detail else layer_sink
    try:
        for ti, (r0, c0) in enumerate(tiles):
            r1, c1 = min(r0 + rows, nr), min(c0 + cols, nc)
            sel = np.arange(len(sites)) if detail else inputs.active_sites(r0, r1, c0, c1)
            if sel.size == 0:
                sel = np.arange(1)  # no site reaches the tile: one, all NaN, gives "no signal"
            lb = link_budget(
                [sites[int(i)] for i in sel], handset, tech_profiles,
                **inputs.block(r0, r1, c0, c1, site_index=sel),
                location_sigma_db=None if sig_all is None else sig_all[sel],
            )  # fmt: skip
            if detail:
                budget = lb
            if sink is None:
                _put_layers(layers, lb, sel, grid.shape, (slice(r0, r1), slice(c0, c1)))
            else:
                if c0 == 0:
                    band = {}
                _put_layers(band, lb, sel, (r1 - r0, nc), (slice(None), slice(c0, c1)))
                if c1 == nc:  # the band of rows is whole: on to the sink
                    for name, arr in band.items():
                        if name not in writers:
                            writers[name] = sink(name, grid.shape, arr.dtype)
                        writers[name].write(arr)
            if progress is not None:
                progress(ti + 1, len(tiles))
        for name, w in writers.items():
            layers[name] = w.close()
    except BaseException:
        for w in writers.values():
            w.abort()
        raise
    del band
    site_ids = [s.id for s in sites]
    zs = list(zones)
    index = grid.evaluate(lambda la, lo: rasterize_zones(zs, la, lo)[1], np.int16)
    restricted = index >= 0
    return RadioLayers(grid, site_ids, layers, restricted, index, budget)


class PointGeometry:
    """Geometry of one set of scattered points, shared by every :class:`LayerInputs` at them.

    The ground height at each point and the azimuth and distance (Vincenty, as
    :func:`yalu.geodesy.azimuth_distance_vincenty`) from each antenna position to each point,
    computed when first asked and kept: the variants of a scenario and the geometries of an
    uncertainty run put their networks on the same towns and samples, so each value is computed
    once instead of once per network. Values are those computed afresh, bit for bit.

    Parameters
    ----------
    lat_deg, lon_deg : array_like, shape (N,)
        Point positions [deg] (flattened).
    terrain : yalu.terrain.TerrainLike, optional
        Ground heights (None: flat ground at 0 m).
    """

    def __init__(
        self, lat_deg: npt.ArrayLike, lon_deg: npt.ArrayLike, terrain: TerrainLike | None = None
    ) -> None:
        la = np.array(lat_deg, dtype=np.float64).ravel()
        lo = np.array(lon_deg, dtype=np.float64).ravel()
        if la.shape != lo.shape:
            raise ParameterError("lon_deg", f"{lo.size} values", f"as many as lat_deg ({la.size})")
        la.flags.writeable = lo.flags.writeable = False
        self.lat, self.lon, self.terrain = la, lo, terrain
        self._ground: npt.NDArray[np.float64] | None = None
        self._geo: dict[tuple[float, float], tuple[Any, Any, Any]] = {}
        self._antenna_z: dict[tuple[float, float], float] = {}

    def antenna_ground_m(self, lat_deg: Sequence[float],
                         lon_deg: Sequence[float]) -> npt.NDArray[np.float64]:  # fmt: skip
        """Ground height [m] under antennas at (``lat_deg``, ``lon_deg``), each position read
        from the terrain once and kept (a float each): later networks at the same positions
        read no terrain."""
        return _antenna_ground_m(self._antenna_z, self.terrain, lat_deg, lon_deg)

    def ground_m(self, index: Any) -> npt.NDArray[np.float64]:
        """Ground height [m] at the points ``index`` (0 where void or without terrain)."""
        if self._ground is None:
            self._ground = _ground_m(self.terrain, self.lat, self.lon)
        return self._ground[index]

    def azimuth_distance(
        self, position: tuple[float, float], index: npt.NDArray[np.intp]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Azimuth [deg] and distance [m] from ``position`` (lat, lon) [deg] to the points
        ``index``; only the points not asked before are computed."""
        hit = self._geo.get(position)
        if hit is None:
            n = self.lat.size
            hit = self._geo[position] = (np.zeros(n), np.zeros(n), np.zeros(n, dtype=bool))
        az, dist, done = hit
        todo = index[~done[index]]
        if todo.size:
            lat0, lon0 = position
            az[todo], dist[todo] = azimuth_distance_vincenty(lat0, lon0, self.lat[todo],
                                                             self.lon[todo])  # fmt: skip
            done[todo] = True
        return az[index], dist[index]


class GridGeometry:
    """Geometry of one grid, shared by every :class:`LayerInputs` on it.

    The ground height at each node and the azimuth and distance (Vincenty, as
    :func:`yalu.geodesy.azimuth_distance_vincenty`) from each antenna position to the nodes of
    the windows asked for, computed when first asked and kept: the variants of a scenario and
    the geometries of an uncertainty run put their networks on the same grid, mostly from the
    same antenna positions, so each value is computed once instead of once per network. Values
    are those computed afresh, bit for bit (both are elementwise on the grid's own node
    coordinates), and only nodes asked for are computed. Memory is bounded by ``max_bytes``:
    a position whose window does not fit any more is computed for each block, as without a
    cache.

    Parameters
    ----------
    grid : Grid
    terrain : yalu.terrain.TerrainLike, optional
        Ground heights (None: flat ground at 0 m).
    max_bytes : int, optional
        Bound of what is kept [bytes] (default :data:`GRID_GEOMETRY_BYTES`).
    store : optional
        Where what does not fit in ``max_bytes`` is kept instead of computed again for each
        block: an object whose ``rows(name, shape, dtype)`` gives a writer of an array by bands
        of rows (``write(rows)``, ``close()`` -> an array-like whose ``rows(r0, r1)`` reads
        rows back, ``abort()``), e.g. :meth:`yalu.io.spill.SpillStore.rows`. The ground
        heights of the whole grid, and the azimuths and distances of a position's whole
        window, are then computed once, a band of rows at a time, and read back by rows.
    """

    #: Nodes computed at a time when a window or the ground goes to ``store``.
    STORE_BAND_NODES = 1 << 20

    def __init__(
        self, grid: Grid, terrain: TerrainLike | None = None, max_bytes: int | None = None,
        store: Any = None,
    ) -> None:  # fmt: skip
        limit = GRID_GEOMETRY_BYTES if max_bytes is None else int(max_bytes)
        if limit < 0:
            raise ParameterError("max_bytes", max_bytes, "an integer >= 0")
        self.grid, self.terrain, self.max_bytes = grid, terrain, limit
        self.store = store
        self._lat, self._lon = grid.lats(), grid.lons()
        self._ground: tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]] | None = None
        self._ground_disk: Any = None
        # position -> (window (r0, r1, c0, c1), azimuth, distance, computed)
        self._geo: dict[tuple[float, float], tuple[tuple[int, int, int, int], Any, Any, Any]] = {}
        # position -> (window, azimuth, distance) kept in ``store``
        self._disk: dict[tuple[float, float], tuple[tuple[int, int, int, int], Any, Any]] = {}
        # the last band of rows read back per stored array: tiles of a band share it
        self._band: dict[int, npt.NDArray[np.float64]] = {}
        self._band_rows = (-1, -1)
        self.held_bytes = 0
        self._antenna_z: dict[tuple[float, float], float] = {}

    def antenna_ground_m(self, lat_deg: Sequence[float],
                         lon_deg: Sequence[float]) -> npt.NDArray[np.float64]:  # fmt: skip
        """Ground height [m] under antennas at (``lat_deg``, ``lon_deg``), each position read
        from the terrain once and kept (a float each): the Monte Carlo's networks, built after
        the run dropped the terrain's block cache, read no terrain for them."""
        return _antenna_ground_m(self._antenna_z, self.terrain, lat_deg, lon_deg)

    def _stored(self, fn: Callable[[Any, Any], tuple[Any, ...]], names: tuple[str, ...],
                box: tuple[int, int, int, int]) -> list[Any]:  # fmt: skip
        """``fn(lat, lon)`` (float64 arrays, one per name) over ``box`` of the grid, computed a
        band of rows at a time into ``store``: the stored arrays."""
        r0, r1, c0, c1 = box
        shape = (r1 - r0, c1 - c0)
        writers = [self.store.rows(n, shape, np.float64) for n in names]
        try:
            step = max(1, self.STORE_BAND_NODES // max(1, shape[1]))
            for a in range(r0, r1, step):
                b = min(r1, a + step)
                got = fn(*self._nodes(a, b, c0, c1))
                for w, arr in zip(writers, got, strict=True):
                    w.write(np.asarray(arr, dtype=np.float64).reshape(b - a, shape[1]))
            return [w.close() for w in writers]
        except BaseException:
            for w in writers:
                w.abort()
            raise

    def _read(self, arr: Any, row0: int, r0: int, r1: int, c0: int,
              c1: int) -> npt.NDArray[np.float64]:  # fmt: skip
        """Rows ``r0:r1``, columns ``c0:c1`` of a stored array whose first row is grid row
        ``row0`` (indices relative to the array): the rows are read once for the tiles of a
        band, and only the current band's rows are kept."""
        band = (row0 + r0, row0 + r1)
        if self._band_rows != band:
            self._band.clear()
            self._band_rows = band
        hit = self._band.get(id(arr))
        if hit is None:
            hit = self._band[id(arr)] = arr.rows(r0, r1)
        return hit[:, c0:c1]

    def _reserve(self, n_bytes: int) -> bool:
        if self.held_bytes + n_bytes > self.max_bytes:
            return False
        self.held_bytes += n_bytes
        return True

    def _nodes(self, r0: int, r1: int, c0: int, c1: int) -> tuple[Any, Any]:
        return np.meshgrid(self._lat[r0:r1], self._lon[c0:c1], indexing="ij")

    def ground_m(self, r0: int, r1: int, c0: int, c1: int) -> npt.NDArray[np.float64]:
        """Ground height [m] at the nodes of rows ``r0:r1``, columns ``c0:c1`` (0 where void
        or without terrain)."""
        if self._ground_disk is not None:
            return self._read(self._ground_disk, 0, r0, r1, c0, c1)
        if self._ground is None:
            shape = self.grid.shape
            if not self._reserve(9 * shape[0] * shape[1]):
                if self.store is None:
                    return _ground_m(self.terrain, *self._nodes(r0, r1, c0, c1))
                self._ground_disk = self._stored(
                    lambda la, lo: (_ground_m(self.terrain, la, lo),), ("ground_m",),
                    (0, shape[0], 0, shape[1]),
                )[0]  # fmt: skip
                return self._read(self._ground_disk, 0, r0, r1, c0, c1)
            self._ground = (np.zeros(shape), np.zeros(shape, dtype=bool))
        z, done = self._ground
        sub = (slice(r0, r1), slice(c0, c1))
        todo = ~done[sub]
        if todo.any():
            la, lo = self._nodes(r0, r1, c0, c1)
            z[sub][todo] = _ground_m(self.terrain, la[todo], lo[todo])
            done[sub] = True
        return z[sub]

    def azimuth_distance(
        self, position: tuple[float, float], window: tuple[int, int, int, int],
        r0: int, r1: int, c0: int, c1: int,
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:  # fmt: skip
        """Azimuth [deg] and distance [m] from ``position`` (lat, lon) [deg] to the nodes of
        rows ``r0:r1``, columns ``c0:c1``, which lie in ``window`` (rows and columns of the
        position's maps, kept for later blocks); only the nodes not asked before are
        computed."""
        on_disk = self._disk.get(position)
        if on_disk is not None:
            w = on_disk[0]
            if w[0] <= r0 and r1 <= w[1] and w[2] <= c0 and c1 <= w[3]:
                box = (r0 - w[0], r1 - w[0], c0 - w[2], c1 - w[2])
                return (self._read(on_disk[1], w[0], *box),
                        self._read(on_disk[2], w[0], *box))  # fmt: skip
        hit = self._geo.get(position)
        if hit is not None:
            # a wider window than kept so far grows to the union, with what was computed
            window = _box_union(hit[0], window)
        if hit is None or hit[0] != window:
            n = (window[1] - window[0]) * (window[3] - window[2])
            old = 0 if hit is None else hit[1].size
            if not self._reserve(17 * (n - old)):
                if self.store is not None and hit is None:
                    # the whole window once, on disk (its blocks then read back); a wider one
                    # replaces it (windows only grow: a few times at most)
                    if on_disk is not None:
                        window = _box_union(on_disk[0], window)
                    lat0, lon0 = position
                    az_d, d_d = self._stored(
                        lambda la, lo: azimuth_distance_vincenty(lat0, lon0, la, lo),
                        (f"azimuth_{lat0:.5f}_{lon0:.5f}", f"distance_{lat0:.5f}_{lon0:.5f}"),
                        window,
                    )  # fmt: skip
                    self._disk[position] = (window, az_d, d_d)
                    return self.azimuth_distance(position, window, r0, r1, c0, c1)
                la, lo = self._nodes(r0, r1, c0, c1)
                return azimuth_distance_vincenty(position[0], position[1], la, lo)
            shape = (window[1] - window[0], window[3] - window[2])
            new = (window, np.zeros(shape), np.zeros(shape), np.zeros(shape, dtype=bool))
            if hit is not None:
                w0 = hit[0]
                sub = (slice(w0[0] - window[0], w0[1] - window[0]),
                       slice(w0[2] - window[2], w0[3] - window[2]))  # fmt: skip
                for a, b in zip(new[1:], hit[1:], strict=True):
                    a[sub] = b
            hit = self._geo[position] = new
        w, az, dist, done = hit
        sub = (slice(r0 - w[0], r1 - w[0]), slice(c0 - w[2], c1 - w[2]))
        todo = ~done[sub]
        if todo.any():
            la, lo = self._nodes(r0, r1, c0, c1)
            a_t, d_t = azimuth_distance_vincenty(position[0], position[1], la[todo], lo[todo])
            az[sub][todo] = a_t
            dist[sub][todo] = d_t
            done[sub] = True
        return az[sub], dist[sub]


class LayerInputs:
    """What :func:`yalu.radio.budget.link_budget` needs, for any block of a grid or of points.

    Asks the provider for every loss once (at construction) and computes, per block, the
    geometry (distances, antenna pattern gains toward each node) over the 4/3 effective earth.
    On a grid (``grid``) the losses are grid maps and a block is a range of rows; at scattered
    points (:meth:`at_points`) they are the provider's ``points_loss_db`` at the points
    themselves and a block is a range of points. :func:`compute_layers`,
    :func:`compute_point_layers` and :class:`yalu.radio.ensemble.BudgetEnsemble` all build their
    budgets from it, so that there is one place turning sites, jammers and path loss into
    budget inputs.
    """

    def __init__(
        self,
        sites: Sequence[Site],
        handset: Handset,
        jammers: Sequence[Jammer],
        grid: Grid | None,
        path_loss: PathLossProvider | GridLossFn,
        *,
        terrain: TerrainLike | None = None,
        points: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
        geometry: PointGeometry | GridGeometry | None = None,
    ) -> None:
        if not sites:
            raise ParameterError("sites", "[]", "at least one site")
        if (grid is None) == (points is None):
            raise ParameterError("grid", grid, "a Grid, or None with points given")
        provider = _as_provider(path_loss)
        self.sites = list(sites)
        self.grid = grid
        self.terrain = terrain
        self.h_ue = float(handset.height_m)
        n = len(sites)
        self.ants = [Antenna(s.lat_deg, s.lon_deg, s.height_m) for s in sites]
        self.parts = split_jammer_ranges(jammers)
        m = len(self.parts)
        self.j_ants = [Antenna(j.lat_deg, j.lon_deg, j.height_m) for j in self.parts]
        requests = layer_requests(sites, jammers, handset)
        self.lat: npt.NDArray[np.float64] | None = None
        # id of a site or jammer part -> its pattern as JSON ("" without one): :meth:`block`
        # computes each distinct pattern's gains once per position and height
        self._pattern_keys: dict[int, str] = {}
        # (rows, {id(map): those rows of its window}): see _band_of
        self._band_rows: tuple[tuple[int, int] | None, dict[int, npt.NDArray[Any]]] = (None, {})
        self.geometry = geometry if isinstance(geometry, PointGeometry) else None
        self.grid_geometry = geometry if isinstance(geometry, GridGeometry) else None
        gg = self.grid_geometry
        if geometry is not None and not (
            (points is not None and self.geometry is not None)
            or (gg is not None and gg.grid == grid and gg.terrain is terrain)
        ):
            raise ParameterError(
                "geometry", type(geometry).__name__,
                "the geometry of these points or this grid on this terrain",
            )  # fmt: skip
        self.lon: npt.NDArray[np.float64] | None = None
        if grid is not None:
            # an engine computes the maps of one antenna together (one profile per node)
            if hasattr(provider, "prefetch"):
                provider.prefetch(requests, grid)
            losses = [_grid_loss(provider, a, f, d, grid, h) for a, f, d, h in requests]
        else:
            assert points is not None
            # private read-only copies: a provider may key its cache on their identity
            la = np.asarray(points[0], dtype=np.float64).flatten()
            lo = np.asarray(points[1], dtype=np.float64).flatten()
            la.flags.writeable = lo.flags.writeable = False
            if la.shape != lo.shape:
                raise ParameterError(
                    "lon_deg", f"{lo.size} values", f"as many as lat_deg ({la.size})"
                )
            self.lat, self.lon = la, lo
            pg = self.geometry
            if pg is not None and not (
                pg.terrain is terrain and np.array_equal(pg.lat, la) and np.array_equal(pg.lon, lo)
            ):
                raise ParameterError("geometry", "a PointGeometry of other points or terrain",
                                     "the geometry of these points on this terrain")  # fmt: skip
            if hasattr(provider, "prefetch_points"):
                provider.prefetch_points(requests, la, lo)
            # only where each loss is defined (within its radius): the provider's own sparse
            # cache when it has one, else one dense array at a time, compacted
            losses = [_points_loss_compact(provider, a, f, d, la, lo, h)
                      for a, f, d, h in requests]  # fmt: skip
        self.dl, self.ul, self.jpl = (
            losses[0 : 2 * n : 2], losses[1 : 2 * n : 2], losses[2 * n :]
        )  # fmt: skip
        ants, j_ants = self.ants, self.j_ants
        shared_geo = self.grid_geometry if self.grid_geometry is not None else self.geometry
        ground = (functools.partial(_ground_m, terrain) if shared_geo is None
                  else shared_geo.antenna_ground_m)  # fmt: skip
        self.site_z = ground([a.lat_deg for a in ants], [a.lon_deg for a in ants]) + [
            a.height_m for a in ants
        ]
        self.jam_z = ground([a.lat_deg for a in j_ants], [a.lon_deg for a in j_ants]) + [
            a.height_m for a in j_ants
        ]
        # jammer -> tower, where the jammer's range reaches the site's UL channel
        self.jspl = np.full((m, n), np.inf)
        self.jsg = np.zeros((m, n))
        self.sjg = np.zeros((m, n))
        for k, (j, ja) in enumerate(zip(self.parts, j_ants, strict=True)):
            for i, (s, sa) in enumerate(zip(sites, ants, strict=True)):
                if j.overlap_mhz(s.ul_carrier_mhz, s.noise_bandwidth_mhz) <= 0.0:
                    continue
                self.jspl[k, i] = provider.point_loss_db(ja, sa, s.ul_carrier_mhz)
                az_js, d_js = azimuth_distance(ja.lat_deg, ja.lon_deg, sa.lat_deg, sa.lon_deg)
                az_sj, _ = azimuth_distance(sa.lat_deg, sa.lon_deg, ja.lat_deg, ja.lon_deg)
                el_js = float(elevation_angle_deg(self.jam_z[k], self.site_z[i], d_js))
                el_sj = float(elevation_angle_deg(self.site_z[i], self.jam_z[k], d_js))
                self.jsg[k, i] = float(np.asarray(j.pattern_gain_db(float(az_js), el_js)))
                self.sjg[k, i] = float(np.asarray(s.pattern_gain_db(float(az_sj), el_sj)))
        # geometry per distinct antenna position
        self.positions = list(dict.fromkeys((a.lat_deg, a.lon_deg) for a in ants + j_ants))
        self._boxes = self._position_boxes() if grid is not None else {}
        self._site_boxes = [_union_box(dl, ul) for dl, ul in zip(self.dl, self.ul, strict=True)]
        self._masks = self._position_masks() if grid is None else {}

    @classmethod
    def at_points(
        cls,
        sites: Sequence[Site],
        handset: Handset,
        jammers: Sequence[Jammer],
        lat_deg: npt.ArrayLike,
        lon_deg: npt.ArrayLike,
        path_loss: PointsPathLossProvider | GridLossFn,
        *,
        terrain: TerrainLike | None = None,
        geometry: PointGeometry | None = None,
    ) -> LayerInputs:
        """The inputs at scattered points ``(lat_deg, lon_deg)`` [deg] (flattened), losses from
        ``path_loss.points_loss_db``; :meth:`block` then takes ranges of points.
        ``geometry``: a :class:`PointGeometry` of the same points and terrain, to share
        distances, azimuths and ground heights with other networks at them."""
        return cls(sites, handset, jammers, None, path_loss, terrain=terrain,
                   points=(lat_deg, lon_deg), geometry=geometry)  # fmt: skip

    @property
    def width(self) -> int:
        """Maps per node (sites and jammer ranges)."""
        return len(self.sites) + len(self.parts)

    @property
    def length(self) -> int:
        """What :meth:`block` indexes: grid rows, or points."""
        if self.lat is not None:
            return int(self.lat.size)
        assert self.grid is not None
        return self.grid.shape[0]

    def active_sites(self, r0: int, r1: int, c0: int, c1: int) -> npt.NDArray[np.intp]:
        """Indices of the sites with a map window meeting grid rows ``r0:r1``, columns
        ``c0:c1`` (every site whose maps are not windowed): elsewhere each of their losses is
        NaN, so a budget there needs only these."""
        keep = [i for i, b in enumerate(self._site_boxes)
                if b is None or (b[0] < r1 and r0 < b[1] and b[2] < c1 and c0 < b[3])]  # fmt: skip
        return np.array(keep, dtype=np.intp)

    def point_blocks(
        self, step: int, subset: npt.NDArray[np.bool_] | None = None
    ) -> Iterator[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]]:
        """Blocks of at most ``step`` nearby points (cells of 0.5 deg, row by row) and, for
        each, the sites with a finite loss (DL or UL) at one of its points (possibly none).
        At points only; ``subset`` (bool per point) keeps only those points."""
        if self.lat is None or self.lon is None:
            raise ParameterError("inputs", "on a grid", "inputs at points (at_points)")
        keep = np.arange(self.lat.size) if subset is None else np.flatnonzero(subset)
        cell = np.floor(self.lat[keep] / 0.5) * 1e4 + np.floor(self.lon[keep] / 0.5)
        order = keep[np.argsort(cell, kind="stable")]
        reach = np.empty((len(self.sites), self.lat.size), dtype=bool)
        for i, (d, u) in enumerate(zip(self.dl, self.ul, strict=True)):
            reach[i] = _finite(d) | _finite(u)
        for a in range(0, order.size, step):
            idx = order[a : a + step]
            yield idx, np.flatnonzero(reach[:, idx].any(axis=1))

    def _nodes(
        self, r0: int, r1: int, c0: int = 0, c1: int | None = None
    ) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
        if self.lat is not None and self.lon is not None:
            return self.lat[r0:r1], self.lon[r0:r1]
        assert self.grid is not None
        lat1, lon1 = self.grid.lats(), self.grid.lons()
        la, lo = np.meshgrid(lat1[r0:r1], lon1[c0:c1], indexing="ij")
        return la, lo

    def _maps_by_position(self) -> list[tuple[tuple[float, float], Any]]:
        maps = [(a, m) for a, dl, ul in zip(self.ants, self.dl, self.ul, strict=True)
                for m in (dl, ul)] + list(zip(self.j_ants, self.jpl, strict=True))  # fmt: skip
        return [((a.lat_deg, a.lon_deg), m) for a, m in maps]

    def _position_masks(self) -> dict[tuple[float, float], npt.NDArray[np.bool_]]:
        """Per antenna position, the points where any loss from it is finite (points only):
        elsewhere its geometry is not needed, as beyond a grid map's window."""
        masks: dict[tuple[float, float], npt.NDArray[np.bool_]] = {}
        for p, m in self._maps_by_position():
            fin = _finite(m)
            masks[p] = masks[p] | fin if p in masks else fin
        return masks

    def _position_boxes(self) -> dict[tuple[float, float], tuple[int, int, int, int] | None]:
        """Per antenna position, the grid window holding every map from it (None: the whole
        grid): beyond it each of those losses is NaN, so its geometry is not needed."""
        boxes: dict[tuple[float, float], tuple[int, int, int, int] | None] = {}
        for p, m in self._maps_by_position():
            box = m.box if isinstance(m, WindowedMap) else None
            if p in boxes and (boxes[p] is None or box is None):
                boxes[p] = None
            elif p in boxes:
                old = boxes[p]
                assert old is not None and box is not None
                boxes[p] = _box_union(old, box)
            else:
                boxes[p] = box
        return boxes

    def _band_of(self, r0: int, r1: int, whole: bool) -> dict[int, npt.NDArray[Any]] | None:
        """The rows ``r0:r1`` already read of each map kept on disk, for the tiles of one band
        of rows (grid blocks taken band by band, as :func:`compute_layers` and the ensembles
        do); a new band forgets the last one's, so memory holds one band of rows."""
        if self.grid is None or whole:
            return None
        if self._band_rows[0] != (r0, r1):
            self._band_rows = ((r0, r1), {})
        return self._band_rows[1]

    def block(
        self, r0: int, r1: int, c0: int = 0, c1: int | None = None,
        site_index: npt.ArrayLike | None = None, points: npt.ArrayLike | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Keyword arguments of :func:`yalu.radio.budget.link_budget` for rows ``r0:r1`` of the
        grid, or points ``r0:r1``.

        On a grid, distances and antenna gains from a position are computed only inside the
        window of its maps (:class:`WindowedMap`), at points only where a loss from it is
        finite; elsewhere every loss from it is NaN and the block holds distance inf and gain
        0 dB, which no budget reads.

        On a grid, ``c0:c1`` narrows the block to those columns (default all) and
        ``site_index`` to those sites (default all, in order; every jammer stays, as each one
        reaches every site's uplink): :func:`compute_layers` passes
        :meth:`active_sites` of each tile. At points, ``points`` (indices into them) replaces
        ``r0:r1`` and ``site_index`` selects sites the same way.
        """
        parts, j_ants = self.parts, self.j_ants
        pts: Any = slice(r0, r1)
        if self.grid is None:
            c0, c1 = 0, None
            if points is not None:
                pts = np.asarray(points, dtype=np.intp)
        else:
            points = None
        n_sites = len(self.sites)
        sel = np.arange(n_sites) if site_index is None else np.asarray(site_index, dtype=np.intp)
        if sel.ndim != 1 or (sel.size and (sel.min() < 0 or sel.max() >= n_sites)):
            raise ParameterError("site_index", site_index, f"indices from 0 to {n_sites - 1}")
        if isinstance(pts, np.ndarray):
            n_pts = self.length
            if pts.ndim != 1 or (pts.size and (pts.min() < 0 or pts.max() >= n_pts)):
                raise ParameterError("points", points, f"indices from 0 to {n_pts - 1}")
        sites = [self.sites[i] for i in sel]
        ants = [self.ants[i] for i in sel]
        if self.grid is not None:
            c1 = self.grid.shape[1] if c1 is None else c1
        if points is not None:
            assert self.lat is not None and self.lon is not None
            la, lo = self.lat[pts], self.lon[pts]
        else:
            la, lo = self._nodes(r0, r1, c0, c1)
        whole = self.grid is None or (c0 == 0 and c1 == self.grid.shape[1])
        shared = self.geometry
        gidx: Any = None  # the block's points as indices into all of them
        grid_geo = self.grid_geometry
        if shared is not None:
            gidx = pts if isinstance(pts, np.ndarray) else np.arange(self.length)[pts]
            node_z = shared.ground_m(gidx) + self.h_ue
        elif grid_geo is not None:
            node_z = grid_geo.ground_m(r0, r1, c0, c0 + la.shape[1]) + self.h_ue
        else:
            node_z = _ground_m(self.terrain, la, lo) + self.h_ue
        boxes = self._boxes if self.grid is not None else {}
        geo: dict[tuple[float, float], tuple[Any, Any, Any]] = {}
        needed = set((a.lat_deg, a.lon_deg) for a in ants + j_ants)
        for p in self.positions:
            if p not in needed:
                continue
            mask = self._masks.get(p)
            if mask is not None:
                az, dist = np.zeros(la.shape), np.full(la.shape, np.inf)
                pick = np.flatnonzero(mask[pts])
                if pick.size and shared is not None:
                    az[pick], dist[pick] = shared.azimuth_distance(p, gidx[pick])
                elif pick.size:
                    az[pick], dist[pick] = azimuth_distance_vincenty(p[0], p[1], la[pick],
                                                                     lo[pick])  # fmt: skip
                geo[p] = (az, dist, pick if pick.size else None)
                continue
            box = boxes.get(p)
            if box is None:
                if grid_geo is not None:
                    assert self.grid is not None
                    az, dist = grid_geo.azimuth_distance(p, (0, self.grid.shape[0], 0,
                                                             self.grid.shape[1]),
                                                         r0, r1, c0, c0 + la.shape[1])  # fmt: skip
                else:
                    az, dist = azimuth_distance_vincenty(p[0], p[1], la, lo)
                geo[p] = (az, dist, ...)
                continue
            az, dist = np.zeros(la.shape), np.full(la.shape, np.inf)
            ra, rb = max(box[0], r0), min(box[1], r1)
            ca, cb = max(box[2], c0), min(box[3], c0 + la.shape[1])
            sub: Any = None
            if ra < rb and ca < cb:
                sub = (slice(ra - r0, rb - r0), slice(ca - c0, cb - c0))
                if grid_geo is not None:
                    az[sub], dist[sub] = grid_geo.azimuth_distance(p, box, ra, rb, ca, cb)
                else:
                    az[sub], dist[sub] = azimuth_distance_vincenty(p[0], p[1], la[sub], lo[sub])
            geo[p] = (az, dist, sub)

        # The carriers of a sector share its position, height and pattern, the sectors of a
        # site its position and height: each elevation field and each pattern's gain field is
        # computed once per block (the same calls on the same arrays, so the same bits).
        elevations: dict[tuple[Any, ...], npt.NDArray[np.float64]] = {}
        patterns: dict[tuple[Any, ...], npt.NDArray[np.float64]] = {}

        def gains(antennas: Any, heights: Any, models: Any) -> npt.NDArray[np.float64]:
            out = np.zeros((len(antennas), *la.shape))
            for i, (m, a) in enumerate(zip(models, antennas, strict=True)):
                pos = (a.lat_deg, a.lon_deg)
                az, dist, sub = geo[pos]
                if sub is None:
                    continue
                h = float(heights[i])
                el = elevations.get((pos, h))
                if el is None:
                    el = elevations[(pos, h)] = elevation_angle_deg(h, node_z[sub], dist[sub])
                pk = self._pattern_keys.get(id(m))
                if pk is None:
                    pattern = getattr(m, "pattern", None)
                    # the models live as long as these inputs (self.sites, self.parts)
                    pk = self._pattern_keys[id(m)] = (
                        "" if pattern is None else pattern.model_dump_json()
                    )
                key = None if pk == "" else (pos, h, pk)
                g = None if key is None else patterns.get(key)
                if g is None:
                    g = m.pattern_gain_db(az[sub], el)
                    if key is not None:
                        patterns[key] = g
                out[i][sub] = g
            return out

        band_cache = self._band_of(r0, r1, whole)

        def rows(x: Any) -> Any:
            if self.grid is None:
                return x[pts]
            if whole:
                return x[r0:r1]
            if band_cache is not None and isinstance(x, WindowedMap) and _row_source(x.data):
                # a window kept on disk: its rows read once for every tile of this band
                band = band_cache.get(id(x))
                if band is None:
                    band = band_cache[id(x)] = x.window_rows(r0, r1)
                return x.tile(r0, r1, c0, c0 + la.shape[1], band=band)
            return _tile(x, r0, r1, c0, c0 + la.shape[1])

        kw: dict[str, Any] = {
            "dl_path_loss_db": np.stack([rows(self.dl[i]) for i in sel]),
            "ul_path_loss_db": np.stack([rows(self.ul[i]) for i in sel]),
            "distance_m": np.stack([geo[(a.lat_deg, a.lon_deg)][1] for a in ants]),
            "site_gain_db": gains(ants, np.asarray(self.site_z)[sel], sites),
        }
        if parts:
            kw.update(
                {
                    "jammers": parts,
                    "jammer_path_loss_db": np.stack([rows(x) for x in self.jpl]),
                    "jammer_gain_db": gains(j_ants, self.jam_z, parts),
                    "jammer_site_path_loss_db": self.jspl[:, sel],
                    "jammer_site_gain_db": self.jsg[:, sel],
                    "site_jammer_gain_db": self.sjg[:, sel],
                }
            )
        return kw


@dataclass(frozen=True)
class PointLayers:
    """The radio layers of one network and handset at scattered points (see
    :func:`compute_point_layers`); the same layers as :class:`RadioLayers`, 1-D."""

    lat_deg: npt.NDArray[np.float64]
    lon_deg: npt.NDArray[np.float64]
    site_ids: list[str]
    layers: dict[str, npt.NDArray[Any]]
    restricted: npt.NDArray[np.bool_]
    zone_index: npt.NDArray[np.int16]

    @property
    def service_level(self) -> npt.NDArray[np.uint8]:
        return self.layers["service_level"]


def _points_loss(
    provider: Any,
    antenna: Antenna,
    frequency_mhz: float,
    direction: str,
    lat: npt.NDArray[np.float64],
    lon: npt.NDArray[np.float64],
    node_height_m: float,
) -> npt.NDArray[np.floating[Any]]:
    if not hasattr(provider, "points_loss_db"):
        raise ParameterError(
            "path_loss",
            type(provider).__name__,
            "a provider with points_loss_db (e.g. EnginePathLoss)",
        )
    arr = np.asarray(provider.points_loss_db(antenna, frequency_mhz, direction, lat, lon,
                                             node_height_m))  # fmt: skip
    if arr.shape != lat.shape:
        raise ParameterError(
            "path_loss.points_loss_db",
            f"returned shape {arr.shape}",
            f"the points' shape {lat.shape}",
        )
    return arr


def _points_loss_compact(
    provider: Any,
    antenna: Antenna,
    frequency_mhz: float,
    direction: str,
    lat: npt.NDArray[np.float64],
    lon: npt.NDArray[np.float64],
    node_height_m: float,
) -> Any:
    sparse = getattr(provider, "points_loss_sparse", None)
    got = None
    if sparse is not None:
        got = sparse(antenna, frequency_mhz, direction, lat, lon, node_height_m)
    if got is None:
        return _compact_points(_points_loss(provider, antenna, frequency_mhz, direction, lat,
                                            lon, node_height_m))  # fmt: skip
    if not isinstance(got, SparsePoints) or got.size != lat.size:
        raise ParameterError("path_loss.points_loss_sparse", f"returned {got!r}",
                             f"SparsePoints of the {lat.size} points, or None")  # fmt: skip
    return got


def compute_point_layers(
    sites: Sequence[Site],
    handset: Handset,
    tech_profiles: Mapping[Any, TechnologyProfile],
    jammers: Sequence[Jammer],
    zones: Sequence[Any],
    lat_deg: npt.ArrayLike,
    lon_deg: npt.ArrayLike,
    path_loss: PointsPathLossProvider | GridLossFn,
    *,
    terrain: TerrainLike | None = None,
    block_elements: int = BLOCK_ELEMENTS,
    location_sigma_db: npt.ArrayLike | None = None,
    geometry: PointGeometry | None = None,
) -> PointLayers:
    """Budgets, SINR and service level at scattered points, each on its own path.

    The budget of :func:`compute_layers` (the same :class:`LayerInputs`: geometry, gains and
    link budget) where the losses come from ``path_loss.points_loss_db`` at the points
    themselves instead of a grid map: the answer at a point does not depend on any grid.
    Parameters are those of :func:`compute_layers`, with the points instead of the grid.

    Parameters
    ----------
    lat_deg, lon_deg : array_like, shape (N,)
        Point positions [deg].
    geometry : PointGeometry, optional
        The geometry of these points on ``terrain``, shared with other networks at them.

    Returns
    -------
    PointLayers
    """
    inputs = LayerInputs.at_points(sites, handset, jammers, lat_deg, lon_deg, path_loss,
                                   terrain=terrain, geometry=geometry)  # fmt: skip
    assert inputs.lat is not None and inputs.lon is not None
    la, lo = inputs.lat, inputs.lon
    step = max(1, min(POINT_BLOCK, int(block_elements // max(1, inputs.width))))
    layers: dict[str, npt.NDArray[Any]] = {}
    site_ids = [s.id for s in sites]
    n = len(sites)
    sig_all = _per_site_sigma(location_sigma_db, n)
    # each budget with only the sites that reach one of its points: the same values as with
    # all of them
    for idx, sel in inputs.point_blocks(step):
        if sel.size == 0:
            sel = np.arange(1)  # no site reaches these points: one, all NaN, gives "no signal"
        lb = link_budget([sites[int(i)] for i in sel], handset, tech_profiles,
                         **inputs.block(0, 0, site_index=sel, points=idx),
                         location_sigma_db=None if sig_all is None else sig_all[sel])  # fmt: skip
        _put_layers(layers, lb, sel, la.shape, idx)
    if la.size == 0:
        names = ["rsrp_dbm", "ul_margin_db", "dl_sinr_db", "ul_sinr_db"]
        if location_sigma_db is not None:
            names += ["p_sms", "p_voice", "p_data"]
        layers = {k: np.empty(0, dtype=np.float32) for k in names}
        layers["best_server"] = np.empty(0, dtype=np.int32)
        layers["service_level"] = np.empty(0, dtype=np.uint8)
    restricted, index = rasterize_zones(list(zones), la, lo)
    return PointLayers(la, lo, site_ids, layers, restricted, index)
