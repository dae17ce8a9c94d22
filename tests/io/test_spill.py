"""Arrays kept on disk between a run's phases (yalu.io.spill) and the run's scratch directory."""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from yalu.errors import OutputError
from yalu.io.atomic import StaleOutputWarning, clean_stale, scratch_dir
from yalu.io.raster import write_geotiff
from yalu.io.spill import DiskArray, SpillStore


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.uint8, np.int8, bool])
def test_put_reads_back_the_same_bits(tmp_path, dtype):
    rng = np.random.default_rng(3)
    a = (rng.normal(size=(37, 53)) * 100).astype(dtype)
    if np.dtype(dtype).kind == "f":
        a[3, 4] = np.nan
    store = SpillStore(tmp_path)
    d = store.put("rsrp_dbm", a[:, ::2])  # not contiguous
    assert (d.shape, d.dtype, d.ndim, len(d)) == (a[:, ::2].shape, a.dtype, 2, 37)
    assert d.nbytes == a[:, ::2].nbytes == store.bytes_written
    got = np.asarray(d)
    assert got.dtype == a.dtype
    np.testing.assert_array_equal(got, a[:, ::2])
    np.testing.assert_array_equal(d[5], a[5, ::2])
    assert np.asarray(d, dtype=float).dtype == np.float64
    # each use is a fresh copy: changing it does not change what is kept
    got[:] = 0
    np.testing.assert_array_equal(np.asarray(d), a[:, ::2])
    # only the finished file is in the directory
    assert [p.name for p in tmp_path.iterdir()] == ["00000_rsrp_dbm.npy"]


def test_names_are_kept_apart_and_made_safe(tmp_path):
    store = SpillStore(tmp_path)
    out = {k: store.put(f"v0_{k}", a) for k, a in (("a/b c", np.zeros(3)), ("a/b c ", np.ones(3)))}
    assert np.asarray(out["a/b c"]).sum() == 0 and np.asarray(out["a/b c "]).sum() == 3
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["00000_v0_a_b_c.npy", "00001_v0_a_b_c_.npy"]


def test_object_arrays_are_refused(tmp_path):
    with pytest.raises(TypeError, match="object"):
        SpillStore(tmp_path).put("x", np.array(["a", None], dtype=object))


def test_a_file_changed_or_lost_on_disk_is_an_error(tmp_path):
    store = SpillStore(tmp_path)
    d = store.put("x", np.zeros((4, 5), np.float32))
    np.save(d.path, np.zeros((5, 4), np.float32))
    with pytest.raises(OutputError, match=r"changed on disk.*\(4, 5\)"):
        np.asarray(d)
    d.path.unlink()
    with pytest.raises(OutputError, match="cannot read back"):
        np.asarray(d)


def test_a_missing_scratch_directory_is_an_output_error(tmp_path):
    store = SpillStore(tmp_path / "gone")
    with pytest.raises(OutputError, match="scratch directory"):
        store.put("x", np.zeros(3))


def test_disk_array_reads_a_geotiff_band_in_its_own_dtype(tmp_path):
    a = np.arange(20, dtype=np.int8).reshape(4, 5) - 1
    p = tmp_path / "level.tif"
    write_geotiff(p, a.astype(np.int16), transform=(0.1, 0, 10, 0, -0.1, 50), crs="EPSG:4326",
                  nodata=-1)  # fmt: skip
    d = DiskArray(p, a.shape, a.dtype)
    got = np.asarray(d)
    assert got.dtype == np.int8
    np.testing.assert_array_equal(got, a)
    # rows alone, as a window of the band (clipped like a slice; empty at the end)
    for r0, r1 in ((1, 3), (-2, 2), (3, 9), (4, 4)):
        part = d.rows(r0, r1)
        assert part.dtype == np.int8
        np.testing.assert_array_equal(part, a[max(r0, 0) : r1])
    np.testing.assert_array_equal(d[1:4:2], a[1:4:2])
    np.testing.assert_array_equal(d[1:3, 2:], a[1:3, 2:])
    with pytest.raises(OutputError, match="changed on disk"):
        DiskArray(p, (5, 5), np.int8).rows(0, 1)
    with pytest.raises(OutputError, match="changed on disk"):
        DiskArray(p, a.shape, np.bool_).rows(0, 1)


def test_scratch_directory_is_removed_on_exit_and_on_error(tmp_path):
    out = tmp_path / "run"
    with scratch_dir(out) as d:
        assert d.is_dir() and d.parent == tmp_path and d.name.startswith(".run.")
        (d / "f.npy").write_bytes(b"x")
    assert not d.exists()
    with pytest.raises(RuntimeError), scratch_dir(out) as d2:
        raise RuntimeError("boom")
    assert not d2.exists() and list(tmp_path.iterdir()) == []


def test_a_dead_process_scratch_directory_is_cleaned(tmp_path):
    out = tmp_path / "run"
    # a process that has ended: its pid names the scratch directory it left
    p = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                       capture_output=True, text=True, check=True)  # fmt: skip
    dead = int(p.stdout)
    left = tmp_path / f".run.{dead}.abcd1234.scratch"
    left.mkdir()
    (left / "00000_v0_rsrp_dbm.npy").write_bytes(b"x" * 100)
    mine = tmp_path / f".run.{os.getpid()}.efgh5678.scratch"
    mine.mkdir()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        removed = clean_stale(out)
    assert removed == [left] and not left.exists() and mine.exists()
    assert any(issubclass(x.category, StaleOutputWarning) for x in w)


def test_row_ranges_are_read_alone_and_equal_numpy_slicing(tmp_path, monkeypatch):
    rng = np.random.default_rng(5)
    a = rng.normal(size=(41, 17)).astype(np.float32)
    b = np.arange(2 * 3 * 4, dtype=np.int16).reshape(2, 3, 4)
    store = SpillStore(tmp_path)
    d, e = store.put("map", a), store.put("cube", b)
    whole = []
    monkeypatch.setattr(DiskArray, "read", lambda self: whole.append(1) or np.load(self.path))
    keys = [np.s_[3:9], np.s_[3:9, 2:5], np.s_[-5:], np.s_[40:60], np.s_[:], np.s_[7:7],
            np.s_[5:2], np.s_[0:41, ::3], np.s_[::2], np.s_[::8, ::8], np.s_[3:40:5, 1],
            np.s_[40:60:3], np.s_[::50]]  # fmt: skip
    for key in keys:
        got = d[key]
        assert got.dtype == a.dtype
        np.testing.assert_array_equal(got, a[key], err_msg=str(key))
    np.testing.assert_array_equal(d.rows(-3, 4), a[0:4])
    np.testing.assert_array_equal(e[1:2, :, 1], b[1:2, :, 1])
    assert whole == []  # none of these read the whole file
    np.testing.assert_array_equal(d[::-2], a[::-2])  # a reversed range does
    assert whole == [1]


def test_a_row_read_of_a_changed_file_is_an_error(tmp_path):
    store = SpillStore(tmp_path)
    d = store.put("x", np.zeros((6, 5), np.float32))
    np.testing.assert_array_equal(d.rows(1, 3), np.zeros((2, 5), np.float32))
    with open(d.path, "r+b") as f:  # cut short
        f.truncate(os.path.getsize(d.path) - 4)
    with pytest.raises(OutputError, match="changed on disk.*bytes"):
        d.rows(0, 2)
    np.save(d.path, np.zeros((5, 6), np.float32))  # another shape: the header is read again
    d2 = DiskArray(d.path, (6, 5), np.float32)
    with pytest.raises(OutputError, match=r"changed on disk.*\(5, 6\)"):
        d2.rows(0, 1)
    d.path.unlink()
    with pytest.raises(OutputError, match="cannot read back"):
        d.rows(0, 1)


def test_transient_files_go_when_nothing_refers_to_them(tmp_path):
    import gc

    store = SpillStore(tmp_path)
    kept = store.put("layer", np.ones(3))
    gone = store.put("map", np.ones(3), transient=True)
    path = gone.path
    alias = gone
    del gone
    gc.collect()
    assert path.exists()  # still referred to
    del alias
    gc.collect()
    assert not path.exists() and kept.path.exists()
    # a removed file is an error, not stale data
    kept.path.unlink()
    with pytest.raises(OutputError):
        np.asarray(kept)


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.uint8, bool])
def test_rows_written_by_bands_read_back_as_put_would(tmp_path, dtype):
    """A layer written a band of rows at a time is the same file as one put whole: the same
    bits, header and size, and only the finished file is left."""
    rng = np.random.default_rng(5)
    a = (rng.normal(size=(23, 17)) * 100).astype(dtype)
    store = SpillStore(tmp_path / "rows")
    (tmp_path / "rows").mkdir()
    w = store.rows("v0_rsrp_dbm", a.shape, a.dtype)
    for r0 in range(0, 23, 5):
        w.write(a[r0 : r0 + 5].astype(np.float64 if a.dtype.kind == "f" else a.dtype))
    d = w.close()
    assert isinstance(d, DiskArray) and (d.shape, d.dtype) == (a.shape, a.dtype)
    np.testing.assert_array_equal(np.asarray(d), a)
    np.testing.assert_array_equal(d[7:12], a[7:12])
    assert store.bytes_written == a.nbytes
    whole = SpillStore(tmp_path / "whole")
    (tmp_path / "whole").mkdir()
    assert whole.put("v0_rsrp_dbm", a).path.read_bytes() == d.path.read_bytes()
    assert [p.name for p in (tmp_path / "rows").iterdir()] == ["00000_v0_rsrp_dbm.npy"]


def test_rows_missing_or_of_the_wrong_shape_leave_nothing(tmp_path):
    store = SpillStore(tmp_path)
    w = store.rows("x", (6, 4), np.float32)
    with pytest.raises(ValueError, match=r"\(2, 5\).*\(6, 4\)"):
        w.write(np.zeros((2, 5)))
    w.write(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="after 4 of 6"):
        w.write(np.zeros((3, 4)))
    with pytest.raises(OutputError, match="got 4 of its 6 rows"):
        w.close()
    assert list(tmp_path.iterdir()) == []
    w2 = store.rows("y", (2, 2), np.int8)
    w2.write(np.ones((1, 2)))
    w2.abort()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(TypeError, match="object"):
        store.rows("z", (2,), object)
    with pytest.raises(OutputError, match="scratch directory"):
        SpillStore(tmp_path / "gone").rows("x", (2, 2), np.float32)
