"""A team named in a request body, looked up among the requesting user's teams only.

A team that does not exist and a team the user is not a member of get the same answer (the
same status and message), so a request cannot tell whether a slug is taken.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from rest_framework import serializers

from accounts.models import Role, Team
from accounts.permissions import teams_with_role


def not_among_yours(slug: str) -> str:
    return _("No team %(team)s among yours.") % {"team": slug}


class MemberTeamField(serializers.SlugRelatedField):
    """A team slug; only the teams the requesting user belongs to (every team for superusers)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="slug", queryset=Team.objects.all(), **kwargs)

    def get_queryset(self) -> QuerySet[Team]:
        request = self.context.get("request")
        if request is None or not request.user.is_authenticated:
            return Team.objects.none()
        return teams_with_role(request.user, Role.VIEWER)

    def to_internal_value(self, data: Any) -> Team:
        slug = str(data)
        team = self.get_queryset().filter(slug=slug).first()
        if team is None:
            raise serializers.ValidationError(not_among_yours(slug))
        return team
