"""Writes to service instances. Views and the API call these; they never save models directly."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import AuditAction, AuditEvent, Team
from billing import ledger
from hostfiles import rules as file_rules
from hostfiles.models import SourceToken
from instances.models import ServiceInstance, Status

WEBUI_PASSWORD_ALPHABET = string.ascii_letters + string.digits


def generate_webui_password() -> str:
    # Letters and digits only: the WebUI splits --api-auth on ':' and ','.
    return "".join(secrets.choice(WEBUI_PASSWORD_ALPHABET) for _ in range(24))


def webui_endpoint(instance: ServiceInstance) -> str:
    """Where the host's WebUI answers, from NESTOPS_WEBUI_URL_TEMPLATE."""
    if settings.NESTOPS_CLOUD == "aliyun" and not instance.public_ip:
        return ""
    return settings.NESTOPS_WEBUI_URL_TEMPLATE.format(
        public_ip=instance.public_ip or "",
        private_ip=instance.private_ip or "",
        port=settings.NESTOPS_WEBUI_PORT,
        instance_id=instance.cloud_instance_id,
        sim_endpoint=settings.NESTOPS_SIM_ENDPOINT,
    )


def change_status(
    instance: ServiceInstance,
    status: str,
    *,
    reason: str = "",
    stopped_mode: str = "",
    extra_fields: tuple[str, ...] = (),
) -> None:
    """The one way an instance's status changes; call it inside the caller's transaction.

    The billing ledger follows in the same transaction: the interval of the old state closes
    and the new one opens at the moment the status changed.
    """
    changed = status != instance.status
    instance.set_status(status, reason)
    if status == Status.STOPPED:
        instance.stopped_mode = stopped_mode
    instance.save(
        update_fields=[
            "status",
            "status_reason",
            "status_changed_at",
            "stopped_mode",
            "running_since",
            "deleted_at",
            "updated_at",
            *extra_fields,
        ]
    )
    ledger.record_status(instance, at=instance.status_changed_at if changed else None)


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
    system_disk_size: int = 200
    bandwidth_out: int = 10
    vpc_cidr: str = "192.168.0.0/16"
    vswitch_cidr: str = "192.168.0.0/24"
    vpc_id: str = ""
    vswitch_id: str = ""
    public_access: bool = False
    host_password: str = ""


def create_instance(
    *,
    spec: NewInstance,
    actor: Any,
    source: str,
    remote_addr: str | None = None,
    idempotency_key: str = "",
    fingerprint: str = "",
) -> tuple[ServiceInstance, Any]:
    """Saves the instance and its deploy operation together; the deploy starts on commit."""
    from operations.services import create_deploy_operation

    existing_network = bool(spec.vpc_id)
    with transaction.atomic():
        instance = ServiceInstance.objects.create(
            team=spec.team,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            name=spec.name,
            template=spec.template,
            region=spec.region,
            zone=spec.zone,
            instance_type=spec.instance_type,
            charge_type=spec.charge_type,
            period=spec.period if spec.charge_type == "PrePaid" else None,
            period_unit=(spec.period_unit or "Month") if spec.charge_type == "PrePaid" else "",
            auto_renew=spec.auto_renew if spec.charge_type == "PrePaid" else False,
            system_disk_size=spec.system_disk_size,
            bandwidth_out=spec.bandwidth_out,
            vpc_cidr="" if existing_network else spec.vpc_cidr,
            vswitch_cidr="" if existing_network else spec.vswitch_cidr,
            vpc_id=spec.vpc_id,
            vswitch_id=spec.vswitch_id,
            owns_network=not existing_network,
            public_access=spec.public_access,
            webui_password=generate_webui_password(),
            host_password=spec.host_password,
            status=Status.DEPLOYING,
        )
        operation = create_deploy_operation(
            instance=instance,
            actor=actor,
            source=source,
            remote_addr=remote_addr,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
        )
        # The deploying interval opens with the host: a new instance is charged from here.
        ledger.record_status(instance, at=instance.status_changed_at)
    return instance, operation


UPDATABLE_FIELDS = ("name", "auto_renew")


def update_instance(
    *, instance: ServiceInstance, changes: dict[str, Any], actor: Any, remote_addr: str | None
) -> ServiceInstance:
    """Changes settings that do not need the cloud (name, auto-renew), with an audit event."""
    changed = {k: v for k, v in changes.items() if k in UPDATABLE_FIELDS}
    with transaction.atomic():
        before = {k: getattr(instance, k) for k in changed}
        for key, value in changed.items():
            setattr(instance, key, value)
        instance.save(update_fields=[*changed, "updated_at"])
        AuditEvent.objects.create(
            actor=actor,
            team=instance.team,
            action=AuditAction.INSTANCE_UPDATED,
            target=instance.public_id,
            details={"before": before, "after": changed},
            remote_addr=remote_addr,
        )
    return instance


def reveal_credentials(
    *, instance: ServiceInstance, actor: Any, remote_addr: str | None, user_agent: str = ""
) -> dict[str, str]:
    """The WebUI user and password, recorded as an audit event."""
    AuditEvent.objects.create(
        actor=actor,
        team=instance.team,
        action=AuditAction.CREDENTIALS_REVEALED,
        target=instance.public_id,
        remote_addr=remote_addr,
        user_agent=user_agent[:200],
    )
    return {
        "webui_user": instance.webui_user,
        "webui_password": instance.webui_password,
        "webui_endpoint": instance.webui_endpoint,
        "revealed_at": timezone.now().isoformat(),
    }


def set_source_token(
    *, team: Team, provider: str, token: str, actor: Any, remote_addr: str | None
) -> SourceToken:
    """Stores (or replaces) the team's token for a model site; the audit event names the site,
    never the token."""
    token = file_rules.validate_token(token)
    with transaction.atomic():
        row, _created = SourceToken.objects.update_or_create(
            team=team, provider=provider, defaults={"token": token, "updated_by": actor}
        )
        AuditEvent.objects.create(
            actor=actor,
            team=team,
            action=AuditAction.SOURCE_TOKEN_SET,
            target=provider,
            remote_addr=remote_addr,
        )
    return row


def delete_source_token(*, team: Team, provider: str, actor: Any, remote_addr: str | None) -> bool:
    with transaction.atomic():
        deleted, _rows = SourceToken.objects.filter(team=team, provider=provider).delete()
        if deleted:
            AuditEvent.objects.create(
                actor=actor,
                team=team,
                action=AuditAction.SOURCE_TOKEN_DELETED,
                target=provider,
                remote_addr=remote_addr,
            )
    return bool(deleted)
