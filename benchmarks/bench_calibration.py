"""`yalu calibrate` on a synthetic drive test: held-out errors before and after calibration.

Synthetic hilly terrain (6" grid, 0.5 x 0.6 degrees), 6 sites at 900/1800 MHz, measurements at
0.3-12 km in random directions. The "truth" is ITM's own prediction distorted by a bias, a slope
in log distance, a built-up class offset (land cover: built-up in the south half) and Gaussian
noise of ``--sigma-db``; the script runs the whole ``yalu calibrate`` process (K-fold by site,
with and without land cover) and prints the CAL.json figures and the wall time.

    python benchmarks/bench_calibration.py
    python benchmarks/bench_calibration.py --sigma-db 8 --points 150
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

SITES = [
    ("A", 41.20, 124.20, 30.0, 900.0),
    ("B", 41.30, 124.45, 45.0, 900.0),
    ("C", 41.12, 124.40, 25.0, 1800.0),
    ("D", 41.36, 124.15, 35.0, 900.0),
    ("E", 41.40, 124.50, 40.0, 1800.0),
    ("F", 41.10, 124.10, 20.0, 900.0),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=100, help="points drawn per site")
    ap.add_argument("--sigma-db", type=float, default=6.0)
    ap.add_argument("--bias-db", type=float, default=8.0)
    ap.add_argument("--slope-db", type=float, default=-5.0, help="per decade of distance")
    ap.add_argument("--built-db", type=float, default=6.0, help="extra loss in built-up areas")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    from yalu.analysis import calibration as cal
    from yalu.geodesy import geodesic_points

    rng = np.random.default_rng(a.seed)
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        res = 1 / 600
        lat = 41.5 - (np.arange(300) + 0.5) * res
        lon = 124.0 + (np.arange(360) + 0.5) * res
        la, lo = np.meshgrid(lat, lon, indexing="ij")
        z = 200 + 90 * np.sin(la * 40) * np.cos(lo * 33) + 40 * np.sin(lo * 90 + la * 20)
        terrain = tmp / "hills.tif"
        with rasterio.open(
            terrain, "w", driver="GTiff", width=360, height=300, count=1, dtype="float32",
            crs="EPSG:4326", transform=from_origin(124.0, 41.5, res, res),
        ) as ds:  # fmt: skip
            ds.write(z.astype(np.float32), 1)
        lc = tmp / "lc.tif"
        cover = np.full((50, 60), 30, dtype=np.uint8)  # grassland
        cover[25:, :] = 50  # built-up south of 41.25 N
        with rasterio.open(
            lc, "w", driver="GTiff", width=60, height=50, count=1, dtype="uint8",
            crs="EPSG:4326", transform=from_origin(124.0, 41.5, 0.01, 0.01), nodata=0,
        ) as ds:  # fmt: skip
            ds.write(cover, 1)
        sites_csv = tmp / "sites.csv"
        with sites_csv.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["site_id", "lat_deg", "lon_deg", "height_m", "frequency_mhz"])
            w.writerows(SITES)
        pts = []
        for sid, sla, slo, _h, _f in SITES:
            d = 10 ** rng.uniform(np.log10(0.3), np.log10(12.0), a.points) * 1000
            az = rng.uniform(0, 360, a.points)
            plat, plon = geodesic_points(np.full(a.points, sla), np.full(a.points, slo), az, d)
            keep = (plat > 41.02) & (plat < 41.48) & (plon > 124.02) & (plon < 124.58)
            pts += [(sid, float(x), float(y)) for x, y in zip(plat[keep], plon[keep], strict=True)]
        meas_csv = tmp / "meas.csv"

        def write(vals: np.ndarray) -> None:
            with meas_csv.open("w", newline="") as f:
                w = csv.writer(f)
                w.writerow(["site_id", "lat_deg", "lon_deg", "loss_db"])
                for (sid, x, y), v in zip(pts, vals, strict=True):
                    w.writerow([sid, repr(x), repr(y), repr(float(v))])

        write(np.zeros(len(pts)))
        st = cal.read_sites(sites_csv)
        pr = cal.predict_loss_db(cal.read_measurements(meas_csv, st), st, terrain, "itm")
        built = np.array([x < 41.25 for _, x, _ in pts])
        truth = (
            pr.loss_db + a.bias_db + a.slope_db * np.log10(pr.distance_km)
            + np.where(built, a.built_db, 0.0) + rng.normal(0, a.sigma_db, len(pts))
        )  # fmt: skip
        write(truth)
        print(
            f"{len(pts)} measurements, {len(SITES)} sites; distortion: bias {a.bias_db} dB, "
            f"slope {a.slope_db} dB/decade, built-up +{a.built_db} dB, noise {a.sigma_db} dB"
        )
        for extra in ([], ["--landcover", str(lc)]):
            out = tmp / f"cal{len(extra)}.json"
            cmd = [sys.executable, "-m", "yalu.cli.main", "calibrate", str(meas_csv), "--sites",
                   str(sites_csv), "--terrain", str(terrain), "--folds", "3", "-o", str(out),
                   *extra]  # fmt: skip
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            wall = time.perf_counter() - t0
            obj = json.loads(out.read_text())
            b, af, p = obj["before"], obj["after"], obj["parameters"]
            print(
                f"{'with land cover' if extra else 'without land cover'}: before RMSE "
                f"{b['rmse_db']:.2f} (mean {b['mean_error_db']:+.2f}, std {b['std_db']:.2f}), "
                f"after RMSE {af['rmse_db']:.2f} (mean {af['mean_error_db']:+.2f}, std "
                f"{af['std_db']:.2f}), n {af['n']}; fitted offset {p['offset_db']:+.2f}, slope "
                f"{p['slope_db_per_decade']:+.2f}, classes {p['class_offset_db']}; "
                f"whole process {wall:.1f} s"
            )


if __name__ == "__main__":
    main()
