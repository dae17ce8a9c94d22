"""``yalu population``: download gridded population (WorldPop, GHSL GHS-POP) into a cache."""

from __future__ import annotations

from pathlib import Path

import click

from yalu.cli.options import download_options
from yalu.cli.terrain import parse_bbox


@click.group()
def population() -> None:
    """Population rasters for ``population.raster`` in a scenario."""


@population.command("fetch")
@click.option(
    "--source", type=click.Choice(["worldpop", "ghsl"]), default="worldpop", show_default=True
)
@click.option(
    "--country",
    "countries",
    multiple=True,
    help="ISO3 country code for WorldPop (repeat: --country PRK --country CHN).",
)
@click.option("--bbox", default=None, help="S,W,N,E [deg]: the GHSL tiles covering it.")
@click.option(
    "--year",
    type=int,
    default=2020,
    show_default=True,
    help="WorldPop 2000-2020; GHSL 1975-2030 in steps of 5.",
)
@click.option("--un-adjusted", is_flag=True, help="WorldPop: the estimates adjusted to UN totals.")
@click.option(
    "--cache",
    "cache_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Cache directory (default: ~/.cache/yalu/population or $YALU_CACHE_DIR/population).",
)
@download_options(120.0, "Replace the public URL (mirror).")
def fetch(
    source: str,
    countries: tuple[str, ...],
    bbox: str | None,
    year: int,
    un_adjusted: bool,
    cache_dir: Path | None,
    base_url: str | None,
    retries: int,
    timeout_s: float,
    backoff_s: float,
) -> None:
    """Download population rasters into the cache (files already there are reused)."""
    from yalu.analysis.population_fetch import default_cache_dir, fetch_population

    box = parse_bbox(bbox) if bbox else None
    root = cache_dir if cache_dir is not None else default_cache_dir()

    def per_file(rel: str, status: str) -> None:
        click.echo(f"{status:>10}: {rel}", err=True)

    rep = fetch_population(source, year=year, countries=countries, bbox=box,
                           un_adjusted=un_adjusted, cache_dir=root, base_url=base_url,
                           retries=retries, backoff_s=backoff_s, timeout_s=timeout_s,
                           progress=per_file)  # fmt: skip
    click.echo(
        f"{len(rep.downloaded)} downloaded ({rep.bytes_downloaded / 2**20:.1f} MiB), "
        f"{len(rep.reused)} reused, {len(rep.absent)} absent, {rep.retries} retries; cache: {root}"
    )
    for p in rep.rasters:
        click.echo(f"use it with: population: {{raster: {p}}}")
