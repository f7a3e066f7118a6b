"""Price quotes: DescribePrice answers cached in ``PriceQuote`` rows.

``refresh()`` asks the cloud (never inside a transaction); ``cached()`` only reads the table, so
the ledger can take a rate while an instance row is locked. A failed refresh keeps the last
prices and records the error; nothing here ever turns an unknown price into zero.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing import money
from billing.models import PriceQuote
from cloud import CloudError, ecs
from instances.models import ChargeType, ServiceInstance

logger = logging.getLogger("nestops.billing")


@dataclass(frozen=True)
class QuoteKey:
    """What DescribePrice prices; one ``PriceQuote`` row per key."""

    region: str
    zone: str
    instance_type: str
    charge_type: str
    price_unit: str
    period: int
    system_disk_category: str
    system_disk_size: int
    internet_charge_type: str
    bandwidth_out: int

    def as_filter(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def hours(self) -> Decimal:
        """Hours the quoted price covers (1 for pay-as-you-go)."""
        if self.price_unit == "Hour":
            return Decimal(self.period)
        return money.hours_in_period(self.period, self.price_unit)


def subscription_unit(period: int, period_unit: str) -> tuple[str, int]:
    """How the cloud prices a subscription: whole years as years (12 months charged as 10)."""
    if period_unit == "Month" and period % 12 == 0:
        return "Year", period // 12
    return period_unit, period


def key_for(
    *,
    region: str,
    zone: str,
    instance_type: str,
    charge_type: str,
    period: int | None = None,
    period_unit: str = "",
    system_disk_category: str = "cloud_essd",
    system_disk_size: int = 200,
    bandwidth_out: int = 10,
    internet_charge_type: str = ecs.INTERNET_CHARGE_TYPE,
) -> QuoteKey:
    if charge_type == ChargeType.PREPAID:
        unit, count = subscription_unit(period or 1, period_unit or "Month")
    else:
        unit, count = "Hour", 1
    return QuoteKey(
        region=region,
        zone=zone,
        instance_type=instance_type,
        charge_type=charge_type,
        price_unit=unit,
        period=count,
        system_disk_category=system_disk_category,
        system_disk_size=system_disk_size,
        internet_charge_type=internet_charge_type,
        bandwidth_out=bandwidth_out,
    )


def key_for_instance(
    instance: ServiceInstance, *, instance_type: str | None = None, charge_type: str | None = None
) -> QuoteKey:
    """The key of an instance's own price (``charge_type`` PostPaid for its hourly price)."""
    charge = charge_type or instance.charge_type
    return key_for(
        region=instance.region,
        zone=instance.zone,
        instance_type=instance_type or instance.instance_type,
        charge_type=charge,
        period=instance.period,
        period_unit=instance.period_unit,
        system_disk_category=instance.system_disk_category,
        system_disk_size=instance.system_disk_size,
        bandwidth_out=instance.bandwidth_out,
    )


def cached(key: QuoteKey) -> PriceQuote | None:
    """The stored quote for a key, fresh or not; no cloud call."""
    return PriceQuote.objects.filter(**key.as_filter()).first()


def refresh(key: QuoteKey) -> PriceQuote:
    """Asks the cloud for the key's prices and stores them; on a cloud error keeps the last
    prices and records the error (the returned quote then has ``error`` set)."""
    if transaction.get_connection().in_atomic_block:
        # A cloud call would hold the caller's locks for as long as the cloud takes (tests run
        # inside a transaction, hence debug).
        logger.debug("price refresh for %s inside a transaction", key)
    now = timezone.now()
    try:
        price = ecs.describe_price(
            key.region,
            zone_id=key.zone,
            instance_type=key.instance_type,
            price_unit=key.price_unit,
            period=key.period,
            system_disk_category=key.system_disk_category,
            system_disk_size=key.system_disk_size,
            internet_charge_type=key.internet_charge_type,
            bandwidth_out=key.bandwidth_out,
        )
    except CloudError as exc:
        logger.warning("DescribePrice for %s failed: %s %s", key, exc.code, exc.message)
        quote = _row(key)
        quote.attempted_at = now
        quote.error = f"{exc.code}: {exc.message}"[:1000]
        quote.save(update_fields=["attempted_at", "error"])
        return quote

    def component(name: str) -> Decimal:
        found = price.components.get(name)
        return found.trade if found is not None else Decimal(0)

    quote = _row(key)
    quote.currency = price.currency
    quote.instance_price = component("instanceType")
    quote.system_disk_price = component("systemDisk")
    quote.bandwidth_price = component("bandwidth")
    quote.original_price = price.original
    quote.discount_price = price.discount
    quote.trade_price = price.trade
    quote.request_id = price.request_id or ""
    quote.rules = [{"id": rule_id, "description": text} for rule_id, text in price.rules]
    quote.fetched_at = quote.attempted_at = now
    quote.error = ""
    quote.save()
    return quote


def _row(key: QuoteKey) -> PriceQuote:
    try:
        quote, _created = PriceQuote.objects.get_or_create(**key.as_filter())
    except IntegrityError:
        # Two refreshes of a new key raced; the other one made the row.
        quote = PriceQuote.objects.get(**key.as_filter())
    return quote


def current(key: QuoteKey) -> PriceQuote:
    """The key's quote, refreshed from the cloud when missing, stale or failed."""
    quote = cached(key)
    if quote is None or quote.is_stale() or quote.error:
        quote = refresh(key)
    return quote


@dataclass(frozen=True)
class HourlyPrices:
    """A quote's components per hour (a subscription spread over its hours)."""

    currency: str
    instance: Decimal
    system_disk: Decimal
    bandwidth: Decimal

    @property
    def total(self) -> Decimal:
        return self.instance + self.system_disk + self.bandwidth


def hourly(quote: PriceQuote) -> HourlyPrices | None:
    """The quote per hour, or None when it never had prices."""
    if not quote.has_prices:
        return None
    hours = QuoteKey(**{f: getattr(quote, f) for f in QuoteKey.__dataclass_fields__}).hours
    return HourlyPrices(
        currency=quote.currency,
        instance=quote.instance_price / hours,
        system_disk=quote.system_disk_price / hours,
        bandwidth=quote.bandwidth_price / hours,
    )


@dataclass(frozen=True)
class PriceSummary:
    """What a configuration costs, as the create wizard shows it.

    ``per_hour`` and ``stopped_per_hour`` for pay-as-you-go (``stopped_per_hour`` is what a
    save-stopped host still costs); ``per_month`` for both (a subscription's price per month).
    ``error`` explains a missing price; ``stale`` marks a price older than the quote TTL.
    """

    currency: str = ""
    per_hour: Decimal | None = None
    per_month: Decimal | None = None
    stopped_per_hour: Decimal | None = None
    stale: bool = False
    error: str = ""


def summary(key: QuoteKey) -> PriceSummary:
    """The key's prices from the quote table, refreshed from the cloud when needed."""
    quote = current(key)
    prices = hourly(quote)
    if prices is None:
        return PriceSummary(error=quote.error or "no price is known for this configuration")
    if key.charge_type == ChargeType.PREPAID:
        return PriceSummary(
            currency=prices.currency,
            per_month=money.ledger(prices.total * money.HOURS_PER_MONTH),
            stale=quote.is_stale(),
            error=quote.error,
        )
    stopped = prices.system_disk
    if settings.NESTOPS_BILL_BANDWIDTH_WHILE_STOPPED:
        stopped += prices.bandwidth
    return PriceSummary(
        currency=prices.currency,
        per_hour=money.ledger(prices.total),
        per_month=money.ledger(prices.total * money.HOURS_PER_MONTH),
        stopped_per_hour=money.ledger(stopped),
        stale=quote.is_stale(),
        error=quote.error,
    )
