import json
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from yalu.analysis.reach import CensusRow  # noqa: E402
from yalu.analysis.sanity import assess  # noqa: E402
from yalu.analysis.settlements import Settlements  # noqa: E402
from yalu.errors import OutputExistsError  # noqa: E402
from yalu.io.report import write_report_html, write_report_md  # noqa: E402
from yalu.io.summary import make_summary, round_floats, summary_text, write_summary  # noqa: E402


def _reach():
    from yalu.analysis.area import border_regions
    from yalu.analysis.reach import population_reach
    from yalu.geodesy.grid import Grid

    g = Grid(north_deg=41.6, west_deg=127.9, dlat_deg=0.05, dlon_deg=0.05, n_rows=8, n_cols=10)
    lv = np.zeros(g.shape, np.int8)
    lv[:, :8] = 2  # Hyesan (column 6) has voice, Nowhere (column 8) none
    s = Settlements.from_records(
        [
            dict(
                geonameid=2043837,
                name="Hyesan",
                country="KP",
                admin1_code="13",
                lat_deg=41.40167,
                lon_deg=128.17778,
                population=192680,
            ),
            dict(
                geonameid=1,
                name="Nowhere",
                country="KP",
                admin1_code="13",
                lat_deg=41.5,
                lon_deg=128.3,
                population=0,
            ),
        ]
    )
    return population_reach(
        lv, g, s, border_regions(), census=[CensusRow("Ryanggang", ("KP.13",), 719269)]
    )


@pytest.fixture
def summary():
    r = _reach().to_dict()
    sanity = {
        "country": "KP",
        "reach_into": {
            "sms": {
                "max_km": 12.3456789,
                "p50_km": 2.0,
                "p95_km": 9.0,
                "nodes": 40,
                "served_share_by_band": {"0-5": 0.8, "40-60": None},
            }
        },
        "jammer_escape": [{"name": "Hyesan", "jammed_km": 14.2, "unjammed_km": 0.5}],
    }
    sanity["assessment"] = assess(sanity)
    return make_summary(
        scenario={"name": "unit <test>", "description": "a & b"},
        inputs={
            "terrain": {
                "source": "embedded",
                "resolution_arcsec": 300.0,
                "coarse": True,
                "description": "embedded ETOPO5",
            },
            "analysis_area": "box",
            "scenario_hash": "ab" * 32,
            "yalu_version": "0.1.0",
        },
        variants={
            "jam": {
                "description": "with jammers",
                "settings": {"jammers": True},
                "reach": r,
                "sanity": sanity,
            },
            "free": {
                "description": "no jammers",
                "settings": {"jammers": False},
                "reach": r,
                "sanity": {},
            },
        },
        primary="jam",
        assumptions={
            "sites": [
                {
                    "id": "changbai",
                    "name": "Changbai",
                    "lat_deg": 41.41772,
                    "lon_deg": 128.19624,
                    "height_m": 40.0,
                    "assumption": "typical tower",
                    "carriers": [
                        {
                            "technology": "lte",
                            "band": "B3",
                            "tx_power_dbm": 46.0,
                            "antenna_gain_dbi": 17.0,
                            "azimuths_deg": [0, 120, 240],
                        }
                    ],
                }
            ],
            "jammers": [
                {
                    "id": "hyesan",
                    "name": "Hyesan",
                    "lat_deg": 41.4,
                    "lon_deg": 128.18,
                    "height_m": 20.0,
                    "eirp_dbm": 57.0,
                    "bands_mhz": [[925, 960]],
                    "duty_factor": 1.0,
                    "assumption": "guess",
                }
            ],
            "restricted_zones": [{"label": "Hyesan monument", "illustrative": True}],
            "propagation": {"model": "itm", "time_pct": 50.0},
        },
        timings_s={"total": 1.23456},
    )


@pytest.fixture
def png(tmp_path):
    p = tmp_path / "maps" / "service.png"
    p.parent.mkdir()
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.imshow(np.arange(16).reshape(4, 4))
    fig.savefig(p)
    plt.close(fig)
    return p


def test_html_is_self_contained(tmp_path, summary, png):
    out = write_report_html(tmp_path / "report.html", summary, {"jam": {"service level": png}})
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert not re.search(r"(?i)\b(?:https?|ftp)://", text)
    assert not re.search(r"""(?i)(?:src|href)\s*=\s*["'](?!data:)""", text)
    assert not re.search(r"(?i)url\((?!data:)", text)
    assert "<script" not in text and "<link" not in text
    imgs = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert len(imgs) == 1
    import base64

    assert base64.b64decode(imgs[0]) == png.read_bytes()
    # escaped user text, warning, sanity, assumptions, census coverage
    assert "unit &lt;test&gt;" in text and "a &amp; b" in text
    assert "COARSE TERRAIN" in text
    assert "Sanity" in text and "AGREES" in text
    assert "40 m (assumption)" in text and "57 dBm (assumption)" in text
    assert "ILLUSTRATIVE" in text
    assert "the settlement list holds 27%" in text  # 192680 / 719269
    with pytest.raises(OutputExistsError):
        write_report_html(tmp_path / "report.html", summary)


def test_markdown_links_maps_relatively(tmp_path, summary, png):
    out = write_report_md(tmp_path / "report.md", summary, {"jam": {"service level": png}})
    text = out.read_text(encoding="utf-8")
    assert "![jam: service level](maps/service.png)" in text
    assert "| KP | Ryanggang | 192,680 | 192,680 | 192,680 | 0 |" in text
    assert "## Sanity" in text and "## Variants" in text


def test_summary_schema_and_determinism(tmp_path, summary):
    assert summary["population_within_reach"] == {
        "KP": {"Ryanggang": {"sms": 192680, "voice": 192680, "data": 0}}
    }
    assert set(summary["area_km2"]["KP"]) == {"sms", "voice", "data"}
    s0 = summary["settlements"][0]
    assert {"name", "country", "province", "population", "service_level", "best_site"} <= set(s0)
    assert summary["variants"]["free"]["service_by_settlement"]["2043837"] == "voice"
    assert summary["inputs"]["scenario_hash"] == "ab" * 32
    # rounded to 6 significant digits
    assert summary["variants"]["jam"]["sanity"]["reach_into"]["sms"]["max_km"] == 12.3457
    p = write_summary(tmp_path / "summary.json", summary)
    text = p.read_text(encoding="utf-8")
    assert text == summary_text(json.loads(text))  # sorted keys, stable formatting
    assert round_floats({"a": float("nan"), "b": np.float32(1.23456789)}) == {
        "a": None,
        "b": 1.23457,
    }
