"""Uncertainty of a scenario's assumptions: Monte Carlo bands and a sensitivity ranking.

A scenario declares distributions for what nobody publishes (:class:`yalu.scenario.models.
UncertaintySpec`). Each sample draws every parameter once (one draw applies to all of a
parameter's targets: the same assumption, fully correlated) and recomputes the service level of
each sampled variant, from which people and area within reach per level, country and province
follow. The answer is the P10 / P50 / P90 of each figure over the samples.

Cost: powers, gains, losses and duty factors enter the budgets in dB, so they shift the budgets
of a :class:`yalu.radio.ensemble.BudgetEnsemble` and touch no map. Heights and tilts change the
geometry; they take three levels (their distribution's P10, P50 and P90 with probabilities 0.3 /
0.4 / 0.3: Swanson's rule, a three-point approximation of a continuous distribution, see Keefer &
Bodily, "Three-point approximations for continuous random variables", Management Science 29(5),
1983), so that each level's path-loss maps are computed once and cached by the provider.

Sensitivity (the tornado chart): one parameter at a time at its P10 and at its P90, the others at
their P50; the swing of the headline figure ranks the assumptions.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from yalu.analysis.area import (
    UNKNOWN,
    NodeCountries,
    add_area_at_nodes_km2,
    area_at_levels_rows_km2,
    weighted_area_rows_km2,
)
from yalu.analysis.geo import cell_area_km2
from yalu.analysis.reach import LEVELS, settlement_nodes
from yalu.errors import ParameterError
from yalu.geodesy import Grid
from yalu.memory import release_free_memory
from yalu.radio import Handset as RadioHandset
from yalu.radio import Jammer as RadioJammer
from yalu.radio import SectorPattern, TechnologyProfile
from yalu.radio.ensemble import BudgetEnsemble, Offsets
from yalu.radio.layers import (
    GridGeometry,
    LayerInputs,
    PointGeometry,
    layer_requests,
    split_jammer_ranges,
)
from yalu.scenario.adapt import SectorCarrier
from yalu.scenario.models import Distribution, UncertainParameter

__all__ = [
    "GEOMETRIC",
    "SWANSON_LEVELS",
    "SWANSON_WEIGHTS",
    "Design",
    "Tally",
    "UncertaintyRun",
    "geometry_requests",
    "quantile",
    "sample",
]

#: Parameters that change path loss or antenna geometry (three levels each).
GEOMETRIC = ("site_height_offset_m", "site_tilt_deg", "jammer_height_offset_m")

#: (sites x nodes) per block while building an ensemble (a quarter of a budget's block)
ENSEMBLE_BLOCK_ELEMENTS = 500_000
#: grid nodes per band of the Monte Carlo's ensembles (each band's ensemble is built, used by
#: every sample and dropped before the next: memory does not grow with the grid)
ENSEMBLE_BAND_NODES = 1_000_000
#: Swanson's rule: P10, P50, P90 with weights 0.3, 0.4, 0.3.
SWANSON_LEVELS = (0.1, 0.5, 0.9)
SWANSON_WEIGHTS = (0.3, 0.4, 0.3)
_N01 = statistics.NormalDist()


def quantile(d: Distribution, u: float) -> float:
    """The ``u`` quantile (0 < u < 1) of a distribution (inverse CDF)."""
    if d.kind == "uniform":
        assert d.low is not None and d.high is not None
        return d.low + u * (d.high - d.low)
    if d.kind == "triangular":
        a, c, b = d.low, d.mode, d.high
        assert a is not None and b is not None and c is not None
        fc = (c - a) / (b - a)
        if u < fc:
            return a + math.sqrt(u * (b - a) * (c - a))
        return b - math.sqrt((1.0 - u) * (b - a) * (b - c))
    assert d.mean is not None and d.sd is not None
    lo = _N01.cdf((d.low - d.mean) / d.sd) if d.low is not None else 0.0
    hi = _N01.cdf((d.high - d.mean) / d.sd) if d.high is not None else 1.0
    v = lo + u * (hi - lo)
    v = min(max(v, 1e-12), 1.0 - 1e-12)
    return d.mean + d.sd * _N01.inv_cdf(v)


def sample(d: Distribution, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` draws by inverse transform of uniform draws from ``rng``."""
    u = rng.random(n)
    return np.array([quantile(d, float(x)) for x in u])


def _p_levels(d: Distribution) -> tuple[float, float, float]:
    return tuple(quantile(d, q) for q in SWANSON_LEVELS)  # type: ignore[return-value]


# ----------------------------------------------------------------------------------------------
# tallies of one service-level map


#: Grid nodes a band of :meth:`Tally.expected_area` reads at a time.
_AREA_BAND_NODES = 1 << 20


@dataclass
class Tally:
    """People and area within reach per level from a service-level grid, fast.

    Built once from a nominal reach (its counted settlement records) and the node labels; each
    call gathers the level at every settlement's node and every area node. With population
    samples (``sample_owner``: the geonameid of each sample's settlement, -1 for none;
    ``sample_people``), people are counted at the samples as the reach counts them
    (:func:`yalu.analysis.population_reach`): a settlement's people with a level are those of
    its samples with it, summed per province and rounded.
    """

    grid: Grid
    records: list[dict[str, Any]]
    #: the country of every node (an array of names is converted)
    node_country: NodeCountries | np.ndarray
    in_area: np.ndarray
    sample_owner: np.ndarray | None = None
    sample_people: np.ndarray | None = None
    groups: list[tuple[str, str]] = field(init=False)
    countries: list[str] = field(init=False)

    def __post_init__(self) -> None:
        # duplicates and sections (parts of a larger place's footprint) are counted by others
        recs = [r for r in self.records
                if r.get("duplicate_of") is None and r.get("section_of") is None]  # fmt: skip
        self.groups = sorted({(r["country"], r["province"]) for r in recs})
        gid = {g: i for i, g in enumerate(self.groups)}
        lat = np.array([r["lat_deg"] for r in recs], float)
        lon = np.array([r["lon_deg"] for r in recs], float)
        row, col, inside = settlement_nodes(self.grid, lat, lon)
        self._flat = np.where(inside, row * self.grid.shape[1] + col, -1)
        self._pop = np.array([max(int(r["population"]), 0) for r in recs], float)
        self._gid = np.array([gid[(r["country"], r["province"])] for r in recs], np.int64)
        lat1 = self.grid.lats()
        self._row_km2 = np.asarray(cell_area_km2(lat1, self.grid.dlat_deg, self.grid.dlon_deg),
                                   dtype=np.float64)  # fmt: skip
        if not isinstance(self.node_country, NodeCountries):
            self.node_country = NodeCountries.from_names(self.node_country)
        nodes = self.node_country
        in_area = np.asarray(self.in_area, dtype=bool)
        self.countries = sorted(c for c, n in nodes.counts(in_area).items() if n > 0)
        cid = {c: i for i, c in enumerate(self.countries)}
        lut = np.array([cid.get(c, -1) for c in nodes.names], dtype=np.int8)
        # each node's tally label (-1: outside the area): one byte per node
        self._alabel = np.where(in_area, lut[nodes.codes], np.int8(-1)).astype(np.int8)
        self._sgid: np.ndarray | None = None
        if self.sample_owner is not None:
            rec_gid = {int(r["geonameid"]): g for r, g in zip(recs, self._gid, strict=True)}
            owner = np.asarray(self.sample_owner, np.int64)
            self._sgid = np.array([rec_gid.get(int(o), -1) for o in owner], np.int64)
            self._speople = np.asarray(self.sample_people, float)

    @property
    def at_samples(self) -> bool:
        """Whether people are counted at population samples (:meth:`people` needs their levels)."""
        return self._sgid is not None

    def node_mask(self) -> np.ndarray:
        """Nodes a tally reads: the area and every settlement's node."""
        m = self.in_area.copy().ravel()
        m[self._flat[self._flat >= 0]] = True
        return m.reshape(self.grid.shape)

    def people(self, level_grid: np.ndarray, sample_levels: np.ndarray | None = None) -> np.ndarray:
        """People per (group, level 1..3), shape (n_groups, 3); with samples, from
        ``sample_levels`` (the level at each sample)."""
        if self._sgid is not None:
            if sample_levels is None:
                raise ParameterError("sample_levels", None, "the level at each population sample")
            return self.people_at_samples(sample_levels)
        flat = level_grid.ravel()
        return self.people_at_settlements(np.where(self._flat >= 0,
                                                   flat[np.maximum(self._flat, 0)], 0))  # fmt: skip

    def people_at_samples(self, sample_levels: np.ndarray) -> np.ndarray:
        """People per (group, level 1..3) from the level at each population sample, for a
        tally that counts at samples."""
        if self._sgid is None:
            raise ParameterError("sample_levels", "levels at samples",
                                 "a tally built with sample_owner and sample_people")  # fmt: skip
        slv = np.asarray(sample_levels)
        mine = self._sgid >= 0
        out = np.zeros((len(self.groups), 3))
        for k in (1, 2, 3):
            sel = mine & (slv >= k)
            out[:, k - 1] = np.round(np.bincount(self._sgid[sel], weights=self._speople[sel],
                                                 minlength=len(self.groups)))  # fmt: skip
        return out

    @property
    def n_settlements(self) -> int:
        """Settlement records the tally counts (not duplicates or sections)."""
        return int(self._flat.size)

    def people_at_settlements(self, lev: np.ndarray) -> np.ndarray:
        """People per (group, level 1..3) from the level at each counted settlement's node
        (:meth:`add_levels` gathers them), for a tally that counts at settlement nodes."""
        out = np.zeros((len(self.groups), 3))
        for k in (1, 2, 3):
            out[:, k - 1] = np.bincount(self._gid, weights=self._pop * (lev >= k),
                                        minlength=len(self.groups))  # fmt: skip
        return out

    def expected_people(self, p_grid: Any, p_samples: np.ndarray | None = None) -> np.ndarray:
        """Sum of people x probability per group, shape (n_groups,); with samples, from
        ``p_samples`` (the probability at each sample)."""
        if self._sgid is not None:
            if p_samples is None:
                raise ParameterError("p_samples", None, "the probability at each population sample")
            mine = self._sgid >= 0
            p = np.nan_to_num(np.asarray(p_samples, dtype=float))[mine]
            return np.bincount(self._sgid[mine], weights=self._speople[mine] * p,
                               minlength=len(self.groups))  # fmt: skip
        # the settlements' nodes only, as float64 (not a float64 copy of the grid)
        at = np.asarray(p_grid).reshape(-1)[np.maximum(self._flat, 0)].astype(float)
        p = np.where(self._flat >= 0, np.nan_to_num(at), 0.0)
        return np.bincount(self._gid, weights=self._pop * p, minlength=len(self.groups))

    def expected_area(self, p_grid: Any) -> np.ndarray:
        """Sum of cell area x probability per country [km²], shape (n_countries,).

        ``p_grid`` (the grid's shape) may wait on disk: it is read a band of rows at a time,
        and the bands' sums added in grid order are those of one pass, bit for bit.
        """
        nr, nc = (int(v) for v in self.grid.shape)
        p = p_grid if hasattr(p_grid, "rows") else np.asarray(p_grid)
        if p.ndim == 1 and p.size == nr * nc:
            p = p.reshape(nr, nc)
        if tuple(p.shape) != (nr, nc):
            raise ParameterError("p_grid", f"shape {tuple(p.shape)}", f"the grid's {(nr, nc)}")
        out = np.zeros(len(self.countries))
        step = max(1, _AREA_BAND_NODES // max(nc, 1))
        for r0 in range(0, nr, step):
            r1 = min(nr, r0 + step)
            weighted_area_rows_km2(np.asarray(p[r0:r1]), self._alabel[r0:r1],
                                   self._row_km2[r0:r1], len(self.countries), out=out)  # fmt: skip
        return out

    def add_levels(
        self,
        area: np.ndarray,
        node_index: np.ndarray,
        levels: np.ndarray,
        settlement_levels: np.ndarray | None = None,
    ) -> None:
        """Add the levels of some grid nodes (flat, increasing ``node_index``): their area
        [km²] into ``area`` (n_countries, 3) and, with ``settlement_levels`` (one per counted
        settlement), the level of each settlement whose node is among them.

        Bands of a grid added in order give :meth:`area` of the whole grid (0 elsewhere) bit
        for bit, with memory for one band's levels.
        """
        lv = np.ascontiguousarray(levels)
        idx = np.ascontiguousarray(node_index, dtype=np.intp)
        if lv.shape != idx.shape:
            raise ParameterError("levels", f"shape {lv.shape}", f"node_index's {idx.shape}")
        if area.shape != (len(self.countries), 3):
            raise ParameterError("area", f"shape {area.shape}",
                                 f"({len(self.countries)}, 3): a row per country")  # fmt: skip
        add_area_at_nodes_km2(area, idx, lv, self._alabel, self._row_km2, int(self.grid.shape[1]))
        if settlement_levels is not None and idx.size:
            pos = np.searchsorted(idx, self._flat)
            hit = (self._flat >= 0) & (pos < idx.size)
            hit[hit] = idx[pos[hit]] == self._flat[hit]
            settlement_levels[hit] = lv[pos[hit]]

    def area(self, level_grid: np.ndarray) -> np.ndarray:
        """Area [km²] per (country, level 1..3), shape (n_countries, 3)."""
        # one compiled pass (the Monte Carlo asks for every sample and variant)
        return area_at_levels_rows_km2(level_grid, self._alabel, self._row_km2,
                                       len(self.countries))  # fmt: skip


# ----------------------------------------------------------------------------------------------
# the run


@dataclass
class VariantPlan:
    """What a sampled variant needs: its sector-carriers, handset and whether jammers are on."""

    name: str
    sectors: list[SectorCarrier]
    handset: RadioHandset
    jammers: bool
    #: the variant's path-loss provider (the run's, with its corrections); None: the run's
    provider: Any = None


class Design:
    """What a Monte Carlo will draw and where: its parameters' draws, the tornado's vectors,
    the geometries both visit and the path-loss requests of those geometries.

    Depends only on the declared parameters, the variants and the jammers, so a run can ask
    for the geometries' maps before anything else (:func:`geometry_requests`).
    """

    def __init__(
        self,
        parameters: Sequence[UncertainParameter],
        samples: int,
        seed: int,
        variants: Sequence[VariantPlan],
        jammers: Sequence[RadioJammer],
    ) -> None:
        self.params = list(parameters)
        self.samples = int(samples)
        self.seed = int(seed)
        self.variants = list(variants)
        self.jammers = list(jammers)
        self.parts = split_jammer_ranges(jammers)
        self.geo_idx = [i for i, p in enumerate(self.params) if p.what in GEOMETRIC]
        self.add_idx = [i for i, p in enumerate(self.params) if p.what not in GEOMETRIC]

    # -- draws -------------------------------------------------------------------------------

    def draws(self) -> np.ndarray:
        """(samples, n_params): values (additive) or level indices 0/1/2 (geometric)."""
        rng = np.random.default_rng(self.seed)
        out = np.zeros((self.samples, len(self.params)))
        for i, p in enumerate(self.params):
            if p.what in GEOMETRIC:
                out[:, i] = rng.choice(3, size=self.samples, p=SWANSON_WEIGHTS)
            else:
                out[:, i] = sample(p.distribution, rng, self.samples)
        return out

    def medians(self) -> np.ndarray:
        return np.array([1.0 if p.what in GEOMETRIC else quantile(p.distribution, 0.5)
                         for p in self.params])  # fmt: skip

    # -- targets -----------------------------------------------------------------------------

    def _site_targets(self, p: UncertainParameter, sectors: Sequence[SectorCarrier]) -> np.ndarray:
        ids, techs = set(p.ids), set(p.technologies or [])
        return np.array([(not ids or sc.site.id in ids) and (not techs or sc.technology in techs)
                         for sc in sectors], dtype=bool)  # fmt: skip

    def _jammer_targets(self, p: UncertainParameter, parts: Sequence[RadioJammer]) -> np.ndarray:
        ids = set(p.ids)
        out = []
        for j in parts:
            parent = j.id.split("#")[0]
            ok = not ids or parent in ids
            if ok and p.band_mhz is not None:
                lo, hi = j.ranges_mhz[0]
                ok = min(hi, p.band_mhz[1]) > max(lo, p.band_mhz[0])
            out.append(ok)
        return np.array(out, dtype=bool)

    # -- geometry: one ensemble per (variant sectors, handset, geometry levels) --------------

    def _geometry(
        self, vp: VariantPlan, combo: tuple[int, ...]
    ) -> tuple[list[Any], list[RadioJammer]]:
        """The variant's sites and the jammers with the geometry levels ``combo`` applied."""
        sites = [s.radio for s in vp.sectors]
        jams = list(self.jammers)
        for gi, lvl in zip(self.geo_idx, combo, strict=True):
            p = self.params[gi]
            value = _p_levels(p.distribution)[lvl]
            if p.what == "site_height_offset_m":
                tg = self._site_targets(p, vp.sectors)
                sites = [s.model_copy(update={"height_m": max(1.0, s.height_m + value)}) if t else s
                         for s, t in zip(sites, tg, strict=True)]  # fmt: skip
            elif p.what == "site_tilt_deg":
                tg = self._site_targets(p, vp.sectors)
                sites = [s.model_copy(update={"pattern": s.pattern.model_copy(
                            update={"electrical_tilt_deg": value})})
                         if t and isinstance(s.pattern, SectorPattern) else s
                         for s, t in zip(sites, tg, strict=True)]  # fmt: skip
            elif p.what == "jammer_height_offset_m":
                ids = set(p.ids)
                jams = [j.model_copy(update={"height_m": max(1.0, j.height_m + value)})
                        if not ids or j.id in ids else j for j in jams]  # fmt: skip
        return sites, jams

    def _requests(self, combos: Sequence[tuple[int, ...]]) -> list[Any]:
        """The path-loss requests (``layer_requests``) of every variant at these geometries."""
        out: list[Any] = []
        for combo in combos:
            for vp in self.variants:
                sites, jams = self._geometry(vp, combo)
                out += layer_requests(sites, jams, vp.handset)
        return out

    def tornado_vectors(self) -> list[np.ndarray]:
        """The medians, then each parameter at its P10 and at its P90 (the others at their
        medians): every vector the sensitivity ranking evaluates."""
        med = self.medians()
        vectors = [med]
        for i, p in enumerate(self.params):
            lo_v, hi_v = med.copy(), med.copy()
            if p.what in GEOMETRIC:
                lo_v[i], hi_v[i] = 0, 2
            else:
                lo_v[i], hi_v[i] = quantile(p.distribution, 0.1), quantile(p.distribution, 0.9)
            vectors += [lo_v, hi_v]
        return vectors

    def combo_of(self, v: np.ndarray) -> tuple[int, ...]:
        """The geometry (level of each geometric parameter) of a parameter vector."""
        return tuple(int(v[j]) for j in self.geo_idx)

    def geometries(self) -> list[tuple[int, ...]]:
        """Every geometry the draws and the tornado's vectors visit, in the order the run
        visits them."""
        seen = {self.combo_of(d) for d in self.draws()}
        seen.update(self.combo_of(v) for v in self.tornado_vectors())
        return sorted(seen)


def geometry_requests(
    parameters: Sequence[UncertainParameter],
    samples: int,
    seed: int,
    variants: Sequence[VariantPlan],
    jammers: Sequence[RadioJammer],
) -> list[Any]:
    """The path-loss requests (``layer_requests``) of every geometry a Monte Carlo with these
    parameters will visit, at every variant: a run that computes them together with its
    nominal maps shares each node's profile between an antenna position's heights."""
    d = Design(parameters, samples, seed, variants, jammers)
    return d._requests(d.geometries())


class UncertaintyRun(Design):
    """Monte Carlo and one-at-a-time sensitivity over a scenario's declared distributions.

    Parameters
    ----------
    parameters : list of UncertainParameter
    samples, seed : int
    variants : list of VariantPlan
    jammers : list of radio Jammer (the scenario's)
    profiles : dict Technology -> TechnologyProfile
    grid : Grid
    provider : PathLossProvider (cached maps)
    terrain : terrain, optional
    tally : Tally
    points : (lat_deg, lon_deg) arrays, optional
        Population sample positions [deg]; required when ``tally`` counts at samples.
    grid_geometry : GridGeometry, optional
        The geometry of ``grid`` on ``terrain``, shared with the run's own budgets (default: one
        of its own, shared by every geometry of the Monte Carlo).
    point_geometry : PointGeometry, optional
        The geometry of ``points`` on ``terrain``, likewise.
    """

    def __init__(
        self,
        parameters: Sequence[UncertainParameter],
        samples: int,
        seed: int,
        variants: Sequence[VariantPlan],
        jammers: Sequence[RadioJammer],
        profiles: dict[Any, TechnologyProfile],
        grid: Grid,
        provider: Any,
        terrain: Any,
        tally: Tally,
        points: tuple[np.ndarray, np.ndarray] | None = None,
        *,
        grid_geometry: GridGeometry | None = None,
        point_geometry: PointGeometry | None = None,
    ) -> None:
        if tally.at_samples and points is None:
            raise ParameterError("points", None, "the population samples the tally counts at")
        super().__init__(parameters, samples, seed, variants, jammers)
        self.profiles = profiles
        self.grid = grid
        self.provider = provider
        self.terrain = terrain
        self.tally = tally
        self.mask = tally.node_mask()
        self.points = points if tally.at_samples else None
        # distances, azimuths and ground heights at the samples and grid nodes, shared by every
        # geometry (and with the run, when it passes its own)
        self.point_geo = None
        if self.points is not None:
            self.point_geo = point_geometry or PointGeometry(self.points[0], self.points[1],
                                                             terrain)  # fmt: skip
        self.grid_geo = grid_geometry or GridGeometry(grid, terrain)

    def _release(self, later: Sequence[tuple[int, ...]]) -> None:
        """Let the providers forget the maps and point losses no geometry in ``later`` needs:
        memory holds the geometries still to come, not all of them."""
        keep = self._requests(later)
        for prov in {id(p): p for p in [self.provider] + [v.provider for v in self.variants]
                     if p is not None}.values():  # fmt: skip
            if hasattr(prov, "retain"):
                prov.retain(keep)

    def _point_ensemble(
        self, sites: Sequence[Any], handset: RadioHandset, parts: Sequence[Any], provider: Any
    ) -> BudgetEnsemble | None:
        """The ensemble at the population samples (None without samples)."""
        if self.points is None:
            return None
        pin = LayerInputs.at_points(sites, handset, parts, self.points[0], self.points[1],
                                    provider, terrain=self.terrain,
                                    geometry=self.point_geo)  # fmt: skip
        return BudgetEnsemble(sites, handset, self.profiles, pin, np.ones(pin.length, dtype=bool),
                              block_elements=ENSEMBLE_BLOCK_ELEMENTS)  # fmt: skip

    @staticmethod
    def _network(vp: VariantPlan) -> tuple[Any, ...]:
        """What a variant's ensembles depend on besides the geometry: its sites and handset
        (variants with and without jammers share them)."""
        return (tuple(s.radio.id for s in vp.sectors), vp.handset.name)

    def _offsets(self, vp: VariantPlan, values: np.ndarray) -> Offsets:
        n, m = len(vp.sectors), len(self.parts)
        dl, ul, rx, jam = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(m)
        hs = 0.0
        for i in self.add_idx:
            p, v = self.params[i], float(values[i])
            if p.what == "site_tx_power_offset_db":
                dl += np.where(self._site_targets(p, vp.sectors), v, 0.0)
            elif p.what == "site_antenna_gain_offset_db":
                t = np.where(self._site_targets(p, vp.sectors), v, 0.0)
                dl, ul, rx = dl + t, ul + t, rx + t
            elif p.what == "jammer_eirp_offset_db":
                jam += np.where(self._jammer_targets(p, self.parts), v, 0.0)
            elif p.what == "jammer_duty_factor":
                t = self._jammer_targets(p, self.parts)
                for k, j in enumerate(self.parts):
                    if t[k]:
                        jam[k] += 10.0 * math.log10(v / j.duty_factor)
            elif p.what == "handset_body_loss_db":
                hs -= v - vp.handset.body_loss_db
        return Offsets(dl, ul, rx, hs, jam)

    def _bands(self, inputs: LayerInputs) -> list[tuple[int, int]]:
        """Bands of whole ensemble tiles, of about :data:`ENSEMBLE_BAND_NODES` grid nodes."""
        nr, nc = (int(v) for v in self.grid.shape)
        tile = BudgetEnsemble.tile_rows(inputs, ENSEMBLE_BLOCK_ELEMENTS)
        rows = max(1, ENSEMBLE_BAND_NODES // (tile * max(1, nc))) * tile
        return [(r0, min(r0 + rows, nr)) for r0 in range(0, nr, rows)]

    def _tally_all(
        self, net: VariantPlan, combo: tuple[int, ...], evals: Sequence[tuple[VariantPlan, Any]]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """(people, area) of each (variant, parameter vector) of ``net``'s network at one
        geometry.

        The grid's ensemble is built one band of rows at a time, and every vector is evaluated
        on a band before the next is built: memory holds one band's ensemble, whatever the
        grid (the ensembles hold some 100-200 bytes a node). Areas add up band by band in the
        grid's order (:meth:`Tally.add_levels`): the same sums as one ensemble on the grid.
        """
        sites, jams = self._geometry(net, combo)
        parts = split_jammer_ranges(jams)
        provider = net.provider or self.provider
        offs = [self._offsets(vp, v) for vp, v in evals]
        areas = [np.zeros((len(self.tally.countries), 3)) for _ in evals]
        settle = (None if self.tally.at_samples
                  else [np.zeros(self.tally.n_settlements, np.uint8) for _ in evals])  # fmt: skip
        inputs = LayerInputs(sites, net.handset, parts, self.grid, provider, terrain=self.terrain,
                             geometry=self.grid_geo)  # fmt: skip
        for r0, r1 in self._bands(inputs):
            band = np.zeros(self.grid.shape, dtype=bool)
            band[r0:r1] = self.mask[r0:r1]
            if not band.any():
                continue
            # smaller blocks than a single budget's: the ensemble is built beside everything
            # the run holds, and its transient arrays scale with the block
            ens = BudgetEnsemble(sites, net.handset, self.profiles, inputs, band,
                                 block_elements=ENSEMBLE_BLOCK_ELEMENTS)  # fmt: skip
            for e, ((vp, _v), off) in enumerate(zip(evals, offs, strict=True)):
                lv = ens.levels(off, jammers=vp.jammers)
                self.tally.add_levels(areas[e], ens.node_index, lv,
                                      None if settle is None else settle[e])  # fmt: skip
            del ens
        ens_pts = self._point_ensemble(sites, net.handset, parts, provider)
        out = []
        for e, ((vp, _v), off) in enumerate(zip(evals, offs, strict=True)):
            if ens_pts is not None:
                pe = self.tally.people_at_samples(ens_pts.levels(off, jammers=vp.jammers))
            else:
                assert settle is not None
                pe = self.tally.people_at_settlements(settle[e])
            out.append((pe, areas[e]))
        return out

    # -- the whole run -----------------------------------------------------------------------

    def run(
        self,
        headline: Callable[[str, np.ndarray, np.ndarray], float],
        progress: Callable[[int, int], None] | None = None,
        area_headline: Callable[[str, np.ndarray, np.ndarray], float] | None = None,
    ) -> dict[str, Any]:
        """Samples, bands and sensitivity; ``headline(variant, people, area)`` and
        ``area_headline`` are the figures the tornado ranks (for the first variant): people
        first, area to break ties."""
        if area_headline is None:

            def area_headline(_v: str, _p: np.ndarray, a: np.ndarray) -> float:
                return float(a[:, 0].sum())

        t0, c0 = time.perf_counter(), time.process_time()
        draws = self.draws()
        ng, nc = len(self.tally.groups), len(self.tally.countries)
        people = {vp.name: np.zeros((self.samples, ng, 3)) for vp in self.variants}
        area = {vp.name: np.zeros((self.samples, nc, 3)) for vp in self.variants}
        vp0 = self.variants[0]
        # every vector the tornado needs (first variant: the headline's people and area)
        vectors = self.tornado_vectors()
        combo_of = self.combo_of
        # one geometry at a time, the samples and the tornado vectors of each together: each
        # geometry's ensembles are built once, and its maps and point losses are let go when
        # no later geometry needs them
        by_combo: dict[tuple[int, ...], tuple[list[int], list[int]]] = {}
        for k in range(self.samples):
            by_combo.setdefault(combo_of(draws[k]), ([], []))[0].append(k)
        for q, v in enumerate(vectors):
            by_combo.setdefault(combo_of(v), ([], []))[1].append(q)
        order = sorted(by_combo)
        # the sample losses of every geometry first: an antenna position's height levels then
        # share each sample's profile (the engine groups them); each is let go once no later
        # geometry needs it. Grid maps are not: on fine grids holding every level's maps at
        # once would cost more memory than their shared profiles save time. (A run whose level
        # maps are small computes both with its nominal ones: runner.LEVELS_TOGETHER_BYTES.)
        if self.points is not None and hasattr(self.provider, "prefetch_points"):
            self.provider.prefetch_points(self._requests(order), self.points[0], self.points[1])
        found: dict[int, tuple[float, float]] = {}
        done = 0
        # variants sharing a network (sites and handset) next to each other, the first
        # variant's first: its tornado vectors use the same ensembles
        nets: dict[tuple[Any, ...], list[VariantPlan]] = {}
        for vp in self.variants:
            nets.setdefault(self._network(vp), []).append(vp)
        total = self.samples * len(self.variants) + len(vectors)
        for ci, combo in enumerate(order):
            ks, qs = by_combo[combo]
            for group in nets.values():
                evals = [(vp0, vectors[q]) for q in qs if vp0 in group]
                evals += [(vp, draws[k]) for vp in group for k in ks]
                if not evals:
                    continue
                results = iter(self._tally_all(group[0], combo, evals))
                if vp0 in group:
                    for q in qs:
                        pe, ar = next(results)
                        found[q] = (float(headline(vp0.name, pe, ar)),
                                    float(area_headline(vp0.name, pe, ar)))  # fmt: skip
                for vp in group:
                    for k in ks:
                        people[vp.name][k], area[vp.name][k] = next(results)
                done += len(evals)
                if progress is not None:
                    progress(done, total)
                release_free_memory()
            self._release(order[ci + 1 :])
            release_free_memory()
        base = found[0]
        bars: list[dict[str, Any]] = []
        for i, p in enumerate(self.params):
            f_lo, f_hi = found[1 + 2 * i], found[2 + 2 * i]
            pl = _p_levels(p.distribution)
            bars.append({"name": p.name, "what": p.what, "p10_value": pl[0], "p90_value": pl[2],
                         "at_p10": f_lo[0], "at_p90": f_hi[0], "swing": abs(f_hi[0] - f_lo[0]),
                         "area_at_p10": f_lo[1], "area_at_p90": f_hi[1],
                         "area_swing": abs(f_hi[1] - f_lo[1])})  # fmt: skip
        if progress is not None:
            progress(total, total)
        bars.sort(key=lambda b: (-b["swing"], -b["area_swing"]))
        return {
            "draws": draws,
            "people": people,
            "area": area,
            "sensitivity": {
                "variant": vp0.name,
                "baseline": base[0],
                "area_baseline": base[1],
                "bars": bars,
            },
            "seconds": time.perf_counter() - t0,
            "cpu_seconds": time.process_time() - c0,
            "geometries": len({combo_of(d) for d in draws}),
        }

    # -- summaries ---------------------------------------------------------------------------

    def summarize(self, res: dict[str, Any]) -> dict[str, Any]:
        """The ``uncertainty`` section of ``summary.json``."""

        def band(x: np.ndarray) -> dict[str, float]:
            p10, p50, p90 = np.percentile(x, [10, 50, 90])
            return {
                "p10": float(p10),
                "p50": float(p50),
                "p90": float(p90),
                "mean": float(np.mean(x)),
            }

        lv = list(LEVELS.values())
        variants: dict[str, Any] = {}
        for vp in self.variants:
            pe, ar = res["people"][vp.name], res["area"][vp.name]
            by_prov: dict[str, dict[str, Any]] = {}
            by_cc: dict[str, dict[str, Any]] = {}
            for gi, (cc, prov) in enumerate(self.tally.groups):
                by_prov.setdefault(cc, {})[prov] = {lv[k]: band(pe[:, gi, k]) for k in range(3)}
            for cc in sorted({g[0] for g in self.tally.groups}):
                sel = [gi for gi, g in enumerate(self.tally.groups) if g[0] == cc]
                by_cc[cc] = {lv[k]: band(pe[:, sel, k].sum(axis=1)) for k in range(3)}
            variants[vp.name] = {
                "population_within_reach": by_cc,
                "population_within_reach_by_province": by_prov,
                "area_km2": {cc: {lv[k]: band(ar[:, ci, k]) for k in range(3)}
                             for ci, cc in enumerate(self.tally.countries) if cc != UNKNOWN},
            }  # fmt: skip
        params = []
        for p in self.params:
            d = p.distribution.model_dump(exclude_none=True)
            e: dict[str, Any] = {
                "name": p.name,
                "what": p.what,
                "distribution": d,
                "ids": list(p.ids) or "all",
                "source": p.source,
            }
            if p.what in GEOMETRIC:
                e["levels"] = list(_p_levels(p.distribution))
                e["level_weights"] = list(SWANSON_WEIGHTS)
            if p.technologies:
                e["technologies"] = list(p.technologies)
            if p.band_mhz:
                e["band_mhz"] = list(p.band_mhz)
            params.append(e)
        return {
            "samples": self.samples,
            "seed": self.seed,
            "method": (
                "Monte Carlo: one draw per parameter and sample (applied to all its "
                "targets); additive parameters shift the link budgets, heights and tilts "
                "take their P10/P50/P90 with weights 0.3/0.4/0.3 (Swanson's rule); "
                "P10/P50/P90 over the samples of the 50 % answer (service where the "
                "median signal closes)."
            ),
            "parameters": params,
            "variants": variants,
            "sensitivity": res["sensitivity"],
            "geometries": res["geometries"],
        }
