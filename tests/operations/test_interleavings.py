"""A delete or a stop asked while another operation runs: the instance never goes back to a
state it is leaving, and the ledger never bills a deleting host as running."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from accounts.requester import Requester, Source
from billing.models import UsageInterval
from hostfiles import services as host_files
from instances.lifecycle import status_changed
from instances.models import ServiceInstance, Status
from operations import runner
from operations.models import Kind, Operation, OperationStatus
from operations.services import OperationRefused, request_operation
from tests.driving import deploy, drive

pytestmark = pytest.mark.django_db(transaction=True)

RESIZE_TO = "ecs.gn6i-c8g1.2xlarge"
# first operation -> the status the instance must have before it is asked
NEEDS = {
    Kind.DEPLOY: Status.DEPLOYING,
    Kind.START: Status.STOPPED,
    Kind.STOP: Status.RUNNING,
    Kind.RESTART: Status.RUNNING,
    Kind.RESIZE: Status.STOPPED,
    Kind.REFRESH_INVENTORY: Status.RUNNING,
    Kind.DOWNLOAD_MODEL: Status.RUNNING,
}


@pytest.fixture
def statuses():
    seen: list[tuple[str, str]] = []

    def record(sender, *, instance, at, **kwargs):
        if at is not None:
            seen.append((instance.public_id, instance.status))

    status_changed.connect(record, dispatch_uid="test-interleavings")
    yield seen
    status_changed.disconnect(dispatch_uid="test-interleavings")


def asked_by(alice) -> Requester:
    return Requester(source=Source.API, actor=alice)


def step(operation: Operation, sim, rounds: int = 1) -> None:
    """Runs ``rounds`` steps of an operation without waiting for it to end."""
    for _ in range(rounds):
        Operation.objects.filter(pk=operation.pk).update(
            next_attempt_at=timezone.now(), lease_until=None
        )
        runner.advance(operation.pk)
        sim.advance(1)
        time.sleep(0.02)


def prepare(kind: str, team, alice, sim, files) -> tuple[ServiceInstance, Operation]:
    """An instance in the status ``kind`` needs, and the first operation, started."""
    instance, deploying = deploy(team, alice, sim, name=f"race-{kind}"[:30])
    if kind == Kind.DEPLOY:
        step(deploying, sim, rounds=2)
        return instance, deploying
    drive(deploying, sim)
    if NEEDS[kind] == Status.STOPPED:
        stop, _ = request_operation(instance=instance, kind=Kind.STOP, requester=asked_by(alice))
        drive(stop, sim)
    instance.refresh_from_db()
    if kind == Kind.DOWNLOAD_MODEL:
        url = files.add("race_v1.safetensors", b"x" * 200_000)
        first, _ = host_files.request_download(
            instance=instance, url=url, kind="checkpoint", requester=asked_by(alice)
        )
    else:
        params = {"instance_type": RESIZE_TO} if kind == Kind.RESIZE else {}
        first, _ = request_operation(
            instance=instance, kind=kind, params=params, requester=asked_by(alice)
        )
    step(first, sim, rounds=2)
    return instance, first


def billed_after(instance: ServiceInstance, moment) -> set[str]:
    return set(
        UsageInterval.objects.filter(instance=instance, started_at__gte=moment).values_list(
            "state", flat=True
        )
    )


@pytest.mark.parametrize("first_kind", list(NEEDS))
def test_a_delete_during_an_operation_ends_deleted_and_bills_no_running_host(
    first_kind, sim, team, alice, files, statuses, fast_runner, local_sources
) -> None:
    instance, first = prepare(first_kind, team, alice, sim, files)
    asked_at = timezone.now()
    delete, _ = request_operation(instance=instance, kind=Kind.DELETE, requester=asked_by(alice))
    first = drive(first, sim)
    assert first.status in (OperationStatus.CANCELLED, OperationStatus.SUCCEEDED), first.log
    instance.refresh_from_db()
    assert instance.status == Status.DELETING, first.log

    assert drive(delete, sim).status == OperationStatus.SUCCEEDED, delete.log
    instance.refresh_from_db()
    assert instance.status == Status.DELETED
    mine = [status for public_id, status in statuses if public_id == instance.public_id]
    after_delete = mine[mine.index(Status.DELETING) + 1 :]
    assert after_delete == [Status.DELETED], mine
    assert billed_after(instance, asked_at) <= {"deleting"}
    assert not UsageInterval.objects.filter(instance=instance, ended_at__isnull=True).exists()


@pytest.mark.parametrize("first_kind", list(NEEDS))
def test_a_stop_during_an_operation_never_undoes_it(
    first_kind, sim, team, alice, files, statuses, fast_runner, local_sources
) -> None:
    instance, first = prepare(first_kind, team, alice, sim, files)
    if first_kind in (Kind.REFRESH_INVENTORY, Kind.DOWNLOAD_MODEL):
        # A stop takes the host from the file work, which is cancelled.
        stop, _ = request_operation(instance=instance, kind=Kind.STOP, requester=asked_by(alice))
        drive(first, sim)
        assert drive(stop, sim).status == OperationStatus.SUCCEEDED, stop.log
        instance.refresh_from_db()
        assert instance.status == Status.STOPPED
        mine = [s for public_id, s in statuses if public_id == instance.public_id]
        assert mine[mine.index(Status.STOPPING) :] == [Status.STOPPING, Status.STOPPED], mine
        return
    # A lifecycle operation is under way (or has just ended): the stop is refused and the first
    # one finishes as it would have.
    with pytest.raises(OperationRefused) as refused:
        request_operation(instance=instance, kind=Kind.STOP, requester=asked_by(alice))
    assert refused.value.code in ("operation_conflict", "invalid_state")
    first = drive(first, sim)
    assert first.status == OperationStatus.SUCCEEDED, first.log
    instance.refresh_from_db()
    expected = {
        Kind.DEPLOY: Status.RUNNING,
        Kind.START: Status.RUNNING,
        Kind.STOP: Status.STOPPED,
        Kind.RESTART: Status.RUNNING,
        Kind.RESIZE: Status.STOPPED,
    }[first_kind]
    assert instance.status == expected
