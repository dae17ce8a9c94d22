"""Knife-edge diffraction: J(nu), nu geometry, Deygout."""

import math

import numpy as np
import pytest
from scipy.special import fresnel

from yalu.errors import ParameterError
from yalu.propagation import (
    deygout_loss_db,
    deygout_loss_db_batch,
    knife_edge_loss_db,
    knife_edge_nu,
)

C = 299_792_458.0


def test_j_of_zero():
    # Grazing incidence: the exact value is 20 log10(2) = 6.02 dB; eq. (31) gives 6.03 dB
    assert knife_edge_loss_db(0.0) == pytest.approx(6.02, abs=0.02)


def test_j_zero_below_cutoff():
    np.testing.assert_array_equal(knife_edge_loss_db(np.array([-0.78, -1.0, -5.0])), 0.0)
    assert knife_edge_loss_db(-0.77) > 0.0


@pytest.mark.parametrize("nu", [-0.7, -0.3, 0.0, 0.5, 1.0, 2.0, 4.0, 8.0])
def test_j_close_to_fresnel_integral(nu):
    # P.526 eq. (30), exact from Fresnel integrals; eq. (31) approximates it within ~0.15 dB
    s, c = fresnel(nu)
    exact = -20 * math.log10(math.sqrt((1 - c - s) ** 2 + (c - s) ** 2) / 2)
    assert knife_edge_loss_db(nu) == pytest.approx(exact, abs=0.2)


def test_nu_forms_agree():
    # eq. (26) vs eq. (28): nu = sqrt(2 h theta / lambda) with theta = h/d1 + h/d2 (small angles)
    h, d1, d2, f = 12.0, 3000.0, 5000.0, 1800.0
    lam = C / (f * 1e6)
    theta = h / d1 + h / d2
    assert knife_edge_nu(h, d1, d2, f) == pytest.approx(math.sqrt(2 * h * theta / lam))
    assert knife_edge_nu(-h, d1, d2, f) == pytest.approx(-math.sqrt(2 * h * theta / lam))


def test_clear_path_zero_loss():
    prof = np.zeros(201)
    assert deygout_loss_db(prof, 50.0, 30.0, 10.0, 900.0) == 0.0
    # gently rolling terrain well below the ray
    x = np.arange(201)
    prof = 5 * np.sin(x / 10.0)
    assert deygout_loss_db(prof, 50.0, 60.0, 40.0, 900.0, k_factor=math.inf) == 0.0


@pytest.mark.parametrize("k_factor", [math.inf, 4.0 / 3.0])
def test_single_ridge_equals_single_knife_edge(k_factor):
    n, step, htx, hrx, f = 121, 100.0, 30.0, 10.0, 900.0
    k = 70
    prof = np.full(n, 5.0)
    prof[k] = 80.0
    total = (n - 1) * step
    d1, d2 = k * step, total - k * step
    bulge = 0.0 if math.isinf(k_factor) else d1 * d2 / (2 * k_factor * 6_371_000.0)
    ray = (5.0 + htx) + ((5.0 + hrx) - (5.0 + htx)) * d1 / total
    expected = knife_edge_loss_db(knife_edge_nu(prof[k] + bulge - ray, d1, d2, f))
    assert expected > 10.0
    assert deygout_loss_db(prof, step, htx, hrx, f, k_factor=k_factor) == pytest.approx(
        expected, abs=1e-9
    )
    assert deygout_loss_db(
        prof, step, htx, hrx, f, k_factor=k_factor, max_edges=1
    ) == pytest.approx(expected, abs=1e-9)


def test_earth_bulge_adds_loss():
    # 40 km flat path, 45 m masts: on a flat earth the ground is at nu = -1.10 (clear); the
    # 4/3-earth bulge (23.5 m at mid path) lifts it to nu = -0.53
    prof = np.zeros(401)
    flat = deygout_loss_db(prof, 100.0, 45.0, 45.0, 900.0, k_factor=math.inf)
    curved = deygout_loss_db(prof, 100.0, 45.0, 45.0, 900.0, max_edges=1)
    lam = C / 900e6
    bulge = 20e3 * 20e3 / (2 * 4 / 3 * 6_371_000.0)
    expected = knife_edge_loss_db((bulge - 45.0) * math.sqrt(2 / lam * 2 / 20e3))
    assert flat == 0.0
    assert curved == pytest.approx(expected, abs=1e-9)
    assert curved > 1.0
    # a smooth earth is no knife edge: the secondary edges add more (Deygout's known overestimate)
    assert deygout_loss_db(prof, 100.0, 45.0, 45.0, 900.0) > curved


def test_three_edges_by_hand():
    # principal ridge in the middle and two lower ridges either side, flat earth
    n, step, f, h0 = 101, 100.0, 600.0, 20.0
    prof = np.zeros(n)
    prof[50], prof[20], prof[80] = 60.0, 35.0, 30.0
    lam = C / (f * 1e6)

    def nu(h, d1, d2):
        return h * math.sqrt(2 / lam * (1 / d1 + 1 / d2))

    total = (n - 1) * step
    nu_p = nu(60 - h0, 5000, 5000)
    # secondary edges relative to the rays tx-top -> principal top and principal top -> rx-top
    nu_t = nu(35 - (h0 + (60 - h0) * 2000 / 5000), 2000, 3000)
    nu_r = nu(30 - (60 + (h0 - 60) * 3000 / 5000), 3000, 2000)
    expected = sum(knife_edge_loss_db(v) for v in (nu_p, nu_t, nu_r))
    assert nu_t > -0.78 and nu_r > -0.78
    got = deygout_loss_db(prof, step, h0, h0, f, k_factor=math.inf)
    assert total == 10000.0
    assert got == pytest.approx(expected, abs=1e-9)
    assert deygout_loss_db(prof, step, h0, h0, f, k_factor=math.inf, max_edges=1) == pytest.approx(
        knife_edge_loss_db(nu_p), abs=1e-9
    )


def test_batch_matches_single_and_marks_voids():
    rng = np.random.default_rng(3)
    profs = np.full((5, 60), np.nan)
    npts = np.array([60, 45, 30, 2, 50])
    for i, m in enumerate(npts):
        profs[i, :m] = rng.uniform(0, 80, m)
    profs[4, 10] = np.nan
    out = deygout_loss_db_batch(profs, npts, 90.0, 25.0, 2.0, 900.0)
    for i in range(4):
        assert out[i] == pytest.approx(deygout_loss_db(profs[i, : npts[i]], 90.0, 25.0, 2.0, 900.0))
    assert np.isnan(out[4])


def test_bad_input():
    with pytest.raises(ParameterError, match=r"profile_m\[3\]"):
        deygout_loss_db(np.array([0, 1, 2, np.nan, 4.0]), 10.0, 10.0, 10.0, 900.0)
    with pytest.raises(ParameterError, match="step_m"):
        deygout_loss_db(np.zeros(5), 0.0, 10.0, 10.0, 900.0)
    with pytest.raises(ParameterError, match="k_factor"):
        deygout_loss_db(np.zeros(5), 10.0, 10.0, 10.0, 900.0, k_factor=-1)
    with pytest.raises(ParameterError, match="max_edges"):
        deygout_loss_db(np.zeros(5), 10.0, 10.0, 10.0, 900.0, max_edges=2)
