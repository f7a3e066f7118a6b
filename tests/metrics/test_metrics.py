"""Collecting CloudMonitor metrics from cloudsim (50 hosts a call, from the last point on, no
duplicates, gaps filled), rolling them up by the hour and pruning them."""

from __future__ import annotations

import itertools
import math
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from instances.models import Status
from metrics.collection import HOUR_MS, collect_metrics, epoch_ms, prune_metrics
from metrics.models import Metric, MetricHourly, MetricSample
from tests.autostop.driving import fleet
from tests.factories import make_instance

pytestmark = pytest.mark.django_db

METRICS = 5


def per_host_counts(metric: int) -> set[int]:
    from django.db.models import Count

    return set(
        MetricSample.objects.filter(metric=metric)
        .values("instance")
        .annotate(n=Count("id"))
        .values_list("n", flat=True)
    )


def test_collection_asks_50_hosts_a_call_from_each_hosts_last_point_on(clocks, team, sim) -> None:
    hosts = fleet(sim, team, 60)
    clocks.advance(5 * 60)
    sim.reset_calls()
    with CaptureQueriesContext(connection) as queries:
        first = collect_metrics()
    calls = math.ceil(60 / 50) * METRICS
    assert sim.calls()["Cms.DescribeMetricList"] == calls
    assert sum(first.calls.values()) == calls
    assert len(queries) == 2  # what to ask, then every new point in one statement
    counts = per_host_counts(Metric.GPU)
    assert len(counts) == 1 and min(counts) >= 4  # every complete minute since they started
    assert first.points == 60 * METRICS * min(counts)

    # Nothing new until a minute completes: no call at all.
    sim.reset_calls()
    assert collect_metrics().points == 0
    assert sim.calls().get("Cms.DescribeMetricList", 0) == 0

    # A minute later: one point more per host and metric, once.
    clocks.advance(60)
    again = collect_metrics()
    assert again.points == 60 * METRICS
    assert per_host_counts(Metric.GPU) == {min(counts) + 1}
    rows = MetricSample.objects.filter(instance=hosts[0], metric=Metric.CPU)
    assert rows.values("timestamp").distinct().count() == rows.count()


def test_a_failed_call_leaves_no_gap_once_the_cloud_answers_again(clocks, team, sim) -> None:
    hosts = fleet(sim, team, 3)
    clocks.advance(3 * 60)
    collect_metrics()
    before = MetricSample.objects.filter(instance=hosts[0], metric=Metric.GPU).count()
    sim.set_faults(action="Cms.DescribeMetricList", code="InternalError", http_status=500)
    clocks.advance(4 * 60)
    failed = collect_metrics()
    assert failed.points == 0 and failed.errors
    sim.clear_faults()
    clocks.advance(60)
    collect_metrics()
    stamps = list(
        MetricSample.objects.filter(instance=hosts[0], metric=Metric.GPU)
        .order_by("timestamp")
        .values_list("timestamp", flat=True)
    )
    assert len(stamps) == before + 5
    assert all(b - a == 60_000 for a, b in itertools.pairwise(stamps))


def test_a_stopped_host_is_no_longer_asked_about(clocks, team, sim) -> None:
    hosts = fleet(sim, team, 2)
    clocks.advance(3 * 60)
    collect_metrics()
    hosts[0].status = Status.STOPPED
    hosts[0].status_changed_at = timezone.now() - timedelta(hours=1)
    hosts[0].save()
    clocks.advance(60)
    assert collect_metrics().hosts == 1


def test_prune_rolls_hours_up_then_keeps_7_days_of_minutes_and_90_of_hours(team) -> None:
    host = make_instance(team)
    now = timezone.now()
    base = epoch_ms(now - timedelta(days=8)) // HOUR_MS * HOUR_MS
    MetricSample.objects.bulk_create(
        MetricSample(
            instance=host,
            metric=Metric.GPU,
            timestamp=base + minute * 60_000,
            average=float(minute % 60),
            maximum=float(minute % 60) + 1,
            minimum=float(minute % 60) - 1,
        )
        for minute in range(120)
    )
    # This minute: always in the hour under way, which is never rolled up (a minute earlier
    # would fall in the previous, complete hour during the first minute of an hour).
    recent = epoch_ms(now) // 60_000 * 60_000
    MetricSample.objects.create(
        instance=host, metric=Metric.GPU, timestamp=recent, average=1, maximum=1, minimum=1
    )
    MetricHourly.objects.create(
        instance=host,
        metric=Metric.CPU,
        hour=epoch_ms(now - timedelta(days=91)) // HOUR_MS * HOUR_MS,
        average=1,
        maximum=1,
        minimum=1,
        samples=60,
    )
    report = prune_metrics(now)
    hours = list(MetricHourly.objects.filter(metric=Metric.GPU).order_by("hour"))
    assert [(h.hour, h.samples, h.average, h.maximum, h.minimum) for h in hours] == [
        (base, 60, 29.5, 60.0, -1.0),
        (base + HOUR_MS, 60, 29.5, 60.0, -1.0),
    ]
    assert report.samples_deleted == 120
    assert list(MetricSample.objects.values_list("timestamp", flat=True)) == [recent]
    assert report.hours_deleted == 1
    assert not MetricHourly.objects.filter(metric=Metric.CPU).exists()
    # Running it again changes nothing.
    again = prune_metrics(now)
    assert again.samples_deleted == 0 and MetricHourly.objects.count() == 2


def test_metrics_and_idle_records_are_visible_in_the_admin(client, django_user_model, team) -> None:
    host = make_instance(team, name="admin-visible")
    MetricSample.objects.create(
        instance=host,
        metric=Metric.GPU,
        timestamp=1_700_000_040_000,
        average=7,
        maximum=9,
        minimum=5,
    )
    admin = django_user_model.objects.create_superuser("root", password="root-pw-123")
    client.force_login(admin)
    for path in (
        "/admin/metrics/metricsample/",
        "/admin/metrics/metrichourly/",
        "/admin/autostop/idlepolicy/",
        "/admin/autostop/idleevaluation/",
        "/admin/autostop/snooze/",
        "/admin/autostop/schedule/",
        "/admin/autostop/teamidlesettings/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
    page = client.get("/admin/metrics/metricsample/").content.decode()
    assert "admin-visible" in page and "GPU utilisation" in page
