"""The exact-mode sampling pass (``coverage._kernels._sample_profile``).

On a void-free window it runs an unchecked loop (flat unsigned indices, the mean-height sum in
its own run of samples); elsewhere the checked loop. Both must give the same bits: the heights,
the mean-height sum (the same terms in the same order, whichever pieces the 10 % window edges
fall in), the range, and mean_path_height's own sum.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from yalu.coverage._kernels import _sample_profile
from yalu.geodesy.kernels import inverse, profile_pieces
from yalu.propagation.itm_kernels import mean_path_height

NORTH, WEST, D = 42.0, 125.0, 3.0 / 3600.0


def _terrain(rng: np.random.Generator) -> np.ndarray:
    n = 1400
    y, x = np.mgrid[0:n, 0:n] / n
    z = 600 + 300 * np.sin(7 * x) * np.cos(5 * y) + rng.normal(0, 25, (n, n))
    return np.ascontiguousarray(z)


def _sample(
    z: np.ndarray, la1: float, lo1: float, n: int, clean: bool, k_end: int | None = None
) -> tuple[bool, float, float, float, np.ndarray]:
    la0, lo0 = NORTH - 600 * D, WEST + 600 * D
    length, az = inverse(la0, lo0, la1, lo1)
    m = profile_pieces(length) + 1
    seg_k = np.empty(m + 1, dtype=np.int64)
    coef = np.empty((m + 1, 8))
    pz = np.full(n + 1, -12345.0)
    z_site = z[600, 600]
    ok, total, lo, hi = _sample_profile(z, NORTH, WEST, D, D, la0, lo0, z_site, la1, lo1, n, az,
                                        length, seg_k, coef, pz, clean,
                                        n if k_end is None else k_end)  # fmt: skip
    return ok, total, lo, hi, pz


@pytest.mark.parametrize("clean", [True, False])
def test_profile_taken_up_to_a_sample_has_the_whole_profiles_bits(clean: bool) -> None:
    """Hybrid mode's radials stop at the sample their farthest node reads: each sample taken
    is the whole profile's (the cubic pieces are the whole path's), and none beyond."""
    rng = np.random.default_rng(13)
    z = _terrain(rng)
    for _ in range(20):
        ang = rng.uniform(0, 2 * math.pi)
        r = rng.uniform(100, 590)
        la1 = NORTH - (600 + r * math.cos(ang)) * D
        lo1 = WEST + (600 + r * math.sin(ang)) * D
        n = int(3 * r) + 1
        whole = _sample(z, la1, lo1, n, clean)[4]
        for k_end in (0, 1, n // 3, n - 1, n, int(rng.integers(2, n))):
            part = _sample(z, la1, lo1, n, clean, k_end)[4]
            assert part[: k_end + 1].tobytes() == whole[: k_end + 1].tobytes()
            assert np.all(part[k_end + 1 :] == -12345.0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_unchecked_loop_gives_the_checked_loops_bits(dtype: type) -> None:
    rng = np.random.default_rng(11)
    z = _terrain(rng).astype(dtype)
    cases = 0
    for _ in range(60):
        ang = rng.uniform(0, 2 * math.pi)
        r = rng.uniform(20, 590)
        la1 = NORTH - (600 + r * math.cos(ang)) * D
        lo1 = WEST + (600 + r * math.sin(ang)) * D
        # spacings from coarser to finer than the grid: the window edges fall anywhere in the
        # cubic pieces, and pieces shorter than 10 % of the profile occur
        for n in (3, 17, int(r), int(4 * r) + 1):
            a = _sample(z, la1, lo1, n, True)
            b = _sample(z, la1, lo1, n, False)
            assert a[0] and b[0]
            np.testing.assert_array_equal(a[4], b[4])
            assert a[1:4] == b[1:4]
            p10 = int(0.1 * n)
            # the sum is mean_path_height's, term for term
            assert a[1] / (n - 2 * p10 + 1) == mean_path_height(a[4], 0, n)
            assert a[2] == a[4].min() and a[3] == a[4].max()
            cases += 1
    assert cases == 240


def test_checked_loop_reports_a_void() -> None:
    rng = np.random.default_rng(12)
    z = _terrain(rng)
    la1, lo1 = NORTH - 600 * D, WEST + 1000 * D  # due east of the site
    z[598:603, 800] = np.nan
    ok, *_ = _sample(z, la1, lo1, 400, False)
    assert not ok
    ok, *_ = _sample(z, NORTH - 1000 * D, WEST + 600 * D, 400, False)  # due south: clear
    assert ok
