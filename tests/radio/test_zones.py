"""Restricted zones."""

import math

import numpy as np
import pytest

from yalu.errors import ParameterError
from yalu.radio import CircleZone, PolygonZone, rasterize_zones


def haversine_m(lat1, lon1, lat2, lon2, r=6_371_008.8):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * r * np.arcsin(np.sqrt(a))


def test_circle_matches_great_circle_distance():
    zone = CircleZone(label="monument", lat_deg=39.0392, lon_deg=125.7625, radius_m=300.0)
    lat = np.linspace(39.030, 39.048, 91)[:, None]
    lon = np.linspace(125.750, 125.775, 101)[None, :]
    inside, idx = rasterize_zones([zone], lat, lon)
    d = haversine_m(zone.lat_deg, zone.lon_deg, lat, lon)
    # ellipsoid vs sphere differ by < 0.5 %: compare away from the edge
    assert np.all(inside[d < 295.0]) and not np.any(inside[d > 305.0])
    assert inside.sum() > 0
    assert set(np.unique(idx)) == {-1, 0}


def test_polygon_even_odd_and_index_order():
    square = PolygonZone(
        label="base", vertices=[(40.0, 124.0), (40.0, 124.1), (40.1, 124.1), (40.1, 124.0)]
    )
    circle = CircleZone(label="c", lat_deg=40.05, lon_deg=124.05, radius_m=1000.0)
    lat = np.array([40.05, 40.05, 40.2, 40.099])
    lon = np.array([124.05, 124.09, 124.05, 124.001])
    inside, idx = rasterize_zones([circle, square], lat, lon)
    assert inside.tolist() == [True, True, False, True]
    assert idx.tolist() == [0, 1, -1, 1]
    # concave polygon: the notch is outside
    u = PolygonZone(
        vertices=[(0, 0), (0, 3), (3, 3), (3, 2), (1, 2), (1, 1), (3, 1), (3, 0), (0, 0)]
    )
    assert u.contains([0.5, 1.5, 2.5], [0.5, 1.5, 2.5]).tolist() == [True, False, True]


def test_bad_zones():
    with pytest.raises(ParameterError, match="radius_m"):
        CircleZone(lat_deg=0, lon_deg=0, radius_m=-5)
    with pytest.raises(ParameterError, match=r"vertices\[1\]"):
        PolygonZone(vertices=[(0, 0), (95, 0), (1, 1)])
    with pytest.raises(ParameterError, match="vertices"):
        PolygonZone(vertices=[(0, 0), (1, 1)])
    assert math.isfinite(CircleZone(lat_deg=0, lon_deg=0, radius_m=1).radius_m)


@pytest.mark.parametrize(
    ("lat0", "lon0", "radius_m"),
    [(41.0, 127.0, 300.0), (79.5, 10.0, 5000.0), (-33.0, 179.999, 2000.0), (0.0, -180.0, 50e3)],
)
def test_circle_box_prefilter_matches_every_geodesic(lat0, lon0, radius_m):
    """The circle tests geodesic distance only inside a box around it: the answer must be
    the brute-force one (pyproj distance to every point), across the antimeridian and near a
    pole."""
    from pyproj import Geod

    from yalu.radio.zones import CircleZone

    rng = np.random.default_rng(int(radius_m))
    span = radius_m / 111e3 * 3
    lat = np.clip(lat0 + rng.uniform(-span, span, 4000), -90, 90)
    lon = (lon0 + rng.uniform(-span, span, 4000) / max(np.cos(np.radians(lat0)), 0.1) + 180) % 360
    lon -= 180
    z = CircleZone(lat_deg=lat0, lon_deg=lon0, radius_m=radius_m)
    _, _, d = Geod(ellps="WGS84").inv(np.full(lat.size, lon0), np.full(lat.size, lat0), lon, lat)
    want = d <= radius_m
    assert want.sum() > 50 and (~want).sum() > 50
    np.testing.assert_array_equal(z.contains(lat, lon), want)
