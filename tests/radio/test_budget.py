"""Link budgets: hand-computed single nodes, jammers, range limits, uplink limits.

Expected values are computed here independently from the textbook formulas (free space
20 log10(4 pi d f / c), kT0 = 1.380649e-23 * 290 W/Hz), not from yalu's helpers.
"""

import math

import numpy as np
import pytest

from yalu.errors import ParameterError
from yalu.radio import (
    Handset,
    Jammer,
    Service,
    Site,
    Technology,
    default_technology_profile,
    default_technology_profiles,
    gsm_max_range_m,
    link_budget,
)
from yalu.radio.budget import (
    LIMIT_DL_POWER,
    LIMIT_DL_SINR,
    LIMIT_NO_SIGNAL,
    LIMIT_NONE,
    LIMIT_RANGE,
    LIMIT_UL,
    service_probability,
)

C = 299_792_458.0
KT_DBM_HZ = 10 * math.log10(1.380649e-23 * 290 * 1e3)


def fspl(d_m, f_mhz):
    return 20 * np.log10(4 * math.pi * np.asarray(d_m, float) * f_mhz * 1e6 / C)


def noise(bw_hz, nf):
    return KT_DBM_HZ + 10 * math.log10(bw_hz) + nf


def db_sum(*dbm):
    return 10 * math.log10(sum(10 ** (x / 10) for x in dbm))


def lte_site(**kw):
    base = {
        "id": "A",
        "lat_deg": 40.0,
        "lon_deg": 124.0,
        "height_m": 30.0,
        "operator": "op1",
        "technology": "lte",
        "band": "B3",
        "dl_frequency_mhz": 1842.5,
        "bandwidth_mhz": 20.0,
        "tx_power_dbm": 46.0,
        "antenna_gain_dbi": 15.0,
        "feeder_loss_db": 2.0,
        "noise_figure_db": 5.0,
        "diversity_gain_db": 3.0,
    }
    base.update(kw)
    return Site(**base)


PROFILES = default_technology_profiles()
HANDSET = Handset()  # 23 dBm LTE, 0 dBi, body loss 3 dB, NF 9 dB


def run(sites, d_m, **kw):
    d = np.atleast_2d(np.asarray(d_m, float))
    if d.shape[0] != len(sites):
        d = np.broadcast_to(d, (len(sites), d.shape[-1]))
    dl = np.stack([fspl(d[i], s.dl_frequency_mhz) for i, s in enumerate(sites)])
    ul = np.stack([fspl(d[i], s.ul_frequency_mhz) for i, s in enumerate(sites)])
    handset = kw.pop("handset", HANDSET)
    profiles = kw.pop("profiles", PROFILES)
    return link_budget(sites, handset, profiles, dl, ul, d, **kw)


def test_single_lte_node_by_hand():
    s = lte_site()
    out = run([s], [2000.0])
    b = out.per_technology[Technology.LTE]
    eirp = 46 + 15 - 2
    p_dl = eirp - fspl(2000.0, 1842.5) + 0 - 3
    rsrp = p_dl - 10 * math.log10(12 * 100)  # 100 RB in 20 MHz, per resource element
    n_dl = noise(12 * 100 * 15e3, 9.0)
    p_ul = 23 + 0 - 3 - fspl(2000.0, 1747.5) + 15 - 2 + 3
    n_ul = noise(0.36e6, 5.0)
    assert b.dl_rx_power_dbm[0] == pytest.approx(p_dl, abs=1e-9)
    assert out.rsrp_dbm[0] == pytest.approx(rsrp, abs=1e-9)
    assert out.dl_sinr_db[0] == pytest.approx(p_dl - n_dl, abs=1e-9)
    assert b.ul_rx_power_dbm[0] == pytest.approx(p_ul, abs=1e-9)
    assert out.ul_sinr_db[0] == pytest.approx(p_ul - n_ul, abs=1e-9)
    assert out.ul_margin_db[0] == pytest.approx(
        p_ul - (n_ul + PROFILES[Technology.LTE].voice.ul_min_sinr_db)
    )
    assert out.best_server[0] == 0 and out.site_ids == ["A"]
    assert out.service_level[0] == Service.DATA  # RSRP ~ -78.6 dBm, SINR ~ 44.6 dB
    assert rsrp == pytest.approx(-78.57, abs=0.01)


def test_single_gsm_node_levels_by_hand():
    # GSM900, 43 dBm, 11 dBi omni - 2 dB feeder: EIRP 52 dBm. RxLev = 52 - FSPL - 3.
    s = Site(
        id="G",
        lat_deg=40,
        lon_deg=124,
        height_m=30,
        technology="gsm",
        band="GSM900",
        dl_frequency_mhz=947.4,
    )
    assert s.eirp_dbm == 52.0
    d = np.array([1e3, 5e3, 20e3, 34e3])
    out = run([s], d)
    rxlev = 52 - fspl(d, 947.4) - 3
    np.testing.assert_allclose(out.rsrp_dbm, rxlev, atol=1e-9)
    # free space at these distances is far above -95 dBm and noise: DATA up to the TA limit
    assert out.service_level.tolist() == [3, 3, 3, 3]


def test_gsm_beyond_timing_advance_has_no_service():
    s = Site(
        id="G",
        lat_deg=40,
        lon_deg=124,
        height_m=30,
        technology="gsm",
        band="GSM900",
        tx_power_dbm=60.0,
    )
    d = np.array([[30e3, 34.8e3, 35.0e3, 36e3, 50e3]])
    strong = np.full(d.shape, 80.0)  # a very strong signal everywhere
    out = link_budget([s], HANDSET, PROFILES, strong, strong, d)
    assert out.service_level.tolist() == [3, 3, 0, 0, 0]
    assert out.per_technology[Technology.GSM].in_range.tolist() == [True, True, False, False, False]
    ext = dict(PROFILES)
    ext[Technology.GSM] = default_technology_profile(
        "gsm", max_range_m=gsm_max_range_m(extended=True)
    )
    assert link_budget([s], HANDSET, ext, strong, strong, d).service_level.tolist() == [
        3,
        3,
        3,
        3,
        3,
    ]


def test_uplink_limited_by_handset_power():
    s = lte_site()
    d = [8000.0]
    full = run([s], d)
    weak = run([s], d, handset=Handset(max_tx_power_dbm={"lte": -10.0}))
    # downlink unchanged, uplink 33 dB worse
    assert weak.rsrp_dbm[0] == full.rsrp_dbm[0]
    assert weak.ul_sinr_db[0] == pytest.approx(full.ul_sinr_db[0] - 33.0)
    assert full.service_level[0] == Service.DATA
    assert weak.service_level[0] < full.service_level[0]
    # the UL SINR fixes the level: below the SMS UL threshold (-3 dB) -> none
    lte = PROFILES[Technology.LTE]
    expected = sum(weak.ul_sinr_db[0] >= t.ul_min_sinr_db for t in (lte.sms, lte.voice, lte.data))
    assert weak.service_level[0] == expected


def jammer_case(jammer_distance_m, ranges=((1805.0, 1880.0),), site_kw=None):
    s = lte_site(**(site_kw or {}))
    j = Jammer(
        id="J", lat_deg=40.0, lon_deg=124.1, height_m=10.0, eirp_dbm=40.0, ranges_mhz=list(ranges)
    )
    dj = np.asarray(jammer_distance_m, float)[None, :]
    node_d = np.full(dj.shape, 3000.0)
    return (
        s,
        j,
        run(
            [s],
            node_d,
            jammers=[j],
            jammer_path_loss_db=fspl(dj, 1842.5),
            jammer_site_path_loss_db=np.array([[np.inf]]),  # the jammer does not reach the tower
        ),
    )


def test_jammer_distance_flips_none_sms_voice():
    # Signal fixed (node 3 km from the site); SINR ~ S - J(x) once the jammer dominates noise.
    assert lte_site().eirp_dbm == 59.0
    s_dbm = 59 - fspl(3000.0, 1842.5) - 3
    n = noise(18e6, 9.0)
    j_in = 40 + 10 * math.log10(18 / 75)  # jammer EIRP inside the 18 MHz occupied channel
    lte = PROFILES[Technology.LTE]

    def crossing(sinr_db):
        # distance where S - 10 log10(N + J(x)) = sinr_db  ->  J(x) = S - sinr - ...
        j_needed = 10 * math.log10(10 ** ((s_dbm - sinr_db) / 10) - 10 ** (n / 10))
        loss = j_in - 3 - j_needed  # handset gain 0, body loss 3
        return 10 ** (loss / 20) * C / (4 * math.pi * 1842.5e6)

    x_sms, x_voice, x_data = (crossing(t.dl_min_sinr_db) for t in (lte.sms, lte.voice, lte.data))
    assert x_sms < x_voice < x_data
    xs = np.array(
        [x_sms * 0.98, x_sms * 1.02, x_voice * 0.98, x_voice * 1.02, x_data * 0.98, x_data * 1.02]
    )
    _, _, out = jammer_case(xs)
    assert out.service_level.tolist() == [0, 1, 1, 2, 2, 3]
    # and a sweep is monotonic
    _, _, sweep = jammer_case(np.geomspace(10, 50e3, 200))
    assert np.all(np.diff(sweep.service_level.astype(int)) >= 0)
    assert set(sweep.service_level.tolist()) == {0, 1, 2, 3}


def test_carrier_outside_jammer_band_unaffected():
    # jammer covers only B3 DL; a B1 carrier is untouched
    kw = {"band": "B1", "dl_frequency_mhz": 2140.0}
    _, _, jammed = jammer_case(np.array([50.0, 500.0]), site_kw=kw)
    clean = run([lte_site(**kw)], np.full((1, 2), 3000.0))
    np.testing.assert_array_equal(jammed.dl_sinr_db, clean.dl_sinr_db)
    np.testing.assert_array_equal(jammed.service_level, clean.service_level)
    assert np.all(np.isneginf(jammed.per_technology[Technology.LTE].dl_jammer_dbm))


def test_partial_overlap():
    # same density (75 MHz wide), but only the upper half of the 18 MHz channel covered: -3 dB
    _, _, full = jammer_case(np.array([1000.0]), ranges=((1805.0, 1880.0),))
    _, _, half = jammer_case(np.array([1000.0]), ranges=((1842.5, 1917.5),))
    jf = full.per_technology[Technology.LTE].dl_jammer_dbm[0]
    jh = half.per_technology[Technology.LTE].dl_jammer_dbm[0]
    assert jh == pytest.approx(jf + 10 * math.log10(0.5))
    # and the value itself: 40 dBm x 18/75 in band, free space 1 km, body loss 3 dB
    assert jf == pytest.approx(40 + 10 * math.log10(18 / 75) - fspl(1000.0, 1842.5) - 3)


def test_uplink_jammer_at_tower():
    s = lte_site()
    j = Jammer(
        id="J",
        lat_deg=40,
        lon_deg=124.1,
        height_m=10,
        eirp_dbm=40.0,
        ranges_mhz=[(1710.0, 1785.0)],
        duty_factor=0.25,
    )
    d = np.array([[2000.0]])
    out = run(
        [s],
        d,
        jammers=[j],
        jammer_path_loss_db=np.array([[np.inf]]),
        jammer_site_path_loss_db=np.array([[140.0]]),
        site_jammer_gain_db=np.array([[-6.0]]),
    )
    b = out.per_technology[Technology.LTE]
    # density 40 dBm / 75 MHz, allocation 0.36 MHz, channel fully covered, duty 1/4
    j_rx = 40 + 10 * math.log10(0.36 / 75 * 0.25) - 140 + 15 - 6 - 2
    assert b.ul_jammer_dbm[0] == pytest.approx(j_rx)
    p_ul = 23 - 3 - fspl(2000.0, 1747.5) + 15 - 2 + 3
    assert out.ul_sinr_db[0] == pytest.approx(p_ul - db_sum(noise(0.36e6, 5.0), j_rx))
    assert np.isneginf(b.dl_jammer_dbm[0])


def test_co_channel_interference_same_operator_only():
    a = lte_site(id="A")
    b = lte_site(id="B", lat_deg=40.05)
    c = lte_site(id="C", lat_deg=40.05, operator="op2")
    d = np.array([[1000.0], [3000.0]])
    same = run([a, b], d)
    s_dbm = 59 - fspl(1000.0, 1842.5) - 3
    i_dbm = 59 - fspl(3000.0, 1842.5) - 3
    assert same.dl_sinr_db[0] == pytest.approx(s_dbm - db_sum(noise(18e6, 9.0), i_dbm))
    other = run([a, c], d)
    assert other.dl_sinr_db[0] == pytest.approx(s_dbm - noise(18e6, 9.0))
    # a different carrier of the same operator does not interfere either
    far = run([a, lte_site(id="B", dl_frequency_mhz=1862.5)], d)
    assert far.dl_sinr_db[0] == pytest.approx(s_dbm - noise(18e6, 9.0))


def test_best_server_per_technology_and_combined():
    a = lte_site(id="A")
    b = lte_site(id="B", lat_deg=40.05)
    g = Site(
        id="G",
        lat_deg=40,
        lon_deg=124,
        height_m=30,
        technology="gsm",
        band="GSM900",
        operator="op1",
    )
    d = np.array(
        [
            [1000.0, 9000.0, 14000.0, 20000.0],
            [9000.0, 1000.0, 16000.0, 20000.0],
            [1000.0, 1000.0, 1000.0, 20000.0],
        ]
    )
    out = run([a, b, g], d)
    assert out.per_technology[Technology.LTE].best_server.tolist() == [0, 1, 0, 0]
    assert out.per_technology[Technology.GSM].best_server.tolist() == [2, 2, 2, 2]
    # beyond LTE's PRACH format-0 range (14.5 km) only GSM serves
    lte_level = out.per_technology[Technology.LTE].service_level
    assert lte_level[3] == 0
    assert out.best_server[3] == 2 and out.technologies[out.serving_technology[3]] is Technology.GSM
    assert out.service_level[3] == out.per_technology[Technology.GSM].service_level[3] > 0
    layers = out.layers()
    assert set(layers) == {
        "rsrp_dbm",
        "ul_margin_db",
        "dl_sinr_db",
        "ul_sinr_db",
        "best_server",
        "service_level",
        "service_limit",
    }


def test_void_path_loss_means_no_service():
    s = lte_site()
    pl = np.array([[100.0, np.nan]])
    out = link_budget([s], HANDSET, PROFILES, pl, pl, np.array([[1000.0, 1000.0]]))
    assert out.best_server.tolist() == [0, -1]
    assert out.service_level.tolist() == [3, 0]
    assert np.isnan(out.rsrp_dbm[1]) and np.isnan(out.dl_sinr_db[1])


def test_sector_pattern_gain_applies():
    s = lte_site(pattern={"kind": "sector", "azimuth_deg": 0.0})
    g = s.pattern_gain_db(np.array([[0.0, 180.0]]), 0.0)
    out = run([s], np.array([[2000.0, 2000.0]]), site_gain_db=g)
    assert out.rsrp_dbm[0] - out.rsrp_dbm[1] == pytest.approx(25.0)


def test_bad_input():
    s = lte_site()
    pl = np.full((1, 3), 100.0)
    with pytest.raises(ParameterError, match="ul_path_loss_db"):
        link_budget([s], HANDSET, PROFILES, pl, np.full((1, 4), 100.0), pl)
    with pytest.raises(ParameterError, match="dl_path_loss_db"):
        link_budget([s], HANDSET, PROFILES, np.full((2, 3), 100.0), pl, pl)
    with pytest.raises(ParameterError, match="profiles"):
        link_budget([s], HANDSET, {}, pl, pl, pl)
    j = Jammer(id="J", lat_deg=40, lon_deg=124, height_m=1, eirp_dbm=30, ranges_mhz=[(1805, 1880)])
    with pytest.raises(ParameterError, match="jammer_path_loss_db"):
        link_budget([s], HANDSET, PROFILES, pl, pl, pl, jammers=[j])
    with pytest.raises(ParameterError, match="sites"):
        link_budget([], HANDSET, PROFILES, pl, pl, pl)


def _margins_by_arrays(sig, sinr_dl, sinr_ul, ul_rx, has, in_range, th, ul_power):  # type: ignore[no-untyped-def]
    """The level margins written as whole-array operations (how link_budget first had them)."""

    usable = has & in_range
    margin = np.empty((3,) + sig.shape)
    limit = np.full((3,) + sig.shape, LIMIT_NONE, dtype=np.uint8)
    limit[0] = np.where(has, np.where(in_range, LIMIT_NONE, LIMIT_RANGE), LIMIT_NO_SIGNAL)
    cum = np.full(sig.shape, np.inf)
    why = np.full(sig.shape, LIMIT_NONE, dtype=np.uint8)
    with np.errstate(invalid="ignore"):
        for li in range(3):
            terms = [(sig - th[li, 0], LIMIT_DL_POWER), (sinr_dl - th[li, 1], LIMIT_DL_SINR),
                     (sinr_ul - th[li, 2], LIMIT_UL)]  # fmt: skip
            if ul_power[li]:
                terms.append((ul_rx - th[li, 3], LIMIT_UL))
            for m, w in terms:
                m = np.where(np.isnan(m), -np.inf, m)
                lower = m < cum
                why = np.where(lower, w, why)
                cum = np.where(lower, m, cum)
            margin[li] = np.where(usable, cum, -np.inf)
            limit[li] = np.where(usable, np.where(cum < 0, why, LIMIT_NONE), limit[0])
    return margin, limit, (margin >= 0).sum(axis=0).astype(np.uint8)


def _technology_budget_by_arrays(tech, prof, sites, handset, meas, p_dl, p_dl_mw, p_ul, dist,
                                 noise_bw, jam_dl_mw, jam_ul_mw):  # type: ignore[no-untyped-def]  # fmt: skip
    """One technology's budget as whole-array operations over (candidates, *grid) (how
    link_budget first had it): the reference of the compiled pass."""
    from yalu.radio.budget import _db_to_mw, _mw_to_db, _overlap_weights
    from yalu.radio.noise import thermal_noise_dbm

    idx = np.array([i for i, s in enumerate(sites) if s.technology is tech])
    sub = [sites[i] for i in idx]
    ex = (slice(None),) + (None,) * (meas.ndim - 1)
    i_co = np.tensordot(_overlap_weights(sub, noise_bw[idx]), p_dl_mw[idx], axes=(1, 0))
    sig = meas[idx]
    has = np.isfinite(sig)
    nf = handset.noise_figure_db
    n_dl = np.array([thermal_noise_dbm(bandwidth_mhz=noise_bw[i], noise_figure_db=nf)
                     for i in idx])  # fmt: skip
    sinr_dl = p_dl[idx] - _mw_to_db(_db_to_mw(n_dl)[ex] + i_co + jam_dl_mw[idx])
    alloc = [min(prof.ul_noise_bandwidth_mhz, noise_bw[i]) for i in idx]
    n_ul = np.array([thermal_noise_dbm(bandwidth_mhz=a, noise_figure_db=s.noise_figure_db)
                     for a, s in zip(alloc, sub, strict=True)])  # fmt: skip
    n_ul_tot = _mw_to_db(_db_to_mw(n_ul) + jam_ul_mw[idx])
    ul_rx = p_ul[idx]
    sinr_ul = ul_rx - n_ul_tot[ex]
    d = dist[idx]
    with np.errstate(invalid="ignore"):
        in_range = d <= prof.max_range_m if prof.max_range_m is not None else np.ones_like(has)
    th = np.zeros((3, 4))
    ul_power = np.zeros(3, dtype=bool)
    for li, key in enumerate(("sms", "voice", "data")):
        t_ = getattr(prof, key)
        th[li, :3] = (t_.dl_min_power_dbm, t_.dl_min_sinr_db, t_.ul_min_sinr_db)
        if t_.ul_min_power_dbm is not None:
            th[li, 3], ul_power[li] = t_.ul_min_power_dbm, True
    margin, limit, level = _margins_by_arrays(sig, sinr_dl, sinr_ul, ul_rx, has, in_range, th,
                                              ul_power)  # fmt: skip
    key = level * 1e4 + np.clip(np.nan_to_num(sig, nan=-1e3, neginf=-1e3), -1e3, 1e3)
    local = np.argmax(np.where(has, key, -1e6), axis=0)

    def pick(a):  # type: ignore[no-untyped-def]
        return np.take_along_axis(a, local[None, ...], axis=0)[0]

    h = pick(has)
    lv = pick(level)
    lim = pick(np.take_along_axis(limit, np.minimum(lv, 2)[None, None, ...], axis=0)[0])

    def nw(x):  # type: ignore[no-untyped-def]
        return np.where(h, x, np.nan)

    return {
        "best_server": np.where(h, idx[local], -1), "service_level": lv,
        "service_limit": np.where(lv >= 3, LIMIT_NONE, lim),
        "in_range": pick(in_range) & h, "candidate_margin_db": margin,
        "dl_rx_power_dbm": nw(pick(p_dl[idx])), "dl_signal_dbm": nw(pick(sig)),
        "dl_noise_dbm": nw(n_dl[local]), "dl_interference_dbm": nw(_mw_to_db(pick(i_co))),
        "dl_jammer_dbm": nw(_mw_to_db(pick(jam_dl_mw[idx]))), "dl_sinr_db": nw(pick(sinr_dl)),
        "ul_rx_power_dbm": nw(pick(ul_rx)), "ul_noise_dbm": nw(n_ul[local]),
        "ul_jammer_dbm": nw(_mw_to_db(jam_ul_mw[idx][local])), "ul_sinr_db": nw(pick(sinr_ul)),
        "ul_margin_db": nw(pick(ul_rx) - (n_ul[local] + prof.voice.ul_min_sinr_db)),
        "distance_m": nw(pick(d)),
    }  # fmt: skip


def test_technology_budget_kernel_matches_the_array_form() -> None:
    """The compiled pass of one technology (radio._kernels.technology_budget) against the
    array form, every field bit for bit: candidates without a signal or out of range, NaN
    terms, ties of level and signal (the first candidate wins, as argmax), signals clipped at
    +-1e3 dBm in the key, grids across work items of NODE_CHUNK nodes (partial ones too)."""
    from yalu.radio._kernels import NODE_CHUNK
    from yalu.radio.budget import _db_to_mw, _technology_budget

    rng = np.random.default_rng(5)
    seen_levels: set[int] = set()
    seen_limits: set[int] = set()
    ties = clipped = 0
    for _trial in range(16):
        n = int(rng.integers(1, 7))
        sites = [
            lte_site(id=f"s{i}", operator=f"op{i % 2}", lat_deg=40 + 0.01 * i)
            if rng.random() < 0.5
            else lte_site(id=f"s{i}", operator=f"op{i % 2}", technology="gsm", band="GSM900",
                          dl_frequency_mhz=940.0 + 0.2 * int(rng.integers(0, 3)),
                          bandwidth_mhz=0.2, lat_deg=40 + 0.01 * i)
            for i in range(n)
        ]  # fmt: skip
        shape = (int(rng.integers(1, 4)), int(rng.integers(1, 2 * NODE_CHUNK)))
        full = (n,) + shape
        # levels from a few values, so that keys tie; some beyond +-1e3 dBm
        p_dl = rng.choice([-130.0, -110.0, -95.0, -80.0, -60.0, 1500.0], full)
        p_dl[rng.random(full) < 0.2] = -np.inf
        meas = p_dl + rng.choice([0.0, -30.0], n)[:, None, None]
        meas[rng.random(full) < 0.02] = -2e3
        p_ul = rng.normal(-105, 12, full)
        p_ul[rng.random(full) < 0.03] = np.nan
        dist = rng.uniform(0, 50e3, full)
        dist[rng.random(full) < 0.02] = np.nan
        jam_dl = np.where(rng.random(full) < 0.5, 0.0, _db_to_mw(rng.normal(-100, 10, full)))
        jam_ul = np.where(rng.random(n) < 0.5, 0.0, _db_to_mw(rng.normal(-110, 5, n)))
        noise_bw = np.array([s.noise_bandwidth_mhz for s in sites])
        args = (sites, HANDSET, meas, p_dl, _db_to_mw(p_dl), p_ul, dist, noise_bw, jam_dl, jam_ul)
        for tech in {s.technology for s in sites}:
            prof = PROFILES[tech]
            got = _technology_budget(tech, prof, *args)
            want = _technology_budget_by_arrays(tech, prof, *args)
            for name, value in want.items():
                np.testing.assert_array_equal(getattr(got, name), value, err_msg=name)
            seen_levels.update(np.unique(want["service_level"]).tolist())
            seen_limits.update(np.unique(want["service_limit"]).tolist())
            # nodes whose two strongest signals are equal (the key's tie-break decides)
            sig = np.where(np.isfinite(meas[got.candidates]), meas[got.candidates], -np.inf)
            if len(sig) > 1:
                top2 = np.sort(sig, axis=0)[-2:]
                ties += int(np.sum((top2[0] == top2[1]) & np.isfinite(top2[1])))
            clipped += int(np.sum(np.abs(want["dl_signal_dbm"]) > 1e3))
    assert seen_levels == {0, 1, 2, 3}
    assert seen_limits == {LIMIT_NONE, LIMIT_NO_SIGNAL, LIMIT_RANGE, LIMIT_DL_POWER,
                           LIMIT_DL_SINR, LIMIT_UL}  # fmt: skip
    assert ties > 100 and clipped > 100


def test_overlap_weights_equal_a_pairwise_reference() -> None:
    """Co-channel weights on arrays: bit for bit the pairwise definition (share of q's channel
    inside b's, same operator only, 0 on the diagonal), for random carriers, widths, operators."""
    from yalu.radio.budget import _overlap_weights

    rng = np.random.default_rng(3)
    sites = [
        Site(id=f"s{i}", lat_deg=40.0, lon_deg=124.0, height_m=30,
             operator=str(rng.choice(["a", "b", "c"])), technology="lte", band="B3",
             bandwidth_mhz=float(rng.choice([5, 10, 20])),
             dl_frequency_mhz=round(float(rng.uniform(1805, 1880)), 1))
        for i in range(60)
    ]  # fmt: skip
    bw = np.array([s.noise_bandwidth_mhz for s in sites])

    def pairwise(a, q):
        if a == q or sites[a].operator != sites[q].operator:
            return 0.0
        c1, b1, c2, b2 = sites[a].dl_carrier_mhz, bw[a], sites[q].dl_carrier_mhz, bw[q]
        return max(0.0, min(c1 + b1 / 2, c2 + b2 / 2) - max(c1 - b1 / 2, c2 - b2 / 2)) / b2

    want = np.array([[pairwise(a, q) for q in range(60)] for a in range(60)])
    got = _overlap_weights(sites, bw)
    assert got.tobytes() == want.tobytes()
    assert ((want > 0) & (want < 1)).sum() > 50 and (want == 0).sum() > 1000
    assert _overlap_weights([], np.zeros(0)).shape == (0, 0)


def _probability_by_arrays(per, sites, sigma, phi):  # type: ignore[no-untyped-def]
    """The array form of the service probability (Phi of each candidate's margin over its
    sigma, the best of each mast, 1 - prod over masts), written independently of the kernels
    with numpy's maximum and product; ``phi`` the normal CDF."""
    masts: dict[tuple[float, float], int] = {}
    mast_of = [masts.setdefault((s.lat_deg, s.lon_deg), len(masts)) for s in sites]
    shape = next(iter(per.values())).service_level.shape
    out = {}
    for li, key in enumerate(("sms", "voice", "data")):
        best = np.zeros((len(masts),) + shape)
        for b in per.values():
            for c, site_i in enumerate(b.candidates):
                m = b.candidate_margin_db[li, c]
                s = float(sigma[site_i])
                with np.errstate(invalid="ignore"):
                    p = phi(m / s) if s > 0 else (m >= 0).astype(float)
                g = mast_of[site_i]
                best[g] = np.maximum(best[g], p)
        out[key] = (1.0 - np.prod(1.0 - best, axis=0)).astype(np.float32)
    return out


def test_service_probability_matches_the_array_form() -> None:
    """The compiled probability (node chunks, erfc) against the array form: masts shared by
    several carriers and technologies, sigma 0, -inf and NaN margins, grids across chunks."""
    from types import SimpleNamespace

    from scipy.special import ndtr

    from yalu.radio._kernels import NODE_CHUNK

    # libm's erfc, element by element (Python's math.erfc): the CDF the array form used
    libm_phi = np.vectorize(lambda x: 0.5 * math.erfc(-x * (1.0 / math.sqrt(2.0))), otypes=[float])

    rng = np.random.default_rng(11)
    seen_nan = seen_step = False
    for _trial in range(12):
        n_sites = int(rng.integers(1, 7))
        lat = rng.choice([40.0, 40.1, 40.2], n_sites)
        sites = [SimpleNamespace(lat_deg=float(la), lon_deg=124.0) for la in lat]
        sigma = rng.choice([0.0, 5.5, 8.0], n_sites)
        shape = (int(rng.integers(1, 4)), int(rng.integers(1, 2 * NODE_CHUNK)))
        order = rng.permutation(n_sites)
        cut = int(rng.integers(0, n_sites + 1))
        per = {}
        for t, idx in enumerate((order[:cut], order[cut:])):
            if idx.size == 0:
                continue
            m = rng.normal(0, 10, (3, idx.size) + shape)
            m[rng.random(m.shape) < 0.3] = -np.inf
            m[rng.random(m.shape) < 0.01] = np.nan
            m[rng.random(m.shape) < 0.02] = 0.0
            per[t] = SimpleNamespace(candidates=np.sort(idx), candidate_margin_db=m,
                                     service_level=np.zeros(shape, np.uint8))  # fmt: skip
        got = service_probability(per, sites, sigma)
        # scipy's CDF: within the last bits of 0.5 erfc(-x / sqrt 2)
        want = _probability_by_arrays(per, sites, sigma, ndtr)
        # the same CDF as the kernel's, scalar by scalar: the same bits
        same = _probability_by_arrays(per, sites, sigma, libm_phi)
        for key in ("sms", "voice", "data"):
            assert got[key].dtype == np.float32 and got[key].shape == shape
            np.testing.assert_allclose(got[key], want[key], rtol=0, atol=1e-6)
            np.testing.assert_array_equal(np.isnan(got[key]), np.isnan(want[key]))
            np.testing.assert_array_equal(got[key], same[key])
            seen_nan |= bool(np.isnan(want[key]).any())
            seen_step |= bool(np.any(sigma == 0))
    assert seen_nan and seen_step


@pytest.mark.parametrize("size", [0, 1, 7, 3 * 16384 + 5])
def test_db_mw_conversions_equal_libm_whatever_the_size(size: int) -> None:
    """dBm <-> mW in compiled code: each element is libm's ``pow`` / ``log10`` (Python's
    float operators) on that element, bit for bit, on one thread (small arrays) or two (large
    ones); specials as numpy gives them."""
    from yalu.radio._kernels import ELEMENT_CHUNK
    from yalu.radio.budget import _db_to_mw, _mw_to_db

    rng = np.random.default_rng(size)
    special = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 400.0, -400.0, -1.0])
    x = np.concatenate([special, rng.uniform(-250.0, 90.0, size)])[:size]
    with np.errstate(over="ignore"):
        want_mw = np.array([10.0 ** (v / 10.0) if np.isfinite(v) or np.isnan(v)
                            else float(np.power(10.0, v / 10.0)) for v in x])  # fmt: skip
    got_mw = _db_to_mw(x.reshape(-1, 1) if size else x)
    np.testing.assert_array_equal(got_mw.reshape(-1), want_mw)
    y = np.concatenate([special, rng.uniform(0.0, 1e3, size)])[:size]
    want_db = np.array([10.0 * math.log10(v) if v > 0 else
                        (-np.inf if v == 0 else np.nan) for v in y])  # fmt: skip
    np.testing.assert_array_equal(_mw_to_db(y), want_db)
    assert (size > ELEMENT_CHUNK) == (size == 3 * 16384 + 5)
    # scalars stay scalars, as numpy's
    assert np.ndim(_db_to_mw(-30.0)) == 0 and _db_to_mw(-30.0) == 10.0**-3
