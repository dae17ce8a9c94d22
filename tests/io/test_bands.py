"""Threshold bands of signal and loss maps (the categories of ``yalu coverage --png``)."""

from __future__ import annotations

import numpy as np
import pytest

from yalu.errors import ParameterError
from yalu.io.bands import threshold_bands


def test_signal_bands_count_thresholds_reached():
    v = np.array([-130.0, -120.0, -119.9, -100.0, -60.0, np.nan])
    bands, cats = threshold_bands(v, [-120, -110, -100], "dBm")
    # below the first edge and NaN: -1 (drawn transparent); an edge belongs to the band above
    assert bands.tolist() == [-1, 0, 0, 2, 2, -1]
    assert [c[0] for c in cats.values()] == [
        "-120 to -110 dBm",
        "-110 to -100 dBm",
        "-100 and more dBm",
    ]
    assert len({c[1] for c in cats.values()}) == 3


def test_loss_bands_count_from_the_largest_loss():
    v = np.array([90.0, 100.0, 120.0, 140.0, 141.0])
    bands, cats = threshold_bands(v, [100, 120, 140], "dB", higher_is_better=False)
    assert bands.tolist() == [2, 2, 1, 0, -1]
    assert cats[2][0] == "up to 100 dB" and cats[0][0] == "120 to 140 dB"


@pytest.mark.parametrize("thr", [[], [1.0, 1.0], [3.0, 2.0], list(range(10))])
def test_bad_thresholds(thr):
    with pytest.raises(ParameterError, match="thresholds"):
        threshold_bands(np.zeros(3), thr, "dB")
