"""``yalu calibrate``: fit a model correction to drive-test measurements, cross-validated."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("calibrate")
@click.argument("measurements", type=click.Path(path_type=Path))
@click.option(
    "--sites",
    "sites",
    required=True,
    type=click.Path(path_type=Path),
    help="Sites CSV: site_id,lat_deg,lon_deg,height_m,frequency_mhz[,eirp_dbm,...].",
)
@click.option("--terrain", required=True, help="Terrain file or tile directory.")
@click.option(
    "--model",
    type=click.Choice(["itm", "hata", "p1812"]),
    default="itm",
    show_default=True,
    help="Model to calibrate.",
)
@click.option("--holdout-site", default=None, help="Test on this site, train on the others.")
@click.option(
    "--folds",
    type=int,
    default=None,
    help="K-fold cross-validation by site (default: min(5, number of sites)).",
)
@click.option(
    "--landcover",
    default=None,
    help="Land cover (WorldCover cache or GeoTIFF): one offset per class.",
)
@click.option(
    "--rx-height-m",
    type=float,
    default=1.5,
    show_default=True,
    help="Handset height above ground [m].",
)
@click.option(
    "--step-m", type=float, default=30.0, show_default=True, help="Terrain profile step [m]."
)
@click.option(
    "--hata-environment",
    type=click.Choice(["urban", "urban-large", "suburban", "open"]),
    default="urban",
    show_default=True,
)
@click.option(
    "-o",
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path),
    help="CAL.json; the plots go beside it (CAL.measured_vs_predicted.png, "
    "CAL.residual_vs_distance.png).",
)
@click.option("--overwrite", is_flag=True, help="Replace existing outputs.")
def calibrate(
    measurements: Path,
    sites: Path,
    terrain: str,
    model: str,
    holdout_site: str | None,
    folds: int | None,
    landcover: str | None,
    rx_height_m: float,
    step_m: float,
    hata_environment: str,
    out: Path,
    overwrite: bool,
) -> None:
    """Calibrate MODEL on MEASUREMENTS.csv: offset, slope in log distance, class offsets."""
    from yalu.analysis.calibration import calibrate as run
    from yalu.io.atomic import check_writable
    from yalu.io.calibration import plot_paths, write_calibration

    for p in (out, *plot_paths(out)):  # refuse before the (slow) predictions
        check_writable(p, overwrite)
    click.echo(f"calibrating {model} on {measurements} ...", err=True)
    res = run(
        measurements, sites, terrain, model, holdout_site=holdout_site, folds=folds,
        landcover=landcover, rx_height_m=rx_height_m, step_m=step_m,
        hata_environment=hata_environment,
    )  # fmt: skip
    written = write_calibration(res, out, overwrite=overwrite)
    c = res.correction
    click.echo(
        f"held-out error (predicted - measured), {res.validation['method']}: "
        f"before RMSE {res.before.rmse_db:.2f} dB (mean {res.before.mean_error_db:+.2f}, "
        f"std {res.before.std_db:.2f}), after RMSE {res.after.rmse_db:.2f} dB "
        f"(mean {res.after.mean_error_db:+.2f}, std {res.after.std_db:.2f}), n = {res.after.n}"
    )
    click.echo(
        f"correction: {c.offset_db:+.2f} dB {c.slope_db_per_decade:+.2f} dB/decade"
        + (f", {len(c.class_offset_db)} class offset(s)" if c.class_offset_db else "")
    )
    for p in written:
        click.echo(f"wrote {p}")
