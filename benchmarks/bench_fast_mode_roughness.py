"""How fast mode's error grows with small-scale terrain roughness (accuracy, not speed).

Fast mode shares work along radials, so each node's value comes from profiles that pass near the
node rather than through it. On smooth terrain the difference is small (the shared bench terrain,
GLOBE 30" resampled to 3", is smooth); real 3" or 1" DEMs carry relief at the scale of a few nodes.
This script adds synthetic fractal roughness (a surface with a k^-3 power spectrum, wavelengths
shorter than 2 km only, at a given RMS) to the bench terrain around the bench site and compares
fast with exact mode at 25 km. Installs nothing; expects ``../shared/bench`` beside the repo.

Usage: python benchmarks/bench_fast_mode_roughness.py [--rms 0 5 15] [--radius-km 25]
"""

from __future__ import annotations

import argparse
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np

from yalu.coverage import path_loss_map
from yalu.terrain import TerrainWindow, open_terrain

ROOT = Path(__file__).resolve().parents[1]
TAR = ROOT / ".." / "shared" / "bench" / "sdf_3arcsec_40-43N_22-26E.tar.xz"
SITE = (41.418, 24.178)
ITM = dict(h_tx_m=40.0, h_rx_m=1.5, frequency_mhz=900.0, climate=5, n0=301.0, epsilon=15.0,
           sigma=0.005, mdvar=12)


def rough_noise(shape: tuple[int, int], dy_m: float, dx_m: float, rms_m: float,
                rng: np.random.Generator) -> np.ndarray:
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
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(TAR) as tf:
            tf.extractall(tmp, filter="data")
        sdf = next(Path(tmp).rglob("*.sdf")).parent
        terrain = open_terrain(sdf)
        pad = args.radius_km / 100.0 + 0.02
        w = terrain.read_window(SITE[0] - pad, SITE[1] - pad * 1.35, SITE[0] + pad, SITE[1] + pad * 1.35)
        dy, dx = terrain.resolution_m
        rng = np.random.default_rng(1)
        print(f"bench terrain around {SITE}, radius {args.radius_km} km, fast vs exact |delta| [dB]")
        print("| roughness RMS m | nodes | median | P90 | P95 | P99 | fast s | exact s |")
        print("|---|---|---|---|---|---|---|---|")
        for rms in args.rms:
            z = w.grid_m + (rough_noise(w.grid_m.shape, dy, dx, rms, rng) if rms else 0.0)
            win = TerrainWindow(np.ascontiguousarray(z), w.north_deg, w.west_deg, w.dlat_deg,
                                w.dlon_deg)
            t0 = time.perf_counter()
            fast = path_loss_map(win, SITE, args.radius_km * 1e3, mode="fast", **ITM).values
            t1 = time.perf_counter()
            exact = path_loss_map(win, SITE, args.radius_km * 1e3, mode="exact", **ITM).values
            t2 = time.perf_counter()
            d = np.abs(fast - exact)
            d = d[np.isfinite(d)]
            q = np.percentile(d, [50, 90, 95, 99])
            print(f"| {rms:g} | {d.size} | {q[0]:.2f} | {q[1]:.2f} | {q[2]:.2f} | {q[3]:.2f} "
                  f"| {t1 - t0:.1f} | {t2 - t1:.1f} |")


if __name__ == "__main__":
    main()
