"""Scenario corrections (issue 11): indoor handsets (P.2109), a calibration file, P.2108 clutter.

Runs the synthetic flat-terrain scenario of tests/cli/test_run_cli.py with and without each
correction and checks the RSRP rasters differ by exactly the correction.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner

from yalu.cli.main import cli
from yalu.propagation.p2108 import terrestrial_clutter_loss_db
from yalu.propagation.p2109 import building_entry_loss_db, building_entry_loss_mix_db

sys.path.insert(0, str(Path(__file__).parents[1] / "cli"))
import test_run_cli as base  # noqa: E402

LTE_B3_DL_MHZ = 1842.5  # centre of band 3 downlink (1805-1880 MHz), the runner's default channel


def _scenario(d: Path, propagation_extra: str = "", indoor: bool = False) -> Path:
    sc = base._write_inputs(d)
    text = sc.read_text()
    text = text.replace(
        "handsets: [{name: phone, technologies: [lte]}]",
        "handsets:\n  - {name: phone, technologies: [lte]}\n"
        "  - {name: inside, technologies: [lte], indoor: true, thermally_efficient_share: 0.25,"
        " building_entry_probability_pct: 70}",
    )
    variants = "variants:\n  - name: free\n    jammers: false\n"
    if indoor:
        variants += "  - name: indoors\n    jammers: false\n    handset: inside\n"
    text = text[: text.index("variants:")] + variants
    text = text.replace(
        "propagation: {model: itm, max_distance_km: 30}",
        "propagation: {model: itm, max_distance_km: 30" + propagation_extra + "}",
    )
    sc.write_text(text)
    return sc


def _run(sc: Path, out: Path) -> dict:
    r = CliRunner().invoke(cli, ["run", str(sc), "-o", str(out)])
    assert r.exit_code == 0, r.output + str(r.exception)
    return json.loads((out / "summary.json").read_text())


def _rsrp(out: Path, variant: str) -> np.ndarray:
    with rasterio.open(out / "rasters" / variant / "rsrp_dbm.tif") as src:
        a = src.read(1).astype(float)
        if src.nodata is not None:
            a[a == src.nodata] = np.nan
        return a


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    d = tmp_path_factory.mktemp("plain")
    s = _run(_scenario(d, indoor=True), d / "out")
    return d / "out", s


def _distance_km(out: Path) -> np.ndarray:
    with rasterio.open(out / "rasters" / "free" / "rsrp_dbm.tif") as src:
        rows, cols = np.mgrid[0 : src.height, 0 : src.width]
        xs, ys = rasterio.transform.xy(src.transform, rows.ravel(), cols.ravel())
        shape = (src.height, src.width)
    lon, lat = np.asarray(xs).reshape(shape), np.asarray(ys).reshape(shape)
    from pyproj import Geod

    _, _, d = Geod(ellps="WGS84").inv(
        np.full(lon.size, base.LON0), np.full(lat.size, base.LAT0), lon.ravel(), lat.ravel()
    )
    return d.reshape(lon.shape) / 1000.0


def test_indoor_handset_loses_the_building_entry_loss(plain: tuple[Path, dict]) -> None:
    out, s = plain
    out_rsrp, in_rsrp = _rsrp(out, "free"), _rsrp(out, "indoors")
    both = np.isfinite(out_rsrp) & np.isfinite(in_rsrp)
    assert both.sum() > 100
    bel = building_entry_loss_mix_db(LTE_B3_DL_MHZ, 70.0, 0.25)
    assert building_entry_loss_db(LTE_B3_DL_MHZ, 70.0) < bel  # the mix loses more than brick
    np.testing.assert_allclose((out_rsrp - in_rsrp)[both], bel, atol=0.01)  # float32 rasters
    outdoor = s["variants"]["free"]["population_within_reach"]["AA"]["Aprov"]["sms"]
    indoor = s["variants"]["indoors"]["population_within_reach"]["AA"]["Aprov"]["sms"]
    assert indoor <= outdoor
    assert any("counts people with service indoors" in n for n in s["notes"])


def test_calibration_file_shifts_every_path(plain: tuple[Path, dict], tmp_path: Path) -> None:
    cal = {"format": "yalu-calibration/1", "model": "itm",
           "parameters": {"offset_db": 4.0, "slope_db_per_decade": 3.0,
                          "class_offset_db": {}}}  # fmt: skip
    (tmp_path / "CAL.json").write_text(json.dumps(cal))
    sc = _scenario(tmp_path, ", calibration: CAL.json")
    s = _run(sc, tmp_path / "out")
    ref, got = _rsrp(plain[0], "free"), _rsrp(tmp_path / "out", "free")
    d = _distance_km(tmp_path / "out")
    ok = np.isfinite(ref) & np.isfinite(got) & (d > 0.5)
    np.testing.assert_allclose((ref - got)[ok], 4.0 + 3.0 * np.log10(d[ok]), atol=0.05)
    assert s["inputs"]["calibration"]["offset_db"] == 4.0
    bad = dict(cal, model="hata")
    (tmp_path / "CAL.json").write_text(json.dumps(bad))
    r = CliRunner().invoke(cli, ["run", str(sc), "-o", str(tmp_path / "out2")])
    assert r.exit_code == 2 and "calibrates hata" in r.output


def test_p2108_clutter_option(plain: tuple[Path, dict], tmp_path: Path) -> None:
    sc = _scenario(tmp_path, ", clutter: p2108-statistical, clutter_location_pct: 50")
    _run(sc, tmp_path / "out")
    ref, got = _rsrp(plain[0], "free"), _rsrp(tmp_path / "out", "free")
    d = _distance_km(tmp_path / "out")
    ok = np.isfinite(ref) & np.isfinite(got) & (d > 0.5)
    want = np.asarray(terrestrial_clutter_loss_db(LTE_B3_DL_MHZ, d[ok], 50.0))
    np.testing.assert_allclose((ref - got)[ok], want, atol=0.05)


def test_calibration_class_offsets_with_scenario_land_cover(
    plain: tuple[Path, dict], tmp_path: Path
) -> None:
    from rasterio.transform import from_origin

    # land cover: built-up (50) north of the site's latitude, cropland (40) south of it
    lc = tmp_path / "lc.tif"
    cover = np.full((80, 80), 40, dtype=np.uint8)
    cover[:40, :] = 50
    with rasterio.open(
        lc, "w", driver="GTiff", width=80, height=80, count=1, dtype="uint8", crs="EPSG:4326",
        transform=from_origin(9.9, base.LAT0 + 0.4, 0.01, 0.01), nodata=0,
    ) as ds:  # fmt: skip
        ds.write(cover, 1)
    cal = {"format": "yalu-calibration/1", "model": "itm",
           "parameters": {"offset_db": 1.0, "slope_db_per_decade": 0.0,
                          "class_offset_db": {"50": 7.0, "40": -1.0}}}  # fmt: skip
    (tmp_path / "CAL.json").write_text(json.dumps(cal))
    sc = _scenario(tmp_path, ", calibration: CAL.json, landcover: lc.tif")
    s = _run(sc, tmp_path / "out")
    assert s["inputs"]["landcover"] and not any("not applied" in n for n in s["notes"])
    ref, got = _rsrp(plain[0], "free"), _rsrp(tmp_path / "out", "free")
    with rasterio.open(tmp_path / "out" / "rasters" / "free" / "rsrp_dbm.tif") as src:
        lat = np.array([src.xy(r, 0)[1] for r in range(src.height)])
    ok = np.isfinite(ref) & np.isfinite(got)
    north = (lat > base.LAT0 + 0.01)[:, None] & ok
    south = (lat < base.LAT0 - 0.01)[:, None] & ok
    assert north.sum() > 50 and south.sum() > 50
    np.testing.assert_allclose((ref - got)[north], 8.0, atol=0.01)
    np.testing.assert_allclose((ref - got)[south], 0.0, atol=0.01)


def test_corrections_at_population_samples_equal_those_at_nodes():
    """The corrected provider answers at scattered points (population samples) as at the grid's
    nodes: calibration (with land-cover classes), P.2108 clutter and P.2109 entry loss."""
    import math

    from yalu.analysis.calibration import Correction
    from yalu.geodesy import Grid
    from yalu.radio.layers import Antenna, FunctionPathLoss
    from yalu.scenario.adapt import CorrectedPathLoss

    def fs(lat, lon, h_tx, h_rx, f, grid):  # type: ignore[no-untyped-def]
        la, lo = np.meshgrid(grid.lats(), grid.lons(), indexing="ij")
        d = np.hypot((la - lat) * 111e3, (lo - lon) * 84e3) + 50.0
        return 20 * np.log10(4 * math.pi * d * f * 1e6 / 299_792_458.0)

    g = Grid(41.1, 24.0, 0.01, 0.01, 8, 9)
    classes = np.tile(np.array([10, 50, 80], np.uint8), (8, 3))
    w = CorrectedPathLoss(FunctionPathLoss(fs), g, Correction(3.0, -2.0, {50: 6.0}), classes,
                          clutter_location_pct=50.0, indoor=(0.3, 50.0))  # fmt: skip
    a = Antenna(41.05, 24.03, 30.0)
    ref = np.asarray(w.grid_loss_db(a, 1842.5, "forward", g, 1.5), dtype=float)
    la, lo = np.meshgrid(g.lats(), g.lons(), indexing="ij")
    got = w.points_loss_db(a, 1842.5, "forward", la.ravel(), lo.ravel(), 1.5).reshape(g.shape)
    base = np.asarray(fs(41.05, 24.03, 30, 1.5, 1842.5, g))
    assert np.nanmax(np.abs(ref - base)) > 5.0  # the corrections do something
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-4)


def test_corrected_sparse_losses_only_without_corrections(tmp_path: Path) -> None:
    """Without any correction the corrected provider hands the engine's sparse losses through
    (shared, not copied); with one it gives None, so that budgets take the corrected dense
    losses."""
    from yalu.analysis.calibration import Correction
    from yalu.coverage.provider import EnginePathLoss
    from yalu.geodesy import Grid
    from yalu.radio.layers import Antenna, SparsePoints
    from yalu.scenario.adapt import CorrectedPathLoss
    from yalu.terrain import default_terrain

    g = Grid(41.1, 124.0, 0.01, 0.01, 8, 9)
    eng = EnginePathLoss(default_terrain(), radius_m=20e3, mode="exact")
    a = Antenna(41.05, 124.03, 30.0)
    la = np.linspace(41.0, 41.1, 30)
    lo = np.linspace(124.0, 124.1, 30)
    plain = CorrectedPathLoss(eng, g, None, None)
    sp = plain.points_loss_sparse(a, 1842.5, "forward", la, lo, 1.5)
    assert isinstance(sp, SparsePoints)
    np.testing.assert_array_equal(np.asarray(sp), eng.points_loss_db(a, 1842.5, "forward", la,
                                                                      lo, 1.5))  # fmt: skip
    for kw in ({"calibration": Correction(3.0, 0.0, {})}, {"clutter_location_pct": 50.0},
               {"indoor": (0.3, 50.0)}):  # fmt: skip
        cal = kw.pop("calibration", None)
        w = CorrectedPathLoss(eng, g, cal, None, **kw)
        assert w.points_loss_sparse(a, 1842.5, "forward", la, lo, 1.5) is None, kw


def test_corrected_windowed_maps_stay_windows_with_the_dense_values():
    """A corrected map of a windowed inner map is a window (no dense grid per map: memory
    follows the sites' reach) holding the very values of the corrected dense map."""
    import math

    from windowed_provider import WindowedFunction as Windowed

    from yalu.analysis.calibration import Correction
    from yalu.geodesy import Grid
    from yalu.radio.layers import Antenna, FunctionPathLoss, WindowedMap
    from yalu.scenario.adapt import CorrectedPathLoss

    def fs(lat, lon, h_tx, h_rx, f, grid):  # type: ignore[no-untyped-def]
        la, lo = np.meshgrid(grid.lats(), grid.lons(), indexing="ij")
        d = np.hypot((la - lat) * 111e3, (lo - lon) * 84e3) + 50.0
        out = 20 * np.log10(4 * math.pi * d * f * 1e6 / 299_792_458.0)
        return np.where(d < 2500.0, out, np.nan).astype(np.float32)

    g = Grid(41.1, 24.0, 0.01, 0.01, 12, 14)
    classes = np.tile(np.array([10, 50, 80, 50], np.uint8), (12, 14 // 2 // 2 + 1))[:, :14]
    kw = dict(clutter_location_pct=50.0, indoor=(0.3, 50.0))
    a = Antenna(41.05, 24.05, 30.0)
    for cal in (None, Correction(3.0, -2.0, {50: 6.0})):
        dense = CorrectedPathLoss(FunctionPathLoss(fs), g, cal, classes, **kw)
        win = CorrectedPathLoss(Windowed(fs), g, cal, classes, **kw)
        ref = dense.grid_loss_db(a, 1842.5, "forward", g, 1.5)
        got = win.grid_loss_db(a, 1842.5, "forward", g, 1.5)
        assert isinstance(got, WindowedMap) and got.data.size < 0.6 * g.shape[0] * g.shape[1]
        assert np.isfinite(np.asarray(ref)).sum() > 20
        np.testing.assert_array_equal(np.asarray(got), ref)
        base = np.asarray(fs(a.lat_deg, a.lon_deg, 30, 1.5, 1842.5, g))
        assert np.nanmin(np.abs(np.asarray(got) - base)) > 1.0  # corrected
