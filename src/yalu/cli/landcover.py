"""``yalu landcover``: download ESA WorldCover tiles, inspect land cover."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from yalu.cli.options import download_options


@click.group()
def landcover() -> None:
    """Land cover: fetch ESA WorldCover 10 m tiles, inspect a land-cover source."""


@landcover.command("fetch")
@click.option("--bbox", required=True, help="S,W,N,E [deg]; whole 3-degree tiles are fetched.")
@click.option(
    "--version",
    "version",
    type=click.Choice(["2021", "2020"]),
    default="2021",
    show_default=True,
    help="WorldCover release (2021 v200, 2020 v100).",
)
@click.option(
    "--cache",
    "cache_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Cache directory (default: ~/.cache/yalu/landcover or $YALU_CACHE_DIR/landcover).",
)
@download_options(60.0, "Replace the public bucket URL (mirror).")
def fetch(
    bbox: str,
    version: str,
    cache_dir: Path | None,
    base_url: str | None,
    retries: int,
    timeout_s: float,
    backoff_s: float,
) -> None:
    """Download the ESA WorldCover tiles covering --bbox into the cache (reused when present)."""
    from yalu.cli.terrain import parse_bbox
    from yalu.landcover.fetch import default_cache_dir, fetch_worldcover, tile_cells

    box = parse_bbox(bbox)
    root = cache_dir if cache_dir is not None else default_cache_dir()
    n = len(tile_cells(box))
    with click.progressbar(
        length=n, label=f"fetching WorldCover {version}", file=sys.stderr, show_pos=True
    ) as bar:
        rep = fetch_worldcover(
            box, version, root, base_url, retries=retries, backoff_s=backoff_s,
            timeout_s=timeout_s, progress=lambda _t, _s: bar.update(1),
        )  # fmt: skip
    click.echo(
        f"{len(rep.downloaded)} downloaded ({rep.bytes_downloaded / 2**20:.1f} MiB), "
        f"{len(rep.reused)} reused, {len(rep.absent)} absent (ocean, read as water), "
        f"{rep.retries} retries; cache: {root}"
    )
    click.echo("ESA WorldCover, (c) ESA WorldCover project, CC BY 4.0")


@landcover.command("info")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--at", "points", multiple=True, help="LAT,LON to sample (repeatable).")
def info(source: Path, points: tuple[str, ...]) -> None:
    """Describe a land-cover SOURCE (WorldCover cache or GeoTIFF) and sample points."""
    from yalu.errors import ParameterError
    from yalu.landcover import WORLDCOVER_CLASSES, WORLDCOVER_CLUTTER, open_landcover

    lc = open_landcover(source)
    click.echo(f"land cover: {lc.description}")
    for p in points:
        try:
            la, lo = (float(v) for v in p.split(","))
        except ValueError:
            raise ParameterError("--at", p, "LAT,LON in degrees") from None
        code = int(lc.codes_at(la, lo))
        cl = WORLDCOVER_CLUTTER.get(code)
        name = WORLDCOVER_CLASSES.get(code, "no data" if code == 0 else "unknown class")
        extra = f" -> {cl.p2108_type.name.lower()}, R {cl.height_m:g} m" if cl else ""
        click.echo(f"{la:.6f},{lo:.6f}: {code} {name}{extra}")
