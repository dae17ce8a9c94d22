"""yalu.radio: sites, handsets, antennas, technology profiles, jammers, zones and link budgets."""

from yalu.radio.antenna import (
    MsiData,
    MsiFormatError,
    MsiPattern,
    OmniPattern,
    SectorPattern,
    load_msi,
    parse_msi,
)
from yalu.radio.bands import BANDS, Band, Duplex, Technology, get_band, resolve_carrier
from yalu.radio.budget import LAYER_NAMES, LinkBudget, TechnologyBudget, link_budget
from yalu.radio.layers import RadioLayers, compute_layers
from yalu.radio.models import (
    Handset,
    Jammer,
    Service,
    ServiceThresholds,
    Site,
    TechnologyProfile,
    default_technology_profile,
    default_technology_profiles,
    gsm_max_range_m,
    prach_max_range_m,
)
from yalu.radio.noise import thermal_noise_dbm
from yalu.radio.zones import CircleZone, PolygonZone, rasterize_zones

__all__ = [
    "BANDS",
    "Band",
    "CircleZone",
    "Duplex",
    "Handset",
    "Jammer",
    "LAYER_NAMES",
    "LinkBudget",
    "MsiData",
    "MsiFormatError",
    "MsiPattern",
    "OmniPattern",
    "PolygonZone",
    "RadioLayers",
    "SectorPattern",
    "Service",
    "ServiceThresholds",
    "Site",
    "Technology",
    "TechnologyBudget",
    "TechnologyProfile",
    "compute_layers",
    "default_technology_profile",
    "default_technology_profiles",
    "get_band",
    "gsm_max_range_m",
    "link_budget",
    "load_msi",
    "parse_msi",
    "prach_max_range_m",
    "rasterize_zones",
    "resolve_carrier",
    "thermal_noise_dbm",
]
