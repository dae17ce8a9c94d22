"""Many path-loss maps on one grid: the minimum-loss composite and the lowest-loss map index.

These compare path loss only. The *best server* of a node, in yalu's one meaning (the server a
handset uses, from received power, range limits and the uplink), is the radio layer's
(:func:`yalu.radio.link_budget`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from yalu.errors import ParameterError

__all__ = ["composite", "lowest_loss_index"]


def _stack(maps: Sequence[Any]) -> tuple[np.ndarray, Any]:
    if len(maps) == 0:
        raise ParameterError("maps", "[]", "a non-empty sequence of maps on one grid")
    first = maps[0]
    arrays = []
    for i, m in enumerate(maps):
        a = np.asarray(getattr(m, "values", m), dtype=np.float32)
        if a.shape != np.shape(getattr(first, "values", first)):
            raise ParameterError(
                f"maps[{i}]", f"shape {a.shape}", f"the shape of maps[0], {np.shape(first)}"
            )
        t0 = getattr(first, "attrs", {}).get("transform")
        t = getattr(m, "attrs", {}).get("transform")
        if t0 is not None and t is not None and not np.allclose(t0, t, rtol=0, atol=1e-12):
            raise ParameterError(f"maps[{i}].transform", t, f"equal to maps[0]'s {t0}")
        arrays.append(a)
    return np.stack(arrays), first


def _wrap(data: np.ndarray, like: Any, name: str, attrs: dict[str, Any]) -> Any:
    if hasattr(like, "dims") and hasattr(like, "coords"):
        import xarray as xr

        keep = {k: like.attrs[k] for k in ("crs", "transform") if k in like.attrs}
        keep.update(attrs)
        return xr.DataArray(data, dims=like.dims, coords=like.coords, name=name, attrs=keep)
    return data


def composite(maps: Sequence[Any]) -> Any:
    """Minimum loss over sites at every node [dB] (NaN only where every map is NaN).

    Parameters
    ----------
    maps : sequence of xarray.DataArray or ndarray
        Loss maps on one grid (same shape and transform).
    """
    stack, first = _stack(maps)
    with np.errstate(invalid="ignore"):
        allnan = np.all(np.isnan(stack), axis=0)
        filled = np.where(np.isnan(stack), np.inf, stack)
        out = filled.min(axis=0)
    out[allnan] = np.nan
    return _wrap(
        out.astype(np.float32),
        first,
        "composite_loss_db",
        {"units": "dB", "long_name": "minimum loss over sites", "nodata": float("nan")},
    )


def lowest_loss_index(maps: Sequence[Any]) -> Any:
    """Index of the map with the least loss at every node (int16; -1 where all maps are NaN).

    Ties go to the lowest index, so the result does not depend on evaluation order.
    """
    stack, first = _stack(maps)
    allnan = np.all(np.isnan(stack), axis=0)
    filled = np.where(np.isnan(stack), np.inf, stack)
    idx = np.argmin(filled, axis=0).astype(np.int16)
    idx[allnan] = -1
    return _wrap(
        idx,
        first,
        "lowest_loss_index",
        {"long_name": "index of the map with the least loss", "nodata": -1},
    )
