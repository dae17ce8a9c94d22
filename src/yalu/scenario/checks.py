"""Sanity checks of a scenario run against what is reported from the ground.

For each variant: how far service reaches into the foreign country, how far from each jammer
service escapes, and which home-country settlements near a jammer lose service to it (spill-over).
The figures come from :mod:`yalu.analysis.sanity`; this module pairs variants with their
unjammed twins and finds the home and foreign countries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from yalu.analysis.area import UNKNOWN, NodeCountries, Regions
from yalu.analysis.reach import ReachResult
from yalu.analysis.sanity import assess, escape_distance_km, reach_into_country
from yalu.geodesy import Grid, azimuth_distance
from yalu.radio import Service
from yalu.scenario.adapt import SectorCarrier, variant_technologies
from yalu.scenario.models import Scenario, Variant

__all__ = ["SPILL_RADIUS_KM", "VariantOutcome", "home_and_foreign", "sanity_checks"]

#: Home-country places this close to a jammer are checked for spill-over [km].
SPILL_RADIUS_KM = 15.0


@dataclass
class VariantOutcome:
    """The result of one variant: its layers, reach and sanity figures."""

    variant: Variant
    #: int8 levels 0-3 of every node: an array, or a :class:`~yalu.io.spill.DiskArray` read
    #: on use when the run keeps its layers on disk
    service_level: Any
    reach: ReachResult
    sanity: dict[str, Any]
    layers: Mapping[str, Any]
    sector_ids: list[str]
    #: further summary entries of the variant (expected reach, service limits)
    extra: dict[str, Any] = field(default_factory=dict)


def home_and_foreign(
    sectors: list[SectorCarrier],
    regions: Regions,
    node_country: NodeCountries,
    in_area: np.ndarray,
) -> tuple[str | None, str | None]:
    """The country most sites stand in, and the other country most nodes of the area lie in."""
    if not sectors:
        return None, None
    lab = regions.label_points([s.site.lat_deg for s in sectors], [s.site.lon_deg for s in sectors])
    cs = [regions.countries[k] for k in lab if k >= 0]
    if not cs:
        return None, None
    home = max(sorted(set(cs)), key=cs.count)
    others = {c: n for c, n in node_country.counts(in_area).items()
              if c not in (home, UNKNOWN) and n > 0}  # fmt: skip
    if not others:
        return home, None
    # the most nodes; a tie goes to the first name in order
    return home, max(sorted(others), key=lambda c: others[c])


def _spill(
    oc: VariantOutcome, twin: VariantOutcome, sc: Scenario, home: str
) -> list[dict[str, Any]]:
    """Home-country settlements near a jammer: service with and without the jammers."""
    rank = {s.name.lower(): int(s) for s in Service}
    twin_level = {r["geonameid"]: r["service_level"] for r in twin.reach.settlements}
    out = []
    for r in oc.reach.settlements:
        if r["country"] != home or r["duplicate_of"] is not None:
            continue
        near = []
        for j in sc.jammers:
            _, d_m = azimuth_distance(j.lat_deg, j.lon_deg, r["lat_deg"], r["lon_deg"])
            near.append((float(d_m) / 1000.0, j))
        d, j = min(near, key=lambda t: t[0])
        if d > SPILL_RADIUS_KM:
            continue
        free = twin_level.get(r["geonameid"], "none")
        out.append({"name": r["name"], "population": r["population"], "jammer": j.name or j.id,
                    "distance_km": d, "jammed": r["service_level"], "unjammed": free,
                    "degraded": rank[r["service_level"]] < rank[free]})  # fmt: skip
    return out


def _unjammed_twin(
    oc: VariantOutcome, outcomes: list[VariantOutcome], sc: Scenario
) -> VariantOutcome | None:
    """The variant with the same handset and technologies but no jammers (itself if unjammed)."""
    if not oc.variant.jammers:
        return oc
    h = sc.handset(oc.variant.handset).name
    techs = variant_technologies(sc, oc.variant)
    for o in outcomes:
        v = o.variant
        if (
            not v.jammers
            and sc.handset(v.handset).name == h
            and variant_technologies(sc, v) == techs
        ):
            return o
    return None


def sanity_checks(
    outcomes: list[VariantOutcome],
    sc: Scenario,
    grid: Grid,
    in_foreign: np.ndarray,
    border_km: Any,
    country: str,
    home: str | None,
) -> None:
    """Fill each outcome's ``sanity``: reach into ``country``, jammer escape and spill-over."""
    for oc in outcomes:
        twin = _unjammed_twin(oc, outcomes, sc)
        san: dict[str, Any] = {
            "country": country,
            "home_country": home,
            "reach_into": reach_into_country(oc.service_level, in_foreign, border_km),
        }
        if twin is not None and twin is not oc:
            san["reach_into_unjammed"] = reach_into_country(
                twin.service_level, in_foreign, border_km
            )
        if oc.variant.jammers and sc.jammers:
            esc = []
            for j in sc.jammers:
                unjammed = (
                    escape_distance_km(
                        twin.service_level, grid, j.lat_deg, j.lon_deg, 1, in_foreign
                    )
                    if twin is not None
                    else None
                )
                esc.append({
                    "id": j.id, "name": j.name or j.id,
                    "jammed_km": escape_distance_km(oc.service_level, grid, j.lat_deg, j.lon_deg, 1,
                                                    in_foreign),
                    "unjammed_km": unjammed,
                })  # fmt: skip
            san["jammer_escape"] = esc
            if twin is not None and home is not None:
                san["jammer_spill"] = _spill(oc, twin, sc, home)
        san["assessment"] = assess(san)
        oc.sanity = san
