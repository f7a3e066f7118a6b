"""Money: cached cloud prices, the usage ledger, and team budgets."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from instances.models import ChargeType, ServiceInstance

# Prices and rates: up to 10 billion with 10 decimal places (subscription prices spread per hour
# are not round numbers; 10 places keep a month of seconds exact to far below a cent).
MONEY = {"max_digits": 22, "decimal_places": 10}


class PriceUnit(models.TextChoices):
    HOUR = "Hour", _("Hour")
    WEEK = "Week", _("Week")
    MONTH = "Month", _("Month")
    YEAR = "Year", _("Year")


class PriceQuote(models.Model):
    """One DescribePrice answer, cached per host configuration.

    The key is what the cloud prices: region, zone, instance type, charge type, period and its
    unit (Hour 1 for pay-as-you-go), system disk category and size, internet charge type and
    bandwidth. Prices are the trade prices of one period, per component, so that what a stopped
    host still costs (its disk, and its bandwidth where billed) is known.

    ``fetched_at`` is when the prices were last read from the cloud; a failed refresh keeps them
    and records ``error``. A quote older than ``NESTOPS_PRICE_TTL_SECONDS`` is *stale*: still
    used (never a silent zero) but shown as such.
    """

    region = models.CharField(_("region"), max_length=32)
    zone = models.CharField(_("zone"), max_length=32)
    instance_type = models.CharField(_("instance type"), max_length=48)
    charge_type = models.CharField(_("charge type"), max_length=10, choices=ChargeType.choices)
    price_unit = models.CharField(_("price unit"), max_length=8, choices=PriceUnit.choices)
    period = models.PositiveSmallIntegerField(_("period"))
    system_disk_category = models.CharField(_("system disk"), max_length=24)
    system_disk_size = models.PositiveIntegerField(_("system disk size (GB)"))
    internet_charge_type = models.CharField(_("internet charge type"), max_length=16)
    bandwidth_out = models.PositiveSmallIntegerField(_("bandwidth (Mbit/s)"))

    currency = models.CharField(_("currency"), max_length=3, blank=True)
    instance_price = models.DecimalField(_("instance type price"), null=True, **MONEY)
    system_disk_price = models.DecimalField(_("system disk price"), null=True, **MONEY)
    bandwidth_price = models.DecimalField(_("bandwidth price"), null=True, **MONEY)
    original_price = models.DecimalField(_("list price"), null=True, **MONEY)
    discount_price = models.DecimalField(_("discount"), null=True, **MONEY)
    trade_price = models.DecimalField(_("price"), null=True, **MONEY)
    rules = models.JSONField(_("price rules"), default=list, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)

    fetched_at = models.DateTimeField(_("fetched"), null=True, blank=True)
    attempted_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    error = models.TextField(_("last error"), blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "region",
                    "zone",
                    "instance_type",
                    "charge_type",
                    "price_unit",
                    "period",
                    "system_disk_category",
                    "system_disk_size",
                    "internet_charge_type",
                    "bandwidth_out",
                ],
                name="price_quote_key_unique",
            )
        ]
        ordering = ["region", "zone", "instance_type", "charge_type", "price_unit", "period"]
        verbose_name = _("price quote")
        verbose_name_plural = _("price quotes")

    def __str__(self) -> str:
        return (
            f"{self.instance_type} {self.zone} {self.charge_type} {self.period} {self.price_unit}"
        )

    @property
    def has_prices(self) -> bool:
        return self.fetched_at is not None

    def is_stale(self, now: datetime | None = None) -> bool:
        if self.fetched_at is None:
            return True
        now = now or timezone.now()
        return now - self.fetched_at > timedelta(seconds=settings.NESTOPS_PRICE_TTL_SECONDS)


class BillingState(models.TextChoices):
    """What an instance was doing during an interval, as far as money goes."""

    DEPLOYING = "deploying", _("Deploying")
    RUNNING = "running", _("Running")
    STOPPING = "stopping", _("Stopping")
    STOPPED_STOP_CHARGING = "stopped_stop_charging", _("Stopped (StopCharging)")
    STOPPED_KEEP_CHARGING = "stopped_keep_charging", _("Stopped (KeepCharging)")
    STARTING = "starting", _("Starting")
    RESTARTING = "restarting", _("Restarting")
    RESIZING = "resizing", _("Resizing")
    DELETING = "deleting", _("Deleting")
    DEPLOY_FAILED = "deploy_failed", _("Deploy failed (host kept)")


class Basis(models.TextChoices):
    """Which price components an interval is charged."""

    FULL = "full", _("Instance type, disk and bandwidth")
    STOPPED = "stopped", _("Disk (and bandwidth) of a host stopped with StopCharging")
    SUBSCRIPTION = "subscription", _("Subscription price spread over its term")


class ClosedIntervalError(Exception):
    """A closed usage interval was about to be changed; the ledger is append-only."""


class UsageIntervalQuerySet(models.QuerySet["UsageInterval"]):
    def open(self) -> UsageIntervalQuerySet:
        return self.filter(ended_at__isnull=True)

    def closed(self) -> UsageIntervalQuerySet:
        return self.filter(ended_at__isnull=False)

    def update(self, **kwargs: Any) -> int:
        # Bulk writes must not reach around the model's rule: only open intervals change.
        if self.closed().exists():
            raise ClosedIntervalError("closed usage intervals are never edited")
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        if self.closed().exists():
            raise ClosedIntervalError("closed usage intervals are never deleted")
        return super().delete()


class UsageInterval(models.Model):
    """A stretch of time during which an instance cost one hourly rate.

    Opened and closed by ``billing.ledger`` in the same transaction as the instance's status
    change. While open (``ended_at`` empty) its cost so far is ``hourly_rate`` x elapsed
    seconds / 3600; when it closes, ``seconds``, ``cost`` and ``running_cost`` are written and
    the row never changes again (``save``, ``update`` and ``delete`` refuse). A closed interval
    lies within one billing day (``day``): closing one that crossed midnight writes one row per
    day. ``running_hourly_rate`` is what the same host would have cost running, so savings are
    ``running_cost - cost``. ``rate_estimated`` says the rate came from a stale quote or was
    learnt after the interval opened; an unknown rate is empty, never zero.

    ``cost_before`` and ``running_cost_before`` are the instance's totals (in this interval's
    currency) over the intervals closed before this one, and ``estimated_before`` whether any of
    them was estimated or unpriced: written once when the row is made, they let the instance list
    read an instance's cost so far from its latest interval alone, however long its history.
    """

    instance = models.ForeignKey(
        ServiceInstance, on_delete=models.CASCADE, related_name="usage_intervals"
    )
    # The instance's team, copied so that team reports and budgets never join the instances.
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="usage_intervals")
    state = models.CharField(_("state"), max_length=24, choices=BillingState.choices)
    basis = models.CharField(_("charged"), max_length=12, choices=Basis.choices)
    charge_type = models.CharField(_("charge type"), max_length=10, choices=ChargeType.choices)
    instance_type = models.CharField(_("instance type"), max_length=48)
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    day = models.DateField(_("billing day"))
    hourly_rate = models.DecimalField(_("hourly rate"), null=True, blank=True, **MONEY)
    running_hourly_rate = models.DecimalField(
        _("hourly rate if running"), null=True, blank=True, **MONEY
    )
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    rate_estimated = models.BooleanField(_("rate estimated"), default=False)
    quote = models.ForeignKey(
        PriceQuote, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    seconds = models.DecimalField(
        _("seconds"), max_digits=16, decimal_places=6, null=True, blank=True
    )
    cost = models.DecimalField(_("cost"), null=True, blank=True, **MONEY)
    running_cost = models.DecimalField(_("cost if running"), null=True, blank=True, **MONEY)
    cost_before = models.DecimalField(_("cost before"), default=Decimal(0), **MONEY)
    running_cost_before = models.DecimalField(
        _("cost if running before"), default=Decimal(0), **MONEY
    )
    estimated_before = models.BooleanField(_("estimated before"), default=False)

    objects = UsageIntervalQuerySet.as_manager()

    class Meta:
        ordering = ["instance", "started_at"]
        constraints = [
            # At most one open interval per instance: the ledger's "current rate".
            models.UniqueConstraint(
                fields=["instance"],
                condition=models.Q(ended_at__isnull=True),
                name="usage_one_open_interval_per_instance",
            ),
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True)
                | models.Q(ended_at__gte=models.F("started_at")),
                name="usage_interval_ends_after_it_starts",
            ),
        ]
        indexes = [
            # An instance's latest interval (the list's cost so far, the ledger's chaining of
            # totals): one index seek. The open one is found through the partial unique index.
            models.Index(fields=["instance", "started_at", "id"], name="usage_instance_latest"),
            # Team reports and budgets: a team's days.
            models.Index(fields=["team", "day"], name="usage_team_day"),
        ]
        verbose_name = _("usage interval")
        verbose_name_plural = _("usage intervals")

    def __str__(self) -> str:
        end = f"{self.ended_at:%Y-%m-%d %H:%M:%S}" if self.ended_at else "now"
        return f"{self.state} {self.started_at:%Y-%m-%d %H:%M:%S} - {end}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding and getattr(self, "_closed_in_db", False):
            raise ClosedIntervalError(f"usage interval {self.pk} is closed and cannot change")
        super().save(*args, **kwargs)
        self._closed_in_db = self.ended_at is not None

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if getattr(self, "_closed_in_db", False) or self.ended_at is not None:
            raise ClosedIntervalError(f"usage interval {self.pk} is closed and cannot be deleted")
        return super().delete(*args, **kwargs)

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any) -> UsageInterval:
        row = super().from_db(db, field_names, values)
        # Remember whether the row was closed when read; save() refuses to change it then.
        row._closed_in_db = row.__dict__.get("ended_at") is not None
        return row

    @property
    def is_open(self) -> bool:
        return self.ended_at is None
