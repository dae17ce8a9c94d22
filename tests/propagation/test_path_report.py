"""Path report: obstacles at the right peaks, loss along the path equal to ITM on each prefix."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from yalu.errors import ITMError
from yalu.propagation import itm
from yalu.propagation.clearance import path_clearance
from yalu.propagation.path_report import find_obstacles, itm_loss_along_path_db, path_report

STEP_M = 100.0


def _ridges(n=201, peaks=((60, 120.0), (140, 90.0))):
    """Flat ground at 50 m with triangular ridges (index, height above ground)."""
    z = np.full(n, 50.0)
    i = np.arange(n)
    for k, h in peaks:
        z = np.maximum(z, 50.0 + h - 4.0 * np.abs(i - k))
    return z


def _profile(z):
    d = np.arange(z.size) * STEP_M
    return SimpleNamespace(
        elevation_m=z,
        step_m=STEP_M,
        distance_m=d,
        lat_deg=40.0 + d / 111e3,
        lon_deg=np.full(z.size, 124.0),
    )


def test_obstacles_are_the_ridge_tops_in_order():
    z = _ridges()
    p = _profile(z)
    c = path_clearance(p.distance_m, z, 30.0, 10.0, None)
    obs = find_obstacles(c, p.lat_deg, p.lon_deg, z)
    assert [o.index for o in obs] == [60, 140]
    assert all(o.blocks_los and o.fresnel_fraction is None for o in obs)
    assert obs[0].elevation_m == pytest.approx(170.0)
    # the reported clearance is the geometry's at that point
    assert obs[1].clearance_m == pytest.approx(c.clearance_m[140])


def test_fresnel_criterion_flags_a_grazing_ridge_but_not_a_clear_path():
    z = np.full(201, 50.0)
    p = _profile(z)
    # tall masts: clear of the line of sight; a 20 km path at 900 MHz has r1 = 40.8 m mid-path
    c = path_clearance(p.distance_m, z, 200.0, 200.0, 900.0)
    assert find_obstacles(c, p.lat_deg, p.lon_deg, z) == []
    z2 = _ridges(peaks=((100, 180.0),))  # top 14 m under the ray: 0.35 r1
    c2 = path_clearance(p.distance_m, z2, 200.0, 200.0, 900.0)
    obs = find_obstacles(c2, p.lat_deg, p.lon_deg, z2)
    assert [o.index for o in obs] == [100]
    assert not obs[0].blocks_los and 0 < obs[0].fresnel_fraction < 0.6


def test_loss_along_the_path_is_itm_on_each_prefix():
    z = _ridges()
    d, loss = itm_loss_along_path_db(z, STEP_M, 30.0, 1.5, 900.0, max_points=25)
    assert d.size == 25 and d[-1] == pytest.approx((z.size - 1) * STEP_M)
    for k in (0, 7, 24):
        n = int(round(d[k] / STEP_M))
        ref = itm.p2p(z[: n + 1], STEP_M, 30.0, 1.5, 900.0).loss_db
        assert loss[k] == pytest.approx(ref, abs=1e-9)


def test_report_prints_names_not_codes():
    z = _ridges()
    p = _profile(z)
    c = path_clearance(p.distance_m, z, 30.0, 1.5, 900.0)
    rep = path_report(p, c, 900.0)
    ref = itm.p2p(z, STEP_M, 30.0, 1.5, 900.0)
    assert rep.itm.loss_db == pytest.approx(ref.loss_db)
    text = "\n".join(rep.lines())
    assert f"ITM mode: {ref.mode.name}" in text
    assert f"ITM basic transmission loss: {ref.loss_db:.1f} dB" in text
    assert "OBSTRUCTED" in text and "at 6.000 km" in text


def test_itm_enums_print_their_names():
    r = itm.p2p(np.full(101, 100.0), 100.0, 30.0, 2.0, 900.0)
    assert str(r.mode) == "LOS" and f"{r.mode}" == "LOS" and int(r.mode) == 1
    w = itm.Warning.TX_HORIZON_ANGLE | itm.Warning.RX_HORIZON_ANGLE
    assert str(w) == "TX_HORIZON_ANGLE|RX_HORIZON_ANGLE" and str(itm.Warning(0)) == "NONE"
    assert int(w) == 0x180


def test_a_path_itm_refuses_still_gets_its_geometry():
    # at 7 km altitude the surface refractivity falls below ITM's 150 N-units (its code 1021)
    z = _ridges() + 7000.0
    p = _profile(z)
    c = path_clearance(p.distance_m, z, 30.0, 10.0, 900.0)
    with pytest.raises(ITMError, match="1021"):
        itm.p2p(z, STEP_M, 30.0, 10.0, 900.0)
    rep = path_report(p, c, 900.0)
    assert rep.itm is None and "1021" in (rep.itm_error or "")
    text = "\n".join(rep.lines())
    assert "ITM: not computed" in text and "obstacles" in text and len(rep.obstacles) == 2
    # the caller's own bad parameters still raise
    with pytest.raises(ITMError, match="time_pct"):
        path_report(p, c, 900.0, time_pct=0.0)
