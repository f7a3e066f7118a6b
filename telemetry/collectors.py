"""What ``/metrics`` reads from the database at each scrape: instances by status and template,
operations by kind, source and outcome with their durations and queue delays, idle stops and
schedule actions, and each team's spend rate. Read from the rows, so every process's work
counts (the workers run the operations; the web process answers the scrape), in a constant
number of queries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.registry import Collector

from accounts.requester import Source
from billing.models import UsageInterval
from instances.models import ServiceInstance
from operations.models import ACTIVE_STATUSES, TERMINAL_STATUSES, Kind, Operation

# Seconds: an inventory read takes seconds, a deploy minutes, a big download an hour.
DURATION_BUCKETS = (5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600)
QUEUE_BUCKETS = (1, 5, 15, 30, 60, 300, 900)


def _histogram_rows(span: ExpressionWrapper, buckets: tuple[int, ...]) -> list[dict[str, Any]]:
    """Per kind: the count under each bucket, the total count and the sum (one query)."""
    spans = Operation.objects.filter(
        status__in=TERMINAL_STATUSES, started_at__isnull=False
    ).annotate(span=span)
    counts = {f"le_{b}": Count("pk", filter=Q(span__lte=timedelta(seconds=b))) for b in buckets}
    return list(spans.values("kind").annotate(total=Count("pk"), seconds=Sum("span"), **counts))


def _histogram(name: str, doc: str, rows: list[dict[str, Any]], buckets: tuple[int, ...]):
    family = HistogramMetricFamily(name, doc, labels=["kind"])
    for row in rows:
        cumulative = [(str(float(b)), row[f"le_{b}"]) for b in buckets]
        cumulative.append(("+Inf", row["total"]))
        total = row["seconds"].total_seconds() if row["seconds"] is not None else 0.0
        family.add_metric([row["kind"]], cumulative, total)
    return family


class DatabaseCollector(Collector):
    def collect(self) -> Iterator[Any]:
        yield from self._instances()
        yield from self._operations()
        yield _histogram(
            "nestops_operation_duration_seconds",
            "How long finished operations ran, from start to end, by kind.",
            _histogram_rows(
                ExpressionWrapper(F("finished_at") - F("started_at"), DurationField()),
                DURATION_BUCKETS,
            ),
            DURATION_BUCKETS,
        )
        yield _histogram(
            "nestops_operation_queue_delay_seconds",
            "How long operations waited between the request and their first step, by kind.",
            _histogram_rows(
                ExpressionWrapper(F("started_at") - F("created_at"), DurationField()),
                QUEUE_BUCKETS,
            ),
            QUEUE_BUCKETS,
        )
        yield self._spend_rate()

    def _instances(self) -> Iterator[Any]:
        family = GaugeMetricFamily(
            "nestops_instances", "Instances by status and template.", labels=["status", "template"]
        )
        rows = ServiceInstance.objects.values("status", "template").annotate(n=Count("pk"))
        for row in rows.order_by("status", "template"):
            family.add_metric([row["status"], row["template"]], row["n"])
        yield family

    def _operations(self) -> Iterator[Any]:
        finished = CounterMetricFamily(
            "nestops_operations",
            "Finished operations by kind, source and outcome.",
            labels=["kind", "source", "outcome"],
        )
        active = GaugeMetricFamily(
            "nestops_operations_active", "Pending and running operations by kind.", labels=["kind"]
        )
        idle = CounterMetricFamily(
            "nestops_idle_stops", "Stops the idle policy asked for, by outcome.", labels=["outcome"]
        )
        scheduled = CounterMetricFamily(
            "nestops_schedule_actions",
            "Starts and stops schedules asked for, by action and outcome.",
            labels=["action", "outcome"],
        )
        rows = Operation.objects.values("kind", "source", "status").annotate(n=Count("pk"))
        for row in rows.order_by("kind", "source", "status"):
            kind, source, status, n = row["kind"], row["source"], row["status"], row["n"]
            if status in ACTIVE_STATUSES:
                active.add_metric([kind], n)
                continue
            finished.add_metric([kind, source, status], n)
            if source == Source.IDLE_POLICY and kind == Kind.STOP:
                idle.add_metric([status], n)
            if source == Source.SCHEDULE and kind in (Kind.START, Kind.STOP):
                scheduled.add_metric([kind, status], n)
        yield from (finished, active, idle, scheduled)

    def _spend_rate(self) -> Any:
        family = GaugeMetricFamily(
            "nestops_spend_rate_per_hour",
            "What each team's hosts cost per hour now (open usage intervals), by currency.",
            labels=["team", "currency"],
        )
        rows = (
            UsageInterval.objects.filter(ended_at__isnull=True, hourly_rate__isnull=False)
            .values("team__slug", "currency")
            .annotate(rate=Sum("hourly_rate"))
            .order_by("team__slug", "currency")
        )
        for row in rows:
            family.add_metric([row["team__slug"], row["currency"]], float(row["rate"]))
        return family
