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

from yalu.errors import InputError
from yalu.io.atomic import atomic_output, check_writable


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
    from yalu.propagation.itm import reference_case

    cases = _read_cases(input_path)
    n_invalid = 0
    with atomic_output(output_path, overwrite=overwrite) as tmp:
        with tmp.open("w", encoding="utf-8") as f:
            stderr = sys.stderr
            with click.progressbar(length=len(cases), label="ITM", file=stderr) as bar:
                for case in cases:
                    computed = reference_case(case)
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
