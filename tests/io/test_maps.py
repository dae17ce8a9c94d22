"""PNG maps: written atomically, georeferenced extent, legend for categorical layers."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from yalu.errors import OutputExistsError, ParameterError
from yalu.geodesy.grid import Grid
from yalu.io.maps import area_outline, nice_scale_km, plot_map


def test_nice_scale():
    assert nice_scale_km(100.0) == 20.0
    assert nice_scale_km(12.0) == 2.0
    assert nice_scale_km(0.9) == 0.1
    assert nice_scale_km(260.0) == 50.0
    with pytest.raises(ParameterError):
        nice_scale_km(0.0)


def test_continuous_map_png(tmp_path):
    g = Grid(41.6, 24.0, 1 / 1200, 1 / 1200, 240, 300)
    la, lo = np.meshgrid(g.lats(), g.lons(), indexing="ij")
    data = (100 + 200 * np.hypot(la - 41.5, lo - 24.12)).astype(np.float32)
    data[:20] = np.nan
    p = plot_map(tmp_path / "m.png", data, transform=g.transform, title="loss", units="dB",
                 sites=[(41.5, 24.12, "TX")], note="demo")  # fmt: skip
    im = np.asarray(Image.open(p).convert("RGB"))
    assert im.shape[0] > 300 and im.shape[1] > 300
    # a red site marker is drawn
    red = (im[..., 0] > 200) & (im[..., 1] < 60) & (im[..., 2] < 60)
    assert red.sum() > 10
    with pytest.raises(OutputExistsError):
        plot_map(p, data, transform=g.transform)
    plot_map(p, data, transform=g.transform, overwrite=True)


def test_categorical_map_has_legend_colours(tmp_path):
    g = Grid(41.6, 24.0, 0.01, 0.01, 50, 60)
    levels = np.zeros((50, 60), dtype=np.int8)
    levels[10:30, 10:30] = 1
    levels[30:, 30:] = 3
    cats = {
        0: ("none", "#ffffff"),
        1: ("SMS", "#00ff00"),
        2: ("voice", "#0000ff"),
        3: ("data", "#ff00ff"),
    }
    p = plot_map(tmp_path / "svc.png", levels, transform=g.transform, categories=cats)
    im = np.asarray(Image.open(p).convert("RGB")).astype(int)
    green = (im[..., 0] < 40) & (im[..., 1] > 215) & (im[..., 2] < 40)
    magenta = (im[..., 0] > 215) & (im[..., 1] < 40) & (im[..., 2] > 215)
    blue = (im[..., 0] < 40) & (im[..., 1] < 40) & (im[..., 2] > 215)
    assert green.sum() > 100 and magenta.sum() > 100
    assert blue.sum() > 0  # only in the legend patch
    assert blue.sum() < green.sum()


def test_bad_input(tmp_path):
    with pytest.raises(ParameterError, match="data"):
        plot_map(tmp_path / "x.png", np.zeros(3), transform=(1, 0, 0, 0, -1, 0))
    with pytest.raises(ParameterError, match="transform"):
        plot_map(tmp_path / "x.png", np.zeros((3, 3)))


# ---------------------------------------------------------------------------------------------
# maps of a scenario run: layers on a grid with overlays


def _hex(c):
    return tuple(int(c[i : i + 2], 16) for i in (1, 3, 5))


def _near(im, rgb, tol=12):
    return (np.abs(im[..., :3] - np.array(rgb)) <= tol).all(axis=-1)


@pytest.fixture
def run_grid():
    g = Grid(42.0, 124.0, 0.01, 0.01, 60, 80)
    la, lo = np.meshgrid(g.lats(), g.lons(), indexing="ij")
    dist = np.hypot(la - 41.7, (lo - 124.4) * 0.75)
    return g, dist


def test_service_map_colours_levels_and_leaves_none_blank(tmp_path, run_grid):
    from yalu.io.maps import SERVICE_COLOURS, write_service_png

    g, dist = run_grid
    svc = np.select([dist < 0.08, dist < 0.16, dist < 0.24], [3, 2, 1], 0).astype(np.uint8)
    overlays = {"sites": [(41.7, 124.4)], "jammers": [(41.5, 124.6)]}
    p = write_service_png(
        tmp_path / "m" / "svc.png", svc, g, title="service", width_px=700, overlays=overlays
    )
    im = np.asarray(Image.open(p).convert("RGB")).astype(int)
    counts = [int(_near(im, _hex(c)).sum()) for c in SERVICE_COLOURS[1:]]
    # areas grow outward: SMS ring > voice ring > data disc, each well drawn
    assert counts[0] > counts[1] > counts[2] > 500, counts
    assert _near(im, (0xF2, 0xF2, 0xF2), 2).sum() > 1000  # "none": the background shows
    assert _near(im, (0xE3, 0x1A, 0x1C), 30).sum() > 10  # red site marker
    with pytest.raises(OutputExistsError):
        write_service_png(p, svc, g, title="service")
    assert not list(p.parent.glob(".*part"))


def test_layer_maps_are_reproducible_and_checked(tmp_path, run_grid):
    from yalu.io.maps import write_layer_png

    g, dist = run_grid
    rsrp = np.where(dist < 0.3, -60 - 200 * dist, np.nan)
    a = write_layer_png(tmp_path / "a.png", rsrp, g, title="rsrp", units="dBm", vmin=-130,
                        vmax=-60, note="COARSE DEMO TERRAIN")  # fmt: skip
    b = write_layer_png(tmp_path / "b.png", rsrp, g, title="rsrp", units="dBm", vmin=-130,
                        vmax=-60, note="COARSE DEMO TERRAIN")  # fmt: skip
    assert a.read_bytes() == b.read_bytes()  # no timestamp in the file
    best = np.where(dist < 0.2, (dist * 40).astype(int), -1)
    c = write_layer_png(tmp_path / "c.png", best, g, title="best", units="",
                        categorical_labels=[f"s{i}" for i in range(10)])  # fmt: skip
    im = np.asarray(Image.open(c).convert("RGB")).astype(int)
    from matplotlib import colormaps

    tab = colormaps["tab20"]
    for i in (0, 3, 7):  # categories present take their tab20 colour
        rgb = tuple(int(round(255 * v)) for v in tab(i)[:3])
        assert _near(im, rgb, 3).sum() > 50, i
    with pytest.raises(ParameterError, match="data"):
        write_layer_png(tmp_path / "d.png", rsrp[:, :-1], g, title="x", units="dB")
    a2 = write_layer_png(tmp_path / "a.png", rsrp, g, title="rsrp", units="dBm",
                         overwrite=True)  # fmt: skip
    assert a2.read_bytes() != b.read_bytes()  # default range differs, and it was replaced


def test_area_outline_follows_the_pixel_edges_in_degrees():
    g = Grid(41.6, 24.0, 0.01, 0.02, 40, 50)
    mask = np.zeros((40, 50), dtype=bool)
    mask[5:15, 10:31] = True  # rows 5..14, columns 10..30
    mask[25:30, 40:45] = True  # a second, separate part
    lines = area_outline(mask, g)
    assert len(lines) == 2
    boxes = sorted((ln[:, 0].min(), ln[:, 0].max(), ln[:, 1].min(), ln[:, 1].max()) for ln in lines)
    # nodes are pixel centres: the outline runs half a node spacing outside the outer nodes
    expect = sorted([
        (24.0 + 0.02 * 9.5, 24.0 + 0.02 * 30.5, 41.6 - 0.01 * 14.5, 41.6 - 0.01 * 4.5),
        (24.0 + 0.02 * 39.5, 24.0 + 0.02 * 44.5, 41.6 - 0.01 * 29.5, 41.6 - 0.01 * 24.5),
    ])  # fmt: skip
    np.testing.assert_allclose(boxes, expect, atol=1e-9)
    for ln in lines:
        np.testing.assert_array_equal(ln[0], ln[-1])  # closed
    assert area_outline(np.zeros((40, 50), dtype=bool), g) == []
    assert area_outline(np.ones((40, 50), dtype=bool), g) == []  # everything: no outline
    with pytest.raises(ParameterError, match="mask"):
        area_outline(mask[:, :-1], g)


def test_save_png_releases_the_figure(tmp_path):
    from matplotlib.figure import Figure

    from yalu.io._style import save_png

    fig = Figure()
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(np.zeros((50, 50)))
    save_png(fig, tmp_path / "f.png", overwrite=False)
    assert (tmp_path / "f.png").stat().st_size > 0
    # cleared: the image (and its arrays) no longer hang on the figure until a garbage collection
    assert fig.axes == [] and fig.images == []


def test_grids_finer_than_the_figure_are_drawn_from_each_blocks_centre_node():
    from matplotlib.figure import Figure

    from yalu.io.maps import _display_sample

    fig = Figure(figsize=(4.0, 3.0), dpi=100)  # 400 x 300 px
    arr = np.arange(1000 * 1300, dtype=np.int64).reshape(1000, 1300)
    ext = (124.0, 125.3, 41.0, 42.0)  # 0.001 deg a node
    shown, sext = _display_sample(arr, ext, fig)
    kr, kc = 1000 // 300, 1300 // 400  # 3 rows, 3 columns a pixel
    assert shown.shape == (1000 // kr, 1300 // kc) == (333, 433)
    r, c = 7, 100
    assert shown[r, c] == arr[r * kr + kr // 2, c * kc + kc // 2]
    # the blocks drawn cover 999 rows and 1299 columns from the north-west corner
    assert sext == pytest.approx((124.0, 124.0 + 1.299, 42.0 - 0.999, 42.0), abs=1e-12)
    small = arr[:250, :350]
    same, sext2 = _display_sample(small, ext, fig)
    assert same is small and sext2 == ext


def test_a_fine_grid_draws_as_its_coarse_twin(tmp_path):
    """Blocks of 10 x 10 equal nodes: the fine grid (sampled for the figure) and the grid of
    one node per block draw the same picture."""
    from yalu.io.maps import write_service_png

    rng = np.random.default_rng(5)
    coarse = rng.integers(0, 4, size=(120, 160)).astype(np.int8)
    fine = np.repeat(np.repeat(coarse, 10, axis=0), 10, axis=1)
    # steps of 1/1024 deg: both extents exact in binary, so the axes and ticks are the same
    d = 1 / 1024
    gc = Grid(42.0, 124.0, 10 * d, 10 * d, 120, 160)
    gf = Grid(42.0 + 4.5 * d, 124.0 - 4.5 * d, d, d, 1200, 1600)  # the same cell edges
    a = write_service_png(tmp_path / "c.png", coarse, gc, title="t", width_px=500)
    b = write_service_png(tmp_path / "f.png", fine, gf, title="t", width_px=500)
    ia = np.asarray(Image.open(a).convert("RGB")).astype(int)
    ib = np.asarray(Image.open(b).convert("RGB")).astype(int)
    assert ia.shape == ib.shape
    differ = np.abs(ia - ib).max(axis=-1) > 40
    # a block's edge moves by less than a pixel: pixels differ only beside an edge of the
    # coarse picture (a neighbour within one pixel of another colour)
    col = ia[..., 0] * 65536 + ia[..., 1] * 256 + ia[..., 2]
    edge = np.zeros(col.shape, bool)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            edge |= np.roll(np.roll(col, dy, axis=0), dx, axis=1) != col
    assert not (differ & ~edge).any(), int((differ & ~edge).sum())
    # and the map is not blank: every level is drawn
    from yalu.io.maps import SERVICE_COLOURS

    for colour in SERVICE_COLOURS[1:]:
        assert _near(ib, _hex(colour)).sum() > 500


def test_a_layer_on_disk_draws_as_in_memory_reading_only_the_shown_rows(tmp_path, monkeypatch):
    """A fine layer that waits on disk (a DiskArray) draws the same PNG bytes as the array in
    memory, for continuous layers and service levels, without reading the whole file."""
    from yalu.io.maps import write_layer_png, write_service_png
    from yalu.io.spill import DiskArray

    rng = np.random.default_rng(8)
    d = 1 / 1024
    grid = Grid(42.0, 124.0, d, d, 1200, 1600)
    val = rng.normal(-90, 15, size=grid.shape).astype(np.float32)
    val[:100] = np.nan
    lev = rng.integers(0, 4, size=grid.shape).astype(np.int8)
    np.save(tmp_path / "val.npy", val)
    np.save(tmp_path / "lev.npy", lev)

    def draw(val, lev, tag):  # type: ignore[no-untyped-def]
        a = write_layer_png(tmp_path / f"{tag}a.png", val, grid, title="t", units="dBm",
                            width_px=500, vmin=-110.0, vmax=-60.0)  # fmt: skip
        b = write_service_png(tmp_path / f"{tag}b.png", lev, grid, title="t", width_px=500)
        return [a.read_bytes(), b.read_bytes()]

    want = draw(val, lev, "mem")
    rows_read: list[int] = []
    real_rows = DiskArray.rows

    def rows(self, r0, r1):  # type: ignore[no-untyped-def]
        rows_read.append(r1 - r0)
        return real_rows(self, r0, r1)

    monkeypatch.setattr(DiskArray, "read", lambda self: pytest.fail("read whole"))
    monkeypatch.setattr(DiskArray, "rows", rows)
    got = draw(DiskArray(tmp_path / "val.npy", grid.shape, np.float32),
               DiskArray(tmp_path / "lev.npy", grid.shape, np.int8), "disk")  # fmt: skip
    assert got == want
    # the shown rows only: a few hundred of the 1200, one at a time, for each map
    assert 0 < len(rows_read) <= 2 * 600 and set(rows_read) == {1}
