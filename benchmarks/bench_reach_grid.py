"""Does the headline depend on the map grid? The flagship at two grid resolutions.

Runs the flagship scenario (``examples/sino-korean-border.yaml``, variants ``jammers`` and
``no-jammers``) at each ``--grids`` resolution and prints, per grid, North Korea's people with at
least SMS / voice / data:

- ``samples``: yalu's headline, people counted where they live (settlement footprints, each sample
  on its own ITM profile to every site and jammer);
- ``nodes``: what yalu counted before issue 14, each settlement's whole population at the grid
  node nearest to it (recomputed here from the run's service-level map, duplicates by name as
  before, sections not merged);

with the convergence check at half the population spacing and the wall time of the run.

Terrain: the embedded 5' grid by default, or ``--terrain FILE`` (e.g. the 3" synthetic border
terrain of ``benchmarks/synthetic_terrain.py``), optionally restricted to ``--bbox`` (the grid's
box: only settlements inside it count).

Usage: python benchmarks/bench_reach_grid.py [--terrain FILE] [--bbox S,W,N,E] [--grids 120,60]
       [--spacing-m M] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from yalu.analysis.reach import settlement_nodes
from yalu.analysis.settlements import flag_duplicates
from yalu.scenario import adapt, parse_scenario
from yalu.scenario.models import BBox, Scenario
from yalu.scenario.runner import demo_scenario_text, run_scenario

LEVELS = ("sms", "voice", "data")


def _scenario(
    terrain: str | None, bbox: str | None, res: float, spacing_m: float | None = None
) -> Scenario:
    sc = parse_scenario(demo_scenario_text(), name="sino-korean-border.yaml")
    sc.variants = [v for v in sc.variants if v.name in ("jammers", "no-jammers")]
    if terrain:
        sc.terrain.source = "file"
        sc.terrain.path = str(Path(terrain).resolve())
    sc.grid.resolution_arcsec = res
    if spacing_m:
        sc.population.sample_spacing_m = spacing_m
    if bbox:
        s, w, n, e = (float(x) for x in bbox.split(","))
        sc.grid.bbox = BBox(south_deg=s, west_deg=w, north_deg=n, east_deg=e)
    sc.output.png = sc.output.geotiff = sc.output.report_html = sc.output.report_md = False
    return sc


def _nodes_headline(sc: Scenario, outcome: Any, country: str = "KP") -> dict[str, int]:
    """The pre-issue-14 count: every listed place's people at its nearest grid node."""
    terrain = adapt.open_scenario_terrain(sc)
    area = adapt.analysis_area(sc)
    grid = adapt.make_grid(sc, area, terrain)
    st, _ = adapt.load_settlements(sc, area)
    r, c, inside = settlement_nodes(grid, st.lat_deg, st.lon_deg)
    ok = inside & area.contains(st.lat_deg, st.lon_deg) & (flag_duplicates(st, 5.0) < 0)
    ok &= np.asarray(st.country == country)
    lv = np.asarray(outcome.service_level)[r, c]
    return {name: int(st.population[ok & (lv >= k)].sum()) for k, name in enumerate(LEVELS, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--terrain", default=None)
    ap.add_argument("--bbox", default=None, help="grid box S,W,N,E [deg]")
    ap.add_argument("--grids", default="120,60", help="grid resolutions [arcsec]")
    ap.add_argument(
        "--spacing-m",
        type=float,
        default=None,
        help="population.sample_spacing_m (default the scenario's: terrain, <= 500 m)",
    )
    ap.add_argument("--json", default=None, help="also write the figures here")
    a = ap.parse_args()
    rows = []
    for res in (float(x) for x in a.grids.split(",")):
        sc = _scenario(a.terrain, a.bbox, res, a.spacing_m)
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as d:
            out = run_scenario(sc, Path(d) / "out")
        wall = time.perf_counter() - t0
        row: dict[str, object] = {"grid_arcsec": res, "wall_s": round(wall, 1)}
        for oc in out.variants:
            name = oc.variant.name
            v = out.summary["variants"][name]
            kp = {lv: sum(p[lv] for p in v["population_within_reach"].get("KP", {}).values())
                  for lv in LEVELS}  # fmt: skip
            samp = v["sampling"]
            half = samp["half_spacing"] or {}
            row[name] = {
                "samples": kp,
                "nodes": _nodes_headline(sc, oc),
                "sampling_m": round(samp["spacing_m"], 1),
                "n_samples": samp["samples"],
                "half_spacing_kp": half.get("headline", {}).get("settlements", {}).get("KP"),
                "max_rel_diff_half": half.get("max_abs_relative_difference"),
            }
        rows.append(row)
        print(json.dumps(row), flush=True)
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
