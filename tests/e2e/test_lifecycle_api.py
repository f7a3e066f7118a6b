"""Instances driven through the API and a real Celery worker, against cloudsim."""

from __future__ import annotations

import pytest

from cloud import ecs
from instances.models import ServiceInstance, Status
from operations import runner
from operations.models import Operation, OperationStatus
from tests.e2e.conftest import wait_for

pytestmark = pytest.mark.e2e

REGION = "cn-hangzhou"


def offer() -> tuple[str, str]:
    for entry in ecs.describe_available_resource(REGION):
        if entry.in_stock and (entry.instance_type or "") == "ecs.gn6i-c4g1.xlarge":
            return entry.zone_id, entry.instance_type
    raise AssertionError("no stock")


def finished(client, operation_id: str, timeout: float = 90) -> dict:
    def done() -> dict | None:
        body = client.get(f"/api/v1/operations/{operation_id}/").json()
        return body if body["status"] in ("succeeded", "failed", "cancelled") else None

    return wait_for(done, timeout=timeout, what=f"operation {operation_id}")


def create_body(name: str, **extra) -> dict:
    zone, instance_type = offer()
    return {"name": name, "region": REGION, "zone": zone, "instance_type": instance_type, **extra}


def test_an_instance_lives_its_whole_life_through_the_api(sim, worker, as_alice) -> None:
    created = as_alice.post("/api/v1/instances/", create_body("life-1"), format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "deploying" and body["operation"]["kind"] == "deploy"
    assert created["Location"] == f"/api/v1/instances/{body['id']}/"
    deployed = finished(as_alice, body["operation"]["id"])
    assert deployed["status"] == "succeeded", deployed["log"]
    instance = as_alice.get(f"/api/v1/instances/{body['id']}/").json()
    assert instance["status"] == "running" and instance["webui_endpoint"]

    for action, payload, expected in [
        ("stop", {"mode": "StopCharging"}, "stopped"),
        ("resize", {"instance_type": "ecs.gn6i-c8g1.2xlarge"}, "stopped"),
        ("start", {}, "running"),
        ("restart", {}, "running"),
        ("stop", {"mode": "KeepCharging"}, "stopped"),
        ("delete", {}, "deleted"),
    ]:
        response = as_alice.post(
            f"/api/v1/instances/{body['id']}/{action}/", payload, format="json"
        )
        assert response.status_code == 202, (action, response.json())
        result = finished(as_alice, response.json()["id"])
        assert result["status"] == "succeeded", (action, result["log"])
        current = ServiceInstance.objects.get(public_id=body["id"])
        assert current.status == expected, action
    assert current.instance_type == "ecs.gn6i-c8g1.2xlarge"
    assert not [
        i for i in sim.state()["instances"] if i["tags"].get("nestops:instance") == body["id"]
    ]


def test_bad_input_gets_field_errors_and_creates_nothing(sim, worker, as_alice) -> None:
    response = as_alice.post(
        "/api/v1/instances/",
        create_body("bad-1", vpc_cidr="8.8.0.0/16", host_password="short"),
        format="json",
    )
    assert response.status_code == 400
    details = response.json()["details"]
    assert "vpc_cidr" in details and "host_password" in details
    sold_out = as_alice.post(
        "/api/v1/instances/",
        {**create_body("bad-2"), "instance_type": "ecs.nonexistent"},
        format="json",
    )
    assert sold_out.status_code == 400 and "instance_type" in sold_out.json()["details"]
    assert not ServiceInstance.objects.exists()


def test_an_idempotency_key_returns_the_same_deploy(sim, worker, as_alice) -> None:
    body = create_body("idem-1")
    first = as_alice.post(
        "/api/v1/instances/", body, format="json", HTTP_IDEMPOTENCY_KEY="deploy-1"
    )
    again = as_alice.post(
        "/api/v1/instances/", body, format="json", HTTP_IDEMPOTENCY_KEY="deploy-1"
    )
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    other = as_alice.post(
        "/api/v1/instances/",
        {**body, "name": "idem-2"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="deploy-1",
    )
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert ServiceInstance.objects.count() == 1
    finished(as_alice, first.json()["operation"]["id"])


def test_a_flushed_broker_is_recovered_by_dispatch_due(
    sim, broker, transactional_db, fast_operations, as_alice
) -> None:
    from celery.contrib.testing.worker import start_worker

    from nestops.celery import app

    created = as_alice.post("/api/v1/instances/", create_body("flush-1"), format="json").json()
    assert app.control.purge() >= 1  # the deploy's message is gone
    with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False):
        operation = Operation.objects.get(public_id=created["operation"]["id"])
        assert operation.status == OperationStatus.PENDING
        assert runner.dispatch_due() == 1
        result = finished(as_alice, operation.public_id)
    assert result["status"] == "succeeded", result["log"]


def test_a_worker_killed_mid_deploy_leaves_it_to_the_next_one(
    sim, worker_processes, as_alice
) -> None:
    # A short lease, so that the dead worker's claim runs out within the test.
    first = worker_processes(NESTOPS_LEASE_SECONDS="5")
    created = as_alice.post("/api/v1/instances/", create_body("killed-1"), format="json").json()
    operation_id = created["operation"]["id"]

    def launched() -> bool:
        steps = Operation.objects.get(public_id=operation_id).steps
        return any(s["name"] == "run_instance" and s["status"] == "succeeded" for s in steps)

    wait_for(launched, timeout=60, what="the host launch")
    first.kill()
    operation = Operation.objects.get(public_id=operation_id)
    assert operation.status == OperationStatus.RUNNING
    worker_processes(NESTOPS_LEASE_SECONDS="5")

    def beat_until_finished() -> dict | None:
        # What beat does every 15 s: once the dead worker's lease has run out,
        # dispatch_due enqueues the operation again and the new worker carries it on.
        runner.dispatch_due()
        body = as_alice.get(f"/api/v1/operations/{operation_id}/").json()
        return body if body["status"] in ("succeeded", "failed", "cancelled") else None

    result = wait_for(beat_until_finished, timeout=120, interval=0.5, what="the deploy")
    assert result["status"] == "succeeded", result["log"]
    hosts = [
        i for i in sim.state()["instances"] if i["tags"].get("nestops:instance") == created["id"]
    ]
    assert len(hosts) == 1
    assert ServiceInstance.objects.get(public_id=created["id"]).status == Status.RUNNING
