"""PNG maps of a run for its report: layers with the border, sites, jammers, settlements, zones.

(GeoTIFFs are written by :func:`yalu.io.raster.write_geotiff`.) Maps are drawn with matplotlib's Agg
backend, without timestamps, so that reruns give identical bytes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from yalu.analysis.area import GridLike, grid_nodes

__all__ = ["SERVICE_COLOURS", "write_layer_png", "write_service_png"]

#: Service level colours: none, SMS, voice, data.
SERVICE_COLOURS = ("#ffffff00", "#fdd49e", "#fc8d59", "#b30000")
SERVICE_LABELS = ("none", "SMS", "voice", "data")


def _extent(grid: GridLike) -> tuple[float, float, float, float]:
    lat, lon = grid_nodes(grid)
    return (lon[0] - grid.dlon_deg / 2, lon[-1] + grid.dlon_deg / 2,
            lat[-1] - grid.dlat_deg / 2, lat[0] + grid.dlat_deg / 2)


def _figure(grid: GridLike, width_px: int) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    w, e, s, n = _extent(grid)
    aspect = (n - s) / max((e - w) * np.cos(np.radians((n + s) / 2)), 1e-9)
    dpi = 100
    wi = width_px / dpi
    fig = Figure(figsize=(wi, max(2.5, min(wi * aspect * 0.85 + 0.6, 3 * wi))), dpi=dpi)
    ax = fig.add_subplot(1, 1, 1)
    ax.set_aspect(1 / np.cos(np.radians((n + s) / 2)))
    ax.set_xlim(w, e)
    ax.set_ylim(s, n)
    ax.set_xlabel("longitude [°E]")
    ax.set_ylabel("latitude [°N]")
    return fig, ax


def _overlays(ax: Any, overlays: Mapping[str, Any] | None) -> None:
    if not overlays:
        return
    for line in overlays.get("border", []):
        ax.plot(line[:, 0], line[:, 1], color="#222222", lw=1.0, label=None)
    area = overlays.get("area_mask")
    grid = overlays.get("grid")
    if area is not None and grid is not None:
        lat, lon = grid_nodes(grid)
        ax.contour(lon, lat, area.astype(float), levels=[0.5], colors="#555555", linewidths=0.6,
                   linestyles="dashed")
    sites = overlays.get("sites") or []
    if sites:
        ax.scatter([s[1] for s in sites], [s[0] for s in sites], marker="^", s=28, c="#1f4e9c",
                   edgecolors="white", linewidths=0.5, zorder=5, label="sites")
    jams = overlays.get("jammers") or []
    if jams:
        ax.scatter([j[1] for j in jams], [j[0] for j in jams], marker="X", s=40, c="#7a0177",
                   edgecolors="white", linewidths=0.5, zorder=6, label="jammers")
    towns = overlays.get("towns") or []
    if towns:
        ax.scatter([t[1] for t in towns], [t[0] for t in towns], marker="o", s=6, c="#000000",
                   zorder=4, label="settlements")
    zones = overlays.get("zones") or []
    if zones:
        ax.scatter([z[1] for z in zones], [z[0] for z in zones], marker="o", s=60, facecolors="none",
                   edgecolors="#00a000", linewidths=1.0, zorder=7, label="restricted zones (300 m, not to scale)")


def _save(fig: Any, path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(p, format="png", metadata={"Software": None}, bbox_inches="tight")
    return p


def write_service_png(
    path: str | os.PathLike[str],
    service_level: np.ndarray,
    grid: GridLike,
    *,
    title: str,
    overlays: Mapping[str, Any] | None = None,
    width_px: int = 1400,
    note: str = "",
) -> Path:
    """Categorical map of the service level (none, SMS, voice, data) with a legend."""
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    fig, ax = _figure(grid, width_px)
    cmap = ListedColormap(list(SERVICE_COLOURS))
    norm = BoundaryNorm([-0.5, 0.5, 1.5, 2.5, 3.5], cmap.N)
    ax.imshow(np.asarray(service_level), cmap=cmap, norm=norm, extent=_extent(grid),
              interpolation="nearest", origin="upper", zorder=1)
    _overlays(ax, overlays)
    handles = [Patch(facecolor=c, edgecolor="#999999", label=lab)
               for c, lab in zip(SERVICE_COLOURS[1:], SERVICE_LABELS[1:], strict=True)]
    h2, _ = ax.get_legend_handles_labels()
    ax.legend(handles=handles + h2, loc="lower right", fontsize=8, framealpha=0.9)
    ax.set_title(title, fontsize=10)
    if note:
        ax.text(0.01, 0.01, note, transform=ax.transAxes, fontsize=9, color="#a00000", weight="bold",
                va="bottom", ha="left", zorder=10)
    return _save(fig, path)


def write_layer_png(
    path: str | os.PathLike[str],
    data: np.ndarray,
    grid: GridLike,
    *,
    title: str,
    units: str,
    overlays: Mapping[str, Any] | None = None,
    width_px: int = 1400,
    vmin: float | None = None,
    vmax: float | None = None,
    categorical_labels: Sequence[str] | None = None,
    note: str = "",
) -> Path:
    """Continuous (colour bar) or categorical map of one layer; NaN left blank."""
    fig, ax = _figure(grid, width_px)
    arr = np.asarray(data, dtype=float)
    cat_handles: list[Any] = []
    if categorical_labels is not None:
        from matplotlib import colormaps
        from matplotlib.patches import Patch

        # categories cycle through 20 colours; the legend names those present (first 20)
        arr = np.where(arr < 0, np.nan, arr)
        cmap = colormaps["tab20"]
        ax.imshow(np.mod(arr, 20), cmap=cmap, vmin=-0.5, vmax=19.5, extent=_extent(grid),
                  interpolation="nearest", origin="upper", zorder=1)
        present = np.unique(arr[np.isfinite(arr)]).astype(int)
        cat_handles = [Patch(facecolor=cmap(int(i) % 20), edgecolor="#999999",
                             label=str(categorical_labels[i]) if i < len(categorical_labels) else str(i))
                       for i in present[:20]]
        if present.size > 20:
            cat_handles.append(Patch(facecolor="none", edgecolor="none",
                                     label=f"+{present.size - 20} more (colours repeat)"))
    else:
        finite = arr[np.isfinite(arr)]
        lo = vmin if vmin is not None else (float(np.percentile(finite, 2)) if finite.size else 0.0)
        hi = vmax if vmax is not None else (float(np.percentile(finite, 98)) if finite.size else 1.0)
        im = ax.imshow(arr, cmap="viridis", vmin=lo, vmax=hi if hi > lo else lo + 1,
                       extent=_extent(grid), interpolation="nearest", origin="upper", zorder=1)
        cb = fig.colorbar(im, ax=ax, shrink=0.7)
        cb.set_label(units)
    _overlays(ax, overlays)
    if overlays or cat_handles:
        h2, _ = ax.get_legend_handles_labels()
        ax.legend(handles=cat_handles + h2, loc="lower right", fontsize=7 if cat_handles else 8,
                  framealpha=0.9)
    ax.set_title(title, fontsize=10)
    if note:
        ax.text(0.01, 0.01, note, transform=ax.transAxes, fontsize=9, color="#a00000", weight="bold",
                va="bottom", ha="left", zorder=10)
    return _save(fig, path)
