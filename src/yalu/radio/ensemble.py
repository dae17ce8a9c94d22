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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from yalu.errors import ParameterError, parse_choice
from yalu.radio import _kernels
from yalu.radio.bands import Technology
from yalu.radio.budget import _overlap_weights
from yalu.radio.layers import LayerInputs
from yalu.radio.models import Handset, Service, Site, TechnologyProfile
from yalu.radio.noise import thermal_noise_dbm

__all__ = ["BudgetEnsemble", "Offsets"]

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


def _db_to_mw(x: Any) -> _Arr:
    with np.errstate(over="ignore"):
        return np.power(10.0, np.asarray(x, dtype=float) / 10.0)


def _mw_to_db(x: Any) -> _Arr:
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(np.asarray(x, dtype=float))


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
    idx: npt.NDArray[np.intp]
    cols: npt.NDArray[np.intp]  # nodes (of the ensemble) where a candidate is usable
    usable: npt.NDArray[np.bool_]  # (k, Nt)
    meas_offset: _Arr  # (k,)
    p_dl: _Arr  # (k, Nt) DL received power at the nominal values [dBm]
    p_ul: _Arr  # (k, Nt) UL received power at the tower [dBm]
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
    block_rows : int
        Rows of the grid read per block while building.
    """

    def __init__(
        self,
        sites: Sequence[Site],
        handset: Handset,
        profiles: Mapping[Any, TechnologyProfile],
        inputs: LayerInputs,
        nodes: npt.ArrayLike,
        *,
        block_rows: int = 64,
    ) -> None:
        # on a grid, blocks of rows; at points (LayerInputs.at_points), blocks of points
        shape = inputs.grid.shape if inputs.grid is not None else (inputs.length,)
        mask = np.asarray(nodes, dtype=bool)
        if mask.shape != shape:
            raise ParameterError("nodes", f"shape {mask.shape}", f"the inputs' shape {shape}")
        step = block_rows if inputs.grid is not None else block_rows * 1024
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
        # per technology, only the nodes where one of its candidates is usable, gathered block
        # by block: no (sites x nodes) array of the whole ensemble is ever held
        acc: dict[Technology, dict[str, list[Any]]] = {
            t: {"p_dl": [], "p_ul": [], "usable": [], "jg": [], "cols": []} for t in tech_list
        }
        nr = inputs.length
        offset = 0
        for r0 in range(0, nr, step):
            r1 = min(r0 + step, nr)
            sel = mask[r0:r1].ravel()
            if not sel.any():
                continue
            kw = inputs.block(r0, r1)
            g = kw["site_gain_db"].reshape(n, -1)[:, sel]
            with np.errstate(invalid="ignore"):
                pl = kw["dl_path_loss_db"].reshape(n, -1)[:, sel]
                p_dl_b = np.where(np.isfinite(pl) & np.isfinite(g), eirp[:, None] + g - pl + ue,
                                  -np.inf)  # fmt: skip
                pu = kw["ul_path_loss_db"].reshape(n, -1)[:, sel]
                p_ul_b = np.where(np.isfinite(pu) & np.isfinite(g),
                                  (ue_tx + bts)[:, None] + ue + g - pu, -np.inf)  # fmt: skip
            dist_b = kw["distance_m"].reshape(n, -1)[:, sel]
            if m:
                jpl = kw["jammer_path_loss_db"].reshape(m, -1)[:, sel]
                jgn = kw["jammer_gain_db"].reshape(m, -1)[:, sel]
                with np.errstate(invalid="ignore"):
                    jg_b = _db_to_mw(np.where(np.isfinite(jpl), jgn - jpl + ue, -np.inf))
            else:
                jg_b = np.zeros((0, p_dl_b.shape[1]))
            for t in tech_list:
                idx = tech_idx[t]
                max_range = profs[t].max_range_m
                has = np.isfinite(p_dl_b[idx])
                usable = has & (dist_b[idx] <= max_range) if max_range is not None else has
                c = np.flatnonzero(usable.any(axis=0))
                a = acc[t]
                a["p_dl"].append(p_dl_b[idx][:, c])
                a["p_ul"].append(p_ul_b[idx][:, c])
                a["usable"].append(usable[:, c])
                a["jg"].append(jg_b[:, c])
                a["cols"].append(c + offset)
            offset += p_dl_b.shape[1]

        def cat(xs: list[Any], rows: int, dtype: Any = float) -> Any:
            return np.concatenate(xs, axis=1) if xs else np.zeros((rows, 0), dtype=dtype)

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
            cols = np.concatenate(a["cols"]) if a["cols"] else np.zeros(0, dtype=np.intp)
            alloc_t = np.array([min(prof.ul_noise_bandwidth_mhz, noise_bw[i]) for i in idx])
            self.techs.append(_Tech(
                idx=idx, cols=cols, usable=cat(a["usable"], idx.size, bool),
                meas_offset=meas_off, p_dl=cat(a["p_dl"], idx.size),
                p_ul=cat(a["p_ul"], idx.size), jam_gain_mw=cat(a["jg"], m),
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
            level = np.empty(t.cols.size, dtype=np.uint8)
            _kernels.ensemble_levels(
                t.p_dl, t.p_ul, t.usable, np.ascontiguousarray(o.site_dl_db[t.idx] + o.handset_db),
                np.ascontiguousarray(o.site_ul_db[t.idx] + o.handset_db), t.meas_offset, t.w,
                t.n_dl_mw, _mw_to_db(n_ul), np.ascontiguousarray(e),
                t.jam_gain_mw if jam_on else np.zeros((0, t.cols.size)), t.thresholds, level,
            )  # fmt: skip
            np.maximum.at(out, t.cols, level)
        return out

    def grid_levels(self, shape: tuple[int, ...], levels: npt.ArrayLike) -> npt.NDArray[np.uint8]:
        """Ensemble node levels as a grid (0 outside the ensemble's nodes)."""
        g = np.zeros(int(np.prod(shape)), dtype=np.uint8)
        g[self.node_index] = np.asarray(levels, dtype=np.uint8)
        return g.reshape(shape)


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
