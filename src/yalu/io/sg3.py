"""Reader of path profiles in the ITU-R Study Group 3 databank CSV layout.

The layout (as in the ITU-R WP 3M validation files of Recommendation ITU-R P.1812) is a CSV text
of ``key:,value`` header lines (``Tx LAT:``, ``Rx LON:``, ``First Point TX or RX:``, the
meteorology block with ``dN`` and ``No``), a profile block between ``{Begin of Profile}`` and
``{End of Profile}`` (``Number of Points:,N`` then N rows: distance [km], ground height [m],
coverage code, ground cover height [m], radio-meteorological code), and a measurement block:
a header row starting with ``Frequency``, a units row, then one row per dataset between
``{Begin of Measurements}`` and ``{End of Measurements}``.

Every problem is reported as a :class:`yalu.errors.InputError` naming the file and line.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from yalu.errors import InputError

__all__ = ["Sg3Path", "Sg3Dataset", "read_sg3_csv", "MAX_FILE_BYTES", "MAX_POINTS"]

#: the largest file read (a 1 m-step profile of 3000 km is ~100 MB; the databank's are < 1 MB)
MAX_FILE_BYTES = 64 * 1024 * 1024
#: the largest profile accepted
MAX_POINTS = 2_000_000
_MAX_DATASETS = 100_000

_F = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Sg3Dataset:
    """One row of the measurement block (NaN where the file leaves a cell empty)."""

    frequency_mhz: float
    h_tx_m: float
    h_rx_m: float
    polarization: float  # 1 horizontal, 2 vertical, 3 circular (databank codes)
    erp_max_total_dbw: float
    time_pct: float
    field_strength_dbuv_m: float
    basic_loss_db: float


@dataclass(frozen=True)
class Sg3Path:
    """A path file: terminals, meteorology, profile (transmitter first) and datasets."""

    name: str
    tx_lat_deg: float
    tx_lon_deg: float
    rx_lat_deg: float
    rx_lon_deg: float
    first_point_tx: bool
    delta_n: float  # NaN when absent
    n0: float  # NaN when absent
    distance_km: _F
    height_m: _F
    coverage_code: _F
    ground_cover_height_m: _F
    radio_met_code: _F
    datasets: tuple[Sg3Dataset, ...]


def _num(cell: str, path: Path, lineno: int, what: str) -> float:
    c = cell.strip()
    if not c:
        return math.nan
    try:
        v = float(c)
    except ValueError:
        raise InputError(f"{path}, line {lineno}: {what} {c!r} is not a number") from None
    if math.isinf(v):
        raise InputError(f"{path}, line {lineno}: {what} {c!r} is not finite")
    return v


_MEAS_COLUMNS = {
    "frequency": "Frequency",
    "h_tx": "Tx antenna height",
    "h_rx": "Rx antenna height",
    "pol": "Polarisation",
    "erp": "ERP_max_total",
    "time": "Time percentage",
    "e": "Measured field strength",
    "pl": "Basic transmission loss",
}


def read_sg3_csv(path: str | os.PathLike[str]) -> Sg3Path:
    """Read one SG3 databank CSV file; the profile is returned transmitter first.

    Raises
    ------
    yalu.errors.InputError
        Missing file, oversized file, missing blocks or coordinates, non-numeric cells, a point
        count that does not match ``Number of Points``, no datasets.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"input {p} does not exist or is not a file")
    size = p.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputError(f"{p}: {size} bytes, more than the {MAX_FILE_BYTES} accepted")
    try:
        text = p.read_text(encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        text = p.read_text(encoding="latin-1")
    lines = text.splitlines()
    header: dict[str, tuple[str, int]] = {}
    prof_rows: list[list[float]] = []
    n_points = -1
    datasets: list[Sg3Dataset] = []
    cols: dict[str, int] | None = None
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        lineno = i + 1
        if line.startswith("{Begin of Profile"):
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("{End of Profile"):
                if lines[i].lstrip().startswith(("{", "#")):
                    raise InputError(f"{p}: {{Begin of Profile}} at line {lineno} is never ended "
                                     f"(line {i + 1} starts another block)")  # fmt: skip
                cells = lines[i].split(",")
                if cells[0].strip().lower().startswith("number of points"):
                    v = _num(cells[1] if len(cells) > 1 else "", p, i + 1, "Number of Points")
                    if not (v == v and v == int(v) and 0 < v <= MAX_POINTS):
                        raise InputError(f"{p}, line {i + 1}: Number of Points {v} invalid "
                                         f"(1 to {MAX_POINTS})")  # fmt: skip
                    n_points = int(v)
                elif lines[i].strip():
                    if len(prof_rows) >= MAX_POINTS:
                        raise InputError(f"{p}: more than {MAX_POINTS} profile points")
                    vals = [_num(c, p, i + 1, "profile value") for c in cells[:5]]
                    vals += [math.nan] * (5 - len(vals))
                    prof_rows.append(vals)
                i += 1
            if i >= len(lines):
                raise InputError(f"{p}: {{Begin of Profile}} at line {lineno} is never ended")
        elif line.startswith("Frequency,"):
            names = [c.strip() for c in line.split(",")]
            cols = {}
            for key, title in _MEAS_COLUMNS.items():
                for j, nm in enumerate(names):
                    if nm == title or (key == "pol" and nm.startswith(title)):
                        cols[key] = j
                        break
            missing = [t for k, t in _MEAS_COLUMNS.items() if k not in cols]
            if missing:
                raise InputError(f"{p}, line {lineno}: measurement header lacks "
                                 + ", ".join(missing))  # fmt: skip
        elif line.startswith("{Begin of Measurements"):
            if cols is None:
                raise InputError(f"{p}, line {lineno}: measurements without a Frequency header")
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("{End of Measurements"):
                cells = lines[i].split(",")
                if lines[i].strip() and sum(1 for c in cells if c.strip()) > 1:
                    if len(datasets) >= _MAX_DATASETS:
                        raise InputError(f"{p}: more than {_MAX_DATASETS} datasets")
                    row = {
                        key: _num(cells[j] if j < len(cells) else "", p, i + 1, _MEAS_COLUMNS[key])
                        for key, j in cols.items()
                    }
                    datasets.append(Sg3Dataset(
                        row["frequency"], row["h_tx"], row["h_rx"], row["pol"], row["erp"],
                        row["time"], row["e"], row["pl"],
                    ))  # fmt: skip
                i += 1
        else:
            cells = line.split(",")
            key = cells[0].strip()
            k = key.rstrip(":").strip().lower()
            if key.endswith(":") and k not in header:
                header[k] = (
                    cells[1].strip() if len(cells) > 1 else "", lineno,
                )  # fmt: skip
        i += 1

    def hdr(key: str, required: bool) -> float:
        if key not in header or not header[key][0]:
            if required:
                shown = key.replace("tx", "Tx").replace("rx", "Rx").replace("lat", "LAT")
                raise InputError(f"{p}: header '{shown.replace('lon', 'LON')}:' missing or empty")
            return math.nan
        value, ln = header[key]
        return _num(value, p, ln, key)

    tx_lat = hdr("tx lat", True)
    tx_lon = hdr("tx lon", True)
    rx_lat = hdr("rx lat", True)
    rx_lon = hdr("rx lon", True)
    dn = math.nan
    n0 = math.nan
    for k in header:
        if k.startswith("average annual values dn"):
            dn = hdr(k, False)
        elif k.startswith("average annual sea-level surface refractivity"):
            n0 = hdr(k, False)
    first = header.get("first point tx or rx", ("T", 0))[0].strip().upper() or "T"
    if first not in ("T", "R"):
        raise InputError(f"{p}: 'First Point TX or RX' is {first!r}, must be T or R")
    if not prof_rows:
        raise InputError(f"{p}: no profile (a {{Begin of Profile}} block with points)")
    if n_points >= 0 and n_points != len(prof_rows):
        raise InputError(
            f"{p}: Number of Points says {n_points} but the profile has {len(prof_rows)} rows"
        )
    if not datasets:
        raise InputError(f"{p}: no datasets in the measurement block")
    arr = np.array(prof_rows, dtype=np.float64)
    if first == "R":
        # the databank allows a profile written from the receiver: turn it round
        arr = arr[::-1].copy()
        arr[:, 0] = arr[0, 0] - arr[:, 0]
    return Sg3Path(
        name=p.name,
        tx_lat_deg=tx_lat,
        tx_lon_deg=tx_lon,
        rx_lat_deg=rx_lat,
        rx_lon_deg=rx_lon,
        first_point_tx=first == "T",
        delta_n=dn,
        n0=n0,
        distance_km=np.ascontiguousarray(arr[:, 0]),
        height_m=np.ascontiguousarray(arr[:, 1]),
        coverage_code=np.ascontiguousarray(arr[:, 2]),
        ground_cover_height_m=np.ascontiguousarray(arr[:, 3]),
        radio_met_code=np.ascontiguousarray(arr[:, 4]),
        datasets=tuple(datasets),
    )
