"""``yalu itm run``: reference-vector JSONL in, the same cases with ``computed`` out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from yalu.cli.main import cli

DATA = Path(__file__).parents[1] / "data"
SHARED_ITM = Path(__file__).parents[2] / ".." / "shared" / "itm"
KEYS = {
    "rtn", "A_db", "warnings", "mode", "d_km", "d_hzn_m", "theta_hzn_rad", "h_e_m",
    "delta_h_m", "A_ref_db", "A_fs_db", "N_s",
}  # fmt: skip


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _rel_ok(got: float, ref: float) -> bool:
    return abs(got - ref) <= 1e-6 * abs(ref) + 1e-12


def _check(cases: list[dict[str, Any]]) -> None:
    problems = []
    for c in cases:
        exp, got = c["expected"], c["computed"]
        assert set(got) == KEYS
        if got["rtn"] != exp["rtn"] or got["warnings"] != exp["warnings"]:
            problems.append((c["id"], "rtn/warnings", got["rtn"], exp["rtn"]))
            continue
        if exp["rtn"] >= 1000:
            if any(got[k] is not None for k in KEYS - {"rtn", "warnings"}):
                problems.append((c["id"], "non-null result for an invalid case"))
            continue
        tol = 0.1 if c["id"] == "p2p00744" else 0.001
        if got["mode"] != exp["mode"] or not abs(got["A_db"] - exp["A_db"]) <= tol:
            problems.append((c["id"], got["mode"], exp["mode"], got["A_db"], exp["A_db"]))
        for k in ("d_km", "delta_h_m", "A_ref_db", "A_fs_db", "N_s"):
            if not _rel_ok(got[k], exp[k]):
                problems.append((c["id"], k))
        for k in ("d_hzn_m", "theta_hzn_rad", "h_e_m"):
            if not all(_rel_ok(g, e) for g, e in zip(got[k], exp[k], strict=True)):
                problems.append((c["id"], k))
    assert not problems, problems[:10]


def test_run_p2p_subset(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(
        cli, ["itm", "run", str(DATA / "itm_p2p_subset.jsonl"), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    cases = _lines(out)
    assert len(cases) == len(_lines(DATA / "itm_p2p_subset.jsonl"))
    _check(cases)
    assert not list(tmp_path.glob(".*part"))  # no temporary left behind


def test_run_area_file(tmp_path: Path) -> None:
    out = tmp_path / "area.jsonl"
    result = CliRunner().invoke(
        cli, ["itm", "run", str(DATA / "itm_area_vectors.jsonl"), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    _check(_lines(out))


def test_expected_is_ignored(tmp_path: Path) -> None:
    case = _lines(DATA / "itm_area_vectors.jsonl")[1]
    honest = dict(case)
    del honest["expected"]
    poisoned = dict(case, expected={"rtn": 0, "A_db": -1.0})
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(honest) + "\n\n" + json.dumps(poisoned) + "\n")
    out = tmp_path / "out.jsonl"
    assert CliRunner().invoke(cli, ["itm", "run", str(src), "-o", str(out)]).exit_code == 0
    a, b = _lines(out)
    assert "expected" not in a
    assert a["computed"] == b["computed"]
    assert b["expected"] == {"rtn": 0, "A_db": -1.0}  # written back untouched
    assert a["computed"]["A_db"] == pytest.approx(case["expected"]["A_db"], abs=1e-3)


def test_bad_cases_get_codes_not_crashes(tmp_path: Path) -> None:
    good = _lines(DATA / "itm_p2p_subset.jsonl")[0]
    bad_pfl = dict(good, pfl=[5, 100.0, 1.0])  # too short for 5 intervals
    void = dict(good, pfl=[2, 100.0, 1.0, None, 3.0])
    missing = {k: v for k, v in good.items() if k != "h_rx_m"}
    text_height = dict(good, h_tx_m="ten")
    neither = {"id": "x", "h_tx_m": 10}
    src = tmp_path / "in.jsonl"
    rows = [good, bad_pfl, void, missing, text_height, neither]
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(cli, ["itm", "run", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    got = [r["computed"]["rtn"] for r in _lines(out)]
    # a wrong profile is ITM's (yalu's 1100); a missing field or a wrong type is no ITM condition
    assert got == [good["expected"]["rtn"], 1100, 1100, None, None, None]
    errors = [r["computed"].get("error") for r in _lines(out)]
    assert errors[:3] == [None, None, None]
    assert errors[3] == "line 4: h_rx_m: missing"
    assert errors[4] == "line 5: h_tx_m = 'ten': must be a number"
    assert errors[5].startswith("line 6: neither pfl")
    assert all(r["computed"]["A_db"] is None for r in _lines(out)[1:])


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("keep me\n")
    result = CliRunner().invoke(
        cli, ["itm", "run", str(DATA / "itm_area_vectors.jsonl"), "-o", str(out)]
    )
    assert result.exit_code == 2 and "--overwrite" in result.output
    assert out.read_text() == "keep me\n"
    result = CliRunner().invoke(
        cli, ["itm", "run", str(DATA / "itm_area_vectors.jsonl"), "-o", str(out), "--overwrite"]
    )
    assert result.exit_code == 0
    assert len(_lines(out)) == 300


def test_invalid_json_is_a_record_error_naming_the_line(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": 1}\n{not json\n')
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(cli, ["itm", "run", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 malformed (e.g. line 1: neither pfl" in result.output
    bad = _lines(out)[1]
    assert bad["line"] == 2 and bad["computed"]["rtn"] is None
    assert bad["computed"]["error"].startswith("line 2: not valid JSON")


def _run_module(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    return subprocess.run(
        [sys.executable, "-m", "yalu.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_subprocess_exit_codes(tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    ok = _run_module("itm", "run", str(DATA / "itm_area_vectors.jsonl"), "-o", str(out))
    assert ok.returncode == 0, ok.stderr
    assert len(_lines(out)) == 300
    again = _run_module("itm", "run", str(DATA / "itm_area_vectors.jsonl"), "-o", str(out))
    assert again.returncode == 2
    assert "Traceback" not in again.stderr
    assert "exists" in again.stderr and "--overwrite" in again.stderr
    missing = _run_module("itm", "run", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "x"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


@pytest.mark.shared
@pytest.mark.skipif(
    not (SHARED_ITM / "p2p_vectors.jsonl").exists(),
    reason=f"shared ITM reference vectors not found at {SHARED_ITM}",
)
def test_run_full_shared_files(tmp_path: Path) -> None:
    for name in ("p2p_vectors.jsonl", "area_vectors.jsonl"):
        out = tmp_path / name
        result = CliRunner().invoke(cli, ["itm", "run", str(SHARED_ITM / name), "-o", str(out)])
        assert result.exit_code == 0, result.output
        _check(_lines(out))
