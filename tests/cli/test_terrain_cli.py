"""``yalu terrain info | to-sdf | fetch`` on files and a loopback server the tests create."""

from __future__ import annotations

import gzip
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from yalu.cli.main import cli, main
from yalu.terrain import open_terrain


def field(lat, lon):  # type: ignore[no-untyped-def]
    return 100.0 + 3600.0 * (np.asarray(lat) - 40.0) + 3600.0 * (np.asarray(lon) - 123.0)


def write_hgt(d: Path, s: int, w: int, void: tuple[int, int] | None = None) -> Path:
    i = np.arange(1201)
    z = np.rint(field((s + 1 - i / 1200)[:, None], (w + i / 1200)[None, :])).astype(">i2")
    if void is not None:
        z[void] = -32768
    p = d / f"N{s:02d}E{w:03d}.hgt"
    p.write_bytes(z.tobytes())
    return p


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as ei:
        main(args)
    out, err = capsys.readouterr()
    return int(ei.value.code or 0), out, err


def one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for n in needles:
        assert n in lines[0], (n, lines[0])


def test_info_reports_bounds_resolution_voids_tiles(tmp_path: Path) -> None:
    write_hgt(tmp_path, 41, 124, void=(300, 400))
    write_hgt(tmp_path, 41, 125)
    r = CliRunner().invoke(cli, ["terrain", "info", str(tmp_path)])
    assert r.exit_code == 0, r.output
    out = r.output
    assert "SRTM .hgt 3 arc-second, 2 tiles" in out
    assert "attribution: SRTM, NASA/USGS (public domain)" in out
    assert "bounds: 41 to 42 N, 124 to 126 E" in out
    assert 'resolution: 3" x 3"' in out and "92." in out
    assert "nodata: -32768" in out
    assert "voids: 1 nodes in 1 of 2 tile(s)" in out and "N41E124.hgt: 1" in out
    assert "tiles: 2" in out and "N41E125.hgt" in out


def test_info_bad_inputs_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(["terrain", "info", str(tmp_path / "nope")], capsys)
    one_line_error(code, err, "source", "nope", "existing terrain file or directory")
    (tmp_path / "N41E124.hgt").write_bytes(b"\x01" * 999)
    code, _, err = run_main(["terrain", "info", str(tmp_path)], capsys)
    one_line_error(code, err, "N41E124.hgt", "999 bytes", "not an SRTM tile")


def test_to_sdf_round_trip_and_overwrite(tmp_path: Path) -> None:
    src = tmp_path / "hgt"
    src.mkdir()
    write_hgt(src, 41, 124)
    write_hgt(src, 41, 125)
    out = tmp_path / "sdf"
    r = CliRunner().invoke(
        cli, ["terrain", "to-sdf", str(src), "--bbox", "41.2,124.2,41.8,125.5", "-o", str(out)]
    )
    assert r.exit_code == 0, r.output
    names = sorted(p.name for p in out.iterdir())
    assert names == ["41:42:234:235.sdf", "41:42:235:236.sdf"]
    sdf = open_terrain(out)
    assert sdf.description == "SPLAT! SDF 3 arc-second, 2 tiles"
    win = sdf.read_window(41.0, 124.0, 42 - 1 / 1200, 126 - 1 / 1200)
    lat, lon = np.meshgrid(win.lat_deg, win.lon_deg, indexing="ij")
    np.testing.assert_allclose(win.grid_m, np.rint(field(lat, lon)), atol=1e-6)
    # the output exists: refused without --overwrite, replaced with it
    r = CliRunner().invoke(
        cli, ["terrain", "to-sdf", str(src), "--bbox", "41.2,124.2,41.8,124.5", "-o", str(out)]
    )
    assert r.exit_code == 2 and "--overwrite" in r.output
    r = CliRunner().invoke(
        cli,
        [
            "terrain",
            "to-sdf",
            str(src),
            "--bbox",
            "41.2,124.2,41.8,124.5",
            "-o",
            str(out),
            "--overwrite",
        ],
    )
    assert r.exit_code == 0, r.output
    assert [p.name for p in out.iterdir()] == ["41:42:235:236.sdf"]


@pytest.mark.skipif(shutil.which("splat") is None, reason="SPLAT! (splat) is not installed")
def test_splat_reads_the_sdf_we_write(tmp_path: Path) -> None:
    src = tmp_path / "hgt"
    src.mkdir()
    write_hgt(src, 41, 124)
    out = tmp_path / "sdf"
    r = CliRunner().invoke(
        cli, ["terrain", "to-sdf", str(src), "--bbox", "41,124,42,125", "-o", str(out)]
    )
    assert r.exit_code == 0, r.output
    work = tmp_path / "splat"
    work.mkdir()
    # SPLAT! wants west longitudes; these sites sit on SDF nodes
    (work / "tx.qth").write_text("tx\n41.5\n-124.5\n10m\n")
    (work / "rx.qth").write_text("rx\n41.6125\n-124.7325\n2m\n")
    subprocess.run(
        ["splat", "-t", "tx.qth", "-r", "rx.qth", "-d", str(out), "-metric"],
        cwd=work,
        check=True,
        capture_output=True,
        timeout=120,
    )
    report = (work / "tx-to-rx.txt").read_text(errors="replace")
    elev = [
        float(line.split(":")[1].split()[0])
        for line in report.splitlines()
        if line.startswith("Ground elevation")
    ]
    assert elev == [
        pytest.approx(float(field(41.5, 124.5))),
        pytest.approx(float(field(41.6125, 124.7325))),
    ]


def test_bbox_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_hgt(tmp_path, 41, 124)
    code, _, err = run_main(
        ["terrain", "to-sdf", str(tmp_path), "--bbox", "42,124,41,125", "-o", str(tmp_path / "o")],
        capsys,
    )
    one_line_error(code, err, "--bbox", "S <= N")
    code, _, err = run_main(
        ["terrain", "fetch", "--bbox", "41,124,42", "--cache", str(tmp_path / "c")], capsys
    )
    one_line_error(code, err, "--bbox", "S,W,N,E")
    code, _, err = run_main(
        ["terrain", "fetch", "--bbox", "41,124,95,125", "--cache", str(tmp_path / "c")], capsys
    )
    one_line_error(code, err, "--bbox north", "95", "-90 to 90")


def _serve(files: dict[str, bytes]):  # type: ignore[no-untyped-def]
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):  # type: ignore[no-untyped-def]
            pass

        def do_GET(self) -> None:  # noqa: N802
            body = files.get(self.path.lstrip("/"))
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def test_fetch_cli_with_loopback_server(tmp_path: Path) -> None:
    i = np.arange(1201)
    z = np.rint(field((42 - i / 1200)[:, None], (124 + i / 1200)[None, :])).astype(">i2")
    httpd = _serve({"N41/N41E124.hgt.gz": gzip.compress(z.tobytes(), compresslevel=1)})
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        cache = tmp_path / "cache"
        args = [
            "terrain",
            "fetch",
            "--bbox",
            "41.5,124.5,41.6,125.5",
            "--source",
            "srtm-skadi",
            "--cache",
            str(cache),
            "--base-url",
            url,
        ]
        r = CliRunner().invoke(cli, args)
        assert r.exit_code == 0, r.output
        assert "1 downloaded" in r.output and "1 absent" in r.output
        r = CliRunner().invoke(cli, args)
        assert "0 downloaded" in r.output and "1 reused" in r.output
    finally:
        httpd.shutdown()
        httpd.server_close()
    t = open_terrain(cache)
    assert float(t.elevation_m(41.55, 124.55)) == pytest.approx(float(field(41.55, 124.55)))


def test_subprocess_exit_code_and_verbose_traceback(tmp_path: Path) -> None:
    env = dict(os.environ)
    cmd = [
        sys.executable,
        "-m",
        "yalu.cli.main",
        "terrain",
        "to-sdf",
        str(tmp_path),
        "--bbox",
        "42,1,41,2",
        "-o",
        str(tmp_path / "o"),
    ]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 2
    assert (
        p.stderr.strip().count("\n") == 0 and "--bbox" in p.stderr and "Traceback" not in p.stderr
    )
    p = subprocess.run(
        [*cmd[:3], "-v", *cmd[3:]], capture_output=True, text=True, env=env, timeout=120
    )
    assert p.returncode == 2 and "Traceback" in p.stderr


@pytest.mark.skipif(shutil.which("splat") is None, reason="SPLAT! (splat) is not installed")
def test_splat_finds_the_tile_east_of_greenwich(tmp_path: Path) -> None:
    src = tmp_path / "hgt"
    src.mkdir()
    (src / "N41E000.hgt").write_bytes(np.full((1201, 1201), 123, dtype=">i2").tobytes())
    out = tmp_path / "sdf"
    r = CliRunner().invoke(
        cli, ["terrain", "to-sdf", str(src), "--bbox", "41,0,42,1", "-o", str(out)]
    )
    assert r.exit_code == 0, r.output
    assert [p.name for p in out.iterdir()] == ["41:42:359:0.sdf"]
    work = tmp_path / "splat"
    work.mkdir()
    (work / "tx.qth").write_text("tx\n41.5\n-0.5\n10m\n")  # 0.5 E
    (work / "rx.qth").write_text("rx\n41.6\n-0.7\n2m\n")
    p = subprocess.run(
        ["splat", "-t", "tx.qth", "-r", "rx.qth", "-d", str(out), "-metric"],
        cwd=work,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "sea-level" not in p.stdout  # SPLAT! found and loaded the tile
    report = (work / "tx-to-rx.txt").read_text(errors="replace")
    assert report.count("Ground elevation: 123.00 meters") == 2


def test_to_sdf_hd_from_3arcsec(tmp_path: Path) -> None:
    src = tmp_path / "hgt"
    src.mkdir()
    write_hgt(src, 41, 124)
    out = tmp_path / "sdf-hd"
    args = [
        "terrain",
        "to-sdf",
        str(src),
        "--bbox",
        "41.2,124.2,41.3,124.3",
        "-o",
        str(out),
        "--resolution",
        "1",
    ]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 0, r.output
    assert [p.name for p in out.iterdir()] == ["41:42:235:236-hd.sdf"]
    t = open_terrain(out)
    assert t.resolution_deg == pytest.approx((1 / 3600, 1 / 3600))
    # 1" nodes between 3" nodes: the plane is reproduced up to rounding to whole metres
    lat = 41 + np.array([1, 1000, 3599]) / 3600
    lon = 124 + np.array([0, 1001, 3599]) / 3600
    np.testing.assert_allclose(t.elevation_m(lat, lon), np.rint(field(lat, lon)), atol=1e-6)
