"""The P.1812-8 numba kernels that other numba code may call: the stable kernel interface.

:mod:`yalu.propagation.p1812` is the public Python API (it validates and coerces input). Code
that is itself compiled with numba, such as the coverage engine's per-node loop, calls
:func:`p1812_core` directly from its own ``@njit`` functions: it trusts its input, never raises
and never allocates. Its contract (arguments and the ``out`` slots ``OUT_*``) is documented in
:mod:`yalu.propagation._p1812_kernels`, which implements it; everything else there is private and
may change.
"""

from yalu.propagation._p1812_kernels import (
    OUT_EP,
    OUT_LB,
    OUT_LEN,
    OUT_TRANSHORIZON,
    ZONE_COASTAL,
    ZONE_INLAND,
    ZONE_SEA,
    p1812_core,
)

__all__ = [
    "OUT_EP",
    "OUT_LB",
    "OUT_LEN",
    "OUT_TRANSHORIZON",
    "ZONE_COASTAL",
    "ZONE_INLAND",
    "ZONE_SEA",
    "p1812_core",
]
