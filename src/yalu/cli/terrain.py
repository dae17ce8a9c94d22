"""``yalu terrain``: inspect terrain, download public tiles, export SPLAT! SDF tiles."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from yalu.cli.options import download_options
from yalu.errors import ParameterError


def parse_bbox(value: str, name: str = "--bbox") -> tuple[float, float, float, float]:
    """Parse ``S,W,N,E`` [deg] into a validated tuple; ParameterError naming ``name``."""
    from yalu.geodesy import check_bbox

    parts = [p.strip() for p in str(value).split(",")]
    if len(parts) != 4:
        raise ParameterError(name, value, "S,W,N,E in degrees (four numbers)")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        raise ParameterError(name, value, "S,W,N,E in degrees (four numbers)") from None
    return check_bbox(nums, name)


def source_extent(bounds: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """A terrain's bounds as a box for whole-degree tiles: edges within 1e-6 deg of a whole
    degree snap to it (1-degree tiles share their edge nodes with their neighbours)."""

    def snap(v: float) -> float:
        return float(round(v)) if abs(v - round(v)) < 1e-6 else v

    s, w, n, e = (snap(float(v)) for v in bounds)
    return s, w, n, e


def _fmt_deg(v: float) -> str:
    return f"{v:.6f}".rstrip("0").rstrip(".")


DEFAULT_SDF_MAX_NODES = 2e8


def _check_free_space(out: Path, need_bytes: float) -> None:
    """Refuse up front an output larger than the free space of its file system."""
    import shutil

    from yalu.errors import OutputError
    from yalu.inputs import fmt_bytes

    q = Path(out).absolute().parent
    while not q.exists() and q.parent != q:
        q = q.parent
    free = shutil.disk_usage(q).free
    if need_bytes > free:
        raise OutputError(
            f"-o {out}: needs up to {fmt_bytes(need_bytes)}, only {fmt_bytes(free)} free on {q}"
        )


@click.group()
def terrain() -> None:
    """Terrain: inspect, fetch public tiles, export to SPLAT! SDF."""


@terrain.command("info")
@click.argument("path")
@click.option(
    "--voids/--no-voids", default=True, show_default=True, help="Count voids (reads every tile)."
)
def info(path: str, voids: bool) -> None:
    """Print bounds, resolution, nodata/voids and the tiles found in PATH ('embedded': the
    coarse 5' demo terrain shipped with yalu)."""
    from yalu.cli.options import open_cli_terrain

    t = open_cli_terrain(path)
    s, w, n, e = t.bounds
    dlat, dlon = t.resolution_deg
    dy, dx = t.resolution_m
    click.echo(f"terrain: {t.description}")
    if t.attribution:
        click.echo(f"attribution: {t.attribution}")
    click.echo(
        f"bounds: {_fmt_deg(s)} to {_fmt_deg(n)} N, {_fmt_deg(w)} to {_fmt_deg(e)} E (S,W,N,E)"
    )
    click.echo(
        f'resolution: {dlat * 3600:.4g}" x {dlon * 3600:.4g}" (lat x lon), '
        f"about {dy:.1f} m x {dx:.1f} m at the centre"
    )
    nd = t.nodata
    nd_txt = "-32768" if nd is None or nd == -32768 else f"{nd:g} and -32768"
    click.echo(f"nodata: {nd_txt} (voids, filled by interpolation when read)")
    if voids:
        names = t.tiles or [str(path)]
        with click.progressbar(
            length=max(len(names), 1), label="counting voids", file=sys.stderr
        ) as bar:
            counts = t.void_counts(progress=lambda _n: bar.update(1))
        total = sum(counts.values())
        with_voids = {k: v for k, v in counts.items() if v}
        click.echo(f"voids: {total} nodes in {len(with_voids)} of {len(counts)} tile(s)")
        for k, v in sorted(with_voids.items()):
            click.echo(f"  {k}: {v}")
    tiles = t.tiles
    click.echo(f"tiles: {len(tiles)}")
    for p in tiles[:50]:
        click.echo(f"  {p}")
    if len(tiles) > 50:
        click.echo(f"  ... and {len(tiles) - 50} more")


@terrain.command("to-sdf")
@click.argument("source")
@click.option(
    "--bbox",
    default=None,
    help="S,W,N,E [deg]; whole 1-degree tiles are written. Default: the extent of SOURCE.",
)
@click.option(
    "-o",
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Output directory (new).",
)
@click.option(
    "--resolution",
    type=click.Choice(["3", "1"]),
    default="3",
    show_default=True,
    help="Arc-seconds: 3 = SDF, 1 = SPLAT! HD (-hd.sdf).",
)
@click.option(
    "--missing",
    type=click.Choice(["error", "sea-level"]),
    default="error",
    show_default=True,
    help="Terrain outside SOURCE's tiles.",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing output directory.")
@click.option(
    "--max-nodes",
    type=float,
    default=DEFAULT_SDF_MAX_NODES,
    show_default=True,
    help='Refuse boxes needing more SDF nodes (1.44 M per 3" tile, 13 M per 1" tile).',
)
def to_sdf(
    source: str,
    bbox: str | None,
    out_dir: Path,
    resolution: str,
    missing: str,
    overwrite: bool,
    max_nodes: float,
) -> None:
    """Write SPLAT! SDF tiles of SOURCE (a terrain path or 'embedded') covering --bbox into
    --out."""
    from yalu.cli.options import EMBEDDED, open_cli_terrain
    from yalu.inputs import check_cost
    from yalu.io.atomic import check_writable
    from yalu.io.sdf import sdf_cells, write_sdf

    inputs = [] if source == EMBEDDED else [Path(source)]
    box = parse_bbox(bbox) if bbox is not None else None
    if box is not None:
        check_writable(out_dir, overwrite, kind="dir", inputs=inputs, claim=True, name="-o")
    t = open_cli_terrain(source, missing=missing)
    if box is None:
        box = source_extent(t.bounds)
        click.echo(
            "bbox: the extent of the source, " + ",".join(_fmt_deg(v) for v in box) + " (S,W,N,E)",
            err=True,
        )
        check_writable(out_dir, overwrite, kind="dir", inputs=inputs, claim=True, name="-o")
    cells = sdf_cells(box)
    ppd = 3600 // int(resolution)
    # SPLAT! text: about 5.5 bytes per node on disk
    check_cost("--bbox", bbox or ",".join(_fmt_deg(v) for v in box), len(cells) * ppd * ppd,
               max_nodes, f"SDF nodes in {len(cells)} tiles", bytes_per_node=5.5)  # fmt: skip
    _check_free_space(out_dir, len(cells) * ppd * ppd * 7.0)
    with click.progressbar(length=len(cells), label="writing SDF tiles", file=sys.stderr) as bar:
        paths = write_sdf(
            t, box, out_dir, int(resolution), overwrite=overwrite, progress=lambda _n: bar.update(1)
        )
    if t.is_demo:
        click.echo(f"note: source is the {t.description}", err=True)
    click.echo(f"wrote {len(paths)} SDF tile(s) to {out_dir}")
    for p in paths:
        click.echo(f"  {p.name}")


@terrain.command("fetch")
@click.option("--bbox", required=True, help="S,W,N,E [deg].")
@click.option(
    "--source",
    "source",
    type=click.Choice(["copernicus-glo90", "copernicus-glo30", "srtm-skadi"]),
    default="copernicus-glo90",
    show_default=True,
)
@click.option(
    "--cache",
    "cache_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Cache directory (default: ~/.cache/yalu/terrain or $YALU_CACHE_DIR/terrain).",
)
@download_options(60.0, "Replace the public bucket URL (mirror).")
@click.option(
    "--max-tiles",
    type=int,
    default=400,
    show_default=True,
    help="Refuse boxes needing more 1-degree tiles (the size is stated).",
)
def fetch(
    bbox: str,
    source: str,
    cache_dir: Path | None,
    base_url: str | None,
    retries: int,
    timeout_s: float,
    backoff_s: float,
    max_tiles: int,
) -> None:
    """Download public elevation tiles covering --bbox into the cache (reused when present)."""
    from yalu.io.sdf import sdf_cells
    from yalu.terrain.fetch import default_cache_dir, fetch_tiles

    box = parse_bbox(bbox)
    root = cache_dir if cache_dir is not None else default_cache_dir()
    n = len(sdf_cells(box))
    done = [0]

    def tile_done(tile: str, status: str) -> None:
        done[0] += 1
        click.echo(f"  [{done[0]}/{n}] {tile}: {status}", err=True)

    click.echo(f"fetching {n} {source} tile(s) into {root}", err=True)
    rep = fetch_tiles(
        box,
        source,
        root,
        base_url,
        retries=retries,
        backoff_s=backoff_s,
        timeout_s=timeout_s,
        progress=tile_done,
        max_tiles=max_tiles,
    )
    click.echo(
        f"{len(rep.downloaded)} downloaded ({rep.bytes_downloaded / 2**20:.1f} MiB), "
        f"{len(rep.reused)} reused, {len(rep.absent)} absent (ocean, read as 0 m), "
        f"{rep.retries} retries; cache: {root}"
    )
    click.echo(f"use it with: --terrain {root}")
