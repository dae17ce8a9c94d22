import numpy as np
import pytest
from pyproj import Geod

from yalu.analysis.geo import (
    EARTH_RADIUS_M,
    PolygonFeature,
    cell_area_km2,
    distance_to_lines_km,
    points_in_polygon,
)
from yalu.errors import ParameterError

GEOD = Geod(ellps="WGS84")


@pytest.mark.parametrize("lat", [0.0, 41.5, 60.0, 89.0])
def test_cell_area_matches_ellipsoid(lat):
    d = 1 / 12
    lons = [125 - d / 2, 125 + d / 2, 125 + d / 2, 125 - d / 2]
    lats = [lat - d / 2, lat - d / 2, lat + d / 2, lat + d / 2]
    ref = abs(GEOD.polygon_area_perimeter(lons, lats)[0]) / 1e6
    assert cell_area_km2(lat, d, d) == pytest.approx(ref, rel=1e-6)


def test_cell_areas_sum_to_sphere():
    lat = np.arange(-89.5, 90, 1.0)
    total = cell_area_km2(lat, 1.0, 1.0).sum() * 360
    # the authalic sphere has the ellipsoid's area by definition
    assert total == pytest.approx(4 * np.pi * (EARTH_RADIUS_M / 1000) ** 2, rel=1e-8)


def test_cell_area_bad_input():
    with pytest.raises(ParameterError, match="dlat_deg"):
        cell_area_km2(40, 0, 1)
    with pytest.raises(ParameterError, match="lat_deg"):
        cell_area_km2(95, 1, 1)


def _brute_distance_km(lat, lon, line):
    best = np.inf
    for (lo1, la1), (lo2, la2) in zip(line[:-1], line[1:], strict=True):
        pts = GEOD.npts(lo1, la1, lo2, la2, 400) + [(lo1, la1), (lo2, la2)]
        plo = np.array([p[0] for p in pts])
        pla = np.array([p[1] for p in pts])
        _, _, d = GEOD.inv(np.full(plo.size, lon), np.full(plo.size, lat), plo, pla)
        best = min(best, d.min())
    return best / 1000


def test_distance_to_line_matches_geodesic_brute_force():
    rng = np.random.default_rng(1)
    line = np.array([[124.0, 40.0], [125.3, 40.8], [126.0, 41.2], [128.2, 41.4]])
    lat = rng.uniform(39.0, 42.5, 25)
    lon = rng.uniform(123.0, 129.0, 25)
    got = distance_to_lines_km(lat, lon, [line])
    ref = np.array([_brute_distance_km(a, b, line) for a, b in zip(lat, lon, strict=True)])
    # sphere vs ellipsoid: a few tenths of a percent; sampling of the brute force: metres
    np.testing.assert_allclose(got, ref, rtol=6e-3, atol=0.05)


def test_distance_on_line_is_zero_and_endpoint_distance():
    line = np.array([[124.0, 40.0], [126.0, 40.0]])
    # the midpoint of the great-circle arc, from the sum of the end unit vectors
    v = sum(
        np.array(
            [
                np.cos(np.radians(la)) * np.cos(np.radians(lo)),
                np.cos(np.radians(la)) * np.sin(np.radians(lo)),
                np.sin(np.radians(la)),
            ]
        )
        for lo, la in line
    )
    mid_lat = np.degrees(np.arcsin(v[2] / np.linalg.norm(v)))
    mid_lon = np.degrees(np.arctan2(v[1], v[0]))
    assert distance_to_lines_km(mid_lat, mid_lon, [line]) == pytest.approx(0.0, abs=1e-5)
    # the arc bulges poleward of the parallel: ~0.48 km at 40 N over 2 degrees
    assert distance_to_lines_km(40.0, 125.0, [line]) == pytest.approx(0.478, abs=0.01)
    # beyond the end: distance to the end point
    d = distance_to_lines_km(40.0, 127.0, [line])
    ref = GEOD.inv(126.0, 40.0, 127.0, 40.0)[2] / 1000
    assert d == pytest.approx(ref, rel=5e-3)


def test_points_in_polygon_with_hole():
    ext = np.array([[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]], float)
    hole = np.array([[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]], float)
    lat = np.array([1, 5, 5, 11, 9])
    lon = np.array([1, 5, 1, 5, 9])
    got = points_in_polygon(lat, lon, [ext, hole])
    assert got.tolist() == [True, False, True, False, True]
    f = PolygonFeature({}, [[ext, hole], [ext + 20]])
    assert f.contains([25, 5], [25, 5]).tolist() == [True, False]
    assert f.bounds == (0.0, 0.0, 30.0, 30.0)


def test_cap_pruning_gives_the_minimum_over_every_arc():
    """The kernel skips groups of arcs by their bounding caps; the answer must be the minimum
    over every arc exactly (same bits), on the real border line (many groups of arcs)."""
    from yalu.analysis import _kernels
    from yalu.analysis.area import border_line
    from yalu.analysis.geo import _segments

    lines = border_line()
    seg = _segments(lines)
    assert seg.shape[0] > 10 * _kernels.CAP_SIZE
    rng = np.random.default_rng(3)
    # scattered points, points on the line, and grid rows across it (each point then starts
    # from the arc nearest its neighbour, in work items of _POINT_CHUNK points)
    g_lat, g_lon = np.meshgrid(np.linspace(41.0, 42.6, 7), np.linspace(126.0, 129.5, 90))
    lat = np.concatenate([rng.uniform(38.0, 45.0, 400), np.vstack(lines)[::37, 1], g_lat.ravel()])
    lon = np.concatenate([rng.uniform(122.0, 132.0, 400), np.vstack(lines)[::37, 0], g_lon.ravel()])
    assert lat.size > 2 * _kernels._POINT_CHUNK
    got = _kernels.distance_to_segments_rad(np.radians(lat), np.radians(lon), seg)
    for i in range(lat.size):
        p = _kernels._unit(np.radians(lat[i]), np.radians(lon[i]))
        every = min(_kernels._segment_angle(*p, seg, k) for k in range(seg.shape[0]))
        assert got[i] == every
    # and a cap really holds its arcs: no arc end lies outside its group's cap (both sizes)
    assert _kernels.CAP_SIZE % _kernels.SUB_SIZE == 0
    for size in (_kernels.CAP_SIZE, _kernels.SUB_SIZE):
        caps = _kernels.segment_caps(seg, size)
        for c in range(caps.shape[0]):
            for row in seg[c * size : (c + 1) * size]:
                for end in (row[:3], row[3:]):
                    ang = np.arctan2(np.linalg.norm(np.cross(caps[c, :3], end)), caps[c, :3] @ end)
                    assert ang <= caps[c, 3] + 1e-12
