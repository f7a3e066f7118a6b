"""Reconcile against cloudsim: drift is corrected and recorded; active operations are left alone."""

from __future__ import annotations

import pytest

from accounts.models import AuditAction, AuditEvent
from accounts.requester import Requester
from cloud import ecs
from instances.models import Status
from instances.reconcile import reconcile_instances
from operations.models import Kind
from operations.services import request_operation
from tests.driving import deploy, drive

pytestmark = pytest.mark.django_db(transaction=True)
REGION = "cn-hangzhou"


@pytest.fixture(autouse=True)
def fast(settings):
    settings.NESTOPS_POLL_SECONDS = 0.05
    settings.NESTOPS_RETRY_BASE_SECONDS = 0.01


def wait_cloud_status(sim, cloud_id: str, status: str) -> None:
    for _ in range(40):
        if ecs.describe_instances(REGION, [cloud_id])[cloud_id].status == status:
            return
        sim.advance(5)
    raise AssertionError(status)


def test_it_corrects_a_host_stopped_or_released_outside_nestops(sim, team, alice) -> None:
    stopped_outside, op1 = deploy(team, alice, sim, name="drift-1")
    released_outside, op2 = deploy(team, alice, sim, name="drift-2")
    untouched, op3 = deploy(team, alice, sim, name="drift-3")
    for op in (op1, op2, op3):
        drive(op, sim)
    for instance in (stopped_outside, released_outside, untouched):
        instance.refresh_from_db()

    ecs.stop_instance(REGION, stopped_outside.cloud_instance_id, stopped_mode="StopCharging")
    wait_cloud_status(sim, stopped_outside.cloud_instance_id, "Stopped")
    ecs.delete_instance(REGION, released_outside.cloud_instance_id, force=True)

    sim.reset_calls()
    report = reconcile_instances()
    assert sorted(report.corrected) == sorted(
        [stopped_outside.public_id, released_outside.public_id]
    )
    assert sim.calls().get("Ecs.DescribeInstances") == 1
    stopped_outside.refresh_from_db()
    released_outside.refresh_from_db()
    untouched.refresh_from_db()
    assert (stopped_outside.status, stopped_outside.stopped_mode) == (
        Status.STOPPED,
        "StopCharging",
    )
    assert stopped_outside.public_ip is None
    assert released_outside.status == Status.DELETED
    assert "released outside nestops" in released_outside.status_reason
    assert untouched.status == Status.RUNNING
    events = AuditEvent.objects.filter(action=AuditAction.INSTANCE_DRIFT)
    assert {e.target for e in events} == {stopped_outside.public_id, released_outside.public_id}
    assert reconcile_instances().corrected == []  # nothing left to correct


def test_it_never_fights_an_active_operation(sim, team, alice) -> None:
    instance, operation = deploy(team, alice, sim, name="busy-1")
    drive(operation, sim)
    instance.refresh_from_db()
    stop, _ = request_operation(
        instance=instance, kind=Kind.STOP, requester=Requester(source="api", actor=alice)
    )
    # The cloud still says Running while the stop is only queued: reconcile must not touch it.
    report = reconcile_instances()
    assert instance.public_id not in report.corrected
    instance.refresh_from_db()
    assert instance.status == Status.STOPPING
    drive(stop, sim)
