"""``yalu validate``, ``yalu run`` and ``yalu demo``: thin click commands over yalu.scenario."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from yalu.errors import YaluError

__all__ = ["demo", "run", "validate"]


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
def validate(scenario: Path) -> None:
    """Check SCENARIO (a YAML file) without running it: every error with its line.

    Runs everything ``yalu run`` does before computing maps (terrain, grid, sites on the
    terrain, radio sites, variants), so what it accepts, ``run`` accepts.
    """
    from yalu.scenario import load_scenario
    from yalu.scenario.adapt import prepare

    try:
        sc = load_scenario(scenario)
        prep = prepare(sc)
    except YaluError as exc:
        for line in getattr(exc, "errors", None) or [str(exc)]:
            click.echo(f"Error: {line}", err=True)
        sys.exit(2)
    rows, cols = prep.grid.shape
    click.echo(
        f"{scenario}: valid: {len(prep.sites)} sites ({len(prep.sectors)} sector-carriers), "
        f"{len(sc.jammers)} jammers, {len(sc.restricted_zones)} restricted zones, "
        f"{len(sc.variants)} variants ({', '.join(v.name for v in sc.variants)}); "
        f"grid {rows} x {cols} nodes on {prep.terrain.description}"
    )


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    "outdir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Output directory (created atomically).",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing output directory.")
@click.option("--threads", type=int, default=None, help="Numba threads (default: all cores).")
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Compute the path-loss maps on this running Dask scheduler (tcp://host:8786).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 1024),
    default=None,
    help="Compute the path-loss maps on a local Dask cluster of N worker processes.",
)
@click.option(
    "--terrain-transfer",
    type=click.Choice(["auto", "send", "read"]),
    default=None,
    help="How Dask workers get terrain: sent by this process, or read from the same files "
    "(default: the scenario's execution.terrain_transfer, auto).",
)
def run(
    scenario: Path,
    outdir: Path,
    overwrite: bool,
    threads: int | None,
    scheduler: str | None,
    workers: int | None,
    terrain_transfer: str | None,
) -> None:
    """Run SCENARIO: maps, GeoTIFFs, summary.json, report.md and report.html into OUTDIR."""
    from yalu.errors import ParameterError
    from yalu.io.atomic import check_writable
    from yalu.scenario import load_scenario
    from yalu.scenario.models import scenario_inputs
    from yalu.scenario.runner import run_scenario

    if scheduler is not None and workers is not None:
        raise ParameterError("--workers", workers, "not given together with --scheduler")
    sc = load_scenario(scenario)
    if terrain_transfer is not None:
        sc.execution.terrain_transfer = terrain_transfer  # type: ignore[assignment]
    # before any work: a target that cannot be written, an input, or a run already writing it
    check_writable(outdir, overwrite, kind="dir", inputs=scenario_inputs(sc), claim=True, name="-o")
    res = run_scenario(
        sc,
        outdir,
        overwrite=overwrite,
        progress=_progress,
        threads=threads,
        scheduler=scheduler,
        workers=workers,
    )
    click.echo(res.headline(), err=False)
    if res.execution.get("tasks"):
        ex = res.execution
        where = ex["scheduler"] or f"a local cluster of {ex['workers']} workers"
        if ex["terrain_transfer"] == "read":
            moved = (f"terrain read by the workers ({ex['terrain_bytes_read_by_workers'] / 1e6:.1f}"
                     " MB of windows")  # fmt: skip
            if ex.get("terrain_blocks_shared_by_workers"):
                moved += (f"; {ex['terrain_blocks_shared_by_workers']} terrain blocks decoded "
                          "once and shared")  # fmt: skip
            moved += ")"
        else:
            moved = f"{ex['bytes_sent'] / 1e6:.1f} MB of terrain sent"
        click.echo(f"Path-loss maps: {ex['tasks']} Dask tasks on {where}, {moved}")
    click.echo(_wrote(res.outdir))


def _wrote(outdir: Path) -> str:
    names = sorted(p.name + ("/" if p.is_dir() else "") for p in outdir.iterdir())
    return f"Wrote {outdir}/ ({', '.join(names)})"


DEMO_FETCH_HINT = """\
For real analysis, fetch 3" (or 1") terrain for the border and rerun on it:
  yalu terrain fetch --bbox 39.3,123.4,43.7,131.0 --source copernicus-glo90 \
  (3"; copernicus-glo30 for 1")
  yalu demo --print-scenario > border.yaml
  edit border.yaml: terrain: {source: cache} and grid: {resolution_arcsec: 30}
  yalu run border.yaml -o border-out
"""


@click.command()
@click.option(
    "-o",
    "--output",
    "outdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("yalu-demo"),
    show_default=True,
    help="Output directory.",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing output directory.")
@click.option("--print-scenario", is_flag=True, help="Print the flagship scenario YAML and exit.")
@click.option("--threads", type=int, default=None, help="Numba threads (default: all cores).")
def demo(outdir: Path, overwrite: bool, print_scenario: bool, threads: int | None) -> None:
    """Run the flagship Sino-Korean border scenario on the embedded COARSE 5' terrain."""
    from yalu.scenario.runner import demo_scenario_text, run_demo

    if print_scenario:
        click.echo(demo_scenario_text(), nl=False)
        return
    from yalu.io.atomic import check_writable

    # fail before any banner or work
    check_writable(outdir, overwrite, kind="dir", claim=True, name="-o")
    banner = (
        "WARNING: yalu demo runs on the embedded COARSE terrain (ETOPO5, 5 arc-minutes, ~9 km).\n"
        "         River valleys and ridges are smoothed away: the numbers show how yalu works,\n"
        "         not where phones work."
    )
    click.secho(banner, fg="yellow", bold=True, err=True)
    res = run_demo(outdir, overwrite=overwrite, progress=_progress, threads=threads)
    click.echo(res.headline())
    click.echo(_wrote(res.outdir))
    click.secho(banner, fg="yellow", bold=True, err=True)
    click.echo(DEMO_FETCH_HINT, err=True)


_LAST: dict[str, int] = {}


def _progress(step: str, done: int, total: int) -> None:
    """Progress on stderr: a line at the start and end of each step and every 10 % between."""
    decile = 10 * done // max(total, 1)
    if done in (0, total) or _LAST.get(step) != decile:
        _LAST[step] = decile
        pct = f" {100 * done // max(total, 1):3d} %" if total > 1 else ""
        click.echo(f"  {step} [{done}/{total}]{pct}", err=True)
