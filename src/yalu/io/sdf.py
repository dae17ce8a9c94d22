"""Export terrain as SPLAT! SDF tiles, so that SPLAT! can run on exactly yalu's terrain."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from yalu.errors import ParameterError, TerrainError
from yalu.geodesy.grid import degree_cells
from yalu.io.atomic import atomic_dir
from yalu.terrain.core import Terrain, open_terrain
from yalu.terrain.formats import sdf_name, write_sdf_tile
from yalu.terrain.kernels import bilinear_grid

__all__ = ["sdf_cells", "write_sdf"]

#: The SDF tiles covering a box are its whole-degree cells.
sdf_cells = degree_cells

_CHUNK_ROWS = 300


def write_sdf(
    terrain: Terrain | Any,
    bbox: Any,
    out_dir: str | os.PathLike[str],
    resolution_arcsec: int = 3,
    overwrite: bool = False,
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """Write SPLAT! SDF tiles covering ``bbox`` into a new directory ``out_dir``.

    Every SDF node is sampled from ``terrain`` (bilinear between the terrain's native nodes, as
    :meth:`Terrain.elevation_m`) and rounded to whole metres. The directory appears only when
    every tile is complete.

    Parameters
    ----------
    terrain : Terrain or source accepted by :func:`open_terrain`
    bbox : (south, west, north, east) [deg]
        Box to cover; tiles are whole degrees.
    out_dir : path
        Output directory (must not exist unless ``overwrite``).
    resolution_arcsec : {3, 1}
        3: standard SDF (1200 x 1200); 1: SPLAT! HD ``-hd.sdf`` (3600 x 3600).
    overwrite : bool
        Replace an existing ``out_dir``.
    progress : callable, optional
        Called with each tile name once written.

    Returns
    -------
    list of Path
        The tiles written (final paths).
    """
    if resolution_arcsec not in (1, 3):
        raise ParameterError("resolution_arcsec", resolution_arcsec, "3 or 1")
    t = terrain if isinstance(terrain, Terrain) else open_terrain(terrain)
    cells = degree_cells(bbox)
    ppd = 3600 // resolution_arcsec
    names: list[str] = []
    with atomic_dir(out_dir, overwrite=overwrite) as tmp:
        for s, w in cells:
            # the source nodes around this tile, then the bilinear kernel at every SDF node
            win = t.read_window(s, w, s + 1 - 1 / ppd, w + 1 - 1 / ppd)
            z = np.empty((ppd, ppd), dtype=np.float64)
            lon = w + np.arange(ppd) / ppd
            for r0 in range(0, ppd, _CHUNK_ROWS):
                r = np.arange(r0, min(ppd, r0 + _CHUNK_ROWS))
                lat = s + 1 - (r + 1) / ppd
                la = np.repeat(lat, ppd)
                lo = np.tile(lon, r.size)
                out = np.empty(la.size)
                bilinear_grid(
                    win.grid_m,
                    win.north_deg,
                    win.west_deg,
                    win.dlat_deg,
                    win.dlon_deg,
                    la,
                    lo,
                    out,
                )
                z[r0 : r0 + r.size] = out.reshape(r.size, ppd)
            if np.isnan(z).any():  # pragma: no cover - the window always covers the tile
                raise TerrainError(f"no terrain for part of SDF tile {s}, {w}")
            name = sdf_name(s, w, hd=resolution_arcsec == 1)
            write_sdf_tile(tmp / name, s, w, z)
            names.append(name)
            if progress is not None:
                progress(name)
    return [Path(out_dir) / n for n in names]
