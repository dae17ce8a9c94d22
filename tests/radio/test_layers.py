"""compute_layers: geometry + path-loss callable + link budget + zones."""

import math

import numpy as np
import pytest
from pyproj import Geod

from yalu.geodesy.grid import Grid
from yalu.radio import (
    CircleZone,
    Handset,
    Jammer,
    Site,
    Technology,
    default_technology_profiles,
    link_budget,
)
from yalu.radio.layers import FunctionPathLoss, compute_layers

GEOD = Geod(ellps="WGS84")
C = 299_792_458.0


def distance_m(lat, lon, grid):
    la, lo = np.meshgrid(grid.lats(), grid.lons(), indexing="ij")
    _, _, d = GEOD.inv(np.full(la.shape, lon), np.full(la.shape, lat), lo, la)
    return np.maximum(np.asarray(d), 1.0)


def free_space(lat, lon, h_tx, h_rx, f, grid):
    d = distance_m(lat, lon, grid)
    return 20 * np.log10(4 * math.pi * d * f * 1e6 / C)


def flat_loss(lat, lon, h_tx, h_rx, f, grid):
    # frequency-independent loss, so that splitting a jammer's ranges changes nothing
    return 60.0 + 20 * np.log10(distance_m(lat, lon, grid))


GRID = Grid(north_deg=40.05, west_deg=123.95, dlat_deg=0.005, dlon_deg=0.005, n_rows=21, n_cols=21)
PROFILES = default_technology_profiles()


def lte(**kw):
    base = {
        "id": "A",
        "lat_deg": 40.0,
        "lon_deg": 124.0,
        "height_m": 30.0,
        "operator": "op",
        "technology": "lte",
        "band": "B3",
    }
    base.update(kw)
    return Site(**base)


def test_matches_direct_budget_and_zone_layer():
    s = lte()
    zone = CircleZone(label="monument", lat_deg=40.02, lon_deg=124.02, radius_m=600.0)
    out = compute_layers([s], Handset(), PROFILES, [], [zone], GRID, free_space, detail=True)
    d = distance_m(s.lat_deg, s.lon_deg, GRID)[None]
    direct = link_budget(
        [s], Handset(), PROFILES, free_space(40.0, 124.0, 30, 1.5, s.dl_carrier_mhz, GRID)[None],
        free_space(40.0, 124.0, 30, 1.5, s.ul_carrier_mhz, GRID)[None], d,
    )  # fmt: skip
    np.testing.assert_allclose(out.budget.rsrp_dbm, direct.rsrp_dbm)
    np.testing.assert_allclose(out.budget.ul_sinr_db, direct.ul_sinr_db)
    layers = out.arrays()
    assert set(layers) == {
        "rsrp_dbm",
        "ul_margin_db",
        "dl_sinr_db",
        "ul_sinr_db",
        "best_server",
        "service_level",
        "service_limit",
        "restricted",
    }
    assert all(v.shape == GRID.shape for v in layers.values())
    assert 0 < layers["restricted"].sum() < 10  # ~600 m circle on a ~500 m grid


def test_sector_points_north():
    s = lte(pattern={"kind": "sector", "azimuth_deg": 0.0, "front_to_back_db": 25.0})
    out = compute_layers([s], Handset(), PROFILES, [], [], GRID, free_space, detail=True)
    r = out.budget.rsrp_dbm
    # the site sits at node (10, 10); nodes 5 km north and 5 km south (same distance +- 1 %)
    north, south = r[0, 10], r[20, 10]
    assert north - south == pytest.approx(25.0, abs=0.3)


def test_split_jammer_ranges_equal_unsplit():
    s = lte()
    j = Jammer(
        id="J",
        lat_deg=40.03,
        lon_deg=124.0,
        height_m=5.0,
        eirp_dbm=45.0,
        ranges_mhz=[(925.0, 960.0), (1805.0, 1880.0)],
    )
    out = compute_layers([s], Handset(), PROFILES, [j], [], GRID, flat_loss, detail=True)
    d = distance_m(s.lat_deg, s.lon_deg, GRID)[None]
    pl = flat_loss(40.0, 124.0, 0, 0, 0, GRID)[None]
    jpl = flat_loss(j.lat_deg, j.lon_deg, 0, 0, 0, GRID)[None]
    _, _, d_js = GEOD.inv(j.lon_deg, j.lat_deg, s.lon_deg, s.lat_deg)
    jspl = np.array([[60.0 + 20 * math.log10(d_js)]])
    direct = link_budget(
        [s],
        Handset(),
        PROFILES,
        pl,
        pl,
        d,
        jammers=[j],
        jammer_path_loss_db=jpl,
        jammer_site_path_loss_db=jspl,
    )
    b1 = out.budget.per_technology[Technology.LTE]
    b2 = direct.per_technology[Technology.LTE]
    np.testing.assert_allclose(b1.dl_jammer_dbm, b2.dl_jammer_dbm, rtol=0, atol=1e-6)
    # the jammer's B3 share does not overlap the B3 UL band (1710-1785): no UL jamming
    assert np.all(np.isneginf(b1.ul_jammer_dbm))
    np.testing.assert_array_equal(out.budget.service_level, direct.service_level)
    assert out.budget.service_level.min() < out.budget.service_level.max()


def test_uplink_jammer_reaches_tower_through_point_call():
    s = lte()  # omni, 11 dBi, feeder 2 dB
    j = Jammer(
        id="J",
        lat_deg=40.01,
        lon_deg=124.01,
        height_m=5.0,
        eirp_dbm=45.0,
        ranges_mhz=[(1710.0, 1785.0)],
    )
    calls = []

    def loss(lat, lon, h_tx, h_rx, f, grid):
        calls.append((lat, lon, h_rx, grid.shape))
        return flat_loss(lat, lon, h_tx, h_rx, f, grid)

    out = compute_layers([s], Handset(), PROFILES, [j], [], GRID, loss, detail=True)
    _, _, d_js = GEOD.inv(j.lon_deg, j.lat_deg, s.lon_deg, s.lat_deg)
    expected = 45.0 + 10 * math.log10(0.36 / 75.0) - (60 + 20 * math.log10(d_js)) + 11.0 - 2.0
    ul_j = out.budget.per_technology[Technology.LTE].ul_jammer_dbm
    np.testing.assert_allclose(ul_j[np.isfinite(ul_j)], expected, atol=1e-6)
    assert (j.lat_deg, j.lon_deg, 30.0, (1, 1)) in calls  # jammer -> tower at the tower's height


def test_point_layers_equal_grid_layers_at_the_nodes():
    """compute_point_layers is compute_layers' budget at points: at the grid's nodes, the same."""
    from yalu.radio.layers import compute_point_layers

    sites = [lte(), lte(id="B", lat_deg=40.02, lon_deg=123.97, band="B3")]
    j = Jammer(id="J", lat_deg=40.03, lon_deg=124.0, height_m=5.0, eirp_dbm=45.0,
               ranges_mhz=[(1805.0, 1880.0), (1710.0, 1785.0)])  # fmt: skip
    zone = CircleZone(label="z", lat_deg=40.02, lon_deg=124.02, radius_m=600.0)
    sigma = [6.0, 9.0]  # probability layers too
    grid = compute_layers(
        sites, Handset(), PROFILES, [j], [zone], GRID, free_space, location_sigma_db=sigma
    )
    la, lo = np.meshgrid(GRID.lats(), GRID.lons(), indexing="ij")
    pts = compute_point_layers(
        sites,
        Handset(),
        PROFILES,
        [j],
        [zone],
        la.ravel(),
        lo.ravel(),
        free_space,
        block_elements=100,  # several blocks
        location_sigma_db=sigma,
    )
    assert pts.site_ids == grid.site_ids
    assert {"p_sms", "p_voice", "p_data"} <= set(grid.layers)
    assert set(pts.layers) == set(grid.layers)
    for name, arr in grid.layers.items():
        got = pts.layers[name].reshape(GRID.shape)
        if arr.dtype.kind == "f":
            np.testing.assert_allclose(got, arr, rtol=0, atol=1e-4, equal_nan=True)
        else:
            np.testing.assert_array_equal(got, arr)
    np.testing.assert_array_equal(pts.restricted.reshape(GRID.shape), grid.restricted)
    assert len(set(pts.service_level.tolist())) > 1  # not a trivial map


def test_point_layers_need_a_points_provider():
    from yalu.errors import ParameterError
    from yalu.radio.layers import compute_point_layers

    class GridOnly:
        def grid_loss_db(self, *a):  # type: ignore[no-untyped-def]
            raise AssertionError

        def point_loss_db(self, *a):  # type: ignore[no-untyped-def]
            return 100.0

    with pytest.raises(ParameterError, match="points_loss_db"):
        compute_point_layers([lte()], Handset(), PROFILES, [], [], [40.0], [124.0], GridOnly())


def test_layer_inputs_take_a_grid_or_points_not_both():
    from yalu.errors import ParameterError
    from yalu.radio.layers import LayerInputs

    with pytest.raises(ParameterError, match="grid"):
        LayerInputs([lte()], Handset(), [], None, free_space)
    with pytest.raises(ParameterError, match="grid"):
        LayerInputs([lte()], Handset(), [], GRID, free_space, points=([40.0], [124.0]))
    with pytest.raises(ParameterError, match="lon_deg"):
        LayerInputs.at_points([lte()], Handset(), [], [40.0, 40.01], [124.0], free_space)
    pts = LayerInputs.at_points([lte()], Handset(), [], [40.0, 40.01], [124.0, 124.02], free_space)
    assert pts.length == 2 and pts.grid is None
    assert LayerInputs([lte()], Handset(), [], GRID, free_space).length == GRID.shape[0]


def test_windowed_map_rows_and_dense_view():
    from yalu.errors import ParameterError
    from yalu.radio.layers import WindowedMap

    data = np.arange(6, dtype=np.float32).reshape(2, 3)
    m = WindowedMap((5, 6), (1, 3, 2, 5), data)
    dense = np.full((5, 6), np.nan, dtype=np.float32)
    dense[1:3, 2:5] = data
    np.testing.assert_array_equal(np.asarray(m), dense)
    for r0, r1 in [(0, 5), (0, 1), (2, 4), (3, 5), (1, 2)]:
        np.testing.assert_array_equal(m[r0:r1], dense[r0:r1])
    np.testing.assert_array_equal(m[2, 3:5], dense[2, 3:5])
    assert m.nbytes == data.nbytes and m.dtype == np.float32
    empty = WindowedMap((2, 2), (0, 0, 0, 0), np.empty((0, 0), np.float32))
    assert np.isnan(np.asarray(empty)).all()
    with pytest.raises(ParameterError, match="box"):
        WindowedMap((5, 6), (1, 7, 0, 1), np.zeros((6, 1)))
    with pytest.raises(ParameterError, match="data"):
        WindowedMap((5, 6), (1, 3, 0, 1), np.zeros((3, 1)))


@pytest.mark.parametrize("tile_columns", [256, 7])
def test_windowed_maps_give_the_layers_of_dense_maps(tile_columns, monkeypatch):
    """A provider that returns each map as its window (NaN beyond a radius, the rest implied)
    must give the layers of the same maps returned dense: the block geometry is computed only
    inside the windows, each tile's budget takes only the sites whose windows reach it, and
    nothing may change (7 columns: many tiles, some reached by no site, some by one)."""
    import yalu.radio.layers as layers_mod
    from yalu.radio.antenna import SectorPattern

    monkeypatch.setattr(layers_mod, "TILE_COLUMNS", tile_columns)
    from windowed_provider import WindowedFunction as Windowed

    from yalu.radio.layers import FunctionPathLoss

    grid = Grid(north_deg=40.2, west_deg=123.8, dlat_deg=0.01, dlon_deg=0.01, n_rows=41, n_cols=41)
    radius = 9000.0

    def loss(lat, lon, h_tx, h_rx, f, g):
        d = distance_m(lat, lon, g)
        out = 20 * np.log10(4 * math.pi * d * f * 1e6 / C) + 25.0
        return np.where(d <= radius, out, np.nan)

    class Dense(FunctionPathLoss):
        def grid_loss_db(self, antenna, frequency_mhz, direction, grid, node_height_m):
            return np.asarray(super().grid_loss_db(antenna, frequency_mhz, direction, grid,
                                                   node_height_m), dtype=np.float32)  # fmt: skip

    sites = [
        lte(id="A", lat_deg=40.05, lon_deg=123.95),
        lte(id="B", lat_deg=39.9, lon_deg=124.1, pattern=SectorPattern(azimuth_deg=300.0)),
        Site(
            id="G",
            lat_deg=40.0,
            lon_deg=124.15,
            height_m=35.0,
            operator="op2",
            technology="gsm",
            band="GSM900",
        ),  # fmt: skip
    ]
    jam = Jammer(id="J", lat_deg=39.95, lon_deg=124.0, height_m=10.0, eirp_dbm=40.0,
                 ranges_mhz=[(1805.0, 1880.0), (925.0, 960.0)])  # fmt: skip
    sig = [5.0, 7.0, 6.0]
    a = compute_layers(sites, Handset(), PROFILES, [jam], [], grid, Windowed(loss),
                       block_elements=3000, location_sigma_db=sig)  # fmt: skip
    b = compute_layers(sites, Handset(), PROFILES, [jam], [], grid, Dense(loss),
                       block_elements=3000, location_sigma_db=sig)  # fmt: skip
    assert (a.service_level > 0).sum() > 100 and (a.service_level == 0).sum() > 100
    assert set(np.unique(a.layers["best_server"]).tolist()) == {-1, 0, 1, 2}
    assert a.site_ids == ["A", "B", "G"] and "p_sms" in a.layers
    for name, arr in b.layers.items():
        np.testing.assert_array_equal(a.layers[name], arr, err_msg=name)


@pytest.mark.parametrize("tile_columns", [256, 7])
def test_windows_kept_on_disk_are_read_once_per_band_of_rows(tile_columns, tmp_path, monkeypatch):
    """Maps whose windows wait on disk (the fine grids' maps, ``DiskArray``) give the layers of
    the same windows in memory, bit for bit, and each window is read once per band of rows,
    not once per tile of it (7 columns: six tiles a band)."""
    import yalu.radio.layers as layers_mod
    from yalu.io.spill import DiskArray, SpillStore

    monkeypatch.setattr(layers_mod, "TILE_COLUMNS", tile_columns)
    from windowed_provider import WindowedFunction as Windowed

    from yalu.radio.layers import WindowedMap

    grid = Grid(north_deg=40.2, west_deg=123.8, dlat_deg=0.01, dlon_deg=0.01, n_rows=41, n_cols=41)
    store = SpillStore(tmp_path)
    reads: list[tuple[str, int, int]] = []
    real_rows = DiskArray.rows

    def counted(self, r0, r1):  # type: ignore[no-untyped-def]
        reads.append((self.path.name, r0, r1))
        return real_rows(self, r0, r1)

    monkeypatch.setattr(DiskArray, "rows", counted)

    def loss(lat, lon, h_tx, h_rx, f, g):
        d = distance_m(lat, lon, g)
        out = 20 * np.log10(4 * math.pi * d * f * 1e6 / C) + 25.0
        return np.where(d <= 9000.0, out, np.nan)

    class OnDisk(Windowed):
        def grid_loss_db(self, antenna, frequency_mhz, direction, grid, node_height_m):  # type: ignore[no-untyped-def]
            m = super().grid_loss_db(antenna, frequency_mhz, direction, grid, node_height_m)
            return WindowedMap(m.shape, m.box, store.put("map", m.data))

    sites = [lte(id="A", lat_deg=40.05, lon_deg=123.95), lte(id="B", lat_deg=39.9, lon_deg=124.1)]
    jam = Jammer(id="J", lat_deg=39.95, lon_deg=124.0, height_m=10.0, eirp_dbm=40.0,
                 ranges_mhz=[(1805.0, 1880.0)])  # fmt: skip
    block = 600
    a = compute_layers(sites, Handset(), PROFILES, [jam], [], grid, OnDisk(loss),
                       block_elements=block, location_sigma_db=[5.0, 7.0])  # fmt: skip
    b = compute_layers(sites, Handset(), PROFILES, [jam], [], grid, Windowed(loss),
                       block_elements=block, location_sigma_db=[5.0, 7.0])  # fmt: skip
    assert (a.service_level > 0).sum() > 100
    for name, arr in b.layers.items():
        np.testing.assert_array_equal(a.layers[name], arr, err_msg=name)
    assert reads, "no window was read from disk"
    # one read per (file, band of rows) at most
    assert len(reads) == len(set(reads))
    if tile_columns == 7:
        assert len({r[0] for r in reads}) == 5  # 2 sites x DL/UL + the jammer


def test_point_blocks_with_the_sites_that_reach_them_give_the_same_layers(monkeypatch):
    """compute_point_layers budgets blocks of nearby points with only the sites that reach one
    of them (losses NaN beyond 9 km here): small blocks, where most sites drop out and some
    blocks are reached by none, must give the layers of one block holding every site."""
    import yalu.radio.layers as layers_mod
    from yalu.radio.layers import compute_point_layers

    radius = 9000.0

    def loss(lat, lon, h_tx, h_rx, f, g):
        d = distance_m(lat, lon, g)
        out = 20 * np.log10(4 * math.pi * d * f * 1e6 / C) + 25.0
        return np.where(d <= radius, out, np.nan)

    sites = [
        lte(id="A", lat_deg=40.05, lon_deg=123.95),
        lte(id="B", lat_deg=39.2, lon_deg=125.1),
        Site(
            id="G",
            lat_deg=40.6,
            lon_deg=124.6,
            height_m=35.0,
            operator="op2",
            technology="gsm",
            band="GSM900",
        ),  # fmt: skip
    ]
    jam = Jammer(id="J", lat_deg=40.0, lon_deg=124.0, height_m=10.0, eirp_dbm=40.0,
                 ranges_mhz=[(1805.0, 1880.0), (925.0, 960.0)])  # fmt: skip
    rng = np.random.default_rng(8)
    centres = np.array([(s.lat_deg, s.lon_deg) for s in sites] + [(39.6, 124.5)])
    pick = rng.integers(0, len(centres), 240)
    la = centres[pick, 0] + rng.uniform(-0.09, 0.09, 240)
    lo = centres[pick, 1] + rng.uniform(-0.11, 0.11, 240)
    sig = [5.0, 7.0, 6.0]
    provider = layers_mod.FunctionPathLoss(loss)
    monkeypatch.setattr(layers_mod, "POINT_BLOCK", 10**9)
    whole = compute_point_layers(sites, Handset(), PROFILES, [jam], [], la, lo, provider,
                                 location_sigma_db=sig)  # fmt: skip
    monkeypatch.setattr(layers_mod, "POINT_BLOCK", 7)
    small = compute_point_layers(sites, Handset(), PROFILES, [jam], [], la, lo, provider,
                                 location_sigma_db=sig)  # fmt: skip
    assert set(np.unique(whole.layers["best_server"]).tolist()) == {-1, 0, 1, 2}
    assert (whole.service_level > 0).sum() > 50
    for name, arr in whole.layers.items():
        np.testing.assert_array_equal(small.layers[name], arr, err_msg=name)


def test_sparse_point_losses_give_the_layers_of_dense_ones(monkeypatch):
    """Losses at points are held only where defined (SparsePoints); budgets from them must
    equal budgets from the dense arrays, in blocks of any size."""
    import yalu.radio.layers as layers_mod
    from yalu.radio.layers import LayerInputs, SparsePoints, compute_point_layers

    def loss(lat, lon, h_tx, h_rx, f, g):
        d = distance_m(lat, lon, g)
        out = 20 * np.log10(4 * math.pi * d * f * 1e6 / C) + 25.0
        return np.where(d <= 12000.0, out, np.nan)

    sites = [lte(id="A", lat_deg=40.05, lon_deg=123.95), lte(id="B", lat_deg=40.3, lon_deg=124.4)]
    jam = Jammer(id="J", lat_deg=40.1, lon_deg=124.0, height_m=10.0, eirp_dbm=40.0,
                 ranges_mhz=[(1805.0, 1880.0)])  # fmt: skip
    rng = np.random.default_rng(3)
    la = rng.uniform(39.9, 40.5, 1000)
    lo = rng.uniform(123.8, 124.6, 1000)
    provider = layers_mod.FunctionPathLoss(loss)
    inputs = LayerInputs.at_points(sites, Handset(), [jam], la, lo, provider)
    assert all(isinstance(m, SparsePoints) for m in inputs.dl + inputs.ul + inputs.jpl)
    dense_bytes = sum(m.size * 8 for m in inputs.dl + inputs.ul)
    assert sum(m.nbytes for m in inputs.dl + inputs.ul) < 0.5 * dense_bytes
    for block in (7, 4096):
        monkeypatch.setattr(layers_mod, "POINT_BLOCK", block)
        sparse = compute_point_layers(sites, Handset(), PROFILES, [jam], [], la, lo, provider)
        with monkeypatch.context() as m:
            m.setattr(layers_mod, "_compact_points", lambda a: a)
            dense = compute_point_layers(sites, Handset(), PROFILES, [jam], [], la, lo, provider)
        assert (dense.service_level > 0).sum() > 100
        for name, arr in dense.layers.items():
            np.testing.assert_array_equal(sparse.layers[name], arr, err_msg=name)


def test_sparse_points_index_like_the_dense_array():
    from yalu.errors import ParameterError
    from yalu.radio.layers import SparsePoints

    rng = np.random.default_rng(5)
    a = rng.normal(size=50)
    a[rng.random(50) < 0.6] = np.nan
    a[3] = np.inf
    sp = SparsePoints(a)
    assert sp.shape == (50,) and sp.values.size == int((~np.isnan(a)).sum())
    np.testing.assert_array_equal(np.asarray(sp), a)
    np.testing.assert_array_equal(sp.isfinite(), np.isfinite(a))
    for key in (slice(0, 50), slice(7, 31), slice(40, 80), slice(0, 50, 3), slice(20, 10)):
        np.testing.assert_array_equal(sp[key], a[key], err_msg=str(key))
    idx = rng.integers(-50, 50, 200)
    np.testing.assert_array_equal(sp[idx], a[idx])
    assert np.isnan(SparsePoints(np.full(4, np.nan))[np.array([0, 3])]).all()
    # 2-D, int32 and unordered keys, float32 values, the first and last points stored
    b = a.astype(np.float32)
    b[0], b[-1] = 1.5, -2.5
    sp32 = SparsePoints(b)
    key = rng.integers(-50, 50, (7, 11)).astype(np.int32)
    got = sp32[key]
    assert got.dtype == np.float32 and got.shape == (7, 11)
    np.testing.assert_array_equal(got, b[key])
    np.testing.assert_array_equal(sp32[np.array([0, 49, -1, -50])], b[[0, 49, -1, -50]])
    with pytest.raises(ParameterError, match="1-D"):
        SparsePoints(np.zeros((2, 2)))
    with pytest.raises(ParameterError, match="point indices"):
        sp[np.array([0.5])]


def test_sparse_points_from_parts_wraps_without_copying():
    from yalu.errors import ParameterError
    from yalu.radio.layers import SparsePoints

    idx = np.array([1, 4, 7])
    vals = np.array([10.0, np.nan, 30.0])
    sp = SparsePoints.from_parts(9, idx, vals)
    assert sp.values is vals and sp.index is idx
    np.testing.assert_array_equal(np.asarray(sp), [np.nan, 10, np.nan, np.nan, np.nan, np.nan,
                                                   np.nan, 30, np.nan])  # fmt: skip
    np.testing.assert_array_equal(sp[np.array([7, 4, 0])], [30.0, np.nan, np.nan])
    for bad in (np.array([4, 1, 7]), np.array([1, 4, 9]), np.array([-1, 4, 7])):
        with pytest.raises(ParameterError, match="increasing"):
            SparsePoints.from_parts(9, bad, vals)
    with pytest.raises(ParameterError, match="one per value"):
        SparsePoints.from_parts(9, idx, vals[:2])


def test_block_refuses_site_and_point_indices_out_of_range():
    from yalu.errors import ParameterError
    from yalu.radio.layers import FunctionPathLoss, LayerInputs

    sites = [lte(), lte(id="B", lat_deg=40.02, lon_deg=123.97)]
    grid_in = LayerInputs(sites, Handset(), [], GRID, FunctionPathLoss(free_space))
    assert grid_in.block(0, 3, 2, 9, site_index=[1])["dl_path_loss_db"].shape == (1, 3, 7)
    with pytest.raises(ParameterError, match="at_points"):
        next(grid_in.point_blocks(10))
    with pytest.raises(ParameterError, match="site_index"):
        grid_in.block(0, 3, site_index=[2])
    with pytest.raises(ParameterError, match="site_index"):
        grid_in.block(0, 3, site_index=[-1])
    la, lo = np.array([40.0, 40.01, 40.02]), np.array([124.0, 124.01, 123.99])
    pts_in = LayerInputs.at_points(sites, Handset(), [], la, lo, FunctionPathLoss(free_space))
    kw = pts_in.block(0, 0, site_index=[0], points=[2, 0])
    assert kw["dl_path_loss_db"].shape == (1, 2)
    with pytest.raises(ParameterError, match="points"):
        pts_in.block(0, 0, points=[3])


def test_location_sigma_of_the_wrong_length_is_refused():
    from yalu.errors import ParameterError
    from yalu.radio.layers import compute_point_layers

    sites = [lte(), lte(id="B", lat_deg=40.02, lon_deg=123.97)]
    with pytest.raises(ParameterError, match="location_sigma_db"):
        compute_layers(sites, Handset(), PROFILES, [], [], GRID, free_space,
                       location_sigma_db=[6.0, 7.0, 8.0])  # fmt: skip
    with pytest.raises(ParameterError, match="location_sigma_db"):
        compute_point_layers(sites, Handset(), PROFILES, [], [], [40.0], [124.0],
                             FunctionPathLoss(free_space), location_sigma_db=[6, 7, 8])  # fmt: skip


def _count_vincenty(monkeypatch) -> list[int]:  # type: ignore[no-untyped-def]
    """Count the layers' Vincenty calls: the list gets each call's number of points."""
    import yalu.radio.layers as layers_mod

    sizes: list[int] = []
    real = layers_mod.azimuth_distance_vincenty

    def counted(*args):  # type: ignore[no-untyped-def]
        sizes.append(np.asarray(args[2]).size)
        return real(*args)

    monkeypatch.setattr(layers_mod, "azimuth_distance_vincenty", counted)
    return sizes


class _Slope:
    """A terrain of ramps and ridges (ground heights for elevation angles)."""

    bounds = (39.0, 123.0, 41.0, 125.0)

    def elevation_m(self, lat_deg, lon_deg):
        la, lo = np.broadcast_arrays(np.asarray(lat_deg, float), np.asarray(lon_deg, float))
        return 400.0 * (la - 39.0) + 150.0 * np.sin(7.0 * lo)


def test_shared_point_geometry_gives_the_same_layers_computing_each_value_once(monkeypatch):
    """Networks at the same points sharing a PointGeometry (variants, uncertainty geometries)
    get bit for bit the layers of their own geometry, with ground heights from a terrain;
    the second network on the same positions computes no distance again."""
    from yalu.errors import ParameterError
    from yalu.radio.layers import PointGeometry, compute_point_layers

    terrain = _Slope()
    rng = np.random.default_rng(3)
    la = rng.uniform(39.85, 40.15, 300)
    lo = rng.uniform(123.8, 124.2, 300)
    net1 = [lte(id="A"), lte(id="B", lat_deg=40.1, lon_deg=124.1, height_m=20.0)]
    net2 = [s.model_copy(update={"height_m": s.height_m + 12.0}) for s in net1]
    jam = Jammer(id="J", lat_deg=40.0, lon_deg=124.05, height_m=10.0, eirp_dbm=40.0,
                 ranges_mhz=[(1805.0, 1880.0)])  # fmt: skip
    provider = FunctionPathLoss(free_space)
    geo = PointGeometry(la, lo, terrain)
    calls = _count_vincenty(monkeypatch)
    for k, net in enumerate((net1, net2)):
        n_before = len(calls)
        own = compute_point_layers(net, Handset(), PROFILES, [jam], [], la, lo, provider,
                                   terrain=terrain)  # fmt: skip
        n_own = len(calls) - n_before
        shared = compute_point_layers(net, Handset(), PROFILES, [jam], [], la, lo, provider,
                                      terrain=terrain, geometry=geo)  # fmt: skip
        assert n_own > 0 and len(calls) - n_before - n_own == (3 if k == 0 else 0)
        assert (own.service_level > 0).sum() > 20
        for name, arr in own.layers.items():
            np.testing.assert_array_equal(shared.layers[name], arr, err_msg=name)
    with pytest.raises(ParameterError, match="geometry"):
        compute_point_layers(net1, Handset(), PROFILES, [], [], la[:-1], lo[:-1], provider,
                             terrain=terrain, geometry=geo)  # fmt: skip
    with pytest.raises(ParameterError, match="geometry"):
        compute_point_layers(net1, Handset(), PROFILES, [], [], la, lo, provider, geometry=geo)


def test_block_gains_of_co_sited_antennas_equal_each_antenna_alone():
    """block() computes each (position, height, pattern) gain field once and shares it: the
    carriers of one sector, the sectors of one mast, a jammer on the same mast. Every row must
    be the gain that antenna gets alone, bit for bit, and unlike patterns must stay unlike."""
    from yalu.radio.layers import FunctionPathLoss, LayerInputs

    def sector(az, tilt=2.0):
        return {"kind": "sector", "azimuth_deg": az, "electrical_tilt_deg": tilt}

    sites = [
        lte(id="A1", pattern=sector(0.0)),
        lte(id="A1b", band="B1", pattern=sector(0.0)),  # another carrier, the same sector
        lte(id="A2", pattern=sector(120.0)),
        lte(id="A3", pattern=sector(120.0, tilt=6.0)),  # same azimuth, another tilt
        lte(id="A4", height_m=45.0, pattern=sector(0.0)),  # same pattern, another height
        lte(id="B", lat_deg=40.03, lon_deg=124.02, pattern=sector(0.0)),
        lte(id="O"),  # omnidirectional
    ]
    jams = [
        Jammer(id="J", lat_deg=40.0, lon_deg=124.0, height_m=30.0, eirp_dbm=45.0,
               ranges_mhz=[(1805.0, 1880.0)], pattern=sector(0.0)),  # as A1's antenna
    ]  # fmt: skip
    loss = FunctionPathLoss(free_space)
    both = LayerInputs(sites, Handset(), jams, GRID, loss).block(0, GRID.shape[0])
    g = both["site_gain_db"]
    for i, s in enumerate(sites):
        alone = LayerInputs([s], Handset(), [], GRID, loss).block(0, GRID.shape[0])
        np.testing.assert_array_equal(g[i], alone["site_gain_db"][0])
    alone_j = LayerInputs([sites[0]], Handset(), jams, GRID, loss).block(0, GRID.shape[0])
    np.testing.assert_array_equal(both["jammer_gain_db"], alone_j["jammer_gain_db"])
    np.testing.assert_array_equal(both["jammer_gain_db"][0], g[0])
    np.testing.assert_array_equal(g[0], g[1])
    for a, b in ((0, 2), (2, 3), (0, 4), (0, 5), (0, 6)):
        assert not np.array_equal(g[a], g[b]), (sites[a].id, sites[b].id)


@pytest.mark.parametrize("max_bytes", [None, 0, 40_000, "disk"])
def test_shared_grid_geometry_gives_the_same_layers_computing_each_value_once(
    max_bytes, monkeypatch, tmp_path
):
    """Networks on one grid sharing a GridGeometry (a scenario's variants, the Monte Carlo's
    geometries) get bit for bit the layers of their own geometry, with ground heights from a
    terrain and windowed maps; a later network from the same positions computes only the
    nodes its wider windows add. Bounded to nothing (0) or to less than every window
    (40 kB), the values are still the same, computed for each block."""
    from windowed_provider import WindowedFunction as Windowed

    import yalu.radio.layers as layers_mod
    from yalu.errors import ParameterError
    from yalu.radio.antenna import SectorPattern
    from yalu.radio.layers import GridGeometry

    monkeypatch.setattr(layers_mod, "TILE_COLUMNS", 9)

    terrain = _Slope()
    grid = Grid(north_deg=40.2, west_deg=123.8, dlat_deg=0.01, dlon_deg=0.01, n_rows=41, n_cols=41)

    def within(radius):
        def loss(lat, lon, h_tx, h_rx, f, g):
            d = distance_m(lat, lon, g)
            out = 20 * np.log10(4 * math.pi * d * f * 1e6 / C) + 25.0
            return np.where(d <= radius, out, np.nan)

        return Windowed(loss)

    net1 = [
        lte(id="A", lat_deg=40.05, lon_deg=123.95),
        lte(id="B", lat_deg=39.9, lon_deg=124.1, pattern=SectorPattern(azimuth_deg=300.0)),
    ]
    net2 = [s.model_copy(update={"height_m": s.height_m + 12.0}) for s in net1]
    jam = Jammer(id="J", lat_deg=39.95, lon_deg=124.0, height_m=10.0, eirp_dbm=40.0,
                 ranges_mhz=[(1805.0, 1880.0)])  # fmt: skip
    store = None
    if max_bytes == "disk":
        # nothing fits in memory: ground heights and whole windows go to disk, once
        from yalu.io.spill import SpillStore

        store, max_bytes = SpillStore(tmp_path), 0
    geo = GridGeometry(grid, terrain, max_bytes=max_bytes, store=store)
    nodes = _count_vincenty(monkeypatch)
    per_net = []
    for net, radius in ((net1, 9000.0), (net2, 14000.0)):
        provider = within(radius)
        own = compute_layers(net, Handset(), PROFILES, [jam], [], grid, provider,
                             terrain=terrain, block_elements=600)  # fmt: skip
        n_own = sum(nodes)
        nodes.clear()
        shared = compute_layers(net, Handset(), PROFILES, [jam], [], grid, provider,
                                terrain=terrain, block_elements=600, geometry=geo)  # fmt: skip
        per_net.append((n_own, sum(nodes)))
        nodes.clear()
        assert (own.service_level > 0).sum() > 100 and (own.service_level == 0).sum() > 100
        for name, arr in own.layers.items():
            np.testing.assert_array_equal(shared.layers[name], arr, err_msg=name)
    (own1, shared1), (own2, shared2) = per_net
    assert own2 > own1 > 0  # wider windows: more nodes
    if max_bytes is None:
        # each node once: the first network's windows, then only what the wider ones add
        assert shared1 == own1 and 0 < shared2 < own2 - own1 / 2
        assert geo.held_bytes > 0
    elif store is not None:
        # each window once, whole; the wider ones once more, whole (not for each block)
        assert 0 < shared1 <= own1 and 0 < shared2 <= own2 and geo.held_bytes == 0
        names = sorted(p.name.split("_", 1)[1] for p in tmp_path.iterdir())
        pos = ["39.90000_124.10000", "39.95000_124.00000", "40.05000_123.95000"]
        assert names == sorted([f"{k}_{p}.npy" for k in ("azimuth", "distance") for p in pos]
                               * 2 + ["ground_m.npy"])  # fmt: skip
        reads = []
        real_elevation = _Slope.elevation_m

        def counted(self, la, lo):  # type: ignore[no-untyped-def]
            reads.append(np.size(la))
            return real_elevation(self, la, lo)

        monkeypatch.setattr(_Slope, "elevation_m", counted)
        again = compute_layers(net1, Handset(), PROFILES, [jam], [], grid, within(9000.0),
                               terrain=terrain, block_elements=600, geometry=geo)  # fmt: skip
        monkeypatch.setattr(_Slope, "elevation_m", real_elevation)
        # all read back from disk, and the ground under the antennas kept: no terrain read
        assert sum(nodes) == 0 and not reads
        own = compute_layers(net1, Handset(), PROFILES, [jam], [], grid, within(9000.0),
                             terrain=terrain, block_elements=600)  # fmt: skip
        for name, arr in own.layers.items():
            np.testing.assert_array_equal(again.layers[name], arr, err_msg=name)
    elif max_bytes == 0:
        assert (shared1, shared2) == (own1, own2) and geo.held_bytes == 0
    else:
        assert 0 < geo.held_bytes <= max_bytes and shared2 < own2
    other = Grid(north_deg=40.2, west_deg=123.8, dlat_deg=0.01, dlon_deg=0.01, n_rows=40,
                 n_cols=41)  # fmt: skip
    with pytest.raises(ParameterError, match="geometry"):
        compute_layers(net1, Handset(), PROFILES, [], [], other, within(9000.0),
                       terrain=terrain, geometry=geo)  # fmt: skip
    with pytest.raises(ParameterError, match="geometry"):
        compute_layers(net1, Handset(), PROFILES, [], [], grid, within(9000.0), geometry=geo)


def test_layers_sent_to_a_sink_by_bands_of_rows_are_the_layers_in_memory(tmp_path, monkeypatch):
    """``layer_sink`` gets every layer a whole band of rows at a time, in order (several tiles
    of columns a band), and the layers it keeps are those computed in memory, bit for bit; an
    error on the way drops the partial files."""
    import yalu.radio.layers as layers_mod
    from yalu.io.spill import DiskArray, SpillStore

    monkeypatch.setattr(layers_mod, "TILE_COLUMNS", 7)
    grid = Grid(north_deg=40.2, west_deg=123.8, dlat_deg=0.01, dlon_deg=0.01, n_rows=29, n_cols=31)

    def loss(lat, lon, h_tx, h_rx, f, g):
        d = distance_m(lat, lon, g)
        return 20 * np.log10(4 * math.pi * d * f * 1e6 / C) + 25.0

    sites = [lte(id="A", lat_deg=40.05, lon_deg=123.95), lte(id="B", lat_deg=39.9, lon_deg=124.1)]
    store = SpillStore(tmp_path)
    bands: list[tuple[str, int]] = []

    def sink(name, shape, dtype):  # type: ignore[no-untyped-def]
        w = store.rows(name, shape, dtype)
        real = w.write

        def write(rows):  # type: ignore[no-untyped-def]
            assert rows.shape[1] == grid.shape[1]
            bands.append((name, rows.shape[0]))
            real(rows)

        w.write = write
        return w

    kw = dict(block_elements=150, location_sigma_db=[5.0, 7.0])
    a = compute_layers(sites, Handset(), PROFILES, [], [], grid, loss, layer_sink=sink, **kw)
    b = compute_layers(sites, Handset(), PROFILES, [], [], grid, loss, **kw)
    assert (b.service_level > 0).sum() > 50 and set(a.layers) == set(b.layers)
    for name, arr in b.layers.items():
        assert isinstance(a.layers[name], DiskArray)
        got = np.asarray(a.layers[name])
        assert got.dtype == arr.dtype
        np.testing.assert_array_equal(got, arr, err_msg=name)
    rows = {n: sum(k for m, k in bands if m == n) for n in a.layers}
    assert set(rows.values()) == {29} and len(bands) > 2 * len(a.layers)

    # the disk fills up halfway: every partial file goes, the error comes through
    from yalu.errors import OutputError

    def full(name, shape, dtype):  # type: ignore[no-untyped-def]
        w = store.rows(name, shape, dtype)
        real = w.write

        def write(rows):  # type: ignore[no-untyped-def]
            if len(bands) > 20:
                raise OutputError("no space left on device")
            bands.append((name, rows.shape[0]))
            real(rows)

        w.write = write
        return w

    before = sorted(p.name for p in tmp_path.iterdir())
    bands.clear()
    with pytest.raises(OutputError, match="no space"):
        compute_layers(sites, Handset(), PROFILES, [], [], grid, loss, layer_sink=full, **kw)
    assert len(bands) == 21
    assert sorted(p.name for p in tmp_path.iterdir()) == before
