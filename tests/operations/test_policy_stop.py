"""The one path by which a policy (auto-stop, schedules, budgets) stops a host."""

from __future__ import annotations

import pytest

from accounts.requester import Source
from instances.models import Status, StopMode
from operations.models import Kind, Operation, OperationStatus
from operations.policy_stop import request_policy_stop
from tests.factories import make_instance


@pytest.mark.parametrize("source", [Source.IDLE_POLICY, Source.SCHEDULE, Source.BUDGET])
def test_it_requests_a_stop_from_the_policy_without_an_actor(db, team, source) -> None:
    host = make_instance(team, status=Status.RUNNING)
    stop = request_policy_stop(
        instance=host, source=source, mode=StopMode.KEEP_CHARGING, params={"reason": "why not"}
    )
    assert stop.accepted and stop.refusal is None
    operation = stop.operation
    assert operation is not None
    assert (operation.kind, operation.status) == (Kind.STOP, OperationStatus.PENDING)
    assert (operation.source, operation.actor) == (source, None)
    assert operation.params["mode"] == StopMode.KEEP_CHARGING
    assert operation.params["reason"] == "why not"
    host.refresh_from_db()
    assert host.status == Status.STOPPING


def test_it_save_stops_by_default(db, team) -> None:
    host = make_instance(team, status=Status.RUNNING)
    stop = request_policy_stop(instance=host, source=Source.BUDGET)
    assert stop.operation is not None
    assert stop.operation.params["mode"] == StopMode.STOP_CHARGING


def test_it_runs_the_policys_follow_up_with_the_accepted_operation(db, team) -> None:
    host = make_instance(team, status=Status.RUNNING)
    seen: list[Operation] = []
    stop = request_policy_stop(instance=host, source=Source.SCHEDULE, then=seen.append)
    assert seen == [stop.operation]


@pytest.mark.parametrize("status", [Status.STOPPED, Status.DEPLOYING, Status.DELETED])
def test_it_returns_a_refusal_instead_of_raising_and_skips_the_follow_up(db, team, status) -> None:
    host = make_instance(team, status=status)
    seen: list[Operation] = []
    stop = request_policy_stop(instance=host, source=Source.IDLE_POLICY, then=seen.append)
    assert not stop.accepted and stop.operation is None
    assert stop.refusal is not None and stop.refusal.code == "invalid_state"
    assert seen == []
    assert not Operation.objects.filter(instance=host).exists()


def test_a_host_with_an_operation_under_way_is_a_refused_conflict(db, team) -> None:
    host = make_instance(team, status=Status.RUNNING)
    first = request_policy_stop(instance=host, source=Source.SCHEDULE)
    assert first.accepted
    again = request_policy_stop(instance=host, source=Source.IDLE_POLICY)
    assert again.refusal is not None
    assert again.refusal.code in ("operation_conflict", "invalid_state")
    assert Operation.objects.filter(instance=host).count() == 1
