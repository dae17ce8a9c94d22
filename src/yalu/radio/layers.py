"""Map layers for a scenario: path-loss maps through a callable, then :func:`link_budget`.

:func:`compute_layers` does the geometry (distance, azimuth and elevation between every site,
jammer and node), asks ``path_loss_fn`` for each map, and runs the link budget. It does not
depend on the coverage engine's internals: any propagation model fits behind ``path_loss_fn``.

``path_loss_fn(lat_deg, lon_deg, h_tx_m, h_rx_m, frequency_mhz, grid) -> ndarray``
    Basic transmission loss [dB] from a transmitter at (lat, lon), ``h_tx_m`` above ground, to
    every node of ``grid`` (a :class:`yalu.coverage.grid.Grid` or anything with ``shape``,
    ``lats()`` and ``lons()``), receivers ``h_rx_m`` above ground; NaN where not computed. With
    the coverage engine: ``lambda la, lo, ht, hr, f, g: path_loss_map(terrain, (la, lo), radius,
    h_tx_m=ht, h_rx_m=hr, frequency_mhz=f, grid=g).values``.

Calls made: per site, a DL map at the DL frequency and, for FDD, an UL map at the UL frequency
(site as transmitter: the engine works outward from a site, so the UL loss is evaluated on the
reversed path at the UL frequency; for ITM this is the usual approximation of the reverse link);
per jammer range, one map to the nodes at the range's centre frequency, and one 1x1-node call
per site for the jammer -> tower path (receiver at the site's antenna height).

Geometry: WGS 84 geodesics (pyproj); elevation angles from the height difference of the two
antennas over the geodesic distance (flat-earth angle; the earth bulge at 10 km is < 6 m).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from pyproj import Geod

from yalu.errors import ParameterError
from yalu.radio.budget import LinkBudget, link_budget
from yalu.radio.models import Handset, Jammer, Site, TechnologyProfile
from yalu.radio.zones import rasterize_zones

__all__ = ["RadioLayers", "compute_layers", "PathLossFn"]

PathLossFn = Callable[[float, float, float, float, float, Any], npt.ArrayLike]
_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class _Point1:
    """A 1x1-node grid at a point (same interface as yalu.coverage.grid.Grid)."""

    north_deg: float
    west_deg: float
    dlat_deg: float = 1e-6
    dlon_deg: float = 1e-6
    n_rows: int = 1
    n_cols: int = 1

    @property
    def shape(self) -> tuple[int, int]:
        return (1, 1)

    def lats(self) -> np.ndarray:
        return np.array([self.north_deg])

    def lons(self) -> np.ndarray:
        return np.array([self.west_deg])


def _point_grid(grid: Any, lat: float, lon: float) -> Any:
    try:
        from yalu.coverage.grid import Grid

        if isinstance(grid, Grid):
            return Grid(lat, lon, grid.dlat_deg, grid.dlon_deg, 1, 1)
    except ImportError:  # pragma: no cover - coverage package absent
        pass
    return _Point1(lat, lon)


@dataclass(frozen=True)
class RadioLayers:
    """Budget, zones and the grid they are on."""

    grid: Any
    budget: LinkBudget
    restricted: npt.NDArray[np.bool_]
    zone_index: npt.NDArray[np.int16]

    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        """All layers of issue 5 by name (``best_server`` indexes ``budget.site_ids``)."""
        out = self.budget.layers()
        out["restricted"] = self.restricted
        return out


def _elevation(terrain: Any, lat: npt.ArrayLike, lon: npt.ArrayLike) -> np.ndarray:
    lat_a = np.asarray(lat, float)
    if terrain is None:
        return np.zeros(lat_a.shape)
    for name in ("elevation_m", "elevation_at"):
        fn = getattr(terrain, name, None)
        if fn is not None:
            return np.asarray(fn(lat, lon), dtype=float).reshape(lat_a.shape)
    raise ParameterError("terrain", type(terrain).__name__, "None or an object with elevation_m()")


def _loss(fn: PathLossFn, grid: Any, *args: float) -> np.ndarray:
    arr = np.asarray(fn(args[0], args[1], args[2], args[3], args[4], grid), dtype=float)
    if arr.shape != tuple(grid.shape):
        raise ParameterError(
            "path_loss_fn", f"returned shape {arr.shape}", f"grid shape {grid.shape}"
        )
    return arr


def _split_ranges(jammers: Sequence[Jammer]) -> list[Jammer]:
    # one jammer per range, EIRP shared by width: exact under the flat-density model
    out = []
    for j in jammers:
        for k, (lo, hi) in enumerate(j.ranges_mhz):
            share = (hi - lo) / j.bandwidth_mhz
            out.append(
                j.model_copy(
                    update={
                        "id": j.id if len(j.ranges_mhz) == 1 else f"{j.id}#{k}",
                        "eirp_dbm": j.eirp_dbm + 10 * np.log10(share),
                        "ranges_mhz": [(lo, hi)],
                    }
                )
            )
    return out


def compute_layers(
    terrain: Any,
    sites: Sequence[Site],
    handset: Handset,
    tech_profiles: Mapping[Any, TechnologyProfile],
    jammers: Sequence[Jammer],
    zones: Sequence[Any],
    grid: Any,
    path_loss_fn: PathLossFn,
) -> RadioLayers:
    """Compute every radio layer on ``grid``.

    Parameters
    ----------
    terrain : yalu.terrain.Terrain, TerrainWindow or None
        Ground heights for the elevation angles (None: flat ground at 0 m).
    sites, handset, tech_profiles, jammers
        Radio objects (see :mod:`yalu.radio.models`).
    zones : sequence of CircleZone / PolygonZone
    grid : yalu.coverage.grid.Grid
        Output nodes.
    path_loss_fn : callable
        See the module doc.
    """
    lats = np.asarray(grid.lats(), float)
    lons = np.asarray(grid.lons(), float)
    lat2, lon2 = np.meshgrid(lats, lons, indexing="ij")
    ground = _elevation(terrain, lat2, lon2)
    h_ue = handset.height_m
    n = len(sites)
    shape = lat2.shape

    def geometry(lat: float, lon: float, h_abs: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        az, _, dist = _GEOD.inv(np.full(shape, lon), np.full(shape, lat), lon2, lat2)
        dist = np.asarray(dist, float)
        elev = np.degrees(np.arctan2(ground + h_ue - h_abs, np.maximum(dist, 1.0)))
        return np.mod(np.asarray(az, float), 360.0), elev, dist

    site_ground = [float(_elevation(terrain, s.lat, s.lon)) for s in sites]
    dl = np.empty((n,) + shape)
    ul = np.empty((n,) + shape)
    dist = np.empty((n,) + shape)
    gain = np.empty((n,) + shape)
    for i, s in enumerate(sites):
        az, el, d = geometry(s.lat, s.lon, site_ground[i] + s.height_agl_m)
        dist[i] = d
        gain[i] = s.pattern_gain_db(az, el)
        dl[i] = _loss(path_loss_fn, grid, s.lat, s.lon, s.height_agl_m, h_ue, s.dl_carrier_mhz)
        if s.ul_frequency_mhz == s.dl_carrier_mhz:
            ul[i] = dl[i]
        else:
            ul[i] = _loss(
                path_loss_fn, grid, s.lat, s.lon, s.height_agl_m, h_ue, s.ul_frequency_mhz
            )

    parts = _split_ranges(jammers)
    m = len(parts)
    kw: dict[str, Any] = {}
    if m:
        jpl = np.empty((m,) + shape)
        jg = np.empty((m,) + shape)
        jspl = np.empty((m, n))
        jsg = np.empty((m, n))
        sjg = np.empty((m, n))
        for k, j in enumerate(parts):
            lo, hi = j.ranges_mhz[0]
            f = 0.5 * (lo + hi)
            jz = float(_elevation(terrain, j.lat, j.lon)) + j.height_agl_m
            az, el, _ = geometry(j.lat, j.lon, jz)
            jg[k] = j.pattern_gain_db(az, el)
            jpl[k] = _loss(path_loss_fn, grid, j.lat, j.lon, j.height_agl_m, h_ue, f)
            for i, s in enumerate(sites):
                sz = site_ground[i] + s.height_agl_m
                az_js, _, d_js = _GEOD.inv(j.lon, j.lat, s.lon, s.lat)
                az_sj = (float(az_js) + 180.0) % 360.0
                el_js = float(np.degrees(np.arctan2(sz - jz, max(float(d_js), 1.0))))
                jsg[k, i] = float(j.pattern_gain_db(float(az_js) % 360.0, el_js))
                sjg[k, i] = float(s.pattern_gain_db(az_sj, -el_js))
                pg = _point_grid(grid, s.lat, s.lon)
                jspl[k, i] = float(
                    _loss(path_loss_fn, pg, j.lat, j.lon, j.height_agl_m, s.height_agl_m, f)[0, 0]
                )
        jspl = np.where(np.isnan(jspl), np.inf, jspl)  # not computed: out of reach
        kw = {
            "jammers": parts,
            "jammer_path_loss_db": jpl,
            "jammer_gain_db": jg,
            "jammer_site_path_loss_db": jspl,
            "jammer_site_gain_db": jsg,
            "site_jammer_gain_db": sjg,
        }
    budget = link_budget(sites, handset, tech_profiles, dl, ul, dist, gain, **kw)
    restricted, index = rasterize_zones(list(zones), lat2, lon2)
    return RadioLayers(grid=grid, budget=budget, restricted=restricted, zone_index=index)
