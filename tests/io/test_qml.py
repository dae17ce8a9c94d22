"""Categorical GeoTIFFs with colour tables and category names; QGIS styles beside rasters."""

import dataclasses
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import rasterio
from hypothesis import given, settings
from hypothesis import strategies as st

from yalu.errors import ParameterError
from yalu.io.layerstyle import SERVICE_CATEGORIES, category_rgba, layer_style
from yalu.io.qml import write_raster_styles
from yalu.io.raster import write_geotiff

T = (0.1, 0.0, 10.0, 0.0, -0.1, 50.0)


def _rgb(h):
    return tuple(int(h[k : k + 2], 16) for k in (1, 3, 5))


def test_service_level_palette_names_and_style(tmp_path):
    st = layer_style("service_level", ["gsm", "lte"])
    p = tmp_path / "service_level.tif"
    a = np.array([[0, 1, 2, 3]], np.uint8)
    cmap = {k: c for k, (c, _l) in category_rgba(st).items()}
    write_geotiff(
        p,
        a,
        transform=T,
        nodata=255,
        colormap=cmap,
        tags={"category_names": {"0": "no service", "1": "SMS"}},
    )
    files = write_raster_styles(p, st, None, None, a.dtype)
    assert [f.name for f in files] == ["service_level.qml", "service_level.tif.aux.xml"]
    with rasterio.open(p) as src:
        assert src.colorinterp[0].name == "palette"
        cm = src.colormap(1)
        for v, _lab, h in SERVICE_CATEGORIES:
            assert cm[v][:3] == _rgb(h)
        assert src.read(1).tolist() == [[0, 1, 2, 3]]
        assert '"1": "SMS"' in src.tags()["category_names"]
    pam = ET.parse(files[1]).getroot()
    assert [c.text for c in pam.iter("Category")] == ["no service", "SMS", "voice", "data"]
    rows = [[f.text for f in r] for r in pam.iter("Row")]
    assert rows[3] == ["3", "data", "8", "81", "156", "255"] and rows[0][-1] == "0"
    q = ET.parse(files[0]).getroot()
    assert q.tag == "qgis" and q.find("pipe/rasterrenderer").get("type") == "paletted"
    entries = [
        (e.get("value"), e.get("label"), e.get("color"), e.get("alpha"))
        for e in q.iter("paletteEntry")
    ]
    assert entries == [
        ("0", "no service", "#ffffff", "0"),
        ("1", "SMS", "#c6dbef", "255"),
        ("2", "voice", "#6baed6", "255"),
        ("3", "data", "#08519c", "255"),
    ]


def test_best_server_int32_table_is_read_by_gdal(tmp_path):
    """A GeoTIFF palette holds 8/16-bit bands only: the int32 best server gets its colours and
    names from the PAM .aux.xml, which GDAL reads (rasterio's colormap comes through GDAL)."""
    st = layer_style("best_server")
    labels = [f"site{k}" for k in range(25)]
    p = tmp_path / "best_server.tif"
    a = np.arange(-1, 24, dtype=np.int32).reshape(5, 5)
    write_geotiff(p, a, transform=T, nodata=-1)
    write_raster_styles(p, st, labels, None, a.dtype)
    with rasterio.open(p) as src:
        cm = src.colormap(1)
        assert cm[0][:3] == _rgb("#1f77b4") and cm[20] == cm[0] and cm[21][:3] == _rgb("#aec7e8")
    pam = ET.parse(str(p) + ".aux.xml").getroot()
    assert [c.text for c in pam.iter("Category")] == labels
    q = ET.parse(tmp_path / "best_server.qml").getroot()
    assert [e.get("label") for e in q.iter("paletteEntry")] == labels
    with pytest.raises(ParameterError, match="colormap"):
        write_geotiff(tmp_path / "x.tif", a, transform=T, colormap={0: (0, 0, 0, 255)})


def test_continuous_style_marks_the_thresholds(tmp_path):
    st = layer_style("rsrp_dbm", ["gsm", "lte"])
    p = tmp_path / "rsrp_dbm.tif"
    write_geotiff(p, np.full((3, 3), -100.0, np.float32), transform=T)
    files = write_raster_styles(p, st, None, (-130.0, -50.0))
    assert [f.name for f in files] == ["rsrp_dbm.qml"]
    q = ET.parse(files[0]).getroot()
    sh = q.find("pipe/rasterrenderer/rastershader/colorrampshader")
    assert sh.get("colorRampType") == "INTERPOLATED"
    items = [(float(i.get("value")), i.get("label")) for i in sh.iter("item")]
    vals = [v for v, _ in items]
    assert vals == sorted(vals) and vals[0] == -130 and vals[-1] == -50
    labs = dict(items)
    assert "LTE RSRP sms" in labs[-124.0] and "GSM RxLev sms" in labs[-104.0]
    assert "GSM RxLev voice" in labs[-102.0] and "LTE RSRP data" in labs[-110.0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16])
@pytest.mark.parametrize("chunk", [7, 1 << 20])
def test_colour_range_is_numpy_percentile_of_the_finite_values(dtype, chunk, monkeypatch):
    """The colour range, built from the finite values a chunk at a time, is bit for bit
    ``numpy.percentile`` (2 and 98) of the whole grid's finite values as float64; the grid
    is left as it was."""
    import yalu.io.layerstyle as ls

    monkeypatch.setattr(ls, "_FINITE_CHUNK", chunk)
    rng = np.random.default_rng(11)
    a = (rng.normal(-90, 15, size=(61, 47))).astype(dtype)
    if a.dtype.kind == "f":
        a[rng.random(a.shape) < 0.3] = np.nan
        a[0, :3] = [np.inf, -np.inf, np.nan]
    keep = a.copy()
    v = a.astype(float)
    fin = v[np.isfinite(v)]
    want = (float(np.percentile(fin, 2)), float(np.percentile(fin, 98)))
    style = dataclasses.replace(layer_style("rsrp_dbm"), vmin=None, vmax=None)
    assert style.value_range(a) == want
    np.testing.assert_array_equal(ls.finite_float64(a), fin)
    np.testing.assert_array_equal(a, keep)
    assert style.value_range(np.full(5, np.nan, dtype=np.float32)) == (0.0, 1.0)
    fixed = dataclasses.replace(style, vmin=-120.0, vmax=-50.0)
    assert fixed.value_range(a) == (-120.0, -50.0)


@pytest.mark.parametrize("band_px", [50, 1 << 20])
def test_rgba_image_by_bands_is_the_colour_map_of_every_pixel(band_px, monkeypatch):
    """A continuous layer coloured a band of rows at a time is, pixel for pixel, matplotlib's
    colour map of the clipped, scaled value (NaN and infinities transparent)."""
    from matplotlib import colormaps

    import yalu.io.layerstyle as ls

    monkeypatch.setattr(ls, "_RGBA_BAND_PX", band_px)
    rng = np.random.default_rng(5)
    a = rng.normal(-90, 20, size=(37, 23)).astype(np.float32)
    a[rng.random(a.shape) < 0.2] = np.nan
    a[3, :2] = [np.inf, -np.inf]
    style = layer_style("rsrp_dbm")
    lo, hi = -110.0, -60.0
    img = ls.rgba_image(style, a, value_range=(lo, hi))
    assert img.shape == (37, 23, 4) and img.dtype == np.uint8
    fin = np.isfinite(a)
    want = colormaps[style.cmap](np.clip((a[fin].astype(float) - lo) / (hi - lo), 0, 1),
                                 bytes=True)  # fmt: skip
    np.testing.assert_array_equal(img[fin], want)
    assert not img[~fin].any()


def _numpy_percentiles(values, q):
    """The reference: numpy.percentile of the finite values as float64."""
    v = np.asarray(values, dtype=np.float64).ravel()
    fin = v[np.isfinite(v)]
    return [float(x) for x in np.percentile(fin, q)] if fin.size else [None] * len(q)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=0, max_size=300
    ),  # fmt: skip
    st.lists(st.floats(0, 100), min_size=1, max_size=4),
    st.integers(1, 64),
)
def test_finite_percentiles_are_numpys_bit_for_bit(values, q, chunk):
    """Radix selection by bands gives numpy.percentile's answer exactly, for any float32
    values (NaN, infinities, signed zeros, ties) and percentiles, whatever the band size."""
    import yalu.io.layerstyle as ls

    a = np.array(values, dtype=np.float32)
    old = ls._FINITE_CHUNK
    ls._FINITE_CHUNK = chunk
    try:
        got = ls.finite_percentiles(a, q)
        cut = a[: a.size - a.size % 3]
        got_2d = ls.finite_percentiles(cut.reshape(-1, 3), q) if cut.size else None
    finally:
        ls._FINITE_CHUNK = old
    assert got == _numpy_percentiles(a, q)
    if got_2d is not None:
        assert got_2d == _numpy_percentiles(cut, q)


def test_finite_percentiles_read_an_array_on_disk_by_bands(tmp_path, monkeypatch):
    """A layer on disk is read a band of rows at a time, never whole, and gives the same
    percentiles as in memory; other dtypes and no finite value are handled, bad q refused."""
    import yalu.io.layerstyle as ls
    from yalu.io.spill import DiskArray

    rng = np.random.default_rng(11)
    a = rng.normal(-95, 25, size=(120, 33)).astype(np.float32)
    a[rng.random(a.shape) < 0.3] = np.nan
    a[5, :4] = [np.inf, -np.inf, 0.0, -0.0]
    np.save(tmp_path / "layer.npy", a)
    disk = DiskArray(tmp_path / "layer.npy", a.shape, a.dtype)
    monkeypatch.setattr(DiskArray, "read", lambda self: pytest.fail("read whole"))
    monkeypatch.setattr(ls, "_FINITE_CHUNK", 200)
    q = [2.0, 98.0, 50.0]
    assert ls.finite_percentiles(disk, q) == _numpy_percentiles(a, q)
    style = dataclasses.replace(layer_style("rsrp_dbm"), vmin=None, vmax=None)
    p2, p98 = _numpy_percentiles(a, [2, 98])
    assert style.value_range(disk) == (p2, p98)
    # float64 and integer layers: numpy's answer too
    b = rng.normal(0, 1, 500)
    assert ls.finite_percentiles(b, q) == _numpy_percentiles(b, q)
    c = rng.integers(-9, 9, 500).astype(np.int16)
    assert ls.finite_percentiles(c, q) == _numpy_percentiles(c, q)
    assert ls.finite_percentiles(np.full(4, np.nan, np.float32), q) == [None] * 3
    with pytest.raises(ParameterError, match="q"):
        ls.finite_percentiles(a, [101.0])


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.floats(-300, 300, width=32) | st.sampled_from([np.nan, np.inf, -np.inf]), max_size=200
    ),
    st.sampled_from(["float32", "float64", "int32", "uint8", "int16"]),
    st.integers(1, 40),
)
def test_present_categories_are_the_whole_arrays_by_bands(values, dtype, chunk):
    """The categories found band by band are those of the whole array's distinct finite
    values as int, for float layers with NaN and infinities and for integer layers, whatever
    the band size, in memory and 2-D."""
    import yalu.io.layerstyle as ls

    a = np.array(values, dtype=np.float64)
    if np.dtype(dtype).kind != "f":
        info = np.iinfo(dtype)
        a = np.clip(np.nan_to_num(a, nan=0.0, posinf=info.max, neginf=info.min),
                    info.min, info.max)  # fmt: skip
    a = a.astype(dtype)
    ref = set(np.unique(a[np.isfinite(a.astype(float))]).astype(int).tolist())
    old = ls._FINITE_CHUNK
    ls._FINITE_CHUNK = chunk
    try:
        got = ls.present_categories(a)
        cut = a[: a.size - a.size % 4]
        got_2d = ls.present_categories(cut.reshape(-1, 4)) if cut.size else set()
    finally:
        ls._FINITE_CHUNK = old
    assert got == ref
    assert got_2d == set(np.unique(cut[np.isfinite(cut.astype(float))]).astype(int).tolist())
