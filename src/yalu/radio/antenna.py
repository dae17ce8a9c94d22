"""Antenna patterns: omni, parametric 3GPP sector, Planet MSI files.

Every pattern gives the gain *relative to its maximum* [dB, <= 0] toward directions given as
an absolute azimuth (degrees clockwise from north) and an elevation angle (degrees above the
horizontal) seen from the antenna; the maximum gain in dBi is a separate number (the site's
``antenna_gain_dbi``, or the MSI file's ``GAIN``).

Sources
-------
- Sector: 3GPP TR 36.814 V9.2.0 Table A.2.1.1-2 (3-sector macro antenna):
  ``A_H(phi) = -min(12 (phi/phi_3dB)^2, A_m)``, ``A_V(theta) = -min(12 ((theta - theta_tilt) /
  theta_3dB)^2, SLA_v)``, ``A = -min(-(A_H + A_V), A_m)`` with phi_3dB = 70 deg, A_m = 25 dB,
  theta_3dB = 10 deg, SLA_v = 20 dB; TR 38.901 V16.1.0 Table 7.3-1 has the same form with
  phi_3dB = theta_3dB = 65 deg and A_max = SLA_V = 30 dB. yalu's defaults: 65 deg horizontal
  beamwidth (TR 36.942 §4.2.1, the common 65-deg panel), 25 dB front-to-back, 10 deg vertical
  beamwidth and 20 dB side-lobe level (TR 36.814).
- Mechanical tilt tilts the whole pattern: toward azimuth offset phi the boresight is depressed by
  ``tilt_m cos(phi)`` (the standard planar approximation); electrical tilt depresses it everywhere.
- MSI: Planet antenna file (keyword lines NAME, MAKE, FREQUENCY, GAIN [dBd|dBi], TILT, ... then
  ``HORIZONTAL n`` and ``VERTICAL n`` blocks of ``angle attenuation_dB`` lines). Horizontal angle
  0 is boresight, increasing clockwise seen from above; vertical angle 0 is the horizon ahead,
  increasing downward (90 = nadir, 180 = horizon behind). GAIN without a unit is in dBd
  (0 dBd = 2.15 dBi).
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field, model_validator

from yalu.errors import ParameterError
from yalu.radio._base import RadioModel

__all__ = [
    "DBD_TO_DBI",
    "MsiData",
    "MsiFormatError",
    "load_msi",
    "parse_msi",
    "OmniPattern",
    "SectorPattern",
    "MsiPattern",
    "AntennaPattern",
]

#: gain of a half-wave dipole over isotropic [dB]
DBD_TO_DBI = 2.15

_Arr = npt.NDArray[np.float64]


def _wrap180(a: _Arr) -> _Arr:
    return (a + 180.0) % 360.0 - 180.0


class MsiFormatError(ParameterError):
    """An MSI antenna file is malformed."""


@dataclass(frozen=True)
class MsiData:
    """Contents of a Planet MSI antenna file."""

    name: str
    frequency_mhz: float | None
    gain_dbi: float
    electrical_tilt_deg: float | None
    horizontal_deg: _Arr
    horizontal_att_db: _Arr
    vertical_deg: _Arr
    vertical_att_db: _Arr
    header: dict[str, str]

    @staticmethod
    def _interp(table_deg: _Arr, att_db: _Arr, angle_deg: _Arr) -> _Arr:
        a = np.mod(angle_deg, 360.0)
        xs = np.concatenate([table_deg, table_deg[:1] + 360.0])
        ys = np.concatenate([att_db, att_db[:1]])
        return np.interp(a, xs, ys)

    def horizontal_attenuation_db(self, angle_deg: npt.ArrayLike) -> _Arr:
        return self._interp(
            self.horizontal_deg, self.horizontal_att_db, np.asarray(angle_deg, float)
        )

    def vertical_attenuation_db(self, angle_deg: npt.ArrayLike) -> _Arr:
        return self._interp(self.vertical_deg, self.vertical_att_db, np.asarray(angle_deg, float))


def _fail(path: Path, line: int, field: str, value: Any, valid: str) -> MsiFormatError:
    return MsiFormatError(f"{path.name}:{line} {field}", value, valid)


def _read_block(
    path: Path, lines: list[str], start: int, field: str, count: int
) -> tuple[_Arr, _Arr, int]:
    angles: list[float] = []
    atts: list[float] = []
    i = start
    while len(angles) < count:
        if i >= len(lines):
            raise _fail(path, i, field, f"{len(angles)} points", f"{count} points as declared")
        text = lines[i].strip()
        i += 1
        if not text:
            continue
        parts = text.replace(",", " ").split()
        if parts[0].upper() in ("HORIZONTAL", "VERTICAL"):
            raise _fail(path, i, field, f"{len(angles)} points", f"{count} points as declared")
        if len(parts) != 2:
            raise _fail(path, i, field, text, "lines of 'angle attenuation_dB'")
        try:
            ang, att = float(parts[0]), float(parts[1])
        except ValueError:
            raise _fail(path, i, field, text, "two numbers 'angle attenuation_dB'") from None
        if not (math.isfinite(ang) and math.isfinite(att)) or not 0.0 <= ang < 360.0:
            raise _fail(path, i, field, text, "angle 0 to <360 deg and a finite attenuation")
        if att < 0.0:
            raise _fail(path, i, field, att, "an attenuation >= 0 dB below the maximum gain")
        angles.append(ang)
        atts.append(att)
    a = np.array(angles)
    order = np.argsort(a)
    if np.any(np.diff(a[order]) <= 0.0):
        raise _fail(path, start + 1, field, "repeated angle", "distinct angles")
    return a[order], np.array(atts)[order], i


def parse_msi(path: str | Path) -> MsiData:
    """Parse a Planet MSI antenna pattern file.

    Raises
    ------
    ParameterError
        ``msi_file`` for a missing or unreadable file.
    MsiFormatError (a ParameterError)
        missing GAIN/HORIZONTAL/VERTICAL, bad numbers, or a block whose number
        of points differs from the count declared on its ``HORIZONTAL n`` / ``VERTICAL n`` line.
        The error names the file, line and field.
    """
    p = Path(path)
    try:
        raw = p.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ParameterError("msi_file", str(p), "a readable MSI antenna file", str(exc)) from None
    lines = raw.splitlines()
    header: dict[str, str] = {}
    blocks: dict[str, tuple[_Arr, _Arr]] = {}
    i = 0
    while i < len(lines):
        text = lines[i].strip()
        i += 1
        if not text:
            continue
        key, _, rest = text.partition(" ")
        ukey = key.upper()
        if ukey in ("HORIZONTAL", "VERTICAL"):
            try:
                count = int(rest.split()[0])
            except (ValueError, IndexError):
                raise _fail(p, i, ukey, rest, "a point count, e.g. 'HORIZONTAL 360'") from None
            if count < 2:
                raise _fail(p, i, ukey, count, ">= 2 points")
            ang, att, i = _read_block(p, lines, i, ukey, count)
            blocks[ukey] = (ang, att)
        elif i == 1 and ukey != "NAME" and not re.fullmatch(r"[A-Z_]+", key):
            header["NAME"] = text  # some vendors omit the NAME token on the first line
        else:
            header[ukey] = rest.strip()
    for needed in ("HORIZONTAL", "VERTICAL"):
        if needed not in blocks:
            raise _fail(p, len(lines), needed, None, f"a '{needed} n' block")
    if "GAIN" not in header:
        raise _fail(p, len(lines), "GAIN", None, "a 'GAIN value [dBi|dBd]' line")
    m = re.fullmatch(r"([-+0-9.eE]+)\s*(dBi|dBd)?", header["GAIN"], flags=re.IGNORECASE)
    try:
        gain = float(m.group(1)) if m else float("nan")
    except ValueError:
        gain = float("nan")
    if not math.isfinite(gain):
        raise _fail(p, 0, "GAIN", header["GAIN"], "a number with optional unit dBi or dBd")
    unit = (m.group(2) or "dBd").lower() if m else "dbd"
    gain_dbi = gain + (DBD_TO_DBI if unit == "dbd" else 0.0)
    freq = _leading_float(header.get("FREQUENCY"))
    tilt = _leading_float(header.get("TILT")) if header.get("TILT") else None
    return MsiData(
        name=header.get("NAME", p.stem),
        frequency_mhz=freq,
        gain_dbi=gain_dbi,
        electrical_tilt_deg=tilt,
        horizontal_deg=blocks["HORIZONTAL"][0],
        horizontal_att_db=blocks["HORIZONTAL"][1],
        vertical_deg=blocks["VERTICAL"][0],
        vertical_att_db=blocks["VERTICAL"][1],
        header=header,
    )


def _leading_float(text: str | None) -> float | None:
    if not text:
        return None
    m = re.search(r"([-+]?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?\d+)?)", text)
    return float(m.group(1)) if m else None


@functools.lru_cache(maxsize=64)
def _load_msi(path: str, mtime_ns: int) -> MsiData:
    return parse_msi(path)


def load_msi(path: str | Path) -> MsiData:
    """:func:`parse_msi` cached by path and modification time."""
    p = Path(path)
    try:
        mtime = p.stat().st_mtime_ns
    except OSError as exc:
        raise ParameterError("msi_file", str(p), "an existing MSI antenna file", str(exc)) from None
    return _load_msi(str(p.resolve()), mtime)


class OmniPattern(RadioModel):
    """Omnidirectional antenna: 0 dB relative gain everywhere."""

    kind: Literal["omni"] = "omni"

    def gain_db(self, azimuth_deg: npt.ArrayLike, elevation_deg: npt.ArrayLike) -> _Arr:
        """Relative gain [dB] (all zeros, broadcast to the inputs)."""
        az, el = np.broadcast_arrays(
            np.asarray(azimuth_deg, float), np.asarray(elevation_deg, float)
        )
        return np.zeros(az.shape)


class SectorPattern(RadioModel):
    """Parametric 3GPP sector antenna (TR 36.814 Table A.2.1.1-2 form)."""

    kind: Literal["sector"] = "sector"
    azimuth_deg: float = Field(ge=0.0, lt=360.0)
    h_beamwidth_deg: float = Field(default=65.0, gt=0.0, le=360.0)
    front_to_back_db: float = Field(default=25.0, ge=0.0, le=80.0)
    v_beamwidth_deg: float = Field(default=10.0, gt=0.0, le=180.0)
    sidelobe_db: float = Field(default=20.0, ge=0.0, le=80.0)
    mechanical_tilt_deg: float = Field(default=0.0, ge=-90.0, le=90.0)
    electrical_tilt_deg: float = Field(default=0.0, ge=-90.0, le=90.0)

    def gain_db(self, azimuth_deg: npt.ArrayLike, elevation_deg: npt.ArrayLike) -> _Arr:
        """Relative gain [dB] toward absolute azimuth and elevation [deg] (inputs broadcast
        together; NaN in, NaN out).

        ``phi`` is the azimuth off boresight wrapped to [-180, 180), ``delta = -elevation`` the
        depression angle and ``tilt = electrical + mechanical cos(phi)``:
        ``A_H = -min(12 (phi / phi_3dB)^2, A_m)``, ``A_V = -min(12 ((delta - tilt) /
        theta_3dB)^2, SLA_v)``, ``A = -min(-(A_H + A_V), A_m)`` [3GPP TR 36.814 Table
        A.2.1.1-2], with ``A_m`` the front-to-back ratio. Compiled, one pass over the nodes
        (``radio._kernels.sector_gain_*``; 2 threads on large arrays, the same scalar code).
        """
        from yalu.radio._kernels import ELEMENT_CHUNK, sector_gain_parallel, sector_gain_serial

        az, el = np.broadcast_arrays(np.asarray(azimuth_deg, dtype=np.float64),
                                     np.asarray(elevation_deg, dtype=np.float64))  # fmt: skip
        out = np.empty(az.shape)
        kern = sector_gain_parallel if az.size > ELEMENT_CHUNK else sector_gain_serial
        kern(np.ascontiguousarray(az).reshape(-1), np.ascontiguousarray(el).reshape(-1),
             out.reshape(-1), float(self.azimuth_deg), float(self.h_beamwidth_deg),
             float(self.front_to_back_db), float(self.v_beamwidth_deg), float(self.sidelobe_db),
             float(self.mechanical_tilt_deg), float(self.electrical_tilt_deg))  # fmt: skip
        return out


class MsiPattern(RadioModel):
    """Pattern read from a Planet MSI file, pointed at ``azimuth_deg`` and mechanically tilted.

    Combination of the two cuts (summing, the usual 2x2D reconstruction): in front
    (|phi| <= 90 deg) ``A = A_H(phi) + A_V(delta)``; behind, ``A = A_H(phi) + A_V(180 - delta) -
    A_V(180)`` so that the front-to-back ratio of the horizontal cut is not counted twice;
    ``delta`` is the depression angle below the (mechanically tilted) antenna horizon.
    """

    kind: Literal["msi"] = "msi"
    path: Path
    azimuth_deg: float = Field(default=0.0, ge=0.0, lt=360.0)
    mechanical_tilt_deg: float = Field(default=0.0, ge=-90.0, le=90.0)

    @model_validator(mode="after")
    def _parse(self) -> MsiPattern:
        load_msi(self.path)
        return self

    @property
    def data(self) -> MsiData:
        return load_msi(self.path)

    @property
    def gain_dbi(self) -> float:
        """Maximum gain declared in the file [dBi]."""
        return self.data.gain_dbi

    def gain_db(self, azimuth_deg: npt.ArrayLike, elevation_deg: npt.ArrayLike) -> _Arr:
        """Relative gain [dB] toward absolute azimuth and elevation."""
        d = self.data
        phi = _wrap180(np.asarray(azimuth_deg, float) - self.azimuth_deg)
        delta = -np.asarray(elevation_deg, float) - self.mechanical_tilt_deg * np.cos(
            np.radians(phi)
        )
        a_h = d.horizontal_attenuation_db(phi)
        front = np.abs(phi) <= 90.0
        a_v_front = d.vertical_attenuation_db(delta)
        a_v_back = d.vertical_attenuation_db(180.0 - delta) - d.vertical_attenuation_db(180.0)
        a_v = np.where(front, a_v_front, np.maximum(a_v_back, 0.0))
        return np.asarray(-(a_h + a_v), dtype=float)


AntennaPattern = Annotated[OmniPattern | SectorPattern | MsiPattern, Field(discriminator="kind")]
