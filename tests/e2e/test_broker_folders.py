"""The embedded broker's folders removed while a real worker runs an operation."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.conf import settings

from nestops.celery import app
from operations.models import Operation
from operations.tasks import dispatch_due
from tests.e2e.conftest import wait_for
from tests.e2e.test_lifecycle_api import create_body

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not settings.CELERY_BROKER_URL.startswith("filesystem"),
        reason="the filesystem broker only",
    ),
]


def broker_folder() -> Path:
    return Path(app.conf.broker_transport_options["data_folder_in"]).parent


def remove_broker_folder() -> None:
    """rm -rf of the whole folder; again if the worker wrote a message into it meanwhile."""
    for _ in range(20):
        shutil.rmtree(broker_folder(), ignore_errors=True)
        if not broker_folder().exists():
            return
    raise AssertionError("the broker folder could not be removed")


def finished_with_beat(client, operation_id: str) -> dict:
    """Waits for the operation while beat's dispatch_due is published through the broker,
    as beat does every 15 s: a message that was in the removed folder is enqueued again."""

    def done() -> dict | None:
        dispatch_due.delay()
        body = client.get(f"/api/v1/operations/{operation_id}/").json()
        return body if body["status"] in ("succeeded", "failed", "cancelled") else None

    return wait_for(done, timeout=90, interval=1.0, what=f"operation {operation_id}")


def test_a_deploy_completes_when_the_broker_folder_is_removed_under_it(
    sim, worker, as_alice
) -> None:
    created = as_alice.post("/api/v1/instances/", create_body("broker-1"), format="json")
    assert created.status_code == 201, created.json()
    operation_id = created.json()["operation"]["id"]
    wait_for(
        lambda: Operation.objects.get(public_id=operation_id).steps,
        what="the deploy's first step",
    )
    remove_broker_folder()

    result = finished_with_beat(as_alice, operation_id)

    assert result["status"] == "succeeded", result["log"]
    assert (broker_folder() / "queue").is_dir()
    assert (broker_folder() / "queue").stat().st_mode & 0o777 == 0o700
    # The worker thread is still consuming: a second operation completes too.
    stop = as_alice.post(
        f"/api/v1/instances/{created.json()['id']}/stop/", {"mode": "StopCharging"}, format="json"
    )
    assert stop.status_code == 202, stop.json()
    assert finished_with_beat(as_alice, stop.json()["id"])["status"] == "succeeded"


def test_a_publish_recreates_a_missing_queue_folder(broker) -> None:
    remove_broker_folder()

    with app.connection_for_write() as connection:
        queue = connection.SimpleQueue("nestops-broker-check")
        queue.put({"hello": "again"})
        message = queue.get(timeout=5)
        message.ack()
        queue.close()

    assert message.payload == {"hello": "again"}
    assert (broker_folder() / "queue").is_dir()
