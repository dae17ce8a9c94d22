"""``fetch_population`` against a real HTTP server on 127.0.0.1 serving the upstream layouts of
WorldPop (per-country GeoTIFFs) and GHSL GHS-POP (10-degree tiles, zipped)."""

from __future__ import annotations

import http.server
import io
import socket
import threading
import time
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from rasterio.transform import from_origin

from yalu.analysis.population import raster_samples
from yalu.analysis.population_fetch import (
    default_cache_dir,
    fetch_population,
    ghsl_relpath,
    ghsl_tiles,
    worldpop_relpath,
)
from yalu.cli.main import cli
from yalu.errors import DownloadError, ParameterError

PRK = "2020/PRK/prk_ppp_2020.tif"
CHN = "2020/CHN/chn_ppp_2020.tif"
G = "GHS_POP_E2020_GLOBE_R2023A_4326_3ss"


class Server:
    """Scripted responses per path: each request takes the next action; the last one repeats."""

    def __init__(self) -> None:
        self.script: dict[str, list[tuple]] = {}
        self.hits: dict[str, int] = defaultdict(int)
        srv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):  # type: ignore[no-untyped-def]
                pass

            def do_GET(self) -> None:  # noqa: N802
                path = self.path.lstrip("/")
                srv.hits[path] += 1
                actions = srv.script.get(path, [("status", 404)])
                kind, arg = actions.pop(0) if len(actions) > 1 else actions[0]
                try:
                    if kind == "status":
                        self.send_response(arg)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(arg)))
                    self.end_headers()
                    if kind == "truncated":
                        self.wfile.write(arg[: len(arg) // 2])
                        self.wfile.flush()
                        self.close_connection = True
                        return
                    self.wfile.write(arg)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


def _tif_bytes(north: float, west: float, d: float, data: np.ndarray) -> bytes:
    buf = io.BytesIO()
    with rasterio.MemoryFile() as mem:
        with mem.open(
            driver="GTiff",
            height=data.shape[0],
            width=data.shape[1],
            count=1,
            dtype="float32",
            crs="EPSG:4326",
            transform=from_origin(west, north, d, d),
            nodata=-99999.0,
            tiled=True,
            blockxsize=16,
            blockysize=16,
            compress="deflate",
        ) as ds:
            ds.write(data.astype(np.float32), 1)
        buf.write(mem.read())
    return buf.getvalue()


@pytest.fixture(scope="module")
def prk_tif() -> bytes:
    # 64 x 64 cells of 3" at 41 N, 129 E: 2 people each, nodata in one corner
    z = np.full((64, 64), 2.0)
    z[:4, :4] = -99999.0
    return _tif_bytes(41.0, 129.0, 1 / 1200, z)


@pytest.fixture(scope="module")
def ghsl_zip(prk_tif: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{G}_V1_0_R5_C31.tif", prk_tif)
        zf.writestr("GHSL_Data_Package.pdf", b"%PDF-1.4 readme")
    return buf.getvalue()


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_upstream_layouts() -> None:
    assert worldpop_relpath("prk", 2020) == PRK
    assert worldpop_relpath("CHN", 2015, un_adjusted=True) == "2015/CHN/chn_ppp_2015_UNadj.tif"
    assert ghsl_relpath(2020, 5, 31) == f"{G}/V1-0/tiles/{G}_V1_0_R5_C31.zip"
    # the flagship's box: 39.3-43.7 N, 123.4-131.0 E
    assert ghsl_tiles((39.3, 123.4, 43.7, 131.0)) == [(5, 31), (5, 32), (6, 31), (6, 32)]
    assert ghsl_tiles((-0.5, -180.0, 0.5, -179.0)) == [(9, 1), (10, 1)]


def test_worldpop_success_and_reuse(server: Server, prk_tif: bytes, tmp_path: Path) -> None:
    server.script[PRK] = [("ok", prk_tif)]
    server.script[CHN] = [("ok", prk_tif)]
    seen: list[tuple[str, str]] = []
    rep = fetch_population(
        "worldpop",
        year=2020,
        countries=["PRK", "chn"],
        cache_dir=tmp_path,
        base_url=server.url,
        progress=lambda r, s: seen.append((r, s)),
    )
    assert rep.downloaded == [PRK, CHN] and seen == [(PRK, "downloaded"), (CHN, "downloaded")]
    assert (tmp_path / PRK).read_bytes() == prk_tif
    assert rep.bytes_downloaded == 2 * len(prk_tif)
    assert not [p for p in _files(tmp_path) if p.name.startswith(".")]
    # the cached file is what a scenario's population.raster reads
    s = raster_samples(tmp_path / PRK, (40.95, 129.0, 41.0, 129.06))
    assert s.people.sum() == pytest.approx(2.0 * (60 * 64 - 16))
    before = dict(server.hits)
    rep2 = fetch_population("worldpop", year=2020, countries=["PRK", "CHN"], cache_dir=tmp_path,
                            base_url=server.url)  # fmt: skip
    assert rep2.reused == [PRK, CHN] and not rep2.downloaded and dict(server.hits) == before


def test_ghsl_tiles_zip_extracted_and_404_absent(
    server: Server, ghsl_zip: bytes, prk_tif: bytes, tmp_path: Path
) -> None:
    server.script[ghsl_relpath(2020, 5, 31)] = [("ok", ghsl_zip)]
    rep = fetch_population("ghsl", year=2020, bbox=(40.5, 125.0, 41.5, 131.0),
                           cache_dir=tmp_path, base_url=server.url)  # fmt: skip
    tif = f"{G}/V1-0/tiles/{G}_V1_0_R5_C31.tif"
    assert rep.downloaded == [tif] and len(rep.absent) == 1 and rep.absent[0].endswith("C32.tif")
    assert (tmp_path / tif).read_bytes() == prk_tif
    assert (tmp_path / (rep.absent[0][:-4] + ".zip.absent")).exists()
    assert not (tmp_path / f"{G}/V1-0/tiles/{G}_V1_0_R5_C31.zip").exists()
    assert rep.rasters == [tmp_path / tif]


def test_5xx_then_success_and_persistent_5xx(
    server: Server, prk_tif: bytes, tmp_path: Path
) -> None:
    server.script[PRK] = [("status", 500), ("status", 503), ("ok", prk_tif)]
    rep = fetch_population("worldpop", year=2020, countries=["PRK"], cache_dir=tmp_path,
                           base_url=server.url, backoff_s=0.01)  # fmt: skip
    assert rep.downloaded == [PRK] and rep.retries == 2 and server.hits[PRK] == 3
    server.script[CHN] = [("status", 502)]
    other = tmp_path / "o"
    with pytest.raises(DownloadError, match=r"chn_ppp_2020.tif: HTTP 502"):
        fetch_population("worldpop", year=2020, countries=["CHN"], cache_dir=other,
                         base_url=server.url, retries=2, backoff_s=0.01)  # fmt: skip
    assert server.hits[CHN] == 3 and not _files(other)


def test_worldpop_404_is_an_error_without_retries(server: Server, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="404"):
        fetch_population("worldpop", year=2019, countries=["PRK"], cache_dir=tmp_path,
                         base_url=server.url, backoff_s=0.01)  # fmt: skip
    # not retried, and no absent marker stays (asked again next time)
    assert server.hits["2019/PRK/prk_ppp_2019.tif"] == 1 and not _files(tmp_path)


def test_truncated_and_corrupt_bodies_never_stay(
    server: Server, prk_tif: bytes, ghsl_zip: bytes, tmp_path: Path
) -> None:
    server.script[PRK] = [("truncated", prk_tif), ("ok", prk_tif)]
    rep = fetch_population("worldpop", year=2020, countries=["PRK"], cache_dir=tmp_path,
                           base_url=server.url, backoff_s=0.01)  # fmt: skip
    assert rep.retries == 1 and (tmp_path / PRK).read_bytes() == prk_tif
    other = tmp_path / "o"
    server.script[CHN] = [("truncated", prk_tif)]
    with pytest.raises(DownloadError, match="truncated"):
        fetch_population("worldpop", year=2020, countries=["CHN"], cache_dir=other,
                         base_url=server.url, retries=1, backoff_s=0.01)  # fmt: skip
    # right length, damaged data: the GeoTIFF does not decode
    bad = bytearray(prk_tif)
    bad[len(bad) // 2 : len(bad) // 2 + 600] = b"\x55" * 600
    server.script[CHN] = [("ok", bytes(bad))]
    with pytest.raises(DownloadError, match="invalid raster"):
        fetch_population("worldpop", year=2020, countries=["CHN"], cache_dir=other,
                         base_url=server.url, retries=0)  # fmt: skip
    # a zip that is not one
    server.script[ghsl_relpath(2020, 5, 31)] = [("ok", ghsl_zip[:-200] + b"x" * 200)]
    with pytest.raises(DownloadError, match="invalid raster"):
        fetch_population("ghsl", year=2020, bbox=(40.5, 125.0, 41.5, 126.0), cache_dir=other,
                         base_url=server.url, retries=0)  # fmt: skip
    assert not _files(other)


def test_offline_fails_fast(tmp_path: Path) -> None:
    # a port with nothing listening: connection refused, as with no network
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    t0 = time.perf_counter()
    with pytest.raises(DownloadError, match="unreachable"):
        fetch_population(
            "worldpop",
            year=2020,
            countries=["PRK", "CHN"],
            cache_dir=tmp_path,
            base_url=f"http://127.0.0.1:{port}",
            retries=4,
            backoff_s=1.0,
        )
    assert time.perf_counter() - t0 < 1.0  # no back-off: 1 + 2 + 4 + 8 s were not spent
    assert not _files(tmp_path)


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="country"):
        fetch_population("worldpop", year=2020, countries=["KP"], cache_dir=tmp_path)
    with pytest.raises(ParameterError, match="year"):
        fetch_population("worldpop", year=2025, countries=["PRK"], cache_dir=tmp_path)
    with pytest.raises(ParameterError, match="year"):
        fetch_population("ghsl", year=2021, bbox=(40, 120, 41, 121), cache_dir=tmp_path)
    with pytest.raises(ParameterError, match="bbox"):
        fetch_population("ghsl", year=2020, cache_dir=tmp_path)
    with pytest.raises(ParameterError, match="source"):
        fetch_population("landscan", year=2020, countries=["PRK"], cache_dir=tmp_path)


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("YALU_CACHE_DIR", str(tmp_path))
    assert default_cache_dir() == tmp_path / "population"


def test_cli(server: Server, prk_tif: bytes, tmp_path: Path) -> None:
    server.script[PRK] = [("ok", prk_tif)]
    r = CliRunner().invoke(
        cli,
        [
            "population",
            "fetch",
            "--country",
            "PRK",
            "--year",
            "2020",
            "--cache",
            str(tmp_path),
            "--base-url",
            server.url,
        ],
    )
    assert r.exit_code == 0, r.output
    assert "1 downloaded" in r.output and f"raster: {tmp_path / PRK}" in r.output
    r = CliRunner().invoke(
        cli,
        [
            "population",
            "fetch",
            "--country",
            "PRK",
            "--year",
            "1990",
            "--cache",
            str(tmp_path),
            "--base-url",
            server.url,
        ],
    )
    assert r.exit_code == 2 and "year" in r.output
