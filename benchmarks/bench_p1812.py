"""Speed of yalu's ITU-R P.1812-8 against yalu's ITM, on the same real terrain profiles.

The profiles are the real-terrain cases with at least 3 points of
``shared/itm/p2p_vectors.jsonl`` (categories real_terrain_90m / real_terrain_900m). Each is
evaluated by

- ITM: ``yalu.propagation.itm.p2p_batch`` with the case's own parameters;
- P.1812-8: ``yalu.propagation.p1812.basic_transmission_loss_batch`` on the same elevations,
  distances ``i * step``, the case's antenna heights and frequency (limited to P.1812's
  30-6000 MHz and 1-3000 m), time 50% (or the case's time clipped to 1-50%), inland zone, and
  representative clutter heights of 10 m (``--clutter-m``) at every point,

each on 1 thread and on all numba threads, in one call for all profiles. Prints evaluations per
second (median of ``--repeats`` timed calls after a warm-up) and the ratio P.1812 / ITM. With
``--processes N`` it also times whole processes (interpreter start, imports, numba cache load,
one batch) N times and prints the medians. Usage::

    python benchmarks/bench_p1812.py [--repeats 7] [--processes 3] [--vectors PATH]

Not a test: timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba
import numpy as np

DEFAULT_VECTORS = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "itm" / "p2p_vectors.jsonl"
)


def load_cases(path: Path) -> list[dict[str, Any]]:
    with path.open() as f:
        cases = [json.loads(line) for line in f if line.strip()]
    # P.1812 needs at least one intermediate point (3 profile points)
    return [c for c in cases if c["category"].startswith("real_terrain") and len(c["pfl"]) >= 5]


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    """Median wall and CPU time over ``repeats`` calls after a warm-up (compilation or cache
    load). CPU time is robust to other load on a shared machine for 1-thread runs; on more
    threads it sums the threads and is not a speed."""
    result = fn()
    wall = []
    cpu = []
    for _ in range(repeats):
        c0 = time.process_time()
        t0 = time.perf_counter()
        result = fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu), result


def runners(
    cases: list[dict[str, Any]], clutter_m: float, threads: int
) -> dict[str, Callable[[], np.ndarray]]:
    from yalu.propagation import itm, p1812

    elev = np.concatenate([np.asarray(c["pfl"][2:], dtype=np.float64) for c in cases])
    counts = np.array([len(c["pfl"]) - 2 for c in cases])
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    steps = np.array([float(c["pfl"][1]) for c in cases])
    dist_km = np.concatenate(
        [np.arange(n) * s / 1000.0 for n, s in zip(counts, steps, strict=True)]
    )

    def col(key: str, dtype: type = np.float64) -> np.ndarray:
        return np.array([c[key] for c in cases], dtype=dtype)

    itm_kw = dict(
        climate=col("climate", np.int64), n0=col("N_0"), polarization=col("polarization", np.int64),
        epsilon=col("epsilon"), sigma=col("sigma"), mdvar=col("mdvar", np.int64),
        time_pct=col("time_pct"), location_pct=col("location_pct"),
        situation_pct=col("situation_pct"),
    )  # fmt: skip
    h_tx, h_rx, f = col("h_tx_m"), col("h_rx_m"), col("f_MHz")
    p_kw = dict(
        frequency_mhz=np.clip(f, 30.0, 6000.0), time_pct=np.clip(col("time_pct"), 1.0, 50.0),
        h_tx_m=np.clip(h_tx, 1.0, 3000.0), h_rx_m=np.clip(h_rx, 1.0, 3000.0),
        path_center_lat_deg=40.0, clutter_height_m=clutter_m,
        polarization=col("polarization", np.int64),
    )  # fmt: skip

    def run_itm() -> np.ndarray:
        return itm.p2p_batch(elev, offsets, steps, h_tx, h_rx, f, threads=threads, **itm_kw).loss_db

    def run_p1812() -> np.ndarray:
        return p1812.basic_transmission_loss_batch(
            dist_km, elev, offsets, threads=threads, **p_kw
        ).loss_db

    return {"itm": run_itm, "p1812": run_p1812}


_CHILD = """
import sys, time, warnings
t0 = time.perf_counter()
sys.path.insert(0, {bench!r})
import bench_p1812 as b
cases = b.load_cases(b.Path({vectors!r}))
warnings.simplefilter('ignore')
r = b.runners(cases, {clutter}, {threads})[{model!r}]
loss = r()
print(len(loss), time.perf_counter() - t0)
"""


def whole_process(model: str, vectors: Path, clutter: float, threads: int, n: int) -> float:
    code = _CHILD.format(bench=str(Path(__file__).parent), vectors=str(vectors), clutter=clutter,
                         threads=threads, model=model)  # fmt: skip
    walls = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
        walls.append(time.perf_counter() - t0)
    return statistics.median(walls)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--vectors", type=Path, default=DEFAULT_VECTORS)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--processes", type=int, default=3, help="whole-process runs (0: none)")
    ap.add_argument("--clutter-m", type=float, default=10.0)
    args = ap.parse_args(argv)
    if not args.vectors.exists():
        print(f"reference vectors not found: {args.vectors}", file=sys.stderr)
        return 2
    import warnings

    warnings.simplefilter("ignore")  # ITM's and P.1812's validity warnings on a few cases
    cases = load_cases(args.vectors)
    n = len(cases)
    points = sum(len(c["pfl"]) - 2 for c in cases)
    n_threads = int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
    print(f"{n} real-terrain profiles, {points} points in all; numba {numba.__version__}, "
          f"{n_threads} threads")  # fmt: skip
    print(f"{'run':34s} {'evals/s':>10s} {'us/eval':>8s} {'P.1812/ITM':>10s} {'CPU us/eval':>11s}"
          f" {'P.1812/ITM (CPU)':>16s}")  # fmt: skip
    for threads in sorted({1, n_threads}):
        r = runners(cases, args.clutter_m, threads)
        t_itm, c_itm, loss_itm = timed(r["itm"], args.repeats)
        t_p, c_p, loss_p = timed(r["p1812"], args.repeats)
        for name, t, c in (("ITM p2p_batch", t_itm, c_itm), ("P.1812 batch", t_p, c_p)):
            is_p = name.startswith("P.1812")
            ratio = f"{t_itm / t:10.3f}" if is_p else " " * 10
            cpu = f"{1e6 * c / n:11.1f}" if threads == 1 else " " * 11
            cratio = f"{c_itm / c:16.3f}" if is_p and threads == 1 else ""
            print(f"{name + f', {threads} thread(s)':34s} {n / t:10.0f} {1e6 * t / n:8.1f} {ratio}"
                  f" {cpu} {cratio}")  # fmt: skip
        ok = np.isfinite(loss_p)
        print(f"  P.1812 finite {ok.sum()}/{n}; median P.1812 - ITM "
              f"{np.nanmedian(loss_p - loss_itm):+.1f} dB")  # fmt: skip
    if args.processes > 0:
        print(f"\nwhole processes (start-up, imports, cache load, one batch on {n_threads} "
              f"threads), median of {args.processes}:")  # fmt: skip
        for model in ("itm", "p1812"):
            w = whole_process(model, args.vectors, args.clutter_m, n_threads, args.processes)
            print(f"  {model:6s} {w:6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
