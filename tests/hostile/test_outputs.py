"""Outputs: checked before they replace anything, never overlapping inputs, claimed, cleaned up."""

from __future__ import annotations

import os
import signal
import stat
import time
from pathlib import Path

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from hostile_util import (
    dead_pid,
    one_line_error,
    popen_yalu,
    run_yalu,
    write_scenario,
    write_terrain,
)

from yalu.cli.main import cli
from yalu.errors import OutputError, OutputExistsError
from yalu.io.atomic import StaleOutputWarning, atomic_dir, atomic_output, check_writable
from yalu.io.raster import write_geotiff

COV = ["--site", "10.2,10.2", "--height-m", "30", "--frequency-mhz", "900", "--radius-km", "8",
       "--model", "free-space", "--quiet"]  # fmt: skip


def _tree(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------------------- full disk


def test_full_disk_geotiff_is_an_error_and_the_earlier_file_stays(tmp_path: Path) -> None:
    """libtiff's write error (EFBIG under RLIMIT_FSIZE, as ENOSPC on a full disk) must raise."""
    terr = write_terrain(tmp_path / "t.tif")
    out = tmp_path / "c.tif"
    good = CliRunner().invoke(cli, ["coverage", "--terrain", str(terr), *COV, "-o", str(out)])
    assert good.exit_code == 0, good.output
    before = out.read_bytes()
    r = run_yalu("coverage", "--terrain", str(terr), *COV, "--radius-km", "20", "-o", str(out),
                 "--overwrite", fsize=4_000)  # fmt: skip
    one_line_error(r, f"cannot write {out}")
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.tif", "t.tif"]


def test_write_geotiff_reads_back_before_renaming(tmp_path: Path) -> None:
    out = tmp_path / "m.tif"
    data = np.arange(300 * 300, dtype=np.float32).reshape(300, 300)
    write_geotiff(out, data, transform=(0.01, 0, 10, 0, -0.01, 11))
    with rasterio.open(out) as ds:
        assert np.array_equal(ds.read(1), data)
    # a verifier that rejects the content keeps the old file and leaves no temporary
    with pytest.raises(OutputError), atomic_output(out, overwrite=True, verify=_reject) as tmp:
        tmp.write_bytes(b"new")
    with rasterio.open(out) as ds:
        assert np.array_equal(ds.read(1), data)
    assert [p.name for p in tmp_path.iterdir()] == ["m.tif"]


def _reject(p: Path) -> None:
    raise OutputError(f"{p}: rejected")


def test_full_disk_tmpfs_run_itm_and_to_sdf(tmpfs, tmp_path: Path, scen: Path) -> None:  # type: ignore[no-untyped-def]
    disk = tmpfs("full", "256k")
    prev = disk / "prev"
    prev.mkdir()
    (prev / "summary.json").write_text('{"earlier": true}\n')
    (disk / "filler").write_bytes(b"\0" * (256 * 1024 - 24 * 1024))
    runner = CliRunner()
    r = runner.invoke(cli, ["run", str(scen), "-o", str(prev), "--overwrite"])
    one_line_error(r, f"cannot write {prev}")
    assert "No space left" in r.output
    assert _tree(prev) == {"summary.json": b'{"earlier": true}\n'}
    assert sorted(p.name for p in disk.iterdir()) == ["filler", "prev"]
    # itm run: the big input is elsewhere, the output on the full disk
    src = tmp_path / "in.jsonl"
    data = (Path(__file__).parents[1] / "data" / "itm_area_vectors.jsonl").read_text()
    src.write_text(data)
    r = runner.invoke(cli, ["itm", "run", str(src), "-o", str(disk / "o.jsonl")])
    one_line_error(r, "No space left")
    # to-sdf: a 3" tile is ~7 MB: refused up front from the free space, no traceback
    r = runner.invoke(cli, ["terrain", "to-sdf", str(scen.parent / "flat.tif"), "--bbox",
                            "10.1,10.1,10.2,10.2", "-o", str(disk / "sdf"), "--missing",
                            "sea-level"])  # fmt: skip
    one_line_error(r, "free")
    assert sorted(p.name for p in disk.iterdir()) == ["filler", "prev"]


# ---------------------------------------------------------------------- outputs vs inputs


def test_outputs_never_overwrite_inputs(tmp_path: Path, scen: Path) -> None:
    runner = CliRunner()
    terr = scen.parent / "flat.tif"
    before = terr.read_bytes()
    r = runner.invoke(cli, ["coverage", "--terrain", str(terr), *COV, "-o", str(terr),
                            "--overwrite"])  # fmt: skip
    one_line_error(r, "is the input")
    r = runner.invoke(cli, ["profile", "10.1,10.1", "10.3,10.3", "--terrain", str(terr),
                            "-o", str(terr), "--overwrite"])  # fmt: skip
    one_line_error(r, "is the input")
    assert terr.read_bytes() == before
    # a scenario folder holding the scenario and an unrelated file
    (scen.parent / "notes.txt").write_text("mine")
    r = runner.invoke(cli, ["run", str(scen), "-o", str(scen.parent), "--overwrite"])
    one_line_error(r, "contains the input")
    assert (scen.parent / "notes.txt").read_text() == "mine" and scen.is_file()
    # the terrain file of the scenario is an input too (click refuses a file as OUTDIR first)
    r = runner.invoke(cli, ["run", str(scen), "-o", str(terr), "--overwrite"])
    one_line_error(r, "is a file")
    assert terr.read_bytes() == before
    # tiles: to-sdf onto its own source, and into it
    tiles = tmp_path / "tiles"
    tiles.mkdir()
    write_terrain(tiles / "dem.tif")
    for target, rel in ((tiles, "is the input"), (tiles / "sdf", "is inside the input")):
        r = runner.invoke(cli, ["terrain", "to-sdf", str(tiles), "--bbox", "10.1,10.1,10.2,10.2",
                                "-o", str(target), "--overwrite",
                                "--missing", "sea-level"])  # fmt: skip
        one_line_error(r, rel)
    assert [p.name for p in tiles.iterdir()] == ["dem.tif"]
    src = tmp_path / "in.jsonl"
    src.write_text("")
    r = runner.invoke(cli, ["itm", "run", str(src), "-o", str(src), "--overwrite"])
    one_line_error(r, "is the input")


def test_targets_that_can_never_be_written(tmp_path: Path, scen: Path) -> None:
    runner = CliRunner()
    terr = scen.parent / "flat.tif"
    # a character device stays a device
    r = runner.invoke(cli, ["coverage", "--terrain", str(terr), *COV, "-o", "/dev/null",
                            "--overwrite"])  # fmt: skip
    one_line_error(r, "character device")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    # '.' and the current directory
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        r = runner.invoke(cli, ["run", str(scen), "-o", ".", "--overwrite"])
        one_line_error(r, "'.'")
        r = runner.invoke(cli, ["run", str(scen), "-o", str(tmp_path), "--overwrite"])
        one_line_error(r, "current directory")
    finally:
        os.chdir(cwd)
    # an existing directory where a file is asked
    d = tmp_path / "adir"
    d.mkdir()
    r = runner.invoke(cli, ["coverage", "--terrain", str(terr), *COV, "-o", str(d), "--overwrite"])
    one_line_error(r, "is a directory")
    # a mount point (every Linux has /proc mounted)
    if os.path.ismount("/proc"):
        with pytest.raises(OutputError, match="mount point"):
            check_writable("/proc", overwrite=True, kind="dir")
    # a dangling symlink is an existing output
    link = tmp_path / "c.tif"
    link.symlink_to(tmp_path / "nowhere")
    r = runner.invoke(cli, ["coverage", "--terrain", str(terr), *COV, "-o", str(link)])
    one_line_error(r, "--overwrite")
    assert link.is_symlink()


def test_unwritable_target_detected_before_computing(tmp_path: Path, scen: Path, tmpfs) -> None:  # type: ignore[no-untyped-def]
    ro = tmpfs("ro", "64k", ro=True)
    r = CliRunner().invoke(cli, ["run", str(scen), "-o", str(ro / "out")])
    one_line_error(r, "Read-only file system")
    assert "path loss maps" not in r.output  # refused before any work


def test_unwritable_directory_without_root(tmp_path: Path, scen: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes into mode-555 directories; the read-only tmpfs test covers it")
    d = tmp_path / "locked"
    d.mkdir(mode=0o555)
    r = CliRunner().invoke(cli, ["run", str(scen), "-o", str(d / "out")])
    one_line_error(r, "not writable")


# ------------------------------------------------------------------- claims, signals, stale


def test_two_concurrent_runs_into_one_outdir(tmp_path: Path, scen: Path) -> None:
    out = tmp_path / "out"
    # ITM on a fine grid: a first run that lasts seconds (it is terminated once checked)
    slow = scen.read_text().replace("resolution_arcsec: 60", "resolution_arcsec: 15")
    scen.write_text(slow.replace("model: free_space", "model: itm"))
    first = popen_yalu("run", str(scen), "-o", str(out))
    # wait until the first run holds its claim (its lock file exists), then start the second
    lock = tmp_path / ".out.lock"
    deadline = time.time() + 30
    while not lock.exists() and first.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    try:
        assert first.poll() is None, first.communicate()
        second = CliRunner().invoke(cli, ["run", str(scen), "-o", str(out)])
        one_line_error(second, f"being written by another yalu process (pid {first.pid})")
        assert "path loss maps" not in second.output  # at once, before any work
        assert first.poll() is None  # while the first one still runs
    finally:
        first.terminate()
        first.communicate(timeout=60)
    assert first.returncode == 128 + signal.SIGTERM
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sc"]  # the claim went with it


def test_final_rename_never_replaces_an_output_that_appeared(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(OutputExistsError), atomic_dir(out) as tmp:
        (tmp / "mine.txt").write_text("second")
        out.mkdir()  # another writer (not yalu, so unclaimed) finished first
        (out / "theirs.txt").write_text("first")
    assert _tree(out) == {"theirs.txt": b"first"}
    f = tmp_path / "f.txt"
    with pytest.raises(OutputExistsError), atomic_output(f) as tmp:
        tmp.write_text("second")
        f.write_text("first")
    assert f.read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt", "out"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_leave_nothing(tmp_path: Path, scen: Path, sig: int) -> None:
    out = tmp_path / "out"
    p = popen_yalu("run", str(scen), "-o", str(out))
    assert p.stderr is not None
    for line in p.stderr:  # wait until the computation is under way
        if "path loss maps" in line:
            break
    p.send_signal(sig)
    _o, err = p.communicate(timeout=60)
    assert p.returncode == 128 + sig, err
    assert "Traceback" not in err
    assert sorted(x.name for x in tmp_path.iterdir()) == ["sc"]


def test_stale_part_and_old_from_dead_processes(tmp_path: Path) -> None:
    pid = dead_pid()
    out = tmp_path / "out"
    part = tmp_path / f".out.{pid}.abcd1234.part"
    part.mkdir()
    (part / "half.tif").write_bytes(b"half")
    old = tmp_path / f".out.{pid}.efgh5678.old"
    old.mkdir()
    (old / "summary.json").write_text("previous")
    live = tmp_path / f".out.{os.getppid()}.ijkl9012.part"  # a live process: kept
    live.mkdir()
    # the killed process had moved the previous output aside: it is put back first
    with pytest.warns(StaleOutputWarning) as rec:
        with pytest.raises(OutputExistsError), atomic_dir(out):
            pass
    msgs = " ".join(str(w.message) for w in rec)
    assert "restored" in msgs and "removed" in msgs
    assert (out / "summary.json").read_text() == "previous"
    assert not part.exists() and not old.exists() and live.exists()
    # files: a stale .part beside a file output is removed on the next write
    f = tmp_path / "c.tif"
    stale = tmp_path / f".c.tif.{pid}.zz.part"
    stale.write_bytes(b"x")
    with pytest.warns(StaleOutputWarning), atomic_output(f) as tmp:
        tmp.write_bytes(b"new")
    assert f.read_bytes() == b"new" and not stale.exists()


def test_leftovers_of_a_killed_run_are_cleaned_by_the_next_run(tmp_path: Path, scen: Path) -> None:
    # what a SIGKILL during the output phase leaves: the process is gone, its .part stays
    part = tmp_path / f".out.{dead_pid()}.x1y2z3.part"
    part.mkdir()
    (part / "summary.json").write_text("{")
    r = CliRunner().invoke(cli, ["run", str(scen), "-o", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    assert f"warning: removed {part}, left by yalu process" in r.output
    assert sorted(x.name for x in tmp_path.iterdir()) == ["out", "sc"]


def test_long_names_do_not_break_outputs(tmp_path: Path) -> None:
    d = tmp_path / "sc"
    long_variant = "v" * 100  # the longest allowed
    sc = write_scenario(d, variants=[long_variant])
    text = sc.read_text().replace("name: tiny", "name: " + "N" * 200)
    sc.write_text(text.replace("png: false", "png: true"))  # the name is in every map title
    r = CliRunner().invoke(cli, ["run", str(sc), "-o", str(tmp_path / ("o" * 200))])
    assert r.exit_code == 0, r.output
    res = tmp_path / ("o" * 200)
    assert (res / "rasters" / long_variant / "service_level.tif").is_file()
    assert (res / "maps" / f"{long_variant}_service_level.png").stat().st_size > 1000
