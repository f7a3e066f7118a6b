"""The system's own follow-up work (the inventory read after a host comes up running) travels on
the ``background`` queue and what people ask on the default one; a real worker consumes both."""

from __future__ import annotations

import pytest
from celery.signals import before_task_publish

from accounts.requester import Requester, Source
from hostfiles import services as host_files
from hostfiles.followers import request_read
from operations.models import Kind, Operation, OperationStatus
from tests.e2e.conftest import wait_for
from tests.hosts import instance_on

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def published():
    """(routing key, operation id) of every operation pass published to the broker."""
    seen: list[tuple[str, int]] = []

    def record(sender=None, body=None, routing_key=None, **_kwargs) -> None:
        if sender == "operations.advance":
            seen.append((routing_key, body[0][0]))

    before_task_publish.connect(record, weak=False)
    yield seen
    before_task_publish.disconnect(record)


def _done(operation: Operation) -> bool:
    operation.refresh_from_db()
    return operation.status in (OperationStatus.SUCCEEDED, OperationStatus.FAILED)


def test_system_reads_go_to_the_background_queue_and_a_worker_runs_both(
    worker, sim, team, alice, shared_host, published
) -> None:
    automatic = instance_on(team, shared_host, name="read-by-itself")
    request_read(automatic.pk)
    system = Operation.objects.get(instance=automatic, kind=Kind.REFRESH_INVENTORY)
    assert system.source == Source.SYSTEM

    asked = instance_on(team, shared_host, name="read-when-asked")
    person, _created = host_files.request_inventory_refresh(
        instance=asked, requester=Requester(actor=alice, source=Source.API)
    )
    for operation in (system, person):
        wait_for(lambda operation=operation: _done(operation), timeout=120, what=operation)
        assert operation.status == OperationStatus.SUCCEEDED, operation.log
    keys = {
        pk: {key for key, published_pk in published if published_pk == pk}
        for pk in (system.pk, person.pk)
    }
    assert keys == {system.pk: {"background"}, person.pk: {"celery"}}
