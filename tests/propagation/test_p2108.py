"""ITU-R P.2108 against every row of the NTIA/ITS p2108 test data.

``tests/data/p2108/`` is an unchanged copy of ``../shared/p2108/`` (NTIA p2108-test-data,
public domain); when the shared folder is present the two are checked to be identical. The
reference values are rounded to 0.1 dB, so each computed value must round to within 0.05 dB
(plus 1e-9) of them. Rows with a non-zero ``rtn`` are invalid inputs: the function must refuse
them with a ParameterError that names the offending parameter.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from yalu.errors import ParameterError
from yalu.propagation import p2108
from yalu.propagation.p2108 import ClutterType

DATA = Path(__file__).parents[1] / "data" / "p2108"
SHARED = Path(__file__).parents[2] / ".." / "shared" / "p2108"
TOL_DB = 0.05 + 1e-9

HEIGHT_GAIN = "HeightGainTerminalCorrectionModelTestData.csv"
TERRESTRIAL = "TerrestrialStatisticalModelTestData.csv"
AERONAUTICAL = "AeronauticalStatisticalModelTestData.csv"

# NTIA return codes -> the parameter yalu must name
RTN_PARAM = {
    32: "frequency_mhz", 33: "antenna_height_m", 34: "street_width_m", 35: "clutter_height_m",
    48: "frequency_mhz", 49: "distance_km", 50: "location_pct",
    64: "frequency_mhz", 65: "elevation_deg", 66: "location_pct",
}  # fmt: skip


def _rows(name: str) -> list[dict[str, float]]:
    with (DATA / name).open(newline="") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def _ids(rows: list[dict[str, float]]) -> list[str]:
    return [",".join(f"{v:g}" for v in r.values()) for r in rows]


def test_local_copy_has_every_row() -> None:
    assert len(_rows(HEIGHT_GAIN)) == 23
    assert len(_rows(TERRESTRIAL)) == 12
    assert len(_rows(AERONAUTICAL)) == 13
    if SHARED.is_dir():
        for name in (HEIGHT_GAIN, TERRESTRIAL, AERONAUTICAL):
            assert (DATA / name).read_bytes() == (SHARED / name).read_bytes(), name


@pytest.mark.parametrize("row", _rows(HEIGHT_GAIN), ids=_ids(_rows(HEIGHT_GAIN)))
def test_height_gain_terminal_correction(row: dict[str, float]) -> None:
    def call() -> float:
        return float(
            p2108.height_gain_correction_db(
                row["f__ghz"] * 1000.0,
                row["h__meter"],
                int(row["clutter_type"]),
                clutter_height_m=row["R__meter"],
                street_width_m=row["w_s__meter"],
            )  # fmt: skip
        )

    if row["rtn"] != 0:
        with pytest.raises(ParameterError) as exc:
            call()
        assert exc.value.name == RTN_PARAM[int(row["rtn"])]
        return
    assert abs(call() - row["A_h__db"]) <= TOL_DB


@pytest.mark.parametrize("row", _rows(TERRESTRIAL), ids=_ids(_rows(TERRESTRIAL)))
def test_terrestrial_statistical_model(row: dict[str, float]) -> None:
    def call() -> float:
        return float(
            p2108.terrestrial_clutter_loss_db(row["f__ghz"] * 1000.0, row["d__km"], row["p"])
        )

    if row["rtn"] != 0:
        with pytest.raises(ParameterError) as exc:
            call()
        assert exc.value.name == RTN_PARAM[int(row["rtn"])]
        return
    assert abs(call() - row["L_ctt__db"]) <= TOL_DB


@pytest.mark.parametrize("row", _rows(AERONAUTICAL), ids=_ids(_rows(AERONAUTICAL)))
def test_aeronautical_statistical_model(row: dict[str, float]) -> None:
    def call() -> float:
        return float(
            p2108.aeronautical_clutter_loss_db(row["f__ghz"] * 1000.0, row["theta_deg"], row["p"])
        )

    if row["rtn"] != 0:
        with pytest.raises(ParameterError) as exc:
            call()
        assert exc.value.name == RTN_PARAM[int(row["rtn"])]
        return
    assert abs(call() - row["L_ces__db"]) <= TOL_DB


def test_vectorised_calls_match_row_by_row() -> None:
    rows = [r for r in _rows(TERRESTRIAL) if r["rtn"] == 0]
    f = np.array([r["f__ghz"] * 1000 for r in rows])
    d = np.array([r["d__km"] for r in rows])
    p = np.array([r["p"] for r in rows])
    vec = p2108.terrestrial_clutter_loss_db(f, d, p)
    one = [p2108.terrestrial_clutter_loss_db(a, b, c) for a, b, c in zip(f, d, p, strict=True)]
    np.testing.assert_array_equal(vec, one)
    rows = [r for r in _rows(HEIGHT_GAIN) if r["rtn"] == 0]
    vec = p2108.height_gain_correction_db(
        np.array([r["f__ghz"] * 1000 for r in rows]), np.array([r["h__meter"] for r in rows]),
        np.array([int(r["clutter_type"]) for r in rows]),
        np.array([r["R__meter"] for r in rows]), np.array([r["w_s__meter"] for r in rows]),
    )  # fmt: skip
    assert np.all(np.abs(vec - np.array([r["A_h__db"] for r in rows])) <= TOL_DB)


def test_terrestrial_loss_is_capped_at_its_2km_value() -> None:
    # P.2108-1 eq. (6): the loss at 10 km equals the loss at 2 km, below it it grows with d
    at_2 = p2108.terrestrial_clutter_loss_db(2000.0, 2.0)
    assert p2108.terrestrial_clutter_loss_db(2000.0, 10.0) == at_2
    assert p2108.terrestrial_clutter_loss_db(2000.0, 0.5) < at_2


def test_default_clutter_heights_and_names() -> None:
    # Table 3 default R, street width 27 m; at 2 m in dense urban (R = 20 m) the knife-edge
    # form (2a) gives, computed here by hand: h_dif 18, theta atan(18/27), nu = K_nu sqrt(...)
    f_ghz = 1.0
    theta = math.degrees(math.atan(18.0 / 27.0))
    nu = 0.342 * math.sqrt(f_ghz) * math.sqrt(18.0 * theta)
    j = 6.9 + 20 * math.log10(math.sqrt((nu - 0.1) ** 2 + 1) + nu - 0.1)
    got = p2108.height_gain_correction_db(1000.0, 2.0, "dense-urban")
    assert got == pytest.approx(j - 6.03, abs=1e-12)
    assert p2108.height_gain_correction_db(1000.0, 25.0, ClutterType.DENSE_URBAN) == 0.0


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"clutter_type": 7}, "clutter_type"),
        ({"clutter_type": "parking-lot"}, "clutter_type"),
        ({"clutter_type": 3, "antenna_height_m": math.nan}, "antenna_height_m"),
    ],
)
def test_bad_height_gain_inputs(kwargs: dict[str, object], name: str) -> None:
    args: dict[str, object] = {"frequency_mhz": 900.0, "antenna_height_m": 1.5}
    args.update(kwargs)
    with pytest.raises(ParameterError, match=name) as exc:
        p2108.height_gain_correction_db(**args)  # type: ignore[arg-type]
    assert exc.value.name == name


def test_map_corrections_are_pure_and_respect_masks() -> None:
    loss = np.array([[100.0, 110.0], [np.nan, 120.0]])
    codes = np.array([[0, 4], [4, 2]])
    out = p2108.apply_terminal_correction_db(loss, 900.0, 1.5, codes)
    assert loss[0, 1] == 110.0  # input untouched
    assert out[0, 0] == 100.0 and np.isnan(out[1, 0])
    assert out[0, 1] == pytest.approx(110.0 + p2108.height_gain_correction_db(900.0, 1.5, 4))
    assert out[1, 1] == pytest.approx(120.0 + p2108.height_gain_correction_db(900.0, 1.5, 2))
    d = np.array([[0.1, 0.5], [3.0, 3.0]])
    out = p2108.apply_terrestrial_clutter_loss_db(loss, 2000.0, d, 50.0)
    assert out[0, 0] == 100.0  # nearer than 0.25 km: unchanged
    assert out[1, 1] == pytest.approx(120.0 + p2108.terrestrial_clutter_loss_db(2000.0, 3.0))
    both = p2108.apply_terrestrial_clutter_loss_db(loss, 2000.0, d, 50.0, both_ends=True)
    assert both[0, 1] == 110.0  # both ends need d >= 1 km
    assert both[1, 1] == pytest.approx(120.0 + 2 * p2108.terrestrial_clutter_loss_db(2000.0, 3.0))
