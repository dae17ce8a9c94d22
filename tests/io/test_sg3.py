"""Reader of ITU-R SG3 databank CSV path files: content of a real file, and bad files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from yalu.errors import InputError
from yalu.io import sg3

DATA = Path(__file__).parents[1] / "data" / "p1812" / "profiles"


def test_reads_a_validation_file() -> None:
    p = sg3.read_sg3_csv(DATA / "rburg_urban_with_clutter.csv")
    assert p.name == "rburg_urban_with_clutter.csv"
    assert p.first_point_tx
    assert p.delta_n == 45.0 and p.n0 == pytest.approx(323.947135)
    n = p.distance_km.shape[0]
    assert n > 900 and p.distance_km[0] == 0.0 and np.all(np.diff(p.distance_km) > 0)
    assert p.height_m[0] == 395.0 and p.distance_km[-1] == pytest.approx(96.2)
    assert set(np.unique(p.radio_met_code)) == {4.0}
    assert p.ground_cover_height_m[-2] == 25.0
    assert len(p.datasets) == 6
    ds = p.datasets[5]
    assert (ds.frequency_mhz, ds.h_tx_m, ds.h_rx_m, ds.polarization) == (6000.0, 12.0, 19.0, 1.0)
    assert ds.erp_max_total_dbw == 22.0 and ds.time_pct == 20.0
    assert ds.basic_loss_db == pytest.approx(225.95551055)


def test_trailing_commas_are_ignored(tmp_path: Path) -> None:
    # some databank files end profile rows with empty cells ("0,395,2,10,4,,,,")
    a = sg3.read_sg3_csv(DATA / "b2iseac_rural_land_1km.csv")
    text = (DATA / "b2iseac_rural_land_1km.csv").read_text().splitlines()
    i = text.index(next(t for t in text if t.startswith("Number of Points")))
    n = int(text[i].split(",")[1])
    text[i + 1 : i + 1 + n] = [t + ",,,,," for t in text[i + 1 : i + 1 + n]]
    f = tmp_path / "b.csv"
    f.write_text("\n".join(text) + "\n")
    b = sg3.read_sg3_csv(f)
    assert np.array_equal(a.height_m, b.height_m)
    assert np.array_equal(a.ground_cover_height_m, b.ground_cover_height_m)
    assert a.datasets == b.datasets


def write(tmp_path: Path, text: str) -> Path:
    f = tmp_path / "x.csv"
    f.write_text(text)
    return f


GOOD = (DATA / "b2iseac_rural_land_1km.csv").read_text()


@pytest.mark.parametrize(
    ("edit", "pattern"),
    [
        (lambda t: re.sub(r"Rx LAT:,[^\n]*", "Rx LAT:,", t), "'Rx LAT:' missing"),
        (
            lambda t: re.sub(r"Number of Points:,\d+", "Number of Points:,99", t),
            "Number of Points says 99",
        ),
        (lambda t: t.replace("\n0.2,", "\n0.2x,", 1), r"line \d+: profile value '0.2x'"),
        (lambda t: t.replace("{End of Profile}", ""), "never ended"),
        (lambda t: t.replace("First Point TX or RX:,T", "First Point TX or RX:,Q"), "T or R"),
        (lambda t: t[: t.index("{Begin of Measurements}")], "no datasets"),
        (lambda t: t.replace("Time percentage,", "Time pct,"), "lacks Time percentage"),
    ],
)
def test_bad_files_get_one_line_errors(tmp_path: Path, edit: Any, pattern: str) -> None:
    text = edit(GOOD)
    assert text != GOOD
    with pytest.raises(InputError, match=pattern) as err:
        sg3.read_sg3_csv(write(tmp_path, text))
    assert "\n" not in str(err.value) and "x.csv" in str(err.value)


def test_missing_and_oversized(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InputError, match="does not exist"):
        sg3.read_sg3_csv(tmp_path / "nope.csv")
    monkeypatch.setattr(sg3, "MAX_FILE_BYTES", 100)
    with pytest.raises(InputError, match="more than the 100 accepted"):
        sg3.read_sg3_csv(write(tmp_path, GOOD))
