"""``yalu profile``: the terrain profile between two points, as CSV, optionally plotted."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click

from yalu.errors import ParameterError, check_range, parse_choice


def parse_point(value: str, name: str) -> tuple[float, float]:
    """Parse ``LAT,LON`` [deg]; ParameterError naming ``name`` with the valid range."""
    valid = "LAT,LON in degrees (lat -90 to 90, lon -180 to 360)"
    parts = [p.strip() for p in str(value).split(",")]
    if len(parts) != 2:
        raise ParameterError(name, value, valid)
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        raise ParameterError(name, value, valid) from None
    if not (math.isfinite(lat) and -90 <= lat <= 90 and math.isfinite(lon) and -180 <= lon <= 360):
        raise ParameterError(name, value, valid)
    return lat, lon


@click.command("profile", context_settings={"ignore_unknown_options": True})
@click.argument("start")
@click.argument("end")
@click.option(
    "--terrain",
    "terrain_path",
    default=None,
    help="Terrain file or tile directory, or 'embedded' (the default: the coarse 5' demo "
    "terrain of North-East Asia).",
)
@click.option(
    "--step-m",
    type=float,
    default=90.0,
    show_default=True,
    help="Requested step [m]; adjusted to divide the path evenly.",
)
@click.option(
    "--missing", type=click.Choice(["error", "sea-level"]), default="error", show_default=True
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Write the CSV here instead of stdout.",
)
@click.option(
    "--png",
    type=click.Path(path_type=Path),
    default=None,
    help="Plot terrain, earth curvature, line of sight and Fresnel zone.",
)
@click.option(
    "--frequency-mhz",
    type=float,
    default=None,
    help="Frequency [MHz]: adds the path report (ITM loss, mode, warnings, obstacles), the "
    "first Fresnel zone and the loss along the path to the plot.",
)
@click.option(
    "--csv/--no-csv",
    "write_csv",
    default=True,
    show_default=True,
    help="Print (or write to -o) the profile CSV; --no-csv prints the path report only.",
)
@click.option("--climate", default="5", show_default=True, help="ITM radio climate 1-7 or name.")
@click.option("--polarization", default="vertical", show_default=True,
              help="ITM polarization: horizontal|vertical.")  # fmt: skip
@click.option("--mdvar", default=12, type=int, show_default=True,
              help="ITM mode of variability (0-3, +10, +20).")  # fmt: skip
@click.option("--time-pct", type=float, default=50.0, show_default=True)
@click.option("--location-pct", type=float, default=50.0, show_default=True)
@click.option("--situation-pct", type=float, default=50.0, show_default=True)
@click.option(
    "--h-tx-m",
    type=float,
    default=30.0,
    show_default=True,
    help="Antenna height above ground at START [m].",
)
@click.option(
    "--h-rx-m",
    type=float,
    default=1.5,
    show_default=True,
    help="Antenna height above ground at END [m].",
)
@click.option("--overwrite", is_flag=True, help="Replace existing output files.")
@click.option(
    "--max-nodes",
    type=float,
    default=1e7,
    show_default=True,
    help="Refuse profiles of more points (length / step).",
)
def profile(
    start: str,
    end: str,
    terrain_path: str | None,
    step_m: float,
    missing: str,
    output: Path | None,
    png: Path | None,
    frequency_mhz: float | None,
    write_csv: bool,
    climate: str,
    polarization: str,
    mdvar: int,
    time_pct: float,
    location_pct: float,
    situation_pct: float,
    h_tx_m: float,
    h_rx_m: float,
    overwrite: bool,
    max_nodes: float,
) -> None:
    """Terrain profile from START to END (each LAT,LON in degrees) along the WGS84 geodesic.

    Prints CSV (distance_m, lat_deg, lon_deg, elevation_m) after '#' comment lines naming the
    terrain; with --frequency-mhz the '#' lines also hold the path report (ITM loss, mode,
    warnings, obstacles and clearance). Negative coordinates need no quoting:
    yalu profile -33.86,151.2 -33.9,151.3
    """
    from yalu.cli.options import as_options, open_cli_terrain
    from yalu.geodesy import profile as geo_profile
    from yalu.io.atomic import atomic_output, check_writable

    a = parse_point(start, "START")
    b = parse_point(end, "END")
    check_range("--step-m", step_m, 0, None, lo_inclusive=False)
    if frequency_mhz is not None:
        check_range("--frequency-mhz", frequency_mhz, 0, None, lo_inclusive=False)
    check_range("--h-tx-m", h_tx_m, 0, None)
    check_range("--h-rx-m", h_rx_m, 0, None)
    if a == b:
        raise ParameterError("END", end, "a point other than START (the profile has no length)")
    from yalu.geodesy import geodesic_inverse
    from yalu.inputs import check_cost

    # the points are bounded before anything is allocated
    length_m = float(geodesic_inverse(a[0], a[1], b[0], b[1])[0])
    check_cost("--step-m", step_m, length_m / step_m + 1, max_nodes, "profile points", 48)
    if output is not None and png is not None and output.resolve() == png.resolve():
        raise ParameterError("--png", str(png), "a file other than -o")
    if output is not None and not write_csv:
        raise ParameterError("--output", str(output), "omitted with --no-csv")
    ins = [] if terrain_path is None or str(terrain_path) == "embedded" else [terrain_path]
    for opt, target in (("-o", output), ("--png", png)):
        if target is not None:
            check_writable(target, overwrite, kind="file", inputs=ins, claim=True, name=opt)
    t = open_cli_terrain(terrain_path, missing=missing)
    with as_options({"step_m": "--step-m", "source": "--terrain"}):
        prof = geo_profile(t, a, b, step_m)
    report = None
    from yalu.propagation.clearance import path_clearance

    c = path_clearance(prof.distance_m, prof.elevation_m, h_tx_m, h_rx_m, frequency_mhz)
    if frequency_mhz is not None:
        from yalu.propagation.itm import Climate, Polarization
        from yalu.propagation.path_report import path_report

        names = {"h_tx_m": "--h-tx-m", "h_rx_m": "--h-rx-m", "frequency_mhz": "--frequency-mhz",
                 "climate": "--climate", "polarization": "--polarization", "mdvar": "--mdvar",
                 "time_pct": "--time-pct", "location_pct": "--location-pct",
                 "situation_pct": "--situation-pct"}  # fmt: skip
        with as_options(names):
            clim = int(parse_choice(Climate, _int_or_name(climate), "climate"))
            pol = int(parse_choice(Polarization, _int_or_name(polarization), "polarization"))
            report = path_report(
                prof, c, frequency_mhz, climate=clim, polarization=pol, mdvar=mdvar,
                time_pct=time_pct, location_pct=location_pct, situation_pct=situation_pct,
            )  # fmt: skip
    lines = [f"# terrain: {t.description}"]
    if t.is_demo:
        lines.append(
            "# WARNING: coarse 5' demo terrain (ETOPO5, ~9 km): not for analysis; pass --terrain"
        )
    lines.append(
        f"# length_m: {prof.length_m:.3f}, step_m: {prof.step_m:.3f}, intervals: {prof.n_intervals}"
    )
    if report is not None:
        lines += [f"# {line}" for line in report.lines()]
    if write_csv:
        lines.append("distance_m,lat_deg,lon_deg,elevation_m")
        for d, la, lo, z in zip(
            prof.distance_m, prof.lat_deg, prof.lon_deg, prof.elevation_m, strict=True
        ):
            lines.append(f"{d:.3f},{la:.7f},{lo:.7f},{z:.2f}")
    text = "\n".join(lines) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        with atomic_output(output, overwrite=overwrite) as tmp:
            tmp.write_text(text)
        click.echo(f"wrote {output}", err=True)
    if t.is_demo:
        click.echo(
            "note: using the embedded coarse 5' demo terrain (pass --terrain for real terrain)",
            err=True,
        )
    if png is not None:
        from yalu.io.plots import write_profile_png

        extra: dict[str, Any] = {}
        if report is not None and report.itm is not None:
            extra = {"loss": (report.along_distance_m, report.along_loss_db),
                     "obstacles_km": [o.distance_m / 1000.0 for o in report.obstacles]}  # fmt: skip
        write_profile_png(png, prof, c, terrain_description=t.description, is_demo=t.is_demo,
                          overwrite=overwrite, **extra)  # fmt: skip
        summary = f"min clearance of the line of sight: {c.min_clearance_m:.1f} m"
        fraction = c.min_fresnel_fraction
        if fraction is not None:
            summary += (
                f"; worst Fresnel clearance {fraction * 100:.0f} % of r1 "
                "(60 % is the usual criterion)"
            )
        click.echo(f"wrote {png}: {summary}", err=True)


def _int_or_name(value: str) -> int | str:
    v = str(value).strip()
    try:
        return int(v)
    except ValueError:
        return v
