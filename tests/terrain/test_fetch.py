"""``fetch_tiles`` against a real HTTP server on 127.0.0.1 serving tiles in the upstream layouts."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from loopback_http import TileServer
from terrain_synth import hgt_grid, linear_field, write_geotiff

from yalu.errors import DownloadError, ParameterError
from yalu.terrain import open_terrain
from yalu.terrain.fetch import FetchSource, default_cache_dir, fetch_tiles, tile_relpath

GLO90_N41E124 = (
    "Copernicus_DSM_COG_30_N41_00_E124_00_DEM/Copernicus_DSM_COG_30_N41_00_E124_00_DEM.tif"
)
GLO90_N41E125 = (
    "Copernicus_DSM_COG_30_N41_00_E125_00_DEM/Copernicus_DSM_COG_30_N41_00_E125_00_DEM.tif"
)


@pytest.fixture
def server() -> Iterator[TileServer]:
    s = TileServer()
    yield s
    s.close()


@pytest.fixture(scope="module")
def glo90_tile(tmp_path_factory) -> bytes:  # type: ignore[no-untyped-def]
    """A GLO-90 tile N41E124 as Copernicus publishes it: 1200x1200 float32, pixel-is-point COG."""
    d = tmp_path_factory.mktemp("cop")
    p = write_geotiff(
        d / "t.tif",
        42.0,
        124.0,
        1 / 1200,
        1200,
        1200,
        point=True,
        tiled=True,
        blockxsize=512,
        blockysize=512,
        compress="deflate",
        predictor=3,
    )
    return p.read_bytes()


@pytest.fixture(scope="module")
def skadi_tile() -> bytes:
    return gzip.compress(np.rint(hgt_grid(41, 124, 1200)).astype(">i2").tobytes(), compresslevel=1)


def _leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and p.name.startswith(".")]


def test_relpaths_follow_upstream_layout() -> None:
    assert tile_relpath("copernicus-glo90", 41, 124) == GLO90_N41E124
    assert tile_relpath(FetchSource.COPERNICUS_GLO30, -9, -76) == (
        "Copernicus_DSM_COG_10_S09_00_W076_00_DEM/Copernicus_DSM_COG_10_S09_00_W076_00_DEM.tif"
    )
    assert tile_relpath("srtm-skadi", 41, 24) == "N41/N41E024.hgt.gz"


def test_success_404_and_cache_reuse(server: TileServer, glo90_tile: bytes, tmp_path: Path) -> None:
    server.script[GLO90_N41E124] = [("ok", glo90_tile)]
    seen: list[tuple[str, str]] = []
    rep = fetch_tiles(
        (41.2, 124.2, 41.8, 125.5),
        "copernicus-glo90",
        tmp_path,
        server.url,
        progress=lambda t, s: seen.append((t, s)),
    )
    assert rep.downloaded == [GLO90_N41E124] and rep.absent == [GLO90_N41E125]
    assert rep.bytes_downloaded == len(glo90_tile)
    assert sorted(s for _, s in seen) == ["absent", "downloaded"]
    assert (tmp_path / GLO90_N41E124).read_bytes() == glo90_tile
    assert (tmp_path / (GLO90_N41E125 + ".absent")).exists()
    assert not _leftovers(tmp_path)
    t = open_terrain(tmp_path)
    la, lo = np.array([41.3, 41.77]), np.array([124.6, 124.01])
    np.testing.assert_allclose(t.elevation_m(la, lo), linear_field(la, lo), atol=1e-2)
    assert float(t.elevation_m(41.5, 125.5)) == 0.0  # the 404 tile is open sea
    # second run: nothing requested again
    before = dict(server.hits)
    rep2 = fetch_tiles((41.2, 124.2, 41.8, 125.5), "copernicus-glo90", tmp_path, server.url)
    assert rep2.reused == [GLO90_N41E124] and rep2.absent == [GLO90_N41E125] and not rep2.downloaded
    assert dict(server.hits) == before


def test_500_then_success(server: TileServer, skadi_tile: bytes, tmp_path: Path) -> None:
    server.script["N41/N41E124.hgt.gz"] = [("status", 500), ("status", 503), ("ok", skadi_tile)]
    rep = fetch_tiles(
        (41.5, 124.5, 41.6, 124.6), "srtm-skadi", tmp_path, server.url, backoff_s=0.01
    )
    assert rep.downloaded == ["N41/N41E124.hgt.gz"] and rep.retries == 2
    assert server.hits["N41/N41E124.hgt.gz"] == 3
    t = open_terrain(tmp_path)
    assert float(t.elevation_m(41.5, 124.5)) == pytest.approx(float(linear_field(41.5, 124.5)))


def test_persistent_500_raises_and_leaves_nothing(server: TileServer, tmp_path: Path) -> None:
    server.script["N41/N41E124.hgt.gz"] = [("status", 500)]
    with pytest.raises(DownloadError, match=r"N41/N41E124.hgt.gz: HTTP 500"):
        fetch_tiles(
            (41.5, 124.5, 41.6, 124.6),
            "srtm-skadi",
            tmp_path,
            server.url,
            retries=2,
            backoff_s=0.01,
        )
    assert server.hits["N41/N41E124.hgt.gz"] == 3
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_truncated_body_never_stays(server: TileServer, glo90_tile: bytes, tmp_path: Path) -> None:
    server.script[GLO90_N41E124] = [("truncated", glo90_tile), ("ok", glo90_tile)]
    rep = fetch_tiles(
        (41.5, 124.5, 41.6, 124.6), "copernicus-glo90", tmp_path, server.url, backoff_s=0.01
    )
    assert rep.downloaded == [GLO90_N41E124] and rep.retries == 1
    assert (tmp_path / GLO90_N41E124).read_bytes() == glo90_tile
    server.script[GLO90_N41E124] = [("truncated", glo90_tile)]
    other = tmp_path / "other"
    with pytest.raises(DownloadError, match="GLO|Copernicus"):
        fetch_tiles(
            (41.5, 124.5, 41.6, 124.6),
            "copernicus-glo90",
            other,
            server.url,
            retries=1,
            backoff_s=0.01,
        )
    assert not [p for p in other.rglob("*") if p.is_file()]


def test_corrupt_body_of_right_length_is_rejected(
    server: TileServer, glo90_tile: bytes, skadi_tile: bytes, tmp_path: Path
) -> None:
    bad = bytearray(glo90_tile)
    i = len(bad) // 3
    bad[i : i + 2000] = b"\x55" * 2000  # damaged deflate data, directory intact
    server.script[GLO90_N41E124] = [("ok", bytes(bad))]
    with pytest.raises(DownloadError, match="invalid tile"):
        fetch_tiles(
            (41.5, 124.5, 41.6, 124.6),
            "copernicus-glo90",
            tmp_path,
            server.url,
            retries=1,
            backoff_s=0.01,
        )
    server.script["N41/N41E124.hgt.gz"] = [("ok", skadi_tile[:-100] + b"x" * 100)]
    with pytest.raises(DownloadError, match="invalid tile"):
        fetch_tiles((41.5, 124.5, 41.6, 124.6), "srtm-skadi", tmp_path, server.url, retries=0)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_timeout_then_success_and_persistent_timeout(
    server: TileServer, skadi_tile: bytes, tmp_path: Path
) -> None:
    server.script["N41/N41E124.hgt.gz"] = [("sleep", 1.5, skadi_tile), ("ok", skadi_tile)]
    rep = fetch_tiles(
        (41.5, 124.5, 41.6, 124.6),
        "srtm-skadi",
        tmp_path,
        server.url,
        timeout_s=0.3,
        backoff_s=0.01,
    )
    assert rep.downloaded == ["N41/N41E124.hgt.gz"] and rep.retries == 1
    server.script["N40/N40E124.hgt.gz"] = [("sleep", 1.5, skadi_tile)]
    with pytest.raises(DownloadError, match="(?i)timed? ?out"):
        fetch_tiles(
            (40.5, 124.5, 40.6, 124.6),
            "srtm-skadi",
            tmp_path,
            server.url,
            timeout_s=0.3,
            retries=1,
            backoff_s=0.01,
        )
    assert not (tmp_path / "N40" / "N40E124.hgt.gz").exists()
    assert not _leftovers(tmp_path)


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match=r"bbox.*S <= N"):
        fetch_tiles((42, 124, 41, 125), "srtm-skadi", tmp_path)
    with pytest.raises(ParameterError, match="source"):
        fetch_tiles((41, 124, 42, 125), "srtm-nasa", tmp_path)
    with pytest.raises(ParameterError, match="timeout_s"):
        fetch_tiles((41, 124, 42, 125), "srtm-skadi", tmp_path, timeout_s=0)


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("YALU_CACHE_DIR", str(tmp_path))
    assert default_cache_dir() == tmp_path / "terrain"
    monkeypatch.delenv("YALU_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert default_cache_dir() == tmp_path / "x" / "yalu" / "terrain"


def test_offline_fails_fast_without_retries(tmp_path: Path) -> None:
    # a closed port on 127.0.0.1: connection refused, as with no network; no retry, no wait
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.perf_counter()
    with pytest.raises(DownloadError, match="unreachable"):
        fetch_tiles(
            (41.0, 124.0, 43.0, 126.0), "srtm-skadi", tmp_path, f"http://127.0.0.1:{port}",
            retries=4, backoff_s=5.0,
        )  # fmt: skip
    assert time.perf_counter() - t0 < 2.0
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]
