"""Figures to compare a run with what has been reported (the report's "Sanity" section).

Computed from the results, never used to tune them:

* how far into the foreign country service reaches (farthest served node, percentiles, the share
  of foreign land served in distance bands from the border);
* how far a user must walk from a jammed town centre to find service (escape distance).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from yalu.analysis.geo import EARTH_RADIUS_M
from yalu.analysis.reach import LEVELS
from yalu.errors import ParameterError
from yalu.geodesy.grid import Grid

__all__ = ["DISTANCE_BANDS_KM", "escape_distance_km", "reach_into_country"]

#: Distance bands from the border [km] for the served share.
DISTANCE_BANDS_KM: tuple[float, ...] = (0.0, 5.0, 10.0, 20.0, 40.0, 60.0, 100.0)


def reach_into_country(
    service_level: Any,
    in_country: Any,
    distance_km: Any,
    bands_km: Sequence[float] = DISTANCE_BANDS_KM,
) -> dict[str, Any]:
    """How far service reaches into a country, per level (cumulative).

    Parameters
    ----------
    service_level : (rows, cols) int array
        0 none .. 3 data.
    in_country : (rows, cols) bool array
        Nodes in the foreign country (in the analysis area).
    distance_km : (rows, cols) float array
        Distance of each node from the border [km].

    Each may also be an array on disk that reads a range of rows alone (``a[r0:r1]``, as
    :class:`yalu.io.spill.DiskArray`): the grid is walked a band of rows at a time, so no
    whole-grid float64 copy or mask is made, and the figures are those of one pass (the served
    distances kept in the grid's order).

    Returns
    -------
    dict
        ``{level: {"max_km", "p95_km", "p50_km", "nodes", "served_share_by_band":
        {"0-5": share, ...}}}``; distances are None where no node is served.
    """
    shapes = [tuple(np.shape(a)) for a in (service_level, in_country, distance_km)]
    if shapes[1] != shapes[0] or shapes[2] != shapes[0]:
        raise ParameterError(
            "in_country / distance_km", f"shapes {shapes[1]}, {shapes[2]}", f"shape {shapes[0]}"
        )
    n_rows = shapes[0][0] if shapes[0] else 0
    width = int(np.prod(shapes[0][1:], dtype=np.int64)) if len(shapes[0]) > 1 else 1
    step = max(1, _REACH_BAND_NODES // max(1, width))
    pairs = list(zip(bands_km[:-1], bands_km[1:], strict=True))
    kept: dict[int, list[np.ndarray]] = {code: [] for code in LEVELS}
    served_n = dict.fromkeys(LEVELS, 0)
    in_band = np.zeros(len(pairs), dtype=np.int64)
    served_band = {code: np.zeros(len(pairs), dtype=np.int64) for code in LEVELS}
    for r0 in range(0, max(n_rows, 1), step):
        r1 = min(r0 + step, n_rows)
        sl = np.asarray(service_level[r0:r1])
        m = np.asarray(in_country[r0:r1], bool)
        d = np.asarray(distance_km[r0:r1], float)
        sel_bands = [m & (d >= lo) & (d < hi) for lo, hi in pairs]
        in_band += [int(sel.sum()) for sel in sel_bands]
        for code in LEVELS:
            served = m & (sl >= code)
            kept[code].append(d[served])
            served_n[code] += int(served.sum())
            served_band[code] += [int((served & sel).sum()) for sel in sel_bands]
    out: dict[str, Any] = {}
    for code, name in LEVELS.items():
        ds = np.concatenate(kept[code]) if kept[code] else np.zeros(0)
        out[name] = {
            "nodes": served_n[code],
            "max_km": float(ds.max()) if ds.size else None,
            "p95_km": float(np.percentile(ds, 95)) if ds.size else None,
            "p50_km": float(np.percentile(ds, 50)) if ds.size else None,
            "served_share_by_band": {
                f"{lo:g}-{hi:g}": float(served_band[code][k] / in_band[k]) if in_band[k] else None
                for k, (lo, hi) in enumerate(pairs)
            },
        }
    return out


#: Grid nodes per band of :func:`reach_into_country`.
_REACH_BAND_NODES = 1 << 20


def escape_distance_km(
    service_level: np.ndarray,
    grid: Grid,
    lat_deg: float,
    lon_deg: float,
    level: int = 1,
    mask: np.ndarray | None = None,
) -> float | None:
    """Great-circle distance [km] from a point to the nearest node with at least ``level``.

    ``mask`` restricts the nodes considered (e.g. to the point's own country). None when no node
    qualifies. A point whose own node is served gives the distance to that node (under half a
    grid step).
    """
    sl = np.asarray(service_level)
    ok = sl >= level
    if mask is not None:
        ok &= np.asarray(mask, bool)
    if not ok.any():
        return None
    lat1, lon1 = grid.lats(), grid.lons()
    p, q = np.radians(lat_deg), np.radians(lon_deg)
    best = np.inf
    # by bands of rows: the served nodes' coordinates and temporaries of one band at a time
    rows = max(1, _ESCAPE_BAND_NODES // max(1, ok.shape[1]))
    for r0 in range(0, ok.shape[0], rows):
        ii, jj = np.nonzero(ok[r0 : r0 + rows])
        if ii.size == 0:
            continue
        la = np.radians(lat1[r0 + ii])
        lo = np.radians(lon1[jj])
        a = np.sin((la - p) / 2) ** 2 + np.cos(p) * np.cos(la) * np.sin((lo - q) / 2) ** 2
        best = min(best, float(np.arcsin(np.sqrt(np.clip(a, 0, 1))).min()))
    return float(2 * EARTH_RADIUS_M / 1000.0 * best)


#: Grid nodes per band of rows in :func:`escape_distance_km`.
_ESCAPE_BAND_NODES = 1 << 20

#: What has been reported (see the scenario's data notes), and the fixed criteria used to compare.
REPORTED = {
    "few_km": "Chinese service usable within a few kilometres of the border (reports from 2010)",
    "jam_20km": "from 2014, users must go ~20 km from jammed town centres to escape the jamming",
    "rare_60km": "a call reported from ~60 km inland (2017): rare deep reach",
    "spill": "jamming spills into Chinese border towns (Tumen, Changbai)",
}


def assess(sanity: dict[str, Any]) -> list[dict[str, Any]]:
    """Compare the computed figures with the reports, by fixed criteria (never tuned).

    ``sanity`` holds ``reach_into`` (from :func:`reach_into_country` for the variant with jammers,
    or the only variant), optionally ``reach_into_unjammed``, and ``jammer_escape`` (a list of
    ``{"name", "jammed_km", "unjammed_km"}``).

    Returns
    -------
    list of dict
        ``{"claim", "reported", "model", "verdict", "criterion"}`` where verdict is ``"agrees"``,
        ``"partly"``, ``"disagrees"`` or ``"not computed"``.
    """
    out: list[dict[str, Any]] = []
    ri = sanity.get("reach_into_unjammed") or sanity.get("reach_into")
    country = sanity.get("country", "the foreign country")
    if ri:
        share = ri["sms"]["served_share_by_band"].get("0-5")
        p50 = ri["sms"]["p50_km"]
        if share is None:
            verdict = "not computed"
            model = f"no nodes of {country} within 5 km of the border"
        else:
            verdict = "agrees" if share >= 0.5 else "partly" if share >= 0.1 else "disagrees"
            model = (
                f"{share:.0%} of {country} land within 5 km of the border has at least SMS without "
                f"jamming; median distance of served nodes {_km(p50)}"
            )
        out.append(
            {
                "claim": "few_km",
                "reported": REPORTED["few_km"],
                "model": model,
                "verdict": verdict,
                "criterion": (
                    "agrees if >= 50 % of the land within 5 km is served, partly if >= 10 %"
                ),
            }
        )
    esc = [e for e in sanity.get("jammer_escape") or [] if e.get("jammed_km") is not None]
    if esc:
        vals = sorted(float(e["jammed_km"]) for e in esc)
        med = (
            vals[len(vals) // 2]
            if len(vals) % 2
            else 0.5 * (vals[len(vals) // 2 - 1] + vals[len(vals) // 2])
        )
        verdict = "agrees" if 10 <= med <= 30 else "partly" if 5 <= med <= 45 else "disagrees"
        model = (
            f"with jammers, the nearest served node (SMS) is a median {med:.1f} km from the jammed "
            f"town centres (range {vals[0]:.1f}-{vals[-1]:.1f} km over {len(vals)} towns)"
        )
        out.append(
            {
                "claim": "jam_20km",
                "reported": REPORTED["jam_20km"],
                "model": model,
                "verdict": verdict,
                "criterion": "agrees if the median escape distance is 10-30 km, partly if 5-45 km",
            }
        )
    else:
        out.append(
            {
                "claim": "jam_20km",
                "reported": REPORTED["jam_20km"],
                "model": "no jammed variant with service near the towns",
                "verdict": "not computed",
                "criterion": "needs a variant with jammers",
            }
        )
    ri = sanity.get("reach_into")
    if ri:
        mx = ri["sms"]["max_km"]
        deep = ri["sms"]["served_share_by_band"].get("40-60")
        if mx is None:
            verdict, model = "disagrees", f"no node of {country} is served"
        else:
            rare = deep is None or deep < 0.1
            verdict = "agrees" if 40 <= mx <= 80 and rare else "partly" if mx >= 25 else "disagrees"
            model = f"farthest served node (SMS) {mx:.1f} km from the border; " + (
                f"{deep:.1%} of the land 40-60 km from the border is served"
                if deep is not None
                else "no land 40-60 km from the border in the area"
            )
        out.append(
            {
                "claim": "rare_60km",
                "reported": REPORTED["rare_60km"],
                "model": model,
                "verdict": verdict,
                "criterion": (
                    "agrees if the farthest served node is 40-80 km away and < 10 % of the "
                    "land 40-60 km away is served; partly if it is >= 25 km"
                ),
            }
        )
    spill = sanity.get("jammer_spill")
    if spill is not None:
        hit = [x for x in spill if x["degraded"]]
        if not spill:
            verdict, model = "not computed", "no home-country settlement near a jammer"
        else:
            verdict = "agrees" if hit else "disagrees"
            model = (
                f"{len(hit)} of {len(spill)} home-country places within 15 km of a jammer lose "
                "service level to the jammers"
                + (
                    ": "
                    + ", ".join(f"{x['name']} ({x['unjammed']} -> {x['jammed']})" for x in hit[:8])
                    if hit
                    else ""
                )
            )
        out.append(
            {
                "claim": "spill",
                "reported": REPORTED["spill"],
                "model": model,
                "verdict": verdict,
                "criterion": (
                    "agrees if at least one home-country place within 15 km of a jammer "
                    "loses a level"
                ),
            }
        )
    return out


def _km(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.1f} km"
