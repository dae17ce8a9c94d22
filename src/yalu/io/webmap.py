"""The interactive map of ``report.html``: one self-contained HTML fragment, offline.

The viewer is yalu's own small script (``webmap.js``, inlined): a canvas in an equirectangular
view (x shrunk by the cosine of the centre latitude), pan by dragging, zoom by wheel, buttons
or double click. Every layer of every variant can be chosen; province outlines and names, the
border, the analysis area, settlements (with names), sites, jammers and restricted zones can be
toggled. Hovering shows the values of every layer of the variant at the pointer, or the
attributes of the nearest settlement, site or jammer; a click pins them in the info panel.

Layers are stored as zlib-compressed uint16 codes (``value = offset + (code - 1) * quantum``,
0 = no data; each row differenced before compression), decoded in the browser by the standard
``DecompressionStream``: the page queries exact values (to half a quantum, 0.05 dB for dB
layers) instead of reading colours back. Grids longer than ``max_nodes`` on a side are
subsampled (every k-th node) and the page says so.

For tests and scripts the page exposes ``window.yaluQuery(lat, lon[, variant])`` (a Promise of
the values and the nearest feature) and reads ``#query=lat,lon``, ``#click=lat,lon``,
``#variant=...`` and ``#layer=...`` from its URL: the answer goes into
``<pre id="yalu-query-result">``, the click into the info panel, and ``data-yalu-ready="1"``
is set on ``<html>`` when done (``data-yalu-errors`` holds any script error).
"""

from __future__ import annotations

import base64
import html
import json
import math
import zlib
from importlib import resources
from typing import Any

import numpy as np

from yalu.io._threads import encoder_threads
from yalu.io.layerstyle import TAB20, lut_hex
from yalu.io.mapdata import Layer, MapData

__all__ = ["MAX_NODES", "encode_layer", "webmap_html"]

#: Longest side of a layer on the page [nodes]; longer grids are subsampled.
MAX_NODES = 1200

_CSS = """
#yalu-map{display:flex;gap:10px;align-items:stretch;margin:1em 0;height:78vh;min-height:480px}
#yalu-map .stage{position:relative;flex:1 1 auto;border:1px solid #aaa;min-width:300px}
#yalu-canvas{width:100%;height:100%;display:block;cursor:crosshair;touch-action:none}
#yalu-map .side{flex:0 0 270px;overflow:auto;font-size:.85em}
#yalu-map .side h4{margin:.6em 0 .2em}
#yalu-map label{display:block;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
#yalu-tip{position:absolute;display:none;background:#fff;border:1px solid #888;padding:4px 6px;
font-size:12px;max-width:250px;pointer-events:none;box-shadow:1px 1px 4px #0003;z-index:5}
#yalu-tip table,#yalu-info table{margin:.2em 0;font-size:11px}
#yalu-tip th,#yalu-tip td,#yalu-info th,#yalu-info td{border:none;padding:0 .4em 0 0;\
background:none}
#yalu-map .zoom{position:absolute;top:8px;left:8px;z-index:4}
#yalu-map .zoom button{display:block;width:28px;height:28px;margin-bottom:3px;font-size:16px}
#yalu-legend .sw{display:inline-block;width:14px;height:12px;border:1px solid #999;margin-right:5px;
vertical-align:middle}
#yalu-legend .note,#yalu-legend .thr{font-size:.9em;color:#444;margin-top:.3em}
#yalu-query-result{display:none}
"""


def _b64_codes(codes: np.ndarray) -> str:
    d = codes.astype(np.uint16)
    diff = d.copy()
    diff[:, 1:] = d[:, 1:] - d[:, :-1]  # uint16 wraps; the page adds back modulo 2^16
    # level 6: on the 60 layers of a 30" border run 0.49 s instead of level 9's 1.63 s, for
    # 0.5 % more bytes
    return base64.b64encode(zlib.compress(diff.astype("<u2").tobytes(), 6)).decode("ascii")


def encode_layer(layer: Layer, stride: int = 1) -> dict[str, Any]:
    """A layer as the page stores it: codes, ``offset``, ``quantum``, colour range."""
    st = layer.style
    # the shown nodes only (a layer waiting on disk reads its shown rows, not the whole map)
    v = np.asarray(layer.values[::stride, ::stride])
    if st.kind in ("categorical", "indexed"):
        f = v.astype(float)
        ok = np.isfinite(f) & (f >= 0) & (f < 65000)
        offset, quantum = 0.0, 1.0
        codes = np.where(ok, np.rint(np.nan_to_num(f, nan=0.0)) + 1, 0)
        vmin, vmax = 0.0, 1.0
    else:
        f = v.astype(float)
        ok = np.isfinite(f)
        lo = float(f[ok].min()) if ok.any() else 0.0
        hi = float(f[ok].max()) if ok.any() else 1.0
        quantum = float(st.quantum or max((hi - lo) / 60000.0, 1e-9))
        while (hi - lo) / quantum > 65000:
            quantum *= 2.0
        offset = math.floor(lo / quantum) * quantum
        codes = np.where(ok, np.rint((np.nan_to_num(f, nan=offset) - offset) / quantum) + 1, 0)
        vmin, vmax = st.value_range(f)
    return {
        "id": f"{layer.variant}/{layer.key}", "variant": layer.variant, "key": layer.key,
        "style": st.to_json(), "offset": offset, "quantum": quantum,
        "vmin": round(vmin, 6), "vmax": round(vmax, 6), "labels": layer.labels,
        "data": _b64_codes(codes.astype(np.int64)),
    }  # fmt: skip


def _round_coords(a: np.ndarray) -> list[list[float]]:
    return [[round(float(x), 5), round(float(y), 5)] for x, y in np.asarray(a)[:, :2]]


def _jsonable(v: Any) -> Any:
    if isinstance(v, float | np.floating):
        f = float(v)
        return round(f, 2) if math.isfinite(f) else None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    return v


def _encode_layers(layers: list[Layer], stride: int) -> list[dict[str, Any]]:
    """:func:`encode_layer` of each layer, in order, on the encoder threads (zlib releases
    the GIL; each thread reads its own layer, so a few layers are in memory at once)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(encoder_threads()) as pool:
        return list(pool.map(lambda ly: encode_layer(ly, stride), layers))


def map_json(md: MapData, max_nodes: int = MAX_NODES) -> dict[str, Any]:
    """The page's data: grid, layers, points, lines, provinces, colour tables."""
    nr, nc = md.shape
    stride = max(1, math.ceil(max(nr, nc) / max_nodes))
    rows, cols = len(range(0, nr, stride)), len(range(0, nc, stride))
    luts = {ly.style.cmap: lut_hex(ly.style.cmap) for ly in md.layers
            if ly.style.kind == "continuous"}  # fmt: skip
    return {
        "title": md.title, "note": md.note, "variants": md.variants, "primary": md.primary,
        "grid": {"north": md.north_deg, "west": md.west_deg, "dlat": md.dlat_deg * stride,
                 "dlon": md.dlon_deg * stride, "rows": rows, "cols": cols, "stride": stride},
        "luts": luts, "tab20": list(TAB20),
        "layers": _encode_layers(md.layers, stride),
        "points": [{"kind": p.kind, "id": p.id, "name": p.name, "lat": round(p.lat_deg, 5),
                    "lon": round(p.lon_deg, 5), "props": _jsonable(p.props),
                    "pv": _jsonable(p.per_variant)} for p in md.points],
        "lines": [{"kind": ln.kind, "name": ln.name,
                   "coords": [_round_coords(c) for c in ln.coords]}
                  for ln in md.lines],
        "provinces": [{"name": p.name, "country": p.country, "code": p.code,
                       "rings": [_round_coords(r) for r in p.rings],
                       "label": [round(p.label_lon_deg, 4), round(p.label_lat_deg, 4)]}
                      for p in md.provinces],
    }  # fmt: skip


def _script_json(obj: Any) -> str:
    """JSON safe inside <script>: no "</" sequence can close the element."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).replace("</", "<\\/")


_TOGGLES = (
    ("provinces", "provinces"), ("provnames", "province names"), ("border", "border"),
    ("area", "analysis area"), ("settlements", "settlements"), ("setnames", "settlement names"),
    ("sites", "sites"), ("jammers", "jammers"), ("zones", "restricted zones"),
)  # fmt: skip


def webmap_html(md: MapData, max_nodes: int = MAX_NODES) -> tuple[str, str]:
    """The map as ``(css, html)``: the HTML holds the data, the markup and the script."""
    e = html.escape
    data = map_json(md, max_nodes)
    js = resources.files("yalu.io").joinpath("webmap.js").read_text(encoding="utf-8")
    stride = data["grid"]["stride"]
    sub = (f" Shown at every {stride}th node of the grid (the GeoTIFFs hold every node)."
           if stride > 1 else "")  # fmt: skip
    toggles = "".join(f'<label><input type="checkbox" id="yalu-show-{k}"> {e(t)}</label>'
                      for k, t in _TOGGLES)  # fmt: skip
    body = f"""<div id="yalu-map">
<div class="stage"><canvas id="yalu-canvas" aria-label="interactive map"></canvas>
<div class="zoom"><button id="yalu-zoom-in" title="zoom in">+</button>
<button id="yalu-zoom-out" title="zoom out">&minus;</button>
<button id="yalu-zoom-fit" title="whole map">&#8962;</button></div>
<div id="yalu-tip"></div></div>
<div class="side">
<h4>Variant</h4><div id="yalu-variants"></div>
<h4>Layer</h4><div id="yalu-layers"></div>
<label>opacity <input type="range" id="yalu-opacity" min="0" max="100" value="75"></label>
<h4>Legend</h4><div id="yalu-legend"></div>
<h4>Overlays</h4>{toggles}
<h4>Selected (click the map)</h4><div id="yalu-info"></div>
</div></div>
<p class="mapnote">Drag to pan, wheel or double click to zoom; hover for values, click to
pin. Country fills and outlines are the province polygons (Natural Earth admin-1 for the
flagship); there is no background imagery (the page works offline).{e(sub)}</p>
<pre id="yalu-query-result"></pre>
<script type="application/json" id="yalu-map-data">{_script_json(data)}</script>
<script>{js}</script>"""
    return _CSS, body
