"""Steps and helpers that several handlers share: waiting for the host, scripts, cleanup."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cloud import Conflict, NotFound, ecs, oos, vpc
from instances import webui
from instances.models import Status
from instances.services import webui_endpoint
from nestops import certificates
from operations import scripts
from operations.handlers.base import Next, Step, StepContext, StepFailed, Wait

# After a create, the cloud may not list the new resource for a moment.
APPEAR_GRACE_SECONDS = 60
OUTPUT_TAIL = 4000
LAST_OUTPUT_LINES = 6


def poll() -> Wait:
    return Wait(settings.NESTOPS_POLL_SECONDS)


def describe_host(ctx: StepContext) -> ecs.Instance | None:
    instance = ctx.instance
    return ecs.describe_instances(instance.region, [instance.cloud_instance_id]).get(
        instance.cloud_instance_id
    )


def record_addresses(ctx: StepContext, host: ecs.Instance) -> None:
    instance = ctx.instance
    instance.public_ip = host.public_ip
    instance.private_ip = host.private_ip
    if host.charge_type == "PrePaid" and host.expired_time:
        instance.expires_at = host.expired_time
    instance.webui_endpoint = webui_endpoint(instance)
    instance.save(
        update_fields=["public_ip", "private_ip", "expires_at", "webui_endpoint", "updated_at"]
    )


def quote_price(ctx: StepContext) -> Next:
    """Puts the host's price (the new type's, for a resize) in billing's quote table before the
    status change that charges it: the ledger takes rates from that table, never from the cloud
    inside the status change's transaction. A price the cloud will not give is logged, not
    fatal: the ledger then uses the last known rate, marked estimated."""
    from billing.services import prepare_price

    quote = prepare_price(ctx.instance, instance_type=ctx.params.get("instance_type"))
    if quote.error:
        ctx.log(f"price unknown ({quote.error}); billing uses the last known rate")
    else:
        ctx.log(
            f"price {quote.trade_price} {quote.currency} per {quote.period} {quote.price_unit} "
            f"({quote.instance_type})"
        )
    return Next()


QUOTE_PRICE = Step("quote_price", _("Look up the price"), quote_price)


def wait_running(ctx: StepContext) -> Next | Wait:
    host = describe_host(ctx)
    if host is None:
        if ctx.elapsed_in_step() < APPEAR_GRACE_SECONDS:
            return poll()
        raise StepFailed(
            "InvalidInstanceId.NotFound",
            f"ECS instance {ctx.instance.cloud_instance_id} no longer exists.",
        )
    if host.status != "Running":
        ctx.state["last_seen_status"] = host.status
        return poll()
    record_addresses(ctx, host)
    ctx.log(f"{host.instance_id} is Running (public IP {host.public_ip or 'none'})")
    return Next()


def wait_stopped(ctx: StepContext) -> Next | Wait:
    host = describe_host(ctx)
    if host is None:
        raise StepFailed(
            "InvalidInstanceId.NotFound",
            f"ECS instance {ctx.instance.cloud_instance_id} no longer exists.",
        )
    if host.status != "Stopped":
        return poll()
    ctx.state["stopped_mode"] = host.stopped_mode
    record_addresses(ctx, host)
    ctx.log(f"{host.instance_id} is Stopped ({host.stopped_mode})")
    return Next()


def run_script(
    ctx: StepContext, purpose: str, name: str, arguments: dict[str, str | int]
) -> Next | Wait:
    """Starts a host script once (ClientToken per operation) and waits for it to finish."""
    instance = ctx.instance
    key = f"execution:{purpose}"
    execution_id = ctx.state.get(key)
    if not execution_id:
        timeout = int(arguments.get("TIMEOUT", 600)) + 60
        execution = oos.start_run_command(
            instance.region,
            [instance.cloud_instance_id],
            scripts.render(name, arguments),
            client_token=ctx.client_token(purpose),
            timeout_seconds=timeout,
            tags={"nestops:operation": ctx.operation.public_id},
        )
        ctx.request_id(execution.request_id)
        ctx.state[key] = execution.execution_id
        ctx.log(f"started {name} on the host (OOS execution {execution.execution_id})")
        return poll()
    execution = oos.get_execution(instance.region, execution_id)
    if execution is None:
        if ctx.elapsed_in_step() < APPEAR_GRACE_SECONDS:
            return poll()
        raise StepFailed("EntityNotExists.Execution", f"OOS execution {execution_id} is gone.")
    if not execution.finished:
        return poll()
    output, result = scripts.split_result("\n".join(o.output for o in execution.outputs))
    # A host's certificate is kept for the step that records it, not logged as output.
    output, certificate = certificates.split_block(output)
    if certificate is not None:
        ctx.state[f"certificate:{purpose}"] = certificate
    output = scripts.fold_repeats(output.strip())
    if output:
        ctx.log(f"{name} output:\n{output[-OUTPUT_TAIL:]}")
    if result is not None:
        ctx.state[f"result:{purpose}"] = result
    if not execution.succeeded:
        raise StepFailed(f"Script{execution.status}", _script_failure(name, execution, output))
    return Next()


def _script_failure(name: str, execution: oos.Execution, output: str) -> str:
    """What went wrong, once: the script, how it ended, and the last lines it printed (the
    cloud's "exited with code N on i-..." says nothing the exit code does not)."""
    exit_codes = [o.exit_code for o in execution.outputs if o.exit_code is not None]
    message = f"{name} on the host ended {execution.status}"
    if exit_codes:
        message += f" with exit code {exit_codes[0]}"
    status_message = execution.status_message.strip()
    if status_message and not status_message.startswith("The command exited with code"):
        message += f": {status_message}"
    if output:
        message += ".\nLast output:\n" + "\n".join(output.splitlines()[-LAST_OUTPUT_LINES:])
    return message


# The WebUI gateway records the certificate a host printed (and pins it); its app registers
# the recorder from AppConfig.ready, because operations sits below it and never imports it.
_certificate_recorder: Callable[..., Any] | None = None


def register_certificate_recorder(recorder: Callable[..., Any]) -> None:
    global _certificate_recorder
    _certificate_recorder = recorder


def record_webui_tls(ctx: StepContext, purpose: str) -> None:
    """After configure_webui: records the certificate the host printed (checked to be one
    X.509 certificate) for the gateway to pin, and the port the WebUI serves HTTPS on; the
    instance's WebUI endpoint follows (https with TLS, NESTOPS_WEBUI_URL_TEMPLATE without)."""
    instance = ctx.instance
    result = script_result(ctx, purpose)
    port = result.get("port")
    if result.get("tls") is True:
        if not isinstance(port, int) or not 0 < port < 65536:
            raise StepFailed("WebUITLSPortInvalid", f"The host reported the TLS port {port!r}.")
        try:
            pem, sha256 = certificates.load(ctx.state.get(f"certificate:{purpose}") or "")
        except certificates.InvalidCertificate as exc:
            raise StepFailed(
                "WebUICertificateInvalid",
                f"The host did not print its WebUI certificate as one PEM certificate ({exc}).",
            ) from None
        if _certificate_recorder is None:
            raise StepFailed("WebUICertificateNotRecorded", "No certificate recorder is set up.")
        _certificate_recorder(instance=instance, pem=pem)
        instance.webui_tls_port = port
        ctx.log(f"recorded the WebUI's TLS certificate (SHA-256 {sha256}); the gateway pins it")
    else:
        instance.webui_tls_port = None
    instance.webui_endpoint = webui_endpoint(instance)
    instance.save(update_fields=["webui_tls_port", "webui_endpoint", "updated_at"])
    ctx.log(f"the WebUI answers at {instance.webui_endpoint}")


def webui_arguments(ctx: StepContext) -> dict[str, str | int]:
    instance = ctx.instance
    return {
        "WEBUI_USER": instance.webui_user,
        "WEBUI_PASSWORD": instance.webui_password,
        "PORT": settings.NESTOPS_WEBUI_PORT,
        "TIMEOUT": settings.NESTOPS_WEBUI_READY_TIMEOUT_SECONDS,
    }


def language_arguments(ctx: StepContext, *, restart: int) -> dict[str, str | int]:
    language = ctx.params.get("language") or ctx.instance.webui_language
    return {
        **webui_arguments(ctx),
        # The WebUI's setting: "None" is its built-in English.
        "LOCALIZATION": "None" if language == "en" else language,
        "RESTART": restart,
    }


def seconds_left(ctx: StepContext) -> int:
    """What remains of the operation's deadline, for a host script's own timeout (OOS takes
    at most a day)."""
    deadline = ctx.operation.deadline_at
    left = (deadline - timezone.now()).total_seconds() if deadline else 3600
    return int(min(max(left, 60), 86400 - 120))


def wait_webui(ctx: StepContext) -> Next | Wait:
    """Polls the WebUI from the control plane, as its users and the idle policy will."""
    try:
        webui.progress(ctx.instance)
    except webui.WebUIUnreachable as exc:
        waited = ctx.elapsed_in_step()
        if waited < settings.NESTOPS_WEBUI_READY_TIMEOUT_SECONDS:
            ctx.state["webui_last_error"] = str(exc)
            return poll()
        raise StepFailed(
            "WebUINotReady",
            f"The host is running but its WebUI did not answer at "
            f"{ctx.instance.webui_endpoint} within {int(waited)} s ({exc}). Check that "
            f"NESTOPS_WEBUI_ALLOWED_CIDRS lets the control plane reach port "
            f"{settings.NESTOPS_WEBUI_PORT}, and the service sd-webui on the host.",
        ) from None
    ctx.log(f"the WebUI answers at {ctx.instance.webui_endpoint}")
    return Next()


def script_result(ctx: StepContext, purpose: str) -> dict[str, Any]:
    """What the script run for ``purpose`` reported on its ``NESTOPS_RESULT`` line."""
    result = ctx.state.get(f"result:{purpose}")
    if not isinstance(result, dict):
        raise StepFailed(
            "ScriptResultMissing",
            f"The host script ({purpose}) succeeded but did not report its result.",
        )
    return result


def cancel_scripts(ctx: StepContext) -> Next:
    """Cleanup: stops the operation's host scripts that still run (a cancel or a deadline).

    OOS kills the script's processes; a finished execution is left alone.
    """
    for key, execution_id in list(ctx.state.items()):
        if not key.startswith("execution:") or not execution_id:
            continue
        try:
            execution = oos.get_execution(ctx.instance.region, execution_id)
            if execution is not None and not execution.finished:
                ctx.request_id(oos.cancel_execution(ctx.instance.region, execution_id))
                ctx.log(f"cancelled OOS execution {execution_id}")
        except NotFound:
            continue
    return Next()


CANCEL_SCRIPTS = Step(
    "cancel_scripts", _("Stop the scripts still running on the host"), cancel_scripts
)


def wait_for_other_operations(ctx: StepContext) -> Next | Wait:
    """Waits until the instance's other operations have ended (they were asked to cancel)."""
    from operations.models import Operation

    others = (
        Operation.objects.active()
        .filter(instance=ctx.instance)
        .exclude(pk=ctx.operation.pk)
        .values_list("public_id", flat=True)
    )
    if others:
        ctx.state["waiting_for"] = list(others)
        return poll()
    ctx.state.pop("waiting_for", None)
    return Next()


WAIT_FOR_OTHER_OPERATIONS = Step(
    "wait_for_other_operations",
    _("Wait for other operations to stop"),
    wait_for_other_operations,
)
WAIT_RUNNING = Step("wait_running", _("Wait until the host is running"), wait_running)
WAIT_WEBUI = Step("wait_webui", _("Wait until the WebUI answers"), wait_webui)


# --- Cleanup: used by delete, and by a deploy that failed ------------------------------------


def delete_host(ctx: StepContext) -> Next | Wait:
    instance = ctx.instance
    if not instance.cloud_instance_id or ctx.state.get("host_deleted"):
        return Next()
    try:
        request_id = ecs.delete_instance(
            instance.region,
            instance.cloud_instance_id,
            force=True,
            terminate_subscription=bool(ctx.params.get("terminate_subscription")),
        )
        ctx.request_id(request_id)
    except NotFound:
        ctx.log(f"{instance.cloud_instance_id} was already gone")
    except Conflict as exc:
        if exc.code == "ChargeTypeViolation":
            raise StepFailed(
                exc.code,
                f"{instance.cloud_instance_id} is a subscription that has not expired; delete "
                "it again and confirm that the subscription is terminated.",
            ) from exc
        raise
    ctx.state["host_deleted"] = True
    ctx.log(f"deleted ECS instance {instance.cloud_instance_id}")
    return Next()


def cleaned(ctx: StepContext, field: str) -> None:
    """Remembers that the resource in ``field`` no longer exists (a redeploy recreates it)."""
    done = ctx.state.setdefault("cleaned", [])
    if field not in done:
        done.append(field)


def wait_host_gone(ctx: StepContext) -> Next | Wait:
    if not ctx.instance.cloud_instance_id:
        return Next()
    if describe_host(ctx) is not None:
        return poll()
    cleaned(ctx, "cloud_instance_id")
    return Next()


def _delete_dependency(
    ctx: StepContext, field: str, label: str, resource_id: str, delete: Callable[[], str]
) -> Next | Wait:
    """Deletes a resource, waiting while the cloud still counts something inside it."""
    try:
        ctx.request_id(delete())
    except NotFound:
        ctx.log(f"{label} {resource_id} was already gone")
        cleaned(ctx, field)
        return Next()
    except Conflict as exc:
        if exc.code.startswith(("DependencyViolation", "Incorrect")):
            ctx.log(f"{label} {resource_id} still has dependencies ({exc.code}); waiting")
            return poll()
        raise
    cleaned(ctx, field)
    ctx.log(f"deleted {label} {resource_id}")
    return Next()


def delete_security_group(ctx: StepContext) -> Next | Wait:
    instance = ctx.instance
    if not instance.security_group_id:
        return Next()
    return _delete_dependency(
        ctx,
        "security_group_id",
        "security group",
        instance.security_group_id,
        lambda: ecs.delete_security_group(instance.region, instance.security_group_id),
    )


def delete_vswitch(ctx: StepContext) -> Next | Wait:
    instance = ctx.instance
    if not instance.owns_network or not instance.vswitch_id:
        return Next()
    return _delete_dependency(
        ctx,
        "vswitch_id",
        "vSwitch",
        instance.vswitch_id,
        lambda: vpc.delete_vswitch(instance.region, instance.vswitch_id),
    )


def delete_vpc(ctx: StepContext) -> Next | Wait:
    instance = ctx.instance
    if not instance.owns_network or not instance.vpc_id:
        return Next()
    return _delete_dependency(
        ctx,
        "vpc_id",
        "VPC",
        instance.vpc_id,
        lambda: vpc.delete_vpc(instance.region, instance.vpc_id),
    )


CLEANUP_STEPS = (
    Step("delete_host", _("Delete the ECS instance"), delete_host),
    Step("wait_host_gone", _("Wait until the ECS instance is released"), wait_host_gone),
    Step("delete_security_group", _("Delete the security group"), delete_security_group),
    Step("delete_vswitch", _("Delete the vSwitch"), delete_vswitch),
    Step("delete_vpc", _("Delete the VPC"), delete_vpc),
)


def refresh_status_from_cloud(ctx: StepContext, fallback: str) -> tuple[str, str]:
    """(status, stopped mode) as the cloud sees the host now, for an operation that failed."""
    if not ctx.instance.cloud_instance_id:
        return fallback, ""
    try:
        host = describe_host(ctx)
    except Exception:  # the operation already failed; its status must still be set
        return fallback, ctx.instance.stopped_mode
    if host is None:
        return Status.DELETED, ""
    if host.status == "Running":
        return Status.RUNNING, ""
    if host.status == "Stopped":
        return Status.STOPPED, host.stopped_mode
    return fallback, ctx.instance.stopped_mode
