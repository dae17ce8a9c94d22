"""Coverage engine with ITU-R P.1812-8: maps against independent per-node profiles."""

from __future__ import annotations

import numpy as np
import pytest
from cov_synth import SITE, hilly, write_tif

from yalu.coverage import P1812Options, path_loss_map
from yalu.errors import ParameterError
from yalu.geodesy import geodesic_inverse, profile
from yalu.propagation import p1812
from yalu.terrain import open_terrain

KW = dict(h_tx_m=40.0, h_rx_m=1.5, frequency_mhz=900.0)


@pytest.fixture(scope="module")
def hilly_terrain(tmp_path_factory):
    return open_terrain(write_tif(tmp_path_factory.mktemp("hilly") / "hilly.tif", hilly()))


@pytest.fixture(scope="module")
def p1812_maps(hilly_terrain):
    opts = P1812Options(time_pct=10.0, clutter_height_m=0.0)
    fwd = path_loss_map(hilly_terrain, SITE, 6000.0, model="p1812", p1812=opts, **KW)
    rev = path_loss_map(hilly_terrain, SITE, 6000.0, model="p1812", p1812=opts,
                        direction="reverse", **KW)  # fmt: skip
    return fwd, rev


def independent(terrain, lat, lon, attrs, reverse):
    """P.1812 on a yalu.geodesy profile (pyproj), through the public single-profile API."""
    site = (attrs["site_lat_deg"], attrs["site_lon_deg"])
    length = float(geodesic_inverse(site[0], site[1], lat, lon)[0])
    n = max(2, round(length / attrs["step_m"]))
    prof = profile(terrain, site, (lat, lon), length / n)
    assert prof.n_intervals == n
    z = prof.elevation_m
    h_tx, h_rx = attrs["h_tx_m"], attrs["h_rx_m"]
    if reverse:
        z = z[::-1]
        h_tx, h_rx = h_rx, h_tx
    lat = prof.lat_deg
    mid = lat[n // 2] if n % 2 == 0 else 0.5 * (lat[n // 2] + lat[n // 2 + 1])
    return p1812.basic_transmission_loss(
        prof.distance_m / 1000.0, z, frequency_mhz=attrs["frequency_mhz"],
        time_pct=attrs["p1812_time_pct"], h_tx_m=h_tx, h_rx_m=h_rx, path_center_lat_deg=mid,
        polarization=attrs["p1812_polarization"], delta_n=attrs["p1812_delta_n"],
        n0=attrs["p1812_n0"], clutter_height_m=attrs["p1812_clutter_height_m"],
        zone=attrs["p1812_zone"],
    ).loss_db  # fmt: skip


@pytest.mark.parametrize("which", [0, 1])
def test_map_matches_independent_profiles(hilly_terrain, p1812_maps, which):
    m = p1812_maps[which]
    a = m.attrs
    assert a["model"] == "p1812" and a["mode"] == "exact"
    vals = m.values
    ii, jj = np.nonzero(np.isfinite(vals))
    rng = np.random.default_rng(5 + which)
    pick = rng.choice(ii.size, 150, replace=False)
    diffs = []
    for i, j in zip(ii[pick], jj[pick], strict=True):
        lat, lon = float(m.lat.values[i]), float(m.lon.values[j])
        if float(geodesic_inverse(SITE[0], SITE[1], lat, lon)[0]) < a["min_distance_m"]:
            continue
        diffs.append(abs(float(vals[i, j]) - independent(hilly_terrain, lat, lon, a, which == 1)))
    assert len(diffs) > 140
    assert max(diffs) < 0.01, max(diffs)  # float32 output


def test_map_basics(hilly_terrain, p1812_maps):
    fwd, rev = p1812_maps
    v = fwd.values
    assert np.isfinite(v).sum() > 10_000
    i = int(np.argmin(np.abs(fwd.lat.values - SITE[0])))
    j = int(np.argmin(np.abs(fwd.lon.values - SITE[1])))
    assert np.isfinite(v[i, j])  # the site's own node: the min_distance rule
    assert 40.0 < np.nanmin(v) and np.nanmax(v) < 250.0
    # P.1812 is nearly reciprocal on these paths, not exactly
    d = np.abs(fwd.values - rev.values)[np.isfinite(v)]
    assert np.median(d) < 1.0


def test_clutter_raises_the_loss(hilly_terrain):
    kw = dict(model="p1812", **KW)
    open_ = path_loss_map(hilly_terrain, SITE, 3000.0, p1812=P1812Options(), **kw)
    cl = path_loss_map(hilly_terrain, SITE, 3000.0,
                       p1812=P1812Options(clutter_height_m=10.0), **kw)  # fmt: skip
    d = (cl.values - open_.values)[np.isfinite(open_.values)]
    assert np.all(d >= -1e-3) and np.median(d) > 3.0


def test_p1812_map_bad_input(hilly_terrain):
    with pytest.raises(ParameterError, match=r"frequency_mhz = 8000.0: must be 30.0 to 6000.0"):
        path_loss_map(hilly_terrain, SITE, 2000.0, model="p1812", h_tx_m=40.0,
                      frequency_mhz=8000.0)  # fmt: skip
    with pytest.raises(ParameterError, match=r"p1812.time_pct = 60.0"):
        path_loss_map(hilly_terrain, SITE, 2000.0, model="p1812", p1812=P1812Options(
            time_pct=60.0), **KW)  # fmt: skip
    with pytest.raises(ParameterError, match=r"p1812.zone = 2"):
        path_loss_map(hilly_terrain, SITE, 2000.0, model="p1812", p1812=P1812Options(zone=2),
                      **KW)  # fmt: skip


def test_p1812_map_is_thread_independent(hilly_terrain):
    kw = dict(model="p1812", p1812=P1812Options(time_pct=5.0), **KW)
    one = path_loss_map(hilly_terrain, SITE, 2500.0, threads=1, **kw)
    two = path_loss_map(hilly_terrain, SITE, 2500.0, threads=2, **kw)
    assert one.values.tobytes() == two.values.tobytes()


def test_provider_points_agree_with_its_maps(hilly_terrain):
    from yalu.coverage.provider import EnginePathLoss
    from yalu.geodesy import grid_around
    from yalu.radio.layers import Antenna

    opts = P1812Options(time_pct=20.0, clutter_height_m=3.0)
    prov = EnginePathLoss(hilly_terrain, radius_m=3000.0, model="p1812", p1812=opts)
    assert not prov.reciprocal
    site = Antenna(SITE[0], SITE[1], 40.0)
    grid = grid_around(SITE[0], SITE[1], 3000.0, north_deg=41.30, west_deg=24.00,
                       dlat_deg=1 / 1200, dlon_deg=1 / 1200)  # fmt: skip
    m = np.asarray(prov.grid_loss_db(site, 900.0, "forward", grid, 1.5))
    ref = path_loss_map(hilly_terrain, SITE, 3000.0, h_tx_m=40.0, h_rx_m=1.5,
                        frequency_mhz=900.0, model="p1812", p1812=opts, grid=grid)  # fmt: skip
    assert m.tobytes() == ref.values.astype(np.float32).tobytes()
    ii, jj = np.nonzero(np.isfinite(m))
    rng = np.random.default_rng(3)
    lats, lons = grid.lats(), grid.lons()
    for k in rng.choice(ii.size, 25, replace=False):
        node = Antenna(float(lats[ii[k]]), float(lons[jj[k]]), 1.5)
        assert abs(prov.point_loss_db(site, node, 900.0) - float(m[ii[k], jj[k]])) < 0.01
