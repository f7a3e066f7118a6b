"""Delete: stop other work, release the host, then the network nestops created for it."""

from __future__ import annotations

from instances.models import Status
from operations.handlers.base import Handler, StepContext
from operations.handlers.common import (
    CLEANUP_STEPS,
    WAIT_FOR_OTHER_OPERATIONS,
    refresh_status_from_cloud,
)


def succeed(ctx: StepContext) -> None:
    instance = ctx.instance
    # The host and its disk are gone, and with them every file nestops listed.
    instance.model_files.all().delete()
    instance.extensions.all().delete()
    instance.public_ip = instance.private_ip = None
    instance.webui_endpoint = ""
    ctx.settle(
        Status.DELETED,
        extra_fields=("public_ip", "private_ip", "webui_endpoint"),
    )


def fail(ctx: StepContext, outcome: str) -> None:
    operation = ctx.operation
    reason = f"{operation.error_code}: {operation.error_message}"
    if "cloud_instance_id" in ctx.state.get("cleaned", []):
        # The host is gone, so nothing costs money any more; leftovers are in the log.
        ctx.settle(Status.DELETED, reason=reason)
        return
    status, stopped_mode = refresh_status_from_cloud(ctx, ctx.params.get("from_status", ""))
    ctx.settle(status, reason=reason, stopped_mode=stopped_mode)


HANDLER = Handler(
    steps=(
        WAIT_FOR_OTHER_OPERATIONS,
        *CLEANUP_STEPS,
    ),
    on_success=succeed,
    on_failure=fail,
)
