"""Writes to service instances. Views and the API call these; they never save models directly."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import AuditAction, AuditEvent, Team, UserPreference
from accounts.requester import Requester
from instances import lifecycle
from instances.models import ServiceInstance, Status, WebUILanguage

WEBUI_PASSWORD_ALPHABET = string.ascii_letters + string.digits


def generate_webui_password() -> str:
    # Letters and digits only: the WebUI splits --api-auth on ':' and ','.
    return "".join(secrets.choice(WEBUI_PASSWORD_ALPHABET) for _ in range(24))


def webui_endpoint(instance: ServiceInstance) -> str:
    """Where the host's WebUI answers: NESTOPS_WEBUI_TLS_URL_TEMPLATE once the deploy
    configured TLS on the host, NESTOPS_WEBUI_URL_TEMPLATE otherwise."""
    if settings.NESTOPS_CLOUD == "aliyun" and not instance.public_ip:
        return ""
    tls_port = instance.webui_tls_port
    template = (
        settings.NESTOPS_WEBUI_TLS_URL_TEMPLATE if tls_port else settings.NESTOPS_WEBUI_URL_TEMPLATE
    )
    return template.format(
        public_ip=instance.public_ip or "",
        private_ip=instance.private_ip or "",
        port=tls_port or settings.NESTOPS_WEBUI_PORT,
        instance_id=instance.cloud_instance_id,
        sim_endpoint=settings.NESTOPS_SIM_ENDPOINT,
        sim_host=settings.NESTOPS_SIM_ENDPOINT.rpartition(":")[0],
    )


@dataclass(frozen=True)
class NewInstance:
    """What a user asked for; validated by the serializer or form before it gets here."""

    team: Team
    name: str
    template: str
    region: str
    zone: str
    instance_type: str
    charge_type: str = "PostPaid"
    period: int | None = None
    period_unit: str = ""
    auto_renew: bool = False
    system_disk_category: str = "cloud_essd"
    system_disk_size: int = 200
    bandwidth_out: int = 10
    vpc_cidr: str = "192.168.0.0/16"
    vswitch_cidr: str = "192.168.0.0/24"
    vpc_id: str = ""
    vswitch_id: str = ""
    public_access: bool = False
    host_password: str = ""
    # Empty: the requester's dashboard language (Chinese for zh-hans, else English).
    webui_language: str = ""


def default_webui_language(user: Any) -> str:
    """The WebUI language that follows the user's dashboard language."""
    language = (
        UserPreference.objects.filter(user=user).values_list("language", flat=True).first()
        if user is not None
        else None
    ) or settings.LANGUAGE_CODE
    return WebUILanguage.ZH_CN if language.lower().startswith("zh") else WebUILanguage.EN


def create_instance(*, spec: NewInstance, requester: Requester) -> ServiceInstance:
    """Saves a new instance, deploying; ``operations.services.request_deploy`` calls this and
    saves its deploy operation in the same transaction."""
    existing_network = bool(spec.vpc_id)
    prepaid = spec.charge_type == "PrePaid"
    with transaction.atomic():
        instance = ServiceInstance.objects.create(
            team=spec.team,
            created_by=requester.user,
            name=spec.name,
            template=spec.template,
            region=spec.region,
            zone=spec.zone,
            instance_type=spec.instance_type,
            charge_type=spec.charge_type,
            period=spec.period if prepaid else None,
            period_unit=(spec.period_unit or "Month") if prepaid else "",
            auto_renew=spec.auto_renew if prepaid else False,
            system_disk_category=spec.system_disk_category,
            system_disk_size=spec.system_disk_size,
            bandwidth_out=spec.bandwidth_out,
            vpc_cidr="" if existing_network else spec.vpc_cidr,
            vswitch_cidr="" if existing_network else spec.vswitch_cidr,
            vpc_id=spec.vpc_id,
            vswitch_id=spec.vswitch_id,
            owns_network=not existing_network,
            public_access=spec.public_access,
            webui_language=spec.webui_language or default_webui_language(requester.user),
            webui_password=generate_webui_password(),
            host_password=spec.host_password,
            status=Status.DEPLOYING,
        )
        # The deploying interval opens with the host: a new instance is charged from here.
        lifecycle.opened(instance)
    return instance


UPDATABLE_FIELDS = ("name", "auto_renew")


def update_instance(
    *, instance: ServiceInstance, changes: dict[str, Any], requester: Requester
) -> ServiceInstance:
    """Changes settings that do not need the cloud (name, auto-renew), with an audit event."""
    changed = {k: v for k, v in changes.items() if k in UPDATABLE_FIELDS}
    with transaction.atomic():
        before = {k: getattr(instance, k) for k in changed}
        for key, value in changed.items():
            setattr(instance, key, value)
        instance.save(update_fields=[*changed, "updated_at"])
        AuditEvent.objects.create(
            actor=requester.user,
            team=instance.team,
            action=AuditAction.INSTANCE_UPDATED,
            target=instance.public_id,
            details={"before": before, "after": changed},
            remote_addr=requester.address,
        )
    return instance


def reveal_credentials(*, instance: ServiceInstance, requester: Requester) -> dict[str, str]:
    """The WebUI user and password, recorded as an audit event."""
    AuditEvent.objects.create(
        actor=requester.user,
        team=instance.team,
        action=AuditAction.CREDENTIALS_REVEALED,
        target=instance.public_id,
        remote_addr=requester.address,
        user_agent=requester.user_agent,
    )
    return {
        "webui_user": instance.webui_user,
        "webui_password": instance.webui_password,
        "webui_endpoint": instance.webui_endpoint,
        "revealed_at": timezone.now().isoformat(),
    }
