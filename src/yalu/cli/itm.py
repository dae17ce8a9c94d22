"""``yalu itm``: run the Irregular Terrain Model on cases in the reference-vector JSONL schema.

``yalu itm run IN.jsonl -o OUT.jsonl`` reads one case per line (the schema of
``shared/itm/README.md``: point-to-point when the case has ``pfl``, area mode when it has
``set == "area"`` or ``d_km``), ignores any ``expected`` object, and writes every case back with a
``computed`` object of the same shape (rtn, A_db, warnings, mode, d_km, d_hzn_m, theta_hzn_rad,
h_e_m, delta_h_m, A_ref_db, A_fs_db, N_s). Invalid cases get their ITM return code (1000 and up,
1100 for an unusable profile) and nulls; they never stop the run.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import click
import numpy as np

from yalu.errors import InputError
from yalu.io.atomic import atomic_output, check_writable
from yalu.propagation import _itm_kernels as _k

# the dispatchers take positional arguments of mixed types; keep mypy out of them
_P2P_CORE: Any = _k.p2p_core
_AREA_CORE: Any = _k.area_core


class _BadField(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


def _real(case: dict[str, Any], key: str, code: int) -> float:
    v = case.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise _BadField(code)
    return float(v)


def _int(case: dict[str, Any], key: str, code: int) -> int:
    v = case.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise _BadField(code)
    if isinstance(v, float) and not (math.isfinite(v) and v == int(v)):
        return -1  # rejected by the kernel with the field's code
    return int(v)


def _profile(case: dict[str, Any]) -> tuple[np.ndarray, int, float]:
    pfl = case.get("pfl")
    if not isinstance(pfl, list) or len(pfl) < 4:
        raise _BadField(_k.ERR_PROFILE)
    try:
        arr = np.array(pfl, dtype=np.float64)
    except (TypeError, ValueError):
        raise _BadField(_k.ERR_PROFILE) from None
    n = arr[0]
    if arr.ndim != 1 or not (math.isfinite(n) and n == int(n) and n >= 1):
        raise _BadField(_k.ERR_PROFILE)
    if arr.shape[0] != int(n) + 3:
        raise _BadField(_k.ERR_PROFILE)
    return arr, int(n), float(arr[1])


def compute_case(case: dict[str, Any], scratch: np.ndarray, out: np.ndarray) -> dict[str, Any]:
    """The ``computed`` object for one case (never raises on bad case content)."""
    is_p2p = case.get("pfl") is not None
    if not is_p2p and not (case.get("set") == "area" or "d_km" in case):
        return _null_result(_k.ERR_PROFILE, 0)  # neither a profile nor an area-mode path
    try:
        common: list[Any] = [
            _real(case, "h_tx_m", 1000),
            _real(case, "h_rx_m", 1001),
            _real(case, "f_MHz", 1009),
            _int(case, "climate", 1002),
            _real(case, "N_0", 1008),
            _int(case, "polarization", 1010),
            _real(case, "epsilon", 1011),
            _real(case, "sigma", 1012),
            _int(case, "mdvar", 1014),
            _real(case, "time_pct", 1003),
            _real(case, "location_pct", 1004),
            _real(case, "situation_pct", 1005),
        ]
        if is_p2p:
            arr, n, step = _profile(case)
            _P2P_CORE(arr, 2, n, step, *common, scratch, out)
        else:
            _AREA_CORE(
                _real(case, "d_km", 1017),
                _real(case, "delta_h_m", 1018),
                common[0],
                common[1],
                _int(case, "tx_siting", 1019),
                _int(case, "rx_siting", 1020),
                *common[2:],
                out,
            )
    except _BadField as bad:
        return _null_result(bad.code, 0)
    rtn = int(out[_k.OUT_RTN])
    if rtn >= 1000:
        return _null_result(rtn, int(out[_k.OUT_WARN]))
    return {
        "rtn": rtn,
        "A_db": float(out[_k.OUT_LOSS]),
        "warnings": int(out[_k.OUT_WARN]),
        "mode": int(out[_k.OUT_MODE]),
        "d_km": float(out[_k.OUT_D_KM]),
        "d_hzn_m": [float(out[_k.OUT_D_HZN_TX]), float(out[_k.OUT_D_HZN_RX])],
        "theta_hzn_rad": [float(out[_k.OUT_THETA_TX]), float(out[_k.OUT_THETA_RX])],
        "h_e_m": [float(out[_k.OUT_H_E_TX]), float(out[_k.OUT_H_E_RX])],
        "delta_h_m": float(out[_k.OUT_DELTA_H]),
        "A_ref_db": float(out[_k.OUT_A_REF]),
        "A_fs_db": float(out[_k.OUT_A_FS]),
        "N_s": float(out[_k.OUT_N_S]),
    }


def _null_result(rtn: int, warnings: int) -> dict[str, Any]:
    return {
        "rtn": rtn,
        "A_db": None,
        "warnings": warnings,
        "mode": None,
        "d_km": None,
        "d_hzn_m": None,
        "theta_hzn_rad": None,
        "h_e_m": None,
        "delta_h_m": None,
        "A_ref_db": None,
        "A_fs_db": None,
        "N_s": None,
    }


def _finite_or_none(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite_or_none(v) for v in obj]
    return obj


def _dumps(record: dict[str, Any]) -> str:
    """Strict JSON (NaN/inf, accepted by Python's reader, become null)."""
    try:
        return json.dumps(record, allow_nan=False)
    except ValueError:
        return json.dumps(_finite_or_none(record), allow_nan=False)


def _read_cases(path: Path) -> list[dict[str, Any]]:
    cases = []
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                case = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}, line {lineno}: not valid JSON ({exc.msg})") from None
            if not isinstance(case, dict):
                raise InputError(f"{path}, line {lineno}: expected a JSON object per line")
            cases.append(case)
    return cases


@click.group(name="itm")
def itm() -> None:
    """Irregular Terrain Model (Longley-Rice, NTIA ITM v1.4)."""


@itm.command(name="run")
@click.argument("input_path", metavar="IN.jsonl", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    "output_path",
    required=True,
    metavar="OUT.jsonl",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Output JSONL: every input case with a `computed` object.",
)
@click.option("--overwrite", is_flag=True, help="Replace OUT.jsonl if it exists.")
def run(input_path: Path, output_path: Path, overwrite: bool) -> None:
    """Compute ITM for every case of IN.jsonl into OUT.jsonl.

    One JSON case per line in the ITM reference-vector schema: point-to-point when it has `pfl`,
    area mode when `set` is "area" or it has `d_km`. Any `expected` object is ignored; each case
    is written back with a `computed` object of the same shape. Invalid cases get their ITM
    return code (>= 1000) and nulls.
    """
    if not input_path.is_file():
        raise InputError(f"input {input_path} does not exist or is not a file")
    check_writable(output_path, overwrite)
    cases = _read_cases(input_path)
    scratch = np.empty(_k.SCRATCH_LEN)
    out = np.empty(_k.OUT_LEN)
    n_invalid = 0
    with atomic_output(output_path, overwrite=overwrite) as tmp:
        with tmp.open("w", encoding="utf-8") as f:
            stderr = sys.stderr
            with click.progressbar(length=len(cases), label="ITM", file=stderr) as bar:
                for case in cases:
                    computed = compute_case(case, scratch, out)
                    n_invalid += computed["rtn"] >= 1000
                    record = dict(case)
                    record["computed"] = computed
                    f.write(_dumps(record) + "\n")
                    bar.update(1)
    click.echo(
        f"{len(cases)} cases, {len(cases) - n_invalid} computed, {n_invalid} invalid "
        f"(rtn >= 1000) -> {output_path}",
        err=True,
    )
