"""Resize: change the instance type of a stopped pay-as-you-go host."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from cloud import ecs
from instances import catalog
from instances.models import Status
from operations.handlers.base import Handler, Next, Step, StepContext, StepFailed, Wait
from operations.handlers.common import (
    QUOTE_PRICE,
    describe_host,
    poll,
    refresh_status_from_cloud,
)


def check_stock(ctx: StepContext) -> Next:
    instance = ctx.instance
    target = ctx.params["instance_type"]
    catalog.forget_stock(instance.region)
    errors = catalog.check_offer(
        region=instance.region,
        zone=instance.zone,
        instance_type=target,
        charge_type=instance.charge_type,
        template=instance.template,
    )
    if errors:
        raise StepFailed(
            "OperationDenied.NoStock", " ".join(m for messages in errors.values() for m in messages)
        )
    return Next()


def modify_spec(ctx: StepContext) -> Next:
    instance = ctx.instance
    target = ctx.params["instance_type"]
    ctx.request_id(
        ecs.modify_instance_spec(
            instance.region,
            instance.cloud_instance_id,
            instance_type=target,
            client_token=ctx.client_token("resize"),
        )
    )
    ctx.log(f"asked to change {instance.cloud_instance_id} to {target}")
    return Next()


def wait_resized(ctx: StepContext) -> Next | Wait:
    host = describe_host(ctx)
    if host is None:
        raise StepFailed(
            "InvalidInstanceId.NotFound",
            f"ECS instance {ctx.instance.cloud_instance_id} no longer exists.",
        )
    if host.instance_type != ctx.params["instance_type"]:
        return poll()
    ctx.state["stopped_mode"] = host.stopped_mode
    return Next()


def succeed(ctx: StepContext) -> None:
    instance = ctx.instance
    instance.instance_type = ctx.params["instance_type"]
    ctx.settle(
        Status.STOPPED,
        stopped_mode=ctx.state.get("stopped_mode") or instance.stopped_mode,
        extra_fields=("instance_type",),
    )


def fail(ctx: StepContext, outcome: str) -> None:
    status, stopped_mode = refresh_status_from_cloud(ctx, Status.STOPPED)
    operation = ctx.operation
    reason = f"{operation.error_code}: {operation.error_message}" if outcome == "failed" else ""
    ctx.settle(status, reason=reason, stopped_mode=stopped_mode)


HANDLER = Handler(
    steps=(
        Step("check_stock", _("Check the new type's stock"), check_stock),
        QUOTE_PRICE,
        Step("modify_spec", _("Change the instance type"), modify_spec),
        Step("wait_resized", _("Wait until the new type applies"), wait_resized),
    ),
    on_success=succeed,
    on_failure=fail,
)
