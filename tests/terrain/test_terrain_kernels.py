"""The private numba kernels: bilinear_grid (called by the coverage engine) and fill_voids."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit
from terrain_synth import reference_bilinear

from yalu.terrain._kernels import (
    all_finite,
    bilinear_grid,
    bilinear_index,
    bilinear_inside,
    fill_voids,
)


def _grid(rng, nr=40, nc=55):  # type: ignore[no-untyped-def]
    return rng.normal(500, 200, size=(nr, nc))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bilinear_grid_matches_reference(dtype) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(10)
    z = _grid(rng).astype(dtype)
    north, west, dlat, dlon = 42.0, 124.0, 0.01, 0.015
    lat_nodes = north - np.arange(z.shape[0]) * dlat
    lon_nodes = west + np.arange(z.shape[1]) * dlon
    lat = rng.uniform(lat_nodes[-1], north, 5000)
    lon = rng.uniform(west, lon_nodes[-1], 5000)
    out = np.empty(lat.size)
    bilinear_grid(z, north, west, dlat, dlon, lat, lon, out)
    tol = 1e-2 if dtype == np.float32 else 1e-7  # [m]; coordinate rounding only
    np.testing.assert_allclose(
        out, reference_bilinear(z, lat_nodes, lon_nodes, lat, lon), atol=tol, rtol=0
    )


def test_bilinear_grid_edges_nodes_and_outside() -> None:
    z = np.arange(12.0).reshape(3, 4)  # row 0 north
    lat = np.array([42.0, 41.98, 42.0, 41.99, 42.001, 41.97, 42.0, 41.985])
    lon = np.array([124.0, 124.03, 124.03, 124.015, 124.0, 124.0, 124.031, 124.0])
    out = np.empty(lat.size)
    bilinear_grid(z, 42.0, 124.0, 0.01, 0.01, lat, lon, out)
    assert out[0] == 0.0  # north-west node
    assert out[1] == 11.0  # south-east corner node
    assert out[2] == 3.0  # north-east node
    assert out[3] == pytest.approx(5.5)  # row 1, column 1.5: (5 + 6) / 2
    assert np.isnan(out[4]) and np.isnan(out[5]) and np.isnan(out[6])
    assert out[7] == pytest.approx(6.0)  # halfway between rows 1 and 2 at column 0: (4 + 8)/2


def test_bilinear_grid_nan_node_propagates() -> None:
    z = np.ones((3, 3))
    z[1, 1] = np.nan
    out = np.empty(2)
    bilinear_grid(z, 1.0, 0.0, 0.5, 0.5, np.array([0.75, 0.0]), np.array([0.25, 0.0]), out)
    assert np.isnan(out[0]) and out[1] == 1.0


def test_bilinear_grid_callable_from_user_njit() -> None:
    @njit
    def caller(z, lat, lon):  # type: ignore[no-untyped-def]
        out = np.empty(lat.shape[0])
        bilinear_grid(z, 1.0, 0.0, 0.5, 0.5, lat, lon, out)
        return out

    z = np.array([[0.0, 1.0], [2.0, 3.0]])  # nodes at lat 1, 0.5 and lon 0, 0.5
    out = caller(z, np.array([0.75]), np.array([0.25]))
    assert out[0] == pytest.approx(1.5)


def test_fill_voids_counts_and_fills() -> None:
    lat = np.arange(30.0)[:, None]
    lon = np.arange(40.0)[None, :]
    z = 3.0 * lat + 2.0 * lon
    z1 = z.copy()
    z1[10, 10] = np.nan
    assert fill_voids(z1) == 1
    assert z1[10, 10] == pytest.approx(z[10, 10])  # mean of the 8 neighbours of a plane
    z2 = z.copy()
    z2[5:15, 20:26] = np.nan
    z2[0, 0] = np.nan  # corner void
    assert fill_voids(z2) == 61
    assert not np.isnan(z2).any()
    assert (
        z2[5:15, 20:26].min() >= z[4:16, 19:27].min()
        and z2[5:15, 20:26].max() <= z[4:16, 19:27].max()
    )
    z3 = np.full((4, 4), np.nan)
    assert fill_voids(z3) == 0 and np.isnan(z3).all()


@njit(cache=True)
def _both(z, fi, fj):  # type: ignore[no-untyped-def]
    a = np.empty(fi.shape[0])
    b = np.empty(fi.shape[0])
    for k in range(fi.shape[0]):
        a[k] = bilinear_index(z, fi[k], fj[k])
        b[k] = bilinear_inside(z.reshape(-1), np.uint64(z.shape[1]), fi[k], fj[k])
    return a, b


def test_bilinear_inside_is_bilinear_index_bit_for_bit() -> None:
    """The unchecked form used between profile anchors, including points exactly on node rows
    and columns (where bilinear_index uses one row/column and bilinear_inside weights the next
    one by zero)."""
    rng = np.random.default_rng(4)
    z = np.round(_grid(rng), 1)
    nr, nc = z.shape
    fi = rng.uniform(0, nr - 1 - 1e-9, 4000)
    fj = rng.uniform(0, nc - 1 - 1e-9, 4000)
    fi[::3] = np.floor(fi[::3])  # on a node row
    fj[::5] = np.floor(fj[::5])  # on a node column
    a, b = _both(z, fi, fj)
    np.testing.assert_array_equal(a, b)
    assert np.all(np.isfinite(a))


def test_all_finite() -> None:
    z = np.ones((7, 9))
    assert all_finite(z)
    for v in (np.nan, np.inf, -np.inf):
        for i, j in ((0, 0), (6, 8), (3, 4), (2, 7)):  # the 4-wide main loop and the tail
            w = z.copy()
            w[i, j] = v
            assert not all_finite(w)
    assert all_finite(np.ones((3, 3), dtype=np.float32))
