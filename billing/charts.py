"""Daily cost charts drawn on the server as SVG: no script, no CDN, readable without colour
(each series also has a pattern-free legend and the page shows the same figures in a table).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_CEILING, Decimal

from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

# Colour-blind safe (Okabe-Ito), then grey for the hosts folded into "other hosts".
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000")
OTHER = "#9aa3ad"
MAX_SERIES = len(PALETTE)

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 8, 12, 28


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
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    totals = chart.day_totals
    top = _nice_ceiling(max(totals, default=Decimal(0)))
    slot = plot_w / max(len(chart.days), 1)
    bar_w = max(slot * 0.72, 1.0)
    total = sum(totals, Decimal(0))
    parts = [
        f'<svg class="cost-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-title">{escape(title)}</title>',
        '<desc id="chart-desc">'
        + escape(
            _("%(days)s days, %(total)s %(currency)s in all; the table below has every figure.")
            % {"days": len(chart.days), "total": f"{total:.2f}", "currency": chart.currency}
        )
        + "</desc>",
    ]
    for step in range(5):  # gridlines and amounts at 0, 1/4, ... of the axis
        value = top * step / 4
        y = TOP + plot_h - float(value / top) * plot_h
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" class="axis" text-anchor="end">'
            f"{escape(_amount(value))}</text>"
        )
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
            parts.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar_w:.1f}" height="{height:.1f}" '
                f'fill="{colour}"><title>{escape(tooltip)} {escape(chart.currency)}</title></rect>'
            )
        if index % label_every == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{HEIGHT - 8}" class="axis" '
                f'text-anchor="middle">{escape(date_format(day, "n/j"))}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text in it went through escape()
