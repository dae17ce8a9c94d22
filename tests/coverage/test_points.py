"""Loss at scattered points: exact mode's computation, one geodesic profile per point."""

from __future__ import annotations

import numpy as np
import pytest
from cov_synth import D3, NORTH, SITE, WEST, hilly, write_tif

from yalu.coverage import path_loss_map
from yalu.coverage.engine import ITMOptions, path_loss_at_points
from yalu.coverage.provider import EnginePathLoss
from yalu.errors import ParameterError
from yalu.geodesy import Grid, profile
from yalu.propagation import itm
from yalu.radio.layers import Antenna
from yalu.terrain import open_terrain


@pytest.fixture(scope="module")
def terrain(tmp_path_factory):  # type: ignore[no-untyped-def]
    return open_terrain(write_tif(tmp_path_factory.mktemp("pts") / "hills.tif", hilly()))


def test_points_on_nodes_equal_the_exact_map(terrain) -> None:  # type: ignore[no-untyped-def]
    g = Grid(NORTH - 40 * D3, WEST + 60 * D3, 7 * D3, 9 * D3, 25, 30)
    for direction in ("forward", "reverse"):
        m = path_loss_map(terrain, SITE, 12_000, h_tx_m=30, h_rx_m=1.5, frequency_mhz=900,
                          mode="exact", grid=g, direction=direction)  # fmt: skip
        la, lo = np.meshgrid(g.lats(), g.lons(), indexing="ij")
        # shuffled: each point stands alone
        perm = np.random.default_rng(1).permutation(la.size)
        v = path_loss_at_points(
            terrain,
            SITE,
            12_000,
            la.ravel()[perm],
            lo.ravel()[perm],
            h_tx_m=30,
            h_rx_m=1.5,
            frequency_mhz=900,
            direction=direction,
        )
        back = np.empty(la.size)
        back[perm] = v
        ref = np.asarray(m.values, dtype=np.float64).ravel()
        assert np.array_equal(np.isnan(back), np.isnan(ref))
        ok = ~np.isnan(ref)
        assert ok.sum() > 300
        np.testing.assert_allclose(back[ok].astype(np.float32), ref[ok], rtol=0, atol=0)


def test_points_against_itm_on_geodesy_profiles(terrain) -> None:  # type: ignore[no-untyped-def]
    """Independent: yalu.geodesy's profile (pyproj) to each point, then ITM, both directions."""
    rng = np.random.default_rng(3)
    la = rng.uniform(41.02, 41.28, 40)
    lo = rng.uniform(24.02, 24.38, 40)
    step = 90.0
    for reverse in (False, True):
        v = path_loss_at_points(terrain, SITE, 20_000, la, lo, h_tx_m=30, h_rx_m=1.5,
                                frequency_mhz=1800, step_m=step,
                                direction="reverse" if reverse else "forward")  # fmt: skip
        ref = []
        for a, b in zip(la, lo, strict=True):
            if reverse:
                p = profile(terrain, (a, b), SITE, step)
                r = itm.p2p(p.elevation_m, p.step_m, 1.5, 30, 1800, **ITMOptions().__dict__)
            else:
                p = profile(terrain, SITE, (a, b), step)
                r = itm.p2p(p.elevation_m, p.step_m, 30, 1.5, 1800, **ITMOptions().__dict__)
            ref.append(float(r.loss_db))
        diff = np.abs(v - np.array(ref))
        # profile positions agree within 1 cm (engine doc): hundredths of a dB at most
        assert diff.max() < 0.01 and np.median(diff) < 1e-3


def test_beyond_radius_is_nan_and_bad_input(terrain) -> None:  # type: ignore[no-untyped-def]
    v = path_loss_at_points(terrain, SITE, 5_000, [41.15, 41.29], [24.21, 24.39], h_tx_m=30,
                            frequency_mhz=900)  # fmt: skip
    assert np.isfinite(v[0]) and np.isnan(v[1])
    with pytest.raises(ParameterError, match="lon_deg"):
        path_loss_at_points(
            terrain, SITE, 5_000, [41.1, 41.2], [24.2], h_tx_m=30, frequency_mhz=900
        )
    with pytest.raises(ParameterError, match="lat_deg"):
        path_loss_at_points(terrain, SITE, 5_000, [np.nan], [24.2], h_tx_m=30, frequency_mhz=900)


def test_provider_points_are_exact_whatever_the_map_mode(terrain, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    fast = EnginePathLoss(terrain, radius_m=12_000, mode="fast", step_m=90.0)
    exact = EnginePathLoss(terrain, radius_m=12_000, mode="exact", step_m=90.0)
    la = np.array([41.10, 41.2, 41.16, 41.29])
    lo = np.array([24.15, 24.25, 24.21, 24.39])
    a = Antenna(SITE[0], SITE[1], 30.0)
    v1 = fast.points_loss_db(a, 900.0, "reverse", la, lo, 1.5)
    v2 = exact.points_loss_db(a, 900.0, "reverse", la, lo, 1.5)
    np.testing.assert_array_equal(v1, v2)
    ref = path_loss_at_points(terrain, SITE, 12_000, la, lo, h_tx_m=30, frequency_mhz=900,
                              step_m=90.0, direction="reverse")  # fmt: skip
    np.testing.assert_array_equal(v1, ref)
    # cached (only the points within the radius are kept): not computed again
    import yalu.coverage.provider as provider_mod

    def no_call(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("computed again")

    monkeypatch.setattr(provider_mod, "path_loss_at_points", no_call)
    again = fast.points_loss_db(a, 900.0, "reverse", la, lo, 1.5)
    np.testing.assert_array_equal(again, v1)
    assert again is not v1  # a new array: a caller may write into it
    assert np.isnan(v1[3])  # beyond the radius


def test_p1812_points_on_nodes_equal_the_map(terrain) -> None:  # type: ignore[no-untyped-def]
    g = Grid(NORTH - 60 * D3, WEST + 90 * D3, 11 * D3, 13 * D3, 9, 11)
    m = path_loss_map(terrain, SITE, 10_000, h_tx_m=30, h_rx_m=1.5, frequency_mhz=900,
                      model="p1812", grid=g)  # fmt: skip
    la, lo = np.meshgrid(g.lats(), g.lons(), indexing="ij")
    v = path_loss_at_points(terrain, SITE, 10_000, la, lo, h_tx_m=30, h_rx_m=1.5,
                            frequency_mhz=900, model="p1812")  # fmt: skip
    ref = np.asarray(m.values, dtype=np.float64)
    ok = ~np.isnan(ref)
    assert ok.sum() >= 40 and np.array_equal(np.isnan(v), ~ok)
    np.testing.assert_array_equal(v[ok].astype(np.float32), ref[ok])


def test_points_multi_equals_one_job_at_a_time(terrain) -> None:  # type: ignore[no-untyped-def]
    """path_loss_at_points_multi shares each point's profile and ITM geometry between jobs; each
    row must be the single-job answer, bit for bit, in both directions."""
    from yalu.coverage.engine import path_loss_at_points, path_loss_at_points_multi

    site = SITE
    rng = np.random.default_rng(11)
    lat = site[0] + rng.uniform(-0.05, 0.05, 60)
    lon = site[1] + rng.uniform(-0.05, 0.05, 60)
    jobs = [(900.0, "forward"), (1800.0, "reverse"), (1842.5, "forward"), (880.0, "reverse")]
    multi = path_loss_at_points_multi(terrain, site, 5000.0, lat, lon, h_tx_m=30.0, h_rx_m=1.5,
                                      jobs=jobs)  # fmt: skip
    assert multi.shape == (4, 60) and np.isfinite(multi).sum() > 100
    for row, (f, d) in zip(multi, jobs, strict=True):
        one = path_loss_at_points(terrain, site, 5000.0, lat, lon, h_tx_m=30.0, h_rx_m=1.5,
                                  frequency_mhz=f, direction=d)  # fmt: skip
        assert row.tobytes() == one.tobytes()


def test_points_multi_at_several_heights_equals_one_height_at_a_time(terrain) -> None:  # type: ignore[no-untyped-def]
    from yalu.coverage.engine import path_loss_at_points, path_loss_at_points_multi

    rng = np.random.default_rng(13)
    lat = SITE[0] + rng.uniform(-0.05, 0.05, 60)
    lon = SITE[1] + rng.uniform(-0.05, 0.05, 60)
    jobs = [(900.0, "forward", 40.0), (900.0, "reverse", 12.0), (900.0, "forward", 12.0)]
    multi = path_loss_at_points_multi(terrain, SITE, 5000.0, lat, lon, h_tx_m=30.0,
                                      jobs=jobs)  # fmt: skip
    for row, (f, d, h) in zip(multi, jobs, strict=True):
        one = path_loss_at_points(terrain, SITE, 5000.0, lat, lon, h_tx_m=h, frequency_mhz=f,
                                  direction=d)  # fmt: skip
        assert np.isfinite(one).sum() > 40
        assert row.tobytes() == one.tobytes()
    assert np.nanmedian(multi[2] - multi[0]) > 1.0


def test_provider_groups_heights_of_one_position(terrain) -> None:  # type: ignore[no-untyped-def]
    """Maps and point losses of one antenna position at several heights are computed together
    (one profile per node) and equal those computed one antenna at a time."""
    from yalu.geodesy import grid_around

    grid = grid_around(SITE[0], SITE[1], 4000.0, north_deg=SITE[0] + 0.05,
                       west_deg=SITE[1] - 0.06, dlat_deg=1 / 600, dlon_deg=1 / 600)  # fmt: skip
    rng = np.random.default_rng(14)
    lat = SITE[0] + rng.uniform(-0.03, 0.03, 40)
    lon = SITE[1] + rng.uniform(-0.03, 0.03, 40)
    reqs = [(Antenna(SITE[0], SITE[1], h), 900.0, d, 1.5)
            for h in (15.0, 25.0, 40.0) for d in ("forward", "reverse")]  # fmt: skip
    together = EnginePathLoss(terrain, radius_m=4000.0, mode="exact")
    assert len(together._groups([together._map_key(a, f, d, grid, h)  # noqa: SLF001
                                 for a, f, d, h in reqs])) == 1  # fmt: skip
    together.prefetch(reqs, grid)
    together.prefetch_points(reqs, lat, lon)
    for a, f, d, h in reqs:
        alone = EnginePathLoss(terrain, radius_m=4000.0, mode="exact")
        want = np.asarray(alone.grid_loss_db(a, f, d, grid, h))
        got = np.asarray(together.grid_loss_db(a, f, d, grid, h))
        assert np.isfinite(want).sum() > 100 and got.tobytes() == want.tobytes()
        pw = alone.points_loss_db(a, f, d, lat, lon, h)
        assert together.points_loss_db(a, f, d, lat, lon, h).tobytes() == pw.tobytes()


def test_provider_prefetch_points_fills_the_same_values(terrain) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(12)
    lat = SITE[0] + rng.uniform(-0.04, 0.04, 40)
    lon = SITE[1] + rng.uniform(-0.04, 0.04, 40)
    ant = Antenna(SITE[0], SITE[1], 25.0)
    reqs = [
        (ant, 925.0, "forward", 1.5),
        (ant, 880.0, "reverse", 1.5),
        (ant, 1805.0, "forward", 1.5),
    ]
    batched = EnginePathLoss(terrain, radius_m=4000.0, mode="exact")
    assert batched.prefetch_points(reqs, lat, lon) == 3
    single = EnginePathLoss(terrain, radius_m=4000.0, mode="exact")
    for a, f, d, h in reqs:
        want = single.points_loss_db(a, f, d, lat, lon, h)
        got = batched.points_loss_db(a, f, d, lat, lon, h)
        assert got.tobytes() == want.tobytes()
        assert np.isnan(got).sum() < got.size


def test_compact_terrain_window_is_exact() -> None:
    """Windows sent to Dask workers take the smallest exact dtype; read back as float64 they
    are the same values (so the maps are the same bits)."""
    from yalu.coverage.provider import _compact

    whole = np.array([[100.0, -5.0], [3000.0, 0.0]])
    half = whole + 0.5
    fine = whole + 0.1
    void = np.array([[1.0, np.nan]])
    assert _compact(whole).dtype == np.int16
    assert _compact(half).dtype == np.float32
    assert _compact(fine).dtype == np.float64
    assert _compact(void) is void
    assert _compact(np.array([[40000.0]])).dtype == np.float32
    for e in (whole, half, fine):
        assert np.array_equal(_compact(e).astype(np.float64), e)


def test_retain_forgets_what_no_request_asks_and_recomputes_the_same(terrain) -> None:  # type: ignore[no-untyped-def]
    """``retain`` drops the maps and point losses of other requests (any grid, any point set)
    and keeps those asked; a dropped request asked again gives the same values."""
    p = EnginePathLoss(terrain, radius_m=8_000, mode="exact", step_m=90.0)
    g = Grid(NORTH - 60 * D3, WEST + 90 * D3, 11 * D3, 13 * D3, 9, 11)
    a, b = Antenna(SITE[0], SITE[1], 30.0), Antenna(SITE[0], SITE[1], 42.0)
    la = np.array([41.10, 41.2, 41.16])
    lo = np.array([24.15, 24.25, 24.21])
    keep = [(a, 900.0, "forward", 1.5)]
    drop = [(b, 900.0, "forward", 1.5), (a, 1800.0, "reverse", 1.5), (a, 900.0, "forward", 3.0)]
    before = {}
    for req in keep + drop:
        m = np.asarray(p.grid_loss_db(req[0], req[1], req[2], g, req[3]))
        before[req] = (m, p.points_loss_db(req[0], req[1], req[2], la, lo, req[3]))
    assert p.maps_computed == 4
    assert p.retain(keep) == 6  # three maps and three point sets
    assert p.maps_computed == 1 and len(p._at_points) == 1
    for req in keep + drop:
        m, v = before[req]
        np.testing.assert_array_equal(
            np.asarray(p.grid_loss_db(req[0], req[1], req[2], g, req[3])), m
        )
        np.testing.assert_array_equal(p.points_loss_db(req[0], req[1], req[2], la, lo, req[3]), v)
    assert p.maps_computed == 4
    assert p.retain([]) == 8 and p.maps_computed == 0


def test_sparse_losses_share_the_provider_cache(terrain) -> None:  # type: ignore[no-untyped-def]
    """points_loss_sparse wraps the cached losses (no copy, read-only) and equals the dense
    answer; budget inputs at points hold those very arrays."""
    from yalu.radio.layers import LayerInputs, SparsePoints
    from yalu.radio.models import Handset, Site

    rng = np.random.default_rng(15)
    lat = SITE[0] + rng.uniform(-0.08, 0.08, 300)
    lon = SITE[1] + rng.uniform(-0.08, 0.08, 300)
    ant = Antenna(SITE[0], SITE[1], 25.0)
    prov = EnginePathLoss(terrain, radius_m=4000.0, mode="exact")
    sp = prov.points_loss_sparse(ant, 925.0, "forward", lat, lon, 1.5)
    dense = prov.points_loss_db(ant, 925.0, "forward", lat, lon, 1.5)
    assert isinstance(sp, SparsePoints) and 20 < sp.values.size < 250
    np.testing.assert_array_equal(np.asarray(sp), dense)
    assert not sp.values.flags.writeable and not sp.index.flags.writeable
    site = Site(id="s", lat_deg=SITE[0], lon_deg=SITE[1], height_m=25.0, technology="gsm",
                band="GSM900")  # fmt: skip
    inputs = LayerInputs.at_points([site], Handset(), [], lat, lon, prov, terrain=terrain)
    cached = {id(v.values) for v in prov._at_points.values()}  # noqa: SLF001
    assert all(isinstance(m, SparsePoints) and id(m.values) in cached
               for m in inputs.dl + inputs.ul)  # fmt: skip
    with pytest.raises(ParameterError, match="1-D"):
        prov.points_loss_sparse(ant, 925.0, "forward", lat.reshape(20, 15), lon.reshape(20, 15),
                                1.5)  # fmt: skip


def test_near_points_are_those_within_the_geodesic_radius(terrain) -> None:  # type: ignore[no-untyped-def]
    """The spherical pre-selection of points near an antenna never drops a point within the
    radius: the result equals the plain WGS84 test, on points spread over the globe and packed
    around the radius (across the antimeridian and near the poles too)."""
    from yalu.coverage.provider import _sphere_distance_m
    from yalu.geodesy.paths import WGS84, azimuth_distance

    rng = np.random.default_rng(15)
    for lat0, lon0, radius in ((41.0, 126.0, 60_000.0), (-33.0, 179.9, 250_000.0),
                               (88.5, 10.0, 500_000.0), (0.0, 0.0, 1_000.0)):  # fmt: skip
        prov = EnginePathLoss(terrain, radius_m=radius, mode="exact")
        # random directions, distances within +-3 % of the radius, and far points
        az = rng.uniform(0.0, 360.0, 4000)
        d = radius * np.concatenate([rng.uniform(0.97, 1.03, 3000), rng.uniform(0.0, 5.0, 1000)])
        lon, lat, _ = WGS84.fwd(np.full(az.size, lon0), np.full(az.size, lat0), az, d)
        lat, lon = np.asarray(lat), np.asarray(lon)
        _, dist = azimuth_distance(lat0, lon0, lat, lon)
        want = dist <= radius
        got = prov._near(Antenna(lat0, lon0, 30.0), lat, lon)  # noqa: SLF001
        assert 500 < want.sum() < 3500
        np.testing.assert_array_equal(got, want)
        # the margin of the pre-selection (2 % + 1 km) covers the sphere's error
        rel = _sphere_distance_m(lat0, lon0, lat, lon) / dist
        assert np.all(np.abs(rel - 1.0) < 0.006)


def test_provider_maps_on_disk_are_the_same_and_go_with_the_cache(terrain, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A provider whose maps wait on disk (``map_store``) gives the same windows, rows and
    tiles as one that holds them, holds none of them in memory, and removes a map's file once
    the map is forgotten (``retain``)."""
    import functools
    import gc

    from yalu.geodesy import grid_around
    from yalu.io.spill import DiskArray, SpillStore
    from yalu.radio.layers import WindowedMap

    grid = grid_around(SITE[0], SITE[1], 4000.0, north_deg=SITE[0] + 0.05,
                       west_deg=SITE[1] - 0.06, dlat_deg=1 / 600, dlon_deg=1 / 600)  # fmt: skip
    reqs = [(Antenna(SITE[0], SITE[1], h), f, d, 1.5)
            for h in (15.0, 40.0) for f, d in ((925.2, "forward"), (880.2, "reverse"))]  # fmt: skip
    held = EnginePathLoss(terrain, radius_m=3000.0, mode="exact")
    disk = EnginePathLoss(terrain, radius_m=3000.0, mode="exact")
    disk.map_store = functools.partial(SpillStore(tmp_path).put, transient=True)
    held.prefetch(reqs, grid)
    disk.prefetch(reqs, grid)
    assert len(list(tmp_path.iterdir())) == 4
    nr, nc = grid.shape
    for a, f, d, h in reqs:
        want = held.grid_loss_db(a, f, d, grid, h)
        got = disk.grid_loss_db(a, f, d, grid, h)
        assert isinstance(got, WindowedMap) and isinstance(got.data, DiskArray)
        assert got.box == want.box and got.nbytes == 0 < want.nbytes
        assert np.isfinite(np.asarray(want)).sum() > 100
        assert np.asarray(got).tobytes() == np.asarray(want).tobytes()
        for r0, r1, c0, c1 in ((0, nr, 0, nc), (3, 9, 2, 40), (nr - 4, nr + 3, nc - 9, nc)):
            assert got.tile(r0, r1, c0, c1).tobytes() == want.tile(r0, r1, c0, c1).tobytes()
            assert got[r0:r1].tobytes() == want[r0:r1].tobytes()
    del got, want
    disk.retain(reqs[:1])
    gc.collect()
    assert len(list(tmp_path.iterdir())) == 1
    disk.retain([])
    gc.collect()
    assert list(tmp_path.iterdir()) == []


def test_shared_frequencies_compute_each_run_once_at_its_centre(terrain) -> None:  # type: ignore[no-untyped-def]
    """``share_frequencies``: the carriers of one antenna within the span take the map and the
    point losses of the span's centre, bit for bit what that frequency gives alone; other
    antennas, directions and distant carriers keep their own; the change from each carrier's
    own frequency stays within hundredths of a dB (an independent provider without sharing)."""
    from yalu.geodesy import grid_around

    grid = grid_around(SITE[0], SITE[1], 6000.0, north_deg=SITE[0] + 0.07,
                       west_deg=SITE[1] - 0.08, dlat_deg=1 / 600, dlon_deg=1 / 600)  # fmt: skip
    rng = np.random.default_rng(21)
    lat = SITE[0] + rng.uniform(-0.04, 0.04, 60)
    lon = SITE[1] + rng.uniform(-0.05, 0.05, 60)
    a = Antenna(SITE[0], SITE[1], 30.0)
    b = Antenna(SITE[0] + 0.01, SITE[1] - 0.01, 30.0)
    gsm = [925.2, 925.4, 925.6, 927.0]  # the last one 1.8 MHz above the first: its own run
    reqs = [(a, f, "forward", 1.5) for f in gsm] + [(a, 880.4, "reverse", 1.5),
                                                    (b, 925.6, "forward", 1.5)]  # fmt: skip
    shared = EnginePathLoss(terrain, radius_m=6000.0, mode="exact")
    own = EnginePathLoss(terrain, radius_m=6000.0, mode="exact")
    assert shared.distinct_maps(reqs, grid) == 6
    table = shared.share_frequencies(reqs, 1.0)
    assert table[(SITE[0], SITE[1], "forward", 925.2)] == 925.4
    assert table[(SITE[0], SITE[1], "forward", 925.6)] == 925.4
    assert table[(SITE[0], SITE[1], "forward", 927.0)] == 927.0
    assert table[(SITE[0] + 0.01, SITE[1] - 0.01, "forward", 925.6)] == 925.6
    assert shared.distinct_maps(reqs, grid) == 4
    shared.prefetch(reqs, grid)
    shared.prefetch_points(reqs, lat, lon)
    assert shared.maps_computed == 4
    for ant, f, d, h in reqs:
        centre = table[(ant.lat_deg, ant.lon_deg, d, f)]
        want = np.asarray(own.grid_loss_db(ant, centre, d, grid, h))
        got = np.asarray(shared.grid_loss_db(ant, f, d, grid, h))
        assert np.isfinite(want).sum() > 500 and got.tobytes() == want.tobytes()
        pts = shared.points_loss_db(ant, f, d, lat, lon, h)
        assert pts.tobytes() == own.points_loss_db(ant, centre, d, lat, lon, h).tobytes()
        # against the carrier's own frequency: 0.2 MHz at 925 MHz is 0.0019 dB in free space
        alone = np.asarray(own.grid_loss_db(ant, f, d, grid, h), dtype=float)
        delta = np.abs(got.astype(float) - alone)[np.isfinite(alone)]
        if centre != f:
            assert 0.0 < np.median(delta) < 0.01 and delta.max() < 0.05
        else:
            assert delta.max() == 0.0
    # off again: every carrier its own
    assert shared.share_frequencies(reqs, 0.0) == {}
    assert shared.distinct_maps(reqs, grid) == 6
    with pytest.raises(ParameterError, match="span_mhz"):
        shared.share_frequencies(reqs, -1.0)
