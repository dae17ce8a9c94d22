"""ITU-R P.2109 building entry loss.

References
----------
Recommendation ITU-R P.2109-2 (08/2023), "Prediction of building entry loss", Annex 1, §3:

- eq. (1) L_BEL(P) = 10 log10(10^(0.1 A(P)) + 10^(0.1 B(P)) + 10^(0.1 C)) [dB];
- eq. (2) A(P) = F^-1(P) sigma_1 + mu_1, eq. (3) B(P) = F^-1(P) sigma_2 + mu_2, eq. (4) C = -3;
- eq. (5) mu_1 = L_h + L_e, eq. (6) mu_2 = w + x log10(f), eq. (7) sigma_1 = u + v log10(f),
  eq. (8) sigma_2 = y + z log10(f);
- eq. (9) L_h = r + s log10(f) + t (log10(f))^2, the median loss of horizontal paths;
- eq. (10) L_e = 0.212 |theta|, the correction for the elevation angle theta of the path at the
  facade [deg];
- Table 1: coefficients r..z for traditional and thermally-efficient buildings;
- f in GHz (about 0.08-100 GHz); P the probability that the loss is not exceeded (0 < P < 1);
  F^-1 the inverse cumulative standard normal distribution.

Thermally-efficient buildings (metallised glass, foil-backed panels) lose much more than
traditional ones, so the building type decides most of the indoor margin.
"""

from __future__ import annotations

import enum
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from yalu.errors import check_range, parse_choice

__all__ = [
    "BuildingType",
    "building_entry_loss_db",
    "building_entry_loss_mix_db",
    "apply_building_entry_loss_db",
]

_Arr = npt.NDArray[np.float64]


class BuildingType(enum.Enum):
    """Building classes of P.2109-2 Table 1."""

    TRADITIONAL = "traditional"
    THERMALLY_EFFICIENT = "thermally-efficient"


# P.2109-2 Table 1: r, s, t, u, v, w, x, y, z
_COEFFS: dict[BuildingType, tuple[float, ...]] = {
    BuildingType.TRADITIONAL: (12.64, 3.72, 0.96, 9.6, 2.0, 9.1, -3.0, 4.5, -2.0),
    BuildingType.THERMALLY_EFFICIENT: (28.19, -3.00, 8.48, 13.5, 3.8, 27.8, -2.9, 9.4, -2.1),
}


def _norm_ppf(prob: _Arr) -> _Arr:
    """F^-1: inverse cumulative standard normal, 0 < P < 1 (evaluated per unique value)."""
    nd = NormalDist()
    uniq, inv = np.unique(prob, return_inverse=True)
    vals = np.array([nd.inv_cdf(float(u)) for u in uniq.ravel()])
    return vals[inv].reshape(prob.shape)


def building_entry_loss_db(
    frequency_mhz: npt.ArrayLike,
    probability_pct: npt.ArrayLike = 50.0,
    building_type: BuildingType | str = BuildingType.TRADITIONAL,
    elevation_deg: npt.ArrayLike = 0.0,
) -> _Arr | float:
    """Building entry loss [dB] not exceeded with probability ``probability_pct``;
    ITU-R P.2109-2 Annex 1 §3, eqs. (1)-(10), Table 1.

    Parameters
    ----------
    frequency_mhz : array_like
        Frequency [MHz], 80-100000.
    probability_pct : array_like
        Probability that the loss is not exceeded [%], 0 < P < 100 (50: median building).
    building_type : BuildingType or str
        ``"traditional"`` or ``"thermally-efficient"``.
    elevation_deg : array_like
        Elevation angle of the path at the building facade [deg], -90 to 90 (0 for terrestrial
        paths).

    Returns
    -------
    ndarray or float
        L_BEL [dB], broadcast over the inputs.
    """
    btype = parse_choice(BuildingType, building_type, "building_type")
    f_mhz = np.asarray(frequency_mhz, dtype=float)
    p = np.asarray(probability_pct, dtype=float)
    th = np.asarray(elevation_deg, dtype=float)
    check_range("frequency_mhz", f_mhz, 80.0, 100000.0)
    check_range("probability_pct", p, 0.0, 100.0, lo_inclusive=False, hi_inclusive=False)
    check_range("elevation_deg", th, -90.0, 90.0)
    r, s, t, u, v, w, x, y, z = _COEFFS[btype]
    lf = np.log10(f_mhz / 1000.0)
    shape = np.broadcast_shapes(f_mhz.shape, p.shape, th.shape)
    f_inv = _norm_ppf(np.broadcast_to(p / 100.0, shape))
    l_h = r + s * lf + t * lf * lf  # (9)
    l_e = 0.212 * np.abs(th)  # (10)
    mu_1 = l_h + l_e  # (5)
    mu_2 = w + x * lf  # (6)
    sigma_1 = u + v * lf  # (7)
    sigma_2 = y + z * lf  # (8)
    a = f_inv * sigma_1 + mu_1  # (2)
    b = f_inv * sigma_2 + mu_2  # (3)
    c = -3.0  # (4)
    loss = 10.0 * np.log10(10.0 ** (0.1 * a) + 10.0 ** (0.1 * b) + 10.0 ** (0.1 * c))  # (1)
    return float(loss) if loss.ndim == 0 else loss


def building_entry_loss_mix_db(
    frequency_mhz: float,
    probability_pct: float = 50.0,
    thermally_efficient_share: float = 0.0,
    elevation_deg: float = 0.0,
) -> float:
    """Building entry loss [dB] not exceeded with probability ``probability_pct`` over a mix of
    buildings, a share ``thermally_efficient_share`` of them thermally efficient.

    P.2109 gives each class's loss distribution (eq. (1) at every P); over the mix the
    probability that the loss stays below x is ``(1 - s) P_trad(x) + s P_te(x)``. This returns
    the x where that equals ``probability_pct`` / 100, from both distributions tabulated on
    4001 probabilities (normal scores -7 to 7; accurate to about 0.01 dB).
    """
    check_range("thermally_efficient_share", thermally_efficient_share, 0.0, 1.0)
    check_range("probability_pct", probability_pct, 0.0, 100.0, lo_inclusive=False,
                hi_inclusive=False)  # fmt: skip
    share = float(thermally_efficient_share)
    if share == 0.0:
        return float(building_entry_loss_db(frequency_mhz, probability_pct, "traditional",
                                            elevation_deg))  # fmt: skip
    if share == 1.0:
        return float(building_entry_loss_db(frequency_mhz, probability_pct,
                                            "thermally-efficient", elevation_deg))  # fmt: skip
    nd = NormalDist()
    probs = np.array([nd.cdf(z) for z in np.linspace(-7.0, 7.0, 4001)])
    pct = probs * 100.0
    l_tr = np.asarray(building_entry_loss_db(frequency_mhz, pct, "traditional", elevation_deg))
    l_te = np.asarray(
        building_entry_loss_db(frequency_mhz, pct, "thermally-efficient", elevation_deg)
    )
    x = np.linspace(min(l_tr[0], l_te[0]), max(l_tr[-1], l_te[-1]), 20001)
    cdf = (1.0 - share) * np.interp(x, l_tr, probs) + share * np.interp(x, l_te, probs)
    return float(np.interp(probability_pct / 100.0, cdf, x))


def apply_building_entry_loss_db(
    loss_db: npt.ArrayLike,
    frequency_mhz: float,
    probability_pct: float = 50.0,
    building_type: BuildingType | str = BuildingType.TRADITIONAL,
    elevation_deg: npt.ArrayLike = 0.0,
) -> _Arr:
    """A path-loss map for an indoor handset: ``loss_db`` plus the P.2109 building entry loss.

    A pure function (``loss_db`` is not modified; NaN stays NaN). ``elevation_deg`` may be a
    map of the path elevation at the facade (0 for terrestrial paths).
    """
    loss = np.array(loss_db, dtype=float)
    bel = building_entry_loss_db(frequency_mhz, probability_pct, building_type, elevation_deg)
    return loss + bel
