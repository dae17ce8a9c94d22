"""Whole-grid arrays kept on disk between the phases of a run.

A scenario run holds every variant's layers (budgets, SINR, probabilities, best server) until
its outputs are written. On fine grids they are the largest part of its memory that grows with
the number of variants (about 35 bytes per node per variant). :class:`SpillStore` writes each
layer to a ``.npy`` file of a scratch directory as it is computed, a band of rows at a time
(:meth:`SpillStore.rows`, so a layer is never whole in memory while it is computed); the
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

__all__ = ["DiskArray", "RowWriter", "SpillStore"]


class DiskArray:
    """An array kept in a file: ``.npy`` or a GeoTIFF's first band, read whole on use.

    ``np.asarray(a)`` reads the file and returns a new array of ``shape`` and ``dtype``
    (checked: a file changed meanwhile raises :class:`~yalu.errors.OutputError`). Indexing by
    a range of rows (``a[r0:r1]``, ``a[r0:r1, cols]``) reads those rows alone (:meth:`rows`; of
    a GeoTIFF, a window), and so does a step on a ``.npy`` array (``a[::k, ::k]``); other
    indexing reads the whole file. Nothing stays in memory between uses.
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
        """Rows ``r0:r1`` (clipped to the array), read alone, as a new in-memory array (of a
        GeoTIFF band: a window of whole rows)."""
        if not self.shape:
            raise IndexError("a 0-d array has no rows")
        n = self.shape[0]
        r0, r1 = max(0, min(int(r0), n)), max(0, min(int(r1), n))
        r1 = max(r0, r1)
        if self.path.suffix != ".npy":
            return self._raster_rows(r0, r1)
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

    def _raster_rows(self, r0: int, r1: int) -> np.ndarray:
        """Rows ``r0:r1`` of a GeoTIFF's first band (checked as :meth:`read` checks)."""
        import rasterio
        from rasterio.windows import Window

        try:
            with rasterio.open(self.path) as ds:
                shape = (ds.height, ds.width)
                kind = np.dtype(ds.dtypes[0])
                arr = ds.read(1, window=Window(0, r0, ds.width, r1 - r0)) if r1 > r0 else None
        except (OSError, ValueError) as exc:
            raise OutputError(f"cannot read back {self.path}: {exc}") from None
        if shape != self.shape or not np.can_cast(kind, self.dtype, "same_kind"):
            raise OutputError(
                f"{self.path} changed on disk: {kind} {shape}, expected {self.dtype} {self.shape}"
            )
        if arr is None:
            return np.zeros((0, *self.shape[1:]), dtype=self.dtype)
        return arr.astype(self.dtype, copy=False)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        arr = self.read()
        return arr if dtype is None else arr.astype(dtype, copy=False)

    def __getitem__(self, key: Any) -> Any:
        head, rest = (key[0], key[1:]) if isinstance(key, tuple) and key else (key, ())
        if isinstance(head, slice) and self.shape:
            r0, r1, step = head.indices(self.shape[0])
            if step == 1:
                block = self.rows(r0, r1)
            elif step > 1 and self.path.suffix == ".npy":
                # every step-th row, each read alone (a thinned map: not the whole file)
                picked = range(r0, r1, step)
                block = np.empty((len(picked), *self.shape[1:]), dtype=self.dtype)
                for i, r in enumerate(picked):
                    block[i] = self.rows(r, r + 1)[0]
            else:
                return self.read()[key]
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

    def _next_path(self, name: str) -> Path:
        """A new file name for ``name``: numbered (names never clash) and made safe."""
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:60]
        self._count += 1
        return self.directory / f"{self._count - 1:05d}_{safe}.npy"

    def put(self, name: str, array: Any, transient: bool = False) -> DiskArray:
        """Write ``array`` and return the :class:`DiskArray` that reads it back.

        ``transient``: the file is removed as soon as nothing refers to that
        :class:`DiskArray` any more (a cached map a provider forgets), not only with the
        directory.
        """
        arr = np.ascontiguousarray(array)
        if arr.dtype.hasobject:
            raise TypeError(f"cannot spill {name!r}: object arrays are not stored")
        final = self._next_path(name)
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

    def rows(self, name: str, shape: tuple[int, ...], dtype: Any) -> RowWriter:
        """A :class:`RowWriter` of a ``.npy`` array of ``shape`` and ``dtype``, written a band
        of rows at a time (an array computed by rows is never whole in memory)."""
        return RowWriter(self, name, self._next_path(name), shape, dtype)


class RowWriter:
    """A ``.npy`` file of a :class:`SpillStore` written in order, a band of rows at a time.

    Made by :meth:`SpillStore.rows`. The rows go to a temporary name; :meth:`close` checks
    that every row came and that the file reads back with the array's header and size, then
    renames it into place and returns its :class:`DiskArray`. :meth:`abort` (or an error in
    :meth:`close`) removes the temporary file.
    """

    def __init__(self, store: SpillStore, name: str, final: Path, shape: tuple[int, ...],
                 dtype: Any) -> None:  # fmt: skip
        self.name = name
        self.shape = tuple(int(n) for n in shape)
        self.dtype = np.dtype(dtype)
        if not self.shape or self.dtype.hasobject:
            raise TypeError(f"cannot spill {name!r}: {self.dtype} of shape {self.shape}")
        self._store, self._final = store, final
        self._done = 0
        self._tmp: str | None = None
        try:
            fd, self._tmp = tempfile.mkstemp(suffix=".part", dir=store.directory)
            self._f = os.fdopen(fd, "wb")
            header = {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False,
                      "shape": self.shape}  # fmt: skip
            np.lib.format.write_array_header_1_0(self._f, header)
            self._offset = self._f.tell()
        except (OSError, ValueError) as exc:
            self.abort()
            raise OutputError(
                f"cannot keep layer {name!r} in the scratch directory {store.directory}: {exc}"
            ) from None

    def write(self, rows: Any) -> None:
        """Append the next band of rows (shape ``(k, *shape[1:])``, cast to the dtype)."""
        arr = np.asarray(rows)
        if arr.shape[1:] != self.shape[1:] or self._done + arr.shape[0] > self.shape[0]:
            raise ValueError(
                f"rows of shape {arr.shape} after {self._done} of {self.shape[0]} do not fit "
                f"{self.name!r} of shape {self.shape}"
            )
        try:
            self._f.write(np.ascontiguousarray(arr, dtype=self.dtype).tobytes())
        except OSError as exc:
            self.abort()
            raise OutputError(f"cannot keep layer {self.name!r} in {self._tmp}: {exc}") from None
        self._done += arr.shape[0]

    def close(self) -> DiskArray:
        """Check the file and rename it into place: its :class:`DiskArray`."""
        try:
            if self._done != self.shape[0]:
                raise OutputError(
                    f"layer {self.name!r} got {self._done} of its {self.shape[0]} rows"
                )
            self._f.close()
            assert self._tmp is not None
            head = np.load(self._tmp, mmap_mode="r", allow_pickle=False)
            ok = head.shape == self.shape and head.dtype == self.dtype
            del head
            size = self._offset + int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize
            if not ok or os.stat(self._tmp).st_size != size:
                raise OutputError(f"spilled layer {self.name!r} reads back wrong from {self._tmp}")
            os.replace(self._tmp, self._final)
            self._tmp = None
        except OSError as exc:
            self.abort()
            if isinstance(exc, OutputError):
                raise
            raise OutputError(f"cannot keep layer {self.name!r} in {self._tmp}: {exc}") from None
        self._store.bytes_written += int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize
        return DiskArray(self._final, self.shape, self.dtype)

    def abort(self) -> None:
        """Drop the partial file."""
        f = getattr(self, "_f", None)
        if f is not None and not f.closed:
            f.close()
        if self._tmp is not None:
            Path(self._tmp).unlink(missing_ok=True)
            self._tmp = None
