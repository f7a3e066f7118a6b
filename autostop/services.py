"""Writes of idle policies, the team's enforced maximum and snoozes (keyword arguments)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Team
from autostop.models import IdlePolicy, Snooze, TeamIdleSettings
from autostop.selectors import POLICY_FIELDS, stored_values
from instances.models import ServiceInstance


def save_policy(*, instance: ServiceInstance, values: dict[str, Any], actor: Any) -> IdlePolicy:
    """Stores an instance's policy (validated by the caller, the team's cap included)."""
    with transaction.atomic():
        current = stored_values(instance, IdlePolicy.objects.filter(instance=instance).first())
        current.update({k: v for k, v in values.items() if k in POLICY_FIELDS})
        policy, _ = IdlePolicy.objects.update_or_create(
            instance=instance, defaults={**current, "updated_by": _user(actor)}
        )
    return policy


def reset_policy(*, instance: ServiceInstance) -> None:
    """Back to the settings' defaults."""
    IdlePolicy.objects.filter(instance=instance).delete()


def save_team_settings(*, team: Team, values: dict[str, Any], actor: Any) -> TeamIdleSettings:
    found, _ = TeamIdleSettings.objects.update_or_create(
        team=team,
        defaults={
            "max_idle_minutes": values.get("max_idle_minutes"),
            "max_snooze_hours": values.get("max_snooze_hours"),
            "updated_by": _user(actor),
        },
    )
    return found


def snooze(*, instance: ServiceInstance, hours: float, reason: str, actor: Any) -> Snooze:
    """Keeps the host awake for ``hours`` from now; replaces a snooze that is running."""
    now = timezone.now()
    with transaction.atomic():
        Snooze.objects.filter(instance=instance, until__gt=now, cancelled_at__isnull=True).update(
            cancelled_at=now, cancelled_by=_user(actor)
        )
        return Snooze.objects.create(
            instance=instance,
            until=now + timedelta(hours=hours),
            reason=reason,
            created_by=_user(actor),
            created_at=now,
        )


def cancel_snooze(*, instance: ServiceInstance, actor: Any) -> int:
    now = timezone.now()
    return Snooze.objects.filter(
        instance=instance, until__gt=now, cancelled_at__isnull=True
    ).update(cancelled_at=now, cancelled_by=_user(actor))


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None
