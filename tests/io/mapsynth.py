"""A small MapData with values known in closed form, for the map writers' tests."""

from __future__ import annotations

import numpy as np

from yalu.io.mapdata import Layer, LineFeature, MapData, PointFeature, Province

NORTH, WEST, STEP = 41.9, 127.6, 0.02
ROWS, COLS = 40, 60


def rsrp(lat, lon):
    """The synthetic signal [dBm]: a plane in lat/lon, with NaN in the north-west corner."""
    v = -130.0 + 30.0 * (np.asarray(lon) - WEST) + 20.0 * (NORTH - np.asarray(lat))
    return np.where((np.asarray(lat) > NORTH - 0.1) & (np.asarray(lon) < WEST + 0.1), np.nan, v)


def level(lat, lon):
    """Service level by longitude band: none, SMS, voice, data from west to east."""
    return np.clip(((np.asarray(lon) - WEST) / (COLS * STEP / 4)).astype(int), 0, 3)


def nodes():
    lat = NORTH - STEP * np.arange(ROWS)
    lon = WEST + STEP * np.arange(COLS)
    return np.meshgrid(lat, lon, indexing="ij")


HYESAN = (41.40167, 128.17778)


def mapdata() -> MapData:
    la, lo = nodes()
    md = MapData("synthetic <map>", NORTH, WEST, STEP, STEP, (ROWS, COLS), ["jam", "free"], "jam")
    for v in md.variants:
        sl = level(la, lo).astype(np.uint8)
        if v == "jam":
            sl[(np.abs(la - HYESAN[0]) < 0.05) & (np.abs(lo - HYESAN[1]) < 0.05)] = 0
        md.layers.append(Layer.make(v, "service_level", sl, ["gsm", "lte"]))
        md.layers.append(Layer.make(v, "rsrp_dbm", rsrp(la, lo).astype(np.float32), ["gsm", "lte"]))
        bs = (lo > WEST + 0.6).astype(np.int32)
        bs[sl == 0] = -1
        md.layers.append(
            Layer.make(v, "best_server", bs, None, ["changbai/lte-B3", "linjiang/gsm"])
        )
    md.layers.append(Layer.make("", "restricted", np.zeros((ROWS, COLS), np.uint8)))
    md.points = [
        PointFeature(
            "settlement",
            "2043837",
            "Hyesan",
            *HYESAN,
            {"country": "KP", "province": "Ryanggang", "population": 192680},
            {
                "jam": {"service_level": "none", "best_server": None, "rsrp_dbm": -85.5},
                "free": {
                    "service_level": "sms",
                    "best_server": "changbai/lte-B3",
                    "rsrp_dbm": -85.5,
                },
            },
        ),
        PointFeature(
            "site",
            "changbai",
            "Changbai",
            41.41772,
            128.19624,
            {"height_m": 40.0, "carriers": ["LTE B3 46 dBm"]},
        ),
        PointFeature(
            "jammer",
            "hyesan-j",
            "Hyesan jammer",
            41.36,
            128.3,
            {"eirp_dbm": 57.0, "bands_mhz": "925-960"},
        ),
    ]
    md.lines = [LineFeature("border", "border", [np.array([[128.0, 41.9], [128.3, 41.3]])])]
    ring = np.array([[127.7, 41.2], [128.5, 41.2], [128.5, 41.8], [127.7, 41.8], [127.7, 41.2]])
    md.provinces = [Province("Ryanggang", "KP", "KP.13", [ring], 128.1, 41.5)]
    return md
