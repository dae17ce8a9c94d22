"""Radio model objects: sites, handsets, technology profiles, jammers.

All objects are frozen pydantic v2 models (reused directly by the scenario file layer). Built
directly, invalid values raise :class:`yalu.errors.ParameterError` naming the field; nested in
another pydantic model they raise pydantic's ``ValidationError`` as usual.

Every default below carries its source. "Planning value" marks a typical radio-planning number
(not from a specification) that a scenario should override with its own knowledge.
"""

from __future__ import annotations

import enum
import math
from typing import Any

import numpy as np
from pydantic import Field, PrivateAttr, field_validator, model_validator

from yalu.errors import ParameterError, parse_choice
from yalu.propagation.free_space import SPEED_OF_LIGHT_M_S
from yalu.radio._base import RadioModel
from yalu.radio.antenna import AntennaPattern, MsiPattern, OmniPattern, SectorPattern
from yalu.radio.bands import DEFAULT_BANDWIDTH_MHZ, Band, Technology, resolve_carrier

__all__ = [
    "Service",
    "Site",
    "Handset",
    "ServiceThresholds",
    "TechnologyProfile",
    "Jammer",
    "default_technology_profile",
    "default_technology_profiles",
    "service_level_table",
    "THRESHOLD_SOURCES",
    "gsm_max_range_m",
    "prach_max_range_m",
    "resource_blocks",
    "reference_signal_offset_db",
    "noise_bandwidth_mhz",
]

_G, _U, _L, _N = Technology.GSM, Technology.UMTS, Technology.LTE, Technology.NR


class Service(enum.IntEnum):
    """Service levels, ordered: a level needs every lower level to be available too.

    The one vocabulary of service levels: rasters store the integer, summaries use :attr:`key`,
    maps and reports :attr:`label`.

    >>> [s.key for s in Service if s]
    ['sms', 'voice', 'data']
    """

    NONE = 0
    SMS = 1
    VOICE = 2
    DATA = 3

    @property
    def key(self) -> str:
        """Lower-case name used in summaries (``"none"``, ``"sms"``, ``"voice"``, ``"data"``)."""
        return self.name.lower()

    @property
    def label(self) -> str:
        """Name for people (``"SMS"``, ``"voice"``, ...)."""
        return "SMS" if self is Service.SMS else self.key


def _tech(v: Any, name: str = "technology") -> Technology:
    return parse_choice(Technology, v, name)


# ---------------------------------------------------------------------------------------------
# Range limits
# ---------------------------------------------------------------------------------------------

#: GSM bit period 48/13 us (TS 45.010 §5.5 / TS 45.002 §5.2.1); one timing-advance step is half
#: the distance light travels in it (round trip): 553.5 m.
GSM_TA_STEP_M = SPEED_OF_LIGHT_M_S * 48e-6 / 13.0 / 2.0


def gsm_max_range_m(extended: bool = False) -> float:
    """GSM cell range limit from timing advance [m].

    Normal cells: TA 0-63 (TS 45.010 §5.5) -> 63 x 553.5 m = 34.9 km. Extended cells (TS 45.010
    §5.5 extended timing advance, 0-219) -> 121 km; yalu uses 120 km.
    """
    return 120_000.0 if extended else 63 * GSM_TA_STEP_M


# TS 36.211 Table 5.7.1-1 (T_CP, T_SEQ in Ts = 1/30.72 MHz) and preamble duration in subframes
# (Table 5.7.1-1 / §5.7.1: format 0 one subframe, 1 and 2 two, 3 three). NR long formats 0-3
# (TS 38.211 Table 6.3.3.1-1) have the same format-0 timing; yalu uses the LTE table for both.
_PRACH = {
    0: (3168, 24576, 1),
    1: (21024, 24576, 2),
    2: (6240, 2 * 24576, 2),
    3: (21024, 2 * 24576, 3),
}


def prach_max_range_m(prach_format: int = 0) -> float:
    """LTE cell range limit from the PRACH guard time [m], TS 36.211 Table 5.7.1-1.

    Guard time = preamble slot - T_CP - T_SEQ; range = c * T_GT / 2: format 0 14.5 km,
    1 77.3 km, 2 29.5 km, 3 107.3 km.
    """
    if prach_format not in _PRACH:
        raise ParameterError("prach_format", prach_format, "0, 1, 2 or 3")
    t_cp, t_seq, subframes = _PRACH[prach_format]
    ts = 1.0 / 30.72e6
    t_gt = (subframes * 30720 - t_cp - t_seq) * ts
    return SPEED_OF_LIGHT_M_S * t_gt / 2.0


# ---------------------------------------------------------------------------------------------
# Carrier structure
# ---------------------------------------------------------------------------------------------

# TS 36.101 Table 5.6-1: transmission bandwidth configuration N_RB
_LTE_RB = {1.4: 6, 3.0: 15, 5.0: 25, 10.0: 50, 15.0: 75, 20.0: 100}
# TS 38.101-1 Table 5.3.2-1: maximum transmission bandwidth configuration N_RB (FR1)
_NR_RB = {
    15.0: {5: 25, 10: 52, 15: 79, 20: 106, 25: 133, 30: 160, 40: 216, 50: 270},
    30.0: {
        5: 11,
        10: 24,
        15: 38,
        20: 51,
        25: 65,
        30: 78,
        40: 106,
        50: 133,
        60: 162,
        70: 189,
        80: 217,
        90: 245,
        100: 273,
    },
    60.0: {
        10: 11,
        15: 18,
        20: 24,
        25: 31,
        30: 38,
        40: 51,
        50: 65,
        60: 79,
        70: 93,
        80: 107,
        90: 121,
        100: 135,
    },
}


def resource_blocks(technology: Technology, bandwidth_mhz: float, scs_khz: float = 15.0) -> int:
    """Number of resource blocks of an LTE or NR carrier.

    LTE: TS 36.101 Table 5.6-1; NR: TS 38.101-1 Table 5.3.2-1. Bandwidths not in the tables use
    ``floor(0.9 B / (12 scs))`` (90 % occupancy, about what the tables give).
    """
    if technology is _L:
        for bw, n in _LTE_RB.items():
            if math.isclose(bw, bandwidth_mhz):
                return n
        scs_khz = 15.0
    elif technology is _N:
        table = _NR_RB.get(float(scs_khz), {})
        for bw_i, n in table.items():
            if math.isclose(bw_i, bandwidth_mhz):
                return n
    else:
        raise ParameterError("technology", technology.value, "lte or nr (resource blocks)")
    return max(1, int(0.9 * bandwidth_mhz * 1e3 / (12 * scs_khz)))


#: UMTS chip rate (TS 25.101 §5.1): the noise bandwidth of a 5 MHz WCDMA carrier
UMTS_CHIP_RATE_MCPS = 3.84
#: CPICH share of the Node B power: 10 % (-10 dB) is the usual setting (Holma & Toskala,
#: "WCDMA for UMTS", 5th ed., §8.2 link budget; planning value)
UMTS_CPICH_OFFSET_DB = -10.0


def reference_signal_offset_db(
    technology: Technology, bandwidth_mhz: float, scs_khz: float = 15.0
) -> float:
    """Measured quantity minus total carrier power [dB].

    - GSM RxLev: the whole carrier (0 dB).
    - UMTS RSCP: CPICH power, 10 % of the total (-10 dB; planning value).
    - LTE/NR RSRP: power of one resource element when the power is spread evenly over all
      ``12 N_RB`` subcarriers: ``-10 log10(12 N_RB)`` (reference-signal boosting ignored;
      TS 36.214 §5.1.1 defines RSRP as the linear average over the RS resource elements).
    """
    if technology is _G:
        return 0.0
    if technology is _U:
        return UMTS_CPICH_OFFSET_DB
    return -10.0 * math.log10(12 * resource_blocks(technology, bandwidth_mhz, scs_khz))


def noise_bandwidth_mhz(
    technology: Technology, bandwidth_mhz: float, scs_khz: float = 15.0
) -> float:
    """Noise bandwidth of a carrier [MHz]: GSM the 200 kHz channel, UMTS the chip rate, LTE/NR
    the occupied ``12 N_RB scs``."""
    if technology is _G:
        return bandwidth_mhz
    if technology is _U:
        return UMTS_CHIP_RATE_MCPS
    return 12 * resource_blocks(technology, bandwidth_mhz, scs_khz) * scs_khz * 1e-3


# ---------------------------------------------------------------------------------------------
# Site
# ---------------------------------------------------------------------------------------------


#: transmit power per carrier when a site gives none [dBm]. GSM: a 20 W TRX (TS 45.005 §4.1.2
#: BTS power classes). UMTS: 20 W Node B carrier (planning value). LTE: 46 dBm at 10 MHz, 49 dBm
#: at 20 MHz (TR 36.814 Table A.2.1.1-1), i.e. 46 + 10 log10(B / 10 MHz); NR: same density
#: (planning value).
def default_tx_power_dbm(technology: Technology, bandwidth_mhz: float) -> float:
    if technology in (_G, _U):
        return 43.0
    return 46.0 + 10.0 * math.log10(bandwidth_mhz / 10.0)


#: antenna gain when a site gives none [dBi]: sector 15 dBi (TR 36.942 §4.2.1.1 macro antenna),
#: omni 11 dBi (planning value, collinear omni); MSI: the file's GAIN.
DEFAULT_SECTOR_GAIN_DBI = 15.0
DEFAULT_OMNI_GAIN_DBI = 11.0


class Site(RadioModel):
    """A transmitting cell: one sector and one carrier.

    ``eirp_dbm = tx_power_dbm + antenna_gain_dbi - feeder_loss_db`` (total over the carrier).
    """

    id: str = Field(min_length=1)
    name: str = ""
    lat_deg: float = Field(ge=-90.0, le=90.0)
    lon_deg: float = Field(ge=-180.0, le=180.0)
    height_m: float = Field(ge=0.0, le=1000.0)
    operator: str = ""
    technology: Technology
    band: str | None = None
    dl_frequency_mhz: float | None = Field(default=None, gt=0.0)
    #: Uplink carrier [MHz]; default: paired with the DL by the band's duplex spacing (TDD: DL).
    ul_frequency_mhz: float | None = Field(default=None, gt=0.0)
    bandwidth_mhz: float | None = Field(default=None, gt=0.0)
    #: NR subcarrier spacing [kHz]; default 30 kHz for TDD bands, 15 kHz for FDD (common
    #: choices in TS 38.101-1 Table 5.3.5-1); LTE is always 15 kHz.
    subcarrier_spacing_khz: float | None = None
    tx_power_dbm: float | None = Field(default=None, ge=-30.0, le=90.0)
    antenna_gain_dbi: float | None = Field(default=None, ge=-20.0, le=40.0)
    #: feeder, jumper and connector loss: 2 dB (planning value)
    feeder_loss_db: float = Field(default=2.0, ge=0.0, le=30.0)
    pattern: AntennaPattern = Field(default_factory=OmniPattern)
    #: BTS receiver noise figure: 5 dB (TR 36.814 Table A.2.1.1-2, eNB noise figure)
    noise_figure_db: float = Field(default=5.0, ge=0.0, le=30.0)
    #: uplink receive-diversity gain: 3 dB for two branches (planning value)
    diversity_gain_db: float = Field(default=3.0, ge=0.0, le=20.0)
    #: measured quantity minus total power [dB]; default from reference_signal_offset_db
    reference_signal_offset_db: float | None = Field(default=None, le=0.0)

    _band: Band = PrivateAttr()

    @field_validator("technology", mode="before")
    @classmethod
    def _v_tech(cls, v: Any) -> Technology:
        return _tech(v)

    @model_validator(mode="after")
    def _resolve(self) -> Site:
        band, dl, ul = resolve_carrier(
            self.technology,
            self.band,
            self.dl_frequency_mhz,
            ul_frequency_mhz=self.ul_frequency_mhz,
        )
        bw = self.bandwidth_mhz or DEFAULT_BANDWIDTH_MHZ[self.technology]
        scs = self.subcarrier_spacing_khz
        if self.technology is _N:
            scs = scs or (30.0 if band.duplex.value == "tdd" else 15.0)
            if scs not in _NR_RB:
                raise ParameterError("subcarrier_spacing_khz", scs, "15, 30 or 60 (NR FR1)")
        else:
            scs = 15.0
        if isinstance(self.pattern, MsiPattern):
            gain = self.pattern.gain_dbi
        elif isinstance(self.pattern, SectorPattern):
            gain = DEFAULT_SECTOR_GAIN_DBI
        else:
            gain = DEFAULT_OMNI_GAIN_DBI
        fill = {
            "band": band.name,
            "dl_frequency_mhz": dl,
            "ul_frequency_mhz": ul,
            "bandwidth_mhz": bw,
            "subcarrier_spacing_khz": scs,
            "tx_power_dbm": self.tx_power_dbm
            if self.tx_power_dbm is not None
            else default_tx_power_dbm(self.technology, bw),
            "antenna_gain_dbi": self.antenna_gain_dbi
            if self.antenna_gain_dbi is not None
            else gain,
            "reference_signal_offset_db": self.reference_signal_offset_db
            if self.reference_signal_offset_db is not None
            else reference_signal_offset_db(self.technology, bw, scs),
        }
        for k, v in fill.items():
            object.__setattr__(self, k, v)
        self._band = band
        return self

    # the validator fills these, so they are never None after construction
    @property
    def band_info(self) -> Band:
        return self._band

    @property
    def ul_carrier_mhz(self) -> float:
        """Uplink carrier frequency [MHz] (given, or paired by the duplex spacing; TDD: DL)."""
        assert self.ul_frequency_mhz is not None
        return self.ul_frequency_mhz

    @property
    def dl_carrier_mhz(self) -> float:
        """Downlink carrier frequency [MHz] (given or the band centre)."""
        assert self.dl_frequency_mhz is not None
        return self.dl_frequency_mhz

    @property
    def gain_dbi(self) -> float:
        """Antenna gain [dBi] (given, or the pattern's default)."""
        assert self.antenna_gain_dbi is not None
        return self.antenna_gain_dbi

    @property
    def eirp_dbm(self) -> float:
        """Effective isotropic radiated power of the carrier [dBm]."""
        assert self.tx_power_dbm is not None and self.antenna_gain_dbi is not None
        return self.tx_power_dbm + self.antenna_gain_dbi - self.feeder_loss_db

    @property
    def carrier_bandwidth_mhz(self) -> float:
        assert self.bandwidth_mhz is not None
        return self.bandwidth_mhz

    @property
    def noise_bandwidth_mhz(self) -> float:
        assert self.subcarrier_spacing_khz is not None
        return noise_bandwidth_mhz(
            self.technology, self.carrier_bandwidth_mhz, self.subcarrier_spacing_khz
        )

    @property
    def reference_offset_db(self) -> float:
        assert self.reference_signal_offset_db is not None
        return self.reference_signal_offset_db

    def pattern_gain_db(self, azimuth_deg: Any, elevation_deg: Any) -> np.ndarray:
        """Relative antenna gain [dB] toward absolute azimuth / elevation."""
        return self.pattern.gain_db(azimuth_deg, elevation_deg)


# ---------------------------------------------------------------------------------------------
# Handset
# ---------------------------------------------------------------------------------------------

#: maximum output power by technology [dBm]: GSM 900 class 4 33 dBm (TS 45.005 §4.1.1), UMTS
#: power class 3 24 dBm (TS 25.101 §6.2.1 Table 6.1), LTE power class 3 23 dBm (TS 36.101
#: §6.2.2 Table 6.2.2-1), NR power class 3 23 dBm (TS 38.101-1 §6.2.1 Table 6.2.1-1).
DEFAULT_HANDSET_POWER_DBM = {"gsm": 33.0, "umts": 24.0, "lte": 23.0, "nr": 23.0}
#: band exceptions: DCS 1800 and PCS 1900 class 1, 30 dBm (TS 45.005 §4.1.1)
DEFAULT_HANDSET_BAND_POWER_DBM = {"gsm:DCS1800": 30.0, "gsm:PCS1900": 30.0}


class Handset(RadioModel):
    """Handset profile (one phone type)."""

    name: str = "power class 3 handset"
    #: by technology value ("gsm", "umts", "lte", "nr")
    max_tx_power_dbm: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_HANDSET_POWER_DBM)
    )
    #: by "technology:BAND" (e.g. "gsm:DCS1800"), overriding max_tx_power_dbm
    band_max_tx_power_dbm: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_HANDSET_BAND_POWER_DBM)
    )
    #: handset antenna gain 0 dBi (TR 36.814 Table A.2.1.1-2 UE antenna gain)
    antenna_gain_dbi: float = Field(default=0.0, ge=-20.0, le=20.0)
    #: body loss 3 dB, phone held at the head for voice (TR 25.942 §4.1.1 / Holma & Toskala,
    #: "WCDMA for UMTS", §8.2 link budget)
    body_loss_db: float = Field(default=3.0, ge=0.0, le=30.0)
    #: UE noise figure 9 dB (TR 36.814 Table A.2.1.1-2; also the assumption behind the TS 36.101
    #: §7.3 reference sensitivity)
    noise_figure_db: float = Field(default=9.0, ge=0.0, le=30.0)
    height_m: float = Field(default=1.5, gt=0.0, le=100.0)

    @field_validator("max_tx_power_dbm")
    @classmethod
    def _v_power(cls, v: dict[str, float]) -> dict[str, float]:
        out = {}
        for k, p in v.items():
            out[_tech(k, f"max_tx_power_dbm[{k!r}]").value] = float(p)
        return out

    def tx_power_dbm(self, technology: Technology | str, band: str | None = None) -> float:
        """Maximum transmit power [dBm] for a technology and band."""
        tech = _tech(technology)
        if band is not None:
            key = f"{tech.value}:{band}"
            if key in self.band_max_tx_power_dbm:
                return self.band_max_tx_power_dbm[key]
        if tech.value not in self.max_tx_power_dbm:
            raise ParameterError(
                "max_tx_power_dbm",
                tech.value,
                f"a technology listed in {sorted(self.max_tx_power_dbm)}",
            )
        return self.max_tx_power_dbm[tech.value]

    @property
    def net_gain_db(self) -> float:
        """Antenna gain minus body loss [dB], applied to both directions."""
        return self.antenna_gain_dbi - self.body_loss_db


# ---------------------------------------------------------------------------------------------
# Technology profiles
# ---------------------------------------------------------------------------------------------


class ServiceThresholds(RadioModel):
    """What one service needs, in both directions.

    ``dl_min_power_dbm`` is in the technology's measured quantity (RxLev for GSM, RSCP for UMTS,
    RSRP for LTE/NR). SINRs are over the carrier's noise bandwidth (DL) and over the profile's
    ``ul_noise_bandwidth_mhz`` (UL). ``ul_min_power_dbm`` (optional) is the total handset power
    received at the BTS.
    """

    dl_min_power_dbm: float
    dl_min_sinr_db: float
    ul_min_sinr_db: float
    ul_min_power_dbm: float | None = None


class TechnologyProfile(RadioModel):
    """Service thresholds and range limit of one technology."""

    technology: Technology
    sms: ServiceThresholds
    voice: ServiceThresholds
    data: ServiceThresholds
    #: cell range limit [m] (protocol timing), None for none
    max_range_m: float | None = Field(default=None, gt=0.0)
    #: bandwidth the handset's uplink signal occupies and the BTS noise is measured in [MHz]
    ul_noise_bandwidth_mhz: float = Field(gt=0.0)

    @field_validator("technology", mode="before")
    @classmethod
    def _v_tech(cls, v: Any) -> Technology:
        return _tech(v)

    def thresholds(self, service: Service) -> ServiceThresholds:
        return {Service.SMS: self.sms, Service.VOICE: self.voice, Service.DATA: self.data}[service]


def _t(dl_p: float, dl_s: float, ul_s: float) -> dict[str, float]:
    return {"dl_min_power_dbm": dl_p, "dl_min_sinr_db": dl_s, "ul_min_sinr_db": ul_s}


# Default thresholds. Sources:
# GSM  voice: MS reference sensitivity -102 dBm (TS 45.005 §6.2) and reference interference
#      ratio C/Ic = 9 dB (TS 45.005 §6.3), both directions. SMS (SDCCH, more robust) 2 dB / 3 dB
#      below voice: planning values. Data: GPRS CS-2 (rate-2/3 convolutional code, 13.4 kb/s per
#      time slot, TS 45.003 §5.1.2), the usual default coding scheme: input level -104 dBm and
#      C/Ic 13 dB for 10 % BLER on PDTCH/CS-2, as recalled from TS 45.005 §6.2 Table 1c and
#      §6.3 Table 2a (TU50 no FH, GSM 900): the table text could not be checked from here, so they
#      are labelled planning values. (§6.2's -102 dBm for a GSM 900 "small MS", -104 dBm for
#      other MS, was checked.) The level also needs voice, so voice's -102 dBm binds the DL power
#      and the C/I separates data from voice. Range: timing advance, 34.9 km (TS 45.010 §5.5).
#      UL noise bandwidth: the 200 kHz channel.
# UMTS voice: RSCP -110 dBm, SMS -115 dBm (usual Qrxlevmin, TS 25.304 §5.2.3.1.2 S-criterion),
#      data -100 dBm (planning values). DL SINR = total carrier power over N+I; with CPICH at 10 %
#      the CPICH Ec/(N+I) is 10 dB lower: -16/-14/-12 dB Ec/No for SMS/voice/data (planning
#      values). UL over 3.84 Mcps: the BS reference sensitivity -121 dBm for 12.2 kbps voice
#      (TS 25.104 §7.2) with NF 5 dB is SNR = -121 - (-108.2 + 5) = -17.8 dB; SMS -20 dB and
#      64 kbps data -15 dB (processing gain 17.8 dB, Eb/N0 ~ 3 dB) are planning values.
#      Range: no protocol limit modelled.
# LTE  RSRP: -124 dBm SMS (usual q-RxLevMin, TS 36.304 §5.2.3.2), -120 dBm voice, -110 dBm data
#      (planning values). DL SINR: the TS 36.101 §7.3 reference sensitivity (QPSK R=1/3 FRC,
#      UE NF 9 dB) sits at SNR ~ -1 dB: voice -3 dB, SMS -5 dB, data 0 dB (planning values).
#      UL over 2 PRB (0.36 MHz, a cell-edge VoLTE allocation): the TS 36.104 §7.2 reference
#      sensitivity -101.5 dBm over 25 PRB with NF 5 dB is SNR ~ -1 dB: voice -1 dB, SMS -3 dB,
#      data +3 dB (planning values). Range: PRACH format 0, 14.5 km (TS 36.211 Table 5.7.1-1).
# NR   as LTE (SS-RSRP, TS 38.215 §5.1.1), PRACH format 0 (TS 38.211 Table 6.3.3.1-1), 30 kHz
#      PRB: 0.36 MHz UL noise bandwidth for one PRB (planning values).
_DEFAULTS: dict[Technology, dict[str, Any]] = {
    _G: {
        "sms": _t(-104.0, 6.0, 6.0),
        "voice": _t(-102.0, 9.0, 9.0),
        "data": _t(-104.0, 13.0, 13.0),
        "max_range_m": gsm_max_range_m(),
        "ul_noise_bandwidth_mhz": 0.2,
    },
    _U: {
        "sms": _t(-115.0, -6.0, -20.0),
        "voice": _t(-110.0, -4.0, -17.8),
        "data": _t(-100.0, -2.0, -15.0),
        "max_range_m": None,
        "ul_noise_bandwidth_mhz": UMTS_CHIP_RATE_MCPS,
    },
    _L: {
        "sms": _t(-124.0, -5.0, -3.0),
        "voice": _t(-120.0, -3.0, -1.0),
        "data": _t(-110.0, 0.0, 3.0),
        "max_range_m": prach_max_range_m(0),
        "ul_noise_bandwidth_mhz": 0.36,
    },
    _N: {
        "sms": _t(-124.0, -5.0, -3.0),
        "voice": _t(-120.0, -3.0, -1.0),
        "data": _t(-110.0, 0.0, 3.0),
        "max_range_m": prach_max_range_m(0),
        "ul_noise_bandwidth_mhz": 0.36,
    },
}


#: where each default threshold comes from, by technology and level (shown in reports)
THRESHOLD_SOURCES: dict[Technology, dict[str, str]] = {
    _G: {
        "quantity": "RxLev (whole 200 kHz carrier); SINR = C/I over 200 kHz",
        "sms": "planning value: SDCCH is more robust than TCH/FS, 2 dB (level) and 3 dB (C/I) "
        "below voice",
        "voice": "spec: MS reference sensitivity -102 dBm (TS 45.005 §6.2), reference interference "
        "ratio C/Ic 9 dB (TS 45.005 §6.3), both directions",
        "data": "planning value: GPRS CS-2 at 10 % BLER, -104 dBm and C/Ic 13 dB, after TS 45.005 "
        "§6.2 Table 1c and §6.3 Table 2a (TU50 no FH; not checked against the table text); needs "
        "voice too, so voice's -102 dBm binds the power",
        "range": "timing advance 0-63 x 553.5 m = 34.9 km (TS 45.010 §5.5)",
    },
    _U: {
        "quantity": "CPICH RSCP (CPICH = 10 % of the carrier); SINR over 3.84 Mcps",
        "sms": "spec/planning: RSCP -115 dBm (usual Qrxlevmin, TS 25.304 §5.2.3.1.2); SINR "
        "planning values",
        "voice": "spec: UL from the BS reference sensitivity -121 dBm for 12.2 kb/s (TS 25.104 "
        "§7.2); DL RSCP -110 dBm and SINR: planning values",
        "data": "planning value: 64 kb/s (RSCP -100 dBm, UL SNR -15 dB)",
        "range": "no protocol limit modelled",
    },
    _L: {
        "quantity": "RSRP (per resource element); SINR over 12 N_RB x 15 kHz",
        "sms": "spec/planning: RSRP -124 dBm (usual q-RxLevMin, TS 36.304 §5.2.3.2); SINR "
        "planning values",
        "voice": "planning value anchored on the TS 36.101 §7.3 / TS 36.104 §7.2 reference "
        "sensitivities (SNR ~ -1 dB): RSRP -120 dBm, DL SINR -3 dB, UL SINR -1 dB over "
        "2 PRB",
        "data": "planning value: RSRP -110 dBm, DL SINR 0 dB, UL SINR 3 dB",
        "range": "PRACH format 0 guard time, 14.5 km (TS 36.211 Table 5.7.1-1)",
    },
    _N: {
        "quantity": "SS-RSRP (TS 38.215 §5.1.1); SINR over 12 N_RB x SCS",
        "sms": "as LTE (planning values)",
        "voice": "as LTE (planning values)",
        "data": "as LTE (planning values)",
        "range": "PRACH long format 0 (TS 38.211 Table 6.3.3.1-1), 14.5 km",
    },
}


def service_level_table(
    profiles: dict[Technology, TechnologyProfile] | None = None,
    technologies: list[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Per technology: the measured quantity, range limit and, per level, the thresholds and
    their sources (``default`` marks a profile left at yalu's default)."""
    profs = profiles or default_technology_profiles()
    out: dict[str, dict[str, Any]] = {}
    for t, p in profs.items():
        if technologies is not None and t.value not in technologies:
            continue
        src = THRESHOLD_SOURCES[t]
        default = p == default_technology_profile(t)
        entry: dict[str, Any] = {
            "quantity": src["quantity"],
            "max_range_m": p.max_range_m,
            "range_source": src["range"],
            "ul_noise_bandwidth_mhz": p.ul_noise_bandwidth_mhz,
            "levels": {},
        }
        for svc in (Service.SMS, Service.VOICE, Service.DATA):
            th = p.thresholds(svc)
            entry["levels"][svc.key] = {
                **th.model_dump(),
                "source": src[svc.key] if default else "scenario profile",
            }
        out[t.value] = entry
    return out


def default_technology_profile(technology: Technology | str, **overrides: Any) -> TechnologyProfile:
    """The cited default profile of a technology, with any field overridden.

    ``overrides`` may replace whole fields (``max_range_m=120e3``) or a service's thresholds
    partly (``voice={"dl_min_sinr_db": 7.0}``).
    """
    tech = _tech(technology)
    data: dict[str, Any] = {"technology": tech}
    for k, v in _DEFAULTS[tech].items():
        data[k] = dict(v) if isinstance(v, dict) else v
    for k, v in overrides.items():
        if k in ("sms", "voice", "data") and isinstance(v, dict):
            data[k] = {**data[k], **v}
        else:
            data[k] = v
    return TechnologyProfile(**data)


def default_technology_profiles() -> dict[Technology, TechnologyProfile]:
    return {t: default_technology_profile(t) for t in Technology}


# ---------------------------------------------------------------------------------------------
# Jammer
# ---------------------------------------------------------------------------------------------


class Jammer(RadioModel):
    """A jammer: position, EIRP, pattern, covered frequency ranges and duty factor.

    ``eirp_dbm`` is the total EIRP, spread evenly over the union of ``ranges_mhz`` (a flat power
    spectral density). The power it puts into a carrier is that density times the overlap of
    the carrier's channel ``[f - B/2, f + B/2]`` with the ranges, times ``duty_factor`` (mean
    power of a pulsed or swept jammer).
    """

    id: str = Field(min_length=1)
    name: str = ""
    lat_deg: float = Field(ge=-90.0, le=90.0)
    lon_deg: float = Field(ge=-180.0, le=180.0)
    height_m: float = Field(ge=0.0, le=1000.0)
    eirp_dbm: float = Field(ge=-50.0, le=120.0)
    pattern: AntennaPattern = Field(default_factory=OmniPattern)
    ranges_mhz: list[tuple[float, float]] = Field(min_length=1)
    duty_factor: float = Field(default=1.0, ge=0.0, le=1.0)

    @field_validator("ranges_mhz")
    @classmethod
    def _v_ranges(cls, v: list[tuple[float, float]]) -> list[tuple[float, float]]:
        for i, (lo, hi) in enumerate(v):
            if not (0.0 < lo < hi) or not math.isfinite(hi):
                raise ParameterError(f"ranges_mhz[{i}]", (lo, hi), "0 < lo_mhz < hi_mhz")
        merged: list[list[float]] = []
        for lo, hi in sorted(v):
            if merged and lo <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        return [(a, b) for a, b in merged]

    @property
    def bandwidth_mhz(self) -> float:
        """Total width of the covered ranges [MHz]."""
        return float(sum(hi - lo for lo, hi in self.ranges_mhz))

    def overlap_mhz(self, centre_mhz: float, bandwidth_mhz: float) -> float:
        """Width of the channel ``[centre - B/2, centre + B/2]`` inside the ranges [MHz]."""
        a, b = centre_mhz - bandwidth_mhz / 2.0, centre_mhz + bandwidth_mhz / 2.0
        return float(sum(max(0.0, min(b, hi) - max(a, lo)) for lo, hi in self.ranges_mhz))

    def inband_eirp_dbm(self, centre_mhz: float, bandwidth_mhz: float) -> float:
        """Duty-weighted EIRP falling inside a channel [dBm]; -inf if none."""
        ov = self.overlap_mhz(centre_mhz, bandwidth_mhz)
        if ov <= 0.0 or self.duty_factor <= 0.0:
            return -math.inf
        return self.eirp_dbm + 10.0 * math.log10(ov / self.bandwidth_mhz * self.duty_factor)

    def pattern_gain_db(self, azimuth_deg: Any, elevation_deg: Any) -> np.ndarray:
        return self.pattern.gain_db(azimuth_deg, elevation_deg)
