"""How fast mode's error grows with small-scale terrain roughness (accuracy, not speed).

Fast mode shares work along radials, so each node's value comes from profiles that pass near the
node rather than through it. On smooth terrain the difference is small (the shared bench terrain,
GLOBE 30" resampled to 3", is smooth); real 3" or 1" DEMs carry relief at the scale of a few nodes.
This script adds synthetic fractal roughness (a surface with a k^-3 power spectrum, wavelengths
shorter than 2 km only, at a given RMS) to the bench terrain around the bench site and compares
fast with exact mode at 25 km. Installs nothing; expects ``../shared/bench`` beside the repo.

Hybrid mode (each node's own profile within 2 km of it, the rest read from shared radials) is
compared with exact mode on the same terrain, with its default settings and, with ``--dense``,
refined ones (the figures must move towards exact mode as the settings are refined).

``--terrain`` runs the comparison on another terrain instead (e.g. ``synthetic_terrain.py``'s,
roughness included: ``--rms 0``) around ``--site``; ``--dense`` adds fast mode at its densest
settings, whose remaining error is that of sharing radial profiles between nodes.

Usage: python benchmarks/bench_fast_mode_roughness.py [--rms 0 5 15] [--radius-km 25]
       [--terrain PATH --site LAT LON] [--dense]
"""

from __future__ import annotations

import argparse
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from yalu.coverage import FastSettings, HybridSettings, path_loss_map
from yalu.terrain import TerrainWindow, open_terrain

ROOT = Path(__file__).resolve().parents[1]
TAR = ROOT / ".." / "shared" / "bench" / "sdf_3arcsec_40-43N_22-26E.tar.xz"
SITE = (41.418, 24.178)
ITM = dict(
    h_tx_m=40.0,
    h_rx_m=1.5,
    frequency_mhz=900.0,
    climate=5,
    n0=301.0,
    epsilon=15.0,
    sigma=0.005,
    mdvar=12,
)


def rough_noise(
    shape: tuple[int, int], dy_m: float, dx_m: float, rms_m: float, rng: np.random.Generator
) -> np.ndarray:
    """Fractal roughness: k^-3 power spectrum, wavelengths < 2 km, scaled to ``rms_m``."""
    ky = np.fft.fftfreq(shape[0], d=dy_m)[:, None]
    kx = np.fft.fftfreq(shape[1], d=dx_m)[None, :]
    k = np.hypot(ky, kx)
    k[0, 0] = np.inf
    spec = (rng.normal(size=shape) + 1j * rng.normal(size=shape)) * k**-1.5
    spec[k < 1 / 2000.0] = 0
    n = np.real(np.fft.ifft2(spec))
    return n * (rms_m / n.std())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rms", type=float, nargs="+", default=[0.0, 5.0, 15.0])
    ap.add_argument("--radius-km", type=float, default=25.0)
    ap.add_argument("--terrain", type=Path, default=None,
                    help="another terrain (e.g. synthetic_terrain.py's, roughness included: "
                         "use --rms 0) instead of the bench terrain")  # fmt: skip
    ap.add_argument("--site", type=float, nargs=2, default=SITE, metavar=("LAT", "LON"))
    ap.add_argument("--dense", action="store_true",
                    help="also fast mode at its densest (radials 4x denser, ITM and delta_h at "
                         "every sample on every radial): what is left is the error of sharing "
                         "radial profiles between nodes")  # fmt: skip
    args = ap.parse_args()
    site = (float(args.site[0]), float(args.site[1]))
    with tempfile.TemporaryDirectory() as tmp:
        if args.terrain is None:
            with tarfile.open(TAR) as tf:
                tf.extractall(tmp, filter="data")
            terrain = open_terrain(next(Path(tmp).rglob("*.sdf")).parent)
        else:
            terrain = open_terrain(args.terrain)
        compare(terrain, site, args.rms, args.radius_km, args.dense)


def compare(terrain: Any, site: tuple[float, float], rms_list: list[float], radius_km: float,
            dense: bool = False) -> None:  # fmt: skip
    """Print fast-vs-exact statistics around ``site`` for each added roughness RMS."""
    pad = radius_km / 100.0 + 0.02
    w = terrain.read_window(
        site[0] - pad, site[1] - pad * 1.35, site[0] + pad, site[1] + pad * 1.35
    )
    dy, dx = terrain.resolution_m
    rng = np.random.default_rng(1)
    print(
        f"{terrain.description} around {site}, radius {radius_km} km, "
        "fast or hybrid vs exact |delta| [dB]"
    )
    print(
        "| roughness RMS m | mode, settings | nodes | median | P90 | P95 | P99 | mode s | exact s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    settings: list[tuple[str, str, Any]] = [("fast", "default", FastSettings())]
    if dense:
        settings.append(("fast", "dense", FastSettings(arc_px=0.5, kstep=1, kdh=1, dh_every=1)))
    settings.append(("hybrid", "default", HybridSettings()))
    if dense:
        settings.append(
            ("hybrid", "dense", HybridSettings(arc_steps=0.25, own_m=4000.0, dh_every=0))
        )
    for rms in rms_list:
        z = w.grid_m + (rough_noise(w.grid_m.shape, dy, dx, rms, rng) if rms else 0.0)
        win = TerrainWindow(
            np.ascontiguousarray(z), w.north_deg, w.west_deg, w.dlat_deg, w.dlon_deg
        )
        t1 = time.perf_counter()
        exact = path_loss_map(win, site, radius_km * 1e3, mode="exact", **ITM).values
        t2 = time.perf_counter()
        for mode, name, fs in settings:
            t0 = time.perf_counter()
            kw = {"fast": fs} if mode == "fast" else {"hybrid": fs}
            fast = path_loss_map(win, site, radius_km * 1e3, mode=mode, **kw, **ITM).values
            dt = time.perf_counter() - t0
            d = np.abs(fast - exact)
            d = d[np.isfinite(d)]
            q = np.percentile(d, [50, 90, 95, 99])
            print(
                f"| {rms:g} | {mode} {name} | {d.size} "
                f"| {q[0]:.2f} | {q[1]:.2f} | {q[2]:.2f} | {q[3]:.2f} "
                f"| {dt:.1f} | {t2 - t1:.1f} |"
            )


if __name__ == "__main__":
    main()
