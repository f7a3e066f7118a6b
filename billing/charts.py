"""Daily cost charts drawn on the server as SVG (``nestops.charts``), readable without colour
(each series also has a pattern-free legend and the page shows the same figures in a table).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_CEILING, Decimal

from django.utils.formats import date_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from nestops.charts import Svg

# Colour-blind safe (Okabe-Ito), then grey for the hosts folded into "other hosts".
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000")
OTHER = "#9aa3ad"
MAX_SERIES = len(PALETTE)

WIDTH, HEIGHT = 720, 274
LEFT, RIGHT, TOP, BOTTOM = 56, 8, 26, 28


@dataclass
class Series:
    label: str
    values: dict[date, Decimal] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return sum(self.values.values(), Decimal(0))


@dataclass
class DailyChart:
    """Stacked daily bars of one currency, one series per host (the largest first)."""

    days: list[date]
    currency: str
    series: list[Series]
    colours: list[str]

    @property
    def day_totals(self) -> list[Decimal]:
        return [
            sum((s.values.get(d, Decimal(0)) for s in self.series), Decimal(0)) for d in self.days
        ]

    @property
    def legend(self) -> list[tuple[str, str, Decimal]]:
        return [(s.label, c, s.total) for s, c in zip(self.series, self.colours, strict=True)]


def daily_chart(
    days: Sequence[date], currency: str, per_series: dict[str, dict[date, Decimal]]
) -> DailyChart:
    """Orders hosts by cost and folds all but the largest few into one "other hosts" series."""
    ranked = sorted(
        (Series(label, dict(values)) for label, values in per_series.items()),
        key=lambda s: (-s.total, s.label),
    )
    shown = ranked[: MAX_SERIES - 1] if len(ranked) > MAX_SERIES else ranked
    colours = list(PALETTE[: len(shown)])
    if len(ranked) > len(shown):
        other = Series(_("other hosts"))
        for rest in ranked[len(shown) :]:
            for day, value in rest.values.items():
                other.values[day] = other.values.get(day, Decimal(0)) + value
        shown.append(other)
        colours.append(OTHER)
    return DailyChart(days=list(days), currency=currency, series=shown, colours=colours)


def _nice_ceiling(value: Decimal) -> Decimal:
    """The axis top: 1, 2 or 5 times a power of ten, at or above ``value``."""
    if value <= 0:
        return Decimal(1)
    exponent = value.adjusted()
    for step in (Decimal(1), Decimal(2), Decimal(5), Decimal(10)):
        top = step.scaleb(exponent)
        if top >= value:
            return top
    return Decimal(10).scaleb(exponent)  # pragma: no cover (10 x 10^e always covers)


def _amount(value: Decimal) -> str:
    if value >= 100:
        return f"{value.quantize(Decimal(1), rounding=ROUND_CEILING):,}"
    return f"{value.normalize():f}"


def render_svg(chart: DailyChart, *, title: str) -> SafeString:
    """The chart as an accessible inline SVG (``role="img"`` with a title and a description)."""
    plot_h = HEIGHT - TOP - BOTTOM
    totals = chart.day_totals
    top = _nice_ceiling(max(totals, default=Decimal(0)))
    total = sum(totals, Decimal(0))
    svg = Svg(
        "cost-chart",
        (WIDTH, HEIGHT),
        role="img",
        aria_labelledby="chart-title chart-desc",
        xmlns="http://www.w3.org/2000/svg",
    )
    svg.add("title", title, id="chart-title")
    svg.add(
        "desc",
        _("%(days)s days, %(total)s %(currency)s in all; the table below has every figure.")
        % {"days": len(chart.days), "total": f"{total:.2f}", "currency": chart.currency},
        id="chart-desc",
    )
    for step in range(5):  # gridlines and amounts at 0, 1/4, ... of the axis
        value = top * step / 4
        y = TOP + plot_h - float(value / top) * plot_h
        svg.add("line", x1=LEFT, y1=y, x2=WIDTH - RIGHT, y2=y, css_class="grid")
        svg.add("text", _amount(value), x=LEFT - 6, y=y + 4, css_class="axis", text_anchor="end")
    # The axis says what its numbers are.
    svg.add(
        "text",
        _("%(currency)s per day") % {"currency": chart.currency},
        x=4,
        y=12,
        css_class="axis",
        text_anchor="start",
    )
    _draw_bars(svg, chart, top)
    return svg.render()


def _draw_bars(svg: Svg, chart: DailyChart, top: Decimal) -> None:
    """One stacked bar a day, a tooltip on each part, a date under every few bars."""
    plot_h = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(len(chart.days), 1)
    bar_w = max(slot * 0.72, 1.0)
    label_every = max(1, round(len(chart.days) / 8))
    for index, day in enumerate(chart.days):
        x = LEFT + index * slot + (slot - bar_w) / 2
        base = TOP + plot_h
        for series, colour in zip(chart.series, chart.colours, strict=True):
            value = series.values.get(day, Decimal(0))
            if value <= 0:
                continue
            height = float(value / top) * plot_h
            base -= height
            tooltip = f"{series.label}, {date_format(day, 'SHORT_DATE_FORMAT')}: {value:.2f}"
            svg.add(
                "rect",
                x=x,
                y=base,
                width=bar_w,
                height=height,
                fill=colour,
                tooltip=f"{tooltip} {chart.currency}",
            )
        if index % label_every == 0:
            svg.add(
                "text",
                # Translators: a Django date format for the chart's days, e.g. "Dec 4".
                date_format(day, _("M j")),
                x=x + bar_w / 2,
                y=HEIGHT - 8,
                css_class="axis",
                text_anchor="middle",
            )
