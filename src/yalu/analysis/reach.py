"""Population within reach of a service-level map, by country, province and service level.

Service levels are the integers of the radio layer: 0 none, 1 SMS, 2 voice, 3 data. Every count is
cumulative: ``sms`` counts everyone who can at least send a text, so ``sms >= voice >= data``.

People come from settlements (GeoNames places) and, optionally, from a population raster. Where
the service was evaluated at population samples (:mod:`yalu.analysis.population`: settlement
footprints and raster cells, each sample on its own path to every site), each sample's people take
the sample's service level; otherwise (a service-level map alone) each place takes the level of its
nearest grid node and each raster cell that of the node nearest to it. Places of unknown
population (0 in GeoNames) are counted as places, never as people. Places flagged as duplicates
(:func:`yalu.analysis.settlements.flag_duplicates`) or as sections of a larger place
(:func:`yalu.analysis.population.sections`) are listed but not counted.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

from yalu.analysis import _kernels
from yalu.analysis.area import UNKNOWN, AnalysisArea, Regions
from yalu.analysis.geo import cell_area_km2
from yalu.analysis.population import FootprintLaw, PopulationSamples, sections
from yalu.analysis.settlements import Settlements, flag_duplicates
from yalu.cpu import readonly
from yalu.errors import InputError, ParameterError
from yalu.geodesy.grid import Grid
from yalu.radio.models import Service

__all__ = [
    "LEVELS",
    "CensusRow",
    "ReachResult",
    "census_table",
    "level_name",
    "population_reach",
    "sample_headline",
    "sampling_check",
    "settlement_nodes",
]

#: Service level names by their integer code (0 is "none").
LEVELS: dict[int, str] = {int(s): s.key for s in Service if s}
_NAMES = {int(s): s.key for s in Service}


def level_name(code: int) -> str:
    """``"none"``, ``"sms"``, ``"voice"`` or ``"data"``."""
    return _NAMES.get(int(code), "none")


@dataclass(frozen=True)
class CensusRow:
    province: str
    codes: tuple[str, ...]  # GeoNames admin-1 codes ("KP.17")
    population: int


def census_table(path: str | os.PathLike[str] | None = None) -> list[CensusRow]:
    """Province census table: columns ``province``, ``geonames_admin1`` (codes joined by ``+``),
    ``census_2008_pop`` (or ``population``). Default: North Korea's 2008 census, shipped."""
    if path is None:
        text = resources.files("yalu").joinpath("data/border_census_kp_2008.csv").read_text("utf-8")
        name = "border_census_kp_2008.csv"
    else:
        from yalu.inputs import read_text_capped

        text = read_text_capped(path, 64 * 2**20, "census table")
        name = str(path)
    rows = []
    reader = csv.DictReader(text.splitlines())
    cols = set(reader.fieldnames or ())
    if "geonames_admin1" not in cols or not cols & {"census_2008_pop", "population"}:
        raise InputError(
            f"{name}: line 1: columns {sorted(cols)[:6]}: a census table needs province, "
            "geonames_admin1 and census_2008_pop (or population)"
        )
    for i, r in enumerate(reader, start=2):
        codes = tuple(c.strip() for c in (r.get("geonames_admin1") or "").split("+") if c.strip())
        if not codes:
            continue  # totals and notes
        raw = r.get("census_2008_pop") or r.get("population") or ""
        try:
            pop = int(float(raw))
        except ValueError as exc:
            raise InputError(f"{name}: line {i}: population = {raw!r}: must be a number") from exc
        if pop < 0:
            raise InputError(f"{name}: line {i}: population = {raw!r}: must be >= 0")
        rows.append(CensusRow(str(r.get("province", "")), codes, pop))
    if not rows:
        raise InputError(f"{name}: no province rows (geonames_admin1 is empty everywhere)")
    return rows


def settlement_nodes(
    grid: Grid, lat_deg: np.ndarray, lon_deg: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, col, inside) of the grid node nearest to each point."""
    row = np.rint((grid.north_deg - np.asarray(lat_deg, float)) / grid.dlat_deg).astype(np.int64)
    col = np.rint((np.asarray(lon_deg, float) - grid.west_deg) / grid.dlon_deg).astype(np.int64)
    nr, nc = (int(v) for v in grid.shape)
    inside = (row >= 0) & (row < nr) & (col >= 0) & (col < nc)
    return np.clip(row, 0, nr - 1), np.clip(col, 0, nc - 1), inside


@dataclass
class ReachResult:
    """Reach of one service-level map. All dicts are plain JSON-able Python objects."""

    population_within_reach: dict[str, dict[str, dict[str, int]]]
    places_within_reach: dict[str, dict[str, dict[str, int]]]
    unknown_population_places_within_reach: dict[str, dict[str, dict[str, int]]]
    population_in_area: dict[str, dict[str, int]]
    places_in_area: dict[str, dict[str, int]]
    share_within_reach: dict[str, dict[str, dict[str, float]]]
    area_km2: dict[str, dict[str, float]]
    analysis_area_km2: dict[str, float]
    settlements: list[dict[str, Any]]
    census: list[dict[str, Any]] = field(default_factory=list)
    raster_population_within_reach: dict[str, dict[str, dict[str, float]]] | None = None
    raster_population_in_area: dict[str, dict[str, float]] | None = None
    sampling: dict[str, Any] | None = None

    def totals(self, country: str | None = None) -> dict[str, int]:
        """People within reach per level, summed over provinces (and countries unless given)."""
        out = {lv: 0 for lv in LEVELS.values()}
        for cc, provs in self.population_within_reach.items():
            if country is not None and cc != country:
                continue
            for per in provs.values():
                for lv, v in per.items():
                    out[lv] += int(v)
        return out

    def to_dict(self) -> dict[str, Any]:
        d = {
            "population_within_reach": self.population_within_reach,
            "places_within_reach": self.places_within_reach,
            "unknown_population_places_within_reach": self.unknown_population_places_within_reach,
            "population_in_area": self.population_in_area,
            "places_in_area": self.places_in_area,
            "share_within_reach": self.share_within_reach,
            "area_km2": self.area_km2,
            "analysis_area_km2": self.analysis_area_km2,
            "settlements": self.settlements,
            "census": self.census,
        }
        if self.raster_population_within_reach is not None:
            d["raster_population_within_reach"] = self.raster_population_within_reach
            d["raster_population_in_area"] = self.raster_population_in_area
        if self.sampling is not None:
            d["sampling"] = self.sampling
        return d


def _check_service(service_level: Any, grid: Grid) -> np.ndarray:
    sl = np.asarray(service_level)
    shape = tuple(int(v) for v in grid.shape)
    if sl.shape != shape:
        raise ParameterError(
            "service_level", f"array of shape {sl.shape}", f"shape {shape} (the grid)"
        )
    if not np.issubdtype(sl.dtype, np.integer):
        raise ParameterError(
            "service_level", f"dtype {sl.dtype}", "an integer array (0 none .. 3 data)"
        )
    # anything outside 0..3 (nodata) counts as no service
    return np.where((sl >= 0) & (sl <= 3), sl, 0).astype(np.int8)


def population_reach(
    service_level: Any,
    grid: Grid,
    settlements: Settlements,
    regions: Regions,
    area: AnalysisArea | None = None,
    *,
    best_server: Any | None = None,
    site_ids: Sequence[str] | None = None,
    population_raster: str | os.PathLike[str] | None = None,
    census: Sequence[CensusRow] | None = None,
    census_settlements: Settlements | None = None,
    dedupe_km: float = 5.0,
    samples: PopulationSamples | None = None,
    sample_level: Any | None = None,
    sample_best_server: Any | None = None,
    section_of: Any | None = None,
    footprint_law: FootprintLaw | None = None,
    in_area: Any | None = None,
) -> ReachResult:
    """Population, places and area within reach of each service level.

    Parameters
    ----------
    service_level : (rows, cols) int array
        0 none, 1 SMS, 2 voice, 3 data; other values count as none.
    grid : yalu.geodesy.Grid
        Node grid of ``service_level``.
    settlements : Settlements
        Places to count; those outside ``area`` or the grid are ignored. Country and province come
        from GeoNames (country code, admin-1 code).
    regions : Regions
        Province polygons: label nodes for the areas by country.
    area : AnalysisArea, optional
        Where to count; default the whole grid.
    best_server, site_ids : optional
        Raster of the best server's index (-1 none) and the site id of each index, to name each
        settlement's best site.
    population_raster : path, optional
        A GeoTIFF of people per cell (WorldPop, GHSL...), read with rasterio: zonal sums of the
        cells inside the grid and the area, each cell taking the service of its nearest node.
    census : list of CensusRow, optional
        Province census populations, compared with the settlement populations.
    census_settlements : Settlements, optional
        All places of the census provinces (not only those in the area), to state how much of the
        census the settlement list covers. Default ``settlements``.
    dedupe_km : float
        Radius for :func:`flag_duplicates`; 0 disables de-duplication.
    samples : PopulationSamples, optional
        Population samples (settlement footprints, ``owner`` >= 0, and raster cells, -1) where
        the service was evaluated: people are counted at the samples, with ``sample_level``
        (and ``sample_best_server``), instead of at grid nodes. Raster samples replace
        ``population_raster``.
    sample_level, sample_best_server : (n_samples,) int arrays, optional
    section_of : (n_settlements,) int array, optional
        :func:`yalu.analysis.population.sections` of ``settlements``: sections are not counted.
    in_area : (rows, cols) bool array, optional
        ``area.grid_mask(grid)`` when the caller has it already (it costs a distance to every
        border arc per node for a border buffer).

    Returns
    -------
    ReachResult
    """
    sl = _check_service(service_level, grid)
    lat1 = grid.lats()
    if in_area is None:
        in_area = np.ones(sl.shape, bool) if area is None else area.grid_mask(grid)
    elif np.shape(in_area) != sl.shape:
        raise ParameterError("in_area", f"shape {np.shape(in_area)}", f"the grid's {sl.shape}")
    in_area = np.asarray(in_area, dtype=bool)
    node_region = regions.label_grid(grid)
    levels = list(LEVELS.values())

    # areas by country
    countries = sorted(set(regions.countries)) + [UNKNOWN]
    cidx = {c: i for i, c in enumerate(countries)}
    region_country = np.array(
        [cidx[c] for c in regions.countries] + [cidx[UNKNOWN]], dtype=np.int64
    )
    # one pass over the grid's own arrays: no label, level or area array of its size
    # read-only views: one compiled signature whether a caller's arrays are frozen or not
    tab = _kernels.area_by_label_rows(
        readonly(np.ascontiguousarray(node_region)),
        readonly(region_country),
        readonly(np.ascontiguousarray(in_area)),
        readonly(np.ascontiguousarray(sl)),
        readonly(
            np.ascontiguousarray(cell_area_km2(lat1, grid.dlat_deg, grid.dlon_deg), dtype=float)
        ),
        len(countries),
        3,
    )
    area_km2: dict[str, dict[str, float]] = {}
    analysis_area_km2: dict[str, float] = {}
    for c, i in cidx.items():
        if tab[i].sum() <= 0:
            continue
        cum = np.cumsum(tab[i][::-1])[::-1]  # cum[k] = area with level >= k
        area_km2[c] = {levels[k - 1]: float(cum[k]) for k in (1, 2, 3)}
        analysis_area_km2[c] = float(cum[0])

    # settlements
    n = len(settlements)
    row, col, in_grid = settlement_nodes(grid, settlements.lat_deg, settlements.lon_deg)
    if area is not None and n:
        in_ar = area.contains(settlements.lat_deg, settlements.lon_deg)
    else:
        in_ar = np.ones(n, bool)
    counted = in_grid & in_ar
    dup = flag_duplicates(settlements, dedupe_km) if dedupe_km > 0 and n else np.full(n, -1)
    sec = np.full(n, -1) if section_of is None else np.asarray(section_of, dtype=np.int64)
    if sec.shape != (n,):
        raise ParameterError("section_of", f"array of shape {sec.shape}", f"shape ({n},)")
    lev = np.where(in_grid, sl[row, col], 0)
    bs = None
    if best_server is not None:
        bsa = np.asarray(best_server)
        if bsa.shape != sl.shape:
            raise ParameterError("best_server", f"array of shape {bsa.shape}", f"shape {sl.shape}")
        bs = np.where(in_grid, bsa[row, col], -1)
    # people of each settlement with at least each level: at its samples, or all at its node
    people_k = np.zeros((n, 4))
    if samples is not None:
        slv, sbs = _check_samples(samples, sample_level, sample_best_server)
        own = samples.owner
        mine = (own >= 0) & (own < n)
        for k in range(4):
            sel = mine & (slv >= k)
            people_k[:, k] = np.bincount(own[sel], weights=samples.people[sel], minlength=n)[:n]
        # a place's level and best site: those at its centre (its first sample)
        first = np.full(n, -1, dtype=np.int64)
        idx = np.flatnonzero(mine)[::-1]
        first[own[idx]] = idx
        has = first >= 0
        lev = np.where(has, slv[np.maximum(first, 0)], lev)
        if sbs is not None:
            bs = np.where(has, sbs[np.maximum(first, 0)], -1 if bs is None else bs)
    else:
        pop_all = np.asarray(settlements.population, dtype=float)
        for k in range(4):
            people_k[:, k] = np.where(lev >= k, pop_all, 0.0)

    pop_reach: dict[str, dict[str, dict[str, int]]] = {}
    people_acc: dict[str, dict[str, dict[str, float]]] = {}
    places_reach: dict[str, dict[str, dict[str, int]]] = {}
    unk_reach: dict[str, dict[str, dict[str, int]]] = {}
    pop_area: dict[str, dict[str, int]] = {}
    places_area: dict[str, dict[str, int]] = {}
    records = []
    for i in range(n):
        if not counted[i]:
            continue
        cc = str(settlements.country[i])
        prov = str(settlements.admin1_name[i]) or UNKNOWN
        pop = int(settlements.population[i])
        li = int(lev[i])
        rec: dict[str, Any] = {
            "geonameid": int(settlements.geonameid[i]),
            "name": str(settlements.name[i]),
            "country": cc,
            "province": prov,
            "admin1_code": f"{cc}.{settlements.admin1_code[i]}",
            "lat_deg": round(float(settlements.lat_deg[i]), 5),
            "lon_deg": round(float(settlements.lon_deg[i]), 5),
            "population": pop,
            "service_level": level_name(li),
            "best_site": None,
            "duplicate_of": None,
        }
        if bs is not None and li > 0 and int(bs[i]) >= 0:
            k = int(bs[i])
            rec["best_site"] = str(site_ids[k]) if site_ids is not None and k < len(site_ids) else k
        rec["section_of"] = None
        rec["people_within_reach"] = {LEVELS[k]: int(round(people_k[i, k])) for k in (1, 2, 3)}
        if dup[i] >= 0 or sec[i] >= 0:
            if dup[i] >= 0:
                rec["duplicate_of"] = int(settlements.geonameid[dup[i]])
            if sec[i] >= 0:
                rec["section_of"] = int(settlements.geonameid[sec[i]])
            rec["people_within_reach"] = {lv: 0 for lv in levels}
            records.append(rec)
            continue
        records.append(rec)
        pr = people_acc.setdefault(cc, {}).setdefault(prov, {lv: 0.0 for lv in levels})
        pl = places_reach.setdefault(cc, {}).setdefault(prov, {lv: 0 for lv in levels})
        pu = unk_reach.setdefault(cc, {}).setdefault(prov, {lv: 0 for lv in levels})
        pop_area.setdefault(cc, {}).setdefault(prov, 0)
        places_area.setdefault(cc, {}).setdefault(prov, 0)
        pop_area[cc][prov] += pop
        places_area[cc][prov] += 1
        for k in range(1, 4):
            lv = LEVELS[k]
            pr[lv] += float(people_k[i, k])
            if k <= li:
                pl[lv] += 1
                if pop <= 0:
                    pu[lv] += 1
    for cc, provs_f in people_acc.items():
        for prov, per_f in provs_f.items():
            pop_reach.setdefault(cc, {})[prov] = {lv: int(round(per_f[lv])) for lv in levels}
    share: dict[str, dict[str, dict[str, float]]] = {}
    for cc, provs in pop_reach.items():
        for prov, per in provs.items():
            tot = pop_area[cc][prov]
            share.setdefault(cc, {})[prov] = {
                lv: (per[lv] / tot if tot > 0 else 0.0) for lv in levels
            }

    result = ReachResult(
        population_within_reach=pop_reach,
        places_within_reach=places_reach,
        unknown_population_places_within_reach=unk_reach,
        population_in_area=pop_area,
        places_in_area=places_area,
        share_within_reach=share,
        area_km2=area_km2,
        analysis_area_km2=analysis_area_km2,
        settlements=records,
    )
    if census:
        result.census = _census_rows(
            census, settlements if census_settlements is None else census_settlements, dedupe_km,
            records, use_sections=section_of is not None, law=footprint_law,
        )  # fmt: skip
    if samples is not None and bool((samples.owner < 0).any()):
        rp, ra = _samples_raster_reach(samples, slv, regions)
        result.raster_population_within_reach = rp
        result.raster_population_in_area = ra
    elif population_raster is not None:
        rp, ra = _raster_reach(population_raster, grid, sl, in_area, node_region, regions)
        result.raster_population_within_reach = rp
        result.raster_population_in_area = ra
    return result


def _check_samples(
    samples: PopulationSamples, level: Any, best: Any
) -> tuple[np.ndarray, np.ndarray | None]:
    m = len(samples)
    if level is None:
        raise ParameterError("sample_level", None, f"an int array of {m} levels (with samples)")
    lv = np.asarray(level)
    if lv.shape != (m,) or not np.issubdtype(lv.dtype, np.integer):
        raise ParameterError(
            "sample_level",
            f"array of shape {lv.shape}, dtype {lv.dtype}",
            f"an int array of shape ({m},)",
        )
    lv = np.where((lv >= 0) & (lv <= 3), lv, 0).astype(np.int64)
    bs = None
    if best is not None:
        bs = np.asarray(best)
        if bs.shape != (m,):
            raise ParameterError(
                "sample_best_server", f"array of shape {bs.shape}", f"shape ({m},)"
            )
    return lv, bs


def _samples_raster_reach(
    samples: PopulationSamples, level: np.ndarray, regions: Regions
) -> tuple[dict[str, dict[str, dict[str, float]]], dict[str, dict[str, float]]]:
    sel = samples.owner < 0
    lab = regions.label_points(samples.lat_deg[sel], samples.lon_deg[sel]).astype(np.int64)
    nreg = len(regions.codes)
    lab = np.where(lab < 0, nreg, lab)
    tab = _kernels.sum_by_label(lab, level[sel], np.ascontiguousarray(samples.people[sel]),
                                nreg + 1, 3)  # fmt: skip
    return _raster_tables(tab, regions)


def _census_rows(
    census: Sequence[CensusRow],
    allset: Settlements,
    dedupe_km: float,
    records: list[dict[str, Any]],
    use_sections: bool = False,
    law: FootprintLaw | None = None,
) -> list[dict[str, Any]]:
    rank = {name: k for k, name in _NAMES.items()}
    dup = (
        flag_duplicates(allset, dedupe_km)
        if dedupe_km > 0 and len(allset)
        else np.full(len(allset), -1)
    )
    sec = sections(allset, law) if use_sections else np.full(len(allset), -1)
    full = np.array([f"{c}.{a}" for c, a in zip(allset.country, allset.admin1_code, strict=True)])
    out = []
    for row in census:
        sel = np.isin(full, row.codes) & (dup < 0) & (sec < 0)
        listed = int(allset.population[sel].sum())
        within = {lv: 0 for lv in LEVELS.values()}
        for rec in records:
            if (
                rec["duplicate_of"] is None
                and rec.get("section_of") is None
                and rec["admin1_code"] in row.codes
            ):
                for k in range(1, 4):
                    lv = LEVELS[k]
                    if "people_within_reach" in rec:
                        within[lv] += rec["people_within_reach"][lv]
                    elif k <= rank[rec["service_level"]]:
                        within[lv] += rec["population"]
        out.append(
            {
                "province": row.province,
                "admin1_codes": list(row.codes),
                "census_population": row.population,
                "settlement_population": listed,
                "settlement_share_of_census": listed / row.population if row.population else 0.0,
                "settlement_places": int(sel.sum()),
                "within_reach": within,
                "within_reach_share_of_census": {
                    lv: (v / row.population if row.population else 0.0) for lv, v in within.items()
                },
            }
        )
    return out


def _raster_reach(
    path: str | os.PathLike[str],
    grid: Grid,
    sl: np.ndarray,
    in_area: np.ndarray,
    node_region: np.ndarray,
    regions: Regions,
) -> tuple[dict[str, dict[str, dict[str, float]]], dict[str, dict[str, float]]]:
    import rasterio
    from rasterio.windows import from_bounds

    lat1, lon1 = grid.lats(), grid.lons()
    south = float(lat1[-1] - grid.dlat_deg / 2)
    north = float(lat1[0] + grid.dlat_deg / 2)
    west = float(lon1[0] - grid.dlon_deg / 2)
    east = float(lon1[-1] + grid.dlon_deg / 2)
    try:
        src = rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise InputError(f"{path}: cannot read population raster ({exc})") from exc
    with src:
        if src.crs is not None and not src.crs.is_geographic:
            raise ParameterError(
                "population_raster", str(path), "a raster in geographic lon/lat coordinates"
            )
        win = from_bounds(west, south, east, north, src.transform).round_offsets().round_lengths()
        try:
            data = src.read(1, window=win, boundless=True, fill_value=0, masked=True)
        except rasterio.errors.RasterioError as exc:
            raise InputError(f"{path}: cannot read population raster ({exc})") from None
        tr = src.window_transform(win)
    pop = np.asarray(data.filled(0), dtype=float)
    pop[~np.isfinite(pop) | (pop < 0)] = 0.0
    rows = np.arange(pop.shape[0])
    cols = np.arange(pop.shape[1])
    plon = tr.c + tr.a * (cols + 0.5)
    plat = tr.f + tr.e * (rows + 0.5)
    r = np.rint((grid.north_deg - plat) / grid.dlat_deg).astype(np.int64)
    c = np.rint((plon - grid.west_deg) / grid.dlon_deg).astype(np.int64)
    nr, nc = sl.shape
    okr = (r >= 0) & (r < nr)
    okc = (c >= 0) & (c < nc)
    rr, cc = np.meshgrid(np.clip(r, 0, nr - 1), np.clip(c, 0, nc - 1), indexing="ij")
    ok = okr[:, None] & okc[None, :] & in_area[rr, cc]
    lab = np.where(ok, node_region[rr, cc], -1)
    # region index -1 (outside every polygon) -> its own label at the end
    nreg = len(regions.codes)
    lab = np.where(ok & (lab < 0), nreg, lab)
    tab = _kernels.sum_by_label(
        lab.astype(np.int64), sl[rr, cc].astype(np.int64), np.ascontiguousarray(pop), nreg + 1, 3
    )
    return _raster_tables(tab, regions)


def _raster_tables(
    tab: np.ndarray, regions: Regions
) -> tuple[dict[str, dict[str, dict[str, float]]], dict[str, dict[str, float]]]:
    nreg = len(regions.codes)
    within: dict[str, dict[str, dict[str, float]]] = {}
    total: dict[str, dict[str, float]] = {}
    for k in range(nreg + 1):
        if tab[k].sum() <= 0:
            continue
        cc_ = regions.countries[k] if k < nreg else UNKNOWN
        prov = regions.names[k] if k < nreg else UNKNOWN
        cum = np.cumsum(tab[k][::-1])[::-1]
        d = within.setdefault(cc_, {}).setdefault(prov, {lv: 0.0 for lv in LEVELS.values()})
        for j in (1, 2, 3):
            d[LEVELS[j]] += float(cum[j])
        total.setdefault(cc_, {}).setdefault(prov, 0.0)
        total[cc_][prov] += float(cum[0])
    return within, total


def sample_headline(
    samples: PopulationSamples, level: Any, settlements: Settlements, regions: Regions
) -> dict[str, dict[str, dict[str, float]]]:
    """People with at least each level by source (``settlements``, ``raster``) and country:
    settlement samples by their place's country, raster samples by the region holding them."""
    lv, _ = _check_samples(samples, level, None)
    out: dict[str, dict[str, dict[str, float]]] = {}
    own = samples.owner
    mine = own >= 0
    cc = np.full(len(samples), UNKNOWN, dtype=object)
    if mine.any():
        cc[mine] = np.asarray(settlements.country, dtype=object)[own[mine]]
    if (~mine).any():
        lab = regions.label_points(samples.lat_deg[~mine], samples.lon_deg[~mine])
        names = np.array(list(regions.countries) + [UNKNOWN], dtype=object)
        cc[~mine] = names[np.where(lab < 0, len(regions.countries), lab)]
    for src, sel in (("settlements", mine), ("raster", ~mine)):
        if not sel.any():
            continue
        d = out.setdefault(src, {})
        for c in sorted(set(cc[sel])):
            m = sel & (cc == c)
            d[str(c)] = {LEVELS[k]: float(samples.people[m & (lv >= k)].sum()) for k in (1, 2, 3)}
    return out


def sampling_check(
    samples: PopulationSamples,
    level: Any,
    settlements: Settlements,
    regions: Regions,
    fine: PopulationSamples | None = None,
    fine_level: Any | None = None,
) -> dict[str, Any]:
    """The population sampling of a run and, with ``fine`` (the same at half the spacing), the
    headline at both and their relative difference ``(fine - coarse) / coarse`` per source,
    country and level (0 where both are 0; None where only the coarse one is 0)."""
    head = sample_headline(samples, level, settlements, regions)
    own = samples.owner
    out: dict[str, Any] = {
        "source": samples.source,
        "spacing_m": samples.spacing_m,
        "samples": len(samples),
        "settlement_samples": int((own >= 0).sum()),
        "raster_samples": int((own < 0).sum()),
        "headline": head,
    }
    if fine is None:
        out["half_spacing"] = None
        return out
    head2 = sample_headline(fine, fine_level, settlements, regions)
    rel: dict[str, dict[str, dict[str, float | None]]] = {}
    worst = 0.0
    for src in sorted(set(head) | set(head2)):
        for c in sorted(set(head.get(src, {})) | set(head2.get(src, {}))):
            a = head.get(src, {}).get(c, {})
            b = head2.get(src, {}).get(c, {})
            for lvn in LEVELS.values():
                x, y = a.get(lvn, 0.0), b.get(lvn, 0.0)
                r = 0.0 if x == y else (None if x == 0 else (y - x) / x)
                rel.setdefault(src, {}).setdefault(c, {})[lvn] = r
                if r is not None:
                    worst = max(worst, abs(r))
    out["half_spacing"] = {
        "spacing_m": fine.spacing_m,
        "samples": len(fine),
        "headline": head2,
        "relative_difference": rel,
        "max_abs_relative_difference": worst,
    }
    return out
