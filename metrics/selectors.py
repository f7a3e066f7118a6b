"""Reads of a host's metrics: series averaged over a step, downsampled in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Avg, BigIntegerField, F, Max, Min, Value
from django.utils import timezone

from instances.models import ServiceInstance
from metrics.collection import HOUR_MS, epoch_ms, from_ms
from metrics.models import MetricHourly, MetricSample


@dataclass(frozen=True)
class SeriesPoint:
    at: datetime
    average: float
    maximum: float
    minimum: float


def _bucketed(queryset: Any, column: str, step_ms: int) -> dict[int, tuple[float, float, float]]:
    bucket = (
        F(column)
        / Value(step_ms, output_field=BigIntegerField())
        * Value(step_ms, output_field=BigIntegerField())
    )
    rows = (
        queryset.annotate(bucket=bucket)
        .values("bucket")
        .annotate(avg=Avg("average"), high=Max("maximum"), low=Min("minimum"))
        .order_by("bucket")
    )
    return {int(r["bucket"]): (r["avg"], r["high"], r["low"]) for r in rows}


def series(
    instance: ServiceInstance, *, metric: int, since: datetime, until: datetime, step: int
) -> tuple[list[SeriesPoint], str]:
    """Points of [since, until) averaged over ``step`` seconds (downsampled in SQL).

    1-minute points cover the retention period; hours before it come from the hourly table.
    Returns the points and the source (``minute``, ``hourly`` or ``hourly+minute``).
    """
    step_ms = step * 1000
    start_ms = epoch_ms(since) // step_ms * step_ms
    end_ms = epoch_ms(until)
    kept_from = epoch_ms(timezone.now() - timedelta(days=settings.NESTOPS_METRICS_RETENTION_DAYS))
    buckets: dict[int, tuple[float, float, float]] = {}
    source = "minute"
    minutes_from = start_ms
    if start_ms < kept_from and step_ms >= HOUR_MS:
        hours = MetricHourly.objects.filter(
            instance=instance, metric=metric, hour__gte=start_ms, hour__lt=end_ms
        )
        buckets = _bucketed(hours, "hour", step_ms)
        newest = hours.aggregate(newest=Max("hour"))["newest"]
        source = "hourly"
        if newest is not None:
            minutes_from = max(start_ms, newest + HOUR_MS)
    minutes = MetricSample.objects.filter(
        instance=instance, metric=metric, timestamp__gte=minutes_from, timestamp__lt=end_ms
    )
    for key, (avg, high, low) in _bucketed(minutes, "timestamp", step_ms).items():
        if key in buckets:
            old = buckets[key]
            buckets[key] = ((old[0] + avg) / 2, max(old[1], high), min(old[2], low))
        else:
            buckets[key] = (avg, high, low)
        if source == "hourly":
            source = "hourly+minute"
    return [
        SeriesPoint(from_ms(key), round(avg, 3), round(high, 3), round(low, 3))
        for key, (avg, high, low) in sorted(buckets.items())
    ], source
