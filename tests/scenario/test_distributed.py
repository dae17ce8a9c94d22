"""Scenario runs on real Dask clusters (worker processes) give the local run's bits."""

import json

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner

from yalu.errors import ParameterError
from yalu.scenario import parse_scenario
from yalu.scenario.runner import run_scenario

distributed = pytest.importorskip("distributed", reason="the dask extra (distributed) is needed")

SCENARIO = """\
name: dask
terrain: {source: embedded}
analysis_area:
  bbox: {south_deg: 40.6, west_deg: 124.6, north_deg: 41.2, east_deg: 125.4}
grid: {resolution_arcsec: 120}
propagation: {max_distance_km: 35, engine_mode: exact}
population: {census: null}
output: {png: false, report_html: false, report_md: false}
sites:
  - {id: a, lat_deg: 40.9, lon_deg: 124.9, height_m: 30,
     carriers: [{technology: lte, band: B3}, {technology: gsm, band: GSM900}]}
  - {id: b, lat_deg: 41.05, lon_deg: 125.2, height_m: 40, carriers: [{technology: lte, band: B3}]}
jammers:
  - {id: j, lat_deg: 40.95, lon_deg: 125.0, height_m: 20, eirp_dbm: 50, bands_mhz: [[1805, 1880]]}
variants:
  - {name: jammed}
  - {name: free, jammers: false}
"""


def _rasters(outdir):
    out = {}
    for p in sorted((outdir / "rasters").rglob("*.tif")):
        with rasterio.open(p) as r:
            out[str(p.relative_to(outdir))] = r.read()
    return out


def _summary(outdir):
    s = json.loads((outdir / "summary.json").read_text(encoding="utf-8"))
    s.pop("timings_s")
    s["inputs"].pop("scenario_file")  # the CLI run reads a file, the library runs do not
    return s


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("local") / "out"
    res = run_scenario(parse_scenario(SCENARIO), out)
    assert res.execution["tasks"] == 0
    return out


def _assert_same(a, b):
    ra, rb = _rasters(a), _rasters(b)
    assert ra.keys() == rb.keys() and len(ra) >= 10
    for k in ra:
        np.testing.assert_array_equal(ra[k], rb[k], err_msg=k)
    assert _summary(a) == _summary(b)


def test_local_cluster_of_two_worker_processes_is_bit_identical(local_run, tmp_path):
    res = run_scenario(parse_scenario(SCENARIO), tmp_path / "out", workers=2)
    ex = res.execution
    # one task per antenna (its maps computed together): fewer tasks than maps here
    assert ex["workers"] == 2 and 0 < ex["tasks"] < res.summary["inputs"]["path_loss_maps"]
    assert ex["bytes_sent"] > 0 and ex["bytes_received"] > 0
    _assert_same(local_run, tmp_path / "out")


def test_existing_scheduler_from_the_cli(local_run, tmp_path):
    from yalu.cli.main import cli

    yaml_path = tmp_path / "s.yaml"
    yaml_path.write_text(SCENARIO, encoding="utf-8")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None
    ) as cluster:
        r = CliRunner().invoke(
            cli,
            [
                "run",
                str(yaml_path),
                "-o",
                str(tmp_path / "out"),
                "--scheduler",
                cluster.scheduler_address,
            ],
        )
    assert r.exit_code == 0, r.output
    assert "Dask tasks on tcp://" in r.output
    _assert_same(local_run, tmp_path / "out")


def test_scheduler_and_workers_together_are_refused(tmp_path):
    with pytest.raises(ParameterError, match="workers"):
        run_scenario(
            parse_scenario(SCENARIO), tmp_path / "out", scheduler="tcp://127.0.0.1:1", workers=2
        )
    with pytest.raises(Exception, match="scheduler or workers"):
        parse_scenario(SCENARIO + "execution: {scheduler: 'tcp://x:1', workers: 2}\n")
