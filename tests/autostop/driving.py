"""Scenario helpers for metrics, idle auto-stop and schedules, against cloudsim and its clock.

Why time-machine: the control plane reads ``timezone.now()``, cloudsim has its own clock (it
started at the wall time and runs at speed 20 for the session, and other tests advance it).
The idle job compares CloudMonitor timestamps (the sim's) with its own now, and snoozes,
operations and ``running_since`` are stamped with ours, so a scenario only means something when
both clocks say the same. ``Clocks`` slows cloudsim to real speed, travels our clock to the
sim's time, and from then on moves both together (``advance``) and re-reads the sim's clock
after anything that advanced it alone (``sync``), e.g. ``drive()``.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone

from accounts.requester import Source
from autostop.idle import evaluate_idle
from autostop.idle_actions import IdleReport
from instances import webui
from instances.models import ServiceInstance
from metrics.collection import collect_metrics
from notifications.models import NotificationDelivery
from operations.models import Operation
from tests.driving import deploy, drive, in_stock_offer

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Clocks:
    """cloudsim's clock and the control plane's, moved together."""

    def __init__(self, sim: Any, traveller: Any) -> None:
        self.sim = sim
        self.traveller = traveller

    def sync(self) -> datetime:
        now = datetime.fromtimestamp(self.sim.clock()["epoch_ms"] / 1000, tz=UTC)
        self.traveller.move_to(now)
        return now

    def advance(self, seconds: float) -> datetime:
        self.sim.advance(seconds)
        return self.sync()


def events(team: Any, event: str) -> list[NotificationDelivery]:
    return list(NotificationDelivery.objects.filter(team=team, event=event).order_by("created_at"))


def running_host(team: Any, alice: Any, clocks: Clocks, name: str) -> ServiceInstance:
    """A host deployed through the real runner, WebUI configured with its credentials."""
    instance, operation = deploy(team, alice, clocks.sim, name=name)
    drive(operation, clocks.sim)
    clocks.sync()
    instance.refresh_from_db()
    assert instance.status == "running", operation.log
    return instance


def generate(instance: ServiceInstance, steps: int = 20) -> dict[str, Any]:
    """A txt2img request through the host's WebUI (0.02 real s per step)."""
    token = base64.b64encode(f"{instance.webui_user}:{instance.webui_password}".encode()).decode()
    request = urllib.request.Request(
        instance.webui_endpoint + "/sdapi/v1/txt2img",
        data=json.dumps({"prompt": "a lighthouse at dusk", "steps": steps}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Basic {token}"},
        method="POST",
    )
    with _opener.open(request, timeout=30) as response:
        return json.loads(response.read())


def generate_in_background(instance: ServiceInstance, steps: int = 100) -> threading.Thread:
    """Starts a job (0.02 real s per step) and returns once the WebUI reports it running."""
    thread = threading.Thread(target=generate, args=(instance, steps), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not webui.progress(instance).busy:
        assert time.monotonic() < deadline, "the WebUI never took the job"
        time.sleep(0.01)
    return thread


def beat_minute(clocks: Clocks, minutes: int = 1) -> IdleReport:
    """What beat does every minute: collect CloudMonitor points, then evaluate idle hosts."""
    report = IdleReport()
    for _ in range(minutes):
        clocks.advance(60)
        collect_metrics()
        report = evaluate_idle()
    return report


def idle_stops(instance: ServiceInstance) -> list[Operation]:
    return list(instance.operations.filter(kind="stop", source=Source.IDLE_POLICY))


def fleet(sim: Any, team: Any, count: int) -> list[ServiceInstance]:
    """``count`` running hosts made with one RunInstances call (no WebUI set up), and their
    rows: for collection tests that need more than 50 hosts."""
    from cloud import ecs, vpc

    token = uuid.uuid4().hex[:16]
    zone, instance_type = in_stock_offer()
    sim.set_stock(zone, instance_type, count + 50)
    vpc_id, _ = vpc.create_vpc(
        "cn-hangzhou", cidr_block="10.0.0.0/8", name="fleet", client_token=f"v{token}"
    )
    sim.advance(2)
    vswitch_id, _ = vpc.create_vswitch(
        "cn-hangzhou",
        vpc_id=vpc_id,
        zone_id=zone,
        cidr_block="10.1.0.0/16",
        name="fleet",
        client_token=f"s{token}",
    )
    group_id, _ = ecs.create_security_group(
        "cn-hangzhou", vpc_id=vpc_id, name="fleet", client_token=f"g{token}"
    )
    sim.advance(2)
    cloud_ids = ecs.run_instances(
        "cn-hangzhou",
        zone_id=zone,
        instance_type=instance_type,
        image_id="m-sim-sd-webui",
        security_group_id=group_id,
        vswitch_id=vswitch_id,
        instance_name="fleet",
        client_token=f"r{token}",
        amount=count,
    ).instance_ids
    sim.advance(10)
    return [
        ServiceInstance.objects.create(
            team=team,
            name=f"fleet-{n}",
            region="cn-hangzhou",
            zone=zone,
            instance_type=instance_type,
            status="running",
            running_since=timezone.now(),
            cloud_instance_id=cloud_id,
        )
        for n, cloud_id in enumerate(cloud_ids)
    ]
