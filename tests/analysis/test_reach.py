import json

import numpy as np
import pytest
import rasterio
from pyproj import Geod
from rasterio.transform import from_origin

from yalu.analysis.area import BBoxArea, BorderBufferArea, PolygonArea, Regions
from yalu.analysis.reach import CensusRow, census_table, level_name, population_reach
from yalu.analysis.settlements import Settlements
from yalu.errors import ParameterError
from yalu.geodesy.grid import Grid

GEOD = Geod(ellps="WGS84")
GRID = Grid(north_deg=41.0, west_deg=124.0, dlat_deg=0.1, dlon_deg=0.1, n_rows=10, n_cols=10)
# columns 0-4 data, 5-6 voice, 7 sms, 8-9 none
LEVELS = np.tile(np.array([3, 3, 3, 3, 3, 2, 2, 1, 0, 0], np.int8), (10, 1))


def node(i, j):
    return GRID.north_deg - i * GRID.dlat_deg, GRID.west_deg + j * GRID.dlon_deg


@pytest.fixture
def regions(tmp_path):
    def box(w, e):
        return [[[w, 39.0], [e, 39.0], [e, 41.5], [w, 41.5], [w, 39.0]]]

    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"gn_a1_code": "AA.01", "name": "Alpha"},
                "geometry": {"type": "Polygon", "coordinates": box(123.5, 124.45)},
            },
            {
                "type": "Feature",
                "properties": {"gn_a1_code": "BB.01", "name": "Beta"},
                "geometry": {"type": "Polygon", "coordinates": box(124.45, 125.5)},
            },
        ],
    }
    p = tmp_path / "regions.geojson"
    p.write_text(json.dumps(fc))
    return Regions.from_geojson(p)


def place(gid, name, cc, prov, ij, pop, dlat=0.0):
    lat, lon = node(*ij)
    return dict(
        geonameid=gid,
        name=name,
        country=cc,
        admin1_code="01",
        admin1=prov,
        lat_deg=lat + dlat,
        lon_deg=lon,
        population=pop,
    )


@pytest.fixture
def places():
    return Settlements.from_records(
        [
            place(1, "Atown", "AA", "Alpha", (2, 1), 1000),
            place(2, "Atown-dong", "AA", "Alpha", (2, 1), 10, dlat=0.01),  # duplicate of Atown
            place(3, "Bvoice", "BB", "Beta", (3, 6), 500),
            place(4, "Bsms", "BB", "Beta", (4, 7), 0),  # unknown population
            place(5, "Bnone", "BB", "Beta", (5, 9), 200),
            dict(
                geonameid=6,
                name="Far",
                country="BB",
                admin1_code="01",
                admin1="Beta",
                lat_deg=45.0,
                lon_deg=124.3,
                population=9999,
            ),  # outside the grid
        ]
    )


def _cell_km2(lat, d):
    lons = [124 - d / 2, 124 + d / 2, 124 + d / 2, 124 - d / 2]
    lats = [lat - d / 2, lat - d / 2, lat + d / 2, lat + d / 2]
    return abs(GEOD.polygon_area_perimeter(lons, lats)[0]) / 1e6


def test_population_area_and_places(regions, places):
    r = population_reach(LEVELS, GRID, places, regions)
    assert r.population_within_reach == {
        "AA": {"Alpha": {"sms": 1000, "voice": 1000, "data": 1000}},
        "BB": {"Beta": {"sms": 500, "voice": 500, "data": 0}},
    }
    assert r.places_within_reach["BB"]["Beta"] == {"sms": 2, "voice": 1, "data": 0}
    assert r.unknown_population_places_within_reach["BB"]["Beta"] == {
        "sms": 1,
        "voice": 0,
        "data": 0,
    }
    assert r.population_in_area == {"AA": {"Alpha": 1000}, "BB": {"Beta": 700}}
    assert r.share_within_reach["BB"]["Beta"]["sms"] == pytest.approx(500 / 700)
    assert r.totals() == {"sms": 1500, "voice": 1500, "data": 1000}
    # areas from pyproj, independently: every row's cell area times the columns at each level
    rows = [_cell_km2(GRID.north_deg - i * 0.1, 0.1) for i in range(10)]
    col_area = sum(rows)
    assert r.area_km2["AA"]["data"] == pytest.approx(5 * col_area, rel=1e-6)
    assert r.area_km2["BB"]["sms"] == pytest.approx(3 * col_area, rel=1e-6)
    assert r.area_km2["BB"]["voice"] == pytest.approx(2 * col_area, rel=1e-6)
    assert r.area_km2["BB"]["data"] == 0.0
    assert r.analysis_area_km2["BB"] == pytest.approx(5 * col_area, rel=1e-6)
    recs = {s["geonameid"]: s for s in r.settlements}
    assert 6 not in recs  # outside the grid
    assert recs[2]["duplicate_of"] == 1
    assert recs[5]["service_level"] == "none" and recs[3]["service_level"] == "voice"


def test_cumulative_levels_hold(regions, places):
    rng = np.random.default_rng(0)
    lv = rng.integers(0, 4, GRID.shape).astype(np.int8)
    r = population_reach(lv, GRID, places, regions)
    for per_c in r.population_within_reach.values():
        for per in per_c.values():
            assert per["sms"] >= per["voice"] >= per["data"]
    for per in r.area_km2.values():
        assert per["sms"] >= per["voice"] >= per["data"]


def test_area_restriction(regions, places):
    # columns 0..6 only: Bsms (column 7) and Bnone (column 9) drop out
    area = BBoxArea(south_deg=39.0, west_deg=123.9, north_deg=41.5, east_deg=124.65)
    r = population_reach(LEVELS, GRID, places, regions, area)
    assert r.places_within_reach["BB"]["Beta"] == {"sms": 1, "voice": 1, "data": 0}
    assert r.population_in_area["BB"]["Beta"] == 500
    poly = PolygonArea(np.array([[123.9, 39], [124.65, 39], [124.65, 41.5], [123.9, 41.5]]))
    r2 = population_reach(LEVELS, GRID, places, regions, poly)
    assert r2.population_within_reach == r.population_within_reach
    for cc in r.area_km2:
        assert r2.area_km2[cc] == pytest.approx(r.area_km2[cc])


def test_border_buffer_area(regions, places):
    # a meridian border at 124.45: within 20 km keeps columns 3..6 (|dlon| <= 0.2 deg ~ 16.7 km)
    line = np.array([[124.45, 39.0], [124.45, 42.0]])
    area = BorderBufferArea([line], 20.0)
    m = area.grid_mask(GRID)
    assert m[0].tolist() == [False, False, False, True, True, True, True, False, False, False]
    # the grid's distances are the points' own (the run's sanity checks take them from here)
    km = area.grid_distance_km(GRID)
    la, lo = np.meshgrid(GRID.lats(), GRID.lons(), indexing="ij")
    assert np.array_equal(km, area.distance(la, lo))
    assert np.array_equal(m, area.contains(la, lo))
    assert km[0, 4] == pytest.approx(abs(GRID.lons()[4] - 124.45) * 111.195 * np.cos(
        np.radians(GRID.lats()[0])), rel=2e-3)  # fmt: skip
    r = population_reach(LEVELS, GRID, places, regions, area)
    assert "AA" not in r.population_within_reach  # Atown at column 1 is 35 km away
    assert r.population_within_reach["BB"]["Beta"]["sms"] == 500


def test_population_raster_zonal_sums(tmp_path, regions, places):
    # 2 x 2 pixels of 0.05 deg around every node, 1 person each, plus NaN nodata
    tif = tmp_path / "pop.tif"
    data = np.ones((20, 20), np.float32)
    data[0, 0] = np.nan
    tr = from_origin(GRID.west_deg - 0.05, GRID.north_deg + 0.05, 0.05, 0.05)
    with rasterio.open(
        tif,
        "w",
        driver="GTiff",
        height=20,
        width=20,
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=tr,
        nodata=np.nan,
    ) as dst:
        dst.write(data, 1)
    r = population_reach(LEVELS, GRID, places, regions, population_raster=tif)
    rp = r.raster_population_within_reach
    assert rp["AA"]["Alpha"]["data"] == pytest.approx(10 * 5 * 4 - 1)
    assert rp["BB"]["Beta"] == pytest.approx({"sms": 10 * 3 * 4, "voice": 10 * 2 * 4, "data": 0})
    assert r.raster_population_in_area["BB"]["Beta"] == pytest.approx(10 * 5 * 4)


def test_census_coverage(regions, places):
    census = [CensusRow("Beta province", ("BB.01",), 7000)]
    r = population_reach(LEVELS, GRID, places, regions, census=census)
    (c,) = r.census
    # every Beta place counts toward the listed population, also the one outside the grid
    assert c["settlement_population"] == 500 + 200 + 9999
    assert c["settlement_share_of_census"] == pytest.approx(10699 / 7000)
    assert c["within_reach"] == {"sms": 500, "voice": 500, "data": 0}


def test_shipped_census_table():
    rows = census_table()
    by = {r.province.split(" (")[0]: r for r in rows}
    assert by["Ryanggang"].codes == ("KP.13",) and by["Ryanggang"].population == 719269
    assert by["North Hamgyong"].codes == ("KP.17", "KP.18")
    assert sum(r.population for r in rows) == 23349859


def test_bad_inputs(regions, places):
    with pytest.raises(ParameterError, match="service_level"):
        population_reach(LEVELS[:5], GRID, places, regions)
    with pytest.raises(ParameterError, match="service_level"):
        population_reach(LEVELS.astype(float), GRID, places, regions)
    assert level_name(2) == "voice" and level_name(7) == "none"


def test_grid_labels_are_computed_once_per_grid(regions):
    lab = regions.label_grid(GRID)
    # columns west of 124.45 E in Alpha (0), the others in Beta (1)
    want = np.where(GRID.west_deg + GRID.dlon_deg * np.arange(10) < 124.45, 0, 1)
    np.testing.assert_array_equal(lab, np.tile(want, (10, 1)))
    assert regions.label_grid(GRID) is lab  # the same grid again: no second labelling
    with pytest.raises(ValueError):
        lab[0, 0] = 5  # shared, hence read-only
    other = Grid(north_deg=41.0, west_deg=124.0, dlat_deg=0.1, dlon_deg=0.2, n_rows=10, n_cols=10)
    lab2 = regions.label_grid(other)
    want2 = np.array([0, 0, 0, 1, 1, 1, 1, 1, -1, -1])  # 0.2 deg apart: beyond Beta from 125.6
    np.testing.assert_array_equal(lab2, np.tile(want2, (10, 1)))


def test_node_countries_are_the_names_of_the_grid_labels_one_byte_per_node(regions):
    from yalu.analysis.area import UNKNOWN, NodeCountries

    other = Grid(north_deg=41.0, west_deg=124.0, dlat_deg=0.1, dlon_deg=0.2, n_rows=10, n_cols=10)
    nodes = regions.node_countries(other)
    assert nodes.codes.dtype == np.int8 and nodes.codes.shape == other.shape
    assert nodes.names[-1] == UNKNOWN
    # the array of names the run built before, node by node
    names = np.array(regions.countries + [UNKNOWN])[regions.label_grid(other)]
    np.testing.assert_array_equal(np.array(nodes.names)[nodes.codes], names)
    where = np.zeros(other.shape, bool)
    where[:4] = True
    counts = nodes.counts(where)
    assert list(counts) == list(nodes.names)
    for c in nodes.names:
        assert counts[c] == int(np.sum(names[where] == c))
        np.testing.assert_array_equal(nodes.mask(c), names == c)
    assert counts[UNKNOWN] == 8  # two columns beyond Beta, four rows
    assert not nodes.mask("ZZ").any() and nodes.code("ZZ") == -1
    back = NodeCountries.from_names(names)
    np.testing.assert_array_equal(np.array(back.names)[back.codes], names)
    with pytest.raises(ParameterError, match="where"):
        nodes.counts(np.ones((3, 3), bool))


def test_area_at_levels_by_row_is_the_area_at_listed_nodes_bit_for_bit():
    from yalu.analysis.area import area_at_levels_km2, area_at_levels_rows_km2

    rng = np.random.default_rng(11)
    nr, nc = 23, 31
    label = rng.integers(-1, 3, size=(nr, nc)).astype(np.int8)
    row_km2 = rng.random(nr) * 3.0
    for dtype in (np.uint8, np.int8, np.int64):
        levels = rng.integers(0, 4, size=(nr, nc)).astype(dtype)
        node = np.flatnonzero(label.ravel() >= 0)
        km2 = np.broadcast_to(row_km2[:, None], (nr, nc)).ravel()[node]
        want = area_at_levels_km2(levels.ravel(), node, label.ravel()[node], km2, 3)
        got = area_at_levels_rows_km2(levels, label, row_km2, 3)
        assert want.sum() > 0 and np.array_equal(got, want)
    bad = label.copy()
    bad[2, 5] = 3
    with pytest.raises(ParameterError, match=r"flat node 67.*3.*-1 to 2"):
        area_at_levels_rows_km2(levels, bad, row_km2, 3)
    with pytest.raises(ParameterError, match="row_km2"):
        area_at_levels_rows_km2(levels, label, row_km2[:-1], 3)


def test_weighted_area_by_row_is_numpy_bincount_of_the_counted_nodes_bit_for_bit():
    """The expected area of a probability layer, in one compiled pass, against the numpy
    form it replaces (bincount over the counted nodes of area x nan_to_num(p), float64)."""
    from yalu.analysis.area import weighted_area_rows_km2

    rng = np.random.default_rng(12)
    nr, nc = 29, 37
    label = rng.integers(-1, 4, size=(nr, nc)).astype(np.int8)
    row_km2 = 0.5 + rng.random(nr) * 3.0
    for dtype in (np.float32, np.float64, np.uint8):
        p = (rng.random((nr, nc)) * (1.0 if dtype != np.uint8 else 3.0)).astype(dtype)
        if p.dtype.kind == "f":
            p[rng.random((nr, nc)) < 0.2] = np.nan
            p[0, :2] = [np.nan, 1.0]
        lab = label.ravel()
        sel = lab >= 0
        km2 = np.broadcast_to(row_km2[:, None], (nr, nc)).ravel()[sel]
        pw = np.nan_to_num(np.asarray(p, dtype=float).ravel()[sel])
        want = np.bincount(lab[sel], weights=km2 * pw, minlength=4)
        got = weighted_area_rows_km2(p, label, row_km2, 4)
        assert got.shape == (4,) and want.sum() > 0 and np.array_equal(got, want), dtype
    # infinities count as the largest finite value, as nan_to_num has them
    inf = np.zeros((1, 3))
    inf[0, 1] = np.inf
    got = weighted_area_rows_km2(inf, np.array([[0, 0, -1]], np.int8), np.array([1.0]), 1)
    assert got[0] == np.finfo(float).max
    bad = label.copy()
    bad[1, 2] = 4
    with pytest.raises(ParameterError, match=r"flat node 39.*4.*-1 to 3"):
        weighted_area_rows_km2(p, bad, row_km2, 4)
    with pytest.raises(ParameterError, match="weight"):
        weighted_area_rows_km2(p[:-1], label, row_km2, 4)
    with pytest.raises(ParameterError, match="row_km2"):
        weighted_area_rows_km2(p, label, row_km2[:-1], 4)
    # bands of rows added in order into one ``out`` are the one pass, bit for bit
    p = rng.random((nr, nc)).astype(np.float32)
    whole = weighted_area_rows_km2(p, label, row_km2, 4)
    for step in (1, 4, 7, nr):
        out = np.zeros(4)
        for r0 in range(0, nr, step):
            back = weighted_area_rows_km2(p[r0 : r0 + step], label[r0 : r0 + step],
                                          row_km2[r0 : r0 + step], 4, out=out)  # fmt: skip
            assert back is out
        assert np.array_equal(out, whole), step
    with pytest.raises(ParameterError, match=r"out.*float64 array of shape \(4,\)"):
        weighted_area_rows_km2(p, label, row_km2, 4, out=np.zeros(3))


def test_area_at_levels_refuses_nodes_and_labels_out_of_range():
    from yalu.analysis.area import area_at_levels_km2
    from yalu.errors import ParameterError

    levels = np.array([0, 1, 2, 3, 3], np.uint8)
    km2 = np.array([1.0, 2.0, 4.0, 8.0])
    got = area_at_levels_km2(levels, [1, 2, 3, 4], [0, 1, 1, 0], km2, 2)
    np.testing.assert_array_equal(got, [[9.0, 8.0, 8.0], [6.0, 6.0, 4.0]])
    with pytest.raises(ParameterError, match=r"node\[2\].*5.*0 to 4"):
        area_at_levels_km2(levels, [1, 2, 5, 4], [0, 1, 1, 0], km2, 2)
    with pytest.raises(ParameterError, match=r"label\[3\].*-1.*0 to 1"):
        area_at_levels_km2(levels, [1, 2, 3, 4], [0, 1, 1, -1], km2, 2)
    with pytest.raises(ParameterError, match="one length"):
        area_at_levels_km2(levels, [1, 2, 3], [0, 1, 1, 0], km2, 2)


def test_area_by_label_rows_is_sum_by_label_on_the_flattened_grid_bit_for_bit():
    from yalu.analysis import _kernels

    rng = np.random.default_rng(3)
    nr, nc = 37, 53
    region = rng.integers(-1, 4, size=(nr, nc)).astype(np.int32)
    region_label = np.array([0, 1, 1, 2, 3], dtype=np.int64)  # region -1 -> last (3)
    in_area = rng.random((nr, nc)) < 0.8
    levels = rng.integers(-1, 5, size=(nr, nc)).astype(np.int8)  # out-of-range levels skipped
    row_km2 = rng.random(nr) * 7.0
    row_km2[5] = np.nan
    got = _kernels.area_by_label_rows(region, region_label, in_area, levels, row_km2, 4, 3)
    lab = np.where(in_area, region_label[region], -1).ravel().astype(np.int64)
    w = np.broadcast_to(row_km2[:, None], (nr, nc)).ravel().copy()
    ref = _kernels.sum_by_label(lab, levels.ravel().astype(np.int64), w, 4, 3)
    assert ref.sum() > 0
    assert np.array_equal(got, ref)
    # an independent sum in plain Python
    py = np.zeros((4, 4))
    for i in range(nr):
        for j in range(nc):
            lv = int(levels[i, j])
            if in_area[i, j] and 0 <= lv <= 3 and np.isfinite(row_km2[i]):
                py[region_label[region[i, j]], lv] += row_km2[i]
    assert np.allclose(got, py, rtol=1e-12, atol=0)


def test_area_added_band_by_band_is_the_whole_grids_and_bad_input_is_named():
    from yalu.analysis.area import add_area_at_nodes_km2, area_at_levels_rows_km2

    rng = np.random.default_rng(4)
    nr, nc = 19, 13
    label = rng.integers(-1, 2, size=(nr, nc)).astype(np.int8)
    row_km2 = rng.random(nr) + 0.5
    levels = rng.integers(0, 4, size=(nr, nc)).astype(np.uint8)
    out = np.zeros((2, 3))
    for r0 in range(0, nr, 4):
        idx = np.arange(r0 * nc, min(r0 + 4, nr) * nc)
        add_area_at_nodes_km2(out, idx, levels.ravel()[idx], label, row_km2, nc)
    want = area_at_levels_rows_km2(levels, label, row_km2, 2)
    assert want.sum() > 0 and np.array_equal(out, want)
    with pytest.raises(ParameterError, match="area_km2"):
        add_area_at_nodes_km2(np.zeros((2, 2)), [0], [1], label, row_km2, nc)
    with pytest.raises(ParameterError, match="node"):
        add_area_at_nodes_km2(out, [0, nr * nc], [1, 1], label, row_km2, nc)
    with pytest.raises(ParameterError, match="levels"):
        add_area_at_nodes_km2(out, [0, 1], [1], label, row_km2, nc)
    bad = label.copy()
    bad[0, 3] = 5
    with pytest.raises(ParameterError, match=r"label \(node 3\).*5.*-1 to 1"):
        add_area_at_nodes_km2(np.zeros((2, 3)), [1, 3], [1, 1], bad, row_km2, nc)
