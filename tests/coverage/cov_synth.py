"""Synthetic terrain for the coverage tests, written as real GeoTIFFs with rasterio.

Nodes are pixel centres: node (i, j) at lat = north - i * d, lon = west + j * d.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

D3 = 1.0 / 1200.0  # 3 arc-seconds [deg]
NORTH = 41.30
WEST = 24.00
N_ROWS = 361  # 41.30 .. 41.00 N
N_COLS = 481  # 24.00 .. 24.40 E
SITE = (41.15, 24.20)  # exactly on a node


def lat_lon() -> tuple[np.ndarray, np.ndarray]:
    lat = NORTH - np.arange(N_ROWS) * D3
    lon = WEST + np.arange(N_COLS) * D3
    return np.meshgrid(lat, lon, indexing="ij")


def hilly(seed: int = 7, ripple_m: float = 3.0, ripple_period_deg: float = 0.01) -> np.ndarray:
    """Smooth random hills, 150-1000 m, plus an egg-crate ripple (amplitude ``ripple_m``).

    Fast mode's stated accuracy assumes terrain that is smooth at the scale of a node; a ripple
    with a period of a few nodes (e.g. 8 m every 0.002 deg) breaks that assumption.
    """
    rng = np.random.default_rng(seed)
    la, lo = lat_lon()
    z = np.full(la.shape, 300.0)
    for _ in range(60):
        c_la = rng.uniform(41.0, 41.3)
        c_lo = rng.uniform(24.0, 24.4)
        h = rng.uniform(-120, 450)
        w = rng.uniform(0.004, 0.03)
        z += h * np.exp(-(((la - c_la) / w) ** 2 + ((lo - c_lo) / (1.3 * w)) ** 2))
    k = 2.0 * np.pi / ripple_period_deg
    z += ripple_m * np.sin(la * k) * np.cos(lo * 0.8 * k)
    return np.clip(z, 150.0, None)


def flat(height_m: float = 100.0) -> np.ndarray:
    la, _ = lat_lon()
    return np.full(la.shape, height_m)


def ridge(lon_deg: float, height_m: float = 400.0, width_deg: float = 0.004) -> np.ndarray:
    """Flat 100 m ground with one north-south ridge at ``lon_deg``."""
    _, lo = lat_lon()
    return 100.0 + height_m * np.exp(-(((lo - lon_deg) / width_deg) ** 2))


def write_tif(path: Path, z: np.ndarray) -> Path:
    import rasterio
    from affine import Affine

    t = Affine(D3, 0.0, WEST - D3 / 2, 0.0, -D3, NORTH + D3 / 2)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=z.shape[0],
        width=z.shape[1],
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=t,
    ) as ds:
        ds.write(z.astype(np.float32), 1)
    return path
