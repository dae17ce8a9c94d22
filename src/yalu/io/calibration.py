"""Write a calibration (``yalu calibrate``): ``CAL.json`` and its two plots, atomically."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from yalu.analysis.calibration import CalibrationResult

__all__ = ["plot_paths", "write_calibration"]


def plot_paths(out_json: str | os.PathLike[str]) -> tuple[Path, Path]:
    """The two plot files written beside ``CAL.json``."""
    p = Path(out_json)
    stem = p.with_suffix("") if p.suffix.lower() == ".json" else p
    return (
        stem.with_name(stem.name + ".measured_vs_predicted.png"),
        stem.with_name(stem.name + ".residual_vs_distance.png"),
    )


def _plots(res: CalibrationResult, scatter: Path, resid: Path) -> None:
    from matplotlib.figure import Figure

    held = np.isfinite(res.calibrated_cv_db)
    m = res.measured_db[held]
    fig = Figure(figsize=(6, 6), dpi=110)
    ax = fig.add_subplot()
    ax.scatter(m, res.predicted_db[held], s=6, alpha=0.5, label=f"{res.model.value}: "
               f"RMSE {res.before.rmse_db:.1f} dB")  # fmt: skip
    ax.scatter(m, res.calibrated_cv_db[held], s=6, alpha=0.5,
               label=f"calibrated (held out): RMSE {res.after.rmse_db:.1f} dB")  # fmt: skip
    lo, hi = float(np.nanmin(m)) - 5, float(np.nanmax(m)) + 5
    ax.plot([lo, hi], [lo, hi], "k-", lw=0.8)
    ax.set_xlabel("measured basic transmission loss [dB]")
    ax.set_ylabel("predicted [dB]")
    ax.set_title("Measured vs predicted (held-out measurements)")
    ax.legend(loc="upper left", fontsize=8)
    fig.savefig(scatter, format="png")
    fig = Figure(figsize=(7, 4.5), dpi=110)
    ax = fig.add_subplot()
    d = res.distance_km[held]
    ax.scatter(d, res.predicted_db[held] - m, s=6, alpha=0.5, label="model")
    ax.scatter(d, res.calibrated_cv_db[held] - m, s=6, alpha=0.5, label="calibrated (held out)")
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("distance [km]")
    ax.set_ylabel("predicted - measured [dB]")
    ax.set_title("Residual vs distance")
    ax.legend(fontsize=8)
    fig.savefig(resid, format="png")


def write_calibration(
    res: CalibrationResult, out_json: str | os.PathLike[str], overwrite: bool = False
) -> list[Path]:
    """Write ``CAL.json`` and its two plots atomically; returns the paths written.

    Every output is checked before anything is written, so a refused overwrite leaves all of
    them as they were; each is written under a temporary name, read back and renamed.
    """
    import json

    from yalu.io.atomic import atomic_output, check_writable

    out = Path(out_json)
    scatter, resid = plot_paths(out)
    for p in (out, scatter, resid):
        check_writable(p, overwrite)
    text = json.dumps(res.to_json(), indent=2, allow_nan=False, default=_json_default) + "\n"
    with atomic_output(scatter, overwrite) as t1, atomic_output(resid, overwrite) as t2:
        _plots(res, t1, t2)
        with atomic_output(out, overwrite) as tj:
            tj.write_text(text)
            json.loads(tj.read_text())  # read back
    return [out, scatter, resid]


def _json_default(o: Any) -> Any:
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    raise TypeError(type(o).__name__)
