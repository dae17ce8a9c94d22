"""The distributed part alone: the flagship's path-loss maps on 1 and 2 Dask worker processes.

``bench_dask.py`` times whole ``yalu run`` processes; most of a run on fine terrain is then
budgets and the population samples' own profiles, which run in the main process, so the
whole-run speed-up says little about the cluster. This script times only what the workers do:
the scenario's distinct path-loss maps (:meth:`yalu.coverage.provider.EnginePathLoss.prefetch`,
one task per antenna), each configuration in a fresh process:

- ``local, 1 thread``: no cluster, one numba thread;
- ``1 worker`` / ``2 workers``: a ``LocalCluster`` of that many worker processes, one thread each.

Before the maps are timed, every worker runs one tiny map
(:meth:`~yalu.coverage.provider.EnginePathLoss.warm_workers`, which ``prefetch`` otherwise runs
first): a worker process's first task pays yalu's imports and numba's loading of the compiled
kernels, a fixed cost of each process that more workers do not share out. Its time is printed
apart, with the speed-up of warm-up and maps together (what a cluster started for one run
pays).

It prints the median prefetch time of each, the speed-up from 1 to 2 workers, the terrain bytes
sent (or read by the workers themselves) per task and whether every configuration gave the same
maps, bit for bit (a digest of all maps). From Dask's task stream it also prints what bounds the
speed-up: the sum of the tasks' compute times (the same tasks on 1 and on 2 workers: a larger
sum on 2 means each task ran slower beside the other) and how busy the workers were (the sum
over workers x wall: below 1 means workers waited for work), and as a control, the speed-up of
two processes of a compute-only kernel (no memory traffic) run at once against one alone: near
2x, the cores themselves are not what the tasks share.

    python benchmarks/bench_dask_maps.py --terrain FILE [--grid-arcsec 60] [--runs 3] \
        [--terrain-transfer auto|send|read]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

CONFIGS = {"local, 1 thread": (None, 1), "1 worker": (1, None), "2 workers": (2, None)}


def child(
    terrain: str | None,
    grid_arcsec: float,
    workers: int | None,
    threads: int | None,
    transfer: str,
) -> None:
    from yalu.coverage.dask import connect
    from yalu.radio.layers import layer_requests
    from yalu.scenario import adapt, parse_scenario
    from yalu.scenario.runner import demo_scenario_text

    sc = parse_scenario(demo_scenario_text(), name="sino-korean-border.yaml")
    sc.grid.resolution_arcsec = grid_arcsec
    if terrain:
        sc.terrain.source = "file"
        sc.terrain.path = str(Path(terrain).resolve())
    prep = adapt.prepare(sc)
    provider = adapt.path_loss_provider(sc, prep.terrain, prep.grid, threads)
    provider.terrain_transfer = transfer
    requests = [
        r
        for p in prep.plans
        for r in layer_requests([x.radio for x in p.sectors], p.jammers, p.handset)
    ]
    # the maps a run computes: a mast's carriers within the scenario's span share one
    provider.share_frequencies(requests, sc.propagation.frequency_sharing_mhz)
    task_s = float("nan")
    warm_s = float("nan")
    with connect(None, workers) as client:
        if client is not None:
            client.wait_for_workers(workers)
        provider.client = client
        with contextlib.ExitStack() as stack:
            stream = None
            if client is not None:
                from distributed import get_task_stream

                stream = stack.enter_context(get_task_stream(client))
            # each worker's fixed start-up (imports, numba's cache) first, timed apart
            warm_s = 0.0
            if client is not None:
                provider.warm_workers(requests, prep.grid)
                warm_s = provider.warm_up_s
            t0 = time.perf_counter()
            n = provider.prefetch(requests, prep.grid)
            dt = time.perf_counter() - t0
        if stream is not None:
            task_s = sum(s["stop"] - s["start"] for r in stream.data for s in r["startstops"]
                         if s["action"] == "compute")  # fmt: skip
    h = hashlib.sha1()
    for key in sorted(provider._maps, key=repr):  # noqa: SLF001 - the benchmark reads the cache
        h.update(provider._maps[key].data.tobytes())  # noqa: SLF001
    print(json.dumps({"s": dt, "warm_s": warm_s, "maps": n, "tasks": provider.tasks,
                      "task_s": task_s,
                      "bytes_sent": provider.bytes_sent,
                      "terrain_read": provider.terrain_bytes_read,
                      "blocks_shared": provider.terrain_blocks_shared,
                      "transfer": provider.terrain_transfer_used,
                      "digest": h.hexdigest()}))  # fmt: skip


def _spin(n: int) -> float:
    """Seconds for ``n`` steps of 8 independent multiply-add chains (registers only)."""
    import numba

    @numba.njit(cache=False)
    def chains(n: int) -> float:
        x0 = x1 = x2 = x3 = x4 = x5 = x6 = x7 = 1.0
        for _ in range(n):
            x0 = x0 * 0.999999 + 1e-7
            x1 = x1 * 0.999998 + 1e-7
            x2 = x2 * 0.999997 + 1e-7
            x3 = x3 * 0.999996 + 1e-7
            x4 = x4 * 0.999995 + 1e-7
            x5 = x5 * 0.999994 + 1e-7
            x6 = x6 * 0.999993 + 1e-7
            x7 = x7 * 0.999992 + 1e-7
        return x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7

    chains(10)
    t0 = time.perf_counter()
    chains(n)
    return time.perf_counter() - t0


def _spin_speedup(runs: int) -> float:
    """Speed-up of two compute-only processes at once over one alone (medians of ``runs``)."""
    cmd = [sys.executable, __file__, "--spin"]
    alone = [float(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
             for _ in range(runs)]  # fmt: skip
    pair = []
    for _ in range(runs):
        ps = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) for _ in range(2)]
        pair.append(max(float(p.communicate()[0]) for p in ps))
    return 2 * statistics.median(alone) / statistics.median(pair)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--terrain", default=None, help="GeoTIFF (default: the embedded 5' grid)")
    ap.add_argument("--grid-arcsec", type=float, default=60.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument(
        "--terrain-transfer",
        choices=["auto", "send", "read"],
        default="auto",
        help="how workers get terrain windows (auto: read from the files on a local cluster)",
    )
    ap.add_argument("--child", nargs=2, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--spin", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.spin:
        print(_spin(400_000_000))
        return
    if a.child is not None:
        w, t = (None if v == "-" else int(v) for v in a.child)
        child(a.terrain, a.grid_arcsec, w, t, a.terrain_transfer)
        return
    times: dict[str, list[float]] = {k: [] for k in CONFIGS}
    task_s: dict[str, list[float]] = {k: [] for k in CONFIGS}
    warm_s: dict[str, list[float]] = {k: [] for k in CONFIGS}
    last: dict[str, dict[str, object]] = {}
    for r in range(a.runs + 1):  # the first round warms numba's caches in every process kind
        for name, (w, t) in CONFIGS.items():
            wt = ["-" if v is None else str(v) for v in (w, t)]
            cmd = [sys.executable, __file__, "--grid-arcsec", str(a.grid_arcsec),
                   "--terrain-transfer", a.terrain_transfer, "--child", *wt]  # fmt: skip
            if a.terrain:
                cmd += ["--terrain", a.terrain]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            res = json.loads(out.strip().splitlines()[-1])
            if r:
                times[name].append(float(res["s"]))
                task_s[name].append(float(res["task_s"]))
                warm_s[name].append(float(res["warm_s"]))
            last[name] = res
    med = {k: statistics.median(v) for k, v in times.items()}
    one = last["1 worker"]
    where = a.terrain or "embedded terrain"
    print(f'flagship path-loss maps, {where}, {a.grid_arcsec:g}" grid, exact ITM, '
          f"{one['maps']} maps in {one['tasks']} tasks; medians of {a.runs} runs")  # fmt: skip
    for k, v in med.items():
        print(f"  {k:>16}: {v:7.2f} s  (runs: {', '.join(f'{x:.2f}' for x in times[k])})")
    print(
        f"  speed-up 1 -> 2 workers: {med['1 worker'] / med['2 workers']:.2f}x (the maps, "
        "on workers that ran one tiny map first)"
    )
    w1, w2 = (statistics.median(warm_s[k]) for k in ("1 worker", "2 workers"))
    cold = [[w + m for w, m in zip(warm_s[k], times[k], strict=True)]
            for k in ("1 worker", "2 workers")]  # fmt: skip
    c1, c2 = (statistics.median(v) for v in cold)
    print(f"  the workers' warm-up (one tiny map each, all at once; each process's imports and "
          f"compiled kernels): {w1:.2f} s (1), {w2:.2f} s (2); warm-up and maps together "
          f"{c1:.2f} s and {c2:.2f} s: {c1 / c2:.2f}x")  # fmt: skip
    t1, t2 = (statistics.median(task_s[k]) for k in ("1 worker", "2 workers"))
    print(
        f"  sum of the tasks' compute times (medians): 1 worker {t1:.2f} s, 2 workers "
        f"{t2:.2f} s ({t2 / t1:.2f}x: each task's time beside another); workers busy "
        f"{t1 / med['1 worker']:.0%} (1) and {t2 / (2 * med['2 workers']):.0%} (2) of the wall"
    )
    print(f"  control: two compute-only processes at once run {_spin_speedup(a.runs):.2f}x "
          "one alone")  # fmt: skip
    n_tasks = max(1, int(str(one["tasks"])))
    per_task = int(str(one["bytes_sent"])) / n_tasks / 1e6
    read = int(str(one["terrain_read"])) / n_tasks / 1e6
    print(f"  terrain windows: {one['transfer']}; sent per task {per_task:.3f} MB, "
          f"read by the worker per task {read:.2f} MB; blocks shared by the 2 workers "
          f"{last['2 workers'].get('blocks_shared', 0)}")  # fmt: skip
    same = len({str(r["digest"]) for r in last.values()}) == 1
    print(f"  maps identical across the three configurations: {same}")


if __name__ == "__main__":
    main()
