"""Fixtures for tests that need running hosts (registered for the whole suite by the root
conftest): a WebUI host in cloudsim shared by the session, instance rows pointing at it, a fast
runner, and a local HTTP server standing for a model site."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from instances.models import ServiceInstance, Status
from tests.factories import make_instance
from tests.fileserver import FileServer, serve

REGION = "cn-hangzhou"
WEBUI_PASSWORD = "SharedHostPassword1"


@dataclass(frozen=True)
class Host:
    """A running cloudsim host whose WebUI has credentials, made without the database."""

    cloud_id: str
    zone: str
    instance_type: str
    sandbox: Path
    webui_url: str

    @property
    def webui_dir(self) -> Path:
        return self.sandbox / "root/stable-diffusion-webui"


def _until(sim: Any, ready: Any, what: str) -> None:
    for _ in range(60):
        if ready():
            return
        sim.advance(2)
        time.sleep(0.01)
    raise AssertionError(f"{what} did not happen in cloudsim")


def build_host(sim: Any, name: str) -> Host:
    """VPC, vSwitch, security group, a GPU host, then configure_webui.sh through OOS."""
    from cloud import ecs, oos, vpc
    from operations import scripts

    offer = next(
        a
        for a in ecs.describe_available_resource(REGION)
        if a.in_stock and (a.instance_type or "").startswith("ecs.gn6i-c4g1")
    )
    vpc_id, _ = vpc.create_vpc(
        REGION, cidr_block="172.16.0.0/16", name=name, client_token=f"{name}-vpc"
    )
    _until(sim, lambda: vpc.describe_vpc(REGION, vpc_id).status == "Available", "VPC")
    vswitch_id, _ = vpc.create_vswitch(
        REGION,
        vpc_id=vpc_id,
        zone_id=offer.zone_id,
        cidr_block="172.16.1.0/24",
        name=name,
        client_token=f"{name}-vsw",
    )
    _until(sim, lambda: vpc.describe_vswitch(REGION, vswitch_id).status == "Available", "vSwitch")
    group_id, _ = ecs.create_security_group(
        REGION, vpc_id=vpc_id, name=name, client_token=f"{name}-sg"
    )
    [cloud_id] = ecs.run_instances(
        REGION,
        zone_id=offer.zone_id,
        instance_type=offer.instance_type,
        image_id="m-sim-sd-webui",
        security_group_id=group_id,
        vswitch_id=vswitch_id,
        instance_name=name,
        client_token=f"{name}-run",
    ).instance_ids
    _until(
        sim,
        lambda: ecs.describe_instances(REGION, [cloud_id])[cloud_id].status == "Running",
        "Running",
    )
    script = scripts.render(
        "configure_webui",
        {"WEBUI_USER": "admin", "WEBUI_PASSWORD": WEBUI_PASSWORD, "PORT": 7860, "TIMEOUT": 30},
    )
    execution = oos.start_run_command(REGION, [cloud_id], script, client_token=f"{name}-cfg")
    for _ in range(500):
        done = oos.get_execution(REGION, execution.execution_id)
        if done is not None and done.finished:
            assert done.succeeded, done.outputs
            break
        time.sleep(0.02)
    return Host(
        cloud_id=cloud_id,
        zone=offer.zone_id,
        instance_type=offer.instance_type,
        sandbox=Path(sim.instance(cloud_id)["sandbox"]),
        webui_url=sim.webui_url(cloud_id),
    )


@pytest.fixture(scope="session")
def shared_host(cloudsim: Any) -> Host:
    """One running host for the tests that leave it running; they use their own file names."""
    return build_host(cloudsim, "files-shared")


def instance_on(team: Any, host: Host, **fields: Any) -> ServiceInstance:
    """An instance row of ``team`` for a host that already runs in cloudsim."""
    values = {
        "region": REGION,
        "zone": host.zone,
        "instance_type": host.instance_type,
        "status": Status.RUNNING,
        "cloud_instance_id": host.cloud_id,
        "webui_endpoint": host.webui_url,
        "webui_user": "admin",
        "webui_password": WEBUI_PASSWORD,
    }
    values.update(fields)
    return make_instance(team, **values)


@pytest.fixture
def fast_runner(settings: Any) -> None:
    settings.NESTOPS_POLL_SECONDS = 0.05
    settings.NESTOPS_RETRY_BASE_SECONDS = 0.01
    settings.NESTOPS_RETRY_MAX_SECONDS = 0.05
    settings.NESTOPS_WEBUI_READY_TIMEOUT_SECONDS = 30


@pytest.fixture
def local_sources(settings: Any) -> None:
    """The model site and git server of the tests live on 127.0.0.1."""
    settings.NESTOPS_DOWNLOAD_ALLOW_PRIVATE_URLS = True
    settings.NESTOPS_EXTENSION_HOSTS = ["127.0.0.1"]


@pytest.fixture
def files(tmp_path: Path) -> Iterator[FileServer]:
    with serve(tmp_path / "served") as server:
        yield server


@pytest.fixture
def mailbox(team: Any, settings: Any) -> Any:
    """An email channel of team Alpha that wants every event (the idle and schedule scenarios
    count its deliveries)."""
    from notifications.models import NotificationChannel

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return NotificationChannel.objects.create(team=team, name="ops", kind="email", target="o@x.io")
