"""Site templates: sites share carriers; what a site gives wins; errors point at the template."""

from __future__ import annotations

from pathlib import Path

import pytest

from yalu.errors import ScenarioError
from yalu.scenario import Scenario, load_scenario, parse_scenario, scenario_hash

ROOT = Path(__file__).parents[2]

HEAD = """\
name: t
analysis_area:
  bbox: {south_deg: 40.0, west_deg: 124.0, north_deg: 41.0, east_deg: 125.0}
"""

TEMPLATED = (
    HEAD
    + """\
site_templates:
  macro:
    operator: Op
    height_m: 30
    assumption: typical
    carriers:
      - {technology: gsm, band: GSM900, tx_power_dbm: 43}
      - {technology: lte, band: B3, tx_power_dbm: 46, azimuths_deg: [0, 120, 240]}
sites:
  - {id: a, lat_deg: 40.5, lon_deg: 124.5, template: macro}
  - {id: b, lat_deg: 40.6, lon_deg: 124.6, height_m: 45, template: macro,
     carriers: [{technology: lte, band: B39}]}
"""
)

EXPANDED = (
    HEAD
    + """\
sites:
  - id: a
    lat_deg: 40.5
    lon_deg: 124.5
    operator: Op
    height_m: 30
    assumption: typical
    carriers:
      - {technology: gsm, band: GSM900, tx_power_dbm: 43}
      - {technology: lte, band: B3, tx_power_dbm: 46, azimuths_deg: [0, 120, 240]}
  - {id: b, lat_deg: 40.6, lon_deg: 124.6, height_m: 45, operator: Op, assumption: typical,
     carriers: [{technology: lte, band: B39}]}
"""
)


def test_template_sites_equal_the_written_out_sites():
    t = parse_scenario(TEMPLATED, "t.yaml")
    e = parse_scenario(EXPANDED, "e.yaml")
    assert t.sites[0].template == "macro" and t.sites[0].height_m == 30
    assert [c.band for c in t.sites[1].carriers] == ["B39"] and t.sites[1].height_m == 45
    assert t.model_dump() == e.model_dump()  # templates are not part of the resolved scenario
    assert scenario_hash(t) == scenario_hash(e)
    # the library path (a dict, no YAML) resolves templates too
    import yaml

    assert Scenario.model_validate(yaml.safe_load(TEMPLATED)).model_dump() == e.model_dump()


def test_unknown_template_names_the_site_and_line():
    bad = TEMPLATED.replace("template: macro,", "template: micro,")
    with pytest.raises(ScenarioError) as ei:
        parse_scenario(bad, "t.yaml")
    assert str(ei.value) == "t.yaml: line 14: sites[1].template = 'micro': must be one of: macro"


def test_a_bad_template_value_is_reported_once_at_the_template():
    bad = TEMPLATED.replace("tx_power_dbm: 43", "tx_power_dbm: 430")
    with pytest.raises(ScenarioError) as ei:
        parse_scenario(bad, "t.yaml")
    assert ei.value.errors == [  # type: ignore[attr-defined]
        "t.yaml: line 10: site_templates.macro.carriers[0].tx_power_dbm = 430: must be <= 70"
    ]
    # a site without height and without a template height is still an error at the site
    bad = TEMPLATED.replace("    height_m: 30\n", "")
    with pytest.raises(ScenarioError, match=r"line 12: sites\[0\].height_m is required"):
        parse_scenario(bad, "t.yaml")


def test_flagship_lists_each_site_in_a_few_lines_and_the_copy_is_identical():
    text = (ROOT / "examples" / "sino-korean-border.yaml").read_text(encoding="utf-8")
    shipped = (ROOT / "src" / "yalu" / "data" / "sino-korean-border.yaml").read_text(
        encoding="utf-8"
    )
    assert text == shipped
    sc = load_scenario(ROOT / "examples" / "sino-korean-border.yaml")
    lines = text.splitlines()
    start, end = lines.index("sites:"), lines.index("jammers:")
    n_sites = sum(1 for ln in lines[start:end] if ln.startswith("  - id:"))
    assert n_sites == len(sc.sites) == 14
    assert (end - start) / n_sites <= 8
    assert all(len(s.carriers) == 3 and s.template == "cn-macro" for s in sc.sites)


def test_a_bbox_written_like_the_command_line_says_the_yaml_form():
    text = (
        HEAD.replace(
            "  bbox: {south_deg: 40.0, west_deg: 124.0, north_deg: 41.0, east_deg: 125.0}",
            "  bbox: 40,124,41,125",
        )
        + "sites: []\n"
    )
    with pytest.raises(ScenarioError) as ei:
        parse_scenario(text, "t.yaml")
    assert str(ei.value).startswith(
        "t.yaml: line 3: analysis_area.bbox = '40,124,41,125': must be a "
        "mapping {south_deg: S, west_deg: W, north_deg: N, east_deg: E}"
    )
