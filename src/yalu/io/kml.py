"""Google Earth output: ``map.kmz`` (OGC KML 2.2, OGC 07-147r2, zipped with its images).

The archive holds ``doc.kml`` (the first entry, as KMZ readers expect) and ``files/``:

- per variant, a folder with one ``GroundOverlay`` per layer (a PNG in a ``LatLonBox`` of the
  raster's pixel edges; KML ground overlays are in plain latitude/longitude, the rasters' own
  grid) and one ``ScreenOverlay`` legend per layer, shown and hidden with it; only the primary
  variant's service level is visible at first, and each variant's layers form a radio folder
  (one at a time);
- ``Placemark`` points for sites, jammers, settlements and restricted zones, each with a
  balloon (``description``) of its attributes and, for settlements, the service level, best
  server and margins of every variant;
- the border and the analysis area as ``LineString`` placemarks.

Icons are drawn here (no remote icon URL: the file works offline).
"""

from __future__ import annotations

import html
import io
import math
import os
import zipfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np

from yalu.io._threads import encoder_threads
from yalu.io.atomic import atomic_output
from yalu.io.layerstyle import LayerStyle, category_rgba, present_categories, rgba_image
from yalu.io.mapdata import Layer, MapData, PointFeature

__all__ = ["KML_NS", "MAX_OVERLAY_PX", "kml_document", "legend_png", "write_kmz"]

KML_NS = "http://www.opengis.net/kml/2.2"
#: Longest side of a ground overlay [px]; longer rasters are subsampled.
MAX_OVERLAY_PX = 4096


def _png(rgba: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    # zlib level 6: ~4x faster than optimize=True for ~1.4x the bytes (border-wide maps hold
    # dozens of overlays)
    Image.fromarray(np.ascontiguousarray(rgba), "RGBA").save(buf, "PNG", compress_level=6)
    return buf.getvalue()


def _icon(kind: str) -> bytes:
    from PIL import Image, ImageDraw

    im = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    if kind == "site":
        d.polygon([(16, 2), (30, 28), (2, 28)], fill=(227, 26, 28, 255), outline=(0, 0, 0, 255))
    elif kind == "jammer":
        d.line([(4, 4), (28, 28)], fill=(0, 0, 0, 255), width=9)
        d.line([(28, 4), (4, 28)], fill=(0, 0, 0, 255), width=9)
        d.line([(5, 5), (27, 27)], fill=(255, 127, 0, 255), width=5)
        d.line([(27, 5), (5, 27)], fill=(255, 127, 0, 255), width=5)
    elif kind == "zone":
        d.ellipse([3, 3, 29, 29], outline=(0, 160, 0, 255), width=4)
    else:
        d.ellipse([10, 10, 22, 22], fill=(20, 20, 20, 255), outline=(255, 255, 255, 255), width=2)
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def legend_png(layer: Layer, value_range: tuple[float, float] | None = None) -> bytes:
    """A legend image: category swatches, or a colour bar with the thresholds marked."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    st: LayerStyle = layer.style
    title = st.title + (f" [{st.units}]" if st.units else "")
    if st.kind == "continuous":
        import textwrap

        from matplotlib import colormaps
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize

        lo, hi = value_range or st.value_range(layer.values)
        text = textwrap.wrap("thresholds (lines): " + "; ".join(
            f"{v:g} {lab}" for v, lab in st.thresholds), 70) if st.thresholds else []  # fmt: skip
        h_in = 0.95 + 0.12 * len(text)
        fig = Figure(figsize=(4.2, h_in), dpi=100)
        ax = fig.add_axes((0.05, 1 - 0.55 / h_in, 0.9, 0.18 / h_in))
        fig.colorbar(ScalarMappable(Normalize(lo, hi), colormaps[st.cmap]), cax=ax,
                     orientation="horizontal")  # fmt: skip
        ax.set_title(title, fontsize=8)
        ax.tick_params(labelsize=7)
        for v, _lab in st.thresholds:
            if lo <= v <= hi:
                ax.axvline(v, color="k", lw=1)
        if text:
            fig.text(0.05, 1 - 0.78 / h_in, "\n".join(text), fontsize=6, va="top")
    else:
        cats = category_rgba(st, layer.labels)
        present = present_categories(layer.values)
        items = [(k, c, lab) for k, (c, lab) in cats.items() if c[3] > 0 and k in present]
        more = len(items) - 20
        items = items[:20]
        fig = Figure(figsize=(3.2, 0.45 + 0.2 * (len(items) + (more > 0))), dpi=100)
        handles = [Patch(facecolor=(c[0] / 255, c[1] / 255, c[2] / 255), edgecolor="#777",
                         label=lab)
                   for _k, c, lab in items]  # fmt: skip
        if more > 0:
            handles.append(Patch(facecolor="none", edgecolor="none",
                                 label=f"+{more} more (colours repeat every 20)"))  # fmt: skip
        fig.legend(handles=handles, loc="upper left", fontsize=7, title=title, title_fontsize=8,
                   frameon=False)  # fmt: skip
    fig.patch.set_facecolor("white")
    fig.patch.set_alpha(0.85)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def _balloon(p: PointFeature, variants: list[str]) -> str:
    e = html.escape
    rows = [f"<tr><th align='left'>{e(str(k))}</th><td>{e(_fmt(v))}</td></tr>"
            for k, v in p.props.items() if v is not None and v != ""]  # fmt: skip
    out = f"<b>{e(p.name)}</b> ({e(p.kind)})<table>{''.join(rows)}</table>"
    if p.per_variant:
        keys = list(dict.fromkeys(k for v in variants for k in (p.per_variant.get(v) or {})))
        head = "".join(f"<th>{e(k)}</th>" for k in keys)
        body = "".join(
            f"<tr><th align='left'>{e(v)}</th>"
            + "".join(f"<td>{e(_fmt((p.per_variant.get(v) or {}).get(k)))}</td>" for k in keys)
            + "</tr>"
            for v in variants
        )
        out += f"<table border='1' cellspacing='0'><tr><th>variant</th>{head}</tr>{body}</table>"
    return out


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.1f}" if math.isfinite(v) else "–"
    if isinstance(v, list):
        return "; ".join(map(str, v))
    return str(v)


def _coords(a: np.ndarray) -> str:
    return " ".join(f"{float(x):.6f},{float(y):.6f},0" for x, y in np.asarray(a)[:, :2])


def _overlays(md: MapData, images: dict[str, bytes], out: list[str],
              legends: dict[tuple[Any, ...], str], stride: int, pool: ThreadPoolExecutor,
              inflight: list[tuple[str, Future[bytes]]], ahead: int) -> None:  # fmt: skip
    """The layers' folders of ``doc.kml`` (into ``out``); their overlays' PNGs are submitted
    to ``pool`` (``inflight``, at most ``ahead`` waiting), the legends drawn here (matplotlib
    stays in one thread)."""
    w, s, e_, n = md.bounds
    x = escape
    for v in md.variants + [""]:
        layers = [ly for ly in md.layers if ly.variant == v]
        if not layers:
            continue
        out.append(f"<Folder><name>{x(v or 'all variants')}</name>"
                   f"<visibility>{int(v in (md.primary, ''))}</visibility>"
                   "<styleUrl>#radio</styleUrl>")  # fmt: skip
        for ly in layers:
            vis = int(v == md.primary and ly.key == "service_level")
            tag = f"{v or 'all'}_{ly.key}".replace("/", "_")
            # as it is (on disk on fine grids): the colour range reads it by bands of rows and
            # the overlay only the rows it shows, never the whole layer
            vals = ly.values if hasattr(ly.values, "rows") else np.asarray(ly.values)
            vr = ly.style.value_range(vals) if ly.style.kind == "continuous" else None
            shown = np.asarray(vals[::stride, ::stride])
            del vals
            img = rgba_image(ly.style, shown, ly.labels, vr)
            inflight.append((f"files/{tag}.png", pool.submit(_png, img)))
            del img
            while len(inflight) > ahead:
                name, fut = inflight.pop(0)
                images[name] = fut.result()
            # one image per distinct legend: variants of one technology mix share theirs
            if ly.style.kind == "continuous":
                lkey: tuple[Any, ...] = (ly.style, vr)
            else:
                lkey = (
                    ly.style,
                    tuple(ly.labels or ()),
                    tuple(np.unique(shown).tolist()),
                )
            if lkey not in legends:
                legends[lkey] = f"files/legend_{tag}.png"
                images[legends[lkey]] = legend_png(ly, vr)
            legend = legends[lkey]
            out.append(
                f"<Folder><name>{x(ly.style.title)}</name><visibility>{vis}</visibility>"
                f"<description>{x(ly.style.note)}</description>"
                f"<GroundOverlay><name>{x(ly.style.title)}</name><visibility>{vis}</visibility>"
                f"<color>c0ffffff</color><Icon><href>files/{tag}.png</href></Icon>"
                f"<LatLonBox><north>{n:.8f}</north><south>{s:.8f}</south><east>{e_:.8f}</east>"
                f"<west>{w:.8f}</west></LatLonBox></GroundOverlay>"
                f"<ScreenOverlay><name>legend</name><visibility>{vis}</visibility>"
                f"<Icon><href>{legend}</href></Icon>"
                '<overlayXY x="0" y="1" xunits="fraction" yunits="fraction"/>'
                '<screenXY x="0.01" y="0.97" xunits="fraction" yunits="fraction"/>'
                '<size x="0" y="0" xunits="pixels" yunits="pixels"/></ScreenOverlay></Folder>'
            )
        out.append("</Folder>")


def kml_document(md: MapData, images: dict[str, bytes]) -> str:
    """``doc.kml`` for ``md``; fills ``images`` (archive path -> PNG bytes)."""
    w, s, e_, n = md.bounds
    nr, nc = md.shape
    stride = max(1, math.ceil(max(nr, nc) / MAX_OVERLAY_PX))
    x = escape
    out = ['<?xml version="1.0" encoding="UTF-8"?>', f'<kml xmlns="{KML_NS}">', "<Document>",
           f"<name>{x(md.title)}</name>", "<open>1</open>"]  # fmt: skip
    if md.note:
        out.append(f"<description>{x(md.note)}</description>")
    for kind, scale in (("site", 1.0), ("jammer", 0.9), ("settlement", 0.5), ("zone", 0.8)):
        images[f"files/icon_{kind}.png"] = _icon(kind)
        out.append(f'<Style id="{kind}"><IconStyle><scale>{scale}</scale><Icon>'
                   f"<href>files/icon_{kind}.png</href></Icon></IconStyle>"
                   f"<LabelStyle><scale>{0.7 if kind == 'settlement' else 0.9}</scale></LabelStyle>"
                   "</Style>")  # fmt: skip
    out.append('<Style id="radio"><ListStyle><listItemType>radioFolder</listItemType></ListStyle>'
               "</Style>")  # fmt: skip
    out.append('<Style id="border"><LineStyle><color>ff222222</color><width>2</width></LineStyle>'
               "</Style>")  # fmt: skip
    out.append('<Style id="area"><LineStyle><color>ff555555</color><width>1</width></LineStyle>'
               "</Style>")  # fmt: skip
    legends: dict[tuple[Any, ...], str] = {}
    # overlays are PNG-encoded in threads while the next ones are coloured; a few in flight
    threads = encoder_threads()
    pool = ThreadPoolExecutor(threads)
    inflight: list[tuple[str, Future[bytes]]] = []
    try:
        _overlays(md, images, out, legends, stride, pool, inflight, 2 * threads)
        for name, fut in inflight:
            images[name] = fut.result()
    finally:
        pool.shutdown(cancel_futures=True)
    for kind, title in (("site", "Sites"), ("jammer", "Jammers"), ("settlement", "Settlements"),
                        ("zone", "Restricted zones")):  # fmt: skip
        pts = [p for p in md.points if p.kind == kind]
        if not pts:
            continue
        out.append(f"<Folder><name>{title}</name>")
        for p in pts:
            out.append(
                f"<Placemark><name>{x(p.name)}</name>"
                f"<description><![CDATA[{_balloon(p, md.variants).replace(']]>', ']] >')}]]>"
                f"</description><styleUrl>#{kind}</styleUrl><Point><coordinates>"
                f"{p.lon_deg:.6f},{p.lat_deg:.6f},0</coordinates></Point></Placemark>"
            )
        out.append("</Folder>")
    for ln in md.lines:
        if not ln.coords:
            continue
        geoms = "".join(f"<LineString><tessellate>1</tessellate><coordinates>{_coords(c)}"
                        "</coordinates></LineString>" for c in ln.coords)  # fmt: skip
        out.append(f"<Placemark><name>{x(ln.name)}</name><styleUrl>#{ln.kind}</styleUrl>"
                   f"<MultiGeometry>{geoms}</MultiGeometry></Placemark>")  # fmt: skip
    out += ["</Document>", "</kml>", ""]
    return "\n".join(out)


def write_kmz(path: str | os.PathLike[str], md: MapData, overwrite: bool = False) -> Path:
    """Write ``md`` as a KMZ (``doc.kml`` first, then ``files/``), atomically."""
    images: dict[str, bytes] = {}
    doc = kml_document(md, images)
    p = Path(path)
    with atomic_output(p, overwrite=overwrite) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
            info = zipfile.ZipInfo("doc.kml", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, doc.encode("utf-8"))
            for name in sorted(images):
                zi = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                zi.compress_type = zipfile.ZIP_STORED  # PNGs are compressed already
                z.writestr(zi, images[name])
        with zipfile.ZipFile(tmp) as z:  # read back before the rename
            if z.testzip() is not None or z.namelist()[0] != "doc.kml":
                raise OSError(f"{p}: the KMZ did not read back")
    return p
