"""Values: invalid terrain, per-case ITM errors, unsafe names, stated clamping,
degenerate requests."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from hostile_util import one_line_error, write_scenario, write_terrain

from yalu.cli.main import cli
from yalu.errors import InputError, ScenarioError, TerrainFormatError, YaluWarning
from yalu.scenario import load_scenario
from yalu.terrain import VoidFillWarning, open_terrain

DATA = Path(__file__).parents[1] / "data"


# ----------------------------------------------------------------------------------- terrain


@pytest.mark.parametrize("bad", [np.inf, -np.inf, 1e30, 12_001.0, -20_000.0])
def test_impossible_elevations_are_voids_with_a_warning(tmp_path: Path, bad: float) -> None:
    z = np.full((41, 41), 100.0, np.float32)
    z[10:13, 10:13] = bad
    t = open_terrain(write_terrain(tmp_path / "t.tif", z))
    with pytest.warns(VoidFillWarning, match=r"9 nodes with elevations beyond \+-12000 m"):
        got = t.elevation_m(10.4 - 11 * 30 / 3600, 10.0 + 11 * 30 / 3600)
    assert got == pytest.approx(100.0)  # filled from the neighbours, not inf, not NaN
    assert t.void_counts()  # counted by terrain info as voids
    assert sum(t.void_counts().values()) == 9


def test_whole_map_of_infinities_is_not_silently_nan(tmp_path: Path) -> None:
    z = np.full((41, 41), np.inf, np.float32)
    terr = write_terrain(tmp_path / "t.tif", z)
    r = CliRunner().invoke(cli, ["coverage", "--terrain", str(terr), "--site", "10.2,10.2",
                                 "--height-m", "30", "--frequency-mhz", "900", "--radius-km", "5",
                                 "-o", str(tmp_path / "c.tif"), "--quiet"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "treated as voids" in r.output and "all 1681 nodes are voids; set to 0 m" in r.output
    with rasterio.open(tmp_path / "c.tif") as ds:
        assert np.isfinite(ds.read(1)).any()


def test_non_numeric_ascii_cell_is_an_error_naming_the_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.asc"
    p.write_text("ncols 3\nnrows 3\nxllcorner 10\nyllcorner 10\ncellsize 0.01\n"
                 "1 2 3\n4 abc 6\n7 8 9\n")  # fmt: skip
    with pytest.raises(TerrainFormatError, match=r"bad.asc: line 7: non-numeric value"):
        open_terrain(p)
    good = tmp_path / "good.asc"
    good.write_text("ncols 3\nnrows 3\nxllcorner 10\nyllcorner 10\ncellsize 0.01\n"
                    "1 2 3\n4 -5.5e1 6\n7 8 9\n")  # fmt: skip
    t = open_terrain(good)
    assert t.elevation_m(10.015, 10.015) == pytest.approx(-55.0)


def test_sdf_value_overflowing_int64_is_an_error(tmp_path: Path) -> None:
    vals = ["100"] * (1200 * 1200)
    vals[5] = "9" * 23  # int64 arithmetic would wrap it to a plausible-looking number
    p = tmp_path / "10:11:349:350.sdf"
    p.write_text("350\n10\n349\n11\n" + "\n".join(vals) + "\n")
    with pytest.raises(TerrainFormatError, match="at most 15 digits"):
        open_terrain(tmp_path).elevation_m(10.5, 10.5)


def test_unreadable_tile_subdirectory_is_an_error() -> None:
    # root reads everything: check as an unprivileged user, as a normal user runs it, in a
    # directory that user may enter
    base = Path(tempfile.mkdtemp(prefix="yalu-hostile-"))
    try:
        os.chmod(base, 0o755)
        root = base / "tiles"
        (root / "N10").mkdir(parents=True)
        (root / "locked").mkdir()
        write_terrain(root / "N10" / "dem.tif")
        os.chmod(root / "locked", 0)
        code = (
            "import sys\n"
            "from yalu.terrain import open_terrain\n"
            "from yalu.errors import TerrainFormatError\n"
            "try:\n    open_terrain(sys.argv[1])\n"
            "except TerrainFormatError as e:\n    print('ERR', e)\n"
        )
        pre = None
        if os.geteuid() == 0:
            pre = lambda: os.setuid(65534)  # noqa: E731
            try:
                usable = subprocess.run([sys.executable, "-c", "import yalu"], preexec_fn=pre,
                                        capture_output=True).returncode == 0  # fmt: skip
            except PermissionError:
                usable = False
            if not usable:
                pytest.skip("running as root, and this Python is not usable by user 'nobody'")
        r = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True,
                           text=True, preexec_fn=pre, timeout=60)  # fmt: skip
        assert "ERR" in r.stdout and "locked: unreadable directory" in r.stdout, r.stdout + r.stderr
    finally:
        os.chmod(base / "tiles" / "locked", 0o755)
        shutil.rmtree(base)


def test_terrain_info_of_the_root_is_one_line() -> None:
    r = CliRunner().invoke(cli, ["terrain", "info", "/"])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert r.output.startswith("Error:") and len(r.output.strip().splitlines()) == 1


def test_garbage_census_and_truncated_population_raster(tmp_path: Path) -> None:
    from yalu.analysis.reach import census_table  # noqa: PLC0415

    g = tmp_path / "census.csv"
    g.write_text("hello,world\n1,2\nfoo,bar\n")
    with pytest.raises(InputError, match="a census table needs"):
        census_table(g)
    g.write_text("province,geonames_admin1,population\nTotal,,100\n")
    with pytest.raises(InputError, match="no province rows"):
        census_table(g)
    # a truncated population raster in a run: one line
    d = tmp_path / "sc"
    sc = write_scenario(d)
    z = np.random.default_rng(1).random((400, 400)).astype(np.float32)
    with rasterio.open(
        d / "pop.tif", "w", driver="GTiff", height=400, width=400, count=1, dtype="float32",
        crs="EPSG:4326", transform=rasterio.transform.from_origin(10.0, 10.4, 0.001, 0.001),
        compress="deflate", tiled=True, blockxsize=256, blockysize=256,
    ) as dst:  # fmt: skip
        dst.write(z, 1)
    raw = (d / "pop.tif").read_bytes()
    (d / "pop.tif").write_bytes(raw[: len(raw) // 2])
    sc.write_text(sc.read_text().replace("census: null", "census: null, raster: pop.tif"))
    r = CliRunner().invoke(cli, ["run", str(sc), "-o", str(tmp_path / "out")])
    one_line_error(r, "pop.tif: cannot read population raster")


# ---------------------------------------------------------------------------------- itm run


def test_itm_per_case_errors_never_abort_the_batch(tmp_path: Path) -> None:
    good = json.loads((DATA / "itm_p2p_subset.jsonl").read_text().splitlines()[0])
    pfl_step_huge = list(good["pfl"])
    pfl_step_huge[1] = 1e300
    pfl_zero = list(good["pfl"])
    pfl_zero[1] = 0
    lines = [
        json.dumps(good),
        json.dumps(good).replace('"h_tx_m": ', '"h_tx_m": ' + "9" * 5000 + ', "was": ', 1),
        json.dumps(dict(good, climate=1e300)),
        json.dumps(dict(good, pfl=pfl_step_huge)),
        json.dumps(dict(good, pfl=pfl_zero)),
        json.dumps(dict(good, pfl="abc")),
        json.dumps(dict(good, h_tx_m=10**400)),
        json.dumps(dict(good, f_MHz=1e308, N_0=-1e308)),
        '{"deep": ' + "[" * 50_000 + "]" * 50_000 + "}",
        json.dumps(good),
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.jsonl"
    r = CliRunner().invoke(cli, ["itm", "run", str(src), "-o", str(out)])
    assert r.exit_code == 0, r.output
    recs = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(recs) == len(lines)
    got = [(x["computed"]["rtn"], x["computed"].get("error")) for x in recs]
    exp_rtn = good["expected"]["rtn"]
    assert got[0] == (exp_rtn, None) and got[-1] == (exp_rtn, None)
    assert got[1] == (None, "line 2: not valid JSON (a number with too many digits)")
    assert got[2] == (1002, None)  # climate out of range: ITM's own code
    assert got[3] == (1100, None) and got[4] == (1100, None)  # unusable profile step
    assert got[5] == (None, "line 6: pfl = 'abc': must be a list of numbers [n, step_m, z0 ... zn]")
    assert got[6] == (1000, None)  # an infinite antenna height: ITM's code for h_tx_m
    assert got[7][0] is not None and got[7][0] >= 1000  # refused by ITM's range checks
    assert got[8] == (None, "line 9: not valid JSON (nested too deeply)")
    assert recs[0]["computed"]["A_db"] == pytest.approx(good["expected"]["A_db"], abs=1e-3)
    assert "3 malformed" in r.output


# ------------------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("name", "why"),
    [(".", "not '.' or '..'"), ("..", "not '.' or '..'"), ("v" * 101, "at most 100 characters"),
     ("a/b", "only letters")],
)  # fmt: skip
def test_unsafe_variant_names_are_refused(tmp_path: Path, name: str, why: str) -> None:
    sc = write_scenario(tmp_path / "sc", variants=[f"'{name}'"])
    with pytest.raises(ScenarioError, match=why):
        load_scenario(sc)


def test_huge_scenario_name_is_refused_in_one_short_line(tmp_path: Path) -> None:
    sc = write_scenario(tmp_path / "sc")
    sc.write_text(sc.read_text().replace("name: tiny", "name: " + "N" * 2_000_000))
    r = CliRunner().invoke(cli, ["validate", str(sc)])
    line = one_line_error(r, "must have at most 200 characters")
    assert len(line) < 300


def test_tiny_max_distance_is_a_range_error(tmp_path: Path) -> None:
    sc = write_scenario(tmp_path / "sc", max_distance_km="1e-300")
    r = CliRunner().invoke(cli, ["validate", str(sc)])
    one_line_error(r, "max_distance_km = '1e-300': must be >= 0.1")


# ---------------------------------------------------------------------- threads and profile


def test_threads_beyond_the_cores_are_stated_and_zero_refused(tmp_path: Path) -> None:
    import numba  # noqa: PLC0415

    from yalu.coverage.engine import numba_threads  # noqa: PLC0415

    n_max = int(numba.config.NUMBA_NUM_THREADS)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        with numba_threads(1000):
            assert numba.get_num_threads() == n_max
    assert any(issubclass(w.category, YaluWarning) and f"using {n_max}" in str(w.message)
               for w in rec)  # fmt: skip
    terr = write_terrain(tmp_path / "t.tif")
    r = CliRunner().invoke(cli, ["coverage", "--terrain", str(terr), "--site", "10.2,10.2",
                                 "--height-m", "30", "--frequency-mhz", "900", "--radius-km", "5",
                                 "--model", "free-space", "-o", str(tmp_path / "c.tif"),
                                 "--threads", "0"])  # fmt: skip
    one_line_error(r, "threads = 0: must be an integer from 1")


def test_profile_between_identical_points_is_refused(tmp_path: Path) -> None:
    terr = write_terrain(tmp_path / "t.tif")
    r = CliRunner().invoke(cli, ["profile", "10.2,10.2", "10.2,10.2", "--terrain", str(terr)])
    one_line_error(r, "END = '10.2,10.2': must be a point other than START")
