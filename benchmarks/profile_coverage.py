"""Where a whole ``yalu coverage`` process's time goes: a py-spy profile split by stage.

Record the bench job first (py-spy is not a yalu dependency: ``pip install py-spy``), with the
numba cache warm (run the job once before)::

    py-spy record -r 200 -f raw -o prof.txt -- python -m yalu.cli.main coverage \\
        --terrain SDF_DIR --site 41.418,24.178 --height-m 40 --frequency-mhz 900 \\
        --radius-km 100 --rx-height-m 1.5 --mode fast ... -o out.tif --overwrite

then ``python benchmarks/profile_coverage.py prof.txt [--rate 200]``. Each sample of the main
thread is put in one stage, the first that matches its stack:

- ``kernel loading``: numba loading cached machine code (or compiling), wherever it happens;
- ``imports``: Python imports;
- ``terrain read``: reading and parsing the terrain window (``make_tile_spec``);
- ``path loss``: the engine (``tile_job``), kernel loading excepted;
- ``GeoTIFF write and check``: ``write_geotiff``;
- ``rest``: argument parsing, interpreter start-up and shutdown, everything else.

py-spy slows the process down by a few per cent; the shares are what to read, not the sum.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

STAGES = (
    ("kernel loading", ("Dispatcher.compile", "_compile_for_args", "load_overload")),
    ("imports", ("_find_and_load",)),
    ("terrain read", ("make_tile_spec",)),
    ("path loss", ("tile_job ",)),
    ("GeoTIFF write and check", ("write_geotiff",)),
)


def stage_of(frames: list[str]) -> str:
    for name, keys in STAGES:
        if any(k in f for f in frames for k in keys):
            return name
    return "rest"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("raw", type=Path, nargs="+", help="py-spy record -f raw outputs")
    ap.add_argument("--rate", type=float, default=200.0, help="py-spy's sampling rate [Hz]")
    args = ap.parse_args()
    per_file: list[Counter[str]] = []
    for path in args.raw:
        c: Counter[str] = Counter()
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            stack, n_text = line.rsplit(" ", 1)
            frames = stack.split(";")
            if any(f.startswith("Thread.") or "threading.py" in f for f in frames[:2]):
                continue  # the kernel warm-up thread runs beside the main thread
            c[stage_of(frames)] += int(n_text)
        per_file.append(c)
    names = [n for n, _ in STAGES] + ["rest"]
    print(f"main thread, {len(per_file)} profile(s), seconds per stage (median over profiles)\n")
    print("| stage | s | share |")
    print("|---|---|---|")
    med = {n: sorted(c[n] / args.rate for c in per_file)[len(per_file) // 2] for n in names}
    total = sum(med.values())
    for n in names:
        print(f"| {n} | {med[n]:.2f} | {med[n] / total:.0%} |")
    print(f"| **all** | {total:.2f} | |")


if __name__ == "__main__":
    main()
