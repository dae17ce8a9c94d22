"""Land cover: ESA WorldCover tiles (download, read) and any land-cover GeoTIFF, sampled at
points and along terrain profiles, with a documented mapping of classes to clutter.

A package of its own rather than part of :mod:`yalu.terrain`: land cover is categorical (the
containing pixel, never interpolated; nodata means "no clutter", not a void to fill), comes in
3-degree tiles of another layout, and carries the class-to-clutter table that the clutter models
(:mod:`yalu.propagation.p2108`, P.1812) consume. It shares the downloader with terrain
(:mod:`yalu.download`).
"""

from yalu.landcover.classes import (
    WORLDCOVER_CLASSES,
    WORLDCOVER_CLUTTER,
    ClutterClass,
    clutter_for_codes,
)
from yalu.landcover.fetch import WorldCoverVersion, fetch_worldcover, tile_relpath
from yalu.landcover.reader import LandCover, LandCoverWarning, open_landcover

__all__ = [
    "WORLDCOVER_CLASSES",
    "WORLDCOVER_CLUTTER",
    "ClutterClass",
    "clutter_for_codes",
    "WorldCoverVersion",
    "fetch_worldcover",
    "tile_relpath",
    "LandCover",
    "LandCoverWarning",
    "open_landcover",
]
