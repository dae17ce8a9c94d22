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


def test_local_cluster_of_two_worker_processes_is_bit_identical(local_run, tmp_path, monkeypatch):
    import tempfile

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    res = run_scenario(parse_scenario(SCENARIO), tmp_path / "out", workers=2)
    ex = res.execution
    # the workers of this machine shared their decoded terrain blocks, through a directory
    # that is gone after the maps
    assert ex["terrain_blocks_shared_by_workers"] >= 1
    assert not list(scratch.glob("yalu-terrain-blocks-*"))
    # one task per antenna (its maps computed together): fewer tasks than maps here
    assert ex["workers"] == 2 and 0 < ex["tasks"] < res.summary["inputs"]["path_loss_maps"]
    # a local cluster reads the terrain files itself: only the lazy terrain object is sent
    assert ex["terrain_transfer"] == "read"
    assert ex["terrain_bytes_read_by_workers"] > 0 and 0 < ex["bytes_sent"] < 4096
    assert ex["bytes_received"] > 0
    _assert_same(local_run, tmp_path / "out")


def test_terrain_sent_by_the_main_process_is_bit_identical(local_run, tmp_path):
    sc = parse_scenario(SCENARIO + "execution: {terrain_transfer: send}\n")
    res = run_scenario(sc, tmp_path / "out", workers=2)
    ex = res.execution
    assert ex["terrain_transfer"] == "send" and ex["terrain_bytes_read_by_workers"] == 0
    assert ex["terrain_blocks_shared_by_workers"] == 0
    assert ex["bytes_sent"] > 0
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
                "--terrain-transfer",
                "send",
            ],
        )
    assert r.exit_code == 0, r.output
    assert "Dask tasks on tcp://" in r.output and "MB of terrain sent" in r.output
    _assert_same(local_run, tmp_path / "out")


def test_scheduler_and_workers_together_are_refused(tmp_path):
    with pytest.raises(ParameterError, match="workers"):
        run_scenario(
            parse_scenario(SCENARIO), tmp_path / "out", scheduler="tcp://127.0.0.1:1", workers=2
        )
    with pytest.raises(Exception, match="scheduler or workers"):
        parse_scenario(SCENARIO + "execution: {scheduler: 'tcp://x:1', workers: 2}\n")


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


def _provider(terrain, transfer):
    from yalu.coverage.provider import EnginePathLoss

    return EnginePathLoss(terrain, radius_m=20e3, mode="exact", terrain_transfer=transfer)


def _requests():
    from yalu.radio.layers import Antenna

    return [(Antenna(40.9, 124.9, 30.0), 900.0, "forward", 1.5)]


def _grid():
    from yalu.geodesy import grid_around

    return grid_around(40.9, 124.9, 20e3, north_deg=41.2, west_deg=124.6, dlat_deg=1 / 60,
                       dlon_deg=1 / 60)  # fmt: skip


def test_a_worker_refuses_terrain_files_that_changed(client, tmp_path):
    import os
    import shutil

    from yalu.coverage.provider import _tile_jobs_read
    from yalu.errors import InputError
    from yalu.terrain import default_terrain, open_terrain

    src = default_terrain()
    path = tmp_path / "t.tif"
    shutil.copy(src._src.path, path)  # noqa: SLF001 - the embedded file, copied to be changed
    terrain = open_terrain(path)
    prov = _provider(terrain, "read")
    prov.client = client
    grid = _grid()
    prov.prefetch(_requests(), grid)
    assert prov.terrain_transfer_used == "read" and prov.terrain_bytes_read > 0
    ref = _provider(terrain, "send")
    ref.prefetch(_requests(), grid)  # locally
    key = next(iter(ref._maps))  # noqa: SLF001
    np.testing.assert_array_equal(prov._maps[key].data, ref._maps[key].data)  # noqa: SLF001
    # the file changes after the main process took its fingerprint
    fp = terrain.fingerprint()
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    kwargs, _box = prov._job_args(key)  # noqa: SLF001
    fut = client.submit(_tile_jobs_read, terrain, fp, kwargs, [(900.0, "forward")], 1, pure=False)
    with pytest.raises(InputError, match="differ from the main process"):
        fut.result()


def test_workers_share_blocks_only_with_room_to_spare(client, monkeypatch, tmp_path):
    import shutil
    import tempfile

    from yalu.coverage import provider as prov_mod
    from yalu.terrain import default_terrain

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    terrain = default_terrain()
    maps = []
    real = shutil.disk_usage
    for free in (10**15, 2**30):  # plenty; less than 1 GiB beyond the terrain
        monkeypatch.setattr(prov_mod.shutil, "disk_usage",
                            lambda p, free=free: real(p)._replace(free=free))  # fmt: skip
        prov = _provider(terrain, "read")
        prov.client = client
        prov.prefetch(_requests(), _grid())
        assert prov.terrain_blocks_shared == (1 if free > 2**30 else 0)
        assert not list(tmp_path.glob("yalu-terrain-blocks-*"))
        maps.append(next(iter(prov._maps.values())).data)  # noqa: SLF001
    np.testing.assert_array_equal(maps[0], maps[1])


def test_terrain_in_memory_cannot_be_read_by_workers(client):
    from yalu.terrain import default_terrain

    win = default_terrain().read_window(40.5, 124.5, 41.3, 125.3)
    prov = _provider(win, "read")
    prov.client = client
    with pytest.raises(ParameterError, match="terrain_transfer"):
        prov.prefetch(_requests(), _grid())
    auto = _provider(win, "auto")  # falls back to sending the windows
    auto.client = client
    auto.prefetch(_requests(), _grid())
    assert auto.terrain_transfer_used == "send" and auto.bytes_sent > 0


def test_loopback_addresses():
    from yalu.coverage.provider import _on_loopback

    for a in (
        "tcp://127.0.0.1:4000",
        "tcp://localhost:1",
        "tcp://[::1]:8786",
        "inproc://127.0.0.2/1",
    ):
        assert _on_loopback(a), a
    for a in ("tcp://10.0.0.5:8786", "tcp://node12:8786", "tls://192.168.1.2:1"):
        assert not _on_loopback(a), a


def test_local_cluster_workers_run_without_the_stack_profiler():
    import dask

    from yalu.coverage.dask import connect

    def profiled(dask_worker):
        return "profile" in dask_worker.periodic_callbacks

    def trim():
        import os

        return os.environ.get("MALLOC_TRIM_THRESHOLD_")

    def ticks(dask_worker=None, dask_scheduler=None):
        pc = (dask_worker or dask_scheduler).periodic_callbacks
        return (pc["tick"].callback_time, pc["monitor"].callback_time)  # [ms]

    before = dask.config.get("distributed.worker.profile.enabled")
    with connect(workers=2) as c:
        on = c.run(profiled)
        assert set(c.run(ticks).values()) == {(1000, 5000)}
        assert c.run_on_scheduler(ticks) == (1000, 5000)
        # Dask's own setting is gone from the workers' environment (one of the caller's stays)
        assert set(c.run(trim).values()) == {trim()}
    assert len(on) == 2 and not any(on.values())
    # the setting stays with the cluster: the caller's config is as it was
    assert dask.config.get("distributed.worker.profile.enabled") == before
    # a cluster started without it profiles (the check above can fail)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        assert all(c.run(profiled).values()) == bool(before)
        assert set(c.run(ticks).values()) != {(1000, 5000)}  # Dask's own: 20 ms and 500 ms
        dask_env = dask.config.get("distributed.nanny.pre-spawn-environ", default={})
        assert set(c.run(trim).values()) == {
            str(dask_env["MALLOC_TRIM_THRESHOLD_"])
            if "MALLOC_TRIM_THRESHOLD_" in dask_env
            else trim()
        }


def test_an_existing_cluster_whose_workers_profile_gets_a_warning():
    import warnings

    import dask

    from yalu.coverage.dask import LOCAL_WORKER_CONFIG, connect
    from yalu.errors import YaluWarning

    for cfg, expect in (
        ({"distributed.worker.profile.enabled": True}, 1),
        (LOCAL_WORKER_CONFIG, 0),
    ):
        with dask.config.set(cfg):
            cluster = distributed.LocalCluster(
                n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
            )
        with cluster, warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            with connect(scheduler=cluster.scheduler_address) as c:
                assert len(c.scheduler_info()["workers"]) == 1
        got = [w for w in seen if issubclass(w.category, YaluWarning)]
        assert len(got) == expect, [str(w.message) for w in seen]
        if expect:
            assert "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False" in str(got[0].message)


def test_workers_are_warmed_once_before_their_first_map():
    import sys

    from yalu.terrain import default_terrain

    def loaded():
        mod = sys.modules.get("yalu.coverage._kernels")
        return 0 if mod is None else len(mod.exact_nodes.signatures)

    prov = _provider(default_terrain(), "send")
    spec, jobs = prov._warm_spec(prov._groups([prov._map_key(a, f, d, _grid(), h)  # noqa: SLF001
                                               for a, f, d, h in _requests()])[0])  # fmt: skip
    # a few nodes beside the antenna, on a window of kilobytes, with the map's own jobs
    assert spec.grid.shape == (3, 3) and spec.elevation_m.nbytes < 200_000
    assert spec.mode == "exact" and jobs == [(900.0, "forward", 30.0)]
    assert np.isfinite(_tile_jobs_local(spec, jobs)).sum() >= 1
    # a fresh worker process has not loaded the engine's kernels: the warm-up does
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        assert set(c.run(loaded).values()) == {0}
        prov.client = c
        warmed = prov.warm_workers(_requests(), _grid())
        assert warmed == list(c.scheduler_info()["workers"]) and prov.warm_up_s > 0
        assert min(c.run(loaded).values()) >= 1
        assert prov.warm_workers(_requests(), _grid()) == []  # once per worker
        prov.prefetch(_requests(), _grid())
        assert prov.tasks == 1
    # the warm-up's maps are not kept: the run's map is the local one, bit for bit
    ref = _provider(default_terrain(), "send")
    ref.prefetch(_requests(), _grid())
    key = next(iter(ref._maps))  # noqa: SLF001
    np.testing.assert_array_equal(prov._maps[key].data, ref._maps[key].data)  # noqa: SLF001
    assert list(prov._maps) == [key]  # noqa: SLF001


def _tile_jobs_local(spec, jobs):
    from yalu.coverage.provider import _tile_jobs_on

    return _tile_jobs_on(spec, jobs, 1)
