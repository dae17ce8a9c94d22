"""GeoTIFF writer/reader: georeferencing, tiling, compression, tags, atomicity."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import xarray as xr

from yalu.errors import InputError, OutputExistsError, ParameterError
from yalu.geodesy.grid import Grid
from yalu.io.raster import read_geotiff, write_geotiff


def _map(shape=(300, 420)):
    g = Grid(41.5, 24.0, 1 / 1200, 1 / 1200, *shape)
    rng = np.random.default_rng(0)
    data = rng.normal(150, 20, shape).astype(np.float32)
    data[:5, :7] = np.nan
    return xr.DataArray(
        data, dims=("lat", "lon"), coords={"lat": g.lats(), "lon": g.lons()}, name="path_loss_db",
        attrs={"crs": "EPSG:4326", "transform": g.transform, "nodata": float("nan"), "model": "itm",
               "frequency_mhz": 900.0, "itm_mdvar": 12, "fast_refine": True},
    ), g  # fmt: skip


def test_roundtrip_dataarray(tmp_path):
    m, g = _map()
    p = write_geotiff(tmp_path / "loss.tif", m)
    with rasterio.open(p) as ds:
        assert ds.dtypes == ("float32",)
        assert ds.crs.to_epsg() == 4326
        assert ds.profile["compress"] == "deflate"
        assert ds.profile["tiled"] and ds.block_shapes[0] == (256, 256)
        assert np.isnan(ds.nodata)
        tags = ds.tags()
        # pixel centre of (0, 0) is the first node
        x, y = ds.transform @ (0.5, 0.5)
        assert x == pytest.approx(g.west_deg, abs=1e-12)
        assert y == pytest.approx(g.north_deg, abs=1e-12)
    assert tags["model"] == "itm" and tags["frequency_mhz"] == "900.0"
    assert tags["itm_mdvar"] == "12" and tags["fast_refine"] == "True"
    back = read_geotiff(p)
    assert back.dims == ("lat", "lon")
    np.testing.assert_array_equal(back.values, m.values)
    np.testing.assert_allclose(back.lat.values, g.lats(), atol=1e-12)
    np.testing.assert_allclose(back.lon.values, g.lons(), atol=1e-12)
    assert back.attrs["model"] == "itm"
    g2 = Grid.from_transform(back.attrs["transform"], back.shape)
    assert g2.north_deg == pytest.approx(g.north_deg) and g2.n_cols == g.n_cols


def test_plain_array_integer_and_small(tmp_path):
    g = Grid(41.0, 24.0, 0.01, 0.01, 3, 4)
    idx = np.array([[0, 1, -1, 2], [1, 1, 0, -1], [2, 2, 2, 0]], dtype=np.int16)
    p = write_geotiff(tmp_path / "best.tif", idx, transform=g.transform, nodata=-1,
                      tags={"sites": ["a", "b", "c"]})  # fmt: skip
    with rasterio.open(p) as ds:
        assert ds.dtypes == ("int16",)
        assert ds.nodata == -1
        np.testing.assert_array_equal(ds.read(1), idx)
        assert ds.tags()["sites"] == '["a", "b", "c"]'


def test_refuses_overwrite_and_is_atomic(tmp_path):
    m, _ = _map((20, 30))
    p = tmp_path / "a.tif"
    write_geotiff(p, m)
    before = p.read_bytes()
    with pytest.raises(OutputExistsError):
        write_geotiff(p, m)
    # a failure while writing leaves the old file and no temporary behind
    with pytest.raises(ParameterError):
        write_geotiff(p, m.values, overwrite=True)  # no transform
    assert p.read_bytes() == before
    m2 = m.copy(data=m.values + 1)
    write_geotiff(p, m2, overwrite=True)
    assert read_geotiff(p).values[10, 10] == m2.values[10, 10]
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a.tif"]


def test_bad_input(tmp_path):
    with pytest.raises(ParameterError, match="data"):
        write_geotiff(tmp_path / "x.tif", np.zeros(5), transform=(1, 0, 0, 0, -1, 0))
    with pytest.raises(InputError, match="no such"):
        read_geotiff(tmp_path / "missing.tif")
    (tmp_path / "junk.tif").write_bytes(b"not a tiff")
    with pytest.raises(InputError, match="unreadable"):
        read_geotiff(tmp_path / "junk.tif")


def test_read_back_checks_every_band_of_rows(tmp_path):
    """The written file is compared with the data over its whole height, band by band: a
    difference in the last rows (beyond the first bands read) is found and named."""
    from yalu.errors import OutputError
    from yalu.io.raster import _read_back

    data = np.arange(700 * 300, dtype=np.float32).reshape(700, 300)
    data[:3, :3] = np.nan
    p = write_geotiff(tmp_path / "m.tif", data, transform=(0.01, 0, 10, 0, -0.01, 11))
    _read_back(p, data.shape, lambda r0, r1: data[r0:r1], p)  # the file as written agrees
    for row in (0, 299, 699):
        other = data.copy()
        other[row, 150] += 1.0
        with pytest.raises(OutputError, match=f"rows .*{row // 256 * 256}-"):
            _read_back(p, other.shape, lambda r0, r1, o=other: o[r0:r1], p)


_MEMORY_PROBE = """
import resource, sys
import numpy as np
import rasterio  # noqa: F401 - its import is not the write's memory
from yalu.io.raster import write_geotiff
n = 4096
a = np.empty((n, n), np.float32)
for r in range(0, n, 256):
    a[r:r + 256] = np.add.outer(np.arange(r, r + 256, dtype=np.float32) * 0.25,
                                np.arange(n, dtype=np.float32) * 0.5)
a[:100, :100] = np.nan
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the map is the peak so far
write_geotiff(sys.argv[1], a, transform=(1 / 1200, 0, 24, 0, -1 / 1200, 42), nodata=float('nan'))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(peak - before)
"""


def test_writing_and_reading_back_a_big_map_holds_a_band_not_the_map(tmp_path):
    """A 64 MiB float32 map is written and read back for verification in bands of one row of
    blocks, with GDAL's block cache bounded in both: the process grows by less than the map
    itself (it grew by ~3 maps when a whole map went through GDAL's default cache)."""
    import subprocess
    import sys

    out = tmp_path / "big.tif"
    r = subprocess.run([sys.executable, "-c", _MEMORY_PROBE, str(out)], capture_output=True,
                       text=True, timeout=300)  # fmt: skip
    assert r.returncode == 0, r.stderr
    grew_mb = float(r.stdout.strip())
    assert grew_mb < 48.0, f"writing a 64 MiB map grew the process by {grew_mb:.0f} MiB"
    with rasterio.open(out) as ds:
        assert ds.shape == (4096, 4096)
        assert np.isnan(ds.read(1, window=((0, 1), (0, 1))))[0, 0]


@pytest.mark.parametrize("dtype", [None, np.uint8])
def test_a_layer_on_disk_is_written_by_bands_as_in_memory(tmp_path, monkeypatch, dtype):
    """A layer on disk (a DiskArray) is written and checked a band of rows at a time, never
    read whole, into the same file bytes as the array in memory (with a conversion too)."""
    from yalu.io.spill import DiskArray

    rng = np.random.default_rng(2)
    data = rng.normal(0, 50, size=(700, 300)).astype(np.float32)
    data[rng.random(data.shape) < 0.1] = np.nan
    if dtype is not None:
        data = rng.integers(-1, 4, size=(700, 300)).astype(np.int8)
    np.save(tmp_path / "d.npy", data)
    disk = DiskArray(tmp_path / "d.npy", data.shape, data.dtype)
    t = (0.01, 0, 10, 0, -0.01, 11)
    a = write_geotiff(tmp_path / "a.tif", data, transform=t, dtype=dtype, tags={"k": "v"})
    monkeypatch.setattr(DiskArray, "read", lambda self: pytest.fail("read whole"))
    b = write_geotiff(tmp_path / "b.tif", disk, transform=t, dtype=dtype, tags={"k": "v"})
    assert a.read_bytes() == b.read_bytes()
    got = read_geotiff(b).values
    want = data.astype(dtype) if dtype is not None else data
    np.testing.assert_array_equal(got, want)
