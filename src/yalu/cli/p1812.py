"""``yalu p1812``: ITU-R P.1812-8 on path profiles in the ITU-R SG3 databank CSV layout.

``yalu p1812 run FILE... -o OUT.jsonl`` reads each file (:mod:`yalu.io.sg3`) and writes one JSON
line per (file, dataset): ``file`` (the input's name), ``dataset`` (0-based row of the file's
measurement block), ``Lb_db``, ``Ep_dbuv_m`` (for the dataset's transmitter power), the inputs used
and the intermediates named as in the ITU-R WP 3M validation logs (``NAME_K_log.csv``), with the
unit in the name (table :data:`LOG_KEYS`).

How the inputs are taken from a file (the rules of the WP 3M validation, so that the references
are reproduced):

- frequency, antenna heights above ground, polarization (1 horizontal, 2 vertical) and time
  percentage from the dataset's row; location percentage 50 and sigma_L 0 unless given;
- representative clutter heights R_i from the profile's ground cover height column
  (``--clutter cover-height``, what the WP 3M references use), or from the coverage codes
  (``--clutter coverage-code``, :data:`COVERAGE_CODE_R_M`); radio-climatic zones from the
  radio-meteorological code (1 sea, 3 coastal land, 4 inland);
- dct = dcr = 500 km, 0 for a terminal on a sea point;
- transmitter power [kW] from the row's maximum total e.r.p. [dBW], else from its measured
  field strength E and basic loss PL: ``P [dBkW] = -137.2217 + E - 20 log10(f_MHz) + PL``;
- delta N and N0 from ``--delta-n``/``--n0``, else from the file, else from the ITU digital maps
  given with ``--maps DIR`` (never shipped with yalu), else an error.

A dataset the model refuses (e.g. a frequency outside 30-6000 MHz) gets an ``error`` string and
null results; it does not stop the run.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import click
import numpy as np

from yalu.errors import InputError, YaluError
from yalu.io.atomic import atomic_output, check_writable

# (JSON key, log label, equation reference of the log, field of P1812Result)
LOG_KEYS: tuple[tuple[str, str, str, str], ...] = (
    ("d_km", "d (km)", "", "d_km"),
    ("dlt_km", "dlt (km)", "Eq (78)", "dlt_km"),
    ("dlr_km", "dlr (km)", "Eq (81a)", "dlr_km"),
    ("th_t_mrad", "th_t (mrad)", "Eqs (76-78)", "theta_t_mrad"),
    ("th_r_mrad", "th_r (mrad)", "Eqs (79-81)", "theta_r_mrad"),
    ("th_mrad", "th (mrad)", "Eq (82)", "theta_mrad"),
    ("hts_m", "hts (m)", "", "hts_m"),
    ("hrs_m", "hrs (m)", "", "hrs_m"),
    ("htc_m", "htc (m)", "Table 5", "hts_m"),
    ("hrc_m", "hrc (m)", "Table 5", "hrs_m"),
    ("w", "w", "Table 5", "omega"),
    ("dtm_km", "dtm (km)", "Sec 3.6", "dtm_km"),
    ("dlm_km", "dlm (km)", "Sec 3.6", "dlm_km"),
    ("phi_deg", "phi (deg)", "Eq (4)", "path_center_lat_deg"),
    ("b0_pct", "b0 (%)", "Eq (5)", "beta0_pct"),
    ("ae_km", "ae (km)", "Eq (7a)", "ae_km"),
    ("hst_m", "hst (m)", "Eq (85)", "hst_ls_m"),
    ("hsr_m", "hsr (m)", "Eq (86)", "hsr_ls_m"),
    ("hst_eq90a_m", "hst (m)", "Eq (90a)", "hst_m"),
    ("hsr_eq90b_m", "hsr (m)", "Eq (90b)", "hsr_m"),
    ("hstd_m", "hstd (m)", "Eq (89)", "hstd_m"),
    ("hsrd_m", "hsrd (m)", "Eq (89)", "hsrd_m"),
    ("htc_eq37a_m", "htc (m)", "Eq (37a)", "hts1_m"),
    ("hrc_eq37b_m", "hrc (m)", "Eq (37b)", "hrs1_m"),
    ("hte_m", "hte (m)", "Eq (92a)", "hte_m"),
    ("hre_m", "hre (m)", "Eq (92b)", "hre_m"),
    ("hm_m", "hm (m)", "Eq (93)", "hm_m"),
    ("Fi", "Fi", "Eq (40)", "fi"),
    ("Fj", "Fj", "Eq (57)", "fj"),
    ("Fk", "Fk", "Eq (58)", "fk"),
    ("Lbfs_db", "Lbfs", "Eq (8)", "lbfs_db"),
    ("Lb0p_db", "Lb0p", "Eq (10)", "lb0p_db"),
    ("Lb0b_db", "Lb0b", "Eq (11)", "lb0b_db"),
    ("Lbulla_db", "Lbulla (dB)", "Eq (21)", "lbulla_db"),
    ("Lbulls_db", "Lbulls (dB)", "Eq (21)", "lbulls_db"),
    ("Ldsph_db", "Ldsph (dB)", "Eq (27)", "ldsph_db"),
    ("Ld50_db", "Ld50 (dB)", "Eq (39)", "ld50_db"),
    ("Ldb_db", "Ldb (dB)", "Eq (39)", "ldb_db"),
    ("Ldp_db", "Ldp (dB)", "Eq (41)", "ldp_db"),
    ("Lbd50_db", "Lbd50 (dB)", "Eq (42)", "lbd50_db"),
    ("Lbd_db", "Lbd (dB)", "Eq (43)", "lbd_db"),
    ("Lminb0p_db", "Lminb0p (dB)", "Eq (59)", "lminb0p_db"),
    ("Lba_db", "Lba (dB)", "Eq (46)", "lba_db"),
    ("Lminbap_db", "Lminbap (dB)", "Eq (60)", "lminbap_db"),
    ("Lbda_db", "Lbda (dB)", "Eq (61)", "lbda_db"),
    ("Lbam_db", "Lbam (dB)", "Eq (62)", "lbam_db"),
    ("Lbs_db", "Lbs (dB)", "Eq (44)", "lbs_db"),
    ("Lbc_db", "Lbc (dB)", "Eq (63)", "lbc_db"),
    ("Lloc_db", "", "Sec 4.7", "lloc_db"),
    ("Lb_db", "Lb (dB)", "Eq (69)", "loss_db"),
    ("Ep_1kw_dbuv_m", "Ep (dBuV/m)", "Eq (70)", "field_strength_1kw_dbuv_m"),
)

#: representative clutter height [m] per coverage code with ``--clutter coverage-code``
#: (1 water/sea, 2 open/rural, 3 suburban, 4 urban/trees/forest, 5 dense urban)
COVERAGE_CODE_R_M = {1: 10.0, 2: 10.0, 3: 10.0, 4: 15.0, 5: 20.0}


def _clutter_from_codes(codes: np.ndarray, path: str) -> np.ndarray:
    out = np.empty(codes.shape)
    for i, c in enumerate(codes):
        if not (math.isfinite(c) and int(c) in COVERAGE_CODE_R_M and c == int(c)):
            raise InputError(f"{path}: profile point {i}: coverage code {c} is not 1..5")
        out[i] = COVERAGE_CODE_R_M[int(c)]
    return out


def _tx_power_kw(ds: Any) -> float:
    if math.isfinite(ds.erp_max_total_dbw):
        return float(10.0 ** (ds.erp_max_total_dbw / 10.0) * 1e-3)
    e, pl, f = ds.field_strength_dbuv_m, ds.basic_loss_db, ds.frequency_mhz
    if math.isfinite(e) and math.isfinite(pl) and f > 0:
        return float(10.0 ** ((-137.2217 + e - 20.0 * math.log10(f) + pl) / 10.0))
    return math.nan


def _finite_or_none(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def compute_file(
    path: Path,
    *,
    clutter: str = "cover-height",
    delta_n: float | None = None,
    n0: float | None = None,
    maps: Any = None,
    location_pct: float = 50.0,
    location_sigma_db: float = 0.0,
) -> list[dict[str, Any]]:
    """The output records of one SG3 file (raises :class:`InputError` for an unusable file)."""
    from yalu.io.sg3 import read_sg3_csv
    from yalu.propagation import p1812

    s = read_sg3_csv(path)
    zone_f = s.radio_met_code
    if not np.all(np.isfinite(zone_f)):
        i = int(np.argmin(np.isfinite(zone_f)))
        raise InputError(f"{path}: profile point {i} has no radio-meteorological code")
    zone = zone_f.astype(np.int64)
    if clutter == "coverage-code":
        r = _clutter_from_codes(s.coverage_code, str(path))
    else:
        r = np.nan_to_num(s.ground_cover_height_m, nan=0.0)
    d = s.distance_km
    phi, lam = p1812.path_center_deg(
        s.tx_lat_deg, s.tx_lon_deg, s.rx_lat_deg, s.rx_lon_deg, float(d[-1] - d[0])
    )
    dn = delta_n if delta_n is not None else s.delta_n
    nz = n0 if n0 is not None else s.n0
    if not (math.isfinite(dn) and math.isfinite(nz)):
        if maps is None:
            which = "dN" if not math.isfinite(dn) else "No"
            raise InputError(
                f"{path}: the file gives no {which}: pass --delta-n/--n0 or --maps DIR "
                "(the ITU-R digital maps DN50.TXT and N050.TXT)"
            )
        m_dn, m_n0 = maps.at(phi, lam)
        dn = dn if math.isfinite(dn) else m_dn
        nz = nz if math.isfinite(nz) else m_n0
    dct = 0.0 if zone[0] == 1 else 500.0
    dcr = 0.0 if zone[-1] == 1 else 500.0
    records = []
    for k, ds in enumerate(s.datasets):
        ptx = _tx_power_kw(ds)
        rec: dict[str, Any] = {
            "file": s.name,
            "dataset": k,
            "Lb_db": None,
            "Ep_dbuv_m": None,
            "Ptx_kw": _finite_or_none(ptx),
            "f_ghz": ds.frequency_mhz / 1000.0,
            "p_pct": ds.time_pct,
            "pL_pct": location_pct,
            "sigmaL_db": location_sigma_db,
            "htg_m": ds.h_tx_m,
            "hrg_m": ds.h_rx_m,
            "pol": _finite_or_none(ds.polarization),
            "DN": dn,
            "N0": nz,
            "dct_km": dct,
            "dcr_km": dcr,
            "R2_m": float(r[1]) if r.shape[0] > 2 else None,
            "Rn_1_m": float(r[-2]) if r.shape[0] > 2 else None,
        }
        try:
            if ds.polarization not in (1.0, 2.0):
                raise InputError(
                    f"polarization = {ds.polarization}: must be 1 (horizontal) or 2 (vertical)"
                )
            res = p1812.basic_transmission_loss(
                d, s.height_m, frequency_mhz=ds.frequency_mhz, time_pct=ds.time_pct,
                h_tx_m=ds.h_tx_m, h_rx_m=ds.h_rx_m, path_center_lat_deg=phi,
                clutter_height_m=r, zone=zone, polarization=int(ds.polarization) - 1,
                delta_n=dn, n0=nz, dct_km=dct, dcr_km=dcr, location_pct=location_pct,
                location_sigma_db=location_sigma_db,
            )  # fmt: skip
        except YaluError as exc:
            rec["error"] = str(exc)
            records.append(rec)
            continue
        for key, _label, _eq, field in LOG_KEYS:
            rec[key] = float(getattr(res, field))
        rec["transhorizon"] = res.transhorizon
        ep = res.field_strength_1kw_dbuv_m
        rec["Ep_dbuv_m"] = ep + 10.0 * math.log10(ptx) if math.isfinite(ptx) else None
        records.append(rec)
    return records


@click.group(name="p1812")
def p1812() -> None:
    """ITU-R P.1812-8 point-to-area prediction (30 MHz - 6 GHz)."""


@p1812.command(name="run")
@click.argument(
    "files", nargs=-1, required=True, metavar="FILE...",
    type=click.Path(dir_okay=False, path_type=Path),
)  # fmt: skip
@click.option(
    "-o", "--output", "output_path", required=True, metavar="OUT.jsonl",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Output JSONL: one line per (file, dataset).",
)  # fmt: skip
@click.option("--overwrite", is_flag=True, help="Replace OUT.jsonl if it exists.")
@click.option(
    "--clutter", type=click.Choice(["cover-height", "coverage-code"]), default="cover-height",
    show_default=True,
    help="Representative clutter heights R from the ground cover height column or the "
    "coverage codes (10/10/10/15/20 m for codes 1-5).",
)  # fmt: skip
@click.option("--delta-n", type=float, default=None, help="dN [N-units/km] for every file.")
@click.option("--n0", type=float, default=None, help="N0 [N-units] for every file.")
@click.option(
    "--maps", "maps_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Directory with the ITU-R maps DN50.TXT and N050.TXT, used where a file gives none.",
)  # fmt: skip
@click.option("--location-pct", type=float, default=50.0, show_default=True,
              help="Percentage of locations pL [%], 1-99.")  # fmt: skip
@click.option("--location-sigma-db", type=float, default=0.0, show_default=True,
              help="Location variability sigma_L [dB], >= 0.")  # fmt: skip
def run(
    files: tuple[Path, ...], output_path: Path, overwrite: bool, clutter: str,
    delta_n: float | None, n0: float | None, maps_dir: Path | None, location_pct: float,
    location_sigma_db: float,
) -> None:  # fmt: skip
    """Compute P.1812-8 for every dataset of every FILE (SG3 databank CSV) into OUT.jsonl."""
    from yalu.errors import check_range
    from yalu.propagation.p1812 import RefractivityMaps

    check_range("--location-pct", location_pct, 1.0, 99.0)
    check_range("--location-sigma-db", location_sigma_db, 0.0, None)
    if delta_n is not None:
        check_range("--delta-n", delta_n, 0.0, 157.0, lo_inclusive=False, hi_inclusive=False)
    if n0 is not None:
        check_range("--n0", n0, 150.0, 500.0)
    for f in files:
        if not f.is_file():
            raise InputError(f"input {f} does not exist or is not a file")
        if f.resolve() == output_path.resolve():
            raise InputError(f"output {output_path} is also an input")
    check_writable(output_path, overwrite)
    maps = RefractivityMaps.from_directory(maps_dir) if maps_dir is not None else None
    n_rec = n_err = 0
    with atomic_output(output_path, overwrite=overwrite) as tmp:
        with tmp.open("w", encoding="utf-8") as out:
            with click.progressbar(files, label="P.1812", file=sys.stderr) as bar:
                for f in bar:
                    for rec in compute_file(
                        f, clutter=clutter, delta_n=delta_n, n0=n0, maps=maps,
                        location_pct=location_pct, location_sigma_db=location_sigma_db,
                    ):  # fmt: skip
                        n_rec += 1
                        n_err += "error" in rec
                        out.write(json.dumps(rec, allow_nan=False) + "\n")
        # read back: every line is a JSON object
        with tmp.open(encoding="utf-8") as check:
            n_back = sum(1 for line in check if isinstance(json.loads(line), dict))
        if n_back != n_rec:
            raise InputError(f"output check failed: wrote {n_rec} records, read {n_back}")
    click.echo(
        f"{len(files)} files, {n_rec} datasets, {n_rec - n_err} computed, {n_err} refused "
        f"-> {output_path}",
        err=True,
    )
