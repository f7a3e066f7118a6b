"""The dashboard's per-user language, time zone and current team."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from accounts import selectors
from accounts.models import Team, UserPreference

API_PREFIX = "/api/"


def preference(user: Any) -> UserPreference:
    found, _ = UserPreference.objects.get_or_create(user=user)
    return found


def teams_of(user: Any) -> list[Team]:
    return list(selectors.teams_of(user))


def current_team(request: HttpRequest) -> Team | None:
    """The team the dashboard shows: the remembered one if the user still belongs to it."""
    cached = getattr(request, "_current_team", False)
    if cached is not False:
        return cached
    teams = teams_of(request.user)
    chosen = None
    if teams:
        remembered = request.preference.current_team_id if hasattr(request, "preference") else None
        chosen = next((t for t in teams if t.pk == remembered), teams[0])
    request._current_team = chosen
    request._teams = teams
    return chosen


class PreferencesMiddleware:
    """Activates the signed-in user's language and time zone for dashboard pages.

    The API keeps UTC (timestamps are ISO 8601 UTC) but follows the language for messages.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith(API_PREFIX):
            request.preference = preference(user)
            if request.preference.language in dict(settings.LANGUAGES):
                translation.activate(request.preference.language)
                request.LANGUAGE_CODE = request.preference.language
            if request.preference.time_zone:
                try:
                    timezone.activate(zoneinfo.ZoneInfo(request.preference.time_zone))
                except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                    timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
