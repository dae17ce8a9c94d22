"""Line-of-sight and Fresnel clearance over the effective earth."""

from __future__ import annotations

import math

import numpy as np
import pytest

from yalu.errors import ParameterError
from yalu.propagation.clearance import path_clearance

A_E = 4.0 / 3.0 * 6_371_000.0  # effective earth radius, ITU-R P.834 eq. (1)


def test_sea_path_against_the_sagitta():
    # 50 km over the sea, 50 m masts: the ray clears the bulge d1 d2 / (2 a_e) by 50 - 36.79 m
    d = np.linspace(0.0, 50e3, 101)
    c = path_clearance(d, np.zeros_like(d), 50.0, 50.0, 900.0)
    np.testing.assert_allclose(c.bulge_m, d * (50e3 - d) / (2 * A_E), atol=1e-9)
    np.testing.assert_allclose(c.ray_m, 50.0)
    assert c.min_clearance_m == pytest.approx(50.0 - 25e3**2 / (2 * A_E), abs=1e-9)
    assert np.argmin(c.clearance_m) == 50
    # independent first Fresnel radius at mid-path: sqrt(lambda d1 d2 / d)
    lam = 299_792_458.0 / 900e6
    r_mid = math.sqrt(lam * 25e3 * 25e3 / 50e3)
    assert c.fresnel_m is not None and c.fresnel_m[50] == pytest.approx(r_mid, rel=1e-12)
    assert c.min_fresnel_fraction == pytest.approx(
        min(c.clearance_m[1:-1] / c.fresnel_m[1:-1]), rel=1e-12
    )


def test_ridge_blocks_and_flatter_earth_helps():
    d = np.linspace(0.0, 20e3, 201)
    z = np.where(np.abs(d - 10e3) < 200, 80.0, 0.0)
    c = path_clearance(d, z, 30.0, 30.0, 1800.0)
    assert c.min_clearance_m < 0  # 80 m ridge + 5.9 m bulge over a 30 m ray
    assert c.min_fresnel_fraction is not None and c.min_fresnel_fraction < 0
    flat = path_clearance(d, z, 30.0, 30.0, k_factor=1e9)  # nearly no curvature
    assert flat.fresnel_m is None and flat.min_fresnel_fraction is None
    assert flat.min_clearance_m == pytest.approx(30.0 - 80.0, abs=1e-3)
    # the tilted ray between antenna tops at different ground heights
    c2 = path_clearance([0.0, 500.0, 1000.0], [100.0, 0.0, 0.0], 10.0, 2.0)
    assert c2.ray_m.tolist() == [110.0, 56.0, 2.0]


def test_result_does_not_depend_on_sampling():
    # the same straight slope sampled coarsely and finely: the clearance at shared points agrees
    coarse = np.linspace(0.0, 30e3, 31)
    fine = np.linspace(0.0, 30e3, 301)
    a = path_clearance(coarse, 0.004 * coarse, 40.0, 10.0, 900.0)
    b = path_clearance(fine, 0.004 * fine, 40.0, 10.0, 900.0)
    np.testing.assert_allclose(a.clearance_m, b.clearance_m[::10], atol=1e-9)


@pytest.mark.parametrize(
    ("args", "kw", "name"),
    [
        (([0.0], [1.0], 10.0, 2.0), {}, "distance_m"),
        (([0.0, 1.0], [1.0], 10.0, 2.0), {}, "elevation_m"),
        (([1.0, 2.0], [1.0, 1.0], 10.0, 2.0), {}, "distance_m"),
        (([0.0, 2.0, 1.0], [1.0, 1.0, 1.0], 10.0, 2.0), {}, "distance_m"),
        (([0.0, 1.0], [1.0, np.nan], 10.0, 2.0), {}, "elevation_m"),
        (([0.0, 1.0], [1.0, 1.0], -1.0, 2.0), {}, "h_tx_m"),
        (([0.0, 1.0], [1.0, 1.0], 10.0, 2.0, -900.0), {}, "frequency_mhz"),
        (([0.0, 1.0], [1.0, 1.0], 10.0, 2.0), {"k_factor": 0.0}, "k_factor"),
    ],
)
def test_bad_input_names_the_parameter(args, kw, name):
    with pytest.raises(ParameterError, match=name):
        path_clearance(*args, **kw)
