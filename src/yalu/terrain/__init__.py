"""Terrain: elevation from SRTM .hgt, SPLAT! SDF, Copernicus DEM, GeoTIFF and ESRI ASCII grids.

>>> from yalu.terrain import open_terrain
>>> t = open_terrain("tiles/")          # doctest: +SKIP
>>> t.elevation_m([41.5, 41.6], [24.2, 24.3])  # doctest: +SKIP
"""

from yalu.terrain.core import (
    MissingPolicy,
    Terrain,
    TerrainLike,
    TerrainWindow,
    VoidFillWarning,
    default_terrain,
    open_terrain,
)

__all__ = [
    "MissingPolicy",
    "Terrain",
    "TerrainLike",
    "TerrainWindow",
    "VoidFillWarning",
    "default_terrain",
    "open_terrain",
]
