"""CloudMonitor metrics of running hosts: collection, hourly roll-up, retention, and series.

``collect_metrics`` (beat, every 60 s) asks DescribeMetricList for every collected metric, 50
hosts a call per region (the floor: ceil(N/50) calls per metric), from each host's last stored
point on, complete minutes only. It reads what it needs in one query and writes every new point
in one statement; a point it already has is dropped by the unique constraint.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Max, Min, OuterRef, Q, Subquery
from django.utils import timezone

from cloud import CloudError, Throttled, cms
from instances.models import ServiceInstance, Status
from metrics.models import CMS_NAMES, Metric, MetricHourly, MetricSample
from nestops import bulk

logger = logging.getLogger("nestops.metrics")

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
# A host that stopped a moment ago still has minutes CloudMonitor had not published when it
# was last collected: keep collecting it this long after it left "running".
STOPPED_TAIL = timedelta(minutes=15)
# A host that was never collected is read from a little before nestops saw it running.
FIRST_READ_MARGIN_MS = 10 * MINUTE_MS
THROTTLE_RETRIES = 3
SAMPLE_COLUMNS = ("instance", "metric", "timestamp", "average", "maximum", "minimum")


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def from_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


@dataclass
class CollectReport:
    hosts: int = 0
    calls: dict[str, int] = field(default_factory=dict)
    points: int = 0
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Batch:
    metric: int
    region: str
    start_ms: int
    # cloud instance id -> (instance pk, the first minute this host still needs)
    hosts: dict[str, tuple[int, int]]


def _last_point(metric: int) -> Subquery:
    # One index seek per host on (instance, metric, timestamp): the newest stored minute.
    return Subquery(
        MetricSample.objects.filter(instance=OuterRef("pk"), metric=metric)
        .order_by("-timestamp")
        .values("timestamp")[:1]
    )


def _hosts(now: datetime) -> list[dict[str, Any]]:
    return list(
        ServiceInstance.objects.filter(
            Q(status=Status.RUNNING) | Q(status_changed_at__gte=now - STOPPED_TAIL)
        )
        .exclude(cloud_instance_id="")
        .exclude(status__in=(Status.DEPLOYING, Status.DEPLOY_FAILED))
        .annotate(**{f"last_{metric}": _last_point(metric) for metric in CMS_NAMES})
        .values(
            "id",
            "region",
            "cloud_instance_id",
            "running_since",
            "status_changed_at",
            *(f"last_{metric}" for metric in CMS_NAMES),
        )
    )


def _batches(hosts: list[dict[str, Any]], now_ms: int, end_ms: int) -> Iterator[_Batch]:
    floor_ms = end_ms - settings.NESTOPS_METRICS_BACKFILL_HOURS * HOUR_MS
    for metric in CMS_NAMES:
        wanted: dict[str, list[tuple[int, str, int]]] = defaultdict(list)
        for host in hosts:
            last = host[f"last_{metric}"]
            if last is not None:
                start = last + MINUTE_MS
            else:
                seen = host["running_since"] or host["status_changed_at"]
                start = epoch_ms(seen) - FIRST_READ_MARGIN_MS if seen else floor_ms
                start = start // MINUTE_MS * MINUTE_MS
            start = max(start, floor_ms)
            if start < end_ms:
                wanted[host["region"]].append((start, host["cloud_instance_id"], host["id"]))
        for region, entries in wanted.items():
            # Hosts that need the same minutes share calls: one StartTime serves the batch.
            entries.sort()
            for offset in range(0, len(entries), cms.MAX_INSTANCES_PER_CALL):
                chunk = entries[offset : offset + cms.MAX_INSTANCES_PER_CALL]
                yield _Batch(
                    metric=metric,
                    region=region,
                    start_ms=chunk[0][0],
                    hosts={cloud_id: (pk, start) for start, cloud_id, pk in chunk},
                )


def _fetch(batch: _Batch, end_ms: int) -> tuple[list[cms.Datapoint], int]:
    """The batch's points and how many DescribeMetricList pages it took."""
    for attempt in range(THROTTLE_RETRIES + 1):
        try:
            points = cms.describe_metric_list(
                batch.region,
                metric=CMS_NAMES[batch.metric],
                instance_ids=list(batch.hosts),
                start_ms=batch.start_ms,
                end_ms=end_ms,
                period=60,
            )
            return points, 1
        except Throttled as exc:
            if attempt == THROTTLE_RETRIES:
                raise
            time.sleep(min(5.0, (exc.retry_after_ms or 1000) / 1000))
    raise AssertionError("unreachable")


def collect_metrics(now: datetime | None = None) -> CollectReport:
    """Reads new points of running (and just stopped) hosts into ``MetricSample``."""
    now = now or timezone.now()
    now_ms = epoch_ms(now)
    # Complete minutes only: a minute still under way could change after we stored it.
    end_ms = now_ms // MINUTE_MS * MINUTE_MS
    report = CollectReport()
    hosts = _hosts(now)
    report.hosts = len(hosts)
    batches = list(_batches(hosts, now_ms, end_ms))
    rows: list[tuple[int, int, int, float, float, float]] = []

    def run(batch: _Batch) -> tuple[_Batch, list[cms.Datapoint] | None, str]:
        try:
            points, _pages = _fetch(batch, end_ms)
            return batch, points, ""
        except CloudError as exc:
            return batch, None, f"{exc.code}: {exc.message}"

    workers = max(1, settings.NESTOPS_METRICS_CONCURRENCY)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cms") as pool:
        for batch, points, error in pool.map(run, batches):
            name = CMS_NAMES[batch.metric]
            report.calls[name] = report.calls.get(name, 0) + 1
            if points is None:
                report.errors[f"{name} {batch.region}"] = error
                logger.warning("collecting %s in %s failed: %s", name, batch.region, error)
                continue
            for point in points:
                host = batch.hosts.get(point.instance_id)
                # Points before the host's own start are ones we already have.
                if host is None or point.timestamp_ms < host[1]:
                    continue
                rows.append(
                    (
                        host[0],
                        batch.metric,
                        point.timestamp_ms,
                        point.average,
                        point.maximum,
                        point.minimum,
                    )
                )
    report.points = bulk.insert_ignoring_conflicts(MetricSample, SAMPLE_COLUMNS, rows)
    return report


# --- retention -------------------------------------------------------------------------------


@dataclass
class PruneReport:
    hours_rolled_up: int = 0
    samples_deleted: int = 0
    hours_deleted: int = 0


def roll_up_hours(now: datetime | None = None) -> int:
    """Aggregates complete hours of 1-minute points into ``MetricHourly`` (one statement).

    Starts an hour before the newest hour already rolled up, so late points are counted (or
    at the oldest point, the first time).
    """
    now = now or timezone.now()
    end = epoch_ms(now) // HOUR_MS * HOUR_MS
    newest = MetricHourly.objects.aggregate(newest=Max("hour"))["newest"]
    if newest is not None:
        start = newest - HOUR_MS
    else:
        start = MetricSample.objects.aggregate(oldest=Min("timestamp"))["oldest"]
        if start is None:
            return 0
        start = start // HOUR_MS * HOUR_MS
    if start >= end:
        return 0
    quote = connection.ops.quote_name
    hourly = quote(MetricHourly._meta.db_table)
    minute = quote(MetricSample._meta.db_table)
    ts = quote("timestamp")
    bucket = f"({ts} / {HOUR_MS}) * {HOUR_MS}"
    sql = (
        f"INSERT INTO {hourly} (instance_id, metric, hour, average, maximum, minimum, samples) "
        f"SELECT instance_id, metric, {bucket}, AVG(average), MAX(maximum), MIN(minimum), "
        f"COUNT(*) FROM {minute} WHERE {ts} >= %s AND {ts} < %s "
        f"GROUP BY instance_id, metric, {bucket} "
        "ON CONFLICT (instance_id, metric, hour) DO UPDATE SET average = excluded.average, "
        "maximum = excluded.maximum, minimum = excluded.minimum, samples = excluded.samples"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [start, end])
        return max(cursor.rowcount, 0)


def prune_metrics(now: datetime | None = None) -> PruneReport:
    """Rolls up complete hours, then drops 1-minute points past their retention (7 days) and
    hourly aggregates past theirs (90 days)."""
    now = now or timezone.now()
    report = PruneReport(hours_rolled_up=roll_up_hours(now))
    minute_cut = epoch_ms(now - timedelta(days=settings.NESTOPS_METRICS_RETENTION_DAYS))
    hour_cut = epoch_ms(now - timedelta(days=settings.NESTOPS_METRICS_HOURLY_RETENTION_DAYS))
    for metric in Metric:
        # Per metric, so each delete walks the (metric, timestamp) index.
        deleted, _ = MetricSample.objects.filter(metric=metric, timestamp__lt=minute_cut).delete()
        report.samples_deleted += deleted
    report.hours_deleted, _ = MetricHourly.objects.filter(hour__lt=hour_cut).delete()
    return report


# --- series for the API and the charts -------------------------------------------------------
