"""The transition table, conflicts and idempotency of request_operation."""

from __future__ import annotations

import pytest

from accounts.requester import Requester, Source
from instances.models import ServiceInstance, Status
from operations.models import Kind, Operation, OperationStatus
from operations.services import (
    IdempotencyKeyReused,
    OperationConflict,
    OperationRefused,
    action_for,
    cancel_operation,
    request_operation,
)
from tests.factories import make_instance

ALL_STATUSES = [s.value for s in Status]


def ask(instance: ServiceInstance, kind: str, actor, idempotency_key: str = "", **extra):
    requester = Requester(source=Source.API, actor=actor, idempotency_key=idempotency_key)
    return request_operation(instance=instance, kind=kind, requester=requester, **extra)


@pytest.mark.parametrize("kind", [k.value for k in Kind])
@pytest.mark.parametrize("status", ALL_STATUSES)
def test_the_transition_table(db, team, alice, kind: str, status: str) -> None:
    instance = make_instance(team, status=status)
    allowed = status in action_for(kind).allowed_from
    if allowed:
        operation, created = ask(instance, kind, alice)
        assert created and operation.status == OperationStatus.PENDING
        instance.refresh_from_db()
        assert instance.status == action_for(kind).during
        assert operation.params["from_status"] == status
    else:
        with pytest.raises(OperationRefused) as caught:
            ask(instance, kind, alice)
        assert caught.value.code == "invalid_state"
        instance.refresh_from_db()
        assert instance.status == status
        assert not Operation.objects.filter(instance=instance).exists()


def test_it_refuses_to_stop_a_deleted_instance(db, team, alice) -> None:
    instance = make_instance(team, status=Status.DELETED)
    with pytest.raises(OperationRefused, match="deleted"):
        ask(instance, Kind.STOP, alice)


def test_a_second_lifecycle_operation_is_a_conflict_naming_the_first(db, team, alice) -> None:
    instance = make_instance(team, status=Status.RUNNING)
    first, _ = ask(instance, Kind.STOP, alice)
    # Pretend the instance went back to running while the stop is still active.
    ServiceInstance.objects.filter(pk=instance.pk).update(status=Status.RUNNING)
    with pytest.raises(OperationConflict) as caught:
        ask(instance, Kind.RESTART, alice)
    assert caught.value.http_status == 409
    assert caught.value.details["active_operation"] == first.public_id
    assert first.public_id in caught.value.message


def test_delete_is_accepted_while_another_operation_runs_and_cancels_it(db, team, alice) -> None:
    instance = make_instance(team, status=Status.RUNNING)
    stop, _ = ask(instance, Kind.STOP, alice)
    _delete, created = ask(instance, Kind.DELETE, alice)
    assert created
    stop.refresh_from_db()
    assert stop.cancel_requested
    instance.refresh_from_db()
    assert instance.status == Status.DELETING
    with pytest.raises(OperationConflict):
        ask(instance, Kind.DELETE, alice)


def test_the_same_idempotency_key_and_request_return_the_same_operation(db, team, alice) -> None:
    instance = make_instance(team, status=Status.RUNNING)
    first, created = ask(
        instance, Kind.STOP, alice, params={"mode": "StopCharging"}, idempotency_key="k1"
    )
    again, created_again = ask(
        instance, Kind.STOP, alice, params={"mode": "StopCharging"}, idempotency_key="k1"
    )
    assert created and not created_again
    assert first.pk == again.pk
    assert Operation.objects.filter(instance=instance).count() == 1


def test_the_same_idempotency_key_with_another_request_is_refused(db, team, alice) -> None:
    instance = make_instance(team, status=Status.RUNNING)
    first, _ = ask(
        instance, Kind.STOP, alice, params={"mode": "StopCharging"}, idempotency_key="k2"
    )
    with pytest.raises(IdempotencyKeyReused) as caught:
        ask(instance, Kind.STOP, alice, params={"mode": "KeepCharging"}, idempotency_key="k2")
    assert caught.value.http_status == 422
    assert first.public_id in caught.value.message


def test_idempotency_keys_belong_to_their_user(db, team, alice, carol) -> None:
    instance = make_instance(team, status=Status.RUNNING)
    ask(instance, Kind.STOP, alice, idempotency_key="shared")
    other = make_instance(team, status=Status.RUNNING)
    operation, created = ask(other, Kind.STOP, carol, idempotency_key="shared")
    assert created and operation.actor == carol


def test_cancel_marks_an_active_operation_and_refuses_a_finished_one(db, team, alice) -> None:
    instance = make_instance(team, status=Status.RUNNING)
    operation, _ = ask(instance, Kind.STOP, alice)
    cancel_operation(operation=operation, actor=alice)
    operation.refresh_from_db()
    assert operation.cancel_requested
    Operation.objects.filter(pk=operation.pk).update(status=OperationStatus.SUCCEEDED)
    with pytest.raises(OperationRefused) as caught:
        cancel_operation(operation=operation, actor=alice)
    assert caught.value.code == "operation_finished"


def _file_operation(instance, actor, target: str):
    operation, _ = ask(instance, Kind.REFRESH_INVENTORY, actor, params={"target": target})
    return operation


def test_a_file_operation_leaves_the_status_and_its_reason_alone(db, team, alice) -> None:
    instance = make_instance(team, status=Status.RUNNING, status_reason="started by schedule")
    changed_at = instance.status_changed_at
    _file_operation(instance, alice, "inventory")
    instance.refresh_from_db()
    assert (instance.status, instance.status_reason) == (Status.RUNNING, "started by schedule")
    assert instance.status_changed_at == changed_at


def test_a_file_operation_during_a_lifecycle_operation_is_a_conflict_naming_it(
    db, team, alice
) -> None:
    instance = make_instance(team, status=Status.RUNNING)
    restart, _ = ask(instance, Kind.RESTART, alice)
    ServiceInstance.objects.filter(pk=instance.pk).update(status=Status.RUNNING)
    with pytest.raises(OperationConflict) as caught:
        _file_operation(instance, alice, "inventory")
    assert caught.value.details == {"active_operation": restart.public_id, "kind": "restart"}


@pytest.mark.parametrize("kind", [Kind.STOP, Kind.RESTART, Kind.DELETE])
def test_taking_the_host_away_asks_its_file_operations_to_cancel(db, team, alice, kind) -> None:
    instance = make_instance(team, status=Status.RUNNING)
    files = [_file_operation(instance, alice, f"model:models/Lora/{n}") for n in range(2)]
    operation, created = ask(instance, kind, alice)
    assert created
    for other in files:
        other.refresh_from_db()
        assert other.cancel_requested
    operation.refresh_from_db()
    assert not operation.cancel_requested


def test_two_operations_never_work_on_the_same_file(db, team, alice) -> None:
    instance = make_instance(team, status=Status.RUNNING)
    first = _file_operation(instance, alice, "model:models/Lora/a.safetensors")
    with pytest.raises(OperationConflict) as caught:
        _file_operation(instance, alice, "model:models/Lora/a.safetensors")
    assert caught.value.details["active_operation"] == first.public_id
    Operation.objects.filter(pk=first.pk).update(status=OperationStatus.SUCCEEDED)
    assert _file_operation(instance, alice, "model:models/Lora/a.safetensors").pk != first.pk
