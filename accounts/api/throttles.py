"""API throttles: anonymous requests per address, the rest per user and per token.

They count in the Django cache shared by the processes (see ``CACHES`` in the settings) and
read their rates from ``settings.NESTOPS_API_THROTTLE_RATES`` when they run, not when this
module is imported. A throttled request gets 429 with ``Retry-After``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import ApiToken

if TYPE_CHECKING:  # rest_framework.views imports the throttle classes named in the settings
    from rest_framework.request import Request
    from rest_framework.views import APIView


class _RateFromSettings(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        return settings.NESTOPS_API_THROTTLE_RATES.get(self.scope)


class AddressThrottle(_RateFromSettings):
    """Requests without credentials, per client address."""

    scope = "anon"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class UserThrottle(_RateFromSettings):
    """Everything a user sends, through any token or the dashboard's session."""

    scope = "user"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if not (request.user and request.user.is_authenticated):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class TokenThrottle(_RateFromSettings):
    """What one API token sends: a runaway script does not use up its owner's whole rate."""

    scope = "token"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
