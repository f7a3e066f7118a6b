"""The steps of an image build: a temporary host from the base image in a network of its own,
the bootstrap script through OOS, stop, CreateImage, wait until Available, CopyImage to the
other regions, delete the temporary host and its network, record the images.

Every step can run again after a crash: it reads what it did from ``ctx.state`` and every
create carries a ClientToken of the build's id and the step.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cloud import Conflict, NotFound, ecs, oos, vpc
from images import scripts
from images.models import ImageBuild, WebUIImage

LOG_LIMIT = 64 * 1024
OUTPUT_TAIL = 4000
APPEAR_GRACE_SECONDS = 60
BUILD_TAG = "nestops:image-build"


@dataclass(frozen=True)
class Next:
    """The step is done."""


@dataclass(frozen=True)
class Wait:
    """Run the step again after ``seconds``."""

    seconds: float
    note: str = ""


class StepFailed(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class BuildContext:
    build: ImageBuild
    lease: datetime | None
    step_name: str = ""
    request_ids: list[str] = field(default_factory=list)

    @property
    def state(self) -> dict[str, Any]:
        return self.build.state

    @property
    def region(self) -> str:
        return self.build.region

    def client_token(self, purpose: str) -> str:
        return f"{self.build.public_id}-{purpose}"[:64]

    def log(self, message: str) -> None:
        line = f"{timezone.now():%Y-%m-%d %H:%M:%S} [{self.step_name}] {message}\n"
        text = self.build.log + line
        if len(text) > LOG_LIMIT:
            text = "[earlier log lines dropped]\n" + text[-(LOG_LIMIT - 40) :]
        self.build.log = text

    def elapsed_in_step(self) -> float:
        started = self.state.setdefault("step_started", {}).setdefault(
            self.step_name, timezone.now().timestamp()
        )
        return timezone.now().timestamp() - started


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[BuildContext], Next | Wait]


def poll() -> Wait:
    return Wait(settings.NESTOPS_POLL_SECONDS)


def _tags(ctx: BuildContext) -> dict[str, str]:
    return {BUILD_TAG: ctx.build.public_id}


# --- the base image and the temporary host ---------------------------------------------------


def check_base(ctx: BuildContext) -> Next:
    base = ecs.describe_image(ctx.region, ctx.build.base_image_id)
    if base is None:
        raise StepFailed(
            "InvalidImageId.NotFound",
            f"The base image {ctx.build.base_image_id} does not exist in {ctx.region}: pick one "
            "of the region's Ubuntu 22.04 GPU images or Alibaba's AI images.",
        )
    if base.os_type != "linux":
        raise StepFailed(
            "BaseImageNotLinux",
            f"The base image {base.image_id} runs {base.os_name or base.os_type}: the WebUI "
            "image is built from Linux (Ubuntu 22.04 with the GPU driver, or the AI image).",
        )
    ctx.log(f"base image {base.image_id}: {base.os_name}")
    return Next()


def choose_zone(ctx: BuildContext) -> Next:
    kind = settings.NESTOPS_IMAGE_BUILD_INSTANCE_TYPE
    for entry in ecs.describe_available_resource(ctx.region, instance_type=kind):
        if entry.in_stock and entry.instance_type == kind:
            ctx.state["zone_id"] = entry.zone_id
            ctx.log(f"the temporary host is a {kind} in {entry.zone_id}")
            return Next()
    raise StepFailed(
        "OperationDenied.NoStock",
        f"No zone of {ctx.region} has {kind} in stock for the temporary host; try again later "
        "or set NESTOPS_IMAGE_BUILD_INSTANCE_TYPE to another GPU type.",
    )


def create_network(ctx: BuildContext) -> Next | Wait:
    state = ctx.state
    if not state.get("vpc_id"):
        state["vpc_id"], _ = vpc.create_vpc(
            ctx.region,
            cidr_block="192.168.0.0/16",
            name=f"nestops-{ctx.build.public_id}",
            client_token=ctx.client_token("vpc"),
            tags=_tags(ctx),
        )
        ctx.log(f"created VPC {state['vpc_id']}")
    found = vpc.describe_vpc(ctx.region, state["vpc_id"])
    if found is None or found.status != "Available":
        return poll()
    if not state.get("vswitch_id"):
        state["vswitch_id"], _ = vpc.create_vswitch(
            ctx.region,
            vpc_id=state["vpc_id"],
            zone_id=state["zone_id"],
            cidr_block="192.168.0.0/24",
            name=f"nestops-{ctx.build.public_id}",
            client_token=ctx.client_token("vswitch"),
            tags=_tags(ctx),
        )
        ctx.log(f"created vSwitch {state['vswitch_id']}")
    switch = vpc.describe_vswitch(ctx.region, state["vswitch_id"])
    if switch is None or switch.status != "Available":
        return poll()
    if not state.get("security_group_id"):
        # No inbound rule: OOS reaches the host through the cloud assistant, not the network.
        state["security_group_id"], _ = ecs.create_security_group(
            ctx.region,
            vpc_id=state["vpc_id"],
            name=f"nestops-{ctx.build.public_id}",
            client_token=ctx.client_token("sg"),
            tags=_tags(ctx),
        )
        ctx.log(f"created security group {state['security_group_id']}")
    return Next()


def run_host(ctx: BuildContext) -> Next:
    if ctx.state.get("host_id"):
        return Next()
    result = ecs.run_instances(
        ctx.region,
        zone_id=ctx.state["zone_id"],
        instance_type=settings.NESTOPS_IMAGE_BUILD_INSTANCE_TYPE,
        image_id=ctx.build.base_image_id,
        security_group_id=ctx.state["security_group_id"],
        vswitch_id=ctx.state["vswitch_id"],
        instance_name=f"nestops-image-build-{ctx.build.public_id}",
        client_token=ctx.client_token("host"),
        system_disk_size=100,
        bandwidth_out=100,
        internet_charge_type="PayByTraffic",
        tags=_tags(ctx),
    )
    ctx.request_ids.append(result.request_id or "")
    ctx.state["host_id"] = result.instance_ids[0]
    ctx.log(f"started the temporary host {ctx.state['host_id']}")
    return Next()


def _host(ctx: BuildContext) -> ecs.Instance | None:
    host_id = ctx.state["host_id"]
    return ecs.describe_instances(ctx.region, [host_id]).get(host_id)


def wait_host(status: str) -> Callable[[BuildContext], Next | Wait]:
    def wait(ctx: BuildContext) -> Next | Wait:
        host = _host(ctx)
        if host is None:
            if ctx.elapsed_in_step() < APPEAR_GRACE_SECONDS:
                return poll()
            raise StepFailed("InvalidInstanceId.NotFound", "The temporary host is gone.")
        if host.status != status:
            return poll()
        ctx.log(f"{host.instance_id} is {status}")
        return Next()

    return wait


def bootstrap_arguments(build: ImageBuild) -> dict[str, str | int]:
    forge = build.template == "sd-webui-forge"
    return {
        "WEBUI_REPO": build.params["webui_repo"],
        "WEBUI_REF": build.params["webui_ref"],
        "LOCALIZATION_REPO": build.params.get("localization_repo", ""),
        "GITHUB_MIRROR": build.params.get("github_mirror", ""),
        "PIP_INDEX_URL": build.params.get("pip_index_url", ""),
        "PIP_FIND_LINKS": build.params.get("pip_find_links", ""),
        "PORT": settings.NESTOPS_WEBUI_PORT,
        "WAIT_SECONDS": settings.NESTOPS_IMAGE_BUILD_WAIT_SECONDS,
        "TEMPLATE": "forge" if forge else "automatic1111",
    }


def bootstrap(ctx: BuildContext) -> Next | Wait:
    execution_id = ctx.state.get("execution_id")
    if not execution_id:
        execution = oos.start_run_command(
            ctx.region,
            [ctx.state["host_id"]],
            scripts.render_bootstrap(bootstrap_arguments(ctx.build)),
            client_token=ctx.client_token("bootstrap"),
            timeout_seconds=settings.NESTOPS_IMAGE_BUILD_WAIT_SECONDS + 3600,
            tags={BUILD_TAG: ctx.build.public_id},
        )
        ctx.request_ids.append(execution.request_id or "")
        ctx.state["execution_id"] = execution.execution_id
        ctx.log(f"started the bootstrap on the host (OOS execution {execution.execution_id})")
        return poll()
    execution = oos.get_execution(ctx.region, execution_id)
    if execution is None or not execution.finished:
        return poll()
    output = "\n".join(o.output for o in execution.outputs).strip()
    if output:
        ctx.log(f"bootstrap output:\n{output[-OUTPUT_TAIL:]}")
    result = scripts.result_of(output) or {}
    if not execution.succeeded or not result.get("ok"):
        code = str(result.get("error") or f"Script{execution.status}")
        lines = [line for line in output.splitlines() if line.startswith("nestops-bootstrap:")]
        detail = lines[-1].removeprefix("nestops-bootstrap: ") if lines else output[-300:]
        raise StepFailed(code, f"The bootstrap failed on the temporary host: {detail}")
    ctx.state["webui_commit"] = str(result.get("commit", ""))[:64]
    ctx.log(f"the WebUI is at commit {ctx.state['webui_commit'] or 'unknown'}")
    return Next()


def stop_host(ctx: BuildContext) -> Next:
    ctx.request_ids.append(
        ecs.stop_instance(ctx.region, ctx.state["host_id"], stopped_mode="KeepCharging")
    )
    return Next()


# --- images ---------------------------------------------------------------------------------


def image_name(build: ImageBuild) -> str:
    stamp = build.created_at.strftime("%Y%m%d-%H%M")
    return f"nestops-{build.template}-{build.params['webui_ref']}-{stamp}"[:120].replace("/", "-")


def create_image(ctx: BuildContext) -> Next:
    if ctx.state.get("image_id"):
        return Next()
    ctx.state["image_id"] = ecs.create_image(
        ctx.region,
        instance_id=ctx.state["host_id"],
        image_name=image_name(ctx.build),
        description=f"{ctx.build.get_template_display()} built by nestops",
        client_token=ctx.client_token("image"),
        tags=_tags(ctx),
    )
    ctx.log(f"capturing the host as image {ctx.state['image_id']}")
    return Next()


def _images(ctx: BuildContext) -> dict[str, str]:
    """Region -> image id of every image this build made so far."""
    made = dict(ctx.state.get("copies", {}))
    if ctx.state.get("image_id"):
        made[ctx.region] = ctx.state["image_id"]
    return made


def wait_images(ctx: BuildContext) -> Next | Wait:
    progress = []
    for region, image_id in sorted(_images(ctx).items()):
        image = ecs.describe_image(region, image_id)
        if image is None or image.status == "CreateFailed":
            raise StepFailed(
                "ImageCreateFailed", f"The image {image_id} in {region} could not be made."
            )
        if not image.available:
            progress.append(f"{region} {image.progress}%")
    if progress:
        return Wait(settings.NESTOPS_POLL_SECONDS, note=", ".join(progress))
    return Next()


def copy_images(ctx: BuildContext) -> Next:
    copies = ctx.state.setdefault("copies", {})
    for region in ctx.build.copy_regions:
        if region == ctx.region or region in copies:
            continue
        copies[region] = ecs.copy_image(
            ctx.region,
            image_id=ctx.state["image_id"],
            destination_region=region,
            image_name=image_name(ctx.build),
            client_token=ctx.client_token(f"copy-{region}"),
        )
        ctx.log(f"copying to {region} as {copies[region]}")
    return Next()


def record(ctx: BuildContext) -> Next:
    with transaction.atomic():
        for region, image_id in _images(ctx).items():
            WebUIImage.objects.update_or_create(
                cloud_image_id=image_id,
                defaults={
                    "template": ctx.build.template,
                    "region": region,
                    "name": image_name(ctx.build),
                    "status": WebUIImage.Status.AVAILABLE,
                    "build": ctx.build,
                    "webui_commit": ctx.state.get("webui_commit", ""),
                },
            )
    ctx.state["recorded"] = True
    ctx.log(f"recorded {len(_images(ctx))} image(s); deploys there use them now")
    return Next()


# --- the temporary host and its network go, after success and after failure -----------------


def cancel_bootstrap(ctx: BuildContext) -> Next:
    execution_id = ctx.state.get("execution_id")
    if execution_id:
        execution = oos.get_execution(ctx.region, execution_id)
        if execution is not None and not execution.finished:
            oos.cancel_execution(ctx.region, execution_id)
            ctx.log(f"cancelled OOS execution {execution_id}")
    return Next()


def delete_images(ctx: BuildContext) -> Next:
    """After a failure: the images of this build that were not recorded are deleted."""
    if ctx.state.get("recorded"):
        return Next()
    for region, image_id in _images(ctx).items():
        ecs.delete_image(region, image_id, force=True)
        ctx.log(f"deleted image {image_id} in {region}")
    return Next()


def delete_host(ctx: BuildContext) -> Next | Wait:
    host_id = ctx.state.get("host_id")
    if not host_id or ctx.state.get("host_deleted"):
        return Next()
    with contextlib.suppress(NotFound):
        ctx.request_ids.append(ecs.delete_instance(ctx.region, host_id, force=True))
    ctx.state["host_deleted"] = True
    ctx.log(f"deleted the temporary host {host_id}")
    return Next()


def wait_host_gone(ctx: BuildContext) -> Next | Wait:
    if ctx.state.get("host_id") and _host(ctx) is not None:
        return poll()
    return Next()


def _delete(
    ctx: BuildContext, key: str, label: str, delete: Callable[[str, str], str]
) -> Next | Wait:
    resource_id = ctx.state.get(key)
    if not resource_id or ctx.state.get(f"{key}_deleted"):
        return Next()
    try:
        ctx.request_ids.append(delete(ctx.region, resource_id))
    except NotFound:
        pass
    except Conflict as exc:
        if exc.code.startswith(("DependencyViolation", "Incorrect")):
            return poll()
        raise
    ctx.state[f"{key}_deleted"] = True
    ctx.log(f"deleted {label} {resource_id}")
    return Next()


TEARDOWN = (
    Step("delete_host", delete_host),
    Step("wait_host_gone", wait_host_gone),
    Step(
        "delete_security_group",
        lambda ctx: _delete(ctx, "security_group_id", "security group", ecs.delete_security_group),
    ),
    Step("delete_vswitch", lambda ctx: _delete(ctx, "vswitch_id", "vSwitch", vpc.delete_vswitch)),
    Step("delete_vpc", lambda ctx: _delete(ctx, "vpc_id", "VPC", vpc.delete_vpc)),
)

STEPS = (
    Step("check_base", check_base),
    Step("choose_zone", choose_zone),
    Step("create_network", create_network),
    Step("run_host", run_host),
    Step("wait_running", wait_host("Running")),
    Step("bootstrap", bootstrap),
    Step("stop_host", stop_host),
    Step("wait_stopped", wait_host("Stopped")),
    Step("create_image", create_image),
    Step("wait_image", wait_images),
    Step("copy_images", copy_images),
    Step("wait_copies", wait_images),
    *TEARDOWN,
    Step("record", record),
)
CLEANUP = (
    Step("cancel_bootstrap", cancel_bootstrap),
    *TEARDOWN,
    Step("delete_images", delete_images),
)
