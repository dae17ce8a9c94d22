"""Scenario files: good files load, bad files name the file, line, field, value and what is
allowed."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from yalu.errors import ScenarioError
from yalu.scenario import load_scenario, parse_scenario, resolve_sites, scenario_hash

ROOT = Path(__file__).parents[2]

GOOD = """\
name: test
analysis_area:
  bbox: {south_deg: 40.0, west_deg: 124.0, north_deg: 41.0, east_deg: 125.0}
sites:
  - id: s1
    lat_deg: 40.5
    lon_deg: 124.5
    height_m: 30
    carriers:
      - technology: lte
        band: B3
        tx_power_dbm: 46
        azimuths_deg: [0, 120, 240]
      - technology: gsm
        band: GSM900
handsets:
  - name: phone
    technologies: [gsm, lte]
jammers:
  - id: j1
    lat_deg: 40.6
    lon_deg: 124.6
    height_m: 20
    eirp_dbm: 50
    bands_mhz: [[925, 960]]
restricted_zones:
  - label: monument
    lat_deg: 40.6
    lon_deg: 124.6
    radius_m: 300
    illustrative: true
variants:
  - name: with
  - name: without
    jammers: false
    handset: phone
"""


def test_good_file_and_defaults(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text(GOOD)
    sc = load_scenario(p)
    assert sc.sites[0].carriers[0].band == "B3"
    assert sc.sites[0].carriers[0].frequencies_mhz() == (1842.5, 1747.5)
    assert sc.sites[0].carriers[1].frequencies_mhz() == (942.5, 897.5)
    assert sc.propagation.model == "itm" and sc.propagation.time_pct == 50
    assert sc.terrain.source == "embedded"
    assert sc.handset(None).name == "phone"
    assert [v.name for v in sc.variants] == ["with", "without"]
    assert scenario_hash(sc) == scenario_hash(load_scenario(p))
    # the hash follows the content, not the formatting
    p2 = tmp_path / "s2.yaml"
    p2.write_text("# a comment\n" + GOOD)
    assert scenario_hash(load_scenario(p2)) == scenario_hash(sc)
    p3 = tmp_path / "s3.yaml"
    p3.write_text(GOOD.replace("height_m: 30", "height_m: 31"))
    assert scenario_hash(load_scenario(p3)) != scenario_hash(sc)


def test_flagship_example_is_valid():
    sc = load_scenario(ROOT / "examples" / "sino-korean-border.yaml")
    techs_bands = {(c.technology, c.band) for s in sc.sites for c in s.carriers}
    assert ("gsm", "GSM900") in techs_bands and ("lte", "B3") in techs_bands
    assert any(b in {"B39", "B40", "B41"} for _, b in techs_bands)
    assert {j.name for j in sc.jammers} >= {
        "Sinuiju",
        "Manpo",
        "Hyesan",
        "Musan",
        "Hoeryong",
        "Onsong",
        "Namyang",
    }
    assert all(z.illustrative and z.radius_m == 300 for z in sc.restricted_zones)
    assert all(s.assumption for s in sc.sites) and all(j.assumption for j in sc.jammers)
    names = {v.name: v for v in sc.variants}
    assert any(not v.jammers for v in names.values()) and any(v.jammers for v in names.values())
    techs = {tuple(sc.handset(v.handset).technologies) for v in sc.variants}
    assert ("gsm",) in techs and ("lte",) in techs


def _line_of(text, needle):
    i = text.index(needle)
    return text.count("\n", 0, i + len(needle) - len(needle.lstrip("\n"))) + 1


# (description, old text, new text, field path, message regex, line needle (in the new text))
BAD = [
    (
        "negative height",
        "height_m: 30",
        "height_m: -5",
        "sites[0].height_m = -5",
        r"must be > 0",
        "height_m: -5",
    ),
    (
        "latitude > 90",
        "lat_deg: 40.5",
        "lat_deg: 95",
        "sites[0].lat_deg = 95",
        r"must be <= 90",
        "lat_deg: 95",
    ),
    (
        "longitude text",
        "lon_deg: 124.5",
        "lon_deg: east",
        "sites[0].lon_deg = 'east'",
        r"must be a number",
        "lon_deg: east",
    ),
    (
        "unknown band",
        "band: B3",
        "band: B99",
        "sites[0].carriers[0].band = 'B99'",
        r"unknown lte band; known: .*B3",
        "band: B99",
    ),
    (
        "band of another technology",
        "band: GSM900",
        "band: B39",
        "sites[0].carriers[1].band = 'B39'",
        r"unknown gsm band",
        "band: B39",
    ),
    (
        "unknown technology",
        "technology: lte",
        "technology: wimax",
        "sites[0].carriers[0].technology = 'wimax'",
        r"must be one of 'gsm', 'umts', 'lte'",
        "technology: wimax",
    ),
    (
        "typo field",
        "tx_power_dbm: 46",
        "tx_power_dbmm: 46",
        "sites[0].carriers[0].tx_power_dbmm = 46",
        r"unknown field; allowed: .*tx_power_dbm",
        "tx_power_dbmm",
    ),
    (
        "power too high",
        "tx_power_dbm: 46",
        "tx_power_dbm: 99",
        "sites[0].carriers[0].tx_power_dbm = 99",
        r"must be <= 70",
        "tx_power_dbm: 99",
    ),
    (
        "azimuth 360",
        "azimuths_deg: [0, 120, 240]",
        "azimuths_deg: [0, 360]",
        "sites[0].carriers[0].azimuths_deg",
        r"azimuth 360.* must be in \[0, 360\)",
        "azimuths_deg: [0, 360]",
    ),
    (
        "no carriers",
        "    carriers:\n      - technology: lte",
        "    carriers: []\n    x_carriers:\n      - technology: lte",
        "sites[0].carriers",
        r"at least 1 item",
        "carriers: []",
    ),
    (
        "jammer band reversed",
        "bands_mhz: [[925, 960]]",
        "bands_mhz: [[960, 925]]",
        "jammers[0].bands_mhz",
        r"0 < low < high",
        "bands_mhz: [[960, 925]]",
    ),
    (
        "jammer duty 0",
        "    bands_mhz: [[925, 960]]",
        "    bands_mhz: [[925, 960]]\n    duty_factor: 0",
        "jammers[0].duty_factor = 0",
        r"must be > 0",
        "duty_factor: 0",
    ),
    (
        "zone radius 0",
        "radius_m: 300",
        "radius_m: 0",
        "restricted_zones[0].radius_m = 0",
        r"must be > 0",
        "radius_m: 0",
    ),
    (
        "zone without radius",
        "    radius_m: 300\n",
        "",
        "restricted_zones[0]",
        r"a circle needs lat_deg, lon_deg and radius_m",
        "label: monument",
    ),
    (
        "bbox reversed",
        "south_deg: 40.0, west_deg: 124.0, north_deg: 41.0",
        "south_deg: 41.0, west_deg: 124.0, north_deg: 40.0",
        "analysis_area.bbox",
        r"north_deg \(40.0\) must be > south_deg",
        "bbox:",
    ),
    (
        "two areas",
        "analysis_area:\n",
        "analysis_area:\n  within_km_of_border: {distance_km: 20}\n",
        "analysis_area",
        r"exactly one of bbox, polygon, within_km_of_border",
        "analysis_area:",
    ),
    (
        "border distance 0",
        (
            "analysis_area:\n"
            "  bbox: {south_deg: 40.0, west_deg: 124.0, north_deg: 41.0, east_deg: 125.0}"
        ),
        "analysis_area:\n  within_km_of_border: {distance_km: 0}",
        "analysis_area.within_km_of_border.distance_km = 0",
        r"must be > 0",
        "distance_km: 0",
    ),
    ("missing name", "name: test\n", "", "name", r"is required", "analysis_area:"),
    (
        "unknown variant handset",
        "    handset: phone",
        "    handset: pager",
        "variants[1].handset = 'pager'",
        r"must be one of phone",
        "handset: pager",
    ),
    (
        "duplicate variant",
        "  - name: without",
        "  - name: with",
        "variants[1].name = 'with'",
        r"must be unique",
        "  - name: with\n    jammers",
    ),
    (
        "duplicate site id",
        "sites:\n  - id: s1",
        (
            "sites:\n  - id: s0\n    lat_deg: 40\n    lon_deg: 124\n    height_m: 10\n"
            "    carriers: [{technology: gsm, band: GSM900}]\n  - id: s0"
        ),
        "sites[1].id = 's0'",
        r"must be unique",
        "  - id: s0\n    lat_deg: 40.5",
    ),
    (
        "bad site id",
        "  - id: s1",
        "  - id: 's 1'",
        "sites[0].id = 's 1'",
        r"must use only letters",
        "id: 's 1'",
    ),
    (
        "propagation model",
        "variants:",
        "propagation: {model: okumura}\nvariants:",
        "propagation.model = 'okumura'",
        r"must be one of 'itm', 'p1812' or 'free_space'",
        "model: okumura",
    ),
    (
        "time percent 100",
        "variants:",
        "propagation: {time_pct: 100}\nvariants:",
        "propagation.time_pct = 100",
        r"must be < 100",
        "time_pct: 100",
    ),
    (
        "dl frequency out of band",
        "        tx_power_dbm: 46\n",
        "        tx_power_dbm: 46\n        dl_frequency_mhz: 2000\n",
        "sites[0].carriers[0]",
        r"dl_frequency_mhz 2000 must be inside band B3 \(1805-1880 MHz\)",
        "technology: lte",
    ),
    (
        "handset power key",
        "    technologies: [gsm, lte]",
        "    technologies: [gsm, lte]\n    max_tx_power_dbm: {wifi: 20}",
        "handsets[0].max_tx_power_dbm",
        r"must be a technology",
        "max_tx_power_dbm",
    ),
    (
        "missing csv file",
        "variants:",
        (
            "sites_csv:\n  - path: nowhere.csv\n"
            "    operators: [{name: op, mcc: 460, carriers: {gsm: {band: GSM900}}}]\nvariants:"
        ),
        "sites_csv[0].path = 'nowhere.csv'",
        r"must be an existing file",
        "path: nowhere.csv",
    ),
    (
        "csv operator band of another technology",
        "variants:",
        (
            "sites_csv:\n  - path: s.yaml\n"
            "    operators: [{name: op, mcc: 460, carriers: {gsm: {band: B3}}}]\nvariants:"
        ),
        "sites_csv[0].operators[0]",
        r"carriers.gsm.band = 'B3': unknown gsm band",
        "operators:",
    ),
    (
        "mdvar out of range",
        "variants:",
        "propagation: {mdvar: 4}\nvariants:",
        "propagation.mdvar = 4",
        r"must be 0-3, plus 10 and/or 20",
        "mdvar: 4",
    ),
    (
        "engine mode",
        "variants:",
        "propagation: {engine_mode: quick}\nvariants:",
        "propagation.engine_mode = 'quick'",
        r"must be one of 'exact', 'fast' or 'hybrid'",
        "engine_mode: quick",
    ),
    (
        "terrain file without path",
        "variants:",
        "terrain: {source: file}\nvariants:",
        "terrain",
        r"terrain source 'file' needs a path",
        "terrain:",
    ),
]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_files(tmp_path, case):
    _, old, new, field, regex, needle = case
    assert old in GOOD, old
    text = GOOD.replace(old, new, 1)
    p = tmp_path / "scenario.yaml"
    p.write_text(text)
    with pytest.raises(ScenarioError) as ei:
        load_scenario(p)
    msgs = ei.value.errors
    line = _line_of(text, needle) if needle else None
    prefix = f"scenario.yaml: line {line}: " if line else "scenario.yaml: "
    hits = [m for m in msgs if m.startswith(prefix + field) and re.search(regex, m)]
    assert hits, f"expected {prefix}{field} ... {regex!r}; got {msgs}"
    assert str(ei.value).startswith("scenario.yaml: ")


def test_at_least_twenty_distinct_bad_cases():
    assert len({c[0] for c in BAD}) >= 20


def test_yaml_syntax_error_and_duplicate_key(tmp_path):
    with pytest.raises(ScenarioError, match=r"s.yaml: line 4: not valid YAML"):
        parse_scenario("name: x\nsites:\n  - id: a\n bad: 1\n", name="s.yaml")
    with pytest.raises(ScenarioError, match=r"s.yaml: line 2: name: duplicate key"):
        parse_scenario("name: x\nname: y\n", name="s.yaml")
    with pytest.raises(ScenarioError, match="empty"):
        parse_scenario("", name="s.yaml")
    with pytest.raises(ScenarioError, match="must be a mapping"):
        parse_scenario("- 1\n- 2\n", name="s.yaml")
    with pytest.raises(ScenarioError, match="file not found"):
        load_scenario(tmp_path / "absent.yaml")


CSV_HEAD = (
    "radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal\n"
)


def test_opencellid_sites(tmp_path):
    (tmp_path / "cells.csv").write_text(
        CSV_HEAD
        + "GSM,460,0,1,101,0,124.40,40.13,1000,5,1,1,2,0\n"
        + "LTE,460,0,1,102,0,124.41,40.14,1000,5,1,1,2,0\n"
        + "LTE,460,1,1,103,0,124.42,40.15,1000,5,1,1,2,0\n"  # China Unicom
        + "GSM,460,0,1,104,0,130.0,45.0,1000,5,1,1,2,0\n"  # outside the bbox filter
    )
    text = GOOD.replace(
        "variants:",
        """sites_csv:
  - path: cells.csv
    bbox: {south_deg: 39, west_deg: 123, north_deg: 42, east_deg: 126}
    operators:
      - name: China Mobile
        mcc: 460
        mnc: [0, 2, 7]
        height_m: 35
        carriers:
          gsm: {band: GSM900, tx_power_dbm: 43}
          lte: {band: B39, tx_power_dbm: 46, bandwidth_mhz: 20}
      - name: China Unicom
        mcc: 460
        mnc: [1]
        carriers:
          lte: {band: B3}
variants:""",
    )
    p = tmp_path / "s.yaml"
    p.write_text(text)
    sc = load_scenario(p)
    sites = resolve_sites(sc)
    csv_sites = {s.id: s for s in sites[1:]}
    assert sorted(csv_sites) == ["GSM-460-0-1-101", "LTE-460-0-1-102", "LTE-460-1-1-103"]
    s = csv_sites["LTE-460-0-1-102"]
    assert (s.height_m, s.carriers[0].band, s.carriers[0].tx_power_dbm) == (35, "B39", 46)
    assert s.lat_deg == 40.14 and s.operator == "China Mobile"
    u = csv_sites["LTE-460-1-1-103"]
    assert u.height_m == 30 and u.carriers[0].band == "B3" and u.carriers[0].tx_power_dbm is None
    # an operator without defaults is an error naming the CSV line
    (tmp_path / "cells.csv").write_text(
        CSV_HEAD + "GSM,460,11,1,101,0,124.40,40.13,1000,5,1,1,2,0\n"
    )
    with pytest.raises(
        ScenarioError, match=r"cells.csv: line 2: mcc/net = 460/11: no operator defaults"
    ):
        resolve_sites(load_scenario(p))
    (tmp_path / "cells.csv").write_text(
        CSV_HEAD + "GSM,460,0,1,101,0,124.40,north,1000,5,1,1,2,0\n"
    )
    with pytest.raises(ScenarioError, match=r"cells.csv: line 2: "):
        resolve_sites(load_scenario(p))


def test_validate_cli_subprocess(tmp_path):
    bad = tmp_path / "scenario.yaml"
    bad.write_text(GOOD.replace("height_m: 30", "height_m: -5"))
    r = subprocess.run(
        [sys.executable, "-m", "yalu.cli.main", "validate", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert "scenario.yaml: line 8: sites[0].height_m = -5: must be > 0" in r.stderr
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    r = subprocess.run(
        [sys.executable, "-m", "yalu.cli.main", "validate", str(good)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert "valid: 1 sites (4 sector-carriers), 1 jammers" in r.stdout


def test_scenario_inputs_list_every_population_raster(tmp_path):
    """Outputs must never land over any of several population rasters (population.raster as a
    list): each is an input of the scenario."""
    from yalu.scenario.models import scenario_inputs

    for n in ("a.tif", "b.tif"):
        (tmp_path / n).write_bytes(b"")
    text = GOOD + "population: {raster: [a.tif, b.tif]}\n"
    sc = parse_scenario(text, base_dir=tmp_path)
    got = {p.resolve() for p in scenario_inputs(sc)}
    assert {(tmp_path / "a.tif").resolve(), (tmp_path / "b.tif").resolve()} <= got
