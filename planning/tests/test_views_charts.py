"""The server-rendered SVG charts: valid SVG with a title, a description, axes with tick labels
and a legend; variance bands carry text and patterns, not only colour."""
import xml.etree.ElementTree as ET

import pytest

from planning import charts

SVG = "{http://www.w3.org/2000/svg}"


def weekly(n=12):
    return [{"week": i + 1, "units": 700 + 50 * i, "lower": 600 + 40 * i, "upper": 800 + 60 * i}
            for i in range(n)]


def texts(root):
    return [t.text for t in root.iter(f"{SVG}text")]


def test_nice_ticks_cover_the_maximum_with_round_steps():
    assert charts.nice_ticks(953) == [0, 200, 400, 600, 800, 1000]
    assert charts.nice_ticks(8200) == [0, 2000, 4000, 6000, 8000, 10000]
    assert charts.nice_ticks(0) == [0.0, 1.0]


def test_forecast_chart_is_valid_svg_with_title_axes_band_and_legend():
    root = ET.fromstring(charts.forecast_chart(weekly(), title="Weekly forecast"))
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "Weekly forecast"
    assert "11,700 units forecast in total" in root.find(f"{SVG}desc").text
    labels = texts(root)
    assert "W1" in labels and "W12" in labels  # x ticks
    assert "0" in labels and "1.5k" in labels  # y ticks
    assert "Units per week" in labels and "Season week" in labels  # axis titles
    assert "Forecast" in labels and "80% interval" in labels  # legend
    paths = {p.get("class") for p in root.iter(f"{SVG}path")}
    assert {"interval", "forecast-line"} <= paths
    assert len(root.findall(f".//{SVG}circle")) == 12


def test_forecast_chart_draws_actuals_and_the_original_forecast():
    root = ET.fromstring(charts.forecast_chart(weekly(), actual=[710, 790, None], original=[650] * 12))
    bars = root.findall(f".//{SVG}g[@class='actual-bars']/{SVG}rect")
    assert len(bars) == 2
    assert bars[0].find(f"{SVG}title").text == "Week 1: actual 710 units"
    assert "Actual units" in texts(root) and "Original forecast" in texts(root)


def test_variance_chart_labels_each_checked_week_with_text_and_a_pattern():
    weeks = [
        {"week": 1, "forecast": 1000, "actual": 1010, "band": "green", "signed_variance": 0.01},
        {"week": 2, "forecast": 1000, "actual": 1150, "band": "amber", "signed_variance": 0.08},
        {"week": 3, "forecast": 1000, "actual": 1600, "band": "red", "signed_variance": 0.255},
        {"week": 4, "forecast": 1000, "actual": None, "band": None, "signed_variance": None},
    ]
    root = ET.fromstring(charts.variance_chart(weeks, chart_id="v"))
    labels = texts(root)
    assert "+26%" in labels and "re-forecast" in labels and "on track" in labels
    assert "Re-forecast (> 20%)" in labels and "Elevated (10–20%)" in labels
    bars = root.findall(f".//{SVG}g[@class='actual-bars']/{SVG}rect")
    assert [b.get("fill") for b in bars] == ["url(#v-green)", "url(#v-amber)", "url(#v-red)"]
    assert {p.get("id") for p in root.iter(f"{SVG}pattern")} >= {"v-green", "v-amber", "v-red"}
    assert "cumulative variance +25.5%, re-forecast" in bars[2].find(f"{SVG}title").text
    assert "after week 3: +25.5% (re-forecast)" in root.find(f"{SVG}desc").text


@pytest.mark.parametrize("chart", [charts.forecast_chart, charts.variance_chart])
def test_empty_charts_say_so(chart):
    root = ET.fromstring(chart([]))
    assert root.find(f"{SVG}title").text
    assert any("No " in (t or "") for t in texts(root))


def test_chart_text_is_escaped():
    svg = charts.forecast_chart(weekly(), title='<script>alert("x")</script> & co')
    assert "<script>" not in svg
    assert ET.fromstring(svg).find(f"{SVG}title").text == '<script>alert("x")</script> & co'
