"""Analysis areas and administrative regions.

An analysis area restricts where reach is counted: a bounding box, a polygon, or the nodes within a
distance of a border line. Regions (countries and provinces) label each node and settlement.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from yalu.analysis import _kernels
from yalu.analysis.geo import (
    PolygonFeature,
    distance_to_lines_km,
    load_lines_geojson,
    load_polygons_geojson,
    points_in_polygon,
)
from yalu.errors import ParameterError, check_range
from yalu.geodesy.grid import Grid, metres_per_degree

__all__ = [
    "AnalysisArea",
    "BBoxArea",
    "BorderBufferArea",
    "NodeCountries",
    "PolygonArea",
    "add_area_at_nodes_km2",
    "Regions",
    "area_at_levels_km2",
    "area_at_levels_rows_km2",
    "border_line",
    "weighted_area_rows_km2",
    "border_regions",
]

UNKNOWN = "unknown"


def area_at_levels_km2(
    levels: Any, node: Any, label: Any, cell_km2: Any, n_labels: int
) -> np.ndarray:
    """Area with at least service level 1, 2 and 3 per label [km²], shape (n_labels, 3).

    Parameters
    ----------
    levels : array_like of int
        Service level (0-3) of every node, flattened (a grid's ``ravel()``).
    node : array_like of int, shape (n,)
        The counted nodes (indices into ``levels``).
    label : array_like of int, shape (n,)
        Each counted node's label (a country), 0 to ``n_labels - 1``.
    cell_km2 : array_like of float, shape (n,)
        Each counted node's cell area [km²].
    n_labels : int

    Sums in the order of the nodes (as ``numpy.bincount`` with weights), in one compiled pass.
    """
    lv = np.ascontiguousarray(levels).ravel()
    idx = np.ascontiguousarray(node, dtype=np.intp)
    lab = np.ascontiguousarray(label, dtype=np.intp)
    km2 = np.ascontiguousarray(cell_km2, dtype=np.float64)
    if not (idx.ndim == lab.ndim == km2.ndim == 1 and idx.size == lab.size == km2.size):
        raise ParameterError("node, label, cell_km2", f"shapes {idx.shape}, {lab.shape}, "
                             f"{km2.shape}", "three 1-D arrays of one length")  # fmt: skip
    out, bad = _kernels.area_at_levels(lv, idx, lab, km2, int(n_labels))
    if bad >= 0:
        if not 0 <= idx[bad] < lv.size:
            raise ParameterError(f"node[{bad}]", int(idx[bad]), f"0 to {lv.size - 1}")
        raise ParameterError(f"label[{bad}]", int(lab[bad]), f"0 to {n_labels - 1}")
    return out


def area_at_levels_rows_km2(levels: Any, label: Any, row_km2: Any, n_labels: int) -> np.ndarray:
    """Area with at least service level 1, 2 and 3 per label [km²], shape (n_labels, 3), over a
    whole grid.

    Parameters
    ----------
    levels : array_like of int, shape (n_rows, n_cols)
        Service level (0-3) of every node.
    label : array_like of int, shape (n_rows, n_cols)
        Each node's label (a country), 0 to ``n_labels - 1``; -1 for nodes not counted.
    row_km2 : array_like of float, shape (n_rows,)
        The cell area of each row's nodes [km²].
    n_labels : int

    The sums of :func:`area_at_levels_km2` with the counted nodes in grid order, bit for bit,
    without arrays of the counted nodes (one byte per node for the labels, not 24).
    """
    lab = np.asarray(label)
    if lab.ndim != 2:
        raise ParameterError("label", f"array of shape {lab.shape}", "a 2-D grid")
    lv = np.ascontiguousarray(levels).reshape(lab.shape) if np.size(levels) == lab.size else None
    if lv is None:
        raise ParameterError("levels", f"array of shape {np.shape(levels)}", f"shape {lab.shape}")
    km2 = np.ascontiguousarray(row_km2, dtype=np.float64)
    if km2.shape != (lab.shape[0],):
        raise ParameterError("row_km2", f"array of shape {km2.shape}", f"shape ({lab.shape[0]},)")
    out, bad = _kernels.area_at_levels_rows(lv, np.ascontiguousarray(lab), km2, int(n_labels))
    if bad >= 0:
        raise ParameterError(f"label (flat node {bad})", int(lab.ravel()[bad]),
                             f"-1 to {n_labels - 1}")  # fmt: skip
    return out


def weighted_area_rows_km2(
    weight: Any, label: Any, row_km2: Any, n_labels: int, *, out: np.ndarray | None = None
) -> np.ndarray:
    """Sum of cell area x weight per label [km²], shape (n_labels,), over a grid or some of
    its rows (the expected area of a probability layer).

    Parameters
    ----------
    weight : array_like of float, shape (n_rows, n_cols)
        Each node's weight (e.g. a probability); NaN counts as 0 (``numpy.nan_to_num``).
    label : array_like of int, shape (n_rows, n_cols)
        Each node's label, 0 to ``n_labels - 1``; -1 for nodes not counted.
    row_km2 : array_like of float, shape (n_rows,)
        The cell area of each row's nodes [km²].
    n_labels : int
    out : ndarray of float64, shape (n_labels,), optional
        Sums to add to (and return): bands of rows of a grid added in order give the sums of
        the whole grid, bit for bit.

    ``numpy.bincount`` of the counted nodes' labels weighted by area x ``nan_to_num(weight)``
    (float64), in grid order, bit for bit, in one compiled pass: no float64 copies of the grid.
    """
    lab = np.asarray(label)
    if lab.ndim != 2:
        raise ParameterError("label", f"array of shape {lab.shape}", "a 2-D grid")
    w = np.asarray(weight)
    if w.shape != lab.shape:
        raise ParameterError("weight", f"array of shape {w.shape}", f"shape {lab.shape}")
    if w.dtype.kind not in "fiub":
        raise ParameterError("weight", f"array of {w.dtype}", "real numbers")
    km2 = np.ascontiguousarray(row_km2, dtype=np.float64)
    if km2.shape != (lab.shape[0],):
        raise ParameterError("row_km2", f"array of shape {km2.shape}", f"shape ({lab.shape[0]},)")
    if out is None:
        out = np.zeros(int(n_labels))
    elif out.shape != (int(n_labels),) or out.dtype != np.float64 or not out.flags.writeable:
        raise ParameterError("out", f"{out.dtype} array of shape {out.shape}",
                             f"a writeable float64 array of shape ({int(n_labels)},)")  # fmt: skip
    bad = _kernels.weighted_area_rows(out, np.ascontiguousarray(w), np.ascontiguousarray(lab), km2)
    if bad >= 0:
        raise ParameterError(f"label (flat node {bad})", int(lab.ravel()[bad]),
                             f"-1 to {n_labels - 1}")  # fmt: skip
    return out


def add_area_at_nodes_km2(
    area_km2: np.ndarray, node: Any, levels: Any, label: Any, row_km2: Any, n_cols: int
) -> None:
    """Add the area of listed grid nodes at each level 1..3 into ``area_km2`` [km²].

    Parameters
    ----------
    area_km2 : ndarray of float64, shape (n_labels, 3)
        The sums so far, added to in place.
    node : array_like of int, shape (n,)
        Flat indices of the nodes (increasing), into a grid of ``n_cols`` columns.
    levels : array_like of int, shape (n,)
        Each listed node's service level (0-3).
    label : array_like of int
        The label (a country) of every node of the grid, flattened; -1 for nodes not counted.
    row_km2 : array_like of float, shape (n_rows,)
        The cell area of each row's nodes [km²].
    n_cols : int

    Adding the nodes of a grid's bands of rows in order gives :func:`area_at_levels_rows_km2` of
    the whole grid (level 0 elsewhere), bit for bit.
    """
    if not (isinstance(area_km2, np.ndarray) and area_km2.dtype == np.float64
            and area_km2.ndim == 2 and area_km2.shape[1] == 3):  # fmt: skip
        raise ParameterError("area_km2", f"array of shape {np.shape(area_km2)}",
                             "a float64 array of shape (n_labels, 3)")  # fmt: skip
    idx = np.ascontiguousarray(node, dtype=np.intp)
    lv = np.ascontiguousarray(levels)
    lab = np.ascontiguousarray(label).ravel()
    km2 = np.ascontiguousarray(row_km2, dtype=np.float64)
    if lv.shape != idx.shape or idx.ndim != 1:
        raise ParameterError("levels", f"shape {lv.shape}", f"node's shape {idx.shape}")
    if idx.size and not (0 <= idx[0] and idx[-1] < min(lab.size, km2.size * int(n_cols))):
        raise ParameterError("node", f"{idx[0]} .. {idx[-1]}", f"0 to {lab.size - 1}")
    bad = _kernels.area_at_nodes_add(area_km2, idx, lv, lab, km2, int(n_cols))
    if bad >= 0:
        raise ParameterError(f"label (node {int(idx[bad])})", int(lab[idx[bad]]),
                             f"-1 to {area_km2.shape[0] - 1}")  # fmt: skip


@dataclass(frozen=True)
class NodeCountries:
    """The country of every node of a grid, as small integer codes.

    ``codes`` (int8, the grid's shape) index ``names``. One byte per node, where an array of
    names takes 28 (a native 3" border grid has some 70 million nodes).
    """

    codes: np.ndarray
    names: tuple[str, ...]

    @classmethod
    def from_names(cls, names_grid: Any) -> NodeCountries:
        """From an array of country names (one per node)."""
        arr = np.asarray(names_grid).astype(str)
        names, inv = np.unique(arr, return_inverse=True)
        if names.size > 127:
            raise ParameterError("names_grid", f"{names.size} distinct countries", "at most 127")
        return cls(inv.reshape(arr.shape).astype(np.int8), tuple(str(n) for n in names))

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.codes.shape)

    def code(self, name: str | None) -> int:
        """The code of ``name`` (-1, which no node has, for a name not present)."""
        return self.names.index(name) if name in self.names else -1

    def mask(self, name: str | None) -> np.ndarray:
        """Nodes of country ``name``."""
        return np.asarray(self.codes == self.code(name))

    def counts(self, where: Any) -> dict[str, int]:
        """Nodes of each country among those ``where`` is true (every name, in order)."""
        w = np.asarray(where, dtype=bool)
        if w.shape != self.codes.shape:
            raise ParameterError("where", f"array of shape {w.shape}", f"shape {self.codes.shape}")
        # a pass per name: bool temporaries, not an index array of the selected nodes
        return {name: int(np.count_nonzero(w & (self.codes == k)))
                for k, name in enumerate(self.names)}  # fmt: skip


def _data_path(name: str) -> Path:
    return Path(str(resources.files("yalu").joinpath(f"data/{name}")))


def border_line(path: str | os.PathLike[str] | None = None) -> list[np.ndarray]:
    """The border line as polylines; default the shipped China–North Korea line (DCW)."""
    return _border_line(
        str(path) if path is not None else str(_data_path("border_cn_kp_line_dcw.geojson"))
    )


@lru_cache(maxsize=4)
def _border_line(path: str) -> list[np.ndarray]:
    return load_lines_geojson(path)


class AnalysisArea:
    """Base class: which points are inside the area."""

    kind = "area"

    def contains(self, lat_deg: Any, lon_deg: Any) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def bounds(self) -> tuple[float, float, float, float]:  # pragma: no cover - abstract
        """(south, west, north, east) [deg] enclosing the area."""
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def grid_mask(self, grid: Grid) -> np.ndarray:
        """Boolean raster: nodes of ``grid`` inside the area."""
        return grid.evaluate(self.contains, bool)


@dataclass
class BBoxArea(AnalysisArea):
    """A latitude-longitude box [deg]."""

    south_deg: float
    west_deg: float
    north_deg: float
    east_deg: float
    kind = "bbox"

    def __post_init__(self) -> None:
        check_range("south_deg", self.south_deg, -90, 90)
        check_range("north_deg", self.north_deg, -90, 90)
        check_range("west_deg", self.west_deg, -180, 180)
        check_range("east_deg", self.east_deg, -180, 180)
        if self.north_deg <= self.south_deg:
            raise ParameterError("north_deg", self.north_deg, f"> south_deg ({self.south_deg})")
        if self.east_deg <= self.west_deg:
            raise ParameterError("east_deg", self.east_deg, f"> west_deg ({self.west_deg})")

    def contains(self, lat_deg: Any, lon_deg: Any) -> np.ndarray:
        lat, lon = np.broadcast_arrays(np.asarray(lat_deg, float), np.asarray(lon_deg, float))
        return np.asarray(
            (lat >= self.south_deg)
            & (lat <= self.north_deg)
            & (lon >= self.west_deg)
            & (lon <= self.east_deg)
        )

    def bounds(self) -> tuple[float, float, float, float]:
        return (self.south_deg, self.west_deg, self.north_deg, self.east_deg)

    def describe(self) -> str:
        return (
            f"box {self.south_deg:g}–{self.north_deg:g} °N, {self.west_deg:g}–{self.east_deg:g} °E"
        )


@dataclass
class PolygonArea(AnalysisArea):
    """A polygon given as (lon, lat) vertices [deg] (an exterior ring, closed or not)."""

    ring: np.ndarray
    kind = "polygon"

    def __post_init__(self) -> None:
        self.ring = np.asarray(self.ring, dtype=float)
        if self.ring.ndim != 2 or self.ring.shape[1] != 2 or self.ring.shape[0] < 3:
            raise ParameterError(
                "polygon", f"{self.ring.shape[0]} vertices", "at least 3 (lon, lat) vertices"
            )
        check_range("polygon latitude", self.ring[:, 1], -90, 90)
        check_range("polygon longitude", self.ring[:, 0], -180, 180)

    def contains(self, lat_deg: Any, lon_deg: Any) -> np.ndarray:
        return points_in_polygon(lat_deg, lon_deg, [self.ring])

    def bounds(self) -> tuple[float, float, float, float]:
        return (
            float(self.ring[:, 1].min()),
            float(self.ring[:, 0].min()),
            float(self.ring[:, 1].max()),
            float(self.ring[:, 0].max()),
        )

    def describe(self) -> str:
        return f"polygon of {len(self.ring)} vertices"


@dataclass
class BorderBufferArea(AnalysisArea):
    """Points within ``distance_km`` of a border line (great-circle distance)."""

    lines: Sequence[np.ndarray]
    distance_km: float
    name: str = "border"
    kind = "within_km_of_border"

    def __post_init__(self) -> None:
        check_range("within_km", self.distance_km, 0, 2000, lo_inclusive=False)

    def distance(self, lat_deg: Any, lon_deg: Any) -> np.ndarray:
        return distance_to_lines_km(lat_deg, lon_deg, self.lines)

    def contains(self, lat_deg: Any, lon_deg: Any) -> np.ndarray:
        return np.asarray(self.distance(lat_deg, lon_deg) <= self.distance_km)

    def grid_distance_km(self, grid: Grid) -> np.ndarray:
        """Distance [km] from every node of ``grid`` to the nearest line (float64, the grid's
        shape): a run that needs both the mask and the distances computes them once."""
        return grid.evaluate(self.distance, np.float64)

    def grid_mask(self, grid: Grid) -> np.ndarray:
        return np.asarray(self.grid_distance_km(grid) <= self.distance_km)

    def bounds(self) -> tuple[float, float, float, float]:
        allp = np.vstack(self.lines)
        s, n = float(allp[:, 1].min()), float(allp[:, 1].max())
        d_m = self.distance_km * 1000.0
        # the shortest degrees on the band give a box that holds the whole buffer
        dlat = d_m / metres_per_degree(0.0)[0]
        far = min(max(abs(s), abs(n)) + dlat, 87.0)
        dlon = d_m / metres_per_degree(far)[1]
        return (
            max(s - dlat, -90.0),
            max(float(allp[:, 0].min()) - dlon, -180.0),
            min(n + dlat, 90.0),
            min(float(allp[:, 0].max()) + dlon, 180.0),
        )

    def describe(self) -> str:
        return f"within {self.distance_km:g} km of the {self.name} line"


@dataclass
class Regions:
    """Countries and provinces as polygons, keyed by GeoNames admin-1 code (``"KP.13"``)."""

    features: list[PolygonFeature]
    codes: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    # the last grid's labels (a run labels one grid once per variant and for the report)
    _grid_labels: tuple[Grid, np.ndarray] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @classmethod
    def from_geojson(
        cls,
        path: str | os.PathLike[str],
        code_property: str = "gn_a1_code",
        name_property: str = "name",
    ) -> Regions:
        """Read polygons whose ``code_property`` holds a GeoNames admin-1 code ``CC.nn``."""
        from yalu.analysis.settlements import admin1_names

        names = admin1_names()
        feats = load_polygons_geojson(path)
        codes, countries, labels = [], [], []
        for f in feats:
            code = str(f.properties.get(code_property) or "")
            cc = code.split(".")[0] if "." in code else code[:2]
            codes.append(code)
            countries.append(cc or UNKNOWN)
            label = names.get(code) or str(f.properties.get(name_property) or "") or UNKNOWN
            labels.append(label)
        return cls(feats, codes, countries, labels)

    def label_points(self, lat_deg: Any, lon_deg: Any) -> np.ndarray:
        """Index of the region containing each point (the first match), or -1."""
        lat, lon = np.broadcast_arrays(np.asarray(lat_deg, float), np.asarray(lon_deg, float))
        out = np.full(lat.shape, -1, dtype=np.int32)
        for k, f in enumerate(self.features):
            todo = out < 0
            if not todo.any():
                break
            ins = f.contains(lat[todo], lon[todo])
            sub = out[todo]
            sub[ins] = k
            out[todo] = sub
        return out

    def node_countries(self, grid: Grid) -> NodeCountries:
        """The country of every node of ``grid`` (:data:`UNKNOWN` outside every region, the
        last name)."""
        names = tuple(sorted(set(self.countries) - {UNKNOWN})) + (UNKNOWN,)
        lut = np.array([names.index(c) for c in self.countries] + [len(names) - 1], np.int8)
        # label -1 (no region) takes the table's last entry: unknown
        return NodeCountries(lut[self.label_grid(grid)], names)

    def label_grid(self, grid: Grid) -> np.ndarray:
        """Region index of every grid node (int32 raster, -1 outside every region; read-only,
        the same array for repeated calls with an equal grid)."""
        hit = self._grid_labels
        if hit is not None and hit[0] == grid:
            return hit[1]
        out = grid.evaluate(self.label_points, np.int32)
        out.flags.writeable = False
        self._grid_labels = (grid, out)
        return out


def border_regions() -> Regions:
    """The shipped province polygons (North Korea; Liaoning, Jilin, Heilongjiang)."""
    return _border_regions()


@lru_cache(maxsize=1)
def _border_regions() -> Regions:
    return Regions.from_geojson(_data_path("border_admin1_ne.geojson"))
