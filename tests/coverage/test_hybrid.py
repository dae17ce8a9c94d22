"""Hybrid mode: each node's profile with its far part read from shared radials.

Checked against exact mode (ITM on each node's own profile, itself checked against independent
profiles in test_engine.py) on terrain rough at the scale of a node, where fast mode fails, and
on analytic cases; refined settings must move it towards exact mode; values must not depend on
threads, batching of points, radial groups, or which other nodes are computed with a node.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from cov_synth import D3, NORTH, SITE, WEST, flat, hilly, write_tif

from yalu.coverage import HybridSettings, make_tile_spec, path_loss_map, tile_job
from yalu.coverage import engine as E
from yalu.coverage.engine import path_loss_at_points
from yalu.errors import ParameterError
from yalu.geodesy.grid import grid_around
from yalu.terrain import TerrainWindow, open_terrain

KW = dict(h_tx_m=40.0, h_rx_m=1.5, frequency_mhz=900.0)
RADIUS_M = 12000.0


@pytest.fixture(scope="module")
def rough_terrain(tmp_path_factory):
    # an 8 m egg-crate ripple of ~200 m period on the hills: fast mode's P95 error is ~25 dB
    z = hilly(ripple_m=8.0, ripple_period_deg=0.002)
    return open_terrain(write_tif(tmp_path_factory.mktemp("rough") / "rough.tif", z))


@pytest.fixture(scope="module")
def rough_maps(rough_terrain):
    exact = path_loss_map(rough_terrain, SITE, RADIUS_M, mode="exact", **KW)
    hybrid = path_loss_map(rough_terrain, SITE, RADIUS_M, mode="hybrid", **KW)
    return exact, hybrid


def _stats(a, b):
    d = np.abs(a - b)
    d = d[np.isfinite(d)]
    return float(np.median(d)), float(np.percentile(d, 95)), float(np.mean(d > 1e-3))


def test_hybrid_close_to_exact_on_rough_terrain(rough_maps):
    exact, hybrid = rough_maps
    e, h = exact.values, hybrid.values
    assert np.array_equal(np.isnan(e), np.isnan(h))
    assert np.isfinite(e).sum() > 50_000
    med, p95, moved = _stats(h, e)
    # issue 10's bar for a shared-profile mode is median <= 0.3 dB, P95 <= 3 dB; measured here
    # 0.067 / 0.71 dB (delta_h on each node's profile: 0.040 / 0.48; fast mode: 1.5 / 25 dB)
    assert med <= 0.1 and p95 <= 1.0, (med, p95)
    # not exact mode under another name: most nodes beyond 2 km do differ a little
    assert moved > 0.3, moved
    assert hybrid.attrs["mode"] == "hybrid" and hybrid.attrs["hybrid_own_m"] == 2000.0


def test_hybrid_refined_moves_towards_exact(rough_terrain, rough_maps):
    """A number that depends on how finely one looks is not one: denser radials and a longer
    own part must bring hybrid mode closer to exact mode."""
    exact, hybrid = rough_maps
    fine = path_loss_map(rough_terrain, SITE, RADIUS_M, mode="hybrid",
                         hybrid=HybridSettings(arc_steps=0.125, own_m=4000.0), **KW)  # fmt: skip
    coarse = path_loss_map(rough_terrain, SITE, RADIUS_M, mode="hybrid",
                           hybrid=HybridSettings(arc_steps=2.0, own_m=500.0), **KW)  # fmt: skip
    m_c, p_c, _ = _stats(coarse.values, exact.values)
    m_d, p_d, _ = _stats(hybrid.values, exact.values)
    m_f, p_f, _ = _stats(fine.values, exact.values)
    assert p_f < p_d < p_c, (p_f, p_d, p_c)
    assert m_f <= m_d <= m_c, (m_f, m_d, m_c)


def test_hybrid_with_own_part_beyond_the_radius_is_exact_bit_for_bit(rough_terrain, rough_maps):
    exact, _ = rough_maps
    spec = make_tile_spec(rough_terrain, SITE, RADIUS_M, mode="hybrid",
                          hybrid=HybridSettings(own_m=RADIUS_M + 1.0), **KW)  # fmt: skip
    assert tile_job(spec).tobytes() == exact.values.tobytes()


def test_hybrid_on_flat_ground_is_exact(tmp_path):
    """On flat ground a node's radial part is its own profile: hybrid gives exact's bits."""
    t = open_terrain(write_tif(tmp_path / "flat.tif", flat(250.0)))
    e = path_loss_map(t, SITE, 10000.0, mode="exact", **KW).values
    h = path_loss_map(t, SITE, 10000.0, mode="hybrid", **KW).values
    assert np.isfinite(h).sum() > 40_000
    assert h.tobytes() == e.tobytes()


def test_hybrid_window_with_voids_is_computed_exactly(rough_terrain):
    """A void makes exact mode's paths through it NaN; hybrid mode then computes every node of
    the window exactly, so its NaN means the same."""
    spec = make_tile_spec(rough_terrain, SITE, 8000.0, mode="hybrid", **KW)
    z = spec.elevation_m.copy()
    r, c = z.shape[0] // 2, z.shape[1] // 2
    z[r + 20 : r + 26, c + 30 : c + 36] = np.nan  # a void ~2.5 km south-east of the site
    win = TerrainWindow(z, spec.terrain_north_deg, spec.terrain_west_deg, spec.terrain_dlat_deg,
                        spec.terrain_dlon_deg)  # fmt: skip
    e = path_loss_map(win, SITE, 8000.0, mode="exact", **KW).values
    h = path_loss_map(win, SITE, 8000.0, mode="hybrid", **KW).values
    clean = path_loss_map(rough_terrain, SITE, 8000.0, mode="exact", **KW).values
    assert np.isnan(e).sum() > np.isnan(clean).sum() + 100
    assert h.tobytes() == e.tobytes()


def test_hybrid_points_equal_map_nodes_whatever_the_batch(rough_terrain, rough_maps):
    """Radials depend on the site and radius alone: a point gets the value of the map node it
    sits on, however the points are batched."""
    _, hybrid = rough_maps
    v = hybrid.values
    ii, jj = np.nonzero(np.isfinite(v))
    rng = np.random.default_rng(5)
    pick = rng.choice(ii.size, 400, replace=False)
    la = hybrid.lat.values[ii[pick]]
    lo = hybrid.lon.values[jj[pick]]
    kw = dict(mode="hybrid", **KW)
    whole = path_loss_at_points(rough_terrain, SITE, RADIUS_M, la, lo, **kw)
    half = np.concatenate([
        path_loss_at_points(rough_terrain, SITE, RADIUS_M, la[:150], lo[:150], **kw),
        path_loss_at_points(rough_terrain, SITE, RADIUS_M, la[150:], lo[150:], **kw),
    ])  # fmt: skip
    assert whole.tobytes() == half.tobytes()
    assert np.array_equal(whole.astype(np.float32), v[ii[pick], jj[pick]])
    with pytest.raises(ParameterError, match="mode"):
        path_loss_at_points(rough_terrain, SITE, RADIUS_M, la, lo, mode="fast", **KW)


def _grid(steps: int):
    return grid_around(SITE[0], SITE[1], RADIUS_M, north_deg=NORTH, west_deg=WEST,
                       dlat_deg=steps * D3, dlon_deg=steps * D3)  # fmt: skip


def test_hybrid_map_on_a_coarse_grid_is_exact_mode(rough_terrain):
    """Nodes at least ``exact_grid_steps`` profile steps apart would each need a radial:
    hybrid mode then computes the map exactly (exact's bits, with and without several jobs);
    below the threshold, or with 0, the map is hybrid's own; points stay hybrid."""
    coarse, fine = _grid(7), _grid(4)  # the profile step is one east-west spacing of 3"
    maps = {}
    for name, g in (("coarse", coarse), ("fine", fine)):
        for mode, hs in (("exact", None), ("hybrid", None),
                         ("never", HybridSettings(exact_grid_steps=0.0))):  # fmt: skip
            maps[name, mode] = path_loss_map(
                rough_terrain, SITE, RADIUS_M, grid=g, mode="exact" if mode == "exact" else
                "hybrid", hybrid=hs, **KW,
            )  # fmt: skip
    assert np.isfinite(maps["coarse", "exact"].values).sum() > 1000
    assert maps["coarse", "hybrid"].values.tobytes() == maps["coarse", "exact"].values.tobytes()
    assert maps["coarse", "hybrid"].attrs["hybrid_map_exact"] == 1
    assert maps["coarse", "never"].attrs["hybrid_map_exact"] == 0
    for key in (("coarse", "never"), ("fine", "hybrid"), ("fine", "never")):
        _, _, moved = _stats(maps[key].values, maps[key[0], "exact"].values)
        assert moved > 0.3, (key, moved)
    assert maps["fine", "hybrid"].values.tobytes() == maps["fine", "never"].values.tobytes()
    # several jobs at once, and a tile of the grid: the same choice
    spec = make_tile_spec(rough_terrain, SITE, RADIUS_M, grid=coarse, mode="hybrid", **KW)
    assert E.hybrid_map_is_exact(spec)
    assert E.hybrid_map_is_exact(dataclasses.replace(spec, grid=coarse.subgrid(3, 5, 10, 7)))
    assert not E.hybrid_map_is_exact(dataclasses.replace(spec, grid=fine))
    jobs = [(900.0, "forward"), (1800.0, "reverse")]
    exact_spec = make_tile_spec(rough_terrain, SITE, RADIUS_M, grid=coarse, mode="exact", **KW)
    assert E.tile_job_multi(spec, jobs).tobytes() == E.tile_job_multi(exact_spec, jobs).tobytes()
    # points: hybrid whatever a grid would be
    v = maps["coarse", "exact"].values
    ii, jj = np.nonzero(np.isfinite(v))
    la, lo = coarse.lats()[ii], coarse.lons()[jj]
    pts = path_loss_at_points(rough_terrain, SITE, RADIUS_M, la, lo, mode="hybrid", **KW)
    _, _, moved = _stats(pts, v[ii, jj].astype(np.float64))
    assert moved > 0.3, moved


@pytest.mark.parametrize("value", [-1.0, float("nan")])
def test_hybrid_exact_grid_steps_bad_input(value):
    with pytest.raises(ParameterError, match="exact_grid_steps"):
        HybridSettings(exact_grid_steps=value)


def test_radials_sampled_only_as_far_as_needed_give_the_same_bits(rough_terrain, rough_maps,
                                                                  monkeypatch):  # fmt: skip
    """Each radial is sampled up to the last sample its farthest node reads: the map, and
    points at every distance, get the bits of radials sampled to the radius."""
    _, hybrid = rough_maps
    v = hybrid.values
    ii, jj = np.nonzero(np.isfinite(v))
    pick = np.random.default_rng(9).choice(ii.size, 500, replace=False)
    la, lo = hybrid.lat.values[ii[pick]], hybrid.lon.values[jj[pick]]
    kw = dict(mode="hybrid", **KW)
    part = path_loss_at_points(rough_terrain, SITE, RADIUS_M, la, lo, **kw)
    monkeypatch.setattr(E, "_HYBRID_RADIALS_AS_NEEDED", False)
    whole = path_loss_at_points(rough_terrain, SITE, RADIUS_M, la, lo, **kw)
    assert np.isfinite(part).sum() > 450
    assert part.tobytes() == whole.tobytes()
    spec = make_tile_spec(rough_terrain, SITE, RADIUS_M, mode="hybrid", **KW)
    assert tile_job(spec).tobytes() == v.tobytes()


def test_hybrid_radials_in_groups_give_the_same_bits(rough_terrain, rough_maps, monkeypatch):
    _, hybrid = rough_maps
    # room for ~3 radials per group: hundreds of groups, each with its own nodes
    monkeypatch.setattr(E, "_HYBRID_GROUP_BYTES", 3 * 4 * (int(RADIUS_M / 45.0) + 8))
    spec = make_tile_spec(rough_terrain, SITE, RADIUS_M, mode="hybrid", **KW)
    assert tile_job(spec).tobytes() == hybrid.values.tobytes()


@pytest.mark.parametrize(
    "field,value", [("arc_steps", 0.0), ("radial_step_steps", -1.0), ("own_m", float("nan"))]
)
def test_hybrid_settings_bad_input(field, value):
    with pytest.raises(ParameterError, match=field):
        HybridSettings(**{field: value})


def test_delta_h_table_is_itm_delta_h_of_the_radial_paths(rough_terrain):
    """The delta_h table holds ITM's delta_h of each radial path (checked against ITM on the
    profile yalu.geodesy extracts along the same radial)."""
    from yalu.coverage import _kernels as K
    from yalu.geodesy import WGS84, profile
    from yalu.propagation import itm

    spec = make_tile_spec(rough_terrain, SITE, RADIUS_M, mode="hybrid", **KW)
    r_step = spec.step_m
    n_r = int(RADIUS_M / r_step) - 2
    kdh = 4
    n_az = 8
    heights = np.array([[40.0, 1.5]])
    tab = np.empty((2, 1, n_r // kdh + 2))
    need = np.ones((2, n_r // kdh + 2), dtype=bool)
    need[1, 1::2] = False  # entries not needed are left NaN; the others do not change
    K.hybrid_delta_h(spec.elevation_m, spec.terrain_north_deg, spec.terrain_west_deg,
                     spec.terrain_dlat_deg, spec.terrain_dlon_deg, SITE[0], SITE[1], n_az,
                     np.array([0, 3]), n_r, r_step, kdh, 1.0 / 8.5e6, heights, need,
                     tab)  # fmt: skip
    assert np.all(np.isnan(tab[1, 0, 1::2]))
    got, ref = [], []
    for row, j in enumerate((0, 3)):
        for t in range(2, n_r // kdh + 1, 2):
            d = t * kdh * r_step
            lon, lat, _ = WGS84.fwd(SITE[1], SITE[0], 360.0 * j / n_az, d)
            p = profile(rough_terrain, SITE, (lat, lon), r_step)
            res = itm.p2p(p.elevation_m, p.step_m, 40.0, 1.5, 900.0, climate=5, n0=301.0,
                          polarization=1, epsilon=15.0, sigma=0.005, mdvar=12)  # fmt: skip
            got.append(tab[row, 0, t])
            ref.append(res.delta_h_m)
    got, ref = np.array(got), np.array(ref)
    assert got.size > 30 and np.all(ref > 1.0)
    rel = np.abs(got - ref) / ref
    # the same samples and window; a horizon found under the reference curvature rarely differs
    assert np.median(rel) < 1e-4 and np.mean(rel < 0.02) > 0.9, rel


def test_delta_h_table_against_per_node_delta_h(rough_terrain, rough_maps):
    exact, hybrid = rough_maps
    per_node = path_loss_map(rough_terrain, SITE, RADIUS_M, mode="hybrid",
                             hybrid=HybridSettings(dh_every=0), **KW)  # fmt: skip
    m_t, p_t, _ = _stats(hybrid.values, exact.values)
    m_n, p_n, _ = _stats(per_node.values, exact.values)
    # the table is a shortcut: it may cost a little accuracy, not much
    assert m_t <= m_n + 0.03 and p_t <= p_n + 0.3, (m_t, m_n, p_t, p_n)
    assert not np.array_equal(per_node.values, hybrid.values)
    with pytest.raises(ParameterError, match="kdh"):
        HybridSettings(kdh=0)
    with pytest.raises(ParameterError, match="dh_every"):
        HybridSettings(dh_every=-1)
