"""Output grids: conventions, transforms, the lattice around a circle."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from yalu.errors import ParameterError
from yalu.geodesy.grid import Grid, grid_around, metres_per_degree


def test_nodes_and_transform_roundtrip():
    g = Grid(41.5, 24.0, 0.01, 0.02, 5, 7)
    assert g.shape == (5, 7)
    np.testing.assert_allclose(g.lats(), [41.5, 41.49, 41.48, 41.47, 41.46])
    assert g.east_deg == pytest.approx(24.12) and g.south_deg == pytest.approx(41.46)
    a, b, c, d, e, f = g.transform
    assert (a, b, d, e) == (0.02, 0.0, 0.0, -0.01)
    assert c == pytest.approx(23.99) and f == pytest.approx(41.505)
    g2 = Grid.from_transform(g.transform, g.shape)
    assert g2.north_deg == pytest.approx(g.north_deg) and g2.west_deg == pytest.approx(g.west_deg)
    sub = g.subgrid(2, 3, 2, 4)
    assert sub.north_deg == pytest.approx(41.48) and sub.west_deg == pytest.approx(24.06)
    assert sub.shape == (2, 4)


def test_metres_per_degree_against_pyproj():
    geod = Geod(ellps="WGS84")
    for lat in (0.0, 41.4, 60.0):
        m_lat, m_lon = metres_per_degree(lat)
        assert m_lat == pytest.approx(
            geod.inv(24, lat - 0.0005, 24, lat + 0.0005)[2] * 1000, rel=1e-6
        )
        assert m_lon == pytest.approx(geod.inv(23.9995, lat, 24.0005, lat)[2] * 1000, rel=1e-6)


def test_grid_around_holds_the_circle_on_the_reference_lattice():
    geod = Geod(ellps="WGS84")
    d = 1 / 1200
    g = grid_around(41.418, 24.178, 50e3, north_deg=43.0, west_deg=22.0, dlat_deg=d, dlon_deg=d)
    # nodes of the reference lattice
    assert (43.0 - g.north_deg) / d == pytest.approx(round((43.0 - g.north_deg) / d), abs=1e-6)
    assert (g.west_deg - 22.0) / d == pytest.approx(round((g.west_deg - 22.0) / d), abs=1e-6)
    # every point of the circle lies inside the node box
    az = np.linspace(0, 360, 721)
    lon, lat, _ = geod.fwd(
        np.full(az.size, 24.178), np.full(az.size, 41.418), az, np.full(az.size, 50e3)
    )
    assert lat.max() <= g.north_deg and lat.min() >= g.south_deg
    assert lon.min() >= g.west_deg and lon.max() <= g.east_deg
    # and the box is tight (a couple of nodes of margin)
    assert g.north_deg - lat.max() < 3 * d and lon.min() - g.west_deg < 3 * d


def test_bad_grids():
    with pytest.raises(ParameterError, match="dlat_deg"):
        Grid(41.0, 24.0, 0.0, 0.01, 3, 3)
    with pytest.raises(ParameterError, match="n_cols"):
        Grid(41.0, 24.0, 0.01, 0.01, 3, 0)
    with pytest.raises(ParameterError, match="north_deg"):
        Grid(95.0, 24.0, 0.01, 0.01, 3, 3)
    with pytest.raises(ParameterError, match="transform"):
        Grid.from_transform((0.01, 0.1, 24.0, 0.0, -0.01, 41.0), (3, 3))
    with pytest.raises(ParameterError, match="radius_m"):
        grid_around(41.0, 24.0, 0.0, north_deg=42, west_deg=23, dlat_deg=0.01, dlon_deg=0.01)
