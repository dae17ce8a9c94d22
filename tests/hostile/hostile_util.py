"""Helpers of the hostile-input suite: a tiny scenario and a bounded ``yalu`` subprocess.

Every subprocess runs under ``RLIMIT_AS`` (a regression that exhausts memory fails the test
instead of the machine) and a wall-clock timeout (a hang fails instead of blocking CI).
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

MEM_CAP = 3 * 2**30  # a yalu run needs about 2.5 GiB of address space (numba's threads)

SCENARIO = """name: tiny
terrain: {{source: file, path: {terrain}}}
grid: {{resolution_arcsec: 60, bbox: {{south_deg: 10.05, west_deg: 10.05, north_deg: 10.35,
        east_deg: 10.35}}}}
analysis_area: {{bbox: {{south_deg: 10.05, west_deg: 10.05, north_deg: 10.35, east_deg: 10.35}}}}
propagation: {{model: free_space, max_distance_km: {max_distance_km}}}
population: {{settlements_csv: {settlements}, regions: regions.geojson, census: null}}
output: {{map_width_px: 300, png: false, report_html: false}}
handsets: [{{name: phone, technologies: [lte]}}]
sites:
  - id: s0
    lat_deg: 10.2
    lon_deg: 10.2
    height_m: 30
    operator: op
    carriers:
      - {{technology: lte, band: B3, bandwidth_mhz: 20, tx_power_dbm: 46, antenna_gain_dbi: 15}}
variants:
{variants}
"""


def write_terrain(path: Path, z: np.ndarray | None = None, step_deg: float = 30 / 3600) -> Path:
    """A flat 100 m GeoTIFF around (10.2 N, 10.2 E), or ``z`` (north row first)."""
    if z is None:
        n = int(0.4 / step_deg) + 1
        z = np.full((n, n), 100.0, np.float32)
    h, w = z.shape
    with rasterio.open(
        path, "w", driver="GTiff", height=h, width=w, count=1, dtype="float32",
        crs="EPSG:4326", transform=from_origin(10.0 - step_deg / 2, 10.4 + step_deg / 2,
                                               step_deg, step_deg),
    ) as dst:  # fmt: skip
        dst.write(z.astype(np.float32), 1)
    return path


def write_scenario(
    d: Path,
    name: str = "scenario.yaml",
    *,
    variants: list[str] | None = None,
    max_distance_km: str = "15",
    settlements: str = "towns.csv",
    terrain: str = "flat.tif",
) -> Path:
    """A tiny free-space scenario (one site, a 19 x 19 grid) with its inputs in ``d``."""
    d.mkdir(parents=True, exist_ok=True)
    if not (d / "flat.tif").exists():
        write_terrain(d / "flat.tif")
    if not (d / "towns.csv").exists():
        (d / "towns.csv").write_text(
            "geonameid,name,country,admin1_code,admin1,lat,lon,population\n"
            "1,Near,AA,01,Aprov,10.21,10.2,1000\n"
        )
    ring = [[10.0, 10.0], [10.4, 10.0], [10.4, 10.4], [10.0, 10.4], [10.0, 10.0]]
    (d / "regions.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"gn_a1_code": "AA.01", "name": "Aprov"},
         "geometry": {"type": "Polygon", "coordinates": [ring]}}]}))  # fmt: skip
    vs = "\n".join(f"  - {{name: {v}}}" for v in (variants or ["base"]))
    p = d / name
    p.write_text(
        SCENARIO.format(
            terrain=terrain, max_distance_km=max_distance_km, settlements=settlements, variants=vs
        )
    )
    return p


def _limits(mem: int | None, fsize: int | None) -> Callable[[], None]:
    def apply() -> None:
        # as from a shell: a test runner started under nohup ignores SIGHUP, and a child
        # inherits that (yalu then rightly keeps ignoring it)
        for s in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_DFL)
        if mem is not None:
            resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        if fsize is not None:
            # writes beyond the size fail with EFBIG, as a full disk fails with ENOSPC
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return apply


def yalu_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "yalu.cli.main", *args]


def run_yalu(
    *args: str,
    cwd: Path | None = None,
    timeout: float = 60,
    mem: int | None = MEM_CAP,
    fsize: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """``yalu ARGS`` in a subprocess with a memory cap (and optionally a file-size cap)."""
    env = dict(os.environ, PYTHONWARNINGS="ignore::DeprecationWarning")
    return subprocess.run(
        yalu_cmd(*args), cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env,
        preexec_fn=_limits(mem, fsize),
    )  # fmt: skip


def popen_yalu(*args: str, cwd: Path | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        yalu_cmd(*args), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=_limits(MEM_CAP, None),
    )  # fmt: skip


def one_line_error(r: subprocess.CompletedProcess[str] | object, needle: str = "") -> str:
    """Assert exit code 2, no traceback, and an ``Error:`` line containing ``needle``."""
    rc = getattr(r, "returncode", getattr(r, "exit_code", None))
    out = getattr(r, "stderr", None)
    if out is None:
        out = getattr(r, "output", "")
    assert rc == 2, out
    assert "Traceback" not in out, out
    errs = [ln for ln in out.splitlines() if ln.startswith("Error:")]
    assert len(errs) == 1, out
    assert needle in errs[0], out
    return errs[0]


def dead_pid() -> int:
    """The pid of a process that has exited."""
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def can_mount_tmpfs(tmp_path: Path) -> bool:
    if os.geteuid() != 0:
        return False
    d = tmp_path / "probe-mnt"
    d.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(d)],
                       capture_output=True)  # fmt: skip
    if r.returncode == 0:
        subprocess.run(["umount", str(d)], check=True)
        return True
    return False
