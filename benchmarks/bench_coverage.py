"""Coverage benchmark: yalu (fast, exact, hybrid) against SPLAT! 1.4.2 on the shared bench job.

Installs nothing. Expects ``splat`` on PATH (Debian package ``splat``), ``/usr/bin/time`` (GNU
time, for peak memory) and ``../shared/bench`` beside the repository root.

Job (``shared/bench/README.md``): 3" SDF terrain, TX 41.418 N 24.178 E 40 m, RX 1.5 m, 900 MHz,
``tx.lrp`` parameters, ITM with mdvar 12 and 50/50/50 as SPLAT!'s ``-olditm`` hard-codes.

It runs, each as a separate process timed by GNU time (wall, peak RSS):
- SPLAT! ``-olditm`` at 50 and 100 km, ``--repeats`` times each (medians);
- ``yalu coverage`` fast mode at 100 km: once with an empty numba cache (JIT warm-up), then
  ``--repeats`` times on 2 threads and on 1 thread (medians);
- fast mode at 50 km on 2 and 1 threads; exact mode at 50 km on 2 threads;
- exact mode at 100 km on 2 threads, ``--repeats`` times (skip with ``--skip-exact-100``);
- hybrid mode at 100 km on 2 threads, ``--repeats`` times (skip with ``--skip-hybrid``);

then prints a table (wall, in-process compute time, peak memory, speed-up vs SPLAT! at the same
radius) and agreement statistics: fast vs exact at 50 km, fast and hybrid vs exact at 100 km,
and yalu vs SPLAT! (SPLAT!'s ``-ano``
samples matched to the nearest yalu node; SPLAT! gives each node to the first radial that reaches
it, so only statistics are meaningful).

Usage: python benchmarks/bench_coverage.py [--repeats 3] [--json out.json] [--skip-splat]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / ".." / "shared" / "bench"
SITE = (41.418, 24.178)
SPLAT_TARGET = 20.0  # required speed-up of fast mode (issue 10)
SPLAT_MIN = 10.0
PEAK_MB_TARGET = 300.0  # peak memory of fast mode at 100 km (issue 4)
EXACT_TARGET = 3.0  # required speed-up of exact mode at 100 km (issue 10)


def run_timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``cmd`` under GNU time; return wall [s], peak RSS [MB], stdout+stderr."""
    full = ["/usr/bin/time", "-v", *cmd]
    p = subprocess.run(full, cwd=cwd, env=env, capture_output=True, text=True)
    err = p.stderr
    if p.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stdout[-2000:]}\n{err[-2000:]}"
        )
    m = re.search(
        r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", err
    )
    assert m, err[-2000:]
    wall = (int(m.group(1) or 0) * 60 + int(m.group(2))) * 60 + float(m.group(3))
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
    user = re.search(r"User time \(seconds\): ([\d.]+)", err)
    syst = re.search(r"System time \(seconds\): ([\d.]+)", err)
    assert rss and user and syst
    cpu = float(user.group(1)) + float(syst.group(1))
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_mb": int(rss.group(1)) / 1024.0,
        "log": p.stdout + err,
    }


def splat(sdf: Path, work: Path, radius_km: int) -> dict[str, Any]:
    for f in ("tx.qth", "tx.lrp"):
        shutil.copy(SHARED / f, work / f)
    ano = work / f"splat{radius_km}.ano"
    r = run_timed(
        ["splat", "-t", "tx.qth", "-L", "1.5", "-metric", "-R", str(radius_km), "-olditm", "-N",
         "-d", str(sdf), "-o", f"splat{radius_km}.ppm", "-ano", ano.name],
        work,
    )  # fmt: skip
    r["ano"] = ano
    return r


def yalu(
    sdf: Path, work: Path, radius_km: int, mode: str, threads: int, tag: str,
    cache_dir: Path,
) -> dict[str, Any]:  # fmt: skip
    out = work / f"yalu_{tag}.tif"
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir))
    r = run_timed(
        [sys.executable, "-m", "yalu.cli.main", "coverage", "--terrain", str(sdf),
         "--site", f"{SITE[0]},{SITE[1]}", "--height-m", "40", "--frequency-mhz", "900",
         "--radius-km", str(radius_km), "--rx-height-m", "1.5", "--mode", mode,
         "--climate", "5", "--n0", "301", "--epsilon", "15", "--sigma", "0.005",
         "--polarization", "vertical", "--mdvar", "12", "-o", str(out), "--overwrite",
         "--threads", str(threads)],
        work, env,
    )  # fmt: skip
    m = re.search(r"in range, ([\d.]+) s\)", r["log"])
    r["compute_s"] = float(m.group(1)) if m else float("nan")
    r["tif"] = out
    return r


def read_ano(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lat, lon, loss = [], [], []
    with open(path) as fh:
        for line in fh:
            if ";" in line:
                continue
            parts = line.split(",")
            if len(parts) < 5:
                continue
            # SPLAT! marks obstructed paths with a trailing '*'; the number is the loss either way
            la, wl = float(parts[0]), float(parts[1])
            ls = float(parts[4].replace("*", "").strip())
            lon_e = -wl
            if lon_e < -180:
                lon_e += 360
            lat.append(la)
            lon.append(lon_e)
            loss.append(ls)
    return np.array(lat), np.array(lon), np.array(loss)


def stats(d: np.ndarray) -> dict[str, float]:
    a = np.abs(d)
    return {
        "n": int(d.size),
        "median_abs": float(np.median(a)),
        "p90_abs": float(np.percentile(a, 90)),
        "p95_abs": float(np.percentile(a, 95)),
        "p99_abs": float(np.percentile(a, 99)),
        "bias_median": float(np.median(d)),
    }


def vs_splat(tif: Path, ano: Path) -> dict[str, float]:
    from yalu.io.raster import read_geotiff

    m = read_geotiff(tif)
    v = m.values
    lat0, lon0 = float(m.lat[0]), float(m.lon[0])
    dlat = float(m.lat[0] - m.lat[1])
    dlon = float(m.lon[1] - m.lon[0])
    la, lo, loss = read_ano(ano)
    i = np.rint((lat0 - la) / dlat).astype(np.int64)
    j = np.rint((lo - lon0) / dlon).astype(np.int64)
    ok = (i >= 0) & (i < v.shape[0]) & (j >= 0) & (j < v.shape[1])
    i, j, loss = i[ok], j[ok], loss[ok]
    key = i * v.shape[1] + j
    _, first = np.unique(key, return_index=True)  # the first radial that reached the node
    i, j, loss = i[first], j[first], loss[first]
    y = v[i, j].astype(float)
    good = np.isfinite(y) & np.isfinite(loss) & (loss > 0)
    s = stats(y[good] - loss[good])
    s["splat_samples"] = int(ok.sum())
    return s


def vs_map(a: Path, b: Path) -> dict[str, float]:
    from yalu.io.raster import read_geotiff

    x = read_geotiff(a).values.astype(float)
    y = read_geotiff(b).values.astype(float)
    both = np.isfinite(x) & np.isfinite(y)
    s = stats(x[both] - y[both])
    s["nan_mismatch"] = int((np.isfinite(x) != np.isfinite(y)).sum())
    return s


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--skip-splat", action="store_true", help="only yalu (no comparison)")
    ap.add_argument("--skip-exact", action="store_true")
    ap.add_argument("--skip-exact-100", action="store_true")
    ap.add_argument("--skip-hybrid", action="store_true")
    ap.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="keep the outputs (GeoTIFFs, .ano files) in this directory",
    )
    args = ap.parse_args()
    tar = SHARED / "sdf_3arcsec_40-43N_22-26E.tar.xz"
    if not tar.exists():
        print(f"shared bench terrain not found: {tar}", file=sys.stderr)
        return 2
    if not args.skip_splat and shutil.which("splat") is None:
        print("splat not found on PATH (Debian package 'splat')", file=sys.stderr)
        return 2
    res: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="yalu-bench-cov-") as tmp:
        tmpd = Path(tmp) if args.workdir is None else args.workdir
        tmpd.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tar) as tf:
            tf.extractall(tmpd / "unpacked", filter="data")
        sdf_files = list((tmpd / "unpacked").rglob("*.sdf"))
        sdf = sdf_files[0].parent
        work = tmpd / "work"
        work.mkdir(exist_ok=True)
        cache = tmpd / "numba-cache"
        print(f"terrain: {len(sdf_files)} SDF tiles in {sdf}", flush=True)
        if not args.skip_splat:
            for r_km in (50, 100):
                print(f"SPLAT! -olditm {r_km} km ...", flush=True)
                runs = [splat(sdf, work, r_km) for _ in range(args.repeats)]
                best = runs[0]
                best["walls"] = [r["wall_s"] for r in runs]
                best["wall_s"] = statistics.median(best["walls"])
                best["cpu_s"] = statistics.median(r["cpu_s"] for r in runs)
                best["peak_mb"] = max(r["peak_mb"] for r in runs)
                res[f"splat{r_km}"] = best
        print("yalu fast 100 km, empty numba cache (JIT warm-up) ...", flush=True)
        res["cold100"] = yalu(sdf, work, 100, "fast", 2, "cold100", cache)
        for r_km, threads, mode, reps in (
            (100, 2, "fast", args.repeats),
            (100, 1, "fast", args.repeats),
            (50, 2, "fast", args.repeats),
            (50, 1, "fast", 1),
            (50, 2, "exact", 0 if args.skip_exact else 1),
            (100, 2, "exact", 0 if args.skip_exact or args.skip_exact_100 else args.repeats),
            (100, 2, "hybrid", 0 if args.skip_hybrid else args.repeats),
        ):
            if reps == 0:
                continue
            tag = f"{mode}{r_km}_t{threads}"
            print(f"yalu {mode} {r_km} km, {threads} thread(s) x{reps} ...", flush=True)
            runs = [yalu(sdf, work, r_km, mode, threads, tag, cache) for _ in range(reps)]
            best = runs[0]
            best["wall_s"] = statistics.median(r["wall_s"] for r in runs)
            best["compute_s"] = statistics.median(r["compute_s"] for r in runs)
            best["cpu_s"] = statistics.median(r["cpu_s"] for r in runs)
            best["peak_mb"] = max(r["peak_mb"] for r in runs)
            best["walls"] = [r["wall_s"] for r in runs]
            res[tag] = best
        agree: dict[str, Any] = {}
        if "exact50_t2" in res:
            agree["fast vs exact, 50 km"] = vs_map(
                res["fast50_t2"]["tif"], res["exact50_t2"]["tif"]
            )
        if "exact100_t2" in res:
            agree["fast vs exact, 100 km"] = vs_map(
                res["fast100_t2"]["tif"], res["exact100_t2"]["tif"]
            )
        if "exact100_t2" in res and "hybrid100_t2" in res:
            agree["hybrid vs exact, 100 km"] = vs_map(
                res["hybrid100_t2"]["tif"], res["exact100_t2"]["tif"]
            )
        if not args.skip_splat:
            agree["fast vs SPLAT!, 100 km"] = vs_splat(
                res["fast100_t2"]["tif"], res["splat100"]["ano"]
            )
            agree["fast vs SPLAT!, 50 km"] = vs_splat(
                res["fast50_t2"]["tif"], res["splat50"]["ano"]
            )
            if "exact50_t2" in res:
                agree["exact vs SPLAT!, 50 km"] = vs_splat(
                    res["exact50_t2"]["tif"], res["splat50"]["ano"]
                )
        res["agreement"] = agree

    load = os.getloadavg()
    print(
        "\n## Speed (wall = whole process incl. Python start-up, terrain read and GeoTIFF write)\n"
    )
    print(
        f"machine: {os.cpu_count()} CPUs, load average at the end "
        f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}"
    )
    print(
        "(cpu s = user + system time of the process; when cpu/wall is well below the thread count,"
    )
    print("the machine was shared and wall times are pessimistic)\n")
    print("| job | wall s | cpu s | compute s | peak MB | speed-up vs SPLAT! (same radius) |")
    print("|---|---|---|---|---|---|")
    rows = [
        ("SPLAT! 1.4.2 -olditm, 50 km", "splat50", None),
        ("SPLAT! 1.4.2 -olditm, 100 km", "splat100", None),
        ("yalu fast 100 km, 2 threads, empty JIT cache", "cold100", "splat100"),
        ("yalu fast 100 km, 2 threads", "fast100_t2", "splat100"),
        ("yalu fast 100 km, 1 thread", "fast100_t1", "splat100"),
        ("yalu fast 50 km, 2 threads", "fast50_t2", "splat50"),
        ("yalu fast 50 km, 1 thread", "fast50_t1", "splat50"),
        ("yalu exact 50 km, 2 threads", "exact50_t2", "splat50"),
        ("yalu exact 100 km, 2 threads", "exact100_t2", "splat100"),
        ("yalu hybrid 100 km, 2 threads", "hybrid100_t2", "splat100"),
    ]
    for label, key, ref in rows:
        if key not in res:
            continue
        r = res[key]
        comp = r.get("compute_s", float("nan"))
        sp = ""
        if ref and ref in res:
            sp = f"{res[ref]['wall_s'] / r['wall_s']:.1f}x"
        comp_s = "" if comp != comp else f"{comp:.2f}"
        print(
            f"| {label} | {r['wall_s']:.2f} | {r['cpu_s']:.2f} | {comp_s} "
            f"| {r['peak_mb']:.0f} | {sp} |"
        )
    if "cold100" in res and "fast100_t2" in res:
        print(
            f"\nJIT warm-up (first run with an empty numba cache, minus a warm run): "
            f"{res['cold100']['wall_s'] - res['fast100_t2']['wall_s']:.1f} s"
        )
    print("\n## Agreement (|delta| in dB; delta = first - second)\n")
    print("| comparison | nodes | median abs | P90 | P95 | P99 | median delta |")
    print("|---|---|---|---|---|---|---|")
    for k, s in res["agreement"].items():
        print(
            f"| {k} | {s['n']} | {s['median_abs']:.2f} | {s['p90_abs']:.2f} | {s['p95_abs']:.2f} | "
            f"{s['p99_abs']:.2f} | {s['bias_median']:+.2f} |"
        )
    if "splat100" in res and "fast100_t2" in res:
        ratio = res["splat100"]["wall_s"] / res["fast100_t2"]["wall_s"]
        verdict = (
            "meets"
            if ratio >= SPLAT_TARGET
            else ("below target" if ratio >= SPLAT_MIN else "FAILS")
        )
        print(
            f"\nfast 100 km on 2 threads: {ratio:.1f}x SPLAT! "
            f"({verdict}: target {SPLAT_TARGET:g}x, "
            f"minimum {SPLAT_MIN:g}x); peak {res['fast100_t2']['peak_mb']:.0f} MB "
            f"({'meets' if res['fast100_t2']['peak_mb'] <= PEAK_MB_TARGET else 'OVER'} "
            f"target <= {PEAK_MB_TARGET:g})"
        )
    if "splat100" in res and "exact100_t2" in res:
        ratio = res["splat100"]["wall_s"] / res["exact100_t2"]["wall_s"]
        verdict = "meets" if ratio >= EXACT_TARGET else "below target"
        print(
            f"exact 100 km on 2 threads: {ratio:.2f}x SPLAT! "
            f"({verdict}: target {EXACT_TARGET:g}x); "
            f"walls {', '.join(f'{w:.1f}' for w in res['exact100_t2']['walls'])} s"
        )
    if "splat100" in res and "hybrid100_t2" in res:
        ratio = res["splat100"]["wall_s"] / res["hybrid100_t2"]["wall_s"]
        print(
            f"hybrid 100 km on 2 threads: {ratio:.2f}x SPLAT! "
            f"(exact-quality target {EXACT_TARGET:g}x); "
            f"walls {', '.join(f'{w:.1f}' for w in res['hybrid100_t2']['walls'])} s"
        )
    if "splat100" in res:
        print(
            f"SPLAT! 100 km walls: {', '.join(f'{w:.1f}' for w in res['splat100']['walls'])} s; "
            f"yalu fast 100 km walls: {', '.join(f'{w:.1f}' for w in res['fast100_t2']['walls'])} s"
        )
    if args.json:
        clean = {
            k: (
                {kk: vv for kk, vv in v.items() if kk not in ("log", "tif", "ano")}
                if isinstance(v, dict)
                else v
            )
            for k, v in res.items()
        }
        args.json.write_text(json.dumps(clean, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
