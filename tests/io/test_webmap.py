"""The interactive map of report.html: value codes, and the page in headless Chromium."""

import base64
import json
import re
import zlib

import numpy as np
import pytest
from browser import load
from mapsynth import HYESAN, NORTH, STEP, WEST, level, mapdata, rsrp

from yalu.io.mapdata import Layer
from yalu.io.report import write_report_html
from yalu.io.summary import make_summary
from yalu.io.webmap import encode_layer, map_json


def _decode(enc, shape):
    """Independent decoder: base64, zlib, cumulative sum modulo 2^16 along rows, codes."""
    d = np.frombuffer(zlib.decompress(base64.b64decode(enc["data"])), dtype="<u2").reshape(shape)
    codes = np.cumsum(d.astype(np.int64), axis=1) % 65536
    return np.where(codes == 0, np.nan, enc["offset"] + (codes - 1) * enc["quantum"])


def test_layer_codes_round_trip():
    rng = np.random.default_rng(1)
    v = rng.normal(-95, 20, (30, 50)).astype(np.float32)
    v[3, 4] = np.nan
    v[7, :] = np.nan
    enc = encode_layer(Layer.make("a", "rsrp_dbm", v))
    got = _decode(enc, v.shape)
    assert enc["quantum"] == pytest.approx(0.1)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(v))
    ok = np.isfinite(v)
    assert np.max(np.abs(got[ok] - v[ok])) <= 0.05 + 1e-4
    # an unknown layer gets its own quantum, fine enough for its range
    p = rng.uniform(0, 1, (10, 10))
    enc = encode_layer(Layer.make("a", "p_service", p))
    assert np.max(np.abs(_decode(enc, p.shape) - p)) <= 0.0005 + 1e-9
    # categories exactly; best server -1 is no data
    bs = rng.integers(-1, 300, (20, 20)).astype(np.int32)
    got = _decode(
        encode_layer(Layer.make("a", "best_server", bs, labels=[str(k) for k in range(300)])),
        bs.shape,
    )
    np.testing.assert_array_equal(np.where(bs < 0, np.nan, bs), got)
    # subsampled: every 2nd node
    got = _decode(encode_layer(Layer.make("a", "best_server", bs), stride=2), (10, 10))
    np.testing.assert_array_equal(np.where(bs < 0, np.nan, bs)[::2, ::2], got)


def test_big_grids_are_subsampled_for_the_page():
    md = mapdata()
    data = map_json(md, max_nodes=25)
    assert data["grid"]["stride"] == 3 and data["grid"]["cols"] == 20 and data["grid"]["rows"] == 14
    assert data["grid"]["dlat"] == pytest.approx(3 * STEP)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    d = tmp_path_factory.mktemp("page")
    summary = make_summary(
        scenario={"name": "synthetic <map>", "description": "x"},
        inputs={},
        primary="jam",
        variants={
            v: {
                "description": v,
                "settings": {},
                "sanity": {},
                "reach": {"population_within_reach": {}, "area_km2": {}, "settlements": []},
            }
            for v in ("jam", "free")
        },
        assumptions={},
        timings_s={},
        notes=["a note"],
    )
    return write_report_html(d / "report.html", summary, mapdata=mapdata())


def test_page_is_one_offline_file(page):
    text = page.read_text(encoding="utf-8")
    # no URL that a browser would fetch: no http(s), no src/href other than data:, no @import
    assert not re.search(r"(?i)\b(?:https?|ftp)://", text)
    assert not re.search(r"""(?i)(?:src|href)\s*=\s*["'](?!data:|#)""", text)
    assert "@import" not in text and "<link" not in text
    assert "synthetic &lt;map&gt;" in text and "a note" in text  # report content kept


def test_query_returns_the_layer_values(page):
    pts = [
        (41.55, 127.95),
        (41.3, 128.6),
        (41.85, 127.62),
        (HYESAN[0], HYESAN[1] + 0.2),
        (40.0, 120.0),
    ]
    frag = "query=" + ";".join(f"{a},{b}" for a, b in pts) + "&variant=free"
    r = load(page, frag)
    assert r.console == [] and r.requests == [], (r.console, r.requests)
    assert 'data-yalu-ready="1"' in r.root_tag and "data-yalu-errors" not in r.root_tag
    res = json.loads(r.element_text("yalu-query-result"))
    assert len(res) == len(pts)
    for (lat, lon), q in zip(pts, res, strict=True):
        assert q["variant"] == "free"
        i, j = round((NORTH - lat) / STEP), round((lon - WEST) / STEP)
        if not (0 <= i < 40 and 0 <= j < 60):
            assert all(v is None for v in q["values"].values())
            continue
        nlat, nlon = NORTH - i * STEP, WEST + j * STEP
        want = float(rsrp(nlat, nlon))
        if np.isnan(want):
            assert q["values"]["rsrp_dbm"] is None
        else:
            assert q["values"]["rsrp_dbm"] == pytest.approx(want, abs=0.05 + 1e-3)
            assert q["labels"]["rsrp_dbm"] == f"{round(q['values']['rsrp_dbm'], 1):.1f} dBm"
        lv = int(level(nlat, nlon))
        assert q["values"]["service_level"] == lv
        assert q["labels"]["service_level"] == ["no service", "SMS", "voice", "data"][lv]
        if lv > 0:
            assert q["labels"]["best_server"] == (
                "linjiang/gsm" if nlon > WEST + 0.6 else "changbai/lte-B3"
            )
    # the nearest feature within 5 km: Hyesan is 0.2 deg (17 km) from the 4th point
    assert res[3]["feature"] is None or res[3]["feature"]["name"] != "Hyesan"


def test_click_on_a_settlement_shows_its_attributes(page):
    r = load(page, f"click={HYESAN[0]},{HYESAN[1]}&variant=free")
    assert r.console == [] and r.requests == []
    info = r.element_text("yalu-info")
    assert "Hyesan" in info and "192,680" in info and "Ryanggang" in info
    assert "<td>sms</td>" in info and "changbai/lte-B3" in info and "-85.5 dBm" in info
    r = load(page, f"click={HYESAN[0]},{HYESAN[1]}&variant=jam")
    assert "<td>none</td>" in r.element_text("yalu-info")
    r = load(page, "click=41.41772,128.19624")  # the site
    info = r.element_text("yalu-info")
    assert "Changbai" in info and "LTE B3 46 dBm" in info and "40" in info


def test_page_renders(page):
    r = load(page, "focus&variant=free&layer=service_level", screenshot=True, size="1200,900")
    assert r.console == [] and r.requests == []
    from PIL import Image

    img = np.asarray(Image.open(r.screenshot).convert("RGB")).astype(int)
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 50
    # the "data" colour (#08519c) at 75 % over the province fill (#f4efe4) or the sea (#dfe8ef)
    for bg in ((0xF4, 0xEF, 0xE4), (0xDF, 0xE8, 0xEF)):
        want = np.round(0.75 * np.array([0x08, 0x51, 0x9C]) + 0.25 * np.array(bg))
        if (np.abs(img - want).max(axis=2) <= 3).sum() > 500:
            break
    else:
        raise AssertionError("no 'data' service colour on the screenshot")


def test_an_empty_page_makes_no_page_requests(tmp_path):
    """The harness's list of the browser's own service requests covers what this Chromium does
    by itself: an empty page shows none (when a new browser adds one, this test says so, rather
    than every map test blaming the page)."""
    p = tmp_path / "empty.html"
    p.write_text("<html><body><p id='x'>empty</p></body></html>")
    r = load(p, budget_ms=3000)
    assert r.requests == [] and r.console == [], (r.requests, r.console)
    assert r.element_text("x") == "empty"


def test_the_browser_check_sees_requests_and_errors(tmp_path):
    """The harness can fail: a page that fetches and throws is caught."""
    p = tmp_path / "bad.html"
    p.write_text(
        '<html><body><img src="http://example.com/x.png">'
        "<script>fetch('https://example.com/y'); undefinedFn();</script></body></html>"
    )
    r = load(p, budget_ms=3000)
    assert any("example.com" in q for q in r.requests), r.requests
    assert any("undefinedFn" in c for c in r.console)


PAN_ZOOM = """<script>
window.yaluReady.then(async () => {
  const c = document.getElementById("yalu-canvas"), r = c.getBoundingClientRect();
  const a0 = yaluScreen(41.5, 128.1), b0 = yaluScreen(41.3, 128.4);
  c.dispatchEvent(new WheelEvent("wheel", {deltaY: -100, clientX: r.left + a0[0],
    clientY: r.top + a0[1], bubbles: true, cancelable: true}));
  const a1 = yaluScreen(41.5, 128.1), b1 = yaluScreen(41.3, 128.4);
  c.dispatchEvent(new PointerEvent("pointerdown", \
{clientX: r.left + 100, clientY: r.top + 100, bubbles: true}));
  window.dispatchEvent(new PointerEvent("pointermove", \
{clientX: r.left + 150, clientY: r.top + 130, bubbles: true}));
  window.dispatchEvent(new PointerEvent("pointerup", {bubbles: true}));
  const b2 = yaluScreen(41.3, 128.4);
  document.getElementById("yalu-query-result").textContent = JSON.stringify({a0, b0, a1, b1, b2});
});
</script></body>"""


def test_wheel_zooms_about_the_pointer_and_drag_pans(page, tmp_path):
    """Real wheel and pointer events, injected into a copy of the page."""
    p = tmp_path / "driven.html"
    p.write_text(page.read_text(encoding="utf-8").replace("</body>", PAN_ZOOM), encoding="utf-8")
    r = load(p)
    assert r.console == [] and r.requests == [], r.console
    g = json.loads(r.element_text("yalu-query-result"))
    a0, b0, a1, b1, b2 = (np.array(g[k]) for k in ("a0", "b0", "a1", "b1", "b2"))
    # the point under the pointer stays (events carry whole pixels: 0.25 x rounding)
    assert np.allclose(a1, a0, atol=0.15)
    assert np.hypot(*(b1 - a1)) == pytest.approx(1.25 * np.hypot(*(b0 - a0)), rel=1e-9)
    assert np.allclose(b2 - b1, [50, 30], atol=1e-6)
    # equirectangular with x shrunk by cos(latitude) of the map centre: 0.3 deg of longitude
    # and 0.2 deg of latitude keep their ratio on screen
    lat_c = NORTH - (40 - 1) * STEP / 2
    ratio = (b0[0] - a0[0]) / (b0[1] - a0[1])
    assert ratio == pytest.approx(0.3 * np.cos(np.radians(lat_c)) / 0.2, rel=1e-6)


def test_layers_encoded_in_threads_keep_their_order(monkeypatch):
    import yalu.io.webmap as wm

    md = mapdata()
    monkeypatch.setattr(wm, "encoder_threads", lambda: 1)
    one = map_json(md)
    monkeypatch.setattr(wm, "encoder_threads", lambda: 3)
    three = map_json(md)
    assert one == three
    assert [ly["key"] for ly in three["layers"]] == [ly.key for ly in md.layers]
    assert [ly["data"] for ly in three["layers"]] == [encode_layer(ly, 1)["data"]
                                                       for ly in md.layers]  # fmt: skip
