"""Scenario files (YAML validated by pydantic) and the runner behind ``yalu run`` / ``yalu demo``.

See :mod:`yalu.scenario.models` for the file format and :mod:`yalu.scenario.runner` for the run.
"""

from yalu.scenario.models import (
    BBox,
    Carrier,
    Handset,
    Jammer,
    Scenario,
    Site,
    Variant,
    Zone,
    load_scenario,
    parse_scenario,
    resolve_sites,
    scenario_hash,
)

__all__ = [
    "BBox",
    "Carrier",
    "Handset",
    "Jammer",
    "Scenario",
    "Site",
    "Variant",
    "Zone",
    "load_scenario",
    "parse_scenario",
    "resolve_sites",
    "scenario_hash",
]
