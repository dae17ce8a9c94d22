"""Pieces of the scenario pipeline: grid, sectors, carrier frequencies, jammer split, geometry."""

import math

import numpy as np
import pytest
from pyproj import Geod

from yalu.errors import ParameterError
from yalu.geodesy import azimuth_distance, elevation_angle_deg
from yalu.radio import Handset
from yalu.radio.layers import layer_requests, split_jammer_ranges
from yalu.scenario import adapt, parse_scenario
from yalu.scenario.runner import run_scenario

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
  - {id: j, lat_deg: 42.7, lon_deg: 23.3, height_m: 20, eirp_dbm: 50, \
bands_mhz: [[925, 960], [1805, 1880], [1880, 1920]]}
"""


class _Terrain:
    bounds = (40.0, 20.0, 45.0, 27.0)
    resolution_deg = (3 / 3600, 3 / 3600)


def test_grid_snaps_to_the_resolution():
    sc = parse_scenario(BASE)
    g = adapt.make_grid(sc, adapt.analysis_area(sc), _Terrain())
    assert g.north_deg == pytest.approx(43.2) and g.west_deg == pytest.approx(22.8)
    assert g.shape == (121, 169)  # both edges are nodes: 1 deg / 30" + 1, 1.4 deg / 30" + 1


def test_a_grid_too_large_for_memory_is_refused_with_its_cost(monkeypatch):
    """No fixed node limit: a 3" grid of the whole box passes the default bound with 5 maps; with
    a 0.5 GiB bound it is refused, and the message says the nodes, maps and memory it needs."""
    sc = parse_scenario(BASE.replace("resolution_arcsec: 30", "resolution_arcsec: 3"))
    g = adapt.make_grid(sc, adapt.analysis_area(sc), _Terrain())
    assert g.shape == (1201, 1681)  # 2.0 M nodes
    monkeypatch.delenv("YALU_MAX_RUN_GB", raising=False)
    adapt.check_run_memory(sc, g, 5)
    monkeypatch.setenv("YALU_MAX_RUN_GB", "0.5")
    with pytest.raises(ParameterError) as exc:
        adapt.check_run_memory(sc, g, 150)
    msg = str(exc.value)
    need = 1201 * 1681 * (4 * 150 + 24 + adapt.LAYER_BYTES_PER_NODE * len(sc.variants)) / 2**30
    assert (
        "grid.resolution_arcsec" in msg and "2,018,881 nodes" in msg and "150 path-loss maps" in msg
    )
    assert f"{need:.1f} GiB" in msg and "0.5 GiB" in msg
    # maps held as their windows within the radius: the same 150 maps over 3 % of the grid fit
    adapt.check_run_memory(sc, g, 150, map_nodes=150 * 1201 * 1681 // 33)
    # layers kept on disk: one variant's in memory, and each variant's service level; with
    # three variants and one map, 130 bytes per node (245 MiB) become 65 (122 MiB)
    three = parse_scenario(BASE + "variants: [{name: x}, {name: y}, {name: z}]\n")
    monkeypatch.setenv("YALU_MAX_RUN_GB", "0.2")
    with pytest.raises(ParameterError, match="0.2 GiB"):
        adapt.check_run_memory(three, g, 1, map_nodes=g.shape[0] * g.shape[1])
    adapt.check_run_memory(three, g, 1, map_nodes=g.shape[0] * g.shape[1], spill=True)
    monkeypatch.setenv("YALU_MAX_RUN_GB", "lots")
    with pytest.raises(ParameterError, match="YALU_MAX_RUN_GB"):
        adapt.check_run_memory(sc, g, 5)


def test_sectors_and_gsm_channels():
    sc = parse_scenario(BASE)
    secs = adapt.radio_sites(sc)
    assert [s.radio.id for s in secs] == [
        "a/gsm-GSM900/0",
        "a/gsm-GSM900/120",
        "a/gsm-GSM900/240",
        "a/lte-B3",
        "b/gsm-GSM900",
    ]
    gsm = [s for s in secs if s.technology == "gsm"]
    # distinct 200 kHz channels inside the band, uplink 45 MHz below
    dl = [s.radio.dl_carrier_mhz for s in gsm]
    ul = [s.radio.ul_carrier_mhz for s in gsm]
    assert len(set(dl)) == 4
    assert all(925 < f < 960 and f - u == pytest.approx(45) for f, u in zip(dl, ul, strict=True))
    assert secs[3].radio.operator == "other" and secs[3].radio.dl_carrier_mhz == pytest.approx(
        1842.5
    )
    assert secs[0].radio.pattern.kind == "sector" and secs[3].radio.pattern.kind == "omni"


def test_jammer_split_keeps_the_power_density():
    sc = parse_scenario(BASE)
    parts = split_jammer_ranges(adapt.radio_jammers(sc))
    # 1805-1880 and 1880-1920 merge into one range
    assert [p.ranges_mhz for p in parts] == [[(925.0, 960.0)], [(1805.0, 1920.0)]]
    tot = sum(10 ** (p.eirp_dbm / 10) for p in parts)
    assert 10 * math.log10(tot) == pytest.approx(50.0)
    dens = [p.eirp_dbm - 10 * math.log10(p.bandwidth_mhz) for p in parts]
    assert dens[0] == pytest.approx(dens[1])
    jam_maps = [r for r in layer_requests([], parts, Handset()) if r[2] == "forward"]
    assert [f for _, f, _, _ in jam_maps] == [942.5, 1862.5]


def test_geometry_helpers_against_pyproj():
    lat = np.array([42.0, 42.5, 41.0])
    lon = np.array([23.5, 22.0, 23.3])
    az, _, d = GEOD.inv(np.full(3, 23.3), np.full(3, 42.5), lon, lat)
    az2, d2 = azimuth_distance(42.5, 23.3, lat, lon)
    np.testing.assert_allclose(d2, d, rtol=1e-12)
    np.testing.assert_allclose(az2, np.mod(az, 360), atol=1e-9)
    # 100 m up over 10 km: 0.57 deg, less the 4/3-earth drop (10 km: 5.9 m)
    el = elevation_angle_deg(0.0, 100.0, 10_000.0)
    assert el == pytest.approx(math.degrees(math.atan2(100 - 1e8 / (2 * 4 / 3 * 6371000.0), 1e4)))


UL = """\
name: ul
analysis_area:
  bbox: {south_deg: 40.9, west_deg: 125.0, north_deg: 41.1, east_deg: 125.3}
grid: {resolution_arcsec: 120}
propagation: {model: free_space, max_distance_km: 40}
population: {census: null}
output: {png: false, report_html: false, report_md: false}
sites:
  - id: a
    lat_deg: 41.0
    lon_deg: 125.15
    height_m: 30
    carriers:
      - {technology: lte, band: B3, dl_frequency_mhz: 1815, UL_LINE}
"""


def test_uplink_runs_at_the_carriers_ul_frequency(tmp_path):
    """B3 with dl=1815 and ul=1780: the uplink is computed at 1780 MHz, not 1815 - 95 = 1720."""
    given = parse_scenario(UL.replace("UL_LINE", "ul_frequency_mhz: 1780"))
    paired = parse_scenario(UL.replace(", UL_LINE", ""))
    sec = adapt.radio_sites(given)[0].radio
    assert (
        sec.ul_carrier_mhz == 1780.0 and adapt.radio_sites(paired)[0].radio.ul_carrier_mhz == 1720.0
    )
    reverse = [r for r in layer_requests([sec], [], Handset()) if r[2] == "reverse"]
    assert [f for _, f, _, _ in reverse] == [1780.0]
    a = run_scenario(given, tmp_path / "a").variants[0].layers["ul_margin_db"]
    b = run_scenario(paired, tmp_path / "b").variants[0].layers["ul_margin_db"]
    ok = np.isfinite(a) & np.isfinite(b)
    assert ok.sum() > 10
    # free space: the uplink loss grows by 20 log10(1780 / 1720) everywhere
    np.testing.assert_allclose((b - a)[ok], 20 * math.log10(1780 / 1720), atol=2e-5)
