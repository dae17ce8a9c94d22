"""Write a deterministic 3" synthetic terrain over the Sino-Korean border region.

The region spans 39-44 N, 123-131 E.

The border benchmark (``bench_border.py``) needs terrain at the resolution of real analysis
(3", SRTM-like) that anyone can regenerate without a download. This script builds it from the
embedded coarse grid (``src/yalu/data/etopo5_ne_asia.tif``, ETOPO5 5'):

1. the embedded grid upsampled to every 3" node by bilinear interpolation
   (:meth:`yalu.terrain.Terrain.elevation_m`); sea (below 0 m) is set to 0 m;
2. plus fractal roughness on land: value noise summed over octaves of wavelength 2000, 1000,
   500, 250 and 125 m with amplitudes proportional to sqrt(wavelength), i.e. about the k^-3 power
   spectrum of ``bench_fast_mode_roughness.py`` (wavelengths < 2 km only), scaled to the RMS
   given by ``--rms-m`` (stated in the file's tags) and tapered to zero over the first 50 m of
   elevation above the sea;
3. rounded to whole metres (int16, as SRTM/SDF) and written as one tiled (512 x 512),
   DEFLATE-compressed GeoTIFF, point-registered (nodes at pixel centres, 6001 x 9601 nodes),
   in strips so that memory stays small, under a temporary name renamed into place once read back
   and checked.

The noise at a node depends only on the node's coordinates and ``--seed`` (a hash of the integer
lattice), so the output is identical on every machine and run, and no strip boundary shows.
The file (~100 MB) is an output: it is written outside the repository by default and must not be
committed.

Usage: python benchmarks/synthetic_terrain.py [-o PATH] [--rms-m 15] [--seed 1] [--overwrite]
"""

from __future__ import annotations

import argparse
import hashlib
import math
import sys
import tempfile
import time
from pathlib import Path

import numba as nb
import numpy as np

SOUTH, NORTH, WEST, EAST = 39.0, 44.0, 123.0, 131.0
PER_DEG = 1200  # 3 arc-seconds
WAVELENGTHS_M = (2000.0, 1000.0, 500.0, 250.0, 125.0)
M_PER_DEG_LAT = 111_132.0
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(41.5))  # texture only, not geodesy
TAPER_M = 50.0
STRIP = 512
DEFAULT_OUT = Path(tempfile.gettempdir()) / "yalu-bench" / "border_3s_rough15.tif"


@nb.njit(cache=True, inline="always")
def _hash01(ix: int, iy: int, octave: int, seed: int) -> float:
    """Uniform value in [-1, 1) from integer lattice coordinates (splitmix64 finaliser)."""
    x = np.uint64(ix & 0xFFFFFFFF) | (np.uint64(iy & 0xFFFFFF) << np.uint64(32))
    x ^= np.uint64(octave) << np.uint64(56)
    x += np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return float(x >> np.uint64(11)) * (2.0 / 9007199254740992.0) - 1.0


@nb.njit(cache=True, inline="always")
def _fade(t: float) -> float:
    return t * t * t * (t * (t * 6.0 - 15.0) + 10.0)


@nb.njit(cache=True, parallel=True)
def _noise(lats: np.ndarray, lons: np.ndarray, seed: int, out: np.ndarray) -> None:
    """Unscaled fractal value noise at the nodes lats x lons into ``out`` (rows, cols)."""
    n_oct = len(WAVELENGTHS_M)
    for i in nb.prange(lats.shape[0]):
        y_m = (lats[i] - SOUTH) * M_PER_DEG_LAT
        for j in range(lons.shape[0]):
            x_m = (lons[j] - WEST) * M_PER_DEG_LON
            v = 0.0
            for o in range(n_oct):
                lam = WAVELENGTHS_M[o]
                # lattice spacing of half a wavelength
                u = x_m / (0.5 * lam)
                w = y_m / (0.5 * lam)
                iu = int(math.floor(u))
                iw = int(math.floor(w))
                fu = _fade(u - iu)
                fw = _fade(w - iw)
                a = _hash01(iu, iw, o, seed)
                b = _hash01(iu + 1, iw, o, seed)
                c = _hash01(iu, iw + 1, o, seed)
                d = _hash01(iu + 1, iw + 1, o, seed)
                top = a + (b - a) * fu
                bot = c + (d - c) * fu
                v += math.sqrt(lam / WAVELENGTHS_M[0]) * (top + (bot - top) * fw)
            out[i, j] = v


def _noise_scale(seed: int) -> float:
    """Factor that gives the noise unit RMS, measured on a fixed 0.5 x 0.5 degree block."""
    lats = 41.5 - np.arange(600) / PER_DEG
    lons = 127.0 + np.arange(600) / PER_DEG
    block = np.empty((lats.size, lons.size))
    _noise(lats, lons, seed, block)
    return 1.0 / float(block.std())


def write_terrain(out: Path, rms_m: float, seed: int, overwrite: bool = False) -> dict[str, float]:
    """Write the synthetic terrain to ``out`` (see module doc); return figures about it."""
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    from yalu.io.atomic import atomic_output
    from yalu.terrain import default_terrain

    base = default_terrain()
    n_rows = int(round((NORTH - SOUTH) * PER_DEG)) + 1
    n_cols = int(round((EAST - WEST) * PER_DEG)) + 1
    d = 1.0 / PER_DEG
    lons = WEST + np.arange(n_cols) * d
    scale = rms_m * _noise_scale(seed)
    profile = dict(
        driver="GTiff", width=n_cols, height=n_rows, count=1, dtype="int16",
        crs="EPSG:4326", transform=from_origin(WEST - d / 2, NORTH + d / 2, d, d),
        tiled=True, blockxsize=512, blockysize=512, compress="deflate", predictor=2,
        nodata=-32768,
    )  # fmt: skip
    digest = hashlib.sha256()
    sum_sq = 0.0
    n_land = 0
    z_max = -1e9
    with atomic_output(out, overwrite=overwrite) as tmp:
        with rasterio.open(tmp, "w", **profile) as ds:
            ds.update_tags(
                DESCRIPTION="yalu synthetic 3\" border terrain: embedded ETOPO5 5' grid upsampled "
                "bilinearly plus fractal roughness; for benchmarks, not for analysis",
                ROUGHNESS_RMS_M=f"{rms_m:g}", ROUGHNESS_WAVELENGTHS_M=" ".join(
                    f"{w:g}" for w in WAVELENGTHS_M), SEED=str(seed), AREA_OR_POINT="Point",
            )  # fmt: skip
            noise = np.empty((STRIP, n_cols))
            for r0 in range(0, n_rows, STRIP):
                r1 = min(n_rows, r0 + STRIP)
                lats = NORTH - np.arange(r0, r1) * d
                la, lo = np.meshgrid(lats, lons, indexing="ij")
                z = np.maximum(np.asarray(base.elevation_m(la, lo), dtype=np.float64), 0.0)
                nz = noise[: r1 - r0]
                _noise(lats, lons, seed, nz)
                taper = np.clip(z / TAPER_M, 0.0, 1.0)
                rough = nz * scale * taper
                z = np.rint(z + rough * (z > 0.0))
                z = np.clip(z, 0, 9000).astype(np.int16)
                land = taper >= 1.0
                sum_sq += float(np.sum(rough[land] ** 2))
                n_land += int(land.sum())
                z_max = max(z_max, float(z.max()))
                digest.update(z.tobytes())
                ds.write(z, 1, window=Window(0, r0, n_cols, r1 - r0))
        # read back and check before the rename
        check = hashlib.sha256()
        with rasterio.open(tmp) as ds:
            if (ds.height, ds.width) != (n_rows, n_cols):
                raise RuntimeError(
                    f"{tmp}: wrote {ds.height} x {ds.width}, expected {n_rows} x {n_cols}"
                )
            for r0 in range(0, n_rows, STRIP):
                r1 = min(n_rows, r0 + STRIP)
                check.update(ds.read(1, window=Window(0, r0, n_cols, r1 - r0)).tobytes())
        if check.hexdigest() != digest.hexdigest():
            raise RuntimeError(f"{tmp}: read-back differs from what was written")
    return {
        "rows": n_rows, "cols": n_cols, "rms_land_m": math.sqrt(sum_sq / max(n_land, 1)),
        "max_m": z_max, "bytes": out.stat().st_size, "sha256": int(digest.hexdigest()[:12], 16),
    }  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("-o", "--output", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--rms-m", type=float, default=15.0, help="roughness RMS on land [m] (0..100)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--overwrite", action="store_true")
    args = ap.parse_args()
    if not 0.0 <= args.rms_m <= 100.0:
        print(f"--rms-m: {args.rms_m} is outside 0..100 m", file=sys.stderr)
        return 2
    if args.output.exists() and not args.overwrite:
        print(f"{args.output} exists (use --overwrite)", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    info = write_terrain(args.output, args.rms_m, args.seed, args.overwrite)
    print(f"wrote {args.output}: {info['rows']} x {info['cols']} nodes (3\"), "
          f"{info['bytes'] / 2**20:.0f} MiB, roughness RMS on land {info['rms_land_m']:.2f} m "
          f"(asked {args.rms_m:g}), max {info['max_m']:.0f} m, content hash {info['sha256']:012x}, "
          f"{time.perf_counter() - t0:.0f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
