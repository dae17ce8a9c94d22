"""Speed of yalu's ITM point-to-point against itmlogic, on the 1,400 real-terrain reference cases.

Runs, on the same cases (``category`` real_terrain_90m / real_terrain_900m of
``shared/itm/p2p_vectors.jsonl``):

- yalu ``p2p_batch`` on 1 thread and on all numba threads (one numba call for all profiles);
- yalu ``p2p_pfl`` called once per case from Python;
- itmlogic (PyPI, pure Python ITM 1.2.2) once per case, as the side-by-side comparator.

Prints evaluations per second (median of several repeats) and the ratios to itmlogic, plus each
implementation's largest deviation from the NTIA v1.4 reference values. Usage::

    python benchmarks/bench_itm.py [--repeats 7] [--itmlogic-repeats 3] [--vectors PATH]

Not a test: timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba
import numpy as np

from yalu.propagation import itm

DEFAULT_VECTORS = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "itm" / "p2p_vectors.jsonl"
)


def load_cases(path: Path) -> list[dict[str, Any]]:
    with path.open() as f:
        cases = [json.loads(line) for line in f if line.strip()]
    return [c for c in cases if c["category"].startswith("real_terrain")]


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    """Median wall time and median CPU time of this process over ``repeats`` calls (after one
    warm-up call), and the last result. CPU time is robust to other load on a shared machine
    for single-threaded runs; for multi-threaded runs it sums the threads and is not a speed."""
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


def yalu_batch_runner(cases: list[dict[str, Any]], threads: int) -> Callable[[], np.ndarray]:
    elev = np.concatenate([np.asarray(c["pfl"][2:], dtype=np.float64) for c in cases])
    offsets = np.concatenate([[0], np.cumsum([len(c["pfl"]) - 2 for c in cases])]).astype(np.int64)

    def col(key: str, dtype: type = np.float64) -> np.ndarray:
        return np.array([c[key] for c in cases], dtype=dtype)

    steps = np.array([c["pfl"][1] for c in cases])
    args = dict(
        climate=col("climate", np.int64),
        n0=col("N_0"),
        polarization=col("polarization", np.int64),
        epsilon=col("epsilon"),
        sigma=col("sigma"),
        mdvar=col("mdvar", np.int64),
        time_pct=col("time_pct"),
        location_pct=col("location_pct"),
        situation_pct=col("situation_pct"),
    )
    h_tx, h_rx, f = col("h_tx_m"), col("h_rx_m"), col("f_MHz")

    def run() -> np.ndarray:
        res = itm.p2p_batch(elev, offsets, steps, h_tx, h_rx, f, threads=threads, **args)
        return res.loss_db

    return run


def yalu_single_runner(cases: list[dict[str, Any]]) -> Callable[[], np.ndarray]:
    prepared = [
        (
            np.asarray(c["pfl"], dtype=np.float64),
            c["h_tx_m"],
            c["h_rx_m"],
            c["f_MHz"],
            dict(
                climate=c["climate"],
                n0=c["N_0"],
                polarization=c["polarization"],
                epsilon=c["epsilon"],
                sigma=c["sigma"],
                mdvar=c["mdvar"],
                time_pct=c["time_pct"],
                location_pct=c["location_pct"],
                situation_pct=c["situation_pct"],
            ),
        )
        for c in cases
    ]

    def run() -> np.ndarray:
        return np.array([itm.p2p_pfl(p, a, b, f, **kw).loss_db for p, a, b, f, kw in prepared])

    return run


def itmlogic_runner(cases: list[dict[str, Any]]) -> Callable[[], np.ndarray] | None:
    try:
        from itmlogic.misc.qerfi import qerfi
        from itmlogic.preparatory_subroutines.qlrpfl import qlrpfl
        from itmlogic.preparatory_subroutines.qlrps import qlrps
        from itmlogic.statistics.avar import avar
    except ImportError:
        return None

    def one(c: dict[str, Any]) -> float:
        # one full evaluation, as itmlogic's own point-to-point driver does it
        pfl = list(c["pfl"])
        pfl[0] = int(pfl[0])
        n = pfl[0]
        p10 = int(0.1 * n)
        zsys = sum(pfl[2 + p10 : 2 + n - p10 + 1]) / (n - 2 * p10 + 1)
        prop: dict[str, Any] = {
            "fmhz": c["f_MHz"],
            "hg": [c["h_tx_m"], c["h_rx_m"]],
            "ipol": c["polarization"],
            "eps": c["epsilon"],
            "sgm": c["sigma"],
            "klim": c["climate"],
            "ens0": c["N_0"],
            "pfl": pfl,
            "lvar": 5,
            "gma": 157e-9,
            "kwx": 0,
            "klimx": 0,
            "mdvarx": c["mdvar"],
        }
        prop["wn"], prop["gme"], prop["ens"], prop["zgnd"] = qlrps(
            c["f_MHz"], zsys, c["N_0"], c["polarization"], c["epsilon"], c["sigma"]
        )
        prop = qlrpfl(prop)
        fs = 8.685890 * math.log(2 * prop["wn"] * prop["dist"])
        z = qerfi([c["time_pct"] / 100, c["location_pct"] / 100, c["situation_pct"] / 100])
        a_var, prop = avar(z[0], z[1], z[2], prop)
        return float(fs + a_var)

    def run() -> np.ndarray:
        return np.array([one(c) for c in cases])

    return run


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--vectors", type=Path, default=DEFAULT_VECTORS)
    ap.add_argument("--repeats", type=int, default=7, help="timed repeats of each yalu run")
    ap.add_argument("--itmlogic-repeats", type=int, default=3, help="timed repeats of itmlogic")
    ap.add_argument("--no-itmlogic", action="store_true", help="skip the itmlogic comparator")
    args = ap.parse_args(argv)

    if not args.vectors.exists():
        print(f"reference vectors not found: {args.vectors}", file=sys.stderr)
        return 2
    cases = load_cases(args.vectors)
    ref = np.array([c["expected"]["A_db"] for c in cases])
    n = len(cases)
    n_threads = int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
    points = sum(len(c["pfl"]) - 2 for c in cases)
    print(f"{n} real-terrain point-to-point cases, {points} profile points in all")
    print(f"numba {numba.__version__}, {n_threads} threads available\n")

    rows: list[tuple[str, float, float, np.ndarray]] = []
    rows.append(("yalu p2p_batch, 1 thread", *timed(yalu_batch_runner(cases, 1), args.repeats)))
    w, _, loss = timed(yalu_batch_runner(cases, n_threads), args.repeats)
    rows.append((f"yalu p2p_batch, {n_threads} threads", w, math.nan, loss))
    rows.append(
        ("yalu p2p_pfl per call (Python loop)", *timed(yalu_single_runner(cases), args.repeats))
    )
    runner = None if args.no_itmlogic else itmlogic_runner(cases)
    if runner is not None:
        rows.append(("itmlogic per call (Python loop)", *timed(runner, args.itmlogic_repeats)))
    w_ref, c_ref = (rows[-1][1], rows[-1][2]) if runner is not None else (math.nan, math.nan)

    header = (
        f"{'implementation':38s} {'evals/s':>10s} {'us/eval':>8s} {'x itmlogic':>10s}"
        f" {'CPU evals/s':>11s} {'x (CPU)':>8s} {'max|dA| dB':>10s} {'>1 dB':>5s}"
    )
    print(header)
    print("-" * len(header))
    for name, w, c, loss in rows:
        dev = np.abs(loss - ref)
        cpu_rate = f"{n / c:11,.0f}" if math.isfinite(c) else f"{'-':>11s}"
        cpu_ratio = f"{c_ref / c:8.1f}" if math.isfinite(c) else f"{'-':>8s}"
        print(
            f"{name:38s} {n / w:10,.0f} {w / n * 1e6:8.2f} {w_ref / w:10.1f}"
            f" {cpu_rate} {cpu_ratio} {np.nanmax(dev):10.2g} {int(np.sum(dev > 1.0)):5d}"
        )
    print(
        "\nmedians of repeated runs (wall clock; CPU time of this process for single-threaded "
        "runs);\n'max|dA|' and '>1 dB' against the NTIA ITM v1.4 reference values "
        "(itmlogic implements ITM 1.2.2)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
