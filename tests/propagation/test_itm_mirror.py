"""ITM's profile analysis mirrored: the reversed profile (heights swapped) has the forward
geometry with its ends swapped, except where a discrete choice lies within rounding of its
threshold, which ``profile_geometry_mirrors`` flags (``G_MIRRORS``). The coverage engine's
reverse jobs rely on it, so it is checked against the reversed profile itself: on the NTIA
reference profiles, on hypothesis profiles and on an analytic line-of-sight case."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yalu.propagation import itm_kernels as K

SHARED_ITM = Path(__file__).parents[2] / ".." / "shared" / "itm"
FIELDS = [K.G_D_M, K.G_N_S, K.G_GAMMA_E, K.G_THETA_TX, K.G_THETA_RX, K.G_D_HZN_TX,
          K.G_D_HZN_RX, K.G_H_E_TX, K.G_H_E_RX, K.G_DELTA_H]  # fmt: skip
LOSS_TOL_DB = 1e-6


Pair = tuple[np.ndarray, np.ndarray, np.ndarray, float, float]


def _pair(prof: np.ndarray, step: float, h1: float, h2: float, n0: float, f_mhz: float,
          kw: dict | None = None) -> Pair:  # fmt: skip
    """(forward geometry, reversed profile's geometry, forward mirrored, loss of the reversed
    profile, loss from the mirrored geometry), the reverse with terminal 1 at the far end."""
    kw = kw or {}
    n = prof.size - 1
    scratch = np.empty(K.SCRATCH_LEN)
    gf, gr, gm = np.empty(K.G_LEN), np.empty(K.G_LEN), np.empty(K.G_LEN)
    out = np.empty(K.OUT_LEN)
    assert K.p2p_geometry(prof, 0, n, step, h1, h2, n0, scratch, gf)
    assert K.p2p_geometry(prof[::-1].copy(), 0, n, step, h2, h1, n0, scratch, gr)
    K.mirror_geometry(gf, gm)
    args = (kw.get("climate", 5), n0, kw.get("polarization", 1), kw.get("epsilon", 15.0),
            kw.get("sigma", 0.005), kw.get("mdvar", 12), kw.get("time_pct", 50.0),
            kw.get("location_pct", 50.0), kw.get("situation_pct", 50.0), out)  # fmt: skip
    l_rev = K.p2p_from_geometry(gr, n, step, h2, h1, f_mhz, *args)
    l_mir = K.p2p_from_geometry(gm, n, step, h2, h1, f_mhz, *args)
    return gf, gr, gm, l_rev, l_mir


def _geometry_close(gm: np.ndarray, gr: np.ndarray) -> bool:
    a, b = gm[FIELDS], gr[FIELDS]
    return bool(np.all(np.abs(a - b) <= 1e-9 * np.maximum(np.abs(b), 1.0)))


@pytest.mark.skipif(
    not (SHARED_ITM / "p2p_vectors.jsonl").exists(),
    reason=f"shared ITM reference vectors not found at {SHARED_ITM}",
)
def test_mirror_flag_on_ntia_reference_profiles() -> None:
    lines = (SHARED_ITM / "p2p_vectors.jsonl").read_text().splitlines()
    fp_ids = set((SHARED_ITM / "fp_sensitive_ids.txt").read_text().split())
    n_cases = n_clear = n_moved = 0
    flagged_ids = set()
    for line in lines:
        c = json.loads(line)
        pfl = c.get("pfl")
        if not pfl or c["expected"]["rtn"] >= 1000:
            continue
        n = int(pfl[0])
        prof = np.asarray(pfl[2 : n + 3], dtype=float)
        kw = {k: c[k] for k in ("climate", "polarization", "epsilon", "sigma", "mdvar",
                                "time_pct", "location_pct", "situation_pct")}  # fmt: skip
        gf, gr, gm, l_rev, l_mir = _pair(prof, float(pfl[1]), c["h_tx_m"], c["h_rx_m"],
                                         c["N_0"], c["f_MHz"], kw)  # fmt: skip
        n_cases += 1
        # the flag is a property of the path, whichever end is terminal 1
        assert gf[K.G_MIRRORS] == gr[K.G_MIRRORS], c["id"]
        moved = not abs(l_rev - l_mir) <= LOSS_TOL_DB
        n_moved += moved
        if gf[K.G_MIRRORS] != 0.0:
            n_clear += 1
            assert not moved, (c["id"], l_rev, l_mir)
            assert _geometry_close(gm, gr), (c["id"], gm, gr)
        else:
            flagged_ids.add(c["id"])
    assert n_cases > 1500
    # the reference set holds real threshold cases (the check has teeth) ...
    assert n_moved >= 5
    # ... among them the case whose result moves with fused multiply-adds
    assert fp_ids <= flagged_ids
    # and the flag is not raised everywhere
    assert n_clear > 0.7 * n_cases


@st.composite
def _terrain(draw: st.DrawFn) -> tuple[np.ndarray, float]:
    n = draw(st.integers(min_value=1, max_value=600))
    step = draw(st.sampled_from([30.0, 70.22325507484162, 90.0, 92.6, 250.0]))
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    rough = draw(st.floats(min_value=0.0, max_value=40.0))
    whole = draw(st.booleans())
    rng = np.random.default_rng(seed)
    prof = 200.0 + np.cumsum(rng.normal(0.0, rough, n + 1))
    return (np.round(prof) if whole else prof), step


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    _terrain(),
    st.sampled_from([1.5, 3.0, 10.0, 30.0, 40.0, 120.0]),
    st.sampled_from([1.5, 3.0, 10.0, 30.0]),
    st.sampled_from([450.0, 900.0, 1800.0, 2600.0]),
)
def test_clear_paths_mirror(tp: tuple[np.ndarray, float], h1: float, h2: float,
                            f_mhz: float) -> None:  # fmt: skip
    prof, step = tp
    gf, gr, gm, l_rev, l_mir = _pair(prof, step, h1, h2, 301.0, f_mhz)
    assert gf[K.G_MIRRORS] == gr[K.G_MIRRORS]
    if gf[K.G_MIRRORS] != 0.0:
        assert abs(l_rev - l_mir) <= LOSS_TOL_DB
        assert _geometry_close(gm, gr)


def test_line_of_sight_window_on_a_sample_is_flagged() -> None:
    # flat ground in line of sight: the horizons are the path length d, so the fit window
    # starts at d / 10, on sample n / 10 when n is a multiple of 10, where rounding decides
    step = 70.22325507484162
    for n, expect_clear in ((60, False), (61, True), (63, True), (70, False)):
        prof = np.full(n + 1, 250.0)
        gf, gr, gm, l_rev, l_mir = _pair(prof, step, 40.0, 1.5, 301.0, 900.0)
        assert bool(gf[K.G_MIRRORS] != 0.0) is expect_clear, n
        if expect_clear:
            assert abs(l_rev - l_mir) <= LOSS_TOL_DB


def test_mirror_geometry_swaps_the_ends() -> None:
    g = np.arange(K.G_LEN, dtype=float) + 1.0
    m = np.empty(K.G_LEN)
    K.mirror_geometry(g, m)
    for a, b in ((K.G_THETA_TX, K.G_THETA_RX), (K.G_D_HZN_TX, K.G_D_HZN_RX),
                 (K.G_H_E_TX, K.G_H_E_RX)):  # fmt: skip
        assert m[a] == g[b] and m[b] == g[a]
    for i in (K.G_OK, K.G_D_M, K.G_N_S, K.G_GAMMA_E, K.G_DELTA_H, K.G_MIRRORS):
        assert m[i] == g[i]
    back = np.empty(K.G_LEN)
    K.mirror_geometry(m, back)
    assert np.array_equal(back, g)


def test_delta_h_sample_count_on_its_threshold_is_flagged() -> None:
    # flat ground in line of sight, 15 (h_tx + h_rx) = 7 steps: delta_h's window is n - 7 steps
    # long and ITM resamples it at 10 p10 - 5 points, p10 = int(0.1 (w + 8)), a whole 10.0 at
    # n = 99 (the window ends themselves are 6.75 and 0.25 steps from the ends: clear)
    step = 15.0 * (40.0 + 1.5) / 7.0
    for n, expect_clear in ((99, False), (98, True), (100, True)):
        prof = np.full(n + 1, 120.0)
        gf, _gr, _gm, l_rev, l_mir = _pair(prof, step, 40.0, 1.5, 301.0, 900.0)
        assert bool(gf[K.G_MIRRORS] != 0.0) is expect_clear, n
        if expect_clear:
            assert abs(l_rev - l_mir) <= LOSS_TOL_DB


def _tied_ridges(n: int, step: float, h_tx: float, i1: int, i2: int) -> np.ndarray:
    """Flat ground with two ridges whose elevation angles from the transmitter are equal (to
    rounding) under the profile's own effective curvature."""
    prof = np.full(n + 1, 100.0)
    prof[i1] = 180.0
    z_tx = prof[0] + h_tx
    for _ in range(5):  # the curvature follows the mean height, which the ridge moves a little
        gamma = K.effective_curvature(K.surface_refractivity(301.0, K.mean_path_height(prof, 0, n)))
        x1, x2 = i1 * step, i2 * step
        theta = (prof[i1] - z_tx) / x1 - x1 * gamma / 2.0
        prof[i2] = z_tx + x2 * (theta + x2 * gamma / 2.0)
    return prof


def test_horizon_near_tie_is_flagged() -> None:
    # (window ends off whole samples: 450 m / 91.3 m, 0.9 x 101 samples, 22.5 m / 91.3 m)
    n, step, h_tx = 400, 91.3, 30.0
    prof = _tied_ridges(n, step, h_tx, 101, 213)
    gf, *_ = _pair(prof, step, h_tx, 1.5, 301.0, 900.0)
    assert gf[K.G_MIRRORS] == 0.0
    # the same ridges 2 m apart in angle terms: a clear horizon
    prof[213] -= 2.0
    gf, _gr, gm, l_rev, l_mir = _pair(prof, step, h_tx, 1.5, 301.0, 900.0)
    assert gf[K.G_MIRRORS] == 1.0
    assert abs(l_rev - l_mir) <= LOSS_TOL_DB
    assert gf[K.G_D_HZN_TX] == pytest.approx(101 * step)
