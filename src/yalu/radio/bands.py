"""Technologies and 3GPP operating bands.

Sources
-------
- GSM: 3GPP TS 45.005 §2 "Frequency bands and channel arrangement" (E-GSM 900, DCS 1800, GSM 850,
  PCS 1900); 200 kHz carrier spacing.
- UMTS: 3GPP TS 25.101 Table 5.0 "UTRA FDD frequency bands"; 5 MHz nominal channel spacing (§5.4.1).
- LTE: 3GPP TS 36.101 Table 5.5-1 "E-UTRA operating bands".
- NR: 3GPP TS 38.101-1 Table 5.2-1 "NR operating bands in FR1".
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from yalu.errors import ChoiceError, ParameterError, parse_choice

__all__ = [
    "Technology",
    "Duplex",
    "Band",
    "BANDS",
    "get_band",
    "find_band",
    "resolve_carrier",
    "DEFAULT_BANDWIDTH_MHZ",
]


class Technology(enum.Enum):
    """Radio access technology."""

    GSM = "gsm"
    UMTS = "umts"
    LTE = "lte"
    NR = "nr"


class Duplex(enum.Enum):
    FDD = "fdd"
    TDD = "tdd"


@dataclass(frozen=True)
class Band:
    """One operating band: uplink and downlink ranges [MHz]."""

    technology: Technology
    name: str
    ul_low_mhz: float
    ul_high_mhz: float
    dl_low_mhz: float
    dl_high_mhz: float

    @property
    def duplex(self) -> Duplex:
        same = self.ul_low_mhz == self.dl_low_mhz and self.ul_high_mhz == self.dl_high_mhz
        return Duplex.TDD if same else Duplex.FDD

    @property
    def duplex_spacing_mhz(self) -> float:
        """DL minus UL frequency of a carrier pair (negative for reversed bands such as B20)."""
        return self.dl_low_mhz - self.ul_low_mhz

    @property
    def dl_centre_mhz(self) -> float:
        return 0.5 * (self.dl_low_mhz + self.dl_high_mhz)

    def contains_dl(self, frequency_mhz: float) -> bool:
        return self.dl_low_mhz <= frequency_mhz <= self.dl_high_mhz

    def contains_ul(self, frequency_mhz: float) -> bool:
        return self.ul_low_mhz <= frequency_mhz <= self.ul_high_mhz

    def ul_of_dl_mhz(self, dl_frequency_mhz: float) -> float:
        """Uplink frequency paired with a downlink frequency (same for TDD)."""
        return dl_frequency_mhz - self.duplex_spacing_mhz


def _b(tech: Technology, name: str, ul: tuple[float, float], dl: tuple[float, float]) -> Band:
    return Band(tech, name, ul[0], ul[1], dl[0], dl[1])


_G, _U, _L, _N = Technology.GSM, Technology.UMTS, Technology.LTE, Technology.NR
_TABLE = [
    # TS 45.005 §2
    _b(_G, "GSM900", (880, 915), (925, 960)),  # E-GSM 900 (P-GSM 890-915 / 935-960 inside)
    _b(_G, "DCS1800", (1710, 1785), (1805, 1880)),
    _b(_G, "GSM850", (824, 849), (869, 894)),
    _b(_G, "PCS1900", (1850, 1910), (1930, 1990)),
    # TS 25.101 Table 5.0
    _b(_U, "B1", (1920, 1980), (2110, 2170)),
    _b(_U, "B2", (1850, 1910), (1930, 1990)),
    _b(_U, "B5", (824, 849), (869, 894)),
    _b(_U, "B8", (880, 915), (925, 960)),
    # TS 36.101 Table 5.5-1
    _b(_L, "B1", (1920, 1980), (2110, 2170)),
    _b(_L, "B3", (1710, 1785), (1805, 1880)),
    _b(_L, "B5", (824, 849), (869, 894)),
    _b(_L, "B7", (2500, 2570), (2620, 2690)),
    _b(_L, "B8", (880, 915), (925, 960)),
    _b(_L, "B20", (832, 862), (791, 821)),
    _b(_L, "B28", (703, 748), (758, 803)),
    _b(_L, "B34", (2010, 2025), (2010, 2025)),
    _b(_L, "B38", (2570, 2620), (2570, 2620)),
    _b(_L, "B39", (1880, 1920), (1880, 1920)),
    _b(_L, "B40", (2300, 2400), (2300, 2400)),
    _b(_L, "B41", (2496, 2690), (2496, 2690)),
    # TS 38.101-1 Table 5.2-1
    _b(_N, "n1", (1920, 1980), (2110, 2170)),
    _b(_N, "n3", (1710, 1785), (1805, 1880)),
    _b(_N, "n8", (880, 915), (925, 960)),
    _b(_N, "n28", (703, 748), (758, 803)),
    _b(_N, "n34", (2010, 2025), (2010, 2025)),
    _b(_N, "n39", (1880, 1920), (1880, 1920)),
    _b(_N, "n40", (2300, 2400), (2300, 2400)),
    _b(_N, "n41", (2496, 2690), (2496, 2690)),
    _b(_N, "n77", (3300, 4200), (3300, 4200)),
    _b(_N, "n78", (3300, 3800), (3300, 3800)),
    _b(_N, "n79", (4400, 5000), (4400, 5000)),
]

#: bands by technology, keyed by canonical name
BANDS: dict[Technology, dict[str, Band]] = {t: {} for t in Technology}
for _band in _TABLE:
    BANDS[_band.technology][_band.name] = _band

_ALIASES = {"EGSM900": "GSM900", "E-GSM900": "GSM900", "GSM1800": "DCS1800", "GSM1900": "PCS1900"}

#: carrier bandwidth [MHz] when a site gives none: GSM 200 kHz carrier (TS 45.005 §2), UMTS 5 MHz
#: (TS 25.101 §5.4.1); LTE 20 MHz and NR 20 MHz are common deployments, not standard values.
DEFAULT_BANDWIDTH_MHZ: dict[Technology, float] = {_G: 0.2, _U: 5.0, _L: 20.0, _N: 20.0}


def _canonical(technology: Technology, band: str) -> str:
    key = re.sub(r"[\s_]+", "", str(band)).upper()
    key = re.sub(r"^BAND", "", key)
    key = _ALIASES.get(key, key)
    if technology in (_U, _L) and re.fullmatch(r"\d+", key):
        key = "B" + key
    if technology is _N:
        key = re.sub(r"^N", "", key)
        return "n" + key
    return key


def get_band(technology: Technology | str, band: str, name: str = "band") -> Band:
    """Look up a band by technology and name (``"B3"``, ``"3"``, ``"Band 3"``, ``"n78"``).

    Raises
    ------
    ChoiceError
        Naming ``name`` and listing the bands known for the technology.
    """
    tech = parse_choice(Technology, technology, "technology")
    table = BANDS[tech]
    found = table.get(_canonical(tech, band))
    if found is None:
        raise ChoiceError(name, band, list(table))
    return found


def find_band(technology: Technology | str, dl_frequency_mhz: float, name: str) -> Band:
    """The first band of ``technology`` whose downlink range holds the frequency."""
    tech = parse_choice(Technology, technology, "technology")
    for band in BANDS[tech].values():
        if band.contains_dl(float(dl_frequency_mhz)):
            return band
    ranges = ", ".join(f"{b.name} {b.dl_low_mhz:g}-{b.dl_high_mhz:g}" for b in BANDS[tech].values())
    raise ParameterError(
        name, dl_frequency_mhz, f"inside a {tech.name} downlink band [MHz]: {ranges}"
    )


def resolve_carrier(
    technology: Technology | str,
    band: str | None,
    dl_frequency_mhz: float | None,
    prefix: str = "",
    ul_frequency_mhz: float | None = None,
) -> tuple[Band, float, float]:
    """Band, DL and UL carrier frequency [MHz] of a carrier.

    The DL frequency defaults to the band centre; with no band, the band is found from the DL
    frequency. The UL frequency, unless given, follows from the duplex spacing (FDD) or equals DL
    (TDD); a given one must lie in the band's uplink range.

    Raises
    ------
    ParameterError, ChoiceError
        Unknown band or a DL/UL frequency outside the band (or outside every band), naming
        ``prefix + "band"``, ``prefix + "dl_frequency_mhz"`` or ``prefix + "ul_frequency_mhz"``.
    """
    if band is None and dl_frequency_mhz is None:
        raise ParameterError(prefix + "band", None, "a band name or a dl_frequency_mhz")
    if band is None:
        assert dl_frequency_mhz is not None
        b = find_band(technology, dl_frequency_mhz, prefix + "dl_frequency_mhz")
    else:
        b = get_band(technology, band, prefix + "band")
    f = b.dl_centre_mhz if dl_frequency_mhz is None else float(dl_frequency_mhz)
    if not b.contains_dl(f):
        raise ParameterError(
            prefix + "dl_frequency_mhz",
            dl_frequency_mhz,
            f"inside the {b.name} downlink range {b.dl_low_mhz:g} to {b.dl_high_mhz:g} MHz",
        )
    if ul_frequency_mhz is None:
        return b, f, b.ul_of_dl_mhz(f)
    ul = float(ul_frequency_mhz)
    if not b.contains_ul(ul):
        raise ParameterError(
            prefix + "ul_frequency_mhz",
            ul_frequency_mhz,
            f"inside the {b.name} uplink range {b.ul_low_mhz:g} to {b.ul_high_mhz:g} MHz",
        )
    return b, f, ul


def gsm_channel_plan_mhz(band: Band, index: int) -> float:
    """Downlink frequency [MHz] of the ``index``-th carrier of an ideal GSM frequency plan.

    Carriers take distinct 200 kHz channels (TS 45.005 §2: ARFCN spacing 200 kHz) from the bottom
    of the band, skipping the band-edge channel at each end, and wrap around when the band is
    full. Used for GSM carriers whose frequency a scenario does not give: the plan assumes no
    co-channel interference between them.
    """
    if index < 0:
        raise ParameterError("index", index, ">= 0")
    n_channels = int((band.dl_high_mhz - band.dl_low_mhz) / 0.2 - 2)
    return band.dl_low_mhz + 0.2 + 0.2 * (index % n_channels)
