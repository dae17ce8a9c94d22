"""Population samples: footprints, sections counted once, raster zonal sums with partial cells."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import rasterio
from pyproj import Geod
from rasterio.transform import from_origin

from yalu.analysis.area import BBoxArea, Regions
from yalu.analysis.population import (
    FootprintLaw,
    PopulationSamples,
    area_fraction,
    coincident_samples,
    footprint_samples,
    raster_samples,
    sections,
)
from yalu.analysis.reach import population_reach, sampling_check
from yalu.analysis.settlements import Settlements, settlements_in_bbox
from yalu.errors import ParameterError
from yalu.geodesy.grid import Grid

GEOD = Geod(ellps="WGS84")


def test_footprint_law_values():
    law = FootprintLaw()
    assert law.area_km2(100_000) == pytest.approx(20.0)
    # 10x the people, 10**0.85 = 7.08x the area: density falls with size
    assert law.area_km2(1_000_000) == pytest.approx(20.0 * 10**0.85)
    assert law.radius_m(100_000) == pytest.approx(math.sqrt(20e6 / math.pi))
    assert law.area_km2(0) == 0.0
    with pytest.raises(ParameterError, match="footprint.exponent"):
        FootprintLaw(exponent=2.0)


def _town(pop, gid=1, lat=41.0, lon=125.0, name="T", admin1="01"):
    return dict(
        geonameid=gid,
        name=name,
        country="KP",
        admin1_code=admin1,
        admin1="P",
        lat_deg=lat,
        lon_deg=lon,
        population=pop,
    )


def test_footprint_samples_spread_the_people():
    st = Settlements.from_records([_town(192_680), _town(0, gid=2, lat=41.2),
                                   _town(5_000, gid=3, lat=41.4)])  # fmt: skip
    law = FootprintLaw()
    s = footprint_samples(st, 200.0, law)
    for i in range(3):
        mine = s.owner == i
        assert s.people[mine].sum() == pytest.approx(float(st.population[i]))
        # the centre first
        first = np.flatnonzero(mine)[0]
        assert (s.lat_deg[first], s.lon_deg[first]) == (st.lat_deg[i], st.lon_deg[i])
    big = s.owner == 0
    # as many samples as the disc holds lattice cells (within 3 %)
    expect = law.area_km2(192_680) * 1e6 / 200.0**2
    assert abs(big.sum() - expect) / expect < 0.03
    # every sample within the footprint radius of the centre, the farthest near it
    _, _, d = GEOD.inv(np.full(big.sum(), 125.0), np.full(big.sum(), 41.0), s.lon_deg[big],
                       s.lat_deg[big])  # fmt: skip
    r = float(law.radius_m(192_680))
    assert d.max() <= r * 1.001 and d.max() > r - 200.0
    assert (s.owner == 1).sum() == 1 and s.people[s.owner == 1].sum() == 0  # unknown population
    # half the spacing: four times the samples, the same people
    s2 = footprint_samples(st, 100.0, law)
    assert abs((s2.owner == 0).sum() / big.sum() - 4.0) < 0.1
    assert s2.people.sum() == pytest.approx(s.people.sum())
    # places not counted keep their centre, with nobody
    s3 = footprint_samples(st, 200.0, law, counted=[False, True, True])
    assert (s3.owner == 0).sum() == 1 and s3.people[s3.owner == 0].sum() == 0
    with pytest.raises(ParameterError, match="spacing_m"):
        footprint_samples(st, 1.0, law)


def test_sections_on_real_geonames_vienna():
    """Vienna and its districts (GeoNames PPLX) are one city; neighbouring towns of Lower Austria
    (another admin-1 division) are not its sections."""
    st = settlements_in_bbox(47.9, 15.9, 48.5, 16.9)
    sec = sections(st)
    idx = {int(g): i for i, g in enumerate(st.geonameid)}
    vienna = idx[2761369]
    assert st.name[vienna] == "Vienna" and sec[vienna] == -1
    names = {str(n): i for i, n in enumerate(st.name)}
    districts = [
        "Favoriten",
        "Floridsdorf",
        "Donaustadt",
        "Simmering",
        "Ottakring",
        "Meidling",
        "Döbling",
        "Penzing",
        "Landstraße",
        "Innere Stadt",
        "Hietzing",
        "Essling",
    ]
    for d in districts:
        assert sec[names[d]] == vienna, d
    for town in ("Schwechat", "Klosterneuburg", "Mödling", "Perchtoldsdorf", "Purkersdorf"):
        assert st.admin1_code[names[town]] != "09"
        assert sec[names[town]] == -1, town
    # people counted: Vienna once, not Vienna plus its districts
    counted = sec < 0
    in_09 = np.asarray(st.admin1_code == "09") & counted
    assert int(st.population[in_09].sum()) < 1.01 * 1_691_468


def test_sections_on_real_geonames_hyesan():
    st = settlements_in_bbox(41.2, 128.0, 41.6, 128.4)
    sec = sections(st)
    by = {str(n): i for i, n in enumerate(st.name)}
    assert sec[by["Hyesan-dong"]] == by["Hyesan"]
    assert sec[by["Changbai"]] == -1  # across the river: China, another country
    assert sec[by["Hyesan"]] == -1


def _write_tif(path, data, north, west, d):
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=data.shape[0],
        width=data.shape[1],
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=from_origin(west, north, d, d),
        nodata=-99999.0,
    ) as dst:
        dst.write(data.astype(np.float32), 1)
    return path


@pytest.fixture
def pop_tif(tmp_path):
    # 2 x 3 cells of 0.01 deg from (41.0 N, 124.0 E): people 100 .. 600
    data = np.array([[100, 200, 300], [400, 500, 600]], float)
    return _write_tif(tmp_path / "pop.tif", data, 41.0, 124.0, 0.01)


def _cells(s: PopulationSamples, d: float, north=41.0, west=124.0):
    r = np.rint((north - s.lat_deg) / d - 0.5).astype(int)
    c = np.rint((s.lon_deg - west) / d - 0.5).astype(int)
    return {(int(a), int(b)): float(p) for a, b, p in zip(r, c, s.people, strict=True)}


def test_raster_native_cells(pop_tif):
    s = raster_samples(pop_tif, (40.98, 124.0, 41.0, 124.03))
    assert _cells(s, 0.01) == pytest.approx(
        {(0, 0): 100, (0, 1): 200, (0, 2): 300, (1, 0): 400, (1, 1): 500, (1, 2): 600}
    )
    assert (s.owner == -1).all() and s.source == "raster"


def test_raster_zonal_sums_with_partial_cells_by_hand(pop_tif):
    """Sample cells of 0.015 deg over raster cells of 0.01 deg: raster row 1 and column 1 are
    split half and half between two sample cells.

    cell (0,0) = 100 + 200/2 + (400 + 500/2)/2 = 525
    cell (0,1) = 200/2 + 300 + (500/2 + 600)/2 = 825
    cell (1,0) = (400 + 500/2)/2 = 325
    cell (1,1) = (500/2 + 600)/2 = 425
    """
    s = raster_samples(pop_tif, (40.98, 124.0, 41.0, 124.03), dlat_deg=0.015, dlon_deg=0.015)
    got = _cells(s, 0.015)
    assert got == pytest.approx({(0, 0): 525, (0, 1): 825, (1, 0): 325, (1, 1): 425})
    assert sum(got.values()) == pytest.approx(2100)
    # an area whose east edge halves sample column 1: those cells keep half their people
    area = BBoxArea(40.0, 123.0, 42.0, 124.0225)
    s2 = raster_samples(pop_tif, (40.98, 124.0, 41.0, 124.03), area, dlat_deg=0.015,
                        dlon_deg=0.015)  # fmt: skip
    assert _cells(s2, 0.015) == pytest.approx({(0, 0): 525, (0, 1): 412.5, (1, 0): 325,
                                               (1, 1): 212.5})  # fmt: skip


def test_area_fraction_of_a_cell_cut_by_a_box():
    area = BBoxArea(40.0, 124.0, 41.0, 125.0)
    # cells of 0.1 deg: inside, outside, over the north-east corner (a quarter of its height
    # and three quarters of its width inside), half inside
    f = area_fraction(area, np.array([40.5, 41.5, 41.025, 40.5]),
                      np.array([124.5, 124.5, 124.975, 125.0]), 0.1, 0.1)  # fmt: skip
    np.testing.assert_allclose(f, [1.0, 0.0, 0.25 * 0.75, 0.5])


@pytest.fixture
def regions(tmp_path):
    ring = [[[123.0, 40.0], [124.5, 40.0], [124.5, 42.0], [123.0, 42.0], [123.0, 40.0]]]
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"gn_a1_code": "KP.01", "name": "P"},
         "geometry": {"type": "Polygon", "coordinates": ring}}]}  # fmt: skip
    p = tmp_path / "r.geojson"
    p.write_text(json.dumps(fc))
    return Regions.from_geojson(p)


def test_reach_at_samples(pop_tif, regions):
    """People take the level of their sample: half of a settlement's footprint served counts half
    its people; raster cells are summed by level."""
    grid = Grid(41.1, 123.9, 0.05, 0.05, 6, 6)
    st = Settlements.from_records(
        [_town(1000, lat=41.0, lon=124.0), _town(300, gid=2, lat=41.05, lon=124.1, name="U")]
    )
    fs = footprint_samples(st, 100.0, FootprintLaw())
    rs = raster_samples(pop_tif, (40.98, 124.0, 41.0, 124.03), dlat_deg=0.015, dlon_deg=0.015)
    s = PopulationSamples.concat([fs, rs])
    lv = np.zeros(len(s), np.int64)
    town = s.owner == 0
    lv[town & (s.lon_deg >= 124.0)] = 3  # the eastern half of the town (and its centre): data
    lv[s.owner == 1] = 1
    lv[(s.owner == -1) & (s.lon_deg < 124.015)] = 2  # sample column 0 of the raster: voice
    r = population_reach(np.zeros(grid.shape, np.int8), grid, st, regions, samples=s,
                         sample_level=lv)  # fmt: skip
    east = s.people[town & (s.lon_deg >= 124.0)].sum()
    assert 0.45 * 1000 < east < 0.6 * 1000
    tot = r.population_within_reach["KP"]["P"]
    assert tot == {"sms": round(east + 300), "voice": round(east), "data": round(east)}
    assert r.raster_population_within_reach["KP"][regions.names[0]] == pytest.approx(
        {"sms": 525 + 325, "voice": 525 + 325, "data": 0}
    )
    rec = {x["geonameid"]: x for x in r.settlements}
    assert rec[1]["service_level"] == "data"  # the level at its centre
    assert rec[1]["people_within_reach"]["data"] == round(east)
    chk = sampling_check(s, lv, st, regions, s, lv)
    assert chk["half_spacing"]["max_abs_relative_difference"] == 0.0
    assert chk["headline"]["raster"]["KP"]["voice"] == pytest.approx(850)
    with pytest.raises(ParameterError, match="sample_level"):
        population_reach(np.zeros(grid.shape, np.int8), grid, st, regions, samples=s,
                         sample_level=lv[:-1])  # fmt: skip


def test_sections_are_not_counted_in_reach(regions):
    grid = Grid(41.1, 123.9, 0.05, 0.05, 6, 6)
    st = Settlements.from_records(
        [
            _town(100_000, lat=41.0, lon=124.0, name="City"),
            _town(20_000, gid=2, lat=41.01, lon=124.01, name="District"),
        ]
    )
    sec = sections(st)
    assert sec.tolist() == [-1, 0]
    fs = footprint_samples(st, 200.0, counted=sec < 0)
    lv = np.full(len(fs), 3, np.int64)
    r = population_reach(np.zeros(grid.shape, np.int8), grid, st, regions, samples=fs,
                         sample_level=lv, section_of=sec)  # fmt: skip
    assert r.population_within_reach["KP"]["P"]["sms"] == 100_000
    rec = {x["geonameid"]: x for x in r.settlements}
    assert rec[2]["section_of"] == 1


def test_half_spacing_footprints_hold_the_coarse_samples_bit_for_bit():
    """What the convergence check relies on to reuse the coarse samples' levels."""
    st = Settlements.from_records([_town(192_680), _town(0, gid=2, lat=41.2),
                                   _town(5_000, gid=3, lat=41.4, lon=125.3),
                                   _town(40, gid=4, lat=41.5, lon=124.7)])  # fmt: skip
    for spacing in (70.3, 200.0, 517.0):
        c = footprint_samples(st, spacing)
        f = footprint_samples(st, spacing / 2)
        idx = coincident_samples(f.lat_deg, f.lon_deg, c.lat_deg, c.lon_deg)
        assert np.all(idx >= 0), spacing
        assert np.array_equal(f.lat_deg[idx], c.lat_deg) and np.array_equal(
            f.lon_deg[idx], c.lon_deg
        )
        assert np.array_equal(f.owner[idx], c.owner)
        back = coincident_samples(c.lat_deg, c.lon_deg, f.lat_deg, f.lon_deg)
        assert (back >= 0).sum() == c.lat_deg.size  # the others are new points
    # a point one ulp away is not the same point
    la, lo = np.array([41.0, 41.1]), np.array([125.0, 125.1])
    got = coincident_samples(la, lo, np.array([41.1, np.nextafter(41.0, 42.0)]),
                             np.array([125.1, 125.0]))  # fmt: skip
    assert got.tolist() == [1, -1]
    with pytest.raises(ParameterError, match="lat_deg"):
        coincident_samples(la, lo[:1], la, lo)
