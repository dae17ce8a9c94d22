"""Whole-grid arrays kept on disk between the phases of a run.

A scenario run holds every variant's layers (budgets, SINR, probabilities, best server) until
its outputs are written. On fine grids they are the largest part of its memory that grows with
the number of variants (about 34 bytes per node per variant). :class:`SpillStore` writes each
layer to a ``.npy`` file of a scratch directory as soon as it is computed; the
:class:`DiskArray` left in its place is read back whole only where it is used
(``np.asarray``), and that copy is dropped after, so the run holds the layers in use, not all.

A :class:`DiskArray` can also stand for a band of a GeoTIFF (a run's output rasters).

The sites' path-loss maps spill the same way (:meth:`SpillStore.put` given to the provider):
budgets read them block by block, and a ``.npy`` :class:`DiskArray` indexed by a range of rows
reads those rows alone (:meth:`DiskArray.rows`), not the file.
"""

from __future__ import annotations

import os
import re
import tempfile
import weakref
from pathlib import Path
from typing import Any

import numpy as np

from yalu.errors import OutputError

__all__ = ["DiskArray", "SpillStore"]


class DiskArray:
    """An array kept in a file: ``.npy`` or a GeoTIFF's first band, read whole on use.

    ``np.asarray(a)`` reads the file and returns a new array of ``shape`` and ``dtype``
    (checked: a file changed meanwhile raises :class:`~yalu.errors.OutputError`). Indexing a
    ``.npy`` array by a range of rows (``a[r0:r1]``, ``a[r0:r1, cols]``) reads those rows
    alone (:meth:`rows`); other indexing reads the whole file. Nothing stays in memory between
    uses.
    """

    __slots__ = ("__weakref__", "_offset", "dtype", "path", "shape")

    def __init__(self, path: str | os.PathLike[str], shape: tuple[int, ...], dtype: Any) -> None:
        self.path = Path(path)
        self.shape = tuple(int(n) for n in shape)
        self.dtype = np.dtype(dtype)
        self._offset: int | None = None

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

    def _data_offset(self) -> int:
        """Where the data of the ``.npy`` file start (its header checked against the array:
        C order, ``shape`` and ``dtype``)."""
        if self._offset is None:
            try:
                with open(self.path, "rb") as f:
                    version = np.lib.format.read_magic(f)
                    read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                                   else np.lib.format.read_array_header_2_0)  # fmt: skip
                    shape, fortran, dtype = read_header(f)
                    offset = f.tell()
            except (OSError, ValueError) as exc:
                raise OutputError(f"cannot read back {self.path}: {exc}") from None
            if tuple(shape) != self.shape or dtype != self.dtype or fortran:
                raise OutputError(
                    f"{self.path} changed on disk: {dtype} {tuple(shape)}, expected "
                    f"{self.dtype} {self.shape}"
                )
            self._offset = offset
        return self._offset

    def rows(self, r0: int, r1: int) -> np.ndarray:
        """Rows ``r0:r1`` (clipped to the array) of a ``.npy`` array, read alone, as a new
        in-memory array (a GeoTIFF band is read whole)."""
        if not self.shape:
            raise IndexError("a 0-d array has no rows")
        n = self.shape[0]
        r0, r1 = max(0, min(int(r0), n)), max(0, min(int(r1), n))
        r1 = max(r0, r1)
        if self.path.suffix != ".npy":
            return self.read()[r0:r1]
        offset = self._data_offset()
        row_items = int(np.prod(self.shape[1:], dtype=np.int64))
        count = (r1 - r0) * row_items
        try:
            size = os.stat(self.path).st_size
        except OSError as exc:
            raise OutputError(f"cannot read back {self.path}: {exc}") from None
        if size != offset + self.nbytes:
            raise OutputError(
                f"{self.path} changed on disk: {size} bytes, expected {offset + self.nbytes}"
            )
        try:
            arr = np.fromfile(self.path, dtype=self.dtype, count=count,
                              offset=offset + r0 * row_items * self.dtype.itemsize)  # fmt: skip
        except OSError as exc:
            raise OutputError(f"cannot read back {self.path}: {exc}") from None
        if arr.size != count:
            raise OutputError(f"{self.path} changed on disk: rows {r0}:{r1} cut short")
        return arr.reshape((r1 - r0, *self.shape[1:]))

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        arr = self.read()
        return arr if dtype is None else arr.astype(dtype, copy=False)

    def __getitem__(self, key: Any) -> Any:
        head, rest = (key[0], key[1:]) if isinstance(key, tuple) and key else (key, ())
        if (isinstance(head, slice) and head.step in (None, 1) and self.shape
                and self.path.suffix == ".npy"):  # fmt: skip
            r0, r1, _ = head.indices(self.shape[0])
            block = self.rows(r0, r1)
            return block[(slice(None), *rest)] if rest else block
        return self.read()[key]

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"DiskArray({str(self.path)!r}, shape={self.shape}, dtype={self.dtype})"


def _unlink(path: Path) -> None:
    path.unlink(missing_ok=True)


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

    def put(self, name: str, array: Any, transient: bool = False) -> DiskArray:
        """Write ``array`` and return the :class:`DiskArray` that reads it back.

        ``transient``: the file is removed as soon as nothing refers to that
        :class:`DiskArray` any more (a cached map a provider forgets), not only with the
        directory.
        """
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
        out = DiskArray(final, arr.shape, arr.dtype)
        if transient:
            weakref.finalize(out, _unlink, final)
        return out

    def put_all(self, prefix: str, arrays: dict[str, Any]) -> dict[str, DiskArray]:
        """:meth:`put` each of ``arrays`` (keys kept, in order)."""
        return {k: self.put(f"{prefix}_{k}", a) for k, a in arrays.items()}
