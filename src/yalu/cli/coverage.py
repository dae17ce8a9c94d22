"""``yalu coverage``: a map around one site, as GeoTIFF (and optionally PNG).

Path loss [dB] by default; with ``--eirp-dbm``/``--erp-dbm`` the received power [dBm] of an
isotropic receiver, or with ``--field-strength`` the field strength [dB(µV/m)] (as SPLAT!'s
``-erp`` and ``-dbm`` options). The PNG draws threshold bands for signal maps.
"""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import click
import numpy as np

from yalu.errors import ParameterError

DEFAULT_MAX_NODES = 1e8
_M_PER_DEG = 111_320.0


def check_map_nodes(
    resolution_deg: tuple[float, float], lat: float, radius_km: float, max_nodes: float
) -> None:
    """Refuse, before anything is allocated, a map of more than ``max_nodes`` terrain nodes."""
    from yalu.inputs import check_cost

    dlat, dlon = resolution_deg
    r_m = radius_km * 1000.0
    lat_far = min(89.9, abs(lat) + r_m / _M_PER_DEG)
    rows = 2 * r_m / (dlat * _M_PER_DEG) + 1
    cols = 2 * r_m / (dlon * _M_PER_DEG * math.cos(math.radians(lat_far))) + 1
    check_cost("--radius-km", radius_km, rows * cols, max_nodes,
               f"map nodes at the terrain's {dlat * 3600:.3g}\" spacing",
               bytes_per_node=60)  # fmt: skip


def _parse_site(value: str) -> tuple[float, float]:
    valid = "LAT,LON in degrees (lat -89 to 89, lon -180 to 360)"
    parts = [p.strip() for p in str(value).split(",")]
    if len(parts) != 2:
        raise ParameterError("--site", value, valid)
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        raise ParameterError("--site", value, valid) from None
    if not (math.isfinite(lat) and -89 <= lat <= 89 and math.isfinite(lon) and -180 <= lon <= 360):
        raise ParameterError("--site", value, valid)
    return lat, lon


class _Progress:
    """A click progress bar on stderr fed by the engine's (done, total) callback."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Any = None
        self.done = 0

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            self.bar = click.progressbar(length=total, label="coverage", file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@click.command("coverage")
@click.option(
    "--terrain",
    "terrain_path",
    required=True,
    help="Terrain: a directory of tiles (SDF, .hgt, Copernicus), a raster file, or "
    "'embedded' (the coarse 5' demo terrain of North-East Asia).",
)
@click.option("--site", required=True, help="Transmitter position LAT,LON [deg].")
@click.option(
    "--height-m", type=float, required=True, help="Transmitter antenna height above ground [m]."
)
@click.option("--frequency-mhz", type=float, required=True, help="Frequency [MHz].")
@click.option("--radius-km", type=float, required=True, help="Map radius [km].")
@click.option(
    "--rx-height-m",
    type=float,
    default=1.5,
    show_default=True,
    help="Receiver height above ground [m].",
)
@click.option(
    "--model",
    default="itm",
    show_default=True,
    type=click.Choice(["itm", "p1812", "hata", "free-space"], case_sensitive=False),
    help="itm (Longley-Rice), p1812 (ITU-R P.1812-8, always one profile per node), "
    "hata or free-space.",
)
@click.option(
    "--mode",
    default="fast",
    show_default=True,
    type=click.Choice(["fast", "exact", "hybrid"], case_sensitive=False),
    help="ITM map mode: fast (radial sweeps, stated error), exact (one profile per "
    "node) or hybrid (each node's profile, its part beyond 2 km from the node read from "
    "shared radials); P.1812 maps are always exact.",
)
@click.option(
    "--direction",
    default="forward",
    show_default=True,
    type=click.Choice(["forward", "reverse"], case_sensitive=False),
    help="ITM: forward = the site transmits to each node; reverse = each node (at "
    "--rx-height-m) transmits to the site (uplink).",
)
@click.option(
    "--climate",
    default="5",
    show_default=True,
    help="ITM radio climate 1-7 or name (e.g. continental-temperate).",
)
@click.option(
    "--n0",
    type=float,
    default=None,
    help="Surface refractivity [N-units] (ITM, default 301) or sea-level surface "
    "refractivity N0 (P.1812, default 325).",
)
@click.option(
    "--delta-n",
    type=float,
    default=None,
    help="P.1812: average refractivity lapse rate dN [N-units/km] (default: from "
    "--p1812-maps at the site, else 45).",
)
@click.option(
    "--p1812-maps",
    "p1812_maps",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="P.1812: directory with the ITU-R maps DN50.TXT and N050.TXT (not shipped with "
    "yalu); dN and N0 are read at the site unless --delta-n/--n0 are given.",
)
@click.option(
    "--clutter-m",
    type=float,
    default=0.0,
    show_default=True,
    help="P.1812: representative clutter height R [m] along every profile.",
)
@click.option(
    "--zone",
    type=click.Choice(["1", "3", "4"]),
    default="4",
    show_default=True,
    help="P.1812: radio-climatic zone along every profile (1 sea, 3 coastal, 4 inland).",
)
@click.option(
    "--location-sigma-db",
    type=float,
    default=0.0,
    show_default=True,
    help="P.1812: location variability sigma_L [dB].",
)
@click.option(
    "--epsilon", type=float, default=15.0, show_default=True, help="Ground relative permittivity."
)
@click.option(
    "--sigma", type=float, default=0.005, show_default=True, help="Ground conductivity [S/m]."
)
@click.option(
    "--polarization", default="vertical", show_default=True, help="horizontal|vertical (or 0|1)."
)
@click.option(
    "--mdvar", default="12", show_default=True, help="ITM mode of variability (0-3, +10, +20)."
)
@click.option("--time-pct", type=float, default=50.0, show_default=True)
@click.option("--location-pct", type=float, default=50.0, show_default=True)
@click.option("--situation-pct", type=float, default=50.0, show_default=True)
@click.option(
    "--hata-environment",
    default="urban",
    show_default=True,
    help="Hata land use: urban, urban-large, suburban, open.",
)
@click.option(
    "--clutter",
    default="none",
    show_default=True,
    type=click.Choice(["none", "p2108-statistical"], case_sensitive=False),
    help="Add ITU-R P.2108 §3.2 statistical clutter loss at the handset end "
    "(0.5-67 GHz; nodes nearer than 0.25 km unchanged).",
)
@click.option(
    "--clutter-location-pct",
    type=float,
    default=50.0,
    show_default=True,
    help="P.2108: percentage of locations [%].",
)
@click.option(
    "--indoor",
    default=None,
    type=click.Choice(["traditional", "thermally-efficient"], case_sensitive=False),
    help="Add ITU-R P.2109 building entry loss for a handset in this kind of building.",
)
@click.option(
    "--indoor-probability-pct",
    type=float,
    default=50.0,
    show_default=True,
    help="P.2109: probability that the building entry loss is not exceeded [%].",
)
@click.option(
    "--calibration",
    type=click.Path(path_type=Path),
    default=None,
    help="CAL.json from `yalu calibrate` (same model): add its offset and distance slope.",
)
@click.option(
    "--eirp-dbm",
    type=float,
    default=None,
    help="Transmitter EIRP [dBm]: write the received power [dBm] instead of path loss.",
)
@click.option(
    "--erp-dbm",
    type=float,
    default=None,
    help="Transmitter ERP [dBm] (EIRP = ERP + 2.15 dB): as --eirp-dbm.",
)
@click.option(
    "--field-strength",
    is_flag=True,
    help="With --eirp-dbm/--erp-dbm: write field strength [dBuV/m] instead of dBm.",
)
@click.option(
    "--thresholds",
    default=None,
    help="Comma-separated band edges for the PNG, e.g. -110,-100,-90 (dBm). Default "
    "for signal maps: -120 to -60 dBm by 10, or 20 to 80 dBuV/m by 10.",
)
@click.option(
    "-o", "--output", required=True, type=click.Path(path_type=Path), help="Output GeoTIFF."
)
@click.option("--png", type=click.Path(path_type=Path), default=None, help="Also write a PNG map.")
@click.option("--overwrite", is_flag=True, help="Replace existing outputs.")
@click.option("--threads", type=int, default=None, help="Threads (default: all cores).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option(
    "--max-nodes",
    type=float,
    default=DEFAULT_MAX_NODES,
    show_default=True,
    help="Refuse maps of more nodes (the cost is stated; ~60 bytes of memory each).",
)
def coverage(
    terrain_path: Path, site: str, height_m: float, frequency_mhz: float, radius_km: float,
    rx_height_m: float, model: str, mode: str, direction: str, climate: str, n0: float | None,
    delta_n: float | None, p1812_maps: Path | None, clutter_m: float, zone: str,
    location_sigma_db: float, epsilon: float,
    sigma: float, polarization: str, mdvar: str, time_pct: float, location_pct: float,
    situation_pct: float, hata_environment: str, clutter: str, clutter_location_pct: float,
    indoor: str | None, indoor_probability_pct: float, calibration: Path | None,
    eirp_dbm: float | None, erp_dbm: float | None, field_strength: bool, thresholds: str | None,
    output: Path, png: Path | None, overwrite: bool, threads: int | None, quiet: bool,
    max_nodes: float,
) -> None:  # fmt: skip
    """Path loss [dB], received power [dBm] or field strength [dBuV/m] from one site to every
    terrain node within a radius."""
    import atexit
    import gc

    # Python's last garbage collection at exit walks numba's large object graph; at
    # exit nothing is left to free that the OS does not reclaim, so freeze the heap first
    atexit.register(gc.freeze)

    from yalu.cli.options import as_options, open_cli_terrain
    from yalu.coverage.engine import (
        P1812Options,
        coerce_itm_options,
        make_tile_spec,
        map_attrs,
        numba_threads,
        tile_job,
    )
    from yalu.io.atomic import check_writable
    from yalu.io.raster import write_geotiff

    lat, lon = _parse_site(site)
    eirp = _eirp(eirp_dbm, erp_dbm, field_strength)
    bands = _parse_thresholds(thresholds)
    if png is not None and Path(os.path.abspath(png)) == Path(os.path.abspath(output)):
        raise ParameterError("--png", str(png), "a file other than -o")
    ins = [p for p in (terrain_path, calibration, p1812_maps)
           if p is not None and str(p) != "embedded"]  # fmt: skip
    check_writable(output, overwrite, kind="file", inputs=ins, claim=True, name="-o")
    if png is not None:
        check_writable(png, overwrite, kind="file", inputs=ins, claim=True, name="--png")
    if not (math.isfinite(radius_km) and 0 < radius_km <= 500):
        raise ParameterError("--radius-km", radius_km, "> 0 and <= 500")
    if model.lower() == "p1812":
        mode = "exact"
    corrections = _Corrections(
        model.lower(), frequency_mhz, clutter.lower(), clutter_location_pct, indoor,
        indoor_probability_pct, calibration,
    )  # fmt: skip
    dtype = np.float32 if mode.lower() == "fast" else np.float64
    # load the compiled kernels while the terrain is read (I/O and code loading overlap)
    warm = None
    no_blas = _block_numba_blas_probe()
    if model.lower() == "itm":
        import threading

        from yalu.coverage.engine import warm_up

        def _warm() -> None:
            try:
                warm_up(mode.lower(), dtype)
            except Exception:  # noqa: BLE001 - an optimisation only: the real run reports errors
                pass

        warm = threading.Thread(target=_warm, daemon=True)
        warm.start()
    try:
        # the window is read once: a small block cache keeps memory down
        terrain = open_cli_terrain(terrain_path, cache_mb=32)
        check_map_nodes(terrain.resolution_deg, lat, radius_km, max_nodes)
        t0 = time.perf_counter()
        with as_options(OPTION_NAMES):
            itm = coerce_itm_options(
                _int_or_name(climate), 301.0 if n0 is None else n0, _int_or_name(polarization),
                epsilon, sigma, _int_or_name(mdvar), time_pct, location_pct, situation_pct,
            )  # fmt: skip
            dn_p, n0_p = 45.0, 325.0
            if p1812_maps is not None and model.lower() == "p1812":
                from yalu.propagation.p1812 import RefractivityMaps

                dn_p, n0_p = RefractivityMaps.from_directory(p1812_maps).at(lat, lon)
            p1812 = P1812Options(
                time_pct=time_pct, location_pct=location_pct, location_sigma_db=location_sigma_db,
                polarization=itm.polarization, delta_n=dn_p if delta_n is None else delta_n,
                n0=n0_p if n0 is None else n0, clutter_height_m=clutter_m, zone=int(zone),
            )  # fmt: skip
            spec = make_tile_spec(
                terrain, (lat, lon), radius_km * 1000.0, h_tx_m=height_m, h_rx_m=rx_height_m,
                frequency_mhz=frequency_mhz, model=model, mode=mode, itm=itm,
                hata_environment=hata_environment, elevation_dtype=dtype, direction=direction,
                p1812=p1812,
            )  # fmt: skip
        attrs = map_attrs(spec, terrain)
        del terrain  # drops the tile cache: only the window is needed from here on
    finally:
        # also on errors: never leave the loader thread running while the process exits
        if warm is not None:
            warm.join()
        _unblock_numba_blas_probe(no_blas)
    prog = _Progress(not quiet)
    try:
        with numba_threads(threads), as_options(OPTION_NAMES):
            data = tile_job(spec, progress=prog)
    finally:
        prog.close()
    data = corrections.apply(data, spec.grid, lat, lon, attrs)
    elapsed = time.perf_counter() - t0
    transform = spec.grid.transform
    del spec  # the terrain window is not needed any more: free it before writing
    quantity, units, data = _quantity(data, eirp, field_strength, frequency_mhz, attrs)
    write_geotiff(output, data, transform=transform, crs="EPSG:4326",
                  nodata=float("nan"), tags=attrs, overwrite=overwrite,
                  description=quantity)  # fmt: skip
    if png is not None:
        from yalu.io.maps import plot_map

        what = {"path_loss_db": "path loss", "received_power_dbm": "received power",
                "field_strength_dbuv_per_m": "field strength"}[quantity]  # fmt: skip
        title = (
            f"{what}, {attrs['model']}"
            + (f" ({attrs['mode']})" if attrs["model"] in ("itm", "p1812") else "")
            + f", {frequency_mhz:g} MHz, tx {height_m:g} m, rx {rx_height_m:g} m, {radius_km:g} km"
            + (f", EIRP {eirp:g} dBm" if eirp is not None else "")
        )
        kw: dict[str, Any] = {}
        shown = data
        if bands is None and eirp is not None:
            bands = DEFAULT_BANDS["field" if field_strength else "dbm"]
        if bands is not None:
            from yalu.io.bands import threshold_bands

            shown, kw["categories"] = threshold_bands(
                data, bands, units.split(" [")[-1].rstrip("]"),
                higher_is_better=quantity != "path_loss_db",
            )  # fmt: skip
        plot_map(
            png, shown, transform=transform, title=title, units=units, sites=[(lat, lon)],
            note=attrs.get("warning"), overwrite=overwrite, **kw,
        )  # fmt: skip
    if not quiet:
        n_in = int(np.isfinite(data).sum())
        click.echo(
            f"wrote {output} ({data.shape[0]} x {data.shape[1]} nodes, {n_in} in range, "
            f"{elapsed:.2f} s)",
            err=True,
        )


class _Corrections:
    """Optional corrections of the map (checked before the map is computed)."""

    def __init__(
        self, model: str, frequency_mhz: float, clutter: str, clutter_pct: float,
        indoor: str | None, indoor_pct: float, calibration: Path | None,
    ) -> None:  # fmt: skip
        from yalu.errors import check_range

        self.f = frequency_mhz
        self.clutter = clutter
        self.clutter_pct = clutter_pct
        self.indoor = indoor
        self.indoor_pct = indoor_pct
        self.cal: Any = None
        self.cal_path = calibration
        if clutter != "none" and model == "p1812":
            # P.1812 has its own clutter (heights along the profile): no double counting
            raise ParameterError("--clutter", clutter, "none with --model p1812 (use --clutter-m)")
        if clutter != "none":
            check_range("--frequency-mhz", frequency_mhz, 500.0, 67000.0)
            check_range("--clutter-location-pct", clutter_pct, 0, 100, lo_inclusive=False,
                        hi_inclusive=False)  # fmt: skip
        if indoor is not None:
            check_range("--frequency-mhz", frequency_mhz, 80.0, 100000.0)
            check_range("--indoor-probability-pct", indoor_pct, 0, 100, lo_inclusive=False,
                        hi_inclusive=False)  # fmt: skip
        if calibration is not None:
            from yalu.analysis.calibration import load_calibration

            cal_model, self.cal = load_calibration(calibration)
            if cal_model.value != model:
                raise ParameterError(
                    "--calibration", str(calibration),
                    f"a calibration of {model} (it calibrates {cal_model.value})",
                )  # fmt: skip

    def apply(self, data: Any, grid: Any, lat: float, lon: float, attrs: dict[str, Any]) -> Any:
        import numpy as np

        if self.clutter == "none" and self.indoor is None and self.cal is None:
            return data
        from pyproj import Geod

        la, lo = np.meshgrid(grid.lats(), grid.lons(), indexing="ij")
        _, _, d_m = Geod(ellps="WGS84").inv(np.full(la.shape, lon), np.full(la.shape, lat), lo, la)
        d_km = np.maximum(np.asarray(d_m), 1.0) / 1000.0
        out = np.asarray(data, dtype=float)
        if self.cal is not None:
            out = self.cal.apply(out, d_km)
            attrs["calibration"] = f"{self.cal_path}: {self.cal.offset_db:+.3f} dB, " \
                f"{self.cal.slope_db_per_decade:+.3f} dB/decade"  # fmt: skip
        if self.clutter == "p2108-statistical":
            from yalu.propagation.p2108 import apply_terrestrial_clutter_loss_db

            out = apply_terrestrial_clutter_loss_db(out, self.f, d_km, self.clutter_pct)
            attrs["clutter"] = f"ITU-R P.2108 3.2 statistical, {self.clutter_pct:g} % of locations"
        if self.indoor is not None:
            from yalu.propagation.p2109 import apply_building_entry_loss_db

            out = apply_building_entry_loss_db(out, self.f, self.indoor_pct, self.indoor)
            attrs["indoor"] = f"ITU-R P.2109 {self.indoor}, P = {self.indoor_pct:g} %"
        return out.astype(np.asarray(data).dtype)


#: Library parameter -> the option of this command (errors name what the user typed).
OPTION_NAMES = {
    "h_tx_m": "--height-m", "h_rx_m": "--rx-height-m", "frequency_mhz": "--frequency-mhz",
    "site": "--site", "site latitude [deg]": "--site", "site longitude [deg]": "--site",
    "climate": "--climate", "n0": "--n0", "epsilon": "--epsilon", "sigma": "--sigma",
    "polarization": "--polarization", "mdvar": "--mdvar", "time_pct": "--time-pct",
    "location_pct": "--location-pct", "situation_pct": "--situation-pct", "model": "--model",
    "mode": "--mode", "direction": "--direction", "hata_environment": "--hata-environment",
    "threads": "--threads", "terrain": "--terrain", "thresholds": "--thresholds",
    "eirp_dbm": "--eirp-dbm", "frequency": "--frequency-mhz", "delta_n": "--delta-n",
    "clutter_height_m": "--clutter-m", "zone": "--zone", "location_sigma_db": "--location-sigma-db",
    "p1812.delta_n": "--delta-n", "p1812.n0": "--n0", "p1812.clutter_height_m": "--clutter-m",
    "p1812.zone": "--zone", "p1812.location_sigma_db": "--location-sigma-db",
    "p1812.time_pct": "--time-pct", "p1812.location_pct": "--location-pct",
    "p1812.polarization": "--polarization",
}  # fmt: skip

#: Default PNG bands of signal maps: dBm (RSRP/RxLev-like levels) and dB(µV/m).
DEFAULT_BANDS = {"dbm": [-120.0, -110.0, -100.0, -90.0, -80.0, -70.0, -60.0],
                 "field": [20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0]}  # fmt: skip


def _eirp(eirp_dbm: float | None, erp_dbm: float | None, field: bool) -> float | None:
    """The transmitter EIRP [dBm] from --eirp-dbm or --erp-dbm (one of them, or none)."""
    from yalu.errors import check_range
    from yalu.propagation.field_strength import eirp_from_erp_dbm

    if eirp_dbm is not None and erp_dbm is not None:
        raise ParameterError("--erp-dbm", erp_dbm, "omitted when --eirp-dbm is given (one of them)")
    if erp_dbm is not None:
        check_range("--erp-dbm", erp_dbm, -100.0, 130.0)
        return float(eirp_from_erp_dbm(erp_dbm))
    if eirp_dbm is not None:
        check_range("--eirp-dbm", eirp_dbm, -100.0, 130.0)
        return float(eirp_dbm)
    if field:
        raise ParameterError("--field-strength", True, "used with --eirp-dbm or --erp-dbm")
    return None


def _parse_thresholds(value: str | None) -> list[float] | None:
    if value is None:
        return None
    from yalu.cli.options import as_options
    from yalu.io.bands import threshold_bands

    try:
        thr = [float(p) for p in value.split(",") if p.strip()]
    except ValueError:
        raise ParameterError("--thresholds", value, "comma-separated numbers") from None
    with as_options({"thresholds": "--thresholds"}):
        threshold_bands(np.zeros(1), thr, "")  # validates count and order
    return thr


def _quantity(data: Any, eirp: float | None, field: bool, frequency_mhz: float,
              attrs: dict[str, Any]) -> tuple[str, str, Any]:  # fmt: skip
    """(band description, units label, values) of the map to write; updates ``attrs``."""
    if eirp is None:
        return "path_loss_db", "basic transmission loss [dB]", data
    from yalu.propagation.field_strength import field_strength_dbuv_per_m, received_power_dbm

    attrs["eirp_dbm"] = eirp
    attrs["path_loss_note"] = "values = EIRP - basic transmission loss (isotropic receiver)"
    if field:
        out = field_strength_dbuv_per_m(eirp, data, frequency_mhz)
        attrs.update(
            long_name="field strength",
            units="dBuV/m",
            formula="E = EIRP - Lb + 20 log10(f_MHz) + 77.2 (ITU-R P.525-4 sec. 3)",
        )
        return "field_strength_dbuv_per_m", "field strength [dBµV/m]", np.asarray(out, np.float32)
    out = received_power_dbm(eirp, data)
    attrs.update(long_name="received power, isotropic receiver", units="dBm")
    return "received_power_dbm", "received power [dBm]", np.asarray(out, np.float32)


_BLAS_MODULE = "scipy.linalg.cython_blas"


def _block_numba_blas_probe() -> bool:
    """Make numba's start-up probe for BLAS fail fast, for this command only.

    When numba first loads a kernel it imports ``numba.np.arraymath``, which imports
    ``scipy.linalg`` (a large part of the CLI's fixed cost) only to learn whether BLAS
    exists for ``np.cov``-like inner products. yalu's kernels use no BLAS. A ``None`` entry in
    ``sys.modules`` makes that one import raise ImportError (numba then uses its plain loop);
    it is removed as soon as the kernels are loaded, so any later import of scipy works. Does
    nothing if scipy.linalg is already imported or numba already initialised.
    """
    if _BLAS_MODULE in sys.modules or "numba.np.arraymath" in sys.modules:
        return False
    sys.modules[_BLAS_MODULE] = None  # type: ignore[assignment]
    return True


def _unblock_numba_blas_probe(blocked: bool) -> None:
    if blocked and sys.modules.get(_BLAS_MODULE, 0) is None:
        del sys.modules[_BLAS_MODULE]


def _int_or_name(value: str) -> Any:
    v = str(value).strip()
    try:
        return int(v)
    except ValueError:
        return v
