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

Two more rows strip the sampling pass to what any sampled profile needs: the points alone
(cubic pieces evaluated in grid-index space, each stored), and the points with their bilinear
terrain heights stored (no sums, no range, no void checks). With ``--coverage-json`` (the JSON of
``bench_coverage.py``, run side by side) the script also prints the budget that exact mode's 3x
target leaves per profile sample: SPLAT!'s median wall time at ``--radius-km`` over 3, times
the threads, over every node's profile samples (the map's nodes inside the radius, each with
its own count), with nothing else charged (no start-up, geodesics or writing), next to those
floors.

Usage: python benchmarks/bench_exact_profile.py [--radius-km 100] [--rows 24] [--threads 2]
    [--coverage-json cov.json]
"""

from __future__ import annotations

import argparse
import json
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
from yalu.terrain.kernels import bilinear_inside, bilinear_point

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


@njit(cache=True)
def _floor(elev, north, west, dlat, dlon, lats, lons, dist, az, step, terrain):  # type: ignore[no-untyped-def]
    """The sampling pass stripped to its floor, pieces included: each profile point in
    grid-index space (``terrain`` False: the two indices' sum stored) or its bilinear terrain
    height stored (True), nothing else. Needs the profiles inside the window, void-free (the
    bench terrain's). Returns a checksum."""
    n_max = int(dist.max() / step) + 3
    n_pieces = profile_pieces((n_max + 1) * step) + 1
    seg_k = np.empty(n_pieces + 1, dtype=np.int64)
    coef = np.empty((n_pieces + 1, 8))
    pz = np.empty(n_max)
    flat = elev.reshape(-1)
    ncols = np.uint64(elev.shape[1])
    acc = 0.0
    for q in range(lats.shape[0]):
        n = max(1, round(dist[q] / step))
        n_seg = profile_segments(SITE[0], SITE[1], lats[q], lons[q], n, az[q], dist[q], seg_k,
                                 coef)  # fmt: skip
        for s in range(n_seg):
            c = coef[s]
            k0 = seg_k[s]
            inv = 1.0 / (seg_k[s + 1] - k0)
            a0 = (north - c[0]) / dlat
            a1 = -c[1] / dlat
            a2 = -c[2] / dlat
            a3 = -c[3] / dlat
            b0 = (c[4] - west) / dlon
            b1 = c[5] / dlon
            b2 = c[6] / dlon
            b3 = c[7] / dlon
            if terrain:
                for k in range(k0 + 1, seg_k[s + 1]):
                    t = (k - k0) * inv
                    pz[k] = bilinear_inside(
                        flat, ncols, a0 + t * (a1 + t * (a2 + t * a3)),
                        b0 + t * (b1 + t * (b2 + t * b3)),
                    )  # fmt: skip
            else:
                for k in range(k0 + 1, seg_k[s + 1]):
                    t = (k - k0) * inv
                    pz[k] = (a0 + t * (a1 + t * (a2 + t * a3))) + (
                        b0 + t * (b1 + t * (b2 + t * b3))
                    )
        acc += pz[n // 2]
    return acc


def _best_thread_time(fn, *a) -> float:  # type: ignore[no-untyped-def]
    best = math.inf
    for _ in range(3):
        t0 = time.thread_time()
        fn(*a)
        best = min(best, time.thread_time() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--radius-km", type=float, default=100.0)
    ap.add_argument("--rows", type=int, default=24, help="grid rows sampled (evenly spread)")
    ap.add_argument("--threads", type=int, default=2, help="threads the projection assumes")
    ap.add_argument("--coverage-json", type=Path, default=None,
                    help="bench_coverage.py's JSON: SPLAT!'s time for the 3x budget")  # fmt: skip
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
        best = _best_thread_time(_stages, elev, *geo, lats, lons, dist, az, spec.step_m, p, stage)
        times.append(best / lats.size)
    floors = []
    for terrain in (False, True):
        _floor(elev, *geo, lats[:10], lons[:10], dist[:10], az[:10], spec.step_m, terrain)
        best = _best_thread_time(_floor, elev, *geo, lats, lons, dist, az, spec.step_m, terrain)
        floors.append(best / lats.size - times[0])
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
    print("\nFloors of the sampling pass (pieces not included):\n")
    print("| what | us/node | ns/sample |")
    print("|---|---|---|")
    for name, tt in (("points only (cubic pieces in grid-index space)", floors[0]),
                     ("points and bilinear terrain, stored, nothing else", floors[1]),
                     ("the whole sampling pass (above)", own[1])):  # fmt: skip
        print(f"| {name} | {tt * 1e6:.2f} | {tt * 1e9 / samples:.2f} |")
    if args.coverage_json is not None:
        cov = json.loads(args.coverage_json.read_text())
        r_km = f"{args.radius_km:g}"
        if f"splat{r_km}" not in cov:
            raise SystemExit(f"--coverage-json: no SPLAT! run at {r_km} km in {args.coverage_json}")
        splat_s = float(cov[f"splat{r_km}"]["wall_s"])
        inside = d_all <= spec.radius_m
        all_samples = float(np.maximum(1, np.rint(d_all[inside] / spec.step_m)).sum())
        budget = splat_s / 3.0 * args.threads / all_samples
        print(
            f"\n3x SPLAT! at {args.radius_km:g} km: SPLAT! {splat_s:.1f} s (median), so at most "
            f"{splat_s / 3:.1f} s for exact mode; {all_samples / 1e9:.2f} G profile samples "
            f"(every node inside, {all_samples / n_inside:.0f} a node) on {args.threads} "
            f"threads leave **{budget * 1e9:.2f} ns a sample** with nothing else charged. "
            f"Measured: points and terrain alone {floors[1] * 1e9 / samples:.2f} ns, with "
            f"the pieces {(floors[1] + own[0]) * 1e9 / samples:.2f} ns; all of exact mode "
            f"{total * 1e9 / samples:.2f} ns."
        )
        if f"exact{r_km}_t2" in cov:
            print(f"exact mode at {r_km} km in that run: "
                  f"{float(cov[f'exact{r_km}_t2']['wall_s']):.1f} s (median).")  # fmt: skip


if __name__ == "__main__":
    main()
