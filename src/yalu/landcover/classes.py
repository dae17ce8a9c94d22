"""ESA WorldCover classes and the clutter they stand for in ITU-R P.2108 and P.1812.

Table (WorldCover code: class -> P.2108 clutter type, representative clutter height R
[m] with a plausible range, P.1812 clutter category):

=====  ========================  ==============  ===========  ====================
code   WorldCover class           P.2108 type     R (range)    P.1812 category
=====  ========================  ==============  ===========  ====================
10     Tree cover                 trees/forest    15 (10-20)   urban/trees/forest
20     Shrubland                  open/rural      10 (5-10)    open/rural
30     Grassland                  open/rural      10 (5-10)    open/rural
40     Cropland                   open/rural      10 (5-10)    open/rural
50     Built-up                   urban           15 (10-20)   urban/trees/forest
60     Bare / sparse vegetation   open/rural      10 (5-10)    open/rural
70     Snow and ice               open/rural      10 (5-10)    open/rural
80     Permanent water bodies     water/sea       10 (10-10)   water/sea
90     Herbaceous wetland         open/rural      10 (5-10)    open/rural
95     Mangroves                  trees/forest    15 (10-20)   urban/trees/forest
100    Moss and lichen            open/rural      10 (5-10)    open/rural
=====  ========================  ==============  ===========  ====================

P.1812 representative clutter heights (added to the terrain along the path): water/sea and
open/rural 0 m, suburban 10 m, urban/trees/forest 15 m, dense urban 20 m.

Why these choices
-----------------
- The classes and codes are those of the WorldCover product (ESA WorldCover 10 m 2020 v100 and
  2021 v200 Product User Manuals, table of the map legend; 0 = no data). Tree cover is any
  vegetation with trees >= 5 m; built-up covers buildings, roads and other man-made surfaces.
- P.2108-1 Table 3 gives the default R per clutter type (water/sea, open/rural and suburban 10 m;
  urban and trees/forest 15 m; dense urban 20 m); those are the "R" column. P.1812's table of
  default representative clutter heights per category gives the P.1812 column.
- WorldCover has one built-up class: it cannot tell suburban (R = 10 m) from dense urban
  (20 m). yalu maps it to urban (15 m) and gives 10-20 m as the range, so that an analysis can
  carry the uncertainty (P10-P90) instead of hiding it. The open classes are 10 m in P.2108's
  table, though low vegetation is often shorter (5 m low end).
- Mangroves are forest (trees of 5-20 m) and are treated as trees/forest.

Users with their own land-cover raster (other class codes) pass their own table of the same
form to :func:`clutter_for_codes`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from yalu.propagation.p2108 import ClutterType

__all__ = [
    "WORLDCOVER_CLASSES",
    "WORLDCOVER_NODATA",
    "WORLDCOVER_WATER",
    "P1812Category",
    "ClutterClass",
    "WORLDCOVER_CLUTTER",
    "clutter_for_codes",
]

#: code -> class name (ESA WorldCover 2020 v100 / 2021 v200 legend)
WORLDCOVER_CLASSES: dict[int, str] = {
    10: "tree cover",
    20: "shrubland",
    30: "grassland",
    40: "cropland",
    50: "built-up",
    60: "bare / sparse vegetation",
    70: "snow and ice",
    80: "permanent water bodies",
    90: "herbaceous wetland",
    95: "mangroves",
    100: "moss and lichen",
}
WORLDCOVER_NODATA = 0
#: the class given to ocean tiles that do not exist upstream (HTTP 404)
WORLDCOVER_WATER = 80


class P1812Category:
    """P.1812 clutter categories with their default representative heights [m]."""

    WATER_SEA = ("water/sea", 0.0)
    OPEN_RURAL = ("open/rural", 0.0)
    SUBURBAN = ("suburban", 10.0)
    URBAN_TREES_FOREST = ("urban/trees/forest", 15.0)
    DENSE_URBAN = ("dense urban", 20.0)


@dataclass(frozen=True)
class ClutterClass:
    """The clutter a land-cover class stands for."""

    name: str
    p2108_type: ClutterType
    height_m: float  # P.2108 representative clutter height R [m]
    height_low_m: float
    height_high_m: float
    p1812_category: str
    p1812_height_m: float


def _c(
    name: str, t: ClutterType, r: float, lo: float, hi: float, cat: tuple[str, float]
) -> ClutterClass:
    return ClutterClass(name, t, r, lo, hi, cat[0], cat[1])


_OPEN = (ClutterType.OPEN_RURAL, 10.0, 5.0, 10.0, P1812Category.OPEN_RURAL)
_TREES = (ClutterType.TREES_FOREST, 15.0, 10.0, 20.0, P1812Category.URBAN_TREES_FOREST)

#: WorldCover code -> clutter (see the module table and its sources)
WORLDCOVER_CLUTTER: dict[int, ClutterClass] = {
    10: _c("tree cover", *_TREES),
    20: _c("shrubland", *_OPEN),
    30: _c("grassland", *_OPEN),
    40: _c("cropland", *_OPEN),
    50: _c("built-up", ClutterType.URBAN, 15.0, 10.0, 20.0, P1812Category.URBAN_TREES_FOREST),
    60: _c("bare / sparse vegetation", *_OPEN),
    70: _c("snow and ice", *_OPEN),
    80: _c(
        "permanent water bodies", ClutterType.WATER_SEA, 10.0, 10.0, 10.0, P1812Category.WATER_SEA
    ),
    90: _c("herbaceous wetland", *_OPEN),
    95: _c("mangroves", *_TREES),
    100: _c("moss and lichen", *_OPEN),
}


def clutter_for_codes(
    codes: npt.ArrayLike,
    table: dict[int, ClutterClass] | None = None,
    which: str = "height_m",
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """P.2108 clutter type codes (0 = none) and heights [m] (NaN = none) for land-cover codes.

    Parameters
    ----------
    codes : array_like of int
        Land-cover class codes (WorldCover by default; 0 or unknown codes give no clutter).
    table : dict, optional
        Code -> :class:`ClutterClass` (default :data:`WORLDCOVER_CLUTTER`).
    which : {"height_m", "height_low_m", "height_high_m", "p1812_height_m"}
        Which height to return.
    """
    tab = WORLDCOVER_CLUTTER if table is None else table
    c = np.asarray(codes).astype(np.int64)
    lut_size = max(max(tab) + 1, 256)
    types = np.zeros(lut_size, dtype=np.int64)
    heights = np.full(lut_size, np.nan)
    for k, cl in tab.items():
        types[k] = int(cl.p2108_type)
        heights[k] = float(getattr(cl, which))
    inside = (c >= 0) & (c < lut_size)
    idx = np.where(inside, c, 0)
    t = np.where(inside, types[idx], 0)
    h = np.where(inside, heights[idx], np.nan)
    return t, h
