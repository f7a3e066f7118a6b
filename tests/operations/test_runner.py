"""Operations carried out by the runner against cloudsim, through the real SDKs."""

from __future__ import annotations

import base64
import json
import logging
import urllib.error
import urllib.request

import pytest

from accounts.requester import Requester
from cloud import ecs
from instances.models import ServiceInstance, Status
from operations import runner
from operations.models import Kind, Operation, OperationStatus
from operations.services import cancel_operation, request_operation
from tests.driving import REGION, deploy, drive, in_stock_offer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fast_runner(settings):
    settings.NESTOPS_POLL_SECONDS = 0.05
    settings.NESTOPS_RETRY_BASE_SECONDS = 0.01
    settings.NESTOPS_RETRY_MAX_SECONDS = 0.05
    settings.NESTOPS_WEBUI_READY_TIMEOUT_SECONDS = 30


def sim_instances_tagged(sim, public_id: str) -> list[dict]:
    return [
        i
        for i in sim.state()["instances"]
        if (i.get("tags") or {}).get("nestops:instance") == public_id
    ]


def webui_get(url: str, auth: tuple[str, str] | None) -> int:
    request = urllib.request.Request(url + "/sdapi/v1/progress")
    if auth:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_a_deploy_builds_the_host_and_configures_the_webui(sim, team, alice) -> None:
    instance, operation = deploy(team, alice, sim)
    operation = drive(operation, sim)
    assert operation.status == OperationStatus.SUCCEEDED, operation.log
    instance.refresh_from_db()
    assert instance.status == Status.RUNNING
    assert instance.vpc_id and instance.vswitch_id and instance.security_group_id
    assert instance.public_ip and instance.webui_endpoint
    assert instance.host_password == ""
    hosts = sim_instances_tagged(sim, instance.public_id)
    assert len(hosts) == 1 and hosts[0]["tags"]["nestops:team"] == "alpha"
    permissions = ecs.describe_security_group_permissions(REGION, instance.security_group_id)
    assert {p.port_range for p in permissions} == {"7860/7860"}
    assert "0.0.0.0/0" not in {p.source_cidr for p in permissions}
    assert webui_get(instance.webui_endpoint, None) == 401
    assert webui_get(instance.webui_endpoint, ("admin", instance.webui_password)) == 200
    names = [s["name"] for s in operation.steps]
    assert names[:4] == ["create_vpc", "create_vswitch", "create_security_group", "run_instance"]
    assert all(s["status"] == "succeeded" for s in operation.steps)
    assert any(s["request_ids"] for s in operation.steps)


def test_public_access_opens_the_port_to_everyone(sim, team, alice) -> None:
    instance, operation = deploy(team, alice, sim, name="public-1", public_access=True)
    drive(operation, sim)
    instance.refresh_from_db()
    permissions = ecs.describe_security_group_permissions(REGION, instance.security_group_id)
    assert [(p.port_range, p.source_cidr) for p in permissions] == [("7860/7860", "0.0.0.0/0")]


def test_stop_start_resize_and_delete(sim, team, alice) -> None:
    instance, operation = deploy(team, alice, sim, name="cycle-1")
    drive(operation, sim)

    stop, _ = request_operation(
        instance=instance, kind=Kind.STOP, requester=Requester(source="api", actor=alice)
    )
    assert drive(stop, sim).status == OperationStatus.SUCCEEDED, stop.log
    instance.refresh_from_db()
    assert (instance.status, instance.stopped_mode) == (Status.STOPPED, "StopCharging")
    assert instance.public_ip is None

    resize, _ = request_operation(
        instance=instance,
        kind=Kind.RESIZE,
        params={"instance_type": "ecs.gn6i-c8g1.2xlarge"},
        requester=Requester(source="api", actor=alice),
    )
    resized = drive(resize, sim)
    assert resized.status == OperationStatus.SUCCEEDED, resized.log
    instance.refresh_from_db()
    assert instance.instance_type == "ecs.gn6i-c8g1.2xlarge" and instance.status == Status.STOPPED
    assert sim.instance(instance.cloud_instance_id)["instance_type"] == "ecs.gn6i-c8g1.2xlarge"

    start, _ = request_operation(
        instance=instance, kind=Kind.START, requester=Requester(source="api", actor=alice)
    )
    assert drive(start, sim).status == OperationStatus.SUCCEEDED
    instance.refresh_from_db()
    assert instance.status == Status.RUNNING and instance.public_ip

    delete, _ = request_operation(
        instance=instance, kind=Kind.DELETE, requester=Requester(source="api", actor=alice)
    )
    deleted = drive(delete, sim)
    assert deleted.status == OperationStatus.SUCCEEDED, deleted.log
    instance.refresh_from_db()
    assert instance.status == Status.DELETED and instance.deleted_at
    state = sim.state()
    assert not sim_instances_tagged(sim, instance.public_id)
    assert instance.vpc_id not in {v["vpc_id"] for v in state["vpcs"]}
    assert instance.security_group_id not in {
        g["security_group_id"] for g in state["security_groups"]
    }


def test_start_waits_for_stock_then_gives_advice(sim, team, alice, settings) -> None:
    instance, operation = deploy(team, alice, sim, name="nostock-1")
    drive(operation, sim)
    stop, _ = request_operation(
        instance=instance, kind=Kind.STOP, requester=Requester(source="api", actor=alice)
    )
    drive(stop, sim)
    sim.set_stock(instance.zone, instance.instance_type, 0)
    try:
        settings.NESTOPS_START_NO_STOCK_WINDOW_SECONDS = 0
        start, _ = request_operation(
            instance=instance, kind=Kind.START, requester=Requester(source="api", actor=alice)
        )
        failed = drive(start, sim)
        assert failed.status == OperationStatus.FAILED
        assert failed.error_code == "OperationDenied.NoStock"
        assert (
            instance.zone in failed.error_message and instance.instance_type in failed.error_message
        )
        assert "another zone" in failed.error_message
        instance.refresh_from_db()
        assert instance.status == Status.STOPPED and "NoStock" in instance.status_reason
    finally:
        sim.set_stock(instance.zone, instance.instance_type, 50)


def test_a_failed_deploy_removes_what_it_created(sim, team, alice) -> None:
    sim.set_faults(action="RunInstances", code="QuotaExceed.ElasticQuota", http_status=403, count=1)
    instance, operation = deploy(team, alice, sim, name="quota-1")
    failed = drive(operation, sim)
    assert failed.status == OperationStatus.FAILED
    assert failed.error_code == "QuotaExceed.ElasticQuota"
    instance.refresh_from_db()
    assert instance.status == Status.DEPLOY_FAILED
    assert "QuotaExceed.ElasticQuota" in instance.status_reason
    assert instance.vpc_id == "" and instance.security_group_id == ""
    state = sim.state()
    assert [v for v in state["vpcs"] if v["name"] == f"nestops-{instance.public_id}"] == []
    assert "deleted VPC" in failed.log and "deleted security group" in failed.log
    assert [s["phase"] for s in failed.steps].count("rollback") >= 3


def test_a_timed_out_run_instances_is_retried_without_a_second_host(
    sim, team, alice, settings
) -> None:
    settings.NESTOPS_CLOUD_READ_TIMEOUT_MS = 1000
    sim.set_faults(action="RunInstances", timeout_ratio=1.0, hang_ms=2500, count=1)
    instance, operation = deploy(team, alice, sim, name="timeout-1")
    done = drive(operation, sim)
    assert done.status == OperationStatus.SUCCEEDED, done.log
    assert "Timeout" in done.log or "NetworkError" in done.log
    assert len(sim_instances_tagged(sim, instance.public_id)) == 1


def test_operations_complete_while_half_the_calls_are_throttled(sim, team, alice) -> None:
    offer = in_stock_offer()
    sim.set_faults(action="*", throttle_ratio=0.5, seed=7)
    try:
        _instance, operation = deploy(team, alice, sim, offer=offer, name="throttled-1")
        done = drive(operation, sim)
        assert done.status == OperationStatus.SUCCEEDED, done.log
        assert "Throttling" in done.log
    finally:
        sim.clear_faults()


def test_a_lease_keeps_a_second_runner_out_until_it_expires(sim, team, alice, settings) -> None:
    _instance, operation = deploy(team, alice, sim, name="lease-1")
    claimed = runner.claim(operation.pk)
    assert claimed is not None
    assert runner.claim(operation.pk) is None  # a second delivery finds the lease taken
    assert runner.dispatch_due() == 0
    # The worker holding it dies; its lease runs out.
    Operation.objects.filter(pk=operation.pk).update(lease_until="2000-01-01T00:00:00Z")
    assert runner.dispatch_due() == 1
    assert drive(operation, sim).status == OperationStatus.SUCCEEDED


def test_cancelling_a_deploy_cleans_up(sim, team, alice) -> None:
    instance, operation = deploy(team, alice, sim, name="cancel-1")
    for _ in range(4):  # a few steps in
        Operation.objects.filter(pk=operation.pk).update(next_attempt_at="2000-01-01T00:00:00Z")
        runner.advance(operation.pk)
    cancel_operation(operation=operation, actor=alice)
    cancelled = drive(operation, sim)
    assert cancelled.status == OperationStatus.CANCELLED
    instance.refresh_from_db()
    assert instance.status == Status.DEPLOY_FAILED
    assert not sim_instances_tagged(sim, instance.public_id)


def test_secrets_never_reach_logs_or_operation_records(sim, team, alice, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    instance, operation = deploy(team, alice, sim, name="secret-1", host_password="Host-Pass-123!")
    done = drive(operation, sim)
    instance.refresh_from_db()
    password = instance.webui_password
    recorded = json.dumps([done.params, done.state, done.steps, done.log, done.error_message])
    assert password not in recorded and "Host-Pass-123!" not in recorded
    assert password not in caplog.text and "Host-Pass-123!" not in caplog.text
    raw = ServiceInstance.objects.filter(pk=instance.pk).values_list("webui_password", flat=True)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT webui_password FROM instances_serviceinstance WHERE id = %s", [instance.pk]
        )
        stored = cursor.fetchone()[0]
    assert password not in stored and stored.startswith("gAAAA")
    assert list(raw) == [password]
