"""The scenario file's reference, generated from the pydantic models.

``docs/scenario.md`` is the output of :func:`scenario_markdown` (``python -m yalu.scenario.docs
--write docs/scenario.md`` or ``yalu schema --markdown``); a test fails when the committed file
differs, so it cannot drift from the models. :func:`scenario_json_schema` gives the JSON Schema
for editors (``yalu schema``), with the same descriptions.

Descriptions come from the models: each field's ``#:`` comment in :mod:`yalu.scenario.models`
(the Sphinx convention), else :data:`FIELD_NOTES` here. Units come from the field name's suffix
(``_m``, ``_dbm``, ...), examples from the flagship scenario where it sets the field, else from
:data:`EXAMPLES`.
"""

from __future__ import annotations

import ast
import inspect
import json
import sys
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from yalu.scenario import models as m

__all__ = ["EXAMPLES", "FIELD_NOTES", "SECTIONS", "field_docs", "scenario_json_schema",
           "scenario_markdown"]  # fmt: skip

#: Sections of the reference: (YAML path, model), in reading order.
SECTIONS: tuple[tuple[str, type[BaseModel]], ...] = (
    ("(top level)", m.Scenario),
    ("terrain", m.TerrainSpec),
    ("grid", m.GridSpec),
    ("analysis_area", m.AnalysisAreaSpec),
    ("analysis_area.within_km_of_border", m.BorderBuffer),
    ("bbox (any box)", m.BBox),
    ("site_templates.NAME", m.SiteTemplate),
    ("sites[]", m.Site),
    ("sites[].carriers[]", m.Carrier),
    ("sites_csv[]", m.SitesCsv),
    ("sites_csv[].operators[]", m.OperatorDefaults),
    ("sites_csv[].operators[].carriers.TECH", m.CarrierDefaults),
    ("handsets[]", m.Handset),
    ("jammers[]", m.Jammer),
    ("restricted_zones[]", m.Zone),
    ("propagation", m.PropagationSpec),
    ("propagation.p1812", m.P1812Spec),
    ("population", m.PopulationSpec),
    ("population.footprint", m.FootprintSpec),
    ("output", m.OutputSpec),
    ("execution", m.ExecutionSpec),
    ("uncertainty", m.UncertaintySpec),
    ("uncertainty.parameters[]", m.UncertainParameter),
    ("uncertainty.parameters[].distribution", m.Distribution),
    ("variants[]", m.Variant),
)

#: Fields the loader sets, not the file.
_INTERNAL = {"source_path"}

#: Descriptions of fields without a ``#:`` comment in the models, by (model, field).
FIELD_NOTES: dict[tuple[str, str], str] = {
    ("Scenario", "name"): "Name of the scenario (titles the report).",
    ("Scenario", "description"): "What the scenario is about (shown in the report).",
    ("Scenario", "terrain"): "Terrain source (section `terrain`).",
    ("Scenario", "grid"): "Computation grid (section `grid`).",
    ("Scenario", "analysis_area"): "Where people and area are counted (section `analysis_area`).",
    ("Scenario", "sites"): "Cell sites given inline (section `sites[]`).",
    (
        "Scenario",
        "sites_csv",
    ): "Cell sites from OpenCellID-format CSV files (section `sites_csv[]`).",
    ("Scenario", "handsets"): "Handset profiles; variants name them (section `handsets[]`).",
    ("Scenario", "jammers"): "Jammers (section `jammers[]`); variants switch them on or off.",
    ("Scenario", "restricted_zones"): "Areas where phone use is banned, drawn on the maps.",
    ("Scenario", "propagation"): "Propagation model options (section `propagation`).",
    ("Scenario", "population"): "Where the people come from (section `population`).",
    ("Scenario", "output"): "What `yalu run` writes (section `output`).",
    ("Scenario", "variants"): "Variants run side by side and compared (section `variants[]`).",
    ("Scenario", "uncertainty"): "Distributions of the unpublished inputs: a Monte Carlo gives "
    "P10 / P50 / P90 bands (section `uncertainty`).",
    ("UncertaintySpec", "samples"): "Number of Monte Carlo samples.",
    ("UncertaintySpec", "seed"): "Random seed (runs are deterministic for a seed).",
    ("UncertaintySpec", "parameters"): "The uncertain inputs (section `uncertainty.parameters[]`).",
    ("UncertainParameter", "name"): "Label in the report and the tornado chart.",
    ("UncertainParameter", "what"): "Which input the distribution shifts or sets.",
    ("UncertainParameter", "distribution"): "Its distribution (section "
    "`uncertainty.parameters[].distribution`).",
    ("Distribution", "kind"): "Shape of the distribution.",
    ("Distribution", "low"): "Lower bound (uniform, triangular; optional bound of normal).",
    ("Distribution", "high"): "Upper bound (uniform, triangular; optional bound of normal).",
    ("Distribution", "mode"): "Most likely value (triangular).",
    ("Distribution", "mean"): "Mean (normal).",
    ("Distribution", "sd"): "Standard deviation (normal).",
    ("Scenario", "execution"): "Where the path-loss maps are computed: locally, or as Dask tasks "
    "(section `execution`, docs/distributed.md).",
    ("Handset", "thermally_efficient_share"): "Share (0-1) of thermally-efficient buildings "
    "when the buildings are a mix (P.2109).",
    ("PropagationSpec", "clutter_location_pct"): "P.2108 percentage of locations at which the "
    "clutter loss is not exceeded.",
    ("TerrainSpec", "source"): "`embedded` (coarse 5' demo terrain), `file` (a raster or tile "
    "directory at `path`) or `cache` (tiles of `yalu terrain fetch`).",
    ("TerrainSpec", "path"): "With `file`: the raster file or tile directory. With `cache`: the "
    "cache directory, default the one `yalu terrain fetch` fills "
    "(`$YALU_CACHE_DIR/terrain`, else `~/.cache/yalu/terrain`). "
    "Relative to the scenario file.",
    ("TerrainSpec", "resolution_arcsec"): "Informational: the resolution the terrain is "
    "expected at (the grid's comes from `grid`).",
    ("GridSpec", "bbox"): "Box of the grid; default the analysis area's bounds, clipped to the "
    "terrain.",
    ("GridSpec", "resolution_arcsec"): "Node spacing; default the terrain's own spacing. At most "
    "4,000,000 nodes.",
    ("AnalysisAreaSpec", "bbox"): "A box (a mapping of four fields, not the CLI's `S,W,N,E`).",
    ("AnalysisAreaSpec", "within_km_of_border"): "Nodes within a distance of a border line.",
    ("BorderBuffer", "distance_km"): "Width of the band along the line.",
    ("BBox", "south_deg"): "Southern edge (latitude).",
    ("BBox", "west_deg"): "Western edge (longitude).",
    ("BBox", "north_deg"): "Northern edge (latitude), > south_deg.",
    ("BBox", "east_deg"): "Eastern edge (longitude), > west_deg.",
    ("SiteTemplate", "operator"): "Operator of the sites (and default of their carriers).",
    ("SiteTemplate", "carriers"): "Carriers of every site naming the template, unless the site "
    "lists its own.",
    ("SiteTemplate", "assumption"): "Why the values are what they are (shown in the report).",
    ("Site", "id"): "Unique id (letters, digits, `_ . : -`).",
    ("Site", "name"): "Display name; default the id.",
    ("Site", "operator"): "Operator (default of its carriers' `operator`).",
    ("Site", "lat_deg"): "Latitude; inside the terrain or within `propagation.max_distance_km` "
    "of it (checked by `yalu validate`).",
    ("Site", "lon_deg"): "Longitude; as `lat_deg`.",
    ("Site", "carriers"): "One entry per technology and band (section `sites[].carriers[]`); "
    "may come from the template.",
    ("Carrier", "technology"): "Radio technology.",
    ("Carrier", "ul_frequency_mhz"): "Uplink centre frequency; default the band's pair of the "
    "downlink.",
    ("Carrier", "feeder_loss_db"): "Cable and connector loss between transmitter and antenna.",
    ("Carrier", "front_to_back_db"): "Sector antenna front-to-back ratio (TR 36.814).",
    ("Carrier", "mechanical_tilt_deg"): "Mechanical downtilt (positive: down).",
    ("Carrier", "electrical_tilt_deg"): "Electrical downtilt (positive: down).",
    ("Carrier", "diversity_gain_db"): "Uplink receive diversity gain at the BTS.",
    ("CarrierDefaults", "band"): "3GPP band name, as in carriers.",
    ("CarrierDefaults", "dl_frequency_mhz"): "Downlink centre frequency; default the band's "
    "centre.",
    ("CarrierDefaults", "ul_frequency_mhz"): "Uplink centre frequency; default the band's pair.",
    ("CarrierDefaults", "bandwidth_mhz"): "Channel bandwidth; default the radio layer's.",
    ("CarrierDefaults", "tx_power_dbm"): "Transmitter power; default the radio layer's.",
    ("CarrierDefaults", "antenna_gain_dbi"): "Antenna gain; default the radio layer's.",
    ("CarrierDefaults", "feeder_loss_db"): "Cable and connector loss.",
    ("OperatorDefaults", "name"): "Operator name given to the CSV's sites.",
    ("OperatorDefaults", "mcc"): "Mobile country code of the rows (e.g. 460 China).",
    ("OperatorDefaults", "height_m"): "Antenna height of every site of the operator.",
    ("OperatorDefaults", "assumption"): "Why the height and powers are what they are.",
    ("SitesCsv", "path"): "The CSV file (OpenCellID columns, header optional), relative to the "
    "scenario file.",
    ("SitesCsv", "operators"): "Defaults per operator (MCC and MNCs): height and carriers.",
    ("SitesCsv", "bbox"): "Keep only rows inside this box.",
    ("SitesCsv", "skip_unknown_operators"): "Skip rows of operators not listed (default: error).",
    ("Handset", "name"): "Name the variants use.",
    ("Handset", "antenna_gain_dbi"): "Handset antenna gain; default 0 dBi.",
    ("Handset", "body_loss_db"): "Loss of the user's body and head; default 3 dB.",
    ("Handset", "noise_figure_db"): "Receiver noise figure; default 9 dB.",
    ("Jammer", "id"): "Unique id.",
    ("Jammer", "name"): "Display name; default the id.",
    ("Jammer", "lat_deg"): "Latitude; near the terrain (as a site's) when a variant uses jammers.",
    ("Jammer", "lon_deg"): "Longitude.",
    ("Jammer", "height_m"): "Antenna height above ground.",
    ("Jammer", "duty_factor"): "Fraction of the time the jammer transmits (scales its power).",
    ("Jammer", "beamwidth_deg"): "Half-power beamwidth of a directional jammer.",
    ("Jammer", "assumption"): "Why the values are what they are (shown in the report).",
    ("Zone", "label"): "Label on the map and in the legend.",
    ("Zone", "lat_deg"): "Centre latitude of a circle.",
    ("Zone", "lon_deg"): "Centre longitude of a circle.",
    ("Zone", "radius_m"): "Radius of a circle.",
    ("PropagationSpec", "location_pct"): "ITM location variability; counts only with mdvar < 10.",
    ("PropagationSpec", "situation_pct"): "ITM situation (confidence) variability.",
    ("PropagationSpec", "climate"): "ITM radio climate.",
    ("PropagationSpec", "polarization"): "Antenna polarization.",
    ("PropagationSpec", "ground_conductivity_s_per_m"): "Ground conductivity (average ground "
    "0.005 S/m).",
    ("OutputSpec", "geotiff"): "Write GeoTIFF rasters of every layer.",
    ("OutputSpec", "png"): "Write PNG maps.",
    ("OutputSpec", "report_md"): "Write report.md.",
    ("OutputSpec", "report_html"): "Write report.html.",
    ("Variant", "name"): "Unique name (letters, digits, `_ . -`); the first variant is primary.",
    ("Variant", "description"): "What the variant shows (in the report).",
}

#: Examples of fields the flagship scenario does not set, by (model, field).
EXAMPLES: dict[tuple[str, str], Any] = {
    ("OutputSpec", "kmz"): True,
    ("OutputSpec", "gpkg"): False,
    ("Scenario", "sites_csv"): [
        {
            "path": "cells.csv",
            "operators": [
                {
                    "name": "China Mobile",
                    "mcc": 460,
                    "mnc": [0, 2, 7],
                    "height_m": 30,
                    "carriers": {"gsm": {"band": "GSM900"}, "lte": {"band": "B39"}},
                }
            ],
        }
    ],
    ("TerrainSpec", "path"): "~/.cache/yalu/terrain",
    ("TerrainSpec", "resolution_arcsec"): 3,
    ("GridSpec", "bbox"): {
        "south_deg": 40.0,
        "west_deg": 124.0,
        "north_deg": 41.0,
        "east_deg": 125.5,
    },
    ("AnalysisAreaSpec", "bbox"): {
        "south_deg": 40.0,
        "west_deg": 124.0,
        "north_deg": 41.0,
        "east_deg": 125.5,
    },
    ("AnalysisAreaSpec", "polygon"): [[124.0, 40.0], [125.0, 40.0], [125.0, 41.0]],
    ("BBox", "south_deg"): 40.0,
    ("BBox", "west_deg"): 124.0,
    ("BBox", "north_deg"): 41.0,
    ("BBox", "east_deg"): 125.5,
    ("SiteTemplate", "height_m"): 30,
    ("Site", "operator"): "China Mobile",
    ("Site", "carriers"): [{"technology": "gsm", "band": "GSM900", "tx_power_dbm": 43}],
    ("Site", "assumption"): "35 m tower: typical, not published",
    ("Carrier", "operator"): "China Mobile",
    ("Carrier", "dl_frequency_mhz"): 947.4,
    ("Carrier", "ul_frequency_mhz"): 902.4,
    ("Carrier", "beamwidth_deg"): 65,
    ("Carrier", "front_to_back_db"): 25,
    ("Carrier", "mechanical_tilt_deg"): 2,
    ("Carrier", "electrical_tilt_deg"): 4,
    ("Carrier", "pattern_file"): "antennas/sector-65deg.msi",
    ("Carrier", "noise_figure_db"): 5,
    ("Carrier", "diversity_gain_db"): 3,
    ("CarrierDefaults", "band"): "B3",
    ("CarrierDefaults", "dl_frequency_mhz"): 1850.0,
    ("CarrierDefaults", "ul_frequency_mhz"): 1755.0,
    ("CarrierDefaults", "bandwidth_mhz"): 20,
    ("CarrierDefaults", "tx_power_dbm"): 46,
    ("CarrierDefaults", "antenna_gain_dbi"): 17,
    ("CarrierDefaults", "feeder_loss_db"): 2,
    ("OperatorDefaults", "name"): "China Mobile",
    ("OperatorDefaults", "mcc"): 460,
    ("OperatorDefaults", "mnc"): [0, 2, 7],
    ("OperatorDefaults", "height_m"): 30,
    ("OperatorDefaults", "carriers"): {"gsm": {"band": "GSM900", "tx_power_dbm": 43}},
    ("OperatorDefaults", "assumption"): "30 m towers: typical, not published",
    ("SitesCsv", "path"): "cells.csv",
    ("SitesCsv", "operators"): [
        {"name": "China Mobile", "mcc": 460, "carriers": {"gsm": {"band": "GSM900"}}}
    ],
    ("SitesCsv", "bbox"): {
        "south_deg": 39.5,
        "west_deg": 123.5,
        "north_deg": 43.5,
        "east_deg": 131.0,
    },
    ("SitesCsv", "skip_unknown_operators"): True,
    ("Handset", "max_tx_power_dbm"): {"lte": 23, "gsm:DCS1800": 30},
    ("Handset", "antenna_gain_dbi"): 0,
    ("Handset", "body_loss_db"): 3,
    ("Handset", "noise_figure_db"): 9,
    ("Jammer", "azimuth_deg"): 90,
    ("Jammer", "beamwidth_deg"): 90,
    ("Zone", "polygon"): [[124.39, 40.10], [124.41, 40.10], [124.40, 40.11]],
    ("PropagationSpec", "polarization"): "vertical",
    ("PropagationSpec", "refractivity_n"): 301,
    ("PropagationSpec", "frequency_sharing_mhz"): 1,
    ("PropagationSpec", "hybrid_exact_grid_steps"): 0,
    ("PropagationSpec", "ground_permittivity"): 15,
    ("PropagationSpec", "ground_conductivity_s_per_m"): 0.005,
    ("PopulationSpec", "min_population"): 1000,
    ("PopulationSpec", "raster"): "population/ghs_pop_2020.tif",
    ("PopulationSpec", "settlements_csv"): "places.csv",
    ("PopulationSpec", "regions"): "provinces.geojson",
    ("PopulationSpec", "sample_spacing_m"): 250,
    ("PopulationSpec", "convergence_check"): False,
    ("FootprintSpec", "exponent"): 0.85,
    ("FootprintSpec", "area_km2_at_100k"): 15.0,
    ("FootprintSpec", "section_radius_factor"): 1.5,
    ("OutputSpec", "map_width_px"): 1400,
    ("Variant", "technologies"): ["lte"],
    ("Handset", "indoor"): True,
    ("Handset", "building_type"): "thermally-efficient",
    ("Handset", "thermally_efficient_share"): 0.3,
    ("Handset", "building_entry_probability_pct"): 50,
    ("PropagationSpec", "clutter"): "p2108-statistical",
    ("PropagationSpec", "clutter_location_pct"): 50,
    ("PropagationSpec", "calibration"): "CAL.json",
    ("PropagationSpec", "landcover"): "~/.cache/yalu/landcover",
    ("P1812Spec", "delta_n"): 45,
    ("P1812Spec", "n0"): 325,
    ("P1812Spec", "clutter_height_m"): 10,
    ("P1812Spec", "zone"): "inland",
    ("P1812Spec", "location_sigma_db"): 5.5,
    ("PropagationSpec", "p1812"): {"delta_n": 45, "n0": 325, "zone": "inland"},
    ("PropagationSpec", "location_sigma_db"): 10,
    ("UncertainParameter", "ids"): ["dandong", "tumen"],
    ("UncertainParameter", "technologies"): ["lte"],
    ("Distribution", "mean"): 0,
    ("Distribution", "sd"): 4,
    ("ExecutionSpec", "scheduler"): "tcp://127.0.0.1:8786",
    ("ExecutionSpec", "workers"): 4,
    ("ExecutionSpec", "terrain_transfer"): "read",
}

_UNITS = (
    ("_s_per_m", "S/m"), ("_dbm", "dBm"), ("_dbi", "dBi"), ("_db", "dB"), ("_mhz", "MHz"),
    ("_km", "km"), ("_m", "m"), ("_deg", "deg"), ("_pct", "%"), ("_arcsec", "arc-seconds"),
    ("_px", "px"), ("refractivity_n", "N-units"),
)  # fmt: skip


def _unit(name: str) -> str:
    if name == "polygon":
        return "deg ([lon, lat] pairs)"
    for suffix, unit in _UNITS:
        if name.endswith(suffix):
            return unit
    return ""


def _comments(cls: type[BaseModel]) -> dict[str, str]:
    """``#:`` comments directly above each field of ``cls``'s source."""
    try:
        src, start = inspect.getsourcelines(cls)
    except (OSError, TypeError):
        return {}
    tree = ast.parse("".join(src))
    out: dict[str, str] = {}
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    for node in body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            i = node.lineno - 2  # the line above, 0-based in src
            block: list[str] = []
            while i >= 0 and src[i].strip().startswith("#:"):
                block.insert(0, src[i].strip()[2:].strip())
                i -= 1
            if block:
                out[node.target.id] = " ".join(block)
    return out


def _type_name(ann: Any) -> str:
    origin = typing.get_origin(ann)
    args = typing.get_args(ann)
    if ann is type(None):
        return "null"
    if origin is typing.Literal:
        return " \\| ".join(json.dumps(a) for a in args)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return " or ".join(_type_name(a) for a in args)
    if origin is list:
        return f"list of {_type_name(args[0])}"
    if origin is tuple:
        return "[" + ", ".join(_type_name(a) for a in args) + "]"
    if origin is dict:
        return f"mapping {_type_name(args[0])} → {_type_name(args[1])}"
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return f"[{ann.__name__}](#{ann.__name__.lower()})"
    if isinstance(ann, type):
        return {"str": "string", "float": "number", "int": "integer", "bool": "boolean"}.get(
            ann.__name__, ann.__name__
        )
    if isinstance(ann, str):  # a type alias written as a string
        return ann
    return str(ann).replace("typing.", "")


def _model_of(ann: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation (``list[Site]``, ``BBox | None``), if any."""
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for a in typing.get_args(ann):
        sub = _model_of(a)
        if sub is not None:
            return sub
    return None


def _yaml_inline(value: Any) -> str:
    """A value as YAML flow text (JSON is valid YAML flow)."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", exclude_defaults=True)
    if isinstance(value, list):
        value = [v.model_dump(mode="json", exclude_defaults=True) if isinstance(v, BaseModel)
                 else v for v in value]  # fmt: skip
    if isinstance(value, str):
        return (
            value
            if value and value.replace("_", "").replace("-", "").isalnum()
            else json.dumps(value)
        )
    return json.dumps(value, ensure_ascii=False)


def _flagship_values() -> dict[tuple[str, str], Any]:
    """(model, field) -> the first value the flagship scenario gives it."""
    from yalu.scenario.runner import demo_scenario_text

    data = m.parse_scenario(demo_scenario_text(), "sino-korean-border.yaml")
    found: dict[tuple[str, str], Any] = {}

    def walk(obj: Any) -> None:
        if isinstance(obj, BaseModel):
            for name in type(obj).model_fields:
                if name in obj.model_fields_set:
                    v = getattr(obj, name)
                    key = (type(obj).__name__, name)
                    if (
                        key not in found
                        and not isinstance(v, BaseModel)
                        and not (isinstance(v, list) and v and isinstance(v[0], BaseModel))
                        and not (
                            isinstance(v, dict)
                            and v
                            and isinstance(next(iter(v.values())), BaseModel)
                        )
                    ):
                        found[key] = v
                    walk(v)
        elif isinstance(obj, list):
            for x in obj:
                walk(x)
        elif isinstance(obj, dict):
            for x in obj.values():
                walk(x)

    walk(data)
    return found


def field_docs(cls: type[BaseModel]) -> list[dict[str, str]]:
    """One row per field of ``cls``: name, type, unit, default, example, description."""
    comments = _comments(cls)
    flagship = _flagship_values()
    rows = []
    for name, f in cls.model_fields.items():
        if name in _INTERNAL:
            continue
        key = (cls.__name__, name)
        if f.is_required():
            default = "required"
        elif f.default_factory is not None:
            default = _yaml_inline(f.default_factory())  # type: ignore[call-arg]
        elif f.default is PydanticUndefined:
            default = "required"
        else:
            default = _yaml_inline(f.default)
        if isinstance(f.annotation, type) and issubclass(f.annotation, BaseModel):
            default = "see its section" if not f.is_required() else default
        if key in flagship:
            example = _yaml_inline(flagship[key])
        elif key in EXAMPLES:
            example = _yaml_inline(EXAMPLES[key])
        elif (sub := _model_of(f.annotation)) is not None:
            example = f"see [{sub.__name__}](#{sub.__name__.lower()})"
        else:
            example = ""
        rows.append({
            "field": name,
            "type": _type_name(f.annotation),
            "unit": _unit(name),
            "default": default,
            "example": example,
            "description": comments.get(name) or FIELD_NOTES.get(key, ""),
        })  # fmt: skip
    return rows


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") if "\\|" not in text else text


_INTRO = """\
# Scenario file reference

<!-- GENERATED by `python -m yalu.scenario.docs --write docs/scenario.md` from
     src/yalu/scenario/models.py: do not edit by hand; tests/scenario/test_docs.py fails when this
     file is out of date. -->

A scenario is a YAML file that `yalu validate` checks and `yalu run` computes. The flagship,
`examples/sino-korean-border.yaml` (`yalu demo --print-scenario`), uses most fields. Errors name
the file, the line, the field path and what is allowed; `yalu validate` also opens the terrain
and checks that every site lies on it, so what it accepts, `yalu run` accepts. `yalu schema`
prints a JSON Schema of the same fields for editors (for example the YAML language server:
`# yaml-language-server: $schema=scenario.schema.json` after `yalu schema > scenario.schema.json`).

Conventions:

- every quantity carries its unit in its name (`height_m`, `eirp_dbm`, `distance_km`);
- boxes are mappings of four fields, `{south_deg: 40, west_deg: 124, north_deg: 41, east_deg:
  125.5}` (the command line's `--bbox S,W,N,E` in YAML form);
- polygons are lists of `[lon_deg, lat_deg]` pairs (GeoJSON order);
- relative paths are relative to the scenario file; `~` is the home directory;
- a field left out takes its default; unknown fields are errors.

## Shared site values: `site_templates`

Sites that share an operator, a height or a set of carriers name a template instead of repeating
them. A site takes every template value it does not give itself; its own `carriers:` replace the
template's list as a whole:

```yaml
site_templates:
  cn-macro:
    operator: China Mobile
    carriers:
      - {technology: gsm, band: GSM900, tx_power_dbm: 43, antenna_gain_dbi: 16,
         azimuths_deg: [0, 120, 240]}
      - {technology: lte, band: B39, bandwidth_mhz: 20, tx_power_dbm: 46, antenna_gain_dbi: 17,
         azimuths_deg: [0, 120, 240]}
sites:
  - {id: dandong, lat_deg: 40.12917, lon_deg: 124.39472, height_m: 40, template: cn-macro}
  - {id: tumen, lat_deg: 42.96562, lon_deg: 129.84199, height_m: 35, template: cn-macro}
```

## Sites from a CSV: `sites_csv`

`sites_csv` reads cell lists in the OpenCellID format, one cell a row:
`radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal`
(the header line is optional; `radio` is GSM, UMTS, LTE or NR). Each row becomes one site, id
`RADIO-MCC-NET-AREA-CELL`, with the height and carrier of its operator's entry in `operators`
(matched on `mcc` and `net` in `mnc`). Rows of operators not listed are errors unless
`skip_unknown_operators: true`; `bbox` keeps only the rows inside it.

```yaml
sites_csv:
  - path: cells.csv
    bbox: {south_deg: 39.5, west_deg: 123.5, north_deg: 43.5, east_deg: 131.0}
    skip_unknown_operators: true
    operators:
      - name: China Mobile
        mcc: 460
        mnc: [0, 2, 7]
        height_m: 30
        carriers:
          gsm: {band: GSM900, tx_power_dbm: 43, antenna_gain_dbi: 16}
          lte: {band: B39, bandwidth_mhz: 20, tx_power_dbm: 46, antenna_gain_dbi: 17}
```

## Terrain: one cache

`yalu terrain fetch --bbox S,W,N,E` downloads tiles into the user cache,
`$YALU_CACHE_DIR/terrain`, else `$XDG_CACHE_HOME/yalu/terrain`, else `~/.cache/yalu/terrain`;
`terrain: {source: cache}` reads the same directory. After `yalu terrain fetch --cache DIR`, give
the same directory: `terrain: {source: cache, path: DIR}`. `source: file` reads one raster
(GeoTIFF, ESRI ASCII, `.hgt`) or a directory of tiles; `source: embedded` is the coarse 5'
demo terrain of North-East Asia (37-46 N, 120-134 E), not for analysis.

## Fields
"""


def scenario_markdown() -> str:
    """The scenario reference (the content of ``docs/scenario.md``)."""
    parts = [_INTRO]
    for path, cls in SECTIONS:
        doc = inspect.cleandoc(cls.__doc__ or "").split("\n\n")[0].replace("\n", " ")
        parts.append(f"\n### {cls.__name__}\n\n`{path}`: {doc}\n")
        parts.append("| field | type | unit | default | example | description |")
        parts.append("|---|---|---|---|---|---|")
        for r in field_docs(cls):
            cells = [f"`{r['field']}`", r["type"], r["unit"], f"`{r['default']}`"
                     if r["default"] not in ("required", "see its section") else r["default"],
                     f"`{r['example']}`" if r["example"] and not r["example"].startswith("see")
                     else r["example"], r["description"]]  # fmt: skip
            parts.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(parts) + "\n"


def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a scenario file, with each field's description."""
    schema = m.Scenario.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "yalu scenario"
    schema.get("properties", {}).pop("source_path", None)
    defs = schema.get("$defs", {})
    site = defs.get("Site", {})
    # a site may take these from its template: the loader checks them after applying it
    site["required"] = [k for k in site.get("required", []) if k not in m.TEMPLATE_FIELDS]
    for _path, cls in SECTIONS:
        target = schema if cls is m.Scenario else defs.get(cls.__name__)
        if target is None:
            continue
        for r in field_docs(cls):
            prop = target.get("properties", {}).get(r["field"])
            if prop is not None and r["description"]:
                unit = f" [{r['unit']}]" if r["unit"] else ""
                prop["description"] = r["description"] + unit
    return schema


def main(argv: list[str] | None = None) -> int:
    """``python -m yalu.scenario.docs [--write PATH] [--json]``: print or write the reference."""
    args = list(sys.argv[1:] if argv is None else argv)
    text = (json.dumps(scenario_json_schema(), indent=2) + "\n" if "--json" in args
            else scenario_markdown())  # fmt: skip
    if "--write" in args:
        from yalu.io.atomic import atomic_output

        out = Path(args[args.index("--write") + 1])
        with atomic_output(out, overwrite=True) as tmp:
            tmp.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
