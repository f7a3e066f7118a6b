"""Writes of billing that involve the cloud: refreshing the prices the ledger charges.

Cloud calls happen here, outside any transaction; the ledger then applies what was learnt, one
instance at a time with its row locked (``ledger.reprice_instance``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from billing import ledger, quotes
from billing.models import PriceQuote, UsageInterval
from instances.models import ServiceInstance, Status

logger = logging.getLogger("nestops.billing")

PRICE_FIELDS = ("currency", "instance_price", "system_disk_price", "bandwidth_price")


def _refresh_due(quote: PriceQuote | None) -> bool:
    """A quote is refreshed once it is half its TTL old, so the ledger never meets a stale one
    while the cloud answers."""
    if quote is None or quote.error or quote.fetched_at is None:
        return True
    age = timezone.now() - quote.fetched_at
    return age > timedelta(seconds=settings.NESTOPS_PRICE_TTL_SECONDS / 2)


def prepare_price(instance: ServiceInstance, *, instance_type: str | None = None) -> PriceQuote:
    """Makes sure the price of ``instance`` (as ``instance_type``) is in the quote table before
    a status change needs it; the operations' price step calls this. Never raises for a cloud
    error: the quote records it and the ledger estimates."""
    key = quotes.key_for_instance(instance, instance_type=instance_type)
    quote = quotes.cached(key)
    if _refresh_due(quote):
        quote = quotes.refresh(key)
    assert quote is not None
    if instance_type is None or instance_type == instance.instance_type:
        # The open interval may have opened without a price (or on a stale one).
        ledger.reprice_instance(instance.pk)
    return quote


@dataclass
class RefreshReport:
    keys: int = 0
    describe_price_calls: int = 0
    failed: list[str] = field(default_factory=list)
    repriced: int = 0


def _billable_instances() -> Q:
    """Instances that can be charged: alive, and not a failed deploy whose host is gone."""
    return ~Q(status=Status.DELETED) & ~Q(status=Status.DEPLOY_FAILED, cloud_instance_id="")


def refresh_prices() -> RefreshReport:
    """The ``billing.refresh_prices`` job: refreshes the quotes of every billable instance's
    configuration that is due, then reprices the open intervals that need it (unpriced,
    estimated, or on a quote whose prices changed) and opens one where a billable instance has
    none (instances that existed before billing did)."""
    report = RefreshReport()
    fields = (
        "region",
        "zone",
        "instance_type",
        "charge_type",
        "period",
        "period_unit",
        "system_disk_category",
        "system_disk_size",
        "bandwidth_out",
    )
    configurations = (
        # order_by(): the model's default ordering would add created_at to the DISTINCT.
        ServiceInstance.objects.filter(_billable_instances())
        .order_by()
        .values_list(*fields)
        .distinct()
    )
    changed_quotes: set[int] = set()
    for values in configurations:
        config = dict(zip(fields, values, strict=True))
        key = quotes.key_for(**config)
        report.keys += 1
        quote = quotes.cached(key)
        if not _refresh_due(quote):
            continue
        before = tuple(getattr(quote, f) for f in PRICE_FIELDS) if quote else None
        report.describe_price_calls += 1
        refreshed = quotes.refresh(key)
        if refreshed.error:
            report.failed.append(f"{key.instance_type} {key.zone}: {refreshed.error}")
        elif before != tuple(getattr(refreshed, f) for f in PRICE_FIELDS):
            changed_quotes.add(refreshed.pk)
    open_intervals = UsageInterval.objects.filter(instance=OuterRef("pk"), ended_at__isnull=True)
    needs_price = UsageInterval.objects.filter(
        instance=OuterRef("pk"), ended_at__isnull=True
    ).filter(Q(hourly_rate__isnull=True) | Q(rate_estimated=True) | Q(quote_id__in=changed_quotes))
    # Resizing and deleting carry on the interval before them; without one nothing is charged.
    missing = ~Exists(open_intervals) & ~Q(status__in=[Status.RESIZING, Status.DELETING])
    candidates = (
        ServiceInstance.objects.filter(_billable_instances())
        .filter(Exists(needs_price) | missing)
        .values_list("pk", flat=True)
    )
    for instance_id in list(candidates):
        ledger.reprice_instance(instance_id)
        report.repriced += 1
    if report.failed:
        logger.warning("price refresh: %d of %d quotes failed", len(report.failed), report.keys)
    return report
