"""The engine's numba geodesics against pyproj (Karney), and fast mode's spherical radials."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pyproj import Geod

from yalu.coverage import _kernels as K
from yalu.coverage.engine import _fake_radius
from yalu.geodesy import _geodesic as G

WGS84 = Geod(ellps="WGS84")


def _random_pairs(n, seed, spread_deg=1.2):
    rng = np.random.default_rng(seed)
    lat1 = rng.uniform(-60, 70, n)
    lon1 = rng.uniform(-179, 179, n)
    lat2 = np.clip(lat1 + rng.uniform(-spread_deg, spread_deg, n), -80, 80)
    lon2 = lon1 + rng.uniform(-spread_deg, spread_deg, n)
    return lat1, lon1, lat2, lon2


def test_inverse_matches_pyproj():
    lat1, lon1, lat2, lon2 = _random_pairs(300, 1)
    az_ref, _, d_ref = WGS84.inv(lon1, lat1, lon2, lat2)
    for k in range(lat1.size):
        d, az = G.inverse(lat1[k], lon1[k], lat2[k], lon2[k])
        assert d == pytest.approx(d_ref[k], abs=1e-4)
        assert math.degrees(az) == pytest.approx(az_ref[k], abs=1e-7)
    assert G.inverse(41.0, 24.0, 41.0, 24.0) == (0.0, 0.0)


def test_direct_matches_pyproj():
    rng = np.random.default_rng(2)
    for _ in range(200):
        lat, lon = rng.uniform(-70, 70), rng.uniform(-179, 179)
        az, s = rng.uniform(-180, 180), rng.uniform(0, 300e3)
        lo2, la2, _ = WGS84.fwd(lon, lat, az, s)
        la, lo = G.direct(lat, lon, math.radians(az), s)
        _, _, err = WGS84.inv(lo, la, lo2, la2)
        assert err < 1e-3


@pytest.mark.parametrize(("spread_deg", "step_m"), [(0.9, 70.0), (4.0, 30.0), (0.01, 90.0)])
def test_profile_points_within_a_tenth_of_a_millimetre_of_pyproj(spread_deg, step_m):
    """Cubic Hermite between Vincenty anchors: short paths (one segment), 100 km paths and
    400 km paths at up to 80 degrees of latitude, every point against Karney's direct solution."""
    lat1, lon1, lat2, lon2 = _random_pairs(60, 3, spread_deg=spread_deg)
    worst = 0.0
    for k in range(lat1.size):
        d, az = G.inverse(lat1[k], lon1[k], lat2[k], lon2[k])
        n = max(1, round(d / step_m))
        la = np.empty(n + 1)
        lo = np.empty(n + 1)
        G.profile_points(lat1[k], lon1[k], lat2[k], lon2[k], n, az, d, la, lo)
        r = WGS84.fwd_intermediate(lon1[k], lat1[k], math.degrees(az), n + 1, d / n,
                                   initial_idx=0, terminus_idx=0,
                                   return_back_azimuth=True)  # fmt: skip
        _, _, err = WGS84.inv(lo, la, np.array(r.lons), np.array(r.lats))
        worst = max(worst, float(err.max()))
        assert la[-1] == lat2[k] and lo[-1] == pytest.approx(lon2[k], abs=1e-12)
    assert worst < 1e-4


def test_fast_mode_radials_stay_near_the_geodesic():
    """Fast mode walks great circles of a sphere in geodetic coordinates; state that error.

    For 100 km radials at 41 N, every sample lies within 5 m (across and along track) of the
    point at the same fraction of the WGS84 geodesic to the radial's end, and the per-radial
    length scale makes the lengths exact at the end.
    """
    lat0, lon0 = 41.418, 24.178
    r_fake = _fake_radius(lat0)
    radius = 100e3
    n_az = 72
    scales = np.empty(n_az)
    K.radial_scales(lat0, lon0, n_az, r_fake, radius, scales)
    assert np.all(np.abs(scales - 1.0) < 5e-3)
    slat0, clat0 = math.sin(math.radians(lat0)), math.cos(math.radians(lat0))
    worst = 0.0
    for j in range(n_az):
        az = 2 * math.pi * j / n_az
        la_end, lo_end = K._sphere_direct(
            slat0, clat0, lon0, math.sin(az), math.cos(az), radius / r_fake
        )
        az_g, _, d_g = WGS84.inv(lon0, lat0, lo_end, la_end)
        assert d_g == pytest.approx(radius * scales[j], rel=1e-9)
        for frac in (0.25, 0.5, 0.75):
            la, lo = K._sphere_direct(
                slat0, clat0, lon0, math.sin(az), math.cos(az), frac * radius / r_fake
            )
            lo_g, la_g, _ = WGS84.fwd(lon0, lat0, az_g, frac * d_g)
            worst = max(worst, WGS84.inv(lo, la, lo_g, la_g)[2])
    assert worst < 5.0


def test_vectorised_inverse_and_circle_points_match_pyproj():
    rng = np.random.default_rng(4)
    lat0, lon0 = 41.4, 24.2
    lats = lat0 + rng.uniform(-2, 2, 500)
    lons = lon0 + rng.uniform(-2.5, 2.5, 500)
    lats[0], lons[0] = lat0, lon0  # the site itself
    dist = np.empty(500)
    az = np.empty(500)
    G.inverse_many(lat0, lon0, lats, lons, dist, az)
    az_ref, _, d_ref = WGS84.inv(np.full(500, lon0), np.full(500, lat0), lons, lats)
    assert np.max(np.abs(dist - d_ref)) < 1e-3
    assert dist[0] == 0.0
    da = np.angle(np.exp(1j * (az[1:] - np.radians(az_ref[1:]))))
    assert np.max(np.abs(da)) < 1e-8
    azs = np.arange(0.0, 360.0, 7.5)
    la = np.empty(azs.size)
    lo = np.empty(azs.size)
    G.circle_points(lat0, lon0, 123_456.0, azs, la, lo)
    lo_ref, la_ref, _ = WGS84.fwd(np.full(azs.size, lon0), np.full(azs.size, lat0), azs,
                                  np.full(azs.size, 123_456.0))  # fmt: skip
    _, _, err = WGS84.inv(lo, la, lo_ref, la_ref)
    assert np.max(err) < 1e-3
