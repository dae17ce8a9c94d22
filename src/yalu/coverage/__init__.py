"""Coverage engine: path-loss maps around sites, composites and best-server maps.

>>> from yalu.terrain import open_terrain
>>> from yalu.coverage import path_loss_map
>>> t = open_terrain("tiles/")  # doctest: +SKIP
>>> m = path_loss_map(t, (41.418, 24.178), 50e3, h_tx_m=40, frequency_mhz=900)  # doctest: +SKIP
"""

from yalu.coverage.composite import best_server, composite
from yalu.coverage.engine import (
    Direction,
    FastSettings,
    ITMOptions,
    MapMode,
    PropagationModel,
    TileSpec,
    make_tile_spec,
    path_loss_map,
    tile_job,
)
from yalu.coverage.grid import Grid, grid_around

__all__ = [
    "Direction",
    "FastSettings",
    "Grid",
    "ITMOptions",
    "MapMode",
    "PropagationModel",
    "TileSpec",
    "best_server",
    "composite",
    "grid_around",
    "make_tile_spec",
    "path_loss_map",
    "tile_job",
]
