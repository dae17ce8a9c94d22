"""A path-loss provider that returns each map as its window (tests of windowed budgets)."""

import numpy as np

from yalu.radio.layers import FunctionPathLoss, WindowedMap


class WindowedFunction(FunctionPathLoss):
    """:class:`FunctionPathLoss` whose grid maps come back as :class:`WindowedMap` over the
    rows and columns holding a finite value (float32, as the engine's maps)."""

    def grid_loss_db(self, antenna, frequency_mhz, direction, grid, node_height_m):  # type: ignore[no-untyped-def]
        dense = np.asarray(super().grid_loss_db(antenna, frequency_mhz, direction, grid,
                                                node_height_m), dtype=np.float32)  # fmt: skip
        rows = np.flatnonzero(np.isfinite(dense).any(axis=1))
        cols = np.flatnonzero(np.isfinite(dense).any(axis=0))
        box = (rows[0], rows[-1] + 1, cols[0], cols[-1] + 1)
        return WindowedMap(grid.shape, box, dense[box[0] : box[1], box[2] : box[3]])
