"""WGS84 geodesics and terrain profiles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yalu.errors import ParameterError
from yalu.geodesy import Profile, RaggedProfiles, geodesic_inverse, profile, profiles
from yalu.terrain import default_terrain, open_terrain

_DEMO = default_terrain()


def _dms(d: float, m: float, s: float) -> float:
    return np.sign(d) * (abs(d) + m / 60 + s / 3600)


def test_geodesic_inverse_flinders_peak_buninyong() -> None:
    """Geoscience Australia's worked example (Vincenty 1975 test line, GRS80 ~ WGS84 to 0.1 mm)."""
    lat1, lon1 = _dms(-37, 57, 3.72030), _dms(144, 25, 29.52440)
    lat2, lon2 = _dms(-37, 39, 10.15610), _dms(143, 55, 35.38390)
    d, az1, az2 = geodesic_inverse(lat1, lon1, lat2, lon2)
    assert float(d) == pytest.approx(54972.271, abs=0.002)
    assert float(az1) % 360 == pytest.approx(_dms(306, 52, 5.37), abs=0.01 / 3600)
    # the reverse azimuth, at the end towards the start
    assert float(az2) % 360 == pytest.approx(_dms(127, 10, 25.07), abs=0.01 / 3600)


def test_geodesic_inverse_vectorized_and_meridian_arc() -> None:
    d, az1, _ = geodesic_inverse(0.0, [10.0, 20.0], [1.0, 0.0], [10.0, 21.0])
    assert d.shape == (2,)
    # 1 degree of meridian from the equator on WGS84: 110574.389 m;
    # 1 degree of equator: 111319.491 m
    assert d[0] == pytest.approx(110574.389, abs=0.01)
    assert d[1] == pytest.approx(111319.491, abs=0.01)
    assert az1[0] == pytest.approx(0.0, abs=1e-9) and az1[1] == pytest.approx(90.0, abs=1e-9)
    with pytest.raises(ParameterError, match="start latitude"):
        geodesic_inverse(95, 0, 0, 0)


@pytest.fixture
def plane_terrain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Two 3" .hgt tiles holding 100 + 3600 (lat - 40) + 3600 (lon - 123) [m]."""
    import yalu.terrain.core as core

    # the plane reaches 15.6 km, beyond the +-12 km yalu treats as voids: widen it here
    monkeypatch.setattr(core, "MAX_ABS_ELEVATION_M", 40_000.0)
    for w in (124, 125):
        i = np.arange(1201)
        lat = 42 - i / 1200
        lon = w + i / 1200
        z = 100 + 3600 * (lat[:, None] - 40) + 3600 * (lon[None, :] - 123)
        (tmp_path / f"N41E{w}.hgt").write_bytes(np.rint(z).astype(">i2").tobytes())
    return open_terrain(tmp_path)


def _plane(lat, lon):  # type: ignore[no-untyped-def]
    return 100 + 3600 * (np.asarray(lat) - 40) + 3600 * (np.asarray(lon) - 123)


def test_profile_step_points_and_elevations(plane_terrain) -> None:  # type: ignore[no-untyped-def]
    start, end = (41.2, 124.3), (41.7, 125.6)
    p = profile(plane_terrain, start, end, step_m=90.0)
    assert isinstance(p, Profile)
    length = float(geodesic_inverse(*start, *end)[0])
    n = max(1, round(length / 90.0))
    assert p.length_m == pytest.approx(length)
    assert p.n_intervals == n and p.elevation_m.size == n + 1
    assert p.step_m == pytest.approx(length / n)
    np.testing.assert_allclose(p.distance_m, np.arange(n + 1) * length / n)
    assert (p.lat_deg[0], p.lon_deg[0]) == pytest.approx(start)
    assert (p.lat_deg[-1], p.lon_deg[-1]) == pytest.approx(end)
    # points lie on the geodesic: distances from the start and azimuths agree
    d, az, _ = geodesic_inverse(start[0], start[1], p.lat_deg[1:], p.lon_deg[1:])
    np.testing.assert_allclose(d, p.distance_m[1:], atol=1e-6)
    np.testing.assert_allclose(az, az[-1], atol=1e-7)
    np.testing.assert_allclose(p.elevation_m, _plane(p.lat_deg, p.lon_deg), atol=1e-6)
    pfl = p.to_pfl()
    assert pfl[0] == n and pfl[1] == pytest.approx(p.step_m)
    np.testing.assert_array_equal(pfl[2:], p.elevation_m)


def test_profile_short_path_has_one_interval(plane_terrain) -> None:  # type: ignore[no-untyped-def]
    p = profile(plane_terrain, (41.5, 124.5), (41.5001, 124.5), step_m=90.0)
    assert p.n_intervals == 1 and p.elevation_m.size == 2
    assert p.step_m == pytest.approx(p.length_m)


def test_profiles_ragged_match_single_profiles(plane_terrain) -> None:  # type: ignore[no-untyped-def]
    start = (41.5, 124.9)
    ends = np.array([[41.9, 125.9], [41.1, 124.1], [41.5, 124.95], [41.5, 124.9]])
    rp = profiles(plane_terrain, start, ends, step_m=120.0)
    assert isinstance(rp, RaggedProfiles) and len(rp) == 4
    assert rp.offsets.dtype == np.int64 and rp.offsets.size == 5 and rp.offsets[0] == 0
    assert rp.elevation_m.dtype == np.float64 and rp.elevation_m.size == rp.offsets[-1]
    for i, e in enumerate(ends):
        one = profile(plane_terrain, start, tuple(e), step_m=120.0)
        got = rp[i]
        assert got.n_intervals == one.n_intervals
        assert rp.step_m[i] == pytest.approx(one.step_m)
        np.testing.assert_allclose(got.elevation_m, one.elevation_m, atol=1e-9)
        assert rp.offsets[i + 1] - rp.offsets[i] == one.n_intervals + 1
    assert rp[3].length_m == 0.0 and rp[3].n_intervals == 1
    assert rp[-1].length_m == 0.0
    with pytest.raises(IndexError):
        rp[4]


@pytest.mark.parametrize("step", [0, -5, float("nan")])
def test_bad_step(plane_terrain, step) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ParameterError, match="step_m"):
        profile(plane_terrain, (41.5, 124.5), (41.6, 124.6), step_m=step)


def test_bad_points(plane_terrain) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ParameterError, match=r"end latitude.*-90 to 90"):
        profile(plane_terrain, (41.5, 124.5), (91, 124.6), step_m=90)
    with pytest.raises(ParameterError, match="start"):
        profile(plane_terrain, "here", (41.6, 124.6), step_m=90)
    with pytest.raises(ParameterError, match="ends"):
        profiles(plane_terrain, (41.5, 124.5), np.zeros((3, 3)), step_m=90)


def test_profile_on_the_embedded_terrain() -> None:
    from yalu.terrain import default_terrain

    p = profile(default_terrain(), (40.1, 124.4), (40.3, 124.8), step_m=1000)
    assert p.elevation_m.size == p.n_intervals + 1 and np.isfinite(p.elevation_m).all()


@settings(max_examples=40, deadline=None)
@given(
    lat1=st.floats(37.5, 45.5),
    lon1=st.floats(120.5, 133.5),
    lat2=st.floats(37.5, 45.5),
    lon2=st.floats(120.5, 133.5),
    step=st.floats(50.0, 20_000.0),
)
def test_profile_invariants(
    lat1: float, lon1: float, lat2: float, lon2: float, step: float
) -> None:
    p = profile(_DEMO, (lat1, lon1), (lat2, lon2), step_m=step)
    n = max(1, round(p.length_m / step))
    assert p.n_intervals == n
    assert p.step_m * n == pytest.approx(p.length_m, abs=1e-6)
    assert np.all(np.diff(p.distance_m) >= 0)
    assert p.distance_m[-1] == pytest.approx(p.length_m, abs=1e-6)
    np.testing.assert_allclose(p.elevation_m, _DEMO.elevation_m(p.lat_deg, p.lon_deg))
    d = geodesic_inverse(lat1, lon1, p.lat_deg, p.lon_deg)[0]
    np.testing.assert_allclose(d, p.distance_m, atol=1e-3)


def test_vincenty_azimuth_distance_matches_pyproj_on_many_nodes() -> None:
    from yalu.geodesy import azimuth_distance, azimuth_distance_vincenty

    rng = np.random.default_rng(5)
    lat = rng.uniform(38.0, 45.0, (40, 50))
    lon = rng.uniform(122.0, 132.0, (40, 50))
    az_v, d_v = azimuth_distance_vincenty(41.5, 127.0, lat, lon)
    az_p, d_p = azimuth_distance(41.5, 127.0, lat, lon)
    assert az_v.shape == d_v.shape == lat.shape
    np.testing.assert_allclose(d_v, d_p, rtol=0, atol=1e-4)
    # azimuths in [0, 360) on both sides; compare on the circle
    assert ((az_v >= 0) & (az_v < 360)).all()
    diff = (az_v - az_p + 180.0) % 360.0 - 180.0
    assert np.abs(diff).max() < 1e-7
    # a point at the start: pyproj's convention (azimuth 180), which antenna patterns read
    az0, d0 = azimuth_distance_vincenty(41.5, 127.0, [41.5, 41.6], [127.0, 127.0])
    az0p, _ = azimuth_distance(41.5, 127.0, [41.5, 41.6], [127.0, 127.0])
    assert d0[0] == 0.0 and az0[0] == az0p[0] == 180.0 and abs(az0[1] - az0p[1]) < 1e-7
    # broadcasting a column against a row, as grid blocks do
    az_b, d_b = azimuth_distance_vincenty(41.5, 127.0, lat[:, :1], lon[:1, :])
    assert d_b.shape == (40, 50)


def test_grid_evaluate_in_bands_of_rows_is_one_call_on_the_whole_grid():
    from yalu.geodesy.grid import Grid

    g = Grid(north_deg=41.3, west_deg=124.1, dlat_deg=0.01, dlon_deg=0.013, n_rows=37, n_cols=11)
    la, lo = np.meshgrid(g.lats(), g.lons(), indexing="ij")

    def fn(a, b):
        return np.sin(np.radians(a)) * b - a**2

    calls = []

    def counted(a, b):
        calls.append(a.shape)
        return fn(a, b)

    got = g.evaluate(counted, np.float64, max_nodes=50)  # 4 rows a band: 10 bands, the last 1
    assert np.array_equal(got, fn(la, lo)) and got.dtype == np.float64
    assert calls[0] == (4, 11) and calls[-1] == (1, 11) and len(calls) == 10
    assert np.array_equal(g.evaluate(fn, np.float64), fn(la, lo))  # one band
    assert g.evaluate(lambda a, b: a > 41.0, bool).sum() == int((la > 41.0).sum())
