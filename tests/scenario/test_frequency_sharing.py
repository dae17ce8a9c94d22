"""``propagation.frequency_sharing_mhz``: a mast's GSM sectors share one path-loss map."""

from pathlib import Path

import numpy as np

from yalu.scenario import parse_scenario
from yalu.scenario.runner import run_scenario

# one mast's three GSM sectors take three adjacent carriers (0.2 MHz apart), a second mast
# three others; LTE 1800 beside them, far in frequency
SCENARIO = """\
name: sharing
terrain: {{source: embedded}}
analysis_area:
  bbox: {{south_deg: 40.6, west_deg: 124.6, north_deg: 41.2, east_deg: 125.4}}
grid: {{resolution_arcsec: 120}}
propagation: {{max_distance_km: 35, engine_mode: exact, frequency_sharing_mhz: {span}}}
population: {{census: null, convergence_check: false}}
output: {{map_width_px: 300}}
sites:
  - {{id: a, lat_deg: 40.9, lon_deg: 124.9, height_m: 30,
     carriers: [{{technology: gsm, band: GSM900, azimuths_deg: [0, 120, 240]}},
                {{technology: lte, band: B3}}]}}
  - {{id: b, lat_deg: 41.05, lon_deg: 125.2, height_m: 40,
     carriers: [{{technology: gsm, band: GSM900, azimuths_deg: [0, 120, 240]}}]}}
variants:
  - {{name: base}}
"""


def test_sharing_cuts_the_maps_and_moves_the_layers_by_hundredths_of_a_db(tmp_path: Path):
    import rasterio

    runs = {span: run_scenario(parse_scenario(SCENARIO.format(span=span)), tmp_path / f"o{span}")
            for span in (0, 1)}  # fmt: skip
    own, shared = runs[0].summary["inputs"], runs[1].summary["inputs"]
    assert own["frequency_sharing_mhz"] == 0 and shared["frequency_sharing_mhz"] == 1
    # per mast: GSM DL + UL each one map instead of three; LTE DL + UL unchanged
    assert own["path_loss_maps"] == 2 * 3 * 2 + 2
    # the report says so, with how far the carriers moved (0.2 MHz: the outer sectors)
    said = [n for n in runs[1].summary["notes"] if "share one map" in n]
    assert len(said) == 1 and "at most 0.2 MHz" in said[0], runs[1].summary["notes"]
    assert not [n for n in runs[0].summary["notes"] if "share one map" in n]
    assert shared["path_loss_maps"] == 2 * 2 + 2
    n = 0
    for layer in ("rsrp_dbm", "ul_margin_db", "dl_sinr_db"):
        got = {}
        for span in (0, 1):
            with rasterio.open(tmp_path / f"o{span}" / "rasters" / "base" / f"{layer}.tif") as r:
                got[span] = r.read(1).astype(np.float64)
        assert np.array_equal(np.isnan(got[0]), np.isnan(got[1])), layer
        d = np.abs(got[1] - got[0])[np.isfinite(got[0])]
        n += d.size
        assert d.max() < 0.05 and np.median(d) < 0.01, (layer, d.max(), np.median(d))
        if layer == "rsrp_dbm":
            assert np.mean(d > 0) > 0.2  # not the same maps under another name
    assert n > 300
