"""End-to-end runs on synthetic terrain with known answers; atomicity; determinism; the demo."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from rasterio.transform import from_origin

from yalu.cli.main import cli

# a flat plateau at 100 m, 0.6 x 0.6 degrees at 15", around (10.3 N, 10.3 E)
LAT0, LON0 = 10.3, 10.3
SITE = (LAT0, LON0)
KM_LON = 111.32 * np.cos(np.radians(LAT0))  # km per degree of longitude


def _east(km):
    return round(LON0 + km / KM_LON, 6)


TOWNS = [  # geonameid, name, country, admin1, lat, lon, population
    (1, "Near", "AA", "01", LAT0, _east(3.0), 1000),  # 3 km: inside reach
    (2, "Far", "BB", "01", LAT0, _east(25.0), 500),  # 25 km: beyond LTE PRACH format 0 (14.5 km)
    (3, "Jammed", "BB", "01", LAT0, _east(8.0), 300),  # 8 km, a jammer in the town
    (4, "Unknown", "AA", "01", LAT0, _east(-4.0), 0),  # population unknown: a place, not people
]


def _write_inputs(d: Path, n_sites: int = 1, res_arcsec: int = 30) -> Path:
    step = 15 / 3600
    n = int(0.6 / step) + 1
    with rasterio.open(
        d / "flat.tif",
        "w",
        driver="GTiff",
        height=n,
        width=n,
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=from_origin(10.0 - step / 2, 10.6 + step / 2, step, step),
    ) as dst:
        dst.write(np.full((n, n), 100.0, np.float32), 1)
    (d / "towns.csv").write_text(
        "geonameid,name,country,admin1_code,admin1,lat,lon,population\n"
        + "".join(
            f"{g},{nm},{cc},{a1},{'Aprov' if cc == 'AA' else 'Bprov'},{la},{lo},{p}\n"
            for g, nm, cc, a1, la, lo, p in TOWNS
        )
    )
    box = lambda w, e: [[[w, 9.9], [e, 9.9], [e, 10.7], [w, 10.7], [w, 9.9]]]  # noqa: E731
    (d / "regions.geojson").write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"gn_a1_code": "AA.01", "name": "Aprov"},
                        "geometry": {"type": "Polygon", "coordinates": box(9.9, _east(5.5))},
                    },
                    {
                        "type": "Feature",
                        "properties": {"gn_a1_code": "BB.01", "name": "Bprov"},
                        "geometry": {"type": "Polygon", "coordinates": box(_east(5.5), 10.7)},
                    },
                ],
            }
        )
    )
    (d / "border.geojson").write_text(
        json.dumps(
            {
                "type": "Feature",
                "properties": {},
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[_east(5.5), 9.9], [_east(5.5), 10.7]],
                },
            }
        )
    )
    sites = []
    for k in range(n_sites):
        lat = LAT0 + 0.0025 * k  # 120 sites stay on the 10-10.6 N terrain
        sites.append(f"""  - id: site{k}
    lat_deg: {lat}
    lon_deg: {LON0}
    height_m: 30
    operator: op
    carriers:
      - technology: lte
        band: B3
        bandwidth_mhz: 20
        tx_power_dbm: 46
        antenna_gain_dbi: 15
""")
    (d / "scenario.yaml").write_text(f"""name: synthetic
terrain: {{source: file, path: flat.tif}}
grid: {{resolution_arcsec: {res_arcsec}, \
bbox: {{south_deg: 10.05, west_deg: 10.05, north_deg: 10.55, east_deg: 10.55}}}}
analysis_area:
  within_km_of_border: {{distance_km: 40, line: border.geojson}}
propagation: {{model: itm, max_distance_km: 30}}
population: {{settlements_csv: towns.csv, regions: regions.geojson, census: null}}
output: {{map_width_px: 400}}
handsets: [{{name: phone, technologies: [lte]}}]
sites:
{"".join(sites)}jammers:
  - id: jam
    name: Jammed
    lat_deg: {TOWNS[2][4]}
    lon_deg: {TOWNS[2][5]}
    height_m: 20
    eirp_dbm: 50
    bands_mhz: [[1805, 1880]]
restricted_zones:
  - {{label: statue, lat_deg: {LAT0}, lon_deg: {_east(3.0)}, radius_m: 300, illustrative: true}}
variants:
  - name: jammed
  - name: free
    jammers: false
""")
    return d / "scenario.yaml"


@pytest.fixture(scope="module")
def synthetic_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("syn")
    sc = _write_inputs(d)
    r = CliRunner().invoke(cli, ["run", str(sc), "-o", str(d / "out")])
    assert r.exit_code == 0, r.output + str(r.exception)
    return d


def test_known_answers(synthetic_run):
    out = synthetic_run / "out"
    s = json.loads((out / "summary.json").read_text())
    by = {v: {t["name"]: t["service_level"] for t in s["settlements"]} for v in ["primary"]}[
        "primary"
    ]
    free = s["variants"]["free"]["service_by_settlement"]
    jam = s["variants"]["jammed"]["service_by_settlement"]
    assert s["primary_variant"] == "jammed"
    assert by["Near"] != "none" and free["1"] != "none" and jam["1"] != "none"
    assert free["2"] == "none" and jam["2"] == "none"  # beyond the LTE range limit
    assert free["3"] != "none" and jam["3"] == "none"  # jammed only with the jammer
    # people: cumulative by level, unknown-population place counted as a place only
    near = s["variants"]["free"]["population_within_reach"]["AA"]["Aprov"]
    assert near["sms"] == 1000
    assert s["variants"]["free"]["population_within_reach"]["BB"]["Bprov"]["sms"] == 300
    assert s["variants"]["jammed"]["population_within_reach"]["BB"]["Bprov"]["sms"] == 0
    assert (
        s["variants"]["free"]["unknown_population_places_within_reach"]["AA"]["Aprov"]["sms"] == 1
    )
    for v in s["variants"].values():
        for per_c in v["area_km2"].values():
            assert per_c["sms"] >= per_c["voice"] >= per_c["data"]
    # the LTE range limit bounds the served area: pi * 14.5^2 = 660 km2 at most
    total = sum(v["sms"] for v in s["variants"]["free"]["area_km2"].values())
    assert 100 < total < 700
    assert s["inputs"]["terrain"]["source"] == "file" and len(s["inputs"]["scenario_hash"]) == 64
    assert set(s["timings_s"]) >= {"path_loss", "total"}
    # rasters agree with the summary at the towns
    with rasterio.open(out / "rasters" / "jammed" / "service_level.tif") as src:
        lvl = src.read(1)
        row, col = src.index(TOWNS[2][5], TOWNS[2][4])
        assert lvl[row, col] == 0
        row, col = src.index(TOWNS[0][5], TOWNS[0][4])
        assert lvl[row, col] >= 1
    for f in [
        "report.md",
        "report.html",
        "maps/jammed_service_level.png",
        "rasters/restricted.tif",
        "rasters/free/rsrp_dbm.tif",
        "rasters/free/best_server_sites.csv",
    ]:
        assert (out / f).is_file(), f
    html = (out / "report.html").read_text()
    import re

    assert not re.search(r"(?i)\b(?:https?|ftp)://", html)
    assert not re.search(r"""(?i)(?:src|href)\s*=\s*["'](?!data:)""", html)
    # the interactive map's data is inline: a service-level layer per variant
    assert (
        'id="yalu-map-data"' in html
        and '"id":"jammed/service_level"' in html
        and '"id":"free/service_level"' in html
    )


def test_refuses_to_overwrite_and_determinism(synthetic_run, tmp_path):
    d = synthetic_run
    r = CliRunner().invoke(cli, ["run", str(d / "scenario.yaml"), "-o", str(d / "out")])
    assert r.exit_code != 0 and "exists" in (r.output + str(r.exception))
    r = CliRunner().invoke(cli, ["run", str(d / "scenario.yaml"), "-o", str(d / "out2")])
    assert r.exit_code == 0, r.output
    a, b = d / "out", d / "out2"
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for f in files:
        if f.name == "summary.json":
            sa, sb = (json.loads((x / f).read_text()) for x in (a, b))
            sa.pop("timings_s")
            sb.pop("timings_s")
            assert sa == sb
        elif f.suffix in (".md", ".html"):

            def strip(t: str) -> str:
                return re.sub(
                    r"## Timings\n.*?\n\n|<h2>Timings</h2>\n<p>.*?</p>", "", t, flags=re.S
                )

            assert strip((a / f).read_text()) == strip((b / f).read_text()), f
        else:
            assert (a / f).read_bytes() == (b / f).read_bytes(), f


import re  # noqa: E402


def test_sigint_leaves_existing_output_untouched(tmp_path):
    d = tmp_path
    sc = _write_inputs(d, n_sites=120, res_arcsec=15)  # several seconds of path-loss maps
    out = d / "out"
    out.mkdir()
    (out / "keep.txt").write_text("old result")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    p = subprocess.Popen(
        [sys.executable, "-m", "yalu.cli.main", "run", str(sc), "-o", str(out), "--overwrite"],
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        # Ctrl-C as in a terminal: a runner started in the background (``cmd &`` in a
        # non-interactive shell) passes SIGINT on ignored, and Python then never raises
        # KeyboardInterrupt
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    seen = ""
    t0 = time.time()
    while time.time() - t0 < 120:
        line = p.stderr.readline()
        seen += line
        if "path loss maps [0/" in line or not line:
            break
    assert "path loss maps [0/" in seen, seen
    p.send_signal(signal.SIGINT)  # during the path-loss maps, long before the outputs
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    assert "Traceback" not in err
    assert (out / "keep.txt").read_text() == "old result"
    assert sorted(x.name for x in out.iterdir()) == ["keep.txt"]
    assert not [x for x in d.iterdir() if x.name.startswith(".out.")]


def test_cli_errors_exit_2_without_traceback(tmp_path):
    _write_inputs(tmp_path)
    sc = tmp_path / "scenario.yaml"
    sc.write_text(sc.read_text().replace("height_m: 30", "height_m: -30"))
    r = subprocess.run(
        [sys.executable, "-m", "yalu.cli.main", "run", str(sc), "-o", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "scenario.yaml: line " in r.stderr and "sites[0].height_m = -30: must be > 0" in r.stderr
    assert not (tmp_path / "o").exists()


def test_demo_print_scenario_matches_example():
    r = CliRunner().invoke(cli, ["demo", "--print-scenario"])
    assert r.exit_code == 0
    root = Path(__file__).parents[2]
    assert r.output == (root / "examples" / "sino-korean-border.yaml").read_text()
    from importlib import resources

    shipped = resources.files("yalu").joinpath("data/sino-korean-border.yaml").read_text("utf-8")
    assert shipped == r.output  # the packaged copy is the example


@pytest.mark.slow
def test_demo_runs(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "yalu.cli.main", "demo", "-o", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert r.returncode == 0, (r.returncode, r.stderr[-2000:])
    assert "COARSE terrain" in r.stderr and "yalu terrain fetch" in r.stderr
    s = json.loads((tmp_path / "demo" / "summary.json").read_text())
    assert s["inputs"]["terrain"]["coarse"] is True
    assert set(s["variant_order"]) == {
        "jammers",
        "no-jammers",
        "jammers-gsm",
        "jammers-lte",
        "no-jammers-gsm",
        "no-jammers-lte",
    }
    assert "KP" in s["population_within_reach"]
    assert "COARSE TERRAIN" in (tmp_path / "demo" / "report.html").read_text()
    # the flagship declares its unknowns: its headline is a band, with and without jammers
    u = s["uncertainty"]
    assert u["samples"] == 200 and set(u["variants"]) == {"jammers", "no-jammers"}
    for vu in u["variants"].values():
        b = vu["population_within_reach"]["KP"]["sms"]
        a = vu["area_km2"]["KP"]["sms"]
        assert b["p10"] <= b["p50"] <= b["p90"] and a["p10"] < a["p90"]
    assert u["cost"]["ratio_cpu"] > 1.0
    assert (tmp_path / "demo" / "maps" / "sensitivity_tornado.png").is_file()
    assert "P10 / P50 / P90" in r.stdout + r.stderr


def test_bbox_free_space_csv_sites_run(tmp_path):
    """Other branches of the glue: bbox area, free space, OpenCellID sites, NR, no jammers."""
    _write_inputs(tmp_path)
    (tmp_path / "cells.csv").write_text(
        "radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal\n"
        f"NR,460,0,1,7,0,{LON0},{LAT0},1000,3,1,0,0,0\n"
        f"GSM,460,0,1,8,0,{LON0},{LAT0 + 0.05},1000,3,1,0,0,0\n"
    )
    (tmp_path / "s2.yaml").write_text("""name: other branches
terrain: {source: file, path: flat.tif}
grid: {resolution_arcsec: 60}
analysis_area:
  bbox: {south_deg: 10.1, west_deg: 10.1, north_deg: 10.5, east_deg: 10.5}
propagation: {model: free_space, max_distance_km: 40}
population: {settlements_csv: towns.csv, regions: regions.geojson, census: null}
sites_csv:
  - path: cells.csv
    operators:
      - name: op
        mcc: 460
        height_m: 25
        carriers:
          nr: {band: n78, bandwidth_mhz: 100}
          gsm: {band: GSM900}
""")
    r = CliRunner().invoke(cli, ["run", str(tmp_path / "s2.yaml"), "-o", str(tmp_path / "o2")])
    assert r.exit_code == 0, r.output + repr(r.exception)
    s = json.loads((tmp_path / "o2" / "summary.json").read_text())
    assert s["variant_order"] == ["baseline"]
    assert s["inputs"]["sector_carriers"] == 2 and s["inputs"]["propagation_model"] == "free_space"
    assert s["variants"]["baseline"]["service_by_settlement"]["1"] != "none"
    assert s["variants"]["baseline"]["sanity"]["assessment"][1]["verdict"] == "not computed"
    best = {x["name"]: x["best_site"] for x in s["settlements"]}
    assert best["Near"] in ("NR-460-0-1-7", "GSM-460-0-1-8")


def test_map_outputs_agree_with_the_rasters(synthetic_run):
    """report.html's map, map.gpkg and map.kmz say what the GeoTIFFs and summary.json say."""
    import xml.etree.ElementTree as ET
    import zipfile

    import pyogrio.raw
    from browser import load

    out = synthetic_run / "out"
    s = json.loads((out / "summary.json").read_text())
    pts = [(t[4], t[5]) for t in TOWNS] + [(LAT0 + 0.05, _east(6.0)), (LAT0 - 0.1, _east(-10.0))]
    frag = "query=" + ";".join(f"{a},{b}" for a, b in pts) + "&variant=free"
    r = load(out / "report.html", frag)
    assert r.console == [] and r.requests == [], (r.console, r.requests)
    assert 'data-yalu-ready="1"' in r.root_tag and "data-yalu-errors" not in r.root_tag
    res = json.loads(r.element_text("yalu-query-result"))
    n = 0
    for (lat, lon), q in zip(pts, res, strict=True):
        for key, v in q["values"].items():
            path = (
                out / "rasters" / ("restricted.tif" if key == "restricted" else f"free/{key}.tif")
            )
            with rasterio.open(path) as src:
                want = src.read(1)[src.index(lon, lat)]
                nodata = src.nodata
            if key in ("service_level", "best_server", "restricted"):
                assert v == (None if want == nodata else int(want)), (key, lat, lon)
            elif np.isnan(want):
                assert v is None, (key, lat, lon)
            else:
                assert v == pytest.approx(float(want), abs=0.05 + 1e-3), (key, lat, lon)
                n += 1
    assert n >= 8  # served points were compared, not only blanks
    # the settlement info: clicking "Jammed" in the jammed variant shows no service
    r = load(out / "report.html", f"click={TOWNS[2][4]},{TOWNS[2][5]}&variant=jammed")
    info = r.element_text("yalu-info")
    assert "Jammed" in info and "<td>none</td>" in info and "300" in info
    # the GeoPackage's settlements agree with the summary, in every variant
    meta, _f, _g, fields = pyogrio.raw.read(out / "map.gpkg", layer="settlements", return_fids=True)
    cols = dict(zip(meta["fields"], fields, strict=True))
    for v in ("jammed", "free"):
        got = dict(
            zip([str(x) for x in cols["geonameid"]], cols[f"{v}__service_level"], strict=True)
        )
        assert got == s["variants"][v]["service_by_settlement"]
    # the service polygons' areas add up to the served area of the summary (all served nodes
    # lie in the analysis area here)
    meta, _f, _g, fields = pyogrio.raw.read(
        out / "map.gpkg", layer="service_free", return_fids=True
    )
    area = dict(
        zip(
            fields[list(meta["fields"]).index("level")],
            fields[list(meta["fields"]).index("area_km2")],
            strict=True,
        )
    )
    summ = sum(a["sms"] for a in s["variants"]["free"]["area_km2"].values())
    assert sum(area.values()) == pytest.approx(summ, rel=5e-3)
    # KMZ: a ground overlay per layer of each variant; categorical rasters are styled
    with zipfile.ZipFile(out / "map.kmz") as z:
        root = ET.fromstring(z.read("doc.kml"))
    ns = "{http://www.opengis.net/kml/2.2}"
    per_variant = len(list((out / "rasters" / "free").glob("*.tif")))
    assert per_variant >= 6
    assert len(list(root.iter(f"{ns}GroundOverlay"))) == 2 * per_variant + 1
    for f in (
        "rasters/free/service_level.qml",
        "rasters/free/service_level.tif.aux.xml",
        "rasters/free/best_server.qml",
        "rasters/free/rsrp_dbm.qml",
        "rasters/restricted.qml",
    ):
        assert (out / f).is_file(), f
    with rasterio.open(out / "rasters" / "free" / "service_level.tif") as src:
        assert src.colormap(1)[3][:3] == (8, 81, 156)
