"""PNG maps: written atomically, georeferenced extent, legend for categorical layers."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from yalu.coverage.grid import Grid
from yalu.errors import OutputExistsError, ParameterError
from yalu.io.maps import nice_scale_km, plot_map


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
    cats = {0: ("none", "#ffffff"), 1: ("SMS", "#00ff00"), 2: ("voice", "#0000ff"), 3: ("data", "#ff00ff")}
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
