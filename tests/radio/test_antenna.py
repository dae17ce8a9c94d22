"""Antenna patterns: 3GPP sector, omni, MSI files."""

from pathlib import Path

import numpy as np
import pytest

from yalu.errors import ParameterError
from yalu.radio import MsiFormatError, MsiPattern, OmniPattern, SectorPattern, parse_msi

DATA = Path(__file__).parents[1] / "data"
MSI = DATA / "sector65_17dbi.msi"


def test_sector_front_to_back():
    for fb in (20.0, 25.0, 30.0):
        s = SectorPattern(azimuth_deg=200.0, front_to_back_db=fb, mechanical_tilt_deg=3.0)
        front = s.gain_db(200.0, -3.0)
        back = s.gain_db(20.0, -3.0)
        assert front == pytest.approx(0.0)
        assert back - front == pytest.approx(-fb)


def test_sector_3db_points_and_tilt():
    s = SectorPattern(
        azimuth_deg=90.0, h_beamwidth_deg=65.0, v_beamwidth_deg=10.0, electrical_tilt_deg=4.0
    )
    # TR 36.814 form: 12 (phi/phi3dB)^2 = 3 dB at phi = phi3dB / 2
    np.testing.assert_allclose(s.gain_db([90 - 32.5, 90 + 32.5], -4.0), -3.0)
    # boresight depressed by the electrical tilt: maximum at elevation -4 deg
    assert s.gain_db(90.0, -4.0) == pytest.approx(0.0)
    assert s.gain_db(90.0, -4.0 + 5.0) == pytest.approx(-3.0)
    assert s.gain_db(90.0, 60.0) == pytest.approx(-20.0)  # side-lobe floor
    # azimuth wraps around north
    t = SectorPattern(azimuth_deg=350.0)
    assert t.gain_db(10.0, 0.0) == pytest.approx(t.gain_db(330.0, 0.0))


def _sector_array_form(s, az, el):
    """TR 36.814 Table A.2.1.1-2 in numpy's array form (an independent implementation)."""
    phi = (np.asarray(az, float) - s.azimuth_deg + 180.0) % 360.0 - 180.0
    tilt = s.electrical_tilt_deg + s.mechanical_tilt_deg * np.cos(np.radians(phi))
    a_h = -np.minimum(12.0 * (phi / s.h_beamwidth_deg) ** 2, s.front_to_back_db)
    a_v = -np.minimum(12.0 * ((-np.asarray(el, float) - tilt) / s.v_beamwidth_deg) ** 2,
                      s.sidelobe_db)  # fmt: skip
    return -np.minimum(-(a_h + a_v), s.front_to_back_db)


@pytest.mark.parametrize("n", [7, 50_000])  # the serial kernel, and the parallel one
@pytest.mark.parametrize("mtilt", [0.0, 6.0])
def test_sector_kernel_is_the_array_form(n, mtilt):
    rng = np.random.default_rng(n)
    az = rng.uniform(-400.0, 800.0, n)
    el = rng.uniform(-90.0, 90.0, n)
    az[::97] = np.nan
    el[5::101] = np.nan
    s = SectorPattern(
        azimuth_deg=123.0,
        h_beamwidth_deg=70.0,
        v_beamwidth_deg=8.0,
        electrical_tilt_deg=3.0,
        mechanical_tilt_deg=mtilt,
        sidelobe_db=18.0,
    )
    got = s.gain_db(az, el)
    ref = _sector_array_form(s, az, el)
    assert np.array_equal(np.isnan(got), np.isnan(ref)) and np.isnan(got).sum() > 0
    if mtilt == 0.0:
        ok = ~np.isnan(ref)
        assert got[ok].tobytes() == ref[ok].tobytes()
    else:  # libm's cosine against numpy's: the last bits may differ
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-9)
    # broadcasting, and shapes kept
    assert s.gain_db(az[:6].reshape(2, 3), 1.0).shape == (2, 3)
    assert np.ndim(s.gain_db(10.0, 1.0)) == 0


def test_omni_broadcasts():
    assert OmniPattern().gain_db(np.zeros((3, 4)), 0.0).shape == (3, 4)


def test_parse_msi_declared_gain():
    d = parse_msi(MSI)
    assert d.name == "YALU-TEST-65-17"
    assert d.frequency_mhz == 1850.0
    assert d.gain_dbi == pytest.approx(14.85 + 2.15)  # dBd -> dBi
    assert d.horizontal_deg.size == 360 and d.vertical_deg.size == 360
    p = MsiPattern(path=MSI, azimuth_deg=45.0)
    # the maximum of the pattern (boresight, 6 deg electrical downtilt) is the declared gain
    assert p.gain_dbi + p.gain_db(45.0, -6.0) == pytest.approx(17.0)
    # 30 deg off boresight at the peak elevation: the file's value, 12 (30/65)^2 = 2.56 dB
    assert p.gain_db(75.0, -6.0) == pytest.approx(-2.56, abs=0.005)
    # behind: the horizontal front-to-back ratio, not counted twice by the vertical cut
    assert p.gain_db(225.0, 6.0) == pytest.approx(-25.0, abs=0.01)


def test_msi_mechanical_tilt_shifts_peak():
    p = MsiPattern(path=MSI, azimuth_deg=0.0, mechanical_tilt_deg=2.0)
    assert p.gain_db(0.0, -8.0) == pytest.approx(0.0)


def test_msi_wrong_point_count(tmp_path):
    with pytest.raises(MsiFormatError, match="HORIZONTAL.*360 points"):
        parse_msi(DATA / "bad_count.msi")
    with pytest.raises(ParameterError, match="HORIZONTAL"):
        MsiPattern(path=DATA / "bad_count.msi")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("NAME x\nGAIN 10\nHORIZONTAL 2\n0 0\n180 abc\nVERTICAL 2\n0 0\n180 3\n", "HORIZONTAL"),
        ("NAME x\nGAIN 10\nHORIZONTAL 2\n0 0\n180 5\n", "VERTICAL"),
        ("NAME x\nHORIZONTAL 2\n0 0\n180 5\nVERTICAL 2\n0 0\n180 3\n", "GAIN"),
        ("NAME x\nGAIN ten dBi\nHORIZONTAL 2\n0 0\n180 5\nVERTICAL 2\n0 0\n180 3\n", "GAIN"),
        ("NAME x\nGAIN 10\nHORIZONTAL 2\n0 0\n400 5\nVERTICAL 2\n0 0\n180 3\n", "HORIZONTAL"),
        ("NAME x\nGAIN 10\nHORIZONTAL 3\n0 0\n180 5\nVERTICAL 2\n0 0\n180 3\n", "HORIZONTAL"),
        ("NAME x\nGAIN 10\nHORIZONTAL x\n", "HORIZONTAL"),
    ],
)
def test_msi_malformed(tmp_path, text, match):
    f = tmp_path / "bad.msi"
    f.write_text(text)
    with pytest.raises(MsiFormatError, match=match):
        parse_msi(f)


def test_msi_missing_file(tmp_path):
    with pytest.raises(ParameterError, match="msi_file"):
        MsiPattern(path=tmp_path / "nope.msi")


def test_msi_gain_dbi_unit(tmp_path):
    f = tmp_path / "dbi.msi"
    f.write_text("NAME x\nGAIN 12.5 dBi\nHORIZONTAL 2\n0 0\n180 5\nVERTICAL 2\n0 0\n180 3\n")
    assert parse_msi(f).gain_dbi == 12.5


def test_sector_bad_field_named():
    with pytest.raises(ParameterError, match="front_to_back_db"):
        SectorPattern(azimuth_deg=0.0, front_to_back_db=-3.0)
    with pytest.raises(ParameterError, match="azimuth_deg"):
        SectorPattern()
