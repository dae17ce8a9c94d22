"""Charts other than maps, in the style of :mod:`yalu.io.maps`: the terrain profile of a path and
the tornado chart of a sensitivity ranking."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from yalu.io._style import (
    LEGEND_SIZE,
    NOTE_COLOUR,
    SITE,
    TITLE_SIZE,
    save_png,
)

__all__ = ["write_profile_png", "write_tornado_png"]

_TERRAIN = "#b08d57"
_RAY = "#1f4e9c"
_FRESNEL = "#e31a1c"


def _k_label(k: float) -> str:
    return "4/3" if math.isclose(k, 4.0 / 3.0) else f"{k:g}"


def write_profile_png(
    path: str | os.PathLike[str],
    profile: Any,
    clearance: Any,
    *,
    terrain_description: str = "",
    is_demo: bool = False,
    overwrite: bool = False,
    width_px: int = 1200,
    loss: tuple[Any, Any] | None = None,
    obstacles_km: Any = (),
) -> Path:
    """Terrain over the effective earth, the line of sight and the first Fresnel zone, as PNG.

    Parameters
    ----------
    path : path
        Output PNG.
    profile : yalu.geodesy.Profile
        The profile (its end points title the chart).
    clearance : yalu.propagation.clearance.PathClearance
        Its geometry, from :func:`yalu.propagation.clearance.path_clearance`; the Fresnel zone
        is drawn when it has one.
    terrain_description : str
        Names the terrain in the footnote.
    is_demo : bool
        The terrain is the coarse demo terrain: said in red.
    overwrite : bool
        Replace an existing file.
    width_px : int
        Image width [px].
    loss : (distance_m, loss_db), optional
        Loss from the start to points along the path (e.g.
        :func:`yalu.propagation.path_report.itm_loss_along_path_db`), drawn in a panel below.
    obstacles_km : sequence of float
        Distances [km] of obstacles to mark on the profile.

    The height axis follows the terrain and the antennas (not sea level), so that hills stay
    readable on high ground.

    Returns
    -------
    pathlib.Path
    """
    from matplotlib.figure import Figure

    c = clearance
    km = np.asarray(c.distance_m) / 1000.0
    ground = np.asarray(c.ground_m)
    dpi = 120
    tall = 0.7 if loss is not None else 0.45
    fig = Figure(figsize=(width_px / dpi, tall * width_px / dpi), dpi=dpi)
    if loss is not None:
        ax, ax_loss = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    else:
        ax, ax_loss = fig.add_subplot(1, 1, 1), None
    tops = [ground, np.asarray(c.ray_m)]
    if c.fresnel_m is not None:
        tops.append(np.asarray(c.ray_m) + np.asarray(c.fresnel_m))
    lo = float(ground.min())
    hi = float(max(np.nanmax(t) for t in tops))
    pad = max(0.05 * (hi - lo), 5.0)
    floor = lo - pad
    ax.fill_between(km, ground, floor, color=_TERRAIN, alpha=0.6, label="terrain + earth bulge")
    ax.plot(km, np.asarray(c.bulge_m) + floor, color="#555555", lw=0.8,
            ls=":", label=f"earth curvature (k = {_k_label(c.k_factor)})")  # fmt: skip
    ax.plot(km, c.ray_m, color=_RAY, lw=1.2, label="line of sight")
    if c.fresnel_m is not None:
        ax.plot(km, c.ray_m - c.fresnel_m, color=_FRESNEL, lw=0.9, ls="--",
                label=f"1st Fresnel zone ({c.frequency_mhz:g} MHz)")  # fmt: skip
        ax.plot(km, c.ray_m + c.fresnel_m, color=_FRESNEL, lw=0.9, ls="--")
    ax.scatter([km[0], km[-1]], [c.ray_m[0], c.ray_m[-1]], label="antennas", **SITE)
    ob = np.asarray(list(obstacles_km), dtype=float)
    if ob.size:
        ax.scatter(ob, np.interp(ob, km, ground), marker="v", color="#e31a1c", s=30, zorder=6,
                   label="obstacles")  # fmt: skip
    ax.set_ylim(floor, hi + pad)
    ax.set_ylabel("height [m]")
    if ax_loss is not None and loss is not None:
        d_km = np.asarray(loss[0], dtype=float) / 1000.0
        ax_loss.plot(d_km, np.asarray(loss[1], dtype=float), color=_RAY, lw=1.2,
                     label="ITM basic transmission loss from the start")  # fmt: skip
        ax_loss.invert_yaxis()  # less loss higher up, like a signal level
        ax_loss.set_ylabel("loss [dB]")
        ax_loss.set_xlabel("distance [km]")
        ax_loss.grid(alpha=0.3)
        ax_loss.legend(loc="best", fontsize=LEGEND_SIZE)
    else:
        ax.set_xlabel("distance [km]")
    lat, lon = np.asarray(profile.lat_deg), np.asarray(profile.lon_deg)
    ax.set_title(
        f"Profile {lat[0]:.4f},{lon[0]:.4f} -> {lat[-1]:.4f},{lon[-1]:.4f}"
        f"  (h_tx {c.h_tx_m:g} m, h_rx {c.h_rx_m:g} m)",
        fontsize=TITLE_SIZE,
    )
    note = (
        f"terrain: {terrain_description}; earth drawn with a {_k_label(c.k_factor)} effective "
        "earth radius"
    )
    if is_demo:
        note = "COARSE 5' DEMO TERRAIN - " + note
    fig.text(0.01, 0.01, note, fontsize=LEGEND_SIZE - 1,
             color=NOTE_COLOUR if is_demo else "#333333")  # fmt: skip
    ax.legend(loc="best", fontsize=LEGEND_SIZE)
    ax.grid(alpha=0.3)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return save_png(fig, path, overwrite)


def write_tornado_png(
    path: str | os.PathLike[str],
    bars: list[dict[str, Any]],
    panels: list[tuple[str, float, str, str]],
    *,
    title: str = "",
    overwrite: bool = False,
    width_px: int = 1300,
) -> Path:
    """A tornado chart: per assumption, a bar from the headline at its P10 to that at its P90.

    Parameters
    ----------
    path : path
        Output PNG (written atomically).
    bars : list of dict
        One per assumption, in the order drawn from the top: ``name``, ``p10_value``,
        ``p90_value`` and the keys the panels name.
    panels : list of (xlabel, baseline, key at P10, key at P90)
        One panel per headline figure; ``baseline`` (every assumption at its P50) is the
        vertical line.
    """
    from matplotlib.figure import Figure

    dpi = 120
    n = max(1, len(bars))
    fig = Figure(figsize=(width_px / dpi, (1.6 + 0.45 * n)), dpi=dpi)
    for pi, (xlabel, baseline, k_lo, k_hi) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), pi + 1)
        for k, b in enumerate(bars):
            y = n - 1 - k
            lo, hi = float(b[k_lo]), float(b[k_hi])
            ax.barh(y, lo - baseline, left=baseline, color="#6baed6", edgecolor="#2171b5",
                    label="assumption at its P10" if k == 0 else None)  # fmt: skip
            ax.barh(y, hi - baseline, left=baseline, color="#fd8d3c", edgecolor="#d94801",
                    label="assumption at its P90" if k == 0 else None)  # fmt: skip
        vals = [baseline] + [float(b[k]) for b in bars for k in (k_lo, k_hi)]
        pad = 0.08 * (max(vals) - min(vals)) or max(1.0, 0.01 * abs(baseline))
        ax.set_xlim(min(vals) - pad, max(vals) + pad)
        ax.set_yticks(range(n))
        if pi == 0:
            ax.set_yticklabels([
                f"{b['name']} ({float(b['p10_value']):.3g} .. {float(b['p90_value']):.3g})"
                for b in bars[::-1]
            ], fontsize=LEGEND_SIZE)  # fmt: skip
        else:
            ax.set_yticklabels([])
        ax.axvline(baseline, color="#333333", lw=1.0)
        ax.set_xlabel(xlabel, fontsize=LEGEND_SIZE)
        ax.grid(axis="x", alpha=0.3)
        ax.ticklabel_format(axis="x", style="plain", useOffset=False)
        if pi == len(panels) - 1:
            ax.legend(loc="lower right", fontsize=LEGEND_SIZE)
    fig.suptitle(title, fontsize=TITLE_SIZE)
    fig.tight_layout()
    return save_png(fig, path, overwrite)
