"""``yalu coverage``: GeoTIFF/PNG outputs from GeoTIFF, .hgt and SDF terrain; refusals; errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner

from yalu.cli.main import cli, main
from yalu.coverage import path_loss_map
from yalu.terrain import open_terrain

SHARED = Path(__file__).parents[2] / ".." / "shared"
BENCH_TAR = SHARED / "bench" / "sdf_3arcsec_40-43N_22-26E.tar.xz"


def _field(lat, lon):
    """Integer-valued smooth hills [m]."""
    return np.rint(
        400 + 250 * np.sin((lat - 41) * 40.0) * np.cos((lon - 24) * 33.0) + 80 * (lat - 41)
    )


def _write_hgt(d: Path) -> Path:
    i = np.arange(1201)
    lat = 42 - i / 1200
    lon = 24 + i / 1200
    z = _field(lat[:, None], lon[None, :])
    p = d / "N41E024.hgt"
    p.write_bytes(z.astype(">i2").tobytes())
    return p


def _write_sdf(d: Path) -> Path:
    """One SPLAT! SDF tile (41-42 N, 24-25 E) in the layout of shared/bench/README.md."""
    x = np.arange(1200)
    lat = 41 + x / 1200  # outer loop, south to north
    west = 335 + (x + 1) / 1200  # inner loop, east to west (west longitudes 0-360)
    z = _field(lat[:, None], (360 - west)[None, :]).astype(np.int64)
    lines = ["336", "41", "335", "42", *map(str, z.ravel().tolist())]
    p = d / "41:42:335:336.sdf"
    p.write_text("\n".join(lines) + "\n")
    return p


def _write_tif(d: Path) -> Path:
    from affine import Affine

    n = 481
    step = 1 / 1200
    lat = 41.7 - np.arange(n) * step
    lon = 24.3 + np.arange(n) * step
    z = _field(lat[:, None], lon[None, :]).astype(np.float32)
    p = d / "dem.tif"
    with rasterio.open(
        p, "w", driver="GTiff", height=n, width=n, count=1, dtype="float32", crs="EPSG:4326",
        transform=Affine(step, 0, 24.3 - step / 2, 0, -step, 41.7 + step / 2),
    ) as ds:  # fmt: skip
        ds.write(z, 1)
    return p


ARGS = ["--site", "41.5,24.5", "--height-m", "30", "--frequency-mhz", "900", "--radius-km", "3"]


@pytest.mark.parametrize("kind", ["tif", "hgt", "sdf"])
def test_coverage_writes_geotiff_matching_the_library(tmp_path, kind):
    d = tmp_path / "terrain"
    d.mkdir()
    src = {"tif": _write_tif, "hgt": _write_hgt, "sdf": _write_sdf}[kind](d)
    out = tmp_path / "out.tif"
    png = tmp_path / "out.png"
    r = CliRunner().invoke(cli, ["coverage", "--terrain", str(src if kind == "tif" else d), *ARGS,
                                 "-o", str(out), "--png", str(png)])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert png.stat().st_size > 10_000
    with rasterio.open(out) as ds:
        got = ds.read(1)
        tags = ds.tags()
        assert ds.crs.to_epsg() == 4326 and ds.profile["compress"] == "deflate"
    assert tags["model"] == "itm" and tags["mode"] == "fast" and tags["h_tx_m"] == "30.0"
    ref = path_loss_map(open_terrain(src if kind == "tif" else d), (41.5, 24.5), 3000.0,
                        h_tx_m=30.0, frequency_mhz=900.0)  # fmt: skip
    assert got.shape == ref.shape
    # integer terrain: the CLI's float32 window gives the library's float64 result bit for bit
    assert got.tobytes() == ref.values.tobytes()
    finite = got[np.isfinite(got)]
    assert finite.size > 1000 and np.all((finite > 60) & (finite < 300))


def test_refuses_overwrite_and_modes(tmp_path):
    src = _write_tif(tmp_path)
    out = tmp_path / "o.tif"
    runner = CliRunner()
    r = runner.invoke(
        cli, ["coverage", "--terrain", str(src), *ARGS, "-o", str(out), "--mode", "exact"]
    )
    assert r.exit_code == 0, r.output
    before = out.read_bytes()
    r = runner.invoke(cli, ["coverage", "--terrain", str(src), *ARGS, "-o", str(out)])
    assert r.exit_code == 2 and "--overwrite" in r.output
    assert out.read_bytes() == before
    r = runner.invoke(cli, ["coverage", "--terrain", str(src), *ARGS, "-o", str(out), "--overwrite",
                            "--model", "free-space"])  # fmt: skip
    assert r.exit_code == 0, r.output
    with rasterio.open(out) as ds:
        assert ds.tags()["model"] == "free-space"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dem.tif", "o.tif"]


def test_reverse_direction_matches_the_library(tmp_path):
    src = _write_tif(tmp_path)
    out = tmp_path / "rev.tif"
    r = CliRunner().invoke(cli, ["coverage", "--terrain", str(src), *ARGS, "-o", str(out),
                                 "--direction", "reverse", "--quiet"])  # fmt: skip
    assert r.exit_code == 0, r.output
    with rasterio.open(out) as ds:
        got = ds.read(1)
        assert ds.tags()["direction"] == "reverse"
    kw = dict(h_tx_m=30.0, frequency_mhz=900.0)
    ref = path_loss_map(open_terrain(src), (41.5, 24.5), 3000.0, direction="reverse", **kw)
    assert got.tobytes() == ref.values.tobytes()
    fwd = path_loss_map(open_terrain(src), (41.5, 24.5), 3000.0, **kw)
    assert not np.array_equal(got, fwd.values, equal_nan=True)


@pytest.mark.parametrize(
    "extra, needle",
    [
        (["--site", "abc"], "--site"),
        (["--direction", "up"], "--direction"),
        (["--radius-km", "-1"], "--radius-km"),
        (["--climate", "9"], "--climate"),
        (["--frequency-mhz", "5"], "--frequency-mhz"),
        (["--site", "10,10"], "--site"),
        (["--mode", "quick"], "--mode"),
        (["--mdvar", "99"], "--mdvar"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path, capsys, extra, needle):
    src = _write_tif(tmp_path)
    with pytest.raises(SystemExit) as ei:
        main(["coverage", "--terrain", str(src), *ARGS, *extra, "-o", str(tmp_path / "x.tif")])
    err = capsys.readouterr().err
    assert ei.value.code == 2
    # one error line (click's usage errors add the usage lines above it), no traceback
    last = err.strip().splitlines()[-1]
    assert last.startswith("Error") and needle in last, err
    assert "Traceback" not in err
    assert not (tmp_path / "x.tif").exists()


def test_subprocess_exit_code_and_no_traceback(tmp_path):
    src = _write_tif(tmp_path)
    p = subprocess.run(
        [sys.executable, "-m", "yalu.cli.main", "coverage", "--terrain", str(src), *ARGS,
         "--site", "95,24", "-o", str(tmp_path / "x.tif")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert p.returncode == 2
    assert "Traceback" not in p.stderr
    assert "--site" in p.stderr
    p = subprocess.run(
        [sys.executable, "-m", "yalu.cli.main", "coverage", "--terrain", str(tmp_path / "nope"),
         *ARGS, "-o", str(tmp_path / "x.tif")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert p.returncode == 2 and "Traceback" not in p.stderr


@pytest.mark.shared
def test_runs_on_the_shared_bench_sdf_tiles(tmp_path):
    if not BENCH_TAR.exists():
        pytest.skip(f"shared bench terrain not found at {BENCH_TAR}")
    import tarfile

    with tarfile.open(BENCH_TAR) as tf:
        tf.extractall(tmp_path / "sdf", filter="data")
    out = tmp_path / "bench.tif"
    r = CliRunner().invoke(cli, ["coverage", "--terrain", str(tmp_path / "sdf"), "--site",
                                 "41.418,24.178", "--height-m", "40", "--frequency-mhz", "900",
                                 "--radius-km", "10", "-o", str(out)])  # fmt: skip
    assert r.exit_code == 0, r.output
    with rasterio.open(out) as ds:
        v = ds.read(1)
    assert np.isfinite(v).sum() > 40_000


def test_blas_probe_block_is_lifted_after_the_command(tmp_path):
    """The CLI keeps numba from importing scipy.linalg at start-up; scipy must work afterwards."""
    src = _write_tif(tmp_path)
    out = tmp_path / "o.tif"
    code = (
        "import sys\n"
        "from yalu.cli.main import cli\n"
        f"cli.main({['coverage', '--terrain', str(src), *ARGS, '-o', str(out), '--quiet']!r}, "
        "standalone_mode=False)\n"
        "assert sys.modules.get('scipy.linalg.cython_blas', 0) is not None\n"
        "import scipy.linalg.cython_blas\n"
        "import scipy.linalg\n"
        "print('ok', scipy.linalg.solve([[2.0]], [4.0])[0])\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok 2.0"
    assert out.exists()


def test_optional_corrections_hata_and_itm(tmp_path):
    """--clutter, --indoor and --calibration add exactly the P.2108 / P.2109 / CAL.json terms."""
    import json

    from pyproj import Geod

    from yalu.propagation.p2108 import terrestrial_clutter_loss_db
    from yalu.propagation.p2109 import building_entry_loss_db

    src = _write_tif(tmp_path)
    cal = tmp_path / "CAL.json"
    cal.write_text(json.dumps({"format": "yalu-calibration/1", "model": "hata", "parameters": {
        "offset_db": -3.0, "slope_db_per_decade": 2.0, "class_offset_db": {}}}))  # fmt: skip
    base = ["coverage", "--terrain", str(src), *ARGS, "--model", "hata"]
    r = CliRunner().invoke(cli, [*base, "-o", str(tmp_path / "a.tif")])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, [*base, "-o", str(tmp_path / "b.tif"), "--clutter",
                                 "p2108-statistical", "--indoor", "thermally-efficient",
                                 "--calibration", str(cal)])  # fmt: skip
    assert r.exit_code == 0, r.output
    with rasterio.open(tmp_path / "a.tif") as ds:
        a = ds.read(1).astype(float)
        rows, cols = np.mgrid[0 : ds.height, 0 : ds.width]
        xs, ys = rasterio.transform.xy(ds.transform, rows.ravel(), cols.ravel())
    with rasterio.open(tmp_path / "b.tif") as ds:
        b = ds.read(1).astype(float)
        assert "P.2109" in ds.tags()["indoor"] and "calibration" in ds.tags()
    _, _, d = Geod(ellps="WGS84").inv(np.full(len(xs), 24.5), np.full(len(xs), 41.5), xs, ys)
    d_km = (np.asarray(d) / 1000).reshape(a.shape)
    ok = np.isfinite(a) & (d_km > 0.3)
    want = (
        -3.0 + 2.0 * np.log10(d_km[ok]) + terrestrial_clutter_loss_db(900.0, d_km[ok])
        + building_entry_loss_db(900.0, 50.0, "thermally-efficient")
    )  # fmt: skip
    np.testing.assert_allclose((b - a)[ok], want, atol=1e-3)
    # a calibration of another model is refused before any work
    r = CliRunner().invoke(cli, ["coverage", "--terrain", str(src), *ARGS, "-o",
                                 str(tmp_path / "c.tif"), "--calibration", str(cal)])  # fmt: skip
    assert r.exit_code == 2 and "a calibration of itm" in r.output
    assert not (tmp_path / "c.tif").exists()
    r = CliRunner().invoke(cli, [*base, "-o", str(tmp_path / "d.tif"), "--clutter",
                                 "p2108-statistical", "--frequency-mhz", "450"])  # fmt: skip
    assert r.exit_code == 2 and "--frequency-mhz" in r.output
