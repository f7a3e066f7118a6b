"""``/metrics``: Prometheus' format, protected by a token or the scraper's address, with the
instances, operations, durations, queue delays, idle and schedule actions, spend rates and the
cloud API calls every process counted."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from accounts.requester import Source
from billing.models import UsageInterval
from cloud import CloudError, ecs
from instances.models import Status
from operations.models import Kind, Operation, OperationStatus
from tests.factories import make_instance

pytestmark = pytest.mark.django_db


def scrape(**extra) -> dict[tuple[str, tuple], float]:
    response = Client(**extra).get("/metrics")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_it_refuses_a_scraper_without_the_token_from_elsewhere(settings) -> None:
    settings.NESTOPS_METRICS_TOKEN = "metrics-token-1"
    outside = Client(REMOTE_ADDR="203.0.113.9")
    assert outside.get("/metrics").status_code == 403
    wrong = outside.get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 403 and b"nestops_" not in wrong.content
    assert outside.get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-token-1").status_code == 200
    settings.NESTOPS_METRICS_ALLOWED_ADDRESSES = ["203.0.113.0/24"]
    assert outside.get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="198.51.100.1").get("/metrics").status_code == 403


def operation(instance, kind, status, *, source=Source.API, ran=60, waited=2) -> Operation:
    created = timezone.now() - timedelta(hours=1)
    return Operation.objects.create(
        instance=instance,
        team=instance.team,
        kind=kind,
        status=status,
        source=source,
        created_at=created,
        started_at=created + timedelta(seconds=waited),
        finished_at=created + timedelta(seconds=waited + ran)
        if status != OperationStatus.RUNNING
        else None,
    )


def test_it_counts_what_the_database_holds(team) -> None:
    running = make_instance(team, status=Status.RUNNING)
    make_instance(team, status=Status.STOPPED, template="sd-webui-forge")
    operation(running, Kind.DEPLOY, OperationStatus.SUCCEEDED, ran=200, waited=3)
    operation(running, Kind.STOP, OperationStatus.SUCCEEDED, source=Source.IDLE_POLICY, ran=20)
    operation(running, Kind.START, OperationStatus.FAILED, source=Source.SCHEDULE, ran=10)
    operation(running, Kind.DOWNLOAD_MODEL, OperationStatus.RUNNING)
    UsageInterval.objects.create(
        instance=running,
        team=team,
        state="running",
        basis="compute",
        charge_type="PostPaid",
        instance_type=running.instance_type,
        started_at=timezone.now(),
        day=timezone.now().date(),
        hourly_rate=Decimal("8.50"),
        currency="CNY",
    )

    samples = scrape()
    assert samples[("nestops_instances", (("status", "running"), ("template", "sd-webui")))] == 1
    assert (
        samples[("nestops_instances", (("status", "stopped"), ("template", "sd-webui-forge")))] == 1
    )
    deploys = (("kind", "deploy"), ("outcome", "succeeded"), ("source", "api"))
    assert samples[("nestops_operations_total", deploys)] == 1
    assert samples[("nestops_operations_active", (("kind", "download_model"),))] == 1
    assert samples[("nestops_idle_stops_total", (("outcome", "succeeded"),))] == 1
    assert (
        samples[("nestops_schedule_actions_total", (("action", "start"), ("outcome", "failed")))]
        == 1
    )
    deploy = (("kind", "deploy"),)
    assert samples[("nestops_operation_duration_seconds_bucket", (*deploy, ("le", "120.0")))] == 0
    assert samples[("nestops_operation_duration_seconds_bucket", (*deploy, ("le", "300.0")))] == 1
    assert samples[("nestops_operation_duration_seconds_sum", deploy)] == 200
    assert samples[("nestops_operation_queue_delay_seconds_bucket", (*deploy, ("le", "5.0")))] == 1
    assert samples[("nestops_operation_queue_delay_seconds_count", deploy)] == 1
    rate = (("currency", "CNY"), ("team", team.slug))
    assert samples[("nestops_spend_rate_per_hour", rate)] == 8.5


def test_it_counts_cloud_calls_and_errors_by_action(sim) -> None:
    calls = ("nestops_cloud_api_calls_total", (("action", "DescribeRegions"), ("product", "ECS")))
    before = scrape().get(calls, 0)
    ecs.describe_regions()
    ecs.describe_regions()
    assert scrape()[calls] == before + 2

    def errors(code: str) -> tuple:
        labels = (("action", "StartInstance"), ("code", code), ("product", "ECS"))
        return ("nestops_cloud_api_errors_total", labels)

    before = scrape()
    with pytest.raises(CloudError) as refused:
        ecs.start_instance("cn-hangzhou", "i-doesnotexist000")
    assert scrape()[errors(refused.value.code)] == before.get(errors(refused.value.code), 0) + 1


def test_the_grafana_dashboard_names_only_metrics_nestops_exports() -> None:
    import json
    import re
    from pathlib import Path

    dashboard = json.loads((Path(__file__).parents[2] / "docs/grafana-dashboard.json").read_text())
    exported = {
        "nestops_instances",
        "nestops_operations_total",
        "nestops_operations_active",
        "nestops_operation_duration_seconds_bucket",
        "nestops_operation_queue_delay_seconds_bucket",
        "nestops_idle_stops_total",
        "nestops_schedule_actions_total",
        "nestops_spend_rate_per_hour",
        "nestops_cloud_api_calls_total",
        "nestops_cloud_api_errors_total",
        "nestops_cloud_api_call_seconds_bucket",
    }
    named = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"nestops_[a-z_]+", target["expr"])
    }
    assert named == exported
