"""What counts as activity on a running host, read for every host of an idle run in a constant
number of queries: GPU points (CloudMonitor), operations under way, snoozes, and where the run
starts looking back.

A signal that cannot be read counts as activity (see ``autostop.idle``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings

from autostop.models import Snooze
from autostop.selectors import POLICY_FIELDS, related
from instances.models import ServiceInstance, Status
from metrics.models import Metric, MetricSample
from operations.models import Operation

MINUTE = timedelta(minutes=1)
# GPU points are read back this far at least, and at most this far (a long outage of the job
# is covered by treating what it did not see as activity).
LOOKBACK_MIN = timedelta(minutes=10)
LOOKBACK_MAX = timedelta(minutes=120)


@dataclass
class GpuSeries:
    latest_ms: int
    latest_value: float
    peak: float
    busy_ms: int | None


def running_instances() -> list[ServiceInstance]:
    return list(
        ServiceInstance.objects.filter(status=Status.RUNNING)
        .exclude(cloud_instance_id="")
        .select_related("team", "team__idle_settings", "idle_policy", "idle_evaluation")
        # Only what the judgement needs: 10,000 rows of every column cost more than the rest of
        # the run. Passwords in particular are decrypted on load: they are read only for the
        # hosts whose WebUI is asked.
        .only(
            "id",
            "public_id",
            "name",
            "status",
            "charge_type",
            "running_since",
            "status_changed_at",
            "team__id",
            "team__name",
            "team__slug",
            *(
                f"team__idle_settings__{f}"
                for f in ("team_id", "max_idle_minutes", "max_snooze_hours")
            ),
            *(f"idle_policy__{f}" for f in ("instance_id", *POLICY_FIELDS)),
            *(
                f"idle_evaluation__{f}"
                for f in ("instance_id", "evaluated_at", "last_activity_at", "signals")
            ),
        )
    )


def gpu_series(since: datetime, thresholds: dict[int, float]) -> dict[int, GpuSeries]:
    since_ms = int(since.timestamp() * 1000)
    found: dict[int, GpuSeries] = {}
    rows = (
        MetricSample.objects.filter(metric=Metric.GPU, timestamp__gte=since_ms)
        .order_by()
        .values_list("instance_id", "timestamp", "average")
    )
    for instance_id, timestamp, average in rows.iterator(chunk_size=20000):
        threshold = thresholds.get(instance_id)
        if threshold is None:
            continue
        series = found.get(instance_id)
        if series is None:
            series = found[instance_id] = GpuSeries(timestamp, average, average, None)
        elif timestamp > series.latest_ms:
            series.latest_ms, series.latest_value = timestamp, average
        series.peak = max(series.peak, average)
        if average >= threshold and (series.busy_ms is None or timestamp > series.busy_ms):
            series.busy_ms = timestamp
    return found


def active_operations() -> dict[int, list[dict[str, str]]]:
    found: dict[int, list[dict[str, str]]] = defaultdict(list)
    for instance_id, public_id, kind in (
        Operation.objects.active().order_by().values_list("instance_id", "public_id", "kind")
    ):
        found[instance_id].append({"id": public_id, "kind": kind})
    return found


def snoozes(now: datetime, looked_from: datetime) -> tuple[dict[int, Snooze], dict[int, datetime]]:
    """Snoozes running now, and when snoozes that ended since ``looked_from`` ended: a snooze
    is activity until its end (or until it was cancelled)."""
    running: dict[int, Snooze] = {}
    ended: dict[int, datetime] = {}
    for snooze in Snooze.objects.filter(until__gt=looked_from).select_related("created_by"):
        end = min(snooze.until, snooze.cancelled_at or snooze.until)
        if end > now:
            held = running.get(snooze.instance_id)
            if held is None or snooze.until > held.until:
                running[snooze.instance_id] = snooze
        elif end > looked_from:
            ended[snooze.instance_id] = max(end, ended.get(snooze.instance_id, end))
    return running, ended


def lookback_start(instances: list[ServiceInstance], now: datetime) -> datetime:
    """Where this run starts reading GPU points: back to the oldest moment some host has not
    been looked at since it started (its last evaluation, or its start), plus the minutes
    CloudMonitor publishes late; at least ``LOOKBACK_MIN``, at most ``LOOKBACK_MAX``."""
    stale = timedelta(minutes=settings.NESTOPS_IDLE_METRICS_STALE_MINUTES)
    oldest = now
    for instance in instances:
        started = instance.running_since or instance.status_changed_at
        previous = related(instance, "idle_evaluation")
        seen = previous.evaluated_at if previous is not None else started
        oldest = min(oldest, max(seen, started))
    span = min(max(now - oldest + 2 * stale, LOOKBACK_MIN), LOOKBACK_MAX)
    return now - span


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
