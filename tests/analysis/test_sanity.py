import numpy as np
import pytest
from pyproj import Geod

from yalu.analysis.sanity import escape_distance_km, reach_into_country
from yalu.errors import ParameterError
from yalu.geodesy.grid import Grid

GEOD = Geod(ellps="WGS84")


def test_reach_into_country():
    d = np.tile(np.arange(10, dtype=float) * 4.0, (3, 1))  # 0, 4, ... 36 km from the border
    sl = np.zeros((3, 10), np.int8)
    sl[:, :3] = 3  # data to 8 km
    sl[0, 3:6] = 1  # one row gets sms to 20 km
    inside = np.ones_like(sl, bool)
    inside[:, 0] = False  # column 0 belongs to the home country
    r = reach_into_country(sl, inside, d)
    assert r["sms"]["max_km"] == 20.0
    assert r["data"]["max_km"] == 8.0
    assert r["sms"]["nodes"] == 2 * 3 + 3
    # band 0-5 km: column 1 (4 km) only -> all served
    assert r["sms"]["served_share_by_band"]["0-5"] == 1.0
    # band 10-20: columns at 12, 16 km -> row 0 only
    assert r["sms"]["served_share_by_band"]["10-20"] == pytest.approx(1 / 3)
    assert r["voice"]["served_share_by_band"]["10-20"] == 0.0
    assert r["sms"]["served_share_by_band"]["60-100"] is None
    none = reach_into_country(np.zeros_like(sl), inside, d)
    assert none["sms"]["max_km"] is None and none["sms"]["nodes"] == 0
    with pytest.raises(ParameterError):
        reach_into_country(sl, inside[:2], d)


def test_escape_distance():
    g = Grid(north_deg=42.0, west_deg=129.0, dlat_deg=0.01, dlon_deg=0.01, n_rows=50, n_cols=50)
    sl = np.zeros(g.shape, np.int8)
    sl[:, 40:] = 2  # served from column 40 (lon 129.40) east
    lat, lon = 41.8, 129.1
    ref = GEOD.inv(lon, lat, 129.40, lat)[2] / 1000
    assert escape_distance_km(sl, g, lat, lon) == pytest.approx(ref, rel=5e-3)
    assert escape_distance_km(sl, g, lat, lon, level=3) is None
    mask = np.zeros(g.shape, bool)
    mask[:, 45:] = True
    ref45 = GEOD.inv(lon, lat, 129.45, lat)[2] / 1000
    assert escape_distance_km(sl, g, lat, lon, mask=mask) == pytest.approx(ref45, rel=5e-3)


def _ri(share05, p50, mx, share4060):
    bands = {"0-5": share05, "5-10": None, "10-20": None, "20-40": None, "40-60": share4060}
    return {"sms": {"served_share_by_band": bands, "p50_km": p50, "max_km": mx}}


def test_assess_verdicts():
    from yalu.analysis.sanity import assess

    good = assess(
        {
            "country": "KP",
            "reach_into": _ri(0.7, 3.0, 55.0, 0.02),
            "jammer_escape": [
                {"name": "A", "jammed_km": 18.0},
                {"name": "B", "jammed_km": 22.0},
                {"name": "C", "jammed_km": 25.0},
            ],
        }
    )
    assert [a["verdict"] for a in good] == ["agrees", "agrees", "agrees"]
    assert "22.0 km" in good[1]["model"]  # the median
    bad = assess(
        {
            "reach_into": _ri(0.05, 1.0, 12.0, 0.0),
            "jammer_escape": [{"name": "A", "jammed_km": 1.0}],
        }
    )
    assert [a["verdict"] for a in bad] == ["disagrees", "disagrees", "disagrees"]
    common = assess({"reach_into": _ri(0.3, 10.0, 70.0, 0.4), "jammer_escape": []})
    assert [a["verdict"] for a in common] == ["partly", "not computed", "partly"]


def test_assess_spill():
    from yalu.analysis.sanity import assess

    spill = [
        {"name": "Tumen", "degraded": True, "jammed": "sms", "unjammed": "data"},
        {"name": "Other", "degraded": False, "jammed": "data", "unjammed": "data"},
    ]
    (a,) = [x for x in assess({"jammer_spill": spill}) if x["claim"] == "spill"]
    assert (
        a["verdict"] == "agrees" and "1 of 2" in a["model"] and "Tumen (data -> sms)" in a["model"]
    )
    (b,) = [x for x in assess({"jammer_spill": spill[1:]}) if x["claim"] == "spill"]
    assert b["verdict"] == "disagrees"


def test_escape_distance_by_bands_of_rows_is_the_nearest_served_node(monkeypatch):
    """Bands of a few rows find the same nearest served node as one pass over the grid (and
    as a brute-force great-circle search written here)."""
    import yalu.analysis.sanity as sanity

    g = Grid(north_deg=42.0, west_deg=129.0, dlat_deg=0.01, dlon_deg=0.013, n_rows=41, n_cols=29)
    rng = np.random.default_rng(4)
    sl = (rng.random(g.shape) < 0.02).astype(np.int8) * 2
    lat, lon = 41.77, 129.21
    whole = escape_distance_km(sl, g, lat, lon)
    monkeypatch.setattr(sanity, "_ESCAPE_BAND_NODES", 60)  # two rows a band
    banded = escape_distance_km(sl, g, lat, lon)
    ii, jj = np.nonzero(sl >= 1)
    brute = (
        min(GEOD.inv(lon, lat, g.lons()[j], g.lats()[i])[2] for i, j in zip(ii, jj, strict=True))
        / 1000
    )
    assert whole is not None and banded == pytest.approx(whole, rel=1e-12)
    assert banded == pytest.approx(brute, rel=5e-3)
    far = np.zeros(g.shape, np.int8)
    far[-1, -1] = 1
    assert escape_distance_km(far, g, lat, lon) == pytest.approx(
        GEOD.inv(lon, lat, g.lons()[-1], g.lats()[-1])[2] / 1000, rel=5e-3
    )


@pytest.mark.parametrize("band_nodes", [1, 37, 1 << 20])
def test_reach_into_country_by_bands_from_disk_is_one_pass(band_nodes, monkeypatch, tmp_path):
    """Walked a band of rows at a time, with the distances and levels read from disk, the
    figures are those of one pass over whole arrays (computed here independently)."""
    import yalu.analysis.sanity as san
    from yalu.analysis.reach import LEVELS
    from yalu.io.spill import SpillStore

    monkeypatch.setattr(san, "_REACH_BAND_NODES", band_nodes)
    rng = np.random.default_rng(3)
    shape = (23, 17)
    d = rng.uniform(0.0, 120.0, shape)
    sl = rng.integers(0, 4, shape).astype(np.int8)
    inside = rng.random(shape) < 0.7
    store = SpillStore(tmp_path)
    got = san.reach_into_country(store.put("sl", sl), inside, store.put("d", d))
    assert got == san.reach_into_country(sl, inside, d)
    bands = san.DISTANCE_BANDS_KM
    for code, name in LEVELS.items():
        served = inside & (sl >= code)
        ds = d[served]
        want_bands = {}
        for lo, hi in zip(bands[:-1], bands[1:], strict=True):
            sel = inside & (d >= lo) & (d < hi)
            want_bands[f"{lo:g}-{hi:g}"] = (float((served & sel).sum() / sel.sum())
                                            if sel.any() else None)  # fmt: skip
        assert got[name] == {
            "nodes": int(served.sum()),
            "max_km": float(ds.max()),
            "p95_km": float(np.percentile(ds, 95)),
            "p50_km": float(np.percentile(ds, 50)),
            "served_share_by_band": want_bands,
        }
