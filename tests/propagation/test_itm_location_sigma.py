"""ITM's location variability sigma_L against the ITM itself (area mode, broadcast variability)."""

from statistics import NormalDist

import pytest

from yalu.errors import ParameterError
from yalu.propagation import itm


@pytest.mark.parametrize(
    ("f", "dh", "d_km"), [(900, 90, 20), (100, 30, 50), (1800, 200, 10), (60, 10, 30), (450, 5, 3)]
)
def test_sigma_l_is_the_location_spread_of_itm(f, dh, d_km):
    # broadcast mode without situation variability (mdvar 23), time at 50 %: the location
    # quantile moves the loss by sigma_L z; ITM's inverse normal is an approximation (Abramowitz
    # & Stegun 26.2.23, error < 4.5e-4), hence the tolerance
    kw = dict(
        d_km=d_km,
        delta_h_m=dh,
        h_tx_m=30,
        h_rx_m=1.5,
        tx_siting=0,
        rx_siting=0,
        frequency_mhz=f,
        mdvar=23,
    )
    z = NormalDist().inv_cdf(0.9)
    spread = itm.area(**kw, location_pct=90).loss_db - itm.area(**kw, location_pct=50).loss_db
    assert spread / z == pytest.approx(float(itm.location_sigma_db(f, dh, d_km * 1e3)), rel=1e-3)


def test_sigma_l_limits_and_errors():
    assert float(itm.location_sigma_db(900, 0.0)) == 0.0
    assert 9.9 < float(itm.location_sigma_db(900, 500.0)) < 10.0  # UHF saturates near 10 dB
    with pytest.raises(ParameterError, match="frequency_mhz"):
        itm.location_sigma_db(0.0, 90.0)
    with pytest.raises(ParameterError, match="delta_h_m"):
        itm.location_sigma_db(900.0, -1.0)
