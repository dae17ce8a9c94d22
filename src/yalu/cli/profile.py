"""``yalu profile``: the terrain profile between two points, as CSV, optionally plotted."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click
import numpy as np

from yalu.errors import ParameterError, check_range

EARTH_RADIUS_M = 6_371_000.0  # mean earth radius
K_FACTOR = 4.0 / 3.0  # effective earth radius factor of the standard atmosphere (ITU-R P.453)
C_M_S = 299_792_458.0


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


def earth_bulge_m(d_m: np.ndarray, length_m: float, k: float = K_FACTOR) -> np.ndarray:
    """Height of the earth's bulge above the chord at ``d_m`` [m]: d (L - d) / (2 k a)."""
    return d_m * (length_m - d_m) / (2.0 * k * EARTH_RADIUS_M)


def fresnel_radius_m(d_m: np.ndarray, length_m: float, frequency_mhz: float) -> np.ndarray:
    """First Fresnel zone radius [m]: sqrt(lambda d1 d2 / (d1 + d2)) (ITU-R P.530, eq. 2)."""
    lam = C_M_S / (frequency_mhz * 1e6)
    d2 = np.maximum(length_m - d_m, 0.0)
    return np.sqrt(lam * d_m * d2 / max(length_m, 1e-9))


def _plot(
    prof: Any,
    png: Path,
    overwrite: bool,
    h_tx_m: float,
    h_rx_m: float,
    frequency_mhz: float | None,
    terrain_desc: str,
    is_demo: bool,
) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from yalu.io.atomic import atomic_output

    d = prof.distance_m
    L = prof.length_m
    bulge = earth_bulge_m(d, L)
    ground = prof.elevation_m + bulge
    z_tx = prof.elevation_m[0] + h_tx_m
    z_rx = prof.elevation_m[-1] + h_rx_m
    los = z_tx + (z_rx - z_tx) * (d / L if L > 0 else 0.0)
    clearance = los - ground
    summary = f"min clearance of the line of sight: {clearance.min():.1f} m"
    fig, ax = plt.subplots(figsize=(10, 4.5))
    km = d / 1000.0
    ax.fill_between(
        km, ground, ground.min() - 10, color="#b08d57", alpha=0.6, label="terrain + earth bulge"
    )
    ax.plot(
        km,
        bulge + min(ground.min(), 0),
        color="#555",
        lw=0.8,
        ls=":",
        label="earth curvature (k = 4/3)",
    )
    ax.plot(km, los, color="C0", lw=1.2, label="line of sight")
    if frequency_mhz is not None:
        r1 = fresnel_radius_m(d, L, frequency_mhz)
        ax.plot(
            km,
            los - r1,
            color="C3",
            lw=0.9,
            ls="--",
            label=f"1st Fresnel zone ({frequency_mhz:g} MHz)",
        )
        ax.plot(km, los + r1, color="C3", lw=0.9, ls="--")
        f_clear = (clearance / np.where(r1 > 0, r1, np.inf))[1:-1]
        if f_clear.size:
            summary += f"; worst Fresnel clearance {f_clear.min() * 100:.0f} % of r1 (60 % is the usual criterion)"
    ax.set_xlabel("distance [km]")
    ax.set_ylabel("height [m]")
    title = f"Profile {prof.lat_deg[0]:.4f},{prof.lon_deg[0]:.4f} -> {prof.lat_deg[-1]:.4f},{prof.lon_deg[-1]:.4f}"
    ax.set_title(title + f"  (h_tx {h_tx_m:g} m, h_rx {h_rx_m:g} m)", fontsize=10)
    note = f"terrain: {terrain_desc}; earth curvature drawn with a 4/3 effective earth radius"
    if is_demo:
        note = "COARSE 5' DEMO TERRAIN - " + note
    fig.text(0.01, 0.01, note, fontsize=7, color="C3" if is_demo else "#333")
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    with atomic_output(png, overwrite=overwrite) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)
    return summary


@click.command("profile", context_settings={"ignore_unknown_options": True})
@click.argument("start")
@click.argument("end")
@click.option(
    "--terrain",
    "terrain_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Terrain file or tile directory (default: embedded coarse 5' demo terrain).",
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
    "--frequency-mhz", type=float, default=None, help="Frequency for the first Fresnel zone [MHz]."
)
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
def profile(
    start: str,
    end: str,
    terrain_path: Path | None,
    step_m: float,
    missing: str,
    output: Path | None,
    png: Path | None,
    frequency_mhz: float | None,
    h_tx_m: float,
    h_rx_m: float,
    overwrite: bool,
) -> None:
    """Terrain profile from START to END (each LAT,LON in degrees) along the WGS84 geodesic.

    Prints CSV (distance_m, lat_deg, lon_deg, elevation_m) after '#' comment lines naming the
    terrain. Negative coordinates need no quoting: yalu profile -33.86,151.2 -33.9,151.3
    """
    from yalu.geodesy import profile as geo_profile
    from yalu.io.atomic import atomic_output, check_writable
    from yalu.terrain import default_terrain, open_terrain

    a = parse_point(start, "START")
    b = parse_point(end, "END")
    check_range("--step-m", step_m, 0, None, lo_inclusive=False)
    if frequency_mhz is not None:
        check_range("--frequency-mhz", frequency_mhz, 0, None, lo_inclusive=False)
    check_range("--h-tx-m", h_tx_m, 0, None)
    check_range("--h-rx-m", h_rx_m, 0, None)
    if output is not None:
        check_writable(output, overwrite)
    if png is not None:
        check_writable(png, overwrite)
    t = (
        default_terrain(missing=missing)
        if terrain_path is None
        else open_terrain(terrain_path, missing=missing)
    )
    prof = geo_profile(t, a, b, step_m)
    lines = [f"# terrain: {t.description}"]
    if t.is_demo:
        lines.append(
            "# WARNING: coarse 5' demo terrain (ETOPO5, ~9 km): not for analysis; pass --terrain"
        )
    lines.append(
        f"# length_m: {prof.length_m:.3f}, step_m: {prof.step_m:.3f}, intervals: {prof.n_intervals}"
    )
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
        summary = _plot(
            prof, png, overwrite, h_tx_m, h_rx_m, frequency_mhz, t.description, t.is_demo
        )
        click.echo(f"wrote {png}: {summary}", err=True)
