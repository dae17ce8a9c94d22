"""Optional: run coverage work as Dask tasks, on a local cluster or an existing one.

:func:`yalu.coverage.tile_job` is a pure function of a picklable :class:`~yalu.coverage.TileSpec`,
so a map is the mosaic of independent tile jobs; the mosaic is bit-identical to a single
``tile_job`` on the whole grid. Needs the ``dask`` extra (``pip install yalu[dask]``).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from yalu.coverage.engine import TileSpec, tile_job
from yalu.errors import ParameterError, YaluWarning

__all__ = ["LOCAL_WORKER_CONFIG", "connect", "split_tiles", "tile_map"]

#: Dask settings of the local clusters :func:`connect` starts (their scheduler and workers).
#: On a machine whose every core runs a map task, Dask's own periodic work takes time from
#: them; these keep what only its dashboard (not started here) would show:
#:
#: - the workers' statistical profiler, which samples the task thread's stack every 10 ms (in
#:   single runs of ``benchmarks/bench_dask_maps.py`` the flagship's maps went 1.47-1.66x from
#:   1 to 2 workers with it, 1.72-1.83x without; medians of three runs without it since:
#:   1.64-1.75x, the machine's spread);
#: - the event loops' 20 ms latency tick and 0.5 s system monitor, here 1 s and 5 s: the
#:   scheduler's and the two workers' loops took 1.4 s of CPU during the flagship's 12 s of
#:   maps with Dask's values, 0.7 s with these.
LOCAL_WORKER_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
}


def _local_worker_config() -> dict[str, Any]:
    """:data:`LOCAL_WORKER_CONFIG`, and the workers' environment without Dask's
    ``MALLOC_TRIM_THRESHOLD_``: with it glibc hands freed memory back at once, so the engine's
    large arrays come back as fresh pages; the flagship's maps then took 3x the page faults
    (183 k against 46 k on one worker) and 0.5 s more system time a worker. A run's workers
    live for its maps only."""
    import dask

    env = dict(dask.config.get("distributed.nanny.pre-spawn-environ", default=None) or {})
    env.pop("MALLOC_TRIM_THRESHOLD_", None)
    return {**LOCAL_WORKER_CONFIG, "distributed.nanny.pre-spawn-environ": env}


def split_tiles(
    spec: TileSpec, tile_rows: int = 512, tile_cols: int = 512
) -> list[tuple[int, int, TileSpec]]:
    """Cut ``spec.grid`` into tiles; return ``(row0, col0, tile_spec)`` for each."""
    for name, v in (("tile_rows", tile_rows), ("tile_cols", tile_cols)):
        if int(v) != v or v < 1:
            raise ParameterError(name, v, "an integer >= 1")
    g = spec.grid
    out = []
    for r0 in range(0, g.n_rows, tile_rows):
        for c0 in range(0, g.n_cols, tile_cols):
            nr = min(tile_rows, g.n_rows - r0)
            nc = min(tile_cols, g.n_cols - c0)
            out.append((r0, c0, dataclasses.replace(spec, grid=g.subgrid(r0, c0, nr, nc))))
    return out


def tile_map(
    spec: TileSpec, tile_rows: int = 512, tile_cols: int = 512, scheduler: Any = None
) -> np.ndarray:
    """Compute ``tile_job(spec)`` as one Dask task per tile and assemble the result.

    Parameters
    ----------
    spec : TileSpec
        The whole map (see :func:`yalu.coverage.make_tile_spec`).
    tile_rows, tile_cols : int
        Tile size [nodes].
    scheduler : optional
        Passed to :func:`dask.compute` (e.g. ``"synchronous"``, ``"processes"`` or a
        ``distributed.Client``); default Dask's.
    """
    try:
        import dask
    except ImportError as exc:  # pragma: no cover - optional extra
        raise ImportError("yalu.coverage.dask needs dask: pip install 'yalu[dask]'") from exc
    parts = split_tiles(spec, tile_rows, tile_cols)
    tasks = [dask.delayed(tile_job, pure=True)(sub) for _r, _c, sub in parts]
    kw = {} if scheduler is None else {"scheduler": scheduler}
    results = dask.compute(*tasks, **kw)
    out = np.empty(spec.grid.shape, dtype=np.float32)
    for (r0, c0, sub), arr in zip(parts, results, strict=True):
        out[r0 : r0 + sub.grid.n_rows, c0 : c0 + sub.grid.n_cols] = arr
    return out


def _profiling(dask_worker: Any) -> bool:
    return "profile" in dask_worker.periodic_callbacks


def _warn_profiling(client: Any) -> int:
    """Warn when workers of an existing cluster run Dask's stack profiler (see
    :data:`LOCAL_WORKER_CONFIG`); returns how many do. The cluster is not changed: it may
    serve others, whose dashboard uses it."""
    on = sum(bool(v) for v in client.run(_profiling).values())
    if on:
        warnings.warn(
            f"{on} Dask worker(s) run the stack profiler (distributed.worker.profile.enabled), "
            "which samples every map task's stack each 10 ms for the dashboard; start them "
            "with DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False (docs/distributed.md)",
            YaluWarning,
            stacklevel=3,
        )
    return on


@contextmanager
def connect(scheduler: str | None = None, workers: int | None = None) -> Iterator[Any]:
    """A ``distributed.Client`` for the duration of the block, or None when neither is given.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``); the cluster is left running.
        A :class:`~yalu.errors.YaluWarning` says when its workers run Dask's stack profiler.
    workers : int, optional
        Start a local cluster of this many worker processes (one thread each, with
        :data:`LOCAL_WORKER_CONFIG` and no ``MALLOC_TRIM_THRESHOLD_``), closed on exit.
    """
    if scheduler is None and workers is None:
        yield None
        return
    if scheduler is not None and workers is not None:
        raise ParameterError("workers", workers, "not given together with a scheduler address")
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - optional extra
        raise ImportError(
            "distributed runs need dask.distributed: pip install 'yalu[dask]'"
        ) from exc
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            from yalu.errors import InputError

            raise InputError(f"cannot reach the Dask scheduler at {scheduler!r}: {exc}") from None
        try:
            _warn_profiling(client)
            yield client
        finally:
            client.close()
        return
    assert workers is not None
    if int(workers) != workers or not 1 <= workers <= 1024:
        raise ParameterError("workers", workers, "an integer from 1 to 1024")
    import dask

    # the workers take the config of the moment their nannies are made
    with dask.config.set(_local_worker_config()):
        cluster = LocalCluster(
            n_workers=int(workers), threads_per_worker=1, processes=True, dashboard_address=None
        )
    with cluster, Client(cluster) as client:
        yield client
