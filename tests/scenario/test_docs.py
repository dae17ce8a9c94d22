"""docs/scenario.md is generated from the models and current; the JSON Schema covers the files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from yalu.cli.main import cli
from yalu.scenario.docs import SECTIONS, field_docs, scenario_json_schema, scenario_markdown

ROOT = Path(__file__).parents[2]
DOC = ROOT / "docs" / "scenario.md"


def test_committed_reference_is_current():
    # regenerate with: python -m yalu.scenario.docs --write docs/scenario.md
    assert DOC.read_text(encoding="utf-8") == scenario_markdown(), (
        "docs/scenario.md is out of date: run python -m yalu.scenario.docs --write docs/scenario.md"
    )


def test_every_model_and_field_is_documented():
    models = {cls for _, cls in SECTIONS}

    # every model reachable from Scenario has a section
    def reach(cls, seen):
        from yalu.scenario.docs import _model_of  # noqa: PLC0415 - same package, test only

        for f in cls.model_fields.values():
            sub = _model_of(f.annotation)
            if sub is not None and sub not in seen:
                seen.add(sub)
                reach(sub, seen)
        return seen

    from yalu.scenario.models import Carrier, Scenario

    assert reach(Scenario, {Scenario}) <= models
    text = DOC.read_text(encoding="utf-8")
    for _path, cls in SECTIONS:
        assert f"### {cls.__name__}" in text
        for row in field_docs(cls):
            assert row["type"] and row["default"] and row["example"] and row["description"], (
                f"{cls.__name__}.{row['field']}: add a #: comment in the model, or an entry "
                "to FIELD_NOTES / EXAMPLES in yalu.scenario.docs",
                row,
            )
            assert f"| `{row['field']}` |" in text
    for needle in ("sites_csv", "site_templates", "~/.cache/yalu/terrain", "south_deg: 40"):
        assert needle in text
    # units come from the names
    rows = {r["field"]: r for r in field_docs(Carrier)}
    assert rows["tx_power_dbm"]["unit"] == "dBm" and rows["dl_frequency_mhz"]["unit"] == "MHz"


def _resolve(schema, node):
    while "$ref" in node:
        node = schema["$defs"][node["$ref"].split("/")[-1]]
    return node


def _check(schema, node, value, path="$"):
    """Every key of ``value`` is a property of the schema node (objects without extras)."""
    node = _resolve(schema, node)
    if "anyOf" in node:
        errs = []
        for alt in node["anyOf"]:
            try:
                _check(schema, alt, value, path)
                return
            except AssertionError as exc:
                errs.append(str(exc))
        raise AssertionError(f"{path}: no alternative matches ({errs})")
    t = node.get("type")
    if isinstance(value, dict):
        assert t == "object", (path, node)
        props = node.get("properties")
        if props is None:  # a mapping of names to values
            for k, v in value.items():
                _check(schema, node.get("additionalProperties", {}), v, f"{path}.{k}")
            return
        assert node.get("additionalProperties") is False, path
        for k, v in value.items():
            assert k in props, f"{path}.{k} not in the schema"
            _check(schema, props[k], v, f"{path}.{k}")
        for k in node.get("required", []):
            assert k in value, f"{path}.{k} required"
    elif isinstance(value, list):
        assert t == "array", (path, node)
        items = node.get("prefixItems") or [node.get("items", {})] * len(value)
        for i, (v, sub) in enumerate(zip(value, items, strict=False)):
            _check(schema, sub, v, f"{path}[{i}]")
    elif value is None:
        assert t == "null", path
    elif isinstance(value, bool):
        assert t == "boolean" or "enum" in node or "const" in node, path
    elif isinstance(value, (int, float)):
        assert t in ("number", "integer") or "enum" in node or "const" in node, (path, node)
    elif isinstance(value, str):
        assert t == "string" or value in node.get("enum", [node.get("const")]), (path, node)


def test_schema_accepts_the_flagship_and_rejects_unknown_fields():
    r = CliRunner().invoke(cli, ["schema"])
    assert r.exit_code == 0
    schema = json.loads(r.output)
    assert schema == json.loads(json.dumps(scenario_json_schema()))
    assert "source_path" not in schema["properties"]
    assert schema["$defs"]["Site"]["properties"]["height_m"]["description"].endswith("[m]")
    data = yaml.safe_load((ROOT / "examples" / "sino-korean-border.yaml").read_text())
    _check(schema, schema, data)
    data["sites"][0]["heigth_m"] = 30
    with pytest.raises(AssertionError, match="heigth_m"):
        _check(schema, schema, data)


def test_schema_markdown_option_prints_the_reference():
    r = CliRunner().invoke(cli, ["schema", "--markdown"])
    assert r.exit_code == 0 and r.output == scenario_markdown()


def test_yaml_examples_of_the_reference_are_valid(tmp_path):
    import re

    from yalu.scenario import load_scenario

    head = ("name: t\nanalysis_area:\n  bbox: {south_deg: 40.0, west_deg: 124.0, north_deg: 41.0,"
            " east_deg: 125.0}\n")  # fmt: skip
    (tmp_path / "cells.csv").write_text("GSM,460,0,1,2,,124.5,40.5,0,1,1,0,0,0\n")
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 2
    for i, block in enumerate(blocks):
        p = tmp_path / f"s{i}.yaml"
        p.write_text(head + block)
        sc = load_scenario(p)
        assert sc.sites or sc.sites_csv
