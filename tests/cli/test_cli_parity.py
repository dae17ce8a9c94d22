"""SPLAT!-like command-line outputs: signal and field-strength maps, path reports, default
SDF extent, the embedded terrain everywhere, and errors that name the option typed."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner

from yalu.cli.main import cli, main
from yalu.propagation import itm
from yalu.terrain import default_terrain, open_terrain

# Dandong, on the embedded terrain (37-46 N, 120-134 E)
SITE = ["--site", "40.5,124.8", "--height-m", "30", "--frequency-mhz", "900", "--radius-km", "25",
        "--quiet"]  # fmt: skip


def _run(args: list[str]) -> tuple[int, str]:
    r = CliRunner().invoke(cli, args)
    return r.exit_code, r.output


def _read(p: Path) -> tuple[np.ndarray, dict[str, str], str]:
    with rasterio.open(p) as ds:
        return ds.read(1), ds.tags(), ds.descriptions[0]


def test_coverage_on_embedded_terrain_writes_signal_and_field_strength(tmp_path):
    loss_tif, dbm_tif, erp_tif, fs_tif = (tmp_path / f"{n}.tif" for n in ("l", "d", "e", "f"))
    code, out = _run(["coverage", "--terrain", "embedded", *SITE, "-o", str(loss_tif)])
    assert code == 0, out
    code, out = _run(["coverage", "--terrain", "embedded", *SITE, "--eirp-dbm", "60", "-o",
                      str(dbm_tif), "--png", str(tmp_path / "d.png")])  # fmt: skip
    assert code == 0, out
    code, out = _run(["coverage", "--terrain", "embedded", *SITE, "--erp-dbm", "57.85", "-o",
                      str(erp_tif)])  # fmt: skip
    assert code == 0, out
    code, out = _run(["coverage", "--terrain", "embedded", *SITE, "--eirp-dbm", "60",
                      "--field-strength", "--thresholds", "30,50,70", "-o", str(fs_tif),
                      "--png", str(tmp_path / "f.png")])  # fmt: skip
    assert code == 0, out
    loss, tags, desc = _read(loss_tif)
    dbm, dtags, ddesc = _read(dbm_tif)
    erp, _, _ = _read(erp_tif)
    fs, ftags, fdesc = _read(fs_tif)
    assert desc == "path_loss_db" and ddesc == "received_power_dbm"
    assert fdesc == "field_strength_dbuv_per_m" and ftags["units"] == "dBuV/m"
    assert dtags["units"] == "dBm" and float(dtags["eirp_dbm"]) == 60.0
    ok = np.isfinite(loss)
    assert ok.sum() > 20 and np.array_equal(ok, np.isfinite(dbm))
    # dBm = EIRP - loss; ERP 57.85 dBm is EIRP 60 dBm; E = P_r + 20 log f + 77.2 (P.525)
    np.testing.assert_allclose(dbm[ok], 60.0 - loss[ok], atol=1e-4)
    np.testing.assert_allclose(erp[ok], dbm[ok], atol=1e-4)
    np.testing.assert_allclose(fs[ok], dbm[ok] + 20 * math.log10(900.0) + 77.2, atol=0.05)
    assert (tmp_path / "d.png").stat().st_size > 5000 and (tmp_path / "f.png").stat().st_size > 5000


@pytest.mark.parametrize(("args", "needle"), [
    (["--height-m", "0.1"], "--height-m = 0.1"),
    (["--frequency-mhz", "5"], "--frequency-mhz = 5"),
    (["--time-pct", "100"], "--time-pct"),
    (["--thresholds", "-90,-100"], "--thresholds"),
    (["--thresholds", "a,b"], "--thresholds"),
    (["--field-strength"], "--field-strength"),
    (["--eirp-dbm", "40", "--erp-dbm", "40"], "--erp-dbm"),
    (["--site", "20.0,124.0"], "--site"),
])  # fmt: skip
def test_coverage_errors_name_the_option(tmp_path, capsys, args, needle):
    base = dict(zip(SITE[0:8:2], SITE[1:8:2], strict=True))
    for k, v in zip(args[0::2], args[1::2], strict=False):
        base[k] = v
    argv = ["coverage", "--terrain", "embedded", "-o", str(tmp_path / "x.tif")]
    argv += [x for kv in base.items() for x in kv]
    argv += [a for a in args if a.startswith("--") and a not in base and a == args[-1]]
    with pytest.raises(SystemExit) as ei:
        main(argv)
    err = capsys.readouterr().err
    assert ei.value.code == 2 and needle in err and "h_tx_m" not in err, err
    assert len(err.strip().splitlines()) == 1


def test_open_terrain_and_terrain_info_accept_embedded(capsys):
    t = open_terrain("embedded")
    assert t.is_demo and t.bounds == default_terrain().bounds
    main(["terrain", "info", "embedded", "--no-voids"])
    out = capsys.readouterr().out
    assert "bounds: 37 to 46 N, 120 to 134 E" in out and "demo terrain" in out


def test_profile_prints_a_path_report_and_plots_the_loss(tmp_path):
    a, b = "40.1,124.4", "40.6,125.0"
    png = tmp_path / "p.png"
    code, out = _run(["profile", a, b, "--terrain", "embedded", "--frequency-mhz", "900",
                      "--h-tx-m", "40", "--png", str(png)])  # fmt: skip
    assert code == 0, out
    comments = [ln[2:] for ln in out.splitlines() if ln.startswith("# ")]
    body = "\n".join(
        ln
        for ln in out.splitlines()
        if not ln.startswith("#") and not ln.startswith(("note:", "wrote"))
    )
    data = np.genfromtxt(io.StringIO(body), delimiter=",", names=True)
    # the report's ITM figures are those of ITM on the printed profile
    step = float(data["distance_m"][1] - data["distance_m"][0])
    ref = itm.p2p(data["elevation_m"], step, 40.0, 1.5, 900.0)
    text = "\n".join(comments)
    assert f"ITM basic transmission loss: {ref.loss_db:.1f} dB" in text
    assert f"ITM mode: {ref.mode.name}" in text and f"ITM warnings: {ref.warnings}" in text
    assert "ITM mode: 2" not in text and "line of sight:" in text and "obstacles" in text
    assert png.stat().st_size > 20_000
    code, out2 = _run(["profile", a, b, "--frequency-mhz", "900", "--no-csv"])
    assert code == 0 and "distance_m,lat_deg" not in out2 and "ITM mode:" in out2


def test_profile_png_height_axis_follows_the_terrain(tmp_path):
    from types import SimpleNamespace

    from matplotlib.figure import Figure

    import yalu.io.plots as plots
    from yalu.propagation.clearance import path_clearance

    d = np.linspace(0, 20_000, 201)
    z = 1500.0 + 100 * np.sin(d / 3000.0)  # a plateau 1.4-1.6 km high
    prof = SimpleNamespace(lat_deg=np.full(201, 41.0), lon_deg=np.linspace(124, 124.2, 201))
    c = path_clearance(d, z, 30.0, 10.0, 900.0)
    seen = {}
    orig = Figure.savefig

    def spy(self, *a, **k):  # noqa: ANN001, ANN002, ANN003
        seen["ylim"] = self.axes[0].get_ylim()
        return orig(self, *a, **k)

    Figure.savefig = spy  # type: ignore[method-assign]
    try:
        plots.write_profile_png(tmp_path / "p.png", prof, c)
    finally:
        Figure.savefig = orig  # type: ignore[method-assign]
    lo, hi = seen["ylim"]
    assert 1300 < lo < float(c.ground_m.min()) and hi < 1800  # not stretched down to sea level


def test_to_sdf_defaults_to_the_source_extent(tmp_path):
    src = tmp_path / "hgt"
    src.mkdir()
    i = np.arange(1201)
    for w in (124, 125):
        z = np.rint(100 + 50 * np.sin((w + i / 1200)[None, :]) + 0 * i[:, None]).astype(">i2")
        (src / f"N41E{w}.hgt").write_bytes(z.tobytes())
    out = tmp_path / "sdf"
    code, output = _run(["terrain", "to-sdf", str(src), "-o", str(out)])
    assert code == 0, output
    assert sorted(p.name for p in out.iterdir()) == ["41:42:234:235.sdf", "41:42:235:236.sdf"]
    assert "41,124,42,126" in output
