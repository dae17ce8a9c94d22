"""ITU-R P.2109 building entry loss against published reference values and an independent
evaluation of the Recommendation's equations written here."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from yalu.errors import ChoiceError, ParameterError
from yalu.propagation import p2109
from yalu.propagation.p2109 import BuildingType

# Reference values of the ITU-R SG3 "Clutter and BEL" validation workbook (SG3 software, data
# and validation web page), as listed for P.2109 in its published validation set:
# (f GHz, theta deg, building class, P %) -> L_BEL dB, given to 0.001 dB.
WORKBOOK = [
    (28.0, 0.0, "traditional", 1e-5, -0.275),
    (28.0, 0.0, "traditional", 1.0, 2.769),
    (28.0, 0.0, "traditional", 10.0, 6.891),
    (28.0, 0.0, "traditional", 99.77001, 55.440),
    (28.0, 0.0, "thermally-efficient", 1e-5, -2.117),
    (28.0, 0.0, "thermally-efficient", 1.0, 9.369),
    (28.0, 0.0, "thermally-efficient", 10.0, 19.484),
    (28.0, 0.0, "thermally-efficient", 99.77001, 95.448),
    (2.0, 45.0, "traditional", 1e-5, -2.484),
    (2.0, 45.0, "traditional", 1.0, 3.508),
    (2.0, 45.0, "traditional", 10.0, 11.251),
    (2.0, 45.0, "traditional", 99.77001, 52.300),
    (2.0, 45.0, "thermally-efficient", 1e-5, -2.882),
    (2.0, 45.0, "thermally-efficient", 1.0, 8.605),
    (2.0, 45.0, "thermally-efficient", 10.0, 20.566),
    (2.0, 45.0, "thermally-efficient", 99.77001, 79.101),
]


@pytest.mark.parametrize(("f_ghz", "theta", "cls", "p", "ref"), WORKBOOK)
def test_itu_workbook_values(f_ghz: float, theta: float, cls: str, p: float, ref: float) -> None:
    got = p2109.building_entry_loss_db(f_ghz * 1000.0, p, cls, theta)
    assert abs(got - ref) <= 0.0005 + 1e-9


# P.2109-2 Table 1, typed in again for the independent evaluation below
TABLE1 = {
    "traditional": dict(r=12.64, s=3.72, t=0.96, u=9.6, v=2.0, w=9.1, x=-3.0, y=4.5, z=-2.0),
    "thermally-efficient": dict(
        r=28.19, s=-3.0, t=8.48, u=13.5, v=3.8, w=27.8, x=-2.9, y=9.4, z=-2.1
    ),
}


def _by_hand(f_ghz: float, p_pct: float, cls: str, theta: float) -> float:
    c = TABLE1[cls]
    lg = math.log10(f_ghz)
    z = float(norm.ppf(p_pct / 100.0))
    mu1 = c["r"] + c["s"] * lg + c["t"] * lg**2 + 0.212 * abs(theta)
    a = z * (c["u"] + c["v"] * lg) + mu1
    b = z * (c["y"] + c["z"] * lg) + c["w"] + c["x"] * lg
    # sum of three powers in mW-like linear units
    return 10 * math.log10(sum(10 ** (q / 10) for q in (a, b, -3.0)))


def test_matches_hand_evaluation_on_a_grid() -> None:
    for cls in TABLE1:
        for f_ghz in (0.08, 0.7, 1.8, 3.5, 26.0, 100.0):
            for p in (0.5, 10.0, 50.0, 90.0, 99.5):
                for theta in (-60.0, 0.0, 30.0):
                    got = p2109.building_entry_loss_db(f_ghz * 1000.0, p, cls, theta)
                    assert got == pytest.approx(_by_hand(f_ghz, p, cls, theta), abs=1e-9)


def test_median_horizontal_figures() -> None:
    # by hand at 1 GHz, P = 50 %, theta = 0: log f = 0, F^-1 = 0, so A = r, B = w:
    # traditional 10 log(10^1.264 + 10^0.91 + 10^-0.3) = 14.31 dB,
    # thermally efficient 10 log(10^2.819 + 10^2.78 + 10^-0.3) = 31.01 dB
    assert p2109.building_entry_loss_db(1000.0) == pytest.approx(14.31, abs=0.005)
    te = p2109.building_entry_loss_db(1000.0, 50.0, BuildingType.THERMALLY_EFFICIENT)
    assert te == pytest.approx(31.01, abs=0.005)


def test_vectorised_and_monotone_in_probability() -> None:
    p = np.linspace(1, 99, 50)
    loss = p2109.building_entry_loss_db(900.0, p)
    assert isinstance(loss, np.ndarray) and loss.shape == (50,)
    assert np.all(np.diff(loss) > 0)
    one = [p2109.building_entry_loss_db(900.0, q) for q in p]
    np.testing.assert_allclose(loss, one, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"frequency_mhz": 50.0}, "frequency_mhz"),
        ({"probability_pct": 0.0}, "probability_pct"),
        ({"probability_pct": 100.0}, "probability_pct"),
        ({"elevation_deg": 91.0}, "elevation_deg"),
        ({"frequency_mhz": math.nan}, "frequency_mhz"),
    ],
)
def test_bad_inputs(kwargs: dict[str, float], name: str) -> None:
    args = {"frequency_mhz": 900.0, "probability_pct": 50.0, "elevation_deg": 0.0}
    args.update(kwargs)
    with pytest.raises(ParameterError) as exc:
        p2109.building_entry_loss_db(**args)  # type: ignore[arg-type]
    assert exc.value.name == name


def test_unknown_building_type_lists_choices() -> None:
    with pytest.raises(ChoiceError, match="traditional, thermally-efficient"):
        p2109.building_entry_loss_db(900.0, 50.0, "igloo")


def test_map_function_is_pure() -> None:
    loss = np.array([100.0, np.nan, 130.0])
    out = p2109.apply_building_entry_loss_db(loss, 900.0, 50.0, "thermally-efficient")
    assert loss[0] == 100.0 and np.isnan(out[1])
    bel = p2109.building_entry_loss_db(900.0, 50.0, "thermally-efficient")
    np.testing.assert_allclose(out[[0, 2]], loss[[0, 2]] + bel)


def test_mix_of_building_types() -> None:
    from scipy.optimize import brentq

    f, p = 1800.0, 70.0
    tr = p2109.building_entry_loss_db(f, p, "traditional")
    te = p2109.building_entry_loss_db(f, p, "thermally-efficient")
    assert p2109.building_entry_loss_mix_db(f, p, 0.0) == tr
    assert p2109.building_entry_loss_mix_db(f, p, 1.0) == te
    mix = p2109.building_entry_loss_mix_db(f, p, 0.3)
    assert tr < mix < te

    # independently: the probability that each class's loss stays below x, by root finding
    def cdf(x: float, cls: str) -> float:
        return brentq(lambda q: _by_hand(f / 1000, q, cls, 0.0) - x, 1e-10, 100 - 1e-10) / 100

    got = 0.7 * cdf(mix, "traditional") + 0.3 * cdf(mix, "thermally-efficient")
    assert got == pytest.approx(p / 100, abs=2e-4)
