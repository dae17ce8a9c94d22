"""WorldCover fetch against a real HTTP server on 127.0.0.1 serving the upstream layout, the
land-cover reader (tiles, ocean markers, user GeoTIFFs in another CRS) and the class table."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from loopback_http import TileServer
from rasterio.transform import from_origin

from yalu.cli.main import cli
from yalu.errors import DownloadError, InputError, ParameterError
from yalu.geodesy import Profile
from yalu.landcover import (
    WORLDCOVER_CLASSES,
    WORLDCOVER_CLUTTER,
    LandCoverWarning,
    clutter_for_codes,
    fetch_worldcover,
    open_landcover,
    tile_relpath,
)
from yalu.landcover.fetch import tile_cells
from yalu.propagation.p2108 import DEFAULT_CLUTTER_HEIGHT_M, ClutterType

N39E123_2021 = "v200/2021/map/ESA_WorldCover_10m_2021_v200_N39E123_Map.tif"
N39E126_2021 = "v200/2021/map/ESA_WorldCover_10m_2021_v200_N39E126_Map.tif"
N42E123_2021 = "v200/2021/map/ESA_WorldCover_10m_2021_v200_N42E123_Map.tif"
CODES = np.array(sorted(WORLDCOVER_CLASSES), dtype=np.uint8)
N_PIX = 360  # a 3-degree tile at 30" (upstream: 36000 at 0.3"); the layout and checks are the same


def _expected_code(lat: np.ndarray, lon: np.ndarray, south: int, west: int) -> np.ndarray:
    """The class written by :func:`_tile` at the pixel containing (lat, lon)."""
    row = np.floor((south + 3 - lat) * N_PIX / 3).astype(int)
    col = np.floor((lon - west) * N_PIX / 3).astype(int)
    return CODES[(row * 7 + col * 3) % len(CODES)]


def _tile(path: Path, south: int, west: int, *, corrupt_value: bool = False) -> bytes:
    rows, cols = np.mgrid[0:N_PIX, 0:N_PIX]
    data = CODES[(rows * 7 + cols * 3) % len(CODES)]
    if corrupt_value:
        data[5, 5] = 77  # not a WorldCover class
    with rasterio.open(
        path, "w", driver="GTiff", width=N_PIX, height=N_PIX, count=1, dtype="uint8",
        crs="EPSG:4326", transform=from_origin(west, south + 3, 3 / N_PIX, 3 / N_PIX),
        nodata=0, tiled=True, blockxsize=128, blockysize=128, compress="deflate",
    ) as ds:  # fmt: skip
        ds.write(data, 1)
    return path.read_bytes()


@pytest.fixture
def server() -> Iterator[TileServer]:
    s = TileServer()
    yield s
    s.close()


@pytest.fixture(scope="module")
def tile_n39e123(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return _tile(tmp_path_factory.mktemp("wc") / "t.tif", 39, 123)


def _leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and p.name.startswith(".")]


def test_upstream_layout_and_cells() -> None:
    assert tile_relpath("2021", 39, 123) == N39E123_2021
    assert tile_relpath("2020", -3, -60) == (
        "v100/2020/map/ESA_WorldCover_10m_2020_v100_S03W060_Map.tif"
    )
    assert tile_cells((40.0, 124.0, 41.0, 125.0)) == [(39, 123)]
    assert tile_cells((41.5, 125.5, 42.5, 126.5)) == [(39, 123), (39, 126), (42, 123), (42, 126)]
    assert tile_cells((-1.0, -1.0, -1.0, -1.0)) == [(-3, -3)]
    with pytest.raises(ParameterError, match="version"):
        tile_relpath("2019", 39, 123)


def test_fetch_read_and_reuse(server: TileServer, tile_n39e123: bytes, tmp_path: Path) -> None:
    server.script[N39E123_2021] = [("ok", tile_n39e123)]  # N39E126 etc.: 404 = ocean
    seen: list[tuple[str, str]] = []
    rep = fetch_worldcover(
        (40.0, 124.0, 42.5, 126.5), "2021", tmp_path, server.url,
        progress=lambda t, s: seen.append((t, s)),
    )  # fmt: skip
    assert rep.downloaded == [N39E123_2021]
    assert sorted(rep.absent) == sorted([N39E126_2021, N42E123_2021, tile_relpath("2021", 42, 126)])
    assert len(seen) == 4 and not _leftovers(tmp_path)
    assert (tmp_path / N39E123_2021).read_bytes() == tile_n39e123

    lc = open_landcover(tmp_path)
    assert lc.year == "2021" and len(lc.files) == 1
    rng = np.random.default_rng(0)
    lat = rng.uniform(39.0, 42.0, 500)
    lon = rng.uniform(123.0, 126.0, 500)
    np.testing.assert_array_equal(lc.codes_at(lat, lon), _expected_code(lat, lon, 39, 123))
    # the ocean tiles (404) read as permanent water
    assert int(lc.codes_at(40.0, 127.0)) == 80 and int(lc.codes_at(43.0, 124.0)) == 80
    # outside every tile and marker: no data, with a warning
    with pytest.warns(LandCoverWarning, match="1 of 2 points"):
        codes = lc.codes_at([40.0, 10.0], [124.0, 10.0])
    assert codes[1] == 0 and lc.last_nodata_count == 1

    before = dict(server.hits)
    rep2 = fetch_worldcover((40.0, 124.0, 42.5, 126.5), "2021", tmp_path, server.url)
    assert rep2.reused == [N39E123_2021] and len(rep2.absent) == 3 and not rep2.downloaded
    assert dict(server.hits) == before


def test_profile_sampling_matches_points(tile_n39e123: bytes, tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / Path(N39E123_2021).name).write_bytes(tile_n39e123)
    lc = open_landcover(tmp_path / "t")
    n = 200
    # off the pixel edges (1/120 deg), where the expectation's rounding could differ
    lat = np.linspace(40.1, 40.9, n) + 0.00211
    lon = np.linspace(124.2, 125.7, n) + 0.00197
    prof = Profile(np.linspace(0, 1e5, n), np.zeros(n), lat, lon, 1e5 / (n - 1), 1e5)
    along = lc.codes_along(prof)
    np.testing.assert_array_equal(along, _expected_code(lat, lon, 39, 123))
    types, heights = lc.clutter_at(lat, lon)
    exp_t, exp_h = clutter_for_codes(along)
    np.testing.assert_array_equal(types, exp_t)
    np.testing.assert_array_equal(heights, exp_h)


def test_user_geotiff_in_a_projected_crs(tmp_path: Path) -> None:
    # a 100 m UTM 51N raster: class 50 (built-up) in the west half, 10 (trees) in the east
    path = tmp_path / "lc_utm.tif"
    data = np.full((50, 60), 10, dtype=np.uint8)
    data[:, :30] = 50
    data[0, 0] = 255  # nodata pixel
    x0, y0 = 500000.0, 4500000.0
    with rasterio.open(
        path, "w", driver="GTiff", width=60, height=50, count=1, dtype="uint8",
        crs="EPSG:32651", transform=from_origin(x0, y0, 100.0, 100.0), nodata=255,
    ) as ds:  # fmt: skip
        ds.write(data, 1)
    from pyproj import Transformer

    to_ll = Transformer.from_crs("EPSG:32651", "EPSG:4326", always_xy=True)
    xs = np.array([x0 + 1050.0, x0 + 4550.0, x0 + 50.0])
    ys = np.array([y0 - 2050.0, y0 - 2050.0, y0 - 50.0])
    lon, lat = to_ll.transform(xs, ys)
    lc = open_landcover(path)
    with pytest.warns(LandCoverWarning):
        codes = lc.codes_at(lat, lon)
    assert codes.tolist() == [50, 10, 0]
    assert open_landcover([path]).codes_at(lat[:2], lon[:2]).tolist() == [50, 10]


def test_corrupt_and_wrong_tiles_never_stay(
    server: TileServer, tile_n39e123: bytes, tmp_path: Path
) -> None:
    bad_value = _tile(tmp_path / "bad.tif", 39, 123, corrupt_value=True)
    wrong_place = _tile(tmp_path / "wrong.tif", 42, 123)  # the N42 tile served as N39
    damaged = bytearray(tile_n39e123)
    damaged[len(damaged) // 2 : len(damaged) // 2 + 400] = b"\x55" * 400
    for body, why in (
        (bad_value, "not a WorldCover class"),
        (wrong_place, "bounds"),
        (bytes(damaged), "invalid tile"),
    ):
        server.script[N39E123_2021] = [("ok", body)]
        cache = tmp_path / f"c{len(why)}"
        with pytest.raises(DownloadError, match=why):
            fetch_worldcover((40, 124, 41, 125), "2021", cache, server.url, retries=1, backoff_s=0)
        assert not [p for p in cache.rglob("*") if p.is_file()]
    # truncated once, then good: retried and kept
    server.script[N39E123_2021] = [("truncated", tile_n39e123), ("ok", tile_n39e123)]
    rep = fetch_worldcover((40, 124, 41, 125), "2021", tmp_path / "ok", server.url, backoff_s=0)
    assert rep.downloaded == [N39E123_2021] and rep.retries == 1


def test_offline_fails_fast(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.perf_counter()
    with pytest.raises(DownloadError, match="unreachable"):
        fetch_worldcover((40, 124, 44, 128), "2021", tmp_path, f"http://127.0.0.1:{port}")
    assert time.perf_counter() - t0 < 2.0


def test_cli_fetch_and_info(server: TileServer, tile_n39e123: bytes, tmp_path: Path) -> None:
    server.script[N39E123_2021] = [("ok", tile_n39e123)]
    r = CliRunner().invoke(
        cli, ["landcover", "fetch", "--bbox", "40,124,41,125", "--cache", str(tmp_path),
              "--base-url", server.url],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "1 downloaded" in r.output
    lat, lon = 40.5, 124.5
    code = int(_expected_code(np.array([lat]), np.array([lon]), 39, 123)[0])
    r = CliRunner().invoke(cli, ["landcover", "info", str(tmp_path), "--at", f"{lat},{lon}"])
    assert r.exit_code == 0, r.output
    assert f": {code} {WORLDCOVER_CLASSES[code]}" in r.output
    r = CliRunner().invoke(cli, ["landcover", "fetch", "--bbox", "41,124,40,125"])
    assert r.exit_code != 0 and "S <= N" in r.output


def test_open_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no WorldCover tiles"):
        open_landcover(tmp_path)
    with pytest.raises(InputError, match="does not exist"):
        open_landcover(tmp_path / "nope")


def test_class_table_is_complete_and_consistent() -> None:
    assert set(WORLDCOVER_CLUTTER) == set(WORLDCOVER_CLASSES)
    for code, cl in WORLDCOVER_CLUTTER.items():
        assert cl.name == WORLDCOVER_CLASSES[code]
        assert cl.height_low_m <= cl.height_m <= cl.height_high_m
        # the central height is P.2108-1 Table 3's default for the clutter type
        assert cl.height_m == DEFAULT_CLUTTER_HEIGHT_M[cl.p2108_type]
    assert WORLDCOVER_CLUTTER[50].p2108_type is ClutterType.URBAN
    assert WORLDCOVER_CLUTTER[80].p1812_height_m == 0.0
    t, h = clutter_for_codes([0, 10, 80, 250])
    assert t.tolist() == [0, int(ClutterType.TREES_FOREST), int(ClutterType.WATER_SEA), 0]
    assert np.isnan(h[0]) and h[1] == 15.0 and np.isnan(h[3])
