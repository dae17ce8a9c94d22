"""What the interactive map, the KMZ and the GeoPackage show: layers on a grid, points, lines.

A scenario run (:mod:`yalu.scenario.outputs`) fills one :class:`MapData`; the writers
(:mod:`yalu.io.webmap`, :mod:`yalu.io.kml`, :mod:`yalu.io.gpkg`) read it. Layers are generic:
any named array on the grid is shown, styled by :func:`yalu.io.layerstyle.layer_style`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from yalu.io.layerstyle import LayerStyle, layer_style
from yalu.io.spill import DiskArray

__all__ = ["Layer", "LineFeature", "MapData", "PointFeature", "Province"]


@dataclass
class Layer:
    """One raster layer of one variant (``variant`` "" for layers shared by all variants)."""

    variant: str
    key: str
    #: the values on the grid; a :class:`~yalu.io.spill.DiskArray` (read by ``np.asarray``
    #: where used) when the run keeps its layers on disk
    values: np.ndarray | DiskArray
    style: LayerStyle
    #: names of the indices of an indexed layer (best server: sector-carrier ids)
    labels: list[str] | None = None

    @classmethod
    def make(cls, variant: str, key: str, values: Any, technologies: list[str] | None = None,
             labels: list[str] | None = None) -> Layer:  # fmt: skip
        kept = values if isinstance(values, DiskArray) else np.asarray(values)
        return cls(variant, key, kept, layer_style(key, technologies), labels)


@dataclass
class PointFeature:
    """A site, jammer, settlement or restricted zone.

    ``props`` are shown for every variant; ``per_variant`` holds values that change with the
    variant (service level, best server, margins at a settlement).
    """

    kind: str  # "site", "jammer", "settlement", "zone"
    id: str
    name: str
    lat_deg: float
    lon_deg: float
    props: dict[str, Any] = field(default_factory=dict)
    per_variant: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class LineFeature:
    """A polyline: ``kind`` "border" or "area"; ``coords`` are (n, 2) lon, lat arrays [deg]."""

    kind: str
    name: str
    coords: list[np.ndarray]


@dataclass
class Province:
    """A province outline: rings (each (n, 2) lon, lat [deg]) and a label position."""

    name: str
    country: str
    code: str
    rings: list[np.ndarray]
    label_lon_deg: float
    label_lat_deg: float


@dataclass
class MapData:
    """Everything the map outputs show.

    ``north_deg, west_deg, dlat_deg, dlon_deg, shape`` describe the grid nodes (row 0 north,
    each node the centre of a pixel) shared by every layer.
    """

    title: str
    north_deg: float
    west_deg: float
    dlat_deg: float
    dlon_deg: float
    shape: tuple[int, int]
    variants: list[str]
    primary: str
    layers: list[Layer] = field(default_factory=list)
    points: list[PointFeature] = field(default_factory=list)
    lines: list[LineFeature] = field(default_factory=list)
    provinces: list[Province] = field(default_factory=list)
    note: str = ""

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) of the pixel edges [deg]."""
        nr, nc = self.shape
        return (self.west_deg - self.dlon_deg / 2, self.north_deg - (nr - 0.5) * self.dlat_deg,
                self.west_deg + (nc - 0.5) * self.dlon_deg,
                self.north_deg + self.dlat_deg / 2)  # fmt: skip

    @property
    def transform(self) -> tuple[float, float, float, float, float, float]:
        """Affine pixel-corner transform (a, b, c, d, e, f)."""
        w, _s, _e, n = self.bounds
        return (self.dlon_deg, 0.0, w, 0.0, -self.dlat_deg, n)

    def layers_of(self, variant: str) -> list[Layer]:
        return [ly for ly in self.layers if ly.variant in (variant, "")]
