"""Charts drawn on the server as inline SVG, for every page that shows one: no script, no CDN,
nothing to load. ``Svg`` assembles a drawing from elements whose attributes and texts are all
escaped here, so a chart is safe markup whatever labels it carries; ``line_chart`` is the small
metrics chart (averages as a line, maxima as a faint one), ``billing.charts`` draws stacked bars.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


def _attribute_name(name: str) -> str:
    return "class" if name == "css_class" else name.replace("_", "-")


def _attribute_value(value: Any) -> str:
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def _attributes(attributes: dict[str, Any]) -> str:
    return "".join(
        f' {_attribute_name(name)}="{escape(_attribute_value(value))}"'
        for name, value in attributes.items()
        if value is not None
    )


class Svg:
    """An SVG drawing built element by element. Attribute names are given as Python names
    (``css_class`` for ``class``, ``aria_label`` for ``aria-label``); floats are written with
    one decimal; every attribute value and text is escaped."""

    def __init__(self, css_class: str, view_box: tuple[int, int], **attributes: Any) -> None:
        width, height = view_box
        opening = {"css_class": css_class, "viewBox": f"0 0 {width} {height}", **attributes}
        self.parts = [f"<svg{_attributes(opening)}>"]

    def add(
        self, tag: str, text: str | None = None, *, tooltip: str | None = None, **attributes: Any
    ) -> None:
        """One element: empty, with a text, or with a ``tooltip`` (a ``<title>`` inside)."""
        opening = f"<{tag}{_attributes(attributes)}"
        if tooltip is not None:
            self.parts.append(f"{opening}><title>{escape(tooltip)}</title></{tag}>")
        elif text is not None:
            self.parts.append(f"{opening}>{escape(text)}</{tag}>")
        else:
            self.parts.append(f"{opening}/>")

    def render(self) -> SafeString:
        return mark_safe("".join(self.parts) + "</svg>")  # every part went through escape()


def points_text(points: Sequence[tuple[float, float]], width: int, height: int) -> str:
    """Points given as fractions of the plot (x from the left, y from the bottom; y is clipped
    to 0..1) as a ``points`` attribute in the drawing's units."""
    return " ".join(
        f"{x * width:.1f},{height - min(max(y, 0.0), 1.0) * height:.1f}" for x, y in points
    )


def line_chart(
    lines: Sequence[tuple[str, Sequence[tuple[float, float]]]],
    *,
    size: tuple[int, int],
    label: str,
    scale: str,
) -> SafeString:
    """A small line chart stretched to the page's width: a base line, one polyline per
    ``(css class, points)`` in drawing order, and the top of the scale written in a corner."""
    width, height = size
    svg = Svg(
        "chart",
        size,
        width="100%",
        height=height,
        role="img",
        aria_label=label,
        preserveAspectRatio="none",
    )
    svg.add("line", x1=0, y1=height, x2=width, y2=height, css_class="axis")
    for css_class, points in lines:
        svg.add("polyline", points=points_text(points, width, height), css_class=css_class)
    svg.add("text", scale, x=2, y=11, css_class="tick")
    return svg.render()
