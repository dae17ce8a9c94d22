"""Downlink and uplink link budgets over maps, with co-channel interference and jammers.

Vectorized functions over stacks of path-loss arrays ``(n_sites, *grid)``, so they work with the
output of any propagation engine (ITM, Hata, free space) and any grid shape. The per-node work
(each candidate's SINR and margins, the server, the probabilities, dBm <-> mW) runs in compiled
kernels (:mod:`yalu.radio._kernels`), chunk by chunk of nodes on every core.

Model
-----
For a node (handset at a map point) and a site s:

- DL received power (total over the carrier):
  ``P_dl = EIRP_s + G_s(toward node) - L_dl + G_ue - body_loss``, where ``G_s`` is the site
  pattern's relative gain [dB <= 0] and ``EIRP_s = P_tx + G_ant - feeder``.
- Measured quantity ``P_dl + offset_s``: RxLev (GSM, offset 0), RSCP (UMTS, CPICH -10 dB), RSRP
  (LTE/NR, per resource element: ``RSRP = P_dl - 10 log10(12 N_RB)``, power spread evenly over
  the ``12 N_RB`` subcarriers; TS 36.214 §5.1.1, TS 38.215 §5.1.1).
- Server per technology: the **strongest usable server** (below), any operator.
- DL SINR at the best server b, all terms over b's noise bandwidth ``B_b`` (GSM 200 kHz, UMTS
  3.84 MHz, LTE/NR ``12 N_RB scs``): ``S / (N + I_co + I_jam)`` with ``N = kT0 B_b NF_ue``,
  ``I_co`` the power of the same operator's other sites of the same technology, each weighted by
  the fraction of its channel overlapping b's, and ``I_jam`` the duty-weighted jammer power
  inside b's channel received by the handset.
- UL received power at b: ``P_ue,max + G_ue - body_loss - L_ul + G_ant,b + G_b(toward node) -
  feeder_b + diversity_b``. UL SINR over the profile's ``ul_noise_bandwidth_mhz`` (the
  handset's allocation), ``N = kT0 B_ul NF_bts`` plus the jammers that reach the tower itself
  (jammer density x allocation width x fraction of b's UL channel covered). Interference from
  other handsets is not modelled.
- UL margin = UL received power - noise-limited voice sensitivity (``N_ul + voice.ul_min_sinr``).
- Service level (NONE 0 < SMS 1 < VOICE 2 < DATA 3): a service needs, at the server, the DL
  measured power and DL SINR, the UL SINR (and UL power when the profile sets one) all above its
  thresholds, and the node within the technology's range limit; a level also needs every lower
  level. The overall level is the best over technologies (ties: the larger DL margin over the
  SMS threshold). ``service_limit`` says what keeps a node from the next level at its server
  (no signal, range limit, DL power, DL SINR or uplink).

The strongest usable server
---------------------------
A carrier can serve a node only if the node is within the technology's range limit and the
level's thresholds, uplink included, close there. The server of a node is the candidate of the
technology that gives the **highest service level; among equals, the strongest measured
quantity** (RxLev / RSCP / RSRP). Carriers that do not serve still count as co-channel
interference (same operator, overlapping channel) wherever they share the serving channel.

The behaviour behind the choice:

- *Cell selection and reselection.* A GSM handset camps only on a *suitable* cell: C1 > 0, i.e.
  received level above RXLEV_ACCESS_MIN and its own maximum power enough for
  MS_TXPWR_MAX_CCH (TS 45.008 §6.4, path-loss criterion C1), and ranks the suitable cells by
  C2 (§6.6.2). LTE: the S-criterion Srxlev > 0 and Squal > 0 (TS 36.304 §5.2.3.2, with
  Pcompensation for a handset weaker than P-Max) makes a cell suitable, and the R-criterion
  ranks suitable cells by RSRP plus offsets (§5.2.4.6). A stronger cell that cannot be used is
  never chosen over a usable one.
- *Timing advance.* A GSM MS beyond TA 63 (34.9 km, TS 45.010 §5.5) cannot keep its bursts
  inside the time slot: the BSS rejects or drops it (access bursts beyond the guard are not
  decoded), and the network's handover algorithms (TS 45.008 Annex A: handover on level,
  quality and MS-BS distance) move it to a nearer cell. LTE: a preamble whose round trip exceeds the
  PRACH guard time (TS 36.211 Table 5.7.1-1; format 0: 14.5 km) is not detected, so random
  access fails.
- *Uplink.* A link whose uplink does not close fails at random access or call set-up
  (GSM C1 accounts for the MS power, LTE Srxlev for P-Max), and the network hands the
  connection to a cell where it closes (TS 45.008 Annex A: uplink level and quality handover).

Ranking usable candidates by the level they give, before signal strength, is the idealised end
of this behaviour: the node is counted at the best that any carrier can give it, as a network
that hands over on quality and distance achieves. It makes coverage monotone: with
interference-free carriers, adding a site never lowers any node's level (a property test).

Reciprocity: downlink and uplink path losses are inputs of their own. The bands differ (FDD
duplex spacing up to 190 MHz), and ITM is reciprocal only up to the thresholds of its profile
analysis (the UL path runs from the handset at 1.5 m to the tower; see
:mod:`yalu.coverage.engine`, "Direction"), so the caller evaluates each direction at its own
frequency and with its own terminal 1. Passing the same array twice is allowed but is an
approximation.

Void path loss (NaN) means "no signal": the node gets no server from that site.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from yalu.cpu import readonly
from yalu.errors import ParameterError, parse_choice
from yalu.radio.bands import Technology
from yalu.radio.models import Handset, Jammer, Service, Site, TechnologyProfile
from yalu.radio.noise import thermal_noise_dbm

__all__ = [
    "LAYER_NAMES",
    "LIMIT_NAMES",
    "LinkBudget",
    "TechnologyBudget",
    "link_budget",
    "service_probability",
]

_Arr = npt.NDArray[np.float64]

#: layer names written by the maps glue
LAYER_NAMES = (
    "rsrp_dbm",
    "ul_margin_db",
    "dl_sinr_db",
    "ul_sinr_db",
    "best_server",
    "service_level",
    "service_limit",
)

#: ``service_limit`` codes: what keeps a node from the next level at its server
LIMIT_NONE, LIMIT_NO_SIGNAL, LIMIT_RANGE, LIMIT_DL_POWER, LIMIT_DL_SINR, LIMIT_UL = range(6)
LIMIT_NAMES = {
    LIMIT_NONE: "none (data closes)",
    LIMIT_NO_SIGNAL: "no signal",
    LIMIT_RANGE: "range limit (timing advance / PRACH)",
    LIMIT_DL_POWER: "downlink power",
    LIMIT_DL_SINR: "downlink SINR",
    LIMIT_UL: "uplink",
}


@dataclass(frozen=True)
class TechnologyBudget:
    """Per-node results of one technology at its best server (NaN / -1 where it has none)."""

    technology: Technology
    best_server: npt.NDArray[np.int32]
    dl_rx_power_dbm: _Arr
    dl_signal_dbm: _Arr
    dl_noise_dbm: _Arr
    dl_interference_dbm: _Arr
    dl_jammer_dbm: _Arr
    dl_sinr_db: _Arr
    ul_rx_power_dbm: _Arr
    ul_noise_dbm: _Arr
    ul_jammer_dbm: _Arr
    ul_sinr_db: _Arr
    ul_margin_db: _Arr
    distance_m: _Arr
    in_range: npt.NDArray[np.bool_]
    service_level: npt.NDArray[np.uint8]
    #: what keeps the node from the next level at its server (``LIMIT_*`` codes)
    service_limit: npt.NDArray[np.uint8]
    #: indices (into the sites) of this technology's candidate servers
    candidates: npt.NDArray[np.intp]
    #: margin of each level at each candidate, shape (3, n_candidates, *grid) [dB]: the smallest
    #: of the level's (and the lower levels') DL power, DL SINR and UL margins; -inf where the
    #: candidate has no signal or is beyond the range limit
    candidate_margin_db: _Arr


@dataclass(frozen=True)
class LinkBudget:
    """Link budget of every node: per technology and combined (the technology that serves best)."""

    site_ids: list[str]
    technologies: list[Technology]
    per_technology: dict[Technology, TechnologyBudget]
    service_level: npt.NDArray[np.uint8]
    best_server: npt.NDArray[np.int32]
    serving_technology: npt.NDArray[np.int8]
    rsrp_dbm: _Arr
    dl_sinr_db: _Arr
    ul_margin_db: _Arr
    ul_sinr_db: _Arr
    service_limit: npt.NDArray[np.uint8]
    #: probability that each level closes, ``{"sms": P, "voice": P, "data": P}`` (only with
    #: ``location_sigma_db``)
    probability: dict[str, _Arr] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def layers(self) -> dict[str, npt.NDArray[Any]]:
        """The map layers by name (``best_server`` indexes ``site_ids``; ``p_sms``, ``p_voice``,
        ``p_data`` with probabilities)."""
        out: dict[str, npt.NDArray[Any]] = {
            "rsrp_dbm": self.rsrp_dbm,
            "ul_margin_db": self.ul_margin_db,
            "dl_sinr_db": self.dl_sinr_db,
            "ul_sinr_db": self.ul_sinr_db,
            "best_server": self.best_server,
            "service_level": self.service_level,
            "service_limit": self.service_limit,
        }
        for k, v in self.probability.items():
            out[f"p_{k}"] = v
        return out


def _stack(name: str, value: npt.ArrayLike, first: int, shape: tuple[int, ...] | None) -> _Arr:
    arr = np.asarray(value, dtype=float)
    if arr.ndim < 1 or arr.shape[0] != first or (shape is not None and arr.shape[1:] != shape):
        want = (
            f"({first}, {', '.join(map(str, shape))})" if shape is not None else f"({first}, ...)"
        )
        raise ParameterError(name, f"shape {arr.shape}", f"an array of shape {want}")
    return arr


def _convert(x: Any, to_db: bool) -> _Arr:
    from yalu.radio._kernels import ELEMENT_CHUNK, convert_parallel, convert_serial

    a = np.asarray(x, dtype=np.float64)
    out = np.empty(a.shape)
    # 2 threads on large arrays; serial and parallel run the same scalar code (same bits)
    kern = convert_parallel if a.size > ELEMENT_CHUNK else convert_serial
    kern(readonly(np.ascontiguousarray(a.reshape(-1))), out.reshape(-1), to_db)
    return out[()] if out.ndim == 0 else out


def _db_to_mw(x: Any) -> _Arr:
    """``10 ** (x / 10)`` [mW from dBm], in compiled code (libm ``pow``): the budgets' hottest
    transcendental, on both cores."""
    return _convert(x, False)


def _mw_to_db(x: Any) -> _Arr:
    """``10 log10(x)`` [dBm from mW]; 0 -> -inf, negative or NaN -> NaN (libm ``log10``)."""
    return _convert(x, True)


def _overlap_weights(sites: Sequence[Site], noise_bw: _Arr) -> _Arr:
    """Co-channel weights ``w[b, q]``: the share of site q's DL power inside site b's channel,
    same operator only (0 on the diagonal).

    The overlap of two channels (centre ``c``, width ``b`` [MHz]) is ``max(0, min(c1 + b1/2,
    c2 + b2/2) - max(c1 - b1/2, c2 - b2/2))``."""
    k = len(sites)
    if k == 0:
        return np.zeros((0, 0))
    c = np.array([s.dl_carrier_mhz for s in sites], dtype=np.float64)
    b = np.asarray(noise_bw, dtype=np.float64)
    code = np.unique([s.operator for s in sites], return_inverse=True)[1]
    hi = np.minimum(c[:, None] + b[:, None] / 2, c[None, :] + b[None, :] / 2)
    lo = np.maximum(c[:, None] - b[:, None] / 2, c[None, :] - b[None, :] / 2)
    span = hi - lo
    ov = np.where(span > 0.0, span, 0.0)
    w = ov / b[None, :]
    same = (code[:, None] == code[None, :]) & ~np.eye(k, dtype=bool)
    return np.where(same, w, 0.0)


def _pick(stack: _Arr, idx: npt.NDArray[np.intp]) -> _Arr:
    return np.take_along_axis(stack, idx[None, ...], axis=0)[0]


def link_budget(
    sites: Sequence[Site],
    handset: Handset,
    profiles: Mapping[Any, TechnologyProfile],
    dl_path_loss_db: npt.ArrayLike,
    ul_path_loss_db: npt.ArrayLike,
    distance_m: npt.ArrayLike,
    site_gain_db: npt.ArrayLike | None = None,
    jammers: Sequence[Jammer] = (),
    jammer_path_loss_db: npt.ArrayLike | None = None,
    jammer_gain_db: npt.ArrayLike | None = None,
    jammer_site_path_loss_db: npt.ArrayLike | None = None,
    jammer_site_gain_db: npt.ArrayLike | None = None,
    site_jammer_gain_db: npt.ArrayLike | None = None,
    location_sigma_db: npt.ArrayLike | None = None,
) -> LinkBudget:
    """Downlink and uplink budgets, SINR and service level for every node.

    Parameters
    ----------
    sites : sequence of Site, length n
    handset : Handset
    profiles : mapping Technology -> TechnologyProfile
        Must hold every technology used by ``sites``.
    dl_path_loss_db : array_like, shape (n, *grid)
        Basic transmission loss site -> node at each site's DL frequency [dB]; NaN = no signal.
    ul_path_loss_db : array_like, shape (n, *grid)
        Loss node -> site at each site's UL frequency [dB].
    distance_m : array_like, shape (n, *grid)
        Ground distance node -> site [m], for the range limits.
    site_gain_db : array_like, shape (n, *grid), optional
        Relative pattern gain of each site's antenna toward each node [dB]; default 0 (omni).
    jammers : sequence of Jammer, length m
    jammer_path_loss_db : array_like, shape (m, *grid)
        Loss jammer -> node [dB]; required when jammers are given.
    jammer_gain_db : array_like, shape (m, *grid), optional
        Relative gain of each jammer's pattern toward each node [dB]; default 0.
    jammer_site_path_loss_db : array_like, shape (m, n)
        Loss jammer -> site antenna [dB]; required when jammers are given (inf: out of reach).
    jammer_site_gain_db, site_jammer_gain_db : array_like, shape (m, n), optional
        Relative pattern gains jammer -> site and site -> jammer [dB]; default 0.
    location_sigma_db : float or array_like, shape (n,), optional
        Standard deviation of the serving path's location variability, per site [dB]; when
        given, the result holds the probability that each level closes
        (:func:`service_probability`).

    Returns
    -------
    LinkBudget
    """
    n = len(sites)
    if n == 0:
        raise ParameterError("sites", "[]", "at least one site")
    pl_dl = _stack("dl_path_loss_db", dl_path_loss_db, n, None)
    shape = pl_dl.shape[1:]
    pl_ul = _stack("ul_path_loss_db", ul_path_loss_db, n, shape)
    dist = _stack("distance_m", distance_m, n, shape)
    g_site = (
        np.zeros_like(pl_dl)
        if site_gain_db is None
        else _stack("site_gain_db", site_gain_db, n, shape)
    )
    profs: dict[Technology, TechnologyProfile] = {
        parse_choice(Technology, k, "profiles"): v for k, v in profiles.items()
    }
    techs = [t for t in Technology if any(s.technology is t for s in sites)]
    for t in techs:
        if t not in profs:
            raise ParameterError(
                "profiles", sorted(p.value for p in profs), f"a profile for {t.value}"
            )

    ue = handset.net_gain_db
    eirp = np.array([s.eirp_dbm for s in sites])
    offset = np.array([s.reference_offset_db for s in sites])
    bts_gain = np.array([s.gain_dbi - s.feeder_loss_db + s.diversity_gain_db for s in sites])
    ue_tx = np.array([handset.tx_power_dbm(s.technology, s.band) for s in sites])
    noise_bw = np.array([s.noise_bandwidth_mhz for s in sites])
    expand = (slice(None),) + (None,) * len(shape)

    void_dl = ~np.isfinite(pl_dl) | ~np.isfinite(g_site)
    void_ul = ~np.isfinite(pl_ul) | ~np.isfinite(g_site)
    with np.errstate(invalid="ignore"):
        p_dl = np.where(void_dl, -np.inf, eirp[expand] + g_site - pl_dl + ue)
        p_ul = np.where(void_ul, -np.inf, (ue_tx + bts_gain)[expand] + ue + g_site - pl_ul)
    meas = p_dl + offset[expand]
    p_dl_mw = _db_to_mw(p_dl)

    # jammer power (mW) at each node inside each site's DL channel: (n, *grid)
    m = len(jammers)
    jam_dl_mw = np.zeros_like(pl_dl)
    jam_ul_mw = np.zeros(n)
    if m:
        if jammer_path_loss_db is None:
            raise ParameterError("jammer_path_loss_db", None, f"an array of shape ({m}, *grid)")
        if jammer_site_path_loss_db is None:
            raise ParameterError("jammer_site_path_loss_db", None, f"an array of shape ({m}, {n})")
        jpl = _stack("jammer_path_loss_db", jammer_path_loss_db, m, shape)
        jg = (
            np.zeros_like(jpl)
            if jammer_gain_db is None
            else _stack("jammer_gain_db", jammer_gain_db, m, shape)
        )
        jspl = _stack("jammer_site_path_loss_db", jammer_site_path_loss_db, m, (n,))
        jsg = (
            np.zeros((m, n))
            if jammer_site_gain_db is None
            else _stack("jammer_site_gain_db", jammer_site_gain_db, m, (n,))
        )
        sjg = (
            np.zeros((m, n))
            if site_jammer_gain_db is None
            else _stack("site_jammer_gain_db", site_jammer_gain_db, m, (n,))
        )
        e_dl = np.array(
            [
                [j.inband_eirp_dbm(s.dl_carrier_mhz, s.noise_bandwidth_mhz) for s in sites]
                for j in jammers
            ]
        )
        with np.errstate(invalid="ignore"):
            gain_to_node = np.where(np.isfinite(jpl), jg - jpl + ue, -np.inf)
        jam_dl_mw = np.tensordot(_db_to_mw(e_dl).T, _db_to_mw(gain_to_node), axes=(1, 0))
        # UL: jammer density x allocation width x covered fraction of the site's UL channel
        e_ul = np.empty((m, n))
        for k, s in enumerate(sites):
            alloc = min(profs[s.technology].ul_noise_bandwidth_mhz, s.noise_bandwidth_mhz)
            for i, j in enumerate(jammers):
                ov = j.overlap_mhz(s.ul_carrier_mhz, s.noise_bandwidth_mhz)
                frac = ov / s.noise_bandwidth_mhz * alloc / j.bandwidth_mhz * j.duty_factor
                e_ul[i, k] = j.eirp_dbm + 10 * np.log10(frac) if frac > 0 else -np.inf
        ant = np.array([s.gain_dbi - s.feeder_loss_db for s in sites])
        with np.errstate(invalid="ignore"):
            rx = np.where(np.isfinite(jspl), e_ul + jsg - jspl + sjg + ant[None, :], -np.inf)
        jam_ul_mw = _db_to_mw(rx).sum(axis=0)

    per: dict[Technology, TechnologyBudget] = {}
    for t in techs:
        per[t] = _technology_budget(
            t,
            profs[t],
            sites,
            handset,
            meas,
            p_dl,
            p_dl_mw,
            p_ul,
            dist,
            noise_bw,
            jam_dl_mw,
            jam_ul_mw,
        )

    # combine: best service, ties by DL margin over the SMS threshold
    keys = []
    for t in techs:
        b = per[t]
        margin = np.nan_to_num(b.dl_signal_dbm - profs[t].sms.dl_min_power_dbm, nan=-1e3)
        keys.append(
            b.service_level.astype(float) * 1e4
            + np.clip(margin, -1e3, 1e3)
            + np.where(b.best_server >= 0, 0.0, -1e6)
        )
    choice = np.argmax(np.stack(keys), axis=0)

    def sel(attr: str, fill: Any) -> Any:
        stack = np.stack([getattr(per[t], attr) for t in techs])
        return _pick(stack, choice)

    best = sel("best_server", -1).astype(np.int32)
    serving = np.where(best >= 0, choice, -1).astype(np.int8)
    prob: dict[str, _Arr] = {}
    if location_sigma_db is not None:
        sig = np.broadcast_to(np.asarray(location_sigma_db, dtype=float), (n,))
        if not np.all(np.isfinite(sig)) or np.any(sig < 0):
            raise ParameterError("location_sigma_db", location_sigma_db, "finite values >= 0 dB")
        prob = service_probability(per, sites, sig)
    return LinkBudget(
        site_ids=[s.id for s in sites],
        technologies=techs,
        per_technology=per,
        service_level=sel("service_level", 0).astype(np.uint8),
        best_server=best,
        serving_technology=serving,
        rsrp_dbm=sel("dl_signal_dbm", np.nan),
        dl_sinr_db=sel("dl_sinr_db", np.nan),
        ul_margin_db=sel("ul_margin_db", np.nan),
        ul_sinr_db=sel("ul_sinr_db", np.nan),
        service_limit=sel("service_limit", 0).astype(np.uint8),
        probability=prob,
    )


def service_probability(
    per_technology: Mapping[Technology, TechnologyBudget],
    sites: Sequence[Site],
    location_sigma_db: npt.ArrayLike,
) -> dict[str, _Arr]:
    """Probability that each service level closes at each node [0-1].

    The level's margin ``m`` at a candidate server (the smallest of its DL power, DL SINR and
    UL margins, over the level and the lower ones) moves with the serving path's location
    variability ``X ~ N(0, sigma)``: the level closes there with probability ``Phi(m / sigma)``.

    Correlation assumptions:

    - downlink and uplink of one path share ``X`` (correlation 1: the same terrain and clutter
      on a reciprocal path, the duplex gap being small beside the obstacles), so the joint
      probability that both close is ``Phi(min margin / sigma)``, not a product;
    - carriers and sectors of one mast (same latitude and longitude) share ``X`` too: the best of
      them counts;
    - different masts are independent (their paths cross different obstacles), so
      ``P = 1 - prod_masts (1 - max_carriers Phi(m / sigma))``: any one mast that closes serves
      (a network serving from the strongest usable server, see :func:`link_budget`);
    - interferers' and jammers' paths are held at their median (the SINR spread is then that of
      the wanted signal alone; independent shadowing of a dominant interferer would widen it by
      up to sqrt 2).

    Range limits are deterministic: a candidate beyond them has ``m = -inf``. With
    ``sigma = 0``, P is 1 where the level closes and 0 where it does not.

    Parameters
    ----------
    per_technology : mapping Technology -> TechnologyBudget
    sites : sequence of Site
    location_sigma_db : array_like, shape (n_sites,)
        Location variability of each site's path [dB].

    Returns
    -------
    dict
        ``{"sms": P, "voice": P, "data": P}``, arrays of the grid's shape (float32).
    """
    from yalu.radio._kernels import any_closes, best_by_mast

    sig = np.asarray(location_sigma_db, dtype=float)
    masts: dict[tuple[float, float], int] = {}
    mast_of = np.array([masts.setdefault((s.lat_deg, s.lon_deg), len(masts)) for s in sites])
    shape = next(iter(per_technology.values())).service_level.shape
    n_flat = int(np.prod(shape, dtype=np.int64))
    # in compiled code, node chunk by node chunk: Phi of each candidate's margin, the best of
    # each mast, then 1 - prod(1 - best) over masts (the same scalar operations, in the same
    # order, as the array form)
    best = np.zeros((3, len(masts), n_flat))
    for b in per_technology.values():
        cand = np.asarray(b.candidates, dtype=np.intp)
        best_by_mast(
            readonly(np.ascontiguousarray(b.candidate_margin_db, dtype=np.float64)
                     .reshape(3, cand.size, n_flat)),
            readonly(np.ascontiguousarray(sig[cand], dtype=np.float64)),
            readonly(np.ascontiguousarray(mast_of[cand], dtype=np.intp)), best,
        )  # fmt: skip
    p = any_closes(best, np.empty((3, n_flat), dtype=np.float32))
    return {service.key: p[li].reshape(shape)
            for li, service in enumerate((Service.SMS, Service.VOICE, Service.DATA))}  # fmt: skip


def _technology_budget(
    tech: Technology,
    prof: TechnologyProfile,
    sites: Sequence[Site],
    handset: Handset,
    meas: _Arr,
    p_dl: _Arr,
    p_dl_mw: _Arr,
    p_ul: _Arr,
    dist: _Arr,
    noise_bw: _Arr,
    jam_dl_mw: _Arr,
    jam_ul_mw: _Arr,
) -> TechnologyBudget:
    idx = np.array([i for i, s in enumerate(sites) if s.technology is tech])
    sub = [sites[i] for i in idx]
    w = _overlap_weights(sub, noise_bw[idx])
    i_co = np.tensordot(w, p_dl_mw[idx], axes=(1, 0))  # (k, *grid)

    n_dl = np.array(
        [
            thermal_noise_dbm(bandwidth_mhz=noise_bw[i], noise_figure_db=handset.noise_figure_db)
            for i in idx
        ]
    )
    alloc = np.array([min(prof.ul_noise_bandwidth_mhz, noise_bw[i]) for i in idx])
    n_ul = np.array(
        [
            thermal_noise_dbm(bandwidth_mhz=alloc[a], noise_figure_db=s.noise_figure_db)
            for a, s in enumerate(sub)
        ]
    )
    n_ul_tot = _mw_to_db(_db_to_mw(n_ul) + jam_ul_mw[idx])  # (k,)

    th = np.zeros((3, 4))
    ul_power = np.zeros(3, dtype=np.bool_)
    for li, service in enumerate((Service.SMS, Service.VOICE, Service.DATA)):
        t_ = prof.thresholds(service)
        th[li, :3] = (t_.dl_min_power_dbm, t_.dl_min_sinr_db, t_.ul_min_sinr_db)
        if t_.ul_min_power_dbm is not None:
            th[li, 3] = t_.ul_min_power_dbm
            ul_power[li] = True
    codes = np.array([LIMIT_NONE, LIMIT_NO_SIGNAL, LIMIT_RANGE, LIMIT_DL_POWER, LIMIT_DL_SINR,
                      LIMIT_UL], dtype=np.uint8)  # fmt: skip

    # every candidate's SINR, level margins and limits, the strongest usable one and the
    # node's results at it, in one compiled pass (radio._kernels.technology_budget: the array
    # form's scalar operations, the same bits, without its (k, *grid) temporaries)
    from yalu.radio._kernels import technology_budget

    n_all, shape_ = meas.shape[0], meas.shape[1:]
    k_ = idx.size
    n_flat = int(np.prod(shape_, dtype=np.int64))

    def flat(a: _Arr, rows: int) -> _Arr:
        # read-only and C-contiguous whatever the caller passed: one compiled signature
        return readonly(np.ascontiguousarray(a, dtype=np.float64).reshape(rows, n_flat))

    margin = np.empty((3, k_, n_flat))
    f_out = np.empty((12, n_flat))
    best = np.empty(n_flat, dtype=np.int32)
    level = np.empty(n_flat, dtype=np.uint8)
    lim = np.empty(n_flat, dtype=np.uint8)
    in_range = np.empty(n_flat, dtype=np.bool_)
    max_range = prof.max_range_m
    technology_budget(
        readonly(np.ascontiguousarray(idx, dtype=np.intp)), flat(meas, n_all), flat(p_dl, n_all),
        flat(p_ul, n_all), flat(dist, n_all), flat(jam_dl_mw, n_all), flat(i_co, k_),
        readonly(_db_to_mw(n_dl)), readonly(n_dl), readonly(n_ul), readonly(n_ul_tot),
        readonly(np.ascontiguousarray(jam_ul_mw, dtype=np.float64)),
        float(max_range) if max_range is not None else 0.0, max_range is not None,
        readonly(th), readonly(ul_power), readonly(codes), float(prof.voice.ul_min_sinr_db),
        margin, f_out, best, level, lim, in_range,
    )  # fmt: skip
    f = f_out.reshape((12,) + shape_)
    return TechnologyBudget(
        technology=tech,
        best_server=best.reshape(shape_),
        dl_rx_power_dbm=f[0],
        dl_signal_dbm=f[1],
        dl_noise_dbm=f[2],
        dl_interference_dbm=f[3],
        dl_jammer_dbm=f[4],
        dl_sinr_db=f[5],
        ul_rx_power_dbm=f[6],
        ul_noise_dbm=f[7],
        ul_jammer_dbm=f[8],
        ul_sinr_db=f[9],
        ul_margin_db=f[10],
        distance_m=f[11],
        in_range=in_range.reshape(shape_),
        service_level=level.reshape(shape_),
        service_limit=lim.reshape(shape_),
        candidates=idx,
        candidate_margin_db=margin.reshape((3, k_) + shape_),
    )
