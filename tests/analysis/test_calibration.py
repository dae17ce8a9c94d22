"""Calibration to measurements on a synthetic drive test over synthetic hilly terrain.

The measured losses are the model's own predictions distorted by a known bias, a known slope in
log distance (and a known offset on one land-cover class), plus known Gaussian noise: the fit
must recover the distortion, and the cross-validated errors must be honest (not below the noise
that no correction can remove).
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from yalu.analysis import calibration as cal
from yalu.errors import InputError, OutputExistsError, ParameterError
from yalu.geodesy import geodesic_points, profile
from yalu.io.calibration import write_calibration
from yalu.propagation import itm
from yalu.terrain import open_terrain

SITES = [
    ("A", 41.20, 124.20, 30.0, 900.0),
    ("B", 41.30, 124.45, 45.0, 900.0),
    ("C", 41.12, 124.40, 25.0, 1800.0),
    ("D", 41.36, 124.15, 35.0, 900.0),
]


@pytest.fixture(scope="module")
def terrain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Smooth hills, 6" grid over 41.0-41.5 N, 124.0-124.6 E."""
    d = tmp_path_factory.mktemp("terrain")
    res = 1 / 600
    lat = 41.5 - (np.arange(300) + 0.5) * res
    lon = 124.0 + (np.arange(360) + 0.5) * res
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    z = 200 + 90 * np.sin(la * 40) * np.cos(lo * 33) + 40 * np.sin(lo * 90 + la * 20)
    path = d / "hills.tif"
    with rasterio.open(
        path, "w", driver="GTiff", width=360, height=300, count=1, dtype="float32",
        crs="EPSG:4326", transform=from_origin(124.0, 41.5, res, res),
    ) as ds:  # fmt: skip
        ds.write(z.astype(np.float32), 1)
    return path


def _points(n: int, seed: int) -> list[tuple[str, float, float]]:
    rng = np.random.default_rng(seed)
    out = []
    for sid, la, lo, _h, _f in SITES:
        d = 10 ** rng.uniform(np.log10(0.3), np.log10(12.0), n) * 1000
        az = rng.uniform(0, 360, n)
        plat, plon = geodesic_points(np.full(n, la), np.full(n, lo), az, d)
        keep = (plat > 41.02) & (plat < 41.48) & (plon > 124.02) & (plon < 124.58)
        out += [(sid, float(a), float(b)) for a, b in zip(plat[keep], plon[keep], strict=True)]
    return out


def _write_sites(path: Path, eirp: float | None = None, antenna: str | None = None) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        extra = (["eirp_dbm"] if eirp is not None else []) + (
            ["azimuth_deg", "tilt_deg", "antenna"] if antenna else []
        )
        w.writerow(["site_id", "lat_deg", "lon_deg", "height_m", "frequency_mhz", *extra])
        for sid, la, lo, h, f in SITES:
            row: list[object] = [sid, la, lo, h, f]
            if eirp is not None:
                row.append(eirp)
            if antenna:
                row += [90.0, 2.0, antenna]
            w.writerow(row)
    return path


def _write_meas(
    path: Path, pts: list[tuple[str, float, float]], col: str, vals: np.ndarray
) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["site_id", "lat_deg", "lon_deg", col, "note"])
        for (sid, la, lo), v in zip(pts, vals, strict=True):
            w.writerow([sid, repr(la), repr(lo), repr(float(v)), "extra column"])
    return path


def _model_loss(tmp: Path, pts: list[tuple[str, float, float]], terrain: Path, model: str = "itm"):
    sites = cal.read_sites(_write_sites(tmp / "s0.csv"))
    meas = cal.read_measurements(
        _write_meas(tmp / "m0.csv", pts, "loss_db", np.zeros(len(pts))), sites
    )
    return cal.predict_loss_db(meas, sites, terrain, model)


def test_predictions_are_itm_on_the_geodesic_profile(tmp_path: Path, terrain: Path) -> None:
    pts = _points(3, seed=1)[:6]
    pr = _model_loss(tmp_path, pts, terrain)
    sites = {s[0]: s for s in SITES}
    for (sid, la, lo), got in zip(pts, pr.loss_db, strict=True):
        _, sla, slo, h, f = sites[sid]
        p = profile(open_terrain(terrain), (sla, slo), (la, lo), 30.0)
        ref = itm.p2p(p.elevation_m, p.step_m, h, 1.5, f).loss_db
        assert got == ref


def test_known_bias_and_slope_are_recovered(tmp_path: Path, terrain: Path) -> None:
    pts = _points(40, seed=2)
    pr = _model_loss(tmp_path, pts, terrain)
    bias, slope = 7.5, -4.0  # the model under-predicts by 7.5 dB at 1 km, less further out
    measured = pr.loss_db + bias + slope * np.log10(pr.distance_km)
    m = _write_meas(tmp_path / "m.csv", pts, "loss_db", measured)
    res = cal.calibrate(m, _write_sites(tmp_path / "s.csv"), terrain, "itm", folds=4)
    assert res.correction.offset_db == pytest.approx(bias, abs=1e-6)
    assert res.correction.slope_db_per_decade == pytest.approx(slope, abs=1e-6)
    assert res.after.rmse_db < 1e-6 and res.after.n == len(pts)
    assert res.before.rmse_db > 3.0
    # every fold, trained without its sites, finds the same distortion
    for fold in res.folds:
        assert fold["parameters"]["offset_db"] == pytest.approx(bias, abs=1e-6)


def test_noisy_data_gives_honest_cross_validated_errors(tmp_path: Path, terrain: Path) -> None:
    pts = _points(60, seed=3)
    pr = _model_loss(tmp_path, pts, terrain)
    rng = np.random.default_rng(4)
    sigma, bias, slope = 6.0, -5.0, 3.0
    noise = rng.normal(0, sigma, len(pts))
    measured = pr.loss_db + bias + slope * np.log10(pr.distance_km) + noise
    m = _write_meas(tmp_path / "m.csv", pts, "loss_db", measured)
    s = _write_sites(tmp_path / "s.csv")
    res = cal.calibrate(m, s, terrain, "itm")  # default: K = min(5, 4 sites) = 4 folds
    assert res.validation == {
        "method": "k-fold by site", "folds": 4, "parameters_fitted_on": "all sites"
    }  # fmt: skip
    # the noise is irreducible: held-out RMSE cannot beat it, and should not be far above it
    noise_rms = float(np.sqrt(np.mean(noise**2)))
    assert noise_rms <= res.after.rmse_db < noise_rms + 1.0
    distortion = bias + slope * np.log10(pr.distance_km) + noise
    assert res.before.mean_error_db == pytest.approx(-float(np.mean(distortion)), abs=1e-9)
    assert res.before.rmse_db > res.after.rmse_db + 1.0
    assert abs(res.after.mean_error_db) < 1.0
    assert res.correction.offset_db == pytest.approx(bias, abs=1.5)
    assert res.correction.slope_db_per_decade == pytest.approx(slope, abs=1.5)
    st = res.after
    assert st.rmse_db**2 == pytest.approx(st.mean_error_db**2 + st.std_db**2)
    # in-sample error would be lower than the honest one
    corr = cal.fit_correction(measured, pr.loss_db, pr.distance_km)
    in_sample = cal.error_stats(corr.apply(pr.loss_db, pr.distance_km) - measured).rmse_db
    assert in_sample < res.after.rmse_db
    # holding out one site
    res1 = cal.calibrate(m, s, terrain, "itm", holdout_site="C")
    assert res1.after.n == sum(p[0] == "C" for p in pts)
    assert res1.validation["holdout_site"] == "C"


def test_class_offsets_from_land_cover(tmp_path: Path, terrain: Path) -> None:
    # land cover: built-up (50) south of 41.25 N, tree cover (10) north of it
    lc = tmp_path / "lc.tif"
    data = np.full((50, 60), 10, dtype=np.uint8)
    data[25:, :] = 50
    with rasterio.open(
        lc, "w", driver="GTiff", width=60, height=50, count=1, dtype="uint8", crs="EPSG:4326",
        transform=from_origin(124.0, 41.5, 0.01, 0.01), nodata=0,
    ) as ds:  # fmt: skip
        ds.write(data, 1)
    pts = _points(40, seed=5)
    pr = _model_loss(tmp_path, pts, terrain)
    built = np.array([la < 41.25 for _, la, _ in pts])
    measured = pr.loss_db + 2.0 + np.where(built, 9.0, 0.0)
    m = _write_meas(tmp_path / "m.csv", pts, "loss_db", measured)
    res = cal.calibrate(m, _write_sites(tmp_path / "s.csv"), terrain, landcover=lc, ridge=0.01)
    c = res.correction
    assert c.slope_db_per_decade == pytest.approx(0.0, abs=0.05)
    # the offsets are shared between the global term and the classes; the difference is what
    # the land cover adds
    assert c.class_offset_db[50] - c.class_offset_db[10] == pytest.approx(9.0, abs=0.05)
    assert c.offset_db + c.class_offset_db[10] == pytest.approx(2.0, abs=0.05)
    assert res.after.rmse_db < 0.1


def test_rx_dbm_with_eirp_matches_loss(tmp_path: Path, terrain: Path) -> None:
    pts = _points(20, seed=6)
    pr = _model_loss(tmp_path, pts, terrain)
    measured = pr.loss_db + 4.0
    eirp = 60.0
    a = cal.calibrate(
        _write_meas(tmp_path / "ml.csv", pts, "loss_db", measured),
        _write_sites(tmp_path / "s1.csv"), terrain,
    )  # fmt: skip
    b = cal.calibrate(
        _write_meas(tmp_path / "mr.csv", pts, "rx_dbm", eirp - measured),
        _write_sites(tmp_path / "s2.csv", eirp=eirp), terrain,
    )  # fmt: skip
    assert b.correction.offset_db == pytest.approx(a.correction.offset_db, abs=1e-9)
    np.testing.assert_allclose(b.measured_db, a.measured_db, atol=1e-9)
    # a sector antenna facing east (90 deg): points to the west see less EIRP, so the same
    # rx_dbm means a lower basic loss of the path itself (loss = eirp + G - rx, G <= 0)
    c = cal.calibrate(
        _write_meas(tmp_path / "mr2.csv", pts, "rx_dbm", eirp - measured),
        _write_sites(tmp_path / "s3.csv", eirp=eirp, antenna="sector"), terrain,
    )  # fmt: skip
    gain = c.measured_db - b.measured_db  # = relative gain G toward each point
    site_lon = {s[0]: s[2] for s in SITES}
    west = np.array([lo < site_lon[sid] - 0.01 for sid, _, lo in pts])
    east = np.array([lo > site_lon[sid] + 0.01 for sid, _, lo in pts])
    assert np.all(gain <= 1e-9) and gain[west].mean() < gain[east].mean() - 10.0


def test_writes_json_and_plots_atomically(tmp_path: Path, terrain: Path) -> None:
    pts = _points(15, seed=7)
    pr = _model_loss(tmp_path, pts, terrain)
    m = _write_meas(tmp_path / "m.csv", pts, "loss_db", pr.loss_db + 3.0)
    res = cal.calibrate(m, _write_sites(tmp_path / "s.csv"), terrain, folds=2)
    out = tmp_path / "out" / "CAL.json"
    written = write_calibration(res, out)
    obj = json.loads(out.read_text())
    for key in ("before", "after"):
        assert set(obj[key]) == {"rmse_db", "mean_error_db", "std_db", "n"}
    assert obj["parameters"]["offset_db"] == pytest.approx(3.0, abs=1e-6)
    for p in written[1:]:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(OutputExistsError):
        write_calibration(res, out)
    model, corr = cal.load_calibration(out)
    assert model is cal.CalibrationModel.ITM and corr.offset_db == pytest.approx(3.0, abs=1e-6)
    assert corr.apply([100.0], [2.0])[0] == pytest.approx(100.0 + corr.correction_db(2.0))
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize(
    ("meas", "sites", "match"),
    [
        ("site_id,lat_deg,lon_deg\nA,41.2,124.3\n", None, "missing column loss_db or rx_dbm"),
        ("site_id,lat_deg,loss_db\nA,41.2,120\n", None, r"missing column\(s\) lon_deg"),
        ("site_id,lat_deg,lon_deg,loss_db\nA,41.2,124.3,120\nZ,41.2,124.3,120\n", None,
         r"m.csv line 3 site_id = 'Z': must be a site id \(A, B, C, D\)"),
        ("site_id,lat_deg,lon_deg,loss_db\nA,41.2,124.3,nan\n", None,
         r"m.csv line 2 loss_db = 'nan'"),
        ("site_id,lat_deg,lon_deg,loss_db\nA,41.2,124.3,120\nB,91,124.3,120\n", None,
         r"m.csv line 3 lat_deg = '91': must be a number -90 to 90"),
        ("site_id,lat_deg,lon_deg,loss_db\nA,41.2,124.3,\n", None, r"line 2 loss_db = ''"),
        ("site_id,lat_deg,lon_deg,loss_db\nA,41.2,124.3,120,9\n", None, r"line 2: 5 fields"),
        ("site_id,lat_deg,lon_deg,rx_dbm\nA,41.2,124.3,-80\n", None,
         r"sites line 2 eirp_dbm.*m.csv line 2 gives rx_dbm for site A"),
        ("site_id,lat_deg,lon_deg,loss_db\nA,41.2,124.3,120\n",
         "site_id,lat_deg,lon_deg,height_m,frequency_mhz\nA,41.2,124.2,30,900\nA,41,124,3,900\n",
         r"s.csv line 3 site_id = 'A': must be unique \(also on line 2\)"),
        ("site_id,lat_deg,lon_deg,loss_db\nA,41.2,124.3,120\n",
         "site_id,lat_deg,lon_deg,height_m,frequency_mhz\nA,41.2,124.2,-3,900\n",
         r"s.csv line 2 height_m = '-3'"),
    ],
)  # fmt: skip
def test_bad_csvs_get_one_line_errors(
    tmp_path: Path, terrain: Path, meas: str, sites: str | None, match: str
) -> None:
    m = tmp_path / "m.csv"
    m.write_text(meas)
    s = tmp_path / "s.csv"
    if sites is None:
        _write_sites(s)
    else:
        s.write_text(sites)
    with pytest.raises(InputError, match=match) as exc:
        cal.calibrate(m, s, terrain)
    assert "\n" not in str(exc.value)


def test_bad_options(tmp_path: Path, terrain: Path) -> None:
    pts = _points(5, seed=8)
    m = _write_meas(tmp_path / "m.csv", pts, "loss_db", np.full(len(pts), 120.0))
    s = _write_sites(tmp_path / "s.csv")
    with pytest.raises(ParameterError, match="holdout_site"):
        cal.calibrate(m, s, terrain, holdout_site="Q")
    with pytest.raises(ParameterError, match="folds"):
        cal.calibrate(m, s, terrain, folds=9)
    with pytest.raises(ParameterError, match="model"):
        cal.calibrate(m, s, terrain, "okumura")
    one = _write_meas(tmp_path / "one.csv", [p for p in pts if p[0] == "A"], "loss_db",
                      np.full(sum(p[0] == "A" for p in pts), 120.0))  # fmt: skip
    with pytest.raises(InputError, match=">= 2 sites"):
        cal.calibrate(one, s, terrain)


def test_hata_model_runs(tmp_path: Path, terrain: Path) -> None:
    pts = _points(10, seed=9)
    pr = _model_loss(tmp_path, pts, terrain, "hata")
    assert np.all(np.isfinite(pr.loss_db))
    m = _write_meas(tmp_path / "m.csv", pts, "loss_db", pr.loss_db - 2.0)
    res = cal.calibrate(m, _write_sites(tmp_path / "s.csv"), terrain, "hata", folds=2)
    assert res.correction.offset_db == pytest.approx(-2.0, abs=1e-6)
    assert math.isclose(res.after.rmse_db, 0.0, abs_tol=1e-6)


def test_p1812_model_is_p1812_on_the_geodesic_profile(tmp_path: Path, terrain: Path) -> None:
    from yalu.propagation import p1812

    pts = _points(4, seed=21)[:6]
    pr = _model_loss(tmp_path, pts, terrain, "p1812")
    sites = {s[0]: s for s in SITES}
    for (sid, la, lo), got in zip(pts, pr.loss_db, strict=True):
        _, sla, slo, h, f = sites[sid]
        p = profile(open_terrain(terrain), (sla, slo), (la, lo), 30.0)
        n = p.elevation_m.size - 1
        mid = p.lat_deg[n // 2] if n % 2 == 0 else 0.5 * (p.lat_deg[n // 2] + p.lat_deg[n // 2 + 1])
        ref = p1812.basic_transmission_loss(
            p.distance_m / 1000.0, p.elevation_m, frequency_mhz=f, time_pct=50.0, h_tx_m=h,
            h_rx_m=1.5, path_center_lat_deg=mid,
        ).loss_db  # fmt: skip
        assert got == pytest.approx(ref, abs=1e-9)
    m = _write_meas(tmp_path / "m.csv", pts, "loss_db", pr.loss_db + 3.0)
    res = cal.calibrate(m, _write_sites(tmp_path / "s.csv"), terrain, "p1812", folds=2)
    assert res.correction.offset_db == pytest.approx(3.0, abs=1e-6)
