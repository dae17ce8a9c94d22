"""ITM against the NTIA ITM v1.4 reference vectors, and its input checks.

``tests/data/itm_p2p_subset.jsonl`` holds 316 of the 2000 point-to-point vectors of
``shared/itm/p2p_vectors.jsonl`` (every category; all 40 invalid inputs; the fp-sensitive case;
real-terrain profiles thinned to the shorter ones; at least one case per warning bit), and
``tests/data/itm_area_vectors.jsonl`` all 300 area vectors, so that a fresh clone checks itself.
When ``../shared/itm`` sits beside the repository, the full sets are checked too.

Criteria: |loss - ref| <= 0.001 dB (0.1 dB for the fp-sensitive id), identical rtn,
mode and warnings, intermediates within 1e-6 relative.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numba import njit

from yalu.errors import ITMError, ParameterError
from yalu.propagation import _itm_kernels as _k
from yalu.propagation import itm

DATA = Path(__file__).parents[1] / "data"
SHARED_ITM = Path(__file__).parents[2] / ".." / "shared" / "itm"
FP_SENSITIVE_DEFAULT = {"p2p00744"}

LOSS_TOL_DB = 0.001
FP_LOSS_TOL_DB = 0.1
REL_TOL = 1e-6
ABS_FLOOR = 1e-12


def _load(path: Path) -> list[dict[str, Any]]:
    with path.open() as f:
        return [json.loads(line) for line in f if line.strip()]


def _fp_ids() -> set[str]:
    p = SHARED_ITM / "fp_sensitive_ids.txt"
    return set(p.read_text().split()) if p.exists() else FP_SENSITIVE_DEFAULT


def _kwargs(case: dict[str, Any]) -> dict[str, Any]:
    return {
        "climate": case["climate"],
        "n0": case["N_0"],
        "polarization": case["polarization"],
        "epsilon": case["epsilon"],
        "sigma": case["sigma"],
        "mdvar": case["mdvar"],
        "time_pct": case["time_pct"],
        "location_pct": case["location_pct"],
        "situation_pct": case["situation_pct"],
    }


def _computed_single(case: dict[str, Any]) -> dict[str, Any]:
    """Run one case through the public scalar API; errors become {'rtn': code}."""
    try:
        if "pfl" in case:
            r = itm.p2p_pfl(
                case["pfl"], case["h_tx_m"], case["h_rx_m"], case["f_MHz"], **_kwargs(case)
            )
        else:
            r = itm.area(
                case["d_km"], case["delta_h_m"], case["h_tx_m"], case["h_rx_m"],
                case["tx_siting"], case["rx_siting"], case["f_MHz"], **_kwargs(case),
            )  # fmt: skip
    except ITMError as exc:
        return {"rtn": exc.code}
    return {
        "rtn": r.rtn,
        "A_db": r.loss_db,
        "warnings": int(r.warnings),
        "mode": int(r.mode),
        "d_km": r.d_km,
        "d_hzn_m": list(r.d_hzn_m),
        "theta_hzn_rad": list(r.theta_hzn_rad),
        "h_e_m": list(r.h_e_m),
        "delta_h_m": r.delta_h_m,
        "A_ref_db": r.a_ref_db,
        "A_fs_db": r.a_fs_db,
        "N_s": r.n_s,
    }


def _computed_batch(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run point-to-point cases through p2p_batch (per-profile parameters)."""
    elev = np.concatenate([np.asarray(c["pfl"][2:], dtype=float) for c in cases])
    lengths = [len(c["pfl"]) - 2 for c in cases]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)

    def col(key: str) -> np.ndarray:
        return np.array([c[key] for c in cases])

    res = itm.p2p_batch(
        elev, offsets, np.array([c["pfl"][1] for c in cases]), col("h_tx_m"), col("h_rx_m"),
        col("f_MHz"), climate=col("climate"), n0=col("N_0"), polarization=col("polarization"),
        epsilon=col("epsilon"), sigma=col("sigma"), mdvar=col("mdvar"), time_pct=col("time_pct"),
        location_pct=col("location_pct"), situation_pct=col("situation_pct"), threads=None,
    )  # fmt: skip
    out = []
    for i in range(len(cases)):
        out.append(
            {
                "rtn": int(res.rtn[i]),
                "A_db": float(res.loss_db[i]),
                "warnings": int(res.warnings[i]),
                "mode": int(res.mode[i]),
                "d_km": float(res.d_km[i]),
                "d_hzn_m": list(res.d_hzn_m[i]),
                "theta_hzn_rad": list(res.theta_hzn_rad[i]),
                "h_e_m": list(res.h_e_m[i]),
                "delta_h_m": float(res.delta_h_m[i]),
                "A_ref_db": float(res.a_ref_db[i]),
                "A_fs_db": float(res.a_fs_db[i]),
                "N_s": float(res.n_s[i]),
            }
        )
    return out


def _close(got: float, ref: float) -> bool:
    return abs(got - ref) <= REL_TOL * abs(ref) + ABS_FLOOR


def compare(case: dict[str, Any], got: dict[str, Any], fp_ids: set[str]) -> list[str]:
    """Differences between a computed result and the case's ``expected`` (empty when equal)."""
    exp = case["expected"]
    bad = []
    if got["rtn"] != exp["rtn"]:
        return [f"rtn {got['rtn']} != {exp['rtn']}"]
    if exp["rtn"] >= 1000:
        return bad
    if got["warnings"] != exp["warnings"]:
        bad.append(f"warnings {got['warnings']:#x} != {exp['warnings']:#x}")
    if got["mode"] != exp["mode"]:
        bad.append(f"mode {got['mode']} != {exp['mode']}")
    tol = FP_LOSS_TOL_DB if case["id"] in fp_ids else LOSS_TOL_DB
    if not abs(got["A_db"] - exp["A_db"]) <= tol:
        bad.append(f"A_db {got['A_db']!r} != {exp['A_db']!r}")
    for key in ("d_km", "delta_h_m", "A_ref_db", "A_fs_db", "N_s"):
        if not _close(got[key], exp[key]):
            bad.append(f"{key} {got[key]!r} != {exp[key]!r}")
    for key in ("d_hzn_m", "theta_hzn_rad", "h_e_m"):
        for k in range(2):
            if not _close(got[key][k], exp[key][k]):
                bad.append(f"{key}[{k}] {got[key][k]!r} != {exp[key][k]!r}")
    return bad


def _check_all(cases: list[dict[str, Any]], computed: list[dict[str, Any]]) -> dict[str, float]:
    fp_ids = _fp_ids()
    failures = []
    max_dev = 0.0
    for case, got in zip(cases, computed, strict=True):
        problems = compare(case, got, fp_ids)
        if problems:
            failures.append(f"{case['id']} ({case['category']}): " + "; ".join(problems))
        elif case["expected"]["rtn"] < 1000:
            max_dev = max(max_dev, abs(got["A_db"] - case["expected"]["A_db"]))
    assert not failures, f"{len(failures)} of {len(cases)} cases differ:\n" + "\n".join(
        failures[:20]
    )
    return {"max_abs_dev_db": max_dev}


# ---------------------------------------------------------------------------------------------
# reference vectors


def test_subset_has_every_category_and_the_invalid_inputs() -> None:
    cases = _load(DATA / "itm_p2p_subset.jsonl")
    cats = {c["category"] for c in cases}
    assert {"real_terrain_90m", "real_terrain_900m", "invalid_input", "synthetic_sea"} <= cats
    assert sum(c["category"] == "invalid_input" for c in cases) == 40
    assert FP_SENSITIVE_DEFAULT <= {c["id"] for c in cases}
    assert {1, 2, 3} <= {c["expected"]["mode"] for c in cases}


def test_p2p_subset_single_calls() -> None:
    cases = _load(DATA / "itm_p2p_subset.jsonl")
    stats = _check_all(cases, [_computed_single(c) for c in cases])
    assert stats["max_abs_dev_db"] < LOSS_TOL_DB


def test_p2p_subset_batch() -> None:
    cases = _load(DATA / "itm_p2p_subset.jsonl")
    _check_all(cases, _computed_batch(cases))


def test_area_vectors() -> None:
    cases = _load(DATA / "itm_area_vectors.jsonl")
    assert len(cases) == 300
    _check_all(cases, [_computed_single(c) for c in cases])


def test_fp_sensitive_case_is_tight() -> None:
    # the case lands a least-squares window boundary exactly on a sample; without FMA contraction
    # yalu reproduces the reference far below the 0.1 dB allowance
    case = next(c for c in _load(DATA / "itm_p2p_subset.jsonl") if c["id"] == "p2p00744")
    got = _computed_single(case)
    assert abs(got["A_db"] - case["expected"]["A_db"]) < 1e-6


shared = pytest.mark.skipif(
    not (SHARED_ITM / "p2p_vectors.jsonl").exists(),
    reason=f"shared ITM reference vectors not found at {SHARED_ITM}",
)


@pytest.mark.shared
@shared
def test_full_shared_p2p_vectors() -> None:
    cases = _load(SHARED_ITM / "p2p_vectors.jsonl")
    assert len(cases) == 2000
    _check_all(cases, [_computed_single(c) for c in cases])
    _check_all(cases, _computed_batch(cases))


@pytest.mark.shared
@shared
def test_full_shared_area_vectors() -> None:
    cases = _load(SHARED_ITM / "area_vectors.jsonl")
    assert len(cases) == 300
    _check_all(cases, [_computed_single(c) for c in cases])


# ---------------------------------------------------------------------------------------------
# NaN semantics of the reference's clamps (issue 11, section 6)


def _knife_edge_24m() -> np.ndarray:
    """A 24 m path, 100 intervals of 0.24 m, across a 1.5 km knife edge next to terminal 1."""
    prof = np.zeros(101)
    prof[1] = 1500.0
    return prof


@pytest.mark.parametrize("frequency_mhz", [54.0, 100.0])
def test_knife_edge_24m_path_clamps_nan_like_the_reference(frequency_mhz: float) -> None:
    # The ridge puts the smooth-earth distance of Vogler's method below zero: log10 of it is NaN,
    # so the diffraction line (A_d0, M_d) is NaN. The reference's MAX(x, y) = x > y ? x : y then
    # returns its second argument: d_1 = MAX(NaN, d_ML / 4) = d_ML / 4 and finally
    # A_ref = MAX(NaN, 0) = 0, where Python's max(NaN, 0) kept NaN (A_db null).
    # With no location or situation variability (mdvar + 30) and 50 % time, the variability is
    # -V_med, ~1e-9 dB at 24 m, so the loss is free space, computed here from its formula.
    r = itm.p2p(
        _knife_edge_24m(), 0.24, 1.5, 1.5, frequency_mhz, climate=5, n0=301.0,
        polarization=1, epsilon=15.0, sigma=0.005, mdvar=31, time_pct=50.0,
        location_pct=50.0, situation_pct=50.0,
    )  # fmt: skip
    assert r.rtn == 1 and r.mode is itm.Mode.LOS
    assert r.a_ref_db == 0.0
    fspl = 32.45 + 20 * math.log10(frequency_mhz) + 20 * math.log10(0.024)
    assert math.isfinite(r.loss_db) and abs(r.loss_db - fspl) < 1e-3
    assert itm.Warning.TX_HORIZON_ANGLE in r.warnings  # far outside the model's range, flagged
    if frequency_mhz == 54.0:
        assert round(r.loss_db, 1) == 34.7  # the NTIA reference's figure quoted in issue 11


def test_knife_edge_24m_path_finite_with_variability_and_in_batch() -> None:
    prof = _knife_edge_24m()
    single = itm.p2p(prof, 0.24, 10.0, 1.5, 100.0, time_pct=90.0, location_pct=90.0)
    assert math.isfinite(single.loss_db) and single.a_ref_db == 0.0
    res = itm.p2p_batch(
        prof, np.array([0, prof.size]), np.array([0.24]), np.array([10.0]), np.array([1.5]),
        np.array([100.0]), time_pct=np.array([90.0]), location_pct=np.array([90.0]),
    )  # fmt: skip
    assert res.loss_db[0] == single.loss_db


@pytest.mark.parametrize(
    ("x", "y", "cmax", "cmin"),
    [
        (math.nan, 0.0, 0.0, 0.0),  # either NaN: the second argument, as the C macros
        (0.0, math.nan, math.nan, math.nan),
        (1.0, 2.0, 2.0, 1.0),
        (2.0, 1.0, 2.0, 1.0),
    ],
)
def test_reference_clamp_semantics(x: float, y: float, cmax: float, cmin: float) -> None:
    for fn, want in ((_k._cmax, cmax), (_k._cmin, cmin)):
        got = fn(x, y)
        assert got == want or (math.isnan(got) and math.isnan(want))
    assert _k._fdim(math.nan, 1.0) == 0.0  # DIM macro
    assert math.isnan(_k._c_fdim(math.nan, 1.0)) and _k._c_fdim(3.0, 1.0) == 2.0  # C fdim


# ---------------------------------------------------------------------------------------------
# API behaviour

FLAT = np.full(101, 100.0)


def test_p2p_and_pfl_forms_agree() -> None:
    rng = np.random.default_rng(3)
    prof = 200 + np.cumsum(rng.normal(0, 5, 301))
    a = itm.p2p(prof, 90.0, 30.0, 2.0, 900.0, time_pct=90.0)
    b = itm.p2p_pfl(np.concatenate([[300, 90.0], prof]), 30.0, 2.0, 900.0, time_pct=90.0)
    assert a.loss_db == b.loss_db
    assert a.mode == b.mode and a.warnings == b.warnings
    np.testing.assert_array_equal(a.h_e_m, b.h_e_m)


def test_result_types() -> None:
    r = itm.p2p(FLAT, 100.0, 10.0, 0.8, 900.0)
    assert isinstance(r.mode, itm.Mode) and r.mode is itm.Mode.LOS
    assert isinstance(r.warnings, itm.Warning)
    assert itm.Warning.RX_TERMINAL_HEIGHT in r.warnings  # 0.8 m < 1 m
    assert r.rtn == 1
    assert r.d_km == pytest.approx(10.0)
    assert r.d_hzn_m.shape == (2,) and r.h_e_m.shape == (2,) and r.theta_hzn_rad.shape == (2,)


def test_enum_and_name_inputs_match_ints() -> None:
    a = itm.p2p(
        FLAT, 100.0, 10.0, 2.0, 900.0, climate=itm.Climate.DESERT, polarization="horizontal"
    )
    b = itm.p2p(FLAT, 100.0, 10.0, 2.0, 900.0, climate=4, polarization=0)
    assert a.loss_db == b.loss_db
    c = itm.area(20.0, 90.0, 30.0, 2.0, itm.SitingCriteria.CAREFUL, "random", 900.0)
    d = itm.area(20.0, 90.0, 30.0, 2.0, 1, 0, 900.0)
    assert c.loss_db == d.loss_db


def test_warning_flags_cover_reference_bits() -> None:
    assert int(itm.Warning.SURFACE_REFRACTIVITY) == 0x4000
    assert int(itm.Warning.EXTREME_VARIABILITIES) == 0x2000
    combined = 0
    for flag in itm.Warning:
        combined |= int(flag)
    assert combined == 0x7FFF


P2P_OK: dict[str, Any] = dict(
    climate=5, n0=301.0, polarization=1, epsilon=15.0, sigma=0.005, mdvar=12,
    time_pct=50.0, location_pct=50.0, situation_pct=50.0,
)  # fmt: skip


@pytest.mark.parametrize(
    ("override", "code", "name"),
    [
        ({"h_tx_m": 0.4}, 1000, "h_tx_m"),
        ({"h_tx_m": 3000.5}, 1000, "h_tx_m"),
        ({"h_tx_m": math.nan}, 1000, "h_tx_m"),
        ({"h_rx_m": 0.49}, 1001, "h_rx_m"),
        ({"climate": 0}, 1002, "climate"),
        ({"climate": 8}, 1002, "climate"),
        ({"climate": "tropical"}, 1002, "climate"),
        ({"time_pct": 0.0}, 1003, "time_pct"),
        ({"time_pct": 100.0}, 1003, "time_pct"),
        ({"location_pct": 0.0}, 1004, "location_pct"),
        ({"situation_pct": 100.0}, 1005, "situation_pct"),
        ({"n0": 249.9}, 1008, "n0"),
        ({"n0": 400.1}, 1008, "n0"),
        ({"frequency_mhz": 19.9}, 1009, "frequency_mhz"),
        ({"frequency_mhz": 20000.1}, 1009, "frequency_mhz"),
        ({"polarization": 2}, 1010, "polarization"),
        ({"epsilon": 0.99}, 1011, "epsilon"),
        ({"sigma": 0.0}, 1012, "sigma"),
        ({"epsilon": 1.0, "polarization": 0}, 1013, "epsilon"),
        ({"mdvar": 4}, 1014, "mdvar"),
        ({"mdvar": -1}, 1014, "mdvar"),
        ({"mdvar": 34}, 1014, "mdvar"),
        ({"mdvar": 19}, 1014, "mdvar"),
    ],
)
def test_p2p_invalid_inputs_raise(override: dict[str, Any], code: int, name: str) -> None:
    args = {"h_tx_m": 10.0, "h_rx_m": 2.0, "frequency_mhz": 900.0, **P2P_OK, **override}
    with pytest.raises(ITMError) as info:
        itm.p2p(FLAT, 100.0, **args)
    assert info.value.code == code
    assert info.value.name == name
    assert isinstance(info.value, ValueError)
    assert name in str(info.value) and str(code) in str(info.value)


@pytest.mark.parametrize("mdvar", [0, 1, 2, 3, 10, 13, 20, 23, 30, 33])
def test_valid_mdvar_values(mdvar: int) -> None:
    r = itm.p2p(FLAT, 100.0, 10.0, 2.0, 900.0, mdvar=mdvar)
    assert math.isfinite(r.loss_db)


@pytest.mark.parametrize(
    ("override", "code", "name"),
    [
        ({"d_km": 0.0}, 1017, "d_km"),
        ({"d_km": -1.0}, 1017, "d_km"),
        ({"delta_h_m": -0.1}, 1018, "delta_h_m"),
        ({"tx_siting": 3}, 1019, "tx_siting"),
        ({"rx_siting": -1}, 1020, "rx_siting"),
        ({"h_rx_m": 3001.0}, 1001, "h_rx_m"),
    ],
)
def test_area_invalid_inputs_raise(override: dict[str, Any], code: int, name: str) -> None:
    args: dict[str, Any] = dict(
        d_km=20.0, delta_h_m=90.0, h_tx_m=30.0, h_rx_m=2.0, tx_siting=0, rx_siting=0,
        frequency_mhz=900.0,
    )  # fmt: skip
    args.update(override)
    with pytest.raises(ITMError) as info:
        itm.area(**args)
    assert info.value.code == code and info.value.name == name


@pytest.mark.parametrize(
    "profile",
    [np.array([100.0]), np.array([100.0, np.nan, 100.0]), np.array([100.0, np.inf, 90.0])],
)
def test_unusable_profiles_raise(profile: np.ndarray) -> None:
    with pytest.raises(ITMError) as info:
        itm.p2p(profile, 100.0, 10.0, 2.0, 900.0)
    assert info.value.code == 1100 and info.value.name == "profile_m"


@pytest.mark.parametrize("step", [0.0, -5.0, math.nan])
def test_bad_step_raises(step: float) -> None:
    with pytest.raises(ITMError) as info:
        itm.p2p(FLAT, step, 10.0, 2.0, 900.0)
    assert info.value.code == 1100


def test_pfl_length_mismatch_raises() -> None:
    with pytest.raises(ITMError) as info:
        itm.p2p_pfl([10, 100.0, 1.0, 2.0, 3.0], 10.0, 2.0, 900.0)
    assert info.value.name == "pfl"


def test_profile_must_be_1d() -> None:
    with pytest.raises(ParameterError):
        itm.p2p(np.zeros((3, 3)), 100.0, 10.0, 2.0, 900.0)


# ---------------------------------------------------------------------------------------------
# batch


def test_batch_matches_single_and_flags_bad_profiles() -> None:
    rng = np.random.default_rng(7)
    profiles = [200 + np.cumsum(rng.normal(0, 8, n)) for n in (2, 50, 400, 1700, 90)]
    profiles.insert(2, np.array([5.0]))  # one point only
    profiles.insert(4, np.array([1.0, np.nan, 3.0]))  # void
    elev = np.concatenate(profiles)
    offsets = np.concatenate([[0], np.cumsum([len(p) for p in profiles])])
    steps = np.linspace(30.0, 900.0, len(profiles))
    h_tx = np.array([10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 0.2])  # last: invalid height
    res = itm.p2p_batch(elev, offsets, steps, h_tx, 2.0, 1800.0, mdvar=2, time_pct=90.0, threads=1)
    for i, prof in enumerate(profiles):
        if i in (2, 4):
            assert res.rtn[i] == 1100 and math.isnan(res.loss_db[i]) and res.mode[i] == 0
            continue
        if i == 6:
            assert res.rtn[i] == 1000 and math.isnan(res.loss_db[i])
            continue
        single = itm.p2p(prof, steps[i], h_tx[i], 2.0, 1800.0, mdvar=2, time_pct=90.0)
        assert res.loss_db[i] == single.loss_db
        assert res.mode[i] == int(single.mode) and res.warnings[i] == int(single.warnings)
        assert res.rtn[i] == single.rtn
        np.testing.assert_array_equal(res.d_hzn_m[i], single.d_hzn_m)


def test_batch_threads_give_identical_results() -> None:
    cases = _load(DATA / "itm_p2p_subset.jsonl")[:120]
    elev = np.concatenate([np.asarray(c["pfl"][2:], dtype=float) for c in cases])
    offsets = np.concatenate([[0], np.cumsum([len(c["pfl"]) - 2 for c in cases])])
    steps = np.array([c["pfl"][1] for c in cases])
    one = itm.p2p_batch(elev, offsets, steps, 20.0, 3.0, 700.0, threads=1)
    many = itm.p2p_batch(elev, offsets, steps, 20.0, 3.0, 700.0)
    np.testing.assert_array_equal(one.loss_db, many.loss_db)


def test_batch_container_errors() -> None:
    elev = np.zeros(10)
    with pytest.raises(ParameterError, match="offsets"):
        itm.p2p_batch(elev, np.array([0, 5, 3]), 100.0, 10.0, 2.0, 900.0)
    with pytest.raises(ParameterError, match="offsets"):
        itm.p2p_batch(elev, np.array([0, 11]), 100.0, 10.0, 2.0, 900.0)
    with pytest.raises(ParameterError, match="h_tx_m"):
        itm.p2p_batch(elev, np.array([0, 5, 10]), 100.0, np.ones(3), 2.0, 900.0)
    with pytest.raises(ParameterError, match="threads"):
        itm.p2p_batch(elev, np.array([0, 10]), 100.0, 10.0, 2.0, 900.0, threads=0)


def test_batch_non_integer_options_get_codes() -> None:
    elev = np.full(30, 50.0)
    offsets = np.array([0, 10, 20, 30])
    res = itm.p2p_batch(
        elev, offsets, 1000.0, 10.0, 2.0, 900.0, climate=np.array([5.0, 5.5, 5.0]),
        mdvar=np.array([12.0, 12.0, 12.5]),
    )  # fmt: skip
    assert list(res.rtn) == [0, 1002, 1014]


def test_batch_compiles_one_signature_whatever_the_arrays() -> None:
    """Scalars (broadcast), writable arrays and read-only arrays all reach the kernel as the
    same type: one compiled (and cached, and loaded) kernel, not one per mix of them."""
    elev = np.full(30, 50.0)
    offsets = np.array([0, 10, 20, 30])
    frozen = np.full(3, 10.0)
    frozen.flags.writeable = False
    calls = [
        dict(h_tx_m=10.0, climate=5),
        dict(h_tx_m=np.full(3, 10.0), climate=np.full(3, 5)),
        dict(h_tx_m=frozen, climate=5),
    ]
    losses = [
        itm.p2p_batch(
            elev, offsets, 1000.0, kw["h_tx_m"], 2.0, 900.0, climate=kw["climate"]
        ).loss_db
        for kw in calls
    ]
    # the process's loaded or compiled kernels (other tests call it through p2p_batch too)
    assert len(_k.p2p_batch_kernel.signatures) == 1, _k.p2p_batch_kernel.signatures
    assert all(np.array_equal(x, losses[0]) for x in losses)
    assert frozen.flags.writeable is False and elev.flags.writeable


def test_batch_empty() -> None:
    res = itm.p2p_batch(np.zeros(0), np.array([0]), 100.0, 10.0, 2.0, 900.0)
    assert res.loss_db.shape == (0,)


# ---------------------------------------------------------------------------------------------
# kernel interface used by other numba code (coverage engine)


@njit(cache=False)
def _sweep(elev: np.ndarray, step: float, scratch: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Loss at every point of a radial, calling p2p_core on growing sub-profiles."""
    n = elev.shape[0]
    loss = np.empty(n - 1)
    for k in range(1, n):
        loss[k - 1] = _k.p2p_core(
            elev, 0, k, step, 30.0, 2.0, 900.0, 5, 301.0, 1, 15.0, 0.005, 12, 50.0, 90.0, 50.0,
            scratch, out,
        )  # fmt: skip
    return loss


@pytest.mark.parametrize("scratch_len", [256, _k.SCRATCH_LEN])
def test_p2p_core_from_numba_matches_public_api(scratch_len: int) -> None:
    rng = np.random.default_rng(11)
    elev = np.round(300 + np.cumsum(rng.normal(0, 12, 400)), 2)
    out = np.empty(_k.OUT_LEN)
    got = _sweep(elev, 90.0, np.empty(scratch_len), out)
    for k in (1, 2, 5, 40, 150, 399):
        ref = itm.p2p(elev[: k + 1], 90.0, 30.0, 2.0, 900.0, location_pct=90.0)
        assert got[k - 1] == ref.loss_db
    # the last call's intermediates are in ``out``
    assert out[_k.OUT_RTN] in (0, 1)
    assert out[_k.OUT_D_KM] == pytest.approx(399 * 90.0 / 1000)


def test_p2p_core_offsets_into_a_larger_array() -> None:
    rng = np.random.default_rng(5)
    prof = np.round(100 + np.cumsum(rng.normal(0, 6, 200)), 2)
    big = np.concatenate([np.full(37, np.nan), prof, np.full(11, np.nan)])
    out = np.empty(_k.OUT_LEN)
    loss = _k.p2p_core(
        big, 37, 199, 250.0, 10.0, 3.0, 1800.0, 5, 301.0, 0, 15.0, 0.005, 2, 50.0, 50.0, 50.0,
        np.empty(_k.SCRATCH_LEN), out,
    )  # fmt: skip
    assert loss == itm.p2p(prof, 250.0, 10.0, 3.0, 1800.0, polarization=0, mdvar=2).loss_db


def test_decile_range_matches_sorting() -> None:
    rng = np.random.default_rng(2)
    for trial in range(400):
        n = int(rng.integers(35, 246))
        k = max(4, n // 10)
        kind = trial % 4
        if kind == 0:
            a = rng.normal(0, 5, n)
        elif kind == 1:
            a = rng.standard_cauchy(n)  # heavy tails
        elif kind == 2:
            a = np.round(rng.normal(0, 1, n))  # many ties
        else:
            a = np.full(n, 3.0)  # all equal
        expected = np.sort(a)[n - k] - np.sort(a)[k - 1]
        for size in (n, 3 * n):  # without and with room for the fast path
            buf = np.zeros(size)
            buf[:n] = a
            assert _k._decile_range(buf, n, k) == expected


def _horizons_direct(
    e: np.ndarray, step: float, a_e: float, h1: float, h2: float
) -> tuple[float, float, float, float]:
    """The horizon search written plainly (running distances, exact comparisons)."""
    n = len(e) - 1
    d = n * step
    z1, z2 = e[0] + h1, e[n] + h2
    th1 = (z2 - z1) / d - d / (2 * a_e)
    th2 = -(z2 - z1) / d - d / (2 * a_e)
    d1 = d2 = d
    x1, x2 = 0.0, d
    for k in range(1, n):
        x1 += step
        x2 -= step
        t1 = (e[k] - z1) / x1 - x1 / (2 * a_e)
        t2 = -(z2 - e[k]) / x2 - x2 / (2 * a_e)
        if t1 > th1:
            th1, d1 = t1, x1
        if t2 > th2:
            th2, d2 = t2, x2
    return th1, th2, d1, d2


def test_find_horizons_screen_is_exact() -> None:
    rng = np.random.default_rng(9)
    for _ in range(300):
        n = int(rng.integers(1, 300))
        e = np.round(rng.uniform(0, 50) + np.cumsum(rng.normal(0, rng.uniform(0, 30), n + 1)), 2)
        if rng.random() < 0.3:
            e[:] = e[0]  # flat: many exact ties
        step = float(rng.uniform(10, 1000))
        args = (step, float(rng.uniform(6e6, 1.2e7)), float(rng.uniform(0.5, 300)), 2.0)
        assert _k.find_horizons(e, 0, n, *args) == _horizons_direct(e, *args)


def _lsq_direct(z: np.ndarray, x_start: float, x_end: float, step: float) -> tuple[float, float]:
    """Least-squares line with half-weight ends on whole samples, written plainly."""
    n = len(z) - 1
    lo = int(max(x_start / step, 0.0))
    hi = n - int(max(n - x_end / step, 0.0))
    if hi <= lo:
        lo = int(max(lo - 1.0, 0.0))
        hi = n - int(max(n - (hi + 1.0), 0.0))
    width = float(hi - lo)
    u = -0.5 * width
    u_end = hi + u
    s0 = 0.5 * (z[lo] + z[hi])
    s1 = 0.5 * (z[lo] - z[hi]) * u
    i = lo
    for _ in range(2, int(width) + 1):
        i += 1
        u += 1.0
        s0 += z[i]
        s1 += z[i] * u
    mean = s0 / width
    slope = s1 * 12.0 / ((width * width + 2.0) * width)
    return mean - slope * u_end, mean + slope * (n - u_end)


def _delta_h_direct(e: np.ndarray, step: float, d_start: float, d_end: float) -> float:
    """Terrain irregularity as the algorithm states it: resample by stepping one interval at a
    time, fit, take the interdecile range by sorting, scale to an infinite path."""
    n_int = len(e) - 1
    x_lo, x_hi = d_start / step, d_end / step
    if x_hi - x_lo < 2.0:
        return 0.0
    p10 = min(max(4, int(0.1 * (x_hi - x_lo + 8.0))), 25)
    n = 10 * p10 - 5
    dx = (x_hi - x_lo) / (n - 1)
    k = int(x_lo)
    x = x_lo - float(k + 1)
    s = np.empty(n)
    for j in range(n):
        while x > 0.0 and k + 1 < n_int:
            x -= 1.0
            k += 1
        s[j] = e[k + 1] + (e[k + 1] - e[k]) * x
        x += dx
    f0, f1 = _lsq_direct(s, 0.0, n - 1.0, 1.0)
    slope = (f1 - f0) / (n - 1)
    resid = np.empty(n)
    line = f0
    for j in range(n):
        resid[j] = s[j] - line
        line += slope
    ordered = np.sort(resid)
    return (ordered[n - p10] - ordered[p10 - 1]) / (1.0 - 0.8 * math.exp(-(d_end - d_start) / 50e3))


def test_terrain_delta_h_and_fit_match_plain_algorithm() -> None:
    rng = np.random.default_rng(21)
    scratch = np.empty(_k.SCRATCH_LEN)
    for trial in range(600):
        n = int(rng.integers(2, 1200))
        e = np.round(rng.uniform(0, 900) + np.cumsum(rng.normal(0, rng.uniform(0, 25), n + 1)), 2)
        step = float(rng.choice([30.0, 90.0, 250.0, 1000.0 / 3.0, rng.uniform(5, 1000)]))
        d = n * step
        a, b = sorted(rng.uniform(0.0, d, 2))  # windows as ITM forms them: inside the path
        if trial % 5 == 0:
            a, b = 0.0, d  # the whole profile (window ends on samples)
        if trial % 7 == 0:
            a = step * int(rng.integers(0, n + 1))  # start exactly on a sample
        got = _k.terrain_delta_h(e, 0, n, step, a, b, scratch)
        assert got == _delta_h_direct(e, step, a, b), (trial, n, step, a, b)
        assert _k.least_squares_line(e, 0, n, step, a, b) == _lsq_direct(e, a, b, step)


def test_surface_refractivity_limits_from_path_height() -> None:
    # N_s = N_0 exp(-h_sys / 9460 m) [TN101, Eq 4.3]: a high path drives it below 150 (1021),
    # a path below sea level above 400 (1022); between 150 and 250 only a warning
    high = np.full(101, 5000.0)  # 250 exp(-5000 / 9460) = 147.4
    with pytest.raises(ITMError) as info:
        itm.p2p(high, 100.0, 10.0, 2.0, 900.0, n0=250.0)
    assert info.value.code == 1021 and info.value.name == "n0"
    low = np.full(101, -420.0)  # 390 exp(420 / 9460) = 407.7
    with pytest.raises(ITMError) as info:
        itm.p2p(low, 100.0, 10.0, 2.0, 900.0, n0=390.0)
    assert info.value.code == 1022
    r = itm.p2p(np.full(101, 2000.0), 100.0, 10.0, 2.0, 900.0, n0=290.0)  # N_s = 234.8
    assert itm.Warning.SURFACE_REFRACTIVITY in r.warnings
    assert r.n_s == pytest.approx(290.0 * math.exp(-2000.0 / 9460.0), rel=1e-12)


# ---------------------------------------------------------------------------------------------
# reference-schema cases and option coercion (the public API of ``yalu itm run``)


def test_reference_case_meets_the_reference_vectors() -> None:
    for name in ("itm_p2p_subset.jsonl", "itm_area_vectors.jsonl"):
        cases = _load(DATA / name)
        got = [itm.reference_case(c) for c in cases]
        assert all(tuple(g) == itm.REFERENCE_KEYS for g in got)
        _check_all(cases, got)


def test_reference_case_is_bit_identical_to_the_scalar_api() -> None:
    cases = _load(DATA / "itm_p2p_subset.jsonl") + _load(DATA / "itm_area_vectors.jsonl")
    n_valid = 0
    for case in cases:
        got, ref = itm.reference_case(case), _computed_single(case)
        assert got["rtn"] == ref["rtn"], case["id"]
        if got["rtn"] < 1000:
            n_valid += 1
            for key in ("A_db", "d_km", "delta_h_m", "A_ref_db", "A_fs_db", "N_s"):
                assert got[key] == ref[key] or (math.isnan(got[key]) and math.isnan(ref[key]))
            assert got["mode"] == ref["mode"] and got["warnings"] == ref["warnings"]
    assert n_valid > 400


@pytest.mark.parametrize(
    ("edit", "code"),
    [
        ({"h_tx_m": -1.0}, 1000),
        ({"h_rx_m": 1e9}, 1001),
        ({"f_MHz": 1e300}, 1009),
        ({"climate": 2.5}, 1002),  # not an integer: the kernel rejects it with the field's code
        ({"climate": 10**30}, 1002),  # beyond int64: the field's code, not an overflow
        ({"mdvar": 4}, 1014),
        ({"pfl": [3, 90.0, 1.0, 2.0]}, 1100),  # n_intervals + 3 values expected
        ({"pfl": [1, 90.0, 100.0, float("nan")]}, 1100),
        ({"pfl": [1, 0.0, 100.0, 100.0]}, 1100),  # no step
        ({"pfl": [1, 1e300, 100.0, 100.0]}, 1100),  # a step no path on earth has
    ],
)
def test_reference_case_reports_codes_without_raising(edit: dict[str, Any], code: int) -> None:
    case = next(c for c in _load(DATA / "itm_p2p_subset.jsonl") if c["expected"]["rtn"] < 1000)
    got = itm.reference_case({**case, **edit})
    assert got["rtn"] == code
    assert all(got[k] is None for k in itm.REFERENCE_KEYS if k not in ("rtn", "warnings"))


@pytest.mark.parametrize(
    ("edit", "error"),
    [
        ({"h_tx_m": True}, "h_tx_m = True: must be a number"),  # JSON true is no height
        ({"h_rx_m": None}, "h_rx_m = None: must be a number"),
        ({"f_MHz": "900"}, "f_MHz = '900': must be a number"),
        ({"pfl": "100 m"}, "pfl = '100 m': must be a list of numbers [n, step_m, z0 ... zn]"),
    ],
)
def test_reference_case_schema_errors_are_no_itm_codes(edit: dict[str, Any], error: str) -> None:
    # a wrong type is not an ITM condition: no ITM return code, an error naming the field
    case = next(c for c in _load(DATA / "itm_p2p_subset.jsonl") if c["expected"]["rtn"] < 1000)
    got = itm.reference_case({**case, **edit})
    assert got["error"] == error
    assert all(got[k] is None for k in itm.REFERENCE_KEYS)
    missing = {k: v for k, v in case.items() if k != "sigma"}
    assert itm.reference_case(missing)["error"] == "sigma: missing"


def test_reference_case_of_neither_mode() -> None:
    got = itm.reference_case({"id": "x", "h_tx_m": 10.0})
    assert got["rtn"] is None and got["error"].startswith("neither pfl")


def test_coerce_options_names_values_and_errors() -> None:
    got = itm.coerce_options(climate="desert", polarization=itm.Polarization.HORIZONTAL,
                             mdvar="broadcast", n0=np.float32(310.0), time_pct=90)  # fmt: skip
    assert got["climate"] == 4 and got["polarization"] == 0 and got["mdvar"] == 3
    assert got["n0"] == 310.0 and got["time_pct"] == 90.0 and type(got["time_pct"]) is float
    assert set(got) == {"climate", "n0", "polarization", "epsilon", "sigma", "mdvar",
                        "time_pct", "location_pct", "situation_pct"}  # fmt: skip
    for kw, code in (({"climate": "tropical"}, 1002), ({"polarization": 0.5}, 1010),
                     ({"mdvar": "sometimes"}, 1014)):  # fmt: skip
        with pytest.raises(ITMError) as info:
            itm.coerce_options(**kw)
        assert info.value.code == code
    with pytest.raises(ParameterError, match="sigma"):
        itm.coerce_options(sigma="wet")


def test_p2p_geometry_given_is_p2p_geometry_bit_for_bit() -> None:
    """The form the coverage engine calls with the sums it gathers while sampling a profile."""
    rng = np.random.default_rng(12)
    scratch = np.empty(_k.SCRATCH_LEN)
    g1 = np.empty(_k.G_LEN)
    g2 = np.empty(_k.G_LEN)
    for trial in range(300):
        n = int(rng.integers(1, 1500))
        e = np.round(rng.uniform(0, 900) + np.cumsum(rng.normal(0, rng.uniform(0, 25), n + 1)), 1)
        if trial % 7 == 0:
            e[:] = e[0]
        step = float(rng.uniform(20, 300))
        h1, h2 = float(rng.uniform(1, 100)), float(rng.uniform(1, 20))
        assert _k.p2p_geometry(e, 0, n, step, h1, h2, 301.0, scratch, g1)
        p10 = int(0.1 * n)
        total = 0.0
        for z in e[p10 : n - p10 + 1]:  # the order mean_path_height sums in
            total += float(z)
        _k.p2p_geometry_given(e, 0, n, step, h1, h2, 301.0, total / (n - 2 * p10 + 1),
                              float(e.min()), float(e.max()), scratch, g2)  # fmt: skip
        np.testing.assert_array_equal(g1, g2)
