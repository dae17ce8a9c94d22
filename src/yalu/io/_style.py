"""The one style of yalu's maps and charts (:mod:`yalu.io.maps`, :mod:`yalu.io.plots`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from yalu.io.atomic import atomic_output

#: colour map of continuous layers
CMAP = "viridis"
BACKGROUND = "#f2f2f2"
NOTE_COLOUR = "#a00000"
TITLE_SIZE = 10
LEGEND_SIZE = 8
DPI = 100
# scatter styles of the overlays (matplotlib keyword arguments)
SITE: dict[str, Any] = {
    "marker": "^", "s": 70, "c": "#e31a1c", "edgecolors": "k", "linewidths": 0.6, "zorder": 6,
}  # fmt: skip
JAMMER: dict[str, Any] = {
    "marker": "X", "s": 60, "c": "#ff7f00", "edgecolors": "k", "linewidths": 0.6, "zorder": 7,
}  # fmt: skip
TOWN: dict[str, Any] = {"marker": "o", "s": 6, "c": "#000000", "zorder": 4}
ZONE: dict[str, Any] = {
    "marker": "o", "s": 60, "facecolors": "none", "edgecolors": "#00a000", "linewidths": 1.0,
    "zorder": 8,
}  # fmt: skip
BORDER: dict[str, Any] = {"color": "#222222", "lw": 1.0}
AREA: dict[str, Any] = {"colors": "#555555", "linewidths": 0.6, "linestyles": "dashed"}


def note_text(ax: Any, note: str) -> None:
    """A warning (e.g. demo terrain) in the top-left corner of the axes, in the map style."""
    ax.text(0.01, 0.99, note, transform=ax.transAxes, fontsize=9, color=NOTE_COLOUR,
            weight="bold", va="top", ha="left", zorder=10,
            bbox={"facecolor": "white", "alpha": 0.7, "edgecolor": "none", "pad": 2})  # fmt: skip


def save_png(fig: Any, path: str | os.PathLike[str], overwrite: bool) -> Path:
    """Write ``fig`` to ``path`` atomically, without a timestamp or software tag.

    The figure is cleared afterwards: figures and axes refer to each other, so only the cyclic
    garbage collector would free them, and until it runs each one keeps its images' arrays
    (several full-resolution copies per layer) alive.
    """
    try:
        with atomic_output(path, overwrite=overwrite) as tmp:
            fig.savefig(tmp, format="png", metadata={"Software": None}, bbox_inches="tight")
    finally:
        fig.clear()
    return Path(path)
