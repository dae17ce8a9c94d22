"""Calibrate a propagation model to drive-test measurements, cross-validated by site.

Inputs (CSV with a header row, comma-separated; extra columns are ignored):

- measurements: ``site_id,lat_deg,lon_deg`` and ``loss_db`` (measured basic transmission loss:
  transmitted minus received power, antenna gains included) or ``rx_dbm`` (received power
  with a 0 dBi handset antenna; then the site needs ``eirp_dbm``). A row with an empty
  ``loss_db`` uses its ``rx_dbm``.
- sites: ``site_id,lat_deg,lon_deg,height_m,frequency_mhz``, optionally ``eirp_dbm`` (main-beam
  EIRP [dBm]), ``azimuth_deg``, ``tilt_deg`` (mechanical downtilt, positive down) and
  ``antenna`` (``omni``, ``sector`` for the 3GPP parametric sector, or an MSI file path,
  relative to the sites file). For ``rx_dbm`` rows the measured loss is
  ``eirp_dbm + G(az, el) - rx_dbm`` with G the pattern's relative gain toward the point.

The correction
--------------
A small, physically motivated correction of the model's basic transmission loss::

    correction_db = offset_db + slope_db_per_decade * log10(d / 1 km) + class_offset_db[class]
    calibrated loss = model loss + correction_db

- ``offset_db``: a systematic bias (antenna cable losses, body loss, clutter on average);
- ``slope_db_per_decade``: a distance-dependent error (effective heights, clutter thinning out
  with distance), per decade of distance;
- ``class_offset_db``: with land cover, one offset per land-cover class at the handset
  (buildings, trees), shrunk toward 0 by a ridge penalty worth ``ridge`` pseudo-measurements
  (a class seen a few times moves little), and none for classes with fewer than
  ``min_class_n`` training measurements.

It is fitted by (penalised) least squares on ``measured - predicted``. The error of a model is
``predicted - measured``; ``before`` and ``after`` report its RMSE, mean, standard deviation
(population, so rmse^2 = mean^2 + std^2) and count over held-out measurements only:
``holdout_site`` trains on every other site and tests on that one; ``folds`` splits the sites
into K groups (round robin over the sorted site ids) and tests each group with a correction
trained on the others, so every measurement is predicted by a correction that never saw its
site. The parameters reported are fitted on all training sites.

The prediction models are a :class:`CalibrationModel`; each has a predictor in
``_PREDICTORS`` (ITU-R P.1812 joins when its implementation lands).
"""

from __future__ import annotations

import csv
import enum
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from yalu.errors import InputError, ParameterError, check_range, parse_choice

__all__ = [
    "CalibrationModel",
    "CalibrationSite",
    "Measurements",
    "Correction",
    "ErrorStats",
    "CalibrationResult",
    "read_sites",
    "read_measurements",
    "predict_loss_db",
    "fit_correction",
    "error_stats",
    "calibrate",
    "load_calibration",
    "MAX_CSV_BYTES",
    "MAX_CSV_ROWS",
]

_Arr = npt.NDArray[np.float64]

MAX_CSV_BYTES = 256 << 20
MAX_CSV_ROWS = 2_000_000
MIN_DISTANCE_M = 10.0


class CalibrationModel(enum.StrEnum):
    """Propagation model whose predictions are calibrated."""

    ITM = "itm"
    HATA = "hata"
    P1812 = "p1812"


# ---------------------------------------------------------------------------------------------
# CSV input


def _open_csv(path: Path, what: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and (line number, row) pairs of a bounded CSV file."""
    if not path.is_file():
        raise InputError(f"{what} file {path} does not exist")
    size = path.stat().st_size
    if size > MAX_CSV_BYTES:
        raise InputError(f"{path}: {size} bytes, more than the {MAX_CSV_BYTES}-byte limit")
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        header = [h.strip() for h in (reader.fieldnames or [])]
        if not header:
            raise InputError(f"{path}: empty file (a header row is required)")
        reader.fieldnames = header
        rows: list[tuple[int, dict[str, str]]] = []
        for row in reader:
            if len(rows) >= MAX_CSV_ROWS:
                raise InputError(f"{path}: more than {MAX_CSV_ROWS} rows")
            if None in row:
                extra = len(row[None])  # type: ignore[index]
                raise InputError(
                    f"{path} line {reader.line_num}: {len(header) + extra} fields, "
                    f"the header has {len(header)}"
                )
            if not any((v or "").strip() for v in row.values()):
                continue  # blank line
            rows.append((reader.line_num, {k: (v or "").strip() for k, v in row.items()}))
    return header, rows


def _require(path: Path, header: list[str], cols: Sequence[str]) -> None:
    missing = [c for c in cols if c not in header]
    if missing:
        raise InputError(
            f"{path}: missing column(s) {', '.join(missing)} (header: {','.join(header)})"
        )


def _num(
    path: Path,
    line: int,
    row: dict[str, str],
    col: str,
    lo: float | None = None,
    hi: float | None = None,
    *,
    lo_inclusive: bool = True,
) -> float:
    raw = row.get(col, "")
    name = f"{path.name} line {line} {col}"
    rng = (
        f"a number {lo:g} to {hi:g}"
        if lo is not None and hi is not None
        else f"a number {'>=' if lo_inclusive else '>'} {lo:g}"
        if lo is not None
        else "a finite number"
    )
    try:
        v = float(raw)
    except ValueError:
        raise ParameterError(name, raw, rng) from None
    if not math.isfinite(v):
        raise ParameterError(name, raw, rng)
    if lo is not None and (v < lo or (v == lo and not lo_inclusive)):
        raise ParameterError(name, raw, rng)
    if hi is not None and v > hi:
        raise ParameterError(name, raw, rng)
    return v


@dataclass(frozen=True)
class CalibrationSite:
    """One transmitter of the drive test (a row of the sites file)."""

    site_id: str
    lat_deg: float
    lon_deg: float
    height_m: float
    frequency_mhz: float
    eirp_dbm: float | None = None
    azimuth_deg: float | None = None
    tilt_deg: float | None = None
    antenna: str | None = None
    line: int = 0
    base_dir: Path = field(default_factory=Path)

    def pattern(self) -> Any:
        """The antenna pattern (relative gain), or None for an isotropic/omni site."""
        from yalu.radio.antenna import MsiPattern, SectorPattern

        kind = (self.antenna or "omni").strip()
        az = self.azimuth_deg or 0.0
        tilt = self.tilt_deg or 0.0
        if kind.lower() == "omni":
            return None
        if kind.lower() == "sector":
            return SectorPattern(azimuth_deg=az % 360.0, mechanical_tilt_deg=tilt)
        p = Path(kind)
        if not p.is_absolute():
            p = self.base_dir / p
        if not p.is_file():
            raise ParameterError(
                f"sites line {self.line} antenna", kind, "omni, sector or an existing MSI file"
            )
        return MsiPattern(path=p, azimuth_deg=az % 360.0, mechanical_tilt_deg=tilt)


def read_sites(path: str | os.PathLike[str]) -> dict[str, CalibrationSite]:
    """Read and check a sites CSV (see the module doc); errors name the file, line and column."""
    p = Path(path)
    header, rows = _open_csv(p, "sites")
    _require(p, header, ["site_id", "lat_deg", "lon_deg", "height_m", "frequency_mhz"])
    sites: dict[str, CalibrationSite] = {}
    for line, row in rows:
        sid = row["site_id"]
        if not sid:
            raise ParameterError(f"{p.name} line {line} site_id", sid, "a non-empty id")
        if sid in sites:
            raise ParameterError(
                f"{p.name} line {line} site_id", sid, f"unique (also on line {sites[sid].line})"
            )

        def opt(
            col: str, lo: float, hi: float, line: int = line, row: dict[str, str] = row
        ) -> float | None:
            return _num(p, line, row, col, lo, hi) if row.get(col) else None

        sites[sid] = CalibrationSite(
            site_id=sid,
            lat_deg=_num(p, line, row, "lat_deg", -90, 90),
            lon_deg=_num(p, line, row, "lon_deg", -180, 360),
            height_m=_num(p, line, row, "height_m", 0.0, 3000.0, lo_inclusive=False),
            frequency_mhz=_num(p, line, row, "frequency_mhz", 0.0, None, lo_inclusive=False),
            eirp_dbm=opt("eirp_dbm", -50.0, 120.0),
            azimuth_deg=opt("azimuth_deg", 0.0, 360.0),
            tilt_deg=opt("tilt_deg", -90.0, 90.0),
            antenna=row.get("antenna") or None,
            line=line,
            base_dir=p.parent,
        )
    if not sites:
        raise InputError(f"{p}: no sites")
    return sites


@dataclass
class Measurements:
    """Drive-test points, one entry per measurement (arrays of equal length)."""

    site_id: npt.NDArray[np.str_]
    lat_deg: _Arr
    lon_deg: _Arr
    loss_db: _Arr  # measured basic transmission loss; NaN where it comes from rx_dbm
    rx_dbm: _Arr  # NaN where loss_db was given
    line: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.lat_deg.size)

    def subset(self, mask: npt.NDArray[np.bool_]) -> Measurements:
        return Measurements(
            self.site_id[mask], self.lat_deg[mask], self.lon_deg[mask], self.loss_db[mask],
            self.rx_dbm[mask], self.line[mask],
        )  # fmt: skip


def read_measurements(
    path: str | os.PathLike[str], sites: dict[str, CalibrationSite]
) -> Measurements:
    """Read and check a measurements CSV (see the module doc) against ``sites``."""
    p = Path(path)
    header, rows = _open_csv(p, "measurements")
    _require(p, header, ["site_id", "lat_deg", "lon_deg"])
    has_loss, has_rx = "loss_db" in header, "rx_dbm" in header
    if not (has_loss or has_rx):
        raise InputError(
            f"{p}: missing column loss_db or rx_dbm (one is required; header: {','.join(header)})"
        )
    ids, lats, lons, losses, rxs, lines = [], [], [], [], [], []
    for line, row in rows:
        sid = row["site_id"]
        if sid not in sites:
            known = ", ".join(sorted(sites)[:10]) + (" ..." if len(sites) > 10 else "")
            raise ParameterError(f"{p.name} line {line} site_id", sid, f"a site id ({known})")
        lats.append(_num(p, line, row, "lat_deg", -90, 90))
        lons.append(_num(p, line, row, "lon_deg", -180, 360))
        if has_loss and row.get("loss_db"):
            losses.append(_num(p, line, row, "loss_db", -50.0, 400.0))
            rxs.append(math.nan)
        elif has_rx and row.get("rx_dbm"):
            rxs.append(_num(p, line, row, "rx_dbm", -250.0, 100.0))
            losses.append(math.nan)
            if sites[sid].eirp_dbm is None:
                raise ParameterError(
                    f"sites line {sites[sid].line} eirp_dbm", "",
                    f"a number: {p.name} line {line} gives rx_dbm for site {sid}",
                )  # fmt: skip
        else:
            col = "loss_db" if has_loss else "rx_dbm"
            raise ParameterError(f"{p.name} line {line} {col}", "", "a number (empty)")
        ids.append(sid)
        lines.append(line)
    if not ids:
        raise InputError(f"{p}: no measurements")
    return Measurements(
        np.array(ids), np.array(lats), np.array(lons), np.array(losses), np.array(rxs),
        np.array(lines, dtype=np.int64),
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Predictions


@dataclass
class Predictions:
    """Model loss and geometry at each measurement."""

    loss_db: _Arr
    distance_km: _Arr
    measured_db: _Arr  # measured basic loss (from loss_db, or eirp + gain - rx_dbm)


PredictFn = Callable[..., _Arr]


def _predict_itm(rp: Any, site: CalibrationSite, rx_height_m: float, **kw: Any) -> _Arr:
    from yalu.propagation import itm

    n = len(rp)
    opts = kw.get("itm_options") or {}
    res = itm.p2p_batch(
        rp.elevation_m, rp.offsets, rp.step_m, np.full(n, site.height_m),
        np.full(n, rx_height_m), np.full(n, site.frequency_mhz), **opts,
    )  # fmt: skip
    return np.asarray(res.loss_db, dtype=float)


def _predict_hata(rp: Any, site: CalibrationSite, rx_height_m: float, **kw: Any) -> _Arr:
    import warnings

    from yalu.propagation.hata import hata_loss_db

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # validity ranges: drive tests go below 1 km
        out = hata_loss_db(
            rp.length_m, site.frequency_mhz, site.height_m, rx_height_m,
            kw.get("hata_environment", "urban"),
        )  # fmt: skip
    return np.asarray(out, dtype=float)


def _predict_p1812(rp: Any, site: CalibrationSite, rx_height_m: float, **kw: Any) -> _Arr:
    """ITU-R P.1812-8 (50% time and locations, open inland ground: R = 0, zone 4, the
    yalu.propagation.p1812 defaults for dN and N0) on the same profiles as ITM."""
    from yalu.propagation import p1812

    counts = np.diff(rp.offsets)
    elev, dist, lat = rp.elevation_m, rp.distance_m, rp.lat_deg
    offsets = rp.offsets
    if (counts < 3).any():
        # P.1812 needs an intermediate point: a profile of 2 points gets its midpoint
        e_parts, d_parts, l_parts = [], [], []
        for i in range(len(rp)):
            a, b = rp.offsets[i], rp.offsets[i + 1]
            e, d, la = elev[a:b], dist[a:b], lat[a:b]
            if b - a < 3:
                length = max(float(rp.length_m[i]), 1.0)
                e = np.array([e[0], 0.5 * (e[0] + e[-1]), e[-1]])
                d = np.array([0.0, 0.5 * length, length])
                la = np.array([la[0], 0.5 * (la[0] + la[-1]), la[-1]])
            e_parts.append(e)
            d_parts.append(d)
            l_parts.append(la)
        elev, dist, lat = (np.concatenate(x) for x in (e_parts, d_parts, l_parts))
        offsets = np.concatenate([[0], np.cumsum([x.size for x in e_parts])]).astype(np.int64)
    k = np.diff(offsets) - 1  # intervals per profile
    mid = offsets[:-1] + k // 2
    phi = np.where(k % 2 == 0, lat[mid], 0.5 * (lat[mid] + lat[np.minimum(mid + 1, lat.size - 1)]))
    n = len(rp)
    res = p1812.basic_transmission_loss_batch(
        dist / 1000.0, elev, offsets, frequency_mhz=np.full(n, site.frequency_mhz),
        time_pct=50.0, h_tx_m=np.full(n, site.height_m), h_rx_m=np.full(n, rx_height_m),
        path_center_lat_deg=phi,
    )  # fmt: skip
    return np.asarray(res.loss_db, dtype=float)


_PREDICTORS: dict[CalibrationModel, PredictFn] = {
    CalibrationModel.ITM: _predict_itm,
    CalibrationModel.HATA: _predict_hata,
    CalibrationModel.P1812: _predict_p1812,
}


def predict_loss_db(
    meas: Measurements,
    sites: dict[str, CalibrationSite],
    terrain: Any,
    model: CalibrationModel | str = CalibrationModel.ITM,
    *,
    rx_height_m: float = 1.5,
    step_m: float = 30.0,
    itm_options: dict[str, Any] | None = None,
    hata_environment: str = "urban",
) -> Predictions:
    """Model basic transmission loss from each site to its measurements (downlink: the site is
    ITM's terminal 1), the path length, and the measured basic loss.

    Profiles come from :func:`yalu.geodesy.profiles` on ``terrain`` every ``step_m`` metres;
    ITM runs through :func:`yalu.propagation.itm.p2p_batch`. Measurements nearer than 10 m to
    their site get NaN (excluded by :func:`calibrate`).
    """
    from yalu.geodesy import profiles
    from yalu.terrain import open_terrain

    mdl = parse_choice(CalibrationModel, model, "model")
    check_range("rx_height_m", rx_height_m, 0.5, 3000.0)
    check_range("step_m", step_m, 0.0, None, lo_inclusive=False)
    terr = open_terrain(terrain)
    n = len(meas)
    pred = np.full(n, np.nan)
    dist = np.full(n, np.nan)
    measured = meas.loss_db.copy()
    for sid in np.unique(meas.site_id):
        site = sites[str(sid)]
        idx = np.nonzero(meas.site_id == sid)[0]
        ends = np.column_stack([meas.lat_deg[idx], meas.lon_deg[idx]])
        rp = profiles(terr, (site.lat_deg, site.lon_deg), ends, step_m)
        dist[idx] = rp.length_m / 1000.0
        ok = rp.length_m >= MIN_DISTANCE_M
        if ok.any():
            loss = _PREDICTORS[mdl](
                rp, site, rx_height_m, itm_options=itm_options, hata_environment=hata_environment
            )
            pred[idx[ok]] = np.asarray(loss)[ok]
        rx = meas.rx_dbm[idx]
        use_rx = np.isfinite(rx)
        if use_rx.any():
            assert site.eirp_dbm is not None  # checked when reading
            gain = np.zeros(idx.size)
            pat = site.pattern()
            if pat is not None:
                from yalu.geodesy import geodesic_inverse

                _, az, _ = geodesic_inverse(
                    site.lat_deg, site.lon_deg, meas.lat_deg[idx], meas.lon_deg[idx]
                )
                z_site = rp.elevation_m[rp.offsets[:-1]] + site.height_m
                z_rx = rp.elevation_m[rp.offsets[1:] - 1] + rx_height_m
                el = np.degrees(np.arctan2(z_rx - z_site, np.maximum(rp.length_m, 1e-3)))
                gain = np.asarray(pat.gain_db(np.asarray(az) % 360.0, el), dtype=float)
            measured[idx[use_rx]] = (site.eirp_dbm + gain - rx)[use_rx]
    return Predictions(pred, dist, measured)


# ---------------------------------------------------------------------------------------------
# The correction


@dataclass
class Correction:
    """``correction_db = offset_db + slope_db_per_decade * log10(d_km) + class_offset_db[c]``."""

    offset_db: float = 0.0
    slope_db_per_decade: float = 0.0
    class_offset_db: dict[int, float] = field(default_factory=dict)

    def correction_db(
        self, distance_km: npt.ArrayLike, classes: npt.ArrayLike | None = None
    ) -> _Arr:
        """Correction [dB] to add to the model loss at ``distance_km`` (and land-cover class)."""
        d = np.asarray(distance_km, dtype=float)
        check_range("distance_km", d, 0.0, None, lo_inclusive=False)
        c = self.offset_db + self.slope_db_per_decade * np.log10(d)
        if classes is not None and self.class_offset_db:
            cls = np.asarray(classes)
            extra = np.zeros(np.broadcast(d, cls).shape)
            for k, v in self.class_offset_db.items():
                extra = np.where(cls == k, v, extra)
            c = c + extra
        return np.asarray(c, dtype=float)

    def apply(
        self,
        loss_db: npt.ArrayLike,
        distance_km: npt.ArrayLike,
        classes: npt.ArrayLike | None = None,
    ) -> _Arr:
        """Calibrated loss: ``loss_db + correction_db`` (a pure function; NaN stays NaN)."""
        return np.asarray(loss_db, dtype=float) + self.correction_db(distance_km, classes)

    def to_json(self) -> dict[str, Any]:
        return {
            "offset_db": self.offset_db,
            "slope_db_per_decade": self.slope_db_per_decade,
            "class_offset_db": {str(k): v for k, v in sorted(self.class_offset_db.items())},
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Correction:
        return cls(
            float(obj["offset_db"]),
            float(obj["slope_db_per_decade"]),
            {int(k): float(v) for k, v in (obj.get("class_offset_db") or {}).items()},
        )


def fit_correction(
    measured_db: npt.ArrayLike,
    predicted_db: npt.ArrayLike,
    distance_km: npt.ArrayLike,
    classes: npt.ArrayLike | None = None,
    *,
    ridge: float = 10.0,
    min_class_n: int = 10,
    fit_slope: bool = True,
) -> Correction:
    """Least-squares :class:`Correction` so that ``predicted + correction ~ measured``.

    Parameters
    ----------
    measured_db, predicted_db : array_like
        Measured and model basic transmission loss [dB].
    distance_km : array_like
        Path lengths [km], > 0.
    classes : array_like of int, optional
        Land-cover class at each measurement (0 = unknown: no class offset).
    ridge : float
        Penalty on class offsets, in pseudo-measurements at 0 dB.
    min_class_n : int
        Classes with fewer measurements get no offset.
    fit_slope : bool
        Fit the distance slope (else offset and class offsets only).
    """
    y = np.asarray(measured_db, float) - np.asarray(predicted_db, float)
    d = np.asarray(distance_km, float)
    if y.size < 2:
        raise InputError(f"calibration needs at least 2 measurements, got {y.size}")
    x = np.log10(d)
    cols = [np.ones_like(y)]
    pen = [0.0]
    if fit_slope:
        cols.append(x)
        pen.append(0.0)
    keys: list[int] = []
    if classes is not None:
        cls = np.asarray(classes).astype(np.int64)
        for k in np.unique(cls):
            if k != 0 and np.count_nonzero(cls == k) >= min_class_n:
                keys.append(int(k))
                cols.append((cls == k).astype(float))
                pen.append(float(ridge))
    a = np.column_stack(cols)
    # ridge rows; a tiny one on the slope keeps a single-distance fit defined (slope 0)
    p = np.array(pen)
    if fit_slope:
        p[1] = max(p[1], 1e-9 * y.size)
    aug = np.vstack([a, np.diag(np.sqrt(p))])
    rhs = np.concatenate([y, np.zeros(p.size)])
    beta, *_ = np.linalg.lstsq(aug, rhs, rcond=None)
    off = 2 if fit_slope else 1
    return Correction(
        offset_db=float(beta[0]),
        slope_db_per_decade=float(beta[1]) if fit_slope else 0.0,
        class_offset_db={k: float(beta[off + i]) for i, k in enumerate(keys)},
    )


@dataclass
class ErrorStats:
    """Error statistics of ``predicted - measured`` [dB]."""

    rmse_db: float
    mean_error_db: float
    std_db: float
    n: int

    def to_json(self) -> dict[str, Any]:
        return {
            "rmse_db": self.rmse_db,
            "mean_error_db": self.mean_error_db,
            "std_db": self.std_db,
            "n": self.n,
        }


def error_stats(error_db: npt.ArrayLike) -> ErrorStats:
    """RMSE, mean and (population) standard deviation of an error sample."""
    e = np.asarray(error_db, float)
    e = e[np.isfinite(e)]
    if e.size == 0:
        return ErrorStats(math.nan, math.nan, math.nan, 0)
    return ErrorStats(
        float(np.sqrt(np.mean(e * e))), float(np.mean(e)), float(np.std(e)), int(e.size)
    )


# ---------------------------------------------------------------------------------------------
# Cross-validated calibration


@dataclass
class CalibrationResult:
    """Everything ``CAL.json`` holds, plus the arrays for the plots (written by
    :func:`yalu.io.calibration.write_calibration`)."""

    model: CalibrationModel
    correction: Correction
    before: ErrorStats
    after: ErrorStats
    validation: dict[str, Any]
    excluded: dict[str, int]
    inputs: dict[str, Any]
    folds: list[dict[str, Any]]
    # per measurement (held-out ones are finite in *_cv)
    distance_km: _Arr
    measured_db: _Arr
    predicted_db: _Arr
    calibrated_cv_db: _Arr
    site_id: npt.NDArray[np.str_]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": "yalu-calibration/1",
            "model": self.model.value,
            "error_definition": "predicted minus measured basic transmission loss [dB]",
            "before": self.before.to_json(),
            "after": self.after.to_json(),
            "validation": self.validation,
            "parameters": {
                **self.correction.to_json(),
                "formula": "calibrated_loss_db = model_loss_db + offset_db + slope_db_per_decade"
                " * log10(distance_km) + class_offset_db[land-cover class]",
            },
            "folds": self.folds,
            "excluded": self.excluded,
            "inputs": self.inputs,
        }


def calibrate(
    measurements: str | os.PathLike[str],
    sites: str | os.PathLike[str],
    terrain: Any,
    model: CalibrationModel | str = CalibrationModel.ITM,
    *,
    holdout_site: str | None = None,
    folds: int | None = None,
    landcover: Any = None,
    rx_height_m: float = 1.5,
    step_m: float = 30.0,
    itm_options: dict[str, Any] | None = None,
    hata_environment: str = "urban",
    ridge: float = 10.0,
    min_class_n: int = 10,
) -> CalibrationResult:
    """Fit and cross-validate a :class:`Correction` of ``model`` on a drive test.

    Parameters
    ----------
    measurements, sites : path
        CSV files (module doc).
    terrain : path or Terrain
        Terrain for the profiles.
    model : {"itm", "hata", "p1812"}
    holdout_site : str, optional
        Test on this site, train on the others.
    folds : int, optional
        K-fold cross-validation by site (2 <= K <= number of sites). Default (neither given):
        K = min(5, number of sites).
    landcover : path or LandCover, optional
        Land cover at the measurements: fits one offset per class.
    rx_height_m, step_m, itm_options, hata_environment :
        As :func:`predict_loss_db`.
    ridge, min_class_n :
        As :func:`fit_correction`.
    """
    mdl = parse_choice(CalibrationModel, model, "model")
    site_tab = read_sites(sites)
    meas = read_measurements(measurements, site_tab)
    if holdout_site is not None and folds is not None:
        raise ParameterError("folds", folds, "not given together with holdout_site")
    used = sorted({str(s) for s in meas.site_id})
    if len(used) < 2:
        raise InputError(
            f"cross-validation by site needs measurements from >= 2 sites, got {len(used)} "
            f"({', '.join(used)})"
        )
    if holdout_site is not None and holdout_site not in used:
        raise ParameterError(
            "holdout_site", holdout_site, "a site with measurements: " + ", ".join(used)
        )
    if folds is not None:
        check_range("folds", folds, 2, len(used))
    pr = predict_loss_db(
        meas, site_tab, terrain, mdl, rx_height_m=rx_height_m, step_m=step_m,
        itm_options=itm_options, hata_environment=hata_environment,
    )  # fmt: skip
    classes = None
    if landcover is not None:
        from yalu.landcover import open_landcover

        lc = landcover if hasattr(landcover, "codes_at") else open_landcover(landcover)
        classes = lc.codes_at(meas.lat_deg, meas.lon_deg).astype(np.int64)
    too_close = ~(pr.distance_km * 1000.0 >= MIN_DISTANCE_M)
    no_pred = ~np.isfinite(pr.loss_db) & ~too_close
    good = ~too_close & ~no_pred
    sid = meas.site_id

    def fit(mask: npt.NDArray[np.bool_]) -> Correction:
        return fit_correction(
            pr.measured_db[mask], pr.loss_db[mask], pr.distance_km[mask],
            None if classes is None else classes[mask], ridge=ridge, min_class_n=min_class_n,
        )  # fmt: skip

    if holdout_site is not None:
        groups = [[holdout_site]]
        validation: dict[str, Any] = {"method": "holdout-site", "holdout_site": holdout_site}
    else:
        k = folds if folds is not None else min(5, len(used))
        groups = [used[i::k] for i in range(k)]
        validation = {"method": "k-fold by site", "folds": k}
    calibrated = np.full(len(meas), np.nan)
    fold_info = []
    for test_sites in groups:
        test = good & np.isin(sid, test_sites)
        train = good & ~np.isin(sid, test_sites)
        if np.count_nonzero(train) < 2:
            raise InputError(f"too few training measurements outside site(s) {test_sites}")
        corr = fit(train)
        cls_t = None if classes is None else classes[test]
        calibrated[test] = corr.apply(pr.loss_db[test], pr.distance_km[test], cls_t)
        fold_info.append(
            {"test_sites": list(test_sites), "n_train": int(np.count_nonzero(train)),
             "n_test": int(np.count_nonzero(test)), "parameters": corr.to_json()}
        )  # fmt: skip
    held = good & np.isfinite(calibrated)
    if holdout_site is not None:
        final = fit(good & (sid != holdout_site))
        validation["parameters_fitted_on"] = "all sites except the held-out one"
    else:
        final = fit(good)
        validation["parameters_fitted_on"] = "all sites"
    before = error_stats(pr.loss_db[held] - pr.measured_db[held])
    after = error_stats(calibrated[held] - pr.measured_db[held])
    inputs = {
        "measurements": str(measurements), "sites": str(sites), "terrain": str(terrain),
        "landcover": None if landcover is None else str(landcover),
        "rx_height_m": rx_height_m, "step_m": step_m, "n_sites": len(used),
        "n_measurements": len(meas),
        "hata_environment": hata_environment if mdl is CalibrationModel.HATA else None,
        "ridge": ridge, "min_class_n": min_class_n,
    }  # fmt: skip
    return CalibrationResult(
        model=mdl, correction=final, before=before, after=after, validation=validation,
        excluded={"closer_than_10_m": int(np.count_nonzero(too_close)),
                  "no_prediction": int(np.count_nonzero(no_pred))},
        inputs=inputs, folds=fold_info, distance_km=pr.distance_km, measured_db=pr.measured_db,
        predicted_db=pr.loss_db, calibrated_cv_db=calibrated, site_id=sid,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Output


def load_calibration(path: str | os.PathLike[str]) -> tuple[CalibrationModel, Correction]:
    """Read a ``CAL.json`` (:func:`yalu.io.calibration.write_calibration`): (model, correction)."""
    import json

    p = Path(path)
    if not p.is_file():
        raise InputError(f"calibration file {p} does not exist")
    if p.stat().st_size > 16 << 20:
        raise InputError(f"{p}: larger than 16 MiB, not a calibration file")
    try:
        obj = json.loads(p.read_text())
        if obj.get("format") != "yalu-calibration/1":
            raise ValueError(f"format {obj.get('format')!r}")
        return parse_choice(CalibrationModel, obj["model"], "model"), Correction.from_json(
            obj["parameters"]
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"{p}: not a yalu calibration file ({exc})") from None
