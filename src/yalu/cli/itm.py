"""``yalu itm``: run the Irregular Terrain Model on cases in the reference-vector JSONL schema.

``yalu itm run IN.jsonl -o OUT.jsonl`` reads one case per line (the schema of
``shared/itm/README.md``: point-to-point when the case has ``pfl``, area mode when it has
``set == "area"`` or ``d_km``), ignores any ``expected`` object, and writes every case back with a
``computed`` object of the same shape (rtn, A_db, warnings, mode, d_km, d_hzn_m, theta_hzn_rad,
h_e_m, delta_h_m, A_ref_db, A_fs_db, N_s). Invalid cases get their ITM return code (1000 and up,
1100 for an unusable profile) and nulls; they never stop the run. Records that are not cases
(not JSON, not UTF-8, a missing field, a wrong type) get ``rtn`` null and an ``error`` naming the
line: they are not ITM conditions, so they get no ITM code.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

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


MAX_INPUT_BYTES = 4 * 2**30
"""Largest JSONL input (the 2,300 reference vectors take 3 MB)."""
MAX_LINE_BYTES = 64 * 2**20


def _read_cases(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line number, case) per non-empty line; a string instead of the case for a bad record."""
    from yalu.inputs import InputTooLargeError, fmt_bytes, open_regular

    f, size = open_regular(path, "input")
    with f:
        if size > MAX_INPUT_BYTES:
            raise InputTooLargeError(
                f"input {path}: {fmt_bytes(size)} exceeds the limit of {fmt_bytes(MAX_INPUT_BYTES)}"
            )
        for lineno, raw in enumerate(iter(lambda: f.readline(MAX_LINE_BYTES + 1), b""), start=1):
            if len(raw) > MAX_LINE_BYTES:
                raise InputTooLargeError(
                    f"{path}, line {lineno}: longer than {fmt_bytes(MAX_LINE_BYTES)} (the limit)"
                )
            if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield lineno, f"byte 0x{raw[exc.start : exc.start + 1].hex()} is not UTF-8"
                continue
            if not line.strip():
                continue
            try:
                case = json.loads(line)
            except json.JSONDecodeError as exc:
                yield lineno, f"not valid JSON ({exc.msg}, column {exc.colno})"
                continue
            except (ValueError, RecursionError) as exc:  # a 5,000-digit number, deep nesting
                if isinstance(exc, RecursionError):
                    what = "nested too deeply"
                elif "digits" in str(exc):
                    what = "a number with too many digits"
                else:
                    what = str(exc)[:80]
                yield lineno, f"not valid JSON ({what})"
                continue
            if not isinstance(case, dict):
                yield lineno, "expected a JSON object per line"
                continue
            yield lineno, case


def _count_lines(path: Path) -> int:
    n = 0
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            n += chunk.count(b"\n")
    return n + 1


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
    from yalu.inputs import check_regular_file

    check_regular_file(input_path, "input")
    check_writable(output_path, overwrite, kind="file", inputs=[input_path], claim=True, name="-o")
    from yalu.propagation.itm import reference_case, schema_error

    n_cases = n_invalid = n_bad = 0
    first_bad = ""
    with atomic_output(output_path, overwrite=overwrite) as tmp:
        with tmp.open("w", encoding="utf-8") as f:
            stderr = sys.stderr
            with click.progressbar(
                length=_count_lines(input_path), label="ITM", file=stderr
            ) as bar:
                for lineno, case in _read_cases(input_path):
                    n_cases += 1
                    if isinstance(case, str):
                        record: dict[str, Any] = {"line": lineno}
                        computed = schema_error(f"line {lineno}: {case}")
                    else:
                        record = dict(case)
                        computed = reference_case(case)
                        if "error" in computed:
                            computed["error"] = f"line {lineno}: {computed['error']}"
                    if "error" in computed:
                        n_bad += 1
                        first_bad = first_bad or computed["error"]
                    elif computed["rtn"] >= 1000:
                        n_invalid += 1
                    record["computed"] = computed
                    f.write(_dumps(record) + "\n")
                    bar.update(1)
    msg = (
        f"{n_cases} cases, {n_cases - n_invalid - n_bad} computed, {n_invalid} invalid "
        f"(rtn >= 1000)"
    )
    if n_bad:
        msg += f", {n_bad} malformed (e.g. {first_bad})"
    click.echo(f"{msg} -> {output_path}", err=True)
