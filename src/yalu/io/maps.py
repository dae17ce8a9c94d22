"""PNG maps of lat/lon rasters, in one style for every map yalu draws.

- :func:`plot_map`: a raster with its affine transform (e.g. ``yalu coverage --png``);
- :func:`write_layer_png`, :func:`write_service_png`: a layer on a grid of nodes, with the
  overlays of a scenario run (border, analysis area, sites, jammers, settlements, restricted
  zones).

Every map keeps the raster's geometry (aspect ratio ``1 / cos(latitude)`` at the map centre, so
that distances look right), has a scale bar measured on WGS84 at the centre latitude, leaves NaN
transparent, and shows continuous values with a colour bar and categories with a legend. Maps
are drawn on matplotlib's non-interactive Agg canvas without timestamps (reruns give identical
bytes), written under a temporary name and renamed into place (:mod:`yalu.io.atomic`). The
terrain profile chart of ``yalu profile`` shares the style (:mod:`yalu.io.plots`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from yalu.errors import ParameterError
from yalu.io._style import (
    AREA,
    BACKGROUND,
    BORDER,
    CMAP,
    DPI,
    JAMMER,
    LEGEND_SIZE,
    SITE,
    TITLE_SIZE,
    TOWN,
    ZONE,
    note_text,
    save_png,
)

__all__ = [
    "SERVICE_COLOURS",
    "GridNodes",
    "area_outline",
    "nice_scale_km",
    "plot_map",
    "write_layer_png",
    "write_service_png",
]

#: Service level colours by level (none, SMS, voice, data); "none" is transparent.
SERVICE_COLOURS = ("#ffffff00", "#c6dbef", "#6baed6", "#08519c")


class GridNodes(Protocol):
    """A regular lat/lon grid of nodes: node (i, j) at ``(north_deg - i * dlat_deg,
    west_deg + j * dlon_deg)``; ``shape`` is (rows, columns). :class:`yalu.geodesy.Grid` is one."""

    @property
    def north_deg(self) -> float: ...
    @property
    def west_deg(self) -> float: ...
    @property
    def dlat_deg(self) -> float: ...
    @property
    def dlon_deg(self) -> float: ...
    @property
    def shape(self) -> tuple[int, int]: ...


def nice_scale_km(width_km: float) -> float:
    """A round scale-bar length [km] near a fifth of ``width_km`` (1, 2 or 5 times 10^n)."""
    if not (width_km > 0) or not math.isfinite(width_km):
        raise ParameterError("width_km", width_km, "> 0")
    target = width_km / 5.0
    e = math.floor(math.log10(target))
    best = 10.0**e
    for m in (1.0, 2.0, 5.0, 10.0):
        if m * 10.0**e <= target:
            best = m * 10.0**e
    return best


# ---------------------------------------------------------------------------------------------
# the shared drawing steps

Extent = tuple[float, float, float, float]  # left, right, bottom, top [deg]


def _transform_extent(data: Any, transform: Any, shape: tuple[int, int]) -> Extent:
    if transform is None:
        transform = getattr(data, "attrs", {}).get("transform")
    if transform is None:
        raise ParameterError("transform", None, "an affine transform (a, b, c, d, e, f)")
    a, _b, c, _d, e, f = (float(v) for v in tuple(transform)[:6])
    h, w = shape
    return c, c + a * w, f + e * h, f


def _grid_nodes(grid: GridNodes) -> tuple[np.ndarray, np.ndarray]:
    nr, nc = (int(v) for v in grid.shape)
    return (grid.north_deg - grid.dlat_deg * np.arange(nr),
            grid.west_deg + grid.dlon_deg * np.arange(nc))  # fmt: skip


def _grid_extent(grid: GridNodes) -> Extent:
    lat, lon = _grid_nodes(grid)
    return (float(lon[0] - grid.dlon_deg / 2), float(lon[-1] + grid.dlon_deg / 2),
            float(lat[-1] - grid.dlat_deg / 2), float(lat[0] + grid.dlat_deg / 2))  # fmt: skip


def _figure(extent: Extent, width_px: int) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    w, e, s, n = extent
    stretch = 1.0 / max(0.05, math.cos(math.radians(0.5 * (n + s))))
    aspect = (n - s) * stretch / max(e - w, 1e-9)
    wi = width_px / DPI
    fig = Figure(figsize=(wi, max(2.5, min(wi * aspect * 0.85 + 0.6, 3 * wi))), dpi=DPI)
    ax = fig.add_subplot(1, 1, 1)
    ax.set_facecolor(BACKGROUND)
    ax.set_aspect(stretch)
    ax.set_xlim(w, e)
    ax.set_ylim(s, n)
    ax.set_xlabel("longitude [°E]")
    ax.set_ylabel("latitude [°N]")
    return fig, ax


def _display_sample(arr: Any, extent: Extent, fig: Any) -> tuple[np.ndarray, Extent]:
    """The nodes a figure can show, and the extent they cover.

    A grid with more rows or columns than the figure has pixels is drawn from the centre node
    of each k x k block (k the whole number of nodes per figure pixel, at least one node per
    pixel): what nearest-neighbour drawing shows, without the full grid's copies in matplotlib
    (about 90 bytes per node; a native 3" border grid has some 70 million nodes). The rows and
    columns past the last whole block (less than a pixel) are left out, so each block is drawn
    where it lies. The GeoTIFFs keep every node.
    """
    w_px, h_px = (float(v) for v in fig.get_size_inches() * fig.dpi)
    nr, nc = arr.shape
    kr, kc = max(1, int(nr // max(1.0, h_px))), max(1, int(nc // max(1.0, w_px)))
    if kr == 1 and kc == 1:
        return np.asarray(arr), extent
    left, right, bottom, top = extent
    mr, mc = nr // kr, nc // kc
    # an array on disk reads the shown rows alone
    shown = np.ascontiguousarray(arr[kr // 2 : mr * kr : kr, kc // 2 : mc * kc : kc])
    return shown, (left, left + (right - left) * (mc * kc) / nc,
                   top - (top - bottom) * (mr * kr) / nr, top)  # fmt: skip


def _continuous(fig: Any, ax: Any, arr: np.ndarray, extent: Extent, units: str | None,
                cmap: str, vmin: float | None, vmax: float | None,
                thresholds: Sequence[tuple[float, str]] | None = None) -> None:  # fmt: skip
    vals = np.asarray(arr, dtype=float)
    finite = vals[np.isfinite(vals)]
    lo = vmin if vmin is not None else (float(np.percentile(finite, 2)) if finite.size else 0.0)
    hi = vmax if vmax is not None else (float(np.percentile(finite, 98)) if finite.size else 1.0)
    if hi <= lo:
        hi = lo + 1.0
    im = ax.imshow(vals, extent=extent, cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest",
                   origin="upper", aspect=ax.get_aspect(), zorder=1)  # fmt: skip
    cb = fig.colorbar(im, ax=ax, shrink=0.7)
    if units:
        cb.set_label(units)
    _threshold_marks(cb, lo, hi, thresholds)


def _threshold_marks(cb: Any, lo: float, hi: float,
                     thresholds: Sequence[tuple[float, str]] | None) -> None:  # fmt: skip
    """Service thresholds as lines across the colour bar, labelled beside it."""
    shown = [(v, label) for v, label in thresholds or () if lo <= v <= hi]
    for v, _label in shown:
        cb.ax.axhline(v, color="k", lw=1.0)
    if shown:
        text = "thresholds (lines):\n" + "\n".join(f"{v:g} {label}" for v, label in shown)
        cb.ax.text(0.0, -0.04, text, transform=cb.ax.transAxes, ha="left", va="top",
                   fontsize=LEGEND_SIZE - 2)  # fmt: skip


def _categories(ax: Any, arr: np.ndarray, extent: Extent,
                categories: Mapping[int, tuple[str, str]]) -> list[Any]:  # fmt: skip
    """Fixed categories value -> (label, colour); other values transparent. Legend handles."""
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    keys = sorted(int(k) for k in categories)
    lut = ListedColormap([categories[k][1] for k in keys])
    norm = BoundaryNorm([k - 0.5 for k in keys] + [keys[-1] + 0.5], lut.N)
    shown = np.where(np.isin(arr, keys), arr, np.nan).astype(float)
    ax.imshow(shown, extent=extent, cmap=lut, norm=norm, interpolation="nearest",
              origin="upper", aspect=ax.get_aspect(), zorder=1)  # fmt: skip
    return [Patch(facecolor=categories[k][1], edgecolor="#999999", label=categories[k][0])
            for k in keys]  # fmt: skip


def _indexed(ax: Any, arr: np.ndarray, extent: Extent, labels: Sequence[str]) -> list[Any]:
    """Many categories 0..n-1 (e.g. best server), cycling through 20 colours; < 0 blank."""
    from matplotlib import colormaps
    from matplotlib.patches import Patch

    vals = np.where(np.asarray(arr, dtype=float) < 0, np.nan, np.asarray(arr, dtype=float))
    cmap = colormaps["tab20"]
    ax.imshow(
        np.mod(vals, 20), cmap=cmap, vmin=-0.5, vmax=19.5, extent=extent,
        interpolation="nearest", origin="upper", aspect=ax.get_aspect(), zorder=1,
    )  # fmt: skip
    fin = np.isfinite(vals)
    present, counts = np.unique(vals[fin].astype(int), return_counts=True)
    name = lambda i: str(labels[i]) if i < len(labels) else str(i)  # noqa: E731
    # colours repeat every 20: the legend names the 12 largest areas, the map names them all
    top = present[np.argsort(-counts, kind="stable")][:12]
    handles = [Patch(facecolor=cmap(int(i) % 20), edgecolor="#999999", label=name(int(i)))
               for i in sorted(top)]  # fmt: skip
    if present.size > len(top):
        handles.append(Patch(facecolor="none", edgecolor="none",
                             label=f"+{present.size - len(top)} more, named on the map "
                                   "(colours repeat every 20)"))  # fmt: skip
    if present.size > 1:
        left, right, bottom, top_ = extent
        nr, nc = vals.shape
        rows, cols = np.nonzero(fin)
        min_nodes = max(4, int(0.002 * fin.sum()))
        for i, c in zip(present, counts, strict=True):
            if c < min_nodes:
                continue
            sel = vals[rows, cols] == i
            r, k = float(np.median(rows[sel])), float(np.median(cols[sel]))
            x = left + (k + 0.5) * (right - left) / nc
            y = top_ - (r + 0.5) * (top_ - bottom) / nr
            ax.text(x, y, name(int(i)).split("/")[0], fontsize=LEGEND_SIZE - 2, ha="center",
                    va="center", zorder=5, color="#111111",
                    bbox={"facecolor": "white", "alpha": 0.6, "edgecolor": "none",
                          "pad": 0.5})  # fmt: skip
    return handles


def area_outline(mask: Any, grid: GridNodes) -> list[np.ndarray]:
    """The outline of a boolean area on a grid, as rings of (lon, lat) vertices [deg].

    Each node is the centre of a pixel, so the rings follow the pixel edges around the nodes in
    the area (:func:`rasterio.features.shapes`), as the raster shows it: the same outline in the
    PNG maps, the KMZ and the GeoPackage. No outline when every node is in the area.

    Parameters
    ----------
    mask : 2-D array of bool
        The area on ``grid`` (row 0 north).
    grid : GridNodes
        The nodes of the raster.

    Returns
    -------
    list of (n, 2) float arrays
        Closed rings (the last vertex repeats the first), holes included.
    """
    from affine import Affine
    from rasterio.features import shapes

    arr = _as_2d(mask, "mask")
    _check_grid_shape(arr, grid, "mask")
    m = np.asarray(arr, dtype=bool)
    if m.all() or not m.any():
        return []
    tr = Affine(grid.dlon_deg, 0.0, grid.west_deg - grid.dlon_deg / 2, 0.0, -grid.dlat_deg,
                grid.north_deg + grid.dlat_deg / 2)  # fmt: skip
    rings: list[np.ndarray] = []
    for geom, val in shapes(m.astype(np.uint8), mask=m, transform=tr):
        if val == 1:
            rings += [np.asarray(r, dtype=float) for r in geom["coordinates"]]
    return rings


def _overlays(ax: Any, overlays: Mapping[str, Any] | None) -> None:
    if not overlays:
        return
    for name, rings, lon, lat in overlays.get("provinces", []):
        for r in rings:
            ax.plot(r[:, 0], r[:, 1], color="#9a9a9a", lw=0.5, zorder=2)
        x0, x1 = ax.get_xlim()
        y0, y1 = ax.get_ylim()
        if name and x0 <= lon <= x1 and y0 <= lat <= y1:
            ax.text(lon, lat, name, fontsize=LEGEND_SIZE - 1, color="#666666", style="italic",
                    ha="center", va="center", zorder=3)  # fmt: skip
    for line in overlays.get("border", []):
        ax.plot(line[:, 0], line[:, 1], **BORDER)
    lines = overlays.get("area_lines")
    if lines is None and overlays.get("area_mask") is not None and overlays.get("grid") is not None:
        lines = area_outline(overlays["area_mask"], overlays["grid"])
    if lines:
        from matplotlib.collections import LineCollection

        ax.add_collection(LineCollection(lines, zorder=2, **AREA), autolim=False)
    sites = overlays.get("sites") or []
    if sites:
        ax.scatter([s[1] for s in sites], [s[0] for s in sites], label="sites", **SITE)
        for s in sites:
            if len(s) > 2 and s[2]:
                ax.annotate(str(s[2]), (s[1], s[0]), xytext=(4, 4), textcoords="offset points",
                            fontsize=LEGEND_SIZE, zorder=9)  # fmt: skip
    jams = overlays.get("jammers") or []
    if jams:
        ax.scatter([j[1] for j in jams], [j[0] for j in jams], label="jammers", **JAMMER)
    towns = overlays.get("towns") or []
    if towns:
        ax.scatter([t[1] for t in towns], [t[0] for t in towns], label="settlements", **TOWN)
        for t in towns:
            if len(t) > 2 and t[2]:
                ax.annotate(str(t[2]), (t[1], t[0]), xytext=(3, 2), textcoords="offset points",
                            fontsize=LEGEND_SIZE - 2, zorder=8, color="#222222")  # fmt: skip
    zones = overlays.get("zones") or []
    if zones:
        ax.scatter([z[1] for z in zones], [z[0] for z in zones],
                   label="restricted zones (markers, not to scale)", **ZONE)  # fmt: skip


def _scale_bar(ax: Any, extent: Extent) -> None:
    from yalu.geodesy import metres_per_degree

    left, right, bottom, top = extent
    _, m_per_deg_lon = metres_per_degree(0.5 * (top + bottom))
    bar_km = nice_scale_km((right - left) * m_per_deg_lon / 1000.0)
    x0 = left + 0.05 * (right - left)
    x1 = x0 + bar_km * 1000.0 / m_per_deg_lon
    y = bottom + 0.05 * (top - bottom)
    ax.plot([x0, x1], [y, y], color="k", linewidth=3, solid_capstyle="butt", zorder=9)
    ax.text(0.5 * (x0 + x1), y + 0.015 * (top - bottom), f"{bar_km:g} km", ha="center",
            va="bottom", fontsize=LEGEND_SIZE, zorder=9)  # fmt: skip


def _finish(ax: Any, handles: list[Any], title: str | None, note: str | None) -> None:
    overlay_handles, _ = ax.get_legend_handles_labels()
    if handles or overlay_handles:
        ax.legend(handles=handles + overlay_handles, loc="lower right",
                  fontsize=LEGEND_SIZE - 1 if len(handles) > 6 else LEGEND_SIZE,
                  framealpha=0.9)  # fmt: skip
    if title:
        ax.set_title(title, fontsize=TITLE_SIZE)
    if note:
        note_text(ax, note)


def _as_2d(data: Any, name: str = "data") -> np.ndarray:
    arr = np.asarray(getattr(data, "values", data))
    if arr.ndim != 2 or arr.size == 0:
        raise ParameterError(name, f"array of shape {arr.shape}", "a non-empty 2-D array")
    return arr


def _lazy_2d(data: Any, name: str = "data") -> Any:
    """``data`` as :func:`_as_2d` gives it, but an array on disk (a
    :class:`~yalu.io.spill.DiskArray`) stays there: the maps read only the rows they show."""
    if hasattr(data, "rows") and hasattr(data, "shape"):
        shape = tuple(data.shape)
        if len(shape) != 2 or 0 in shape:
            raise ParameterError(name, f"array of shape {shape}", "a non-empty 2-D array")
        return data
    return _as_2d(data, name)


def _check_grid_shape(arr: Any, grid: GridNodes, name: str) -> None:
    if tuple(arr.shape) != tuple(int(v) for v in grid.shape):
        raise ParameterError(name, f"shape {arr.shape}", f"the grid's shape {tuple(grid.shape)}")


# ---------------------------------------------------------------------------------------------
# public maps


def plot_map(
    path: str | os.PathLike[str],
    data: Any,
    *,
    transform: Any = None,
    title: str | None = None,
    units: str | None = None,
    cmap: str = "viridis_r",
    vmin: float | None = None,
    vmax: float | None = None,
    sites: Sequence[tuple[float, float] | tuple[float, float, str]] = (),
    categories: Mapping[int, tuple[str, str]] | None = None,
    note: str | None = None,
    overwrite: bool = False,
    dpi: int = 110,
) -> Path:
    """Render a lat/lon raster to PNG, atomically.

    Parameters
    ----------
    path : path
        Output PNG.
    data : xarray.DataArray or 2-D array
        Values, row 0 north; NaN is transparent.
    transform : affine tuple, optional
        Pixel-corner transform; default ``data.attrs["transform"]``.
    title, units : str, optional
        Title, and colour-bar label.
    cmap, vmin, vmax
        Continuous colouring (default: 2nd to 98th percentile of the finite values; the
        reversed colour map puts low losses in the bright colours).
    sites : sequence of (lat, lon) or (lat, lon, label)
        Markers (site positions) [deg].
    categories : mapping value -> (label, colour), optional
        Categorical layer (e.g. service level): a legend instead of a colour bar; values not in
        the mapping are transparent.
    note : str, optional
        A warning on the map (e.g. demo terrain).
    overwrite : bool
        Replace an existing file.
    dpi : int
        Resolution: the image is about 8 inches wide.

    Returns
    -------
    pathlib.Path
    """
    arr = _as_2d(data)
    extent = _transform_extent(data, transform, arr.shape)
    fig, ax = _figure(extent, int(round(8 * dpi)))
    shown, shown_extent = _display_sample(arr, extent, fig)
    handles: list[Any] = []
    if categories:
        handles = _categories(ax, shown, shown_extent, categories)
    else:
        _continuous(fig, ax, shown, shown_extent, units, cmap, vmin, vmax)
    _overlays(ax, {"sites": list(sites)})
    _scale_bar(ax, extent)
    _finish(ax, handles, title, note)
    return save_png(fig, path, overwrite)


def write_service_png(
    path: str | os.PathLike[str],
    service_level: np.ndarray,
    grid: GridNodes,
    *,
    title: str,
    overlays: Mapping[str, Any] | None = None,
    width_px: int = 1400,
    note: str = "",
    overwrite: bool = False,
) -> Path:
    """Categorical map of the service level (none, SMS, voice, data) with a legend.

    Parameters
    ----------
    path : path
        Output PNG.
    service_level : 2-D array of int
        :class:`yalu.radio.Service` values on ``grid`` (row 0 north); "none" is transparent.
    grid : GridNodes
        The nodes of the raster (e.g. :class:`yalu.geodesy.Grid`).
    title : str
        Title.
    overlays : mapping, optional
        ``border`` (list of (n, 2) lon/lat lines), ``area_mask`` with ``grid`` (the analysis
        area, boolean on the grid) or ``area_lines`` (its :func:`area_outline`), ``sites``,
        ``jammers``, ``towns``, ``zones`` (lists of (lat, lon[, label]) [deg]).
    width_px : int
        Image width [px].
    note : str
        A warning on the map (e.g. demo terrain).
    overwrite : bool
        Replace an existing file.

    Returns
    -------
    pathlib.Path
    """
    from yalu.radio.models import Service

    arr = _lazy_2d(service_level, "service_level")
    _check_grid_shape(arr, grid, "service_level")
    extent = _grid_extent(grid)
    fig, ax = _figure(extent, width_px)
    shown, shown_extent = _display_sample(arr, extent, fig)
    del arr
    cats = {int(s): (s.name if s is Service.SMS else s.name.lower(), SERVICE_COLOURS[int(s)])
            for s in Service if s is not Service.NONE}  # fmt: skip
    handles = _categories(ax, shown, shown_extent, cats)
    _overlays(ax, overlays)
    _scale_bar(ax, extent)
    _finish(ax, handles, title, note)
    return save_png(fig, path, overwrite)


def write_layer_png(
    path: str | os.PathLike[str],
    data: np.ndarray,
    grid: GridNodes,
    *,
    title: str,
    units: str,
    overlays: Mapping[str, Any] | None = None,
    width_px: int = 1400,
    vmin: float | None = None,
    vmax: float | None = None,
    categorical_labels: Sequence[str] | None = None,
    note: str = "",
    cmap: str = CMAP,
    overwrite: bool = False,
    thresholds: Sequence[tuple[float, str]] | None = None,
    categories: Mapping[int, tuple[str, str]] | None = None,
) -> Path:
    """Continuous (colour bar) or categorical map of one layer on a grid; NaN left blank.

    Parameters
    ----------
    path, grid, title, overlays, width_px, note, overwrite
        As in :func:`write_service_png`.
    data : 2-D array
        Values on ``grid`` (row 0 north).
    units : str
        Colour-bar label.
    vmin, vmax : float, optional
        Colour range (default: 2nd to 98th percentile of the finite values).
    categorical_labels : sequence of str, optional
        The layer holds category indices (e.g. best server; < 0 blank): colours cycle through
        20, and the legend names the first 20 categories present.
    cmap : str
        Colour map of continuous layers.
    thresholds : sequence of (value, label), optional
        Values marked across the colour bar (service thresholds).
    categories : mapping value -> (label, colour), optional
        Fixed categories (legend entries only for values present; other values transparent).

    Returns
    -------
    pathlib.Path
    """
    lazy = _lazy_2d(data)
    _check_grid_shape(lazy, grid, "data")
    extent = _grid_extent(grid)
    fig, ax = _figure(extent, width_px)
    # the figure's nodes: the legend names the categories drawn
    arr, shown_extent = _display_sample(lazy, extent, fig)
    del lazy
    handles: list[Any] = []
    if categories is not None:
        present = set(np.unique(arr[np.isfinite(arr.astype(float))]).astype(int).tolist())
        shown = {k: v for k, v in categories.items() if k in present}
        handles = _categories(ax, arr, shown_extent, shown) if shown else []
    elif categorical_labels is not None:
        handles = _indexed(ax, arr, shown_extent, categorical_labels)
    else:
        _continuous(fig, ax, arr, shown_extent, units, cmap, vmin, vmax, thresholds)
    _overlays(ax, overlays)
    _scale_bar(ax, extent)
    _finish(ax, handles, title, note)
    return save_png(fig, path, overwrite)
