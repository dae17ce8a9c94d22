"""Tile names and the SDF writer of ``yalu.terrain.formats``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from terrain_synth import linear_field, write_sdf

from yalu.errors import TerrainFormatError
from yalu.terrain.formats import (
    classify_tile,
    copernicus_name,
    hgt_name,
    read_sdf,
    sdf_name,
    write_sdf_tile,
)


@pytest.mark.parametrize(
    ("s", "w", "name"),
    [
        (41, 24, "41:42:335:336.sdf"),  # the bench tiles' convention
        (41, 124, "41:42:235:236.sdf"),
        (41, 0, "41:42:359:0.sdf"),  # as SPLAT! 1.4.2 asks for it
        (41, -1, "41:42:0:1.sdf"),
        (-34, 151, "-34:-33:208:209.sdf"),
        (41, -180, "41:42:179:180.sdf"),
    ],
)
def test_sdf_names_round_trip(s: int, w: int, name: str) -> None:
    assert sdf_name(s, w) == name
    t = classify_tile(Path(name))
    assert t is not None and (t.kind.name, t.south, t.west) == ("sdf", s, w)
    hd = classify_tile(Path(sdf_name(s, w, hd=True)))
    assert hd is not None and hd.hint_arcsec == 1


def test_other_tile_names() -> None:
    assert hgt_name(41, 24) == "N41E024.hgt" and hgt_name(-9, -76) == "S09W076.hgt"
    assert copernicus_name(41, 124, 1) == "Copernicus_DSM_COG_10_N41_00_E124_00_DEM.tif"
    for n, sw in (
        ("N41E024.hgt", (41, 24)),
        ("s09w076.HGT.zip", (-9, -76)),
        ("N41E024.hgt.gz", (41, 24)),
        ("Copernicus_DSM_COG_30_S09_00_W076_00_DEM.tif", (-9, -76)),
    ):
        t = classify_tile(Path(n))
        assert t is not None and (t.south, t.west) == sw, n
    a = classify_tile(Path("N41E024.hgt.gz.absent"))
    assert a is not None and a.absent
    for n in ("N41E024.tif", "41:43:335:336.sdf", "dem.asc", "N41E024.hgt.bak"):
        assert classify_tile(Path(n)) is None, n


def test_sdf_writer_matches_independent_writer(tmp_path: Path) -> None:
    ref = write_sdf(tmp_path, 41, 124)  # the test's own writer, from the published layout
    z = read_sdf(ref, 41, 124)
    assert z.shape == (1200, 1200)
    # row 0 is the northernmost SDF row (41 + 1199/1200), column 0 the west edge (124)
    assert z[0, 0] == pytest.approx(np.rint(linear_field(42 - 1 / 1200, 124.0)))
    assert z[-1, -1] == pytest.approx(np.rint(linear_field(41.0, 125 - 1 / 1200)))
    out = tmp_path / "mine" / ref.name
    out.parent.mkdir()
    write_sdf_tile(out, 41, 124, z)
    assert out.read_text() == ref.read_text()


def test_sdf_writer_rejects_bad_grid(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="1200x1200"):
        write_sdf_tile(tmp_path / "x.sdf", 41, 124, np.zeros((10, 10)))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("336\n41\n335\n42\n" + "12\n" * 100, "100 values|104 values"),
        ("336\n41\n335\n42\n" + "12\n" * (1200 * 1200 - 1) + "1x\n", "not an integer"),
        ("336\n41\n335\n42\n" + "12.5\n" * 10, "not an integer"),
        ("336\n41\n335\n42\n" + "- 3\n", "not an integer"),
        ("", "0 values"),
    ],
)
def test_sdf_reader_rejects_corrupt_tiles(tmp_path: Path, text: str, message: str) -> None:
    p = tmp_path / "41:42:335:336.sdf"
    p.write_text(text)
    with pytest.raises(TerrainFormatError, match=message):
        read_sdf(p)


def test_sdf_reader_parses_signs_and_crlf(tmp_path: Path) -> None:
    vals = np.arange(1200 * 1200, dtype=np.int64) % 5000 - 2500
    p = tmp_path / "41:42:335:336.sdf"
    p.write_bytes(("336\r\n41\r\n335\r\n42\r\n" + "\r\n".join(map(str, vals)) + "\r\n").encode())
    got = read_sdf(p, south=41)
    want = vals.reshape(1200, 1200)[::-1, ::-1].astype(np.float32)
    np.testing.assert_array_equal(got, want)
