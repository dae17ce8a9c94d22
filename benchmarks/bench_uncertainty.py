"""Cost of the flagship's uncertainty run against one run (whole processes, side by side).

Runs ``yalu run`` on the flagship scenario (embedded terrain) as shipped, with its
``uncertainty:`` section (200 samples), and the same scenario without that section, alternating
the two ``--repeats`` times, and prints the median wall time of each whole process (start-up
included) and their ratio. The issue's target: at most 3x. Each run also records the in-process
split in ``summary.json`` (``uncertainty.cost``).

Usage: python benchmarks/bench_uncertainty.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
FLAGSHIP = ROOT / "examples" / "sino-korean-border.yaml"


def run(scenario: Path, out: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "yalu.cli.main", "run", str(scenario), "-o", str(out),
                    "--overwrite"], check=True, capture_output=True)  # fmt: skip
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        data = yaml.safe_load(FLAGSHIP.read_text(encoding="utf-8"))
        data.pop("uncertainty")
        plain = d / "plain.yaml"
        plain.write_text(yaml.safe_dump(data), encoding="utf-8")
        # the flagship's relative paths are "embedded": the copy runs from anywhere
        with_u = d / "uncertain.yaml"
        with_u.write_text(FLAGSHIP.read_text(encoding="utf-8"), encoding="utf-8")
        run(plain, d / "warm")  # numba caches
        one, unc = [], []
        for _ in range(args.repeats):
            one.append(run(plain, d / "one"))
            unc.append(run(with_u, d / "unc"))
        cost = json.loads((d / "unc" / "summary.json").read_text())["uncertainty"]["cost"]
    m1, mu = statistics.median(one), statistics.median(unc)
    print(f"one run (no uncertainty): median {m1:.1f} s of {[round(x, 1) for x in one]}")
    print(f"with 200 samples:         median {mu:.1f} s of {[round(x, 1) for x in unc]}")
    print(f"ratio {mu / m1:.2f}x (target <= 3x); in-process split of the last run: {cost}")


if __name__ == "__main__":
    main()
