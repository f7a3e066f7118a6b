"""Template context for every dashboard page: the team, the teams, the languages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accounts.preferences import current_team, role_in


def dashboard(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or request.path.startswith("/api/"):
        return {}
    team = current_team(request)
    return {
        "current_team": team,
        "teams": getattr(request, "_teams", []),
        "current_role": role_in(request, team) if team else None,
    }
