"""The terrain numba kernels that other numba code may call (bilinear sampling of a window).

The public Python API is :class:`yalu.terrain.Terrain` / :class:`yalu.terrain.TerrainWindow`.
Code compiled with numba (the coverage engine's sweeps) samples a terrain window's elevation
array from its own ``@njit`` functions with these kernels; their grid conventions are documented
in :mod:`yalu.terrain._kernels`, which implements them. They trust their input.
"""

from yalu.terrain._kernels import (
    all_finite,
    bilinear_grid,
    bilinear_index,
    bilinear_inside,
    bilinear_point,
)

__all__ = ["all_finite", "bilinear_grid", "bilinear_index", "bilinear_inside", "bilinear_point"]
