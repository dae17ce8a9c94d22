"""``yalu p1812 run``: SG3 databank CSV files in, one JSON line per (file, dataset) out."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from yalu.cli.main import cli

DATA = Path(__file__).parents[1] / "data" / "p1812"
SHARED = Path(__file__).parents[2] / ".." / "shared" / "p1812"

# JSON key -> (log label, occurrence): the names the command promises for the log's quantities
KEYS = {
    "Lb_db": ("Lb (dB)", 0), "Ep_1kw_dbuv_m": ("Ep (dBuV/m)", 0),
    "Ep_dbuv_m": ("Ep w.r.t. Ptx", 0), "Ptx_kw": ("Ptx (kW)", 0), "f_ghz": ("f (GHz)", 0),
    "p_pct": ("p (%)", 0), "pL_pct": ("pL (%)", 0), "sigmaL_db": ("sigmaL (dB)", 0),
    "htg_m": ("htg (m)", 0), "hrg_m": ("hrg (m)", 0), "pol": ("pol", 0), "DN": ("DN", 0),
    "N0": ("N0", 0), "dct_km": ("dct (km)", 0), "dcr_km": ("dcr (km)", 0),
    "R2_m": ("R2 (m)", 0), "Rn_1_m": ("Rn-1 (m)", 0), "d_km": ("d (km)", 0),
    "dlt_km": ("dlt (km)", 0), "dlr_km": ("dlr (km)", 0), "th_t_mrad": ("th_t (mrad)", 0),
    "th_r_mrad": ("th_r (mrad)", 0), "th_mrad": ("th (mrad)", 0), "hts_m": ("hts (m)", 0),
    "hrs_m": ("hrs (m)", 0), "htc_m": ("htc (m)", 0), "hrc_m": ("hrc (m)", 0), "w": ("w", 0),
    "dtm_km": ("dtm (km)", 0), "dlm_km": ("dlm (km)", 0), "phi_deg": ("phi (deg)", 0),
    "b0_pct": ("b0 (%)", 0), "ae_km": ("ae (km)", 0), "hst_m": ("hst (m)", 0),
    "hsr_m": ("hsr (m)", 0), "hst_eq90a_m": ("hst (m)", 1), "hsr_eq90b_m": ("hsr (m)", 1),
    "hstd_m": ("hstd (m)", 0), "hsrd_m": ("hsrd (m)", 0), "htc_eq37a_m": ("htc (m)", 1),
    "hrc_eq37b_m": ("hrc (m)", 1), "hte_m": ("hte (m)", 0), "hre_m": ("hre (m)", 0),
    "hm_m": ("hm (m)", 0), "Fi": ("Fi", 0), "Fj": ("Fj", 0), "Fk": ("Fk", 0),
    "Lbfs_db": ("Lbfs", 0), "Lb0p_db": ("Lb0p", 0), "Lb0b_db": ("Lb0b", 0),
    "Lbulla_db": ("Lbulla (dB)", 0), "Lbulls_db": ("Lbulls (dB)", 0),
    "Ldsph_db": ("Ldsph (dB)", 0), "Ld50_db": ("Ld50 (dB)", 0), "Ldb_db": ("Ldb (dB)", 0),
    "Ldp_db": ("Ldp (dB)", 0), "Lbd50_db": ("Lbd50 (dB)", 0), "Lbd_db": ("Lbd (dB)", 0),
    "Lminb0p_db": ("Lminb0p (dB)", 0), "Lba_db": ("Lba (dB)", 0),
    "Lminbap_db": ("Lminbap (dB)", 0), "Lbda_db": ("Lbda (dB)", 0),
    "Lbam_db": ("Lbam (dB)", 0), "Lbs_db": ("Lbs (dB)", 0), "Lbc_db": ("Lbc (dB)", 0),
}  # fmt: skip


def read_log(path: Path) -> dict[tuple[str, int], float]:
    out: dict[tuple[str, int], float] = {}
    seen: dict[str, int] = {}
    with path.open(newline="") as f:
        for row in csv.reader(f):
            if len(row) < 4 or not row[0].strip() or row[0].startswith("#"):
                continue
            label = row[0].strip()
            if label.startswith("Ep (dBuV/m) w.r.t."):
                label = "Ep w.r.t. Ptx"
            k = seen.get(label, 0)
            seen[label] = k + 1
            out[(label, k)] = float([c for c in row[1:] if c.strip()][-1])
    return out


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def check_records(records: list[dict[str, Any]], root: Path) -> int:
    problems = []
    for rec in records:
        stem = rec["file"][: -len(".csv")]
        log = read_log(root / "results" / f"{stem}_{rec['dataset']}_log.csv")
        for key, label in KEYS.items():
            ref = log[label]
            if key == "Lbd_db":  # the reference prints Lbda there when Eq (61) applies
                ref = log[("Lb0p", 0)] + log[("Ldp (dB)", 0)]
            tol = 0.001 if key in ("Lb_db", "Ep_dbuv_m", "Ep_1kw_dbuv_m") else 1e-6 * max(
                1.0, abs(ref))  # fmt: skip
            if not abs(rec[key] - ref) <= tol:
                problems.append((rec["file"], rec["dataset"], key, rec[key], ref))
    assert not problems, problems[:10]
    return len(records)


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, ["p1812", "run", *args])


def test_run_on_the_repo_subset(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    files = sorted(str(p) for p in (DATA / "profiles").glob("*.csv"))
    result = invoke(*files, "-o", str(out))
    assert result.exit_code == 0, result.output
    recs = lines(out)
    assert [(r["file"], r["dataset"]) for r in recs][:4] == [
        ("b2iseac_rural_land_1km.csv", 0), ("b2iseac_rural_land_1km.csv", 1),
        ("b2iseac_rural_land_1km.csv", 2), ("b2iseac_vertical.csv", 0),
    ]  # fmt: skip
    assert check_records(recs, DATA) == 12
    assert "12 datasets, 12 computed, 0 refused" in result.output
    assert not list(tmp_path.glob(".*part"))


@pytest.mark.shared
@pytest.mark.skipif(not SHARED.is_dir(), reason=f"shared P.1812 set not found at {SHARED}")
def test_run_on_all_48_shared_cases(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    files = sorted(str(p) for p in (SHARED / "profiles").glob("*.csv"))
    result = invoke(*files, "-o", str(out))
    assert result.exit_code == 0, result.output
    assert check_records(lines(out), SHARED) == 48


def test_refuses_to_overwrite_and_never_leaves_partial_output(tmp_path: Path) -> None:
    src = str(DATA / "profiles" / "b2iseac_rural_land_1km.csv")
    out = tmp_path / "out.jsonl"
    out.write_text("keep me\n")
    result = invoke(src, "-o", str(out))
    assert result.exit_code == 2 and "--overwrite" in result.output
    assert out.read_text() == "keep me\n"
    # a bad file after a good one: the run fails whole and the old output stays
    bad = tmp_path / "bad.csv"
    bad.write_text("Tx LAT:,1\nTx LON:,2\n")
    result = invoke(src, str(bad), "-o", str(out), "--overwrite")
    assert result.exit_code == 2
    assert "bad.csv" in result.output and "Rx LAT" in result.output
    assert len(result.output.strip().splitlines()) <= 2  # progress line + one error line
    assert out.read_text() == "keep me\n"
    assert invoke(src, "-o", str(out), "--overwrite").exit_code == 0
    assert len(lines(out)) == 3


def edited(tmp_path: Path, name: str, fn: Any) -> Path:
    text = (DATA / "profiles" / name).read_text()
    p = tmp_path / name
    p.write_text(fn(text))
    return p


def test_missing_refractivity_needs_options_or_maps(tmp_path: Path) -> None:
    def drop(text: str) -> str:
        return "\n".join(
            line.split(",")[0] + "," if line.startswith("Average annual") else line
            for line in text.splitlines()
        )

    src = edited(tmp_path, "b2iseac_rural_land_1km.csv", drop)
    out = tmp_path / "o.jsonl"
    result = invoke(str(src), "-o", str(out))
    assert result.exit_code == 2 and "--delta-n" in result.output and "--maps" in result.output
    assert invoke(str(src), "-o", str(out), "--delta-n", "45", "--n0", "326.079979").exit_code == 0
    check_records(lines(out), DATA)  # the file's own values, given by hand: the references
    # maps: a constant synthetic grid holding the file's values gives the same result
    maps = tmp_path / "maps"
    maps.mkdir()
    np.savetxt(maps / "DN50.TXT", np.full((121, 241), 45.0))
    np.savetxt(maps / "N050.TXT", np.full((121, 241), 326.079979))
    out2 = tmp_path / "o2.jsonl"
    assert invoke(str(src), "-o", str(out2), "--maps", str(maps)).exit_code == 0
    assert [r["Lb_db"] for r in lines(out2)] == [r["Lb_db"] for r in lines(out)]


def test_refused_dataset_is_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    def bad_freq(text: str) -> str:
        return text.replace("\n95.3,60,,7,1,", "\n9.3,60,,7,1,", 1)

    src = edited(tmp_path, "b2iseac_rural_land_1km.csv", bad_freq)
    out = tmp_path / "o.jsonl"
    result = invoke(str(src), "-o", str(out))
    assert result.exit_code == 0, result.output
    recs = lines(out)
    assert "frequency_mhz = 9.3: must be [30, 6000]" in recs[0]["error"]
    assert recs[0]["Lb_db"] is None
    check_records(recs[1:], DATA)
    assert "3 datasets, 2 computed, 1 refused" in result.output


def test_clutter_from_coverage_codes(tmp_path: Path) -> None:
    src = str(DATA / "profiles" / "rburg_urban_with_clutter.csv")
    out = tmp_path / "o.jsonl"
    assert invoke(src, "-o", str(out), "--clutter", "coverage-code").exit_code == 0
    recs = lines(out)
    assert recs[0]["R2_m"] == 15.0 and recs[0]["Rn_1_m"] == 15.0  # code 4 -> 15 m
    for rec in recs:
        ref = read_log(DATA / "results" / f"rburg_urban_with_clutter_{rec['dataset']}_log.csv")
        # the file's cover heights: 0 m on most of the path, 20-30 m next to the receiver
        assert abs(rec["Lbulla_db"] - ref[("Lbulla (dB)", 0)]) > 5.0


def test_profile_written_from_the_receiver(tmp_path: Path) -> None:
    src = DATA / "profiles" / "b2iseac_rural_land_1km.csv"
    text = src.read_text().splitlines()
    a = text.index(next(t for t in text if t.startswith("{Begin of Profile")))
    b = text.index("{End of Profile}")
    rows = [r.split(",") for r in text[a + 2 : b]]
    total = float(rows[-1][0])
    flipped = [",".join([f"{total - float(r[0]):.6f}", *r[1:]]) for r in reversed(rows)]
    lines_out = text[: a + 2] + flipped + text[b:]
    lines_out = [t.replace("First Point TX or RX:,T", "First Point TX or RX:,R") for t in lines_out]
    p = tmp_path / "b2iseac_rural_land_1km.csv"
    p.write_text("\n".join(lines_out) + "\n")
    out = tmp_path / "o.jsonl"
    assert invoke(str(p), "-o", str(out)).exit_code == 0
    check_records(lines(out), DATA)


def test_subprocess_entry_point(tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    src = tmp_path / "b2iseac_rural_land_1km.csv"
    shutil.copy(DATA / "profiles" / src.name, src)
    run = [sys.executable, "-m", "yalu.cli.main", "p1812", "run", str(src), "-o", str(out)]
    ok = subprocess.run(run, capture_output=True, text=True, env=dict(os.environ), timeout=300)
    assert ok.returncode == 0, ok.stderr
    again = subprocess.run(run, capture_output=True, text=True, env=dict(os.environ), timeout=300)
    assert again.returncode == 2 and "Traceback" not in again.stderr
    assert "--overwrite" in again.stderr
    same = subprocess.run(
        [*run[:5], str(out), "-o", str(out)], capture_output=True, text=True, timeout=300
    )
    assert same.returncode == 2 and "also an input" in same.stderr


def test_coverage_command_with_p1812(tmp_path: Path) -> None:
    import rasterio
    from affine import Affine

    from yalu.coverage import P1812Options, path_loss_map
    from yalu.terrain import open_terrain

    n, step = 241, 1 / 1200
    lat = 41.6 - np.arange(n) * step
    lon = 24.4 + np.arange(n) * step
    z = np.rint(400 + 250 * np.sin((lat[:, None] - 41) * 40.0) * np.cos((lon[None, :] - 24) * 33.0))
    src = tmp_path / "dem.tif"
    with rasterio.open(
        src, "w", driver="GTiff", height=n, width=n, count=1, dtype="float32", crs="EPSG:4326",
        transform=Affine(step, 0, 24.4 - step / 2, 0, -step, 41.6 + step / 2),
    ) as ds:  # fmt: skip
        ds.write(z.astype(np.float32), 1)
    out = tmp_path / "p1812.tif"
    args = ["coverage", "--terrain", str(src), "--site", "41.5,24.5", "--height-m", "30",
            "--frequency-mhz", "900", "--radius-km", "2", "--model", "p1812", "--time-pct", "10",
            "--clutter-m", "5", "--delta-n", "50", "--quiet", "-o", str(out)]  # fmt: skip
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 0, r.output
    with rasterio.open(out) as ds:
        got = ds.read(1)
        tags = ds.tags()
    assert tags["model"] == "p1812" and tags["mode"] == "exact"
    assert tags["p1812_clutter_height_m"] == "5.0" and tags["p1812_n0"] == "325.0"
    ref = path_loss_map(
        open_terrain(src), (41.5, 24.5), 2000.0, h_tx_m=30.0, frequency_mhz=900.0,
        model="p1812", p1812=P1812Options(time_pct=10.0, clutter_height_m=5.0, delta_n=50.0),
    )  # fmt: skip
    assert got.tobytes() == ref.values.tobytes()
    assert np.isfinite(got).sum() > 1000
    # dN and N0 from user-supplied ITU-R maps (synthetic here) at the site
    maps = tmp_path / "maps"
    maps.mkdir()
    np.savetxt(maps / "DN50.TXT", np.full((121, 241), 50.0))
    np.savetxt(maps / "N050.TXT", np.full((121, 241), 310.0))
    out2 = tmp_path / "maps.tif"
    no_dn = [a for a in args[:-2] if a not in ("--delta-n", "50")]
    r = CliRunner().invoke(cli, [*no_dn, "--p1812-maps", str(maps), "-o", str(out2)])
    assert r.exit_code == 0, r.output
    with rasterio.open(out2) as ds:
        assert ds.tags()["p1812_delta_n"] == "50.0" and ds.tags()["p1812_n0"] == "310.0"
    double = CliRunner().invoke(cli, [*args[:-2], "--clutter", "p2108-statistical", "-o",
                                      str(tmp_path / "y.tif")])  # fmt: skip
    assert double.exit_code == 2 and "--clutter = 'p2108-statistical'" in double.output
    bad = CliRunner().invoke(cli, [*args[:-2], "--frequency-mhz", "7000", "-o",
                                   str(tmp_path / "x.tif")])  # fmt: skip
    assert bad.exit_code == 2 and "--frequency-mhz = 7000.0" in bad.output
