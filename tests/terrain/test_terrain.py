"""Terrain objects on real files written by the tests (SRTM .hgt, SPLAT! SDF, GeoTIFF,
ESRI ASCII)."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from terrain_synth import (
    hgt_grid,
    linear_field,
    reference_bilinear,
    write_geotiff,
    write_hgt,
    write_sdf,
)

from yalu.errors import (
    ChoiceError,
    MissingTileError,
    ParameterError,
    TerrainFormatError,
)
from yalu.terrain import (
    MissingPolicy,
    Terrain,
    TerrainWindow,
    VoidFillWarning,
    default_terrain,
    open_terrain,
)

SHARED = Path(__file__).parents[2] / ".." / "shared"


def _random_points(rng, s, w, n, e, k=2000):  # type: ignore[no-untyped-def]
    return rng.uniform(s, n, k), rng.uniform(w, e, k)


# ------------------------------------------------------------------------------------- .hgt


def test_hgt_single_tile_metadata_and_exact_bilinear(tmp_path: Path) -> None:
    write_hgt(tmp_path, 41, 124)
    t = open_terrain(tmp_path / "N41E124.hgt")
    assert isinstance(t, Terrain)
    assert t.bounds == pytest.approx((41, 124, 42, 125), abs=1e-12)
    assert t.resolution_deg == pytest.approx((1 / 1200, 1 / 1200))
    dy, dx = t.resolution_m
    assert 92.0 < dy < 93.0 and 68.0 < dx < 70.0  # 3" at 41.5 N
    assert t.nodata == -32768
    assert "SRTM" in t.description and "3 arc-second" in t.description and "1 tile" in t.description
    assert not t.is_demo
    assert t.tiles == [str(tmp_path / "N41E124.hgt")]
    rng = np.random.default_rng(1)
    lat, lon = _random_points(rng, 41, 124, 42, 125)
    np.testing.assert_allclose(t.elevation_m(lat, lon), linear_field(lat, lon), atol=1e-6)
    # corners and edges of the tile are inside
    z = t.elevation_m([41, 42, 41, 42], [124, 124, 125, 125])
    np.testing.assert_allclose(z, linear_field([41, 42, 41, 42], [124, 124, 125, 125]), atol=1e-6)


def test_hgt_nonlinear_field_matches_independent_bilinear(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    z = rng.integers(-100, 3000, size=(1201, 1201)).astype(float)
    write_hgt(tmp_path, 41, 124, z=z)
    t = open_terrain(tmp_path)
    lat_nodes = 42 - np.arange(1201) / 1200
    lon_nodes = 124 + np.arange(1201) / 1200
    lat, lon = _random_points(rng, 41, 124, 42, 125)
    ref = reference_bilinear(z, lat_nodes, lon_nodes, lat, lon)
    np.testing.assert_allclose(t.elevation_m(lat, lon), ref, atol=1e-3)


def test_hgt_mosaic_across_edges_and_broadcasting(tmp_path: Path) -> None:
    for s in (40, 41):
        for w in (124, 125):
            write_hgt(tmp_path, s, w)
    t = open_terrain(tmp_path)
    assert len(t.tiles) == 4 and t.bounds == pytest.approx((40, 124, 42, 126))
    lat = np.array([41.0, 41.0, 40.99995, 41.00004, 40.5])
    lon = np.array([125.0, 124.5, 125.00003, 124.99996, 125.0])
    np.testing.assert_allclose(t.elevation_m(lat, lon), linear_field(lat, lon), atol=1e-6)
    # broadcasting: a column of latitudes against a row of longitudes
    la = np.linspace(40.1, 41.9, 7)[:, None]
    lo = np.linspace(124.1, 125.9, 5)[None, :]
    z = t.elevation_m(la, lo)
    assert z.shape == (7, 5) and z.dtype == np.float64
    np.testing.assert_allclose(z, linear_field(la, lo), atol=1e-6)
    assert float(t.elevation_m(41.25, 124.75)) == pytest.approx(float(linear_field(41.25, 124.75)))


def test_hgt_1arcsec_tile(tmp_path: Path) -> None:
    write_hgt(tmp_path, 41, 124, ppd=3600)
    t = open_terrain(tmp_path)
    assert t.resolution_deg == pytest.approx((1 / 3600, 1 / 3600))
    assert "1 arc-second" in t.description
    rng = np.random.default_rng(3)
    lat, lon = _random_points(rng, 41, 124, 42, 125, 500)
    np.testing.assert_allclose(t.elevation_m(lat, lon), linear_field(lat, lon), atol=1e-6)


def test_hgt_zip_and_skadi_gz_layout(tmp_path: Path) -> None:
    raw = np.rint(hgt_grid(41, 124, 1200)).astype(">i2").tobytes()
    with zipfile.ZipFile(tmp_path / "N41E124.hgt.zip", "w") as zf:
        zf.writestr("N41E124.hgt", raw)
    (tmp_path / "N41").mkdir()
    raw2 = np.rint(hgt_grid(41, 125, 1200)).astype(">i2").tobytes()
    (tmp_path / "N41" / "N41E125.hgt.gz").write_bytes(gzip.compress(raw2))
    t = open_terrain(tmp_path)
    assert len(t.tiles) == 2
    lat = np.array([41.3, 41.7, 41.5])
    lon = np.array([124.2, 125.8, 125.0])
    np.testing.assert_allclose(t.elevation_m(lat, lon), linear_field(lat, lon), atol=1e-6)


def test_list_of_files(tmp_path: Path) -> None:
    a = write_hgt(tmp_path, 41, 124)
    b = write_hgt(tmp_path, 41, 125)
    write_hgt(tmp_path, 40, 124)  # not in the list
    t = open_terrain([a, b])
    assert len(t.tiles) == 2
    with pytest.raises(MissingTileError, match="N40E124.hgt"):
        t.elevation_m(40.5, 124.5)


# ------------------------------------------------------------------------------------ windows


def test_read_window_covers_request_north_first(tmp_path: Path) -> None:
    for s in (40, 41):
        for w in (124, 125):
            write_hgt(tmp_path, s, w)
    t = open_terrain(tmp_path)
    s, w, n, e = 40.95012, 124.9, 41.0731, 125.10004
    win = t.read_window(s, w, n, e)
    assert isinstance(win, TerrainWindow)
    z = win.grid_m
    assert z.dtype == np.float64 and z.flags.c_contiguous and z.ndim == 2
    ws, ww, wn, we = win.bounds
    tol = 1e-9
    assert ws <= s + tol and ww <= w + tol and wn >= n - tol and we >= e - tol
    # tight: no more than one node beyond the request on any side
    assert s - ws < win.dlat_deg and n - wn > -win.dlat_deg
    assert w - ww < win.dlon_deg and e - we > -win.dlon_deg
    assert win.lat_deg[0] > win.lat_deg[-1]  # row 0 is north
    lat, lon = np.meshgrid(win.lat_deg, win.lon_deg, indexing="ij")
    np.testing.assert_allclose(z, linear_field(lat, lon), atol=1e-6)
    # the window's own interpolation agrees with the terrain's
    rng = np.random.default_rng(4)
    la, lo = _random_points(rng, s, w, n, e, 300)
    np.testing.assert_allclose(win.elevation_m(la, lo), t.elevation_m(la, lo), atol=1e-9)
    assert np.isnan(win.elevation_m(wn + 0.01, we))


def test_read_window_exact_on_nodes(tmp_path: Path) -> None:
    write_hgt(tmp_path, 41, 124)
    t = open_terrain(tmp_path)
    win = t.read_window(41.0, 124.0, 42.0, 125.0)
    assert win.grid_m.shape == (1201, 1201)
    np.testing.assert_array_equal(win.grid_m, np.rint(hgt_grid(41, 124, 1200)))


# ---------------------------------------------------------------------------------------- SDF


def test_sdf_mosaic_exact_across_edges(tmp_path: Path) -> None:
    for s in (40, 41):
        for w in (124, 125):
            write_sdf(tmp_path, s, w)
    t = open_terrain(tmp_path)
    assert "SPLAT! SDF 3 arc-second, 4 tiles" == t.description
    assert t.bounds == pytest.approx((40, 124, 42 - 1 / 1200, 126 - 1 / 1200))
    rng = np.random.default_rng(5)
    lat, lon = _random_points(rng, 40, 124, 42 - 1 / 1200, 126 - 1 / 1200)
    np.testing.assert_allclose(t.elevation_m(lat, lon), linear_field(lat, lon), atol=1e-6)
    # between the last row of 40:41 and the first row of 41:42 (needs both tiles)
    la = np.array([41 - 0.5 / 1200, 41 - 0.2 / 1200])
    lo = np.array([125 - 0.5 / 1200, 124.3])
    np.testing.assert_allclose(t.elevation_m(la, lo), linear_field(la, lo), atol=1e-6)
    win = t.read_window(40.99, 124.99, 41.01, 125.01)
    lat2, lon2 = np.meshgrid(win.lat_deg, win.lon_deg, indexing="ij")
    np.testing.assert_allclose(win.grid_m, linear_field(lat2, lon2), atol=1e-6)


def test_sdf_single_tile_gap_needs_neighbour(tmp_path: Path) -> None:
    write_sdf(tmp_path, 41, 124)
    name = "41:42:235:236.sdf"
    assert (tmp_path / name).exists()
    t = open_terrain(tmp_path / name)
    assert float(t.elevation_m(41.5, 124.5)) == pytest.approx(float(linear_field(41.5, 124.5)))
    # the last half-step below 42 N lies between this tile and 42:43:235:236.sdf
    with pytest.raises(MissingTileError, match="42:43:235:236.sdf"):
        t.elevation_m(42 - 0.3 / 1200, 124.5)
    t0 = open_terrain(tmp_path / name, missing="sea-level")
    z = float(t0.elevation_m(42 - 0.5 / 1200, 124.5))
    top = float(linear_field(42 - 1 / 1200, 124.5))
    assert z == pytest.approx(top / 2)  # halfway between the top node and 0 m


def test_sdf_hd_tile(tmp_path: Path) -> None:
    write_sdf(tmp_path, 41, 124, ppd=3600)
    t = open_terrain(tmp_path)
    assert t.resolution_deg == pytest.approx((1 / 3600, 1 / 3600))
    lat, lon = np.array([41.2, 41.9]), np.array([124.4, 124.01])
    np.testing.assert_allclose(t.elevation_m(lat, lon), linear_field(lat, lon), atol=1e-6)


@pytest.mark.shared
def test_sdf_reader_against_globe_source_grid() -> None:
    """The bench SDF tiles were resampled bilinearly from the GLOBE 30" grid and rounded."""
    import tarfile

    tarball = SHARED / "bench" / "sdf_3arcsec_40-43N_22-26E.tar.xz"
    asc = SHARED / "bench" / "globe30_39.5-43.5N_21.5-26.5E.asc"
    if not tarball.exists() or not asc.exists():
        pytest.skip(f"shared bench terrain not found at {SHARED / 'bench'}")
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        with tarfile.open(tarball) as tf:
            members = [
                m
                for m in tf.getmembers()
                if m.name.endswith(("41:42:336:337.sdf", "41:42:335:336.sdf"))
            ]
            tf.extractall(d, members=members, filter="data")
        sdf = open_terrain(d)
        globe = open_terrain(asc)
        assert globe.resolution_deg == pytest.approx((1 / 120, 1 / 120))
        win = sdf.read_window(41.3, 23.5, 41.6, 24.4)  # spans both tiles
        lat, lon = np.meshgrid(win.lat_deg, win.lon_deg, indexing="ij")
        diff = win.grid_m - globe.elevation_m(lat, lon)
        assert np.abs(diff).max() <= 0.5 + 1e-3  # rounding to whole metres only
        # a one-node shift of the reader's layout would be far off
        shifted = win.grid_m - globe.elevation_m(lat, lon + 1 / 1200)
        assert np.abs(shifted).max() > 5


# ---------------------------------------------------------------------------- GeoTIFF / ASCII


@pytest.mark.parametrize("point", [False, True])
def test_geotiff_nodes_are_pixel_centres_or_points(tmp_path: Path, point: bool) -> None:
    step = 1 / 240
    p = write_geotiff(tmp_path / "dem.tif", 41.8, 124.2, step, 120, 150, point=point)
    t = open_terrain(p)
    assert t.bounds == pytest.approx((41.8 - 119 * step, 124.2, 41.8, 124.2 + 149 * step))
    rng = np.random.default_rng(6)
    lat, lon = _random_points(rng, *t.bounds, 500)
    np.testing.assert_allclose(t.elevation_m(lat, lon), linear_field(lat, lon), atol=1e-2)
    if point:
        import rasterio

        # the file itself stores the first point at (41.8, 124.2), not the pixel corner
        with rasterio.Env(GTIFF_POINT_GEO_IGNORE=True), rasterio.open(p) as ds:
            assert ds.tags()["AREA_OR_POINT"] == "Point"
            assert ds.transform.c == pytest.approx(124.2) and ds.transform.f == pytest.approx(41.8)


def test_copernicus_cog_tiles(tmp_path: Path) -> None:
    import rasterio
    from affine import Affine

    ppd = 1200
    for s, w in ((41, 124), (40, 124)):
        i = np.arange(ppd)
        lat = s + 1 - i / ppd
        lon = w + i / ppd
        z = linear_field(lat[:, None], lon[None, :]).astype("float32")
        name = f"Copernicus_DSM_COG_30_N{s}_00_E{w}_00_DEM"
        (tmp_path / name).mkdir()
        with rasterio.open(
            tmp_path / name / f"{name}.tif",
            "w",
            driver="GTiff",
            height=ppd,
            width=ppd,
            count=1,
            dtype="float32",
            crs="EPSG:4326",
            transform=Affine(1 / ppd, 0, w - 0.5 / ppd, 0, -1 / ppd, s + 1 + 0.5 / ppd),
            tiled=True,
            blockxsize=256,
            blockysize=256,
            compress="deflate",
        ) as ds:
            ds.write(z, 1)
            ds.update_tags(AREA_OR_POINT="Point")
    t = open_terrain(tmp_path)
    assert "Copernicus" in t.description and "GLO-90" in t.description
    la = np.array([41.0, 41.0 + 0.3 / ppd, 40.5, 41.9])
    lo = np.array([124.5, 124.7, 124.999, 124.1])
    np.testing.assert_allclose(t.elevation_m(la, lo), linear_field(la, lo), atol=1e-2)
    with pytest.raises(MissingTileError, match="Copernicus_DSM_COG_30_N41_00_E125_00_DEM.tif"):
        t.elevation_m(41.5, 125.5)


@pytest.mark.parametrize("corner", [True, False])
def test_esri_ascii_corner_and_center(tmp_path: Path, corner: bool) -> None:
    step = 0.01
    nr, nc = 40, 50
    lat = 41.6 - np.arange(nr) * step
    lon = 124.3 + np.arange(nc) * step
    z = linear_field(lat[:, None], lon[None, :])
    if corner:
        head = f"xllcorner {124.3 - step / 2}\nyllcorner {lat[-1] - step / 2}\n"
    else:
        head = f"xllcenter 124.3\nyllcenter {lat[-1]}\n"
    text = f"ncols {nc}\nnrows {nr}\n{head}cellsize {step}\nNODATA_value -9999\n"
    text += "\n".join(" ".join(f"{v:.3f}" for v in row) for row in z)
    p = tmp_path / "grid.asc"
    p.write_text(text + "\n")
    t = open_terrain(p)
    assert t.bounds == pytest.approx((lat[-1], 124.3, 41.6, lon[-1]))
    rng = np.random.default_rng(7)
    la, lo = _random_points(rng, *t.bounds, 300)
    np.testing.assert_allclose(t.elevation_m(la, lo), linear_field(la, lo), atol=2e-3)


# ------------------------------------------------------------------------------------- voids


def test_single_void_filled_exactly_with_warning(tmp_path: Path) -> None:
    z = hgt_grid(41, 124, 1200)
    z[600, 700] = -32768
    write_hgt(tmp_path, 41, 124, z=z)
    t = open_terrain(tmp_path)
    lat, lon = 42 - 600 / 1200, 124 + 700 / 1200
    with pytest.warns(VoidFillWarning, match=r"\b1 void nodes filled"):
        v = float(t.elevation_m(lat, lon))
    assert v == pytest.approx(float(linear_field(lat, lon)), abs=1e-3)  # mean of a linear ring
    assert t.voids_filled == 1


def test_void_hole_and_nodata_geotiff(tmp_path: Path) -> None:
    step = 1 / 240
    nr = nc = 60
    lat = 41.8 - np.arange(nr) * step
    lon = 124.2 + np.arange(nc) * step
    z = linear_field(lat[:, None], lon[None, :]).astype("float32")
    z[20:25, 30:33] = -9999.0
    p = write_geotiff(tmp_path / "dem.tif", 41.8, 124.2, step, nr, nc, nodata=-9999.0, z=z)
    t = open_terrain(p)
    assert t.nodata == -9999.0
    with pytest.warns(VoidFillWarning, match=r"\b15 void nodes"):
        win = t.read_window(*t.bounds)
    ring = np.r_[z[19, 29:34], z[25, 29:34], z[20:25, 29], z[20:25, 33]]
    hole = win.grid_m[20:25, 30:33]
    assert np.all(hole >= ring.min() - 1e-3) and np.all(hole <= ring.max() + 1e-3)
    assert not np.isnan(win.grid_m).any()


# ------------------------------------------------------------------------------ missing tiles


def test_missing_tile_error_names_tile_and_sea_level_opt_in(tmp_path: Path) -> None:
    write_hgt(tmp_path, 41, 124)
    t = open_terrain(tmp_path)
    assert t.missing is MissingPolicy.ERROR
    with pytest.raises(MissingTileError, match="N42E124.hgt") as ei:
        t.elevation_m([41.5, 42.5], [124.5, 124.5])
    assert isinstance(ei.value, FileNotFoundError)
    with pytest.raises(MissingTileError, match="N40E124.hgt"):
        t.read_window(40.9, 124.1, 41.1, 124.2)
    t2 = open_terrain(tmp_path, missing="sea-level")
    z = t2.elevation_m([41.5, 42.5, 41.5], [124.5, 124.5, 130.0])
    assert z[1] == 0.0 and z[2] == 0.0
    assert z[0] == pytest.approx(float(linear_field(41.5, 124.5)))
    win = t2.read_window(40.9, 124.1, 41.1, 124.2)
    assert (win.grid_m[win.lat_deg < 41 - 1e-9] == 0).all()
    with pytest.raises(ChoiceError, match="missing"):
        open_terrain(tmp_path, missing="zero")


def test_absent_marker_is_ocean(tmp_path: Path) -> None:
    write_hgt(tmp_path, 41, 124)
    (tmp_path / "N41E125.hgt.absent").write_text("404\n")
    t = open_terrain(tmp_path)
    assert float(t.elevation_m(41.5, 125.5)) == 0.0
    assert "ocean" in t.description


# -------------------------------------------------------------------------------- bad input


def test_bad_coordinates_and_bbox(tmp_path: Path) -> None:
    write_hgt(tmp_path, 41, 124)
    t = open_terrain(tmp_path)
    with pytest.raises(ParameterError, match=r"lat_deg = 91\.0.*-90 to 90"):
        t.elevation_m(91, 124)
    with pytest.raises(ParameterError, match="lon_deg"):
        t.elevation_m(41, -200)
    with pytest.raises(ParameterError, match="lat_deg"):
        t.elevation_m(np.nan, 124)
    with pytest.raises(ParameterError, match=r"bbox.*south <= north"):
        t.read_window(41.6, 124.1, 41.5, 124.2)
    with pytest.raises(ParameterError, match="north"):
        t.read_window(41.5, 124.1, 95, 124.2)


def test_corrupt_files(tmp_path: Path) -> None:
    bad = tmp_path / "hgt"
    bad.mkdir()
    (bad / "N41E124.hgt").write_bytes(b"\x00" * 1000)
    with pytest.raises(TerrainFormatError, match="N41E124.hgt.*not an SRTM tile"):
        open_terrain(bad)
    sdf = tmp_path / "sdf"
    sdf.mkdir()
    (sdf / "41:42:235:236.sdf").write_text("236\n41\n235\n42\nnot a number\n")
    t = open_terrain(sdf)
    with pytest.raises(TerrainFormatError, match="SDF"):
        t.elevation_m(41.5, 124.5)
    trunc = tmp_path / "trunc"
    trunc.mkdir()
    p = write_sdf(trunc, 41, 124)
    p.write_text("\n".join(p.read_text().splitlines()[:5000]))
    with pytest.raises(TerrainFormatError, match="not a SPLAT! SDF tile"):
        open_terrain(trunc).elevation_m(41.5, 124.5)
    tif = tmp_path / "x.tif"
    tif.write_bytes(b"II*\x00garbage")
    with pytest.raises(TerrainFormatError, match="x.tif"):
        open_terrain(tif)
    with pytest.raises(ParameterError, match="source"):
        open_terrain(tmp_path / "nope")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(TerrainFormatError, match="no terrain files"):
        open_terrain(empty)
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    write_hgt(mixed, 41, 124)
    write_sdf(mixed, 41, 125)
    with pytest.raises(TerrainFormatError, match="mixed tile kinds"):
        open_terrain(mixed)


# --------------------------------------------------------------------------------- laziness


def test_tiles_load_lazily_within_cache_bound(tmp_path: Path) -> None:
    for s in range(39, 44):
        for w in range(122, 127):
            write_hgt(tmp_path, s, w)
    t = open_terrain(tmp_path, cache_mb=12)  # a 3" tile is 5.8 MB as float32
    assert len(t.tiles) == 25 and t.cache_info()["loads"] == 0
    t.elevation_m(np.linspace(41.1, 41.9, 50), np.linspace(124.1, 124.9, 50))
    assert t.cache_info()["loads"] == 1
    # sampling everything keeps at most two tiles resident
    rng = np.random.default_rng(8)
    for s in range(39, 44):
        for w in range(122, 127):
            la, lo = rng.uniform(s + 0.01, s + 0.99, 20), rng.uniform(w + 0.01, w + 0.99, 20)
            np.testing.assert_allclose(t.elevation_m(la, lo), linear_field(la, lo), atol=1e-6)
    info = t.cache_info()
    assert info["peak_bytes"] <= info["max_bytes"]
    assert info["bytes"] <= 12 * 2**20
    # cleared: nothing held; read again, the same values
    la, lo = np.linspace(41.1, 41.9, 50), np.linspace(124.1, 124.9, 50)
    before = t.elevation_m(la, lo)
    loads = t.cache_info()["loads"]
    t.clear_cache()
    assert t.cache_info()["bytes"] == 0
    np.testing.assert_array_equal(t.elevation_m(la, lo), before)
    assert t.cache_info()["loads"] == loads + 1


def test_cache_bound_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_hgt(tmp_path, 41, 124)
    monkeypatch.setenv("YALU_TERRAIN_CACHE_MB", "3")
    assert open_terrain(tmp_path).cache_info()["max_bytes"] == 3 * 2**20
    assert open_terrain(tmp_path, cache_mb=5).cache_info()["max_bytes"] == 5 * 2**20
    for bad in ("lots", "0", "-2", "nan", "inf"):
        monkeypatch.setenv("YALU_TERRAIN_CACHE_MB", bad)
        with pytest.raises(ParameterError, match=f"YALU_TERRAIN_CACHE_MB.*{bad}.*MiB > 0"):
            open_terrain(tmp_path)
    # a bad value does not break importing yalu (it is read when terrain is opened)
    env = {**os.environ, "YALU_TERRAIN_CACHE_MB": "lots"}
    done = subprocess.run([sys.executable, "-c", "import yalu.terrain, yalu.scenario"], env=env,
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr


# ------------------------------------------------------------------------------- demo terrain


def test_default_terrain_is_marked_demo_and_matches_source() -> None:
    t = default_terrain()
    assert t.is_demo
    assert "5'" in t.description and "demo" in t.description
    assert "ETOPO5" in (t.attribution or "")
    assert t.bounds == pytest.approx((37, 120, 46, 134), abs=1e-6)
    assert t.resolution_deg == pytest.approx((1 / 12, 1 / 12), rel=1e-6)
    asc = SHARED / "data" / "etopo5_ne_asia.asc"
    if not asc.exists():
        pytest.skip(f"shared ETOPO5 grid not found at {asc}")
    lines = asc.read_text().splitlines()
    grid = np.array([[float(v) for v in line.split()] for line in lines[6:]])
    # node (i, j) at 46 - i/12 N, 120 + j/12 E (cell centres, north row first)
    for i, j in ((0, 0), (50, 96), (108, 168), (20, 100)):
        z = float(t.elevation_m(46 - i / 12, 120 + j / 12))
        assert z == pytest.approx(grid[i, j], abs=1e-6)


def test_no_warnings_on_clean_tiles(tmp_path: Path) -> None:
    write_hgt(tmp_path, 41, 124)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        open_terrain(tmp_path).elevation_m(41.5, 124.5)


def test_terrain_pickles_without_its_cache(tmp_path: Path) -> None:
    import pickle

    write_hgt(tmp_path, 41, 124)
    t = open_terrain(tmp_path, cache_mb=64)
    z = t.elevation_m(41.3, 124.6)
    t2 = pickle.loads(pickle.dumps(t))
    assert t2.cache_info()["loads"] == 0 and t2.cache_info()["max_bytes"] == 64 * 2**20
    assert t2.elevation_m(41.3, 124.6) == z


def test_100km_disc_loads_only_nearby_tiles(tmp_path: Path) -> None:
    from yalu.geodesy import geodesic_points, profiles

    for s in range(39, 44):
        for w in range(123, 128):
            write_hgt(tmp_path, s, w)
    t = open_terrain(tmp_path)
    az = np.arange(0.0, 360.0, 2.0)
    lat, lon = geodesic_points(41.5, 125.5, az, 100e3)
    rp = profiles(t, (41.5, 125.5), np.c_[lat, lon], step_m=500.0)
    np.testing.assert_allclose(rp.elevation_m, linear_field(rp.lat_deg, rp.lon_deg), atol=1e-6)
    # 41.5 N +- 0.9 deg, 125.5 E +- 1.2 deg: the 3 x 3 tiles around the centre, of 25
    assert len(t.tiles) == 25 and t.cache_info()["loads"] == 9


def test_projected_looking_grid_and_broken_gzip_are_rejected(tmp_path: Path) -> None:
    asc = tmp_path / "utm.asc"
    rows = "\n".join(" ".join(["5"] * 4) for _ in range(3))
    asc.write_text(f"ncols 4\nnrows 3\nxllcorner 500000\nyllcorner 4500000\ncellsize 30\n{rows}\n")
    with pytest.raises(TerrainFormatError, match="not a lat/lon grid"):
        open_terrain(asc)
    d = tmp_path / "N41"
    d.mkdir()
    good = gzip.compress(np.rint(hgt_grid(41, 124, 1200)).astype(">i2").tobytes())
    (d / "N41E124.hgt.gz").write_bytes(good[: len(good) // 2] + good[-8:])  # keeps the trailer
    t = open_terrain(tmp_path)
    with pytest.raises(TerrainFormatError, match="N41E124.hgt.gz"):
        t.elevation_m(41.5, 124.5)


def test_fingerprint_names_every_tile_file_and_sees_changes(tmp_path: Path) -> None:
    import os

    paths = [write_hgt(tmp_path, 41, w) for w in (124, 125)]
    t = open_terrain(tmp_path)
    fp = t.fingerprint()
    assert [p for p, _s, _m in fp] == sorted(str(p.resolve()) for p in paths)
    assert all(size == os.path.getsize(p) for (p, size, _m) in fp)
    st = os.stat(paths[1])
    os.utime(paths[1], ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert t.fingerprint() != fp
    paths[0].unlink()
    with pytest.raises(TerrainFormatError, match="unreadable"):
        t.fingerprint()


def _decode_counting(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    from yalu.terrain.core import Terrain

    calls: list[tuple[int, int]] = []
    real = Terrain._decode

    def counting(self, bi, bj):  # type: ignore[no-untyped-def]
        calls.append((bi, bj))
        return real(self, bi, bj)

    monkeypatch.setattr(Terrain, "_decode", counting)
    return calls


def test_shared_blocks_decode_once_and_give_the_same_bits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pickle

    z = hgt_grid(41, 124, 1200)
    z[600, 700] = -32768  # a void: the shared block is the filled one
    write_hgt(tmp_path, 41, 124, z=z)
    write_hgt(tmp_path, 41, 125)
    plain = open_terrain(tmp_path)
    with pytest.warns(VoidFillWarning):
        ref = plain.read_window(41.1, 124.2, 41.9, 125.8).grid_m
    calls = _decode_counting(monkeypatch)
    shared = tmp_path / "blocks"
    shared.mkdir()
    a = plain.with_shared_blocks(shared)
    assert a.cache_info()["loads"] == 0 and plain.cache_info()["loads"] == 2
    with pytest.warns(VoidFillWarning):  # the copy that decodes a block warns of its voids
        np.testing.assert_array_equal(a.read_window(41.1, 124.2, 41.9, 125.8).grid_m, ref)
    assert len(set(calls)) == len(calls) == 2 and len(list(shared.glob("*.npy"))) == 2
    # another copy (as a Dask worker gets it: pickled) loads the saved blocks: no decoding
    b = pickle.loads(pickle.dumps(a))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(b.read_window(41.1, 124.2, 41.9, 125.8).grid_m, ref)
    assert len(calls) == 2 and b.cache_info()["loads"] == 2
    # no leftovers of the writes, and the terrain files untouched
    assert sorted(p.suffix for p in shared.iterdir()) == [".lock", ".lock", ".npy", ".npy"]
    # a directory that is gone: the copy decodes on its own, the same values
    for p in shared.iterdir():
        p.unlink()
    shared.rmdir()
    c = pickle.loads(pickle.dumps(a))
    with pytest.warns(VoidFillWarning):
        np.testing.assert_array_equal(c.read_window(41.1, 124.2, 41.9, 125.8).grid_m, ref)
    assert len(calls) == 4 and not shared.exists()


def test_shared_blocks_between_processes(tmp_path: Path) -> None:
    """Two processes at once: each block is decoded by one of them (the lock), both read the
    same values."""
    write_hgt(tmp_path, 41, 124)
    write_hgt(tmp_path, 41, 125)
    shared = tmp_path / "blocks"
    shared.mkdir()
    code = (
        "import sys, numpy as np\n"
        "from yalu.terrain import open_terrain\n"
        "from yalu.terrain import core\n"
        "from yalu.terrain.core import Terrain\n"
        "core.MAX_ABS_ELEVATION_M = 40_000.0  # as this directory's conftest\n"
        "n = [0]\n"
        "real = Terrain._decode\n"
        "def counting(self, bi, bj):\n"
        "    n[0] += 1\n"
        "    return real(self, bi, bj)\n"
        "Terrain._decode = counting\n"
        f"t = open_terrain({str(tmp_path)!r}).with_shared_blocks({str(shared)!r})\n"
        "g = t.read_window(41.1, 124.2, 41.9, 125.8).grid_m\n"
        "print(n[0], float(np.float64(g.astype(np.float64).sum())))\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sum(int(o[0]) for o in outs) == 2  # two blocks, each decoded once in all
    assert outs[0][1] == outs[1][1]
    ref = open_terrain(tmp_path).read_window(41.1, 124.2, 41.9, 125.8).grid_m
    assert outs[0][1] == repr(float(ref.astype(np.float64).sum()))
