"""Pieces of the scenario runner: grid, sectors, jammer split, geometry helpers."""

import math

import numpy as np
import pytest
from pyproj import Geod

from yalu.scenario import parse_scenario
from yalu.scenario.runner import (
    _azimuth_deg,
    _elevation_deg,
    _haversine_m,
    _make_grid,
    _radio_jammers,
    _sectors,
)

GEOD = Geod(ellps="WGS84")

BASE = """\
name: t
analysis_area:
  bbox: {south_deg: 42.2, west_deg: 22.8, north_deg: 43.2, east_deg: 24.2}
grid: {resolution_arcsec: 30}
sites:
  - id: a
    lat_deg: 42.5
    lon_deg: 23.3
    height_m: 30
    carriers:
      - {technology: gsm, band: GSM900, azimuths_deg: [0, 120, 240]}
      - {technology: lte, band: B3, operator: other}
  - id: b
    lat_deg: 42.6
    lon_deg: 23.4
    height_m: 30
    carriers:
      - {technology: gsm, band: GSM900}
jammers:
  - {id: j, lat_deg: 42.7, lon_deg: 23.3, height_m: 20, eirp_dbm: 50, bands_mhz: [[925, 960], [1805, 1880], [1880, 1920]]}
"""


class _Terrain:
    bounds = (40.0, 20.0, 45.0, 27.0)
    resolution_deg = (3 / 3600, 3 / 3600)


def test_grid_snaps_to_the_resolution():
    sc = parse_scenario(BASE)
    from yalu.scenario.runner import _area

    g = _make_grid(sc, _area(sc), _Terrain())
    assert g.north_deg == pytest.approx(43.2) and g.west_deg == pytest.approx(22.8)
    assert g.shape == (121, 169)  # both edges are nodes: 1 deg / 30" + 1, 1.4 deg / 30" + 1


def test_sectors_and_gsm_channels():
    sc = parse_scenario(BASE)
    secs = _sectors(list(sc.sites))
    assert [s.radio.id for s in secs] == ["a/gsm-GSM900/0", "a/gsm-GSM900/120", "a/gsm-GSM900/240",
                                          "a/lte-B3", "b/gsm-GSM900"]
    gsm = [s for s in secs if s.technology == "gsm"]
    # distinct 200 kHz channels inside the band, uplink 45 MHz below
    assert len({s.dl_mhz for s in gsm}) == 4
    assert all(925 < s.dl_mhz < 960 and s.dl_mhz - s.ul_mhz == pytest.approx(45) for s in gsm)
    assert secs[3].radio.operator == "other" and secs[3].dl_mhz == pytest.approx(1842.5)
    assert secs[0].radio.pattern.kind == "sector" and secs[3].radio.pattern.kind == "omni"


def test_jammer_split_keeps_the_power_density():
    sc = parse_scenario(BASE)
    parts = _radio_jammers(sc)
    # 1805-1880 and 1880-1920 merge into one range
    assert [p.ranges_mhz for _, p, _ in parts] == [[(925.0, 960.0)], [(1805.0, 1920.0)]]
    tot = sum(10 ** (p.eirp_dbm / 10) for _, p, _ in parts)
    assert 10 * math.log10(tot) == pytest.approx(50.0)
    dens = [p.eirp_dbm - 10 * math.log10(p.bandwidth_mhz) for _, p, _ in parts]
    assert dens[0] == pytest.approx(dens[1])
    assert [f for _, _, f in parts] == [942.5, 1862.5]


def test_geometry_helpers_against_pyproj():
    lat = np.array([42.0, 42.5, 41.0])
    lon = np.array([23.5, 22.0, 23.3])
    az, _, d = GEOD.inv(np.full(3, 23.3), np.full(3, 42.5), lon, lat)
    np.testing.assert_allclose(_haversine_m(42.5, 23.3, lat, lon), d, rtol=4e-3)
    np.testing.assert_allclose(_azimuth_deg(42.5, 23.3, lat, lon), np.mod(az, 360), atol=0.3)
    # 100 m up over 10 km: 0.57 deg, less the 4/3-earth drop (10 km: 5.9 m)
    el = _elevation_deg(0.0, 100.0, 10_000.0)
    assert el == pytest.approx(math.degrees(math.atan2(100 - 1e8 / (2 * 4 / 3 * 6371007.181), 1e4)))
