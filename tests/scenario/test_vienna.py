"""Outside the flagship: one LTE site in Vienna (issue 14 counted 3,577,019 people, the city
and its districts, and printed the DPRK census)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

from yalu.scenario import parse_scenario
from yalu.scenario.runner import run_scenario

SCENARIO = """\
name: vienna
terrain: {{source: file, path: {terrain}}}
analysis_area:
  bbox: {{south_deg: 47.95, west_deg: 16.0, north_deg: 48.45, east_deg: 16.8}}
grid: {{resolution_arcsec: 60}}
propagation: {{model: free_space, max_distance_km: 60}}
output: {{png: false, geotiff: false, report_html: false}}
handsets:
  - {{name: phone, technologies: [lte]}}
variants:
  - {{name: base, jammers: false, handset: phone}}
sites:
  - id: stephansplatz
    lat_deg: 48.2085
    lon_deg: 16.3731
    height_m: 40
    carriers:
      - {{technology: lte, band: B3, tx_power_dbm: 46, antenna_gain_dbi: 17}}
"""


def test_vienna_counted_once_and_no_foreign_census(tmp_path: Path) -> None:
    tif = tmp_path / "flat.tif"
    d = 30 / 3600
    with rasterio.open(
        tif,
        "w",
        driver="GTiff",
        height=96,
        width=144,
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=from_origin(15.8, 48.6, d, d),
    ) as ds:
        ds.write(np.full((96, 144), 180.0, np.float32), 1)
    sc = parse_scenario(SCENARIO.format(terrain=tif), name="vienna.yaml")
    assert sc.population.census == "embedded"  # the default: the DPRK table
    out = run_scenario(sc, tmp_path / "out")
    s = out.summary
    at = sum(p["sms"] for p in s["population_within_reach"]["AT"].values())
    listed = sum(s["variants"]["base"]["population_in_area"]["AT"].values())
    recs = s["settlements"]
    every = sum(r["population"] for r in recs)
    # the city of Vienna (admin-1 AT.09) counts once: the city, not the city plus its districts
    vienna = [r for r in recs if r["admin1_code"] == "AT.09" and r["section_of"] is None
              and r["duplicate_of"] is None]  # fmt: skip
    assert [r["name"] for r in vienna] == ["Vienna"]
    # what is left: Vienna and the 200-odd towns of Lower Austria in the box (~0.5 M people)
    assert 2_100_000 < listed < 2_300_000 and every > 3_500_000, (listed, every)
    assert at <= listed
    by = {r["name"]: r for r in recs}
    assert by["Favoriten"]["section_of"] == 2761369 and by["Vienna"]["section_of"] is None
    assert by["Schwechat"]["section_of"] is None
    # the DPRK census says nothing about Austria: no census table, no census source
    assert s["variants"]["base"]["census"] == [] and s["inputs"]["census_source"] is None
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert "census 2008" not in report and "Ryanggang" not in report  # no census table
    assert "Convergence check at half the spacing" in report
