"""What a scenario run writes: rasters, maps, ``summary.json``, ``report.md`` and ``report.html``.

:func:`describe_run` gathers the inputs, assumptions and notes of a run into the summary's
sections; :func:`write_outputs` writes every file into a directory (the runner's temporary one,
renamed into place only when complete).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from yalu.analysis.area import UNKNOWN, AnalysisArea, NodeCountries, Regions
from yalu.analysis.settlements import Settlements
from yalu.errors import ParameterError
from yalu.geodesy import Grid, metres_per_degree
from yalu.io.mapdata import Layer, LineFeature, MapData, PointFeature, Province
from yalu.io.spill import DiskArray, SpillStore
from yalu.scenario.adapt import SectorCarrier, radio_handset, variant_technologies
from yalu.scenario.checks import VariantOutcome
from yalu.scenario.models import Scenario, Site, scenario_hash, slug

__all__ = [
    "RunContext",
    "build_mapdata",
    "describe_run",
    "probability_and_limits",
    "raster_layers",
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
    node_country: NodeCountries
    lines: list[np.ndarray]
    sites: list[Site]
    sectors: list[SectorCarrier]
    settlements: Settlements
    settlements_source: str
    census_source: str | None
    path_loss_maps: int
    restricted: np.ndarray
    #: province polygons (outlines and names on the interactive map and in the KMZ)
    regions: Regions | None = None
    #: where whole-grid layers derived for the outputs wait on disk (None: kept in memory)
    spill: SpillStore | None = None

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
                "defaults_used": sorted(k for k in ("tx_power_dbm", "antenna_gain_dbi",
                                                    "bandwidth_mhz")
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
        "carrier. ITM's profile geometry serves both directions (mirrored; the reversed "
        "profile's own where a discrete choice of its analysis is within rounding of its "
        "threshold), and each direction's attenuation is computed at its own carrier."
    )
    notes.append(
        "Antenna elevation angles use the terrain heights of site and node and a 4/3 "
        "effective earth; patterns are the radio layer's (3GPP TR 36.814 sector model)."
    )
    notes.append(
        f"Each settlement takes the service of its nearest grid node (step "
        f"{ctx.grid_step_m / 1000:.1f} km north-south): a town within half a step of the border "
        "may take a node on the other bank."
    )
    in_nodes = ctx.node_country.counts(ctx.in_area)
    if in_nodes.get(UNKNOWN, 0) > 0.5 * sum(in_nodes.values()):
        notes.append(
            "Most of the analysis area lies outside the province polygons, so its area is counted "
            "under 'unknown': give population.regions (GeoJSON with gn_a1_code) "
            "for areas by country."
        )
    if any(s.technology == "gsm" for s in ctx.sectors):
        notes.append(
            "GSM carriers without a given frequency get distinct 200 kHz channels: an "
            "ideal frequency plan with no co-channel interference."
        )
    if sc.jammers:
        notes.append(
            "Each jammer's EIRP is spread evenly over its ranges; its path loss to the "
            "nodes is computed at the centre of each range, to a tower at the tower's "
            "UL carrier."
        )
    if sc.restricted_zones and any(
        (z.radius_m or 0) * 2 < ctx.grid_step_m for z in sc.restricted_zones
    ):
        notes.append(
            f"Restricted zones smaller than the grid step ({ctx.grid_step_m / 1000:.1f} km) "
            "may cover no node: they are drawn as markers on the maps."
        )
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
        "frequency_sharing_mhz": prop.frequency_sharing_mhz,
    }  # fmt: skip
    variants = {
        oc.variant.name: {
            "description": oc.variant.description,
            "settings": {"jammers": oc.variant.jammers,
                         "handset": sc.handset(oc.variant.handset).name,
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
        "restricted_zones": [
            z.model_dump(mode="json", exclude_none=True) for z in sc.restricted_zones
        ],
        "propagation": prop.model_dump(mode="json"),
        "handsets": handsets,
    }
    return {"inputs": inputs, "variants": variants, "assumptions": assumptions,
            "notes": _notes(ctx, extra_notes)}  # fmt: skip


def _raster_dir(root: Path, oc: VariantOutcome) -> Path:
    return root / "rasters" / slug(oc.variant.name)


def raster_layers(outdir: Path, oc: VariantOutcome, geotiff: bool = True) -> dict[str, Any]:
    """The layers of ``oc`` as the rasters written into ``outdir`` (each a
    :class:`~yalu.io.spill.DiskArray` of the layer's own dtype, read on use), or, without
    ``geotiff`` rasters, read into memory."""
    out: dict[str, Any] = {}
    for name, arr in oc.layers.items():
        if geotiff:
            out[name] = DiskArray(_raster_dir(outdir, oc) / f"{name}.tif", arr.shape, arr.dtype)
        else:
            out[name] = np.asarray(arr)
    return out


def raster_service_level(outdir: Path, oc: VariantOutcome, geotiff: bool = True) -> Any:
    """The service level of ``oc`` (int8) as the written ``service_level.tif`` (its uint8 band,
    values 0-3, read on use), or, without ``geotiff`` rasters, read into memory."""
    lv = oc.service_level
    if geotiff:
        return DiskArray(_raster_dir(outdir, oc) / "service_level.tif", lv.shape, np.int8)
    return np.asarray(lv)


def _write_rasters(tmp: Path, ctx: RunContext, outcomes: list[VariantOutcome]) -> None:
    from yalu.io.layerstyle import categories_of, category_rgba, layer_style
    from yalu.io.qml import write_raster_styles
    from yalu.io.raster import write_geotiff

    def tif(path: Path, data: Any, nodata: Any, key: str, tags: dict[str, Any] | None,
            techs: list[str] | None = None, labels: list[str] | None = None,
            dtype: Any = None) -> None:  # fmt: skip
        # ``data`` may wait on disk: written, checked and coloured a band of rows at a time
        path.parent.mkdir(parents=True, exist_ok=True)
        kind = np.dtype(dtype) if dtype is not None else data.dtype
        style = layer_style(key, techs)
        tags = dict(tags or {})
        cmap = None
        if style.kind != "continuous":
            tags["category_names"] = {str(k): v for k, v in categories_of(style, labels).items()}
            if kind in (np.uint8, np.uint16):
                cmap = {k: c for k, (c, _lab) in category_rgba(style, labels).items()}
        tags.setdefault("title", style.title)
        if style.units:
            tags.setdefault("units", style.units)
        write_geotiff(path, data, transform=ctx.grid.transform, crs="EPSG:4326", nodata=nodata,
                      tags=tags, description=key, colormap=cmap, dtype=dtype)  # fmt: skip
        vr = style.value_range(data) if style.kind == "continuous" else None
        write_raster_styles(path, style, labels, vr, kind)

    tif(tmp / "rasters" / "restricted.tif", ctx.restricted.astype(np.uint8), 255, "restricted",
        {"scenario": ctx.scenario.name})  # fmt: skip
    for oc in outcomes:
        d = _raster_dir(tmp, oc)
        techs = variant_technologies(ctx.scenario, oc.variant)
        for lname, arr in oc.layers.items():
            a = arr if hasattr(arr, "rows") else np.asarray(arr)
            nodata: float | int
            labels = None
            dtype: Any = None
            if lname == "service_level":
                nodata, dtype = 255, np.uint8
            elif lname == "best_server":
                nodata, labels, dtype = -1, list(oc.sector_ids), np.int32
            else:
                nodata = float("nan")
            tif(
                d / f"{lname}.tif",
                a,
                nodata,
                lname,
                {"scenario": ctx.scenario.name, "variant": oc.variant.name},
                techs,
                labels,
                dtype,
            )
        (d / "best_server_sites.csv").write_text(
            "index,site_id\n" + "".join(f"{i},{sid}\n" for i, sid in enumerate(oc.sector_ids)),
            encoding="utf-8",
        )


#: Continuous layers drawn for the primary variant (units and colour range from
#: :func:`yalu.io.layerstyle.layer_style`).
_LAYER_MAPS = ("rsrp_dbm", "ul_margin_db", "dl_sinr_db", "ul_sinr_db", "p_sms", "p_voice", "p_data")
#: Settlements named on the PNG maps: the most populous, at most this many.
_NAMED_TOWNS = 40


@dataclass
class _MapJob:
    """One PNG map to draw: ``kind`` "service" (:func:`yalu.io.maps.write_service_png`) or
    "layer" (:func:`yalu.io.maps.write_layer_png`) of ``data`` (an array, or one waiting on
    disk) into ``path``; ``style``: (layer name, technologies) whose colour range is read from
    the data when drawn."""

    variant: str
    name: str
    kind: Literal["service", "layer"]
    path: Path
    data: Any
    kwargs: dict[str, Any]
    style: tuple[str, list[str]] | None = None


def _draw(job: _MapJob) -> Path:
    """Draw one map (in the run's process, or in the helper of :func:`write_layers`)."""
    from yalu.io.layerstyle import layer_style
    from yalu.io.maps import write_layer_png, write_service_png

    if job.kind == "service":
        return write_service_png(job.path, job.data, **job.kwargs)
    kw = dict(job.kwargs)
    if job.style is not None:
        # as it is (on disk on fine grids): the colour range reads it by bands, the map only
        # the rows it shows
        kw["vmin"], kw["vmax"] = layer_style(*job.style).value_range(job.data)
    return write_layer_png(job.path, job.data, **kw)


def _map_jobs(tmp: Path, ctx: RunContext, outcomes: list[VariantOutcome],
              md: MapData | None = None) -> list[_MapJob]:  # fmt: skip
    """The PNG maps of a run, in the order they are listed."""
    from yalu.io.layerstyle import layer_style, split_signal, split_signal_keys

    sc, grid, st = ctx.scenario, ctx.grid, ctx.settlements
    note = "COARSE 5' DEMO TERRAIN: not for analysis" if ctx.terrain_info()["coarse"] else ""
    big = sorted(((int(p), str(n), float(a), float(b)) for a, b, p, n
                  in zip(st.lat_deg, st.lon_deg, st.population, st.name, strict=True)
                  if p >= 10000), reverse=True)  # fmt: skip
    named = {(a, b) for _p, _n, a, b in big[:_NAMED_TOWNS]}
    base = {
        "border": ctx.lines,
        # traced once, and the same outline as in the KMZ and GeoPackage
        "area_lines": (_area_outline(ctx) if md is None else
                       [r for ln in md.lines if ln.kind == "area" for r in ln.coords]),
        "sites": [(s.lat_deg, s.lon_deg) for s in ctx.sites],
        "zones": [(z.lat_deg, z.lon_deg) for z in sc.restricted_zones if z.lat_deg is not None],
        "towns": [(a, b, n if (a, b) in named else "") for _p, n, a, b in big],
        "provinces": [(p.name, p.rings, p.label_lon_deg, p.label_lat_deg)
                      for p in (md.provinces if md is not None else [])],
    }  # fmt: skip
    tech_of_sector = {x.radio.id: x.technology for x in ctx.sectors}
    width = sc.output.map_width_px
    jobs: list[_MapJob] = []
    for k, oc in enumerate(outcomes):
        vname = slug(oc.variant.name)
        techs = variant_technologies(sc, oc.variant)
        ov = dict(base)
        if oc.variant.jammers:
            ov["jammers"] = [(j.lat_deg, j.lon_deg) for j in sc.jammers]
        common = {"grid": grid, "overlays": ov, "width_px": width, "note": note}
        jobs.append(_MapJob(
            oc.variant.name, "service level", "service",
            tmp / "maps" / f"{vname}_service_level.png", oc.service_level,
            {**common, "title": f"{sc.name} — {oc.variant.name}: service level"},
        ))  # fmt: skip
        if k != 0:
            continue
        # read one at a time (on fine grids the layers wait on disk)
        layers: dict[str, Any] = {key: oc.layers[key] for key in _LAYER_MAPS
                                  if key in oc.layers}  # fmt: skip
        server_tech = [tech_of_sector.get(i, "") for i in oc.sector_ids]
        if len(set(server_tech)) > 1 and "rsrp_dbm" in layers:
            # GSM RxLev and LTE RSRP are different measures: one map, one colour bar each
            if md is not None:  # split once, by build_mapdata
                have = {ly.key: ly.values for ly in md.layers
                        if ly.variant == oc.variant.name}  # fmt: skip
                layers.update({key: have[key] for key in split_signal_keys(server_tech).values()
                               if key in have})  # fmt: skip
            else:
                layers.update(split_signal(np.asarray(oc.layers["rsrp_dbm"], dtype=float),
                                           np.asarray(oc.layers["best_server"]),
                                           server_tech))  # fmt: skip
        for lname, arr in layers.items():
            sty = layer_style(lname, techs)
            title = f"{oc.variant.name}: {sty.title}"
            if lname == "rsrp_dbm" and len(set(server_tech)) > 1:
                title += "\n(mixed measures: see the per-technology maps)"
            jobs.append(_MapJob(
                oc.variant.name, lname, "layer", tmp / "maps" / f"{vname}_{lname}.png", arr,
                {**common, "title": title, "units": sty.units, "cmap": sty.cmap,
                 "thresholds": sty.thresholds}, (lname, techs),
            ))  # fmt: skip
        jobs.append(_MapJob(
            oc.variant.name, "best_server", "layer", tmp / "maps" / f"{vname}_best_server.png",
            oc.layers["best_server"],
            {**common, "title": f"{oc.variant.name}: best server (ids in best_server_sites.csv)",
             "units": "", "categorical_labels": list(oc.sector_ids)},
        ))  # fmt: skip
        n_in = int(ctx.restricted.sum())
        jobs.append(_MapJob(
            oc.variant.name, "restricted", "layer", tmp / "maps" / "restricted.png",
            ctx.restricted.astype(np.int8),
            {**common, "overlays": base, "units": "",
             "title": f"{sc.name}: restricted zones (use forbidden; physics unchanged)"
             + ("" if n_in else "\nno grid node inside a zone: zones are the green markers"),
             "categories": {1: ("nodes inside a restricted zone", "#00a000")}},
        ))  # fmt: skip
    return jobs


def _simplify(ring: np.ndarray, tol_deg: float) -> np.ndarray:
    """Drop vertices closer than ``tol_deg`` to the last kept one (keeps the closing vertex)."""
    r = np.asarray(ring, dtype=float)[:, :2]
    if len(r) <= 4 or tol_deg <= 0:
        return r
    keep = [0]
    last = r[0]
    for k in range(1, len(r) - 1):
        if abs(r[k, 0] - last[0]) > tol_deg or abs(r[k, 1] - last[1]) > tol_deg:
            keep.append(k)
            last = r[k]
    keep.append(len(r) - 1)
    return r[keep]


def _provinces(ctx: RunContext, tol_deg: float) -> list[Province]:
    """The province polygons near the grid, simplified, with a label point inside each."""
    if ctx.regions is None:
        return []
    g = ctx.grid
    nr, nc = g.shape
    w, e = g.west_deg - 0.2 * nc * g.dlon_deg, g.west_deg + 1.2 * nc * g.dlon_deg
    n, s_ = g.north_deg + 0.2 * nr * g.dlat_deg, g.north_deg - 1.2 * nr * g.dlat_deg
    out = []
    for f, code, cc, name in zip(ctx.regions.features, ctx.regions.codes, ctx.regions.countries,
                                 ctx.regions.names, strict=True):  # fmt: skip
        fw, fs, fe, fn = f.bounds
        if fe < w or fw > e or fn < s_ or fs > n:
            continue
        rings = [_simplify(poly[0], tol_deg) for poly in f.polygons]
        big = max((poly[0] for poly in f.polygons), key=len)
        # label: the centroid of the largest ring, or its vertex mean when outside
        x, y = np.asarray(big[:, 0], float), np.asarray(big[:, 1], float)
        cross = x[:-1] * y[1:] - x[1:] * y[:-1]
        a = cross.sum() / 2
        if abs(a) > 1e-12:
            lon, lat = (
                ((x[:-1] + x[1:]) * cross).sum() / (6 * a),
                ((y[:-1] + y[1:]) * cross).sum() / (6 * a),
            )
        else:
            lon, lat = float(x.mean()), float(y.mean())
        if not bool(f.contains(lat, lon)):
            lon, lat = float(np.median(x)), float(np.median(y))
        label = "" if name == UNKNOWN else name  # outline without a label
        out.append(Province(label, cc, code, rings, float(lon), float(lat)))
    return out


def _area_outline(ctx: RunContext) -> list[np.ndarray]:
    """The analysis area's outline, traced on the grid (node = pixel centre)."""
    from yalu.io.maps import area_outline

    return area_outline(ctx.in_area, ctx.grid)


#: Layer order on the interactive map and in the KMZ (other layers follow).
_LAYER_ORDER = (
    "service_level",
    "p_sms",
    "p_voice",
    "p_data",
    "service_limit",
    "rsrp_dbm",
    "rxlev_dbm_gsm",
    "rscp_dbm_umts",
    "rsrp_dbm_lte",
    "rsrp_dbm_nr",
    "dl_sinr_db",
    "ul_sinr_db",
    "ul_margin_db",
    "best_server",
)


#: Grid nodes :func:`_split_signal_on_disk` splits at a time.
_SPLIT_BAND_NODES = 1 << 20


def _split_signal_on_disk(store: SpillStore, variant: str, rsrp: Any, best_server: Any,
                          server_tech: list[str]) -> dict[str, Any]:  # fmt: skip
    """:func:`yalu.io.layerstyle.split_signal` of layers that may wait on disk, into
    ``store`` a band of rows at a time (neither the layers nor the split are whole in
    memory); a technology no node has is dropped, as there."""
    from yalu.io.layerstyle import split_signal_keys, split_signal_parts

    shape = tuple(int(n) for n in rsrp.shape)
    keys = list(split_signal_keys(server_tech).values())
    writers = {key: store.rows(f"{variant}_{key}", shape, np.float32) for key in keys}
    present = dict.fromkeys(keys, False)
    step = max(1, _SPLIT_BAND_NODES // max(1, shape[1]))
    try:
        for r0 in range(0, shape[0], step):
            band = (np.asarray(rsrp[r0 : r0 + step]), np.asarray(best_server[r0 : r0 + step]))
            parts = split_signal_parts(*band, server_tech)
            for key, (arr, any_node) in parts.items():
                writers[key].write(arr)
                present[key] = present[key] or any_node
        out = {key: writers[key].close() for key in keys if present[key]}
    except BaseException:
        for w in writers.values():
            w.abort()
        raise
    for key in keys:
        if not present[key]:
            writers[key].abort()
    return out


def _values_at(arr: Any, row: np.ndarray, col: np.ndarray) -> np.ndarray:
    """``arr[row, col]`` of a 2-D layer in memory or on disk; one on disk is read a band of
    about ``_SPLIT_BAND_NODES`` nodes at a time, only the bands that hold a requested row (at
    a native 3" grid a whole layer is 180-360 MB)."""
    if not hasattr(arr, "rows"):
        return np.asarray(arr)[row, col]
    row = np.asarray(row, dtype=np.int64)
    col = np.asarray(col, dtype=np.int64)
    out = np.empty(row.shape, dtype=arr.dtype)
    n_rows, n_cols = (int(n) for n in arr.shape)
    if row.size and (row.min() < 0 or row.max() >= n_rows):
        raise IndexError(f"rows outside 0..{n_rows - 1}")
    step = max(1, _SPLIT_BAND_NODES // max(1, n_cols))
    band_of = row // step
    for b in np.unique(band_of):
        sel = np.flatnonzero(band_of == b)
        r0 = int(b) * step
        out[sel] = arr.rows(r0, r0 + step)[row[sel] - r0, col[sel]]
    return out


def build_mapdata(ctx: RunContext, outcomes: list[VariantOutcome]) -> MapData:
    """Everything the interactive map, the KMZ and the GeoPackage show."""
    from yalu.analysis.reach import settlement_nodes
    from yalu.io.layerstyle import split_signal

    sc, g = ctx.scenario, ctx.grid
    tech_of_sector = {x.radio.id: x.technology for x in ctx.sectors}
    md = MapData(
        title=sc.name, north_deg=g.north_deg, west_deg=g.west_deg, dlat_deg=g.dlat_deg,
        dlon_deg=g.dlon_deg, shape=g.shape, variants=[oc.variant.name for oc in outcomes],
        primary=outcomes[0].variant.name,
        note=("COARSE 5' DEMO TERRAIN: not for analysis" if ctx.terrain_info()["coarse"] else ""),
    )  # fmt: skip
    for oc in outcomes:
        v = oc.variant.name
        techs = variant_technologies(sc, oc.variant)
        for key, arr in oc.layers.items():
            labels = list(oc.sector_ids) if key == "best_server" else None
            md.layers.append(Layer.make(v, key, arr, techs, labels))
        server_tech = [tech_of_sector.get(i, "") for i in oc.sector_ids]
        if len(set(server_tech)) > 1 and "rsrp_dbm" in oc.layers and "best_server" in oc.layers:
            rsrp, best = oc.layers["rsrp_dbm"], oc.layers["best_server"]
            split = (split_signal(np.asarray(rsrp), np.asarray(best), server_tech)
                     if ctx.spill is None
                     else _split_signal_on_disk(ctx.spill, v, rsrp, best, server_tech))  # fmt: skip
            for key, arr in split.items():
                md.layers.append(Layer.make(v, key, arr, techs))
    order = {k: i for i, k in enumerate(_LAYER_ORDER)}
    md.layers.sort(key=lambda ly: order.get(ly.key, len(order)))  # stable: variants keep order
    md.layers.append(Layer.make("", "restricted", ctx.restricted.astype(np.uint8)))

    # settlements: attributes once, service and layer values per variant
    margin_keys = [k for k in ("rsrp_dbm", "dl_sinr_db", "ul_sinr_db", "ul_margin_db")
                   if k in outcomes[0].layers]  # fmt: skip
    extra_keys = [k for k in outcomes[0].layers
                  if k not in margin_keys
                  and k not in ("service_level", "best_server")]  # fmt: skip
    first = outcomes[0].reach.settlements
    if first:
        lat = np.array([r["lat_deg"] for r in first], float)
        lon = np.array([r["lon_deg"] for r in first], float)
        row, col, _inside = settlement_nodes(g, lat, lon)
    per: dict[int, dict[str, dict[str, Any]]] = {}
    for oc in outcomes:
        by_id = {r["geonameid"]: r for r in oc.reach.settlements}
        # each layer's values at every settlement's node (a layer on disk: the bands of rows
        # that hold settlements, never the whole layer)
        at = ({key: _values_at(oc.layers[key], row, col) for key in margin_keys + extra_keys}
              if first else {})  # fmt: skip
        for k, r0 in enumerate(first):
            r = by_id.get(r0["geonameid"], {})
            d: dict[str, Any] = {"service_level": r.get("service_level"),
                                 "best_server": r.get("best_site")}  # fmt: skip
            for key in margin_keys + extra_keys:
                val = float(at[key][k])
                d[key] = round(val, 2) if np.isfinite(val) else None
            per.setdefault(r0["geonameid"], {})[oc.variant.name] = d
    for r in first:
        props = {"geonameid": r["geonameid"], "country": r["country"], "province": r["province"],
                 "admin1_code": r.get("admin1_code"), "population": r["population"],
                 "duplicate_of": r["duplicate_of"]}  # fmt: skip
        md.points.append(PointFeature("settlement", str(r["geonameid"]), r["name"], r["lat_deg"],
                                      r["lon_deg"], props,
                                      per.get(r["geonameid"], {})))  # fmt: skip
    for st in _site_assumptions(ctx.sites, ctx.sectors):
        carriers = [
            f"{c['technology'].upper()} {c['band']} DL {c['dl_mhz']:g} / UL {c['ul_mhz']:g} MHz, "
            f"{c['tx_power_dbm']:g} dBm, {c['antenna_gain_dbi']:g} dBi, "
            f"EIRP {c['eirp_dbm']:.1f} dBm"
            + (f", azimuths {', '.join(f'{a:g}' for a in c['azimuths_deg'])}" if c["azimuths_deg"]
               else ", omni")
            for c in st["carriers"]
        ]  # fmt: skip
        props = {"height_m": st["height_m"], "operator": st.get("operator"),
                 "carriers": carriers, "assumption": st.get("assumption")}  # fmt: skip
        md.points.append(PointFeature("site", st["id"], st.get("name") or st["id"], st["lat_deg"],
                                      st["lon_deg"], props))  # fmt: skip
    for j in sc.jammers:
        props = {"height_m": j.height_m, "eirp_dbm": j.eirp_dbm,
                 "bands_mhz": ", ".join(f"{lo:g}-{hi:g}" for lo, hi in j.bands_mhz),
                 "duty_factor": j.duty_factor, "assumption": getattr(j, "assumption", None),
                 "active_in": ", ".join(oc.variant.name for oc in outcomes
                                        if oc.variant.jammers)}  # fmt: skip
        md.points.append(PointFeature("jammer", j.id, j.name or j.id, j.lat_deg, j.lon_deg, props))
    for k, z in enumerate(sc.restricted_zones):
        if z.lat_deg is not None and z.lon_deg is not None:
            zlat, zlon = z.lat_deg, z.lon_deg
        elif z.polygon:  # a polygon zone: a marker at its vertex mean
            zlon, zlat = (float(c) for c in np.mean(np.asarray(z.polygon, float), axis=0))
        else:
            continue
        md.points.append(PointFeature("zone", f"zone{k}", z.label, zlat, zlon,
                                      {"radius_m": z.radius_m,
                                       "illustrative": z.illustrative}))  # fmt: skip
    md.lines.append(LineFeature("border", "border", [np.asarray(x, float) for x in ctx.lines]))
    area = _area_outline(ctx)
    if area:
        md.lines.append(LineFeature("area", "analysis area", area))
    md.provinces = _provinces(ctx, min(g.dlat_deg, g.dlon_deg) / 3)
    return md


#: The PNG maps are drawn beside the other outputs by one helper process when a run has at
#: least this many (matplotlib holds the GIL: a thread gains little) ...
MAP_HELPER_MIN_MAPS = 4
#: ... and its grid at most this many nodes (beyond, the helper's own memory would add to the
#: run's peak; the maps are then drawn here, one at a time)
MAP_HELPER_MAX_NODES = 2_000_000


def _claim(claims: Path, i: int) -> bool:
    """Take map ``i`` of a helper's list for the caller's process (False: already taken)."""
    try:
        os.close(os.open(claims / f"{i}.claim", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def _helper_main(job_file: str) -> None:
    """The helper process (``python -m yalu.scenario._maphelper JOBS``): draws the maps of the
    pickled list it can claim, first to last, until one is taken by the run's process, and
    writes the indices it drew beside the list."""
    import pickle

    path = Path(job_file)
    with path.open("rb") as f:
        jobs = pickle.load(f)
    drawn = []
    for i, job in enumerate(jobs):
        if not _claim(path.parent, i):
            break
        _draw(job)
        drawn.append(i)
    tmp = path.with_name("drawn.tmp")
    tmp.write_text(" ".join(map(str, drawn)), encoding="utf-8")
    tmp.replace(path.with_name("drawn"))


@dataclass
class _Helper:
    """A running helper: its scratch directory (the maps' list, the claims, what it drew and
    its error output) and its process."""

    work: Path
    proc: Any


@contextmanager
def _map_helper(jobs: list[_MapJob], grid: Grid) -> Iterator[_Helper | None]:
    """Start the helper process of :func:`write_layers` on ``jobs`` (a scratch directory of
    the system's holds their list and claims), or None where a helper would not pay (few maps,
    a large grid, one CPU). The helper is stopped on the way out."""
    import pickle
    import shutil
    import subprocess
    import sys
    import tempfile

    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cpus = os.cpu_count() or 1
    nodes = int(grid.shape[0]) * int(grid.shape[1])
    if len(jobs) < MAP_HELPER_MIN_MAPS or nodes > MAP_HELPER_MAX_NODES or cpus < 2:
        yield None
        return
    work: Path | None = None
    proc = None
    try:
        try:
            work = Path(tempfile.mkdtemp(prefix="yalu-maps-"))
            with (work / "jobs.pkl").open("wb") as f:
                pickle.dump(jobs, f, protocol=pickle.HIGHEST_PROTOCOL)
            with (work / "stderr").open("wb") as err:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "yalu.scenario._maphelper", str(work / "jobs.pkl")],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                )  # fmt: skip
        except (OSError, pickle.PicklingError, TypeError, AttributeError) as exc:
            import warnings

            from yalu.errors import YaluWarning

            warnings.warn(f"the PNG maps are drawn by the run's process alone: no helper "
                          f"process ({type(exc).__name__}: {exc})", YaluWarning,
                          stacklevel=3)  # fmt: skip
        yield None if proc is None or work is None else _Helper(work, proc)
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)


def _finish_maps(jobs: list[_MapJob], helper: _Helper | None) -> dict[str, dict[str, Path]]:
    """Every map of ``jobs``, by variant and name in the jobs' order. With a ``helper``,
    those it has not started are drawn here, last first, and its own are waited for; any it
    did not finish (it stopped, or could not start) are drawn here too, with a warning."""
    drawn_here: set[int] = set()
    if helper is None:
        for job in jobs:
            _draw(job)
    else:
        work, proc = helper.work, helper.proc
        for i in range(len(jobs) - 1, -1, -1):
            if not _claim(work, i):
                break
            _draw(jobs[i])
            drawn_here.add(i)
        if len(drawn_here) == len(jobs) and proc.poll() is None:
            # nothing left for it (it may still be importing): not waited for
            proc.kill()
            proc.wait()
            return _by_variant(jobs)
        rc = proc.wait()
        done = work / "drawn"
        by_helper = ({int(x) for x in done.read_text(encoding="utf-8").split()}
                     if rc == 0 and done.is_file() else set())  # fmt: skip
        missing = [i for i in range(len(jobs)) if i not in drawn_here | by_helper]
        if rc != 0 or missing:
            import warnings

            from yalu.errors import YaluWarning

            err = (work / "stderr").read_text(encoding="utf-8", errors="replace")[-2000:]
            warnings.warn(
                f"the helper process drawing PNG maps stopped (exit status {rc}); the run's "
                f"process drew the maps instead ({len(missing)} left by the helper). Its last "
                f"output: {err}",
                YaluWarning,
                stacklevel=3,
            )
            for i in missing:
                _draw(jobs[i])
    return _by_variant(jobs)


def _by_variant(jobs: list[_MapJob]) -> dict[str, dict[str, Path]]:
    """The maps by variant and name, each read back (a PNG, whichever process drew it)."""
    from yalu.errors import OutputError

    maps: dict[str, dict[str, Path]] = {}
    for job in jobs:
        try:
            with job.path.open("rb") as f:
                head = f.read(8)
        except OSError as exc:
            raise OutputError(f"PNG map {job.path.name} was not written: {exc}") from None
        if head != b"\x89PNG\r\n\x1a\n":
            raise OutputError(f"PNG map {job.path.name} is not a PNG file")
        maps.setdefault(job.variant, {})[job.name] = job.path
    return maps


def write_layers(tmp: Path, ctx: RunContext, outcomes: list[VariantOutcome],
                 mapdata: MapData | None = None) -> dict[str, dict[str, Path]]:  # fmt: skip
    """Write the rasters (with colour tables and QGIS styles), PNG maps, KMZ and GeoPackage the
    scenario asks for into ``tmp``; returns the PNG maps.

    The PNG maps (a few hundred milliseconds of matplotlib each) are drawn by a helper process
    while this one writes the rasters, KMZ and GeoPackage; this one then draws those the helper
    has not started (see :data:`MAP_HELPER_MIN_MAPS`). The files are the same bytes either way.
    """
    out = ctx.scenario.output
    md = mapdata if mapdata is not None else build_mapdata(ctx, outcomes)
    jobs = _map_jobs(tmp, ctx, outcomes, md) if out.png else []
    with _map_helper(jobs, ctx.grid) as helper:
        if out.geotiff:
            _write_rasters(tmp, ctx, outcomes)
        if out.kmz:
            from yalu.io.kml import write_kmz

            write_kmz(tmp / "map.kmz", md)
        if out.gpkg:
            from yalu.io.gpkg import write_gpkg

            write_gpkg(tmp / "map.gpkg", md)
        return _finish_maps(jobs, helper)


def write_summary_and_reports(
    tmp: Path,
    sc: Scenario,
    summary: dict[str, Any],
    maps: dict[str, dict[str, Path]],
    mapdata: MapData | None = None,
) -> None:
    """Write ``summary.json`` and the reports the scenario asks for into ``tmp``; with
    ``mapdata``, ``report.html`` holds the interactive map."""
    from yalu.io.report import write_report_html, write_report_md
    from yalu.io.summary import write_summary

    write_summary(tmp / "summary.json", summary)
    if sc.output.report_md:
        write_report_md(tmp / "report.md", summary, maps)
    if sc.output.report_html:
        write_report_html(tmp / "report.html", summary, maps, mapdata=mapdata)


#: Grid nodes :func:`_limits_by_level` reads at a time.
_LIMIT_BAND_NODES = 1 << 20


def _limits_by_level(level: Any, limit: Any, in_area: np.ndarray, n_codes: int) -> np.ndarray:
    """Nodes of the area per (level 0..2, limit code), shape (3, n_codes): the grids read a
    band of rows at a time (they may wait on disk)."""
    mask = np.asarray(in_area, dtype=bool)
    nr = mask.shape[0]
    step = max(1, _LIMIT_BAND_NODES // max(1, mask[:1].size))
    counts = np.zeros((3, n_codes), dtype=np.int64)
    for r0 in range(0, nr, step):
        m = mask[r0 : r0 + step]
        sl = np.asarray(level[r0 : r0 + step])
        li = np.asarray(limit[r0 : r0 + step])
        for k in range(3):
            codes = li[m & (sl == k)].astype(np.int64)
            if codes.size and (codes.min() < 0 or codes.max() >= n_codes):
                bad = codes[(codes < 0) | (codes >= n_codes)][0]
                raise ParameterError("service_limit", int(bad), f"codes 0 to {n_codes - 1}")
            counts[k] += np.bincount(codes, minlength=n_codes)
    return counts


def probability_and_limits(
    oc: VariantOutcome,
    tally: Any,
    in_area: np.ndarray,
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
            p_grid = oc.layers[f"p_{lv}"]  # as it is: on disk on fine grids, read by bands
            people = tally.expected_people(
                p_grid, None if sample_p is None else sample_p[f"p_{lv}"]
            )
            for (cc, prov), x in zip(tally.groups, people, strict=True):
                exp.setdefault(cc, {}).setdefault(prov, {})[lv] = float(x)
            for cc, x in zip(tally.countries, tally.expected_area(p_grid), strict=True):
                if cc != UNKNOWN:
                    area.setdefault(cc, {})[lv] = float(x)
        out["expected_population_within_reach"] = exp
        out["expected_area_km2"] = area
    lim = oc.layers.get("service_limit")
    if lim is not None:
        counts = _limits_by_level(oc.service_level, lim, in_area, len(LIMIT_NAMES))
        tab: dict[str, dict[str, int]] = {}
        for k, name in enumerate(["none", *levels[:2]]):
            if counts[k].any():
                tab[name] = {
                    LIMIT_NAMES[int(c)]: int(counts[k, c]) for c in np.flatnonzero(counts[k])
                }
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
        panels.append(
            (
                str(sens.get("area_metric", "area")),
                float(sens["area_baseline"]),
                "area_at_p10",
                "area_at_p90",
            )
        )
    return write_tornado_png(
        tmp / "maps" / "sensitivity_tornado.png", sens["bars"], panels,
        title=f"{sc.name}: which assumption moves the headline most ({sens['variant']})",
    )  # fmt: skip
