"""Where exact mode's time goes: cost per node of each stage, on the shared bench terrain.

Exact mode computes, for every node, its own geodesic profile from the site and ITM on it. This
script takes a random sample of the nodes of the bench job (3" SDF, site 41.418 N 24.178 E,
40 m, 1.5 m, 900 MHz, ``--radius-km``) and times, on one thread, in compiled code, each stage
over the same profiles:

- node geodesics (Vincenty inverse, numba; pyproj as exact mode uses, vectorized);
- profile points along the geodesic (``_geodesic.profile_points``);
- terrain sampling (bilinear, ``bilinear_point``);
- ITM's profile analysis: mean path height, horizons, delta_h, least-squares fits
  (``itm_kernels``), all of it (``p2p_geometry``, which also checks the profile), and the
  frequency-dependent rest (``p2p_from_geometry``);

then prints microseconds per node, nanoseconds per profile sample, and the time these costs
imply for all nodes of the map on ``--threads`` threads, next to the stage's share. Times are
the thread's CPU time (best of 3), so that a machine shared with other work disturbs them less
than wall time would. The
sum is a floor for exact mode (no stage can be skipped for a node's own profile), which is what
bounds its speed against SPLAT! (``bench_coverage.py``).

Usage: python benchmarks/bench_exact_profile.py [--radius-km 100] [--nodes 20000] [--threads 2]
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
from yalu.geodesy.kernels import inverse_many, profile_points
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
    plat = np.empty(n_max)
    plon = np.empty(n_max)
    pz = np.empty(n_max)
    scratch = np.empty(I.SCRATCH_LEN)
    geom = np.empty(I.G_LEN)
    outv = np.empty(I.OUT_LEN)
    z_site = bilinear_point(elev, north, west, dlat, dlon, SITE[0], SITE[1])
    acc = 0.0
    h1 = p[0]
    h2 = p[1]
    a_e = 8.5e6
    for q in range(lats.shape[0]):
        n = max(1, round(dist[q] / step))
        st = dist[q] / n
        profile_points(SITE[0], SITE[1], lats[q], lons[q], n, az[q], dist[q], plat, plon)
        if stage >= 1:
            pz[0] = z_site
            for k in range(1, n + 1):
                pz[k] = bilinear_point(elev, north, west, dlat, dlon, plat[k], plon[k])
        if stage == 3:
            acc += I.mean_path_height(pz, 0, n)
        elif stage == 4:
            acc += I.find_horizons(pz, 0, n, st, a_e, h1, h2)[0]
        elif stage == 5:
            acc += I.terrain_delta_h(
                pz,
                0,
                n,
                st,
                min(15 * h1, 0.1 * n * st),
                n * st - min(15 * h2, 0.1 * n * st),
                scratch,
            )
        elif stage == 6:
            acc += I.least_squares_line(pz, 0, n, st, 0.05 * n * st, 0.9 * n * st)[0]
        elif stage == 7:
            I.p2p_geometry(pz, 0, n, st, h1, h2, p[2], scratch, geom)
            acc += geom[1]
        elif stage == 8:
            I.p2p_geometry(pz, 0, n, st, h1, h2, p[2], scratch, geom)
            acc += I.p2p_from_geometry(
                geom, n, st, h1, h2, 900.0, 5, p[2], 1, 15.0, 0.005, 12, 50.0, 50.0, 50.0, outv
            )
        acc += plat[n]
    return acc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--radius-km", type=float, default=100.0)
    ap.add_argument("--nodes", type=int, default=20000)
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
    inside = np.nonzero(d_all <= spec.radius_m)[0]
    n_inside = inside.size
    rng = np.random.default_rng(1)
    pick = np.sort(rng.choice(inside, min(args.nodes, n_inside), replace=False))
    lats, lons, dist, az = la[pick], lo[pick], d_all[pick], az_all[pick]
    elev = spec.elevation_m
    p = np.array([40.0, 1.5, 301.0])
    geo = (
        spec.terrain_north_deg,
        spec.terrain_west_deg,
        spec.terrain_dlat_deg,
        spec.terrain_dlon_deg,
    )
    names = ["profile points", "terrain (bilinear)", "(unused)", "mean path height",
             "horizons", "delta_h", "least squares (one fit)", "ITM geometry (all of it)",
             "ITM attenuation + variability"]  # fmt: skip
    times = []
    for stage in range(9):
        _stages(elev, *geo, lats[:10], lons[:10], dist[:10], az[:10], spec.step_m, p, stage)
        best = math.inf
        for _ in range(3):
            t0 = time.thread_time()
            _stages(elev, *geo, lats, lons, dist, az, spec.step_m, p, stage)
            best = min(best, time.thread_time() - t0)
        times.append(best / lats.size)
    samples = float(np.mean(np.maximum(1, np.rint(dist / spec.step_m))))
    own = [times[0], times[1] - times[0]] + [times[k] - times[1] for k in range(2, 8)]
    own.append(times[8] - times[7])
    total = times[8] + t_pyproj
    print(
        f"bench terrain, {args.radius_km:g} km, {n_inside:,} nodes inside, sample {lats.size:,}, "
        f"{samples:.0f} profile samples per node on average, 1 thread\n"
    )
    print(
        "| stage | us/node | ns/sample | share of a node | s for all nodes on "
        f"{args.threads} threads |"
    )
    print("|---|---|---|---|---|")
    rows = [
        ("node geodesic, pyproj (exact mode)", t_pyproj),
        ("node geodesic, Vincenty numba", t_vin),
    ]
    rows += list(zip(names, own, strict=True))
    for name, tt in rows:
        if name == "(unused)":
            continue
        share = "" if name.startswith("node geodesic, Vincenty") else f"{100 * tt / total:.0f}%"
        print(
            f"| {name} | {tt * 1e6:.2f} | {tt * 1e9 / samples:.1f} | {share} | "
            f"{tt * n_inside / args.threads:.1f} |"
        )
    print(
        f"| **sum (exact mode per node)** | {total * 1e6:.2f} "
        f"| {total * 1e9 / samples:.1f} | 100% | "
        f"{total * n_inside / args.threads:.1f} |"
    )
    print(
        "\n(stages inside ITM geometry are listed for what they cost alone; 'ITM geometry' is "
        "the whole of it, the sum counts that line, not its parts)"
    )


if __name__ == "__main__":
    main()
