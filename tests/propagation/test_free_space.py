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
