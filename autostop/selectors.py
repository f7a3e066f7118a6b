"""Reads of idle policies, the team's enforced maximum and snoozes: what applies to a host."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone

from autostop.models import IdlePolicy, Snooze, TeamIdleSettings
from instances.models import ChargeType, ServiceInstance

POLICY_FIELDS = (
    "enabled",
    "idle_minutes",
    "gpu_threshold",
    "stop_mode",
    "warning_minutes",
    "delete_after_days",
    "max_running_hours",
)


def related(obj: Any, name: str) -> Any:
    """A reverse one-to-one (select_related or not), or None when there is no row."""
    try:
        return getattr(obj, name)
    except ObjectDoesNotExist:
        return None


@dataclass(frozen=True)
class EffectivePolicy:
    """What the idle job applies to a host: its policy (or the defaults) under the team's cap."""

    enabled: bool
    idle_minutes: int
    gpu_threshold: float
    stop_mode: str
    warning_minutes: int
    delete_after_days: int | None
    max_running_hours: int | None
    # The team's maximum when it applies to this host (pay-as-you-go hosts only).
    enforced_max_idle_minutes: int | None
    is_default: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def default_values(instance: ServiceInstance) -> dict[str, Any]:
    """The settings' defaults; idle stop is on for pay-as-you-go hosts only, because stopping a
    subscription host saves nothing."""
    return {
        "enabled": instance.charge_type == ChargeType.POSTPAID,
        "idle_minutes": settings.NESTOPS_IDLE_MINUTES,
        "gpu_threshold": settings.NESTOPS_IDLE_GPU_THRESHOLD,
        "stop_mode": settings.NESTOPS_IDLE_STOP_MODE,
        "warning_minutes": settings.NESTOPS_IDLE_WARNING_MINUTES,
        "delete_after_days": None,
        "max_running_hours": None,
    }


def stored_values(instance: ServiceInstance, policy: IdlePolicy | None) -> dict[str, Any]:
    if policy is None:
        return default_values(instance)
    return {name: getattr(policy, name) for name in POLICY_FIELDS}


def enforced_maximum(
    instance: ServiceInstance, team_settings: TeamIdleSettings | None
) -> int | None:
    """The team's enforced idle window for this host, if any. Subscription hosts are exempt:
    stopping them saves nothing."""
    if team_settings is None or team_settings.max_idle_minutes is None:
        return None
    if instance.charge_type != ChargeType.POSTPAID:
        return None
    return team_settings.max_idle_minutes


def effective_policy(
    instance: ServiceInstance,
    policy: IdlePolicy | None,
    team_settings: TeamIdleSettings | None,
) -> EffectivePolicy:
    values = stored_values(instance, policy)
    cap = enforced_maximum(instance, team_settings)
    if cap is not None:
        # Operators can neither exceed the team's window nor switch the stop off.
        values["enabled"] = True
        values["idle_minutes"] = min(values["idle_minutes"], cap)
    values["warning_minutes"] = min(values["warning_minutes"], max(values["idle_minutes"] - 1, 0))
    return EffectivePolicy(**values, enforced_max_idle_minutes=cap, is_default=policy is None)


def policy_for(instance: ServiceInstance) -> EffectivePolicy:
    team_settings = TeamIdleSettings.objects.filter(team_id=instance.team_id).first()
    policy = IdlePolicy.objects.filter(instance=instance).first()
    return effective_policy(instance, policy, team_settings)


def active_snooze(instance: ServiceInstance, now: datetime | None = None) -> Snooze | None:
    now = now or timezone.now()
    return (
        Snooze.objects.filter(instance=instance, until__gt=now, cancelled_at__isnull=True)
        .select_related("created_by")
        .order_by("-until")
        .first()
    )


def snooze_limit_hours(team_settings: TeamIdleSettings | None) -> int:
    if team_settings is not None and team_settings.max_snooze_hours is not None:
        return min(team_settings.max_snooze_hours, settings.NESTOPS_SNOOZE_MAX_HOURS)
    return settings.NESTOPS_SNOOZE_MAX_HOURS
