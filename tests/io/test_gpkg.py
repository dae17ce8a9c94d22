"""map.gpkg read back with pyogrio (GDAL/OGR) and sqlite3."""

import sqlite3

import numpy as np
import pyogrio
import pyogrio.raw
import pytest
from mapsynth import HYESAN, NORTH, ROWS, STEP, WEST, mapdata

from yalu.io.gpkg import service_polygons, write_gpkg


@pytest.fixture(scope="module")
def gpkg(tmp_path_factory):
    return write_gpkg(tmp_path_factory.mktemp("gpkg") / "map.gpkg", mapdata())


def test_layers_and_crs(gpkg):
    layers = dict(pyogrio.list_layers(gpkg))
    assert layers == {
        "service_jam": "MultiPolygon",
        "service_free": "MultiPolygon",
        "settlements": "Point",
        "sites": "Point",
        "jammers": "Point",
        "border": "MultiLineString",
    }
    info = pyogrio.read_info(gpkg, layer="settlements")
    assert info["crs"] == "EPSG:4326"
    # a GeoPackage by the spec: application id 'GPKG', the gpkg_contents table
    with sqlite3.connect(gpkg) as db:
        assert db.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
        rows = dict(db.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
    assert rows["service_jam"] == "features"


def test_settlements_carry_all_attributes(gpkg):
    meta, _fid, geom, fields = pyogrio.raw.read(gpkg, layer="settlements", return_fids=True)
    rec = dict(zip(meta["fields"], [f[0] for f in fields], strict=True))
    assert (
        rec["name"] == "Hyesan" and rec["population"] == 192680 and rec["province"] == "Ryanggang"
    )
    assert rec["jam__service_level"] == "none" and rec["free__service_level"] == "sms"
    assert rec["free__best_server"] == "changbai/lte-B3" and rec["free__rsrp_dbm"] == -85.5
    import struct

    _o, _t, x, y = struct.unpack("<BIdd", bytes(geom[0])[:21])  # pyogrio returns ISO WKB
    assert (y, x) == pytest.approx(HYESAN)


def test_service_polygons_cover_the_served_nodes(gpkg):
    """Each level's polygons hold exactly the pixels of that level: their area equals the sum
    of the pixel areas (independently, on the sphere's equal-area formula)."""
    md = mapdata()
    sl = next(ly for ly in md.layers if ly.variant == "jam" and ly.key == "service_level").values
    meta, _fid, _geom, fields = pyogrio.raw.read(gpkg, layer="service_jam", return_fids=True)
    got = {
        int(lv): a
        for lv, a in zip(
            fields[list(meta["fields"]).index("level")],
            fields[list(meta["fields"]).index("area_km2")],
            strict=True,
        )
    }
    lat = NORTH - STEP * np.arange(ROWS)
    r2 = 6371.0088**2  # mean radius [km]: 0.3 % from WGS84 areas here
    cell = (
        r2
        * np.radians(STEP)
        * (np.sin(np.radians(lat + STEP / 2)) - np.sin(np.radians(lat - STEP / 2)))
    )
    for lv in (1, 2, 3):
        want = float((cell[:, None] * (sl == lv)).sum())
        assert got[lv] == pytest.approx(want, rel=5e-3)
    assert set(got) == {1, 2, 3}
    polys = service_polygons(sl, md.transform)
    assert all(
        WEST - STEP / 2 <= r[:, 0].min() for p in polys.values() for rings in p for r in rings
    )


def test_a_hole_is_an_interior_ring():
    lv = np.ones((5, 5), np.uint8)
    lv[2, 2] = 0
    polys = service_polygons(lv, (1.0, 0.0, 10.0, 0.0, -1.0, 50.0))
    assert len(polys[1]) == 1 and len(polys[1][0]) == 2  # exterior and one hole
    ext, hole = polys[1][0]
    assert (ext[:, 0].min(), ext[:, 0].max(), ext[:, 1].min(), ext[:, 1].max()) == (10, 15, 45, 50)
    assert (hole[:, 0].min(), hole[:, 0].max(), hole[:, 1].min(), hole[:, 1].max()) == (
        12,
        13,
        47,
        48,
    )


def test_service_layers_built_as_polygonized_equal_the_ring_lists():
    """The MultiPolygons' WKB and areas built polygon by polygon (no list of every ring)
    are those of the ring lists, byte for byte and bit for bit: several levels, islands,
    holes and a hole holding an island."""
    from affine import Affine

    from yalu.io import gpkg as g

    rng = np.random.default_rng(5)
    lv = rng.integers(0, 4, (30, 40)).astype(np.uint8)
    lv[5:15, 5:15] = 2
    lv[8:12, 8:12] = 0
    lv[9:11, 9:11] = 3
    tr = Affine(0.01, 0.0, 125.0, 0.0, -0.01, 42.0)
    polys = service_polygons(lv, tr)
    got = g._service_layers(lv, tr)
    assert list(got) == sorted(polys) == [1, 2, 3]
    assert any(len(rings) > 1 for rings in polys[2])  # a polygon with a hole
    for k, (wkb, area) in got.items():
        assert wkb == g._wkb_multipolygon(polys[k])
        assert area == g._geodesic_km2(polys[k]) > 0
