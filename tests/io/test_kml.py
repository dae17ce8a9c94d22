"""map.kmz: the archive, the KML 2.2 structure Google Earth reads, overlays and balloons."""

import io
import xml.etree.ElementTree as ET
import zipfile

import numpy as np
import pytest
from mapsynth import COLS, HYESAN, NORTH, ROWS, STEP, WEST, mapdata
from PIL import Image

from yalu.errors import OutputExistsError
from yalu.io.kml import KML_NS, write_kmz

K = f"{{{KML_NS}}}"

#: children of the elements used, in the order of the KML 2.2 schema (OGC 07-147r2)
ORDER = {
    "Folder": [
        "name",
        "visibility",
        "open",
        "description",
        "styleUrl",
        "Folder",
        "GroundOverlay",
        "ScreenOverlay",
        "Placemark",
    ],
    "GroundOverlay": ["name", "visibility", "description", "color", "Icon", "LatLonBox"],
    "ScreenOverlay": ["name", "visibility", "Icon", "overlayXY", "screenXY", "size"],
    "Placemark": ["name", "description", "styleUrl", "Point", "MultiGeometry"],
    "LatLonBox": ["north", "south", "east", "west"],
    "Style": ["IconStyle", "LabelStyle", "LineStyle", "ListStyle"],
    "Document": ["name", "open", "description", "Style", "Folder", "Placemark"],
}


def _check_order(el):
    tag = el.tag.removeprefix(K)
    if tag in ORDER:
        kids = [c.tag.removeprefix(K) for c in el]
        assert all(k in ORDER[tag] for k in kids), (tag, kids)
        pos = [ORDER[tag].index(k) for k in kids]
        assert pos == sorted(pos), (tag, kids)
    for c in el:
        _check_order(c)


@pytest.fixture(scope="module")
def kmz(tmp_path_factory):
    p = tmp_path_factory.mktemp("kmz") / "map.kmz"
    return write_kmz(p, mapdata())


def test_kmz_structure(kmz):
    with zipfile.ZipFile(kmz) as z:
        names = z.namelist()
        assert names[0] == "doc.kml"
        root = ET.fromstring(z.read("doc.kml"))
        files = {n: z.read(n) for n in names[1:]}
    assert root.tag == f"{K}kml"
    doc = root.find(f"{K}Document")
    _check_order(doc)
    # every href is a file in the archive: nothing remote
    hrefs = [e.text for e in root.iter(f"{K}href")]
    assert hrefs and all(h in files for h in hrefs), set(hrefs) - set(files)
    # one ground overlay and one legend per layer; only the primary's service level visible
    folders = {f.find(f"{K}name").text: f for f in doc.findall(f"{K}Folder")}
    assert {"jam", "free", "all variants", "Sites", "Jammers", "Settlements"} <= set(folders)
    overlays = list(folders["jam"].iter(f"{K}GroundOverlay"))
    assert len(overlays) == 3 and len(list(folders["jam"].iter(f"{K}ScreenOverlay"))) == 3
    vis = {o.find(f"{K}name").text: o.find(f"{K}visibility").text for o in overlays}
    assert vis == {
        "Service level": "1",
        "Best server (strongest downlink)": "0",
        "Downlink signal (GSM RxLev / LTE RSRP)": "0",
    }
    assert all(
        o.find(f"{K}visibility").text == "0" for o in folders["free"].iter(f"{K}GroundOverlay")
    )
    box = overlays[0].find(f"{K}LatLonBox")
    got = {c.tag.removeprefix(K): float(c.text) for c in box}
    assert got == pytest.approx(
        {
            "north": NORTH + STEP / 2,
            "south": NORTH - (ROWS - 0.5) * STEP,
            "west": WEST - STEP / 2,
            "east": WEST + 59.5 * STEP,
        }
    )
    for o in overlays:
        img = Image.open(io.BytesIO(files[o.find(f"{K}Icon/{K}href").text]))
        assert img.size == (60, 40) and img.mode == "RGBA"


def test_overlay_pixels_follow_the_layer(kmz):
    with zipfile.ZipFile(kmz) as z:
        img = np.asarray(Image.open(io.BytesIO(z.read("files/free_service_level.png"))))
    md = mapdata()
    sl = next(ly for ly in md.layers if ly.variant == "free" and ly.key == "service_level").values
    assert (img[..., 3][sl == 0] == 0).all()  # no service: transparent
    assert (img[sl == 3][:, :3] == [8, 81, 156]).all()  # data: #08519c


def test_placemarks_and_balloons(kmz):
    with zipfile.ZipFile(kmz) as z:
        root = ET.fromstring(z.read("doc.kml"))
    pms = {p.find(f"{K}name").text: p for p in root.iter(f"{K}Placemark")}
    h = pms["Hyesan"]
    lon, lat, _ = (float(x) for x in h.find(f"{K}Point/{K}coordinates").text.split(","))
    assert (lat, lon) == pytest.approx(HYESAN)
    desc = h.find(f"{K}description").text
    assert "192680" in desc and "Ryanggang" in desc and "changbai/lte-B3" in desc
    assert "<th align='left'>jam</th><td>none</td>" in desc
    assert h.find(f"{K}styleUrl").text == "#settlement"
    assert "57.0" in pms["Hyesan jammer"].find(f"{K}description").text
    assert pms["Changbai"].find(f"{K}styleUrl").text == "#site"
    assert pms["border"].find(f"{K}MultiGeometry/{K}LineString") is not None


def test_refuses_to_overwrite(kmz):
    with pytest.raises(OutputExistsError):
        write_kmz(kmz, mapdata())


def test_overlays_encoded_in_threads_give_the_one_thread_bytes(tmp_path, monkeypatch):
    """The overlays' PNGs are encoded on threads, a few in flight: the archive is the same,
    byte for byte, as with one thread (and every overlay is in it)."""
    import yalu.io.kml as kml

    md = mapdata()
    monkeypatch.setattr(kml, "encoder_threads", lambda: 1)
    write_kmz(tmp_path / "one.kmz", md)
    monkeypatch.setattr(kml, "encoder_threads", lambda: 3)
    write_kmz(tmp_path / "three.kmz", md)
    assert (tmp_path / "one.kmz").read_bytes() == (tmp_path / "three.kmz").read_bytes()
    with zipfile.ZipFile(tmp_path / "three.kmz") as z:
        names = z.namelist()
    overlays = [n for n in names if n.startswith("files/") and "legend" not in n
                and "icon" not in n]  # fmt: skip
    assert len(overlays) == len(md.layers) >= 7


def test_layers_on_disk_give_the_same_archive_without_a_whole_read(tmp_path, monkeypatch):
    """Layers that wait on disk (fine grids) are read by bands of rows for the overlays, the
    colour ranges and the legends' categories, never whole, and the archive is the in-memory
    one byte for byte (the legends read the whole layer once: 360 MB at a native 3" grid)."""
    import dataclasses

    import yalu.io.layerstyle as ls
    from yalu.io.spill import DiskArray

    md = mapdata()
    write_kmz(tmp_path / "memory.kmz", md)
    on_disk = []
    for k, ly in enumerate(md.layers):
        a = np.asarray(ly.values)
        np.save(tmp_path / f"l{k}.npy", a)
        on_disk.append(dataclasses.replace(ly, values=DiskArray(tmp_path / f"l{k}.npy", a.shape,
                                                                 a.dtype)))  # fmt: skip
    md.layers = on_disk
    monkeypatch.setattr(DiskArray, "read", lambda self: pytest.fail("read whole"))
    monkeypatch.setattr(ls, "_FINITE_CHUNK", 3 * COLS)
    write_kmz(tmp_path / "disk.kmz", md)
    assert (tmp_path / "disk.kmz").read_bytes() == (tmp_path / "memory.kmz").read_bytes()
