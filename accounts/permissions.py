"""Who may do what in a team: the one place a role is checked, for pages and the API alike.

Roles rank viewer < operator < admin; a superuser has every role in every team. Reads of a
team's rows go through ``TeamScopedQuerySet.visible_to``; writes check ``has_role`` here.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from rest_framework import permissions
from rest_framework.request import Request

from accounts.models import ROLE_RANK, Membership, Role, Team

NOT_ALLOWED = _("Your role in this team does not allow this action.")


def role_of(user: Any, team: Team) -> str | None:
    """The user's role in a team (None for a non-member), remembered on the user object for
    the rest of the request."""
    if not getattr(user, "is_authenticated", False):
        return None
    if user.is_superuser:
        return Role.ADMIN
    roles = user.__dict__.setdefault("_team_roles", {})
    if team.pk not in roles:
        found = Membership.objects.filter(user=user, team=team).values_list("role", flat=True)
        roles[team.pk] = found[0] if found else None
    return roles[team.pk]


def has_role(user: Any, team: Team, role: str) -> bool:
    """Whether the user has at least ``role`` in the team."""
    found = role_of(user, team)
    return found is not None and ROLE_RANK[Role(found)] >= ROLE_RANK[Role(role)]


def require_role(user: Any, team: Team, role: str) -> None:
    """Raises PermissionDenied unless the user has at least ``role`` in the team."""
    if not has_role(user, team, role):
        raise PermissionDenied(NOT_ALLOWED)


def teams_with_role(user: Any, role: str) -> Any:
    """The teams in which the user has at least ``role`` (every team for a superuser)."""
    if not getattr(user, "is_authenticated", False):
        return Team.objects.none()
    if user.is_superuser:
        return Team.objects.all()
    roles = [r for r, rank in ROLE_RANK.items() if rank >= ROLE_RANK[Role(role)]]
    return Team.objects.filter(memberships__user=user, memberships__role__in=roles)


class TeamRolePermission(permissions.BasePermission):
    """Reads for any member; writes and actions need the view's ``action_role`` (operator)."""

    message = NOT_ALLOWED

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        team = obj if isinstance(obj, Team) else obj.team
        reading = request.method in permissions.SAFE_METHODS and getattr(
            view, "action", ""
        ) not in getattr(view, "operator_actions", ())
        role = Role.VIEWER if reading else getattr(view, "action_role", Role.OPERATOR)
        return has_role(request.user, team, role)


def may_manage_cloud_account(user: Any) -> bool:
    """Whether the user may act on what all teams share in the cloud account (the WebUI images,
    the account check): an admin of at least one team."""
    return teams_with_role(user, Role.ADMIN).exists()


def require_cloud_account_role(user: Any) -> None:
    if not may_manage_cloud_account(user):
        raise PermissionDenied(NOT_ALLOWED)
