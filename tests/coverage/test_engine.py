"""Coverage engine: exact mode against independent profiles, fast vs exact, analytic cases."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import numpy as np
import pytest
from cov_synth import D3, SITE, flat, hilly, ridge, write_tif
from hypothesis import given, settings
from hypothesis import strategies as st

from yalu.coverage import (
    FastSettings,
    Grid,
    ITMOptions,
    composite,
    lowest_loss_index,
    make_tile_spec,
    path_loss_map,
    path_loss_maps,
    tile_job,
    tile_job_multi,
)
from yalu.errors import ChoiceError, ITMError, ParameterError
from yalu.geodesy import geodesic_inverse, profile
from yalu.propagation import itm
from yalu.terrain import open_terrain

SHARED = Path(__file__).parents[2] / ".." / "shared"
BENCH_TAR = SHARED / "bench" / "sdf_3arcsec_40-43N_22-26E.tar.xz"
BENCH_SITE = (41.418, 24.178)

ITM_KW = dict(climate=5, n0=301.0, polarization=1, epsilon=15.0, sigma=0.005, mdvar=12,
              time_pct=50.0, location_pct=50.0, situation_pct=50.0)  # fmt: skip


@pytest.fixture(scope="module")
def hilly_terrain(tmp_path_factory):
    p = write_tif(tmp_path_factory.mktemp("hilly") / "hilly.tif", hilly())
    return open_terrain(p)


@pytest.fixture(scope="module")
def hilly_maps(hilly_terrain):
    kw = dict(h_tx_m=40.0, h_rx_m=1.5, frequency_mhz=900.0)
    exact = path_loss_map(hilly_terrain, SITE, 8000.0, mode="exact", **kw)
    fast = path_loss_map(hilly_terrain, SITE, 8000.0, mode="fast", **kw)
    return exact, fast


def _independent(terrain, site, lat, lon, step_m, h_tx, h_rx, f_mhz, min_d, reverse=False):
    """ITM on a profile extracted by yalu.geodesy (pyproj) - independent of the engine.

    ``reverse``: the node transmits (height ``h_rx``) to the site (height ``h_tx``), on the
    profile extracted from the node to the site.
    """
    length = float(geodesic_inverse(site[0], site[1], lat, lon)[0])
    if length < min_d:
        z0 = float(terrain.elevation_m(site[0], site[1]))
        z1 = float(terrain.elevation_m(lat, lon))
        if reverse:
            return itm.p2p([z1, z0], min_d, h_rx, h_tx, f_mhz, **ITM_KW).loss_db
        return itm.p2p([z0, z1], min_d, h_tx, h_rx, f_mhz, **ITM_KW).loss_db
    if reverse:
        prof = profile(terrain, (lat, lon), site, step_m)
        return itm.p2p(prof.elevation_m, prof.step_m, h_rx, h_tx, f_mhz, **ITM_KW).loss_db
    prof = profile(terrain, site, (lat, lon), step_m)
    return itm.p2p(prof.elevation_m, prof.step_m, h_tx, h_rx, f_mhz, **ITM_KW).loss_db


def _check_exact_against_profiles(terrain, m, n_nodes, seed):
    vals = m.values
    ii, jj = np.nonzero(np.isfinite(vals))
    assert ii.size > n_nodes
    rng = np.random.default_rng(seed)
    pick = rng.choice(ii.size, n_nodes, replace=False)
    lats = m.lat.values[ii[pick]]
    lons = m.lon.values[jj[pick]]
    a = m.attrs
    got = vals[ii[pick], jj[pick]].astype(float)
    ref = np.array([
        _independent(terrain, (a["site_lat_deg"], a["site_lon_deg"]), la, lo, a["step_m"],
                     a["h_tx_m"], a["h_rx_m"], a["frequency_mhz"], a["min_distance_m"],
                     reverse=a["direction"] == "reverse")
        for la, lo in zip(lats, lons, strict=True)
    ])  # fmt: skip
    diff = np.abs(got - ref)
    # float32 output: 0.01 dB is far above its rounding (~2e-5 dB at 200 dB)
    assert np.all(np.isfinite(ref))
    assert diff.max() < 0.01, (diff.max(), lats[diff.argmax()], lons[diff.argmax()])
    return diff


def test_exact_matches_independent_profiles_500_nodes(hilly_terrain, hilly_maps):
    exact, _ = hilly_maps
    diff = _check_exact_against_profiles(hilly_terrain, exact, 500, seed=1)
    assert np.median(diff) < 1e-3


def test_fast_vs_exact_statistics_synthetic(hilly_maps):
    exact, fast = hilly_maps
    e, f = exact.values, fast.values
    assert np.array_equal(np.isnan(e), np.isnan(f))
    d = np.abs(f - e)[np.isfinite(e)]
    assert np.median(d) <= 0.3
    assert np.percentile(d, 95) <= 3.0
    # not trivially equal: fast mode really is a different computation
    assert np.mean(d > 1e-3) > 0.5


@pytest.fixture(scope="module")
def hilly_reverse_maps(hilly_terrain):
    kw = dict(h_tx_m=40.0, h_rx_m=1.5, frequency_mhz=900.0, direction="reverse")
    exact = path_loss_map(hilly_terrain, SITE, 8000.0, mode="exact", **kw)
    fast = path_loss_map(hilly_terrain, SITE, 8000.0, mode="fast", **kw)
    return exact, fast


def test_reverse_exact_matches_independent_reversed_profiles(hilly_terrain, hilly_reverse_maps):
    exact, _ = hilly_reverse_maps
    assert exact.attrs["direction"] == "reverse"
    diff = _check_exact_against_profiles(hilly_terrain, exact, 300, seed=11)
    assert np.median(diff) < 1e-3


def test_reverse_fast_vs_exact_statistics(hilly_reverse_maps):
    exact, fast = hilly_reverse_maps
    e, f = exact.values, fast.values
    assert np.array_equal(np.isnan(e), np.isnan(f))
    d = np.abs(f - e)[np.isfinite(e)]
    assert np.median(d) <= 0.3
    assert np.percentile(d, 95) <= 3.0
    assert np.mean(d > 1e-3) > 0.5


def test_reverse_is_nearly_but_not_exactly_reciprocal(hilly_maps, hilly_reverse_maps):
    fwd, _ = hilly_maps
    rev, _ = hilly_reverse_maps
    ok = np.isfinite(fwd.values)
    d = np.abs(rev.values - fwd.values)[ok]
    # ITM's profile analysis treats both ends alike: at one frequency most nodes get the same
    # loss both ways (float32 maps: to their rounding) ...
    assert np.mean(d <= 1e-4) > 0.9
    # ... but where a discrete choice sits within rounding of its threshold (here mostly
    # line-of-sight paths of a multiple of 10 intervals, whose fit window starts on a sample)
    # the reversed profile is evaluated and may differ
    assert np.mean(d > 1e-3) > 0.01
    assert np.all(np.isfinite(rev.values[ok]))


def test_distance_models_same_in_both_directions(hilly_terrain):
    for model in ("hata", "free-space"):
        kw = dict(h_tx_m=40.0, h_rx_m=1.5, frequency_mhz=900.0, model=model)
        a = path_loss_map(hilly_terrain, SITE, 5000.0, **kw)
        b = path_loss_map(hilly_terrain, SITE, 5000.0, direction="reverse", **kw)
        assert np.array_equal(a.values, b.values, equal_nan=True)
        assert b.attrs["direction"] == "reverse"


def test_attrs_and_geometry(hilly_maps):
    exact, _ = hilly_maps
    a = exact.attrs
    assert exact.dtype == np.float32
    assert exact.dims == ("lat", "lon")
    assert a["crs"] == "EPSG:4326"
    assert a["model"] == "itm" and a["mode"] == "exact"
    assert a["itm_mdvar"] == 12 and a["frequency_mhz"] == 900.0
    t = a["transform"]
    # pixel centres on the nodes
    assert t[2] + 0.5 * t[0] == pytest.approx(float(exact.lon[0]), abs=1e-12)
    assert t[5] + 0.5 * t[4] == pytest.approx(float(exact.lat[0]), abs=1e-12)
    assert np.isnan(a["nodata"])
    # nodata exactly beyond the radius
    la, lo = np.meshgrid(exact.lat.values, exact.lon.values, indexing="ij")
    dist = geodesic_inverse(SITE[0], SITE[1], la, lo)[0]
    assert np.array_equal(np.isnan(exact.values), dist > 8000.0)


def test_site_node_is_finite_and_defined(hilly_terrain, hilly_maps):
    exact, fast = hilly_maps
    i = int(np.argmin(np.abs(exact.lat.values - SITE[0])))
    j = int(np.argmin(np.abs(exact.lon.values - SITE[1])))
    assert exact.lat.values[i] == pytest.approx(SITE[0], abs=1e-9)
    assert exact.lon.values[j] == pytest.approx(SITE[1], abs=1e-9)
    z = float(hilly_terrain.elevation_m(*SITE))
    ref = itm.p2p([z, z], exact.attrs["min_distance_m"], 40.0, 1.5, 900.0, **ITM_KW).loss_db
    assert np.isfinite(exact.values[i, j])
    assert exact.values[i, j] == pytest.approx(ref, abs=1e-3)
    # fast mode computes the nodes next to the site with exact mode's kernel (on Vincenty
    # rather than pyproj geodesics: equal but for the last bits, or a few hundredths of a dB
    # where one of ITM's window edges falls exactly on a sample)
    assert fast.values[i, j] == pytest.approx(exact.values[i, j], abs=1e-4)
    near_f = fast.values[i - 2 : i + 3, j - 2 : j + 3]
    near_e = exact.values[i - 2 : i + 3, j - 2 : j + 3]
    assert np.median(np.abs(near_f - near_e)) < 1e-4
    assert np.max(np.abs(near_f - near_e)) < 0.1


@pytest.fixture(scope="module")
def flat_terrain(tmp_path_factory):
    return open_terrain(write_tif(tmp_path_factory.mktemp("flat") / "flat.tif", flat(100.0)))


# fast mode interpolates along radials: up to ~0.1 dB at the kink of the line-of-sight curve
@pytest.mark.parametrize("mode, tol", [("exact", 1e-3), ("fast", 0.15)])
def test_flat_earth_is_smooth_earth_itm_everywhere(flat_terrain, mode, tol):
    m = path_loss_map(flat_terrain, SITE, 7000.0, h_tx_m=30.0, h_rx_m=2.0, frequency_mhz=1800.0,
                      mode=mode)  # fmt: skip
    la, lo = np.meshgrid(m.lat.values, m.lon.values, indexing="ij")
    inside = np.isfinite(m.values)
    dist = geodesic_inverse(SITE[0], SITE[1], la[inside], lo[inside])[0]
    step = m.attrs["step_m"]
    n = np.maximum(1, np.rint(dist / step)).astype(np.int64)
    far = dist >= m.attrs["min_distance_m"]
    n, dist = n[far], dist[far]
    offsets = np.zeros(n.size + 1, dtype=np.int64)
    np.cumsum(n + 1, out=offsets[1:])
    ref = itm.p2p_batch(
        np.full(int(offsets[-1]), 100.0), offsets, dist / n, 30.0, 2.0, 1800.0, **ITM_KW
    )
    got = m.values[inside][far].astype(float)
    diff = np.abs(got - ref.loss_db)
    assert diff.max() < tol, diff.max()
    # and the loss grows with distance, as over a smooth earth it must (within rounding)
    order = np.argsort(dist)
    assert np.all(np.diff(np.asarray(ref.loss_db)[order]) > -1e-6)


@pytest.fixture(scope="module")
def ridge_maps(tmp_path_factory):
    ridge_lon = SITE[1] + 0.06  # ~5 km east of the site
    t = open_terrain(write_tif(tmp_path_factory.mktemp("ridge") / "ridge.tif", ridge(ridge_lon)))
    kw = dict(h_tx_m=30.0, h_rx_m=1.5, frequency_mhz=900.0)
    return ridge_lon, {m: path_loss_map(t, SITE, 9500.0, mode=m, **kw) for m in ("exact", "fast")}


@pytest.mark.parametrize("mode", ["exact", "fast"])
def test_ridge_casts_the_expected_shadow(ridge_maps, mode):
    ridge_lon, maps = ridge_maps
    m = maps[mode]
    i = int(np.argmin(np.abs(m.lat.values - SITE[0])))
    lons = m.lon.values
    row = m.values[i].astype(float)

    def at(dlon):
        return row[int(np.argmin(np.abs(lons - (SITE[1] + dlon))))]

    # in front of the ridge the terrain is symmetric: east and west agree
    for d in (0.02, 0.035):
        assert abs(at(d) - at(-d)) < 1.5
    # behind the 400 m ridge (5 km away, 30 m mast) the east side is deep in its shadow
    for d in (0.08, 0.09, 0.1):
        assert at(d) - at(-d) > 20.0
    # on the ridge top the path is clear: close to the symmetric value
    assert at(ridge_lon - SITE[1]) - at(-(ridge_lon - SITE[1])) < 3.0
    # the shadow deepens just behind the crest, then slowly fills in
    assert at(0.075) > at(ridge_lon - SITE[1]) + 15.0


def test_deterministic_across_threads_and_runs(hilly_terrain):
    import numba

    kw = dict(h_tx_m=25.0, frequency_mhz=900.0)
    for mode in ("fast", "exact", "hybrid"):
        a = path_loss_map(hilly_terrain, SITE, 5000.0, mode=mode, threads=1, **kw).values
        b = path_loss_map(hilly_terrain, SITE, 5000.0, mode=mode,
                          threads=numba.config.NUMBA_NUM_THREADS, **kw).values  # fmt: skip
        c = path_loss_map(hilly_terrain, SITE, 5000.0, mode=mode, **kw).values
        assert a.view(np.uint32).tobytes() == b.view(np.uint32).tobytes()
        assert a.view(np.uint32).tobytes() == c.view(np.uint32).tobytes()


@pytest.mark.parametrize("mode", ["exact", "fast", "hybrid"])
def test_multi_frequency_maps_equal_separate_maps_bit_for_bit(hilly_terrain, mode):
    """One call for 3 frequencies x 2 directions (exact: one profile and one geometry per node
    and direction) gives the very bits of six separate calls, on 1 and 2 threads."""
    freqs = [450.0, 900.0, 2600.0]
    kw = dict(h_tx_m=30.0, h_rx_m=1.5, mode=mode, epsilon=12.0)
    maps = path_loss_maps(hilly_terrain, SITE, 5000.0, frequencies_mhz=freqs,
                          directions=["forward", "reverse"], threads=1, **kw)  # fmt: skip
    assert len(maps) == 6
    i = 0
    for d in ("forward", "reverse"):
        for f in freqs:
            one = path_loss_map(hilly_terrain, SITE, 5000.0, frequency_mhz=f, direction=d, **kw)
            assert maps[i].attrs["frequency_mhz"] == f and maps[i].attrs["direction"] == d
            assert np.isfinite(one.values).sum() > 1000
            assert maps[i].values.tobytes() == one.values.tobytes(), (d, f)
            i += 1
    # frequencies differ, so a bug that reuses one frequency's loss would show
    assert np.nanmedian(maps[2].values - maps[0].values) > 10.0
    # and 2 threads give the same bits
    spec = make_tile_spec(hilly_terrain, SITE, 5000.0, h_tx_m=30.0, frequency_mhz=900.0,
                          mode=mode, itm=ITMOptions(epsilon=12.0))  # fmt: skip
    import numba

    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        jobs = [(900.0, "reverse"), (450.0, "forward"), (900.0, "forward"), (2600.0, "reverse")]
        a = tile_job_multi(spec, jobs)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        b = tile_job_multi(spec, jobs)
    finally:
        numba.set_num_threads(old)
    assert a.shape == (4, *spec.grid.shape)
    assert a.tobytes() == b.tobytes()
    # explicit jobs in any order: each map is its job's map
    assert a[0].tobytes() == maps[4].values.tobytes()
    assert a[1].tobytes() == maps[0].values.tobytes()
    assert a[3].tobytes() == maps[5].values.tobytes()


@pytest.mark.parametrize("mode", ["exact", "fast", "hybrid"])
def test_jobs_at_several_antenna_heights_equal_one_height_at_a_time(hilly_terrain, mode):
    """Jobs may carry the antenna height: one call for three heights (exact: one profile per
    node for all of them) gives the bits of one call per height."""
    spec = make_tile_spec(hilly_terrain, SITE, 5000.0, h_tx_m=30.0, frequency_mhz=900.0,
                          mode=mode)  # fmt: skip
    jobs = [(900.0, "forward", 45.0), (900.0, "reverse", 20.0), (1800.0, "forward", 20.0),
            (900.0, "forward"), (900.0, "forward", 20.0)]  # fmt: skip
    multi = tile_job_multi(spec, jobs)
    for arr, job in zip(multi, jobs, strict=True):
        h = 30.0 if len(job) == 2 else job[2]
        one = tile_job(dataclasses.replace(spec, h_tx_m=h, frequency_mhz=job[0],
                                           direction=job[1]))  # fmt: skip
        assert np.isfinite(one).sum() > 1000
        assert arr.tobytes() == one.tobytes(), job
    # the heights differ enough to change the maps: a height ignored would show
    assert np.nanmedian(multi[4] - multi[0]) > 1.0
    with pytest.raises(ParameterError, match="h_tx_m"):
        tile_job_multi(spec, [(900.0, "forward", 0.1)])
    with pytest.raises(ParameterError, match="jobs"):
        tile_job_multi(spec, [(900.0, "forward", 20.0, 1.0)])


def test_multi_frequency_bad_input(hilly_terrain):
    kw = dict(h_tx_m=30.0, mode="exact")
    with pytest.raises(ParameterError, match="frequencies_mhz"):
        path_loss_maps(hilly_terrain, SITE, 3000.0, frequencies_mhz=[], **kw)
    with pytest.raises(ParameterError, match="frequencies_mhz"):
        path_loss_maps(hilly_terrain, SITE, 3000.0, frequencies_mhz=[900.0, 5.0], **kw)
    with pytest.raises(ChoiceError, match="directions"):
        path_loss_maps(hilly_terrain, SITE, 3000.0, frequencies_mhz=[900.0],
                       directions=["sideways"], **kw)  # fmt: skip
    with pytest.raises(ParameterError, match="frequencies_mhz"):
        path_loss_maps(hilly_terrain, SITE, 3000.0, frequencies_mhz=[900.0],
                       jobs=[(900.0, "forward")], **kw)  # fmt: skip
    with pytest.raises(ParameterError, match="jobs"):
        path_loss_maps(hilly_terrain, SITE, 3000.0, jobs=[900.0], **kw)
    with pytest.raises(ParameterError, match="itm option"):
        path_loss_maps(hilly_terrain, SITE, 3000.0, frequencies_mhz=[900.0], colour=3, **kw)


def test_tile_job_is_picklable_and_tiles_reassemble(hilly_terrain):
    spec = make_tile_spec(hilly_terrain, SITE, 6000.0, h_tx_m=40.0, frequency_mhz=900.0)
    full = tile_job(spec)
    spec2 = pickle.loads(pickle.dumps(spec))
    g = spec.grid
    out = np.full(g.shape, np.nan, dtype=np.float32)
    r_mid, c_mid = g.n_rows // 3, g.n_cols // 2
    for r0, r1 in ((0, r_mid), (r_mid, g.n_rows)):
        for c0, c1 in ((0, c_mid), (c_mid, g.n_cols)):
            sub = dataclasses.replace(spec2, grid=g.subgrid(r0, c0, r1 - r0, c1 - c0))
            out[r0:r1, c0:c1] = tile_job(sub)
    assert out.tobytes() == full.tobytes()


def test_exact_bands_and_node_order_do_not_change_the_map(hilly_terrain, monkeypatch):
    """Exact mode computes a band's nodes in order of azimuth: bands of a few rows (each its
    own order) give the same bits as one band, and each band reports its progress."""
    from yalu.coverage import engine

    spec = make_tile_spec(hilly_terrain, SITE, 5000.0, h_tx_m=40.0, frequency_mhz=900.0,
                          mode="exact")  # fmt: skip
    one = tile_job(spec)
    assert engine._EXACT_BAND_NODES >= spec.grid.n_rows * spec.grid.n_cols
    monkeypatch.setattr(engine, "_EXACT_BAND_NODES", 3 * spec.grid.n_cols + 1)
    seen: list[int] = []
    banded = tile_job(spec, progress=lambda done, _total: seen.append(done))
    assert banded.tobytes() == one.tobytes()
    assert len(seen) == -(-spec.grid.n_rows // 3)
    assert np.isfinite(one).sum() > 1000


def _threads_at_once(fn, n=2):
    """Run ``fn`` in ``n`` threads started together; their results."""
    import threading

    out: list = [None] * n
    go = threading.Barrier(n)

    def run(i):
        go.wait()
        out[i] = fn()

    ts = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


@pytest.mark.parametrize("mode", ["exact", "hybrid", "fast"])
def test_threads_computing_maps_at_once_get_the_same_bits(hilly_terrain, mode):
    """The engine's kernels release the GIL: maps computed by threads at once (a Dask worker
    with several threads) are those of one call alone."""
    spec = make_tile_spec(hilly_terrain, SITE, 5000.0, h_tx_m=40.0, frequency_mhz=900.0,
                          mode=mode)  # fmt: skip
    one = tile_job(spec)
    for got in _threads_at_once(lambda: tile_job(spec)):
        assert got.tobytes() == one.tobytes()


def test_kernel_guard_serializes_launches_when_the_layer_cannot_take_two(
    hilly_terrain, monkeypatch
):
    import threading
    import time

    import numba

    from yalu.coverage import _kernels, engine

    assert engine._threadsafe_layer() == (str(numba.threading_layer()) != "workqueue")
    spec = make_tile_spec(hilly_terrain, SITE, 3000.0, h_tx_m=40.0, frequency_mhz=900.0,
                          mode="exact")  # fmt: skip
    one = tile_job(spec)
    real = _kernels.exact_nodes
    lock = threading.Lock()
    inside = [0, 0]  # now, most at once

    def counting(*a):
        with lock:
            inside[0] += 1
            inside[1] = max(inside[1], inside[0])
        time.sleep(0.05)  # long enough for the other thread to arrive
        try:
            return real(*a)
        finally:
            with lock:
                inside[0] -= 1

    monkeypatch.setattr(_kernels, "exact_nodes", counting)
    monkeypatch.setattr(engine, "_threadsafe_layer", lambda: False)  # as under workqueue
    for got in _threads_at_once(lambda: tile_job(spec)):
        assert got.tobytes() == one.tobytes()
    assert inside[1] == 1
    # a thread-safe layer lets both in (the check above can fail)
    monkeypatch.setattr(engine, "_threadsafe_layer", lambda: True)
    _threads_at_once(lambda: tile_job(spec))
    assert inside[1] == 2


def test_composite_and_lowest_loss_index(hilly_terrain):
    kw = dict(h_tx_m=30.0, frequency_mhz=900.0)
    g = make_tile_spec(hilly_terrain, SITE, 6000.0, **kw).grid
    sites = [SITE, (SITE[0] + 0.03, SITE[1] - 0.03), (SITE[0] - 0.02, SITE[1] + 0.04)]
    maps = [path_loss_map(hilly_terrain, s, 6000.0, grid=g, **kw) for s in sites]
    comp = composite(maps)
    best = lowest_loss_index(maps)
    stack = np.stack([m.values for m in maps])
    assert comp.attrs["transform"] == maps[0].attrs["transform"]
    finite = np.isfinite(stack)
    for i in range(len(maps)):
        sel = best.values == i
        assert sel.any()
        assert np.array_equal(comp.values[sel], stack[i][sel])
    none = ~finite.any(axis=0)
    assert np.all(best.values[none] == -1) and np.all(np.isnan(comp.values[none]))
    some = ~none
    assert np.all(comp.values[some] == np.nanmin(np.where(finite, stack, np.inf), axis=0)[some])
    # ties go to the lowest index
    twin = lowest_loss_index([maps[0], maps[0]])
    assert set(np.unique(twin.values)) <= {-1, 0}
    with pytest.raises(ParameterError):
        composite([maps[0], maps[0].values[:-1]])
    with pytest.raises(ParameterError):
        composite([])


def test_free_space_and_hata_maps(hilly_terrain):
    from yalu.propagation import free_space_loss_db, hata_loss_db

    m = path_loss_map(hilly_terrain, SITE, 6000.0, h_tx_m=30.0, frequency_mhz=900.0,
                      model="free-space")  # fmt: skip
    la, lo = np.meshgrid(m.lat.values, m.lon.values, indexing="ij")
    inside = np.isfinite(m.values)
    d = np.maximum(
        geodesic_inverse(SITE[0], SITE[1], la[inside], lo[inside])[0], m.attrs["min_distance_m"]
    )
    assert np.allclose(m.values[inside], free_space_loss_db(d, 900.0), atol=1e-3)
    h = path_loss_map(hilly_terrain, SITE, 6000.0, h_tx_m=30.0, frequency_mhz=900.0, model="hata",
                      hata_environment="suburban")  # fmt: skip
    with pytest.warns(Warning):
        ref = hata_loss_db(d, 900.0, 30.0, 1.5, "suburban")
    assert np.allclose(h.values[inside], ref, atol=1e-3)
    assert h.attrs["model"] == "hata" and h.attrs["hata_environment"] == "suburban"


def test_custom_grid(hilly_terrain):
    g = Grid(SITE[0] + 0.02, SITE[1] - 0.02, 0.002, 0.0025, 21, 17)
    m = path_loss_map(hilly_terrain, SITE, 5000.0, h_tx_m=30.0, frequency_mhz=900.0, grid=g,
                      mode="exact")  # fmt: skip
    assert m.shape == (21, 17)
    assert m.lat.values[0] == pytest.approx(SITE[0] + 0.02)
    assert m.lon.values[-1] == pytest.approx(SITE[1] - 0.02 + 16 * 0.0025)
    _check_exact_against_profiles(hilly_terrain, m, 50, seed=3)
    f = path_loss_map(hilly_terrain, SITE, 5000.0, h_tx_m=30.0, frequency_mhz=900.0, grid=g)
    assert np.array_equal(np.isnan(f.values), np.isnan(m.values))


def test_bad_input(hilly_terrain):
    kw = dict(h_tx_m=30.0, frequency_mhz=900.0)
    with pytest.raises(ParameterError, match="radius_m"):
        path_loss_map(hilly_terrain, SITE, -5.0, **kw)
    with pytest.raises(ChoiceError, match="mode"):
        path_loss_map(hilly_terrain, SITE, 5000.0, mode="quick", **kw)
    with pytest.raises(ChoiceError, match="model"):
        path_loss_map(hilly_terrain, SITE, 5000.0, model="okumura", **kw)
    with pytest.raises(ChoiceError, match="direction"):
        path_loss_map(hilly_terrain, SITE, 5000.0, direction="uplink", **kw)
    with pytest.raises(ParameterError, match="frequency_mhz"):
        path_loss_map(hilly_terrain, SITE, 5000.0, h_tx_m=30.0, frequency_mhz=5.0)
    with pytest.raises(ParameterError, match="site"):
        path_loss_map(hilly_terrain, (45.0, 24.2), 5000.0, **kw)
    with pytest.raises(ParameterError, match="site"):
        path_loss_map(hilly_terrain, "41,24", 5000.0, **kw)
    with pytest.raises(ITMError, match="climate"):
        path_loss_map(hilly_terrain, SITE, 5000.0, climate=9, **kw)
    with pytest.raises(ITMError):
        path_loss_map(hilly_terrain, SITE, 5000.0, time_pct=0.0, **kw)
    with pytest.raises(ParameterError, match="threads"):
        path_loss_map(hilly_terrain, SITE, 5000.0, threads=0, **kw)
    with pytest.raises(ParameterError, match="dh_every"):
        path_loss_map(hilly_terrain, SITE, 5000.0, fast=FastSettings(dh_every=3), **kw)


def test_void_terrain_gives_nodata_not_garbage(tmp_path):
    z = hilly()
    z[:, 300:310] = np.nan  # a void band east of the site (lon 24.25)
    import rasterio

    p = write_tif(tmp_path / "void.tif", z)
    with rasterio.open(p, "r+") as ds:
        ds.nodata = float("nan")
    from yalu.terrain import VoidFillWarning

    t = open_terrain(p)
    with pytest.warns(VoidFillWarning):
        m = path_loss_map(t, SITE, 6000.0, h_tx_m=30.0, frequency_mhz=900.0, mode="exact")
    # the terrain layer fills voids on purpose (and says so); the map stays finite and sane
    v = m.values[np.isfinite(m.values)]
    assert v.size > 0 and np.all((v > 50) & (v < 400))


@pytest.fixture(scope="module")
def bench_terrain(tmp_path_factory):
    if not BENCH_TAR.exists():
        pytest.skip(f"shared bench terrain not found at {BENCH_TAR}")
    import tarfile

    d = tmp_path_factory.mktemp("bench")
    with tarfile.open(BENCH_TAR) as tf:
        tf.extractall(d, filter="data")
    return open_terrain(d)


@pytest.mark.shared
@pytest.mark.slow
def test_bench_terrain_exact_and_fast(bench_terrain):
    kw = dict(h_tx_m=40.0, h_rx_m=1.5, frequency_mhz=900.0)
    exact = path_loss_map(bench_terrain, BENCH_SITE, 25e3, mode="exact", **kw)
    _check_exact_against_profiles(bench_terrain, exact, 500, seed=5)
    fast = path_loss_map(bench_terrain, BENCH_SITE, 25e3, mode="fast", **kw)
    d = np.abs(fast.values - exact.values)[np.isfinite(exact.values)]
    assert np.median(d) <= 0.3
    assert np.percentile(d, 95) <= 3.0
    assert D3 == pytest.approx(float(exact.attrs["transform"][0]), rel=1e-9)
    rev = path_loss_map(bench_terrain, BENCH_SITE, 25e3, mode="exact", direction="reverse", **kw)
    _check_exact_against_profiles(bench_terrain, rev, 300, seed=6)
    rev_fast = path_loss_map(bench_terrain, BENCH_SITE, 25e3, direction="reverse", **kw)
    d = np.abs(rev_fast.values - rev.values)[np.isfinite(rev.values)]
    assert np.median(d) <= 0.3
    assert np.percentile(d, 95) <= 3.0


def test_dask_tiles_equal_the_single_job(hilly_terrain):
    pytest.importorskip("dask")
    from yalu.coverage.dask import split_tiles, tile_map

    spec = make_tile_spec(hilly_terrain, SITE, 5000.0, h_tx_m=40.0, frequency_mhz=900.0)
    full = tile_job(spec)
    assert len(split_tiles(spec, 50, 70)) == -(-spec.grid.n_rows // 50) * -(-spec.grid.n_cols // 70)
    mosaic = tile_map(spec, 50, 70, scheduler="synchronous")
    assert mosaic.tobytes() == full.tobytes()
    with pytest.raises(ParameterError):
        split_tiles(spec, 0, 10)


@pytest.mark.parametrize("mode", ["fast", "exact"])
def test_progress_is_monotone_and_completes(hilly_terrain, mode):
    seen = []
    path_loss_map(hilly_terrain, SITE, 4000.0, h_tx_m=30.0, frequency_mhz=900.0, mode=mode,
                  progress=lambda done, total: seen.append((done, total)))  # fmt: skip
    assert seen
    fractions = [d / t for d, t in seen]
    assert all(b >= a for a, b in zip(fractions, fractions[1:], strict=False))
    assert fractions[-1] == 1.0


def test_numba_threads_sets_checks_and_restores():
    import numba

    from yalu.coverage.engine import numba_threads

    before = numba.get_num_threads()
    n_max = int(numba.config.NUMBA_NUM_THREADS)
    with numba_threads(1):
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before
    with numba_threads(n_max + 5):  # capped to what numba started with
        assert numba.get_num_threads() == n_max
    with numba_threads(None):
        assert numba.get_num_threads() == before
    for bad in (0, -2, 1.5):
        with pytest.raises(ParameterError, match="threads"):
            with numba_threads(bad):  # type: ignore[arg-type]
                pass
    assert numba.get_num_threads() == before


def test_coerce_itm_options_accepts_names_and_rejects_with_codes():
    from yalu.coverage.engine import ITMOptions, coerce_itm_options

    o = coerce_itm_options("desert", 301, "horizontal", 15, 0.005, "mobile", 50, 50, 50)
    assert o == ITMOptions(climate=4, n0=301.0, polarization=0, epsilon=15.0, sigma=0.005,
                           mdvar=2, time_pct=50.0, location_pct=50.0,
                           situation_pct=50.0)  # fmt: skip
    with pytest.raises(ITMError) as info:
        coerce_itm_options(9.5, 301, 1, 15, 0.005, 12, 50, 50, 50)
    assert info.value.code == 1002


def test_exact_mode_voids_only_touch_the_profiles_through_them(hilly_terrain):
    """A void-free window samples between anchors without per-sample checks; a window with a
    void takes the checked path. Both give the same bits wherever no profile meets the void,
    and a profile that meets it gives NaN, never a number from a partial profile."""
    spec = make_tile_spec(hilly_terrain, SITE, 5000.0, h_tx_m=30.0, frequency_mhz=900.0,
                          mode="exact")  # fmt: skip
    jobs = [(900.0, "forward"), (900.0, "reverse")]
    clean = tile_job_multi(spec, jobs)
    e = spec.elevation_m.copy()
    e[0, 0] = np.nan  # a corner of the window, beyond the radius
    corner = tile_job_multi(dataclasses.replace(spec, elevation_m=e), jobs)
    assert corner.tobytes() == clean.tobytes()
    # a void ~2 km east of the site, on the site's row
    g = spec.grid
    i_site = int(np.argmin(np.abs(g.lats() - SITE[0])))
    ei = int(round((spec.terrain_north_deg - SITE[0]) / spec.terrain_dlat_deg))
    ej = int(round((SITE[1] + 0.024 - spec.terrain_west_deg) / spec.terrain_dlon_deg))
    e2 = spec.elevation_m.copy()
    e2[ei - 1 : ei + 2, ej - 1 : ej + 2] = np.nan
    holed = tile_job_multi(dataclasses.replace(spec, elevation_m=e2), jobs)
    lons = g.lons()
    behind = np.isfinite(clean[0, i_site]) & (lons > SITE[1] + 0.03)
    assert behind.sum() > 5
    assert np.all(np.isnan(holed[:, i_site, behind]))
    west = np.isfinite(clean[0]) & (lons[None, :] < SITE[1] - 0.001)
    assert west.sum() > 100
    assert holed[:, west].tobytes() == clean[:, west].tobytes()


@settings(max_examples=100, deadline=None)
@given(st.permutations(list(range(9))), st.integers(1, 9))
def test_scatter_rows_in_place_is_fancy_index_assignment(perm, n):
    """Moving each row to its place in place, cycle by cycle, gives ``out[order] = a``."""
    from yalu.coverage.engine import _scatter_rows

    order = [p for p in perm if p < n]
    a = np.random.default_rng(n).normal(size=(n, 3, 4)).astype(np.float32)
    want = np.empty_like(a)
    want[order] = a
    _scatter_rows(a, order)
    assert a.tobytes() == want.tobytes()
    with pytest.raises(ParameterError, match="permutation"):
        _scatter_rows(a, [0] * n if n > 1 else [1])


def test_pyproj_geodesics_in_parts_are_one_call_bit_for_bit(monkeypatch):
    """The exact engine's geodesics, split over threads, are pyproj's of the whole array (the
    values ITM's profile analysis needs to the bit), in the caller's shape."""
    import numba

    from yalu.coverage import engine
    from yalu.geodesy import WGS84

    rng = np.random.default_rng(11)
    lat = rng.uniform(39.0, 44.0, (37, 29))
    lon = rng.uniform(123.0, 131.0, (37, 29))
    az_deg, _b, d = WGS84.inv(np.full(lat.shape, 126.5), np.full(lat.shape, 41.2), lon, lat)
    monkeypatch.setattr(engine, "GEODESIC_THREAD_NODES", 100)
    seen = []
    from yalu import geodesy  # the engine imports WGS84 from it where used

    inv = geodesy.WGS84.inv

    class Counting:
        def inv(self, *a):
            seen.append(len(a[0]))
            return inv(*a)

    monkeypatch.setattr(geodesy, "WGS84", Counting())
    with engine.numba_threads(min(2, numba.config.NUMBA_NUM_THREADS)):
        dist, az = engine._pyproj_geodesics(41.2, 126.5, lat, lon)
    assert dist.shape == lat.shape and az.shape == lat.shape
    assert sum(seen) == lat.size and len(seen) == min(2, numba.config.NUMBA_NUM_THREADS)
    assert np.array_equal(dist, d) and np.array_equal(az, np.radians(az_deg))
