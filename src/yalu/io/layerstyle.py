"""How each map layer is named, coloured and explained: one place for every output format.

The PNG maps (:mod:`yalu.io.maps`), the interactive map of ``report.html``
(:mod:`yalu.io.webmap`), the KMZ (:mod:`yalu.io.kml`), the GeoTIFF colour tables and the QGIS
styles (:mod:`yalu.io.qml`) all take their titles, units, colours, categories and thresholds
from :func:`layer_style`. A layer this module does not know (a new quantity) still gets a
continuous style with its own name, so new layers appear everywhere without code here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from yalu.errors import ParameterError
from yalu.radio.models import Service, Technology, default_technology_profiles

__all__ = [
    "SERVICE_CATEGORIES",
    "TAB20",
    "LayerStyle",
    "indexed_colour",
    "layer_style",
    "lut_hex",
    "present_categories",
    "rgba_image",
    "threshold_table",
]

#: Service level categories: value, label, colour (#rrggbbaa; "none" transparent).
SERVICE_CATEGORIES: tuple[tuple[int, str, str], ...] = (
    (0, "no service", "#ffffff00"),
    (1, "SMS", "#c6dbefff"),
    (2, "voice", "#6baed6ff"),
    (3, "data", "#08519cff"),
)
RESTRICTED_CATEGORIES: tuple[tuple[int, str, str], ...] = (
    (0, "not restricted", "#ffffff00"),
    (1, "restricted zone", "#00a000ff"),
)
#: 20 distinct colours (matplotlib tab20) cycled by best-server index.
TAB20 = (
    "#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a", "#d62728", "#ff9896",
    "#9467bd", "#c5b0d5", "#8c564b", "#c49c94", "#e377c2", "#f7b6d2", "#7f7f7f", "#c7c7c7",
    "#bcbd22", "#dbdb8d", "#17becf", "#9edae5",
)  # fmt: skip


@dataclass(frozen=True)
class LayerStyle:
    """Presentation of one layer.

    Attributes
    ----------
    key : str
        Layer name (the GeoTIFF's file stem).
    title : str
        Human title ("Downlink signal").
    units : str
        Units of the values ("dBm"); empty for categories.
    kind : str
        ``"continuous"``, ``"categorical"`` (fixed categories) or ``"indexed"`` (one category
        per index, e.g. the best server; colours cycle through 20).
    vmin, vmax : float
        Colour range of continuous layers (None: the data's 2nd-98th percentile).
    cmap : str
        matplotlib colour map of continuous layers.
    categories : tuple of (value, label, #rrggbbaa)
        Fixed categories.
    thresholds : tuple of (value, label)
        Values marked on the colour bar (service thresholds).
    note : str
        What the layer means, one or two sentences.
    quantum : float
        Resolution at which the interactive map stores values.
    """

    key: str
    title: str
    units: str = ""
    kind: str = "continuous"
    vmin: float | None = None
    vmax: float | None = None
    cmap: str = "viridis"
    categories: tuple[tuple[int, str, str], ...] = ()
    thresholds: tuple[tuple[float, str], ...] = field(default=())
    note: str = ""
    quantum: float | None = None

    def value_range(self, values: Any) -> tuple[float, float]:
        """Colour range [vmin, vmax] for ``values`` (an array, or one on disk that reads by
        rows): the style's own bounds, or the 2nd and 98th percentiles of the finite values,
        those of :func:`numpy.percentile` on them as float64 (:func:`finite_percentiles`:
        bands of the values at a time, no copy of the grid)."""
        lo, hi = self.vmin, self.vmax
        if lo is None or hi is None:
            p2, p98 = finite_percentiles(values, (2.0, 98.0))
            if lo is None:
                lo = p2 if p2 is not None else 0.0
            if hi is None:
                hi = p98 if p98 is not None else 1.0
        return (lo, hi if hi > lo else lo + 1.0)

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "title": self.title, "units": self.units, "kind": self.kind,
                "cmap": self.cmap, "categories": [list(c) for c in self.categories],
                "thresholds": [list(t) for t in self.thresholds], "note": self.note}  # fmt: skip


#: Values read, converted or counted at a time by :func:`finite_float64` and
#: :func:`finite_percentiles`.
_FINITE_CHUNK = 1 << 20


def _bands(values: Any) -> Iterator[np.ndarray]:
    """``values`` flattened in order, a band of about :data:`_FINITE_CHUNK` values at a time
    (an array on disk reads its rows band by band; a 2-D array is sliced by rows, so a strided
    view is never copied whole)."""
    shape = tuple(getattr(values, "shape", np.shape(values)))
    if len(shape) >= 2 and shape[0] > 0:
        per_row = max(1, int(np.prod(shape[1:], dtype=np.int64)))
        step = max(1, _FINITE_CHUNK // per_row)
        src = values if hasattr(values, "rows") else np.asarray(values)
        for r0 in range(0, shape[0], step):
            yield np.asarray(src[r0 : r0 + step]).reshape(-1)
        return
    v = np.asarray(values).reshape(-1)
    for i in range(0, v.size, _FINITE_CHUNK):
        yield v[i : i + _FINITE_CHUNK]


def present_categories(values: Any) -> set[int]:
    """The categories a categorical layer holds: its distinct finite values as ``int``
    (``set(np.unique(finite values).astype(int))``), found a band of rows at a time, so a
    layer on disk is never read whole and no float copy of the grid is made (at a native 3"
    grid that copy of a best-server layer was 360 MB, the largest allocation of a run)."""
    out: set[int] = set()
    for part in _bands(values):
        if part.dtype.kind == "f":
            part = part[np.isfinite(part)]
        out.update(np.unique(part).astype(int).tolist())
    return out


def finite_float64(values: Any) -> np.ndarray:
    """The finite values of ``values`` (any real dtype), flattened in order, as a new float64
    array; converted a band at a time, so no float64 copy of the whole array is made."""
    count = sum(int(np.count_nonzero(np.isfinite(part))) for part in _bands(values))
    out = np.empty(count, dtype=np.float64)
    k = 0
    for part in _bands(values):
        got = part[np.isfinite(part)]
        out[k : k + got.size] = got
        k += got.size
    return out


def _order_keys(part: np.ndarray) -> np.ndarray:
    """Unsigned keys of finite float32 values that sort as the values do (the sign bit
    flipped for positives, every bit for negatives)."""
    u = part.view(np.uint32)
    return np.where(u >> 31 != 0, ~u, u | np.uint32(0x80000000))


def _key_value(key: int) -> float:
    """The float32 value (as float64) of an order key of :func:`_order_keys`."""
    u = key ^ 0x80000000 if key >> 31 else ~key & 0xFFFFFFFF
    return float(np.array([u], dtype=np.uint32).view(np.float32)[0])


def finite_percentiles(values: Any, q: Sequence[float]) -> list[float | None]:
    """Percentiles ``q`` [%] of the finite values of ``values``, equal to
    ``numpy.percentile(finite values as float64, q)`` (its default, Hyndman and Fan's
    method 7, linear between order statistics), None when no value is finite.

    float32 values (every continuous layer) are never copied whole: the order statistics are
    found exactly by a two-pass radix selection over bands of the values (the first pass
    counts the high 16 bits of each value's order key, the second the low 16 bits within the
    bins that hold the wanted ranks), then interpolated as Hyndman and Fan (1996, eq. 7:
    ``x[j] + g (x[j+1] - x[j])``, ``j + g = (n - 1) p``). Other dtypes take a float64 copy of
    their finite values (:func:`finite_float64`).

    Hyndman, R. J. and Fan, Y. (1996), Sample quantiles in statistical packages, The American
    Statistician 50(4), 361-365.
    """
    qs = [float(x) for x in q]
    for x in qs:
        if not 0.0 <= x <= 100.0:
            raise ParameterError("q", x, "percentiles from 0 to 100")
    dtype = np.dtype(getattr(values, "dtype", None) or np.asarray(values).dtype)
    if dtype != np.float32:
        fin = finite_float64(values)
        if not fin.size:
            return [None] * len(qs)
        return [float(v) for v in np.percentile(fin, qs, overwrite_input=True)]
    n = 0
    high = np.zeros(1 << 16, dtype=np.int64)
    for part in _bands(values):
        keys = _order_keys(part[np.isfinite(part)])
        n += keys.size
        high += np.bincount(keys >> 16, minlength=1 << 16)
    if n == 0:
        return [None] * len(qs)
    # the ranks either side of each virtual index (numpy takes the last value from n - 1 on)
    picks = []
    for x in qs:
        h = (n - 1) * (x / 100.0)
        j = n - 1 if h >= n - 1 else int(np.floor(h))
        picks.append((h, j, min(j + 1, n - 1)))
    ranks = sorted({r for _h, a, b in picks for r in (a, b)})
    cum = np.cumsum(high)
    where = {r: int(np.searchsorted(cum, r, side="right")) for r in ranks}
    low = {b: np.zeros(1 << 16, dtype=np.int64) for b in set(where.values())}
    wanted = np.array(sorted(low), dtype=np.uint32)
    for part in _bands(values):
        keys = _order_keys(part[np.isfinite(part)])
        top = keys >> 16
        for b in wanted[np.isin(wanted, top)]:
            low[int(b)] += np.bincount(keys[top == b] & 0xFFFF, minlength=1 << 16)
    value = {}
    for r in ranks:
        b = where[r]
        below = int(cum[b - 1]) if b else 0
        lo16 = int(np.searchsorted(np.cumsum(low[b]), r - below, side="right"))
        value[r] = _key_value((b << 16) | lo16)
    out: list[float | None] = []
    for h, a, b in picks:
        xa, xb = value[a], value[b]
        g = h - np.floor(h) if h < n - 1 else 0.0
        diff = xb - xa
        # evaluated as numpy evaluates it (from the nearer end), so the result is its, bit for bit
        out.append(float(xb - diff * (1 - g)) if g >= 0.5 else float(xa + diff * g))
    return out


def threshold_table() -> dict[str, dict[str, dict[str, float]]]:
    """The default service thresholds: technology -> level -> {dl_min_power_dbm,
    dl_min_sinr_db, ul_min_sinr_db} (:func:`yalu.radio.default_technology_profiles`)."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for tech, prof in default_technology_profiles().items():
        out[tech.value] = {
            s.key: prof.thresholds(s).model_dump() for s in Service if s is not Service.NONE
        }
    return out


_SIGNAL_NAME = {"gsm": "GSM RxLev", "umts": "UMTS RSCP", "lte": "LTE RSRP", "nr": "NR SS-RSRP"}


def _thresholds(quantity: str, technologies: Sequence[str]) -> tuple[tuple[float, str], ...]:
    tab = threshold_table()
    out: list[tuple[float, str]] = []
    for t in technologies:
        if t not in tab:
            continue
        for lv, th in tab[t].items():
            name = _SIGNAL_NAME.get(t, t.upper()) if quantity == "dl_min_power_dbm" else t.upper()
            out.append((float(th[quantity]), f"{name} {lv}"))
    return tuple(out)


def _service_note(technologies: Sequence[str]) -> str:
    tab = threshold_table()
    parts = []
    for t in technologies:
        if t not in tab:
            continue
        th = tab[t]
        parts.append(
            f"{t.upper()}: " + "; ".join(
                f"{lv} {_SIGNAL_NAME.get(t, t)} >= {v['dl_min_power_dbm']:g} dBm, DL SINR >= "
                f"{v['dl_min_sinr_db']:g} dB, UL SINR >= {v['ul_min_sinr_db']:g} dB"
                for lv, v in th.items()))  # fmt: skip
    return (
        "Best level whose downlink power, downlink SINR and uplink SINR thresholds all hold "
        "(levels are cumulative: data implies voice implies SMS). " + " | ".join(parts)
    )


def layer_style(key: str, technologies: Sequence[str] | None = None) -> LayerStyle:
    """The style of layer ``key`` for a variant using ``technologies`` (default: all).

    Known keys: ``service_level``, ``rsrp_dbm`` (and the per-technology ``rsrp_dbm_lte``,
    ``rxlev_dbm_gsm``... made by :func:`split_signal`), ``dl_sinr_db``, ``ul_sinr_db``,
    ``ul_margin_db``, ``best_server``, ``restricted``. Other keys get a continuous style
    titled after the key; a key ending in ``_prob`` or starting with ``p_`` is a probability
    (0-1).
    """
    techs = [t for t in (technologies or [t.value for t in Technology])]
    if key == "service_level":
        return LayerStyle(key, "Service level", "", "categorical", categories=SERVICE_CATEGORIES,
                          note=_service_note(techs), quantum=1.0)  # fmt: skip
    if key == "restricted":
        return LayerStyle(key, "Restricted zones (use forbidden; physics unchanged)", "",
                          "categorical", categories=RESTRICTED_CATEGORIES, quantum=1.0,
                          note="Nodes inside a restricted zone of the scenario.")  # fmt: skip
    if key == "best_server":
        return LayerStyle(key, "Best server (strongest downlink)", "", "indexed", quantum=1.0,
                          note="The sector-carrier with the strongest downlink; colours repeat "
                               "every 20 servers (hover or see best_server_sites.csv)."
                          )  # fmt: skip
    for tech, name in _SIGNAL_NAME.items():
        stem = "rxlev" if tech == "gsm" else ("rscp" if tech == "umts" else "rsrp")
        if key == f"{stem}_dbm_{tech}":
            return LayerStyle(key, f"Downlink signal: {name}", "dBm", vmin=-130, vmax=-50,
                              thresholds=_thresholds("dl_min_power_dbm", [tech]), quantum=0.1,
                              note=f"{name} of the best server, where the best server is "
                                   f"{tech.upper()} (where another technology serves better, "
                                   f"blank: a {tech.upper()}-only variant shows {name} "
                                   "everywhere).")  # fmt: skip
    if key == "rsrp_dbm":
        mixed = len({_SIGNAL_NAME.get(t) for t in techs}) > 1
        return LayerStyle(
            key, "Downlink signal (" + " / ".join(_SIGNAL_NAME.get(t, t) for t in techs) + ")",
            "dBm", vmin=-130, vmax=-50, thresholds=_thresholds("dl_min_power_dbm", techs),
            quantum=0.1,
            note=("Signal of the best server in its technology's own measure. "
                  + ("GSM RxLev is the power of the whole 200 kHz carrier, LTE/NR RSRP the power "
                     "of one 15 kHz resource element: they are not comparable on one scale; "
                     "compare each with its own thresholds, or use the per-technology layers."
                     if mixed else "")),
        )  # fmt: skip
    if key == "dl_sinr_db":
        return LayerStyle(key, "Downlink SINR (signal / noise + interference + jamming)", "dB",
                          vmin=-10, vmax=30, cmap="magma",
                          thresholds=_thresholds("dl_min_sinr_db", techs), quantum=0.1,
                          note="Downlink signal over noise, co-channel interference of the same "
                               "operator and jamming, at the handset.")  # fmt: skip
    if key == "ul_sinr_db":
        return LayerStyle(key, "Uplink SINR at the best server", "dB", vmin=-20, vmax=30,
                          cmap="magma", thresholds=_thresholds("ul_min_sinr_db", techs),
                          quantum=0.1,
                          note="The handset's signal at the tower over the tower's noise and "
                               "jamming received at the tower.")  # fmt: skip
    if key == "ul_margin_db":
        return LayerStyle(key, "Uplink margin over the voice threshold", "dB", vmin=-20, vmax=40,
                          cmap="RdYlBu", thresholds=((0.0, "voice threshold"),), quantum=0.1,
                          note="Uplink SINR minus the voice UL SINR threshold of the best "
                               "server's technology: above 0 the tower hears a voice call."
                          )  # fmt: skip
    if key == "service_limit":
        from yalu.radio.budget import LIMIT_NAMES

        cols = ("#1a9850", "#bdbdbd", "#7570b3", "#e7298a", "#d95f02", "#66a61e")
        cats = tuple((int(k), str(v), cols[int(k) % len(cols)] + "ff")
                     for k, v in sorted(LIMIT_NAMES.items()))  # fmt: skip
        return LayerStyle(key, "What keeps a node from the next service level", "",
                          "categorical", categories=cats, quantum=1.0)  # fmt: skip
    if key in ("p_sms", "p_voice", "p_data"):
        lv = {"p_sms": "SMS", "p_voice": "voice", "p_data": "data"}[key]
        return LayerStyle(key, f"Probability of {lv} service (location variability)",
                          "probability", vmin=0.0, vmax=1.0,
                          thresholds=((0.5, "50 %"), (0.9, "90 %")), quantum=0.001)  # fmt: skip
    words = key.replace("_", " ")
    if key.startswith("p_") or key.endswith("_prob") or "probability" in key:
        return LayerStyle(key, words[0].upper() + words[1:], "probability", vmin=0.0, vmax=1.0,
                          cmap="viridis", thresholds=((0.5, "50 %"), (0.9, "90 %")),
                          quantum=0.001)  # fmt: skip
    units = "dBm" if key.endswith("_dbm") else ("dB" if key.endswith("_db") else "")
    return LayerStyle(key, words[0].upper() + words[1:], units,
                      quantum=0.1 if units else None)  # fmt: skip


def split_signal(rsrp_dbm: np.ndarray, best_server: np.ndarray,
                 server_technology: Sequence[str]) -> dict[str, np.ndarray]:  # fmt: skip
    """``rsrp_dbm`` split by the technology of the best server: ``{"rxlev_dbm_gsm": ...,
    "rsrp_dbm_lte": ...}`` (NaN where another technology serves); only technologies present."""
    parts = split_signal_parts(rsrp_dbm, best_server, server_technology)
    return {key: arr for key, (arr, present) in parts.items() if present}


def split_signal_parts(
    rsrp_dbm: np.ndarray, best_server: np.ndarray, server_technology: Sequence[str]
) -> dict[str, tuple[np.ndarray, bool]]:
    """:func:`split_signal` for every technology of ``server_technology``, with whether any
    node has it (bands of rows split one at a time give the whole layers band by band)."""
    bs = np.asarray(best_server)
    keys = split_signal_keys(server_technology)
    techs = list(keys)
    # each server's technology as an index (a node without a server has the technology "")
    none = techs.index("") if "" in techs else -1
    code = np.array([techs.index(t) for t in server_technology] + [none], dtype=np.int64)
    node_code = code[np.where(bs >= 0, bs, len(server_technology))]
    out = {}
    for i, key in enumerate(keys.values()):
        m = node_code == i
        out[key] = (np.where(m, rsrp_dbm, np.nan).astype(np.float32), bool(m.any()))
    return out


def split_signal_keys(server_technology: Sequence[str]) -> dict[str, str]:
    """The layer name of each technology's share of the signal (:func:`split_signal`), in
    its order: ``{"gsm": "rxlev_dbm_gsm", "lte": "rsrp_dbm_lte"}``."""
    out = {}
    for t in dict.fromkeys(server_technology):
        stem = "rxlev" if t == "gsm" else ("rscp" if t == "umts" else "rsrp")
        out[t] = f"{stem}_dbm_{t}"
    return out


def lut_hex(cmap: str, n: int = 256) -> list[str]:
    """``n`` colours of a matplotlib colour map as ``#rrggbb``."""
    from matplotlib import colormaps

    rgba = colormaps[cmap](np.linspace(0.0, 1.0, n))
    return ["#" + "".join(f"{int(round(255 * c)):02x}" for c in row[:3]) for row in rgba]


def indexed_colour(index: int) -> str:
    """Colour of category ``index`` of an indexed layer (``#rrggbb``)."""
    return TAB20[int(index) % len(TAB20)]


def _hex_rgba(h: str) -> tuple[int, int, int, int]:
    h = h.lstrip("#")
    a = int(h[6:8], 16) if len(h) >= 8 else 255
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), a


def category_rgba(style: LayerStyle, labels: Sequence[str] | None = None
                  ) -> dict[int, tuple[tuple[int, int, int, int], str]]:  # fmt: skip
    """value -> ((r, g, b, a), label) of a categorical or indexed style."""
    if style.kind == "categorical":
        return {v: (_hex_rgba(c), lab) for v, lab, c in style.categories}
    return {k: (_hex_rgba(indexed_colour(k)), str(lab)) for k, lab in enumerate(labels or [])}


def rgba_image(style: LayerStyle, values: np.ndarray, labels: Sequence[str] | None = None,
               value_range: tuple[float, float] | None = None) -> np.ndarray:  # fmt: skip
    """The layer as an (h, w, 4) uint8 RGBA image (NaN and nodata transparent)."""
    v = np.asarray(values)
    out = np.zeros(v.shape + (4,), dtype=np.uint8)
    if style.kind in ("categorical", "indexed"):
        iv = np.asarray(np.nan_to_num(v.astype(float), nan=-1), dtype=np.int64)
        if style.kind == "indexed":
            ok = iv >= 0
            lut = np.array([_hex_rgba(c) for c in TAB20], dtype=np.uint8)
            out[ok] = lut[iv[ok] % len(TAB20)]
        else:
            for val, (rgba, _lab) in category_rgba(style).items():
                out[iv == val] = rgba
        return out
    from matplotlib import colormaps

    lo, hi = value_range or style.value_range(v)
    cmap = colormaps[style.cmap]
    # by bands of rows: the colour mapping's float64 and integer temporaries (about 40 bytes a
    # pixel) stay those of one band; each pixel's colour depends on its own value only
    rows = max(1, _RGBA_BAND_PX // max(1, v.shape[1])) if v.ndim == 2 else max(1, v.shape[0])
    for r0 in range(0, v.shape[0], rows):
        f = v[r0 : r0 + rows].astype(float)
        ok = np.isfinite(f)
        t = np.clip((f - lo) / (hi - lo), 0.0, 1.0)
        img = np.asarray(cmap(np.where(ok, t, 0.0), bytes=True))
        out[r0 : r0 + rows][ok] = img[ok]
    return out


#: Pixels coloured at a time by :func:`rgba_image`.
_RGBA_BAND_PX = 1 << 20


def categories_of(style: LayerStyle, labels: Sequence[str] | None = None) -> Mapping[int, str]:
    """value -> label of a categorical or indexed style."""
    return {k: lab for k, (_c, lab) in category_rgba(style, labels).items()}
