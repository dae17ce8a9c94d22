"""Bands and carrier frequencies."""

import pytest

from yalu.errors import ChoiceError, ParameterError
from yalu.radio import BANDS, Duplex, Technology, get_band, resolve_carrier


def test_required_bands_present():
    want = {
        Technology.GSM: {"GSM900", "DCS1800"},
        Technology.UMTS: {"B1", "B8"},
        Technology.LTE: {"B1", "B3", "B5", "B8", "B34", "B38", "B39", "B40", "B41"},
        Technology.NR: {"n1", "n3", "n8", "n28", "n41", "n78", "n79"},
    }
    for tech, names in want.items():
        assert names <= set(BANDS[tech])


@pytest.mark.parametrize(
    ("tech", "band", "ul", "dl", "duplex"),
    [
        ("gsm", "GSM900", (880, 915), (925, 960), Duplex.FDD),  # TS 45.005 E-GSM
        ("gsm", "DCS1800", (1710, 1785), (1805, 1880), Duplex.FDD),
        ("lte", "B1", (1920, 1980), (2110, 2170), Duplex.FDD),  # TS 36.101 Table 5.5-1
        ("lte", "B40", (2300, 2400), (2300, 2400), Duplex.TDD),
        ("nr", "n78", (3300, 3800), (3300, 3800), Duplex.TDD),  # TS 38.101-1 Table 5.2-1
        ("nr", "n28", (703, 748), (758, 803), Duplex.FDD),
    ],
)
def test_band_table(tech, band, ul, dl, duplex):
    b = get_band(tech, band)
    assert (b.ul_low_mhz, b.ul_high_mhz) == ul
    assert (b.dl_low_mhz, b.dl_high_mhz) == dl
    assert b.duplex is duplex


def test_aliases():
    assert get_band("lte", "3").name == "B3"
    assert get_band("LTE", "Band 3").name == "B3"
    assert get_band("nr", "78").name == "n78"
    assert get_band("gsm", "gsm1800").name == "DCS1800"


def test_carrier_defaults_and_duplex():
    b, dl, ul = resolve_carrier("gsm", "GSM900", None)
    assert dl == 942.5 and ul == 897.5  # centre, 45 MHz duplex spacing
    _, dl, ul = resolve_carrier("lte", "B1", 2140.0)
    assert ul == 1950.0  # 190 MHz duplex spacing
    _, dl, ul = resolve_carrier("lte", "B20", 806.0)
    assert ul == 847.0  # reversed duplex: UL above DL
    _, dl, ul = resolve_carrier("nr", "n78", 3500.0)
    assert ul == dl == 3500.0
    b, dl, _ = resolve_carrier("gsm", None, 1850.2)
    assert b.name == "DCS1800"


def test_errors_name_field():
    with pytest.raises(ChoiceError, match="band = 'B99'"):
        resolve_carrier("lte", "B99", None)
    with pytest.raises(ParameterError, match="dl_frequency_mhz.*B3 downlink range 1805 to 1880"):
        resolve_carrier("lte", "B3", 2140.0)
    with pytest.raises(ParameterError, match="dl_frequency_mhz = 3000"):
        resolve_carrier("lte", None, 3000.0)
    with pytest.raises(ChoiceError, match="technology"):
        resolve_carrier("wimax", "B1", None)
