"""The output phase's tables: service limits counted by bands of rows."""

from __future__ import annotations

import numpy as np
import pytest

from yalu.errors import ParameterError
from yalu.io.spill import DiskArray
from yalu.radio.budget import LIMIT_NAMES


@pytest.mark.parametrize("band_nodes", [1, 50, 1 << 20])
def test_service_limits_by_bands_count_what_numpy_unique_counts(tmp_path, monkeypatch,
                                                                band_nodes):  # fmt: skip
    """Nodes of the area per level and limit, read a band of rows at a time from disk, are
    those of numpy.unique over the whole masked grids (the form the bands replace)."""
    import yalu.scenario.outputs as outputs

    monkeypatch.setattr(outputs, "_LIMIT_BAND_NODES", band_nodes)
    rng = np.random.default_rng(4)
    shape = (37, 23)
    level = rng.integers(0, 4, shape).astype(np.int8)
    limit = rng.integers(0, len(LIMIT_NAMES), shape).astype(np.int8)
    limit[level == 2] = 3  # one limit only at level 2
    in_area = rng.random(shape) < 0.7
    np.save(tmp_path / "lev.npy", level)
    np.save(tmp_path / "lim.npy", limit)
    monkeypatch.setattr(DiskArray, "read", lambda self: pytest.fail("read whole"))
    got = outputs._limits_by_level(DiskArray(tmp_path / "lev.npy", shape, np.int8),
                                   DiskArray(tmp_path / "lim.npy", shape, np.int8), in_area,
                                   len(LIMIT_NAMES))  # fmt: skip
    for k in range(3):
        sel = (level == k) & in_area
        codes, counts = np.unique(limit[sel], return_counts=True)
        want = np.zeros(len(LIMIT_NAMES), np.int64)
        want[codes] = counts
        assert np.array_equal(got[k], want), k
    assert np.count_nonzero(got[2]) == 1 and got.sum() == int((in_area & (level < 3)).sum())
    limit[3, 4], level[3, 4], in_area[3, 4] = len(LIMIT_NAMES), 0, True
    with pytest.raises(ParameterError, match=rf"service_limit.*{len(LIMIT_NAMES)}.*codes 0 to"):
        outputs._limits_by_level(level, limit, in_area, len(LIMIT_NAMES))


def _split_reference(rsrp, best, server_tech):
    """The split as it was first written: an object array of each node's technology."""
    from yalu.io.layerstyle import split_signal_keys

    tech_of = np.asarray(list(server_tech) + [""], dtype=object)
    node_tech = tech_of[np.where(best >= 0, best, len(server_tech))]
    out = {}
    for t, key in split_signal_keys(server_tech).items():
        m = node_tech == t
        if m.any():
            out[key] = np.where(m, rsrp, np.nan).astype(np.float32)
    return out


@pytest.mark.parametrize(
    "server_tech", [["gsm", "lte", "gsm"], ["lte", "lte", "gsm"], ["gsm", "", "lte"]]
)
@pytest.mark.parametrize("band_nodes", [1, 40, 1 << 20])
def test_the_signal_split_on_disk_by_bands_is_the_split_in_memory(
    tmp_path, monkeypatch, server_tech, band_nodes
):
    """Each technology's share of the signal, split a band of rows at a time into a spill
    store, is the split of the whole layers (NaN elsewhere, "" servers and nodes without a
    server together, as the object-array form had them); an absent technology leaves no file."""
    import yalu.scenario.outputs as outputs
    from yalu.io.layerstyle import split_signal
    from yalu.io.spill import SpillStore

    monkeypatch.setattr(outputs, "_SPLIT_BAND_NODES", band_nodes)
    rng = np.random.default_rng(7)
    shape = (19, 13)
    rsrp = rng.normal(-90, 15, shape).astype(np.float32)
    best = rng.integers(-1, 3, shape).astype(np.int16)
    if server_tech[0] == "lte":
        best[best == 2] = 0  # the GSM server serves no node
    want = _split_reference(rsrp, best, server_tech)
    assert split_signal(rsrp, best, server_tech).keys() == want.keys()
    for key, arr in split_signal(rsrp, best, server_tech).items():
        np.testing.assert_array_equal(arr, want[key])
    np.save(tmp_path / "rsrp.npy", rsrp)
    np.save(tmp_path / "best.npy", best)
    store_dir = tmp_path / "store"
    store_dir.mkdir()
    got = outputs._split_signal_on_disk(
        SpillStore(store_dir), "v", DiskArray(tmp_path / "rsrp.npy", shape, np.float32),
        DiskArray(tmp_path / "best.npy", shape, np.int16), server_tech,
    )  # fmt: skip
    # every technology but the one that serves no node
    assert list(got) == list(want) and len(want) == len(set(server_tech)) - (
        server_tech[0] == "lte"
    )
    for key, arr in got.items():
        assert isinstance(arr, DiskArray)
        np.testing.assert_array_equal(np.asarray(arr), want[key])
    assert sorted(p.name for p in store_dir.iterdir()) == sorted(a.path.name for a in got.values())


def _map_jobs(tmp_path, n):
    """``n`` continuous maps and one of service levels on a small grid, into tmp_path/maps."""
    from yalu.geodesy import Grid
    from yalu.scenario.outputs import _MapJob

    grid = Grid(42.0, 124.0, 0.05, 0.05, 20, 30)
    rng = np.random.default_rng(3)
    common = {"grid": grid, "width_px": 400}
    jobs = [
        _MapJob("v", f"m{i}", "layer", tmp_path / "maps" / f"m{i}.png",
                rng.normal(-90, 10, grid.shape).astype(np.float32),
                {**common, "title": f"map {i}", "units": "dBm"}, ("rsrp_dbm", ["lte"]))
        for i in range(n)
    ]  # fmt: skip
    jobs.append(_MapJob("w", "service level", "service", tmp_path / "maps" / "level.png",
                        rng.integers(0, 4, grid.shape).astype(np.uint8),
                        {**common, "title": "levels"}))  # fmt: skip
    return grid, jobs


def _drawn_bytes(jobs):
    return {job.path.name: job.path.read_bytes() for job in jobs}


def test_a_helper_process_draws_the_first_maps_and_this_one_the_rest(tmp_path, monkeypatch):
    """The helper (a real process) claims maps first to last, this process last to first; every
    map is drawn once and the files are those drawn here alone, byte for byte."""
    import time

    import yalu.scenario.outputs as outputs

    grid, seq = _map_jobs(tmp_path / "alone", 5)
    maps_alone = outputs._finish_maps(seq, None)
    grid, jobs = _map_jobs(tmp_path / "both", 5)
    here = []
    draw = outputs._draw
    monkeypatch.setattr(outputs, "_draw", lambda job: here.append(job.name) or draw(job))
    with outputs._map_helper(jobs, grid) as helper:
        assert helper is not None
        work = helper.work
        # both draw: wait until the helper has taken its first map
        t0 = time.monotonic()
        while not (work / "0.claim").exists():
            assert time.monotonic() - t0 < 120, (work / "stderr").read_text()
            time.sleep(0.02)
        maps = outputs._finish_maps(jobs, helper)
        assert helper.proc.returncode == 0
    assert not work.exists()  # its scratch directory goes with it
    assert 0 < len(here) < len(jobs) and "m0" not in here
    assert {v: list(m) for v, m in maps.items()} == {v: list(m) for v, m in maps_alone.items()}
    assert _drawn_bytes(jobs) == _drawn_bytes(seq)


def test_a_helper_that_cannot_start_leaves_its_maps_to_this_process(tmp_path, monkeypatch):
    import sys

    import yalu.scenario.outputs as outputs
    from yalu.errors import YaluWarning

    grid, seq = _map_jobs(tmp_path / "alone", 4)
    outputs._finish_maps(seq, None)
    grid, jobs = _map_jobs(tmp_path / "both", 4)
    monkeypatch.setattr(sys, "executable", "/bin/false")
    with outputs._map_helper(jobs, grid) as helper:
        assert helper is not None
        helper.proc.wait()  # it exits at once, having drawn nothing
        with pytest.warns(YaluWarning, match=r"exit status 1.*drew the maps instead"):
            outputs._finish_maps(jobs, helper)
    assert _drawn_bytes(jobs) == _drawn_bytes(seq)


def test_no_helper_for_few_maps_or_a_large_grid(tmp_path, monkeypatch):
    import yalu.scenario.outputs as outputs

    grid, jobs = _map_jobs(tmp_path, 3)
    with outputs._map_helper(jobs[: outputs.MAP_HELPER_MIN_MAPS - 1], grid) as helper:
        assert helper is None
    monkeypatch.setattr(outputs, "MAP_HELPER_MAX_NODES", grid.shape[0] * grid.shape[1] - 1)
    with outputs._map_helper(jobs, grid) as helper:
        assert helper is None
    monkeypatch.setattr(outputs, "MAP_HELPER_MAX_NODES", grid.shape[0] * grid.shape[1])
    with outputs._map_helper(jobs, grid) as helper:
        assert helper is not None


def test_no_helper_where_its_process_cannot_be_started(tmp_path, monkeypatch):
    """No interpreter to start: a warning, and the maps are drawn here (none lost)."""
    import sys

    import yalu.scenario.outputs as outputs
    from yalu.errors import YaluWarning

    grid, jobs = _map_jobs(tmp_path, 4)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-python"))
    with pytest.warns(YaluWarning, match="no helper process.*FileNotFoundError"):
        with outputs._map_helper(jobs, grid) as helper:
            assert helper is None
            outputs._finish_maps(jobs, helper)
    assert all(job.path.stat().st_size > 0 for job in jobs)


def test_maps_are_read_back_whichever_process_drew_them(tmp_path):
    import yalu.scenario.outputs as outputs
    from yalu.errors import OutputError

    _grid, jobs = _map_jobs(tmp_path, 2)
    outputs._finish_maps(jobs, None)
    assert outputs._by_variant(jobs)["v"]["m0"] == jobs[0].path
    jobs[1].path.write_bytes(b"not a png")
    with pytest.raises(OutputError, match="m1.png is not a PNG"):
        outputs._by_variant(jobs)
    jobs[1].path.unlink()
    with pytest.raises(OutputError, match="m1.png was not written"):
        outputs._by_variant(jobs)


@pytest.mark.parametrize("band_nodes", [1, 60, 1 << 20])
def test_values_at_settlements_read_only_their_bands(tmp_path, monkeypatch, band_nodes):
    """A layer on disk gives the in-memory values at the settlements' nodes (repeated nodes,
    any order, float and integer layers), reading only the bands of rows that hold one."""
    import yalu.scenario.outputs as outputs

    monkeypatch.setattr(outputs, "_SPLIT_BAND_NODES", band_nodes)
    rng = np.random.default_rng(9)
    shape = (41, 17)
    read: list[tuple[int, int]] = []
    real_rows = DiskArray.rows

    def rows(self, r0, r1):
        read.append((r0, r1))
        return real_rows(self, r0, r1)

    row = np.array([40, 0, 7, 7, 22, 3, 40, 12])
    col = np.array([16, 0, 3, 3, 9, 16, 1, 5])
    for dtype in (np.float32, np.int32, np.uint8):
        a = (rng.normal(0, 50, shape) if dtype is np.float32
             else rng.integers(0, 200, shape)).astype(dtype)  # fmt: skip
        a[0, 0] = np.nan if dtype is np.float32 else a[0, 0]
        np.save(tmp_path / "a.npy", a)
        disk = DiskArray(tmp_path / "a.npy", shape, dtype)
        read.clear()
        monkeypatch.setattr(DiskArray, "read", lambda self: pytest.fail("read whole"))
        monkeypatch.setattr(DiskArray, "rows", rows)
        got = outputs._values_at(disk, row, col)
        monkeypatch.setattr(DiskArray, "rows", real_rows)
        assert got.dtype == a.dtype
        assert np.array_equal(got, a[row, col], equal_nan=True)
        # no band without a settlement is read, and none twice
        step = max(1, band_nodes // shape[1])
        assert sorted(r0 // step for r0, _ in read) == sorted(set((row // step).tolist()))
        assert np.array_equal(outputs._values_at(a, row, col), a[row, col], equal_nan=True)
    with pytest.raises(IndexError):
        outputs._values_at(disk, np.array([41]), np.array([0]))
