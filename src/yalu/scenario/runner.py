"""Run a scenario: one pipeline from the file to the outputs.

1. :mod:`yalu.scenario.adapt` turns the file into terrain, area, grid, radio sites (one per
   sector and carrier), jammers, handsets, zones and the path-loss provider;
2. the provider (:class:`yalu.coverage.provider.EnginePathLoss`) computes each distinct map once:
   downlinks from the site at the DL carrier, uplinks from the nodes at the UL carrier, jammers at
   the centre of each of their ranges;
3. per variant, :func:`yalu.radio.layers.compute_layers` gives the budgets, SINR and service level
   of the variant's handset, technologies and jammers;
4. :func:`yalu.analysis.population_reach` counts people and area within reach, and
   :mod:`yalu.scenario.checks` compares the result with what is reported from the ground;
5. :mod:`yalu.scenario.outputs` writes rasters, maps, ``summary.json`` and the reports into a
   temporary directory moved into place only when complete (:func:`yalu.io.atomic.atomic_dir`).
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from yalu.analysis.area import BorderBufferArea, border_line
from yalu.analysis.geo import distance_to_lines_km
from yalu.analysis.population import coincident_samples
from yalu.analysis.reach import LEVELS, CensusRow, census_table, population_reach, sampling_check
from yalu.coverage.dask import connect
from yalu.io.atomic import atomic_dir, check_writable, scratch_dir
from yalu.io.spill import SpillStore
from yalu.io.summary import round_floats
from yalu.memory import release_free_memory
from yalu.radio import default_technology_profiles
from yalu.radio.ensemble import point_service_levels
from yalu.radio.layers import (
    GRID_GEOMETRY_BYTES,
    GridGeometry,
    PointGeometry,
    compute_layers,
    compute_point_layers,
    layer_requests,
)
from yalu.radio.models import service_level_table
from yalu.scenario import adapt
from yalu.scenario.checks import VariantOutcome, home_and_foreign, sanity_checks
from yalu.scenario.models import Scenario, parse_scenario
from yalu.scenario.outputs import (
    RunContext,
    build_mapdata,
    describe_run,
    probability_and_limits,
    raster_layers,
    raster_service_level,
    write_layers,
    write_summary_and_reports,
    write_tornado,
)
from yalu.scenario.uncertainty import Tally, UncertaintyRun, VariantPlan, geometry_requests

__all__ = ["RunResult", "VariantOutcome", "demo_scenario_text", "run_demo", "run_scenario"]

Progress = Callable[[str, int, int], None]


@dataclass
class RunResult:
    """What :func:`run_scenario` produced."""

    outdir: Path
    summary: dict[str, Any]
    variants: list[VariantOutcome] = field(default_factory=list)
    seconds: float = 0.0
    #: Where the maps were computed: ``scheduler``, ``workers``, ``tasks``, ``bytes_sent``, ...
    execution: dict[str, Any] = field(default_factory=dict)

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
                per_prov = vv["population_within_reach"][cc].values()
                tot = {lv: sum(per[lv] for per in per_prov) for lv in LEVELS.values()}
                area = vv["area_km2"].get(cc)
                area_txt = (f"area SMS {area.get('sms', 0):,.0f} km²" if area
                            else f"area n/a (no polygon of {cc})")  # fmt: skip
                lines.append(
                    f"  {name:>14} {cc}: people within reach SMS {tot['sms']:,} / "
                    f"voice {tot['voice']:,} / data {tot['data']:,}; {area_txt}"
                )
        unc = s.get("uncertainty")
        if unc:
            lines.append(
                f"  uncertainty ({unc['samples']} samples, seed {unc['seed']}): P10 / P50 / P90"
            )
            for name, vu in unc["variants"].items():
                for cc, per in sorted(vu["population_within_reach"].items()):
                    if country and cc != country:
                        continue
                    b = per["sms"]
                    a = vu["area_km2"].get(cc, {}).get("sms")
                    area_txt = (f"; area SMS {a['p10']:,.0f} / {a['p50']:,.0f} / "
                                f"{a['p90']:,.0f} km²" if a else "")  # fmt: skip
                    lines.append(
                        f"  {name:>14} {cc}: people SMS {b['p10']:,.0f} / "
                        f"{b['p50']:,.0f} / {b['p90']:,.0f}{area_txt}"
                    )
        exp = v.get("expected_population_within_reach") or {}
        if exp:
            for cc in sorted(exp):
                if country and cc != country:
                    continue
                t = {lv: sum(p[lv] for p in exp[cc].values()) for lv in LEVELS.values()}
                lines.append(
                    f"  expected people ({prim}, {cc}, location variability): SMS "
                    f"{t['sms']:,.0f} / voice {t['voice']:,.0f} / data {t['data']:,.0f}"
                )
        bad = [
            c
            for c in (v.get("sanity") or {}).get("assessment") or []
            if c.get("verdict") == "disagrees"
        ]
        if bad:
            lines.append(
                "  sanity checks that DISAGREE with reports: "
                + "; ".join(f"{c['claim']} ({c['model']})" for c in bad)
            )
        samp = v.get("sampling") or {}
        half = samp.get("half_spacing")
        if samp:
            lines.append(
                f"  population: {samp['samples']:,} samples every {samp['spacing_m']:.0f} m"
                + (f"; at half the spacing the headline moves at most "
                   f"{half['max_abs_relative_difference']:.2%}" if half else "")
            )  # fmt: skip
        lines.append(f"  run time {self.seconds:.1f} s")
        return "\n".join(lines)


#: population samples per chunk of the convergence check (bounds its point-loss memory)
CONVERGENCE_CHUNK = 300_000
#: the Monte Carlo's other height levels are computed with the nominal maps and sample losses
#: (sharing each node's and sample's profile) when their maps take at most this many bytes, or
#: when the run's maps go to disk (``adapt.maps_spill``); otherwise they are computed by the
#: Monte Carlo, one geometry at a time (bounded memory)
LEVELS_TOGETHER_BYTES = 128 * 2**20


def _noop(step: str, done: int, total: int) -> None:
    pass


def _variant_plans(sc: Scenario, plans: list[Any], jammers: list[Any],
                   provider: Any = None, corrections: Any = None) -> list[VariantPlan]:  # fmt: skip
    """The Monte Carlo's variants (the ``uncertainty`` section's, in its order), each with its
    corrected provider when ``corrections`` are given."""
    assert sc.uncertainty is not None
    names = sc.uncertainty.variants or [v.name for v in sc.variants]
    vplans = [VariantPlan(v.name, sel, h, bool(v.jammers and jammers),
                          corrections.provider(provider, v.handset) if corrections else None)
              for v, sel, _j, h in plans if v.name in names]  # fmt: skip
    vplans.sort(key=lambda p: names.index(p.name))
    return vplans


def _level_requests(sc: Scenario, plans: list[Any], jammers: list[Any]) -> list[Any]:
    """The path-loss requests of every geometry the scenario's Monte Carlo will visit (none
    without an ``uncertainty`` section)."""
    spec = sc.uncertainty
    if spec is None:
        return []
    return geometry_requests(spec.parameters, spec.samples, spec.seed,
                             _variant_plans(sc, plans, jammers), jammers)  # fmt: skip


def _spill_rows(store: SpillStore, prefix: str, name: str, shape: tuple[int, ...],
                dtype: Any) -> Any:  # fmt: skip
    """A variant's layer written to ``store`` by bands of rows (:meth:`SpillStore.rows`)."""
    return store.rows(f"{prefix}_{name}", shape, dtype)


def _uncertainty(sc: Scenario, plans: list[Any], jammers: list[Any], profiles: Any, grid: Any,
                 provider: Any, terrain: Any, tally: Tally, foreign: str | None,
                 prog: Progress, corrections: Any = None, samples: Any = None,
                 geometry: tuple[Any, Any] = (None, None)) -> dict[str, Any]:  # fmt: skip
    """Run the scenario's Monte Carlo; the ``uncertainty`` section of the summary.
    ``geometry``: the run's (GridGeometry, PointGeometry of the samples), shared with it."""
    spec = sc.uncertainty
    assert spec is not None
    vplans = _variant_plans(sc, plans, jammers, provider, corrections)
    ur = UncertaintyRun(spec.parameters, spec.samples, spec.seed, vplans, jammers, profiles, grid,
                        provider, terrain, tally,
                        None if samples is None else (samples.lat_deg, samples.lon_deg),
                        grid_geometry=geometry[0], point_geometry=geometry[1])  # fmt: skip
    groups = tally.groups

    def headline(_v: str, people: np.ndarray, _area: np.ndarray) -> float:
        sel = [i for i, g in enumerate(groups) if foreign is None or g[0] == foreign]
        return float(people[sel, 0].sum())

    def area_headline(_v: str, _people: np.ndarray, area: np.ndarray) -> float:
        sel = [i for i, c in enumerate(tally.countries) if foreign is None or c == foreign]
        return float(area[sel, 0].sum())

    res = ur.run(headline, lambda d, n: prog("uncertainty samples", d, n), area_headline)
    out = ur.summarize(res)
    where = f" of {foreign}" if foreign else ""
    out["sensitivity"]["metric"] = f"people in listed settlements{where} with at least SMS"
    out["sensitivity"]["area_metric"] = f"area{where} with at least SMS [km²]"
    return out


def _convergence_check(sc: Scenario, plans: list[Any], outcomes: list[VariantOutcome],
                       levels: list[np.ndarray], samples: Any, settlements: Any, regions: Any,
                       area: Any, grid: Any, terrain: Any, provider: Any, corrections: Any,
                       profiles: Any, prog: Progress) -> None:  # fmt: skip
    """Each outcome's ``reach.sampling``: the headline again at half the sample spacing.

    A function of its own so that the finer samples, their levels and the last chunk's
    geometry go when it returns (a few hundred MB on fine grids held through the rest of the
    run otherwise).
    """
    prog("convergence check", 0, 1)
    fine = adapt.population_sampling(sc, settlements, area, grid, terrain, refine=2)
    # the half-spacing lattices hold the coarse samples (bit for bit): a sample's level
    # depends on its point alone, so those are taken, not computed again
    same = coincident_samples(samples.lat_deg, samples.lon_deg, fine.samples.lat_deg,
                              fine.samples.lon_deg)  # fmt: skip
    new = np.flatnonzero(same < 0)
    fine_levels: list[list[np.ndarray]] = [[] for _ in plans]
    # in chunks of samples, each chunk's point losses dropped once every variant has used
    # them: memory stays that of one chunk whatever the number of samples
    n_new = new.size
    for c0 in range(0, n_new, CONVERGENCE_CHUNK):
        la = fine.samples.lat_deg[new[c0 : c0 + CONVERGENCE_CHUNK]]
        lo = fine.samples.lon_deg[new[c0 : c0 + CONVERGENCE_CHUNK]]
        chunk_geo = PointGeometry(la, lo, terrain)
        for acc, (v, sel, jams, handset) in zip(fine_levels, plans, strict=True):
            lv2 = point_service_levels([s.radio for s in sel], handset, profiles, jams,
                                       la, lo, corrections.provider(provider, v.handset),
                                       terrain=terrain, geometry=chunk_geo)  # fmt: skip
            acc.append(lv2.astype(np.int64))
        del chunk_geo
        provider.drop_points(la, lo)
        release_free_memory()
        prog("convergence check", min(n_new, c0 + CONVERGENCE_CHUNK), max(1, n_new))
    for oc, lv, acc in zip(outcomes, levels, fine_levels, strict=True):
        fl = np.empty(same.size, dtype=np.int64)
        fl[same >= 0] = lv[same[same >= 0]]
        fl[new] = np.concatenate(acc) if acc else np.zeros(0, dtype=np.int64)
        oc.reach.sampling = sampling_check(samples, lv, settlements, regions, fine.samples, fl)
    prog("convergence check", 1, 1)


def _census_for_area(
    census: list[CensusRow] | None, settlements: Any, area: Any
) -> list[CensusRow] | None:
    """The census rows whose provinces hold settlements of the area (none: no comparison; a
    census of one country says nothing about another's)."""
    if not census or not len(settlements):
        return None
    inside = area.contains(settlements.lat_deg, settlements.lon_deg)
    codes = {f"{c}.{a}" for c, a, k in zip(settlements.country, settlements.admin1_code, inside,
                                            strict=True) if k}  # fmt: skip
    rows = [r for r in census if codes.intersection(r.codes)]
    return rows or None


def run_scenario(
    sc: Scenario,
    outdir: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    progress: Progress | None = None,
    threads: int | None = None,
    extra_notes: list[str] | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
) -> RunResult:
    """Compute every layer of a scenario and write the outputs into ``outdir`` atomically.

    ``scheduler`` (a Dask scheduler address) or ``workers`` (a local cluster of that many worker
    processes) compute the path-loss maps as Dask tasks, overriding the scenario's
    ``execution``; the outputs are bit-identical to a local run.

    On fine grids (the variants' layers over :data:`yalu.scenario.adapt.SPILL_MB` MiB,
    ``YALU_SPILL_MB``) each variant's layers go to a scratch directory beside ``outdir`` as soon
    as they are computed and are read back one at a time where used; the returned outcomes'
    layers then read the written rasters (:class:`yalu.io.spill.DiskArray`), or are read into
    memory when the scenario writes no GeoTIFFs. The path-loss maps (the Monte Carlo's height
    levels included) go there too when together they would exceed that size: budgets then read
    each map's rows block by block, and a map's file goes when the provider forgets it.
    ``execution`` of the result says whether the maps went to disk (``maps_on_disk``) and how
    many bytes the scratch directory took (``scratch_bytes_written``).

    Raises
    ------
    OutputExistsError
        ``outdir`` exists and not ``overwrite`` (checked before any work).
    OutputError
        The maps and layers that would wait on disk do not fit on the output's disk.
    """
    with ExitStack() as stack:
        return _run_scenario(sc, outdir, stack, overwrite=overwrite, progress=progress,
                             threads=threads, extra_notes=extra_notes, scheduler=scheduler,
                             workers=workers)  # fmt: skip


def _run_scenario(
    sc: Scenario,
    outdir: str | os.PathLike[str],
    stack: ExitStack,
    *,
    overwrite: bool,
    progress: Progress | None,
    threads: int | None,
    extra_notes: list[str] | None,
    scheduler: str | None,
    workers: int | None,
) -> RunResult:
    """:func:`run_scenario`; the scratch directory (when the layers spill) is entered on
    ``stack``."""
    prog = progress or _noop
    out = check_writable(outdir, overwrite)
    t_start = t0 = time.perf_counter()
    cpu_start = time.process_time()
    timings: dict[str, float] = {}

    def lap(name: str) -> None:
        nonlocal t0
        # what a phase freed goes back to the system before the next one allocates
        release_free_memory()
        t1 = time.perf_counter()
        timings[name], t0 = t1 - t0, t1

    prog("terrain", 0, 1)
    prep = adapt.prepare(sc)
    terrain, area, grid = prep.terrain, prep.area, prep.grid
    sites, sectors, zones, jammers = prep.sites, prep.sectors, prep.zones, prep.jammers
    # the border distance of every node gives the mask here and the sanity checks' distances
    # later: computed once (a great-circle distance to every border arc, seconds on fine grids)
    border_km: Any = None
    if isinstance(area, BorderBufferArea):
        border_km = area.grid_distance_km(grid)
        in_area = np.asarray(border_km <= area.distance_km)
    else:
        in_area = area.grid_mask(grid)
    regions = adapt.regions(sc)
    provider = adapt.path_loss_provider(sc, terrain, grid, threads)
    corrections = adapt.PathCorrections(sc, grid)
    plans = [(p.variant, p.sectors, p.jammers, p.handset) for p in prep.plans]
    prog("terrain", 1, 1)
    lap("setup")

    requests = [r for _v, sel, jams, h in plans
                for r in layer_requests([s.radio for s in sel], jams, h)]  # fmt: skip
    if scheduler is None and workers is None:
        scheduler, workers = sc.execution.scheduler, sc.execution.workers
    # the Monte Carlo's height levels with the nominal maps, when they are small: an antenna
    # position's heights then share each node's profile (the same maps, bit for bit)
    level_reqs = _level_requests(sc, plans, jammers)
    sharing_notes: list[str] = []
    span = sc.propagation.frequency_sharing_mhz
    if span > 0 and hasattr(provider, "share_frequencies"):
        # before anything is computed: every map and loss then follows the same table
        table = provider.share_frequencies(requests + level_reqs, span)
        moved = {f: c for (*_p, f), c in table.items() if c != f}
        if moved:
            worst = max(abs(c - f) for f, c in moved.items())
            sharing_notes.append(
                f"Path loss: carriers of one mast and direction within {span:g} MHz share one "
                f"map, computed at the centre of their span ({len(moved)} carrier frequencies "
                f"moved, by at most {worst:.3g} MHz; propagation.frequency_sharing_mhz)."
            )
    nominal_nodes = provider.map_nodes(requests, grid)
    all_nodes = provider.map_nodes(requests + level_reqs, grid) if level_reqs else nominal_nodes
    # the variants' whole-grid layers wait on disk for the outputs, and the path-loss maps
    # between the blocks that read them, when they are large
    spill = adapt.layers_spill(grid, len(plans))
    maps_on_disk = adapt.maps_spill(all_nodes) and hasattr(provider, "map_store")
    # maps on disk cost no memory however many levels they hold
    together = bool(level_reqs) and (
        maps_on_disk or 4 * (all_nodes - nominal_nodes) <= LEVELS_TOGETHER_BYTES
    )
    first = requests + level_reqs if together else requests
    n_maps = provider.distinct_maps(requests, grid)
    adapt.check_run_memory(sc, grid, provider.distinct_maps(first, grid),
                           all_nodes if together else nominal_nodes, spill=spill,
                           maps_on_disk=maps_on_disk)  # fmt: skip
    scratch = None
    if spill or maps_on_disk:
        n_grid = int(grid.shape[0]) * int(grid.shape[1])
        # the grid geometry beyond its memory bound goes there too: the ground height of every
        # node (8 bytes) and each antenna position's azimuths and distances over its widest
        # window (16)
        geo_nodes = (provider.position_nodes(requests + level_reqs, grid)
                     if hasattr(provider, "position_nodes") else all_nodes)  # fmt: skip
        geo_bytes = 8 * n_grid + 16 * geo_nodes
        adapt.check_scratch_space(
            Path(out).parent,
            4 * all_nodes * maps_on_disk
            # each variant's layers and the int8 service level it keeps for the later phases
            + (adapt.LAYER_BYTES_PER_NODE + 1) * n_grid * len(plans) * spill
            + geo_bytes * (geo_bytes > GRID_GEOMETRY_BYTES),
        )  # fmt: skip
        scratch = SpillStore(stack.enter_context(scratch_dir(out)))
    store = scratch if spill else None
    if store is not None and border_km is not None:
        # wanted again by the sanity checks only: on disk meanwhile (8 bytes a node)
        border_km = store.put("border_km", border_km)
    if maps_on_disk:
        assert scratch is not None
        provider.map_store = functools.partial(scratch.put, transient=True)
    with connect(scheduler, workers) as client:
        provider.client = client
        provider.prefetch(first, grid, lambda d, n: prog("path loss maps", d, n))
        provider.client = None
    execution = {
        "scheduler": scheduler,
        "workers": workers,
        "tasks": provider.tasks,
        "terrain_transfer": provider.terrain_transfer_used,
        "bytes_sent": provider.bytes_sent,
        "bytes_received": provider.bytes_received,
        "terrain_bytes_read_by_workers": provider.terrain_bytes_read,
        "terrain_blocks_shared_by_workers": provider.terrain_blocks_shared,
        "maps_on_disk": maps_on_disk,
    }
    lap("path_loss")

    profiles = default_technology_profiles()
    settlements, settlements_src = adapt.load_settlements(sc, area)
    census = census_set = None
    if sc.population.census is not None:
        embedded = sc.population.census == "embedded"
        census = census_table(None if embedded else sc.resolve_path(sc.population.census))
        census_set = adapt.census_settlements(sc, regions, {c for r in census for c in r.codes})
    census = _census_for_area(census, settlements, area)
    if census is None:
        census_set = None
    sigma_all, sigma_info = adapt.location_sigma(sc, terrain, grid, in_area,
                                                 [s.radio for s in sectors])  # fmt: skip
    sigma_of = {s.radio.id: float(x) for s, x in zip(sectors, sigma_all, strict=True)}
    sampling = adapt.population_sampling(sc, settlements, area, grid, terrain)
    samples = sampling.samples
    lap("population_samples")
    outcomes: list[VariantOutcome] = []
    levels: list[np.ndarray] = []
    sample_p: list[dict[str, np.ndarray]] = []
    restricted = np.zeros(grid.shape, dtype=bool)
    # ground heights, distances and azimuths at the samples and grid nodes, shared by the
    # variants and the Monte Carlo
    sample_geo = PointGeometry(samples.lat_deg, samples.lon_deg, terrain)
    # what does not fit its memory bound waits on disk, computed once, when the run has a
    # scratch directory (fine grids)
    grid_geo = GridGeometry(grid, terrain, store=scratch)
    if together and hasattr(provider, "prefetch_points"):
        # the samples' losses at every height level at once (one profile per sample)
        provider.prefetch_points(requests + level_reqs, samples.lat_deg, samples.lon_deg)
    for pi, (v, sel, jams, handset) in enumerate(plans):
        prog("link budgets and reach", pi, len(plans))
        radios = [s.radio for s in sel]
        corrected = corrections.provider(provider, v.handset)
        sigma = [sigma_of[r.id] for r in radios]
        # layers that wait on disk for the outputs go there a band of rows at a time
        sink = (None if store is None
                else functools.partial(_spill_rows, store, f"v{pi}"))  # fmt: skip
        rl = compute_layers(radios, handset, profiles, jams, zones, grid, corrected,
                            terrain=terrain, location_sigma_db=sigma,
                            geometry=grid_geo, layer_sink=sink)  # fmt: skip
        restricted = rl.restricted
        level = np.asarray(rl.service_level).astype(np.int8)
        # the headline: service where the people are, each sample on its own path
        pl = compute_point_layers(radios, handset, profiles, jams, zones, samples.lat_deg,
                                  samples.lon_deg, corrected, terrain=terrain,
                                  location_sigma_db=sigma, geometry=sample_geo)  # fmt: skip
        sample_p.append({k: v for k, v in pl.layers.items() if k.startswith("p_")})
        reach = population_reach(
            level, grid, settlements, regions, area, best_server=rl.layers["best_server"],
            site_ids=[s.site.id for s in sel], census=census,
            census_settlements=census_set, dedupe_km=sc.population.dedupe_km,
            samples=samples, sample_level=pl.service_level.astype(np.int64),
            sample_best_server=pl.layers["best_server"], section_of=sampling.section_of,
            footprint_law=sampling.law, in_area=in_area,
        )  # fmt: skip
        # read again by the probability, sanity and output phases only: on disk meanwhile
        # when the layers are (a byte a node for each variant)
        kept: Any = level if store is None else store.put(f"v{pi}_service_level_int8", level)
        del level
        outcomes.append(VariantOutcome(v, kept, reach, {}, rl.layers, rl.site_ids))
        levels.append(pl.service_level.astype(np.int64))
        del rl, pl
        release_free_memory()
    prog("link budgets and reach", len(plans), len(plans))
    lap("link_budgets_and_reach")

    if sc.population.convergence_check:
        _convergence_check(sc, plans, outcomes, levels, samples, settlements, regions, area,
                           grid, terrain, provider, corrections, profiles, prog)  # fmt: skip
    else:
        for oc, lv in zip(outcomes, levels, strict=True):
            oc.reach.sampling = sampling_check(samples, lv, settlements, regions)
    # the probability and sanity phases read no terrain, and the Monte Carlo only the ground
    # under its antennas: the block cache (the whole terrain of a border run, ~230 MB at 3")
    # goes now, not before the outputs (a block read later loads again, the same values)
    if hasattr(terrain, "clear_cache"):
        terrain.clear_cache()
    lap("convergence_check")

    node_country = regions.node_countries(grid)
    home, foreign = home_and_foreign(sectors, regions, node_country, in_area)
    # the Monte Carlo counts people where the headline does: at the population samples
    owner_id = np.where(samples.owner >= 0,
                        np.asarray(settlements.geonameid)[np.maximum(samples.owner, 0)]
                        if len(settlements) else -1, -1)  # fmt: skip
    tally = Tally(grid, outcomes[0].reach.settlements, node_country, in_area,
                  sample_owner=owner_id, sample_people=samples.people)  # fmt: skip
    for oc, sp in zip(outcomes, sample_p, strict=True):
        oc.extra.update(probability_and_limits(oc, tally, in_area, sp))
    lap("probability")
    lines = list(area.lines) if isinstance(area, BorderBufferArea) else border_line()
    if foreign:
        if border_km is None:
            border_km = grid.evaluate(lambda la, lo: distance_to_lines_km(la, lo, lines),
                                      np.float64)  # fmt: skip
        # the border distances as they are (on disk on fine grids): read a band at a time
        sanity_checks(outcomes, sc, grid, node_country.mask(foreign) & in_area, border_km,
                      foreign, home)  # fmt: skip
    del border_km
    lap("sanity")

    sections: dict[str, Any] = {
        "service_levels": service_level_table(
            profiles, sorted({t for v in sc.variants for t in adapt.variant_technologies(sc, v)})
        ),
        "probability": {
            **sigma_info,
            "correlation": (
                "DL and UL of one path share its location variability (correlation 1); carriers "
                "and sectors of one mast share it too; different masts are independent; "
                "interferers and jammers are held at their median"
            ),
            "expected": "sum over population samples of people x P(level closes) at the "
            "sample; area: sum of cell area x P",
        },
    }
    if sc.uncertainty is not None:
        u_start = time.perf_counter()
        u_cpu = time.process_time()
        run_s, run_cpu = u_start - t_start, u_cpu - cpu_start
        sections["uncertainty"] = _uncertainty(sc, plans, jammers, profiles, grid, provider,
                                               terrain, tally, foreign, prog,
                                               corrections, samples,
                                               (grid_geo, sample_geo))  # fmt: skip
        mc_s, mc_cpu = time.perf_counter() - u_start, time.process_time() - u_cpu
        sections["uncertainty"]["cost"] = {
            "run_seconds": run_s, "run_cpu_seconds": run_cpu,
            "uncertainty_seconds": mc_s, "uncertainty_cpu_seconds": mc_cpu,
            "ratio_wall": (run_s + mc_s) / run_s, "ratio_cpu": (run_cpu + mc_cpu) / run_cpu,
            "note": "ratio = (run + uncertainty) / run, before writing outputs"
                    + ("; the height levels' path losses were computed with the run's own "
                       "(one profile for every height), their time counted in the run's"
                       if together else ""),
            "levels_with_run": together,
        }  # fmt: skip
        lap("uncertainty")

    # nothing below needs a path loss: the cached maps and point losses go before the outputs
    # are drawn (on fine grids the drawing is the run's last peak of memory)
    del sample_geo, grid_geo
    if hasattr(provider, "retain"):
        provider.retain([])
    # nor terrain heights: the outputs use its description only (the block cache was a few
    # hundred MB on fine grids)
    if hasattr(terrain, "clear_cache"):
        terrain.clear_cache()
    release_free_memory()
    census_src = None
    if census is not None:
        census_src = ("DPRK 2008 census (embedded)" if sc.population.census == "embedded"
                      else sc.population.census)  # fmt: skip
    ctx = RunContext(sc, terrain, grid, area, in_area, node_country, lines, sites, sectors,
                     settlements, settlements_src, census_src, n_maps, restricted,
                     regions, store)  # fmt: skip
    freqs = [f for _a, f, _d, _h in requests]
    described = describe_run(ctx, outcomes, list(extra_notes or []) + sharing_notes
                             + corrections.notes(list(sc.variants), freqs))  # fmt: skip
    described["inputs"].update(corrections.describe())
    from yalu.io.summary import make_summary

    with atomic_dir(out, overwrite=overwrite) as tmp:
        prog("writing outputs", 0, 1)
        mapdata = build_mapdata(ctx, outcomes)
        maps = write_layers(tmp, ctx, outcomes, mapdata)
        if "uncertainty" in sections:
            tornado = write_tornado(tmp, sc, sections["uncertainty"], foreign)
            if tornado is not None:
                maps.setdefault(sc.variants[0].name, {})["sensitivity (tornado)"] = tornado
        lap("outputs")
        timings["total"] = time.perf_counter() - t_start
        summary = make_summary(
            scenario={"name": sc.name, "description": sc.description},
            inputs=described["inputs"], variants=described["variants"],
            primary=sc.variants[0].name, assumptions=described["assumptions"],
            timings_s=timings, notes=described["notes"], sections=round_floats(sections),
        )  # fmt: skip
        write_summary_and_reports(tmp, sc, summary, maps, mapdata)
        prog("writing outputs", 1, 1)
    if store is not None:
        # the scratch directory goes with the run: the outcomes keep the written rasters
        for oc in outcomes:
            oc.layers = raster_layers(Path(out), oc, sc.output.geotiff)
            oc.service_level = raster_service_level(Path(out), oc, sc.output.geotiff)
    execution["scratch_bytes_written"] = 0 if scratch is None else scratch.bytes_written
    return RunResult(Path(out), summary, outcomes, time.perf_counter() - t_start, execution)


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


def run_demo(
    outdir: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    progress: Progress | None = None,
    threads: int | None = None,
) -> RunResult:
    """Run the flagship scenario on the embedded coarse terrain."""
    sc = parse_scenario(demo_scenario_text(), name="sino-korean-border.yaml")
    if sc.terrain.source != "embedded":
        sc.terrain.source = "embedded"
    return run_scenario(
        sc,
        outdir,
        overwrite=overwrite,
        progress=progress,
        threads=threads,
        extra_notes=[
            "yalu demo: the flagship scenario on the embedded coarse 5' terrain (ETOPO5). "
            'Fetch 1"/3" terrain (yalu terrain fetch) and rerun with terrain source '
            "'cache' for analysis.",
        ],
    )
