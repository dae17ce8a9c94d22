"""Free-space loss, ITU-R P.525."""

import math

import numpy as np
import pytest

from yalu.errors import ParameterError
from yalu.propagation import ValidityRangeWarning, free_space_loss_db


def test_matches_4pi_d_over_lambda():
    # P.525 eq. (3), written independently: L = 20 log10(4 pi d / lambda)
    d = np.array([1.0, 250.0, 1e3, 37e3])
    f = 900.0
    lam = 299_792_458.0 / (f * 1e6)
    expected = 20 * np.log10(4 * math.pi * d / lam)
    np.testing.assert_allclose(free_space_loss_db(d, f), expected, atol=1e-9)


def test_published_constant_and_value():
    # P.525 eq. (4): 32.4 + 20 log f + 20 log d (constant printed rounded to 32.4)
    assert free_space_loss_db(1000.0, 1.0) == pytest.approx(32.45, abs=0.005)
    # 1 km at 2400 MHz: 32.45 + 67.60 = 100.05 dB, the classic Wi-Fi textbook value
    assert free_space_loss_db(1000.0, 2400.0) == pytest.approx(100.05, abs=0.01)


def test_six_db_per_doubling_and_broadcasting():
    out = free_space_loss_db(np.array([[1e3], [2e3]]), np.array([900.0, 1800.0]))
    assert out.shape == (2, 2)
    assert out[1, 0] - out[0, 0] == pytest.approx(20 * math.log10(2))
    assert out[0, 1] - out[0, 0] == pytest.approx(20 * math.log10(2))


@pytest.mark.parametrize(
    ("d", "f", "name"),
    [
        (-1.0, 900.0, "distance_m"),
        (0.0, 900.0, "distance_m"),
        (10.0, 0.0, "frequency_mhz"),
        (np.nan, 900.0, "distance_m"),
    ],
)
def test_bad_input_names_parameter(d, f, name):
    with pytest.raises(ParameterError, match=name):
        free_space_loss_db(d, f)


def test_near_field_warns():
    with pytest.warns(ValidityRangeWarning, match="wavelength"):
        free_space_loss_db(0.1, 900.0)  # lambda = 0.33 m


# ---------------------------------------------------------------------------------------------
# Fresnel zone radius, ITU-R P.526 eq. (2)


def test_fresnel_radius_satisfies_the_ellipsoid_definition():
    # P.526 eq. (1): a point M on the n-th ellipsoid has AM + MB - AB = n lambda / 2; eq. (2) is
    # its small-angle solution, so the exact path difference must match to the angle squared
    from yalu.propagation.free_space import fresnel_radius_m

    lam = 299_792_458.0 / 900e6
    for d1, d2, n in ((5e3, 5e3, 1), (1e3, 9e3, 1), (2e3, 30e3, 3), (40e3, 200.0, 2)):
        r = fresnel_radius_m(d1, d2, 900.0, n=n)
        excess = math.hypot(d1, r) + math.hypot(d2, r) - (d1 + d2)
        assert excess == pytest.approx(n * lam / 2, rel=1e-3), (d1, d2, n)


def test_fresnel_radius_practical_form_and_shape():
    from yalu.propagation.free_space import fresnel_radius_m

    # P.526 eq. (3): R = 550 sqrt(d1 d2 / ((d1 + d2) f)) [m; km, MHz]; 550 rounds sqrt(c/1e3)
    assert fresnel_radius_m(5e3, 5e3, 900.0) == pytest.approx(550 * math.sqrt(2.5 / 900), rel=5e-3)
    d = np.linspace(0.0, 10e3, 11)
    r = fresnel_radius_m(d, 10e3 - d, np.array([[900.0], [1800.0]]))
    assert r.shape == (2, 11)
    assert r[:, 0].tolist() == [0.0, 0.0] and r[:, -1].tolist() == [0.0, 0.0]
    np.testing.assert_allclose(r[0, 1:-1] / r[1, 1:-1], math.sqrt(2.0))  # R ~ f^-1/2
    assert np.argmax(r[0]) == 5  # widest at mid-path
    assert fresnel_radius_m(0.0, 0.0, 900.0) == 0.0
    assert fresnel_radius_m(3e3, 7e3, 900.0, n=4) == pytest.approx(
        2 * fresnel_radius_m(3e3, 7e3, 900.0)
    )


@pytest.mark.parametrize(
    ("args", "kw", "name"),
    [
        ((-1.0, 5e3, 900.0), {}, "d1_m"),
        ((1.0, np.nan, 900.0), {}, "d2_m"),
        ((1.0, 5e3, 0.0), {}, "frequency_mhz"),
        ((1.0, 5e3, 900.0), {"n": 0}, "n"),
        ((1.0, 5e3, 900.0), {"n": 1.5}, "n"),
    ],
)
def test_fresnel_radius_bad_input(args, kw, name):
    from yalu.propagation.free_space import fresnel_radius_m

    with pytest.raises(ParameterError, match=name):
        fresnel_radius_m(*args, **kw)
