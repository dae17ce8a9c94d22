"""Styles beside the rasters: QGIS ``.qml`` files and GDAL ``.aux.xml`` category tables.

- ``<raster>.qml`` (QGIS 3 layer style, loaded automatically by QGIS when it sits beside the
  raster with the same stem): a paletted renderer with one labelled entry per category for
  categorical layers (service level, best server, restricted zones), a pseudocolour ramp for
  continuous layers with the service thresholds as labelled stops.
- ``<raster>.tif.aux.xml`` (GDAL PAM, read by GDAL and QGIS for any band type) for categorical
  layers: the category names (``CategoryNames``, one per value from 0), a raster attribute table
  (value, label, red, green, blue, alpha) and, for bands a GeoTIFF palette cannot hold (the
  int32 best server), the colour table.

Colours and labels come from :mod:`yalu.io.layerstyle`, as in every other output.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np

from yalu.io.atomic import atomic_output
from yalu.io.layerstyle import LayerStyle, category_rgba, lut_hex

__all__ = ["pam_xml", "qml_text", "write_raster_styles"]


def _hex(c: Sequence[int]) -> str:
    return "#" + "".join(f"{int(x):02x}" for x in c[:3])


def qml_text(style: LayerStyle, labels: Sequence[str] | None = None,
             value_range: tuple[float, float] | None = None) -> str:  # fmt: skip
    """A QGIS 3 raster layer style for a layer of ``style``."""
    if style.kind == "continuous":
        lo, hi = value_range or (style.vmin or 0.0, style.vmax or 1.0)
        lut = lut_hex(style.cmap)
        stops = {round(lo + (hi - lo) * k / 8, 6): "" for k in range(9)}
        for v, lab in style.thresholds:
            if lo <= v <= hi:
                stops[round(float(v), 6)] = (stops.get(round(float(v), 6)) or "") + (
                    f"; {lab}" if stops.get(round(float(v), 6)) else lab)  # fmt: skip
        items = []
        for v in sorted(stops):
            c = lut[int(round((v - lo) / (hi - lo) * (len(lut) - 1)))]
            label = f"{v:g} {style.units}".strip() + (f" ({stops[v]})" if stops[v] else "")
            items.append(f"<item value={quoteattr(repr(v))} color={quoteattr(c)} alpha=\"255\" "
                         f"label={quoteattr(label)}/>")  # fmt: skip
        renderer = (
            f'<rasterrenderer type="singlebandpseudocolor" band="1" opacity="1" alphaBand="-1" '
            f'classificationMin="{lo!r}" classificationMax="{hi!r}" nodataColor="">'
            "<rasterTransparency/><rastershader>"
            f'<colorrampshader colorRampType="INTERPOLATED" classificationMode="1" clip="0" '
            f'minimumValue="{lo!r}" maximumValue="{hi!r}" labelPrecision="1">'
            + "".join(items)
            + "</colorrampshader></rastershader></rasterrenderer>"
        )
    else:
        entries = []
        for v, (rgba, lab) in category_rgba(style, labels).items():
            entries.append(f'<paletteEntry value="{v}" color="{_hex(rgba)}" alpha="{rgba[3]}" '
                           f"label={quoteattr(lab)}/>")  # fmt: skip
        renderer = (
            '<rasterrenderer type="paletted" band="1" opacity="1" alphaBand="-1" nodataColor="">'
            "<rasterTransparency/><colorPalette>"
            + "".join(entries)
            + "</colorPalette></rasterrenderer>"
        )
    return (
        '<qgis version="3.28.0" styleCategories="AllStyleCategories">\n'
        f"<!-- yalu: {style.title}{' [' + style.units + ']' if style.units else ''} -->\n"
        '<pipe>\n<provider><resampling enabled="false" zoomedInResamplingMethod="nearestNeighbour"'
        ' zoomedOutResamplingMethod="nearestNeighbour" maxOversampling="2"/></provider>\n'
        + renderer
        + "\n"
        '<brightnesscontrast brightness="0" contrast="0" gamma="1"/>\n'
        '<huesaturation saturation="0" colorizeOn="0" grayscaleMode="0" colorizeRed="255" '
        'colorizeGreen="128" colorizeBlue="128" colorizeStrength="100"/>\n'
        '<rasterresampler maxOversampling="2"/>\n</pipe>\n<blendMode>0</blendMode>\n</qgis>\n'
    )


def pam_xml(style: LayerStyle, labels: Sequence[str] | None = None,
            colour_table: bool = False) -> str:  # fmt: skip
    """GDAL PAM XML of a categorical band: category names, attribute table, colour table."""
    cats = category_rgba(style, labels)
    n = max(cats) + 1 if cats else 0
    names = [cats[k][1] if k in cats else "" for k in range(n)]
    parts = ["<PAMDataset>", '  <PAMRasterBand band="1">', "    <CategoryNames>"]
    parts += [f"      <Category>{_text(nm)}</Category>" for nm in names]
    parts.append("    </CategoryNames>")
    if colour_table:
        parts.append("    <ColorInterp>Palette</ColorInterp>")
        parts.append("    <ColorTable>")
        for k in range(n):
            r, g, b, a = cats[k][0] if k in cats else (0, 0, 0, 0)
            parts.append(f'      <Entry c1="{r}" c2="{g}" c3="{b}" c4="{a}"/>')
        parts.append("    </ColorTable>")
    parts.append('    <GDALRasterAttributeTable tableType="thematic">')
    for i, (nm, typ, usage) in enumerate((("value", 0, 5), ("label", 2, 2), ("red", 0, 6),
                                          ("green", 0, 7), ("blue", 0, 8),
                                          ("alpha", 0, 9))):  # fmt: skip
        parts.append(f'      <FieldDefn index="{i}"><Name>{nm}</Name><Type>{typ}</Type>'
                     f"<Usage>{usage}</Usage></FieldDefn>")  # fmt: skip
    for row, (k, (rgba, lab)) in enumerate(sorted(cats.items())):
        parts.append(f'      <Row index="{row}"><F>{k}</F><F>{_text(lab)}</F>'
                     + "".join(f"<F>{int(c)}</F>" for c in rgba) + "</Row>")  # fmt: skip
    parts += ["    </GDALRasterAttributeTable>", "  </PAMRasterBand>", "</PAMDataset>", ""]
    return "\n".join(parts)


def _text(s: str) -> str:
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_raster_styles(tif: str | os.PathLike[str], style: LayerStyle,
                        labels: Sequence[str] | None = None,
                        value_range: tuple[float, float] | None = None,
                        dtype: np.dtype | None = None) -> list[Path]:  # fmt: skip
    """Write ``<stem>.qml`` beside ``tif`` and, for categorical layers, ``<tif>.aux.xml``."""
    p = Path(tif)
    out = [p.with_suffix(".qml")]
    with atomic_output(out[0]) as tmp:
        tmp.write_text(qml_text(style, labels, value_range), encoding="utf-8")
    if style.kind != "continuous":
        palette_ok = dtype is not None and np.dtype(dtype) in (
            np.dtype(np.uint8),
            np.dtype(np.uint16),
        )
        aux = p.with_name(p.name + ".aux.xml")
        with atomic_output(aux) as tmp:
            tmp.write_text(pam_xml(style, labels, colour_table=not palette_ok), encoding="utf-8")
        out.append(aux)
    return out
