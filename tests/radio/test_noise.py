"""Thermal noise kTB + NF."""

import math

import pytest

from yalu.errors import ParameterError
from yalu.radio import thermal_noise_dbm


def test_kt_at_290k():
    # k T0 = 1.380649e-23 * 290 W/Hz = -173.98 dBm/Hz (the familiar -174 dBm/Hz)
    assert thermal_noise_dbm(1.0) == pytest.approx(10 * math.log10(1.380649e-23 * 290 * 1e3))
    assert thermal_noise_dbm(1.0) == pytest.approx(-174.0, abs=0.03)


def test_bandwidth_and_nf():
    # GSM carrier, 200 kHz, NF 9 dB: -174 + 53.0 + 9 = -112.0 dBm
    assert thermal_noise_dbm(bandwidth_mhz=0.2, noise_figure_db=9.0) == pytest.approx(
        -111.96, abs=0.01
    )
    assert thermal_noise_dbm(18e6, 5.0) == pytest.approx(
        thermal_noise_dbm(bandwidth_mhz=18.0, noise_figure_db=5.0)
    )


def test_bad_input():
    with pytest.raises(ParameterError, match="bandwidth_hz"):
        thermal_noise_dbm(-1.0)
    with pytest.raises(ParameterError, match="bandwidth_mhz"):
        thermal_noise_dbm(bandwidth_mhz=0.0)
    with pytest.raises(ParameterError, match="bandwidth_hz"):
        thermal_noise_dbm()
