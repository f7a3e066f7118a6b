"""Issuing and revoking API tokens, each change recorded as an audit event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import ApiToken, AuditAction, AuditEvent


def _audit(
    action: str, token: ApiToken, *, actor: Any, via: str, remote_addr: str | None, user_agent: str
) -> None:
    AuditEvent.objects.create(
        actor=actor,
        action=action,
        target=token.public_id,
        details={"name": token.name, "prefix": token.prefix, "via": via},
        remote_addr=remote_addr,
        user_agent=user_agent[:200],
    )


def issue_token(
    *,
    user: Any,
    name: str,
    expires_at: datetime | None,
    via: str,
    remote_addr: str | None = None,
    user_agent: str = "",
) -> tuple[ApiToken, str]:
    """A new token of ``user`` and its plain value (shown once, never stored)."""
    with transaction.atomic():
        token, plain = ApiToken.issue(user=user, name=name, expires_at=expires_at)
        _audit(
            AuditAction.TOKEN_CREATED,
            token,
            actor=user,
            via=via,
            remote_addr=remote_addr,
            user_agent=user_agent,
        )
    return token, plain


def revoke_token(
    *, token: ApiToken, actor: Any, via: str, remote_addr: str | None = None, user_agent: str = ""
) -> bool:
    """Revokes the token; False when it already was (nothing is recorded then)."""
    with transaction.atomic():
        revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if revoked:
            token.refresh_from_db(fields=["revoked_at"])
            _audit(
                AuditAction.TOKEN_REVOKED,
                token,
                actor=actor,
                via=via,
                remote_addr=remote_addr,
                user_agent=user_agent,
            )
    return bool(revoked)
