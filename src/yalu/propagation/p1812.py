"""ITU-R P.1812-8: path-specific point-to-area prediction, 30 MHz to 6 GHz.

Written from Recommendation ITU-R P.1812-8 (09/2025), Annex 1 and its Attachments 1, 2 and 4;
sections and equations are cited as "§n" and "Eq (n)". Every step of Annex 1 is implemented:

- line of sight with multipath/focusing enhancements (§4.2, Eqs (8)-(11));
- diffraction by the delta-Bullington model: Bullington over the profile of terrain plus
  representative clutter heights, corrected by spherical-earth diffraction on a smooth path
  (§4.3, Eqs (12)-(43)), at the median and the beta0 effective earth radii;
- troposcatter (§4.4, Eqs (44)-(45));
- ducting and layer reflection (§4.5, Eqs (46)-(56));
- their combination into the loss not exceeded for p% time and 50% locations (§4.6,
  Eqs (57)-(63)), location variability (§4.7), the loss for p% time and pL% locations
  (Eq (69)) and the field strength for 1 kW e.r.p. (Eq (70)).

Terminal surroundings. P.1812-8 has no separate terminal clutter loss: clutter enters as the
representative clutter height R added to the terrain at every profile point except the two
terminals (§3.2.1; the terminal heights stay on the ground so that antennas are never buried), and
through the height of the receiver above its clutter in the location variability (§4.7). For
an additional statistical terminal clutter loss, ITU-R P.2108 is the companion Recommendation.
Building entry loss (§4.8, ITU-R P.2109) and the "terrain and surface data" variant of §3.2.2
(a digital surface model instead of terrain plus R) are not part of this module.

Radio-meteorology. ``delta_n`` (average refractivity lapse rate through the lowest 1 km,
N-units/km) and ``n0`` (sea-level surface refractivity, N-units) are the path-centre values of
the ITU-R digital maps DN50 and N050 that accompany the Recommendation. The ITU does not allow
them to be redistributed, so yalu neither ships nor downloads them: pass the values, or load a
copy you obtained from the ITU with :class:`RefractivityMaps`. Without them the defaults are
``delta_n = 45`` and ``n0 = 325``, typical of mid-latitude land (the ITU-R WP 3M validation paths
in Ireland, the UK and Germany use 45 and 324-326); for the Sino-Korean border region use the
maps' values where accuracy at low time percentages matters (``delta_n`` sets the median
effective earth radius, ``n0`` only the troposcatter term).

Inputs are validated by the public functions (one-line :class:`yalu.errors.ParameterError`
naming parameter, value and valid range); the per-profile work runs in numba kernels
(:mod:`yalu.propagation._p1812_kernels`), and :func:`basic_transmission_loss_batch` evaluates
many ragged profiles in one parallel call.

Accuracy: all 48 cases of the ITU-R WP 3M validation set (``tests/propagation/test_p1812.py``)
agree with the reference results, loss and every logged intermediate.
"""

from __future__ import annotations

import enum
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numba
import numpy as np
import numpy.typing as npt

from yalu.cpu import readonly
from yalu.errors import InputError, ParameterError, check_range, parse_choice
from yalu.propagation import _p1812_kernels as _k
from yalu.propagation._validity import warn_outside

__all__ = [
    "Zone",
    "Polarization",
    "SmoothPathMethod",
    "P1812Result",
    "P1812BatchResult",
    "RefractivityMaps",
    "basic_transmission_loss",
    "basic_transmission_loss_batch",
    "path_center_deg",
    "location_sigma_db",
    "field_strength_dbuv_m",
    "DEFAULT_DELTA_N",
    "DEFAULT_N0",
]

#: default average refractivity lapse rate [N-units/km] (see the module doc)
DEFAULT_DELTA_N = 45.0
#: default sea-level surface refractivity [N-units] (see the module doc)
DEFAULT_N0 = 325.0
_MEAN_EARTH_RADIUS_KM = 6371.0

_Arr = npt.NDArray[np.float64]


class Zone(enum.IntEnum):
    """Radio-climatic zone of a profile point (§3.3, Table 3), with the SG3 databank codes."""

    SEA = 1
    COASTAL_LAND = 3
    INLAND = 4


class Polarization(enum.IntEnum):
    """Polarization (the SG3 databank writes 1 horizontal, 2 vertical)."""

    HORIZONTAL = 0
    VERTICAL = 1


class SmoothPathMethod(enum.StrEnum):
    """How the smooth-path Bullington loss Lbulls of §4.3.4 is computed."""

    PROFILE = "profile"  #: §4.3.1 over the profile's points with zero heights
    ATTACHMENT_4 = "attachment-4"  #: the closed form of Attachment 4, no profile


# (field of the result, kernel index, description)
_FIELDS: tuple[tuple[str, int], ...] = (
    ("loss_db", _k.OUT_LB),
    ("field_strength_1kw_dbuv_m", _k.OUT_EP),
    ("lbfs_db", _k.OUT_LBFS),
    ("lb0p_db", _k.OUT_LB0P),
    ("lb0b_db", _k.OUT_LB0B),
    ("lbulla_db", _k.OUT_LBULLA),
    ("lbulls_db", _k.OUT_LBULLS),
    ("ldsph_db", _k.OUT_LDSPH),
    ("ld50_db", _k.OUT_LD50),
    ("ldb_db", _k.OUT_LDB),
    ("ldp_db", _k.OUT_LDP),
    ("lbd50_db", _k.OUT_LBD50),
    ("lbd_db", _k.OUT_LBD),
    ("lminb0p_db", _k.OUT_LMINB0P),
    ("lba_db", _k.OUT_LBA),
    ("lminbap_db", _k.OUT_LMINBAP),
    ("lbda_db", _k.OUT_LBDA),
    ("lbam_db", _k.OUT_LBAM),
    ("lbs_db", _k.OUT_LBS),
    ("lbc_db", _k.OUT_LBC),
    ("lloc_db", _k.OUT_LLOC),
    ("fi", _k.OUT_FI),
    ("fj", _k.OUT_FJ),
    ("fk", _k.OUT_FK),
    ("d_km", _k.OUT_D_KM),
    ("dlt_km", _k.OUT_DLT),
    ("dlr_km", _k.OUT_DLR),
    ("theta_t_mrad", _k.OUT_THETA_T),
    ("theta_r_mrad", _k.OUT_THETA_R),
    ("theta_mrad", _k.OUT_THETA),
    ("hts_m", _k.OUT_HTS),
    ("hrs_m", _k.OUT_HRS),
    ("hst_ls_m", _k.OUT_HST_LS),
    ("hsr_ls_m", _k.OUT_HSR_LS),
    ("hst_m", _k.OUT_HST),
    ("hsr_m", _k.OUT_HSR),
    ("hstd_m", _k.OUT_HSTD),
    ("hsrd_m", _k.OUT_HSRD),
    ("hts1_m", _k.OUT_HTS1),
    ("hrs1_m", _k.OUT_HRS1),
    ("hte_m", _k.OUT_HTE),
    ("hre_m", _k.OUT_HRE),
    ("hm_m", _k.OUT_HM),
    ("omega", _k.OUT_OMEGA),
    ("dtm_km", _k.OUT_DTM),
    ("dlm_km", _k.OUT_DLM),
    ("beta0_pct", _k.OUT_B0),
    ("ae_km", _k.OUT_AE),
    ("ab_km", _k.OUT_AB),
    ("path_center_lat_deg", _k.OUT_PHI),
)


@dataclass(frozen=True)
class P1812Result:
    """One P.1812-8 prediction with its intermediates (names follow the Recommendation).

    Attributes
    ----------
    loss_db : float
        Basic transmission loss Lb [dB] not exceeded for p% time and pL% locations, Eq (69).
    field_strength_1kw_dbuv_m : float
        Field strength Ep [dB(uV/m)] exceeded for p% time and pL% locations for 1 kW e.r.p.,
        Eq (70); scale with :func:`field_strength_dbuv_m` for another power.
    lbfs_db, lb0p_db, lb0b_db : float
        Free-space loss, Eq (8), and line-of-sight loss for p% and beta0% time, Eqs (10)-(11).
    lbulla_db, lbulls_db, ldsph_db : float
        Bullington loss of the actual and of the smooth path, and the spherical-earth loss,
        Eqs (21), (27), at the beta0 effective earth radius ``ab_km`` (as the ITU-R WP 3M
        validation logs report them).
    ld50_db, ldb_db, ldp_db : float
        Delta-Bullington diffraction loss for 50% time, beta0% time and p% time, Eqs (39), (41).
    lbd50_db, lbd_db : float
        Diffraction basic losses, Eqs (42)-(43).
    lminb0p_db, lba_db, lminbap_db, lbda_db, lbam_db, lbs_db, lbc_db : float
        Eqs (59), (46), (60), (61), (62), (44) and (63).
    lloc_db : float
        Location variability term of Eq (69) [dB] (0 for a receiver at sea).
    fi, fj, fk : float
        Interpolation factors, Eqs (40), (57), (58).
    d_km, dlt_km, dlr_km : float
        Path length and the horizon distances of transmitter and receiver [km].
    theta_t_mrad, theta_r_mrad, theta_mrad : float
        Horizon elevation angles and the path angular distance [mrad].
    hts_m, hrs_m : float
        Antenna heights above sea level [m].
    hst_ls_m, hsr_ls_m : float
        Least-squares smooth-earth heights at the terminals [m], Attachment 1 Eqs (87)-(88).
    hst_m, hsr_m : float
        The same limited to the terminals' ground heights, Eq (92).
    hstd_m, hsrd_m : float
        Smooth-surface heights for the diffraction model [m], Eqs (89)-(91).
    hts1_m, hrs1_m : float
        Antenna heights above the smooth path of §4.3.4 [m], Eq (37).
    hte_m, hre_m, hm_m : float
        Effective heights for ducting/layer reflection and the terrain roughness [m].
    omega : float
        Fraction of the path over sea.
    dtm_km, dlm_km : float
        Longest continuous land and inland sections [km] (§3.6).
    beta0_pct : float
        Time percentage of anomalous refractivity gradients, Eq (5).
    ae_km, ab_km : float
        Median and beta0 effective earth radii [km], Eq (7).
    path_center_lat_deg : float
        Path-centre latitude used [deg].
    transhorizon : bool
        Whether the terrain (without clutter) blocks the line of sight.
    """

    loss_db: float
    field_strength_1kw_dbuv_m: float
    lbfs_db: float
    lb0p_db: float
    lb0b_db: float
    lbulla_db: float
    lbulls_db: float
    ldsph_db: float
    ld50_db: float
    ldb_db: float
    ldp_db: float
    lbd50_db: float
    lbd_db: float
    lminb0p_db: float
    lba_db: float
    lminbap_db: float
    lbda_db: float
    lbam_db: float
    lbs_db: float
    lbc_db: float
    lloc_db: float
    fi: float
    fj: float
    fk: float
    d_km: float
    dlt_km: float
    dlr_km: float
    theta_t_mrad: float
    theta_r_mrad: float
    theta_mrad: float
    hts_m: float
    hrs_m: float
    hst_ls_m: float
    hsr_ls_m: float
    hst_m: float
    hsr_m: float
    hstd_m: float
    hsrd_m: float
    hts1_m: float
    hrs1_m: float
    hte_m: float
    hre_m: float
    hm_m: float
    omega: float
    dtm_km: float
    dlm_km: float
    beta0_pct: float
    ae_km: float
    ab_km: float
    path_center_lat_deg: float
    transhorizon: bool


@dataclass(frozen=True)
class P1812BatchResult:
    """Results of :func:`basic_transmission_loss_batch`: one row per profile.

    ``loss_db`` and ``field_strength_1kw_dbuv_m`` are arrays (N,); ``intermediates`` maps every
    other field name of :class:`P1812Result` to an array (N,).
    """

    loss_db: _Arr
    field_strength_1kw_dbuv_m: _Arr
    intermediates: dict[str, _Arr]

    def result(self, k: int) -> P1812Result:
        """The full :class:`P1812Result` of profile ``k``."""
        vals: dict[str, Any] = {
            "loss_db": float(self.loss_db[k]),
            "field_strength_1kw_dbuv_m": float(self.field_strength_1kw_dbuv_m[k]),
        }
        for name, arr in self.intermediates.items():
            vals[name] = bool(arr[k]) if name == "transhorizon" else float(arr[k])
        return P1812Result(**vals)


# ---------------------------------------------------------------------------------------------
# helpers


def field_strength_dbuv_m(loss_db: npt.ArrayLike, frequency_mhz: npt.ArrayLike,
                          erp_kw: npt.ArrayLike = 1.0) -> _Arr | float:  # fmt: skip
    """Field strength [dB(uV/m)] for a basic transmission loss, Eq (70), scaled to an e.r.p.

    ``Ep = 199.36 + 20 log10(f_GHz) - Lb + 10 log10(erp_kw)``.
    """
    f = np.asarray(frequency_mhz, dtype=float)
    check_range("frequency_mhz", f, 0.0, None, lo_inclusive=False)
    erp = np.asarray(erp_kw, dtype=float)
    check_range("erp_kw", erp, 0.0, None, lo_inclusive=False)
    out = 199.36 + 20.0 * np.log10(f / 1000.0) - np.asarray(loss_db, dtype=float)
    out = out + 10.0 * np.log10(erp)
    return float(out) if np.ndim(out) == 0 else out


def path_center_deg(
    tx_lat_deg: float, tx_lon_deg: float, rx_lat_deg: float, rx_lon_deg: float,
    distance_km: float | None = None,
) -> tuple[float, float]:  # fmt: skip
    """Latitude and longitude [deg] of the path centre on the great circle Tx -> Rx.

    The point lies ``distance_km / 2`` from the transmitter along the great circle on a sphere of
    radius 6371 km (the Recommendation's mean earth radius). ``distance_km`` defaults to the
    great-circle length; pass the profile length to place the centre as the profile does.
    """
    limits = (("tx_lat_deg", tx_lat_deg, 90.0), ("rx_lat_deg", rx_lat_deg, 90.0),
              ("tx_lon_deg", tx_lon_deg, 360.0), ("rx_lon_deg", rx_lon_deg, 360.0))  # fmt: skip
    for name, v, lim in limits:
        check_range(name, v, -lim, lim)
    p1, p2 = math.radians(tx_lat_deg), math.radians(rx_lat_deg)
    dlon = math.radians(rx_lon_deg - tx_lon_deg)
    cos_c = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dlon)
    central = math.acos(max(-1.0, min(1.0, cos_c)))
    if distance_km is None:
        distance_km = central * _MEAN_EARTH_RADIUS_KM
    check_range("distance_km", distance_km, 0.0, None)
    x = math.sin(p2) - cos_c * math.sin(p1)
    y = math.cos(p1) * math.cos(p2) * math.sin(dlon)
    bearing = 0.0 if abs(x) < 1e-12 and abs(y) < 1e-12 else math.atan2(y, x)
    delta = 0.5 * distance_km / _MEAN_EARTH_RADIUS_KM
    s = math.sin(p1) * math.cos(delta) + math.cos(p1) * math.sin(delta) * math.cos(bearing)
    lat = math.asin(max(-1.0, min(1.0, s)))
    lon = math.radians(tx_lon_deg) + math.atan2(
        math.sin(bearing) * math.sin(delta) * math.cos(p1), math.cos(delta) - math.sin(p1) * s
    )
    lon_deg = (math.degrees(lon) + 540.0) % 360.0 - 180.0
    return math.degrees(lat), lon_deg


def location_sigma_db(
    frequency_mhz: npt.ArrayLike, h_rx_m: npt.ArrayLike, clutter_height_m: npt.ArrayLike,
    resolution_m: npt.ArrayLike = 100.0,
) -> _Arr | float:  # fmt: skip
    """Standard deviation of the location variability [dB], §4.7.

    ``sigma_L = (0.52 + 0.024 f_GHz) * w_a^0.28 * u_h``, where ``w_a`` is the width of the square
    area the prediction stands for [m] and ``u_h`` is 1 for a receiver below its clutter height R,
    0 at R + 10 m and above, linear in between.
    """
    f = np.asarray(frequency_mhz, dtype=float)
    check_range("frequency_mhz", f, 30.0, 6000.0)
    h = np.asarray(h_rx_m, dtype=float)
    check_range("h_rx_m", h, 0.0, None)
    r = np.asarray(clutter_height_m, dtype=float)
    check_range("clutter_height_m", r, 0.0, None)
    wa = np.asarray(resolution_m, dtype=float)
    check_range("resolution_m", wa, 0.0, None, lo_inclusive=False)
    uh = np.clip(1.0 - (h - r) / 10.0, 0.0, 1.0)
    out = (0.52 + 0.024 * f / 1000.0) * wa**0.28 * uh
    return float(out) if np.ndim(out) == 0 else out


class RefractivityMaps:
    """The ITU-R digital maps DN50 (delta N, N-units/km) and N050 (N0, N-units), user supplied.

    The maps come with Recommendation ITU-R P.1812 as text files ``DN50.TXT`` and ``N050.TXT``:
    121 rows (latitude +90 to -90 deg) by 241 columns (longitude 0 to 360 deg), every 1.5 deg.
    They may not be redistributed without the ITU's permission, so yalu only reads a copy the
    user has. Values are interpolated bilinearly at the path centre.
    """

    N_LAT = 121
    N_LON = 241
    STEP_DEG = 1.5
    _MAX_BYTES = 4 * 1024 * 1024

    def __init__(self, delta_n: npt.ArrayLike, n0: npt.ArrayLike) -> None:
        self.delta_n = self._check(np.asarray(delta_n, dtype=float), "delta_n", 0.0, 157.0)
        self.n0 = self._check(np.asarray(n0, dtype=float), "n0", 150.0, 500.0)

    @classmethod
    def _check(cls, arr: _Arr, name: str, lo: float, hi: float) -> _Arr:
        if arr.shape != (cls.N_LAT, cls.N_LON):
            raise ParameterError(
                name, f"array of shape {arr.shape}", f"a ({cls.N_LAT}, {cls.N_LON}) grid"
            )
        bad = ~np.isfinite(arr) | (arr <= lo) | (arr >= hi)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise ParameterError(f"{name}[{i}, {j}]", float(arr[i, j]), f"in ({lo}, {hi})")
        return arr

    @classmethod
    def _read(cls, path: Path) -> _Arr:
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise InputError(f"refractivity map {path}: {exc.strerror or exc}") from None
        if size > cls._MAX_BYTES:
            raise InputError(f"refractivity map {path}: {size} bytes, more than a 1.5 deg grid")
        try:
            arr = np.loadtxt(path, dtype=float, ndmin=2)
        except ValueError as exc:
            raise InputError(f"refractivity map {path}: not a numeric grid ({exc})") from None
        return arr

    @classmethod
    def from_files(cls, dn50_path: str | os.PathLike[str],
                   n050_path: str | os.PathLike[str]) -> RefractivityMaps:  # fmt: skip
        """Read the two maps from their text files."""
        dn, n0 = cls._read(Path(dn50_path)), cls._read(Path(n050_path))
        try:
            return cls(dn, n0)
        except ParameterError as exc:
            raise InputError(f"refractivity maps {dn50_path}, {n050_path}: {exc}") from None

    @classmethod
    def from_directory(cls, directory: str | os.PathLike[str]) -> RefractivityMaps:
        """Read ``DN50.TXT`` and ``N050.TXT`` (any letter case) from ``directory``."""
        d = Path(directory)
        if not d.is_dir():
            raise InputError(f"refractivity map directory {d} does not exist")
        found: dict[str, Path] = {}
        for p in d.iterdir():
            found[p.name.upper()] = p
        missing = [n for n in ("DN50.TXT", "N050.TXT") if n not in found]
        if missing:
            raise InputError(f"refractivity map directory {d}: missing {', '.join(missing)}")
        return cls.from_files(found["DN50.TXT"], found["N050.TXT"])

    def _interp(self, grid: _Arr, lat_deg: float, lon_deg: float) -> float:
        check_range("lat_deg", lat_deg, -90.0, 90.0)
        check_range("lon_deg", lon_deg, -360.0, 360.0)
        y = (90.0 - lat_deg) / self.STEP_DEG
        x = (lon_deg % 360.0) / self.STEP_DEG
        i = min(int(math.floor(y)), self.N_LAT - 2)
        j = min(int(math.floor(x)), self.N_LON - 2)
        fy, fx = y - i, x - j
        top = grid[i, j] + fx * (grid[i, j + 1] - grid[i, j])
        bottom = grid[i + 1, j] + fx * (grid[i + 1, j + 1] - grid[i + 1, j])
        return float(top + fy * (bottom - top))

    def at(self, lat_deg: float, lon_deg: float) -> tuple[float, float]:
        """(delta_n [N-units/km], n0 [N-units]) at a point (the path centre)."""
        return self._interp(self.delta_n, lat_deg, lon_deg), self._interp(self.n0, lat_deg, lon_deg)


# ---------------------------------------------------------------------------------------------
# validation


def _per_profile(value: Any, n: int, name: str, dtype: type = np.float64) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiub":
        raise ParameterError(name, value, "real numbers, scalar or one per profile")
    try:
        return np.ascontiguousarray(np.broadcast_to(arr.astype(dtype), (n,)))
    except ValueError:
        raise ParameterError(name, f"shape {arr.shape}", f"a scalar or shape ({n},)") from None


def _check_each(name: str, arr: np.ndarray, lo: float, hi: float | None,
                lo_inclusive: bool = True, hi_inclusive: bool = True,
                batch: bool = False) -> None:  # fmt: skip
    ok = np.isfinite(arr)
    ok &= (arr >= lo) if lo_inclusive else (arr > lo)
    if hi is not None:
        ok &= (arr <= hi) if hi_inclusive else (arr < hi)
    if not ok.all():
        k = int(np.argmin(ok))
        label = f"{name}[{k}]" if batch else name
        if hi is None:
            valid = f"{'>=' if lo_inclusive else '>'} {lo:g}"
        else:
            valid = f"{'[' if lo_inclusive else '('}{lo:g}, {hi:g}{']' if hi_inclusive else ')'}"
        raise ParameterError(label, float(arr[k]), valid)


def _polarization_code(value: Any) -> int:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value in (0, 1):
        return int(value)
    return int(parse_choice(Polarization, value, "polarization"))


def _check_profiles(d: _Arr, h: _Arr, r: _Arr, zone: np.ndarray, offs: np.ndarray,
                    batch: bool) -> None:  # fmt: skip
    code, k, i = _k.check_profiles(d, h, r, zone, offs)
    if code == _k.BAD_NONE:
        return
    where = f"[{k}][{i}]" if batch else f"[{i}]"
    j = int(offs[k]) + i
    zones = "1 (sea), 3 (coastal land) or 4 (inland)"
    if code == _k.BAD_FEW_POINTS:
        label = f"profile {k}" if batch else "distance_km"
        raise ParameterError(label, f"{i} points", "at least 3 points")
    if code == _k.BAD_DISTANCE:
        raise ParameterError("distance_km" + where, float(d[j]), "finite")
    if code == _k.BAD_HEIGHT:
        raise ParameterError("height_m" + where, float(h[j]), "finite (no voids)")
    if code == _k.BAD_CLUTTER:
        raise ParameterError("clutter_height_m" + where, float(r[j]), ">= 0")
    if code == _k.BAD_ZONE:
        raise ParameterError("zone" + where, int(zone[j]), zones)
    if code == _k.BAD_FIRST:
        raise ParameterError("distance_km" + where, float(d[j]),
                             "0 at the first point (the transmitter)")  # fmt: skip
    raise ParameterError("distance_km" + where, float(d[j]),
                         f"> {float(d[j - 1]):g} (strictly increasing)")  # fmt: skip


def _run(
    d: _Arr, h: _Arr, r: _Arr, zone: np.ndarray, offs: np.ndarray, n_prof: int, *,
    frequency_mhz: Any, time_pct: Any, h_tx_m: Any, h_rx_m: Any, path_center_lat_deg: Any,
    polarization: Any, delta_n: Any, n0: Any, dct_km: Any, dcr_km: Any, location_pct: Any,
    location_sigma_db: Any, smooth_path: Any, threads: int | None, batch: bool,
) -> np.ndarray:  # fmt: skip
    _check_profiles(d, h, r, zone, offs, batch)
    f_mhz = _per_profile(frequency_mhz, n_prof, "frequency_mhz")
    _check_each("frequency_mhz", f_mhz, 30.0, 6000.0, batch=batch)
    p = _per_profile(time_pct, n_prof, "time_pct")
    _check_each("time_pct", p, 1.0, 50.0, batch=batch)
    htg = _per_profile(h_tx_m, n_prof, "h_tx_m")
    _check_each("h_tx_m", htg, 1.0, 3000.0, batch=batch)
    hrg = _per_profile(h_rx_m, n_prof, "h_rx_m")
    _check_each("h_rx_m", hrg, 1.0, 3000.0, batch=batch)
    phi = _per_profile(path_center_lat_deg, n_prof, "path_center_lat_deg")
    _check_each("path_center_lat_deg", phi, -90.0, 90.0, batch=batch)
    dn = _per_profile(delta_n, n_prof, "delta_n")
    _check_each("delta_n", dn, 0.0, 157.0, lo_inclusive=False, hi_inclusive=False, batch=batch)
    nz = _per_profile(n0, n_prof, "n0")
    _check_each("n0", nz, 150.0, 500.0, batch=batch)
    dct = _per_profile(dct_km, n_prof, "dct_km")
    _check_each("dct_km", dct, 0.0, None, batch=batch)
    dcr = _per_profile(dcr_km, n_prof, "dcr_km")
    _check_each("dcr_km", dcr, 0.0, None, batch=batch)
    pl = _per_profile(location_pct, n_prof, "location_pct")
    _check_each("location_pct", pl, 1.0, 99.0, batch=batch)
    sl = _per_profile(location_sigma_db, n_prof, "location_sigma_db")
    _check_each("location_sigma_db", sl, 0.0, None, batch=batch)
    if batch:
        pols = np.asarray(polarization)
        if pols.ndim == 0:
            vert = np.full(n_prof, _polarization_code(pols.item()), dtype=np.int64)
        elif pols.dtype.kind in "iu" and pols.shape == (n_prof,) and np.isin(pols, (0, 1)).all():
            vert = np.ascontiguousarray(pols, dtype=np.int64)
        else:
            vert = np.array([_polarization_code(v) for v in pols.tolist()], dtype=np.int64)
            if vert.shape != (n_prof,):
                raise ParameterError(
                    "polarization", f"shape {pols.shape}", f"scalar or ({n_prof},)"
                )
    else:
        vert = np.full(n_prof, _polarization_code(polarization), dtype=np.int64)
    method = parse_choice(SmoothPathMethod, smooth_path, "smooth_path")
    lengths = d[offs[1:] - 1]
    warn_outside("P.1812", "path length", lengths, 0.25, 3000.0, " km")

    out = np.empty((n_prof, _k.OUT_LEN))
    previous = numba.get_num_threads()
    if threads is not None:
        max_threads = int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
        if not isinstance(threads, (int, np.integer)) or not 1 <= threads <= max_threads:
            raise ParameterError("threads", threads, f"an integer 1 to {max_threads}")
        numba.set_num_threads(int(threads))
    try:
        # read-only views of every input: one compiled signature whatever the caller passed
        d, h, r, zone, offs, vert, phi, dn, nz, dct, dcr, pl, sl = (
            readonly(a) for a in (d, h, r, zone, offs, vert, phi, dn, nz, dct, dcr, pl, sl)
        )
        _k.p1812_batch_kernel(
            d, h, r, zone, offs, f_mhz / 1000.0, p, htg, hrg, vert, phi, dn, nz, dct, dcr, pl,
            sl, 1 if method is SmoothPathMethod.ATTACHMENT_4 else 0, out,
        )  # fmt: skip
    finally:
        if threads is not None:
            numba.set_num_threads(previous)
    return out


def _as_profile_array(value: Any, n: int, name: str, default: float | None) -> _Arr:
    if value is None:
        if default is None:
            raise ParameterError(name, None, "an array")
        return np.full(n, default)
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiub":
        raise ParameterError(name, value, "real numbers")
    arr = arr.astype(np.float64)
    if arr.ndim == 0:
        return np.full(n, float(arr))
    if arr.shape != (n,):
        raise ParameterError(name, f"shape {arr.shape}", f"shape ({n},) like distance_km")
    return np.ascontiguousarray(arr)


def _as_zone_array(value: Any, n: int) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr) & (arr == np.round(arr))):
            bad = arr[~(np.isfinite(arr) & (arr == np.round(arr)))].flat[0]
            raise ParameterError("zone", float(bad), "1 (sea), 3 (coastal land) or 4 (inland)")
    elif arr.dtype.kind not in "iub":
        raise ParameterError("zone", value, "1 (sea), 3 (coastal land) or 4 (inland)")
    arr = arr.astype(np.int64)
    if arr.ndim == 0:
        return np.full(n, int(arr), dtype=np.int64)
    if arr.shape != (n,):
        raise ParameterError("zone", f"shape {arr.shape}", f"shape ({n},) like distance_km")
    return np.ascontiguousarray(arr)


def _result_from_row(row: np.ndarray) -> P1812Result:
    vals: dict[str, Any] = {name: float(row[i]) for name, i in _FIELDS}
    vals["transhorizon"] = bool(row[_k.OUT_TRANSHORIZON] != 0.0)
    return P1812Result(**vals)


# ---------------------------------------------------------------------------------------------
# public API


def basic_transmission_loss(
    distance_km: npt.ArrayLike,
    height_m: npt.ArrayLike,
    *,
    frequency_mhz: float,
    time_pct: float,
    h_tx_m: float,
    h_rx_m: float,
    path_center_lat_deg: float,
    clutter_height_m: npt.ArrayLike | None = None,
    zone: npt.ArrayLike | Zone = Zone.INLAND,
    polarization: Polarization | int | str = Polarization.HORIZONTAL,
    delta_n: float = DEFAULT_DELTA_N,
    n0: float = DEFAULT_N0,
    dct_km: float = 500.0,
    dcr_km: float = 500.0,
    location_pct: float = 50.0,
    location_sigma_db: float = 0.0,
    smooth_path: SmoothPathMethod | str = SmoothPathMethod.PROFILE,
) -> P1812Result:
    """ITU-R P.1812-8 basic transmission loss over one path profile (Annex 1).

    Parameters
    ----------
    distance_km : array_like
        Distance of each profile point from the transmitter [km]: first 0, strictly increasing,
        at least 3 points (the Recommendation's profile d_i, §3.2).
    height_m : array_like
        Terrain height above sea level at each point [m] (h_i), finite.
    frequency_mhz : float
        Frequency [MHz], 30 to 6000.
    time_pct : float
        Percentage of an average year for which the loss is not exceeded [%], 1 to 50.
    h_tx_m, h_rx_m : float
        Antenna heights above ground [m], 1 to 3000 (htg, hrg).
    path_center_lat_deg : float
        Latitude of the path centre [deg] (phi in Eq (4)); :func:`path_center_deg` computes it.
    clutter_height_m : array_like or float, optional
        Representative clutter height R_i at each point [m] (§3.2.1), >= 0; default 0 (open
        ground). Added to the terrain at every point except the two terminals.
    zone : array_like or Zone
        Radio-climatic zone of each point (§3.3): 1 sea, 3 coastal land, 4 inland; default
        inland everywhere.
    polarization : Polarization, int or str
        0/"horizontal" or 1/"vertical".
    delta_n : float
        Average refractivity lapse rate through the lowest 1 km [N-units/km], in (0, 157); the
        path-centre value of the DN50 map (see the module doc for the default).
    n0 : float
        Sea-level surface refractivity [N-units], 150 to 500; the path-centre N050 value.
    dct_km, dcr_km : float
        Distance over land from the transmitter/receiver to the coast [km], >= 0 (§3.4); the
        kernel uses 0 for a terminal on a sea point. Default 500 (inland).
    location_pct : float
        Percentage of locations for which the loss is not exceeded [%], 1 to 99.
    location_sigma_db : float
        Standard deviation of the location variability [dB], >= 0 (§4.7; see
        :func:`location_sigma_db`). Irrelevant at 50% locations.
    smooth_path : {"profile", "attachment-4"}
        How Lbulls of §4.3.4 is computed.

    Returns
    -------
    P1812Result
        ``loss_db`` (Lb, Eq (69)), ``field_strength_1kw_dbuv_m`` (Ep, Eq (70)) and the
        intermediates.

    Raises
    ------
    yalu.errors.ParameterError
        Naming the parameter (and the profile point) with the value and the valid range.

    Examples
    --------
    >>> import numpy as np
    >>> d = np.linspace(0.0, 5.0, 51)
    >>> r = basic_transmission_loss(d, np.zeros(51), frequency_mhz=900.0, time_pct=50.0,
    ...                             h_tx_m=30.0, h_rx_m=10.0, path_center_lat_deg=40.0)
    >>> round(r.loss_db - r.lbfs_db, 2)  # a clear short path: free space
    0.0
    """
    d = np.ascontiguousarray(distance_km, dtype=np.float64)
    if d.ndim != 1:
        raise ParameterError("distance_km", f"array of shape {d.shape}", "a 1-D array")
    n = d.shape[0]
    h = _as_profile_array(height_m, n, "height_m", None)
    r = _as_profile_array(clutter_height_m, n, "clutter_height_m", 0.0)
    z = _as_zone_array(zone, n)
    offs = np.array([0, n], dtype=np.int64)
    out = _run(
        d, h, r, z, offs, 1, frequency_mhz=frequency_mhz, time_pct=time_pct, h_tx_m=h_tx_m,
        h_rx_m=h_rx_m, path_center_lat_deg=path_center_lat_deg, polarization=polarization,
        delta_n=delta_n, n0=n0, dct_km=dct_km, dcr_km=dcr_km, location_pct=location_pct,
        location_sigma_db=location_sigma_db, smooth_path=smooth_path, threads=1, batch=False,
    )  # fmt: skip
    return _result_from_row(out[0])


def basic_transmission_loss_batch(
    distance_km: npt.ArrayLike,
    height_m: npt.ArrayLike,
    offsets: npt.ArrayLike,
    *,
    frequency_mhz: npt.ArrayLike,
    time_pct: npt.ArrayLike,
    h_tx_m: npt.ArrayLike,
    h_rx_m: npt.ArrayLike,
    path_center_lat_deg: npt.ArrayLike,
    clutter_height_m: npt.ArrayLike | None = None,
    zone: npt.ArrayLike = Zone.INLAND,
    polarization: Any = Polarization.HORIZONTAL,
    delta_n: npt.ArrayLike = DEFAULT_DELTA_N,
    n0: npt.ArrayLike = DEFAULT_N0,
    dct_km: npt.ArrayLike = 500.0,
    dcr_km: npt.ArrayLike = 500.0,
    location_pct: npt.ArrayLike = 50.0,
    location_sigma_db: npt.ArrayLike = 0.0,
    smooth_path: SmoothPathMethod | str = SmoothPathMethod.PROFILE,
    threads: int | None = None,
) -> P1812BatchResult:
    """P.1812-8 over many profiles of different lengths in one parallel numba call.

    Parameters
    ----------
    distance_km, height_m : array_like
        All profiles concatenated (1-D, same length); profile k is the slice
        ``[offsets[k], offsets[k + 1])``, each as in :func:`basic_transmission_loss`.
    offsets : array_like of int
        Length N + 1, non-decreasing, from 0 to ``len(distance_km)``.
    clutter_height_m, zone : array_like, optional
        Per point, concatenated like ``distance_km`` (or a scalar for all points).
    frequency_mhz, time_pct, h_tx_m, h_rx_m, path_center_lat_deg, delta_n, n0, dct_km, dcr_km,
    location_pct, location_sigma_db, polarization : scalar or array_like (N,)
        Per profile, as in :func:`basic_transmission_loss`.
    threads : int, optional
        Number of numba threads for this call.

    Returns
    -------
    P1812BatchResult

    Raises
    ------
    yalu.errors.ParameterError
        For any invalid input, naming the profile (``time_pct[3]``, ``height_m[2][17]``).
    """
    d = np.ascontiguousarray(distance_km, dtype=np.float64)
    if d.ndim != 1:
        raise ParameterError("distance_km", f"array of shape {d.shape}", "a 1-D array")
    n = d.shape[0]
    offs_in = np.asarray(offsets)
    if offs_in.ndim != 1 or offs_in.shape[0] < 2 or offs_in.dtype.kind not in "iu":
        raise ParameterError("offsets", f"shape {offs_in.shape}, dtype {offs_in.dtype}",
                             "1-D ints of length N + 1 >= 2")  # fmt: skip
    offs = np.ascontiguousarray(offs_in, dtype=np.int64)
    if offs[0] != 0 or offs[-1] != n or np.any(np.diff(offs) < 0):
        raise ParameterError("offsets", f"[{offs[0]} .. {offs[-1]}]",
                             f"non-decreasing from 0 to {n}")  # fmt: skip
    h = _as_profile_array(height_m, n, "height_m", None)
    r = _as_profile_array(clutter_height_m, n, "clutter_height_m", 0.0)
    z = _as_zone_array(zone, n)
    n_prof = offs.shape[0] - 1
    out = _run(
        d, h, r, z, offs, n_prof, frequency_mhz=frequency_mhz, time_pct=time_pct,
        h_tx_m=h_tx_m, h_rx_m=h_rx_m, path_center_lat_deg=path_center_lat_deg,
        polarization=polarization, delta_n=delta_n, n0=n0, dct_km=dct_km, dcr_km=dcr_km,
        location_pct=location_pct, location_sigma_db=location_sigma_db,
        smooth_path=smooth_path, threads=threads, batch=True,
    )  # fmt: skip
    inter = {name: out[:, i].copy() for name, i in _FIELDS[2:]}
    inter["transhorizon"] = out[:, _k.OUT_TRANSHORIZON] != 0.0
    return P1812BatchResult(
        loss_db=out[:, _k.OUT_LB].copy(),
        field_strength_1kw_dbuv_m=out[:, _k.OUT_EP].copy(),
        intermediates=inter,
    )
