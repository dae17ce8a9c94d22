"""The flagship scenario on 3" synthetic border terrain: wall time, memory, throughput, accuracy.

Runs ``src/yalu/data/sino-korean-border.yaml`` with its terrain replaced by the synthetic 3"
GeoTIFF of ``synthetic_terrain.py`` (written first if absent) and its grid set by
``--grid-arcsec``, through the scenario API (:func:`yalu.scenario.run_scenario`), each run a
separate process timed by GNU time (whole process: start-up, terrain, maps, outputs). Reports:

- wall time (median of ``--repeats``), user+system CPU, peak resident memory;
- per-phase times (the run's ``summary.json`` ``timings_s``);
- the number of path-loss maps, their nodes and nodes/s of the engine (map nodes per second
  of engine time);
- a check of the run's own path-loss values against exact ITM: the child process records every
  engine call of the run's path-loss provider (:func:`yalu.coverage.tile_job_multi`, the maps
  of one antenna), keeps ``--sample`` random nodes of each of the first ``--check-maps`` maps,
  and recomputes them independently with
  :func:`yalu.geodesy.profile` (pyproj geodesics) and :func:`yalu.propagation.itm.p2p`.
  Exact mode should agree within 0.01 dB; fast and hybrid modes give their error on this
  terrain;
- what each phase keeps busy: its CPU time (user + system of the process, sampled every
  0.25 s) over its wall time, the cores in use (2 on this kind of machine: below that, a core
  waits), and the largest resident memory of the run's process sampled in it (where
  ``/proc/self/statm`` exists): which phase makes the peak;
- the engine at the population samples, by phase: the provider's calls of
  :func:`yalu.coverage.engine.path_loss_at_points_multi` (one antenna, its points), the
  (point, antenna) pairs within the radius (each on its own profile in exact mode), the jobs
  per pair (frequency, direction, antenna height) and the ITM geometries per pair (one per
  antenna height: a reverse job takes the forward geometry mirrored, except where one of
  ITM's discrete choices sits within rounding of its threshold), the engine's seconds and
  microseconds per pair. This work does not
  depend on the grid (the samples sit at the terrain's spacing), so it is a floor under every
  grid's wall time.

Usage: python benchmarks/bench_border.py [--grid-arcsec 60] [--mode exact|fast|hybrid]
       [--repeats 3] [--terrain PATH] [--rms-m 15] [--threads N] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FLAGSHIP = ROOT / "src" / "yalu" / "data" / "sino-korean-border.yaml"
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _scenario_text(terrain: Path, grid_arcsec: float, mode: str) -> str:
    """The flagship YAML with terrain, grid and engine mode replaced (line by line, so that the
    rest of the file, comments included, stays as shipped)."""
    out = []
    section = ""
    for line in FLAGSHIP.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^(\w[\w-]*):", line)
        if m:
            section = m.group(1)
        if section == "terrain" and re.match(r"^\s+source:", line):
            line = f"  source: file\n  path: {terrain}"
        elif section == "grid" and re.match(r"^\s+resolution_arcsec:", line):
            line = f"  resolution_arcsec: {grid_arcsec:g}"
        elif section == "propagation" and re.match(r"^\s+engine_mode:", line):
            line = f"  engine_mode: {mode}"
        out.append(line)
    text = "\n".join(out) + "\n"
    for need in (f"path: {terrain}", f"resolution_arcsec: {grid_arcsec:g}", f"engine_mode: {mode}"):
        if need not in text:
            raise RuntimeError(f"could not set {need!r} in {FLAGSHIP}")
    return text


#: what a run's record keeps for the checks only (not written to --json)
_SAMPLE_KEYS = ("samples", "point_samples")

# ---------------------------------------------------------------------------------------------
# child: one run in this process


def child(scenario: Path, outdir: Path, threads: int | None, sample: int, check_maps: int,
          result: Path) -> None:  # fmt: skip
    import dataclasses

    import yalu.coverage.provider as prov
    from yalu.coverage.engine import map_attrs
    from yalu.scenario.models import load_scenario
    from yalu.scenario.runner import run_scenario

    t_start = time.perf_counter()
    calls: list[dict[str, Any]] = []
    real = prov.tile_job_multi
    cpu: list[tuple[float, float, float]] = []
    done = threading.Event()
    page_mb = os.sysconf("SC_PAGE_SIZE") / 2**20 if hasattr(os, "sysconf") else float("nan")

    def rss_mb() -> float:
        try:
            with open("/proc/self/statm", encoding="ascii") as fh:
                return int(fh.read().split()[1]) * page_mb
        except (OSError, ValueError, IndexError):
            return float("nan")

    main_id = threading.get_ident()
    # the main thread's innermost yalu frames at the largest RSS sampled so far, per phase
    # (which code holds a phase's peak); the phase is found afterwards from the sample's time
    peaks: list[tuple[float, float, str]] = []

    def where() -> str:
        f = sys._current_frames().get(main_id)
        names = []
        while f is not None and len(names) < 4:
            fn = f.f_code.co_filename
            if "/yalu/" in fn:
                names.append(f"{f.f_code.co_name} ({fn.rsplit('/yalu/', 1)[1]}:{f.f_lineno})")
            f = f.f_back
        return " < ".join(names) or "(outside yalu)"

    def sample_cpu() -> None:
        while not done.is_set():
            t = os.times()
            now, r = time.perf_counter(), rss_mb()
            cpu.append((now, t.user + t.system, r))
            if r == r:
                peaks.append((now, r, where()))
                # keep, per second-long stretch, the largest sample only: bounded memory
                if len(peaks) > 1 and int(peaks[-2][0]) == int(now):
                    last = peaks.pop()
                    if last[1] > peaks[-1][1]:
                        peaks[-1] = last
            done.wait(0.25)

    sampler = threading.Thread(target=sample_cpu, daemon=True)
    sampler.start()
    points: list[dict[str, Any]] = []
    real_points = prov.path_loss_at_points_multi

    point_samples: list[dict[str, Any]] = []

    def recording_points(*a: Any, **kw: Any) -> Any:
        """The provider's engine call at points, timed, with its pairs, jobs and geometries;
        some points of its first calls kept for the check (hybrid mode computes points on
        composite profiles whatever the maps' grid)."""
        t0 = time.perf_counter()
        arr = real_points(*a, **kw)
        jobs = kw["jobs"]
        if len(point_samples) < check_maps and len(a) >= 5 and kw.get("step_m"):
            site, la, lo = a[1], np.asarray(a[3]).ravel(), np.asarray(a[4]).ravel()
            itm_kw = dataclasses.asdict(kw["itm"]) if kw.get("itm") is not None else {}
            for job, vals in zip(jobs, np.asarray(arr).reshape(len(jobs), -1), strict=True):
                if len(point_samples) >= check_maps:
                    break
                ok = np.flatnonzero(np.isfinite(vals))
                if not ok.size:
                    continue
                pick = rng_points.choice(ok, min(sample, ok.size), replace=False)
                h_tx = job[2] if len(job) > 2 and job[2] is not None else kw["h_tx_m"]
                point_samples.append({
                    "lat": la[pick].tolist(), "lon": lo[pick].tolist(),
                    "loss_db": vals[pick].astype(float).tolist(),
                    "attrs": {"site_lat_deg": site[0], "site_lon_deg": site[1],
                              "direction": str(getattr(job[1], "value", job[1])),
                              "h_tx_m": h_tx, "h_rx_m": kw.get("h_rx_m", 1.5),
                              "frequency_mhz": job[0], "step_m": kw["step_m"],
                              "min_distance_m": kw.get("min_distance_m") or kw["step_m"],
                              **{f"itm_{k}": (getattr(v, "value", v))
                                 for k, v in itm_kw.items()}},
                })  # fmt: skip
        points.append({
            "t0": t0, "s": time.perf_counter() - t0,
            "pairs": int(np.isfinite(arr[0]).sum()) if len(arr) else 0,
            "jobs": len(jobs),
            # one ITM geometry per antenna height (the jobs of a call share the position and
            # the node height; a reverse job mirrors it, save at ITM's thresholds)
            "geometries": len({j[2] if len(j) > 2 else None for j in jobs}),
        })  # fmt: skip
        return arr

    rng = np.random.default_rng(7)
    rng_points = np.random.default_rng(8)

    def recording(spec: Any, jobs: Any, progress: Any = None) -> Any:
        """The provider's engine call, timed; samples of its first maps kept for the check."""
        t0 = time.perf_counter()
        arr = real(spec, jobs, progress)
        rec: dict[str, Any] = {
            "s": time.perf_counter() - t0,
            "maps": len(jobs),
            "nodes": int(arr.size),
            "finite": int(np.isfinite(arr).sum()),
        }
        lats, lons = spec.grid.lats(), spec.grid.lons()
        samples: list[dict[str, Any]] = []
        kept = sum(len(c["samples"]) for c in calls)
        for job, vals in zip(jobs, arr, strict=True):
            if kept + len(samples) >= check_maps:
                break
            ii, jj = np.nonzero(np.isfinite(vals))
            if ii.size:
                pick = rng.choice(ii.size, min(sample, ii.size), replace=False)
                # a job is (frequency, direction) or (frequency, direction, antenna height)
                kw = {"frequency_mhz": job[0], "direction": job[1]}
                if len(job) > 2 and job[2] is not None:
                    kw["h_tx_m"] = job[2]
                attrs = map_attrs(dataclasses.replace(spec, **kw))
                samples.append({
                    "lat": lats[ii[pick]].tolist(), "lon": lons[jj[pick]].tolist(),
                    "loss_db": vals[ii[pick], jj[pick]].astype(float).tolist(),
                    "attrs": {k: v for k, v in attrs.items() if isinstance(v, int | float | str)},
                })  # fmt: skip
        rec["samples"] = samples
        calls.append(rec)
        return arr

    prov.tile_job_multi = recording
    prov.path_loss_at_points_multi = recording_points
    try:
        sc = load_scenario(scenario)
        t_scenario = time.perf_counter()
        res = run_scenario(sc, outdir, overwrite=True, threads=threads)
    finally:
        prov.tile_job_multi = real
        prov.path_loss_at_points_multi = real_points
        done.set()
        sampler.join()
    t_run = time.perf_counter() - t_start
    timings = res.summary.get("timings_s", {})
    phase_use, point_use = _phase_use(timings, t_scenario, cpu, points, peaks)
    # people within reach by country and level, per variant (to compare modes and grids)
    reach = {
        v: {c: {lv: sum(p.get(lv, 0) for p in provs.values()) for lv in ("sms", "voice", "data")}
            for c, provs in s["population_within_reach"].items()}
        for v, s in res.summary.get("variants", {}).items()
    }  # fmt: skip
    out = {
        "run_s": t_run,
        "reach": reach,
        "timings_s": timings,
        "engine_calls": len(calls),
        "maps": sum(c["maps"] for c in calls),
        "map_nodes": sum(c["nodes"] for c in calls),
        "map_finite_nodes": sum(c["finite"] for c in calls),
        "map_s": sum(c["s"] for c in calls),
        "samples": [smp for c in calls for smp in c["samples"]],
        "point_samples": point_samples,
        "phase_use": phase_use,
        "point_engine": point_use,
    }
    result.write_text(json.dumps(out))


def _phase_use(
    timings: dict[str, float],
    t_scenario: float,
    cpu: list[tuple[float, float, float]],
    points: list[dict[str, Any]],
    peaks: list[tuple[float, float, str]] | None = None,
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, float]]]:
    """Per phase: wall and CPU seconds (cores in use), and the engine's work at the
    population samples. The phases follow each other in ``timings`` (the runner's laps, in
    order), the first starting when :func:`run_scenario` was called (its clean-up after the
    last lap is in none)."""
    laps = [(k, float(v)) for k, v in timings.items() if k != "total"]
    start = t_scenario
    bounds = []
    for k, v in laps:
        bounds.append((k, start, start + v))
        start += v
    ts = np.array([c[0] for c in cpu])
    cs = np.array([c[1] for c in cpu])
    rs = np.array([c[2] for c in cpu])

    def cpu_at(t: float) -> float:
        return float(np.interp(t, ts, cs)) if ts.size else float("nan")

    if bounds and ts.size and ts[-1] > bounds[-1][2]:
        # the summary and reports are written after the last lap (the web map among them)
        bounds.append(("after_phases", bounds[-1][2], float(ts[-1])))
    use = {}
    pts: dict[str, dict[str, float]] = {}
    for k, a, b in bounds:
        c = cpu_at(b) - cpu_at(a)
        use[k] = {"wall_s": b - a, "cpu_s": c, "cores": c / (b - a) if b > a else float("nan")}
        inside = rs[(ts >= a) & (ts <= b)] if ts.size else rs
        ok = np.isfinite(inside)
        use[k]["peak_rss_mb"] = float(inside[ok].max()) if ok.any() else float("nan")
        mine_peaks = [q for q in peaks or [] if a <= q[0] <= b]
        if mine_peaks:
            top = max(mine_peaks, key=lambda q: q[1])
            use[k]["peak_where"] = f"{top[1]:.0f} MB at {top[2]}"
        mine = [p for p in points if a <= p["t0"] < b]
        if mine:
            n = sum(p["pairs"] for p in mine)
            pts[k] = {
                "calls": len(mine),
                "pairs": n,
                "jobs_per_pair": sum(p["pairs"] * p["jobs"] for p in mine) / max(n, 1),
                "geometries_per_pair": sum(p["pairs"] * p["geometries"] for p in mine) / max(n, 1),
                "s": sum(p["s"] for p in mine),
            }
    return use, pts


# ---------------------------------------------------------------------------------------------
# parent


def run_timed(cmd: list[str], env: dict[str, str]) -> dict[str, Any]:
    p = subprocess.run(["/usr/bin/time", "-v", *cmd], env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
        )
    err = p.stderr
    m = re.search(
        r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", err
    )
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
    user = re.search(r"User time \(seconds\): ([\d.]+)", err)
    syst = re.search(r"System time \(seconds\): ([\d.]+)", err)
    if not (m and rss and user and syst):
        raise RuntimeError(f"no GNU time figures in:\n{err[-2000:]}")
    wall = (int(m.group(1) or 0) * 60 + int(m.group(2))) * 60 + float(m.group(3))
    return {"wall_s": wall, "cpu_s": float(user.group(1)) + float(syst.group(1)),
            "peak_mb": int(rss.group(1)) / 1024.0}  # fmt: skip


def check_samples(terrain_path: Path, samples: list[dict[str, Any]]) -> dict[str, float]:
    """|run - independent exact ITM| over the recorded samples [dB]."""
    from yalu.geodesy import geodesic_inverse, profile
    from yalu.propagation import itm
    from yalu.terrain import open_terrain

    terrain = open_terrain(terrain_path)
    diffs = []
    for s in samples:
        a = s["attrs"]
        site = (a["site_lat_deg"], a["site_lon_deg"])
        kw = {k[4:]: a[k] for k in a if k.startswith("itm_")}
        rev = a["direction"] == "reverse"
        h1, h2 = (a["h_rx_m"], a["h_tx_m"]) if rev else (a["h_tx_m"], a["h_rx_m"])
        for lat, lon, got in zip(s["lat"], s["lon"], s["loss_db"], strict=True):
            d = float(geodesic_inverse(site[0], site[1], lat, lon)[0])
            if d < 2 * a["min_distance_m"]:
                continue
            ends = ((lat, lon), site) if rev else (site, (lat, lon))
            p = profile(terrain, ends[0], ends[1], a["step_m"])
            ref = itm.p2p(p.elevation_m, p.step_m, h1, h2, a["frequency_mhz"], **kw).loss_db
            diffs.append(got - ref)
    d = np.abs(np.asarray(diffs))
    if d.size == 0:
        return {"n": 0}
    return {
        "n": int(d.size),
        "median_abs_db": float(np.median(d)),
        "p95_abs_db": float(np.percentile(d, 95)),
        "max_abs_db": float(d.max()),
        "bias_db": float(np.median(diffs)),
    }


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--grid-arcsec", type=float, default=60.0)
    ap.add_argument("--mode", choices=["exact", "fast", "hybrid"], default="exact")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument(
        "--terrain",
        type=Path,
        default=None,
        help="synthetic terrain GeoTIFF (default: synthetic_terrain.py's, written if absent)",
    )
    ap.add_argument(
        "--rms-m", type=float, default=15.0, help="roughness when the terrain is written"
    )
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--sample", type=int, default=40, help="nodes checked per recorded map")
    ap.add_argument("--check-maps", type=int, default=6, help="maps whose samples are checked")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument(
        "--child", nargs=3, metavar=("SCENARIO", "OUTDIR", "RESULT"), help=argparse.SUPPRESS
    )
    args = ap.parse_args()
    if args.child:
        child(Path(args.child[0]), Path(args.child[1]), args.threads, args.sample, args.check_maps,
              Path(args.child[2]))  # fmt: skip
        return 0
    import synthetic_terrain as st

    terrain = args.terrain or st.DEFAULT_OUT.with_name(f"border_3s_rough{args.rms_m:g}.tif")
    if not terrain.exists():
        print(f"writing the synthetic terrain {terrain} ...", flush=True)
        st.write_terrain(terrain, args.rms_m, seed=1)
    runs = []
    with tempfile.TemporaryDirectory(prefix="yalu-bench-border-") as tmp:
        tmpd = Path(tmp)
        scen = tmpd / "border.yaml"
        scen.write_text(
            _scenario_text(terrain.resolve(), args.grid_arcsec, args.mode), encoding="utf-8"
        )
        env = dict(os.environ)
        for k in range(args.repeats):
            result = tmpd / f"result{k}.json"
            cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(scen),
                   str(tmpd / f"out{k}"), str(result), "--sample", str(args.sample),
                   "--check-maps", str(args.check_maps if k == 0 else 0)]  # fmt: skip
            if args.threads:
                cmd += ["--threads", str(args.threads)]
            print(
                f'run {k + 1}/{args.repeats}: grid {args.grid_arcsec:g}", {args.mode} ...',
                flush=True,
            )
            r = run_timed(cmd, env)
            r.update(json.loads(result.read_text()))
            runs.append(r)
            print(
                f"  wall {r['wall_s']:.1f} s, peak {r['peak_mb']:.0f} MB, "
                f"path loss {r['timings_s'].get('path_loss', float('nan')):.1f} s",
                flush=True,
            )
    first = runs[0]
    med = {k: statistics.median(r[k] for r in runs) for k in ("wall_s", "cpu_s", "map_s")}
    phases = sorted({p for r in runs for p in r["timings_s"]})
    phase_med = {
        p: statistics.median(r["timings_s"].get(p, float("nan")) for r in runs) for p in phases
    }
    print(
        f'\n## Flagship on synthetic 3" terrain ({terrain.name}), grid {args.grid_arcsec:g}", '
        f"{args.mode} mode, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}\n"
    )
    print(
        "| runs | wall s (median) | walls | cpu s | peak MB | maps | map nodes "
        "| nodes/s (path loss) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    walls = ", ".join(f"{r['wall_s']:.1f}" for r in runs)
    print(
        f"| {len(runs)} | {med['wall_s']:.1f} | {walls} | "
        f"{med['cpu_s']:.1f} | {max(r['peak_mb'] for r in runs):.0f} | {first['maps']} | "
        f"{first['map_nodes']:,} | {first['map_nodes'] / med['map_s']:,.0f} |"
    )
    print("\nper phase (median s): " + ", ".join(f"{p} {v:.1f}" for p, v in phase_med.items()))
    print(
        f"engine (run 1): {first['maps']} maps in {first['engine_calls']} calls (one per antenna), "
        f"{first['map_s']:.1f} s"
    )
    use = [r["phase_use"] for r in runs]
    print("\nwhat each phase keeps busy (medians; cores in use = CPU s / wall s):")
    print("| phase | wall s | CPU s | cores | largest RSS sampled, MB |")
    print("|---|---|---|---|---|")
    for p in use[0]:
        w = statistics.median(u[p]["wall_s"] for u in use if p in u)
        c = statistics.median(u[p]["cpu_s"] for u in use if p in u)
        m = max(u[p].get("peak_rss_mb", float("nan")) for u in use if p in u)
        print(f"| {p} | {w:.1f} | {c:.1f} | {c / w if w > 0 else float('nan'):.2f} | {m:.0f} |")
    print(
        "\nwhere each phase's largest RSS was sampled (run 1; the main thread's innermost yalu "
        "frames):"
    )
    for p, u in use[0].items():
        if "peak_where" in u:
            print(f"- {p}: {u['peak_where']}")
    pe = [r["point_engine"] for r in runs]
    if pe[0]:
        print("\nthe engine at the population samples, by phase (medians of seconds):")
        print("| phase | calls | (point, antenna) pairs | jobs / pair | geometries / pair "
              "| engine s | us / pair (wall) |")  # fmt: skip
        print("|---|---|---|---|---|---|---|")
        for p, v in pe[0].items():
            s_med = statistics.median(x[p]["s"] for x in pe if p in x)
            print(f"| {p} | {v['calls']} | {v['pairs']:,} | {v['jobs_per_pair']:.1f} | "
                  f"{v['geometries_per_pair']:.2f} | {s_med:.1f} | "
                  f"{1e6 * s_med / max(v['pairs'], 1):.1f} |")  # fmt: skip
    chk = check_samples(terrain, first["samples"]) if first["samples"] else {"n": 0}
    if chk["n"]:
        print(
            f"\nrun vs independent exact ITM (geodesy.profile + itm.p2p), {chk['n']} nodes of "
            f"{len(first['samples'])} maps: median |delta| {chk['median_abs_db']:.4f} dB, "
            f"P95 {chk['p95_abs_db']:.4f} dB, max {chk['max_abs_db']:.4f} dB"
        )
    primary = next(iter(first.get("reach") or {}), None)
    if primary is not None:
        ppl = "; ".join(
            f"{c} " + " / ".join(f"{n:,}" for n in lv.values())
            for c, lv in first["reach"][primary].items()
        )
        print(f"people within reach ({primary}, SMS / voice / data, run 1): {ppl}")
    chk_pts = (check_samples(terrain, first["point_samples"]) if first.get("point_samples")
               else {"n": 0})  # fmt: skip
    if chk_pts["n"]:
        print(
            f"population samples vs independent exact ITM, {chk_pts['n']} points of "
            f"{len(first['point_samples'])} (antenna, job) pairs: median |delta| "
            f"{chk_pts['median_abs_db']:.4f} dB, P95 {chk_pts['p95_abs_db']:.4f} dB, max "
            f"{chk_pts['max_abs_db']:.4f} dB"
        )
    if args.json:
        summary = {
            "runs": [{k: v for k, v in r.items() if k not in _SAMPLE_KEYS} for r in runs],
            "median": med,
            "phases": phase_med,
            "check": chk,
            "check_points": chk_pts,
            "reach": first.get("reach"),
            "grid_arcsec": args.grid_arcsec,
            "mode": args.mode,
            "terrain": str(terrain),
        }
        args.json.write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
