"""Service levels of one network under many draws of its additive assumptions.

Powers, gains and losses enter a link budget in dB, so an uncertain transmit power, antenna gain,
body loss or jammer EIRP shifts the budget without touching a path-loss map. A
:class:`BudgetEnsemble` takes the budget inputs of a network once (:class:`yalu.radio.layers.
LayerInputs`, restricted to the nodes that matter), keeps every candidate server's received
powers, and evaluates the service level under an :class:`Offsets` draw in one compiled pass over
the nodes (``_kernels.ensemble_levels``, parallel, no temporaries of candidates x nodes): no
geometry, no maps, no Python loop over nodes.

The result is exactly :func:`yalu.radio.budget.link_budget`'s service level for the shifted
sites, handset and jammers (tested): the level of a node is the highest level any usable
candidate gives (the strongest usable server), and a candidate's level needs the DL measured
power, the DL SINR (with co-channel interference and jammers recomputed for the draw) and the UL
SINR (with the jammers reaching the tower) above the thresholds, within the range limit.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from yalu.errors import ParameterError, parse_choice
from yalu.radio import _kernels
from yalu.radio.bands import Technology
from yalu.radio.budget import _db_to_mw, _mw_to_db, _overlap_weights
from yalu.radio.layers import (
    BLOCK_ELEMENTS,
    POINT_BLOCK,
    TILE_COLUMNS,
    LayerInputs,
    PointGeometry,
)
from yalu.radio.models import Handset, Service, Site, TechnologyProfile
from yalu.radio.noise import thermal_noise_dbm

__all__ = ["BudgetEnsemble", "Offsets", "point_service_levels"]

_Arr = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Offsets:
    """Additive changes of one draw [dB].

    Attributes
    ----------
    site_dl_db : array (n_sites,)
        Added to each site's EIRP (transmit power, antenna gain, feeder loss).
    site_ul_db : array (n_sites,)
        Added to each site's receive gain (antenna gain, feeder loss, diversity).
    site_rx_db : array (n_sites,)
        Added to the jammer power each tower receives (its antenna gain and feeder loss).
    handset_db : float
        Added to the handset's net gain (minus a body-loss change), both directions.
    jammer_db : array (n_jammer_ranges,)
        Added to each jammer range's EIRP (EIRP and duty factor, ``10 log10`` of its ratio).
    """

    site_dl_db: _Arr
    site_ul_db: _Arr
    site_rx_db: _Arr
    handset_db: float
    jammer_db: _Arr

    @classmethod
    def zero(cls, n_sites: int, n_jammer_ranges: int) -> Offsets:
        z = np.zeros(n_sites)
        return cls(z, z, z, 0.0, np.zeros(n_jammer_ranges))


def _join_columns(xs: list[Any], m: int) -> npt.NDArray[np.float64]:
    """The column blocks ``xs`` side by side (m rows), the list emptied once joined."""
    out = np.concatenate(xs, axis=1) if xs else np.zeros((m, 0))
    xs.clear()
    return out


def _threshold_table(prof: TechnologyProfile) -> _Arr:
    rows = []
    for service in (Service.SMS, Service.VOICE, Service.DATA):
        th = prof.thresholds(service)
        ul_p = th.ul_min_power_dbm
        rows.append([th.dl_min_power_dbm, th.dl_min_sinr_db, th.ul_min_sinr_db,
                     np.nan if ul_p is None else ul_p])  # fmt: skip
    return np.array(rows, dtype=np.float64)


@dataclass
class _Tech:
    idx: npt.NDArray[np.intp]  # the technology's sites (indices into all sites)
    # candidates node by node (CSR): node q of ``cols`` has entries ptr[q]:ptr[q + 1]
    cols: npt.NDArray[np.intp]  # nodes (of the ensemble) where a candidate is usable
    ptr: npt.NDArray[np.int64]  # (Nt + 1,)
    cand: npt.NDArray[np.int32]  # (E,) the candidate (index into idx), increasing per node
    usable: npt.NDArray[np.bool_]  # (E,)
    lead: npt.NDArray[np.int32]  # (Nt,) the node's strongest usable entry, visited first
    # (Nt,) the largest p_dl + meas_offset and p_ul of the node's other usable entries
    rest_sig: _Arr
    rest_ul: _Arr
    p_dl: _Arr  # (E,) DL received power at the nominal values [dBm], finite
    p_ul: _Arr  # (E,) UL received power at the tower [dBm]
    meas_offset: _Arr  # (k,)
    jam_gain_mw: _Arr  # (m, Nt) jammer-to-handset gain, linear
    w: _Arr  # (k, k) co-channel weights
    n_dl_mw: _Arr  # (k,)
    n_ul_mw: _Arr  # (k,)
    e_dl_dbm: _Arr  # (m, k) jammer EIRP inside each candidate's DL channel
    tower_jam_dbm: _Arr  # (m, k) jammer power received by each tower in its UL allocation
    prof: TechnologyProfile
    thresholds: _Arr  # (3, 4) SMS/voice/data: DL power, DL SINR, UL SINR, UL power (NaN: none)


class BudgetEnsemble:
    """Fast service levels of a network at chosen nodes under additive offsets.

    Parameters
    ----------
    sites : sequence of Site
    handset : Handset
    profiles : mapping Technology -> TechnologyProfile
    inputs : LayerInputs
        The budget inputs of ``sites`` (and the jammers) on a grid.
    nodes : bool array of the grid's shape, or (n_points,) with inputs at points
        The nodes to evaluate (the analysis area, settlements, population samples).
    block_elements : int
        Budget inputs are read in blocks of about this many (site x node) elements.

    Notes
    -----
    Each node keeps only the candidates with a path to it (a finite DL power), gathered from
    tiles of the grid (or blocks of nearby points) with only the sites whose maps reach them,
    as :func:`yalu.radio.layers.compute_layers` does: memory and work follow the sites that
    reach each node, not all sites times all nodes.
    """

    def __init__(
        self,
        sites: Sequence[Site],
        handset: Handset,
        profiles: Mapping[Any, TechnologyProfile],
        inputs: LayerInputs,
        nodes: npt.ArrayLike,
        *,
        block_elements: int = BLOCK_ELEMENTS,
    ) -> None:
        shape = inputs.grid.shape if inputs.grid is not None else (inputs.length,)
        mask = np.asarray(nodes, dtype=bool)
        if mask.shape != shape:
            raise ParameterError("nodes", f"shape {mask.shape}", f"the inputs' shape {shape}")
        if int(block_elements) < 1:
            raise ParameterError("block_elements", block_elements, "an integer >= 1")
        profs = {parse_choice(Technology, k, "profiles"): v for k, v in profiles.items()}
        self.sites = list(sites)
        self.n_jammer_ranges = len(inputs.parts)
        self.node_index = np.flatnonzero(mask.ravel())
        n, m = len(sites), self.n_jammer_ranges
        ue = handset.net_gain_db
        eirp = np.array([s.eirp_dbm for s in sites])
        bts = np.array([s.gain_dbi - s.feeder_loss_db + s.diversity_gain_db for s in sites])
        ue_tx = np.array([handset.tx_power_dbm(s.technology, s.band) for s in sites])
        tech_list = [t for t in Technology if any(s.technology is t for s in sites)]
        tech_idx = {t: np.array([i for i, s in enumerate(sites) if s.technology is t])
                    for t in tech_list}  # fmt: skip
        tech_of = np.zeros(n, dtype=np.intp)  # site -> its technology's position in tech_list
        rank = np.zeros(n, dtype=np.int32)  # site -> its index among its technology's sites
        for ti, t in enumerate(tech_list):
            tech_of[tech_idx[t]] = ti
            rank[tech_idx[t]] = np.arange(tech_idx[t].size, dtype=np.int32)
        max_range = [profs[t].max_range_m for t in tech_list]
        # ensemble index of every point (-1: not an ensemble node); on a grid, looked up per
        # tile in the sorted node index (not an 8-byte array of the whole grid per ensemble)
        pos = None
        if inputs.grid is None:
            pos = np.full(mask.size, -1, dtype=np.intp)
            pos[self.node_index] = np.arange(self.node_index.size)
        acc: dict[Technology, dict[str, list[Any]]] = {
            t: {k: [] for k in ("p_dl", "p_ul", "usable", "cand", "count", "jg", "cols")}
            for t in tech_list
        }
        range_m = [np.nan if r is None else float(r) for r in max_range]
        for sel_sites, kw, where in self._blocks(inputs, mask, int(block_elements)):
            na = sel_sites.size
            g = kw["site_gain_db"].reshape(na, -1)
            nb = g.shape[1]
            node_pos = (self._tile_positions(shape, where) if pos is None
                        else pos[where])  # fmt: skip
            kept = np.flatnonzero(node_pos >= 0)
            if kept.size == 0:
                continue
            pl = kw["dl_path_loss_db"].reshape(na, nb)
            pu = kw["ul_path_loss_db"].reshape(na, nb)
            dist = kw["distance_m"].reshape(na, nb)
            ul_gain = (ue_tx + bts)[sel_sites] + ue
            jg_b = None
            for ti, t in enumerate(tech_list):
                rows = np.flatnonzero(tech_of[sel_sites] == ti)
                if rows.size == 0:
                    continue
                # the candidates with a path at each node that one of them may serve, in
                # compiled code (no temporaries of sites x nodes)
                count, p_dl_e, p_ul_e, use_e, cand_e, c = _kernels.ensemble_entries(
                    rows, kept, g, pl, pu, dist, eirp[sel_sites], ul_gain, ue, range_m[ti],
                    rank[sel_sites],
                )  # fmt: skip
                if c.size == 0:
                    continue
                if jg_b is None:
                    if m:
                        jpl = kw["jammer_path_loss_db"].reshape(m, nb)[:, kept]
                        jgn = kw["jammer_gain_db"].reshape(m, nb)[:, kept]
                        with np.errstate(invalid="ignore"):
                            jg_b = _db_to_mw(np.where(np.isfinite(jpl), jgn - jpl + ue, -np.inf))
                    else:
                        jg_b = np.zeros((0, kept.size))
                a = acc[t]
                a["p_dl"].append(p_dl_e)
                a["p_ul"].append(p_ul_e)
                a["usable"].append(use_e)
                a["cand"].append(cand_e)
                a["count"].append(count)
                a["jg"].append(jg_b[:, c])
                a["cols"].append(node_pos[kept[c]])

        def cat(xs: list[Any], dtype: Any) -> Any:
            out = np.concatenate(xs) if xs else np.zeros(0, dtype=dtype)
            # each field's pieces go as soon as they are joined: the peak is the pieces and
            # one joined field, not every field twice
            xs.clear()
            return out

        noise_bw = np.array([s.noise_bandwidth_mhz for s in sites])
        parts = inputs.parts
        # jammer -> tower, in each tower's UL allocation (as link_budget)
        ant = np.array([s.gain_dbi - s.feeder_loss_db for s in sites])
        tower = np.full((m, n), -np.inf)
        for k, s in enumerate(sites):
            prof_s = profs[s.technology]
            alloc = min(prof_s.ul_noise_bandwidth_mhz, s.noise_bandwidth_mhz)
            for i, j in enumerate(parts):
                ov = j.overlap_mhz(s.ul_carrier_mhz, s.noise_bandwidth_mhz)
                frac = ov / s.noise_bandwidth_mhz * alloc / j.bandwidth_mhz * j.duty_factor
                if frac > 0 and np.isfinite(inputs.jspl[i, k]):
                    tower[i, k] = (j.eirp_dbm + 10 * np.log10(frac) + inputs.jsg[i, k]
                                   - inputs.jspl[i, k] + inputs.sjg[i, k] + ant[k])  # fmt: skip
        e_dl = np.array([[j.inband_eirp_dbm(s.dl_carrier_mhz, s.noise_bandwidth_mhz) for s in sites]
                         for j in parts]).reshape(m, n)  # fmt: skip
        self.techs: list[_Tech] = []
        for t in tech_list:
            prof = profs[t]
            idx = tech_idx[t]
            a = acc[t]
            meas_off = np.array([sites[i].reference_offset_db for i in idx])
            cols = cat(a["cols"], np.intp)
            ptr = np.zeros(cols.size + 1, dtype=np.int64)
            np.cumsum(cat(a["count"], np.int64), out=ptr[1:])
            alloc_t = np.array([min(prof.ul_noise_bandwidth_mhz, noise_bw[i]) for i in idx])
            cand_t = cat(a["cand"], np.int32)
            use_t = cat(a["usable"], bool)
            p_dl_t = cat(a["p_dl"], float)
            p_ul_t = cat(a["p_ul"], float)
            lead = _kernels.lead_entries(ptr, p_dl_t, use_t, cand_t, meas_off)
            rest_sig, rest_ul = _kernels.rest_bounds(ptr, p_dl_t, p_ul_t, use_t, cand_t,
                                                     meas_off, lead)  # fmt: skip
            self.techs.append(_Tech(
                idx=idx, cols=cols, ptr=ptr, cand=cand_t, usable=use_t, p_dl=p_dl_t,
                lead=lead, rest_sig=rest_sig, rest_ul=rest_ul, p_ul=p_ul_t, meas_offset=meas_off,
                jam_gain_mw=_join_columns(a["jg"], m),
                w=_overlap_weights([sites[i] for i in idx], noise_bw[idx]),
                n_dl_mw=_db_to_mw([thermal_noise_dbm(bandwidth_mhz=noise_bw[i],
                                                     noise_figure_db=handset.noise_figure_db)
                                   for i in idx]),
                n_ul_mw=_db_to_mw([thermal_noise_dbm(bandwidth_mhz=alloc_t[a_],
                                                     noise_figure_db=sites[i].noise_figure_db)
                                   for a_, i in enumerate(idx)]),
                e_dl_dbm=e_dl[:, idx], tower_jam_dbm=tower[:, idx], prof=prof,
                thresholds=_threshold_table(prof),
            ))  # fmt: skip

    @staticmethod
    def tile_rows(inputs: LayerInputs, block_elements: int = BLOCK_ELEMENTS) -> int:
        """Rows of the grid tiles an ensemble on ``inputs`` is built from (tiles start at
        multiples of it: ensembles on bands of whole tiles build each tile once)."""
        if inputs.grid is None:
            raise ParameterError("inputs", "inputs at points", "inputs on a grid")
        cols = min(int(inputs.grid.shape[1]), TILE_COLUMNS)
        return max(1, int(block_elements) // (max(1, inputs.width) * cols))

    def _tile_positions(self, shape: tuple[int, ...], where: Any) -> npt.NDArray[np.intp]:
        """Ensemble index of each node of a grid tile ``where`` (a pair of slices), in the
        tile's order (-1: not an ensemble node)."""
        rs, cs = where
        flat = (np.arange(rs.start, rs.stop, dtype=np.intp)[:, None] * int(shape[1])
                + np.arange(cs.start, cs.stop, dtype=np.intp)[None, :]).ravel()  # fmt: skip
        idx = self.node_index
        i = np.searchsorted(idx, flat)
        hit = i < idx.size
        hit[hit] = idx[i[hit]] == flat[hit]
        return np.where(hit, i, -1).astype(np.intp)

    @staticmethod
    def _blocks(
        inputs: LayerInputs, mask: npt.NDArray[np.bool_], block_elements: int
    ) -> Iterator[tuple[npt.NDArray[np.intp], dict[str, Any], Any]]:
        """(sites, budget inputs, where) per tile of the grid or block of nearby points that
        holds an ensemble node and is reached by a site; ``where`` indexes the grid (a pair of
        slices) or the points (an index array) in the order of the block's nodes."""
        width = max(1, inputs.width)
        if inputs.grid is not None:
            nr, nc = inputs.grid.shape
            cols = min(nc, TILE_COLUMNS)
            rows = BudgetEnsemble.tile_rows(inputs, block_elements)
            for r0 in range(0, nr, rows):
                r1 = min(r0 + rows, nr)
                for c0 in range(0, nc, cols):
                    c1 = min(c0 + cols, nc)
                    if not mask[r0:r1, c0:c1].any():
                        continue
                    sel = inputs.active_sites(r0, r1, c0, c1)
                    if sel.size:
                        kw = inputs.block(r0, r1, c0, c1, site_index=sel)
                        yield sel, kw, (slice(r0, r1), slice(c0, c1))
            return
        step = max(1, min(POINT_BLOCK, block_elements // width))
        for idx, sel in inputs.point_blocks(step, mask):
            if sel.size:
                yield sel, inputs.block(0, 0, site_index=sel, points=idx), idx

    @property
    def n_nodes(self) -> int:
        return int(self.node_index.size)

    def levels(
        self, offsets: Offsets | None = None, *, jammers: bool = True
    ) -> npt.NDArray[np.uint8]:
        """Service level (0-3) of every ensemble node under ``offsets`` (None: nominal).

        ``jammers=False`` evaluates the network without its jammers.
        """
        n, m = len(self.sites), self.n_jammer_ranges
        o = offsets or Offsets.zero(n, m)
        out = np.zeros(self.n_nodes, dtype=np.uint8)
        jam_on = jammers and m > 0
        h_gain = 10.0 ** (o.handset_db / 10.0)
        for t in self.techs:
            if t.cols.size == 0:
                continue
            k = t.idx.size
            n_ul = t.n_ul_mw
            if jam_on:
                e = _db_to_mw(t.e_dl_dbm + o.jammer_db[:, None]) * h_gain  # (m, k)
                tw = t.tower_jam_dbm + o.jammer_db[:, None] + o.site_rx_db[t.idx][None, :]
                n_ul = n_ul + _db_to_mw(tw).sum(axis=0)
            else:
                e = np.zeros((0, k))
            _kernels.ensemble_levels(
                t.ptr, t.cand, t.p_dl, t.p_ul, t.usable, t.lead, t.rest_sig, t.rest_ul, t.cols,
                np.ascontiguousarray(o.site_dl_db[t.idx] + o.handset_db),
                np.ascontiguousarray(o.site_ul_db[t.idx] + o.handset_db), t.meas_offset, t.w,
                t.n_dl_mw, _mw_to_db(n_ul), np.ascontiguousarray(e),
                t.jam_gain_mw if jam_on else np.zeros((0, t.cols.size)), t.thresholds, out,
            )  # fmt: skip
        return out

    def grid_levels(self, shape: tuple[int, ...], levels: npt.ArrayLike) -> npt.NDArray[np.uint8]:
        """Ensemble node levels as a grid (0 outside the ensemble's nodes)."""
        g = np.zeros(int(np.prod(shape)), dtype=np.uint8)
        g[self.node_index] = np.asarray(levels, dtype=np.uint8)
        return g.reshape(shape)


def point_service_levels(
    sites: Sequence[Site],
    handset: Handset,
    profiles: Mapping[Any, TechnologyProfile],
    jammers: Sequence[Any],
    lat_deg: npt.ArrayLike,
    lon_deg: npt.ArrayLike,
    path_loss: Any,
    *,
    terrain: Any = None,
    geometry: PointGeometry | None = None,
) -> npt.NDArray[np.uint8]:
    """Service level (0-3) at scattered points, each on its own path, and nothing else.

    The ``service_level`` of :func:`yalu.radio.layers.compute_point_layers` (same inputs,
    same levels), through one :class:`BudgetEnsemble` at its nominal values: no margins, SINR
    or probability layers are formed, which is what a check that only counts levels needs.

    Parameters
    ----------
    sites, handset, profiles, jammers
        As :func:`yalu.radio.layers.compute_point_layers` (``jammers`` may be empty).
    lat_deg, lon_deg : array_like, shape (N,)
        Point positions [deg].
    path_loss : PointsPathLossProvider or callable
    terrain : yalu.terrain.TerrainLike, optional
    geometry : yalu.radio.layers.PointGeometry, optional
        The geometry of these points on ``terrain``, shared with other networks at them.

    Returns
    -------
    ndarray of uint8, shape (N,)
    """
    inputs = LayerInputs.at_points(sites, handset, jammers, lat_deg, lon_deg, path_loss,
                                   terrain=terrain, geometry=geometry)  # fmt: skip
    ens = BudgetEnsemble(sites, handset, profiles, inputs, np.ones(inputs.length, dtype=bool))
    return ens.levels()


def shifted_sites(sites: Sequence[Site], offsets: Offsets) -> list[Site]:
    """Sites with the offsets applied as transmit power and diversity-gain changes (tests)."""
    out = []
    for s, d, u in zip(sites, offsets.site_dl_db, offsets.site_ul_db, strict=True):
        assert s.tx_power_dbm is not None
        out.append(
            s.model_copy(
                update={
                    "tx_power_dbm": s.tx_power_dbm + float(d),
                    "diversity_gain_db": s.diversity_gain_db + float(u),
                }
            )
        )
    return out


def shifted_handset(handset: Handset, offsets: Offsets) -> Handset:
    """The handset with ``handset_db`` applied as an antenna-gain change (tests)."""
    gain = handset.antenna_gain_dbi + offsets.handset_db
    return handset.model_copy(update={"antenna_gain_dbi": gain})
