"""Memory used to sample a 100 km-radius disc from a directory of SRTM tiles.

Writes synthetic SRTM .hgt tiles (3" by default, 1" with ``--arcsec 1``) into a temporary
directory, a block of tiles much larger than the disc, then, in a fresh Python process, samples
terrain at every native node within ``--radius-km`` of the centre through
:meth:`yalu.terrain.Terrain.elevation_m` (in chunks of rows, as a coverage engine would), and
reports peak RSS (VmHWM), the RSS after imports, tracemalloc's peak of Python-side allocations,
tiles present vs. tiles loaded, and the block cache's peak bytes.

    python benchmarks/bench_terrain_memory.py                  # 3", 100 km, 7 x 7 tiles
    python benchmarks/bench_terrain_memory.py --cache-mb 16    # a tight cache bound
    python benchmarks/bench_terrain_memory.py --arcsec 1 --tiles 4
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CENTRE = (41.5, 125.5)


def _status_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return -1


def write_tiles(d: Path, n: int, arcsec: int) -> int:
    ppd = 3600 // arcsec
    s0 = int(CENTRE[0]) - n // 2
    w0 = int(CENTRE[1]) - n // 2
    i = np.arange(ppd + 1)
    count = 0
    for s in range(s0, s0 + n):
        for w in range(w0, w0 + n):
            lat = s + 1 - i / ppd
            lon = w + i / ppd
            z = 500 + 400 * np.sin(lat[:, None] * 7.0) * np.cos(lon[None, :] * 5.0)
            name = f"N{s:02d}E{w:03d}.hgt"
            (d / name).write_bytes(np.rint(z).astype(">i2").tobytes())
            count += 1
    return count


def sample(d: str, radius_km: float, cache_mb: float | None) -> dict[str, float]:
    import tracemalloc

    from yalu.geodesy import geodesic_inverse
    from yalu.terrain import open_terrain

    rss_imports = _status_kb("VmRSS")
    t = open_terrain(d, cache_mb=cache_mb)
    dlat, dlon = t.resolution_deg
    lat0, lon0 = CENTRE
    r_m = radius_km * 1000.0
    half_lat = r_m / 110_574.0 + 2 * dlat
    half_lon = r_m / (111_320.0 * np.cos(np.radians(lat0 + half_lat))) + 2 * dlon
    lats = (
        np.arange(np.ceil((lat0 - half_lat) / dlat), np.floor((lat0 + half_lat) / dlat) + 1) * dlat
    )
    lons = (
        np.arange(np.ceil((lon0 - half_lon) / dlon), np.floor((lon0 + half_lon) / dlon) + 1) * dlon
    )
    tracemalloc.start()
    t0 = time.perf_counter()
    n_points = 0
    checksum = 0.0
    chunk = 50  # rows of nodes per call
    for k in range(0, lats.size, chunk):
        la = np.repeat(lats[k : k + chunk], lons.size)
        lo = np.tile(lons, min(chunk, lats.size - k))
        dist = geodesic_inverse(lat0, lon0, la, lo)[0]
        inside = dist <= r_m
        if inside.any():
            z = t.elevation_m(la[inside], lo[inside])
            n_points += int(inside.sum())
            checksum += float(z.sum())
    wall = time.perf_counter() - t0
    _, py_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    info = t.cache_info()
    return {
        "points": n_points,
        "wall_s": round(wall, 2),
        "rss_after_imports_mb": round(rss_imports / 1024, 1),
        "peak_rss_mb": round(_status_kb("VmHWM") / 1024, 1),
        "tracemalloc_peak_mb": round(py_peak / 2**20, 1),
        "tiles_present": len(t.tiles),
        "tiles_loaded": info["loads"],
        "cache_peak_mb": round(info["peak_bytes"] / 2**20, 1),
        "cache_limit_mb": round(info["max_bytes"] / 2**20, 1),
        "mean_elevation_m": round(checksum / max(n_points, 1), 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--arcsec", type=int, choices=(1, 3), default=3)
    ap.add_argument("--tiles", type=int, default=7, help="n x n tiles around the centre")
    ap.add_argument("--radius-km", type=float, default=100.0)
    ap.add_argument("--cache-mb", type=float, default=None)
    ap.add_argument("--sample-only", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.sample_only:
        print(json.dumps(sample(args.sample_only, args.radius_km, args.cache_mb)))
        return
    with tempfile.TemporaryDirectory(prefix="yalu-bench-") as d:
        n = write_tiles(Path(d), args.tiles, args.arcsec)
        size_mb = sum(p.stat().st_size for p in Path(d).iterdir()) / 2**20
        cmd = [sys.executable, __file__, "--sample-only", d, "--radius-km", str(args.radius_km)]
        if args.cache_mb is not None:
            cmd += ["--cache-mb", str(args.cache_mb)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=dict(os.environ))
        res = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f'{n} synthetic {args.arcsec}" tiles ({size_mb:.0f} MiB on disk), '
        f"disc radius {args.radius_km:g} km"
    )
    for k, v in res.items():
        print(f"  {k}: {v}")


if __name__ == "__main__":
    main()
