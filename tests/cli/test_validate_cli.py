"""``yalu validate`` rejects what ``yalu run`` would reject, naming the field as written."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from yalu.cli.main import cli
from yalu.errors import ScenarioError
from yalu.scenario import load_scenario
from yalu.scenario.runner import run_scenario

BASE = """\
name: t
analysis_area:
  bbox: {south_deg: 40.0, west_deg: 124.0, north_deg: 41.0, east_deg: 125.0}
grid: {resolution_arcsec: 600}
propagation: {model: free_space, max_distance_km: 30}
population: {census: null}
sites:
  - id: a
    lat_deg: 40.5
    lon_deg: 124.5
    height_m: 30
    carriers: [{technology: gsm, band: GSM900}]
"""

CASES = [
    # 18 degrees south of the terrain's edge: 18 x 110.8 km of meridian arc near 28 N
    (
        "site 2,000 km outside the terrain",
        BASE.replace("lat_deg: 40.5", "lat_deg: 19.0"),
        "line 9: sites[0].lat_deg = 19.0: must be inside the terrain",
        18 * 110.8,
    ),
    (
        "site at the pole",
        BASE.replace("lat_deg: 40.5", "lat_deg: 90"),
        "line 9: sites[0].lat_deg = 90.0: must be within +-89 deg",
        None,
    ),
    (
        "jammers asked, none given",
        BASE + "variants: [{name: v, jammers: true}]\n",
        "line 13: variants[0].jammers = True: the scenario has no jammers",
        None,
    ),
    (
        "terrain not a raster",
        BASE + "terrain: {source: file, path: notes.txt}\n",
        "line 13: terrain.path = 'notes.txt': must be a terrain raster",
        None,
    ),
    (
        "no carrier of the variant",
        BASE + "variants: [{name: v, technologies: [lte]}]\n",
        "line 13: variants[0].technologies = ['lte']: no site has a carrier of lte",
        None,
    ),
]


@pytest.mark.parametrize(("what", "text", "message", "detail"), CASES, ids=[c[0] for c in CASES])
def test_validate_and_run_reject_alike(tmp_path, what, text, message, detail):
    p = tmp_path / "s.yaml"
    p.write_text(text)
    (tmp_path / "notes.txt").write_text("not a raster\n")
    r = CliRunner().invoke(cli, ["validate", str(p)])
    assert r.exit_code == 2, r.output
    assert f"Error: s.yaml: {message}" in r.output, r.output
    if detail:
        km = float(re.search(r"lies ([\d,]+) km outside", r.output).group(1).replace(",", ""))
        assert km == pytest.approx(detail, rel=0.005)
    assert "north_deg" not in r.output and "Traceback" not in r.output
    # run fails with the same message, before any output is written
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[").replace("]", r"\]")
                       .replace("(", r"\(").replace(")", r"\)").replace("+", r"\+")):  # fmt: skip
        run_scenario(load_scenario(p), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_validate_accepts_what_runs(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text(BASE)
    r = CliRunner().invoke(cli, ["validate", str(p)])
    assert r.exit_code == 0, r.output
    assert "valid: 1 sites (1 sector-carriers)" in r.output and "grid 7 x 7 nodes" in r.output
    res = run_scenario(load_scenario(p), tmp_path / "out")
    level = np.asarray(res.variants[0].service_level)
    assert level.shape == (7, 7)


def test_cache_source_names_the_field_and_the_shared_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("YALU_CACHE_DIR", str(tmp_path / "cache"))
    p = tmp_path / "s.yaml"
    p.write_text(BASE + "terrain: {source: cache}\n")
    r = CliRunner().invoke(cli, ["validate", str(p)])
    assert r.exit_code == 2
    assert "terrain.source = 'cache'" in r.output
    assert (
        str(Path(tmp_path / "cache" / "terrain")) in r.output and "yalu terrain fetch" in r.output
    )


def test_a_site_just_off_the_terrain_is_accepted(tmp_path):
    # 46.2 N is 22 km north of the embedded terrain (37-46 N): within max_distance_km (30)
    p = tmp_path / "s.yaml"
    p.write_text(BASE.replace("lat_deg: 40.5", "lat_deg: 46.2"))
    r = CliRunner().invoke(cli, ["validate", str(p)])
    assert r.exit_code == 0, r.output
    p.write_text(BASE.replace("lat_deg: 40.5", "lat_deg: 46.4"))  # 44 km: beyond its reach
    r = CliRunner().invoke(cli, ["validate", str(p)])
    assert r.exit_code == 2 and "within propagation.max_distance_km (30 km)" in r.output
