"""``yalu profile``: CSV on stdout, optional PNG, demo-terrain labelling, bad input."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from yalu.cli.main import cli, main
from yalu.geodesy import earth_bulge_m, geodesic_inverse
from yalu.propagation.free_space import fresnel_radius_m


def field(lat, lon):  # type: ignore[no-untyped-def]
    return 100.0 + 3600.0 * (np.asarray(lat) - 40.0) + 3600.0 * (np.asarray(lon) - 123.0)


@pytest.fixture
def terrain_dir(tmp_path: Path) -> Path:
    d = tmp_path / "hgt"
    d.mkdir()
    i = np.arange(1201)
    for w in (124, 125):
        z = np.rint(field((42 - i / 1200)[:, None], (w + i / 1200)[None, :])).astype(">i2")
        (d / f"N41E{w}.hgt").write_bytes(z.tobytes())
    return d


def _csv(text: str) -> tuple[list[str], np.ndarray]:
    comments = [ln for ln in text.splitlines() if ln.startswith("#")]
    body = "\n".join(ln for ln in text.splitlines() if not ln.startswith("#"))
    data = np.genfromtxt(io.StringIO(body), delimiter=",", names=True)
    return comments, data


def test_profile_csv_matches_terrain(terrain_dir: Path) -> None:
    r = CliRunner().invoke(
        cli,
        ["profile", "41.2,124.3", "41.7,125.6", "--terrain", str(terrain_dir), "--step-m", "250"],
    )
    assert r.exit_code == 0, r.output
    comments, data = _csv(r.stdout)
    assert "SRTM .hgt 3 arc-second" in comments[0]
    assert data.dtype.names == ("distance_m", "lat_deg", "lon_deg", "elevation_m")
    length = float(geodesic_inverse(41.2, 124.3, 41.7, 125.6)[0])
    n = round(length / 250)
    assert data.size == n + 1
    assert data["distance_m"][-1] == pytest.approx(length, abs=1e-3)
    np.testing.assert_allclose(
        data["elevation_m"], field(data["lat_deg"], data["lon_deg"]), atol=0.006
    )
    assert "demo" not in r.output


def test_profile_default_terrain_says_demo(tmp_path: Path) -> None:
    r = CliRunner().invoke(cli, ["profile", "40.1,124.4", "40.3,124.8", "--step-m", "1000"])
    assert r.exit_code == 0, r.output
    assert "coarse 5' demo terrain" in r.stdout.splitlines()[0]
    assert "demo terrain" in r.stderr


def test_profile_png_and_overwrite(terrain_dir: Path, tmp_path: Path) -> None:
    png = tmp_path / "p.png"
    args = [
        "profile",
        "41.2,124.3",
        "41.25,124.4",
        "--terrain",
        str(terrain_dir),
        "--png",
        str(png),
        "--frequency-mhz",
        "900",
        "--h-tx-m",
        "40",
        "-o",
        str(tmp_path / "p.csv"),
    ]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 0, r.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Fresnel" in r.stderr
    assert (tmp_path / "p.csv").read_text().count("\n") > 10
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 2 and "--overwrite" in r.output
    assert CliRunner().invoke(cli, [*args, "--overwrite"]).exit_code == 0


def test_bulge_and_fresnel_formulas() -> None:
    # 4/3 earth, 50 km path: bulge at mid-path = 25e3 * 25e3 / (2 * 4/3 * 6371e3) = 36.8 m
    assert float(earth_bulge_m(np.array(25e3), 25e3)) == pytest.approx(36.79, abs=0.01)
    # ITU-R P.530: F1 = 17.3 sqrt(d1 d2 / (f d)) [m, km, GHz]; 900 MHz, 10 km, mid-path: 28.8 m
    assert float(fresnel_radius_m(np.array(5e3), 5e3, 900.0)) == pytest.approx(
        17.32 * np.sqrt(5 * 5 / (0.9 * 10)), rel=1e-3
    )


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["95,124", "41,125"], ["START", "95,124", "-90 to 90"]),
        (["41,124", "41,400"], ["END", "41,400", "-180 to 360"]),
        (["41;124", "41,125"], ["START", "LAT,LON"]),
        (["-91,124", "41,125"], ["START", "-91,124", "-90 to 90"]),
        (["41,124", "41,125", "--step-m", "0"], ["--step-m", "0", "> 0"]),
        (["41,124", "41,125", "--step-m", "-5"], ["--step-m", "-5", "> 0"]),
        (["41,124", "41,125", "--frequency-mhz", "0"], ["--frequency-mhz", "> 0"]),
    ],
)
def test_profile_bad_input_one_line_exit_2(
    args: list[str], needles: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as ei:
        main(["profile", *args])
    err = capsys.readouterr().err
    assert ei.value.code == 2
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err
    for n in needles:
        assert n in lines[0], (n, lines[0])


def test_profile_corrupt_terrain_and_missing_tile(
    tmp_path: Path, terrain_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"II*\x00broken")
    with pytest.raises(SystemExit) as ei:
        main(["profile", "41.2,124.3", "41.3,124.4", "--terrain", str(bad)])
    err = capsys.readouterr().err
    assert ei.value.code == 2 and len(err.strip().splitlines()) == 1 and "bad.tif" in err
    with pytest.raises(SystemExit) as ei:
        main(["profile", "41.2,124.3", "40.8,124.4", "--terrain", str(terrain_dir)])
    err = capsys.readouterr().err
    assert ei.value.code == 2 and "N40E124.hgt" in err and len(err.strip().splitlines()) == 1
    r = CliRunner().invoke(
        cli,
        [
            "profile",
            "41.2,124.3",
            "40.8,124.4",
            "--terrain",
            str(terrain_dir),
            "--missing",
            "sea-level",
        ],
    )
    assert r.exit_code == 0


def test_profile_subprocess(terrain_dir: Path) -> None:
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "yalu.cli.main",
            "profile",
            "41.5,124.5",
            "41.5,124.6",
            "--step-m",
            "-1",
            "--terrain",
            str(terrain_dir),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 2 and "--step-m" in p.stderr and "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "yalu.cli.main",
            "profile",
            "41.5,124.5",
            "41.5,124.6",
            "--terrain",
            str(terrain_dir),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0 and p.stdout.count("\n") > 50
