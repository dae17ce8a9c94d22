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
