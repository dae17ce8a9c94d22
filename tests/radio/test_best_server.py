"""The strongest usable server, service limits and the probability of service."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from yalu.radio import Handset, Service, Site, Technology, default_technology_profiles, link_budget
from yalu.radio.budget import LIMIT_DL_POWER, LIMIT_NONE, LIMIT_RANGE, LIMIT_UL

PROFILES = default_technology_profiles()
HANDSET = Handset()


def gsm(i, **kw):
    base = {
        "id": f"G{i}",
        "lat_deg": 42.0 + 0.01 * i,
        "lon_deg": 130.0,
        "height_m": 30.0,
        "operator": "op",
        "technology": "gsm",
        "band": "GSM900",
        "dl_frequency_mhz": 935.2 + 0.2 * i,
        "tx_power_dbm": 43.0,
        "antenna_gain_dbi": 16.0,
    }
    base.update(kw)
    return Site(**base)


def lte(i, **kw):
    base = {
        "id": f"L{i}",
        "lat_deg": 42.0 + 0.01 * i,
        "lon_deg": 130.0,
        "height_m": 30.0,
        "operator": "op",
        "technology": "lte",
        "band": "B3",
        "dl_frequency_mhz": 1805.0 + 20.0 * i + 10.0,
        "bandwidth_mhz": 20.0,
        "tx_power_dbm": 46.0,
        "antenna_gain_dbi": 17.0,
    }
    base.update(kw)
    return Site(**base)


def test_in_range_server_beats_a_stronger_one_beyond_timing_advance():
    # the Zhongxin case: two GSM sectors 0.02 dB apart, the stronger one beyond 35 km
    near, far = gsm(0), gsm(1)
    pl = np.array([[130.02], [130.0]])
    d = np.array([[30e3], [44e3]])
    out = link_budget([near, far], HANDSET, PROFILES, pl, pl, d)
    assert out.best_server.tolist() == [0]
    assert out.service_level[0] > 0
    # alone, the far site gives nothing: the range limit
    alone = link_budget([far], HANDSET, PROFILES, pl[1:], pl[1:], d[1:])
    assert alone.service_level.tolist() == [0]
    assert alone.service_limit.tolist() == [LIMIT_RANGE]


def test_a_server_whose_uplink_closes_beats_a_stronger_downlink():
    # A: strong DL (60 dBm tx) but a 20 dB worse uplink path; B: weaker DL, uplink closes
    a, b = gsm(0, tx_power_dbm=60.0), gsm(1)
    dl = np.array([[140.0], [142.0]])
    ul = np.array([[165.0], [142.0]])
    d = np.full((2, 1), 10e3)
    out = link_budget([a, b], HANDSET, PROFILES, dl, ul, d)
    assert out.best_server.tolist() == [1]
    only_a = link_budget([a], HANDSET, PROFILES, dl[:1], ul[:1], d[:1])
    assert only_a.service_level[0] < out.service_level[0]
    assert only_a.service_limit[0] == LIMIT_UL


def test_service_limit_codes():
    s = lte(0)
    pl = np.array([[100.0, 158.0, 200.0]])
    out = link_budget([s], HANDSET, PROFILES, pl, pl, np.full((1, 3), 5e3))
    assert out.service_level[0] == Service.DATA and out.service_limit[0] == LIMIT_NONE
    assert out.service_level[2] == Service.NONE and out.service_limit[2] == LIMIT_DL_POWER


@st.composite
def networks(draw):
    n = draw(st.integers(2, 5))
    techs = draw(st.lists(st.sampled_from(["gsm", "lte"]), min_size=n, max_size=n))
    sites = [
        gsm(i) if t == "gsm" else lte(i, bandwidth_mhz=5.0, dl_frequency_mhz=1807.5 + 5 * i)
        for i, t in enumerate(techs)
    ]
    nodes = 6
    dl = np.array(
        draw(
            st.lists(
                st.lists(st.floats(90, 175), min_size=nodes, max_size=nodes), min_size=n, max_size=n
            )
        )
    )
    ul_extra = np.array(
        draw(
            st.lists(
                st.lists(st.floats(-5, 15), min_size=nodes, max_size=nodes), min_size=n, max_size=n
            )
        )
    )
    d = np.array(
        draw(
            st.lists(
                st.lists(st.floats(100, 60e3), min_size=nodes, max_size=nodes),
                min_size=n,
                max_size=n,
            )
        )
    )
    return sites, dl, dl + ul_extra, d


@settings(max_examples=60, deadline=None)
@given(networks())
def test_adding_a_site_never_lowers_service(net):
    # distinct channels (interference-free): a site added to n-1 others never lowers a level
    sites, dl, ul, d = net
    full = link_budget(sites, HANDSET, PROFILES, dl, ul, d)
    for drop in range(len(sites)):
        keep = [i for i in range(len(sites)) if i != drop]
        part = link_budget([sites[i] for i in keep], HANDSET, PROFILES, dl[keep], ul[keep], d[keep])
        assert np.all(full.service_level >= part.service_level)
    with_p = link_budget(sites, HANDSET, PROFILES, dl, ul, d, location_sigma_db=8.0)
    # P(level) is at least 1/2 where the level closes, and ordered sms >= voice >= data
    for k, lv in enumerate(("sms", "voice", "data"), start=1):
        p = with_p.probability[lv]
        assert np.all(p[full.service_level >= k] >= 0.5 - 1e-6)
    assert np.all(with_p.probability["sms"] >= with_p.probability["voice"] - 1e-6)
    assert np.all(with_p.probability["voice"] >= with_p.probability["data"] - 1e-6)


def _margin_by_hand(site, pl_db, level):
    """Smallest margin of a level and the lower ones, LTE, interference-free, from the
    textbook formulas (kT0 = -173.98 dBm/Hz)."""
    kt = 10 * math.log10(1.380649e-23 * 290 * 1e3)
    p_dl = site.eirp_dbm - pl_db - 3.0
    rsrp = p_dl - 10 * math.log10(1200)
    sinr_dl = p_dl - (kt + 10 * math.log10(18e6) + 9.0)
    p_ul = 23 - 3 - pl_db + site.antenna_gain_dbi - site.feeder_loss_db + 3.0
    sinr_ul = p_ul - (kt + 10 * math.log10(0.36e6) + 5.0)
    prof = PROFILES[Technology.LTE]
    ms = []
    for svc in (Service.SMS, Service.VOICE, Service.DATA)[:level]:
        th = prof.thresholds(svc)
        ms += [rsrp - th.dl_min_power_dbm, sinr_dl - th.dl_min_sinr_db, sinr_ul - th.ul_min_sinr_db]
    return min(ms)


@pytest.mark.parametrize("pl_db", [120.0, 140.0, 150.0, 156.0, 162.0])
@pytest.mark.parametrize("sigma", [4.0, 8.0])
def test_probability_single_site_is_phi_of_margin_over_sigma(pl_db, sigma):
    s = lte(0)
    pl = np.array([[pl_db]])
    out = link_budget([s], HANDSET, PROFILES, pl, pl, np.array([[5e3]]), location_sigma_db=sigma)
    for level, key in ((1, "sms"), (2, "voice"), (3, "data")):
        m = _margin_by_hand(s, pl_db, level)
        assert out.probability[key][0] == pytest.approx(norm.cdf(m / sigma), abs=1e-6)


def test_probability_of_two_masts_and_two_sectors():
    # two independent masts: 1 - (1 - p1)(1 - p2); two sectors of one mast: the better one
    a, b = lte(0), lte(1)
    a2 = lte(0, id="L0b", dl_frequency_mhz=1835.0)  # same mast as a, another carrier
    pl = np.array([[157.0], [158.0], [159.0]])
    d = np.full((3, 1), 5e3)
    one = [
        link_budget(
            [x],
            HANDSET,
            PROFILES,
            pl[i : i + 1],
            pl[i : i + 1],
            d[i : i + 1],
            location_sigma_db=8.0,
        ).probability["sms"][0]
        for i, x in enumerate((a, b, a2))
    ]
    both = link_budget([a, b, a2], HANDSET, PROFILES, pl, pl, d, location_sigma_db=8.0)
    expect = 1 - (1 - max(one[0], one[2])) * (1 - one[1])
    assert both.probability["sms"][0] == pytest.approx(expect, abs=1e-6)
    assert 0.05 < one[1] < 0.95  # the case is not degenerate
    # sigma 0: the deterministic answer
    det = link_budget([a, b, a2], HANDSET, PROFILES, pl, pl, d, location_sigma_db=0.0)
    assert det.probability["sms"][0] == float(det.service_level[0] >= 1)
