"""Price quotes from cloudsim's DescribePrice: components, periods, TTL, failures, the job."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from billing import quotes
from billing.models import PriceQuote
from billing.services import refresh_prices
from tests.billing.helpers import (
    BANDWIDTH_MBPS_MONTH,
    DISK_HOUR,
    ESSD_GB_MONTH,
    HOURLY,
    MONTHLY,
    clock,
)
from tests.factories import make_instance

pytestmark = pytest.mark.django_db

TYPE = "ecs.gn7i-c8g1.2xlarge"


def key(**overrides) -> quotes.QuoteKey:
    values = {
        "region": "cn-hangzhou",
        "zone": "cn-hangzhou-i",
        "instance_type": TYPE,
        "charge_type": "PostPaid",
        **overrides,
    }
    return quotes.key_for(**values)


def test_it_keeps_the_hourly_components_apart(sim) -> None:
    quote = quotes.refresh(key())
    assert quote.currency == "CNY" and quote.error == ""
    assert quote.instance_price == HOURLY[TYPE]
    assert quote.system_disk_price == DISK_HOUR
    assert quote.bandwidth_price == Decimal("1.25")
    assert quote.trade_price == HOURLY[TYPE] + DISK_HOUR + Decimal("1.25")
    hourly = quotes.hourly(quote)
    assert hourly is not None and hourly.total == Decimal("19.05")


def test_a_month_a_few_months_and_a_year_of_subscription(sim) -> None:
    month_price = MONTHLY[TYPE] + 200 * ESSD_GB_MONTH + 10 * BANDWIDTH_MBPS_MONTH  # 7,360
    one = quotes.refresh(key(charge_type="PrePaid", period=1, period_unit="Month"))
    assert (one.price_unit, one.period, one.trade_price) == ("Month", 1, month_price)
    three = quotes.refresh(key(charge_type="PrePaid", period=3, period_unit="Month"))
    assert three.trade_price == 3 * month_price
    # Twelve months are priced as a year: charged as 10 months (cloudsim's rule 1001).
    year = quotes.refresh(key(charge_type="PrePaid", period=12, period_unit="Month"))
    assert (year.price_unit, year.period) == ("Year", 1)
    assert year.trade_price == 10 * month_price
    assert year.original_price == 12 * month_price
    assert year.rules and year.rules[0]["id"] == "1001"
    # Spread over its 8,760 hours.
    assert quotes.hourly(year).total == 10 * month_price / 8760


def test_a_quote_goes_stale_after_its_ttl(sim, settings) -> None:
    settings.NESTOPS_PRICE_TTL_SECONDS = 600
    with clock(datetime(2026, 6, 1, 12, 0)) as traveller:
        quote = quotes.refresh(key())
        assert not quote.is_stale()
        traveller.shift(601)
        assert quote.is_stale()
        assert quotes.current(key()).fetched_at == datetime(2026, 6, 1, 12, 10, 1, tzinfo=UTC)


def test_a_failed_refresh_keeps_the_last_prices_and_says_why(sim) -> None:
    first = quotes.refresh(key())
    sim.set_faults(action="DescribePrice", code="InternalError", http_status=500, count=5)
    failed = quotes.refresh(key())
    assert failed.pk == first.pk
    assert failed.trade_price == first.trade_price and failed.fetched_at == first.fetched_at
    assert failed.error.startswith("InternalError")
    assert failed.attempted_at > failed.fetched_at


def test_a_price_never_known_stays_unknown_rather_than_zero(sim) -> None:
    sim.set_faults(action="DescribePrice", code="Forbidden.RAM", http_status=403, count=1)
    quote = quotes.refresh(key(zone="cn-hangzhou-h"))
    assert not quote.has_prices and quote.trade_price is None
    assert quotes.hourly(quote) is None
    assert "Forbidden.RAM" in quote.error


def test_the_price_job_refreshes_what_instances_use_once_per_half_ttl(sim, team) -> None:
    make_instance(team, zone="cn-hangzhou-i", instance_type=TYPE)
    make_instance(team, zone="cn-hangzhou-i", instance_type=TYPE)
    make_instance(team, zone="cn-hangzhou-i", instance_type="ecs.gn6i-c4g1.xlarge")
    make_instance(
        team,
        zone="cn-hangzhou-i",
        instance_type=TYPE,
        charge_type="PrePaid",
        period=2,
        period_unit="Month",
    )
    make_instance(team, status="deleted", instance_type="ecs.gn7i-c16g1.4xlarge")
    with clock(datetime(2026, 6, 2, 0, 0)) as traveller:
        sim.reset_calls()
        first = refresh_prices()
        assert (first.keys, first.describe_price_calls, first.failed) == (3, 3, [])
        assert sim.calls().get("Ecs.DescribePrice") == 3
        assert PriceQuote.objects.count() == 3
        # Every live instance now has an open interval on a fresh price.
        assert first.repriced == 4
        traveller.shift(1700)
        assert refresh_prices().describe_price_calls == 0
        traveller.shift(200)  # past half of the one-hour TTL
        assert refresh_prices().describe_price_calls == 3
