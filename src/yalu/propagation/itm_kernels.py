"""The ITM numba kernels that other numba code may call: the stable kernel interface of ITM.

:mod:`yalu.propagation.itm` is the public Python API (it validates and coerces input). Code that
is itself compiled with numba, such as the radial sweeps of the coverage engine, calls these
kernels directly from its own ``@njit`` functions: they trust their input, never raise and never
allocate. Their contracts (arguments, the ``out`` slots ``OUT_*``, ``SCRATCH_LEN``, the return
codes) are documented in :mod:`yalu.propagation._itm_kernels`, which implements them; everything
else there is private and may change.
"""

from yalu.propagation._itm_kernels import (
    ERR_PROFILE,
    OUT_A_FS,
    OUT_A_REF,
    OUT_D_HZN_RX,
    OUT_D_HZN_TX,
    OUT_D_KM,
    OUT_D_M,
    OUT_DELTA_H,
    OUT_H_E_RX,
    OUT_H_E_TX,
    OUT_LEN,
    OUT_LOSS,
    OUT_MODE,
    OUT_N_S,
    OUT_RTN,
    OUT_THETA_RX,
    OUT_THETA_TX,
    OUT_WARN,
    SCRATCH_LEN,
    effective_curvature,
    find_horizons,
    free_space_loss_db,
    ground_impedance,
    least_squares_line,
    mean_path_height,
    p2p_core,
    profile_geometry,
    reference_attenuation,
    surface_refractivity,
    terrain_delta_h,
    validate_inputs,
    variability_db,
)

__all__ = [
    "ERR_PROFILE",
    "OUT_A_FS",
    "OUT_A_REF",
    "OUT_DELTA_H",
    "OUT_D_HZN_RX",
    "OUT_D_HZN_TX",
    "OUT_D_KM",
    "OUT_D_M",
    "OUT_H_E_RX",
    "OUT_H_E_TX",
    "OUT_LEN",
    "OUT_LOSS",
    "OUT_MODE",
    "OUT_N_S",
    "OUT_RTN",
    "OUT_THETA_RX",
    "OUT_THETA_TX",
    "OUT_WARN",
    "SCRATCH_LEN",
    "effective_curvature",
    "find_horizons",
    "free_space_loss_db",
    "ground_impedance",
    "least_squares_line",
    "mean_path_height",
    "p2p_core",
    "profile_geometry",
    "reference_attenuation",
    "surface_refractivity",
    "terrain_delta_h",
    "validate_inputs",
    "variability_db",
]
