"""Deploy: network, security group, the GPU host, then the WebUI with generated credentials."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from cloud import ecs, vpc
from instances import catalog
from instances.models import Status
from operations.handlers.base import Handler, Next, Step, StepContext, StepFailed, Wait
from operations.handlers.common import (
    CLEANUP_STEPS,
    QUOTE_PRICE,
    WAIT_RUNNING,
    language_arguments,
    poll,
    record_webui_tls,
    run_script,
    webui_arguments,
)


def _tags(ctx: StepContext) -> dict[str, str]:
    instance = ctx.instance
    return {"nestops:instance": instance.public_id, "nestops:team": instance.team.slug}


def create_vpc(ctx: StepContext) -> Next | Wait:
    instance = ctx.instance
    if not instance.owns_network:
        found = vpc.describe_vswitch(instance.region, instance.vswitch_id)
        if found is None or found.vpc_id != instance.vpc_id:
            raise StepFailed(
                "InvalidVSwitchId.NotFound",
                f"vSwitch {instance.vswitch_id} does not exist in VPC {instance.vpc_id}.",
            )
        if found.zone_id != instance.zone:
            raise StepFailed(
                "InvalidVSwitchId.ZoneMismatch",
                f"vSwitch {instance.vswitch_id} is in zone {found.zone_id}, not {instance.zone}.",
            )
        ctx.log(f"using the existing VPC {instance.vpc_id} and vSwitch {instance.vswitch_id}")
        return Next()
    if not instance.vpc_id:
        vpc_id, request_id = vpc.create_vpc(
            instance.region,
            cidr_block=instance.vpc_cidr,
            name=f"nestops-{instance.public_id}",
            client_token=ctx.client_token("vpc"),
            tags=_tags(ctx),
        )
        ctx.request_id(request_id)
        instance.vpc_id = vpc_id
        instance.save(update_fields=["vpc_id", "updated_at"])
        ctx.log(f"created VPC {vpc_id} ({instance.vpc_cidr})")
    found = vpc.describe_vpc(instance.region, instance.vpc_id)
    if found is None or found.status != "Available":
        return poll()
    return Next()


def create_vswitch(ctx: StepContext) -> Next | Wait:
    instance = ctx.instance
    if not instance.owns_network:
        return Next()
    if not instance.vswitch_id:
        vswitch_id, request_id = vpc.create_vswitch(
            instance.region,
            vpc_id=instance.vpc_id,
            zone_id=instance.zone,
            cidr_block=instance.vswitch_cidr,
            name=f"nestops-{instance.public_id}",
            client_token=ctx.client_token("vswitch"),
            tags=_tags(ctx),
        )
        ctx.request_id(request_id)
        instance.vswitch_id = vswitch_id
        instance.save(update_fields=["vswitch_id", "updated_at"])
        ctx.log(f"created vSwitch {vswitch_id} ({instance.vswitch_cidr}) in {instance.zone}")
    found = vpc.describe_vswitch(instance.region, instance.vswitch_id)
    if found is None or found.status != "Available":
        return poll()
    return Next()


def webui_sources(public_access: bool) -> list[str]:
    """Who may reach the WebUI port: the whole internet only when an operator opened public
    access; else the gateway's egress addresses (NESTOPS_GATEWAY_EGRESS_CIDRS), or the
    allowed ranges when those are not set."""
    if public_access:
        return ["0.0.0.0/0"]
    return list(settings.NESTOPS_GATEWAY_EGRESS_CIDRS or settings.NESTOPS_WEBUI_ALLOWED_CIDRS)


def create_security_group(ctx: StepContext) -> Next:
    instance = ctx.instance
    if not instance.security_group_id:
        group_id, request_id = ecs.create_security_group(
            instance.region,
            vpc_id=instance.vpc_id,
            name=f"nestops-{instance.public_id}",
            description="WebUI port only",
            client_token=ctx.client_token("sg"),
            tags=_tags(ctx),
        )
        ctx.request_id(request_id)
        instance.security_group_id = group_id
        instance.save(update_fields=["security_group_id", "updated_at"])
        ctx.log(f"created security group {group_id}")
    if not ctx.state.get("sg_authorized"):
        port = settings.NESTOPS_WEBUI_PORT
        sources = webui_sources(instance.public_access)
        ctx.request_id(
            ecs.authorize_security_group(
                instance.region,
                instance.security_group_id,
                [
                    ecs.Permission(
                        port_range=f"{port}/{port}",
                        source_cidr=cidr,
                        description="Stable Diffusion WebUI",
                    )
                    for cidr in sources
                ],
            )
        )
        ctx.state["sg_authorized"] = True
        ctx.log(f"opened TCP {port} to {', '.join(sources)}")
    return Next()


def run_instance(ctx: StepContext) -> Next:
    instance = ctx.instance
    if instance.cloud_instance_id:
        return Next()
    image_id = catalog.image_for(instance.template, instance.region)
    if image_id is None:
        raise StepFailed(
            "InvalidImageId.NotConfigured",
            f"No image is configured for {instance.template} in {instance.region}.",
        )
    result = ecs.run_instances(
        instance.region,
        zone_id=instance.zone,
        instance_type=instance.instance_type,
        image_id=image_id,
        security_group_id=instance.security_group_id,
        vswitch_id=instance.vswitch_id,
        instance_name=f"nestops-{instance.name}"[:128],
        host_name=instance.public_id,
        password=instance.host_password or None,
        charge_type=instance.charge_type,
        period=instance.period,
        period_unit=instance.period_unit or None,
        auto_renew=instance.auto_renew,
        system_disk_category=instance.system_disk_category,
        system_disk_size=instance.system_disk_size,
        bandwidth_out=instance.bandwidth_out,
        client_token=ctx.client_token("run"),
        tags=_tags(ctx),
    )
    ctx.request_id(result.request_id)
    instance.cloud_instance_id = result.instance_ids[0]
    instance.save(update_fields=["cloud_instance_id", "updated_at"])
    catalog.forget_stock(instance.region)
    ctx.log(f"launched ECS instance {instance.cloud_instance_id} ({instance.instance_type})")
    return Next()


def set_language(ctx: StepContext) -> Next | Wait:
    """The WebUI's localization, written before configure_webui restarts it."""
    return run_script(ctx, "language", "set_webui_language", language_arguments(ctx, restart=0))


def configure_webui(ctx: StepContext) -> Next | Wait:
    arguments = {**webui_arguments(ctx), "TLS": int(settings.NESTOPS_WEBUI_TLS)}
    return run_script(ctx, "webui", "configure_webui", arguments)


def record_tls(ctx: StepContext) -> Next:
    record_webui_tls(ctx, "webui")
    return Next()


def succeed(ctx: StepContext) -> None:
    instance = ctx.instance
    instance.host_password = ""
    ctx.settle(Status.RUNNING, extra_fields=("host_password",))


def fail(ctx: StepContext, outcome: str) -> None:
    instance = ctx.instance
    operation = ctx.operation
    reason = f"{operation.error_code}: {operation.error_message}" if operation.error_code else ""
    if settings.NESTOPS_KEEP_FAILED_DEPLOYS and instance.cloud_instance_id:
        reason += " (cloud resources kept for debugging: NESTOPS_KEEP_FAILED_DEPLOYS)"
    if ctx.state.get("rollback_errors"):
        reason += " Cleanup was incomplete; see the operation log."
    # Whatever cleanup removed is forgotten, so that a new deploy creates it again.
    for field in ctx.state.get("cleaned", []):
        setattr(instance, field, "")
    if "cloud_instance_id" in ctx.state.get("cleaned", []):
        instance.public_ip = instance.private_ip = None
        instance.webui_tls_port = None  # the next host makes and reports its own
    instance.webui_endpoint = ""
    ctx.settle(
        Status.DEPLOY_FAILED,
        reason=reason.strip(),
        extra_fields=(
            "security_group_id",
            "cloud_instance_id",
            "public_ip",
            "private_ip",
            "vpc_id",
            "vswitch_id",
            "webui_endpoint",
            "webui_tls_port",
        ),
    )


HANDLER = Handler(
    steps=(
        Step("create_vpc", _("Create the VPC"), create_vpc),
        Step("create_vswitch", _("Create the vSwitch"), create_vswitch),
        Step("create_security_group", _("Create the security group"), create_security_group),
        Step("run_instance", _("Launch the GPU instance"), run_instance),
        QUOTE_PRICE,
        WAIT_RUNNING,
        Step("set_language", _("Set the WebUI's language"), set_language),
        Step("configure_webui", _("Configure and start the WebUI"), configure_webui),
        Step("record_tls", _("Record the host certificate of the WebUI"), record_tls),
    ),
    rollback=CLEANUP_STEPS,
    rollback_enabled=lambda ctx: not settings.NESTOPS_KEEP_FAILED_DEPLOYS,
    on_success=succeed,
    on_failure=fail,
)
