"""Inputs: bounded before they are read (size, nesting, expansion, decompression, cost)."""

from __future__ import annotations

import gc
import gzip
import json
import os
import struct
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hostile_util import one_line_error, run_yalu, write_scenario, write_terrain

from yalu.cli.main import cli
from yalu.errors import InputError, ScenarioError, TerrainFormatError
from yalu.inputs import (
    InputTooLargeError,
    check_yaml_bounds,
    decode_text,
    gunzip_capped,
    read_bytes_capped,
    unzip_capped,
)
from yalu.scenario import load_scenario
from yalu.terrain import open_terrain
from yalu.terrain.formats import HGT_MAX_BYTES, read_hgt

SMALL_MEM = 1536 * 2**20  # validate and terrain info need well under this


def _alias_bomb(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_yaml_alias_bomb_is_refused_under_a_memory_cap(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(_alias_bomb())
    assert bomb.stat().st_size < 1500  # ~1 KB that expands to 9**10 = 3.5e9 nodes
    r = run_yalu("validate", str(bomb), mem=SMALL_MEM, timeout=30)
    one_line_error(r, "aliases are expanded")


def test_yaml_expansion_is_counted_exactly() -> None:
    # 3 levels of 9: 1 + 9 + 81 + 729 nodes under a9... counted, not built
    text = _alias_bomb(3)
    # the document: a mapping, 4 keys, 4 lists; a_k holds 9 copies of a_(k-1)
    sizes = [10]  # a0: the list and its 9 scalars
    for _ in range(3):
        sizes.append(1 + 9 * sizes[-1])
    total = 1 + 4 + sum(sizes)  # the root mapping, the keys, the values
    check_yaml_bounds(text, "x", max_nodes=total)
    with pytest.raises(InputTooLargeError, match="more than"):
        check_yaml_bounds(text, "x", max_nodes=total - 1)


def test_deep_yaml_and_json_nesting(tmp_path: Path, scen: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("a: " + "[" * 5000 + "]" * 5000 + "\n")
    r = CliRunner().invoke(cli, ["validate", str(deep)])
    msg = one_line_error(r, "deep.yaml: line 1: ")
    # refused by yalu's check at 64 levels, or by libyaml's own limit on flow nesting
    assert "nested deeper than 64 levels" in msg or "maximum nesting depth" in msg
    block = tmp_path / "block.yaml"
    block.write_text("".join("  " * k + f"k{k}:\n" for k in range(100)) + "  " * 100 + "x: 1\n")
    r = CliRunner().invoke(cli, ["validate", str(block)])
    one_line_error(r, "block.yaml: line 65: nested deeper than 64 levels")
    # a GeoJSON (regions) nested thousands deep
    (scen.parent / "regions.geojson").write_text('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}")
    from yalu.analysis.geo import load_polygons_geojson  # noqa: PLC0415

    with pytest.raises(InputError, match="nested too deeply"):
        load_polygons_geojson(scen.parent / "regions.geojson")


def test_fifo_and_devices_are_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "f.yaml"
    os.mkfifo(fifo)
    t0 = time.perf_counter()
    r = run_yalu("validate", str(fifo), mem=SMALL_MEM, timeout=30)
    one_line_error(r, "FIFO")
    r = run_yalu("validate", "/dev/zero", mem=SMALL_MEM, timeout=30)
    one_line_error(r, "character device")
    assert time.perf_counter() - t0 < 25
    with pytest.raises(InputError, match="FIFO"):
        read_bytes_capped(fifo)
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * 2000)
    with pytest.raises(InputTooLargeError, match="exceeds the limit"):
        read_bytes_capped(big, max_bytes=1000)


def _gz_bomb(path: Path, n_bytes: int, forged_isize: int | None = None) -> Path:
    with gzip.open(path, "wb", compresslevel=9) as g:
        chunk = b"\0" * (1 << 20)
        for _ in range(n_bytes >> 20):
            g.write(chunk)
    if forged_isize is not None:  # a trailer that lies about the size
        raw = bytearray(path.read_bytes())
        raw[-4:] = struct.pack("<I", forged_isize)
        path.write_bytes(bytes(raw))
    return path


def test_compressed_tiles_inflate_with_a_cap(tmp_path: Path) -> None:
    d = tmp_path / "N10"
    d.mkdir()
    # 256 MiB of zeros behind a trailer claiming a 3" tile: the cheap size check passes, the
    # stream stops at the largest tile size
    bomb = _gz_bomb(d / "N10E010.hgt.gz", 256 << 20, forged_isize=1201 * 1201 * 2)
    assert bomb.stat().st_size < 1 << 20
    with pytest.raises(TerrainFormatError, match="inflates to more than"):
        read_hgt(bomb)
    with pytest.raises(InputTooLargeError):
        gunzip_capped(bomb, HGT_MAX_BYTES)
    # the same through the CLI, under a memory cap smaller than the inflated data
    r = run_yalu("terrain", "info", str(tmp_path), mem=SMALL_MEM, timeout=60)
    one_line_error(r, "inflates to more than")
    z = tmp_path / "N11E010.hgt.zip"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("N11E010.hgt", b"\0" * (64 << 20))
    with pytest.raises(InputTooLargeError, match="inflates to"):
        unzip_capped(z, ".hgt", HGT_MAX_BYTES)


def test_ascii_grid_header_is_checked_against_the_file(tmp_path: Path) -> None:
    hdr = tmp_path / "hdr.asc"
    hdr.write_text("ncols 100000\nnrows 100000\nxllcorner 10\nyllcorner 10\ncellsize 0.00001\n"
                   "1 2 3\n")  # fmt: skip
    r = run_yalu("terrain", "info", str(hdr), mem=SMALL_MEM, timeout=60)
    one_line_error(r, "100000 x 100000 = 10,000,000,000 values but the file has only")
    short = tmp_path / "short.asc"
    short.write_text("ncols 3\nnrows 3\nxllcorner 10\nyllcorner 10\ncellsize 0.01\n1 2 3\n4 5\n"
                     "6 7 8 9 10 11\n")  # fmt: skip
    with pytest.raises(TerrainFormatError, match="9 values, the file holds 11"):
        open_terrain(short)


def test_cost_limits_state_the_cost(tmp_path: Path) -> None:
    runner = CliRunner()
    # 1.2e-5 degree cells (1.3 m) at 500 km: ~5e11 nodes
    fine = write_terrain(tmp_path / "fine.tif", np.zeros((50, 50), np.float32), step_deg=1.2e-5)
    r = runner.invoke(cli, ["coverage", "--terrain", str(fine), "--site", "10.3999,10.0001",
                            "--height-m", "30", "--frequency-mhz", "900", "--radius-km", "500",
                            "-o", str(tmp_path / "c.tif")])  # fmt: skip
    msg = one_line_error(r, "--radius-km = 500.0")
    assert "--max-nodes" in msg and "map nodes" in msg and "TiB" in msg
    assert not (tmp_path / "c.tif").exists()
    r = runner.invoke(cli, ["profile", "10.1,10.1", "10.3,10.3", "--terrain", str(fine),
                            "--step-m", "0.001"])  # fmt: skip
    msg = one_line_error(r, "--step-m = 0.001")
    from pyproj import Geod  # noqa: PLC0415

    length_m = Geod(ellps="WGS84").inv(10.1, 10.1, 10.3, 10.3)[2]  # ~31.1 km at 1 mm steps
    assert f"{length_m / 0.001 + 1:,.0f} profile points" in msg and "GiB" in msg
    r = runner.invoke(cli, ["terrain", "to-sdf", str(fine), "--bbox", "-90,-180,90,180",
                            "-o", str(tmp_path / "sdf")])  # fmt: skip
    msg = one_line_error(r, "64800 tiles")
    assert "GiB" in msg and not (tmp_path / "sdf").exists()


def test_validation_is_linear_in_the_number_of_sites(tmp_path: Path) -> None:
    from yalu.scenario import resolve_sites  # noqa: PLC0415

    def scenario_with(n: int) -> Path:
        d = tmp_path / f"n{n}"
        sc = write_scenario(d)
        rows = "".join(f"LTE,460,0,1,{k},0,{10.0 + k * 1e-6},{10.1},1000,1,1,0,0,0\n"
                       for k in range(n))  # fmt: skip
        (d / "cells.csv").write_text(rows)
        sc.write_text(sc.read_text() + "sites_csv:\n  - path: cells.csv\n    operators:\n"
                      "      - {name: cm, mcc: 460, height_m: 30, carriers: {lte: {band: B3, "
                      "bandwidth_mhz: 20, tx_power_dbm: 46, antenna_gain_dbi: 15}}}\n")  # fmt: skip
        return sc

    def timed(n: int) -> float:
        sc = load_scenario(scenario_with(n))
        best = float("inf")
        gc.disable()  # the collector's passes grow with the heap: not what is measured here
        try:
            for _ in range(3):
                t0 = time.perf_counter()
                sites = resolve_sites(sc)
                best = min(best, time.perf_counter() - t0)
        finally:
            gc.enable()
        assert len(sites) == n + 1
        return best

    small, big = timed(1_500), timed(12_000)
    # 8 times the sites: 8 to 10 times the time when linear (measured on a loaded 2-core
    # machine); the former pairwise id check (list.count per site) made it about 29 times
    assert big / small < 16, (small, big)


def test_scenario_size_cap(tmp_path: Path) -> None:
    from yalu.scenario import models  # noqa: PLC0415

    p = tmp_path / "s.yaml"
    p.write_bytes(b"#" * 100 + b"\n")
    old = models.MAX_SCENARIO_BYTES
    models.MAX_SCENARIO_BYTES = 50
    try:
        with pytest.raises(ScenarioError, match="exceeds the limit"):
            load_scenario(p)
    finally:
        models.MAX_SCENARIO_BYTES = old


# --------------------------------------------------------------------------------- encodings


def test_utf8_with_or_without_bom_and_other_bytes_named_by_line(tmp_path: Path) -> None:
    sc = write_scenario(tmp_path / "sc")
    bom = sc.with_name("bom.yaml")
    bom.write_bytes(b"\xef\xbb\xbf" + sc.read_bytes())
    assert load_scenario(bom).name == "tiny"
    latin = sc.with_name("latin.yaml")
    latin.write_bytes(sc.read_bytes().replace(b"name: tiny", b"name: t\xe9st"))
    with pytest.raises(
        ScenarioError, match=r"latin.yaml: line 1, column 8: byte 0xe9 is not UTF-8"
    ):
        load_scenario(latin)
    nul = sc.with_name("nul.yaml")
    nul.write_bytes(sc.read_bytes().replace(b"operator: op", b"operator: o\0p"))
    line = [k for k, t in enumerate(sc.read_text().splitlines(), 1) if "operator: op" in t][0]
    r = CliRunner().invoke(cli, ["validate", str(nul)])
    one_line_error(r, f"nul.yaml: line {line}: NUL byte")
    with pytest.raises(InputError, match="x.csv: line 3"):
        decode_text(b"a\nb\n\xff\n", "x.csv")


def test_latin1_settlements_csv_and_jsonl(tmp_path: Path) -> None:
    d = tmp_path / "sc"
    sc = write_scenario(d, settlements="latin.csv")
    (d / "latin.csv").write_bytes(
        b"geonameid,name,country,admin1_code,admin1,lat,lon,population\n"
        b"1,N\xe9ar,AA,01,Aprov,10.21,10.2,1000\n"
    )
    r = CliRunner().invoke(cli, ["run", str(sc), "-o", str(tmp_path / "out")])
    one_line_error(r, "latin.csv: line 2, column 4: byte 0xe9 is not UTF-8")
    src = tmp_path / "in.jsonl"
    src.write_bytes(b'{"id": "caf\xe9"}\n')
    out = tmp_path / "o.jsonl"
    r = CliRunner().invoke(cli, ["itm", "run", str(src), "-o", str(out)])
    assert r.exit_code == 0, r.output
    rec = json.loads(out.read_text())
    assert rec["computed"]["error"] == "line 1: byte 0xe9 is not UTF-8"
