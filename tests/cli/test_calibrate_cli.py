"""``yalu calibrate`` end to end on a synthetic drive test (see tests/analysis)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from yalu.cli.main import cli

sys.path.insert(0, str(Path(__file__).parents[1] / "analysis"))
import test_calibration as tc  # noqa: E402

from yalu.analysis import calibration as cal  # noqa: E402

terrain = tc.terrain


def test_calibrate_end_to_end(tmp_path: Path, terrain: Path) -> None:
    pts = tc._points(30, seed=11)
    pr = tc._model_loss(tmp_path, pts, terrain)
    rng = np.random.default_rng(12)
    measured = pr.loss_db + 6.0 - 2.0 * np.log10(pr.distance_km) + rng.normal(0, 4.0, len(pts))
    m = tc._write_meas(tmp_path / "m.csv", pts, "loss_db", measured)
    s = tc._write_sites(tmp_path / "s.csv")
    out = tmp_path / "CAL.json"
    args = ["calibrate", str(m), "--sites", str(s), "--terrain", str(terrain), "--folds", "2",
            "-o", str(out)]  # fmt: skip
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 0, r.output
    obj = json.loads(out.read_text())
    assert obj["after"]["rmse_db"] < obj["before"]["rmse_db"]
    assert obj["after"]["n"] == len(pts) and obj["validation"]["folds"] == 2
    assert (tmp_path / "CAL.measured_vs_predicted.png").stat().st_size > 1000
    assert (tmp_path / "CAL.residual_vs_distance.png").stat().st_size > 1000
    assert "before RMSE" in r.output and "after RMSE" in r.output
    r = CliRunner().invoke(cli, args)  # outputs exist
    assert r.exit_code == 2 and "--overwrite" in r.output
    r = CliRunner().invoke(cli, [*args, "--overwrite", "--holdout-site", "B"])
    assert r.exit_code == 2 and "folds" in r.output  # not both


def test_calibrate_bad_csv_is_one_line(tmp_path: Path, terrain: Path) -> None:
    m = tmp_path / "m.csv"
    m.write_text("site_id,lat_deg,lon_deg,loss_db\nA,41.2,124.3,abc\n")
    s = tc._write_sites(tmp_path / "s.csv")
    r = CliRunner().invoke(
        cli, ["calibrate", str(m), "--sites", str(s), "--terrain", str(terrain), "-o",
              str(tmp_path / "c.json")],
    )  # fmt: skip
    assert r.exit_code == 2
    err = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(err) <= 2 and "m.csv line 2 loss_db = 'abc'" in r.output


def test_calibrate_with_p1812(tmp_path: Path, terrain: Path) -> None:
    pts = tc._points(6, seed=13)
    sites = cal.read_sites(tc._write_sites(tmp_path / "s0.csv"))
    meas = cal.read_measurements(
        tc._write_meas(tmp_path / "m0.csv", pts, "loss_db", np.zeros(len(pts))), sites
    )
    pr = cal.predict_loss_db(meas, sites, terrain, "p1812")
    assert np.all(np.isfinite(pr.loss_db))
    m = tc._write_meas(tmp_path / "m.csv", pts, "loss_db", pr.loss_db - 4.0)
    s = tc._write_sites(tmp_path / "s.csv")
    out = tmp_path / "c.json"
    r = CliRunner().invoke(
        cli, ["calibrate", str(m), "--sites", str(s), "--terrain", str(terrain), "--model",
              "p1812", "--folds", "2", "-o", str(out)],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    assert doc["model"] == "p1812"
    assert doc["after"]["rmse_db"] < 1e-6 < doc["before"]["rmse_db"]
