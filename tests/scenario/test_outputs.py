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
