"""Deploys instances and drives their operations through the runner in the test process,
against cloudsim."""

from __future__ import annotations

import time

from django.utils import timezone

from accounts.requester import Requester, Source
from cloud import ecs
from instances.models import ServiceInstance
from instances.services import NewInstance
from operations import runner
from operations.models import TERMINAL_STATUSES, Operation
from operations.services import request_deploy

REGION = "cn-hangzhou"


def drive(operation: Operation, sim, *, limit: int = 600, sim_seconds: float = 3.0) -> Operation:
    """Advances an operation until it ends: each round makes it due, runs it, and moves the
    cloud's clock (OOS scripts run in real time, so rounds also sleep a little)."""
    for _ in range(limit):
        operation.refresh_from_db()
        if operation.status in TERMINAL_STATUSES:
            return operation
        Operation.objects.filter(pk=operation.pk).update(
            next_attempt_at=timezone.now(), lease_until=None
        )
        runner.advance(operation.pk)
        sim.advance(sim_seconds)
        time.sleep(0.02)
    operation.refresh_from_db()
    raise AssertionError(
        f"{operation.public_id} ({operation.kind}) did not finish: {operation.status}\n"
        f"{operation.log}"
    )


def in_stock_offer() -> tuple[str, str]:
    for entry in ecs.describe_available_resource(REGION):
        if entry.in_stock and (entry.instance_type or "").startswith("ecs.gn6i-c4g1"):
            return entry.zone_id, entry.instance_type
    raise AssertionError("no gn6i stock in cloudsim")


def deploy(team, alice, sim, *, offer=None, **overrides) -> tuple[ServiceInstance, Operation]:
    zone, instance_type = offer or in_stock_offer()
    spec = NewInstance(
        team=team,
        name=overrides.pop("name", "webui-e2e"),
        template="sd-webui",
        region=REGION,
        zone=zone,
        instance_type=instance_type,
        **overrides,
    )
    return request_deploy(spec=spec, requester=Requester(source=Source.API, actor=alice))
