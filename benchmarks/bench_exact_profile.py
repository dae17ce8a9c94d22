"""Where exact mode's time goes: cost per node of each stage, on the shared bench terrain.

Exact mode computes, for every node, its own geodesic profile from the site and ITM on it. This
script takes the nodes of ``--rows`` grid rows spread over the bench job (3" SDF, site 41.418 N
24.178 E, 40 m, 1.5 m, 900 MHz, ``--radius-km``), in row order (neighbouring nodes share most
of their terrain in cache; the engine takes a band's nodes by azimuth, which on this grid, spaced
as the terrain, gains little over row order), and times on one thread, in compiled
code, the stages exact mode runs per node:

- node geodesics (pyproj, as exact mode uses, vectorized; Vincenty in numba for comparison);
- the profile's cubic pieces (``geodesy.kernels.profile_segments``: Vincenty anchors <= 16 km
  apart);
- the sampling pass (``coverage._kernels._sample_profile``: points in grid-index space, bilinear
  terrain, and the sums ITM's profile analysis needs);
- ITM's profile analysis given those sums (``p2p_geometry_given``: horizons, delta_h,
  least-squares fits);
- the frequency-dependent rest (``p2p_from_geometry``);

then prints microseconds per node, nanoseconds per profile sample, and the time these costs
imply for all nodes of the map on ``--threads`` threads, next to the stage's share. Times are
the thread's CPU time (best of 3), so that a machine shared with other work disturbs them less
than wall time would. The sum is a floor for exact mode (no stage can be skipped for a node's
own profile), which is what bounds its speed against SPLAT! (``bench_coverage.py``).

Usage: python benchmarks/bench_exact_profile.py [--radius-km 100] [--rows 24] [--threads 2]
"""

from __future__ import annotations

import argparse
import math
import tarfile
import tempfile
import time
from pathlib import Path

import numba
import numpy as np
from numba import njit

from yalu.coverage import engine as E
from yalu.coverage._kernels import _sample_profile
from yalu.geodesy.kernels import inverse_many, profile_pieces, profile_segments
from yalu.propagation import itm_kernels as I
from yalu.terrain import open_terrain
from yalu.terrain.kernels import bilinear_point

ROOT = Path(__file__).resolve().parents[1]
TAR = ROOT / ".." / "shared" / "bench" / "sdf_3arcsec_40-43N_22-26E.tar.xz"
SITE = (41.418, 24.178)


@njit(cache=True)
def _stages(elev, north, west, dlat, dlon, lats, lons, dist, az, step, p, stage):  # type: ignore[no-untyped-def]
    """Run the stages up to ``stage`` for every node; return a checksum (keeps work alive)."""
    n_max = int(dist.max() / step) + 3
    n_pieces = profile_pieces((n_max + 1) * step) + 1
    seg_k = np.empty(n_pieces + 1, dtype=np.int64)
    coef = np.empty((n_pieces + 1, 8))
    pz = np.empty(n_max)
    scratch = np.empty(I.SCRATCH_LEN)
    geom = np.empty(I.G_LEN)
    outv = np.empty(I.OUT_LEN)
    z_site = bilinear_point(elev, north, west, dlat, dlon, SITE[0], SITE[1])
    acc = 0.0
    h1 = p[0]
    h2 = p[1]
    for q in range(lats.shape[0]):
        n = max(1, round(dist[q] / step))
        st = dist[q] / n
        if stage == 0:
            acc += profile_segments(SITE[0], SITE[1], lats[q], lons[q], n, az[q], dist[q], seg_k,
                                    coef)  # fmt: skip
            continue
        ok, total, z_lo, z_hi = _sample_profile(
            elev, north, west, dlat, dlon, SITE[0], SITE[1], z_site, lats[q], lons[q], n, az[q],
            dist[q], seg_k, coef, pz, True, n,
        )  # fmt: skip
        acc += total
        if stage >= 2:
            p10 = int(0.1 * n)
            I.p2p_geometry_given(pz, 0, n, st, h1, h2, p[2], total / (n - 2 * p10 + 1), z_lo,
                                 z_hi, scratch, geom)  # fmt: skip
            acc += geom[I.G_DELTA_H]
        if stage >= 3:
            acc += I.p2p_from_geometry(
                geom, n, st, h1, h2, 900.0, 5, p[2], 1, 15.0, 0.005, 12, 50.0, 50.0, 50.0, outv
            )
    return acc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--radius-km", type=float, default=100.0)
    ap.add_argument("--rows", type=int, default=24, help="grid rows sampled (evenly spread)")
    ap.add_argument("--threads", type=int, default=2, help="threads the projection assumes")
    args = ap.parse_args()
    numba.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(TAR) as tf:
            tf.extractall(tmp, filter="data")
        t = open_terrain(next(Path(tmp).rglob("*.sdf")).parent)
        spec = E.make_tile_spec(t, SITE, args.radius_km * 1e3, h_tx_m=40.0, frequency_mhz=900.0,
                                mode="exact")  # fmt: skip
    g = spec.grid
    la, lo = np.meshgrid(g.lats(), g.lons(), indexing="ij")
    la, lo = la.ravel(), lo.ravel()
    d_all = np.empty(la.size)
    az_all = np.empty(la.size)
    t0 = time.thread_time()
    inverse_many(SITE[0], SITE[1], la, lo, d_all, az_all)
    t_vin = (time.thread_time() - t0) / la.size
    from yalu.geodesy import WGS84

    t0 = time.thread_time()
    WGS84.inv(np.full(la.size, SITE[1]), np.full(la.size, SITE[0]), lo, la)
    t_pyproj = (time.thread_time() - t0) / la.size
    n_inside = int((d_all <= spec.radius_m).sum())
    rows = np.unique(np.linspace(0, g.shape[0] - 1, args.rows).round().astype(np.int64))
    on_rows = np.zeros(g.shape, dtype=bool)
    on_rows[rows] = True
    pick = np.flatnonzero(on_rows.ravel() & (d_all <= spec.radius_m))
    lats, lons, dist, az = la[pick], lo[pick], d_all[pick], az_all[pick]
    elev = spec.elevation_m
    p = np.array([40.0, 1.5, 301.0])
    geo = (
        spec.terrain_north_deg,
        spec.terrain_west_deg,
        spec.terrain_dlat_deg,
        spec.terrain_dlon_deg,
    )
    names = [
        "profile pieces (Vincenty anchors)",
        "sampling pass (points, terrain, sums)",
        "ITM profile analysis (p2p_geometry_given)",
        "ITM attenuation + variability",
    ]
    times = []
    for stage in range(4):
        _stages(elev, *geo, lats[:10], lons[:10], dist[:10], az[:10], spec.step_m, p, stage)
        best = math.inf
        for _ in range(3):
            t0 = time.thread_time()
            _stages(elev, *geo, lats, lons, dist, az, spec.step_m, p, stage)
            best = min(best, time.thread_time() - t0)
        times.append(best / lats.size)
    samples = float(np.mean(np.maximum(1, np.rint(dist / spec.step_m))))
    # stage 1 includes the pieces (the sampling pass computes them itself)
    own = [times[0], times[1] - times[0], times[2] - times[1], times[3] - times[2]]
    total = times[3] + t_pyproj
    print(
        f"bench terrain, {args.radius_km:g} km, {n_inside:,} nodes inside, {lats.size:,} nodes "
        f"on {rows.size} rows, {samples:.0f} profile samples per node on average, 1 thread\n"
    )
    print(
        "| stage | us/node | ns/sample | share of a node | s for all nodes on "
        f"{args.threads} threads |"
    )
    print("|---|---|---|---|---|")
    table = [("node geodesic, pyproj (exact mode)", t_pyproj),
             ("node geodesic, Vincenty numba (for comparison)", t_vin)]  # fmt: skip
    table += list(zip(names, own, strict=True))
    for name, tt in table:
        share = "" if "for comparison" in name else f"{100 * tt / total:.0f}%"
        print(
            f"| {name} | {tt * 1e6:.2f} | {tt * 1e9 / samples:.1f} | {share} | "
            f"{tt * n_inside / args.threads:.1f} |"
        )
    print(
        f"| **sum (exact mode per node)** | {total * 1e6:.2f} "
        f"| {total * 1e9 / samples:.1f} | 100% | "
        f"{total * n_inside / args.threads:.1f} |"
    )


if __name__ == "__main__":
    main()
