"""A point-to-point path report: ITM loss, mode and warnings, obstacles and clearance.

What SPLAT!'s path report gives (``splat -t tx -r rx``): the loss of the path and its propagation
mode, the obstructions of the line of sight and of the first Fresnel zone, and the loss along
the path. Geometry from :mod:`yalu.propagation.clearance` (ITU-R P.526-15 eq. (2), P.530-18
§2.2.2), loss from :mod:`yalu.propagation.itm` (NTIA ITM v1.4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from yalu.errors import ITMError, check_range
from yalu.propagation import itm as _itm
from yalu.propagation.clearance import PathClearance

__all__ = ["FRESNEL_CRITERION", "Obstacle", "PathReport", "find_obstacles",
           "itm_loss_along_path_db", "path_report"]  # fmt: skip

#: Fraction of the first Fresnel zone radius a line-of-sight link keeps clear (ITU-R P.530-18
#: §2.2.2, median refraction).
FRESNEL_CRITERION = 0.6


@dataclass(frozen=True)
class Obstacle:
    """The worst point of one stretch of terrain that intrudes on the path.

    ``fresnel_fraction`` is the clearance over the first Fresnel zone radius (None without a
    frequency); ``blocks_los`` is True when the terrain rises above the line of sight.
    """

    index: int
    distance_m: float
    lat_deg: float
    lon_deg: float
    elevation_m: float
    clearance_m: float
    fresnel_fraction: float | None

    @property
    def blocks_los(self) -> bool:
        return self.clearance_m < 0.0


def find_obstacles(
    clearance: PathClearance, lat_deg: Any, lon_deg: Any, elevation_m: Any,
    criterion: float = FRESNEL_CRITERION, max_obstacles: int = 10,
) -> list[Obstacle]:  # fmt: skip
    """The terrain peaks that intrude on the path, in order along it.

    A peak is an interior point where the clearance (as a fraction of the first Fresnel zone
    radius, or in metres without a frequency) has a local minimum below ``criterion`` (below
    0 m, the line of sight, without a frequency). At most ``max_obstacles``, the worst ones.
    """
    c = np.asarray(clearance.clearance_m, dtype=float)
    frac: np.ndarray | None = None
    score, limit = c, 0.0
    if clearance.fresnel_m is not None:
        r1 = np.asarray(clearance.fresnel_m, dtype=float)
        frac = c / np.where(r1 > 0, r1, np.inf)
        score, limit = frac, criterion
    n = c.size
    if n < 3:
        return []
    mid = score[1:-1]
    # local minima (the first point of a flat bottom counts once)
    peak = (mid < limit) & (mid <= score[:-2]) & (mid < score[2:])
    idx = np.flatnonzero(peak) + 1
    if idx.size > max_obstacles:
        idx = np.sort(idx[np.argsort(score[idx], kind="stable")[:max_obstacles]])
    return [
        Obstacle(
            index=int(k), distance_m=float(clearance.distance_m[k]), lat_deg=float(lat_deg[k]),
            lon_deg=float(lon_deg[k]), elevation_m=float(elevation_m[k]),
            clearance_m=float(c[k]), fresnel_fraction=None if frac is None else float(frac[k]),
        )
        for k in idx
    ]  # fmt: skip


def itm_loss_along_path_db(
    elevation_m: Any, step_m: float, h_tx_m: float, h_rx_m: float, frequency_mhz: float,
    max_points: int = 200, **itm_options: Any,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """ITM loss from the start of a profile to points along it (a receiver at each point).

    Parameters
    ----------
    elevation_m : array_like
        Terrain profile [m], first point under the transmitter.
    step_m : float
        Point spacing [m].
    h_tx_m, h_rx_m, frequency_mhz
        As :func:`yalu.propagation.itm.p2p`.
    max_points : int
        At most this many receiver positions, evenly spread (the work grows with the square of
        the profile length).
    **itm_options
        ``climate``, ``n0``, ``polarization`` (ints), ``epsilon``, ``sigma``, ``mdvar``,
        ``time_pct``, ``location_pct``, ``situation_pct`` of :func:`yalu.propagation.itm.p2p_batch`.

    Returns
    -------
    distance_m, loss_db : ndarray
        Receiver distances [m] and basic transmission loss [dB] (NaN where ITM refuses the
        case).
    """
    elev = np.asarray(elevation_m, dtype=np.float64)
    check_range("max_points", max_points, 2, 100_000)
    n = elev.size
    ends = np.unique(np.round(np.linspace(1, n - 1, min(max_points, n - 1))).astype(np.int64))
    offsets = np.zeros(ends.size + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(ends + 1)
    flat = np.concatenate([elev[: e + 1] for e in ends])
    res = _itm.p2p_batch(flat, offsets, step_m, h_tx_m, h_rx_m, frequency_mhz, **itm_options)
    loss = np.where(res.rtn >= 1000, np.nan, res.loss_db)
    return ends * float(step_m), loss


@dataclass(frozen=True)
class PathReport:
    """ITM over the whole path, the obstacles, and the loss along the path.

    ``itm`` is None when ITM refuses the path (``itm_error`` says why, e.g. terrain outside its
    refractivity limits); the geometry is reported all the same.
    """

    itm: _itm.ITMResult | None
    obstacles: list[Obstacle]
    clearance: PathClearance
    along_distance_m: np.ndarray
    along_loss_db: np.ndarray
    itm_error: str | None = None

    def lines(self) -> list[str]:
        """The report as text lines (enum names, not codes)."""
        r, c = self.itm, self.clearance
        freq = f"{c.frequency_mhz:g} MHz" if c.frequency_mhz is not None else "-"
        length_km = float(c.distance_m[-1]) / 1000.0
        out = [f"path length: {length_km:.3f} km, frequency {freq}, antennas {c.h_tx_m:g} m / "
               f"{c.h_rx_m:g} m above ground"]  # fmt: skip
        if r is None:
            out.append(f"ITM: not computed: {self.itm_error}")
        else:
            out += [
                f"ITM basic transmission loss: {r.loss_db:.1f} dB (free space {r.a_fs_db:.1f} "
                f"dB, {r.loss_db - r.a_fs_db:+.1f} dB over it)",
                f"ITM mode: {r.mode.name}",
                f"ITM warnings: {r.warnings}",
                f"ITM horizons: {r.d_hzn_m[0] / 1000:.2f} km from the transmitter, "
                f"{r.d_hzn_m[1] / 1000:.2f} km from the receiver; terrain irregularity "
                f"delta_h {r.delta_h_m:.1f} m",
            ]
        out.append(f"line of sight: {'OBSTRUCTED' if c.min_clearance_m < 0 else 'clear'}, "
                   f"minimum clearance {c.min_clearance_m:.1f} m")  # fmt: skip
        f = c.min_fresnel_fraction
        if f is not None:
            ok = "meets" if f >= FRESNEL_CRITERION else "fails"
            out.append(f"first Fresnel zone: worst clearance {f * 100:.0f} % of its radius "
                       f"({ok} the {FRESNEL_CRITERION * 100:.0f} % criterion "
                       "of ITU-R P.530)")  # fmt: skip
        crit = ("the line of sight" if c.fresnel_m is None
                else f"{FRESNEL_CRITERION * 100:.0f} % of the first Fresnel zone")  # fmt: skip
        out.append(f"obstacles (terrain peaks inside {crit}): {len(self.obstacles)}")
        for o in self.obstacles:
            fr = "" if o.fresnel_fraction is None else f", {o.fresnel_fraction * 100:.0f} % of r1"
            out.append(f"  at {o.distance_m / 1000:.3f} km ({o.lat_deg:.5f}, {o.lon_deg:.5f}): "
                       f"ground {o.elevation_m:.0f} m, clearance {o.clearance_m:.1f} m{fr}"
                       + (" (blocks the line of sight)" if o.blocks_los else ""))  # fmt: skip
        return out


def path_report(
    profile: Any, clearance: PathClearance, frequency_mhz: float, max_points: int = 200,
    **itm_options: Any,
) -> PathReport:  # fmt: skip
    """ITM over ``profile`` (a :class:`yalu.geodesy.Profile`) and the path's obstacles.

    ``itm_options`` as :func:`itm_loss_along_path_db`; heights are the clearance's. An input
    ITM refuses for this path (its error codes 1016-1022, e.g. terrain so high that the
    refractivity leaves ITM's range) gives a report without ITM figures; other bad input raises.
    """
    elev = np.asarray(profile.elevation_m, dtype=float)
    obstacles = find_obstacles(clearance, profile.lat_deg, profile.lon_deg, elev)
    try:
        res = _itm.p2p(elev, profile.step_m, clearance.h_tx_m, clearance.h_rx_m, frequency_mhz,
                       **itm_options)  # fmt: skip
    except ITMError as exc:
        if exc.code < 1016:  # the caller's parameters: raise
            raise
        nan = np.full(0, np.nan)
        return PathReport(None, obstacles, clearance, nan, nan, itm_error=str(exc))
    d, loss = itm_loss_along_path_db(elev, profile.step_m, clearance.h_tx_m, clearance.h_rx_m,
                                     frequency_mhz, max_points, **itm_options)  # fmt: skip
    return PathReport(res, obstacles, clearance, d, loss)
