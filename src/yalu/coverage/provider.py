"""The coverage engine as the radio layer's path-loss provider.

:class:`EnginePathLoss` answers the two questions of :class:`yalu.radio.layers.PathLossProvider`
with the engine: grid maps through :func:`yalu.coverage.path_loss_map` on the part of the grid
within the provider's radius (NaN beyond), and point losses on the one geodesic profile between
the two antennas (:func:`yalu.geodesy.profile`, then the model), so that a jammer-to-tower value
reads only the terrain under its path. Each distinct map and point is computed once and cached:
the radio layers of several variants share them.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from yalu.coverage.engine import (
    Direction,
    ITMOptions,
    MapMode,
    PropagationModel,
    path_loss_map,
)
from yalu.errors import check_range, parse_choice
from yalu.geodesy import Grid, azimuth_distance, grid_around, profile
from yalu.radio.layers import Antenna

__all__ = ["EnginePathLoss", "MapRequest"]

#: (antenna, frequency [MHz], direction, node height [m]): one grid map.
MapRequest = tuple[Antenna, float, str, float]


class EnginePathLoss:
    """Path loss from the coverage engine, cached per distinct map and point.

    Parameters
    ----------
    terrain : yalu.terrain.Terrain
        Elevation source.
    radius_m : float
        Largest distance computed [m]; beyond it maps are NaN and point losses inf.
    model : {"itm", "hata", "free-space"}
    mode : {"fast", "exact"}
        ITM map mode (point losses are always exact).
    itm : ITMOptions, optional
    step_m : float, optional
        Profile step [m] (default: the engine's, the terrain's native spacing).
    hata_environment : str
        Okumura-Hata environment, for ``model="hata"``.
    threads : int, optional
        Threads for the engine.
    """

    def __init__(
        self,
        terrain: Any,
        *,
        radius_m: float,
        model: PropagationModel | str = PropagationModel.ITM,
        mode: MapMode | str = MapMode.EXACT,
        itm: ITMOptions | None = None,
        step_m: float | None = None,
        hata_environment: str = "urban",
        threads: int | None = None,
    ) -> None:
        check_range("radius_m", radius_m, 0.0, 500e3, lo_inclusive=False)
        self.terrain = terrain
        self.radius_m = float(radius_m)
        self.model = parse_choice(PropagationModel, model, "model")
        self.mode = parse_choice(MapMode, mode, "mode")
        self.itm = itm or ITMOptions()
        self.step_m = step_m
        self.hata_environment = hata_environment
        self.threads = threads
        self._maps: dict[tuple[Any, ...], np.ndarray] = {}
        self._points: dict[tuple[Any, ...], float] = {}

    @property
    def reciprocal(self) -> bool:
        """Whether both directions give the same loss (Hata, free space; not ITM)."""
        return self.model is not PropagationModel.ITM

    def _map_key(
        self, antenna: Antenna, frequency_mhz: float, direction: str, grid: Grid, h: float
    ) -> tuple[Any, ...]:
        d = parse_choice(Direction, direction, "direction")
        if self.reciprocal:
            d = Direction.FORWARD
        return (tuple(antenna), round(float(frequency_mhz), 6), d.value, grid, float(h))

    @property
    def maps_computed(self) -> int:
        return len(self._maps)

    def prefetch(
        self,
        requests: Iterable[MapRequest],
        grid: Grid,
        progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Compute every distinct map of ``requests`` on ``grid``; returns how many there are."""
        keys = list(dict.fromkeys(self._map_key(a, f, d, grid, h) for a, f, d, h in requests))
        for k, (ant, f, d, _g, h) in enumerate(keys):
            if progress is not None:
                progress(k, len(keys))
            self.grid_loss_db(Antenna(*ant), f, d, grid, h)
        if progress is not None:
            progress(len(keys), len(keys))
        return len(keys)

    def grid_loss_db(
        self, antenna: Antenna, frequency_mhz: float, direction: str, grid: Grid, node_height_m: float
    ) -> np.ndarray:
        """Loss [dB] between ``antenna`` and every node of ``grid`` (float32, NaN beyond the radius).

        ``direction="forward"``: the antenna is ITM's transmitter; ``"reverse"``: every node is.
        """
        key = self._map_key(antenna, frequency_mhz, direction, grid, node_height_m)
        hit = self._maps.get(key)
        if hit is not None:
            return hit
        out = np.full(grid.shape, np.nan, dtype=np.float32)
        sub = grid_around(antenna.lat_deg, antenna.lon_deg, self.radius_m,
                          north_deg=grid.north_deg, west_deg=grid.west_deg,
                          dlat_deg=grid.dlat_deg, dlon_deg=grid.dlon_deg)  # fmt: skip
        r0 = int(round((grid.north_deg - sub.north_deg) / grid.dlat_deg))
        c0 = int(round((sub.west_deg - grid.west_deg) / grid.dlon_deg))
        ra, ca = max(r0, 0), max(c0, 0)
        rb = min(r0 + sub.shape[0], grid.shape[0])
        cb = min(c0 + sub.shape[1], grid.shape[1])
        if ra < rb and ca < cb:
            m = path_loss_map(
                self.terrain, (antenna.lat_deg, antenna.lon_deg), self.radius_m,
                h_tx_m=antenna.height_m, h_rx_m=node_height_m, frequency_mhz=key[1],
                model=self.model, mode=self.mode, grid=grid.subgrid(ra, ca, rb - ra, cb - ca),
                step_m=self.step_m, threads=self.threads, direction=key[2],
                hata_environment=self.hata_environment, **dataclasses.asdict(self.itm),
            )  # fmt: skip
            out[ra:rb, ca:cb] = np.asarray(m.values, dtype=np.float32)
        self._maps[key] = out
        return out

    def point_loss_db(self, tx: Antenna, rx: Antenna, frequency_mhz: float) -> float:
        """Loss [dB] from ``tx`` to ``rx`` on their geodesic profile; inf beyond the radius.

        ITM runs on the profile at the engine's step (exact mode's computation); a path shorter
        than one step gets a two-point profile one step long, as map nodes next to a site do.
        A loss ITM cannot give (NaN far outside its range) is taken as no coupling (inf).
        """
        key = (tuple(tx), tuple(rx), round(float(frequency_mhz), 6))
        if key in self._points:
            return self._points[key]
        _, dist = azimuth_distance(tx.lat_deg, tx.lon_deg, rx.lat_deg, rx.lon_deg)
        d = float(dist)
        step = self.step_m or min(self.terrain.resolution_m)
        if d > self.radius_m:
            value = math.inf
        elif self.model is PropagationModel.FREE_SPACE:
            from yalu.propagation.free_space import free_space_loss_db

            value = float(free_space_loss_db(max(d, step), frequency_mhz))
        elif self.model is PropagationModel.HATA:
            from yalu.propagation.hata import hata_loss_db

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # outside Hata's 1-20 km on purpose, as maps
                value = float(hata_loss_db(max(d, step), frequency_mhz, tx.height_m, rx.height_m,
                                           self.hata_environment))
        else:
            from yalu.propagation import itm

            if d < step:
                z = self.terrain.elevation_m([tx.lat_deg, rx.lat_deg], [tx.lon_deg, rx.lon_deg])
                elev, step_used = np.nan_to_num(np.asarray(z, float)), step
            else:
                p = profile(self.terrain, (tx.lat_deg, tx.lon_deg), (rx.lat_deg, rx.lon_deg), step)
                elev, step_used = p.elevation_m, p.step_m
            res = itm.p2p(elev, step_used, tx.height_m, rx.height_m, frequency_mhz,
                          **dataclasses.asdict(self.itm))
            value = float(res.loss_db)
        if not math.isfinite(value):
            value = math.inf
        self._points[key] = value
        return value
