"""The usage ledger: one open ``UsageInterval`` per instance, closed and replaced whenever what
the instance costs changes.

``record_status()`` follows ``instances.lifecycle.status_changed``, sent by ``change_status()``
(and when an instance is created) inside the caller's transaction, with the instance row locked
by the caller. It
makes no cloud call: the rate comes from the ``PriceQuote`` table, refreshed ahead of time by
the operations' price step and the ``billing.refresh_prices`` job. Without a fresh quote the
interval takes the last known rate and is marked ``rate_estimated``; with no rate known at all
it stays unpriced (empty, never zero) until ``reprice()`` learns it.

What is charged (``Basis``):

- pay-as-you-go, running or in a transition that may leave it running: instance type + system
  disk + bandwidth, per hour;
- pay-as-you-go, stopped with StopCharging: the system disk, plus the bandwidth when
  ``NESTOPS_BILL_BANDWIDTH_WHILE_STOPPED`` (see docs/billing.md); stopped with KeepCharging:
  everything, as running;
- resizing and deleting carry on whatever the host was charged just before;
- subscription, in any state: the period's price spread over its hours (stopping saves nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from billing import money, quotes
from billing.models import Basis, BillingState, PriceQuote, UsageInterval
from instances.models import ChargeType, ServiceInstance, Status, StopMode

# States in which the host may be running and is charged as such.
ACTIVE_STATES = {
    Status.DEPLOYING: BillingState.DEPLOYING,
    Status.RUNNING: BillingState.RUNNING,
    Status.STOPPING: BillingState.STOPPING,
    Status.STARTING: BillingState.STARTING,
    Status.RESTARTING: BillingState.RESTARTING,
}
# States that keep charging whatever the host was charged before them (a resize happens on a
# stopped host; a delete releases the host as it is).
INHERITING_STATES = {
    Status.RESIZING: BillingState.RESIZING,
    Status.DELETING: BillingState.DELETING,
}


@dataclass(frozen=True)
class Rate:
    """An hourly rate and what the same host would cost running, with where they came from."""

    hourly: Decimal | None
    running_hourly: Decimal | None
    currency: str
    estimated: bool
    quote_id: int | None = None


def billing_state(
    instance: ServiceInstance, current: UsageInterval | None
) -> tuple[str, str] | None:
    """(state, basis) of an instance as it is now, or None when nothing is charged."""
    status = instance.status
    prepaid = instance.charge_type == ChargeType.PREPAID
    if status == Status.DELETED:
        return None
    if status == Status.STOPPED:
        # A stop without a known mode is KeepCharging, the cloud's default: never assume a
        # saving.
        if instance.stopped_mode == StopMode.STOP_CHARGING and not prepaid:
            return BillingState.STOPPED_STOP_CHARGING, Basis.STOPPED
        state = (
            BillingState.STOPPED_STOP_CHARGING
            if instance.stopped_mode == StopMode.STOP_CHARGING
            else BillingState.STOPPED_KEEP_CHARGING
        )
        return state, Basis.SUBSCRIPTION if prepaid else Basis.FULL
    if status in INHERITING_STATES:
        if current is None:
            return None  # nothing was charged before (a deploy that failed and cleaned up)
        return INHERITING_STATES[status], current.basis
    if status == Status.DEPLOY_FAILED:
        if not instance.cloud_instance_id:
            return None  # the failed deploy removed the host: nothing costs money
        return BillingState.DEPLOY_FAILED, Basis.SUBSCRIPTION if prepaid else Basis.FULL
    return ACTIVE_STATES[status], Basis.SUBSCRIPTION if prepaid else Basis.FULL


def rate_for(
    instance: ServiceInstance,
    basis: str,
    current: UsageInterval | None = None,
    now: datetime | None = None,
) -> Rate:
    """The rate of an instance charged on ``basis``, from the quote table only."""
    now = now or timezone.now()
    if basis == Basis.SUBSCRIPTION:
        quote = quotes.cached(quotes.key_for_instance(instance))
    else:
        quote = quotes.cached(quotes.key_for_instance(instance, charge_type=ChargeType.POSTPAID))
    prices = quotes.hourly(quote) if quote is not None else None
    if prices is not None:
        running = money.ledger(prices.total)
        if basis == Basis.STOPPED:
            stopped = prices.system_disk
            if settings.NESTOPS_BILL_BANDWIDTH_WHILE_STOPPED:
                stopped += prices.bandwidth
            hourly = money.ledger(stopped)
        else:
            hourly = running
        return Rate(hourly, running, prices.currency, quote.is_stale(now), quote.pk)
    # No price for this configuration yet: the last known rate of the host, when it was charged
    # the same way for the same type; otherwise unknown (never zero) until reprice() learns it.
    if (
        current is not None
        and current.hourly_rate is not None
        and current.basis == basis
        and current.instance_type == instance.instance_type
        and current.charge_type == instance.charge_type
    ):
        return Rate(
            current.hourly_rate,
            current.running_hourly_rate,
            current.currency,
            True,
            current.quote_id,
        )
    return Rate(None, None, current.currency if current else "", True, None)


def open_interval(instance: ServiceInstance) -> UsageInterval | None:
    return UsageInterval.objects.filter(instance=instance, ended_at__isnull=True).first()


def on_status_changed(
    sender: Any, *, instance: ServiceInstance, at: datetime | None, **kwargs: Any
) -> None:
    record_status(instance, at=at)


def record_status(instance: ServiceInstance, *, at: datetime | None = None) -> UsageInterval | None:
    """Brings the ledger in line with the instance's (just saved) status; returns the open
    interval. Call inside the transaction that changed the status, with the row locked."""
    at = at or timezone.now()
    current = open_interval(instance)
    target = billing_state(instance, current)
    if target is None:
        if current is not None:
            close(current, at)
        return None
    state, basis = target
    rate = rate_for(instance, basis, current, at)
    if current is not None and _unchanged(current, instance, state, basis, rate):
        return current
    if current is not None:
        close(current, at)
    return _open(instance, state, basis, rate, at)


def reprice(instance: ServiceInstance, *, at: datetime | None = None) -> UsageInterval | None:
    """Applies the quote table to the open interval: a new price opens a new interval; an
    interval opened without any price gets the one now known (marked estimated); one opened on
    a stale price is closed and continued on the fresh one. Call with the instance locked."""
    at = at or timezone.now()
    current = open_interval(instance)
    target = billing_state(instance, current)
    if current is None or target is None:
        return record_status(instance, at=at)
    state, basis = target
    rate = rate_for(instance, basis, current, at)
    if rate.hourly is None:
        return current
    if current.hourly_rate is None:
        if current.currency != rate.currency:
            # The first price of the instance: its totals so far are those of this currency.
            before = _totals_before(instance, rate.currency)
            current.cost_before = before.cost
            current.running_cost_before = before.running_cost
        current.hourly_rate = rate.hourly
        current.running_hourly_rate = rate.running_hourly
        current.currency = rate.currency
        current.quote_id = rate.quote_id
        # The rate was learnt after the interval began (an API deploy opens it before any
        # price is looked up). A fresh quote fetched within the price TTL of the interval's
        # start counts as current for all of it, as it would have at the start: not estimated.
        current.rate_estimated = rate.estimated or not _quote_current_at(
            rate.quote_id, current.started_at
        )
        current.save(
            update_fields=[
                "hourly_rate",
                "running_hourly_rate",
                "currency",
                "quote",
                "rate_estimated",
                "cost_before",
                "running_cost_before",
            ]
        )
        return current
    if _unchanged(current, instance, state, basis, rate) and not (
        current.rate_estimated and not rate.estimated
    ):
        return current
    close(current, at)
    return _open(instance, state, basis, rate, at)


def _quote_current_at(quote_id: int | None, at: datetime) -> bool:
    fetched_at = PriceQuote.objects.filter(pk=quote_id).values_list("fetched_at", flat=True).first()
    if fetched_at is None:
        return False
    return fetched_at - at <= timedelta(seconds=settings.NESTOPS_PRICE_TTL_SECONDS)


def reprice_instance(instance_id: int) -> None:
    """``reprice`` in a transaction of its own, holding the instance row."""
    with transaction.atomic():
        locked = ServiceInstance.objects.select_for_update().filter(pk=instance_id).first()
        if locked is not None:
            reprice(locked)


def _unchanged(
    current: UsageInterval, instance: ServiceInstance, state: str, basis: str, rate: Rate
) -> bool:
    return (
        current.state == state
        and current.basis == basis
        and current.charge_type == instance.charge_type
        and current.instance_type == instance.instance_type
        and current.hourly_rate == rate.hourly
        and current.running_hourly_rate == rate.running_hourly
        and current.currency == rate.currency
    )


@dataclass(frozen=True)
class Totals:
    """An instance's totals over its closed intervals, in one currency."""

    cost: Decimal = Decimal(0)
    running_cost: Decimal = Decimal(0)
    estimated: bool = False


def _totals_before(instance: ServiceInstance, currency: str) -> Totals:
    """The totals a new interval of ``instance`` starts from: chained from the latest closed
    interval (one index seek) when it is in the same currency, else summed."""
    last = (
        UsageInterval.objects.closed()
        .filter(instance=instance)
        .order_by("-started_at", "-id")
        .first()
    )
    if last is None:
        return Totals()
    estimated = last.estimated_before or last.rate_estimated or last.hourly_rate is None
    if last.currency == currency:
        return Totals(
            cost=last.cost_before + (last.cost or 0),
            running_cost=last.running_cost_before + (last.running_cost or 0),
            estimated=estimated,
        )
    found = (
        UsageInterval.objects.closed()
        .filter(instance=instance, currency=currency)
        .aggregate(cost=Sum("cost"), running=Sum("running_cost"))
    )
    return Totals(
        cost=found["cost"] or Decimal(0),
        running_cost=found["running"] or Decimal(0),
        estimated=estimated,
    )


def _open(
    instance: ServiceInstance, state: str, basis: str, rate: Rate, at: datetime
) -> UsageInterval:
    before = _totals_before(instance, rate.currency)
    return UsageInterval.objects.create(
        instance=instance,
        team_id=instance.team_id,
        state=state,
        basis=basis,
        charge_type=instance.charge_type,
        instance_type=instance.instance_type,
        started_at=at,
        day=money.billing_day(at),
        hourly_rate=rate.hourly,
        running_hourly_rate=rate.running_hourly,
        currency=rate.currency,
        rate_estimated=rate.estimated,
        quote_id=rate.quote_id,
        cost_before=before.cost,
        running_cost_before=before.running_cost,
        estimated_before=before.estimated,
    )


def close(interval: UsageInterval, at: datetime) -> list[UsageInterval]:
    """Closes an open interval at ``at``; one that crossed billing midnights becomes one closed
    row per day (the open row is the first). Returns the closed rows."""
    end = max(at, interval.started_at)  # clocks of two workers may disagree by a little
    segments = list(money.split_by_day(interval.started_at, end)) or [
        (interval.day, interval.started_at, end)
    ]
    rows: list[UsageInterval] = []
    for index, (day, start, stop) in enumerate(segments):
        row = interval if index == 0 else _continuation(rows[-1])
        seconds = money.seconds_between(start, stop)
        row.started_at, row.ended_at, row.day = start, stop, day
        row.seconds = seconds
        row.cost = money.prorate(row.hourly_rate, seconds)
        row.running_cost = money.prorate(row.running_hourly_rate, seconds)
        row.save()
        rows.append(row)
    return rows


def _continuation(interval: UsageInterval) -> UsageInterval:
    """The next day's row of an interval being closed; its totals follow the day before."""
    return UsageInterval(
        cost_before=interval.cost_before + (interval.cost or 0),
        running_cost_before=interval.running_cost_before + (interval.running_cost or 0),
        estimated_before=interval.estimated_before
        or interval.rate_estimated
        or interval.hourly_rate is None,
        instance_id=interval.instance_id,
        team_id=interval.team_id,
        state=interval.state,
        basis=interval.basis,
        charge_type=interval.charge_type,
        instance_type=interval.instance_type,
        hourly_rate=interval.hourly_rate,
        running_hourly_rate=interval.running_hourly_rate,
        currency=interval.currency,
        rate_estimated=interval.rate_estimated,
        quote_id=interval.quote_id,
    )
