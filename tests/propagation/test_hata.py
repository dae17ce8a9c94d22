"""Okumura-Hata and COST-231 Hata."""

import math
import warnings

import numpy as np
import pytest

from yalu.errors import ChoiceError, ParameterError
from yalu.propagation import (
    HataEnvironment,
    ValidityRangeWarning,
    cost231_hata_loss_db,
    hata_loss_db,
    okumura_hata_loss_db,
)

lg = math.log10


def hata_paper(d_km, f, hb, hm, env):
    """Hata (1980) typed from the paper, scalar, independent of the implementation."""
    if env == "urban-large":
        a = 8.29 * lg(1.54 * hm) ** 2 - 1.1 if f <= 200 else 3.2 * lg(11.75 * hm) ** 2 - 4.97
    else:
        a = (1.1 * lg(f) - 0.7) * hm - (1.56 * lg(f) - 0.8)
    lu = 69.55 + 26.16 * lg(f) - 13.82 * lg(hb) - a + (44.9 - 6.55 * lg(hb)) * lg(d_km)
    if env == "suburban":
        return lu - 2 * lg(f / 28) ** 2 - 5.4
    if env == "open":
        return lu - 4.78 * lg(f) ** 2 + 18.33 * lg(f) - 40.94
    return lu


@pytest.mark.parametrize("env", ["urban", "urban-large", "suburban", "open"])
@pytest.mark.parametrize(
    ("d_km", "f", "hb", "hm"),
    [(1, 900, 30, 1.5), (5, 450, 50, 2), (20, 1400, 200, 10), (3.3, 160, 75, 1)],
)
def test_matches_paper_formula(env, d_km, f, hb, hm):
    got = okumura_hata_loss_db(d_km * 1000, f, hb, hm, env)
    assert got == pytest.approx(hata_paper(d_km, f, hb, hm, env), abs=1e-9)


@pytest.mark.parametrize(
    ("env", "expected"),
    [("urban-large", 137.93), ("urban", 137.88), ("suburban", 128.03)],
)
def test_published_values(env, expected):
    # ns-3 okumura-hata-test-suite.cc reference values (f = 869 MHz, d = 2 km, h_b = 30 m,
    # h_m = 1 m), an independent implementation validated against an Octave reference; printed
    # to 0.01 dB.
    assert okumura_hata_loss_db(2000.0, 869.0, 30.0, 1.0, env) == pytest.approx(expected, abs=0.006)


def test_textbook_slope_and_1km_value():
    # Distance slope 44.9 - 6.55 log10(30) = 35.22 dB/decade at h_b = 30 m (Hata 1980; quoted by
    # Saunders, "Antennas and propagation for wireless communication systems", §8.2.3)
    l1 = okumura_hata_loss_db(1000.0, 900.0, 30.0, 1.5)
    l10 = okumura_hata_loss_db(10000.0, 900.0, 30.0, 1.5)
    assert l10 - l1 == pytest.approx(35.22, abs=0.005)
    # 1 km, 900 MHz, 30 m / 1.5 m, medium city: 126.4 dB
    assert l1 == pytest.approx(126.40, abs=0.01)


def test_cost231_formula_and_cm():
    d_km, f, hb, hm = 5.0, 1800.0, 40.0, 1.5
    a = (1.1 * lg(f) - 0.7) * hm - (1.56 * lg(f) - 0.8)
    base = 46.3 + 33.9 * lg(f) - 13.82 * lg(hb) - a + (44.9 - 6.55 * lg(hb)) * lg(d_km)
    assert cost231_hata_loss_db(d_km * 1e3, f, hb, hm, "urban") == pytest.approx(base, abs=1e-9)
    assert cost231_hata_loss_db(d_km * 1e3, f, hb, hm, "suburban") == pytest.approx(base, abs=1e-9)
    assert cost231_hata_loss_db(
        d_km * 1e3, f, hb, hm, HataEnvironment.URBAN_LARGE
    ) == pytest.approx(base + 3.0, abs=1e-9)
    with pytest.raises(ChoiceError, match="environment"):
        cost231_hata_loss_db(5e3, 1800.0, 40.0, 1.5, "open")


def test_dispatch_by_frequency():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert hata_loss_db(5e3, 900.0, 40.0) == okumura_hata_loss_db(5e3, 900.0, 40.0)
        assert hata_loss_db(5e3, 1800.0, 40.0) == cost231_hata_loss_db(5e3, 1800.0, 40.0)


def test_vectorized():
    d = np.array([1e3, 2e3, 5e3, 10e3])
    out = okumura_hata_loss_db(d, 900.0, 30.0, 1.5, "suburban")
    assert out.shape == (4,)
    assert np.all(np.diff(out) > 0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"distance_m": 500.0}, "distance_m"),
        ({"distance_m": 25e3}, "distance_m"),
        ({"frequency_mhz": 100.0}, "frequency_mhz"),
        ({"frequency_mhz": 1700.0}, "frequency_mhz"),
        ({"h_base_m": 20.0}, "h_base_m"),
        ({"h_mobile_m": 12.0}, "h_mobile_m"),
    ],
)
def test_outside_validity_warns_not_fails(kwargs, match):
    args = {"distance_m": 5e3, "frequency_mhz": 900.0, "h_base_m": 40.0, "h_mobile_m": 1.5}
    args.update(kwargs)
    with pytest.warns(ValidityRangeWarning, match=match):
        out = okumura_hata_loss_db(**args)
    assert np.isfinite(out)


def test_bad_input():
    with pytest.raises(ParameterError, match="h_base_m"):
        okumura_hata_loss_db(5e3, 900.0, -1.0)
    with pytest.raises(ChoiceError, match="environment"):
        okumura_hata_loss_db(5e3, 900.0, 40.0, 1.5, "jungle")
