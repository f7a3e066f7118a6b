"""Template filters for amounts: cents for money, up to four places for hourly rates."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils import timezone

from billing import money
from billing.selectors import instance_cost

register = template.Library()


@register.filter
def cents(value: Any) -> str:
    """12.345 -> "12.35"; empty for an unknown amount (never shown as 0)."""
    if value is None or value == "":
        return ""
    return money.cents(Decimal(value)) or ""


@register.filter
def rate(value: Any) -> str:
    """An hourly rate with two to four decimal places: 9.95, 0.30, 5.1507."""
    if value is None or value == "":
        return ""
    text = money.rate_text(Decimal(value)) or ""
    whole, _dot, fraction = text.partition(".")
    fraction = fraction.rstrip("0")
    return f"{whole}.{fraction.ljust(2, '0')}"


@register.filter
def hours(seconds: Any) -> str:
    if seconds is None:
        return ""
    return str((Decimal(seconds) / money.SECONDS_PER_HOUR).quantize(Decimal("0.1")))


@register.simple_tag(takes_context=True)
def cost_of(context: Any, instance: Any) -> Any:
    """Cost so far of an instance the list annotated (``billing.selectors.with_costs``); one
    clock for the whole page."""
    now = context.get("billing_now")
    if now is None:
        now = context["billing_now"] = timezone.now()
    return instance_cost(instance, now)
