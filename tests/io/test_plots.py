"""The terrain profile chart of ``yalu profile``."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from yalu.errors import OutputExistsError
from yalu.io.plots import write_profile_png
from yalu.propagation.clearance import path_clearance


def test_profile_chart(tmp_path):
    d = np.linspace(0.0, 20e3, 81)
    z = 100.0 + 60.0 * np.exp(-(((d - 12e3) / 2e3) ** 2))
    prof = SimpleNamespace(
        lat_deg=np.linspace(41.0, 41.1, 81), lon_deg=np.linspace(124.0, 124.2, 81)
    )
    c = path_clearance(d, z, 40.0, 1.5, 900.0)
    p = write_profile_png(tmp_path / "p.png", prof, c, terrain_description="synthetic",
                          is_demo=True)  # fmt: skip
    im = np.asarray(Image.open(p).convert("RGB")).astype(int)
    assert im.shape[1] > 800
    red = (im[..., 0] > 200) & (im[..., 1] < 60) & (im[..., 2] < 60)  # Fresnel zone, antennas
    assert red.sum() > 200
    with pytest.raises(OutputExistsError):
        write_profile_png(p, prof, c)
    # without a frequency there is no Fresnel zone: far less red (the antenna markers only)
    q = write_profile_png(tmp_path / "q.png", prof, path_clearance(d, z, 40.0, 1.5))
    im2 = np.asarray(Image.open(q).convert("RGB")).astype(int)
    red2 = (im2[..., 0] > 200) & (im2[..., 1] < 60) & (im2[..., 2] < 60)
    assert 0 < red2.sum() < red.sum() / 2


def test_tornado_png_written_atomically(tmp_path):
    from yalu.io.plots import write_tornado_png

    bars = [
        {
            "name": "power",
            "p10_value": -3,
            "p90_value": 3,
            "at_p10": 90.0,
            "at_p90": 120.0,
            "area_at_p10": 5.0,
            "area_at_p90": 9.0,
        },
        {
            "name": "height",
            "p10_value": -8,
            "p90_value": 8,
            "at_p10": 100.0,
            "at_p90": 105.0,
            "area_at_p10": 6.0,
            "area_at_p90": 7.0,
        },
    ]
    p = write_tornado_png(
        tmp_path / "t.png",
        bars,
        [("people", 100.0, "at_p10", "at_p90"), ("km²", 6.5, "area_at_p10", "area_at_p90")],
    )
    assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [x.name for x in tmp_path.iterdir()] == ["t.png"]
    import pytest

    from yalu.errors import OutputExistsError

    with pytest.raises(OutputExistsError):
        write_tornado_png(tmp_path / "t.png", bars, [("people", 100.0, "at_p10", "at_p90")])
