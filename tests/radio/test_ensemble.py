"""BudgetEnsemble: the same service levels as link_budget for shifted sites, handset, jammers."""

import math

import numpy as np
import pytest

from yalu.geodesy.grid import Grid
from yalu.radio import Handset, Jammer, Site, default_technology_profiles
from yalu.radio.ensemble import BudgetEnsemble, Offsets
from yalu.radio.layers import LayerInputs, compute_layers, split_jammer_ranges

C = 299_792_458.0
GRID = Grid(north_deg=40.3, west_deg=123.7, dlat_deg=0.02, dlon_deg=0.02, n_rows=31, n_cols=31)
PROFILES = default_technology_profiles()


def hata_like(lat, lon, h_tx, h_rx, f, grid):
    # a steep loss law (35 log d) so that the levels change inside the grid
    la, lo = np.meshgrid(grid.lats(), grid.lons(), indexing="ij")
    d = np.hypot((la - lat) * 111e3, (lo - lon) * 85e3) + 50.0
    return 20 * np.log10(f) - 30 + 35 * np.log10(d) + 0.1 * (h_tx < 25)


def network():
    sites = []
    for i, (la, lo) in enumerate([(40.0, 124.0), (40.15, 124.2), (39.85, 124.25)]):
        for az in (0, 120, 240):
            sites.append(
                Site(
                    id=f"L{i}/{az}",
                    lat_deg=la,
                    lon_deg=lo,
                    height_m=30,
                    operator="op",
                    technology="lte",
                    band="B3",
                    bandwidth_mhz=10,
                    dl_frequency_mhz=1815,
                    pattern={"kind": "sector", "azimuth_deg": az},
                )
            )
            sites.append(
                Site(
                    id=f"G{i}/{az}",
                    lat_deg=la,
                    lon_deg=lo,
                    height_m=30,
                    operator="op",
                    technology="gsm",
                    band="GSM900",
                    dl_frequency_mhz=935.2 + 0.2 * len(sites),
                    pattern={"kind": "sector", "azimuth_deg": az},
                )
            )
    jams = [
        Jammer(
            id="J",
            lat_deg=40.05,
            lon_deg=124.1,
            height_m=20,
            eirp_dbm=50,
            ranges_mhz=[(925, 960), (1805, 1880)],
            duty_factor=0.5,
        )
    ]
    return sites, jams


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_levels_equal_link_budget_of_the_shifted_network(seed):
    sites, jams = network()
    h = Handset()
    rng = np.random.default_rng(seed)
    n = len(sites)
    parts = split_jammer_ranges(jams)
    d_tx = rng.normal(0, 4, n)
    d_gain = rng.normal(0, 2, n)
    d_body = float(rng.uniform(-3, 3))
    d_jam = rng.normal(0, 6, len(parts))
    off = Offsets(d_tx + d_gain, d_gain, d_gain, -d_body, d_jam)
    mask = np.zeros(GRID.shape, bool)
    mask[::2, :] = True
    ens = BudgetEnsemble(sites, h, PROFILES, LayerInputs(sites, h, parts, GRID, hata_like), mask)
    shifted = [
        s.model_copy(
            update={"tx_power_dbm": s.tx_power_dbm + a, "antenna_gain_dbi": s.antenna_gain_dbi + g}
        )
        for s, a, g in zip(sites, d_tx, d_gain, strict=True)
    ]
    hs = h.model_copy(update={"body_loss_db": h.body_loss_db + d_body})
    js = [
        j.model_copy(update={"eirp_dbm": j.eirp_dbm + float(d)})
        for j, d in zip(parts, d_jam, strict=True)
    ]
    for jam_on in (True, False):
        ref = compute_layers(shifted, hs, PROFILES, js if jam_on else [], [], GRID, hata_like)
        got = ens.grid_levels(GRID.shape, ens.levels(off, jammers=jam_on))
        want = np.where(mask, ref.service_level, 0)
        assert np.array_equal(got, want)
        assert len(np.unique(want)) >= 3  # the case exercises several levels
    # nominal
    ref0 = compute_layers(sites, h, PROFILES, parts, [], GRID, hata_like)
    assert np.array_equal(
        ens.grid_levels(GRID.shape, ens.levels()), np.where(mask, ref0.service_level, 0)
    )
    assert math.isfinite(float(off.handset_db))
