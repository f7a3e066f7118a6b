"""The server-drawn SVG charts every page uses (nestops.charts)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal

from billing import charts as billing_charts
from nestops.charts import Svg, line_chart, points_text

SVG = "{http://www.w3.org/2000/svg}"


def test_every_attribute_and_text_is_escaped() -> None:
    svg = Svg("chart", (10, 10), aria_label='"><script>')
    svg.add("text", "<b>&</b>", x=1.25, y=2, css_class="tick", text_anchor="end")
    svg.add("rect", x=0, y=0, width=1, height=1, fill="#000", tooltip="a < b")
    markup = str(svg.render())
    assert "<script>" not in markup and "<b>" not in markup
    root = ET.fromstring(markup)
    assert root.get("aria-label") == '"><script>' and root.get("viewBox") == "0 0 10 10"
    text, rect = list(root)
    assert text.text == "<b>&</b>"
    assert text.attrib == {"x": "1.2", "y": "2", "class": "tick", "text-anchor": "end"}
    assert rect.find("title").text == "a < b"


def test_points_are_fractions_of_the_plot_with_y_clipped() -> None:
    assert points_text([(0.0, 0.0), (0.5, 0.5), (1.0, 2.0), (1.0, -1.0)], 200, 100) == (
        "0.0,100.0 100.0,50.0 200.0,0.0 200.0,100.0"
    )


def test_a_line_chart_has_a_base_line_its_lines_in_order_and_its_scale() -> None:
    markup = line_chart(
        [("max", [(0.0, 0.9), (1.0, 1.0)]), ("avg", [(0.0, 0.1), (1.0, 0.5)])],
        size=(560, 110),
        label="GPU utilisation",
        scale="100 %",
    )
    root = ET.fromstring(str(markup))
    assert root.get("class") == "chart" and root.get("role") == "img"
    assert root.get("aria-label") == "GPU utilisation"
    assert root.get("preserveAspectRatio") == "none" and root.get("height") == "110"
    axis, maximum, average, scale = list(root)
    assert axis.tag == "line" and axis.get("y1") == axis.get("y2") == "110"
    assert (maximum.get("class"), maximum.get("points")) == ("max", "0.0,11.0 560.0,0.0")
    assert (average.get("class"), average.get("points")) == ("avg", "0.0,99.0 560.0,55.0")
    assert scale.text == "100 %"


def test_the_cost_chart_is_drawn_with_it() -> None:
    days = [date(2026, 11, 1), date(2026, 11, 2)]
    chart = billing_charts.daily_chart(
        days, "CNY", {"<host>": {days[0]: Decimal("3.5"), days[1]: Decimal("1")}}
    )
    root = ET.fromstring(str(billing_charts.render_svg(chart, title="Costs & more")))
    assert root.get("class") == "cost-chart"
    assert root.find(f"{SVG}title").text == "Costs & more"
    bars = root.findall(f"{SVG}rect")
    assert len(bars) == 2
    assert bars[0].find(f"{SVG}title").text.startswith("<host>, ")
    # The axis tops at 5 (1, 2 or 5 times a power of ten); the plot is 220 units high.
    assert [float(b.get("height")) for b in bars] == [3.5 / 5 * 220, 1 / 5 * 220]


def test_the_cost_charts_axes_say_their_unit_and_dates_in_the_pages_language() -> None:
    from django.utils import translation

    days = [date(2026, 11, 30), date(2026, 12, 1)]
    chart = billing_charts.daily_chart(days, "CNY", {"h": {days[0]: Decimal("2")}})
    texts = [
        t.text
        for t in ET.fromstring(str(billing_charts.render_svg(chart, title="t"))).iter(f"{SVG}text")
    ]
    assert "CNY per day" in texts and "Nov 30" in texts
    with translation.override("zh-hans"):
        chinese = [
            t.text
            for t in ET.fromstring(str(billing_charts.render_svg(chart, title="t"))).iter(
                f"{SVG}text"
            )
        ]
    assert "11月30日" in chinese
