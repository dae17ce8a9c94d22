"""Received power and field strength, checked against free space from first principles."""

from __future__ import annotations

import math

import numpy as np
import pytest

from yalu.errors import ParameterError
from yalu.propagation.field_strength import (
    FIELD_STRENGTH_CONSTANT_DB,
    eirp_from_erp_dbm,
    field_strength_dbuv_per_m,
    received_power_dbm,
)
from yalu.propagation.free_space import free_space_loss_db


@pytest.mark.parametrize("frequency_mhz", [50.0, 900.0, 1842.5, 3500.0])
@pytest.mark.parametrize("distance_m", [100.0, 2_500.0, 40_000.0])
@pytest.mark.parametrize("eirp_dbm", [30.0, 62.15])
def test_free_space_field_matches_the_isotropic_source(frequency_mhz, distance_m, eirp_dbm):
    # an isotropic source of power P [W] gives E = sqrt(30 P) / d [V/m] in free space
    # (power flux density P / (4 pi d^2) = E^2 / (120 pi))
    p_w = 10 ** ((eirp_dbm - 30.0) / 10.0)
    e_v_per_m = math.sqrt(30.0 * p_w) / distance_m
    expected = 20.0 * math.log10(e_v_per_m * 1e6)
    loss = free_space_loss_db(distance_m, frequency_mhz)
    got = field_strength_dbuv_per_m(eirp_dbm, loss, frequency_mhz)
    assert got == pytest.approx(expected, abs=1e-9)


def test_constants_match_the_recommendations():
    # ITU-R P.525-4: P_r [dBW] = E - 20 log f[GHz] - 167.2, i.e. 77.2 with dBm and MHz
    assert FIELD_STRENGTH_CONSTANT_DB == pytest.approx(77.2, abs=0.05)
    # ITU-R P.1546-6 Annex 5: E = 139.3 - L_b + 20 log f for 1 kW ERP (60 dBm)
    eirp = eirp_from_erp_dbm(60.0)
    assert eirp == pytest.approx(62.15)
    e = field_strength_dbuv_per_m(eirp, 120.0, 600.0)
    assert e == pytest.approx(139.3 - 120.0 + 20 * math.log10(600.0), abs=0.1)


def test_received_power_is_eirp_minus_loss_plus_gain_and_propagates_nan():
    loss = np.array([100.0, np.nan, 150.0])
    got = received_power_dbm(43.0, loss, rx_gain_dbi=2.0)
    assert got[0] == pytest.approx(-55.0) and np.isnan(got[1]) and got[2] == pytest.approx(-105.0)
    # and field strength and received power are the P.525 relation apart
    e = field_strength_dbuv_per_m(43.0, loss, 900.0)
    pr = received_power_dbm(43.0, loss)
    assert e[0] - pr[0] == pytest.approx(20 * math.log10(900.0) + FIELD_STRENGTH_CONSTANT_DB)


def test_bad_input_names_the_parameter():
    with pytest.raises(ParameterError, match="frequency_mhz"):
        field_strength_dbuv_per_m(40.0, 100.0, 0.0)
    with pytest.raises(ParameterError, match="eirp_dbm"):
        received_power_dbm(float("nan"), 100.0)
