"""P.1812 in scenarios, with clutter heights from land cover along every profile."""

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from yalu.scenario import parse_scenario
from yalu.scenario.runner import run_scenario

BASE = """\
name: p1812
terrain: {source: embedded}
analysis_area:
  bbox: {south_deg: 40.7, west_deg: 124.7, north_deg: 41.1, east_deg: 125.2}
grid: {resolution_arcsec: 120}
propagation:
  model: p1812
  max_distance_km: 25
  p1812: {clutter_height_m: CLUTTER}
  LANDCOVER
population: {census: null}
output: {png: false, report_html: false, report_md: false}
sites:
  - {id: a, lat_deg: 40.9, lon_deg: 124.95, height_m: 30, carriers: [{technology: lte, band: B3}]}
variants: [{name: v, jammers: false}]
"""


def _scenario(clutter_m: float, landcover: str | None = None):
    text = BASE.replace("CLUTTER", str(clutter_m))
    text = text.replace("LANDCOVER", f"landcover: {landcover}" if landcover else "")
    return parse_scenario(text)


def _worldcover(path, codes):
    """A WorldCover-coded GeoTIFF over the scenario (0.01 deg pixels)."""
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=codes.shape[1],
        height=codes.shape[0],
        count=1,
        dtype="uint8",
        crs="EPSG:4326",
        transform=from_origin(124.5, 41.3, 0.01, 0.01),
    ) as dst:
        dst.write(codes.astype(np.uint8), 1)
    return str(path)


def _rsrp(sc, out):
    return run_scenario(sc, out).variants[0].layers["rsrp_dbm"]


@pytest.fixture(scope="module")
def open_ground(tmp_path_factory):
    return _rsrp(_scenario(0.0), tmp_path_factory.mktemp("open") / "out")


def test_p1812_scenario_runs(open_ground):
    ok = np.isfinite(open_ground)
    assert ok.sum() > 50
    assert -140 < np.nanmedian(open_ground) < -40


def test_uniform_land_cover_equals_the_same_uniform_clutter_height(tmp_path):
    # built-up everywhere: R = 15 m at every profile point (the class table's P.1812 height)
    lc = _worldcover(tmp_path / "lc.tif", np.full((80, 100), 50))
    with_lc = _rsrp(_scenario(0.0, lc), tmp_path / "a")
    uniform = _rsrp(_scenario(15.0), tmp_path / "b")
    np.testing.assert_array_equal(with_lc, uniform)


def test_built_up_half_adds_loss_only_where_paths_cross_it(tmp_path, open_ground):
    codes = np.full((80, 100), 30)  # grassland, R = 0
    codes[:, 50:] = 50  # built-up east of 125.0 E
    lc = _worldcover(tmp_path / "lc.tif", codes)
    mixed = _rsrp(_scenario(0.0, lc), tmp_path / "out")
    ok = np.isfinite(mixed) & np.isfinite(open_ground)
    diff = open_ground[ok] - mixed[ok]  # extra loss from clutter, >= 0
    assert diff.min() >= -1e-3
    lons = np.broadcast_to(np.arange(mixed.shape[1]) * (120 / 3600) + 124.7, mixed.shape)[ok]
    # paths from the site (124.95 E) to nodes well west of the built-up half cross no clutter
    assert np.abs(diff[lons < 124.9]).max() < 1e-3
    # and some paths into it are obstructed by it (clutter only counts where it diffracts)
    east = diff[lons > 125.05]
    assert east.max() > 3.0 and np.mean(east > 0.1) > 0.1


def test_p1812_refuses_p2108_clutter_on_top():
    with pytest.raises(Exception, match="own clutter"):
        parse_scenario(
            BASE.replace("CLUTTER", "0").replace("LANDCOVER", "clutter: p2108-statistical")
        )
