"""Whole-grid arrays kept on disk between the phases of a run.

A scenario run holds every variant's layers (budgets, SINR, probabilities, best server) until
its outputs are written. On fine grids they are the largest part of its memory that grows with
the number of variants (about 34 bytes per node per variant). :class:`SpillStore` writes each
layer to a ``.npy`` file of a scratch directory as soon as it is computed; the
:class:`DiskArray` left in its place is read back whole only where it is used
(``np.asarray``), and that copy is dropped after, so the run holds the layers in use, not all.

A :class:`DiskArray` can also stand for a band of a GeoTIFF (a run's output rasters).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from yalu.errors import OutputError

__all__ = ["DiskArray", "SpillStore"]


class DiskArray:
    """An array kept in a file: ``.npy`` or a GeoTIFF's first band, read whole on use.

    ``np.asarray(a)`` reads the file and returns a new array of ``shape`` and ``dtype``
    (checked: a file changed meanwhile raises :class:`~yalu.errors.OutputError`); indexing reads
    it too. Nothing stays in memory between uses.
    """

    __slots__ = ("dtype", "path", "shape")

    def __init__(self, path: str | os.PathLike[str], shape: tuple[int, ...], dtype: Any) -> None:
        self.path = Path(path)
        self.shape = tuple(int(n) for n in shape)
        self.dtype = np.dtype(dtype)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    def read(self) -> np.ndarray:
        """The whole array, as a new in-memory copy."""
        try:
            if self.path.suffix == ".npy":
                arr = np.load(self.path, allow_pickle=False)
            else:
                import rasterio

                with rasterio.open(self.path) as ds:
                    arr = ds.read(1)
        except (OSError, ValueError) as exc:
            raise OutputError(f"cannot read back {self.path}: {exc}") from None
        # a raster may hold a layer in a wider type of its kind (int8 levels in an int16 band)
        same = (arr.dtype == self.dtype if self.path.suffix == ".npy"
                else np.can_cast(arr.dtype, self.dtype, "same_kind"))  # fmt: skip
        if arr.shape != self.shape or not same:
            raise OutputError(
                f"{self.path} changed on disk: {arr.dtype} {arr.shape}, expected "
                f"{self.dtype} {self.shape}"
            )
        return arr.astype(self.dtype, copy=False)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        arr = self.read()
        return arr if dtype is None else arr.astype(dtype, copy=False)

    def __getitem__(self, key: Any) -> Any:
        return self.read()[key]

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"DiskArray({str(self.path)!r}, shape={self.shape}, dtype={self.dtype})"


class SpillStore:
    """Arrays written to ``.npy`` files of ``directory`` (which the caller creates and removes).

    Each :meth:`put` writes under a temporary name, checks the file's header against the array,
    then renames it into place; a full disk raises :class:`~yalu.errors.OutputError`.
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self._count = 0
        #: bytes written so far
        self.bytes_written = 0

    def put(self, name: str, array: Any) -> DiskArray:
        """Write ``array`` and return the :class:`DiskArray` that reads it back."""
        arr = np.ascontiguousarray(array)
        if arr.dtype.hasobject:
            raise TypeError(f"cannot spill {name!r}: object arrays are not stored")
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:60]
        final = self.directory / f"{self._count:05d}_{safe}.npy"
        self._count += 1
        tmp: str | None = None
        try:
            fd, tmp = tempfile.mkstemp(suffix=".part", dir=self.directory)
            with os.fdopen(fd, "wb") as f:
                np.save(f, arr, allow_pickle=False)
            head = np.load(tmp, mmap_mode="r", allow_pickle=False)
            ok = head.shape == arr.shape and head.dtype == arr.dtype
            del head
            if not ok:
                raise OutputError(f"spilled layer {name!r} reads back wrong from {tmp}")
            os.replace(tmp, final)
            tmp = None
        except OSError as exc:
            if isinstance(exc, OutputError):
                raise
            raise OutputError(
                f"cannot keep layer {name!r} in the scratch directory {self.directory}: {exc}"
            ) from None
        finally:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
        self.bytes_written += arr.nbytes
        return DiskArray(final, arr.shape, arr.dtype)

    def put_all(self, prefix: str, arrays: dict[str, Any]) -> dict[str, DiskArray]:
        """:meth:`put` each of ``arrays`` (keys kept, in order)."""
        return {k: self.put(f"{prefix}_{k}", a) for k, a in arrays.items()}
