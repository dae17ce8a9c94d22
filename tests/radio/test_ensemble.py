"""BudgetEnsemble: the same service levels as link_budget for shifted sites, handset, jammers."""

import math

import numpy as np
import pytest

from yalu.geodesy.grid import Grid
from yalu.radio import Handset, Jammer, Site, _kernels, default_technology_profiles
from yalu.radio.ensemble import BudgetEnsemble, Offsets, point_service_levels
from yalu.radio.layers import LayerInputs, compute_layers, split_jammer_ranges

C = 299_792_458.0
GRID = Grid(north_deg=40.3, west_deg=123.7, dlat_deg=0.02, dlon_deg=0.02, n_rows=31, n_cols=31)
PROFILES = default_technology_profiles()


def hata_like(lat, lon, h_tx, h_rx, f, grid):
    # a steep loss law (35 log d) so that the levels change inside the grid
    la, lo = np.meshgrid(grid.lats(), grid.lons(), indexing="ij")
    d = np.hypot((la - lat) * 111e3, (lo - lon) * 85e3) + 50.0
    return 20 * np.log10(f) - 30 + 35 * np.log10(d) + 0.1 * (h_tx < 25)


def network():
    sites = []
    for i, (la, lo) in enumerate([(40.0, 124.0), (40.15, 124.2), (39.85, 124.25)]):
        for az in (0, 120, 240):
            sites.append(
                Site(
                    id=f"L{i}/{az}",
                    lat_deg=la,
                    lon_deg=lo,
                    height_m=30,
                    operator="op",
                    technology="lte",
                    band="B3",
                    bandwidth_mhz=10,
                    dl_frequency_mhz=1815,
                    pattern={"kind": "sector", "azimuth_deg": az},
                )
            )
            sites.append(
                Site(
                    id=f"G{i}/{az}",
                    lat_deg=la,
                    lon_deg=lo,
                    height_m=30,
                    operator="op",
                    technology="gsm",
                    band="GSM900",
                    dl_frequency_mhz=935.2 + 0.2 * len(sites),
                    pattern={"kind": "sector", "azimuth_deg": az},
                )
            )
    jams = [
        Jammer(
            id="J",
            lat_deg=40.05,
            lon_deg=124.1,
            height_m=20,
            eirp_dbm=50,
            ranges_mhz=[(925, 960), (1805, 1880)],
            duty_factor=0.5,
        )
    ]
    return sites, jams


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_levels_equal_link_budget_of_the_shifted_network(seed):
    sites, jams = network()
    h = Handset()
    rng = np.random.default_rng(seed)
    n = len(sites)
    parts = split_jammer_ranges(jams)
    d_tx = rng.normal(0, 4, n)
    d_gain = rng.normal(0, 2, n)
    d_body = float(rng.uniform(-3, 3))
    d_jam = rng.normal(0, 6, len(parts))
    off = Offsets(d_tx + d_gain, d_gain, d_gain, -d_body, d_jam)
    mask = np.zeros(GRID.shape, bool)
    mask[::2, :] = True
    ens = BudgetEnsemble(sites, h, PROFILES, LayerInputs(sites, h, parts, GRID, hata_like), mask)
    shifted, hs, js = _shifted(sites, h, parts, d_tx, d_gain, d_body, d_jam)
    for jam_on in (True, False):
        ref = compute_layers(shifted, hs, PROFILES, js if jam_on else [], [], GRID, hata_like)
        got = ens.grid_levels(GRID.shape, ens.levels(off, jammers=jam_on))
        want = np.where(mask, ref.service_level, 0)
        assert np.array_equal(got, want)
        assert len(np.unique(want)) >= 3  # the case exercises several levels
    # nominal
    ref0 = compute_layers(sites, h, PROFILES, parts, [], GRID, hata_like)
    assert np.array_equal(
        ens.grid_levels(GRID.shape, ens.levels()), np.where(mask, ref0.service_level, 0)
    )
    assert math.isfinite(float(off.handset_db))


def _windowed_loss(radius_m):
    """hata_like 30 dB lower, NaN beyond ``radius_m`` (a border network: each node sees a few
    sites)."""

    def loss(lat, lon, h_tx, h_rx, f, grid):
        la, lo = np.meshgrid(grid.lats(), grid.lons(), indexing="ij")
        d = np.hypot((la - lat) * 111e3, (lo - lon) * 85e3) + 50.0
        out = 20 * np.log10(f) - 60 + 35 * np.log10(d) + 0.1 * (h_tx < 25)
        return np.where(d <= radius_m, out, np.nan)

    return loss


def mixed_network():
    """LTE at the three places, GSM at the first only: both technologies decide levels
    somewhere, and removing any one sector-carrier changes some."""
    sites, jams = network()
    return [s for s in sites if s.id.startswith(("L", "G0"))], jams


def _draws(rng, n, m):
    """Offsets of one random draw and the parameter changes they stand for."""
    d_tx, d_gain = rng.normal(0, 4, n), rng.normal(0, 2, n)
    d_body, d_jam = float(rng.uniform(-3, 3)), rng.normal(0, 6, m)
    return Offsets(d_tx + d_gain, d_gain, d_gain, -d_body, d_jam), (d_tx, d_gain, d_body, d_jam)


def _shifted(sites, h, parts, d_tx, d_gain, d_body, d_jam):
    """The network with the offsets applied to its own parameters (link_budget's reference)."""
    shifted = [
        s.model_copy(
            update={"tx_power_dbm": s.tx_power_dbm + a, "antenna_gain_dbi": s.antenna_gain_dbi + g}
        )
        for s, a, g in zip(sites, d_tx, d_gain, strict=True)
    ]
    hs = h.model_copy(update={"body_loss_db": h.body_loss_db + d_body})
    js = [
        j.model_copy(update={"eirp_dbm": j.eirp_dbm + float(d)})
        for j, d in zip(parts, d_jam, strict=True)
    ]
    return shifted, hs, js


@pytest.mark.parametrize("tile_columns", [5, 256])
def test_windowed_maps_in_small_tiles_give_link_budget_levels(monkeypatch, tile_columns):
    """Maps as windows (NaN beyond 14 km): the ensemble gathers its candidates tile by tile
    with only the sites whose windows reach the tile (many tiles, some reached by none, some
    by sites of one technology only); the levels must still be link_budget's, node by node."""
    from windowed_provider import WindowedFunction

    import yalu.radio.ensemble as ens_mod

    monkeypatch.setattr(ens_mod, "TILE_COLUMNS", tile_columns)
    loss = _windowed_loss(14_000.0)

    sites, jams = mixed_network()
    h = Handset()
    parts = split_jammer_ranges(jams)
    rng = np.random.default_rng(7)
    off, draws = _draws(rng, len(sites), len(parts))
    mask = np.ones(GRID.shape, bool)
    mask[5:9, :] = False
    inputs = LayerInputs(sites, h, parts, GRID, WindowedFunction(loss))
    ens = BudgetEnsemble(sites, h, PROFILES, inputs, mask, block_elements=2000)
    shifted, hs, js = _shifted(sites, h, parts, *draws)
    for jam_on in (True, False):
        ref = compute_layers(shifted, hs, PROFILES, js if jam_on else [], [], GRID, loss)
        want = np.where(mask, ref.service_level, 0)
        got = ens.grid_levels(GRID.shape, ens.levels(off, jammers=jam_on))
        assert np.array_equal(got, want)
        assert len(np.unique(want)) == 4 and (want == 0).sum() > 50
    # each tile's ensemble positions, looked up in the sorted node index, are those of a
    # whole-grid table of positions
    pos = np.full(mask.size, -1)
    pos[ens.node_index] = np.arange(ens.node_index.size)
    pos = pos.reshape(GRID.shape)
    for r0, r1, c0, c1 in [
        (0, 3, 0, 5),
        (4, 10, 2, 9),
        (5, 9, 0, 7),
        (0, GRID.shape[0], 0, 1),
        (GRID.shape[0] - 2, GRID.shape[0], GRID.shape[1] - 3, GRID.shape[1]),
    ]:
        got_pos = ens._tile_positions(GRID.shape, (slice(r0, r1), slice(c0, c1)))
        assert np.array_equal(got_pos, pos[r0:r1, c0:c1].ravel()), (r0, r1, c0, c1)


def test_points_ensemble_gives_compute_point_layers_levels():
    """At scattered points (blocks of nearby points, each with the sites that reach it): the
    levels of compute_point_layers for the shifted network, point by point."""
    from yalu.radio.layers import FunctionPathLoss, compute_point_layers

    loss = _windowed_loss(14_000.0)
    sites, jams = mixed_network()
    h = Handset()
    parts = split_jammer_ranges(jams)
    rng = np.random.default_rng(11)
    off, draws = _draws(rng, len(sites), len(parts))
    # several 0.5 deg cells, some reached by no site
    lat = rng.uniform(39.4, 40.6, 400)
    lon = rng.uniform(123.4, 124.9, 400)
    keep = rng.random(400) < 0.8
    pin = LayerInputs.at_points(sites, h, parts, lat, lon, FunctionPathLoss(loss))
    ens = BudgetEnsemble(sites, h, PROFILES, pin, keep, block_elements=500)
    shifted, hs, js = _shifted(sites, h, parts, *draws)
    for jam_on in (True, False):
        ref = compute_point_layers(shifted, hs, PROFILES, js if jam_on else [], [], lat, lon,
                                   FunctionPathLoss(loss))  # fmt: skip
        lv = np.zeros(400, np.uint8)
        lv[ens.node_index] = ens.levels(off, jammers=jam_on)
        want = np.where(keep, ref.service_level, 0)
        assert np.array_equal(lv, want)
        assert len(np.unique(want)) == 4 and (want > 0).sum() > 20
        # the levels alone, nominal values
        ref0 = compute_point_layers(sites, h, PROFILES, parts if jam_on else [], [], lat, lon,
                                    FunctionPathLoss(loss))  # fmt: skip
        got0 = point_service_levels(sites, h, PROFILES, parts if jam_on else [], lat, lon,
                                    FunctionPathLoss(loss))  # fmt: skip
        assert np.array_equal(got0, ref0.service_level) and got0.dtype == np.uint8


def _channel_mix_network():
    """Sites whose co-channel weights are neither all 0 nor all 1: operator A's LTE at two
    places on channels 4 MHz apart (10 MHz wide: they overlap in part), operator B's at the
    third on A's first channel (weight 0: another operator); GSM on a channel reused by two
    places and on channels of its own."""
    sites = []
    places = [(40.0, 124.0), (40.15, 124.2), (39.85, 124.25)]
    lte = [("A", 1815.0), ("A", 1819.0), ("B", 1815.0)]
    for i, (la, lo) in enumerate(places):
        op, f = lte[i]
        for az in (0, 120, 240):
            sites.append(Site(id=f"L{i}/{az}", lat_deg=la, lon_deg=lo, height_m=30, operator=op,
                              technology="lte", band="B3", bandwidth_mhz=10, dl_frequency_mhz=f,
                              pattern={"kind": "sector", "azimuth_deg": az}))  # fmt: skip
            sites.append(Site(id=f"G{i}/{az}", lat_deg=la, lon_deg=lo, height_m=30, operator="A",
                              technology="gsm", band="GSM900",
                              dl_frequency_mhz=935.2 + 0.2 * (az // 120) + (0.6 if i == 1 else 0),
                              pattern={"kind": "sector", "azimuth_deg": az}))  # fmt: skip
    return sites, network()[1]


def _near_loss(lat, lon, h_tx, h_rx, f, grid):
    # hata_like 60 dB lower: the places' cells meet inside the grid, where DL SINR decides
    return hata_like(lat, lon, h_tx, h_rx, f, grid) - 60.0


@pytest.mark.parametrize("lte_only", [True, False])
def test_partly_overlapping_channels_give_link_budget_levels(lte_only):
    """Fractional and zero co-channel weights: the levels kernel skips zero-weight terms (and
    their powers); the levels must still be link_budget's, and with LTE alone the fractional
    weights must decide some levels (zeroing them changes them)."""
    sites, jams = _channel_mix_network()
    if lte_only:
        sites = [s for s in sites if s.id.startswith("L")]
    h = Handset()
    parts = split_jammer_ranges(jams)
    rng = np.random.default_rng(6)
    off, draws = _draws(rng, len(sites), len(parts))
    mask = np.ones(GRID.shape, bool)
    ens = BudgetEnsemble(sites, h, PROFILES, LayerInputs(sites, h, parts, GRID, _near_loss), mask)
    ws = np.concatenate([t.w.ravel() for t in ens.techs])
    assert ((ws > 0) & (ws < 1)).any() and (ws == 0).mean() > 0.3 and (ws == 1).any()
    shifted, hs, js = _shifted(sites, h, parts, *draws)
    for jam_on in (True, False):
        ref = compute_layers(shifted, hs, PROFILES, js if jam_on else [], [], GRID, _near_loss)
        got = ens.grid_levels(GRID.shape, ens.levels(off, jammers=jam_on))
        assert np.array_equal(got, ref.service_level)
        assert len(np.unique(got)) >= 3
    if lte_only:
        for t in ens.techs:
            t.w = np.where(t.w < 1, 0.0, t.w)
        assert (ens.grid_levels(GRID.shape, ens.levels(off, jammers=False)) != got).sum() >= 5


@pytest.mark.parametrize("max_range_m", [math.nan, 1500.0])
def test_ensemble_entries_equal_their_vectorised_form(max_range_m):
    # the compiled CSR pieces against the numpy form the ensemble used before them: losses and
    # gains with NaN and inf, a range limit that leaves nodes with a path but no server

    rng = np.random.default_rng(7)
    na, nb = 5, 400
    g = rng.normal(0.0, 5.0, (na, nb))
    g[rng.random((na, nb)) < 0.05] = -np.inf
    pl = rng.uniform(80.0, 160.0, (na, nb)).astype(np.float32)
    pl[rng.random((na, nb)) < 0.3] = np.nan
    pu = (pl + rng.normal(0.0, 2.0, (na, nb))).astype(np.float32)
    pu[rng.random((na, nb)) < 0.1] = np.inf
    dist = rng.uniform(0.0, 3000.0, (na, nb))
    eirp = rng.uniform(40.0, 60.0, na)
    ul_gain = rng.uniform(20.0, 40.0, na)
    ue, rank = -3.0, np.array([3, 0, 4, 1, 2], np.int32)
    rows = np.array([0, 2, 3])
    kept = np.flatnonzero(rng.random(nb) < 0.8)
    count, p_dl, p_ul, usable, cand, node = _kernels.ensemble_entries(
        rows, kept, g, pl, pu, dist, eirp, ul_gain, ue, max_range_m, rank)  # fmt: skip

    with np.errstate(invalid="ignore"):
        gk, plk, puk, dk = g[:, kept], pl[:, kept], pu[:, kept], dist[:, kept]
        want_dl = np.where(np.isfinite(plk) & np.isfinite(gk), eirp[:, None] + gk - plk + ue,
                           -np.inf)[rows]  # fmt: skip
        want_ul = np.where(np.isfinite(puk) & np.isfinite(gk), ul_gain[:, None] + gk - puk,
                           -np.inf)[rows]  # fmt: skip
    has = np.isfinite(want_dl)
    use = has if math.isnan(max_range_m) else has & (dk[rows] <= max_range_m)
    c = np.flatnonzero(use.any(axis=0))
    node_e, row_e = np.nonzero(has[:, c].T)
    assert 0 < c.size < kept.size  # some nodes have no server: the test can tell
    np.testing.assert_array_equal(node, c)
    np.testing.assert_array_equal(count, has[:, c].sum(axis=0))
    np.testing.assert_array_equal(p_dl, want_dl[row_e, c[node_e]])  # bit for bit
    np.testing.assert_array_equal(p_ul, want_ul[row_e, c[node_e]])
    np.testing.assert_array_equal(usable, use[row_e, c[node_e]])
    np.testing.assert_array_equal(cand, rank[rows[row_e]])


def test_levels_do_not_depend_on_which_candidate_is_visited_first():
    # the lead entry only lets weaker candidates skip their interference sums: any lead, the
    # first entry or a random one, gives the same levels under any draw
    sites, jams = network()
    h = Handset()
    parts = split_jammer_ranges(jams)
    mask = np.ones(GRID.shape, bool)
    ens = BudgetEnsemble(sites, h, PROFILES, LayerInputs(sites, h, parts, GRID, hata_like), mask)
    rng = np.random.default_rng(11)
    draws = [None] + [Offsets(rng.normal(0, 6, len(sites)), rng.normal(0, 3, len(sites)),
                              rng.normal(0, 3, len(sites)), float(rng.normal(0, 2)),
                              rng.normal(0, 8, len(parts))) for _ in range(4)]  # fmt: skip
    want = [ens.levels(o, jammers=j) for o in draws for j in (True, False)]
    counts = [np.diff(t.ptr) for t in ens.techs]
    assert max(int(c.max()) for c in counts) >= 3  # nodes with several candidates
    for how in ("first", "random"):
        for t, c in zip(ens.techs, counts, strict=True):
            t.lead = (np.zeros(c.size, np.int32) if how == "first"
                      else (rng.random(c.size) * c).astype(np.int32))  # fmt: skip
            # the bounds of the other entries go with the lead
            t.rest_sig, t.rest_ul = _kernels.rest_bounds(t.ptr, t.p_dl, t.p_ul, t.usable,
                                                         t.cand, t.meas_offset, t.lead)  # fmt: skip
        got = [ens.levels(o, jammers=j) for o in draws for j in (True, False)]
        for g, w in zip(got, want, strict=True):
            assert np.array_equal(g, w)
    # every entry visited (bounds of +inf: no node skips its other entries)
    for t in ens.techs:
        t.rest_sig = np.full(t.rest_sig.size, np.inf)
        t.rest_ul = np.full(t.rest_ul.size, np.inf)
    got = [ens.levels(o, jammers=j) for o in draws for j in (True, False)]
    for g, w in zip(got, want, strict=True):
        assert np.array_equal(g, w)
    assert len(np.unique(np.concatenate(want))) >= 3
