"""Where a flagship run's time goes: a py-spy profile split by phase and by kind of work.

Record a run first (py-spy is not a yalu dependency: ``pip install py-spy``)::

    py-spy record -r 10 -f raw -o prof.txt --subprocesses -- \\
        python benchmarks/bench_border.py --grid-arcsec 30 --repeats 1 --terrain border15.tif

then ``python benchmarks/profile_phases.py prof.txt``. Each sample of the scenario's main thread
is put in the phase of :func:`yalu.scenario.run_scenario` it was taken in (the line of the
runner that was executing, named below) and in one of three kinds of work:

- ``maps``: the path-loss engine on a grid (:func:`yalu.coverage.tile_job_multi`);
- ``points``: the engine at population samples, each on its own path
  (:func:`yalu.coverage.engine.path_loss_at_points_multi`);
- ``rest``: everything else (budgets, ensembles, reach, outputs).

Seconds are samples divided by the rate (``--rate``, py-spy's ``-r``); the main thread waits
while numba's threads compute, so engine time is wall time of both cores.
"""

from __future__ import annotations

import argparse
import ast
import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNNER = ROOT / "src" / "yalu" / "scenario" / "runner.py"


def _frame_pattern() -> re.Pattern[str]:
    """A py-spy frame of the runner's function that times the phases (the one defining
    ``lap``), with its line number as group 1."""
    tree = ast.parse(RUNNER.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and any(
            isinstance(d, ast.FunctionDef) and d.name == "lap" for d in node.body
        ):
            return re.compile(rf"{re.escape(node.name)} \(yalu/scenario/runner\.py:(\d+)\)")
    raise SystemExit(f"no function defining lap() in {RUNNER}")


def _phase_names() -> dict[int, str]:
    """Runner line -> the phase it belongs to (the ``lap("name")`` that closes it)."""
    tree = ast.parse(RUNNER.read_text())
    laps: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "lap" and node.args
                and isinstance(node.args[0], ast.Constant)):  # fmt: skip
            laps.append((node.lineno, str(node.args[0].value)))
    laps.sort()
    out: dict[int, str] = {}
    prev = 0
    for line, name in laps:
        for k in range(prev + 1, line + 1):
            out[k] = name
        prev = line
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("raw", type=Path, help="py-spy record -f raw output")
    ap.add_argument("--rate", type=float, default=10.0, help="py-spy's sampling rate [Hz]")
    args = ap.parse_args()
    names = _phase_names()
    frame = _frame_pattern()
    table: Counter[tuple[str, str]] = Counter()
    total = 0
    for line in args.raw.read_text().splitlines():
        if not line.strip():
            continue
        stack, n_text = line.rsplit(" ", 1)
        n = int(n_text)
        frames = stack.split(";")
        lines = [int(m.group(1)) for f in frames if (m := frame.match(f.strip()))]
        if not lines:
            continue
        total += n
        kind = "rest"
        if any("tile_job_multi" in f for f in frames):
            kind = "maps"
        elif any("path_loss_at_points_multi" in f for f in frames):
            kind = "points"
        table[(names.get(lines[0], "after the last phase"), kind)] += n
    phases = list(dict.fromkeys(p for p, _k in sorted(table, key=lambda x: _order(names, x[0]))))
    print(f"{total / args.rate:.1f} s of the scenario's main thread\n")
    print("| phase | maps s | points s | rest s | total s |")
    print("|---|---|---|---|---|")
    sums = Counter[str]()
    for p in phases:
        row = [table[(p, k)] / args.rate for k in ("maps", "points", "rest")]
        for k, v in zip(("maps", "points", "rest"), row, strict=True):
            sums[k] += v
        print(f"| {p} | {row[0]:.1f} | {row[1]:.1f} | {row[2]:.1f} | {sum(row):.1f} |")
    print(f"| **all** | {sums['maps']:.1f} | {sums['points']:.1f} | {sums['rest']:.1f} | "
          f"{sum(sums.values()):.1f} |")  # fmt: skip


def _order(names: dict[int, str], phase: str) -> int:
    lines = [k for k, v in names.items() if v == phase]
    return min(lines) if lines else 10**9


if __name__ == "__main__":
    main()
