"""Sites, handsets, technology profiles, jammers."""

import math
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from yalu.errors import ChoiceError, ParameterError
from yalu.radio import (
    Handset,
    Jammer,
    MsiPattern,
    SectorPattern,
    Site,
    Technology,
    default_technology_profile,
    gsm_max_range_m,
    prach_max_range_m,
)

MSI = Path(__file__).parents[1] / "data" / "sector65_17dbi.msi"
C = 299_792_458.0


def site(**kw):
    base = {
        "id": "s1",
        "lat_deg": 40.1,
        "lon_deg": 124.4,
        "height_m": 30.0,
        "technology": "lte",
        "band": "B3",
    }
    base.update(kw)
    return Site(**base)


def test_site_eirp_and_derived():
    s = site(
        tx_power_dbm=46.0,
        antenna_gain_dbi=17.0,
        feeder_loss_db=2.5,
        bandwidth_mhz=10.0,
        dl_frequency_mhz=1850.0,
    )
    assert s.eirp_dbm == pytest.approx(60.5)
    assert s.ul_frequency_mhz == pytest.approx(1755.0)
    assert s.technology is Technology.LTE
    # RSRP offset: -10 log10(12 * 50 RB) for 10 MHz (TS 36.101 Table 5.6-1)
    assert s.reference_offset_db == pytest.approx(-10 * math.log10(600))
    assert s.noise_bandwidth_mhz == pytest.approx(9.0)


def test_site_defaults():
    s = site()
    assert s.dl_frequency_mhz == pytest.approx(1842.5)  # band centre
    assert s.bandwidth_mhz == 20.0
    assert s.tx_power_dbm == pytest.approx(46 + 10 * math.log10(2))  # TR 36.814: 46 dBm per 10 MHz
    g = site(technology="gsm", band="GSM900")
    assert g.bandwidth_mhz == 0.2 and g.tx_power_dbm == 43.0 and g.reference_offset_db == 0.0
    n = site(technology="nr", band="n78", bandwidth_mhz=100.0)
    assert n.subcarrier_spacing_khz == 30.0
    assert n.reference_offset_db == pytest.approx(-10 * math.log10(12 * 273))  # TS 38.101-1
    sec = site(pattern={"kind": "sector", "azimuth_deg": 120.0})
    assert isinstance(sec.pattern, SectorPattern) and sec.antenna_gain_dbi == 15.0
    msi = site(pattern={"kind": "msi", "path": str(MSI), "azimuth_deg": 10.0})
    assert isinstance(msi.pattern, MsiPattern) and msi.antenna_gain_dbi == pytest.approx(17.0)


@pytest.mark.parametrize(
    ("kw", "err", "field"),
    [
        ({"technology": "wimax"}, ChoiceError, "technology"),
        ({"band": "B99"}, ChoiceError, "band"),
        ({"band": None, "dl_frequency_mhz": 3000.0}, ParameterError, "dl_frequency_mhz"),
        ({"band": "B3", "dl_frequency_mhz": 2140.0}, ParameterError, "dl_frequency_mhz"),
        ({"bandwidth_mhz": -5.0}, ParameterError, "bandwidth_mhz"),
        ({"lat_deg": 95.0}, ParameterError, "lat_deg"),
        (
            {"pattern": {"kind": "sector", "azimuth_deg": 400}},
            ParameterError,
            "pattern.sector.azimuth_deg",
        ),
        ({"pattern": {"kind": "msi", "path": "/nonexistent.msi"}}, ParameterError, "msi_file"),
        ({"surprise": 1}, ParameterError, "surprise"),
    ],
)
def test_site_bad_input_names_field(kw, err, field):
    with pytest.raises(err) as info:
        site(**kw)
    assert field in str(info.value)


def test_nested_in_scenario_model_keeps_validation_error():
    class Scenario(BaseModel):
        sites: list[Site]

    ok = Scenario(
        sites=[
            {
                "id": "a",
                "lat_deg": 0,
                "lon_deg": 0,
                "height_m": 10,
                "technology": "gsm",
                "band": "GSM900",
            }
        ]
    )
    assert ok.sites[0].eirp_dbm == pytest.approx(43 + 11 - 2)
    with pytest.raises(ValidationError) as info:
        Scenario(
            sites=[
                {
                    "id": "a",
                    "lat_deg": 0,
                    "lon_deg": 0,
                    "height_m": 10,
                    "technology": "gsm",
                    "band": "B99",
                }
            ]
        )
    assert "band" in str(info.value)


def test_frozen():
    s = site()
    with pytest.raises(ValidationError):
        s.tx_power_dbm = 10.0


def test_handset_powers():
    h = Handset()
    assert h.tx_power_dbm("gsm", "GSM900") == 33.0  # TS 45.005 §4.1.1
    assert h.tx_power_dbm("gsm", "DCS1800") == 30.0
    assert h.tx_power_dbm("umts") == 24.0  # TS 25.101 §6.2.1
    assert h.tx_power_dbm("lte", "B3") == 23.0  # TS 36.101 §6.2.2
    assert h.tx_power_dbm(Technology.NR) == 23.0  # TS 38.101-1 §6.2.1
    assert Handset(max_tx_power_dbm={"LTE": 20.0}).tx_power_dbm("lte") == 20.0
    with pytest.raises(ChoiceError, match="max_tx_power_dbm"):
        Handset(max_tx_power_dbm={"wimax": 20.0})


def test_range_limits():
    # GSM: 63 timing-advance steps of 553.5 m (bit period 48/13 us, round trip)
    assert gsm_max_range_m() == pytest.approx(63 * C * 48e-6 / 13 / 2)
    assert gsm_max_range_m() == pytest.approx(34.9e3, abs=50)
    # LTE PRACH guard times (TS 36.211 Table 5.7.1-1): commonly quoted 14.5 / 77 / 29 / 107 km
    for fmt, km in ((0, 14.5), (1, 77.3), (2, 29.5), (3, 107.3)):
        assert prach_max_range_m(fmt) / 1e3 == pytest.approx(km, abs=0.1)
    assert default_technology_profile("gsm").max_range_m == pytest.approx(gsm_max_range_m())
    assert default_technology_profile("gsm", max_range_m=gsm_max_range_m(True)).max_range_m == 120e3
    with pytest.raises(ParameterError, match="prach_format"):
        prach_max_range_m(4)


def test_profile_overrides_and_order():
    p = default_technology_profile("gsm", voice={"dl_min_sinr_db": 7.0})
    assert p.voice.dl_min_sinr_db == 7.0 and p.voice.dl_min_power_dbm == -102.0
    assert default_technology_profile("gsm").voice.dl_min_sinr_db == 9.0  # TS 45.005 §6.3
    for t in Technology:
        prof = default_technology_profile(t)
        # a level needs the lower ones, so its own threshold may sit below them (GSM CS-2 data
        # at -104 dBm, TS 45.005 Table 1c, below voice's -102 dBm); the SINRs still grow
        assert prof.sms.dl_min_power_dbm <= prof.voice.dl_min_power_dbm
        assert prof.sms.dl_min_sinr_db <= prof.voice.dl_min_sinr_db < prof.data.dl_min_sinr_db
    assert default_technology_profile("gsm").data.dl_min_power_dbm == -104.0
    with pytest.raises(ParameterError, match="ul_noise_bandwidth_mhz"):
        default_technology_profile("lte", ul_noise_bandwidth_mhz=0.0)


def test_jammer_inband():
    j = Jammer(
        id="j",
        lat_deg=40,
        lon_deg=124,
        height_m=10,
        eirp_dbm=50.0,
        ranges_mhz=[(925, 960), (1805, 1880)],
    )
    assert j.bandwidth_mhz == 110.0
    # a 20 MHz carrier fully inside: 50 + 10 log10(20/110)
    assert j.inband_eirp_dbm(1842.5, 20.0) == pytest.approx(50 + 10 * math.log10(20 / 110))
    # half inside: 3 dB less
    assert j.inband_eirp_dbm(1880.0, 20.0) == pytest.approx(50 + 10 * math.log10(10 / 110))
    assert j.inband_eirp_dbm(2140.0, 20.0) == -math.inf
    half = Jammer(
        id="j",
        lat_deg=40,
        lon_deg=124,
        height_m=10,
        eirp_dbm=50.0,
        ranges_mhz=[(925, 960)],
        duty_factor=0.5,
    )
    assert half.inband_eirp_dbm(940.0, 0.2) == pytest.approx(50 + 10 * math.log10(0.2 / 35 * 0.5))
    merged = Jammer(
        id="j", lat_deg=0, lon_deg=0, height_m=1, eirp_dbm=30, ranges_mhz=[(900, 910), (905, 920)]
    )
    assert merged.ranges_mhz == [(900, 920)]
    with pytest.raises(ParameterError, match=r"ranges_mhz\[0\]"):
        Jammer(id="j", lat_deg=0, lon_deg=0, height_m=1, eirp_dbm=30, ranges_mhz=[(960, 925)])
    with pytest.raises(ParameterError, match="duty_factor"):
        Jammer(
            id="j",
            lat_deg=0,
            lon_deg=0,
            height_m=1,
            eirp_dbm=30,
            ranges_mhz=[(925, 960)],
            duty_factor=1.5,
        )
