"""``summary.json``: the numbers of a run, deterministic apart from ``timings_s``.

Keys are sorted, floats rounded to 6 significant digits, lists in a fixed order, so two runs of one
scenario give byte-identical files once ``timings_s`` is removed.

Schema (``"schema": "yalu.summary/1"``)::

    population_within_reach  {country: {province: {sms|voice|data: people}}}   primary variant
    area_km2                 {country: {sms|voice|data: km2}}                   primary variant
    settlements              [{geonameid, name, country, province, population, service_level,
                               best_site, lat_deg, lon_deg, duplicate_of, section_of,
                               people_within_reach {sms|voice|data}}]            primary variant
    population_sampling      {source, spacing_m, samples, headline {settlements|raster: {country:
                               {sms|voice|data}}}, half_spacing {spacing_m, samples, headline,
                               relative_difference, max_abs_relative_difference}}  primary variant
    variants                 {name: {description, settings, population_within_reach, area_km2,
                               places_within_reach, unknown_population_places_within_reach,
                               population_in_area, share_within_reach, analysis_area_km2, census,
                               sanity, service_by_settlement {geonameid: level}}}
    primary_variant          name of the variant reported at the top level
    inputs                   {terrain {source, resolution_arcsec, coarse, ...}, grid, analysis_area,
                               scenario_hash, yalu_version, settlements_source, census_source}
    assumptions              {sites, jammers, restricted_zones, propagation}
    timings_s                {step: seconds}
    service_levels           {technology: {quantity, max_range_m, range_source,
                               levels {sms|voice|data: {dl_min_power_dbm, dl_min_sinr_db,
                               ul_min_sinr_db, ul_min_power_dbm, source}}}}
    probability              {sigma (how chosen), correlation, expected people and km² of the
                               primary variant}; per variant expected_population_within_reach,
                               expected_area_km2 and service_limits (nodes by level and limit)
    uncertainty              {samples, seed, method, parameters, variants {name:
                               {population_within_reach {cc: {level: {p10, p50, p90, mean}}},
                               population_within_reach_by_province, area_km2}}, sensitivity,
                               cost}   (only with the scenario's uncertainty section)
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from yalu.io.atomic import atomic_output

__all__ = [
    "SCHEMA",
    "make_summary",
    "read_summary",
    "round_floats",
    "summary_text",
    "write_summary",
]

SCHEMA = "yalu.summary/1"
_SETTLEMENT_KEYS = (
    "geonameid",
    "name",
    "country",
    "province",
    "population",
    "service_level",
    "best_site",
    "lat_deg",
    "lon_deg",
    "duplicate_of",
    "section_of",
    "people_within_reach",
    "admin1_code",
)


def round_floats(obj: Any, digits: int = 6) -> Any:
    """Round every float in a nested structure to ``digits`` significant digits (NaN -> None)."""
    if isinstance(obj, bool) or obj is None or isinstance(obj, int | str):
        return obj
    if isinstance(obj, float):
        if not math.isfinite(obj):
            return None
        return float(f"{obj:.{digits}g}")
    if isinstance(obj, Mapping):
        return {str(k): round_floats(v, digits) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [round_floats(v, digits) for v in obj]
    if hasattr(obj, "item"):  # numpy scalar
        return round_floats(obj.item(), digits)
    return obj


def make_summary(
    *,
    scenario: Mapping[str, Any],
    inputs: Mapping[str, Any],
    variants: Mapping[str, Mapping[str, Any]],
    primary: str,
    assumptions: Mapping[str, Any],
    timings_s: Mapping[str, float],
    notes: list[str] | None = None,
    sections: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Assemble the summary.

    Parameters
    ----------
    scenario : mapping
        ``{"name", "description"}``.
    inputs : mapping
        Terrain, grid, analysis area, scenario hash, yalu version...
    variants : mapping
        Variant name -> ``{"description", "settings", "reach": ReachResult.to_dict(), "sanity"}``,
        in the scenario's order.
    primary : str
        The variant reported at the top level.
    sections : mapping, optional
        Further top-level sections (``service_levels``, ``probability``, ``uncertainty``).
        Variant entries may hold further keys too; they are copied as they are.
    """
    if primary not in variants:
        raise KeyError(primary)
    out_variants: dict[str, Any] = {}
    for name, v in variants.items():
        reach = dict(v["reach"])
        settlements = reach.pop("settlements", [])
        entry = {
            "description": v.get("description", ""),
            "settings": v.get("settings", {}),
            "sanity": v.get("sanity", {}),
            "service_by_settlement": {str(s["geonameid"]): s["service_level"] for s in settlements},
            **reach,
            **{
                k: x
                for k, x in v.items()
                if k not in ("description", "settings", "sanity", "reach")
            },
        }
        out_variants[name] = entry
    prim = variants[primary]["reach"]
    settlements = [{k: s.get(k) for k in _SETTLEMENT_KEYS} for s in prim.get("settlements", [])]
    settlements.sort(key=lambda s: (-int(s["population"] or 0), int(s["geonameid"])))
    summary = {
        "schema": SCHEMA,
        "scenario": dict(scenario),
        "primary_variant": primary,
        "variant_order": list(variants),
        "population_within_reach": prim["population_within_reach"],
        "population_sampling": prim.get("sampling"),
        "area_km2": prim["area_km2"],
        "settlements": settlements,
        "variants": out_variants,
        "inputs": dict(inputs),
        "assumptions": dict(assumptions),
        "notes": list(notes or []),
        "timings_s": {k: round(float(v), 3) for k, v in timings_s.items()},
        **dict(sections or {}),
    }
    return round_floats(summary)  # type: ignore[no-any-return]


def summary_text(summary: Mapping[str, Any]) -> str:
    """The JSON text: sorted keys, 2-space indent, UTF-8, trailing newline."""
    return json.dumps(summary, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def write_summary(
    path: str | os.PathLike[str], summary: Mapping[str, Any], overwrite: bool = False
) -> Path:
    """Write ``summary.json`` atomically."""
    with atomic_output(path, overwrite=overwrite) as tmp:
        tmp.write_text(summary_text(summary), encoding="utf-8")
    return Path(path)


def read_summary(path: str | os.PathLike[str]) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)  # type: ignore[no-any-return]
