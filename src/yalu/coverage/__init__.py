"""Coverage engine: path-loss maps around sites and their minimum-loss composites.

>>> from yalu.terrain import open_terrain
>>> from yalu.coverage import path_loss_map
>>> t = open_terrain("tiles/")  # doctest: +SKIP
>>> m = path_loss_map(t, (41.418, 24.178), 50e3, h_tx_m=40, frequency_mhz=900)  # doctest: +SKIP
"""

from yalu.coverage.composite import composite, lowest_loss_index
from yalu.coverage.engine import (
    Direction,
    FastSettings,
    HybridSettings,
    ITMOptions,
    MapMode,
    P1812Options,
    PropagationModel,
    TileSpec,
    make_tile_spec,
    path_loss_map,
    path_loss_maps,
    tile_job,
    tile_job_multi,
)
from yalu.geodesy.grid import Grid, grid_around

__all__ = [
    "Direction",
    "FastSettings",
    "HybridSettings",
    "Grid",
    "ITMOptions",
    "MapMode",
    "P1812Options",
    "PropagationModel",
    "TileSpec",
    "composite",
    "grid_around",
    "lowest_loss_index",
    "make_tile_spec",
    "path_loss_map",
    "path_loss_maps",
    "tile_job",
    "tile_job_multi",
]
