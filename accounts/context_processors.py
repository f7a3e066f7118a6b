"""Template context for every dashboard page: the team, the teams, the languages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accounts.permissions import role_of
from accounts.preferences import current_team


def dashboard(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or request.path.startswith("/api/"):
        return {}
    team = current_team(request)
    return {
        "current_team": team,
        "teams": getattr(request, "_teams", []),
        "current_role": role_of(request.user, team) if team else None,
    }
