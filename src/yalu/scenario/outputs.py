"""What a scenario run writes: rasters, maps, ``summary.json``, ``report.md`` and ``report.html``.

:func:`describe_run` gathers the inputs, assumptions and notes of a run into the summary's
sections; :func:`write_outputs` writes every file into a directory (the runner's temporary one,
renamed into place only when complete).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from yalu.analysis.area import UNKNOWN, AnalysisArea
from yalu.analysis.settlements import Settlements
from yalu.geodesy import Grid, metres_per_degree
from yalu.scenario.adapt import SectorCarrier, radio_handset, variant_technologies
from yalu.scenario.checks import VariantOutcome
from yalu.scenario.models import Scenario, Site, scenario_hash, slug

__all__ = [
    "RunContext",
    "describe_run",
    "probability_and_limits",
    "write_layers",
    "write_summary_and_reports",
    "write_tornado",
]


@dataclass
class RunContext:
    """Everything about a run that its outputs describe."""

    scenario: Scenario
    terrain: Any
    grid: Grid
    area: AnalysisArea
    in_area: np.ndarray
    node_country: np.ndarray
    lines: list[np.ndarray]
    sites: list[Site]
    sectors: list[SectorCarrier]
    settlements: Settlements
    settlements_source: str
    census_source: str | None
    path_loss_maps: int
    restricted: np.ndarray

    @property
    def grid_step_m(self) -> float:
        lat_mid = self.grid.north_deg - 0.5 * (self.grid.shape[0] - 1) * self.grid.dlat_deg
        return self.grid.dlat_deg * metres_per_degree(lat_mid)[0]

    def terrain_info(self) -> dict[str, Any]:
        t = self.terrain
        return {
            "source": self.scenario.terrain.source, "description": t.description,
            "resolution_arcsec": round(t.resolution_deg[0] * 3600.0, 6),
            "coarse": bool(t.is_demo) or t.resolution_deg[0] * 3600 > 30,
            "attribution": t.attribution,
        }  # fmt: skip


def _site_assumptions(sites: list[Site], sectors: list[SectorCarrier]) -> list[dict[str, Any]]:
    """Every site with the values actually used (scenario values or the radio layer's defaults)."""
    out = []
    for st in sites:
        d = st.model_dump(mode="json", exclude_none=True)
        d["carriers"] = []
        for ci, c in enumerate(st.carriers):
            sec = next(x for x in sectors if x.site is st and x.carrier_index == ci)
            r = sec.radio
            d["carriers"].append({
                "technology": c.technology, "band": c.band, "operator": r.operator,
                "dl_mhz": r.dl_carrier_mhz, "ul_mhz": r.ul_carrier_mhz,
                "bandwidth_mhz": r.bandwidth_mhz, "tx_power_dbm": r.tx_power_dbm,
                "antenna_gain_dbi": r.antenna_gain_dbi, "feeder_loss_db": r.feeder_loss_db,
                "eirp_dbm": r.eirp_dbm, "azimuths_deg": list(c.azimuths_deg),
                "defaults_used": sorted(k for k in ("tx_power_dbm", "antenna_gain_dbi", "bandwidth_mhz")
                                        if getattr(c, k) is None),
            })  # fmt: skip
        out.append(d)
    return out


def _notes(ctx: RunContext, extra: list[str]) -> list[str]:
    sc = ctx.scenario
    notes = list(extra)
    notes.append(
        "Uplink path loss: from the node (handset, ITM's transmitter) to the site at the UL "
        "carrier, on the node-to-site profile; downlink from the site to the node at the DL "
        "carrier. ITM is nearly but not exactly reciprocal, so each direction is computed."
    )
    notes.append("Antenna elevation angles use the terrain heights of site and node and a 4/3 "
                 "effective earth; patterns are the radio layer's (3GPP TR 36.814 sector model).")
    notes.append(
        f"Each settlement takes the service of its nearest grid node (step "
        f"{ctx.grid_step_m / 1000:.1f} km north-south): a town within half a step of the border "
        "may take a node on the other bank."
    )
    if np.mean(ctx.node_country[ctx.in_area] == UNKNOWN) > 0.5:
        notes.append(
            "Most of the analysis area lies outside the province polygons, so its area is counted "
            "under 'unknown': give population.regions (GeoJSON with gn_a1_code) for areas by country."
        )
    if any(s.technology == "gsm" for s in ctx.sectors):
        notes.append("GSM carriers without a given frequency get distinct 200 kHz channels: an "
                     "ideal frequency plan with no co-channel interference.")
    if sc.jammers:
        notes.append("Each jammer's EIRP is spread evenly over its ranges; its path loss to the "
                     "nodes is computed at the centre of each range, to a tower at the tower's "
                     "UL carrier.")
    if sc.restricted_zones and any((z.radius_m or 0) * 2 < ctx.grid_step_m
                                   for z in sc.restricted_zones):
        notes.append(f"Restricted zones smaller than the grid step ({ctx.grid_step_m / 1000:.1f} km) "
                     "may cover no node: they are drawn as markers on the maps.")
    return notes


def describe_run(
    ctx: RunContext, outcomes: list[VariantOutcome], extra_notes: list[str]
) -> dict[str, Any]:
    """The summary's ``inputs``, ``variants``, ``assumptions`` and ``notes`` of a run."""
    from yalu import __version__

    sc, grid, prop = ctx.scenario, ctx.grid, ctx.scenario.propagation
    inputs = {
        "terrain": ctx.terrain_info(),
        "grid": {"north_deg": grid.north_deg, "west_deg": grid.west_deg, "dlat_deg": grid.dlat_deg,
                 "dlon_deg": grid.dlon_deg, "rows": grid.shape[0], "cols": grid.shape[1],
                 "resolution_arcsec": round(grid.dlat_deg * 3600, 6)},
        "analysis_area": ctx.area.describe(),
        "scenario_hash": scenario_hash(sc),
        "scenario_file": Path(sc.source_path).name if sc.source_path else None,
        "yalu_version": __version__,
        "settlements_source": ctx.settlements_source,
        "census_source": ctx.census_source,
        "sector_carriers": len(ctx.sectors),
        "path_loss_maps": ctx.path_loss_maps,
        "propagation_model": prop.model,
        "engine_mode": prop.engine_mode if prop.model == "itm" else None,
        "itm_mdvar": prop.mdvar if prop.model == "itm" else None,
    }  # fmt: skip
    variants = {
        oc.variant.name: {
            "description": oc.variant.description,
            "settings": {"jammers": oc.variant.jammers, "handset": sc.handset(oc.variant.handset).name,
                         "technologies": variant_technologies(sc, oc.variant)},
            "reach": oc.reach.to_dict(),
            "sanity": oc.sanity,
            **oc.extra,
        }
        for oc in outcomes
    }  # fmt: skip
    handsets = []
    for hh in sc.handsets:
        rh = radio_handset(sc, hh.name)
        handsets.append({**hh.model_dump(mode="json"), "body_loss_db": rh.body_loss_db,
                         "noise_figure_db": rh.noise_figure_db})  # fmt: skip
    assumptions = {
        "sites": _site_assumptions(ctx.sites, ctx.sectors),
        "jammers": [j.model_dump(mode="json", exclude_none=True) for j in sc.jammers],
        "restricted_zones": [z.model_dump(mode="json", exclude_none=True) for z in sc.restricted_zones],
        "propagation": prop.model_dump(mode="json"),
        "handsets": handsets,
    }
    return {"inputs": inputs, "variants": variants, "assumptions": assumptions,
            "notes": _notes(ctx, extra_notes)}  # fmt: skip


def _write_rasters(tmp: Path, ctx: RunContext, outcomes: list[VariantOutcome]) -> None:
    from yalu.io.raster import write_geotiff

    def tif(path: Path, data: np.ndarray, nodata: Any, description: str,
            tags: dict[str, Any] | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_geotiff(path, data, transform=ctx.grid.transform, crs="EPSG:4326", nodata=nodata,
                      tags=tags, description=description or None)  # fmt: skip

    tif(tmp / "rasters" / "restricted.tif", ctx.restricted.astype(np.uint8), 255,
        "restricted zones (1 inside)")
    for oc in outcomes:
        d = tmp / "rasters" / slug(oc.variant.name)
        for lname, arr in oc.layers.items():
            a = np.asarray(arr)
            nodata: float | int
            if lname == "service_level":
                a, nodata = a.astype(np.uint8), 255
            elif lname == "best_server":
                a, nodata = a.astype(np.int32), -1
            else:
                nodata = float("nan")
            tif(d / f"{lname}.tif", a, nodata, lname,
                {"scenario": ctx.scenario.name, "variant": oc.variant.name})
        (d / "best_server_sites.csv").write_text(
            "index,site_id\n" + "".join(f"{i},{sid}\n" for i, sid in enumerate(oc.sector_ids)),
            encoding="utf-8",
        )


#: Continuous layers drawn for the primary variant: name, units, colour range.
_LAYER_MAPS = (
    ("rsrp_dbm", "dBm (RSRP / RxLev)", -130, -60),
    ("ul_margin_db", "dB", -20, 40),
    ("dl_sinr_db", "dB", -10, 30),
    ("ul_sinr_db", "dB", -10, 30),
    ("p_sms", "probability (location variability)", 0, 1),
    ("p_voice", "probability (location variability)", 0, 1),
    ("p_data", "probability (location variability)", 0, 1),
)


def _write_maps(
    tmp: Path, ctx: RunContext, outcomes: list[VariantOutcome]
) -> dict[str, dict[str, Path]]:
    from yalu.io.maps import write_layer_png, write_service_png

    sc, grid, st = ctx.scenario, ctx.grid, ctx.settlements
    note = "COARSE 5' DEMO TERRAIN: not for analysis" if ctx.terrain_info()["coarse"] else ""
    base = {
        "border": ctx.lines, "grid": grid, "area_mask": ctx.in_area,
        "sites": [(s.lat_deg, s.lon_deg) for s in ctx.sites],
        "zones": [(z.lat_deg, z.lon_deg) for z in sc.restricted_zones if z.lat_deg is not None],
        "towns": [(float(a), float(b)) for a, b, p
                  in zip(st.lat_deg, st.lon_deg, st.population, strict=True) if p >= 10000],
    }  # fmt: skip
    width = sc.output.map_width_px
    maps: dict[str, dict[str, Path]] = {}
    for k, oc in enumerate(outcomes):
        vname = slug(oc.variant.name)
        ov = dict(base)
        if oc.variant.jammers:
            ov["jammers"] = [(j.lat_deg, j.lon_deg) for j in sc.jammers]
        mp: dict[str, Path] = {}
        mp["service level"] = write_service_png(
            tmp / "maps" / f"{vname}_service_level.png", oc.service_level, grid,
            title=f"{sc.name} — {oc.variant.name}: service level", overlays=ov, width_px=width,
            note=note,
        )  # fmt: skip
        if k == 0:
            for lname, units, lo, hi in _LAYER_MAPS:
                if lname not in oc.layers:
                    continue
                mp[lname] = write_layer_png(
                    tmp / "maps" / f"{vname}_{lname}.png", np.asarray(oc.layers[lname], dtype=float),
                    grid, title=f"{oc.variant.name}: {lname}", units=units, overlays=ov,
                    width_px=width, vmin=lo, vmax=hi, note=note,
                )  # fmt: skip
            mp["best_server"] = write_layer_png(
                tmp / "maps" / f"{vname}_best_server.png", np.asarray(oc.layers["best_server"]),
                grid, title=f"{oc.variant.name}: best server (see best_server_sites.csv)",
                units="", overlays=ov, width_px=width, categorical_labels=list(oc.sector_ids),
                note=note,
            )  # fmt: skip
            mp["restricted"] = write_layer_png(
                tmp / "maps" / "restricted.png", np.where(ctx.restricted, 0.0, np.nan), grid,
                title=f"{sc.name}: restricted zones (use forbidden; physics unchanged)",
                units="", overlays=base, width_px=width, categorical_labels=["restricted"],
                note=note,
            )  # fmt: skip
        maps[oc.variant.name] = mp
    return maps


def write_layers(tmp: Path, ctx: RunContext, outcomes: list[VariantOutcome]) -> dict[str, dict[str, Path]]:
    """Write the rasters and PNG maps the scenario asks for into ``tmp``; returns the maps."""
    if ctx.scenario.output.geotiff:
        _write_rasters(tmp, ctx, outcomes)
    return _write_maps(tmp, ctx, outcomes) if ctx.scenario.output.png else {}


def write_summary_and_reports(
    tmp: Path, sc: Scenario, summary: dict[str, Any], maps: dict[str, dict[str, Path]]
) -> None:
    """Write ``summary.json`` and the reports the scenario asks for into ``tmp``."""
    from yalu.io.report import write_report_html, write_report_md
    from yalu.io.summary import write_summary

    write_summary(tmp / "summary.json", summary)
    if sc.output.report_md:
        write_report_md(tmp / "report.md", summary, maps)
    if sc.output.report_html:
        write_report_html(tmp / "report.html", summary, maps)


def probability_and_limits(
    oc: VariantOutcome, tally: Any, in_area: np.ndarray,
    sample_p: Mapping[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Expected people and area (sum of people or km² x P) and the service limits of a variant.

    ``sample_p``: ``p_sms``, ... at the population samples, for a tally that counts people there.

    ``service_limits``: nodes of the analysis area by their level and what keeps them from the
    next one (:data:`yalu.radio.budget.LIMIT_NAMES`).
    """
    from yalu.analysis.reach import LEVELS
    from yalu.radio.budget import LIMIT_NAMES

    out: dict[str, Any] = {}
    levels = list(LEVELS.values())
    if all(f"p_{lv}" in oc.layers for lv in levels):
        exp: dict[str, dict[str, dict[str, float]]] = {}
        area: dict[str, dict[str, float]] = {}
        for lv in levels:
            people = tally.expected_people(oc.layers[f"p_{lv}"],
                                           None if sample_p is None else sample_p[f"p_{lv}"])
            for (cc, prov), x in zip(tally.groups, people, strict=True):
                exp.setdefault(cc, {}).setdefault(prov, {})[lv] = float(x)
            for cc, x in zip(tally.countries, tally.expected_area(oc.layers[f"p_{lv}"]), strict=True):
                if cc != UNKNOWN:
                    area.setdefault(cc, {})[lv] = float(x)
        out["expected_population_within_reach"] = exp
        out["expected_area_km2"] = area
    lim = oc.layers.get("service_limit")
    if lim is not None:
        sl = np.asarray(oc.service_level)[in_area]
        li = np.asarray(lim)[in_area]
        tab: dict[str, dict[str, int]] = {}
        for k, name in enumerate(["none", *levels[:2]]):
            sel = sl == k
            if sel.any():
                codes, counts = np.unique(li[sel], return_counts=True)
                tab[name] = {LIMIT_NAMES[int(c)]: int(n) for c, n in zip(codes, counts, strict=True)}
        out["service_limits"] = tab
    return out


def write_tornado(tmp: Path, sc: Scenario, unc: dict[str, Any], foreign: str | None) -> Path | None:
    """The sensitivity ranking of the uncertainty run as a tornado chart PNG."""
    from yalu.io.plots import write_tornado_png

    sens = unc.get("sensitivity") or {}
    if not sens.get("bars"):
        return None
    (tmp / "maps").mkdir(parents=True, exist_ok=True)
    panels = [(str(sens.get("metric", "headline")), float(sens["baseline"]), "at_p10", "at_p90")]
    if "area_baseline" in sens:
        panels.append((str(sens.get("area_metric", "area")), float(sens["area_baseline"]),
                       "area_at_p10", "area_at_p90"))
    return write_tornado_png(
        tmp / "maps" / "sensitivity_tornado.png", sens["bars"], panels,
        title=f"{sc.name}: which assumption moves the headline most ({sens['variant']})",
    )  # fmt: skip
