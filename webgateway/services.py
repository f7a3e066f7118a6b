"""Writes of the WebUI gateway: handoff codes, gateway sessions, WebUI use."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import AuditAction, AuditEvent
from instances.models import ServiceInstance
from nestops import certificates
from nestops.certificates import InvalidCertificate as InvalidCertificate
from webgateway.models import (
    GatewaySession,
    HandoffCode,
    HostCertificate,
    WebUIUse,
    new_secret,
    secret_digest,
)
from webgateway.origins import unsafe_path


class HandoffRefused(Exception):
    """The code is unknown, used, expired, or for another instance."""


def issue_handoff(*, user: Any, instance: ServiceInstance, next_path: str = "/") -> str:
    """A one-time code for ``user`` to open ``instance``'s WebUI; its plain value is returned
    once and only its digest kept."""
    plain = new_secret()
    HandoffCode.objects.create(
        digest=secret_digest(plain),
        user=user,
        instance=instance,
        # Only a plain path on the instance's origin: never "//host" nor "/\\host", which
        # browsers follow to another site.
        next_path=next_path if unsafe_path(next_path) is None else "/",
        expires_at=timezone.now() + timedelta(seconds=settings.NESTOPS_GATEWAY_HANDOFF_SECONDS),
    )
    return plain


def exchange_handoff(
    *, code: str, instance_public_id: str, remote_addr: str | None, user_agent: str
) -> tuple[str, str]:
    """Exchanges a handoff code for a new gateway session; returns (cookie value, next path).
    The code works once: the conditional UPDATE lets only one exchange win."""
    now = timezone.now()
    with transaction.atomic():
        found = (
            HandoffCode.objects.select_related("instance", "user")
            .filter(digest=secret_digest(code), used_at__isnull=True, expires_at__gt=now)
            .first()
        )
        if found is None or found.instance.public_id != instance_public_id:
            raise HandoffRefused
        if HandoffCode.objects.filter(pk=found.pk, used_at__isnull=True).update(used_at=now) != 1:
            raise HandoffRefused
        plain = new_secret()
        session = GatewaySession.objects.create(
            digest=secret_digest(plain),
            user=found.user,
            instance=found.instance,
            expires_at=now + timedelta(hours=settings.NESTOPS_GATEWAY_SESSION_HOURS),
            remote_addr=remote_addr,
        )
        AuditEvent.objects.create(
            actor=found.user,
            team_id=found.instance.team_id,
            action=AuditAction.WEBUI_HANDOFF,
            target=found.instance.public_id,
            details={"session": session.pk, "expires_at": session.expires_at.isoformat()},
            remote_addr=remote_addr,
            user_agent=user_agent[:200],
        )
    return plain, found.next_path


def end_sessions(*, instance: ServiceInstance | None = None, user: Any = None) -> int:
    """Ends gateway sessions now (of an instance, of a user, or both)."""
    sessions = GatewaySession.objects.filter(expires_at__gt=timezone.now())
    if instance is not None:
        sessions = sessions.filter(instance=instance)
    if user is not None:
        sessions = sessions.filter(user=user)
    return sessions.update(expires_at=timezone.now())


def record_use(*, instance_id: int, user_id: int, requests: int = 1) -> None:
    """Marks the WebUI of an instance used by a user now (``requests`` work requests more)."""
    now = timezone.now()
    updated = WebUIUse.objects.filter(instance_id=instance_id, user_id=user_id).update(
        last_used_at=now, request_count=F("request_count") + requests
    )
    if updated:
        return
    try:
        with transaction.atomic():
            WebUIUse.objects.create(
                instance_id=instance_id,
                user_id=user_id,
                first_used_at=now,
                last_used_at=now,
                request_count=requests,
            )
    except IntegrityError:  # another request created it first
        record_use(instance_id=instance_id, user_id=user_id, requests=requests)


def prune_expired(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Deletes sessions and codes that expired more than ``older_than`` ago."""
    cutoff = timezone.now() - older_than
    deleted, _ = GatewaySession.objects.filter(expires_at__lt=cutoff).delete()
    codes, _ = HandoffCode.objects.filter(expires_at__lt=cutoff).delete()
    return deleted + codes


def record_host_certificate(*, instance: ServiceInstance, pem: str) -> HostCertificate:
    """Records (or replaces) the certificate the gateway pins for the host's WebUI (the
    deploy does, from what the host printed; or an operator in the admin)."""
    pem, sha256 = certificates.load(pem)
    found, _created = HostCertificate.objects.update_or_create(
        instance=instance,
        defaults={"pem": pem, "sha256": sha256, "recorded_at": timezone.now()},
    )
    return found
