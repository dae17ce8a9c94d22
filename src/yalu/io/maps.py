"""PNG maps of lat/lon rasters: colour bar or categorical legend, scale bar, site markers.

Rendering uses matplotlib's non-interactive Agg canvas (no display needed). The image keeps the
raster's geometry: its aspect ratio is ``1 / cos(latitude)`` at the map centre so that distances
look right, and the scale bar is measured on WGS84 at the centre latitude.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from yalu.errors import ParameterError
from yalu.io.atomic import atomic_output

__all__ = ["plot_map", "nice_scale_km"]


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


def _extent(data: Any, transform: Any, shape: tuple[int, int]) -> tuple[float, float, float, float]:
    if transform is None:
        transform = getattr(data, "attrs", {}).get("transform")
    if transform is None:
        raise ParameterError("transform", None, "an affine transform (a, b, c, d, e, f)")
    a, _b, c, _d, e, f = (float(v) for v in tuple(transform)[:6])
    h, w = shape
    return c, c + a * w, f + e * h, f  # left, right, bottom, top


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
        Continuous colouring (default: 2nd to 98th percentile of the finite values).
    sites : sequence of (lat, lon) or (lat, lon, label)
        Markers (site positions) [deg].
    categories : mapping value -> (label, colour), optional
        Categorical layer (e.g. service level): a legend instead of a colour bar; values not in
        the mapping are transparent.
    note : str, optional
        Small text under the map (e.g. a demo-terrain warning).
    overwrite : bool
        Replace an existing file.

    Returns
    -------
    pathlib.Path
    """
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    arr = np.asarray(getattr(data, "values", data))
    if arr.ndim != 2 or arr.size == 0:
        raise ParameterError("data", f"array of shape {arr.shape}", "a non-empty 2-D array")
    left, right, bottom, top = _extent(data, transform, arr.shape)
    lat_c = 0.5 * (top + bottom)
    aspect = 1.0 / max(0.05, math.cos(math.radians(lat_c)))
    fig = Figure(figsize=(8.0, 7.0), dpi=dpi)
    ax = fig.add_subplot(1, 1, 1)
    ax.set_facecolor("#f2f2f2")
    if categories:
        keys = sorted(int(k) for k in categories)
        colours = [categories[k][1] for k in keys]
        lut = ListedColormap(colours)
        bounds = [k - 0.5 for k in keys] + [keys[-1] + 0.5]
        norm = BoundaryNorm(bounds, lut.N)
        shown = np.where(np.isin(arr, keys), arr, np.nan).astype(float)
        ax.imshow(shown, extent=(left, right, bottom, top), cmap=lut, norm=norm,
                  interpolation="nearest", aspect=aspect)  # fmt: skip
        handles = [Patch(facecolor=categories[k][1], edgecolor="k", label=categories[k][0]) for k in keys]
        ax.legend(handles=handles, loc="lower left", fontsize=8, framealpha=0.85)
    else:
        vals = arr.astype(float)
        finite = vals[np.isfinite(vals)]
        lo = vmin if vmin is not None else (float(np.percentile(finite, 2)) if finite.size else 0.0)
        hi = vmax if vmax is not None else (float(np.percentile(finite, 98)) if finite.size else 1.0)
        if hi <= lo:
            hi = lo + 1.0
        im = ax.imshow(vals, extent=(left, right, bottom, top), cmap=cmap, vmin=lo, vmax=hi,
                       interpolation="nearest", aspect=aspect)  # fmt: skip
        cb = fig.colorbar(im, ax=ax, shrink=0.8)
        if units:
            cb.set_label(units)
    for s in sites:
        lat, lon = float(s[0]), float(s[1])
        ax.plot([lon], [lat], marker="^", color="red", markeredgecolor="k", markersize=9, zorder=5)
        if len(s) > 2 and s[2]:
            ax.annotate(str(s[2]), (lon, lat), xytext=(4, 4), textcoords="offset points", fontsize=8)
    # scale bar along the bottom-right, measured at the centre latitude
    from yalu.coverage.grid import metres_per_degree

    _, m_per_deg_lon = metres_per_degree(lat_c)
    width_km = (right - left) * m_per_deg_lon / 1000.0
    bar_km = nice_scale_km(width_km)
    bar_deg = bar_km * 1000.0 / m_per_deg_lon
    x1 = right - 0.05 * (right - left)
    x0 = x1 - bar_deg
    y = bottom + 0.05 * (top - bottom)
    ax.plot([x0, x1], [y, y], color="k", linewidth=3, solid_capstyle="butt", zorder=6)
    ax.text(0.5 * (x0 + x1), y + 0.015 * (top - bottom), f"{bar_km:g} km", ha="center",
            va="bottom", fontsize=8, zorder=6)  # fmt: skip
    ax.set_xlabel("longitude [deg]")
    ax.set_ylabel("latitude [deg]")
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    if title:
        ax.set_title(title, fontsize=10)
    if note:
        fig.text(0.01, 0.01, note, fontsize=7, color="#a00000")
    with atomic_output(path, overwrite=overwrite) as tmp:
        fig.savefig(tmp, format="png")
    return Path(path)
