"""Start, stop (StopCharging or KeepCharging) and restart."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from cloud import Conflict, NoStock, ecs
from instances.models import Status, StopMode
from operations.handlers.base import Handler, Next, Step, StepContext, StepFailed, Wait
from operations.handlers.common import (
    WAIT_FOR_OTHER_OPERATIONS,
    WAIT_RUNNING,
    WAIT_WEBUI,
    describe_host,
    poll,
    refresh_status_from_cloud,
    wait_stopped,
)

NO_STOCK_RETRY_MAX_SECONDS = 120.0


def _status_after_failure(ctx: StepContext, outcome: str) -> None:
    status, stopped_mode = refresh_status_from_cloud(ctx, ctx.params.get("from_status", ""))
    operation = ctx.operation
    reason = f"{operation.error_code}: {operation.error_message}" if outcome == "failed" else ""
    ctx.settle(status, reason=reason, stopped_mode=stopped_mode)


# --- start -----------------------------------------------------------------------------------


def start_host(ctx: StepContext) -> Next | Wait:
    instance = ctx.instance
    try:
        ctx.request_id(ecs.start_instance(instance.region, instance.cloud_instance_id))
    except NoStock as exc:
        # After a StopCharging stop the GPU went back to the pool; it may come back soon.
        window = settings.NESTOPS_START_NO_STOCK_WINDOW_SECONDS
        waited = ctx.elapsed_in_step()
        if waited < window:
            tries = ctx.state["no_stock_tries"] = ctx.state.get("no_stock_tries", 0) + 1
            delay = min(NO_STOCK_RETRY_MAX_SECONDS, settings.NESTOPS_POLL_SECONDS * 2**tries)
            ctx.log(
                f"{instance.instance_type} has no stock in {instance.zone} "
                f"({exc.code}); trying again in {delay:.0f}s"
            )
            return Wait(delay, "no stock")
        raise StepFailed(
            exc.code,
            f"{instance.instance_type} has had no stock in zone {instance.zone} for "
            f"{int(waited // 60)} minutes. Wait and start again later, resize the host to a type "
            f"that is in stock, or deploy a new host in another zone.",
        ) from exc
    except Conflict:
        # Already starting or running (a retried call after a lost answer): fine.
        host = describe_host(ctx)
        if host is None or host.status not in ("Starting", "Running", "Pending"):
            raise
    ctx.log(f"asked {instance.cloud_instance_id} to start")
    return Next()


def succeed_start(ctx: StepContext) -> None:
    ctx.settle(Status.RUNNING)


START = Handler(
    steps=(
        Step("start_host", _("Start the host"), start_host),
        WAIT_RUNNING,
        WAIT_WEBUI,
    ),
    on_success=succeed_start,
    on_failure=_status_after_failure,
)


# --- stop ------------------------------------------------------------------------------------


def stop_mode(ctx: StepContext) -> str:
    requested = ctx.params.get("mode") or StopMode.STOP_CHARGING
    if ctx.instance.is_prepaid and requested == StopMode.STOP_CHARGING:
        # The cloud keeps charging a subscription host whatever the mode.
        return StopMode.KEEP_CHARGING
    return requested


def stop_host(ctx: StepContext) -> Next | Wait:
    instance = ctx.instance
    mode = stop_mode(ctx)
    try:
        ctx.request_id(
            ecs.stop_instance(
                instance.region,
                instance.cloud_instance_id,
                stopped_mode=mode,
                force=bool(ctx.params.get("force")),
            )
        )
    except Conflict:
        host = describe_host(ctx)
        if host is None or host.status not in ("Stopping", "Stopped"):
            raise
    ctx.log(f"asked {instance.cloud_instance_id} to stop ({mode})")
    return Next()


def succeed_stop(ctx: StepContext) -> None:
    ctx.settle(Status.STOPPED, stopped_mode=ctx.state.get("stopped_mode") or stop_mode(ctx))


STOP = Handler(
    steps=(
        # Downloads and other file operations were asked to cancel when the stop was accepted.
        WAIT_FOR_OTHER_OPERATIONS,
        Step("stop_host", _("Stop the host"), stop_host),
        Step("wait_stopped", _("Wait until the host has stopped"), wait_stopped),
    ),
    on_success=succeed_stop,
    on_failure=_status_after_failure,
)


# --- restart ---------------------------------------------------------------------------------

# A reboot may not show as anything but Running for a moment; past this, Running means done.
REBOOT_SETTLE_SECONDS = 20


def reboot_host(ctx: StepContext) -> Next:
    instance = ctx.instance
    ctx.request_id(
        ecs.reboot_instance(
            instance.region, instance.cloud_instance_id, force=bool(ctx.params.get("force"))
        )
    )
    ctx.log(f"asked {instance.cloud_instance_id} to restart")
    return Next()


def wait_rebooted(ctx: StepContext) -> Next | Wait:
    host = describe_host(ctx)
    if host is None:
        raise StepFailed(
            "InvalidInstanceId.NotFound",
            f"ECS instance {ctx.instance.cloud_instance_id} no longer exists.",
        )
    if host.status != "Running":
        ctx.state["reboot_seen"] = True
        return poll()
    if not ctx.state.get("reboot_seen") and ctx.elapsed_in_step() < REBOOT_SETTLE_SECONDS:
        return poll()
    return Next()


RESTART = Handler(
    steps=(
        WAIT_FOR_OTHER_OPERATIONS,
        Step("reboot_host", _("Restart the host"), reboot_host),
        Step("wait_rebooted", _("Wait until the host is back"), wait_rebooted),
        WAIT_RUNNING,
        WAIT_WEBUI,
    ),
    on_success=succeed_start,
    on_failure=_status_after_failure,
)
