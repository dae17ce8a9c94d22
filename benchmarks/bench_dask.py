"""Speed-up of `yalu run` from one to two Dask worker processes, and the bytes moved per map.

Runs the flagship scenario (exact ITM) as whole `yalu run` processes, with the
path-loss maps on a local cluster of 1 and of 2 worker processes (one thread each), and, side by
side, locally on 1 numba thread. Prints the median wall time of each, the speed-up from 1 to 2
workers and the bytes of terrain sent per task (from the run's own report line).

Without ``--terrain`` the path-loss phase is about a second (embedded 5' terrain): pass the 3"
synthetic terrain of ``synthetic_terrain.py`` to measure the maps the workers compute.

    python benchmarks/bench_dask.py [--runs 3] [--grid-arcsec 120] [--terrain FILE]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _scenario(tmp: Path, grid_arcsec: int, terrain: Path | None = None) -> Path:
    import yaml

    from yalu.scenario import parse_scenario
    from yalu.scenario.runner import demo_scenario_text

    sc = parse_scenario(demo_scenario_text())
    sc.grid.resolution_arcsec = grid_arcsec
    if terrain is not None:
        sc.terrain.source = "file"
        sc.terrain.path = str(terrain.resolve())
    # the Monte Carlo's extra height maps and the convergence check run in the main process:
    # left out, so that the run is the path-loss maps the workers compute, plus the budgets
    sc.uncertainty = None
    sc.population.convergence_check = False
    sc.output.png = sc.output.report_html = sc.output.report_md = False
    path = tmp / "flagship.yaml"
    path.write_text(yaml.safe_dump(sc.model_dump(mode="json", exclude_none=True)), encoding="utf-8")
    return path


def _run(scenario: Path, out: Path, extra: list[str]) -> tuple[float, float, str]:
    """Whole-process wall time, the run's own path-loss phase time, and its stdout."""
    t0 = time.perf_counter()
    r = subprocess.run(
        ["yalu", "run", str(scenario), "-o", str(out), "--overwrite", *extra],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"yalu run {' '.join(extra)} failed:\n{r.stderr[-2000:]}")
    phase = json.loads((out / "summary.json").read_text(encoding="utf-8"))["timings_s"]["path_loss"]
    return wall, float(phase), r.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--grid-arcsec", type=int, default=120)
    ap.add_argument(
        "--terrain",
        type=Path,
        default=None,
        help="a GeoTIFF instead of the embedded grid (synthetic_terrain.py's)",
    )
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        sc = _scenario(tmp, a.grid_arcsec, a.terrain)
        configs = {
            "local, 1 thread": ["--threads", "1"],
            "1 worker": ["--workers", "1"],
            "2 workers": ["--workers", "2"],
        }
        _run(sc, tmp / "warm", ["--workers", "2"])  # numba caches warm in every process
        times: dict[str, list[float]] = {k: [] for k in configs}
        phases: dict[str, list[float]] = {k: [] for k in configs}
        per_task = ""
        for _ in range(a.runs):
            for name, extra in configs.items():
                wall, phase, out = _run(sc, tmp / "out", extra)
                times[name].append(wall)
                phases[name].append(phase)
                m = re.search(r"(\d+) Dask tasks .*?, ([\d.]+) MB of terrain sent", out)
                if m:
                    per_task = (
                        f"{float(m.group(2)) / int(m.group(1)) * 1e3:.1f} kB/task "
                        f"({m.group(1)} tasks)"
                    )
    med = {k: statistics.median(v) for k, v in times.items()}
    mph = {k: statistics.median(v) for k, v in phases.items()}
    print(
        f'flagship, {a.terrain or "embedded terrain"}, {a.grid_arcsec}" grid, exact ITM, no '
        f"uncertainty or convergence check; medians of {a.runs} "
        "whole `yalu run` processes (path-loss phase in brackets)"
    )
    for k, v in med.items():
        print(
            f"  {k:>16}: {v:7.2f} s [{mph[k]:6.2f} s]  "
            f"(runs: {', '.join(f'{x:.2f}' for x in times[k])})"
        )
    print(
        f"  speed-up 1 -> 2 workers: whole run {med['1 worker'] / med['2 workers']:.2f}x, "
        f"path-loss phase {mph['1 worker'] / mph['2 workers']:.2f}x"
    )
    print(f"  terrain sent: {per_task}")


if __name__ == "__main__":
    main()
