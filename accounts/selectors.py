"""Reads of teams, tokens and audit events, scoped to the user who asks."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from accounts.models import ApiToken, AuditEvent, Role, Team
from accounts.permissions import teams_with_role


def teams_of(user: Any) -> QuerySet[Team]:
    """The user's teams (every team for a superuser), by name."""
    return teams_with_role(user, Role.VIEWER).order_by("name")


def tokens_of(user: Any) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def audit_events_for(user: Any) -> QuerySet[AuditEvent]:
    """What the user did, and everything in the teams they administer."""
    events = AuditEvent.objects.select_related("actor", "team")
    if user.is_superuser:
        return events
    return events.filter(Q(actor=user) | Q(team__in=teams_with_role(user, Role.ADMIN)))
