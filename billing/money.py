"""Decimal arithmetic of money and time, in one place so every figure uses the same rules.

- Amounts are ``Decimal`` from the cloud's text to the database and back; nothing here touches
  a float.
- A month is 730 hours (365 x 24 / 12), for subscriptions spread over their term, monthly
  estimates and break-even figures alike; a week is 168 hours, a year 8,760.
- Costs are prorated per second: ``hourly rate x seconds / 3600``, kept at 10 decimal places in
  the ledger and rounded to cents only when shown.
- Days and months are those of ``NESTOPS_BILLING_TIME_ZONE``.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

HOURS_PER_MONTH = Decimal(730)
HOURS_PER_WEEK = Decimal(168)
HOURS_PER_YEAR = Decimal(8760)
SECONDS_PER_HOUR = Decimal(3600)
# Weeks in an average month: 365 / 12 / 7, kept as a fraction so 24 h x 7 d gives 730 h exactly.
WEEKS_PER_MONTH_NUMERATOR = Decimal(365)
WEEKS_PER_MONTH_DENOMINATOR = Decimal(84)

LEDGER_PLACES = Decimal("0.0000000001")
CENT = Decimal("0.01")
RATE_PLACES = Decimal("0.0001")


def ledger(value: Decimal) -> Decimal:
    """What the ledger stores: 10 decimal places, enough that rounding never reaches a cent."""
    return value.quantize(LEDGER_PLACES, rounding=ROUND_HALF_UP)


def cents(value: Decimal | None) -> str | None:
    """An amount as people read it, to the cent (display only)."""
    if value is None:
        return None
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def rate_text(value: Decimal | None) -> str | None:
    """An hourly rate as shown: four decimal places (disk prices are fractions of a cent)."""
    if value is None:
        return None
    return str(value.quantize(RATE_PLACES, rounding=ROUND_HALF_UP))


def seconds_between(start: datetime, end: datetime) -> Decimal:
    """Exact elapsed seconds (microseconds included), never negative."""
    delta = end - start
    if delta <= timedelta(0):
        return Decimal(0)
    whole = delta.days * 86400 + delta.seconds
    return Decimal(whole) + Decimal(delta.microseconds) / Decimal(1_000_000)


def prorate(hourly_rate: Decimal | None, seconds: Decimal) -> Decimal | None:
    """The cost of ``seconds`` at ``hourly_rate``; None when the rate is unknown."""
    if hourly_rate is None:
        return None
    return ledger(hourly_rate * seconds / SECONDS_PER_HOUR)


def hours_in_period(period: int, unit: str) -> Decimal:
    """Hours of a subscription period: 730 a month, 168 a week, 8,760 a year."""
    per_unit = {"Month": HOURS_PER_MONTH, "Week": HOURS_PER_WEEK, "Year": HOURS_PER_YEAR}[unit]
    return per_unit * period


def months_in_period(period: int, unit: str) -> Decimal:
    return hours_in_period(period, unit) / HOURS_PER_MONTH


def monthly_hours(hours_per_day: Decimal, days_per_week: Decimal) -> Decimal:
    """Hours a month of a weekly habit (24 h x 7 d = 730 h)."""
    return hours_per_day * days_per_week * WEEKS_PER_MONTH_NUMERATOR / WEEKS_PER_MONTH_DENOMINATOR


# --- billing days ------------------------------------------------------------------------------


def billing_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.NESTOPS_BILLING_TIME_ZONE)


def billing_day(moment: datetime) -> date:
    """The billing day a moment belongs to."""
    return moment.astimezone(billing_zone()).date()


def day_start(day: date) -> datetime:
    """The first moment of a billing day, in UTC."""
    return datetime.combine(day, time.min, tzinfo=billing_zone()).astimezone(UTC)


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def split_by_day(start: datetime, end: datetime) -> Iterator[tuple[date, datetime, datetime]]:
    """[start, end) cut at billing midnights: (day, segment start, segment end)."""
    current = start
    while current < end:
        day = billing_day(current)
        boundary = day_start(day + timedelta(days=1))
        segment_end = min(boundary, end)
        yield day, current, segment_end
        current = segment_end


# What Alibaba Cloud bills in: CNY on the China site, USD on the international one.
CLOUD_CURRENCIES = ("CNY", "USD")
