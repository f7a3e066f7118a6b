"""Reads of notification channels and deliveries, scoped to the user who asks."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts.models import Role
from accounts.permissions import teams_with_role
from notifications.models import NotificationChannel, NotificationDelivery


def channels_for(user: Any) -> QuerySet[NotificationChannel]:
    """The channels of the user's teams (members read them; admins change them)."""
    return NotificationChannel.objects.select_related("team").visible_to(user)


def deliveries_for(user: Any) -> QuerySet[NotificationDelivery]:
    """Deliveries of the teams the user administers (they may hold addresses and URLs)."""
    deliveries = NotificationDelivery.objects.select_related("channel", "team")
    if user.is_superuser:
        return deliveries
    return deliveries.filter(team__in=teams_with_role(user, Role.ADMIN))
