"""A run whose layers wait on disk (``YALU_SPILL_MB``) writes the same outputs, bit for bit."""

import re

import numpy as np
import pytest

from yalu.errors import OutputError, ParameterError
from yalu.io.spill import DiskArray
from yalu.scenario import adapt, parse_scenario
from yalu.scenario.runner import run_scenario

# GSM and LTE servers (the signal map split by technology), a jammer, two variants, every output
SCENARIO = """\
name: spill
terrain: {source: embedded}
analysis_area:
  bbox: {south_deg: 40.6, west_deg: 124.6, north_deg: 41.2, east_deg: 125.4}
grid: {resolution_arcsec: 120}
propagation: {max_distance_km: 35, engine_mode: exact}
population: {census: null}
output: {map_width_px: 400}
sites:
  - {id: a, lat_deg: 40.9, lon_deg: 124.9, height_m: 30,
     carriers: [{technology: lte, band: B3}, {technology: gsm, band: GSM900}]}
  - {id: b, lat_deg: 41.05, lon_deg: 125.2, height_m: 40, carriers: [{technology: lte, band: B3}]}
jammers:
  - {id: j, lat_deg: 40.95, lon_deg: 125.0, height_m: 20, eirp_dbm: 50, bands_mhz: [[1805, 1880]]}
variants:
  - {name: jammed}
  - {name: free, jammers: false}
"""

_SECONDS = re.compile(rb"\d+\.\d+ s\b")


def _files(outdir):
    out = {}
    for p in sorted(outdir.rglob("*")):
        if p.is_file():
            data = p.read_bytes()
            if p.name in ("summary.json", "report.md", "report.html"):
                data = _SECONDS.sub(b"# s", data)  # run times differ, nothing else may
                data = re.sub(rb'"timings_s": \{[^}]*\}', b"", data)
            out[str(p.relative_to(outdir))] = data
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("spill")
    try:
        mp.setenv("YALU_SPILL_MB", "100000")
        kept = run_scenario(parse_scenario(SCENARIO), root / "kept")
        mp.setenv("YALU_SPILL_MB", "0")
        spilled = run_scenario(parse_scenario(SCENARIO), root / "spilled")
    finally:
        mp.undo()
    return root, kept, spilled


def test_spilled_run_writes_the_same_files(runs):
    root, kept, spilled = runs
    a, b = _files(root / "kept"), _files(root / "spilled")
    assert a.keys() == b.keys()
    assert any(k.endswith(".tif") for k in a) and any(k.endswith(".png") for k in a)
    assert {"map.kmz", "map.gpkg", "report.html"} <= a.keys()
    for k in a:
        assert a[k] == b[k], k
    # the mixed GSM/LTE signal split went through the spill store too
    assert any("rxlev_dbm_gsm" in k for k in a)
    # and so did the path-loss maps: what the budgets read came from disk
    assert spilled.execution["maps_on_disk"] and not kept.execution["maps_on_disk"]
    assert spilled.execution["scratch_bytes_written"] > 0 == kept.execution["scratch_bytes_written"]


def test_spilled_outcomes_read_the_written_rasters(runs):
    root, kept, spilled = runs
    for ok, os_ in zip(kept.variants, spilled.variants, strict=True):
        assert ok.layers.keys() == os_.layers.keys() and len(ok.layers) >= 8
        for name, arr in ok.layers.items():
            d = os_.layers[name]
            assert isinstance(d, DiskArray) and d.path.is_relative_to(root / "spilled")
            got = np.asarray(d)
            assert got.dtype == arr.dtype and got.shape == arr.shape
            np.testing.assert_array_equal(got, arr, err_msg=name)
        # the int8 service level waited on disk too, and now reads the written raster
        lv = os_.service_level
        assert isinstance(lv, DiskArray) and lv.path.is_relative_to(root / "spilled")
        assert isinstance(ok.service_level, np.ndarray) and ok.service_level.dtype == np.int8
        got = np.asarray(lv)
        assert got.dtype == np.int8 and got.min() >= 0 and got.max() <= 3
        np.testing.assert_array_equal(got, ok.service_level)
    # nothing is left beside the output: the scratch directory went with the run
    assert sorted(p.name for p in root.iterdir()) == ["kept", "spilled"]


def test_spill_threshold_and_its_bad_values(monkeypatch):
    sc = parse_scenario(SCENARIO)
    g = adapt.make_grid(sc, adapt.analysis_area(sc), adapt.open_scenario_terrain(sc))
    nodes = g.shape[0] * g.shape[1]
    need_mb = adapt.LAYER_BYTES_PER_NODE * nodes * 2 / 2**20
    monkeypatch.setenv("YALU_SPILL_MB", f"{need_mb * 1.01}")
    assert not adapt.layers_spill(g, 2)
    monkeypatch.setenv("YALU_SPILL_MB", f"{need_mb * 0.99}")
    assert adapt.layers_spill(g, 2)
    for bad in ("lots", "-1", "nan"):
        monkeypatch.setenv("YALU_SPILL_MB", bad)
        with pytest.raises(ParameterError, match=f"YALU_SPILL_MB.*{bad}.*MiB >= 0"):
            adapt.layers_spill(g, 2)


def test_maps_spill_threshold_and_the_scratch_space_check(monkeypatch, tmp_path):
    monkeypatch.setenv("YALU_SPILL_MB", "1")
    assert not adapt.maps_spill(2**18) and adapt.maps_spill(2**18 + 1)  # 4 bytes a node
    monkeypatch.setenv("YALU_SPILL_MB", "-3")
    with pytest.raises(ParameterError, match="YALU_SPILL_MB"):
        adapt.maps_spill(10)
    adapt.check_scratch_space(tmp_path, 1000)
    with pytest.raises(OutputError, match=rf"{tmp_path}.*GiB of path-loss maps.*GiB is free"):
        adapt.check_scratch_space(tmp_path, 2**62)


def test_maps_on_disk_are_not_counted_in_memory(monkeypatch):
    sc = parse_scenario(SCENARIO)
    g = adapt.make_grid(sc, adapt.analysis_area(sc), adapt.open_scenario_terrain(sc))
    nodes = g.shape[0] * g.shape[1]
    map_nodes = 40 * nodes
    # with the maps: 4 x 40 + 60 bytes a node; without: 60 (24 + one variant's 34 + 2)
    monkeypatch.setenv("YALU_MAX_RUN_GB", f"{100 * nodes / 2**30}")
    with pytest.raises(ParameterError, match="path-loss maps"):
        adapt.check_run_memory(sc, g, 40, map_nodes, spill=True)
    adapt.check_run_memory(sc, g, 40, map_nodes, spill=True, maps_on_disk=True)


def test_the_terrain_cache_goes_before_the_outputs(monkeypatch, tmp_path):
    """The run drops the terrain's block cache after the convergence check (the probability
    and sanity phases read no terrain) and again before drawing the outputs (the files are
    those of test_spilled_run_writes_the_same_files, which runs with it)."""
    from yalu.terrain.core import Terrain

    calls = []
    real = Terrain.clear_cache

    def spy(self):
        calls.append(self.cache_info()["bytes"])
        real(self)
        assert self.cache_info()["bytes"] == 0

    monkeypatch.setattr(Terrain, "clear_cache", spy)
    run_scenario(parse_scenario(SCENARIO), tmp_path / "out")
    # after the convergence check (the probability and sanity phases read no terrain, and this
    # run has no Monte Carlo: nothing loads again before the outputs), and before the outputs
    assert len(calls) == 2 and calls[0] > 0 and calls[1] == 0, calls
