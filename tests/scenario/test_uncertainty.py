"""Monte Carlo over a scenario's assumptions: determinism, ordered bands, degenerate collapse."""

import numpy as np
import pytest

from yalu.scenario import parse_scenario
from yalu.scenario.models import Distribution
from yalu.scenario.runner import run_scenario
from yalu.scenario.uncertainty import quantile

SC = """\
name: unc
analysis_area:
  bbox: {south_deg: 41.0, west_deg: 127.7, north_deg: 41.8, east_deg: 128.7}
grid: {resolution_arcsec: 120}
propagation: {model: free_space, max_distance_km: 60}
population: {census: null}
output: {png: false, report_html: false, report_md: true, geotiff: false}
handsets:
  - {name: multi, technologies: [gsm, lte]}
variants:
  - {name: jam, jammers: true}
  - {name: free, jammers: false}
sites:
  - id: changbai
    lat_deg: 41.41772
    lon_deg: 128.19624
    height_m: 40
    carriers:
      - {technology: gsm, band: GSM900, tx_power_dbm: 10, antenna_gain_dbi: 16, \
azimuths_deg: [0, 120, 240]}
      - {technology: lte, band: B3, bandwidth_mhz: 20, tx_power_dbm: 14, antenna_gain_dbi: 17}
  - id: shierdaogou
    lat_deg: 41.46444
    lon_deg: 127.54444
    height_m: 30
    carriers:
      - {technology: gsm, band: GSM900, tx_power_dbm: 10}
jammers:
  - {id: hyesan, lat_deg: 41.40167, lon_deg: 128.17778, height_m: 20, eirp_dbm: 40, \
bands_mhz: [[925, 960], [1805, 1880]]}
uncertainty:
  samples: SAMPLES
  seed: SEED
  parameters:
    - {name: tower height, what: site_height_offset_m, \
distribution: {kind: uniform, low: LO_H, high: HI_H}}
    - {name: tx power, what: site_tx_power_offset_db, \
distribution: {kind: triangular, low: LO, mode: 0, high: HI}}
    - {name: jammer GSM band, what: jammer_eirp_offset_db, band_mhz: [925, 960], \
distribution: {kind: normal, mean: 0, sd: SD, low: LO, high: HI}}
    - {name: body loss, what: handset_body_loss_db, \
distribution: {kind: uniform, low: BL_LO, high: BL_HI}}
"""


def scenario(samples=24, seed=3, width=6.0, hwidth=10.0):
    text = (
        SC.replace("SAMPLES", str(samples))
        .replace("SEED", str(seed))
        .replace("LO_H", str(-hwidth))
        .replace("HI_H", str(hwidth))
        .replace("BL_LO", str(3 - width / 2))
        .replace("BL_HI", str(3 + width / 2))
        .replace("LO", str(-width))
        .replace("HI", str(width))
        .replace("SD", str(width / 2))
    )
    return parse_scenario(text)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from yalu.terrain.core import Terrain

    d = tmp_path_factory.mktemp("unc")
    a = run_scenario(scenario(), d / "a")
    b = run_scenario(scenario(), d / "b")
    # the third run records the bytes of the terrain's block cache at each clear
    real = Terrain.clear_cache

    def spy(self):  # type: ignore[no-untyped-def]
        _CACHE_AT_CLEAR.append(self.cache_info()["bytes"])
        real(self)

    Terrain.clear_cache = spy  # type: ignore[method-assign]
    try:
        c = run_scenario(scenario(seed=4), d / "c")
    finally:
        Terrain.clear_cache = real  # type: ignore[method-assign]
    return a, b, c


#: Bytes in the terrain's block cache at each clear during ``runs``' third run.
_CACHE_AT_CLEAR: list[int] = []


def test_deterministic_for_a_seed(runs):
    a, b, c = runs
    ua, ub, uc = (r.summary["uncertainty"] for r in runs)
    for u in (ua, ub, uc):
        u.pop("cost")
    assert ua == ub
    assert ua["variants"] != uc["variants"] or ua["sensitivity"] != uc["sensitivity"]


def test_bands_are_ordered_and_not_degenerate(runs):
    u = runs[0].summary["uncertainty"]
    spread = 0.0
    for vu in u["variants"].values():
        for per in vu["population_within_reach"].values():
            for b in per.values():
                assert b["p10"] <= b["p50"] <= b["p90"]
                spread = max(spread, b["p90"] - b["p10"])
        for per in vu["area_km2"].values():
            for b in per.values():
                assert b["p10"] <= b["p50"] <= b["p90"]
    assert spread > 0  # the assumptions move the answer
    bars = u["sensitivity"]["bars"]
    keys = [(b["swing"], b["area_swing"]) for b in bars]
    assert keys == sorted(keys, reverse=True)
    assert max(b["area_swing"] for b in bars) > 0
    text = (runs[0].outdir / "report.md").read_text()
    assert "Uncertainty of the assumptions" in text and "P10" in text
    assert "P10 / P50 / P90" in runs[0].headline()


def test_probability_of_service_and_limits_in_the_summary(runs):
    s = runs[0].summary
    assert "sigma_db" in s["probability"] and s["probability"]["sigma_db"] == 8.0  # free space
    for v in s["variants"].values():
        exp = v["expected_population_within_reach"]
        n50 = v["population_within_reach"]
        tot = sum(p["sms"] for per in exp.values() for p in per.values())
        listed = sum(p for per in v["population_in_area"].values() for p in per.values())
        assert 0 < tot <= listed
        for per in exp.values():
            for lv in per.values():
                assert lv["sms"] >= lv["voice"] - 1e-6 >= lv["data"] - 2e-6
        assert sum(sum(x.values()) for x in v["service_limits"].values()) > 0
        assert n50  # the 50 % answer stays beside it
    assert "expected people" in runs[0].headline()
    assert "Probability of service" in (runs[0].outdir / "report.md").read_text()


def test_band_collapses_when_distributions_are_degenerate(tmp_path):
    r = run_scenario(scenario(samples=8, width=1e-9, hwidth=1e-9), tmp_path / "d")
    u = r.summary["uncertainty"]
    for name, vu in u["variants"].items():
        nominal = r.summary["variants"][name]["population_within_reach"]
        for cc, per in vu["population_within_reach"].items():
            for lv, b in per.items():
                want = sum(p[lv] for p in nominal.get(cc, {}).values())
                assert b["p10"] == b["p50"] == b["p90"] == pytest.approx(want)
        area = r.summary["variants"][name]["area_km2"]
        for cc, per in vu["area_km2"].items():
            for lv, b in per.items():
                assert b["p10"] == b["p90"] == pytest.approx(area[cc][lv], rel=1e-5)
    assert all(b["swing"] == 0 and b["area_swing"] == 0 for b in u["sensitivity"]["bars"])


def test_quantiles_against_scipy():
    from scipy import stats

    u = np.array([0.05, 0.1, 0.5, 0.9, 0.95])
    tri = Distribution(kind="triangular", low=-2, mode=1, high=5)
    np.testing.assert_allclose(
        [quantile(tri, x) for x in u], stats.triang(c=3 / 7, loc=-2, scale=7).ppf(u), atol=1e-12
    )
    tn = Distribution(kind="normal", mean=1, sd=2, low=-1, high=6)
    np.testing.assert_allclose(
        [quantile(tn, x) for x in u], stats.truncnorm(-1, 2.5, loc=1, scale=2).ppf(u), atol=1e-9
    )
    un = Distribution(kind="uniform", low=3, high=7)
    np.testing.assert_allclose([quantile(un, x) for x in u], 3 + 4 * u)


def test_bad_uncertainty_input():
    from yalu.errors import ScenarioError

    bad = scenario().model_dump(mode="json")
    with pytest.raises(ScenarioError, match="low and high"):
        parse_scenario(
            SC.replace("{kind: uniform, low: BL_LO, high: BL_HI}", "{kind: uniform}")
            .replace("SAMPLES", "4")
            .replace("SEED", "1")
            .replace("LO_H", "-1")
            .replace("HI_H", "1")
            .replace("LO", "-1")
            .replace("HI", "1")
            .replace("SD", "1")
        )
    assert bad["uncertainty"]["samples"] == 24


def test_tally_skips_duplicates_and_sections():
    """A section (part of a larger place's footprint) or a duplicate holds no people of its own:
    the tally counts each person once, as the reach does."""
    from yalu.geodesy import Grid
    from yalu.scenario.uncertainty import Tally

    grid = Grid(41.0, 125.0, 0.01, 0.01, 3, 3)
    base = {"country": "KP", "province": "P", "lat_deg": 40.99, "lon_deg": 125.01,
            "duplicate_of": None, "section_of": None}  # fmt: skip
    recs = [{**base, "population": 1000}, {**base, "population": 300, "section_of": 1},
            {**base, "population": 70, "duplicate_of": 2}]  # fmt: skip
    t = Tally(grid, recs, np.full(grid.shape, "KP"), np.ones(grid.shape, bool))
    level = np.full(grid.shape, 3, np.int8)
    np.testing.assert_array_equal(t.people(level), [[1000.0, 1000.0, 1000.0]])
    np.testing.assert_allclose(t.expected_people(np.full(grid.shape, 0.5)), [500.0])


def test_tally_area_equals_the_bincount_of_every_level():
    # the compiled area tally against numpy's weighted bincount, bit for bit: two countries,
    # nodes outside the area and of no country, levels 0-3 (uint8 as the ensembles give them)
    from yalu.analysis.area import UNKNOWN
    from yalu.analysis.geo import cell_area_km2
    from yalu.geodesy import Grid
    from yalu.scenario.uncertainty import Tally

    grid = Grid(north_deg=41.0, west_deg=124.0, dlat_deg=0.01, dlon_deg=0.013, n_rows=60,
                n_cols=70)  # fmt: skip
    rng = np.random.default_rng(3)
    country = np.where(rng.random(grid.shape) < 0.5, "KP", "CN").astype(object)
    country[:5] = UNKNOWN
    in_area = rng.random(grid.shape) < 0.8
    t = Tally(grid, [], country, in_area)
    assert t.countries == ["CN", "KP", UNKNOWN]
    for dtype in (np.uint8, np.int8, np.int64):
        level = rng.integers(0, 4, grid.shape).astype(dtype)
        got = t.area(level)
        sel = in_area.ravel()
        km2 = np.broadcast_to(cell_area_km2(grid.lats(), grid.dlat_deg, grid.dlon_deg)[:, None],
                              grid.shape).ravel()[sel]  # fmt: skip
        cid = np.searchsorted(t.countries, country.ravel()[sel].astype(str))
        lev = level.ravel()[sel]
        want = np.stack([np.bincount(cid, weights=km2 * (lev >= k), minlength=3)
                         for k in (1, 2, 3)], axis=1)  # fmt: skip
        assert np.array_equal(got, want)
        assert got[0, 0] > got[0, 2] > 0


def test_without_location_variability_expected_people_are_the_headline(tmp_path):
    """sigma 0: P(level) is 0 or 1 at every sample, so the expected people equal the people
    within reach (both counted at the population samples, not at grid nodes)."""
    sc = scenario(samples=2)
    sc.propagation.location_sigma_db = 0.0
    r = run_scenario(sc, tmp_path / "s0")
    for v in r.summary["variants"].values():
        exp, n50 = v["expected_population_within_reach"], v["population_within_reach"]
        assert n50
        for cc, per in n50.items():
            for prov, lv in per.items():
                for k, x in lv.items():
                    assert exp[cc][prov][k] == pytest.approx(x, abs=0.5)


def test_each_network_and_geometry_builds_its_ensembles_once_one_network_at_a_time(
    tmp_path, monkeypatch
):
    """The Monte Carlo walks geometries, then networks (sites and handset): each network's
    ensembles are built once per geometry, and only one network's are alive at a time."""
    import weakref

    import yalu.scenario.uncertainty as unc

    built: list[tuple] = []
    alive: weakref.WeakSet = weakref.WeakSet()
    most = [0]

    class Counting(unc.BudgetEnsemble):
        def __init__(self, sites, *a, **k):
            super().__init__(sites, *a, **k)
            built.append((tuple(s.id for s in sites), tuple(s.height_m for s in sites),
                          self.n_nodes))  # fmt: skip
            alive.add(self)
            most[0] = max(most[0], len(alive))

    monkeypatch.setattr(unc, "BudgetEnsemble", Counting)
    text = scenario().model_dump(mode="json", exclude_none=True)
    text["variants"].append({"name": "gsm_only", "technologies": ["gsm"]})
    from yalu.scenario.models import Scenario

    res = run_scenario(Scenario.model_validate(text), tmp_path / "out")
    u = res.summary["uncertainty"]
    geometries = u["geometries"] if "geometries" in u else None
    # every (network, heights, node set) once; two networks (all carriers, GSM only)
    assert len(built) == len(set(built))
    networks = {b[0] for b in built}
    assert len(networks) == 2
    heights = {b[1] for b in built if b[0] == max(networks, key=len)}
    assert len(heights) == 3 and (geometries is None or geometries <= 3)
    # at most the grid and the sample ensembles of one network alive at once
    assert len({b[2] for b in built}) == 2  # grid nodes and population samples
    assert most[0] <= 2


def test_height_levels_with_the_nominal_maps_give_the_same_outputs(tmp_path, monkeypatch):
    """ITM (exact) on the embedded terrain: the Monte Carlo's tower-height levels computed
    with the nominal maps and sample losses (one engine call per antenna position for all its
    heights) or by the Monte Carlo one geometry at a time give the same summary and rasters,
    bit for bit; only the first shares profiles between heights."""
    import json

    import rasterio

    import yalu.coverage.provider as prov
    import yalu.scenario.runner as runner

    heights_per_call: dict[str, list[int]] = {}
    for name in ("tile_job_multi", "path_loss_at_points_multi"):
        real = getattr(prov, name)

        def counting(*a, _real=real, _name=name, **k):
            jobs = k.get("jobs", a[1] if len(a) > 1 else None)
            heights_per_call.setdefault(_name, []).append(len({j[2] for j in jobs}))
            return _real(*a, **k)

        monkeypatch.setattr(prov, name, counting)
    text = scenario(samples=12).model_dump(mode="json", exclude_none=True)
    text["propagation"] = {"model": "itm", "max_distance_km": 40}
    text["terrain"] = {"source": "embedded"}
    text["output"]["geotiff"] = True
    from yalu.scenario.models import Scenario

    sc = Scenario.model_validate(text)
    out = {}
    # "on disk": levels too large to hold (budget 0) go with the run when the maps go to disk
    for label, budget, spill_mb in (("together", runner.LEVELS_TOGETHER_BYTES, None),
                                    ("apart", 0, None), ("on disk", 0, "0")):  # fmt: skip
        monkeypatch.setattr(runner, "LEVELS_TOGETHER_BYTES", budget)
        if spill_mb is None:
            monkeypatch.delenv("YALU_SPILL_MB", raising=False)
        else:
            monkeypatch.setenv("YALU_SPILL_MB", spill_mb)
        heights_per_call.clear()
        res = run_scenario(sc, tmp_path / label)
        out[label] = (res, {k: max(v) for k, v in heights_per_call.items()})
    (a, most_a), (b, most_b), (c, most_c) = out["together"], out["apart"], out["on disk"]
    assert a.summary["uncertainty"]["cost"]["levels_with_run"] is True
    assert b.summary["uncertainty"]["cost"]["levels_with_run"] is False
    assert c.summary["uncertainty"]["cost"]["levels_with_run"] is True
    assert c.execution["maps_on_disk"] is True and a.execution["maps_on_disk"] is False
    # nominal, P10 and P90 heights in one call for maps and for samples, or not
    assert most_a == {"tile_job_multi": 3, "path_loss_at_points_multi": 3}
    assert most_c == most_a
    assert most_b["tile_job_multi"] == 1 and most_b["path_loss_at_points_multi"] == 2

    def strip(d):
        skip = ("timings_s", "cost")
        if isinstance(d, dict):
            return {k: strip(v) for k, v in d.items() if k not in skip}
        return [strip(x) for x in d] if isinstance(d, list) else d

    sa = json.loads((a.outdir / "summary.json").read_text())
    sb = json.loads((b.outdir / "summary.json").read_text())
    sc_ = json.loads((c.outdir / "summary.json").read_text())
    assert strip(sa) == strip(sb) == strip(sc_)
    assert sa["uncertainty"]["samples"] == 12 and sa["uncertainty"]["geometries"] == 3
    tifs = sorted(p.relative_to(a.outdir) for p in a.outdir.rglob("*.tif"))
    assert len(tifs) >= 6
    for rel in tifs:
        with rasterio.open(a.outdir / rel) as x, rasterio.open(b.outdir / rel) as y:
            ref = x.read().tobytes()
            assert ref == y.read().tobytes(), rel
        with rasterio.open(c.outdir / rel) as z:
            assert z.read().tobytes() == ref, rel


def test_monte_carlo_in_bands_of_rows_gives_the_same_summary(tmp_path, monkeypatch):
    """The grid's ensembles built a band of rows at a time (memory for one band, whatever the
    grid) give the summary of one ensemble on the whole grid, bit for bit."""
    import weakref

    import yalu.scenario.uncertainty as unc

    sizes: list[int] = []
    alive: weakref.WeakSet = weakref.WeakSet()
    most = [0]

    class Counting(unc.BudgetEnsemble):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            sizes.append(self.n_nodes)
            alive.add(self)
            most[0] = max(most[0], len(alive))

    monkeypatch.setattr(unc, "BudgetEnsemble", Counting)
    one = run_scenario(scenario(samples=8), tmp_path / "one")
    whole = sorted(set(sizes))
    sizes.clear()
    # small tiles (a row or two of the 120" grid), a band of one tile's rows
    monkeypatch.setattr(unc, "ENSEMBLE_BLOCK_ELEMENTS", 200)
    monkeypatch.setattr(unc, "ENSEMBLE_BAND_NODES", 1)
    banded = run_scenario(scenario(samples=8), tmp_path / "banded")
    ua, ub = dict(one.summary["uncertainty"]), dict(banded.summary["uncertainty"])
    ua.pop("cost"), ub.pop("cost")  # times
    assert ub == ua and ua["variants"] and ua["sensitivity"]["bars"]
    # the grid's ensembles were bands: smaller than the whole grid's, many more of them
    grid_nodes = max(whole)
    band_sizes = [s for s in sizes if s not in whole]
    assert band_sizes and max(band_sizes) < grid_nodes / 3
    assert most[0] <= 2


def test_tally_adds_bands_of_levels_as_the_whole_grid():
    from yalu.geodesy import Grid
    from yalu.scenario.uncertainty import Tally

    grid = Grid(north_deg=41.0, west_deg=124.0, dlat_deg=0.01, dlon_deg=0.013, n_rows=40,
                n_cols=30)  # fmt: skip
    rng = np.random.default_rng(9)
    country = np.where(rng.random(grid.shape) < 0.5, "KP", "CN")
    in_area = rng.random(grid.shape) < 0.7
    lats = rng.uniform(40.62, 40.99, 25)
    lons = rng.uniform(124.01, 124.37, 25)
    pops = rng.integers(100, 5000, 25)
    recs = [{"country": "KP", "province": f"P{i % 3}", "lat_deg": float(lats[i]),
             "lon_deg": float(lons[i]), "population": int(pops[i]), "duplicate_of": None,
             "section_of": None, "geonameid": i} for i in range(25)]  # fmt: skip
    t = Tally(grid, recs, country, in_area)
    mask = t.node_mask()
    level = np.where(mask, rng.integers(0, 4, grid.shape), 0).astype(np.uint8)
    area = np.zeros((len(t.countries), 3))
    settle = np.zeros(t.n_settlements, np.uint8)
    for r0 in range(0, 40, 7):  # bands of 7 rows, in order
        band = np.zeros(grid.shape, bool)
        band[r0 : r0 + 7] = mask[r0 : r0 + 7]
        idx = np.flatnonzero(band.ravel())
        t.add_levels(area, idx, level.ravel()[idx], settle)
    assert np.array_equal(area, t.area(level)) and area[:, 0].sum() > 0
    assert np.array_equal(t.people_at_settlements(settle), t.people(level))
    assert t.people(level)[:, 0].sum() > 0
    with pytest.raises(Exception, match="levels"):
        t.add_levels(area, idx, level.ravel()[idx][:-1])


@pytest.mark.parametrize("band_nodes", [1, 100, 1 << 20])
def test_tally_expected_area_reads_a_layer_on_disk_by_bands(tmp_path, monkeypatch, band_nodes):
    """The expected area of a probability layer on disk, read a band of rows at a time, is
    numpy's weighted bincount of the whole layer bit for bit; the whole file is never read."""
    import yalu.scenario.uncertainty as unc
    from yalu.analysis.geo import cell_area_km2
    from yalu.geodesy import Grid
    from yalu.io.spill import DiskArray

    monkeypatch.setattr(unc, "_AREA_BAND_NODES", band_nodes)
    grid = Grid(north_deg=41.0, west_deg=124.0, dlat_deg=0.01, dlon_deg=0.013, n_rows=45,
                n_cols=31)  # fmt: skip
    rng = np.random.default_rng(21)
    country = np.where(rng.random(grid.shape) < 0.5, "KP", "CN")
    in_area = rng.random(grid.shape) < 0.8
    p = rng.random(grid.shape).astype(np.float32)
    p[rng.random(grid.shape) < 0.1] = np.nan
    np.save(tmp_path / "p.npy", p)
    disk = DiskArray(tmp_path / "p.npy", p.shape, p.dtype)
    t = unc.Tally(grid, [], country, in_area)
    sel = in_area.ravel()
    km2 = np.broadcast_to(cell_area_km2(grid.lats(), grid.dlat_deg, grid.dlon_deg)[:, None],
                          grid.shape).ravel()[sel]  # fmt: skip
    cid = np.searchsorted(t.countries, country.ravel()[sel])
    want = np.bincount(cid, weights=km2 * np.nan_to_num(p.ravel()[sel].astype(float)),
                       minlength=len(t.countries))  # fmt: skip
    monkeypatch.setattr(DiskArray, "read", lambda self: pytest.fail("read whole"))
    assert np.array_equal(t.expected_area(disk), want) and want.min() > 0
    assert np.array_equal(t.expected_area(p.ravel()), want)
    with pytest.raises(ValueError, match="p_grid"):
        t.expected_area(p[:-1])


def test_the_monte_carlo_reads_no_terrain_after_the_block_cache_goes(runs):
    """The run drops the terrain's block cache after the convergence check; the Monte Carlo
    after it takes the ground under its antennas from the run's grid geometry (kept, a float
    a position), so nothing loads again before the outputs drop the cache a second time."""
    assert runs[2].summary["uncertainty"]["samples"] == 24
    held = _CACHE_AT_CLEAR
    assert len(held) == 2 and held[0] > 0 and held[1] == 0, held
